//! Money after a result against a real PostgreSQL (issue 7; domain-money §1.5 aggregates, §5.2
//! formulas, §5.3 triggers): evaluate/revert write per-number daily sales in their transaction
//! and queue a statement rebuild that survives until a refresher has done it; statements carry
//! their balance from day to day; concurrent refreshers agree with one.

use std::time::{Duration, Instant};

use banca::services::statements;
use futures::future::join_all;
use reqwest::{Method, StatusCode};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::evaluation::{dec, evaluate, numero, reventado, revert, roja, standard_sales};
use crate::fixtures::{self, call, exec, scalar, shop, Login, Shop};

/// Commission policies: vendedor A1 earns 10 % (its own policy), both ventanas of banca A 5 %.
async fn policies(s: &Shop) {
    let w = &s.w;
    exec(
        w,
        &format!(
            "UPDATE users SET commission_policy_json =
                 '{{\"version\":1,\"defaultPercent\":10,\"rules\":[]}}' WHERE id = '{}';
             UPDATE ventanas SET commission_policy_json =
                 '{{\"version\":1,\"defaultPercent\":5,\"rules\":[]}}' WHERE banca_id = '{}'",
            w.a.vendedores[0].user_id, w.a.banca_id
        ),
    )
    .await;
}

/// Runs the refresher's drain on the test database (the app's own refresher may run too).
async fn drain(s: &Shop) -> statements::Drained {
    statements::drain(s.w.app.state.pools.primary())
        .await
        .expect("drain")
}

/// Drains until no rebuild request is left (the server's refresher may hold one meanwhile;
/// its rebuild commits with the request's deletion).
async fn settle(s: &Shop) {
    let until = Instant::now() + Duration::from_secs(20);
    loop {
        drain(s).await;
        if queued(s).await == 0 {
            return;
        }
        assert!(Instant::now() < until, "rebuild requests left in the queue");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn queued(s: &Shop) -> i64 {
    scalar(&s.w, "SELECT count(*) FROM statement_refreshes").await
}

/// `(sales, payouts, listero, vendedor commission, balance, paid, collected, remaining,
/// tickets)` of one statement row.
type Figures = (
    Decimal,
    Decimal,
    Decimal,
    Decimal,
    Decimal,
    Decimal,
    Decimal,
    Decimal,
    i32,
);

async fn figures(s: &Shop, dimension: &str, entity: Uuid, day: &str) -> Option<Figures> {
    sqlx::query_as(
        "SELECT total_sales, total_payouts, listero_commission, vendedor_commission, balance,
                total_paid, total_collected, remaining_balance, ticket_count
         FROM account_statements WHERE dimension = $1 AND entity_id = $2 AND date = $3::date",
    )
    .bind(dimension)
    .bind(entity)
    .bind(day)
    .fetch_optional(&mut s.w.db.connect().await)
    .await
    .unwrap()
}

fn f(v: [&str; 8], tickets: i32) -> Figures {
    (
        dec(v[0]),
        dec(v[1]),
        dec(v[2]),
        dec(v[3]),
        dec(v[4]),
        dec(v[5]),
        dec(v[6]),
        dec(v[7]),
        tickets,
    )
}

/// Every statement and per-number row, without ids and timestamps.
async fn money_snapshot(s: &Shop) -> String {
    scalar(
        &s.w,
        "SELECT COALESCE((SELECT string_agg(row(date, month, dimension, banca_id, ventana_id,
                     vendedor_id, total_sales, total_payouts, listero_commission,
                     vendedor_commission, balance, total_paid, total_collected, remaining_balance,
                     accumulated_balance, ticket_count, is_settled)::text, ',' ORDER BY dimension,
                     entity_id, date) FROM account_statements), '') || '/' ||
                COALESCE((SELECT string_agg(row(n.*)::text, ',' ORDER BY sorteo_id, ventana_id,
                     vendedor_id, number, type) FROM daily_number_sales n), '')",
    )
    .await
}

/// The business day of the shop's sorteo.
async fn sorteo_day(s: &Shop, sorteo: Uuid) -> String {
    scalar(
        &s.w,
        &format!(
            "SELECT to_char((scheduled_at AT TIME ZONE 'America/Costa_Rica')::date, 'YYYY-MM-DD')
             FROM sorteos WHERE id = '{sorteo}'"
        ),
    )
    .await
}

