//! SQL of the sale path: what a sale reads inside its transaction, the per-number counters it
//! adds to (row locks in key order), the ticket and jugadas it writes in one statement, and the
//! idempotency keys. Cancel and restore use the same counters.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{query, query_as, query_scalar};
use crate::db::sorteos::SorteoStatus;
use crate::domain::roles::Role;
use crate::domain::rules::Rule;

/// Multiplier key of a counter that counts every jugada of the number.
pub const MKEY_ALL: Uuid = Uuid::nil();
/// Multiplier key of a counter that counts the REVENTADO jugadas of the number.
pub const MKEY_REVENTADO: Uuid = Uuid::max();

/// The sorteo of a sale, read with `FOR KEY SHARE`: a state change (which takes the row
/// `FOR UPDATE`) waits for the sales in flight, and a sale waits for a state change in flight
/// and then reads the new state.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SaleSorteo {
    pub id: Uuid,
    pub loteria_id: Uuid,
    pub banca_id: Option<Uuid>,
    pub name: String,
    pub scheduled_at: DateTime<Utc>,
    pub status: SorteoStatus,
    pub is_active: bool,
    pub deleted: bool,
    pub digits: i16,
    pub winning_number: Option<String>,
    pub loteria_name: String,
    pub loteria_rules: Value,
    /// The database clock at the start of the transaction: the sale's `now`.
    pub now: DateTime<Utc>,
}

pub async fn sorteo_for_sale(
    conn: &mut PgConnection,
    sorteo_id: Uuid,
) -> Result<Option<SaleSorteo>, sqlx::Error> {
    query_as(
        "SELECT s.id, s.loteria_id, s.banca_id, s.name, s.scheduled_at, s.status, s.is_active,
                s.deleted_at IS NOT NULL AS deleted, s.digits, s.winning_number,
                l.name AS loteria_name, l.rules_json AS loteria_rules, now() AS now
         FROM sorteos s JOIN loterias l ON l.id = s.loteria_id
         WHERE s.id = $1
         FOR KEY SHARE OF s",
    )
    .bind(sorteo_id)
    .fetch_optional(conn)
    .await
}

/// Everything a sale reads before its limits, in one statement: the claim of its idempotency
/// key (when it has one), the seller (`seller_id`), its ventana, banca and listero policy, the
/// sorteo (locked `FOR KEY SHARE`, with the database clock), the next ticket sequence value,
/// the seller's restriction rules, the multipliers of lotería `loteria_id` plus those named,
/// and the exclusion entries of the sorteo that reach the seller.
#[derive(Debug, Clone)]
pub struct SaleContext {
    /// `false` when the key is held by a live record (an earlier or concurrent twin sale that
    /// committed; this statement waited for it): the caller replays.
    pub claimed: bool,
    pub user: Option<SaleUser>,
    pub ventana: Option<SaleVentana>,
    pub sorteo: Option<SaleSorteo>,
    pub seq: i64,
    pub rules: Vec<Rule>,
    pub multipliers: Vec<SaleMultiplier>,
    pub exclusions: Vec<SaleExclusion>,
}

/// The idempotency claim of a sale.
#[derive(Debug, Clone, Copy)]
pub struct Claim<'a> {
    pub user_id: Uuid,
    pub key: &'a str,
    pub request_hash: &'a str,
    pub ttl_seconds: i64,
}

#[derive(sqlx::FromRow)]
struct ContextRow {
    claimed: bool,
    u_id: Option<Uuid>,
    u_name: Option<String>,
    u_username: Option<String>,
    u_code: Option<String>,
    u_phone: Option<String>,
    u_role: Option<Role>,
    u_ventana_id: Option<Uuid>,
    u_active: Option<bool>,
    u_settings: Option<Value>,
    u_policy: Option<Value>,
    v_id: Option<Uuid>,
    v_banca_id: Option<Uuid>,
    v_name: Option<String>,
    v_code: Option<String>,
    v_phone: Option<String>,
    v_settings: Option<Value>,
    v_active: Option<bool>,
    v_policy: Option<Value>,
    b_active: Option<bool>,
    b_cutoff: Option<i32>,
    b_policy: Option<Value>,
    b_min_bet: Option<Decimal>,
    b_max_per_number: Option<Decimal>,
    l_policy: Option<Value>,
    s_id: Option<Uuid>,
    s_loteria_id: Option<Uuid>,
    s_banca_id: Option<Uuid>,
    s_name: Option<String>,
    s_scheduled_at: Option<DateTime<Utc>>,
    s_status: Option<SorteoStatus>,
    s_is_active: Option<bool>,
    s_deleted: Option<bool>,
    s_digits: Option<i16>,
    s_winning_number: Option<String>,
    s_loteria_name: Option<String>,
    s_loteria_rules: Option<Value>,
    now: DateTime<Utc>,
    seq: i64,
    rules: Option<Value>,
    multipliers: Option<Value>,
    exclusions: Option<Value>,
}

/// A restriction rule as the context query lists it (numbers and dates as text, exactly).
#[derive(serde::Deserialize)]
#[allow(clippy::type_complexity)]
struct RuleJson(
    Uuid,
    Option<Uuid>,
    Option<Uuid>,
    Option<Uuid>,
    Option<Uuid>,
    Option<String>,
    bool,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    bool,
    Option<NaiveDate>,
    Option<i16>,
    Option<i16>,
    Option<Uuid>,
    Option<Uuid>,
    Option<Uuid>,
    Option<String>,
    bool,
    DateTime<Utc>,
);

#[derive(serde::Deserialize)]
struct MultiplierJson(Uuid, Uuid, String, String, String, bool, DateTime<Utc>);

