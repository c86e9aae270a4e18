//! The isolation matrix: every person of banca A tries every route against every object of
//! banca B. Each attempt must be refused (403 or 404), and nothing in the database may change;
//! lists must not show B's objects. Later issues add their routes to `targeted_cases` and
//! `list_cases`.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::fixtures::{self, call, Login, Tenant, World};

/// One request aimed at an object of the victim tenant.
struct Case {
    method: Method,
    path: String,
    body: Option<Value>,
}

fn case(method: Method, path: String, body: Option<Value>) -> Case {
    Case { method, path, body }
}

/// Every route of the identity issue that names one of `v`'s objects, with a valid body.
fn targeted_cases(v: &Tenant, v_session: &Login) -> Vec<Case> {
    use Method as M;
    let b = v.banca_id;
    let mut cases = vec![
        case(M::GET, format!("/api/v1/bancas/{b}"), None),
        case(
            M::PUT,
            format!("/api/v1/bancas/{b}"),
            Some(json!({ "name": "Tomada" })),
        ),
        case(
            M::PATCH,
            format!("/api/v1/bancas/{b}"),
            Some(json!({ "name": "Tomada" })),
        ),
        case(M::DELETE, format!("/api/v1/bancas/{b}"), None),
        case(M::PATCH, format!("/api/v1/bancas/{b}/restore"), None),
        case(
            M::GET,
            format!("/api/v1/bancas/{b}/commission-policy"),
            None,
        ),
        case(
            M::PUT,
            format!("/api/v1/bancas/{b}/commission-policy"),
            Some(json!({ "commissionPolicyJson": null })),
        ),
        case(
            M::POST,
            "/api/v1/auth/set-active-banca".into(),
            Some(json!({ "bancaId": b })),
        ),
        case(
            M::POST,
            "/api/v1/ventanas".into(),
            Some(
                json!({ "bancaId": b, "name": "Intrusa", "code": "INTR", "username": "intrusa", "password": "clave-intrusa-1" }),
            ),
        ),
        case(
            M::DELETE,
            format!("/api/v1/auth/sessions/{}", v_session.session_id),
            None,
        ),
    ];
    for ventana in v.ventanas {
        cases.extend([
            case(M::GET, format!("/api/v1/ventanas/{ventana}"), None),
            case(M::PUT, format!("/api/v1/ventanas/{ventana}"), Some(json!({ "name": "Tomada" }))),
            case(M::PATCH, format!("/api/v1/ventanas/{ventana}"), Some(json!({ "name": "Tomada" }))),
            case(M::DELETE, format!("/api/v1/ventanas/{ventana}"), None),
            case(M::PATCH, format!("/api/v1/ventanas/{ventana}/restore"), None),
            case(M::GET, format!("/api/v1/ventanas/{ventana}/commission-policy"), None),
            case(M::PUT, format!("/api/v1/ventanas/{ventana}/commission-policy"), Some(json!({ "commissionPolicyJson": null }))),
            case(
                M::POST,
                "/api/v1/users".into(),
                Some(json!({ "name": "Intruso", "username": "intruso.x", "password": "clave-intrusa-1", "role": "VENDEDOR", "ventanaId": ventana })),
            ),
            case(
                M::POST,
                "/api/v1/vendedores".into(),
                Some(json!({ "ventanaId": ventana, "code": "INT1", "name": "Intruso", "username": "intruso.y", "password": "clave-intrusa-1" })),
            ),
            case(
                M::POST,
                "/api/v1/auth/register".into(),
                Some(json!({ "name": "Intruso", "username": "intruso.z", "password": "clave-intrusa-1", "role": "VENDEDOR", "ventanaId": ventana })),
            ),
        ]);
    }
    for u in v.logins() {
        let id = u.user_id;
        cases.extend([
            case(M::GET, format!("/api/v1/users/{id}"), None),
            case(
                M::PATCH,
                format!("/api/v1/users/{id}"),
                Some(json!({ "name": "Tomado" })),
            ),
            case(M::DELETE, format!("/api/v1/users/{id}"), None),
            case(M::PATCH, format!("/api/v1/users/{id}/restore"), None),
            case(M::GET, format!("/api/v1/users/{id}/bancas"), None),
            case(
                M::POST,
                format!("/api/v1/users/{id}/bancas"),
                Some(json!({ "bancaId": b })),
            ),
            case(
                M::PATCH,
                format!("/api/v1/users/{id}/bancas/{b}/default"),
                None,
            ),
            case(M::DELETE, format!("/api/v1/users/{id}/bancas/{b}"), None),
            case(
                M::GET,
                format!("/api/v1/users/{id}/commission-policy"),
                None,
            ),
            case(
                M::PUT,
                format!("/api/v1/users/{id}/commission-policy"),
                Some(json!({ "commissionPolicyJson": null })),
            ),
            case(M::GET, format!("/api/v1/auth/sessions/user/{id}"), None),
        ]);
    }
    for s in &v.vendedores {
        let id = s.user_id;
        cases.extend([
            case(M::GET, format!("/api/v1/vendedores/{id}"), None),
            case(
                M::PUT,
                format!("/api/v1/vendedores/{id}"),
                Some(json!({ "name": "Tomado" })),
            ),
            case(
                M::PATCH,
                format!("/api/v1/vendedores/{id}"),
                Some(json!({ "name": "Tomado" })),
            ),
            case(M::DELETE, format!("/api/v1/vendedores/{id}"), None),
            case(M::PATCH, format!("/api/v1/vendedores/{id}/restore"), None),
        ]);
    }
    cases
}

