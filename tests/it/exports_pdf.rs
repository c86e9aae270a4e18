//! The three export formats of one set of sheets, read back by independent readers: the PDF
//! with `lopdf` (text shown on each page, decoded through the fonts' WinAnsiEncoding), the CSV
//! with the `csv` reader and the XLSX with `calamine`. Every cell must come back, in order, with
//! the expected formatting (PDF: thousands separators, two decimals, negatives in parentheses;
//! CSV: exact decimals, formula-like text quoted; XLSX: numbers). No database is involved.
//!
//! `EXPORT_PREVIEW_DIR=/some/dir cargo test --test it exports_pdf::write_samples` writes the
//! sample files for `scripts/render-exports.sh`.

use std::io::Cursor;
use std::str::FromStr;

use banca::services::exports::{self, Cell, Sheet};
use calamine::{open_workbook_from_rs, Data, Reader, Xlsx};
use chrono::TimeZone;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

/// A cell with what each reader must see: PDF text, CSV text.
struct Expect {
    cell: Cell,
    pdf: &'static str,
    csv: &'static str,
}

fn t(s: &'static str) -> Expect {
    Expect {
        cell: Cell::text(s),
        pdf: s,
        csv: s,
    }
}

fn m(v: &str, pdf: &'static str, csv: &'static str) -> Expect {
    Expect {
        cell: Cell::Money(dec(v)),
        pdf,
        csv,
    }
}

fn n(v: i64, pdf: &'static str, csv: &'static str) -> Expect {
    Expect {
        cell: Cell::Int(v),
        pdf,
        csv,
    }
}

fn empty() -> Expect {
    Expect {
        cell: Cell::Empty,
        pdf: "",
        csv: "",
    }
}

struct ExpectSheet {
    name: &'static str,
    header: Vec<&'static str>,
    rows: Vec<Vec<Expect>>,
}

