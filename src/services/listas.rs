//! Use cases over listas (filled in by the catalog issue).
