//! Use cases over sorteos (filled in by the catalog issue).
