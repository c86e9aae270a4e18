//! Queries over restriction rules (`restriction_rules`), the few facts about loterías and
//! multipliers that rule writes check, and the consistency check and rebuild of the per-number
//! sales counters (`sale_counters`) against the jugadas.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::db::bancas::like_contains;
use crate::db::{query, query_as, query_scalar};
use crate::domain::roles::Role;
use crate::domain::rules::Rule;

/// A rule with the names of what it points at.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RuleRow {
    pub id: Uuid,
    pub owner_banca_id: Option<Uuid>,
    pub banca_id: Option<Uuid>,
    pub ventana_id: Option<Uuid>,
    pub user_id: Option<Uuid>,
    pub number: Option<String>,
    pub is_auto_date: bool,
    pub max_amount: Option<Decimal>,
    pub max_total: Option<Decimal>,
    pub base_amount: Option<Decimal>,
    pub sales_percentage: Option<Decimal>,
    pub applies_to_vendedor: bool,
    pub applies_to_date: Option<NaiveDate>,
    pub applies_to_hour: Option<i16>,
    pub sales_cutoff_minutes: Option<i16>,
    pub loteria_id: Option<Uuid>,
    pub multiplier_id: Option<Uuid>,
    pub sorteo_id: Option<Uuid>,
    pub message: Option<String>,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub banca_name: Option<String>,
    pub banca_code: Option<String>,
    pub ventana_name: Option<String>,
    pub ventana_code: Option<String>,
    pub user_name: Option<String>,
    pub user_username: Option<String>,
    /// The role and ventana of the rule's user (user-scoped rules).
    pub user_role: Option<Role>,
    pub user_ventana_id: Option<Uuid>,
    pub loteria_name: Option<String>,
    pub multiplier_name: Option<String>,
    pub multiplier_value_x: Option<Decimal>,
    pub multiplier_kind: Option<String>,
    pub sorteo_name: Option<String>,
}

impl RuleRow {
    /// The rule as the domain resolutions read it.
    pub fn to_rule(&self) -> Rule {
        Rule {
            id: self.id,
            owner_banca_id: self.owner_banca_id,
            banca_id: self.banca_id,
            ventana_id: self.ventana_id,
            user_id: self.user_id,
            number: self.number.clone(),
            is_auto_date: self.is_auto_date,
            max_amount: self.max_amount,
            max_total: self.max_total,
            base_amount: self.base_amount,
            sales_percentage: self.sales_percentage,
            applies_to_vendedor: self.applies_to_vendedor,
            applies_to_date: self.applies_to_date,
            applies_to_hour: self.applies_to_hour.and_then(|h| u8::try_from(h).ok()),
            sales_cutoff_minutes: self.sales_cutoff_minutes.map(i32::from),
            loteria_id: self.loteria_id,
            multiplier_id: self.multiplier_id,
            sorteo_id: self.sorteo_id,
            message: self.message.clone(),
            is_active: self.is_active,
            updated_at: self.updated_at,
        }
    }
}

const FROM: &str = "FROM restriction_rules r
    LEFT JOIN bancas b ON b.id = r.banca_id
    LEFT JOIN ventanas v ON v.id = r.ventana_id
    LEFT JOIN users u ON u.id = r.user_id
    LEFT JOIN loterias l ON l.id = r.loteria_id
    LEFT JOIN loteria_multipliers m ON m.id = r.multiplier_id
    LEFT JOIN sorteos s ON s.id = r.sorteo_id";

const COLUMNS: &str = "r.id, r.owner_banca_id, r.banca_id, r.ventana_id, r.user_id, r.number,
    r.is_auto_date, r.max_amount, r.max_total, r.base_amount, r.sales_percentage,
    r.applies_to_vendedor, r.applies_to_date, r.applies_to_hour, r.sales_cutoff_minutes,
    r.loteria_id, r.multiplier_id, r.sorteo_id, r.message, r.is_active, r.created_at,
    r.updated_at, b.name AS banca_name, b.code AS banca_code, v.name AS ventana_name,
    v.code AS ventana_code, u.name AS user_name, u.username::text AS user_username,
    u.role AS user_role, u.ventana_id AS user_ventana_id, l.name AS loteria_name, m.name AS multiplier_name,
    m.value_x AS multiplier_value_x, m.kind::text AS multiplier_kind, s.name AS sorteo_name";

