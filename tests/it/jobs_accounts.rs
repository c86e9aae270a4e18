//! The accounts jobs on a fixed clock against a real PostgreSQL: settlement closes old
//! statements (never those a pending rebuild may still change) and carries balances forward;
//! the monthly closing snapshots a month; both are idempotent; the execute route.

use std::sync::Arc;

use banca::jobs::{accounts, JobCtx, JobSettings, Trigger};
use chrono::{DateTime, Utc};
use reqwest::{Method, StatusCode};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::fixtures::{self, call, exec, scalar, World};

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn ctx(w: &World, now: DateTime<Utc>, trigger: Trigger, params: Value) -> JobCtx {
    JobCtx {
        pool: w.app.state.pools.primary().clone(),
        now,
        trigger,
        requested_by: Some(w.admin.user_id),
        params,
        settings: Arc::new(JobSettings {
            business_tz: w.app.state.config.business_timezone,
            activity_log_retention_days: 45,
        }),
    }
}

/// A vendedor statement of `who` on `day` with `sales` and `remaining`.
async fn statement(
    w: &World,
    banca: Uuid,
    ventana: Uuid,
    who: Uuid,
    day: &str,
    sales: i64,
    remaining: i64,
) {
    exec(
        w,
        &format!(
            "INSERT INTO account_statements (date, month, dimension, banca_id, ventana_id,
                 vendedor_id, total_sales, vendedor_commission, balance, total_paid,
                 total_collected, remaining_balance, accumulated_balance, ticket_count)
             VALUES ('{day}', to_char('{day}'::date, 'YYYY-MM'), 'vendedor', '{banca}',
                     '{ventana}', '{who}', {sales}, {sales} / 10, {sales} - {sales} / 10, 5, 2,
                     {remaining}, {remaining}, 3)"
        ),
    )
    .await;
}

#[tokio::test]
async fn settlement_closes_old_statements_and_carries_balances_forward() {
    let w = fixtures::world().await;
    let (a, b) = (&w.a, &w.b);
    let a1 = a.vendedores[0].user_id;
    statement(&w, a.banca_id, a.ventanas[0], a1, "2026-11-15", 100, 10).await;
    statement(&w, a.banca_id, a.ventanas[0], a1, "2026-11-16", 100, 20).await;
    statement(&w, a.banca_id, a.ventanas[0], a1, "2026-11-23", 100, 50).await;
    let b1 = b.vendedores[0].user_id;
    statement(&w, b.banca_id, b.ventanas[0], b1, "2026-11-15", 100, 70).await;
    // Banca B's statements may still change from the 13th: its old row is left alone.
    exec(
        &w,
        &format!(
            "INSERT INTO statement_refreshes (banca_id, from_date, reason)
             VALUES ('{}', '2026-11-13', 'test')",
            b.banca_id
        ),
    )
    .await;
    // 18:00Z = noon of the 25th in Costa Rica; settlement age 7 days → before the 18th.
    let now = at("2026-11-25T18:00:00Z");

    // A scheduled run while the configuration is disabled does nothing.
    let out = accounts::settlement(ctx(&w, now, Trigger::Schedule, json!({})))
        .await
        .unwrap();
    assert_eq!(out, json!({"skipped": "disabled"}));

    let out = accounts::settlement(ctx(&w, now, Trigger::Manual, json!({})))
        .await
        .unwrap();
    assert_eq!(out["settledCount"], 2, "{out}");
    assert_eq!(out["skippedCount"], 1, "{out}");
    assert_eq!(out["cutoffDate"], "2026-11-18");
    let settled: Vec<(String, bool, bool, Option<Uuid>)> = sqlx::query_as(
        "SELECT to_char(date, 'MM-DD') || ':' || entity_id::text, is_settled, can_edit, settled_by
         FROM account_statements WHERE settled_at IS NOT NULL ORDER BY date",
    )
    .fetch_all(&mut w.db.connect().await)
    .await
    .unwrap();
    assert_eq!(
        settled,
        vec![
            (format!("11-15:{a1}"), true, false, Some(w.admin.user_id)),
            (format!("11-16:{a1}"), true, false, Some(w.admin.user_id)),
        ]
    );
    // Carry-forward: every active banca, ventana and vendedor of both bancas has a row today,
    // carrying its latest balance (0 without history).
    let cf = &out["carryForward"];
    assert_eq!(cf["date"], "2026-11-25");
    assert_eq!(cf["createdCount"], 10, "{out}");
    let carried: Decimal = scalar(
        &w,
        &format!(
            "SELECT remaining_balance FROM account_statements
             WHERE date = '2026-11-25' AND dimension = 'vendedor' AND entity_id = '{a1}'"
        ),
    )
    .await;
    assert_eq!(carried, Decimal::from(50));
    let carried_b: Decimal = scalar(
        &w,
        &format!(
            "SELECT remaining_balance FROM account_statements
             WHERE date = '2026-11-25' AND dimension = 'vendedor' AND entity_id = '{b1}'"
        ),
    )
    .await;
    assert_eq!(carried_b, Decimal::from(70));

    // Again: nothing more to settle or create.
    let before: String = scalar(
        &w,
        "SELECT string_agg(row(s.*)::text, ',' ORDER BY id) FROM account_statements s",
    )
    .await;
    let out = accounts::settlement(ctx(&w, now, Trigger::Manual, json!({})))
        .await
        .unwrap();
    assert_eq!(out["settledCount"], 0);
    assert_eq!(out["carryForward"]["createdCount"], 0);
    assert_eq!(out["carryForward"]["skippedCount"], 10);
    let after: String = scalar(
        &w,
        "SELECT string_agg(row(s.*)::text, ',' ORDER BY id) FROM account_statements s",
    )
    .await;
    assert_eq!(after, before);
}

