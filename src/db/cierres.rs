//! SQL of the cierres (`/cierres/*`, domain-money §4, §7), read from the report rollups only,
//! which hold exactly the money population of the account statements (a cierre agrees with
//! them to the cent):
//!
//! - `sales_rollup` (sorteo × day × ventana × vendedor × bet type × band) only where a figure
//!   splits by type or band, read once per request and grouped in one pass at the grain the
//!   answer needs ([`Grain`]) — or its sums over the sellers, `band_rollup` (sorteo × day × bet
//!   type × band), when the sorteo grain is not narrowed to a ventana or sellers; the types of
//!   a band are folded together in Rust
//!   (`services::cierres`), and the bands used and out-of-band anomalies of `meta` are derived
//!   from the same rows;
//! - `ticket_rollup` (sorteo × day × ventana × vendedor: tickets, money and jugadas, additive)
//!   for ticket counts over several bands and for per-seller totals;
//! - `ventana_rollup` (the same per sorteo × day × ventana, about 1/40 of `ticket_rollup`) for
//!   ticket counts when the filter names no seller;
//! - `seller_day_rollup` / `seller_day_tickets` (`sales_rollup` / `ticket_rollup` summed over
//!   the sorteos of a lotería and business day, ≈ 1/5 of the rows, kept by
//!   `db::rollups::rebuild_sorteo`) for the seller grain when the filter names no sorteo.
//!
//! No query joins two rollups. Rows of a deleted sorteo are excluded (a guard: deleting a
//! drawn sorteo already rebuilds its rollups empty) by joining `sorteos` after grouping where
//! the grain keeps the sorteo, else by `r.sorteo_id NOT IN (deleted sorteos)`.
//!
//! Distinct tickets of a band: a REVENTADO line's band is the smallest NUMERO multiplier of the
//! same number on the same ticket, so in a band other than 0 the REVENTADO tickets of a
//! (sorteo, day, ventana, vendedor) are a subset of its NUMERO tickets, and band 0 has only
//! REVENTADO lines (NUMERO multipliers are > 0). The band's tickets of one such group are
//! therefore the larger of its two rows' counts, those add up across sorteos and sellers, and
//! over any set of groups they equal the larger of the NUMERO and the REVENTADO sums (the
//! NUMERO sum in a band other than 0, the REVENTADO sum in band 0). Across bands a ticket may
//! count twice, so subtotals over bands take their tickets from `ticket_rollup`.
//!
//! Plans: the statements are sent unnamed ([`unnamed`]) so that PostgreSQL plans each one with
//! its parameters. A named statement switches to a generic plan after five executions, and with
//! the optional filters (`$n IS NULL OR …`) the generic plan expects one row and groups by
//! sorting: 1.5–4× slower on 30 days. The grouping by sorteo and by seller relies on the
//! extended statistics of migration `20261206000002_cierre_rollup_statistics` to be hashed
//! rather than sorted (without them the planner expects 30× too many groups).

use std::sync::OnceLock;

use chrono::{DateTime, NaiveDate, Utc};
use futures::stream::BoxStream;
use rust_decimal::Decimal;
use sqlx::postgres::PgArguments;
use sqlx::{PgPool, Postgres};
use uuid::Uuid;

use crate::db::query_as;

/// Which rollup rows count: every `Some` narrows (tenant isolation: `banca_id` is set for every
/// caller but an ADMIN in the global view).
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub banca_id: Option<Uuid>,
    pub ventana_id: Option<Uuid>,
    pub vendedor_id: Option<Uuid>,
    pub loteria_id: Option<Uuid>,
    pub sorteo_id: Option<Uuid>,
    /// Inclusive business days.
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Only these vendedores (the `top` cut of an export).
    pub vendedores: Option<Vec<Uuid>>,
    /// Only this band.
    pub band: Option<Decimal>,
}

impl Filter {
    /// Whether the filter names sellers (then `ventana_rollup` cannot answer it).
    fn names_sellers(&self) -> bool {
        self.vendedor_id.is_some() || self.vendedores.is_some()
    }
}

