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
//! Redis is a mirror, never a source: every Redis call goes through [`crate::cache::Redis`]
//! (short command timeout, circuit breaker), and an answer Redis cannot give is computed from
//! PostgreSQL.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::cache::Redis;

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

    fn redis_key(key: &str) -> String {
        format!("report:{key}")
    }

    async fn redis_get(&self, r: &Redis, key: &str) -> Option<Cached> {
        let mut got = r.mget(&[Self::redis_key(key)]).await.ok()?;
        let bytes = got.pop()??;
        serde_json::from_slice(&bytes).ok()
    }

    async fn redis_set(&self, r: &Redis, key: &str, value: &Cached) {
        let Ok(bytes) = serde_json::to_vec(value) else {
            return;
        };
        let _ = r.set_px(&Self::redis_key(key), bytes, self.ttl).await;
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
        let opts = crate::config::RedisOptions {
            token: None,
            connect_timeout: Duration::from_millis(300),
            command_timeout: Duration::from_millis(300),
            breaker_reset: Duration::from_secs(30),
        };
        let redis = Redis::new(
            &url,
            "t:",
            &opts,
            Arc::new(std::sync::atomic::AtomicU8::new(0)),
        )
        .unwrap();
        let cache = ReportCache::new(Duration::from_secs(30));
        let (v, hit) = cache
            .get_or_compute::<String, _, _>(Some(&redis), "a".into(), || async { Ok(answer(1)) })
            .await
            .unwrap();
        assert_eq!((v.data.clone(), hit), (Value::from(1), false));
        assert!(
            matches!(
                redis.breaker_state(),
                crate::cache::BreakerState::Open { .. }
            ),
            "the failure opens the circuit"
        );
        let started = std::time::Instant::now();
        let (v, _) = cache
            .get_or_compute::<String, _, _>(Some(&redis), "b".into(), || async { Ok(answer(2)) })
            .await
            .unwrap();
        assert_eq!(v.data, Value::from(2));
        assert!(
            started.elapsed() < Duration::from_millis(100),
            "an open circuit is not tried"
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
