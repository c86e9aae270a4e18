//! The sale path against a real PostgreSQL: `POST /tickets` (every refusal of §3.12 writes
//! nothing), limits under concurrency (also across two instances), idempotency, cancel and
//! restore, exact money.

use std::time::Duration;

use chrono::{Timelike, Utc};
use futures::future::join_all;
use reqwest::{Method, StatusCode};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::common;
use crate::fixtures::{self, call, exec, scalar, shop, Login, Shop, World};

fn body(s: &Shop, jugadas: Value) -> Value {
    json!({"loteriaId": s.loteria, "sorteoId": s.sorteo, "jugadas": jugadas})
}

fn numero(n: &str, amount: f64) -> Value {
    json!({"type": "NUMERO", "number": n, "amount": amount})
}

async fn sell(s: &Shop, who: &Login, body: &Value) -> (StatusCode, Value) {
    call(
        &s.w.app,
        Method::POST,
        "/api/v1/tickets",
        Some(&who.token),
        Some(body),
    )
    .await
}

/// Everything a sale writes, to prove a refusal wrote nothing.
async fn footprint(w: &World) -> String {
    scalar(
        w,
        "SELECT (SELECT count(*) FROM tickets)::text || '/' ||
                (SELECT count(*) FROM jugadas)::text || '/' ||
                (SELECT COALESCE(sum(amount), 0) FROM sale_counters)::text || '/' ||
                (SELECT count(*) FROM idempotency_keys)::text || '/' ||
                (SELECT count(*) FROM activity_logs WHERE action::text LIKE 'TICKET%')::text",
    )
    .await
}

/// Asserts a refusal: status, code, and an unchanged footprint.
async fn refused(s: &Shop, who: &Login, body: &Value, status: u16, code: &str) -> Value {
    let before = footprint(&s.w).await;
    let (st, v) = sell(s, who, body).await;
    assert_eq!(st.as_u16(), status, "{code}: {v}");
    assert_eq!(v["code"], code, "{v}");
    assert_eq!(v["success"], false);
    assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert_eq!(footprint(&s.w).await, before, "{code} wrote something");
    v
}

/// Counters agree with the live jugadas, per scope, key and number.
async fn assert_counters_match_jugadas(w: &World) {
    let diff: i64 = scalar(
        w,
        "WITH live AS (
             SELECT t.sorteo_id, j.number, j.amount, j.type, j.multiplier_id,
                    t.vendedor_id, t.ventana_id, t.banca_id
             FROM jugadas j JOIN tickets t ON t.id = j.ticket_id
             WHERE j.is_active AND NOT j.is_excluded AND t.status <> 'CANCELLED'),
         expected AS (
             SELECT sorteo_id, scope_id, mkey, number, sum(amount) AS amount FROM (
                 SELECT sorteo_id, s.scope_id, k.mkey, number, amount
                 FROM live,
                      LATERAL (VALUES (vendedor_id), (ventana_id), (banca_id)) AS s(scope_id),
                      LATERAL (VALUES ('00000000-0000-0000-0000-000000000000'::uuid),
                                      (CASE WHEN type = 'REVENTADO'
                                            THEN 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid
                                            ELSE multiplier_id END)) AS k(mkey)) x
             GROUP BY 1, 2, 3, 4)
         SELECT count(*) FROM (
             SELECT sorteo_id, scope_id, mkey, number, amount FROM expected
             EXCEPT
             SELECT sorteo_id, scope_id, mkey, number, amount FROM sale_counters WHERE amount <> 0) d",
    )
    .await;
    let extra: i64 = scalar(
        w,
        "SELECT count(*) FROM sale_counters c WHERE amount <> 0 AND NOT EXISTS (
             SELECT 1 FROM jugadas j JOIN tickets t ON t.id = j.ticket_id
             WHERE t.sorteo_id = c.sorteo_id AND j.number = c.number AND j.is_active
               AND c.scope_id IN (t.vendedor_id, t.ventana_id, t.banca_id))",
    )
    .await;
    assert_eq!((diff, extra), (0, 0), "counters disagree with jugadas");
}

