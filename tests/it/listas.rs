//! listas API tests.
