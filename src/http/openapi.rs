//! The OpenAPI document of the `/api/v1` surface, assembled from the `#[utoipa::path]`
//! annotations on the handlers: every route module exports `pub struct ApiDoc` (derived
//! `utoipa::OpenApi`, listing its handlers), and [`document`] merges them.
//!
//! Conventions every route module follows (so the document stays uniform):
//! - `#[utoipa::path(get, path = "/api/v1/…", tag = "<module>", params(…), request_body = T,
//!   responses((status = 200, body = SuccessEnvelope), (status = 400, body = ErrorBody), …),
//!   security(("bearer" = [])))` on each handler; public routes omit `security`. One handler
//!   mounted on two methods uses `method(put, patch)`.
//! - Query structs derive `utoipa::IntoParams` (`#[into_params(parameter_in = Query)]`), body
//!   structs derive `utoipa::ToSchema`; both keep their serde attributes.
//! - Responses use [`SuccessEnvelope`] (or a specific schema when the handler returns a named
//!   type) and [`ErrorBody`] for every error status the handler can produce.
//! - The statuses the middleware stack produces on any route are added here, by [`document`],
//!   to every operation that does not list them: 503 (`SERVICE_STARTING`, `SERVER_BUSY`,
//!   `DATABASE_UNAVAILABLE`, `REQUEST_TIMEOUT`) and 429 on all; 401 on operations with
//!   `security`; 400 on operations with parameters or a body; 413 and 415 on operations with a
//!   body. Handlers list the statuses their own code produces.
//! - Operation ids are made unique here as `<tag>.<function name>` (plus `_<method>` for the
//!   second method of a handler mounted on two).
//! - A body the handler takes through `OptionalJson` is declared `request_body(content =
//!   Option<T>, …)`; [`document`] turns the `oneOf: [null, T]` utoipa renders into an optional
//!   `T`.
//! - Body and query structs keep module-unique schema names: `#[schema(as = <module>::Name)]`
//!   (two modules' `CreateBody` would otherwise collide; `schema_conflicts` finds that).

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi, ToSchema};

/// `{success: true, data, meta?}` — the success shape of every JSON route.
#[derive(Serialize, ToSchema)]
pub struct SuccessEnvelope {
    pub success: bool,
    /// The payload (an object or a list); its shape depends on the route.
    #[schema(value_type = Value)]
    pub data: serde_json::Value,
    /// Pagination, effective filters, sources…
    #[schema(value_type = Option<Object>)]
    pub meta: Option<serde_json::Value>,
}

/// One invalid field of a 400.
#[derive(Serialize, ToSchema)]
pub struct ErrorDetailSchema {
    pub field: String,
    pub code: String,
    pub issue: String,
}

/// `{success: false, message, code, details?, requestId}` — every error, on every route.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    pub success: bool,
    /// For people, in Spanish.
    pub message: String,
    /// For programs: stable UPPER_SNAKE English.
    pub code: String,
    #[schema(value_type = Option<Vec<Object>>)]
    pub details: Option<serde_json::Value>,
    pub request_id: String,
}

/// A user's role, as the wire carries it.
#[derive(ToSchema)]
#[allow(clippy::upper_case_acronyms)]
pub enum Role {
    ADMIN,
    BANCA,
    VENTANA,
    VENDEDOR,
}

/// Schemas for query fields read as text and checked by hand: `#[param(schema_with =
/// crate::http::openapi::params::scope)]` for optional ones; required ones use the enums
/// (`#[param(value_type = crate::http::openapi::params::StatementScope, inline)]`), since
/// utoipa ignores `required` next to `schema_with`.
pub mod params {
    use utoipa::openapi::schema::{KnownFormat, Object, ObjectBuilder, SchemaFormat, Type};
    use utoipa::ToSchema;

