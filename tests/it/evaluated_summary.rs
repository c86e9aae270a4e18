//! `GET /api/v1/sorteos/evaluated-summary` (domain-money §1.10) against a real PostgreSQL:
//! only EVALUATED sorteos count, with exact figures and multiplier buckets; movements and the
//! previous statement drive the running balance; a balance reset hides what came before it;
//! another seller sees none of it; the query is strict.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use chrono_tz::America::Costa_Rica;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

use banca::domain::schedule;

use crate::common::assert_error;
use crate::fixtures::{self, call, exec, shop, Login, Shop};

fn numero(n: &str, amount: f64) -> Value {
    json!({"type": "NUMERO", "number": n, "amount": amount})
}

fn reventado(n: &str, amount: f64) -> Value {
    json!({"type": "REVENTADO", "number": n, "reventadoNumber": n, "amount": amount})
}

/// Tomorrow in the business zone: sales are still open all day.
fn day() -> NaiveDate {
    schedule::local_date(Utc::now(), Costa_Rica) + Duration::days(1)
}

/// `hh:mm` of `day()` in the business zone.
fn at(hhmm: &str) -> DateTime<Utc> {
    let t = NaiveTime::parse_from_str(hhmm, "%H:%M").unwrap();
    schedule::local_to_utc(day().and_time(t), Costa_Rica)
}

async fn sell(s: &Shop, sorteo: Uuid, who: &Login, jugadas: Value) -> Uuid {
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
    Uuid::parse_str(v["data"]["id"].as_str().unwrap()).unwrap()
}