/// The grouping key of `GET /restrictions/grouped`: every column but the number, joined by `|`
/// (the existing system's 14 parts, then `sorteoId` and `appliesToVendedor`).
const GROUP_KEY: &str = "concat_ws('|',
    coalesce(r.user_id::text, 'null'), coalesce(r.ventana_id::text, 'null'),
    coalesce(r.banca_id::text, 'null'), coalesce(r.loteria_id::text, 'null'),
    coalesce(r.multiplier_id::text, 'null'), coalesce(trim_scale(r.base_amount)::text, 'null'),
    coalesce(trim_scale(r.sales_percentage)::text, 'null'),
    coalesce(trim_scale(r.max_amount)::text, 'null'), coalesce(trim_scale(r.max_total)::text, 'null'),
    r.is_active::text, r.is_auto_date::text, coalesce(r.applies_to_date::text, 'null'),
    coalesce(r.applies_to_hour::text, 'null'), coalesce(r.sales_cutoff_minutes::text, 'null'),
    coalesce(r.sorteo_id::text, 'null'), r.applies_to_vendedor::text)";

/// Every column of a rule, written whole by `insert` and `update`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RuleFields {
    pub owner_banca_id: Option<Uuid>,
    pub banca_id: Option<Uuid>,
    pub ventana_id: Option<Uuid>,
    pub user_id: Option<Uuid>,
    pub number: Option<String>,
    pub is_auto_date: bool,
    pub max_amount: Option<Decimal>,
    pub max_total: Option<Decimal>,
    pub base_amount: Option<Decimal>,
    pub sales_percentage: Option<Decimal>,
    pub applies_to_vendedor: bool,
    pub applies_to_date: Option<NaiveDate>,
    pub applies_to_hour: Option<i16>,
    pub sales_cutoff_minutes: Option<i16>,
    pub loteria_id: Option<Uuid>,
    pub multiplier_id: Option<Uuid>,
    pub sorteo_id: Option<Uuid>,
    pub message: Option<String>,
    pub is_active: bool,
}

impl From<&RuleRow> for RuleFields {
    fn from(r: &RuleRow) -> Self {
        RuleFields {
            owner_banca_id: r.owner_banca_id,
            banca_id: r.banca_id,
            ventana_id: r.ventana_id,
            user_id: r.user_id,
            number: r.number.clone(),
            is_auto_date: r.is_auto_date,
            max_amount: r.max_amount,
            max_total: r.max_total,
            base_amount: r.base_amount,
            sales_percentage: r.sales_percentage,
            applies_to_vendedor: r.applies_to_vendedor,
            applies_to_date: r.applies_to_date,
            applies_to_hour: r.applies_to_hour,
            sales_cutoff_minutes: r.sales_cutoff_minutes,
            loteria_id: r.loteria_id,
            multiplier_id: r.multiplier_id,
            sorteo_id: r.sorteo_id,
            message: r.message.clone(),
            is_active: r.is_active,
        }
    }
}

pub async fn insert(conn: &mut PgConnection, f: &RuleFields) -> Result<Uuid, sqlx::Error> {
    query_scalar(
        "INSERT INTO restriction_rules (owner_banca_id, banca_id, ventana_id, user_id, number,
             is_auto_date, max_amount, max_total, base_amount, sales_percentage,
             applies_to_vendedor, applies_to_date, applies_to_hour, sales_cutoff_minutes,
             loteria_id, multiplier_id, sorteo_id, message, is_active)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
                 $18, $19)
         RETURNING id",
    )
    .bind(f.owner_banca_id)
    .bind(f.banca_id)
    .bind(f.ventana_id)
    .bind(f.user_id)
    .bind(&f.number)
    .bind(f.is_auto_date)
    .bind(f.max_amount)
    .bind(f.max_total)
    .bind(f.base_amount)
    .bind(f.sales_percentage)
    .bind(f.applies_to_vendedor)
    .bind(f.applies_to_date)
    .bind(f.applies_to_hour)
    .bind(f.sales_cutoff_minutes)
    .bind(f.loteria_id)
    .bind(f.multiplier_id)
    .bind(f.sorteo_id)
    .bind(&f.message)
    .bind(f.is_active)
    .fetch_one(conn)
    .await
}

