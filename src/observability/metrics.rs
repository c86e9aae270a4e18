//! Prometheus metrics: one process-wide `metrics` recorder rendered as Prometheus text by
//! `GET /metrics` (no listener of its own). Every name and label is listed in
//! `docs/operations.md` ("Metrics and Sentry").
//!
//! Counters and histograms are recorded where things happen (the HTTP middleware, the sale
//! handler, the job engine, the pool acquire timing layer); gauges that describe state (pool
//! connections, Redis, the replica, admission permits, the process) are read when scraped.
//! Labels only take values from small fixed sets: the matched route template (never the raw
//! path), the method (unknown methods become `OTHER`), status codes, error codes, job names,
//! pool roles.

use std::borrow::Cow;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use ::metrics::{
    counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram, Unit,
};
use axum::http::Method;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use sqlx::pool::PoolOptions;
use sqlx::{PgPool, Postgres};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer};

use crate::app::{AppState, DependencyStatus};
use crate::cache::BreakerState;
use crate::db::pools::ReplicaStatus;
use crate::observability::ErrorCode;
use crate::services::rate_limit::Limiter;
use crate::services::sale::{SaleAnswer, SaleError, SaleRequest};

pub const HTTP_REQUESTS: &str = "http_requests_total";
pub const HTTP_DURATION: &str = "http_request_duration_seconds";
pub const HTTP_IN_FLIGHT: &str = "http_requests_in_flight";
pub const HTTP_CANCELLED: &str = "http_requests_cancelled_total";
pub const HTTP_ERRORS: &str = "http_error_responses_total";
pub const ADMISSION_AVAILABLE: &str = "http_admission_permits_available";
pub const ADMISSION_MAX: &str = "http_admission_permits_max";
pub const POOL_CONNECTIONS: &str = "db_pool_connections";
pub const POOL_MAX: &str = "db_pool_max_connections";
pub const POOL_ACQUIRE: &str = "db_pool_acquire_seconds";
pub const REPLICA_UP: &str = "db_replica_up";
pub const REDIS_UP: &str = "redis_up";
pub const REDIS_CIRCUIT_OPEN: &str = "redis_circuit_open";
pub const REDIS_ERRORS: &str = "redis_errors_total";
pub const RATE_LIMIT_REFUSALS: &str = "rate_limit_refusals_total";
pub const RATE_LIMIT_COUNTED: &str = "rate_limit_counted_total";
pub const JOB_RUNS: &str = "job_runs_total";
pub const JOB_DURATION: &str = "job_run_duration_seconds";
pub const TICKETS_SOLD: &str = "tickets_sold_total";
pub const TICKETS_SOLD_AMOUNT: &str = "tickets_sold_amount_cents_total";
pub const SALE_REPLAYS: &str = "ticket_sale_replays_total";
pub const SALE_REFUSALS: &str = "ticket_sale_refusals_total";
pub const BUILD_INFO: &str = "banca_build_info";
pub const PROCESS_START: &str = "process_start_time_seconds";
pub const PROCESS_CPU: &str = "process_cpu_seconds_total";
pub const PROCESS_RSS: &str = "process_resident_memory_bytes";
pub const PROCESS_FDS: &str = "process_open_fds";

/// The route label of a request no route matched (404s): never the raw path.
pub const UNMATCHED_ROUTE: &str = "(unmatched)";

/// Latency buckets of HTTP requests and jobs (seconds).
const LATENCY_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
/// Pool acquire buckets (seconds): mostly microseconds, seconds when the pool is exhausted.
const ACQUIRE_BUCKETS: &[f64] = &[
    0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 2.0, 5.0, 10.0,
];
const JOB_BUCKETS: &[f64] = &[0.01, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0];