/// A statement-like export: a per-day summary (with a TOTAL row), a per-sorteo breakdown long
/// enough to continue over pages, and a movements sheet with user-written text.
fn samples() -> Vec<ExpectSheet> {
    // 90 rows: the first three with amounts worked out by hand (ventas 1000 + 10.25·i, balance
    // ventas − 900·i, negative for i = 2), then repeated rows with half-cent amounts.
    let mut breakdown = vec![
        vec![
            t("2026-11-01"),
            t("Lotería Tica"),
            t("TICA 1:55 PM"),
            m("1000", "1,000.00", "1000.00"),
            m("1000", "1,000.00", "1000.00"),
            n(1, "1", "1"),
        ],
        vec![
            t("2026-11-02"),
            t("Nica Diaria"),
            t("TICA 1:55 PM"),
            m("1010.25", "1,010.25", "1010.25"),
            m("110.25", "110.25", "110.25"),
            n(2, "2", "2"),
        ],
        vec![
            t("2026-11-03"),
            t("Panamá Ñandú"),
            t("TICA 1:55 PM"),
            m("1020.50", "1,020.50", "1020.50"),
            m("-779.50", "(779.50)", "-779.50"),
            n(3, "3", "3"),
        ],
    ];
    for _ in 3..90 {
        breakdown.push(vec![
            t("2026-11-04"),
            t("Lotería Nacional de Beneficencia de Costa Rica — Chances del Domingo"),
            t("NICA 9:00 PM"),
            m("12345678.905", "12,345,678.91", "12345678.91"),
            m("-0.005", "(0.01)", "-0.01"),
            n(1234, "1,234", "1234"),
        ]);
    }
    vec![
        ExpectSheet {
            name: "Resumen por Día",
            header: vec![
                "Fecha",
                "Listero",
                "Ventas",
                "Premios",
                "Com. Listero",
                "Com. Vendedor",
                "Balance",
                "Saldo",
                "Tickets",
            ],
            rows: vec![
                vec![
                    t("2026-11-01"),
                    t("TODOS"),
                    m("15000", "15,000.00", "15000.00"),
                    m("18000", "18,000.00", "18000.00"),
                    m("750.125", "750.13", "750.13"),
                    m("300", "300.00", "300.00"),
                    m("-4050.125", "(4,050.13)", "-4050.13"),
                    m("-1234.5", "(1,234.50)", "-1234.50"),
                    n(42, "42", "42"),
                ],
                vec![
                    t("2026-11-01"),
                    t("  San José Centro"),
                    m("9000", "9,000.00", "9000.00"),
                    m("0", "0.00", "0.00"),
                    m("450", "450.00", "450.00"),
                    m("180", "180.00", "180.00"),
                    m("8370", "8,370.00", "8370.00"),
                    empty(),
                    n(30, "30", "30"),
                ],
                vec![
                    t("TOTAL"),
                    empty(),
                    m("15000", "15,000.00", "15000.00"),
                    m("18000", "18,000.00", "18000.00"),
                    m("750.125", "750.13", "750.13"),
                    m("300", "300.00", "300.00"),
                    m("-4050.125", "(4,050.13)", "-4050.13"),
                    m("1234567.891", "1,234,567.89", "1234567.89"),
                    n(1_000_000, "1,000,000", "1000000"),
                ],
            ],
        },
        ExpectSheet {
            name: "Desglose por Sorteo",
            header: vec!["Fecha", "Lotería", "Sorteo", "Ventas", "Balance", "Tickets"],
            rows: breakdown,
        },
        ExpectSheet {
            name: "Movimientos",
            header: vec!["Fecha Mov.", "Tipo", "Monto", "Registrado Por", "Notas"],
            rows: vec![
                vec![
                    t("2026-11-02"),
                    t("Pago"),
                    m("500", "500.00", "500.00"),
                    t("María Peña"),
                    Expect {
                        cell: Cell::text("=HYPERLINK(\"x\")"),
                        pdf: "=HYPERLINK(\"x\")",
                        csv: "'=HYPERLINK(\"x\")",
                    },
                ],
                vec![
                    t("2026-11-03"),
                    t("Cobro"),
                    m("-75.5", "(75.50)", "-75.50"),
                    t("Ángel Núñez"),
                    t("Comisión ajustada, \"según acuerdo\""),
                ],
            ],
        },
    ]
}

fn sheets(samples: &[ExpectSheet]) -> Vec<Sheet> {
    samples
        .iter()
        .map(|s| Sheet {
            name: s.name.to_string(),
            header: s.header.iter().map(|h| h.to_string()).collect(),
            rows: s
                .rows
                .iter()
                .map(|r| r.iter().map(|e| e.cell.clone()).collect())
                .collect(),
            widths: vec![12.0; s.header.len()],
        })
        .collect()
}

const TITLE: &str = "Estado de Cuenta";

fn subtitles() -> Vec<String> {
    vec![
        "Período: 2026-11-01 a 2026-11-30".into(),
        "Dimensión: Listero — Ventana: todas".into(),
        // 14:30 UTC is 08:30 in Costa Rica.
        banca::print::table_pdf::generated_line(
            &chrono::Utc
                .with_ymd_and_hms(2026, 12, 1, 14, 30, 0)
                .unwrap()
                .with_timezone(&chrono_tz::America::Costa_Rica),
        ),
    ]
}

/// The strings shown on each page, in content-stream order, decoded through each font's
/// encoding by lopdf.
fn pdf_pages(pdf: &[u8]) -> Vec<Vec<String>> {
    let doc = lopdf::Document::load_mem(pdf).expect("the PDF parses");
    let mut pages = Vec::new();
    for (_, page_id) in doc.get_pages() {
        let fonts = doc.get_page_fonts(page_id).unwrap();
        let encodings: Vec<(Vec<u8>, lopdf::Encoding)> = fonts
            .iter()
            .map(|(name, font)| (name.clone(), font.get_font_encoding(&doc).unwrap()))
            .collect();
        let content =
            lopdf::content::Content::decode(&doc.get_page_content(page_id).unwrap()).unwrap();
        let mut current = None;
        let mut shown = Vec::new();
        for op in &content.operations {
            match op.operator.as_str() {
                "Tf" => {
                    let name = op.operands[0].as_name().unwrap();
                    current = encodings.iter().position(|(n, _)| n == name);
                }
                "Tj" => {
                    let bytes = op.operands[0].as_str().unwrap();
                    let enc = &encodings[current.expect("a font is set before text")].1;
                    shown.push(lopdf::Document::decode_text(enc, bytes).unwrap());
                }
                _ => {}
            }
        }
        pages.push(shown);
    }
    pages
}

