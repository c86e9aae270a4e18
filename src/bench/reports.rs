//! Scenario r: the reports benchmark (issue 10: "p95 ≤ 300 ms for every report and dashboard
//! endpoint on a 30-day range, and an XLSX export of a 90-day cierre in ≤ 5 s with bounded
//! memory").
//!
//! It generates [`super::dataset`]'s issue-10 dataset (`--report-jugadas`, 90 days, 5 ventanas,
//! 200 vendedores, 6 loterías) in a database of its own (`banca_bench_reports_<pid>`, so the
//! sale scenarios' SQL checks never see it), then runs the server twice on it:
//! - **cold**: `REPORT_CACHE_TTL_SECONDS=0`, so every answer is computed (the judged pass);
//!   then `GET /cierres/export.xlsx` over the 90 days, with the server's RSS before and after;
//! - **warm**: the cache on (60 s), the same requests; reported, not judged.
//!
//! Each endpoint of [`endpoints`] gets one unmeasured request (a route answering the router's
//! 404 is **missing**, never fast), then `--report-requests` measured GETs, 4 at a time, as the
//! dataset's ADMIN with the dataset's banca active (`X-Active-Banca-Id`). Reports and
//! dashboards are judged against p95 ≤ 300 ms, exports (files) against p95 ≤ 5 s. Any answer
//! other than 2xx is an error. The list is the spec's (routes.tsv) routes of cierres,
//! dashboard, ventas, `/sales/daily-stats` and `/reports`.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use futures::StreamExt;
use reqwest::header::AUTHORIZATION;
use serde::Serialize;
use uuid::Uuid;

use super::dataset::{self, Dataset, DatasetSpec};
use super::server::ServerProcess;
use super::stats::{Latency, Outcome};
use super::step;

/// p95 budget of a report or dashboard endpoint.
pub const REPORT_BUDGET_MS: f64 = 300.0;
/// Budget of a file export (and of the 90-day XLSX cierre).
pub const EXPORT_BUDGET_MS: f64 = 5000.0;
/// Concurrent requests per endpoint.
pub const CONCURRENCY: usize = 4;
/// Days of the judged range.
pub const RANGE_DAYS: i64 = 30;
/// Timed runs of the 90-day XLSX export.
const EXPORT_RUNS: usize = 3;
/// Measured requests of an export endpoint (files are heavier; fewer samples).
const EXPORT_REQUESTS: usize = 5;

/// One endpoint to time.
#[derive(Debug, Clone, Serialize)]
pub struct Endpoint {
    /// Route as in the spec (`/cierres/by-seller/:vendedorId/detail`).
    pub route: &'static str,
    /// Path and query requested.
    pub url: String,
    /// A file download (judged against [`EXPORT_BUDGET_MS`]).
    pub export: bool,
}

/// What one endpoint did in one pass.
#[derive(Debug, Clone, Serialize)]
pub struct EndpointResult {
    pub route: String,
    pub url: String,
    pub export: bool,
    pub requests: usize,
    pub ok: u64,
    /// Failed answers by `status CODE`.
    pub errors: BTreeMap<String, u64>,
    pub latency: Latency,
    pub budget_ms: f64,
    /// `meta.cache` = "hit" answers (warm pass).
    pub cache_hits: u64,
    /// Largest answer body, bytes.
    pub max_bytes: u64,
    /// `meta.source` values seen.
    pub sources: BTreeMap<String, u64>,
    /// PASS, FAIL (p95 over budget), MISSING (route not found) or ERROR (a non-2xx answer).
    pub verdict: String,
    /// The first error body, shortened.
    pub first_error: Option<String>,
    /// Server VmHWM (peak RSS so far) after this endpoint's requests: where it grows is the
    /// endpoint that holds a lot in memory.
    pub server_peak_rss_after_bytes: Option<u64>,
}