/// Refusal codes of the sale path that come from restriction limits, exclusion lists and
/// multiplier blocks (label `limit="true"`).
pub const LIMIT_REFUSAL_CODES: [&str; 4] = [
    "NUMBER_MAXAMOUNT_EXCEEDED",
    "NUMBER_MAXTOTAL_EXCEEDED",
    "LISTA_EXCLUDED",
    "LOTTERY_MULTIPLIER_RESTRICTED",
];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the process-wide recorder (once; later calls return the same handle). `None` when
/// another recorder was installed first by an embedding program.
pub fn install() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let built = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full(HTTP_DURATION.into()), LATENCY_BUCKETS)
                .and_then(|b| {
                    b.set_buckets_for_metric(Matcher::Full(POOL_ACQUIRE.into()), ACQUIRE_BUCKETS)
                })
                .and_then(|b| {
                    b.set_buckets_for_metric(Matcher::Full(JOB_DURATION.into()), JOB_BUCKETS)
                })
                .and_then(|b| b.install_recorder());
            match built {
                Ok(handle) => {
                    describe();
                    gauge!(BUILD_INFO, "version" => env!("CARGO_PKG_VERSION")).set(1.0);
                    if let Some(start) = process::start_time_seconds() {
                        gauge!(PROCESS_START).set(start);
                    }
                    let upkeep = handle.clone();
                    // Histograms are drained into their buckets by upkeep; scrapes also do it,
                    // this keeps memory flat when nobody scrapes.
                    let _ = std::thread::Builder::new()
                        .name("metrics-upkeep".into())
                        .spawn(move || loop {
                            std::thread::sleep(Duration::from_secs(5));
                            upkeep.run_upkeep();
                        });
                    Some(handle)
                }
                Err(e) => {
                    tracing::warn!(error = %e, "metrics recorder not installed; /metrics stays empty");
                    None
                }
            }
        })
        .as_ref()
}

fn describe() {
    describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests answered, by method, matched route and status"
    );
    describe_histogram!(
        HTTP_DURATION,
        Unit::Seconds,
        "HTTP request latency, by method, matched route and status"
    );
    describe_gauge!(HTTP_IN_FLIGHT, "HTTP requests being handled now");
    describe_counter!(
        HTTP_CANCELLED,
        "HTTP requests abandoned before their answer (the client went away)"
    );
    describe_counter!(HTTP_ERRORS, "Error answers, by status and error code");
    describe_gauge!(
        ADMISSION_AVAILABLE,
        "Free admission permits (0 means new requests get 503 SERVER_BUSY)"
    );
    describe_gauge!(ADMISSION_MAX, "MAX_CONCURRENT_REQUESTS");
    describe_gauge!(
        POOL_CONNECTIONS,
        "Open database connections, by pool and state (idle, in_use)"
    );
    describe_gauge!(POOL_MAX, "Maximum size of each database pool");
    describe_histogram!(
        POOL_ACQUIRE,
        Unit::Seconds,
        "Time waited for a database connection, by pool"
    );
    describe_gauge!(
        REPLICA_UP,
        "1 when the read replica answers, 0 when reads fall back to the primary"
    );
    describe_gauge!(REDIS_UP, "1 when Redis answered the last check, else 0");
    describe_gauge!(
        REDIS_CIRCUIT_OPEN,
        "1 while the Redis circuit breaker skips calls after a failure"
    );
    describe_counter!(
        REDIS_ERRORS,
        "Redis calls that failed or timed out (each opens the circuit)"
    );
    describe_counter!(
        RATE_LIMIT_REFUSALS,
        "Requests refused with 429 by a rate limiter, by limiter"
    );
    describe_counter!(
        RATE_LIMIT_COUNTED,
        "Requests counted by a rate limiter, by limiter and store (redis: shared; local: this process)"
    );
    describe_counter!(JOB_RUNS, "Scheduled job runs finished, by job and outcome");
    describe_histogram!(
        JOB_DURATION,
        Unit::Seconds,
        "Job run duration, by job and outcome"
    );
    describe_counter!(TICKETS_SOLD, "Tickets sold (idempotent replays excluded)");
    describe_counter!(
        TICKETS_SOLD_AMOUNT,
        "Amount of the tickets sold, in cents (operational figure, not money of record)"
    );
    describe_counter!(
        SALE_REPLAYS,
        "Sales answered from a stored idempotent answer"
    );
    describe_counter!(
        SALE_REFUSALS,
        "Sales refused, by code; limit=\"true\" for restriction limits, exclusions and blocks"
    );
    describe_gauge!(BUILD_INFO, "Always 1; the version is a label");
    describe_gauge!(
        PROCESS_START,
        "Start time of the process, seconds since the epoch"
    );
    describe_gauge!(
        PROCESS_CPU,
        "CPU time used by the process, seconds (only grows; rate() applies)"
    );
    describe_gauge!(PROCESS_RSS, "Resident memory of the process, bytes");
    describe_gauge!(PROCESS_FDS, "Open file descriptors of the process");
}

