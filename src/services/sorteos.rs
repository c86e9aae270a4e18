//! Use cases over sorteos: create, update, the manual state transitions, soft delete and
//! restore, list and read. The status matrix is one pure function, [`transition`]. Every
//! write locks the sorteo row (`SELECT … FOR UPDATE`) in its transaction, so concurrent
//! transitions of one sorteo run one after the other and see each other's result; each
//! records its activity entry in the same transaction.
//!
//! Beyond the status matrix:
//! - a deleted sorteo only takes `restore` (and `delete`, a no-op); anything else is refused
//!   naming its state;
//! - `open` needs the sorteo active (`activate-and-open` activates it);
//! - a CLOSED sorteo that carries a result (`winningNumber`) was drawn: it is not reopened or
//!   reset (`force-open`, `activate-and-open`, `reset-to-scheduled`, `restore` → 409
//!   `SORTEO_HAS_RESULT`), the same reason decision 9 refuses resetting an EVALUATED one.
//!
//! Tickets (domain-money §1.3), in the same transaction, after the sorteo row lock:
//! - `close` sets `isSorteoClosed` on its non-deleted tickets (the count is `ticketsClosed` in
//!   the audit entry); any transition out of CLOSED clears it again;
//! - `delete` soft-deletes its non-deleted tickets (reason `"Eliminado por cascada del sorteo:
//!   <reason|sin motivo>"`), keeping their status, jugadas and counters; `restore` of a deleted
//!   sorteo undeletes exactly those (not tickets cancelled before);
//! - `ticketCount` / `hasSales` count the live tickets (neither CANCELLED nor EXCLUDED, not
//!   deleted) the caller may see: a VENDEDOR its own, a VENTANA its ventana's, BANCA and ADMIN
//!   those of the banca(s) in view; one query per page.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde_json::json;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::db;
use crate::db::loterias::LoteriaRow;
use crate::db::sorteos::{
    SorteoFields, SorteoFilter, SorteoRow, SorteoStatus, SorteoView, TicketScope,
};
use crate::domain::authz::Actor;
use crate::domain::roles::Role;
use crate::domain::rules_json;
use crate::domain::schedule;
use crate::http::error::ErrorDetail;
use crate::services::activity;
use crate::services::bancas::constraint;
use crate::services::loterias::{can_read, can_write, list_scope};

/// A manual action on a sorteo's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Open,
    Close,
    ForceOpen,
    ActivateAndOpen,
    SetActive,
    ResetToScheduled,
    /// Soft delete.
    Delete,
    Restore,
    /// Entering the result (built with the results issue).
    Evaluate,
    /// Undoing the result (built with the results issue).
    RevertEvaluation,
}

impl Action {
    /// Every action.
    pub const ALL: [Action; 10] = [
        Action::Open,
        Action::Close,
        Action::ForceOpen,
        Action::ActivateAndOpen,
        Action::SetActive,
        Action::ResetToScheduled,
        Action::Delete,
        Action::Restore,
        Action::Evaluate,
        Action::RevertEvaluation,
    ];

    /// The route segment (`open`, `force-open`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Open => "open",
            Action::Close => "close",
            Action::ForceOpen => "force-open",
            Action::ActivateAndOpen => "activate-and-open",
            Action::SetActive => "set-active",
            Action::ResetToScheduled => "reset-to-scheduled",
            Action::Delete => "delete",
            Action::Restore => "restore",
            Action::Evaluate => "evaluate",
            Action::RevertEvaluation => "revert-evaluation",
        }
    }

    /// The Spanish verb phrase of error messages ("No se puede <verb> un sorteo …").
    fn verb(self) -> &'static str {
        match self {
            Action::Open => "abrir",
            Action::Close => "cerrar",
            Action::ForceOpen => "forzar la apertura de",
            Action::ActivateAndOpen => "activar y abrir",
            Action::SetActive => "cambiar la activación de",
            Action::ResetToScheduled => "reprogramar",
            Action::Delete => "eliminar",
            Action::Restore => "restaurar",
            Action::Evaluate => "evaluar",
            Action::RevertEvaluation => "revertir la evaluación de",
        }
    }
}

