//! Aggregation of one scenario's requests: latency percentiles (exact, nearest-rank over every
//! sample), counts by outcome, throughput.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

/// The outcome of one request, as counted in the report.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Outcome {
    /// 200 or 201.
    Ok,
    /// Any other HTTP status, with the `code` of the error body (or a stand-in).
    Http { status: u16, code: String },
    /// No HTTP answer: connection refused, reset, timed out…
    Transport(String),
}

impl Outcome {
    /// The label of an outcome in the error breakdown: `400 NUMBER_MAXTOTAL_EXCEEDED`.
    pub fn label(&self) -> String {
        match self {
            Outcome::Ok => "ok".to_string(),
            Outcome::Http { status, code } => format!("{status} {code}"),
            Outcome::Transport(kind) => format!("--- {kind}"),
        }
    }
}

/// What one worker (or a whole scenario, once merged) saw.
#[derive(Debug, Default, Clone)]
pub struct Samples {
    /// Latency of every measured request, in microseconds.
    pub latencies_us: Vec<u64>,
    /// Successful requests (new sales, or reads).
    pub ok: u64,
    /// Failed requests by label (`400 NUMBER_MAXTOTAL_EXCEEDED`, `--- timeout`, …).
    pub errors: BTreeMap<String, u64>,
    /// Sales re-sent with the same idempotency key.
    pub replays: u64,
    /// Replays that did not return the original ticket id (counted in `errors` as well).
    pub replay_mismatches: u64,
}

impl Samples {
    /// Records one measured request.
    pub fn record(&mut self, latency: Duration, outcome: &Outcome) {
        self.latencies_us
            .push(u64::try_from(latency.as_micros()).unwrap_or(u64::MAX));
        self.count(outcome);
    }

    /// Counts an outcome without a latency sample (replays).
    pub fn count(&mut self, outcome: &Outcome) {
        match outcome {
            Outcome::Ok => self.ok += 1,
            other => *self.errors.entry(other.label()).or_insert(0) += 1,
        }
    }

    pub fn error_total(&self) -> u64 {
        self.errors.values().sum()
    }

    /// Adds another worker's samples.
    pub fn merge(&mut self, other: Samples) {
        self.latencies_us.extend(other.latencies_us);
        self.ok += other.ok;
        for (k, v) in other.errors {
            *self.errors.entry(k).or_insert(0) += v;
        }
        self.replays += other.replays;
        self.replay_mismatches += other.replay_mismatches;
    }
}

/// The nearest-rank percentile `p` (0 < p ≤ 100) of ascending `sorted` values; 0 when empty.
pub fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let n = sorted.len();
    let rank = ((p / 100.0) * n as f64).ceil() as usize;
    sorted[rank.clamp(1, n) - 1]
}

/// Latency summary in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Latency {
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
}

impl Latency {
    /// Summarises the samples (sorts them in place).
    pub fn of(latencies_us: &mut [u64]) -> Latency {
        latencies_us.sort_unstable();
        let ms = |us: u64| us as f64 / 1000.0;
        let mean = if latencies_us.is_empty() {
            0.0
        } else {
            latencies_us.iter().map(|&v| v as f64).sum::<f64>() / latencies_us.len() as f64 / 1000.0
        };
        Latency {
            p50_ms: ms(percentile(latencies_us, 50.0)),
            p95_ms: ms(percentile(latencies_us, 95.0)),
            p99_ms: ms(percentile(latencies_us, 99.0)),
            max_ms: ms(latencies_us.last().copied().unwrap_or(0)),
            mean_ms: mean,
        }
    }
}