    /// A string restricted to `values`.
    pub fn text_enum(values: &[&str]) -> Object {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(values.iter().copied()))
            .build()
    }

    /// A string matching `pattern`.
    pub fn text_pattern(pattern: &str) -> Object {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(pattern))
            .build()
    }

    /// `scope` of the statement reads: `mine`, `ventana` or `all`.
    pub fn scope() -> Object {
        text_enum(&["mine", "ventana", "all"])
    }

    /// `dimension` of the statement reads.
    pub fn dimension() -> Object {
        text_enum(&["banca", "ventana", "vendedor"])
    }

    /// `sort`: `asc` or `desc`.
    pub fn sort() -> Object {
        text_enum(&["asc", "desc"])
    }

    /// A business day, `YYYY-MM-DD`.
    pub fn day() -> Object {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
            .build()
    }

    /// A month, `YYYY-MM`.
    pub fn month() -> Object {
        text_pattern("^[0-9]{4}-(0[1-9]|1[0-2])$")
    }

    /// A period token or a day: `today`, `yesterday`, `week`, `month`, `year`, `range` (with
    /// `fromDate`/`toDate`) or `YYYY-MM-DD`.
    pub fn date_token_or_day() -> Object {
        text_pattern("^(today|yesterday|week|month|year|range|[0-9]{4}-[0-9]{2}-[0-9]{2})$")
    }

    /// A period token: `today`, `yesterday`, `week`, `month`, `year` or `range`.
    pub fn date_token() -> Object {
        text_enum(&["today", "yesterday", "week", "month", "year", "range"])
    }

    /// Required `scope` of the statement reads and exports.
    #[derive(ToSchema)]
    #[allow(non_camel_case_types)]
    pub enum StatementScope {
        mine,
        ventana,
        all,
    }

    /// Required `dimension` of the statement reads and exports.
    #[derive(ToSchema)]
    #[allow(non_camel_case_types)]
    pub enum StatementDimension {
        banca,
        ventana,
        vendedor,
    }

    /// Required `scope` of the commission reads.
    #[derive(ToSchema)]
    #[allow(non_camel_case_types)]
    pub enum CommissionScope {
        mine,
        all,
    }

    /// Required `dimension` of the commission reads.
    #[derive(ToSchema)]
    #[allow(non_camel_case_types)]
    pub enum CommissionDimension {
        ventana,
        vendedor,
    }

    /// Required `format` of the statement and commission exports (`pdf` answers 400).
    #[derive(ToSchema)]
    #[allow(non_camel_case_types)]
    pub enum ExportFormat {
        csv,
        excel,
        xlsx,
    }

    /// `true` or `false`.
    pub fn boolean_text() -> Object {
        text_enum(&["true", "false"])
    }
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Banca API",
        description = "Tiempos sales, sorteos, prizes and settlements. Every JSON answer is \
                       `{success: true, data, meta?}` or `{success: false, message, code, \
                       details?, requestId}`; messages are Spanish, codes English."
    ),
    servers((url = "/", description = "This server")),
    components(schemas(SuccessEnvelope, ErrorBody, ErrorDetailSchema, Role)),
    modifiers(&BearerAuth),
    tags(
        (name = "health", description = "Liveness and readiness probes"),
        (name = "api_docs", description = "This document and its browsable page"),
        (name = "auth", description = "Login, tokens, sessions, the caller's profile"),
        (name = "bancas", description = "Bancas (tenants) and their commission policy"),
        (name = "ventanas", description = "Ventanas (listeros) of a banca"),
        (name = "users", description = "Users of every role, banca links, commission policy"),
        (name = "vendedores", description = "Vendedores (sellers) of a ventana"),
        (name = "activity", description = "The activity log"),
        (name = "account_statements", description = "Daily account statements"),
        (name = "accounts_statements", description = "Account statements by period"),
        (name = "accounts_movements", description = "Payments and collections on statements"),
        (name = "loterias", description = "Loterías, their rules and schedules"),
        (name = "sorteos", description = "Sorteos (draws): lifecycle and results"),
        (name = "sorteos_auto", description = "Automatic opening and closing of sorteos"),
        (name = "evaluated_summary", description = "Summary of evaluated sorteos"),
        (name = "commissions", description = "Commission reports"),
        (name = "tickets", description = "Selling and cancelling tickets"),
        (name = "ticket_reads", description = "Ticket lists, details, numbers and exports"),
        (name = "ticket_payments", description = "Prize payments"),
        (name = "multipliers", description = "Multipliers of a lotería"),
        (name = "multiplier_overrides", description = "Per-user and per-ventana multiplier overrides"),
        (name = "restrictions", description = "Sales limits and restriction rules"),
        (name = "listas", description = "Sales lists (listas) by number"),
        (name = "diagnostics", description = "Operational diagnostics"),
        (name = "cierres", description = "Closing reports (cierres)"),
        (name = "dashboard", description = "Dashboard figures and alerts"),
        (name = "ventas", description = "Sales reports"),
        (name = "reports", description = "Reports"),
        (name = "app", description = "The mobile app's version and download"),
        (name = "telemetry", description = "Client telemetry"),
        (name = "metrics", description = "Prometheus metrics"),
    )
)]
struct BaseDoc;

