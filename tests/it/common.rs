//! Test harness: a fresh PostgreSQL database per test (dropped afterwards), the real router
//! served on a random port, and helpers to run the real binary.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use axum::Router;
use banca::app::{self, AppState};
use banca::config::{Config, ServiceUrl};
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, PgConnection};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// The server tests create their databases on (trust auth on loopback).
pub fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

/// A database made for one test and dropped when the value goes out of scope.
pub struct TestDb {
    pub name: String,
    pub url: String,
}

impl TestDb {
    /// Creates an empty database (no migrations applied).
    pub async fn empty() -> TestDb {
        let name = format!("banca_test_{}", uuid::Uuid::new_v4().simple());
        let admin: PgConnectOptions = admin_url().parse().expect("TEST_DATABASE_URL parses");
        let mut conn = admin.connect().await.expect("test PostgreSQL is reachable");
        sqlx::query(&format!("CREATE DATABASE \"{name}\""))
            .execute(&mut conn)
            .await
            .expect("create test database");
        conn.close().await.ok();
        let mut url = url::Url::parse(&admin_url()).unwrap();
        url.set_path(&name);
        TestDb {
            name,
            url: url.to_string(),
        }
    }

    /// Creates a database with every migration applied.
    pub async fn migrated() -> TestDb {
        let db = TestDb::empty().await;
        let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
        banca::db::migrate::run(&pool)
            .await
            .expect("migrations apply");
        pool.close().await;
        db
    }

    pub async fn connect(&self) -> PgConnection {
        PgConnection::connect(&self.url).await.unwrap()
    }
}

/// Drops a database, terminating its connections.
pub fn drop_database(name: &str) {
    let name = name.to_string();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let admin: PgConnectOptions = admin_url().parse().unwrap();
            if let Ok(mut conn) = admin.connect().await {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .execute(&mut conn)
                    .await;
            }
        });
    })
    .join()
    .ok();
}

impl Drop for TestDb {
    fn drop(&mut self) {
        drop_database(&self.name);
    }
}

/// A configuration for an in-process app: development defaults plus `vars`. Scheduled jobs are
/// off unless `vars` turn them on (`JOBS_ENABLED=true`), so they never act behind a test's back.
/// In PgBouncer mode ([`pgbouncer_mode`]) the database is reached through the shared PgBouncer.
pub fn config(db: &TestDb, vars: &[(&str, &str)]) -> Config {
    let redis = redis_mode_vars(&db.url);
    let mut all: Vec<(&str, &str)> = vec![
        ("NODE_ENV", "test"),
        ("DATABASE_URL", &db.url),
        ("JOBS_ENABLED", "false"),
        // Tests log in and sell many times from 127.0.0.1; the rate-limit tests turn the
        // limits on explicitly.
        ("RATE_LIMIT_ENABLED", "false"),
    ];
    all.extend(redis.iter().map(|(k, v)| (*k, v.as_str())));
    all.extend_from_slice(vars);
    routed_config(&all)
}

/// As [`config`], for a database at `url` (a server the test started itself).
pub fn config_for_url(url: &str, vars: &[(&str, &str)]) -> Config {
    let redis = redis_mode_vars(url);
    let mut all: Vec<(&str, &str)> = vec![
        ("NODE_ENV", "test"),
        ("DATABASE_URL", url),
        ("JOBS_ENABLED", "false"),
        // Tests log in and sell many times from 127.0.0.1; the rate-limit tests turn the
        // limits on explicitly.
        ("RATE_LIMIT_ENABLED", "false"),
    ];
    all.extend(redis.iter().map(|(k, v)| (*k, v.as_str())));
    all.extend_from_slice(vars);
    routed_config(&all)
}

/// Redis mode: with `BANCA_TEST_REDIS_URL` set, every in-process app uses that Redis, under a
/// prefix per database (instances of one test share it, as a deployment's instances do), so the
/// whole suite runs with the shared caches, limits and throttle on:
/// `BANCA_TEST_REDIS_URL=redis://127.0.0.1:6379 cargo test`. A test's own `REDIS_URL` wins.
pub fn redis_mode_vars(database_url: &str) -> Vec<(&'static str, String)> {
    match std::env::var("BANCA_TEST_REDIS_URL") {
        Ok(url) if !url.trim().is_empty() => {
            let db: String = database_url
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            vec![("REDIS_URL", url), ("REDIS_PREFIX", format!("test-{db}:"))]
        }
        _ => Vec::new(),
    }
}

