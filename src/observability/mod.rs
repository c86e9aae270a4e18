//! Observability beyond logs: Prometheus metrics served at `GET /metrics` ([`metrics`]), Sentry
//! error reports ([`sentry`]), and the HTTP middleware that feeds both ([`http`]). Logs are set
//! up in `crate::telemetry`, which also installs the tracing layers defined here.
//!
//! Inside this module tree the crates are always written `::metrics` and `::sentry`, so they
//! are never confused with the submodules of the same name.

pub mod http;
pub mod metrics;
pub mod sentry;

use std::borrow::Cow;

/// The `code` of an error response, left in the response extensions by `ApiError` so the
/// middleware can count errors by code and choose what to report, without reading the body.
#[derive(Debug, Clone)]
pub struct ErrorCode(pub Cow<'static, str>);
