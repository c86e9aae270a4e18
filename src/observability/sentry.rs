//! Sentry error reports, on only when `SENTRY_DSN` is set.
//!
//! What is reported:
//! - every 5xx answer except deliberate flow control (`SERVICE_STARTING`, `SERVER_BUSY`, the
//!   `NOT_READY` probe answer), at most once per route, status and code every
//!   [`REPEAT_WINDOW`] per instance (an outage must not flood the project);
//! - panics, by the panic integration, on the request's hub when a handler panics;
//! - `error`-level logs (failed jobs, start-up failures, internal errors), through the tracing
//!   layer `crate::telemetry` installs; `warn` logs become breadcrumbs.
//!
//! Each request runs on its own hub whose scope carries the request id, method, matched route
//! and, once authenticated, the user id (the only user field sent) and banca id. A request that
//! already produced an event (a panic, an internal error log) is not reported twice.
//!
//! What is never sent: request headers, cookies, bodies, query strings, client addresses
//! (`send_default_pii` is off and [`scrub_event`] removes the request and user fields other
//! than the id), nor anything that looks like a secret or contact data in messages, log fields,
//! tags or breadcrumbs (bearer tokens, JWTs, URL passwords, `password=`-style pairs, e-mails).

use std::borrow::Cow;
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

use ::sentry::protocol::{Breadcrumb, Context, Event, Level, User, Value};
use ::sentry::{ClientInitGuard, ClientOptions, Hub, SentryFutureExt};
use regex::Regex;
use uuid::Uuid;

use crate::config::Config;
use crate::observability::ErrorCode;

static ENABLED: AtomicBool = AtomicBool::new(false);
static TRACING: AtomicBool = AtomicBool::new(false);

/// Error codes of 5xx answers that are flow control, not faults: never reported.
pub const NOT_REPORTED_CODES: [&str; 3] = ["SERVICE_STARTING", "SERVER_BUSY", "NOT_READY"];

/// The same route, status and code is reported at most once per this window.
pub const REPEAT_WINDOW: Duration = Duration::from_secs(60);

/// Whether a Sentry client is active in this process.
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// Keeps the client alive; dropping it flushes queued events (up to 2 s) and turns reporting
/// off.
pub struct SentryGuard {
    _client: ClientInitGuard,
}

impl Drop for SentryGuard {
    fn drop(&mut self) {
        ENABLED.store(false, Ordering::Relaxed);
        TRACING.store(false, Ordering::Relaxed);
    }
}

/// Starts the Sentry client when `SENTRY_DSN` is set (call once, before the runtime starts):
/// environment = `NODE_ENV`, traces sampled at `SENTRY_TRACES_SAMPLE_RATE`, panics captured.
pub fn init(config: &Config) -> Option<SentryGuard> {
    let dsn = config.sentry_dsn.as_ref()?;
    let dsn = match dsn.expose().parse::<::sentry::types::Dsn>() {
        Ok(d) => d,
        Err(_) => {
            // Config validation parses it the same way; this is only reached if that changes.
            eprintln!("SENTRY_DSN is not a valid DSN; error reporting is off");
            return None;
        }
    };
    let options = ClientOptions {
        dsn: Some(dsn),
        release: ::sentry::release_name!(),
        environment: Some(Cow::Borrowed(config.environment.as_str())),
        sample_rate: 1.0,
        traces_sample_rate: config.sentry_traces_sample_rate,
        send_default_pii: false,
        attach_stacktrace: false,
        max_breadcrumbs: 50,
        before_send: Some(Arc::new(|event| Some(scrub_event(event)))),
        before_breadcrumb: Some(Arc::new(|crumb| Some(scrub_breadcrumb(crumb)))),
        ..Default::default()
    };
    let guard = ::sentry::init(options);
    if !guard.is_enabled() {
        return None;
    }
    ENABLED.store(true, Ordering::Relaxed);
    TRACING.store(config.sentry_traces_sample_rate > 0.0, Ordering::Relaxed);
    Some(SentryGuard { _client: guard })
}

