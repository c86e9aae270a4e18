//! The sale path: `POST /tickets` (sell), `PATCH /tickets/:id/cancel` and `/restore`.
//!
//! A sale is one READ COMMITTED transaction on the primary, in four statements:
//! 1. idempotency (only with a key): claim (user, key); a live record of an earlier sale makes
//!    the claim fail and its stored answer is replayed (409 on a different payload); a
//!    concurrent twin waits on the claimed row and then replays the winner's answer;
//! 2. the sale context in one query (`db::sale::sale_context`): the seller, its ventana,
//!    banca and listero policy, the sorteo read `FOR KEY SHARE` (fresh state and the database
//!    clock; a state change, which locks the row `FOR UPDATE`, waits for the sales in flight),
//!    the next ticket number, the lotería's multipliers and the exclusion entries. Then, in
//!    Rust: who sells as whom (decision 16), sorteo state, cutoff, canonical numbers (decision
//!    14), the lotería's `rulesJson`, the banca's minimum bet, multipliers, exclusions;
//! 3. the seller's restriction rules; every applicable limit is resolved (decision 15) and
//!    multiplier blocks applied;
//! 4. one write (`db::sale::write_sale`): the per-number counters of the seller, its ventana
//!    and its banca are incremented in key order (row locks held to commit) and, only if no
//!    counter went over its smallest cumulative limit, the ticket, its jugadas with their
//!    commission snapshot, the stored idempotent answer and the audit entry are inserted.
//!    Otherwise the broken limit is named from the returned counters and everything rolls
//!    back.
//!
//! No Redis, no process-local lock: several instances on one database stay correct.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Datelike, Timelike, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::db::sale::{
    self as dbsale, CountedJugada, CounterDelta, NewJugada, NewTicket, SaleMultiplier, SaleSorteo,
    SaleUser, SaleVentana, StoredResponse, MKEY_ALL, MKEY_REVENTADO,
};
use crate::db::sorteos::SorteoStatus;
use crate::domain::authz::Actor;
use crate::domain::commission::{self, Policies};
use crate::domain::multipliers::BetType;
use crate::domain::roles::Role;
use crate::domain::rules::{
    resolve_cutoff, resolve_limits, sales_closed, CutoffContext, LimitContext, LimitKind,
    LimitResolution, LocalNow, Rule, SalesScope, Violation,
};
use crate::domain::rules_json::{self, LoteriaRules};
use crate::domain::schedule::local_date;
use crate::domain::ticket_number;
use crate::services::activity;
use crate::services::ticket_view::{
    JugadaView, LoteriaBrief, MultiplierBrief, PrintConfig, SaleWarning, SorteoBrief, TicketView,
    VendedorBrief, VentanaBrief,
};

/// Client name of a ticket sold without one.
pub const DEFAULT_CLIENT: &str = "CLIENTE CONTADO";

/// One bet line as sent (numbers not yet checked against the sorteo's digits).
#[derive(Debug, Clone, PartialEq)]
pub struct SaleLine {
    pub kind: BetType,
    pub number: String,
    pub reventado_number: Option<String>,
    pub amount: Decimal,
    pub multiplier_id: Option<Uuid>,
}

/// A validated `POST /tickets` body.
#[derive(Debug, Clone)]
pub struct SaleRequest {
    pub loteria_id: Uuid,
    pub sorteo_id: Uuid,
    pub vendedor_id: Option<Uuid>,
    pub cliente_nombre: Option<String>,
    pub idempotency_key: Option<String>,
    /// sha256 of the canonical request (see [`request_hash`]).
    pub request_hash: String,
    pub lines: Vec<SaleLine>,
}

/// What the sale needs from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct SaleSettings {
    pub tz: Tz,
    pub idempotency_ttl_seconds: i64,
    pub enable_reprints: bool,
}

/// How a refusal answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalKind {
    /// 400
    Invalid,
    /// 403
    Forbidden,
    /// 404
    NotFound,
    /// 409
    Conflict,
    /// 429 (an idempotency key in use)
    Locked,
}

/// A sale, cancel or restore refused: nothing was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub kind: RefusalKind,
    pub code: &'static str,
    pub message: String,
    /// `details` entries (`field`, `code`, `issue`, plus facts such as `number`, `available`).
    pub details: Option<Value>,
}

impl Refusal {
    fn new(kind: RefusalKind, code: &'static str, message: impl Into<String>) -> Self {
        Refusal {
            kind,
            code,
            message: message.into(),
            details: None,
        }
    }

    fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SaleError {
    #[error("refused: {0:?}")]
    Refused(Refusal),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl From<Refusal> for SaleError {
    fn from(r: Refusal) -> Self {
        SaleError::Refused(r)
    }
}

fn invalid(code: &'static str, message: impl Into<String>) -> SaleError {
    Refusal::new(RefusalKind::Invalid, code, message).into()
}

fn forbidden(code: &'static str, message: impl Into<String>) -> SaleError {
    Refusal::new(RefusalKind::Forbidden, code, message).into()
}

fn not_found(code: &'static str, message: impl Into<String>) -> SaleError {
    Refusal::new(RefusalKind::NotFound, code, message).into()
}

fn conflict(code: &'static str, message: impl Into<String>) -> SaleError {
    Refusal::new(RefusalKind::Conflict, code, message).into()
}

/// The answer of a sale: the exact bytes sent (and stored for replays).
#[derive(Debug, Clone)]
pub struct SaleAnswer {
    pub status: u16,
    pub body: Vec<u8>,
    /// A stored answer replayed (no new ticket).
    pub replayed: bool,
}

/// sha256 (hex) of the canonical JSON of a request: keys sorted, amounts normalised (100 and
/// 100.00 are the same request). Two requests with the same key must hash alike.
pub fn request_hash(canonical: &Value) -> String {
    let bytes = serde_json::to_vec(canonical).unwrap_or_default();
    let digest = Sha256::digest(&bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn replay(stored: StoredResponse, hash: &str) -> Result<SaleAnswer, SaleError> {
    if stored.request_hash != hash {
        return Err(conflict(
            "IDEMPOTENCY_PAYLOAD_MISMATCH",
            "La clave de idempotencia ya se usó con otra venta distinta",
        ));
    }
    match (stored.status_code, stored.response_body) {
        (Some(status), Some(body)) => Ok(SaleAnswer {
            status: u16::try_from(status).unwrap_or(201),
            body,
            replayed: true,
        }),
        _ => Err(Refusal::new(
            RefusalKind::Locked,
            "IDEMPOTENCY_LOCKED",
            "Esta venta ya se está procesando; intente de nuevo en un momento",
        )
        .into()),
    }
}

/// Sells a ticket (see the module notes for the order of the checks).
pub async fn sell(
    pool: &PgPool,
    actor: &Actor,
    req: &SaleRequest,
    settings: &SaleSettings,
) -> Result<SaleAnswer, SaleError> {
    // The key is claimed by the first statement of the transaction (no separate look-up on the
    // hot path): a live record makes the claim fail, and the stored answer is replayed.
    let mut tx = pool.begin().await?;
    let answer = match sell_in(&mut tx, actor, req, settings).await? {
        Some(answer) => answer,
        None => {
            // Answered before, or a twin committed while this one waited on the key: replay.
            tx.rollback().await?;
            let key = req.idempotency_key.as_deref().unwrap_or_default();
            let mut conn = pool.acquire().await?;
            return match dbsale::find_idempotent(&mut conn, actor.user_id, key).await? {
                Some(stored) => replay(stored, &req.request_hash),
                None => Err(Refusal::new(
                    RefusalKind::Locked,
                    "IDEMPOTENCY_LOCKED",
                    "Esta venta ya se está procesando; intente de nuevo en un momento",
                )
                .into()),
            };
        }
    };
    tx.commit().await?;
    Ok(answer)
}

/// Who the ticket is sold for, and by whom.
struct Seller {
    user: SaleUser,
    ventana: SaleVentana,
    /// The actor sells for someone else (a listero, BANCA or ADMIN): the vendedor's personal
    /// limits do not bind (§3.6.2).
    sold_by_other: bool,
    created_by_role: Role,
}

fn resolve_seller(
    actor: &Actor,
    vendedor_id: Option<Uuid>,
    user: Option<SaleUser>,
    ventana: Option<SaleVentana>,
) -> Result<Seller, SaleError> {
    let on_behalf = vendedor_id.filter(|v| *v != actor.user_id);
    if on_behalf.is_some() && actor.role == Role::Vendedor {
        return Err(forbidden(
            "FORBIDDEN",
            "Un vendedor solo puede vender a su propio nombre",
        ));
    }
    if on_behalf.is_none() && actor.role != Role::Vendedor {
        return Err(invalid(
            "VENDEDOR_ID_REQUIRED",
            "vendedorId es requerido para este rol",
        ));
    }
    let user = user
        .filter(|u| u.active)
        .ok_or_else(|| not_found("VENDEDOR_NOT_FOUND", "Vendedor no encontrado o inactivo"))?;
    if user.role != Role::Vendedor {
        return Err(invalid(
            "INVALID_VENDEDOR",
            "vendedorId debe ser un usuario con rol VENDEDOR",
        ));
    }
    let Some(ventana_id) = user.ventana_id else {
        return Err(invalid(
            "VENDEDOR_WITHOUT_VENTANA",
            "El vendedor no tiene una Ventana asignada",
        ));
    };
    if on_behalf.is_some() && actor.role == Role::Ventana && actor.ventana_id != Some(ventana_id) {
        return Err(forbidden(
            "FORBIDDEN",
            "vendedorId no pertenece a tu Ventana",
        ));
    }
    let ventana = ventana
        .filter(|v| v.active && v.id == ventana_id)
        .ok_or_else(|| not_found("VENTANA_NOT_FOUND", "Ventana no encontrada o inactiva"))?;
    let banca_ok = match actor.role {
        Role::Admin => actor.banca_id.is_none_or(|b| b == ventana.banca_id),
        Role::Banca => {
            actor.banca_id == Some(ventana.banca_id)
                && actor.assigned_bancas.contains(&ventana.banca_id)
        }
        Role::Ventana | Role::Vendedor => actor.home_banca_id == Some(ventana.banca_id),
    };
    if !banca_ok {
        return Err(forbidden(
            "FORBIDDEN",
            "El vendedor no pertenece a la banca activa",
        ));
    }
    if !ventana.banca_active {
        return Err(conflict("BANCA_INACTIVE", "La banca está inactiva"));
    }
    let sold_by_other = on_behalf.is_some();
    Ok(Seller {
        user,
        ventana,
        sold_by_other,
        created_by_role: if sold_by_other {
            actor.role
        } else {
            Role::Vendedor
        },
    })
}

/// Sorteo checks shared by sale and restore: found, same tenant, sellable state.
fn check_sorteo(sorteo: Option<SaleSorteo>, banca_id: Uuid) -> Result<SaleSorteo, SaleError> {
    let sorteo = sorteo
        .filter(|s| !s.deleted)
        .ok_or_else(|| not_found("SORTEO_NOT_FOUND", "Sorteo no encontrado"))?;
    if sorteo.banca_id.is_some_and(|b| b != banca_id) {
        return Err(forbidden(
            "CROSS_TENANT_FORBIDDEN",
            "El sorteo no pertenece a la banca del vendedor",
        ));
    }
    match sorteo.status {
        SorteoStatus::Closed => Err(conflict(
            "SORTEO_CLOSED",
            "No se pueden crear tickets en un sorteo cerrado",
        )),
        SorteoStatus::Evaluated => Err(conflict(
            "SORTEO_EVALUATED",
            "El sorteo ya tiene resultado: no admite más ventas",
        )),
        _ if !sorteo.is_active => Err(conflict("SORTEO_INACTIVE", "El sorteo está inactivo")),
        _ => Ok(sorteo),
    }
}

fn loteria_rules(sorteo: &SaleSorteo) -> LoteriaRules {
    LoteriaRules::parse(&sorteo.loteria_rules).unwrap_or_else(|issues| {
        tracing::warn!(sorteo = %sorteo.id, ?issues, "stored rulesJson unreadable; selling without its rules");
        LoteriaRules::parse(&json!({ "digits": rules_json::digits_of(&sorteo.loteria_rules) }))
            .expect("minimal rules parse")
    })
}

/// The cutoff check of sale, cancel and restore: 409 `SALES_CUTOFF_REACHED` once
/// `now ≥ scheduledAt − cutoff + 1 s`.
fn check_cutoff(
    rules: &[Rule],
    sorteo: &SaleSorteo,
    lrules: &LoteriaRules,
    ventana: &SaleVentana,
    vendedor_id: Uuid,
    tz: Tz,
    what: &str,
) -> Result<(), SaleError> {
    let cutoff = resolve_cutoff(
        rules,
        &CutoffContext {
            banca_id: ventana.banca_id,
            ventana_id: Some(ventana.id),
            user_id: Some(vendedor_id),
            banca_minutes: ventana.banca_active.then_some(ventana.banca_cutoff_minutes),
            loteria_minutes: lrules
                .closing_time_before_draw
                .and_then(|m| i32::try_from(m).ok()),
            now: LocalNow::at(sorteo.now, tz),
        },
    );
    if sales_closed(sorteo.now, sorteo.scheduled_at, cutoff.minutes) {
        let left_ms = (sorteo.scheduled_at - sorteo.now).num_milliseconds().max(0);
        let left_min = (left_ms + 59_999) / 60_000;
        return Err(Refusal::new(
            RefusalKind::Conflict,
            "SALES_CUTOFF_REACHED",
            format!(
                "{what} bloqueada: faltan {left_min} min para el sorteo (cierre {} min antes, fuente {})",
                cutoff.minutes,
                cutoff.source.as_str()
            ),
        )
        .with_details(json!([{
            "field": "sorteoId",
            "code": "SALES_CUTOFF_REACHED",
            "issue": format!("las ventas cierran {} min antes del sorteo", cutoff.minutes),
            "cutoffMinutes": cutoff.minutes,
            "source": cutoff.source.as_str(),
            "minutesLeft": left_min,
        }]))
        .into());
    }
    Ok(())
}

fn field_error(code: &'static str, message: String, field: String, issue: String) -> SaleError {
    Refusal::new(RefusalKind::Invalid, code, message)
        .with_details(json!([{ "field": field, "code": code, "issue": issue }]))
        .into()
}

/// Decision 14 and the lotería's `rulesJson` (§3.3 step 6) plus the banca's minimum bet
/// (decision 18), in the reference's order.
fn check_lines_against_rules(
    lines: &[SaleLine],
    digits: u8,
    lrules: &LoteriaRules,
    default_min_bet: Decimal,
    now_local: DateTime<Tz>,
) -> Result<(), SaleError> {
    let width = usize::from(digits);
    let mut bad = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        if l.number.len() != width {
            bad.push(json!({
                "field": format!("jugadas[{i}].number"),
                "code": "invalid_number",
                "issue": format!("debe tener exactamente {digits} dígitos"),
            }));
        }
        if let Some(r) = &l.reventado_number {
            if r.len() != width {
                bad.push(json!({
                    "field": format!("jugadas[{i}].reventadoNumber"),
                    "code": "invalid_number",
                    "issue": format!("debe tener exactamente {digits} dígitos"),
                }));
            }
        }
    }
    if !bad.is_empty() {
        return Err(Refusal::new(
            RefusalKind::Invalid,
            "VALIDATION_ERROR",
            format!("Los números de este sorteo tienen exactamente {digits} dígitos"),
        )
        .with_details(Value::Array(bad))
        .into());
    }
    // salesHours (409): the business-local time must be inside today's window.
    let day = now_local.weekday().num_days_from_sunday() as usize;
    if let Some(window) = lrules.sales_hours[day] {
        // Minute precision, both bounds inclusive ("HH:MM" compared as the reference does).
        let hm = |t: chrono::NaiveTime| (t.hour(), t.minute());
        let t = hm(now_local.time());
        let after_start = window.start.is_none_or(|s| t >= hm(s));
        let before_end = window.end.is_none_or(|e| t <= hm(e));
        if !(after_start && before_end) {
            return Err(conflict(
                "OUTSIDE_SALES_HOURS",
                "Fuera del horario de ventas de la lotería",
            ));
        }
    }
    for (i, l) in lines.iter().enumerate() {
        if let Some(range) = lrules.number_range {
            let n: u32 = l.number.parse().unwrap_or(u32::MAX);
            if n < range.min || n > range.max {
                return Err(field_error(
                    "NUMBER_OUT_OF_RANGE",
                    format!(
                        "El número {} está fuera del rango permitido ({}-{})",
                        l.number, range.min, range.max
                    ),
                    format!("jugadas[{i}].number"),
                    format!("debe estar entre {} y {}", range.min, range.max),
                ));
            }
        }
    }
    if let Some(allowed) = lrules.allowed_bet_types.as_ref().filter(|a| !a.is_empty()) {
        for (i, l) in lines.iter().enumerate() {
            let as_rules = match l.kind {
                BetType::Numero => rules_json::BetType::Numero,
                BetType::Reventado => rules_json::BetType::Reventado,
            };
            if !allowed.contains(&as_rules) {
                return Err(field_error(
                    "BET_TYPE_NOT_ALLOWED",
                    format!("La lotería no admite jugadas {}", l.kind.as_str()),
                    format!("jugadas[{i}].type"),
                    "tipo de jugada no permitido".into(),
                ));
            }
        }
    }
    if lines.iter().any(|l| l.kind == BetType::Reventado) && !lrules.reventado.enabled {
        let i = lines
            .iter()
            .position(|l| l.kind == BetType::Reventado)
            .unwrap_or(0);
        return Err(field_error(
            "REVENTADO_DISABLED",
            "La lotería no tiene habilitado el reventado".into(),
            format!("jugadas[{i}].type"),
            "reventado deshabilitado".into(),
        ));
    }
    let min_bet = match (lrules.min_bet_amount, default_min_bet > Decimal::ZERO) {
        (Some(m), true) => Some(m.max(default_min_bet)),
        (Some(m), false) => Some(m),
        (None, true) => Some(default_min_bet),
        (None, false) => None,
    };
    for (i, l) in lines.iter().enumerate() {
        if let Some(min) = min_bet {
            if l.amount < min {
                return Err(field_error(
                    "BET_MIN_VIOLATION",
                    format!("El monto mínimo por jugada es {min}"),
                    format!("jugadas[{i}].amount"),
                    format!("debe ser al menos {min}"),
                ));
            }
        }
        if let Some(max) = lrules.max_bet_amount {
            if l.amount > max {
                return Err(field_error(
                    "BET_MAX_VIOLATION",
                    format!("El monto máximo por jugada es {max}"),
                    format!("jugadas[{i}].amount"),
                    format!("debe ser como máximo {max}"),
                ));
            }
        }
    }
    if let Some(max) = lrules.max_numbers_per_ticket {
        if lines.len() > max as usize {
            return Err(field_error(
                "MAX_NUMBERS_PER_TICKET",
                format!("Un tiquete admite como máximo {max} jugadas en esta lotería"),
                "jugadas".into(),
                format!("máximo {max} jugadas"),
            ));
        }
    }
    Ok(())
}

/// The multiplier of each line (None for REVENTADO lines), refusing unknown, foreign, wrong
/// kind or inactive ones. A NUMERO line without `multiplierId` takes the lotería's base
/// multiplier: the active NUMERO multiplier named "Base", else the oldest active NUMERO one
/// (the app sends none).
fn map_multipliers<'m>(
    lines: &[SaleLine],
    loteria_id: Uuid,
    multipliers: &'m [SaleMultiplier],
) -> Result<Vec<Option<&'m SaleMultiplier>>, SaleError> {
    let numero_active = |m: &&SaleMultiplier| {
        m.loteria_id == loteria_id && m.kind == "NUMERO" && m.is_active && m.value_x > Decimal::ZERO
    };
    let default = multipliers
        .iter()
        .filter(numero_active)
        .find(|m| m.name.trim().eq_ignore_ascii_case("base"))
        .or_else(|| multipliers.iter().find(numero_active));
    let mut out = Vec::with_capacity(lines.len());
    for (i, l) in lines.iter().enumerate() {
        if l.kind == BetType::Reventado {
            out.push(None);
            continue;
        }
        let field = format!("jugadas[{i}].multiplierId");
        let m = match l.multiplier_id {
            None => default.ok_or_else(|| {
                field_error(
                    "MISSING_MULTIPLIER_ID",
                    "La jugada necesita un multiplicador y la lotería no tiene uno base".into(),
                    field.clone(),
                    "multiplicador requerido".into(),
                )
            })?,
            Some(id) => {
                let m = multipliers.iter().find(|m| m.id == id).ok_or_else(|| {
                    field_error(
                        "INVALID_MULTIPLIER",
                        "Multiplicador no encontrado".into(),
                        field.clone(),
                        "no existe".into(),
                    )
                })?;
                if m.kind != "NUMERO" {
                    return Err(field_error(
                        "INVALID_MULTIPLIER_KIND",
                        format!("El multiplicador '{}' no es de tipo NUMERO", m.name),
                        field,
                        "tipo de multiplicador inválido".into(),
                    ));
                }
                if m.loteria_id != loteria_id {
                    return Err(field_error(
                        "INVALID_MULTIPLIER_LOTERIA",
                        format!("El multiplicador '{}' es de otra lotería", m.name),
                        field,
                        "multiplicador de otra lotería".into(),
                    ));
                }
                if !m.is_active {
                    return Err(field_error(
                        "INACTIVE_MULTIPLIER",
                        format!("El multiplicador '{}' está inactivo", m.name),
                        field,
                        "multiplicador inactivo".into(),
                    ));
                }
                if m.value_x <= Decimal::ZERO {
                    return Err(field_error(
                        "INVALID_MULTIPLIER_VALUE",
                        format!("El multiplicador '{}' no tiene un valor válido", m.name),
                        field,
                        "valor inválido".into(),
                    ));
                }
                m
            }
        };
        out.push(Some(m));
    }
    Ok(out)
}

/// A bet line as the counters and limits see it.
#[derive(Debug, Clone)]
pub(crate) struct CountLine {
    pub(crate) kind: BetType,
    pub(crate) number: String,
    pub(crate) amount: Decimal,
    pub(crate) multiplier_id: Option<Uuid>,
}

impl From<&CountedJugada> for CountLine {
    fn from(j: &CountedJugada) -> Self {
        CountLine {
            kind: if j.kind == "REVENTADO" {
                BetType::Reventado
            } else {
                BetType::Numero
            },
            number: j.number.clone(),
            amount: j.amount,
            multiplier_id: j.multiplier_id,
        }
    }
}

/// The multiplier key a line is counted under besides "all": its NUMERO multiplier, or the
/// REVENTADO key.
pub(crate) fn line_key(l: &CountLine) -> Uuid {
    match l.kind {
        BetType::Reventado => MKEY_REVENTADO,
        BetType::Numero => l.multiplier_id.unwrap_or(MKEY_ALL),
    }
}

/// Counter changes of `lines` for the seller, its ventana and its banca.
pub(crate) fn counter_deltas(
    lines: &[CountLine],
    scopes: &[(&'static str, Uuid)],
) -> Vec<CounterDelta> {
    let mut sums: BTreeMap<(Uuid, String), Decimal> = BTreeMap::new();
    for l in lines {
        *sums.entry((MKEY_ALL, l.number.clone())).or_default() += l.amount;
        let k = line_key(l);
        if k != MKEY_ALL {
            *sums.entry((k, l.number.clone())).or_default() += l.amount;
        }
    }
    let mut out = Vec::with_capacity(sums.len() * scopes.len());
    for (kind, scope) in scopes {
        for ((mkey, number), amount) in &sums {
            out.push(CounterDelta {
                scope_id: *scope,
                mkey: *mkey,
                number: number.clone(),
                scope_kind: kind,
                amount: *amount,
            });
        }
    }
    out
}

/// Everything the limits of one sale (or restore) need.
struct LimitInputs<'a> {
    rules: &'a [Rule],
    sorteo: &'a SaleSorteo,
    ventana: &'a SaleVentana,
    vendedor_id: Uuid,
    sold_by_other: bool,
    tz: Tz,
    /// Kinds of the lotería's multipliers (a rule on a REVENTADO multiplier counts REVENTADO
    /// lines).
    reventado_multipliers: BTreeSet<Uuid>,
}

/// The banca's `globalMaxPerNumber` (decision 18) as a banca-wide cumulative rule; 0 = none.
fn banca_cap_rule(ventana: &SaleVentana, now: DateTime<Utc>) -> Option<Rule> {
    (ventana.global_max_per_number > Decimal::ZERO).then(|| Rule {
        id: ventana.banca_id,
        owner_banca_id: Some(ventana.banca_id),
        banca_id: Some(ventana.banca_id),
        ventana_id: None,
        user_id: None,
        number: None,
        is_auto_date: false,
        max_amount: None,
        max_total: Some(ventana.global_max_per_number),
        base_amount: None,
        sales_percentage: None,
        applies_to_vendedor: false,
        applies_to_date: None,
        applies_to_hour: None,
        sales_cutoff_minutes: None,
        loteria_id: None,
        multiplier_id: None,
        sorteo_id: None,
        message: None,
        is_active: true,
        updated_at: now - chrono::Duration::days(36_500),
    })
}

async fn resolve_for(
    conn: &mut PgConnection,
    inp: &LimitInputs<'_>,
    numbers: Vec<String>,
) -> Result<LimitResolution, sqlx::Error> {
    let mut rules: Vec<Rule> = inp.rules.to_vec();
    if let Some(cap) = banca_cap_rule(inp.ventana, inp.sorteo.now) {
        rules.push(cap);
    }
    let mut sales = HashMap::new();
    if rules.iter().any(|r| r.sales_percentage.is_some()) {
        let s = dbsale::scope_sales(
            conn,
            inp.sorteo.id,
            inp.ventana.banca_id,
            inp.ventana.id,
            inp.vendedor_id,
        )
        .await?;
        sales.insert(SalesScope::Vendedor(inp.vendedor_id), s.vendedor);
        sales.insert(SalesScope::Ventana(inp.ventana.id), s.ventana);
        sales.insert(SalesScope::Banca(inp.ventana.banca_id), s.banca);
    }
    Ok(resolve_limits(
        &rules,
        &LimitContext {
            banca_id: inp.ventana.banca_id,
            ventana_id: inp.ventana.id,
            vendedor_id: inp.vendedor_id,
            loteria_id: inp.sorteo.loteria_id,
            sorteo_id: inp.sorteo.id,
            digits: u8::try_from(inp.sorteo.digits).unwrap_or(2),
            now: LocalNow::at(inp.sorteo.now, inp.tz),
            sold_by_other: inp.sold_by_other,
            numbers,
            sales,
        },
    ))
}

fn key_of(inp: &LimitInputs<'_>, m: Option<Uuid>) -> Uuid {
    match m {
        None => MKEY_ALL,
        Some(id) if inp.reventado_multipliers.contains(&id) => MKEY_REVENTADO,
        Some(id) => id,
    }
}

fn scopes_of(inp: &LimitInputs<'_>) -> [(&'static str, Uuid); 3] {
    [
        ("VENDEDOR", inp.vendedor_id),
        ("VENTANA", inp.ventana.id),
        ("BANCA", inp.ventana.banca_id),
    ]
}

/// The ticket's amount on `number` that a limit on multiplier `m` counts.
fn in_ticket(inp: &LimitInputs<'_>, lines: &[CountLine], number: &str, m: Option<Uuid>) -> Decimal {
    let k = key_of(inp, m);
    lines
        .iter()
        .filter(|l| l.number == number && (k == MKEY_ALL || line_key(l) == k))
        .map(|l| l.amount)
        .sum()
}

/// The counter changes of a sale, each with the smallest cumulative limit on its counter, and
/// whether a per-ticket limit is already broken.
fn plan_counters(
    inp: &LimitInputs<'_>,
    limits: &LimitResolution,
    lines: &[CountLine],
) -> (Vec<(CounterDelta, Option<Decimal>)>, bool) {
    let deltas = counter_deltas(lines, &scopes_of(inp));
    let planned = deltas
        .into_iter()
        .map(|d| {
            let cap = limits.for_number(&d.number).and_then(|nl| {
                nl.totals
                    .iter()
                    .filter(|b| {
                        b.counted_in.is_some_and(|s| s.id() == d.scope_id)
                            && key_of(inp, b.multiplier_id) == d.mkey
                    })
                    .map(|b| b.amount)
                    .min()
            });
            (d, cap)
        })
        .collect();
    let per_ticket_broken = lines.iter().any(|l| {
        limits.for_number(&l.number).is_some_and(|nl| {
            nl.per_ticket
                .iter()
                .any(|b| in_ticket(inp, lines, &l.number, b.multiplier_id) > b.amount)
        })
    });
    (planned, per_ticket_broken)
}

/// The limit a sale broke, given the counters after its addition: the most specific broken
/// limit of each number, then the one with the least left.
fn violation_after(
    inp: &LimitInputs<'_>,
    limits: &LimitResolution,
    lines: &[CountLine],
    counters: &[dbsale::CounterValue],
) -> Option<Violation> {
    let after: HashMap<(Uuid, Uuid, &str), Decimal> = counters
        .iter()
        .map(|v| ((v.scope_id, v.mkey, v.number.as_str()), v.amount))
        .collect();
    let numbers: BTreeSet<&str> = lines.iter().map(|l| l.number.as_str()).collect();
    let mut worst: Option<Violation> = None;
    for n in numbers {
        let Some(nl) = limits.for_number(n) else {
            continue;
        };
        let here = |m: Option<Uuid>| in_ticket(inp, lines, n, m);
        let accumulated = |scope: &SalesScope, m: Option<Uuid>| -> Decimal {
            let total = after
                .get(&(scope.id(), key_of(inp, m), n))
                .copied()
                .unwrap_or_default();
            (total - here(m)).max(Decimal::ZERO)
        };
        if let Some(v) = nl.violation(here, accumulated) {
            worst = Some(match worst {
                Some(w) if w.available <= v.available => w,
                _ => v,
            });
        }
    }
    worst
}

/// Adds the lines to the counters and checks every cumulative and per-ticket limit against
/// the values just written (restore). On a broken limit the caller must roll back.
async fn count_and_check(
    conn: &mut PgConnection,
    inp: &LimitInputs<'_>,
    limits: &LimitResolution,
    lines: &[CountLine],
) -> Result<(), SaleError> {
    let deltas = counter_deltas(lines, &scopes_of(inp));
    let values = dbsale::add_to_counters(conn, inp.sorteo.id, &deltas).await?;
    match violation_after(inp, limits, lines, &values) {
        None => Ok(()),
        Some(v) => Err(limit_refusal(&v).into()),
    }
}

/// The refusal of a broken limit: 400 `NUMBER_MAXAMOUNT_EXCEEDED` (per ticket) or
/// `NUMBER_MAXTOTAL_EXCEEDED` (cumulative), with the number and what is still available.
fn limit_refusal(v: &Violation) -> Refusal {
    let number = v.number.clone().unwrap_or_default();
    let auto = if v.is_auto_date { " (automático)" } else { "" };
    let (code, message) = match v.kind {
        LimitKind::PerTicket => (
            "NUMBER_MAXAMOUNT_EXCEEDED",
            format!(
                "El número {number}{auto}: máximo ₡{} por tiquete (intentado ₡{})",
                commission::money_text(v.limit),
                commission::money_text(v.attempted)
            ),
        ),
        LimitKind::Total if v.available.is_zero() => (
            "NUMBER_MAXTOTAL_EXCEEDED",
            format!("El número {number}{auto}: Agotado para este sorteo"),
        ),
        LimitKind::Total => (
            "NUMBER_MAXTOTAL_EXCEEDED",
            format!(
                "El número {number}{auto}: Disponible ₡{}",
                commission::money_text(v.available)
            ),
        ),
    };
    let available = match v.kind {
        LimitKind::PerTicket => v.limit,
        LimitKind::Total => v.available,
    };
    Refusal::new(RefusalKind::Invalid, code, message).with_details(json!([{
        "field": "jugadas",
        "code": code,
        "issue": format!("número {number}: disponible {}", commission::money_text(available)),
        "number": number,
        "available": available,
        "limit": v.limit,
        "accumulated": v.accumulated,
        "attempted": v.attempted,
        "ruleId": v.rule_id,
        "scope": v.scope.as_str(),
        "scopeType": v.counted_in.map(|s| s.kind()),
        "multiplierId": v.multiplier_id,
        "isDynamic": v.is_dynamic,
        "isAutoDate": v.is_auto_date,
    }]))
}

/// Exclusion lists (decision 15): a line of an excluded list, multiplier or number is refused.
/// A REVENTADO line follows the multiplier of the NUMERO line on its number.
fn excluded_line(entries: &[dbsale::SaleExclusion], lines: &[CountLine]) -> Result<(), SaleError> {
    for l in lines {
        let multiplier = exclusion_multiplier(l, lines);
        let hit = entries.iter().any(|e| {
            e.multiplier_id.is_none_or(|m| Some(m) == multiplier)
                && e.number.as_deref().is_none_or(|n| n == l.number)
        });
        if hit {
            return Err(excluded_refusal(&l.number));
        }
    }
    Ok(())
}

/// The multiplier an exclusion entry matches a line by: its own, or for a REVENTADO line the
/// multiplier of the NUMERO line on its number.
fn exclusion_multiplier(l: &CountLine, lines: &[CountLine]) -> Option<Uuid> {
    match l.kind {
        BetType::Numero => l.multiplier_id,
        BetType::Reventado => lines
            .iter()
            .find(|o| o.kind == BetType::Numero && o.number == l.number)
            .and_then(|o| o.multiplier_id),
    }
}

fn excluded_refusal(number: &str) -> SaleError {
    Refusal::new(
        RefusalKind::Conflict,
        "LISTA_EXCLUDED",
        format!("La banca excluyó esta lista del sorteo: no se puede vender el número {number}"),
    )
    .with_details(json!([{
        "field": "jugadas",
        "code": "LISTA_EXCLUDED",
        "issue": "lista excluida para este sorteo",
        "number": number,
    }]))
    .into()
}

async fn check_exclusions(
    conn: &mut PgConnection,
    sorteo_id: Uuid,
    ventana: &SaleVentana,
    vendedor_id: Uuid,
    lines: &[CountLine],
) -> Result<(), SaleError> {
    let entries =
        dbsale::exclusions(conn, sorteo_id, ventana.banca_id, ventana.id, vendedor_id).await?;
    excluded_line(&entries, lines)
}

/// Multiplier blocks (§3.6.4): a lotería/multiplier rule refuses the NUMERO lines sold with
/// its multiplier, except for an ADMIN, who gets one warning per rule.
fn check_blocks(
    actor: &Actor,
    limits: &LimitResolution,
    lines: &[CountLine],
    multipliers: &[SaleMultiplier],
    loteria_id: Uuid,
    loteria_name: &str,
) -> Result<Vec<SaleWarning>, SaleError> {
    let mut warnings: Vec<SaleWarning> = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let (Some(m), BetType::Numero) = (l.multiplier_id, l.kind) else {
            continue;
        };
        let Some(block) = limits.for_number(&l.number).and_then(|nl| nl.blocked(m)) else {
            continue;
        };
        let name = multipliers
            .iter()
            .find(|x| x.id == m)
            .map(|x| x.name.clone())
            .unwrap_or_default();
        let message = block.message.clone().unwrap_or_else(|| {
            format!("El multiplicador '{name}' está restringido para esta lotería.")
        });
        if actor.role != Role::Admin {
            return Err(Refusal::new(
                RefusalKind::Invalid,
                "LOTTERY_MULTIPLIER_RESTRICTED",
                message,
            )
            .with_details(json!([{
                "field": format!("jugadas[{i}].multiplierId"),
                "code": "LOTTERY_MULTIPLIER_RESTRICTED",
                "issue": "multiplicador restringido",
                "ruleId": block.rule_id,
                "loteriaId": loteria_id,
                "loteriaName": loteria_name,
                "multiplierId": m,
                "multiplierName": name,
            }]))
            .into());
        }
        if !warnings.iter().any(|w| w.rule_id == block.rule_id) {
            warnings.push(SaleWarning {
                code: "LOTTERY_MULTIPLIER_RESTRICTED".into(),
                restricted_but_allowed: true,
                rule_id: block.rule_id,
                scope: block.scope.as_str().to_lowercase(),
                loteria_id,
                loteria_name: loteria_name.to_owned(),
                multiplier_id: m,
                multiplier_name: name,
                message,
            });
        }
    }
    Ok(warnings)
}

