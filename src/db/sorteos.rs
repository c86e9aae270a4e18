//! Queries over sorteos: the status enum, the locked row a transition works on, the view the
//! API shows (with its lotería, extra multiplier and exclusion flag), the ticket counts of a
//! page of sorteos, inserts (single and the idempotent bulk seed), state writes and what they do
//! to the sorteo's tickets (`is_sorteo_closed`, the delete cascade), soft delete/restore (single
//! and by lotería cascade) and the scoped list.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::db::bancas::like_contains;
use crate::db::{query, query_as, query_scalar};

/// `sorteo_status`: `SCHEDULED → OPEN (sales) → EVALUATED (result) → CLOSED (locked)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type)]
#[sqlx(type_name = "sorteo_status", rename_all = "UPPERCASE")]
#[serde(rename_all = "UPPERCASE")]
pub enum SorteoStatus {
    Scheduled,
    Open,
    Evaluated,
    Closed,
}

impl SorteoStatus {
    /// Every status, in business order.
    pub const ALL: [SorteoStatus; 4] = [
        SorteoStatus::Scheduled,
        SorteoStatus::Open,
        SorteoStatus::Evaluated,
        SorteoStatus::Closed,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            SorteoStatus::Scheduled => "SCHEDULED",
            SorteoStatus::Open => "OPEN",
            SorteoStatus::Evaluated => "EVALUATED",
            SorteoStatus::Closed => "CLOSED",
        }
    }
}

/// The unique index of one live sorteo per lotería and instant.
pub const INSTANT_KEY: &str = "sorteos_loteria_instant_key";

/// A sorteo's own columns.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SorteoRow {
    pub id: Uuid,
    pub loteria_id: Uuid,
    pub banca_id: Option<Uuid>,
    pub name: String,
    pub scheduled_at: DateTime<Utc>,
    pub status: SorteoStatus,
    pub is_active: bool,
    pub digits: i16,
    pub winning_number: Option<String>,
    pub extra_multiplier_id: Option<Uuid>,
    pub extra_multiplier_x: Option<Decimal>,
    pub extra_outcome_code: Option<String>,
    pub has_winner: bool,
    pub deleted_at: Option<DateTime<Utc>>,
    pub deleted_by: Option<String>,
    pub deleted_reason: Option<String>,
    pub deleted_by_cascade: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A sorteo as the API shows it: its columns plus its lotería, extra multiplier and whether
/// exclusion lists exist for it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SorteoView {
    #[sqlx(flatten)]
    pub row: SorteoRow,
    pub loteria_name: String,
    pub loteria_rules: Value,
    pub extra_multiplier_name: Option<String>,
    pub extra_multiplier_value_x: Option<Decimal>,
    pub has_exclusions: bool,
    /// The caller's live tickets of the sorteo (see [`ticket_counts`]); filled by the service.
    #[sqlx(skip)]
    pub ticket_count: i64,
}

const ROW_COLUMNS: &str = "s.id, s.loteria_id, s.banca_id, s.name, s.scheduled_at, s.status,
    s.is_active, s.digits, s.winning_number, s.extra_multiplier_id, s.extra_multiplier_x,
    s.extra_outcome_code, s.has_winner, s.deleted_at, s.deleted_by, s.deleted_reason,
    s.deleted_by_cascade, s.created_at, s.updated_at";

fn view_select() -> String {
    format!(
        "SELECT {ROW_COLUMNS}, l.name AS loteria_name, l.rules_json AS loteria_rules,
             m.name AS extra_multiplier_name, m.value_x AS extra_multiplier_value_x,
             EXISTS (SELECT 1 FROM sorteo_lista_exclusions e WHERE e.sorteo_id = s.id)
                 AS has_exclusions
         FROM sorteos s
         JOIN loterias l ON l.id = s.loteria_id
         LEFT JOIN loteria_multipliers m ON m.id = s.extra_multiplier_id"
    )
}