/// List routes: they may answer, but never with the victim's objects.
fn list_cases(v: &Tenant) -> Vec<String> {
    let b = v.banca_id;
    let ventana = v.ventanas[0];
    vec![
        "/api/v1/bancas?pageSize=100".into(),
        "/api/v1/ventanas?pageSize=100".into(),
        format!("/api/v1/users?pageSize=1000&bancaId={b}"),
        format!("/api/v1/users?pageSize=1000&ventanaId={ventana}"),
        format!("/api/v1/vendedores?pageSize=100&ventanaId={ventana}"),
        "/api/v1/activity-logs?pageSize=100".into(),
        format!("/api/v1/activity-logs/user/{}", v.vendedores[0].user_id),
        format!("/api/v1/activity-logs/target/BANCA/{b}"),
        "/api/v1/activity-logs/action/BANCA_UPDATE".into(),
        format!("/api/v1/ventanas?pageSize=100&bancaId={b}"),
        "/api/v1/users?pageSize=1000".into(),
        "/api/v1/users?pageSize=1000&role=BANCA".into(),
        "/api/v1/vendedores?pageSize=100".into(),
        "/api/v1/auth/me".into(),
    ]
}

/// Requests on the attacker's own objects that name the victim's objects in the body: they
/// must be refused (400, 403 or 404) and change nothing.
fn body_cases(own: &Tenant, v: &Tenant) -> Vec<Case> {
    use Method as M;
    let b = v.banca_id;
    let vb = v.ventanas[0];
    let mut cases = Vec::new();
    for u in own.logins() {
        cases.push(case(
            M::PATCH,
            format!("/api/v1/users/{}", u.user_id),
            Some(json!({ "ventanaId": vb })),
        ));
        cases.push(case(
            M::PATCH,
            format!("/api/v1/users/{}", u.user_id),
            Some(json!({ "bancaId": b })),
        ));
    }
    for s in &own.vendedores {
        cases.push(case(
            M::PATCH,
            format!("/api/v1/vendedores/{}", s.user_id),
            Some(json!({ "ventanaId": vb })),
        ));
    }
    cases.extend([
        case(M::POST, format!("/api/v1/users/{}/bancas", own.banca_user.user_id), Some(json!({ "bancaId": b }))),
        case(
            M::POST,
            "/api/v1/users".into(),
            Some(json!({ "name": "Intruso", "username": "intruso.w", "password": "clave-intrusa-1", "role": "BANCA", "bancaIds": [b] })),
        ),
        case(
            M::POST,
            "/api/v1/users".into(),
            Some(json!({ "name": "Intruso", "username": "intruso.v", "password": "clave-intrusa-1", "role": "VENDEDOR", "ventanaId": vb, "bancaId": b })),
        ),
    ]);
    cases
}

