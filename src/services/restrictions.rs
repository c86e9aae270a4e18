//! Use cases over restriction rules: create (one rule per number), update, bulk update, soft
//! delete (single and bulk), restore, the lists (flat, grouped, and the rules that apply to a
//! vendedor), the rule-side health report, and the cutoff diagnosis. Writes own their
//! transaction and record one activity entry per rule changed, inside it.
//!
//! Tenancy: every rule belongs to a banca (`owner_banca_id`): the banca of its scope target,
//! else of its lotería or sorteo, else the caller's active banca. Who reaches a rule:
//! - ADMIN: every rule; writes any.
//! - BANCA: the rules of its bancas; writes them. Scope targets, lotería, sorteo and
//!   multiplier must be within those bancas.
//! - VENTANA: reads the rules of its ventana, of its vendedores, and the banca-wide and general
//!   rules of its banca; writes only limit and block rules scoped to its ventana or to one of
//!   its vendedores (not cutoff rules: a ventana's cutoff outranks the banca's, so a listero
//!   could reopen sales the banca closed).
//! - VENDEDOR: reads the rules that apply to it; never writes.
//!
//! A rule out of reach is reported as not found; a visible rule the caller may not change, as
//! forbidden.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::db;
use crate::db::listas::SorteoRef;
use crate::db::restrictions::{
    Audience, CounterCheck, GroupRow, RuleCounts, RuleFields, RuleFilter, RuleRow,
};
use crate::domain::authz::Actor;
use crate::domain::numbers::canonical;
use crate::domain::roles::Role;
use crate::domain::rules::{
    resolve_cutoff, resolve_limits, sales_deadline, CutoffContext, CutoffResolution, LimitContext,
    LimitResolution, LocalNow, SalesScope,
};
use crate::http::error::ErrorDetail;
use crate::services::activity;
use crate::services::auth::{visible_user, AuthError};

/// Longest cutoff a rule may set, in minutes (one day, as `bancas.salesCutoffMinutes`).
pub const MAX_CUTOFF_MINUTES: i64 = 1440;

/// At most this many numbers (and ids in bulk requests) per request.
pub const MAX_BATCH: usize = 1000;

#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    /// Missing or out of reach; the text names what (Spanish).
    #[error("not found: {0}")]
    NotFound(&'static str),
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    #[error("invalid input")]
    Invalid(Vec<ErrorDetail>),
    /// An identical live rule exists.
    #[error("rule exists")]
    Exists,
    /// No banca to own the rule (ADMIN without an active banca, nothing else naming one).
    #[error("no banca for the rule")]
    BancaRequired,
    #[error("database: {0}")]
    Database(sqlx::Error),
}

impl From<sqlx::Error> for RuleError {
    fn from(e: sqlx::Error) -> Self {
        match crate::services::bancas::constraint(&e) {
            Some("restriction_rules_live_key") => RuleError::Exists,
            _ => RuleError::Database(e),
        }
    }
}

fn invalid(field: &str, code: &str, issue: impl Into<String>) -> RuleError {
    RuleError::Invalid(vec![ErrorDetail {
        field: field.into(),
        code: code.into(),
        issue: issue.into(),
    }])
}

/// The scope keys of a body, sent together: the rule's scope becomes exactly these.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScopeInput {
    pub banca_id: Option<Uuid>,
    pub ventana_id: Option<Uuid>,
    pub user_id: Option<Uuid>,
}

/// A rule body, checked field by field. `None`: not sent (keep); `Some(None)`: clear.
#[derive(Debug, Clone, Default)]
pub struct RulePatch {
    /// `Some` when any of `bancaId`, `ventanaId`, `userId` was sent.
    pub scope: Option<ScopeInput>,
    /// Create: one rule per number. Update: at most one.
    pub numbers: Option<Option<Vec<String>>>,
    pub is_auto_date: Option<bool>,
    pub max_amount: Option<Option<Decimal>>,
    pub max_total: Option<Option<Decimal>>,
    pub base_amount: Option<Option<Decimal>>,
    pub sales_percentage: Option<Option<Decimal>>,
    pub applies_to_vendedor: Option<bool>,
    pub applies_to_date: Option<Option<NaiveDate>>,
    pub applies_to_hour: Option<Option<i16>>,
    pub sales_cutoff_minutes: Option<Option<i16>>,
    pub loteria_id: Option<Option<Uuid>>,
    pub multiplier_id: Option<Option<Uuid>>,
    pub sorteo_id: Option<Option<Uuid>>,
    pub message: Option<Option<String>>,
    pub is_active: Option<bool>,
}

impl RulePatch {
    /// Applies every field but the numbers.
    fn apply(&self, f: &mut RuleFields) {
        fn set<T: Clone>(slot: &mut T, v: &Option<T>) {
            if let Some(v) = v {
                *slot = v.clone();
            }
        }
        if let Some(s) = self.scope {
            f.banca_id = s.banca_id;
            f.ventana_id = s.ventana_id;
            f.user_id = s.user_id;
        }
        set(&mut f.is_auto_date, &self.is_auto_date);
        set(&mut f.max_amount, &self.max_amount);
        set(&mut f.max_total, &self.max_total);
        set(&mut f.base_amount, &self.base_amount);
        set(&mut f.sales_percentage, &self.sales_percentage);
        set(&mut f.applies_to_vendedor, &self.applies_to_vendedor);
        set(&mut f.applies_to_date, &self.applies_to_date);
        set(&mut f.applies_to_hour, &self.applies_to_hour);
        set(&mut f.sales_cutoff_minutes, &self.sales_cutoff_minutes);
        set(&mut f.loteria_id, &self.loteria_id);
        set(&mut f.multiplier_id, &self.multiplier_id);
        set(&mut f.sorteo_id, &self.sorteo_id);
        set(&mut f.message, &self.message);
        set(&mut f.is_active, &self.is_active);
    }
}

// ---------------------------------------------------------------------------------------------
// Reach.

/// Whether `actor` may see rule `r`.
pub fn visible(actor: &Actor, r: &RuleRow) -> bool {
    let Some(owner) = r.owner_banca_id else {
        return actor.is_admin();
    };
    match actor.role {
        Role::Admin => true,
        Role::Banca => actor.assigned_bancas.contains(&owner),
        Role::Ventana => {
            actor.home_banca_id == Some(owner)
                && (own_ventana_rule(actor, r)
                    || own_vendedor_rule(actor, r)
                    || (r.user_id.is_none() && r.ventana_id.is_none()))
        }
        Role::Vendedor => {
            actor.home_banca_id == Some(owner)
                && (r.user_id == Some(actor.user_id)
                    || (r.user_id.is_none()
                        && (r.ventana_id.is_none() || r.ventana_id == actor.ventana_id)))
        }
    }
}

