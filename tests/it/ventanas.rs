//! ventanas API tests: create with the VENTANA login as ADMIN and BANCA, updates (settings
//! merge, login changes), delete/restore with session revocation, conflicts, validation
//! (nothing written), tenant isolation and the ventana commission policy.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::fixtures::{self, call, World};

async fn count(w: &World, sql: &str) -> i64 {
    let mut conn = w.db.connect().await;
    sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap()
}

/// Rows that refused requests must leave untouched.
async fn counts(w: &World) -> (i64, i64, i64, i64) {
    (
        count(w, "SELECT count(*) FROM ventanas").await,
        count(w, "SELECT count(*) FROM users").await,
        count(w, "SELECT count(*) FROM activity_logs").await,
        count(
            w,
            "SELECT count(*) FROM auth_sessions WHERE revoked_at IS NOT NULL",
        )
        .await,
    )
}

async fn activity(w: &World, action: &str, target: Uuid) -> Vec<Value> {
    let mut conn = w.db.connect().await;
    sqlx::query_scalar(
        "SELECT details FROM activity_logs WHERE action = $1 AND target_id = $2 ORDER BY created_at",
    )
    .bind(action)
    .bind(target.to_string())
    .fetch_all(&mut conn)
    .await
    .unwrap()
}

/// `(name, code, is_active, deleted, settings)` of a ventana.
async fn ventana_row(w: &World, id: Uuid) -> (String, String, bool, bool, Option<Value>) {
    let mut conn = w.db.connect().await;
    sqlx::query_as(
        "SELECT name, code, is_active, deleted_at IS NOT NULL, settings FROM ventanas WHERE id = $1",
    )
    .bind(id)
    .fetch_one(&mut conn)
    .await
    .unwrap()
}

fn id_of(v: &Value) -> Uuid {
    Uuid::parse_str(v["data"]["id"].as_str().expect("data.id")).unwrap()
}

/// The fields the client reads, with their JSON types.
fn assert_ventana_shape(v: &Value) {
    for k in ["id", "bancaId", "name", "code", "createdAt", "updatedAt"] {
        assert!(v[k].is_string(), "{k} should be a string: {v}");
    }
    assert!(v["isActive"].is_boolean(), "{v}");
    assert!(v["commissionMarginX"].is_number(), "{v}");
    for k in ["email", "phone", "address", "settings"] {
        assert!(v.get(k).is_some(), "{k} missing: {v}");
    }
    assert_eq!(v["banca"]["id"], v["bancaId"]);
    assert!(v["banca"]["name"].is_string() && v["banca"]["code"].is_string());
}

async fn login(w: &World, username: &str, password: &str) -> StatusCode {
    call(
        &w.app,
        Method::POST,
        "/api/v1/auth/login",
        None,
        Some(&json!({ "username": username, "password": password })),
    )
    .await
    .0
}

async fn me(w: &World, token: &str) -> StatusCode {
    call(&w.app, Method::GET, "/api/v1/auth/me", Some(token), None)
        .await
        .0
}

