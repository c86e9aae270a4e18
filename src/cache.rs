//! The Redis connection (optional) and the one gate every Redis user goes through: shared
//! caches (sessions, catalog reads, reports) and shared rate limits. PostgreSQL is always the
//! source of truth, so Redis being down or slow degrades, never corrupts.
//!
//! - **Never waits on the request path**: connections are opened by a background task (within
//!   `REDIS_CONNECT_TIMEOUT`); a request waits for one at most `REDIS_COMMAND_TIMEOUT_MS`, and
//!   every command is bounded by the same short timeout.
//! - **Circuit breaker** ([`Breaker`]): one failure or timeout drops the connection and leaves
//!   Redis alone for `REDIS_CB_RESET_MS`; then one caller tries again (the others keep going
//!   without Redis) and its result closes or reopens the circuit. The change is logged once
//!   when Redis goes down and once when it is back, and mirrored in the readiness flags.
//! - **Generations**: cached values carry the generations they were read under (see
//!   [`Gen`]); a write bumps a generation after its commit ([`touch`] records what a request
//!   changed, [`Redis::bump`] publishes it), so every instance's next read misses at once.
//!   Every new connection bumps the epoch, the generation every cached value carries: a
//!   bump lost while Redis was unreachable (or a Redis restored from an old snapshot) can
//!   never leave an old value looking current.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use redis::aio::MultiplexedConnection;
use uuid::Uuid;

use crate::config::{RedisOptions, ServiceUrl};

/// Readiness flag values shared with [`crate::app::Readiness`]: 0 unknown, 1 up, 2 down.
pub const STATUS_UNKNOWN: u8 = 0;
pub const STATUS_UP: u8 = 1;
pub const STATUS_DOWN: u8 = 2;

/// Why a Redis call did not happen or did not succeed. The caller falls back to PostgreSQL
/// or to this process.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unavailable {
    #[error("Redis skipped: the circuit is open after a recent failure")]
    CircuitOpen,
    #[error("no Redis connection yet")]
    NotConnected,
    #[error("Redis did not answer within the command timeout")]
    Timeout,
    #[error("Redis failed: {0}")]
    Failed(String),
}

/// What a breaker event changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    None,
    /// It was working (or never tried) and failed.
    WentDown,
    /// It had failed and answers again.
    CameBack,
}

/// State of the circuit breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Calls go through.
    Closed,
    /// Calls are skipped until `until`.
    Open { until: Instant },
    /// One caller is trying since `since`; the others skip.
    Trial { since: Instant },
}

/// A circuit breaker: closed until a failure, then open for `reset`, then one trial call.
/// A trial that never reports (its caller was cancelled) is replaced after `trial_timeout`.
#[derive(Debug)]
pub struct Breaker {
    reset: Duration,
    trial_timeout: Duration,
    state: Mutex<BreakerState>,
}