async fn evaluate(s: &Shop, sorteo: Uuid, body: Value) {
    let (st, v) = call(
        &s.w.app,
        Method::PATCH,
        &format!("/api/v1/sorteos/{sorteo}/evaluate"),
        Some(&s.w.a.banca_user.token),
        Some(&body),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
}

/// The summary of `day()` as `who`, with `extra` query keys.
async fn summary(s: &Shop, who: &Login, extra: &str) -> Value {
    let d = day();
    let (st, v) = call(
        &s.w.app,
        Method::GET,
        &format!("/api/v1/sorteos/evaluated-summary?date=range&fromDate={d}&toDate={d}{extra}"),
        Some(&who.token),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["success"], true);
    v
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

#[tokio::test]
async fn only_evaluated_sorteos_count_with_exact_figures_and_buckets() {
    let s = shop().await;
    let w = &s.w;
    let v0 = &w.a.vendedores[0];
    let v1 = &w.a.vendedores[1];
    exec(
        w,
        &format!(
            "UPDATE users SET commission_policy_json = '{{\"version\":1,\"defaultPercent\":10,\"rules\":[]}}'
             WHERE id = '{}'",
            v0.user_id
        ),
    )
    .await;
    let s1 = fixtures::sorteo(&w.app, s.loteria, at("12:00"), "OPEN").await;
    let s2 = fixtures::sorteo(&w.app, s.loteria, at("18:00"), "OPEN").await;
    let roja = fixtures::multiplier(&w.app, s.loteria, "Roja", 2, "REVENTADO").await;
    exec(
        w,
        &format!("UPDATE loteria_multipliers SET value_x = 2.5 WHERE id = '{roja}'"),
    )
    .await;

    // On s1: a winner (NUMERO 07 at 90x, REVENTADO 07 at 2.5x) and a loser (its REVENTADO
    // line loses and keeps no multiplier).
    sell(
        &s,
        s1,
        v0,
        json!([
            numero("07", 100.0),
            numero("42", 50.0),
            reventado("07", 40.0)
        ]),
    )
    .await;
    sell(
        &s,
        s1,
        v0,
        json!([numero("42", 10.0), reventado("42", 10.0)]),
    )
    .await;
    // Another seller of the same banca, on the same sorteo: not v0's.
    sell(&s, s1, v1, json!([numero("07", 1000.0)])).await;
    // s2 is never evaluated.
    sell(&s, s2, v0, json!([numero("07", 20.0)])).await;
    evaluate(
        &s,
        s1,
        json!({"winningNumber": "07", "extraMultiplierId": roja}),
    )
    .await;

    let v = summary(&s, v0, "").await;
    let days = v["data"].as_array().unwrap();
    assert_eq!(days.len(), 1, "{v}");
    let d = &days[0];
    assert_eq!(d["date"], day().to_string());
    let events = d["sorteos"].as_array().unwrap();
    assert_eq!(events.len(), 1, "only the evaluated sorteo: {v}");
    let e = &events[0];
    assert_eq!(e["sorteoId"], s1.to_string());
    assert_eq!(e["loteriaId"], s.loteria.to_string());
    assert_eq!(e["loteriaName"], "TICA");
    assert_eq!(e["winningNumber"], "07");
    assert_eq!(e["extraOutcomeCode"], "Roja");
    assert_eq!(e["isReventado"], true);
    assert_eq!(
        e["scheduledAt"],
        schedule::local_iso(at("12:00"), Costa_Rica)
    );
    assert_eq!(e["date"], day().to_string());
    assert_eq!(e["time"], "12:00 PM");
    // Sales 190 + 20; commission 10 % of each line; prizes 100 × 90 + 40 × 2.5.
    assert_eq!(num(&e["totalSales"]), 210.0);
    assert_eq!(num(&e["totalCommission"]), 21.0);
    assert_eq!(num(&e["commissionByNumber"]), 16.0);
    assert_eq!(num(&e["commissionByReventado"]), 5.0);
    assert_eq!(num(&e["totalPrizes"]), 9100.0);
    assert_eq!(num(&e["subtotal"]), 210.0 - 21.0 - 9100.0);
    assert_eq!(num(&e["accumulated"]), -8911.0);
    assert_eq!(e["ticketCount"], 2);
    assert_eq!(e["winningTicketsCount"], 1);
    assert_eq!(e["paidTicketsCount"], 0);
    assert_eq!(e["unpaidTicketsCount"], 1);
    assert_eq!(e["chronologicalIndex"], 1);
    assert_eq!(e["totalChronological"], 1);

    // Buckets, smallest multiplier first; the losing REVENTADO line joins Roja.
    let mults = e["byMultiplier"].as_array().unwrap();
    assert_eq!(mults.len(), 2, "{e}");
    let (r, b) = (&mults[0], &mults[1]);
    assert_eq!(r["multiplierId"], roja.to_string());
    assert_eq!(r["multiplierName"], "Roja");
    assert_eq!(num(&r["multiplierValue"]), 2.5);
    assert_eq!(r["kind"], "REVENTADO");
    assert_eq!(num(&r["totalSales"]), 50.0);
    assert_eq!(num(&r["totalCommission"]), 5.0);
    assert_eq!(num(&r["commissionByNumber"]), 0.0);
    assert_eq!(num(&r["commissionByReventado"]), 5.0);
    assert_eq!(num(&r["totalPrizes"]), 100.0);
    assert_eq!(r["ticketCount"], 2);
    assert_eq!(r["jugadaCount"], 2);
    assert_eq!(r["winningTicketsCount"], 1);
    assert_eq!(b["multiplierId"], s.base.to_string());
    assert_eq!(b["multiplierName"], "Base");
    assert_eq!(num(&b["multiplierValue"]), 90.0);
    assert_eq!(b["kind"], "NUMERO");
    assert_eq!(num(&b["totalSales"]), 160.0);
    assert_eq!(num(&b["totalCommission"]), 16.0);
    assert_eq!(num(&b["commissionByNumber"]), 16.0);
    assert_eq!(num(&b["totalPrizes"]), 9000.0);
    assert_eq!(b["ticketCount"], 2);
    assert_eq!(b["jugadaCount"], 3);

    let t = &d["dayTotals"];
    assert_eq!(num(&t["totalSales"]), 210.0);
    assert_eq!(num(&t["totalCommission"]), 21.0);
    assert_eq!(num(&t["totalPrizes"]), 9100.0);
    assert_eq!(t["totalTickets"], 2);
    assert_eq!(num(&t["totalPaid"]), 0.0);
    assert_eq!(num(&t["totalCollected"]), 0.0);
    assert_eq!(num(&t["totalBalance"]), -8911.0);
    assert_eq!(num(&t["totalRemainingBalance"]), -8911.0);
    assert_eq!(num(&t["accumulated"]), -8911.0);
    let m = &v["meta"];
    assert_eq!(m["readSource"], "primary", "decision 12");
    assert_eq!(num(&m["totals"]["totalSales"]), 210.0);
    assert_eq!(num(&m["totals"]["accumulated"]), -8911.0);
    assert_eq!(m["totalSorteos"], 1);
    assert_eq!(m["totalDays"], 1);
    assert_eq!(m["dateFilter"], "range");
    assert_eq!(m["fromDate"], day().to_string());
    assert_eq!(m["toDate"], day().to_string());
    assert!(m["monthlyAccumulated"].is_object(), "{m}");

    // summaryOnly leaves the buckets out.
    let v = summary(&s, v0, "&summaryOnly=true&scope=mine&status=OPEN&_=1").await;
    let e = &v["data"][0]["sorteos"][0];
    assert!(e.get("byMultiplier").is_none(), "{e}");
    assert_eq!(num(&e["totalSales"]), 210.0);

    // Another lotería filter, and the inactive tickets: nothing.
    let other = Uuid::new_v4();
    let v = summary(&s, v0, &format!("&loteriaId={other}")).await;
    assert_eq!(v["data"], json!([]));
    let v = summary(&s, v0, "&isActive=false").await;
    assert_eq!(v["data"], json!([]));

    // The other seller sees only its own ticket; banca B's seller sees nothing.
    let v = summary(&s, v1, "").await;
    let e = &v["data"][0]["sorteos"][0];
    assert_eq!(num(&e["totalSales"]), 1000.0);
    assert_eq!(num(&e["totalPrizes"]), 90000.0);
    assert_eq!(e["ticketCount"], 1);
    for who in w.b.logins() {
        let v = summary(&s, who, "").await;
        assert_eq!(v["data"], json!([]), "{v}");
        assert_eq!(num(&v["meta"]["totals"]["totalSales"]), 0.0);
        assert!(!v.to_string().contains(&s1.to_string()));
    }
}

#[tokio::test]
async fn movements_and_the_previous_statement_drive_the_running_balance() {
    let s = shop().await;
    let w = &s.w;
    let v0 = &w.a.vendedores[0];
    let s1 = fixtures::sorteo(&w.app, s.loteria, at("12:00"), "OPEN").await;
    sell(
        &s,
        s1,
        v0,
        json!([numero("42", 100.0), reventado("42", 50.0)]),
    )
    .await;
    // No winner and no extra multiplier: the REVENTADO line is a bucket of its own.
    evaluate(&s, s1, json!({"winningNumber": "99"})).await;

    let d = day();
    let before = d - Duration::days(3);
    let (banca, ventana, seller) = (w.a.banca_id, w.a.ventanas[0], v0.user_id);
    exec(
        w,
        &format!(
            "INSERT INTO account_statements (date, month, dimension, banca_id, ventana_id,
                 vendedor_id, remaining_balance, accumulated_balance)
             VALUES ('{before}', to_char(DATE '{before}', 'YYYY-MM'), 'vendedor', '{banca}',
                 '{ventana}', '{seller}', 1000, 1000);
             INSERT INTO account_statements (date, month, dimension, banca_id, ventana_id,
                 vendedor_id, remaining_balance)
             VALUES ('{before}', to_char(DATE '{before}', 'YYYY-MM'), 'ventana', '{banca}',
                 '{ventana}', NULL, 777);
             INSERT INTO account_payments (date, month, time, banca_id, ventana_id, vendedor_id,
                 amount, type, method, notes, is_reversed)
             VALUES ('{d}', to_char(DATE '{d}', 'YYYY-MM'), '08:00', '{banca}', '{ventana}',
                     '{seller}', 50, 'payment', 'cash', NULL, false),
                    ('{d}', to_char(DATE '{d}', 'YYYY-MM'), '20:00', '{banca}', '{ventana}',
                     '{seller}', 300, 'collection', 'transfer', 'cobro', false),
                    ('{d}', to_char(DATE '{d}', 'YYYY-MM'), '21:00', '{banca}', '{ventana}',
                     '{seller}', 999, 'collection', 'cash', NULL, true),
                    ('{d}', to_char(DATE '{d}', 'YYYY-MM'), '21:00', '{banca}', '{ventana}',
                     NULL, 888, 'collection', 'cash', NULL, false);"
        ),
    )
    .await;

    let v = summary(&s, v0, "").await;
    let day0 = &v["data"][0];
    let events = day0["sorteos"].as_array().unwrap();
    // 1000 → +50 (08:00) → +150 (sorteo, 12:00) → −300 (20:00).
    let seen: Vec<(String, f64, f64)> = events
        .iter()
        .map(|e| {
            (
                e["sorteoName"].as_str().unwrap().to_string(),
                num(&e["subtotal"]),
                num(&e["accumulated"]),
            )
        })
        .collect();
    let sorteo_name = events[1]["sorteoName"].as_str().unwrap().to_string();
    assert_eq!(
        seen,
        vec![
            ("Pago recibido".to_string(), 50.0, 1050.0),
            (sorteo_name, 150.0, 1200.0),
            ("Cobro realizado".to_string(), -300.0, 900.0),
        ],
        "{v}"
    );
    let mov = &events[2];
    assert!(mov["sorteoId"].as_str().unwrap().starts_with("mov-"));
    assert_eq!(mov["type"], "collection");
    assert_eq!(num(&mov["amount"]), 300.0);
    assert_eq!(mov["method"], "transfer");
    assert_eq!(mov["notes"], "cobro");
    assert_eq!(mov["time"], "8:00 PM");
    assert_eq!(
        mov["scheduledAt"],
        schedule::local_iso(at("20:00"), Costa_Rica)
    );

    let mults = events[1]["byMultiplier"].as_array().unwrap();
    assert_eq!(mults.len(), 2, "{mults:?}");
    assert_eq!(mults[0]["multiplierId"], s.base.to_string());
    assert_eq!(num(&mults[0]["totalSales"]), 100.0);
    assert_eq!(mults[1]["multiplierId"], Value::Null);
    assert_eq!(mults[1]["kind"], "REVENTADO");
    assert_eq!(num(&mults[1]["totalSales"]), 50.0);
    assert_eq!(events[1]["isReventado"], false);

    let t = &day0["dayTotals"];
    assert_eq!(num(&t["totalSales"]), 150.0);
    assert_eq!(num(&t["totalPaid"]), 50.0);
    assert_eq!(num(&t["totalCollected"]), 300.0);
    assert_eq!(num(&t["totalBalance"]), 150.0);
    assert_eq!(num(&t["totalRemainingBalance"]), -100.0);
    assert_eq!(num(&t["accumulated"]), 900.0);
    assert_eq!(num(&v["meta"]["openingBalance"]), 1000.0);
    assert_eq!(num(&v["meta"]["totals"]["accumulated"]), 900.0);
    assert_eq!(v["meta"]["totalSorteos"], 1);

    // Another seller: no movements, no opening balance.
    let v = summary(&s, &w.a.vendedores[1], "").await;
    assert_eq!(v["data"], json!([]));
    assert_eq!(num(&v["meta"]["totals"]["accumulated"]), 0.0);
    let v = summary(&s, &w.b.vendedores[0], "").await;
    assert_eq!(v["data"], json!([]));
    assert_eq!(num(&v["meta"]["openingBalance"]), 0.0);

    // A balance reset now: the tickets and movements created before it are hidden from the
    // seller, and the statement before it no longer opens the balance.
    exec(
        w,
        &format!(
            "UPDATE users SET settings = jsonb_build_object('balanceResetAt',
                 to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'))
             WHERE id = '{seller}';
             INSERT INTO account_payments (date, month, time, banca_id, ventana_id, vendedor_id,
                 amount, type, method, created_at)
             VALUES ('{d}', to_char(DATE '{d}', 'YYYY-MM'), '22:00', '{banca}', '{ventana}',
                     '{seller}', 40, 'collection', 'cash', now() + interval '1 minute');"
        ),
    )
    .await;
    let v = summary(&s, v0, "&ignoreReset=true").await;
    let events = v["data"][0]["sorteos"].as_array().unwrap();
    assert_eq!(events.len(), 1, "a VENDEDOR cannot ignore the reset: {v}");
    assert_eq!(num(&events[0]["subtotal"]), -40.0);
    assert_eq!(num(&events[0]["accumulated"]), -40.0);
    assert_eq!(num(&v["meta"]["openingBalance"]), 0.0);
    assert_eq!(v["meta"]["totalSorteos"], 0);
}

#[tokio::test]
async fn the_query_is_strict() {
    let s = shop().await;
    let w = &s.w;
    let token = &w.a.vendedores[0].token;
    let get = |q: &'static str| {
        w.app
            .client
            .get(w.app.url(&format!("/api/v1/sorteos/evaluated-summary{q}")))
            .bearer_auth(token)
            .send()
    };
    for q in [
        "?foo=1",
        "?scope=all",
        "?date=ayer",
        "?date=range&fromDate=2026-01-02",
        "?date=range&fromDate=2026-01-05&toDate=2026-01-02",
        "?fromDate=2026-13-01",
        "?isActive=quizas",
        "?loteriaId=nope",
        "?summaryOnly=2",
    ] {
        let body = assert_error(get(q).await.unwrap(), 400, "VALIDATION_ERROR").await;
        assert!(
            body["message"].as_str().unwrap().starts_with("Error"),
            "{q}: {body}"
        );
    }
    // The default is today; the cache buster and the ignored status are accepted.
    let res = get("?_=123&status=EVALUATED&scope=mine&summaryOnly=true")
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let v: Value = res.json().await.unwrap();
    let today = schedule::local_date(Utc::now(), Costa_Rica).to_string();
    assert_eq!(v["meta"]["fromDate"], today);
    assert_eq!(v["meta"]["toDate"], today);
    assert_eq!(v["meta"]["dateFilter"], "today");
    assert_eq!(v["data"], json!([]));
    // Every role may ask (about itself); no token is a 401.
    for who in w.a.logins().into_iter().chain([&w.admin]) {
        let (st, v) = call(
            &w.app,
            Method::GET,
            "/api/v1/sorteos/evaluated-summary?date=week",
            Some(&who.token),
            None,
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{:?}: {v}", who.role);
    }
    let (st, _) = call(
        &w.app,
        Method::GET,
        "/api/v1/sorteos/evaluated-summary",
        None,
        None,
    )
    .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
}
