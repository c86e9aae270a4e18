//! Tables as PDF (issue 10): the PDF flavour of the report exports (`exports::pdf`).
//!
//! A document is a title, subtitle lines (period, filters, "Generado: … (GMT-6)"; the caller
//! writes them, this module never reads the clock) and titled tables, laid out on US Letter
//! landscape pages:
//!
//! - each table has a bold, shaded header row; rows are one line high, alternate rows shaded;
//! - money is right-aligned with thousands separators and exactly two decimals (rounded half away
//!   from zero), negative amounts in parentheses (`(1,234.50)`); positive amounts leave room for
//!   the closing parenthesis so digits line up; integers right-aligned with separators;
//! - column widths fit the content: when the natural widths do not fill the page the extra space
//!   is shared proportionally; when they overflow, amounts keep their full width and text columns
//!   give way (down to a minimum), then the font shrinks (down to 5.5 pt), and only as a last
//!   resort everything is squeezed; text that does not fit is cut with "…"; a header may wrap
//!   to two lines;
//! - a table that does not fit continues on the next page under its title marked "(cont.)" and
//!   its header row repeated; a table never starts without room for its header and one row;
//! - a row whose first cell starts with "total" (any case) is drawn bold (totals lines);
//! - every page has a footer with the title and "Página i de n".
//!
//! Text uses the standard Helvetica fonts in WinAnsiEncoding (Windows-1252, which covers Spanish:
//! "Lotería", "Comisión", "Ñ"); nothing is embedded and characters outside the code page print as
//! "?". Widths come from the Adobe core-font metrics. Content streams are uncompressed so the text
//! stays inspectable. The renderer is a pure function and never panics: a document over
//! [`MAX_PAGES`] pages is a [`RenderError::TooLarge`].

use pdf_writer::{Finish, Name, Pdf, Rect, Ref, TextStr};
use rust_decimal::Decimal;

use super::pdf_base::{fit_size, win_ansi, wrap, Font, Painter};
use super::RenderError;
use crate::domain::commission::money;

/// One titled table.
#[derive(Debug, Clone, PartialEq)]
pub struct PdfTable {
    pub title: String,
    pub header: Vec<String>,
    /// Rows may be shorter than the header (missing cells are empty) or longer (extra columns
    /// get an empty header).
    pub rows: Vec<Vec<PdfCell>>,
}

/// One cell.
#[derive(Debug, Clone, PartialEq)]
pub enum PdfCell {
    Text(String),
    /// Two decimals, rounded half away from zero; negative in parentheses.
    Money(Decimal),
    Int(i64),
    Empty,
}

/// Upper bound on the pages of one document (~38 rows each).
pub const MAX_PAGES: usize = 5000;

// Geometry, in points (origin bottom left). US Letter landscape.
const PAGE_W: f32 = 792.0;
const PAGE_H: f32 = 612.0;
const MARGIN: f32 = 36.0;
const CONTENT_W: f32 = PAGE_W - 2.0 * MARGIN;
const TOP: f32 = PAGE_H - MARGIN;
/// Lowest y content may reach; the footer lives below it.
const BOTTOM: f32 = MARGIN + 6.0;
const TITLE_SIZE: f32 = 15.0;
const CONT_TITLE_SIZE: f32 = 10.0;
const SUB_SIZE: f32 = 9.0;
const SUB_LEADING: f32 = 12.0;
const TABLE_TITLE_SIZE: f32 = 11.0;
const TABLE_TITLE_H: f32 = 20.0;
const TABLE_GAP: f32 = 14.0;
const FOOTER_SIZE: f32 = 8.0;
/// Cell padding on each side.
const PAD: f32 = 4.0;
const BODY_SIZE: f32 = 8.0;
const MIN_BODY_SIZE: f32 = 5.5;
/// Narrowest a text column becomes before the font shrinks.
const TEXT_MIN_W: f32 = 56.0;
const HEADER_GRAY: f32 = 0.82;
const ZEBRA_GRAY: f32 = 0.95;
const TOTAL_GRAY: f32 = 0.88;