/// The sale inside its transaction; `None` when the idempotency key is taken (replay).
async fn sell_in(
    tx: &mut PgConnection,
    actor: &Actor,
    req: &SaleRequest,
    settings: &SaleSettings,
) -> Result<Option<SaleAnswer>, SaleError> {
    let seller_id = req.vendedor_id.unwrap_or(actor.user_id);
    let named: Vec<Uuid> = req.lines.iter().filter_map(|l| l.multiplier_id).collect();
    let claim = req.idempotency_key.as_deref().map(|key| dbsale::Claim {
        user_id: actor.user_id,
        key,
        request_hash: &req.request_hash,
        ttl_seconds: settings.idempotency_ttl_seconds,
    });
    let ctx =
        dbsale::sale_context(tx, claim, seller_id, req.sorteo_id, req.loteria_id, &named).await?;
    if !ctx.claimed {
        return Ok(None);
    }
    let seller = resolve_seller(actor, req.vendedor_id, ctx.user, ctx.ventana)?;
    let ventana = &seller.ventana;
    let sorteo = check_sorteo(ctx.sorteo, ventana.banca_id)?;
    if sorteo.loteria_id != req.loteria_id {
        return Err(invalid(
            "SORTEO_LOTERIA_MISMATCH",
            "loteriaId no coincide con la lotería del sorteo",
        ));
    }
    let rules = ctx.rules;
    let lrules = loteria_rules(&sorteo);
    check_cutoff(
        &rules,
        &sorteo,
        &lrules,
        ventana,
        seller.user.id,
        settings.tz,
        "Venta",
    )?;
    let digits = u8::try_from(sorteo.digits).unwrap_or(2);
    check_lines_against_rules(
        &req.lines,
        digits,
        &lrules,
        ventana.default_min_bet,
        sorteo.now.with_timezone(&settings.tz),
    )?;

    let multipliers = ctx.multipliers;
    let mapped = map_multipliers(&req.lines, sorteo.loteria_id, &multipliers)?;
    let count_lines: Vec<CountLine> = req
        .lines
        .iter()
        .zip(&mapped)
        .map(|(l, m)| CountLine {
            kind: l.kind,
            number: l.number.clone(),
            amount: l.amount,
            multiplier_id: m.map(|m| m.id),
        })
        .collect();
    excluded_line(&ctx.exclusions, &count_lines)?;

    let reventado_multipliers: BTreeSet<Uuid> = multipliers
        .iter()
        .filter(|m| m.kind == "REVENTADO")
        .map(|m| m.id)
        .collect();
    let inputs = LimitInputs {
        rules: &rules,
        sorteo: &sorteo,
        ventana,
        vendedor_id: seller.user.id,
        sold_by_other: seller.sold_by_other,
        tz: settings.tz,
        reventado_multipliers,
    };
    let mut numbers: Vec<String> = count_lines.iter().map(|l| l.number.clone()).collect();
    numbers.sort();
    numbers.dedup();
    let limits = resolve_for(tx, &inputs, numbers).await?;

    let warnings = check_blocks(
        actor,
        &limits,
        &count_lines,
        &multipliers,
        sorteo.loteria_id,
        &sorteo.loteria_name,
    )?;

    // Commission snapshot per line (§3.7), then totals in exact money.
    let now = sorteo.now;
    let policies = Policies {
        user: seller
            .user
            .commission_policy_json
            .as_ref()
            .and_then(|p| commission::parse_policy(p, now)),
        ventana: ventana
            .ventana_policy
            .as_ref()
            .and_then(|p| commission::parse_policy(p, now)),
        banca: ventana
            .banca_policy
            .as_ref()
            .and_then(|p| commission::parse_policy(p, now)),
        listero: ventana
            .listero_policy
            .as_ref()
            .and_then(|p| commission::parse_policy(p, now)),
    };
    let ticket_id = Uuid::now_v7();
    let mut jugadas = Vec::with_capacity(req.lines.len());
    for (i, (l, m)) in req.lines.iter().zip(&mapped).enumerate() {
        let x = m.map(|m| m.value_x).unwrap_or(Decimal::ZERO);
        let snap = policies.snapshot(sorteo.loteria_id, l.kind, x, l.amount);
        jugadas.push(NewJugada {
            id: Uuid::now_v7(),
            position: i16::try_from(i).unwrap_or(i16::MAX),
            kind: l.kind.as_str(),
            number: l.number.clone(),
            reventado_number: (l.kind == BetType::Reventado).then(|| l.number.clone()),
            amount: l.amount,
            final_multiplier_x: x,
            multiplier_id: m.map(|m| m.id),
            commission_percent: snap.percent,
            commission_amount: snap.amount,
            commission_origin: snap.origin.map(|o| o.as_str()),
            commission_rule_id: snap.rule_id,
            listero_commission_amount: snap.listero_amount,
        });
    }
    let total_amount: Decimal = jugadas.iter().map(|j| j.amount).sum();
    let total_commission: Decimal = jugadas.iter().map(|j| j.commission_amount).sum();
    let total_listero: Decimal = jugadas.iter().map(|j| j.listero_commission_amount).sum();

    let business_date = local_date(sorteo.scheduled_at, settings.tz);
    let number = ticket_number::format(business_date, ctx.seq);
    let cliente = req
        .cliente_nombre
        .clone()
        .unwrap_or_else(|| DEFAULT_CLIENT.to_owned());

    let view = TicketView {
        id: ticket_id,
        ticket_number: number.clone(),
        business_date,
        banca_id: ventana.banca_id,
        loteria_id: sorteo.loteria_id,
        sorteo_id: sorteo.id,
        ventana_id: ventana.id,
        vendedor_id: seller.user.id,
        total_amount,
        total_commission,
        total_listero_commission: total_listero,
        status: "ACTIVE".into(),
        is_active: true,
        is_winner: false,
        total_payout: Decimal::ZERO,
        total_paid: Decimal::ZERO,
        remaining_amount: Decimal::ZERO,
        last_payment_at: None,
        payment_method: None,
        payment_notes: None,
        payment_history: json!([]),
        cliente_nombre: cliente.clone(),
        created_by: Some(actor.user_id),
        created_by_role: Some(seller.created_by_role.as_str().into()),
        is_sorteo_closed: false,
        idempotency_key: req.idempotency_key.clone(),
        print_count: 0,
        cancelled_at: None,
        deleted_at: None,
        created_at: now,
        updated_at: now,
        enable_ticket_reprints: settings.enable_reprints,
        loteria: LoteriaBrief {
            id: sorteo.loteria_id,
            name: sorteo.loteria_name.clone(),
            rules_json: sorteo.loteria_rules.clone(),
        },
        sorteo: SorteoBrief {
            id: sorteo.id,
            name: crate::services::ticket_view::sorteo_display_name(
                &sorteo.name,
                sorteo.scheduled_at,
                settings.tz,
            ),
            scheduled_at: crate::domain::schedule::local_iso(sorteo.scheduled_at, settings.tz),
            status: sorteo.status.as_str().into(),
            loteria_id: sorteo.loteria_id,
            banca_id: sorteo.banca_id,
            digits: sorteo.digits,
            winning_number: sorteo.winning_number.clone(),
            loteria: LoteriaBrief {
                id: sorteo.loteria_id,
                name: sorteo.loteria_name.clone(),
                rules_json: sorteo.loteria_rules.clone(),
            },
        },
        vendedor: VendedorBrief {
            id: seller.user.id,
            name: seller.user.name.clone(),
            code: seller.user.code.clone(),
            phone: seller.user.phone.clone(),
            username: seller.user.username.clone(),
            settings: seller.user.settings.clone(),
            print: PrintConfig::derive(
                &seller.user.name,
                seller.user.phone.as_deref(),
                seller.user.settings.as_ref(),
            ),
        },
        ventana: VentanaBrief {
            id: ventana.id,
            name: ventana.name.clone(),
            code: ventana.code.clone(),
            phone: ventana.phone.clone(),
            banca_id: ventana.banca_id,
            settings: ventana.settings.clone(),
            print: PrintConfig::derive(
                &ventana.name,
                ventana.phone.as_deref(),
                ventana.settings.as_ref(),
            ),
        },
        jugadas: jugadas
            .iter()
            .zip(&mapped)
            .map(|(j, m)| JugadaView {
                id: j.id,
                ticket_id,
                kind: j.kind.into(),
                number: j.number.clone(),
                reventado_number: j.reventado_number.clone(),
                amount: j.amount,
                final_multiplier_x: j.final_multiplier_x,
                multiplier_id: j.multiplier_id,
                multiplier: m.map(|m| MultiplierBrief {
                    id: m.id,
                    name: m.name.clone(),
                    value_x: m.value_x,
                }),
                commission_percent: j.commission_percent,
                commission_amount: j.commission_amount,
                commission_origin: j.commission_origin.map(str::to_owned),
                commission_rule_id: j.commission_rule_id.clone(),
                listero_commission_amount: j.listero_commission_amount,
                is_active: true,
                is_winner: false,
                payout: None,
                win_amount: None,
                is_excluded: false,
                created_at: now,
                updated_at: now,
                deleted_at: None,
            })
            .collect(),
        warnings,
    };
    let body = serde_json::to_vec(&json!({ "success": true, "data": view }))
        .map_err(|e| sqlx::Error::Protocol(format!("serialising a ticket: {e}")))?;
    let status: u16 = 201;
    let answer = req
        .idempotency_key
        .as_deref()
        .map(|key| dbsale::IdempotentAnswer {
            user_id: actor.user_id,
            key,
            status_code: status as i16,
            body: &body,
        });
    let details = json!({
        "ticketNumber": number,
        "totalAmount": total_amount,
        "jugadas": jugadas.len(),
        "vendedorId": seller.user.id,
        "description": format!("Venta del tiquete {number} por ₡{}", commission::money_text(total_amount)),
    });
    let request_id = crate::http::middleware::current_request_id();
    let (planned, per_ticket_broken) = plan_counters(&inputs, &limits, &count_lines);
    let ticket = NewTicket {
        id: ticket_id,
        ticket_number: &number,
        business_date,
        banca_id: ventana.banca_id,
        loteria_id: sorteo.loteria_id,
        sorteo_id: sorteo.id,
        ventana_id: ventana.id,
        vendedor_id: seller.user.id,
        total_amount,
        total_commission,
        total_listero_commission: total_listero,
        cliente_nombre: &cliente,
        created_by: actor.user_id,
        created_by_role: seller.created_by_role,
        idempotency_key: req.idempotency_key.as_deref(),
        created_at: now,
    };
    // The exclusions read with the context may predate an exclusion that committed while this
    // sale waited for the sorteo row: the write checks them again with a fresh snapshot.
    let guard: Vec<(String, Option<Uuid>)> = count_lines
        .iter()
        .map(|l| (l.number.clone(), exclusion_multiplier(l, &count_lines)))
        .collect();
    let written = dbsale::write_sale(
        tx,
        &dbsale::CounterPlan {
            deltas: &planned,
            allowed: !per_ticket_broken,
            exclusion_guard: &guard,
        },
        &ticket,
        &jugadas,
        answer.as_ref(),
        &dbsale::SaleAudit {
            user_id: actor.user_id,
            banca_id: ventana.banca_id,
            details: &details,
            request_id: request_id.as_deref(),
        },
    )
    .await?;
    if written.excluded {
        let numbers: Vec<&str> = count_lines.iter().map(|l| l.number.as_str()).collect();
        return Err(excluded_refusal(&numbers.join(", ")));
    }
    if !written.inserted {
        // A limit is broken: name it (the caller rolls the counters back).
        return Err(
            match violation_after(&inputs, &limits, &count_lines, &written.counters) {
                Some(v) => limit_refusal(&v).into(),
                None => SaleError::Database(sqlx::Error::Protocol(
                    "sale refused by a counter cap that no limit explains".into(),
                )),
            },
        );
    }
    Ok(Some(SaleAnswer {
        status,
        body,
        replayed: false,
    }))
}

