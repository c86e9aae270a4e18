//! A simulated month of a banca against a real PostgreSQL (issue 9): thirty days of sorteos with
//! a few thousand tickets, every result entered through the API, payments and collections,
//! settlement on a fixed clock, a revert after settlement and a late payment into a closed
//! month. Every open day's statement equals an independent recomputation, the balance chains day
//! to day across the month end, no settled row changes, the corrections are adjustments, and
//! `reconcile` finds nothing.

use std::collections::BTreeMap;
use std::sync::Arc;

use banca::jobs::{accounts, JobCtx, JobSettings, Trigger};
use banca::services::{reconcile, statements};
use chrono::{DateTime, NaiveDate, Utc};
use reqwest::{Method, StatusCode};
use rust_decimal::Decimal;
use serde_json::json;
use uuid::Uuid;

use crate::fixtures::{call, exec, scalar, shop};

/// (sales, payouts, vendedor commission, paid, collected) per vendedor and day, from the raw
/// tables with queries of their own (not the rebuild's).
type Truth = BTreeMap<(Uuid, NaiveDate), (Decimal, Decimal, Decimal, Decimal, Decimal)>;

async fn truth(pool: &sqlx::PgPool) -> Truth {
    let mut t: Truth = BTreeMap::new();
    let sales: Vec<(Uuid, NaiveDate, Decimal, Decimal)> = sqlx::query_as(
        "SELECT t.vendedor_id, t.business_date, sum(j.amount),
                COALESCE(sum(j.commission_amount) FILTER (WHERE j.commission_origin = 'USER'), 0)
         FROM tickets t JOIN jugadas j ON j.ticket_id = t.id
         JOIN sorteos s ON s.id = t.sorteo_id
         WHERE s.status = 'EVALUATED' AND t.status <> 'CANCELLED'
         GROUP BY 1, 2",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    for (v, d, s, c) in sales {
        let e = t.entry((v, d)).or_default();
        e.0 += s;
        e.2 += c;
    }
    let prizes: Vec<(Uuid, NaiveDate, Decimal)> = sqlx::query_as(
        "SELECT t.vendedor_id, t.business_date, sum(t.total_payout)
         FROM tickets t JOIN sorteos s ON s.id = t.sorteo_id
         WHERE s.status = 'EVALUATED' GROUP BY 1, 2",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    for (v, d, p) in prizes {
        t.entry((v, d)).or_default().1 += p;
    }
    let moves: Vec<(Uuid, NaiveDate, Decimal, Decimal)> = sqlx::query_as(
        "SELECT vendedor_id, date,
                COALESCE(sum(amount) FILTER (WHERE type = 'payment'), 0),
                COALESCE(sum(amount) FILTER (WHERE type = 'collection'), 0)
         FROM account_payments WHERE NOT is_reversed GROUP BY 1, 2",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    for (v, d, p, c) in moves {
        let e = t.entry((v, d)).or_default();
        e.3 += p;
        e.4 += c;
    }
    t
}

