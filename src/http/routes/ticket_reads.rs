//! The read side of `/tickets` (every role, scoped as `services::tickets` says):
//!
//! | handler | route |
//! |---|---|
//! | [`list`] | `GET /api/v1/tickets` |
//! | [`one`] | `GET /api/v1/tickets/{id}` |
//! | [`by_number`] | `GET /api/v1/tickets/by-number/{ticketNumber}` |
//! | [`filter_options`] | `GET /api/v1/tickets/filter-options` |
//! | [`numbers_summary`] | `GET /api/v1/tickets/numbers-summary` |
//! | [`numbers_summary_filter_options`] | `GET /api/v1/tickets/numbers-summary/filter-options` |
//! | [`balances`] | `GET /api/v1/tickets/validation/balances` |
//!
//! Unknown query keys are ignored (the app sends some the server does not read). The list, the
//! filter options and the numbers summary read through the replica when one is configured
//! (decision 12); the detail, the look-up by number and the balances read the primary.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use chrono::{NaiveDate, Utc};
use chrono_tz::Tz;
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

use crate::app::AppState;
use crate::db::tickets::ALL_STATUSES;
use crate::domain::authz::Actor;
use crate::domain::roles::Role;
use crate::domain::rules_json;
use crate::domain::schedule::{self, DateToken};
use crate::http::auth::{forbidden, Auth};
use crate::http::envelope::ApiResponse;
use crate::http::error::{ApiError, ErrorDetail};
use crate::http::extract::{de, AppPath, AppQuery};
use crate::http::openapi::{ErrorBody, SuccessEnvelope};
use crate::http::pagination::Page;
use crate::http::routes::bancas::{query_error, validation_error};
use crate::http::routes::sorteos::query_date;
use crate::services::ticket_view::{TicketListItem, TicketView};
use crate::services::tickets::{
    self, ByNumberError, FilterOptions, NumberBalance, NumberTotals, SummaryQuery, TicketCopy,
    TicketQuery, TicketReadError,
};

/// The routes of this module, for tests and for merging into the tickets router.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/tickets", get(list))
        .route("/api/v1/tickets/filter-options", get(filter_options))
        .route("/api/v1/tickets/numbers-summary", get(numbers_summary))
        .route(
            "/api/v1/tickets/numbers-summary/filter-options",
            get(numbers_summary_filter_options),
        )
        .route("/api/v1/tickets/validation/balances", get(balances))
        .route("/api/v1/tickets/by-number/{ticket_number}", get(by_number))
        .route("/api/v1/tickets/{id}", get(one))
}

/// The OpenAPI description of the ticket reads (tag `ticket_reads`).
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        list,
        one,
        by_number,
        filter_options,
        numbers_summary,
        numbers_summary_filter_options,
        balances
    ),
    tags((name = "ticket_reads", description = "Tickets: list, detail, look-up by number, filter options, numbers summary, balances"))
)]
pub struct ApiDoc;

/// Schema-only types for query parameters and body fields whose Rust type is a plain string
/// (or a lenient parse of one): the values the handlers accept. Use them as
/// `#[param(value_type = Option<doc::DateToken>, inline)]` or
/// `#[schema(value_type = Option<doc::BetType>, inline)]`, which keeps the field's doc comment
/// and `required` (`schema_with` would drop both).
pub(crate) mod doc {
    use utoipa::openapi::schema::{
        AnyOfBuilder, KnownFormat, Object, ObjectBuilder, Schema, SchemaFormat, Type,
    };

