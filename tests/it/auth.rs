//! Auth API: login, throttling, password upgrade, refresh rotation and reuse, logout,
//! sessions, active banca, password change, and bad tokens.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::fixtures::{self, assert_no_secrets, call, World, PASSWORD};

async fn login(w: &World, username: &str, password: &str) -> (StatusCode, Value) {
    call(
        &w.app,
        Method::POST,
        "/api/v1/auth/login",
        None,
        Some(&json!({ "username": username, "password": password })),
    )
    .await
}

fn token(body: &Value, key: &str) -> String {
    body["data"][key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} in {body}"))
        .to_string()
}

#[tokio::test]
async fn login_returns_tokens_and_the_user_without_secrets() {
    let w = fixtures::world().await;
    let (status, body) = login(&w, "VENDEDOR.A1", PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    assert_no_secrets(&body);
    assert_eq!(body["data"]["user"]["username"], "vendedor.a1");
    assert_eq!(body["data"]["user"]["role"], "VENDEDOR");
    assert_eq!(body["data"]["user"]["bancaId"], w.a.banca_id.to_string());
    let access = token(&body, "accessToken");
    assert!(!token(&body, "refreshToken").is_empty());

    let (status, me) = call(&w.app, Method::GET, "/api/v1/auth/me", Some(&access), None).await;
    assert_eq!(status, 200, "{me}");
    assert_no_secrets(&me);
    let d = &me["data"];
    assert_eq!(d["vendedorId"], d["id"]);
    assert_eq!(d["ventanaId"], w.a.ventanas[0].to_string());
    assert_eq!(d["ventana"]["id"], w.a.ventanas[0].to_string());
    assert_eq!(d["ventana"]["banca"]["id"], w.a.banca_id.to_string());
    assert_eq!(d["isActive"], true);
    assert!(d.get("bancas").is_none());

    let (_, me) = call(
        &w.app,
        Method::GET,
        "/api/v1/auth/me",
        Some(&w.admin.token),
        None,
    )
    .await;
    assert_eq!(me["data"]["bancas"].as_array().unwrap().len(), 2);
    let (_, me) = call(
        &w.app,
        Method::GET,
        "/api/v1/auth/me",
        Some(&w.a.banca_user.token),
        None,
    )
    .await;
    assert_eq!(
        me["data"]["bancas"],
        json!([{ "id": w.a.banca_id, "name": "Banca A", "code": "BA" }])
    );
    assert_eq!(me["data"]["activeBancaId"], w.a.banca_id.to_string());

    // A login is in the activity log.
    let mut conn = w.db.connect().await;
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM activity_logs WHERE action = 'LOGIN' AND details->>'success' = 'true'")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(n, 1);
}

#[tokio::test]
async fn failed_logins_look_the_same_and_are_throttled() {
    let w = fixtures::world().await;
    let (s1, b1) = login(&w, "vendedor.a1", "wrong-password").await;
    let (s2, b2) = login(&w, "nobody.here", "wrong-password").await;
    assert_eq!(
        (s1, s2),
        (StatusCode::UNAUTHORIZED, StatusCode::UNAUTHORIZED)
    );
    assert_eq!(b1["code"], "INVALID_CREDENTIALS");
    assert_eq!(b1["message"], b2["message"]);
    for _ in 0..3 {
        assert_eq!(login(&w, "vendedor.a1", "wrong-password").await.0, 401);
    }
    // Fifth failure from this IP reached: the next attempt is refused, even with the right password.
    let res = w
        .app
        .client
        .post(w.app.url("/api/v1/auth/login"))
        .json(&json!({ "username": "vendedor.a1", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    assert!(res.headers().get("retry-after").is_some());
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "RATE_LIMITED");

    // Bad input is a 400, not a login attempt.
    let (s, b) = call(
        &w.app,
        Method::POST,
        "/api/v1/auth/login",
        None,
        Some(&json!({ "username": "x" })),
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(b["details"][0]["field"], "password");
    let (s, b) = call(
        &w.app,
        Method::POST,
        "/api/v1/auth/login",
        None,
        Some(&json!({ "username": "x", "password": "y", "role": "ADMIN" })),
    )
    .await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("VALIDATION_ERROR"))
    );
}

#[tokio::test]
async fn bcrypt_hashes_verify_and_are_upgraded_to_argon2id() {
    let w = fixtures::world().await;
    let mut conn = w.db.connect().await;
    let legacy = bcrypt::hash(PASSWORD, 4).unwrap();
    sqlx::query("UPDATE users SET password_hash = $1 WHERE username = 'ventana.a1'")
        .bind(&legacy)
        .execute(&mut conn)
        .await
        .unwrap();
    let (status, body) = login(&w, "ventana.a1", PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    assert_no_secrets(&body);
    let hash: String =
        sqlx::query_scalar("SELECT password_hash FROM users WHERE username = 'ventana.a1'")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert_eq!(login(&w, "ventana.a1", PASSWORD).await.0, 200);
}

#[tokio::test]
async fn inactive_users_cannot_log_in_after_a_correct_password() {
    let w = fixtures::world().await;
    let mut conn = w.db.connect().await;
    sqlx::query("UPDATE users SET is_active = false WHERE username = 'vendedor.b1'")
        .execute(&mut conn)
        .await
        .unwrap();
    let (s, b) = login(&w, "vendedor.b1", PASSWORD).await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("USER_INACTIVE"))
    );
    // A wrong password does not reveal the account state.
    assert_eq!(login(&w, "vendedor.b1", "wrong-password").await.0, 401);
    // Its existing token stops working at once.
    let (s, b) = call(
        &w.app,
        Method::GET,
        "/api/v1/auth/me",
        Some(&w.b.vendedores[0].token),
        None,
    )
    .await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("USER_INACTIVE"))
    );
}