/// Tags the current request's scope with the authenticated user (id only) and banca.
pub fn set_user(user_id: Uuid, banca_id: Option<Uuid>) {
    if !enabled() {
        return;
    }
    ::sentry::configure_scope(|scope| {
        scope.set_user(Some(User {
            id: Some(user_id.to_string()),
            ..Default::default()
        }));
        if let Some(b) = banca_id {
            scope.set_tag("banca_id", b);
        }
    });
}

/// The Sentry side of one request: its hub, and its transaction when traces are sampled.
pub struct RequestReport {
    hub: Arc<Hub>,
    transaction: Option<::sentry::Transaction>,
    method: &'static str,
    route: String,
}

impl RequestReport {
    /// A hub for this request, or `None` when Sentry is off.
    pub fn begin(request_id: &str, method: &'static str, route: &str) -> Option<Self> {
        if !enabled() {
            return None;
        }
        let hub = Arc::new(Hub::new_from_top(Hub::main()));
        let name = format!("{method} {route}");
        // Probes and scrapes are not traced: they would drown the requests worth looking at.
        let traced = TRACING.load(Ordering::Relaxed) && !crate::http::middleware::is_probe(route);
        let transaction = traced.then(|| {
            let t = hub.start_transaction(::sentry::TransactionContext::new(&name, "http.server"));
            // Transactions do not take the scope's tags: set them on the transaction itself.
            t.set_tag("request_id", request_id);
            t.set_tag("http.method", method);
            t.set_tag("http.route", route);
            t
        });
        hub.configure_scope(|scope| {
            scope.clear_breadcrumbs();
            scope.set_tag("request_id", request_id);
            scope.set_tag("http.method", method);
            scope.set_tag("http.route", route);
            scope.set_transaction(Some(&name));
            if let Some(t) = &transaction {
                scope.set_span(Some(t.clone().into()));
            }
        });
        Some(RequestReport {
            hub,
            transaction,
            method,
            route: route.to_owned(),
        })
    }

    /// Runs the request on this hub (panics and error logs inside it carry its scope).
    pub fn bind<F: Future>(&self, fut: F) -> impl Future<Output = F::Output> {
        fut.bind_hub(self.hub.clone())
    }

    /// Reports a 5xx answer (see the module notes) and finishes the transaction.
    pub fn finish(self, status: u16, code: Option<&ErrorCode>) {
        let code = code.map(|c| c.0.as_ref()).unwrap_or("");
        if status >= 500
            && !NOT_REPORTED_CODES.contains(&code)
            && self.hub.last_event_id().is_none()
            && first_in_window(&format!("{} {} {status} {code}", self.method, self.route))
        {
            let mut event = Event {
                level: Level::Error,
                message: Some(format!(
                    "HTTP {status} {code} en {} {}",
                    self.method, self.route
                )),
                fingerprint: Cow::Owned(vec![
                    Cow::Borrowed("http-5xx"),
                    Cow::Borrowed(self.method),
                    Cow::Owned(self.route.clone()),
                    Cow::Owned(status.to_string()),
                    Cow::Owned(code.to_string()),
                ]),
                ..Default::default()
            };
            event
                .tags
                .insert("http.status_code".into(), status.to_string());
            if !code.is_empty() {
                event.tags.insert("error.code".into(), code.to_string());
            }
            self.hub.capture_event(event);
        }
        if let Some(t) = self.transaction {
            t.set_tag("http.status_code", status);
            t.set_status(span_status(status));
            t.finish();
        }
    }
}

fn span_status(status: u16) -> ::sentry::protocol::SpanStatus {
    use ::sentry::protocol::SpanStatus as S;
    match status {
        s if s < 400 => S::Ok,
        400 => S::InvalidArgument,
        401 => S::Unauthenticated,
        403 => S::PermissionDenied,
        404 => S::NotFound,
        409 => S::AlreadyExists,
        429 => S::ResourceExhausted,
        s if s < 500 => S::FailedPrecondition,
        503 => S::Unavailable,
        504 => S::DeadlineExceeded,
        _ => S::InternalError,
    }
}