/// Finds `expected` in order inside `tokens` (a header may have been wrapped into two shown
/// lines). Returns the index after the last match, or the first missing string.
fn find_in_order(tokens: &[String], expected: &[String]) -> Result<usize, String> {
    let mut at = 0;
    for e in expected {
        let mut found = None;
        for k in at..tokens.len() {
            if tokens[k] == *e
                || (k + 1 < tokens.len() && format!("{} {}", tokens[k], tokens[k + 1]) == *e)
            {
                found = Some(k + 1);
                break;
            }
        }
        match found {
            Some(next) => at = next,
            None => return Err(format!("{e:?} not found after token {at}")),
        }
    }
    Ok(at)
}

#[test]
fn pdf_shows_every_cell_in_order() {
    let samples = samples();
    let pdf = exports::pdf(TITLE, &subtitles(), &sheets(&samples)).unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    assert_eq!(exports::PDF_CONTENT_TYPE, "application/pdf");
    let pages = pdf_pages(&pdf);
    assert!(
        pages.len() >= 3,
        "the breakdown continues: {} pages",
        pages.len()
    );
    let all: Vec<String> = pages.iter().flatten().cloned().collect();

    let mut expected: Vec<String> = vec![TITLE.to_string()];
    expected.extend(subtitles());
    for s in &samples {
        expected.push(s.name.to_string());
        expected.extend(s.header.iter().map(|h| h.to_string()));
        for row in &s.rows {
            expected.extend(
                row.iter()
                    .filter(|e| !e.pdf.is_empty())
                    .map(|e| e.pdf.trim_end().to_string()),
            );
        }
    }
    if let Err(e) = find_in_order(&all, &expected) {
        panic!("{e}\n{all:#?}");
    }
    // No amount is printed with a minus sign.
    assert!(
        !all.iter()
            .any(|t| t.starts_with('-') && t[1..].starts_with(char::is_numeric)),
        "a negative amount without parentheses"
    );

    // Every page: footer "Página i de n"; every continuation page of the breakdown repeats its
    // title "(cont.)" and its header before its rows.
    let count = pages.len();
    for (i, page) in pages.iter().enumerate() {
        let footer = format!("Página {} de {count}", i + 1);
        assert_eq!(page.last(), Some(&footer), "page {}", i + 1);
        if page.iter().any(|t| t == "Desglose por Sorteo (cont.)") {
            let header: Vec<String> = samples[1].header.iter().map(|h| h.to_string()).collect();
            let after_header = find_in_order(page, &header).unwrap();
            let first_row = page.iter().position(|t| t.starts_with("2026-11-")).unwrap();
            assert!(
                first_row >= after_header,
                "page {}: header after rows",
                i + 1
            );
        }
    }
    assert!(
        pages[1..]
            .iter()
            .any(|p| p.contains(&"Desglose por Sorteo (cont.)".to_string())),
        "the breakdown continues with its title marked (cont.)"
    );
    // The breakdown's 90 rows are all there.
    let rows = all
        .iter()
        .filter(|t| *t == "TICA 1:55 PM" || *t == "NICA 9:00 PM")
        .count();
    assert_eq!(rows, 90);

    // lopdf's own text extraction agrees on the accented and negative texts.
    let doc = lopdf::Document::load_mem(&pdf).unwrap();
    let numbers: Vec<u32> = doc.get_pages().keys().copied().collect();
    let text = doc.extract_text(&numbers).unwrap();
    for needle in [
        "Lotería Tica",
        "Panamá Ñandú",
        "(4,050.13)",
        "Ángel Núñez",
        "Comisión ajustada",
        "Generado: 01/12/2026 08:30 (GMT-6)",
    ] {
        assert!(text.contains(needle), "{needle} missing");
    }
}

