//! Account movements against a real PostgreSQL (issue 9, domain-money §5.4, §5.2 reset,
//! invariants 6, 8, 9): payments add to and collections subtract from the entity's statement of
//! the day and every later day, in the movement's transaction; idempotent replays; the scoping
//! of each role; reversal; concurrent movements on one entity; deleting an empty statement; the
//! vendedor's balance reset.

use chrono::{Datelike, Duration, NaiveDate, Timelike, Utc};
use futures::future::join_all;
use reqwest::{Method, StatusCode};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::fixtures::{self, call, exec, scalar, Login, World};

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn num(v: &Value) -> Decimal {
    match v {
        Value::Number(n) => n.to_string().parse().unwrap(),
        other => panic!("not a number: {other}"),
    }
}

fn today(w: &World) -> NaiveDate {
    Utc::now()
        .with_timezone(&w.app.state.config.business_timezone)
        .date_naive()
}

async fn pay(w: &World, who: &Login, body: Value) -> (StatusCode, Value) {
    call(
        &w.app,
        Method::POST,
        "/api/v1/accounts/payment",
        Some(&who.token),
        Some(&body),
    )
    .await
}

/// Posts a movement that must be accepted; returns the answer's `data`.
async fn pay_ok(w: &World, who: &Login, body: Value) -> Value {
    let (st, v) = pay(w, who, body).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    v["data"].clone()
}

fn movement(kind: &str, day: NaiveDate, amount: &str, target: Value) -> Value {
    let mut b =
        json!({"date": day.to_string(), "amount": dec(amount), "type": kind, "method": "cash"});
    for (k, v) in target.as_object().unwrap() {
        b[k] = v.clone();
    }
    b
}

/// `(totalPaid, totalCollected, remainingBalance)` of a stored statement.
async fn stored(
    w: &World,
    dim: &str,
    entity: Uuid,
    day: NaiveDate,
) -> Option<(Decimal, Decimal, Decimal)> {
    sqlx::query_as(
        "SELECT total_paid, total_collected, remaining_balance FROM account_statements
         WHERE dimension = $1 AND entity_id = $2 AND date = $3",
    )
    .bind(dim)
    .bind(entity)
    .bind(day)
    .fetch_optional(&mut w.db.connect().await)
    .await
    .unwrap()
}

fn figures(paid: &str, collected: &str, remaining: &str) -> Option<(Decimal, Decimal, Decimal)> {
    Some((dec(paid), dec(collected), dec(remaining)))
}

async fn count(w: &World, table: &str) -> i64 {
    scalar(w, &format!("SELECT count(*) FROM {table}")).await
}

