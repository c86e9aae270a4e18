//! bancas API tests: CRUD as ADMIN and BANCA, conflicts, validation (nothing written),
//! tenant isolation, vendor-limit revocation and the banca commission policy.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::fixtures::{self, call, World};

async fn count(w: &World, sql: &str) -> i64 {
    let mut conn = w.db.connect().await;
    sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap()
}

/// Rows that validation failures must leave untouched.
async fn counts(w: &World) -> (i64, i64, i64, i64) {
    (
        count(w, "SELECT count(*) FROM bancas").await,
        count(w, "SELECT count(*) FROM users").await,
        count(w, "SELECT count(*) FROM user_bancas").await,
        count(w, "SELECT count(*) FROM activity_logs").await,
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

async fn banca_row(w: &World, id: Uuid) -> (String, String, Option<String>, bool) {
    let mut conn = w.db.connect().await;
    sqlx::query_as("SELECT name, code, phone, is_active FROM bancas WHERE id = $1")
        .bind(id)
        .fetch_one(&mut conn)
        .await
        .unwrap()
}

fn id_of(v: &Value) -> Uuid {
    Uuid::parse_str(v["data"]["id"].as_str().expect("data.id")).unwrap()
}

/// The fields the client reads, with their JSON types.
fn assert_banca_shape(b: &Value) {
    for k in ["id", "name", "code", "createdAt", "updatedAt"] {
        assert!(b[k].is_string(), "{k} should be a string: {b}");
    }
    assert!(b["isActive"].is_boolean(), "{b}");
    for k in [
        "defaultMinBet",
        "globalMaxPerNumber",
        "salesCutoffMinutes",
        "maxSessionsPerVendedor",
    ] {
        assert!(b[k].is_number(), "{k} should be a number: {b}");
    }
    for k in ["email", "phone", "address", "vendorLimit", "deletedAt"] {
        assert!(b.get(k).is_some(), "{k} missing: {b}");
    }
    assert!(b.get("commissionPolicyJson").is_none());
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

#[tokio::test]
async fn admin_creates_updates_deletes_and_restores_a_banca() {
    let w = fixtures::world().await;
    let admin = Some(w.admin.token.as_str());
    let (s, v) = call(
        &w.app,
        Method::POST,
        "/api/v1/bancas",
        admin,
        Some(&json!({
            "name": "  Banca Norte ",
            "code": "bn-01",
            "email": "Norte@Example.com",
            "address": "San José",
            "phone": "(506) 2222-3333",
            "defaultMinBet": 150.5,
            "globalMaxPerNumber": 8000,
            "salesCutoffMinutes": 5,
            "vendorLimit": 10,
            "maxSessionsPerVendedor": 3,
            "username": "admin-norte",
            "password": "clave-segura-1",
            "confirmPassword": "clave-segura-1",
        })),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    fixtures::assert_no_secrets(&v);
    let b = &v["data"];
    assert_banca_shape(b);
    assert_eq!(b["name"], "Banca Norte");
    assert_eq!(b["code"], "BN-01");
    assert_eq!(b["email"], "norte@example.com");
    assert_eq!(b["defaultMinBet"], json!(150.5));
    assert_eq!(b["globalMaxPerNumber"], json!(8000.0));
    assert_eq!(b["salesCutoffMinutes"], 5);
    assert_eq!(b["vendorLimit"], 10);
    assert_eq!(b["maxSessionsPerVendedor"], 3);
    assert_eq!(b["isActive"], true);
    assert_eq!(v["meta"]["userCreated"], true);
    assert_eq!(v["meta"]["username"], "admin-norte");
    let id = id_of(&v);

    // The BANCA login exists, is linked as default and can sign in.
    let mut conn = w.db.connect().await;
    let (role, name, default): (String, String, bool) = sqlx::query_as(
        "SELECT u.role::text, u.name, ub.is_default FROM users u
         JOIN user_bancas ub ON ub.user_id = u.id WHERE u.username = 'admin-norte' AND ub.banca_id = $1",
    )
    .bind(id)
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(
        (role.as_str(), name.as_str(), default),
        ("BANCA", "Admin Banca Norte", true)
    );
    assert_eq!(
        login(&w, "admin-norte", "clave-segura-1").await,
        StatusCode::OK
    );
    let created = activity(&w, "BANCA_CREATE", id).await;
    assert_eq!(created.len(), 1);
    assert_eq!(created[0]["username"], "admin-norte");
    fixtures::assert_no_secrets(&created[0]);

    // Defaults when the optional columns are absent.
    let (s, v2) = call(
        &w.app,
        Method::POST,
        "/api/v1/bancas",
        admin,
        Some(&json!({ "name": "Banca Sur", "code": "BS" })),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v2}");
    assert_eq!(v2["data"]["defaultMinBet"], json!(100.0));
    assert_eq!(v2["data"]["globalMaxPerNumber"], json!(5000.0));
    assert_eq!(v2["data"]["salesCutoffMinutes"], 1);
    assert_eq!(v2["data"]["maxSessionsPerVendedor"], 1);
    assert!(v2["data"]["vendorLimit"].is_null());
    assert!(v2.get("meta").is_none());

    // PATCH and PUT are partial; isActive in the body is ignored.
    let path = format!("/api/v1/bancas/{id}");
    let (s, v) = call(
        &w.app,
        Method::PATCH,
        &path,
        admin,
        Some(&json!({ "name": "Banca Norte 2", "isActive": false, "phone": null, "defaultMinBet": 200 })),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["name"], "Banca Norte 2");
    assert_eq!(v["data"]["isActive"], true);
    assert!(v["data"]["phone"].is_null());
    assert_eq!(v["data"]["code"], "BN-01");
    assert_eq!(v["data"]["defaultMinBet"], json!(200.0));
    let (s, v) = call(
        &w.app,
        Method::PUT,
        &path,
        admin,
        Some(&json!({ "salesCutoffMinutes": 7 })),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["salesCutoffMinutes"], 7);
    assert_eq!(v["data"]["name"], "Banca Norte 2");
    let updates = activity(&w, "BANCA_UPDATE", id).await;
    assert_eq!(updates.len(), 2);
    assert_eq!(
        updates[0]["fields"],
        json!(["name", "phone", "defaultMinBet"])
    );

    let (s, v) = call(&w.app, Method::GET, &path, admin, None).await;
    assert_eq!(s, StatusCode::OK);
    assert_banca_shape(&v["data"]);

    // Delete: soft, with the reason recorded; the list still shows it to ADMIN.
    let (s, v) = call(
        &w.app,
        Method::DELETE,
        &path,
        admin,
        Some(&json!({ "reason": "cierre temporal" })),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["isActive"], false);
    assert!(v["data"]["deletedAt"].is_string());
    let (by, reason): (String, String) =
        sqlx::query_as("SELECT deleted_by, deleted_reason FROM bancas WHERE id = $1")
            .bind(id)
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!(
        (by, reason.as_str()),
        (w.admin.user_id.to_string(), "cierre temporal")
    );
    let (_, inactive) = call(
        &w.app,
        Method::GET,
        "/api/v1/bancas?isActive=false",
        admin,
        None,
    )
    .await;
    let ids: Vec<&str> = inactive["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![id.to_string().as_str()]);
    // Deleting again is a no-op.
    let (s, _) = call(&w.app, Method::DELETE, &path, admin, None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(activity(&w, "BANCA_DELETE", id).await.len(), 1);

    // Restore (idempotent).
    let restore = format!("{path}/restore");
    let (s, v) = call(&w.app, Method::PATCH, &restore, admin, Some(&json!({}))).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["isActive"], true);
    assert!(v["data"]["deletedAt"].is_null());
    let (s, _) = call(&w.app, Method::PATCH, &restore, admin, None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(activity(&w, "BANCA_RESTORE", id).await.len(), 1);
}

#[tokio::test]
async fn list_pages_searches_and_filters() {
    let w = fixtures::world().await;
    let admin = Some(w.admin.token.as_str());
    let (s, v) = call(
        &w.app,
        Method::GET,
        "/api/v1/bancas?page=1&pageSize=1&_=123",
        admin,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["data"].as_array().unwrap().len(), 1);
    // Newest first.
    assert_eq!(v["data"][0]["id"], w.b.banca_id.to_string());
    assert_banca_shape(&v["data"][0]);
    assert_eq!(
        v["meta"],
        json!({"total": 2, "page": 1, "pageSize": 1, "totalPages": 2, "hasNextPage": true, "hasPrevPage": false})
    );
    let (_, v) = call(&w.app, Method::GET, "/api/v1/bancas?search=ba", admin, None).await;
    assert_eq!(v["meta"]["total"], 2);
    let (_, v) = call(
        &w.app,
        Method::GET,
        "/api/v1/bancas?search=banca%20a",
        admin,
        None,
    )
    .await;
    assert_eq!(v["meta"]["total"], 1);
    assert_eq!(v["data"][0]["id"], w.a.banca_id.to_string());
    let (_, v) = call(
        &w.app,
        Method::GET,
        "/api/v1/bancas?search=%25%25",
        admin,
        None,
    )
    .await;
    assert_eq!(v["meta"]["total"], 0, "% is matched literally");
    let (_, v) = call(
        &w.app,
        Method::GET,
        "/api/v1/bancas?isActive=true",
        admin,
        None,
    )
    .await;
    assert_eq!(v["meta"]["total"], 2);
    let (_, v) = call(
        &w.app,
        Method::GET,
        "/api/v1/bancas?isActive=false",
        admin,
        None,
    )
    .await;
    assert_eq!(v["meta"]["total"], 0);

    for bad in [
        "pageSize=101",
        "page=0",
        "isActive=maybe",
        "search=a",
        "bogus=1",
        "page=x",
    ] {
        let (s, v) = call(
            &w.app,
            Method::GET,
            &format!("/api/v1/bancas?{bad}"),
            admin,
            None,
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}: {v}");
        assert_eq!(v["code"], "VALIDATION_ERROR", "{bad}");
        assert!(
            v["details"].as_array().is_some_and(|d| !d.is_empty()),
            "{bad}: {v}"
        );
    }
}

#[tokio::test]
async fn conflicts_answer_409_and_write_nothing() {
    let w = fixtures::world().await;
    let admin = Some(w.admin.token.as_str());
    let before = counts(&w).await;
    for (body, code, field) in [
        (
            json!({"name": "Banca A", "code": "NEW1"}),
            "BANCA_EXISTS",
            "name",
        ),
        (
            json!({"name": "Banca Nueva", "code": "ba"}),
            "BANCA_EXISTS",
            "code",
        ),
        (
            json!({"name": "Banca Nueva", "code": "NEW2", "username": "banca.a", "password": "clave-segura-1"}),
            "USERNAME_EXISTS",
            "username",
        ),
        (
            json!({"name": "Banca Nueva", "code": "NEW3", "username": "BANCA.A", "password": "clave-segura-1"}),
            "USERNAME_EXISTS",
            "username",
        ),
    ] {
        let (s, v) = call(&w.app, Method::POST, "/api/v1/bancas", admin, Some(&body)).await;
        assert_eq!(s, StatusCode::CONFLICT, "{body}: {v}");
        assert_eq!(v["code"], code);
        assert_eq!(v["details"][0]["field"], field);
    }
    let (s, v) = call(
        &w.app,
        Method::PATCH,
        &format!("/api/v1/bancas/{}", w.b.banca_id),
        admin,
        Some(&json!({"code": "BA"})),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["code"], "BANCA_EXISTS");
    assert_eq!(counts(&w).await, before);
    let mut conn = w.db.connect().await;
    let code: String = sqlx::query_scalar("SELECT code FROM bancas WHERE id = $1")
        .bind(w.b.banca_id)
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(code, "BB");
}

#[tokio::test]
async fn validation_errors_are_400_with_details_and_write_nothing() {
    let w = fixtures::world().await;
    let admin = Some(w.admin.token.as_str());
    let before = counts(&w).await;
    let long = "x".repeat(101);
    for (body, field) in [
        (json!({"code": "XX"}), "name"),
        (json!({"name": 123, "code": "XX"}), "name"),
        (json!({"name": long, "code": "XX"}), "name"),
        (json!({"name": "Banca X", "code": "X"}), "code"),
        (json!({"name": "Banca X", "code": "XX", "nope": 1}), "nope"),
        (
            json!({"name": "Banca X", "code": "XX", "email": "no-es-correo"}),
            "email",
        ),
        (
            json!({"name": "Banca X", "code": "XX", "phone": "1".repeat(21)}),
            "phone",
        ),
        (
            json!({"name": "Banca X", "code": "XX", "defaultMinBet": -5}),
            "defaultMinBet",
        ),
        (
            json!({"name": "Banca X", "code": "XX", "defaultMinBet": 1.234}),
            "defaultMinBet",
        ),
        (
            json!({"name": "Banca X", "code": "XX", "globalMaxPerNumber": 1e15}),
            "globalMaxPerNumber",
        ),
        (
            json!({"name": "Banca X", "code": "XX", "maxSessionsPerVendedor": 21}),
            "maxSessionsPerVendedor",
        ),
        (
            json!({"name": "Banca X", "code": "XX", "salesCutoffMinutes": -1}),
            "salesCutoffMinutes",
        ),
        (
            json!({"name": "Banca X", "code": "XX", "isActive": "yes"}),
            "isActive",
        ),
        (
            json!({"name": "Banca X", "code": "XX", "username": "nuevo-admin"}),
            "password",
        ),
        (
            json!({"name": "Banca X", "code": "XX", "username": "nuevo-admin", "password": "corta"}),
            "password",
        ),
        (
            json!({"name": "Banca X", "code": "XX", "username": "nuevo-admin", "password": "clave-segura-1", "confirmPassword": "otra-clave-22"}),
            "confirmPassword",
        ),
    ] {
        let (s, v) = call(&w.app, Method::POST, "/api/v1/bancas", admin, Some(&body)).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{body}: {v}");
        assert_eq!(v["code"], "VALIDATION_ERROR", "{body}: {v}");
        let details = v["details"].as_array().expect("details");
        assert!(
            details
                .iter()
                .any(|d| d["field"].as_str().unwrap_or("").contains(field)
                    || d["issue"].as_str().unwrap_or("").contains(field)),
            "{field} not named in {v}"
        );
        for d in details {
            assert!(d["code"].is_string() && d["issue"].is_string(), "{d}");
        }
    }
    // Missing fields are all reported at once.
    let (_, v) = call(
        &w.app,
        Method::POST,
        "/api/v1/bancas",
        admin,
        Some(&json!({})),
    )
    .await;
    let fields: Vec<&str> = v["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, vec!["name", "code"]);

    let path = format!("/api/v1/bancas/{}", w.a.banca_id);
    for body in [
        json!({"name": "x"}),
        json!({"username": "otro-user"}),
        json!({"vendorLimit": -1}),
        json!({"email": 5}),
    ] {
        let (s, v) = call(&w.app, Method::PATCH, &path, admin, Some(&body)).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{body}: {v}");
        assert_eq!(v["code"], "VALIDATION_ERROR");
    }
    let (s, v) = call(
        &w.app,
        Method::DELETE,
        &path,
        admin,
        Some(&json!({"reason": "no"})),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let (s, v) = call(
        &w.app,
        Method::GET,
        "/api/v1/bancas/not-a-uuid",
        admin,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["details"][0]["field"], "id");
    let (s, _) = call(
        &w.app,
        Method::GET,
        &format!("/api/v1/bancas/{}", Uuid::new_v4()),
        admin,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // Malformed JSON.
    let res = w
        .app
        .client
        .post(w.app.url("/api/v1/bancas"))
        .bearer_auth(&w.admin.token)
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(counts(&w).await, before);
}

#[tokio::test]
async fn banca_ventana_and_vendedor_users_stay_in_their_tenant() {
    let w = fixtures::world().await;
    let a = &w.a;
    let b_path = format!("/api/v1/bancas/{}", w.b.banca_id);
    let a_path = format!("/api/v1/bancas/{}", a.banca_id);
    let before = counts(&w).await;
    let b_before = banca_row(&w, w.b.banca_id).await;

    // BANCA A: its own banca yes, banca B is not found.
    let banca = Some(a.banca_user.token.as_str());
    let (s, v) = call(&w.app, Method::GET, &a_path, banca, None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, _) = call(&w.app, Method::GET, &b_path, banca, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = call(
        &w.app,
        Method::PATCH,
        &b_path,
        banca,
        Some(&json!({"phone": "1"})),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = call(
        &w.app,
        Method::PUT,
        &b_path,
        banca,
        Some(&json!({"name": "Robada"})),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // ADMIN-only actions are forbidden to BANCA.
    let create = json!({"name": "Otra", "code": "OT"});
    let no_policy = json!({"commissionPolicyJson": null});
    for (m, p, body) in [
        (Method::DELETE, b_path.clone(), None),
        (Method::DELETE, a_path.clone(), None),
        (Method::PATCH, format!("{b_path}/restore"), None),
        (Method::GET, format!("{a_path}/commission-policy"), None),
        (
            Method::PUT,
            format!("{a_path}/commission-policy"),
            Some(&no_policy),
        ),
        (Method::POST, "/api/v1/bancas".to_string(), Some(&create)),
    ] {
        let (s, v) = call(&w.app, m.clone(), &p, banca, body).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{m} {p}: {v}");
        assert_eq!(v["code"], "FORBIDDEN");
    }
    // Only ADMIN changes the vendor limit.
    let (s, _) = call(
        &w.app,
        Method::PATCH,
        &a_path,
        banca,
        Some(&json!({"vendorLimit": 99})),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // A BANCA user may update its own banca.
    let (s, v) = call(
        &w.app,
        Method::PATCH,
        &a_path,
        banca,
        Some(&json!({"phone": "8888-0000"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["phone"], "8888-0000");
    let (_, v) = call(&w.app, Method::GET, "/api/v1/bancas", banca, None).await;
    assert_eq!(v["meta"]["total"], 1);
    assert_eq!(v["data"][0]["id"], a.banca_id.to_string());

    // VENTANA and VENDEDOR: read only their own banca; no writes at all.
    for user in [&a.ventana_users[0], &a.vendedores[1]] {
        let t = Some(user.token.as_str());
        let (s, v) = call(&w.app, Method::GET, &a_path, t, None).await;
        assert_eq!(s, StatusCode::OK, "{}: {v}", user.username);
        fixtures::assert_no_secrets(&v);
        let (s, _) = call(&w.app, Method::GET, &b_path, t, None).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{}", user.username);
        let (_, v) = call(&w.app, Method::GET, "/api/v1/bancas", t, None).await;
        assert_eq!(v["meta"]["total"], 1, "{}: {v}", user.username);
        assert_eq!(v["data"][0]["id"], a.banca_id.to_string());
        for (m, p) in [
            (Method::PATCH, a_path.clone()),
            (Method::PATCH, b_path.clone()),
            (Method::DELETE, b_path.clone()),
            (Method::PATCH, format!("{b_path}/restore")),
        ] {
            let (s, v) = call(&w.app, m.clone(), &p, t, Some(&json!({}))).await;
            assert_eq!(s, StatusCode::FORBIDDEN, "{} {m} {p}: {v}", user.username);
        }
    }
    let (_, v) = call(
        &w.app,
        Method::GET,
        "/api/v1/bancas",
        Some(&w.admin.token),
        None,
    )
    .await;
    assert_eq!(v["meta"]["total"], 2);

    assert_eq!(banca_row(&w, w.b.banca_id).await, b_before);
    let after = counts(&w).await;
    assert_eq!((after.0, after.1, after.2), (before.0, before.1, before.2));
    assert_eq!(after.3, before.3 + 1, "only BANCA A's own update is logged");
}

#[tokio::test]
async fn delete_refuses_a_banca_with_active_ventanas() {
    let w = fixtures::world().await;
    let (s, v) = call(
        &w.app,
        Method::DELETE,
        &format!("/api/v1/bancas/{}", w.a.banca_id),
        Some(&w.admin.token),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["code"], "BANCA_HAS_ACTIVE_VENTANAS");
    assert_eq!(
        count(
            &w,
            "SELECT count(*) FROM bancas WHERE is_active AND deleted_at IS NULL"
        )
        .await,
        2
    );
}

#[tokio::test]
async fn a_tighter_vendor_limit_closes_the_banca_vendedor_sessions() {
    let w = fixtures::world().await;
    let me = |t: &str| {
        let t = t.to_string();
        let app = &w.app;
        async move {
            call(app, Method::GET, "/api/v1/auth/me", Some(&t), None)
                .await
                .0
        }
    };
    let path = format!("/api/v1/bancas/{}", w.a.banca_id);
    let admin = Some(w.admin.token.as_str());
    // Raising from "no limit" to a number is a tightening.
    let (s, v) = call(
        &w.app,
        Method::PATCH,
        &path,
        admin,
        Some(&json!({"vendorLimit": 5})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    for v in &w.a.vendedores {
        assert_eq!(me(&v.token).await, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(me(&w.a.ventana_users[0].token).await, StatusCode::OK);
    assert_eq!(me(&w.b.vendedores[0].token).await, StatusCode::OK);
    let mut conn = w.db.connect().await;
    let reasons: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT revoked_reason FROM auth_sessions WHERE revoked_at IS NOT NULL",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert_eq!(reasons, vec!["vendor_limit_reduced".to_string()]);
    let logged = activity(&w, "BANCA_UPDATE", w.a.banca_id).await;
    assert_eq!(logged[0]["revokedSessions"], 2);
    assert_eq!(logged[0]["vendorLimit"], json!({"from": null, "to": 5}));

    // A looser limit closes nothing.
    let fresh = fixtures::session_for(
        &w.app,
        w.a.vendedores[0].user_id,
        w.a.vendedores[0].role,
        &w.a.vendedores[0].username,
    )
    .await;
    let (s, _) = call(
        &w.app,
        Method::PATCH,
        &path,
        admin,
        Some(&json!({"vendorLimit": 8})),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(me(&fresh.token).await, StatusCode::OK);
}

#[tokio::test]
async fn commission_policy_round_trip() {
    let w = fixtures::world().await;
    let admin = Some(w.admin.token.as_str());
    let path = format!("/api/v1/bancas/{}/commission-policy", w.a.banca_id);
    let (s, v) = call(&w.app, Method::GET, &path, admin, None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(v["data"]["commissionPolicyJson"].is_null());
    assert_eq!(v["data"]["code"], "BA");

    let loteria = Uuid::new_v4();
    let policy = json!({
        "version": 1,
        "effectiveFrom": null,
        "effectiveTo": null,
        "defaultPercent": 7.5,
        "rules": [
            {"loteriaId": loteria, "betType": "NUMERO", "multiplierRange": {"min": 90, "max": 90}, "percent": 10, "multiplier": {"id": "x"}},
            {"id": "regla-2", "loteriaId": null, "betType": null, "multiplierRange": {"min": 80, "max": 80}, "percent": 5.25},
        ],
    });
    let (s, v) = call(
        &w.app,
        Method::PUT,
        &path,
        admin,
        Some(&json!({ "commissionPolicyJson": policy })),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let stored = &v["data"]["commissionPolicyJson"];
    assert!(Uuid::parse_str(stored["rules"][0]["id"].as_str().unwrap()).is_ok());
    assert!(stored["rules"][0].get("multiplier").is_none());
    assert_eq!(stored["rules"][1]["id"], "regla-2");
    let (_, again) = call(&w.app, Method::GET, &path, admin, None).await;
    assert_eq!(&again["data"]["commissionPolicyJson"], stored);
    let logged = activity(&w, "BANCA_UPDATE", w.a.banca_id).await;
    assert_eq!(logged[0]["fields"], json!(["commissionPolicyJson"]));

    // Invalid policies are refused with every problem named, and nothing changes.
    let before = counts(&w).await;
    let (s, v) = call(
        &w.app,
        Method::PUT,
        &path,
        admin,
        Some(&json!({"commissionPolicyJson": {
            "version": 1, "effectiveFrom": null, "effectiveTo": null, "defaultPercent": 101,
            "rules": [{"loteriaId": null, "betType": "PALE", "multiplierRange": {"min": 1, "max": 2}, "percent": 5}],
        }})),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let fields: Vec<&str> = v["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        vec![
            "commissionPolicyJson.defaultPercent",
            "commissionPolicyJson.rules.0.betType",
            "commissionPolicyJson.rules.0.multiplierRange.min",
        ]
    );
    for bad in [
        json!({}),
        json!({"commissionPolicyJson": null, "x": 1}),
        json!({"commissionPolicyJson": 5}),
    ] {
        let (s, v) = call(&w.app, Method::PUT, &path, admin, Some(&bad)).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}: {v}");
    }
    assert_eq!(counts(&w).await, before);
    let (_, again) = call(&w.app, Method::GET, &path, admin, None).await;
    assert_eq!(&again["data"]["commissionPolicyJson"], stored);

    // null removes it; unknown banca is 404.
    let (s, v) = call(
        &w.app,
        Method::PUT,
        &path,
        admin,
        Some(&json!({"commissionPolicyJson": null})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(v["data"]["commissionPolicyJson"].is_null());
    let (s, _) = call(
        &w.app,
        Method::GET,
        &format!("/api/v1/bancas/{}/commission-policy", Uuid::new_v4()),
        admin,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}
