//! `/users`: create, update, deactivate, restore, list and read users; their banca links and
//! commission policy. Also `PATCH /auth/me` (the caller's own profile) and
//! `POST /auth/register`, which run the same use cases.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, patch, post};
use axum::Router;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::app::AppState;
use crate::db::users::BancaLink;
use crate::domain::roles::Role;
use crate::http::auth::Auth;
use crate::http::dto::UserDto;
use crate::http::envelope::ApiResponse;
use crate::http::error::{ApiError, ErrorDetail};
use crate::http::extract::AppPath;
use crate::http::extract::{de, AppJson, AppQuery, OptionalJson};
use crate::http::openapi::{ErrorBody, SuccessEnvelope};
use crate::http::pagination::Page;
use crate::http::validate::Checks;
use crate::services::users::{self, Door, ListRequest, NewUserInput, UserChanges, UserError};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/users", get(list).post(create))
        .route(
            "/api/v1/users/{id}",
            get(one).patch(update).delete(deactivate),
        )
        .route("/api/v1/users/{id}/restore", patch(restore))
        .route("/api/v1/users/{id}/bancas", get(links).post(add_link))
        .route(
            "/api/v1/users/{id}/bancas/{banca_id}/default",
            patch(set_default_link),
        )
        .route(
            "/api/v1/users/{id}/bancas/{banca_id}",
            axum::routing::delete(remove_link),
        )
        .route(
            "/api/v1/users/{id}/commission-policy",
            get(get_policy).put(put_policy),
        )
        .route("/api/v1/auth/me", patch(update_me))
        .route("/api/v1/auth/register", post(register))
}

impl From<UserError> for ApiError {
    fn from(e: UserError) -> Self {
        match e {
            UserError::Forbidden(msg) => ApiError::new(StatusCode::FORBIDDEN, "FORBIDDEN", msg),
            UserError::FieldForbidden { role, field } => ApiError::new(
                StatusCode::FORBIDDEN,
                "FORBIDDEN",
                format!("Campo no permitido para {}: {field}", role.as_str()),
            ),
            UserError::SelfField(field) => self_field_forbidden(field),
            UserError::NotFound(msg) => ApiError::new(StatusCode::NOT_FOUND, "NOT_FOUND", msg),
            UserError::Invalid(details) => invalid(details),
            UserError::BadRequest(code, msg) => ApiError::bad_request(code, msg),
            UserError::Conflict(code, msg) => ApiError::new(StatusCode::CONFLICT, code, msg),
            UserError::QuotaExceeded { active, limit } => ApiError::new(
                StatusCode::FORBIDDEN,
                "QUOTA_EXCEEDED",
                format!(
                    "Se alcanzó el límite de vendedores activos de la banca ({active}/{limit})"
                ),
            ),
            UserError::Password(crate::domain::password::PasswordError::Hashing) => {
                ApiError::internal(&"password hashing failed")
            }
            UserError::Password(p) => invalid(vec![ErrorDetail {
                field: "password".into(),
                code: "invalid_length".into(),
                issue: p.to_string(),
            }]),
            UserError::Database(d) => d.into(),
        }
    }
}

fn invalid(details: Vec<ErrorDetail>) -> ApiError {
    let msg = details
        .first()
        .map(|d| format!("Error en la información enviada ({}): {}", d.field, d.issue))
        .unwrap_or_else(|| "Hay errores en la información enviada".into());
    ApiError::bad_request("VALIDATION_ERROR", msg).with_details(details)
}

fn self_field_forbidden(field: &str) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "FORBIDDEN",
        format!("No puedes modificar el campo {field}. Contacta a un administrador."),
    )
}

/// Deserializes a field that is present (even as `null`) into `Some(..)`; absent stays `None`
/// with `#[serde(default)]`. Tells "clear it" (`null`) from "leave it" (absent).
pub(crate) fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

