//! `/bancas`: create, update, soft delete and restore (ADMIN; updates also by an assigned
//! BANCA user), list and read (every role, scoped), and the banca commission policy (ADMIN).
//! Also the small wire helpers the ventana routes share (`nullable`, text and money
//! checks).

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, patch, post};
use axum::Router;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::app::AppState;
use crate::db::bancas::BancaRow;
use crate::db::policies::PolicyRow;
use crate::domain::roles::Role;
use crate::http::auth::Auth;
use crate::http::envelope::ApiResponse;
use crate::http::error::{ApiError, ErrorDetail};
use crate::http::extract::AppPath;
use crate::http::extract::{de, AppJson, AppQuery, OptionalJson};
use crate::http::openapi::{ErrorBody, SuccessEnvelope};
use crate::http::pagination::Page;
use crate::http::validate::Checks;
use crate::services::bancas::{self, BancaChanges, BancaError, NewBanca, NewLogin};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/bancas", post(create).get(list))
        .route(
            "/api/v1/bancas/{id}",
            get(one).put(update).patch(update).delete(remove),
        )
        .route("/api/v1/bancas/{id}/restore", patch(restore))
        .route(
            "/api/v1/bancas/{id}/commission-policy",
            get(get_policy).put(put_policy),
        )
}

impl From<BancaError> for ApiError {
    fn from(e: BancaError) -> Self {
        match e {
            BancaError::NotFound => ApiError::not_found(),
            BancaError::Forbidden(why) => {
                tracing::debug!(reason = why, "banca action forbidden");
                crate::http::auth::forbidden()
            }
            BancaError::Exists { field } => {
                let issue = if field == "name" {
                    "ya existe una banca con ese nombre"
                } else {
                    "ya existe una banca con ese código"
                };
                ApiError::new(StatusCode::CONFLICT, "BANCA_EXISTS", format!("Conflicto: {issue}"))
                    .with_details(vec![ErrorDetail {
                        field: field.into(),
                        code: "already_exists".into(),
                        issue: issue.into(),
                    }])
            }
            BancaError::UsernameExists => username_exists(),
            BancaError::HasActiveVentanas { count } => ApiError::new(
                StatusCode::CONFLICT,
                "BANCA_HAS_ACTIVE_VENTANAS",
                format!(
                    "No se puede eliminar la banca: tiene {count} listero(s) activo(s); desactívelos primero"
                ),
            ),
            BancaError::Invalid(details) => validation_error(details),
            BancaError::Hashing => ApiError::internal(&"password hashing failed"),
            BancaError::Database(e) => ApiError::from(e),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Wire helpers shared with the ventana routes.

/// For `Option<Option<T>>` body fields: absent → `None`, `null` → `Some(None)`. Use with
/// `#[serde(default, deserialize_with = "nullable")]`.
pub(crate) fn nullable<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// Trimmed text, `None` when blank.
pub(crate) fn text(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// As `text`, keeping the "absent" / "null" distinction of `nullable` fields.
pub(crate) fn nullable_text(v: Option<Option<String>>) -> Option<Option<String>> {
    v.map(text)
}

/// An e-mail as stored: trimmed, lower-case.
pub(crate) fn email(v: Option<String>) -> Option<String> {
    text(v).map(|s| s.to_lowercase())
}

/// A decimal within `min..=max` with at most `scale` decimals.
pub(crate) fn decimal(
    c: &mut Checks,
    field: &str,
    v: Option<Decimal>,
    min: Decimal,
    max: Decimal,
    scale: u32,
) {
    let Some(v) = v else { return };
    if v < min || v > max {
        c.fail(
            field,
            "out_of_range",
            format!("debe estar entre {min} y {max}"),
        );
    } else if v.round_dp(scale) != v {
        c.fail(
            field,
            "invalid_precision",
            format!("admite como máximo {scale} decimales"),
        );
    }
}

/// A 400 `VALIDATION_ERROR` naming the first problem.
pub(crate) fn validation_error(details: Vec<ErrorDetail>) -> ApiError {
    let message = details
        .first()
        .map(|d| format!("Error en la información enviada ({}): {}", d.field, d.issue))
        .unwrap_or_else(|| "Hay errores en la información enviada".into());
    ApiError::bad_request("VALIDATION_ERROR", message).with_details(details)
}

pub(crate) fn username_exists() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "USERNAME_EXISTS",
        "El nombre de usuario ya está en uso",
    )
    .with_details(vec![ErrorDetail {
        field: "username".into(),
        code: "already_exists".into(),
        issue: "el nombre de usuario ya está en uso".into(),
    }])
}

/// `{reason?}` of DELETE and restore: 3–200 characters when present.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = bancas::ReasonBody)]
pub(crate) struct ReasonBody {
    reason: Option<String>,
}

/// The trimmed reason of an optional `ReasonBody`, checked.
pub(crate) fn reason(body: Option<ReasonBody>) -> Result<Option<String>, Vec<ErrorDetail>> {
    let reason = text(body.and_then(|b| b.reason));
    let mut c = Checks::new();
    c.opt_text("reason", reason.as_deref(), 3, 200);
    finish(c)?;
    Ok(reason)
}

/// The problems `c` collected, if any.
pub(crate) fn finish(c: Checks) -> Result<(), Vec<ErrorDetail>> {
    c.finish().map_err(|e| e.details)
}

/// `{commissionPolicyJson}` of the commission-policy PUTs (the value is checked by the
/// service).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = bancas::PolicyBody)]
pub(crate) struct PolicyBody {
    #[serde(default, deserialize_with = "nullable")]
    commission_policy_json: Option<Option<Value>>,
}

impl PolicyBody {
    /// The policy, `Value::Null` to remove it; a missing key is a 400.
    pub(crate) fn policy(self) -> Result<Value, Vec<ErrorDetail>> {
        match self.commission_policy_json {
            None => Err(vec![ErrorDetail {
                field: bancas::POLICY_FIELD.into(),
                code: "required".into(),
                issue: "es obligatorio (puede ser null)".into(),
            }]),
            Some(v) => Ok(v.unwrap_or(Value::Null)),
        }
    }
}

/// `{id, name, code, commissionPolicyJson}`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PolicyDto {
    id: Uuid,
    name: String,
    code: String,
    commission_policy_json: Option<Value>,
}

impl From<PolicyRow> for PolicyDto {
    fn from(r: PolicyRow) -> Self {
        PolicyDto {
            id: r.id,
            name: r.name,
            code: r.code,
            commission_policy_json: r.commission_policy_json,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Wire shapes.

/// A banca as the client reads it. Money as JSON numbers.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BancaDto {
    id: Uuid,
    name: String,
    code: String,
    email: Option<String>,
    address: Option<String>,
    phone: Option<String>,
    is_active: bool,
    default_min_bet: Decimal,
    global_max_per_number: Decimal,
    sales_cutoff_minutes: i32,
    vendor_limit: Option<i32>,
    max_sessions_per_vendedor: i32,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    deleted_at: Option<DateTime<Utc>>,
}

impl From<BancaRow> for BancaDto {
    fn from(b: BancaRow) -> Self {
        BancaDto {
            id: b.id,
            name: b.name,
            code: b.code,
            email: b.email,
            address: b.address,
            phone: b.phone,
            is_active: b.is_active,
            default_min_bet: b.default_min_bet,
            global_max_per_number: b.global_max_per_number,
            sales_cutoff_minutes: b.sales_cutoff_minutes,
            vendor_limit: b.vendor_limit,
            max_sessions_per_vendedor: b.max_sessions_per_vendedor,
            created_at: b.created_at,
            updated_at: b.updated_at,
            deleted_at: b.deleted_at,
        }
    }
}

/// Upper bound of the money columns (`numeric(14, 2)`).
fn money_max() -> Decimal {
    Decimal::new(99_999_999_999_999, 2)
}

/// The optional columns common to create and update, as sent.
struct CommonFields {
    default_min_bet: Option<Decimal>,
    global_max_per_number: Option<Decimal>,
    sales_cutoff_minutes: Option<i64>,
    max_sessions_per_vendedor: Option<i64>,
}

impl CommonFields {
    fn check(&self, c: &mut Checks) {
        decimal(
            c,
            "defaultMinBet",
            self.default_min_bet,
            Decimal::ONE,
            money_max(),
            2,
        );
        decimal(
            c,
            "globalMaxPerNumber",
            self.global_max_per_number,
            Decimal::ONE,
            money_max(),
            2,
        );
        c.range_i64("salesCutoffMinutes", self.sales_cutoff_minutes, 0, 1440);
        c.range_i64(
            "maxSessionsPerVendedor",
            self.max_sessions_per_vendedor,
            1,
            20,
        );
    }

    /// Call after `check` passed (the integers fit).
    fn into_changes(self, c: &mut BancaChanges) {
        c.default_min_bet = self.default_min_bet;
        c.global_max_per_number = self.global_max_per_number;
        c.sales_cutoff_minutes = self.sales_cutoff_minutes.map(|v| v as i32);
        c.max_sessions_per_vendedor = self.max_sessions_per_vendedor.map(|v| v as i32);
    }
}

fn check_vendor_limit(c: &mut Checks, v: Option<i64>) {
    c.range_i64("vendorLimit", v, 0, 100_000);
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = bancas::CreateBody)]
struct CreateBody {
    name: Option<String>,
    code: Option<String>,
    email: Option<String>,
    address: Option<String>,
    phone: Option<String>,
    is_active: Option<bool>,
    default_min_bet: Option<Decimal>,
    global_max_per_number: Option<Decimal>,
    sales_cutoff_minutes: Option<i64>,
    vendor_limit: Option<i64>,
    max_sessions_per_vendedor: Option<i64>,
    username: Option<String>,
    password: Option<String>,
    confirm_password: Option<String>,
}

impl CreateBody {
    fn validate(self) -> Result<NewBanca, Vec<ErrorDetail>> {
        let name = text(self.name);
        let code = text(self.code).map(|c| c.to_uppercase());
        let email = email(self.email);
        let address = text(self.address);
        let phone = text(self.phone);
        let username = text(self.username);
        let common = CommonFields {
            default_min_bet: self.default_min_bet,
            global_max_per_number: self.global_max_per_number,
            sales_cutoff_minutes: self.sales_cutoff_minutes,
            max_sessions_per_vendedor: self.max_sessions_per_vendedor,
        };
        let mut c = Checks::new();
        match &name {
            Some(n) => c.text("name", n, 2, 100),
            None => c.fail("name", "required", "es obligatorio"),
        }
        match &code {
            Some(v) => c.text("code", v, 2, 20),
            None => c.fail("code", "required", "es obligatorio"),
        }
        c.opt_email("email", email.as_deref());
        c.opt_text("address", address.as_deref(), 0, 200);
        c.opt_text("phone", phone.as_deref(), 0, 20);
        common.check(&mut c);
        check_vendor_limit(&mut c, self.vendor_limit);
        let password = self.password.filter(|p| !p.is_empty());
        match (&username, &password) {
            (Some(u), Some(p)) => {
                c.username("username", u);
                c.password("password", p);
                if self.confirm_password.as_ref().is_some_and(|cp| cp != p) {
                    c.fail(
                        "confirmPassword",
                        "mismatch",
                        "las contraseñas no coinciden",
                    );
                }
            }
            (Some(_), None) => c.fail(
                "password",
                "required",
                "es obligatorio cuando se indica username",
            ),
            (None, Some(_)) => c.fail(
                "username",
                "required",
                "es obligatorio cuando se indica password",
            ),
            (None, None) => {}
        }
        finish(c)?;
        let mut rest = BancaChanges {
            email: Some(email),
            address: Some(address),
            phone: Some(phone),
            vendor_limit: Some(self.vendor_limit.map(|v| v as i32)),
            ..Default::default()
        };
        common.into_changes(&mut rest);
        Ok(NewBanca {
            name: name.unwrap_or_default(),
            code: code.unwrap_or_default(),
            rest,
            is_active: self.is_active.unwrap_or(true),
            login: username
                .zip(password)
                .map(|(username, password)| NewLogin { username, password }),
        })
    }
}

/// Partial update. `isActive` is accepted and ignored (activation goes through DELETE and
/// restore), as in the existing system.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = bancas::UpdateBody)]
struct UpdateBody {
    name: Option<String>,
    code: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    email: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    address: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    phone: Option<Option<String>>,
    #[serde(rename = "isActive")]
    _is_active: Option<bool>,
    default_min_bet: Option<Decimal>,
    global_max_per_number: Option<Decimal>,
    sales_cutoff_minutes: Option<i64>,
    #[serde(default, deserialize_with = "nullable")]
    vendor_limit: Option<Option<i64>>,
    max_sessions_per_vendedor: Option<i64>,
}

impl UpdateBody {
    fn validate(self) -> Result<BancaChanges, Vec<ErrorDetail>> {
        let name = self.name.map(|s| s.trim().to_string());
        let code = self.code.map(|s| s.trim().to_uppercase());
        let email = self
            .email
            .map(|e| e.map(|s| s.trim().to_lowercase()).filter(|s| !s.is_empty()));
        let address = nullable_text(self.address);
        let phone = nullable_text(self.phone);
        let common = CommonFields {
            default_min_bet: self.default_min_bet,
            global_max_per_number: self.global_max_per_number,
            sales_cutoff_minutes: self.sales_cutoff_minutes,
            max_sessions_per_vendedor: self.max_sessions_per_vendedor,
        };
        let mut c = Checks::new();
        c.opt_text("name", name.as_deref(), 2, 100);
        c.opt_text("code", code.as_deref(), 2, 20);
        c.opt_email("email", email.clone().flatten().as_deref());
        c.opt_text("address", address.clone().flatten().as_deref(), 0, 200);
        c.opt_text("phone", phone.clone().flatten().as_deref(), 0, 20);
        common.check(&mut c);
        check_vendor_limit(&mut c, self.vendor_limit.flatten());
        finish(c)?;
        let mut changes = BancaChanges {
            name,
            code,
            email,
            address,
            phone,
            vendor_limit: self.vendor_limit.map(|v| v.map(|v| v as i32)),
            ..Default::default()
        };
        common.into_changes(&mut changes);
        Ok(changes)
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
    /// Ignored (cache buster).
    #[serde(rename = "_")]
    _cache_buster: Option<String>,
}

/// A 400 for a query-string field.
pub(crate) fn query_error(field: &str, code: &str, issue: &str) -> ApiError {
    ApiError::bad_request(
        "VALIDATION_ERROR",
        format!("Error en los filtros de búsqueda ({field}): {issue}"),
    )
    .with_details(vec![ErrorDetail {
        field: field.into(),
        code: code.into(),
        issue: issue.into(),
    }])
}

// ---------------------------------------------------------------------------------------------
// Handlers.

#[utoipa::path(
    post,
    path = "/api/v1/bancas",
    tag = "bancas",
    request_body = CreateBody,
    responses(
        (status = 201, description = "The banca created; `meta.userCreated` when a BANCA login was made with it", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN (ADMIN only)", body = ErrorBody),
        (status = 409, description = "BANCA_EXISTS (name or code), USERNAME_EXISTS", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn create(
    State(state): State<AppState>,
    auth: Auth,
    AppJson(body): AppJson<CreateBody>,
) -> Result<ApiResponse<BancaDto>, ApiError> {
    auth.require(&[Role::Admin])?;
    let input = body.validate().map_err(validation_error)?;
    let created = bancas::create(state.pools.primary(), &auth.0, input).await?;
    let mut res = ApiResponse::created(BancaDto::from(created.banca));
    if let Some((user_id, username)) = created.login {
        res =
            res.with_meta(json!({ "userCreated": true, "userId": user_id, "username": username }));
    }
    Ok(res)
}

#[utoipa::path(
    method(put, patch),
    path = "/api/v1/bancas/{id}",
    tag = "bancas",
    params(("id" = Uuid, Path, description = "Banca id")),
    request_body = UpdateBody,
    responses(
        (status = 200, description = "The banca updated", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN (ADMIN, or a BANCA user assigned to it)", body = ErrorBody),
        (status = 404, description = "NOT_FOUND", body = ErrorBody),
        (status = 409, description = "BANCA_EXISTS", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn update(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<Uuid>,
    AppJson(body): AppJson<UpdateBody>,
) -> Result<ApiResponse<BancaDto>, ApiError> {
    auth.require(&[Role::Admin, Role::Banca])?;
    let changes = body.validate().map_err(validation_error)?;
    let row = bancas::update(state.pools.primary(), &auth.0, id, changes).await?;
    Ok(ApiResponse::ok(row.into()))
}

#[utoipa::path(
    delete,
    path = "/api/v1/bancas/{id}",
    tag = "bancas",
    params(("id" = Uuid, Path, description = "Banca id")),
    request_body(content = Option<ReasonBody>, description = "Optional `{reason}`"),
    responses(
        (status = 200, description = "The banca, soft-deleted", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN (ADMIN only)", body = ErrorBody),
        (status = 404, description = "NOT_FOUND", body = ErrorBody),
        (status = 409, description = "BANCA_HAS_ACTIVE_VENTANAS", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn remove(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<Uuid>,
    OptionalJson(body): OptionalJson<ReasonBody>,
) -> Result<ApiResponse<BancaDto>, ApiError> {
    auth.require(&[Role::Admin])?;
    let reason = reason(body).map_err(validation_error)?;
    let row = bancas::delete(state.pools.primary(), &auth.0, id, reason).await?;
    Ok(ApiResponse::ok(row.into()))
}

#[utoipa::path(
    patch,
    path = "/api/v1/bancas/{id}/restore",
    tag = "bancas",
    params(("id" = Uuid, Path, description = "Banca id")),
    request_body(content = Option<ReasonBody>, description = "Optional `{reason}`"),
    responses(
        (status = 200, description = "The banca, restored", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN (ADMIN only)", body = ErrorBody),
        (status = 404, description = "NOT_FOUND", body = ErrorBody),
        (status = 409, description = "BANCA_EXISTS", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn restore(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<Uuid>,
    OptionalJson(body): OptionalJson<ReasonBody>,
) -> Result<ApiResponse<BancaDto>, ApiError> {
    auth.require(&[Role::Admin])?;
    let reason = reason(body).map_err(validation_error)?;
    let row = bancas::restore(state.pools.primary(), &auth.0, id, reason).await?;
    Ok(ApiResponse::ok(row.into()))
}

#[utoipa::path(
    get,
    path = "/api/v1/bancas",
    tag = "bancas",
    params(ListQuery),
    responses(
        (status = 200, description = "Bancas visible to the caller; `meta` has the page", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 401, body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn list(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppQuery(q): AppQuery<ListQuery>,
) -> Result<ApiResponse<Vec<BancaDto>>, ApiError> {
    let page = Page::new(q.page, q.page_size, 20, 100)?;
    if let Some(s) = &q.search {
        let n = s.chars().count();
        if !(2..=100).contains(&n) {
            return Err(query_error(
                "search",
                "out_of_range",
                "escribe de 2 a 100 caracteres",
            ));
        }
    }
    let (rows, total) = bancas::list(
        state.pools.primary(),
        &actor,
        q.search,
        q.is_active,
        page.limit(),
        page.offset(),
    )
    .await?;
    Ok(ApiResponse::ok(rows.into_iter().map(BancaDto::from).collect()).with_meta(page.meta(total)))
}

#[utoipa::path(
    get,
    path = "/api/v1/bancas/{id}",
    tag = "bancas",
    params(("id" = Uuid, Path, description = "Banca id")),
    responses(
        (status = 200, description = "The banca", body = SuccessEnvelope),
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
) -> Result<ApiResponse<BancaDto>, ApiError> {
    let row = bancas::get(state.pools.primary(), &actor, id).await?;
    Ok(ApiResponse::ok(row.into()))
}

#[utoipa::path(
    get,
    path = "/api/v1/bancas/{id}/commission-policy",
    tag = "bancas",
    params(("id" = Uuid, Path, description = "Banca id")),
    responses(
        (status = 200, description = "`{id, name, code, commissionPolicyJson}`", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN (ADMIN only)", body = ErrorBody),
        (status = 404, description = "NOT_FOUND", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn get_policy(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<Uuid>,
) -> Result<ApiResponse<PolicyDto>, ApiError> {
    auth.require(&[Role::Admin])?;
    let row = bancas::get_commission_policy(state.pools.primary(), &auth.0, id).await?;
    Ok(ApiResponse::ok(row.into()))
}

#[utoipa::path(
    put,
    path = "/api/v1/bancas/{id}/commission-policy",
    tag = "bancas",
    params(("id" = Uuid, Path, description = "Banca id")),
    request_body = PolicyBody,
    responses(
        (status = 200, description = "`{id, name, code, commissionPolicyJson}`", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR (the policy is checked)", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN (ADMIN only)", body = ErrorBody),
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
    auth.require(&[Role::Admin])?;
    let policy = body.policy().map_err(validation_error)?;
    let row = bancas::set_commission_policy(state.pools.primary(), &auth.0, id, policy).await?;
    Ok(ApiResponse::ok(row.into()))
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(create, update, remove, restore, list, one, get_policy, put_policy))]
pub struct ApiDoc;