/// The view of one sorteo, whatever its state.
pub async fn find_view(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<SorteoView>, sqlx::Error> {
    query_as(&format!("{} WHERE s.id = $1", view_select()))
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// The sorteo row, locked until the transaction ends: concurrent transitions of one sorteo
/// run one after the other.
pub async fn lock(conn: &mut PgConnection, id: Uuid) -> Result<Option<SorteoRow>, sqlx::Error> {
    query_as(&format!(
        "SELECT {ROW_COLUMNS} FROM sorteos s WHERE s.id = $1 FOR UPDATE"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Whose tickets a count includes: `None` is no filter on that column.
#[derive(Debug, Clone, Default)]
pub struct TicketScope {
    pub bancas: Option<Vec<Uuid>>,
    pub ventana_id: Option<Uuid>,
    pub vendedor_id: Option<Uuid>,
}

/// The live tickets (neither CANCELLED nor EXCLUDED, not deleted) of each of `sorteo_ids`
/// within `scope`, in one query. Sorteos without any are absent.
pub async fn ticket_counts(
    conn: &mut PgConnection,
    sorteo_ids: &[Uuid],
    scope: &TicketScope,
) -> Result<HashMap<Uuid, i64>, sqlx::Error> {
    if sorteo_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(Uuid, i64)> = query_as(
        "SELECT sorteo_id, count(*) FROM tickets
         WHERE sorteo_id = ANY($1) AND deleted_at IS NULL
           AND status NOT IN ('CANCELLED', 'EXCLUDED')
           AND ($2::uuid[] IS NULL OR banca_id = ANY($2))
           AND ($3::uuid IS NULL OR ventana_id = $3)
           AND ($4::uuid IS NULL OR vendedor_id = $4)
         GROUP BY sorteo_id",
    )
    .bind(sorteo_ids)
    .bind(&scope.bancas)
    .bind(scope.ventana_id)
    .bind(scope.vendedor_id)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().collect())
}

/// Sets `is_sorteo_closed` on every non-deleted ticket of the sorteo (`closed`: on close;
/// `false`: when it reopens). Returns how many tickets changed. Call it holding the sorteo row
/// lock (sorteo first, then tickets).
pub async fn mark_tickets_closed(
    conn: &mut PgConnection,
    id: Uuid,
    closed: bool,
) -> Result<u64, sqlx::Error> {
    Ok(query(
        "UPDATE tickets SET is_sorteo_closed = $2, updated_at = now()
         WHERE sorteo_id = $1 AND deleted_at IS NULL AND is_sorteo_closed <> $2",
    )
    .bind(id)
    .bind(closed)
    .execute(conn)
    .await?
    .rows_affected())
}

/// The `deleted_reason` prefix of the tickets a sorteo delete took with it (the existing
/// system's text); a restore brings back exactly those.
pub const TICKET_CASCADE_REASON: &str = "Eliminado por cascada del sorteo";

/// Soft-deletes the non-deleted tickets of a sorteo being deleted (`deleted_at`, who, and the
/// reason `"Eliminado por cascada del sorteo: <reason|sin motivo>"`); their status, jugadas and
/// counters are kept, so a restore brings them back as they were. Returns how many.
pub async fn cascade_delete_tickets(
    conn: &mut PgConnection,
    id: Uuid,
    deleted_by: &str,
    reason: Option<&str>,
) -> Result<u64, sqlx::Error> {
    Ok(query(
        "UPDATE tickets SET deleted_at = now(), deleted_by = $2,
             deleted_reason = $3 || ': ' || COALESCE($4, 'sin motivo'), updated_at = now()
         WHERE sorteo_id = $1 AND deleted_at IS NULL",
    )
    .bind(id)
    .bind(deleted_by)
    .bind(TICKET_CASCADE_REASON)
    .bind(reason)
    .execute(conn)
    .await?
    .rows_affected())
}

/// Undeletes the tickets the delete of the sorteo took with it (not those deleted otherwise,
/// such as cancelled tickets). Returns how many.
pub async fn cascade_restore_tickets(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<u64, sqlx::Error> {
    Ok(query(
        "UPDATE tickets SET deleted_at = NULL, deleted_by = NULL, deleted_reason = NULL,
             updated_at = now()
         WHERE sorteo_id = $1 AND deleted_at IS NOT NULL AND status <> 'CANCELLED'
           AND starts_with(deleted_reason, $2 || ':')",
    )
    .bind(id)
    .bind(TICKET_CASCADE_REASON)
    .execute(conn)
    .await?
    .rows_affected())
}

/// The columns a create or an update writes.
#[derive(Debug, Clone, PartialEq)]
pub struct SorteoFields {
    pub loteria_id: Uuid,
    pub banca_id: Option<Uuid>,
    pub name: String,
    pub scheduled_at: DateTime<Utc>,
    pub digits: i16,
    pub is_active: bool,
}

/// Inserts a SCHEDULED sorteo; returns its id.
pub async fn insert(conn: &mut PgConnection, f: &SorteoFields) -> Result<Uuid, sqlx::Error> {
    query_scalar(
        "INSERT INTO sorteos (loteria_id, banca_id, name, scheduled_at, digits, is_active)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(f.loteria_id)
    .bind(f.banca_id)
    .bind(&f.name)
    .bind(f.scheduled_at)
    .bind(f.digits)
    .bind(f.is_active)
    .fetch_one(conn)
    .await
}

/// Writes the editable columns.
pub async fn update_fields(
    conn: &mut PgConnection,
    id: Uuid,
    f: &SorteoFields,
) -> Result<(), sqlx::Error> {
    query(
        "UPDATE sorteos SET loteria_id = $2, banca_id = $3, name = $4, scheduled_at = $5,
             digits = $6, is_active = $7, updated_at = now()
         WHERE id = $1",
    )
    .bind(id)
    .bind(f.loteria_id)
    .bind(f.banca_id)
    .bind(&f.name)
    .bind(f.scheduled_at)
    .bind(f.digits)
    .bind(f.is_active)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Sets status and active flag.
pub async fn set_state(
    conn: &mut PgConnection,
    id: Uuid,
    status: SorteoStatus,
    is_active: bool,
) -> Result<(), sqlx::Error> {
    query("UPDATE sorteos SET status = $2, is_active = $3, updated_at = now() WHERE id = $1")
        .bind(id)
        .bind(status)
        .bind(is_active)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Soft delete of one sorteo: CLOSED, inactive, who and why recorded, no cascade mark.
pub async fn soft_delete(
    conn: &mut PgConnection,
    id: Uuid,
    deleted_by: &str,
    reason: Option<&str>,
) -> Result<(), sqlx::Error> {
    query(
        "UPDATE sorteos SET status = 'CLOSED', is_active = false, deleted_at = now(),
             deleted_by = $2, deleted_reason = $3, deleted_by_cascade = false,
             deleted_by_cascade_from = NULL, deleted_by_cascade_id = NULL, updated_at = now()
         WHERE id = $1",
    )
    .bind(id)
    .bind(deleted_by)
    .bind(reason)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Clears a soft delete (and its cascade mark), active again, with `status`.
pub async fn undelete(
    conn: &mut PgConnection,
    id: Uuid,
    status: SorteoStatus,
) -> Result<(), sqlx::Error> {
    query(
        "UPDATE sorteos SET status = $2, is_active = true, deleted_at = NULL, deleted_by = NULL,
             deleted_reason = NULL, deleted_by_cascade = false, deleted_by_cascade_from = NULL,
             deleted_by_cascade_id = NULL, updated_at = now()
         WHERE id = $1",
    )
    .bind(id)
    .bind(status)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Soft-deletes the live SCHEDULED and OPEN sorteos of a lotería that is being deleted,
/// marking them as taken by the cascade; their status is kept so a restore brings them back
/// as they were. Drawn sorteos (EVALUATED, CLOSED) stay as history. Returns how many.
pub async fn cascade_delete(
    conn: &mut PgConnection,
    loteria_id: Uuid,
    deleted_by: &str,
) -> Result<u64, sqlx::Error> {
    // Each sorteo is locked `FOR UPDATE` first (in id order), so sales in flight finish
    // before and later ones see the deletion; their tickets go with them, as with a single
    // sorteo's deletion.
    Ok(query_scalar::<i64>(
        "WITH locked AS (
             SELECT id FROM sorteos
             WHERE loteria_id = $1 AND deleted_at IS NULL AND status IN ('SCHEDULED', 'OPEN')
             ORDER BY id FOR UPDATE),
         s AS (
             UPDATE sorteos SET is_active = false, deleted_at = now(), deleted_by = $2,
                 deleted_reason = 'Eliminado por cascada de la lotería', deleted_by_cascade = true,
                 deleted_by_cascade_from = 'loteria', deleted_by_cascade_id = $1, updated_at = now()
             WHERE id IN (SELECT id FROM locked)
             RETURNING id),
         t AS (
             UPDATE tickets SET deleted_at = now(), deleted_by = $2,
                 deleted_reason = $3 || ': Eliminado por cascada de la lotería', updated_at = now()
             WHERE sorteo_id IN (SELECT id FROM s) AND deleted_at IS NULL
             RETURNING 1)
         SELECT (SELECT count(*) FROM s) + 0 * (SELECT count(*) FROM t)",
    )
    .bind(loteria_id)
    .bind(deleted_by)
    .bind(TICKET_CASCADE_REASON)
    .fetch_one(conn)
    .await? as u64)
}

/// Restores the sorteos the deletion of lotería `loteria_id` took with it. Returns how many.
pub async fn cascade_restore(
    conn: &mut PgConnection,
    loteria_id: Uuid,
) -> Result<u64, sqlx::Error> {
    Ok(query_scalar::<i64>(
        "WITH s AS (
             UPDATE sorteos SET is_active = true, deleted_at = NULL, deleted_by = NULL,
                 deleted_reason = NULL, deleted_by_cascade = false, deleted_by_cascade_from = NULL,
                 deleted_by_cascade_id = NULL, updated_at = now()
             WHERE loteria_id = $1 AND deleted_at IS NOT NULL AND deleted_by_cascade
               AND deleted_by_cascade_from = 'loteria' AND deleted_by_cascade_id = $1
             RETURNING id),
         t AS (
             UPDATE tickets SET deleted_at = NULL, deleted_by = NULL, deleted_reason = NULL,
                 updated_at = now()
             WHERE sorteo_id IN (SELECT id FROM s) AND deleted_at IS NOT NULL
               AND status <> 'CANCELLED' AND starts_with(deleted_reason, $2 || ':')
             RETURNING 1)
         SELECT (SELECT count(*) FROM s) + 0 * (SELECT count(*) FROM t)",
    )
    .bind(loteria_id)
    .bind(TICKET_CASCADE_REASON)
    .fetch_one(conn)
    .await? as u64)
}

/// Inserts the SCHEDULED sorteos `(instant, name)` of a lotería that do not exist yet (a
/// sorteo at that instant, live or deleted, counts as existing: a deleted draw is not brought
/// back). Races with a concurrent seed are settled by the unique index (`ON CONFLICT DO
/// NOTHING`). Returns the instants actually created.
pub async fn seed(
    conn: &mut PgConnection,
    loteria_id: Uuid,
    banca_id: Option<Uuid>,
    digits: i16,
    items: &[(DateTime<Utc>, String)],
) -> Result<Vec<DateTime<Utc>>, sqlx::Error> {
    let (at, names): (Vec<DateTime<Utc>>, Vec<String>) = items.iter().cloned().unzip();
    query_scalar(
        "INSERT INTO sorteos (loteria_id, banca_id, name, scheduled_at, digits)
         SELECT $1, $2, t.name, t.at, $3
         FROM unnest($4::timestamptz[], $5::text[]) AS t(at, name)
         WHERE NOT EXISTS (
             SELECT 1 FROM sorteos s WHERE s.loteria_id = $1 AND s.scheduled_at = t.at)
         ORDER BY t.at
         ON CONFLICT (loteria_id, scheduled_at) WHERE deleted_at IS NULL DO NOTHING
         RETURNING scheduled_at",
    )
    .bind(loteria_id)
    .bind(banca_id)
    .bind(digits)
    .bind(&at)
    .bind(&names)
    .fetch_all(conn)
    .await
}

/// Which of `instants` already have a sorteo (live or deleted) of the lotería.
pub async fn existing_instants(
    conn: &mut PgConnection,
    loteria_id: Uuid,
    instants: &[DateTime<Utc>],
) -> Result<Vec<DateTime<Utc>>, sqlx::Error> {
    query_scalar(
        "SELECT DISTINCT scheduled_at FROM sorteos
         WHERE loteria_id = $1 AND scheduled_at = ANY($2)",
    )
    .bind(loteria_id)
    .bind(instants)
    .fetch_all(conn)
    .await
}

/// Filters of the sorteo list.
#[derive(Debug, Clone, Default)]
pub struct SorteoFilter {
    /// Bancas whose sorteos are listed; `None` means every banca.
    pub bancas: Option<Vec<Uuid>>,
    /// Also list global sorteos (`banca_id IS NULL`) when `bancas` is set.
    pub include_global: bool,
    pub loteria_id: Option<Uuid>,
    pub status: Option<SorteoStatus>,
    /// Case-insensitive substring of the sorteo name, winning number or lotería name.
    pub search: Option<String>,
    pub is_active: Option<bool>,
    /// Only sorteos of these loterías (a VENDEDOR's sellable loterías); `None`: any.
    pub loteria_ids: Option<Vec<Uuid>>,
    /// `scheduled_at >= from`.
    pub from: Option<DateTime<Utc>>,
    /// `scheduled_at < to`.
    pub to: Option<DateTime<Utc>>,
}

const LIST_WHERE: &str = "WHERE ($1::uuid[] IS NULL OR s.banca_id = ANY($1)
          OR ($2 AND s.banca_id IS NULL))
      AND ($3::uuid IS NULL OR s.loteria_id = $3)
      AND ($4::sorteo_status IS NULL OR (s.status = $4 AND s.deleted_at IS NULL))
      AND ($5::text IS NULL OR s.name ILIKE $5 OR s.winning_number ILIKE $5 OR l.name ILIKE $5)
      AND ($6::boolean IS NULL OR s.is_active = $6)
      AND ($7::timestamptz IS NULL OR s.scheduled_at >= $7)
      AND ($8::timestamptz IS NULL OR s.scheduled_at < $8)
      AND ($9::uuid[] IS NULL OR s.loteria_id = ANY($9))";

/// One page of sorteos, latest draw first, and the total count.
pub async fn list(
    conn: &mut PgConnection,
    f: &SorteoFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<SorteoView>, i64), sqlx::Error> {
    let pattern = f.search.as_deref().map(like_contains);
    let total: i64 = query_scalar(&format!(
        "SELECT count(*) FROM sorteos s JOIN loterias l ON l.id = s.loteria_id {LIST_WHERE}"
    ))
    .bind(&f.bancas)
    .bind(f.include_global)
    .bind(f.loteria_id)
    .bind(f.status)
    .bind(&pattern)
    .bind(f.is_active)
    .bind(f.from)
    .bind(f.to)
    .bind(&f.loteria_ids)
    .fetch_one(&mut *conn)
    .await?;
    let rows = query_as(&format!(
        "{} {LIST_WHERE} ORDER BY s.scheduled_at DESC, s.id DESC LIMIT $10 OFFSET $11",
        view_select()
    ))
    .bind(&f.bancas)
    .bind(f.include_global)
    .bind(f.loteria_id)
    .bind(f.status)
    .bind(&pattern)
    .bind(f.is_active)
    .bind(f.from)
    .bind(f.to)
    .bind(&f.loteria_ids)
    .bind(limit)
    .bind(offset)
    .fetch_all(conn)
    .await?;
    Ok((rows, total))
}
