//! The "lista": sales per number (NUMERO and REVENTADO) as a printable PDF.
//!
//! Each [`NumbersSummaryDoc`] becomes one US Letter page (Costa Rica's usual paper; the layout
//! also fits A4 widths) holding a grid of the 100 numbers of its block, laid out as 4 columns × 25
//! rows read top to bottom (00–24, 25–49, 50–74, 75–99). Each cell shows the number, its NUMERO
//! amount and its REVENTADO amount ("-" when zero); rows with sales are shaded. The title and the
//! subtitle lines (filters) are at the top, the three totals at the bottom, and a footer carries
//! `generated_at` and "Página i de n". A batch of documents is one PDF.
//!
//! A document takes more than one page only when it overflows: subtitle lines that would squeeze
//! the grid below a readable row height move to preceding pages, and cells whose number is not in
//! the block (`first_number..first_number + 100`) or is not a number are listed on following
//! pages under "Otros números" instead of being dropped. Duplicate numbers are summed.
//!
//! Text uses the standard PDF fonts (Helvetica, Helvetica-Bold, Courier, Courier-Bold) in
//! WinAnsiEncoding, so no font is embedded; characters outside Windows-1252 print as "?". Widths
//! for alignment come from the Adobe core-font metrics. Content streams are written uncompressed
//! (a one-page list is a few tens of KB), which keeps the PDF inspectable in tests.

use pdf_writer::{Finish, Name, Pdf, Rect, Ref, TextStr};
use rust_decimal::Decimal;

use super::pdf_base::{fit_size, win_ansi, wrap, Font, Painter};
use super::receipt::format_amount;
use super::RenderError;

/// One "lista" document: a block of 100 numbers with their sales.
#[derive(Debug, Clone, PartialEq)]
pub struct NumbersSummaryDoc {
    /// e.g. "Lista de números".
    pub title: String,
    /// Filters applied: banca/ventana/vendedor, sorteo, date range, multiplier.
    pub subtitle_lines: Vec<String>,
    /// 2 → 00..99 grid; 3 → the caller passes one hundred-block at a time.
    pub digits: u8,
    /// 0 for 2 digits; 0, 100, … for 3-digit blocks.
    pub first_number: u32,
    /// Sparse: only numbers with sales; the grid shows every number in the block.
    pub numbers: Vec<NumberCell>,
    pub total_numero: Decimal,
    pub total_reventado: Decimal,
    pub total: Decimal,
    pub generated_at: String,
}

/// Sales of one number.
#[derive(Debug, Clone, PartialEq)]
pub struct NumberCell {
    pub number: String,
    pub numero: Decimal,
    pub reventado: Decimal,
}

const PAGE_W: f32 = 612.0;
const PAGE_H: f32 = 792.0;
const MARGIN: f32 = 36.0;
const CONTENT_W: f32 = PAGE_W - 2.0 * MARGIN;
/// Top of the content area, and where the first line below the title block starts.
const TOP: f32 = PAGE_H - MARGIN;
const BELOW_TITLE: f32 = TOP - 26.0;
const SUB_SIZE: f32 = 9.0;
const SUB_LEADING: f32 = 12.0;
const GRID_COLUMNS: usize = 4;
const GRID_ROWS: usize = 25;
const TABLE_HEADER_H: f32 = 16.0;
const MIN_ROW_H: f32 = 14.0;
const MAX_ROW_H: f32 = 22.0;
/// Space kept under the grid for the totals boxes.
const TOTALS_H: f32 = 48.0;
/// Lowest y a table may reach on a page without totals.
const BOTTOM: f32 = MARGIN + 8.0;
/// Widths inside one grid column: number, NUMERO, REVENTADO.
const NUM_W: f32 = 30.0;
/// Amounts are set in Helvetica-Bold: narrower than Courier, and its digits all share one width,
/// so right-aligned amounts still line up digit by digit.
const AMOUNT_FONT: Font = Font::HelveticaBold;

/// One row of a number table.
struct TableCell {
    label: Vec<u8>,
    numero: Decimal,
    reventado: Decimal,
}

