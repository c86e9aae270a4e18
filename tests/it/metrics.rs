//! `GET /metrics`: Prometheus text counted by matched route and status (never the raw path),
//! pool gauges and acquire waits, sales and limit refusals, job runs, Redis and replica state,
//! the optional bearer token. Scrapes are parsed as the Prometheus text format.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::extract::Path;
use axum::routing::get;
use banca::http::envelope::ApiResponse;
use banca::http::error::ApiError;
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::common::{self, banca_command, ServerProcess, TestDb};
use crate::fixtures::{self, shop, SHOP_SECRETS};

/// One sample line: `name{labels} value`.
#[derive(Debug, Clone)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// A scrape, parsed. Panics on a line that is not valid Prometheus text.
pub struct Scrape {
    pub text: String,
    pub samples: Vec<Sample>,
    /// `# TYPE name kind` lines.
    pub types: BTreeMap<String, String>,
}

fn not_prometheus(line: &str) -> ! {
    panic!("not a Prometheus sample line: {line:?}")
}

fn parse_line(line: &str) -> Sample {
    let name_end = line
        .find(['{', ' '])
        .unwrap_or_else(|| not_prometheus(line));
    let name = line[..name_end].to_string();
    let mut labels = BTreeMap::new();
    let mut rest = &line[name_end..];
    if let Some(after) = rest.strip_prefix('{') {
        let mut chars = after.char_indices().peekable();
        let mut consumed = after.len();
        loop {
            // key
            let mut key = String::new();
            for (i, c) in chars.by_ref() {
                if c == '=' {
                    break;
                }
                if c == '}' && key.is_empty() {
                    consumed = i + 1;
                    break;
                }
                key.push(c);
            }
            if key.is_empty() {
                break;
            }
            assert_eq!(chars.next().map(|(_, c)| c), Some('"'), "{line}");
            let mut value = String::new();
            loop {
                match chars.next() {
                    Some((_, '\\')) => match chars.next() {
                        Some((_, 'n')) => value.push('\n'),
                        Some((_, c)) => value.push(c),
                        None => not_prometheus(line),
                    },
                    Some((_, '"')) => break,
                    Some((_, c)) => value.push(c),
                    None => not_prometheus(line),
                }
            }
            labels.insert(key.trim().to_string(), value);
            match chars.next() {
                Some((_, ',')) => continue,
                Some((i, '}')) => {
                    consumed = i + 1;
                    break;
                }
                _ => not_prometheus(line),
            }
        }
        rest = &after[consumed..];
    }
    let value_text = rest
        .split_whitespace()
        .next()
        .unwrap_or_else(|| not_prometheus(line));
    let value = match value_text {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        v => v.parse().unwrap_or_else(|_| not_prometheus(line)),
    };
    Sample {
        name,
        labels,
        value,
    }
}

impl Scrape {
    pub fn parse(text: String) -> Scrape {
        let mut samples = Vec::new();
        let mut types = BTreeMap::new();
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
            if let Some(t) = line.strip_prefix("# TYPE ") {
                let mut parts = t.split_whitespace();
                let (Some(name), Some(kind)) = (parts.next(), parts.next()) else {
                    panic!("bad TYPE line {line:?}");
                };
                types.insert(name.to_string(), kind.to_string());
            } else if !line.starts_with('#') {
                samples.push(parse_line(line));
            }
        }
        Scrape {
            text,
            samples,
            types,
        }
    }

    /// The samples named `name` whose labels include every pair of `labels`.
    pub fn find(&self, name: &str, labels: &[(&str, &str)]) -> Vec<&Sample> {
        self.samples
            .iter()
            .filter(|s| {
                s.name == name
                    && labels
                        .iter()
                        .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
            })
            .collect()
    }

    /// The value of the one sample matching, if any.
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let found = self.find(name, labels);
        assert!(found.len() <= 1, "{name} {labels:?} matches {found:?}");
        found.first().map(|s| s.value)
    }
}

