//! `/vendedores`: the VENDEDOR users seen as sellers. Reads for ADMIN, BANCA (its active
//! banca) and VENTANA (its ventana); writes for ADMIN and BANCA (ventanas of its bancas).
//! Every response is the user as the client reads it, never a password hash.

use axum::extract::State;
use axum::routing::{get, patch};
use axum::Router;
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

use crate::app::AppState;
use crate::domain::roles::Role;
use crate::http::auth::Auth;
use crate::http::dto::UserDto;
use crate::http::envelope::ApiResponse;
use crate::http::error::ApiError;
use crate::http::extract::AppPath;
use crate::http::extract::{de, AppJson, AppQuery, OptionalJson};
use crate::http::openapi::{ErrorBody, SuccessEnvelope};
use crate::http::pagination::Page;
use crate::http::routes::users::{
    clean, clean_email, delete_reason, present, DeleteBody, EmptyBody,
};
use crate::http::validate::Checks;
use crate::services::users::{self, Door, NewUserInput, UserChanges};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/vendedores", get(list).post(create))
        .route(
            "/api/v1/vendedores/{id}",
            get(one).put(update).patch(update).delete(deactivate),
        )
        .route("/api/v1/vendedores/{id}/restore", patch(restore))
}

const READERS: [Role; 3] = [Role::Admin, Role::Banca, Role::Ventana];
const WRITERS: [Role; 2] = [Role::Admin, Role::Banca];

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    page: Option<u32>,
    page_size: Option<u32>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    search: Option<String>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    ventana_id: Option<Uuid>,
    #[serde(rename = "_")]
    _cache_buster: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/vendedores",
    tag = "vendedores",
    params(ListQuery),
    responses(
        (status = 200, description = "Vendedores in the caller's scope; `meta` has the page", body = SuccessEnvelope),
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
    auth.require(&READERS)?;
    let page = Page::new(q.page, q.page_size, 10, 100)?;
    let mut c = Checks::new();
    c.opt_text("search", q.search.as_deref(), 1, 100);
    c.finish()?;
    let (rows, total) = users::list_vendedores(
        state.pools.primary(),
        &auth.0,
        q.ventana_id,
        q.search,
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
    path = "/api/v1/vendedores/{id}",
    tag = "vendedores",
    params(("id" = Uuid, Path, description = "Vendedor (user) id")),
    responses(
        (status = 200, description = "The vendedor", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN", body = ErrorBody),
        (status = 404, description = "NOT_FOUND", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn one(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<Uuid>,
) -> Result<ApiResponse<UserDto>, ApiError> {
    auth.require(&READERS)?;
    let row = users::get_vendedor(state.pools.primary(), &auth.0, id).await?;
    Ok(ApiResponse::ok(UserDto::from(row)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = vendedores::CreateBody)]
struct CreateBody {
    ventana_id: Uuid,
    code: String,
    name: String,
    username: String,
    email: Option<String>,
    password: String,
}

#[utoipa::path(
    post,
    path = "/api/v1/vendedores",
    tag = "vendedores",
    request_body = CreateBody,
    responses(
        (status = 201, description = "The vendedor created", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN (ADMIN or BANCA), QUOTA_EXCEEDED", body = ErrorBody),
        (status = 404, description = "NOT_FOUND", body = ErrorBody),
        (status = 409, description = "USERNAME_EXISTS, EMAIL_EXISTS, CODE_EXISTS", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn create(
    State(state): State<AppState>,
    auth: Auth,
    AppJson(body): AppJson<CreateBody>,
) -> Result<ApiResponse<UserDto>, ApiError> {
    auth.require(&WRITERS)?;
    let username = body.username.trim().to_string();
    let code = body.code.trim().to_string();
    let email = clean_email(body.email);
    let mut c = Checks::new();
    c.text("code", &code, 1, 20);
    c.text("name", &body.name, 2, 100);
    c.username("username", &username);
    c.opt_email("email", email.as_deref());
    c.password("password", &body.password);
    c.finish()?;
    let row = users::create_user(
        state.pools.primary(),
        &auth.0,
        NewUserInput {
            name: body.name.trim().to_string(),
            username,
            password: body.password,
            email,
            role: Some(Role::Vendedor),
            ventana_id: Some(body.ventana_id),
            code: Some(code),
            ..NewUserInput::default()
        },
    )
    .await?;
    Ok(ApiResponse::created(UserDto::from(row)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = vendedores::UpdateBody)]
struct UpdateBody {
    ventana_id: Option<Uuid>,
    name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    email: Option<Option<String>>,
    password: Option<String>,
    is_active: Option<bool>,
    reset_commission_policy: Option<bool>,
    /// Refused with a clear message (never changed here).
    #[serde(default, deserialize_with = "present")]
    code: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    username: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    role: Option<Value>,
}

#[utoipa::path(
    method(put, patch),
    path = "/api/v1/vendedores/{id}",
    tag = "vendedores",
    params(("id" = Uuid, Path, description = "Vendedor (user) id")),
    request_body = UpdateBody,
    responses(
        (status = 200, description = "The vendedor updated", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN (ADMIN or BANCA), QUOTA_EXCEEDED", body = ErrorBody),
        (status = 404, description = "NOT_FOUND", body = ErrorBody),
        (status = 409, description = "USERNAME_EXISTS, EMAIL_EXISTS, CODE_EXISTS", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn update(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<Uuid>,
    AppJson(body): AppJson<UpdateBody>,
) -> Result<ApiResponse<UserDto>, ApiError> {
    auth.require(&WRITERS)?;
    let mut c = Checks::new();
    for (field, sent) in [
        ("code", body.code.is_some()),
        ("username", body.username.is_some()),
        ("role", body.role.is_some()),
    ] {
        if sent {
            c.fail(
                field,
                "not_allowed",
                format!("{field} no puede modificarse en vendedores"),
            );
        }
    }
    let email = body.email.and_then(clean_email);
    let name = clean(body.name);
    if let Some(n) = &name {
        c.text("name", n, 2, 100);
    }
    c.opt_email("email", email.as_deref());
    if let Some(p) = &body.password {
        c.password("password", p);
    }
    c.finish()?;
    let row = users::update_user(
        state.pools.primary(),
        &auth.0,
        id,
        UserChanges {
            name,
            email,
            password: body.password,
            ventana_id: body.ventana_id.map(Some),
            is_active: body.is_active,
            reset_commission_policy: body.reset_commission_policy.unwrap_or(false),
            ..UserChanges::default()
        },
        Door::Vendedores,
    )
    .await?;
    Ok(ApiResponse::ok(UserDto::from(row)))
}

#[utoipa::path(
    delete,
    path = "/api/v1/vendedores/{id}",
    tag = "vendedores",
    params(("id" = Uuid, Path, description = "Vendedor (user) id")),
    request_body(content = Option<DeleteBody>, description = "Optional `{reason}`"),
    responses(
        (status = 200, description = "The vendedor, deactivated", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN (ADMIN or BANCA), QUOTA_EXCEEDED", body = ErrorBody),
        (status = 404, description = "NOT_FOUND", body = ErrorBody),
        (status = 409, description = "USERNAME_EXISTS, EMAIL_EXISTS, CODE_EXISTS", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn deactivate(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<Uuid>,
    OptionalJson(body): OptionalJson<DeleteBody>,
) -> Result<ApiResponse<UserDto>, ApiError> {
    auth.require(&WRITERS)?;
    let mut c = Checks::new();
    let reason = delete_reason(&mut c, body);
    c.finish()?;
    let row = users::deactivate_user(
        state.pools.primary(),
        &auth.0,
        id,
        reason.as_deref(),
        Door::Vendedores,
    )
    .await?;
    Ok(ApiResponse::ok(UserDto::from(row)))
}

#[utoipa::path(
    patch,
    path = "/api/v1/vendedores/{id}/restore",
    tag = "vendedores",
    params(("id" = Uuid, Path, description = "Vendedor (user) id")),
    request_body(content = Option<EmptyBody>, description = "Nothing, or `{}`"),
    responses(
        (status = 200, description = "The vendedor, active again", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN (ADMIN or BANCA), QUOTA_EXCEEDED", body = ErrorBody),
        (status = 404, description = "NOT_FOUND", body = ErrorBody),
        (status = 409, description = "USERNAME_EXISTS, EMAIL_EXISTS, CODE_EXISTS", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn restore(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<Uuid>,
    OptionalJson(_body): OptionalJson<EmptyBody>,
) -> Result<ApiResponse<UserDto>, ApiError> {
    auth.require(&WRITERS)?;
    let row = users::restore_user(state.pools.primary(), &auth.0, id, Door::Vendedores).await?;
    Ok(ApiResponse::ok(UserDto::from(row)))
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(list, one, create, update, deactivate, restore))]
pub struct ApiDoc;