/// The rollup rows of a [`Filter`] but its band and the sorteo guard (`$1…$8`, rollup alias
/// `r`); statements that filter by band bind it as `$9`.
macro_rules! rollup_where {
    () => {
        "r.business_date BETWEEN $1 AND $2
         AND ($3::uuid IS NULL OR r.banca_id = $3)
         AND ($4::uuid IS NULL OR r.ventana_id = $4)
         AND ($5::uuid IS NULL OR r.vendedor_id = $5)
         AND ($6::uuid IS NULL OR r.loteria_id = $6)
         AND ($7::uuid IS NULL OR r.sorteo_id = $7)
         AND ($8::uuid[] IS NULL OR r.vendedor_id = ANY($8))"
    };
}

/// The per-day seller rollups' rows of a [`Filter`] that names no lotería or sorteo (`$6`,
/// `$7` must be NULL) but its band (`$1…$8`, alias `r`). They hold live sorteos only (no guard
/// needed).
macro_rules! day_rollup_where {
    () => {
        "r.business_date BETWEEN $1 AND $2
         AND ($3::uuid IS NULL OR r.banca_id = $3)
         AND ($4::uuid IS NULL OR r.ventana_id = $4)
         AND ($5::uuid IS NULL OR r.vendedor_id = $5)
         AND $6::uuid IS NULL AND $7::uuid IS NULL
         AND ($8::uuid[] IS NULL OR r.vendedor_id = ANY($8))"
    };
}

/// The nil lotería of the seller rows read from `seller_day_rollup` (see [`Grain::Seller`]).
pub const NO_LOTERIA: Uuid = Uuid::nil();

/// The sorteo guard of a grain that does not keep the sorteo: a hashed set of the deleted
/// sorteos (usually empty), probed per row (a semi-join with the live ones costs more).
macro_rules! live_sorteo {
    () => {
        "r.sorteo_id NOT IN (SELECT id FROM sorteos WHERE deleted_at IS NOT NULL)"
    };
}

/// Loterías with `ord`, the rank of their name: `ORDER BY ord, id` is `ORDER BY name, id` in
/// the database's collation (equal names share a rank).
macro_rules! ranked_loterias {
    () => {
        "(SELECT id, name, dense_rank() OVER (ORDER BY name) AS ord FROM loterias)"
    };
}

/// A sales row is outside every band: its band has no active NUMERO multiplier of the lotería,
/// or it is a REVENTADO line without a NUMERO line of its number on the ticket (band 0).
macro_rules! out_of_band {
    () => {
        "(NOT r.in_band OR (r.type = 'REVENTADO' AND r.band = 0))"
    };
}

/// An unnamed statement (planned with its parameters every time; see the module docs).
fn unnamed<'q, O>(sql: &'q str) -> sqlx::query::QueryAs<'q, Postgres, O, PgArguments>
where
    O: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
{
    query_as::<O>(sql).persistent(false)
}

/// How [`rows`] groups `sales_rollup`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grain {
    /// Lotería × sorteo × business day × bet type × band (× `in_band`), ordered by lotería
    /// name, lotería, draw time, sorteo, day, band, type.
    Sorteo,
    /// The same, ordered band first (the band sheets of the XLSX).
    BandSorteo,
    /// Vendedor × ventana × lotería × bet type × band (× `in_band`), unordered; without a
    /// lotería or sorteo filter vendedor × ventana × bet type × band from the day rollup, every
    /// row with the lotería [`NO_LOTERIA`] ([`Grain::from_day_rollup`]).
    Seller,
    /// Every rollup row (sorteo × day × ventana × vendedor × bet type × band), unordered.
    SellerSorteo,
}

impl Grain {
    /// The seller grain of `f` is read from `seller_day_rollup` (rows without a lotería).
    pub fn from_day_rollup(self, f: &Filter) -> bool {
        self == Grain::Seller && f.loteria_id.is_none() && f.sorteo_id.is_none()
    }
}

