//! The three database roles of the deployment guide: the pooled primary (`DATABASE_URL`, every
//! request and the jobs, which hold nothing across transactions so a transaction-mode pooler
//! suits them), the direct connection (`DIRECT_URL`, for migrations and their session-level
//! advisory lock) and the read replica (`DATABASE_URL_REPLICA`, for reports) with fallback to
//! the primary. docs/scaling.md explains the split and the pool sizes.

use std::future::Future;
use std::str::FromStr;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::ConnectOptions;
use url::Url;

use crate::config::{Config, ServiceUrl, StatementCache};

/// Default size of the primary pool when neither `DATABASE_POOL_MAX` nor the URL's
/// `connection_limit` says otherwise (the existing system's default).
pub const DEFAULT_PRIMARY_POOL: u32 = 25;

/// URL parameters sqlx understands; they pass through unchanged.
const SQLX_PARAMS: [&str; 12] = [
    "sslmode",
    "sslrootcert",
    "sslcert",
    "sslkey",
    "host",
    "hostaddr",
    "port",
    "dbname",
    "user",
    "password",
    "application_name",
    "options",
];

/// What a Prisma-style URL said beyond the plain connection options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UrlHints {
    /// `connection_limit`: pool size.
    pub connection_limit: Option<u32>,
    /// `pool_timeout` (seconds): how long to wait for a free connection.
    pub pool_timeout: Option<Duration>,
    /// `pgbouncer=true`, or port 6543 (Supabase's transaction pooler).
    pub pgbouncer: bool,
    /// `statement_timeout` (milliseconds).
    pub statement_timeout_ms: Option<u64>,
}

/// True when a URL points at a transaction-mode pooler (`pgbouncer=true` or port 6543).
pub fn looks_like_pgbouncer(url: &Url) -> bool {
    url.port() == Some(6543)
        || url.query_pairs().any(|(k, v)| {
            (k == "pgbouncer" && (v.eq_ignore_ascii_case("true") || v == "1"))
                || (k == "port" && v == "6543")
        })
}

/// Parses a PostgreSQL URL: keeps what sqlx understands, turns Prisma's parameters into
/// hints, and drops anything else with a warning that names the key only (values may be
/// secrets).
pub fn parse_pg_url(url: &ServiceUrl) -> Result<(PgConnectOptions, UrlHints), sqlx::Error> {
    let mut u: Url = url.url().clone();
    let mut hints = UrlHints {
        pgbouncer: looks_like_pgbouncer(&u),
        ..UrlHints::default()
    };
    let positive = |v: &str| v.parse::<u64>().ok().filter(|n| *n > 0);
    let mut kept = Vec::new();
    for (k, v) in u.query_pairs() {
        match k.as_ref() {
            "connection_limit" => {
                hints.connection_limit = positive(&v).and_then(|n| u32::try_from(n).ok())
            }
            "pool_timeout" => hints.pool_timeout = positive(&v).map(Duration::from_secs),
            "statement_timeout" => hints.statement_timeout_ms = positive(&v),
            "pgbouncer" | "schema" | "statement_cache_size" => {}
            // A pooler refuses the `options` startup parameter.
            "options" if hints.pgbouncer => {
                tracing::warn!(
                    "ignoring the options URL parameter: a transaction pooler refuses it"
                )
            }
            k if SQLX_PARAMS.contains(&k) => kept.push((k.to_owned(), v.into_owned())),
            other => tracing::warn!(parameter = %other, "ignoring unknown database URL parameter"),
        }
    }
    if kept.is_empty() {
        u.set_query(None);
    } else {
        u.query_pairs_mut().clear().extend_pairs(kept);
    }
    let opts = PgConnectOptions::from_str(u.as_str())?;
    Ok((opts, hints))
}

/// Whether statements are prepared as named, cached statements on this target.
pub fn named_statements(cache: StatementCache, hints: &UrlHints) -> bool {
    match cache {
        StatementCache::On => true,
        StatementCache::Off => false,
        StatementCache::Auto => !hints.pgbouncer,
    }
}