#[tokio::test]
async fn monthly_closing_snapshots_the_previous_month_and_reruns_identically() {
    let w = fixtures::world().await;
    let a = &w.a;
    let a1 = a.vendedores[0].user_id;
    statement(&w, a.banca_id, a.ventanas[0], a1, "2026-10-03", 100, 90).await;
    statement(&w, a.banca_id, a.ventanas[0], a1, "2026-10-20", 300, 360).await;
    statement(&w, a.banca_id, a.ventanas[0], a1, "2026-11-02", 50, 400).await;
    // 08:00Z on the 1st = 02:00 in Costa Rica: closes October.
    let now = at("2026-11-01T08:00:00Z");
    let out = accounts::monthly_closing(ctx(&w, now, Trigger::Schedule, json!({})))
        .await
        .unwrap();
    assert_eq!(out["month"], "2026-10");
    assert_eq!(out["closedCount"], 1);
    let row = || async {
        sqlx::query_as::<
            _,
            (
                String,
                Decimal,
                Decimal,
                Decimal,
                Decimal,
                Decimal,
                Decimal,
                i32,
            ),
        >(
            "SELECT dimension, total_sales, total_commission, total_paid, total_collected,
                    closing_balance, remaining_balance, ticket_count
             FROM monthly_closing_balances WHERE closing_month = '2026-10'",
        )
        .fetch_one(&mut w.db.connect().await)
        .await
        .unwrap()
    };
    // sales 400, commission 40, paid 10, collected 4: 400 − 0 − 40 − 4 + 10 = 366.
    let first = row().await;
    assert_eq!(
        first,
        (
            "vendedor".into(),
            Decimal::from(400),
            Decimal::from(40),
            Decimal::from(10),
            Decimal::from(4),
            Decimal::from(366),
            Decimal::from(360),
            6
        )
    );
    let again = accounts::monthly_closing(ctx(&w, now, Trigger::Schedule, json!({})))
        .await
        .unwrap();
    assert_eq!(again["closedCount"], 1);
    assert_eq!(row().await, first);
    let n: i64 = scalar(&w, "SELECT count(*) FROM monthly_closing_balances").await;
    assert_eq!(n, 1);
    // A chosen month; a malformed one fails the run.
    let out = accounts::monthly_closing(ctx(&w, now, Trigger::Manual, json!({"month": "2026-11"})))
        .await
        .unwrap();
    assert_eq!(out["month"], "2026-11");
    assert!(
        accounts::monthly_closing(ctx(&w, now, Trigger::Manual, json!({"month": "2026-13"})))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn the_execute_route_runs_the_settlement_for_an_admin_only() {
    let w = fixtures::world().await;
    let path = "/api/v1/account-statements/execute";
    for who in w.a.logins() {
        let (st, v) = call(&w.app, Method::POST, path, Some(&who.token), None).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    }
    let (st, v) = call(&w.app, Method::POST, path, Some(&w.admin.token), None).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["settledCount"], 0);
    assert_eq!(v["data"]["carryForward"]["createdCount"], 10);
    assert!(v["data"]["runId"].is_number());
    let (st, v) = call(
        &w.app,
        Method::GET,
        "/api/v1/account-statements/auto-status",
        Some(&w.a.vendedores[0].token),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert!(v["data"]["lastExecution"].is_string(), "{v}");
}
