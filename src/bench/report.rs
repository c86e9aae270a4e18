//! The bench's results: the printed table and the `--json` document.

use std::fmt::Write as _;

use serde::Serialize;

use super::eval::EvalResult;
use super::pgbench::PgbenchResult;
use super::stats::ScenarioResult;
use super::verify::Verification;

/// The machine and software the figures were taken on.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    pub cores: usize,
    pub cpu_model: String,
    pub memory_mb: u64,
    pub kernel: String,
    pub postgres_version: String,
    pub banca_version: &'static str,
    pub build: &'static str,
}

impl Machine {
    pub fn probe(postgres_version: String) -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu_model = cpuinfo
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split_once(':'))
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_else(|| "unknown".into());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let memory_mb = super::server::parse_kb_field(&meminfo, "MemTotal:").unwrap_or(0) / 1024;
        Machine {
            cores: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            cpu_model,
            memory_mb,
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .map(|s| s.trim().to_string())
                .unwrap_or_default(),
            postgres_version,
            banca_version: env!("CARGO_PKG_VERSION"),
            build: if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            },
        }
    }

    pub fn line(&self) -> String {
        format!(
            "machine: {} cores, {}, {} MB RAM, Linux {}, PostgreSQL {}, banca {} ({} build)",
            self.cores,
            self.cpu_model,
            self.memory_mb,
            self.kernel,
            self.postgres_version,
            self.banca_version,
            self.build
        )
    }
}

/// Scenario b's verdict.
#[derive(Debug, Clone, Serialize)]
pub struct HotCheck {
    pub number: String,
    pub limit: u32,
    pub amount: u32,
    pub buyers: usize,
    pub expected_ok: u64,
    pub ok: u64,
    /// Refusals with a limit code.
    pub limit_refusals: u64,
    /// Sum sold on the hot number, from SQL.
    pub sold_in_db: String,
    pub pass: bool,
}

/// Everything a run measured and checked.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub started_at: String,
    pub machine: Machine,
    pub duration_per_scenario_s: u64,
    pub scenarios: Vec<ScenarioResult>,
    pub hot: Option<HotCheck>,
    /// Scenario e, once per time it was listed.
    pub evaluations: Vec<EvalResult>,
    /// Scenario s (SIGTERM under load), when it ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sigterm: Option<super::sigterm::SigtermCheck>,
    pub pgbench: Option<PgbenchResult>,
    pub pgbench_note: Option<String>,
    /// Sale tickets/s of `ratio_basis` divided by pgbench TPS.
    pub sale_to_pgbench_ratio: Option<f64>,
    pub ratio_basis: Option<String>,
    pub server_peak_rss_bytes: Option<u64>,
    /// Peak RSS of the server once started and the sellers logged in, before any load.
    pub server_rss_after_start_bytes: Option<u64>,
    /// Resident set size of the server at the end of the load.
    pub server_rss_end_bytes: Option<u64>,
    pub verification: Verification,
    /// Tickets the server acknowledged (2xx, replays excluded) over all sale scenarios.
    pub tickets_acknowledged: u64,
    /// Sale requests that got no HTTP answer (they may or may not have sold).
    pub sale_transport_errors: u64,
    pub tickets_stored_ok: bool,
    pub passed: bool,
    pub failures: Vec<String>,
    pub total_s: f64,
}

fn ms(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

fn mb(bytes: u64) -> String {
    format!("{:.0} MB", bytes as f64 / (1024.0 * 1024.0))
}

fn ok_word(ok: bool) -> &'static str {
    if ok {
        "OK"
    } else {
        "FAILED"
    }
}

