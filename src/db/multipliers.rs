//! Queries over lotería multipliers (`loteria_multipliers`), multiplier overrides
//! (`multiplier_overrides`), and the rows the base-multiplier chain and the allowed-multiplier
//! pickers read.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::db::bancas::like_contains;
use crate::db::{query, query_as, query_scalar};
use crate::domain::multipliers::{BetType, MultiplierCandidate, OverrideCandidate, OverrideScope};

// ---------------------------------------------------------------------------------------------
// Loterías and sorteos, as far as multipliers need them

/// What multipliers need to know of a lotería.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LoteriaRef {
    pub id: Uuid,
    /// `None`: a global template.
    pub banca_id: Option<Uuid>,
    pub name: String,
    pub is_active: bool,
    pub deleted: bool,
}

/// A lotería whatever its state.
pub async fn loteria(conn: &mut PgConnection, id: Uuid) -> Result<Option<LoteriaRef>, sqlx::Error> {
    query_as(
        "SELECT id, banca_id, name, is_active, deleted_at IS NOT NULL AS deleted
         FROM loterias WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// The lotería of a live (not deleted) sorteo.
pub async fn sorteo_loteria(
    conn: &mut PgConnection,
    sorteo_id: Uuid,
) -> Result<Option<Uuid>, sqlx::Error> {
    query_scalar("SELECT loteria_id FROM sorteos WHERE id = $1 AND deleted_at IS NULL")
        .bind(sorteo_id)
        .fetch_optional(conn)
        .await
}

// ---------------------------------------------------------------------------------------------
// Multipliers

/// A multiplier with its lotería's name and banca.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MultiplierRow {
    pub id: Uuid,
    pub loteria_id: Uuid,
    pub banca_id: Option<Uuid>,
    pub name: String,
    pub value_x: Decimal,
    pub kind: BetType,
    pub is_active: bool,
    pub applies_to_date: Option<NaiveDate>,
    pub applies_to_sorteo_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub loteria_name: String,
    /// The tenant: the lotería's banca (`None` for a global template).
    pub loteria_banca_id: Option<Uuid>,
}

const MULTIPLIER_SELECT: &str = "SELECT m.id, m.loteria_id, m.banca_id, m.name, m.value_x, m.kind,
        m.is_active, m.applies_to_date, m.applies_to_sorteo_id, m.created_at, m.updated_at,
        l.name AS loteria_name, l.banca_id AS loteria_banca_id
    FROM loteria_multipliers m JOIN loterias l ON l.id = m.loteria_id";

/// The editable columns of a multiplier, written whole by `insert` and `update`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MultiplierFields {
    pub name: String,
    pub value_x: Decimal,
    pub kind: BetType,
    pub is_active: bool,
    pub applies_to_date: Option<NaiveDate>,
    pub applies_to_sorteo_id: Option<Uuid>,
}

impl From<&MultiplierRow> for MultiplierFields {
    fn from(r: &MultiplierRow) -> Self {
        MultiplierFields {
            name: r.name.clone(),
            value_x: r.value_x,
            kind: r.kind,
            is_active: r.is_active,
            applies_to_date: r.applies_to_date,
            applies_to_sorteo_id: r.applies_to_sorteo_id,
        }
    }
}