/// The 90-day XLSX cierre.
#[derive(Debug, Clone, Serialize)]
pub struct ExportResult {
    pub url: String,
    pub runs_ms: Vec<f64>,
    pub max_ms: f64,
    pub bytes: u64,
    pub status: u16,
    /// Server VmHWM (peak RSS) before the first export and after the last, VmRSS after.
    pub peak_rss_before_bytes: Option<u64>,
    pub peak_rss_after_bytes: Option<u64>,
    pub rss_after_bytes: Option<u64>,
    pub verdict: String,
}

/// Scenario r's figures and verdict.
#[derive(Debug, Clone, Serialize)]
pub struct ReportsResult {
    pub jugadas: i64,
    pub tickets: i64,
    pub sorteos: usize,
    pub first_day: String,
    pub last_day: String,
    pub generate_ms: f64,
    /// The judged range.
    pub range_from: String,
    pub range_to: String,
    pub requests_per_endpoint: usize,
    pub cold: Vec<EndpointResult>,
    pub warm: Vec<EndpointResult>,
    pub export_90d: Option<ExportResult>,
    pub server_peak_rss_start_bytes: Option<u64>,
    pub server_peak_rss_end_bytes: Option<u64>,
    pub pass: bool,
    pub failures: Vec<String>,
}

/// The endpoints of issue 10, with queries over `from..=to` for `d` (its first ventana,
/// vendedor and lotería, its last sorteo).
pub fn endpoints(d: &Dataset, from: chrono::NaiveDate, to: chrono::NaiveDate) -> Vec<Endpoint> {
    let q = format!("date=range&fromDate={from}&toDate={to}");
    let c = format!("from={from}&to={to}");
    let v = d.ventanas.first().copied().unwrap_or_default();
    let seller = d.vendedores.first().copied().unwrap_or_default();
    let l = d.loterias.first().copied().unwrap_or_default();
    let s = d.sorteos.last().copied().unwrap_or_default();
    let r = |route: &'static str, url: String| Endpoint {
        route,
        url: format!("/api/v1{url}"),
        export: false,
    };
    let x = |route: &'static str, url: String| Endpoint {
        route,
        url: format!("/api/v1{url}"),
        export: true,
    };
    vec![
        r("/cierres/weekly", format!("/cierres/weekly?{c}")),
        r("/cierres/by-seller", format!("/cierres/by-seller?{c}")),
        r(
            "/cierres/by-seller/:vendedorId/detail",
            format!("/cierres/by-seller/{seller}/detail?{c}"),
        ),
        x("/cierres/export.csv", format!("/cierres/export.csv?{c}")),
        x("/cierres/export.xlsx", format!("/cierres/export.xlsx?{c}")),
        r("/admin/dashboard", format!("/admin/dashboard?{q}")),
        r(
            "/admin/dashboard/ganancia",
            format!("/admin/dashboard/ganancia?{q}"),
        ),
        r(
            "/admin/dashboard/ganancia/month-to-date",
            "/admin/dashboard/ganancia/month-to-date".into(),
        ),
        r("/admin/dashboard/cxc", format!("/admin/dashboard/cxc?{q}")),
        r("/admin/dashboard/cxp", format!("/admin/dashboard/cxp?{q}")),
        r(
            "/admin/dashboard/summary",
            format!("/admin/dashboard/summary?{q}"),
        ),
        r(
            "/admin/dashboard/entities",
            format!("/admin/dashboard/entities?{q}"),
        ),
        r(
            "/admin/dashboard/timeseries",
            format!("/admin/dashboard/timeseries?{q}"),
        ),
        r(
            "/admin/dashboard/exposure",
            format!("/admin/dashboard/exposure?{q}"),
        ),
        r(
            "/admin/dashboard/vendedores",
            format!("/admin/dashboard/vendedores?{q}"),
        ),
        r(
            "/admin/dashboard/accumulated-balances",
            format!(
                "/admin/dashboard/accumulated-balances?dimension=ventana&entityIds={}",
                d.ventanas
                    .iter()
                    .map(Uuid::to_string)
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        ),
        x(
            "/admin/dashboard/export",
            format!("/admin/dashboard/export?format=xlsx&{q}"),
        ),
        r("/ventas", format!("/ventas?page=1&pageSize=20&{q}")),
        r("/ventas/summary", format!("/ventas/summary?{q}")),
        r(
            "/ventas/breakdown",
            format!("/ventas/breakdown?dimension=vendedor&top=10&{q}"),
        ),
        r(
            "/ventas/timeseries",
            format!("/ventas/timeseries?granularity=day&{q}"),
        ),
        r("/ventas/facets", format!("/ventas/facets?{q}")),
        r(
            "/sales/daily-stats",
            format!("/sales/daily-stats?date={to}"),
        ),
        r(
            "/reports/tickets/summary",
            format!("/reports/tickets/summary?{q}"),
        ),
        r(
            "/reports/tickets/winners-payments",
            format!("/reports/tickets/winners-payments?page=1&pageSize=20&{q}"),
        ),
        r(
            "/reports/tickets/numbers-analysis",
            format!("/reports/tickets/numbers-analysis?{q}"),
        ),
        r(
            "/reports/tickets/numbers-analysis/detail",
            format!("/reports/tickets/numbers-analysis/detail?number=07&loteriaId={l}&{q}"),
        ),
        r(
            "/reports/tickets/cancelled",
            format!("/reports/tickets/cancelled?page=1&pageSize=20&{q}"),
        ),
        r(
            "/reports/loterias/performance",
            format!("/reports/loterias/performance?{q}"),
        ),
        r(
            "/reports/ventanas/ranking",
            format!("/reports/ventanas/ranking?{q}"),
        ),
        r(
            "/reports/vendedores/commissions-chart",
            format!("/reports/vendedores/commissions-chart?ventanaId={v}&{q}"),
        ),
        r(
            "/reports/vendedores/ranking",
            format!("/reports/vendedores/ranking?{q}"),
        ),
        r(
            "/reports/tickets/exposure",
            format!("/reports/tickets/exposure?sorteoId={s}"),
        ),
        r(
            "/reports/tickets/profitability",
            format!("/reports/tickets/profitability?{q}"),
        ),
        r(
            "/reports/tickets/time-analysis",
            format!("/reports/tickets/time-analysis?{q}"),
        ),
        r(
            "/reports/winners-list/:sorteoId",
            format!("/reports/winners-list/{s}"),
        ),
    ]
}