/// Trimmed; empty means absent.
pub(crate) fn clean(s: Option<String>) -> Option<String> {
    s.map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

/// Trimmed and lower-cased; empty means absent.
pub(crate) fn clean_email(s: Option<String>) -> Option<String> {
    clean(s).map(|v| v.to_lowercase())
}

/// Telephone numbers: 11 digits grouped 3-4-4, any separators between the groups
/// (`(506) 8888-8888`), at most 32 characters.
fn phone_ok(v: &str) -> bool {
    if v.chars().count() > 32 {
        return false;
    }
    let mut digits = 0;
    let mut prev_digit = false;
    for ch in v.chars() {
        if ch.is_ascii_digit() {
            digits += 1;
            prev_digit = true;
        } else {
            // A separator may only follow the 3rd or the 7th digit (or lead / trail).
            if prev_digit && digits != 3 && digits != 7 && digits != 11 {
                return false;
            }
            prev_digit = false;
        }
    }
    digits == 11
}

pub(crate) fn check_phone(c: &mut Checks, v: Option<&str>) {
    if let Some(p) = v {
        if !phone_ok(p) {
            c.fail("phone", "invalid_format", "Formato de teléfono inválido");
        }
    }
}

fn to_i32(v: Option<i64>) -> Option<i32> {
    v.and_then(|n| i32::try_from(n).ok())
}

// ---------------------------------------------------------------------------------------------
// Create and register

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = users::CreateUserBody)]
struct CreateUserBody {
    name: String,
    username: String,
    password: String,
    email: Option<String>,
    phone: Option<String>,
    #[schema(value_type = Option<crate::http::openapi::Role>)]
    role: Option<Role>,
    ventana_id: Option<Uuid>,
    banca_id: Option<Uuid>,
    banca_ids: Option<Vec<Uuid>>,
    is_active: Option<bool>,
    max_sessions_per_vendedor: Option<i64>,
}

/// Checks a create body into `c` and returns the normalized input.
fn check_new_user(c: &mut Checks, body: CreateUserBody) -> NewUserInput {
    let username = body.username.trim().to_string();
    let email = clean_email(body.email);
    let phone = clean(body.phone);
    c.text("name", &body.name, 2, 100);
    c.username("username", &username);
    c.password("password", &body.password);
    c.opt_email("email", email.as_deref());
    check_phone(c, phone.as_deref());
    c.range_i64(
        "maxSessionsPerVendedor",
        body.max_sessions_per_vendedor,
        1,
        20,
    );
    if body.banca_ids.as_ref().is_some_and(|v| v.len() > 100) {
        c.fail("bancaIds", "too_big", "admite como máximo 100 bancas");
    }
    NewUserInput {
        name: body.name.trim().to_string(),
        username,
        password: body.password,
        email,
        phone,
        role: body.role,
        ventana_id: body.ventana_id,
        banca_id: body.banca_id,
        banca_ids: body.banca_ids,
        is_active: body.is_active,
        max_sessions_per_vendedor: to_i32(body.max_sessions_per_vendedor),
        code: None,
    }
}

