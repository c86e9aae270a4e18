//! Use cases over bancas (filled in by the identity issue).
