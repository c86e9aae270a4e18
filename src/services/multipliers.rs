//! Use cases over lotería multipliers and multiplier overrides (create, update, toggle, soft
//! delete, restore, read, list), the base-multiplier resolution the sale path calls, and the
//! multipliers a vendedor's commission policy lets it sell. Each write owns its transaction and
//! records its activity entry inside it.
//!
//! Tenancy: a multiplier belongs to its lotería's banca (a global template lotería belongs to
//! nobody: ADMIN and BANCA read it, only ADMIN changes it). An override belongs to its
//! target's banca. Objects out of reach answer not found.

use chrono::{NaiveDate, Utc};
use rust_decimal::Decimal;
use serde_json::json;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::db;
use crate::db::multipliers::{
    LoteriaRef, MultiplierFields, MultiplierFilter, MultiplierRow, NewOverride, OverrideFilter,
    OverrideRow, PickerScope,
};
use crate::db::users::UserRow;
use crate::domain::authz::Actor;
use crate::domain::multipliers::{
    policy_ranges, resolve_base_multiplier as resolve_chain, rules_base_multiplier_x,
    BaseMultiplier, BetType, ChainInputs, OverrideScope,
};
use crate::domain::roles::Role;
use crate::http::error::ErrorDetail;
use crate::services::activity;
use crate::services::auth::{visible_user, AuthError};
use crate::services::bancas::constraint;

/// Why a multiplier use case failed.
#[derive(Debug, thiserror::Error)]
pub enum MultiplierError {
    #[error("not found")]
    NotFound,
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// Another active multiplier of the lotería has this name.
    #[error("multiplier name taken")]
    MultiplierExists,
    /// A live override already exists for this target, lotería and type.
    #[error("override exists")]
    OverrideExists,
    /// `allowed-multipliers` asked for a user that is not a VENDEDOR.
    #[error("user is not a vendedor")]
    NotVendedor,
    #[error("invalid input")]
    Invalid(Vec<ErrorDetail>),
    #[error("database: {0}")]
    Database(sqlx::Error),
}

impl From<sqlx::Error> for MultiplierError {
    /// Unique-index races become the conflicts the pre-checks report.
    fn from(e: sqlx::Error) -> Self {
        match constraint(&e) {
            Some("loteria_multipliers_active_name_key") => MultiplierError::MultiplierExists,
            Some("multiplier_overrides_target_key") => MultiplierError::OverrideExists,
            _ => MultiplierError::Database(e),
        }
    }
}

impl From<AuthError> for MultiplierError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Database(e) => MultiplierError::Database(e),
            AuthError::NotFound => MultiplierError::NotFound,
            _ => MultiplierError::Forbidden("usuario fuera de alcance"),
        }
    }
}

fn invalid(field: &str, code: &str, issue: &str) -> MultiplierError {
    MultiplierError::Invalid(vec![ErrorDetail {
        field: field.into(),
        code: code.into(),
        issue: issue.into(),
    }])
}

/// Whether objects of a lotería of `banca` (`None`: a global template) are visible.
fn loteria_visible(actor: &Actor, banca: Option<Uuid>) -> bool {
    match banca {
        Some(b) => actor.can_reach_banca(b),
        None => actor.is(&[Role::Admin, Role::Banca]),
    }
}

/// Whether the caller may change multipliers of a lotería of `banca`: ADMIN any; BANCA those
/// of its active banca.
fn loteria_writable(actor: &Actor, banca: Option<Uuid>) -> bool {
    match actor.role {
        Role::Admin => true,
        Role::Banca => banca.is_some() && banca == actor.banca_id,
        Role::Ventana | Role::Vendedor => false,
    }
}

/// A live lotería the caller may see, else not found.
async fn visible_loteria(
    conn: &mut PgConnection,
    actor: &Actor,
    id: Uuid,
) -> Result<LoteriaRef, MultiplierError> {
    db::multipliers::loteria(conn, id)
        .await?
        .filter(|l| !l.deleted && loteria_visible(actor, l.banca_id))
        .ok_or(MultiplierError::NotFound)
}