/// Draws a table of `cells` in `GRID_COLUMNS` columns of `rows` rows each, filled top to bottom,
/// whose header's top edge is at `top`. Returns the y of the table's bottom edge.
fn draw_table(p: &mut Painter, cells: &[TableCell], rows: usize, row_h: f32, top: f32) -> f32 {
    let col_w = CONTENT_W / GRID_COLUMNS as f32;
    let amount_w = (col_w - NUM_W) / 2.0;
    let rows_used = rows.max(1);
    let body_top = top - TABLE_HEADER_H;
    let bottom = body_top - rows_used as f32 * row_h;

    // Header band.
    p.fill_rect(MARGIN, body_top, CONTENT_W, TABLE_HEADER_H, 0.82);
    let header_y = body_top + 5.0;
    let amount_size = fit_size(Font::HelveticaBold, b"REVENTADO", 7.5, amount_w - 4.0);
    for c in 0..GRID_COLUMNS {
        let x = MARGIN + c as f32 * col_w;
        p.text_center(
            Font::HelveticaBold,
            7.5,
            x + NUM_W / 2.0,
            header_y,
            &win_ansi("NÚM"),
            0.0,
        );
        p.text_center(
            Font::HelveticaBold,
            amount_size,
            x + NUM_W + amount_w / 2.0,
            header_y,
            &win_ansi("NÚMERO"),
            0.0,
        );
        p.text_center(
            Font::HelveticaBold,
            amount_size,
            x + NUM_W + amount_w * 1.5,
            header_y,
            b"REVENTADO",
            0.0,
        );
    }

    // Shading of rows with sales, then the cell texts.
    // One font size for all numbers and one for all amounts of the table (what the widest needs,
    // but not below 6 pt: a lone outlier shrinks on its own).
    let shown = &cells[..cells.len().min(GRID_COLUMNS * rows_used)];
    let number_size = shown
        .iter()
        .map(|c| {
            fit_size(
                Font::CourierBold,
                &c.label,
                (row_h * 0.62).min(11.0),
                NUM_W - 4.0,
            )
        })
        .fold((row_h * 0.62).min(11.0), f32::min)
        .max(6.0);
    let amount_pref = shown
        .iter()
        .flat_map(|c| [c.numero, c.reventado])
        .filter(|a| !a.is_zero())
        .map(|a| {
            let text = win_ansi(&format_amount(a));
            fit_size(AMOUNT_FONT, &text, (row_h * 0.48).min(9.5), amount_w - 6.0)
        })
        .fold((row_h * 0.48).min(9.5), f32::min)
        .max(6.0);
    for (i, cell) in shown.iter().enumerate() {
        let (c, r) = (i / rows_used, i % rows_used);
        if c >= GRID_COLUMNS {
            break;
        }
        let x = MARGIN + c as f32 * col_w;
        let y = body_top - (r as f32 + 1.0) * row_h;
        let has_sales = !cell.numero.is_zero() || !cell.reventado.is_zero();
        if has_sales {
            p.fill_rect(x, y, col_w, row_h, 0.9);
        }
        let size = fit_size(Font::CourierBold, &cell.label, number_size, NUM_W - 4.0);
        let baseline = y + (row_h - size * 0.6) / 2.0;
        p.text_center(
            Font::CourierBold,
            size,
            x + NUM_W / 2.0,
            baseline,
            &cell.label,
            if has_sales { 0.0 } else { 0.35 },
        );
        for (k, amount) in [cell.numero, cell.reventado].into_iter().enumerate() {
            let cell_x = x + NUM_W + k as f32 * amount_w;
            if amount.is_zero() {
                let baseline = y + (row_h - amount_pref * 0.6) / 2.0;
                p.text_center(
                    Font::Helvetica,
                    amount_pref,
                    cell_x + amount_w / 2.0,
                    baseline,
                    b"-",
                    0.6,
                );
            } else {
                let text = win_ansi(&format_amount(amount));
                let size = fit_size(AMOUNT_FONT, &text, amount_pref, amount_w - 6.0);
                let baseline = y + (row_h - size * 0.7) / 2.0;
                p.text_right(
                    AMOUNT_FONT,
                    size,
                    cell_x + amount_w - 3.0,
                    baseline,
                    &text,
                    0.0,
                );
            }
        }
    }

    // Grid lines: thin between rows and sub-columns, strong between columns and around.
    for r in 1..rows_used {
        let y = body_top - r as f32 * row_h;
        p.line((MARGIN, y), (MARGIN + CONTENT_W, y), 0.3, 0.7);
    }
    for c in 0..GRID_COLUMNS {
        let x = MARGIN + c as f32 * col_w;
        for sub in [NUM_W, NUM_W + amount_w] {
            p.line((x + sub, top), (x + sub, bottom), 0.3, 0.7);
        }
        if c > 0 {
            p.line((x, top), (x, bottom), 1.0, 0.0);
        }
    }
    p.line((MARGIN, body_top), (MARGIN + CONTENT_W, body_top), 0.8, 0.0);
    p.stroke_rect(MARGIN, bottom, CONTENT_W, top - bottom, 1.0, 0.0);
    bottom
}

