//! Scenario s: sales under load with SIGTERM sent to the server in the middle (issue 11: "every
//! request that got a 2xx is in the database, every request without a response changed
//! nothing"). Sellers keep selling, each sale with its own idempotency key, until the server has
//! exited; every request's outcome is kept, then checked in SQL by its key: an acknowledged sale
//! is stored with exactly the jugadas that were sent, a refused or unanswered one left neither a
//! ticket nor an idempotency record. The per-number totals are checked by the harness's
//! verification that follows.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

use super::load::Driver;
use super::server::ServerProcess;
use super::stats::{Outcome, Samples, ScenarioResult};

/// Sellers selling at once in scenario s.
pub const CONCURRENCY: usize = 16;
/// How long the load goes on once the server has exited (requests meet a closed port).
const AFTER_EXIT: Duration = Duration::from_millis(300);
/// How long the server may take to exit after SIGTERM before the scenario fails.
const EXIT_WITHIN: Duration = Duration::from_secs(60);

/// One request of the scenario and what it got.
#[derive(Debug, Clone, Serialize)]
pub struct SigtermRequest {
    pub key: String,
    /// HTTP status; `None` when no answer came (refused, reset, timed out).
    pub status: Option<u16>,
    /// The ticket id of a 2xx.
    pub ticket: Option<String>,
    /// When it was sent and when its answer (or failure) came, from the start of the load.
    pub sent_ms: u64,
    pub done_ms: u64,
    /// `number:amount` of every jugada sent.
    pub jugadas: Vec<String>,
}

/// The verdict of scenario s.
#[derive(Debug, Clone, Serialize)]
pub struct SigtermCheck {
    /// When SIGTERM was sent, from the start of the load.
    pub signal_after_ms: u64,
    /// How long the server took to exit after SIGTERM; `None` when it did not exit in time.
    pub exit_after_ms: Option<u64>,
    pub exit_code: Option<i32>,
    pub requests: u64,
    pub sent_after_signal: u64,
    /// Requests sent before SIGTERM and answered (or failed) after it.
    pub in_flight_at_signal: u64,
    /// 2xx answers.
    pub acknowledged: u64,
    /// 2xx answers to the requests in flight at SIGTERM.
    pub acknowledged_in_flight: u64,
    /// Acknowledged sales found with exactly the jugadas sent, under the acknowledged id.
    pub acknowledged_stored_whole: u64,
    /// Non-2xx answers.
    pub refused: u64,
    /// No answer at all.
    pub unanswered: u64,
    /// Refused or unanswered requests that left a ticket or an idempotency record (must be 0).
    pub unacknowledged_with_effects: u64,
    pub pass: bool,
    pub failures: Vec<String>,
    /// Every request, for an outside check.
    pub outcomes: Vec<SigtermRequest>,
}

impl SigtermCheck {
    /// One line for the report.
    pub fn line(&self) -> String {
        format!(
            "s: SIGTERM after {} ms, server exited {} (code {}); {} requests ({} in flight at the \
             signal, {} sent after it): {} acknowledged ({} of those in flight), {} stored whole; \
             {} refused, {} unanswered, {} of them left something: {}",
            self.signal_after_ms,
            self.exit_after_ms
                .map(|ms| format!("{ms} ms later"))
                .unwrap_or_else(|| "NOT".into()),
            self.exit_code
                .map(|c| c.to_string())
                .unwrap_or_else(|| "none".into()),
            self.requests,
            self.in_flight_at_signal,
            self.sent_after_signal,
            self.acknowledged,
            self.acknowledged_in_flight,
            self.acknowledged_stored_whole,
            self.refused,
            self.unanswered,
            self.unacknowledged_with_effects,
            if self.pass { "PASS" } else { "FAIL" }
        )
    }
}