/// The method label: the standard methods, else `OTHER` (clients can send any token).
pub fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

/// One request being handled: counted in flight until dropped. A request dropped before
/// [`InFlight::finish`] (the client closed the connection) is counted as cancelled.
pub struct InFlight {
    method: &'static str,
    route: Cow<'static, str>,
    started: Instant,
    finished: bool,
}

impl InFlight {
    pub fn start(method: &'static str, route: Cow<'static, str>) -> Self {
        gauge!(HTTP_IN_FLIGHT).increment(1.0);
        InFlight {
            method,
            route,
            started: Instant::now(),
            finished: false,
        }
    }

    /// Records the answer: count, latency, and the error code when there is one.
    pub fn finish(mut self, status: u16, code: Option<&ErrorCode>) {
        self.finished = true;
        let status_label = status.to_string();
        let labels = [
            ("method", Cow::Borrowed(self.method)),
            ("route", self.route.clone()),
            ("status", Cow::Owned(status_label.clone())),
        ];
        counter!(HTTP_REQUESTS, &labels).increment(1);
        histogram!(HTTP_DURATION, &labels).record(self.started.elapsed().as_secs_f64());
        if let Some(code) = code {
            counter!(HTTP_ERRORS, "status" => status_label, "code" => code.0.clone()).increment(1);
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        gauge!(HTTP_IN_FLIGHT).decrement(1.0);
        if !self.finished {
            counter!(HTTP_CANCELLED, "method" => self.method, "route" => self.route.clone())
                .increment(1);
        }
    }
}

/// Counts a sale's outcome and passes it through: a new ticket (count and amount), a replay,
/// or a refusal by code. Database failures are left to the HTTP metrics (503/500).
pub fn sale(
    result: Result<SaleAnswer, SaleError>,
    req: &SaleRequest,
) -> Result<SaleAnswer, SaleError> {
    match &result {
        Ok(answer) if answer.replayed => counter!(SALE_REPLAYS).increment(1),
        Ok(answer) if (200..300).contains(&answer.status) => {
            counter!(TICKETS_SOLD).increment(1);
            let total: Decimal = req.lines.iter().map(|l| l.amount).sum();
            let cents = (total * Decimal::ONE_HUNDRED).trunc().to_u64().unwrap_or(0);
            counter!(TICKETS_SOLD_AMOUNT).increment(cents);
        }
        Ok(_) => {}
        Err(SaleError::Refused(r)) => {
            let limit = if LIMIT_REFUSAL_CODES.contains(&r.code) {
                "true"
            } else {
                "false"
            };
            counter!(SALE_REFUSALS, "code" => r.code, "limit" => limit).increment(1);
        }
        Err(SaleError::Database(_)) => {}
    }
    result
}

/// Counts a Redis call that failed or timed out (`crate::cache`).
pub fn redis_failure() {
    counter!(REDIS_ERRORS).increment(1);
}

/// Counts a finished job run. `outcome`: `succeeded`, `failed` or `lease_lost`.
pub fn job_run(job: &'static str, outcome: &'static str, took: Duration) {
    counter!(JOB_RUNS, "job" => job, "outcome" => outcome).increment(1);
    histogram!(JOB_DURATION, "job" => job, "outcome" => outcome).record(took.as_secs_f64());
}

fn set_pool(role: &'static str, pool: &PgPool) {
    let size = pool.size();
    let idle = u32::try_from(pool.num_idle()).unwrap_or(u32::MAX).min(size);
    gauge!(POOL_CONNECTIONS, "pool" => role, "state" => "idle").set(f64::from(idle));
    gauge!(POOL_CONNECTIONS, "pool" => role, "state" => "in_use").set(f64::from(size - idle));
    gauge!(POOL_MAX, "pool" => role).set(f64::from(pool.options().get_max_connections()));
}

/// Reads the state gauges of `state` and renders every metric as Prometheus text.
/// `None` when the recorder could not be installed.
pub fn render(state: &AppState) -> Option<String> {
    let handle = install()?;
    set_pool(PoolRole::Primary.as_str(), state.pools.primary());
    set_pool(PoolRole::Direct.as_str(), state.pools.direct());
    if let Some(replica) = state.pools.replica_pool() {
        set_pool(PoolRole::Replica.as_str(), replica);
    }
    match state.pools.replica_status() {
        ReplicaStatus::NotConfigured => {}
        ReplicaStatus::Up => gauge!(REPLICA_UP).set(1.0),
        ReplicaStatus::Unknown | ReplicaStatus::Fallback => gauge!(REPLICA_UP).set(0.0),
    }
    match state.readiness.redis(state.redis.is_some()) {
        DependencyStatus::NotConfigured => {}
        DependencyStatus::Up => gauge!(REDIS_UP).set(1.0),
        DependencyStatus::Unknown | DependencyStatus::Down => gauge!(REDIS_UP).set(0.0),
    }
    if let Some(redis) = &state.redis {
        let open = !matches!(redis.breaker_state(), BreakerState::Closed);
        gauge!(REDIS_CIRCUIT_OPEN).set(if open { 1.0 } else { 0.0 });
    }
    for limiter in Limiter::ALL {
        if state.rate_limits.rule(limiter).is_none() {
            continue;
        }
        let c = state.rate_limits.counters(limiter);
        let name = limiter.name();
        counter!(RATE_LIMIT_REFUSALS, "limiter" => name).absolute(c.refused);
        counter!(RATE_LIMIT_COUNTED, "limiter" => name, "store" => "redis")
            .absolute(c.counted_shared);
        counter!(RATE_LIMIT_COUNTED, "limiter" => name, "store" => "local")
            .absolute(c.counted_local);
    }
    gauge!(ADMISSION_AVAILABLE).set(state.admission.available_permits() as f64);
    gauge!(ADMISSION_MAX).set(state.config.max_concurrent_requests as f64);
    process::record();
    Some(handle.render())
}

/// The pools, as the `pool` label names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolRole {
    Primary,
    Direct,
    Replica,
}