/// One group of `sales_rollup` rows of one bet type at a [`Grain`]; the keys the grain drops are
/// `None`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Row {
    pub loteria_id: Uuid,
    pub loteria_name: String,
    /// The rank of the lotería's name (see [`ranked_loterias`]).
    pub loteria_ord: i64,
    pub sorteo_id: Option<Uuid>,
    pub scheduled_at: Option<DateTime<Utc>>,
    pub business_date: Option<NaiveDate>,
    pub vendedor_id: Option<Uuid>,
    pub vendedor_name: Option<String>,
    pub ventana_id: Option<Uuid>,
    pub ventana_name: Option<String>,
    /// REVENTADO, else NUMERO.
    pub reventado: bool,
    pub band: Decimal,
    /// An active NUMERO multiplier of the lotería has exactly the band's value.
    pub in_band: bool,
    pub sales: Decimal,
    pub payouts: Decimal,
    pub listero: Decimal,
    pub jugadas: i64,
    /// Σ of the rollup rows' distinct tickets (additive only within one type and band).
    pub tickets: i64,
}

impl Row {
    /// The row is outside every band (see [`Anomaly`]).
    pub fn out_of_band(&self) -> bool {
        !self.in_band || (self.reventado && self.band.is_zero())
    }
}

const ROW_SUMS: &str = "sum(r.total_sales) AS sales, sum(r.total_payouts) AS payouts,
       sum(r.listero_commission) AS listero, sum(r.jugada_count)::int8 AS jugadas,
       sum(r.ticket_count)::int8 AS tickets";

/// The sorteo-grain rows of a filter that names no ventana or seller come from `band_rollup`
/// (sorteo × day × type × band, the sums of `sales_rollup` over the sellers, kept in the same
/// transaction): ≈ 2,200 rows for 30 days of the benchmark instead of ≈ 103,000.
const BAND_ROLLUP_WHERE: &str = "r.business_date BETWEEN $1 AND $2
         AND ($3::uuid IS NULL OR r.banca_id = $3)
         AND $4::uuid IS NULL AND $5::uuid IS NULL
         AND ($6::uuid IS NULL OR r.loteria_id = $6)
         AND ($7::uuid IS NULL OR r.sorteo_id = $7)
         AND $8::uuid[] IS NULL";

/// The table and row filter of a sorteo × type × band read: `band_rollup` (its sums over the
/// sellers) when `banca_wide` (no ventana or seller named), else `sales_rollup`.
fn band_source(banca_wide: bool) -> (&'static str, &'static str) {
    if banca_wide {
        ("band_rollup", BAND_ROLLUP_WHERE)
    } else {
        ("sales_rollup", rollup_where!())
    }
}