async fn refresh(w: &World, refresh_token: &str) -> (StatusCode, Value) {
    call(
        &w.app,
        Method::POST,
        "/api/v1/auth/refresh",
        None,
        Some(&json!({ "refreshToken": refresh_token })),
    )
    .await
}

#[tokio::test]
async fn refresh_rotates_with_a_grace_window_and_reuse_revokes_the_session() {
    let w = fixtures::world().await;
    let (_, body) = login(&w, "ventana.a1", PASSWORD).await;
    let first_refresh = token(&body, "refreshToken");

    let (s, r1) = refresh(&w, &first_refresh).await;
    assert_eq!(s, 200, "{r1}");
    let second_refresh = token(&r1, "refreshToken");
    assert_ne!(second_refresh, first_refresh);

    // Within the grace window the old token yields the session's current pair.
    let (s, again) = refresh(&w, &first_refresh).await;
    assert_eq!(s, 200, "{again}");
    let (s, _) = call(
        &w.app,
        Method::GET,
        "/api/v1/auth/me",
        Some(&token(&again, "accessToken")),
        None,
    )
    .await;
    assert_eq!(s, 200);

    // The new token rotates normally.
    let (s, r2) = refresh(&w, &second_refresh).await;
    assert_eq!(s, 200);
    let access = token(&r2, "accessToken");

    // Past the grace window, presenting a rotated token revokes the whole session.
    let mut conn = w.db.connect().await;
    sqlx::query("UPDATE refresh_tokens SET rotated_at = now() - interval '31 seconds' WHERE rotated_at IS NOT NULL")
        .execute(&mut conn)
        .await
        .unwrap();
    let (s, b) = refresh(&w, &first_refresh).await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("REFRESH_TOKEN_REUSED"))
    );
    let (s, b) = call(&w.app, Method::GET, "/api/v1/auth/me", Some(&access), None).await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("SESSION_REVOKED"))
    );
    let (s, _) = refresh(&w, &token(&r2, "refreshToken")).await;
    assert_eq!(s, 401, "the newest token of the family is dead too");

    let (s, b) = refresh(&w, "not-a-token").await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("INVALID_REFRESH_TOKEN"))
    );
}