/// A digest of every row the identity routes can change.
async fn snapshot(w: &World) -> String {
    let mut conn = w.db.connect().await;
    let mut out = String::new();
    for table in [
        "bancas",
        "ventanas",
        "users",
        "user_bancas",
        "auth_sessions",
        "refresh_tokens",
    ] {
        let digest: Option<String> = sqlx::query_scalar(&format!(
            "SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM {table} t"
        ))
        .fetch_one(&mut conn)
        .await
        .unwrap();
        out.push_str(&format!("{table}:{}\n", digest.unwrap_or_default()));
    }
    out
}

fn ids_of(t: &Tenant) -> Vec<String> {
    let mut ids = vec![t.banca_id.to_string()];
    ids.extend(t.ventanas.iter().map(|v| v.to_string()));
    ids.extend(t.logins().iter().map(|l| l.user_id.to_string()));
    ids
}

#[tokio::test]
async fn no_one_in_banca_a_reaches_banca_b() {
    let w = fixtures::world().await;
    // Give B some activity to look at.
    let (s, _) = call(
        &w.app,
        Method::PATCH,
        &format!("/api/v1/bancas/{}", w.b.banca_id),
        Some(&w.admin.token),
        Some(&json!({ "address": "San José" })),
    )
    .await;
    assert_eq!(s, 200);
    let victim_session = w.b.vendedores[0].clone();
    let b_entry: uuid::Uuid = {
        let mut conn = w.db.connect().await;
        sqlx::query_scalar("SELECT id FROM activity_logs WHERE banca_id = $1 LIMIT 1")
            .bind(w.b.banca_id)
            .fetch_one(&mut conn)
            .await
            .unwrap()
    };
    let before = snapshot(&w).await;
    let b_ids = ids_of(&w.b);
    let mut failures = Vec::new();

    for attacker in w.a.logins() {
        let mut targeted = targeted_cases(&w.b, &victim_session);
        targeted.push(case(
            Method::GET,
            format!("/api/v1/activity-logs/{b_entry}"),
            None,
        ));
        for c in targeted {
            let (status, body) = call(
                &w.app,
                c.method.clone(),
                &c.path,
                Some(&attacker.token),
                c.body.as_ref(),
            )
            .await;
            if !matches!(status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND) {
                failures.push(format!(
                    "{:?} {} {} as {} → {status}: {body}",
                    attacker.role, c.method, c.path, attacker.username
                ));
            } else if body["code"].as_str().is_none() {
                failures.push(format!(
                    "{} {} as {}: refusal without a code: {body}",
                    c.method, c.path, attacker.username
                ));
            }
        }
        for path in list_cases(&w.b) {
            let (status, body) =
                call(&w.app, Method::GET, &path, Some(&attacker.token), None).await;
            match status {
                StatusCode::OK => {
                    let text = body["data"].to_string();
                    for id in &b_ids {
                        if text.contains(id.as_str()) {
                            failures.push(format!(
                                "GET {path} as {} shows B's {id}",
                                attacker.username
                            ));
                        }
                    }
                }
                StatusCode::FORBIDDEN | StatusCode::NOT_FOUND => {}
                other => failures.push(format!(
                    "GET {path} as {} → {other}: {body}",
                    attacker.username
                )),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} isolation failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(
        snapshot(&w).await,
        before,
        "a refused request changed the database"
    );
    // B's people still work.
    for l in w.b.logins() {
        assert_eq!(
            call(&w.app, Method::GET, "/api/v1/auth/me", Some(&l.token), None)
                .await
                .0,
            200
        );
    }
}
