//! Typed configuration read from the environment (plus a `.env` file for local work).
//!
//! Variable names follow the existing system's deployment guide so an operator's `.env` carries
//! over. Every problem is reported at once, one line per variable; secrets never reach `Debug`
//! or logs. `docs/configuration.md` documents every variable.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use chrono_tz::Tz;
use url::Url;

/// How long a request waits for a free database connection when nothing says otherwise.
pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// Minimum length of a JWT secret accepted in production.
pub const MIN_SECRET_LEN: usize = 32;

/// Where the process runs; decides log format, local conveniences and what is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Development,
    Test,
    Production,
}

impl Environment {
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Development => "development",
            Environment::Test => "test",
            Environment::Production => "production",
        }
    }

    pub fn is_production(self) -> bool {
        self == Environment::Production
    }
}

/// A secret string whose `Debug` and `Display` never show the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself; call only where the value is used, never to log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"[redacted]\"")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// A connection URL (PostgreSQL or Redis) whose password is hidden from `Debug` and `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct ServiceUrl(Url);

impl ServiceUrl {
    pub fn parse(raw: &str) -> Result<Self, String> {
        Url::parse(raw)
            .map(ServiceUrl)
            .map_err(|e| format!("is not a valid URL ({e})"))
    }

    /// The full URL, password included; pass it to a client, never to a log.
    pub fn expose(&self) -> &str {
        self.0.as_str()
    }

    pub fn url(&self) -> &Url {
        &self.0
    }

    /// The URL with the password replaced, safe to print.
    pub fn redacted(&self) -> String {
        let mut u = self.0.clone();
        if u.password().is_some() {
            let _ = u.set_password(Some(MASK));
        }
        // Query strings can carry passwords too (`password=`, `sslpassword=`).
        if u.query().is_some() {
            let pairs: Vec<(String, String)> = u
                .query_pairs()
                .map(|(k, v)| {
                    let hidden = k.to_ascii_lowercase().contains("password")
                        || k.to_ascii_lowercase().contains("token");
                    (
                        k.into_owned(),
                        if hidden { MASK.into() } else { v.into_owned() },
                    )
                })
                .collect();
            u.query_pairs_mut().clear().extend_pairs(pairs);
        }
        u.to_string().replace(MASK, "[redacted]")
    }
}

/// Placeholder that survives URL encoding; replaced by `[redacted]` after.
const MASK: &str = "REDACTEDxMASK";

impl fmt::Debug for ServiceUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{}\"", self.redacted())
    }
}

impl fmt::Display for ServiceUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// Which browser origins may call the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorsOrigins {
    /// `*` (or, outside production, unset): every origin is reflected with credentials.
    Any,
    /// Exact origins, trimmed and without trailing slashes.
    List(Vec<String>),
}

/// Whether sqlx keeps named prepared statements per connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatementCache {
    /// Unnamed statements when the primary or the replica URL looks like a transaction pooler
    /// (`pgbouncer=true` or port 6543), named cached ones otherwise.
    Auto,
    On,
    Off,
}

/// How the Redis client talks to Redis (`REDIS_TOKEN`, `REDIS_CONNECT_TIMEOUT`,
/// `REDIS_COMMAND_TIMEOUT_MS`, `REDIS_CB_RESET_MS`).
#[derive(Debug, Clone)]
pub struct RedisOptions {
    /// Password sent at connection (overrides one in the URL).
    pub token: Option<Secret>,
    /// Longest wait for a new connection (background reconnects, warm-up and probes).
    pub connect_timeout: Duration,
    /// Longest wait for one command on the request path; past it Redis counts as failed.
    pub command_timeout: Duration,
    /// How long Redis is left alone after a failure before it is tried again.
    pub breaker_reset: Duration,
}

/// The shared session and catalog caches (`CACHE_ENABLED`, `CACHE_TTL_*`); they work only
/// with Redis (see `docs/operations.md`, "Redis and rate limits").
#[derive(Debug, Clone)]
pub struct CacheOptions {
    pub enabled: bool,
    /// Session checks (`CACHE_TTL_SESSION`).
    pub session_ttl: Duration,
    /// Lotería, multiplier and override reads (`CACHE_TTL_CATALOG`).
    pub catalog_ttl: Duration,
    /// Restriction rule reads (`CACHE_TTL_RESTRICTIONS`).
    pub restrictions_ttl: Duration,
}

/// One fixed-window limit: at most `max` requests per `window` (`max = 0`: off).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitRule {
    pub max: u32,
    pub window: Duration,
}

/// The request rate limits (`RATE_LIMIT_*`).
#[derive(Debug, Clone)]
pub struct RateLimitOptions {
    /// `RATE_LIMIT_ENABLED=false` turns every limiter off.
    pub enabled: bool,
    /// Every request per client address, probes excepted.
    pub global: LimitRule,
    /// `POST /auth/login` and `/auth/register` per client address.
    pub auth: LimitRule,
    /// `POST /tickets` per user.
    pub sales: LimitRule,
    /// File exports per client address.
    pub export: LimitRule,
}

impl RedisOptions {
    fn read(r: &mut Reader) -> Self {
        RedisOptions {
            token: r.get("REDIS_TOKEN").map(Secret::new),
            connect_timeout: r.millis("REDIS_CONNECT_TIMEOUT", 5000, 100, 60_000),
            command_timeout: r.millis("REDIS_COMMAND_TIMEOUT_MS", 250, 10, 10_000),
            breaker_reset: r.millis("REDIS_CB_RESET_MS", 10_000, 100, 600_000),
        }
    }
}

impl CacheOptions {
    fn read(r: &mut Reader) -> Self {
        let mut secs = |key: &str| Duration::from_secs(r.parse_num(key, 300u64, 1, 86_400));
        let session_ttl = secs("CACHE_TTL_SESSION");
        let catalog_ttl = secs("CACHE_TTL_CATALOG");
        let restrictions_ttl = secs("CACHE_TTL_RESTRICTIONS");
        CacheOptions {
            enabled: r.boolean("CACHE_ENABLED", true),
            session_ttl,
            catalog_ttl,
            restrictions_ttl,
        }
    }
}