    /// A string restricted to `values`.
    pub(crate) fn text_enum(values: &[&str]) -> Object {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(values.iter().copied()))
            .build()
    }

    /// A string matching `pattern` (ECMA-262 syntax, no inline flags).
    pub(crate) fn text_pattern(pattern: &str) -> Object {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(pattern))
            .build()
    }

    /// Declares `$name`, a type that exists only to carry the schema `$schema` (an
    /// expression converting into a `Schema`) into `value_type = …`.
    macro_rules! doc_type {
        ($(#[$meta:meta])* $name:ident = $schema:expr) => {
            $(#[$meta])*
            #[allow(dead_code)]
            pub(crate) struct $name;

            impl utoipa::PartialSchema for $name {
                fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                    utoipa::openapi::RefOr::T(($schema).into())
                }
            }

            impl utoipa::ToSchema for $name {}
        };
    }
    pub(crate) use doc_type;

    /// `date` parameters: `YYYY-MM-DD` in the years 1900–9999.
    fn day_schema() -> Object {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
            .pattern(Some("^(19[0-9]{2}|[2-9][0-9]{3})-[0-9]{2}-[0-9]{2}$"))
            .build()
    }

    fn uuid_schema() -> Object {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)))
            .build()
    }

    /// `schema`, or the empty string: the query parsers trim values and read an empty one as
    /// absent.
    pub(crate) fn or_empty(schema: impl Into<Schema>) -> Schema {
        Schema::AnyOf(
            AnyOfBuilder::new()
                .item(schema.into())
                .item(text_enum(&[""]))
                .build(),
        )
    }

    /// A string restricted to `values`, or empty (absent); for trimmed query values.
    pub(crate) fn filter_enum(values: &[&str]) -> Object {
        let mut all = values.to_vec();
        all.push("");
        text_enum(&all)
    }

    doc_type!(
        /// `date`: a period token (any case; `range` reads `fromDate`/`toDate`); empty is
        /// absent.
        DateToken = filter_enum(&["today", "yesterday", "week", "month", "year", "range"])
    );

    doc_type!(
        /// A business day, `YYYY-MM-DD` (years 1900–9999); empty is absent.
        Day = or_empty(day_schema())
    );

    doc_type!(
        /// A business day, `YYYY-MM-DD` (years 1900–9999), required.
        RequiredDay = day_schema()
    );

    doc_type!(
        /// A uuid, or `all` or empty (no filter).
        UuidOrAll = Schema::AnyOf(
            AnyOfBuilder::new()
                .item(uuid_schema())
                .item(filter_enum(&["all"]))
                .build(),
        )
    );

    doc_type!(
        /// A bet number: 2 or 3 digits (`05`, `123`); empty is absent.
        BetNumber = text_pattern("^([0-9]{2,3})?$")
    );

    doc_type!(
        /// `HH:mm`, 24 hours; empty is absent.
        Hhmm = text_pattern("^(([01][0-9]|2[0-3]):[0-5][0-9])?$")
    );

    doc_type!(
        /// A ticket status (any case); empty is absent.
        TicketStatus = filter_enum(&[
            "ACTIVE",
            "EVALUATED",
            "PAID",
            "PAGADO",
            "CANCELLED",
            "RESTORED",
            "EXCLUDED",
        ])
    );

    doc_type!(
        /// A sorteo status (any case); empty is absent.
        SorteoStatus = filter_enum(&["SCHEDULED", "OPEN", "EVALUATED", "CLOSED"])
    );

    doc_type!(
        /// The ticket routes' `scope` (validated; the role decides what is seen).
        TicketScope = filter_enum(&["mine", "all", "ventana"])
    );

    doc_type!(
        /// A report `scope`: `mine` or `all`.
        ReportScope = filter_enum(&["mine", "all"])
    );

    doc_type!(
        /// A bet type, in a body.
        BetType = text_enum(&["NUMERO", "REVENTADO"])
    );

    doc_type!(
        /// A bet type filter; empty is absent.
        BetTypeFilter = filter_enum(&["NUMERO", "REVENTADO"])
    );

    doc_type!(
        /// A boolean written as text (any case), as the query parsers read it; empty is
        /// absent.
        BoolText = filter_enum(&["true", "false", "1", "0", "yes", "no", "on", "off"])
    );

    /// A uuid in its hyphenated form.
    const UUID_RE: &str =
        "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}";

    doc_type!(
        /// Uuids separated by commas (one or more).
        UuidList = text_pattern(&format!("^ *({UUID_RE})? *(, *({UUID_RE})? *)*$"))
    );

    doc_type!(
        /// A non-negative amount written as decimal text (`1500`, `12.50`); empty is absent.
        Amount = text_pattern("^([0-9]{1,15}(\\.[0-9]{1,10})?)?$")
    );

    doc_type!(
        /// A boolean, or the same as text (`"true"`, `"false"`, `"1"`, `"0"`…).
        BoolOrText = Schema::AnyOf(
            AnyOfBuilder::new()
                .item(ObjectBuilder::new().schema_type(Type::Boolean))
                .item(text_enum(&["true", "false", "1", "0", "yes", "no", "on", "off", ""]))
                .build(),
        )
    );

    doc_type!(
        /// A date `YYYY-MM-DD` or an RFC 3339 date-time.
        DateOrDateTime = Schema::AnyOf(
            AnyOfBuilder::new()
                .item(day_schema())
                .item(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime))),
                )
                .build(),
        )
    );

    /// Bodies the handlers take through `OptionalJson` (absent, or the object) are declared
    /// `request_body = Option<T>`, which utoipa renders as `oneOf: [null, T]`, required. A
    /// JSON `null` is refused, though: this modifier turns those into `T`, not required.
    pub(crate) struct OptionalBodies;

    impl utoipa::Modify for OptionalBodies {
        fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
            use utoipa::openapi::schema::SchemaType;
            use utoipa::openapi::{RefOr, Required};
            let is_null = |s: &RefOr<Schema>| matches!(s, RefOr::T(Schema::Object(o)) if o.schema_type == SchemaType::Type(Type::Null));
            for item in openapi.paths.paths.values_mut() {
                let ops = [
                    item.get.as_mut(),
                    item.put.as_mut(),
                    item.post.as_mut(),
                    item.delete.as_mut(),
                    item.patch.as_mut(),
                ];
                for body in ops
                    .into_iter()
                    .flatten()
                    .filter_map(|o| o.request_body.as_mut())
                {
                    let mut optional = false;
                    for content in body.content.values_mut() {
                        let inner = match &content.schema {
                            Some(RefOr::T(Schema::OneOf(one))) if one.items.len() == 2 => one
                                .items
                                .iter()
                                .find(|s| !is_null(s))
                                .cloned()
                                .filter(|_| one.items.iter().any(is_null)),
                            _ => None,
                        };
                        if let Some(inner) = inner {
                            content.schema = Some(inner);
                            optional = true;
                        }
                    }
                    if optional {
                        body.required = Some(Required::False);
                    }
                }
            }
        }
    }

    /// One handler mounted on two methods (`method(put, patch)`) gets the same operation id
    /// twice; ids must be unique, so every repeat after the first gets `_<method>` appended.
    pub(crate) struct DistinctMethodIds;

    impl utoipa::Modify for DistinctMethodIds {
        fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
            for item in openapi.paths.paths.values_mut() {
                let mut seen = std::collections::HashSet::new();
                let ops = [
                    ("get", item.get.as_mut()),
                    ("put", item.put.as_mut()),
                    ("post", item.post.as_mut()),
                    ("delete", item.delete.as_mut()),
                    ("patch", item.patch.as_mut()),
                ];
                for (method, op) in ops {
                    let Some(op) = op else { continue };
                    if let Some(id) = op.operation_id.clone() {
                        if !seen.insert(id.clone()) {
                            op.operation_id = Some(format!("{id}_{method}"));
                        }
                    }
                }
            }
        }
    }

    /// The bytes of a file answer (CSV, XLSX, PDF, PNG).
    #[derive(utoipa::ToSchema)]
    #[schema(value_type = String, format = Binary)]
    #[allow(dead_code)]
    pub struct BinaryFile(Vec<u8>);
}

