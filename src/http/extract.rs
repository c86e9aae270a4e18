//! House extractors: they turn every rejection into the API's error shape, so a malformed body
//! is a 400 `INVALID_JSON`, a wrong content type a 415 and an oversize body a 413 — never a 500.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderMap, StatusCode};
use serde::de::DeserializeOwned;

use crate::app::AppState;
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

/// Query parameters. Use instead of `axum::extract::Query`: a bad value is a 400 in house shape.
pub struct AppQuery<T>(pub T);

impl<S, T> axum::extract::FromRequestParts<S> for AppQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let de = serde_urlencoded::Deserializer::new(url::form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(AppQuery)
            .map_err(|e| {
                let field = e.path().to_string();
                let issue = e.inner().to_string();
                let field = if field == "." {
                    issue
                        .split('`')
                        .nth(1)
                        .map(str::to_string)
                        .unwrap_or_else(|| "(root)".into())
                } else {
                    field
                };
                ApiError::bad_request(
                    "VALIDATION_ERROR",
                    format!("Error en los filtros de búsqueda ({field}): {issue}"),
                )
                .with_details(vec![ErrorDetail {
                    field,
                    code: "invalid_type".into(),
                    issue,
                }])
            })
    }
}

/// A JSON body that may be absent (DELETE and restore routes accept `{}` or nothing).
pub struct OptionalJson<T>(pub Option<T>);

impl<S, T> FromRequest<S> for OptionalJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let has_body = req
            .headers()
            .get(axum::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .map(|v| v != "0")
            .unwrap_or_else(|| {
                req.headers()
                    .contains_key(axum::http::header::TRANSFER_ENCODING)
            });
        if !has_body {
            return Ok(OptionalJson(None));
        }
        let AppJson(v) = AppJson::<T>::from_request(req, state).await?;
        Ok(OptionalJson(Some(v)))
    }
}

/// Serde helpers for query strings.
pub mod de {
    use serde::{Deserialize, Deserializer};

    /// `true/false/1/0` (decision 2: `"false"` means false); empty means absent.
    pub fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
        let s: Option<String> = Option::deserialize(d)?;
        match s.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(v) => crate::config::parse_bool(v).map(Some).ok_or_else(|| {
                serde::de::Error::custom(format!("se esperaba true o false, se recibió {v:?}"))
            }),
        }
    }

    /// A uuid, where `all` and the empty string mean absent.
    pub fn opt_uuid_or_all<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<uuid::Uuid>, D::Error> {
        let s: Option<String> = Option::deserialize(d)?;
        match s.as_deref().map(str::trim) {
            None | Some("") | Some("all") => Ok(None),
            Some(v) => uuid::Uuid::parse_str(v)
                .map(Some)
                .map_err(|_| serde::de::Error::custom(format!("no es un UUID válido: {v:?}"))),
        }
    }

    /// A trimmed string where empty means absent.
    pub fn opt_trimmed<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        let s: Option<String> = Option::deserialize(d)?;
        Ok(s.map(|v| v.trim().to_string()).filter(|v| !v.is_empty()))
    }
}

/// The TCP peer of the request, when the server recorded it.
pub struct PeerAddr(pub Option<std::net::SocketAddr>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for PeerAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(PeerAddr(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0),
        ))
    }
}

/// Path parameters. Use instead of `axum::extract::Path`: a malformed id is a 400
/// `VALIDATION_ERROR` naming the parameter, in house shape.
pub struct AppPath<T>(pub T);

impl<S, T> axum::extract::FromRequestParts<S> for AppPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        use axum::extract::path::ErrorKind;
        use axum::extract::rejection::PathRejection;
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(AppPath(v)),
            Err(PathRejection::FailedToDeserializePathParams(e)) => {
                // The route's parameter names, to say which one is wrong.
                let names: Vec<String> =
                    axum::extract::RawPathParams::from_request_parts(parts, state)
                        .await
                        .map(|p| p.iter().map(|(k, _)| k.to_string()).collect())
                        .unwrap_or_default();
                let field = match e.kind() {
                    ErrorKind::ParseErrorAtKey { key, .. } => key.clone(),
                    ErrorKind::ParseErrorAtIndex { index, .. } => names
                        .get(*index)
                        .cloned()
                        .unwrap_or_else(|| format!("#{index}")),
                    _ if names.len() == 1 => names[0].clone(),
                    _ => "(path)".to_string(),
                };
                let issue = "no es un identificador válido".to_string();
                Err(ApiError::bad_request(
                    "VALIDATION_ERROR",
                    format!("Error en el identificador en la URL ({field}): {issue}"),
                )
                .with_details(vec![ErrorDetail {
                    field,
                    code: "invalid_format".into(),
                    issue,
                }]))
            }
            Err(other) => Err(ApiError::internal(&other)),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Where the client reached us (URLs echoed back to it).

/// The host the client asked for, when it is a plausible host name (it is echoed into a URL).
pub fn request_host(headers: &HeaderMap) -> Option<&str> {
    let host = headers.get(header::HOST)?.to_str().ok()?.trim();
    let ok = !host.is_empty()
        && host.len() <= 255
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-:[]_".contains(&b));
    ok.then_some(host)
}

/// `https` when a trusted proxy says so (`X-Forwarded-Proto`, with `TRUST_PROXY` > 0).
pub fn request_scheme(state: &AppState, headers: &HeaderMap) -> &'static str {
    if state.config.trust_proxy == 0 {
        return "http";
    }
    let proto = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(|v| v.trim().to_ascii_lowercase());
    match proto.as_deref() {
        Some("https") => "https",
        _ => "http",
    }
}

/// `scheme://host` of this request as the client reached it ([`request_host`],
/// [`request_scheme`]), or `None` without a plausible `Host` header.
pub fn request_origin(state: &AppState, headers: &HeaderMap) -> Option<String> {
    request_host(headers).map(|host| format!("{}://{host}", request_scheme(state, headers)))
}
