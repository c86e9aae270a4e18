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
pub fn config(db: &TestDb, vars: &[(&str, &str)]) -> Config {
    let mut all: Vec<(&str, &str)> = vec![
        ("NODE_ENV", "test"),
        ("DATABASE_URL", &db.url),
        ("JOBS_ENABLED", "false"),
    ];
    all.extend_from_slice(vars);
    Config::for_tests(&all)
}

/// As [`config`], for a database at `url` (a server the test started itself).
pub fn config_for_url(url: &str, vars: &[(&str, &str)]) -> Config {
    let mut all: Vec<(&str, &str)> = vec![
        ("NODE_ENV", "test"),
        ("DATABASE_URL", url),
        ("JOBS_ENABLED", "false"),
    ];
    all.extend_from_slice(vars);
    Config::for_tests(&all)
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