/// What one page of a document shows besides its header and footer.
enum PageBody {
    /// Only subtitle lines (they did not fit next to the grid).
    Subtitles(Vec<Vec<u8>>),
    /// Remaining subtitle lines, the 100-number grid and the totals.
    Grid(Vec<Vec<u8>>),
    /// Numbers outside the block, `extra_rows` rows per column.
    Extras(std::ops::Range<usize>),
}

/// The cells of a document: the block's 100 numbers and, separately, the rest.
fn cells_of(doc: &NumbersSummaryDoc) -> (Vec<TableCell>, Vec<TableCell>) {
    let width = usize::from(doc.digits.clamp(1, 6));
    let first = u64::from(doc.first_number);
    let mut grid: Vec<TableCell> = (0..100u64)
        .map(|i| TableCell {
            label: format!("{:0width$}", first + i).into_bytes(),
            numero: Decimal::ZERO,
            reventado: Decimal::ZERO,
        })
        .collect();
    let mut extras: Vec<TableCell> = Vec::new();
    for cell in &doc.numbers {
        let trimmed = cell.number.trim();
        let parsed = if !trimmed.is_empty() && trimmed.bytes().all(|b| b.is_ascii_digit()) {
            trimmed.parse::<u64>().ok()
        } else {
            None
        };
        let target = match parsed {
            Some(n) if n >= first && n - first < 100 => &mut grid[(n - first) as usize],
            _ => {
                let label = if trimmed.is_empty() {
                    b"?".to_vec()
                } else {
                    win_ansi(trimmed)
                };
                match extras.iter().position(|e| e.label == label) {
                    Some(i) => &mut extras[i],
                    None => {
                        extras.push(TableCell {
                            label,
                            numero: Decimal::ZERO,
                            reventado: Decimal::ZERO,
                        });
                        extras.last_mut().expect("just pushed")
                    }
                }
            }
        };
        target.numero = target.numero.saturating_add(cell.numero);
        target.reventado = target.reventado.saturating_add(cell.reventado);
    }
    (grid, extras)
}

/// Lines of subtitles that fit on the grid page with rows of at least [`MIN_ROW_H`].
fn subtitle_lines_beside_grid() -> usize {
    let room =
        BELOW_TITLE - 6.0 - (MARGIN + TOTALS_H) - TABLE_HEADER_H - GRID_ROWS as f32 * MIN_ROW_H;
    (room / SUB_LEADING).floor().max(0.0) as usize
}

/// Subtitle lines that fill a page of their own.
fn subtitle_lines_per_page() -> usize {
    ((BELOW_TITLE - BOTTOM) / SUB_LEADING).floor().max(1.0) as usize
}

/// Rows per column on an "Otros números" page.
const EXTRA_ROW_H: f32 = 15.0;
fn extra_rows_per_page() -> usize {
    let top = BELOW_TITLE - 22.0;
    (((top - TABLE_HEADER_H - BOTTOM) / EXTRA_ROW_H)
        .floor()
        .max(1.0)) as usize
}

