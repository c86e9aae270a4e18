//! listas API tests: exclude/include idempotency and audit, target checks (canonical numbers,
//! the sorteo's banca and lotería, a vendedor of the named ventana), the state guard, scoped
//! reads by role, `GET /listas-excluidas` shape and filters, `is_excluded`, and isolation
//! (another tenant's sorteo or people: 403/404, database unchanged).

use chrono::{Duration, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::fixtures::{self, call, Login, World};

async fn digest(w: &World) -> String {
    let mut conn = w.db.connect().await;
    let mut out = String::new();
    for table in ["sorteo_lista_exclusions", "activity_logs"] {
        let d: Option<String> = sqlx::query_scalar(&format!(
            "SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM {table} t"
        ))
        .fetch_one(&mut conn)
        .await
        .unwrap();
        out.push_str(&format!("{table}:{}\n", d.unwrap_or_default()));
    }
    out
}

async fn audit(w: &World, action: &str, sorteo: Uuid) -> Vec<Value> {
    let mut conn = w.db.connect().await;
    sqlx::query_scalar(
        "SELECT details FROM activity_logs WHERE action = $1 AND target_type = 'SORTEO'
         AND target_id = $2 ORDER BY created_at",
    )
    .bind(action)
    .bind(sorteo.to_string())
    .fetch_all(&mut conn)
    .await
    .unwrap()
}

async fn exclusions(w: &World) -> i64 {
    let mut conn = w.db.connect().await;
    sqlx::query_scalar("SELECT count(*) FROM sorteo_lista_exclusions")
        .fetch_one(&mut conn)
        .await
        .unwrap()
}

async fn act(w: &World, who: &Login, sorteo: Uuid, what: &str, body: Value) -> (StatusCode, Value) {
    call(
        &w.app,
        Method::POST,
        &format!("/api/v1/sorteos/{sorteo}/listas/{what}"),
        Some(&who.token),
        Some(&body),
    )
    .await
}

/// A lotería of banca A with a multiplier, and an open sorteo of it.
async fn setup(w: &World) -> (Uuid, Uuid, Uuid) {
    let loteria = fixtures::loteria(&w.app, Some(w.a.banca_id), "TICA", json!({"digits": 2})).await;
    let mult = fixtures::multiplier(&w.app, loteria, "x90", 90, "NUMERO").await;
    let sorteo = fixtures::sorteo(&w.app, loteria, Utc::now() + Duration::hours(3), "OPEN").await;
    (loteria, mult, sorteo)
}

#[tokio::test]
async fn exclude_and_include_are_idempotent_and_audited() {
    let w = fixtures::world().await;
    let (_, mult, sorteo) = setup(&w).await;
    let v1 = w.a.ventanas[0];
    let body = json!({ "ventanaId": v1, "reason": "lista tardía" });
    let (s, v) = act(&w, &w.a.banca_user, sorteo, "exclude", body.clone()).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let d = &v["data"];
    let id = d["id"].as_str().unwrap().to_string();
    assert_eq!(d["sorteoId"], sorteo.to_string());
    assert_eq!(d["ventanaId"], v1.to_string());
    assert_eq!(d["ventanaCode"], "VA1");
    assert!(d["vendedorId"].is_null() && d["multiplierId"].is_null() && d["number"].is_null());
    assert_eq!(d["reason"], "lista tardía");
    assert_eq!(d["excludedBy"], w.a.banca_user.user_id.to_string());
    assert_eq!(d["loteriaName"], "TICA");

    let (s, v) = act(&w, &w.a.banca_user, sorteo, "exclude", body.clone()).await;
    assert_eq!(
        (s, v["data"]["id"].as_str()),
        (StatusCode::OK, Some(id.as_str()))
    );
    assert_eq!(exclusions(&w).await, 1);
    assert_eq!(
        audit(&w, "LISTA_EXCLUDE", sorteo).await.len(),
        1,
        "a repeat writes nothing"
    );
    let (s, v) = act(
        &w,
        &w.admin,
        sorteo,
        "exclude",
        json!({ "ventanaId": v1, "reason": "otro motivo" }),
    )
    .await;
    assert_eq!(
        (s, v["data"]["reason"].clone()),
        (StatusCode::OK, json!("otro motivo"))
    );
    assert_eq!(audit(&w, "LISTA_EXCLUDE", sorteo).await.len(), 2);

    // A vendedor's list records its ventana; a multiplier narrows; numbers are canonical.
    let seller = &w.a.vendedores[0];
    let (s, v) = act(
        &w,
        &w.admin,
        sorteo,
        "exclude",
        json!({ "vendedorId": seller.user_id, "multiplierId": mult }),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["data"]["ventanaId"], v1.to_string());
    let (s, v) = act(&w, &w.admin, sorteo, "exclude", json!({ "number": "07" })).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(
        v["data"]["bancaId"],
        w.a.banca_id.to_string(),
        "the sorteo's banca"
    );
    let (s, _) = act(
        &w,
        &w.a.banca_user,
        sorteo,
        "exclude",
        json!({ "number": "07" }),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    // A global sorteo: a number-only entry belongs to the caller's active banca.
    let global = fixtures::loteria(&w.app, None, "GLOBAL", json!({})).await;
    let global_sorteo =
        fixtures::sorteo(&w.app, global, Utc::now() + Duration::hours(3), "OPEN").await;
    let (s, v) = act(
        &w,
        &w.admin,
        global_sorteo,
        "exclude",
        json!({ "number": "07" }),
    )
    .await;
    assert_eq!(
        s,
        StatusCode::BAD_REQUEST,
        "ADMIN without an active banca: whose number? {v}"
    );
    let (s, v) = act(
        &w,
        &w.a.banca_user,
        global_sorteo,
        "exclude",
        json!({ "number": "07" }),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["data"]["bancaId"], w.a.banca_id.to_string());
    assert_eq!(exclusions(&w).await, 4);

    // Include: once removes, again changes nothing.
    let (s, v) = act(
        &w,
        &w.a.banca_user,
        sorteo,
        "include",
        json!({ "ventanaId": v1 }),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["removed"], true);
    assert_eq!(v["data"]["exclusion"]["id"], id.as_str());
    let (s, v) = act(
        &w,
        &w.a.banca_user,
        sorteo,
        "include",
        json!({ "ventanaId": v1 }),
    )
    .await;
    assert_eq!(
        (s, v["data"]["removed"].clone()),
        (StatusCode::OK, json!(false))
    );
    let included = audit(&w, "LISTA_INCLUDE", sorteo).await;
    assert_eq!(included.len(), 1);
    assert_eq!(included[0]["exclusionId"], id.as_str());
    assert_eq!(exclusions(&w).await, 3);
}

#[tokio::test]
async fn bad_targets_and_closed_sorteos_are_refused() {
    let w = fixtures::world().await;
    let (_, mult, sorteo) = setup(&w).await;
    let other_loteria = fixtures::loteria(&w.app, Some(w.a.banca_id), "NICA", json!({})).await;
    let other_mult = fixtures::multiplier(&w.app, other_loteria, "x80", 80, "NUMERO").await;
    let evaluated = fixtures::sorteo(
        &w.app,
        other_loteria,
        Utc::now() - Duration::hours(1),
        "EVALUATED",
    )
    .await;
    let (v1, v2) = (w.a.ventanas[0], w.a.ventanas[1]);
    let before = digest(&w).await;
    for (body, status, field) in [
        (json!({}), StatusCode::BAD_REQUEST, Some("ventanaId")),
        (
            json!({ "multiplierId": mult }),
            StatusCode::BAD_REQUEST,
            Some("ventanaId"),
        ),
        (
            json!({ "ventanaId": v1, "number": "7" }),
            StatusCode::BAD_REQUEST,
            Some("number"),
        ),
        (
            json!({ "ventanaId": v1, "number": "007" }),
            StatusCode::BAD_REQUEST,
            Some("number"),
        ),
        (
            json!({ "ventanaId": v1, "reason": "x" }),
            StatusCode::BAD_REQUEST,
            Some("reason"),
        ),
        (
            json!({ "ventanaId": v1, "extra": 1 }),
            StatusCode::BAD_REQUEST,
            Some("extra"),
        ),
        (
            json!({ "ventanaId": v2, "vendedorId": w.a.vendedores[0].user_id }),
            StatusCode::BAD_REQUEST,
            Some("vendedorId"),
        ),
        (
            json!({ "ventanaId": v1, "multiplierId": other_mult }),
            StatusCode::NOT_FOUND,
            None,
        ),
        (
            json!({ "vendedorId": w.a.ventana_users[0].user_id }),
            StatusCode::NOT_FOUND,
            None,
        ),
        (
            json!({ "ventanaId": Uuid::new_v4() }),
            StatusCode::NOT_FOUND,
            None,
        ),
    ] {
        let (s, v) = act(&w, &w.a.banca_user, sorteo, "exclude", body.clone()).await;
        assert_eq!(s, status, "{body} → {v}");
        if let Some(f) = field {
            assert!(
                v["details"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|d| d["field"] == f),
                "{body}: {v}"
            );
        }
    }
    for what in ["exclude", "include"] {
        let (s, v) = act(
            &w,
            &w.a.banca_user,
            evaluated,
            what,
            json!({ "ventanaId": v1 }),
        )
        .await;
        assert_eq!(
            (s, v["code"].clone()),
            (StatusCode::CONFLICT, json!("INVALID_SORTEO_STATE")),
            "{v}"
        );
    }
    let (s, _) = act(
        &w,
        &w.a.banca_user,
        Uuid::new_v4(),
        "exclude",
        json!({ "ventanaId": v1 }),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(digest(&w).await, before);

    // The existing client may name the listero's user instead of its ventana.
    let (s, v) = act(
        &w,
        &w.a.banca_user,
        sorteo,
        "exclude",
        json!({ "ventanaId": w.a.ventana_users[1].user_id }),
    )
    .await;
    assert_eq!(
        (s, v["data"]["ventanaId"].clone()),
        (StatusCode::CREATED, json!(v2.to_string()))
    );
}

#[tokio::test]
async fn reads_are_scoped_and_is_excluded_matches() {
    let w = fixtures::world().await;
    let (_, mult, sorteo) = setup(&w).await;
    let (v1, v2) = (w.a.ventanas[0], w.a.ventanas[1]);
    let (s1, s2) = (&w.a.vendedores[0], &w.a.vendedores[1]);
    let ex = |body: Value| act(&w, &w.a.banca_user, sorteo, "exclude", body);
    let id_of = |v: &Value| v["data"]["id"].as_str().unwrap().to_string();
    let whole_v2 = id_of(&ex(json!({ "ventanaId": v2 })).await.1);
    let s1_mult = id_of(
        &ex(json!({ "vendedorId": s1.user_id, "multiplierId": mult }))
            .await
            .1,
    );
    let number = id_of(&ex(json!({ "number": "13" })).await.1);
    let v1_number = id_of(&ex(json!({ "ventanaId": v1, "number": "21" })).await.1);

    let seen = |v: &Value| -> Vec<String> {
        let mut out: Vec<String> = v["data"]["exclusions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_str().unwrap().to_string())
            .collect();
        out.sort();
        out
    };
    let sorted = |mut v: Vec<&String>| {
        v.sort();
        v.into_iter().cloned().collect::<Vec<_>>()
    };
    let path = format!("/api/v1/sorteos/{sorteo}/listas");
    for (who, expected) in [
        (
            &w.a.banca_user,
            sorted(vec![&whole_v2, &s1_mult, &number, &v1_number]),
        ),
        (
            &w.admin,
            sorted(vec![&whole_v2, &s1_mult, &number, &v1_number]),
        ),
        (
            &w.a.ventana_users[0],
            sorted(vec![&s1_mult, &number, &v1_number]),
        ),
        (&w.a.ventana_users[1], sorted(vec![&whole_v2, &number])),
        (s1, sorted(vec![&s1_mult, &number, &v1_number])),
        (s2, sorted(vec![&whole_v2, &number])),
    ] {
        let (s, v) = call(&w.app, Method::GET, &path, Some(&who.token), None).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(seen(&v), expected, "{:?} {}", who.role, who.username);
        assert_eq!(v["data"]["sorteo"]["id"], sorteo.to_string());
        assert_eq!(v["meta"]["total"], expected.len());
    }

    let (s, v) = call(
        &w.app,
        Method::GET,
        "/api/v1/listas-excluidas",
        Some(&w.a.banca_user.token),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["success"], true);
    assert_eq!(v["total"], 4);
    assert_eq!(v["meta"]["total"], 4);
    let (_, v) = call(
        &w.app,
        Method::GET,
        &format!("/api/v1/listas-excluidas?ventanaId={v2}&sorteoId={sorteo}"),
        Some(&w.a.banca_user.token),
        None,
    )
    .await;
    assert_eq!(v["total"], 1);
    let today = Utc::now()
        .with_timezone(&chrono_tz::America::Costa_Rica)
        .date_naive();
    let (_, v) = call(
        &w.app,
        Method::GET,
        &format!(
            "/api/v1/listas-excluidas?fromDate={}&toDate={today}",
            today - Duration::days(1)
        ),
        Some(&w.a.banca_user.token),
        None,
    )
    .await;
    assert_eq!(v["total"], 4, "{v}");
    let (_, v) = call(
        &w.app,
        Method::GET,
        &format!(
            "/api/v1/listas-excluidas?toDate={}",
            today - Duration::days(1)
        ),
        Some(&w.a.banca_user.token),
        None,
    )
    .await;
    assert_eq!(v["total"], 0, "{v}");
    let (s, _) = call(
        &w.app,
        Method::GET,
        "/api/v1/listas-excluidas?fromDate=ayer",
        Some(&w.a.banca_user.token),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (_, v) = call(
        &w.app,
        Method::GET,
        "/api/v1/listas-excluidas",
        Some(&w.a.ventana_users[1].token),
        None,
    )
    .await;
    assert_eq!(v["total"], 2, "{v}");
    let (s, _) = call(
        &w.app,
        Method::GET,
        "/api/v1/listas-excluidas",
        Some(&s1.token),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // What the sale will ask.
    let mut conn = w.db.connect().await;
    let other_mult = Uuid::new_v4();
    for (ventana, seller, multiplier, n, expected) in [
        (v2, s2.user_id, None, "44", true),
        (v1, s1.user_id, Some(mult), "44", true),
        (v1, s1.user_id, Some(other_mult), "44", false),
        (v1, s1.user_id, None, "44", false),
        (v1, s1.user_id, None, "13", true),
        (v1, s1.user_id, None, "21", true),
        (v1, s1.user_id, None, "22", false),
        (
            w.b.ventanas[0],
            w.b.vendedores[0].user_id,
            None,
            "13",
            false,
        ),
    ] {
        let got =
            banca::services::listas::is_excluded(&mut conn, sorteo, ventana, seller, multiplier, n)
                .await
                .unwrap();
        assert_eq!(got, expected, "{ventana} {seller} {multiplier:?} {n}");
    }
}

#[tokio::test]
async fn another_tenant_cannot_touch_a_sorteos_lists() {
    let w = fixtures::world().await;
    let (_, _, sorteo_a) = setup(&w).await;
    let loteria_b = fixtures::loteria(&w.app, Some(w.b.banca_id), "TICA", json!({})).await;
    let sorteo_b =
        fixtures::sorteo(&w.app, loteria_b, Utc::now() + Duration::hours(3), "OPEN").await;
    let (s, _) = act(
        &w,
        &w.b.banca_user,
        sorteo_b,
        "exclude",
        json!({ "ventanaId": w.b.ventanas[0] }),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let before = digest(&w).await;
    let mut failures = Vec::new();
    for attacker in w.a.logins() {
        let attempts = [
            (sorteo_b, "exclude", json!({ "ventanaId": w.b.ventanas[0] })),
            (sorteo_b, "include", json!({ "ventanaId": w.b.ventanas[0] })),
            (sorteo_b, "exclude", json!({ "number": "05" })),
            (sorteo_a, "exclude", json!({ "ventanaId": w.b.ventanas[0] })),
            (
                sorteo_a,
                "exclude",
                json!({ "vendedorId": w.b.vendedores[0].user_id }),
            ),
        ];
        for (sorteo, what, body) in attempts {
            let (s, v) = act(&w, attacker, sorteo, what, body.clone()).await;
            if !matches!(s, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND)
                || v["code"].as_str().is_none()
            {
                failures.push(format!(
                    "{:?} {what} {sorteo} {body} → {s}: {v}",
                    attacker.role
                ));
            }
        }
        let (s, v) = call(
            &w.app,
            Method::GET,
            &format!("/api/v1/sorteos/{sorteo_b}/listas"),
            Some(&attacker.token),
            None,
        )
        .await;
        if s != StatusCode::NOT_FOUND {
            failures.push(format!("{:?} GET B's listas → {s}: {v}", attacker.role));
        }
        let (_, v) = call(
            &w.app,
            Method::GET,
            &format!("/api/v1/listas-excluidas?sorteoId={sorteo_b}"),
            Some(&attacker.token),
            None,
        )
        .await;
        if v["total"].as_u64().unwrap_or(0) != 0 {
            failures.push(format!("{:?} lists B's exclusions: {v}", attacker.role));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(digest(&w).await, before);
}

// ---------------------------------------------------------------------------------------------
// Exclusions over sold tickets: jugadas, tickets and the per-number counters.

/// Shared by the sale-side tests: a lotería with reventado, its "Base" (90x) and "x80"
/// multipliers, an OPEN sorteo tomorrow, banca A's minimum bet and global cap off.
async fn sale_setup(w: &World) -> (Uuid, Uuid, Uuid, Uuid) {
    let loteria = fixtures::loteria(
        &w.app,
        Some(w.a.banca_id),
        "TICA",
        json!({"digits": 2, "reventadoConfig": {"enabled": true}}),
    )
    .await;
    let base = fixtures::multiplier(&w.app, loteria, "Base", 90, "NUMERO").await;
    let x80 = fixtures::multiplier(&w.app, loteria, "x80", 80, "NUMERO").await;
    let sorteo = fixtures::sorteo(&w.app, loteria, Utc::now() + Duration::days(1), "OPEN").await;
    sqlx::query("UPDATE bancas SET default_min_bet = 0, global_max_per_number = 0 WHERE id = $1")
        .bind(w.a.banca_id)
        .execute(&mut w.db.connect().await)
        .await
        .unwrap();
    (loteria, sorteo, base, x80)
}

fn line(n: &str, amount: f64, m: Uuid) -> Value {
    json!({"type": "NUMERO", "number": n, "amount": amount, "multiplierId": m})
}

fn rev(n: &str, amount: f64) -> Value {
    json!({"type": "REVENTADO", "number": n, "reventadoNumber": n, "amount": amount})
}

async fn sell(
    w: &World,
    who: &Login,
    loteria: Uuid,
    sorteo: Uuid,
    jugadas: Value,
) -> (StatusCode, Value) {
    let body = json!({"loteriaId": loteria, "sorteoId": sorteo, "jugadas": jugadas});
    call(
        &w.app,
        Method::POST,
        "/api/v1/tickets",
        Some(&who.token),
        Some(&body),
    )
    .await
}

async fn sold(w: &World, who: &Login, loteria: Uuid, sorteo: Uuid, jugadas: Value) -> Uuid {
    let (s, v) = sell(w, who, loteria, sorteo, jugadas).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    Uuid::parse_str(v["data"]["id"].as_str().unwrap()).unwrap()
}

/// (status, is_active, excluded jugadas, active jugadas) of a ticket.
async fn ticket_state(w: &World, id: Uuid) -> (String, bool, i64, i64) {
    sqlx::query_as(
        "SELECT t.status::text, t.is_active,
                (SELECT count(*) FROM jugadas j WHERE j.ticket_id = t.id AND j.is_excluded),
                (SELECT count(*) FROM jugadas j WHERE j.ticket_id = t.id AND j.is_active)
         FROM tickets t WHERE t.id = $1",
    )
    .bind(id)
    .fetch_one(&mut w.db.connect().await)
    .await
    .unwrap()
}

/// Counters agree with the live jugadas (active, not excluded, of a ticket neither CANCELLED
/// nor EXCLUDED), per sorteo, scope, key and number.
async fn assert_counters_match_jugadas(w: &World) {
    let diff: i64 = sqlx::query_scalar(
        "WITH expected AS (
             SELECT j.sorteo_id, s.scope_id, k.mkey, j.number, sum(j.amount) AS amount
             FROM jugadas j JOIN tickets t ON t.id = j.ticket_id
             CROSS JOIN LATERAL (VALUES (t.vendedor_id), (t.ventana_id), (t.banca_id)) s(scope_id)
             CROSS JOIN LATERAL (VALUES ('00000000-0000-0000-0000-000000000000'::uuid),
                 (CASE WHEN j.type = 'REVENTADO'
                       THEN 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid
                       ELSE j.multiplier_id END)) k(mkey)
             WHERE j.is_active AND NOT j.is_excluded
               AND t.status NOT IN ('CANCELLED', 'EXCLUDED') AND k.mkey IS NOT NULL
             GROUP BY 1, 2, 3, 4),
         actual AS (SELECT sorteo_id, scope_id, mkey, number, amount FROM sale_counters
                    WHERE amount <> 0)
         SELECT count(*) FROM expected e FULL JOIN actual a
             ON (e.sorteo_id, e.scope_id, e.mkey, e.number)
              = (a.sorteo_id, a.scope_id, a.mkey, a.number)
         WHERE COALESCE(e.amount, 0) <> COALESCE(a.amount, 0)",
    )
    .fetch_one(&mut w.db.connect().await)
    .await
    .unwrap();
    assert_eq!(diff, 0, "counters disagree with the live jugadas");
}

/// The banca-wide "every jugada" counter of `number`.
async fn banca_counter(w: &World, sorteo: Uuid, number: &str) -> f64 {
    let v: Option<rust_decimal::Decimal> = sqlx::query_scalar(
        "SELECT amount FROM sale_counters WHERE sorteo_id = $1 AND scope_id = $2
           AND mkey = '00000000-0000-0000-0000-000000000000' AND number = $3",
    )
    .bind(sorteo)
    .bind(w.a.banca_id)
    .bind(number)
    .fetch_optional(&mut w.db.connect().await)
    .await
    .unwrap();
    v.map(|d| d.to_string().parse().unwrap()).unwrap_or(0.0)
}

#[tokio::test]
async fn exclusions_take_sold_jugadas_out_of_the_counters_and_include_brings_them_back() {
    let w = fixtures::world().await;
    let (loteria, sorteo, base, x80) = sale_setup(&w).await;
    let (s0, s1) = (&w.a.vendedores[0], &w.a.vendedores[1]);
    let (v0, v1) = (w.a.ventanas[0], w.a.ventanas[1]);
    let t1 = sold(
        &w,
        s0,
        loteria,
        sorteo,
        json!([
            line("07", 100.0, base),
            line("07", 50.0, x80),
            rev("07", 30.0),
            line("42", 20.0, base)
        ]),
    )
    .await;
    let t2 = sold(&w, s0, loteria, sorteo, json!([line("11", 10.0, x80)])).await;
    let t3 = sold(
        &w,
        s1,
        loteria,
        sorteo,
        json!([line("07", 40.0, base), line("55", 10.0, x80)]),
    )
    .await;
    assert_counters_match_jugadas(&w).await;
    assert_eq!(banca_counter(&w, sorteo, "07").await, 220.0);

    // One multiplier of one vendedor: its NUMERO lines and the REVENTADO paired with them.
    let (s, v) = act(
        &w,
        &w.a.banca_user,
        sorteo,
        "exclude",
        json!({ "vendedorId": s0.user_id, "multiplierId": x80, "reason": "lista tardía" }),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["data"]["totalJugadas"], 3, "{v}");
    assert_eq!(v["data"]["totalAmount"], 90.0, "{v}");
    assert_eq!(ticket_state(&w, t1).await, ("ACTIVE".into(), true, 2, 2));
    assert_eq!(ticket_state(&w, t2).await, ("EXCLUDED".into(), false, 1, 0));
    assert_eq!(ticket_state(&w, t3).await, ("ACTIVE".into(), true, 0, 2));
    let marked: (Option<Uuid>, Option<String>, bool) = sqlx::query_as(
        "SELECT excluded_by, excluded_reason, excluded_at IS NOT NULL FROM jugadas
         WHERE ticket_id = $1 AND type = 'REVENTADO'",
    )
    .bind(t1)
    .fetch_one(&mut w.db.connect().await)
    .await
    .unwrap();
    assert_eq!(
        marked,
        (
            Some(w.a.banca_user.user_id),
            Some("lista tardía".into()),
            true
        )
    );
    assert_counters_match_jugadas(&w).await;
    assert_eq!(banca_counter(&w, sorteo, "07").await, 140.0);
    assert_eq!(banca_counter(&w, sorteo, "11").await, 0.0);
    let logged = audit(&w, "LISTA_EXCLUDE", sorteo).await;
    assert_eq!(logged.last().unwrap()["jugadasExcluded"], 3);
    assert_eq!(logged.last().unwrap()["ticketsExcluded"], 1);

    // The sale path refuses what the list excludes, and sells the rest.
    let (s, v) = sell(&w, s0, loteria, sorteo, json!([line("07", 5.0, x80)])).await;
    assert_eq!(
        (s, v["code"].clone()),
        (StatusCode::CONFLICT, json!("LISTA_EXCLUDED")),
        "{v}"
    );
    let t4 = sold(&w, s0, loteria, sorteo, json!([line("07", 5.0, base)])).await;

    // The whole ventana: every live jugada of it; its tickets are all EXCLUDED now.
    let (s, v) = act(&w, &w.admin, sorteo, "exclude", json!({ "ventanaId": v0 })).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["data"]["totalJugadas"], 6, "{v}");
    assert_eq!(v["data"]["totalAmount"], 215.0, "{v}");
    for t in [t1, t2, t4] {
        let (status, active, _, live) = ticket_state(&w, t).await;
        assert_eq!(
            (status.as_str(), active, live),
            ("EXCLUDED", false, 0),
            "{t}"
        );
    }
    assert_eq!(ticket_state(&w, t3).await, ("ACTIVE".into(), true, 0, 2));
    assert_counters_match_jugadas(&w).await;
    assert_eq!(banca_counter(&w, sorteo, "07").await, 40.0);
    let (s, v) = sell(&w, s0, loteria, sorteo, json!([line("07", 5.0, base)])).await;
    assert_eq!(
        (s, v["code"].clone()),
        (StatusCode::CONFLICT, json!("LISTA_EXCLUDED")),
        "{v}"
    );
    // Excluding again changes nothing.
    let before = sqlx::query_scalar::<_, Option<String>>(
        "SELECT md5(string_agg(c::text, '|' ORDER BY c::text)) FROM sale_counters c",
    )
    .fetch_one(&mut w.db.connect().await)
    .await
    .unwrap();
    let (s, _) = act(&w, &w.admin, sorteo, "exclude", json!({ "ventanaId": v0 })).await;
    assert_eq!(s, StatusCode::OK);
    let after = sqlx::query_scalar::<_, Option<String>>(
        "SELECT md5(string_agg(c::text, '|' ORDER BY c::text)) FROM sale_counters c",
    )
    .fetch_one(&mut w.db.connect().await)
    .await
    .unwrap();
    assert_eq!(before, after);

    // The lists endpoints carry the totals.
    let (_, v) = call(
        &w.app,
        Method::GET,
        &format!("/api/v1/listas-excluidas?sorteoId={sorteo}"),
        Some(&w.a.banca_user.token),
        None,
    )
    .await;
    let totals: Vec<(i64, f64)> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["totalJugadas"].as_i64().unwrap(),
                e["totalAmount"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(totals, vec![(6, 215.0), (3, 90.0)], "{v}");

    // Another ventana, one multiplier; then that ticket is cancelled.
    let (s, _) = act(
        &w,
        &w.admin,
        sorteo,
        "exclude",
        json!({ "ventanaId": v1, "multiplierId": x80 }),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(ticket_state(&w, t3).await, ("ACTIVE".into(), true, 1, 1));
    let (s, v) = call(
        &w.app,
        Method::PATCH,
        &format!("/api/v1/tickets/{t3}/cancel"),
        Some(&s1.token),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_counters_match_jugadas(&w).await;
    assert_eq!(banca_counter(&w, sorteo, "07").await, 0.0);

    // Including the ventana first: what the vendedor's multiplier entry still covers stays out.
    let (s, v) = act(&w, &w.admin, sorteo, "include", json!({ "ventanaId": v0 })).await;
    assert_eq!(
        (s, v["data"]["removed"].clone()),
        (StatusCode::OK, json!(true)),
        "{v}"
    );
    assert_eq!(ticket_state(&w, t1).await, ("ACTIVE".into(), true, 2, 2));
    assert_eq!(ticket_state(&w, t2).await, ("EXCLUDED".into(), false, 1, 0));
    assert_eq!(ticket_state(&w, t4).await, ("ACTIVE".into(), true, 0, 1));
    assert_counters_match_jugadas(&w).await;
    assert_eq!(banca_counter(&w, sorteo, "07").await, 105.0);
    let logged = audit(&w, "LISTA_INCLUDE", sorteo).await;
    assert_eq!(logged.last().unwrap()["jugadasIncluded"], 3);
    assert_eq!(logged.last().unwrap()["ticketsReactivated"], 2);

    // Then the multiplier entry: everything is back, exactly as sold.
    let (s, _) = act(
        &w,
        &w.a.banca_user,
        sorteo,
        "include",
        json!({ "vendedorId": s0.user_id, "multiplierId": x80 }),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(ticket_state(&w, t1).await, ("ACTIVE".into(), true, 0, 4));
    assert_eq!(ticket_state(&w, t2).await, ("ACTIVE".into(), true, 0, 1));
    assert_counters_match_jugadas(&w).await;
    assert_eq!(banca_counter(&w, sorteo, "07").await, 185.0);
    assert_eq!(banca_counter(&w, sorteo, "11").await, 10.0);
    let cleared: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM jugadas WHERE ticket_id = ANY($1)
           AND (excluded_at IS NOT NULL OR excluded_by IS NOT NULL OR excluded_reason IS NOT NULL)",
    )
    .bind(vec![t1, t2, t4])
    .fetch_one(&mut w.db.connect().await)
    .await
    .unwrap();
    assert_eq!(cleared, 0);
    // A sale goes through again.
    sold(&w, s0, loteria, sorteo, json!([line("07", 5.0, x80)])).await;

    // The cancelled ticket's excluded jugada is un-excluded but stays inactive, and counts
    // nowhere.
    let (s, _) = act(
        &w,
        &w.admin,
        sorteo,
        "include",
        json!({ "ventanaId": v1, "multiplierId": x80 }),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        ticket_state(&w, t3).await,
        ("CANCELLED".into(), false, 0, 0)
    );
    assert_counters_match_jugadas(&w).await;
    assert_eq!(banca_counter(&w, sorteo, "55").await, 0.0);

    // A banca-wide number: every line on it, of every ventana.
    let (s, v) = act(
        &w,
        &w.a.banca_user,
        sorteo,
        "exclude",
        json!({ "number": "07" }),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["data"]["totalJugadas"], 5, "{v}");
    assert_eq!(ticket_state(&w, t1).await, ("ACTIVE".into(), true, 3, 1));
    assert_eq!(ticket_state(&w, t4).await, ("EXCLUDED".into(), false, 1, 0));
    assert_counters_match_jugadas(&w).await;
    assert_eq!(banca_counter(&w, sorteo, "07").await, 0.0);
    assert_eq!(banca_counter(&w, sorteo, "42").await, 20.0);
    let (s, _) = act(
        &w,
        &w.a.banca_user,
        sorteo,
        "include",
        json!({ "number": "07" }),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_counters_match_jugadas(&w).await;
    assert_eq!(banca_counter(&w, sorteo, "07").await, 190.0);
    let excluded: i64 =
        sqlx::query_scalar("SELECT count(*) FROM tickets WHERE status = 'EXCLUDED'")
            .fetch_one(&mut w.db.connect().await)
            .await
            .unwrap();
    assert_eq!(excluded, 0);
}
