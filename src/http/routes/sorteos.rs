//! Catalog routes: sorteos (filled in by the catalog issue).

use axum::Router;

use crate::app::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
}
