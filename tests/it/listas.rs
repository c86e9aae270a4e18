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