#[utoipa::path(
    post,
    path = "/api/v1/users",
    tag = "users",
    request_body = CreateUserBody,
    responses(
        (status = 201, description = "The user created", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR and other input codes", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN, QUOTA_EXCEEDED", body = ErrorBody),
        (status = 404, description = "NOT_FOUND", body = ErrorBody),
        (status = 409, description = "USERNAME_EXISTS, EMAIL_EXISTS, CODE_EXISTS and other conflicts", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn create(
    State(state): State<AppState>,
    auth: Auth,
    AppJson(body): AppJson<CreateUserBody>,
) -> Result<ApiResponse<UserDto>, ApiError> {
    auth.require(&[Role::Admin, Role::Banca, Role::Ventana])?;
    let mut c = Checks::new();
    let input = check_new_user(&mut c, body);
    c.finish()?;
    let row = users::create_user(state.pools.primary(), &auth.0, input).await?;
    Ok(ApiResponse::created(UserDto::from(row)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = users::RegisterBody)]
struct RegisterBody {
    username: String,
    name: String,
    password: String,
    email: Option<String>,
    #[schema(value_type = Option<crate::http::openapi::Role>)]
    role: Option<Role>,
    ventana_id: Option<Uuid>,
}

/// `POST /auth/register`. Public self-registration is closed (it could attach users to any
/// ventana whose id was known): the caller must be an authenticated ADMIN, BANCA or VENTANA,
/// and the request behaves exactly like `POST /users` restricted to the roles VENTANA and
/// VENDEDOR (ADMIN or BANCA → 403). The role defaults to VENTANA (VENDEDOR for a VENTANA
/// caller, who may only create vendedores of its own ventana). 201 with the user.
#[utoipa::path(
    post,
    path = "/api/v1/auth/register",
    tag = "users",
    request_body = RegisterBody,
    responses(
        (status = 201, description = "The VENTANA or VENDEDOR user created", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR and other input codes", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN, QUOTA_EXCEEDED", body = ErrorBody),
        (status = 404, description = "NOT_FOUND", body = ErrorBody),
        (status = 409, description = "USERNAME_EXISTS, EMAIL_EXISTS, CODE_EXISTS and other conflicts", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn register(
    State(state): State<AppState>,
    auth: Auth,
    AppJson(body): AppJson<RegisterBody>,
) -> Result<ApiResponse<UserDto>, ApiError> {
    auth.require(&[Role::Admin, Role::Banca, Role::Ventana])?;
    if body.role.is_some_and(|r| !r.needs_ventana()) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
            "Solo se pueden registrar usuarios VENTANA o VENDEDOR",
        ));
    }
    let default_role = if auth.0.role == Role::Ventana {
        Role::Vendedor
    } else {
        Role::Ventana
    };
    let mut c = Checks::new();
    let input = check_new_user(
        &mut c,
        CreateUserBody {
            name: body.name,
            username: body.username,
            password: body.password,
            email: body.email,
            phone: None,
            role: Some(body.role.unwrap_or(default_role)),
            ventana_id: body.ventana_id,
            banca_id: None,
            banca_ids: None,
            is_active: None,
            max_sessions_per_vendedor: None,
        },
    );
    c.finish()?;
    let row = users::create_user(state.pools.primary(), &auth.0, input).await?;
    Ok(ApiResponse::created(UserDto::from(row)))
}

// ---------------------------------------------------------------------------------------------
// Update

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = users::UpdateUserBody)]
struct UpdateUserBody {
    name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    email: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    phone: Option<Option<String>>,
    username: Option<String>,
    password: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<crate::http::openapi::Role>)]
    role: Option<Option<Role>>,
    #[serde(default, deserialize_with = "present")]
    ventana_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "present")]
    banca_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "present")]
    is_active: Option<Option<bool>>,
    #[serde(default, deserialize_with = "present")]
    code: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    max_sessions_per_vendedor: Option<Option<i64>>,
    #[serde(default, deserialize_with = "present")]
    settings: Option<Option<Value>>,
}

/// Checks an update body into `c` and returns the normalized changes.
fn check_changes(c: &mut Checks, body: UpdateUserBody) -> UserChanges {
    let username = body.username.map(|u| u.trim().to_string());
    let email = body.email.and_then(clean_email);
    let phone = body.phone.and_then(clean);
    let code = body.code.map(|v| v.map(|s| s.trim().to_string()));
    c.opt_text("name", body.name.as_deref(), 2, 100);
    if let Some(u) = &username {
        c.username("username", u);
    }
    if let Some(p) = &body.password {
        c.password("password", p);
    }
    c.opt_email("email", email.as_deref());
    check_phone(c, phone.as_deref());
    if let Some(Some(code)) = &code {
        c.text("code", code, 2, 32);
    }
    if let Some(Some(n)) = body.max_sessions_per_vendedor {
        c.range_i64("maxSessionsPerVendedor", Some(n), 1, 20);
    }
    if matches!(body.role, Some(None)) {
        c.fail("role", "invalid_type", "role no puede ser null");
    }
    if matches!(body.is_active, Some(None)) {
        c.fail("isActive", "invalid_type", "isActive no puede ser null");
    }
    if let Some(Some(s)) = &body.settings {
        c.settings(s, true);
    }
    UserChanges {
        name: body.name.map(|n| n.trim().to_string()),
        username,
        email,
        phone,
        password: body.password,
        role: body.role.flatten(),
        ventana_id: body.ventana_id,
        banca_id: body.banca_id,
        is_active: body.is_active.flatten(),
        code,
        max_sessions_per_vendedor: body.max_sessions_per_vendedor.map(to_i32),
        settings: body.settings,
        reset_commission_policy: false,
    }
}

