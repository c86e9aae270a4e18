//! Integration tests against a real PostgreSQL (TEST_DATABASE_URL, default
//! postgres://postgres@127.0.0.1:5432/postgres) and the real router and binary.

// Tests inspect the database directly.
#![allow(clippy::disallowed_methods)]

mod common;
mod fixtures;

mod accounts_month;
mod accounts_movements;
mod accounts_statements;
mod activity;
mod admin_cli;
mod app_release;
mod auth;
mod bancas;
mod bench_eval;
mod bench_reports;
mod cierres;
mod client_contract;
mod commissions;
mod config_cli;
mod contract_shape;
mod dashboard;
mod diagnostics;
mod evaluated_summary;
mod evaluation;
mod exports_pdf;
mod http_contract;
mod import;
mod isolation;
mod jobs_accounts;
mod jobs_cli;
mod jobs_engine;
mod jobs_maintenance;
mod jobs_sorteos;
mod listas;
mod local_default;
mod loterias;
mod metrics;
mod migrations;
mod multipliers;
mod openapi;
mod payments;
mod pgbouncer;
mod rate_limits;
mod redis_cache;
mod replica;
mod replica_streaming;
mod report_cache;
mod reports;
mod reports_crosscheck;
mod restrictions;
mod sales;
mod sentry;
mod shutdown;
mod sigterm_load;
mod sorteos;
mod statements;
mod telemetry;
mod ticket_reads;
mod users;
mod vendedores;
mod ventanas;
mod ventas;
