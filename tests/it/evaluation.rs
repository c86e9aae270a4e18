//! Evaluating a sorteo and reverting its evaluation against a real PostgreSQL (domain-money
//! §1.5–1.6, decisions 3 and 9): exact payouts, totals that add up, one winner under
//! concurrency, refusals that change nothing, revert → evaluate = evaluate, and payments that
//! are reversed (never deleted) by a forced revert.

use chrono::Utc;
use futures::future::join_all;
use reqwest::{Method, StatusCode};
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::fixtures::{self, call, exec, scalar, shop, Login, Shop, World};

pub(crate) fn numero(n: &str, amount: f64) -> Value {
    json!({"type": "NUMERO", "number": n, "amount": amount})
}

pub(crate) fn reventado(n: &str, amount: f64) -> Value {
    json!({"type": "REVENTADO", "number": n, "reventadoNumber": n, "amount": amount})
}

/// Sells `jugadas` as `who`; returns the ticket id.
pub(crate) async fn sell(s: &Shop, who: &Login, jugadas: Value) -> Uuid {
    let body = json!({"loteriaId": s.loteria, "sorteoId": s.sorteo, "jugadas": jugadas});
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

pub(crate) async fn patch(
    s: &Shop,
    who: &Login,
    what: &str,
    body: Option<&Value>,
) -> (StatusCode, Value) {
    call(
        &s.w.app,
        Method::PATCH,
        &format!("/api/v1/sorteos/{}/{what}", s.sorteo),
        Some(&who.token),
        body,
    )
    .await
}

pub(crate) async fn evaluate(s: &Shop, who: &Login, body: Value) -> (StatusCode, Value) {
    patch(s, who, "evaluate", Some(&body)).await
}

pub(crate) async fn revert(s: &Shop, who: &Login, body: Value) -> (StatusCode, Value) {
    patch(s, who, "revert-evaluation", Some(&body)).await
}

/// The REVENTADO multiplier "Roja" of the shop's lotería, worth 2.5x.
pub(crate) async fn roja(s: &Shop) -> Uuid {
    let id = fixtures::multiplier(&s.w.app, s.loteria, "Roja", 2, "REVENTADO").await;
    exec(
        &s.w,
        &format!("UPDATE loteria_multipliers SET value_x = 2.5 WHERE id = '{id}'"),
    )
    .await;
    id
}

/// Everything evaluate / revert may write, to prove a refusal wrote nothing.
async fn footprint(s: &Shop) -> String {
    scalar(
        &s.w,
        &format!(
            "SELECT (SELECT row(status, winning_number, extra_multiplier_id, extra_multiplier_x,
                               extra_outcome_code, has_winner, updated_at)::text
                     FROM sorteos WHERE id = '{id}') || '/' ||
                    (SELECT COALESCE(string_agg(row(id, status, is_winner, total_payout, total_paid,
                               remaining_amount, updated_at)::text, ',' ORDER BY id), '')
                     FROM tickets WHERE sorteo_id = '{id}') || '/' ||
                    (SELECT COALESCE(string_agg(row(id, is_winner, payout, final_multiplier_x,
                               multiplier_id, updated_at)::text, ',' ORDER BY id), '')
                     FROM jugadas WHERE sorteo_id = '{id}') || '/' ||
                    (SELECT COALESCE(string_agg(row(id, is_reversed, reversed_at)::text, ','
                               ORDER BY id), '') FROM ticket_payments) || '/' ||
                    (SELECT count(*) FROM activity_logs WHERE action::text LIKE 'SORTEO_%')::text
                    || '/' || (SELECT COALESCE(string_agg(row(n.*)::text, ',' ORDER BY number,
                               type, vendedor_id), '')
                               FROM daily_number_sales n WHERE sorteo_id = '{id}')",
            id = s.sorteo
        ),
    )
    .await
}

/// Jugadas, tickets and sorteo as the evaluation left them (for evaluate → revert → evaluate).
async fn outcome(s: &Shop) -> String {
    scalar(
        &s.w,
        &format!(
            "SELECT (SELECT row(status, winning_number, extra_multiplier_id, extra_multiplier_x,
                               extra_outcome_code, has_winner)::text
                     FROM sorteos WHERE id = '{id}') || '/' ||
                    (SELECT string_agg(row(id, status, is_winner, total_payout, total_paid,
                               remaining_amount)::text, ',' ORDER BY id)
                     FROM tickets WHERE sorteo_id = '{id}') || '/' ||
                    (SELECT string_agg(row(id, is_winner, payout, final_multiplier_x,
                               multiplier_id)::text, ',' ORDER BY id)
                     FROM jugadas WHERE sorteo_id = '{id}')",
            id = s.sorteo
        ),
    )
    .await
}

