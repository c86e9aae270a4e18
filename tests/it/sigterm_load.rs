//! Load with SIGTERM in the middle, through the benchmark harness (`banca bench --scenarios s`):
//! a real `banca serve` child process, 16 sellers selling with their own idempotency keys,
//! SIGTERM two seconds in, selling on until the server is gone. The harness checks itself; this
//! test checks its every recorded outcome again in the database it kept: each 2xx is a ticket
//! with exactly the jugadas sent, each request without an answer or with an error left neither a
//! ticket nor an idempotency record, and the per-number totals equal the stored jugadas.

use std::collections::{HashMap, HashSet};

use rust_decimal::Decimal;
use serde_json::Value;
use sqlx::{ConnectOptions, PgConnection};
use uuid::Uuid;

use crate::common::{admin_url, banca_command, drop_database};
use crate::pgbouncer::counter_mismatches_on;

/// Drops the bench database even when an assertion fails.
struct KeptDb(String);

impl Drop for KeptDb {
    fn drop(&mut self) {
        drop_database(&self.0);
    }
}

#[tokio::test]
async fn sigterm_under_load_keeps_every_acknowledged_sale_and_nothing_else() {
    let json = std::env::temp_dir().join(format!("bench_sigterm_{}.json", Uuid::new_v4()));
    let child = banca_command()
        .args([
            "bench",
            "--scenarios",
            "s",
            "--sigterm-after",
            "2",
            "--no-pgbench",
            "--keep-db",
            "--json",
        ])
        .arg(&json)
        .env("DATABASE_URL", admin_url())
        .env("NODE_ENV", "development")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let kept = KeptDb(format!("banca_bench_{}", child.id()));
    let out = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("s SIGTERM PASS"), "{stdout}");

    let report: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let _ = std::fs::remove_file(&json);
    let s = &report["sigterm"];
    assert_eq!(s["pass"], true, "{}", s["failures"]);
    assert_eq!(s["exit_code"], 0);
    for key in ["acknowledged", "in_flight_at_signal", "sent_after_signal"] {
        assert!(s[key].as_u64().unwrap() > 0, "{key}: {}", s["outcomes"]);
    }
    let outcomes = s["outcomes"].as_array().unwrap();
    assert_eq!(outcomes.len() as u64, s["requests"].as_u64().unwrap());

    // The same outcomes, checked again from here.
    let mut url = url::Url::parse(&admin_url()).unwrap();
    url.set_path(&kept.0);
    let mut conn: PgConnection = url
        .as_str()
        .parse::<sqlx::postgres::PgConnectOptions>()
        .unwrap()
        .connect()
        .await
        .unwrap();
    let rows: Vec<(String, Uuid, String, Decimal)> = sqlx::query_as(
        "SELECT t.idempotency_key, t.id, j.number, j.amount
         FROM tickets t JOIN jugadas j ON j.ticket_id = t.id",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let mut stored: HashMap<String, (Uuid, Vec<String>)> = HashMap::new();
    for (key, id, number, amount) in rows {
        let e = stored.entry(key).or_insert((id, Vec::new()));
        assert_eq!(e.0, id, "one ticket per key");
        e.1.push(format!("{number}:{}", amount.normalize()));
    }
    let totals: HashMap<Uuid, Decimal> =
        sqlx::query_as::<_, (Uuid, Decimal)>("SELECT id, total_amount FROM tickets")
            .fetch_all(&mut conn)
            .await
            .unwrap()
            .into_iter()
            .collect();
    let recorded: HashSet<String> = sqlx::query_scalar("SELECT key FROM idempotency_keys")
        .fetch_all(&mut conn)
        .await
        .unwrap()
        .into_iter()
        .collect();
    let (mut acknowledged, mut without_effect) = (0, 0);
    for o in outcomes {
        let key = o["key"].as_str().unwrap();
        let mut sent: Vec<String> = o["jugadas"]
            .as_array()
            .unwrap()
            .iter()
            .map(|j| j.as_str().unwrap().to_string())
            .collect();
        sent.sort();
        match o["status"].as_u64() {
            Some(200 | 201) => {
                let (id, mut jugadas) = stored.get(key).cloned().unwrap_or_else(|| {
                    panic!("{key}: acknowledged but not stored");
                });
                jugadas.sort();
                assert_eq!(Some(id.to_string().as_str()), o["ticket"].as_str(), "{key}");
                assert_eq!(jugadas, sent, "{key}: the jugadas sent");
                let sum: Decimal = sent
                    .iter()
                    .map(|l| l.split(':').nth(1).unwrap().parse::<Decimal>().unwrap())
                    .sum();
                assert_eq!(totals[&id], sum, "{key}: ticket total");
                acknowledged += 1;
            }
            status => {
                assert!(
                    !stored.contains_key(key) && !recorded.contains(key),
                    "{key}: {status:?} yet it left a ticket or an idempotency record"
                );
                without_effect += 1;
            }
        }
    }
    assert_eq!(acknowledged, s["acknowledged"].as_u64().unwrap());
    assert!(without_effect > 0, "some requests met the stopped server");
    // Nothing but the acknowledged sales is in the database.
    assert_eq!(stored.len() as u64, acknowledged, "tickets in the database");
    assert_eq!(
        counter_mismatches_on(&mut conn).await,
        0,
        "per-number totals"
    );
}
