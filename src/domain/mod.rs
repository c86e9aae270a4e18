//! Pure domain types and rules: no database, no HTTP.

pub mod authz;
pub mod numbers;
pub mod password;
pub mod roles;
