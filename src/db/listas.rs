//! Queries over exclusion lists (`sorteo_lista_exclusions`), what an exclusion does to the
//! tickets and jugadas it covers, and the facts about a sorteo that exclusions, rules and
//! cutoff diagnostics check.
//!
//! Which jugada an entry covers (the same test the sale path makes, `is_excluded`): a jugada of
//! a ticket of the entry's sorteo and banca whose ventana, vendedor and number are each the
//! entry's when the entry names one; an entry with a multiplier covers the NUMERO jugadas of
//! that multiplier and the REVENTADO jugadas paired in the same ticket (a NUMERO jugada of that
//! multiplier on the same number).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::db::{query, query_as, query_scalar};

/// A sorteo with what exclusions, rules and diagnostics read of it and its lotería.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SorteoRef {
    pub id: Uuid,
    pub loteria_id: Uuid,
    /// `None`: a global sorteo.
    pub banca_id: Option<Uuid>,
    pub name: String,
    pub scheduled_at: DateTime<Utc>,
    /// `SCHEDULED`, `OPEN`, `EVALUATED` or `CLOSED`.
    pub status: String,
    pub digits: i16,
    pub deleted: bool,
    pub loteria_name: String,
    /// The lotería's `rulesJson.closingTimeBeforeDraw` when it is a number.
    pub loteria_closing_minutes: Option<Decimal>,
}

const SORTEO_REF: &str = "SELECT s.id, s.loteria_id, s.banca_id, s.name, s.scheduled_at,
        s.status::text AS status, s.digits, s.deleted_at IS NOT NULL AS deleted,
        l.name AS loteria_name,
        CASE WHEN jsonb_typeof(l.rules_json->'closingTimeBeforeDraw') = 'number'
             THEN (l.rules_json->>'closingTimeBeforeDraw')::numeric END
            AS loteria_closing_minutes
    FROM sorteos s JOIN loterias l ON l.id = s.loteria_id
    WHERE s.id = $1";

