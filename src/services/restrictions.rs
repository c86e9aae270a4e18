//! Use cases over restrictions (filled in by the catalog issue).