#[tokio::test]
async fn evaluation_writes_number_sales_and_statements_that_revert_returns_to_zero() {
    let s = shop().await;
    let w = &s.w;
    policies(&s).await;
    standard_sales(&s).await;
    let roja = roja(&s).await;
    let day = sorteo_day(&s, s.sorteo).await;

    // A refused evaluation queues nothing (it is part of the rolled-back transaction).
    let (st, _) = evaluate(&s, &w.admin, json!({"winningNumber": "7"})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(queued(&s).await, 0);

    let (st, v) = evaluate(
        &s,
        &w.a.banca_user,
        json!({"winningNumber": "07", "extraMultiplierId": roja}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");

    // Per-number sales, written by the evaluation itself; the cancelled ticket is not there.
    let numbers: Vec<(String, String, Decimal, i32, i32)> = sqlx::query_as(
        "SELECT number, type::text, sum(total_amount), sum(ticket_count)::int4,
                sum(jugada_count)::int4
         FROM daily_number_sales WHERE sorteo_id = $1 GROUP BY number, type ORDER BY 1, 2",
    )
    .bind(s.sorteo)
    .fetch_all(&mut w.db.connect().await)
    .await
    .unwrap();
    assert_eq!(
        numbers,
        vec![
            ("07".into(), "NUMERO".into(), dec("112.35"), 2, 2),
            ("07".into(), "REVENTADO".into(), dec("40.55"), 2, 2),
            ("42".into(), "NUMERO".into(), dec("63"), 3, 3),
            ("42".into(), "REVENTADO".into(), dec("13"), 2, 2),
        ]
    );

    settle(&s).await;
    let [v0, v1] = [&w.a.vendedores[0], &w.a.vendedores[1]];
    // A1: 190 sold, prize 100 × 90 + 40 × 2.5 = 9100, own commission 10 % = 19, listero 5 %.
    assert_eq!(
        figures(&s, "vendedor", v0.user_id, &day).await,
        Some(f(
            ["190", "9100", "9.50", "19", "-8929", "0", "0", "-8929"],
            1
        ))
    );
    // A2: no own policy, so no vendedor commission; 12.35 × 90 + 0.55 × 2.5 → 1112.88.
    assert_eq!(
        figures(&s, "vendedor", v1.user_id, &day).await,
        Some(f(
            ["38.90", "1112.88", "1.95", "0", "-1073.98", "0", "0", "-1073.98"],
            2
        ))
    );
    assert_eq!(
        figures(&s, "ventana", w.a.ventanas[0], &day).await,
        Some(f(
            ["190", "9100", "9.50", "19", "-8919.50", "0", "0", "-8919.50"],
            1
        ))
    );
    assert_eq!(
        figures(&s, "ventana", w.a.ventanas[1], &day).await,
        Some(f(
            ["38.90", "1112.88", "1.95", "0", "-1075.93", "0", "0", "-1075.93"],
            2
        ))
    );
    assert_eq!(
        figures(&s, "banca", w.a.banca_id, &day).await,
        Some(f(
            ["228.90", "10212.88", "11.45", "19", "-9995.43", "0", "0", "-9995.43"],
            3
        ))
    );
    let other_banca: i64 = scalar(
        w,
        &format!(
            "SELECT count(*) FROM account_statements WHERE banca_id <> '{}'",
            w.a.banca_id
        ),
    )
    .await;
    assert_eq!(other_banca, 0, "banca B has no statements");
    let first = money_snapshot(&s).await;

    // Revert: number sales are removed with the result; statements go back to zero (the rows
    // stay, carrying a zero balance).
    let (st, v) = revert(&s, &w.admin, json!({})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let left: i64 = scalar(w, "SELECT count(*) FROM daily_number_sales").await;
    assert_eq!(left, 0);
    settle(&s).await;
    let zero = f(["0", "0", "0", "0", "0", "0", "0", "0"], 0);
    for (dim, id) in [
        ("vendedor", v0.user_id),
        ("vendedor", v1.user_id),
        ("ventana", w.a.ventanas[0]),
        ("ventana", w.a.ventanas[1]),
        ("banca", w.a.banca_id),
    ] {
        assert_eq!(figures(&s, dim, id, &day).await, Some(zero), "{dim}");
    }

    // Evaluate again: the same money as the first time.
    let (st, v) = evaluate(
        &s,
        &w.a.banca_user,
        json!({"winningNumber": "07", "extraMultiplierId": roja}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    settle(&s).await;
    assert_eq!(money_snapshot(&s).await, first);
}

/// Sells `jugadas` on `sorteo` as `who`.
async fn sell_on(s: &Shop, sorteo: Uuid, who: &Login, jugadas: Value) {
    let body = json!({"loteriaId": s.loteria, "sorteoId": sorteo, "jugadas": jugadas});
    let (st, v) = call(
        &s.w.app,
        Method::POST,
        "/api/v1/tickets",
        Some(&who.token),
        Some(&body),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
}

#[tokio::test]
async fn balances_carry_forward_and_a_revert_moves_every_later_day() {
    let s = shop().await;
    let w = &s.w;
    let seller = &w.a.vendedores[1];
    let day1 = sorteo_day(&s, s.sorteo).await;
    let later = fixtures::sorteo(
        &w.app,
        s.loteria,
        chrono::Utc::now() + chrono::Duration::days(3),
        "OPEN",
    )
    .await;
    let day3 = sorteo_day(&s, later).await;
    let day2: String = scalar(
        w,
        &format!("SELECT to_char('{day1}'::date + 1, 'YYYY-MM-DD')"),
    )
    .await;
    // Day 1: 100 sold, loses. Day 3: 50 sold, wins 50 × 90.
    sell_on(&s, s.sorteo, seller, json!([numero("11", 100.0)])).await;
    sell_on(&s, later, seller, json!([numero("22", 50.0)])).await;
    let (st, v) = evaluate(&s, &w.admin, json!({"winningNumber": "99"})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let path = format!("/api/v1/sorteos/{later}/evaluate");
    let (st, v) = call(
        &w.app,
        Method::PATCH,
        &path,
        Some(&w.admin.token),
        Some(&json!({"winningNumber": "22"})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    // Day 2: the banca collects 30 from the seller (a movement; its routes are issue 9).
    exec(
        w,
        &format!(
            "INSERT INTO account_payments (date, month, banca_id, ventana_id, vendedor_id, amount,
                                           type, method)
             VALUES ('{day2}', to_char('{day2}'::date, 'YYYY-MM'), '{banca}', '{ventana}',
                     '{seller}', 30, 'collection', 'cash');
             INSERT INTO statement_refreshes (banca_id, from_date, reason)
             VALUES ('{banca}', '{day2}', 'test movement')",
            banca = w.a.banca_id,
            ventana = w.a.ventanas[1],
            seller = seller.user_id,
        ),
    )
    .await;
    settle(&s).await;
    let id = seller.user_id;
    assert_eq!(
        figures(&s, "vendedor", id, &day1).await,
        Some(f(["100", "0", "0", "0", "100", "0", "0", "100"], 1))
    );
    assert_eq!(
        figures(&s, "vendedor", id, &day2).await,
        Some(f(["0", "0", "0", "0", "0", "0", "30", "70"], 0))
    );
    assert_eq!(
        figures(&s, "vendedor", id, &day3).await,
        Some(f(["50", "4500", "0", "0", "-4450", "0", "0", "-4380"], 1))
    );

    // Reverting day 1 removes its 100 from every later balance.
    let (st, v) = revert(&s, &w.admin, json!({})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    settle(&s).await;
    assert_eq!(
        figures(&s, "vendedor", id, &day1).await,
        Some(f(["0", "0", "0", "0", "0", "0", "0", "0"], 0))
    );
    assert_eq!(
        figures(&s, "vendedor", id, &day2).await,
        Some(f(["0", "0", "0", "0", "0", "0", "30", "-30"], 0))
    );
    assert_eq!(
        figures(&s, "vendedor", id, &day3).await,
        Some(f(["50", "4500", "0", "0", "-4450", "0", "0", "-4480"], 1))
    );
    // A reversed movement no longer counts.
    exec(
        w,
        &format!(
            "UPDATE account_payments SET is_reversed = true;
             INSERT INTO statement_refreshes (banca_id, from_date, reason)
             VALUES ('{}', '{day2}', 'test reversal')",
            w.a.banca_id
        ),
    )
    .await;
    settle(&s).await;
    assert_eq!(
        figures(&s, "vendedor", id, &day3).await,
        Some(f(["50", "4500", "0", "0", "-4450", "0", "0", "-4450"], 1))
    );
}

#[tokio::test]
async fn the_servers_refresher_does_queued_rebuilds_and_concurrent_drains_agree() {
    let s = shop().await;
    let w = &s.w;
    standard_sales(&s).await;
    sell_on(
        &s,
        s.sorteo,
        &w.a.vendedores[0],
        json!([numero("07", 5.0), reventado("07", 5.0)]),
    )
    .await;
    let day = sorteo_day(&s, s.sorteo).await;
    let (st, v) = evaluate(&s, &w.admin, json!({"winningNumber": "07"})).await;
    assert_eq!(st, StatusCode::OK, "{v}");

    // Nobody calls drain here: the running server's refresher, woken by the evaluation, does it.
    let until = Instant::now() + Duration::from_secs(20);
    loop {
        if queued(&s).await == 0 && figures(&s, "banca", w.a.banca_id, &day).await.is_some() {
            break;
        }
        assert!(
            Instant::now() < until,
            "the server's refresher did not rebuild"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let once = money_snapshot(&s).await;

    // Many requests and five refreshers at once (the server's is a sixth): the same result,
    // and every request done.
    for _ in 0..20 {
        exec(
            w,
            &format!(
                "INSERT INTO statement_refreshes (banca_id, from_date, reason)
                 VALUES ('{}', '{day}'::date - 1, 'test burst')",
                w.a.banca_id
            ),
        )
        .await;
    }
    let runs = join_all((0..5).map(|_| drain(&s))).await;
    assert!(runs.iter().all(|d| d.failed == 0));
    settle(&s).await;
    assert_eq!(money_snapshot(&s).await, once);
}

#[tokio::test]
async fn closing_keeps_a_results_money_and_deleting_the_sorteo_takes_it_out_until_restored() {
    let s = shop().await;
    let w = &s.w;
    let seller = &w.a.vendedores[0];
    let day = sorteo_day(&s, s.sorteo).await;
    sell_on(&s, s.sorteo, seller, json!([numero("05", 20.0)])).await;
    let (st, v) = evaluate(&s, &w.admin, json!({"winningNumber": "05"})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    settle(&s).await;
    let money = Some(f(["20", "1800", "0", "0", "-1780", "0", "0", "-1780"], 1));
    assert_eq!(figures(&s, "banca", w.a.banca_id, &day).await, money);

    let base = format!("/api/v1/sorteos/{}", s.sorteo);
    let (st, v) = call(
        &w.app,
        Method::PATCH,
        &format!("{base}/close"),
        Some(&w.admin.token),
        Some(&json!({})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["status"], "CLOSED");
    exec(
        w,
        &format!(
            "INSERT INTO statement_refreshes (banca_id, from_date, reason)
             VALUES ('{}', '{day}', 'test close')",
            w.a.banca_id
        ),
    )
    .await;
    settle(&s).await;
    assert_eq!(
        figures(&s, "banca", w.a.banca_id, &day).await,
        money,
        "a closed sorteo keeps its result's money"
    );

    let (st, v) = call(
        &w.app,
        Method::DELETE,
        &base,
        Some(&w.admin.token),
        Some(&json!({})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    settle(&s).await;
    assert_eq!(
        figures(&s, "banca", w.a.banca_id, &day).await,
        Some(f(["0", "0", "0", "0", "0", "0", "0", "0"], 0))
    );

    let (st, v) = call(
        &w.app,
        Method::PATCH,
        &format!("{base}/restore"),
        Some(&w.admin.token),
        Some(&json!({})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    settle(&s).await;
    assert_eq!(figures(&s, "banca", w.a.banca_id, &day).await, money);
}

#[tokio::test]
async fn a_settled_statement_is_never_rewritten_by_a_rebuild() {
    let s = shop().await;
    let w = &s.w;
    let seller = &w.a.vendedores[0];
    let day = sorteo_day(&s, s.sorteo).await;
    sell_on(&s, s.sorteo, seller, json!([numero("05", 20.0)])).await;
    let (st, v) = evaluate(&s, &w.admin, json!({"winningNumber": "05"})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    settle(&s).await;
    // Settlement (the accounts issue's job) closes the vendedor's day.
    exec(
        w,
        &format!(
            "UPDATE account_statements SET settled_at = now(), is_settled = true, can_edit = false
             WHERE dimension = 'vendedor' AND entity_id = '{}'",
            seller.user_id
        ),
    )
    .await;
    let closed: String = scalar(
        w,
        "SELECT string_agg(row(s.*)::text, ',') FROM account_statements s
         WHERE dimension = 'vendedor' AND settled_at IS NOT NULL",
    )
    .await;
    let (st, v) = revert(&s, &w.admin, json!({})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    settle(&s).await;
    // The open rows of the same day followed the revert.
    assert_eq!(
        figures(&s, "banca", w.a.banca_id, &day).await,
        Some(f(["0", "0", "0", "0", "0", "0", "0", "0"], 0))
    );
    let after: String = scalar(
        w,
        "SELECT string_agg(row(s.*)::text, ',') FROM account_statements s
         WHERE dimension = 'vendedor' AND settled_at IS NOT NULL",
    )
    .await;
    assert_eq!(after, closed, "the settled row did not change");
    // The difference (the revert took away sales 20 and prize 1800: +1780) is booked as an
    // adjustment on the next open day, which carries it into the running balance.
    let adj: (String, String, Decimal) = sqlx::query_as(
        "SELECT to_char(settled_date, 'YYYY-MM-DD'), to_char(applied_date, 'YYYY-MM-DD'), amount
         FROM statement_adjustments WHERE dimension = 'vendedor'",
    )
    .fetch_one(&mut w.db.connect().await)
    .await
    .unwrap();
    let next: String = scalar(
        w,
        &format!("SELECT to_char('{day}'::date + 1, 'YYYY-MM-DD')"),
    )
    .await;
    assert_eq!(adj, (day.clone(), next.clone(), dec("1780")));
    let booked: (Decimal, Decimal) = sqlx::query_as(
        "SELECT total_adjustments, remaining_balance FROM account_statements
         WHERE dimension = 'vendedor' AND date = $1::date",
    )
    .bind(&next)
    .fetch_one(&mut w.db.connect().await)
    .await
    .unwrap();
    assert_eq!(
        booked,
        (dec("1780"), dec("0")),
        "the running balance is right again"
    );
    // Evaluating again takes the adjustment away (the day's figures match the settled ones).
    let (st, v) = evaluate(&s, &w.admin, json!({"winningNumber": "05"})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    settle(&s).await;
    let left: i64 = scalar(w, "SELECT count(*) FROM statement_adjustments").await;
    assert_eq!(left, 0);
    let booked: (Decimal, Decimal) = sqlx::query_as(
        "SELECT total_adjustments, remaining_balance FROM account_statements
         WHERE dimension = 'vendedor' AND date = $1::date",
    )
    .bind(&next)
    .fetch_one(&mut w.db.connect().await)
    .await
    .unwrap();
    assert_eq!(booked, (dec("0"), dec("-1780")));
    // The open rows of the same day follow the result directly.
    assert_eq!(
        figures(&s, "banca", w.a.banca_id, &day).await,
        Some(f(["20", "1800", "0", "0", "-1780", "0", "0", "-1780"], 1))
    );
}

#[tokio::test]
async fn a_balance_reset_starts_the_sellers_statement_from_zero() {
    let s = shop().await;
    let w = &s.w;
    let seller = &w.a.vendedores[0];
    let day = sorteo_day(&s, s.sorteo).await;
    // Yesterday the seller owed 500: the business day before the reset's (made below, today in
    // Costa Rica), not the server's UTC date — from 18:00 to 24:00 in Costa Rica they differ, and
    // a row on the reset's own day would be one the reset rebuilds, which this direct UPDATE
    // does not.
    exec(
        w,
        &format!(
            "INSERT INTO account_statements (date, month, dimension, banca_id, ventana_id,
                 vendedor_id, balance, remaining_balance, accumulated_balance, ticket_count)
             SELECT cr.yesterday, to_char(cr.yesterday, 'YYYY-MM'), 'vendedor', '{}',
                    '{}', '{}', 500, 500, 500, 1
             FROM (SELECT (now() AT TIME ZONE 'America/Costa_Rica')::date - 1 AS yesterday) cr",
            w.a.banca_id, w.a.ventanas[0], seller.user_id
        ),
    )
    .await;
    sell_on(&s, s.sorteo, seller, json!([numero("11", 100.0)])).await;
    // "Borrón y cuenta nueva": from now on only new activity counts for this seller.
    exec(
        w,
        &format!(
            "UPDATE users SET settings = COALESCE(settings, '{{}}'::jsonb)
                 || jsonb_build_object('balanceResetAt', to_char(clock_timestamp() AT TIME ZONE 'UTC',
                                                                 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'))
             WHERE id = '{}'",
            seller.user_id
        ),
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    sell_on(&s, s.sorteo, seller, json!([numero("22", 50.0)])).await;
    let (st, v) = evaluate(&s, &w.admin, json!({"winningNumber": "99"})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    settle(&s).await;
    // The seller: only the ticket sold after the reset, and no balance carried from before.
    assert_eq!(
        figures(&s, "vendedor", seller.user_id, &day).await,
        Some(f(["50", "0", "0", "0", "50", "0", "0", "50"], 1))
    );
    // Its ventana and banca keep counting everything.
    assert_eq!(
        figures(&s, "ventana", w.a.ventanas[0], &day).await,
        Some(f(["150", "0", "0", "0", "150", "0", "0", "150"], 2))
    );
    // The day view of the seller agrees with its statement.
    let (st, v) = call(
        &w.app,
        Method::GET,
        &format!(
            "/api/v1/accounts/statement/{day}/bySorteo?dimension=vendedor&vendedorId={}",
            seller.user_id
        ),
        Some(&w.admin.token),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["meta"]["openingBalance"], 0.0, "{v}");
    assert_eq!(v["meta"]["closingBalance"], 50.0, "{v}");
    assert_eq!(v["meta"]["totalSales"], 50.0, "{v}");
}

#[tokio::test]
async fn a_correction_booked_on_a_day_settled_since_is_final_and_the_next_one_goes_later() {
    let s = shop().await;
    let w = &s.w;
    let seller = &w.a.vendedores[0];
    let day = sorteo_day(&s, s.sorteo).await;
    sell_on(&s, s.sorteo, seller, json!([numero("05", 20.0)])).await;
    let (st, v) = evaluate(&s, &w.admin, json!({"winningNumber": "05"})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    settle(&s).await;
    let close = |when: String| {
        format!(
            "UPDATE account_statements SET settled_at = now(), is_settled = true, can_edit = false
             WHERE dimension = 'vendedor' AND entity_id = '{}' AND date = '{when}'",
            seller.user_id
        )
    };
    exec(w, &close(day.clone())).await;
    let (st, v) = revert(&s, &w.admin, json!({})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    settle(&s).await;
    let next: String = scalar(
        w,
        &format!("SELECT to_char('{day}'::date + 1, 'YYYY-MM-DD')"),
    )
    .await;
    let after: String = scalar(
        w,
        &format!("SELECT to_char('{day}'::date + 2, 'YYYY-MM-DD')"),
    )
    .await;
    // The +1780 correction is booked on the next day, which is then settled too.
    exec(w, &close(next.clone())).await;
    let (st, v) = evaluate(&s, &w.admin, json!({"winningNumber": "05"})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    settle(&s).await;
    let adjustments: Vec<(String, String, Decimal)> = sqlx::query_as(
        "SELECT to_char(settled_date, 'YYYY-MM-DD'), to_char(applied_date, 'YYYY-MM-DD'), amount
         FROM statement_adjustments WHERE dimension = 'vendedor' ORDER BY applied_date",
    )
    .fetch_all(&mut w.db.connect().await)
    .await
    .unwrap();
    assert_eq!(
        adjustments,
        vec![
            (day.clone(), next.clone(), dec("1780")),
            (day.clone(), after.clone(), dec("-1780")),
        ],
        "the booked correction stays; the new difference is a new adjustment on an open day"
    );
    let last: (Decimal, Decimal) = sqlx::query_as(
        "SELECT total_adjustments, remaining_balance FROM account_statements
         WHERE dimension = 'vendedor' AND date = $1::date",
    )
    .bind(&after)
    .fetch_one(&mut w.db.connect().await)
    .await
    .unwrap();
    assert_eq!(
        last,
        (dec("-1780"), dec("-1780")),
        "the balance is the true one again"
    );
}
