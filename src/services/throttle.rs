//! Login throttling: at most N failed attempts per window per client IP and per username.
//! With Redis the counters (`<prefix>login:<key>`) are shared by every instance, checked and
//! raised in one Lua script; without Redis, or while its circuit is open, each process counts
//! on its own (N instances then give an attacker N times the attempts until Redis is back).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::cache::Redis;

/// Checks every key and, when none is at its limit, raises them all; returns the
/// milliseconds to wait (0: allowed).
const BEGIN_SCRIPT: &str = "local max = tonumber(ARGV[1])
local win = tonumber(ARGV[2])
local wait = 0
for _, k in ipairs(KEYS) do
  local c = tonumber(redis.call('GET', k) or '0')
  if c >= max then
    local t = redis.call('PTTL', k)
    if t < 0 then t = win end
    if t > wait then wait = t end
  end
end
if wait > 0 then return wait end
for _, k in ipairs(KEYS) do
  if redis.call('INCR', k) == 1 then redis.call('PEXPIRE', k, win) end
end
return 0";

/// Clears the username's count and gives the address its attempt back.
const SUCCEEDED_SCRIPT: &str = "redis.call('DEL', KEYS[1])
local c = tonumber(redis.call('GET', KEYS[2]) or '0')
if c > 0 then redis.call('DECR', KEYS[2]) end
return 0";

/// Failed-attempt counters with a fixed window.
pub struct LoginThrottle {
    max_failures: u32,
    window: Duration,
    redis: Option<Redis>,
    counters: Mutex<HashMap<String, (u32, Instant)>>,
}

impl LoginThrottle {
    /// Counters in this process only.
    pub fn new(max_failures: u32, window: Duration) -> Self {
        LoginThrottle {
            max_failures,
            window,
            redis: None,
            counters: Mutex::new(HashMap::new()),
        }
    }

    /// Counters shared through `redis` (this process's while it does not answer).
    pub fn shared(max_failures: u32, window: Duration, redis: Option<Redis>) -> Self {
        LoginThrottle {
            redis,
            ..Self::new(max_failures, window)
        }
    }

    fn redis_key(key: &str) -> String {
        format!("login:{key}")
    }

    /// Starts an attempt for every key at once: refused (with the seconds to wait) when any key
    /// has used up its failures, otherwise each key's counter is raised *before* the password
    /// is checked, so parallel attempts cannot all slip past the limit. Call `succeeded` when
    /// the attempt turns out good.
    pub async fn try_begin(&self, keys: &[&str]) -> Result<(), u64> {
        if let Some(r) = &self.redis {
            let full: Vec<String> = keys.iter().map(|k| r.key(&Self::redis_key(k))).collect();
            let (max, window_ms) = (self.max_failures, self.window.as_millis() as u64);
            let shared = r
                .run(|mut c| async move {
                    let mut cmd = redis::cmd("EVAL");
                    cmd.arg(BEGIN_SCRIPT).arg(full.len());
                    for k in &full {
                        cmd.arg(k);
                    }
                    cmd.arg(max).arg(window_ms).query_async::<i64>(&mut c).await
                })
                .await;
            if let Ok(wait_ms) = shared {
                return if wait_ms > 0 {
                    Err((wait_ms as u64).div_ceil(1000).max(1))
                } else {
                    Ok(())
                };
            }
        }
        self.try_begin_local(keys)
    }

    fn try_begin_local(&self, keys: &[&str]) -> Result<(), u64> {
        let Ok(mut map) = self.counters.lock() else {
            return Ok(());
        };
        let window = self.window;
        let mut wait = None;
        for key in keys {
            if let Some((count, started)) = map.get(*key) {
                let elapsed = started.elapsed();
                if elapsed < window && *count >= self.max_failures {
                    wait = wait.max(Some((window - elapsed).as_secs().max(1)));
                }
            }
        }
        if let Some(w) = wait {
            return Err(w);
        }
        if map.len() > 100_000 {
            map.retain(|_, (_, started)| started.elapsed() < window);
        }
        for key in keys {
            let entry = map.entry((*key).to_string()).or_insert((0, Instant::now()));
            if entry.1.elapsed() >= window {
                *entry = (0, Instant::now());
            }
            entry.0 += 1;
        }
        Ok(())
    }