#[test]
fn csv_reads_back_cell_by_cell() {
    let samples = samples();
    let body = exports::csv(&sheets(&samples)).unwrap();
    assert_eq!(&body[..3], b"\xEF\xBB\xBF");
    let text = std::str::from_utf8(&body[3..]).unwrap();
    assert!(text.contains("\r\n"));
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let records: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    let mut expected: Vec<Vec<String>> = Vec::new();
    for (i, s) in samples.iter().enumerate() {
        if i > 0 {
            expected.push(vec![s.name.to_string()]);
        }
        expected.push(s.header.iter().map(|h| h.to_string()).collect());
        for row in &s.rows {
            expected.push(row.iter().map(|e| e.csv.to_string()).collect());
        }
    }
    assert_eq!(records.len(), expected.len());
    for (k, (got, want)) in records.iter().zip(&expected).enumerate() {
        assert_eq!(got, want, "record {k}");
    }
    // Rows 3.. of the breakdown carry the same exact decimals.
    assert!(text.contains(",12345678.91,-0.01,1234\r\n"));
}

#[test]
fn xlsx_reads_back_cell_by_cell() {
    let samples = samples();
    let body = exports::xlsx(&sheets(&samples)).unwrap();
    let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(body)).unwrap();
    assert_eq!(
        book.sheet_names(),
        samples
            .iter()
            .map(|s| s.name.to_string())
            .collect::<Vec<_>>()
    );
    for s in &samples {
        let range = book.worksheet_range(s.name).unwrap();
        let rows: Vec<&[Data]> = range.rows().collect();
        assert_eq!(rows.len(), s.rows.len() + 1, "{}", s.name);
        let header: Vec<String> = rows[0].iter().map(|c| c.to_string()).collect();
        assert_eq!(header, s.header, "{}", s.name);
        for (r, row) in s.rows.iter().enumerate() {
            for (c, e) in row.iter().enumerate() {
                let got = rows[r + 1].get(c).cloned().unwrap_or(Data::Empty);
                match &e.cell {
                    Cell::Text(v) => assert_eq!(got, Data::String(v.clone()), "{} {r},{c}", s.name),
                    Cell::Money(v) => {
                        // The cell holds the amount rounded to cents.
                        let cents = v
                            .round_dp_with_strategy(
                                2,
                                rust_decimal::RoundingStrategy::MidpointAwayFromZero,
                            )
                            .to_f64()
                            .unwrap();
                        assert_eq!(got, Data::Float(cents), "{} {r},{c}", s.name);
                        assert_eq!(format!("{cents:.2}"), e.csv, "{} {r},{c}", s.name);
                    }
                    Cell::Int(v) => assert_eq!(got, Data::Float(*v as f64), "{} {r},{c}", s.name),
                    Cell::Empty => assert_eq!(got, Data::Empty, "{} {r},{c}", s.name),
                }
            }
        }
    }
}

/// Writes `sample.pdf`, `sample.xlsx` and `sample.csv` into `EXPORT_PREVIEW_DIR` (for
/// `scripts/render-exports.sh`); does nothing without it.
#[test]
fn write_samples() {
    let Ok(dir) = std::env::var("EXPORT_PREVIEW_DIR") else {
        return;
    };
    let dir = std::path::Path::new(&dir);
    let sheets = sheets(&samples());
    std::fs::write(
        dir.join("sample.pdf"),
        exports::pdf(TITLE, &subtitles(), &sheets).unwrap(),
    )
    .unwrap();
    std::fs::write(dir.join("sample.xlsx"), exports::xlsx(&sheets).unwrap()).unwrap();
    std::fs::write(dir.join("sample.csv"), exports::csv(&sheets).unwrap()).unwrap();
}
