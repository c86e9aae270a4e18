//! multipliers API tests: `/multipliers` CRUD (shapes, toggles, duplicate names, validation
//! that writes nothing), `/multiplier-overrides` (roles, conflicts, soft delete and restore),
//! the base-multiplier chain read from the database, the allowed-multiplier pickers with a
//! commission policy, and isolation between tenants.

use banca::domain::multipliers::BaseMultiplierSource as S;
use reqwest::{Method, StatusCode};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::fixtures::{self, call, Login, World};

async fn count(w: &World, sql: &str) -> i64 {
    let mut conn = w.db.connect().await;
    sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap()
}

/// Every multiplier, override and activity row, as text: refused requests leave it equal.
async fn snapshot(w: &World) -> (String, String, i64) {
    let mut conn = w.db.connect().await;
    let rows = |table: &str| {
        format!("SELECT coalesce(string_agg(t::text, '|' ORDER BY t.id), '') FROM {table} t")
    };
    let m: String = sqlx::query_scalar(&rows("loteria_multipliers"))
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let o: String = sqlx::query_scalar(&rows("multiplier_overrides"))
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let a: i64 = sqlx::query_scalar("SELECT count(*) FROM activity_logs")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    (m, o, a)
}

async fn activity_count(w: &World, action: &str, target: Uuid) -> i64 {
    let mut conn = w.db.connect().await;
    sqlx::query_scalar("SELECT count(*) FROM activity_logs WHERE action = $1 AND target_id = $2")
        .bind(action)
        .bind(target.to_string())
        .fetch_one(&mut conn)
        .await
        .unwrap()
}

fn id_of(v: &Value) -> Uuid {
    Uuid::parse_str(v["data"]["id"].as_str().expect("data.id")).unwrap()
}

fn names(v: &Value) -> Vec<String> {
    v["data"]
        .as_array()
        .expect("data is a list")
        .iter()
        .map(|m| m["name"].as_str().unwrap().to_string())
        .collect()
}

