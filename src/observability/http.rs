//! The request middleware feeding the metrics and Sentry: it sits just inside the request-id
//! layer, so it sees every answer (admission refusals, timeouts, caught panics included) and
//! the request id, and labels everything by the matched route template.

use std::borrow::Cow;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;

use crate::http::middleware::X_REQUEST_ID;
use crate::observability::metrics::{self, InFlight, UNMATCHED_ROUTE};
use crate::observability::sentry::RequestReport;
use crate::observability::ErrorCode;

/// Counts and times the request, and runs it on its own Sentry hub when Sentry is on.
pub async fn observe(req: Request, next: Next) -> Response {
    let method = metrics::method_label(req.method());
    let route: Cow<'static, str> = match req.extensions().get::<MatchedPath>() {
        Some(m) => Cow::Owned(m.as_str().to_owned()),
        None => Cow::Borrowed(UNMATCHED_ROUTE),
    };
    let in_flight = InFlight::start(method, route.clone());
    let request_id = req
        .headers()
        .get(&X_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let (res, report) = match RequestReport::begin(request_id, method, &route) {
        None => (next.run(req).await, None),
        Some(report) => (report.bind(next.run(req)).await, Some(report)),
    };
    let status = res.status().as_u16();
    let code = res.extensions().get::<ErrorCode>();
    in_flight.finish(status, code);
    if let Some(report) = report {
        report.finish(status, code);
    }
    res
}