#[tokio::test]
async fn payments_add_collections_subtract_and_later_days_follow() {
    let w = fixtures::world().await;
    let seller = &w.a.vendedores[0];
    let d0 = today(&w);
    let (d1, d2) = (d0 - Duration::days(2), d0 - Duration::days(1));
    let target = json!({"vendedorId": seller.user_id});

    // Day 2 first: a collection of 20 → the seller owes 20 less (−20).
    let v = pay_ok(
        &w,
        &w.admin,
        movement("collection", d2, "20", target.clone()),
    )
    .await;
    assert_eq!(v["statement"]["remainingBalance"], json!(-20.0), "{v}");
    assert_eq!(
        stored(&w, "vendedor", seller.user_id, d2).await,
        figures("0", "20", "-20")
    );

    // Then day 1: a payment of 100.50 → +100.50, and day 2 follows at once (80.50).
    let v = pay_ok(
        &w,
        &w.admin,
        movement("payment", d1, "100.50", target.clone()),
    )
    .await;
    let (p, s) = (&v["payment"], &v["statement"]);
    assert_eq!(p["type"], "payment");
    assert_eq!(p["method"], "cash");
    assert_eq!(p["date"], d1.to_string());
    assert_eq!(p["month"], format!("{:04}-{:02}", d1.year(), d1.month()));
    assert_eq!(p["time"], "00:00");
    assert_eq!(p["bancaId"], json!(w.a.banca_id));
    assert_eq!(
        p["ventanaId"],
        json!(w.a.ventanas[0]),
        "the ventana is inferred"
    );
    assert_eq!(p["vendedorId"], json!(seller.user_id));
    assert_eq!(p["paidById"], json!(w.admin.user_id));
    assert_eq!(p["paidByName"], "admin.root");
    assert_eq!(p["isReversed"], false);
    assert_eq!(p["isFinal"], false);
    assert_eq!(p["accountStatementId"], s["id"]);
    assert_eq!(s["dimension"], "vendedor");
    assert_eq!(num(&s["totalPaid"]), dec("100.50"));
    assert_eq!(num(&s["remainingBalance"]), dec("100.50"));
    assert_eq!(num(&s["accumulatedBalance"]), dec("100.50"));
    assert_eq!(num(&s["totalAdjustments"]), Decimal::ZERO);
    for key in [
        "totalSales",
        "totalPayouts",
        "listeroCommission",
        "vendedorCommission",
        "balance",
        "totalCollected",
        "ticketCount",
        "isSettled",
        "canEdit",
        "settledAt",
        "month",
        "date",
    ] {
        assert!(s.get(key).is_some(), "statement lacks {key}: {s}");
    }
    assert_eq!(
        stored(&w, "vendedor", seller.user_id, d2).await,
        figures("0", "20", "80.50")
    );

    // A second movement of day 1 (a collection) lowers both days.
    pay_ok(
        &w,
        &w.admin,
        movement("collection", d1, "0.50", target.clone()),
    )
    .await;
    assert_eq!(
        stored(&w, "vendedor", seller.user_id, d1).await,
        figures("100.50", "0.50", "100")
    );
    assert_eq!(
        stored(&w, "vendedor", seller.user_id, d2).await,
        figures("0", "20", "80")
    );

    // Each level counts only its own movements (invariant 8): the ventana and banca rows of
    // those days carry none of the vendedor's.
    assert_eq!(stored(&w, "ventana", w.a.ventanas[0], d1).await, None);
    // A ventana-level movement by the listero; a banca-level one by the BANCA user.
    let v = pay_ok(
        &w,
        &w.a.ventana_users[0],
        movement("payment", d2, "7", json!({})),
    )
    .await;
    assert_eq!(v["payment"]["vendedorId"], Value::Null);
    assert_eq!(v["statement"]["dimension"], "ventana");
    assert_eq!(
        stored(&w, "ventana", w.a.ventanas[0], d2).await,
        figures("7", "0", "7")
    );
    let v = pay_ok(
        &w,
        &w.a.banca_user,
        movement("collection", d2, "3", json!({})),
    )
    .await;
    assert_eq!(v["statement"]["dimension"], "banca");
    assert_eq!(
        stored(&w, "banca", w.a.banca_id, d2).await,
        figures("0", "3", "-3")
    );
    assert_eq!(
        stored(&w, "vendedor", seller.user_id, d2).await,
        figures("0", "20", "80")
    );

    // The audit trail.
    let logged: i64 = scalar(
        &w,
        "SELECT count(*) FROM activity_logs WHERE action = 'ACCOUNT_PAYMENT_CREATE'",
    )
    .await;
    assert_eq!(logged, 5);
}

