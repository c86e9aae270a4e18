//! The yardstick: PostgreSQL's own `pgbench` (built-in TPC-B-like script) on the same server and
//! machine, in the same run, so the sale throughput can be read as a fraction of what this
//! database does with a simple write transaction.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde::Serialize;
use tokio::process::Command;

use super::database::Server;

pub const SCALE: u32 = 10;
pub const CLIENTS: u32 = 16;
pub const THREADS: u32 = 2;

#[derive(Debug, Clone, Serialize)]
pub struct PgbenchResult {
    pub tps: f64,
    pub scale: u32,
    pub clients: u32,
    pub threads: u32,
    pub duration_s: u64,
    pub init_s: f64,
    /// Mean latency reported by pgbench, in ms.
    pub latency_avg_ms: Option<f64>,
}

/// `pgbench` on `PATH`, else in Debian's `/usr/lib/postgresql/<version>/bin` (newest).
pub fn find_pgbench() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let p = dir.join("pgbench");
            if p.is_file() {
                return Some(p);
            }
        }
    }
    let mut versioned: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            Some((v, e.path().join("bin").join("pgbench")))
        })
        .filter(|(_, p)| p.is_file())
        .collect();
    versioned.sort();
    versioned.pop().map(|(_, p)| p)
}

/// Initialises database `db` (`pgbench -i -s 10`) and runs `pgbench -c 16 -j 2 -T <secs>`.
pub async fn run(
    pgbench: &PathBuf,
    server: &Server,
    db: &str,
    duration: Duration,
) -> anyhow::Result<PgbenchResult> {
    let env = server.libpq_env(db);
    let started = Instant::now();
    let out = Command::new(pgbench)
        .args(["-i", "-q", "-s", &SCALE.to_string()])
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .await
        .context("cannot run pgbench -i")?;
    if !out.status.success() {
        anyhow::bail!(
            "pgbench -i failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let init_s = started.elapsed().as_secs_f64();
    let secs = duration.as_secs().max(1);
    let out = Command::new(pgbench)
        .args([
            "-c",
            &CLIENTS.to_string(),
            "-j",
            &THREADS.to_string(),
            "-T",
            &secs.to_string(),
        ])
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .await
        .context("cannot run pgbench")?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        anyhow::bail!(
            "pgbench failed: {} {}",
            stdout.trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let tps =
        parse_tps(&stdout).with_context(|| format!("no tps in pgbench's output: {stdout}"))?;
    Ok(PgbenchResult {
        tps,
        scale: SCALE,
        clients: CLIENTS,
        threads: THREADS,
        duration_s: secs,
        init_s,
        latency_avg_ms: parse_after(&stdout, "latency average = "),
    })
}

/// The `tps = N` figure of pgbench's report (the first one: since PostgreSQL 14 there is only
/// one, "without initial connection time").
pub fn parse_tps(output: &str) -> Option<f64> {
    parse_after(output, "tps = ")
}

fn parse_after(output: &str, prefix: &str) -> Option<f64> {
    output.lines().find_map(|l| {
        let rest = l.trim().strip_prefix(prefix)?;
        rest.split_whitespace().next()?.parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_pgbench_report() {
        let out = "transaction type: <builtin: TPC-B (sort of)>\nscaling factor: 10\n\
                   number of clients: 16\nlatency average = 6.812 ms\n\
                   initial connection time = 21.0 ms\n\
                   tps = 2348.771234 (without initial connection time)\n";
        assert_eq!(parse_tps(out), Some(2348.771234));
        assert_eq!(parse_after(out, "latency average = "), Some(6.812));
        assert_eq!(parse_tps("nothing"), None);
    }
}
