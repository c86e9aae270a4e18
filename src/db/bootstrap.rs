//! Finding a database to talk to: the configured `DATABASE_URL`, or — outside production, with
//! nothing configured — a local PostgreSQL server, or a private cluster started from the installed
//! server binaries. Also creates the target database when it is missing (never in production).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{ConnectOptions, Connection};

use crate::config::{Config, ServiceUrl};

/// Name of the database used by the local default when `PGDATABASE` is unset.
pub const LOCAL_DATABASE: &str = "banca";

/// Why no database could be found.
#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    #[error("{0}")]
    NoServer(String),
    #[error("the private PostgreSQL cluster in {dir} could not be started: {reason}")]
    Cluster { dir: String, reason: String },
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

/// Where the primary database is, and the private cluster to stop on shutdown, if one was started.
pub struct ResolvedDatabase {
    pub url: ServiceUrl,
    pub cluster: Option<LocalCluster>,
    /// How it was found, for the start-up log line.
    pub origin: &'static str,
}

/// Resolves the primary URL: `DATABASE_URL` if set; otherwise the local default.
pub async fn resolve_database(config: &Config) -> Result<ResolvedDatabase, BootstrapError> {
    if let Some(url) = &config.database_url {
        return Ok(ResolvedDatabase {
            url: url.clone(),
            cluster: None,
            origin: "DATABASE_URL",
        });
    }
    // Config refuses production without DATABASE_URL; this is a second guard.
    if config.environment.is_production() {
        return Err(BootstrapError::NoServer(
            "DATABASE_URL is required in production".into(),
        ));
    }
    let database = std::env::var("PGDATABASE")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| LOCAL_DATABASE.to_string());

    let mut unreachable = Vec::new();
    for candidate in local_candidates() {
        let probe = candidate.clone().database("postgres");
        match tokio::time::timeout(Duration::from_secs(3), probe.connect()).await {
            Ok(Ok(conn)) => {
                let _ = conn.close().await;
                let url =
                    options_to_url(&candidate, &database).map_err(BootstrapError::NoServer)?;
                tracing::info!(url = %url, "DATABASE_URL unset: using the local PostgreSQL server");
                return Ok(ResolvedDatabase {
                    url,
                    cluster: None,
                    origin: "local server",
                });
            }
            Ok(Err(e)) => unreachable.push(format!(
                "{}@{}:{} ({e})",
                candidate.get_username(),
                candidate.get_host(),
                candidate.get_port()
            )),
            Err(_) => unreachable.push(format!(
                "{}:{} (timed out)",
                candidate.get_host(),
                candidate.get_port()
            )),
        }
    }
    tracing::info!(tried = ?unreachable, "no local PostgreSQL server answered");

    let Some(bin) = find_pg_bin_dir() else {
        return Err(BootstrapError::NoServer(format!(
            "No database configured and none found. DATABASE_URL is unset, no PostgreSQL server \
             answered on this machine (tried: {}), and PostgreSQL's server programs (initdb, \
             pg_ctl) are not installed. Either set DATABASE_URL=postgres://user:password@host:5432/banca, \
             or install PostgreSQL (Debian/Ubuntu: `sudo apt-get install postgresql`; macOS: \
             `brew install postgresql@16`) and run `banca serve` again: it then starts a private \
             database under {} by itself.",
            unreachable.join("; "),
            config.local_pg_dir.display()
        )));
    };
    let cluster = LocalCluster::start(&bin, &config.local_pg_dir)?;
    let url = ServiceUrl::parse(&format!(
        "postgres://postgres:{}@127.0.0.1:{}/{}",
        urlencode(&cluster.password),
        cluster.port,
        urlencode(&database)
    ))
    .map_err(BootstrapError::NoServer)?;
    tracing::info!(
        data_dir = %cluster.data_dir.display(),
        port = cluster.port,
        "started a private PostgreSQL cluster"
    );
    Ok(ResolvedDatabase {
        url,
        cluster: Some(cluster),
        origin: "private cluster",
    })
}

/// Where to look for a local server, honouring libpq's `PGHOST`, `PGPORT`, `PGUSER`,
/// `PGPASSWORD`: the libpq defaults (Unix socket when present) as the OS user, then as
/// `postgres`, then TCP on 127.0.0.1 as `postgres`.
fn local_candidates() -> Vec<PgConnectOptions> {
    let base = PgConnectOptions::new();
    let mut out = vec![base.clone()];
    if std::env::var("PGUSER")
        .map(|u| u.is_empty())
        .unwrap_or(true)
    {
        out.push(base.clone().username("postgres"));
        if std::env::var("PGHOST")
            .map(|h| h.is_empty())
            .unwrap_or(true)
        {
            out.push(base.host("127.0.0.1").username("postgres"));
        }
    }
    out
}