impl Report {
    /// The human-readable report: table, breakdowns, checks.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "{}", self.machine.line());
        if !self.scenarios.is_empty() {
            let _ = writeln!(
                s,
                "{:<22} {:>5} {:>10} {:>7} {:>7} {:>7} {:>7} {:>8} {:>7}",
                "scenario", "conc", "tickets/s", "p50ms", "p95ms", "p99ms", "maxms", "ok", "errors"
            );
        }
        for r in &self.scenarios {
            let label = if r.unit == "requests" {
                format!("{} (req/s)", r.label)
            } else {
                r.label.clone()
            };
            let _ = writeln!(
                s,
                "{:<22} {:>5} {:>10.1} {:>7} {:>7} {:>7} {:>7} {:>8} {:>7}",
                label,
                r.concurrency,
                r.per_second,
                ms(r.latency.p50_ms),
                ms(r.latency.p95_ms),
                ms(r.latency.p99_ms),
                ms(r.latency.max_ms),
                r.ok,
                r.errors
            );
        }
        for r in &self.scenarios {
            if !r.errors_by_code.is_empty() {
                let parts: Vec<String> = r
                    .errors_by_code
                    .iter()
                    .map(|(k, v)| format!("{k} ×{v}"))
                    .collect();
                let _ = writeln!(s, "  {} errors: {}", r.label, parts.join(", "));
            }
            if r.replays > 0 {
                let _ = writeln!(
                    s,
                    "  {} replays: {} re-sent with the same key, {} answered another ticket or failed",
                    r.label, r.replays, r.replay_mismatches
                );
            }
        }
        if let Some(h) = &self.hot {
            let _ = writeln!(
                s,
                "b: {} buyers × {} on \"{}\" (maxTotal {}): expected {} ok, got {} ok + {} limit refusals, {} sold in SQL: {}",
                h.buyers,
                h.amount,
                h.number,
                h.limit,
                h.expected_ok,
                h.ok,
                h.limit_refusals,
                h.sold_in_db,
                if h.pass { "PASS" } else { "FAIL" }
            );
        }
        for e in &self.evaluations {
            let _ = writeln!(
                s,
                "e: {} jugadas / {} tickets ({} REVENTADO) on {}, winning \"{}\" + REVENTADO {}x: \
                 evaluate {} ms ({:.0} jugadas/s), revert {} ms, re-evaluate {} ms; \
                 {} winning tickets, {} winning jugadas, payout {}; \
                 Σ tickets = Σ jugadas = recomputed: {}",
                e.jugadas,
                e.tickets,
                e.reventado_jugadas,
                e.sorteo_name,
                e.winning_number,
                e.extra_multiplier_x,
                ms(e.evaluate_ms),
                e.jugadas_per_second(),
                ms(e.revert_ms),
                ms(e.reevaluate_ms),
                e.again.winning_tickets,
                e.again.winning_jugadas,
                e.again.payout_tickets,
                if e.pass { "PASS" } else { "FAIL" }
            );
        }
        if let Some(c) = &self.sigterm {
            let _ = writeln!(s, "{}", c.line());
        }
        let mut line = match &self.pgbench {
            Some(p) => format!("pgbench TPC-B c{}: {:.0} tps", p.clients, p.tps),
            None => format!(
                "pgbench: {}",
                self.pgbench_note.as_deref().unwrap_or("not run")
            ),
        };
        if let (Some(r), Some(b)) = (self.sale_to_pgbench_ratio, &self.ratio_basis) {
            let _ = write!(line, "   sale/pgbench: {r:.2} ({b})");
        }
        let _ = write!(
            line,
            "   server peak RSS: {}",
            self.server_peak_rss_bytes
                .map(mb)
                .unwrap_or_else(|| "unknown".into())
        );
        let mut notes = Vec::new();
        if let Some(b) = self.server_rss_after_start_bytes {
            notes.push(format!("{} after start-up and logins", mb(b)));
        }
        if let Some(b) = self.server_rss_end_bytes {
            notes.push(format!("{} resident at the end", mb(b)));
        }
        if !notes.is_empty() {
            let _ = write!(line, " ({})", notes.join(", "));
        }
        let _ = writeln!(s, "{line}");
        let v = &self.verification;
        let _ = writeln!(
            s,
            "verify: limits {} ({} totals checked{}), counters {} ({} rows, {} totals without a row), idempotency {} ({} keyed tickets), tickets {} ({} stored, {} acknowledged{}{})",
            ok_word(v.limits_ok()),
            v.limit_groups,
            if v.limit_rules_skipped > 0 {
                format!(", {} dated rules skipped", v.limit_rules_skipped)
            } else {
                String::new()
            },
            ok_word(v.counters_ok()),
            v.counter_rows,
            v.totals_without_counter,
            ok_word(v.idempotency_ok()),
            v.tickets_with_key,
            ok_word(self.tickets_stored_ok),
            v.tickets_in_db,
            self.tickets_acknowledged,
            if self.sale_transport_errors > 0 {
                format!(", {} unanswered", self.sale_transport_errors)
            } else {
                String::new()
            },
            if v.tickets_seeded > 0 {
                format!("; {} more seeded by e", v.tickets_seeded)
            } else {
                String::new()
            }
        );
        for x in &v.limit_violations {
            let _ = writeln!(s, "  limit exceeded: {x}");
        }
        for f in &self.failures {
            let _ = writeln!(s, "  FAILED: {f}");
        }
        s
    }

    /// The one-line summary printed last.
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        for r in &self.scenarios {
            if r.id == "b" {
                continue;
            }
            parts.push(format!(
                "{} {:.0}{} p99 {} ms",
                r.id,
                r.per_second,
                if r.unit == "requests" {
                    " req/s"
                } else {
                    " t/s"
                },
                ms(r.latency.p99_ms)
            ));
        }
        if let Some(h) = &self.hot {
            parts.push(format!("b {}", if h.pass { "PASS" } else { "FAIL" }));
        }
        for e in &self.evaluations {
            parts.push(format!(
                "e {} jugadas: evaluate {} ms, revert {} ms, re-evaluate {} ms {}",
                e.jugadas,
                ms(e.evaluate_ms),
                ms(e.revert_ms),
                ms(e.reevaluate_ms),
                if e.pass { "PASS" } else { "FAIL" }
            ));
        }
        if let Some(c) = &self.sigterm {
            parts.push(format!(
                "s SIGTERM {}",
                if c.pass { "PASS" } else { "FAIL" }
            ));
        }
        let v = &self.verification;
        parts.push(format!(
            "verify {}",
            ok_word(
                v.limits_ok() && v.counters_ok() && v.idempotency_ok() && self.tickets_stored_ok
            )
        ));
        if let Some(r) = self.sale_to_pgbench_ratio {
            parts.push(format!("sale/pgbench {r:.2}"));
        }
        if let Some(b) = self.server_peak_rss_bytes {
            parts.push(format!("RSS {}", mb(b)));
        }
        format!(
            "bench {}: {} ({:.0} s)",
            if self.passed { "PASS" } else { "FAIL" },
            parts.join(", "),
            self.total_s
        )
    }
}