fn tune(opts: PgConnectOptions, cache: StatementCache, hints: &UrlHints) -> PgConnectOptions {
    let mut opts = opts
        .application_name("banca")
        .log_slow_statements(tracing::log::LevelFilter::Warn, Duration::from_millis(500));
    if !named_statements(cache, hints) {
        opts = opts.statement_cache_capacity(0);
    }
    if hints.pgbouncer {
        // PgBouncer refuses startup parameters it does not track (`extra_float_digits`,
        // `options`), so send none of them.
        opts = opts.extra_float_digits(None);
        if hints.statement_timeout_ms.is_some() {
            tracing::warn!(
                "statement_timeout in a PgBouncer URL is ignored; set it on the database role instead"
            );
        }
    } else if let Some(ms) = hints.statement_timeout_ms {
        opts = opts.options([("statement_timeout", ms.to_string())]);
    }
    opts
}

/// A pool's connection options and the hints of its URL.
#[derive(Clone)]
pub struct DbTarget {
    pub options: PgConnectOptions,
    pub hints: UrlHints,
}

impl DbTarget {
    fn parse(url: &ServiceUrl, cache: StatementCache) -> Result<Self, sqlx::Error> {
        let (options, hints) = parse_pg_url(url)?;
        Ok(DbTarget {
            options: tune(options, cache, &hints),
            hints,
        })
    }
}

/// Resolved connection options for the three roles. No `Debug`: the options hold passwords.
#[derive(Clone)]
pub struct DbTargets {
    pub primary: DbTarget,
    pub direct: DbTarget,
    pub replica: Option<DbTarget>,
    /// False when the primary needs unnamed statements (see `crate::db::query`).
    pub named_statements: bool,
}

impl DbTargets {
    /// Builds the targets from the configuration and the resolved primary URL.
    pub fn resolve(config: &Config, primary_url: &ServiceUrl) -> Result<Self, sqlx::Error> {
        let cache = config.statement_cache;
        let primary = DbTarget::parse(primary_url, cache)?;
        let direct = match &config.direct_url {
            Some(u) => DbTarget::parse(u, cache)?,
            None => primary.clone(),
        };
        let replica = match &config.replica_url {
            Some(u) => Some(DbTarget::parse(u, cache)?),
            None => None,
        };
        let named_statements = named_statements(cache, &primary.hints)
            && replica
                .as_ref()
                .is_none_or(|r| named_statements(cache, &r.hints));
        Ok(DbTargets {
            primary,
            direct,
            replica,
            named_statements,
        })
    }
}

/// Which pool served a read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ReadSource {
    Replica,
    Primary,
}

impl ReadSource {
    pub fn as_str(self) -> &'static str {
        match self {
            ReadSource::Replica => "replica",
            ReadSource::Primary => "primary",
        }
    }
}

const REPLICA_UNKNOWN: u8 = 0;
const REPLICA_UP: u8 = 1;
const REPLICA_DOWN: u8 = 2;

struct Replica {
    pool: PgPool,
    state: AtomicU8,
    down_since: Mutex<Option<Instant>>,
    retry_interval: Duration,
}

impl Replica {
    /// True when the replica should be tried for this read.
    fn usable(&self) -> bool {
        if self.state.load(Ordering::Acquire) != REPLICA_DOWN {
            return true;
        }
        let since = self.down_since.lock().map(|g| *g).unwrap_or(None);
        since.is_none_or(|t| t.elapsed() >= self.retry_interval)
    }

    fn mark_down(&self, err: &sqlx::Error) {
        if let Ok(mut g) = self.down_since.lock() {
            *g = Some(Instant::now());
        }
        if self.state.swap(REPLICA_DOWN, Ordering::AcqRel) != REPLICA_DOWN {
            tracing::warn!(
                error = %err,
                "read replica unreachable; reads fall back to the primary until it answers again"
            );
        }
    }