/// The document as PDF bytes: `title` and `subtitle_lines` on the first page, then the tables
/// in order. An empty `tables` gives one page saying there is no data.
pub fn render(
    title: &str,
    subtitle_lines: &[String],
    tables: &[PdfTable],
) -> Result<Vec<u8>, RenderError> {
    let title_bytes = win_ansi(title.trim());
    let mut flow = Flow::new(title_bytes.clone());

    // Title block.
    let size = fit_size(Font::HelveticaBold, &title_bytes, TITLE_SIZE, CONTENT_W);
    flow.page().text(
        Font::HelveticaBold,
        size,
        MARGIN,
        TOP - 13.0,
        &title_bytes,
        0.0,
    );
    flow.page().line(
        (MARGIN, TOP - 20.0),
        (MARGIN + CONTENT_W, TOP - 20.0),
        0.8,
        0.0,
    );
    flow.y = TOP - 26.0;
    for line in subtitle_lines {
        for wrapped in wrap(&win_ansi(line), Font::Helvetica, SUB_SIZE, CONTENT_W) {
            flow.ensure(SUB_LEADING)?;
            let y = flow.y - SUB_SIZE;
            flow.page()
                .text(Font::Helvetica, SUB_SIZE, MARGIN, y, &wrapped, 0.15);
            flow.y -= SUB_LEADING;
        }
    }
    flow.y -= 6.0;

    if tables.is_empty() {
        flow.ensure(SUB_LEADING)?;
        let y = flow.y - 10.0;
        flow.page()
            .text(Font::Helvetica, 10.0, MARGIN, y, b"Sin datos.", 0.0);
    }
    for table in tables {
        draw_table(&mut flow, table)?;
        flow.y -= TABLE_GAP;
    }
    assemble(title.trim(), flow)
}

/// The "Generado" subtitle line for `at` in the zone it carries (callers pass the time already
/// in the business zone): `Generado: 01/12/2026 08:30 (GMT-6)`.
pub fn generated_line<Tz: chrono::TimeZone>(at: &chrono::DateTime<Tz>) -> String {
    use chrono::Offset;
    let seconds = at.offset().fix().local_minus_utc();
    let sign = if seconds < 0 { '-' } else { '+' };
    let (h, m) = (seconds.abs() / 3600, seconds.abs() % 3600 / 60);
    let zone = match (seconds, m) {
        (0, _) => "GMT".to_string(),
        (_, 0) => format!("GMT{sign}{h}"),
        _ => format!("GMT{sign}{h}:{m:02}"),
    };
    format!(
        "Generado: {} ({zone})",
        at.naive_local().format("%d/%m/%Y %H:%M")
    )
}

// ---------------------------------------------------------------------------------------------
// Page flow

/// The pages drawn so far and the cursor on the last one.
struct Flow {
    pages: Vec<Painter>,
    /// Top of the free space on the last page.
    y: f32,
    /// The document title (WinAnsi), repeated small on continuation pages.
    title: Vec<u8>,
}

impl Flow {
    fn new(title: Vec<u8>) -> Self {
        Flow {
            pages: vec![Painter::new()],
            y: TOP,
            title,
        }
    }

    fn page(&mut self) -> &mut Painter {
        if self.pages.is_empty() {
            self.pages.push(Painter::new());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    /// Starts a new page unless `height` fits below the cursor. Returns whether it did.
    fn ensure(&mut self, height: f32) -> Result<bool, RenderError> {
        if self.y - height >= BOTTOM {
            return Ok(false);
        }
        if self.pages.len() >= MAX_PAGES {
            return Err(RenderError::TooLarge(format!(
                "more than {MAX_PAGES} pages"
            )));
        }
        let mut p = Painter::new();
        let mut label = self.title.clone();
        label.extend_from_slice(b" (cont.)");
        let size = fit_size(Font::HelveticaBold, &label, CONT_TITLE_SIZE, CONTENT_W);
        p.text(Font::HelveticaBold, size, MARGIN, TOP - 9.0, &label, 0.35);
        p.line(
            (MARGIN, TOP - 14.0),
            (MARGIN + CONTENT_W, TOP - 14.0),
            0.5,
            0.5,
        );
        self.pages.push(p);
        self.y = TOP - 22.0;
        Ok(true)
    }
}

/// Writes the pages (with their footers) as one PDF.
fn assemble(title: &str, flow: Flow) -> Result<Vec<u8>, RenderError> {
    let count = flow.pages.len();
    let footer_title = win_ansi(title);
    let streams: Vec<Vec<u8>> = flow
        .pages
        .into_iter()
        .enumerate()
        .map(|(i, mut p)| {
            draw_footer(&mut p, &footer_title, i + 1, count);
            p.finish()
        })
        .collect();
    // Object ids: 1 catalog, 2 page tree, 3 info, 4..=5 fonts, then page/content pairs; the
    // last id (7 + 2 × (pages − 1)) stays far below i32::MAX because pages ≤ MAX_PAGES.
    let catalog_id = Ref::new(1);
    let tree_id = Ref::new(2);
    let info_id = Ref::new(3);
    let font_ids: Vec<(Font, Ref)> = USED_FONTS
        .iter()
        .enumerate()
        .map(|(i, f)| (*f, Ref::new(4 + i as i32)))
        .collect();
    let page_ids: Vec<(Ref, Ref)> = (0..streams.len() as i32)
        .map(|i| (Ref::new(6 + 2 * i), Ref::new(7 + 2 * i)))
        .collect();

    let mut pdf = Pdf::new();
    pdf.catalog(catalog_id).pages(tree_id);
    pdf.pages(tree_id)
        .kids(page_ids.iter().map(|(page, _)| *page))
        .count(streams.len() as i32);
    let mut info = pdf.document_info(info_id);
    if !title.is_empty() {
        info.title(TextStr(title));
    }
    info.producer(TextStr("banca"));
    info.finish();
    for (font, id) in &font_ids {
        pdf.type1_font(*id)
            .base_font(font.base_font())
            .encoding_predefined(Name(b"WinAnsiEncoding"));
    }
    for ((page_id, content_id), stream) in page_ids.iter().zip(&streams) {
        let mut page = pdf.page(*page_id);
        page.parent(tree_id)
            .media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H))
            .contents(*content_id);
        {
            let mut resources = page.resources();
            let mut fonts = resources.fonts();
            for (font, id) in &font_ids {
                fonts.pair(font.resource(), *id);
            }
        }
        page.finish();
        pdf.stream(*content_id, stream);
    }
    Ok(pdf.finish())
}