fn plan_pages(subtitles: Vec<Vec<u8>>, extras: usize) -> Vec<PageBody> {
    let mut pages = Vec::new();
    let beside = subtitle_lines_beside_grid();
    let mut rest = subtitles;
    // Lines that do not fit beside the grid go first, spread evenly over as few pages as needed.
    let before = rest.len().saturating_sub(beside);
    if before > 0 {
        let page_count = before.div_ceil(subtitle_lines_per_page());
        let per_page = before.div_ceil(page_count);
        let moved: Vec<Vec<u8>> = rest.drain(..before).collect();
        for chunk in moved.chunks(per_page) {
            pages.push(PageBody::Subtitles(chunk.to_vec()));
        }
    }
    pages.push(PageBody::Grid(rest));
    let per_page = extra_rows_per_page() * GRID_COLUMNS;
    let mut start = 0;
    while start < extras {
        let end = (start + per_page).min(extras);
        pages.push(PageBody::Extras(start..end));
        start = end;
    }
    pages
}

/// Draws one page of `doc`.
fn draw_page(
    doc: &NumbersSummaryDoc,
    body: &PageBody,
    grid: &[TableCell],
    extras: &[TableCell],
    page_no: usize,
    page_count: usize,
) -> Vec<u8> {
    let mut p = Painter::new();
    let mut title = win_ansi(doc.title.trim());
    if page_no > 1 {
        title.extend_from_slice(b" (cont.)");
    }
    let title_size = fit_size(Font::HelveticaBold, &title, 15.0, CONTENT_W);
    p.text(
        Font::HelveticaBold,
        title_size,
        MARGIN,
        TOP - 13.0,
        &title,
        0.0,
    );
    p.line(
        (MARGIN, BELOW_TITLE + 6.0),
        (MARGIN + CONTENT_W, BELOW_TITLE + 6.0),
        0.8,
        0.0,
    );

    let subtitles = |p: &mut Painter, lines: &[Vec<u8>]| -> f32 {
        let mut y = BELOW_TITLE - SUB_SIZE;
        for line in lines {
            p.text(Font::Helvetica, SUB_SIZE, MARGIN, y, line, 0.15);
            y -= SUB_LEADING;
        }
        BELOW_TITLE - lines.len() as f32 * SUB_LEADING - 6.0
    };

    match body {
        PageBody::Subtitles(lines) => {
            subtitles(&mut p, lines);
        }
        PageBody::Grid(lines) => {
            let top = subtitles(&mut p, lines);
            let avail = top - (MARGIN + TOTALS_H) - TABLE_HEADER_H;
            let row_h = (avail / GRID_ROWS as f32).clamp(MIN_ROW_H, MAX_ROW_H);
            let bottom = draw_table(&mut p, grid, GRID_ROWS, row_h, top);
            draw_totals(&mut p, doc, bottom - 8.0);
        }
        PageBody::Extras(range) => {
            let heading = win_ansi("Otros números (fuera del bloque)");
            p.text(
                Font::HelveticaBold,
                10.0,
                MARGIN,
                BELOW_TITLE - 12.0,
                &heading,
                0.0,
            );
            let cells = &extras[range.clone()];
            let rows = extra_rows_per_page().min(cells.len().div_ceil(GRID_COLUMNS).max(1));
            draw_table(&mut p, cells, rows, EXTRA_ROW_H, BELOW_TITLE - 22.0);
        }
    }

    // Footer.
    let generated = win_ansi(&format!("Generado: {}", doc.generated_at.trim()));
    let page_label = win_ansi(&format!("Página {page_no} de {page_count}"));
    let page_w = Font::Helvetica.width(&page_label, 8.0);
    let gen_size = fit_size(Font::Helvetica, &generated, 8.0, CONTENT_W - page_w - 12.0);
    p.line(
        (MARGIN, MARGIN - 4.0),
        (MARGIN + CONTENT_W, MARGIN - 4.0),
        0.3,
        0.6,
    );
    p.text(
        Font::Helvetica,
        gen_size,
        MARGIN,
        MARGIN - 14.0,
        &generated,
        0.3,
    );
    p.text_right(
        Font::Helvetica,
        8.0,
        MARGIN + CONTENT_W,
        MARGIN - 14.0,
        &page_label,
        0.3,
    );
    p.finish()
}