/// `banca_wide`: the sorteo grains read `band_rollup`; the seller grain reads
/// `seller_day_rollup` (the filter names no lotería or sorteo).
fn rows_sql(grain: Grain, banca_wide: bool) -> String {
    match grain {
        Grain::Sorteo | Grain::BandSorteo => format!(
            "WITH c AS (
                SELECT r.sorteo_id, r.business_date, r.loteria_id, r.type, r.band, r.in_band,
                       {sums}
                FROM {source} r
                WHERE {where_} AND ($9::numeric IS NULL OR r.band = $9)
                GROUP BY r.sorteo_id, r.business_date, r.loteria_id, r.type, r.band, r.in_band
            )
            SELECT c.loteria_id, l.name AS loteria_name, l.ord AS loteria_ord, c.sorteo_id,
                   s.scheduled_at, c.business_date, NULL::uuid AS vendedor_id,
                   NULL::text AS vendedor_name, NULL::uuid AS ventana_id,
                   NULL::text AS ventana_name, c.type = 'REVENTADO' AS reventado, c.band,
                   c.in_band, c.sales, c.payouts, c.listero, c.jugadas, c.tickets
            FROM c JOIN sorteos s ON s.id = c.sorteo_id AND s.deleted_at IS NULL
            JOIN {loterias} l ON l.id = c.loteria_id
            ORDER BY {order}",
            sums = ROW_SUMS,
            source = band_source(banca_wide).0,
            where_ = band_source(banca_wide).1,
            loterias = ranked_loterias!(),
            order = if grain == Grain::Sorteo {
                "l.ord, c.loteria_id, s.scheduled_at, c.sorteo_id, c.business_date, c.band,
                 c.type"
            } else {
                "c.band, l.ord, c.loteria_id, s.scheduled_at, c.sorteo_id, c.business_date,
                 c.type"
            },
        ),
        // Without a lotería or sorteo filter the day rollup answers; it has no lotería (its
        // rows carry [`NO_LOTERIA`]; the bands used per lotería come from [`band_uses`]).
        Grain::Seller if banca_wide => format!(
            "WITH c AS (
                SELECT r.vendedor_id, r.ventana_id, r.type, r.band, r.in_band, {sums}
                FROM seller_day_rollup r
                WHERE {where_} AND ($9::numeric IS NULL OR r.band = $9)
                GROUP BY r.vendedor_id, r.ventana_id, r.type, r.band, r.in_band
            )
            SELECT '{NO_LOTERIA}'::uuid AS loteria_id,
                   ''::text AS loteria_name, 0::int8 AS loteria_ord,
                   NULL::uuid AS sorteo_id, NULL::timestamptz AS scheduled_at,
                   NULL::date AS business_date, c.vendedor_id,
                   COALESCE(u.name, '') AS vendedor_name, c.ventana_id,
                   COALESCE(v.name, '') AS ventana_name, c.type = 'REVENTADO' AS reventado,
                   c.band, c.in_band, c.sales, c.payouts, c.listero, c.jugadas, c.tickets
            FROM c LEFT JOIN users u ON u.id = c.vendedor_id
            LEFT JOIN ventanas v ON v.id = c.ventana_id",
            sums = ROW_SUMS,
            where_ = day_rollup_where!(),
        ),
        Grain::Seller => format!(
            "WITH c AS (
                SELECT r.vendedor_id, r.ventana_id, r.loteria_id, r.type, r.band, r.in_band,
                       {sums}
                FROM sales_rollup r
                WHERE {where_} AND ($9::numeric IS NULL OR r.band = $9) AND {live}
                GROUP BY r.vendedor_id, r.ventana_id, r.loteria_id, r.type, r.band, r.in_band
            )
            SELECT c.loteria_id, l.name AS loteria_name, l.ord AS loteria_ord,
                   NULL::uuid AS sorteo_id, NULL::timestamptz AS scheduled_at,
                   NULL::date AS business_date, c.vendedor_id,
                   COALESCE(u.name, '') AS vendedor_name, c.ventana_id,
                   COALESCE(v.name, '') AS ventana_name, c.type = 'REVENTADO' AS reventado,
                   c.band, c.in_band, c.sales, c.payouts, c.listero, c.jugadas, c.tickets
            FROM c JOIN {loterias} l ON l.id = c.loteria_id
            LEFT JOIN users u ON u.id = c.vendedor_id
            LEFT JOIN ventanas v ON v.id = c.ventana_id",
            sums = ROW_SUMS,
            where_ = rollup_where!(),
            live = live_sorteo!(),
            loterias = ranked_loterias!(),
        ),
        // The rollup's key is this grain's: its rows need no grouping.
        Grain::SellerSorteo => format!(
            "SELECT r.loteria_id, l.name AS loteria_name, l.ord AS loteria_ord, r.sorteo_id,
                    s.scheduled_at, r.business_date, r.vendedor_id,
                    COALESCE(u.name, '') AS vendedor_name, r.ventana_id,
                    COALESCE(v.name, '') AS ventana_name, r.type = 'REVENTADO' AS reventado,
                    r.band, r.in_band, r.total_sales AS sales, r.total_payouts AS payouts,
                    r.listero_commission AS listero, r.jugada_count::int8 AS jugadas,
                    r.ticket_count::int8 AS tickets
             FROM sales_rollup r JOIN sorteos s ON s.id = r.sorteo_id AND s.deleted_at IS NULL
             JOIN {loterias} l ON l.id = r.loteria_id
             LEFT JOIN users u ON u.id = r.vendedor_id
             LEFT JOIN ventanas v ON v.id = r.ventana_id
             WHERE {where_} AND ($9::numeric IS NULL OR r.band = $9)",
            where_ = rollup_where!(),
            loterias = ranked_loterias!(),
        ),
    }
}

/// The statement of a grain for `f`, built once per grain and source.
fn rows_statement(grain: Grain, f: &Filter) -> &'static str {
    static SQL: [OnceLock<String>; 8] = [const { OnceLock::new() }; 8];
    let banca_wide = match grain {
        Grain::Sorteo | Grain::BandSorteo => {
            f.ventana_id.is_none() && f.vendedor_id.is_none() && f.vendedores.is_none()
        }
        Grain::Seller => Grain::Seller.from_day_rollup(f),
        Grain::SellerSorteo => false,
    };
    let i = match grain {
        Grain::Sorteo => 0,
        Grain::BandSorteo => 1,
        Grain::Seller => 2,
        Grain::SellerSorteo => 3,
    } + if banca_wide { 4 } else { 0 };
    SQL[i].get_or_init(|| rows_sql(grain, banca_wide)).as_str()
}