/// An action the status matrix does not allow from `from`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{} not allowed from {}", action.as_str(), from.as_str())]
pub struct InvalidTransition {
    pub from: SorteoStatus,
    pub action: Action,
}

/// The status after `action` from `from` (domain-money §1.4 with decision 9):
///
/// | action \ from        | SCHEDULED | OPEN      | EVALUATED | CLOSED    |
/// |----------------------|-----------|-----------|-----------|-----------|
/// | open                 | OPEN      | —         | —         | —         |
/// | close                | —         | CLOSED    | CLOSED    | —         |
/// | force-open           | OPEN      | —         | —         | OPEN      |
/// | activate-and-open    | OPEN      | —         | —         | OPEN      |
/// | set-active           | SCHEDULED | OPEN      | EVALUATED | CLOSED    |
/// | reset-to-scheduled   | SCHEDULED | SCHEDULED | — (dec. 9)| SCHEDULED |
/// | delete               | CLOSED    | CLOSED    | CLOSED    | CLOSED    |
/// | restore              | —         | —         | —         | OPEN      |
/// | evaluate             | —         | EVALUATED | —         | —         |
/// | revert-evaluation    | —         | —         | OPEN      | —         |
pub fn transition(from: SorteoStatus, action: Action) -> Result<SorteoStatus, InvalidTransition> {
    use SorteoStatus::{Closed, Evaluated, Open, Scheduled};
    let to = match (action, from) {
        (Action::Open, Scheduled) => Open,
        (Action::Close, Open | Evaluated) => Closed,
        (Action::ForceOpen | Action::ActivateAndOpen, Scheduled | Closed) => Open,
        (Action::SetActive, s) => s,
        (Action::ResetToScheduled, Scheduled | Open | Closed) => Scheduled,
        (Action::Delete, _) => Closed,
        (Action::Restore, Closed) => Open,
        (Action::Evaluate, Open) => Evaluated,
        (Action::RevertEvaluation, Evaluated) => Open,
        _ => return Err(InvalidTransition { from, action }),
    };
    Ok(to)
}

#[derive(Debug, thiserror::Error)]
pub enum SorteoError {
    #[error("not found")]
    NotFound,
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// The action (Spanish verb phrase) is not allowed in the sorteo's state.
    #[error("cannot {verb} a sorteo in state {status:?} (deleted: {deleted})")]
    InvalidState {
        status: SorteoStatus,
        verb: &'static str,
        deleted: bool,
    },
    /// `open` on an inactive sorteo.
    #[error("sorteo inactive")]
    Inactive,
    /// Reopening or resetting a CLOSED sorteo that carries a result.
    #[error("sorteo has a result")]
    HasResult,
    /// The lotería does not exist or is outside the caller's reach.
    #[error("lotería not found")]
    LoteriaNotFound,
    /// The lotería is inactive or deleted.
    #[error("lotería inactive")]
    LoteriaInactive,
    /// Another live sorteo of the lotería has this instant.
    #[error("sorteo instant taken")]
    Exists,
    #[error("invalid input")]
    Invalid(Vec<ErrorDetail>),
    #[error("database: {0}")]
    Database(sqlx::Error),
}

impl From<sqlx::Error> for SorteoError {
    fn from(e: sqlx::Error) -> Self {
        match constraint(&e) {
            Some(db::sorteos::INSTANT_KEY) => SorteoError::Exists,
            _ => SorteoError::Database(e),
        }
    }
}

impl From<InvalidTransition> for SorteoError {
    fn from(t: InvalidTransition) -> Self {
        SorteoError::InvalidState {
            status: t.from,
            verb: t.action.verb(),
            deleted: false,
        }
    }
}

/// Locks a sorteo the caller may change.
async fn lock_writable(
    conn: &mut PgConnection,
    actor: &Actor,
    id: Uuid,
) -> Result<SorteoRow, SorteoError> {
    db::sorteos::lock(conn, id)
        .await?
        .filter(|s| can_write(actor, s.banca_id))
        .ok_or(SorteoError::NotFound)
}

