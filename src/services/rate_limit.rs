//! Request rate limits (platform-api §8, decision 13): fixed windows per limiter and key
//! (a client address or a user id). With Redis the counters are shared by every instance —
//! one Lua script per hit increments `<prefix>rl:<limiter>:<key>`, starts its expiry on the
//! first hit and returns the time left — so the N+1st request is refused whichever instance
//! it reaches. Without Redis, or while its circuit is open, each process counts on its own
//! (the reference's behaviour), and goes back to Redis when it answers again.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::cache::Redis;
use crate::config::{LimitRule, RateLimitOptions};

/// The limiters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Limiter {
    /// Every request per client address (probes and OPTIONS excepted).
    Global,
    /// Logins (and registrations) per client address.
    Auth,
    /// Sales (`POST /tickets`) per user.
    Sales,
    /// File exports per client address.
    Export,
}

impl Limiter {
    pub const ALL: [Limiter; 4] = [
        Limiter::Global,
        Limiter::Auth,
        Limiter::Sales,
        Limiter::Export,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Limiter::Global => "global",
            Limiter::Auth => "auth",
            Limiter::Sales => "sales",
            Limiter::Export => "export",
        }
    }

    /// The 429 message (the reference's wording).
    pub fn message(self) -> &'static str {
        match self {
            Limiter::Global => "Demasiadas peticiones. Por favor, intenta de nuevo en un minuto.",
            Limiter::Auth => {
                "Demasiados intentos de inicio de sesión. Por favor, intenta de nuevo en un minuto."
            }
            Limiter::Sales => "Límite de ventas por minuto alcanzado. Por favor, espera un momento.",
            Limiter::Export => {
                "Demasiadas exportaciones. Por favor espere un momento antes de intentar nuevamente."
            }
        }
    }

    fn index(self) -> usize {
        match self {
            Limiter::Global => 0,
            Limiter::Auth => 1,
            Limiter::Sales => 2,
            Limiter::Export => 3,
        }
    }
}

/// The outcome of one counted request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub limiter: Limiter,
    pub rule: LimitRule,
    /// Requests counted in the current window, this one included.
    pub count: u64,
    /// Time until the window ends.
    pub reset_after: Duration,
    /// Whether the count is shared through Redis (false: this process only).
    pub shared: bool,
}

impl Decision {
    pub fn allowed(&self) -> bool {
        self.count <= u64::from(self.rule.max)
    }

    pub fn remaining(&self) -> u64 {
        u64::from(self.rule.max).saturating_sub(self.count)
    }

    /// Whole seconds until the window ends, at least 1 (`RateLimit-Reset`, `Retry-After`).
    pub fn reset_secs(&self) -> u64 {
        ceil_secs(self.reset_after).max(1)
    }

    /// `RateLimit-Policy`: `<max>;w=<window seconds>`.
    pub fn policy(&self) -> String {
        format!("{};w={}", self.rule.max, ceil_secs(self.rule.window))
    }
}

fn ceil_secs(d: Duration) -> u64 {
    d.as_millis().div_ceil(1000) as u64
}

/// The window left as Redis reports it (`PTTL`): a key without an expiry (-1) or missing (-2)
/// counts as a fresh window.
pub fn reset_from_pttl(pttl_ms: i64, window: Duration) -> Duration {
    if pttl_ms < 0 {
        window
    } else {
        Duration::from_millis(pttl_ms as u64).min(window)
    }
}

/// Fixed windows counted in this process.
#[derive(Default)]
pub struct LocalWindows {
    /// key → (count, window start, window length)
    map: Mutex<HashMap<String, (u64, Instant, Duration)>>,
}

/// Entries kept before expired ones are swept.
const LOCAL_SWEEP_AT: usize = 50_000;

impl LocalWindows {
    /// Counts a request under `key` at `now`: the count in the window and the time left.
    pub fn hit(&self, key: &str, window: Duration, now: Instant) -> (u64, Duration) {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= LOCAL_SWEEP_AT {
            map.retain(|_, (_, start, w)| now.saturating_duration_since(*start) < *w);
        }
        let entry = map.entry(key.to_string()).or_insert((0, now, window));
        if now.saturating_duration_since(entry.1) >= entry.2 {
            *entry = (0, now, window);
        }
        entry.0 += 1;
        let left = entry
            .2
            .saturating_sub(now.saturating_duration_since(entry.1));
        (entry.0, left)
    }