fn draw_footer(p: &mut Painter, title: &[u8], page_no: usize, page_count: usize) {
    let label = win_ansi(&format!("Página {page_no} de {page_count}"));
    let label_w = Font::Helvetica.width(&label, FOOTER_SIZE);
    let y = MARGIN - 14.0;
    p.line(
        (MARGIN, MARGIN - 4.0),
        (MARGIN + CONTENT_W, MARGIN - 4.0),
        0.3,
        0.6,
    );
    let left = truncate(
        title,
        Font::Helvetica,
        FOOTER_SIZE,
        CONTENT_W - label_w - 24.0,
    );
    p.text(Font::Helvetica, FOOTER_SIZE, MARGIN, y, &left, 0.3);
    p.text_right(
        Font::Helvetica,
        FOOTER_SIZE,
        MARGIN + CONTENT_W,
        y,
        &label,
        0.3,
    );
}

// ---------------------------------------------------------------------------------------------
// Tables

/// A cell ready to draw: WinAnsi text and whether it is right-aligned.
struct Prepared {
    text: Vec<u8>,
    numeric: bool,
    /// A positive amount: leave room for the ")" of negative ones.
    paren_room: bool,
}

fn prepare(cell: &PdfCell) -> Prepared {
    match cell {
        PdfCell::Text(s) => Prepared {
            text: win_ansi(s.trim_end()),
            numeric: false,
            paren_room: false,
        },
        PdfCell::Money(d) => {
            let negative = money(*d).is_sign_negative() && !money(*d).is_zero();
            Prepared {
                text: format_money(*d).into_bytes(),
                numeric: true,
                paren_room: !negative,
            }
        }
        PdfCell::Int(n) => Prepared {
            text: format_int(*n).into_bytes(),
            numeric: true,
            paren_room: false,
        },
        PdfCell::Empty => Prepared {
            text: Vec::new(),
            numeric: false,
            paren_room: false,
        },
    }
}

/// Column layout of one table at one font size.
struct Columns {
    size: f32,
    widths: Vec<f32>,
    /// Header lines per column (1 or 2 lines).
    header: Vec<Vec<Vec<u8>>>,
    header_h: f32,
    row_h: f32,
}

fn row_height(size: f32) -> f32 {
    (size * 1.65).max(9.0)
}

/// Splits a header into at most two lines at the space that makes the wider line narrowest.
fn header_split(text: &[u8], size: f32) -> Vec<Vec<u8>> {
    let font = Font::HelveticaBold;
    let mut best = vec![text.to_vec()];
    let mut best_w = font.width(text, size);
    for (i, b) in text.iter().enumerate() {
        if *b == b' ' {
            let (a, c) = (&text[..i], &text[i + 1..]);
            let w = font.width(a, size).max(font.width(c, size));
            if w < best_w && !a.is_empty() && !c.is_empty() {
                best_w = w;
                best = vec![a.to_vec(), c.to_vec()];
            }
        }
    }
    best
}