/// A multiplier whatever its state.
pub async fn find(conn: &mut PgConnection, id: Uuid) -> Result<Option<MultiplierRow>, sqlx::Error> {
    query_as(&format!("{MULTIPLIER_SELECT} WHERE m.id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// As `find`, with the multiplier row locked for the rest of the transaction.
pub async fn find_for_update(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<MultiplierRow>, sqlx::Error> {
    query_as(&format!(
        "{MULTIPLIER_SELECT} WHERE m.id = $1 FOR UPDATE OF m"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Inserts a multiplier of `loteria_id`, tagged with the lotería's banca.
pub async fn insert(
    conn: &mut PgConnection,
    loteria_id: Uuid,
    banca_id: Option<Uuid>,
    f: &MultiplierFields,
) -> Result<Uuid, sqlx::Error> {
    query_scalar(
        "INSERT INTO loteria_multipliers (loteria_id, banca_id, name, value_x, kind, is_active,
             applies_to_date, applies_to_sorteo_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(loteria_id)
    .bind(banca_id)
    .bind(&f.name)
    .bind(f.value_x)
    .bind(f.kind)
    .bind(f.is_active)
    .bind(f.applies_to_date)
    .bind(f.applies_to_sorteo_id)
    .fetch_one(conn)
    .await
}

/// Writes every editable column of a multiplier.
pub async fn update(
    conn: &mut PgConnection,
    id: Uuid,
    f: &MultiplierFields,
) -> Result<(), sqlx::Error> {
    query(
        "UPDATE loteria_multipliers SET name = $2, value_x = $3, kind = $4, is_active = $5,
             applies_to_date = $6, applies_to_sorteo_id = $7, updated_at = now()
         WHERE id = $1",
    )
    .bind(id)
    .bind(&f.name)
    .bind(f.value_x)
    .bind(f.kind)
    .bind(f.is_active)
    .bind(f.applies_to_date)
    .bind(f.applies_to_sorteo_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Whether another active multiplier of the lotería has `name` (case-insensitive, as the
/// unique index compares).
pub async fn active_name_taken(
    conn: &mut PgConnection,
    loteria_id: Uuid,
    name: &str,
    except: Option<Uuid>,
) -> Result<bool, sqlx::Error> {
    query_scalar(
        "SELECT EXISTS (SELECT 1 FROM loteria_multipliers
             WHERE loteria_id = $1 AND lower(name) = lower($2) AND is_active
               AND ($3::uuid IS NULL OR id <> $3))",
    )
    .bind(loteria_id)
    .bind(name)
    .bind(except)
    .fetch_one(conn)
    .await
}

/// Filters of the multiplier list.
#[derive(Debug, Clone, Default)]
pub struct MultiplierFilter {
    /// Lotería bancas to show; `None` shows every banca.
    pub banca_ids: Option<Vec<Uuid>>,
    /// Also show multipliers of global template loterías (`banca_id` null).
    pub include_templates: bool,
    pub loteria_id: Option<Uuid>,
    pub kind: Option<BetType>,
    pub is_active: Option<bool>,
    pub applies_to_sorteo_id: Option<Uuid>,
    /// Substring of the multiplier's or the lotería's name, case-insensitive.
    pub search: Option<String>,
}

const MULTIPLIER_WHERE: &str = "WHERE l.deleted_at IS NULL
      AND ($1::uuid[] IS NULL OR l.banca_id = ANY($1) OR ($2 AND l.banca_id IS NULL))
      AND ($3::uuid IS NULL OR m.loteria_id = $3)
      AND ($4::bet_type IS NULL OR m.kind = $4)
      AND ($5::boolean IS NULL OR m.is_active = $5)
      AND ($6::uuid IS NULL OR m.applies_to_sorteo_id = $6)
      AND ($7::text IS NULL OR m.name ILIKE $7 OR l.name ILIKE $7)";

/// One page of multipliers of live loterías, most recently changed first, and the total.
pub async fn list(
    conn: &mut PgConnection,
    f: &MultiplierFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<MultiplierRow>, i64), sqlx::Error> {
    let pattern = f.search.as_deref().map(like_contains);
    let total: i64 = query_scalar(&format!(
        "SELECT count(*) FROM loteria_multipliers m JOIN loterias l ON l.id = m.loteria_id
         {MULTIPLIER_WHERE}"
    ))
    .bind(&f.banca_ids)
    .bind(f.include_templates)
    .bind(f.loteria_id)
    .bind(f.kind)
    .bind(f.is_active)
    .bind(f.applies_to_sorteo_id)
    .bind(&pattern)
    .fetch_one(&mut *conn)
    .await?;
    let rows = query_as(&format!(
        "{MULTIPLIER_SELECT} {MULTIPLIER_WHERE}
         ORDER BY m.updated_at DESC, m.id LIMIT $8 OFFSET $9"
    ))
    .bind(&f.banca_ids)
    .bind(f.include_templates)
    .bind(f.loteria_id)
    .bind(f.kind)
    .bind(f.is_active)
    .bind(f.applies_to_sorteo_id)
    .bind(&pattern)
    .bind(limit)
    .bind(offset)
    .fetch_all(conn)
    .await?;
    Ok((rows, total))
}

/// Where a picker takes its multipliers from.
#[derive(Debug, Clone, Copy)]
pub enum PickerScope {
    /// One lotería, whatever its state.
    Loteria(Uuid),
    /// Every active, live lotería of a banca.
    Banca(Uuid),
}

/// Multipliers a picker offers, optionally of one kind and activity; ordered by lotería name,
/// then oldest first.
pub async fn for_picker(
    conn: &mut PgConnection,
    scope: PickerScope,
    kind: Option<BetType>,
    is_active: Option<bool>,
) -> Result<Vec<MultiplierRow>, sqlx::Error> {
    let (loteria_id, banca_id) = match scope {
        PickerScope::Loteria(l) => (Some(l), None),
        PickerScope::Banca(b) => (None, Some(b)),
    };
    query_as(&format!(
        "{MULTIPLIER_SELECT}
         WHERE ($1::uuid IS NULL OR m.loteria_id = $1)
           AND ($2::uuid IS NULL OR (l.banca_id = $2 AND l.is_active AND l.deleted_at IS NULL))
           AND ($3::bet_type IS NULL OR m.kind = $3)
           AND ($4::boolean IS NULL OR m.is_active = $4)
         ORDER BY l.name, m.created_at, m.id"
    ))
    .bind(loteria_id)
    .bind(banca_id)
    .bind(kind)
    .bind(is_active)
    .fetch_all(conn)
    .await
}

// ---------------------------------------------------------------------------------------------
// Overrides

/// A multiplier override with the names of its target and lotería.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OverrideRow {
    pub id: Uuid,
    pub scope: OverrideScope,
    pub user_id: Option<Uuid>,
    pub ventana_id: Option<Uuid>,
    pub loteria_id: Uuid,
    pub banca_id: Option<Uuid>,
    pub multiplier_type: String,
    pub base_multiplier_x: Decimal,
    pub is_active: bool,
    pub deleted_at: Option<DateTime<Utc>>,
    pub deleted_by: Option<String>,
    pub deleted_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub user_name: Option<String>,
    pub user_username: Option<String>,
    /// The ventana of the target user (scope USER).
    pub user_ventana_id: Option<Uuid>,
    pub ventana_name: Option<String>,
    pub ventana_code: Option<String>,
    pub loteria_name: String,
    /// The tenant: the override's banca, else its target's.
    pub owner_banca_id: Option<Uuid>,
}

const OVERRIDE_FROM: &str = "FROM multiplier_overrides o
    JOIN loterias l ON l.id = o.loteria_id
    LEFT JOIN users u ON u.id = o.user_id
    LEFT JOIN ventanas uv ON uv.id = u.ventana_id
    LEFT JOIN ventanas v ON v.id = o.ventana_id";

const OVERRIDE_COLUMNS: &str = "o.id, o.scope, o.user_id, o.ventana_id, o.loteria_id, o.banca_id,
    o.multiplier_type, o.base_multiplier_x, o.is_active, o.deleted_at, o.deleted_by,
    o.deleted_reason, o.created_at, o.updated_at, u.name AS user_name,
    u.username::text AS user_username, u.ventana_id AS user_ventana_id, v.name AS ventana_name,
    v.code AS ventana_code, l.name AS loteria_name,
    COALESCE(o.banca_id, v.banca_id, u.banca_id, uv.banca_id) AS owner_banca_id";

/// An override whatever its state.
pub async fn find_override(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<OverrideRow>, sqlx::Error> {
    query_as(&format!(
        "SELECT {OVERRIDE_COLUMNS} {OVERRIDE_FROM} WHERE o.id = $1"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// As `find_override`, with the override row locked for the rest of the transaction.
pub async fn find_override_for_update(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<OverrideRow>, sqlx::Error> {
    query_as(&format!(
        "SELECT {OVERRIDE_COLUMNS} {OVERRIDE_FROM} WHERE o.id = $1 FOR UPDATE OF o"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// An override to insert; exactly one of `user_id` / `ventana_id` matches `scope`.
#[derive(Debug, Clone)]
pub struct NewOverride<'a> {
    pub scope: OverrideScope,
    pub user_id: Option<Uuid>,
    pub ventana_id: Option<Uuid>,
    pub loteria_id: Uuid,
    pub banca_id: Option<Uuid>,
    pub multiplier_type: &'a str,
    pub base_multiplier_x: Decimal,
}

/// Inserts a live, active override.
pub async fn insert_override(
    conn: &mut PgConnection,
    o: &NewOverride<'_>,
) -> Result<Uuid, sqlx::Error> {
    query_scalar(
        "INSERT INTO multiplier_overrides (scope, user_id, ventana_id, loteria_id, banca_id,
             multiplier_type, base_multiplier_x)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(o.scope)
    .bind(o.user_id)
    .bind(o.ventana_id)
    .bind(o.loteria_id)
    .bind(o.banca_id)
    .bind(o.multiplier_type)
    .bind(o.base_multiplier_x)
    .fetch_one(conn)
    .await
}

/// Whether another live (not deleted) override has the same target, lotería and type.
pub async fn live_override_exists(
    conn: &mut PgConnection,
    o: &NewOverride<'_>,
    except: Option<Uuid>,
) -> Result<bool, sqlx::Error> {
    query_scalar(
        "SELECT EXISTS (SELECT 1 FROM multiplier_overrides
             WHERE scope = $1 AND user_id IS NOT DISTINCT FROM $2
               AND ventana_id IS NOT DISTINCT FROM $3 AND loteria_id = $4
               AND multiplier_type = $5 AND deleted_at IS NULL
               AND ($6::uuid IS NULL OR id <> $6))",
    )
    .bind(o.scope)
    .bind(o.user_id)
    .bind(o.ventana_id)
    .bind(o.loteria_id)
    .bind(o.multiplier_type)
    .bind(except)
    .fetch_one(conn)
    .await
}

/// Sets an override's value and active flag.
pub async fn update_override(
    conn: &mut PgConnection,
    id: Uuid,
    base_multiplier_x: Decimal,
    is_active: bool,
) -> Result<(), sqlx::Error> {
    query(
        "UPDATE multiplier_overrides SET base_multiplier_x = $2, is_active = $3, updated_at = now()
         WHERE id = $1",
    )
    .bind(id)
    .bind(base_multiplier_x)
    .bind(is_active)
    .execute(conn)
    .await?;
    Ok(())
}

/// Deactivates and marks deleted, recording who and why.
pub async fn soft_delete_override(
    conn: &mut PgConnection,
    id: Uuid,
    deleted_by: &str,
    reason: Option<&str>,
) -> Result<(), sqlx::Error> {
    query(
        "UPDATE multiplier_overrides SET is_active = false, deleted_at = now(), deleted_by = $2,
             deleted_reason = $3, updated_at = now()
         WHERE id = $1",
    )
    .bind(id)
    .bind(deleted_by)
    .bind(reason)
    .execute(conn)
    .await?;
    Ok(())
}

/// Reactivates and clears the deletion marks.
pub async fn restore_override(conn: &mut PgConnection, id: Uuid) -> Result<(), sqlx::Error> {
    query(
        "UPDATE multiplier_overrides SET is_active = true, deleted_at = NULL, deleted_by = NULL,
             deleted_reason = NULL, updated_at = now()
         WHERE id = $1",
    )
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Filters of the override list. The three scope fields narrow by tenant; the rest are the
/// caller's filters.
#[derive(Debug, Clone, Default)]
pub struct OverrideFilter {
    /// Owner bancas to show; `None` shows every banca.
    pub banca_ids: Option<Vec<Uuid>>,
    /// Only overrides of this ventana or of users of this ventana.
    pub within_ventana: Option<Uuid>,
    /// Only USER overrides of this user.
    pub only_user: Option<Uuid>,
    pub scope: Option<OverrideScope>,
    /// The target (user or ventana, as `scope` says; either when no scope).
    pub scope_id: Option<Uuid>,
    pub loteria_id: Option<Uuid>,
    pub multiplier_type: Option<String>,
    pub is_active: Option<bool>,
}

const OVERRIDE_WHERE: &str =
    "WHERE ($1::uuid[] IS NULL OR COALESCE(o.banca_id, v.banca_id, u.banca_id, uv.banca_id) = ANY($1))
      AND ($2::uuid IS NULL OR (o.scope = 'VENTANA' AND o.ventana_id = $2)
                            OR (o.scope = 'USER' AND u.ventana_id = $2))
      AND ($3::uuid IS NULL OR (o.scope = 'USER' AND o.user_id = $3))
      AND ($4::override_scope IS NULL OR o.scope = $4)
      AND ($5::uuid IS NULL OR o.user_id = $5 OR o.ventana_id = $5)
      AND ($6::uuid IS NULL OR o.loteria_id = $6)
      AND ($7::text IS NULL OR o.multiplier_type = $7)
      AND ($8::boolean IS NULL OR o.is_active = $8)";

/// One page of overrides, newest first, and the total.
pub async fn list_overrides(
    conn: &mut PgConnection,
    f: &OverrideFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<OverrideRow>, i64), sqlx::Error> {
    let total: i64 = query_scalar(&format!("SELECT count(*) {OVERRIDE_FROM} {OVERRIDE_WHERE}"))
        .bind(&f.banca_ids)
        .bind(f.within_ventana)
        .bind(f.only_user)
        .bind(f.scope)
        .bind(f.scope_id)
        .bind(f.loteria_id)
        .bind(&f.multiplier_type)
        .bind(f.is_active)
        .fetch_one(&mut *conn)
        .await?;
    let rows = query_as(&format!(
        "SELECT {OVERRIDE_COLUMNS} {OVERRIDE_FROM} {OVERRIDE_WHERE}
         ORDER BY o.created_at DESC, o.id LIMIT $9 OFFSET $10"
    ))
    .bind(&f.banca_ids)
    .bind(f.within_ventana)
    .bind(f.only_user)
    .bind(f.scope)
    .bind(f.scope_id)
    .bind(f.loteria_id)
    .bind(&f.multiplier_type)
    .bind(f.is_active)
    .bind(limit)
    .bind(offset)
    .fetch_all(conn)
    .await?;
    Ok((rows, total))
}

// ---------------------------------------------------------------------------------------------
// Base-multiplier chain inputs

/// What the base-multiplier chain reads from the database for one sale context.
#[derive(Debug, Clone, Default)]
pub struct ChainRows {
    pub user_overrides: Vec<OverrideCandidate>,
    pub ventana_overrides: Vec<OverrideCandidate>,
    pub banca_setting: Option<Decimal>,
    /// Oldest first.
    pub multipliers: Vec<MultiplierCandidate>,
    /// `None` when the lotería does not exist.
    pub rules_json: Option<Value>,
}

#[derive(sqlx::FromRow)]
struct OverrideCandidateRow {
    scope: OverrideScope,
    base_multiplier_x: Decimal,
    is_active: bool,
    deleted: bool,
}

#[derive(sqlx::FromRow)]
struct LoteriaChainRow {
    rules_json: Value,
    setting_x: Option<Decimal>,
    names: Option<Vec<String>>,
    kinds: Option<Vec<String>>,
    values_x: Option<Vec<Decimal>>,
    actives: Option<Vec<bool>>,
}

/// Two indexed reads: the live `NUMERO` overrides of the seller and its ventana for the
/// lotería; and the lotería's `rulesJson`, the banca–lotería setting and the lotería's
/// multipliers (oldest first).
pub async fn chain_rows(
    conn: &mut PgConnection,
    banca_id: Uuid,
    loteria_id: Uuid,
    user_id: Uuid,
    ventana_id: Uuid,
) -> Result<ChainRows, sqlx::Error> {
    let overrides: Vec<OverrideCandidateRow> = query_as(
        "SELECT scope, base_multiplier_x, is_active, deleted_at IS NOT NULL AS deleted
         FROM multiplier_overrides
         WHERE loteria_id = $1 AND multiplier_type = 'NUMERO' AND deleted_at IS NULL
           AND ((scope = 'USER' AND user_id = $2 AND ventana_id IS NULL)
             OR (scope = 'VENTANA' AND user_id IS NULL AND ventana_id = $3))
         ORDER BY updated_at DESC, id",
    )
    .bind(loteria_id)
    .bind(user_id)
    .bind(ventana_id)
    .fetch_all(&mut *conn)
    .await?;
    let lot: Option<LoteriaChainRow> = query_as(
        "SELECT l.rules_json, s.base_multiplier_x AS setting_x, m.names, m.kinds, m.values_x,
                m.actives
         FROM loterias l
         LEFT JOIN banca_loteria_settings s ON s.banca_id = $2 AND s.loteria_id = l.id
         CROSS JOIN LATERAL (
             SELECT array_agg(name::text ORDER BY created_at, id) AS names,
                    array_agg(kind::text ORDER BY created_at, id) AS kinds,
                    array_agg(value_x ORDER BY created_at, id) AS values_x,
                    array_agg(is_active ORDER BY created_at, id) AS actives
             FROM loteria_multipliers WHERE loteria_id = l.id) m
         WHERE l.id = $1",
    )
    .bind(loteria_id)
    .bind(banca_id)
    .fetch_optional(conn)
    .await?;

    let mut rows = ChainRows::default();
    for o in overrides {
        let c = OverrideCandidate {
            value_x: o.base_multiplier_x,
            is_active: o.is_active,
            deleted: o.deleted,
        };
        match o.scope {
            OverrideScope::User => rows.user_overrides.push(c),
            OverrideScope::Ventana => rows.ventana_overrides.push(c),
        }
    }
    if let Some(l) = lot {
        rows.banca_setting = l.setting_x;
        rows.rules_json = Some(l.rules_json);
        let names = l.names.unwrap_or_default();
        let kinds = l.kinds.unwrap_or_default();
        let values = l.values_x.unwrap_or_default();
        let actives = l.actives.unwrap_or_default();
        rows.multipliers = names
            .into_iter()
            .zip(kinds)
            .zip(values.into_iter().zip(actives))
            .filter_map(|((name, kind), (value_x, is_active))| {
                Some(MultiplierCandidate {
                    name,
                    kind: BetType::parse(&kind)?,
                    value_x,
                    is_active,
                })
            })
            .collect();
    }
    Ok(rows)
}