// ---------------------------------------------------------------------------------------------
// Cancel and restore.

/// Who may cancel, restore or print a ticket (decision 16): its vendedor, the listero of its
/// ventana, a BANCA user of its banca (active banca), an ADMIN (within the active banca when
/// one is selected). Others get 404.
pub fn owns(actor: &Actor, banca_id: Uuid, ventana_id: Uuid, vendedor_id: Uuid) -> bool {
    match actor.role {
        Role::Vendedor => actor.user_id == vendedor_id,
        Role::Ventana => actor.ventana_id == Some(ventana_id),
        Role::Banca => {
            actor.banca_id == Some(banca_id) && actor.assigned_bancas.contains(&banca_id)
        }
        Role::Admin => actor.banca_id.is_none_or(|b| b == banca_id),
    }
}

/// The sorteo (locked `FOR KEY SHARE`), then the ticket (locked `FOR UPDATE`), in the same
/// order as every writer; 404 when missing or not the caller's.
async fn lock_owned(
    conn: &mut PgConnection,
    actor: &Actor,
    id: Uuid,
) -> Result<(dbsale::LockedTicket, SaleSorteo), SaleError> {
    let missing = || not_found("TICKET_NOT_FOUND", "Tiquete no encontrado");
    let sorteo_id = dbsale::ticket_sorteo(conn, id).await?.ok_or_else(missing)?;
    let sorteo = dbsale::sorteo_for_sale(conn, sorteo_id)
        .await?
        .ok_or_else(missing)?;
    let t = dbsale::lock_ticket(conn, id).await?.ok_or_else(missing)?;
    if !owns(actor, t.banca_id, t.ventana_id, t.vendedor_id) {
        return Err(missing());
    }
    Ok((t, sorteo))
}

