//! `/ventanas` (listeros): create with its VENTANA login (ADMIN, BANCA), update and delete
//! (ADMIN; BANCA of its banca; VENTANA its own), restore (ADMIN, BANCA), list and read (every
//! role, scoped: a VENTANA or VENDEDOR sees only its own ventana), and the ventana commission
//! policy. Another tenant's ventana answers 404.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::app::AppState;
use crate::db::ventanas::VentanaRow;
use crate::domain::roles::Role;
use crate::http::auth::Auth;
use crate::http::dto::BancaBrief;
use crate::http::envelope::ApiResponse;
use crate::http::error::{ApiError, ErrorDetail};
use crate::http::extract::AppPath;
use crate::http::extract::{de, AppJson, AppQuery, OptionalJson};
use crate::http::openapi::{ErrorBody, SuccessEnvelope};
use crate::http::pagination::Page;
use crate::http::routes::bancas::{
    decimal, email, finish, nullable, nullable_text, query_error, reason, text, username_exists,
    validation_error, PolicyBody, PolicyDto, ReasonBody,
};
use crate::http::validate::Checks;
use crate::services::ventanas::{self, ListFilter, NewVentana, VentanaChanges, VentanaError};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/ventanas", post(create).get(list))
        .route(
            "/api/v1/ventanas/{id}",
            get(one).put(update).patch(update).delete(remove),
        )
        .route("/api/v1/ventanas/{id}/restore", patch(restore))
        .route(
            "/api/v1/ventanas/{id}/commission-policy",
            get(get_policy).put(put_policy),
        )
}

impl From<VentanaError> for ApiError {
    fn from(e: VentanaError) -> Self {
        match e {
            VentanaError::NotFound => ApiError::not_found(),
            VentanaError::Forbidden(why) => {
                tracing::debug!(reason = why, "ventana action forbidden");
                crate::http::auth::forbidden()
            }
            VentanaError::CodeExists => ApiError::new(
                StatusCode::CONFLICT,
                "VENTANA_EXISTS",
                "Ya existe un listero con ese código",
            )
            .with_details(vec![ErrorDetail {
                field: "code".into(),
                code: "already_exists".into(),
                issue: "ya existe un listero con ese código".into(),
            }]),
            VentanaError::UsernameExists => username_exists(),
            VentanaError::EmailExists => ApiError::new(
                StatusCode::CONFLICT,
                "EMAIL_EXISTS",
                "El correo electrónico ya está en uso por otro usuario",
            )
            .with_details(vec![ErrorDetail {
                field: "email".into(),
                code: "already_exists".into(),
                issue: "el correo electrónico ya está en uso por otro usuario".into(),
            }]),
            VentanaError::BancaNotFound => {
                ApiError::new(StatusCode::NOT_FOUND, "NOT_FOUND", "Banca no encontrada")
            }
            VentanaError::BancaInactive => ApiError::new(
                StatusCode::CONFLICT,
                "BANCA_INACTIVE",
                "La banca está inactiva",
            ),
            VentanaError::BancaRequired => validation_error(vec![ErrorDetail {
                field: "bancaId".into(),
                code: "required".into(),
                issue: "indique la banca (bancaId) o seleccione una banca activa".into(),
            }]),
            VentanaError::Invalid(details) => validation_error(details),
            VentanaError::Hashing => ApiError::internal(&"password hashing failed"),
            VentanaError::Database(e) => ApiError::from(e),
        }
    }
}

/// A ventana as the client reads it, with `banca {id, name, code}`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VentanaDto {
    id: Uuid,
    banca_id: Uuid,
    name: String,
    code: String,
    email: Option<String>,
    phone: Option<String>,
    address: Option<String>,
    commission_margin_x: Decimal,
    is_active: bool,
    settings: Option<Value>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    deleted_at: Option<DateTime<Utc>>,
    banca: BancaBrief,
}