impl From<TicketReadError> for ApiError {
    fn from(e: TicketReadError) -> Self {
        match e {
            TicketReadError::NotFound(what) => {
                ApiError::new(StatusCode::NOT_FOUND, "NOT_FOUND", what)
            }
            TicketReadError::Forbidden(why) => {
                tracing::debug!(reason = why, "ticket read forbidden");
                forbidden()
            }
            TicketReadError::Invalid(details) => validation_error(details),
            TicketReadError::Database(e) => ApiError::from(e),
        }
    }
}

/// Moves a connection or query failure out of a service result, so that `Pools::read` can
/// retry it on the primary; every other outcome is the read's value.
fn lift<T>(r: Result<T, TicketReadError>) -> Result<Result<T, TicketReadError>, sqlx::Error> {
    match r {
        Err(TicketReadError::Database(e)) => Err(e),
        other => Ok(other),
    }
}

// ---------------------------------------------------------------------------------------------
// Query parsing shared by the list-like routes.

fn date_token(v: &str) -> Result<DateToken, ApiError> {
    serde_json::from_value::<DateToken>(Value::String(v.to_lowercase())).map_err(|_| {
        query_error(
            "date",
            "invalid_enum",
            "debe ser today, yesterday, week, month, year o range",
        )
    })
}

/// The inclusive business dates of `date`/`fromDate`/`toDate` (default `today`). With
/// `skip` (a sorteo was named) and no explicit dates there is no date filter. `fromDate` and
/// `toDate` are read with `date=range` or without `date`; next to another token they are
/// ignored.
pub(crate) fn business_dates(
    token: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
    skip: bool,
    tz: Tz,
) -> Result<(Option<NaiveDate>, Option<NaiveDate>), ApiError> {
    let token = token.map(date_token).transpose()?;
    let from = query_date("fromDate", from)?;
    let to = query_date("toDate", to)?;
    if skip && from.is_none() && to.is_none() {
        return Ok((None, None));
    }
    let (token, from, to) = match token {
        None if from.is_none() && to.is_none() => (Some(DateToken::Today), None, None),
        Some(t) if t != DateToken::Range => (Some(t), None, None),
        t => (t, from, to),
    };
    let today = schedule::local_date(Utc::now(), tz);
    Ok(schedule::resolve_dates(token, from, to, today)
        .map_err(|e| query_error(e.field, "invalid_range", e.issue))?
        .unwrap_or((None, None)))
}

fn ticket_status(v: Option<&str>) -> Result<Option<String>, ApiError> {
    v.map(|s| {
        let up = s.to_uppercase();
        if ALL_STATUSES.contains(&up.as_str()) {
            Ok(up)
        } else {
            Err(query_error(
                "status",
                "invalid_enum",
                "debe ser ACTIVE, EVALUATED, PAID, PAGADO, CANCELLED, RESTORED o EXCLUDED",
            ))
        }
    })
    .transpose()
}

fn sorteo_status(v: Option<&str>) -> Result<Option<String>, ApiError> {
    v.map(|s| {
        let up = s.to_uppercase();
        if ["SCHEDULED", "OPEN", "EVALUATED", "CLOSED"].contains(&up.as_str()) {
            Ok(up)
        } else {
            Err(query_error(
                "sorteoStatus",
                "invalid_enum",
                "debe ser SCHEDULED, OPEN, EVALUATED o CLOSED",
            ))
        }
    })
    .transpose()
}