    pub fn len(&self) -> usize {
        self.map.lock().map(|m| m.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// `INCR`, set the expiry on a key that has none, return `{count, pttl}` — atomically.
const HIT_SCRIPT: &str = "local n = redis.call('INCR', KEYS[1])
local t = redis.call('PTTL', KEYS[1])
if t < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  t = tonumber(ARGV[1])
end
return {n, t}";

/// Counters for metrics: per limiter, the refusals and the requests counted in Redis or here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LimiterCounters {
    pub refused: u64,
    pub counted_shared: u64,
    pub counted_local: u64,
}

/// The process's limiters.
pub struct RateLimits {
    rules: [Option<LimitRule>; 4],
    local: LocalWindows,
    refused: [AtomicU64; 4],
    counted_shared: [AtomicU64; 4],
    counted_local: [AtomicU64; 4],
}

impl RateLimits {
    pub fn new(options: &RateLimitOptions) -> Self {
        let on = |r: LimitRule| (options.enabled && r.max > 0).then_some(r);
        RateLimits {
            rules: [
                on(options.global),
                on(options.auth),
                on(options.sales),
                on(options.export),
            ],
            local: LocalWindows::default(),
            refused: Default::default(),
            counted_shared: Default::default(),
            counted_local: Default::default(),
        }
    }

    /// The rule of `limiter`; `None` when it is off.
    pub fn rule(&self, limiter: Limiter) -> Option<LimitRule> {
        self.rules[limiter.index()]
    }

    /// Counts a request of `key` against `limiter`; `None` when the limiter is off. Shared
    /// through `redis` when it answers, counted here otherwise.
    pub async fn hit(
        &self,
        redis: Option<&Redis>,
        limiter: Limiter,
        key: &str,
    ) -> Option<Decision> {
        let rule = self.rule(limiter)?;
        let window_ms = u64::try_from(rule.window.as_millis()).unwrap_or(u64::MAX);
        let shared = match redis {
            Some(r) => {
                let k = r.key(&format!("rl:{}:{key}", limiter.name()));
                r.run(|mut c| async move {
                    redis::cmd("EVAL")
                        .arg(HIT_SCRIPT)
                        .arg(1)
                        .arg(&k)
                        .arg(window_ms)
                        .query_async::<(i64, i64)>(&mut c)
                        .await
                })
                .await
                .ok()
            }
            None => None,
        };
        let i = limiter.index();
        let decision = match shared {
            Some((count, pttl)) => {
                self.counted_shared[i].fetch_add(1, Ordering::Relaxed);
                Decision {
                    limiter,
                    rule,
                    count: count.max(0) as u64,
                    reset_after: reset_from_pttl(pttl, rule.window),
                    shared: true,
                }
            }
            None => {
                self.counted_local[i].fetch_add(1, Ordering::Relaxed);
                let (count, left) = self.local.hit(
                    &format!("{}:{key}", limiter.name()),
                    rule.window,
                    Instant::now(),
                );
                Decision {
                    limiter,
                    rule,
                    count,
                    reset_after: left,
                    shared: false,
                }
            }
        };
        if !decision.allowed() {
            self.refused[i].fetch_add(1, Ordering::Relaxed);
        }
        Some(decision)
    }

    /// Requests refused by `limiter` since the start (for `/metrics`).
    pub fn refusals(&self, limiter: Limiter) -> u64 {
        self.refused[limiter.index()].load(Ordering::Relaxed)
    }

    /// Every counter of `limiter` (for `/metrics`).
    pub fn counters(&self, limiter: Limiter) -> LimiterCounters {
        let i = limiter.index();
        LimiterCounters {
            refused: self.refused[i].load(Ordering::Relaxed),
            counted_shared: self.counted_shared[i].load(Ordering::Relaxed),
            counted_local: self.counted_local[i].load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(max: u32, secs: u64) -> LimitRule {
        LimitRule {
            max,
            window: Duration::from_secs(secs),
        }
    }

    #[test]
    fn a_window_counts_to_its_max_then_refuses_until_it_ends() {
        let w = LocalWindows::default();
        let t0 = Instant::now();
        let window = Duration::from_secs(60);
        assert_eq!(w.hit("ip:1", window, t0), (1, window));
        assert_eq!(
            w.hit("ip:1", window, t0 + Duration::from_secs(20)),
            (2, Duration::from_secs(40)),
            "the window is fixed from its first request"
        );
        assert_eq!(w.hit("ip:2", window, t0 + Duration::from_secs(20)).0, 1);
        assert_eq!(
            w.hit("ip:1", window, t0 + Duration::from_millis(59_999)).0,
            3
        );
        assert_eq!(
            w.hit("ip:1", window, t0 + Duration::from_secs(60)),
            (1, window),
            "a new window starts afresh"
        );
    }

    #[test]
    fn decisions_carry_the_headers_numbers() {
        let d = Decision {
            limiter: Limiter::Auth,
            rule: rule(5, 60),
            count: 5,
            reset_after: Duration::from_millis(12_001),
            shared: true,
        };
        assert!(d.allowed());
        assert_eq!(d.remaining(), 0);
        assert_eq!(d.reset_secs(), 13, "rounded up");
        assert_eq!(d.policy(), "5;w=60");
        let over = Decision { count: 6, ..d };
        assert!(!over.allowed());
        assert_eq!(over.remaining(), 0);
        let end = Decision {
            reset_after: Duration::ZERO,
            ..d
        };
        assert_eq!(end.reset_secs(), 1, "never 0");
    }

    #[test]
    fn pttl_maps_to_the_time_left() {
        let w = Duration::from_secs(60);
        assert_eq!(reset_from_pttl(-1, w), w);
        assert_eq!(reset_from_pttl(-2, w), w);
        assert_eq!(reset_from_pttl(1500, w), Duration::from_millis(1500));
        assert_eq!(reset_from_pttl(90_000, w), w, "never past the window");
    }

    #[tokio::test]
    async fn limiters_off_count_nothing_and_refusals_are_counted() {
        let mut opts = RateLimitOptions::off();
        assert!(RateLimits::new(&opts)
            .hit(None, Limiter::Global, "k")
            .await
            .is_none());
        opts.enabled = true;
        opts.auth = rule(2, 60);
        let limits = RateLimits::new(&opts);
        assert!(
            limits.hit(None, Limiter::Global, "k").await.is_none(),
            "max 0 is off"
        );
        for _ in 0..2 {
            assert!(limits
                .hit(None, Limiter::Auth, "ip")
                .await
                .unwrap()
                .allowed());
        }
        let third = limits.hit(None, Limiter::Auth, "ip").await.unwrap();
        assert!(!third.allowed());
        assert!(!third.shared);
        assert_eq!(limits.refusals(Limiter::Auth), 1);
        assert_eq!(
            limits.counters(Limiter::Auth),
            LimiterCounters {
                refused: 1,
                counted_shared: 0,
                counted_local: 3
            }
        );
    }

    #[tokio::test]
    async fn redis_counts_are_shared_between_two_processes_views() {
        // Two clients with their own connections and local windows, one Redis: what one
        // counts the other sees.
        let prefix = format!("test:rl:{}:", uuid::Uuid::new_v4().simple());
        let url = crate::config::ServiceUrl::parse("redis://127.0.0.1:6379").unwrap();
        let opts = crate::config::RedisOptions {
            token: None,
            connect_timeout: Duration::from_secs(2),
            command_timeout: Duration::from_millis(500),
            breaker_reset: Duration::from_secs(10),
        };
        let client = |_: u8| {
            Redis::new(
                &url,
                &prefix,
                &opts,
                std::sync::Arc::new(std::sync::atomic::AtomicU8::new(0)),
            )
            .unwrap()
        };
        let (a, b) = (client(1), client(2));
        a.ping()
            .await
            .expect("test Redis answers on 127.0.0.1:6379");
        b.ping().await.unwrap();
        let mut o = RateLimitOptions::off();
        o.enabled = true;
        o.sales = rule(3, 60);
        let (la, lb) = (RateLimits::new(&o), RateLimits::new(&o));
        for n in 1..=2 {
            let d = la.hit(Some(&a), Limiter::Sales, "u1").await.unwrap();
            assert_eq!((d.count, d.shared), (n, true));
            assert!(d.reset_after <= Duration::from_secs(60));
            assert!(d.reset_after > Duration::from_secs(55));
        }
        assert!(lb
            .hit(Some(&b), Limiter::Sales, "u1")
            .await
            .unwrap()
            .allowed());
        let fourth = lb.hit(Some(&b), Limiter::Sales, "u1").await.unwrap();
        assert_eq!(fourth.count, 4);
        assert!(
            !fourth.allowed(),
            "the 4th request on the other view is refused"
        );
        assert!(la.local.is_empty() && lb.local.is_empty());
        let _: () = a
            .run(|mut c| {
                let k = format!("{prefix}rl:sales:u1");
                async move { redis::cmd("DEL").arg(k).query_async(&mut c).await }
            })
            .await
            .unwrap();
    }
}