// ---------------------------------------------------------------------------------------------
// Multipliers

/// Input of `create`: the lotería and the columns (already checked by the edge).
#[derive(Debug, Clone)]
pub struct NewMultiplier {
    pub loteria_id: Uuid,
    pub fields: MultiplierFields,
}

/// Optional changes to a multiplier; `None` keeps the current value, `Some(None)` clears a
/// nullable one. `loteria_id`, when sent, must be the multiplier's own lotería.
#[derive(Debug, Clone, Default)]
pub struct MultiplierChanges {
    pub loteria_id: Option<Uuid>,
    pub name: Option<String>,
    pub value_x: Option<Decimal>,
    pub kind: Option<BetType>,
    pub is_active: Option<bool>,
    pub applies_to_date: Option<Option<NaiveDate>>,
    pub applies_to_sorteo_id: Option<Option<Uuid>>,
}

impl MultiplierChanges {
    fn apply(self, f: &mut MultiplierFields) {
        fn set<T>(slot: &mut T, v: Option<T>) {
            if let Some(v) = v {
                *slot = v;
            }
        }
        set(&mut f.name, self.name);
        set(&mut f.value_x, self.value_x);
        set(&mut f.kind, self.kind);
        set(&mut f.is_active, self.is_active);
        set(&mut f.applies_to_date, self.applies_to_date);
        set(&mut f.applies_to_sorteo_id, self.applies_to_sorteo_id);
    }
}

/// The wire names of the fields that differ between `a` and `b`.
fn changed_fields(a: &MultiplierFields, b: &MultiplierFields) -> Vec<&'static str> {
    [
        (a.name != b.name, "name"),
        (a.value_x != b.value_x, "valueX"),
        (a.kind != b.kind, "kind"),
        (a.is_active != b.is_active, "isActive"),
        (a.applies_to_date != b.applies_to_date, "appliesToDate"),
        (
            a.applies_to_sorteo_id != b.applies_to_sorteo_id,
            "appliesToSorteoId",
        ),
    ]
    .into_iter()
    .filter_map(|(differs, name)| differs.then_some(name))
    .collect()
}

/// Checks that `sorteo_id` is a live sorteo of `loteria_id`.
async fn check_sorteo(
    conn: &mut PgConnection,
    loteria_id: Uuid,
    sorteo_id: Option<Uuid>,
) -> Result<(), MultiplierError> {
    let Some(s) = sorteo_id else { return Ok(()) };
    match db::multipliers::sorteo_loteria(conn, s).await? {
        Some(l) if l == loteria_id => Ok(()),
        _ => Err(invalid(
            "appliesToSorteoId",
            "invalid_reference",
            "no es un sorteo de esta lotería",
        )),
    }
}

/// The row to write after an activity entry: re-read with its lotería's name.
async fn reread(conn: &mut PgConnection, id: Uuid) -> Result<MultiplierRow, MultiplierError> {
    db::multipliers::find(conn, id)
        .await?
        .ok_or(MultiplierError::NotFound)
}