fn bind_filter<'q, O>(
    q: sqlx::query::QueryAs<'q, Postgres, O, PgArguments>,
    f: &'q Filter,
) -> sqlx::query::QueryAs<'q, Postgres, O, PgArguments> {
    q.bind(f.from)
        .bind(f.to)
        .bind(f.banca_id)
        .bind(f.ventana_id)
        .bind(f.vendedor_id)
        .bind(f.loteria_id)
        .bind(f.sorteo_id)
        .bind(f.vendedores.as_deref())
}

/// The sales rows of `f` at `grain` (one pass over `sales_rollup`).
pub async fn rows(pool: &PgPool, f: &Filter, grain: Grain) -> Result<Vec<Row>, sqlx::Error> {
    bind_filter(unnamed::<Row>(rows_statement(grain, f)), f)
        .bind(f.band)
        .fetch_all(pool)
        .await
}

/// The sales rows of `f` at `grain` as a stream (exports: bounded memory).
pub fn rows_stream<'a>(
    pool: &'a PgPool,
    f: &'a Filter,
    grain: Grain,
) -> BoxStream<'a, Result<Row, sqlx::Error>> {
    bind_filter(unnamed::<Row>(rows_statement(grain, f)), f)
        .bind(f.band)
        .fetch(pool)
}

/// Distinct tickets of a group (additive across sorteos and sellers).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TicketCount {
    pub sorteo_id: Option<Uuid>,
    pub business_date: Option<NaiveDate>,
    pub vendedor_id: Option<Uuid>,
    pub ventana_id: Option<Uuid>,
    pub tickets: i64,
}

/// Tickets of `f` (its band aside) per sorteo × day (`per_sorteo`) and/or per vendedor ×
/// ventana (`per_seller`); both false: one row with the total. From `ventana_rollup` when
/// neither the filter nor the grouping names sellers, per seller alone from
/// `seller_day_tickets` when the filter names no lotería or sorteo, else from `ticket_rollup`.
pub async fn tickets(
    pool: &PgPool,
    f: &Filter,
    per_sorteo: bool,
    per_seller: bool,
) -> Result<Vec<TicketCount>, sqlx::Error> {
    static SQL: [OnceLock<String>; 12] = [const { OnceLock::new() }; 12];
    let (table, t) = if per_seller && !per_sorteo && f.sorteo_id.is_none() && f.loteria_id.is_none()
    {
        ("seller_day_tickets", 2)
    } else if per_seller || f.names_sellers() {
        ("ticket_rollup", 1)
    } else {
        ("ventana_rollup", 0)
    };
    let i = usize::from(per_sorteo) * 6 + usize::from(per_seller) * 3 + t;
    let sql = SQL[i].get_or_init(|| {
        let key = |on: bool, col: &str, null: &str| {
            if on {
                format!("r.{col}")
            } else {
                format!("NULL::{null}")
            }
        };
        // Per sorteo and seller is the rollup's own key: no grouping.
        let (tickets, group) = if per_sorteo && per_seller {
            ("r.ticket_count::int8", "")
        } else {
            (
                "COALESCE(sum(r.ticket_count), 0)::int8",
                "GROUP BY 1, 2, 3, 4",
            )
        };
        format!(
            "SELECT {s} AS sorteo_id, {d} AS business_date, {v} AS vendedor_id,
                    {w} AS ventana_id, {tickets} AS tickets
             FROM {table} r
             WHERE {where_}
             {group}",
            s = key(per_sorteo, "sorteo_id", "uuid"),
            d = key(per_sorteo, "business_date", "date"),
            v = key(per_seller, "vendedor_id", "uuid"),
            w = key(per_seller, "ventana_id", "uuid"),
            where_ = if t == 2 {
                day_rollup_where!()
            } else {
                concat!(rollup_where!(), " AND ", live_sorteo!())
            },
        )
    });
    bind_filter(unnamed::<TicketCount>(sql), f)
        .fetch_all(pool)
        .await
}

