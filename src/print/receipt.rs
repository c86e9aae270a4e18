//! Ticket receipt: the thermal-style PNG served by `GET /tickets/:id/image`
//! (domain-sales §4.4, client-contract §1.5 "Printing").
//!
//! Two steps, so that the content can be pinned without comparing pixels:
//! 1. [`layout`] turns a [`ReceiptData`] into a [`Layout`]: text rows (already wrapped to the paper's
//!    characters per row), alignment, size, bold, separators and the barcode/QR placement. It is
//!    plain serialisable data and is covered by golden files under `tests/golden/`.
//! 2. [`render_png`] rasterises a layout: white background, black DejaVu Sans Mono text (embedded
//!    from `assets/fonts/`, so the output does not depend on the host's fonts), a CODE128 barcode and
//!    a QR code. [`render`] does both.
//!
//! Geometry: 58 mm paper is 220 px wide, 88 mm is 340 px, any other width is `round(mm × 3.7795)`
//! (clamped to [`MIN_WIDTH_PX`]..=[`MAX_WIDTH_PX`]); everything is drawn at [`SCALE`] 2, so a 58 mm
//! receipt is a 440 px wide PNG. The height grows with the content.
//!
//! Formatting choices (documented here because the reference leaves them open):
//! - amounts use a comma as thousands separator and show decimals only when the amount is not
//!   whole, with at least two decimals then (`1,000`, `1,000.50`, `0.125`); see [`format_amount`];
//! - the payout multiplier is printed without trailing zeros (`90`, `92.5`); see
//!   [`format_multiplier`];
//! - plays are grouped by amount in the order the amounts first appear on the ticket; numbers keep
//!   ticket order inside their group; amounts are right-aligned so the `*` line up, and numbers that
//!   do not fit on the row continue on the next rows, aligned under the first number;
//! - the headline is `<loteria> TIEMPOS <draw time>`; the sorteo name is printed as an extra line
//!   only when it does not already contain the loteria name (it usually is `<loteria> <time>`), and
//!   replaces the headline when the loteria name is blank;
//! - control characters (newlines, tabs) are replaced by spaces, except in the footer, where a
//!   newline starts a new row; blank values (client, seller name/phone) leave their row out.
//!
//! Nothing here panics on odd input: long or non-ASCII text is wrapped, characters the font lacks
//! are drawn as `?`, a ticket number that cannot be encoded simply gets no barcode, and a receipt
//! taller than [`MAX_HEIGHT_PX`] is a [`RenderError::TooLarge`].

use std::io::Cursor;

use ab_glyph::{point, Font, FontRef, GlyphId, PxScale, ScaleFont};
use image::{GrayImage, ImageFormat, Luma};
use rust_decimal::Decimal;
use serde::Serialize;

use super::RenderError;

/// DejaVu Sans Mono (regular and bold), copied from Debian's `fonts-dejavu-core`; licence in
/// `assets/fonts/DejaVu-LICENSE.txt`. A TrueType font rather than a bitmap font so the text scales
/// cleanly to any paper width and covers Spanish (and most Latin) characters.
static FONT_REGULAR: &[u8] = include_bytes!("../../assets/fonts/DejaVuSansMono.ttf");
static FONT_BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSansMono-Bold.ttf");

/// Rendering scale: the PNG has `width_px × SCALE` pixels per row.
pub const SCALE: u32 = 2;
/// Narrowest paper accepted, in layout pixels (≈25 mm); narrower widths are clamped up.
pub const MIN_WIDTH_PX: u32 = 96;
/// Widest paper accepted, in layout pixels (≈317 mm); wider widths are clamped down.
pub const MAX_WIDTH_PX: u32 = 1200;
/// Tallest PNG produced, in output pixels; taller receipts are refused with
/// [`RenderError::TooLarge`] instead of allocating without bound.
pub const MAX_HEIGHT_PX: u32 = 60_000;
/// Left and right margin, in layout pixels.
const MARGIN_PX: u32 = 4;
/// Advance width of every DejaVu Sans Mono glyph (font units) and the font's units per em.
/// Checked against the embedded font by a test.
const ADVANCE_UNITS: u32 = 1233;
const UNITS_PER_EM: u32 = 2048;
/// Separator row height and barcode bar height, in layout pixels.
const SEPARATOR_PX: u32 = 8;
const BARCODE_BAR_PX: u32 = 44;

/// Kind of play on a receipt line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LineKind {
    Numero,
    Reventado,
}

/// One play (jugada) of the ticket.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceiptLine {
    pub kind: LineKind,
    pub number: String,
    pub amount: Decimal,
}

/// Everything printed on a receipt, already resolved and formatted by the caller.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceiptData {
    pub ticket_number: String,
    pub loteria_name: String,
    /// e.g. "TICA 1:55 PM".
    pub sorteo_name: String,
    /// Already formatted business-local, e.g. "25/11/2026".
    pub draw_date: String,
    /// 12 h, e.g. "1:55 PM".
    pub draw_time: String,
    /// Ticket createdAt, formatted local, e.g. "25/11/2026 13:40".
    pub printed_at: String,
    /// Print name.
    pub seller_name: Option<String>,
    pub seller_phone: Option<String>,
    pub cliente_nombre: String,
    /// In ticket order.
    pub lines: Vec<ReceiptLine>,
    pub total: Decimal,
    /// "PAGAMOS <X>x".
    pub pays_x: Decimal,
    pub footer: Option<String>,
    /// 58 or 88 typical; other values allowed.
    pub width_mm: u32,
    /// CODE128 of `ticket_number` unless false.
    pub barcode: bool,
    /// QR code of `ticket_number` (a Banca addition).
    pub qr: bool,
    /// `None`: reprints disabled (no marker); `Some(0)` "*** ORIGINAL ***"; `Some(n)`
    /// "*** REIMPRESION #n ***".
    pub reprint: Option<u32>,
    /// "*** ANULADO ***".
    pub cancelled: bool,
}