    fn mark_up(&self) {
        if self.state.swap(REPLICA_UP, Ordering::AcqRel) == REPLICA_DOWN {
            tracing::info!("read replica reachable again; reads go to the replica");
        }
    }
}

/// State of the replica as shown by `readyz`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplicaStatus {
    NotConfigured,
    Unknown,
    Up,
    /// Configured but unreachable: reads are served by the primary.
    Fallback,
}

/// The application's pools. Cloning is cheap (pools are reference counted).
#[derive(Clone)]
pub struct Pools {
    primary: PgPool,
    direct: PgPool,
    replica: Option<std::sync::Arc<Replica>>,
}

/// True for errors that mean "could not talk to the server", as opposed to a query's own error.
pub fn is_connection_error(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => {
            // 08xxx connection exceptions, 57P0x admin shutdown / cannot connect now.
            db.code()
                .map(|c| c.starts_with("08") || c.starts_with("57P"))
                .unwrap_or(false)
        }
        _ => false,
    }
}

impl Pools {
    /// Creates the pools lazily: nothing connects until first use, so a database that is down
    /// at start does not stop the process (warm-up retries and reports it).
    pub fn connect_lazy(config: &Config, targets: &DbTargets) -> Self {
        crate::db::set_named_statements(targets.named_statements);
        // Explicit variables win over URL parameters, which win over defaults.
        let size = |explicit: Option<u32>, target: &DbTarget, default: u32| {
            explicit
                .or(target.hints.connection_limit)
                .unwrap_or(default)
        };
        let acquire = |target: &DbTarget| {
            config
                .database_acquire_timeout
                .or(target.hints.pool_timeout)
                .unwrap_or(crate::config::DEFAULT_ACQUIRE_TIMEOUT)
        };
        let max = size(
            config.database_pool_max,
            &targets.primary,
            DEFAULT_PRIMARY_POOL,
        );
        use crate::observability::metrics::{timed_acquire, PoolRole};
        let primary = timed_acquire(PgPoolOptions::new(), PoolRole::Primary)
            .max_connections(max)
            .min_connections(config.database_pool_min.min(max))
            .acquire_timeout(acquire(&targets.primary))
            .idle_timeout(Some(Duration::from_secs(300)))
            .connect_lazy_with(targets.primary.options.clone());
        let direct = timed_acquire(PgPoolOptions::new(), PoolRole::Direct)
            .max_connections(size(config.direct_pool_max, &targets.direct, 5))
            .acquire_timeout(acquire(&targets.direct))
            .idle_timeout(Some(Duration::from_secs(300)))
            .connect_lazy_with(targets.direct.options.clone());
        let replica = targets.replica.as_ref().map(|target| {
            std::sync::Arc::new(Replica {
                pool: timed_acquire(PgPoolOptions::new(), PoolRole::Replica)
                    .max_connections(size(config.replica_pool_max, target, 10))
                    .acquire_timeout(acquire(target).min(Duration::from_secs(3)))
                    .idle_timeout(Some(Duration::from_secs(300)))
                    .connect_lazy_with(target.options.clone()),
                state: AtomicU8::new(REPLICA_UNKNOWN),
                down_since: Mutex::new(None),
                retry_interval: config.replica_retry_interval,
            })
        });
        Pools {
            primary,
            direct,
            replica,
        }
    }

    /// The pooled primary: every request's reads and writes.
    pub fn primary(&self) -> &PgPool {
        &self.primary
    }

    /// The direct connection: migrations (a session-level advisory lock serialises them) and,
    /// outside production, creating a missing database.
    pub fn direct(&self) -> &PgPool {
        &self.direct
    }

    /// The replica's pool, when one is configured (metrics read its size).
    pub fn replica_pool(&self) -> Option<&PgPool> {
        self.replica.as_ref().map(|r| &r.pool)
    }