impl RateLimitOptions {
    fn read(r: &mut Reader) -> Self {
        let mut rule = |name: &str, max: u32| LimitRule {
            max: r.parse_num(&format!("RATE_LIMIT_{name}_MAX"), max, 0, 1_000_000),
            window: r.millis(
                &format!("RATE_LIMIT_{name}_WINDOW_MS"),
                60_000,
                1000,
                86_400_000,
            ),
        };
        let global = rule("GLOBAL", 100);
        let auth = rule("AUTH", 5);
        let sales = rule("SALES", 20);
        let export = rule("EXPORT", 10);
        RateLimitOptions {
            enabled: r.boolean("RATE_LIMIT_ENABLED", true),
            global,
            auth,
            sales,
            export,
        }
    }

    /// Every limiter off (tools such as the benchmark harness).
    pub fn off() -> Self {
        let off = LimitRule {
            max: 0,
            window: Duration::from_secs(60),
        };
        RateLimitOptions {
            enabled: false,
            global: off,
            auth: off,
            sales: off,
            export: off,
        }
    }
}

impl Config {
    /// `check-config` lines of the Redis, cache and rate-limit variables.
    fn cache_lines(&self) -> Vec<(String, String)> {
        let ms = |d: Duration| d.as_millis().to_string();
        let mut lines = vec![
            (
                "REDIS_TOKEN".to_string(),
                if self.redis.token.is_some() {
                    "[redacted]".to_string()
                } else {
                    "(unset)".to_string()
                },
            ),
            (
                "REDIS_CONNECT_TIMEOUT".into(),
                ms(self.redis.connect_timeout),
            ),
            (
                "REDIS_COMMAND_TIMEOUT_MS".into(),
                ms(self.redis.command_timeout),
            ),
            ("REDIS_CB_RESET_MS".into(), ms(self.redis.breaker_reset)),
            ("CACHE_ENABLED".into(), self.cache.enabled.to_string()),
            (
                "CACHE_TTL_SESSION".into(),
                self.cache.session_ttl.as_secs().to_string(),
            ),
            (
                "CACHE_TTL_CATALOG".into(),
                self.cache.catalog_ttl.as_secs().to_string(),
            ),
            (
                "CACHE_TTL_RESTRICTIONS".into(),
                self.cache.restrictions_ttl.as_secs().to_string(),
            ),
            (
                "RATE_LIMIT_ENABLED".into(),
                self.rate_limits.enabled.to_string(),
            ),
        ];
        let l = &self.rate_limits;
        for (name, rule) in [
            ("GLOBAL", l.global),
            ("AUTH", l.auth),
            ("SALES", l.sales),
            ("EXPORT", l.export),
        ] {
            lines.push((format!("RATE_LIMIT_{name}_MAX"), rule.max.to_string()));
            lines.push((format!("RATE_LIMIT_{name}_WINDOW_MS"), ms(rule.window)));
        }
        lines
    }
}

/// The whole configuration of a Banca process.
#[derive(Debug, Clone)]
pub struct Config {
    pub environment: Environment,
    pub host: String,
    pub port: u16,
    pub log_level: String,

    /// Pooled primary (`DATABASE_URL`); `None` only outside production (local default applies).
    pub database_url: Option<ServiceUrl>,
    /// Direct connection for migrations and their session advisory lock (`DIRECT_URL`).
    pub direct_url: Option<ServiceUrl>,
    /// Read replica for reports (`DATABASE_URL_REPLICA`).
    pub replica_url: Option<ServiceUrl>,
    /// Pool size of the primary; `None` means the URL's `connection_limit`, else 25.
    pub database_pool_max: Option<u32>,
    pub database_pool_min: u32,
    /// Pool sizes of the direct and replica roles; `None`: the URL's `connection_limit`, else 5 / 10.
    pub direct_pool_max: Option<u32>,
    pub replica_pool_max: Option<u32>,
    /// `None`: the URL's `pool_timeout`, else `DEFAULT_ACQUIRE_TIMEOUT`.
    pub database_acquire_timeout: Option<Duration>,
    pub statement_cache: StatementCache,
    pub auto_migrate: bool,
    pub local_pg_dir: PathBuf,
    pub warmup_max_attempts: u32,
    pub warmup_base_delay: Duration,
    pub replica_retry_interval: Duration,

    pub redis_url: Option<ServiceUrl>,
    pub redis_prefix: String,
    /// How long a report answer is cached (`REPORT_CACHE_TTL_SECONDS`; 0 turns the cache off).
    /// Answers are keyed by the banca's report generation, so a write that changes money is
    /// seen at once whatever this is.
    pub report_cache_ttl: Duration,
    /// Redis client tuning (`REDIS_TOKEN`, timeouts, circuit breaker).
    pub redis: RedisOptions,
    /// Session and catalog caches (`CACHE_ENABLED`, `CACHE_TTL_*`).
    pub cache: CacheOptions,
    /// Request rate limits (`RATE_LIMIT_*`).
    pub rate_limits: RateLimitOptions,

    pub jwt_access_secret: Secret,
    pub jwt_refresh_secret: Secret,
    /// Names of the JWT secrets generated for this run because they were unset (development only).
    pub jwt_secrets_generated: Vec<&'static str>,
    pub jwt_access_expires_in: Duration,
    pub jwt_refresh_expires_in: Duration,
    pub disable_auth: bool,

    pub cors_origins: CorsOrigins,
    pub trust_proxy: u8,
    pub sentry_dsn: Option<Secret>,
    pub sentry_traces_sample_rate: f32,
    /// Parsed for `.env` compatibility; profiling is not supported (`SENTRY_PROFILES_SAMPLE_RATE`).
    pub sentry_profiles_sample_rate: f32,
    /// Bearer token `GET /metrics` requires when set (`METRICS_TOKEN`); public when unset.
    pub metrics_token: Option<Secret>,
    pub business_timezone: Tz,

