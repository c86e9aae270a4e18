//! Pure domain types and rules: no database, no HTTP.

pub mod authz;
pub mod commission;
pub mod multipliers;
pub mod numbers;
pub mod password;
pub mod roles;
pub mod rules;
pub mod rules_json;
pub mod schedule;
pub mod ticket_number;