#[tokio::test]
async fn a_vendedor_sells_a_ticket() {
    let s = shop().await;
    let seller = &s.w.a.vendedores[0];
    let (st, v) = sell(
        &s,
        seller,
        &body(
            &s,
            json!([
                numero("07", 100.0),
                numero("42", 50.0),
                {"type": "REVENTADO", "number": "07", "reventadoNumber": "07", "amount": 40}
            ]),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let t = &v["data"];
    assert_eq!(t["status"], "ACTIVE");
    assert_eq!(t["totalAmount"], 190.0);
    assert_eq!(t["vendedorId"], seller.user_id.to_string());
    assert_eq!(t["ventanaId"], s.w.a.ventanas[0].to_string());
    assert_eq!(t["createdByRole"], "VENDEDOR");
    assert_eq!(t["clienteNombre"], "CLIENTE CONTADO");
    assert_eq!(t["jugadas"].as_array().unwrap().len(), 3);
    assert_eq!(t["jugadas"][0]["finalMultiplierX"], 90.0);
    assert_eq!(t["jugadas"][0]["multiplierId"], s.base.to_string());
    assert_eq!(t["jugadas"][2]["finalMultiplierX"], 0.0);
    assert_eq!(t["jugadas"][2]["multiplierId"], Value::Null);
    assert!(t["vendedor"]["printName"].is_string());
    assert_eq!(t["vendedor"]["printBarcode"], true);
    let number = t["ticketNumber"].as_str().unwrap();
    let parsed = banca::domain::ticket_number::parse(number).expect("valid ticket number");
    let tomorrow = (Utc::now() + chrono::Duration::days(1))
        .with_timezone(&chrono_tz::America::Costa_Rica)
        .date_naive();
    assert_eq!(parsed.date, tomorrow, "business date of the draw");
    assert_eq!(
        t["businessDate"],
        format!("{}T00:00:00.000Z", tomorrow.format("%Y-%m-%d"))
    );
    fixtures::assert_no_secrets(&v);
    // Stored as answered.
    let stored: (String, Decimal, String) = sqlx::query_as(
        "SELECT ticket_number, total_amount, status::text FROM tickets WHERE id = $1",
    )
    .bind(Uuid::parse_str(t["id"].as_str().unwrap()).unwrap())
    .fetch_one(&mut s.w.db.connect().await)
    .await
    .unwrap();
    assert_eq!(
        stored,
        (number.to_string(), Decimal::from(190), "ACTIVE".into())
    );
    assert_counters_match_jugadas(&s.w).await;
    let logged: i64 = scalar(
        &s.w,
        "SELECT count(*) FROM activity_logs WHERE action::text = 'TICKET_CREATE'",
    )
    .await;
    assert_eq!(logged, 1);
    // The detail reads the same ticket.
    let (st, d) = call(
        &s.w.app,
        Method::GET,
        &format!("/api/v1/tickets/{}", t["id"].as_str().unwrap()),
        Some(&seller.token),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{d}");
    assert_eq!(d["data"]["ticketNumber"], number);
    assert_eq!(d["data"]["totalAmount"], 190.0);
}

#[tokio::test]
async fn listero_banca_and_admin_sell_for_their_vendedores() {
    let s = shop().await;
    let w = &s.w;
    let v0 = w.a.vendedores[0].user_id;
    let mut b = body(&s, json!([numero("11", 10.0)]));
    b["vendedorId"] = json!(v0);
    for who in [&w.a.ventana_users[0], &w.a.banca_user, &w.admin] {
        let (st, v) = sell(&s, who, &b).await;
        assert_eq!(st, StatusCode::CREATED, "{:?}: {v}", who.role);
        assert_eq!(v["data"]["vendedorId"], v0.to_string());
        assert_eq!(v["data"]["createdByRole"], who.role.as_str());
        assert_eq!(v["data"]["createdBy"], who.user_id.to_string());
    }
}

#[tokio::test]
async fn who_may_sell_as_whom() {
    let s = shop().await;
    let w = &s.w;
    let plain = body(&s, json!([numero("11", 10.0)]));
    // Roles other than VENDEDOR must name the vendedor.
    for who in [&w.a.ventana_users[0], &w.a.banca_user, &w.admin] {
        refused(&s, who, &plain, 400, "VENDEDOR_ID_REQUIRED").await;
    }
    let mut other = plain.clone();
    // A vendedor sells only as itself.
    other["vendedorId"] = json!(w.a.vendedores[1].user_id);
    refused(&s, &w.a.vendedores[0], &other, 403, "FORBIDDEN").await;
    // A listero only for its own ventana.
    refused(&s, &w.a.ventana_users[0], &other, 403, "FORBIDDEN").await;
    // BANCA only for vendedores of its banca.
    other["vendedorId"] = json!(w.b.vendedores[0].user_id);
    refused(&s, &w.a.banca_user, &other, 403, "FORBIDDEN").await;
    // The target must be an active VENDEDOR.
    other["vendedorId"] = json!(Uuid::new_v4());
    refused(&s, &w.a.banca_user, &other, 404, "VENDEDOR_NOT_FOUND").await;
    other["vendedorId"] = json!(w.a.ventana_users[1].user_id);
    refused(&s, &w.a.banca_user, &other, 400, "INVALID_VENDEDOR").await;
    // Banca B's vendedor cannot sell into banca A's sorteo.
    refused(
        &s,
        &w.b.vendedores[0],
        &plain,
        403,
        "CROSS_TENANT_FORBIDDEN",
    )
    .await;
    // No token.
    let (st, _) = call(&w.app, Method::POST, "/api/v1/tickets", None, Some(&plain)).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn every_refusal_of_the_error_list_writes_nothing() {
    let s = shop().await;
    let w = &s.w;
    let seller = &w.a.vendedores[0];

    // Body validation.
    let mut b = body(&s, json!([numero("07", 10.0)]));
    b["extra"] = json!(1);
    refused(&s, seller, &b, 400, "VALIDATION_ERROR").await;
    refused(&s, seller, &body(&s, json!([])), 400, "VALIDATION_ERROR").await;
    refused(
        &s,
        seller,
        &body(&s, json!([numero("07", 0.0)])),
        400,
        "VALIDATION_ERROR",
    )
    .await;
    refused(
        &s,
        seller,
        &body(&s, json!([numero("07", 1.005)])),
        400,
        "VALIDATION_ERROR",
    )
    .await;
    refused(
        &s,
        seller,
        &body(&s, json!([numero("7a", 10.0)])),
        400,
        "VALIDATION_ERROR",
    )
    .await;
    let rev_alone =
        json!([{"type": "REVENTADO", "number": "07", "reventadoNumber": "07", "amount": 5}]);
    refused(&s, seller, &body(&s, rev_alone), 400, "VALIDATION_ERROR").await;
    let rev_more = json!([numero("07", 10.0), {"type": "REVENTADO", "number": "07", "reventadoNumber": "07", "amount": 11}]);
    refused(&s, seller, &body(&s, rev_more), 400, "VALIDATION_ERROR").await;
    let rev_other = json!([numero("07", 10.0), {"type": "REVENTADO", "number": "07", "reventadoNumber": "08", "amount": 5}]);
    refused(&s, seller, &body(&s, rev_other), 400, "VALIDATION_ERROR").await;
    // Canonical numbers: exactly `digits` digits (decision 14).
    let v = refused(
        &s,
        seller,
        &body(&s, json!([numero("7", 10.0)])),
        400,
        "VALIDATION_ERROR",
    )
    .await;
    assert_eq!(v["details"][0]["field"], "jugadas[0].number", "{v}");
    refused(
        &s,
        seller,
        &body(&s, json!([numero("007", 10.0)])),
        400,
        "VALIDATION_ERROR",
    )
    .await;

    // Sorteo.
    let mut b = body(&s, json!([numero("07", 10.0)]));
    b["sorteoId"] = json!(Uuid::new_v4());
    refused(&s, seller, &b, 404, "SORTEO_NOT_FOUND").await;
    let other_loteria = fixtures::loteria(&w.app, Some(w.a.banca_id), "NICA", json!({})).await;
    let mut b = body(&s, json!([numero("07", 10.0)]));
    b["loteriaId"] = json!(other_loteria);
    refused(&s, seller, &b, 400, "SORTEO_LOTERIA_MISMATCH").await;
    let closed = fixtures::sorteo(
        &w.app,
        s.loteria,
        Utc::now() + chrono::Duration::hours(3),
        "CLOSED",
    )
    .await;
    let mut b = body(&s, json!([numero("07", 10.0)]));
    b["sorteoId"] = json!(closed);
    refused(&s, seller, &b, 409, "SORTEO_CLOSED").await;
    let evaluated = fixtures::sorteo(
        &w.app,
        s.loteria,
        Utc::now() + chrono::Duration::hours(4),
        "EVALUATED",
    )
    .await;
    let mut b = body(&s, json!([numero("07", 10.0)]));
    b["sorteoId"] = json!(evaluated);
    refused(&s, seller, &b, 409, "SORTEO_EVALUATED").await;
    let inactive_sorteo = fixtures::sorteo(
        &w.app,
        s.loteria,
        Utc::now() + chrono::Duration::hours(5),
        "OPEN",
    )
    .await;
    exec(
        w,
        &format!("UPDATE sorteos SET is_active = false WHERE id = '{inactive_sorteo}'"),
    )
    .await;
    let mut b = body(&s, json!([numero("07", 10.0)]));
    b["sorteoId"] = json!(inactive_sorteo);
    refused(&s, seller, &b, 409, "SORTEO_INACTIVE").await;
    // The vendedor's ventana deactivated (its own login stops at 401; BANCA selling for it
    // meets the closed ventana).
    exec(
        w,
        &format!(
            "UPDATE ventanas SET is_active = false WHERE id = '{}'",
            w.a.ventanas[0]
        ),
    )
    .await;
    let mut b = body(&s, json!([numero("07", 10.0)]));
    b["vendedorId"] = json!(seller.user_id);
    refused(&s, &w.a.banca_user, &b, 404, "VENTANA_NOT_FOUND").await;
    exec(
        w,
        &format!(
            "UPDATE ventanas SET is_active = true WHERE id = '{}'",
            w.a.ventanas[0]
        ),
    )
    .await;
    let b_loteria = fixtures::loteria(&w.app, Some(w.b.banca_id), "TICA B", json!({})).await;
    let b_sorteo = fixtures::sorteo(
        &w.app,
        b_loteria,
        Utc::now() + chrono::Duration::hours(3),
        "OPEN",
    )
    .await;
    let b_body =
        json!({"loteriaId": b_loteria, "sorteoId": b_sorteo, "jugadas": [numero("07", 10.0)]});
    refused(&s, seller, &b_body, 403, "CROSS_TENANT_FORBIDDEN").await;

    // Cutoff: default 1 minute before the draw (banca A's salesCutoffMinutes is 1).
    let soon = fixtures::sorteo(
        &w.app,
        s.loteria,
        Utc::now() + chrono::Duration::seconds(50),
        "OPEN",
    )
    .await;
    let mut b = body(&s, json!([numero("07", 10.0)]));
    b["sorteoId"] = json!(soon);
    let v = refused(&s, seller, &b, 409, "SALES_CUTOFF_REACHED").await;
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .starts_with("Venta bloqueada"),
        "{v}"
    );

    // rulesJson of the lotería.
    let set_rules = |rules: Value| {
        let w = &s.w;
        let loteria = s.loteria;
        async move {
            sqlx::query("UPDATE loterias SET rules_json = $2 WHERE id = $1")
                .bind(loteria)
                .bind(rules)
                .execute(&mut w.db.connect().await)
                .await
                .unwrap();
        }
    };
    // A window of every day that excludes the current business-local hour.
    let hour = Utc::now()
        .with_timezone(&chrono_tz::America::Costa_Rica)
        .hour();
    let window = if hour < 22 {
        json!({"start": format!("{:02}:00", hour + 1), "end": "23:59"})
    } else {
        json!({"start": "00:00", "end": format!("{:02}:00", hour - 1)})
    };
    let closed_all_day: serde_json::Map<String, Value> = banca::domain::rules_json::DAY_KEYS
        .iter()
        .map(|d| (d.to_string(), window.clone()))
        .collect();
    set_rules(json!({"digits": 2, "salesHours": closed_all_day})).await;
    refused(
        &s,
        seller,
        &body(&s, json!([numero("07", 10.0)])),
        409,
        "OUTSIDE_SALES_HOURS",
    )
    .await;
    set_rules(json!({"digits": 2, "numberRange": {"min": 0, "max": 50}})).await;
    refused(
        &s,
        seller,
        &body(&s, json!([numero("60", 10.0)])),
        400,
        "NUMBER_OUT_OF_RANGE",
    )
    .await;
    let with_rev = json!([numero("07", 10.0), {"type": "REVENTADO", "number": "07", "reventadoNumber": "07", "amount": 5}]);
    set_rules(
        json!({"digits": 2, "allowedBetTypes": ["NUMERO"], "reventadoConfig": {"enabled": true}}),
    )
    .await;
    refused(
        &s,
        seller,
        &body(&s, with_rev.clone()),
        400,
        "BET_TYPE_NOT_ALLOWED",
    )
    .await;
    set_rules(json!({"digits": 2, "reventadoConfig": {"enabled": false}})).await;
    refused(&s, seller, &body(&s, with_rev), 400, "REVENTADO_DISABLED").await;
    set_rules(json!({"digits": 2, "minBetAmount": 50, "maxBetAmount": 500})).await;
    refused(
        &s,
        seller,
        &body(&s, json!([numero("07", 10.0)])),
        400,
        "BET_MIN_VIOLATION",
    )
    .await;
    refused(
        &s,
        seller,
        &body(&s, json!([numero("07", 600.0)])),
        400,
        "BET_MAX_VIOLATION",
    )
    .await;
    set_rules(json!({"digits": 2, "maxNumbersPerTicket": 2})).await;
    refused(
        &s,
        seller,
        &body(
            &s,
            json!([numero("01", 10.0), numero("02", 10.0), numero("03", 10.0)]),
        ),
        400,
        "MAX_NUMBERS_PER_TICKET",
    )
    .await;
    set_rules(json!({"digits": 2, "reventadoConfig": {"enabled": true}})).await;
    // The banca's minimum bet (decision 18).
    exec(
        w,
        &format!(
            "UPDATE bancas SET default_min_bet = 100 WHERE id = '{}'",
            w.a.banca_id
        ),
    )
    .await;
    refused(
        &s,
        seller,
        &body(&s, json!([numero("07", 99.0)])),
        400,
        "BET_MIN_VIOLATION",
    )
    .await;
    exec(
        w,
        &format!(
            "UPDATE bancas SET default_min_bet = 0 WHERE id = '{}'",
            w.a.banca_id
        ),
    )
    .await;

    // Multipliers.
    let with_mult = |m: Uuid| {
        body(
            &s,
            json!([{"type": "NUMERO", "number": "07", "amount": 10, "multiplierId": m}]),
        )
    };
    refused(
        &s,
        seller,
        &with_mult(Uuid::new_v4()),
        400,
        "INVALID_MULTIPLIER",
    )
    .await;
    let rev_kind = fixtures::multiplier(&w.app, s.loteria, "Roja", 200, "REVENTADO").await;
    refused(
        &s,
        seller,
        &with_mult(rev_kind),
        400,
        "INVALID_MULTIPLIER_KIND",
    )
    .await;
    let foreign = fixtures::multiplier(&w.app, other_loteria, "Base", 80, "NUMERO").await;
    refused(
        &s,
        seller,
        &with_mult(foreign),
        400,
        "INVALID_MULTIPLIER_LOTERIA",
    )
    .await;
    let inactive = fixtures::multiplier(&w.app, s.loteria, "Viejo", 70, "NUMERO").await;
    exec(
        w,
        &format!("UPDATE loteria_multipliers SET is_active = false WHERE id = '{inactive}'"),
    )
    .await;
    refused(&s, seller, &with_mult(inactive), 400, "INACTIVE_MULTIPLIER").await;
    let bare = fixtures::sorteo(
        &w.app,
        other_loteria,
        Utc::now() + chrono::Duration::days(2),
        "OPEN",
    )
    .await;
    exec(
        w,
        &format!("UPDATE loteria_multipliers SET is_active = false WHERE id = '{foreign}'"),
    )
    .await;
    let bare_body =
        json!({"loteriaId": other_loteria, "sorteoId": bare, "jugadas": [numero("07", 10.0)]});
    refused(&s, seller, &bare_body, 400, "MISSING_MULTIPLIER_ID").await;

    // A lotería/multiplier block refuses a seller; an ADMIN sells with a warning.
    let mut conn = w.db.connect().await;
    let block: Uuid = sqlx::query_scalar(
        "INSERT INTO restriction_rules (owner_banca_id, banca_id, loteria_id, multiplier_id)
         VALUES ($1, $1, $2, $3) RETURNING id",
    )
    .bind(w.a.banca_id)
    .bind(s.loteria)
    .bind(s.base)
    .fetch_one(&mut conn)
    .await
    .unwrap();
    refused(
        &s,
        seller,
        &body(&s, json!([numero("07", 10.0)])),
        400,
        "LOTTERY_MULTIPLIER_RESTRICTED",
    )
    .await;
    let mut b = body(&s, json!([numero("07", 10.0)]));
    b["vendedorId"] = json!(seller.user_id);
    let (st, v) = sell(&s, &w.admin, &b).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!(
        v["data"]["warnings"][0]["code"],
        "LOTTERY_MULTIPLIER_RESTRICTED"
    );
    assert_eq!(v["data"]["warnings"][0]["ruleId"], block.to_string());
    sqlx::query("UPDATE restriction_rules SET is_active = false WHERE id = $1")
        .bind(block)
        .execute(&mut conn)
        .await
        .unwrap();

    // Limits: per ticket and cumulative, with the number and what is left in details.
    sqlx::query(
        "INSERT INTO restriction_rules (owner_banca_id, banca_id, number, max_amount, max_total)
         VALUES ($1, $1, '33', 50, 80)",
    )
    .bind(w.a.banca_id)
    .execute(&mut conn)
    .await
    .unwrap();
    let v = refused(
        &s,
        seller,
        &body(&s, json!([numero("33", 60.0)])),
        400,
        "NUMBER_MAXAMOUNT_EXCEEDED",
    )
    .await;
    assert_eq!(v["details"][0]["number"], "33", "{v}");
    let (st, _) = sell(&s, seller, &body(&s, json!([numero("33", 50.0)]))).await;
    assert_eq!(st, StatusCode::CREATED);
    let v = refused(
        &s,
        seller,
        &body(&s, json!([numero("33", 40.0)])),
        400,
        "NUMBER_MAXTOTAL_EXCEEDED",
    )
    .await;
    assert_eq!(v["details"][0]["number"], "33", "{v}");
    assert_eq!(v["details"][0]["available"], 30.0, "{v}");
    assert!(
        v["message"].as_str().unwrap().contains("Disponible ₡30.00"),
        "{v}"
    );

    // Exclusion lists block later sales (decision 15).
    sqlx::query(
        "INSERT INTO sorteo_lista_exclusions (sorteo_id, banca_id, ventana_id, vendedor_id, excluded_by)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(s.sorteo)
    .bind(w.a.banca_id)
    .bind(w.a.ventanas[0])
    .bind(seller.user_id)
    .bind(w.admin.user_id)
    .execute(&mut conn)
    .await
    .unwrap();
    refused(
        &s,
        seller,
        &body(&s, json!([numero("07", 10.0)])),
        409,
        "LISTA_EXCLUDED",
    )
    .await;
    // The other vendedor still sells.
    let (st, v) = sell(
        &s,
        &w.a.vendedores[1],
        &body(&s, json!([numero("07", 10.0)])),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_counters_match_jugadas(w).await;
}

#[tokio::test]
async fn cutoff_boundary_uses_the_database_clock() {
    let s = shop().await;
    let w = &s.w;
    let seller = &w.a.vendedores[0];
    // Cutoff 1 min + 1 s grace: a draw 58 s away is closed, 65 s away is open.
    for (secs, open) in [(58, false), (65, true)] {
        let id: Uuid = sqlx::query_scalar(
            "INSERT INTO sorteos (loteria_id, banca_id, name, scheduled_at, status)
             VALUES ($1, $2, 'TICA', now() + make_interval(secs => $3), 'OPEN') RETURNING id",
        )
        .bind(s.loteria)
        .bind(w.a.banca_id)
        .bind(secs as f64)
        .fetch_one(&mut w.db.connect().await)
        .await
        .unwrap();
        let b = json!({"loteriaId": s.loteria, "sorteoId": id, "jugadas": [numero("07", 10.0)]});
        let (st, v) = sell(&s, seller, &b).await;
        if open {
            assert_eq!(st, StatusCode::CREATED, "{secs}s: {v}");
        } else {
            assert_eq!(st, StatusCode::CONFLICT, "{secs}s: {v}");
            assert_eq!(v["code"], "SALES_CUTOFF_REACHED");
        }
    }
}

/// `n` concurrent buyers of `amount` on `number` against a banca-wide `max_total`, spread
/// over the given apps: exactly `max_total / amount` succeed, the rest get the limit error,
/// and the counters equal the live jugadas.
async fn oversell_race(s: &Shop, apps: &[&common::TestApp], n: usize) {
    let w = &s.w;
    sqlx::query(
        "INSERT INTO restriction_rules (owner_banca_id, banca_id, number, max_total)
         VALUES ($1, $1, '77', 1000)",
    )
    .bind(w.a.banca_id)
    .execute(&mut w.db.connect().await)
    .await
    .unwrap();
    let sellers = [&w.a.vendedores[0], &w.a.vendedores[1]];
    let b = body(s, json!([numero("77", 100.0)]));
    let calls = (0..n).map(|i| {
        let app = apps[i % apps.len()];
        let who = sellers[i % 2];
        let b = b.clone();
        async move {
            let res = app
                .client
                .post(app.url("/api/v1/tickets"))
                .bearer_auth(&who.token)
                .json(&b)
                .send()
                .await
                .unwrap();
            let st = res.status();
            let v: Value = res.json().await.unwrap();
            (st, v)
        }
    });
    let results = join_all(calls).await;
    let ok = results
        .iter()
        .filter(|(st, _)| *st == StatusCode::CREATED)
        .count();
    for (st, v) in &results {
        if *st != StatusCode::CREATED {
            assert_eq!(*st, StatusCode::BAD_REQUEST, "{v}");
            assert_eq!(v["code"], "NUMBER_MAXTOTAL_EXCEEDED", "{v}");
        }
    }
    assert_eq!(ok, 10, "exactly limit / amount sales succeed");
    let sold: Decimal = scalar(
        w,
        "SELECT COALESCE(sum(j.amount), 0) FROM jugadas j JOIN tickets t ON t.id = j.ticket_id
         WHERE j.number = '77' AND t.status = 'ACTIVE'",
    )
    .await;
    assert_eq!(sold, Decimal::from(1000));
    let counter: Decimal = scalar(
        w,
        &format!(
            "SELECT amount FROM sale_counters WHERE scope_id = '{}' AND number = '77'
             AND mkey = '00000000-0000-0000-0000-000000000000'",
            w.a.banca_id
        ),
    )
    .await;
    assert_eq!(counter, Decimal::from(1000));
    assert_counters_match_jugadas(w).await;
}

#[tokio::test]
async fn concurrent_sales_never_oversell_a_number() {
    let s = shop().await;
    oversell_race(&s, &[&s.w.app], 40).await;
}

#[tokio::test]
async fn two_instances_on_one_database_never_oversell() {
    let s = shop().await;
    let second = common::spawn_app(&s.w.db, &fixtures::SHOP_SECRETS).await;
    oversell_race(&s, &[&s.w.app, &second], 40).await;
}

#[tokio::test]
async fn idempotent_sales_replay_and_never_duplicate() {
    let s = shop().await;
    let w = &s.w;
    let seller = &w.a.vendedores[0];
    let mut b = body(&s, json!([numero("05", 25.5)]));
    b["idempotencyKey"] = json!("venta-0001-abc");
    let send = |b: Value| {
        let app = &w.app;
        let token = seller.token.clone();
        async move {
            let res = app
                .client
                .post(app.url("/api/v1/tickets"))
                .bearer_auth(token)
                .json(&b)
                .send()
                .await
                .unwrap();
            (res.status(), res.bytes().await.unwrap())
        }
    };
    let (st1, first) = send(b.clone()).await;
    assert_eq!(st1, StatusCode::CREATED);
    let (st2, again) = send(b.clone()).await;
    assert_eq!(st2, StatusCode::CREATED);
    assert_eq!(first, again, "a replay answers the same bytes");
    // The same key in the header means the same thing.
    let mut no_key = b.clone();
    no_key.as_object_mut().unwrap().remove("idempotencyKey");
    let res = w
        .app
        .client
        .post(w.app.url("/api/v1/tickets"))
        .bearer_auth(&seller.token)
        .header("Idempotency-Key", "venta-0001-abc")
        .json(&no_key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.bytes().await.unwrap(), first);
    // A different payload under the same key.
    let mut changed = b.clone();
    changed["jugadas"][0]["amount"] = json!(30);
    let (st, v) = sell(&s, seller, &changed).await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["code"], "IDEMPOTENCY_PAYLOAD_MISMATCH");
    // Another user may use the same key for its own sale.
    let (st, v) = sell(&s, &w.a.vendedores[1], &b).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_ne!(v["data"]["id"].to_string(), String::from_utf8_lossy(&first));
    let tickets: i64 = scalar(w, "SELECT count(*) FROM tickets").await;
    assert_eq!(tickets, 2);

    // 20 concurrent twins: one ticket, twenty identical answers.
    let mut twin = body(&s, json!([numero("06", 10.0), numero("16", 5.0)]));
    twin["idempotencyKey"] = json!("gemelos-20-xyz");
    let answers = join_all((0..20).map(|_| send(twin.clone()))).await;
    let made: i64 = scalar(
        w,
        "SELECT count(*) FROM tickets WHERE idempotency_key = 'gemelos-20-xyz'",
    )
    .await;
    assert_eq!(made, 1);
    for (st, bytes) in &answers {
        assert_eq!(
            *st,
            StatusCode::CREATED,
            "{}",
            String::from_utf8_lossy(bytes)
        );
        assert_eq!(bytes, &answers[0].1);
    }
    assert_counters_match_jugadas(w).await;
}

#[tokio::test]
async fn cancel_releases_once_and_restore_rechecks_limits() {
    let s = shop().await;
    let w = &s.w;
    let seller = &w.a.vendedores[0];
    sqlx::query(
        "INSERT INTO restriction_rules (owner_banca_id, banca_id, number, max_total)
         VALUES ($1, $1, '09', 100)",
    )
    .bind(w.a.banca_id)
    .execute(&mut w.db.connect().await)
    .await
    .unwrap();
    let (st, v) = sell(&s, seller, &body(&s, json!([numero("09", 100.0)]))).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let id = v["data"]["id"].as_str().unwrap().to_string();
    let path = |what: &str| format!("/api/v1/tickets/{id}/{what}");

    // Another seller's ticket is not the other vendedor's to cancel.
    let (st, _) = call(
        &w.app,
        Method::PATCH,
        &path("cancel"),
        Some(&w.a.vendedores[1].token),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = call(
        &w.app,
        Method::PATCH,
        &path("cancel"),
        Some(&w.b.banca_user.token),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    for _ in 0..2 {
        let (st, v) = call(
            &w.app,
            Method::PATCH,
            &path("cancel"),
            Some(&seller.token),
            None,
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(v["data"]["status"], "CANCELLED");
        assert_eq!(v["data"]["isActive"], false);
    }
    let counter: Decimal = scalar(
        w,
        &format!(
            "SELECT amount FROM sale_counters WHERE scope_id = '{}' AND number = '09'
             AND mkey = '00000000-0000-0000-0000-000000000000'",
            w.a.banca_id
        ),
    )
    .await;
    assert_eq!(counter, Decimal::ZERO, "released exactly once");
    let cancels: i64 = scalar(
        w,
        "SELECT count(*) FROM activity_logs WHERE action::text = 'TICKET_CANCEL'",
    )
    .await;
    assert_eq!(cancels, 1);

    // Someone else buys the quota; the restore is refused with the limit error.
    let (st, v) = sell(
        &s,
        &w.a.vendedores[1],
        &body(&s, json!([numero("09", 100.0)])),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let before = footprint(w).await;
    let (st, v) = call(
        &w.app,
        Method::PATCH,
        &path("restore"),
        Some(&seller.token),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["code"], "NUMBER_MAXTOTAL_EXCEEDED");
    assert_eq!(footprint(w).await, before);

    // Once the quota is free again, the restore consumes it.
    let other = v_id(&w.app, &w.a.vendedores[1], "09").await;
    let (st, _) = call(
        &w.app,
        Method::PATCH,
        &format!("/api/v1/tickets/{other}/cancel"),
        Some(&w.a.vendedores[1].token),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let (st, v) = call(
        &w.app,
        Method::PATCH,
        &path("restore"),
        Some(&seller.token),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["status"], "ACTIVE");
    assert_eq!(v["data"]["deletedAt"], Value::Null);
    let (st, v) = call(
        &w.app,
        Method::PATCH,
        &path("restore"),
        Some(&seller.token),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["code"], "INVALID_STATE");
    assert_counters_match_jugadas(w).await;

    // A closed sorteo locks its tickets.
    exec(
        w,
        &format!(
            "UPDATE sorteos SET status = 'CLOSED' WHERE id = '{}'",
            s.sorteo
        ),
    )
    .await;
    let (st, v) = call(
        &w.app,
        Method::PATCH,
        &path("cancel"),
        Some(&seller.token),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["code"], "SORTEO_LOCKED");
}

/// The id of the newest ACTIVE ticket of `who` on `number`.
async fn v_id(app: &common::TestApp, who: &Login, number: &str) -> String {
    let mut conn = app.state.pools.primary().acquire().await.unwrap();
    let id: Uuid = sqlx::query_scalar(
        "SELECT t.id FROM tickets t JOIN jugadas j ON j.ticket_id = t.id
         WHERE t.vendedor_id = $1 AND j.number = $2 AND t.status = 'ACTIVE'
         ORDER BY t.created_at DESC LIMIT 1",
    )
    .bind(who.user_id)
    .bind(number)
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    id.to_string()
}

#[tokio::test]
async fn money_is_exact_and_commissions_round_half_away_from_zero() {
    let s = shop().await;
    let w = &s.w;
    let seller = &w.a.vendedores[0];
    exec(
        w,
        &format!(
            "UPDATE users SET commission_policy_json = '{{\"version\":1,\"defaultPercent\":10,\"rules\":[]}}'
             WHERE id = '{}'",
            seller.user_id
        ),
    )
    .await;
    exec(
        w,
        &format!(
            "UPDATE ventanas SET commission_policy_json = '{{\"version\":1,\"defaultPercent\":5,\"rules\":[]}}'
             WHERE id = '{}'",
            w.a.ventanas[0]
        ),
    )
    .await;
    let (st, v) = sell(
        &s,
        seller,
        &body(
            &s,
            json!([numero("01", 0.1), numero("02", 0.2), numero("03", 333.35)]),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let t = &v["data"];
    assert_eq!(t["totalAmount"], 333.65);
    // 333.35 × 10 % = 33.335 → 33.34; 0.1 × 10 % = 0.01; 0.2 × 10 % = 0.02.
    assert_eq!(t["jugadas"][2]["commissionAmount"], 33.34);
    assert_eq!(t["jugadas"][2]["commissionOrigin"], "USER");
    assert_eq!(t["totalCommission"], 33.37);
    // Listero: the ventana's 5 %: 333.35 × 5 % = 16.6675 → 16.67; 0.005 → 0.01; 0.01.
    assert_eq!(t["jugadas"][2]["listeroCommissionAmount"], 16.67);
    assert_eq!(t["totalListeroCommission"], 16.69);
    let stored: (Decimal, Decimal) =
        sqlx::query_as("SELECT total_amount, total_commission FROM tickets WHERE id = $1")
            .bind(Uuid::parse_str(t["id"].as_str().unwrap()).unwrap())
            .fetch_one(&mut w.db.connect().await)
            .await
            .unwrap();
    assert_eq!(
        stored,
        ("333.65".parse().unwrap(), "33.37".parse().unwrap())
    );
    let sum: Decimal = scalar(
        w,
        "SELECT sum(amount) FROM jugadas WHERE number IN ('01', '02')",
    )
    .await;
    assert_eq!(sum, "0.3".parse::<Decimal>().unwrap());
}

#[tokio::test]
async fn print_counts_and_only_the_owner_may() {
    let s = shop().await;
    let w = &s.w;
    let seller = &w.a.vendedores[0];
    let (_, v) = sell(&s, seller, &body(&s, json!([numero("07", 10.0)]))).await;
    let id = v["data"]["id"].as_str().unwrap();
    let path = format!("/api/v1/tickets/{id}/print");
    let (st, v) = call(&w.app, Method::POST, &path, Some(&seller.token), None).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["printCount"], 1);
    let (st, _) = call(
        &w.app,
        Method::POST,
        &path,
        Some(&w.a.vendedores[1].token),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, v) = call(
        &w.app,
        Method::POST,
        &path,
        Some(&w.a.ventana_users[0].token),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["printCount"], 2);
    tokio::time::sleep(Duration::from_millis(1)).await;
}

#[tokio::test]
async fn receipt_image_and_numbers_summary_pdf() {
    let s = shop().await;
    let w = &s.w;
    let seller = &w.a.vendedores[0];
    let (st, v) = sell(
        &s,
        seller,
        &body(
            &s,
            json!([
                numero("07", 100.0),
                numero("42", 100.0),
                {"type": "REVENTADO", "number": "07", "reventadoNumber": "07", "amount": 50}
            ]),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let id = v["data"]["id"].as_str().unwrap();
    let get = |token: String, path: String| {
        let app = &w.app;
        async move {
            let res = app
                .client
                .get(app.url(&path))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            let st = res.status();
            let ct = res
                .headers()
                .get("content-type")
                .map(|h| h.to_str().unwrap().to_string())
                .unwrap_or_default();
            (st, ct, res.bytes().await.unwrap())
        }
    };
    let (st, ct, png) = get(seller.token.clone(), format!("/api/v1/tickets/{id}/image")).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(ct, "image/png");
    let img = image::load_from_memory(&png).expect("a PNG");
    assert_eq!(img.width(), 440, "58 mm at scale 2");
    assert!(img.height() > 400);
    // The image does not count as a print; another seller cannot draw it.
    let printed: i32 = scalar(
        w,
        &format!("SELECT print_count FROM tickets WHERE id = '{id}'"),
    )
    .await;
    assert_eq!(printed, 0);
    let (st, _, _) = get(
        w.a.vendedores[1].token.clone(),
        format!("/api/v1/tickets/{id}/image"),
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    let res = w
        .app
        .client
        .post(w.app.url("/api/v1/tickets/numbers-summary/pdf"))
        .bearer_auth(&w.a.banca_user.token)
        .json(&json!({"sorteoId": s.sorteo, "scope": "all"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    let pdf = res.bytes().await.unwrap();
    assert!(pdf.starts_with(b"%PDF"));
    let res = w
        .app
        .client
        .post(w.app.url("/api/v1/tickets/numbers-summary/pdf/batch"))
        .bearer_auth(&w.a.banca_user.token)
        .json(&json!({"sorteoId": s.sorteo, "scope": "all", "multiplierIds": [s.base]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.bytes().await.unwrap().starts_with(b"%PDF"));
    // A vendedor may not ask for the whole banca.
    let (st, v) = call(
        &w.app,
        Method::POST,
        "/api/v1/tickets/numbers-summary/pdf",
        Some(&seller.token),
        Some(&json!({"sorteoId": s.sorteo, "scope": "all"})),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
}