/// Whose tickets `ticketCount` counts for `actor`: a VENDEDOR its own, a VENTANA its
/// ventana's, BANCA and ADMIN those of the banca(s) in view (ADMIN without one: all).
fn ticket_scope(actor: &Actor) -> TicketScope {
    let bancas = actor.list_scope();
    match actor.role {
        Role::Vendedor => TicketScope {
            bancas,
            vendedor_id: Some(actor.user_id),
            ..TicketScope::default()
        },
        Role::Ventana => TicketScope {
            bancas,
            // No ventana: the nil id matches no ticket.
            ventana_id: Some(actor.ventana_id.unwrap_or_default()),
            ..TicketScope::default()
        },
        Role::Admin | Role::Banca => TicketScope {
            bancas,
            ..TicketScope::default()
        },
    }
}

/// Fills `ticket_count` of `views` for `actor`, in one query.
async fn with_ticket_counts(
    conn: &mut PgConnection,
    actor: &Actor,
    views: &mut [SorteoView],
) -> Result<(), SorteoError> {
    let ids: Vec<Uuid> = views.iter().map(|v| v.row.id).collect();
    let counts = db::sorteos::ticket_counts(conn, &ids, &ticket_scope(actor)).await?;
    for v in views.iter_mut() {
        v.ticket_count = counts.get(&v.row.id).copied().unwrap_or(0);
    }
    Ok(())
}

/// The view of sorteo `id` as `actor` sees it (with its ticket count).
async fn view(conn: &mut PgConnection, actor: &Actor, id: Uuid) -> Result<SorteoView, SorteoError> {
    let v = db::sorteos::find_view(conn, id)
        .await?
        .ok_or(SorteoError::NotFound)?;
    let mut views = [v];
    with_ticket_counts(conn, actor, &mut views).await?;
    let [v] = views;
    Ok(v)
}

/// A live lotería the caller may add sorteos to; share-locked so it is not deleted meanwhile.
async fn writable_loteria(
    conn: &mut PgConnection,
    actor: &Actor,
    id: Uuid,
) -> Result<LoteriaRow, SorteoError> {
    let l = db::loterias::find_for_share(conn, id)
        .await?
        .filter(|l| can_write(actor, l.banca_id))
        .ok_or(SorteoError::LoteriaNotFound)?;
    if !l.is_live() {
        return Err(SorteoError::LoteriaInactive);
    }
    Ok(l)
}

/// The lotería's digits; a `digits` sent by the client must be the same.
fn digits_for(loteria: &LoteriaRow, sent: Option<u8>) -> Result<i16, SorteoError> {
    let digits = rules_json::digits_of(&loteria.rules_json);
    match sent {
        Some(d) if d != digits => Err(SorteoError::Invalid(vec![ErrorDetail {
            field: "digits".into(),
            code: "invalid_value".into(),
            issue: format!("debe coincidir con los dígitos de la lotería ({digits})"),
        }])),
        _ => Ok(i16::from(digits)),
    }
}

fn deleted_refusal(row: &SorteoRow, action: Action) -> SorteoError {
    SorteoError::InvalidState {
        status: row.status,
        verb: action.verb(),
        deleted: true,
    }
}

/// Input of `create` (the body of `POST /sorteos`, checked for shape).
#[derive(Debug, Clone)]
pub struct NewSorteo {
    pub loteria_id: Uuid,
    pub scheduled_at: DateTime<Utc>,
    /// Absent: `"<lotería> <h:mm AM/PM>"`.
    pub name: Option<String>,
    pub digits: Option<u8>,
    pub is_active: Option<bool>,
}