fn own_ventana_rule(actor: &Actor, r: &RuleRow) -> bool {
    r.ventana_id.is_some() && r.ventana_id == actor.ventana_id
}

fn own_vendedor_rule(actor: &Actor, r: &RuleRow) -> bool {
    r.user_id.is_some()
        && r.user_role == Some(Role::Vendedor)
        && r.user_ventana_id.is_some()
        && r.user_ventana_id == actor.ventana_id
}

/// Whether `actor` may change a rule it can see.
fn writable(actor: &Actor, r: &RuleRow) -> Result<(), RuleError> {
    match actor.role {
        Role::Admin | Role::Banca => Ok(()),
        Role::Ventana if r.sales_cutoff_minutes.is_some() => Err(RuleError::Forbidden(
            "un listero no modifica reglas de cierre de ventas",
        )),
        Role::Ventana if own_ventana_rule(actor, r) || own_vendedor_rule(actor, r) => Ok(()),
        Role::Ventana => Err(RuleError::Forbidden(
            "un listero solo modifica reglas de su ventana o de sus vendedores",
        )),
        Role::Vendedor => Err(RuleError::Forbidden("un vendedor no modifica reglas")),
    }
}

fn require_writer(actor: &Actor) -> Result<(), RuleError> {
    if actor.role == Role::Vendedor {
        return Err(RuleError::Forbidden("un vendedor no modifica reglas"));
    }
    Ok(())
}

/// Whether `actor` reaches sorteo `s` (a global sorteo: everyone).
pub fn sorteo_visible(actor: &Actor, s: &SorteoRef) -> bool {
    !s.deleted && s.banca_id.is_none_or(|b| actor.can_reach_banca(b))
}

// ---------------------------------------------------------------------------------------------
// References and checks.

/// What the referenced objects tell about a rule being written.
struct Facts {
    /// Number length for the rule's numbers: the sorteo's, else the lotería's; `None` (no
    /// lotería or sorteo named) accepts 2- and 3-digit numbers.
    digits: Option<u8>,
    multiplier_name: Option<String>,
}

/// Joins the banca of one referenced object into the rule's owner; a different banca is a 400
/// naming `field`.
fn join_owner(owner: &mut Option<Uuid>, banca: Uuid, field: &str) -> Result<(), RuleError> {
    match owner {
        None => {
            *owner = Some(banca);
            Ok(())
        }
        Some(o) if *o == banca => Ok(()),
        Some(_) => Err(invalid(
            field,
            "other_banca",
            "pertenece a otra banca que el resto de la regla",
        )),
    }
}

/// Looks up the scope target, sorteo, lotería and multiplier of `f`, checks the caller reaches
/// each (404 otherwise) and that they agree, and sets `f.owner_banca_id` (`None` when nothing
/// names a banca and the caller has no active one) and `f.loteria_id` from the sorteo.
/// `keep_owner`: an existing rule's banca, which must not change.
async fn resolve_refs(
    conn: &mut PgConnection,
    actor: &Actor,
    f: &mut RuleFields,
    keep_owner: Option<Option<Uuid>>,
    multiplier_changed: bool,
) -> Result<Facts, RuleError> {
    let mut owner: Option<Uuid> = None;
    match (f.banca_id, f.ventana_id, f.user_id) {
        (Some(b), None, None) => {
            if actor.role == Role::Ventana {
                return Err(RuleError::Forbidden(
                    "un listero solo crea reglas de su ventana o de sus vendedores",
                ));
            }
            if db::users::banca_state(conn, b).await?.is_none() || !actor.can_reach_banca(b) {
                return Err(RuleError::NotFound("Banca no encontrada"));
            }
            join_owner(&mut owner, b, "bancaId")?;
        }
        (None, Some(v), None) => {
            let info = db::users::ventana_info(conn, v)
                .await?
                .filter(|i| actor.can_reach_ventana(i.id, i.banca_id))
                .ok_or(RuleError::NotFound("Ventana no encontrada"))?;
            join_owner(&mut owner, info.banca_id, "ventanaId")?;
        }
        (None, None, Some(u)) => {
            let user = visible_user(conn, actor, u, false)
                .await
                .map_err(|e| match e {
                    AuthError::Database(e) => RuleError::Database(e),
                    _ => RuleError::NotFound("Usuario no encontrado"),
                })?;
            if user.role != Role::Vendedor {
                return Err(invalid("userId", "invalid_role", "debe ser un vendedor"));
            }
            if actor.role == Role::Ventana
                && (user.ventana_id.is_none() || user.ventana_id != actor.ventana_id)
            {
                return Err(RuleError::NotFound("Usuario no encontrado"));
            }
            let banca = user
                .banca_id
                .ok_or_else(|| invalid("userId", "no_banca", "el vendedor no tiene banca"))?;
            join_owner(&mut owner, banca, "userId")?;
        }
        (None, None, None) => {
            if actor.role == Role::Ventana {
                return Err(RuleError::Forbidden(
                    "un listero solo crea reglas de su ventana o de sus vendedores",
                ));
            }
        }
        _ => {
            return Err(invalid(
                "scope",
                "too_many",
                "una regla pertenece a un solo ámbito: bancaId, ventanaId o userId",
            ))
        }
    }

    let mut digits: Option<i16> = None;
    if let Some(sid) = f.sorteo_id {
        let s = db::listas::sorteo_ref(conn, sid)
            .await?
            .filter(|s| sorteo_visible(actor, s))
            .ok_or(RuleError::NotFound("Sorteo no encontrado"))?;
        if let Some(b) = s.banca_id {
            join_owner(&mut owner, b, "sorteoId")?;
        }
        match f.loteria_id {
            Some(l) if l != s.loteria_id => {
                return Err(invalid(
                    "sorteoId",
                    "other_loteria",
                    "el sorteo no pertenece a la lotería indicada",
                ))
            }
            _ => f.loteria_id = Some(s.loteria_id),
        }
        digits = Some(s.digits);
    }
    if let Some(lid) = f.loteria_id {
        let l = db::restrictions::loteria_ref(conn, lid)
            .await?
            .filter(|l| !l.deleted && l.banca_id.is_none_or(|b| actor.can_reach_banca(b)))
            .ok_or(RuleError::NotFound("Lotería no encontrada"))?;
        if let Some(b) = l.banca_id {
            join_owner(&mut owner, b, "loteriaId")?;
        }
        digits = digits.or(Some(l.digits));
    }
    let mut multiplier_name = None;
    if let Some(mid) = f.multiplier_id {
        let m = db::restrictions::multiplier_ref(conn, mid)
            .await?
            .filter(|m| m.banca_id.is_none_or(|b| actor.can_reach_banca(b)))
            .ok_or(RuleError::NotFound("Multiplicador no encontrado"))?;
        if let Some(b) = m.banca_id {
            join_owner(&mut owner, b, "multiplierId")?;
        }
        if let Some(l) = f.loteria_id {
            if m.loteria_id != l {
                return Err(invalid(
                    "multiplierId",
                    "other_loteria",
                    "el multiplicador no pertenece a la lotería indicada",
                ));
            }
        }
        if multiplier_changed && !m.is_active {
            return Err(invalid(
                "multiplierId",
                "inactive",
                "el multiplicador indicado está inactivo",
            ));
        }
        multiplier_name = Some(m.name);
    }

    let owner = match keep_owner {
        Some(existing) => match (existing, owner) {
            (Some(e), Some(o)) if e != o => {
                return Err(invalid(
                    "scope",
                    "other_banca",
                    "la regla pertenece a otra banca; su banca no cambia",
                ))
            }
            (e, _) => e,
        },
        None => owner.or(match actor.role {
            Role::Admin | Role::Banca => actor.banca_id,
            _ => actor.home_banca_id,
        }),
    };
    if owner.is_some_and(|o| !actor.can_reach_banca(o)) {
        return Err(RuleError::NotFound("Banca no encontrada"));
    }
    f.owner_banca_id = owner;
    Ok(Facts {
        digits: digits
            .and_then(|d| u8::try_from(d).ok())
            .filter(|d| matches!(d, 2 | 3)),
        multiplier_name,
    })
}