fn ms_since(t: Instant) -> u64 {
    u64::try_from(t.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// `number:amount` with the amount normalised, so `100` and `100.00` compare equal.
fn jugada_label(number: &str, amount: Decimal) -> String {
    format!("{number}:{}", amount.normalize())
}

/// The jugadas of a sale body, as labels.
fn sent_jugadas(body: &[u8]) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let mut out: Vec<String> = v["jugadas"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|j| {
                    let amount = j["amount"].as_u64().map(Decimal::from).unwrap_or_default();
                    jugada_label(j["number"].as_str().unwrap_or_default(), amount)
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// A stored ticket of the scenario, as read back.
#[derive(sqlx::FromRow)]
struct StoredRow {
    key: String,
    id: Uuid,
    numbers: Vec<String>,
    amounts: Vec<Decimal>,
    total: Decimal,
}

/// A stored ticket with its jugadas as sorted labels.
#[derive(Debug)]
struct Stored {
    id: Uuid,
    jugadas: Vec<String>,
    total: Decimal,
}

/// Runs scenario s against `server` (which it stops) and checks every outcome in `pool`.
pub async fn run(
    driver: &Arc<Driver>,
    pool: &PgPool,
    server: &mut ServerProcess,
    sorteo: Uuid,
    signal_after: Duration,
) -> anyhow::Result<(ScenarioResult, SigtermCheck)> {
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(CONCURRENCY);
    for w in 0..CONCURRENCY {
        let (me, stop) = (driver.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(0x5167 + w as u64);
            let auth = me.auth_of(w).to_string();
            let mut samples = Samples::default();
            let mut requests = Vec::new();
            let mut seq = 0u64;
            while !stop.load(Ordering::Relaxed) {
                seq += 1;
                let key = format!("bench-{}-s-w{w}-{seq}", me.tag());
                let body = me.spread_body(&mut rng, sorteo, &key);
                let jugadas = sent_jugadas(&body);
                let t0 = Instant::now();
                let sent_ms = ms_since(started);
                let (outcome, ticket) = me.post_sale(&auth, body).await;
                samples.record(t0.elapsed(), &outcome);
                let done_ms = ms_since(started);
                let status = match &outcome {
                    Outcome::Ok => Some(201),
                    Outcome::Http { status, .. } => Some(*status),
                    Outcome::Transport(_) => None,
                };
                let unanswered = status.is_none();
                requests.push(SigtermRequest {
                    key,
                    status,
                    ticket,
                    sent_ms,
                    done_ms,
                    jugadas,
                });
                if unanswered {
                    // A closed port answers at once: do not spin.
                    tokio::time::sleep(Duration::from_millis(rng.gen_range(5..20))).await;
                }
            }
            (samples, requests)
        }));
    }

    tokio::time::sleep(signal_after).await;
    let signal_after_ms = ms_since(started);
    server.terminate();
    let signaled_at = Instant::now();
    let exit = server.wait_exit(EXIT_WITHIN).await;
    let exit_after_ms = exit
        .is_some()
        .then(|| u64::try_from(signaled_at.elapsed().as_millis()).unwrap_or(u64::MAX));
    tokio::time::sleep(AFTER_EXIT).await;
    stop.store(true, Ordering::Relaxed);

    let mut samples = Samples::default();
    let mut outcomes = Vec::new();
    for t in tasks {
        let (s, r) = t.await?;
        samples.merge(s);
        outcomes.extend(r);
    }
    let elapsed = started.elapsed();
    let mut result = ScenarioResult::from_samples(
        "s",
        &format!("s: SIGTERM c{CONCURRENCY}"),
        CONCURRENCY,
        "tickets",
        elapsed,
        samples,
    );

    // What the database holds for this scenario's keys.
    let prefix = format!("bench-{}-s-%", driver.tag());
    let stored: Vec<StoredRow> = crate::db::query_as(
        "SELECT t.idempotency_key AS key, t.id,
                COALESCE(array_agg(j.number ORDER BY j.number, j.amount)
                         FILTER (WHERE j.id IS NOT NULL), '{}') AS numbers,
                COALESCE(array_agg(j.amount ORDER BY j.number, j.amount)
                         FILTER (WHERE j.id IS NOT NULL), '{}') AS amounts,
                t.total_amount AS total
         FROM tickets t LEFT JOIN jugadas j ON j.ticket_id = t.id
         WHERE t.idempotency_key LIKE $1
         GROUP BY t.id",
    )
    .bind(&prefix)
    .fetch_all(pool)
    .await?;
    let keys_recorded: Vec<String> =
        crate::db::query_scalar("SELECT key FROM idempotency_keys WHERE key LIKE $1")
            .bind(&prefix)
            .fetch_all(pool)
            .await?;
    let mut tickets: HashMap<&str, Vec<Stored>> = HashMap::new();
    for row in &stored {
        let mut jugadas: Vec<String> = row
            .numbers
            .iter()
            .zip(&row.amounts)
            .map(|(n, a)| jugada_label(n, *a))
            .collect();
        jugadas.sort();
        tickets.entry(row.key.as_str()).or_default().push(Stored {
            id: row.id,
            jugadas,
            total: row.total,
        });
    }
    let recorded: std::collections::HashSet<&str> =
        keys_recorded.iter().map(String::as_str).collect();

    let mut failures = Vec::new();
    let mut check = SigtermCheck {
        signal_after_ms,
        exit_after_ms,
        exit_code: exit.flatten(),
        requests: outcomes.len() as u64,
        sent_after_signal: outcomes
            .iter()
            .filter(|o| o.sent_ms >= signal_after_ms)
            .count() as u64,
        in_flight_at_signal: outcomes
            .iter()
            .filter(|o| o.sent_ms < signal_after_ms && o.done_ms >= signal_after_ms)
            .count() as u64,
        acknowledged: 0,
        acknowledged_in_flight: 0,
        acknowledged_stored_whole: 0,
        refused: 0,
        unanswered: 0,
        unacknowledged_with_effects: 0,
        pass: false,
        failures: Vec::new(),
        outcomes: Vec::new(),
    };
    for o in &outcomes {
        let found = tickets
            .get(o.key.as_str())
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        match o.status {
            Some(200 | 201) => {
                check.acknowledged += 1;
                if o.sent_ms < signal_after_ms && o.done_ms >= signal_after_ms {
                    check.acknowledged_in_flight += 1;
                }
                let sum: Decimal = o
                    .jugadas
                    .iter()
                    .filter_map(|l| l.split(':').nth(1)?.parse::<Decimal>().ok())
                    .sum();
                match found {
                    [t] if Some(t.id.to_string()) == o.ticket
                        && t.jugadas == o.jugadas
                        && t.total == sum =>
                    {
                        check.acknowledged_stored_whole += 1
                    }
                    other => failures.push(format!(
                        "{}: acknowledged as {:?} with {:?}, stored {other:?}",
                        o.key, o.ticket, o.jugadas
                    )),
                }
            }
            status => {
                if status.is_some() {
                    check.refused += 1;
                } else {
                    check.unanswered += 1;
                }
                if !found.is_empty() || recorded.contains(o.key.as_str()) {
                    check.unacknowledged_with_effects += 1;
                    failures.push(format!(
                        "{}: {} but stored {found:?}{}",
                        o.key,
                        status
                            .map(|s| format!("answered {s}"))
                            .unwrap_or_else(|| "unanswered".into()),
                        if recorded.contains(o.key.as_str()) {
                            " and an idempotency record"
                        } else {
                            ""
                        }
                    ));
                }
            }
        }
    }
    if exit.is_none() {
        failures.push(format!(
            "the server did not exit within {} s of SIGTERM",
            EXIT_WITHIN.as_secs()
        ));
    } else if check.exit_code != Some(0) {
        failures.push(format!(
            "the server exited with {:?} after SIGTERM",
            check.exit_code
        ));
    }
    if check.acknowledged == 0 {
        failures.push("no sale was acknowledged before SIGTERM".into());
    }
    if check.sent_after_signal == 0 {
        failures.push("no request was sent after SIGTERM".into());
    }
    check.pass = failures.is_empty();
    check.failures = failures;
    check.outcomes = outcomes;
    result.pass = Some(check.pass);
    result.note = Some(check.line());
    Ok((result, check))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jugadas_compare_whatever_the_amount_scale() {
        let body = serde_json::json!({
            "jugadas": [
                {"type": "NUMERO", "number": "42", "amount": 200},
                {"type": "NUMERO", "number": "07", "amount": 100}
            ]
        });
        let sent = sent_jugadas(&serde_json::to_vec(&body).unwrap());
        assert_eq!(sent, vec!["07:100".to_string(), "42:200".to_string()]);
        let stored = jugada_label("42", Decimal::new(20000, 2));
        assert_eq!(stored, sent[1]);
    }
}