/// A bet number filter: 2 or 3 digits (decision 14: canonical numbers only).
fn bet_number(field: &str, v: Option<&str>) -> Result<Option<String>, ApiError> {
    v.map(|s| {
        if (2..=3).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(s.to_string())
        } else {
            Err(query_error(
                field,
                "invalid_number",
                "debe tener 2 o 3 dígitos (por ejemplo 05)",
            ))
        }
    })
    .transpose()
}

fn hhmm(v: Option<&str>) -> Result<Option<String>, ApiError> {
    v.map(|s| {
        rules_json::parse_hhmm(s)
            .map(|t| t.format("%H:%M").to_string())
            .ok_or_else(|| {
                query_error(
                    "scheduledTime",
                    "invalid_time",
                    "debe tener el formato HH:mm (por ejemplo 13:55)",
                )
            })
    })
    .transpose()
}

fn scope(v: Option<&str>) -> Result<Option<String>, ApiError> {
    v.map(|s| {
        let low = s.to_lowercase();
        if ["mine", "all", "ventana"].contains(&low.as_str()) {
            Ok(low)
        } else {
            Err(query_error(
                "scope",
                "invalid_enum",
                "debe ser mine, all o ventana",
            ))
        }
    })
    .transpose()
}

fn search(v: Option<&str>) -> Result<Option<String>, ApiError> {
    match v {
        Some(s) if s.chars().count() > 100 => Err(query_error(
            "search",
            "too_big",
            "escribe como máximo 100 caracteres",
        )),
        other => Ok(other.map(str::to_string)),
    }
}

// ---------------------------------------------------------------------------------------------
// GET /tickets

/// `GET /tickets` (§4.3). `hasWinner=true` and `isWinner=true`, which the app sends on its
/// payout screen, mean `winnersOnly=true`. `scope` is validated and otherwise decided by the
/// role.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    /// Page number (default 1).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 4294967295.0)]
    page: Option<u32>,
    /// Page size (default 10).
    #[param(minimum = 1, maximum = 100)]
    page_size: Option<u32>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<doc::TicketStatus>, inline)]
    status: Option<String>,
    #[serde(default, deserialize_with = "de::opt_bool")]
    #[param(value_type = Option<doc::BoolText>, inline)]
    is_active: Option<bool>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    sorteo_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    loteria_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    multiplier_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    ventana_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    vendedor_id: Option<Uuid>,
    /// Ticket number or client name, at most 100 characters.
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(max_length = 100)]
    search: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<doc::TicketScope>, inline)]
    scope: Option<String>,
    /// Only tickets with a prize.
    #[serde(default, deserialize_with = "de::opt_bool")]
    #[param(value_type = Option<doc::BoolText>, inline)]
    winners_only: Option<bool>,
    /// Same as `winnersOnly`.
    #[serde(default, deserialize_with = "de::opt_bool")]
    #[param(value_type = Option<doc::BoolText>, inline)]
    has_winner: Option<bool>,
    /// Same as `winnersOnly`.
    #[serde(default, deserialize_with = "de::opt_bool")]
    #[param(value_type = Option<doc::BoolText>, inline)]
    is_winner: Option<bool>,
    /// Tickets with a jugada on this number.
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<doc::BetNumber>, inline)]
    number: Option<String>,
    /// Tickets of sorteos with this winning number.
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<doc::BetNumber>, inline)]
    winning_number: Option<String>,
    /// Sorteos scheduled at this time of day.
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<doc::Hhmm>, inline)]
    scheduled_time: Option<String>,
    /// Period (default `today`; none when `sorteoId` is given without dates).
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<doc::DateToken>, inline)]
    date: Option<String>,
    /// First business day, with `date=range` or without `date`.
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<doc::Day>, inline)]
    from_date: Option<String>,
    /// Last business day, with `date=range` or without `date`.
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<doc::Day>, inline)]
    to_date: Option<String>,
}

impl ListQuery {
    fn to_query(&self, tz: Tz) -> Result<TicketQuery, ApiError> {
        scope(self.scope.as_deref())?;
        let (from_date, to_date) = business_dates(
            self.date.as_deref(),
            self.from_date.as_deref(),
            self.to_date.as_deref(),
            self.sorteo_id.is_some(),
            tz,
        )?;
        Ok(TicketQuery {
            status: ticket_status(self.status.as_deref())?,
            is_active: self.is_active,
            sorteo_id: self.sorteo_id,
            loteria_id: self.loteria_id,
            multiplier_id: self.multiplier_id,
            ventana_id: self.ventana_id,
            vendedor_id: self.vendedor_id,
            search: search(self.search.as_deref())?,
            winners_only: self.winners_only == Some(true)
                || self.has_winner == Some(true)
                || self.is_winner == Some(true),
            number: bet_number("number", self.number.as_deref())?,
            winning_number: bet_number("winningNumber", self.winning_number.as_deref())?,
            scheduled_time: hhmm(self.scheduled_time.as_deref())?,
            from_date,
            to_date,
        })
    }
}

