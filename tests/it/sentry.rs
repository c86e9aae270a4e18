//! Sentry: 5xx answers and panics reach a Sentry endpoint (a fake one on loopback that accepts
//! envelopes) with the request id, route and user id, and without the Authorization header,
//! cookies, bodies, passwords, tokens or contact data. Flow-control 503s are not reported.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::routing::{get, post};
use axum::Router;
use banca::domain::roles::Role;
use banca::http::auth::Auth;
use banca::http::error::ApiError;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use uuid::Uuid;

use crate::common::{self, banca_command, ServerProcess, TestDb};
use crate::fixtures;

/// A Sentry ingestion endpoint on loopback that keeps every envelope it receives.
struct FakeSentry {
    port: u16,
    bodies: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

async fn receive(State(bodies): State<Arc<Mutex<Vec<String>>>>, body: Bytes) -> &'static str {
    bodies
        .lock()
        .unwrap()
        .push(String::from_utf8_lossy(&body).into_owned());
    "{}"
}

impl FakeSentry {
    async fn start() -> FakeSentry {
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let app = Router::new()
            .route("/api/{project}/envelope/", post(receive))
            .with_state(bodies.clone());
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeSentry { port, bodies, task }
    }

    fn dsn(&self) -> String {
        format!("http://publickey@127.0.0.1:{}/1", self.port)
    }

    /// Everything received, as sent.
    fn raw(&self) -> String {
        self.bodies.lock().unwrap().join("\n")
    }

