//! `/auth`: login, refresh, logout, the caller's profile, active banca, sessions; and
//! `PUT /users/me/password`.

use std::net::SocketAddr;

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::routing::{delete, get, post, put};
use axum::Router;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::app::AppState;
use crate::db;
use crate::domain::roles::Role;
use crate::http::auth::Auth;
use crate::http::dto::{BancaBrief, UserDto};
use crate::http::envelope::ApiResponse;
use crate::http::error::ApiError;
use crate::http::extract::AppPath;
use crate::http::extract::{AppJson, OptionalJson, PeerAddr};
use crate::http::openapi::{ErrorBody, SuccessEnvelope};
use crate::http::validate::Checks;
use crate::services::auth::{self, AuthError, LoginInput};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/auth/login", post(login))
        .route("/api/v1/auth/refresh", post(refresh))
        .route("/api/v1/auth/logout", post(logout))
        .route("/api/v1/auth/logout/all", post(logout_all))
        .route("/api/v1/auth/me", get(me))
        .route("/api/v1/auth/set-active-banca", post(set_active_banca))
        .route("/api/v1/auth/sessions/user/{user_id}", get(list_sessions))
        .route("/api/v1/auth/sessions/{session_id}", delete(revoke_session))
        .route("/api/v1/users/me/password", put(change_password))
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::InvalidCredentials => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "INVALID_CREDENTIALS",
                "Usuario o contraseña incorrectos",
            ),
            AuthError::UserInactive => ApiError::new(
                StatusCode::FORBIDDEN,
                "USER_INACTIVE",
                "La cuenta está inactiva. Contacta al administrador.",
            ),
            AuthError::Throttled { retry_after_secs } => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "RATE_LIMITED",
                "Demasiados intentos de inicio de sesión. Intenta de nuevo en un minuto.",
            )
            .with_retry_after(retry_after_secs),
            AuthError::PoolExhausted { active, limit } => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "POOL_EXHAUSTED",
                format!("El pool de vendedores está lleno ({active}/{limit} sesiones activas)."),
            ),
            AuthError::InvalidRefresh => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "INVALID_REFRESH_TOKEN",
                "Token de renovación inválido",
            ),
            AuthError::RefreshReused => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "REFRESH_TOKEN_REUSED",
                "Token de renovación ya utilizado; la sesión fue cerrada por seguridad",
            ),
            AuthError::Forbidden => crate::http::auth::forbidden(),
            AuthError::NotFound => ApiError::not_found(),
            AuthError::BancaInactive => {
                ApiError::bad_request("BANCA_INACTIVE", "La banca está inactiva")
            }
            AuthError::AlreadyRevoked => {
                ApiError::bad_request("SESSION_ALREADY_REVOKED", "La sesión ya estaba cerrada")
            }
            AuthError::WrongPassword => {
                ApiError::bad_request("INVALID_PASSWORD", "Contraseña actual incorrecta")
            }
            AuthError::SamePassword => ApiError::bad_request(
                "VALIDATION_ERROR",
                "La nueva contraseña debe ser distinta de la actual",
            ),
            AuthError::Password(p) => ApiError::bad_request("VALIDATION_ERROR", p.to_string()),
            AuthError::Token(t) => ApiError::internal(&t),
            AuthError::Database(d) => d.into(),
        }
    }
}

/// The client address: the `TRUST_PROXY`-th entry from the right of `X-Forwarded-For` when
/// proxies are trusted, else the peer address.
pub fn client_ip(
    state: &AppState,
    headers: &HeaderMap,
    peer: Option<SocketAddr>,
) -> Option<String> {
    let hops = usize::from(state.config.trust_proxy);
    if hops > 0 {
        if let Some(xff) = headers.get("x-forwarded-for").and_then(|v| v.to_str().ok()) {
            let entries: Vec<&str> = xff
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect();
            if !entries.is_empty() {
                let idx = entries.len().saturating_sub(hops);
                return entries.get(idx).map(|s| s.chars().take(45).collect());
            }
        }
    }
    peer.map(|p| p.ip().to_string())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = auth::LoginBody)]