/// `GET /api/v1/tickets`: `{success, data: [TicketListItem…], meta: {page, pageSize, total,
/// totalPages, hasNextPage, hasPrevPage}}`, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/tickets",
    tag = "ticket_reads",
    params(ListQuery),
    responses(
        (status = 200, description = "Una página de tickets, los más recientes primero", body = SuccessEnvelope),
        (status = 400, description = "Filtro inválido (VALIDATION_ERROR)", body = ErrorBody),
        (status = 403, description = "Filtro fuera del alcance del rol (FORBIDDEN)", body = ErrorBody),
        (status = 404, description = "Entidad del filtro no encontrada (NOT_FOUND)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppQuery(q): AppQuery<ListQuery>,
) -> Result<ApiResponse<Vec<TicketListItem>>, ApiError> {
    let tz = state.config.business_timezone;
    let page = Page::new(q.page, q.page_size, 10, 100)?;
    let query = q.to_query(tz)?;
    let (limit, offset) = (page.limit(), page.offset());
    let (actor, query) = (&actor, &query);
    let (result, _source) = state
        .pools
        .read(move |pool| async move {
            lift(tickets::list(&pool, actor, query, limit, offset, tz).await)
        })
        .await?;
    let (items, total) = result?;
    Ok(ApiResponse::ok(items).with_meta(page.meta(total)))
}

// ---------------------------------------------------------------------------------------------
// GET /tickets/{id}

/// `GET /api/v1/tickets/{id}`: the ticket (`TicketView`). Another tenant's ticket, another
/// seller's (VENDEDOR) or another ventana's (VENTANA) answers 404.
#[utoipa::path(
    get,
    path = "/api/v1/tickets/{id}",
    tag = "ticket_reads",
    params(("id" = Uuid, Path, description = "The ticket")),
    responses(
        (status = 200, description = "El ticket con sus jugadas", body = SuccessEnvelope),
        (status = 400, description = "Identificador inválido (VALIDATION_ERROR)", body = ErrorBody),
        (status = 403, description = "Sin permiso (FORBIDDEN)", body = ErrorBody),
        (status = 404, description = "Ticket inexistente o fuera de alcance (NOT_FOUND)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn one(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppPath(id): AppPath<Uuid>,
) -> Result<ApiResponse<TicketView>, ApiError> {
    let mut v = tickets::get(
        state.pools.primary(),
        &actor,
        id,
        state.config.business_timezone,
    )
    .await?;
    v.enable_ticket_reprints = state.config.enable_ticket_reprints;
    Ok(ApiResponse::ok(v))
}

// ---------------------------------------------------------------------------------------------
// GET /tickets/by-number/{ticketNumber}

/// `GET /api/v1/tickets/by-number/{ticketNumber}`: `{ticketNumber, sorteoId, loteriaId,
/// clienteNombre, createdAt, jugadas}` of a live ticket the caller may see. Not starting with
/// `T` or longer than 24 characters → 400 `INVALID_TICKET_NUMBER`; malformed or with wrong
/// check digits → 404 `TICKET_NUMBER_INVALID`; missing or out of reach → 404 `NOT_FOUND`.
#[utoipa::path(
    get,
    path = "/api/v1/tickets/by-number/{ticket_number}",
    tag = "ticket_reads",
    params(("ticket_number" = String, Path, max_length = 24, pattern = "^[Tt]", description = "The printed ticket number (`T…`, at most 24 characters)")),
    responses(
        (status = 200, description = "Copia del ticket (para repetir la jugada)", body = SuccessEnvelope),
        (status = 400, description = "No empieza con T o pasa de 24 caracteres (INVALID_TICKET_NUMBER)", body = ErrorBody),
        (status = 403, description = "Sin permiso (FORBIDDEN)", body = ErrorBody),
        (status = 404, description = "Número mal formado o con dígitos de control errados (TICKET_NUMBER_INVALID); inexistente o fuera de alcance (NOT_FOUND)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn by_number(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppPath(ticket_number): AppPath<String>,
) -> Result<ApiResponse<TicketCopy>, ApiError> {
    if !crate::domain::ticket_number::looks_like_ticket_number(&ticket_number) {
        return Err(ApiError::bad_request(
            "INVALID_TICKET_NUMBER",
            "Formato inválido: el número de ticket debe empezar con T y tener como máximo 24 caracteres",
        )
        .with_details(vec![ErrorDetail {
            field: "ticketNumber".into(),
            code: "invalid_format".into(),
            issue: "debe empezar con T y tener como máximo 24 caracteres".into(),
        }]));
    }
    match tickets::by_number(state.pools.primary(), &actor, &ticket_number).await {
        Ok(v) => Ok(ApiResponse::ok(v)),
        Err(ByNumberError::InvalidNumber) => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "TICKET_NUMBER_INVALID",
            "El número de ticket no es válido: revise que esté bien escrito",
        )),
        Err(ByNumberError::Read(e)) => Err(e.into()),
    }
}

// ---------------------------------------------------------------------------------------------
// GET /tickets/filter-options and /tickets/numbers-summary/filter-options

/// `GET /tickets/filter-options`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct OptionsQuery {
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<doc::TicketScope>, inline)]
    scope: Option<String>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    vendedor_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    ventana_id: Option<Uuid>,
    /// Period (default `today`; none when `sorteoId` is given without dates).
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<doc::DateToken>, inline)]
    date: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<doc::Day>, inline)]
    from_date: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<doc::Day>, inline)]
    to_date: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<doc::TicketStatus>, inline)]
    status: Option<String>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    loteria_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    sorteo_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    multiplier_id: Option<Uuid>,
}

