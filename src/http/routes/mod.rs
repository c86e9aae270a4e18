//! One router per feature, merged in `http::api_routes`.

pub mod health;