#[tokio::test]
async fn a_movement_in_an_earlier_month_rewrites_that_months_closing() {
    let w = fixtures::world().await;
    let seller = &w.a.vendedores[1];
    let t = today(&w);
    let first = NaiveDate::from_ymd_opt(t.year(), t.month(), 1).unwrap();
    let prev = first - Duration::days(1);
    let month = format!("{:04}-{:02}", prev.year(), prev.month());
    pay_ok(
        &w,
        &w.a.banca_user,
        movement("payment", prev, "40", json!({"vendedorId": seller.user_id})),
    )
    .await;
    let closing = |month: String| {
        let w = &w;
        async move {
            let c: (Decimal, Decimal) = sqlx::query_as(
                "SELECT total_paid, remaining_balance FROM monthly_closing_balances
                 WHERE closing_month = $1 AND dimension = 'vendedor' AND vendedor_id = $2",
            )
            .bind(&month)
            .bind(seller.user_id)
            .fetch_one(&mut w.db.connect().await)
            .await
            .unwrap();
            c
        }
    };
    assert_eq!(closing(month.clone()).await, (dec("40"), dec("40")));
    // Two months back: that month's closing, and the previous month's remaining balance.
    let older = NaiveDate::from_ymd_opt(prev.year(), prev.month(), 1).unwrap() - Duration::days(1);
    let older_month = format!("{:04}-{:02}", older.year(), older.month());
    let v = pay_ok(
        &w,
        &w.admin,
        movement(
            "collection",
            older,
            "10",
            json!({"vendedorId": seller.user_id}),
        ),
    )
    .await;
    assert_eq!(closing(older_month.clone()).await, (dec("0"), dec("-10")));
    assert_eq!(closing(month.clone()).await, (dec("40"), dec("30")));
    // A reversal rewrites the closings too.
    let (st, r) = call(
        &w.app,
        Method::POST,
        "/api/v1/accounts/reverse-payment",
        Some(&w.admin.token),
        Some(&json!({"paymentId": v["payment"]["id"]})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert_eq!(closing(older_month).await, (dec("0"), dec("0")));
    assert_eq!(closing(month).await, (dec("40"), dec("40")));
    // Today's statement does not exist yet; the carried balance shows on the next movement.
    let v = pay_ok(
        &w,
        &w.a.banca_user,
        movement("collection", t, "15", json!({"vendedorId": seller.user_id})),
    )
    .await;
    assert_eq!(num(&v["statement"]["remainingBalance"]), dec("25"));
}

#[tokio::test]
async fn an_idempotency_key_replays_the_stored_movement() {
    let w = fixtures::world().await;
    let seller = &w.a.vendedores[0];
    let d = today(&w) - Duration::days(1);
    let body = {
        let mut b = movement("payment", d, "12.34", json!({"vendedorId": seller.user_id}));
        b["idempotencyKey"] = json!("mov-key-0001");
        b
    };
    let (st, first) = pay(&w, &w.a.ventana_users[0], body.clone()).await;
    assert_eq!(st, StatusCode::CREATED, "{first}");
    assert!(first.get("meta").is_none_or(|m| m.get("cached").is_none()));
    let (st, again) = pay(&w, &w.a.ventana_users[0], body.clone()).await;
    assert_eq!(st, StatusCode::OK, "{again}");
    assert_eq!(again["meta"]["cached"], true);
    assert_eq!(
        again["data"]["payment"]["id"],
        first["data"]["payment"]["id"]
    );
    assert_eq!(
        again["data"]["statement"]["id"],
        first["data"]["statement"]["id"]
    );
    assert_eq!(num(&again["data"]["statement"]["totalPaid"]), dec("12.34"));
    assert_eq!(count(&w, "account_payments").await, 1);
    assert_eq!(
        stored(&w, "vendedor", seller.user_id, d).await,
        figures("12.34", "0", "12.34")
    );

    // Concurrent replays: still one movement.
    let tries = join_all((0..6).map(|_| pay(&w, &w.admin, body.clone()))).await;
    assert!(tries.iter().all(|(s, _)| *s == StatusCode::OK), "{tries:?}");
    assert_eq!(count(&w, "account_payments").await, 1);

    // The same key for another movement, or from another tenant: 409, nothing written.
    let mut other = body.clone();
    other["amount"] = json!(99);
    let (st, v) = pay(&w, &w.a.ventana_users[0], other).await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["code"], "IDEMPOTENCY_PAYLOAD_MISMATCH");
    let mut foreign = movement("payment", d, "12.34", json!({}));
    foreign["idempotencyKey"] = json!("mov-key-0001");
    let (st, v) = pay(&w, &w.b.banca_user, foreign).await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["code"], "IDEMPOTENCY_KEY_CONFLICT");
    assert!(!v.to_string().contains(&seller.user_id.to_string()), "{v}");
    assert_eq!(count(&w, "account_payments").await, 1);

    // Fresh keys at once: each is a movement of its own.
    let keyed = (0..5).map(|i| {
        let mut b = movement("payment", d, "1", json!({"vendedorId": seller.user_id}));
        b["idempotencyKey"] = json!(format!("mov-key-1{i:03}"));
        b
    });
    let res = join_all(keyed.map(|b| pay(&w, &w.admin, b))).await;
    assert!(
        res.iter().all(|(s, _)| *s == StatusCode::CREATED),
        "{res:?}"
    );
    assert_eq!(count(&w, "account_payments").await, 6);
    assert_eq!(
        stored(&w, "vendedor", seller.user_id, d).await,
        figures("17.34", "0", "17.34")
    );
}

