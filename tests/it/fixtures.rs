//! A two-tenant world for API tests: an ADMIN, and bancas A and B, each with a BANCA user,
//! two ventanas (each with its VENTANA user) and one vendedor per ventana. Every user has a
//! live session and an access token. All users share `PASSWORD`.

use std::sync::OnceLock;

use banca::db::users::{self as dbusers, NewUser};
use banca::domain::roles::Role;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use uuid::Uuid;

use crate::common::{self, TestApp, TestDb};

pub const PASSWORD: &str = "clave-de-prueba-1";

fn password_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| banca::domain::password::hash(PASSWORD).unwrap())
}

/// A user of the world with a valid access token.
#[derive(Debug, Clone)]
pub struct Login {
    pub user_id: Uuid,
    pub username: String,
    pub role: Role,
    pub token: String,
    pub refresh_token: String,
    pub session_id: Uuid,
}

/// One banca and its people.
#[derive(Debug, Clone)]
pub struct Tenant {
    pub banca_id: Uuid,
    pub banca_user: Login,
    pub ventanas: [Uuid; 2],
    pub ventana_users: [Login; 2],
    /// `vendedores[i]` sells for `ventanas[i]`.
    pub vendedores: [Login; 2],
}

impl Tenant {
    /// Every login of this tenant, BANCA first.
    pub fn logins(&self) -> Vec<&Login> {
        let mut v = vec![&self.banca_user];
        v.extend(self.ventana_users.iter());
        v.extend(self.vendedores.iter());
        v
    }
}

pub struct World {
    pub app: TestApp,
    pub db: TestDb,
    pub admin: Login,
    pub a: Tenant,
    pub b: Tenant,
}

/// Opens a session for `user_id` directly (no password check, no throttle).
pub async fn session_for(app: &TestApp, user_id: Uuid, role: Role, username: &str) -> Login {
    let mut conn = app.state.pools.primary().acquire().await.unwrap();
    let (ventana_id, banca_id): (Option<Uuid>, Option<Uuid>) = sqlx::query_as(
        "SELECT u.ventana_id, COALESCE(u.banca_id, v.banca_id) FROM users u
         LEFT JOIN ventanas v ON v.id = u.ventana_id WHERE u.id = $1",
    )
    .bind(user_id)
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    let exp = chrono::Utc::now() + chrono::Duration::days(7);
    let sid =
        banca::db::sessions::insert_session(&mut conn, user_id, banca_id, &Default::default(), exp)
            .await
            .unwrap();
    let tid = Uuid::new_v4();
    banca::db::sessions::insert_refresh_token(&mut conn, tid, sid, exp)
        .await
        .unwrap();
    let now = chrono::Utc::now().timestamp();
    let keys = &app.state.tokens;
    Login {
        user_id,
        username: username.to_string(),
        role,
        token: keys
            .sign_access(now, user_id, role, ventana_id, banca_id, sid)
            .unwrap(),
        refresh_token: keys.sign_refresh(now, tid, sid, exp.timestamp()).unwrap(),
        session_id: sid,
    }
}

/// Inserts a user and opens a session for it.
pub async fn user(
    app: &TestApp,
    username: &str,
    role: Role,
    ventana_id: Option<Uuid>,
    banca_id: Option<Uuid>,
) -> Login {
    let mut conn = app.state.pools.primary().acquire().await.unwrap();
    let id = dbusers::insert_user(
        &mut conn,
        &NewUser {
            name: username,
            username,
            email: None,
            password_hash: password_hash(),
            role,
            ventana_id,
            banca_id,
        },
    )
    .await
    .unwrap();
    if role == Role::Banca {
        if let Some(b) = banca_id {
            dbusers::link_default_banca(&mut conn, id, b).await.unwrap();
        }
    }
    drop(conn);
    session_for(app, id, role, username).await
}

