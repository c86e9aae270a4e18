//! Use cases over users (filled in by the identity issue).