#[tokio::test]
async fn each_role_is_held_to_its_scope_and_refusals_write_nothing() {
    let w = fixtures::world().await;
    let d = today(&w) - Duration::days(1);
    let a = &w.a;
    let b = &w.b;
    let cases: Vec<(&Login, Value, u16, &str)> = vec![
        (&a.vendedores[0], json!({}), 403, "FORBIDDEN"),
        (
            &a.vendedores[0],
            json!({"vendedorId": a.vendedores[0].user_id}),
            403,
            "FORBIDDEN",
        ),
        (
            &a.ventana_users[0],
            json!({"ventanaId": a.ventanas[1]}),
            403,
            "FORBIDDEN",
        ),
        (
            &a.ventana_users[0],
            json!({"vendedorId": a.vendedores[1].user_id}),
            403,
            "FORBIDDEN",
        ),
        (
            &a.ventana_users[0],
            json!({"vendedorId": b.vendedores[0].user_id}),
            404,
            "VENDEDOR_NOT_FOUND",
        ),
        (
            &a.ventana_users[0],
            json!({"ventanaId": b.ventanas[0]}),
            403,
            "FORBIDDEN",
        ),
        (
            &a.ventana_users[0],
            json!({"bancaId": b.banca_id}),
            403,
            "FORBIDDEN",
        ),
        (
            &a.ventana_users[0],
            json!({"vendedorId": a.ventana_users[1].user_id}),
            404,
            "VENDEDOR_NOT_FOUND",
        ),
        (
            &a.banca_user,
            json!({"vendedorId": b.vendedores[0].user_id}),
            404,
            "VENDEDOR_NOT_FOUND",
        ),
        (
            &a.banca_user,
            json!({"ventanaId": b.ventanas[1]}),
            404,
            "VENTANA_NOT_FOUND",
        ),
        (
            &a.banca_user,
            json!({"bancaId": b.banca_id}),
            403,
            "FORBIDDEN",
        ),
        (
            &a.banca_user,
            json!({"vendedorId": Uuid::new_v4()}),
            404,
            "VENDEDOR_NOT_FOUND",
        ),
        (&w.admin, json!({}), 400, "TARGET_REQUIRED"),
        (
            &w.admin,
            json!({"ventanaId": Uuid::new_v4()}),
            404,
            "VENTANA_NOT_FOUND",
        ),
        (
            &w.admin,
            json!({"bancaId": Uuid::new_v4()}),
            404,
            "BANCA_NOT_FOUND",
        ),
    ];
    for (who, target, status, code) in cases {
        let (st, v) = pay(&w, who, movement("payment", d, "5", target.clone())).await;
        assert_eq!(st.as_u16(), status, "{:?} {target}: {v}", who.role);
        assert_eq!(v["code"], code, "{:?} {target}: {v}", who.role);
    }
    // Malformed bodies (strict schema).
    let t = today(&w);
    let mut bad = vec![
        json!({"date": (t + Duration::days(1)).to_string(), "amount": 5, "type": "payment", "method": "cash", "bancaId": a.banca_id}),
        json!({"date": "2026/01/01", "amount": 5, "type": "payment", "method": "cash", "bancaId": a.banca_id}),
        json!({"date": d.to_string(), "amount": 0, "type": "payment", "method": "cash", "bancaId": a.banca_id}),
        json!({"date": d.to_string(), "amount": -3, "type": "payment", "method": "cash", "bancaId": a.banca_id}),
        json!({"date": d.to_string(), "amount": 1.234, "type": "payment", "method": "cash", "bancaId": a.banca_id}),
        json!({"date": d.to_string(), "amount": 5, "type": "gift", "method": "cash", "bancaId": a.banca_id}),
        json!({"date": d.to_string(), "amount": 5, "type": "payment", "method": "bitcoin", "bancaId": a.banca_id}),
        json!({"date": d.to_string(), "amount": 5, "type": "payment", "method": "cash", "bancaId": a.banca_id, "extra": 1}),
        json!({"date": d.to_string(), "amount": 5, "type": "payment", "method": "cash", "bancaId": a.banca_id, "time": "7:00"}),
        json!({"date": d.to_string(), "amount": 5, "type": "payment", "method": "cash", "bancaId": a.banca_id, "idempotencyKey": "short"}),
        json!({"amount": 5, "type": "payment", "method": "cash", "bancaId": a.banca_id}),
    ];
    let local = Utc::now().with_timezone(&w.app.state.config.business_timezone);
    if local.hour() < 23 {
        // Today, one hour ahead: a future time.
        bad.push(json!({"date": t.to_string(), "time": format!("{:02}:{:02}", local.hour() + 1, local.minute()), "amount": 5, "type": "payment", "method": "cash", "bancaId": a.banca_id}));
    }
    for body in bad {
        let (st, v) = pay(&w, &w.admin, body.clone()).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{body}: {v}");
        assert_eq!(v["code"], "VALIDATION_ERROR", "{body}: {v}");
    }
    assert_eq!(count(&w, "account_payments").await, 0);
    assert_eq!(count(&w, "account_statements").await, 0);
    let logged: i64 = scalar(
        &w,
        "SELECT count(*) FROM activity_logs WHERE action LIKE 'ACCOUNT_%'",
    )
    .await;
    assert_eq!(logged, 0);

    // What is allowed: ADMIN precedence vendedor > ventana > banca (the rest inferred), a
    // VENTANA for one of its vendedores, a time earlier today.
    let v = pay_ok(&w, &w.admin, movement("payment", d, "5", json!({"vendedorId": a.vendedores[1].user_id, "ventanaId": b.ventanas[0], "bancaId": b.banca_id}))).await;
    assert_eq!(v["payment"]["bancaId"], json!(a.banca_id));
    assert_eq!(v["payment"]["ventanaId"], json!(a.ventanas[1]));
    let v = pay_ok(
        &w,
        &w.admin,
        movement(
            "payment",
            d,
            "5",
            json!({"ventanaId": b.ventanas[0], "bancaId": a.banca_id}),
        ),
    )
    .await;
    assert_eq!(v["payment"]["bancaId"], json!(b.banca_id));
    assert_eq!(v["statement"]["dimension"], "ventana");
    let v = pay_ok(
        &w,
        &a.ventana_users[0],
        movement(
            "collection",
            d,
            "5",
            json!({"vendedorId": a.vendedores[0].user_id}),
        ),
    )
    .await;
    assert_eq!(v["statement"]["dimension"], "vendedor");
    let v = pay_ok(
        &w,
        &a.banca_user,
        movement(
            "payment",
            t,
            "5",
            json!({"ventanaId": a.ventanas[1], "time": "00:00", "notes": "  efectivo  "}),
        ),
    )
    .await;
    assert_eq!(v["payment"]["notes"], "efectivo");
    assert_eq!(v["payment"]["time"], "00:00");
}

