//! The one error shape of the API: `{"success":false,"message","code","details"?,"requestId"}`.
//! Messages are Spanish (people read them); codes are stable English (programs read them).
//! Internal causes are logged once here and never sent to the client.

use std::borrow::Cow;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::http::middleware::current_request_id;

/// One field-level problem in `details`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ErrorDetail {
    pub field: String,
    pub code: String,
    pub issue: String,
}

/// An error as the client sees it.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: Cow<'static, str>,
    pub message: Cow<'static, str>,
    pub details: Vec<ErrorDetail>,
    /// Seconds for a `Retry-After` header (429 and 503).
    pub retry_after: Option<u64>,
    /// Extra payload for the few errors that carry one (e.g. `readyz` checks); boxed to keep
    /// `Result<_, ApiError>` small.
    pub data: Option<Box<serde_json::Value>>,
    /// `details` entries with more than field/code/issue (e.g. the number and the amount still
    /// available of a sales limit); sent instead of `details` when set.
    pub rich_details: Option<Box<serde_json::Value>>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Details<'a> {
    Plain(&'a [ErrorDetail]),
    Rich(&'a serde_json::Value),
}

impl Details<'_> {
    fn is_empty(&self) -> bool {
        match self {
            Details::Plain(d) => d.is_empty(),
            Details::Rich(_) => false,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ErrorBody<'a> {
    success: bool,
    message: &'a str,
    code: &'a str,
    #[serde(skip_serializing_if = "Details::is_empty")]
    details: Details<'a>,
    request_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: &'a Option<Box<serde_json::Value>>,
}

impl ApiError {
    pub fn new(
        status: StatusCode,
        code: impl Into<Cow<'static, str>>,
        message: impl Into<Cow<'static, str>>,
    ) -> Self {
        ApiError {
            status,
            code: code.into(),
            message: message.into(),
            details: Vec::new(),
            retry_after: None,
            data: None,
            rich_details: None,
        }
    }

    pub fn with_details(mut self, details: Vec<ErrorDetail>) -> Self {
        self.details = details;
        self
    }

    /// `details` as given (each entry should still carry `field`, `code` and `issue`).
    pub fn with_rich_details(mut self, details: serde_json::Value) -> Self {
        self.rich_details = Some(Box::new(details));
        self
    }

    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    pub fn with_data(mut self, data: serde_json::Value) -> Self {
        self.data = Some(Box::new(data));
        self
    }

    pub fn bad_request(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "NOT_FOUND", "Recurso no encontrado")
    }

    pub fn service_unavailable(code: &'static str, message: &'static str) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, code, message).with_retry_after(1)
    }

    pub fn database_unavailable() -> Self {
        Self::service_unavailable(
            "DATABASE_UNAVAILABLE",
            "Servicio de base de datos temporalmente no disponible",
        )
    }

    /// A 500 whose cause is logged here, once, and never sent to the client.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL_ERROR",
            "Error interno del servidor",
        )
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(err: sqlx::Error) -> Self {
        if crate::db::pools::is_connection_error(&err) {
            tracing::warn!(error = %err, "database unavailable");
            return ApiError::database_unavailable();
        }
        match &err {
            sqlx::Error::RowNotFound => ApiError::not_found(),
            sqlx::Error::Database(db) => match db.code().as_deref() {
                Some("23505") => {
                    ApiError::new(StatusCode::CONFLICT, "CONFLICT", "El registro ya existe")
                }
                Some("23503") => ApiError::bad_request(
                    "INVALID_REFERENCE",
                    "La información hace referencia a un registro que no existe",
                ),
                // Text PostgreSQL cannot store (a NUL character) and numbers out of a
                // column's range are the client's input, not a server fault.
                Some("22021") | Some("22P05") => ApiError::bad_request(
                    "INVALID_TEXT",
                    "El texto enviado contiene caracteres no permitidos",
                ),
                Some("22003") => ApiError::bad_request(
                    "VALUE_OUT_OF_RANGE",
                    "Un valor numérico está fuera del rango permitido",
                ),
                Some("40001") | Some("40P01") => ApiError::new(
                    StatusCode::CONFLICT,
                    "TRANSACTION_CONFLICT",
                    "La operación chocó con otra simultánea; intente de nuevo",
                )
                .with_retry_after(1),
                Some("57014") => ApiError::service_unavailable(
                    "REQUEST_TIMEOUT",
                    "La solicitud tardó demasiado; intente de nuevo",
                ),
                _ => ApiError::internal(&err),
            },
            _ => ApiError::internal(&err),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            success: false,
            message: &self.message,
            code: &self.code,
            details: match &self.rich_details {
                Some(rich) => Details::Rich(rich),
                None => Details::Plain(&self.details),
            },
            request_id: current_request_id().unwrap_or_default(),
            data: &self.data,
        };
        let bytes = serde_json::to_vec(&body).unwrap_or_else(|_| {
            br#"{"success":false,"message":"Error interno del servidor","code":"INTERNAL_ERROR"}"#
                .to_vec()
        });
        let mut res = (self.status, bytes).into_response();
        res.extensions_mut()
            .insert(crate::observability::ErrorCode(self.code.clone()));
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        if let Some(secs) = self.retry_after {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        res
    }
}
