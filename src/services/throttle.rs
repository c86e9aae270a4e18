//! Login throttling: at most N failed attempts per window per client IP and per username.
//! The interface is shared-store ready; this implementation keeps counters in the process
//! (per instance: with N instances an attacker gets N times the attempts until a shared store
//! replaces it).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failed-attempt counters with a fixed window.
pub struct LoginThrottle {
    max_failures: u32,
    window: Duration,
    counters: Mutex<HashMap<String, (u32, Instant)>>,
}

impl LoginThrottle {
    pub fn new(max_failures: u32, window: Duration) -> Self {
        LoginThrottle {
            max_failures,
            window,
            counters: Mutex::new(HashMap::new()),
        }
    }

    /// Starts an attempt for every key at once: refused (with the seconds to wait) when any key
    /// has used up its failures, otherwise each key's counter is raised *before* the password
    /// is checked, so parallel attempts cannot all slip past the limit. Call `succeeded` when
    /// the attempt turns out good.
    pub fn try_begin(&self, keys: &[&str]) -> Result<(), u64> {
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
    pub fn succeeded(&self, user_key: &str, ip_key: &str) {
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

    #[test]
    fn blocks_after_max_failures_within_the_window() {
        let t = LoginThrottle::new(3, Duration::from_millis(200));
        for _ in 0..3 {
            assert!(t.try_begin(&["ip:1"]).is_ok());
        }
        assert!(t.try_begin(&["ip:1"]).is_err());
        assert!(t.try_begin(&["ip:2"]).is_ok());
        std::thread::sleep(Duration::from_millis(220));
        assert!(t.try_begin(&["ip:1"]).is_ok(), "a new window starts afresh");
    }

    #[test]
    fn attempts_count_before_they_are_judged() {
        let t = LoginThrottle::new(2, Duration::from_secs(60));
        assert!(t.try_begin(&["ip", "u"]).is_ok());
        assert!(t.try_begin(&["ip", "u"]).is_ok());
        // Two attempts in flight: a third is refused before any result is known.
        assert!(t.try_begin(&["ip", "u"]).is_err());
        t.succeeded("u", "ip");
        assert!(t.try_begin(&["ip", "u"]).is_ok());
        assert!(
            t.try_begin(&["ip", "other"]).is_err(),
            "the address is still at its limit"
        );
    }
}
