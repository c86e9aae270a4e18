//! `banca bench --scenarios e`: the evaluation scenario end to end on a small sorteo (its own
//! database, the server as a child process, evaluate → revert → evaluate over HTTP, SQL checks).

use crate::common::{admin_url, banca_command};

#[test]
fn bench_scenario_e_evaluates_reverts_and_verifies_payouts() {
    let json = std::env::temp_dir().join(format!("bench_eval_{}.json", std::process::id()));
    let out = banca_command()
        .args([
            "bench",
            "--scenarios",
            "e",
            "--eval-jugadas",
            "1003",
            "--no-pgbench",
            "--duration",
            "1",
            "--json",
        ])
        .arg(&json)
        .env("DATABASE_URL", admin_url())
        .env("NODE_ENV", "development")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("bench PASS"), "{stdout}");
    assert!(stdout.contains("e: 1003 jugadas / 201 tickets"), "{stdout}");

    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let _ = std::fs::remove_file(&json);
    let e = &report["evaluations"][0];
    assert_eq!(e["pass"], true, "{e}");
    assert_eq!(e["jugadas"], 1003);
    assert_eq!(e["tickets"], 201);
    assert_eq!(e["status_after_revert"], "OPEN");
    for key in ["evaluate_ms", "revert_ms", "reevaluate_ms"] {
        assert!(e[key].as_f64().unwrap() > 0.0, "{key}: {e}");
    }
    let again = &e["again"];
    assert_eq!(again["payout_tickets"], again["payout_recomputed"]);
    assert_eq!(again["payout_jugadas"], again["payout_recomputed"]);
    assert!(again["winning_jugadas"].as_i64().unwrap() > 0, "{again}");
    assert_eq!(again["tickets_evaluated"], 201);
    assert_eq!(report["scenarios"].as_array().unwrap().len(), 0);
    assert_eq!(report["passed"], true);
}