/// The cross-field rules of a complete rule (its numbers given separately), collected.
fn check(f: &RuleFields, numbers: &[String], digits: Option<u8>) -> Vec<ErrorDetail> {
    let mut out = Vec::new();
    let mut fail = |field: &str, code: &str, issue: &str| {
        out.push(ErrorDetail {
            field: field.into(),
            code: code.into(),
            issue: issue.into(),
        })
    };
    let scoped = f.banca_id.is_some() || f.ventana_id.is_some() || f.user_id.is_some();
    let amounts = f.max_amount.is_some()
        || f.max_total.is_some()
        || f.base_amount.is_some_and(|b| b > Decimal::ZERO)
        || f.sales_percentage.is_some();
    let has_amount_fields = amounts || f.base_amount.is_some();

    if f.sales_cutoff_minutes.is_some() {
        let not_with = "no se combina con salesCutoffMinutes";
        if has_amount_fields {
            for (field, set) in [
                ("maxAmount", f.max_amount.is_some()),
                ("maxTotal", f.max_total.is_some()),
                ("baseAmount", f.base_amount.is_some()),
                ("salesPercentage", f.sales_percentage.is_some()),
            ] {
                if set {
                    fail(field, "not_allowed", not_with);
                }
            }
        }
        if !numbers.is_empty() {
            fail("number", "not_allowed", not_with);
        }
        if f.is_auto_date {
            fail("isAutoDate", "not_allowed", not_with);
        }
        for (field, set) in [
            ("loteriaId", f.loteria_id.is_some()),
            ("multiplierId", f.multiplier_id.is_some()),
            ("sorteoId", f.sorteo_id.is_some()),
        ] {
            if set {
                fail(field, "not_allowed", not_with);
            }
        }
        if !scoped {
            fail(
                "scope",
                "required",
                "una regla de cierre necesita bancaId, ventanaId o userId",
            );
        }
    } else {
        let lottery = f.loteria_id.is_some() || f.sorteo_id.is_some();
        let block = f.loteria_id.is_some() && f.multiplier_id.is_some();
        if !(amounts || block) {
            fail(
                "(root)",
                "required",
                "indique maxAmount, maxTotal, baseAmount o salesPercentage; o salesCutoffMinutes; \
                 o loteriaId y multiplierId para bloquear un multiplicador",
            );
        }
        if !scoped && !lottery {
            fail(
                "scope",
                "required",
                "indique bancaId, ventanaId o userId (solo las reglas de lotería pueden ser generales)",
            );
        }
        if f.multiplier_id.is_some() && f.loteria_id.is_none() {
            fail("loteriaId", "required", "es obligatorio con multiplierId");
        }
        if f.is_auto_date && !numbers.is_empty() {
            fail(
                "number",
                "not_allowed",
                "una regla automática por fecha no lleva número (usa el día de hoy)",
            );
        }
        if f.is_auto_date && !amounts {
            fail(
                "isAutoDate",
                "not_allowed",
                "solo se usa con montos (maxAmount, maxTotal, baseAmount o salesPercentage)",
            );
        }
        if let (Some(a), Some(t)) = (f.max_amount, f.max_total) {
            if a > t {
                fail("maxAmount", "too_big", "no puede ser mayor que maxTotal");
            }
        }
        if let (Some(b), Some(t)) = (f.base_amount, f.max_total) {
            if b > t {
                fail("baseAmount", "too_big", "no puede ser mayor que maxTotal");
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    for (i, n) in numbers.iter().enumerate() {
        let field = if numbers.len() > 1 {
            format!("number[{i}]")
        } else {
            "number".to_string()
        };
        let shape = match digits {
            Some(d) => canonical(n, d).map(|_| ()),
            None => canonical(n, 2).or_else(|_| canonical(n, 3)).map(|_| ()),
        };
        if let Err(e) = shape {
            fail(&field, "invalid_format", &e.to_string());
        } else if !seen.insert(n.as_str()) {
            fail(&field, "duplicate", "número repetido");
        }
    }
    out
}

fn default_block_message(f: &mut RuleFields, facts: &Facts) {
    if f.message.is_none() && f.sales_cutoff_minutes.is_none() {
        let amounts = f.max_amount.is_some()
            || f.max_total.is_some()
            || f.base_amount.is_some_and(|b| b > Decimal::ZERO)
            || f.sales_percentage.is_some();
        if !amounts {
            if let Some(name) = &facts.multiplier_name {
                f.message = Some(format!(
                    "El multiplicador '{name}' está restringido para esta lotería."
                ));
            }
        }
    }
}

/// What changed between two versions of a rule, as wire field names.
fn changed_fields(a: &RuleFields, b: &RuleFields) -> Vec<&'static str> {
    [
        (a.banca_id != b.banca_id, "bancaId"),
        (a.ventana_id != b.ventana_id, "ventanaId"),
        (a.user_id != b.user_id, "userId"),
        (a.number != b.number, "number"),
        (a.is_auto_date != b.is_auto_date, "isAutoDate"),
        (a.max_amount != b.max_amount, "maxAmount"),
        (a.max_total != b.max_total, "maxTotal"),
        (a.base_amount != b.base_amount, "baseAmount"),
        (a.sales_percentage != b.sales_percentage, "salesPercentage"),
        (
            a.applies_to_vendedor != b.applies_to_vendedor,
            "appliesToVendedor",
        ),
        (a.applies_to_date != b.applies_to_date, "appliesToDate"),
        (a.applies_to_hour != b.applies_to_hour, "appliesToHour"),
        (
            a.sales_cutoff_minutes != b.sales_cutoff_minutes,
            "salesCutoffMinutes",
        ),
        (a.loteria_id != b.loteria_id, "loteriaId"),
        (a.multiplier_id != b.multiplier_id, "multiplierId"),
        (a.sorteo_id != b.sorteo_id, "sorteoId"),
        (a.message != b.message, "message"),
        (a.is_active != b.is_active, "isActive"),
    ]
    .into_iter()
    .filter_map(|(d, n)| d.then_some(n))
    .collect()
}

/// A rule's columns for the activity log (amounts as strings, exact).
fn summary(f: &RuleFields) -> Value {
    json!({
        "bancaId": f.banca_id, "ventanaId": f.ventana_id, "userId": f.user_id,
        "number": f.number, "isAutoDate": f.is_auto_date,
        "maxAmount": f.max_amount.map(|d| d.to_string()),
        "maxTotal": f.max_total.map(|d| d.to_string()),
        "baseAmount": f.base_amount.map(|d| d.to_string()),
        "salesPercentage": f.sales_percentage.map(|d| d.to_string()),
        "appliesToVendedor": f.applies_to_vendedor, "appliesToDate": f.applies_to_date,
        "appliesToHour": f.applies_to_hour, "salesCutoffMinutes": f.sales_cutoff_minutes,
        "loteriaId": f.loteria_id, "multiplierId": f.multiplier_id, "sorteoId": f.sorteo_id,
        "isActive": f.is_active,
    })
}

// ---------------------------------------------------------------------------------------------
// Writes.

/// Creates one rule per number of `patch` (one rule when it has none), all or nothing. Every
/// field is checked against the others and against the referenced objects; numbers must be
/// canonical for the sorteo's or lotería's digits (2 without either). An identical live rule
/// is a conflict.
pub async fn create(
    pool: &PgPool,
    actor: &Actor,
    patch: RulePatch,
) -> Result<Vec<RuleRow>, RuleError> {
    require_writer(actor)?;
    let mut base = RuleFields {
        is_active: true,
        ..RuleFields::default()
    };
    patch.apply(&mut base);
    if actor.role == Role::Ventana && base.sales_cutoff_minutes.is_some() {
        return Err(RuleError::Forbidden(
            "un listero no crea reglas de cierre de ventas",
        ));
    }
    let numbers = patch.numbers.clone().flatten().unwrap_or_default();
    let mut tx = pool.begin().await?;
    let facts = resolve_refs(&mut tx, actor, &mut base, None, true).await?;
    let problems = check(&base, &numbers, facts.digits);
    if !problems.is_empty() {
        return Err(RuleError::Invalid(problems));
    }
    if base.owner_banca_id.is_none() {
        return Err(RuleError::BancaRequired);
    }
    default_block_message(&mut base, &facts);
    let targets: Vec<Option<String>> = if numbers.is_empty() {
        vec![None]
    } else {
        numbers.into_iter().map(Some).collect()
    };
    let batch = targets.len();
    let mut ids = Vec::with_capacity(batch);
    for number in targets {
        let f = RuleFields {
            number,
            ..base.clone()
        };
        let id = db::restrictions::insert(&mut tx, &f).await?;
        activity::record(
            &mut tx,
            actor,
            f.owner_banca_id,
            "RESTRICTION_RULE_CREATE",
            "RESTRICTION_RULE",
            id,
            json!({ "rule": summary(&f), "batchCount": batch }),
        )
        .await?;
        ids.push(id);
    }
    let rows = ordered(&mut tx, &ids).await?;
    tx.commit().await?;
    Ok(rows)
}

async fn ordered(conn: &mut PgConnection, ids: &[Uuid]) -> Result<Vec<RuleRow>, RuleError> {
    let mut by_id: HashMap<Uuid, RuleRow> = db::restrictions::find_many(conn, ids)
        .await?
        .into_iter()
        .map(|r| (r.id, r))
        .collect();
    Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
}

/// Locks rule `id` and checks the caller may change it.
async fn lock_writable(
    conn: &mut PgConnection,
    actor: &Actor,
    id: Uuid,
) -> Result<RuleRow, RuleError> {
    let row = db::restrictions::find_for_update(conn, id)
        .await?
        .filter(|r| visible(actor, r))
        .ok_or(RuleError::NotFound("Regla no encontrada"))?;
    writable(actor, &row)?;
    Ok(row)
}

async fn update_in(
    conn: &mut PgConnection,
    actor: &Actor,
    id: Uuid,
    patch: &RulePatch,
    bulk: bool,
) -> Result<RuleRow, RuleError> {
    let row = lock_writable(conn, actor, id).await?;
    let before = RuleFields::from(&row);
    let mut after = before.clone();
    patch.apply(&mut after);
    match &patch.numbers {
        None => {}
        Some(None) => after.number = None,
        Some(Some(list)) if list.len() <= 1 => after.number = list.first().cloned(),
        Some(Some(_)) => {
            return Err(invalid(
                "number",
                "invalid_type",
                "al editar, number es un solo número",
            ))
        }
    }
    if actor.role == Role::Ventana && after.sales_cutoff_minutes.is_some() {
        return Err(RuleError::Forbidden(
            "un listero no crea reglas de cierre de ventas",
        ));
    }
    let multiplier_changed = after.multiplier_id != before.multiplier_id;
    let facts = resolve_refs(
        conn,
        actor,
        &mut after,
        Some(before.owner_banca_id),
        multiplier_changed,
    )
    .await?;
    let numbers: Vec<String> = after.number.iter().cloned().collect();
    let problems = check(&after, &numbers, facts.digits);
    if !problems.is_empty() {
        return Err(RuleError::Invalid(problems));
    }
    if after.owner_banca_id.is_none() {
        return Err(RuleError::BancaRequired);
    }
    let fields = changed_fields(&before, &after);
    if fields.is_empty() {
        return Ok(row);
    }
    db::restrictions::update(conn, id, &after).await?;
    activity::record(
        conn,
        actor,
        after.owner_banca_id,
        "RESTRICTION_RULE_UPDATE",
        "RESTRICTION_RULE",
        id,
        json!({ "fields": fields, "rule": summary(&after), "bulk": bulk }),
    )
    .await?;
    db::restrictions::find(conn, id)
        .await?
        .ok_or(RuleError::NotFound("Regla no encontrada"))
}

/// Updates a rule. The merged result is checked as a whole (as on create); sending any scope
/// key replaces the scope; the rule's banca never changes. No change, no write.
pub async fn update(
    pool: &PgPool,
    actor: &Actor,
    id: Uuid,
    patch: RulePatch,
) -> Result<RuleRow, RuleError> {
    require_writer(actor)?;
    let mut tx = pool.begin().await?;
    let row = update_in(&mut tx, actor, id, &patch, false).await?;
    tx.commit().await?;
    Ok(row)
}

/// Applies the same changes to every rule of `ids`, all or nothing (the first refusal — out of
/// reach, forbidden, invalid, conflict — cancels them all).
pub async fn bulk_update(
    pool: &PgPool,
    actor: &Actor,
    ids: &[Uuid],
    patch: RulePatch,
) -> Result<Vec<RuleRow>, RuleError> {
    require_writer(actor)?;
    let mut tx = pool.begin().await?;
    let mut rows = Vec::with_capacity(ids.len());
    for id in ids {
        rows.push(update_in(&mut tx, actor, *id, &patch, true).await?);
    }
    tx.commit().await?;
    Ok(rows)
}

async fn set_active_in(
    conn: &mut PgConnection,
    actor: &Actor,
    id: Uuid,
    active: bool,
    reason: Option<&str>,
    bulk: bool,
) -> Result<RuleRow, RuleError> {
    let row = lock_writable(conn, actor, id).await?;
    if row.is_active == active {
        return Ok(row);
    }
    db::restrictions::set_active(conn, id, active).await?;
    activity::record(
        conn,
        actor,
        row.owner_banca_id,
        if active {
            "RESTRICTION_RULE_RESTORE"
        } else {
            "RESTRICTION_RULE_DELETE"
        },
        "RESTRICTION_RULE",
        id,
        json!({ "reason": reason, "bulk": bulk }),
    )
    .await?;
    db::restrictions::find(conn, id)
        .await?
        .ok_or(RuleError::NotFound("Regla no encontrada"))
}

/// Soft-deletes a rule (`isActive = false`). Deleting a deleted rule changes nothing.
pub async fn delete(
    pool: &PgPool,
    actor: &Actor,
    id: Uuid,
    reason: Option<String>,
) -> Result<RuleRow, RuleError> {
    require_writer(actor)?;
    let mut tx = pool.begin().await?;
    let row = set_active_in(&mut tx, actor, id, false, reason.as_deref(), false).await?;
    tx.commit().await?;
    Ok(row)
}

/// Soft-deletes every rule of `ids`, all or nothing.
pub async fn bulk_delete(
    pool: &PgPool,
    actor: &Actor,
    ids: &[Uuid],
    reason: Option<String>,
) -> Result<Vec<RuleRow>, RuleError> {
    require_writer(actor)?;
    let mut tx = pool.begin().await?;
    let mut rows = Vec::with_capacity(ids.len());
    for id in ids {
        rows.push(set_active_in(&mut tx, actor, *id, false, reason.as_deref(), true).await?);
    }
    tx.commit().await?;
    Ok(rows)
}

/// Re-activates a rule; a live identical rule makes it a conflict. Restoring an active rule
/// changes nothing.
pub async fn restore(
    pool: &PgPool,
    actor: &Actor,
    id: Uuid,
    reason: Option<String>,
) -> Result<RuleRow, RuleError> {
    require_writer(actor)?;
    let mut tx = pool.begin().await?;
    let row = set_active_in(&mut tx, actor, id, true, reason.as_deref(), false).await?;
    tx.commit().await?;
    Ok(row)
}

// ---------------------------------------------------------------------------------------------
// Reads.

/// One rule within the caller's reach.
pub async fn get(pool: &PgPool, actor: &Actor, id: Uuid) -> Result<RuleRow, RuleError> {
    let mut conn = pool.acquire().await?;
    db::restrictions::find(&mut conn, id)
        .await?
        .filter(|r| visible(actor, r))
        .ok_or(RuleError::NotFound("Regla no encontrada"))
}

/// List filters from the wire; the caller's scope is added by `scoped`.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// Rules of this banca (any scope). ADMIN: any; BANCA: one of its bancas; ignored for
    /// VENTANA and VENDEDOR (always their own banca).
    pub banca_id: Option<Uuid>,
    pub ventana_id: Option<Uuid>,
    pub user_id: Option<Uuid>,
    pub number: Option<String>,
    /// Flat list: this rule. Grouped list: the group of this rule.
    pub id: Option<Uuid>,
    pub group_key: Option<String>,
    pub search: Option<String>,
    /// Default: active rules only (the sale form downloads the list without parameters).
    pub is_active: Option<bool>,
    pub has_cutoff: Option<bool>,
    pub has_amount: Option<bool>,
    pub has_auto_date: Option<bool>,
    pub has_lottery_multiplier: Option<bool>,
    pub loteria_id: Option<Uuid>,
    pub multiplier_id: Option<Uuid>,
    pub sorteo_id: Option<Uuid>,
}

fn scoped(actor: &Actor, f: ListFilter) -> Result<RuleFilter, RuleError> {
    let (owner_bancas, audience) = match actor.role {
        Role::Admin => (f.banca_id.or(actor.banca_id).map(|b| vec![b]), None),
        Role::Banca => match f.banca_id {
            Some(b) if actor.assigned_bancas.contains(&b) => (Some(vec![b]), None),
            Some(_) => return Err(RuleError::Forbidden("banca no asignada")),
            None => (Some(actor.banca_id.into_iter().collect()), None),
        },
        Role::Ventana => (
            Some(actor.home_banca_id.into_iter().collect()),
            Some(Audience::Ventana {
                ventana_id: actor.ventana_id,
            }),
        ),
        Role::Vendedor => (
            Some(actor.home_banca_id.into_iter().collect()),
            Some(Audience::Vendedor {
                user_id: actor.user_id,
                ventana_id: actor.ventana_id,
            }),
        ),
    };
    Ok(RuleFilter {
        owner_bancas,
        audience,
        banca_id: None,
        ventana_id: f.ventana_id,
        user_id: f.user_id,
        number: f.number,
        id: f.id,
        search: f.search,
        is_active: Some(f.is_active.unwrap_or(true)),
        has_cutoff: f.has_cutoff,
        has_amount: f.has_amount,
        has_auto_date: f.has_auto_date,
        has_lottery_multiplier: f.has_lottery_multiplier,
        loteria_id: f.loteria_id,
        multiplier_id: f.multiplier_id,
        sorteo_id: f.sorteo_id,
        group_key: f.group_key,
    })
}

/// One page of the rules the caller may see (most recently updated first) and the total.
pub async fn list(
    pool: &PgPool,
    actor: &Actor,
    f: ListFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<RuleRow>, i64), RuleError> {
    let filter = scoped(actor, f)?;
    let mut conn = pool.acquire().await?;
    Ok(db::restrictions::list(&mut conn, &filter, limit, offset).await?)
}

/// A group of rules that differ only in their number.
#[derive(Debug, Clone)]
pub struct RuleGroup {
    /// The first member (lowest number).
    pub first: RuleRow,
    pub group: GroupRow,
}

/// One page of rule groups the caller may see, and the number of groups.
pub async fn list_grouped(
    pool: &PgPool,
    actor: &Actor,
    f: ListFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<RuleGroup>, i64), RuleError> {
    let group_of = f.id;
    let mut filter = scoped(actor, ListFilter { id: None, ..f })?;
    let mut conn = pool.acquire().await?;
    if let Some(id) = group_of {
        let visible_rule = db::restrictions::find(&mut conn, id)
            .await?
            .filter(|r| visible(actor, r));
        match visible_rule {
            Some(_) => filter.group_key = db::restrictions::group_key_of(&mut conn, id).await?,
            None => return Ok((Vec::new(), 0)),
        }
        // The group is the rule's, whatever its state.
        filter.is_active = None;
    }
    let (groups, total) = db::restrictions::list_groups(&mut conn, &filter, limit, offset).await?;
    let firsts: Vec<Uuid> = groups
        .iter()
        .filter_map(|g| g.ids.first().copied())
        .collect();
    let mut by_id: HashMap<Uuid, RuleRow> = db::restrictions::find_many(&mut conn, &firsts)
        .await?
        .into_iter()
        .map(|r| (r.id, r))
        .collect();
    let out = groups
        .into_iter()
        .filter_map(|g| {
            let first = by_id.remove(g.ids.first()?)?;
            Some(RuleGroup { first, group: g })
        })
        .collect();
    Ok((out, total))
}

/// The rules that apply to a vendedor, split as the existing system's `GET /restrictions/me`:
/// `general` (banca-wide, ventana and general rules) and `vendor_specific` (its own).
#[derive(Debug, Clone, Default)]
pub struct VendorRules {
    pub general: Vec<RuleRow>,
    pub vendor_specific: Vec<RuleRow>,
}

/// Active rules that apply to `vendedor_id` (a VENDEDOR always gets its own, whatever it
/// asks; others name one of their vendedores, or get the rules of their own position),
/// optionally only those that can bind sorteo `sorteo_id`.
pub async fn for_vendedor(
    pool: &PgPool,
    actor: &Actor,
    vendedor_id: Option<Uuid>,
    sorteo_id: Option<Uuid>,
) -> Result<VendorRules, RuleError> {
    let mut conn = pool.acquire().await?;
    let (user_id, ventana_id, banca_id) = match (actor.role, vendedor_id) {
        (Role::Vendedor, _) | (_, None) => (actor.user_id, actor.ventana_id, actor.banca_id),
        (_, Some(v)) => {
            let user = visible_user(&mut conn, actor, v, false)
                .await
                .map_err(|e| match e {
                    AuthError::Database(e) => RuleError::Database(e),
                    _ => RuleError::NotFound("Vendedor no encontrado"),
                })?;
            if user.role != Role::Vendedor {
                return Err(RuleError::NotFound("Vendedor no encontrado"));
            }
            (user.id, user.ventana_id, user.banca_id)
        }
    };
    let Some(banca_id) = banca_id else {
        return Ok(VendorRules::default());
    };
    let sorteo = match sorteo_id {
        Some(s) => Some(
            db::listas::sorteo_ref(&mut conn, s)
                .await?
                .filter(|s| sorteo_visible(actor, s) && s.banca_id.is_none_or(|b| b == banca_id))
                .ok_or(RuleError::NotFound("Sorteo no encontrado"))?,
        ),
        None => None,
    };
    let rows = db::restrictions::for_seller(&mut conn, banca_id, ventana_id, Some(user_id)).await?;
    let mut out = VendorRules::default();
    for r in rows {
        if let Some(s) = &sorteo {
            if r.loteria_id.is_some_and(|l| l != s.loteria_id)
                || r.sorteo_id.is_some_and(|x| x != s.id)
            {
                continue;
            }
        }
        if r.user_id == Some(user_id) {
            out.vendor_specific.push(r);
        } else {
            out.general.push(r);
        }
    }
    Ok(out)
}

/// How many mismatching counters a health report or a rehydration lists.
pub const COUNTER_SAMPLE: i64 = 20;

/// The health report: the rule-side facts (Banca resolves auto-date numbers at sale time, no
/// job rewrites them) and the per-number sales counters of the sorteos still selling compared
/// with their live jugadas.
#[derive(Debug, Clone)]
pub struct RuleHealth {
    pub now: DateTime<Utc>,
    pub local: LocalNow,
    /// The number auto-date rules govern today (2 digits; 3-digit sorteos pad it).
    pub auto_date_number: String,
    /// The bancas counted (`None`: every banca).
    pub bancas: Option<Vec<Uuid>>,
    pub counts: RuleCounts,
    /// The counters of the SCHEDULED and OPEN sorteos of those bancas (and the global ones).
    pub counters: CounterCheck,
}

/// The health report (ADMIN), for the active banca or every banca.
pub async fn health(
    pool: &PgPool,
    actor: &Actor,
    tz: Tz,
    now: DateTime<Utc>,
) -> Result<RuleHealth, RuleError> {
    if !actor.is_admin() {
        return Err(RuleError::Forbidden("solo ADMIN"));
    }
    let bancas = actor.list_scope();
    let mut conn = pool.acquire().await?;
    let counts = db::restrictions::counts(&mut conn, bancas.as_deref(), None, None).await?;
    let counters =
        db::restrictions::check_counters(&mut conn, None, bancas.as_deref(), COUNTER_SAMPLE)
            .await?;
    let local = LocalNow::at(now, tz);
    Ok(RuleHealth {
        now,
        local,
        auto_date_number: local.auto_date_number(2),
        bancas,
        counts,
        counters,
    })
}

/// What `POST /restrictions/rehydrate/:sorteoId` did to one sorteo.
#[derive(Debug, Clone)]
pub struct SorteoRehydration {
    pub sorteo: SorteoRef,
    pub now: DateTime<Utc>,
    /// The business date of the draw.
    pub business_date: NaiveDate,
    /// The number auto-date rules govern in a sale made now.
    pub auto_date_number: String,
    /// Active rules that can bind this sorteo's sales.
    pub counts: RuleCounts,
    /// The counters as they were, compared with the jugadas (the mismatches it fixed).
    pub before: CounterCheck,
    /// Counter rows written by the rebuild.
    pub rows_written: u64,
}

/// Rebuilds the per-number counters of sorteo `sorteo_id` from its live jugadas (ADMIN), in one
/// transaction that first locks the sorteo row `FOR UPDATE`: sales, cancellations, restores
/// and exclusion changes hold it too, so none runs meanwhile and the rebuilt counters are
/// exact at commit. Reports the mismatches found (and fixed), the rows written and the
/// rule-side facts of the sorteo.
pub async fn rehydrate(
    pool: &PgPool,
    actor: &Actor,
    sorteo_id: Uuid,
    tz: Tz,
    now: DateTime<Utc>,
) -> Result<SorteoRehydration, RuleError> {
    if !actor.is_admin() {
        return Err(RuleError::Forbidden("solo ADMIN"));
    }
    let mut tx = pool.begin().await?;
    let sorteo = db::listas::sorteo_ref_for_update(&mut tx, sorteo_id)
        .await?
        .filter(|s| sorteo_visible(actor, s))
        .ok_or(RuleError::NotFound("Sorteo no encontrado"))?;
    let before =
        db::restrictions::check_counters(&mut tx, Some(sorteo.id), None, COUNTER_SAMPLE).await?;
    let rows_written = db::restrictions::rebuild_counters(&mut tx, sorteo.id).await?;
    let bancas = sorteo.banca_id.map(|b| vec![b]);
    let counts = db::restrictions::counts(
        &mut tx,
        bancas.as_deref(),
        Some(sorteo.loteria_id),
        Some(sorteo.id),
    )
    .await?;
    activity::record(
        &mut tx,
        actor,
        sorteo.banca_id,
        "SALE_COUNTERS_REHYDRATE",
        "SORTEO",
        sorteo.id,
        json!({
            "rowsBefore": before.rows,
            "mismatchesFixed": before.mismatches,
            "rowsWritten": rows_written,
        }),
    )
    .await?;
    tx.commit().await?;
    let digits = u8::try_from(sorteo.digits).unwrap_or(2);
    Ok(SorteoRehydration {
        business_date: sorteo.scheduled_at.with_timezone(&tz).date_naive(),
        auto_date_number: LocalNow::at(now, tz).auto_date_number(digits),
        sorteo,
        now,
        counts,
        before,
        rows_written,
    })
}

// ---------------------------------------------------------------------------------------------
// Cutoff diagnosis.

/// `GET /diagnostics/cutoff` input.
#[derive(Debug, Clone, Copy)]
pub struct CutoffQuery {
    /// The seller; default the caller.
    pub user_id: Option<Uuid>,
    /// Default: the seller's ventana.
    pub ventana_id: Option<Uuid>,
    pub sorteo_id: Uuid,
}

/// Which rule gives which cutoff and which limits bind a seller in a sorteo.
#[derive(Debug, Clone)]
pub struct CutoffDiagnosis {
    pub user_id: Uuid,
    pub ventana_id: Uuid,
    pub banca_id: Uuid,
    pub sorteo: SorteoRef,
    pub now: DateTime<Utc>,
    pub local: LocalNow,
    /// The banca's `salesCutoffMinutes` (`None`: the banca is inactive).
    pub banca_minutes: Option<i32>,
    /// The lotería's `closingTimeBeforeDraw`, whole minutes rounded up.
    pub loteria_minutes: Option<i32>,
    pub cutoff: CutoffResolution,
    /// Sales are accepted until (excluding) this instant.
    pub deadline: DateTime<Utc>,
    pub closed: bool,
    /// Limits with the sorteo's live sales per scope (as the sale reads them).
    pub limits: LimitResolution,
    /// Those sales: the seller's, its ventana's and its banca's.
    pub sales: db::sale::ScopeSales,
    /// The rules considered, by id.
    pub rules: HashMap<Uuid, RuleRow>,
}

/// Explains the cutoff and the limits of a seller in a sorteo (ADMIN; BANCA of its bancas;
/// VENTANA for its own ventana), with the same pure resolutions and the same live sales
/// (percentage limits) the sale uses. The seller is taken as selling itself (its personal
/// limits bind).
pub async fn diagnose_cutoff(
    pool: &PgPool,
    actor: &Actor,
    q: CutoffQuery,
    tz: Tz,
    now: DateTime<Utc>,
) -> Result<CutoffDiagnosis, RuleError> {
    if !actor.is(&[Role::Admin, Role::Banca, Role::Ventana]) {
        return Err(RuleError::Forbidden("rol no permitido"));
    }
    let mut conn = pool.acquire().await?;
    let user_id = q.user_id.unwrap_or(actor.user_id);
    let user = visible_user(&mut conn, actor, user_id, false)
        .await
        .map_err(|e| match e {
            AuthError::Database(e) => RuleError::Database(e),
            _ => RuleError::NotFound("Usuario no encontrado"),
        })?;
    let ventana_id = q
        .ventana_id
        .or(user.ventana_id)
        .ok_or_else(|| invalid("ventanaId", "required", "es obligatorio"))?;
    let ventana = db::users::ventana_info(&mut conn, ventana_id)
        .await?
        .filter(|v| v.active && actor.can_reach_ventana(v.id, v.banca_id))
        .ok_or(RuleError::NotFound("Ventana no encontrada o inactiva"))?;
    if user.ventana_id.is_some_and(|v| v != ventana.id) {
        return Err(invalid(
            "userId",
            "other_ventana",
            "el usuario no pertenece a la ventana indicada",
        ));
    }
    let sorteo = db::listas::sorteo_ref(&mut conn, q.sorteo_id)
        .await?
        .filter(|s| sorteo_visible(actor, s))
        .ok_or(RuleError::NotFound("Sorteo no encontrado"))?;
    if sorteo.banca_id.is_some_and(|b| b != ventana.banca_id) {
        return Err(invalid(
            "sorteoId",
            "other_banca",
            "el sorteo no pertenece a la banca de la ventana",
        ));
    }
    let banca = db::bancas::find(&mut conn, ventana.banca_id)
        .await?
        .ok_or(RuleError::NotFound("Banca no encontrada"))?;
    let banca_minutes =
        (banca.is_active && banca.deleted_at.is_none()).then_some(banca.sales_cutoff_minutes);
    let loteria_minutes = sorteo
        .loteria_closing_minutes
        .filter(|m| *m >= Decimal::ZERO)
        .and_then(|m| m.ceil().to_i32());
    let rows =
        db::restrictions::for_seller(&mut conn, ventana.banca_id, Some(ventana.id), Some(user.id))
            .await?;
    let rules: Vec<_> = rows.iter().map(RuleRow::to_rule).collect();
    let local = LocalNow::at(now, tz);
    let cutoff = resolve_cutoff(
        &rules,
        &CutoffContext {
            banca_id: ventana.banca_id,
            ventana_id: Some(ventana.id),
            user_id: Some(user.id),
            banca_minutes,
            loteria_minutes,
            now: local,
        },
    );
    let deadline = sales_deadline(sorteo.scheduled_at, cutoff.minutes);
    let digits = u8::try_from(sorteo.digits).unwrap_or(2);
    let mut numbers: Vec<String> = rules
        .iter()
        .filter(|r| !r.is_auto_date)
        .filter_map(|r| r.number.clone())
        .chain(
            rules
                .iter()
                .any(|r| r.is_auto_date)
                .then(|| local.auto_date_number(digits)),
        )
        .collect();
    numbers.sort();
    numbers.dedup();
    // Percentage limits read the scope's live sales of the sorteo, as the sale does.
    let sales =
        db::sale::scope_sales(&mut conn, sorteo.id, ventana.banca_id, ventana.id, user.id).await?;
    let limits = resolve_limits(
        &rules,
        &LimitContext {
            banca_id: ventana.banca_id,
            ventana_id: ventana.id,
            vendedor_id: user.id,
            loteria_id: sorteo.loteria_id,
            sorteo_id: sorteo.id,
            digits,
            now: local,
            sold_by_other: false,
            numbers,
            sales: HashMap::from([
                (SalesScope::Vendedor(user.id), sales.vendedor),
                (SalesScope::Ventana(ventana.id), sales.ventana),
                (SalesScope::Banca(ventana.banca_id), sales.banca),
            ]),
        },
    );
    Ok(CutoffDiagnosis {
        user_id: user.id,
        ventana_id: ventana.id,
        banca_id: ventana.banca_id,
        now,
        local,
        banca_minutes,
        loteria_minutes,
        closed: now >= deadline,
        deadline,
        cutoff,
        limits,
        sales,
        sorteo,
        rules: rows.into_iter().map(|r| (r.id, r)).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> RuleFields {
        RuleFields {
            banca_id: Some(Uuid::nil()),
            is_active: true,
            ..RuleFields::default()
        }
    }

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn codes(f: &RuleFields, numbers: &[&str], digits: u8) -> Vec<(String, String)> {
        let numbers: Vec<String> = numbers.iter().map(|s| s.to_string()).collect();
        check(f, &numbers, Some(digits))
            .into_iter()
            .map(|d| (d.field, d.code))
            .collect()
    }

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn cross_field_checks() {
        type Case<'a> = (
            &'a str,
            RuleFields,
            Vec<&'a str>,
            u8,
            Vec<(&'a str, &'a str)>,
        );
        let cases: Vec<Case> = vec![
            (
                "a limit",
                RuleFields {
                    max_amount: Some(d("10")),
                    ..fields()
                },
                vec!["05", "06"],
                2,
                vec![],
            ),
            (
                "nothing to do",
                fields(),
                vec![],
                2,
                vec![("(root)", "required")],
            ),
            (
                "cutoff with amounts and a number",
                RuleFields {
                    sales_cutoff_minutes: Some(5),
                    max_total: Some(d("10")),
                    ..fields()
                },
                vec!["05"],
                2,
                vec![("maxTotal", "not_allowed"), ("number", "not_allowed")],
            ),
            (
                "unscoped cutoff",
                RuleFields {
                    banca_id: None,
                    sales_cutoff_minutes: Some(5),
                    ..fields()
                },
                vec![],
                2,
                vec![("scope", "required")],
            ),
            (
                "auto-date with a number",
                RuleFields {
                    is_auto_date: true,
                    max_amount: Some(d("10")),
                    ..fields()
                },
                vec!["05"],
                2,
                vec![("number", "not_allowed")],
            ),
            (
                "per ticket above the total",
                RuleFields {
                    max_amount: Some(d("100")),
                    max_total: Some(d("50")),
                    ..fields()
                },
                vec![],
                2,
                vec![("maxAmount", "too_big")],
            ),
            (
                "numbers must be canonical and unique",
                RuleFields {
                    max_amount: Some(d("10")),
                    ..fields()
                },
                vec!["5", "05", "05", "005"],
                2,
                vec![
                    ("number[0]", "invalid_format"),
                    ("number[2]", "duplicate"),
                    ("number[3]", "invalid_format"),
                ],
            ),
            (
                "three digits",
                RuleFields {
                    max_amount: Some(d("10")),
                    ..fields()
                },
                vec!["05"],
                3,
                vec![("number", "invalid_format")],
            ),
            (
                "a general block rule",
                RuleFields {
                    banca_id: None,
                    loteria_id: Some(Uuid::nil()),
                    multiplier_id: Some(Uuid::nil()),
                    ..fields()
                },
                vec![],
                2,
                vec![],
            ),
            (
                "a general limit needs a lotería",
                RuleFields {
                    banca_id: None,
                    max_total: Some(d("10")),
                    ..fields()
                },
                vec![],
                2,
                vec![("scope", "required")],
            ),
        ];
        for (name, f, numbers, digits, want) in cases {
            assert_eq!(codes(&f, &numbers, digits), pairs(&want), "{name}");
        }
    }
}