    pub request_timeout: Duration,
    pub max_concurrent_requests: usize,
    pub body_limit_bytes: usize,
    pub shutdown_timeout: Duration,
    /// How long `readyz` waits for the primary.
    pub readiness_timeout: Duration,
    /// Last step of the base-multiplier chain (`MULTIPLIER_BASE_DEFAULT_X`); `None` when unset or 0.
    pub multiplier_base_default_x: Option<rust_decimal::Decimal>,
    /// Failed logins allowed per client IP and per username within `login_window`.
    pub login_max_failures: u32,
    pub login_window: Duration,
    /// How long a ticket idempotency key replays its sale (`IDEMPOTENCY_TTL_SECONDS`).
    pub idempotency_ttl: Duration,
    /// Receipts mark originals and reprints (`ENABLE_TICKET_REPRINTS`).
    pub enable_ticket_reprints: bool,
    /// Whether `banca serve` runs scheduled jobs (`JOBS_ENABLED`; `serve --no-jobs` turns it off).
    pub jobs_enabled: bool,
    /// How long a job run's claim lasts without renewal before another instance takes it over
    /// (`JOBS_LEASE_SECONDS`).
    pub jobs_lease: Duration,
    /// How often an instance looks for due jobs (`JOBS_TICK_MS`).
    pub jobs_tick: Duration,
    /// Days of activity log kept by the cleanup job (`ACTIVITY_LOG_RETENTION_DAYS`).
    pub activity_log_retention_days: u32,
    /// Folder of the Android app release (`APP_RELEASE_DIR`): `latest.json` and
    /// `apk/app-<abi>-release.apk`, served by `/api/v1/app/*`.
    pub app_release_dir: PathBuf,
}

/// The configuration could not be built; one line per problem.
#[derive(Debug)]
pub struct ConfigErrors(pub Vec<String>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "invalid configuration ({} problem(s)):", self.0.len())?;
        for line in &self.0 {
            writeln!(f, "  - {line}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// Reads variables from a map, collecting every problem instead of stopping at the first.
struct Reader<'a> {
    env: &'a HashMap<String, String>,
    errors: Vec<String>,
}

impl<'a> Reader<'a> {
    /// The value, trimmed; an empty value counts as unset.
    fn get(&self, key: &str) -> Option<&'a str> {
        self.env
            .get(key)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }

    fn fail(&mut self, key: &str, problem: impl fmt::Display) {
        self.errors.push(format!("{key}: {problem}"));
    }

    fn parse_num<T: std::str::FromStr + PartialOrd + fmt::Display + Copy>(
        &mut self,
        key: &str,
        default: T,
        min: T,
        max: T,
    ) -> T {
        match self.get(key) {
            None => default,
            Some(raw) => match raw.parse::<T>() {
                Ok(v) if v >= min && v <= max => v,
                Ok(_) => {
                    self.fail(key, format!("must be between {min} and {max}, got {raw:?}"));
                    default
                }
                Err(_) => {
                    self.fail(key, format!("must be a number, got {raw:?}"));
                    default
                }
            },
        }
    }

    fn parse_opt_num<T: std::str::FromStr + PartialOrd + fmt::Display + Copy>(
        &mut self,
        key: &str,
        min: T,
        max: T,
    ) -> Option<T> {
        self.get(key)?;
        Some(self.parse_num(key, min, min, max))
    }

    fn millis(&mut self, key: &str, default_ms: u64, min_ms: u64, max_ms: u64) -> Duration {
        Duration::from_millis(self.parse_num(key, default_ms, min_ms, max_ms))
    }

    fn boolean(&mut self, key: &str, default: bool) -> bool {
        match self.get(key) {
            None => default,
            Some(raw) => match parse_bool(raw) {
                Some(v) => v,
                None => {
                    self.fail(
                        key,
                        format!("must be true/false (also 1/0, yes/no, on/off), got {raw:?}"),
                    );
                    default
                }
            },
        }
    }

    fn url(&mut self, key: &str, schemes: &[&str]) -> Option<ServiceUrl> {
        let raw = self.get(key)?;
        match ServiceUrl::parse(raw) {
            Ok(u) if schemes.contains(&u.url().scheme()) => Some(u),
            Ok(u) => {
                let scheme = u.url().scheme().to_string();
                self.fail(
                    key,
                    format!(
                        "scheme must be one of {}, got {scheme:?}",
                        schemes.join(", ")
                    ),
                );
                None
            }
            Err(e) => {
                self.fail(key, e);
                None
            }
        }
    }

    fn duration_spec(&mut self, key: &str, default: &str) -> Duration {
        let raw = self.get(key).unwrap_or(default);
        match parse_duration_spec(raw) {
            Some(d) if !d.is_zero() => d,
            _ => {
                self.fail(
                    key,
                    format!(
                        "must look like 15m, 60m, 12h or 7d (a number and s/m/h/d), got {raw:?}"
                    ),
                );
                parse_duration_spec(default).unwrap_or(Duration::from_secs(900))
            }
        }
    }
}

/// Parses `true/false/1/0/yes/no/on/off` (case-insensitive).
pub fn parse_bool(raw: &str) -> Option<bool> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// Parses the jsonwebtoken lifetime format: `90` (seconds), `90s`, `15m`, `12h`, `7d`, `500ms`.
pub fn parse_duration_spec(raw: &str) -> Option<Duration> {
    let raw = raw.trim();
    let split = raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len());
    let (num, unit) = raw.split_at(split);
    let n: u64 = num.parse().ok()?;
    let secs = match unit.trim() {
        "" | "s" => n,
        "ms" => return Some(Duration::from_millis(n)),
        "m" => n.checked_mul(60)?,
        "h" => n.checked_mul(3600)?,
        "d" => n.checked_mul(86_400)?,
        _ => return None,
    };
    Some(Duration::from_secs(secs))
}

/// Parses `CORS_ORIGIN`: unset, empty or containing `*` allows every origin.
pub fn parse_cors(raw: Option<&str>) -> CorsOrigins {
    let Some(raw) = raw else {
        return CorsOrigins::Any;
    };
    let entries: Vec<String> = raw
        .split(',')
        .map(|s| s.trim().trim_end_matches('/').to_string())
        .filter(|s| !s.is_empty())
        .collect();
    if entries.is_empty() || entries.iter().any(|e| e == "*") {
        CorsOrigins::Any
    } else {
        CorsOrigins::List(entries)
    }
}

/// Maps pino level names onto tracing directives; anything else is passed through as a filter.
pub fn normalize_log_level(raw: &str) -> String {
    match raw.trim().to_ascii_lowercase().as_str() {
        "fatal" => "error".into(),
        "silent" => "off".into(),
        "" => "info".into(),
        other => other.into(),
    }
}

