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

    /// Seconds until `key` may try again, when it has used up its failures; `None` when allowed.
    pub fn blocked_for(&self, key: &str) -> Option<u64> {
        let map = self.counters.lock().ok()?;
        let (count, started) = map.get(key)?;
        let elapsed = started.elapsed();
        if elapsed >= self.window || *count < self.max_failures {
            return None;
        }
        Some((self.window - elapsed).as_secs().max(1))
    }

    /// Records a failed attempt for `key`.
    pub fn record_failure(&self, key: &str) {
        let Ok(mut map) = self.counters.lock() else {
            return;
        };
        if map.len() > 100_000 {
            let window = self.window;
            map.retain(|_, (_, started)| started.elapsed() < window);
        }
        let entry = map.entry(key.to_string()).or_insert((0, Instant::now()));
        if entry.1.elapsed() >= self.window {
            *entry = (0, Instant::now());
        }
        entry.0 += 1;
    }

    /// Forgets the failures of `key` (after a successful login).
    pub fn clear(&self, key: &str) {
        if let Ok(mut map) = self.counters.lock() {
            map.remove(key);
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
            assert_eq!(t.blocked_for("ip:1"), None);
            t.record_failure("ip:1");
        }
        assert!(t.blocked_for("ip:1").is_some());
        assert_eq!(t.blocked_for("ip:2"), None);
        std::thread::sleep(Duration::from_millis(220));
        assert_eq!(t.blocked_for("ip:1"), None);
        t.record_failure("user:x");
        t.clear("user:x");
        assert_eq!(t.blocked_for("user:x"), None);
    }
}
