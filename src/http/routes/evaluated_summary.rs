//! `GET /api/v1/sorteos/evaluated-summary`: the seller's day-by-day ledger (domain-money
//! §1.10), for any authenticated caller and always about the caller as seller. The query is
//! strict; it reads through the replica when one is configured, like the other reports.

use axum::extract::State;
use axum::routing::get;
use axum::Router;
use chrono::Utc;
use serde::Deserialize;
use uuid::Uuid;

use crate::app::AppState;
use crate::domain::roles::Role;
use crate::domain::schedule;
use crate::http::auth::Auth;
use crate::http::envelope::ApiResponse;
use crate::http::error::ApiError;
use crate::http::extract::{de, AppQuery};
use crate::http::openapi::{ErrorBody, SuccessEnvelope};
use crate::http::routes::bancas::query_error;
use crate::http::routes::ticket_reads::business_dates;
use crate::services::evaluated_summary::{self, LedgerDay, SummaryParams};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/sorteos/evaluated-summary", get(summary))
}

/// The query of the route (unknown keys are a 400).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct SummaryQuery {
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(schema_with = crate::http::openapi::params::date_token)]
    date: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(schema_with = crate::http::openapi::params::day)]
    from_date: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(schema_with = crate::http::openapi::params::day)]
    to_date: Option<String>,
    /// Only `mine`.
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(schema_with = mine_only)]
    scope: Option<String>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    loteria_id: Option<Uuid>,
    /// Accepted and ignored: the summary is always of EVALUATED sorteos.
    #[serde(default, rename = "status")]
    _status: Option<String>,
    #[serde(default, deserialize_with = "de::opt_bool")]
    is_active: Option<bool>,
    #[serde(default, deserialize_with = "de::opt_bool")]
    summary_only: Option<bool>,
    #[serde(default, deserialize_with = "de::opt_bool")]
    ignore_reset: Option<bool>,
    #[serde(default, rename = "_")]
    _cache_buster: Option<String>,
}

fn mine_only() -> utoipa::openapi::Object {
    crate::http::openapi::params::text_enum(&["mine"])
}

/// The inclusive business days of `date`/`fromDate`/`toDate`, read as the ticket reads read
/// them: default `today`; `fromDate`/`toDate` count with `date=range` or without `date`, and
/// are ignored next to another token; a missing bound is `toDate` (for `fromDate`) or today.
fn days(
    q: &SummaryQuery,
    today: chrono::NaiveDate,
    tz: chrono_tz::Tz,
) -> Result<(String, chrono::NaiveDate, chrono::NaiveDate), ApiError> {
    let (from, to) = business_dates(
        q.date.as_deref(),
        q.from_date.as_deref(),
        q.to_date.as_deref(),
        false,
        tz,
    )?;
    let to = to.unwrap_or(today);
    let from = from.unwrap_or(to);
    if from > to {
        return Err(query_error(
            "fromDate",
            "invalid_range",
            "debe ser anterior o igual a toDate",
        ));
    }
    let label = q
        .date
        .as_deref()
        .map(str::to_lowercase)
        .unwrap_or_else(|| "today".into());
    Ok((label, from, to))
}

/// `GET /api/v1/sorteos/evaluated-summary`: `{success, data: [day…], meta}` — see
/// `services::evaluated_summary` for the shape and the rules.
#[utoipa::path(
    get,
    path = "/api/v1/sorteos/evaluated-summary",
    tag = "evaluated_summary",
    params(SummaryQuery),
    responses(
        (status = 200, description = "The caller's evaluated sorteos by day; `meta.readSource`", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 401, body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn summary(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppQuery(q): AppQuery<SummaryQuery>,
) -> Result<ApiResponse<Vec<LedgerDay>>, ApiError> {
    let tz = state.config.business_timezone;
    if let Some(s) = q.scope.as_deref() {
        if !s.eq_ignore_ascii_case("mine") {
            return Err(query_error("scope", "invalid_enum", "debe ser mine"));
        }
    }
    let today = schedule::local_date(Utc::now(), tz);
    let (date_filter, from, to) = days(&q, today, tz)?;
    let params = SummaryParams {
        vendedor_id: actor.user_id,
        from,
        to,
        loteria_id: q.loteria_id,
        inactive: q.is_active == Some(false),
        summary_only: q.summary_only == Some(true),
        ignore_reset: q.ignore_reset == Some(true) && actor.role != Role::Vendedor,
        date_filter,
        today,
        tz,
    };
    let params = &params;
    let ((data, meta), source) = state
        .pools
        .read(move |pool| async move { evaluated_summary::evaluated_summary(&pool, params).await })
        .await?;
    // Decision 12: the meta says which database served the report.
    let mut meta = serde_json::to_value(meta).unwrap_or_default();
    if let Some(m) = meta.as_object_mut() {
        m.insert("readSource".into(), source.as_str().into());
    }
    Ok(ApiResponse::ok(data).with_meta(meta))
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(summary))]
pub struct ApiDoc;
