//! Printable documents, rendered in-process with no I/O: pure functions from plain data to bytes.
//!
//! - [`receipt`]: the thermal ticket receipt served by `GET /tickets/:id/image` (PNG). Two steps:
//!   [`receipt::layout`] turns a [`receipt::ReceiptData`] into a pixel-independent
//!   [`receipt::Layout`] (pinned by golden files), and [`receipt::render_png`] rasterises it with the
//!   embedded DejaVu Sans Mono font, a CODE128 barcode and a QR code.
//! - [`summary_pdf`]: the "lista" (sales per number, a 100-number grid per document) as a PDF that
//!   uses the built-in PDF fonts, so nothing is embedded.
//! - [`table_pdf`]: titled tables (report exports: title, period, tables with money right-aligned
//!   and negatives in parentheses, headers repeated on every page, "Página i de n"), built-in
//!   fonts as well; `services::exports::pdf` turns export sheets into it.
//!
//! Callers (HTTP handlers) gather and format the data (business-local dates, print settings); these
//! modules never touch the database, the clock or the network. Money is `rust_decimal::Decimal`
//! throughout; floats are used only for pixel and point geometry.

mod pdf_base;
pub mod receipt;
pub mod summary_pdf;
pub mod table_pdf;

/// Why a document could not be rendered. Rendering never panics; anything that can go wrong
/// surfaces here instead.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// An embedded font could not be parsed (would mean a corrupted build).
    #[error("embedded font could not be loaded: {0}")]
    Font(String),
    /// The output would exceed the size limits (e.g. a receipt taller than the maximum height).
    #[error("document too large: {0}")]
    TooLarge(String),
    /// The image encoder failed.
    #[error("image encoding failed: {0}")]
    Encode(String),
}
