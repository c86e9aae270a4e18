//! `/users`, `PATCH /auth/me` and `POST /auth/register`: the role rules of each write, the
//! tenant scope of every route, session revocation, validation that writes nothing, and
//! responses without secrets.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::fixtures::{self, assert_no_secrets, call, World};

async fn db(w: &World) -> PgConnection {
    w.db.connect().await
}

async fn password_hash(w: &World, id: Uuid) -> String {
    sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
        .bind(id)
        .fetch_one(&mut db(w).await)
        .await
        .unwrap()
}

async fn open_sessions(w: &World, id: Uuid) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM auth_sessions WHERE user_id = $1 AND revoked_at IS NULL",
    )
    .bind(id)
    .fetch_one(&mut db(w).await)
    .await
    .unwrap()
}

async fn activity_count(w: &World, action: &str, target: Uuid) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM activity_logs WHERE action = $1 AND target_id = $2")
        .bind(action)
        .bind(target.to_string())
        .fetch_one(&mut db(w).await)
        .await
        .unwrap()
}

fn id_of(v: &Value) -> Uuid {
    Uuid::parse_str(v["data"]["id"].as_str().expect("data.id")).unwrap()
}

fn new_user(username: &str, role: &str, ventana: Option<Uuid>) -> Value {
    json!({
        "name": format!("Nombre {username}"),
        "username": username,
        "password": "segura-123",
        "role": role,
        "ventanaId": ventana,
    })
}