fn round2(x: Decimal) -> Decimal {
    x.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

type JugadaRow = (Uuid, Uuid, String, String, Option<String>, Decimal, Decimal);

/// Live jugadas of live tickets: (jugada, ticket, type, number, reventado number, amount, x).
async fn live_jugadas(s: &Shop) -> Vec<JugadaRow> {
    sqlx::query_as(
        "SELECT j.id, j.ticket_id, j.type::text, j.number, j.reventado_number, j.amount,
                j.final_multiplier_x
         FROM jugadas j JOIN tickets t ON t.id = j.ticket_id
         WHERE j.sorteo_id = $1 AND j.is_active AND NOT j.is_excluded AND j.deleted_at IS NULL
           AND t.deleted_at IS NULL AND t.status NOT IN ('CANCELLED', 'EXCLUDED')",
    )
    .bind(s.sorteo)
    .fetch_all(&mut s.w.db.connect().await)
    .await
    .unwrap()
}

/// The prize of every live ticket recomputed from its jugadas, independently of the SQL.
fn expected_prizes(
    rows: &[JugadaRow],
    winning: &str,
    extra_x: Decimal,
) -> std::collections::BTreeMap<Uuid, Decimal> {
    let mut out = std::collections::BTreeMap::new();
    for (_, ticket, kind, number, rev, amount, x) in rows {
        let won = match kind.as_str() {
            "NUMERO" if number == winning => round2(amount * x),
            "REVENTADO" if extra_x > Decimal::ZERO && rev.as_deref() == Some(winning) => {
                round2(amount * extra_x)
            }
            _ => Decimal::ZERO,
        };
        *out.entry(*ticket).or_insert(Decimal::ZERO) += won;
    }
    out
}

async fn ticket_state(s: &Shop, id: Uuid) -> (String, bool, Decimal, Decimal, Decimal) {
    sqlx::query_as(
        "SELECT status::text, is_winner, total_payout, remaining_amount, total_paid
         FROM tickets WHERE id = $1",
    )
    .bind(id)
    .fetch_one(&mut s.w.db.connect().await)
    .await
    .unwrap()
}

pub(crate) fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

/// Sells the standard set: a NUMERO + REVENTADO winner, a mixed winner, a loser and a
/// cancelled ticket with the winning number. Returns (winner, winner2, loser, cancelled).
pub(crate) async fn standard_sales(s: &Shop) -> (Uuid, Uuid, Uuid, Uuid) {
    let w = &s.w;
    let v0 = &w.a.vendedores[0];
    let v1 = &w.a.vendedores[1];
    let t1 = sell(
        s,
        v0,
        json!([
            numero("07", 100.0),
            numero("42", 50.0),
            reventado("07", 40.0)
        ]),
    )
    .await;
    let t2 = sell(
        s,
        v1,
        json!([
            numero("07", 12.35),
            reventado("07", 0.55),
            numero("42", 3.0),
            reventado("42", 3.0)
        ]),
    )
    .await;
    let t3 = sell(s, v1, json!([numero("42", 10.0), reventado("42", 10.0)])).await;
    let t4 = sell(s, v0, json!([numero("07", 100.0)])).await;
    let (st, v) = call(
        &w.app,
        Method::PATCH,
        &format!("/api/v1/tickets/{t4}/cancel"),
        Some(&v0.token),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    (t1, t2, t3, t4)
}

#[tokio::test]
async fn evaluation_pays_exact_prizes_and_totals_add_up() {
    let s = shop().await;
    let w = &s.w;
    let (t1, t2, t3, t4) = standard_sales(&s).await;
    let roja = roja(&s).await;
    let rows = live_jugadas(&s).await;
    let expected = expected_prizes(&rows, "07", dec("2.5"));

    let (st, v) = evaluate(
        &s,
        &w.a.banca_user,
        json!({"winningNumber": "07", "extraMultiplierId": roja}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let d = &v["data"];
    assert_eq!(d["status"], "EVALUATED");
    assert_eq!(d["winningNumber"], "07");
    assert_eq!(d["extraMultiplierId"], roja.to_string());
    assert_eq!(d["extraMultiplierX"], 2.5);
    assert_eq!(d["extraOutcomeCode"], "Roja");
    assert_eq!(d["hasWinner"], true);
    assert_eq!(d["winnersCount"], 2);
    assert_eq!(d["extraMultiplier"]["name"], "Roja");

    // 100 × 90 + 40 × 2.5; 12.35 × 90 = 1111.50 and 0.55 × 2.5 = 1.375 → 1.38 (half away).
    assert_eq!(
        ticket_state(&s, t1).await,
        ("EVALUATED".into(), true, dec("9100"), dec("9100"), dec("0"))
    );
    assert_eq!(
        ticket_state(&s, t2).await,
        (
            "EVALUATED".into(),
            true,
            dec("1112.88"),
            dec("1112.88"),
            dec("0")
        )
    );
    assert_eq!(
        ticket_state(&s, t3).await,
        ("EVALUATED".into(), false, dec("0"), dec("0"), dec("0"))
    );
    assert_eq!(
        ticket_state(&s, t4).await,
        ("CANCELLED".into(), false, dec("0"), dec("0"), dec("0"))
    );
    let cancelled_winners: i64 = scalar(
        w,
        &format!("SELECT count(*) FROM jugadas WHERE ticket_id = '{t4}' AND (is_winner OR payout IS NOT NULL)"),
    )
    .await;
    assert_eq!(cancelled_winners, 0, "a cancelled ticket is untouched");

    // The winning REVENTADO lines carry the extra multiplier; losing ones keep none.
    let rev: Vec<(bool, Decimal, Option<Uuid>, Option<Decimal>)> = sqlx::query_as(
        "SELECT is_winner, final_multiplier_x, multiplier_id, payout FROM jugadas
         WHERE sorteo_id = $1 AND type = 'REVENTADO' ORDER BY amount",
    )
    .bind(s.sorteo)
    .fetch_all(&mut w.db.connect().await)
    .await
    .unwrap();
    assert_eq!(
        rev,
        vec![
            (true, dec("2.5"), Some(roja), Some(dec("1.38"))),
            (false, dec("0"), None, None),
            (false, dec("0"), None, None),
            (true, dec("2.5"), Some(roja), Some(dec("100"))),
        ]
    );

    // Σ ticket prizes = Σ winning jugada payouts = the independent recomputation.
    let tickets_sum: Decimal = scalar(
        w,
        &format!(
            "SELECT COALESCE(sum(total_payout), 0) FROM tickets WHERE sorteo_id = '{}'",
            s.sorteo
        ),
    )
    .await;
    let jugadas_sum: Decimal = scalar(
        w,
        &format!(
            "SELECT COALESCE(sum(payout), 0) FROM jugadas WHERE sorteo_id = '{}' AND is_winner",
            s.sorteo
        ),
    )
    .await;
    let recomputed: Decimal = expected.values().sum();
    assert_eq!(recomputed, dec("10212.88"));
    assert_eq!((tickets_sum, jugadas_sum), (recomputed, recomputed));
    for (ticket, prize) in &expected {
        assert_eq!(ticket_state(&s, *ticket).await.2, *prize, "ticket {ticket}");
    }

    let logged: i64 = scalar(
        w,
        "SELECT count(*) FROM activity_logs WHERE action::text = 'SORTEO_EVALUATE'",
    )
    .await;
    assert_eq!(logged, 1);

    // A second evaluation is refused and changes nothing.
    let before = footprint(&s).await;
    let (st, v) = evaluate(&s, &w.admin, json!({"winningNumber": "42"})).await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["code"], "INVALID_SORTEO_STATE");
    assert_eq!(footprint(&s).await, before);
}

#[tokio::test]
async fn without_an_extra_multiplier_reventado_lines_lose() {
    let s = shop().await;
    let w = &s.w;
    let (t1, t2, _, _) = standard_sales(&s).await;
    let (st, v) = evaluate(
        &s,
        &w.admin,
        json!({"winningNumber": "07", "extraOutcomeCode": "ROJA"}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["extraOutcomeCode"], Value::Null);
    assert_eq!(v["data"]["extraMultiplierId"], Value::Null);
    assert_eq!(v["data"]["winnersCount"], 2);
    assert_eq!(ticket_state(&s, t1).await.2, dec("9000"));
    assert_eq!(ticket_state(&s, t2).await.2, dec("1111.50"));
    let rev_winners: i64 = scalar(
        w,
        &format!(
            "SELECT count(*) FROM jugadas WHERE sorteo_id = '{}' AND type = 'REVENTADO' AND is_winner",
            s.sorteo
        ),
    )
    .await;
    assert_eq!(rev_winners, 0);
}

#[tokio::test]
async fn refusals_change_nothing() {
    let s = shop().await;
    let w = &s.w;
    standard_sales(&s).await;
    let roja = roja(&s).await;
    let numero_kind: Uuid = scalar(
        w,
        &format!(
            "SELECT id FROM loteria_multipliers WHERE loteria_id = '{}' AND name = 'Base'",
            s.loteria
        ),
    )
    .await;
    let inactive = fixtures::multiplier(&w.app, s.loteria, "Vieja", 5, "REVENTADO").await;
    exec(
        w,
        &format!("UPDATE loteria_multipliers SET is_active = false WHERE id = '{inactive}'"),
    )
    .await;
    let other_loteria =
        fixtures::loteria(&w.app, Some(w.a.banca_id), "NICA", json!({"digits": 2})).await;
    let foreign = fixtures::multiplier(&w.app, other_loteria, "Roja", 5, "REVENTADO").await;
    let other_sorteo = fixtures::multiplier(&w.app, s.loteria, "Solo", 5, "REVENTADO").await;
    exec(
        w,
        &format!(
            "UPDATE loteria_multipliers SET applies_to_sorteo_id = gen_random_uuid() WHERE id = '{other_sorteo}'"
        ),
    )
    .await;

    let before = footprint(&s).await;
    let cases: Vec<(&Login, Value, u16, &str)> = vec![
        (
            &w.a.vendedores[0],
            json!({"winningNumber": "07"}),
            403,
            "FORBIDDEN",
        ),
        (
            &w.a.ventana_users[0],
            json!({"winningNumber": "07"}),
            403,
            "FORBIDDEN",
        ),
        (
            &w.b.banca_user,
            json!({"winningNumber": "07"}),
            404,
            "NOT_FOUND",
        ),
        (
            &w.admin,
            json!({"winningNumber": "7"}),
            400,
            "VALIDATION_ERROR",
        ),
        (
            &w.admin,
            json!({"winningNumber": "007"}),
            400,
            "VALIDATION_ERROR",
        ),
        (
            &w.admin,
            json!({"winningNumber": " 07"}),
            400,
            "VALIDATION_ERROR",
        ),
        (
            &w.admin,
            json!({"winningNumber": "0a"}),
            400,
            "VALIDATION_ERROR",
        ),
        (
            &w.admin,
            json!({"winningNumber": ""}),
            400,
            "VALIDATION_ERROR",
        ),
        (&w.admin, json!({}), 400, "VALIDATION_ERROR"),
        (
            &w.admin,
            json!({"winningNumber": 7}),
            400,
            "VALIDATION_ERROR",
        ),
        (
            &w.admin,
            json!({"winningNumber": "07", "extra": 1}),
            400,
            "VALIDATION_ERROR",
        ),
        (
            &w.admin,
            json!({"winningNumber": "07", "extraMultiplierId": roja, "extraOutcomeCode": "x".repeat(51)}),
            400,
            "VALIDATION_ERROR",
        ),
        (
            &w.admin,
            json!({"winningNumber": "07", "extraMultiplierId": Uuid::new_v4()}),
            400,
            "EXTRA_MULTIPLIER_NOT_FOUND",
        ),
        (
            &w.admin,
            json!({"winningNumber": "07", "extraMultiplierId": inactive}),
            400,
            "EXTRA_MULTIPLIER_INACTIVE",
        ),
        (
            &w.admin,
            json!({"winningNumber": "07", "extraMultiplierId": foreign}),
            400,
            "EXTRA_MULTIPLIER_LOTERIA_MISMATCH",
        ),
        (
            &w.admin,
            json!({"winningNumber": "07", "extraMultiplierId": numero_kind}),
            400,
            "EXTRA_MULTIPLIER_NOT_REVENTADO",
        ),
        (
            &w.admin,
            json!({"winningNumber": "07", "extraMultiplierId": other_sorteo}),
            400,
            "EXTRA_MULTIPLIER_SORTEO_MISMATCH",
        ),
    ];
    for (who, body, status, code) in cases {
        let (st, v) = evaluate(&s, who, body.clone()).await;
        assert_eq!(st.as_u16(), status, "{body}: {v}");
        if status != 403 {
            assert_eq!(v["code"], code, "{body}: {v}");
        }
        assert_eq!(footprint(&s).await, before, "{body} changed something");
    }
    // Revert of an OPEN sorteo, and revert by those who may not.
    for (who, status) in [
        (&w.admin, 409),
        (&w.a.vendedores[0], 403),
        (&w.a.ventana_users[0], 403),
        (&w.b.banca_user, 404),
    ] {
        let (st, v) = revert(&s, who, json!({})).await;
        assert_eq!(st.as_u16(), status, "{v}");
    }
    assert_eq!(footprint(&s).await, before);

    // Another banca's BANCA cannot revert an evaluated one either.
    let (st, v) = evaluate(&s, &w.admin, json!({"winningNumber": "42"})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let before = footprint(&s).await;
    for who in [&w.b.banca_user, &w.a.vendedores[0], &w.a.ventana_users[0]] {
        let (st, v) = revert(&s, who, json!({"reason": "porque sí"})).await;
        assert!(
            st == StatusCode::NOT_FOUND || st == StatusCode::FORBIDDEN,
            "{v}"
        );
    }
    let (st, v) = revert(&s, &w.admin, json!({"reason": "no"})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    let (st, v) = revert(&s, &w.admin, json!({"why": "porque sí"})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(footprint(&s).await, before);
}

#[tokio::test]
async fn concurrent_evaluations_exactly_one_wins() {
    let s = shop().await;
    let w = &s.w;
    standard_sales(&s).await;
    let bodies = [
        (&w.admin, json!({"winningNumber": "07"})),
        (&w.a.banca_user, json!({"winningNumber": "42"})),
        (&w.admin, json!({"winningNumber": "42"})),
        (&w.a.banca_user, json!({"winningNumber": "07"})),
    ];
    let results = join_all(bodies.iter().map(|(who, b)| evaluate(&s, who, b.clone()))).await;
    let ok: Vec<&Value> = results
        .iter()
        .filter(|(st, _)| *st == StatusCode::OK)
        .map(|(_, v)| v)
        .collect();
    assert_eq!(ok.len(), 1, "{results:?}");
    for (st, v) in &results {
        if *st != StatusCode::OK {
            assert_eq!(*st, StatusCode::CONFLICT, "{v}");
            assert_eq!(v["code"], "INVALID_SORTEO_STATE");
        }
    }
    let winning = ok[0]["data"]["winningNumber"].as_str().unwrap().to_string();
    let stored: String = scalar(
        w,
        &format!(
            "SELECT winning_number FROM sorteos WHERE id = '{}'",
            s.sorteo
        ),
    )
    .await;
    assert_eq!(stored, winning);
    let logged: i64 = scalar(
        w,
        "SELECT count(*) FROM activity_logs WHERE action::text = 'SORTEO_EVALUATE'",
    )
    .await;
    assert_eq!(logged, 1);
    let expected: Decimal = expected_prizes(&live_jugadas(&s).await, &winning, Decimal::ZERO)
        .values()
        .sum();
    let total: Decimal = scalar(
        w,
        &format!(
            "SELECT COALESCE(sum(total_payout), 0) FROM tickets WHERE sorteo_id = '{}'",
            s.sorteo
        ),
    )
    .await;
    assert_eq!(total, expected);
}

#[tokio::test]
async fn revert_restores_everything_and_reevaluation_is_identical() {
    let s = shop().await;
    let w = &s.w;
    let (t1, t2, t3, t4) = standard_sales(&s).await;
    let roja = roja(&s).await;
    let pristine = outcome(&s).await;
    let body =
        json!({"winningNumber": "07", "extraMultiplierId": roja, "extraOutcomeCode": "ROJA-1"});
    let (st, v) = evaluate(&s, &w.a.banca_user, body.clone()).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["extraOutcomeCode"], "ROJA-1");
    let once = outcome(&s).await;

    let (st, v) = revert(
        &s,
        &w.a.banca_user,
        json!({"reason": "número mal digitado"}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let d = &v["data"];
    assert_eq!(d["status"], "OPEN");
    assert_eq!(d["winningNumber"], Value::Null);
    assert_eq!(d["extraMultiplierId"], Value::Null);
    assert_eq!(d["extraMultiplierX"], Value::Null);
    assert_eq!(d["extraOutcomeCode"], Value::Null);
    assert_eq!(d["hasWinner"], false);
    for t in [t1, t2, t3] {
        assert_eq!(
            ticket_state(&s, t).await,
            ("ACTIVE".into(), false, dec("0"), dec("0"), dec("0"))
        );
    }
    assert_eq!(ticket_state(&s, t4).await.0, "CANCELLED");
    assert_eq!(
        outcome(&s).await,
        pristine,
        "revert restores the sold state"
    );
    let logged: i64 = scalar(
        w,
        "SELECT count(*) FROM activity_logs WHERE action::text = 'SORTEO_REVERT_EVALUATION'
           AND details->>'reason' = 'número mal digitado'",
    )
    .await;
    assert_eq!(logged, 1);

    // A second revert: the sorteo is OPEN.
    let (st, v) = revert(&s, &w.a.banca_user, json!({})).await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["code"], "INVALID_SORTEO_STATE");

    let (st, v) = evaluate(&s, &w.a.banca_user, body).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(
        outcome(&s).await,
        once,
        "evaluate → revert → evaluate = evaluate"
    );
}

#[tokio::test]
async fn revert_after_payment_is_refused_unless_an_admin_forces_it() {
    let s = shop().await;
    let w = &s.w;
    let (t1, _, _, _) = standard_sales(&s).await;
    let (st, v) = evaluate(&s, &w.a.banca_user, json!({"winningNumber": "07"})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let payment: Uuid = sqlx::query_scalar(
        "WITH p AS (
             INSERT INTO ticket_payments (ticket_id, banca_id, amount_paid, paid_by_id, is_partial,
                                          remaining_amount)
             VALUES ($1, $2, 1000, $3, true, 8000) RETURNING id),
         t AS (
             UPDATE tickets SET total_paid = 1000, remaining_amount = 8000, last_payment_at = now(),
                 paid_by_id = $3, payment_method = 'cash', payment_history = '[{\"amountPaid\": 1000}]'
             WHERE id = $1)
         SELECT id FROM p",
    )
    .bind(t1)
    .bind(w.a.banca_id)
    .bind(w.admin.user_id)
    .fetch_one(&mut w.db.connect().await)
    .await
    .unwrap();

    let before = footprint(&s).await;
    for (who, body) in [
        (&w.a.banca_user, json!({})),
        (
            &w.a.banca_user,
            json!({"force": true, "reason": "lo digo yo"}),
        ),
        (&w.admin, json!({"reason": "sin forzar"})),
        (&w.admin, json!({"force": false})),
    ] {
        let (st, v) = revert(&s, who, body.clone()).await;
        assert_eq!(st, StatusCode::CONFLICT, "{body}: {v}");
        assert_eq!(v["code"], "PRIZES_ALREADY_PAID", "{v}");
        assert_eq!(footprint(&s).await, before, "{body} changed something");
    }

    let (st, v) = revert(
        &s,
        &w.admin,
        json!({"force": true, "reason": "resultado oficial corregido"}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["status"], "OPEN");
    let row: (bool, Option<Uuid>, Option<String>, bool, Decimal) = sqlx::query_as(
        "SELECT is_reversed, reversed_by, reversed_reason, reversed_at IS NOT NULL, amount_paid
         FROM ticket_payments WHERE id = $1",
    )
    .bind(payment)
    .fetch_one(&mut w.db.connect().await)
    .await
    .unwrap();
    assert_eq!(
        row,
        (
            true,
            Some(w.admin.user_id),
            Some("Reversión forzada de la evaluación: resultado oficial corregido".into()),
            true,
            dec("1000"),
        ),
        "the payment is kept and marked reversed"
    );
    let t: (String, Decimal, Decimal, Option<Uuid>, bool) = sqlx::query_as(
        "SELECT status::text, total_paid, remaining_amount, paid_by_id, payment_history IS NOT NULL
         FROM tickets WHERE id = $1",
    )
    .bind(t1)
    .fetch_one(&mut w.db.connect().await)
    .await
    .unwrap();
    assert_eq!(t, ("ACTIVE".into(), dec("0"), dec("0"), None, true));
    let audit: (i64, String) = sqlx::query_as(
        "SELECT count(*), max(user_id::text) FROM activity_logs
         WHERE action::text = 'SORTEO_REVERT_EVALUATION' AND (details->>'forced')::boolean
           AND details->'paymentsReversed' ? $1",
    )
    .bind(payment.to_string())
    .fetch_one(&mut w.db.connect().await)
    .await
    .unwrap();
    assert_eq!(audit, (1, w.admin.user_id.to_string()));

    // With every payment reversed, evaluating and reverting again needs no force.
    let (st, v) = evaluate(&s, &w.a.banca_user, json!({"winningNumber": "07"})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, v) = revert(&s, &w.a.banca_user, json!({})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let payments: i64 = scalar(w, "SELECT count(*) FROM ticket_payments").await;
    assert_eq!(payments, 1, "payments are never deleted");
}

#[tokio::test]
async fn a_large_sorteo_evaluates_and_reverts_with_exact_totals() {
    let s = shop().await;
    let w = &s.w;
    let v0 = &w.a.vendedores[0];
    let ventana = w.a.ventanas[0];
    // 20,000 tickets × 5 jugadas, written directly.
    exec(
        w,
        &format!(
            "INSERT INTO tickets (id, ticket_number, business_date, banca_id, loteria_id, sorteo_id,
                                  ventana_id, vendedor_id, total_amount)
             SELECT gen_random_uuid(), 'B' || g, current_date, '{banca}', '{loteria}', '{sorteo}',
                    '{ventana}', '{vendedor}', 50
             FROM generate_series(1, 20000) g",
            banca = w.a.banca_id,
            loteria = s.loteria,
            sorteo = s.sorteo,
            vendedor = v0.user_id,
        ),
    )
    .await;
    exec(
        w,
        &format!(
            "INSERT INTO jugadas (id, ticket_id, sorteo_id, banca_id, position, type, number,
                                  amount, final_multiplier_x)
             SELECT gen_random_uuid(), t.id, t.sorteo_id, t.banca_id, p, 'NUMERO',
                    lpad(((abs(hashtext(t.id::text)) + p * 17) % 100)::text, 2, '0'), 10, 90
             FROM tickets t, generate_series(0, 4) p WHERE t.sorteo_id = '{}'",
            s.sorteo
        ),
    )
    .await;
    exec(w, "ANALYZE tickets").await;
    exec(w, "ANALYZE jugadas").await;
    let expected: Decimal = expected_prizes(&live_jugadas(&s).await, "07", Decimal::ZERO)
        .values()
        .sum();
    // Speed is measured by `banca bench --scenarios e`; this checks the set-based statements
    // on a sorteo of realistic size.
    let (st, v) = evaluate(&s, &w.admin, json!({"winningNumber": "07"})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let total: Decimal = scalar(
        w,
        &format!(
            "SELECT sum(total_payout) FROM tickets WHERE sorteo_id = '{}' AND status = 'EVALUATED'",
            s.sorteo
        ),
    )
    .await;
    assert_eq!(total, expected);
    let numbers: i64 = scalar(
        w,
        &format!(
            "SELECT count(*) FROM daily_number_sales WHERE sorteo_id = '{}'
             HAVING sum(total_amount) = 1000000 AND sum(jugada_count) = 100000",
            s.sorteo
        ),
    )
    .await;
    assert_eq!(numbers, 100, "one row per number, all sales counted");
    let (st, v) = revert(&s, &w.admin, json!({})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let total: Decimal = scalar(
        w,
        &format!(
            "SELECT COALESCE(sum(total_payout), 0) FROM tickets WHERE sorteo_id = '{}'",
            s.sorteo
        ),
    )
    .await;
    assert_eq!(total, Decimal::ZERO);
}

#[tokio::test]
async fn sales_in_flight_are_evaluated_or_refused_never_left_active() {
    let s = shop().await;
    let w = &s.w;
    let v0 = &w.a.vendedores[0];
    let body =
        json!({"loteriaId": s.loteria, "sorteoId": s.sorteo, "jugadas": [numero("07", 10.0)]});
    let sales = (0..12).map(|_| {
        call(
            &w.app,
            Method::POST,
            "/api/v1/tickets",
            Some(&v0.token),
            Some(&body),
        )
    });
    let (sold, (st, v)) = futures::join!(
        join_all(sales),
        evaluate(&s, &w.admin, json!({"winningNumber": "07"}))
    );
    assert_eq!(st, StatusCode::OK, "{v}");
    let created = sold
        .iter()
        .filter(|(st, _)| *st == StatusCode::CREATED)
        .count() as i64;
    for (st, v) in &sold {
        assert!(
            *st == StatusCode::CREATED || st.is_client_error(),
            "{st}: {v}"
        );
    }
    let (evaluated, active, total): (i64, i64, Decimal) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE status = 'EVALUATED'), count(*) FILTER (WHERE status = 'ACTIVE'),
                COALESCE(sum(total_payout), 0)
         FROM tickets WHERE sorteo_id = $1",
    )
    .bind(s.sorteo)
    .fetch_one(&mut w.db.connect().await)
    .await
    .unwrap();
    assert_eq!((evaluated, active), (created, 0));
    assert_eq!(total, Decimal::from(900 * created));
}

/// Property: for random tickets (NUMERO lines on two multipliers, REVENTADO lines, amounts with
/// cents), a random winning number and an optional extra multiplier, the evaluation pays
/// Σ ticket payouts = Σ winning jugada payouts = an independent recomputation from what was
/// sold, ticket by ticket; and revert + evaluate gives the same numbers again.
#[tokio::test]
async fn random_sorteos_pay_what_an_independent_recomputation_says() {
    use rand::{Rng, SeedableRng};
    let s = shop().await;
    let w = &s.w;
    let admin = &w.admin;
    let roja = roja(&s).await;
    let alt = fixtures::multiplier(&w.app, s.loteria, "Alta", 85, "NUMERO").await;
    exec(
        w,
        &format!("UPDATE loteria_multipliers SET value_x = 85.5 WHERE id = '{alt}'"),
    )
    .await;
    let base: Uuid = scalar(
        w,
        &format!(
            "SELECT id FROM loteria_multipliers WHERE loteria_id = '{}' AND name = 'Base'",
            s.loteria
        ),
    )
    .await;
    let x_of = |m: Uuid| -> Decimal {
        if m == alt {
            "85.5".parse().unwrap()
        } else {
            Decimal::from(90)
        }
    };
    let money = banca::domain::commission::money;
    let sellers = [&w.a.vendedores[0], &w.a.vendedores[1]];
    for seed in 0..8u64 {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let sorteo = fixtures::sorteo(
            &w.app,
            s.loteria,
            Utc::now() + chrono::Duration::days(2) + chrono::Duration::minutes(seed as i64),
            "OPEN",
        )
        .await;
        // Numbers from a small pool so that winners are common.
        let pool = ["03", "07", "11", "42", "77"];
        let mut expected: std::collections::HashMap<Uuid, Decimal> = Default::default();
        let winning = pool[rng.gen_range(0..pool.len())];
        let with_extra = rng.gen_bool(0.5);
        let tickets = rng.gen_range(3..9);
        for _ in 0..tickets {
            let mut lines = Vec::new();
            let mut sold: Vec<(bool, &str, Decimal, Uuid)> = Vec::new();
            for _ in 0..rng.gen_range(1..4) {
                let n = pool[rng.gen_range(0..pool.len())];
                if sold.iter().any(|l| l.1 == n) {
                    continue;
                }
                let cents: i64 = rng.gen_range(100..50_000);
                let amount = Decimal::new(cents, 2);
                let m = if rng.gen_bool(0.5) { base } else { alt };
                lines.push(
                    json!({"type": "NUMERO", "number": n, "amount": amount, "multiplierId": m}),
                );
                sold.push((false, n, amount, m));
                if rng.gen_bool(0.4) {
                    let rev = Decimal::new(rng.gen_range(1..=cents), 2);
                    lines.push(json!({"type": "REVENTADO", "number": n, "reventadoNumber": n, "amount": rev}));
                    sold.push((true, n, rev, roja));
                }
            }
            let who = sellers[rng.gen_range(0..2)];
            let body = json!({"loteriaId": s.loteria, "sorteoId": sorteo, "jugadas": lines});
            let (st, v) = call(
                &w.app,
                Method::POST,
                "/api/v1/tickets",
                Some(&who.token),
                Some(&body),
            )
            .await;
            assert_eq!(st, StatusCode::CREATED, "{v}");
            let id = Uuid::parse_str(v["data"]["id"].as_str().unwrap()).unwrap();
            let prize: Decimal = sold
                .iter()
                .filter(|l| l.1 == winning)
                .map(|&(is_rev, _, amount, m)| match (is_rev, with_extra) {
                    (false, _) => money(amount * x_of(m)),
                    (true, true) => money(amount * "2.5".parse::<Decimal>().unwrap()),
                    (true, false) => Decimal::ZERO,
                })
                .sum();
            expected.insert(id, prize);
        }
        let mut body = json!({"winningNumber": winning});
        if with_extra {
            body["extraMultiplierId"] = json!(roja);
        }
        let path = format!("/api/v1/sorteos/{sorteo}/evaluate");
        for round in 0..2 {
            let (st, v) = call(
                &w.app,
                Method::PATCH,
                &path,
                Some(&admin.token),
                Some(&body),
            )
            .await;
            assert_eq!(st, StatusCode::OK, "seed {seed} round {round}: {v}");
            let rows = payout_rows(w, sorteo).await;
            assert_eq!(rows.len(), expected.len());
            let mut sum_tickets = Decimal::ZERO;
            let mut sum_jugadas = Decimal::ZERO;
            let mut sum_expected = Decimal::ZERO;
            for (id, ticket_payout, jugada_payouts) in rows {
                let e = expected[&id];
                assert_eq!(ticket_payout, e, "seed {seed}: ticket {id}");
                assert_eq!(jugada_payouts, e, "seed {seed}: jugadas of {id}");
                sum_tickets += ticket_payout;
                sum_jugadas += jugada_payouts;
                sum_expected += e;
            }
            assert_eq!(
                (sum_tickets, sum_jugadas),
                (sum_expected, sum_expected),
                "seed {seed}"
            );
            if round == 0 {
                let (st, v) = call(
                    &w.app,
                    Method::PATCH,
                    &format!("/api/v1/sorteos/{sorteo}/revert-evaluation"),
                    Some(&admin.token),
                    Some(&json!({})),
                )
                .await;
                assert_eq!(st, StatusCode::OK, "seed {seed}: {v}");
                let paid: Decimal = scalar(
                    w,
                    &format!("SELECT COALESCE(sum(total_payout), 0) FROM tickets WHERE sorteo_id = '{sorteo}'"),
                )
                .await;
                assert_eq!(paid, Decimal::ZERO, "revert clears the prizes");
            }
        }
    }
}

/// (ticket id, its totalPayout, Σ payout of its winning jugadas) of every ticket of `sorteo`.
async fn payout_rows(w: &World, sorteo: Uuid) -> Vec<(Uuid, Decimal, Decimal)> {
    sqlx::query_as(
        "SELECT t.id, t.total_payout,
                COALESCE((SELECT sum(j.payout) FROM jugadas j
                           WHERE j.ticket_id = t.id AND j.is_winner), 0)
         FROM tickets t WHERE t.sorteo_id = $1 ORDER BY t.id",
    )
    .bind(sorteo)
    .fetch_all(&mut w.db.connect().await)
    .await
    .unwrap()
}

/// The client's payout screen end to end: the real evaluation, then `GET
/// /tickets?status=EVALUATED&hasWinner=true&scope=…`, the ticket detail with its payout fields,
/// a partial and a final payment, and the paid ticket leaving the list.
#[tokio::test]
async fn the_payout_screen_reads_winners_payouts_and_payment_history() {
    let s = shop().await;
    let w = &s.w;
    let (t1, t2, t3, _) = standard_sales(&s).await;
    let roja = roja(&s).await;
    let (st, v) = evaluate(
        &s,
        &w.admin,
        json!({"winningNumber": "07", "extraMultiplierId": roja}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");

    // (The sorteo is tomorrow's; a sorteo filter lifts the default "today" date filter.)
    let list = format!(
        "/api/v1/tickets?status=EVALUATED&hasWinner=true&scope=all&page=1&pageSize=20&sorteoId={}",
        s.sorteo
    );
    let (st, v) = call(&w.app, Method::GET, &list, Some(&w.admin.token), None).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let mut ids: Vec<String> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    let mut want = vec![t1.to_string(), t2.to_string()];
    want.sort();
    assert_eq!(ids, want, "only the winners, never the loser {t3}");
    assert_eq!(v["meta"]["total"], 2);

    // The seller sees its own winner with the fields the payout modal reads.
    let seller = &w.a.vendedores[0];
    let (st, v) = call(
        &w.app,
        Method::GET,
        &format!(
            "/api/v1/tickets?status=EVALUATED&hasWinner=true&scope=mine&sorteoId={}",
            s.sorteo
        ),
        Some(&seller.token),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["data"].as_array().unwrap().len(), 1);
    let t = &v["data"][0];
    assert_eq!(t["id"], t1.to_string());
    assert_eq!(t["isWinner"], true);
    assert_eq!(t["totalPayout"], 9100.0);
    assert_eq!(t["remainingAmount"], 9100.0);
    assert_eq!(t["totalPaid"], 0.0);
    let jugadas = t["jugadas"].as_array().unwrap();
    let winning: Vec<(&str, f64, f64)> = jugadas
        .iter()
        .filter(|j| j["isWinner"] == true)
        .map(|j| {
            (
                j["type"].as_str().unwrap(),
                j["payout"].as_f64().unwrap(),
                j["finalMultiplierX"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        winning,
        vec![("NUMERO", 9000.0, 90.0), ("REVENTADO", 100.0, 2.5)]
    );
    let rev = jugadas.iter().find(|j| j["type"] == "REVENTADO").unwrap();
    assert_eq!(rev["winAmount"], 100.0);

    // A partial payment, then the rest: the detail follows, the list drops the paid ticket.
    let pay = |amount: f64, fin: bool| {
        let body = json!({"amountPaid": amount, "method": "cash",
                          "idempotencyKey": Uuid::new_v4(), "isFinal": fin});
        let path = format!("/api/v1/tickets/{t1}/pay");
        async move {
            call(
                &w.app,
                Method::POST,
                &path,
                Some(&seller.token),
                Some(&body),
            )
            .await
        }
    };
    let (st, v) = pay(100.0, false).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, v) = call(
        &w.app,
        Method::GET,
        &format!("/api/v1/tickets/{t1}"),
        Some(&seller.token),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let d = &v["data"];
    let rev = d["jugadas"].as_array().unwrap().iter();
    let rev: Vec<_> = rev.filter(|j| j["type"] == "REVENTADO").collect();
    assert_eq!(
        rev[0]["multiplier"]["name"], "Roja",
        "the detail names the extra multiplier"
    );
    assert_eq!(d["status"], "EVALUATED");
    assert_eq!(d["totalPaid"], 100.0);
    assert_eq!(d["remainingAmount"], 9000.0);
    assert_eq!(d["paymentMethod"], "cash");
    assert!(d["lastPaymentAt"].is_string());
    let h = &d["paymentHistory"][0];
    assert_eq!(h["amountPaid"], 100.0);
    assert_eq!(h["isFinal"], false);
    assert_eq!(h["isReversed"], false);
    assert!(h["paidAt"].is_string() && h["paidByName"].is_string());
    let (st, v) = pay(9000.0, true).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["status"], "PAID");
    assert_eq!(v["data"]["remainingAmount"], 0.0);
    let (st, v) = call(&w.app, Method::GET, &list, Some(&w.admin.token), None).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(
        v["meta"]["total"], 1,
        "the paid ticket left the EVALUATED list"
    );
    assert_eq!(v["data"][0]["id"], t2.to_string());
}