/// Target of sqlx's acquire events.
pub const ACQUIRE_TARGET: &str = "sqlx::pool::acquire";

impl PoolRole {
    pub fn as_str(self) -> &'static str {
        match self {
            PoolRole::Primary => "primary",
            PoolRole::Direct => "direct",
            PoolRole::Replica => "replica",
        }
    }

    /// sqlx reports every acquisition as an event at a level chosen per pool, without naming
    /// the pool; each role gets its own level so the timing layer can tell them apart.
    fn level(self) -> Level {
        match self {
            PoolRole::Primary => Level::TRACE,
            PoolRole::Direct => Level::DEBUG,
            PoolRole::Replica => Level::INFO,
        }
    }

    fn log_level(self) -> tracing::log::LevelFilter {
        match self {
            PoolRole::Primary => tracing::log::LevelFilter::Trace,
            PoolRole::Direct => tracing::log::LevelFilter::Debug,
            PoolRole::Replica => tracing::log::LevelFilter::Info,
        }
    }

    fn from_level(level: &Level) -> Option<Self> {
        [PoolRole::Primary, PoolRole::Direct, PoolRole::Replica]
            .into_iter()
            .find(|r| r.level() == *level)
    }
}

/// Makes sqlx report every connection acquisition of this pool (slow ones included) to
/// [`AcquireTiming`]. The events never reach the logs (`crate::telemetry` filters them out).
pub fn timed_acquire(options: PoolOptions<Postgres>, role: PoolRole) -> PoolOptions<Postgres> {
    options
        .acquire_time_level(role.log_level())
        .acquire_slow_level(role.log_level())
}