/// Horizontal alignment of a text row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Align {
    Left,
    Center,
    Right,
}

/// Text size of a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TextSize {
    Normal,
    Large,
}

impl TextSize {
    /// Em size in layout pixels.
    pub fn font_px(self) -> u32 {
        match self {
            TextSize::Normal => 11,
            TextSize::Large => 14,
        }
    }

    /// Row height in layout pixels.
    pub fn line_height_px(self) -> u32 {
        match self {
            TextSize::Normal => 14,
            TextSize::Large => 19,
        }
    }
}

/// One row of the receipt, top to bottom.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "row", rename_all = "snake_case")]
pub enum Row {
    /// One line of monospace text; it always fits the row (the layout wraps long text).
    Text {
        text: String,
        align: Align,
        size: TextSize,
        bold: bool,
    },
    /// A dashed horizontal rule.
    Separator,
    /// Vertical blank space, in layout pixels.
    Space { px: u32 },
    /// A CODE128 barcode (character set B) of `data`, centred.
    Barcode { data: String },
    /// A QR code of `data`, centred.
    Qr { data: String },
}

/// The receipt's content, independent of pixels except for the paper width.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Layout {
    pub width_mm: u32,
    /// Paper width in layout pixels (before [`SCALE`]).
    pub width_px: u32,
    pub scale: u32,
    pub margin_px: u32,
    /// Characters per row in [`TextSize::Normal`].
    pub columns: u32,
    /// Characters per row in [`TextSize::Large`].
    pub columns_large: u32,
    pub rows: Vec<Row>,
}

/// Paper width in layout pixels: 58 mm → 220, 88 mm → 340, otherwise `round(mm × 3.7795)`, clamped
/// to [`MIN_WIDTH_PX`]..=[`MAX_WIDTH_PX`].
pub fn width_px_for_mm(width_mm: u32) -> u32 {
    let px = match width_mm {
        58 => 220,
        88 => 340,
        mm => (f64::from(mm) * 3.7795)
            .round()
            .min(f64::from(MAX_WIDTH_PX)) as u32,
    };
    px.clamp(MIN_WIDTH_PX, MAX_WIDTH_PX)
}

/// Characters of `size` that fit between the margins of a `width_px` paper.
fn columns_for(width_px: u32, size: TextSize) -> u32 {
    let usable = u64::from(width_px.saturating_sub(2 * MARGIN_PX));
    let per_char = u64::from(ADVANCE_UNITS) * u64::from(size.font_px());
    ((usable * u64::from(UNITS_PER_EM)) / per_char).max(1) as u32
}

/// Formats money: thousands separated by commas, decimals only when the amount is not whole (and
/// then at least two): `1000` → `1,000`, `1000.5` → `1,000.50`, `0.125` → `0.125`, `-5` → `-5`.
pub fn format_amount(amount: Decimal) -> String {
    let normalized = amount.normalize();
    if normalized.is_zero() {
        return "0".to_owned();
    }
    let text = normalized.abs().to_string();
    let (int_part, frac_part) = match text.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (text.as_str(), None),
    };
    let mut out = String::with_capacity(text.len() + text.len() / 3 + 4);
    if normalized.is_sign_negative() {
        out.push('-');
    }
    let digits = int_part.len();
    for (i, c) in int_part.chars().enumerate() {
        if i > 0 && (digits - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if let Some(frac) = frac_part {
        out.push('.');
        out.push_str(frac);
        for _ in frac.len()..2 {
            out.push('0');
        }
    }
    out
}

/// Formats the payout multiplier without trailing zeros: `90.00` → `90`, `92.50` → `92.5`.
pub fn format_multiplier(x: Decimal) -> String {
    let normalized = x.normalize();
    if normalized.is_zero() {
        "0".to_owned()
    } else {
        normalized.to_string()
    }
}

/// Replaces control characters with spaces and trims.
fn clean(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_owned()
}

/// Greedy word wrap to `width` characters; words longer than a row are split. Runs of spaces
/// collapse. Returns no line for blank text.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut current = String::new();
    let mut current_len = 0usize;
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let word_len = word.chars().count();
        if word_len > width {
            if current_len > 0 {
                lines.push(std::mem::take(&mut current));
                current_len = 0;
            }
            let chars: Vec<char> = word.chars().collect();
            for chunk in chars.chunks(width) {
                if chunk.len() == width {
                    lines.push(chunk.iter().collect());
                } else {
                    current = chunk.iter().collect();
                    current_len = chunk.len();
                }
            }
            continue;
        }
        if current_len == 0 {
            current.push_str(word);
            current_len = word_len;
        } else if current_len + 1 + word_len <= width {
            current.push(' ');
            current.push_str(word);
            current_len += 1 + word_len;
        } else {
            lines.push(std::mem::replace(&mut current, word.to_owned()));
            current_len = word_len;
        }
    }
    if current_len > 0 {
        lines.push(current);
    }
    lines
}

struct Builder {
    columns: usize,
    columns_large: usize,
    rows: Vec<Row>,
}

impl Builder {
    fn columns(&self, size: TextSize) -> usize {
        match size {
            TextSize::Normal => self.columns,
            TextSize::Large => self.columns_large,
        }
    }

    /// Adds `text` (cleaned and wrapped) as one or more rows.
    fn text(&mut self, text: &str, align: Align, size: TextSize, bold: bool) {
        for line in wrap(&clean(text), self.columns(size)) {
            self.line(line, align, size, bold);
        }
    }

