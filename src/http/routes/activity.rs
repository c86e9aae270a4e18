//! `/activity-logs`: the audit trail, for ADMIN (every banca, or the active one) and BANCA
//! (its active banca). Entries of other bancas answer 404.

use axum::extract::State;
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::app::AppState;
use crate::db::activity::{self, ActivityFilter, ActivityRow};
use crate::domain::authz::Actor;
use crate::domain::roles::Role;
use crate::http::auth::Auth;
use crate::http::envelope::ApiResponse;
use crate::http::error::ApiError;
use crate::http::extract::AppPath;
use crate::http::extract::{de, AppQuery, OptionalJson};
use crate::http::openapi::{ErrorBody, SuccessEnvelope};
use crate::http::pagination::Page;
use crate::http::validate::Checks;
use crate::services;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/activity-logs", get(list))
        .route("/api/v1/activity-logs/cleanup", post(cleanup))
        .route("/api/v1/activity-logs/user/{user_id}", get(by_user))
        .route(
            "/api/v1/activity-logs/target/{target_type}/{target_id}",
            get(by_target),
        )
        .route("/api/v1/activity-logs/action/{action}", get(by_action))
        .route("/api/v1/activity-logs/{id}", get(one))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UserRef {
    id: Uuid,
    username: Option<String>,
    name: Option<String>,
    role: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ActivityDto {
    id: Uuid,
    user_id: Option<Uuid>,
    banca_id: Option<Uuid>,
    action: String,
    target_type: Option<String>,
    target_id: Option<String>,
    details: Option<Value>,
    request_id: Option<String>,
    created_at: DateTime<Utc>,
    user: Option<UserRef>,
}

impl From<ActivityRow> for ActivityDto {
    fn from(r: ActivityRow) -> Self {
        ActivityDto {
            user: r.user_id.map(|id| UserRef {
                id,
                username: r.username,
                name: r.user_name,
                role: r.user_role,
            }),
            id: r.id,
            user_id: r.user_id,
            banca_id: r.banca_id,
            action: r.action,
            target_type: r.target_type,
            target_id: r.target_id,
            details: r.details,
            request_id: r.request_id,
            created_at: r.created_at,
        }
    }
}

/// The bancas whose entries the caller sees: `None` = all (ADMIN without an active banca).
fn scope(actor: &Actor) -> Result<Option<Vec<Uuid>>, ApiError> {
    match actor.role {
        Role::Admin => Ok(actor.banca_id.map(|b| vec![b])),
        Role::Banca => match actor.banca_id {
            Some(b) => Ok(Some(vec![b])),
            None => Err(ApiError::new(
                axum::http::StatusCode::FORBIDDEN,
                "NO_BANCA",
                "No tienes bancas asignadas",
            )),
        },
        _ => Err(crate::http::auth::forbidden()),
    }
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    page: Option<u32>,
    page_size: Option<u32>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    user_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    action: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    target_type: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    target_id: Option<String>,
    start_date: Option<DateTime<Utc>>,
    end_date: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    search: Option<String>,
    #[serde(rename = "_")]
    _cache_buster: Option<String>,
}

async fn run_list(
    state: &AppState,
    actor: &Actor,
    q: ListQuery,
) -> Result<ApiResponse<Vec<ActivityDto>>, ApiError> {
    let banca_ids = scope(actor)?;
    let page = Page::new(q.page, q.page_size, 20, 100)?;
    if let (Some(s), Some(e)) = (q.start_date, q.end_date) {
        if s > e {
            return Err(ApiError::bad_request(
                "VALIDATION_ERROR",
                "startDate debe ser anterior o igual a endDate",
            ));
        }
    }
    let filter = ActivityFilter {
        banca_ids,
        user_id: q.user_id,
        action: q.action.map(|a| a.to_uppercase()),
        target_type: q.target_type,
        target_id: q.target_id,
        start: q.start_date,
        end: q.end_date,
        search: q.search,
    };
    let mut conn = state.pools.primary().acquire().await?;
    let (rows, total) = activity::list(&mut conn, &filter, page.limit(), page.offset()).await?;
    Ok(
        ApiResponse::ok(rows.into_iter().map(ActivityDto::from).collect())
            .with_meta(page.meta(total)),
    )
}

#[utoipa::path(
    get,
    path = "/api/v1/activity-logs",
    tag = "activity",
    params(ListQuery),
    responses(
        (status = 200, description = "Entries, newest first; `meta` has the page", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN (ADMIN or BANCA), NO_BANCA", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn list(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppQuery(q): AppQuery<ListQuery>,
) -> Result<ApiResponse<Vec<ActivityDto>>, ApiError> {
    run_list(&state, &actor, q).await
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct PageQuery {
    page: Option<u32>,
    page_size: Option<u32>,
    #[serde(rename = "_")]
    _cache_buster: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/activity-logs/user/{user_id}",
    tag = "activity",
    params(("user_id" = Uuid, Path, description = "Acting user"), PageQuery),
    responses(
        (status = 200, description = "Entries of one user; `meta` has the page", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN (ADMIN or BANCA), NO_BANCA", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn by_user(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppPath(user_id): AppPath<Uuid>,
    AppQuery(q): AppQuery<PageQuery>,
) -> Result<ApiResponse<Vec<ActivityDto>>, ApiError> {
    let list = ListQuery {
        page: q.page,
        page_size: q.page_size,
        user_id: Some(user_id),
        ..Default::default()
    };
    run_list(&state, &actor, list).await
}

#[utoipa::path(
    get,
    path = "/api/v1/activity-logs/target/{target_type}/{target_id}",
    tag = "activity",
    params(("target_type" = String, Path, description = "e.g. TICKET, USER, SORTEO"), ("target_id" = String, Path, description = "The target's id"), PageQuery),
    responses(
        (status = 200, description = "Entries about one target; `meta` has the page", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN (ADMIN or BANCA), NO_BANCA", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn by_target(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppPath((target_type, target_id)): AppPath<(String, String)>,
    AppQuery(q): AppQuery<PageQuery>,
) -> Result<ApiResponse<Vec<ActivityDto>>, ApiError> {
    let list = ListQuery {
        page: q.page,
        page_size: q.page_size,
        target_type: Some(target_type),
        target_id: Some(target_id),
        ..Default::default()
    };
    run_list(&state, &actor, list).await
}

#[utoipa::path(
    get,
    path = "/api/v1/activity-logs/action/{action}",
    tag = "activity",
    params(("action" = String, Path, description = "Action code (letters, digits, `_`; up to 64)"), PageQuery),
    responses(
        (status = 200, description = "Entries of one action; `meta` has the page", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN (ADMIN or BANCA), NO_BANCA", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn by_action(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppPath(action): AppPath<String>,
    AppQuery(q): AppQuery<PageQuery>,
) -> Result<ApiResponse<Vec<ActivityDto>>, ApiError> {
    if action.is_empty()
        || action.len() > 64
        || !action
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(ApiError::bad_request("VALIDATION_ERROR", "Acción inválida"));
    }
    let list = ListQuery {
        page: q.page,
        page_size: q.page_size,
        action: Some(action),
        ..Default::default()
    };
    run_list(&state, &actor, list).await
}

#[utoipa::path(
    get,
    path = "/api/v1/activity-logs/{id}",
    tag = "activity",
    params(("id" = Uuid, Path, description = "Entry id")),
    responses(
        (status = 200, description = "The entry", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN, NO_BANCA", body = ErrorBody),
        (status = 404, description = "NOT_FOUND (unknown or another banca's)", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn one(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppPath(id): AppPath<Uuid>,
) -> Result<ApiResponse<ActivityDto>, ApiError> {
    let banca_ids = scope(&actor)?;
    let mut conn = state.pools.primary().acquire().await?;
    let row = activity::find(&mut conn, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let visible = match &banca_ids {
        None => true,
        Some(ids) => row.banca_id.is_some_and(|b| ids.contains(&b)),
    };
    if !visible {
        return Err(ApiError::not_found());
    }
    Ok(ApiResponse::ok(row.into()))
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = activity::CleanupBody)]
struct CleanupBody {
    days: Option<i64>,
    days_to_keep: Option<i64>,
}

/// Deletes entries older than `days` (default 45) within the caller's scope.
#[utoipa::path(
    post,
    path = "/api/v1/activity-logs/cleanup",
    tag = "activity",
    request_body(content = Option<CleanupBody>, description = "Optional `{days}` (or `daysToKeep`), default 45"),
    responses(
        (status = 200, description = "`{message, deletedCount}`", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN, NO_BANCA", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn cleanup(
    State(state): State<AppState>,
    Auth(actor): Auth,
    OptionalJson(body): OptionalJson<CleanupBody>,
) -> Result<ApiResponse<Value>, ApiError> {
    let banca_ids = scope(&actor)?;
    let body = body.unwrap_or_default();
    let days = body.days.or(body.days_to_keep).unwrap_or(45);
    let mut c = Checks::new();
    c.range_i64("days", Some(days), 1, 36_500);
    c.finish()?;
    let before = Utc::now() - chrono::Duration::days(days);
    let mut tx = state.pools.primary().begin().await?;
    let deleted = activity::delete_older_than(&mut tx, &banca_ids, before).await?;
    services::activity::record(
        &mut tx,
        &actor,
        None,
        "SYSTEM_ACTION",
        "ACTIVITY_LOG",
        "cleanup",
        json!({ "days": days, "deleted": deleted }),
    )
    .await?;
    tx.commit().await?;
    Ok(ApiResponse::ok(json!({
        "message": format!("Se eliminaron {deleted} registros de auditoría"),
        "deletedCount": deleted,
    })))
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(list, by_user, by_target, by_action, one, cleanup))]
pub struct ApiDoc;