/// `900s`, or `250ms` when the duration is not whole seconds.
fn format_duration(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

fn generated_secret() -> Secret {
    use rand::RngCore;
    let mut bytes = [0u8; 48];
    rand::thread_rng().fill_bytes(&mut bytes);
    Secret(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

impl Config {
    /// Builds the configuration from the process environment.
    pub fn from_env() -> Result<Self, ConfigErrors> {
        let env: HashMap<String, String> = std::env::vars().collect();
        Self::from_map(&env)
    }

    /// Builds the configuration from a map of variables (tests pass their own).
    pub fn from_map(env: &HashMap<String, String>) -> Result<Self, ConfigErrors> {
        let mut r = Reader {
            env,
            errors: Vec::new(),
        };

        let env_key = if r.get("NODE_ENV").is_some() {
            "NODE_ENV"
        } else {
            "APP_ENV"
        };
        let environment = match r.get(env_key).map(str::to_ascii_lowercase).as_deref() {
            None | Some("development") | Some("dev") | Some("local") => Environment::Development,
            Some("test") => Environment::Test,
            Some("production") | Some("prod") => Environment::Production,
            Some(other) => {
                r.fail(
                    env_key,
                    format!("must be development, test or production, got {other:?}"),
                );
                Environment::Development
            }
        };
        let prod = environment.is_production();

        let host = r.get("HOST").unwrap_or("0.0.0.0").to_string();
        let port: u16 = r.parse_num("PORT", 3000, 0, 65535);
        let log_level = normalize_log_level(r.get("LOG_LEVEL").unwrap_or("info"));
        if let Err(e) = tracing_subscriber::EnvFilter::try_new(&log_level) {
            r.fail("LOG_LEVEL", format!("is not a valid level or filter ({e})"));
        }

        let pg = ["postgres", "postgresql"];
        let database_url = r.url("DATABASE_URL", &pg);
        if prod && database_url.is_none() && r.get("DATABASE_URL").is_none() {
            r.fail(
                "DATABASE_URL",
                "is required in production (the local database default is for development only)",
            );
        }
        let direct_url = r.url("DIRECT_URL", &pg);
        let replica_url = r.url("DATABASE_URL_REPLICA", &pg);
        let database_pool_max = r.parse_opt_num("DATABASE_POOL_MAX", 1u32, 1000);
        let database_pool_min = r.parse_num("DATABASE_POOL_MIN", 1u32, 0, 1000);
        let direct_pool_max = r.parse_opt_num("DIRECT_POOL_MAX", 1u32, 1000);
        let replica_pool_max = r.parse_opt_num("REPLICA_POOL_MAX", 1u32, 1000);
        let database_acquire_timeout = r
            .parse_opt_num("DATABASE_ACQUIRE_TIMEOUT_MS", 100u64, 600_000)
            .map(Duration::from_millis);
        let behind_pgbouncer = database_url
            .as_ref()
            .is_some_and(|u| crate::db::pools::looks_like_pgbouncer(u.url()));
        if behind_pgbouncer && direct_url.is_none() && r.get("DIRECT_URL").is_none() {
            r.fail(
                "DIRECT_URL",
                "is required when DATABASE_URL points at a transaction pooler (pgbouncer=true or port 6543): \
                 migrations and advisory locks need a direct or session-mode connection",
            );
        }
        let statement_cache = match r
            .get("DATABASE_STATEMENT_CACHE")
            .map(str::to_ascii_lowercase)
        {
            None => StatementCache::Auto,
            Some(v) if v == "auto" => StatementCache::Auto,
            Some(v) => match parse_bool(&v) {
                Some(true) => StatementCache::On,
                Some(false) => StatementCache::Off,
                None => {
                    r.fail(
                        "DATABASE_STATEMENT_CACHE",
                        format!("must be auto, true or false, got {v:?}"),
                    );
                    StatementCache::Auto
                }
            },
        };
        let auto_migrate = r.boolean("AUTO_MIGRATE", true);
        let local_pg_dir = PathBuf::from(r.get("LOCAL_PG_DIR").unwrap_or(".banca/pg"));
        let warmup_max_attempts = r.parse_num("WARMUP_MAX_ATTEMPTS", 0u32, 0, 1_000_000);
        let warmup_base_delay = r.millis("WARMUP_BASE_DELAY_MS", 500, 10, 60_000);
        let replica_retry_interval = r.millis("REPLICA_RETRY_INTERVAL_MS", 30_000, 100, 3_600_000);

        let redis_url = match r.get("REDIS_URL") {
            Some(raw) if raw.starts_with("https://") => {
                r.fail(
                    "REDIS_URL",
                    "an https:// (REST) URL is not a Redis protocol URL; use redis:// or rediss://",
                );
                None
            }
            _ => r.url("REDIS_URL", &["redis", "rediss", "unix", "redis+unix"]),
        };
        let report_cache_ttl =
            Duration::from_secs(r.parse_num("REPORT_CACHE_TTL_SECONDS", 60u64, 0, 3600));
        let redis = RedisOptions::read(&mut r);
        let cache = CacheOptions::read(&mut r);
        let rate_limits = RateLimitOptions::read(&mut r);
        let redis_prefix = r
            .get("REDIS_PREFIX")
            .map(str::to_string)
            .unwrap_or_else(|| {
                if prod {
                    "prod:".into()
                } else {
                    "local:".into()
                }
            });

        let mut jwt_secrets_generated = Vec::new();
        let mut secret = |r: &mut Reader, key: &'static str| -> Secret {
            match r.get(key) {
                Some(v) if v.chars().count() >= MIN_SECRET_LEN => Secret(v.to_string()),
                Some(v) if prod => {
                    r.fail(
                        key,
                        format!(
                            "has {} character(s); production needs at least {MIN_SECRET_LEN} (try: openssl rand -hex 32)",
                            v.chars().count()
                        ),
                    );
                    Secret(String::new())
                }
                Some(v) => Secret(v.to_string()),
                None if prod => {
                    r.fail(key, "is required in production (try: openssl rand -hex 32)");
                    Secret(String::new())
                }
                None => {
                    jwt_secrets_generated.push(key);
                    generated_secret()
                }
            }
        };
        let jwt_access_secret = secret(&mut r, "JWT_ACCESS_SECRET");
        let jwt_refresh_secret = secret(&mut r, "JWT_REFRESH_SECRET");
        if prod && !jwt_access_secret.0.is_empty() && jwt_access_secret == jwt_refresh_secret {
            r.fail(
                "JWT_REFRESH_SECRET",
                "must differ from JWT_ACCESS_SECRET in production",
            );
        }
        let jwt_access_expires_in = r.duration_spec("JWT_ACCESS_EXPIRES_IN", "15m");
        let jwt_refresh_expires_in = r.duration_spec("JWT_REFRESH_EXPIRES_IN", "7d");
        let disable_auth = r.boolean("DISABLE_AUTH", false);
        if disable_auth && environment != Environment::Development {
            r.fail(
                "DISABLE_AUTH",
                format!(
                    "is only allowed with NODE_ENV=development (here: {})",
                    environment.as_str()
                ),
            );
        }

        if prod && r.get("CORS_ORIGIN").is_none() {
            r.fail(
                "CORS_ORIGIN",
                "must be set in production: the app's origins, comma separated (or * to allow every origin on purpose)",
            );
        }
        let cors_origins = parse_cors(r.get("CORS_ORIGIN"));
        if let CorsOrigins::List(list) = &cors_origins {
            for origin in list {
                let valid = Url::parse(origin)
                    .map(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
                    .unwrap_or(false);
                if !valid || origin.contains('*') {
                    r.fail(
                        "CORS_ORIGIN",
                        format!(
                            "{origin:?} is not an origin like https://app.example.com (patterns are not supported; use * alone to allow every origin)"
                        ),
                    );
                }
            }
        }
        let trust_proxy: u8 = match r.get("TRUST_PROXY").map(str::to_ascii_lowercase).as_deref() {
            Some("true") => 1,
            Some("false") => 0,
            _ => r.parse_num("TRUST_PROXY", 1u8, 0, 10),
        };
        let sentry_dsn = match r.get("SENTRY_DSN") {
            None => None,
            // Parsed as the Sentry client will parse it: scheme, public key, project id.
            Some(raw) => match raw.parse::<sentry::types::Dsn>() {
                Ok(_) => Some(Secret(raw.to_string())),
                Err(_) => {
                    r.fail("SENTRY_DSN", "must be a DSN URL like https://key@host/123");
                    None
                }
            },
        };
        let sentry_traces_sample_rate = r.parse_num("SENTRY_TRACES_SAMPLE_RATE", 0.1f32, 0.0, 1.0);
        let sentry_profiles_sample_rate =
            r.parse_num("SENTRY_PROFILES_SAMPLE_RATE", 0.1f32, 0.0, 1.0);
        let metrics_token = r.get("METRICS_TOKEN").map(str::to_string);
        if let Some(t) = &metrics_token {
            if t.len() < 16 || !t.bytes().all(|b| b.is_ascii_graphic()) {
                r.fail(
                    "METRICS_TOKEN",
                    "must be at least 16 printable characters without spaces (or unset: /metrics is public)",
                );
            }
        }
        let metrics_token = metrics_token.map(Secret);
        let business_timezone = match r
            .get("BUSINESS_TIMEZONE")
            .unwrap_or("America/Costa_Rica")
            .parse::<Tz>()
        {
            Ok(tz) => tz,
            Err(_) => {
                let raw = r.get("BUSINESS_TIMEZONE").unwrap_or_default().to_string();
                r.fail(
                    "BUSINESS_TIMEZONE",
                    format!("is not an IANA time zone (e.g. America/Costa_Rica), got {raw:?}"),
                );
                chrono_tz::America::Costa_Rica
            }
        };

        let request_timeout = r.millis("REQUEST_TIMEOUT_MS", 15_000, 100, 600_000);
        let max_concurrent_requests = r.parse_num("MAX_CONCURRENT_REQUESTS", 256usize, 1, 100_000);
        let body_limit_bytes =
            r.parse_num("BODY_LIMIT_BYTES", 1_048_576usize, 1024, 64 * 1_048_576);
        let shutdown_timeout = r.millis("SHUTDOWN_TIMEOUT_MS", 30_000, 1, 600_000);
        let readiness_timeout = r.millis("READINESS_TIMEOUT_MS", 1000, 50, 60_000);
        let multiplier_base_default_x = match r.get("MULTIPLIER_BASE_DEFAULT_X") {
            None => None,
            Some(raw) => match raw.parse::<rust_decimal::Decimal>() {
                Ok(v) if v.is_zero() => None,
                Ok(v)
                    if v > rust_decimal::Decimal::ZERO
                        && v <= rust_decimal::Decimal::from(9999) =>
                {
                    Some(v)
                }
                _ => {
                    r.fail(
                        "MULTIPLIER_BASE_DEFAULT_X",
                        format!("must be a number from 0 (none) to 9999, got {raw:?}"),
                    );
                    None
                }
            },
        };
        let login_max_failures = r.parse_num("LOGIN_MAX_FAILURES", 5u32, 1, 1000);
        let login_window = r.millis("LOGIN_WINDOW_MS", 60_000, 1000, 86_400_000);
        let idempotency_ttl =
            Duration::from_secs(r.parse_num("IDEMPOTENCY_TTL_SECONDS", 86_400u64, 60, 30 * 86_400));
        let enable_ticket_reprints = r.boolean("ENABLE_TICKET_REPRINTS", false);
        let jobs_enabled = r.boolean("JOBS_ENABLED", true);
        let jobs_lease = Duration::from_secs(r.parse_num("JOBS_LEASE_SECONDS", 60u64, 2, 3600));
        let jobs_tick = r.millis("JOBS_TICK_MS", 1000, 100, 60_000);
        let activity_log_retention_days =
            r.parse_num("ACTIVITY_LOG_RETENTION_DAYS", 45u32, 1, 3650);
        let app_release_dir = PathBuf::from(r.get("APP_RELEASE_DIR").unwrap_or("public"));
        if app_release_dir.exists() && !app_release_dir.is_dir() {
            r.fail(
                "APP_RELEASE_DIR",
                format!(
                    "{} is a file; it must be a folder holding latest.json and apk/ (a missing folder is fine: no release published)",
                    app_release_dir.display()
                ),
            );
        }

        if !r.errors.is_empty() {
            return Err(ConfigErrors(r.errors));
        }
        Ok(Config {
            environment,
            host,
            port,
            log_level,
            database_url,
            direct_url,
            replica_url,
            database_pool_max,
            database_pool_min,
            direct_pool_max,
            replica_pool_max,
            database_acquire_timeout,
            statement_cache,
            auto_migrate,
            local_pg_dir,
            warmup_max_attempts,
            warmup_base_delay,
            replica_retry_interval,
            redis_url,
            redis_prefix,
            report_cache_ttl,
            redis,
            cache,
            rate_limits,
            jwt_access_secret,
            jwt_refresh_secret,
            jwt_secrets_generated,
            jwt_access_expires_in,
            jwt_refresh_expires_in,
            disable_auth,
            cors_origins,
            trust_proxy,
            sentry_dsn,
            sentry_traces_sample_rate,
            sentry_profiles_sample_rate,
            metrics_token,
            business_timezone,
            request_timeout,
            max_concurrent_requests,
            body_limit_bytes,
            shutdown_timeout,
            readiness_timeout,
            multiplier_base_default_x,
            login_max_failures,
            login_window,
            idempotency_ttl,
            enable_ticket_reprints,
            jobs_enabled,
            jobs_lease,
            jobs_tick,
            activity_log_retention_days,
            app_release_dir,
        })
    }

    /// A configuration for tests and tools: development defaults plus the given variables.
    pub fn for_tests(vars: &[(&str, &str)]) -> Self {
        let env: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Self::from_map(&env).expect("test configuration must be valid")
    }

    /// The effective configuration as `KEY=value` lines with secrets redacted (`check-config`).
    pub fn redacted_lines(&self) -> Vec<(String, String)> {
        let opt = |u: &Option<ServiceUrl>, unset: &str| {
            u.as_ref()
                .map(|u| u.redacted())
                .unwrap_or_else(|| unset.to_string())
        };
        let secret = |key: &str| {
            if self.jwt_secrets_generated.contains(&key) {
                "[generated for this run]".to_string()
            } else {
                "[redacted]".to_string()
            }
        };
        let mut lines = vec![
            ("NODE_ENV".into(), self.environment.as_str().into()),
            ("HOST".into(), self.host.clone()),
            ("PORT".into(), self.port.to_string()),
            ("LOG_LEVEL".into(), self.log_level.clone()),
            (
                "DATABASE_URL".into(),
                opt(&self.database_url, "(unset: local default database)"),
            ),
            (
                "DIRECT_URL".into(),
                opt(&self.direct_url, "(unset: uses DATABASE_URL)"),
            ),
            (
                "DATABASE_URL_REPLICA".into(),
                opt(&self.replica_url, "(unset: reports read the primary)"),
            ),
            (
                "DATABASE_POOL_MAX".into(),
                self.database_pool_max
                    .map(|v| v.to_string())
                    .unwrap_or_else(|| "(URL connection_limit, else 25)".into()),
            ),
            (
                "DATABASE_POOL_MIN".into(),
                self.database_pool_min.to_string(),
            ),
            (
                "DIRECT_POOL_MAX".into(),
                self.direct_pool_max
                    .map(|v| v.to_string())
                    .unwrap_or_else(|| "(URL connection_limit, else 5)".into()),
            ),
            (
                "REPLICA_POOL_MAX".into(),
                self.replica_pool_max
                    .map(|v| v.to_string())
                    .unwrap_or_else(|| "(URL connection_limit, else 10)".into()),
            ),
            (
                "DATABASE_ACQUIRE_TIMEOUT_MS".into(),
                self.database_acquire_timeout
                    .map(|d| d.as_millis().to_string())
                    .unwrap_or_else(|| {
                        format!(
                            "(URL pool_timeout, else {})",
                            DEFAULT_ACQUIRE_TIMEOUT.as_millis()
                        )
                    }),
            ),
            (
                "DATABASE_STATEMENT_CACHE".into(),
                format!("{:?}", self.statement_cache).to_ascii_lowercase(),
            ),
            ("AUTO_MIGRATE".into(), self.auto_migrate.to_string()),
            (
                "LOCAL_PG_DIR".into(),
                self.local_pg_dir.display().to_string(),
            ),
            (
                "WARMUP_MAX_ATTEMPTS".into(),
                if self.warmup_max_attempts == 0 {
                    "0 (retry until the database answers)".into()
                } else {
                    self.warmup_max_attempts.to_string()
                },
            ),
            (
                "WARMUP_BASE_DELAY_MS".into(),
                self.warmup_base_delay.as_millis().to_string(),
            ),
            (
                "REPLICA_RETRY_INTERVAL_MS".into(),
                self.replica_retry_interval.as_millis().to_string(),
            ),
            (
                "REDIS_URL".into(),
                opt(&self.redis_url, "(unset: no Redis)"),
            ),
            ("REDIS_PREFIX".into(), self.redis_prefix.clone()),
            (
                "REPORT_CACHE_TTL_SECONDS".into(),
                self.report_cache_ttl.as_secs().to_string(),
            ),
            ("JWT_ACCESS_SECRET".into(), secret("JWT_ACCESS_SECRET")),
            ("JWT_REFRESH_SECRET".into(), secret("JWT_REFRESH_SECRET")),
            (
                "JWT_ACCESS_EXPIRES_IN".into(),
                format_duration(self.jwt_access_expires_in),
            ),
            (
                "JWT_REFRESH_EXPIRES_IN".into(),
                format_duration(self.jwt_refresh_expires_in),
            ),
            ("DISABLE_AUTH".into(), self.disable_auth.to_string()),
            (
                "CORS_ORIGIN".into(),
                match &self.cors_origins {
                    CorsOrigins::Any => "* (every origin)".into(),
                    CorsOrigins::List(l) => l.join(","),
                },
            ),
            ("TRUST_PROXY".into(), self.trust_proxy.to_string()),
            (
                "SENTRY_DSN".into(),
                if self.sentry_dsn.is_some() {
                    "[redacted]".into()
                } else {
                    "(unset)".into()
                },
            ),
            (
                "SENTRY_TRACES_SAMPLE_RATE".into(),
                self.sentry_traces_sample_rate.to_string(),
            ),
            (
                "SENTRY_PROFILES_SAMPLE_RATE".into(),
                format!(
                    "{} (parsed; profiling is not supported)",
                    self.sentry_profiles_sample_rate
                ),
            ),
            (
                "METRICS_TOKEN".into(),
                if self.metrics_token.is_some() {
                    "[redacted]".into()
                } else {
                    "(unset: /metrics is public)".into()
                },
            ),
            (
                "BUSINESS_TIMEZONE".into(),
                self.business_timezone.name().into(),
            ),
            (
                "REQUEST_TIMEOUT_MS".into(),
                self.request_timeout.as_millis().to_string(),
            ),
            (
                "MAX_CONCURRENT_REQUESTS".into(),
                self.max_concurrent_requests.to_string(),
            ),
            ("BODY_LIMIT_BYTES".into(), self.body_limit_bytes.to_string()),
            (
                "SHUTDOWN_TIMEOUT_MS".into(),
                self.shutdown_timeout.as_millis().to_string(),
            ),
            (
                "READINESS_TIMEOUT_MS".into(),
                self.readiness_timeout.as_millis().to_string(),
            ),
            (
                "MULTIPLIER_BASE_DEFAULT_X".into(),
                self.multiplier_base_default_x
                    .map(|v| v.to_string())
                    .unwrap_or_else(|| "(unset: no default)".into()),
            ),
            (
                "LOGIN_MAX_FAILURES".into(),
                self.login_max_failures.to_string(),
            ),
            (
                "LOGIN_WINDOW_MS".into(),
                self.login_window.as_millis().to_string(),
            ),
            (
                "IDEMPOTENCY_TTL_SECONDS".into(),
                self.idempotency_ttl.as_secs().to_string(),
            ),
            (
                "ENABLE_TICKET_REPRINTS".into(),
                self.enable_ticket_reprints.to_string(),
            ),
            ("JOBS_ENABLED".into(), self.jobs_enabled.to_string()),
            (
                "JOBS_LEASE_SECONDS".into(),
                self.jobs_lease.as_secs().to_string(),
            ),
            (
                "JOBS_TICK_MS".into(),
                self.jobs_tick.as_millis().to_string(),
            ),
            (
                "ACTIVITY_LOG_RETENTION_DAYS".into(),
                self.activity_log_retention_days.to_string(),
            ),
            (
                "APP_RELEASE_DIR".into(),
                self.app_release_dir.display().to_string(),
            ),
        ];
        lines.extend(self.cache_lines());
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(vars: &[(&str, &str)]) -> HashMap<String, String> {
        vars.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn errors(vars: &[(&str, &str)]) -> Vec<String> {
        Config::from_map(&map(vars))
            .expect_err("must be rejected")
            .0
    }

    #[test]
    fn defaults_work_for_development() {
        let c = Config::from_map(&map(&[])).unwrap();
        assert_eq!(c.environment, Environment::Development);
        assert_eq!(c.port, 3000);
        assert_eq!(
            c.jwt_secrets_generated,
            vec!["JWT_ACCESS_SECRET", "JWT_REFRESH_SECRET"]
        );
        assert_eq!(c.business_timezone, chrono_tz::America::Costa_Rica);
        assert_eq!(c.cors_origins, CorsOrigins::Any);
        assert_eq!(c.body_limit_bytes, 1_048_576);
        assert_eq!(c.shutdown_timeout, Duration::from_secs(30));
        assert_eq!(c.jwt_access_expires_in, Duration::from_secs(900));
    }

    #[test]
    fn each_invalid_value_is_reported_on_its_own_line() {
        let errs = errors(&[
            ("PORT", "seventy"),
            ("DATABASE_URL", "mysql://x@y/z"),
            ("REDIS_URL", "not a url"),
            ("BUSINESS_TIMEZONE", "Mars/Olympus"),
            ("REQUEST_TIMEOUT_MS", "-5"),
            ("MAX_CONCURRENT_REQUESTS", "0"),
            ("JWT_ACCESS_EXPIRES_IN", "15 fortnights"),
            ("TRUST_PROXY", "99"),
            ("NODE_ENV", "staging"),
            ("AUTO_MIGRATE", "maybe"),
            ("SENTRY_DSN", "nope"),
            ("LOG_LEVEL", "info,=="),
            ("MULTIPLIER_BASE_DEFAULT_X", "-3"),
        ]);
        let find = |key: &str| errs.iter().any(|e| e.starts_with(&format!("{key}: ")));
        for key in [
            "PORT",
            "DATABASE_URL",
            "REDIS_URL",
            "BUSINESS_TIMEZONE",
            "REQUEST_TIMEOUT_MS",
            "MAX_CONCURRENT_REQUESTS",
            "JWT_ACCESS_EXPIRES_IN",
            "TRUST_PROXY",
            "NODE_ENV",
            "AUTO_MIGRATE",
            "SENTRY_DSN",
            "LOG_LEVEL",
            "MULTIPLIER_BASE_DEFAULT_X",
        ] {
            assert!(find(key), "no error line for {key}: {errs:#?}");
        }
        assert_eq!(errs.len(), 13, "{errs:#?}");
        assert!(errs
            .iter()
            .any(|e| e == "PORT: must be a number, got \"seventy\""));
    }

    #[test]
    fn production_requires_database_and_strong_distinct_secrets() {
        let errs = errors(&[("NODE_ENV", "production")]);
        assert!(errs
            .iter()
            .any(|e| e.starts_with("DATABASE_URL: is required")));
        assert!(errs
            .iter()
            .any(|e| e.starts_with("JWT_ACCESS_SECRET: is required")));
        assert!(errs
            .iter()
            .any(|e| e.starts_with("JWT_REFRESH_SECRET: is required")));

        let errs = errors(&[
            ("NODE_ENV", "production"),
            ("DATABASE_URL", "postgres://u:p@db/banca"),
            ("JWT_ACCESS_SECRET", "short"),
            ("JWT_REFRESH_SECRET", "short"),
        ]);
        assert!(errs
            .iter()
            .any(|e| e.starts_with("JWT_ACCESS_SECRET: has 5 character(s)")));

        assert!(errs
            .iter()
            .any(|e| e.starts_with("CORS_ORIGIN: must be set in production")));

        let same = "a".repeat(40);
        let errs = errors(&[
            ("APP_ENV", "production"),
            ("DATABASE_URL", "postgres://u:p@db/banca"),
            ("CORS_ORIGIN", "https://app.banca.cr"),
            ("JWT_ACCESS_SECRET", &same),
            ("JWT_REFRESH_SECRET", &same),
        ]);
        assert_eq!(
            errs,
            vec!["JWT_REFRESH_SECRET: must differ from JWT_ACCESS_SECRET in production"]
        );
    }

    #[test]
    fn a_transaction_pooler_needs_a_direct_url() {
        let errs = errors(&[("DATABASE_URL", "postgres://u:p@pooler:6543/banca")]);
        assert!(errs[0].starts_with(
            "DIRECT_URL: is required when DATABASE_URL points at a transaction pooler"
        ));
        let errs = errors(&[("DATABASE_URL", "postgres://u:p@pooler/banca?pgbouncer=true")]);
        assert_eq!(errs.len(), 1);
        assert!(Config::from_map(&map(&[
            ("DATABASE_URL", "postgres://u:p@pooler:6543/banca"),
            ("DIRECT_URL", "postgres://u:p@db:5432/banca"),
        ]))
        .is_ok());
    }

    #[test]
    fn cors_entries_must_be_origins() {
        let errs = errors(&[("CORS_ORIGIN", "https://*.banca.cr,app.banca.cr")]);
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert!(errs[0].starts_with("CORS_ORIGIN: \"https://*.banca.cr\" is not an origin"));
    }

    #[test]
    fn disable_auth_is_refused_outside_development() {
        let errs = errors(&[("NODE_ENV", "test"), ("DISABLE_AUTH", "true")]);
        assert!(errs[0].starts_with("DISABLE_AUTH: is only allowed"));
        let c = Config::from_map(&map(&[("DISABLE_AUTH", "true")])).unwrap();
        assert!(c.disable_auth);
    }

    #[test]
    fn secrets_and_passwords_are_redacted_in_debug() {
        let c = Config::from_map(&map(&[
            (
                "DATABASE_URL",
                "postgres://banca:hunter2pass@db:6543/banca?pgbouncer=true",
            ),
            ("DIRECT_URL", "postgres://banca:directpass@db:5432/banca"),
            (
                "DATABASE_URL_REPLICA",
                "postgres://r:replicapass@replica/banca?password=qpass",
            ),
            ("REDIS_URL", "redis://:redispass@cache:6379"),
            (
                "JWT_ACCESS_SECRET",
                "access-secret-value-that-is-long-enough-1",
            ),
            (
                "JWT_REFRESH_SECRET",
                "refresh-secret-value-that-is-long-enough-2",
            ),
            ("SENTRY_DSN", "https://sentrykey@o1.ingest.sentry.io/42"),
        ]))
        .unwrap();
        let dbg = format!("{c:?}");
        let lines = format!("{:?}", c.redacted_lines());
        for leaked in [
            "hunter2pass",
            "directpass",
            "replicapass",
            "qpass",
            "redispass",
            "access-secret-value",
            "refresh-secret-value",
            "sentrykey",
        ] {
            assert!(!dbg.contains(leaked), "Debug leaks {leaked}: {dbg}");
            assert!(!lines.contains(leaked), "check-config leaks {leaked}");
        }
        assert!(dbg.contains("postgres://banca:[redacted]@db:6543/banca?pgbouncer=true"));
        assert_eq!(
            c.jwt_access_secret.expose(),
            "access-secret-value-that-is-long-enough-1"
        );
    }

    #[test]
    fn redis_cache_and_rate_limit_variables() {
        let c = Config::from_map(&map(&[])).unwrap();
        assert!(c.cache.enabled && c.rate_limits.enabled);
        let minute = Duration::from_secs(60);
        for (rule, max) in [
            (c.rate_limits.global, 100),
            (c.rate_limits.auth, 5),
            (c.rate_limits.sales, 20),
            (c.rate_limits.export, 10),
        ] {
            assert_eq!(
                rule,
                LimitRule {
                    max,
                    window: minute
                }
            );
        }
        assert_eq!(c.redis.command_timeout, Duration::from_millis(250));
        assert_eq!(c.redis.connect_timeout, Duration::from_millis(5000));
        assert_eq!(c.redis.breaker_reset, Duration::from_millis(10_000));
        assert_eq!(c.cache.session_ttl, Duration::from_secs(300));

        let c = Config::from_map(&map(&[
            ("REDIS_TOKEN", "tok-secret-value"),
            ("CACHE_ENABLED", "0"),
            ("RATE_LIMIT_SALES_MAX", "0"),
            ("RATE_LIMIT_AUTH_WINDOW_MS", "30000"),
        ]))
        .unwrap();
        assert!(!c.cache.enabled);
        assert_eq!(c.rate_limits.sales.max, 0);
        assert_eq!(c.rate_limits.auth.window, Duration::from_secs(30));
        assert!(!format!("{c:?}").contains("tok-secret-value"));
        assert!(c
            .redacted_lines()
            .contains(&("REDIS_TOKEN".to_string(), "[redacted]".to_string())));

        let errs = errors(&[
            ("RATE_LIMIT_GLOBAL_MAX", "-1"),
            ("REDIS_COMMAND_TIMEOUT_MS", "0"),
            ("CACHE_TTL_SESSION", "0"),
            ("CACHE_ENABLED", "maybe"),
        ]);
        assert_eq!(errs.len(), 4, "{errs:#?}");
        for key in [
            "RATE_LIMIT_GLOBAL_MAX",
            "REDIS_COMMAND_TIMEOUT_MS",
            "CACHE_TTL_SESSION",
            "CACHE_ENABLED",
        ] {
            assert!(
                errs.iter().any(|e| e.starts_with(&format!("{key}: "))),
                "{key}: {errs:#?}"
            );
        }
    }

    #[test]
    fn parsers() {
        assert_eq!(parse_duration_spec("60m"), Some(Duration::from_secs(3600)));
        assert_eq!(
            parse_duration_spec("7d"),
            Some(Duration::from_secs(604_800))
        );
        assert_eq!(parse_duration_spec("90"), Some(Duration::from_secs(90)));
        assert_eq!(
            parse_duration_spec("250ms"),
            Some(Duration::from_millis(250))
        );
        assert_eq!(parse_duration_spec("7w"), None);
        assert_eq!(parse_duration_spec(""), None);
        assert_eq!(parse_bool("FALSE"), Some(false));
        assert_eq!(parse_bool("1"), Some(true));
        assert_eq!(parse_bool("si"), None);
        assert_eq!(
            parse_cors(Some("https://a.cr/, https://b.cr")),
            CorsOrigins::List(vec!["https://a.cr".into(), "https://b.cr".into()])
        );
        assert_eq!(parse_cors(Some("https://a.cr,*")), CorsOrigins::Any);
        assert_eq!(normalize_log_level("fatal"), "error");
        assert_eq!(normalize_log_level("silent"), "off");
    }
}