/// Creates a SCHEDULED sorteo of a live lotería the caller may change; `bancaId` and `digits`
/// are the lotería's.
pub async fn create(
    pool: &PgPool,
    actor: &Actor,
    input: NewSorteo,
    tz: Tz,
) -> Result<SorteoView, SorteoError> {
    let mut tx = pool.begin().await?;
    let loteria = writable_loteria(&mut tx, actor, input.loteria_id).await?;
    let fields = SorteoFields {
        loteria_id: loteria.id,
        banca_id: loteria.banca_id,
        name: input
            .name
            .unwrap_or_else(|| schedule::draw_name(&loteria.name, input.scheduled_at, tz)),
        scheduled_at: input.scheduled_at,
        digits: digits_for(&loteria, input.digits)?,
        is_active: input.is_active.unwrap_or(true),
    };
    let id = db::sorteos::insert(&mut tx, &fields).await?;
    activity::record(
        &mut tx,
        actor,
        fields.banca_id,
        "SORTEO_CREATE",
        "SORTEO",
        id,
        json!({
            "loteriaId": fields.loteria_id,
            "name": fields.name,
            "scheduledAt": fields.scheduled_at,
        }),
    )
    .await?;
    let out = view(&mut tx, actor, id).await?;
    tx.commit().await?;
    Ok(out)
}

/// Optional changes to a sorteo; `None` keeps the current value.
#[derive(Debug, Clone, Default)]
pub struct SorteoChanges {
    pub loteria_id: Option<Uuid>,
    pub name: Option<String>,
    pub scheduled_at: Option<DateTime<Utc>>,
    pub digits: Option<u8>,
    pub is_active: Option<bool>,
}

/// Updates a SCHEDULED or OPEN sorteo; the lotería changes only while SCHEDULED (to a live
/// lotería the caller may change, whose banca and digits the sorteo takes). No change writes
/// nothing.
pub async fn update(
    pool: &PgPool,
    actor: &Actor,
    id: Uuid,
    changes: SorteoChanges,
) -> Result<SorteoView, SorteoError> {
    let mut tx = pool.begin().await?;
    let old = lock_writable(&mut tx, actor, id).await?;
    if old.deleted_at.is_some() {
        return Err(SorteoError::InvalidState {
            status: old.status,
            verb: "editar",
            deleted: true,
        });
    }
    if matches!(old.status, SorteoStatus::Evaluated | SorteoStatus::Closed) {
        return Err(SorteoError::InvalidState {
            status: old.status,
            verb: "editar",
            deleted: false,
        });
    }
    let before = SorteoFields {
        loteria_id: old.loteria_id,
        banca_id: old.banca_id,
        name: old.name.clone(),
        scheduled_at: old.scheduled_at,
        digits: old.digits,
        is_active: old.is_active,
    };
    let mut after = before.clone();
    match changes.loteria_id.filter(|l| *l != old.loteria_id) {
        Some(new_loteria) => {
            if old.status != SorteoStatus::Scheduled {
                return Err(SorteoError::InvalidState {
                    status: old.status,
                    verb: "cambiar la lotería de",
                    deleted: false,
                });
            }
            let loteria = writable_loteria(&mut tx, actor, new_loteria).await?;
            after.loteria_id = loteria.id;
            after.banca_id = loteria.banca_id;
            after.digits = digits_for(&loteria, changes.digits)?;
        }
        None if changes.digits.is_some() => {
            let loteria = db::loterias::find(&mut tx, old.loteria_id)
                .await?
                .ok_or(SorteoError::LoteriaNotFound)?;
            after.digits = digits_for(&loteria, changes.digits)?;
        }
        None => {}
    }
    if let Some(name) = changes.name {
        after.name = name;
    }
    if let Some(at) = changes.scheduled_at {
        after.scheduled_at = at;
    }
    if let Some(active) = changes.is_active {
        after.is_active = active;
    }
    let mut fields = Vec::new();
    let mut note = |differs: bool, name: &'static str| {
        if differs {
            fields.push(name);
        }
    };
    note(after.loteria_id != before.loteria_id, "loteriaId");
    note(after.name != before.name, "name");
    note(after.scheduled_at != before.scheduled_at, "scheduledAt");
    note(after.digits != before.digits, "digits");
    note(after.is_active != before.is_active, "isActive");
    if fields.is_empty() {
        let out = view(&mut tx, actor, id).await?;
        return Ok(out);
    }
    db::sorteos::update_fields(&mut tx, id, &after).await?;
    activity::record(
        &mut tx,
        actor,
        after.banca_id,
        "SORTEO_UPDATE",
        "SORTEO",
        id,
        json!({
            "fields": fields,
            "loteriaId": after.loteria_id,
            "name": after.name,
            "scheduledAt": after.scheduled_at,
            "isActive": after.is_active,
        }),
    )
    .await?;
    let out = view(&mut tx, actor, id).await?;
    tx.commit().await?;
    Ok(out)
}

