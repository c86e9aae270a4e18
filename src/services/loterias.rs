//! Use cases over loterias (filled in by the catalog issue).
