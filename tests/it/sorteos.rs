//! sorteos API tests.