#[derive(serde::Deserialize)]
struct ExclusionJson(Option<Uuid>, Option<String>);

fn exact(v: Option<String>) -> Result<Option<Decimal>, sqlx::Error> {
    v.map(|t| {
        t.parse::<Decimal>()
            .map_err(|e| sqlx::Error::Decode(format!("numeric {t:?}: {e}").into()))
    })
    .transpose()
}

fn from_json<T: serde::de::DeserializeOwned>(v: Option<Value>) -> Result<Vec<T>, sqlx::Error> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(v) => serde_json::from_value(v).map_err(|e| sqlx::Error::Decode(e.into())),
    }
}

pub async fn sale_context(
    conn: &mut PgConnection,
    claim: Option<Claim<'_>>,
    seller_id: Uuid,
    sorteo_id: Uuid,
    loteria_id: Uuid,
    named_multipliers: &[Uuid],
) -> Result<SaleContext, sqlx::Error> {
    let r: ContextRow = query_as(
        "WITH k AS (
             INSERT INTO idempotency_keys AS k (user_id, key, request_hash, expires_at)
             SELECT $5, $6, $7, now() + make_interval(secs => $8)
             WHERE $6::text IS NOT NULL
             ON CONFLICT (user_id, key) DO UPDATE
                 SET request_hash = EXCLUDED.request_hash, ticket_id = NULL, status_code = NULL,
                     response_body = NULL, created_at = now(), expires_at = EXCLUDED.expires_at
                 WHERE k.expires_at <= now()
             RETURNING 1),
         u AS (
             SELECT id, name, username::text AS username, code, phone, role, ventana_id,
                    is_active AND deleted_at IS NULL AS active, settings, commission_policy_json
             FROM users WHERE id = $1),
         v AS (
             SELECT v.id, v.banca_id, v.name, v.code, v.phone, v.settings,
                    v.is_active AND v.deleted_at IS NULL AS active,
                    v.commission_policy_json AS ventana_policy,
                    b.is_active AND b.deleted_at IS NULL AS banca_active,
                    b.sales_cutoff_minutes, b.commission_policy_json AS banca_policy,
                    b.default_min_bet, b.global_max_per_number,
                    (SELECT l.commission_policy_json FROM users l
                      WHERE l.ventana_id = v.id AND l.role = 'VENTANA' AND l.is_active
                        AND l.deleted_at IS NULL
                      ORDER BY l.updated_at DESC, l.id DESC LIMIT 1) AS listero_policy
             FROM ventanas v JOIN bancas b ON b.id = v.banca_id
             WHERE v.id = (SELECT ventana_id FROM u)),
         s AS (
             SELECT s.id, s.loteria_id, s.banca_id, s.name, s.scheduled_at, s.status, s.is_active,
                    s.deleted_at IS NOT NULL AS deleted, s.digits, s.winning_number,
                    l.name AS loteria_name, l.rules_json
             FROM sorteos s JOIN loterias l ON l.id = s.loteria_id
             WHERE s.id = $2
             FOR KEY SHARE OF s)
         SELECT (SELECT count(*) FROM k) > 0 OR $6::text IS NULL AS claimed,
                u.id AS u_id, u.name AS u_name, u.username AS u_username, u.code AS u_code,
                u.phone AS u_phone, u.role AS u_role, u.ventana_id AS u_ventana_id,
                u.active AS u_active, u.settings AS u_settings,
                u.commission_policy_json AS u_policy,
                v.id AS v_id, v.banca_id AS v_banca_id, v.name AS v_name, v.code AS v_code,
                v.phone AS v_phone, v.settings AS v_settings, v.active AS v_active,
                v.ventana_policy AS v_policy, v.banca_active AS b_active,
                v.sales_cutoff_minutes AS b_cutoff, v.banca_policy AS b_policy,
                v.default_min_bet AS b_min_bet, v.global_max_per_number AS b_max_per_number,
                v.listero_policy AS l_policy,
                s.id AS s_id, s.loteria_id AS s_loteria_id, s.banca_id AS s_banca_id,
                s.name AS s_name, s.scheduled_at AS s_scheduled_at, s.status AS s_status,
                s.is_active AS s_is_active, s.deleted AS s_deleted, s.digits AS s_digits,
                s.winning_number AS s_winning_number, s.loteria_name AS s_loteria_name,
                s.rules_json AS s_loteria_rules,
                now() AS now, nextval('ticket_number_seq') AS seq,
                (SELECT json_agg(json_build_array(r.id, r.owner_banca_id, r.banca_id,
                            r.ventana_id, r.user_id, r.number, r.is_auto_date,
                            r.max_amount::text, r.max_total::text, r.base_amount::text,
                            r.sales_percentage::text, r.applies_to_vendedor, r.applies_to_date,
                            r.applies_to_hour, r.sales_cutoff_minutes, r.loteria_id,
                            r.multiplier_id, r.sorteo_id, r.message, r.is_active, r.updated_at)
                            ORDER BY r.updated_at DESC, r.id DESC)
                   FROM restriction_rules r
                  WHERE r.owner_banca_id = v.banca_id AND r.is_active
                    AND (r.user_id = u.id
                         OR (r.user_id IS NULL AND r.ventana_id = v.id)
                         OR (r.user_id IS NULL AND r.ventana_id IS NULL
                             AND (r.banca_id IS NULL OR r.banca_id = v.banca_id)))) AS rules,
                (SELECT json_agg(json_build_array(m.id, m.loteria_id, m.name, m.value_x::text,
                            m.kind, m.is_active, m.created_at) ORDER BY m.created_at, m.id)
                   FROM loteria_multipliers m
                  WHERE m.loteria_id = $3 OR m.id = ANY($4)) AS multipliers,
                (SELECT json_agg(json_build_array(x.multiplier_id, x.number))
                   FROM sorteo_lista_exclusions x
                  WHERE x.sorteo_id = $2 AND x.banca_id = v.banca_id
                    AND (x.ventana_id IS NULL OR x.ventana_id = v.id)
                    AND (x.vendedor_id IS NULL OR x.vendedor_id = u.id)) AS exclusions
         FROM (SELECT 1) one
         LEFT JOIN u ON true LEFT JOIN v ON true LEFT JOIN s ON true",
    )
    .bind(seller_id)
    .bind(sorteo_id)
    .bind(loteria_id)
    .bind(named_multipliers)
    .bind(claim.map(|c| c.user_id))
    .bind(claim.map(|c| c.key))
    .bind(claim.map(|c| c.request_hash))
    .bind(claim.map(|c| c.ttl_seconds as f64))
    .fetch_one(conn)
    .await?;
    let user = match (r.u_id, r.u_role) {
        (Some(id), Some(role)) => Some(SaleUser {
            id,
            name: r.u_name.unwrap_or_default(),
            username: r.u_username.unwrap_or_default(),
            code: r.u_code,
            phone: r.u_phone,
            role,
            ventana_id: r.u_ventana_id,
            active: r.u_active.unwrap_or(false),
            settings: r.u_settings,
            commission_policy_json: r.u_policy,
        }),
        _ => None,
    };
    let ventana = match (r.v_id, r.v_banca_id) {
        (Some(id), Some(banca_id)) => Some(SaleVentana {
            id,
            banca_id,
            name: r.v_name.unwrap_or_default(),
            code: r.v_code.unwrap_or_default(),
            phone: r.v_phone,
            settings: r.v_settings,
            active: r.v_active.unwrap_or(false),
            ventana_policy: r.v_policy,
            banca_active: r.b_active.unwrap_or(false),
            banca_cutoff_minutes: r.b_cutoff.unwrap_or(1),
            banca_policy: r.b_policy,
            default_min_bet: r.b_min_bet.unwrap_or_default(),
            global_max_per_number: r.b_max_per_number.unwrap_or_default(),
            listero_policy: r.l_policy,
        }),
        _ => None,
    };
    let sorteo = match (r.s_id, r.s_loteria_id, r.s_scheduled_at, r.s_status) {
        (Some(id), Some(loteria_id), Some(scheduled_at), Some(status)) => Some(SaleSorteo {
            id,
            loteria_id,
            banca_id: r.s_banca_id,
            name: r.s_name.unwrap_or_default(),
            scheduled_at,
            status,
            is_active: r.s_is_active.unwrap_or(false),
            deleted: r.s_deleted.unwrap_or(true),
            digits: r.s_digits.unwrap_or(2),
            winning_number: r.s_winning_number,
            loteria_name: r.s_loteria_name.unwrap_or_default(),
            loteria_rules: r.s_loteria_rules.unwrap_or(Value::Null),
            now: r.now,
        }),
        _ => None,
    };
    let mut rules = Vec::new();
    for x in from_json::<RuleJson>(r.rules)? {
        rules.push(Rule {
            id: x.0,
            owner_banca_id: x.1,
            banca_id: x.2,
            ventana_id: x.3,
            user_id: x.4,
            number: x.5,
            is_auto_date: x.6,
            max_amount: exact(x.7)?,
            max_total: exact(x.8)?,
            base_amount: exact(x.9)?,
            sales_percentage: exact(x.10)?,
            applies_to_vendedor: x.11,
            applies_to_date: x.12,
            applies_to_hour: x.13.and_then(|h| u8::try_from(h).ok()),
            sales_cutoff_minutes: x.14.map(i32::from),
            loteria_id: x.15,
            multiplier_id: x.16,
            sorteo_id: x.17,
            message: x.18,
            is_active: x.19,
            updated_at: x.20,
        });
    }
    let mut multipliers = Vec::new();
    for m in from_json::<MultiplierJson>(r.multipliers)? {
        multipliers.push(SaleMultiplier {
            id: m.0,
            loteria_id: m.1,
            name: m.2,
            value_x: exact(Some(m.3))?.unwrap_or_default(),
            kind: m.4,
            is_active: m.5,
            created_at: m.6,
        });
    }
    let exclusions = from_json::<ExclusionJson>(r.exclusions)?
        .into_iter()
        .map(|e| SaleExclusion {
            multiplier_id: e.0,
            number: e.1,
        })
        .collect();
    Ok(SaleContext {
        claimed: r.claimed,
        user,
        ventana,
        sorteo,
        seq: r.seq,
        rules,
        multipliers,
        exclusions,
    })
}

