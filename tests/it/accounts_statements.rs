//! Account statement reads and export against a real PostgreSQL (issue 9 item 2;
//! domain-money §5.6, §5.7, §7): exact figures and totals, month-accumulated figures, the
//! intercalated day view with its running balance, role scoping, CSV and XLSX exports.
//!
//! The world: the standard sales of the shop's sorteo (moved to tomorrow 12:00 business time)
//! evaluated with 07 + Roja; vendedor A1 has a settled statement today carrying 1000, a
//! payment of 500 at 00:00 and a collection of 120.25 at 18:00 tomorrow, and an adjustment of
//! 25.50 booked tomorrow; ventana A1 has a statement today carrying 777.77.

use std::time::{Duration, Instant};

use banca::services::statements;
use chrono::{Datelike, NaiveDate};
use reqwest::{Method, StatusCode};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::evaluation::{dec, evaluate, roja, standard_sales};
use crate::fixtures::{call, exec, scalar, shop, Login, Shop};

/// Decimal of a JSON number (money is sent as a number).
fn num(v: &Value) -> Decimal {
    assert!(v.is_number(), "not a number: {v}");
    dec(&v.to_string())
}

async fn get(s: &Shop, who: &Login, path: &str) -> (StatusCode, Value) {
    call(&s.w.app, Method::GET, path, Some(&who.token), None).await
}

/// Drains statement rebuilds until none is queued.
async fn settle(s: &Shop) {
    let until = Instant::now() + Duration::from_secs(20);
    loop {
        statements::drain(s.w.app.state.pools.primary())
            .await
            .expect("drain");
        let left: i64 = scalar(&s.w, "SELECT count(*) FROM statement_refreshes").await;
        if left == 0 {
            return;
        }
        assert!(Instant::now() < until, "rebuild requests left in the queue");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

struct Fixture {
    s: Shop,
    today: NaiveDate,
    day: NaiveDate,
}

/// The world of the module doc.
async fn fixture() -> Fixture {
    let s = shop().await;
    let w = &s.w;
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::America::Costa_Rica)
        .date_naive();
    let day = today.succ_opt().unwrap();
    let (a, va1, a1) = (w.a.banca_id, w.a.ventanas[0], w.a.vendedores[0].user_id);
    exec(
        w,
        &format!(
            "UPDATE sorteos SET scheduled_at = ('{day} 12:00'::timestamp
                 AT TIME ZONE 'America/Costa_Rica') WHERE id = '{}';
             UPDATE users SET commission_policy_json =
                 '{{\"version\":1,\"defaultPercent\":10,\"rules\":[]}}' WHERE id = '{a1}';
             UPDATE ventanas SET commission_policy_json =
                 '{{\"version\":1,\"defaultPercent\":5,\"rules\":[]}}' WHERE banca_id = '{a}'",
            s.sorteo
        ),
    )
    .await;
    standard_sales(&s).await;
    let roja = roja(&s).await;
    let (st, v) = evaluate(
        &s,
        &w.a.banca_user,
        json!({"winningNumber": "07", "extraMultiplierId": roja}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    settle(&s).await;
    exec(
        w,
        &format!(
            "INSERT INTO account_statements (date, month, dimension, banca_id, ventana_id,
                 vendedor_id, remaining_balance, accumulated_balance, is_settled, can_edit,
                 settled_at)
             VALUES ('{today}', to_char('{today}'::date, 'YYYY-MM'), 'vendedor', '{a}', '{va1}',
                     '{a1}', 1000, 1000, true, false, now()),
                    ('{today}', to_char('{today}'::date, 'YYYY-MM'), 'ventana', '{a}', '{va1}',
                     NULL, 777.77, 777.77, false, true, NULL);
             INSERT INTO account_payments (date, month, time, banca_id, ventana_id, vendedor_id,
                 amount, type, method, notes, paid_by_name)
             VALUES ('{day}', to_char('{day}'::date, 'YYYY-MM'), '00:00', '{a}', '{va1}', '{a1}',
                     500, 'payment', 'cash', 'Adelanto', 'banca.a'),
                    ('{day}', to_char('{day}'::date, 'YYYY-MM'), '18:00', '{a}', '{va1}', '{a1}',
                     120.25, 'collection', 'transfer', NULL, 'banca.a'),
                    ('{day}', to_char('{day}'::date, 'YYYY-MM'), '19:00', '{a}', '{va1}', '{a1}',
                     999, 'collection', 'cash', 'Revertido', 'banca.a');
             UPDATE account_payments SET is_reversed = true, reversed_at = now()
             WHERE amount = 999;
             INSERT INTO statement_refreshes (banca_id, from_date, reason)
             VALUES ('{a}', '{day}', 'test')"
        ),
    )
    .await;
    settle(&s).await;
    // A settled day's correction booked on `day` (written as the refresher would).
    exec(
        w,
        &format!(
            "INSERT INTO statement_adjustments (banca_id, dimension, entity_id, settled_date,
                 applied_date, amount, reason)
             VALUES ('{a}', 'vendedor', '{a1}', '{today}', '{day}', 25.50, 'Corrección');
             UPDATE account_statements SET total_adjustments = 25.50,
                 remaining_balance = remaining_balance + 25.50,
                 accumulated_balance = accumulated_balance + 25.50
             WHERE dimension = 'vendedor' AND entity_id = '{a1}' AND date = '{day}'"
        ),
    )
    .await;
    Fixture { s, today, day }
}