pub async fn sorteo_ref(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<SorteoRef>, sqlx::Error> {
    query_as(SORTEO_REF).bind(id).fetch_optional(conn).await
}

/// As `sorteo_ref`, holding the row lock (`FOR UPDATE`) until the transaction ends. Sales,
/// cancellations and restores hold the sorteo `FOR KEY SHARE`, so an exclusion change waits for
/// the ones in flight and the next ones wait for it and then see it: no ticket slips past an
/// exclusion, and the counters it releases or adds back are exact.
pub async fn sorteo_ref_for_update(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<SorteoRef>, sqlx::Error> {
    query_as(&format!("{SORTEO_REF} FOR UPDATE OF s"))
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// What an exclusion excludes: the unique key of `sorteo_lista_exclusions`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExclusionKey {
    pub sorteo_id: Uuid,
    pub ventana_id: Option<Uuid>,
    pub vendedor_id: Option<Uuid>,
    pub multiplier_id: Option<Uuid>,
    pub number: Option<String>,
}

/// An exclusion with the names of what it points at.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ExclusionRow {
    pub id: Uuid,
    pub sorteo_id: Uuid,
    pub banca_id: Option<Uuid>,
    pub ventana_id: Option<Uuid>,
    pub vendedor_id: Option<Uuid>,
    pub multiplier_id: Option<Uuid>,
    pub number: Option<String>,
    pub excluded_at: DateTime<Utc>,
    pub excluded_by: Uuid,
    pub reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub sorteo_name: String,
    pub loteria_id: Uuid,
    pub loteria_name: String,
    pub ventana_name: Option<String>,
    pub ventana_code: Option<String>,
    pub vendedor_name: Option<String>,
    pub vendedor_code: Option<String>,
    pub multiplier_name: Option<String>,
    pub multiplier_value_x: Option<Decimal>,
    pub excluded_by_name: Option<String>,
    /// The excluded jugadas the entry covers (of tickets not cancelled), and their amount.
    pub total_jugadas: i64,
    pub total_amount: Decimal,
}

const SELECT: &str = "SELECT e.id, e.sorteo_id, e.banca_id, e.ventana_id, e.vendedor_id,
        e.multiplier_id, e.number, e.excluded_at, e.excluded_by, e.reason, e.created_at,
        e.updated_at, s.name AS sorteo_name, s.loteria_id, l.name AS loteria_name,
        v.name AS ventana_name, v.code AS ventana_code, u.name AS vendedor_name,
        u.code AS vendedor_code, m.name AS multiplier_name, m.value_x AS multiplier_value_x,
        x.name AS excluded_by_name, tot.total_jugadas, tot.total_amount
    FROM sorteo_lista_exclusions e
    JOIN sorteos s ON s.id = e.sorteo_id
    JOIN loterias l ON l.id = s.loteria_id
    LEFT JOIN ventanas v ON v.id = e.ventana_id
    LEFT JOIN users u ON u.id = e.vendedor_id
    LEFT JOIN loteria_multipliers m ON m.id = e.multiplier_id
    LEFT JOIN users x ON x.id = e.excluded_by
    CROSS JOIN LATERAL (
        SELECT count(j.id) AS total_jugadas, COALESCE(sum(j.amount), 0) AS total_amount
        FROM tickets t JOIN jugadas j ON j.ticket_id = t.id
        WHERE t.sorteo_id = e.sorteo_id AND t.banca_id = e.banca_id
          AND t.status <> 'CANCELLED'
          AND (e.ventana_id IS NULL OR t.ventana_id = e.ventana_id)
          AND (e.vendedor_id IS NULL OR t.vendedor_id = e.vendedor_id)
          AND j.is_excluded AND j.deleted_at IS NULL
          AND (e.number IS NULL OR j.number = e.number)
          AND (e.multiplier_id IS NULL OR j.multiplier_id = e.multiplier_id
               OR (j.type = 'REVENTADO' AND EXISTS (
                   SELECT 1 FROM jugadas p
                   WHERE p.ticket_id = j.ticket_id AND p.type = 'NUMERO'
                     AND p.number = j.number AND p.multiplier_id = e.multiplier_id)))
    ) tot";

const KEY_MATCH: &str = "e.sorteo_id = $1 AND e.ventana_id IS NOT DISTINCT FROM $2
    AND e.vendedor_id IS NOT DISTINCT FROM $3 AND e.multiplier_id IS NOT DISTINCT FROM $4
    AND e.number IS NOT DISTINCT FROM $5";

/// Inserts the exclusion unless one with the same key exists; returns the new id, or `None`
/// when it already existed (also when a concurrent twin won).
pub async fn insert_if_absent(
    conn: &mut PgConnection,
    key: &ExclusionKey,
    banca_id: Uuid,
    excluded_by: Uuid,
    reason: Option<&str>,
) -> Result<Option<Uuid>, sqlx::Error> {
    query_scalar(
        "INSERT INTO sorteo_lista_exclusions
             (sorteo_id, ventana_id, vendedor_id, multiplier_id, number, banca_id, excluded_by,
              reason)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT ON CONSTRAINT sorteo_lista_exclusions_key DO NOTHING
         RETURNING id",
    )
    .bind(key.sorteo_id)
    .bind(key.ventana_id)
    .bind(key.vendedor_id)
    .bind(key.multiplier_id)
    .bind(&key.number)
    .bind(banca_id)
    .bind(excluded_by)
    .bind(reason)
    .fetch_optional(conn)
    .await
}

/// The exclusion with `key`, locked for the rest of the transaction.
pub async fn find_by_key_for_update(
    conn: &mut PgConnection,
    key: &ExclusionKey,
) -> Result<Option<ExclusionRow>, sqlx::Error> {
    query_as(&format!("{SELECT} WHERE {KEY_MATCH} FOR UPDATE OF e"))
        .bind(key.sorteo_id)
        .bind(key.ventana_id)
        .bind(key.vendedor_id)
        .bind(key.multiplier_id)
        .bind(&key.number)
        .fetch_optional(conn)
        .await
}

pub async fn find(conn: &mut PgConnection, id: Uuid) -> Result<Option<ExclusionRow>, sqlx::Error> {
    query_as(&format!("{SELECT} WHERE e.id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await
}

pub async fn set_reason(
    conn: &mut PgConnection,
    id: Uuid,
    reason: Option<&str>,
) -> Result<(), sqlx::Error> {
    query("UPDATE sorteo_lista_exclusions SET reason = $2, updated_at = now() WHERE id = $1")
        .bind(id)
        .bind(reason)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn delete(conn: &mut PgConnection, id: Uuid) -> Result<(), sqlx::Error> {
    query("DELETE FROM sorteo_lista_exclusions WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Who an exclusion list is narrowed to, besides its bancas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// A listero: entries of its ventana (its vendedores included) and banca-wide entries.
    Ventana { ventana_id: Option<Uuid> },
    /// A seller: its own entries, its ventana's whole-list entries and banca-wide entries.
    Vendedor {
        user_id: Uuid,
        ventana_id: Option<Uuid>,
    },
}

/// Filters of the exclusion lists. `None` means no filter.
#[derive(Debug, Clone, Default)]
pub struct ExclusionFilter {
    pub bancas: Option<Vec<Uuid>>,
    pub audience: Option<Audience>,
    pub sorteo_id: Option<Uuid>,
    pub ventana_id: Option<Uuid>,
    pub vendedor_id: Option<Uuid>,
    pub multiplier_id: Option<Uuid>,
    pub loteria_id: Option<Uuid>,
    /// `excluded_at ≥ from`.
    pub from: Option<DateTime<Utc>>,
    /// `excluded_at < to`.
    pub to: Option<DateTime<Utc>>,
}

/// Every matching exclusion, most recent first.
pub async fn list(
    conn: &mut PgConnection,
    f: &ExclusionFilter,
) -> Result<Vec<ExclusionRow>, sqlx::Error> {
    let (kind, a_ventana, a_user) = match f.audience {
        None => (None, None, None),
        Some(Audience::Ventana { ventana_id }) => (Some("VENTANA"), ventana_id, None),
        Some(Audience::Vendedor {
            user_id,
            ventana_id,
        }) => (Some("VENDEDOR"), ventana_id, Some(user_id)),
    };
    query_as(&format!(
        "{SELECT}
         WHERE ($1::uuid[] IS NULL OR e.banca_id = ANY($1))
           AND ($2::text IS NULL
                OR ($2 = 'VENTANA' AND (e.ventana_id = $3
                     OR (e.ventana_id IS NULL AND e.vendedor_id IS NULL)))
                OR ($2 = 'VENDEDOR' AND (e.vendedor_id = $4
                     OR (e.vendedor_id IS NULL AND (e.ventana_id IS NULL OR e.ventana_id = $3)))))
           AND ($5::uuid IS NULL OR e.sorteo_id = $5)
           AND ($6::uuid IS NULL OR e.ventana_id = $6)
           AND ($7::uuid IS NULL OR e.vendedor_id = $7)
           AND ($8::uuid IS NULL OR e.multiplier_id = $8)
           AND ($9::uuid IS NULL OR s.loteria_id = $9)
           AND ($10::timestamptz IS NULL OR e.excluded_at >= $10)
           AND ($11::timestamptz IS NULL OR e.excluded_at < $11)
         ORDER BY e.excluded_at DESC, e.id DESC"
    ))
    .bind(&f.bancas)
    .bind(kind)
    .bind(a_ventana)
    .bind(a_user)
    .bind(f.sorteo_id)
    .bind(f.ventana_id)
    .bind(f.vendedor_id)
    .bind(f.multiplier_id)
    .bind(f.loteria_id)
    .bind(f.from)
    .bind(f.to)
    .fetch_all(conn)
    .await
}

/// Whether a sale line of `vendedor_id` (of `ventana_id`) on `number` with `multiplier_id`
/// falls under an exclusion of the sorteo: an entry of the ventana's banca whose every target
/// (ventana, vendedor, multiplier, number) is absent or matches.
pub async fn is_excluded(
    conn: &mut PgConnection,
    sorteo_id: Uuid,
    ventana_id: Uuid,
    vendedor_id: Uuid,
    multiplier_id: Option<Uuid>,
    number: &str,
) -> Result<bool, sqlx::Error> {
    query_scalar(
        "SELECT EXISTS (
             SELECT 1 FROM sorteo_lista_exclusions e
             WHERE e.sorteo_id = $1
               AND e.banca_id = (SELECT banca_id FROM ventanas WHERE id = $2)
               AND (e.ventana_id IS NULL OR e.ventana_id = $2)
               AND (e.vendedor_id IS NULL OR e.vendedor_id = $3)
               AND (e.multiplier_id IS NULL OR e.multiplier_id = $4)
               AND (e.number IS NULL OR e.number = $5))",
    )
    .bind(sorteo_id)
    .bind(ventana_id)
    .bind(vendedor_id)
    .bind(multiplier_id)
    .bind(number)
    .fetch_one(conn)
    .await
}

/// A jugada an exclusion change took out of (or brought back into) the counters, with the
/// scopes its ticket counts in.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MovedJugada {
    pub ticket_id: Uuid,
    pub vendedor_id: Uuid,
    pub ventana_id: Uuid,
    pub banca_id: Uuid,
    /// `NUMERO` or `REVENTADO`.
    pub kind: String,
    pub number: String,
    pub amount: Decimal,
    pub multiplier_id: Option<Uuid>,
}

/// Locks (`FOR UPDATE`, in id order) the tickets of the sorteo an entry of `banca_id` with
/// `key` reaches, in one of `statuses`, that have a jugada the entry could change: a live one
/// (`excluded = false`) or an excluded one (`excluded = true`). Returns their ids. Call it with
/// the sorteo row locked (the lock order of every ticket writer: sorteo, tickets, counters).
pub async fn lock_tickets_for(
    conn: &mut PgConnection,
    key: &ExclusionKey,
    banca_id: Uuid,
    statuses: &[&str],
    excluded: bool,
) -> Result<Vec<Uuid>, sqlx::Error> {
    query_scalar(
        "SELECT t.id FROM tickets t
         WHERE t.sorteo_id = $1 AND t.banca_id = $2
           AND ($3::uuid IS NULL OR t.ventana_id = $3)
           AND ($4::uuid IS NULL OR t.vendedor_id = $4)
           AND t.status::text = ANY($5)
           AND EXISTS (
               SELECT 1 FROM jugadas j
               WHERE j.ticket_id = t.id AND j.deleted_at IS NULL
                 AND j.is_excluded = $6 AND (j.is_excluded OR j.is_active)
                 AND ($7::text IS NULL OR j.number = $7)
                 AND ($8::uuid IS NULL OR j.multiplier_id = $8 OR j.type = 'REVENTADO'))
         ORDER BY t.id
         FOR UPDATE OF t",
    )
    .bind(key.sorteo_id)
    .bind(banca_id)
    .bind(key.ventana_id)
    .bind(key.vendedor_id)
    .bind(statuses)
    .bind(excluded)
    .bind(&key.number)
    .bind(key.multiplier_id)
    .fetch_all(conn)
    .await
}

/// Excludes the live jugadas of the ACTIVE tickets `ticket_ids` (locked) that an entry with
/// `key` covers: `is_excluded`, inactive, `excluded_at/by/reason` set. Returns them (they
/// were counted; the caller releases them).
pub async fn exclude_jugadas(
    conn: &mut PgConnection,
    ticket_ids: &[Uuid],
    key: &ExclusionKey,
    by: Uuid,
    reason: Option<&str>,
) -> Result<Vec<MovedJugada>, sqlx::Error> {
    query_as(
        "UPDATE jugadas j SET is_excluded = true, is_active = false, excluded_at = now(),
                excluded_by = $4, excluded_reason = $5, updated_at = now()
         FROM tickets t
         WHERE t.id = j.ticket_id AND j.ticket_id = ANY($1) AND t.status = 'ACTIVE'
           AND j.is_active AND NOT j.is_excluded AND j.deleted_at IS NULL
           AND ($2::text IS NULL OR j.number = $2)
           AND ($3::uuid IS NULL OR j.multiplier_id = $3
                OR (j.type = 'REVENTADO' AND EXISTS (
                    SELECT 1 FROM jugadas p
                    WHERE p.ticket_id = j.ticket_id AND p.type = 'NUMERO'
                      AND p.number = j.number AND p.multiplier_id = $3)))
         RETURNING j.ticket_id, t.vendedor_id, t.ventana_id, t.banca_id, j.type::text AS kind,
                   j.number, j.amount, j.multiplier_id",
    )
    .bind(ticket_ids)
    .bind(&key.number)
    .bind(key.multiplier_id)
    .bind(by)
    .bind(reason)
    .fetch_all(conn)
    .await
}

/// Marks EXCLUDED (and inactive) those ACTIVE tickets of `ticket_ids` whose jugadas are all
/// excluded now. Returns how many.
pub async fn mark_tickets_excluded(
    conn: &mut PgConnection,
    ticket_ids: &[Uuid],
) -> Result<u64, sqlx::Error> {
    Ok(query(
        "UPDATE tickets t SET status = 'EXCLUDED', is_active = false, updated_at = now()
         WHERE t.id = ANY($1) AND t.status = 'ACTIVE'
           AND NOT EXISTS (
               SELECT 1 FROM jugadas j
               WHERE j.ticket_id = t.id AND NOT j.is_excluded AND j.deleted_at IS NULL)",
    )
    .bind(ticket_ids)
    .execute(conn)
    .await?
    .rows_affected())
}

/// Un-excludes the jugadas of the locked tickets `ticket_ids` that the removed entry `e`
/// covered and no remaining entry of the sorteo covers. They become active again unless their
/// ticket is CANCELLED (a later restore brings them back with the rest). Returns their ids.
/// Delete the entry first.
pub async fn include_jugadas(
    conn: &mut PgConnection,
    ticket_ids: &[Uuid],
    e: &ExclusionRow,
) -> Result<Vec<Uuid>, sqlx::Error> {
    query_scalar(
        "UPDATE jugadas j SET is_excluded = false, excluded_at = NULL, excluded_by = NULL,
                excluded_reason = NULL, is_active = (t.status <> 'CANCELLED'), updated_at = now()
         FROM tickets t
         WHERE t.id = j.ticket_id AND j.ticket_id = ANY($1)
           AND j.is_excluded AND j.deleted_at IS NULL
           AND ($2::text IS NULL OR j.number = $2)
           AND ($3::uuid IS NULL OR j.multiplier_id = $3
                OR (j.type = 'REVENTADO' AND EXISTS (
                    SELECT 1 FROM jugadas p
                    WHERE p.ticket_id = j.ticket_id AND p.type = 'NUMERO'
                      AND p.number = j.number AND p.multiplier_id = $3)))
           AND NOT EXISTS (
               SELECT 1 FROM sorteo_lista_exclusions o
               WHERE o.sorteo_id = t.sorteo_id AND o.banca_id = t.banca_id
                 AND (o.ventana_id IS NULL OR o.ventana_id = t.ventana_id)
                 AND (o.vendedor_id IS NULL OR o.vendedor_id = t.vendedor_id)
                 AND (o.number IS NULL OR o.number = j.number)
                 AND (o.multiplier_id IS NULL OR j.multiplier_id = o.multiplier_id
                      OR (j.type = 'REVENTADO' AND EXISTS (
                          SELECT 1 FROM jugadas p
                          WHERE p.ticket_id = j.ticket_id AND p.type = 'NUMERO'
                            AND p.number = j.number AND p.multiplier_id = o.multiplier_id))))
         RETURNING j.id",
    )
    .bind(ticket_ids)
    .bind(&e.number)
    .bind(e.multiplier_id)
    .fetch_all(conn)
    .await
}

/// Re-activates (ACTIVE) the EXCLUDED tickets of `ticket_ids` that have a jugada no longer
/// excluded: a ticket is EXCLUDED exactly while all its jugadas are. Returns how many.
pub async fn reactivate_tickets(
    conn: &mut PgConnection,
    ticket_ids: &[Uuid],
) -> Result<u64, sqlx::Error> {
    Ok(query(
        "UPDATE tickets t SET status = 'ACTIVE', is_active = true, updated_at = now()
         WHERE t.id = ANY($1) AND t.status = 'EXCLUDED'
           AND EXISTS (
               SELECT 1 FROM jugadas j
               WHERE j.ticket_id = t.id AND NOT j.is_excluded AND j.deleted_at IS NULL)",
    )
    .bind(ticket_ids)
    .execute(conn)
    .await?
    .rows_affected())
}

/// Those of jugadas `ids` that count now (active, not excluded, of an ACTIVE ticket), with
/// their ticket's scopes: what an include adds back to the counters.
pub async fn counted_among(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> Result<Vec<MovedJugada>, sqlx::Error> {
    query_as(
        "SELECT j.ticket_id, t.vendedor_id, t.ventana_id, t.banca_id, j.type::text AS kind,
                j.number, j.amount, j.multiplier_id
         FROM jugadas j JOIN tickets t ON t.id = j.ticket_id
         WHERE j.id = ANY($1) AND t.status = 'ACTIVE' AND j.is_active AND NOT j.is_excluded
         ORDER BY j.ticket_id, j.position",
    )
    .bind(ids)
    .fetch_all(conn)
    .await
}