async fn scrape(client: &reqwest::Client, url: &str, token: Option<&str>) -> Scrape {
    let mut req = client.get(url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.expect("scrape answers");
    assert_eq!(res.status(), 200);
    let ct = res.headers()["content-type"].to_str().unwrap().to_string();
    assert!(ct.starts_with("text/plain; version=0.0.4"), "{ct}");
    Scrape::parse(res.text().await.unwrap())
}

async fn probe(Path(id): Path<String>) -> Result<ApiResponse<String>, ApiError> {
    if id.starts_with("ok-") {
        Ok(ApiResponse::ok(id))
    } else {
        Err(ApiError::bad_request("INVALID_PROBE", "Sonda inválida"))
    }
}

const PROBE_ROUTE: &str = "/api/v1/test/metrics-probe/{id}";

#[tokio::test]
async fn requests_are_counted_by_matched_route_and_status_never_by_raw_path() {
    let db = TestDb::migrated().await;
    let routes = banca::http::api_routes().route(PROBE_ROUTE, get(probe));
    let config = common::config(&db, &[("DATABASE_POOL_MAX", "7")]);
    let app = common::spawn_with(config, routes, true).await;
    let metrics_url = app.url("/metrics");
    let ids: Vec<String> = (0..5)
        .map(|_| Uuid::new_v4().simple().to_string())
        .collect();
    for id in &ids[..3] {
        let res = app
            .client
            .get(app.url(&format!("/api/v1/test/metrics-probe/ok-{id}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }
    for id in &ids[3..] {
        let res = app
            .client
            .get(app.url(&format!("/api/v1/test/metrics-probe/bad-{id}")))
            .send()
            .await
            .unwrap();
        common::assert_error(res, 400, "INVALID_PROBE").await;
    }
    let stray = format!("/api/v1/no-such-route-{}", Uuid::new_v4().simple());
    let res = app.client.get(app.url(&stray)).send().await.unwrap();
    common::assert_error(res, 404, "NOT_FOUND").await;

    // A real route shared with other tests of this process: compare before and after.
    let login = [
        ("method", "POST"),
        ("route", "/api/v1/auth/login"),
        ("status", "400"),
    ];
    let before = scrape(&app.client, &metrics_url, None).await;
    let res = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    common::assert_error(res, 400, "INVALID_JSON").await;

    let m = scrape(&app.client, &metrics_url, None).await;
    let count = |s: &Scrape| s.value("http_requests_total", &login).unwrap_or(0.0);
    assert!(count(&m) >= count(&before) + 1.0, "login 400 counted");

    let ok = [("method", "GET"), ("route", PROBE_ROUTE), ("status", "200")];
    let bad = [("method", "GET"), ("route", PROBE_ROUTE), ("status", "400")];
    assert_eq!(m.value("http_requests_total", &ok), Some(3.0));
    assert_eq!(m.value("http_requests_total", &bad), Some(2.0));
    assert_eq!(
        m.value("http_request_duration_seconds_count", &ok),
        Some(3.0)
    );
    assert_eq!(
        m.value("http_request_duration_seconds_count", &bad),
        Some(2.0)
    );
    let mut inf = ok.to_vec();
    inf.push(("le", "+Inf"));
    assert_eq!(
        m.value("http_request_duration_seconds_bucket", &inf),
        Some(3.0)
    );
    let sum = m.value("http_request_duration_seconds_sum", &ok).unwrap();
    assert!(sum > 0.0 && sum < 30.0, "{sum}");
    // Buckets are cumulative.
    let mut buckets: Vec<(f64, f64)> = m
        .find("http_request_duration_seconds_bucket", &ok)
        .iter()
        .map(|s| {
            let le = &s.labels["le"];
            let le = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().unwrap()
            };
            (le, s.value)
        })
        .collect();
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    assert!(buckets.len() >= 10, "{buckets:?}");
    assert!(buckets.windows(2).all(|w| w[0].1 <= w[1].1), "{buckets:?}");
    assert_eq!(
        m.types
            .get("http_request_duration_seconds")
            .map(String::as_str),
        Some("histogram")
    );
    assert_eq!(
        m.types.get("http_requests_total").map(String::as_str),
        Some("counter")
    );

    assert_eq!(
        m.value(
            "http_error_responses_total",
            &[("status", "400"), ("code", "INVALID_PROBE")]
        ),
        Some(2.0)
    );
    let unmatched = m.find(
        "http_requests_total",
        &[("route", "(unmatched)"), ("status", "404")],
    );
    assert!(
        unmatched.iter().map(|s| s.value).sum::<f64>() >= 1.0,
        "404 counted under (unmatched)"
    );
    // Cardinality: no raw path, no path parameter value anywhere in the scrape.
    assert!(!m.text.contains("no-such-route"), "raw path leaked");
    for id in &ids {
        assert!(!m.text.contains(id.as_str()), "path parameter {id} leaked");
    }

    // State gauges of this app, read at scrape time.
    assert_eq!(
        m.value("db_pool_max_connections", &[("pool", "primary")]),
        Some(7.0)
    );
    for pool in ["primary", "direct"] {
        for state in ["idle", "in_use"] {
            let v = m
                .value("db_pool_connections", &[("pool", pool), ("state", state)])
                .unwrap_or_else(|| panic!("db_pool_connections {pool} {state}"));
            assert!(v >= 0.0);
        }
    }
    let idle = m
        .value(
            "db_pool_connections",
            &[("pool", "primary"), ("state", "idle")],
        )
        .unwrap();
    let in_use = m
        .value(
            "db_pool_connections",
            &[("pool", "primary"), ("state", "in_use")],
        )
        .unwrap();
    assert!(
        idle + in_use >= 1.0 && idle + in_use <= 7.0,
        "{idle} + {in_use}"
    );
    assert!(m.value("http_requests_in_flight", &[]).unwrap() >= 1.0);
    assert!(m.value("http_admission_permits_max", &[]).unwrap() >= 1.0);
    assert_eq!(
        m.value(
            "banca_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))]
        ),
        Some(1.0)
    );

    // The old JSON shape is not served; the answer says so.
    let res = app
        .client
        .get(app.url("/metrics?format=json"))
        .send()
        .await
        .unwrap();
    common::assert_error(res, 400, "UNSUPPORTED_FORMAT").await;
}

/// Sells through `server` with a bearer token.
async fn post(
    client: &reqwest::Client,
    server: &ServerProcess,
    path: &str,
    token: &str,
    body: &Value,
) -> (StatusCode, Value) {
    let res = client
        .post(server.url(path))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_reports_sales_refusals_jobs_pools_and_dependencies() {
    let s = shop().await;
    let w = &s.w;
    // A per-ticket limit on 33, before the server starts (nothing cached yet).
    fixtures::exec(
        w,
        &format!(
            "INSERT INTO restriction_rules (owner_banca_id, banca_id, number, max_amount, max_total)
             VALUES ('{0}', '{0}', '33', 50, 80)",
            w.a.banca_id
        ),
    )
    .await;
    let token = "metrics-scrape-token-0123456789";
    let mut cmd = banca_command();
    cmd.env("DATABASE_URL", &w.db.url)
        .env("DATABASE_URL_REPLICA", &w.db.url)
        .env("DATABASE_POOL_MAX", "6")
        .env("NODE_ENV", "test")
        .env("JOBS_ENABLED", "false")
        .env("REDIS_URL", "redis://127.0.0.1:6379")
        .env(
            "REDIS_PREFIX",
            format!("metrics-test-{}:", Uuid::new_v4().simple()),
        )
        .env("METRICS_TOKEN", token)
        .env("RATE_LIMIT_ENABLED", "true")
        .env("RATE_LIMIT_SALES_MAX", "5");
    for (k, v) in SHOP_SECRETS {
        cmd.env(k, v);
    }
    let mut server = ServerProcess::spawn(cmd);
    assert!(
        server.wait_ready(Duration::from_secs(60)).await,
        "{}",
        server.output()
    );
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let seller = &w.a.vendedores[0].token;
    let sale =
        |jugadas: Value| json!({"loteriaId": s.loteria, "sorteoId": s.sorteo, "jugadas": jugadas});

    let (st, v) = post(
        &client,
        &server,
        "/api/v1/tickets",
        seller,
        &sale(json!([
            {"type": "NUMERO", "number": "07", "amount": 100},
            {"type": "NUMERO", "number": "42", "amount": 50}
        ])),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let mut keyed = sale(json!([{"type": "NUMERO", "number": "11", "amount": 25.5}]));
    keyed["idempotencyKey"] = json!(format!("metrics-{}", Uuid::new_v4().simple()));
    for _ in 0..2 {
        let (st, v) = post(&client, &server, "/api/v1/tickets", seller, &keyed).await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
    }
    let (st, v) = post(
        &client,
        &server,
        "/api/v1/tickets",
        seller,
        &sale(json!([{"type": "NUMERO", "number": "33", "amount": 60}])),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["code"], "NUMBER_MAXAMOUNT_EXCEEDED", "{v}");
    let mut unknown = sale(json!([{"type": "NUMERO", "number": "07", "amount": 10}]));
    unknown["sorteoId"] = json!(Uuid::new_v4());
    let (st, v) = post(&client, &server, "/api/v1/tickets", seller, &unknown).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{v}");
    assert_eq!(v["code"], "SORTEO_NOT_FOUND", "{v}");
    // The sixth sale of the minute is over RATE_LIMIT_SALES_MAX.
    let (st, v) = post(&client, &server, "/api/v1/tickets", seller, &unknown).await;
    assert_eq!(st, StatusCode::TOO_MANY_REQUESTS, "{v}");

    let (st, v) = post(
        &client,
        &server,
        "/api/v1/restrictions/cron-health/execute",
        &w.admin.token,
        &json!({}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["execution"]["status"], "succeeded", "{v}");

    // The token is required once set.
    let url = server.url("/metrics");
    let res = client.get(&url).send().await.unwrap();
    let www = res.headers().get("www-authenticate").cloned();
    common::assert_error(res, 401, "UNAUTHORIZED").await;
    assert_eq!(www.unwrap(), "Bearer");
    let res = client
        .get(&url)
        .bearer_auth("metrics-scrape-token-0123456788")
        .send()
        .await
        .unwrap();
    common::assert_error(res, 401, "UNAUTHORIZED").await;

    let m = scrape(&client, &url, Some(token)).await;
    let tickets = [("method", "POST"), ("route", "/api/v1/tickets")];
    let by_status = |status: &str| {
        let mut l = tickets.to_vec();
        l.push(("status", status));
        m.value("http_requests_total", &l)
    };
    assert_eq!(by_status("201"), Some(3.0), "two sales and a replay");
    assert_eq!(by_status("400"), Some(1.0));
    assert_eq!(by_status("404"), Some(1.0));
    assert_eq!(by_status("429"), Some(1.0));
    assert_eq!(
        m.value(
            "http_error_responses_total",
            &[("status", "429"), ("code", "RATE_LIMITED")]
        ),
        Some(1.0)
    );
    assert_eq!(
        m.value("rate_limit_refusals_total", &[("limiter", "sales")]),
        Some(1.0)
    );
    assert_eq!(
        m.value(
            "rate_limit_counted_total",
            &[("limiter", "sales"), ("store", "redis")]
        ),
        Some(6.0),
        "counted in the shared store"
    );
    assert_eq!(m.value("tickets_sold_total", &[]), Some(2.0));
    assert_eq!(
        m.value("tickets_sold_amount_cents_total", &[]),
        Some(17_550.0),
        "150 + 25.50"
    );
    assert_eq!(m.value("ticket_sale_replays_total", &[]), Some(1.0));
    assert_eq!(
        m.value(
            "ticket_sale_refusals_total",
            &[("code", "NUMBER_MAXAMOUNT_EXCEEDED"), ("limit", "true")]
        ),
        Some(1.0)
    );
    assert_eq!(
        m.value(
            "ticket_sale_refusals_total",
            &[("code", "SORTEO_NOT_FOUND"), ("limit", "false")]
        ),
        Some(1.0)
    );
    assert_eq!(
        m.value(
            "job_runs_total",
            &[("job", "restrictions_auto_date"), ("outcome", "succeeded")]
        ),
        Some(1.0)
    );
    assert_eq!(
        m.value(
            "job_run_duration_seconds_count",
            &[("job", "restrictions_auto_date"), ("outcome", "succeeded")]
        ),
        Some(1.0)
    );

    // Pools: sizes and the time waited for a connection, per pool.
    assert_eq!(
        m.value("db_pool_max_connections", &[("pool", "primary")]),
        Some(6.0)
    );
    assert_eq!(
        m.value("db_pool_max_connections", &[("pool", "replica")]),
        Some(10.0)
    );
    let acquired = m
        .value("db_pool_acquire_seconds_count", &[("pool", "primary")])
        .expect("acquire histogram of the primary");
    assert!(acquired >= 5.0, "{acquired}");
    assert_eq!(
        m.value(
            "db_pool_acquire_seconds_bucket",
            &[("pool", "primary"), ("le", "+Inf")]
        ),
        Some(acquired)
    );
    assert!(
        m.value("db_pool_acquire_seconds_count", &[("pool", "replica")])
            .unwrap_or(0.0)
            >= 1.0,
        "the warm-up probe of the replica acquired a connection"
    );
    // Dependencies.
    assert_eq!(m.value("db_replica_up", &[]), Some(1.0));
    assert_eq!(m.value("redis_up", &[]), Some(1.0));
    assert_eq!(m.value("redis_circuit_open", &[]), Some(0.0));
    // The process.
    assert!(m.value("process_resident_memory_bytes", &[]).unwrap() > 1e6);
    assert!(m.value("process_open_fds", &[]).unwrap() > 0.0);
    let started = m.value("process_start_time_seconds", &[]).unwrap();
    let now = chrono::Utc::now().timestamp() as f64;
    assert!(
        started <= now + 1.0 && started > now - 600.0,
        "{started} vs {now}"
    );
    assert!(m.value("process_cpu_seconds_total", &[]).unwrap() > 0.0);
    assert_eq!(
        m.value(
            "banca_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))]
        ),
        Some(1.0)
    );
    // The acquire events are metrics, never log lines.
    let out = server.output();
    assert!(!out.contains("acquired connection"), "{out}");

    server.sigterm();
    assert_eq!(server.wait_exit(Duration::from_secs(30)), Some(0));
}
