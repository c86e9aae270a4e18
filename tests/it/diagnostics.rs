//! `GET /api/v1/diagnostics/cutoff`: the edges `restrictions.rs` (the explanation itself) and
//! `isolation.rs` (the tenant matrix) leave out — no session, missing or unknown ids, an
//! inactive ventana — and the existing system's answer fields.

use chrono::{Duration, Utc};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::assert_error;
use crate::fixtures::{self, call};

#[tokio::test]
async fn cutoff_diagnosis_answers_the_reference_fields_and_refuses_bad_asks() {
    let w = fixtures::world().await;
    let a = &w.a;
    let loteria = fixtures::loteria(&w.app, Some(a.banca_id), "TICA", json!({"digits": 2})).await;
    let sorteo = fixtures::sorteo(&w.app, loteria, Utc::now() + Duration::hours(3), "OPEN").await;
    let seller = &a.vendedores[0];
    let q = |extra: &str| {
        format!(
            "/api/v1/diagnostics/cutoff?userId={}&ventanaId={}&sorteoId={sorteo}{extra}",
            seller.user_id, a.ventanas[0]
        )
    };

    let (s, v) = call(
        &w.app,
        Method::GET,
        &q("&_=1700000000"),
        Some(&a.banca_user.token),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let d = &v["data"];
    for field in [
        "input",
        "now",
        "scheduledAt",
        "cutoffMinutes",
        "cutoffSource",
        "graceMs",
        "limitTime",
        "effectiveLimitTime",
        "secondsUntilLimit",
        "secondsUntilScheduled",
        "sorteoStatus",
        "blocks",
    ] {
        assert!(!d[field].is_null(), "{field} missing: {d}");
    }
    assert_eq!(d["input"]["userId"], seller.user_id.to_string());
    assert_eq!(d["input"]["sorteoId"], sorteo.to_string());
    assert_eq!(d["sorteoStatus"], "OPEN");
    assert_eq!(d["blocks"], false);
    let until_scheduled = d["secondsUntilScheduled"].as_i64().unwrap();
    assert!(
        (3 * 3600 - 60..=3 * 3600).contains(&until_scheduled),
        "{until_scheduled}"
    );
    // Instants are local (Costa Rica, UTC-6) RFC 3339.
    assert!(
        d["scheduledAt"].as_str().unwrap().ends_with("-06:00"),
        "{d}"
    );

    // No session.
    let res = w.app.client.get(w.app.url(&q(""))).send().await.unwrap();
    assert_error(res, 401, "UNAUTHENTICATED").await;

    // sorteoId is required; a sorteo that does not exist is a 404.
    let no_sorteo = format!(
        "/api/v1/diagnostics/cutoff?userId={}&ventanaId={}",
        seller.user_id, a.ventanas[0]
    );
    let (s, v) = call(&w.app, Method::GET, &no_sorteo, Some(&w.admin.token), None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["code"], "VALIDATION_ERROR");
    let unknown = format!(
        "/api/v1/diagnostics/cutoff?userId={}&ventanaId={}&sorteoId={}",
        seller.user_id,
        a.ventanas[0],
        uuid::Uuid::new_v4()
    );
    let (s, v) = call(&w.app, Method::GET, &unknown, Some(&w.admin.token), None).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");

    // An inactive ventana is a 404, as in the existing system.
    sqlx::query("UPDATE ventanas SET is_active = false WHERE id = $1")
        .bind(a.ventanas[0])
        .execute(&mut w.db.connect().await)
        .await
        .unwrap();
    let (s, v) = call(&w.app, Method::GET, &q(""), Some(&w.admin.token), None).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
}
