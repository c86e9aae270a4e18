//! The server under test: this same binary run as `banca serve` in a child process, on a free
//! loopback port, against the bench database. Its output goes to a log file.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::process::{Child, Command};

pub struct ServerProcess {
    child: Child,
    pub pid: u32,
    pub port: u16,
    pub log_path: PathBuf,
}

fn free_port() -> std::io::Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

fn random_secret() -> String {
    use rand::Rng;
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut rng = rand::thread_rng();
    (0..48)
        .map(|_| CHARS[rng.gen_range(0..CHARS.len())] as char)
        .collect()
}

impl ServerProcess {
    /// Starts `banca serve --port <free port>` on `database_url`.
    pub fn start(database_url: &str, log_path: &Path) -> anyhow::Result<ServerProcess> {
        let exe = std::env::current_exe().context("cannot find the banca executable")?;
        let port = free_port().context("no free port")?;
        let log = std::fs::File::create(log_path)
            .with_context(|| format!("cannot create {}", log_path.display()))?;
        let log_err = log.try_clone()?;
        let mut cmd = Command::new(exe);
        cmd.arg("serve")
            .arg("--port")
            .arg(port.to_string())
            .env("DATABASE_URL", database_url)
            .env("DIRECT_URL", database_url)
            // Empty counts as unset, and a `.env` file does not override a variable that is set.
            .env("DATABASE_URL_REPLICA", "")
            .env("REDIS_URL", "")
            .env("HOST", "127.0.0.1")
            .env("PORT", port.to_string())
            .env("NODE_ENV", "development")
            .env_remove("APP_ENV")
            .env("LOG_LEVEL", "warn")
            .env("AUTO_MIGRATE", "false")
            .env("JOBS_ENABLED", "false")
            .env("DISABLE_AUTH", "false")
            .env("JWT_ACCESS_SECRET", random_secret())
            .env("JWT_REFRESH_SECRET", random_secret())
            .env("JWT_ACCESS_EXPIRES_IN", "2h")
            // The sellers log in together from one address; every attempt counts until it
            // succeeds, so the default (5) would refuse the burst.
            .env("LOGIN_MAX_FAILURES", "1000")
            // Every request comes from one address and sellers sell far past 20 a minute.
            .env("RATE_LIMIT_ENABLED", "false")
            .stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log_err))
            .kill_on_drop(true);
        let child = cmd.spawn().context("cannot start the server process")?;
        let pid = child.id().context("the server process has no id")?;
        Ok(ServerProcess {
            child,
            pid,
            port,
            log_path: log_path.to_path_buf(),
        })
    }

    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Waits until `GET /api/v1/readyz` answers 200, the process dies, or `timeout` passes.
    pub async fn wait_ready(
        &mut self,
        client: &reqwest::Client,
        timeout: Duration,
    ) -> anyhow::Result<Duration> {
        let started = Instant::now();
        let url = format!("{}/api/v1/readyz", self.base_url());
        loop {
            if let Some(status) = self.child.try_wait()? {
                anyhow::bail!(
                    "the server exited during start-up ({status}); last lines of {}:\n{}",
                    self.log_path.display(),
                    self.log_tail(15)
                );
            }
            if let Ok(r) = client
                .get(&url)
                .timeout(Duration::from_secs(2))
                .send()
                .await
            {
                if r.status().as_u16() == 200 {
                    return Ok(started.elapsed());
                }
            }
            if started.elapsed() > timeout {
                anyhow::bail!(
                    "the server was not ready after {} s; last lines of {}:\n{}",
                    timeout.as_secs(),
                    self.log_path.display(),
                    self.log_tail(15)
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Peak resident set size of the server so far (`VmHWM`), in bytes.
    pub fn peak_rss_bytes(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid)).ok()?;
        parse_kb_field(&status, "VmHWM:").map(|kb| kb * 1024)
    }

    /// Resident set size of the server now (`VmRSS`), in bytes.
    pub fn rss_bytes(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid)).ok()?;
        parse_kb_field(&status, "VmRSS:").map(|kb| kb * 1024)
    }

    /// The last `n` lines of the server's log.
    pub fn log_tail(&self, n: usize) -> String {
        let text = std::fs::read_to_string(&self.log_path).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }

    /// Sends SIGTERM (the server drains and exits) without waiting.
    pub fn terminate(&self) {
        let _ = std::process::Command::new("kill")
            .arg("-TERM")
            .arg(self.pid.to_string())
            .status();
    }

    /// Waits up to `within` for the process to exit: `Some(exit code)` (`Some(None)` when a
    /// signal ended it), `None` when it is still running.
    pub async fn wait_exit(&mut self, within: Duration) -> Option<Option<i32>> {
        match tokio::time::timeout(within, self.child.wait()).await {
            Ok(Ok(status)) => Some(status.code()),
            _ => None,
        }
    }

    /// Stops the server: SIGTERM (it drains and exits), SIGKILL after 15 s.
    pub async fn stop(mut self) {
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            return;
        }
        let _ = std::process::Command::new("kill")
            .arg("-TERM")
            .arg(self.pid.to_string())
            .status();
        match tokio::time::timeout(Duration::from_secs(15), self.child.wait()).await {
            Ok(_) => {}
            Err(_) => {
                let _ = self.child.start_kill();
                let _ = self.child.wait().await;
            }
        }
    }
}

/// Reads a `Name:   1234 kB` line of `/proc/<pid>/status`.
pub fn parse_kb_field(status: &str, field: &str) -> Option<u64> {
    status
        .lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::parse_kb_field;

    #[test]
    fn reads_vmhwm() {
        let s = "Name:\tbanca\nVmPeak:\t  100 kB\nVmHWM:\t   41234 kB\nVmRSS:\t 40000 kB\n";
        assert_eq!(parse_kb_field(s, "VmHWM:"), Some(41234));
        assert_eq!(parse_kb_field(s, "VmSwap:"), None);
    }
}