/// One scenario's result, as printed and written to `--json`.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioResult {
    /// Short name: `a1`, `a16`, `a64`, `b`, `c`, `d`.
    pub id: String,
    /// Label in the table.
    pub label: String,
    pub concurrency: usize,
    pub elapsed_s: f64,
    /// Successful operations per second: tickets sold (sale scenarios) or reads (d).
    pub per_second: f64,
    /// Whether `per_second` counts tickets (sales) or requests (reads).
    pub unit: &'static str,
    pub latency: Latency,
    /// Requests measured (replays excluded).
    pub requests: u64,
    pub ok: u64,
    pub errors: u64,
    pub errors_by_code: BTreeMap<String, u64>,
    pub replays: u64,
    pub replay_mismatches: u64,
    /// Scenario b: whether exactly `limit / amount` sales succeeded (and the rest hit the limit).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pass: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl ScenarioResult {
    /// Builds the result from the merged samples of a scenario.
    pub fn from_samples(
        id: &str,
        label: &str,
        concurrency: usize,
        unit: &'static str,
        elapsed: Duration,
        mut samples: Samples,
    ) -> ScenarioResult {
        let latency = Latency::of(&mut samples.latencies_us);
        let secs = elapsed.as_secs_f64();
        ScenarioResult {
            id: id.to_string(),
            label: label.to_string(),
            concurrency,
            elapsed_s: secs,
            per_second: if secs > 0.0 {
                samples.ok as f64 / secs
            } else {
                0.0
            },
            unit,
            latency,
            requests: samples.latencies_us.len() as u64,
            ok: samples.ok,
            errors: samples.error_total(),
            errors_by_code: samples.errors,
            replays: samples.replays,
            replay_mismatches: samples.replay_mismatches,
            pass: None,
            note: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 50.0), 50);
        assert_eq!(percentile(&v, 95.0), 95);
        assert_eq!(percentile(&v, 99.0), 99);
        assert_eq!(percentile(&v, 100.0), 100);
        assert_eq!(percentile(&v, 0.1), 1);
        assert_eq!(percentile(&[], 99.0), 0);
        assert_eq!(percentile(&[7], 50.0), 7);
        // Ten samples: p95 and p99 are the largest one (ranks 10), p50 the fifth.
        let t = [1, 2, 3, 4, 5, 6, 7, 8, 9, 1000];
        assert_eq!(percentile(&t, 50.0), 5);
        assert_eq!(percentile(&t, 95.0), 1000);
        assert_eq!(percentile(&t, 90.0), 9);
    }

    #[test]
    fn latency_summary_sorts_and_converts_to_ms() {
        let mut us = vec![3000, 1000, 2000, 10_000];
        let l = Latency::of(&mut us);
        assert_eq!(us, vec![1000, 2000, 3000, 10_000]);
        assert_eq!(l.p50_ms, 2.0);
        assert_eq!(l.p99_ms, 10.0);
        assert_eq!(l.max_ms, 10.0);
        assert_eq!(l.mean_ms, 4.0);
        assert_eq!(Latency::of(&mut []), Latency::default());
    }

    #[test]
    fn merging_workers_and_counting_by_code() {
        let limit = Outcome::Http {
            status: 400,
            code: "NUMBER_MAXTOTAL_EXCEEDED".into(),
        };
        let mut a = Samples::default();
        a.record(Duration::from_millis(2), &Outcome::Ok);
        a.record(Duration::from_millis(4), &limit);
        let mut b = Samples::default();
        b.record(Duration::from_millis(6), &Outcome::Ok);
        b.record(Duration::from_millis(8), &limit);
        b.record(
            Duration::from_millis(9),
            &Outcome::Transport("timeout".into()),
        );
        // A replay is counted, never timed; a mismatched one is an error.
        b.replays = 1;
        b.replay_mismatches = 1;
        b.count(&Outcome::Http {
            status: 201,
            code: "REPLAY_MISMATCH".into(),
        });
        a.merge(b);
        assert_eq!(a.ok, 2);
        assert_eq!(a.replays, 1);
        assert_eq!(a.replay_mismatches, 1);
        assert_eq!(a.errors["400 NUMBER_MAXTOTAL_EXCEEDED"], 2);
        assert_eq!(a.errors["--- timeout"], 1);
        assert_eq!(a.errors["201 REPLAY_MISMATCH"], 1);
        assert_eq!(a.error_total(), 4);

        let r = ScenarioResult::from_samples(
            "a16",
            "a: spread c16",
            16,
            "tickets",
            Duration::from_secs(2),
            a,
        );
        assert_eq!(r.requests, 5);
        assert_eq!(r.ok, 2);
        assert_eq!(r.errors, 4);
        assert_eq!(r.per_second, 1.0);
        assert_eq!(r.latency.p50_ms, 6.0);
        assert_eq!(r.latency.max_ms, 9.0);
    }
}