/// Drains statement rebuilds until none is left.
async fn settle_statements(pool: &sqlx::PgPool) {
    for _ in 0..200 {
        statements::drain(pool).await.unwrap();
        let left: i64 = sqlx::query_scalar("SELECT count(*) FROM statement_refreshes")
            .fetch_one(pool)
            .await
            .unwrap();
        if left == 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("statement rebuilds left");
}

type Row = (
    NaiveDate,
    Decimal,
    Decimal,
    Decimal,
    Decimal,
    Decimal,
    Decimal,
    Decimal,
    Decimal,
    bool,
);

/// The vendedor statements of `v` by day: (date, sales, payouts, vendedor commission, balance,
/// paid, collected, adjustments, remaining, settled).
async fn rows(pool: &sqlx::PgPool, v: Uuid) -> Vec<Row> {
    sqlx::query_as(
        "SELECT date, total_sales, total_payouts, vendedor_commission, balance, total_paid,
                total_collected, total_adjustments, remaining_balance, settled_at IS NOT NULL
         FROM account_statements WHERE dimension = 'vendedor' AND entity_id = $1
         ORDER BY date",
    )
    .bind(v)
    .fetch_all(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_simulated_month_adds_up_to_the_cent() {
    let s = shop().await;
    let w = &s.w;
    let pool = w.app.state.pools.primary().clone();
    let sellers: Vec<(Uuid, Uuid)> = vec![
        (w.a.vendedores[0].user_id, w.a.ventanas[0]),
        (w.a.vendedores[1].user_id, w.a.ventanas[1]),
    ];
    // Thirty daily sorteos at 18:00 Costa Rica (00:00Z the next day), 20 Oct – 18 Nov 2026.
    exec(
        w,
        &format!(
            "INSERT INTO sorteos (loteria_id, banca_id, name, scheduled_at, status)
             SELECT '{l}', '{b}', 'TICA ' || g, timestamptz '2026-10-21 00:00:00+00' + (g || ' days')::interval,
                    'OPEN'
             FROM generate_series(0, 29) g",
            l = s.loteria,
            b = w.a.banca_id
        ),
    )
    .await;
    // 60 tickets per sorteo alternating between the two sellers, 3 lines each, amounts with
    // cents; the first seller earns a 10 % own commission (USER), listeros 5 %.
    exec(
        w,
        &format!(
            "INSERT INTO tickets (id, ticket_number, business_date, banca_id, loteria_id, sorteo_id,
                                  ventana_id, vendedor_id, total_amount, created_at)
             SELECT gen_random_uuid(), 'M' || to_char(s.scheduled_at, 'MMDD') || '-' || g,
                    (s.scheduled_at AT TIME ZONE 'America/Costa_Rica')::date, s.banca_id,
                    s.loteria_id, s.id,
                    CASE WHEN g % 2 = 0 THEN '{w0}'::uuid ELSE '{w1}'::uuid END,
                    CASE WHEN g % 2 = 0 THEN '{v0}'::uuid ELSE '{v1}'::uuid END,
                    30, s.scheduled_at - interval '2 hours'
             FROM sorteos s, generate_series(1, 60) g WHERE s.name LIKE 'TICA %' AND s.id <> '{own}'",
            w0 = sellers[0].1,
            w1 = sellers[1].1,
            v0 = sellers[0].0,
            v1 = sellers[1].0,
            own = s.sorteo
        ),
    )
    .await;
    exec(
        w,
        &format!(
            "INSERT INTO jugadas (id, ticket_id, sorteo_id, banca_id, position, type, number,
                                  amount, final_multiplier_x, multiplier_id, commission_percent,
                                  commission_amount, commission_origin, listero_commission_amount)
             SELECT gen_random_uuid(), t.id, t.sorteo_id, t.banca_id, p, 'NUMERO',
                    lpad(((abs(hashtext(t.id::text)) + p * 31) % 100)::text, 2, '0'),
                    a.amount, 90, '{base}',
                    CASE WHEN t.vendedor_id = '{v0}' THEN 10 ELSE 0 END,
                    CASE WHEN t.vendedor_id = '{v0}' THEN round(a.amount * 0.10, 2) ELSE 0 END,
                    CASE WHEN t.vendedor_id = '{v0}' THEN 'USER' ELSE 'VENTANA' END,
                    round(a.amount * 0.05, 2)
             FROM tickets t, generate_series(0, 2) p,
                  LATERAL (SELECT (5 + (abs(hashtext(t.id::text || p)) % 1000) / 100.0)::numeric(14,2) AS amount) a
             WHERE t.ticket_number LIKE 'M%';
             UPDATE tickets t SET total_amount = x.s FROM (
                 SELECT ticket_id, sum(amount) AS s FROM jugadas GROUP BY 1) x
             WHERE x.ticket_id = t.id AND t.ticket_number LIKE 'M%';",
            base = s.base,
            v0 = sellers[0].0,
        ),
    )
    .await;
    let sorteos: Vec<(Uuid, i32)> = sqlx::query_as(
        "SELECT id, row_number() OVER (ORDER BY scheduled_at)::int4 FROM sorteos
         WHERE name LIKE 'TICA %' AND id <> $1 ORDER BY scheduled_at",
    )
    .bind(s.sorteo)
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(sorteos.len(), 30);
    let tickets: i64 = scalar(w, "SELECT count(*) FROM tickets").await;
    assert_eq!(tickets, 1800);
    // Every result through the API.
    for (id, i) in &sorteos {
        let winning = format!("{:02}", (i * 37) % 100);
        let (st, v) = call(
            &w.app,
            Method::PATCH,
            &format!("/api/v1/sorteos/{id}/evaluate"),
            Some(&w.admin.token),
            Some(&json!({ "winningNumber": winning })),
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{v}");
    }
    // Movements (their routes are tested elsewhere): payments and collections of both sellers.
    exec(
        w,
        &format!(
            "INSERT INTO account_payments (date, month, banca_id, ventana_id, vendedor_id, amount,
                                           type, method, created_at)
             SELECT d, to_char(d, 'YYYY-MM'), '{b}', '{w0}', '{v0}', 150.25,
                    CASE WHEN extract(day FROM d)::int % 2 = 0 THEN 'payment' ELSE 'collection' END,
                    'cash', d + interval '20 hours'
             FROM generate_series(date '2026-10-22', date '2026-11-17', interval '5 days') d;
             INSERT INTO account_payments (date, month, banca_id, ventana_id, vendedor_id, amount,
                                           type, method, created_at)
             VALUES ('2026-11-02', '2026-11', '{b}', '{w1}', '{v1}', 999.99, 'collection',
                     'transfer', '2026-11-02 20:00+00');
             INSERT INTO statement_refreshes (banca_id, from_date, reason)
             VALUES ('{b}', '2026-10-20', 'simulated movements');",
            b = w.a.banca_id,
            w0 = sellers[0].1,
            v0 = sellers[0].0,
            w1 = sellers[1].1,
            v1 = sellers[1].0,
        ),
    )
    .await;
    settle_statements(&pool).await;

    // Settlement on a fixed clock: 20 Nov (Costa Rica noon), age 7 → every day before the 13th.
    let ctx = |now: DateTime<Utc>, params| JobCtx {
        pool: pool.clone(),
        now,
        trigger: Trigger::Manual,
        requested_by: Some(w.admin.user_id),
        params,
        settings: Arc::new(JobSettings {
            business_tz: w.app.state.config.business_timezone,
            activity_log_retention_days: 45,
        }),
    };
    let now = DateTime::parse_from_rfc3339("2026-11-20T18:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    let out = accounts::settlement(ctx(now, json!({}))).await.unwrap();
    assert!(out["settledCount"].as_i64().unwrap() > 40, "{out}");
    let settled_snapshot: String = scalar(
        w,
        "SELECT string_agg(row(s.*)::text, ',' ORDER BY id) FROM account_statements s
         WHERE settled_at IS NOT NULL",
    )
    .await;

    // A revert after settlement (the sorteo of 25 Oct) and a late payment into closed October.
    let (reverted, _) = sorteos[5];
    let (st, v) = call(
        &w.app,
        Method::PATCH,
        &format!("/api/v1/sorteos/{reverted}/revert-evaluation"),
        Some(&w.admin.token),
        Some(&json!({ "reason": "resultado mal digitado" })),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    exec(
        w,
        &format!(
            "INSERT INTO account_payments (date, month, banca_id, ventana_id, vendedor_id, amount,
                                           type, method)
             VALUES ('2026-10-28', '2026-10', '{b}', '{w1}', '{v1}', 77.70, 'payment', 'cash');
             INSERT INTO statement_refreshes (banca_id, from_date, reason)
             VALUES ('{b}', '2026-10-28', 'late payment');",
            b = w.a.banca_id,
            w1 = sellers[1].1,
            v1 = sellers[1].0,
        ),
    )
    .await;
    settle_statements(&pool).await;
    let out = accounts::monthly_closing(ctx(now, json!({"month": "2026-10"})))
        .await
        .unwrap();
    assert!(out["closedCount"].as_i64().unwrap() >= 5, "{out}");

    // No settled row changed.
    let settled_now: String = scalar(
        w,
        "SELECT string_agg(row(s.*)::text, ',' ORDER BY id) FROM account_statements s
         WHERE settled_at IS NOT NULL",
    )
    .await;
    assert_eq!(settled_now, settled_snapshot);
    // The corrections are adjustments: the revert (seller 0 and 1 on 25 Oct) and the late
    // payment (seller 1 on 28 Oct).
    let adjustments: i64 = scalar(
        w,
        "SELECT count(*) FROM statement_adjustments WHERE dimension = 'vendedor'",
    )
    .await;
    assert_eq!(adjustments, 3);

    let truth = truth(&pool).await;
    for (v, _) in &sellers {
        let rows = rows(&pool, *v).await;
        assert!(rows.len() >= 30, "{} rows", rows.len());
        let mut prev_remaining = Decimal::ZERO;
        let mut true_total = Decimal::ZERO;
        for r in &rows {
            let (d, sales, payouts, comm, balance, paid, collected, adj, remaining, settled) = *r;
            let t = truth.get(&(*v, d)).copied().unwrap_or_default();
            // The balance chains day to day (and across the month end).
            assert_eq!(
                remaining,
                prev_remaining + balance + paid - collected + adj,
                "{v} {d}"
            );
            prev_remaining = remaining;
            assert_eq!(balance, sales - payouts - comm, "{v} {d}");
            true_total += t.0 - t.1 - t.2 + t.3 - t.4;
            if !settled {
                // An open day shows exactly what the tickets and movements say.
                assert_eq!((sales, payouts, comm, paid, collected), t, "{v} {d}");
            }
        }
        // Settled days keep their figures, adjustments carry the corrections: the final balance
        // is the true total to the cent.
        assert_eq!(prev_remaining, true_total, "{v}");
    }
    // The whole-banca statements too.
    let banca_final: Decimal = scalar(
        w,
        &format!(
            "SELECT remaining_balance FROM account_statements WHERE dimension = 'banca'
             AND entity_id = '{}' ORDER BY date DESC LIMIT 1",
            w.a.banca_id
        ),
    )
    .await;
    let banca_truth: Decimal = scalar(
        w,
        "SELECT (SELECT COALESCE(sum(j.amount - j.listero_commission_amount), 0)
                     FROM jugadas j JOIN tickets t ON t.id = j.ticket_id
                     JOIN sorteos s ON s.id = t.sorteo_id WHERE s.status = 'EVALUATED')
                  - (SELECT COALESCE(sum(t.total_payout), 0) FROM tickets t
                     JOIN sorteos s ON s.id = t.sorteo_id WHERE s.status = 'EVALUATED')
                  + (SELECT COALESCE(sum(amount) FILTER (WHERE type = 'payment'), 0)
                          - COALESCE(sum(amount) FILTER (WHERE type = 'collection'), 0)
                     FROM account_payments WHERE NOT is_reversed
                       AND vendedor_id IS NULL AND ventana_id IS NULL)",
    )
    .await;
    assert_eq!(banca_final, banca_truth);

    // Reconcile: nothing to report over the whole period.
    let report = reconcile::reconcile(
        &pool,
        NaiveDate::from_ymd_opt(2026, 10, 1).unwrap(),
        NaiveDate::from_ymd_opt(2026, 12, 31).unwrap(),
        |_, _, _, _, _| {},
    )
    .await
    .unwrap();
    // Banca B has only the settlement's carry-forward rows.
    assert_eq!(report.bancas, 2);
    assert!(report.rows_checked > 90);
    assert!(report.differences.is_empty(), "{:?}", report.differences);

    // A manual edit is found (and only reported).
    exec(
        w,
        "UPDATE account_statements SET total_sales = total_sales + 1
         WHERE id = (SELECT id FROM account_statements WHERE settled_at IS NULL
                     AND dimension = 'ventana' ORDER BY date LIMIT 1)",
    )
    .await;
    let report = reconcile::reconcile(
        &pool,
        NaiveDate::from_ymd_opt(2026, 10, 1).unwrap(),
        NaiveDate::from_ymd_opt(2026, 12, 31).unwrap(),
        |_, _, _, _, _| {},
    )
    .await
    .unwrap();
    assert_eq!(report.differences.len(), 1, "{:#?}", report.differences);
    assert_eq!(report.differences[0].field, "totalSales");
}

#[tokio::test]
async fn the_reconcile_command_reports_differences_and_exits_1() {
    use crate::common::{banca_command, TestDb};
    let db = TestDb::migrated().await;
    let run = || {
        let mut c = banca_command();
        c.args(["reconcile", "--from", "2026-11-01", "--to", "2026-11-30"])
            .envs(db.app_env());
        c.output().unwrap()
    };
    let out = run();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout)
        .contains("reconcile 2026-11-01..2026-11-30: 0 bancas, 0 rows, 0 differences"));
    // A statement nothing explains: reported, exit 1, and left as it was.
    let mut conn = db.connect().await;
    sqlx::raw_sql(
        "INSERT INTO bancas (id, name, code) VALUES ('00000000-0000-0000-0000-0000000000b1', 'B', 'B1');
         INSERT INTO account_statements (date, month, dimension, banca_id, total_sales, balance,
                                         remaining_balance, accumulated_balance)
         VALUES ('2026-11-10', '2026-11', 'banca', '00000000-0000-0000-0000-0000000000b1', 10, 10,
                 10, 10);",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let out = run();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("totalSales: stored 10.00 recomputed 0.00"),
        "{stdout}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("» [1/1] banca"));
    let sales: rust_decimal::Decimal =
        sqlx::query_scalar("SELECT total_sales FROM account_statements")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!(sales, Decimal::from(10), "reconcile writes nothing");
}