#[derive(sqlx::FromRow)]
struct RuleCols {
    id: Uuid,
    owner_banca_id: Option<Uuid>,
    banca_id: Option<Uuid>,
    ventana_id: Option<Uuid>,
    user_id: Option<Uuid>,
    number: Option<String>,
    is_auto_date: bool,
    max_amount: Option<Decimal>,
    max_total: Option<Decimal>,
    base_amount: Option<Decimal>,
    sales_percentage: Option<Decimal>,
    applies_to_vendedor: bool,
    applies_to_date: Option<NaiveDate>,
    applies_to_hour: Option<i16>,
    sales_cutoff_minutes: Option<i16>,
    loteria_id: Option<Uuid>,
    multiplier_id: Option<Uuid>,
    sorteo_id: Option<Uuid>,
    message: Option<String>,
    is_active: bool,
    updated_at: DateTime<Utc>,
}

/// The active rules of banca `banca_id` that reach a seller of `ventana_id` (its own, its
/// ventana's, the banca's and the general ones), as the resolutions read them: the same set as
/// `db::restrictions::for_seller`, without the display joins. Most recently updated first.
pub async fn rules_for_seller(
    conn: &mut PgConnection,
    banca_id: Uuid,
    ventana_id: Uuid,
    user_id: Uuid,
) -> Result<Vec<Rule>, sqlx::Error> {
    let rows: Vec<RuleCols> = query_as(
        "SELECT id, owner_banca_id, banca_id, ventana_id, user_id, number, is_auto_date,
                max_amount, max_total, base_amount, sales_percentage, applies_to_vendedor,
                applies_to_date, applies_to_hour, sales_cutoff_minutes, loteria_id,
                multiplier_id, sorteo_id, message, is_active, updated_at
         FROM restriction_rules r
         WHERE r.owner_banca_id = $1 AND r.is_active
           AND (r.user_id = $3
                OR (r.user_id IS NULL AND r.ventana_id = $2)
                OR (r.user_id IS NULL AND r.ventana_id IS NULL
                    AND (r.banca_id IS NULL OR r.banca_id = $1)))
         ORDER BY r.updated_at DESC, r.id DESC",
    )
    .bind(banca_id)
    .bind(ventana_id)
    .bind(user_id)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Rule {
            id: r.id,
            owner_banca_id: r.owner_banca_id,
            banca_id: r.banca_id,
            ventana_id: r.ventana_id,
            user_id: r.user_id,
            number: r.number,
            is_auto_date: r.is_auto_date,
            max_amount: r.max_amount,
            max_total: r.max_total,
            base_amount: r.base_amount,
            sales_percentage: r.sales_percentage,
            applies_to_vendedor: r.applies_to_vendedor,
            applies_to_date: r.applies_to_date,
            applies_to_hour: r.applies_to_hour.and_then(|h| u8::try_from(h).ok()),
            sales_cutoff_minutes: r.sales_cutoff_minutes.map(i32::from),
            loteria_id: r.loteria_id,
            multiplier_id: r.multiplier_id,
            sorteo_id: r.sorteo_id,
            message: r.message,
            is_active: r.is_active,
            updated_at: r.updated_at,
        })
        .collect())
}