fn options_to_url(opts: &PgConnectOptions, database: &str) -> Result<ServiceUrl, String> {
    let host = opts.get_host();
    let user = opts.get_username();
    let pass = std::env::var("PGPASSWORD").ok().filter(|p| !p.is_empty());
    let auth = match pass {
        Some(p) => format!("{}:{}", urlencode(user), urlencode(&p)),
        None => urlencode(user),
    };
    let db = urlencode(database);
    let port = opts.get_port();
    let raw = if host.starts_with('/') {
        format!(
            "postgres://{auth}@localhost/{db}?host={}&port={port}",
            urlencode(host)
        )
    } else if host.contains(':') && !host.starts_with('[') {
        format!("postgres://{auth}@[{host}]:{port}/{db}")
    } else {
        format!("postgres://{auth}@{host}:{port}/{db}")
    };
    ServiceUrl::parse(&raw).map_err(|e| format!("cannot build a URL for host {host:?}: {e}"))
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Creates the target database when it does not exist (development and test only).
/// Safe against concurrent callers.
pub async fn ensure_database(opts: &PgConnectOptions) -> Result<bool, sqlx::Error> {
    let Some(name) = opts.get_database().map(str::to_string) else {
        return Ok(false);
    };
    match opts.connect().await {
        Ok(conn) => {
            let _ = conn.close().await;
            return Ok(false);
        }
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("3D000") => {}
        Err(e) => return Err(e),
    }
    let mut admin: PgConnection = opts.clone().database("postgres").connect().await?;
    let quoted = format!("\"{}\"", name.replace('"', "\"\""));
    let result = crate::db::query(&format!("CREATE DATABASE {quoted}"))
        .execute(&mut admin)
        .await;
    let _ = admin.close().await;
    match result {
        Ok(_) => {
            tracing::info!(database = %name, "created the database");
            Ok(true)
        }
        // 42P04 duplicate_database, 23505 a concurrent CREATE won the race.
        Err(sqlx::Error::Database(e))
            if matches!(e.code().as_deref(), Some("42P04") | Some("23505")) =>
        {
            Ok(false)
        }
        Err(e) => Err(e),
    }
}

/// Finds `initdb` and `pg_ctl`: on `PATH`, else in Debian's `/usr/lib/postgresql/<version>/bin`
/// (the newest version), else in the usual macOS and source-build folders.
pub fn find_pg_bin_dir() -> Option<PathBuf> {
    let has_both = |d: &Path| d.join("initdb").is_file() && d.join("pg_ctl").is_file();
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if has_both(&dir) {
                return Some(dir);
            }
        }
    }
    let mut versioned: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            Some((v, e.path().join("bin")))
        })
        .filter(|(_, d)| has_both(d))
        .collect();
    versioned.sort();
    if let Some((_, d)) = versioned.pop() {
        return Some(d);
    }
    [
        "/usr/local/pgsql/bin",
        "/opt/homebrew/bin",
        "/usr/local/bin",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|d| has_both(d))
}

/// A private PostgreSQL cluster under `LOCAL_PG_DIR`, started from the installed server binaries.
/// It listens on 127.0.0.1 only and asks for a password (scram-sha-256) kept beside the data
/// folder with mode 0600, so other local users cannot log in.
pub struct LocalCluster {
    pub data_dir: PathBuf,
    pub port: u16,
    /// Password of the `postgres` role of this cluster.
    pub password: String,
    bin: PathBuf,
    run_as: Option<String>,
    stopped: bool,
}

/// Where the cluster's password is kept: `<LOCAL_PG_DIR>.password`.
fn password_file(data_dir: &Path) -> PathBuf {
    let mut name = data_dir.as_os_str().to_owned();
    name.push(".password");
    PathBuf::from(name)
}

fn read_or_create_password(file: &Path) -> std::io::Result<String> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if let Ok(existing) = std::fs::read_to_string(file) {
        let existing = existing.trim().to_string();
        if !existing.is_empty() {
            return Ok(existing);
        }
    }
    use rand::Rng;
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut rng = rand::thread_rng();
    let password: String = (0..32)
        .map(|_| CHARS[rng.gen_range(0..CHARS.len())] as char)
        .collect();
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(file)?;
    writeln!(f, "{password}")?;
    Ok(password)
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn free_port() -> std::io::Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

