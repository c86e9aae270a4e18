//! Building the application state, warming up connections, and serving with graceful shutdown.

use std::future::{Future, IntoFuture};
use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::{Notify, Semaphore};
use tokio_util::sync::CancellationToken;

use crate::cache::Redis;
use crate::config::{Config, ServiceUrl};
use crate::db::bootstrap::{self, LocalCluster};
use crate::db::migrate;
use crate::db::pools::{DbTargets, Pools};

/// State of an optional dependency as last seen by warm-up or the monitor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DependencyStatus {
    NotConfigured,
    Unknown,
    Up,
    Down,
}

impl DependencyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DependencyStatus::NotConfigured => "not_configured",
            DependencyStatus::Unknown => "unknown",
            DependencyStatus::Up => "up",
            DependencyStatus::Down => "down",
        }
    }
}

/// Readiness flags shared by the warm-up task, the monitor, the probes and shutdown.
#[derive(Default)]
pub struct Readiness {
    warmed: AtomicBool,
    shutting_down: AtomicBool,
    /// 0 unknown, 1 up, 2 down; kept current by the Redis client (`crate::cache`).
    redis: Arc<std::sync::atomic::AtomicU8>,
}

impl Readiness {
    pub fn set_redis(&self, up: bool) {
        self.redis.store(if up { 1 } else { 2 }, Ordering::Release);
    }

    /// The Redis flag, shared with the Redis client.
    pub fn redis_flag(&self) -> Arc<std::sync::atomic::AtomicU8> {
        self.redis.clone()
    }

    /// Last known Redis state; `NotConfigured` when `configured` is false.
    pub fn redis(&self, configured: bool) -> DependencyStatus {
        if !configured {
            return DependencyStatus::NotConfigured;
        }
        match self.redis.load(Ordering::Acquire) {
            1 => DependencyStatus::Up,
            2 => DependencyStatus::Down,
            _ => DependencyStatus::Unknown,
        }
    }

    pub fn is_warmed(&self) -> bool {
        self.warmed.load(Ordering::Acquire)
    }

    pub fn mark_warmed(&self) {
        self.warmed.store(true, Ordering::Release);
    }

    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::Acquire)
    }

    pub fn begin_shutdown(&self) {
        self.shutting_down.store(true, Ordering::Release);
    }
}

/// Everything a request handler may use. Cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<AppInner>);

pub struct AppInner {
    pub config: Config,
    pub pools: Pools,
    pub redis: Option<Redis>,
    pub readiness: Readiness,
    /// Admission control: one permit per in-flight request (`MAX_CONCURRENT_REQUESTS`).
    pub admission: Arc<Semaphore>,
    /// Cancelled at shutdown: background work stops when it fires.
    pub shutdown: CancellationToken,
    /// JWT signing and checking.
    pub tokens: crate::services::tokens::TokenKeys,
    /// Failed-login counters.
    pub throttle: crate::services::throttle::LoginThrottle,
    /// Wakes the statement refresher after a change queued a rebuild (evaluate, revert).
    pub statements_wake: Arc<Notify>,
    /// This process's name in job run rows.
    pub instance: Arc<str>,
    /// Short-lived report answers (`services::report_cache`).
    pub report_cache: crate::services::report_cache::ReportCache,
    /// Request rate limits, shared through Redis (`services::rate_limit`).
    pub rate_limits: crate::services::rate_limit::RateLimits,
    /// Cancelled when shutdown begins (before the drain): the job engine stops claiming.
    pub draining: CancellationToken,
}

impl Deref for AppState {
    type Target = AppInner;
    fn deref(&self) -> &AppInner {
        &self.0
    }
}