/// A user as the sale path needs it (the seller, or the vendedor a ticket belongs to).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SaleUser {
    pub id: Uuid,
    pub name: String,
    pub username: String,
    pub code: Option<String>,
    pub phone: Option<String>,
    pub role: Role,
    pub ventana_id: Option<Uuid>,
    pub active: bool,
    pub settings: Option<Value>,
    pub commission_policy_json: Option<Value>,
}

/// The seller's ventana with its banca and its listero's commission policy.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SaleVentana {
    pub id: Uuid,
    pub banca_id: Uuid,
    pub name: String,
    pub code: String,
    pub phone: Option<String>,
    pub settings: Option<Value>,
    pub active: bool,
    pub ventana_policy: Option<Value>,
    pub banca_active: bool,
    pub banca_cutoff_minutes: i32,
    pub banca_policy: Option<Value>,
    pub default_min_bet: Decimal,
    pub global_max_per_number: Decimal,
    /// The policy of the ventana's listero (its most recently updated active VENTANA user).
    pub listero_policy: Option<Value>,
}

pub async fn ventana(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<SaleVentana>, sqlx::Error> {
    query_as(
        "SELECT v.id, v.banca_id, v.name, v.code, v.phone, v.settings,
                v.is_active AND v.deleted_at IS NULL AS active,
                v.commission_policy_json AS ventana_policy,
                b.is_active AND b.deleted_at IS NULL AS banca_active,
                b.sales_cutoff_minutes AS banca_cutoff_minutes,
                b.commission_policy_json AS banca_policy,
                b.default_min_bet, b.global_max_per_number,
                (SELECT u.commission_policy_json FROM users u
                  WHERE u.ventana_id = v.id AND u.role = 'VENTANA' AND u.is_active
                    AND u.deleted_at IS NULL
                  ORDER BY u.updated_at DESC, u.id DESC LIMIT 1) AS listero_policy
         FROM ventanas v JOIN bancas b ON b.id = v.banca_id
         WHERE v.id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// A multiplier of the sale's lotería, or one a jugada names.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SaleMultiplier {
    pub id: Uuid,
    pub loteria_id: Uuid,
    pub name: String,
    pub value_x: Decimal,
    pub kind: String,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
}

/// Every multiplier of lotería `loteria_id`, plus those of `ids` (which may belong to others).
pub async fn multipliers(
    conn: &mut PgConnection,
    loteria_id: Uuid,
    ids: &[Uuid],
) -> Result<Vec<SaleMultiplier>, sqlx::Error> {
    query_as(
        "SELECT id, loteria_id, name, value_x, kind::text AS kind, is_active, created_at
         FROM loteria_multipliers WHERE loteria_id = $1 OR id = ANY($2)
         ORDER BY created_at, id",
    )
    .bind(loteria_id)
    .bind(ids)
    .fetch_all(conn)
    .await
}

/// An exclusion entry of the sorteo that reaches the seller.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SaleExclusion {
    pub multiplier_id: Option<Uuid>,
    pub number: Option<String>,
}

pub async fn exclusions(
    conn: &mut PgConnection,
    sorteo_id: Uuid,
    banca_id: Uuid,
    ventana_id: Uuid,
    vendedor_id: Uuid,
) -> Result<Vec<SaleExclusion>, sqlx::Error> {
    query_as(
        "SELECT multiplier_id, number FROM sorteo_lista_exclusions
         WHERE sorteo_id = $1 AND banca_id = $2
           AND (ventana_id IS NULL OR ventana_id = $3)
           AND (vendedor_id IS NULL OR vendedor_id = $4)",
    )
    .bind(sorteo_id)
    .bind(banca_id)
    .bind(ventana_id)
    .bind(vendedor_id)
    .fetch_all(conn)
    .await
}

/// Live sales of the sorteo so far (tickets not cancelled or excluded), per scope.
#[derive(Debug, Clone, Copy, sqlx::FromRow)]
pub struct ScopeSales {
    pub vendedor: Decimal,
    pub ventana: Decimal,
    pub banca: Decimal,
}

pub async fn scope_sales(
    conn: &mut PgConnection,
    sorteo_id: Uuid,
    banca_id: Uuid,
    ventana_id: Uuid,
    vendedor_id: Uuid,
) -> Result<ScopeSales, sqlx::Error> {
    query_as(
        "SELECT COALESCE(SUM(total_amount) FILTER (WHERE vendedor_id = $4), 0) AS vendedor,
                COALESCE(SUM(total_amount) FILTER (WHERE ventana_id = $3), 0) AS ventana,
                COALESCE(SUM(total_amount), 0) AS banca
         FROM tickets
         WHERE sorteo_id = $1 AND banca_id = $2 AND deleted_at IS NULL
           AND status IN ('ACTIVE', 'EVALUATED', 'PAID', 'PAGADO')",
    )
    .bind(sorteo_id)
    .bind(banca_id)
    .bind(ventana_id)
    .bind(vendedor_id)
    .fetch_one(conn)
    .await
}

/// One counter change: `amount` (positive to sell, negative to release) on
/// (scope, multiplier key, number) of the sorteo.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct CounterDelta {
    pub scope_id: Uuid,
    pub mkey: Uuid,
    pub number: String,
    pub scope_kind: &'static str,
    pub amount: Decimal,
}