impl OptionsQuery {
    fn to_query(&self, tz: Tz) -> Result<TicketQuery, ApiError> {
        scope(self.scope.as_deref())?;
        let (from_date, to_date) = business_dates(
            self.date.as_deref(),
            self.from_date.as_deref(),
            self.to_date.as_deref(),
            self.sorteo_id.is_some(),
            tz,
        )?;
        Ok(TicketQuery {
            status: ticket_status(self.status.as_deref())?,
            sorteo_id: self.sorteo_id,
            loteria_id: self.loteria_id,
            multiplier_id: self.multiplier_id,
            ventana_id: self.ventana_id,
            vendedor_id: self.vendedor_id,
            from_date,
            to_date,
            ..TicketQuery::default()
        })
    }
}

async fn options(
    state: &AppState,
    actor: &Actor,
    query: &TicketQuery,
    sorteo_status: Option<String>,
) -> Result<FilterOptions, ApiError> {
    let tz = state.config.business_timezone;
    let sorteo_status = &sorteo_status;
    let (result, _source) = state
        .pools
        .read(move |pool| async move {
            lift(tickets::filter_options(&pool, actor, query, sorteo_status.clone(), tz).await)
        })
        .await?;
    Ok(result?)
}

/// `GET /api/v1/tickets/filter-options`: the loterías, sorteos, multipliers, vendedores and
/// (ADMIN, BANCA) ventanas present in the tickets the caller may see for the date filter
/// (default today; none for a named sorteo without explicit dates), with ticket counts:
/// `{loterias, sorteos, multipliers, vendedores, ventanas, meta: {totalTickets}}`.
#[utoipa::path(
    get,
    path = "/api/v1/tickets/filter-options",
    tag = "ticket_reads",
    params(OptionsQuery),
    responses(
        (status = 200, description = "Valores de filtro presentes en los tickets visibles, con conteos", body = SuccessEnvelope),
        (status = 400, description = "Filtro inválido (VALIDATION_ERROR)", body = ErrorBody),
        (status = 403, description = "Filtro fuera del alcance del rol (FORBIDDEN)", body = ErrorBody),
        (status = 404, description = "Entidad del filtro no encontrada (NOT_FOUND)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn filter_options(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppQuery(q): AppQuery<OptionsQuery>,
) -> Result<ApiResponse<FilterOptions>, ApiError> {
    let query = q.to_query(state.config.business_timezone)?;
    Ok(ApiResponse::ok(
        options(&state, &actor, &query, None).await?,
    ))
}

/// `GET /api/v1/tickets/numbers-summary/filter-options`: as [`filter_options`], over the
/// numbers-summary filters (`sorteoStatus` included).
#[utoipa::path(
    get,
    path = "/api/v1/tickets/numbers-summary/filter-options",
    tag = "ticket_reads",
    params(SummaryParams),
    responses(
        (status = 200, description = "Valores de filtro presentes en los tickets visibles, con conteos", body = SuccessEnvelope),
        (status = 400, description = "Filtro inválido (VALIDATION_ERROR)", body = ErrorBody),
        (status = 403, description = "scope=all sin ser ADMIN o BANCA, o filtro fuera de alcance (FORBIDDEN)", body = ErrorBody),
        (status = 404, description = "Entidad del filtro no encontrada (NOT_FOUND)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn numbers_summary_filter_options(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppQuery(q): AppQuery<SummaryParams>,
) -> Result<ApiResponse<FilterOptions>, ApiError> {
    let tz = state.config.business_timezone;
    let s = q.to_query(tz)?;
    if s.scope.as_deref() == Some("all") && !actor.is(&[Role::Admin, Role::Banca]) {
        return Err(forbidden());
    }
    let query = TicketQuery {
        status: s.status,
        sorteo_id: s.sorteo_id,
        loteria_id: s.loteria_id,
        multiplier_id: s.multiplier_id,
        ventana_id: s.ventana_id,
        vendedor_id: s.vendedor_id,
        scheduled_time: s.scheduled_time,
        from_date: s.from_date,
        to_date: s.to_date,
        ..TicketQuery::default()
    };
    Ok(ApiResponse::ok(
        options(&state, &actor, &query, s.sorteo_status).await?,
    ))
}

// ---------------------------------------------------------------------------------------------
// GET /tickets/numbers-summary

/// `GET /tickets/numbers-summary` (routes.tsv: NumbersSummaryQuerySchema). `dimension` is
/// accepted and not used.
#[derive(Debug, Deserialize, utoipa::IntoParams, utoipa::ToSchema)]
#[into_params(parameter_in = Query)]
#[schema(as = ticket_reads::SummaryParams)]
#[serde(rename_all = "camelCase")]
pub struct SummaryParams {
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<doc::TicketScope>, inline)]
    #[schema(value_type = Option<doc::TicketScope>, inline)]
    scope: Option<String>,
    /// Accepted and not used.
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(max_length = 50)]
    #[schema(max_length = 50)]
    dimension: Option<String>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    #[schema(value_type = Option<doc::UuidOrAll>, inline)]
    ventana_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    #[schema(value_type = Option<doc::UuidOrAll>, inline)]
    vendedor_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    #[schema(value_type = Option<doc::UuidOrAll>, inline)]
    banca_id: Option<Uuid>,
    /// Period (default `today`; none when `sorteoId` is given without dates).
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<doc::DateToken>, inline)]
    #[schema(value_type = Option<doc::DateToken>, inline)]
    date: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<doc::Day>, inline)]
    #[schema(value_type = Option<doc::Day>, inline)]
    from_date: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<doc::Day>, inline)]
    #[schema(value_type = Option<doc::Day>, inline)]
    to_date: Option<String>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    #[schema(value_type = Option<doc::UuidOrAll>, inline)]
    loteria_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    #[schema(value_type = Option<doc::UuidOrAll>, inline)]
    sorteo_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    #[schema(value_type = Option<doc::UuidOrAll>, inline)]
    multiplier_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<doc::TicketStatus>, inline)]
    #[schema(value_type = Option<doc::TicketStatus>, inline)]
    status: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<doc::SorteoStatus>, inline)]
    #[schema(value_type = Option<doc::SorteoStatus>, inline)]
    sorteo_status: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<doc::Hhmm>, inline)]
    #[schema(value_type = Option<doc::Hhmm>, inline)]
    scheduled_time: Option<String>,
    /// Block of numbers `[page·pageSize, (page+1)·pageSize)`; absent: every number.
    #[param(minimum = 0, maximum = 9)]
    #[schema(minimum = 0, maximum = 9)]
    page: Option<u32>,
    /// Numbers per block (default 100).
    #[param(minimum = 1, maximum = 1000)]
    #[schema(minimum = 1, maximum = 1000)]
    page_size: Option<u32>,
    /// Only excluded jugadas.
    #[serde(default, deserialize_with = "de::opt_bool")]
    #[param(value_type = Option<doc::BoolText>, inline)]
    #[schema(value_type = Option<doc::BoolText>, inline)]
    is_excluded: Option<bool>,
}