pub async fn update(conn: &mut PgConnection, id: Uuid, f: &RuleFields) -> Result<(), sqlx::Error> {
    query(
        "UPDATE restriction_rules SET owner_banca_id = $2, banca_id = $3, ventana_id = $4,
             user_id = $5, number = $6, is_auto_date = $7, max_amount = $8, max_total = $9,
             base_amount = $10, sales_percentage = $11, applies_to_vendedor = $12,
             applies_to_date = $13, applies_to_hour = $14, sales_cutoff_minutes = $15,
             loteria_id = $16, multiplier_id = $17, sorteo_id = $18, message = $19,
             is_active = $20, updated_at = now()
         WHERE id = $1",
    )
    .bind(id)
    .bind(f.owner_banca_id)
    .bind(f.banca_id)
    .bind(f.ventana_id)
    .bind(f.user_id)
    .bind(&f.number)
    .bind(f.is_auto_date)
    .bind(f.max_amount)
    .bind(f.max_total)
    .bind(f.base_amount)
    .bind(f.sales_percentage)
    .bind(f.applies_to_vendedor)
    .bind(f.applies_to_date)
    .bind(f.applies_to_hour)
    .bind(f.sales_cutoff_minutes)
    .bind(f.loteria_id)
    .bind(f.multiplier_id)
    .bind(f.sorteo_id)
    .bind(&f.message)
    .bind(f.is_active)
    .execute(conn)
    .await?;
    Ok(())
}

