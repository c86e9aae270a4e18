//! Logs: `tracing` with JSON lines in production and readable lines elsewhere, at `LOG_LEVEL`.
//! Field rules: dotted names, units in names (`latency_ms`), a failure logged once, never a
//! secret.
//!
//! The same subscriber also feeds the observability layers, each with its own filter so
//! `LOG_LEVEL` only governs what is printed: sqlx's per-acquisition events become the
//! `db_pool_acquire_seconds` histogram (and are never printed), and, when `SENTRY_DSN` is set,
//! `error` events go to Sentry and `warn` events become breadcrumbs.

use tracing::Level;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::config::Config;
use crate::observability::metrics::{AcquireTiming, ACQUIRE_TARGET};
use crate::observability::sentry::SentryGuard;

fn filter(config: &Config) -> EnvFilter {
    // Quiet chatty dependencies unless the operator names them.
    let mut directives = config.log_level.clone();
    if !directives.contains("sqlx") && directives != "off" {
        directives.push_str(",sqlx=warn");
    }
    // sqlx's acquire events are metrics, not log lines (see `observability::metrics`).
    if !directives.contains("sqlx::pool") {
        directives.push_str(&format!(",{ACQUIRE_TARGET}=off"));
    }
    EnvFilter::try_new(&directives).unwrap_or_else(|_| EnvFilter::new("info"))
}

/// What must live as long as the process logs and reports (hold it in `main`).
pub struct Telemetry {
    _sentry: Option<SentryGuard>,
}

/// Starts Sentry (when `SENTRY_DSN` is set) and installs the global subscriber writing to
/// stdout. Call once, at start, before the runtime; keep the returned value until exit
/// (dropping it flushes pending Sentry events).
pub fn init(config: &Config) -> Telemetry {
    let sentry = crate::observability::sentry::init(config);
    init_with_writer(config, std::io::stdout);
    Telemetry { _sentry: sentry }
}

/// Installs the global subscriber with a given writer (tests capture logs this way).
pub fn init_with_writer<W>(config: &Config, writer: W)
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let fmt = if config.environment.is_production() {
        tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .with_writer(writer)
            .boxed()
    } else {
        tracing_subscriber::fmt::layer()
            .compact()
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
            .with_writer(writer)
            .boxed()
    };
    let acquire =
        AcquireTiming.with_filter(Targets::new().with_target(ACQUIRE_TARGET, Level::TRACE));
    let sentry = crate::observability::sentry::enabled().then(|| {
        ::sentry::integrations::tracing::layer()
            .event_filter(|md| {
                use ::sentry::integrations::tracing::EventFilter;
                match *md.level() {
                    // The panic hook already reported the panic this line logs.
                    Level::ERROR if md.fields().field("panic").is_some() => EventFilter::Breadcrumb,
                    Level::ERROR => EventFilter::Event,
                    Level::WARN => EventFilter::Breadcrumb,
                    _ => EventFilter::Ignore,
                }
            })
            // Transactions come from the request middleware, not from spans.
            .span_filter(|_| false)
            .with_filter(
                Targets::new()
                    .with_default(LevelFilter::WARN)
                    .with_target(ACQUIRE_TARGET, LevelFilter::OFF),
            )
    });
    let result = tracing_subscriber::registry()
        .with(fmt.with_filter(filter(config)))
        .with(acquire)
        .with(sentry)
        .try_init();
    // A second call (tests) keeps the first subscriber.
    let _ = result;
}