/// The three totals, as boxes across the page whose top edge is at `top`.
fn draw_totals(p: &mut Painter, doc: &NumbersSummaryDoc, top: f32) {
    let box_w = CONTENT_W / 3.0;
    let box_h = TOTALS_H - 12.0;
    let y = top - box_h;
    let items = [
        ("TOTAL NÚMERO", doc.total_numero, 0.95),
        ("TOTAL REVENTADO", doc.total_reventado, 0.95),
        ("TOTAL", doc.total, 0.85),
    ];
    for (i, (label, amount, shade)) in items.into_iter().enumerate() {
        let x = MARGIN + i as f32 * box_w;
        p.fill_rect(x, y, box_w, box_h, shade);
        p.stroke_rect(x, y, box_w, box_h, 0.8, 0.0);
        p.text(
            Font::Helvetica,
            7.5,
            x + 6.0,
            top - 10.0,
            &win_ansi(label),
            0.25,
        );
        let text = win_ansi(&format_amount(amount));
        let size = fit_size(Font::HelveticaBold, &text, 14.0, box_w - 12.0);
        p.text_right(
            Font::HelveticaBold,
            size,
            x + box_w - 6.0,
            y + 6.0,
            &text,
            0.0,
        );
    }
}

/// Renders the documents into one PDF, each starting on a new page. An empty batch gives a
/// single page saying there is nothing to list.
pub fn render_pdf(docs: &[NumbersSummaryDoc]) -> Result<Vec<u8>, RenderError> {
    let mut streams: Vec<Vec<u8>> = Vec::new();
    for doc in docs {
        let (grid, extras) = cells_of(doc);
        let subtitles: Vec<Vec<u8>> = doc
            .subtitle_lines
            .iter()
            .flat_map(|line| wrap(&win_ansi(line), Font::Helvetica, SUB_SIZE, CONTENT_W))
            .collect();
        let pages = plan_pages(subtitles, extras.len());
        let count = pages.len();
        for (i, body) in pages.iter().enumerate() {
            streams.push(draw_page(doc, body, &grid, &extras, i + 1, count));
        }
    }
    if streams.is_empty() {
        let mut p = Painter::new();
        p.text(
            Font::Helvetica,
            12.0,
            MARGIN,
            TOP - 12.0,
            b"Sin datos para listar.",
            0.0,
        );
        streams.push(p.finish());
    }
    // Object ids: 1 catalog, 2 page tree, 3 info, 4..=7 fonts, then page/content pairs.
    // Object ids must stay within i32: the last one is 9 + 2 × (pages − 1).
    if streams.len() > (i32::MAX as usize - 9) / 2 {
        return Err(RenderError::TooLarge(format!("{} pages", streams.len())));
    }
    let catalog_id = Ref::new(1);
    let tree_id = Ref::new(2);
    let info_id = Ref::new(3);
    let font_ids: Vec<(Font, Ref)> = Font::ALL
        .iter()
        .enumerate()
        .map(|(i, f)| (*f, Ref::new(4 + i as i32)))
        .collect();
    let page_ids: Vec<(Ref, Ref)> = (0..streams.len() as i32)
        .map(|i| (Ref::new(8 + 2 * i), Ref::new(9 + 2 * i)))
        .collect();

    let mut pdf = Pdf::new();
    pdf.catalog(catalog_id).pages(tree_id);
    pdf.pages(tree_id)
        .kids(page_ids.iter().map(|(page, _)| *page))
        .count(streams.len() as i32);
    let title = docs
        .first()
        .map(|d| d.title.trim().to_owned())
        .unwrap_or_default();
    let mut info = pdf.document_info(info_id);
    if !title.is_empty() {
        info.title(TextStr(&title));
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn cell(number: &str, numero: &str, reventado: &str) -> NumberCell {
        NumberCell {
            number: number.into(),
            numero: d(numero),
            reventado: d(reventado),
        }
    }

    fn sample_two_digits() -> NumbersSummaryDoc {
        NumbersSummaryDoc {
            title: "Lista de números".into(),
            subtitle_lines: vec![
                "Banca: Banca Central — Ventana: San José Centro — Vendedor: Ana Peña".into(),
                "Sorteo: TICA 1:55 PM — 25/11/2026".into(),
                "Multiplicador: Base 90x".into(),
            ],
            digits: 2,
            first_number: 0,
            numbers: vec![
                cell("05", "12345.50", "1000"),
                cell("00", "500", "0"),
                cell("99", "1000000", "250"),
                cell("47", "0", "300"),
                cell("5", "100", "0"),
            ],
            total_numero: d("1013945.50"),
            total_reventado: d("1550"),
            total: d("1015495.50"),
            generated_at: "25/11/2026 13:40".into(),
        }
    }

    fn sample_three_digits_block() -> NumbersSummaryDoc {
        NumbersSummaryDoc {
            title: "Lista de números (3 cifras)".into(),
            subtitle_lines: vec!["Sorteo: NICA 3 cifras 9:00 PM".into()],
            digits: 3,
            first_number: 300,
            numbers: vec![
                cell("300", "1000", "0"),
                cell("345", "2500", "500"),
                cell("399", "75", "0"),
            ],
            total_numero: d("3575"),
            total_reventado: d("500"),
            total: d("4075"),
            generated_at: "25/11/2026 21:00".into(),
        }
    }

    /// Page objects: "/Type /Page" not followed by "s".
    fn page_count(pdf: &[u8]) -> usize {
        let needle = b"/Type /Page";
        pdf.windows(needle.len() + 1)
            .filter(|w| &w[..needle.len()] == needle && w[needle.len()] != b's')
            .count()
    }

    /// How pdf-writer writes `text` (WinAnsi) as a string operand: literal when ASCII, else hex.
    fn pdf_string(text: &str) -> Vec<u8> {
        let bytes = win_ansi(text);
        if bytes.is_ascii() {
            [b"(", bytes.as_slice(), b")"].concat()
        } else {
            let hex: String = bytes.iter().map(|b| format!("{b:02X}")).collect();
            format!("<{hex}>").into_bytes()
        }
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn pdf_has_header_one_page_per_doc_and_amount_text() {
        let pdf = render_pdf(&[sample_two_digits(), sample_three_digits_block()]).unwrap();
        assert!(pdf.starts_with(b"%PDF"));
        assert_eq!(page_count(&pdf), 2);
        assert!(contains(&pdf, b"/Count 2"));
        // Content streams are uncompressed: amounts are visible as PDF strings.
        // "05" and "5" are the same number: 12,345.50 + 100.
        assert!(contains(&pdf, b"(12,445.50) Tj"));
        assert!(!contains(&pdf, b"(12,345.50) Tj"));
        assert!(contains(&pdf, b"(1,000,000) Tj"));
        assert!(contains(&pdf, b"(1,015,495.50) Tj"));
        // Non-ASCII text is written as a hex string of its WinAnsi bytes.
        assert!(contains(&pdf, &pdf_string("Lista de números")));
        assert!(contains(&pdf, b"(345) Tj"));
        assert!(contains(&pdf, b"/BaseFont /Helvetica"));
        assert!(contains(&pdf, b"/WinAnsiEncoding"));
    }

    #[test]
    fn duplicates_are_summed_and_block_is_respected() {
        let (grid, extras) = cells_of(&sample_two_digits());
        assert_eq!(grid.len(), 100);
        assert_eq!(grid[5].label, b"05");
        assert_eq!(grid[5].numero, d("12445.50"));
        assert_eq!(grid[99].reventado, d("250"));
        assert!(extras.is_empty());
        let (grid, extras) = cells_of(&sample_three_digits_block());
        assert_eq!(grid[0].label, b"300");
        assert_eq!(grid[45].numero, d("2500"));
        assert!(extras.is_empty());
    }

    fn sample_overflowing() -> NumbersSummaryDoc {
        let mut doc = sample_three_digits_block();
        doc.numbers.push(cell("012", "5", "0"));
        doc.numbers.push(cell("abc", "1", "1"));
        doc.numbers.push(cell("", "1", "0"));
        for i in 0..300 {
            doc.numbers.push(cell(&format!("{}", 500 + i), "10", "0"));
        }
        doc.subtitle_lines = (0..80).map(|i| format!("Filtro número {i}")).collect();
        doc
    }

    #[test]
    fn overflow_goes_to_extra_pages() {
        let doc = sample_overflowing();
        let pdf = render_pdf(&[doc, sample_two_digits()]).unwrap();
        assert!(pdf.starts_with(b"%PDF"));
        let pages = page_count(&pdf);
        // 80 subtitle lines: one subtitles-only page + the grid page; 303 extras over ≥ 2 pages;
        // then one page for the second doc.
        assert!(pages >= 5, "{pages} pages");
        assert!(contains(
            &pdf,
            &pdf_string("Otros números (fuera del bloque)")
        ));
        assert!(contains(&pdf, b"(abc) Tj"));
    }

    #[test]
    fn odd_input_never_panics() {
        let long = "Ñandú Ágil — “comillas” € 😀 ".repeat(50);
        let docs = vec![
            NumbersSummaryDoc {
                title: long.clone(),
                subtitle_lines: vec![long.clone(), String::new(), "\n\t".into()],
                digits: 0,
                first_number: u32::MAX,
                numbers: vec![
                    NumberCell {
                        number: "4294967295".into(),
                        numero: Decimal::MAX,
                        reventado: Decimal::MAX,
                    },
                    NumberCell {
                        number: "4294967295".into(),
                        numero: Decimal::MAX,
                        reventado: Decimal::MIN,
                    },
                    cell("99999999999999999999999999", "1", "1"),
                ],
                total_numero: Decimal::MAX,
                total_reventado: Decimal::MIN,
                total: Decimal::MAX,
                generated_at: long.clone(),
            },
            NumbersSummaryDoc {
                title: String::new(),
                subtitle_lines: vec![],
                digits: 255,
                first_number: 0,
                numbers: vec![],
                total_numero: Decimal::ZERO,
                total_reventado: Decimal::ZERO,
                total: Decimal::ZERO,
                generated_at: String::new(),
            },
        ];
        let pdf = render_pdf(&docs).unwrap();
        assert!(pdf.starts_with(b"%PDF"));
        assert!(page_count(&pdf) >= 2);
        let empty = render_pdf(&[]).unwrap();
        assert_eq!(page_count(&empty), 1);
    }

    #[test]
    fn text_helpers() {
        assert_eq!(
            win_ansi("Ñá€\n😀A"),
            vec![0xD1, 0xE1, 0x80, b' ', b'?', b'A']
        );
        assert_eq!(Font::Helvetica.width(b"0", 10.0), 5.56);
        assert_eq!(Font::Courier.width(b"abc", 10.0), 18.0);
        let lines = wrap(b"aaa bbb ccc", Font::Courier, 10.0, 40.0);
        assert_eq!(
            lines,
            vec![b"aaa".to_vec(), b"bbb".to_vec(), b"ccc".to_vec()]
        );
        let lines = wrap(b"abcdefghij", Font::Courier, 10.0, 30.0);
        assert_eq!(lines, vec![b"abcde".to_vec(), b"fghij".to_vec()]);
        assert!(fit_size(Font::Courier, b"1234567890", 10.0, 30.0) <= 5.0);
    }

    /// Writes a sample PDF for eyeballing when `PRINT_PREVIEW_DIR` is set.
    #[test]
    fn write_preview_when_asked() {
        let Ok(dir) = std::env::var("PRINT_PREVIEW_DIR") else {
            return;
        };
        let pdf = render_pdf(&[sample_two_digits(), sample_three_digits_block()]).unwrap();
        std::fs::write(std::path::Path::new(&dir).join("summary.pdf"), pdf).unwrap();
        let pdf = render_pdf(&[sample_overflowing()]).unwrap();
        std::fs::write(std::path::Path::new(&dir).join("summary_overflow.pdf"), pdf).unwrap();
    }
}