/// One answer: how long, what outcome, `meta.cache`/`meta.source`, the error body.
struct Answer {
    took: Duration,
    outcome: Outcome,
    missing: bool,
    cache_hit: bool,
    source: Option<String>,
    bytes: u64,
    error: Option<String>,
}

/// `Accept` of every benchmark request (JSON and the export file types).
const FILE_ACCEPT: &str = "application/json, text/csv, \
    application/vnd.openxmlformats-officedocument.spreadsheetml.sheet, application/pdf";

async fn get(client: &reqwest::Client, base: &str, url: &str, auth: &Auth) -> Answer {
    let started = Instant::now();
    let sent = client
        .get(format!("{base}{url}"))
        .header(AUTHORIZATION, &auth.bearer)
        .header(
            crate::http::auth::ACTIVE_BANCA_HEADER,
            auth.banca.to_string(),
        )
        // The dashboard export answers the file itself (not the app's download link) when
        // `Accept` names its type; the other routes ignore `Accept`.
        .header(reqwest::header::ACCEPT, FILE_ACCEPT)
        .timeout(Duration::from_secs(60))
        .send()
        .await;
    let r = match sent {
        Ok(r) => r,
        Err(e) => {
            return Answer {
                took: started.elapsed(),
                outcome: Outcome::Transport(
                    if e.is_timeout() { "timeout" } else { "error" }.into(),
                ),
                missing: false,
                cache_hit: false,
                source: None,
                bytes: 0,
                error: Some(e.to_string()),
            }
        }
    };
    let status = r.status().as_u16();
    let json = r
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let body = r.bytes().await;
    let took = started.elapsed();
    let body = match body {
        Ok(b) => b,
        Err(e) => {
            return Answer {
                took,
                outcome: Outcome::Transport("body".into()),
                missing: false,
                cache_hit: false,
                source: None,
                bytes: 0,
                error: Some(e.to_string()),
            }
        }
    };
    let v: Option<serde_json::Value> = if json {
        serde_json::from_slice(&body).ok()
    } else {
        None
    };
    let text = |p: &str| {
        v.as_ref()
            .and_then(|v| v.pointer(p))
            .and_then(serde_json::Value::as_str)
            .map(str::to_string)
    };
    let ok = (200..300).contains(&status);
    Answer {
        took,
        outcome: if ok {
            Outcome::Ok
        } else {
            Outcome::Http {
                status,
                code: text("/code").unwrap_or_else(|| "-".into()),
            }
        },
        // The router's fallback, not a resource the route did not find.
        missing: status == 404 && text("/message").as_deref() == Some("Ruta no encontrada"),
        cache_hit: text("/meta/cache").as_deref() == Some("hit"),
        source: text("/meta/source"),
        bytes: body.len() as u64,
        error: (!ok).then(|| {
            let s = String::from_utf8_lossy(&body);
            s.chars().take(300).collect()
        }),
    }
}

