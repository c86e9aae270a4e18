//! Placeholder while the feature is written (issue 10); replaced by its routes.

use axum::Router;

use crate::app::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
}