/// An application served on a random loopback port.
pub struct TestApp {
    pub addr: SocketAddr,
    pub state: AppState,
    pub client: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
    pub server: Option<tokio::task::JoinHandle<Result<(), app::DrainTimeout>>>,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Sends the shutdown signal; the server drains and its task ends.
    pub fn trigger_shutdown(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.trigger_shutdown();
    }
}

/// Serves `routes` (the real middleware stack around them) with `config`, after warm-up.
pub async fn spawn_with(config: Config, routes: Router<AppState>, warm: bool) -> TestApp {
    let url = config
        .database_url
        .clone()
        .unwrap_or_else(|| ServiceUrl::parse(&admin_url()).unwrap());
    let state = AppState::build(config, &url).expect("state builds");
    if warm {
        app::warm_up(&state).await.expect("warm-up succeeds");
    }
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = oneshot::channel::<()>();
    let app = banca::http::with_middleware(routes, state.clone());
    let server_state = state.clone();
    let server = tokio::spawn(async move {
        app::run_router(listener, app, server_state, async move {
            let _ = rx.await;
        })
        .await
    });
    TestApp {
        addr,
        state,
        client: reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap(),
        shutdown: Some(tx),
        server: Some(server),
    }
}

/// Serves the real application routes on a fresh migrated database.
pub async fn spawn_app(db: &TestDb, vars: &[(&str, &str)]) -> TestApp {
    spawn_with(config(db, vars), banca::http::api_routes(), true).await
}

/// A loopback port with nothing listening on it.
pub fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// The real `banca` binary with a clean environment (only PATH and HOME kept).
pub fn banca_command() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_banca"));
    c.env_clear();
    for key in ["PATH", "HOME"] {
        if let Ok(v) = std::env::var(key) {
            c.env(key, v);
        }
    }
    c.env("LOG_LEVEL", "info");
    // As in `config`: rate limits off unless a test sets them.
    c.env("RATE_LIMIT_ENABLED", "false");
    // Outside the repository, so a developer's `.env` cannot leak into the test.
    c.current_dir(std::env::temp_dir());
    c.stdin(Stdio::null());
    c
}

/// A running `banca serve` child that is killed if the test fails. Its output is collected
/// continuously so a chatty server never blocks on a full pipe.
pub struct ServerProcess {
    pub child: Child,
    pub port: u16,
    output: std::sync::Arc<std::sync::Mutex<String>>,
    readers: Vec<std::thread::JoinHandle<()>>,
}

fn collect(
    mut from: impl std::io::Read + Send + 'static,
    into: std::sync::Arc<std::sync::Mutex<String>>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while let Ok(n) = from.read(&mut buf) {
            if n == 0 {
                break;
            }
            into.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    })
}