    /// Undoes the count `try_begin` took for a good attempt: the username starts afresh, the
    /// address gives the attempt back.
    pub async fn succeeded(&self, user_key: &str, ip_key: &str) {
        if let Some(r) = &self.redis {
            let (u, i) = (
                r.key(&Self::redis_key(user_key)),
                r.key(&Self::redis_key(ip_key)),
            );
            let shared = r
                .run(|mut c| async move {
                    redis::cmd("EVAL")
                        .arg(SUCCEEDED_SCRIPT)
                        .arg(2)
                        .arg(u)
                        .arg(i)
                        .query_async::<i64>(&mut c)
                        .await
                })
                .await;
            if shared.is_ok() {
                return;
            }
        }
        if let Ok(mut map) = self.counters.lock() {
            map.remove(user_key);
            if let Some(entry) = map.get_mut(ip_key) {
                entry.0 = entry.0.saturating_sub(1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn blocks_after_max_failures_within_the_window() {
        let t = LoginThrottle::new(3, Duration::from_millis(200));
        for _ in 0..3 {
            assert!(t.try_begin(&["ip:1"]).await.is_ok());
        }
        assert!(t.try_begin(&["ip:1"]).await.is_err());
        assert!(t.try_begin(&["ip:2"]).await.is_ok());
        tokio::time::sleep(Duration::from_millis(220)).await;
        assert!(
            t.try_begin(&["ip:1"]).await.is_ok(),
            "a new window starts afresh"
        );
    }

    #[tokio::test]
    async fn attempts_count_before_they_are_judged() {
        let t = LoginThrottle::new(2, Duration::from_secs(60));
        assert!(t.try_begin(&["ip", "u"]).await.is_ok());
        assert!(t.try_begin(&["ip", "u"]).await.is_ok());
        // Two attempts in flight: a third is refused before any result is known.
        assert!(t.try_begin(&["ip", "u"]).await.is_err());
        t.succeeded("u", "ip").await;
        assert!(t.try_begin(&["ip", "u"]).await.is_ok());
        assert!(
            t.try_begin(&["ip", "other"]).await.is_err(),
            "the address is still at its limit"
        );
    }

    #[tokio::test]
    async fn two_processes_sharing_redis_share_the_counts() {
        let prefix = format!("test:login:{}:", uuid::Uuid::new_v4().simple());
        let url = crate::config::ServiceUrl::parse("redis://127.0.0.1:6379").unwrap();
        let opts = crate::config::RedisOptions {
            token: None,
            connect_timeout: Duration::from_secs(2),
            command_timeout: Duration::from_millis(500),
            breaker_reset: Duration::from_secs(10),
        };
        let make = || {
            let r = Redis::new(
                &url,
                &prefix,
                &opts,
                std::sync::Arc::new(std::sync::atomic::AtomicU8::new(0)),
            )
            .unwrap();
            LoginThrottle::shared(2, Duration::from_secs(60), Some(r))
        };
        let (a, b) = (make(), make());
        if let Some(r) = &a.redis {
            r.ping()
                .await
                .expect("test Redis answers on 127.0.0.1:6379");
        }
        assert!(a.try_begin(&["ip:9", "user:x"]).await.is_ok());
        assert!(b.try_begin(&["ip:9", "user:x"]).await.is_ok());
        let wait = a.try_begin(&["ip:9", "user:y"]).await.unwrap_err();
        assert!((1..=60).contains(&wait), "{wait}");
        b.succeeded("user:x", "ip:9").await;
        assert!(a.try_begin(&["ip:9", "user:x"]).await.is_ok());
        assert!(
            a.counters.lock().unwrap().is_empty(),
            "nothing counted locally"
        );
    }
}