struct Auth {
    bearer: String,
    banca: Uuid,
}

async fn login(client: &reqwest::Client, base: &str, d: &Dataset) -> anyhow::Result<Auth> {
    let r = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({"username": d.admin.username, "password": d.admin.password}))
        .send()
        .await
        .context("login of the dataset's ADMIN")?;
    let status = r.status();
    let v: serde_json::Value = r.json().await.context("login answer")?;
    let token = v
        .pointer("/data/accessToken")
        .and_then(serde_json::Value::as_str)
        .with_context(|| format!("login answered {status}: {v}"))?;
    Ok(Auth {
        bearer: format!("Bearer {token}"),
        banca: d.banca_id,
    })
}

/// Times every endpoint: one unmeasured request, then `n` (exports: fewer) 4 at a time.
async fn pass(
    client: &reqwest::Client,
    server: &ServerProcess,
    auth: &Auth,
    list: &[Endpoint],
    n: usize,
    label: &str,
) -> Vec<EndpointResult> {
    let base = &server.base_url();
    let mut out = Vec::with_capacity(list.len());
    for e in list {
        let first = get(client, base, &e.url, auth).await;
        let budget_ms = if e.export {
            EXPORT_BUDGET_MS
        } else {
            REPORT_BUDGET_MS
        };
        let mut res = EndpointResult {
            route: e.route.to_string(),
            url: e.url.clone(),
            export: e.export,
            requests: 0,
            ok: 0,
            errors: BTreeMap::new(),
            latency: Latency::default(),
            budget_ms,
            cache_hits: 0,
            max_bytes: first.bytes,
            sources: BTreeMap::new(),
            verdict: String::new(),
            first_error: first.error.clone(),
            server_peak_rss_after_bytes: None,
        };
        if first.missing {
            res.verdict = "MISSING".into();
            res.server_peak_rss_after_bytes = server.peak_rss_bytes();
            eprintln!("  {label} {:<46} missing (404)", e.route);
            out.push(res);
            continue;
        }
        let count = if e.export { EXPORT_REQUESTS.min(n) } else { n };
        let answers: Vec<Answer> = futures::stream::iter(0..count)
            .map(|_| get(client, base, &e.url, auth))
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        let mut lat: Vec<u64> = Vec::with_capacity(answers.len());
        for a in &answers {
            lat.push(u64::try_from(a.took.as_micros()).unwrap_or(u64::MAX));
            match &a.outcome {
                Outcome::Ok => res.ok += 1,
                other => {
                    *res.errors.entry(other.label()).or_insert(0) += 1;
                    if res.first_error.is_none() {
                        res.first_error = a.error.clone();
                    }
                }
            }
            if a.cache_hit {
                res.cache_hits += 1;
            }
            res.max_bytes = res.max_bytes.max(a.bytes);
            if let Some(s) = &a.source {
                *res.sources.entry(s.clone()).or_insert(0) += 1;
            }
        }
        if first.outcome != Outcome::Ok {
            *res.errors.entry(first.outcome.label()).or_insert(0) += 1;
        }
        res.requests = answers.len();
        res.latency = Latency::of(&mut lat);
        res.server_peak_rss_after_bytes = server.peak_rss_bytes();
        res.verdict = if !res.errors.is_empty() {
            "ERROR".into()
        } else if res.latency.p95_ms <= budget_ms {
            "PASS".into()
        } else {
            "FAIL".into()
        };
        eprintln!(
            "  {label} {:<46} p50 {:>7.1}  p95 {:>7.1}  max {:>7.1} ms  {:>9} B  peak RSS {:>7}  {}{}",
            e.route,
            res.latency.p50_ms,
            res.latency.p95_ms,
            res.latency.max_ms,
            res.max_bytes,
            mb(res.server_peak_rss_after_bytes),
            res.verdict,
            res.errors
                .keys()
                .next()
                .map(|k| format!(" ({k})"))
                .unwrap_or_default()
        );
        out.push(res);
    }
    out
}