/// Applies `open`, `close`, `force-open`, `activate-and-open`, `set-active` (to `set_active`,
/// or the opposite of the current flag when `None`) or `reset-to-scheduled` under the row
/// lock. `delete`, `restore`, `evaluate` and `revert-evaluation` have their own use cases.
pub async fn apply(
    pool: &PgPool,
    actor: &Actor,
    id: Uuid,
    action: Action,
    set_active: Option<bool>,
) -> Result<SorteoView, SorteoError> {
    let mut tx = pool.begin().await?;
    let row = lock_writable(&mut tx, actor, id).await?;
    if row.deleted_at.is_some() {
        return Err(deleted_refusal(&row, action));
    }
    let from = row.status;
    let to = transition(from, action)?;
    let drawn = from == SorteoStatus::Closed && row.winning_number.is_some();
    let (is_active, log_action, details) = match action {
        Action::Open => {
            if !row.is_active {
                return Err(SorteoError::Inactive);
            }
            (true, "SORTEO_OPEN", json!({}))
        }
        Action::Close => {
            let closed = db::sorteos::mark_tickets_closed(&mut tx, id, true).await?;
            (
                row.is_active,
                "SORTEO_CLOSE",
                json!({ "ticketsClosed": closed }),
            )
        }
        Action::ForceOpen | Action::ActivateAndOpen | Action::ResetToScheduled if drawn => {
            return Err(SorteoError::HasResult)
        }
        Action::ForceOpen => (row.is_active, "SORTEO_OPEN", json!({ "forced": true })),
        Action::ActivateAndOpen => (true, "SORTEO_UPDATE", json!({ "isActive": true })),
        Action::ResetToScheduled => (true, "SORTEO_UPDATE", json!({ "isActive": true })),
        Action::SetActive => {
            let v = set_active.unwrap_or(!row.is_active);
            if v == row.is_active {
                let out = view(&mut tx, actor, id).await?;
                return Ok(out);
            }
            (v, "SORTEO_UPDATE", json!({ "isActive": v }))
        }
        Action::Delete | Action::Restore | Action::Evaluate | Action::RevertEvaluation => {
            return Err(SorteoError::Forbidden("acción con su propio caso de uso"))
        }
    };
    db::sorteos::set_state(&mut tx, id, to, is_active).await?;
    let mut details = details;
    if from == SorteoStatus::Closed && to != SorteoStatus::Closed {
        let reopened = db::sorteos::mark_tickets_closed(&mut tx, id, false).await?;
        details["ticketsReopened"] = json!(reopened);
    }
    details["action"] = json!(action.as_str());
    details["from"] = json!(from);
    details["to"] = json!(to);
    activity::record(
        &mut tx,
        actor,
        row.banca_id,
        log_action,
        "SORTEO",
        id,
        details,
    )
    .await?;
    let out = view(&mut tx, actor, id).await?;
    tx.commit().await?;
    Ok(out)
}

/// Soft-deletes a sorteo: CLOSED and inactive, who and why recorded, and its non-deleted
/// tickets soft-deleted with it (domain-money §1.3; their status, jugadas and counters stay,
/// so a restore brings them back). Deleting a deleted sorteo changes nothing.
pub async fn delete(
    pool: &PgPool,
    actor: &Actor,
    id: Uuid,
    reason: Option<String>,
) -> Result<SorteoView, SorteoError> {
    let mut tx = pool.begin().await?;
    let row = lock_writable(&mut tx, actor, id).await?;
    if row.deleted_at.is_none() {
        let to = transition(row.status, Action::Delete)?;
        let by = actor.user_id.to_string();
        db::sorteos::soft_delete(&mut tx, id, &by, reason.as_deref()).await?;
        let tickets =
            db::sorteos::cascade_delete_tickets(&mut tx, id, &by, reason.as_deref()).await?;
        if row.winning_number.is_some() {
            // Its money leaves the statements of its day.
            db::statements::enqueue_sorteo(&mut tx, id, "SORTEO_DELETE").await?;
            db::rollups::rebuild_sorteo(&mut tx, id).await?;
        }
        activity::record(
            &mut tx,
            actor,
            row.banca_id,
            "SOFT_DELETE",
            "SORTEO",
            id,
            json!({
                "reason": reason,
                "from": row.status,
                "to": to,
                "ticketsDeleted": tickets,
            }),
        )
        .await?;
    }
    let out = view(&mut tx, actor, id).await?;
    tx.commit().await?;
    Ok(out)
}