/// Soft delete (`false`) or restore (`true`).
pub async fn set_active(
    conn: &mut PgConnection,
    id: Uuid,
    active: bool,
) -> Result<(), sqlx::Error> {
    query("UPDATE restriction_rules SET is_active = $2, updated_at = now() WHERE id = $1")
        .bind(id)
        .bind(active)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn find(conn: &mut PgConnection, id: Uuid) -> Result<Option<RuleRow>, sqlx::Error> {
    query_as(&format!("SELECT {COLUMNS} {FROM} WHERE r.id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// As `find`, with the rule row locked for the rest of the transaction.
pub async fn find_for_update(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<RuleRow>, sqlx::Error> {
    query_as(&format!(
        "SELECT {COLUMNS} {FROM} WHERE r.id = $1 FOR UPDATE OF r"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Rules by id, in no particular order.
pub async fn find_many(conn: &mut PgConnection, ids: &[Uuid]) -> Result<Vec<RuleRow>, sqlx::Error> {
    query_as(&format!("SELECT {COLUMNS} {FROM} WHERE r.id = ANY($1)"))
        .bind(ids)
        .fetch_all(conn)
        .await
}

/// Who a list is narrowed to, besides its bancas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// A listero: rules of its ventana, of its vendedores, and banca-wide or general rules.
    Ventana { ventana_id: Option<Uuid> },
    /// A seller: its own rules, its ventana's, and banca-wide or general rules.
    Vendedor {
        user_id: Uuid,
        ventana_id: Option<Uuid>,
    },
}

/// Filters of the rule lists. `None` means no filter.
#[derive(Debug, Clone, Default)]
pub struct RuleFilter {
    /// Owning bancas.
    pub owner_bancas: Option<Vec<Uuid>>,
    pub audience: Option<Audience>,
    pub banca_id: Option<Uuid>,
    pub ventana_id: Option<Uuid>,
    pub user_id: Option<Uuid>,
    pub number: Option<String>,
    pub id: Option<Uuid>,
    /// Substring of the number, message, or the names of the banca, ventana, user, lotería
    /// or multiplier.
    pub search: Option<String>,
    pub is_active: Option<bool>,
    pub has_cutoff: Option<bool>,
    pub has_amount: Option<bool>,
    pub has_auto_date: Option<bool>,
    pub has_lottery_multiplier: Option<bool>,
    pub loteria_id: Option<Uuid>,
    pub multiplier_id: Option<Uuid>,
    pub sorteo_id: Option<Uuid>,
    /// Exactly this grouping key (see `list_groups`).
    pub group_key: Option<String>,
}

fn where_clause() -> String {
    format!(
        "WHERE ($1::uuid[] IS NULL OR r.owner_banca_id = ANY($1))
      AND ($2::text IS NULL
           OR ($2 = 'VENTANA' AND (r.ventana_id = $3
                OR (r.user_id IS NOT NULL AND u.role = 'VENDEDOR' AND u.ventana_id = $3)
                OR (r.user_id IS NULL AND r.ventana_id IS NULL)))
           OR ($2 = 'VENDEDOR' AND (r.user_id = $4
                OR (r.user_id IS NULL AND (r.ventana_id IS NULL OR r.ventana_id = $3)))))
      AND ($5::uuid IS NULL OR r.banca_id = $5)
      AND ($6::uuid IS NULL OR r.ventana_id = $6)
      AND ($7::uuid IS NULL OR r.user_id = $7)
      AND ($8::text IS NULL OR r.number = $8)
      AND ($9::uuid IS NULL OR r.id = $9)
      AND ($10::text IS NULL OR r.number ILIKE $10 OR r.message ILIKE $10 OR b.name ILIKE $10
           OR v.name ILIKE $10 OR v.code ILIKE $10 OR u.name ILIKE $10
           OR u.username::text ILIKE $10 OR l.name ILIKE $10 OR m.name ILIKE $10)
      AND ($11::boolean IS NULL OR r.is_active = $11)
      AND ($12::boolean IS NULL OR (r.sales_cutoff_minutes IS NOT NULL) = $12)
      AND ($13::boolean IS NULL OR (r.max_amount IS NOT NULL OR r.max_total IS NOT NULL
           OR COALESCE(r.base_amount, 0) > 0 OR r.sales_percentage IS NOT NULL) = $13)
      AND ($14::boolean IS NULL OR r.is_auto_date = $14)
      AND ($15::boolean IS NULL OR (r.loteria_id IS NOT NULL OR r.multiplier_id IS NOT NULL) = $15)
      AND ($16::uuid IS NULL OR r.loteria_id = $16)
      AND ($17::uuid IS NULL OR r.multiplier_id = $17)
      AND ($18::uuid IS NULL OR r.sorteo_id = $18)
      AND ($19::text IS NULL OR {GROUP_KEY} = $19)"
    )
}

/// Binds the 19 filter parameters of `where_clause`, in order.
macro_rules! bind_filter {
    ($q:expr, $f:expr, $pattern:expr) => {{
        let (kind, a_ventana, a_user) = match $f.audience {
            None => (None, None, None),
            Some(Audience::Ventana { ventana_id }) => (Some("VENTANA"), ventana_id, None),
            Some(Audience::Vendedor {
                user_id,
                ventana_id,
            }) => (Some("VENDEDOR"), ventana_id, Some(user_id)),
        };
        $q.bind(&$f.owner_bancas)
            .bind(kind)
            .bind(a_ventana)
            .bind(a_user)
            .bind($f.banca_id)
            .bind($f.ventana_id)
            .bind($f.user_id)
            .bind(&$f.number)
            .bind($f.id)
            .bind($pattern)
            .bind($f.is_active)
            .bind($f.has_cutoff)
            .bind($f.has_amount)
            .bind($f.has_auto_date)
            .bind($f.has_lottery_multiplier)
            .bind($f.loteria_id)
            .bind($f.multiplier_id)
            .bind($f.sorteo_id)
            .bind(&$f.group_key)
    }};
}

/// One page of rules, most recently updated first, and the total count.
pub async fn list(
    conn: &mut PgConnection,
    f: &RuleFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<RuleRow>, i64), sqlx::Error> {
    let pattern = f.search.as_deref().map(like_contains);
    let wh = where_clause();
    let count_sql = format!("SELECT count(*) {FROM} {wh}");
    let total: i64 = bind_filter!(query_scalar(&count_sql), f, &pattern)
        .fetch_one(&mut *conn)
        .await?;
    let sql = format!(
        "SELECT {COLUMNS} {FROM} {wh} ORDER BY r.updated_at DESC, r.id DESC LIMIT $20 OFFSET $21"
    );
    let rows = bind_filter!(query_as(&sql), f, &pattern)
        .bind(limit)
        .bind(offset)
        .fetch_all(conn)
        .await?;
    Ok((rows, total))
}

/// Rules that share everything but the number.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct GroupRow {
    pub group_key: String,
    /// Member ids, ordered by number.
    pub ids: Vec<Uuid>,
    /// Member numbers, ordered (rules without a number contribute none).
    pub numbers: Vec<String>,
    pub updated_at: DateTime<Utc>,
}

/// One page of rule groups (most recently updated first) and the number of groups.
pub async fn list_groups(
    conn: &mut PgConnection,
    f: &RuleFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<GroupRow>, i64), sqlx::Error> {
    let pattern = f.search.as_deref().map(like_contains);
    let wh = where_clause();
    let count_sql = format!("SELECT count(DISTINCT {GROUP_KEY}) {FROM} {wh}");
    let total: i64 = bind_filter!(query_scalar(&count_sql), f, &pattern)
        .fetch_one(&mut *conn)
        .await?;
    let sql = format!(
        "SELECT {GROUP_KEY} AS group_key,
                array_agg(r.id ORDER BY r.number NULLS FIRST, r.id) AS ids,
                array_remove(array_agg(r.number ORDER BY r.number NULLS FIRST, r.id), NULL)
                    AS numbers,
                max(r.updated_at) AS updated_at
         {FROM} {wh}
         GROUP BY 1 ORDER BY max(r.updated_at) DESC, 1 LIMIT $20 OFFSET $21"
    );
    let rows = bind_filter!(query_as(&sql), f, &pattern)
        .bind(limit)
        .bind(offset)
        .fetch_all(conn)
        .await?;
    Ok((rows, total))
}

/// The grouping key of one rule.
pub async fn group_key_of(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<String>, sqlx::Error> {
    query_scalar(&format!(
        "SELECT {GROUP_KEY} FROM restriction_rules r WHERE r.id = $1"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Active rules of banca `banca_id` whose scope reaches a seller of `ventana_id` (or, without
/// one, the banca as a whole): the seller's own rules (`user_id`), the ventana's, the banca's
/// and the general ones. Most recently updated first.
pub async fn for_seller(
    conn: &mut PgConnection,
    banca_id: Uuid,
    ventana_id: Option<Uuid>,
    user_id: Option<Uuid>,
) -> Result<Vec<RuleRow>, sqlx::Error> {
    query_as(&format!(
        "SELECT {COLUMNS} {FROM}
         WHERE r.owner_banca_id = $1 AND r.is_active
           AND (r.user_id = $3
                OR (r.user_id IS NULL AND r.ventana_id = $2)
                OR (r.user_id IS NULL AND r.ventana_id IS NULL
                    AND (r.banca_id IS NULL OR r.banca_id = $1)))
         ORDER BY r.updated_at DESC, r.id DESC"
    ))
    .bind(banca_id)
    .bind(ventana_id)
    .bind(user_id)
    .fetch_all(conn)
    .await
}

/// Counts of active rules, for the health report.
#[derive(Debug, Clone, Copy, Default, sqlx::FromRow)]
pub struct RuleCounts {
    pub active: i64,
    pub auto_date: i64,
    pub cutoff: i64,
    /// Rules with a cumulative (`maxTotal`) or percentage limit: the ones that read
    /// per-number sales counters.
    pub cumulative: i64,
    pub blocks: i64,
}

/// Counts active rules of `bancas` (`None`: every banca) that could bind sales of lotería
/// `loteria_id` and sorteo `sorteo_id` when those are given.
pub async fn counts(
    conn: &mut PgConnection,
    bancas: Option<&[Uuid]>,
    loteria_id: Option<Uuid>,
    sorteo_id: Option<Uuid>,
) -> Result<RuleCounts, sqlx::Error> {
    query_as(
        "SELECT count(*) AS active,
                count(*) FILTER (WHERE is_auto_date) AS auto_date,
                count(*) FILTER (WHERE sales_cutoff_minutes IS NOT NULL) AS cutoff,
                count(*) FILTER (WHERE max_total IS NOT NULL OR COALESCE(base_amount, 0) > 0
                                 OR sales_percentage IS NOT NULL) AS cumulative,
                count(*) FILTER (WHERE sales_cutoff_minutes IS NULL AND loteria_id IS NOT NULL
                                 AND multiplier_id IS NOT NULL AND max_amount IS NULL
                                 AND max_total IS NULL AND COALESCE(base_amount, 0) = 0
                                 AND sales_percentage IS NULL) AS blocks
         FROM restriction_rules
         WHERE is_active AND ($1::uuid[] IS NULL OR owner_banca_id = ANY($1))
           AND ($2::uuid IS NULL OR loteria_id IS NULL OR loteria_id = $2)
           AND ($3::uuid IS NULL OR sorteo_id IS NULL OR sorteo_id = $3)",
    )
    .bind(bancas)
    .bind(loteria_id)
    .bind(sorteo_id)
    .fetch_one(conn)
    .await
}

/// A lotería as rule checks need it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LoteriaRef {
    pub id: Uuid,
    /// `None`: a global template.
    pub banca_id: Option<Uuid>,
    pub name: String,
    /// `rulesJson.digits` when 2 or 3, else 2.
    pub digits: i16,
    pub deleted: bool,
}

pub async fn loteria_ref(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<LoteriaRef>, sqlx::Error> {
    query_as(
        "SELECT id, banca_id, name,
                CASE WHEN jsonb_typeof(rules_json->'digits') = 'number'
                          AND (rules_json->>'digits')::numeric = 3
                     THEN 3::smallint ELSE 2::smallint END AS digits,
                deleted_at IS NOT NULL AS deleted
         FROM loterias WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// A lotería multiplier as rule and exclusion checks need it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MultiplierRef {
    pub id: Uuid,
    pub loteria_id: Uuid,
    pub banca_id: Option<Uuid>,
    pub name: String,
    pub kind: String,
    pub is_active: bool,
}

pub async fn multiplier_ref(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<MultiplierRef>, sqlx::Error> {
    query_as(
        "SELECT id, loteria_id, banca_id, name, kind::text AS kind, is_active
         FROM loteria_multipliers WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
}

// ---------------------------------------------------------------------------------------------
// Per-number sales counters against the jugadas.

/// The counters the live jugadas of the sorteos in CTE `scope` (column `id`) imply: per
/// sorteo, counting scope (the ticket's vendedor, ventana and banca), multiplier key (the nil
/// uuid: every jugada; a NUMERO jugada's multiplier; the max uuid: REVENTADO) and number. A
/// live jugada is active, not excluded and not deleted, of a ticket neither CANCELLED nor
/// EXCLUDED — what the sale adds, cancel releases and exclusions take out.
const EXPECTED_COUNTERS: &str = "SELECT j.sorteo_id, sc.kind AS scope_kind, sc.id AS scope_id,
        k.mkey, j.number, sum(j.amount) AS amount
    FROM jugadas j
    JOIN tickets t ON t.id = j.ticket_id
    CROSS JOIN LATERAL (VALUES ('VENDEDOR', t.vendedor_id), ('VENTANA', t.ventana_id),
                               ('BANCA', t.banca_id)) AS sc(kind, id)
    CROSS JOIN LATERAL (VALUES ('00000000-0000-0000-0000-000000000000'::uuid),
                               (CASE WHEN j.type = 'REVENTADO'
                                     THEN 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid
                                     ELSE j.multiplier_id END)) AS k(mkey)
    WHERE j.sorteo_id IN (SELECT id FROM scope)
      AND j.is_active AND NOT j.is_excluded AND j.deleted_at IS NULL
      AND t.status NOT IN ('CANCELLED', 'EXCLUDED')
      AND k.mkey IS NOT NULL
    GROUP BY j.sorteo_id, sc.kind, sc.id, k.mkey, j.number";

/// The sorteos a counter check covers: sorteo `$1` when given; else the live SCHEDULED and OPEN
/// sorteos (the ones whose counters still decide sales) of bancas `$2` (`NULL`: every banca)
/// and the global ones.
const CHECK_SCOPE: &str = "SELECT id FROM sorteos
    WHERE CASE WHEN $1::uuid IS NOT NULL THEN id = $1
               ELSE status IN ('SCHEDULED', 'OPEN') AND deleted_at IS NULL
                    AND ($2::uuid[] IS NULL OR banca_id IS NULL OR banca_id = ANY($2))
          END";

fn check_ctes() -> String {
    format!(
        "WITH scope AS ({CHECK_SCOPE}),
         expected AS ({EXPECTED_COUNTERS}),
         actual AS (
             SELECT c.sorteo_id, c.scope_kind, c.scope_id, c.mkey, c.number, c.amount
             FROM sale_counters c WHERE c.sorteo_id IN (SELECT id FROM scope)),
         diff AS (
             SELECT COALESCE(a.sorteo_id, e.sorteo_id) AS sorteo_id,
                    COALESCE(a.scope_kind, e.scope_kind) AS scope_kind,
                    COALESCE(a.scope_id, e.scope_id) AS scope_id,
                    COALESCE(a.mkey, e.mkey) AS mkey,
                    COALESCE(a.number, e.number) AS number,
                    COALESCE(a.amount, 0) AS counter,
                    COALESCE(e.amount, 0) AS expected
             FROM actual a FULL JOIN expected e
               ON a.sorteo_id = e.sorteo_id AND a.scope_id = e.scope_id AND a.mkey = e.mkey
              AND a.number = e.number
             WHERE COALESCE(a.amount, 0) <> COALESCE(e.amount, 0))"
    )
}

/// A counter that disagrees with the jugadas (`counter` 0: the row is missing).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct CounterMismatch {
    pub sorteo_id: Uuid,
    pub scope_kind: String,
    pub scope_id: Uuid,
    pub mkey: Uuid,
    pub number: String,
    pub counter: Decimal,
    pub expected: Decimal,
}

/// The outcome of a counter check.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CounterCheck {
    /// Sorteos covered.
    pub sorteos: i64,
    /// Counter rows read.
    pub rows: i64,
    /// Keys whose counter differs from the sum of their live jugadas.
    pub mismatches: i64,
    /// The first mismatches, by sorteo, scope, key and number.
    pub sample: Vec<CounterMismatch>,
}

#[derive(sqlx::FromRow)]
struct CheckTotals {
    sorteos: i64,
    rows: i64,
    mismatches: i64,
}

/// Compares the counters of sorteo `sorteo_id`, or (when `None`) of the SCHEDULED/OPEN sorteos
/// of `bancas` and the global ones, with the sums of their live jugadas; up to `sample`
/// mismatches are listed. Reads only: without the sorteo lock a sale committing meanwhile can
/// show as a passing mismatch.
pub async fn check_counters(
    conn: &mut PgConnection,
    sorteo_id: Option<Uuid>,
    bancas: Option<&[Uuid]>,
    sample: i64,
) -> Result<CounterCheck, sqlx::Error> {
    let ctes = check_ctes();
    let totals: CheckTotals = query_as(&format!(
        "{ctes}
         SELECT (SELECT count(*) FROM scope) AS sorteos, (SELECT count(*) FROM actual) AS rows,
                (SELECT count(*) FROM diff) AS mismatches"
    ))
    .bind(sorteo_id)
    .bind(bancas)
    .fetch_one(&mut *conn)
    .await?;
    let sample = if totals.mismatches > 0 && sample > 0 {
        query_as(&format!(
            "{ctes}
             SELECT sorteo_id, scope_kind, scope_id, mkey, number, counter, expected FROM diff
             ORDER BY sorteo_id, scope_id, mkey, number LIMIT $3"
        ))
        .bind(sorteo_id)
        .bind(bancas)
        .bind(sample)
        .fetch_all(conn)
        .await?
    } else {
        Vec::new()
    };
    Ok(CounterCheck {
        sorteos: totals.sorteos,
        rows: totals.rows,
        mismatches: totals.mismatches,
        sample,
    })
}

/// Rebuilds the counters of sorteo `sorteo_id` from its live jugadas: deletes them and inserts
/// the sums (in key order, the order every counter writer locks in). Returns the rows written.
/// Call it holding the sorteo row `FOR UPDATE`: sales, cancellations, restores and exclusion
/// changes all lock the sorteo first, so none runs meanwhile.
pub async fn rebuild_counters(
    conn: &mut PgConnection,
    sorteo_id: Uuid,
) -> Result<u64, sqlx::Error> {
    query("DELETE FROM sale_counters WHERE sorteo_id = $1")
        .bind(sorteo_id)
        .execute(&mut *conn)
        .await?;
    Ok(query(&format!(
        "WITH scope AS (SELECT $1::uuid AS id)
         INSERT INTO sale_counters (sorteo_id, scope_kind, scope_id, mkey, number, amount)
         SELECT sorteo_id, scope_kind, scope_id, mkey, number, amount
         FROM ({EXPECTED_COUNTERS}) e
         ORDER BY scope_id, mkey, number"
    ))
    .bind(sorteo_id)
    .execute(conn)
    .await?
    .rows_affected())
}