/// Fits the columns in [`CONTENT_W`] (see the module doc for the order of concessions).
fn layout_columns(header: &[Vec<u8>], rows: &[Vec<Prepared>], ncols: usize) -> Columns {
    let paren_w = |size: f32| Font::Helvetica.width(b")", size);
    let mut size = BODY_SIZE;
    loop {
        let mut natural = vec![0.0f32; ncols];
        let mut minimum = vec![0.0f32; ncols];
        let mut numeric = vec![false; ncols];
        for row in rows {
            for (c, cell) in row.iter().enumerate() {
                let mut w = Font::Helvetica.width(&cell.text, size);
                if cell.paren_room {
                    w += paren_w(size);
                }
                natural[c] = natural[c].max(w + 2.0 * PAD);
                numeric[c] |= cell.numeric;
            }
        }
        for c in 0..ncols {
            let h = header.get(c).map(Vec::as_slice).unwrap_or(b"");
            let one = Font::HelveticaBold.width(h, size) + 2.0 * PAD;
            let two = header_split(h, size)
                .iter()
                .map(|l| Font::HelveticaBold.width(l, size))
                .fold(0.0f32, f32::max)
                + 2.0 * PAD;
            let data = natural[c];
            natural[c] = data.max(one).max(2.0 * PAD + 4.0);
            minimum[c] = if numeric[c] {
                data.max(two)
            } else {
                natural[c].min(TEXT_MIN_W.max(two.min(TEXT_MIN_W * 1.5)))
            }
            .max(2.0 * PAD + 4.0);
        }
        let total_natural: f32 = natural.iter().sum();
        let total_min: f32 = minimum.iter().sum();
        let widths = if total_natural <= CONTENT_W {
            // Share the spare width proportionally.
            let scale = if total_natural > 0.0 {
                CONTENT_W / total_natural
            } else {
                1.0
            };
            natural.iter().map(|w| w * scale).collect::<Vec<_>>()
        } else if total_min <= CONTENT_W {
            // From the minimum, amounts get back what they lack first (a one-line header), then
            // text columns share the rest in proportion to what they lack.
            let mut widths = minimum.clone();
            let mut spare = CONTENT_W - total_min;
            for amounts in [true, false] {
                let lack: f32 = (0..ncols)
                    .filter(|c| numeric[*c] == amounts)
                    .map(|c| natural[c] - minimum[c])
                    .sum();
                if lack <= 0.0 {
                    continue;
                }
                let share = (spare / lack).min(1.0);
                for c in (0..ncols).filter(|c| numeric[*c] == amounts) {
                    widths[c] += (natural[c] - minimum[c]) * share;
                }
                spare -= lack * share;
            }
            widths
        } else if size > MIN_BODY_SIZE {
            size = (size - 0.5).max(MIN_BODY_SIZE);
            continue;
        } else {
            // Last resort: squeeze everything.
            let scale = CONTENT_W / total_min.max(1.0);
            minimum.iter().map(|w| w * scale).collect()
        };
        let header_lines: Vec<Vec<Vec<u8>>> = (0..ncols)
            .map(|c| {
                let h = header.get(c).map(Vec::as_slice).unwrap_or(b"");
                let room = widths[c] - 2.0 * PAD;
                if Font::HelveticaBold.width(h, size) <= room {
                    vec![h.to_vec()]
                } else {
                    header_split(h, size)
                        .into_iter()
                        .map(|l| truncate(&l, Font::HelveticaBold, size, room))
                        .collect()
                }
            })
            .collect();
        let lines = header_lines.iter().map(Vec::len).max().unwrap_or(1).max(1);
        let row_h = row_height(size);
        return Columns {
            size,
            widths,
            header_h: row_h + (lines as f32 - 1.0) * size * 1.15,
            header: header_lines,
            row_h,
        };
    }
}

fn is_total_row(row: &[PdfCell]) -> bool {
    match row.first() {
        Some(PdfCell::Text(s)) => s.trim_start().to_lowercase().starts_with("total"),
        _ => false,
    }
}