struct LoginBody {
    username: String,
    password: String,
    platform: Option<String>,
    app_version: Option<String>,
    device_id: Option<String>,
    device_name: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TokensDto {
    access_token: String,
    refresh_token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<UserDto>,
}

#[utoipa::path(
    post,
    path = "/api/v1/auth/login",
    tag = "auth",
    request_body = LoginBody,
    responses(
        (status = 200, description = "`data: {accessToken, refreshToken, user}`", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 401, description = "INVALID_CREDENTIALS", body = ErrorBody),
        (status = 403, description = "USER_INACTIVE", body = ErrorBody),
        (status = 429, description = "RATE_LIMITED (login throttle) or POOL_EXHAUSTED (vendedor sessions)", body = ErrorBody)
    )
)]
async fn login(
    State(state): State<AppState>,
    PeerAddr(peer): PeerAddr,
    headers: HeaderMap,
    AppJson(body): AppJson<LoginBody>,
) -> Result<ApiResponse<TokensDto>, ApiError> {
    let mut c = Checks::new();
    c.text("username", &body.username, 1, 100);
    c.text("password", &body.password, 1, 128);
    if let Some(p) = &body.platform {
        if !matches!(p.as_str(), "web" | "android" | "ios") {
            c.fail(
                "platform",
                "invalid_enum_value",
                "debe ser web, android o ios",
            );
        }
    }
    c.opt_text("appVersion", body.app_version.as_deref(), 1, 50);
    c.opt_text("deviceId", body.device_id.as_deref(), 1, 255);
    c.opt_text("deviceName", body.device_name.as_deref(), 1, 255);
    c.finish()?;
    let input = LoginInput {
        username: body.username.trim().to_string(),
        password: body.password,
        platform: body.platform,
        app_version: body.app_version,
        device: db::sessions::Device {
            device_id: body.device_id,
            device_name: body.device_name,
            user_agent: headers
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(|s| s.chars().take(500).collect()),
            ip_address: client_ip(&state, &headers, peer),
        },
    };
    let issued = auth::login(
        state.pools.primary(),
        &state.tokens,
        &state.throttle,
        &input,
    )
    .await?;
    let mut conn = state.pools.primary().acquire().await?;
    let user = db::users::find_row(&mut conn, issued.user_id)
        .await?
        .map(UserDto::from);
    Ok(ApiResponse::ok(TokensDto {
        access_token: issued.access_token,
        refresh_token: issued.refresh_token,
        user,
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = auth::RefreshBody)]
struct RefreshBody {
    refresh_token: String,
}

#[utoipa::path(
    post,
    path = "/api/v1/auth/refresh",
    tag = "auth",
    request_body = RefreshBody,
    responses(
        (status = 200, description = "`data: {accessToken, refreshToken}` (the refresh token rotates)", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 401, description = "INVALID_REFRESH_TOKEN, REFRESH_TOKEN_REUSED", body = ErrorBody),
        (status = 403, description = "USER_INACTIVE", body = ErrorBody)
    )
)]
async fn refresh(
    State(state): State<AppState>,
    AppJson(body): AppJson<RefreshBody>,
) -> Result<ApiResponse<TokensDto>, ApiError> {
    let issued = auth::refresh(state.pools.primary(), &state.tokens, &body.refresh_token).await?;
    Ok(ApiResponse::ok(TokensDto {
        access_token: issued.access_token,
        refresh_token: issued.refresh_token,
        user: None,
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = auth::LogoutBody)]
struct LogoutBody {
    refresh_token: Option<String>,
}

/// Closes the session named by the body's refresh token or, when the client sends no body
/// (the existing app does not), by the bearer access token. Always 200.
#[utoipa::path(
    post,
    path = "/api/v1/auth/logout",
    tag = "auth",
    request_body(content = Option<LogoutBody>, description = "Optional: without a body the bearer token's session is closed"),
    responses(
        (status = 200, description = "`data: {message}`; always, even when nothing was open", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody)
    )
)]
async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    OptionalJson(body): OptionalJson<LogoutBody>,
) -> Result<ApiResponse<Value>, ApiError> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(s, _)| s.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim().to_string());
    let refresh = body.and_then(|b| b.refresh_token);
    auth::logout(
        state.pools.primary(),
        &state.tokens,
        refresh.as_deref(),
        bearer.as_deref(),
    )
    .await?;
    Ok(ApiResponse::ok(json!({ "message": "Sesión cerrada" })))
}