/// Restores a sorteo. A deleted one is undeleted (its lotería must not be deleted) with the
/// tickets its delete took: a CLOSED one without a result comes back OPEN, anything else keeps
/// its status (a lotería cascade kept it). A CLOSED one that is not deleted reopens (OPEN)
/// unless it carries a result; other states are refused. Reopened, its tickets are no longer
/// marked `isSorteoClosed`.
pub async fn restore(
    pool: &PgPool,
    actor: &Actor,
    id: Uuid,
    reason: Option<String>,
) -> Result<SorteoView, SorteoError> {
    let mut tx = pool.begin().await?;
    let row = lock_writable(&mut tx, actor, id).await?;
    let from = row.status;
    let drawn = row.winning_number.is_some();
    let mut tickets_restored = 0;
    let to = if row.deleted_at.is_some() {
        let loteria = db::loterias::find_for_share(&mut tx, row.loteria_id)
            .await?
            .ok_or(SorteoError::LoteriaNotFound)?;
        if loteria.deleted_at.is_some() {
            return Err(SorteoError::LoteriaInactive);
        }
        let to = if from == SorteoStatus::Closed && !drawn {
            SorteoStatus::Open
        } else {
            from
        };
        db::sorteos::undelete(&mut tx, id, to).await?;
        tickets_restored = db::sorteos::cascade_restore_tickets(&mut tx, id).await?;
        if drawn {
            // Its money comes back into the statements of its day.
            db::statements::enqueue_sorteo(&mut tx, id, "SORTEO_RESTORE").await?;
            db::rollups::rebuild_sorteo(&mut tx, id).await?;
        }
        to
    } else {
        let to = transition(from, Action::Restore)?;
        if drawn {
            return Err(SorteoError::HasResult);
        }
        db::sorteos::set_state(&mut tx, id, to, row.is_active).await?;
        to
    };
    let reopened = if from == SorteoStatus::Closed && to != SorteoStatus::Closed {
        db::sorteos::mark_tickets_closed(&mut tx, id, false).await?
    } else {
        0
    };
    activity::record(
        &mut tx,
        actor,
        row.banca_id,
        "RESTORE",
        "SORTEO",
        id,
        json!({
            "reason": reason,
            "from": from,
            "to": to,
            "undeleted": row.deleted_at.is_some(),
            "ticketsRestored": tickets_restored,
            "ticketsReopened": reopened,
        }),
    )
    .await?;
    let out = view(&mut tx, actor, id).await?;
    tx.commit().await?;
    Ok(out)
}

/// Filters of `GET /sorteos` (tenant scope aside, which the caller's role decides).
#[derive(Debug, Clone, Default)]
pub struct SorteoQuery {
    pub loteria_id: Option<Uuid>,
    pub status: Option<SorteoStatus>,
    pub search: Option<String>,
    pub is_active: Option<bool>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Leave `ticket_count` at 0 (`groupBy` reads only ids and instants).
    pub without_ticket_counts: bool,
}

