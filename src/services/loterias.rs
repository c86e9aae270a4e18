//! Use cases over loterías: create, update, soft delete (taking its undrawn sorteos with it)
//! and restore, list and read, the schedule preview and the sorteo seed. Each write owns its
//! transaction and records its activity entry inside it. Also the catalog's tenancy rules,
//! shared with the sorteos: who reads and who writes an object of a banca (or a global one).

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

use crate::db;
use crate::db::loterias::{LoteriaFilter, LoteriaRow};
use crate::domain::authz::Actor;
use crate::domain::roles::Role;
use crate::domain::rules_json::{self, LoteriaRules};
use crate::domain::schedule::{self, Occurrence};
use crate::http::error::ErrorDetail;
use crate::services::activity;
use crate::services::bancas::constraint;

// ---------------------------------------------------------------------------------------------
// Tenancy of catalog objects (loterías and sorteos).

/// May `actor` see a catalog object of banca `banca_id` (`None`: a global one)? Global objects
/// are ADMIN's; a banca's objects are seen by everyone who reaches that banca.
pub fn can_read(actor: &Actor, banca_id: Option<Uuid>) -> bool {
    match banca_id {
        None => actor.is_admin(),
        Some(b) => actor.can_reach_banca(b),
    }
}

/// May `actor` change a catalog object of banca `banca_id`? ADMIN: any, global ones included;
/// BANCA: those of its active banca; nobody else.
pub fn can_write(actor: &Actor, banca_id: Option<Uuid>) -> bool {
    match actor.role {
        Role::Admin => true,
        Role::Banca => banca_id.is_some() && banca_id == actor.banca_id,
        Role::Ventana | Role::Vendedor => false,
    }
}

/// The bancas a catalog list shows and whether global objects are included: ADMIN without an
/// active banca every object; ADMIN with one that banca's plus the global ones; the other roles
/// their active (BANCA) or own (VENTANA, VENDEDOR) banca.
pub fn list_scope(actor: &Actor) -> (Option<Vec<Uuid>>, bool) {
    match (actor.role, actor.banca_id) {
        (Role::Admin, None) => (None, true),
        (Role::Admin, Some(b)) => (Some(vec![b]), true),
        _ => (Some(actor.list_scope().unwrap_or_default()), false),
    }
}

// ---------------------------------------------------------------------------------------------

#[derive(Debug, thiserror::Error)]
pub enum LoteriaError {
    #[error("not found")]
    NotFound,
    #[error("banca not found")]
    BancaNotFound,
    #[error("a banca must be chosen")]
    BancaRequired,
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// Another lotería of the same banca (or another global one) has this name.
    #[error("lotería name already taken")]
    Exists,
    /// The lotería is inactive or deleted: it takes no new sorteos.
    #[error("lotería inactive")]
    Inactive,
    /// The stored `rulesJson` does not read (written before validation existed).
    #[error("stored rulesJson invalid")]
    StoredRulesInvalid(Vec<ErrorDetail>),
    #[error("invalid input")]
    Invalid(Vec<ErrorDetail>),
    #[error("database: {0}")]
    Database(sqlx::Error),
}

impl From<sqlx::Error> for LoteriaError {
    fn from(e: sqlx::Error) -> Self {
        match constraint(&e) {
            Some(db::loterias::NAME_KEY) => LoteriaError::Exists,
            _ => LoteriaError::Database(e),
        }
    }
}

/// Checks a `rulesJson` value (`null` is an empty object) and returns the object to store:
/// the value as sent, unknown keys included. Issue fields start with `rulesJson`.
pub fn check_rules(value: Option<Value>) -> Result<(Value, LoteriaRules), Vec<ErrorDetail>> {
    let value = match value {
        None | Some(Value::Null) => json!({}),
        Some(v) => v,
    };
    match LoteriaRules::parse(&value) {
        Ok(rules) => Ok((value, rules)),
        Err(issues) => Err(rule_details(issues)),
    }
}

fn rule_details(issues: Vec<rules_json::RuleIssue>) -> Vec<ErrorDetail> {
    issues
        .into_iter()
        .map(|i| ErrorDetail {
            field: if i.path.is_empty() {
                "rulesJson".into()
            } else {
                format!("rulesJson.{}", i.path)
            },
            code: i.code.into(),
            issue: i.issue,
        })
        .collect()
}

