//! One router per feature, merged in `http::api_routes`.

pub mod auth;
pub mod health;