/// What a cancel or restore did: the ticket id, and whether anything changed.
#[derive(Debug, Clone, Copy)]
pub struct StateChange {
    pub ticket_id: Uuid,
    pub changed: bool,
}

/// Cancels an ACTIVE ticket before its sorteo's cutoff: CANCELLED, inactive, jugadas
/// inactive, and its quota released exactly once. Cancelling a CANCELLED ticket changes
/// nothing (the answer is the ticket as it is).
pub async fn cancel(
    pool: &PgPool,
    actor: &Actor,
    id: Uuid,
    settings: &SaleSettings,
) -> Result<StateChange, SaleError> {
    let mut tx = pool.begin().await?;
    let (t, sorteo) = lock_owned(&mut tx, actor, id).await?;
    match t.status.as_str() {
        "CANCELLED" => {
            tx.rollback().await?;
            return Ok(StateChange {
                ticket_id: id,
                changed: false,
            });
        }
        "ACTIVE" => {}
        other => {
            return Err(invalid(
                "INVALID_STATE",
                format!("No se puede anular un tiquete en estado {other}"),
            ))
        }
    }
    if matches!(
        sorteo.status,
        SorteoStatus::Closed | SorteoStatus::Evaluated
    ) || sorteo.deleted
    {
        return Err(invalid(
            "SORTEO_LOCKED",
            "El sorteo ya está cerrado, evaluado o eliminado: no se puede anular",
        ));
    }
    let ventana = dbsale::ventana(&mut tx, t.ventana_id)
        .await?
        .ok_or_else(|| not_found("VENTANA_NOT_FOUND", "Ventana no encontrada"))?;
    let rules = dbsale::rules_for_seller(&mut tx, t.banca_id, t.ventana_id, t.vendedor_id).await?;
    check_cutoff(
        &rules,
        &sorteo,
        &loteria_rules(&sorteo),
        &ventana,
        t.vendedor_id,
        settings.tz,
        "Anulación",
    )?;
    let lines: Vec<CountLine> = dbsale::counted_jugadas(&mut tx, id)
        .await?
        .iter()
        .map(CountLine::from)
        .collect();
    let scopes = [
        ("VENDEDOR", t.vendedor_id),
        ("VENTANA", t.ventana_id),
        ("BANCA", t.banca_id),
    ];
    dbsale::release_counters(&mut tx, sorteo.id, &counter_deltas(&lines, &scopes)).await?;
    dbsale::mark_cancelled(&mut tx, id, actor.user_id).await?;
    activity::record(
        &mut tx,
        actor,
        Some(t.banca_id),
        "TICKET_CANCEL",
        "TICKET",
        id,
        json!({
            "ticketNumber": t.ticket_number,
            "totalAmount": t.total_amount,
            "reason": "Cancelled by user",
            "description": format!("Anulación del tiquete {}", t.ticket_number),
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(StateChange {
        ticket_id: id,
        changed: true,
    })
}

/// Restores a CANCELLED ticket while its sorteo still sells: every limit is checked again and
/// the quota consumed again; refused with the same limit error when the numbers are sold out.
pub async fn restore(
    pool: &PgPool,
    actor: &Actor,
    id: Uuid,
    settings: &SaleSettings,
) -> Result<StateChange, SaleError> {
    let mut tx = pool.begin().await?;
    let (t, sorteo) = lock_owned(&mut tx, actor, id).await?;
    if t.status != "CANCELLED" {
        return Err(invalid(
            "INVALID_STATE",
            format!("Solo se restaura un tiquete anulado (estado {})", t.status),
        ));
    }
    if sorteo.scheduled_at <= sorteo.now {
        return Err(conflict("DRAW_PASSED", "El sorteo ya se realizó"));
    }
    if matches!(
        sorteo.status,
        SorteoStatus::Closed | SorteoStatus::Evaluated
    ) || sorteo.deleted
    {
        return Err(conflict(
            "SORTEO_LOCKED",
            "El sorteo ya está cerrado o evaluado: no se puede restaurar",
        ));
    }
    if !sorteo.is_active {
        return Err(conflict("SORTEO_INACTIVE", "El sorteo está inactivo"));
    }
    let ventana = dbsale::ventana(&mut tx, t.ventana_id)
        .await?
        .filter(|v| v.active)
        .ok_or_else(|| not_found("VENTANA_NOT_FOUND", "Ventana no encontrada o inactiva"))?;
    if !ventana.banca_active {
        return Err(conflict("BANCA_INACTIVE", "La banca está inactiva"));
    }
    let rules = dbsale::rules_for_seller(&mut tx, t.banca_id, t.ventana_id, t.vendedor_id).await?;
    check_cutoff(
        &rules,
        &sorteo,
        &loteria_rules(&sorteo),
        &ventana,
        t.vendedor_id,
        settings.tz,
        "Restauración",
    )?;
    let lines: Vec<CountLine> = dbsale::restorable_jugadas(&mut tx, id)
        .await?
        .iter()
        .map(CountLine::from)
        .collect();
    check_exclusions(&mut tx, sorteo.id, &ventana, t.vendedor_id, &lines).await?;
    let multipliers = dbsale::multipliers(&mut tx, sorteo.loteria_id, &[]).await?;
    let inputs = LimitInputs {
        rules: &rules,
        sorteo: &sorteo,
        ventana: &ventana,
        vendedor_id: t.vendedor_id,
        sold_by_other: matches!(
            t.created_by_role,
            Some(Role::Ventana | Role::Admin | Role::Banca)
        ),
        tz: settings.tz,
        reventado_multipliers: multipliers
            .iter()
            .filter(|m| m.kind == "REVENTADO")
            .map(|m| m.id)
            .collect(),
    };
    let mut numbers: Vec<String> = lines.iter().map(|l| l.number.clone()).collect();
    numbers.sort();
    numbers.dedup();
    let limits = resolve_for(&mut tx, &inputs, numbers).await?;
    check_blocks(
        actor,
        &limits,
        &lines,
        &multipliers,
        sorteo.loteria_id,
        &sorteo.loteria_name,
    )?;
    count_and_check(&mut tx, &inputs, &limits, &lines).await?;
    dbsale::mark_restored(&mut tx, id).await?;
    activity::record(
        &mut tx,
        actor,
        Some(t.banca_id),
        "TICKET_RESTORE",
        "TICKET",
        id,
        json!({
            "ticketNumber": t.ticket_number,
            "totalAmount": t.total_amount,
            "description": format!("Restauración del tiquete {}", t.ticket_number),
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(StateChange {
        ticket_id: id,
        changed: true,
    })
}

/// `POST /tickets/:id/print`: counts a (re)print of a ticket the caller owns; the new count.
pub async fn register_print(pool: &PgPool, actor: &Actor, id: Uuid) -> Result<i32, SaleError> {
    let mut tx = pool.begin().await?;
    let missing = || not_found("TICKET_NOT_FOUND", "Tiquete no encontrado");
    let t = dbsale::lock_ticket(&mut tx, id)
        .await?
        .ok_or_else(missing)?;
    if !owns(actor, t.banca_id, t.ventana_id, t.vendedor_id) {
        return Err(missing());
    }
    let count = dbsale::bump_print_count(&mut tx, id).await?;
    activity::record(
        &mut tx,
        actor,
        Some(t.banca_id),
        "TICKET_REPRINT",
        "TICKET",
        id,
        json!({ "ticketNumber": t.ticket_number, "printCount": count }),
    )
    .await?;
    tx.commit().await?;
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(kind: BetType, number: &str, amount: &str, m: Option<u128>) -> CountLine {
        CountLine {
            kind,
            number: number.into(),
            amount: amount.parse().unwrap(),
            multiplier_id: m.map(Uuid::from_u128),
        }
    }

    #[test]
    fn counter_deltas_cover_every_scope_and_key_once() {
        let lines = vec![
            line(BetType::Numero, "07", "100", Some(1)),
            line(BetType::Numero, "07", "50", Some(2)),
            line(BetType::Reventado, "07", "30", None),
            line(BetType::Numero, "42", "0.1", Some(1)),
            line(BetType::Numero, "42", "0.2", Some(1)),
        ];
        let scopes = [
            ("VENDEDOR", Uuid::from_u128(10)),
            ("VENTANA", Uuid::from_u128(20)),
        ];
        let d = counter_deltas(&lines, &scopes);
        let get = |scope: u128, key: Uuid, n: &str| {
            d.iter()
                .find(|x| x.scope_id == Uuid::from_u128(scope) && x.mkey == key && x.number == n)
                .map(|x| x.amount)
        };
        assert_eq!(get(10, MKEY_ALL, "07"), Some("180".parse().unwrap()));
        assert_eq!(
            get(10, Uuid::from_u128(1), "07"),
            Some("100".parse().unwrap())
        );
        assert_eq!(
            get(10, Uuid::from_u128(2), "07"),
            Some("50".parse().unwrap())
        );
        assert_eq!(get(10, MKEY_REVENTADO, "07"), Some("30".parse().unwrap()));
        // 0.1 + 0.2 is exactly 0.3.
        assert_eq!(get(20, MKEY_ALL, "42"), Some("0.3".parse().unwrap()));
        assert_eq!(get(20, MKEY_REVENTADO, "42"), None);
        // 2 scopes × (07: all, m1, m2, rev; 42: all, m1)
        assert_eq!(d.len(), 12);
    }

    #[test]
    fn sales_hours_compare_minutes_with_both_bounds_inclusive() {
        let rules = |start: &str, end: &str| {
            let days: serde_json::Map<String, Value> = crate::domain::rules_json::DAY_KEYS
                .iter()
                .map(|d| (d.to_string(), json!({"start": start, "end": end})))
                .collect();
            LoteriaRules::parse(&json!({"digits": 2, "salesHours": days})).unwrap()
        };
        let tz = chrono_tz::America::Costa_Rica;
        let at = |h: u32, m: u32, sec: u32| {
            chrono::TimeZone::with_ymd_and_hms(&tz, 2026, 11, 25, h, m, sec).unwrap()
        };
        let lines = vec![SaleLine {
            kind: BetType::Numero,
            number: "07".into(),
            reventado_number: None,
            amount: Decimal::from(100),
            multiplier_id: None,
        }];
        let open =
            |r: &LoteriaRules, t| check_lines_against_rules(&lines, 2, r, Decimal::ZERO, t).is_ok();
        let all_day = rules("00:00", "23:59");
        assert!(
            open(&all_day, at(23, 59, 30)),
            "23:59 is inside a window ending 23:59"
        );
        assert!(open(&all_day, at(0, 0, 0)));
        assert!(open(&all_day, at(12, 0, 0)));
        let morning = rules("08:00", "08:30");
        assert!(!open(&morning, at(7, 59, 59)));
        assert!(open(&morning, at(8, 0, 0)));
        assert!(open(&morning, at(8, 30, 59)));
        assert!(!open(&morning, at(8, 31, 0)));
    }

    #[test]
    fn request_hash_is_stable_and_order_free() {
        let a = json!({"a": 1, "b": [1, 2]});
        let b: Value = serde_json::from_str(r#"{"b":[1,2],"a":1}"#).unwrap();
        assert_eq!(request_hash(&a), request_hash(&b));
        assert_ne!(
            request_hash(&a),
            request_hash(&json!({"a": 2, "b": [1, 2]}))
        );
        assert_eq!(request_hash(&a).len(), 64);
    }

    #[test]
    fn ownership_follows_decision_16() {
        let base = Actor {
            user_id: Uuid::from_u128(1),
            username: "x".into(),
            role: Role::Vendedor,
            ventana_id: Some(Uuid::from_u128(20)),
            home_banca_id: Some(Uuid::from_u128(30)),
            banca_id: Some(Uuid::from_u128(30)),
            assigned_bancas: vec![],
            session_id: Uuid::nil(),
        };
        let (b, v, s) = (Uuid::from_u128(30), Uuid::from_u128(20), Uuid::from_u128(1));
        assert!(owns(&base, b, v, s));
        assert!(!owns(&base, b, v, Uuid::from_u128(2)));
        let listero = Actor {
            role: Role::Ventana,
            user_id: Uuid::from_u128(5),
            ..base.clone()
        };
        assert!(owns(&listero, b, v, Uuid::from_u128(2)));
        assert!(!owns(&listero, b, Uuid::from_u128(21), Uuid::from_u128(2)));
        let banca = Actor {
            role: Role::Banca,
            ventana_id: None,
            assigned_bancas: vec![b],
            ..base.clone()
        };
        assert!(owns(&banca, b, Uuid::from_u128(21), Uuid::from_u128(2)));
        assert!(!owns(&banca, Uuid::from_u128(31), v, s));
        let admin = Actor {
            role: Role::Admin,
            banca_id: None,
            ..base
        };
        assert!(owns(&admin, Uuid::from_u128(31), v, s));
    }
}
