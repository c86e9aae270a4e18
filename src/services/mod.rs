//! Use cases. Each owns its transaction: it either commits completely or changes nothing.

pub mod admin;
