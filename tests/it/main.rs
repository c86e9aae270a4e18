//! Integration tests against a real PostgreSQL (TEST_DATABASE_URL, default
//! postgres://postgres@127.0.0.1:5432/postgres) and the real router and binary.

// Tests inspect the database directly.
#![allow(clippy::disallowed_methods)]

mod common;

mod admin_cli;
mod config_cli;
mod http_contract;
mod local_default;
mod migrations;
mod replica;
mod shutdown;