#[tokio::test]
async fn admin_and_banca_create_ventanas_with_their_login() {
    let w = fixtures::world().await;
    let (s, v) = call(
        &w.app,
        Method::POST,
        "/api/v1/ventanas",
        Some(&w.admin.token),
        Some(&json!({
            "bancaId": w.a.banca_id,
            "name": "Ventana Centro",
            "code": "VC01",
            "email": "Centro@Example.com",
            "phone": "2222-3333",
            "address": "Avenida 1",
            "commissionMarginX": 1.5,
            "settings": {"print": {"name": "Centro", "width": 58, "barcode": true, "bluetoothMacAddress": "AA:BB:CC:DD:EE:FF"}, "theme": "dark"},
            "username": "listero_centro",
            "password": "clave-segura-1",
        })),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    fixtures::assert_no_secrets(&v);
    assert_eq!(v["success"], true);
    assert_eq!(v["message"], "Listero y usuario creados correctamente");
    let d = &v["data"];
    assert_ventana_shape(d);
    assert_eq!(d["bancaId"], w.a.banca_id.to_string());
    assert_eq!(d["banca"]["code"], "BA");
    assert_eq!(d["code"], "VC01");
    assert_eq!(d["email"], "centro@example.com");
    assert_eq!(d["commissionMarginX"], json!(1.5));
    assert_eq!(d["settings"]["print"]["width"], 58);
    assert_eq!(d["isActive"], true);
    assert_eq!(v["meta"]["userCreated"], true);
    assert_eq!(v["meta"]["username"], "listero_centro");
    let id = id_of(&v);
    let user_id = Uuid::parse_str(v["meta"]["userId"].as_str().unwrap()).unwrap();

    let mut conn = w.db.connect().await;
    let (role, ventana, name): (String, Option<Uuid>, String) =
        sqlx::query_as("SELECT role::text, ventana_id, name FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!(
        (role.as_str(), ventana, name.as_str()),
        ("VENTANA", Some(id), "Ventana Centro")
    );
    assert_eq!(
        login(&w, "listero_centro", "clave-segura-1").await,
        StatusCode::OK
    );
    let logged = activity(&w, "VENTANA_CREATE", id).await;
    assert_eq!(logged.len(), 1);
    assert_eq!(logged[0]["username"], "listero_centro");
    fixtures::assert_no_secrets(&logged[0]);

    // BANCA: a bancaId it is not assigned to is not found (and nothing is written).
    let before = counts(&w).await;
    let (s, v) = call(
        &w.app,
        Method::POST,
        "/api/v1/ventanas",
        Some(&w.a.banca_user.token),
        Some(&json!({
            "bancaId": w.b.banca_id,
            "name": "Ventana Sur",
            "username": "listero_sur",
            "password": "clave-segura-1",
        })),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    assert_eq!(counts(&w).await, before);

    // BANCA without bancaId: its active banca; a code is generated when absent; an inactive
    // ventana gets an inactive login.
    let (s, v) = call(
        &w.app,
        Method::POST,
        "/api/v1/ventanas",
        Some(&w.a.banca_user.token),
        Some(&json!({
            "name": "Ventana Sur",
            "isActive": false,
            "username": "listero_sur",
            "password": "clave-segura-1",
        })),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["data"]["bancaId"], w.a.banca_id.to_string());
    let code = v["data"]["code"].as_str().unwrap();
    assert!(code.starts_with('V') && code.len() == 7, "{code}");
    assert_eq!(v["data"]["isActive"], false);
    assert_eq!(
        login(&w, "listero_sur", "clave-segura-1").await,
        StatusCode::FORBIDDEN
    );

    // VENTANA and VENDEDOR may not create ventanas.
    let before = counts(&w).await;
    for t in [&w.a.ventana_users[0].token, &w.a.vendedores[0].token] {
        let (s, v) = call(
            &w.app,
            Method::POST,
            "/api/v1/ventanas",
            Some(t),
            Some(&json!({"name": "Otra", "username": "otra_v", "password": "clave-segura-1"})),
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    }
    assert_eq!(counts(&w).await, before);
}

#[tokio::test]
async fn conflicts_answer_409_and_write_nothing() {
    let w = fixtures::world().await;
    let admin = Some(w.admin.token.as_str());
    let body = |code: &str, username: &str| {
        json!({"bancaId": w.a.banca_id, "name": "Ventana X", "code": code,
               "username": username, "password": "clave-segura-1"})
    };
    let (s, v) = call(
        &w.app,
        Method::POST,
        "/api/v1/ventanas",
        admin,
        Some(&body("VX1", "listero_x")),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let before = counts(&w).await;
    for (b, code) in [
        (body("VA1", "listero_y"), "VENTANA_EXISTS"),
        (body("VY1", "listero_x"), "USERNAME_EXISTS"),
        (body("VY2", "LISTERO_X"), "USERNAME_EXISTS"),
    ] {
        let (s, v) = call(&w.app, Method::POST, "/api/v1/ventanas", admin, Some(&b)).await;
        assert_eq!(s, StatusCode::CONFLICT, "{b}: {v}");
        assert_eq!(v["code"], code);
    }
    // A code taken by another ventana on update.
    let (s, v) = call(
        &w.app,
        Method::PATCH,
        &format!("/api/v1/ventanas/{}", w.a.ventanas[1]),
        admin,
        Some(&json!({"code": "VA1"})),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["code"], "VENTANA_EXISTS");
    // A banca that does not exist, and an inactive one.
    let (s, _) = call(
        &w.app,
        Method::POST,
        "/api/v1/ventanas",
        admin,
        Some(&json!({"bancaId": Uuid::new_v4(), "name": "Ventana X", "username": "listero_z", "password": "clave-segura-1"})),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let mut conn = w.db.connect().await;
    sqlx::query("UPDATE bancas SET is_active = false WHERE id = $1")
        .bind(w.b.banca_id)
        .execute(&mut conn)
        .await
        .unwrap();
    let (s, v) = call(
        &w.app,
        Method::POST,
        "/api/v1/ventanas",
        admin,
        Some(&json!({"bancaId": w.b.banca_id, "name": "Ventana X", "username": "listero_z", "password": "clave-segura-1"})),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["code"], "BANCA_INACTIVE");
    assert_eq!(counts(&w).await, before);
}

#[tokio::test]
async fn validation_errors_are_400_with_details_and_write_nothing() {
    let w = fixtures::world().await;
    let admin = Some(w.admin.token.as_str());
    let before = counts(&w).await;
    let ok = json!({"bancaId": w.a.banca_id, "name": "Ventana X", "username": "listero_x", "password": "clave-segura-1"});
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
    for (body, field) in [
        (without("name"), "name"),
        (without("username"), "username"),
        (without("password"), "password"),
        (with("name", json!(42)), "name"),
        (with("name", json!("x".repeat(101))), "name"),
        (with("code", json!("C".repeat(11))), "code"),
        (with("phone", json!("1".repeat(21))), "phone"),
        (with("address", json!("a".repeat(256))), "address"),
        (with("email", json!("no-es-correo")), "email"),
        (with("commissionMarginX", json!(-1)), "commissionMarginX"),
        (with("username", json!("con espacio")), "username"),
        (with("username", json!("ab")), "username"),
        (with("password", json!("corta")), "password"),
        (with("bancaId", json!("no-uuid")), "bancaId"),
        (with("extra", json!(true)), "extra"),
        (
            with("settings", json!({"print": {"width": 70}})),
            "settings.print.width",
        ),
        (with("settings", json!({"theme": "blue"})), "settings.theme"),
        (with("settings", json!({"colors": {}})), "settings"),
        (
            with("settings", json!({"print": {"size": 1}})),
            "settings.print",
        ),
        (
            with("settings", json!({"print": {"bluetoothMacAddress": "zz"}})),
            "settings.print.bluetoothMacAddress",
        ),
        (with("settings", json!("dark")), "settings"),
    ] {
        let (s, v) = call(&w.app, Method::POST, "/api/v1/ventanas", admin, Some(&body)).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{body}: {v}");
        assert_eq!(v["code"], "VALIDATION_ERROR", "{body}: {v}");
        let details = v["details"].as_array().expect("details");
        assert!(
            details
                .iter()
                .any(|d| d["field"] == field || d["issue"].as_str().unwrap_or("").contains(field)),
            "{field} not named in {v}"
        );
    }
    let path = format!("/api/v1/ventanas/{}", w.a.ventanas[0]);
    for body in [
        json!({"name": "x"}),
        json!({"settings": {"print": {"width": 60}}}),
        json!({"password": "corta"}),
        json!({"bancaId": w.b.banca_id}),
        json!({"unknown": 1}),
        json!({"isActive": "no"}),
    ] {
        let (s, v) = call(&w.app, Method::PATCH, &path, admin, Some(&body)).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{body}: {v}");
        assert_eq!(v["code"], "VALIDATION_ERROR");
    }
    for q in [
        "pageSize=101",
        "isActive=quizas",
        "bancaId=nope",
        "scope=everything",
        "foo=1",
    ] {
        let (s, v) = call(
            &w.app,
            Method::GET,
            &format!("/api/v1/ventanas?{q}"),
            admin,
            None,
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{q}: {v}");
    }
    let (s, _) = call(&w.app, Method::GET, "/api/v1/ventanas/123", admin, None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(counts(&w).await, before);
    assert_eq!(
        ventana_row(&w, w.a.ventanas[0]).await.0,
        "Ventana A1",
        "unchanged"
    );
}

#[tokio::test]
async fn updates_merge_settings_and_change_the_login() {
    let w = fixtures::world().await;
    let admin = Some(w.admin.token.as_str());
    let id = w.a.ventanas[0];
    let path = format!("/api/v1/ventanas/{id}");
    let (s, v) = call(
        &w.app,
        Method::PATCH,
        &path,
        admin,
        Some(&json!({"settings": {"print": {"name": "A1", "width": 58, "footer": "Gracias"}, "theme": "dark"}})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = call(
        &w.app,
        Method::PUT,
        &path,
        admin,
        Some(&json!({"bancaId": w.a.banca_id, "phone": "8888-1111",
                     "settings": {"print": {"width": 88, "footer": null, "barcode": false}}})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_ventana_shape(&v["data"]);
    assert_eq!(
        v["data"]["settings"],
        json!({"print": {"name": "A1", "width": 88, "barcode": false}, "theme": "dark"})
    );
    assert_eq!(v["data"]["phone"], "8888-1111");
    assert_eq!(v["data"]["name"], "Ventana A1");

    // The ventana's login: new username and password.
    let (s, v) = call(
        &w.app,
        Method::PATCH,
        &path,
        admin,
        Some(&json!({"username": "listero_a1", "password": "nueva-clave-9"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    fixtures::assert_no_secrets(&v);
    assert_eq!(
        login(&w, "listero_a1", "nueva-clave-9").await,
        StatusCode::OK
    );
    assert_eq!(
        login(&w, "ventana.a1", fixtures::PASSWORD).await,
        StatusCode::UNAUTHORIZED
    );
    // A username taken (case-insensitively) by another ventana's login.
    let (s, _) = call(
        &w.app,
        Method::PATCH,
        &format!("/api/v1/ventanas/{}", w.b.ventanas[0]),
        admin,
        Some(&json!({"username": "listero_b1"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, v) = call(
        &w.app,
        Method::PATCH,
        &path,
        admin,
        Some(&json!({"username": "Listero_B1"})),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["code"], "USERNAME_EXISTS");

    let updates = activity(&w, "VENTANA_UPDATE", id).await;
    assert_eq!(updates.len(), 3);
    assert_eq!(updates[1]["fields"], json!(["phone", "settings"]));
    assert_eq!(updates[2]["login"]["credentialChanged"], true);
    assert_eq!(updates[2]["login"]["username"], "listero_a1");
    for u in &updates {
        fixtures::assert_no_secrets(u);
    }

    // Setting the listero's password closed its sessions: it logs in again.
    let (s, _) = call(
        &w.app,
        Method::GET,
        "/api/v1/auth/me",
        Some(&w.a.ventana_users[0].token),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let relogged = fixtures::session_for(
        &w.app,
        w.a.ventana_users[0].user_id,
        w.a.ventana_users[0].role,
        &w.a.ventana_users[0].username,
    )
    .await;

    // The VENTANA user edits its own ventana, but not its activation nor its money settings.
    let own = Some(relogged.token.as_str());
    let (s, _) = call(
        &w.app,
        Method::PATCH,
        &path,
        own,
        Some(&json!({"commissionMarginX": 5})),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, v) = call(
        &w.app,
        Method::PATCH,
        &path,
        own,
        Some(&json!({"address": "Calle 2"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, _) = call(
        &w.app,
        Method::PATCH,
        &path,
        own,
        Some(&json!({"isActive": false})),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = call(
        &w.app,
        Method::PATCH,
        &path,
        own,
        Some(&json!({"isActive": true})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "sending the current value is fine");

    // A ventana without a login gets one on update, which needs a password.
    let mut conn = w.db.connect().await;
    sqlx::query("UPDATE users SET role = 'VENDEDOR' WHERE id = $1")
        .bind(w.a.ventana_users[1].user_id)
        .execute(&mut conn)
        .await
        .unwrap();
    let path2 = format!("/api/v1/ventanas/{}", w.a.ventanas[1]);
    let (s, v) = call(
        &w.app,
        Method::PATCH,
        &path2,
        admin,
        Some(&json!({"username": "nuevo_a2"})),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["details"][0]["field"], "password");
    let (s, v) = call(
        &w.app,
        Method::PATCH,
        &path2,
        admin,
        Some(&json!({"password": "clave-nueva-22"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        login(&w, "ventana_a2_va2", "clave-nueva-22").await,
        StatusCode::OK
    );
}

#[tokio::test]
async fn delete_closes_the_ventana_sessions_and_restore_reopens_it() {
    let w = fixtures::world().await;
    let a = &w.a;
    let id = a.ventanas[0];
    let path = format!("/api/v1/ventanas/{id}");
    let (s, v) = call(
        &w.app,
        Method::DELETE,
        &path,
        Some(&a.banca_user.token),
        Some(&json!({"reason": "cierre del local"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["isActive"], false);
    assert!(v["data"]["deletedAt"].is_string());
    // The ventana's users are signed out; the sibling ventana's are not.
    assert_eq!(
        me(&w, &a.ventana_users[0].token).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        me(&w, &a.vendedores[0].token).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(me(&w, &a.ventana_users[1].token).await, StatusCode::OK);
    assert_eq!(me(&w, &a.vendedores[1].token).await, StatusCode::OK);
    let mut conn = w.db.connect().await;
    let reasons: Vec<String> =
        sqlx::query_scalar("SELECT revoked_reason FROM auth_sessions WHERE revoked_at IS NOT NULL")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    assert_eq!(reasons, vec!["ventana_deactivated"; 2]);
    let logged = activity(&w, "VENTANA_DELETE", id).await;
    assert_eq!(logged[0]["reason"], "cierre del local");
    assert_eq!(logged[0]["revokedSessions"], 2);
    // Deleting again changes nothing.
    let (s, _) = call(&w.app, Method::DELETE, &path, Some(&w.admin.token), None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(activity(&w, "VENTANA_DELETE", id).await.len(), 1);

    // The banca still has an active ventana.
    let (s, _) = call(
        &w.app,
        Method::DELETE,
        &format!("/api/v1/bancas/{}", a.banca_id),
        Some(&w.admin.token),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);

    // Listed as inactive; a VENTANA may not restore; BANCA restores (idempotently).
    let (_, v) = call(
        &w.app,
        Method::GET,
        "/api/v1/ventanas?isActive=false",
        Some(&a.banca_user.token),
        None,
    )
    .await;
    assert_eq!(v["meta"]["total"], 1);
    let restore = format!("{path}/restore");
    let (s, _) = call(
        &w.app,
        Method::PATCH,
        &restore,
        Some(&a.ventana_users[1].token),
        Some(&json!({})),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    for _ in 0..2 {
        let (s, v) = call(
            &w.app,
            Method::PATCH,
            &restore,
            Some(&a.banca_user.token),
            Some(&json!({})),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["data"]["isActive"], true);
        assert!(v["data"]["deletedAt"].is_null());
    }
    assert_eq!(activity(&w, "VENTANA_RESTORE", id).await.len(), 1);
    let row = ventana_row(&w, id).await;
    assert!(row.2 && !row.3);
}

#[tokio::test]
async fn tenants_never_reach_each_others_ventanas() {
    let w = fixtures::world().await;
    let a = &w.a;
    let b1 = w.b.ventanas[0];
    let b_before = ventana_row(&w, b1).await;
    let a2_before = ventana_row(&w, a.ventanas[1]).await;
    let before = counts(&w).await;
    let policy = json!({"commissionPolicyJson": null});
    let patch = json!({"name": "Tomada"});

    // BANCA A, VENTANA A1: another tenant's ventana (and, for VENTANA, a sibling) is not found.
    let cases = [
        (&a.banca_user, vec![b1]),
        (&a.ventana_users[0], vec![b1, a.ventanas[1]]),
    ];
    for (user, targets) in cases {
        let t = Some(user.token.as_str());
        for target in targets {
            let p = format!("/api/v1/ventanas/{target}");
            for (m, path, body) in [
                (Method::GET, p.clone(), None),
                (Method::PATCH, p.clone(), Some(&patch)),
                (Method::PUT, p.clone(), Some(&patch)),
                (Method::DELETE, p.clone(), None),
                (Method::GET, format!("{p}/commission-policy"), None),
                (Method::PUT, format!("{p}/commission-policy"), Some(&policy)),
            ] {
                let (s, v) = call(&w.app, m.clone(), &path, t, body).await;
                // A listero may never delete ventanas or set policies (403); everything else
                // out of reach is not found.
                let role_refused = user.role == banca::domain::roles::Role::Ventana
                    && (m == Method::DELETE || (m == Method::PUT && path.ends_with("policy")));
                let (want, code) = if role_refused {
                    (StatusCode::FORBIDDEN, "FORBIDDEN")
                } else {
                    (StatusCode::NOT_FOUND, "NOT_FOUND")
                };
                assert_eq!(s, want, "{} {m} {path}: {v}", user.username);
                assert_eq!(v["code"], code);
            }
        }
    }
    let (s, _) = call(
        &w.app,
        Method::PATCH,
        &format!("/api/v1/ventanas/{b1}/restore"),
        Some(&a.banca_user.token),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // VENDEDOR A1: reads its own ventana only, changes nothing.
    let t = Some(a.vendedores[0].token.as_str());
    let (s, v) = call(
        &w.app,
        Method::GET,
        &format!("/api/v1/ventanas/{}", a.ventanas[0]),
        t,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    fixtures::assert_no_secrets(&v);
    for target in [a.ventanas[1], b1] {
        let (s, _) = call(
            &w.app,
            Method::GET,
            &format!("/api/v1/ventanas/{target}"),
            t,
            None,
        )
        .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
    }
    for (m, path, body) in [
        (
            Method::PATCH,
            format!("/api/v1/ventanas/{}", a.ventanas[0]),
            Some(&patch),
        ),
        (
            Method::DELETE,
            format!("/api/v1/ventanas/{}", a.ventanas[0]),
            None,
        ),
        (
            Method::PATCH,
            format!("/api/v1/ventanas/{b1}"),
            Some(&patch),
        ),
        (
            Method::GET,
            format!("/api/v1/ventanas/{}/commission-policy", a.ventanas[0]),
            None,
        ),
    ] {
        let (s, v) = call(&w.app, m.clone(), &path, t, body).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{m} {path}: {v}");
    }

    assert_eq!(ventana_row(&w, b1).await, b_before);
    assert_eq!(ventana_row(&w, a.ventanas[1]).await, a2_before);
    assert_eq!(counts(&w).await, before);
}

#[tokio::test]
async fn lists_are_scoped_paged_and_searchable() {
    let w = fixtures::world().await;
    let ids = |v: &Value| -> Vec<String> {
        v["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["id"].as_str().unwrap().to_string())
            .collect()
    };
    let a = &w.a;
    // VENTANA and VENDEDOR see only their own ventana.
    for user in [&a.ventana_users[0], &a.vendedores[0]] {
        let (s, v) = call(
            &w.app,
            Method::GET,
            "/api/v1/ventanas",
            Some(&user.token),
            None,
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(
            ids(&v),
            vec![a.ventanas[0].to_string()],
            "{}",
            user.username
        );
        assert_eq!(v["meta"]["total"], 1);
        fixtures::assert_no_secrets(&v);
    }
    // BANCA: its banca; another banca id is forbidden.
    let banca = Some(a.banca_user.token.as_str());
    let (_, v) = call(&w.app, Method::GET, "/api/v1/ventanas", banca, None).await;
    assert_eq!(
        ids(&v),
        vec![a.ventanas[1].to_string(), a.ventanas[0].to_string()]
    );
    assert_ventana_shape(&v["data"][0]);
    assert_eq!(
        v["meta"],
        json!({"total": 2, "page": 1, "pageSize": 10, "totalPages": 1, "hasNextPage": false, "hasPrevPage": false})
    );
    let (s, _) = call(
        &w.app,
        Method::GET,
        &format!("/api/v1/ventanas?bancaId={}", w.b.banca_id),
        banca,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // ADMIN: all, or one banca; paging and search.
    let admin = Some(w.admin.token.as_str());
    let (_, v) = call(&w.app, Method::GET, "/api/v1/ventanas?_=1", admin, None).await;
    assert_eq!(v["meta"]["total"], 4);
    let (_, v) = call(
        &w.app,
        Method::GET,
        &format!(
            "/api/v1/ventanas?bancaId={}&pageSize=1&page=2",
            w.b.banca_id
        ),
        admin,
        None,
    )
    .await;
    assert_eq!(ids(&v), vec![w.b.ventanas[0].to_string()]);
    assert_eq!(v["meta"]["totalPages"], 2);
    assert_eq!(v["meta"]["hasPrevPage"], true);
    let (_, v) = call(
        &w.app,
        Method::GET,
        "/api/v1/ventanas?search=vb2",
        admin,
        None,
    )
    .await;
    assert_eq!(ids(&v), vec![w.b.ventanas[1].to_string()]);
    let (_, v) = call(
        &w.app,
        Method::GET,
        "/api/v1/ventanas?isActive=false&bancaId=all",
        admin,
        None,
    )
    .await;
    assert_eq!(v["meta"]["total"], 0);
}

#[tokio::test]
async fn ventana_commission_policy_by_role() {
    let w = fixtures::world().await;
    let id = w.a.ventanas[0];
    let path = format!("/api/v1/ventanas/{id}/commission-policy");
    let policy = json!({"commissionPolicyJson": {
        "version": 1, "effectiveFrom": "2025-01-01T00:00:00Z", "effectiveTo": null,
        "defaultPercent": 3,
        "rules": [{"loteriaId": null, "betType": "REVENTADO", "multiplierRange": {"min": 0, "max": 0}, "percent": 2.5}],
    }});
    // The listero reads its policy but never sets it.
    let (s, _) = call(
        &w.app,
        Method::PUT,
        &path,
        Some(&w.a.ventana_users[0].token),
        Some(&policy),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    for user in [&w.a.banca_user, &w.admin] {
        let (s, v) = call(&w.app, Method::PUT, &path, Some(&user.token), Some(&policy)).await;
        assert_eq!(s, StatusCode::OK, "{}: {v}", user.username);
        assert_eq!(v["data"]["id"], id.to_string());
        assert_eq!(v["data"]["commissionPolicyJson"]["defaultPercent"], 3);
        let (s, v) = call(&w.app, Method::GET, &path, Some(&user.token), None).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(
            v["data"]["commissionPolicyJson"]["rules"][0]["percent"],
            json!(2.5)
        );
    }
    assert_eq!(activity(&w, "VENTANA_UPDATE", id).await.len(), 2);
    let (s, _) = call(
        &w.app,
        Method::GET,
        &path,
        Some(&w.a.ventana_users[0].token),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let before = counts(&w).await;
    let (s, v) = call(
        &w.app,
        Method::PUT,
        &path,
        Some(&w.admin.token),
        Some(&json!({"commissionPolicyJson": {"version": 1, "effectiveFrom": null, "effectiveTo": null, "defaultPercent": 1.005, "rules": []}})),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(
        v["details"][0]["field"],
        "commissionPolicyJson.defaultPercent"
    );
    let (s, _) = call(
        &w.app,
        Method::PUT,
        &path,
        Some(&w.a.vendedores[0].token),
        Some(&policy),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(counts(&w).await, before);
}