impl AppState {
    /// Builds the state for a resolved primary database. Nothing connects yet.
    pub fn build(config: Config, primary_url: &ServiceUrl) -> anyhow::Result<Self> {
        crate::observability::metrics::install();
        let targets = DbTargets::resolve(&config, primary_url).context("invalid database URL")?;
        let pools = Pools::connect_lazy(&config, &targets);
        crate::db::statements::set_business_tz(config.business_timezone);
        let readiness = Readiness::default();
        let redis = match &config.redis_url {
            Some(url) => Some(
                Redis::new(
                    url,
                    &config.redis_prefix,
                    &config.redis,
                    readiness.redis_flag(),
                )
                .context("invalid REDIS_URL")?,
            ),
            None => None,
        };
        Ok(AppState(Arc::new(AppInner {
            admission: Arc::new(Semaphore::new(config.max_concurrent_requests)),
            tokens: crate::services::tokens::TokenKeys::from_config(&config),
            throttle: crate::services::throttle::LoginThrottle::shared(
                config.login_max_failures,
                config.login_window,
                redis.clone(),
            ),
            report_cache: crate::services::report_cache::ReportCache::new(
                if config.cache.enabled {
                    config.report_cache_ttl
                } else {
                    Duration::ZERO
                },
            ),
            rate_limits: crate::services::rate_limit::RateLimits::new(&config.rate_limits),
            config,
            pools,
            redis,
            readiness,
            shutdown: CancellationToken::new(),
            statements_wake: Arc::new(Notify::new()),
            instance: crate::jobs::engine::instance_id().into(),
            draining: CancellationToken::new(),
        })))
    }
}

/// Why warm-up gave up.
#[derive(Debug, thiserror::Error)]
pub enum WarmupError {
    #[error("the database did not answer after {attempts} attempts: {last}")]
    Unreachable { attempts: u32, last: String },
    #[error("migrations failed: {0}")]
    Migrations(String),
    #[error("start-up was cancelled")]
    Cancelled,
}

/// Delay before attempt `n` (1-based): doubles from the base delay, capped at 30 s.
pub fn backoff(base: Duration, attempt: u32) -> Duration {
    let factor = 1u32 << attempt.saturating_sub(1).min(10);
    (base * factor).min(Duration::from_secs(30))
}

/// Connects to the database with retries and backoff (creating the database outside
/// production), applies migrations when `AUTO_MIGRATE` is on, checks the replica and Redis,
/// then marks the state ready. `WARMUP_MAX_ATTEMPTS=0` retries until the database answers.
pub async fn warm_up(state: &AppState) -> Result<(), WarmupError> {
    let config = &state.config;
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        let result = async {
            if !config.environment.is_production() {
                let opts = state.pools.direct().connect_options();
                bootstrap::ensure_database(&opts).await?;
            }
            state.pools.ping_primary(Duration::from_secs(5)).await
        }
        .await;
        match result {
            Ok(()) => break,
            Err(e) => {
                let limit = config.warmup_max_attempts;
                if limit != 0 && attempt >= limit {
                    return Err(WarmupError::Unreachable {
                        attempts: attempt,
                        last: e.to_string(),
                    });
                }
                let delay = backoff(config.warmup_base_delay, attempt);
                tracing::warn!(
                    attempt,
                    retry_in_ms = delay.as_millis() as u64,
                    error = %e,
                    "database unreachable; retrying"
                );
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = state.shutdown.cancelled() => return Err(WarmupError::Cancelled),
                }
            }
        }
    }
    if config.auto_migrate {
        let report = migrate::run(state.pools.direct())
            .await
            .map_err(|e| WarmupError::Migrations(e.to_string()))?;
        tracing::info!(
            applied_now = report.applied_now,
            total = report.total,
            "migrations up to date"
        );
    }
    let replica = check_optional_dependencies(state).await;
    state.readiness.mark_warmed();
    tracing::info!(replica = ?replica, "warm-up done; ready for traffic");
    Ok(())
}

/// How often the monitor re-checks the replica and Redis.
const MONITOR_INTERVAL: Duration = Duration::from_secs(5);

/// Probes the replica and Redis, records what it saw, and logs Redis state changes once.
async fn check_optional_dependencies(state: &AppState) -> crate::db::pools::ReplicaStatus {
    let replica = state.pools.probe_replica(Duration::from_secs(3)).await;
    if let Some(redis) = &state.redis {
        // The client logs its own state changes and keeps the readiness flag current; an open
        // circuit is not probed before its reset time.
        let _ = redis.ping().await;
        // Invalidations recorded outside any request (see `cache::touch`).
        if crate::cache::take_untracked_write() {
            redis
                .bump(
                    &[crate::cache::Gen::Epoch].into_iter().collect(),
                    Duration::ZERO,
                )
                .await;
        }
    }
    replica
}

/// Re-checks the optional dependencies every few seconds until shutdown, so `readyz` can answer
/// from memory instead of waiting on them.
pub async fn monitor(state: AppState) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(MONITOR_INTERVAL) => {}
            _ = state.shutdown.cancelled() => return,
        }
        check_optional_dependencies(&state).await;
    }
}

