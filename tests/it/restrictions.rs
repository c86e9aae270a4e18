//! restrictions API tests.
