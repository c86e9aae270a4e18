//! Use cases over ventanas (filled in by the identity issue).