/// A counter's value after a change.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CounterValue {
    pub scope_id: Uuid,
    pub mkey: Uuid,
    pub number: String,
    pub amount: Decimal,
}

/// Adds `deltas` to the sorteo's counters (creating missing ones) and returns the new values.
/// Rows are locked in (scope, key, number) order, the same order every writer uses, so
/// concurrent sales and cancellations never deadlock; the locks are held until the
/// transaction ends, so the returned values are exact for the rest of it.
pub async fn add_to_counters(
    conn: &mut PgConnection,
    sorteo_id: Uuid,
    deltas: &[CounterDelta],
) -> Result<Vec<CounterValue>, sqlx::Error> {
    let mut sorted: Vec<&CounterDelta> = deltas.iter().collect();
    sorted.sort();
    let kinds: Vec<&str> = sorted.iter().map(|d| d.scope_kind).collect();
    let scopes: Vec<Uuid> = sorted.iter().map(|d| d.scope_id).collect();
    let mkeys: Vec<Uuid> = sorted.iter().map(|d| d.mkey).collect();
    let numbers: Vec<&str> = sorted.iter().map(|d| d.number.as_str()).collect();
    let amounts: Vec<Decimal> = sorted.iter().map(|d| d.amount).collect();
    query_as(
        "INSERT INTO sale_counters AS c (sorteo_id, scope_kind, scope_id, mkey, number, amount)
         SELECT $1, k, s, m, n, a
         FROM unnest($2::text[], $3::uuid[], $4::uuid[], $5::text[], $6::numeric[])
              WITH ORDINALITY AS t(k, s, m, n, a, i)
         ORDER BY i
         ON CONFLICT (sorteo_id, scope_id, mkey, number)
         DO UPDATE SET amount = c.amount + EXCLUDED.amount
         RETURNING c.scope_id, c.mkey, c.number, c.amount",
    )
    .bind(sorteo_id)
    .bind(&kinds)
    .bind(&scopes)
    .bind(&mkeys)
    .bind(&numbers)
    .bind(&amounts)
    .fetch_all(conn)
    .await
}

/// Subtracts `deltas` (positive amounts) from existing counters, locking them in key order
/// first (the order every writer uses). A counter that would go negative fails the statement
/// (CHECK): the counters disagree with the jugadas, and the transaction rolls back rather than
/// guess.
pub async fn release_counters(
    conn: &mut PgConnection,
    sorteo_id: Uuid,
    deltas: &[CounterDelta],
) -> Result<(), sqlx::Error> {
    let mut sorted: Vec<&CounterDelta> = deltas.iter().collect();
    sorted.sort();
    let scopes: Vec<Uuid> = sorted.iter().map(|d| d.scope_id).collect();
    let mkeys: Vec<Uuid> = sorted.iter().map(|d| d.mkey).collect();
    let numbers: Vec<&str> = sorted.iter().map(|d| d.number.as_str()).collect();
    let amounts: Vec<Decimal> = sorted.iter().map(|d| d.amount).collect();
    query(
        "SELECT 1 FROM sale_counters c
         JOIN unnest($2::uuid[], $3::uuid[], $4::text[]) AS d(s, m, n)
           ON c.scope_id = d.s AND c.mkey = d.m AND c.number = d.n
         WHERE c.sorteo_id = $1
         ORDER BY c.scope_id, c.mkey, c.number
         FOR UPDATE OF c",
    )
    .bind(sorteo_id)
    .bind(&scopes)
    .bind(&mkeys)
    .bind(&numbers)
    .execute(&mut *conn)
    .await?;
    query(
        "UPDATE sale_counters c SET amount = c.amount - d.a
         FROM unnest($2::uuid[], $3::uuid[], $4::text[], $5::numeric[]) AS d(s, m, n, a)
         WHERE c.sorteo_id = $1 AND c.scope_id = d.s AND c.mkey = d.m AND c.number = d.n",
    )
    .bind(sorteo_id)
    .bind(&scopes)
    .bind(&mkeys)
    .bind(&numbers)
    .bind(&amounts)
    .execute(conn)
    .await
    .map(|_| ())
}