impl From<VentanaRow> for VentanaDto {
    fn from(v: VentanaRow) -> Self {
        VentanaDto {
            banca: BancaBrief {
                id: v.banca_id,
                name: v.banca_name,
                code: v.banca_code,
            },
            id: v.id,
            banca_id: v.banca_id,
            name: v.name,
            code: v.code,
            email: v.email,
            phone: v.phone,
            address: v.address,
            commission_margin_x: v.commission_margin_x,
            is_active: v.is_active,
            settings: v.settings,
            created_at: v.created_at,
            updated_at: v.updated_at,
            deleted_at: v.deleted_at,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Checks.

/// Ventana login names: 3–100 of `[A-Za-z0-9_-]`.
fn check_username(c: &mut Checks, v: &str) {
    let n = v.chars().count();
    if !(3..=100).contains(&n)
        || !v
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '_' | '-'))
    {
        c.fail(
            "username",
            "invalid_format",
            "debe tener de 3 a 100 letras, dígitos, guiones o guiones bajos",
        );
    }
}

fn margin_max() -> Decimal {
    Decimal::new(9_999_999_999, 4)
}

// ---------------------------------------------------------------------------------------------
// Bodies.

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = ventanas::CreateBody)]
struct CreateBody {
    banca_id: Option<Uuid>,
    name: Option<String>,
    code: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    address: Option<String>,
    commission_margin_x: Option<Decimal>,
    is_active: Option<bool>,
    settings: Option<Value>,
    username: Option<String>,
    password: Option<String>,
}

impl CreateBody {
    fn validate(self) -> Result<NewVentana, Vec<ErrorDetail>> {
        let name = text(self.name);
        let code = text(self.code);
        let email = email(self.email);
        let phone = text(self.phone);
        let address = text(self.address);
        let username = text(self.username);
        let mut c = Checks::new();
        match &name {
            Some(n) => c.text("name", n, 2, 100),
            None => c.fail("name", "required", "es obligatorio"),
        }
        c.opt_text("code", code.as_deref(), 2, 10);
        c.opt_email("email", email.as_deref());
        c.opt_text("phone", phone.as_deref(), 0, 20);
        c.opt_text("address", address.as_deref(), 0, 255);
        decimal(
            &mut c,
            "commissionMarginX",
            self.commission_margin_x,
            Decimal::ZERO,
            margin_max(),
            4,
        );
        if let Some(s) = &self.settings {
            c.settings(s, false);
        }
        match &username {
            Some(u) => check_username(&mut c, u),
            None => c.fail("username", "required", "es obligatorio"),
        }
        match &self.password {
            Some(p) => c.password("password", p),
            None => c.fail("password", "required", "es obligatorio"),
        }
        finish(c)?;
        Ok(NewVentana {
            banca_id: self.banca_id,
            name: name.unwrap_or_default(),
            code,
            email,
            phone,
            address,
            commission_margin_x: self.commission_margin_x,
            is_active: self.is_active,
            settings: self.settings,
            username: username.unwrap_or_default(),
            password: self.password.unwrap_or_default(),
        })
    }
}

/// Partial update. `bancaId` may be sent (the client does) but must be the ventana's own.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = ventanas::UpdateBody)]
struct UpdateBody {
    banca_id: Option<Uuid>,
    name: Option<String>,
    code: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    email: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    address: Option<Option<String>>,
    commission_margin_x: Option<Decimal>,
    is_active: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    settings: Option<Option<Value>>,
    username: Option<String>,
    password: Option<String>,
}