#[tokio::test]
async fn admin_creates_reads_updates_deactivates_and_restores() {
    let w = fixtures::world().await;
    let t = &w.admin.token;
    let body = json!({
        "name": "  Carla Pérez ",
        "username": "carla.p",
        "password": "segura-123",
        "email": "Carla@Example.com",
        "phone": "(506) 8888-1234",
        "role": "VENDEDOR",
        "ventanaId": w.a.ventanas[0],
        "isActive": true,
        "maxSessionsPerVendedor": 3,
    });
    let (s, v) = call(&w.app, Method::POST, "/api/v1/users", Some(t), Some(&body)).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_no_secrets(&v);
    let d = &v["data"];
    assert_eq!(d["name"], "Carla Pérez");
    assert_eq!(d["email"], "carla@example.com");
    assert_eq!(d["role"], "VENDEDOR");
    assert_eq!(d["ventanaId"], json!(w.a.ventanas[0]));
    assert_eq!(d["bancaId"], json!(w.a.banca_id));
    assert_eq!(d["ventana"]["id"], json!(w.a.ventanas[0]));
    assert_eq!(d["isActive"], true);
    assert_eq!(d["maxSessionsPerVendedor"], 3);
    let id = id_of(&v);
    assert!(password_hash(&w, id).await.starts_with("$argon2id$"));
    assert_eq!(activity_count(&w, "USER_CREATE", id).await, 1);

    let (s, v) = call(
        &w.app,
        Method::GET,
        &format!("/api/v1/users/{id}"),
        Some(t),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["username"], "carla.p");
    assert_no_secrets(&v);

    // Settings deep-merge, null leaves remove keys; code is set.
    let path = format!("/api/v1/users/{id}");
    let patch = json!({"settings": {"theme": "dark", "print": {"width": 58, "name": "Carla"}}});
    let (s, v) = call(&w.app, Method::PATCH, &path, Some(t), Some(&patch)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let patch = json!({"code": "V-77", "settings": {"print": {"width": 88, "name": null}}});
    let (s, v) = call(&w.app, Method::PATCH, &path, Some(t), Some(&patch)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["code"], "V-77");
    assert_eq!(
        v["data"]["settings"],
        json!({"theme": "dark", "print": {"width": 88}})
    );
    assert_eq!(activity_count(&w, "USER_UPDATE", id).await, 2);

    // A password change re-hashes with argon2id and the new password logs in.
    let before = password_hash(&w, id).await;
    let (s, v) = call(
        &w.app,
        Method::PATCH,
        &path,
        Some(t),
        Some(&json!({"password": "otra-clave-456"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_no_secrets(&v);
    let after = password_hash(&w, id).await;
    assert!(after.starts_with("$argon2id$") && after != before);
    let (s, v) = call(
        &w.app,
        Method::POST,
        "/api/v1/auth/login",
        None,
        Some(&json!({"username": "carla.p", "password": "otra-clave-456"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let token = v["data"]["accessToken"].as_str().unwrap().to_string();

    // Deactivation (DELETE with a reason) closes the user's sessions.
    let (s, v) = call(
        &w.app,
        Method::DELETE,
        &path,
        Some(t),
        Some(&json!({"reason": "vacaciones"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["isActive"], false);
    fixtures::assert_revoked(&w, &token).await;
    assert_eq!(open_sessions(&w, id).await, 0);
    let (reason,): (Option<String>,) =
        sqlx::query_as("SELECT deleted_reason FROM users WHERE id = $1")
            .bind(id)
            .fetch_one(&mut db(&w).await)
            .await
            .unwrap();
    assert_eq!(reason.as_deref(), Some("vacaciones"));
    // Still listed (inactive rows are returned unless filtered).
    let (s, v) = call(
        &w.app,
        Method::GET,
        "/api/v1/users?search=carla.p",
        Some(t),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["meta"]["total"], 1);

    let (s, v) = call(
        &w.app,
        Method::PATCH,
        &format!("{path}/restore"),
        Some(t),
        Some(&json!({})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["isActive"], true);
    assert_eq!(activity_count(&w, "USER_DELETE", id).await, 1);
    assert_eq!(activity_count(&w, "USER_RESTORE", id).await, 1);

    // DELETE without a body works too; nobody deletes itself.
    let (s, _) = call(&w.app, Method::DELETE, &path, Some(t), None).await;
    assert_eq!(s, StatusCode::OK);
    let own = format!("/api/v1/users/{}", w.admin.user_id);
    let (s, v) = call(&w.app, Method::DELETE, &own, Some(t), None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["code"], "CANNOT_DELETE_SELF");
}

#[tokio::test]
async fn admin_creates_banca_users_with_their_links() {
    let w = fixtures::world().await;
    let t = &w.admin.token;
    let body = json!({
        "name": "Dueña",
        "username": "duena",
        "password": "segura-123",
        "role": "BANCA",
        "ventanaId": w.a.ventanas[0],
        "bancaIds": [w.b.banca_id, w.a.banca_id],
    });
    let (s, v) = call(&w.app, Method::POST, "/api/v1/users", Some(t), Some(&body)).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = id_of(&v);
    // ADMIN and BANCA users never belong to a ventana; the first banca is the default.
    assert_eq!(v["data"]["ventanaId"], Value::Null);
    assert_eq!(v["data"]["bancaId"], json!(w.b.banca_id));
    let (s, v) = call(
        &w.app,
        Method::GET,
        &format!("/api/v1/users/{id}/bancas"),
        Some(t),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let links = v["data"].as_array().unwrap();
    assert_eq!(links.len(), 2);
    assert_eq!(links[0]["bancaId"], json!(w.b.banca_id));
    assert_eq!(links[0]["isDefault"], true);
    assert_eq!(links[0]["banca"]["name"], "Banca B");
    assert_eq!(links[1]["isDefault"], false);

    // An unknown banca is a 404 and nothing is written.
    let before = fixtures::count_users(&w).await;
    let mut bad = body.clone();
    bad["username"] = json!("otra.duena");
    bad["bancaIds"] = json!([Uuid::new_v4()]);
    let (s, _) = call(&w.app, Method::POST, "/api/v1/users", Some(t), Some(&bad)).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(fixtures::count_users(&w).await, before);
}

#[tokio::test]
async fn banca_users_manage_only_ventanas_and_vendedores_of_their_bancas() {
    let w = fixtures::world().await;
    let t = &w.a.banca_user.token;
    let before = fixtures::count_users(&w).await;

    let (s, v) = call(
        &w.app,
        Method::POST,
        "/api/v1/users",
        Some(t),
        Some(&new_user("listero.a3", "VENTANA", Some(w.a.ventanas[1]))),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["data"]["role"], "VENTANA");
    let created = id_of(&v);

    // Another tenant's ventana does not exist for this caller; ADMIN/BANCA roles are refused.
    let (s, v) = call(
        &w.app,
        Method::POST,
        "/api/v1/users",
        Some(t),
        Some(&new_user("intruso", "VENDEDOR", Some(w.b.ventanas[0]))),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    for role in ["ADMIN", "BANCA"] {
        let (s, v) = call(
            &w.app,
            Method::POST,
            "/api/v1/users",
            Some(t),
            Some(&new_user("escalada", role, None)),
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{role}: {v}");
    }
    // VENTANA/VENDEDOR need a ventana.
    let (s, v) = call(
        &w.app,
        Method::POST,
        "/api/v1/users",
        Some(t),
        Some(&new_user("sin.ventana", "VENDEDOR", None)),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["details"][0]["field"], "ventanaId");
    assert_eq!(fixtures::count_users(&w).await, before + 1);

    // The list shows A's users only; asking for banca B is refused.
    let (s, v) = call(
        &w.app,
        Method::GET,
        "/api/v1/users?pageSize=100",
        Some(t),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let items = v["data"].as_array().unwrap();
    assert_eq!(items.len(), 6, "banca user, 3 listeros, 2 vendedores: {v}");
    assert!(items.iter().all(|u| u["bancaId"] == json!(w.a.banca_id)));
    assert_no_secrets(&v);
    let (s, _) = call(
        &w.app,
        Method::GET,
        &format!("/api/v1/users?bancaId={}", w.b.banca_id),
        Some(t),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // Its own users: read, change, deactivate, restore.
    let path = format!("/api/v1/users/{}", w.a.vendedores[0].user_id);
    let (s, v) = call(
        &w.app,
        Method::PATCH,
        &path,
        Some(t),
        Some(&json!({"name": "Vendedor Renombrado", "maxSessionsPerVendedor": 2})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["maxSessionsPerVendedor"], 2);
    let (s, _) = call(&w.app, Method::DELETE, &path, Some(t), None).await;
    assert_eq!(s, StatusCode::OK);
    fixtures::assert_revoked(&w, &w.a.vendedores[0].token).await;
    let (s, _) = call(
        &w.app,
        Method::PATCH,
        &format!("{path}/restore"),
        Some(t),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    // maxSessionsPerVendedor only for vendedores.
    let (s, _) = call(
        &w.app,
        Method::PATCH,
        &format!("/api/v1/users/{created}"),
        Some(t),
        Some(&json!({"maxSessionsPerVendedor": 2})),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // Tenant B's users: not found for every route, and unchanged.
    let target = w.b.vendedores[0].user_id;
    let snap = fixtures::user_snapshot(&w, target).await;
    let path = format!("/api/v1/users/{target}");
    for (m, p, b) in [
        (Method::GET, path.clone(), None),
        (
            Method::PATCH,
            path.clone(),
            Some(json!({"name": "Hackeado"})),
        ),
        (Method::DELETE, path.clone(), None),
        (Method::PATCH, format!("{path}/restore"), None),
    ] {
        let (s, v) = call(&w.app, m.clone(), &p, Some(t), b.as_ref()).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{m} {p}: {v}");
    }
    assert_eq!(fixtures::user_snapshot(&w, target).await, snap);
    assert_eq!(open_sessions(&w, target).await, 1);
}

#[tokio::test]
async fn ventana_users_create_only_vendedores_of_their_own_ventana() {
    let w = fixtures::world().await;
    let me = &w.a.ventana_users[0];
    let t = &me.token;
    let before = fixtures::count_users(&w).await;

    let body =
        json!({"name": "Nuevo Vendedor", "username": "nuevo.vend", "password": "segura-123"});
    let (s, v) = call(&w.app, Method::POST, "/api/v1/users", Some(t), Some(&body)).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["data"]["role"], "VENDEDOR");
    assert_eq!(v["data"]["ventanaId"], json!(w.a.ventanas[0]));
    assert_eq!(v["data"]["bancaId"], json!(w.a.banca_id));
    let created = id_of(&v);

    // Own ventana and VENDEDOR role may be spelled out; anything else is refused.
    let ok = json!({"name": "Otro", "username": "otro.vend", "password": "segura-123",
                    "role": "VENDEDOR", "ventanaId": w.a.ventanas[0], "isActive": true});
    let (s, v) = call(&w.app, Method::POST, "/api/v1/users", Some(t), Some(&ok)).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    for (field, value) in [
        ("role", json!("VENTANA")),
        ("ventanaId", json!(w.a.ventanas[1])),
        ("ventanaId", json!(w.b.ventanas[0])),
        ("isActive", json!(false)),
    ] {
        let mut b = body.clone();
        b["username"] = json!("rechazado");
        b[field] = value;
        let (s, v) = call(&w.app, Method::POST, "/api/v1/users", Some(t), Some(&b)).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{field}: {v}");
        assert!(
            v["message"].as_str().unwrap().contains(field),
            "{field}: {v}"
        );
    }
    assert_eq!(fixtures::count_users(&w).await, before + 2);

    // The list: itself and its vendedores (active by default), nothing of the other ventana.
    let (s, v) = call(
        &w.app,
        Method::GET,
        "/api/v1/users?pageSize=50",
        Some(t),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let ids: Vec<&str> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 4, "{v}");
    assert!(ids.contains(&me.user_id.to_string().as_str()));
    assert!(!ids.contains(&w.a.vendedores[1].user_id.to_string().as_str()));

    // Its vendedor: change, deactivate; role/code/ventana changes are refused.
    let path = format!("/api/v1/users/{created}");
    let (s, v) = call(
        &w.app,
        Method::PATCH,
        &path,
        Some(t),
        Some(&json!({"name": "Vendedor Editado", "phone": "506-8888-0000"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["phone"], "506-8888-0000");
    for body in [
        json!({"role": "VENTANA"}),
        json!({"code": "X1"}),
        json!({"ventanaId": w.a.ventanas[1]}),
    ] {
        let (s, v) = call(&w.app, Method::PATCH, &path, Some(t), Some(&body)).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{body}: {v}");
        assert!(v["message"]
            .as_str()
            .unwrap()
            .starts_with("Campo no permitido para VENTANA"));
    }
    // It may not deactivate itself.
    let (s, _) = call(
        &w.app,
        Method::PATCH,
        &format!("/api/v1/users/{}", me.user_id),
        Some(t),
        Some(&json!({"isActive": false})),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = call(&w.app, Method::DELETE, &path, Some(t), None).await;
    assert_eq!(s, StatusCode::OK);

    // Vendedores of the other ventana and of tenant B are out of reach.
    for target in [w.a.vendedores[1].user_id, w.b.vendedores[0].user_id] {
        let snap = fixtures::user_snapshot(&w, target).await;
        let p = format!("/api/v1/users/{target}");
        for (m, b) in [
            (Method::GET, None),
            (Method::PATCH, Some(json!({"name": "Cambio"}))),
            (Method::DELETE, None),
        ] {
            let (s, v) = call(&w.app, m.clone(), &p, Some(t), b.as_ref()).await;
            assert_eq!(s, StatusCode::NOT_FOUND, "{m} {p}: {v}");
        }
        assert_eq!(fixtures::user_snapshot(&w, target).await, snap);
    }
}

#[tokio::test]
async fn vendedores_only_read_and_edit_themselves() {
    let w = fixtures::world().await;
    let me = &w.a.vendedores[0];
    let t = &me.token;
    let (s, _) = call(
        &w.app,
        Method::POST,
        "/api/v1/users",
        Some(t),
        Some(&new_user("x.vend", "VENDEDOR", Some(w.a.ventanas[0]))),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = call(&w.app, Method::GET, "/api/v1/users", Some(t), None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let other = format!("/api/v1/users/{}", w.a.vendedores[1].user_id);
    let (s, _) = call(&w.app, Method::DELETE, &other, Some(t), None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = call(&w.app, Method::GET, &other, Some(t), None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    let own = format!("/api/v1/users/{}", me.user_id);
    let (s, v) = call(&w.app, Method::GET, &own, Some(t), None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = call(
        &w.app,
        Method::PATCH,
        &own,
        Some(t),
        Some(&json!({"name": "Yo Mismo"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = call(
        &w.app,
        Method::PATCH,
        &own,
        Some(t),
        Some(&json!({"maxSessionsPerVendedor": 5})),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
}

#[tokio::test]
async fn role_changes_follow_the_rules() {
    let w = fixtures::world().await;
    let t = &w.admin.token;
    let target = &w.a.vendedores[0];
    let path = format!("/api/v1/users/{}", target.user_id);

    // VENDEDOR → VENTANA of another ventana of the same banca.
    let (s, v) = call(
        &w.app,
        Method::PATCH,
        &path,
        Some(t),
        Some(&json!({"role": "VENTANA", "ventanaId": w.a.ventanas[1]})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["role"], "VENTANA");
    assert_eq!(v["data"]["ventanaId"], json!(w.a.ventanas[1]));
    assert_eq!(
        activity_count(&w, "USER_ROLE_CHANGE", target.user_id).await,
        1
    );
    fixtures::assert_revoked(&w, &target.token).await;

    // → ADMIN drops the ventana; back to VENDEDOR needs one.
    let (s, v) = call(
        &w.app,
        Method::PATCH,
        &path,
        Some(t),
        Some(&json!({"role": "ADMIN", "ventanaId": w.a.ventanas[0]})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["ventanaId"], Value::Null);
    let (s, v) = call(
        &w.app,
        Method::PATCH,
        &path,
        Some(t),
        Some(&json!({"role": "VENDEDOR"})),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["details"][0]["field"], "ventanaId");
    let (s, v) = call(
        &w.app,
        Method::PATCH,
        &path,
        Some(t),
        Some(&json!({"role": "VENDEDOR", "ventanaId": w.a.ventanas[0]})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");

    // BANCA may not promote to ADMIN/BANCA; nobody changes its own role.
    let bt = &w.a.banca_user.token;
    let p2 = format!("/api/v1/users/{}", w.a.vendedores[1].user_id);
    for role in ["ADMIN", "BANCA"] {
        let (s, v) = call(
            &w.app,
            Method::PATCH,
            &p2,
            Some(bt),
            Some(&json!({"role": role})),
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{role}: {v}");
    }
    let (s, v) = call(
        &w.app,
        Method::PATCH,
        &p2,
        Some(bt),
        Some(&json!({"role": "VENTANA"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, _) = call(
        &w.app,
        Method::PATCH,
        &format!("/api/v1/users/{}", w.admin.user_id),
        Some(t),
        Some(&json!({"role": "VENDEDOR", "ventanaId": w.a.ventanas[0]})),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // BANCA may not change another BANCA user (visible, not manageable).
    let other_banca = fixtures::user(
        &w.app,
        "banca.a.bis",
        banca::domain::roles::Role::Banca,
        None,
        Some(w.a.banca_id),
    )
    .await;
    let (s, _) = call(
        &w.app,
        Method::PATCH,
        &format!("/api/v1/users/{}", other_banca.user_id),
        Some(bt),
        Some(&json!({"name": "Cambio"})),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn deactivation_and_moves_close_the_sessions() {
    let w = fixtures::world().await;
    let t = &w.admin.token;

    // isActive=false through PATCH.
    let v0 = &w.a.vendedores[0];
    let (s, v) = call(
        &w.app,
        Method::PATCH,
        &format!("/api/v1/users/{}", v0.user_id),
        Some(t),
        Some(&json!({"isActive": false})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    fixtures::assert_revoked(&w, &v0.token).await;

    // Moving to a ventana of another banca: new banca, policy cleared, sessions closed.
    let v1 = &w.a.vendedores[1];
    sqlx::query("UPDATE users SET commission_policy_json = '{\"version\":1}' WHERE id = $1")
        .bind(v1.user_id)
        .execute(&mut db(&w).await)
        .await
        .unwrap();
    let (s, v) = call(
        &w.app,
        Method::PATCH,
        &format!("/api/v1/users/{}", v1.user_id),
        Some(t),
        Some(&json!({"ventanaId": w.b.ventanas[0]})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["bancaId"], json!(w.b.banca_id));
    fixtures::assert_revoked(&w, &v1.token).await;
    let policy: Option<Value> =
        sqlx::query_scalar("SELECT commission_policy_json FROM users WHERE id = $1")
            .bind(v1.user_id)
            .fetch_one(&mut db(&w).await)
            .await
            .unwrap();
    assert_eq!(policy, None);

    // A password reset by someone else closes the target's sessions.
    let v2 = &w.b.vendedores[1];
    let (s, _) = call(
        &w.app,
        Method::PATCH,
        &format!("/api/v1/users/{}", v2.user_id),
        Some(&w.b.banca_user.token),
        Some(&json!({"password": "nueva-clave-1"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    fixtures::assert_revoked(&w, &v2.token).await;
}

#[tokio::test]
async fn patch_auth_me_updates_the_profile_and_refuses_admin_fields() {
    let w = fixtures::world().await;
    let me = &w.a.vendedores[0];
    let t = &me.token;
    let snap = fixtures::user_snapshot(&w, me.user_id).await;
    for (field, value) in [
        ("role", json!("ADMIN")),
        ("ventanaId", json!(w.a.ventanas[1])),
        ("code", json!("ZZ")),
        ("isActive", json!(true)),
        ("bancaId", json!(w.b.banca_id)),
    ] {
        let body = json!({ field: value, "name": "Cambio" });
        let (s, v) = call(
            &w.app,
            Method::PATCH,
            "/api/v1/auth/me",
            Some(t),
            Some(&body),
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{field}: {v}");
        assert_eq!(
            v["message"],
            format!("No puedes modificar el campo {field}. Contacta a un administrador.")
        );
    }
    assert_eq!(fixtures::user_snapshot(&w, me.user_id).await, snap);

    let body = json!({"name": "Nombre Propio", "email": "yo@example.com",
                      "settings": {"print": {"footer": "Gracias", "barcode": false}}});
    let (s, v) = call(
        &w.app,
        Method::PATCH,
        "/api/v1/auth/me",
        Some(t),
        Some(&body),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_no_secrets(&v);
    assert_eq!(v["data"]["name"], "Nombre Propio");
    assert_eq!(v["data"]["settings"]["print"]["barcode"], false);
    assert_eq!(
        activity_count(&w, "USER_UPDATE", me.user_id).await,
        1,
        "one USER_UPDATE"
    );

    // The own password changes only through PUT /users/me/password (which checks the current
    // one): a stolen access token is not enough to take the account over.
    let hash_before = password_hash(&w, me.user_id).await;
    let (s, v) = call(
        &w.app,
        Method::PATCH,
        "/api/v1/auth/me",
        Some(t),
        Some(&json!({"password": "mi-clave-nueva"})),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert_eq!(password_hash(&w, me.user_id).await, hash_before);
    let (s, _) = call(
        &w.app,
        Method::PATCH,
        &format!("/api/v1/users/{}", me.user_id),
        Some(t),
        Some(&json!({"password": "mi-clave-nueva"})),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(password_hash(&w, me.user_id).await, hash_before);
    let (s, _) = call(&w.app, Method::GET, "/api/v1/auth/me", Some(t), None).await;
    assert_eq!(s, StatusCode::OK);

    // Unknown keys and bad settings are 400.
    for body in [
        json!({"nombre": "x"}),
        json!({"settings": {"theme": "blue"}}),
        json!({"settings": {"print": {"width": 60}}}),
    ] {
        let (s, v) = call(
            &w.app,
            Method::PATCH,
            "/api/v1/auth/me",
            Some(t),
            Some(&body),
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{body}: {v}");
    }
}

#[tokio::test]
async fn register_requires_an_authorized_caller_and_never_makes_admins() {
    let w = fixtures::world().await;
    let body = json!({"username": "registro.1", "name": "Registro", "password": "segura-123",
                      "role": "VENDEDOR", "ventanaId": w.a.ventanas[0]});
    let before = fixtures::count_users(&w).await;
    let (s, v) = call(
        &w.app,
        Method::POST,
        "/api/v1/auth/register",
        None,
        Some(&body),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{v}");
    let (s, _) = call(
        &w.app,
        Method::POST,
        "/api/v1/auth/register",
        Some(&w.a.vendedores[0].token),
        Some(&body),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    for role in ["ADMIN", "BANCA"] {
        let mut b = body.clone();
        b["role"] = json!(role);
        let (s, v) = call(
            &w.app,
            Method::POST,
            "/api/v1/auth/register",
            Some(&w.admin.token),
            Some(&b),
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{role}: {v}");
    }
    // BANCA of tenant B cannot register into tenant A.
    let (s, _) = call(
        &w.app,
        Method::POST,
        "/api/v1/auth/register",
        Some(&w.b.banca_user.token),
        Some(&body),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(fixtures::count_users(&w).await, before);

    let (s, v) = call(
        &w.app,
        Method::POST,
        "/api/v1/auth/register",
        Some(&w.admin.token),
        Some(&body),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_no_secrets(&v);
    assert_eq!(v["data"]["role"], "VENDEDOR");
    // A VENTANA caller registers vendedores of its own ventana by default.
    let (s, v) = call(
        &w.app,
        Method::POST,
        "/api/v1/auth/register",
        Some(&w.a.ventana_users[1].token),
        Some(&json!({"username": "registro.2", "name": "Registro Dos", "password": "segura-123"})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["data"]["role"], "VENDEDOR");
    assert_eq!(v["data"]["ventanaId"], json!(w.a.ventanas[1]));
}

#[tokio::test]
async fn bad_input_on_every_write_is_a_400_that_writes_nothing() {
    let w = fixtures::world().await;
    let t = &w.admin.token;
    let target = w.a.vendedores[0].user_id;
    let path = format!("/api/v1/users/{target}");
    let users_before = fixtures::count_users(&w).await;
    let snap = fixtures::user_snapshot(&w, target).await;
    let ok = new_user("valido", "VENDEDOR", Some(w.a.ventanas[0]));
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
    let creates = [
        without("name"),
        without("username"),
        without("password"),
        with("name", json!(42)),
        with("name", json!("x")),
        with("name", json!("n".repeat(101))),
        with("username", json!("ab")),
        with("username", json!("u".repeat(33))),
        with("username", json!("con espacio")),
        with("password", json!("corta")),
        with("password", json!("p".repeat(129))),
        with("email", json!("no-es-correo")),
        with("phone", json!("123")),
        with("role", json!("SUPERADMIN")),
        with("ventanaId", json!("no-uuid")),
        with("isActive", json!("yes")),
        with("maxSessionsPerVendedor", json!(21)),
        with("maxSessionsPerVendedor", json!(0)),
        with("bancaIds", json!([w.a.banca_id])),
        with("code", json!("C1")),
        with("inventado", json!(1)),
    ];
    for body in &creates {
        let (s, v) = call(&w.app, Method::POST, "/api/v1/users", Some(t), Some(body)).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{body}: {v}");
        assert_eq!(v["success"], false);
        assert!(
            v["details"].as_array().is_some_and(|d| !d.is_empty()),
            "{body}: {v}"
        );
    }
    let (s, v) = call(
        &w.app,
        Method::POST,
        "/api/v1/users",
        Some(t),
        Some(&json!("texto")),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");

    let updates = [
        json!({"name": ""}),
        json!({"name": "n".repeat(101)}),
        json!({"username": "a b"}),
        json!({"password": "corta"}),
        json!({"email": "malo"}),
        json!({"role": "JEFE"}),
        json!({"role": null}),
        json!({"isActive": "no"}),
        json!({"ventanaId": 5}),
        json!({"code": "x"}),
        json!({"code": "c".repeat(33)}),
        json!({"maxSessionsPerVendedor": 50}),
        json!({"settings": {"print": {"footer": "f".repeat(201)}}}),
        json!({"settings": {"print": {"bluetoothMacAddress": "zz"}}}),
        json!({"settings": {"otra": 1}}),
        json!({"settings": "oscuro"}),
        json!({"desconocido": true}),
    ];
    for body in &updates {
        let (s, v) = call(&w.app, Method::PATCH, &path, Some(t), Some(body)).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{body}: {v}");
        assert!(
            v["details"].as_array().is_some_and(|d| !d.is_empty()),
            "{body}: {v}"
        );
    }
    let others = [
        (Method::DELETE, path.clone(), json!({"motivo": "x"})),
        (Method::DELETE, path.clone(), json!({"reason": 5})),
        (
            Method::DELETE,
            path.clone(),
            json!({"reason": "r".repeat(501)}),
        ),
        (Method::PATCH, format!("{path}/restore"), json!({"x": 1})),
        (
            Method::POST,
            format!("{path}/bancas"),
            json!({"bancaId": "nope"}),
        ),
        (Method::POST, format!("{path}/bancas"), json!({})),
        (
            Method::PUT,
            format!("{path}/commission-policy"),
            json!({"commissionPolicyJson": {"version": 2, "rules": []}}),
        ),
        (
            Method::PUT,
            format!("{path}/commission-policy"),
            json!({"policy": null}),
        ),
        (Method::PUT, format!("{path}/commission-policy"), json!({})),
        (
            Method::POST,
            "/api/v1/auth/register".to_string(),
            json!({"username": "r", "name": "R", "password": "x"}),
        ),
    ];
    for (m, p, body) in &others {
        let (s, v) = call(&w.app, m.clone(), p, Some(t), Some(body)).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{m} {p} {body}: {v}");
    }
    // Malformed ids in the path and bad list filters.
    for p in [
        "/api/v1/users/no-uuid",
        "/api/v1/users?pageSize=1001",
        "/api/v1/users?page=0",
        "/api/v1/users?role=JEFE",
        "/api/v1/users?isActive=quizas",
        "/api/v1/users?otro=1",
    ] {
        let (s, v) = call(&w.app, Method::GET, p, Some(t), None).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{p}: {v}");
    }

    assert_eq!(fixtures::count_users(&w).await, users_before);
    assert_eq!(fixtures::user_snapshot(&w, target).await, snap);
    let logged: i64 =
        sqlx::query_scalar("SELECT count(*) FROM activity_logs WHERE action LIKE 'USER_%'")
            .fetch_one(&mut db(&w).await)
            .await
            .unwrap();
    assert_eq!(logged, 0);
}

#[tokio::test]
async fn duplicates_are_conflicts() {
    let w = fixtures::world().await;
    let t = &w.admin.token;
    let mut body = new_user("VENDEDOR.A1", "VENDEDOR", Some(w.a.ventanas[0]));
    let (s, v) = call(&w.app, Method::POST, "/api/v1/users", Some(t), Some(&body)).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["code"], "USERNAME_EXISTS");

    body["username"] = json!("unico.1");
    body["email"] = json!("dup@example.com");
    let (s, v) = call(&w.app, Method::POST, "/api/v1/users", Some(t), Some(&body)).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    body["username"] = json!("unico.2");
    body["email"] = json!("DUP@example.com");
    let (s, v) = call(&w.app, Method::POST, "/api/v1/users", Some(t), Some(&body)).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["code"], "EMAIL_EXISTS");

    let path = format!("/api/v1/users/{}", w.a.vendedores[1].user_id);
    let (s, v) = call(
        &w.app,
        Method::PATCH,
        &path,
        Some(t),
        Some(&json!({"username": "unico.1"})),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["code"], "USERNAME_EXISTS");
    // Renaming to its own name in another case is not a conflict.
    let (s, v) = call(
        &w.app,
        Method::PATCH,
        &path,
        Some(t),
        Some(&json!({"username": "Vendedor.A2"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
}

#[tokio::test]
async fn vendor_limit_seats_are_enforced() {
    let w = fixtures::world().await;
    sqlx::query("UPDATE bancas SET vendor_limit = 2 WHERE id = $1")
        .bind(w.a.banca_id)
        .execute(&mut db(&w).await)
        .await
        .unwrap();
    let before = fixtures::count_users(&w).await;
    let (s, v) = call(
        &w.app,
        Method::POST,
        "/api/v1/users",
        Some(&w.admin.token),
        Some(&new_user("tercero", "VENDEDOR", Some(w.a.ventanas[0]))),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert_eq!(v["code"], "QUOTA_EXCEEDED");
    assert_eq!(fixtures::count_users(&w).await, before);
    // A freed seat can be used.
    let (s, _) = call(
        &w.app,
        Method::DELETE,
        &format!("/api/v1/users/{}", w.a.vendedores[0].user_id),
        Some(&w.admin.token),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, v) = call(
        &w.app,
        Method::POST,
        "/api/v1/users",
        Some(&w.admin.token),
        Some(&new_user("tercero", "VENDEDOR", Some(w.a.ventanas[0]))),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    // Restoring the first one would exceed the limit again.
    let (s, v) = call(
        &w.app,
        Method::PATCH,
        &format!("/api/v1/users/{}/restore", w.a.vendedores[0].user_id),
        Some(&w.admin.token),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert_eq!(v["code"], "QUOTA_EXCEEDED");
}

#[tokio::test]
async fn lists_filter_paginate_and_scope() {
    let w = fixtures::world().await;
    let t = &w.admin.token;
    let (s, v) = call(&w.app, Method::GET, "/api/v1/users", Some(t), None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["meta"]["total"], 11);
    assert_eq!(v["meta"]["pageSize"], 10);
    assert_eq!(v["meta"]["totalPages"], 2);
    assert_eq!(v["meta"]["hasNextPage"], true);
    assert_eq!(v["data"].as_array().unwrap().len(), 10);
    assert_no_secrets(&v);

    let app = &w.app;
    let get = |q: &str| {
        let path = format!("/api/v1/users?{q}");
        async move { call(app, Method::GET, &path, Some(t), None).await.1 }
    };
    assert_eq!(get("role=VENDEDOR").await["meta"]["total"], 4);
    assert_eq!(get("search=ventana%20b1").await["meta"]["total"], 2);
    assert_eq!(
        get(&format!("bancaId={}", w.b.banca_id)).await["meta"]["total"],
        5
    );
    assert_eq!(
        get(&format!("ventanaId={}&_=123", w.a.ventanas[1])).await["meta"]["total"],
        2
    );
    sqlx::query("UPDATE users SET is_active = false WHERE id = $1")
        .bind(w.b.vendedores[0].user_id)
        .execute(&mut db(&w).await)
        .await
        .unwrap();
    assert_eq!(get("isActive=false").await["meta"]["total"], 1);
    assert_eq!(get("isActive=true").await["meta"]["total"], 10);
    // Deleted rows are never listed.
    sqlx::query("UPDATE users SET deleted_at = now() WHERE id = $1")
        .bind(w.b.vendedores[1].user_id)
        .execute(&mut db(&w).await)
        .await
        .unwrap();
    assert_eq!(get("").await["meta"]["total"], 10);
    // Newest first (vendedor.b2, the newest, is deleted).
    let first = get("pageSize=1").await;
    assert_eq!(first["data"][0]["username"], "vendedor.b1");

    // An ADMIN with an active banca sees that banca.
    let res = w
        .app
        .client
        .get(w.app.url("/api/v1/users"))
        .bearer_auth(t)
        .header("X-Active-Banca-Id", w.a.banca_id.to_string())
        .send()
        .await
        .unwrap();
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["meta"]["total"], 5, "{v}");
}

#[tokio::test]
async fn user_banca_links_follow_their_rules() {
    let w = fixtures::world().await;
    let t = &w.admin.token;
    let bu = &w.a.banca_user;
    let links = format!("/api/v1/users/{}/bancas", bu.user_id);

    let (s, v) = call(
        &w.app,
        Method::POST,
        &links,
        Some(t),
        Some(&json!({"bancaId": w.b.banca_id})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["data"]["isDefault"], false);
    assert_eq!(v["data"]["banca"]["id"], json!(w.b.banca_id));
    let (s, v) = call(&w.app, Method::GET, &links, Some(t), None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["data"].as_array().unwrap().len(), 2);
    assert_eq!(v["data"][0]["bancaId"], json!(w.a.banca_id));

    // Only BANCA users are linked; the banca must exist; only ADMIN links.
    let vend_links = format!("/api/v1/users/{}/bancas", w.a.vendedores[0].user_id);
    let (s, v) = call(
        &w.app,
        Method::POST,
        &vend_links,
        Some(t),
        Some(&json!({"bancaId": w.a.banca_id})),
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("INVALID_ROLE"))
    );
    let (s, _) = call(
        &w.app,
        Method::POST,
        &links,
        Some(t),
        Some(&json!({"bancaId": Uuid::new_v4()})),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = call(
        &w.app,
        Method::POST,
        &links,
        Some(&bu.token),
        Some(&json!({"bancaId": w.a.banca_id})),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // The default cannot be removed; another one can.
    let (s, v) = call(
        &w.app,
        Method::DELETE,
        &format!("{links}/{}", w.a.banca_id),
        Some(t),
        None,
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("CANNOT_DELETE_DEFAULT"))
    );
    // A BANCA user switches its own default among its links; users.banca_id follows.
    let (s, v) = call(
        &w.app,
        Method::PATCH,
        &format!("{links}/{}/default", w.b.banca_id),
        Some(&bu.token),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["isDefault"], true);
    let profile: Option<Uuid> = sqlx::query_scalar("SELECT banca_id FROM users WHERE id = $1")
        .bind(bu.user_id)
        .fetch_one(&mut db(&w).await)
        .await
        .unwrap();
    assert_eq!(profile, Some(w.b.banca_id));
    let (s, _) = call(
        &w.app,
        Method::PATCH,
        &format!("{links}/{}/default", Uuid::new_v4()),
        Some(t),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = call(
        &w.app,
        Method::DELETE,
        &format!("{links}/{}", w.a.banca_id),
        Some(t),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);

    // A BANCA user may not set another user's default nor read other tenants' links.
    let b_links = format!("/api/v1/users/{}/bancas", w.b.banca_user.user_id);
    let (s, _) = call(
        &w.app,
        Method::PATCH,
        &format!("{b_links}/{}/default", w.b.banca_id),
        Some(&w.a.banca_user.token),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let bt = &w.b.banca_user.token;
    let a_links = format!("/api/v1/users/{}/bancas", w.a.vendedores[0].user_id);
    let (s, _) = call(&w.app, Method::GET, &a_links, Some(bt), None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, v) = call(&w.app, Method::GET, &b_links, Some(bt), None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, _) = call(
        &w.app,
        Method::GET,
        &b_links,
        Some(&w.b.ventana_users[0].token),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

fn policy() -> Value {
    json!({"commissionPolicyJson": {
        "version": 1, "effectiveFrom": null, "effectiveTo": null, "defaultPercent": 5,
        "rules": [{"loteriaId": null, "betType": "NUMERO",
                   "multiplierRange": {"min": 90, "max": 90}, "percent": 7.5}]
    }})
}

#[tokio::test]
async fn commission_policy_reads_and_writes_are_scoped() {
    let w = fixtures::world().await;
    let vend = &w.a.vendedores[0];
    let path = format!("/api/v1/users/{}/commission-policy", vend.user_id);

    let (s, v) = call(
        &w.app,
        Method::PUT,
        &path,
        Some(&w.admin.token),
        Some(&policy()),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let rule_id = v["data"]["commissionPolicyJson"]["rules"][0]["id"]
        .as_str()
        .unwrap();
    assert!(Uuid::parse_str(rule_id).is_ok());
    // The listero of the vendedor's ventana and the BANCA of the tenant may set it.
    for t in [&w.a.ventana_users[0].token, &w.a.banca_user.token] {
        let (s, v) = call(&w.app, Method::PUT, &path, Some(t), Some(&policy())).await;
        assert_eq!(s, StatusCode::OK, "{v}");
    }
    // The vendedor reads its own, but does not set it.
    let (s, v) = call(&w.app, Method::GET, &path, Some(&vend.token), None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["commissionPolicyJson"]["defaultPercent"], 5);
    let (s, _) = call(
        &w.app,
        Method::PUT,
        &path,
        Some(&vend.token),
        Some(&policy()),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // Other tenants and other ventanas do not see it.
    let snap = fixtures::user_snapshot(&w, vend.user_id).await;
    for t in [
        &w.b.banca_user.token,
        &w.b.ventana_users[0].token,
        &w.a.ventana_users[1].token,
        &w.a.vendedores[1].token,
    ] {
        for m in [Method::GET, Method::PUT] {
            let (s, v) = call(&w.app, m.clone(), &path, Some(t), Some(&policy())).await;
            assert_eq!(s, StatusCode::NOT_FOUND, "{m}: {v}");
        }
    }
    assert_eq!(fixtures::user_snapshot(&w, vend.user_id).await, snap);
    // Invalid policies are 400 with the field path; null clears.
    let bad = json!({"commissionPolicyJson": {"version": 1, "defaultPercent": 150, "rules": []}});
    let (s, v) = call(&w.app, Method::PUT, &path, Some(&w.admin.token), Some(&bad)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert!(v["details"][0]["field"]
        .as_str()
        .unwrap()
        .starts_with("commissionPolicyJson"));
    let (s, v) = call(
        &w.app,
        Method::PUT,
        &path,
        Some(&w.admin.token),
        Some(&json!({"commissionPolicyJson": null})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["commissionPolicyJson"], Value::Null);
}

#[tokio::test]
async fn no_role_of_tenant_a_reaches_a_user_of_tenant_b() {
    let w = fixtures::world().await;
    let targets: Vec<Uuid> = w.b.logins().iter().map(|l| l.user_id).collect();
    let mut snaps = Vec::new();
    for id in &targets {
        snaps.push(fixtures::user_snapshot(&w, *id).await);
    }
    for login in w.a.logins() {
        let t = &login.token;
        for id in &targets {
            let p = format!("/api/v1/users/{id}");
            let requests = [
                (Method::GET, p.clone(), None),
                (Method::PATCH, p.clone(), Some(json!({"name": "Intruso"}))),
                (Method::PATCH, p.clone(), Some(json!({"isActive": false}))),
                (Method::DELETE, p.clone(), None),
                (Method::PATCH, format!("{p}/restore"), None),
                (Method::GET, format!("{p}/bancas"), None),
                (
                    Method::POST,
                    format!("{p}/bancas"),
                    Some(json!({"bancaId": w.a.banca_id})),
                ),
                (
                    Method::PATCH,
                    format!("{p}/bancas/{}/default", w.b.banca_id),
                    None,
                ),
                (Method::DELETE, format!("{p}/bancas/{}", w.b.banca_id), None),
                (Method::GET, format!("{p}/commission-policy"), None),
                (
                    Method::PUT,
                    format!("{p}/commission-policy"),
                    Some(policy()),
                ),
            ];
            for (m, path, body) in requests {
                let (s, v) = call(&w.app, m.clone(), &path, Some(t), body.as_ref()).await;
                assert!(
                    s == StatusCode::NOT_FOUND || s == StatusCode::FORBIDDEN,
                    "{} {m} {path}: {s} {v}",
                    login.username
                );
                assert_no_secrets(&v);
            }
        }
        // Lists never show tenant B.
        let (s, v) = call(
            &w.app,
            Method::GET,
            "/api/v1/users?pageSize=1000",
            Some(t),
            None,
        )
        .await;
        if s == StatusCode::OK {
            for u in v["data"].as_array().unwrap() {
                let id = Uuid::parse_str(u["id"].as_str().unwrap()).unwrap();
                assert!(!targets.contains(&id), "{} sees {id}", login.username);
            }
        } else {
            assert_eq!(s, StatusCode::FORBIDDEN);
        }
    }
    for (id, snap) in targets.iter().zip(&snaps) {
        assert_eq!(&fixtures::user_snapshot(&w, *id).await, snap);
        assert_eq!(open_sessions(&w, *id).await, 1);
    }
}