#[utoipa::path(
    patch,
    path = "/api/v1/users/{id}",
    tag = "users",
    params(("id" = Uuid, Path, description = "User id")),
    request_body = UpdateUserBody,
    responses(
        (status = 200, description = "The user updated", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR and other input codes", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN, QUOTA_EXCEEDED", body = ErrorBody),
        (status = 404, description = "NOT_FOUND", body = ErrorBody),
        (status = 409, description = "USERNAME_EXISTS, EMAIL_EXISTS, CODE_EXISTS and other conflicts", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn update(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<Uuid>,
    AppJson(body): AppJson<UpdateUserBody>,
) -> Result<ApiResponse<UserDto>, ApiError> {
    let mut c = Checks::new();
    let changes = check_changes(&mut c, body);
    c.finish()?;
    let row = users::update_user(state.pools.primary(), &auth.0, id, changes, Door::Users).await?;
    Ok(ApiResponse::ok(UserDto::from(row)))
}

/// `PATCH /auth/me`: the caller's own profile (name, username, email, phone, password,
/// settings). `role`, `ventanaId`, `code`, `isActive` or `bancaId` → 403.
#[utoipa::path(
    patch,
    path = "/api/v1/auth/me",
    tag = "users",
    request_body = UpdateUserBody,
    responses(
        (status = 200, description = "The caller, updated", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN (role, ventanaId, code, isActive and bancaId are not self-service)", body = ErrorBody),
        (status = 404, description = "NOT_FOUND", body = ErrorBody),
        (status = 409, description = "USERNAME_EXISTS, EMAIL_EXISTS", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn update_me(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppJson(body): AppJson<UpdateUserBody>,
) -> Result<ApiResponse<UserDto>, ApiError> {
    for (field, present) in [
        ("role", body.role.is_some()),
        ("ventanaId", body.ventana_id.is_some()),
        ("code", body.code.is_some()),
        ("isActive", body.is_active.is_some()),
        ("bancaId", body.banca_id.is_some()),
    ] {
        if present {
            return Err(self_field_forbidden(field));
        }
    }
    let mut c = Checks::new();
    let changes = check_changes(&mut c, body);
    c.finish()?;
    let row = users::update_user(
        state.pools.primary(),
        &actor,
        actor.user_id,
        changes,
        Door::SelfService,
    )
    .await?;
    Ok(ApiResponse::ok(UserDto::from(row)))
}

// ---------------------------------------------------------------------------------------------
// Delete and restore

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = users::DeleteBody)]
pub(crate) struct DeleteBody {
    pub reason: Option<String>,
}

/// The optional `reason` of a delete body, checked into `c` (at most 500 characters).
pub(crate) fn delete_reason(c: &mut Checks, body: Option<DeleteBody>) -> Option<String> {
    let reason = clean(body.and_then(|b| b.reason));
    c.opt_text("reason", reason.as_deref(), 1, 500);
    reason
}

/// A restore body: nothing or `{}`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = users::EmptyBody)]
pub(crate) struct EmptyBody {}

#[utoipa::path(
    delete,
    path = "/api/v1/users/{id}",
    tag = "users",
    params(("id" = Uuid, Path, description = "User id")),
    request_body(content = Option<DeleteBody>, description = "Optional `{reason}`"),
    responses(
        (status = 200, description = "The user, deactivated", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR and other input codes", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN, QUOTA_EXCEEDED", body = ErrorBody),
        (status = 404, description = "NOT_FOUND", body = ErrorBody),
        (status = 409, description = "USERNAME_EXISTS, EMAIL_EXISTS, CODE_EXISTS and other conflicts", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn deactivate(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<Uuid>,
    OptionalJson(body): OptionalJson<DeleteBody>,
) -> Result<ApiResponse<UserDto>, ApiError> {
    auth.require(&[Role::Admin, Role::Banca, Role::Ventana])?;
    let mut c = Checks::new();
    let reason = delete_reason(&mut c, body);
    c.finish()?;
    let row = users::deactivate_user(
        state.pools.primary(),
        &auth.0,
        id,
        reason.as_deref(),
        Door::Users,
    )
    .await?;
    Ok(ApiResponse::ok(UserDto::from(row)))
}

#[utoipa::path(
    patch,
    path = "/api/v1/users/{id}/restore",
    tag = "users",
    params(("id" = Uuid, Path, description = "User id")),
    request_body(content = Option<EmptyBody>, description = "Nothing, or `{}`"),
    responses(
        (status = 200, description = "The user, active again", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR and other input codes", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN, QUOTA_EXCEEDED", body = ErrorBody),
        (status = 404, description = "NOT_FOUND", body = ErrorBody),
        (status = 409, description = "USERNAME_EXISTS, EMAIL_EXISTS, CODE_EXISTS and other conflicts", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn restore(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<Uuid>,
    OptionalJson(_body): OptionalJson<EmptyBody>,
) -> Result<ApiResponse<UserDto>, ApiError> {
    auth.require(&[Role::Admin, Role::Banca, Role::Ventana])?;
    let row = users::restore_user(state.pools.primary(), &auth.0, id, Door::Users).await?;
    Ok(ApiResponse::ok(UserDto::from(row)))
}

// ---------------------------------------------------------------------------------------------
// Read

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    page: Option<u32>,
    page_size: Option<u32>,
    #[param(value_type = Option<crate::http::openapi::Role>)]
    role: Option<Role>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    search: Option<String>,
    #[serde(default, deserialize_with = "de::opt_bool")]
    is_active: Option<bool>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    ventana_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    banca_id: Option<Uuid>,
    /// Accepted for compatibility (`mine|all|ventana`); the role decides the scope.
    /// Accepted for compatibility; the caller's role decides the scope.
    #[serde(rename = "scope")]
    #[param(inline)]
    _scope: Option<Scope>,
    #[serde(rename = "_")]
    _cache_buster: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = users::Scope)]
enum Scope {
    Mine,
    All,
    Ventana,
}

#[utoipa::path(
    get,
    path = "/api/v1/users",
    tag = "users",
    params(ListQuery),
    responses(
        (status = 200, description = "Users in the caller's scope; `meta` has the page", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN (ADMIN, BANCA or VENTANA)", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn list(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(q): AppQuery<ListQuery>,
) -> Result<ApiResponse<Vec<UserDto>>, ApiError> {
    auth.require(&[Role::Admin, Role::Banca, Role::Ventana])?;
    let page = Page::new(q.page, q.page_size, 10, 1000)?;
    if q.search.as_ref().is_some_and(|s| s.chars().count() > 100) {
        return Err(invalid(vec![ErrorDetail {
            field: "search".into(),
            code: "too_big".into(),
            issue: "debe tener como máximo 100 caracteres".into(),
        }]));
    }
    let (rows, total) = users::list_users(
        state.pools.primary(),
        &auth.0,
        ListRequest {
            banca_id: q.banca_id,
            ventana_id: q.ventana_id,
            role: q.role,
            is_active: q.is_active,
            search: q.search,
        },
        page.limit(),
        page.offset(),
    )
    .await?;
    Ok(
        ApiResponse::ok(rows.into_iter().map(UserDto::from).collect::<Vec<_>>())
            .with_meta(page.meta(total)),
    )
}

#[utoipa::path(
    get,
    path = "/api/v1/users/{id}",
    tag = "users",
    params(("id" = Uuid, Path, description = "User id")),
    responses(
        (status = 200, description = "The user", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN", body = ErrorBody),
        (status = 404, description = "NOT_FOUND", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn one(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppPath(id): AppPath<Uuid>,
) -> Result<ApiResponse<UserDto>, ApiError> {
    let row = users::get_user(state.pools.primary(), &actor, id).await?;
    Ok(ApiResponse::ok(UserDto::from(row)))
}

// ---------------------------------------------------------------------------------------------
// Banca links

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LinkBancaDto {
    id: Uuid,
    name: String,
    is_active: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BancaLinkDto {
    user_id: Uuid,
    banca_id: Uuid,
    is_default: bool,
    created_at: DateTime<Utc>,
    banca: LinkBancaDto,
}

impl From<BancaLink> for BancaLinkDto {
    fn from(l: BancaLink) -> Self {
        BancaLinkDto {
            user_id: l.user_id,
            banca_id: l.banca_id,
            is_default: l.is_default,
            created_at: l.created_at,
            banca: LinkBancaDto {
                id: l.banca_id,
                name: l.banca_name,
                is_active: l.banca_is_active,
            },
        }
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/users/{id}/bancas",
    tag = "users",
    params(("id" = Uuid, Path, description = "User id")),
    responses(
        (status = 200, description = "The user's banca links `[{userId, bancaId, isDefault, createdAt, banca}]`", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN", body = ErrorBody),
        (status = 404, description = "NOT_FOUND", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn links(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppPath(id): AppPath<Uuid>,
) -> Result<ApiResponse<Vec<BancaLinkDto>>, ApiError> {
    let links = users::banca_links(state.pools.primary(), &actor, id).await?;
    Ok(ApiResponse::ok(
        links.into_iter().map(BancaLinkDto::from).collect(),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = users::AddLinkBody)]
struct AddLinkBody {
    banca_id: Uuid,
    is_default: Option<bool>,
}

#[utoipa::path(
    post,
    path = "/api/v1/users/{id}/bancas",
    tag = "users",
    params(("id" = Uuid, Path, description = "User id")),
    request_body = AddLinkBody,
    responses(
        (status = 201, description = "The link created", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR and other input codes", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN, QUOTA_EXCEEDED", body = ErrorBody),
        (status = 404, description = "NOT_FOUND", body = ErrorBody),
        (status = 409, description = "USERNAME_EXISTS, EMAIL_EXISTS, CODE_EXISTS and other conflicts", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn add_link(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppPath(id): AppPath<Uuid>,
    AppJson(body): AppJson<AddLinkBody>,
) -> Result<ApiResponse<BancaLinkDto>, ApiError> {
    let link = users::add_banca_link(
        state.pools.primary(),
        &actor,
        id,
        body.banca_id,
        body.is_default.unwrap_or(false),
    )
    .await?;
    Ok(ApiResponse::created(BancaLinkDto::from(link)))
}

#[utoipa::path(
    patch,
    path = "/api/v1/users/{id}/bancas/{banca_id}/default",
    tag = "users",
    params(("id" = Uuid, Path, description = "User id"), ("banca_id" = Uuid, Path, description = "Banca id")),
    request_body(content = Option<EmptyBody>, description = "Nothing, or `{}`"),
    responses(
        (status = 200, description = "The link, now the default", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR and other input codes", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN, QUOTA_EXCEEDED", body = ErrorBody),
        (status = 404, description = "NOT_FOUND", body = ErrorBody),
        (status = 409, description = "USERNAME_EXISTS, EMAIL_EXISTS, CODE_EXISTS and other conflicts", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn set_default_link(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppPath((id, banca_id)): AppPath<(Uuid, Uuid)>,
    OptionalJson(_body): OptionalJson<EmptyBody>,
) -> Result<ApiResponse<BancaLinkDto>, ApiError> {
    let link = users::set_default_banca(state.pools.primary(), &actor, id, banca_id).await?;
    Ok(ApiResponse::ok(BancaLinkDto::from(link)))
}

#[utoipa::path(
    delete,
    path = "/api/v1/users/{id}/bancas/{banca_id}",
    tag = "users",
    params(("id" = Uuid, Path, description = "User id"), ("banca_id" = Uuid, Path, description = "Banca id")),
    request_body(content = Option<EmptyBody>, description = "Nothing, or `{}`"),
    responses(
        (status = 200, description = "`{message, userId, bancaId}`", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR and other input codes", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN, QUOTA_EXCEEDED", body = ErrorBody),
        (status = 404, description = "NOT_FOUND", body = ErrorBody),
        (status = 409, description = "USERNAME_EXISTS, EMAIL_EXISTS, CODE_EXISTS and other conflicts", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn remove_link(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppPath((id, banca_id)): AppPath<(Uuid, Uuid)>,
    OptionalJson(_body): OptionalJson<EmptyBody>,
) -> Result<ApiResponse<Value>, ApiError> {
    users::remove_banca_link(state.pools.primary(), &actor, id, banca_id).await?;
    Ok(ApiResponse::ok(
        json!({ "message": "Asignación eliminada", "userId": id, "bancaId": banca_id }),
    ))
}

// ---------------------------------------------------------------------------------------------
// Commission policy

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PolicyDto {
    id: Uuid,
    name: String,
    username: String,
    role: Role,
    commission_policy_json: Option<Value>,
}

impl From<crate::db::users::UserRow> for PolicyDto {
    fn from(u: crate::db::users::UserRow) -> Self {
        PolicyDto {
            id: u.id,
            name: u.name,
            username: u.username,
            role: u.role,
            commission_policy_json: u.commission_policy_json,
        }
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/users/{id}/commission-policy",
    tag = "users",
    params(("id" = Uuid, Path, description = "User id")),
    responses(
        (status = 200, description = "`{id, name, username, role, commissionPolicyJson}`", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN", body = ErrorBody),
        (status = 404, description = "NOT_FOUND", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn get_policy(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppPath(id): AppPath<Uuid>,
) -> Result<ApiResponse<PolicyDto>, ApiError> {
    let row = users::commission_policy(state.pools.primary(), &actor, id).await?;
    Ok(ApiResponse::ok(PolicyDto::from(row)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = users::PolicyBody)]
struct PolicyBody {
    #[serde(default, deserialize_with = "present")]
    commission_policy_json: Option<Option<Value>>,
}

#[utoipa::path(
    put,
    path = "/api/v1/users/{id}/commission-policy",
    tag = "users",
    params(("id" = Uuid, Path, description = "User id")),
    request_body = PolicyBody,
    responses(
        (status = 200, description = "`{id, name, username, role, commissionPolicyJson}`", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR and other input codes", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN, QUOTA_EXCEEDED", body = ErrorBody),
        (status = 404, description = "NOT_FOUND", body = ErrorBody),
        (status = 409, description = "USERNAME_EXISTS, EMAIL_EXISTS, CODE_EXISTS and other conflicts", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn put_policy(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppPath(id): AppPath<Uuid>,
    AppJson(body): AppJson<PolicyBody>,
) -> Result<ApiResponse<PolicyDto>, ApiError> {
    let Some(policy) = body.commission_policy_json else {
        return Err(invalid(vec![ErrorDetail {
            field: "commissionPolicyJson".into(),
            code: "required".into(),
            issue: "commissionPolicyJson es obligatorio (un objeto o null)".into(),
        }]));
    };
    let row = users::set_commission_policy(
        state.pools.primary(),
        &actor,
        id,
        policy.unwrap_or(Value::Null),
    )
    .await?;
    Ok(ApiResponse::ok(PolicyDto::from(row)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_follow_the_3_4_4_grouping() {
        assert!(phone_ok("(506) 8888-8888"));
        assert!(phone_ok("50688888888"));
        assert!(phone_ok("506 8888 8888"));
        assert!(!phone_ok("8888-8888"));
        assert!(!phone_ok("5068 888 8888"));
        assert!(!phone_ok("abc"));
    }

    #[test]
    fn settings_shape() {
        let mut c = Checks::new();
        c.settings(
            &json!({"print": {"width": 58, "footer": "gracias", "bluetoothMacAddress": "AA:BB:CC:DD:EE:FF"}, "theme": "dark"}),
            true,
        );
        assert!(c.finish().is_ok());
        let mut c = Checks::new();
        c.settings(
            &json!({"print": {"width": 60, "color": 1}, "theme": "blue", "x": 1}),
            true,
        );
        assert_eq!(c.finish().unwrap_err().details.len(), 4);
    }
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(
    list,
    create,
    one,
    update,
    deactivate,
    restore,
    links,
    add_link,
    set_default_link,
    remove_link,
    get_policy,
    put_policy,
    update_me,
    register
))]
pub struct ApiDoc;
