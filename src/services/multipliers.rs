//! Use cases over multipliers (filled in by the catalog issue).