#[utoipa::path(
    post,
    path = "/api/v1/auth/logout/all",
    tag = "auth",
    responses(
        (status = 200, description = "`data: {message, count}`: every session of the caller closed", body = SuccessEnvelope),
        (status = 401, body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn logout_all(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<ApiResponse<Value>, ApiError> {
    let n = auth::logout_all(state.pools.primary(), &auth.0).await?;
    Ok(ApiResponse::ok(
        json!({ "message": format!("{n} sesiones cerradas"), "count": n }),
    ))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MeDto {
    #[serde(flatten)]
    user: UserDto,
    vendedor_id: Option<Uuid>,
    active_banca_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bancas: Option<Vec<BancaBrief>>,
}

#[utoipa::path(
    get,
    path = "/api/v1/auth/me",
    tag = "auth",
    responses(
        (status = 200, description = "The caller: user fields plus `vendedorId`, `activeBancaId`, `bancas`", body = SuccessEnvelope),
        (status = 401, body = ErrorBody),
        (status = 404, description = "NOT_FOUND", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn me(
    State(state): State<AppState>,
    Auth(actor): Auth,
) -> Result<ApiResponse<MeDto>, ApiError> {
    let mut conn = state.pools.primary().acquire().await?;
    let row = db::users::find_row(&mut conn, actor.user_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let bancas = match actor.role {
        Role::Admin => Some(db::bancas::refs(&mut conn, None).await?),
        Role::Banca => Some(db::bancas::refs(&mut conn, Some(&actor.assigned_bancas)).await?),
        _ => None,
    };
    let mut user = UserDto::from(row);
    if !actor.role.needs_ventana() {
        user.ventana_id = None;
    }
    Ok(ApiResponse::ok(MeDto {
        vendedor_id: (actor.role == Role::Vendedor).then_some(actor.user_id),
        active_banca_id: actor.banca_id,
        bancas: bancas.map(|v| {
            v.into_iter()
                .map(|b| BancaBrief {
                    id: b.id,
                    name: b.name,
                    code: b.code,
                })
                .collect()
        }),
        user,
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = auth::SetActiveBancaBody)]
struct SetActiveBancaBody {
    banca_id: Uuid,
}

#[utoipa::path(
    post,
    path = "/api/v1/auth/set-active-banca",
    tag = "auth",
    request_body = SetActiveBancaBody,
    responses(
        (status = 200, description = "`data: {activeBancaId, accessToken, banca}`", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR, BANCA_INACTIVE", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN (not ADMIN or BANCA)", body = ErrorBody),
        (status = 404, description = "NOT_FOUND (banca unknown or not assigned)", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn set_active_banca(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppJson(body): AppJson<SetActiveBancaBody>,
) -> Result<ApiResponse<Value>, ApiError> {
    let (token, banca) =
        auth::set_active_banca(state.pools.primary(), &state.tokens, &actor, body.banca_id).await?;
    Ok(ApiResponse::ok(json!({
        "activeBancaId": banca.id,
        "accessToken": token,
        "banca": { "id": banca.id, "name": banca.name, "code": banca.code },
    }))
    .with_meta(json!({
        "message": "Banca activa actualizada; envíe X-Active-Banca-Id o use el nuevo accessToken"
    })))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SessionDto {
    id: Uuid,
    device_id: Option<String>,
    device_name: String,
    ip_address: Option<String>,
    last_used_at: chrono::DateTime<chrono::Utc>,
    created_at: chrono::DateTime<chrono::Utc>,
    current: bool,
}

#[utoipa::path(
    get,
    path = "/api/v1/auth/sessions/user/{user_id}",
    tag = "auth",
    params(("user_id" = Uuid, Path, description = "User whose sessions are listed")),
    responses(
        (status = 200, description = "Open sessions: `[{id, deviceId, deviceName, ipAddress, lastUsedAt, createdAt, current}]`", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR (malformed id)", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN", body = ErrorBody),
        (status = 404, description = "NOT_FOUND (user unknown or out of scope)", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn list_sessions(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppPath(user_id): AppPath<Uuid>,
) -> Result<ApiResponse<Vec<SessionDto>>, ApiError> {
    let rows = auth::list_sessions(state.pools.primary(), &actor, user_id).await?;
    Ok(ApiResponse::ok(
        rows.into_iter()
            .map(|s| SessionDto {
                current: s.id == actor.session_id,
                id: s.id,
                device_id: s.device_id,
                device_name: s
                    .device_name
                    .unwrap_or_else(|| "Dispositivo desconocido".into()),
                ip_address: s.ip_address,
                last_used_at: s.last_used_at,
                created_at: s.created_at,
            })
            .collect(),
    ))
}

#[utoipa::path(
    delete,
    path = "/api/v1/auth/sessions/{session_id}",
    tag = "auth",
    params(("session_id" = Uuid, Path, description = "Session to close")),
    responses(
        (status = 200, description = "`data: {message}`", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR, SESSION_ALREADY_REVOKED", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN", body = ErrorBody),
        (status = 404, description = "NOT_FOUND", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn revoke_session(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppPath(session_id): AppPath<Uuid>,
) -> Result<ApiResponse<Value>, ApiError> {
    auth::revoke_session(state.pools.primary(), &actor, session_id).await?;
    Ok(ApiResponse::ok(json!({ "message": "Sesión cerrada" })))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = auth::ChangePasswordBody)]
struct ChangePasswordBody {
    current_password: String,
    new_password: String,
}

#[utoipa::path(
    put,
    path = "/api/v1/users/me/password",
    tag = "auth",
    request_body = ChangePasswordBody,
    responses(
        (status = 200, description = "`data: {message}`; other sessions stay open", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR, INVALID_PASSWORD (current password wrong)", body = ErrorBody),
        (status = 401, body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn change_password(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppJson(body): AppJson<ChangePasswordBody>,
) -> Result<ApiResponse<Value>, ApiError> {
    let mut c = Checks::new();
    c.text("currentPassword", &body.current_password, 1, 128);
    c.password("newPassword", &body.new_password);
    c.finish()?;
    auth::change_password(
        state.pools.primary(),
        &actor,
        &body.current_password,
        &body.new_password,
    )
    .await?;
    Ok(ApiResponse::ok(
        json!({ "message": "Contraseña actualizada" }),
    ))
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(
    login,
    refresh,
    logout,
    logout_all,
    me,
    set_active_banca,
    list_sessions,
    revoke_session,
    change_password
))]
pub struct ApiDoc;
