//! The report cache: answers of cierres, dashboard, ventas and `/reports` kept for a short
//! time (`REPORT_CACHE_TTL_SECONDS`), shared across instances through Redis when it is
//! configured and answering, in this process otherwise.
//!
//! Freshness does not depend on the time to live: every key carries the banca's report
//! generation (`db::rollups::generation`), which the database bumps in the transaction of every
//! write that changes report money (evaluation, revert, prize payment, movement, statement
//! rebuild, adjustment). A read after such a write computes a new key, so it never sees the
//! older answer. Concurrent requests for the same key are coalesced: one computes, the others
//! wait for its answer. Errors are never cached.
//!
//! Redis is a mirror, never a source: a Redis that fails or answers slowly (over
//! [`REDIS_TIMEOUT`]) is skipped and the answer is computed from PostgreSQL; after a failure
//! Redis is left alone for [`REDIS_PAUSE`] (a crude circuit breaker), so a Redis that is down
//! costs a report one timeout every few seconds, not one per request.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::cache::Redis;

/// The longest a report read waits for Redis before computing the answer itself.
pub const REDIS_TIMEOUT: Duration = Duration::from_millis(150);

/// How long the cache leaves Redis alone after a failure.
pub const REDIS_PAUSE: Duration = Duration::from_secs(5);

/// Most answers kept in this process.
const LOCAL_CAPACITY: u64 = 2_000;

/// A cached answer: the `data` and `meta` of the response.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Cached {
    pub data: Value,
    pub meta: Value,
}

/// The process's report cache.
pub struct ReportCache {
    ttl: Duration,
    local: moka::future::Cache<String, Arc<Cached>>,
    /// Whether the last Redis call failed (a failure is logged once, a recovery once).
    redis_failing: AtomicBool,
    /// When Redis failed last (none: it has not, or it answered since).
    redis_failed_at: std::sync::Mutex<Option<std::time::Instant>>,
}

impl ReportCache {
    /// A cache keeping answers for `ttl` (zero: nothing is cached, requests still coalesce).
    pub fn new(ttl: Duration) -> Self {
        ReportCache {
            ttl,
            local: moka::future::Cache::builder()
                .max_capacity(LOCAL_CAPACITY)
                .time_to_live(ttl.max(Duration::from_millis(1)))
                .build(),
            redis_failing: AtomicBool::new(false),
            redis_failed_at: std::sync::Mutex::new(None),
        }
    }

    pub fn enabled(&self) -> bool {
        !self.ttl.is_zero()
    }

    /// The answer under `key`, computing it with `compute` when neither this process nor Redis
    /// has it. Returns the answer and whether it came from a cache.
    pub async fn get_or_compute<E, F, Fut>(
        &self,
        redis: Option<&Redis>,
        key: String,
        compute: F,
    ) -> Result<(Arc<Cached>, bool), E>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<Cached, E>>,
        E: Clone + Send + Sync + 'static,
    {
        if !self.enabled() {
            return compute().await.map(|c| (Arc::new(c), false));
        }
        if let Some(hit) = self.local.get(&key).await {
            return Ok((hit, true));
        }
        let computed = AtomicBool::new(false);
        let k = key.clone();
        let redis = redis.filter(|_| !self.redis_paused());
        let init = async {
            if let Some(r) = redis {
                if let Some(found) = self.redis_get(r, &k).await {
                    return Ok(Arc::new(found));
                }
            }
            computed.store(true, Ordering::Relaxed);
            let fresh = compute().await?;
            if let Some(r) = redis {
                self.redis_set(r, &k, &fresh).await;
            }
            Ok::<_, E>(Arc::new(fresh))
        };
        match self.local.try_get_with(key, init).await {
            Ok(v) => Ok((v, !computed.load(Ordering::Relaxed))),
            Err(e) => Err((*e).clone()),
        }
    }

    fn redis_key(r: &Redis, key: &str) -> String {
        format!("{}report:{key}", r.prefix)
    }

    /// Whether Redis failed less than [`REDIS_PAUSE`] ago.
    fn redis_paused(&self) -> bool {
        self.redis_failed_at
            .lock()
            .map(|at| at.is_some_and(|t| t.elapsed() < REDIS_PAUSE))
            .unwrap_or(false)
    }

    fn redis_result<T>(&self, res: Result<T, String>) -> Option<T> {
        if let Ok(mut at) = self.redis_failed_at.lock() {
            *at = res.is_err().then(std::time::Instant::now);
        }
        match res {
            Ok(v) => {
                if self.redis_failing.swap(false, Ordering::Relaxed) {
                    tracing::info!("report cache: Redis answers again");
                }
                Some(v)
            }
            Err(e) => {
                if !self.redis_failing.swap(true, Ordering::Relaxed) {
                    tracing::warn!(error = %e, "report cache: Redis failed; computing reports without it");
                }
                None
            }
        }
    }

