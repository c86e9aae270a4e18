//! Use cases. Each owns its transaction: it either commits completely or changes nothing.

pub mod activity;
pub mod admin;
pub mod auth;
pub mod bancas;
pub mod commissions;
pub mod evaluated_summary;
pub mod evaluation;
pub mod exports;
pub mod listas;
pub mod loterias;
pub mod movements;
pub mod multipliers;
pub mod payments;
pub mod reconcile;
pub mod restrictions;
pub mod sale;
pub mod sorteos;
pub mod statement_reads;
pub mod statements;
pub mod throttle;
pub mod ticket_view;
pub mod tickets;
pub mod tokens;
pub mod users;
pub mod ventanas;