impl Breaker {
    pub fn new(reset: Duration, trial_timeout: Duration) -> Self {
        Breaker {
            reset,
            trial_timeout,
            state: Mutex::new(BreakerState::Closed),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BreakerState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn state(&self) -> BreakerState {
        *self.lock()
    }

    /// Whether a call may go to Redis at `now`. When the open period is over, the first caller
    /// becomes the trial and the others are refused until it reports.
    pub fn allow(&self, now: Instant) -> bool {
        let mut s = self.lock();
        match *s {
            BreakerState::Closed => true,
            BreakerState::Open { until } if now < until => false,
            BreakerState::Open { .. } => {
                *s = BreakerState::Trial { since: now };
                true
            }
            BreakerState::Trial { since } => {
                if now.saturating_duration_since(since) >= self.trial_timeout {
                    *s = BreakerState::Trial { since: now };
                    true
                } else {
                    false
                }
            }
        }
    }

    /// A call succeeded: the circuit closes.
    pub fn record_success(&self) -> Change {
        let mut s = self.lock();
        let was = *s;
        *s = BreakerState::Closed;
        if was != BreakerState::Closed {
            Change::CameBack
        } else {
            Change::None
        }
    }

    /// A call failed at `now`: the circuit opens for the reset period.
    pub fn record_failure(&self, now: Instant) -> Change {
        let mut s = self.lock();
        let was = *s;
        *s = BreakerState::Open {
            until: now + self.reset,
        };
        if was == BreakerState::Closed {
            Change::WentDown
        } else {
            Change::None
        }
    }
}

/// A generation: a counter in Redis that cached values are tagged with.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Gen {
    /// Bumped by every new connection; part of every tag.
    Epoch,
    /// Session checks of everyone (banca and ventana changes).
    AllSessions,
    /// Session checks of one user (revocations, user and user-banca changes).
    User(Uuid),
    /// Catalog reads (loterías, multipliers, overrides, restriction rules).
    Catalog,
}

impl Gen {
    /// The key without the prefix.
    pub fn key(&self) -> String {
        match self {
            Gen::Epoch => "gen:epoch".into(),
            Gen::AllSessions => "gen:auth".into(),
            Gen::User(id) => format!("gen:auth:u:{id}"),
            Gen::Catalog => "gen:catalog".into(),
        }
    }
}

/// The tag of a value read under `gens` (their values, in order).
pub fn tag(gens: &[i64]) -> String {
    let parts: Vec<String> = gens.iter().map(i64::to_string).collect();
    parts.join(":")
}

/// A cached value with its tag in front: `<tag>\n<payload>`.
pub fn tagged(tag: &str, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(tag.len() + 1 + payload.len());
    v.extend_from_slice(tag.as_bytes());
    v.push(b'\n');
    v.extend_from_slice(payload);
    v
}

/// The payload of a tagged value when its tag is `tag` (the value is current).
pub fn untag<'a>(value: &'a [u8], tag: &str) -> Option<&'a [u8]> {
    let rest = value.strip_prefix(tag.as_bytes())?;
    rest.strip_prefix(b"\n")
}