/// Asserts the money fields of `v` (name → expected decimal string).
fn money(v: &Value, expected: &[(&str, &str)]) {
    for (k, e) in expected {
        assert_eq!(num(&v[*k]), dec(e), "{k} of {v}");
    }
}

#[tokio::test]
async fn statement_figures_totals_month_and_scoping() {
    let f = fixture().await;
    let (s, w, today, day) = (&f.s, &f.s.w, f.today, f.day);
    let [a1, a2] = [&w.a.vendedores[0], &w.a.vendedores[1]];

    // VENDEDOR A1, its two days (newest first by default).
    let (st, v) = get(
        s,
        a1,
        &format!(
            "/api/v1/accounts/statement?scope=mine&dimension=vendedor&date=range\
             &fromDate={today}&toDate={day}&_=1"
        ),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let d = &v["data"];
    let rows = d["statements"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{v}");
    let r = &rows[0];
    assert_eq!(r["date"], day.to_string());
    assert_eq!(r["month"], day.format("%Y-%m").to_string());
    assert_eq!(r["dimension"], "vendedor");
    assert_eq!(r["vendedorId"], a1.user_id.to_string());
    assert_eq!(r["vendedorName"], "vendedor.a1");
    assert_eq!(r["ventanaId"], w.a.ventanas[0].to_string());
    assert_eq!(r["ventanaName"], "Ventana A1");
    assert_eq!(r["bancaId"], w.a.banca_id.to_string());
    money(
        r,
        &[
            ("totalSales", "190"),
            ("totalPayouts", "9100"),
            ("listeroCommission", "9.50"),
            ("vendedorCommission", "19"),
            // 190 − 9100 − 19 + 500 − 120.25 (the reversed 999 does not count).
            ("balance", "-8549.25"),
            ("totalPaid", "500"),
            ("totalCollected", "120.25"),
            ("totalPaymentsCollections", "379.75"),
            ("totalAdjustments", "25.50"),
            // 1000 carried + (−8549.25) + 25.50.
            ("remainingBalance", "-7523.75"),
        ],
    );
    assert_eq!(r["ticketCount"], 1);
    assert_eq!(r["isSettled"], false);
    assert_eq!(r["canEdit"], true);
    assert!(r["bySorteo"].is_null());
    let adj = r["adjustments"].as_array().unwrap();
    assert_eq!(adj.len(), 1, "{r}");
    assert_eq!(adj[0]["settledDate"], today.to_string());
    assert_eq!(num(&adj[0]["amount"]), dec("25.5"));
    assert_eq!(adj[0]["reason"], "Corrección");
    let p = &rows[1];
    assert_eq!(p["date"], today.to_string());
    money(
        p,
        &[
            ("totalSales", "0"),
            ("balance", "0"),
            ("remainingBalance", "1000"),
        ],
    );
    assert_eq!(p["isSettled"], true);
    assert_eq!(p["canEdit"], false);
    assert!(p["settledAt"].is_string());

    let t = &d["totals"];
    money(
        t,
        &[
            ("totalSales", "190"),
            ("totalPayouts", "9100"),
            ("totalListeroCommission", "9.5"),
            ("totalVendedorCommission", "19"),
            ("totalBalance", "-8549.25"),
            ("totalPaid", "500"),
            ("totalCollected", "120.25"),
            ("totalPaymentsCollections", "379.75"),
            ("totalAdjustments", "25.5"),
            ("totalRemainingBalance", "-7523.75"),
        ],
    );
    assert_eq!(t["settledDays"], 1);
    assert_eq!(t["pendingDays"], 1);
    assert_eq!(t["totalTickets"], 1);
    // The month of `day`: both days when today is in it, else `day` alone.
    let m = &d["monthlyAccumulated"];
    money(
        m,
        &[
            ("totalSales", "190"),
            ("totalBalance", "-8549.25"),
            ("totalRemainingBalance", "-7523.75"),
        ],
    );
    let same_month = today.month() == day.month();
    assert_eq!(m["settledDays"], if same_month { 1 } else { 0 });
    assert_eq!(m["pendingDays"], 1);
    let meta = &d["meta"];
    assert_eq!(meta["startDate"], today.to_string());
    assert_eq!(meta["endDate"], day.to_string());
    assert_eq!(meta["dimension"], "vendedor");
    assert_eq!(meta["totalDays"], 2);
    assert_eq!(meta["month"], day.format("%Y-%m").to_string());
    assert_eq!(meta["monthStartDate"], day.with_day(1).unwrap().to_string());
    assert_eq!(meta["readSource"], "primary");
    assert_eq!(v["meta"]["readSource"], "primary");

    // sort=asc, and month=.
    let (st, v) = get(
        s,
        a1,
        &format!(
            "/api/v1/accounts/statement?scope=mine&dimension=vendedor&month={}&sort=asc",
            day.format("%Y-%m")
        ),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let rows = v["data"]["statements"].as_array().unwrap();
    assert_eq!(rows.last().unwrap()["date"], day.to_string());
    assert_eq!(rows.len(), if same_month { 2 } else { 1 });
    assert_eq!(
        v["data"]["meta"]["totalDays"],
        day.with_day(1)
            .unwrap()
            .iter_days()
            .take_while(|d| d.month() == day.month())
            .count()
    );

    // VENDEDOR: forced to itself; another vendedor or scope=all → 403.
    let (st, v) = get(
        s,
        a2,
        &format!("/api/v1/accounts/statement?scope=mine&dimension=ventana&date={day}"),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let rows = v["data"]["statements"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{v}");
    assert_eq!(rows[0]["vendedorId"], a2.user_id.to_string());
    money(
        &rows[0],
        &[
            ("totalSales", "38.90"),
            ("totalPayouts", "1112.88"),
            ("balance", "-1073.98"),
            ("remainingBalance", "-1073.98"),
        ],
    );
    assert!(!v.to_string().contains(&a1.user_id.to_string()));
    for q in [
        format!("scope=mine&dimension=vendedor&vendedorId={}", a1.user_id),
        "scope=all&dimension=vendedor".to_string(),
        format!(
            "scope=mine&dimension=vendedor&ventanaId={}",
            w.a.ventanas[0]
        ),
        format!("scope=mine&dimension=vendedor&bancaId={}", w.b.banca_id),
    ] {
        let (st, v) = get(s, a2, &format!("/api/v1/accounts/statement?{q}")).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{q}: {v}");
    }

    // VENTANA A1: its ventana (carrying its 777.77), or its own vendedores.
    let vu1 = &w.a.ventana_users[0];
    let (st, v) = get(
        s,
        vu1,
        &format!("/api/v1/accounts/statement?scope=mine&dimension=ventana&date={day}"),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let rows = v["data"]["statements"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{v}");
    assert_eq!(rows[0]["ventanaId"], w.a.ventanas[0].to_string());
    assert!(rows[0]["vendedorId"].is_null());
    money(
        &rows[0],
        &[
            ("totalSales", "190"),
            ("listeroCommission", "9.50"),
            // The listero's: 190 − 9100 − 9.50 (vendedor-level movements are not its own).
            ("balance", "-8919.50"),
            ("totalPaid", "0"),
            ("remainingBalance", "-8141.73"),
        ],
    );
    let (st, v) = get(
        s,
        vu1,
        &format!("/api/v1/accounts/statement?scope=ventana&dimension=vendedor&date={day}"),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let rows = v["data"]["statements"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{v}");
    assert_eq!(rows[0]["vendedorId"], a1.user_id.to_string());
    for q in [
        format!("scope=ventana&dimension=vendedor&vendedorId={}", a2.user_id),
        format!("scope=mine&dimension=ventana&ventanaId={}", w.a.ventanas[1]),
        "scope=mine&dimension=banca".to_string(),
        "scope=all&dimension=ventana".to_string(),
    ] {
        let (st, v) = get(s, vu1, &format!("/api/v1/accounts/statement?{q}")).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{q}: {v}");
    }

    // BANCA A: one row per (day, entity) without an entity filter.
    let ba = &w.a.banca_user;
    let (st, v) = get(
        s,
        ba,
        &format!("/api/v1/accounts/statement?scope=all&dimension=vendedor&date={day}"),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let rows = v["data"]["statements"].as_array().unwrap();
    let mut ids: Vec<&str> = rows
        .iter()
        .map(|r| r["vendedorId"].as_str().unwrap())
        .collect();
    ids.sort();
    let mut want = vec![a1.user_id.to_string(), a2.user_id.to_string()];
    want.sort();
    assert_eq!(ids, want);
    money(
        &v["data"]["totals"],
        &[("totalSales", "228.90"), ("totalPayouts", "10212.88")],
    );
    let (st, v) = get(
        s,
        ba,
        &format!("/api/v1/accounts/statement?scope=all&dimension=banca&date={day}"),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let rows = v["data"]["statements"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    money(
        &rows[0],
        &[
            ("totalSales", "228.90"),
            ("balance", "-9995.43"),
            ("remainingBalance", "-9995.43"),
        ],
    );
    assert_eq!(rows[0]["bancaCode"], "BA");

    // ADMIN: a banca by id, one ventana by id.
    let (st, v) = get(
        s,
        &w.admin,
        &format!(
            "/api/v1/accounts/statement?scope=all&dimension=ventana&date={day}&ventanaId={}",
            w.a.ventanas[1]
        ),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let rows = v["data"]["statements"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    money(&rows[0], &[("balance", "-1075.93")]);

    // Banca B sees nothing of A: its own (empty) statements, 403 naming A's people.
    let bb = &w.b.banca_user;
    let (st, v) = get(
        s,
        bb,
        &format!("/api/v1/accounts/statement?scope=all&dimension=vendedor&date={day}"),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["statements"], json!([]));
    money(
        &v["data"]["totals"],
        &[("totalSales", "0"), ("totalRemainingBalance", "0")],
    );
    for q in [
        format!("scope=all&dimension=vendedor&vendedorId={}", a1.user_id),
        format!("scope=all&dimension=ventana&ventanaId={}", w.a.ventanas[0]),
        format!("scope=all&dimension=banca&bancaId={}", w.a.banca_id),
    ] {
        let (st, v) = get(s, bb, &format!("/api/v1/accounts/statement?{q}")).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{q}: {v}");
    }
    let (st, _) = get(
        s,
        ba,
        &format!(
            "/api/v1/accounts/statement?scope=all&dimension=vendedor&vendedorId={}",
            Uuid::new_v4()
        ),
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // Strict query.
    for q in [
        "dimension=vendedor",
        "scope=mine",
        "scope=mine&dimension=zona",
        "scope=mine&dimension=vendedor&month=2026-13",
        "scope=mine&dimension=vendedor&month=2026-01&date=today",
        "scope=mine&dimension=vendedor&sort=up",
        "scope=mine&dimension=vendedor&page=2",
    ] {
        let (st, v) = get(s, a1, &format!("/api/v1/accounts/statement?{q}")).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{q}: {v}");
        assert_eq!(v["code"], "VALIDATION_ERROR", "{q}: {v}");
    }
}

#[tokio::test]
async fn by_sorteo_intercalates_events_with_a_running_balance() {
    let f = fixture().await;
    let (s, w, day) = (&f.s, &f.s.w, f.day);
    let a1 = &w.a.vendedores[0];
    let (st, v) = get(
        s,
        a1,
        &format!("/api/v1/accounts/statement/{day}/bySorteo?dimension=vendedor"),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let mut events = v["data"].as_array().unwrap().clone();
    // Newest first; oldest first to read the running balance.
    events.reverse();
    let first_of_month = day.day() == 1;
    if first_of_month {
        let e = events.remove(0);
        assert_eq!(e["type"], "initial_balance");
        assert_eq!(
            e["sorteoId"],
            format!("previous-month-balance-vendedor-{}", a1.user_id)
        );
        money(&e, &[("balance", "1000"), ("accumulated", "1000")]);
    }
    let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        ["adjustment", "payment", "sorteo", "collection"],
        "{v}"
    );
    let acc: Vec<Decimal> = events.iter().map(|e| num(&e["accumulated"])).collect();
    assert_eq!(
        acc,
        [
            dec("1025.50"),
            dec("1525.50"),
            dec("-7403.50"),
            dec("-7523.75")
        ]
    );
    let sorteo = &events[2];
    assert_eq!(sorteo["sorteoId"], s.sorteo.to_string());
    assert_eq!(sorteo["loteriaName"], "TICA");
    assert_eq!(sorteo["winningNumber"], "07");
    assert_eq!(sorteo["time"], "12:00");
    money(
        sorteo,
        &[
            ("totalSales", "190"),
            ("totalPayouts", "9100"),
            ("vendedorCommission", "19"),
            ("commission", "19"),
            ("balance", "-8929"),
        ],
    );
    assert_eq!(sorteo["ticketCount"], 1);
    assert!(events[1]["sorteoId"].as_str().unwrap().starts_with("mov-"));
    assert_eq!(events[1]["sorteoName"], "Pago recibido");
    money(&events[1], &[("amount", "500"), ("balance", "500")]);
    assert_eq!(events[3]["sorteoName"], "Cobro realizado");
    money(&events[3], &[("balance", "-120.25")]);
    let n = events.len() + usize::from(first_of_month);
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e["chronologicalIndex"], i + 1 + usize::from(first_of_month));
        assert_eq!(e["totalChronological"], n);
    }
    let meta = &v["meta"];
    money(
        meta,
        &[
            ("openingBalance", "1000"),
            ("closingBalance", "-7523.75"),
            ("totalPaid", "500"),
            ("totalCollected", "120.25"),
            ("totalAdjustments", "25.5"),
        ],
    );
    assert_eq!(meta["readSource"], "primary");
    // The day's last accumulated is the statement's remaining balance.
    let remaining: Decimal = scalar(
        w,
        &format!(
            "SELECT remaining_balance FROM account_statements WHERE dimension = 'vendedor'
             AND entity_id = '{}' AND date = '{day}'",
            a1.user_id
        ),
    )
    .await;
    assert_eq!(remaining, dec("-7523.75"));

    // The banca: the sorteo merged over every seller, the listero's commission.
    let (st, v) = get(
        s,
        &w.a.banca_user,
        &format!("/api/v1/accounts/statement/{day}/bySorteo?dimension=banca"),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let events = v["data"].as_array().unwrap();
    let sorteo = events.iter().find(|e| e["type"] == "sorteo").unwrap();
    money(
        sorteo,
        &[
            ("totalSales", "228.90"),
            ("commission", "11.45"),
            ("balance", "-9995.43"),
        ],
    );
    assert_eq!(sorteo["ticketCount"], 3);
    money(&v["meta"], &[("closingBalance", "-9995.43")]);

    // Scoping: another seller's day is refused; banca B sees no sorteo of A.
    let (st, _) = get(
        s,
        &w.a.vendedores[1],
        &format!(
            "/api/v1/accounts/statement/{day}/bySorteo?dimension=vendedor&vendedorId={}",
            a1.user_id
        ),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, v) = get(
        s,
        &w.b.banca_user,
        &format!("/api/v1/accounts/statement/{day}/bySorteo?dimension=banca"),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    // Only the synthetic opening on the 1st of a month, nothing of A.
    assert!(
        v["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["type"] == "initial_balance"),
        "{v}"
    );
    let (st, _) = get(
        s,
        &w.b.banca_user,
        &format!(
            "/api/v1/accounts/statement/{day}/bySorteo?dimension=vendedor&vendedorId={}",
            a1.user_id
        ),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, v) = get(
        s,
        a1,
        "/api/v1/accounts/statement/mañana/bySorteo?dimension=vendedor",
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
}

#[tokio::test]
async fn historical_entities_and_current_balance_stay_in_scope() {
    let f = fixture().await;
    let (s, w) = (&f.s, &f.s.w);
    let (st, v) = get(s, &w.a.banca_user, "/api/v1/accounts/historical-entities").await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["ventanas"].as_array().unwrap().len(), 2, "{v}");
    assert_eq!(v["data"]["vendedores"].as_array().unwrap().len(), 2, "{v}");
    let (st, v) = get(
        s,
        &w.a.ventana_users[0],
        "/api/v1/accounts/historical-entities",
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["ventanas"][0]["id"], w.a.ventanas[0].to_string());
    assert_eq!(v["data"]["ventanas"].as_array().unwrap().len(), 1);
    assert_eq!(v["data"]["vendedores"].as_array().unwrap().len(), 1);
    assert_eq!(
        v["data"]["vendedores"][0]["id"],
        w.a.vendedores[0].user_id.to_string()
    );
    let (st, v) = get(s, &w.b.banca_user, "/api/v1/accounts/historical-entities").await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["data"], json!({"ventanas": [], "vendedores": []}));

    // Saldo a hoy: the row of today (777.77), not tomorrow's.
    let path = "/api/v1/accounts/balance/current?scope=mine&dimension=ventana";
    let (st, v) = get(s, &w.a.ventana_users[0], path).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    money(
        &v["data"],
        &[("balance", "777.77"), ("remainingBalance", "777.77")],
    );
    assert_eq!(v["data"]["ventanaId"], w.a.ventanas[0].to_string());
    assert_eq!(v["data"]["date"], f.today.to_string());
    let (st, v) = get(s, &w.a.ventana_users[1], path).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    money(&v["data"], &[("balance", "0")]);
    assert!(v["data"]["date"].is_null());
    for who in [&w.admin, &w.a.banca_user, &w.a.vendedores[0]] {
        let (st, v) = get(s, who, path).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    }
    let (st, _) = get(
        s,
        &w.a.ventana_users[0],
        "/api/v1/accounts/balance/current?scope=all&dimension=ventana",
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
}

/// GET returning (status, headers, raw body).
async fn raw(
    s: &Shop,
    who: &Login,
    path: &str,
) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
    let res =
        s.w.app
            .client
            .get(s.w.app.url(path))
            .bearer_auth(&who.token)
            .send()
            .await
            .unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    (status, headers, res.bytes().await.unwrap().to_vec())
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn export_csv_and_xlsx() {
    let f = fixture().await;
    let (s, w, today, day) = (&f.s, &f.s.w, f.today, f.day);
    let a1 = &w.a.vendedores[0];
    let base = format!(
        "/api/v1/accounts/export?scope=all&dimension=vendedor&vendedorId={}&date=range\
         &fromDate={today}&toDate={day}&sort=asc",
        a1.user_id
    );
    let (st, h, body) = raw(
        s,
        &w.a.banca_user,
        &format!("{base}&format=csv&includeMovements=false"),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    assert_eq!(h["content-type"], "text/csv; charset=utf-8");
    assert_eq!(
        h["content-disposition"],
        format!("attachment; filename=\"estado-cuenta-vendedor-vendedor-a1-{today}_{day}.csv\"")
            .as_str()
    );
    assert_eq!(&body[..3], &[0xEF, 0xBB, 0xBF], "BOM");
    let text = String::from_utf8(body[3..].to_vec()).unwrap();
    assert_eq!(
        text,
        format!(
            "Fecha,Vendedor,Ventas,Premios,Com. Vendedor,Com. Listero,Balance,Pagado,Cobrado,Saldo,Tickets\r\n\
             {today},vendedor.a1,0.00,0.00,0.00,0.00,0.00,0.00,0.00,1000.00,0\r\n\
             {day},vendedor.a1,190.00,9100.00,19.00,9.50,-8549.25,500.00,120.25,-7523.75,1\r\n\
             Total,,190.00,9100.00,19.00,9.50,-8549.25,500.00,120.25,-7523.75,1\r\n"
        )
    );
    // Movements (default): a section after the summary, the reversed one marked.
    let (st, _, body) = raw(s, &w.a.banca_user, &format!("{base}&format=csv")).await;
    assert_eq!(st, StatusCode::OK);
    let text = String::from_utf8(body[3..].to_vec()).unwrap();
    assert!(text.contains("\r\n\r\nMovimientos\r\nFecha Mov.,Fecha Aplicada,Vendedor,Tipo,Monto,Método,Registrado Por,Estado,Notas\r\n"), "{text}");
    assert!(
        text.contains(&format!(
            ",{day} 00:00,vendedor.a1,Pago,500.00,Efectivo,banca.a,Activo,Adelanto\r\n"
        )),
        "{text}"
    );
    assert!(
        text.contains(",Cobro,999.00,Efectivo,banca.a,Revertido,Revertido\r\n"),
        "{text}"
    );

    // XLSX: a zip with the summary and the movements sheets.
    for format in ["xlsx", "excel"] {
        let (st, h, body) = raw(
            s,
            a1,
            &format!(
                "/api/v1/accounts/export?format={format}&scope=mine&dimension=vendedor&date={day}"
            ),
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
        assert_eq!(
            h["content-type"],
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        );
        assert_eq!(
            h["content-disposition"],
            format!("attachment; filename=\"estado-cuenta-vendedor-vendedor-a1-{day}.xlsx\"")
                .as_str()
        );
        assert_eq!(&body[..4], b"PK\x03\x04");
        assert!(contains(&body, b"xl/worksheets/sheet1.xml"));
        assert!(contains(&body, b"xl/worksheets/sheet2.xml"));
    }
    let (st, _, body) = raw(s, a1, &format!("/api/v1/accounts/export?format=xlsx&scope=mine&dimension=vendedor&date={day}&includeMovements=false")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(!contains(&body, b"xl/worksheets/sheet2.xml"));

    // All vendedores of banca A: `todos` in the name.
    let (st, h, _) = raw(
        s,
        &w.a.banca_user,
        &format!("/api/v1/accounts/export?format=csv&scope=all&dimension=ventana&date={day}"),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        h["content-disposition"],
        format!("attachment; filename=\"estado-cuenta-listero-todos-{day}.csv\"").as_str()
    );

    // PDF is refused with its own code; a foreign banca or seller is refused.
    let (st, v) = get(
        s,
        a1,
        "/api/v1/accounts/export?format=pdf&scope=mine&dimension=vendedor",
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["code"], "EXPORT_FORMAT_UNSUPPORTED");
    assert!(v["message"].as_str().unwrap().contains("PDF"));
    let (st, _) = get(s, &w.b.banca_user, &format!("{base}&format=csv")).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = get(
        s,
        &w.a.vendedores[1],
        &format!(
            "/api/v1/accounts/export?format=csv&scope=mine&dimension=vendedor&vendedorId={}",
            a1.user_id
        ),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, v) = get(
        s,
        a1,
        "/api/v1/accounts/export?format=doc&scope=mine&dimension=vendedor",
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["code"], "VALIDATION_ERROR");
}

#[tokio::test]
async fn dates_out_of_range_and_long_ranges_are_400_never_500() {
    let s = shop().await;
    let w = &s.w;
    let admin = &w.admin;
    for path in [
        "/api/v1/accounts/statement?scope=all&dimension=banca&date=-5000-01-01",
        "/api/v1/accounts/statement?scope=all&dimension=banca&month=-500-01",
        "/api/v1/accounts/statement?scope=all&dimension=banca&month=2026-13",
        "/api/v1/accounts/statement/0099-01-01/bySorteo?dimension=banca",
        "/api/v1/commissions?scope=all&dimension=ventana&date=range&fromDate=1900-01-01&toDate=2026-01-01",
    ] {
        let (st, v) = get(&s, admin, path).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{path}: {v}");
        assert!(v["code"].is_string(), "{v}");
    }
    // A movement dated more than two years back is refused before anything is written.
    let (st, v) = call(
        &w.app,
        Method::POST,
        "/api/v1/accounts/payment",
        Some(&admin.token),
        Some(
            &json!({"date": "2020-01-01", "bancaId": w.a.banca_id, "amount": 10,
                     "type": "payment", "method": "cash"}),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["details"][0]["field"], "date", "{v}");
    let n: i64 = scalar(w, "SELECT count(*) FROM account_payments").await;
    assert_eq!(n, 0);
}