/// The idempotency record of (user, key), if live.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredResponse {
    pub request_hash: String,
    pub status_code: Option<i16>,
    pub response_body: Option<Vec<u8>>,
}

pub async fn find_idempotent(
    conn: &mut PgConnection,
    user_id: Uuid,
    key: &str,
) -> Result<Option<StoredResponse>, sqlx::Error> {
    query_as(
        "SELECT request_hash, status_code, response_body FROM idempotency_keys
         WHERE user_id = $1 AND key = $2 AND expires_at > now()",
    )
    .bind(user_id)
    .bind(key)
    .fetch_optional(conn)
    .await
}

/// A ticket as the sale writes it.
#[derive(Debug, Clone)]
pub struct NewTicket<'a> {
    pub id: Uuid,
    pub ticket_number: &'a str,
    pub business_date: NaiveDate,
    pub banca_id: Uuid,
    pub loteria_id: Uuid,
    pub sorteo_id: Uuid,
    pub ventana_id: Uuid,
    pub vendedor_id: Uuid,
    pub total_amount: Decimal,
    pub total_commission: Decimal,
    pub total_listero_commission: Decimal,
    pub cliente_nombre: &'a str,
    pub created_by: Uuid,
    pub created_by_role: Role,
    pub idempotency_key: Option<&'a str>,
    pub created_at: DateTime<Utc>,
}

/// A jugada as the sale writes it.
#[derive(Debug, Clone)]
pub struct NewJugada {
    pub id: Uuid,
    pub position: i16,
    pub kind: &'static str,
    pub number: String,
    pub reventado_number: Option<String>,
    pub amount: Decimal,
    pub final_multiplier_x: Decimal,
    pub multiplier_id: Option<Uuid>,
    pub commission_percent: Decimal,
    pub commission_amount: Decimal,
    pub commission_origin: Option<&'static str>,
    pub commission_rule_id: Option<String>,
    pub listero_commission_amount: Decimal,
}

/// The stored answer of an idempotent sale.
#[derive(Debug, Clone)]
pub struct IdempotentAnswer<'a> {
    pub user_id: Uuid,
    pub key: &'a str,
    pub status_code: i16,
    pub body: &'a [u8],
}

/// The audit entry a sale writes with its ticket.
#[derive(Debug, Clone)]
pub struct SaleAudit<'a> {
    pub user_id: Uuid,
    pub banca_id: Uuid,
    pub details: &'a Value,
    pub request_id: Option<&'a str>,
}

/// The counter side of a sale's write.
#[derive(Debug, Clone, Copy)]
pub struct CounterPlan<'a> {
    /// Each counter change with the smallest cumulative limit on its counter (`None`: none).
    pub deltas: &'a [(CounterDelta, Option<Decimal>)],
    /// False when a per-ticket limit is already broken: the counters are still added (to name
    /// the limit), the ticket is not written.
    pub allowed: bool,
    /// (number, multiplier an exclusion would match) of every line.
    pub exclusion_guard: &'a [(String, Option<Uuid>)],
}

/// What [`write_sale`] did.
#[derive(Debug, Clone)]
pub struct SaleWrite {
    /// False when a counter went over its cap: nothing but the counters was written, and the
    /// caller must roll back.
    pub inserted: bool,
    /// Every counter of the sale after the addition.
    pub counters: Vec<CounterValue>,
    /// An exclusion entry (seen with this statement's fresh snapshot) covers a line: nothing
    /// but the counters was written.
    pub excluded: bool,
}

