//! The success envelope: `{"success":true,"data":…,"meta"?:…}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

/// A successful response in the envelope.
pub struct ApiResponse<T> {
    status: StatusCode,
    data: T,
    meta: Option<serde_json::Value>,
}

#[derive(Serialize)]
struct Body<T> {
    success: bool,
    data: T,
    #[serde(skip_serializing_if = "Option::is_none")]
    meta: Option<serde_json::Value>,
}

impl<T: Serialize> ApiResponse<T> {
    /// 200 with `data`.
    pub fn ok(data: T) -> Self {
        ApiResponse {
            status: StatusCode::OK,
            data,
            meta: None,
        }
    }

    /// 201 with `data`.
    pub fn created(data: T) -> Self {
        ApiResponse {
            status: StatusCode::CREATED,
            data,
            meta: None,
        }
    }

    pub fn with_meta(mut self, meta: impl Serialize) -> Self {
        self.meta = serde_json::to_value(meta).ok();
        self
    }
}

impl<T: Serialize> IntoResponse for ApiResponse<T> {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(Body {
                success: true,
                data: self.data,
                meta: self.meta,
            }),
        )
            .into_response()
    }
}
