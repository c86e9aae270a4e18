//! `/vendedores`: the VENDEDOR view of users. Reads for ADMIN, BANCA and VENTANA, writes for
//! ADMIN and BANCA, each within its tenant; never a password hash.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::fixtures::{self, assert_no_secrets, call, World};

async fn db(w: &World) -> PgConnection {
    w.db.connect().await
}

fn ids(v: &Value) -> Vec<Uuid> {
    v["data"]
        .as_array()
        .expect("data is a list")
        .iter()
        .map(|u| Uuid::parse_str(u["id"].as_str().unwrap()).unwrap())
        .collect()
}

fn new_vendedor(ventana: Uuid, username: &str, code: &str) -> Value {
    json!({"ventanaId": ventana, "code": code, "name": format!("Vendedor {code}"),
           "username": username, "email": format!("{username}@example.com"),
           "password": "segura-123"})
}

#[tokio::test]
async fn admin_manages_vendedores() {
    let w = fixtures::world().await;
    let t = &w.admin.token;
    let (s, v) = call(
        &w.app,
        Method::POST,
        "/api/v1/vendedores",
        Some(t),
        Some(&new_vendedor(w.a.ventanas[0], "vend.nuevo", "V-001")),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_no_secrets(&v);
    assert_eq!(v["data"]["role"], "VENDEDOR");
    assert_eq!(v["data"]["code"], "V-001");
    assert_eq!(v["data"]["bancaId"], json!(w.a.banca_id));
    let id = Uuid::parse_str(v["data"]["id"].as_str().unwrap()).unwrap();

    // Duplicate code or username: 409.
    let (s, v) = call(
        &w.app,
        Method::POST,
        "/api/v1/vendedores",
        Some(t),
        Some(&new_vendedor(w.a.ventanas[0], "vend.otro", "V-001")),
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("CODE_EXISTS"))
    );

    // The list (ADMIN without an active banca: every vendedor) and one vendedor.
    let (s, v) = call(&w.app, Method::GET, "/api/v1/vendedores", Some(t), None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["meta"]["total"], 5);
    assert_eq!(v["meta"]["pageSize"], 10);
    assert_no_secrets(&v);
    let (s, v) = call(
        &w.app,
        Method::GET,
        &format!(
            "/api/v1/vendedores?search=V-001&ventanaId={}",
            w.a.ventanas[0]
        ),
        Some(t),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(ids(&v), vec![id]);
    let (s, _) = call(
        &w.app,
        Method::GET,
        "/api/v1/vendedores?pageSize=101",
        Some(t),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let path = format!("/api/v1/vendedores/{id}");
    let (s, v) = call(&w.app, Method::GET, &path, Some(t), None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    // A user who is not a vendedor is not found here.
    let (s, _) = call(
        &w.app,
        Method::GET,
        &format!("/api/v1/vendedores/{}", w.a.ventana_users[0].user_id),
        Some(t),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // Moving ventana resets the commission policy and closes the sessions.
    let vend = &w.a.vendedores[0];
    sqlx::query("UPDATE users SET commission_policy_json = '{\"version\":1}' WHERE id = $1")
        .bind(vend.user_id)
        .execute(&mut db(&w).await)
        .await
        .unwrap();
    let vpath = format!("/api/v1/vendedores/{}", vend.user_id);
    let (s, v) = call(
        &w.app,
        Method::PUT,
        &vpath,
        Some(t),
        Some(&json!({"ventanaId": w.a.ventanas[1], "name": "Movido"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["ventanaId"], json!(w.a.ventanas[1]));
    fixtures::assert_revoked(&w, &vend.token).await;
    let policy: Option<Value> =
        sqlx::query_scalar("SELECT commission_policy_json FROM users WHERE id = $1")
            .bind(vend.user_id)
            .fetch_one(&mut db(&w).await)
            .await
            .unwrap();
    assert_eq!(policy, None);

    // resetCommissionPolicy clears it on request.
    sqlx::query("UPDATE users SET commission_policy_json = '{\"version\":1}' WHERE id = $1")
        .bind(id)
        .execute(&mut db(&w).await)
        .await
        .unwrap();
    let (s, v) = call(
        &w.app,
        Method::PATCH,
        &path,
        Some(t),
        Some(&json!({"resetCommissionPolicy": true})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let policy: Option<Value> =
        sqlx::query_scalar("SELECT commission_policy_json FROM users WHERE id = $1")
            .bind(id)
            .fetch_one(&mut db(&w).await)
            .await
            .unwrap();
    assert_eq!(policy, None);

    // Deactivate (sessions closed) and restore.
    let other = &w.a.vendedores[1];
    let opath = format!("/api/v1/vendedores/{}", other.user_id);
    let (s, v) = call(
        &w.app,
        Method::DELETE,
        &opath,
        Some(t),
        Some(&json!({"reason": "baja"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["isActive"], false);
    fixtures::assert_revoked(&w, &other.token).await;
    let (s, v) = call(
        &w.app,
        Method::PATCH,
        &format!("{opath}/restore"),
        Some(t),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["isActive"], true);
    // Restoring into an inactive ventana is a conflict.
    let (s, _) = call(&w.app, Method::DELETE, &opath, Some(t), None).await;
    assert_eq!(s, StatusCode::OK);
    sqlx::query("UPDATE ventanas SET is_active = false WHERE id = $1")
        .bind(w.a.ventanas[1])
        .execute(&mut db(&w).await)
        .await
        .unwrap();
    let (s, v) = call(
        &w.app,
        Method::PATCH,
        &format!("{opath}/restore"),
        Some(t),
        None,
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("VENTANA_INACTIVE"))
    );
}

#[tokio::test]
async fn banca_users_manage_the_vendedores_of_their_bancas() {
    let w = fixtures::world().await;
    let t = &w.a.banca_user.token;
    let before = fixtures::count_users(&w).await;
    let (s, v) = call(
        &w.app,
        Method::POST,
        "/api/v1/vendedores",
        Some(t),
        Some(&new_vendedor(w.a.ventanas[1], "vend.banca", "VB-1")),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, v) = call(
        &w.app,
        Method::POST,
        "/api/v1/vendedores",
        Some(t),
        Some(&new_vendedor(w.b.ventanas[0], "vend.ajeno", "VB-2")),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    assert_eq!(fixtures::count_users(&w).await, before + 1);

    let (s, v) = call(
        &w.app,
        Method::GET,
        "/api/v1/vendedores?pageSize=100",
        Some(t),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["meta"]["total"], 3);
    assert!(v["data"]
        .as_array()
        .unwrap()
        .iter()
        .all(|u| u["bancaId"] == json!(w.a.banca_id) && u["role"] == "VENDEDOR"));

    let own = format!("/api/v1/vendedores/{}", w.a.vendedores[0].user_id);
    let (s, v) = call(
        &w.app,
        Method::PATCH,
        &own,
        Some(t),
        Some(&json!({"isActive": false})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    fixtures::assert_revoked(&w, &w.a.vendedores[0].token).await;

    // Moving a vendedor to another tenant's ventana: not found.
    let snap = fixtures::user_snapshot(&w, w.a.vendedores[1].user_id).await;
    let (s, _) = call(
        &w.app,
        Method::PATCH,
        &format!("/api/v1/vendedores/{}", w.a.vendedores[1].user_id),
        Some(t),
        Some(&json!({"ventanaId": w.b.ventanas[0]})),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(
        fixtures::user_snapshot(&w, w.a.vendedores[1].user_id).await,
        snap
    );
}

#[tokio::test]
async fn ventanas_read_their_own_vendedores_and_write_none() {
    let w = fixtures::world().await;
    let t = &w.a.ventana_users[0].token;
    // Forced to its ventana, whatever it asks for.
    let (s, v) = call(
        &w.app,
        Method::GET,
        &format!("/api/v1/vendedores?ventanaId={}", w.b.ventanas[0]),
        Some(t),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(ids(&v), vec![w.a.vendedores[0].user_id]);
    let (s, _) = call(
        &w.app,
        Method::GET,
        &format!("/api/v1/vendedores/{}", w.a.vendedores[0].user_id),
        Some(t),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = call(
        &w.app,
        Method::GET,
        &format!("/api/v1/vendedores/{}", w.a.vendedores[1].user_id),
        Some(t),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    let before = fixtures::count_users(&w).await;
    let own = format!("/api/v1/vendedores/{}", w.a.vendedores[0].user_id);
    for (m, p, b) in [
        (
            Method::POST,
            "/api/v1/vendedores".to_string(),
            Some(new_vendedor(w.a.ventanas[0], "vend.v", "VV-1")),
        ),
        (Method::PATCH, own.clone(), Some(json!({"name": "Cambio"}))),
        (Method::DELETE, own.clone(), None),
        (Method::PATCH, format!("{own}/restore"), None),
    ] {
        let (s, v) = call(&w.app, m.clone(), &p, Some(t), b.as_ref()).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{m} {p}: {v}");
    }
    assert_eq!(fixtures::count_users(&w).await, before);

    // Vendedores are refused entirely.
    let vt = &w.a.vendedores[0].token;
    let (s, _) = call(&w.app, Method::GET, "/api/v1/vendedores", Some(vt), None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = call(&w.app, Method::GET, &own, Some(vt), None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn bad_vendedor_input_is_a_400_that_writes_nothing() {
    let w = fixtures::world().await;
    let t = &w.admin.token;
    let before = fixtures::count_users(&w).await;
    let ok = new_vendedor(w.a.ventanas[0], "vend.ok", "OK-1");
    let with = |k: &str, v: Value| {
        let mut b = ok.clone();
        b[k] = v;
        b
    };
    let without = |k: &str| {
        let mut b = ok.clone();
        b.as_object_mut().unwrap().remove(k);
        b
    };
    for body in [
        without("ventanaId"),
        without("code"),
        without("password"),
        with("code", json!("")),
        with("code", json!("c".repeat(21))),
        with("name", json!("x")),
        with("username", json!("u".repeat(33))),
        with("email", json!("malo")),
        with("password", json!("corta")),
        with("ventanaId", json!(12)),
        with("role", json!("VENDEDOR")),
        with("isActive", json!(true)),
    ] {
        let (s, v) = call(
            &w.app,
            Method::POST,
            "/api/v1/vendedores",
            Some(t),
            Some(&body),
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{body}: {v}");
        assert!(
            v["details"].as_array().is_some_and(|d| !d.is_empty()),
            "{v}"
        );
    }
    assert_eq!(fixtures::count_users(&w).await, before);

    let target = w.a.vendedores[0].user_id;
    let path = format!("/api/v1/vendedores/{target}");
    let snap = fixtures::user_snapshot(&w, target).await;
    for body in [
        json!({"username": "nuevo.nombre"}),
        json!({"code": "C-9"}),
        json!({"code": null}),
        json!({"role": "VENTANA"}),
        json!({"name": "x"}),
        json!({"password": "corta"}),
        json!({"isActive": "si"}),
        json!({"resetCommissionPolicy": 1}),
        json!({"phone": "(506) 8888-8888"}),
    ] {
        for m in [Method::PUT, Method::PATCH] {
            let (s, v) = call(&w.app, m.clone(), &path, Some(t), Some(&body)).await;
            assert_eq!(s, StatusCode::BAD_REQUEST, "{m} {body}: {v}");
        }
    }
    for (m, p, body) in [
        (Method::DELETE, path.clone(), json!({"why": "x"})),
        (Method::PATCH, format!("{path}/restore"), json!({"x": 1})),
    ] {
        let (s, v) = call(&w.app, m.clone(), &p, Some(t), Some(&body)).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{m} {p}: {v}");
    }
    let (s, _) = call(
        &w.app,
        Method::GET,
        "/api/v1/vendedores/nope",
        Some(t),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = call(
        &w.app,
        Method::GET,
        "/api/v1/vendedores?isActive=true",
        Some(t),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(fixtures::user_snapshot(&w, target).await, snap);
}

#[tokio::test]
async fn no_role_of_tenant_a_reaches_a_vendedor_of_tenant_b() {
    let w = fixtures::world().await;
    let targets: Vec<Uuid> = w.b.vendedores.iter().map(|l| l.user_id).collect();
    let mut snaps = Vec::new();
    for id in &targets {
        snaps.push(fixtures::user_snapshot(&w, *id).await);
    }
    for login in w.a.logins() {
        let t = &login.token;
        for id in &targets {
            let p = format!("/api/v1/vendedores/{id}");
            for (m, path, body) in [
                (Method::GET, p.clone(), None),
                (Method::PUT, p.clone(), Some(json!({"name": "Intruso"}))),
                (Method::PATCH, p.clone(), Some(json!({"isActive": false}))),
                (Method::DELETE, p.clone(), None),
                (Method::PATCH, format!("{p}/restore"), None),
            ] {
                let (s, v) = call(&w.app, m.clone(), &path, Some(t), body.as_ref()).await;
                assert!(
                    s == StatusCode::NOT_FOUND || s == StatusCode::FORBIDDEN,
                    "{} {m} {path}: {s} {v}",
                    login.username
                );
            }
        }
        let (s, v) = call(
            &w.app,
            Method::GET,
            "/api/v1/vendedores?pageSize=100",
            Some(t),
            None,
        )
        .await;
        if s == StatusCode::OK {
            assert!(ids(&v).iter().all(|id| !targets.contains(id)));
        } else {
            assert_eq!(s, StatusCode::FORBIDDEN);
        }
    }
    for (id, snap) in targets.iter().zip(&snaps) {
        assert_eq!(&fixtures::user_snapshot(&w, *id).await, snap);
    }
}

#[tokio::test]
async fn a_vendedor_with_active_tickets_of_an_undrawn_sorteo_is_not_deactivated() {
    let w = fixtures::world().await;
    let a = &w.a;
    let loteria = fixtures::loteria(&w.app, Some(a.banca_id), "TICA", json!({"digits": 2})).await;
    fixtures::multiplier(&w.app, loteria, "Base", 90, "NUMERO").await;
    let sorteo = fixtures::sorteo(
        &w.app,
        loteria,
        chrono::Utc::now() + chrono::Duration::days(1),
        "OPEN",
    )
    .await;
    sqlx::query("UPDATE bancas SET default_min_bet = 0, global_max_per_number = 0 WHERE id = $1")
        .bind(a.banca_id)
        .execute(&mut db(&w).await)
        .await
        .unwrap();
    let body = json!({"loteriaId": loteria, "sorteoId": sorteo,
                      "jugadas": [{"type": "NUMERO", "number": "07", "amount": 10}]});
    let mut sold = Vec::new();
    for seller in &a.vendedores {
        let (s, v) = call(
            &w.app,
            Method::POST,
            "/api/v1/tickets",
            Some(&seller.token),
            Some(&body),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        sold.push(v["data"]["id"].as_str().unwrap().to_string());
    }
    let seller = &a.vendedores[0];
    let path = format!("/api/v1/vendedores/{}", seller.user_id);
    let before = fixtures::user_snapshot(&w, seller.user_id).await;
    for who in [&w.admin, &a.banca_user] {
        let (s, v) = call(&w.app, Method::DELETE, &path, Some(&who.token), None).await;
        assert_eq!(
            (s, v["code"].as_str()),
            (StatusCode::CONFLICT, Some("VENDEDOR_HAS_ACTIVE_TICKETS")),
            "{v}"
        );
        assert!(v["message"].as_str().unwrap().contains("1 tiquete"), "{v}");
    }
    assert_eq!(fixtures::user_snapshot(&w, seller.user_id).await, before);
    // Still selling: the session is alive.
    let (s, _) = call(
        &w.app,
        Method::GET,
        "/api/v1/auth/me",
        Some(&seller.token),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    // Once its ticket is cancelled it may go.
    let (s, v) = call(
        &w.app,
        Method::PATCH,
        &format!("/api/v1/tickets/{}/cancel", sold[0]),
        Some(&seller.token),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = call(&w.app, Method::DELETE, &path, Some(&w.admin.token), None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["isActive"], false);
    // An ACTIVE ticket of a drawn (EVALUATED) sorteo does not hold the other one back.
    sqlx::query("UPDATE sorteos SET status = 'EVALUATED' WHERE id = $1")
        .bind(sorteo)
        .execute(&mut db(&w).await)
        .await
        .unwrap();
    let (s, v) = call(
        &w.app,
        Method::DELETE,
        &format!("/api/v1/vendedores/{}", a.vendedores[1].user_id),
        Some(&a.banca_user.token),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
}