static LAST_REPORTED: LazyLock<Mutex<HashMap<String, Instant>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// True when `key` was not reported within [`REPEAT_WINDOW`] (and records it now).
fn first_in_window(key: &str) -> bool {
    let Ok(mut seen) = LAST_REPORTED.lock() else {
        return true;
    };
    let now = Instant::now();
    if seen.len() > 1000 {
        seen.retain(|_, at| now.duration_since(*at) < REPEAT_WINDOW);
    }
    match seen.get(key) {
        Some(at) if now.duration_since(*at) < REPEAT_WINDOW => false,
        _ => {
            seen.insert(key.to_string(), now);
            true
        }
    }
}

const REDACTED: &str = "[redacted]";

/// Patterns of secrets and contact data in free text, with their replacement.
static TEXT_PATTERNS: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
    [
        // `Authorization: Bearer …`, `Basic …`
        (r"(?i)\b(bearer|basic)\s+[A-Za-z0-9\-._~+/]+=*", "$1 [redacted]"),
        // JSON Web Tokens
        (
            r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*",
            REDACTED,
        ),
        // user:password@ in URLs (database, Redis, DSN)
        (r"([A-Za-z][A-Za-z0-9+.\-]*://)[^\s/@]+@", "${1}[redacted]@"),
        // password=…, "token": "…", secret: …
        (
            r#"(?i)((?:password|passwd|pwd|secret|token|api[_-]?key|authorization|cookie|credential)[A-Za-z_]*["']?\s*[:=]\s*)("[^"]*"|'[^']*'|[^\s,;&"'}\]]+)"#,
            "${1}[redacted]",
        ),
        // e-mail addresses
        (r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}", REDACTED),
    ]
    .into_iter()
    .filter_map(|(p, r)| Regex::new(p).ok().map(|re| (re, r)))
    .collect()
});

/// `text` with secrets and contact data replaced by `[redacted]`.
pub fn scrub_text(text: &str) -> String {
    let mut out = Cow::Borrowed(text);
    for (re, with) in TEXT_PATTERNS.iter() {
        if let Cow::Owned(s) = re.replace_all(&out, *with) {
            out = Cow::Owned(s);
        }
    }
    out.into_owned()
}

/// Field names whose values are never sent, whatever they hold.
fn sensitive_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    const PARTS: [&str; 15] = [
        "password",
        "passwd",
        "secret",
        "token",
        "authorization",
        "cookie",
        "dsn",
        "api_key",
        "apikey",
        "credential",
        "email",
        "phone",
        "telefono",
        "username",
        "cliente",
    ];
    PARTS.iter().any(|p| k.contains(p))
        || matches!(
            k.as_str(),
            "ip" | "ip_address" | "client_ip" | "remote_addr" | "http.client_ip"
        )
}

fn scrub_value(v: &mut Value) {
    match v {
        Value::String(s) => *s = scrub_text(s),
        Value::Array(items) => items.iter_mut().for_each(scrub_value),
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if sensitive_key(k) {
                    *v = Value::String(REDACTED.into());
                } else {
                    scrub_value(v);
                }
            }
        }
        _ => {}
    }
}

fn scrub_map(map: &mut std::collections::BTreeMap<String, Value>) {
    for (k, v) in map.iter_mut() {
        if sensitive_key(k) {
            *v = Value::String(REDACTED.into());
        } else {
            scrub_value(v);
        }
    }
}

fn scrub_opt(s: &mut Option<String>) {
    if let Some(v) = s {
        *v = scrub_text(v);
    }
}