fn detail_fields(v: &Value) -> Vec<String> {
    v["details"]
        .as_array()
        .map(|d| {
            d.iter()
                .map(|x| x["field"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

async fn post(w: &World, who: &Login, path: &str, body: Value) -> (StatusCode, Value) {
    call(&w.app, Method::POST, path, Some(&who.token), Some(&body)).await
}

async fn get(w: &World, who: &Login, path: &str) -> (StatusCode, Value) {
    call(&w.app, Method::GET, path, Some(&who.token), None).await
}

async fn new_multiplier(
    w: &World,
    who: &Login,
    loteria: Uuid,
    name: &str,
    value_x: f64,
    kind: &str,
) -> Uuid {
    let (s, b) = post(
        w,
        who,
        "/api/v1/multipliers",
        json!({ "loteriaId": loteria, "name": name, "valueX": value_x, "kind": kind }),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    id_of(&b)
}

/// The fields the client reads, with their JSON types.
fn assert_multiplier_shape(m: &Value) {
    for k in ["id", "loteriaId", "name", "kind", "createdAt", "updatedAt"] {
        assert!(m[k].is_string(), "{k} in {m}");
    }
    assert!(m["valueX"].is_number(), "{m}");
    assert!(m["isActive"].is_boolean(), "{m}");
    assert!(m.get("appliesToDate").is_some() && m.get("appliesToSorteoId").is_some());
    assert!(m["loteria"]["id"].is_string() && m["loteria"]["name"].is_string());
}

#[tokio::test]
async fn multiplier_crud_as_admin_and_banca() {
    let w = fixtures::world().await;
    let banca = &w.a.banca_user;
    let lot = fixtures::loteria(&w.app, Some(w.a.banca_id), "TICA", json!({})).await;
    let other_lot = fixtures::loteria(&w.app, Some(w.a.banca_id), "NICA", json!({})).await;

    let (s, b) = post(
        &w,
        banca,
        "/api/v1/multipliers",
        json!({ "loteriaId": lot, "name": " Base ", "valueX": 90, "kind": "NUMERO" }),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_multiplier_shape(&b["data"]);
    assert_eq!(b["data"]["name"], "Base");
    assert_eq!(b["data"]["valueX"].as_f64(), Some(90.0));
    assert_eq!(b["data"]["loteria"]["name"], "TICA");
    assert_eq!(b["data"]["bancaId"], json!(w.a.banca_id));
    let base = id_of(&b);

    let (s, b) = post(
        &w,
        &w.admin,
        "/api/v1/multipliers",
        json!({ "loteriaId": lot, "name": "Roja", "valueX": 200, "kind": "REVENTADO",
                "appliesToDate": "2030-01-02", "isActive": true }),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(b["data"]["appliesToDate"], "2030-01-02");
    assert_eq!(b["data"]["kind"], "REVENTADO");
    let (s, b) = post(
        &w,
        banca,
        "/api/v1/multipliers",
        json!({ "loteriaId": lot, "name": "Ochenta", "valueX": 80.5 }),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(b["data"]["kind"], "NUMERO");
    assert_eq!(b["data"]["valueX"].as_f64(), Some(80.5));
    let ochenta = id_of(&b);

    // Lists: every role of the banca reads them.
    let seller = &w.a.vendedores[0];
    let (s, b) = get(&w, seller, "/api/v1/multipliers").await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["meta"]["total"], 3);
    assert_eq!(b["meta"]["pageSize"], 20);
    assert_multiplier_shape(&b["data"][0]);
    for (query, want) in [
        ("kind=REVENTADO", 1),
        (&format!("loteriaId={lot}") as &str, 3),
        (&format!("loteriaId={other_lot}"), 0),
        ("q=och", 1),
        ("search=tica", 3),
        ("isActive=false", 0),
        ("isActive=true&pageSize=2", 3),
    ] {
        let (s, b) = get(&w, seller, &format!("/api/v1/multipliers?{query}")).await;
        assert_eq!(s, StatusCode::OK, "{query}: {b}");
        assert_eq!(b["meta"]["total"], want, "{query}");
    }
    let (s, b) = get(
        &w,
        &w.a.ventana_users[0],
        &format!("/api/v1/multipliers/{base}"),
    )
    .await;
    assert_eq!(
        (s, b["data"]["name"].clone()),
        (StatusCode::OK, json!("Base"))
    );

    // Update (PATCH and PUT), with the lotería sent back unchanged as the client does.
    let path = format!("/api/v1/multipliers/{ochenta}");
    let (s, b) = call(
        &w.app,
        Method::PATCH,
        &path,
        Some(&banca.token),
        Some(&json!({ "loteriaId": lot, "name": "Ochenta y cinco", "valueX": 85, "kind": "NUMERO", "isActive": true })),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(
        (b["data"]["name"].as_str(), b["data"]["valueX"].as_f64()),
        (Some("Ochenta y cinco"), Some(85.0))
    );
    let (s, b) = call(
        &w.app,
        Method::PUT,
        &path,
        Some(&w.admin.token),
        Some(&json!({ "appliesToDate": "2030-03-04T10:00:00Z" })),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["data"]["appliesToDate"], "2030-03-04");
    let (s, b) = call(
        &w.app,
        Method::PATCH,
        &path,
        Some(&banca.token),
        Some(&json!({ "loteriaId": other_lot })),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
    assert_eq!(detail_fields(&b), ["loteriaId"]);
    assert_eq!(activity_count(&w, "SYSTEM_ACTION", ochenta).await, 3);

    // Toggle through DELETE {isActive}, then restore.
    let del = |active: Option<bool>| {
        let body = active.map(|a| json!({ "isActive": a }));
        let (app, token, path) = (&w.app, banca.token.clone(), path.clone());
        async move { call(app, Method::DELETE, &path, Some(&token), body.as_ref()).await }
    };
    let (s, b) = del(Some(false)).await;
    assert_eq!(
        (s, b["data"]["isActive"].clone()),
        (StatusCode::OK, json!(false))
    );
    let (s, _) = del(Some(false)).await;
    assert_eq!(s, StatusCode::OK);
    let (_, b) = get(&w, seller, "/api/v1/multipliers?isActive=false").await;
    assert_eq!(b["meta"]["total"], 1);
    let (s, b) = del(Some(true)).await;
    assert_eq!(
        (s, b["data"]["isActive"].clone()),
        (StatusCode::OK, json!(true))
    );
    let (s, b) = del(None).await;
    assert_eq!(
        (s, b["data"]["isActive"].clone()),
        (StatusCode::OK, json!(false))
    );
    let (s, b) = call(
        &w.app,
        Method::PATCH,
        &format!("{path}/restore"),
        Some(&banca.token),
        None,
    )
    .await;
    assert_eq!(
        (s, b["data"]["isActive"].clone()),
        (StatusCode::OK, json!(true))
    );
    // create, PATCH, PUT, deactivate, activate, deactivate, restore; the repeated toggle
    // wrote nothing.
    assert_eq!(activity_count(&w, "SYSTEM_ACTION", ochenta).await, 7);

    // VENTANA and VENDEDOR only read.
    for who in [&w.a.ventana_users[0], seller] {
        let (s, _) = post(
            &w,
            who,
            "/api/v1/multipliers",
            json!({ "loteriaId": lot, "name": "Nuevo", "valueX": 70 }),
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, _) = call(
            &w.app,
            Method::PATCH,
            &path,
            Some(&who.token),
            Some(&json!({ "valueX": 1 })),
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    }
}

#[tokio::test]
async fn duplicate_active_names_conflict() {
    let w = fixtures::world().await;
    let banca = &w.a.banca_user;
    let lot = fixtures::loteria(&w.app, Some(w.a.banca_id), "TICA", json!({})).await;
    let first = new_multiplier(&w, banca, lot, "Base", 90.0, "NUMERO").await;
    let (s, b) = post(
        &w,
        banca,
        "/api/v1/multipliers",
        json!({ "loteriaId": lot, "name": "base", "valueX": 85 }),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "{b}");
    assert_eq!(b["code"], "MULTIPLIER_EXISTS");
    assert_eq!(detail_fields(&b), ["name"]);

    // Another lotería may use the name.
    let other = fixtures::loteria(&w.app, Some(w.a.banca_id), "NICA", json!({})).await;
    new_multiplier(&w, banca, other, "Base", 90.0, "NUMERO").await;

    // Once the first is inactive the name is free; bringing it back then conflicts.
    let first_path = format!("/api/v1/multipliers/{first}");
    let (s, _) = call(
        &w.app,
        Method::DELETE,
        &first_path,
        Some(&banca.token),
        Some(&json!({ "isActive": false })),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let second = new_multiplier(&w, banca, lot, "BASE", 92.0, "NUMERO").await;
    for (method, path, body) in [
        (Method::PATCH, format!("{first_path}/restore"), None),
        (
            Method::DELETE,
            first_path.clone(),
            Some(json!({ "isActive": true })),
        ),
        (
            Method::PATCH,
            first_path.clone(),
            Some(json!({ "isActive": true })),
        ),
    ] {
        let (s, b) = call(&w.app, method, &path, Some(&banca.token), body.as_ref()).await;
        assert_eq!(s, StatusCode::CONFLICT, "{path}: {b}");
        assert_eq!(b["code"], "MULTIPLIER_EXISTS");
    }
    // Renaming onto a taken name conflicts; renaming away frees it.
    let third = new_multiplier(&w, banca, lot, "Otro", 80.0, "NUMERO").await;
    let (s, b) = call(
        &w.app,
        Method::PATCH,
        &format!("/api/v1/multipliers/{third}"),
        Some(&banca.token),
        Some(&json!({ "name": "Base" })),
    )
    .await;
    assert_eq!(
        (s, b["code"].clone()),
        (StatusCode::CONFLICT, json!("MULTIPLIER_EXISTS"))
    );
    let (s, _) = call(
        &w.app,
        Method::PATCH,
        &format!("/api/v1/multipliers/{second}"),
        Some(&banca.token),
        Some(&json!({ "name": "Noventa y dos" })),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, b) = call(
        &w.app,
        Method::PATCH,
        &format!("{first_path}/restore"),
        Some(&banca.token),
        None,
    )
    .await;
    assert_eq!(
        (s, b["data"]["isActive"].clone()),
        (StatusCode::OK, json!(true))
    );

    // Two racing creates: one wins, the other is a 409, never a 500.
    let body = json!({ "loteriaId": lot, "name": "Doble", "valueX": 75 });
    let (r1, r2) = tokio::join!(
        post(&w, banca, "/api/v1/multipliers", body.clone()),
        post(&w, &w.admin, "/api/v1/multipliers", body.clone()),
    );
    let mut statuses = [r1.0, r2.0];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::CREATED, StatusCode::CONFLICT]);
    assert_eq!(
        count(
            &w,
            "SELECT count(*) FROM loteria_multipliers WHERE name = 'Doble' AND is_active"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn invalid_multipliers_are_refused_and_write_nothing() {
    let w = fixtures::world().await;
    let banca = &w.a.banca_user;
    let lot = fixtures::loteria(&w.app, Some(w.a.banca_id), "TICA", json!({})).await;
    let lot_b = fixtures::loteria(&w.app, Some(w.b.banca_id), "TICA", json!({})).await;
    let before = snapshot(&w).await;
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (
            json!({ "loteriaId": lot, "name": "X", "valueX": 0, "kind": "DIRECTO" }),
            vec!["name", "valueX", "kind"],
        ),
        (json!({ "name": "Base" }), vec!["loteriaId", "valueX"]),
        (
            json!({ "loteriaId": lot, "name": "Base", "valueX": 90.123 }),
            vec!["valueX"],
        ),
        (
            json!({ "loteriaId": lot, "name": "Base", "valueX": 10000 }),
            vec!["valueX"],
        ),
        (
            json!({ "loteriaId": lot, "name": "Base", "valueX": -5 }),
            vec!["valueX"],
        ),
        (
            json!({ "loteriaId": lot, "name": "Un nombre mucho más largo de lo permitido", "valueX": 90 }),
            vec!["name"],
        ),
        (
            json!({ "loteriaId": lot, "name": "Base", "valueX": 90, "appliesToDate": "mañana" }),
            vec!["appliesToDate"],
        ),
        (
            json!({ "loteriaId": lot, "name": "Base", "valueX": 90, "appliesToSorteoId": Uuid::new_v4() }),
            vec!["appliesToSorteoId"],
        ),
        (
            json!({ "loteriaId": lot, "name": "Base", "valueX": 90, "color": "rojo" }),
            vec![],
        ),
        (
            json!({ "loteriaId": lot, "name": "Base", "valueX": "noventa" }),
            vec![],
        ),
    ];
    for (body, fields) in cases {
        let (s, b) = post(&w, banca, "/api/v1/multipliers", body.clone()).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{body}: {b}");
        assert_eq!(b["code"], "VALIDATION_ERROR", "{body}");
        if !fields.is_empty() {
            assert_eq!(detail_fields(&b), fields, "{body}");
        } else {
            assert!(!detail_fields(&b).is_empty(), "{body}: {b}");
        }
    }
    // Another tenant's lotería, an unknown one, a sorteo of another lotería.
    for l in [lot_b, Uuid::new_v4()] {
        let (s, _) = post(
            &w,
            banca,
            "/api/v1/multipliers",
            json!({ "loteriaId": l, "name": "Base", "valueX": 90 }),
        )
        .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
    }
    let sorteo_b = fixtures::sorteo(&w.app, lot_b, chrono::Utc::now(), "SCHEDULED").await;
    let (s, b) = post(
        &w,
        &w.admin,
        "/api/v1/multipliers",
        json!({ "loteriaId": lot, "name": "Base", "valueX": 90, "appliesToSorteoId": sorteo_b }),
    )
    .await;
    assert_eq!(
        (s, detail_fields(&b)),
        (
            StatusCode::BAD_REQUEST,
            vec!["appliesToSorteoId".to_string()]
        )
    );
    assert_eq!(snapshot(&w).await, before);

    // Query strings are strict.
    for q in [
        "kind=DIRECTO",
        "pageSize=101",
        "page=0",
        "foo=1",
        "isActive=quizas",
        "loteriaId=x",
    ] {
        let (s, b) = get(&w, banca, &format!("/api/v1/multipliers?{q}")).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{q}: {b}");
        assert!(!detail_fields(&b).is_empty(), "{q}");
    }
    let (s, _) = get(&w, banca, "/api/v1/multipliers/no-es-uuid").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = get(
        &w,
        banca,
        &format!("/api/v1/multipliers?bancaId={}", w.b.banca_id),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

async fn new_override(w: &World, who: &Login, body: Value) -> Uuid {
    let (s, b) = post(w, who, "/api/v1/multiplier-overrides", body).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    id_of(&b)
}

#[tokio::test]
async fn overrides_by_role_with_conflicts_delete_and_restore() {
    let w = fixtures::world().await;
    let lot = fixtures::loteria(&w.app, Some(w.a.banca_id), "TICA", json!({})).await;
    let (listero, listero2) = (&w.a.ventana_users[0], &w.a.ventana_users[1]);
    let (seller, seller2) = (&w.a.vendedores[0], &w.a.vendedores[1]);
    let (v1, v2) = (w.a.ventanas[0], w.a.ventanas[1]);
    let user_body = |target: Uuid, x: f64| json!({ "scope": "USER", "scopeId": target, "loteriaId": lot, "baseMultiplierX": x });

    // A listero sets one for its vendedor.
    let (s, b) = post(
        &w,
        listero,
        "/api/v1/multiplier-overrides",
        user_body(seller.user_id, 95.0),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let o = &b["data"];
    assert_eq!(o["scope"], "USER");
    assert_eq!(o["userId"], json!(seller.user_id));
    assert_eq!(o["ventanaId"], Value::Null);
    assert_eq!(o["multiplierType"], "NUMERO");
    assert_eq!(o["baseMultiplierX"].as_f64(), Some(95.0));
    assert_eq!(o["isActive"], true);
    assert_eq!(o["user"]["username"], json!(seller.username));
    assert_eq!(o["loteria"]["name"], "TICA");
    assert_eq!(o["bancaId"], json!(w.a.banca_id));
    fixtures::assert_no_secrets(&b);
    let user_override = id_of(&b);

    let (s, b) = post(
        &w,
        &w.a.banca_user,
        "/api/v1/multiplier-overrides",
        json!({ "scope": "USER", "scopeId": seller.user_id, "loteriaId": lot, "multiplierType": "NUMERO", "baseMultiplierX": 90 }),
    )
    .await;
    assert_eq!(
        (s, b["code"].clone()),
        (StatusCode::CONFLICT, json!("OVERRIDE_EXISTS"))
    );
    // The same target for REVENTADO is another override.
    new_override(
        &w,
        &w.a.banca_user,
        json!({ "scope": "USER", "scopeId": seller.user_id, "loteriaId": lot, "multiplierType": "REVENTADO", "baseMultiplierX": 150 }),
    )
    .await;

    // A listero reaches only its ventana and its vendedores.
    for body in [
        user_body(seller2.user_id, 90.0),
        json!({ "scope": "VENTANA", "scopeId": v2, "loteriaId": lot, "baseMultiplierX": 90 }),
    ] {
        let (s, _) = post(&w, listero, "/api/v1/multiplier-overrides", body).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
    }
    let ventana_override = new_override(
        &w,
        listero,
        json!({ "scope": "VENTANA", "scopeId": v1, "loteriaId": lot, "baseMultiplierX": 94 }),
    )
    .await;
    new_override(
        &w,
        &w.a.banca_user,
        json!({ "scope": "VENTANA", "scopeId": v2, "loteriaId": lot, "baseMultiplierX": 93 }),
    )
    .await;
    let (s, _) = post(
        &w,
        seller,
        "/api/v1/multiplier-overrides",
        user_body(seller.user_id, 99.0),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // Bad input: 400 with details, nothing written.
    let before = snapshot(&w).await;
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (user_body(seller.user_id, 0.0), vec!["baseMultiplierX"]),
        (user_body(seller.user_id, 10000.0), vec!["baseMultiplierX"]),
        (user_body(seller.user_id, 90.555), vec!["baseMultiplierX"]),
        (
            json!({ "scope": "BANCA", "loteriaId": lot, "multiplierType": "DIRECTO", "baseMultiplierX": 90 }),
            vec!["scope", "scopeId", "multiplierType"],
        ),
        (
            json!({ "scope": "USER", "scopeId": listero2.user_id, "loteriaId": lot, "baseMultiplierX": 90 }),
            vec!["scopeId"],
        ),
    ];
    for (body, fields) in cases {
        let (s, b) = post(
            &w,
            &w.a.banca_user,
            "/api/v1/multiplier-overrides",
            body.clone(),
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{body}: {b}");
        assert_eq!(detail_fields(&b), fields, "{body}");
    }
    assert_eq!(snapshot(&w).await, before);

    // Lists by role (live, active ones by default).
    for (who, want) in [
        (&w.admin, 4),
        (&w.a.banca_user, 4),
        (listero, 3),
        (listero2, 1),
        (seller, 2),
        (seller2, 0),
        (&w.b.banca_user, 0),
    ] {
        let (s, b) = get(&w, who, "/api/v1/multiplier-overrides").await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assert_eq!(b["meta"]["total"], want, "{}", who.username);
    }
    let (_, b) = get(
        &w,
        &w.admin,
        &format!(
            "/api/v1/multiplier-overrides?scope=USER&scopeId={}&multiplierType=NUMERO",
            seller.user_id
        ),
    )
    .await;
    assert_eq!(b["meta"]["total"], 1);
    let (s, _) = get(
        &w,
        seller,
        &format!("/api/v1/multiplier-overrides/{user_override}"),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = get(
        &w,
        seller,
        &format!("/api/v1/multiplier-overrides/{ventana_override}"),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // Update.
    let path = format!("/api/v1/multiplier-overrides/{user_override}");
    let put = |body: Value| {
        let (app, token, path) = (&w.app, listero.token.clone(), path.clone());
        async move { call(app, Method::PUT, &path, Some(&token), Some(&body)).await }
    };
    let (s, b) = put(json!({ "baseMultiplierX": 96 })).await;
    assert_eq!(
        (s, b["data"]["baseMultiplierX"].as_f64()),
        (StatusCode::OK, Some(96.0))
    );
    let (s, b) = put(json!({})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
    let (s, b) = put(json!({ "isActive": false })).await;
    assert_eq!(
        (s, b["data"]["isActive"].clone()),
        (StatusCode::OK, json!(false))
    );
    let (_, b) = get(&w, listero, "/api/v1/multiplier-overrides").await;
    assert_eq!(b["meta"]["total"], 2);
    let (_, b) = get(&w, listero, "/api/v1/multiplier-overrides?isActive=false").await;
    assert_eq!(b["meta"]["total"], 1);

    // Soft delete, idempotent; a deleted override cannot be updated.
    let (s, b) = call(
        &w.app,
        Method::DELETE,
        &path,
        Some(&listero.token),
        Some(&json!({ "deletedReason": "ya no aplica" })),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert!(b["data"]["deletedAt"].is_string());
    assert_eq!(b["data"]["deletedBy"], json!(listero.user_id.to_string()));
    assert_eq!(b["data"]["deletedReason"], "ya no aplica");
    let (s, _) = call(&w.app, Method::DELETE, &path, Some(&listero.token), None).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = put(json!({ "baseMultiplierX": 97 })).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // A new live override for the same key blocks restoring the deleted one.
    let replacement = new_override(&w, listero, user_body(seller.user_id, 91.0)).await;
    let restore = format!("{path}/restore");
    let (s, b) = call(&w.app, Method::PATCH, &restore, Some(&listero.token), None).await;
    assert_eq!(
        (s, b["code"].clone()),
        (StatusCode::CONFLICT, json!("OVERRIDE_EXISTS"))
    );
    let (s, _) = call(
        &w.app,
        Method::DELETE,
        &format!("/api/v1/multiplier-overrides/{replacement}"),
        Some(&listero.token),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, b) = call(&w.app, Method::PATCH, &restore, Some(&listero.token), None).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(
        (
            b["data"]["isActive"].clone(),
            b["data"]["deletedAt"].clone()
        ),
        (json!(true), Value::Null)
    );
    for (action, n) in [
        ("MULTIPLIER_SETTING_CREATE", 1),
        ("MULTIPLIER_SETTING_UPDATE", 2),
        ("MULTIPLIER_SETTING_DELETE", 1),
        ("MULTIPLIER_SETTING_RESTORE", 1),
    ] {
        assert_eq!(
            activity_count(&w, action, user_override).await,
            n,
            "{action}"
        );
    }
}

#[tokio::test]
async fn base_multiplier_chain_reads_every_step() {
    let w = fixtures::world().await;
    let (seller, v1) = (&w.a.vendedores[0], w.a.ventanas[0]);
    let lot = fixtures::loteria(
        &w.app,
        Some(w.a.banca_id),
        "TICA",
        json!({ "baseMultiplierX": 70 }),
    )
    .await;
    let bare = fixtures::loteria(&w.app, Some(w.a.banca_id), "NICA", json!({})).await;
    let resolve = |loteria: Uuid, env: Option<i64>| {
        let pool = w.app.state.pools.primary().clone();
        let (banca, user) = (w.a.banca_id, seller.user_id);
        async move {
            let mut conn = pool.acquire().await.unwrap();
            banca::services::multipliers::resolve_base_multiplier(
                &mut conn,
                banca,
                loteria,
                user,
                v1,
                env.map(Decimal::from),
            )
            .await
            .unwrap()
            .map(|b| (b.value_x.normalize(), b.source))
        }
    };
    let x = |v: i64| Decimal::from(v);

    assert_eq!(resolve(bare, None).await, None);
    assert_eq!(resolve(bare, Some(60)).await, Some((x(60), S::EnvDefault)));
    assert_eq!(resolve(lot, Some(60)).await, Some((x(70), S::RulesJson)));
    fixtures::multiplier(&w.app, lot, "Roja", 200, "REVENTADO").await;
    assert_eq!(resolve(lot, None).await, Some((x(70), S::RulesJson)));
    fixtures::multiplier(&w.app, lot, "Ochenta", 80, "NUMERO").await;
    fixtures::multiplier(&w.app, lot, "Ochenta y cinco", 85, "NUMERO").await;
    assert_eq!(resolve(lot, None).await, Some((x(80), S::MultiplierNumero)));
    let base = fixtures::multiplier(&w.app, lot, "Base", 90, "NUMERO").await;
    assert_eq!(resolve(lot, None).await, Some((x(90), S::MultiplierBase)));
    let mut conn = w.db.connect().await;
    sqlx::query("UPDATE loteria_multipliers SET is_active = false WHERE id = $1")
        .bind(base)
        .execute(&mut conn)
        .await
        .unwrap();
    assert_eq!(resolve(lot, None).await, Some((x(80), S::MultiplierNumero)));
    sqlx::query(
        "INSERT INTO banca_loteria_settings (banca_id, loteria_id, base_multiplier_x, is_active)
         VALUES ($1, $2, 92, false)",
    )
    .bind(w.a.banca_id)
    .bind(lot)
    .execute(&mut conn)
    .await
    .unwrap();
    // The setting counts whatever its flag (§3.5).
    assert_eq!(resolve(lot, None).await, Some((x(92), S::BancaSetting)));

    let banca = &w.a.banca_user;
    // Overrides of another ventana, or of type REVENTADO, do not apply.
    new_override(
        &w,
        banca,
        json!({ "scope": "VENTANA", "scopeId": w.a.ventanas[1], "loteriaId": lot, "baseMultiplierX": 99 }),
    )
    .await;
    new_override(
        &w,
        banca,
        json!({ "scope": "USER", "scopeId": seller.user_id, "loteriaId": lot, "multiplierType": "REVENTADO", "baseMultiplierX": 98 }),
    )
    .await;
    assert_eq!(resolve(lot, None).await, Some((x(92), S::BancaSetting)));
    let ventana_o = new_override(
        &w,
        banca,
        json!({ "scope": "VENTANA", "scopeId": v1, "loteriaId": lot, "baseMultiplierX": 94 }),
    )
    .await;
    assert_eq!(resolve(lot, None).await, Some((x(94), S::VentanaOverride)));
    let user_o = new_override(
        &w,
        banca,
        json!({ "scope": "USER", "scopeId": seller.user_id, "loteriaId": lot, "baseMultiplierX": 95.5 }),
    )
    .await;
    assert_eq!(
        resolve(lot, None).await,
        Some((Decimal::new(955, 1), S::UserOverride))
    );
    // Inactive and deleted overrides are skipped.
    let (s, _) = call(
        &w.app,
        Method::PUT,
        &format!("/api/v1/multiplier-overrides/{user_o}"),
        Some(&banca.token),
        Some(&json!({ "isActive": false })),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(resolve(lot, None).await, Some((x(94), S::VentanaOverride)));
    let (s, _) = call(
        &w.app,
        Method::DELETE,
        &format!("/api/v1/multiplier-overrides/{ventana_o}"),
        Some(&banca.token),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(resolve(lot, None).await, Some((x(92), S::BancaSetting)));
}

#[tokio::test]
async fn allowed_multipliers_follow_the_user_policy() {
    let w = fixtures::world().await;
    let (seller, seller2) = (&w.a.vendedores[0], &w.a.vendedores[1]);
    let tica = fixtures::loteria(&w.app, Some(w.a.banca_id), "TICA", json!({})).await;
    let nica = fixtures::loteria(&w.app, Some(w.a.banca_id), "NICA", json!({})).await;
    let lot_b = fixtures::loteria(&w.app, Some(w.b.banca_id), "TICA", json!({})).await;
    fixtures::multiplier(&w.app, tica, "Ochenta", 80, "NUMERO").await;
    fixtures::multiplier(&w.app, tica, "Ochenta y cinco", 85, "NUMERO").await;
    fixtures::multiplier(&w.app, tica, "Base", 90, "NUMERO").await;
    fixtures::multiplier(&w.app, tica, "Roja", 200, "REVENTADO").await;
    let old = fixtures::multiplier(&w.app, tica, "Viejo", 92, "NUMERO").await;
    fixtures::multiplier(&w.app, nica, "Base", 90, "NUMERO").await;
    fixtures::multiplier(&w.app, lot_b, "Base", 90, "NUMERO").await;
    let mut conn = w.db.connect().await;
    sqlx::query("UPDATE loteria_multipliers SET is_active = false WHERE id = $1")
        .bind(old)
        .execute(&mut conn)
        .await
        .unwrap();

    let policy = json!({ "commissionPolicyJson": {
        "version": 1, "effectiveFrom": null, "effectiveTo": null, "defaultPercent": 5,
        "rules": [
            { "loteriaId": tica, "betType": "NUMERO", "multiplierRange": { "min": 85, "max": 85 }, "percent": 8 },
            { "loteriaId": null, "betType": null, "multiplierRange": { "min": 90, "max": 90 }, "percent": 10 },
            { "loteriaId": null, "betType": "REVENTADO", "multiplierRange": { "min": 200, "max": 200 }, "percent": 3 },
        ],
    }});
    let (s, b) = call(
        &w.app,
        Method::PUT,
        &format!("/api/v1/users/{}/commission-policy", seller.user_id),
        Some(&w.admin.token),
        Some(&policy),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");

    let path =
        |user: Uuid, query: &str| format!("/api/v1/users/{user}/allowed-multipliers?{query}");
    let (s, b) = get(
        &w,
        seller,
        &path(seller.user_id, &format!("loteriaId={tica}")),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(names(&b), ["Ochenta y cinco", "Base"]);
    assert_multiplier_shape(&b["data"][0]);
    assert_eq!(
        b["meta"],
        json!({ "policyExists": true, "policyEffective": true, "rulesMatched": 2, "totalActiveMultipliers": 3 })
    );
    let (_, b) = get(
        &w,
        seller,
        &path(
            seller.user_id,
            &format!("loteriaId={tica}&betType=REVENTADO"),
        ),
    )
    .await;
    assert_eq!(names(&b), ["Roja"]);
    assert_eq!(b["meta"]["rulesMatched"], 1);
    let (_, b) = get(
        &w,
        seller,
        &path(seller.user_id, &format!("loteriaId={nica}")),
    )
    .await;
    assert_eq!(names(&b), ["Base"]);

    // Who may ask.
    let tica_q = format!("loteriaId={tica}");
    for (who, want) in [
        (&w.admin, StatusCode::OK),
        (&w.a.banca_user, StatusCode::OK),
        (&w.a.ventana_users[0], StatusCode::OK),
        (&w.a.ventana_users[1], StatusCode::NOT_FOUND),
        (seller2, StatusCode::NOT_FOUND),
        (&w.b.banca_user, StatusCode::NOT_FOUND),
        (&w.b.ventana_users[0], StatusCode::NOT_FOUND),
        (&w.b.vendedores[0], StatusCode::NOT_FOUND),
    ] {
        let (s, b) = get(&w, who, &path(seller.user_id, &tica_q)).await;
        assert_eq!(s, want, "{}: {b}", who.username);
    }

    // Bad requests.
    let (s, b) = get(&w, seller, &path(seller.user_id, "")).await;
    assert_eq!(
        (s, detail_fields(&b)),
        (StatusCode::BAD_REQUEST, vec!["loteriaId".to_string()])
    );
    for q in [
        format!("{tica_q}&betType=DIRECTO"),
        format!("{tica_q}&foo=1"),
        "loteriaId=x".into(),
    ] {
        let (s, _) = get(&w, seller, &path(seller.user_id, &q)).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{q}");
    }
    let (s, _) = get(
        &w,
        seller,
        &path(seller.user_id, &format!("loteriaId={lot_b}")),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, b) = get(&w, &w.admin, &path(w.a.ventana_users[0].user_id, &tica_q)).await;
    assert_eq!(
        (s, b["code"].clone()),
        (StatusCode::BAD_REQUEST, json!("INVALID_USER_ROLE"))
    );

    // No policy: nothing allowed.
    let (s, b) = get(&w, &w.admin, &path(seller2.user_id, &tica_q)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(names(&b), Vec::<String>::new());
    assert_eq!(b["meta"]["policyExists"], false);

    // Batch: every active lotería of the vendedor's banca (NICA before TICA).
    let batch = |query: &str| {
        format!(
            "/api/v1/users/{}/allowed-multipliers-batch?{query}",
            seller.user_id
        )
    };
    let (s, b) = get(&w, seller, &batch("")).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let got: Vec<(String, String)> = b["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["loteria"]["name"].as_str().unwrap().to_string(),
                m["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want: Vec<(String, String)> = [
        ("NICA", "Base"),
        ("TICA", "Ochenta y cinco"),
        ("TICA", "Base"),
        ("TICA", "Roja"),
    ]
    .iter()
    .map(|(l, m)| (l.to_string(), m.to_string()))
    .collect();
    assert_eq!(got, want);
    assert_eq!(b["meta"]["totalMultipliers"], 5);
    assert_eq!(b["meta"]["rulesMatched"], 3);
    let (_, b) = get(&w, seller, &batch("betType=NUMERO")).await;
    assert_eq!(b["data"].as_array().unwrap().len(), 3);
    let (_, b) = get(&w, seller, &batch("isActive=false")).await;
    assert_eq!(
        (
            b["data"].as_array().unwrap().len(),
            b["meta"]["totalMultipliers"].clone()
        ),
        (0, json!(1))
    );
    for (who, want) in [
        (&w.a.ventana_users[0], StatusCode::OK),
        (&w.a.ventana_users[1], StatusCode::NOT_FOUND),
        (&w.b.banca_user, StatusCode::NOT_FOUND),
    ] {
        let (s, _) = get(&w, who, &batch("")).await;
        assert_eq!(s, want, "{}", who.username);
    }
}

#[tokio::test]
async fn tenant_a_cannot_touch_tenant_b_multipliers_or_overrides() {
    let w = fixtures::world().await;
    let lot_b = fixtures::loteria(&w.app, Some(w.b.banca_id), "TICA", json!({})).await;
    let m_b = fixtures::multiplier(&w.app, lot_b, "Base", 90, "NUMERO").await;
    let seller_b = &w.b.vendedores[0];
    let o_b = new_override(
        &w,
        &w.b.banca_user,
        json!({ "scope": "USER", "scopeId": seller_b.user_id, "loteriaId": lot_b, "baseMultiplierX": 95 }),
    )
    .await;
    let ov_b = new_override(
        &w,
        &w.b.banca_user,
        json!({ "scope": "VENTANA", "scopeId": w.b.ventanas[0], "loteriaId": lot_b, "baseMultiplierX": 94 }),
    )
    .await;

    let m = format!("/api/v1/multipliers/{m_b}");
    let cases: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, m.clone(), None),
        (Method::PUT, m.clone(), Some(json!({ "valueX": 1 }))),
        (Method::PATCH, m.clone(), Some(json!({ "name": "Tomado" }))),
        (Method::DELETE, m.clone(), Some(json!({ "isActive": false }))),
        (Method::DELETE, m.clone(), None),
        (Method::PATCH, format!("{m}/restore"), None),
        (
            Method::POST,
            "/api/v1/multipliers".into(),
            Some(json!({ "loteriaId": lot_b, "name": "Intruso", "valueX": 90 })),
        ),
        (
            Method::POST,
            "/api/v1/multiplier-overrides".into(),
            Some(json!({ "scope": "USER", "scopeId": seller_b.user_id, "loteriaId": lot_b, "baseMultiplierX": 1 })),
        ),
        (
            Method::POST,
            "/api/v1/multiplier-overrides".into(),
            Some(json!({ "scope": "VENTANA", "scopeId": w.b.ventanas[1], "loteriaId": lot_b, "baseMultiplierX": 1 })),
        ),
        (
            Method::GET,
            format!("/api/v1/users/{}/allowed-multipliers?loteriaId={lot_b}", seller_b.user_id),
            None,
        ),
        (
            Method::GET,
            format!("/api/v1/users/{}/allowed-multipliers-batch", seller_b.user_id),
            None,
        ),
    ]
    .into_iter()
    .chain([o_b, ov_b].into_iter().flat_map(|o| {
        let p = format!("/api/v1/multiplier-overrides/{o}");
        [
            (Method::GET, p.clone(), None),
            (Method::PUT, p.clone(), Some(json!({ "baseMultiplierX": 1 }))),
            (Method::PUT, p.clone(), Some(json!({ "isActive": false }))),
            (Method::DELETE, p.clone(), None),
            (Method::PATCH, format!("{p}/restore"), None),
        ]
    }))
    .collect();

    let before = snapshot(&w).await;
    for who in w.a.logins() {
        for (method, path, body) in &cases {
            let (s, b) = call(
                &w.app,
                method.clone(),
                path,
                Some(&who.token),
                body.as_ref(),
            )
            .await;
            assert!(
                s == StatusCode::NOT_FOUND || s == StatusCode::FORBIDDEN,
                "{} {method} {path}: {s} {b}",
                who.username
            );
        }
        for path in [
            "/api/v1/multipliers?pageSize=100".to_string(),
            format!("/api/v1/multipliers?loteriaId={lot_b}"),
            "/api/v1/multiplier-overrides?pageSize=100&isActive=false".into(),
            "/api/v1/multiplier-overrides?pageSize=100".into(),
            format!("/api/v1/multiplier-overrides?loteriaId={lot_b}"),
        ] {
            let (s, b) = get(&w, who, &path).await;
            assert_eq!(s, StatusCode::OK, "{} {path}: {b}", who.username);
            assert_eq!(b["meta"]["total"], 0, "{} {path}: {b}", who.username);
        }
    }
    assert_eq!(snapshot(&w).await, before);
}