#[tokio::test]
async fn logout_and_logout_all_revoke_at_once() {
    let w = fixtures::world().await;
    let one = fixtures::session_for(
        &w.app,
        w.a.banca_user.user_id,
        w.a.banca_user.role,
        "banca.a",
    )
    .await;
    let two = fixtures::session_for(
        &w.app,
        w.a.banca_user.user_id,
        w.a.banca_user.role,
        "banca.a",
    )
    .await;

    // The existing client logs out with no body: the bearer token names the session.
    let res = w
        .app
        .client
        .post(w.app.url("/api/v1/auth/logout"))
        .bearer_auth(&one.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        call(
            &w.app,
            Method::GET,
            "/api/v1/auth/me",
            Some(&one.token),
            None
        )
        .await
        .0,
        401
    );
    assert_eq!(
        call(
            &w.app,
            Method::GET,
            "/api/v1/auth/me",
            Some(&two.token),
            None
        )
        .await
        .0,
        200
    );

    // Logout with a refresh token in the body.
    let (s, _) = call(
        &w.app,
        Method::POST,
        "/api/v1/auth/logout",
        None,
        Some(&json!({ "refreshToken": two.refresh_token })),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(
        call(
            &w.app,
            Method::GET,
            "/api/v1/auth/me",
            Some(&two.token),
            None
        )
        .await
        .0,
        401
    );
    // Garbage is accepted silently.
    let (s, _) = call(
        &w.app,
        Method::POST,
        "/api/v1/auth/logout",
        None,
        Some(&json!({ "refreshToken": "junk" })),
    )
    .await;
    assert_eq!(s, 200);

    let three = fixtures::session_for(
        &w.app,
        w.a.banca_user.user_id,
        w.a.banca_user.role,
        "banca.a",
    )
    .await;
    let (s, b) = call(
        &w.app,
        Method::POST,
        "/api/v1/auth/logout/all",
        Some(&w.a.banca_user.token),
        None,
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["data"]["count"], 2);
    for t in [&w.a.banca_user.token, &three.token] {
        assert_eq!(
            call(&w.app, Method::GET, "/api/v1/auth/me", Some(t), None)
                .await
                .0,
            401
        );
    }
    assert_eq!(refresh(&w, &three.refresh_token).await.0, 401);
}

#[tokio::test]
async fn bad_tokens_are_401_never_500() {
    let w = fixtures::world().await;
    let good = &w.a.vendedores[0].token;
    let mut parts: Vec<String> = good.split('.').map(str::to_string).collect();
    parts[1] = parts[1].chars().rev().collect();
    let tampered = parts.join(".");
    let header = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0"; // {"alg":"none","typ":"JWT"}
    let none = format!("{header}.{}.", good.split('.').nth(1).unwrap());
    let now = chrono::Utc::now().timestamp();
    let other_keys =
        banca::services::tokens::TokenKeys::from_config(&banca::config::Config::for_tests(&[
            (
                "JWT_ACCESS_SECRET",
                "some-other-secret-that-is-long-enough-000",
            ),
            (
                "JWT_REFRESH_SECRET",
                "some-other-refresh-secret-long-enough-000",
            ),
        ]));
    let wrong_secret = other_keys
        .sign_access(
            now,
            w.admin.user_id,
            banca::domain::roles::Role::Admin,
            None,
            None,
            w.admin.session_id,
        )
        .unwrap();
    let expired = w
        .app
        .state
        .tokens
        .sign_access(
            now - 100_000,
            w.admin.user_id,
            banca::domain::roles::Role::Admin,
            None,
            None,
            w.admin.session_id,
        )
        .unwrap();
    let unknown_session = w
        .app
        .state
        .tokens
        .sign_access(
            now,
            w.admin.user_id,
            banca::domain::roles::Role::Admin,
            None,
            None,
            Uuid::new_v4(),
        )
        .unwrap();
    for (t, code) in [
        (tampered.as_str(), "INVALID_TOKEN"),
        (none.as_str(), "INVALID_TOKEN"),
        (wrong_secret.as_str(), "INVALID_TOKEN"),
        (expired.as_str(), "TOKEN_EXPIRED"),
        (unknown_session.as_str(), "SESSION_REVOKED"),
        ("", "UNAUTHENTICATED"),
    ] {
        let (s, b) = call(&w.app, Method::GET, "/api/v1/auth/me", Some(t), None).await;
        assert_eq!(
            (s, b["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some(code)),
            "token {t:?}: {b}"
        );
    }
    let res = w
        .app
        .client
        .get(w.app.url("/api/v1/auth/me"))
        .header("authorization", "Basic abc")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn vendedor_sessions_are_limited_oldest_first_and_the_pool_is_capped() {
    let w = fixtures::world().await;
    // Default limit: one session per vendedor; a second login displaces the first.
    let (_, first) = login(&w, "vendedor.a1", PASSWORD).await;
    let (_, second) = login(&w, "vendedor.a1", PASSWORD).await;
    assert_eq!(
        call(
            &w.app,
            Method::GET,
            "/api/v1/auth/me",
            Some(&token(&first, "accessToken")),
            None
        )
        .await
        .0,
        401
    );
    assert_eq!(
        call(
            &w.app,
            Method::GET,
            "/api/v1/auth/me",
            Some(&token(&second, "accessToken")),
            None
        )
        .await
        .0,
        200
    );

    let mut conn = w.db.connect().await;
    sqlx::query("UPDATE users SET max_sessions_per_vendedor = 2 WHERE username = 'vendedor.a2'")
        .execute(&mut conn)
        .await
        .unwrap();
    let mut tokens = Vec::new();
    for _ in 0..3 {
        let (s, b) = login(&w, "vendedor.a2", PASSWORD).await;
        assert_eq!(s, 200);
        tokens.push(token(&b, "accessToken"));
    }
    let alive: Vec<u16> = {
        let mut v = Vec::new();
        for t in &tokens {
            v.push(
                call(&w.app, Method::GET, "/api/v1/auth/me", Some(t), None)
                    .await
                    .0
                    .as_u16(),
            );
        }
        v
    };
    assert_eq!(alive, vec![401, 200, 200]);
    let reason: String = sqlx::query_scalar(
        "SELECT s.revoked_reason FROM auth_sessions s JOIN users u ON u.id = s.user_id
         WHERE u.username = 'vendedor.a2' AND s.revoked_at IS NOT NULL",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(reason, "fifo_displacement");

    // vendorLimit caps the open sessions of the banca.
    let open: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM auth_sessions WHERE banca_id = $1 AND revoked_at IS NULL",
    )
    .bind(w.b.banca_id)
    .fetch_one(&mut conn)
    .await
    .unwrap();
    sqlx::query("UPDATE bancas SET vendor_limit = $2 WHERE id = $1")
        .bind(w.b.banca_id)
        .bind(open as i32)
        .execute(&mut conn)
        .await
        .unwrap();
    let (s, b) = login(&w, "vendedor.b1", PASSWORD).await;
    // The vendedor's own old session is displaced first, freeing one place.
    assert_eq!(s, 200, "{b}");
    sqlx::query("UPDATE bancas SET vendor_limit = 1 WHERE id = $1")
        .bind(w.b.banca_id)
        .execute(&mut conn)
        .await
        .unwrap();
    let (s, b) = login(&w, "vendedor.b2", PASSWORD).await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("POOL_EXHAUSTED")),
        "{b}"
    );
}

#[tokio::test]
async fn active_banca_is_validated_and_keeps_the_session() {
    let w = fixtures::world().await;
    let path = "/api/v1/auth/set-active-banca";
    let (s, _) = call(
        &w.app,
        Method::POST,
        path,
        Some(&w.a.banca_user.token),
        Some(&json!({ "bancaId": w.b.banca_id })),
    )
    .await;
    assert_eq!(s, 404, "a BANCA user cannot pick another tenant");
    let (s, _) = call(
        &w.app,
        Method::POST,
        path,
        Some(&w.a.vendedores[0].token),
        Some(&json!({ "bancaId": w.a.banca_id })),
    )
    .await;
    assert_eq!(s, 403);
    let (s, b) = call(
        &w.app,
        Method::POST,
        path,
        Some(&w.admin.token),
        Some(&json!({ "bancaId": w.b.banca_id })),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["data"]["activeBancaId"], w.b.banca_id.to_string());
    let scoped = token(&b, "accessToken");
    let (_, me) = call(&w.app, Method::GET, "/api/v1/auth/me", Some(&scoped), None).await;
    assert_eq!(me["data"]["activeBancaId"], w.b.banca_id.to_string());
    // Same session: logging out the session kills the new token too.
    call(
        &w.app,
        Method::POST,
        "/api/v1/auth/logout",
        Some(&w.admin.token),
        None,
    )
    .await;
    assert_eq!(
        call(&w.app, Method::GET, "/api/v1/auth/me", Some(&scoped), None)
            .await
            .0,
        401
    );
}

#[tokio::test]
async fn sessions_are_listed_and_revoked_within_reach() {
    let w = fixtures::world().await;
    let target = &w.a.vendedores[0];
    let path = format!("/api/v1/auth/sessions/user/{}", target.user_id);
    let (s, b) = call(&w.app, Method::GET, &path, Some(&target.token), None).await;
    assert_eq!(s, 200);
    assert_eq!(b["data"][0]["current"], true);
    assert_eq!(b["data"][0]["id"], target.session_id.to_string());
    for outsider in [&w.b.banca_user, &w.b.vendedores[0], &w.a.vendedores[1]] {
        let (s, _) = call(&w.app, Method::GET, &path, Some(&outsider.token), None).await;
        assert_eq!(s, 404, "{} must not see the sessions", outsider.username);
        let (s, _) = call(
            &w.app,
            Method::DELETE,
            &format!("/api/v1/auth/sessions/{}", target.session_id),
            Some(&outsider.token),
            None,
        )
        .await;
        assert_eq!(s, 404);
    }
    assert_eq!(
        call(
            &w.app,
            Method::GET,
            "/api/v1/auth/me",
            Some(&target.token),
            None
        )
        .await
        .0,
        200
    );
    let (s, _) = call(
        &w.app,
        Method::GET,
        &path,
        Some(&w.a.banca_user.token),
        None,
    )
    .await;
    assert_eq!(
        s, 200,
        "the banca's administrator sees its vendedor's sessions"
    );
    let del = format!("/api/v1/auth/sessions/{}", target.session_id);
    assert_eq!(
        call(&w.app, Method::DELETE, &del, Some(&w.admin.token), None)
            .await
            .0,
        200
    );
    assert_eq!(
        call(
            &w.app,
            Method::GET,
            "/api/v1/auth/me",
            Some(&target.token),
            None
        )
        .await
        .0,
        401
    );
    let (s, b) = call(&w.app, Method::DELETE, &del, Some(&w.admin.token), None).await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("SESSION_ALREADY_REVOKED"))
    );
}