/// Tracing layer turning sqlx's acquire events into `db_pool_acquire_seconds{pool}`; an
/// acquisition over sqlx's slow threshold (2 s) is logged at warn with the pool's name.
pub struct AcquireTiming;

#[derive(Default)]
struct AcquireFields {
    secs: Option<f64>,
    slow: bool,
}

impl Visit for AcquireFields {
    fn record_f64(&mut self, field: &Field, value: f64) {
        match field.name() {
            // sqlx 0.8 spells it `aquired`; accept the fixed spelling too.
            "aquired_after_secs" | "acquired_after_secs" => self.secs = Some(value),
            "slow_acquire_threshold_secs" => self.slow = true,
            _ => {}
        }
    }

    fn record_debug(&mut self, _field: &Field, _value: &dyn std::fmt::Debug) {}
}

impl<S: Subscriber> Layer<S> for AcquireTiming {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        if event.metadata().target() != ACQUIRE_TARGET {
            return;
        }
        let Some(role) = PoolRole::from_level(event.metadata().level()) else {
            return;
        };
        let mut fields = AcquireFields::default();
        event.record(&mut fields);
        let Some(secs) = fields.secs else {
            return;
        };
        histogram!(POOL_ACQUIRE, "pool" => role.as_str()).record(secs);
        if fields.slow {
            tracing::warn!(
                pool = role.as_str(),
                wait_ms = (secs * 1000.0) as u64,
                "slow database connection acquire"
            );
        }
    }
}

/// Process gauges from `/proc` (Linux); elsewhere they are absent.
mod process {
    use ::metrics::gauge;

    fn stat_fields() -> Option<Vec<String>> {
        let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
        // The command name (field 2) may hold spaces: split after its closing parenthesis.
        let rest = &stat[stat.rfind(')')? + 2..];
        Some(rest.split_whitespace().map(str::to_owned).collect())
    }

    fn ticks_per_second() -> f64 {
        // SAFETY: sysconf only reads a system constant.
        let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
        if t > 0 {
            t as f64
        } else {
            100.0
        }
    }

    fn page_size() -> f64 {
        // SAFETY: sysconf only reads a system constant.
        let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        if p > 0 {
            p as f64
        } else {
            4096.0
        }
    }

    /// Seconds since the epoch at which the process started.
    pub fn start_time_seconds() -> Option<f64> {
        // Fields after the command, 0-based: state is 0, so starttime (field 22) is 19.
        let start_ticks: f64 = stat_fields()?.get(19)?.parse().ok()?;
        let boot = std::fs::read_to_string("/proc/stat").ok()?;
        let btime: f64 = boot
            .lines()
            .find_map(|l| l.strip_prefix("btime "))?
            .trim()
            .parse()
            .ok()?;
        Some(btime + start_ticks / ticks_per_second())
    }

    /// CPU time, resident memory and open descriptors, now.
    pub fn record() {
        if let Some(f) = stat_fields() {
            // utime (14) and stime (15) → 11 and 12; rss (24, pages) → 21.
            let ticks: Option<f64> = f
                .get(11)
                .zip(f.get(12))
                .and_then(|(u, s)| Some(u.parse::<f64>().ok()? + s.parse::<f64>().ok()?));
            if let Some(t) = ticks {
                gauge!(super::PROCESS_CPU).set(t / ticks_per_second());
            }
            if let Some(rss) = f.get(21).and_then(|v| v.parse::<f64>().ok()) {
                gauge!(super::PROCESS_RSS).set(rss * page_size());
            }
        }
        if let Ok(dir) = std::fs::read_dir("/proc/self/fd") {
            gauge!(super::PROCESS_FDS).set(dir.count() as f64);
        }
    }
}
