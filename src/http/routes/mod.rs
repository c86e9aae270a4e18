//! One router per feature, merged in `http::api_routes`.

pub mod account_statements;
pub mod accounts_movements;
pub mod accounts_statements;
pub mod activity;
pub mod auth;
pub mod bancas;
pub mod commissions;
pub mod diagnostics;
pub mod evaluated_summary;
pub mod health;
pub mod listas;
pub mod loterias;
pub mod multiplier_overrides;
pub mod multipliers;
pub mod restrictions;
pub mod sorteos;
pub mod sorteos_auto;
pub mod ticket_payments;
pub mod ticket_reads;
pub mod tickets;
pub mod users;
pub mod vendedores;
pub mod ventanas;