impl SummaryParams {
    pub(crate) fn to_query(&self, tz: Tz) -> Result<SummaryQuery, ApiError> {
        let scope = scope(self.scope.as_deref())?;
        if self
            .dimension
            .as_deref()
            .is_some_and(|d| d.chars().count() > 50)
        {
            return Err(query_error(
                "dimension",
                "too_big",
                "escribe como máximo 50 caracteres",
            ));
        }
        let mut details = Vec::new();
        if self.page.is_some_and(|p| p > 9) {
            details.push(ErrorDetail {
                field: "page".into(),
                code: "out_of_range".into(),
                issue: "page debe estar entre 0 y 9".into(),
            });
        }
        let page_size = self.page_size.unwrap_or(100);
        if !(1..=1000).contains(&page_size) {
            details.push(ErrorDetail {
                field: "pageSize".into(),
                code: "out_of_range".into(),
                issue: "pageSize debe estar entre 1 y 1000".into(),
            });
        }
        if !details.is_empty() {
            return Err(ApiError::bad_request(
                "VALIDATION_ERROR",
                "Error en los filtros de búsqueda",
            )
            .with_details(details));
        }
        let (from_date, to_date) = business_dates(
            self.date.as_deref(),
            self.from_date.as_deref(),
            self.to_date.as_deref(),
            self.sorteo_id.is_some(),
            tz,
        )?;
        Ok(SummaryQuery {
            scope,
            banca_id: self.banca_id,
            ventana_id: self.ventana_id,
            vendedor_id: self.vendedor_id,
            loteria_id: self.loteria_id,
            sorteo_id: self.sorteo_id,
            multiplier_id: self.multiplier_id,
            status: ticket_status(self.status.as_deref())?,
            sorteo_status: sorteo_status(self.sorteo_status.as_deref())?,
            scheduled_time: hhmm(self.scheduled_time.as_deref())?,
            from_date,
            to_date,
            date_token: self
                .date
                .clone()
                .map(|d| d.to_lowercase())
                .unwrap_or_else(|| "today".into()),
            page: self.page,
            page_size,
            is_excluded: self.is_excluded == Some(true),
        })
    }
}