/// The whole write of a sale in one statement: add `deltas` to the counters (rows locked in
/// key order), and — only when no counter went over its cap (`caps[i]` is the smallest
/// cumulative limit on `deltas[i]`'s counter, `None` for none) — insert the ticket, its
/// jugadas, the stored idempotent answer and the audit entry.
pub async fn write_sale(
    conn: &mut PgConnection,
    plan: &CounterPlan<'_>,
    t: &NewTicket<'_>,
    jugadas: &[NewJugada],
    answer: Option<&IdempotentAnswer<'_>>,
    audit: &SaleAudit<'_>,
) -> Result<SaleWrite, sqlx::Error> {
    let mut sorted: Vec<&(CounterDelta, Option<Decimal>)> = plan.deltas.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let c_kinds: Vec<&str> = sorted.iter().map(|d| d.0.scope_kind).collect();
    let c_scopes: Vec<Uuid> = sorted.iter().map(|d| d.0.scope_id).collect();
    let c_mkeys: Vec<Uuid> = sorted.iter().map(|d| d.0.mkey).collect();
    let c_numbers: Vec<&str> = sorted.iter().map(|d| d.0.number.as_str()).collect();
    let c_amounts: Vec<Decimal> = sorted.iter().map(|d| d.0.amount).collect();
    let c_caps: Vec<Option<Decimal>> = sorted.iter().map(|d| d.1).collect();

    let ids: Vec<Uuid> = jugadas.iter().map(|j| j.id).collect();
    let positions: Vec<i16> = jugadas.iter().map(|j| j.position).collect();
    let kinds: Vec<&str> = jugadas.iter().map(|j| j.kind).collect();
    let numbers: Vec<&str> = jugadas.iter().map(|j| j.number.as_str()).collect();
    let reventados: Vec<Option<&str>> = jugadas
        .iter()
        .map(|j| j.reventado_number.as_deref())
        .collect();
    let amounts: Vec<Decimal> = jugadas.iter().map(|j| j.amount).collect();
    let xs: Vec<Decimal> = jugadas.iter().map(|j| j.final_multiplier_x).collect();
    let mults: Vec<Option<Uuid>> = jugadas.iter().map(|j| j.multiplier_id).collect();
    let pcts: Vec<Decimal> = jugadas.iter().map(|j| j.commission_percent).collect();
    let camts: Vec<Decimal> = jugadas.iter().map(|j| j.commission_amount).collect();
    let origins: Vec<Option<&str>> = jugadas.iter().map(|j| j.commission_origin).collect();
    let rules: Vec<Option<&str>> = jugadas
        .iter()
        .map(|j| j.commission_rule_id.as_deref())
        .collect();
    let lamts: Vec<Decimal> = jugadas
        .iter()
        .map(|j| j.listero_commission_amount)
        .collect();
    let g_numbers: Vec<&str> = plan.exclusion_guard.iter().map(|g| g.0.as_str()).collect();
    let g_multipliers: Vec<Option<Uuid>> = plan.exclusion_guard.iter().map(|g| g.1).collect();
    let rows: Vec<(Uuid, Uuid, String, Decimal, bool, bool)> = query_as(
        "WITH d AS (
             SELECT * FROM unnest($17::text[], $18::uuid[], $19::uuid[], $20::text[],
                                  $21::numeric[], $22::numeric[])
                  WITH ORDINALITY AS d(k, s, m, n, a, cap, i)),
         c AS (
             INSERT INTO sale_counters AS c (sorteo_id, scope_kind, scope_id, mkey, number, amount)
             SELECT $6, k, s, m, n, a FROM d ORDER BY i
             ON CONFLICT (sorteo_id, scope_id, mkey, number)
             DO UPDATE SET amount = c.amount + EXCLUDED.amount
             RETURNING c.scope_id, c.mkey, c.number, c.amount),
         x AS (
             SELECT EXISTS (
                 SELECT 1 FROM sorteo_lista_exclusions e
                 JOIN unnest($45::text[], $46::uuid[]) AS g(n, m)
                   ON (e.number IS NULL OR e.number = g.n)
                  AND (e.multiplier_id IS NULL OR e.multiplier_id = g.m)
                 WHERE e.sorteo_id = $6 AND e.banca_id = $4
                   AND (e.ventana_id IS NULL OR e.ventana_id = $7)
                   AND (e.vendedor_id IS NULL OR e.vendedor_id = $8)) AS hit),
         ok AS (
             SELECT NOT (SELECT hit FROM x) AND NOT EXISTS (
                 SELECT 1 FROM c JOIN d ON d.s = c.scope_id AND d.m = c.mkey AND d.n = c.number
                 WHERE d.cap IS NOT NULL AND c.amount > d.cap) AS ok),
         t AS (
             INSERT INTO tickets (id, ticket_number, business_date, banca_id, loteria_id,
                 sorteo_id, ventana_id, vendedor_id, total_amount, total_commission,
                 total_listero_commission, cliente_nombre, created_by, created_by_role,
                 idempotency_key, created_at, updated_at)
             SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16
             WHERE $44 AND (SELECT ok FROM ok)
             RETURNING id),
         j AS (
             INSERT INTO jugadas (id, ticket_id, sorteo_id, banca_id, position, type, number,
                 reventado_number, amount, final_multiplier_x, multiplier_id, commission_percent,
                 commission_amount, commission_origin, commission_rule_id,
                 listero_commission_amount, created_at, updated_at)
             SELECT u.id, t.id, $6, $4, u.pos, u.kind::bet_type, u.num, u.rev, u.amount, u.x,
                    u.mult, u.pct, u.camt, u.origin, u.rule, u.lamt, $16, $16
             FROM t, unnest($23::uuid[], $24::int2[], $25::text[], $26::text[], $27::text[],
                            $28::numeric[], $29::numeric[], $30::uuid[], $31::numeric[],
                            $32::numeric[], $33::text[], $34::text[], $35::numeric[])
                  AS u(id, pos, kind, num, rev, amount, x, mult, pct, camt, origin, rule, lamt)
             RETURNING 1),
         k AS (
             UPDATE idempotency_keys SET ticket_id = (SELECT id FROM t), status_code = $37,
                    response_body = $38
             WHERE $36::uuid IS NOT NULL AND user_id = $36 AND key = $39
               AND EXISTS (SELECT 1 FROM t)
             RETURNING 1),
         a AS (
             INSERT INTO activity_logs (user_id, banca_id, action, target_type, target_id,
                                        details, request_id)
             SELECT $40, $41, 'TICKET_CREATE', 'TICKET', t.id::text, $42, $43 FROM t
             RETURNING 1)
         SELECT c.scope_id, c.mkey, c.number, c.amount,
                EXISTS (SELECT 1 FROM t)
                    AND (SELECT count(*) FROM j) >= 0
                    AND (SELECT count(*) FROM k) >= 0
                    AND (SELECT count(*) FROM a) >= 0 AS inserted,
                (SELECT hit FROM x) AS excluded
         FROM c",
    )
    .bind(t.id)
    .bind(t.ticket_number)
    .bind(t.business_date)
    .bind(t.banca_id)
    .bind(t.loteria_id)
    .bind(t.sorteo_id)
    .bind(t.ventana_id)
    .bind(t.vendedor_id)
    .bind(t.total_amount)
    .bind(t.total_commission)
    .bind(t.total_listero_commission)
    .bind(t.cliente_nombre)
    .bind(t.created_by)
    .bind(t.created_by_role)
    .bind(t.idempotency_key)
    .bind(t.created_at)
    .bind(&c_kinds)
    .bind(&c_scopes)
    .bind(&c_mkeys)
    .bind(&c_numbers)
    .bind(&c_amounts)
    .bind(&c_caps)
    .bind(&ids)
    .bind(&positions)
    .bind(&kinds)
    .bind(&numbers)
    .bind(&reventados)
    .bind(&amounts)
    .bind(&xs)
    .bind(&mults)
    .bind(&pcts)
    .bind(&camts)
    .bind(&origins)
    .bind(&rules)
    .bind(&lamts)
    .bind(answer.map(|a| a.user_id))
    .bind(answer.map(|a| a.status_code))
    .bind(answer.map(|a| a.body))
    .bind(answer.map(|a| a.key))
    .bind(audit.user_id)
    .bind(audit.banca_id)
    .bind(audit.details)
    .bind(audit.request_id)
    .bind(plan.allowed)
    .bind(&g_numbers)
    .bind(&g_multipliers)
    .fetch_all(conn)
    .await?;
    let inserted = rows.first().is_some_and(|r| r.4);
    let excluded = rows.first().is_some_and(|r| r.5);
    Ok(SaleWrite {
        inserted,
        excluded,
        counters: rows
            .into_iter()
            .map(|(scope_id, mkey, number, amount, _, _)| CounterValue {
                scope_id,
                mkey,
                number,
                amount,
            })
            .collect(),
    })
}