    async fn redis_get(&self, r: &Redis, key: &str) -> Option<Cached> {
        let k = Self::redis_key(r, key);
        let res = async {
            let mut conn = r.connection(REDIS_TIMEOUT).await?;
            let got: Option<Vec<u8>> = tokio::time::timeout(
                REDIS_TIMEOUT,
                redis::cmd("GET").arg(&k).query_async(&mut conn),
            )
            .await
            .map_err(|_| "timed out".to_string())?
            .map_err(|e| e.to_string())?;
            Ok::<_, String>(got)
        }
        .await;
        let bytes = self.redis_result(res)??;
        serde_json::from_slice(&bytes).ok()
    }

    async fn redis_set(&self, r: &Redis, key: &str, value: &Cached) {
        let Ok(bytes) = serde_json::to_vec(value) else {
            return;
        };
        let k = Self::redis_key(r, key);
        let ttl_ms = u64::try_from(self.ttl.as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        let res = async {
            let mut conn = r.connection(REDIS_TIMEOUT).await?;
            tokio::time::timeout(
                REDIS_TIMEOUT,
                redis::cmd("SET")
                    .arg(&k)
                    .arg(bytes)
                    .arg("PX")
                    .arg(ttl_ms)
                    .query_async::<()>(&mut conn),
            )
            .await
            .map_err(|_| "timed out".to_string())?
            .map_err(|e| e.to_string())
        }
        .await;
        self.redis_result(res);
    }
}

/// A cache key from its parts: the route, the generation and the effective query (after role
/// scoping, so two callers who may see the same thing share it).
pub fn key(route: &str, generation: i64, effective: &impl serde::Serialize) -> String {
    use sha2::{Digest, Sha256};
    let body = serde_json::to_vec(effective).unwrap_or_default();
    let digest = Sha256::digest(&body);
    let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    format!("{route}:g{generation}:{hex}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    fn answer(n: i64) -> Cached {
        Cached {
            data: Value::from(n),
            meta: Value::Null,
        }
    }

    #[tokio::test]
    async fn concurrent_requests_for_one_key_compute_once() {
        let cache = Arc::new(ReportCache::new(Duration::from_secs(30)));
        let calls = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..16 {
            let cache = cache.clone();
            let calls = calls.clone();
            tasks.push(tokio::spawn(async move {
                cache
                    .get_or_compute::<String, _, _>(None, "k".into(), || async {
                        calls.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        Ok(answer(7))
                    })
                    .await
                    .unwrap()
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap().0.data, Value::from(7));
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn errors_are_not_cached_and_zero_ttl_never_caches() {
        let cache = ReportCache::new(Duration::from_secs(30));
        let err = cache
            .get_or_compute::<String, _, _>(None, "e".into(), || async { Err("down".into()) })
            .await;
        assert_eq!(err.unwrap_err(), "down");
        let (v, hit) = cache
            .get_or_compute::<String, _, _>(None, "e".into(), || async { Ok(answer(1)) })
            .await
            .unwrap();
        assert_eq!((v.data.clone(), hit), (Value::from(1), false));
        let (_, hit) = cache
            .get_or_compute::<String, _, _>(None, "e".into(), || async { Ok(answer(2)) })
            .await
            .unwrap();
        assert!(hit);

        let off = ReportCache::new(Duration::ZERO);
        for n in 0..2 {
            let (v, hit) = off
                .get_or_compute::<String, _, _>(None, "k".into(), || async move { Ok(answer(n)) })
                .await
                .unwrap();
            assert_eq!((v.data.clone(), hit), (Value::from(n), false));
        }
    }

    #[tokio::test]
    async fn a_redis_that_is_down_is_skipped_and_then_left_alone() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = crate::config::ServiceUrl::parse(&format!("redis://127.0.0.1:{port}")).unwrap();
        let redis = Redis::new(&url, "t:").unwrap();
        let cache = ReportCache::new(Duration::from_secs(30));
        let (v, hit) = cache
            .get_or_compute::<String, _, _>(Some(&redis), "a".into(), || async { Ok(answer(1)) })
            .await
            .unwrap();
        assert_eq!((v.data.clone(), hit), (Value::from(1), false));
        assert!(cache.redis_paused(), "the failure pauses Redis");
        let failed_at = *cache.redis_failed_at.lock().unwrap();
        let (v, _) = cache
            .get_or_compute::<String, _, _>(Some(&redis), "b".into(), || async { Ok(answer(2)) })
            .await
            .unwrap();
        assert_eq!(v.data, Value::from(2));
        assert_eq!(
            *cache.redis_failed_at.lock().unwrap(),
            failed_at,
            "a paused Redis is not tried (a try would record a new failure)"
        );
    }

    #[test]
    fn keys_differ_by_generation_and_query() {
        let a = key("cierre", 1, &serde_json::json!({"from": "2026-01-01"}));
        let b = key("cierre", 2, &serde_json::json!({"from": "2026-01-01"}));
        let c = key("cierre", 1, &serde_json::json!({"from": "2026-01-02"}));
        assert_ne!(a, b);
        assert_ne!(a, c);
        assert!(a.starts_with("cierre:g1:"));
    }
}
