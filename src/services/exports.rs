//! Tabular exports: a report is a list of sheets (a name, a header and rows of cells) written
//! as CSV (UTF-8 with BOM, CRLF, money as the exact decimal with two places) or XLSX
//! (`rust_xlsxwriter`; money cells numeric with a two-decimal format) or PDF (tables rendered
//! by `print::table_pdf`; negative amounts in parentheses).
//!
//! Money is `Decimal` everywhere; the only conversion to `f64` is the value an XLSX number cell
//! stores for display (the spreadsheet format has no other number type). The CSV prints the
//! exact decimal.

use rust_decimal::Decimal;
use rust_xlsxwriter::{Format, FormatAlign, Workbook, XlsxError};

use crate::domain::commission::money_cell;
pub use crate::domain::commission::money_text;

/// A text as a spreadsheet will read it safely: text starting with `=`, `+`, `-`, `@`, a tab or
/// a carriage return would be run as a formula when the file is opened (CSV injection), so it
/// gets a leading `'`. Names, notes and codes are written by users; money and counts are not
/// text cells.
pub fn safe_text(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

/// One cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    /// Two decimals, rounded half away from zero.
    Money(Decimal),
    Int(i64),
    Empty,
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }
}

/// One sheet (in CSV: one section).
#[derive(Debug, Clone)]
pub struct Sheet {
    /// At most 31 characters (XLSX limit), no `[]:*?/\`.
    pub name: String,
    pub header: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
    /// Column widths in characters (XLSX only); missing ones stay default.
    pub widths: Vec<f64>,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("xlsx: {0}")]
    Xlsx(#[from] XlsxError),
    #[error("csv: {0}")]
    Csv(#[from] csv::Error),
    #[error("csv buffer: {0}")]
    Buffer(String),
    #[error("pdf: {0}")]
    Pdf(String),
}

/// The content type of a CSV export.
pub const CSV_CONTENT_TYPE: &str = "text/csv; charset=utf-8";
/// The content type of an XLSX export.
pub const XLSX_CONTENT_TYPE: &str =
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The sheets as one CSV: a UTF-8 BOM, the first sheet's header and rows, then every further
/// sheet after an empty line, its name on a line of its own, its header and rows. CRLF line
/// ends.
pub fn csv(sheets: &[Sheet]) -> Result<Vec<u8>, ExportError> {
    let mut out: Vec<u8> = vec![0xEF, 0xBB, 0xBF];
    for (i, sheet) in sheets.iter().enumerate() {
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .flexible(true)
            .from_writer(Vec::new());
        if i > 0 {
            out.extend_from_slice(b"\r\n");
            w.write_record([sheet.name.as_str()])?;
        }
        w.write_record(&sheet.header)?;
        for row in &sheet.rows {
            w.write_record(row.iter().map(|c| match c {
                Cell::Text(s) => safe_text(s),
                Cell::Money(d) => money_text(*d),
                Cell::Int(n) => n.to_string(),
                Cell::Empty => String::new(),
            }))?;
        }
        let body = w
            .into_inner()
            .map_err(|e| ExportError::Buffer(e.to_string()))?;
        out.extend_from_slice(&body);
    }
    Ok(out)
}

/// The sheets as an XLSX workbook: a bold header row, money as numbers formatted `#,##0.00`.
pub fn xlsx(sheets: &[Sheet]) -> Result<Vec<u8>, ExportError> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold().set_align(FormatAlign::Center);
    let money = Format::new().set_num_format("#,##0.00");
    for sheet in sheets {
        let ws = book.add_worksheet();
        ws.set_name(&sheet.name)?;
        for (c, h) in sheet.header.iter().enumerate() {
            ws.write_string_with_format(0, col(c), h, &bold)?;
        }
        for (c, w) in sheet.widths.iter().enumerate() {
            ws.set_column_width(col(c), *w)?;
        }
        for (r, row) in sheet.rows.iter().enumerate() {
            let r = u32::try_from(r + 1).unwrap_or(u32::MAX);
            for (c, cell) in row.iter().enumerate() {
                match cell {
                    Cell::Text(s) => {
                        ws.write_string(r, col(c), s)?;
                    }
                    Cell::Money(d) => {
                        ws.write_number_with_format(r, col(c), money_cell(*d), &money)?;
                    }
                    Cell::Int(n) => {
                        ws.write_number(r, col(c), *n as f64)?;
                    }
                    Cell::Empty => {}
                }
            }
        }
    }
    Ok(book.save_to_buffer()?)
}