#[tokio::test]
async fn password_change_checks_the_current_one_and_closes_other_sessions() {
    let w = fixtures::world().await;
    let me = &w.a.ventana_users[0];
    let other = fixtures::session_for(&w.app, me.user_id, me.role, &me.username).await;
    let path = "/api/v1/users/me/password";
    let (s, b) = call(
        &w.app,
        Method::PUT,
        path,
        Some(&me.token),
        Some(&json!({ "currentPassword": "nope-nope", "newPassword": "nueva-clave-9" })),
    )
    .await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("INVALID_PASSWORD"))
    );
    let (s, b) = call(
        &w.app,
        Method::PUT,
        path,
        Some(&me.token),
        Some(&json!({ "currentPassword": PASSWORD, "newPassword": "corta" })),
    )
    .await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("VALIDATION_ERROR"))
    );
    let (s, _) = call(
        &w.app,
        Method::PUT,
        path,
        Some(&me.token),
        Some(&json!({ "currentPassword": PASSWORD, "newPassword": "nueva-clave-9" })),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(
        call(
            &w.app,
            Method::GET,
            "/api/v1/auth/me",
            Some(&me.token),
            None
        )
        .await
        .0,
        200
    );
    assert_eq!(
        call(
            &w.app,
            Method::GET,
            "/api/v1/auth/me",
            Some(&other.token),
            None
        )
        .await
        .0,
        401
    );
    assert_eq!(login(&w, &me.username, PASSWORD).await.0, 401);
    assert_eq!(login(&w, &me.username, "nueva-clave-9").await.0, 200);
}

