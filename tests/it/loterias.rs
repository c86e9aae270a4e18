//! loterias API tests.