async fn tenant(app: &TestApp, tag: &str) -> Tenant {
    let mut conn = app.state.pools.primary().acquire().await.unwrap();
    let banca_id = dbusers::upsert_banca(&mut conn, &format!("Banca {tag}"), &format!("B{tag}"))
        .await
        .unwrap();
    let v1 = dbusers::upsert_ventana(
        &mut conn,
        banca_id,
        &format!("Ventana {tag}1"),
        &format!("V{tag}1"),
    )
    .await
    .unwrap();
    let v2 = dbusers::upsert_ventana(
        &mut conn,
        banca_id,
        &format!("Ventana {tag}2"),
        &format!("V{tag}2"),
    )
    .await
    .unwrap();
    drop(conn);
    let t = tag.to_lowercase();
    let banca_user = user(
        app,
        &format!("banca.{t}"),
        Role::Banca,
        None,
        Some(banca_id),
    )
    .await;
    let vu1 = user(app, &format!("ventana.{t}1"), Role::Ventana, Some(v1), None).await;
    let vu2 = user(app, &format!("ventana.{t}2"), Role::Ventana, Some(v2), None).await;
    let s1 = user(
        app,
        &format!("vendedor.{t}1"),
        Role::Vendedor,
        Some(v1),
        Some(banca_id),
    )
    .await;
    let s2 = user(
        app,
        &format!("vendedor.{t}2"),
        Role::Vendedor,
        Some(v2),
        Some(banca_id),
    )
    .await;
    Tenant {
        banca_id,
        banca_user,
        ventanas: [v1, v2],
        ventana_users: [vu1, vu2],
        vendedores: [s1, s2],
    }
}

/// Builds the world on a fresh database with extra configuration `vars`.
pub async fn world_with(vars: &[(&str, &str)]) -> World {
    let db = TestDb::migrated().await;
    let app = common::spawn_app(&db, vars).await;
    let admin = user(&app, "admin.root", Role::Admin, None, None).await;
    let a = tenant(&app, "A").await;
    let b = tenant(&app, "B").await;
    World {
        app,
        db,
        admin,
        a,
        b,
    }
}

pub async fn world() -> World {
    world_with(&[]).await
}

/// Sends a request with a bearer token and an optional JSON body; returns status and body.
pub async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> (StatusCode, Value) {
    let mut req = app.client.request(method, app.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(b);
    }
    let res = req.send().await.expect("request sent");
    let status = res.status();
    let text = res.text().await.unwrap_or_default();
    let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, value)
}

/// Asserts no response anywhere in `v` carries a password hash or a password field.
pub fn assert_no_secrets(v: &Value) {
    let text = v.to_string();
    assert!(!text.contains("$argon2"), "argon2 hash leaked: {text}");
    assert!(
        !text.contains("$2a$") && !text.contains("$2b$"),
        "bcrypt hash leaked: {text}"
    );
    assert!(
        !text.contains("\"password"),
        "password field leaked: {text}"
    );
}

/// Inserts a lotería of `banca_id` with `rules` (rulesJson) directly; returns its id.
#[allow(dead_code)] // used by the catalog tests as they arrive
pub async fn loteria(app: &TestApp, banca_id: Option<Uuid>, name: &str, rules: Value) -> Uuid {
    let mut conn = app.state.pools.primary().acquire().await.unwrap();
    sqlx::query_scalar(
        "INSERT INTO loterias (banca_id, name, rules_json) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(banca_id)
    .bind(name)
    .bind(rules)
    .fetch_one(&mut *conn)
    .await
    .unwrap()
}

/// Inserts a sorteo of `loteria_id` at `at` with `status` directly; returns its id.
#[allow(dead_code)] // used by the catalog tests as they arrive
pub async fn sorteo(
    app: &TestApp,
    loteria_id: Uuid,
    at: chrono::DateTime<chrono::Utc>,
    status: &str,
) -> Uuid {
    let mut conn = app.state.pools.primary().acquire().await.unwrap();
    sqlx::query_scalar(
        "INSERT INTO sorteos (loteria_id, banca_id, name, scheduled_at, status)
         SELECT id, banca_id, name || ' ' || to_char($2 AT TIME ZONE 'America/Costa_Rica', 'HH24:MI'), $2, $3::sorteo_status
         FROM loterias WHERE id = $1 RETURNING id",
    )
    .bind(loteria_id)
    .bind(at)
    .bind(status)
    .fetch_one(&mut *conn)
    .await
    .unwrap()
}

/// Inserts a multiplier of `loteria_id`; returns its id.
#[allow(dead_code)] // used by the catalog tests as they arrive
pub async fn multiplier(
    app: &TestApp,
    loteria_id: Uuid,
    name: &str,
    value_x: i64,
    kind: &str,
) -> Uuid {
    let mut conn = app.state.pools.primary().acquire().await.unwrap();
    sqlx::query_scalar(
        "INSERT INTO loteria_multipliers (loteria_id, banca_id, name, value_x, kind)
         SELECT id, banca_id, $2, $3, $4::bet_type FROM loterias WHERE id = $1 RETURNING id",
    )
    .bind(loteria_id)
    .bind(name)
    .bind(rust_decimal::Decimal::from(value_x))
    .bind(kind)
    .fetch_one(&mut *conn)
    .await
    .unwrap()
}

/// How many users exist (to prove a refused request wrote nothing).
pub async fn count_users(w: &World) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&mut w.db.connect().await)
        .await
        .unwrap()
}

