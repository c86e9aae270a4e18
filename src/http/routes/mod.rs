//! One router per feature, merged in `http::api_routes`.

pub mod activity;
pub mod auth;
pub mod bancas;
pub mod health;
pub mod users;
pub mod vendedores;
pub mod ventanas;