/// The typed rules of a stored lotería.
pub fn stored_rules(row: &LoteriaRow) -> Result<LoteriaRules, LoteriaError> {
    LoteriaRules::parse(&row.rules_json)
        .map_err(|issues| LoteriaError::StoredRulesInvalid(rule_details(issues)))
}

/// Input of `create`. `banca_id`: absent → the active banca (ADMIN without one: a global
/// template); `Some(None)` → a global template (ADMIN only).
#[derive(Debug, Clone)]
pub struct NewLoteria {
    pub name: String,
    pub rules_json: Option<Value>,
    pub is_active: bool,
    pub banca_id: Option<Option<Uuid>>,
}

/// Creates a lotería (ADMIN: any banca or a global template; BANCA: its active banca).
pub async fn create(
    pool: &PgPool,
    actor: &Actor,
    input: NewLoteria,
) -> Result<LoteriaRow, LoteriaError> {
    let banca_id = match (actor.role, input.banca_id) {
        (Role::Admin, Some(b)) => b,
        (Role::Admin, None) => actor.banca_id,
        (Role::Banca, Some(None)) => {
            return Err(LoteriaError::Forbidden(
                "solo un ADMIN crea plantillas globales",
            ))
        }
        (Role::Banca, Some(Some(b))) if Some(b) != actor.banca_id => {
            return Err(LoteriaError::BancaNotFound)
        }
        (Role::Banca, _) => Some(actor.banca_id.ok_or(LoteriaError::BancaRequired)?),
        _ => return Err(LoteriaError::Forbidden("rol no permitido")),
    };
    let (rules, _) = check_rules(input.rules_json).map_err(LoteriaError::Invalid)?;
    let mut tx = pool.begin().await?;
    if let Some(b) = banca_id {
        let banca = db::bancas::find_for_update(&mut tx, b).await?;
        if !banca.is_some_and(|b| b.is_active && b.deleted_at.is_none()) {
            return Err(LoteriaError::BancaNotFound);
        }
    }
    let row = db::loterias::insert(&mut tx, banca_id, &input.name, &rules, input.is_active).await?;
    activity::record(
        &mut tx,
        actor,
        row.banca_id,
        "LOTERIA_CREATE",
        "LOTERIA",
        row.id,
        json!({ "name": row.name, "bancaId": row.banca_id, "isActive": row.is_active }),
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// Optional changes to a lotería; `None` keeps the current value.
#[derive(Debug, Clone, Default)]
pub struct LoteriaChanges {
    pub name: Option<String>,
    /// `Some(null)` keeps the current rules, as the existing system did.
    pub rules_json: Option<Value>,
    pub is_active: Option<bool>,
}

/// Loads a lotería for a change: locked, not deleted, within the caller's write scope.
async fn lock_writable(
    conn: &mut sqlx::PgConnection,
    actor: &Actor,
    id: Uuid,
) -> Result<LoteriaRow, LoteriaError> {
    db::loterias::find_for_update(conn, id)
        .await?
        .filter(|l| can_write(actor, l.banca_id))
        .ok_or(LoteriaError::NotFound)
}

/// Updates a lotería that is not deleted. No change writes nothing.
pub async fn update(
    pool: &PgPool,
    actor: &Actor,
    id: Uuid,
    changes: LoteriaChanges,
) -> Result<LoteriaRow, LoteriaError> {
    let rules = match changes.rules_json {
        None | Some(Value::Null) => None,
        Some(v) => Some(check_rules(Some(v)).map_err(LoteriaError::Invalid)?.0),
    };
    let mut tx = pool.begin().await?;
    let old = lock_writable(&mut tx, actor, id).await?;
    if old.deleted_at.is_some() {
        return Err(LoteriaError::NotFound);
    }
    let name = changes.name.unwrap_or_else(|| old.name.clone());
    let rules = rules.unwrap_or_else(|| old.rules_json.clone());
    let is_active = changes.is_active.unwrap_or(old.is_active);
    let mut fields = Vec::new();
    if name != old.name {
        fields.push("name");
    }
    if rules != old.rules_json {
        fields.push("rulesJson");
    }
    if is_active != old.is_active {
        fields.push("isActive");
    }
    if fields.is_empty() {
        return Ok(old);
    }
    let row = db::loterias::update(&mut tx, id, &name, &rules, is_active).await?;
    activity::record(
        &mut tx,
        actor,
        row.banca_id,
        "LOTERIA_UPDATE",
        "LOTERIA",
        id,
        json!({ "fields": fields, "isActive": row.is_active }),
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// Soft-deletes a lotería and, with it, its SCHEDULED and OPEN sorteos (marked as taken by
/// the cascade). Deleting a deleted lotería changes nothing.
pub async fn delete(
    pool: &PgPool,
    actor: &Actor,
    id: Uuid,
    reason: Option<String>,
) -> Result<LoteriaRow, LoteriaError> {
    let mut tx = pool.begin().await?;
    let old = lock_writable(&mut tx, actor, id).await?;
    if old.deleted_at.is_some() {
        return Ok(old);
    }
    let by = actor.user_id.to_string();
    let row = db::loterias::soft_delete(&mut tx, id, &by, reason.as_deref()).await?;
    let sorteos = db::sorteos::cascade_delete(&mut tx, id, &by).await?;
    activity::record(
        &mut tx,
        actor,
        row.banca_id,
        "LOTERIA_DELETE",
        "LOTERIA",
        id,
        json!({ "name": row.name, "reason": reason, "sorteosDeleted": sorteos }),
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// Restores a lotería (active, not deleted) and the sorteos its deletion took with it.
/// Restoring an active lotería changes nothing.
pub async fn restore(
    pool: &PgPool,
    actor: &Actor,
    id: Uuid,
    reason: Option<String>,
) -> Result<LoteriaRow, LoteriaError> {
    let mut tx = pool.begin().await?;
    let old = lock_writable(&mut tx, actor, id).await?;
    if old.deleted_at.is_none() && old.is_active {
        return Ok(old);
    }
    let row = db::loterias::restore(&mut tx, id).await?;
    let sorteos = db::sorteos::cascade_restore(&mut tx, id).await?;
    activity::record(
        &mut tx,
        actor,
        row.banca_id,
        "LOTERIA_RESTORE",
        "LOTERIA",
        id,
        json!({ "name": row.name, "reason": reason, "sorteosRestored": sorteos }),
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// Loterías the caller may see (see [`list_scope`]), every state included.
pub async fn list(
    pool: &PgPool,
    actor: &Actor,
    search: Option<String>,
    is_active: Option<bool>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<LoteriaRow>, i64), LoteriaError> {
    let (bancas, include_global) = list_scope(actor);
    let filter = LoteriaFilter {
        bancas,
        include_global,
        search,
        is_active,
    };
    let mut conn = pool.acquire().await?;
    Ok(db::loterias::list(&mut conn, &filter, limit, offset).await?)
}

/// One lotería within the caller's read scope, whatever its state.
pub async fn get(pool: &PgPool, actor: &Actor, id: Uuid) -> Result<LoteriaRow, LoteriaError> {
    let mut conn = pool.acquire().await?;
    db::loterias::find(&mut conn, id)
        .await?
        .filter(|l| can_read(actor, l.banca_id))
        .ok_or(LoteriaError::NotFound)
}

// ---------------------------------------------------------------------------------------------
// Schedule preview and seed.

/// Which draws of a lotería's schedule to consider: `days` local days from `start`
/// (default: today), at most `limit`, past instants only with `allow_past`, and — for the seed
/// — only the instants of `only` when given.
#[derive(Debug, Clone)]
pub struct ScheduleWindow {
    pub start: Option<NaiveDate>,
    pub days: u32,
    pub limit: usize,
    pub allow_past: bool,
    pub only: Option<Vec<DateTime<Utc>>>,
}

/// A draw the schedule would create.
#[derive(Debug, Clone)]
pub struct PlannedDraw {
    pub scheduled_at: DateTime<Utc>,
    pub name: String,
    /// A sorteo of the lotería (live or deleted) already has this instant.
    pub already_exists: bool,
}

/// The planned draws and the instant window they were taken from (`to` exclusive).
#[derive(Debug, Clone)]
pub struct Preview {
    pub draws: Vec<PlannedDraw>,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

/// The cap of instants generated per call before the past and `scheduledDates` filters
/// (31 days of a draw every minute fits); `limit` then bounds what is returned.
const MAX_OCCURRENCES: usize = 50_000;

fn plan(
    row: &LoteriaRow,
    rules: &LoteriaRules,
    w: &ScheduleWindow,
    now: DateTime<Utc>,
    tz: Tz,
) -> (Vec<Occurrence>, DateTime<Utc>, DateTime<Utc>) {
    let start = w.start.unwrap_or_else(|| schedule::local_date(now, tz));
    let end = start
        .checked_add_days(chrono::Days::new(u64::from(w.days)))
        .unwrap_or(start);
    let draws = schedule::occurrences(
        &row.name,
        rules.schedules(),
        start,
        w.days,
        tz,
        MAX_OCCURRENCES,
    )
    .into_iter()
    .filter(|o| w.allow_past || o.scheduled_at >= now)
    .filter(|o| {
        w.only
            .as_ref()
            .is_none_or(|only| only.contains(&o.scheduled_at))
    })
    .take(w.limit)
    .collect();
    (
        draws,
        schedule::day_start(start, tz),
        schedule::day_start(end, tz),
    )
}

/// The draws a lotería's `drawSchedule(s)` generate in the window, each marked when a sorteo
/// already has its instant. Any role that sees the lotería may preview it.
pub async fn preview(
    pool: &PgPool,
    actor: &Actor,
    id: Uuid,
    window: &ScheduleWindow,
    now: DateTime<Utc>,
    tz: Tz,
) -> Result<Preview, LoteriaError> {
    let mut conn = pool.acquire().await?;
    let row = db::loterias::find(&mut conn, id)
        .await?
        .filter(|l| can_read(actor, l.banca_id))
        .ok_or(LoteriaError::NotFound)?;
    let rules = stored_rules(&row)?;
    let (draws, from, to) = plan(&row, &rules, window, now, tz);
    let instants: Vec<_> = draws.iter().map(|o| o.scheduled_at).collect();
    let existing = db::sorteos::existing_instants(&mut conn, id, &instants).await?;
    Ok(Preview {
        draws: draws
            .into_iter()
            .map(|o| PlannedDraw {
                already_exists: existing.contains(&o.scheduled_at),
                scheduled_at: o.scheduled_at,
                name: o.name,
            })
            .collect(),
        from,
        to,
    })
}

/// What a seed did: the draws it created and those it skipped because a sorteo already had
/// their instant (before the seed, or created by a concurrent one). A dry run creates nothing
/// and lists what it would consider in `planned`.
#[derive(Debug, Clone, Default)]
pub struct SeedReport {
    pub created: Vec<Occurrence>,
    pub skipped: Vec<Occurrence>,
    pub planned: Vec<Occurrence>,
    pub dry_run: bool,
}

/// Creates the SCHEDULED sorteos of a live lotería's schedule in the window (ADMIN, or BANCA
/// for its active banca). Idempotent: an instant that has a sorteo is skipped, and two seeds
/// running at once create each draw once (unique index). `digits` comes from the lotería.
pub async fn seed(
    pool: &PgPool,
    actor: &Actor,
    id: Uuid,
    window: &ScheduleWindow,
    dry_run: bool,
    now: DateTime<Utc>,
    tz: Tz,
) -> Result<SeedReport, LoteriaError> {
    let mut tx = pool.begin().await?;
    let row = db::loterias::find_for_share(&mut tx, id)
        .await?
        .filter(|l| can_write(actor, l.banca_id))
        .ok_or(LoteriaError::NotFound)?;
    if !row.is_live() {
        return Err(LoteriaError::Inactive);
    }
    let rules = stored_rules(&row)?;
    let (draws, _, _) = plan(&row, &rules, window, now, tz);
    if dry_run {
        return Ok(SeedReport {
            planned: draws,
            dry_run: true,
            ..SeedReport::default()
        });
    }
    let items: Vec<_> = draws
        .iter()
        .map(|o| (o.scheduled_at, o.name.clone()))
        .collect();
    let created_at = if items.is_empty() {
        Vec::new()
    } else {
        db::sorteos::seed(&mut tx, id, row.banca_id, i16::from(rules.digits), &items).await?
    };
    let (created, skipped): (Vec<_>, Vec<_>) = draws
        .into_iter()
        .partition(|o| created_at.contains(&o.scheduled_at));
    if !created.is_empty() {
        activity::record(
            &mut tx,
            actor,
            row.banca_id,
            "SORTEO_CREATE",
            "LOTERIA",
            id,
            json!({
                "source": "seed",
                "created": created.len(),
                "skipped": skipped.len(),
                "first": created.first().map(|o| o.scheduled_at),
                "last": created.last().map(|o| o.scheduled_at),
            }),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(SeedReport {
        created,
        skipped,
        planned: Vec::new(),
        dry_run: false,
    })
}