/// Sorteos the caller may see (see `loterias::list_scope`), deleted and inactive included
/// unless filtered, latest draw first.
pub async fn list(
    pool: &PgPool,
    actor: &Actor,
    q: SorteoQuery,
    limit: i64,
    offset: i64,
) -> Result<(Vec<SorteoView>, i64), SorteoError> {
    let (bancas, include_global) = list_scope(actor);
    // A VENDEDOR sees the draws of the loterías it may sell: those with an active NUMERO
    // multiplier inside a `multiplierRange` of its USER commission policy (no policy, nothing).
    let loteria_ids = if actor.role == Role::Vendedor {
        let allowed = crate::services::multipliers::allowed_multipliers_batch(
            pool,
            actor,
            actor.user_id,
            Some(crate::domain::multipliers::BetType::Numero),
            true,
        )
        .await
        .map_err(|e| match e {
            crate::services::multipliers::MultiplierError::Database(d) => SorteoError::from(d),
            _ => SorteoError::NotFound,
        })?;
        let mut ids: Vec<Uuid> = allowed.multipliers.iter().map(|m| m.loteria_id).collect();
        ids.sort();
        ids.dedup();
        Some(ids)
    } else {
        None
    };
    let filter = SorteoFilter {
        bancas,
        include_global,
        loteria_id: q.loteria_id,
        status: q.status,
        search: q.search,
        is_active: q.is_active,
        loteria_ids,
        from: q.from,
        to: q.to,
    };
    let mut conn = pool.acquire().await?;
    let (mut rows, total) = db::sorteos::list(&mut conn, &filter, limit, offset).await?;
    if !q.without_ticket_counts {
        with_ticket_counts(&mut conn, actor, &mut rows).await?;
    }
    Ok((rows, total))
}

/// One sorteo within the caller's read scope, whatever its state.
pub async fn get(pool: &PgPool, actor: &Actor, id: Uuid) -> Result<SorteoView, SorteoError> {
    let mut conn = pool.acquire().await?;
    let v = db::sorteos::find_view(&mut conn, id)
        .await?
        .filter(|s| can_read(actor, s.row.banca_id))
        .ok_or(SorteoError::NotFound)?;
    let mut views = [v];
    with_ticket_counts(&mut conn, actor, &mut views).await?;
    let [v] = views;
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use SorteoStatus::{Closed, Evaluated, Open, Scheduled};

    /// The expected matrix, written out cell by cell: `None` is refused.
    fn expected(action: Action, from: SorteoStatus) -> Option<SorteoStatus> {
        let row: [Option<SorteoStatus>; 4] = match action {
            Action::Open => [Some(Open), None, None, None],
            Action::Close => [None, Some(Closed), Some(Closed), None],
            Action::ForceOpen => [Some(Open), None, None, Some(Open)],
            Action::ActivateAndOpen => [Some(Open), None, None, Some(Open)],
            Action::SetActive => [Some(Scheduled), Some(Open), Some(Evaluated), Some(Closed)],
            Action::ResetToScheduled => [Some(Scheduled), Some(Scheduled), None, Some(Scheduled)],
            Action::Delete => [Some(Closed), Some(Closed), Some(Closed), Some(Closed)],
            Action::Restore => [None, None, None, Some(Open)],
            Action::Evaluate => [None, Some(Evaluated), None, None],
            Action::RevertEvaluation => [None, None, Some(Open), None],
        };
        let i = SorteoStatus::ALL.iter().position(|s| *s == from).unwrap();
        row[i]
    }

    #[test]
    fn every_state_and_action_pair_follows_the_matrix() {
        let mut checked = 0;
        for action in Action::ALL {
            for from in SorteoStatus::ALL {
                let got = transition(from, action);
                match expected(action, from) {
                    Some(to) => assert_eq!(got, Ok(to), "{action:?} from {from:?}"),
                    None => assert_eq!(
                        got,
                        Err(InvalidTransition { from, action }),
                        "{action:?} from {from:?}"
                    ),
                }
                checked += 1;
            }
        }
        assert_eq!(checked, 40);
    }

    #[test]
    fn decision_9_reset_refuses_evaluated() {
        assert!(transition(Evaluated, Action::ResetToScheduled).is_err());
        let e: SorteoError = transition(Evaluated, Action::ResetToScheduled)
            .unwrap_err()
            .into();
        assert!(matches!(
            e,
            SorteoError::InvalidState {
                status: Evaluated,
                deleted: false,
                ..
            }
        ));
    }
}
