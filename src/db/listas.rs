//! Queries over listas.
