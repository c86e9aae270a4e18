//! multipliers API tests.