/// The whole stored row of a user (hash included), to prove a refused request changed nothing.
pub async fn user_snapshot(w: &World, id: Uuid) -> String {
    sqlx::query_scalar("SELECT row_to_json(u)::text FROM users u WHERE id = $1")
        .bind(id)
        .fetch_one(&mut w.db.connect().await)
        .await
        .unwrap()
}

/// Asserts the token's session was closed.
pub async fn assert_revoked(w: &World, token: &str) {
    let (s, v) = call(&w.app, Method::GET, "/api/v1/auth/me", Some(token), None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{v}");
    assert_eq!(v["code"], "SESSION_REVOKED", "{v}");
}

/// JWT secrets of the shop's world: a second app on the same database accepts its tokens.
pub const SHOP_SECRETS: [(&str, &str); 2] = [
    (
        "JWT_ACCESS_SECRET",
        "shop-test-access-secret-0123456789abcdef",
    ),
    (
        "JWT_REFRESH_SECRET",
        "shop-test-refresh-secret-0123456789abcdef",
    ),
];

/// A world ready to sell: one lotería of banca A (2 digits, reventado enabled), its "Base"
/// multiplier (90x) and an OPEN sorteo tomorrow. Banca A's minimum bet and global cap are off.
pub struct Shop {
    pub w: World,
    pub loteria: Uuid,
    pub sorteo: Uuid,
    pub base: Uuid,
}

pub async fn shop() -> Shop {
    let w = world_with(&SHOP_SECRETS).await;
    let loteria = loteria(
        &w.app,
        Some(w.a.banca_id),
        "TICA",
        serde_json::json!({"digits": 2, "reventadoConfig": {"enabled": true}}),
    )
    .await;
    let base = multiplier(&w.app, loteria, "Base", 90, "NUMERO").await;
    let sorteo = sorteo(
        &w.app,
        loteria,
        chrono::Utc::now() + chrono::Duration::days(1),
        "OPEN",
    )
    .await;
    exec(
        &w,
        &format!(
            "UPDATE bancas SET default_min_bet = 0, global_max_per_number = 0 WHERE id = '{}'",
            w.a.banca_id
        ),
    )
    .await;
    Shop {
        w,
        loteria,
        sorteo,
        base,
    }
}

/// Runs one SQL statement on the world's database.
pub async fn exec(w: &World, sql: &str) {
    sqlx::raw_sql(sql)
        .execute(&mut w.db.connect().await)
        .await
        .unwrap();
}

/// The one value of a SQL query on the world's database.
pub async fn scalar<T>(w: &World, sql: &str) -> T
where
    T: for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres> + Send + Unpin,
{
    sqlx::query_scalar(sql)
        .fetch_one(&mut w.db.connect().await)
        .await
        .unwrap()
}
