//! Activity log: entries are written with the change, listed within scope, cleaned up.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::fixtures::{self, call};

#[tokio::test]
async fn entries_are_scoped_filtered_and_cleaned() {
    let w = fixtures::world().await;
    // Logins of two tenants produce entries in each banca.
    for u in ["vendedor.a1", "vendedor.b1"] {
        let (s, _) = call(
            &w.app,
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(&json!({ "username": u, "password": fixtures::PASSWORD })),
        )
        .await;
        assert_eq!(s, 200);
    }
    let (s, b) = call(
        &w.app,
        Method::GET,
        "/api/v1/activity-logs",
        Some(&w.admin.token),
        None,
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["meta"]["total"], 2);
    assert_eq!(b["meta"]["page"], 1);
    assert_eq!(b["data"][0]["action"], "LOGIN");
    assert!(b["data"][0]["user"]["username"].is_string());

    let (s, b) = call(
        &w.app,
        Method::GET,
        "/api/v1/activity-logs",
        Some(&w.a.banca_user.token),
        None,
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(b["meta"]["total"], 1);
    assert_eq!(b["data"][0]["bancaId"], w.a.banca_id.to_string());
    let a_entry = b["data"][0]["id"].as_str().unwrap().to_string();

    let (s, _) = call(
        &w.app,
        Method::GET,
        &format!("/api/v1/activity-logs/{a_entry}"),
        Some(&w.b.banca_user.token),
        None,
    )
    .await;
    assert_eq!(s, 404);
    let (s, _) = call(
        &w.app,
        Method::GET,
        &format!("/api/v1/activity-logs/{a_entry}"),
        Some(&w.a.banca_user.token),
        None,
    )
    .await;
    assert_eq!(s, 200);
    // vendedores[0] logged in again above, which displaced its fixture session.
    for u in [&w.a.ventana_users[0], &w.a.vendedores[1]] {
        let (s, _) = call(
            &w.app,
            Method::GET,
            "/api/v1/activity-logs",
            Some(&u.token),
            None,
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    }

    let (s, b) = call(
        &w.app,
        Method::GET,
        "/api/v1/activity-logs/action/LOGIN?pageSize=1",
        Some(&w.admin.token),
        None,
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(
        (
            b["meta"]["total"].as_i64(),
            b["data"].as_array().unwrap().len()
        ),
        (Some(2), 1)
    );
    let (s, b) = call(
        &w.app,
        Method::GET,
        "/api/v1/activity-logs?startDate=2030-01-01T00:00:00Z&endDate=2020-01-01T00:00:00Z",
        Some(&w.admin.token),
        None,
    )
    .await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("VALIDATION_ERROR"))
    );
    let (s, _) = call(
        &w.app,
        Method::GET,
        "/api/v1/activity-logs?bogus=1",
        Some(&w.admin.token),
        None,
    )
    .await;
    assert_eq!(s, 400);

    // Cleanup: nothing is older than a day; backdate A's entry and clean as BANCA A.
    let (s, b) = call(
        &w.app,
        Method::POST,
        "/api/v1/activity-logs/cleanup",
        Some(&w.a.banca_user.token),
        Some(&json!({ "days": 0 })),
    )
    .await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("VALIDATION_ERROR"))
    );
    let mut conn = w.db.connect().await;
    sqlx::query("UPDATE activity_logs SET created_at = now() - interval '60 days'")
        .execute(&mut conn)
        .await
        .unwrap();
    let (s, b) = call(
        &w.app,
        Method::POST,
        "/api/v1/activity-logs/cleanup",
        Some(&w.a.banca_user.token),
        None,
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["data"]["deletedCount"], 1, "only banca A's old entry");
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM activity_logs WHERE action = 'LOGIN'")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(left, 1);
}
