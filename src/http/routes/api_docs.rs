//! The API's own description: `GET /api/v1/openapi.json` (the OpenAPI 3.1 document built from
//! the handlers' annotations, serialized once per process) and `GET /api/v1/docs` (a browsable
//! page: the Scalar viewer, whose script loads from the jsDelivr CDN, reading that document).
//! Both public.

use std::sync::OnceLock;

use axum::body::Bytes;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::app::AppState;
use crate::http::openapi::document;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/openapi.json", get(openapi_json))
        .route("/api/v1/docs", get(docs_page))
}

/// The page's Content-Security-Policy: the house policy, plus the CDN the viewer's script comes
/// from, `unsafe-eval` (the viewer renders schema examples with `new Function`), its fonts,
/// and `blob:` workers.
const DOCS_CSP: &str = "default-src 'self';base-uri 'self';form-action 'self';\
frame-ancestors 'self';object-src 'none';script-src 'self' 'unsafe-eval' https://cdn.jsdelivr.net;\
script-src-attr 'none';style-src 'self' 'unsafe-inline' https:;font-src 'self' https: data:;\
img-src 'self' data: blob: https:;connect-src 'self';worker-src 'self' blob:";

/// The page: the viewer fetches the document from `data-url`.
const DOCS_HTML: &str = r#"<!doctype html>
<html lang="es">
<head>
  <title>Banca API</title>
  <meta charset="utf-8"/>
  <meta name="viewport" content="width=device-width, initial-scale=1"/>
</head>
<body>
<noscript>Esta página necesita JavaScript. El documento está en /api/v1/openapi.json.</noscript>
<script id="api-reference" data-url="/api/v1/openapi.json"></script>
<script src="https://cdn.jsdelivr.net/npm/@scalar/api-reference@1"></script>
</body>
</html>
"#;

fn document_json() -> &'static Bytes {
    static JSON: OnceLock<Bytes> = OnceLock::new();
    JSON.get_or_init(|| {
        Bytes::from(serde_json::to_vec(&document()).expect("the OpenAPI document serializes"))
    })
}

/// The OpenAPI document.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "api_docs",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json", body = Object))
)]
async fn openapi_json() -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=300"),
            ),
        ],
        document_json().clone(),
    )
        .into_response()
}

/// The browsable documentation page.
#[utoipa::path(
    get,
    path = "/api/v1/docs",
    tag = "api_docs",
    responses((status = 200, description = "HTML page that renders the document", content_type = "text/html", body = String))
)]
async fn docs_page() -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(DOCS_CSP),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=300"),
            ),
        ],
        DOCS_HTML,
    )
        .into_response()
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(openapi_json, docs_page))]
pub struct ApiDoc;
