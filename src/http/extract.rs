//! House extractors: they turn every rejection into the API's error shape, so a malformed body
//! is a 400 `INVALID_JSON`, a wrong content type a 415 and an oversize body a 413 — never a 500.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use crate::http::error::{ApiError, ErrorDetail};

/// A JSON body. Use this instead of `axum::Json` in handlers.
pub struct AppJson<T>(pub T);

pub fn payload_too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "PAYLOAD_TOO_LARGE",
        "El cuerpo de la solicitud es demasiado grande",
    )
}

pub fn unsupported_media_type() -> ApiError {
    ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "UNSUPPORTED_MEDIA_TYPE",
        "El contenido debe enviarse como application/json",
    )
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::MissingJsonContentType(_) => unsupported_media_type(),
            JsonRejection::JsonSyntaxError(_) => ApiError::bad_request(
                "INVALID_JSON",
                "El cuerpo de la solicitud no es JSON válido",
            ),
            JsonRejection::JsonDataError(e) => {
                // serde's message names the field and the expected type; no internal state.
                let issue = std::error::Error::source(&e)
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| e.body_text());
                let field = issue
                    .split('`')
                    .nth(1)
                    .filter(|_| issue.contains("field"))
                    .unwrap_or("(root)")
                    .to_string();
                ApiError::bad_request("VALIDATION_ERROR", "Hay errores en la información enviada")
                    .with_details(vec![ErrorDetail {
                        field,
                        code: "invalid_type".into(),
                        issue,
                    }])
            }
            JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                payload_too_large()
            }
            other => ApiError::bad_request(
                "INVALID_BODY",
                format!(
                    "No se pudo leer el cuerpo de la solicitud ({})",
                    other.status()
                ),
            ),
        }
    }
}

impl<S, T> FromRequest<S> for AppJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let axum::Json(value) = axum::Json::<T>::from_request(req, state).await?;
        Ok(AppJson(value))
    }
}