/// Parses a generation as `MGET` returns it (absent: 0).
pub fn gen_value(v: &Option<Vec<u8>>) -> i64 {
    v.as_deref()
        .and_then(|b| std::str::from_utf8(b).ok())
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

tokio::task_local! {
    static TOUCHED: RefCell<BTreeSet<Gen>>;
}

/// Writes made outside any [`track`] scope (a spawned task, a job): the next flush bumps the
/// epoch, so nothing cached stays current by mistake.
static UNTRACKED_WRITE: AtomicBool = AtomicBool::new(false);

/// Records that the current request changed what `gen` covers. Called by the code that
/// writes (next to the SQL); published by [`Redis::bump`] after the request is done (after
/// its commit). Outside a request, flags the write so the next flush bumps everything.
pub fn touch(gen: Gen) {
    if TOUCHED
        .try_with(|t| {
            t.borrow_mut().insert(gen);
        })
        .is_err()
    {
        UNTRACKED_WRITE.store(true, Ordering::Release);
    }
}

/// Runs `fut` collecting the generations it touches.
pub async fn track<F: Future>(fut: F) -> (F::Output, BTreeSet<Gen>) {
    TOUCHED
        .scope(RefCell::new(BTreeSet::new()), async move {
            let out = fut.await;
            let touched = TOUCHED.with(|t| std::mem::take(&mut *t.borrow_mut()));
            (out, touched)
        })
        .await
}

/// Takes the flag of writes made outside any request (see [`touch`]).
pub fn take_untracked_write() -> bool {
    UNTRACKED_WRITE.swap(false, Ordering::AcqRel)
}

#[derive(Default)]
struct Slot {
    conn: Option<MultiplexedConnection>,
    /// Incremented with every new connection, so a failure drops only the connection it saw.
    id: u64,
    connecting: bool,
}

struct Inner {
    client: redis::Client,
    prefix: String,
    connect_timeout: Duration,
    command_timeout: Duration,
    slot: Mutex<Slot>,
    connected: tokio::sync::Notify,
    breaker: Breaker,
    status: Arc<AtomicU8>,
}

/// The process's Redis client. Cheap to clone.
#[derive(Clone)]
pub struct Redis {
    inner: Arc<Inner>,
}

impl Redis {
    /// A client for `url` (`REDIS_TOKEN` as the password when set); nothing connects yet.
    /// `status` is the readiness flag this client keeps current.
    pub fn new(
        url: &ServiceUrl,
        prefix: &str,
        options: &RedisOptions,
        status: Arc<AtomicU8>,
    ) -> Result<Self, redis::RedisError> {
        use redis::IntoConnectionInfo;
        let mut info = url.expose().into_connection_info()?;
        if let Some(token) = &options.token {
            info.redis.password = Some(token.expose().to_string());
        }
        Ok(Redis {
            inner: Arc::new(Inner {
                client: redis::Client::open(info)?,
                prefix: prefix.to_string(),
                connect_timeout: options.connect_timeout,
                command_timeout: options.command_timeout,
                slot: Mutex::new(Slot::default()),
                connected: tokio::sync::Notify::new(),
                breaker: Breaker::new(
                    options.breaker_reset,
                    options.connect_timeout + options.command_timeout,
                ),
                status,
            }),
        })
    }

    /// The key prefix (`REDIS_PREFIX`).
    pub fn prefix(&self) -> &str {
        &self.inner.prefix
    }

    /// `rest` under this client's prefix.
    pub fn key(&self, rest: &str) -> String {
        format!("{}{rest}", self.inner.prefix)
    }

    pub fn command_timeout(&self) -> Duration {
        self.inner.command_timeout
    }

    pub fn breaker_state(&self) -> BreakerState {
        self.inner.breaker.state()
    }

    /// Whether Redis answered last time (a closed circuit with a connection).
    pub fn is_up(&self) -> bool {
        self.inner.status.load(Ordering::Acquire) == STATUS_UP
    }

    fn slot(&self) -> std::sync::MutexGuard<'_, Slot> {
        self.inner.slot.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn report(&self, change: Change, error: Option<&str>) {
        let up = error.is_none();
        self.inner
            .status
            .store(if up { STATUS_UP } else { STATUS_DOWN }, Ordering::Release);
        match change {
            Change::WentDown => tracing::warn!(
                error = error.unwrap_or(""),
                retry_in_ms = self.inner.breaker.reset.as_millis() as u64,
                "Redis unavailable: caches skipped and rate limits kept per process until it answers"
            ),
            Change::CameBack => {
                tracing::info!("Redis answers again: shared caches and rate limits resumed")
            }
            Change::None => {}
        }
    }

    fn succeeded(&self) {
        let change = self.inner.breaker.record_success();
        self.report(change, None);
    }

    fn failed(&self, conn_id: Option<u64>, error: &str) {
        if let Some(id) = conn_id {
            let mut slot = self.slot();
            if slot.id == id {
                slot.conn = None;
            }
        }
        crate::observability::metrics::redis_failure();
        let change = self.inner.breaker.record_failure(Instant::now());
        self.report(change, Some(error));
    }

    /// Starts a background connect unless one is running or a connection exists.
    fn ensure_connecting(&self) {
        {
            let mut slot = self.slot();
            if slot.conn.is_some() || slot.connecting {
                return;
            }
            slot.connecting = true;
        }
        let this = self.clone();
        tokio::spawn(async move {
            let result = this.open_connection().await;
            let error = {
                let mut slot = this.slot();
                slot.connecting = false;
                match result {
                    Ok(conn) => {
                        slot.conn = Some(conn);
                        slot.id += 1;
                        None
                    }
                    Err(e) => Some(e),
                }
            };
            match error {
                None => {
                    let first = this.inner.status.load(Ordering::Acquire) == STATUS_UNKNOWN;
                    this.succeeded();
                    if first {
                        tracing::info!("Redis connected");
                    }
                }
                Some(e) => this.failed(None, &e),
            }
            this.inner.connected.notify_waiters();
        });
    }

    /// Opens a connection and bumps the epoch on it (see the module docs).
    async fn open_connection(&self) -> Result<MultiplexedConnection, String> {
        let config = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(self.inner.connect_timeout)
            .set_response_timeout(self.inner.connect_timeout);
        let mut conn = tokio::time::timeout(
            self.inner.connect_timeout,
            self.inner
                .client
                .get_multiplexed_async_connection_with_config(&config),
        )
        .await
        .map_err(|_| "timed out connecting".to_string())?
        .map_err(|e| e.to_string())?;
        let epoch = self.key(&Gen::Epoch.key());
        tokio::time::timeout(
            self.inner.connect_timeout,
            redis::cmd("INCR").arg(&epoch).query_async::<i64>(&mut conn),
        )
        .await
        .map_err(|_| "timed out on the first command".to_string())?
        .map_err(|e| e.to_string())?;
        conn.set_response_timeout(self.inner.command_timeout);
        Ok(conn)
    }

    /// The current connection, waiting for a background connect at most `wait`.
    async fn connection(&self, wait: Duration) -> Option<(MultiplexedConnection, u64)> {
        let notified = self.inner.connected.notified();
        tokio::pin!(notified);
        {
            let slot = self.slot();
            if let Some(c) = &slot.conn {
                return Some((c.clone(), slot.id));
            }
            notified.as_mut().enable();
        }
        self.ensure_connecting();
        let _ = tokio::time::timeout(wait, notified).await;
        let slot = self.slot();
        slot.conn.clone().map(|c| (c, slot.id))
    }

    /// Runs `op` on a connection within the command timeout. Skipped while the circuit is
    /// open; a failure or a timeout drops the connection and opens the circuit.
    pub async fn run<T, F, Fut>(&self, op: F) -> Result<T, Unavailable>
    where
        F: FnOnce(MultiplexedConnection) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        self.run_waiting(self.inner.command_timeout, op).await
    }

    async fn run_waiting<T, F, Fut>(&self, wait: Duration, op: F) -> Result<T, Unavailable>
    where
        F: FnOnce(MultiplexedConnection) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        if !self.inner.breaker.allow(Instant::now()) {
            return Err(Unavailable::CircuitOpen);
        }
        let Some((conn, id)) = self.connection(wait).await else {
            return Err(Unavailable::NotConnected);
        };
        match tokio::time::timeout(self.inner.command_timeout, op(conn)).await {
            Ok(Ok(v)) => {
                if self.inner.breaker.state() != BreakerState::Closed {
                    self.succeeded();
                }
                Ok(v)
            }
            Ok(Err(e)) => {
                let msg = e.to_string();
                self.failed(Some(id), &msg);
                Err(Unavailable::Failed(msg))
            }
            Err(_) => {
                self.failed(Some(id), "command timed out");
                Err(Unavailable::Timeout)
            }
        }
    }

    /// `PING` for warm-up and the monitor: may wait for a connection up to the connect
    /// timeout; respects the circuit (an open circuit is reported without trying).
    pub async fn ping(&self) -> Result<(), Unavailable> {
        self.run_waiting(self.inner.connect_timeout, |mut c| async move {
            redis::cmd("PING").query_async::<String>(&mut c).await
        })
        .await
        .map(|_| ())
    }

    /// `MGET` of `keys` (each under the prefix).
    pub async fn mget(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, Unavailable> {
        let full: Vec<String> = keys.iter().map(|k| self.key(k)).collect();
        self.run(|mut c| async move {
            let mut cmd = redis::cmd("MGET");
            for k in &full {
                cmd.arg(k);
            }
            cmd.query_async::<Vec<Option<Vec<u8>>>>(&mut c).await
        })
        .await
    }

    /// `SET key value PX ttl` (the key under the prefix).
    pub async fn set_px(
        &self,
        key: &str,
        value: Vec<u8>,
        ttl: Duration,
    ) -> Result<(), Unavailable> {
        let k = self.key(key);
        let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        self.run(|mut c| async move {
            redis::cmd("SET")
                .arg(&k)
                .arg(value)
                .arg("PX")
                .arg(ms)
                .query_async::<()>(&mut c)
                .await
        })
        .await
    }

    /// Bumps `gens` (and the epoch too when a write happened outside any request). Per-user
    /// generations expire after `user_gen_ttl` (longer than any value tagged with them lives).
    /// A bump that cannot reach Redis is not lost: the failure drops the connection, and the
    /// next connection bumps the epoch.
    pub async fn bump(&self, gens: &BTreeSet<Gen>, user_gen_ttl: Duration) {
        let mut gens = gens.clone();
        if take_untracked_write() {
            gens.insert(Gen::Epoch);
        }
        if gens.is_empty() {
            return;
        }
        let ttl_ms = u64::try_from(user_gen_ttl.as_millis()).unwrap_or(u64::MAX);
        let keys: Vec<(String, bool)> = gens
            .iter()
            .map(|g| (self.key(&g.key()), matches!(g, Gen::User(_))))
            .collect();
        let res = self
            .run(|mut c| async move {
                let mut pipe = redis::pipe();
                for (k, expires) in &keys {
                    pipe.cmd("INCR").arg(k).ignore();
                    if *expires {
                        pipe.cmd("PEXPIRE").arg(k).arg(ttl_ms).ignore();
                    }
                }
                pipe.query_async::<()>(&mut c).await
            })
            .await;
        if let Err(e) = res {
            tracing::debug!(error = %e, "cache invalidation not published; the next connection bumps the epoch");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn breaker_opens_on_failure_lets_one_trial_through_after_reset_and_closes_on_success() {
        let b = Breaker::new(Duration::from_secs(10), Duration::from_secs(6));
        let t0 = Instant::now();
        assert!(b.allow(t0));
        assert_eq!(b.record_success(), Change::None, "closed stays closed");
        assert_eq!(b.record_failure(t0), Change::WentDown);
        assert!(!b.allow(t0 + Duration::from_secs(9)), "open: skipped");
        assert_eq!(
            b.record_failure(t0 + Duration::from_secs(1)),
            Change::None,
            "already down: logged once"
        );
        // The reset counts from the last failure.
        assert!(!b.allow(t0 + Duration::from_secs(10)));
        let t1 = t0 + Duration::from_secs(11);
        assert!(b.allow(t1), "after the reset one caller tries");
        assert!(matches!(b.state(), BreakerState::Trial { .. }));
        assert!(!b.allow(t1), "the others skip while the trial runs");
        assert_eq!(b.record_success(), Change::CameBack);
        assert_eq!(b.state(), BreakerState::Closed);
        assert!(b.allow(t1));
        assert_eq!(b.record_success(), Change::None);
    }

    #[test]
    fn a_failed_trial_reopens_and_a_lost_trial_is_replaced() {
        let b = Breaker::new(Duration::from_secs(10), Duration::from_secs(6));
        let t0 = Instant::now();
        assert_eq!(
            b.record_failure(t0),
            Change::WentDown,
            "never up: still logged"
        );
        let t1 = t0 + Duration::from_secs(10);
        assert!(b.allow(t1));
        assert_eq!(b.record_failure(t1), Change::None);
        assert!(!b.allow(t1 + Duration::from_secs(9)));
        let t2 = t1 + Duration::from_secs(10);
        assert!(b.allow(t2), "trial");
        assert!(!b.allow(t2 + Duration::from_secs(5)));
        assert!(
            b.allow(t2 + Duration::from_secs(6)),
            "a trial that never reported is replaced"
        );
        assert_eq!(b.record_success(), Change::CameBack);
    }

    #[test]
    fn tags_match_only_the_same_generations() {
        let t = tag(&[3, 0, 7]);
        assert_eq!(t, "3:0:7");
        let v = tagged(&t, b"{\"a\":1}");
        assert_eq!(untag(&v, "3:0:7"), Some(&b"{\"a\":1}"[..]));
        assert_eq!(untag(&v, "3:0:8"), None);
        assert_eq!(
            untag(&v, "3:0"),
            None,
            "a shorter tag is not a prefix match"
        );
        assert_eq!(gen_value(&None), 0);
        assert_eq!(gen_value(&Some(b"12".to_vec())), 12);
    }

    #[tokio::test]
    async fn touches_are_collected_per_scope_and_flagged_outside() {
        let uid = Uuid::new_v4();
        let ((), touched) = track(async {
            touch(Gen::User(uid));
            touch(Gen::Catalog);
            touch(Gen::User(uid));
        })
        .await;
        assert_eq!(
            touched.into_iter().collect::<Vec<_>>(),
            vec![Gen::User(uid), Gen::Catalog]
        );
        take_untracked_write();
        touch(Gen::Catalog);
        assert!(take_untracked_write());
        assert!(!take_untracked_write());
    }

    #[tokio::test]
    async fn an_unreachable_redis_fails_fast_and_then_is_skipped() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = ServiceUrl::parse(&format!("redis://127.0.0.1:{port}")).unwrap();
        let status = Arc::new(AtomicU8::new(STATUS_UNKNOWN));
        let opts = RedisOptions {
            token: None,
            connect_timeout: Duration::from_millis(500),
            command_timeout: Duration::from_millis(200),
            breaker_reset: Duration::from_secs(30),
        };
        let r = Redis::new(&url, "t:", &opts, status.clone()).unwrap();
        let started = Instant::now();
        assert!(r.ping().await.is_err());
        assert!(started.elapsed() < Duration::from_secs(2));
        assert_eq!(status.load(Ordering::Acquire), STATUS_DOWN);
        let started = Instant::now();
        assert_eq!(
            r.mget(&["k".into()]).await.unwrap_err(),
            Unavailable::CircuitOpen
        );
        assert!(
            started.elapsed() < Duration::from_millis(50),
            "skipped at once"
        );
    }
}