    pub fn replica_status(&self) -> ReplicaStatus {
        match &self.replica {
            None => ReplicaStatus::NotConfigured,
            Some(r) => match r.state.load(Ordering::Acquire) {
                REPLICA_UP => ReplicaStatus::Up,
                REPLICA_DOWN => ReplicaStatus::Fallback,
                _ => ReplicaStatus::Unknown,
            },
        }
    }

    /// Runs a read-only query on the replica when one is configured and reachable, else on the
    /// primary. A connection failure on the replica marks it down (logged once) and the same
    /// read is retried on the primary; the replica is tried again after
    /// `REPLICA_RETRY_INTERVAL_MS`.
    pub async fn read<T, F, Fut>(&self, query: F) -> Result<(T, ReadSource), sqlx::Error>
    where
        F: Fn(PgPool) -> Fut,
        Fut: Future<Output = Result<T, sqlx::Error>>,
    {
        if let Some(replica) = &self.replica {
            if replica.usable() {
                match query(replica.pool.clone()).await {
                    Ok(v) => {
                        replica.mark_up();
                        return Ok((v, ReadSource::Replica));
                    }
                    Err(e) if is_connection_error(&e) => replica.mark_down(&e),
                    Err(e) => return Err(e),
                }
            }
        }
        query(self.primary.clone())
            .await
            .map(|v| (v, ReadSource::Primary))
    }

    /// Checks the replica now (warm-up and `readyz`); updates and returns its status.
    pub async fn probe_replica(&self, timeout: Duration) -> ReplicaStatus {
        if let Some(r) = &self.replica {
            let ping = crate::db::query_scalar::<i32>("SELECT 1").fetch_one(&r.pool);
            match tokio::time::timeout(timeout, ping).await {
                Ok(Ok(_)) => r.mark_up(),
                Ok(Err(e)) => r.mark_down(&e),
                Err(_) => r.mark_down(&sqlx::Error::PoolTimedOut),
            }
        }
        self.replica_status()
    }

    /// `SELECT 1` on the primary within `timeout`.
    pub async fn ping_primary(&self, timeout: Duration) -> Result<(), sqlx::Error> {
        let ping = crate::db::query_scalar::<i32>("SELECT 1").fetch_one(&self.primary);
        match tokio::time::timeout(timeout, ping).await {
            Ok(r) => r.map(|_| ()),
            Err(_) => Err(sqlx::Error::PoolTimedOut),
        }
    }

    /// Closes every pool, waiting for connections in use to be returned.
    pub async fn close(&self) {
        self.primary.close().await;
        self.direct.close().await;
        if let Some(r) = &self.replica {
            r.pool.close().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prisma_parameters_are_stripped_and_honoured() {
        let url = ServiceUrl::parse(
            "postgresql://u:p@db.example:6543/postgres?pgbouncer=true&connection_limit=8&pool_timeout=5&sslmode=require",
        )
        .unwrap();
        let (opts, hints) = parse_pg_url(&url).unwrap();
        assert_eq!(hints.connection_limit, Some(8));
        assert!(matches!(
            opts.get_ssl_mode(),
            sqlx::postgres::PgSslMode::Require
        ));
        assert_eq!(hints.pool_timeout, Some(Duration::from_secs(5)));
        assert!(hints.pgbouncer);
        assert_eq!(opts.get_host(), "db.example");
        assert_eq!(opts.get_port(), 6543);

        assert!(!named_statements(StatementCache::Auto, &hints));
        assert!(named_statements(StatementCache::On, &hints));

        let url = ServiceUrl::parse(
            "postgres://u@localhost:5432/banca?statement_timeout=20000&sslpassword=hunter2",
        )
        .unwrap();
        let (_, hints) = parse_pg_url(&url).unwrap();
        assert_eq!(hints.statement_timeout_ms, Some(20_000));
        assert!(!hints.pgbouncer);
        assert!(named_statements(StatementCache::Auto, &hints));
        assert!(!named_statements(StatementCache::Off, &hints));
    }
}
