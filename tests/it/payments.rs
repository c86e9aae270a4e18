//! Prize payments against a real PostgreSQL (issue 7 item 3, decision 10): one model behind
//! `/tickets/:id/pay|reverse-payment|finalize-payment` and `/ticket-payments*`; partial
//! payments, no overpay (also under concurrency), idempotent replays, ownership, reversal.
//! Tickets are sold through the API and made winners with SQL (the evaluation is another
//! issue item).

use futures::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::fixtures::{call, exec, scalar, shop, Login, Shop, World};

/// Sells a ticket of 10 on "07" as `who`; returns its id.
async fn sell(s: &Shop, who: &Login) -> Uuid {
    let body = json!({
        "loteriaId": s.loteria,
        "sorteoId": s.sorteo,
        "jugadas": [{"type": "NUMERO", "number": "07", "amount": 10}],
    });
    let (st, v) = call(
        &s.w.app,
        Method::POST,
        "/api/v1/tickets",
        Some(&who.token),
        Some(&body),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    v["data"]["id"].as_str().unwrap().parse().unwrap()
}

/// Evaluates the sorteo by hand: `winners` get the prize, every other ticket loses.
async fn evaluate(s: &Shop, winners: &[(Uuid, &str)]) {
    exec(
        &s.w,
        &format!(
            "UPDATE tickets SET status = 'EVALUATED' WHERE sorteo_id = '{}' AND status = 'ACTIVE';
             UPDATE sorteos SET status = 'EVALUATED', winning_number = '07' WHERE id = '{}'",
            s.sorteo, s.sorteo
        ),
    )
    .await;
    for (id, prize) in winners {
        exec(
            &s.w,
            &format!(
                "UPDATE jugadas SET is_winner = true, payout = {prize} WHERE ticket_id = '{id}';
                 UPDATE tickets SET status = 'EVALUATED', is_winner = true,
                        total_payout = {prize}, remaining_amount = {prize} WHERE id = '{id}'"
            ),
        )
        .await;
    }
}

/// One winning ticket of vendedor A1 with `prize`.
async fn winner(prize: &str) -> (Shop, Uuid) {
    let s = shop().await;
    let t = sell(&s, &s.w.a.vendedores[0]).await;
    evaluate(&s, &[(t, prize)]).await;
    (s, t)
}

async fn post(s: &Shop, who: &Login, path: &str, body: Value) -> (StatusCode, Value) {
    call(&s.w.app, Method::POST, path, Some(&who.token), Some(&body)).await
}

async fn pay(s: &Shop, who: &Login, t: Uuid, body: Value) -> (StatusCode, Value) {
    post(s, who, &format!("/api/v1/tickets/{t}/pay"), body).await
}

async fn get(s: &Shop, who: &Login, path: &str) -> (StatusCode, Value) {
    call(&s.w.app, Method::GET, path, Some(&who.token), None).await
}

/// Everything a payment writes, to prove a refusal wrote nothing.
async fn footprint(w: &World) -> String {
    scalar(
        w,
        "SELECT (SELECT count(*) FROM ticket_payments)::text || '/' ||
                (SELECT string_agg(status::text || ':' || total_paid::text || ':' ||
                                   remaining_amount::text, ',' ORDER BY id) FROM tickets) || '/' ||
                (SELECT count(*) FROM activity_logs WHERE action LIKE 'TICKET_PAY%')::text",
    )
    .await
}

async fn refused(s: &Shop, who: &Login, path: &str, body: Value, status: u16, code: &str) -> Value {
    let before = footprint(&s.w).await;
    let (st, v) = post(s, who, path, body).await;
    assert_eq!(st.as_u16(), status, "{code}: {v}");
    assert_eq!(v["code"], code, "{v}");
    assert_eq!(v["success"], false);
    assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert_eq!(footprint(&s.w).await, before, "{code} wrote something");
    v
}

async fn count(w: &World, sql: &str) -> i64 {
    scalar(w, sql).await
}

#[tokio::test]
async fn a_full_payment_marks_the_ticket_paid() {
    let (s, t) = winner("900").await;
    let seller = &s.w.a.vendedores[0];
    let (st, v) = pay(
        &s,
        seller,
        t,
        json!({"amountPaid": 900, "method": "transfer"}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let d = &v["data"];
    assert_eq!(d["id"], t.to_string());
    assert_eq!(d["status"], "PAID");
    assert_eq!(d["totalPayout"], 900.0);
    assert_eq!(d["totalPaid"], 900.0);
    assert_eq!(d["remainingAmount"], 0.0);
    assert_eq!(d["paymentMethod"], "transfer");
    let h = d["paymentHistory"].as_array().unwrap();
    assert_eq!(h.len(), 1);
    assert_eq!(h[0]["amountPaid"], 900.0);
    assert_eq!(h[0]["paidById"], seller.user_id.to_string());
    assert_eq!(h[0]["isReversed"], false);
    assert!(h[0]["paidAt"].as_str().unwrap().ends_with("-06:00"));
    assert!(h[0]["paidByName"].is_string());
    assert_eq!(
        count(&s.w, "SELECT count(*) FROM ticket_payments WHERE NOT is_partial AND completed_at IS NOT NULL").await,
        1
    );
    assert_eq!(
        count(
            &s.w,
            "SELECT count(*) FROM activity_logs WHERE action = 'TICKET_PAY'"
        )
        .await,
        1
    );
    // Paid in full: nothing more can be paid.
    refused(
        &s,
        seller,
        &format!("/api/v1/tickets/{t}/pay"),
        json!({"amountPaid": 0.01}),
        400,
        "PAYMENT_EXCEEDS_PRIZE",
    )
    .await;
}

#[tokio::test]
async fn a_partial_payment_then_the_rest() {
    let (s, t) = winner("900").await;
    let seller = &s.w.a.vendedores[0];
    let (st, v) = pay(&s, seller, t, json!({"amountPaid": 300.25})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["status"], "EVALUATED");
    assert_eq!(v["data"]["totalPaid"], 300.25);
    assert_eq!(v["data"]["remainingAmount"], 599.75);
    assert_eq!(v["data"]["paymentMethod"], "cash");
    let (st, v) = pay(
        &s,
        seller,
        t,
        json!({"amountPaid": 599.75, "method": "bitcoin"}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["status"], "PAID");
    assert_eq!(v["data"]["totalPaid"], 900.0);
    assert_eq!(v["data"]["remainingAmount"], 0.0);
    assert_eq!(v["data"]["paymentMethod"], "cash");
    assert_eq!(v["data"]["paymentHistory"].as_array().unwrap().len(), 2);
    let sum: String = scalar(
        &s.w,
        "SELECT sum(amount_paid)::text FROM ticket_payments WHERE NOT is_reversed",
    )
    .await;
    assert_eq!(sum, "900.00");
}

#[tokio::test]
async fn an_overpayment_is_refused_and_changes_nothing() {
    let (s, t) = winner("900").await;
    let seller = &s.w.a.vendedores[0];
    let path = format!("/api/v1/tickets/{t}/pay");
    refused(
        &s,
        seller,
        &path,
        json!({"amountPaid": 900.01}),
        400,
        "PAYMENT_EXCEEDS_PRIZE",
    )
    .await;
    let (st, _) = pay(&s, seller, t, json!({"amountPaid": 500})).await;
    assert_eq!(st, StatusCode::OK);
    refused(
        &s,
        seller,
        &path,
        json!({"amountPaid": 400.01}),
        400,
        "PAYMENT_EXCEEDS_PRIZE",
    )
    .await;
    // Body checks.
    refused(
        &s,
        seller,
        &path,
        json!({"amountPaid": 0}),
        400,
        "VALIDATION_ERROR",
    )
    .await;
    refused(
        &s,
        seller,
        &path,
        json!({"amountPaid": 1.005}),
        400,
        "VALIDATION_ERROR",
    )
    .await;
    refused(
        &s,
        seller,
        &path,
        json!({"amountPaid": 1, "extra": 1}),
        400,
        "VALIDATION_ERROR",
    )
    .await;
    refused(
        &s,
        seller,
        &path,
        json!({"amountPaid": 1, "idempotencyKey": "short"}),
        400,
        "VALIDATION_ERROR",
    )
    .await;
    refused(
        &s,
        seller,
        &path,
        json!({"amountPaid": 1, "notes": "x".repeat(501)}),
        400,
        "VALIDATION_ERROR",
    )
    .await;
}

#[tokio::test]
async fn a_replay_answers_the_original_payment() {
    let (s, t) = winner("900").await;
    let seller = &s.w.a.vendedores[0];
    let body = json!({"amountPaid": 900, "idempotencyKey": "pay-key-0001"});
    let (st1, v1) = pay(&s, seller, t, body.clone()).await;
    assert_eq!(st1, StatusCode::OK, "{v1}");
    // The ticket is fully paid now: the replay still answers (the key is looked up first).
    let (st2, v2) = pay(&s, seller, t, body.clone()).await;
    assert_eq!(st2, StatusCode::OK, "{v2}");
    assert_eq!(v1["data"]["totalPaid"], v2["data"]["totalPaid"]);
    assert_eq!(v1["data"]["paymentHistory"], v2["data"]["paymentHistory"]);
    assert_eq!(count(&s.w, "SELECT count(*) FROM ticket_payments").await, 1);
    // The same key through /ticket-payments: the same payment, cached.
    let (st, v) = post(
        &s,
        seller,
        "/api/v1/ticket-payments",
        json!({"ticketId": t, "amountPaid": 900, "idempotencyKey": "pay-key-0001"}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["meta"]["cached"], true);
    assert_eq!(v["data"]["id"], v1["data"]["paymentHistory"][0]["id"]);
    assert_eq!(count(&s.w, "SELECT count(*) FROM ticket_payments").await, 1);
    // The same key for another amount is a conflict.
    let (st, v) = pay(
        &s,
        seller,
        t,
        json!({"amountPaid": 1, "idempotencyKey": "pay-key-0001"}),
    )
    .await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["code"], "IDEMPOTENCY_PAYLOAD_MISMATCH");
}

#[tokio::test]
async fn concurrent_retries_of_one_key_pay_once() {
    let (s, t) = winner("900").await;
    let seller = &s.w.a.vendedores[0];
    let path = format!("/api/v1/tickets/{t}/pay");
    let body = json!({"amountPaid": 100, "idempotencyKey": "retry-key-0001"});
    let results = join_all((0..5).map(|_| post(&s, seller, &path, body.clone()))).await;
    assert!(
        results.iter().all(|(st, _)| *st == StatusCode::OK),
        "{results:?}"
    );
    assert_eq!(count(&s.w, "SELECT count(*) FROM ticket_payments").await, 1);
    let paid: String = scalar(
        &s.w,
        &format!("SELECT total_paid::text FROM tickets WHERE id = '{t}'"),
    )
    .await;
    assert_eq!(paid, "100.00");
}

#[tokio::test]
async fn concurrent_payments_never_exceed_the_prize() {
    let (s, t) = winner("900").await;
    let seller = &s.w.a.vendedores[0];
    let path = format!("/api/v1/tickets/{t}/pay");
    let body = json!({"amountPaid": 600});
    let results = join_all((0..2).map(|_| post(&s, seller, &path, body.clone()))).await;
    let ok = results
        .iter()
        .filter(|(st, _)| *st == StatusCode::OK)
        .count();
    let over = results
        .iter()
        .filter(|(st, v)| *st == StatusCode::BAD_REQUEST && v["code"] == "PAYMENT_EXCEEDS_PRIZE")
        .count();
    assert_eq!((ok, over), (1, 1), "{results:?}");
    let paid: String = scalar(
        &s.w,
        &format!("SELECT total_paid::text FROM tickets WHERE id = '{t}'"),
    )
    .await;
    assert_eq!(paid, "600.00");
    // Many small ones: exactly as many as fit.
    let body = json!({"amountPaid": 50});
    let results = join_all((0..10).map(|_| post(&s, seller, &path, body.clone()))).await;
    let ok = results
        .iter()
        .filter(|(st, _)| *st == StatusCode::OK)
        .count();
    assert_eq!(ok, 6, "{results:?}");
    let row: (String, String, String) = sqlx::query_as(&format!(
        "SELECT total_paid::text, remaining_amount::text, status::text FROM tickets WHERE id = '{t}'"
    ))
    .fetch_one(&mut s.w.db.connect().await)
    .await
    .unwrap();
    assert_eq!(row, ("900.00".into(), "0.00".into(), "PAID".into()));
    assert_eq!(count(&s.w, "SELECT count(*) FROM ticket_payments").await, 7);
}

#[tokio::test]
async fn only_winning_live_tickets_of_open_draws_are_paid() {
    let s = shop().await;
    let seller = &s.w.a.vendedores[0];
    let loser = sell(&s, seller).await;
    let cancelled = sell(&s, seller).await;
    let active = sell(&s, seller).await;
    let (st, v) = call(
        &s.w.app,
        Method::PATCH,
        &format!("/api/v1/tickets/{cancelled}/cancel"),
        Some(&seller.token),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    // Not yet evaluated: an ACTIVE ticket marked winner is refused by status.
    exec(
        &s.w,
        &format!("UPDATE tickets SET is_winner = true, total_payout = 900 WHERE id = '{active}'"),
    )
    .await;
    let p = |t: Uuid| format!("/api/v1/tickets/{t}/pay");
    let one = json!({"amountPaid": 1});
    refused(
        &s,
        seller,
        &p(active),
        one.clone(),
        409,
        "INVALID_TICKET_STATUS",
    )
    .await;
    evaluate(&s, &[]).await;
    exec(
        &s.w,
        &format!(
            "UPDATE tickets SET is_winner = true, total_payout = 900 WHERE id = '{cancelled}'"
        ),
    )
    .await;
    refused(&s, seller, &p(loser), one.clone(), 409, "TICKET_NOT_WINNER").await;
    refused(
        &s,
        seller,
        &p(cancelled),
        one.clone(),
        409,
        "TICKET_CANCELLED",
    )
    .await;
    refused(
        &s,
        seller,
        &p(Uuid::new_v4()),
        one.clone(),
        404,
        "TICKET_NOT_FOUND",
    )
    .await;
    // A closed draw's tickets are not paid.
    exec(
        &s.w,
        &format!(
            "UPDATE tickets SET is_winner = true, total_payout = 900, remaining_amount = 900
             WHERE id = '{active}';
             UPDATE sorteos SET status = 'CLOSED' WHERE id = '{}'",
            s.sorteo
        ),
    )
    .await;
    refused(&s, seller, &p(active), one.clone(), 409, "SORTEO_CLOSED").await;
}

#[tokio::test]
async fn ownership_decides_who_pays() {
    let (s, t) = winner("900").await;
    let path = format!("/api/v1/tickets/{t}/pay");
    let one = json!({"amountPaid": 1});
    // BANCA cannot pay, even its own banca's tickets, but reads them.
    refused(&s, &s.w.a.banca_user, &path, one.clone(), 403, "FORBIDDEN").await;
    refused(
        &s,
        &s.w.a.banca_user,
        "/api/v1/ticket-payments",
        json!({"ticketId": t, "amountPaid": 1}),
        403,
        "FORBIDDEN",
    )
    .await;
    // Other vendedor, other ventana, other tenant: not found.
    refused(
        &s,
        &s.w.a.vendedores[1],
        &path,
        one.clone(),
        404,
        "TICKET_NOT_FOUND",
    )
    .await;
    refused(
        &s,
        &s.w.a.ventana_users[1],
        &path,
        one.clone(),
        404,
        "TICKET_NOT_FOUND",
    )
    .await;
    refused(
        &s,
        &s.w.b.vendedores[0],
        &path,
        one.clone(),
        404,
        "TICKET_NOT_FOUND",
    )
    .await;
    refused(
        &s,
        &s.w.b.ventana_users[0],
        &path,
        one.clone(),
        404,
        "TICKET_NOT_FOUND",
    )
    .await;
    // The listero of the ventana and the ADMIN pay.
    let (st, v) = pay(&s, &s.w.a.ventana_users[0], t, one.clone()).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, v) = pay(&s, &s.w.admin, t, one.clone()).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["totalPaid"], 2.0);
    // Reads: BANCA of the banca yes, other tenants no.
    let hist = format!("/api/v1/ticket-payments/tickets/{t}/payment-history");
    let (st, v) = get(&s, &s.w.a.banca_user, &hist).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["payments"].as_array().unwrap().len(), 2);
    let pid = v["data"]["payments"][0]["id"].as_str().unwrap().to_string();
    for who in [
        &s.w.b.banca_user,
        &s.w.a.vendedores[1],
        &s.w.b.vendedores[0],
    ] {
        let (st, v) = get(&s, who, &hist).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{v}");
        let (st, v) = get(&s, who, &format!("/api/v1/ticket-payments/{pid}")).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{v}");
        let (st, v) = post(
            &s,
            who,
            &format!("/api/v1/ticket-payments/{pid}/reverse"),
            json!({}),
        )
        .await;
        assert!(matches!(st.as_u16(), 403 | 404), "{v}");
    }
    let (st, _) = get(
        &s,
        &s.w.a.banca_user,
        &format!("/api/v1/ticket-payments/{pid}"),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        count(
            &s.w,
            "SELECT count(*) FROM ticket_payments WHERE is_reversed"
        )
        .await,
        0
    );
}

#[tokio::test]
async fn a_reversal_keeps_the_row_and_reopens_the_ticket() {
    let (s, t) = winner("900").await;
    let seller = &s.w.a.vendedores[0];
    let (st, _) = pay(&s, seller, t, json!({"amountPaid": 900})).await;
    assert_eq!(st, StatusCode::OK);
    refused(
        &s,
        seller,
        &format!("/api/v1/tickets/{t}/reverse-payment"),
        json!({"reason": "abc"}),
        400,
        "VALIDATION_ERROR",
    )
    .await;
    let (st, v) = post(
        &s,
        seller,
        &format!("/api/v1/tickets/{t}/reverse-payment"),
        json!({"reason": "pagado por error"}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let d = &v["data"];
    assert_eq!(d["status"], "EVALUATED");
    assert_eq!(d["totalPaid"], 0.0);
    assert_eq!(d["remainingAmount"], 900.0);
    assert_eq!(d["paymentNotes"], "Revertido: pagado por error");
    assert_eq!(d["paymentHistory"][0]["isReversed"], true);
    assert!(d["paymentHistory"][0]["reversedAt"].is_string());
    assert_eq!(
        count(
            &s.w,
            "SELECT count(*) FROM ticket_payments
             WHERE is_reversed AND reversed_at IS NOT NULL AND reversed_reason = 'pagado por error'"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &s.w,
            "SELECT count(*) FROM activity_logs WHERE action = 'TICKET_PAYMENT_REVERSE'"
        )
        .await,
        1
    );
    // Nothing left to reverse.
    refused(
        &s,
        seller,
        &format!("/api/v1/tickets/{t}/reverse-payment"),
        json!({}),
        409,
        "NO_PAYMENT_TO_REVERSE",
    )
    .await;
    // Paid again after the reversal.
    let (st, v) = pay(&s, seller, t, json!({"amountPaid": 900})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["status"], "PAID");
    assert_eq!(count(&s.w, "SELECT count(*) FROM ticket_payments").await, 2);
}

#[tokio::test]
async fn finalizing_a_partial_payment_marks_the_ticket_paid() {
    let (s, t) = winner("900").await;
    let seller = &s.w.a.vendedores[0];
    let fin = format!("/api/v1/tickets/{t}/finalize-payment");
    refused(&s, seller, &fin, json!({}), 409, "NO_PAYMENT_TO_FINALIZE").await;
    let (st, _) = pay(&s, seller, t, json!({"amountPaid": 400})).await;
    assert_eq!(st, StatusCode::OK);
    let (st, v) = post(&s, seller, &fin, json!({"notes": "cliente acepta"})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let d = &v["data"];
    assert_eq!(d["status"], "PAID");
    assert_eq!(d["totalPaid"], 400.0);
    assert_eq!(d["remainingAmount"], 500.0);
    assert_eq!(d["paymentHistory"][0]["isFinal"], true);
    refused(&s, seller, &fin, json!({}), 409, "PAYMENT_ALREADY_FINAL").await;
    assert_eq!(
        count(
            &s.w,
            "SELECT count(*) FROM activity_logs WHERE action = 'TICKET_PAY_FINALIZE'"
        )
        .await,
        1
    );
    // isFinal on the payment itself does the same.
    let (s, t) = winner("900").await;
    let seller = &s.w.a.vendedores[0];
    let (st, v) = pay(&s, seller, t, json!({"amountPaid": 100, "isFinal": true})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["status"], "PAID");
    assert_eq!(v["data"]["remainingAmount"], 800.0);
}

#[tokio::test]
async fn ticket_payments_and_ticket_pay_are_one_model() {
    let (s, t) = winner("900").await;
    let seller = &s.w.a.vendedores[0];
    let (st, v) = post(
        &s,
        seller,
        "/api/v1/ticket-payments",
        json!({"ticketId": t, "amountPaid": 300, "method": "system", "notes": "primer pago",
               "idempotencyKey": "tp-key-0001", "ventanaId": s.w.a.ventanas[0]}),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let p1 = v["data"].clone();
    assert_eq!(p1["ticketId"], t.to_string());
    assert_eq!(p1["amountPaid"], 300.0);
    assert_eq!(p1["method"], "cash");
    assert_eq!(p1["isPartial"], true);
    assert_eq!(p1["remainingAmount"], 600.0);
    assert_eq!(p1["isReversed"], false);
    let (st, v) = pay(&s, seller, t, json!({"amountPaid": 200})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["totalPaid"], 500.0);
    let ticket_history = v["data"]["paymentHistory"].clone();
    let (st, h) = get(
        &s,
        seller,
        &format!("/api/v1/ticket-payments/tickets/{t}/payment-history"),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{h}");
    let h = &h["data"];
    assert_eq!(h["ticketId"], t.to_string());
    assert!(h["ticketNumber"].is_string());
    assert_eq!(h["totalPayout"], 900.0);
    assert_eq!(h["totalPaid"], 500.0);
    assert_eq!(h["remainingAmount"], 400.0);
    assert_eq!(h["ticketStatus"], "EVALUATED");
    let payments = h["payments"].as_array().unwrap();
    assert_eq!(payments.len(), 2);
    for (p, e) in payments.iter().zip(ticket_history.as_array().unwrap()) {
        assert_eq!(p["id"], e["id"]);
        assert_eq!(p["amountPaid"], e["amountPaid"]);
    }
    // GET one.
    let pid = p1["id"].as_str().unwrap();
    let (st, v) = get(&s, seller, &format!("/api/v1/ticket-payments/{pid}")).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["notes"], "primer pago");
    // PATCH: notes, then final → ticket PAID.
    let (st, v) = call(
        &s.w.app,
        Method::PATCH,
        &format!("/api/v1/ticket-payments/{pid}"),
        Some(&seller.token),
        Some(&json!({"notes": "nota nueva"})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["notes"], "nota nueva");
    let (st, v) = call(
        &s.w.app,
        Method::PATCH,
        &format!("/api/v1/ticket-payments/{pid}"),
        Some(&seller.token),
        Some(&json!({"isFinal": true})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["isFinal"], true);
    let status: String = scalar(
        &s.w,
        &format!("SELECT status::text FROM tickets WHERE id = '{t}'"),
    )
    .await;
    assert_eq!(status, "PAID");
    // Reverse that payment: the ticket follows.
    let (st, v) = post(
        &s,
        seller,
        &format!("/api/v1/ticket-payments/{pid}/reverse"),
        json!({}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["isReversed"], true);
    let (st, v) = post(
        &s,
        seller,
        &format!("/api/v1/ticket-payments/{pid}/reverse"),
        json!({}),
    )
    .await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["code"], "PAYMENT_ALREADY_REVERSED");
    let (_, v) = get(&s, seller, &format!("/api/v1/tickets/{t}")).await;
    let d = &v["data"];
    assert_eq!(d["status"], "EVALUATED");
    assert_eq!(d["totalPaid"], 200.0);
    assert_eq!(d["remainingAmount"], 700.0);
    assert_eq!(d["paymentHistory"].as_array().unwrap().len(), 2);
    assert_eq!(count(&s.w, "SELECT count(*) FROM ticket_payments").await, 2);
}
