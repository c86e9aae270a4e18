//! The load driver: logs the sellers in, then runs the scenarios as concurrent HTTP clients
//! (one tokio task per simulated seller, one shared connection pool), timing every request.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use futures::StreamExt;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::seed::{Catalog, HOT_AMOUNT, HOT_NUMBER, SELLER_PASSWORD};
use super::stats::{Outcome, Samples, ScenarioResult};

/// Amounts of the spread scenarios' jugadas (all ≥ the banca's default minimum bet, 100).
const AMOUNTS: [u32; 3] = [100, 200, 500];

/// The HTTP client of the bench: plain HTTP/1.1 on loopback, no proxy, 30 s per request.
pub fn client() -> anyhow::Result<reqwest::Client> {
    reqwest::Client::builder()
        .no_proxy()
        .tcp_nodelay(true)
        .pool_idle_timeout(Duration::from_secs(90))
        .timeout(Duration::from_secs(30))
        .build()
        .context("cannot build the HTTP client")
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LoginReply {
    data: Option<LoginData>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LoginData {
    access_token: String,
}

/// Logs every seller in, one at a time, and returns `Bearer …` headers in the order of
/// `usernames`. Sequential on purpose: each argon2 verification takes ~19 MiB in the server, and
/// parallel logins raise its peak RSS far above what the sale path needs, hiding it.
pub async fn login_all(
    client: &reqwest::Client,
    base: &str,
    usernames: &[String],
) -> anyhow::Result<Vec<String>> {
    let url = format!("{base}/api/v1/auth/login");
    let results: Vec<anyhow::Result<String>> = futures::stream::iter(usernames.iter())
        .map(|username| {
            let url = url.clone();
            async move {
                let r = client
                    .post(&url)
                    .json(&serde_json::json!({"username": username, "password": SELLER_PASSWORD}))
                    .send()
                    .await
                    .with_context(|| format!("login of {username}"))?;
                let status = r.status();
                let body = r.bytes().await?;
                if !status.is_success() {
                    anyhow::bail!(
                        "login of {username} answered {status}: {}",
                        String::from_utf8_lossy(&body)
                    );
                }
                let reply: LoginReply = serde_json::from_slice(&body)
                    .with_context(|| format!("login of {username}: unexpected body"))?;
                let token = reply
                    .data
                    .context("login answer without data.accessToken")?
                    .access_token;
                Ok(format!("Bearer {token}"))
            }
        })
        .buffered(1)
        .collect()
        .await;
    results.into_iter().collect()
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SaleBody<'a> {
    loteria_id: Uuid,
    sorteo_id: Uuid,
    idempotency_key: &'a str,
    jugadas: Vec<JugadaBody>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JugadaBody {
    #[serde(rename = "type")]
    kind: &'static str,
    number: String,
    amount: u32,
    multiplier_id: Uuid,
}

#[derive(Deserialize)]
struct SaleReply {
    data: Option<SaleData>,
}

#[derive(Deserialize)]
struct SaleData {
    id: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct ErrorReply {
    code: Option<serde_json::Value>,
    error: Option<serde_json::Value>,
}

/// The error `code` of a failed answer (`code`, else a string `error`), or a stand-in.
pub fn error_code(body: &[u8]) -> String {
    match serde_json::from_slice::<ErrorReply>(body) {
        Ok(e) => match (e.code, e.error) {
            (Some(serde_json::Value::String(c)), _) if !c.is_empty() => c,
            (_, Some(serde_json::Value::String(c))) if !c.is_empty() => c,
            _ => "(no code)".to_string(),
        },
        Err(_) if body.is_empty() => "(empty body)".to_string(),
        Err(_) => "(not JSON)".to_string(),
    }
}

fn transport_kind(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timeout".into()
    } else if e.is_connect() {
        "connect error".into()
    } else {
        "transport error".into()
    }
}

/// Live counters for the once-a-second progress line.
#[derive(Default)]
struct Progress {
    ok: AtomicU64,
    err: AtomicU64,
}

impl Progress {
    fn add(&self, outcome: &Outcome) {
        match outcome {
            Outcome::Ok => self.ok.fetch_add(1, Ordering::Relaxed),
            _ => self.err.fetch_add(1, Ordering::Relaxed),
        };
    }
}

/// Prints a progress line every second until aborted (rewritten in place on a terminal).
fn spawn_ticker(
    label: String,
    progress: Arc<Progress>,
    planned: Option<Duration>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let tty = std::io::stderr().is_terminal();
        let started = Instant::now();
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.tick().await;
        loop {
            tick.tick().await;
            let secs = started.elapsed().as_secs_f64();
            let ok = progress.ok.load(Ordering::Relaxed);
            let err = progress.err.load(Ordering::Relaxed);
            let of = planned
                .map(|p| format!("/{}", p.as_secs()))
                .unwrap_or_default();
            let line = format!(
                "  {label:<18} {:>3.0}{of} s  ok {ok:<8} errors {err:<6} {:>8.0}/s",
                secs,
                ok as f64 / secs.max(0.001)
            );
            let mut e = std::io::stderr().lock();
            if tty {
                let _ = write!(e, "\r\x1b[K{line}");
            } else {
                let _ = writeln!(e, "{line}");
            }
            let _ = e.flush();
        }
    })
}

fn stop_ticker(ticker: tokio::task::JoinHandle<()>) {
    ticker.abort();
    if std::io::stderr().is_terminal() {
        eprint!("\r\x1b[K");
    }
}

/// Drives the scenarios against one running server.
pub struct Driver {
    client: reqwest::Client,
    base: String,
    sale_url: String,
    /// `Bearer …` per seller.
    auth: Vec<String>,
    catalog: Catalog,
    /// Distinguishes this run's idempotency keys.
    tag: String,
    replay_fraction: f64,
}

impl Driver {
    pub fn new(
        client: reqwest::Client,
        base: String,
        sale_path: &str,
        auth: Vec<String>,
        catalog: Catalog,
        replay_fraction: f64,
    ) -> Arc<Driver> {
        Arc::new(Driver {
            client,
            sale_url: format!("{base}{sale_path}"),
            base,
            auth,
            catalog,
            tag: format!("{}-{}", std::process::id(), chrono::Utc::now().timestamp()),
            replay_fraction,
        })
    }

    /// What this run's idempotency keys start with after `bench-`.
    pub(super) fn tag(&self) -> &str {
        &self.tag
    }

    pub(super) fn auth_of(&self, worker: usize) -> &str {
        &self.auth[worker % self.auth.len()]
    }

    /// Sends one sale; returns the outcome and, on success, the ticket id.
    pub(super) async fn post_sale(&self, auth: &str, body: Vec<u8>) -> (Outcome, Option<String>) {
        let sent = self
            .client
            .post(&self.sale_url)
            .header(AUTHORIZATION, auth)
            .header(CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await;
        let resp = match sent {
            Ok(r) => r,
            Err(e) => return (Outcome::Transport(transport_kind(&e)), None),
        };
        let status = resp.status().as_u16();
        let bytes = match resp.bytes().await {
            Ok(b) => b,
            Err(e) => return (Outcome::Transport(transport_kind(&e)), None),
        };
        if status == 200 || status == 201 {
            let id = serde_json::from_slice::<SaleReply>(&bytes)
                .ok()
                .and_then(|r| r.data)
                .and_then(|d| d.id)
                .map(|v| match v {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                });
            match id {
                Some(id) => (Outcome::Ok, Some(id)),
                None => (
                    Outcome::Http {
                        status,
                        code: "(success without data.id)".into(),
                    },
                    None,
                ),
            }
        } else {
            (
                Outcome::Http {
                    status,
                    code: error_code(&bytes),
                },
                None,
            )
        }
    }

    /// A ticket of 1–3 distinct spread numbers (never the hot one) on `sorteo`.
    pub(super) fn spread_body(&self, rng: &mut StdRng, sorteo: Uuid, key: &str) -> Vec<u8> {
        let hot: u32 = HOT_NUMBER.parse().unwrap_or(u32::MAX);
        let n = rng.gen_range(1..=3);
        let mut numbers: Vec<u32> = Vec::with_capacity(n);
        while numbers.len() < n {
            let x = rng.gen_range(0..100);
            if x != hot && !numbers.contains(&x) {
                numbers.push(x);
            }
        }
        let jugadas = numbers
            .into_iter()
            .map(|x| JugadaBody {
                kind: "NUMERO",
                number: format!("{x:02}"),
                amount: AMOUNTS[rng.gen_range(0..AMOUNTS.len())],
                multiplier_id: self.catalog.multiplier_id,
            })
            .collect();
        self.body(sorteo, key, jugadas)
    }

    fn body(&self, sorteo: Uuid, key: &str, jugadas: Vec<JugadaBody>) -> Vec<u8> {
        serde_json::to_vec(&SaleBody {
            loteria_id: self.catalog.loteria_id,
            sorteo_id: sorteo,
            idempotency_key: key,
            jugadas,
        })
        .unwrap_or_default()
    }

    /// Sales of spread numbers on `sorteos` (each ticket on one picked at random) by
    /// `concurrency` sellers for `duration`; a fraction of the successes is re-sent with the
    /// same key and must answer the same ticket.
    pub async fn timed_sales(
        self: &Arc<Self>,
        id: &str,
        label: &str,
        sorteos: Vec<Uuid>,
        concurrency: usize,
        duration: Duration,
    ) -> ScenarioResult {
        let progress = Arc::new(Progress::default());
        let ticker = spawn_ticker(label.to_string(), progress.clone(), Some(duration));
        let sorteos = Arc::new(sorteos);
        let started = Instant::now();
        let deadline = started + duration;
        let mut tasks = Vec::with_capacity(concurrency);
        for w in 0..concurrency {
            let me = self.clone();
            let progress = progress.clone();
            let sorteos = sorteos.clone();
            let id = id.to_string();
            tasks.push(tokio::spawn(async move {
                let mut rng = StdRng::seed_from_u64(seed_of(&id, w));
                let auth = me.auth_of(w);
                let mut samples = Samples::default();
                let mut seq = 0u64;
                while Instant::now() < deadline {
                    seq += 1;
                    let key = format!("bench-{}-{id}-w{w}-{seq}", me.tag);
                    let sorteo = sorteos[rng.gen_range(0..sorteos.len())];
                    let body = me.spread_body(&mut rng, sorteo, &key);
                    let replay = rng.gen_bool(me.replay_fraction.clamp(0.0, 1.0));
                    let replay_body = replay.then(|| body.clone());
                    let t0 = Instant::now();
                    let (outcome, ticket) = me.post_sale(auth, body).await;
                    samples.record(t0.elapsed(), &outcome);
                    progress.add(&outcome);
                    if let (Some(again), Some(first)) = (replay_body, ticket) {
                        samples.replays += 1;
                        let (o2, t2) = me.post_sale(auth, again).await;
                        if o2 != Outcome::Ok || t2.as_deref() != Some(first.as_str()) {
                            samples.replay_mismatches += 1;
                            let what = match &o2 {
                                Outcome::Ok => "another ticket".to_string(),
                                other => other.label(),
                            };
                            *samples
                                .errors
                                .entry(format!("REPLAY_MISMATCH ({what})"))
                                .or_insert(0) += 1;
                            progress.err.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
                samples
            }));
        }
        let merged = join_all(tasks).await;
        let elapsed = started.elapsed();
        stop_ticker(ticker);
        ScenarioResult::from_samples(id, label, concurrency, "tickets", elapsed, merged)
    }

    /// Scenario b: `buyers` sellers released together, one sale each of `HOT_AMOUNT` on the
    /// hot number of sorteo B, no replays, no retries.
    pub async fn hot_number(self: &Arc<Self>, buyers: usize) -> ScenarioResult {
        let label = format!("b: hot number c{buyers}");
        let progress = Arc::new(Progress::default());
        let ticker = spawn_ticker(label.clone(), progress.clone(), None);
        let barrier = Arc::new(tokio::sync::Barrier::new(buyers));
        let started = Instant::now();
        let mut tasks = Vec::with_capacity(buyers);
        for w in 0..buyers {
            let me = self.clone();
            let progress = progress.clone();
            let barrier = barrier.clone();
            tasks.push(tokio::spawn(async move {
                let key = format!("bench-{}-b-w{w}", me.tag);
                let body = me.body(
                    me.catalog.sorteo_b,
                    &key,
                    vec![JugadaBody {
                        kind: "NUMERO",
                        number: HOT_NUMBER.to_string(),
                        amount: HOT_AMOUNT,
                        multiplier_id: me.catalog.multiplier_id,
                    }],
                );
                let mut samples = Samples::default();
                barrier.wait().await;
                let t0 = Instant::now();
                let (outcome, _) = me.post_sale(me.auth_of(w), body).await;
                samples.record(t0.elapsed(), &outcome);
                progress.add(&outcome);
                samples
            }));
        }
        let merged = join_all(tasks).await;
        let elapsed = started.elapsed();
        stop_ticker(ticker);
        ScenarioResult::from_samples("b", &label, buyers, "tickets", elapsed, merged)
    }

    /// Scenario d: `GET /tickets` (the seller's tickets of sorteo A) and `GET /sorteos`,
    /// alternately, by `concurrency` sellers for `duration`.
    pub async fn reads(self: &Arc<Self>, concurrency: usize, duration: Duration) -> ScenarioResult {
        let label = format!("d: reads c{concurrency}");
        let progress = Arc::new(Progress::default());
        let ticker = spawn_ticker(label.clone(), progress.clone(), Some(duration));
        let urls = Arc::new([
            format!(
                "{}/api/v1/tickets?sorteoId={}&page=1&pageSize=20",
                self.base, self.catalog.sorteo_a
            ),
            format!("{}/api/v1/sorteos?page=1&pageSize=20", self.base),
        ]);
        let started = Instant::now();
        let deadline = started + duration;
        let mut tasks = Vec::with_capacity(concurrency);
        for w in 0..concurrency {
            let me = self.clone();
            let progress = progress.clone();
            let urls = urls.clone();
            tasks.push(tokio::spawn(async move {
                let auth = me.auth_of(w);
                let mut samples = Samples::default();
                let mut i = w;
                while Instant::now() < deadline {
                    let url = &urls[i % urls.len()];
                    i += 1;
                    let t0 = Instant::now();
                    let outcome = match me.client.get(url).header(AUTHORIZATION, auth).send().await
                    {
                        Err(e) => Outcome::Transport(transport_kind(&e)),
                        Ok(r) => {
                            let status = r.status().as_u16();
                            match r.bytes().await {
                                Err(e) => Outcome::Transport(transport_kind(&e)),
                                Ok(_) if status == 200 => Outcome::Ok,
                                Ok(b) => Outcome::Http {
                                    status,
                                    code: error_code(&b),
                                },
                            }
                        }
                    };
                    samples.record(t0.elapsed(), &outcome);
                    progress.add(&outcome);
                }
                samples
            }));
        }
        let merged = join_all(tasks).await;
        let elapsed = started.elapsed();
        stop_ticker(ticker);
        ScenarioResult::from_samples("d", &label, concurrency, "requests", elapsed, merged)
    }
}

fn seed_of(scenario: &str, worker: usize) -> u64 {
    scenario
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        })
        .wrapping_add(worker as u64)
}

/// Waits for every worker and merges their samples; a worker that panicked counts as one error.
async fn join_all(tasks: Vec<tokio::task::JoinHandle<Samples>>) -> Samples {
    let mut merged = Samples::default();
    for t in tasks {
        match t.await {
            Ok(s) => merged.merge(s),
            Err(e) => {
                *merged
                    .errors
                    .entry(format!("--- worker failed: {e}"))
                    .or_insert(0) += 1;
            }
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::error_code;

    #[test]
    fn error_codes_from_bodies() {
        assert_eq!(
            error_code(br#"{"success":false,"message":"x","code":"NUMBER_MAXTOTAL_EXCEEDED"}"#),
            "NUMBER_MAXTOTAL_EXCEEDED"
        );
        assert_eq!(
            error_code(br#"{"success":false,"error":"MISSING_SORTEO_ID","message":"x"}"#),
            "MISSING_SORTEO_ID"
        );
        assert_eq!(error_code(br#"{"success":false}"#), "(no code)");
        assert_eq!(error_code(b""), "(empty body)");
        assert_eq!(error_code(b"<html>"), "(not JSON)");
    }
}