/// One seller's (vendedor × ventana) figures over every band, from `ticket_rollup`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SellerTotal {
    pub vendedor_id: Uuid,
    pub vendedor_name: String,
    pub ventana_id: Uuid,
    pub ventana_name: String,
    pub sales: Decimal,
    pub payouts: Decimal,
    pub listero: Decimal,
    pub jugadas: i64,
    pub tickets: i64,
}

/// The sellers of `f` (its band aside) with at least one counted jugada (those with rows in
/// `sales_rollup`), unordered.
pub async fn seller_totals(pool: &PgPool, f: &Filter) -> Result<Vec<SellerTotal>, sqlx::Error> {
    static SQL: OnceLock<String> = OnceLock::new();
    let sql = SQL.get_or_init(|| {
        format!(
            "WITH c AS (
                SELECT r.vendedor_id, r.ventana_id, sum(r.total_sales) AS sales,
                       sum(r.total_payouts) AS payouts, sum(r.listero_commission) AS listero,
                       sum(r.jugada_count)::int8 AS jugadas, sum(r.ticket_count)::int8 AS tickets
                FROM ticket_rollup r
                WHERE {where_} AND {live}
                GROUP BY r.vendedor_id, r.ventana_id
                HAVING sum(r.jugada_count) > 0
            )
            SELECT c.vendedor_id, COALESCE(u.name, '') AS vendedor_name, c.ventana_id,
                   COALESCE(v.name, '') AS ventana_name, c.sales, c.payouts, c.listero,
                   c.jugadas, c.tickets
            FROM c LEFT JOIN users u ON u.id = c.vendedor_id
            LEFT JOIN ventanas v ON v.id = c.ventana_id",
            where_ = rollup_where!(),
            live = live_sorteo!(),
        )
    });
    bind_filter(unnamed::<SellerTotal>(sql), f)
        .fetch_all(pool)
        .await
}

/// A band of a lotería that has sales in the period.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BandUse {
    pub loteria_id: Uuid,
    pub loteria_name: String,
    pub band: Decimal,
    /// Some row of the band is outside every band (see [`Anomaly`]).
    pub out_of_band: bool,
    pub jugadas: i64,
}

/// The bands used per lotería by `f` (ordered by lotería name, lotería, band): from
/// `band_rollup` when `f` names no ventana or seller, else from `sales_rollup`.
pub async fn band_uses(pool: &PgPool, f: &Filter) -> Result<Vec<BandUse>, sqlx::Error> {
    static SQL: [OnceLock<String>; 2] = [const { OnceLock::new() }; 2];
    let banca_wide = f.ventana_id.is_none() && f.vendedor_id.is_none() && f.vendedores.is_none();
    let sql = SQL[usize::from(banca_wide)].get_or_init(|| {
        format!(
            "WITH c AS (
                SELECT r.loteria_id, r.band, bool_or({oob}) AS out_of_band,
                       sum(r.jugada_count)::int8 AS jugadas
                FROM {source} r
                WHERE {where_} AND ($9::numeric IS NULL OR r.band = $9) AND {live}
                GROUP BY r.loteria_id, r.band
            )
            SELECT c.loteria_id, l.name AS loteria_name, c.band, c.out_of_band, c.jugadas
            FROM c JOIN {loterias} l ON l.id = c.loteria_id
            ORDER BY l.ord, c.loteria_id, c.band",
            oob = out_of_band!(),
            source = band_source(banca_wide).0,
            where_ = band_source(banca_wide).1,
            live = live_sorteo!(),
            loterias = ranked_loterias!(),
        )
    });
    bind_filter(unnamed::<BandUse>(sql), f)
        .bind(f.band)
        .fetch_all(pool)
        .await
}

/// Sales outside every band, per lotería × sorteo × day × bet type × band.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Anomaly {
    pub loteria_id: Uuid,
    pub loteria_name: String,
    pub sorteo_id: Uuid,
    pub scheduled_at: DateTime<Utc>,
    pub business_date: NaiveDate,
    pub bet_type: String,
    pub band: Decimal,
    pub jugadas: i64,
    pub sales: Decimal,
}

