//! restrictions API tests: CRUD, bulk update and delete, restore, grouped and `me` lists,
//! field and cross-field validation (400 with details, nothing written), role and tenant
//! reach (VENDEDOR read-only, VENTANA limited to its ventana and vendedores, another tenant's
//! rule 404 with the database unchanged), the ADMIN health reports (the per-number counters
//! against the jugadas, and their rebuild), and the cutoff diagnosis (with live sales).

use chrono::{Duration, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::fixtures::{self, call, Login, World};

/// A digest of every rule and activity row: a refused request must leave it as it was.
async fn digest(w: &World) -> String {
    let mut conn = w.db.connect().await;
    let mut out = String::new();
    for table in ["restriction_rules", "activity_logs"] {
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

async fn activity_count(w: &World, action: &str, target: Uuid) -> i64 {
    let mut conn = w.db.connect().await;
    sqlx::query_scalar("SELECT count(*) FROM activity_logs WHERE action = $1 AND target_id = $2")
        .bind(action)
        .bind(target.to_string())
        .fetch_one(&mut conn)
        .await
        .unwrap()
}

fn ids(v: &Value) -> Vec<Uuid> {
    v["data"]
        .as_array()
        .expect("data is a list")
        .iter()
        .map(|r| Uuid::parse_str(r["id"].as_str().unwrap()).unwrap())
        .collect()
}

fn detail_fields(v: &Value) -> Vec<String> {
    v["details"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|d| d["field"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

async fn post(w: &World, who: &Login, body: Value) -> (StatusCode, Value) {
    call(
        &w.app,
        Method::POST,
        "/api/v1/restrictions",
        Some(&who.token),
        Some(&body),
    )
    .await
}

/// Creates one rule as `who`; returns its id.
async fn rule(w: &World, who: &Login, body: Value) -> Uuid {
    let (s, v) = post(w, who, body.clone()).await;
    assert_eq!(s, StatusCode::CREATED, "{body} → {v}");
    ids(&v)[0]
}

fn assert_rule_shape(r: &Value) {
    for k in ["id", "createdAt", "updatedAt", "ownerBancaId"] {
        assert!(r[k].is_string(), "{k} should be a string: {r}");
    }
    for k in ["isAutoDate", "appliesToVendedor", "isActive"] {
        assert!(r[k].is_boolean(), "{k} should be a boolean: {r}");
    }
    for k in [
        "bancaId",
        "ventanaId",
        "userId",
        "number",
        "maxAmount",
        "maxTotal",
        "baseAmount",
        "salesPercentage",
        "appliesToDate",
        "appliesToHour",
        "salesCutoffMinutes",
        "loteriaId",
        "multiplierId",
        "sorteoId",
        "message",
        "banca",
        "ventana",
        "user",
    ] {
        assert!(r.get(k).is_some(), "{k} missing: {r}");
    }
}

#[tokio::test]
async fn crud_bulk_grouped_and_restore() {
    let w = fixtures::world().await;
    let b = w.a.banca_id;
    let (s, v) = post(
        &w,
        &w.a.banca_user,
        json!({
            "bancaId": b, "number": ["07", "05"], "maxAmount": 50, "maxTotal": "500.50",
            "appliesToDate": "2026-11-05", "appliesToHour": 13, "message": "  tope  ",
            "restrictionType": "amount",
        }),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let created = ids(&v);
    assert_eq!(created.len(), 2, "one rule per number");
    let first = &v["data"][0];
    assert_rule_shape(first);
    assert_eq!(first["number"], "07");
    assert_eq!(first["maxAmount"], json!(50.0));
    assert_eq!(first["maxTotal"], json!(500.5));
    assert_eq!(first["appliesToDate"], "2026-11-05");
    assert_eq!(first["appliesToHour"], 13);
    assert_eq!(first["message"], "tope");
    assert_eq!(first["bancaId"], b.to_string());
    assert_eq!(first["ownerBancaId"], b.to_string());
    assert_eq!(first["banca"]["code"], "BA");
    assert_eq!(
        activity_count(&w, "RESTRICTION_RULE_CREATE", created[0]).await,
        1
    );

    // Read, update, no-op update.
    let path = format!("/api/v1/restrictions/{}", created[1]);
    let (s, v) = call(
        &w.app,
        Method::GET,
        &path,
        Some(&w.a.banca_user.token),
        None,
    )
    .await;
    assert_eq!(
        (s, v["data"]["number"].clone()),
        (StatusCode::OK, json!("05"))
    );
    let (s, v) = call(
        &w.app,
        Method::PATCH,
        &path,
        Some(&w.a.banca_user.token),
        Some(&json!({ "maxAmount": 40, "appliesToHour": null })),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["maxAmount"], json!(40.0));
    assert!(v["data"]["appliesToHour"].is_null());
    let (s, _) = call(
        &w.app,
        Method::PATCH,
        &path,
        Some(&w.a.banca_user.token),
        Some(&json!({ "maxAmount": 40 })),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        activity_count(&w, "RESTRICTION_RULE_UPDATE", created[1]).await,
        1,
        "an update that changes nothing writes nothing"
    );

    // Lists and filters.
    let token = Some(w.a.banca_user.token.as_str());
    let (s, v) = call(
        &w.app,
        Method::GET,
        "/api/v1/restrictions?number=05&hasAmount=true&unknownKey=1",
        token,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(ids(&v), vec![created[1]]);
    assert_eq!(v["meta"]["total"], 1);
    assert_eq!(v["meta"]["pageSize"], 20);
    let (_, v) = call(
        &w.app,
        Method::GET,
        "/api/v1/restrictions?hasCutoff=true",
        token,
        None,
    )
    .await;
    assert_eq!(v["meta"]["total"], 0);

    // Same settings, different numbers: one group once the amounts agree again.
    let (s, v) = call(
        &w.app,
        Method::PUT,
        "/api/v1/restrictions/bulk",
        token,
        Some(&json!({ "ids": created, "data": { "maxAmount": 30, "appliesToHour": 13 } })),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["data"].as_array().unwrap().len(), 2);
    let (s, v) = call(
        &w.app,
        Method::GET,
        "/api/v1/restrictions/grouped",
        token,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["meta"]["total"], 1, "{v}");
    let g = &v["data"][0];
    assert_eq!(g["numbers"], json!(["05", "07"]));
    assert_eq!(g["number"], "05, 07");
    assert_eq!(g["ids"].as_array().unwrap().len(), 2);
    let key = g["groupKey"].as_str().unwrap().to_string();
    let (_, v) = call(
        &w.app,
        Method::GET,
        &format!("/api/v1/restrictions/grouped?id={}", created[0]),
        token,
        None,
    )
    .await;
    assert_eq!(v["data"][0]["groupKey"], key.as_str());
    let encoded: String = url::form_urlencoded::byte_serialize(key.as_bytes()).collect();
    let (_, v) = call(
        &w.app,
        Method::GET,
        &format!("/api/v1/restrictions?groupKey={encoded}"),
        token,
        None,
    )
    .await;
    assert_eq!(v["meta"]["total"], 2, "{v}");

    // Bulk delete, idempotent single delete, restore.
    let (s, v) = call(
        &w.app,
        Method::DELETE,
        "/api/v1/restrictions/bulk",
        token,
        Some(&json!({ "ids": created, "reason": "fin de mes" })),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(v["data"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["isActive"] == false));
    let (_, v) = call(&w.app, Method::GET, "/api/v1/restrictions", token, None).await;
    assert_eq!(
        v["meta"]["total"], 0,
        "the list shows active rules by default"
    );
    let (_, v) = call(
        &w.app,
        Method::GET,
        "/api/v1/restrictions?isActive=false",
        token,
        None,
    )
    .await;
    assert_eq!(v["meta"]["total"], 2);
    let (s, _) = call(&w.app, Method::DELETE, &path, token, None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        activity_count(&w, "RESTRICTION_RULE_DELETE", created[1]).await,
        1,
        "deleting a deleted rule writes nothing"
    );
    let (s, v) = call(
        &w.app,
        Method::PATCH,
        &format!("{path}/restore"),
        token,
        Some(&json!({})),
    )
    .await;
    assert_eq!(
        (s, v["data"]["isActive"].clone()),
        (StatusCode::OK, json!(true))
    );
    assert_eq!(
        activity_count(&w, "RESTRICTION_RULE_RESTORE", created[1]).await,
        1
    );

    // An identical live rule is a conflict, also through a restore.
    let (s, v) = post(
        &w,
        &w.a.banca_user,
        json!({ "bancaId": b, "number": "05", "maxAmount": 10, "appliesToDate": "2026-11-05", "appliesToHour": 13 }),
    )
    .await;
    assert_eq!(
        (s, v["code"].clone()),
        (StatusCode::CONFLICT, json!("RULE_EXISTS"))
    );
}

#[tokio::test]
async fn bad_input_is_a_400_with_details_and_writes_nothing() {
    let w = fixtures::world().await;
    let (b, v1) = (w.a.banca_id, w.a.ventanas[0]);
    let tica = fixtures::loteria(&w.app, Some(b), "TICA", json!({"digits": 2})).await;
    let monazos = fixtures::loteria(&w.app, Some(b), "MONAZOS", json!({"digits": 3})).await;
    let m_tica = fixtures::multiplier(&w.app, tica, "x90", 90, "NUMERO").await;
    let existing = rule(
        &w,
        &w.admin,
        json!({ "ventanaId": v1, "number": "05", "maxAmount": 10 }),
    )
    .await;
    let before = digest(&w).await;
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({ "bancaId": b, "ventanaId": v1, "maxAmount": 10 }),
            "scope",
        ),
        (
            json!({ "ventanaId": v1, "salesCutoffMinutes": 5, "maxAmount": 10 }),
            "maxAmount",
        ),
        (
            json!({ "ventanaId": v1, "salesCutoffMinutes": 5, "number": "05" }),
            "number",
        ),
        (
            json!({ "ventanaId": v1, "salesCutoffMinutes": 1441 }),
            "salesCutoffMinutes",
        ),
        (
            json!({ "ventanaId": v1, "salesCutoffMinutes": 2.5 }),
            "salesCutoffMinutes",
        ),
        (
            json!({ "ventanaId": v1, "number": "5", "maxAmount": 10 }),
            "number",
        ),
        (
            json!({ "ventanaId": v1, "number": 5, "maxAmount": 10 }),
            "number",
        ),
        (
            json!({ "ventanaId": v1, "number": ["06", "06"], "maxAmount": 10 }),
            "number[1]",
        ),
        (
            json!({ "ventanaId": v1, "number": [], "maxAmount": 10 }),
            "number",
        ),
        (
            json!({ "ventanaId": v1, "loteriaId": tica, "number": "005", "maxAmount": 10 }),
            "number",
        ),
        (
            json!({ "ventanaId": v1, "loteriaId": monazos, "number": "05", "maxAmount": 10 }),
            "number",
        ),
        (json!({ "ventanaId": v1, "maxAmount": 0 }), "maxAmount"),
        (json!({ "ventanaId": v1, "maxAmount": -1 }), "maxAmount"),
        (json!({ "ventanaId": v1, "maxTotal": 1.234 }), "maxTotal"),
        (json!({ "ventanaId": v1, "maxTotal": "mucho" }), "maxTotal"),
        (json!({ "ventanaId": v1, "baseAmount": -5 }), "baseAmount"),
        (
            json!({ "ventanaId": v1, "salesPercentage": 0 }),
            "salesPercentage",
        ),
        (
            json!({ "ventanaId": v1, "salesPercentage": 101 }),
            "salesPercentage",
        ),
        (
            json!({ "ventanaId": v1, "maxAmount": 10, "appliesToHour": 24 }),
            "appliesToHour",
        ),
        (
            json!({ "ventanaId": v1, "maxAmount": 10, "appliesToDate": "05/11/2026" }),
            "appliesToDate",
        ),
        (
            json!({ "ventanaId": v1, "maxAmount": 100, "maxTotal": 50 }),
            "maxAmount",
        ),
        (
            json!({ "ventanaId": v1, "isAutoDate": true, "number": "05", "maxAmount": 10 }),
            "number",
        ),
        (json!({ "ventanaId": v1 }), "(root)"),
        (json!({ "maxAmount": 10 }), "scope"),
        (
            json!({ "ventanaId": v1, "maxAmount": 10, "color": "rojo" }),
            "color",
        ),
        (
            json!({ "ventanaId": v1, "multiplierId": m_tica }),
            "loteriaId",
        ),
        (
            json!({ "ventanaId": v1, "loteriaId": monazos, "multiplierId": m_tica }),
            "multiplierId",
        ),
    ];
    for (body, field) in cases {
        let (s, v) = post(&w, &w.admin, body.clone()).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{body} → {v}");
        assert_eq!(v["code"], "VALIDATION_ERROR", "{body} → {v}");
        assert!(
            detail_fields(&v).iter().any(|f| f == field),
            "{body}: expected a detail on {field}: {v}"
        );
    }
    // The merged result of an update is checked as a whole.
    let path = format!("/api/v1/restrictions/{existing}");
    for (body, field) in [
        (json!({ "salesCutoffMinutes": 5 }), "maxAmount"),
        (json!({ "number": ["05", "06"] }), "number"),
        (json!({ "maxTotal": 5 }), "maxAmount"),
        (
            json!({ "bancaId": b, "userId": w.a.vendedores[0].user_id }),
            "scope",
        ),
    ] {
        let (s, v) = call(
            &w.app,
            Method::PATCH,
            &path,
            Some(&w.admin.token),
            Some(&body),
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{body} → {v}");
        assert!(detail_fields(&v).iter().any(|f| f == field), "{body}: {v}");
    }
    let (s, v) = call(
        &w.app,
        Method::PUT,
        "/api/v1/restrictions/bulk",
        Some(&w.admin.token),
        Some(&json!({ "ids": [], "data": { "maxAmount": 5 } })),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(digest(&w).await, before, "refused requests wrote something");

    // Three digits where the lotería says so; auto-date rules carry no number.
    let (s, v) = post(
        &w,
        &w.admin,
        json!({ "ventanaId": v1, "loteriaId": monazos, "number": ["005", "123"], "maxAmount": 10 }),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, v) = post(
        &w,
        &w.admin,
        json!({ "ventanaId": v1, "isAutoDate": true, "maxTotal": 10 }),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert!(v["data"][0]["number"].is_null());
}

#[tokio::test]
async fn roles_reach_what_they_may_and_no_more() {
    let w = fixtures::world().await;
    let a = &w.a;
    let (v1, v2) = (a.ventanas[0], a.ventanas[1]);
    let seller1 = &a.vendedores[0];
    let banca_rule = rule(
        &w,
        &a.banca_user,
        json!({ "bancaId": a.banca_id, "maxAmount": 100 }),
    )
    .await;
    let v2_rule = rule(
        &w,
        &a.banca_user,
        json!({ "ventanaId": v2, "maxAmount": 90 }),
    )
    .await;
    let cutoff_v1 = rule(
        &w,
        &a.banca_user,
        json!({ "ventanaId": v1, "salesCutoffMinutes": 5 }),
    )
    .await;

    // VENTANA: its ventana and its vendedores, limit rules only.
    let listero = &a.ventana_users[0];
    let own = rule(
        &w,
        listero,
        json!({ "ventanaId": v1, "number": "11", "maxAmount": 20 }),
    )
    .await;
    let for_seller = rule(
        &w,
        listero,
        json!({ "userId": seller1.user_id, "maxTotal": 200 }),
    )
    .await;
    let before = digest(&w).await;
    for (body, status) in [
        (
            json!({ "ventanaId": v2, "maxAmount": 5 }),
            StatusCode::NOT_FOUND,
        ),
        (
            json!({ "userId": a.vendedores[1].user_id, "maxAmount": 5 }),
            StatusCode::NOT_FOUND,
        ),
        (
            json!({ "bancaId": a.banca_id, "maxAmount": 5 }),
            StatusCode::FORBIDDEN,
        ),
        (
            json!({ "ventanaId": v1, "salesCutoffMinutes": 0 }),
            StatusCode::FORBIDDEN,
        ),
    ] {
        let (s, v) = post(&w, listero, body.clone()).await;
        assert_eq!(s, status, "{body} → {v}");
    }
    for (method, id, body, status) in [
        (
            Method::PATCH,
            banca_rule,
            json!({ "maxAmount": 1 }),
            StatusCode::FORBIDDEN,
        ),
        (
            Method::PATCH,
            cutoff_v1,
            json!({ "salesCutoffMinutes": 0 }),
            StatusCode::FORBIDDEN,
        ),
        (
            Method::PATCH,
            v2_rule,
            json!({ "maxAmount": 1 }),
            StatusCode::NOT_FOUND,
        ),
        (Method::DELETE, v2_rule, json!({}), StatusCode::NOT_FOUND),
        (
            Method::PATCH,
            own,
            json!({ "salesCutoffMinutes": 0, "maxAmount": null, "number": null }),
            StatusCode::FORBIDDEN,
        ),
    ] {
        let (s, v) = call(
            &w.app,
            method.clone(),
            &format!("/api/v1/restrictions/{id}"),
            Some(&listero.token),
            Some(&body),
        )
        .await;
        assert_eq!(s, status, "{method} {id} {body} → {v}");
    }
    assert_eq!(digest(&w).await, before);
    let (_, v) = call(
        &w.app,
        Method::GET,
        "/api/v1/restrictions?pageSize=100",
        Some(&listero.token),
        None,
    )
    .await;
    let mut seen = ids(&v);
    seen.sort();
    let mut expected = vec![banca_rule, cutoff_v1, own, for_seller];
    expected.sort();
    assert_eq!(
        seen, expected,
        "a listero sees its ventana's, its vendedores' and banca-wide rules"
    );
    let (s, _) = call(
        &w.app,
        Method::PATCH,
        &format!("/api/v1/restrictions/{own}"),
        Some(&listero.token),
        Some(&json!({ "maxAmount": 25 })),
    )
    .await;
    assert_eq!(s, StatusCode::OK);

    // VENDEDOR: reads what applies to it, writes nothing.
    let before = digest(&w).await;
    let (s, _) = post(
        &w,
        seller1,
        json!({ "userId": seller1.user_id, "maxAmount": 5 }),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    for (method, path, body) in [
        (
            Method::PATCH,
            format!("/api/v1/restrictions/{for_seller}"),
            json!({ "maxAmount": 1 }),
        ),
        (
            Method::DELETE,
            format!("/api/v1/restrictions/{for_seller}"),
            json!({}),
        ),
        (
            Method::PATCH,
            format!("/api/v1/restrictions/{for_seller}/restore"),
            json!({}),
        ),
        (
            Method::PUT,
            "/api/v1/restrictions/bulk".to_string(),
            json!({ "ids": [for_seller], "data": {"maxAmount": 1} }),
        ),
        (
            Method::DELETE,
            "/api/v1/restrictions/bulk".to_string(),
            json!({ "ids": [for_seller] }),
        ),
    ] {
        let (s, v) = call(
            &w.app,
            method.clone(),
            &path,
            Some(&seller1.token),
            Some(&body),
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{method} {path} → {v}");
    }
    assert_eq!(digest(&w).await, before);
    let (_, v) = call(
        &w.app,
        Method::GET,
        "/api/v1/restrictions?pageSize=100",
        Some(&seller1.token),
        None,
    )
    .await;
    let mut seen = ids(&v);
    seen.sort();
    assert_eq!(seen, expected, "a vendedor sees the rules that apply to it");
    let (s, _) = call(
        &w.app,
        Method::GET,
        &format!("/api/v1/restrictions/{v2_rule}"),
        Some(&seller1.token),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // `me`: general and vendor-specific.
    let (s, v) = call(
        &w.app,
        Method::GET,
        "/api/v1/restrictions/me",
        Some(&seller1.token),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["vendorSpecific"].as_array().unwrap().len(), 1);
    assert_eq!(v["data"]["vendorSpecific"][0]["id"], for_seller.to_string());
    assert_eq!(v["data"]["general"].as_array().unwrap().len(), 3, "{v}");
    let (s, v) = call(
        &w.app,
        Method::GET,
        &format!("/api/v1/restrictions/me?vendedorId={}", seller1.user_id),
        Some(&listero.token),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["data"]["vendorSpecific"][0]["id"], for_seller.to_string());
    let (s, _) = call(
        &w.app,
        Method::GET,
        &format!(
            "/api/v1/restrictions/me?vendedorId={}",
            a.vendedores[1].user_id
        ),
        Some(&listero.token),
        None,
    )
    .await;
    assert_eq!(
        s,
        StatusCode::NOT_FOUND,
        "a listero names only its own vendedores"
    );

    // ADMIN writes in any banca; the rule belongs to its target's banca.
    let (s, v) = post(
        &w,
        &w.admin,
        json!({ "ventanaId": w.b.ventanas[0], "maxAmount": 5 }),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(v["data"][0]["ownerBancaId"], w.b.banca_id.to_string());
}

#[tokio::test]
async fn another_tenants_rules_are_out_of_reach() {
    let w = fixtures::world().await;
    let b = &w.b;
    let loteria_b = fixtures::loteria(&w.app, Some(b.banca_id), "NICA", json!({})).await;
    let victim = rule(
        &w,
        &b.banca_user,
        json!({ "ventanaId": b.ventanas[0], "number": "22", "maxAmount": 50 }),
    )
    .await;
    let victim_banca = rule(
        &w,
        &b.banca_user,
        json!({ "bancaId": b.banca_id, "salesCutoffMinutes": 4 }),
    )
    .await;
    let before = digest(&w).await;
    let mut failures = Vec::new();
    for attacker in w.a.logins() {
        let mut cases: Vec<(Method, String, Option<Value>)> = Vec::new();
        for id in [victim, victim_banca] {
            let p = format!("/api/v1/restrictions/{id}");
            cases.extend([
                (Method::GET, p.clone(), None),
                (Method::PATCH, p.clone(), Some(json!({ "maxAmount": 1 }))),
                (Method::DELETE, p.clone(), None),
                (Method::PATCH, format!("{p}/restore"), None),
                (
                    Method::PUT,
                    "/api/v1/restrictions/bulk".into(),
                    Some(json!({ "ids": [id], "data": { "maxAmount": 1 } })),
                ),
                (
                    Method::DELETE,
                    "/api/v1/restrictions/bulk".into(),
                    Some(json!({ "ids": [id] })),
                ),
            ]);
        }
        cases.extend([
            (
                Method::POST,
                "/api/v1/restrictions".into(),
                Some(json!({ "ventanaId": b.ventanas[0], "maxAmount": 1 })),
            ),
            (
                Method::POST,
                "/api/v1/restrictions".into(),
                Some(json!({ "bancaId": b.banca_id, "maxAmount": 1 })),
            ),
            (
                Method::POST,
                "/api/v1/restrictions".into(),
                Some(json!({ "userId": b.vendedores[0].user_id, "maxAmount": 1 })),
            ),
            (
                Method::POST,
                "/api/v1/restrictions".into(),
                Some(json!({ "loteriaId": loteria_b, "maxAmount": 1 })),
            ),
            (
                Method::GET,
                format!(
                    "/api/v1/restrictions/me?vendedorId={}",
                    b.vendedores[0].user_id
                ),
                None,
            ),
        ]);
        for (method, path, body) in cases {
            let (s, v) = call(
                &w.app,
                method.clone(),
                &path,
                Some(&attacker.token),
                body.as_ref(),
            )
            .await;
            let refused = matches!(s, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND);
            // A vendedor's `me` ignores vendedorId and answers its own rules.
            let own_me = s == StatusCode::OK
                && path.contains("/me?")
                && attacker.role == banca::domain::roles::Role::Vendedor;
            if !(refused || own_me) || (refused && v["code"].as_str().is_none()) {
                failures.push(format!("{:?} {method} {path} → {s}: {v}", attacker.role));
            }
            if own_me && v.to_string().contains(&victim.to_string()) {
                failures.push(format!("{method} {path} shows B's rule"));
            }
        }
        for path in [
            "/api/v1/restrictions?pageSize=100&isActive=false",
            "/api/v1/restrictions?pageSize=100",
            "/api/v1/restrictions/grouped?pageSize=100",
            "/api/v1/restrictions/me",
        ] {
            let (s, v) = call(&w.app, Method::GET, path, Some(&attacker.token), None).await;
            let text = v.to_string();
            if s == StatusCode::OK
                && (text.contains(&victim.to_string()) || text.contains(&victim_banca.to_string()))
            {
                failures.push(format!("GET {path} as {:?} shows B's rules", attacker.role));
            }
        }
        let (s, _) = call(
            &w.app,
            Method::GET,
            &format!("/api/v1/restrictions?bancaId={}", b.banca_id),
            Some(&attacker.token),
            None,
        )
        .await;
        if attacker.role == banca::domain::roles::Role::Banca && s != StatusCode::FORBIDDEN {
            failures.push(format!("BANCA listing B's rules → {s}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(digest(&w).await, before, "B's rules changed");
}

#[tokio::test]
async fn health_reports_are_admin_only_and_honest() {
    let w = fixtures::world().await;
    let loteria = fixtures::loteria(&w.app, Some(w.a.banca_id), "TICA", json!({})).await;
    let sorteo = fixtures::sorteo(&w.app, loteria, Utc::now() + Duration::hours(3), "OPEN").await;
    rule(
        &w,
        &w.admin,
        json!({ "ventanaId": w.a.ventanas[0], "isAutoDate": true, "maxAmount": 10 }),
    )
    .await;
    rule(
        &w,
        &w.admin,
        json!({ "bancaId": w.a.banca_id, "salesCutoffMinutes": 3 }),
    )
    .await;
    let (s, v) = call(
        &w.app,
        Method::GET,
        "/api/v1/restrictions/cron-health",
        Some(&w.admin.token),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let d = &v["data"];
    assert_eq!(d["rules"]["active"], 2);
    assert_eq!(d["rules"]["autoDate"], 1);
    assert_eq!(d["rules"]["cutoff"], 1);
    assert_eq!(d["counters"]["checked"], true);
    assert_eq!(d["counters"]["mismatches"], 0);
    assert_eq!(d["healthy"], true);
    assert_eq!(d["expectedAutoDateNumber"].as_str().unwrap().len(), 2);
    let (s, v) = call(
        &w.app,
        Method::POST,
        "/api/v1/restrictions/cron-health/execute",
        Some(&w.admin.token),
        Some(&json!({})),
    )
    .await;
    // It runs the auto-date roll-over job (which records the day's number; rules store none).
    assert_eq!(
        (s, v["data"]["executed"].clone()),
        (StatusCode::OK, json!(true))
    );
    let (s, v) = call(
        &w.app,
        Method::POST,
        &format!("/api/v1/restrictions/rehydrate/{sorteo}"),
        Some(&w.admin.token),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["sorteoId"], sorteo.to_string());
    assert_eq!(v["data"]["rehydrated"], true);
    assert_eq!(v["data"]["counters"]["rowsWritten"], 0);
    assert_eq!(v["data"]["rules"]["active"], 2);
    let (s, _) = call(
        &w.app,
        Method::POST,
        &format!("/api/v1/restrictions/rehydrate/{}", Uuid::new_v4()),
        Some(&w.admin.token),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    for who in w.a.logins() {
        let (s, _) = call(
            &w.app,
            Method::GET,
            "/api/v1/restrictions/cron-health",
            Some(&who.token),
            None,
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, _) = call(
            &w.app,
            Method::POST,
            &format!("/api/v1/restrictions/rehydrate/{sorteo}"),
            Some(&who.token),
            None,
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    }
}

#[tokio::test]
async fn diagnostics_explain_the_cutoff_and_the_limits() {
    let w = fixtures::world().await;
    let a = &w.a;
    let (v1, v2) = (a.ventanas[0], a.ventanas[1]);
    let seller1 = &a.vendedores[0];
    let loteria = fixtures::loteria(&w.app, Some(a.banca_id), "TICA", json!({"digits": 2})).await;
    let later = fixtures::sorteo(&w.app, loteria, Utc::now() + Duration::hours(2), "OPEN").await;
    let past = fixtures::sorteo(&w.app, loteria, Utc::now() + Duration::minutes(2), "OPEN").await;
    let banca_cut = rule(
        &w,
        &a.banca_user,
        json!({ "bancaId": a.banca_id, "salesCutoffMinutes": 5 }),
    )
    .await;
    let v1_cut = rule(
        &w,
        &a.banca_user,
        json!({ "ventanaId": v1, "salesCutoffMinutes": 7 }),
    )
    .await;
    let user_cut = rule(
        &w,
        &a.banca_user,
        json!({ "userId": seller1.user_id, "salesCutoffMinutes": 3 }),
    )
    .await;
    let banca_05 = rule(
        &w,
        &a.banca_user,
        json!({ "bancaId": a.banca_id, "number": "05", "maxAmount": 50 }),
    )
    .await;
    let v1_all = rule(
        &w,
        &a.banca_user,
        json!({ "ventanaId": v1, "maxAmount": 80 }),
    )
    .await;
    let user_total = rule(&w, &a.banca_user, json!({ "userId": seller1.user_id, "maxTotal": 200, "baseAmount": 150, "salesPercentage": 10 })).await;

    let diag = |who: &Login, q: String| {
        let token = who.token.clone();
        let app = &w.app;
        async move {
            call(
                app,
                Method::GET,
                &format!("/api/v1/diagnostics/cutoff?{q}"),
                Some(&token),
                None,
            )
            .await
        }
    };
    let (s, v) = diag(
        &a.banca_user,
        format!("userId={}&sorteoId={later}", seller1.user_id),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let d = &v["data"];
    assert_eq!(d["cutoffMinutes"], 3);
    assert_eq!(d["cutoffSource"], "USER");
    assert_eq!(d["cutoffRuleId"], user_cut.to_string());
    assert_eq!(d["input"]["ventanaId"], v1.to_string());
    assert_eq!(d["blocks"], false);
    assert_eq!(d["graceMs"], 1000);
    assert_eq!(d["bancaCutoffMinutes"], 1);
    let verdicts: Vec<(String, String)> = d["cutoffCandidates"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["verdict"] != "SKIPPED" || c["skipReason"] != "NOT_CUTOFF")
        .map(|c| {
            (
                c["ruleId"].as_str().unwrap().to_string(),
                c["verdict"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        verdicts.contains(&(user_cut.to_string(), "WINNER".into())),
        "{d}"
    );
    assert!(
        verdicts.contains(&(v1_cut.to_string(), "OUTRANKED".into())),
        "{d}"
    );
    assert!(
        verdicts.contains(&(banca_cut.to_string(), "OUTRANKED".into())),
        "{d}"
    );
    let numbers = d["limits"]["numbers"].as_array().unwrap();
    let five = numbers
        .iter()
        .find(|n| n["number"] == "05")
        .expect("05 listed");
    assert_eq!(five["maxPerTicket"]["ruleId"], banca_05.to_string());
    assert_eq!(five["maxPerTicket"]["amount"], json!(50.0));
    assert_eq!(
        five["mostSpecificRuleId"],
        user_total.to_string(),
        "personal beats ventana and banca"
    );
    assert_eq!(
        five["maxTotal"]["amount"],
        json!(150.0),
        "no sales yet: the percentage gives less than its base"
    );
    assert_eq!(five["maxTotal"]["countedIn"]["kind"], "VENDEDOR");
    let any = numbers
        .iter()
        .find(|n| n["number"].is_null())
        .expect("other numbers listed");
    assert_eq!(any["maxPerTicket"]["ruleId"], v1_all.to_string());
    assert_eq!(d["limits"]["salesKnown"], true);

    // With real sales the percentage limit grows: 10% of the seller's 1,600 is 160.
    let base = fixtures::multiplier(&w.app, loteria, "Base", 90, "NUMERO").await;
    sqlx::query("UPDATE bancas SET default_min_bet = 0, global_max_per_number = 0 WHERE id = $1")
        .bind(a.banca_id)
        .execute(&mut w.db.connect().await)
        .await
        .unwrap();
    let lines: Vec<Value> = (10..30)
        .map(|n| json!({"type": "NUMERO", "number": n.to_string(), "amount": 80, "multiplierId": base}))
        .collect();
    let (s, v) = call(
        &w.app,
        Method::POST,
        "/api/v1/tickets",
        Some(&seller1.token),
        Some(&json!({"loteriaId": loteria, "sorteoId": later, "jugadas": lines})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, v) = diag(
        &a.banca_user,
        format!("userId={}&sorteoId={later}", seller1.user_id),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let five = v["data"]["limits"]["numbers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["number"] == "05")
        .cloned()
        .expect("05 listed");
    assert_eq!(five["maxTotal"]["amount"], json!(160.0), "{v}");
    let dynamic = v["data"]["limits"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == user_total.to_string())
        .map(|r| r["dynamic"].clone())
        .expect("the percentage rule is explained");
    assert_eq!(dynamic["sales"], json!(1600.0), "{v}");
    assert_eq!(dynamic["limit"], json!(160.0), "{v}");

    // The other ventana: the banca's rule (another ventana's is no fallback).
    let (s, v) = diag(
        &a.banca_user,
        format!("userId={}&sorteoId={later}", a.vendedores[1].user_id),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        (
            v["data"]["cutoffMinutes"].clone(),
            v["data"]["cutoffSource"].clone()
        ),
        (json!(5), json!("BANCA"))
    );
    // Two minutes before the draw with a 3-minute cutoff: closed.
    let (_, v) = diag(
        &a.ventana_users[0],
        format!("userId={}&sorteoId={past}", seller1.user_id),
    )
    .await;
    assert_eq!(v["data"]["blocks"], true, "{v}");
    // A lotería closing time longer than the rules wins.
    let slow = fixtures::loteria(
        &w.app,
        Some(a.banca_id),
        "LENTA",
        json!({"closingTimeBeforeDraw": 15}),
    )
    .await;
    let slow_sorteo = fixtures::sorteo(&w.app, slow, Utc::now() + Duration::hours(2), "OPEN").await;
    let (_, v) = diag(
        &w.admin,
        format!(
            "userId={}&ventanaId={v1}&sorteoId={slow_sorteo}",
            seller1.user_id
        ),
    )
    .await;
    assert_eq!(
        (
            v["data"]["cutoffMinutes"].clone(),
            v["data"]["cutoffSource"].clone()
        ),
        (json!(15), json!("LOTERIA")),
        "{v}"
    );
    assert_eq!(v["data"]["rulesCutoffMinutes"], 3);

    // Reach.
    let loteria_b = fixtures::loteria(&w.app, Some(w.b.banca_id), "TICA", json!({})).await;
    let sorteo_b =
        fixtures::sorteo(&w.app, loteria_b, Utc::now() + Duration::hours(2), "OPEN").await;
    for (who, q, status) in [
        (seller1, format!("sorteoId={later}"), StatusCode::FORBIDDEN),
        (
            &a.ventana_users[0],
            format!("userId={}&sorteoId={later}", a.vendedores[1].user_id),
            StatusCode::NOT_FOUND,
        ),
        (
            &a.ventana_users[0],
            format!("ventanaId={v2}&sorteoId={later}"),
            StatusCode::NOT_FOUND,
        ),
        (
            &w.b.banca_user,
            format!("userId={}&sorteoId={later}", seller1.user_id),
            StatusCode::NOT_FOUND,
        ),
        (
            &a.banca_user,
            format!("userId={}&sorteoId={sorteo_b}", seller1.user_id),
            StatusCode::NOT_FOUND,
        ),
        (
            &w.admin,
            format!("userId={}&sorteoId={sorteo_b}", seller1.user_id),
            StatusCode::BAD_REQUEST,
        ),
        (
            &a.banca_user,
            "userId=x".to_string(),
            StatusCode::BAD_REQUEST,
        ),
        (
            &a.banca_user,
            format!("sorteoId={later}&color=1"),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let (s, v) = diag(who, q.clone()).await;
        assert_eq!(s, status, "{:?} {q} → {v}", who.role);
    }
}

/// Counter rows of a sorteo as text, to compare snapshots.
async fn counters_digest(w: &World, sorteo: Uuid) -> String {
    sqlx::query_scalar::<_, Option<String>>(
        "SELECT string_agg(scope_kind || ':' || scope_id || ':' || mkey || ':' || number || '='
                           || amount::text, ' ' ORDER BY scope_id, mkey, number)
         FROM sale_counters WHERE sorteo_id = $1 AND amount <> 0",
    )
    .bind(sorteo)
    .fetch_one(&mut w.db.connect().await)
    .await
    .unwrap()
    .unwrap_or_default()
}

#[tokio::test]
async fn health_finds_corrupted_counters_and_rehydrate_rebuilds_them() {
    let w = fixtures::world().await;
    let a = &w.a;
    let loteria = fixtures::loteria(
        &w.app,
        Some(a.banca_id),
        "TICA",
        json!({"digits": 2, "reventadoConfig": {"enabled": true}}),
    )
    .await;
    let base = fixtures::multiplier(&w.app, loteria, "Base", 90, "NUMERO").await;
    let sorteo = fixtures::sorteo(&w.app, loteria, Utc::now() + Duration::days(1), "OPEN").await;
    let mut conn = w.db.connect().await;
    sqlx::query("UPDATE bancas SET default_min_bet = 0, global_max_per_number = 0 WHERE id = $1")
        .bind(a.banca_id)
        .execute(&mut conn)
        .await
        .unwrap();
    let sell = |who: &Login, jugadas: Value| {
        let token = who.token.clone();
        let app = &w.app;
        async move {
            let body = json!({"loteriaId": loteria, "sorteoId": sorteo, "jugadas": jugadas});
            let (s, v) = call(
                app,
                Method::POST,
                "/api/v1/tickets",
                Some(&token),
                Some(&body),
            )
            .await;
            assert_eq!(s, StatusCode::CREATED, "{v}");
            v["data"]["id"].as_str().unwrap().to_string()
        }
    };
    sell(
        &a.vendedores[0],
        json!([
            {"type": "NUMERO", "number": "07", "amount": 100, "multiplierId": base},
            {"type": "NUMERO", "number": "42", "amount": 50},
            {"type": "REVENTADO", "number": "07", "reventadoNumber": "07", "amount": 30}
        ]),
    )
    .await;
    let second = sell(
        &a.vendedores[1],
        json!([{"type": "NUMERO", "number": "07", "amount": 40}]),
    )
    .await;
    let health = || async {
        let (s, v) = call(
            &w.app,
            Method::GET,
            "/api/v1/restrictions/cron-health",
            Some(&w.admin.token),
            None,
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        v["data"].clone()
    };
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM sale_counters")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    // vendedor 0: 07 (all, base, reventado) and 42 (all, base) in 3 scopes; vendedor 1 adds
    // its own and its ventana's 07 (all, base).
    assert_eq!(rows, 19);
    let d = health().await;
    assert_eq!(d["healthy"], true, "{d}");
    assert_eq!(
        d["counters"],
        json!({"checked": true, "sorteos": 1, "rows": 19, "mismatches": 0, "sample": []})
    );
    let good = counters_digest(&w, sorteo).await;

    // Three kinds of damage: a wrong amount, a missing row, a row no jugada explains.
    let nil = Uuid::nil();
    sqlx::query(
        "UPDATE sale_counters SET amount = amount + 5
         WHERE sorteo_id = $1 AND scope_id = $2 AND mkey = $3 AND number = '07'",
    )
    .bind(sorteo)
    .bind(a.banca_id)
    .bind(nil)
    .execute(&mut conn)
    .await
    .unwrap();
    sqlx::query(
        "DELETE FROM sale_counters
         WHERE sorteo_id = $1 AND scope_id = $2 AND mkey = $3 AND number = '07'",
    )
    .bind(sorteo)
    .bind(a.vendedores[1].user_id)
    .bind(base)
    .execute(&mut conn)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO sale_counters (sorteo_id, scope_kind, scope_id, mkey, number, amount)
         VALUES ($1, 'VENTANA', $2, $3, '99', 10)",
    )
    .bind(sorteo)
    .bind(a.ventanas[0])
    .bind(nil)
    .execute(&mut conn)
    .await
    .unwrap();
    let d = health().await;
    assert_eq!(d["healthy"], false, "{d}");
    let c = &d["counters"];
    assert_eq!(
        (c["rows"].clone(), c["mismatches"].clone()),
        (json!(19), json!(3)),
        "{d}"
    );
    let sample = c["sample"].as_array().unwrap();
    assert_eq!(sample.len(), 3);
    let find = |scope: Uuid, number: &str| {
        sample
            .iter()
            .find(|m| m["scopeId"] == scope.to_string() && m["number"] == number)
            .cloned()
            .unwrap_or_else(|| panic!("{scope} {number} in {d}"))
    };
    let banca_07 = find(a.banca_id, "07");
    assert_eq!(
        (
            banca_07["scopeKind"].clone(),
            banca_07["mkey"].clone(),
            banca_07["counter"].clone(),
            banca_07["expected"].clone()
        ),
        (
            json!("BANCA"),
            json!(nil.to_string()),
            json!(175.0),
            json!(170.0)
        )
    );
    let missing = find(a.vendedores[1].user_id, "07");
    assert_eq!(
        (
            missing["counter"].clone(),
            missing["expected"].clone(),
            missing["mkey"].clone()
        ),
        (json!(0.0), json!(40.0), json!(base.to_string()))
    );
    let stray = find(a.ventanas[0], "99");
    assert_eq!(
        (stray["counter"].clone(), stray["expected"].clone()),
        (json!(10.0), json!(0.0))
    );
    assert_eq!(stray["sorteoId"], sorteo.to_string());

    // Rehydrate rebuilds exactly what the jugadas say, in one transaction.
    let (s, v) = call(
        &w.app,
        Method::POST,
        &format!("/api/v1/restrictions/rehydrate/{sorteo}"),
        Some(&w.admin.token),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let c = &v["data"]["counters"];
    assert_eq!(v["data"]["rehydrated"], true);
    assert_eq!(
        (
            c["checked"].clone(),
            c["rows"].clone(),
            c["mismatches"].clone(),
            c["mismatchesFixed"].clone(),
            c["rowsWritten"].clone()
        ),
        (json!(true), json!(19), json!(3), json!(3), json!(19)),
        "{v}"
    );
    assert_eq!(counters_digest(&w, sorteo).await, good);
    let d = health().await;
    assert_eq!(
        (d["healthy"].clone(), d["counters"]["mismatches"].clone()),
        (json!(true), json!(0))
    );
    assert_eq!(
        activity_count(&w, "SALE_COUNTERS_REHYDRATE", sorteo).await,
        1
    );

    // The rebuilt counters carry on: a cancel releases from them.
    let (s, v) = call(
        &w.app,
        Method::PATCH,
        &format!("/api/v1/tickets/{second}/cancel"),
        Some(&a.vendedores[1].token),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let d = health().await;
    assert_eq!(d["counters"]["mismatches"], 0, "{d}");

    // A cancelled ticket is no live jugada: a counter still holding it is a mismatch.
    sqlx::query(
        "UPDATE sale_counters SET amount = amount + 40
         WHERE sorteo_id = $1 AND scope_id = $2 AND mkey = $3 AND number = '07'",
    )
    .bind(sorteo)
    .bind(a.ventanas[1])
    .bind(nil)
    .execute(&mut conn)
    .await
    .unwrap();
    assert_eq!(health().await["counters"]["mismatches"], 1);
    // Only SCHEDULED and OPEN sorteos are checked by the health report; rehydrate takes any.
    sqlx::query("UPDATE sorteos SET status = 'EVALUATED' WHERE id = $1")
        .bind(sorteo)
        .execute(&mut conn)
        .await
        .unwrap();
    let d = health().await;
    assert_eq!(
        (
            d["counters"]["sorteos"].clone(),
            d["counters"]["mismatches"].clone()
        ),
        (json!(0), json!(0))
    );
    let (s, v) = call(
        &w.app,
        Method::POST,
        &format!("/api/v1/restrictions/rehydrate/{sorteo}"),
        Some(&w.admin.token),
        None,
    )
    .await;
    assert_eq!(
        (s, v["data"]["counters"]["mismatchesFixed"].clone()),
        (StatusCode::OK, json!(1)),
        "{v}"
    );
}