    /// Adds one row that already fits.
    fn line(&mut self, text: String, align: Align, size: TextSize, bold: bool) {
        self.rows.push(Row::Text {
            text,
            align,
            size,
            bold,
        });
    }

    /// Adds the "<amount> * n1 n2 …" rows of one section, grouped by amount.
    fn bets(&mut self, lines: &[&ReceiptLine]) {
        let mut groups: Vec<(Decimal, Vec<String>)> = Vec::new();
        for line in lines {
            let mut number: String = line
                .number
                .chars()
                .filter(|c| !c.is_whitespace() && !c.is_control())
                .collect();
            if number.is_empty() {
                number.push('?');
            }
            match groups.iter_mut().find(|(amount, _)| *amount == line.amount) {
                Some((_, numbers)) => numbers.push(number),
                None => groups.push((line.amount, vec![number])),
            }
        }
        let amounts: Vec<String> = groups.iter().map(|(a, _)| format_amount(*a)).collect();
        let cols = self.columns;
        // An amount shares its row with numbers when "<amount> * nn" fits; the amounts that do are
        // right-aligned to the widest of them, so one huge amount does not push the others.
        let shares_row = |amount: &String| amount.chars().count() + 5 <= cols;
        let amount_width = amounts
            .iter()
            .filter(|a| shares_row(a))
            .map(|a| a.chars().count())
            .max()
            .unwrap_or(0);
        for ((_, numbers), amount) in groups.iter().zip(&amounts) {
            let prefix = format!("{amount:>amount_width$} * ");
            let prefix_len = prefix.chars().count();
            let (first, indent) = if shares_row(amount) && prefix_len + 2 <= cols {
                (prefix, " ".repeat(prefix_len))
            } else {
                // The amount is too wide to share a row with numbers: it gets its own row(s).
                for line in wrap(&format!("{amount} *"), cols) {
                    self.line(line, Align::Left, TextSize::Normal, false);
                }
                let indent = if cols > 4 { "  " } else { "" }.to_owned();
                (indent.clone(), indent)
            };
            let avail = cols.saturating_sub(indent.chars().count()).max(1);
            let mut current = first;
            let mut current_len = 0usize;
            let mut pieces: Vec<String> = Vec::new();
            for number in numbers {
                let chars: Vec<char> = number.chars().collect();
                for chunk in chars.chunks(avail) {
                    pieces.push(chunk.iter().collect());
                }
            }
            for piece in pieces {
                let piece_len = piece.chars().count();
                let needed = if current_len == 0 {
                    piece_len
                } else {
                    current_len + 1 + piece_len
                };
                if current_len > 0 && needed > avail {
                    let next = indent.clone();
                    self.line(
                        std::mem::replace(&mut current, next),
                        Align::Left,
                        TextSize::Normal,
                        false,
                    );
                    current_len = 0;
                }
                if current_len > 0 {
                    current.push(' ');
                    current_len += 1;
                }
                current.push_str(&piece);
                current_len += piece_len;
            }
            self.line(current, Align::Left, TextSize::Normal, false);
        }
    }
}

/// Builds the receipt's rows, in the order of domain-sales §4.4.
pub fn layout(data: &ReceiptData) -> Layout {
    let width_px = width_px_for_mm(data.width_mm);
    let columns = columns_for(width_px, TextSize::Normal);
    let columns_large = columns_for(width_px, TextSize::Large);
    let mut b = Builder {
        columns: columns as usize,
        columns_large: columns_large as usize,
        rows: Vec::new(),
    };
    let ticket = clean(&data.ticket_number);

    b.text(
        &format!("CODIGO # {ticket}"),
        Align::Center,
        TextSize::Large,
        true,
    );
    match data.reprint {
        None => {}
        Some(0) => b.text("*** ORIGINAL ***", Align::Center, TextSize::Normal, true),
        Some(n) => b.text(
            &format!("*** REIMPRESION #{n} ***"),
            Align::Center,
            TextSize::Normal,
            true,
        ),
    }
    b.rows.push(Row::Space { px: 4 });

    let loteria = clean(&data.loteria_name);
    let sorteo = clean(&data.sorteo_name);
    let time = clean(&data.draw_time);
    if loteria.is_empty() {
        b.text(&sorteo, Align::Center, TextSize::Normal, true);
    } else {
        b.text(
            &format!("{loteria} TIEMPOS {time}"),
            Align::Center,
            TextSize::Normal,
            true,
        );
        if !sorteo.is_empty() && !sorteo.to_uppercase().contains(&loteria.to_uppercase()) {
            b.text(&sorteo, Align::Center, TextSize::Normal, false);
        }
    }
    if let Some(name) = &data.seller_name {
        b.text(name, Align::Center, TextSize::Normal, false);
    }
    if let Some(phone) = data.seller_phone.as_deref().map(clean) {
        if !phone.is_empty() {
            b.text(
                &format!("TEL: {phone}"),
                Align::Center,
                TextSize::Normal,
                false,
            );
        }
    }
    b.rows.push(Row::Separator);

    let cliente = clean(&data.cliente_nombre);
    if !cliente.is_empty() {
        b.text(
            &format!("CLIENTE: {cliente}"),
            Align::Left,
            TextSize::Normal,
            false,
        );
    }
    b.text(
        &format!("SORTEO: {}", clean(&data.draw_date)),
        Align::Left,
        TextSize::Normal,
        false,
    );
    b.text(
        &format!("TIEMPOS: {time}"),
        Align::Left,
        TextSize::Normal,
        false,
    );
    b.text(
        &format!("IMPRESIÓN: {}", clean(&data.printed_at)),
        Align::Left,
        TextSize::Normal,
        false,
    );
    b.rows.push(Row::Separator);

    let numeros: Vec<&ReceiptLine> = data
        .lines
        .iter()
        .filter(|l| l.kind == LineKind::Numero)
        .collect();
    let reventados: Vec<&ReceiptLine> = data
        .lines
        .iter()
        .filter(|l| l.kind == LineKind::Reventado)
        .collect();
    if numeros.is_empty() && reventados.is_empty() {
        b.text("SIN JUGADAS", Align::Center, TextSize::Normal, false);
    }
    b.bets(&numeros);
    if !reventados.is_empty() {
        if !numeros.is_empty() {
            b.rows.push(Row::Space { px: 4 });
        }
        b.text("REVENTADOS", Align::Left, TextSize::Normal, true);
        b.bets(&reventados);
    }
    b.rows.push(Row::Separator);

    if data.cancelled {
        b.text("*** ANULADO ***", Align::Center, TextSize::Large, true);
    }
    b.text(
        &format!("TOTAL: {}", format_amount(data.total)),
        Align::Center,
        TextSize::Large,
        true,
    );
    b.text(
        &format!("PAGAMOS {}x", format_multiplier(data.pays_x)),
        Align::Center,
        TextSize::Normal,
        true,
    );
    if let Some(footer) = &data.footer {
        let mut first = true;
        for part in footer.lines() {
            if clean(part).is_empty() {
                continue;
            }
            if first {
                b.rows.push(Row::Space { px: 4 });
                first = false;
            }
            b.text(part, Align::Center, TextSize::Normal, false);
        }
    }

    if data.barcode {
        let code: String = ticket
            .to_uppercase()
            .chars()
            .filter(|c| matches!(c, ' '..='~'))
            .collect();
        if !code.is_empty() {
            b.rows.push(Row::Space { px: 8 });
            b.rows.push(Row::Barcode { data: code.clone() });
            b.text(&code, Align::Center, TextSize::Normal, false);
        }
    }
    if data.qr && !ticket.is_empty() {
        b.rows.push(Row::Space { px: 6 });
        b.rows.push(Row::Qr {
            data: ticket.clone(),
        });
    }
    b.rows.push(Row::Space { px: 10 });

    Layout {
        width_mm: data.width_mm,
        width_px,
        scale: SCALE,
        margin_px: MARGIN_PX,
        columns,
        columns_large,
        rows: b.rows,
    }
}