/// The error-shaped response `status` described by `description`.
fn error_response(description: &str) -> RefOr<utoipa::openapi::Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorBody")))
                    .build(),
            )
            .build(),
    )
}

/// The description of a status listed without one.
fn standard_description(status: &str) -> &'static str {
    match status {
        "200" => "OK",
        "201" => "Creado",
        "204" => "Sin contenido",
        "400" => "Datos inválidos (VALIDATION_ERROR…)",
        "401" => {
            "No autenticado: UNAUTHENTICATED, INVALID_TOKEN, TOKEN_EXPIRED, SESSION_REVOKED o \
             USER_INACTIVE"
        }
        "403" => "Sin permiso (FORBIDDEN)",
        "404" => "No encontrado (NOT_FOUND)",
        "409" => "Conflicto con el estado actual",
        "422" => "No procesable",
        "429" => "Demasiadas solicitudes (con Retry-After)",
        "503" => "Servicio no disponible (con Retry-After)",
        _ => "Respuesta",
    }
}

/// Adds the middleware's statuses to `op` where missing (see the module conventions).
fn add_common_responses(op: &mut Operation) {
    let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
    let has_params = op.parameters.as_ref().is_some_and(|p| !p.is_empty());
    let has_body = op.request_body.is_some();
    // A status listed without a description gets the standard one.
    for (status, response) in op.responses.responses.iter_mut() {
        if let RefOr::T(r) = response {
            if r.description.is_empty() {
                r.description = standard_description(status).to_string();
            }
        }
    }
    let mut add = |status: &str, description: &str| {
        op.responses
            .responses
            .entry(status.to_string())
            .or_insert_with(|| error_response(description));
    };
    add(
        "503",
        "Servicio no disponible: SERVICE_STARTING, SERVER_BUSY, DATABASE_UNAVAILABLE o \
         REQUEST_TIMEOUT (con Retry-After)",
    );
    add(
        "429",
        "Demasiadas solicitudes (RATE_LIMITED, con Retry-After)",
    );
    if secured {
        add(
            "401",
            "No autenticado: UNAUTHENTICATED, INVALID_TOKEN, TOKEN_EXPIRED, SESSION_REVOKED o \
             USER_INACTIVE",
        );
    }
    if has_params || has_body {
        add("400", "Datos inválidos (VALIDATION_ERROR, INVALID_JSON…)");
    }
    if has_body {
        add("413", "Cuerpo demasiado grande (PAYLOAD_TOO_LARGE)");
        add(
            "415",
            "El cuerpo no es application/json (UNSUPPORTED_MEDIA_TYPE)",
        );
    }
}

/// A body declared `request_body = Option<T>` (the handler takes `OptionalJson`: nothing, or
/// the object) renders as a required `oneOf: [null, T]`; a JSON `null` is refused, though.
/// Turns it into `T`, not required.
fn optional_body(op: &mut Operation) {
    use utoipa::openapi::schema::{Schema, SchemaType, Type};
    use utoipa::openapi::Required;
    let is_null = |s: &RefOr<Schema>| matches!(s, RefOr::T(Schema::Object(o)) if o.schema_type == SchemaType::Type(Type::Null));
    let Some(body) = op.request_body.as_mut() else {
        return;
    };
    let mut optional = false;
    for content in body.content.values_mut() {
        if let Some(RefOr::T(Schema::OneOf(one))) = &content.schema {
            if one.items.len() == 2 && one.items.iter().any(is_null) {
                if let Some(inner) = one.items.iter().find(|s| !is_null(s)).cloned() {
                    content.schema = Some(inner);
                    optional = true;
                }
            }
        }
    }
    if optional {
        body.required = Some(Required::False);
    }
}

/// Every operation of `doc` with its method, mutably.
fn operations_mut(
    doc: &mut utoipa::openapi::OpenApi,
) -> impl Iterator<Item = (&'static str, &mut Operation)> {
    doc.paths.paths.values_mut().flat_map(|item| {
        [
            ("get", item.get.as_mut()),
            ("put", item.put.as_mut()),
            ("post", item.post.as_mut()),
            ("delete", item.delete.as_mut()),
            ("options", item.options.as_mut()),
            ("head", item.head.as_mut()),
            ("patch", item.patch.as_mut()),
            ("trace", item.trace.as_mut()),
        ]
        .into_iter()
        .filter_map(|(method, op)| op.map(|op| (method, op)))
    })
}