impl LocalCluster {
    fn command(bin: &Path, run_as: &Option<String>, program: &str) -> Command {
        let exe = bin.join(program);
        match run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.arg("-u").arg(user).arg("--").arg(exe);
                c
            }
            None => Command::new(exe),
        }
    }

    /// Initialises the data folder if needed and starts the server on a free loopback port.
    pub fn start(bin: &Path, data_dir: &Path) -> Result<Self, BootstrapError> {
        let fail = |reason: String| BootstrapError::Cluster {
            dir: data_dir.display().to_string(),
            reason,
        };
        std::fs::create_dir_all(data_dir).map_err(|e| fail(format!("cannot create it: {e}")))?;
        let data_dir = data_dir
            .canonicalize()
            .map_err(|e| fail(format!("cannot resolve it: {e}")))?;
        // PostgreSQL refuses to run as root; use the `postgres` account when there is one.
        let run_as =
            if running_as_root() {
                let status = Command::new("chown")
                    .arg("-R")
                    .arg("postgres:")
                    .arg(&data_dir)
                    .status();
                match status {
                    Ok(s) if s.success() => Some("postgres".to_string()),
                    _ => return Err(fail(
                        "running as root and there is no `postgres` account to run the server as"
                            .into(),
                    )),
                }
            } else {
                None
            };
        let run = |mut c: Command, what: &str| -> Result<std::process::Output, BootstrapError> {
            let out = c
                .output()
                .map_err(|e| fail(format!("{what} could not run: {e}")))?;
            Ok(out)
        };

        let pw_file = password_file(&data_dir);
        let password = read_or_create_password(&pw_file).map_err(|e| {
            fail(format!(
                "cannot keep the password in {}: {e}",
                pw_file.display()
            ))
        })?;
        if !data_dir.join("PG_VERSION").exists() {
            // initdb reads the superuser password from a file only the server account can
            // read, removed right after.
            let pw_tmp = {
                let mut name = data_dir.as_os_str().to_owned();
                name.push(".initdb-pw");
                PathBuf::from(name)
            };
            {
                use std::io::Write;
                use std::os::unix::fs::OpenOptionsExt;
                let mut f = std::fs::OpenOptions::new()
                    .write(true)
                    .create(true)
                    .truncate(true)
                    .mode(0o600)
                    .open(&pw_tmp)
                    .and_then(|mut f| writeln!(f, "{password}").map(|_| f))
                    .map_err(|e| fail(format!("cannot write {}: {e}", pw_tmp.display())))?;
                let _ = f.flush();
            }
            if let Some(user) = &run_as {
                let _ = Command::new("chown")
                    .arg(format!("{user}:"))
                    .arg(&pw_tmp)
                    .status();
            }
            let mut c = Self::command(bin, &run_as, "initdb");
            c.arg("-D")
                .arg(&data_dir)
                .args([
                    "-U",
                    "postgres",
                    "--auth-host=scram-sha-256",
                    "--auth-local=peer",
                ])
                .arg(format!("--pwfile={}", pw_tmp.display()))
                .args(["-E", "UTF8", "--no-locale"]);
            let out = run(c, "initdb");
            let _ = std::fs::remove_file(&pw_tmp);
            let out = out?;
            if !out.status.success() {
                return Err(fail(format!(
                    "initdb failed: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                )));
            }
        }

        // Already running (left behind by a crash): reuse it, and stop it at shutdown.
        let pid_file = data_dir.join("postmaster.pid");
        let mut status = Self::command(bin, &run_as, "pg_ctl");
        status.arg("status").arg("-D").arg(&data_dir);
        if run(status, "pg_ctl status")?.status.success() {
            if let Some(port) = std::fs::read_to_string(&pid_file)
                .ok()
                .and_then(|s| s.lines().nth(3).and_then(|l| l.trim().parse().ok()))
            {
                tracing::info!(
                    port,
                    "reusing the private PostgreSQL cluster already running"
                );
                return Ok(LocalCluster {
                    data_dir,
                    port,
                    password,
                    bin: bin.to_path_buf(),
                    run_as,
                    stopped: false,
                });
            }
        }

        let port = free_port().map_err(|e| fail(format!("no free port: {e}")))?;
        let mut c = Self::command(bin, &run_as, "pg_ctl");
        c.arg("start")
            .arg("-D")
            .arg(&data_dir)
            .arg("-w")
            .arg("-t")
            .arg("60")
            .arg("-l")
            .arg(data_dir.join("server.log"))
            .arg("-o")
            .arg(format!(
                "-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''"
            ));
        let out = run(c, "pg_ctl start")?;
        if !out.status.success() {
            let log = std::fs::read_to_string(data_dir.join("server.log")).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(5).collect();
            return Err(fail(format!(
                "pg_ctl start failed: {} {}",
                String::from_utf8_lossy(&out.stderr).trim(),
                tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
            )));
        }
        Ok(LocalCluster {
            data_dir,
            port,
            password,
            bin: bin.to_path_buf(),
            run_as,
            stopped: false,
        })
    }

    /// Stops the cluster (fast mode).
    pub fn stop(&mut self) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        let mut c = Self::command(&self.bin, &self.run_as, "pg_ctl");
        c.arg("stop")
            .arg("-D")
            .arg(&self.data_dir)
            .args(["-m", "fast", "-w"]);
        match c.output() {
            Ok(o) if o.status.success() => {
                tracing::info!(data_dir = %self.data_dir.display(), "stopped the private PostgreSQL cluster")
            }
            Ok(o) => tracing::warn!(
                stderr = %String::from_utf8_lossy(&o.stderr).trim(),
                "could not stop the private PostgreSQL cluster"
            ),
            Err(e) => tracing::warn!(error = %e, "could not run pg_ctl stop"),
        }
    }
}

impl Drop for LocalCluster {
    fn drop(&mut self) {
        self.stop();
    }
}
