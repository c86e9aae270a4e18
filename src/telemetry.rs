//! Logs: `tracing` with JSON lines in production and readable lines elsewhere, at `LOG_LEVEL`.
//! Field rules: dotted names, units in names (`latency_ms`), a failure logged once, never a
//! secret.

use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

use crate::config::Config;

fn filter(config: &Config) -> EnvFilter {
    // Quiet chatty dependencies unless the operator names them.
    let mut directives = config.log_level.clone();
    if !directives.contains("sqlx") && directives != "off" {
        directives.push_str(",sqlx=warn");
    }
    EnvFilter::try_new(&directives).unwrap_or_else(|_| EnvFilter::new("info"))
}

/// Installs the global subscriber writing to stdout. Call once, at start.
pub fn init(config: &Config) {
    init_with_writer(config, std::io::stdout);
}

/// Installs the global subscriber with a given writer (tests capture logs this way).
pub fn init_with_writer<W>(config: &Config, writer: W)
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let registry = tracing_subscriber::registry().with(filter(config));
    let result = if config.environment.is_production() {
        registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true)
                    .with_span_list(false)
                    .with_writer(writer),
            )
            .try_init()
    } else {
        registry
            .with(
                tracing_subscriber::fmt::layer()
                    .compact()
                    .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
                    .with_writer(writer),
            )
            .try_init()
    };
    // A second call (tests) keeps the first subscriber.
    let _ = result;
}
