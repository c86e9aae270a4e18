//! Decision 12 with a real streaming replica: the test starts its own primary (`initdb`, on a
//! loopback port, replication allowed) and a hot standby made from it with `pg_basebackup`,
//! points the app at both, and checks that reports are served by the replica (its replay paused,
//! a report shows the replica's figures, not the primary's newer ones), that stopping the replica
//! falls back to the primary, and that a restarted replica is used again.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use banca::domain::roles::Role;
use reqwest::Method;
use serde_json::Value;
use sqlx::{Connection, PgConnection};

use crate::common;
use crate::fixtures::{self, call};

/// A directory with `initdb`, `pg_ctl` and `pg_basebackup`: the one the app's local default
/// finds, else Debian's newest `/usr/lib/postgresql/<version>/bin`.
fn pg_bin_dir() -> PathBuf {
    let complete = |d: &Path| {
        ["initdb", "pg_ctl", "pg_basebackup"]
            .iter()
            .all(|p| d.join(p).is_file())
    };
    if let Some(d) = banca::db::bootstrap::find_pg_bin_dir().filter(|d| complete(d)) {
        return d;
    }
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|rd| rd.flatten().map(|e| e.path().join("bin")).collect())
        .unwrap_or_default();
    dirs.sort_by_key(|d| {
        d.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    dirs.into_iter()
        .rev()
        .find(|d| complete(d))
        .expect("PostgreSQL's server programs (initdb, pg_ctl, pg_basebackup) are needed")
}

fn running_as_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// A server program of this machine's PostgreSQL, run as the `postgres` account when the test
/// runs as root (the server refuses root).
fn pg(bin: &Path, program: &str) -> Command {
    let path = bin.join(program);
    if running_as_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(path);
        c
    } else {
        Command::new(path)
    }
}