/// `GET /api/v1/tickets/numbers-summary`: sales per number.
///
/// ```text
/// { "success": true,
///   "data": [ { "number": "00", "amountByNumber": 1500, "amountByReventado": 200,
///               "totalAmount": 1700 }, … every number of the block, ascending ],
///   "meta": { "totalsFrom": "counters" | "jugadas", "readSource": "primary" | "replica",
///             "dateFilter", "fromDate", "toDate", "sorteoId", "sorteoName", "sorteoDate",
///             "sorteoStatus", "winningNumber", "loteriaId", "loteriaName", "multiplierId",
///             "ventanaId", "vendedorId", "sorteoDigits", "maxNumber", "totalNumbers",
///             "reventadoEnabled", "isExcluded",
///             "pagination"?: {page, pageSize, startNumber, endNumber, totalPages,
///                             returnedCount},
///             "totalAmountByNumber", "totalAmountByReventado", "totalAmount",
///             "numbersWithBets": ["05", …] } }
/// ```
///
/// Without `page` every number (`00`–`99` or `000`–`999`) is listed; with `page` (0–9) the
/// block `[page·pageSize, (page+1)·pageSize)`. Totals in `meta` cover every number. With
/// `multiplierId`, `amountByNumber` counts that multiplier's NUMERO jugadas and
/// `amountByReventado` every REVENTADO jugada on the number. `scope=all` is for ADMIN and
/// BANCA only (403 otherwise).
#[utoipa::path(
    get,
    path = "/api/v1/tickets/numbers-summary",
    tag = "ticket_reads",
    params(SummaryParams),
    responses(
        (status = 200, description = "Ventas por número, con totales en meta", body = SuccessEnvelope),
        (status = 400, description = "Filtro inválido (VALIDATION_ERROR)", body = ErrorBody),
        (status = 403, description = "scope=all sin ser ADMIN o BANCA, o filtro fuera de alcance (FORBIDDEN)", body = ErrorBody),
        (status = 404, description = "Sorteo, lotería u otra entidad del filtro no encontrada (NOT_FOUND)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn numbers_summary(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppQuery(q): AppQuery<SummaryParams>,
) -> Result<ApiResponse<Vec<NumberTotals>>, ApiError> {
    let tz = state.config.business_timezone;
    let query = q.to_query(tz)?;
    let (actor, query) = (&actor, &query);
    let (result, source) = state
        .pools
        .read(move |pool| async move {
            lift(tickets::numbers_summary_data(&pool, actor, query, tz).await)
        })
        .await?;
    let summary = result?;
    let mut meta = serde_json::to_value(&summary.meta).unwrap_or_default();
    if let Some(m) = meta.as_object_mut() {
        m.insert("readSource".into(), Value::String(source.as_str().into()));
    }
    Ok(ApiResponse::ok(summary.numbers).with_meta(meta))
}

// ---------------------------------------------------------------------------------------------
// GET /tickets/validation/balances

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct BalancesQuery {
    /// Required (400 `MISSING_SORTEO_ID` without it).
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(required = true, value_type = Uuid)]
    sorteo_id: Option<String>,
    /// The seller (default: the caller when it is a VENDEDOR; required otherwise).
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    vendedor_id: Option<Uuid>,
}

/// `GET /api/v1/tickets/validation/balances?sorteoId&vendedorId`: `{"<number>": {remaining,
/// limit, accumulated}}` for every number a cumulative rule (maxTotal or percentage, no
/// multiplier) restricts for a sale by the vendedor. `sorteoId` missing → 400
/// `MISSING_SORTEO_ID`; `vendedorId` defaults to the caller when it is a VENDEDOR (required
/// otherwise); a vendedor out of the caller's reach → 403.
#[utoipa::path(
    get,
    path = "/api/v1/tickets/validation/balances",
    tag = "ticket_reads",
    params(BalancesQuery),
    responses(
        (status = 200, description = "Por número restringido: {remaining, limit, accumulated}", body = SuccessEnvelope),
        (status = 400, description = "Falta sorteoId (MISSING_SORTEO_ID) o valor inválido (VALIDATION_ERROR)", body = ErrorBody),
        (status = 403, description = "Vendedor fuera de alcance (FORBIDDEN)", body = ErrorBody),
        (status = 404, description = "Sorteo o vendedor no encontrado (NOT_FOUND)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn balances(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppQuery(q): AppQuery<BalancesQuery>,
) -> Result<ApiResponse<BTreeMap<String, NumberBalance>>, ApiError> {
    let Some(raw) = q.sorteo_id.as_deref() else {
        return Err(ApiError::bad_request(
            "MISSING_SORTEO_ID",
            "Falta el sorteo: sorteoId es obligatorio",
        )
        .with_details(vec![ErrorDetail {
            field: "sorteoId".into(),
            code: "required".into(),
            issue: "es obligatorio".into(),
        }]));
    };
    let sorteo_id = Uuid::parse_str(raw)
        .map_err(|_| query_error("sorteoId", "invalid_uuid", "no es un UUID válido"))?;
    let out = tickets::balances(
        state.pools.primary(),
        &actor,
        sorteo_id,
        q.vendedor_id,
        state.config.business_timezone,
        Utc::now(),
    )
    .await?;
    Ok(ApiResponse::ok(out))
}