fn col(c: usize) -> u16 {
    u16::try_from(c).unwrap_or(u16::MAX)
}

/// The content type of a PDF export.
pub const PDF_CONTENT_TYPE: &str = "application/pdf";

/// The sheets as a printable PDF (US Letter landscape, see [`crate::print::table_pdf`]): `title`
/// and `subtitle_lines` (period, filters, "Generado: … (GMT-6)", written by the caller) on top,
/// then one table per sheet titled with its name. Money right-aligned with thousands separators
/// and two decimals, negatives in parentheses; `widths` are ignored (columns fit their content);
/// text is printed as is (no CSV-injection quote: a PDF runs no formulas).
pub fn pdf(
    title: &str,
    subtitle_lines: &[String],
    sheets: &[Sheet],
) -> Result<Vec<u8>, ExportError> {
    use crate::print::table_pdf::{self, PdfCell, PdfTable};
    let tables: Vec<PdfTable> = sheets
        .iter()
        .map(|sheet| PdfTable {
            title: sheet.name.clone(),
            header: sheet.header.clone(),
            rows: sheet
                .rows
                .iter()
                .map(|row| {
                    row.iter()
                        .map(|c| match c {
                            Cell::Text(s) => PdfCell::Text(s.clone()),
                            Cell::Money(d) => PdfCell::Money(*d),
                            Cell::Int(n) => PdfCell::Int(*n),
                            Cell::Empty => PdfCell::Empty,
                        })
                        .collect()
                })
                .collect(),
        })
        .collect();
    table_pdf::render(title, subtitle_lines, &tables).map_err(|e| ExportError::Pdf(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sheet() -> Sheet {
        Sheet {
            name: "Hoja".into(),
            header: vec!["A".into(), "B".into(), "C".into()],
            rows: vec![vec![
                Cell::text("x, \"y\""),
                Cell::Money("-8929".parse().unwrap()),
                Cell::Int(3),
            ]],
            widths: vec![],
        }
    }

    #[test]
    fn money_has_two_exact_decimals() {
        assert_eq!(money_text("190".parse().unwrap()), "190.00");
        assert_eq!(money_text("1112.875".parse().unwrap()), "1112.88");
        assert_eq!(money_text("-0.005".parse().unwrap()), "-0.01");
        assert_eq!(
            money_text("12345678901234.1".parse().unwrap()),
            "12345678901234.10"
        );
    }

    #[test]
    fn csv_has_bom_crlf_and_quotes() {
        let body = csv(&[sheet()]).unwrap();
        assert_eq!(&body[..3], &[0xEF, 0xBB, 0xBF]);
        let text = String::from_utf8(body[3..].to_vec()).unwrap();
        assert_eq!(text, "A,B,C\r\n\"x, \"\"y\"\"\",-8929.00,3\r\n");
    }

    #[test]
    fn xlsx_is_a_zip() {
        let body = xlsx(&[sheet()]).unwrap();
        assert_eq!(&body[..4], b"PK\x03\x04");
    }
}

#[cfg(test)]
mod csv_injection_tests {
    use super::safe_text;

    #[test]
    fn formulas_are_neutralised() {
        assert_eq!(safe_text("=1+1"), "'=1+1");
        assert_eq!(safe_text("+50"), "'+50");
        assert_eq!(safe_text("-x"), "'-x");
        assert_eq!(safe_text("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(safe_text("\tx"), "'\tx");
        assert_eq!(safe_text("María"), "María");
        assert_eq!(safe_text(""), "");
    }
}