/// The `before_send` hook: drops request data and user fields other than the id, and scrubs
/// every free-text field of the event.
pub fn scrub_event(mut event: Event<'static>) -> Event<'static> {
    event.request = None;
    event.user = event.user.take().and_then(|u| {
        u.id.map(|id| User {
            id: Some(id),
            ..Default::default()
        })
    });
    scrub_opt(&mut event.message);
    scrub_opt(&mut event.culprit);
    if let Some(entry) = &mut event.logentry {
        entry.message = scrub_text(&entry.message);
        entry.params.iter_mut().for_each(scrub_value);
    }
    for exc in event.exception.values.iter_mut() {
        scrub_opt(&mut exc.value);
        if let Some(m) = &mut exc.mechanism {
            scrub_map(&mut m.data);
        }
        for st in [&mut exc.stacktrace, &mut exc.raw_stacktrace]
            .into_iter()
            .flatten()
        {
            st.frames.iter_mut().for_each(|f| f.vars.clear());
        }
    }
    for t in event.threads.values.iter_mut() {
        scrub_opt(&mut t.name);
    }
    event.breadcrumbs.values = std::mem::take(&mut event.breadcrumbs.values)
        .into_iter()
        .map(scrub_breadcrumb)
        .collect();
    event.tags.retain(|k, _| !sensitive_key(k));
    for v in event.tags.values_mut() {
        *v = scrub_text(v);
    }
    scrub_map(&mut event.extra);
    event.contexts.retain(|k, _| !sensitive_key(k));
    for ctx in event.contexts.values_mut() {
        if let Context::Other(map) = ctx {
            scrub_map(map);
        }
    }
    event
}

/// The `before_breadcrumb` hook: scrubs the message and data.
pub fn scrub_breadcrumb(mut crumb: Breadcrumb) -> Breadcrumb {
    scrub_opt(&mut crumb.message);
    scrub_map(&mut crumb.data);
    crumb
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_and_contact_data_are_scrubbed_from_text() {
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
        let cases = [
            ("Authorization: Bearer abc.DEF-123", "abc.DEF-123"),
            (&format!("token {jwt} expired"), jwt),
            (
                "connect postgres://banca:hunter2@db:5432/banca failed",
                "hunter2",
            ),
            ("login password=hunter2&user=x", "hunter2"),
            (r#"{"refreshToken": "r3fr3sh"}"#, "r3fr3sh"),
            ("JWT_ACCESS_SECRET: sup3rs3cret", "sup3rs3cret"),
            (
                "mail maria.perez@example.com now",
                "maria.perez@example.com",
            ),
        ];
        for (text, secret) in cases {
            let out = scrub_text(text);
            assert!(!out.contains(secret), "{text} → {out}");
            assert!(out.contains(REDACTED), "{text} → {out}");
        }
        let plain = "HTTP 503 DATABASE_UNAVAILABLE en GET /api/v1/tickets/{id}";
        assert_eq!(scrub_text(plain), plain);
    }

    #[test]
    fn events_lose_request_data_and_user_fields_but_the_id() {
        let mut fields = std::collections::BTreeMap::new();
        fields.insert("error".to_string(), Value::from("bad password=abc123"));
        fields.insert("username".to_string(), Value::from("maria"));
        let mut event = Event {
            message: Some("Bearer zzzzzzzz".into()),
            user: Some(User {
                id: Some("u-1".into()),
                email: Some("a@b.cr".into()),
                username: Some("maria".into()),
                ..Default::default()
            }),
            request: Some(Default::default()),
            ..Default::default()
        };
        event
            .contexts
            .insert("Rust Tracing Fields".into(), Context::Other(fields));
        event.tags.insert("request_id".into(), "r-1".into());
        event.tags.insert("session_token".into(), "x".into());
        let out = scrub_event(event);
        assert!(out.request.is_none());
        let user = out.user.unwrap();
        assert_eq!(user.id.as_deref(), Some("u-1"));
        assert!(user.email.is_none() && user.username.is_none());
        assert_eq!(out.message.as_deref(), Some("Bearer [redacted]"));
        assert_eq!(out.tags.get("request_id").map(String::as_str), Some("r-1"));
        assert!(!out.tags.contains_key("session_token"));
        let json = serde_json::to_string(&out.contexts).unwrap();
        assert!(
            !json.contains("abc123") && !json.contains("maria"),
            "{json}"
        );
    }

    #[test]
    fn a_repeated_failure_is_reported_once_per_window() {
        let key = format!("GET /x 503 DATABASE_UNAVAILABLE {}", Uuid::new_v4());
        assert!(first_in_window(&key));
        assert!(!first_in_window(&key));
    }
}