impl ServerProcess {
    pub fn spawn(mut cmd: Command) -> ServerProcess {
        route_command_db(&mut cmd);
        let port = closed_port();
        cmd.arg("serve")
            .env("PORT", port.to_string())
            .env("HOST", "127.0.0.1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("banca binary starts");
        let output = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let readers = vec![
            collect(child.stdout.take().unwrap(), output.clone()),
            collect(child.stderr.take().unwrap(), output.clone()),
        ];
        ServerProcess {
            child,
            port,
            output,
            readers,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.port, path)
    }

    /// Polls `readyz` until it answers 200 or `within` passes.
    pub async fn wait_ready(&mut self, within: Duration) -> bool {
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        let until = Instant::now() + within;
        while Instant::now() < until {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if let Ok(r) = client
                .get(self.url("/api/v1/readyz"))
                .timeout(Duration::from_secs(2))
                .send()
                .await
            {
                if r.status() == 200 {
                    return true;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        false
    }

    pub fn sigterm(&self) {
        let status = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()
            .expect("kill runs");
        assert!(status.success());
    }

    /// Waits for the process to exit within `within`; returns its exit code.
    pub fn wait_exit(&mut self, within: Duration) -> Option<i32> {
        let until = Instant::now() + within;
        while Instant::now() < until {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    /// Everything the process wrote so far (all of it once it has exited).
    pub fn output(&mut self) -> String {
        if let Ok(Some(_)) = self.child.try_wait() {
            for r in self.readers.drain(..) {
                let _ = r.join();
            }
        }
        self.output.lock().unwrap().clone()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Checks the error shape: `success:false`, the code, a Spanish message and a request id.
pub async fn assert_error(res: reqwest::Response, status: u16, code: &str) -> serde_json::Value {
    assert_eq!(res.status().as_u16(), status, "status");
    let header_id = res
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body: serde_json::Value = res.json().await.expect("error body is JSON");
    assert_eq!(body["success"], false, "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "message: {body}"
    );
    let id = body["requestId"].as_str().expect("requestId present");
    assert!(!id.is_empty());
    assert_eq!(Some(id.to_string()), header_id, "body and header ids agree");
    body
}

/// Polls `cond` every 10 ms until it holds or `within` passes; returns whether it held.
pub async fn eventually(within: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let until = Instant::now() + within;
    while Instant::now() < until {
        if cond() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    cond()
}

/// A TCP proxy to `target` whose answers from the target can be slowed down at will: a
/// database that becomes slow while connections are open.
pub struct SlowProxy {
    pub port: u16,
    delay_ms: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl SlowProxy {
    pub async fn start(target: SocketAddr) -> SlowProxy {
        use std::sync::atomic::{AtomicU64, Ordering};
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let delay_ms = std::sync::Arc::new(AtomicU64::new(0));
        let delay = delay_ms.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(upstream) = tokio::net::TcpStream::connect(target).await else {
                    continue;
                };
                let (mut cr, mut cw) = client.into_split();
                let (mut ur, mut uw) = upstream.into_split();
                tokio::spawn(async move {
                    let _ = tokio::io::copy(&mut cr, &mut uw).await;
                });
                let delay = delay.clone();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 16 * 1024];
                    loop {
                        let n = match ur.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        let ms = delay.load(Ordering::Relaxed);
                        if ms > 0 {
                            tokio::time::sleep(Duration::from_millis(ms)).await;
                        }
                        if cw.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        SlowProxy { port, delay_ms }
    }

    pub fn set_delay(&self, ms: u64) {
        self.delay_ms
            .store(ms, std::sync::atomic::Ordering::Relaxed);
    }
}

/// The address of the test PostgreSQL server.
pub fn admin_addr() -> SocketAddr {
    let u = url::Url::parse(&admin_url()).unwrap();
    let host = u.host_str().unwrap_or("127.0.0.1");
    let host = if host == "localhost" {
        "127.0.0.1"
    } else {
        host
    };
    format!("{host}:{}", u.port().unwrap_or(5432))
        .parse()
        .unwrap()
}

// ---------------------------------------------------------------------------------------------
// PgBouncer in transaction mode, started by the tests.

/// True when `BANCA_TEST_PGBOUNCER=1`: every app a test starts reaches PostgreSQL through the
/// shared PgBouncer ([`PgBouncer::shared`], transaction mode, `?pgbouncer=true`), with
/// `DIRECT_URL` straight at PostgreSQL, as the deployment guide's production setup has it.
pub fn pgbouncer_mode() -> bool {
    std::env::var("BANCA_TEST_PGBOUNCER").is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
}

/// Whether `url` names a database of the test PostgreSQL server.
fn on_test_server(url: &url::Url) -> bool {
    let admin = admin_addr();
    let host = match url.host_str() {
        Some("localhost") => "127.0.0.1",
        Some(h) => h,
        None => return false,
    };
    host.parse::<std::net::IpAddr>().ok() == Some(admin.ip())
        && url.port().unwrap_or(5432) == admin.port()
}

/// An app's variables with its database routed as the test mode asks: in PgBouncer mode a
/// `DATABASE_URL` on the test server goes through the shared PgBouncer and the original becomes
/// `DIRECT_URL` (unless the test chose a `DIRECT_URL` itself); otherwise unchanged.
pub fn route_db_vars(vars: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    if !pgbouncer_mode() {
        return out;
    }
    let last = |key: &str| vars.iter().rev().find(|(k, _)| *k == key).map(|(_, v)| *v);
    let Some(db_url) = last("DATABASE_URL") else {
        return out;
    };
    if last("DIRECT_URL").is_some() {
        return out;
    }
    let Ok(parsed) = url::Url::parse(db_url) else {
        return out;
    };
    if !on_test_server(&parsed) || banca::db::pools::looks_like_pgbouncer(&parsed) {
        return out;
    }
    out.retain(|(k, _)| k != "DATABASE_URL");
    out.push(("DATABASE_URL".into(), PgBouncer::shared().route(&parsed)));
    out.push(("DIRECT_URL".into(), db_url.to_string()));
    out
}

/// [`Config::for_tests`] with the database routed by [`route_db_vars`].
pub fn routed_config(vars: &[(&str, &str)]) -> Config {
    let owned = route_db_vars(vars);
    let refs: Vec<(&str, &str)> = owned
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    Config::for_tests(&refs)
}

/// A `banca` command's database variables routed by [`route_db_vars`] (a no-op outside
/// PgBouncer mode): how [`ServerProcess::spawn`] sends every server a test starts through the
/// shared PgBouncer.
pub fn route_command_db(cmd: &mut Command) {
    if !pgbouncer_mode() {
        return;
    }
    let set: Vec<(String, String)> = cmd
        .get_envs()
        .filter_map(|(k, v)| Some((k.to_str()?.to_string(), v?.to_str()?.to_string())))
        .collect();
    let refs: Vec<(&str, &str)> = set.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    for (k, v) in route_db_vars(&refs) {
        if k == "DATABASE_URL" || k == "DIRECT_URL" {
            cmd.env(k, v);
        }
    }
}

impl TestDb {
    /// The database variables for a `banca` child process, routed by [`route_db_vars`]:
    /// `cmd.envs(db.app_env())`.
    pub fn app_env(&self) -> Vec<(String, String)> {
        route_db_vars(&[("DATABASE_URL", &self.url)])
    }
}

/// The admin console user of the test PgBouncers (`SHOW`, `PAUSE`, `KILL`, `RESUME`).
pub const PGBOUNCER_ADMIN: &str = "pgbouncer_admin";

/// A PgBouncer in transaction mode on a free loopback port, in front of every database of the
/// test PostgreSQL server, with its files in a scratch directory. Runs as the `postgres`
/// account when the tests run as root (PgBouncer refuses root). The process gets SIGTERM when
/// the test process ends, however it ends; a value that is dropped stops it at once.
pub struct PgBouncer {
    pub port: u16,
    dir: tempfile::TempDir,
    pid: std::sync::Mutex<Option<u32>>,
}

fn pgbouncer_bin() -> std::path::PathBuf {
    let in_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .chain(["/usr/sbin".into(), "/usr/local/sbin".into()])
        .map(|d| d.join("pgbouncer"))
        .find(|p| p.is_file());
    in_path.expect("pgbouncer is needed by these tests (Debian: apt-get install pgbouncer)")
}

/// The uid and gid of the `postgres` account when this process runs as root.
fn unprivileged_ids() -> Option<(libc::uid_t, libc::gid_t)> {
    // SAFETY: geteuid has no preconditions; getpwnam returns a pointer to static storage (or
    // null), read at once, before any other call could overwrite it.
    unsafe {
        if libc::geteuid() != 0 {
            return None;
        }
        let pw = libc::getpwnam(c"postgres".as_ptr());
        assert!(
            !pw.is_null(),
            "running as root: PgBouncer needs the postgres account"
        );
        Some(((*pw).pw_uid, (*pw).pw_gid))
    }
}

/// `name=value` settings of a test PgBouncer, `overrides` replacing the defaults.
fn pgbouncer_ini(dir: &std::path::Path, port: u16, overrides: &[(&str, &str)]) -> String {
    let server = admin_addr();
    let dir = dir.display();
    let defaults: Vec<(String, String)> = vec![
        ("listen_addr".into(), "127.0.0.1".into()),
        ("listen_port".into(), port.to_string()),
        ("unix_socket_dir".into(), String::new()),
        ("auth_type".into(), "trust".into()),
        ("auth_file".into(), format!("{dir}/userlist.txt")),
        ("admin_users".into(), PGBOUNCER_ADMIN.into()),
        ("pool_mode".into(), "transaction".into()),
        ("max_client_conn".into(), "2000".into()),
        ("default_pool_size".into(), "20".into()),
        ("logfile".into(), format!("{dir}/pgbouncer.log")),
        ("log_connections".into(), "0".into()),
        ("log_disconnections".into(), "0".into()),
    ];
    let mut settings = defaults;
    for (k, v) in overrides {
        settings.retain(|(key, _)| key != k);
        settings.push((k.to_string(), v.to_string()));
    }
    let mut ini = format!(
        "[databases]\n* = host={} port={}\n\n[pgbouncer]\n",
        server.ip(),
        server.port()
    );
    for (k, v) in settings {
        ini.push_str(&format!("{k} = {v}\n"));
    }
    ini
}

impl PgBouncer {
    /// A new PgBouncer with `settings` (PgBouncer's own names) over the defaults.
    pub fn start_with(settings: &[(&str, &str)]) -> PgBouncer {
        let dir = tempfile::Builder::new()
            .prefix("banca-pgbouncer-")
            .tempdir()
            .unwrap();
        let port = closed_port();
        let admin = url::Url::parse(&admin_url()).unwrap();
        let decode = |s: &str| {
            url::form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        let user = decode(admin.username());
        let password = decode(admin.password().unwrap_or(""));
        let quote = |s: &str| s.replace('"', "\"\"");
        std::fs::write(
            dir.path().join("userlist.txt"),
            format!(
                "\"{}\" \"{}\"\n\"{PGBOUNCER_ADMIN}\" \"\"\n",
                quote(&user),
                quote(&password)
            ),
        )
        .unwrap();
        std::fs::write(
            dir.path().join("pgbouncer.ini"),
            pgbouncer_ini(dir.path(), port, settings),
        )
        .unwrap();
        if let Some((uid, gid)) = unprivileged_ids() {
            for entry in ["", "userlist.txt", "pgbouncer.ini"] {
                let path = dir.path().join(entry);
                std::os::unix::fs::chown(&path, Some(uid), Some(gid)).unwrap();
            }
        }
        let bouncer = PgBouncer {
            port,
            dir,
            pid: std::sync::Mutex::new(None),
        };
        bouncer.launch();
        bouncer
    }

    /// The one PgBouncer of this test process for [`pgbouncer_mode`], started on first use.
    pub fn shared() -> &'static PgBouncer {
        SHARED_PGBOUNCER.get_or_init(|| {
            // Many tests run at once, each with its own database (hence its own PgBouncer pool):
            // small per-database pools keep the total under PostgreSQL's max_connections.
            let bouncer = PgBouncer::start_with(&[("default_pool_size", "8")]);
            // SAFETY: registers a plain function without captured state.
            unsafe {
                libc::atexit(stop_shared_pgbouncer);
            }
            bouncer
        })
    }

    /// Starts the process (its keeper thread waits for it, so a killed PgBouncer is reaped)
    /// and waits until it accepts connections.
    fn launch(&self) {
        use std::os::unix::process::CommandExt;
        let ini = self.dir.path().join("pgbouncer.ini");
        let out = std::fs::File::create(self.dir.path().join("pgbouncer.out")).unwrap();
        let ids = unprivileged_ids();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut cmd = Command::new(pgbouncer_bin());
            cmd.arg(&ini)
                .stdin(Stdio::null())
                .stdout(out.try_clone().unwrap())
                .stderr(out);
            // SAFETY: only async-signal-safe system calls between fork and exec.
            unsafe {
                cmd.pre_exec(move || {
                    if let Some((uid, gid)) = ids {
                        if libc::setgroups(0, std::ptr::null()) != 0
                            || libc::setgid(gid) != 0
                            || libc::setuid(uid) != 0
                        {
                            return Err(std::io::Error::last_os_error());
                        }
                    }
                    // After setuid, which clears it: SIGTERM when this keeper thread ends,
                    // which is when the test process ends.
                    if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
            match cmd.spawn() {
                Ok(mut child) => {
                    let _ = tx.send(Ok(child.id()));
                    let _ = child.wait();
                }
                Err(e) => {
                    let _ = tx.send(Err(e));
                }
            }
        });
        let pid = rx
            .recv()
            .unwrap()
            .unwrap_or_else(|e| panic!("pgbouncer starts: {e}"));
        *self.pid.lock().unwrap() = Some(pid);
        let until = Instant::now() + Duration::from_secs(15);
        while Instant::now() < until {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            assert!(self.alive(), "pgbouncer exited at start:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("pgbouncer did not listen within 15 s:\n{}", self.log());
    }

    fn alive(&self) -> bool {
        match *self.pid.lock().unwrap() {
            // SAFETY: signal 0 only checks that the process exists.
            Some(pid) => unsafe { libc::kill(pid as libc::pid_t, 0) == 0 },
            None => false,
        }
    }

    /// Kills the process (SIGKILL: no goodbye to its clients) and waits until it is gone.
    pub fn kill(&self) {
        let pid = self.pid.lock().unwrap().take();
        if let Some(pid) = pid {
            // SAFETY: plain kill(2) of our own child.
            unsafe {
                libc::kill(pid as libc::pid_t, libc::SIGKILL);
            }
            let until = Instant::now() + Duration::from_secs(10);
            // The keeper thread reaps it; until then it exists as a zombie.
            // SAFETY: signal 0 only checks that the process exists.
            while unsafe { libc::kill(pid as libc::pid_t, 0) } == 0 && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }

    /// Starts the process again, on the same port with the same settings.
    pub fn restart(&self) {
        self.kill();
        self.launch();
    }

    /// The URL of database `db` through this PgBouncer, as an app is given it.
    pub fn url(&self, db: &str) -> String {
        let mut u = url::Url::parse(&admin_url()).unwrap();
        u.set_path(db);
        self.route(&u)
    }

    /// `url` (a database of the test server) through this PgBouncer, with `pgbouncer=true`.
    pub fn route(&self, url: &url::Url) -> String {
        let mut u = url.clone();
        u.set_host(Some("127.0.0.1")).unwrap();
        u.set_port(Some(self.port)).unwrap();
        u.query_pairs_mut().append_pair("pgbouncer", "true");
        u.to_string()
    }

    /// Runs `command` on the admin console (`PAUSE db`, `KILL db`, `RESUME db`, `SHOW ...`)
    /// and returns its rows as column name → value text.
    pub async fn admin(
        &self,
        command: &str,
    ) -> Result<Vec<std::collections::HashMap<String, String>>, sqlx::Error> {
        use sqlx::{Column, Executor, Row};
        let opts = PgConnectOptions::new()
            .host("127.0.0.1")
            .port(self.port)
            .username(PGBOUNCER_ADMIN)
            .database("pgbouncer")
            .extra_float_digits(None);
        let mut conn = opts.connect().await?;
        let rows = conn.fetch_all(command).await?;
        let _ = conn.close().await;
        Ok(rows
            .iter()
            .map(|r| {
                r.columns()
                    .iter()
                    .map(|c| {
                        let v = r
                            .try_get_unchecked::<Option<String>, _>(c.ordinal())
                            .ok()
                            .flatten()
                            .unwrap_or_default();
                        (c.name().to_string(), v)
                    })
                    .collect()
            })
            .collect())
    }

    /// PgBouncer's log so far.
    pub fn log(&self) -> String {
        let read = |f: &str| std::fs::read_to_string(self.dir.path().join(f)).unwrap_or_default();
        format!("{}{}", read("pgbouncer.log"), read("pgbouncer.out"))
    }
}

static SHARED_PGBOUNCER: std::sync::OnceLock<PgBouncer> = std::sync::OnceLock::new();

/// At the test process's exit: stops the shared PgBouncer and removes its directory (a static
/// is never dropped).
extern "C" fn stop_shared_pgbouncer() {
    if let Some(b) = SHARED_PGBOUNCER.get() {
        b.kill();
        let _ = std::fs::remove_dir_all(b.dir.path());
    }
}

impl Drop for PgBouncer {
    fn drop(&mut self) {
        self.kill();
    }
}