fn run(mut c: Command, what: &str) {
    let out = c
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// One PostgreSQL server of the test, stopped (immediately) when dropped.
struct Server {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    running: bool,
}

impl Server {
    fn start(&mut self) {
        let log = self.data.with_extension("log");
        let mut c = pg(&self.bin, "pg_ctl");
        c.arg("-D")
            .arg(&self.data)
            .arg("-l")
            .arg(&log)
            .args(["-w", "-t", "60", "start"]);
        run(c, "pg_ctl start");
        self.running = true;
    }

    fn stop(&mut self) {
        let mut c = pg(&self.bin, "pg_ctl");
        c.arg("-D")
            .arg(&self.data)
            .args(["-m", "immediate", "-w", "stop"]);
        run(c, "pg_ctl stop");
        self.running = false;
    }

    fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.running {
            let _ = pg(&self.bin, "pg_ctl")
                .arg("-D")
                .arg(&self.data)
                .args(["-m", "immediate", "-w", "stop"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// A scratch directory the `postgres` account may write to.
fn scratch() -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("banca-replica-")
        .tempdir()
        .unwrap();
    if running_as_root() {
        run(
            {
                let mut c = Command::new("chown");
                c.arg("postgres:postgres").arg(dir.path());
                c
            },
            "chown",
        );
    }
    dir
}

/// A primary on a free loopback port that accepts replication connections.
fn primary(bin: &Path, dir: &Path) -> Server {
    let data = dir.join("primary");
    let mut c = pg(bin, "initdb");
    c.arg("-D")
        .arg(&data)
        .args(["-U", "postgres", "--auth=trust", "-N", "-E", "UTF8"]);
    run(c, "initdb");
    let port = common::closed_port();
    let conf = format!(
        "\nport = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\n\
         wal_level = replica\nmax_wal_senders = 4\nfsync = off\nsynchronous_commit = off\n\
         full_page_writes = off\nshared_buffers = 32MB\n",
        dir.display()
    );
    append(&data.join("postgresql.conf"), &conf);
    append(
        &data.join("pg_hba.conf"),
        "\nhost replication all 127.0.0.1/32 trust\n",
    );
    let mut s = Server {
        bin: bin.to_path_buf(),
        data,
        port,
        running: false,
    };
    s.start();
    s
}

/// A hot standby of `primary`, streaming from it.
fn standby(bin: &Path, dir: &Path, primary: &Server) -> Server {
    let data = dir.join("replica");
    let mut c = pg(bin, "pg_basebackup");
    c.args([
        "-h",
        "127.0.0.1",
        "-p",
        &primary.port.to_string(),
        "-U",
        "postgres",
    ])
    .arg("-D")
    .arg(&data)
    .args(["-R", "-X", "stream", "-c", "fast"]);
    run(c, "pg_basebackup");
    let port = common::closed_port();
    append(
        &data.join("postgresql.auto.conf"),
        &format!("\nport = {port}\nhot_standby = on\n"),
    );
    let mut s = Server {
        bin: bin.to_path_buf(),
        data,
        port,
        running: false,
    };
    s.start();
    s
}

fn append(file: &Path, text: &str) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().append(true).open(file).unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

/// Waits until the replica has replayed everything the primary has written.
async fn caught_up(primary: &str, replica: &str) {
    let mut p = PgConnection::connect(primary).await.unwrap();
    let lsn: String = sqlx::query_scalar("SELECT pg_current_wal_lsn()::text")
        .fetch_one(&mut p)
        .await
        .unwrap();
    let mut r = PgConnection::connect(replica).await.unwrap();
    for _ in 0..200 {
        let done: bool = sqlx::query_scalar("SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn")
            .bind(&lsn)
            .fetch_one(&mut r)
            .await
            .unwrap();
        if done {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the replica did not catch up");
}

async fn exec(url: &str, sql: &str) {
    let mut c = PgConnection::connect(url).await.unwrap();
    sqlx::raw_sql(sql).execute(&mut c).await.unwrap();
}

/// The report the test reads, and the figure it compares.
fn report_path(from: &str, to: &str) -> String {
    format!("/api/v1/ventas/summary?date=range&fromDate={from}&toDate={to}")
}

fn figure(body: &Value) -> String {
    body["data"]["ventasTotal"].to_string()
}

#[tokio::test]
async fn a_streaming_replica_serves_reports_and_the_primary_takes_over_when_it_stops() {
    let bin = pg_bin_dir();
    let dir = scratch();
    let primary = primary(&bin, dir.path());
    exec(&primary.url("postgres"), "CREATE DATABASE banca").await;
    let primary_url = primary.url("banca");
    {
        let pool = sqlx::PgPool::connect(&primary_url).await.unwrap();
        banca::db::migrate::run(&pool).await.unwrap();
        pool.close().await;
    }
    let mut replica = standby(&bin, dir.path(), &primary);
    let replica_url = replica.url("banca");

    // Evaluated sales on the primary (the report dataset generator, small).
    let pool = sqlx::PgPool::connect(&primary_url).await.unwrap();
    let spec = banca::bench::dataset::DatasetSpec {
        jugadas: 3_000,
        days: 3,
        ventanas: 1,
        vendedores: 3,
        loterias: 1,
        seed: 12,
        timezone: chrono_tz::America::Costa_Rica,
    };
    let data = banca::bench::dataset::generate(&pool, &spec, |_| {})
        .await
        .unwrap();
    pool.close().await;
    let (from, to) = (data.first_day.to_string(), data.last_day.to_string());

    let mut cfg = common::config_for_url(
        &primary_url,
        &[
            ("DATABASE_URL_REPLICA", &replica_url),
            ("REPLICA_RETRY_INTERVAL_MS", "200"),
        ],
    );
    // No cache: every answer below is computed by the database its meta names.
    cfg.report_cache_ttl = Duration::ZERO;
    let app = common::spawn_with(cfg, banca::http::api_routes(), true).await;
    let admin = fixtures::user(&app, "replica.admin", Role::Admin, None, None).await;
    caught_up(&primary_url, &replica_url).await;

    let get = |path: String| {
        let app = &app;
        let token = admin.token.clone();
        let banca = data.banca_id;
        async move {
            let res = app
                .client
                .get(app.url(&path))
                .bearer_auth(token)
                .header("X-Active-Banca-Id", banca.to_string())
                .send()
                .await
                .unwrap();
            let status = res.status();
            let body: Value = res.json().await.unwrap();
            assert_eq!(status, 200, "{body}");
            body
        }
    };

    // 1. The replica serves the report, and the figures are the primary's (caught up).
    let before = get(report_path(&from, &to)).await;
    assert_eq!(before["meta"]["source"], "replica", "{}", before["meta"]);
    let on_primary: String = {
        let mut c = PgConnection::connect(&primary_url).await.unwrap();
        sqlx::query_scalar("SELECT sum(total_sales)::text FROM ventana_rollup")
            .fetch_one(&mut c)
            .await
            .unwrap()
    };
    assert_eq!(
        figure(&before).parse::<rust_decimal::Decimal>().unwrap(),
        on_primary.parse::<rust_decimal::Decimal>().unwrap()
    );

    // 2. With the replica's replay paused, a change on the primary is not in the answer: the
    //    replica, not the primary, computed it.
    exec(&replica_url, "SELECT pg_wal_replay_pause()").await;
    exec(
        &primary_url,
        "UPDATE ventana_rollup SET total_sales = total_sales + 1000
         WHERE ctid = (SELECT ctid FROM ventana_rollup LIMIT 1)",
    )
    .await;
    let paused = get(report_path(&from, &to)).await;
    assert_eq!(paused["meta"]["source"], "replica");
    assert_eq!(figure(&paused), figure(&before));

    // 3. The replica stops: the primary answers (with its newer figure), no error.
    replica.stop();
    let fallback = get(report_path(&from, &to)).await;
    assert_eq!(
        fallback["meta"]["source"], "primary",
        "{}",
        fallback["meta"]
    );
    let expected = figure(&before).parse::<rust_decimal::Decimal>().unwrap()
        + rust_decimal::Decimal::from(1000);
    assert_eq!(
        figure(&fallback).parse::<rust_decimal::Decimal>().unwrap(),
        expected
    );
    let (status, ready) = call(&app, Method::GET, "/api/v1/readyz", None, None).await;
    assert_eq!(
        status, 200,
        "an unreachable replica does not make the app unready"
    );
    assert!(ready.to_string().contains("replica"), "{ready}");

    // 4. Restarted (replay resumes at start), the replica is used again.
    replica.start();
    caught_up(&primary_url, &replica_url).await;
    let mut source = Value::Null;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let again = get(report_path(&from, &to)).await;
        source = again["meta"]["source"].clone();
        if source == "replica" {
            assert_eq!(
                figure(&again).parse::<rust_decimal::Decimal>().unwrap(),
                expected
            );
            break;
        }
    }
    assert_eq!(
        source, "replica",
        "the restarted replica serves reports again"
    );
    drop(app);
}