/// The out-of-band groups of `f`, by day, lotería name, draw time, type, band, lotería and
/// sorteo (for a grain without the sorteo that has out-of-band rows).
pub async fn anomalies(pool: &PgPool, f: &Filter) -> Result<Vec<Anomaly>, sqlx::Error> {
    static SQL: OnceLock<String> = OnceLock::new();
    let sql = SQL.get_or_init(|| {
        format!(
            "WITH c AS (
                SELECT r.loteria_id, r.sorteo_id, r.business_date, r.type, r.band,
                       sum(r.jugada_count)::int8 AS jugadas, sum(r.total_sales) AS sales
                FROM sales_rollup r
                WHERE {where_} AND ($9::numeric IS NULL OR r.band = $9) AND {oob}
                GROUP BY r.loteria_id, r.sorteo_id, r.business_date, r.type, r.band
            )
            SELECT c.loteria_id, l.name AS loteria_name, c.sorteo_id, s.scheduled_at,
                   c.business_date, c.type::text AS bet_type, c.band, c.jugadas, c.sales
            FROM c JOIN sorteos s ON s.id = c.sorteo_id AND s.deleted_at IS NULL
            JOIN loterias l ON l.id = c.loteria_id
            ORDER BY c.business_date, l.name, s.scheduled_at, c.type, c.band, c.loteria_id,
                     c.sorteo_id",
            oob = out_of_band!(),
            where_ = rollup_where!(),
        )
    });
    bind_filter(unnamed::<Anomaly>(sql), f)
        .bind(f.band)
        .fetch_all(pool)
        .await
}

/// One line of the operational CSV (and of the seller view of the XLSX): band × vendedor ×
/// ventana × lotería × turno × bet type × day with non-zero sales.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Line {
    pub band: Decimal,
    pub vendedor_id: Uuid,
    pub vendedor_name: String,
    pub ventana_name: String,
    pub loteria_name: String,
    /// `HH:MM` of the draw in the business time zone.
    pub turno: String,
    pub bet_type: String,
    pub business_date: NaiveDate,
    pub sales: Decimal,
    pub payouts: Decimal,
    pub listero: Decimal,
}

static SQL_LINES: OnceLock<String> = OnceLock::new();

/// The lines of `f` as a stream, by band, vendedor, ventana, lotería, day, turno and type.
/// `$10` is the business time zone's name.
pub fn lines_stream<'a>(
    pool: &'a PgPool,
    f: &'a Filter,
    tz: &'a str,
) -> BoxStream<'a, Result<Line, sqlx::Error>> {
    let sql: &'static str = SQL_LINES
        .get_or_init(|| {
            format!(
                "SELECT r.band, r.vendedor_id, COALESCE(u.name, '') AS vendedor_name,
                        COALESCE(v.name, '') AS ventana_name, l.name AS loteria_name,
                        to_char(s.scheduled_at AT TIME ZONE $10, 'HH24:MI') AS turno,
                        r.type::text AS bet_type, r.business_date,
                        sum(r.total_sales) AS sales, sum(r.total_payouts) AS payouts,
                        sum(r.listero_commission) AS listero
                 FROM sales_rollup r JOIN sorteos s ON s.id = r.sorteo_id AND s.deleted_at IS NULL
                 JOIN loterias l ON l.id = r.loteria_id
                 LEFT JOIN users u ON u.id = r.vendedor_id
                 LEFT JOIN ventanas v ON v.id = r.ventana_id
                 WHERE {where_} AND ($9::numeric IS NULL OR r.band = $9)
                 GROUP BY r.band, r.vendedor_id, u.name, r.ventana_id, v.name, r.loteria_id,
                          l.name, 6, r.type, r.business_date
                 HAVING sum(r.total_sales) <> 0
                 ORDER BY r.band, u.name, r.vendedor_id, v.name, r.ventana_id, l.name,
                          r.loteria_id, r.business_date, 6, r.type",
                where_ = rollup_where!(),
            )
        })
        .as_str();
    bind_filter(unnamed::<Line>(sql), f)
        .bind(f.band)
        .bind(tz)
        .fetch(pool)
}

/// The name of user `id`.
pub async fn vendedor_name(pool: &PgPool, id: Uuid) -> Result<Option<String>, sqlx::Error> {
    query_as::<(String,)>("SELECT name FROM users WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await
        .map(|r| r.map(|(n,)| n))
}
