//! Queries over exclusion lists (`sorteo_lista_exclusions`), and the facts about a sorteo that
//! exclusions, rules and cutoff diagnostics check.

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

/// As `sorteo_ref`, holding a share lock on the sorteo until the transaction ends, so a state
/// change (close, evaluate) waits for the exclusion change and the other way round.
pub async fn sorteo_ref_for_share(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<SorteoRef>, sqlx::Error> {
    query_as(&format!("{SORTEO_REF} FOR SHARE OF s"))
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
}

const SELECT: &str = "SELECT e.id, e.sorteo_id, e.banca_id, e.ventana_id, e.vendedor_id,
        e.multiplier_id, e.number, e.excluded_at, e.excluded_by, e.reason, e.created_at,
        e.updated_at, s.name AS sorteo_name, s.loteria_id, l.name AS loteria_name,
        v.name AS ventana_name, v.code AS ventana_code, u.name AS vendedor_name,
        u.code AS vendedor_code, m.name AS multiplier_name, m.value_x AS multiplier_value_x,
        x.name AS excluded_by_name
    FROM sorteo_lista_exclusions e
    JOIN sorteos s ON s.id = e.sorteo_id
    JOIN loterias l ON l.id = s.loteria_id
    LEFT JOIN ventanas v ON v.id = e.ventana_id
    LEFT JOIN users u ON u.id = e.vendedor_id
    LEFT JOIN loteria_multipliers m ON m.id = e.multiplier_id
    LEFT JOIN users x ON x.id = e.excluded_by";

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