    /// The payloads of every envelope item (events and transactions): lines with a
    /// timestamp (envelope and item headers have none).
    fn payloads(&self) -> Vec<Value> {
        self.raw()
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v.get("timestamp").is_some())
            .collect()
    }

    fn events_for(&self, request_id: &str) -> Vec<Value> {
        self.payloads()
            .into_iter()
            .filter(|p| !is_transaction(p) && p["tags"]["request_id"] == request_id)
            .collect()
    }

    async fn wait_for(&self, within: Duration, what: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let until = Instant::now() + within;
        loop {
            let payloads = self.payloads();
            if what(&payloads) || Instant::now() > until {
                return payloads;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for FakeSentry {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Transaction payloads have a start; events do not.
fn is_transaction(p: &Value) -> bool {
    p.get("start_timestamp").is_some()
}

/// A token that looks like a real JWT; it must never reach Sentry.
const FAKE_JWT: &str =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJmYWtlLXVzZXIifQ.c2lnbmF0dXJlLWRlLXBydWViYQ";

async fn panics(_auth: Auth) -> &'static str {
    panic!(
        "boom: password=hunter2-secret while reading {}",
        "postgres://banca:s3cretpw@db.internal/banca"
    )
}

async fn internal() -> Result<&'static str, ApiError> {
    Err(ApiError::internal(
        &"decoding failed on postgres://banca:s3cretpw@db.internal/banca",
    ))
}

async fn busy() -> Result<&'static str, ApiError> {
    Err(ApiError::service_unavailable(
        "SERVER_BUSY",
        "El servidor está ocupado; intente de nuevo en un momento",
    ))
}

fn assert_clean(raw: &str, secrets: &[&str]) {
    for s in secrets {
        assert!(!raw.contains(s), "{s:?} reached Sentry:\n{raw}");
    }
    let lower = raw.to_ascii_lowercase();
    assert!(
        !lower.contains("\"authorization\"") && !lower.contains("\"cookie\""),
        "headers reached Sentry:\n{raw}"
    );
    assert!(!raw.contains("ip_address"), "an address reached Sentry");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panics_and_internal_errors_are_reported_with_the_request_id_and_nothing_secret() {
    let sentry = FakeSentry::start().await;
    let db = TestDb::migrated().await;
    let dsn = sentry.dsn();
    let config = common::config(
        &db,
        &[("SENTRY_DSN", &dsn), ("SENTRY_TRACES_SAMPLE_RATE", "0")],
    );
    // The client is global to the process: this is the only test that starts one in-process.
    let guard = banca::observability::sentry::init(&config).expect("Sentry starts");
    let routes = banca::http::api_routes()
        .route("/api/v1/test/sentry/panic", get(panics))
        .route("/api/v1/test/sentry/internal", get(internal))
        .route("/api/v1/test/sentry/busy", get(busy));
    let app = common::spawn_with(config, routes, true).await;
    let user = fixtures::user(&app, "maria.perez", Role::Admin, None, None).await;

    let panic_id = format!("panic-{}", Uuid::new_v4().simple());
    let res = app
        .client
        .get(app.url("/api/v1/test/sentry/panic"))
        .bearer_auth(&user.token)
        .header("cookie", "sid=cookie-secret-value")
        .header("x-request-id", &panic_id)
        .send()
        .await
        .unwrap();
    common::assert_error(res, 500, "INTERNAL_ERROR").await;

    let busy_id = format!("busy-{}", Uuid::new_v4().simple());
    let res = app
        .client
        .get(app.url("/api/v1/test/sentry/busy?email=maria.perez@example.com"))
        .header("x-request-id", &busy_id)
        .send()
        .await
        .unwrap();
    common::assert_error(res, 503, "SERVER_BUSY").await;

    let internal_id = format!("internal-{}", Uuid::new_v4().simple());
    let res = app
        .client
        .get(app.url("/api/v1/test/sentry/internal?token=query-token-value"))
        .header("authorization", format!("Bearer {FAKE_JWT}"))
        .header("x-request-id", &internal_id)
        .send()
        .await
        .unwrap();
    common::assert_error(res, 500, "INTERNAL_ERROR").await;

    // Envelopes are sent in order: once the last one is in, the earlier ones are too.
    sentry
        .wait_for(Duration::from_secs(20), |p| {
            p.iter()
                .any(|e| e["tags"]["request_id"] == internal_id.as_str())
        })
        .await;

    let panic_events = sentry.events_for(&panic_id);
    assert_eq!(
        panic_events.len(),
        1,
        "one report per panic: {panic_events:?}"
    );
    let e = &panic_events[0];
    assert_eq!(e["level"], "fatal", "{e}");
    let exc = &e["exception"]["values"][0];
    assert_eq!(exc["mechanism"]["type"], "panic", "{e}");
    let value = exc["value"].as_str().unwrap();
    assert!(value.starts_with("boom: password=[redacted]"), "{value}");
    assert_eq!(e["tags"]["http.route"], "/api/v1/test/sentry/panic", "{e}");
    assert_eq!(e["tags"]["http.method"], "GET", "{e}");
    assert_eq!(e["environment"], "test", "{e}");
    assert_eq!(e["user"], json!({"id": user.user_id.to_string()}), "{e}");
    assert!(e.get("request").is_none(), "{e}");

    assert!(
        sentry.events_for(&busy_id).is_empty(),
        "load shedding is not an error"
    );

    let internal_events = sentry.events_for(&internal_id);
    assert_eq!(internal_events.len(), 1, "{internal_events:?}");
    let e = &internal_events[0];
    assert_eq!(
        e["message"], "HTTP 500 INTERNAL_ERROR en GET /api/v1/test/sentry/internal",
        "{e}"
    );
    assert_eq!(e["tags"]["error.code"], "INTERNAL_ERROR", "{e}");
    assert_eq!(e["tags"]["http.status_code"], "500", "{e}");

    assert_clean(
        &sentry.raw(),
        &[
            &user.token,
            FAKE_JWT,
            "cookie-secret-value",
            "hunter2-secret",
            "s3cretpw",
            "maria.perez",
            "query-token-value",
        ],
    );
    drop(guard);
    assert!(!banca::observability::sentry::enabled());
}

/// A TCP proxy to PostgreSQL that can be cut: listener and open connections closed at once.
struct CuttableProxy {
    port: u16,
    tasks: Arc<Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl CuttableProxy {
    async fn start(target: std::net::SocketAddr) -> CuttableProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let tasks: Arc<Mutex<Vec<tokio::task::AbortHandle>>> = Arc::default();
        let conns = tasks.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let Ok(mut upstream) = tokio::net::TcpStream::connect(target).await else {
                    continue;
                };
                let pipe = tokio::spawn(async move {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                });
                conns.lock().unwrap().push(pipe.abort_handle());
            }
        });
        tasks.lock().unwrap().push(accept.abort_handle());
        CuttableProxy { port, tasks }
    }

    fn cut(&self) {
        for t in self.tasks.lock().unwrap().drain(..) {
            t.abort();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_reports_a_lost_database_once_with_the_request_id_and_traces_requests() {
    let sentry = FakeSentry::start().await;
    let db = TestDb::migrated().await;
    let proxy = CuttableProxy::start(common::admin_addr()).await;
    let mut url = url::Url::parse(&db.url).unwrap();
    url.set_port(Some(proxy.port)).unwrap();
    let mut cmd = banca_command();
    cmd.env("DATABASE_URL", url.as_str())
        .env("NODE_ENV", "test")
        .env("JOBS_ENABLED", "false")
        .env("DATABASE_ACQUIRE_TIMEOUT_MS", "1000")
        .env("SENTRY_DSN", sentry.dsn())
        .env("SENTRY_TRACES_SAMPLE_RATE", "1.0");
    let mut server = ServerProcess::spawn(cmd);
    assert!(
        server.wait_ready(Duration::from_secs(60)).await,
        "{}",
        server.output()
    );
    let client = reqwest::Client::builder().no_proxy().build().unwrap();

    // Traces: a sampled request becomes a transaction named by its matched route (probes, like
    // the readiness polls above, are not traced).
    let res = client
        .get(server.url("/api/v1/auth/me"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let payloads = sentry
        .wait_for(Duration::from_secs(20), |p| {
            p.iter()
                .any(|t| is_transaction(t) && t["transaction"] == "GET /api/v1/auth/me")
        })
        .await;
    let tx = payloads
        .iter()
        .find(|t| is_transaction(t) && t["transaction"] == "GET /api/v1/auth/me")
        .unwrap_or_else(|| panic!("no transaction: {payloads:?}\n{}", server.output()));
    assert_eq!(tx["contexts"]["trace"]["op"], "http.server", "{tx}");
    assert_eq!(tx["contexts"]["trace"]["status"], "unauthenticated", "{tx}");
    assert_eq!(tx["tags"]["http.status_code"], "401", "{tx}");
    assert!(
        !payloads
            .iter()
            .any(|t| t["transaction"] == "GET /api/v1/readyz"),
        "probes are not traced"
    );
    assert!(
        tx["tags"]["request_id"]
            .as_str()
            .is_some_and(|id| !id.is_empty()),
        "{tx}"
    );

    proxy.cut();
    let login = |id: String| {
        let client = client.clone();
        let url = server.url("/api/v1/auth/login");
        async move {
            client
                .post(url)
                .header("authorization", format!("Bearer {FAKE_JWT}"))
                .header("cookie", "sid=cookie-secret-value")
                .header("x-request-id", id)
                .json(&json!({"username": "maria.perez@example.com", "password": "hunter2-secret"}))
                .send()
                .await
                .unwrap()
        }
    };
    let first = format!("db-down-{}", Uuid::new_v4().simple());
    common::assert_error(login(first.clone()).await, 503, "DATABASE_UNAVAILABLE").await;
    let second = format!("db-down-{}", Uuid::new_v4().simple());
    common::assert_error(login(second.clone()).await, 503, "DATABASE_UNAVAILABLE").await;

    let payloads = sentry
        .wait_for(Duration::from_secs(20), |p| {
            p.iter().any(|e| e["tags"]["request_id"] == first.as_str())
        })
        .await;
    let events = sentry.events_for(&first);
    assert_eq!(events.len(), 1, "{payloads:?}\n{}", server.output());
    let e = &events[0];
    assert_eq!(
        e["message"], "HTTP 503 DATABASE_UNAVAILABLE en POST /api/v1/auth/login",
        "{e}"
    );
    assert_eq!(e["tags"]["http.route"], "/api/v1/auth/login", "{e}");
    assert_eq!(e["environment"], "test", "{e}");
    assert_eq!(
        e["release"],
        format!("banca@{}", env!("CARGO_PKG_VERSION")),
        "{e}"
    );
    // The cause travels as a breadcrumb of the request (the warn log), not in the answer.
    let crumbs = e["breadcrumbs"]["values"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        crumbs
            .iter()
            .any(|c| c["message"] == "database unavailable"),
        "{e}"
    );

    server.sigterm();
    assert_eq!(server.wait_exit(Duration::from_secs(30)), Some(0));
    // The same failure within the window was not reported again.
    assert!(sentry.events_for(&second).is_empty(), "{}", sentry.raw());
    assert_clean(
        &sentry.raw(),
        &[
            FAKE_JWT,
            "cookie-secret-value",
            "hunter2-secret",
            "maria.perez",
        ],
    );
}