#[tokio::test]
async fn concurrent_refreshes_of_one_token_do_not_fork_the_session() {
    let w = fixtures::world().await;
    let (_, body) = login(&w, "ventana.a2", PASSWORD).await;
    let r0 = token(&body, "refreshToken");
    let (x, y) = tokio::join!(refresh(&w, &r0), refresh(&w, &r0));
    assert_eq!(
        (x.0, y.0),
        (StatusCode::OK, StatusCode::OK),
        "{} {}",
        x.1,
        y.1
    );
    // Both answers name the same current refresh token: one branch, not two. (Compare the
    // token ids: the two signatures may differ in `iat` when the calls straddle a second.)
    let tid = |b: &serde_json::Value| {
        w.app
            .state
            .tokens
            .verify_refresh(&token(b, "refreshToken"))
            .unwrap()
            .tid
    };
    assert_eq!(tid(&x.1), tid(&y.1));
    let mut conn = w.db.connect().await;
    let sid = w.app.state.tokens.verify_refresh(&r0).unwrap().sid;
    let live: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM refresh_tokens WHERE session_id = $1 AND rotated_at IS NULL",
    )
    .bind(sid)
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(live, 1);
}

#[tokio::test]
async fn parallel_failed_logins_cannot_slip_past_the_limit() {
    let w = fixtures::world().await;
    let attempts = (0..20).map(|_| login(&w, "ventana.b1", "wrong-password"));
    let results = futures::future::join_all(attempts).await;
    let refused = results
        .iter()
        .filter(|(s, _)| *s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    let judged = results
        .iter()
        .filter(|(s, _)| *s == StatusCode::UNAUTHORIZED)
        .count();
    assert_eq!(
        judged, 5,
        "only the allowed attempts reach the password check"
    );
    assert_eq!(refused, 15);
}
