//! Queries over loterias.