/// Runs this instance's statement refresher once warm-up is done, until shutdown
/// (see [`crate::services::statements`]).
async fn refresh_statements(state: AppState) {
    while !state.readiness.is_warmed() {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(200)) => {}
            _ = state.shutdown.cancelled() => return,
        }
    }
    crate::services::statements::run(
        state.pools.primary().clone(),
        state.statements_wake.clone(),
        state.shutdown.clone(),
    )
    .await;
}

/// Runs this instance's job engine once warm-up is done, until shutdown begins; running jobs
/// get the drain time to finish (see [`crate::jobs::engine`]).
pub async fn run_jobs(state: AppState) {
    while !state.readiness.is_warmed() {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(200)) => {}
            _ = state.draining.cancelled() => return,
        }
    }
    crate::jobs::engine::Runner::from_state(&state)
        .run_loop(
            state.config.jobs_tick,
            state.draining.clone(),
            state.config.shutdown_timeout,
        )
        .await;
}

/// The server ran past `SHUTDOWN_TIMEOUT_MS` with requests still in flight.
#[derive(Debug, thiserror::Error)]
#[error("requests were still in flight after the drain time")]
pub struct DrainTimeout;

/// Serves until `shutdown` resolves, then stops accepting, drains in-flight requests for up to
/// `SHUTDOWN_TIMEOUT_MS`, and cancels background work.
pub async fn run_server(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), DrainTimeout> {
    let app = crate::http::router(state.clone());
    run_router(listener, app, state, shutdown).await
}

/// As `run_server`, for a router already built (tests add their own routes this way).
pub async fn run_router(
    listener: TcpListener,
    app: axum::Router,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), DrainTimeout> {
    let refresher = tokio::spawn(refresh_statements(state.clone()));
    let jobs = state
        .config
        .jobs_enabled
        .then(|| tokio::spawn(run_jobs(state.clone())));
    let (fired_tx, fired_rx) = tokio::sync::oneshot::channel::<()>();
    let readiness_state = state.clone();
    let server = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown.await;
        readiness_state.readiness.begin_shutdown();
        readiness_state.draining.cancel();
        tracing::info!("shutdown requested: no new connections; draining in-flight requests");
        let _ = fired_tx.send(());
    });
    let mut server = std::pin::pin!(server.into_future());
    let result = tokio::select! {
        r = &mut server => {
            if let Err(e) = r { tracing::error!(error = %e, "server error"); }
            Ok(())
        }
        _ = fired_rx => {
            match tokio::time::timeout(state.config.shutdown_timeout, &mut server).await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => { tracing::error!(error = %e, "server error"); Ok(()) }
                Err(_) => {
                    tracing::error!(
                        drain_ms = state.config.shutdown_timeout.as_millis() as u64,
                        "drain time exceeded; abandoning in-flight requests"
                    );
                    Err(DrainTimeout)
                }
            }
        }
    };
    // The job engine stopped claiming when the drain began; wait for it to finish or release
    // its running jobs before the pools close.
    state.draining.cancel();
    if let Some(jobs) = jobs {
        let _ = tokio::time::timeout(state.config.shutdown_timeout + Duration::from_secs(2), jobs)
            .await;
    }
    state.shutdown.cancel();
    // A rebuild in progress finishes (or, past this, is rolled back when the pools close; its
    // request stays queued).
    let _ = tokio::time::timeout(POOL_CLOSE_TIMEOUT, refresher).await;
    result
}

/// How long shutdown waits for database connections to be returned before exiting anyway.
const POOL_CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// Resolves on SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            // No SIGINT handler could be installed: wait for SIGTERM only.
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => tracing::info!(signal = "SIGINT", "signal received"),
        _ = term => tracing::info!(signal = "SIGTERM", "signal received"),
    }
}

