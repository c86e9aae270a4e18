//! Queries over multipliers.