fn draw_table(flow: &mut Flow, table: &PdfTable) -> Result<(), RenderError> {
    let ncols = table
        .rows
        .iter()
        .map(Vec::len)
        .max()
        .unwrap_or(0)
        .max(table.header.len())
        .max(1);
    let header: Vec<Vec<u8>> = table.header.iter().map(|h| win_ansi(h.trim())).collect();
    let rows: Vec<Vec<Prepared>> = table
        .rows
        .iter()
        .map(|row| {
            (0..ncols)
                .map(|c| prepare(row.get(c).unwrap_or(&PdfCell::Empty)))
                .collect()
        })
        .collect();
    let cols = layout_columns(&header, &rows, ncols);
    let title = win_ansi(table.title.trim());

    // Title, header and the first row start together.
    flow.ensure(TABLE_TITLE_H + cols.header_h + cols.row_h)?;
    let mut chunk_top = start_chunk(flow, &title, false, &cols);
    let mut zebra = false;

    if rows.is_empty() {
        let y = flow.y - cols.row_h;
        let baseline = y + (cols.row_h - cols.size * 0.7) / 2.0;
        flow.page().text(
            Font::Helvetica,
            cols.size,
            MARGIN + PAD,
            baseline,
            b"Sin datos.",
            0.35,
        );
        flow.y = y;
    }
    for (r, row) in rows.iter().enumerate() {
        if flow.ensure(cols.row_h)? {
            // The previous page's part of the table ended at the bottom of its last row.
            chunk_top = start_chunk(flow, &title, true, &cols);
        }
        let y = flow.y - cols.row_h;
        let total = is_total_row(&table.rows[r]);
        let p = flow.page();
        if total {
            p.fill_rect(MARGIN, y, cols.widths.iter().sum(), cols.row_h, TOTAL_GRAY);
        } else if zebra {
            p.fill_rect(MARGIN, y, cols.widths.iter().sum(), cols.row_h, ZEBRA_GRAY);
        }
        zebra = !zebra;
        let font = if total {
            Font::HelveticaBold
        } else {
            Font::Helvetica
        };
        let baseline = y + (cols.row_h - cols.size * 0.7) / 2.0;
        let mut x = MARGIN;
        for (c, cell) in row.iter().enumerate() {
            let w = cols.widths[c];
            let room = w - 2.0 * PAD;
            if cell.numeric {
                let right = if cell.paren_room {
                    x + w - PAD - Font::Helvetica.width(b")", cols.size)
                } else {
                    x + w - PAD
                };
                let text = truncate(&cell.text, font, cols.size, room);
                p.text_right(font, cols.size, right, baseline, &text, 0.0);
            } else {
                let text = truncate(&cell.text, font, cols.size, room);
                p.text(font, cols.size, x + PAD, baseline, &text, 0.0);
            }
            x += w;
        }
        p.line(
            (MARGIN, y),
            (MARGIN + cols.widths.iter().sum::<f32>(), y),
            0.25,
            0.75,
        );
        flow.y = y;
        // Close the frame of this page's part when the next row will not fit or at the end.
        if r + 1 == rows.len() || flow.y - cols.row_h < BOTTOM {
            let bottom = flow.y;
            frame(flow.page(), &cols, chunk_top, bottom);
        }
    }
    if rows.is_empty() {
        let y = flow.y;
        frame(flow.page(), &cols, chunk_top, y);
    }
    Ok(())
}

/// Draws the table title (marked "(cont.)" on later pages) and the header row at the cursor.
/// Returns the y of the header's top edge.
fn start_chunk(flow: &mut Flow, title: &[u8], cont: bool, cols: &Columns) -> f32 {
    let mut label = title.to_vec();
    if cont {
        label.extend_from_slice(b" (cont.)");
    }
    let size = fit_size(Font::HelveticaBold, &label, TABLE_TITLE_SIZE, CONTENT_W);
    let y = flow.y;
    let p = flow.page();
    p.text(Font::HelveticaBold, size, MARGIN, y - 13.0, &label, 0.0);
    let top = y - TABLE_TITLE_H;
    let bottom = top - cols.header_h;
    let total_w: f32 = cols.widths.iter().sum();
    p.fill_rect(MARGIN, bottom, total_w, cols.header_h, HEADER_GRAY);
    let mut x = MARGIN;
    let leading = cols.size * 1.15;
    for (c, lines) in cols.header.iter().enumerate() {
        let w = cols.widths[c];
        // Lines are centred vertically as a block.
        let block = (lines.len() as f32 - 1.0) * leading + cols.size * 0.7;
        let mut baseline = bottom + (cols.header_h + block) / 2.0 - cols.size * 0.7;
        for line in lines {
            p.text_center(
                Font::HelveticaBold,
                cols.size,
                x + w / 2.0,
                baseline,
                line,
                0.0,
            );
            baseline -= leading;
        }
        x += w;
    }
    flow.y = bottom;
    top
}

