//! Queries over ventanas.