/// A ticket row locked for a state change (cancel, restore).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LockedTicket {
    pub id: Uuid,
    pub ticket_number: String,
    pub banca_id: Uuid,
    pub sorteo_id: Uuid,
    pub ventana_id: Uuid,
    pub vendedor_id: Uuid,
    pub total_amount: Decimal,
    pub status: String,
    pub created_by_role: Option<Role>,
}

/// Reads the ticket's sorteo id without locking (to lock the sorteo first, then the ticket).
pub async fn ticket_sorteo(conn: &mut PgConnection, id: Uuid) -> Result<Option<Uuid>, sqlx::Error> {
    query_scalar("SELECT sorteo_id FROM tickets WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await
}

pub async fn lock_ticket(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<LockedTicket>, sqlx::Error> {
    query_as(
        "SELECT id, ticket_number, banca_id, sorteo_id, ventana_id, vendedor_id, total_amount,
                status::text AS status, created_by_role
         FROM tickets WHERE id = $1 FOR UPDATE",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// A live jugada of a ticket, as the counters count it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CountedJugada {
    pub kind: String,
    pub number: String,
    pub amount: Decimal,
    pub multiplier_id: Option<Uuid>,
}

/// The jugadas of a ticket that count against limits: active and not excluded.
pub async fn counted_jugadas(
    conn: &mut PgConnection,
    ticket_id: Uuid,
) -> Result<Vec<CountedJugada>, sqlx::Error> {
    query_as(
        "SELECT type::text AS kind, number, amount, multiplier_id FROM jugadas
         WHERE ticket_id = $1 AND is_active AND NOT is_excluded AND deleted_at IS NULL
         ORDER BY position",
    )
    .bind(ticket_id)
    .fetch_all(conn)
    .await
}

/// The jugadas a restore brings back: every non-excluded jugada of the ticket.
pub async fn restorable_jugadas(
    conn: &mut PgConnection,
    ticket_id: Uuid,
) -> Result<Vec<CountedJugada>, sqlx::Error> {
    query_as(
        "SELECT type::text AS kind, number, amount, multiplier_id FROM jugadas
         WHERE ticket_id = $1 AND NOT is_excluded AND deleted_at IS NULL
         ORDER BY position",
    )
    .bind(ticket_id)
    .fetch_all(conn)
    .await
}

/// Marks a ticket CANCELLED (inactive, `deleted_at` and `cancelled_*` set) and its jugadas
/// inactive.
pub async fn mark_cancelled(
    conn: &mut PgConnection,
    id: Uuid,
    by: Uuid,
) -> Result<(), sqlx::Error> {
    query(
        "WITH t AS (
             UPDATE tickets SET status = 'CANCELLED', is_active = false, deleted_at = now(),
                    cancelled_at = now(), cancelled_by = $2, updated_at = now()
             WHERE id = $1 RETURNING id)
         UPDATE jugadas SET is_active = false, updated_at = now()
         WHERE ticket_id = (SELECT id FROM t) AND is_active",
    )
    .bind(id)
    .bind(by)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Marks a cancelled ticket ACTIVE again (clearing `deleted_at` and `cancelled_*`) and its
/// non-excluded jugadas active.
pub async fn mark_restored(conn: &mut PgConnection, id: Uuid) -> Result<(), sqlx::Error> {
    query(
        "WITH t AS (
             UPDATE tickets SET status = 'ACTIVE', is_active = true, deleted_at = NULL,
                    deleted_by = NULL, deleted_reason = NULL, cancelled_at = NULL,
                    cancelled_by = NULL, updated_at = now()
             WHERE id = $1 RETURNING id)
         UPDATE jugadas SET is_active = true, updated_at = now()
         WHERE ticket_id = (SELECT id FROM t) AND NOT is_excluded AND deleted_at IS NULL",
    )
    .bind(id)
    .execute(conn)
    .await
    .map(|_| ())
}

/// `print_count += 1`; the new count.
pub async fn bump_print_count(conn: &mut PgConnection, id: Uuid) -> Result<i32, sqlx::Error> {
    query_scalar(
        "UPDATE tickets SET print_count = print_count + 1, updated_at = now()
         WHERE id = $1 RETURNING print_count",
    )
    .bind(id)
    .fetch_one(conn)
    .await
}