/// Starts the server on `url` with the report cache TTL `ttl_s`, waits for it, logs in.
async fn start(
    url: &str,
    log: &Path,
    ttl_s: u64,
    client: &reqwest::Client,
) -> anyhow::Result<ServerProcess> {
    // `ServerProcess::start` sets its own variables and the child inherits the rest of this
    // process's environment: the TTL rides on that, set only around the spawn (nothing else in
    // the harness reads the environment meanwhile).
    std::env::set_var("REPORT_CACHE_TTL_SECONDS", ttl_s.to_string());
    let server = ServerProcess::start(url, log);
    std::env::remove_var("REPORT_CACHE_TTL_SECONDS");
    let mut server = server?;
    let ready = server.wait_ready(client, Duration::from_secs(60)).await?;
    step(format!(
        "  r: server pid {} ready in {} ms (REPORT_CACHE_TTL_SECONDS={ttl_s}, log {})",
        server.pid,
        ready.as_millis(),
        log.display()
    ));
    Ok(server)
}

fn mb(b: Option<u64>) -> String {
    b.map(|b| format!("{} MB", b / (1024 * 1024)))
        .unwrap_or_else(|| "? MB".into())
}

/// Runs scenario r: the dataset into the migrated database of `pool` (at `db_url`), then the
/// cold pass with the 90-day export, then the warm pass. A server still running when this
/// returns early (an error, an interruption) is killed when dropped.
pub async fn run(
    pool: &sqlx::PgPool,
    db_url: &str,
    client: &reqwest::Client,
    timezone: chrono_tz::Tz,
    jugadas: u64,
    requests: usize,
) -> anyhow::Result<ReportsResult> {
    let mut spec = DatasetSpec::issue10(jugadas);
    spec.timezone = timezone;
    step(format!(
        "  r: generating {} jugadas over {} days, {} ventanas, {} vendedores, {} loterías",
        spec.jugadas, spec.days, spec.ventanas, spec.vendedores, spec.loterias
    ));
    let d = dataset::generate(pool, &spec, |line| eprintln!("    {line}")).await?;
    eprintln!(
        "    {} tickets ({} cancelled, {} winners, {} paid), {} jugadas, {} sorteos in {:.1} s",
        d.tickets,
        d.cancelled_tickets,
        d.winning_tickets,
        d.paid_tickets,
        d.jugadas,
        d.sorteos.len(),
        d.generate_ms / 1000.0
    );
    let to = d.last_day;
    let from = to - chrono::Duration::days(RANGE_DAYS - 1);
    let list = endpoints(&d, from, to);
    let mut failures = Vec::new();

    // Cold pass: no cache.
    let pid = std::process::id();
    let log = std::env::temp_dir().join(format!("banca_bench_{pid}.reports-cold.log"));
    let cold_server = start(db_url, &log, 0, client).await?;
    let base = cold_server.base_url();
    let auth = login(client, &base, &d).await?;
    let rss_start = cold_server.peak_rss_bytes();
    step(format!(
        "  r: cold pass (no cache): {} endpoints, {requests} requests each ({EXPORT_REQUESTS} for \
         files), concurrency {CONCURRENCY}, {from}..{to}",
        list.len()
    ));
    let cold = pass(client, &cold_server, &auth, &list, requests, "cold").await;

    let export_url = format!(
        "/api/v1/cierres/export.xlsx?from={}&to={}",
        d.first_day, d.last_day
    );
    step(format!(
        "  r: GET /cierres/export.xlsx over {} days ({}..{}), {EXPORT_RUNS} runs",
        (d.last_day - d.first_day).num_days() + 1,
        d.first_day,
        d.last_day
    ));
    let peak_before = cold_server.peak_rss_bytes();
    let mut runs_ms = Vec::new();
    let mut export = None;
    for _ in 0..EXPORT_RUNS {
        let a = get(client, &base, &export_url, &auth).await;
        let ms = a.took.as_secs_f64() * 1000.0;
        runs_ms.push(ms);
        let status = match &a.outcome {
            Outcome::Ok => 200,
            Outcome::Http { status, .. } => *status,
            Outcome::Transport(_) => 0,
        };
        let missing = a.missing;
        export = Some((status, a.bytes, missing, a.error));
        if status != 200 {
            break;
        }
    }
    let peak_after = cold_server.peak_rss_bytes();
    let rss_after = cold_server.rss_bytes();
    let export_90d = export.map(|(status, bytes, missing, error)| {
        let max_ms = runs_ms.iter().copied().fold(0.0, f64::max);
        let verdict = if missing {
            "MISSING"
        } else if status != 200 {
            "ERROR"
        } else if max_ms <= EXPORT_BUDGET_MS {
            "PASS"
        } else {
            "FAIL"
        };
        eprintln!(
            "    {verdict}: {} runs, max {max_ms:.0} ms, {bytes} bytes (status {status}); server \
             peak RSS {} before, {} after (RSS now {}){}",
            runs_ms.len(),
            mb(peak_before),
            mb(peak_after),
            mb(rss_after),
            error.map(|e| format!(": {e}")).unwrap_or_default()
        );
        ExportResult {
            url: export_url.clone(),
            runs_ms: runs_ms.clone(),
            max_ms,
            bytes,
            status,
            peak_rss_before_bytes: peak_before,
            peak_rss_after_bytes: peak_after,
            rss_after_bytes: rss_after,
            verdict: verdict.to_string(),
        }
    });
    let rss_end = cold_server.peak_rss_bytes();
    cold_server.stop().await;

    // Warm pass: the cache on, same requests.
    let log = std::env::temp_dir().join(format!("banca_bench_{pid}.reports-warm.log"));
    let warm_server = start(db_url, &log, 60, client).await?;
    let base = warm_server.base_url();
    let auth = login(client, &base, &d).await?;
    step("  r: warm pass (cache on, 60 s)");
    let warm = pass(client, &warm_server, &auth, &list, requests, "warm").await;
    warm_server.stop().await;

    for r in &cold {
        match r.verdict.as_str() {
            "PASS" => {}
            "MISSING" => failures.push(format!("scenario r: {} is missing (404)", r.route)),
            "ERROR" => failures.push(format!(
                "scenario r: {} answered {}",
                r.route,
                r.errors
                    .iter()
                    .map(|(k, v)| format!("{v}× {k}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            _ => failures.push(format!(
                "scenario r: {} p95 {:.0} ms > {:.0} ms",
                r.route, r.latency.p95_ms, r.budget_ms
            )),
        }
    }
    for r in warm.iter().filter(|r| r.verdict == "ERROR") {
        failures.push(format!("scenario r (warm): {} answered errors", r.route));
    }
    match &export_90d {
        Some(e) if e.verdict == "PASS" => {}
        Some(e) => failures.push(format!(
            "scenario r: 90-day export.xlsx {} (status {}, {:.0} ms)",
            e.verdict, e.status, e.max_ms
        )),
        None => failures.push("scenario r: 90-day export.xlsx not run".into()),
    }

    Ok(ReportsResult {
        jugadas: d.jugadas,
        tickets: d.tickets,
        sorteos: d.sorteos.len(),
        first_day: d.first_day.to_string(),
        last_day: d.last_day.to_string(),
        generate_ms: d.generate_ms,
        range_from: from.to_string(),
        range_to: to.to_string(),
        requests_per_endpoint: requests,
        cold,
        warm,
        export_90d,
        server_peak_rss_start_bytes: rss_start,
        server_peak_rss_end_bytes: rss_end,
        pass: failures.is_empty(),
        failures,
    })
}

impl ReportsResult {
    /// The scenario's table: one line per endpoint, cold and warm side by side.
    pub fn render(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "scenario r: reports on {} jugadas / {} tickets / {} sorteos ({}..{}, generated in \
             {:.1} s); range {}..{}, {} requests per endpoint, concurrency {CONCURRENCY}",
            self.jugadas,
            self.tickets,
            self.sorteos,
            self.first_day,
            self.last_day,
            self.generate_ms / 1000.0,
            self.range_from,
            self.range_to,
            self.requests_per_endpoint
        );
        let _ = writeln!(
            s,
            "  {:<46} {:>8} {:>8} {:>8} {:>8}  {:<8} {:>9} {:>6} {:>9}",
            "endpoint (cold: no cache)",
            "p50 ms",
            "p95 ms",
            "max ms",
            "budget",
            "verdict",
            "warm p95",
            "hits",
            "peak RSS"
        );
        for (c, w) in self.cold.iter().zip(self.warm.iter()) {
            let _ = writeln!(
                s,
                "  {:<46} {:>8.1} {:>8.1} {:>8.1} {:>8.0}  {:<8} {:>9.1} {:>6} {:>9}",
                c.route,
                c.latency.p50_ms,
                c.latency.p95_ms,
                c.latency.max_ms,
                c.budget_ms,
                c.verdict,
                w.latency.p95_ms,
                format!("{}/{}", w.cache_hits, w.requests),
                mb(c.server_peak_rss_after_bytes)
            );
        }
        if let Some(e) = &self.export_90d {
            let _ = writeln!(
                s,
                "  export.xlsx 90 days: {} (max {:.0} ms of {:?}, {} bytes); server peak RSS {} \
                 before, {} after",
                e.verdict,
                e.max_ms,
                e.runs_ms.iter().map(|m| m.round()).collect::<Vec<_>>(),
                e.bytes,
                mb(e.peak_rss_before_bytes),
                mb(e.peak_rss_after_bytes)
            );
        }
        s
    }

    /// One line: counts of verdicts of the cold pass and the export's.
    pub fn summary(&self) -> String {
        let n = |v: &str| self.cold.iter().filter(|r| r.verdict == v).count();
        format!(
            "reports {}: {} endpoints, {} PASS, {} FAIL, {} MISSING, {} ERROR (cold p95 budget \
             {REPORT_BUDGET_MS:.0} ms, files {EXPORT_BUDGET_MS:.0} ms); export.xlsx 90 d {}; \
             server peak RSS {} → {}",
            if self.pass { "PASS" } else { "FAIL" },
            self.cold.len(),
            n("PASS"),
            n("FAIL"),
            n("MISSING"),
            n("ERROR"),
            self.export_90d
                .as_ref()
                .map(|e| format!("{:.0} ms {}", e.max_ms, e.verdict))
                .unwrap_or_else(|| "not run".into()),
            mb(self.server_peak_rss_start_bytes),
            mb(self.server_peak_rss_end_bytes)
        )
    }
}