/// Layout then PNG.
pub fn render(data: &ReceiptData) -> Result<Vec<u8>, RenderError> {
    render_png(&layout(data))
}

/// Rasterises a layout to a grayscale PNG.
pub fn render_png(layout: &Layout) -> Result<Vec<u8>, RenderError> {
    let (img, _) = rasterize(layout)?;
    let mut out = Vec::new();
    img.write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
        .map_err(|e| RenderError::Encode(e.to_string()))?;
    Ok(out)
}

/// A row with its graphics resolved and its height in output pixels.
enum Prepared<'a> {
    Text {
        text: &'a str,
        align: Align,
        size: TextSize,
        bold: bool,
    },
    Separator,
    Blank,
    /// CODE128 modules (1 = bar) and module width in output pixels.
    Bars(Vec<u8>, u32),
    /// QR modules (row-major, true = dark), modules per side and module size in output pixels.
    Qr(Vec<bool>, u32, u32),
}

/// Where each layout row landed: index in `layout.rows`, top and bottom output pixel rows.
type RowSpans = Vec<(usize, u32, u32)>;

fn rasterize(layout: &Layout) -> Result<(GrayImage, RowSpans), RenderError> {
    let regular =
        FontRef::try_from_slice(FONT_REGULAR).map_err(|e| RenderError::Font(e.to_string()))?;
    let bold = FontRef::try_from_slice(FONT_BOLD).map_err(|e| RenderError::Font(e.to_string()))?;
    let scale = layout.scale.clamp(1, 4);
    let width = layout.width_px.clamp(MIN_WIDTH_PX, MAX_WIDTH_PX) * scale;
    let margin = layout.margin_px.min(layout.width_px / 4) * scale;
    let usable = width.saturating_sub(2 * margin);

    let mut prepared: Vec<(usize, Prepared<'_>, u32)> = Vec::with_capacity(layout.rows.len());
    let mut total_height: u64 = 0;
    for (index, row) in layout.rows.iter().enumerate() {
        let (item, height) = match row {
            Row::Text {
                text,
                align,
                size,
                bold,
            } => (
                Prepared::Text {
                    text,
                    align: *align,
                    size: *size,
                    bold: *bold,
                },
                size.line_height_px() * scale,
            ),
            Row::Separator => (Prepared::Separator, SEPARATOR_PX * scale),
            Row::Space { px } => (Prepared::Blank, px.saturating_mul(scale)),
            Row::Barcode { data } => match code128_modules(data) {
                Some(modules) => {
                    // 10 modules of quiet zone on each side.
                    let needed = modules.len() as u64 + 20;
                    let module = (u64::from(usable) / needed).min(u64::from(3 * scale)) as u32;
                    if module == 0 {
                        (Prepared::Blank, 0)
                    } else {
                        (Prepared::Bars(modules, module), BARCODE_BAR_PX * scale)
                    }
                }
                None => (Prepared::Blank, 0),
            },
            Row::Qr { data } => match qrcode::QrCode::with_error_correction_level(
                data.as_bytes(),
                qrcode::EcLevel::M,
            ) {
                Ok(code) => {
                    let side = code.width() as u32;
                    let dark: Vec<bool> = code
                        .to_colors()
                        .into_iter()
                        .map(|c| c == qrcode::Color::Dark)
                        .collect();
                    // Modules plus a 4-module quiet zone on each side, about half the paper wide.
                    let needed = side + 8;
                    let target = (width / 2).min(150 * scale).max(needed);
                    let module = target / needed;
                    if needed.saturating_mul(module) > usable || module == 0 {
                        (Prepared::Blank, 0)
                    } else {
                        (Prepared::Qr(dark, side, module), side * module)
                    }
                }
                Err(_) => (Prepared::Blank, 0),
            },
        };
        total_height += u64::from(height);
        prepared.push((index, item, height));
    }
    if total_height > u64::from(MAX_HEIGHT_PX) {
        return Err(RenderError::TooLarge(format!(
            "receipt would be {total_height} px tall (limit {MAX_HEIGHT_PX})"
        )));
    }
    let height = (total_height as u32).max(1);
    let mut img = GrayImage::from_pixel(width, height, Luma([255]));
    let mut spans = Vec::with_capacity(prepared.len());
    let mut top = 0u32;
    for (index, item, row_height) in &prepared {
        match item {
            Prepared::Text {
                text,
                align,
                size,
                bold: is_bold,
            } => {
                let font = if *is_bold { &bold } else { &regular };
                draw_text(&mut img, font, text, *align, *size, scale, margin, top);
            }
            Prepared::Separator => {
                let y0 = top + *row_height / 2 - scale / 2;
                let (dash, gap) = (4 * scale, 3 * scale);
                let mut x = margin;
                while x < width.saturating_sub(margin) {
                    let end = (x + dash).min(width - margin);
                    fill_rect(&mut img, x, y0, end - x, scale);
                    x += dash + gap;
                }
            }
            Prepared::Blank => {}
            Prepared::Bars(modules, module) => {
                let bars_width = modules.len() as u32 * module;
                let mut x = (width - bars_width) / 2;
                for bit in modules {
                    if *bit == 1 {
                        fill_rect(&mut img, x, top, *module, *row_height);
                    }
                    x += module;
                }
            }
            Prepared::Qr(dark, side, module) => {
                let x0 = (width - side * module) / 2;
                for (i, is_dark) in dark.iter().enumerate() {
                    if *is_dark {
                        let i = i as u32;
                        let (qx, qy) = (i % side, i / side);
                        fill_rect(
                            &mut img,
                            x0 + qx * module,
                            top + qy * module,
                            *module,
                            *module,
                        );
                    }
                }
            }
        }
        spans.push((*index, top, top + row_height));
        top += row_height;
    }
    Ok((img, spans))
}

/// CODE128 (character set B) modules of `data`, or `None` when it cannot be encoded (empty, or
/// characters outside printable ASCII).
fn code128_modules(data: &str) -> Option<Vec<u8>> {
    if data.is_empty() || !data.chars().all(|c| matches!(c, ' '..='~')) {
        return None;
    }
    barcoders::sym::code128::Code128::new(format!("\u{0181}{data}"))
        .ok()
        .map(|code| code.encode())
}

/// Paints a black rectangle, clipped to the image.
fn fill_rect(img: &mut GrayImage, x: u32, y: u32, w: u32, h: u32) {
    let x_end = x.saturating_add(w).min(img.width());
    let y_end = y.saturating_add(h).min(img.height());
    for yy in y.min(y_end)..y_end {
        for xx in x.min(x_end)..x_end {
            img.put_pixel(xx, yy, Luma([0]));
        }
    }
}

/// Draws one row of monospace text, every character on a fixed advance, clipped to the image.
#[allow(clippy::too_many_arguments)]
fn draw_text(
    img: &mut GrayImage,
    font: &FontRef<'_>,
    text: &str,
    align: Align,
    size: TextSize,
    scale: u32,
    margin: u32,
    top: u32,
) {
    let em = (size.font_px() * scale) as f32;
    let units_per_em = font.units_per_em().unwrap_or(UNITS_PER_EM as f32);
    let px_scale = PxScale::from(em * font.height_unscaled() / units_per_em);
    let scaled = font.as_scaled(px_scale);
    let advance = em * ADVANCE_UNITS as f32 / UNITS_PER_EM as f32;
    let line_height = (size.line_height_px() * scale) as f32;
    let glyph_height = scaled.ascent() - scaled.descent();
    let baseline = top as f32 + ((line_height - glyph_height) / 2.0).max(0.0) + scaled.ascent();
    let width = img.width() as f32;
    let text_width = text.chars().count() as f32 * advance;
    let x0 = match align {
        Align::Left => margin as f32,
        Align::Center => ((width - text_width) / 2.0).max(margin as f32),
        Align::Right => (width - margin as f32 - text_width).max(margin as f32),
    }
    .round();
    let fallback = font.glyph_id('?');
    let (img_w, img_h) = (i64::from(img.width()), i64::from(img.height()));
    for (i, c) in text.chars().enumerate() {
        if c.is_whitespace() {
            continue;
        }
        let x = x0 + i as f32 * advance;
        if x >= width {
            break;
        }
        let mut id: GlyphId = font.glyph_id(c);
        if id.0 == 0 {
            id = fallback;
        }
        let glyph = id.with_scale_and_position(px_scale, point(x, baseline));
        if let Some(outlined) = font.outline_glyph(glyph) {
            let bounds = outlined.px_bounds();
            let (bx, by) = (bounds.min.x as i64, bounds.min.y as i64);
            outlined.draw(|gx, gy, coverage| {
                let (px, py) = (bx + i64::from(gx), by + i64::from(gy));
                if px < 0 || py < 0 || px >= img_w || py >= img_h {
                    return;
                }
                let ink = 255.0 - coverage.clamp(0.0, 1.0) * 255.0;
                let pixel = img.get_pixel_mut(px as u32, py as u32);
                pixel.0[0] = pixel.0[0].min(ink.round() as u8);
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn line(kind: LineKind, number: &str, amount: &str) -> ReceiptLine {
        ReceiptLine {
            kind,
            number: number.to_owned(),
            amount: d(amount),
        }
    }

    fn sample_58mm() -> ReceiptData {
        use LineKind::*;
        ReceiptData {
            ticket_number: "T261125-00042".into(),
            loteria_name: "TICA".into(),
            sorteo_name: "TICA 1:55 PM".into(),
            draw_date: "25/11/2026".into(),
            draw_time: "1:55 PM".into(),
            printed_at: "25/11/2026 13:40".into(),
            seller_name: Some("Tiempos Doña Ána".into()),
            seller_phone: Some("8888-1234".into()),
            cliente_nombre: "María Peña".into(),
            lines: vec![
                line(Numero, "05", "1000"),
                line(Numero, "12", "1000"),
                line(Numero, "33", "500"),
                line(Numero, "47", "1000.00"),
                line(Numero, "61", "1000"),
                line(Numero, "70", "1000"),
                line(Numero, "81", "1000"),
                line(Numero, "92", "1000"),
                line(Numero, "99", "1000"),
                line(Numero, "00", "1000"),
                line(Numero, "08", "1000"),
                line(Numero, "77", "250.50"),
                line(Reventado, "05", "200"),
                line(Reventado, "12", "200"),
            ],
            total: d("10150.50"),
            pays_x: d("90.00"),
            footer: Some("Gracias por su compra\nRevise su tiquete".into()),
            width_mm: 58,
            barcode: true,
            qr: true,
            reprint: None,
            cancelled: false,
        }
    }

    fn sample_88mm_cancelled() -> ReceiptData {
        use LineKind::*;
        ReceiptData {
            ticket_number: "T261125-00107".into(),
            loteria_name: "NICA".into(),
            sorteo_name: "Nica Noche 9:00 PM".into(),
            draw_date: "25/11/2026".into(),
            draw_time: "9:00 PM".into(),
            printed_at: "25/11/2026 20:15".into(),
            seller_name: Some("Ventana Central".into()),
            seller_phone: None,
            cliente_nombre: "".into(),
            lines: vec![
                line(Numero, "10", "2000"),
                line(Numero, "20", "2000"),
                line(Numero, "30", "1500"),
                line(Reventado, "10", "500"),
            ],
            total: d("6000"),
            pays_x: d("92.5"),
            footer: None,
            width_mm: 88,
            barcode: true,
            qr: false,
            reprint: Some(2),
            cancelled: true,
        }
    }

    fn check_golden(name: &str, layout: &Layout) {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/golden")
            .join(name);
        let json = serde_json::to_string_pretty(layout).unwrap() + "\n";
        if std::env::var("UPDATE_GOLDEN").as_deref() == Ok("1") {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &json).unwrap();
            return;
        }
        let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e}; run with UPDATE_GOLDEN=1 to create it",
                path.display()
            )
        });
        assert_eq!(
            expected,
            json,
            "layout differs from {}; if intended, rerun with UPDATE_GOLDEN=1",
            path.display()
        );
    }

    /// Every text row fits its paper: the rasteriser never has to clip.
    fn assert_rows_fit(layout: &Layout) {
        for row in &layout.rows {
            if let Row::Text { text, size, .. } = row {
                let cols = match size {
                    TextSize::Normal => layout.columns,
                    TextSize::Large => layout.columns_large,
                };
                assert!(
                    text.chars().count() <= cols as usize,
                    "row {text:?} wider than {cols} columns"
                );
                assert!(
                    !text.chars().any(char::is_control),
                    "control char in {text:?}"
                );
            }
        }
    }

    fn texts(layout: &Layout) -> Vec<&str> {
        layout
            .rows
            .iter()
            .filter_map(|r| match r {
                Row::Text { text, .. } => Some(text.as_str()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn layout_58mm_matches_golden() {
        let layout = layout(&sample_58mm());
        assert_rows_fit(&layout);
        check_golden("receipt_58mm.json", &layout);
    }

    #[test]
    fn layout_88mm_cancelled_reprint_matches_golden() {
        let layout = layout(&sample_88mm_cancelled());
        assert_rows_fit(&layout);
        let t = texts(&layout);
        assert!(t.contains(&"*** REIMPRESION #2 ***"));
        assert!(t.contains(&"*** ANULADO ***"));
        assert!(t.contains(&"PAGAMOS 92.5x"));
        assert!(!layout.rows.iter().any(|r| matches!(r, Row::Qr { .. })));
        check_golden("receipt_88mm_cancelled.json", &layout);
    }

    #[test]
    fn layout_content_order_and_grouping() {
        let layout = layout(&sample_58mm());
        let t = texts(&layout);
        let pos = |needle: &str| {
            t.iter()
                .position(|s| s.starts_with(needle))
                .unwrap_or_else(|| panic!("{needle:?} missing in {t:#?}"))
        };
        assert_eq!(t[0], "CODIGO # T261125-00042");
        assert!(pos("TICA TIEMPOS 1:55 PM") < pos("Tiempos Doña Ána"));
        assert!(pos("TEL: 8888-1234") < pos("CLIENTE: María Peña"));
        assert!(pos("SORTEO: 25/11/2026") < pos("TIEMPOS: 1:55 PM"));
        assert!(pos("IMPRESIÓN: 25/11/2026 13:40") < pos(" 1,000 *"));
        // 1000 and 1000.00 are the same amount; groups keep first-appearance order; amounts are
        // right-aligned and numbers that do not fit continue under the first number.
        assert_eq!(t[pos(" 1,000 *")], " 1,000 * 05 12 47 61 70 81 92 99");
        assert_eq!(t[pos(" 1,000 *") + 1], "         00 08");
        assert_eq!(t[pos("   500 *")], "   500 * 33");
        assert_eq!(t[pos("250.50 *")], "250.50 * 77");
        assert!(pos("REVENTADOS") < pos("200 * 05 12"));
        assert!(pos("200 * 05 12") < pos("TOTAL: 10,150.50"));
        assert!(pos("TOTAL: 10,150.50") < pos("PAGAMOS 90x"));
        assert!(pos("PAGAMOS 90x") < pos("Gracias por su compra"));
        assert!(pos("Revise su tiquete") < pos("T261125-00042"));
        assert!(!t
            .iter()
            .any(|s| s.contains("ORIGINAL") || s.contains("ANULADO")));
        let barcode = layout
            .rows
            .iter()
            .position(|r| matches!(r, Row::Barcode { data } if data == "T261125-00042"))
            .expect("barcode row");
        let qr = layout
            .rows
            .iter()
            .position(|r| matches!(r, Row::Qr { data } if data == "T261125-00042"))
            .expect("qr row");
        assert!(barcode < qr);
    }

    #[test]
    fn reprint_marker_and_options() {
        let mut data = sample_58mm();
        data.reprint = Some(0);
        data.barcode = false;
        data.qr = false;
        data.ticket_number = "t261125-00001".into();
        let layout = layout(&data);
        let t = texts(&layout);
        assert_eq!(t[1], "*** ORIGINAL ***");
        assert!(!layout
            .rows
            .iter()
            .any(|r| matches!(r, Row::Barcode { .. } | Row::Qr { .. })));
        data.barcode = true;
        let layout = super::layout(&data);
        assert!(layout
            .rows
            .iter()
            .any(|r| matches!(r, Row::Barcode { data } if data == "T261125-00001")));
    }

    #[test]
    fn width_in_pixels() {
        assert_eq!(width_px_for_mm(58), 220);
        assert_eq!(width_px_for_mm(88), 340);
        assert_eq!(width_px_for_mm(80), 302);
        assert_eq!(width_px_for_mm(57), 215);
        assert_eq!(width_px_for_mm(0), MIN_WIDTH_PX);
        assert_eq!(width_px_for_mm(u32::MAX), MAX_WIDTH_PX);
        assert_eq!(columns_for(220, TextSize::Normal), 32);
        assert_eq!(columns_for(340, TextSize::Normal), 50);
    }

    #[test]
    fn amounts_and_multipliers() {
        assert_eq!(format_amount(d("0")), "0");
        assert_eq!(format_amount(d("0.00")), "0");
        assert_eq!(format_amount(d("5")), "5");
        assert_eq!(format_amount(d("999")), "999");
        assert_eq!(format_amount(d("1000")), "1,000");
        assert_eq!(format_amount(d("1000.00")), "1,000");
        assert_eq!(format_amount(d("1000.5")), "1,000.50");
        assert_eq!(format_amount(d("1234567.891")), "1,234,567.891");
        assert_eq!(format_amount(d("-1500")), "-1,500");
        assert_eq!(format_amount(d("0.125")), "0.125");
        assert_eq!(
            format_amount(Decimal::MAX),
            "79,228,162,514,264,337,593,543,950,335"
        );
        assert_eq!(format_multiplier(d("90.00")), "90");
        assert_eq!(format_multiplier(d("92.50")), "92.5");
        assert_eq!(format_multiplier(d("1")), "1");
        assert_eq!(format_multiplier(d("0.0")), "0");
    }

    #[test]
    fn wrap_splits_words_and_long_tokens() {
        assert_eq!(wrap("ab cd ef", 5), vec!["ab cd", "ef"]);
        assert_eq!(wrap("abcdefgh", 3), vec!["abc", "def", "gh"]);
        assert_eq!(wrap("x abcdef y", 3), vec!["x", "abc", "def", "y"]);
        assert!(wrap("   ", 10).is_empty());
        assert_eq!(wrap("ñáé", 1), vec!["ñ", "á", "é"]);
    }

    #[test]
    fn embedded_font_metrics_match_layout_constants() {
        for bytes in [FONT_REGULAR, FONT_BOLD] {
            let font = FontRef::try_from_slice(bytes).unwrap();
            assert_eq!(font.units_per_em(), Some(UNITS_PER_EM as f32));
            for c in ['0', 'W', 'i', 'Ñ', 'á', '*', '#'] {
                let id = font.glyph_id(c);
                assert_ne!(id.0, 0, "font lacks {c:?}");
                assert_eq!(font.h_advance_unscaled(id), ADVANCE_UNITS as f32);
            }
        }
    }

    #[test]
    fn png_58mm_decodes_and_has_barcode() {
        let layout = layout(&sample_58mm());
        let png = render_png(&layout).unwrap();
        let decoded = image::load_from_memory(&png).unwrap();
        assert_eq!(decoded.width(), 440);
        let (img, spans) = rasterize(&layout).unwrap();
        assert_eq!(decoded.height(), img.height());
        let barcode_row = layout
            .rows
            .iter()
            .position(|r| matches!(r, Row::Barcode { .. }))
            .unwrap();
        let (_, top, bottom) = spans.iter().find(|(i, _, _)| *i == barcode_row).unwrap();
        assert!(bottom - top >= 40);
        let dark = (*top..*bottom)
            .flat_map(|y| (0..img.width()).map(move |x| (x, y)))
            .filter(|&(x, y)| img.get_pixel(x, y).0[0] < 128)
            .count();
        let area = (bottom - top) * img.width();
        assert!(
            dark as u32 > area / 5,
            "barcode area mostly blank: {dark}/{area}"
        );
        // Text rows have ink too, and the page background is white.
        assert_eq!(img.get_pixel(0, 0).0[0], 255);
        let (_, t0, t1) = spans[0];
        assert!((t0..t1).any(|y| (0..img.width()).any(|x| img.get_pixel(x, y).0[0] < 128)));
    }

    #[test]
    fn png_88mm_width() {
        let png = render(&sample_88mm_cancelled()).unwrap();
        let decoded = image::load_from_memory(&png).unwrap();
        assert_eq!(decoded.width(), 680);
    }

    #[test]
    fn hostile_input_never_panics() {
        let long = "Ñandú Ágil Çédille ".repeat(40);
        let many: Vec<ReceiptLine> = (0..100)
            .map(|i| ReceiptLine {
                kind: if i % 3 == 0 {
                    LineKind::Reventado
                } else {
                    LineKind::Numero
                },
                number: format!("{:02}", i),
                amount: Decimal::from(100 * (i % 7 + 1)),
            })
            .collect();
        let weird_lines = vec![
            line(LineKind::Numero, "", "1"),
            line(LineKind::Numero, "  \t", "1"),
            line(LineKind::Numero, &"9".repeat(200), "2"),
            line(LineKind::Reventado, "05", "-3"),
        ];
        let mut huge = vec![line(LineKind::Numero, "01", "0")];
        huge.push(ReceiptLine {
            kind: LineKind::Numero,
            number: "02".into(),
            amount: Decimal::MAX,
        });
        huge.push(ReceiptLine {
            kind: LineKind::Reventado,
            number: "03".into(),
            amount: Decimal::MIN,
        });
        let cases: Vec<(u32, Vec<ReceiptLine>, &str)> = vec![
            (58, many.clone(), "T261125-00001"),
            (88, many, "ÑÑ"),
            (0, weird_lines.clone(), ""),
            (1, huge.clone(), "T\u{1F600}\u{0301}x"),
            (u32::MAX, huge, "\u{0181}\u{00C0}T1"),
            (30, weird_lines, "T-\n-\t"),
            (58, vec![], &long),
            (
                80,
                vec![],
                "T00000000000000000000000000000000000000000000000",
            ),
        ];
        for (width_mm, lines, ticket) in cases {
            let data = ReceiptData {
                ticket_number: ticket.into(),
                loteria_name: long.clone(),
                sorteo_name: "🎲 sorteo".into(),
                draw_date: "\n".into(),
                draw_time: "".into(),
                printed_at: "\u{0}\u{7}".into(),
                seller_name: Some(long.clone()),
                seller_phone: Some(" ".into()),
                cliente_nombre: long.clone(),
                lines,
                total: Decimal::MAX,
                pays_x: Decimal::MIN,
                footer: Some(format!("{long}\n\n\r\nfin\u{200B}")),
                width_mm,
                barcode: true,
                qr: true,
                reprint: Some(u32::MAX),
                cancelled: true,
            };
            let layout = layout(&data);
            assert_rows_fit(&layout);
            let png = render_png(&layout).unwrap();
            let decoded = image::load_from_memory(&png).unwrap();
            assert_eq!(decoded.width(), layout.width_px * SCALE);
        }
    }

    #[test]
    fn hand_built_layouts_never_panic() {
        let base = layout(&sample_58mm());
        let mut odd = base.clone();
        odd.width_px = 0;
        odd.scale = 0;
        odd.margin_px = u32::MAX;
        odd.rows.push(Row::Text {
            text: "x".repeat(5000),
            align: Align::Right,
            size: TextSize::Large,
            bold: true,
        });
        odd.rows.push(Row::Barcode {
            data: "~".repeat(500),
        });
        odd.rows.push(Row::Qr {
            data: "q".repeat(5000),
        });
        assert!(render_png(&odd).is_ok());
        let mut tall = base;
        tall.rows.push(Row::Space { px: u32::MAX });
        assert!(matches!(render_png(&tall), Err(RenderError::TooLarge(_))));
    }

    /// Writes sample PNGs for eyeballing when `PRINT_PREVIEW_DIR` is set.
    #[test]
    fn write_previews_when_asked() {
        let Ok(dir) = std::env::var("PRINT_PREVIEW_DIR") else {
            return;
        };
        let dir = PathBuf::from(dir);
        std::fs::write(dir.join("receipt.png"), render(&sample_58mm()).unwrap()).unwrap();
        std::fs::write(
            dir.join("receipt_88mm.png"),
            render(&sample_88mm_cancelled()).unwrap(),
        )
        .unwrap();
        let mut stress = sample_58mm();
        stress.loteria_name = "LOTERÍA NACIONAL DE COSTA RICA — ÑANDÚ".into();
        stress.cliente_nombre = "José Ángel Rodríguez Villalobos de la Peña Ñ".into();
        stress.reprint = Some(12);
        stress.cancelled = true;
        stress.lines = (0..100)
            .map(|i| ReceiptLine {
                kind: if i % 4 == 0 {
                    LineKind::Reventado
                } else {
                    LineKind::Numero
                },
                number: format!("{:02}", (i * 37) % 100),
                amount: Decimal::from([100, 250, 1000, 12500][i % 4] * (1 + i / 50)),
            })
            .collect();
        stress.lines.push(ReceiptLine {
            kind: LineKind::Numero,
            number: "01".into(),
            amount: Decimal::MAX,
        });
        std::fs::write(dir.join("receipt_stress.png"), render(&stress).unwrap()).unwrap();
    }
}