impl UpdateBody {
    fn validate(self) -> Result<VentanaChanges, Vec<ErrorDetail>> {
        let name = self.name.map(|s| s.trim().to_string());
        let code = text(self.code);
        let email = self
            .email
            .map(|e| e.map(|s| s.trim().to_lowercase()).filter(|s| !s.is_empty()));
        let phone = nullable_text(self.phone);
        let address = nullable_text(self.address);
        let username = text(self.username);
        let mut c = Checks::new();
        c.opt_text("name", name.as_deref(), 2, 100);
        c.opt_text("code", code.as_deref(), 2, 10);
        c.opt_email("email", email.clone().flatten().as_deref());
        c.opt_text("phone", phone.clone().flatten().as_deref(), 0, 20);
        c.opt_text("address", address.clone().flatten().as_deref(), 0, 255);
        decimal(
            &mut c,
            "commissionMarginX",
            self.commission_margin_x,
            Decimal::ZERO,
            margin_max(),
            4,
        );
        if let Some(Some(s)) = &self.settings {
            c.settings(s, false);
        }
        if let Some(u) = &username {
            check_username(&mut c, u);
        }
        if let Some(p) = &self.password {
            c.password("password", p);
        }
        finish(c)?;
        Ok(VentanaChanges {
            banca_id: self.banca_id,
            name,
            code,
            email,
            phone,
            address,
            commission_margin_x: self.commission_margin_x,
            is_active: self.is_active,
            settings: self.settings,
            username,
            password: self.password,
        })
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    page: Option<u32>,
    page_size: Option<u32>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    search: Option<String>,
    #[serde(default, deserialize_with = "de::opt_bool")]
    is_active: Option<bool>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    banca_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    scope: Option<String>,
    #[serde(rename = "_")]
    _cache_buster: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Handlers.

/// The one creation response outside the `ApiResponse` envelope: the existing system adds a
/// top-level `message`, and the client shows it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreatedBody {
    success: bool,
    message: &'static str,
    data: VentanaDto,
    meta: CreatedMeta,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreatedMeta {
    user_created: bool,
    user_id: Uuid,
    username: String,
}

#[utoipa::path(
    post,
    path = "/api/v1/ventanas",
    tag = "ventanas",
    request_body = CreateBody,
    responses(
        (status = 201, description = "`{success, message, data: ventana, meta: {userCreated, userId, username}}`", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN (ADMIN or BANCA)", body = ErrorBody),
        (status = 404, description = "NOT_FOUND (banca)", body = ErrorBody),
        (status = 409, description = "VENTANA_EXISTS, USERNAME_EXISTS, EMAIL_EXISTS, BANCA_INACTIVE", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn create(
    State(state): State<AppState>,
    auth: Auth,
    AppJson(body): AppJson<CreateBody>,
) -> Result<Response, ApiError> {
    auth.require(&[Role::Admin, Role::Banca])?;
    let input = body.validate().map_err(validation_error)?;
    let created = ventanas::create(state.pools.primary(), &auth.0, input).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedBody {
            success: true,
            message: "Listero y usuario creados correctamente",
            data: created.ventana.into(),
            meta: CreatedMeta {
                user_created: true,
                user_id: created.user_id,
                username: created.username,
            },
        }),
    )
        .into_response())
}

#[utoipa::path(
    method(put, patch),
    path = "/api/v1/ventanas/{id}",
    tag = "ventanas",
    params(("id" = Uuid, Path, description = "Ventana id")),
    request_body = UpdateBody,
    responses(
        (status = 200, description = "The ventana updated", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN", body = ErrorBody),
        (status = 404, description = "NOT_FOUND", body = ErrorBody),
        (status = 409, description = "VENTANA_EXISTS, EMAIL_EXISTS, BANCA_INACTIVE", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn update(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<Uuid>,
    AppJson(body): AppJson<UpdateBody>,
) -> Result<ApiResponse<VentanaDto>, ApiError> {
    auth.require(&[Role::Admin, Role::Banca, Role::Ventana])?;
    let changes = body.validate().map_err(validation_error)?;
    let row = ventanas::update(state.pools.primary(), &auth.0, id, changes).await?;
    Ok(ApiResponse::ok(row.into()))
}

#[utoipa::path(
    delete,
    path = "/api/v1/ventanas/{id}",
    tag = "ventanas",
    params(("id" = Uuid, Path, description = "Ventana id")),
    request_body(content = Option<ReasonBody>, description = "Optional `{reason}`"),
    responses(
        (status = 200, description = "The ventana, soft-deleted", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN", body = ErrorBody),
        (status = 404, description = "NOT_FOUND", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn remove(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<Uuid>,
    OptionalJson(body): OptionalJson<ReasonBody>,
) -> Result<ApiResponse<VentanaDto>, ApiError> {
    auth.require(&[Role::Admin, Role::Banca, Role::Ventana])?;
    let reason = reason(body).map_err(validation_error)?;
    let row = ventanas::delete(state.pools.primary(), &auth.0, id, reason).await?;
    Ok(ApiResponse::ok(row.into()))
}

#[utoipa::path(
    patch,
    path = "/api/v1/ventanas/{id}/restore",
    tag = "ventanas",
    params(("id" = Uuid, Path, description = "Ventana id")),
    request_body(content = Option<ReasonBody>, description = "Optional `{reason}`"),
    responses(
        (status = 200, description = "The ventana, restored", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN", body = ErrorBody),
        (status = 404, description = "NOT_FOUND", body = ErrorBody),
        (status = 409, description = "VENTANA_EXISTS, BANCA_INACTIVE", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn restore(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<Uuid>,
    OptionalJson(body): OptionalJson<ReasonBody>,
) -> Result<ApiResponse<VentanaDto>, ApiError> {
    auth.require(&[Role::Admin, Role::Banca])?;
    let reason = reason(body).map_err(validation_error)?;
    let row = ventanas::restore(state.pools.primary(), &auth.0, id, reason).await?;
    Ok(ApiResponse::ok(row.into()))
}

#[utoipa::path(
    get,
    path = "/api/v1/ventanas",
    tag = "ventanas",
    params(ListQuery),
    responses(
        (status = 200, description = "Ventanas visible to the caller; `meta` has the page", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn list(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppQuery(q): AppQuery<ListQuery>,
) -> Result<ApiResponse<Vec<VentanaDto>>, ApiError> {
    let page = Page::new(q.page, q.page_size, 10, 100)?;
    if q.search.as_ref().is_some_and(|s| s.chars().count() > 100) {
        return Err(query_error(
            "search",
            "too_big",
            "debe tener como máximo 100 caracteres",
        ));
    }
    if let Some(s) = &q.scope {
        if !matches!(s.as_str(), "mine" | "all" | "ventana") {
            return Err(query_error(
                "scope",
                "invalid_enum_value",
                "debe ser mine, all o ventana",
            ));
        }
    }
    let filter = ListFilter {
        search: q.search,
        is_active: q.is_active,
        banca_id: q.banca_id,
    };
    let (rows, total) = ventanas::list(
        state.pools.primary(),
        &actor,
        filter,
        page.limit(),
        page.offset(),
    )
    .await?;
    Ok(
        ApiResponse::ok(rows.into_iter().map(VentanaDto::from).collect())
            .with_meta(page.meta(total)),
    )
}

#[utoipa::path(
    get,
    path = "/api/v1/ventanas/{id}",
    tag = "ventanas",
    params(("id" = Uuid, Path, description = "Ventana id")),
    responses(
        (status = 200, description = "The ventana", body = SuccessEnvelope),
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
) -> Result<ApiResponse<VentanaDto>, ApiError> {
    let row = ventanas::get(state.pools.primary(), &actor, id).await?;
    Ok(ApiResponse::ok(row.into()))
}

#[utoipa::path(
    get,
    path = "/api/v1/ventanas/{id}/commission-policy",
    tag = "ventanas",
    params(("id" = Uuid, Path, description = "Ventana id")),
    responses(
        (status = 200, description = "`{id, name, code, commissionPolicyJson}`", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN", body = ErrorBody),
        (status = 404, description = "NOT_FOUND", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn get_policy(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<Uuid>,
) -> Result<ApiResponse<PolicyDto>, ApiError> {
    auth.require(&[Role::Admin, Role::Banca, Role::Ventana])?;
    let row = ventanas::get_commission_policy(state.pools.primary(), &auth.0, id).await?;
    Ok(ApiResponse::ok(row.into()))
}

#[utoipa::path(
    put,
    path = "/api/v1/ventanas/{id}/commission-policy",
    tag = "ventanas",
    params(("id" = Uuid, Path, description = "Ventana id")),
    request_body = PolicyBody,
    responses(
        (status = 200, description = "`{id, name, code, commissionPolicyJson}`", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR (the policy is checked)", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN", body = ErrorBody),
        (status = 404, description = "NOT_FOUND", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn put_policy(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<Uuid>,
    AppJson(body): AppJson<PolicyBody>,
) -> Result<ApiResponse<PolicyDto>, ApiError> {
    auth.require(&[Role::Admin, Role::Banca, Role::Ventana])?;
    let policy = body.policy().map_err(validation_error)?;
    let row = ventanas::set_commission_policy(state.pools.primary(), &auth.0, id, policy).await?;
    Ok(ApiResponse::ok(row.into()))
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(create, update, remove, restore, list, one, get_policy, put_policy))]
pub struct ApiDoc;