/// Outer frame and column separators of one page's part of a table.
fn frame(p: &mut Painter, cols: &Columns, top: f32, bottom: f32) {
    let total_w: f32 = cols.widths.iter().sum();
    let mut x = MARGIN;
    for w in &cols.widths[..cols.widths.len().saturating_sub(1)] {
        x += w;
        p.line((x, top), (x, bottom), 0.3, 0.6);
    }
    p.line(
        (MARGIN, top - cols.header_h),
        (MARGIN + total_w, top - cols.header_h),
        0.8,
        0.0,
    );
    p.stroke_rect(MARGIN, bottom, total_w, top - bottom, 0.8, 0.0);
}

// ---------------------------------------------------------------------------------------------
// Number formats

fn group_thousands(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    let n = digits.len();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (n - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `1234.5` → `1,234.50`; `-1234.5` → `(1,234.50)`; rounded to cents half away from zero.
pub fn format_money(amount: Decimal) -> String {
    let m = money(amount);
    let text = format!("{:.2}", m.abs());
    let (int_part, frac) = text.split_once('.').unwrap_or((text.as_str(), "00"));
    let body = format!("{}.{frac}", group_thousands(int_part));
    if m.is_sign_negative() && !m.is_zero() {
        format!("({body})")
    } else {
        body
    }
}

/// `-1234567` → `-1,234,567`.
pub fn format_int(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let grouped = group_thousands(&digits);
    if n < 0 {
        format!("-{grouped}")
    } else {
        grouped
    }
}

// ---------------------------------------------------------------------------------------------
// Fonts and text

/// The fonts a table document uses (registered on every page).
const USED_FONTS: [Font; 2] = [Font::Helvetica, Font::HelveticaBold];

/// WinAnsi "…".
const ELLIPSIS: u8 = 0x85;

/// `text` cut to fit `max_width`, ending in "…" when cut.
fn truncate(text: &[u8], font: Font, size: f32, max_width: f32) -> Vec<u8> {
    if font.width(text, size) <= max_width {
        return text.to_vec();
    }
    let budget = max_width - font.width(&[ELLIPSIS], size);
    let mut used = 0.0;
    let mut out = Vec::new();
    for b in text {
        let w = font.width(&[*b], size);
        if used + w > budget {
            break;
        }
        used += w;
        out.push(*b);
    }
    while out.last() == Some(&b' ') {
        out.pop();
    }
    if budget > 0.0 {
        out.push(ELLIPSIS);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    /// The strings shown with `Tj`, in stream order, decoded from WinAnsi. Content streams are
    /// uncompressed and written page by page, so this is the reading order of the document.
    fn shown(pdf: &[u8]) -> Vec<String> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < pdf.len() {
            let (bytes, end) = match pdf[i] {
                b'(' => {
                    let mut s = Vec::new();
                    let mut depth = 0;
                    let mut j = i + 1;
                    while j < pdf.len() {
                        match pdf[j] {
                            b'\\' if j + 1 < pdf.len() => {
                                j += 1;
                                s.push(match pdf[j] {
                                    b'n' => b'\n',
                                    b'r' => b'\r',
                                    b't' => b'\t',
                                    other => other,
                                });
                            }
                            b'(' => {
                                depth += 1;
                                s.push(b'(');
                            }
                            b')' if depth == 0 => break,
                            b')' => {
                                depth -= 1;
                                s.push(b')');
                            }
                            other => s.push(other),
                        }
                        j += 1;
                    }
                    (s, j + 1)
                }
                b'<' if pdf.get(i + 1) != Some(&b'<')
                    && pdf.get(i.wrapping_sub(1)) != Some(&b'<') =>
                {
                    let Some(len) = pdf[i..].iter().position(|b| *b == b'>') else {
                        break;
                    };
                    let hex = &pdf[i + 1..i + len];
                    let s = hex
                        .chunks(2)
                        .filter_map(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok())
                        .collect();
                    (s, i + len + 1)
                }
                _ => {
                    i += 1;
                    continue;
                }
            };
            if pdf[end.min(pdf.len())..].starts_with(b" Tj") {
                out.push(
                    bytes
                        .iter()
                        .map(|b| match b {
                            0x85 => '…',
                            b => char::from(*b),
                        })
                        .collect(),
                );
            }
            i = end;
        }
        out
    }

    fn page_count(pdf: &[u8]) -> usize {
        let needle = b"/Type /Page";
        pdf.windows(needle.len() + 1)
            .filter(|w| &w[..needle.len()] == needle && w[needle.len()] != b's')
            .count()
    }

    fn table(rows: usize) -> PdfTable {
        PdfTable {
            title: "Resumen por Día".into(),
            header: vec![
                "Fecha".into(),
                "Lotería".into(),
                "Ventas".into(),
                "Comisión Listero".into(),
                "Balance".into(),
                "Tickets".into(),
            ],
            rows: (0..rows)
                .map(|i| {
                    vec![
                        PdfCell::Text(format!("2026-11-{:02}", i % 30 + 1)),
                        PdfCell::Text(format!("Tica {i}")),
                        PdfCell::Money(Decimal::from(i as i64 * 1000) + d("0.5")),
                        PdfCell::Money(d("12.345")),
                        PdfCell::Money(Decimal::from(-(i as i64)) * d("1234.5")),
                        PdfCell::Int(i as i64 * 1000),
                    ]
                })
                .collect(),
        }
    }

    #[test]
    fn generated_line_names_the_offset() {
        use chrono::TimeZone;
        let utc = chrono::Utc
            .with_ymd_and_hms(2026, 12, 1, 14, 30, 0)
            .unwrap();
        let cr = utc.with_timezone(&chrono_tz::America::Costa_Rica);
        assert_eq!(generated_line(&cr), "Generado: 01/12/2026 08:30 (GMT-6)");
        assert_eq!(generated_line(&utc), "Generado: 01/12/2026 14:30 (GMT)");
        let ist = utc.with_timezone(&chrono::FixedOffset::east_opt(19800).unwrap());
        assert_eq!(
            generated_line(&ist),
            "Generado: 01/12/2026 20:00 (GMT+5:30)"
        );
    }

    #[test]
    fn money_formats() {
        assert_eq!(format_money(d("1234.5")), "1,234.50");
        assert_eq!(format_money(d("-1234.5")), "(1,234.50)");
        assert_eq!(format_money(d("-0.004")), "0.00");
        assert_eq!(format_money(d("-0.005")), "(0.01)");
        assert_eq!(format_money(d("1112.875")), "1,112.88");
        assert_eq!(format_money(d("999999.995")), "1,000,000.00");
        assert_eq!(format_money(Decimal::ZERO), "0.00");
        assert_eq!(
            format_money(Decimal::MIN),
            "(79,228,162,514,264,337,593,543,950,335.00)"
        );
        assert_eq!(format_int(-1234567), "-1,234,567");
        assert_eq!(format_int(999), "999");
        assert_eq!(format_int(i64::MIN), "-9,223,372,036,854,775,808");
    }

    #[test]
    fn negatives_are_in_parentheses_and_accents_survive() {
        let pdf = render(
            "Estado de Cuenta",
            &["Período: 2026-11-01 a 2026-11-30".into()],
            &[table(3)],
        )
        .unwrap();
        assert!(pdf.starts_with(b"%PDF"));
        let text = shown(&pdf);
        assert_eq!(text[0], "Estado de Cuenta");
        assert_eq!(text[1], "Período: 2026-11-01 a 2026-11-30");
        assert!(text.contains(&"Resumen por Día".to_string()));
        // Row 2: ventas 2000.50, comisión 12.35, balance -2469.00, tickets 2000.
        let at = text.iter().position(|t| t == "Tica 2").unwrap();
        assert_eq!(
            &text[at - 1..at + 5],
            [
                "2026-11-03",
                "Tica 2",
                "2,000.50",
                "12.35",
                "(2,469.00)",
                "2,000"
            ]
        );
        assert!(!text.iter().any(|t| t.starts_with('-')));
        assert!(text.contains(&"Comisión Listero".to_string()));
    }

    #[test]
    fn long_tables_break_pages_repeating_the_header_and_count_in_the_footer() {
        let rows = 200;
        let pdf = render("Estado de Cuenta", &[], &[table(rows)]).unwrap();
        let pages = page_count(&pdf);
        assert!(pages >= 5, "{pages} pages");
        let text = shown(&pdf);
        // The header row is drawn once per page.
        let headers = text.iter().filter(|t| *t == "Lotería").count();
        assert_eq!(headers, pages);
        let conts = text
            .iter()
            .filter(|t| *t == "Resumen por Día (cont.)")
            .count();
        assert_eq!(conts, pages - 1);
        // Every row appears once, in order.
        let mut last = 0;
        for i in 0..rows {
            let label = format!("Tica {i}");
            let at = text.iter().position(|t| *t == label).unwrap();
            assert!(at > last || i == 0, "row {i} out of order");
            last = at;
        }
        // Footer on every page: "Página i de n".
        for i in 1..=pages {
            let footer = format!("Página {i} de {pages}");
            assert_eq!(text.iter().filter(|t| **t == footer).count(), 1, "{footer}");
        }
        // On each page, the header comes before that page's rows.
        let first_header = text.iter().position(|t| t == "Lotería").unwrap();
        let first_row = text.iter().position(|t| t == "Tica 0").unwrap();
        assert!(first_header < first_row);
    }

    #[test]
    fn wide_text_is_cut_with_an_ellipsis_but_amounts_are_whole() {
        let mut t = table(2);
        t.rows[0][1] = PdfCell::Text("Muy largo ".repeat(80));
        let pdf = render("X", &[], &[t]).unwrap();
        let text = shown(&pdf);
        let cut = text.iter().find(|t| t.starts_with("Muy largo")).unwrap();
        assert!(cut.ends_with('…'), "{cut}");
        assert!(cut.len() < 400);
        assert!(text.contains(&"(1,234.50)".to_string()));

        // Twelve money columns: the font shrinks, no amount is cut.
        let many = PdfTable {
            title: "Muchas".into(),
            header: (0..12).map(|i| format!("Columna número {i}")).collect(),
            rows: vec![(0..12)
                .map(|_| PdfCell::Money(d("-123456789.99")))
                .collect()],
        };
        let pdf = render("X", &[], &[many]).unwrap();
        let text = shown(&pdf);
        assert_eq!(text.iter().filter(|t| *t == "(123,456,789.99)").count(), 12);
    }

    #[test]
    fn odd_input_never_panics() {
        let long = "Ñandú Ágil — “comillas” € 😀 \n\t".repeat(40);
        let tables = vec![
            PdfTable {
                title: long.clone(),
                header: vec![],
                rows: vec![],
            },
            PdfTable {
                title: String::new(),
                header: vec!["A".into()],
                rows: vec![
                    vec![],
                    vec![PdfCell::Empty; 3],
                    vec![
                        PdfCell::Money(Decimal::MAX),
                        PdfCell::Money(Decimal::MIN),
                        PdfCell::Int(i64::MIN),
                        PdfCell::Text(long.clone()),
                    ],
                ],
            },
            PdfTable {
                title: "Cien columnas".into(),
                header: (0..100).map(|i| format!("{i}")).collect(),
                rows: vec![(0..100).map(|_| PdfCell::Money(Decimal::MAX)).collect()],
            },
        ];
        let pdf = render(&long, &vec![long.clone(); 100], &tables).unwrap();
        assert!(pdf.starts_with(b"%PDF"));
        assert!(page_count(&pdf) >= 2);
        let empty = render("", &[], &[]).unwrap();
        assert_eq!(page_count(&empty), 1);
        assert!(shown(&empty).contains(&"Sin datos.".to_string()));
    }

    #[test]
    fn too_many_pages_is_an_error() {
        let t = PdfTable {
            title: "T".into(),
            header: vec!["N".into()],
            rows: (0..(MAX_PAGES as i64 * 40))
                .map(|i| vec![PdfCell::Int(i)])
                .collect(),
        };
        assert!(matches!(
            render("T", &[], &[t]),
            Err(RenderError::TooLarge(_))
        ));
    }

    /// Writes edge-case samples for eyeballing when `PRINT_PREVIEW_DIR` is set (see
    /// `scripts/render-exports.sh`).
    #[test]
    fn write_preview_when_asked() {
        let Ok(dir) = std::env::var("PRINT_PREVIEW_DIR") else {
            return;
        };
        let mut narrow = table(45);
        narrow.rows[1][1] = PdfCell::Text("Nombre larguísimo de lotería ".repeat(12));
        let wide = PdfTable {
            title: "Doce columnas de montos".into(),
            header: (0..12).map(|i| format!("Comisión número {i}")).collect(),
            rows: (0..3)
                .map(|r| {
                    (0..12)
                        .map(|c| {
                            PdfCell::Money(
                                Decimal::from((r * 12 + c) as i64 - 18) * d("9876543.215"),
                            )
                        })
                        .collect()
                })
                .collect(),
        };
        let empty = PdfTable {
            title: "Movimientos".into(),
            header: vec!["Fecha".into(), "Tipo".into(), "Monto".into()],
            rows: vec![],
        };
        let pdf = render(
            "Comisiones — Listeros",
            &[
                "Período: 2026-11-01 a 2026-11-30".into(),
                "Generado: 2026-12-01 08:30 (GMT-6)".into(),
            ],
            &[wide, empty, narrow],
        )
        .unwrap();
        std::fs::write(std::path::Path::new(&dir).join("table_edge.pdf"), pdf).unwrap();
    }
}