#[tokio::test]
async fn a_reversal_takes_the_movement_out_once_and_keeps_the_row() {
    let w = fixtures::world().await;
    let seller = &w.a.vendedores[0];
    let (d1, d2) = (today(&w) - Duration::days(2), today(&w) - Duration::days(1));
    let v = pay_ok(
        &w,
        &w.a.ventana_users[0],
        movement("payment", d1, "60", json!({"vendedorId": seller.user_id})),
    )
    .await;
    let id = v["payment"]["id"].as_str().unwrap().to_string();
    pay_ok(
        &w,
        &w.admin,
        movement(
            "collection",
            d2,
            "10",
            json!({"vendedorId": seller.user_id}),
        ),
    )
    .await;
    assert_eq!(
        stored(&w, "vendedor", seller.user_id, d2).await,
        figures("0", "10", "50")
    );

    let rev = |who: &Login, body: Value| {
        let w = &w;
        let token = who.token.clone();
        async move {
            call(
                &w.app,
                Method::POST,
                "/api/v1/accounts/reverse-payment",
                Some(&token),
                Some(&body),
            )
            .await
        }
    };
    let refusals: Vec<(&Login, Value, u16, &str)> = vec![
        (seller, json!({"paymentId": id}), 403, "FORBIDDEN"),
        (
            &w.a.ventana_users[1],
            json!({"paymentId": id}),
            404,
            "PAYMENT_NOT_FOUND",
        ),
        (
            &w.b.banca_user,
            json!({"paymentId": id}),
            404,
            "PAYMENT_NOT_FOUND",
        ),
        (
            &w.b.ventana_users[0],
            json!({"paymentId": id}),
            404,
            "PAYMENT_NOT_FOUND",
        ),
        (
            &w.admin,
            json!({"paymentId": Uuid::new_v4()}),
            404,
            "PAYMENT_NOT_FOUND",
        ),
        (
            &w.admin,
            json!({"paymentId": id, "reason": "abc"}),
            400,
            "VALIDATION_ERROR",
        ),
        (
            &w.admin,
            json!({"paymentId": id, "extra": true}),
            400,
            "VALIDATION_ERROR",
        ),
    ];
    for (who, body, status, code) in refusals {
        let (st, v) = rev(who, body.clone()).await;
        assert_eq!(st.as_u16(), status, "{:?} {body}: {v}", who.role);
        assert_eq!(v["code"], code, "{body}: {v}");
    }
    assert_eq!(
        stored(&w, "vendedor", seller.user_id, d2).await,
        figures("0", "10", "50")
    );

    let (st, v) = rev(
        &w.a.ventana_users[0],
        json!({"paymentId": id, "reason": "registrado por error"}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let p = &v["data"]["payment"];
    assert_eq!(p["isReversed"], true);
    assert_eq!(p["reversedReason"], "registrado por error");
    assert_eq!(
        p["reversedByUser"]["id"],
        json!(w.a.ventana_users[0].user_id)
    );
    assert_eq!(p["reversedByUser"]["name"], "ventana.a1");
    assert!(p["reversedAt"].is_string());
    assert_eq!(num(&v["data"]["statement"]["totalPaid"]), Decimal::ZERO);
    assert_eq!(
        stored(&w, "vendedor", seller.user_id, d1).await,
        figures("0", "0", "0")
    );
    assert_eq!(
        stored(&w, "vendedor", seller.user_id, d2).await,
        figures("0", "10", "-10")
    );

    let (st, v) = rev(&w.admin, json!({"paymentId": id})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["code"], "PAYMENT_ALREADY_REVERSED");
    assert_eq!(count(&w, "account_payments").await, 2, "never deleted");
    let logged: i64 = scalar(
        &w,
        "SELECT count(*) FROM activity_logs WHERE action = 'ACCOUNT_PAYMENT_REVERSE'",
    )
    .await;
    assert_eq!(logged, 1);
}

#[tokio::test]
async fn concurrent_movements_on_one_entity_all_count() {
    let w = fixtures::world().await;
    let seller = &w.a.vendedores[0];
    let (d1, d2) = (today(&w) - Duration::days(1), today(&w));
    let people = [&w.admin, &w.a.banca_user, &w.a.ventana_users[0]];
    // 20 payments of 1.00 and 10 collections of 0.25 on day 1, 10 payments of 0.10 on day 2,
    // all at once, by three people.
    let mut bodies = Vec::new();
    for i in 0..20 {
        bodies.push((
            people[i % 3],
            movement("payment", d1, "1.00", json!({"vendedorId": seller.user_id})),
        ));
    }
    for i in 0..10 {
        bodies.push((
            people[i % 3],
            movement(
                "collection",
                d1,
                "0.25",
                json!({"vendedorId": seller.user_id}),
            ),
        ));
        bodies.push((
            people[(i + 1) % 3],
            movement("payment", d2, "0.10", json!({"vendedorId": seller.user_id})),
        ));
    }
    let res = join_all(bodies.iter().map(|(who, b)| pay(&w, who, b.clone()))).await;
    for (st, v) in &res {
        assert_eq!(*st, StatusCode::CREATED, "{v}");
    }
    assert_eq!(
        stored(&w, "vendedor", seller.user_id, d1).await,
        figures("20", "2.50", "17.50")
    );
    assert_eq!(
        stored(&w, "vendedor", seller.user_id, d2).await,
        figures("1", "0", "18.50")
    );
    let unlinked: i64 = scalar(
        &w,
        "SELECT count(*) FROM account_payments WHERE account_statement_id IS NULL",
    )
    .await;
    assert_eq!(unlinked, 0, "every movement points at its statement");
    // The last answer of day 2 saw every day-2 movement committed before it: the answers'
    // balances are all different (each answer is the statement right after its movement).
    let mut day2: Vec<Decimal> = res
        .iter()
        .filter(|(_, v)| v["data"]["payment"]["date"] == d2.to_string())
        .map(|(_, v)| num(&v["data"]["statement"]["totalPaid"]))
        .collect();
    day2.sort();
    day2.dedup();
    assert_eq!(day2.len(), 10, "{day2:?}");
}

#[tokio::test]
async fn payment_history_is_scoped_and_paged() {
    let w = fixtures::world().await;
    let d = today(&w) - Duration::days(1);
    let [s1, s2] = [&w.a.vendedores[0], &w.a.vendedores[1]];
    pay_ok(
        &w,
        &w.admin,
        movement("payment", d, "1", json!({"vendedorId": s1.user_id})),
    )
    .await;
    pay_ok(
        &w,
        &w.admin,
        movement("payment", d, "2", json!({"vendedorId": s2.user_id})),
    )
    .await;
    pay_ok(
        &w,
        &w.admin,
        movement("payment", d, "3", json!({"ventanaId": w.a.ventanas[0]})),
    )
    .await;
    pay_ok(
        &w,
        &w.admin,
        movement("payment", d, "4", json!({"bancaId": w.a.banca_id})),
    )
    .await;
    pay_ok(
        &w,
        &w.admin,
        movement(
            "payment",
            d,
            "5",
            json!({"vendedorId": w.b.vendedores[0].user_id}),
        ),
    )
    .await;
    pay_ok(
        &w,
        &w.admin,
        movement(
            "payment",
            d - Duration::days(1),
            "6",
            json!({"vendedorId": s1.user_id}),
        ),
    )
    .await;

    let amounts = |v: &Value| -> Vec<Decimal> {
        let mut a: Vec<Decimal> = v["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| num(&p["amount"]))
            .collect();
        a.sort();
        a
    };
    let get = |who: &Login, q: String| {
        let w = &w;
        let token = who.token.clone();
        async move {
            call(
                &w.app,
                Method::GET,
                &format!("/api/v1/accounts/payment-history?{q}"),
                Some(&token),
                None,
            )
            .await
        }
    };
    let ds = d.to_string();
    let ok = [
        (
            &w.admin,
            format!("date={ds}"),
            vec!["1", "2", "3", "4", "5"],
        ),
        (
            &w.a.banca_user,
            format!("date={ds}"),
            vec!["1", "2", "3", "4"],
        ),
        (
            &w.a.banca_user,
            format!("date={ds}&ventanaId={}", w.a.ventanas[0]),
            vec!["1", "3"],
        ),
        (
            &w.a.banca_user,
            format!("date={ds}&vendedorId={}", w.b.vendedores[0].user_id),
            vec![],
        ),
        (&w.a.ventana_users[0], format!("date={ds}"), vec!["1", "3"]),
        (
            &w.a.ventana_users[0],
            format!("date={ds}&vendedorId={}", s1.user_id),
            vec!["1"],
        ),
        (s1, format!("date={ds}&_=123"), vec!["1"]),
        (s2, format!("date={ds}"), vec!["2"]),
        (&w.b.banca_user, format!("date={ds}"), vec!["5"]),
    ];
    for (who, q, want) in ok {
        let (st, v) = get(who, q.clone()).await;
        assert_eq!(st, StatusCode::OK, "{q}: {v}");
        let want: Vec<Decimal> = want.iter().map(|s| dec(s)).collect();
        assert_eq!(amounts(&v), want, "{:?} {q}", who.role);
    }
    let (st, v) = get(&w.admin, format!("date={ds}&page=2&pageSize=2")).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["data"].as_array().unwrap().len(), 2);
    assert_eq!(v["meta"]["total"], 5);
    assert_eq!(v["meta"]["totalPages"], 3);
    assert_eq!(v["meta"]["hasNextPage"], true);

    let refused = [
        (s1, format!("date={ds}&vendedorId={}", s2.user_id), 403),
        (
            &w.a.ventana_users[0],
            format!("date={ds}&ventanaId={}", w.a.ventanas[1]),
            403,
        ),
        (
            &w.a.ventana_users[0],
            format!("date={ds}&vendedorId={}", s2.user_id),
            403,
        ),
        (&w.admin, String::new(), 400),
        (&w.admin, "date=ayer".to_string(), 400),
        (&w.admin, format!("date={ds}&other=1"), 400),
        (&w.admin, format!("date={ds}&pageSize=1000"), 400),
    ];
    for (who, q, status) in refused {
        let (st, v) = get(who, q.clone()).await;
        assert_eq!(st.as_u16(), status, "{q}: {v}");
        assert!(v["code"].is_string(), "{v}");
    }
}

#[tokio::test]
async fn only_an_empty_open_statement_can_be_deleted() {
    let w = fixtures::world().await;
    let seller = &w.a.vendedores[0];
    let (d1, d2) = (today(&w) - Duration::days(2), today(&w) - Duration::days(1));
    let v = pay_ok(
        &w,
        &w.admin,
        movement("payment", d1, "10", json!({"vendedorId": seller.user_id})),
    )
    .await;
    let st1 = v["statement"]["id"].as_str().unwrap().to_string();
    let pid = v["payment"]["id"].as_str().unwrap().to_string();
    let del = |who: &Login, id: String| {
        let w = &w;
        let token = who.token.clone();
        async move {
            call(
                &w.app,
                Method::DELETE,
                &format!("/api/v1/accounts/statement/{id}"),
                Some(&token),
                None,
            )
            .await
        }
    };
    for who in [&w.a.banca_user, &w.a.ventana_users[0], seller] {
        let (st, v) = del(who, st1.clone()).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    }
    let (st, v) = del(&w.admin, st1.clone()).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["code"], "STATEMENT_HAS_MOVEMENTS");
    let (st, v) = del(&w.admin, Uuid::new_v4().to_string()).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{v}");
    assert_eq!(v["code"], "STATEMENT_NOT_FOUND");

    // Reversed: the row is empty now and can go.
    let (st, v) = call(
        &w.app,
        Method::POST,
        "/api/v1/accounts/reverse-payment",
        Some(&w.admin.token),
        Some(&json!({"paymentId": pid})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");

    // A row with tickets (figures written as a rebuild would) and a settled row stay.
    let v = pay_ok(
        &w,
        &w.admin,
        movement("payment", d2, "1", json!({"ventanaId": w.a.ventanas[1]})),
    )
    .await;
    let st2 = v["statement"]["id"].as_str().unwrap().to_string();
    exec(
        &w,
        &format!(
            "UPDATE account_payments SET is_reversed = true WHERE account_statement_id = '{st2}';
                       UPDATE account_statements SET ticket_count = 2 WHERE id = '{st2}'"
        ),
    )
    .await;
    let (st, v) = del(&w.admin, st2.clone()).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["code"], "STATEMENT_HAS_TICKETS");
    exec(&w, &format!("UPDATE account_statements SET ticket_count = 0, settled_at = now(), is_settled = true WHERE id = '{st2}'")).await;
    let (st, v) = del(&w.admin, st2.clone()).await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["code"], "STATEMENT_SETTLED");
    let left: i64 = scalar(
        &w,
        &format!("SELECT count(*) FROM account_statements WHERE id = '{st2}'"),
    )
    .await;
    assert_eq!(left, 1);

    let (st, v) = del(&w.admin, st1.clone()).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["deleted"], true);
    let left: i64 = scalar(
        &w,
        &format!("SELECT count(*) FROM account_statements WHERE id = '{st1}'"),
    )
    .await;
    assert_eq!(left, 0);
    let kept: Option<Uuid> = scalar(
        &w,
        &format!("SELECT account_statement_id FROM account_payments WHERE id = '{pid}'"),
    )
    .await;
    assert_eq!(kept, None, "the reversed movement stays, unlinked");
    let logged: i64 = scalar(
        &w,
        "SELECT count(*) FROM activity_logs WHERE action = 'ACCOUNT_STATEMENT_DELETE'",
    )
    .await;
    assert_eq!(logged, 1);
}