/// `banca worker`: find the database, warm up, then run scheduled jobs (and the statement
/// refresher) without serving HTTP, until a signal; running jobs get the drain time.
pub async fn work(config: Config) -> anyhow::Result<()> {
    let resolved = bootstrap::resolve_database(&config).await?;
    let mut cluster: Option<LocalCluster> = resolved.cluster;
    let state = AppState::build(config, &resolved.url)?;
    println!("Banca job worker {} starting", state.instance);
    let warmed = tokio::select! {
        r = warm_up(&state) => Some(r),
        _ = shutdown_signal() => None,
    };
    let result = match warmed {
        None => Ok(()),
        Some(Err(e)) => Err(anyhow::anyhow!("start-up failed: {e}")),
        Some(Ok(())) => {
            let refresher = tokio::spawn(refresh_statements(state.clone()));
            let engine = tokio::spawn(run_jobs(state.clone()));
            shutdown_signal().await;
            state.readiness.begin_shutdown();
            state.draining.cancel();
            let _ = tokio::time::timeout(
                state.config.shutdown_timeout + Duration::from_secs(2),
                engine,
            )
            .await;
            state.shutdown.cancel();
            let _ = tokio::time::timeout(POOL_CLOSE_TIMEOUT, refresher).await;
            Ok(())
        }
    };
    state.shutdown.cancel();
    if tokio::time::timeout(POOL_CLOSE_TIMEOUT, state.pools.close())
        .await
        .is_err()
    {
        tracing::warn!("database connections still busy at exit; closing them anyway");
    }
    if let Some(c) = cluster.as_mut() {
        c.stop();
    }
    tracing::info!("worker stopped");
    result
}

/// `banca serve`: find the database, listen, warm up in the background, serve until a signal,
/// drain, close pools and stop a private cluster if one was started.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    if !config.jwt_secrets_generated.is_empty() {
        tracing::warn!(
            unset = ?config.jwt_secrets_generated,
            "JWT secret(s) unset: using secrets generated for this run (tokens stop working at \
             restart); set them in .env to keep sessions"
        );
    }
    if config.disable_auth {
        tracing::warn!("DISABLE_AUTH=true: authentication is off (development only)");
    }
    let resolved = bootstrap::resolve_database(&config).await?;
    let mut cluster: Option<LocalCluster> = resolved.cluster;
    tracing::info!(database = %resolved.url, origin = resolved.origin, "database selected");

    let addr = format!("{}:{}", config.host, config.port);
    let listener = TcpListener::bind(&addr).await.with_context(|| {
        format!(
            "cannot listen on {addr} (is another server using PORT={}?)",
            config.port
        )
    })?;
    let local = listener.local_addr()?;
    let state = AppState::build(config, &resolved.url)?;

    let shown = if local.ip().is_unspecified() {
        SocketAddr::from(([127, 0, 0, 1], local.port()))
    } else {
        local
    };
    tracing::info!(
        url = %format!("http://{shown}/api/v1"),
        environment = state.config.environment.as_str(),
        "Banca listening"
    );
    println!("Banca listening on http://{shown}/api/v1 (readiness: /api/v1/readyz)");

    let warm_state = state.clone();
    let (fatal_tx, fatal_rx) = tokio::sync::oneshot::channel::<String>();
    tokio::spawn(async move {
        match warm_up(&warm_state).await {
            Ok(()) => monitor(warm_state).await,
            Err(WarmupError::Cancelled) => {}
            Err(e) => {
                tracing::error!(error = %e, "start-up failed");
                let _ = fatal_tx.send(e.to_string());
            }
        }
    });

    let fatal = Arc::new(std::sync::Mutex::new(None::<String>));
    let fatal_slot = fatal.clone();
    let stop = async move {
        tokio::select! {
            _ = shutdown_signal() => {
                // A second signal while draining stops at once.
                tokio::spawn(async {
                    shutdown_signal().await;
                    tracing::warn!("second signal: exiting without finishing the drain");
                    std::process::exit(130);
                });
            }
            Ok(reason) = fatal_rx => {
                if let Ok(mut slot) = fatal_slot.lock() { *slot = Some(reason); }
            }
        }
    };
    let drained = run_server(listener, state.clone(), stop).await;
    // Connections still checked out (a request abandoned after the drain time, a migration
    // waiting on its lock) must not keep the process alive.
    if tokio::time::timeout(POOL_CLOSE_TIMEOUT, state.pools.close())
        .await
        .is_err()
    {
        tracing::warn!("database connections still busy at exit; closing them anyway");
    }
    if let Some(c) = cluster.as_mut() {
        c.stop();
    }
    let fatal = fatal.lock().ok().and_then(|g| g.clone());
    if let Some(reason) = fatal {
        anyhow::bail!("stopped: {reason}");
    }
    drained?;
    tracing::info!("shutdown complete");
    Ok(())
}