/// Creates a multiplier of a live lotería (ADMIN; BANCA for loterías of its active banca).
/// An active multiplier's name must be free among the lotería's active multipliers
/// (case-insensitive), also when two requests race.
pub async fn create(
    pool: &PgPool,
    actor: &Actor,
    input: NewMultiplier,
) -> Result<MultiplierRow, MultiplierError> {
    if !actor.is(&[Role::Admin, Role::Banca]) {
        return Err(MultiplierError::Forbidden("rol no permitido"));
    }
    let mut tx = pool.begin().await?;
    let loteria = visible_loteria(&mut tx, actor, input.loteria_id).await?;
    if !loteria_writable(actor, loteria.banca_id) {
        return Err(MultiplierError::Forbidden(
            "la lotería no es de la banca activa",
        ));
    }
    check_sorteo(&mut tx, loteria.id, input.fields.applies_to_sorteo_id).await?;
    if input.fields.is_active
        && db::multipliers::active_name_taken(&mut tx, loteria.id, &input.fields.name, None).await?
    {
        return Err(MultiplierError::MultiplierExists);
    }
    let id = db::multipliers::insert(&mut tx, loteria.id, loteria.banca_id, &input.fields).await?;
    let row = reread(&mut tx, id).await?;
    activity::record(
        &mut tx,
        actor,
        loteria.banca_id,
        "SYSTEM_ACTION",
        "LOTERIA_MULTIPLIER",
        id,
        json!({
            "op": "create",
            "loteriaId": row.loteria_id,
            "name": row.name,
            "valueX": row.value_x,
            "kind": row.kind,
            "isActive": row.is_active,
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// A multiplier the caller may change, locked; else not found (out of reach) or forbidden
/// (visible but not writable).
async fn writable_for_update(
    conn: &mut PgConnection,
    actor: &Actor,
    id: Uuid,
) -> Result<MultiplierRow, MultiplierError> {
    let row = db::multipliers::find_for_update(conn, id)
        .await?
        .filter(|m| loteria_visible(actor, m.loteria_banca_id))
        .ok_or(MultiplierError::NotFound)?;
    if !loteria_writable(actor, row.loteria_banca_id) {
        return Err(MultiplierError::Forbidden(
            "la lotería no es de la banca activa",
        ));
    }
    Ok(row)
}

/// Updates a multiplier (ADMIN; BANCA for loterías of its active banca). No change writes
/// nothing. Activating or renaming an active multiplier needs its name to be free.
pub async fn update(
    pool: &PgPool,
    actor: &Actor,
    id: Uuid,
    changes: MultiplierChanges,
) -> Result<MultiplierRow, MultiplierError> {
    if !actor.is(&[Role::Admin, Role::Banca]) {
        return Err(MultiplierError::Forbidden("rol no permitido"));
    }
    let mut tx = pool.begin().await?;
    let old = writable_for_update(&mut tx, actor, id).await?;
    if changes.loteria_id.is_some_and(|l| l != old.loteria_id) {
        return Err(invalid(
            "loteriaId",
            "immutable",
            "no se puede cambiar la lotería de un multiplicador",
        ));
    }
    let before = MultiplierFields::from(&old);
    let mut after = before.clone();
    changes.apply(&mut after);
    let fields = changed_fields(&before, &after);
    if fields.is_empty() {
        return Ok(old);
    }
    if after.applies_to_sorteo_id != before.applies_to_sorteo_id {
        check_sorteo(&mut tx, old.loteria_id, after.applies_to_sorteo_id).await?;
    }
    if after.is_active
        && (!before.is_active || after.name != before.name)
        && db::multipliers::active_name_taken(&mut tx, old.loteria_id, &after.name, Some(id))
            .await?
    {
        return Err(MultiplierError::MultiplierExists);
    }
    db::multipliers::update(&mut tx, id, &after).await?;
    activity::record(
        &mut tx,
        actor,
        old.loteria_banca_id,
        "SYSTEM_ACTION",
        "LOTERIA_MULTIPLIER",
        id,
        json!({
            "op": "update",
            "fields": fields,
            "before": { "name": before.name, "valueX": before.value_x, "kind": before.kind, "isActive": before.is_active },
            "after": { "name": after.name, "valueX": after.value_x, "kind": after.kind, "isActive": after.is_active },
        }),
    )
    .await?;
    let row = reread(&mut tx, id).await?;
    tx.commit().await?;
    Ok(row)
}

/// Sets a multiplier's `isActive` (`DELETE {isActive}` toggles, restore activates): ADMIN;
/// BANCA for loterías of its active banca. Already in that state: nothing written.
/// Activating needs the name to be free. `op` and `reason` go to the activity entry.
pub async fn set_active(
    pool: &PgPool,
    actor: &Actor,
    id: Uuid,
    active: bool,
    op: &'static str,
    reason: Option<String>,
) -> Result<MultiplierRow, MultiplierError> {
    if !actor.is(&[Role::Admin, Role::Banca]) {
        return Err(MultiplierError::Forbidden("rol no permitido"));
    }
    let mut tx = pool.begin().await?;
    let old = writable_for_update(&mut tx, actor, id).await?;
    if old.is_active == active {
        return Ok(old);
    }
    if active
        && db::multipliers::active_name_taken(&mut tx, old.loteria_id, &old.name, Some(id)).await?
    {
        return Err(MultiplierError::MultiplierExists);
    }
    let mut fields = MultiplierFields::from(&old);
    fields.is_active = active;
    db::multipliers::update(&mut tx, id, &fields).await?;
    activity::record(
        &mut tx,
        actor,
        old.loteria_banca_id,
        "SYSTEM_ACTION",
        "LOTERIA_MULTIPLIER",
        id,
        json!({ "op": op, "isActive": active, "name": old.name, "reason": reason }),
    )
    .await?;
    let row = reread(&mut tx, id).await?;
    tx.commit().await?;
    Ok(row)
}

/// One multiplier within the caller's reach (inactive ones included).
pub async fn get(pool: &PgPool, actor: &Actor, id: Uuid) -> Result<MultiplierRow, MultiplierError> {
    let mut conn = pool.acquire().await?;
    db::multipliers::find(&mut conn, id)
        .await?
        .filter(|m| loteria_visible(actor, m.loteria_banca_id))
        .ok_or(MultiplierError::NotFound)
}

/// Filters of `list` as the caller sent them.
#[derive(Debug, Clone, Default)]
pub struct ListParams {
    pub banca_id: Option<Uuid>,
    pub loteria_id: Option<Uuid>,
    pub kind: Option<BetType>,
    pub is_active: Option<bool>,
    pub applies_to_sorteo_id: Option<Uuid>,
    pub search: Option<String>,
}

/// Multipliers of live loterías the caller may see. ADMIN: every banca, or the active one
/// (or `bancaId`), plus templates unless `bancaId` is sent; BANCA: its active banca (or an
/// assigned `bancaId`) plus templates; VENTANA and VENDEDOR: their banca. A `bancaId` out of
/// reach is forbidden.
pub async fn list(
    pool: &PgPool,
    actor: &Actor,
    p: ListParams,
    limit: i64,
    offset: i64,
) -> Result<(Vec<MultiplierRow>, i64), MultiplierError> {
    if let Some(b) = p.banca_id {
        if !actor.can_reach_banca(b) {
            return Err(MultiplierError::Forbidden("banca fuera de alcance"));
        }
    }
    let banca_ids = match p.banca_id {
        Some(b) => Some(vec![b]),
        None => actor.list_scope(),
    };
    let filter = MultiplierFilter {
        banca_ids,
        include_templates: p.banca_id.is_none() && actor.is(&[Role::Admin, Role::Banca]),
        loteria_id: p.loteria_id,
        kind: p.kind,
        is_active: p.is_active,
        applies_to_sorteo_id: p.applies_to_sorteo_id,
        search: p.search,
    };
    let mut conn = pool.acquire().await?;
    Ok(db::multipliers::list(&mut conn, &filter, limit, offset).await?)
}

// ---------------------------------------------------------------------------------------------
// Base multiplier

/// The base multiplier for a sale of `user_id` (of ventana `ventana_id`, banca `banca_id`) in
/// `loteria_id`, by the chain of `domain-sales.md` §3.5, with `env_default` as the last step
/// (`MULTIPLIER_BASE_DEFAULT_X`). Two indexed reads; call it inside the sale transaction.
/// `None` when no step has a value.
pub async fn resolve_base_multiplier(
    conn: &mut PgConnection,
    banca_id: Uuid,
    loteria_id: Uuid,
    user_id: Uuid,
    ventana_id: Uuid,
    env_default: Option<Decimal>,
) -> Result<Option<BaseMultiplier>, sqlx::Error> {
    let rows = db::multipliers::chain_rows(conn, banca_id, loteria_id, user_id, ventana_id).await?;
    Ok(resolve_chain(&ChainInputs {
        user_overrides: &rows.user_overrides,
        ventana_overrides: &rows.ventana_overrides,
        banca_setting: rows.banca_setting,
        multipliers: &rows.multipliers,
        rules_base_multiplier_x: rows.rules_json.as_ref().and_then(rules_base_multiplier_x),
        env_default,
    }))
}

// ---------------------------------------------------------------------------------------------
// Overrides

/// Input of `create_override` (already checked by the edge).
#[derive(Debug, Clone)]
pub struct NewOverrideInput {
    pub scope: OverrideScope,
    pub scope_id: Uuid,
    pub loteria_id: Uuid,
    pub multiplier_type: BetType,
    pub base_multiplier_x: Decimal,
}

/// Whether the caller may see an override. ADMIN: all; BANCA: those of its bancas; VENTANA:
/// its ventana's and its users'; VENDEDOR: its own USER overrides.
fn override_visible(actor: &Actor, o: &OverrideRow) -> bool {
    match actor.role {
        Role::Admin => true,
        Role::Banca => o
            .owner_banca_id
            .is_some_and(|b| actor.assigned_bancas.contains(&b)),
        Role::Ventana => {
            actor.ventana_id.is_some()
                && match o.scope {
                    OverrideScope::Ventana => o.ventana_id == actor.ventana_id,
                    OverrideScope::User => o.user_ventana_id == actor.ventana_id,
                }
        }
        Role::Vendedor => o.scope == OverrideScope::User && o.user_id == Some(actor.user_id),
    }
}

/// The details of an override's activity entry.
fn override_details(o: &OverrideRow) -> serde_json::Value {
    json!({
        "scope": o.scope,
        "userId": o.user_id,
        "ventanaId": o.ventana_id,
        "loteriaId": o.loteria_id,
        "multiplierType": o.multiplier_type,
        "baseMultiplierX": o.base_multiplier_x,
        "isActive": o.is_active,
    })
}

/// The banca of an override's target, checking that the caller may manage the target: a
/// VENDEDOR it may manage (scope USER) or a ventana it reaches (scope VENTANA). Out of reach
/// is not found; a target of the wrong role or inactive is invalid.
async fn target_banca(
    conn: &mut PgConnection,
    actor: &Actor,
    scope: OverrideScope,
    id: Uuid,
) -> Result<Option<Uuid>, MultiplierError> {
    match scope {
        OverrideScope::User => {
            let user: UserRow = visible_user(conn, actor, id, true).await?;
            if user.deleted_at.is_some() {
                return Err(MultiplierError::NotFound);
            }
            if user.role != Role::Vendedor {
                return Err(invalid(
                    "scopeId",
                    "invalid_target",
                    "un override de alcance USER es para un usuario VENDEDOR",
                ));
            }
            if !user.is_active {
                return Err(invalid("scopeId", "inactive", "el usuario está inactivo"));
            }
            Ok(user.banca_id)
        }
        OverrideScope::Ventana => {
            let v = db::ventanas::find(conn, id)
                .await?
                .filter(|v| v.deleted_at.is_none() && actor.can_reach_ventana(v.id, v.banca_id))
                .ok_or(MultiplierError::NotFound)?;
            if !v.is_active {
                return Err(invalid("scopeId", "inactive", "la ventana está inactiva"));
            }
            Ok(Some(v.banca_id))
        }
    }
}

async fn reread_override(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<OverrideRow, MultiplierError> {
    db::multipliers::find_override(conn, id)
        .await?
        .ok_or(MultiplierError::NotFound)
}

/// Creates an override (ADMIN; BANCA for targets of its bancas; VENTANA for its own ventana
/// and its vendedores). The lotería must be live, visible, and of the target's banca (or a
/// template). One live override per (scope, target, lotería, type), also under races.
pub async fn create_override(
    pool: &PgPool,
    actor: &Actor,
    input: NewOverrideInput,
) -> Result<OverrideRow, MultiplierError> {
    if !actor.is(&[Role::Admin, Role::Banca, Role::Ventana]) {
        return Err(MultiplierError::Forbidden("rol no permitido"));
    }
    let mut tx = pool.begin().await?;
    let banca = target_banca(&mut tx, actor, input.scope, input.scope_id).await?;
    let loteria = visible_loteria(&mut tx, actor, input.loteria_id).await?;
    if loteria.banca_id.is_some() && loteria.banca_id != banca {
        return Err(invalid(
            "loteriaId",
            "invalid_reference",
            "la lotería no es de la banca del destino",
        ));
    }
    let new = NewOverride {
        scope: input.scope,
        user_id: (input.scope == OverrideScope::User).then_some(input.scope_id),
        ventana_id: (input.scope == OverrideScope::Ventana).then_some(input.scope_id),
        loteria_id: loteria.id,
        banca_id: banca,
        multiplier_type: input.multiplier_type.as_str(),
        base_multiplier_x: input.base_multiplier_x,
    };
    if db::multipliers::live_override_exists(&mut tx, &new, None).await? {
        return Err(MultiplierError::OverrideExists);
    }
    let id = db::multipliers::insert_override(&mut tx, &new).await?;
    let row = reread_override(&mut tx, id).await?;
    activity::record(
        &mut tx,
        actor,
        banca,
        "MULTIPLIER_SETTING_CREATE",
        "MULTIPLIER_OVERRIDE",
        id,
        override_details(&row),
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// A visible override, locked for a change by a role that manages overrides.
async fn override_for_update(
    conn: &mut PgConnection,
    actor: &Actor,
    id: Uuid,
) -> Result<OverrideRow, MultiplierError> {
    if !actor.is(&[Role::Admin, Role::Banca, Role::Ventana]) {
        return Err(MultiplierError::Forbidden("rol no permitido"));
    }
    db::multipliers::find_override_for_update(conn, id)
        .await?
        .filter(|o| override_visible(actor, o))
        .ok_or(MultiplierError::NotFound)
}

/// Changes a live override's `baseMultiplierX` and/or `isActive`. A deleted override is not
/// found (restore it first); no change writes nothing.
pub async fn update_override(
    pool: &PgPool,
    actor: &Actor,
    id: Uuid,
    base_multiplier_x: Option<Decimal>,
    is_active: Option<bool>,
) -> Result<OverrideRow, MultiplierError> {
    let mut tx = pool.begin().await?;
    let old = override_for_update(&mut tx, actor, id).await?;
    if old.deleted_at.is_some() {
        return Err(MultiplierError::NotFound);
    }
    let x = base_multiplier_x.unwrap_or(old.base_multiplier_x);
    let active = is_active.unwrap_or(old.is_active);
    if x == old.base_multiplier_x && active == old.is_active {
        return Ok(old);
    }
    db::multipliers::update_override(&mut tx, id, x, active).await?;
    let row = reread_override(&mut tx, id).await?;
    activity::record(
        &mut tx,
        actor,
        old.owner_banca_id,
        "MULTIPLIER_SETTING_UPDATE",
        "MULTIPLIER_OVERRIDE",
        id,
        json!({
            "before": { "baseMultiplierX": old.base_multiplier_x, "isActive": old.is_active },
            "after": { "baseMultiplierX": x, "isActive": active },
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// Soft-deletes an override (inactive, `deletedAt/By/Reason` set). Deleting a deleted
/// override changes nothing.
pub async fn delete_override(
    pool: &PgPool,
    actor: &Actor,
    id: Uuid,
    reason: Option<String>,
) -> Result<OverrideRow, MultiplierError> {
    let mut tx = pool.begin().await?;
    let old = override_for_update(&mut tx, actor, id).await?;
    if old.deleted_at.is_some() {
        return Ok(old);
    }
    db::multipliers::soft_delete_override(
        &mut tx,
        id,
        &actor.user_id.to_string(),
        reason.as_deref(),
    )
    .await?;
    let row = reread_override(&mut tx, id).await?;
    let mut details = override_details(&old);
    details["reason"] = json!(reason);
    activity::record(
        &mut tx,
        actor,
        old.owner_banca_id,
        "MULTIPLIER_SETTING_DELETE",
        "MULTIPLIER_OVERRIDE",
        id,
        details,
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// Restores an override (active, deletion marks cleared). Refused while another live
/// override has the same target, lotería and type; restoring an active, live override
/// changes nothing.
pub async fn restore_override(
    pool: &PgPool,
    actor: &Actor,
    id: Uuid,
) -> Result<OverrideRow, MultiplierError> {
    let mut tx = pool.begin().await?;
    let old = override_for_update(&mut tx, actor, id).await?;
    if old.deleted_at.is_none() && old.is_active {
        return Ok(old);
    }
    let key = NewOverride {
        scope: old.scope,
        user_id: old.user_id,
        ventana_id: old.ventana_id,
        loteria_id: old.loteria_id,
        banca_id: old.banca_id,
        multiplier_type: &old.multiplier_type,
        base_multiplier_x: old.base_multiplier_x,
    };
    if db::multipliers::live_override_exists(&mut tx, &key, Some(id)).await? {
        return Err(MultiplierError::OverrideExists);
    }
    db::multipliers::restore_override(&mut tx, id).await?;
    let row = reread_override(&mut tx, id).await?;
    activity::record(
        &mut tx,
        actor,
        old.owner_banca_id,
        "MULTIPLIER_SETTING_RESTORE",
        "MULTIPLIER_OVERRIDE",
        id,
        override_details(&row),
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// One override the caller may see (deleted ones included).
pub async fn get_override(
    pool: &PgPool,
    actor: &Actor,
    id: Uuid,
) -> Result<OverrideRow, MultiplierError> {
    let mut conn = pool.acquire().await?;
    db::multipliers::find_override(&mut conn, id)
        .await?
        .filter(|o| override_visible(actor, o))
        .ok_or(MultiplierError::NotFound)
}

/// Filters of `list_overrides` as the caller sent them.
#[derive(Debug, Clone, Default)]
pub struct OverrideListParams {
    pub scope: Option<OverrideScope>,
    pub scope_id: Option<Uuid>,
    pub loteria_id: Option<Uuid>,
    pub multiplier_type: Option<BetType>,
    pub is_active: Option<bool>,
}

/// Overrides the caller may see: ADMIN every one (or the active banca's), BANCA its active
/// banca's, VENTANA its ventana's and its users', VENDEDOR its own.
pub async fn list_overrides(
    pool: &PgPool,
    actor: &Actor,
    p: OverrideListParams,
    limit: i64,
    offset: i64,
) -> Result<(Vec<OverrideRow>, i64), MultiplierError> {
    let mut filter = OverrideFilter {
        scope: p.scope,
        scope_id: p.scope_id,
        loteria_id: p.loteria_id,
        multiplier_type: p.multiplier_type.map(|t| t.as_str().to_string()),
        is_active: p.is_active,
        ..Default::default()
    };
    match actor.role {
        Role::Admin | Role::Banca => filter.banca_ids = actor.list_scope(),
        Role::Ventana => match actor.ventana_id {
            Some(v) => filter.within_ventana = Some(v),
            None => return Ok((Vec::new(), 0)),
        },
        Role::Vendedor => filter.only_user = Some(actor.user_id),
    }
    let mut conn = pool.acquire().await?;
    Ok(db::multipliers::list_overrides(&mut conn, &filter, limit, offset).await?)
}

// ---------------------------------------------------------------------------------------------
// Allowed multipliers

/// `meta` of the allowed-multiplier answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AllowedMeta {
    pub policy_exists: bool,
    pub policy_effective: bool,
    /// Distinct policy rules that allowed at least one multiplier.
    pub rules_matched: usize,
    /// Multipliers considered (before the policy).
    pub total_multipliers: usize,
}

/// The multipliers a vendedor may sell and how the policy was read.
#[derive(Debug, Clone)]
pub struct Allowed {
    pub multipliers: Vec<MultiplierRow>,
    pub meta: AllowedMeta,
}

/// Keeps the candidates a USER policy allows: the first rule (policy order) whose lotería,
/// bet type and `multiplierRange` cover the multiplier.
fn filter_by_policy(user: &UserRow, candidates: Vec<MultiplierRow>) -> Allowed {
    let ranges = policy_ranges(user.commission_policy_json.as_ref(), Utc::now());
    let total = candidates.len();
    let mut rules = std::collections::HashSet::new();
    let multipliers: Vec<MultiplierRow> = candidates
        .into_iter()
        .filter(
            |m| match ranges.matching_rule(m.loteria_id, m.kind, m.value_x) {
                Some(rule) => {
                    rules.insert(rule.to_string());
                    true
                }
                None => false,
            },
        )
        .collect();
    Allowed {
        multipliers,
        meta: AllowedMeta {
            policy_exists: ranges.exists,
            policy_effective: ranges.effective,
            rules_matched: rules.len(),
            total_multipliers: total,
        },
    }
}

/// A live VENDEDOR the caller may read (`manage`: may manage) for the allowed-multiplier
/// routes.
async fn vendedor(
    conn: &mut PgConnection,
    actor: &Actor,
    user_id: Uuid,
    manage: bool,
) -> Result<UserRow, MultiplierError> {
    let user = visible_user(conn, actor, user_id, manage).await?;
    if user.deleted_at.is_some() {
        return Err(MultiplierError::NotFound);
    }
    if user.role != Role::Vendedor {
        return Err(MultiplierError::NotVendedor);
    }
    Ok(user)
}

/// The active multipliers of kind `bet_type` of a live lotería of the vendedor's banca that
/// its USER commission policy allows (`GET /users/:id/allowed-multipliers`). Readable by
/// ADMIN, the vendedor, BANCA of its banca and VENTANA of its ventana.
pub async fn allowed_multipliers(
    pool: &PgPool,
    actor: &Actor,
    user_id: Uuid,
    loteria_id: Uuid,
    bet_type: BetType,
) -> Result<Allowed, MultiplierError> {
    let mut conn = pool.acquire().await?;
    let user = vendedor(&mut conn, actor, user_id, false).await?;
    let loteria = db::multipliers::loteria(&mut conn, loteria_id)
        .await?
        .filter(|l| !l.deleted && (l.banca_id.is_none() || l.banca_id == user.banca_id))
        .ok_or(MultiplierError::NotFound)?;
    let candidates = db::multipliers::for_picker(
        &mut conn,
        PickerScope::Loteria(loteria.id),
        Some(bet_type),
        Some(true),
    )
    .await?;
    Ok(filter_by_policy(&user, candidates))
}

/// As `allowed_multipliers`, across every active lotería of the vendedor's banca, of
/// `bet_type` (both when `None`) and `is_active` (`GET /users/:id/allowed-multipliers-batch`).
/// Readable by ADMIN, the vendedor, BANCA of its banca and VENTANA of its ventana.
pub async fn allowed_multipliers_batch(
    pool: &PgPool,
    actor: &Actor,
    user_id: Uuid,
    bet_type: Option<BetType>,
    is_active: bool,
) -> Result<Allowed, MultiplierError> {
    let mut conn = pool.acquire().await?;
    let user = vendedor(&mut conn, actor, user_id, true).await?;
    let candidates = match user.banca_id {
        Some(b) => {
            db::multipliers::for_picker(&mut conn, PickerScope::Banca(b), bet_type, Some(is_active))
                .await?
        }
        None => Vec::new(),
    };
    Ok(filter_by_policy(&user, candidates))
}