#[tokio::test]
async fn a_balance_reset_starts_the_vendedor_from_zero_today() {
    let w = fixtures::world().await;
    let seller = &w.a.vendedores[0];
    let t = today(&w);
    let y = t - Duration::days(1);
    exec(
        &w,
        &format!(
            "UPDATE users SET settings = '{{\"theme\":\"dark\"}}' WHERE id = '{}'",
            seller.user_id
        ),
    )
    .await;
    let target = json!({"vendedorId": seller.user_id});
    pay_ok(&w, &w.admin, movement("payment", y, "50", target.clone())).await;
    pay_ok(&w, &w.admin, movement("payment", t, "30", target.clone())).await;
    assert_eq!(
        stored(&w, "vendedor", seller.user_id, t).await,
        figures("30", "0", "80")
    );

    let reset = |who: &Login, body: Value| {
        let w = &w;
        let token = who.token.clone();
        async move {
            call(
                &w.app,
                Method::POST,
                "/api/v1/accounts/reset-balance",
                Some(&token),
                Some(&body),
            )
            .await
        }
    };
    let refusals: Vec<(&Login, Value, u16)> = vec![
        (
            &w.a.ventana_users[0],
            json!({"vendedorId": seller.user_id}),
            403,
        ),
        (seller, json!({"vendedorId": seller.user_id}), 403),
        (&w.b.banca_user, json!({"vendedorId": seller.user_id}), 404),
        (
            &w.a.banca_user,
            json!({"vendedorId": w.b.vendedores[0].user_id}),
            404,
        ),
        (
            &w.a.banca_user,
            json!({"vendedorId": w.a.ventana_users[0].user_id}),
            404,
        ),
        (&w.a.banca_user, json!({}), 400),
        (
            &w.a.banca_user,
            json!({"vendedorId": seller.user_id, "other": 1}),
            400,
        ),
    ];
    for (who, body, status) in refusals {
        let (st, v) = reset(who, body.clone()).await;
        assert_eq!(st.as_u16(), status, "{:?} {body}: {v}", who.role);
        assert!(v["code"].is_string(), "{v}");
    }
    let has_reset: bool = scalar(
        &w,
        &format!(
            "SELECT settings ? 'balanceResetAt' FROM users WHERE id = '{}'",
            seller.user_id
        ),
    )
    .await;
    assert!(!has_reset);

    let (st, v) = reset(&w.a.banca_user, json!({"vendedorId": seller.user_id})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let at = v["data"]["balanceResetAt"].as_str().unwrap().to_string();
    assert!(chrono::DateTime::parse_from_rfc3339(&at).is_ok(), "{at}");
    let settings: Value = scalar(
        &w,
        &format!("SELECT settings FROM users WHERE id = '{}'", seller.user_id),
    )
    .await;
    assert_eq!(settings, json!({"theme": "dark", "balanceResetAt": at}));
    let logged: i64 = scalar(
        &w,
        "SELECT count(*) FROM activity_logs WHERE action = 'ACCOUNT_BALANCE_RESET'",
    )
    .await;
    assert_eq!(logged, 1);

    // Today's statement follows in the same transaction: earlier movements no longer count,
    // and the opening is 0 on the reset day.
    assert_eq!(
        stored(&w, "vendedor", seller.user_id, t).await,
        figures("0", "0", "0")
    );
    assert_eq!(
        num(&v["data"]["statement"]["remainingBalance"]),
        Decimal::ZERO
    );
    // Movements after the reset count.
    let v = pay_ok(&w, &w.admin, movement("collection", t, "4", target.clone())).await;
    assert_eq!(num(&v["statement"]["remainingBalance"]), dec("-4"));
    // Yesterday stays as it was.
    assert_eq!(
        stored(&w, "vendedor", seller.user_id, y).await,
        figures("50", "0", "50")
    );

    // Revert: the key goes (other settings stay) and today counts everything again.
    let (st, v) = reset(
        &w.admin,
        json!({"vendedorId": seller.user_id, "revert": true}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["balanceResetAt"], Value::Null);
    let settings: Value = scalar(
        &w,
        &format!("SELECT settings FROM users WHERE id = '{}'", seller.user_id),
    )
    .await;
    assert_eq!(settings, json!({"theme": "dark"}));
    assert_eq!(
        stored(&w, "vendedor", seller.user_id, t).await,
        figures("30", "4", "76")
    );
}