/// Every route module's own document, by module name.
pub fn parts() -> Vec<(&'static str, utoipa::openapi::OpenApi)> {
    use crate::http::routes;
    vec![
        ("api_docs", routes::api_docs::ApiDoc::openapi()),
        ("health", routes::health::ApiDoc::openapi()),
        ("metrics", routes::metrics::ApiDoc::openapi()),
        ("auth", routes::auth::ApiDoc::openapi()),
        ("bancas", routes::bancas::ApiDoc::openapi()),
        ("ventanas", routes::ventanas::ApiDoc::openapi()),
        ("users", routes::users::ApiDoc::openapi()),
        ("vendedores", routes::vendedores::ApiDoc::openapi()),
        ("activity", routes::activity::ApiDoc::openapi()),
        (
            "account_statements",
            routes::account_statements::ApiDoc::openapi(),
        ),
        (
            "accounts_statements",
            routes::accounts_statements::ApiDoc::openapi(),
        ),
        (
            "accounts_movements",
            routes::accounts_movements::ApiDoc::openapi(),
        ),
        ("loterias", routes::loterias::ApiDoc::openapi()),
        ("sorteos", routes::sorteos::ApiDoc::openapi()),
        ("sorteos_auto", routes::sorteos_auto::ApiDoc::openapi()),
        (
            "evaluated_summary",
            routes::evaluated_summary::ApiDoc::openapi(),
        ),
        ("commissions", routes::commissions::ApiDoc::openapi()),
        ("tickets", routes::tickets::ApiDoc::openapi()),
        ("ticket_reads", routes::ticket_reads::ApiDoc::openapi()),
        (
            "ticket_payments",
            routes::ticket_payments::ApiDoc::openapi(),
        ),
        ("multipliers", routes::multipliers::ApiDoc::openapi()),
        (
            "multiplier_overrides",
            routes::multiplier_overrides::ApiDoc::openapi(),
        ),
        ("restrictions", routes::restrictions::ApiDoc::openapi()),
        ("listas", routes::listas::ApiDoc::openapi()),
        ("diagnostics", routes::diagnostics::ApiDoc::openapi()),
        ("cierres", routes::cierres::ApiDoc::openapi()),
        ("dashboard", routes::dashboard::ApiDoc::openapi()),
        ("ventas", routes::ventas::ApiDoc::openapi()),
        ("reports", routes::reports::ApiDoc::openapi()),
        ("app_release", routes::app_release::ApiDoc::openapi()),
        ("telemetry", routes::telemetry::ApiDoc::openapi()),
    ]
}

/// Schema names that two modules (or a module and the base) define differently: merging
/// keeps the first, so each is a wrong schema in the document. Empty when all is well.
pub fn schema_conflicts() -> Vec<String> {
    let mut seen: BTreeMap<String, (&'static str, serde_json::Value)> = BTreeMap::new();
    let mut conflicts = Vec::new();
    let base = ("(base)", BaseDoc::openapi());
    for (module, part) in std::iter::once(base).chain(parts()) {
        for (name, schema) in part.components.map(|c| c.schemas).unwrap_or_default() {
            let value = serde_json::to_value(&schema).unwrap_or_default();
            match seen.get(&name) {
                Some((other, v)) if *v != value => {
                    conflicts.push(format!("{name}: {other} and {module}"));
                }
                Some(_) => {}
                None => {
                    seen.insert(name, (module, value));
                }
            }
        }
    }
    conflicts
}

/// The whole document: the base plus every route module's `ApiDoc`, with the common
/// responses and unique operation ids.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = BaseDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_string();
    for (_, part) in parts() {
        doc.merge(part);
    }
    let mut ids = std::collections::BTreeSet::new();
    for (method, op) in operations_mut(&mut doc) {
        optional_body(op);
        add_common_responses(op);
        let tag = op
            .tags
            .as_ref()
            .and_then(|t| t.first())
            .cloned()
            .unwrap_or_default();
        if let Some(id) = &op.operation_id {
            let mut id = if !tag.is_empty() && !id.starts_with(&format!("{tag}.")) {
                format!("{tag}.{id}")
            } else {
                id.clone()
            };
            // One handler on two methods (`method(put, patch)`) is two operations.
            if ids.contains(&id) {
                id = format!("{id}_{method}");
            }
            ids.insert(id.clone());
            op.operation_id = Some(id);
        }
    }
    doc
}
