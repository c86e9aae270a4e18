//! SQL of the cierres (`/cierres/*`, domain-money §4, §7), read from the report rollups only:
//! `sales_rollup` (money, jugadas and per-row ticket counts by sorteo × vendedor × bet type ×
//! band) and `ticket_rollup` (additive ticket counts by sorteo × vendedor). Both hold exactly
//! the money population of the account statements, so a cierre agrees with them to the cent.
//! Every query also joins `sorteos` with `deleted_at IS NULL` as a guard.
//!
//! Distinct tickets of a band: a REVENTADO line's band is the smallest NUMERO multiplier of the
//! same number on the same ticket, so in a band other than 0 the REVENTADO tickets of a
//! (sorteo, vendedor) are a subset of its NUMERO tickets, and band 0 has only REVENTADO lines.
//! The band's tickets of one (sorteo, day, ventana, vendedor) are therefore the larger of the
//! two rows' counts, and those add up across sorteos and sellers. Across bands a ticket may
//! count twice, so subtotals over bands take their tickets from `ticket_rollup`.

use std::sync::OnceLock;

use chrono::{DateTime, NaiveDate, Utc};
use futures::stream::BoxStream;
use rust_decimal::Decimal;
use sqlx::PgPool;
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

/// The rollup rows of a [`Filter`] but its band (`$1…$8`, rollup alias `r`, sorteo alias
/// `s`); statements that filter by band bind it as `$9`.
macro_rules! rollup_where {
    () => {
        "s.deleted_at IS NULL
         AND r.business_date BETWEEN $1 AND $2
         AND ($3::uuid IS NULL OR r.banca_id = $3)
         AND ($4::uuid IS NULL OR r.ventana_id = $4)
         AND ($5::uuid IS NULL OR r.vendedor_id = $5)
         AND ($6::uuid IS NULL OR r.loteria_id = $6)
         AND ($7::uuid IS NULL OR r.sorteo_id = $7)
         AND ($8::uuid[] IS NULL OR r.vendedor_id = ANY($8))"
    };
}

/// A sales row is outside every band: its band has no active NUMERO multiplier of the lotería,
/// or it is a REVENTADO line without a NUMERO line of its number on the ticket (band 0).
macro_rules! out_of_band {
    () => {
        "(NOT r.in_band OR (r.type = 'REVENTADO' AND r.band = 0))"
    };
}

/// How [`cells`] groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grain {
    /// Lotería × sorteo (× business day) × band, ordered by lotería name, draw time, band.
    Sorteo,
    /// The same, ordered band first (the band sheets of the XLSX).
    BandSorteo,
    /// Vendedor × ventana × band.
    Seller,
    /// Vendedor × ventana × lotería × sorteo × band, ordered by seller, lotería, draw time.
    SellerSorteo,
}

/// One band of one group: money and counts per bet type.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Cell {
    pub loteria_id: Option<Uuid>,
    pub loteria_name: Option<String>,
    pub sorteo_id: Option<Uuid>,
    pub scheduled_at: Option<DateTime<Utc>>,
    pub business_date: Option<NaiveDate>,
    pub vendedor_id: Option<Uuid>,
    pub vendedor_name: Option<String>,
    pub ventana_id: Option<Uuid>,
    pub ventana_name: Option<String>,
    pub band: Decimal,
    pub n_sales: Decimal,
    pub n_payouts: Decimal,
    pub n_listero: Decimal,
    pub n_jugadas: i64,
    pub n_tickets: i64,
    pub r_sales: Decimal,
    pub r_payouts: Decimal,
    pub r_listero: Decimal,
    pub r_jugadas: i64,
    pub r_tickets: i64,
    /// Distinct tickets with a line in the band (see the module docs).
    pub tickets: i64,
    pub has_numero: bool,
    pub has_reventado: bool,
}

fn cells_sql(grain: Grain) -> String {
    let (keys, joins, group, order) = match grain {
        Grain::Sorteo | Grain::BandSorteo => (
            "c.loteria_id, l.name AS loteria_name, c.sorteo_id, s.scheduled_at, c.business_date,
             NULL::uuid AS vendedor_id, NULL::text AS vendedor_name,
             NULL::uuid AS ventana_id, NULL::text AS ventana_name",
            "JOIN loterias l ON l.id = c.loteria_id JOIN sorteos s ON s.id = c.sorteo_id",
            "c.loteria_id, l.name, c.sorteo_id, s.scheduled_at, c.business_date",
            if grain == Grain::Sorteo {
                "l.name, c.loteria_id, s.scheduled_at, c.sorteo_id, c.business_date, c.band"
            } else {
                "c.band, l.name, c.loteria_id, s.scheduled_at, c.sorteo_id, c.business_date"
            },
        ),
        Grain::Seller => (
            "NULL::uuid AS loteria_id, NULL::text AS loteria_name, NULL::uuid AS sorteo_id,
             NULL::timestamptz AS scheduled_at, NULL::date AS business_date,
             c.vendedor_id, COALESCE(u.name, '') AS vendedor_name,
             c.ventana_id, COALESCE(v.name, '') AS ventana_name",
            "LEFT JOIN users u ON u.id = c.vendedor_id LEFT JOIN ventanas v ON v.id = c.ventana_id",
            "c.vendedor_id, u.name, c.ventana_id, v.name",
            "u.name, c.vendedor_id, v.name, c.ventana_id, c.band",
        ),
        Grain::SellerSorteo => (
            "c.loteria_id, l.name AS loteria_name, c.sorteo_id, s.scheduled_at, c.business_date,
             c.vendedor_id, COALESCE(u.name, '') AS vendedor_name,
             c.ventana_id, COALESCE(v.name, '') AS ventana_name",
            "JOIN loterias l ON l.id = c.loteria_id JOIN sorteos s ON s.id = c.sorteo_id
             LEFT JOIN users u ON u.id = c.vendedor_id LEFT JOIN ventanas v ON v.id = c.ventana_id",
            "c.vendedor_id, u.name, c.ventana_id, v.name, c.loteria_id, l.name, c.sorteo_id,
             s.scheduled_at, c.business_date",
            "u.name, c.vendedor_id, v.name, c.ventana_id, l.name, c.loteria_id, s.scheduled_at,
             c.sorteo_id, c.business_date, c.band",
        ),
    };
    format!(
        "WITH c AS (
            SELECT r.sorteo_id, r.business_date, r.vendedor_id, r.ventana_id, r.loteria_id, r.band,
                   COALESCE(sum(r.total_sales) FILTER (WHERE r.type = 'NUMERO'), 0) AS n_sales,
                   COALESCE(sum(r.total_payouts) FILTER (WHERE r.type = 'NUMERO'), 0) AS n_payouts,
                   COALESCE(sum(r.listero_commission) FILTER (WHERE r.type = 'NUMERO'), 0)
                       AS n_listero,
                   COALESCE(sum(r.jugada_count) FILTER (WHERE r.type = 'NUMERO'), 0) AS n_jugadas,
                   COALESCE(max(r.ticket_count) FILTER (WHERE r.type = 'NUMERO'), 0) AS n_tickets,
                   COALESCE(sum(r.total_sales) FILTER (WHERE r.type = 'REVENTADO'), 0) AS r_sales,
                   COALESCE(sum(r.total_payouts) FILTER (WHERE r.type = 'REVENTADO'), 0)
                       AS r_payouts,
                   COALESCE(sum(r.listero_commission) FILTER (WHERE r.type = 'REVENTADO'), 0)
                       AS r_listero,
                   COALESCE(sum(r.jugada_count) FILTER (WHERE r.type = 'REVENTADO'), 0)
                       AS r_jugadas,
                   COALESCE(max(r.ticket_count) FILTER (WHERE r.type = 'REVENTADO'), 0)
                       AS r_tickets,
                   max(r.ticket_count) AS tickets,
                   bool_or(r.type = 'NUMERO') AS has_numero,
                   bool_or(r.type = 'REVENTADO') AS has_reventado
            FROM sales_rollup r JOIN sorteos s ON s.id = r.sorteo_id
            WHERE {where_}
              AND ($9::numeric IS NULL OR r.band = $9)
            GROUP BY r.sorteo_id, r.business_date, r.vendedor_id, r.ventana_id, r.loteria_id,
                     r.band
        )
        SELECT {keys}, c.band,
               sum(c.n_sales) AS n_sales, sum(c.n_payouts) AS n_payouts,
               sum(c.n_listero) AS n_listero, sum(c.n_jugadas)::int8 AS n_jugadas,
               sum(c.n_tickets)::int8 AS n_tickets,
               sum(c.r_sales) AS r_sales, sum(c.r_payouts) AS r_payouts,
               sum(c.r_listero) AS r_listero, sum(c.r_jugadas)::int8 AS r_jugadas,
               sum(c.r_tickets)::int8 AS r_tickets, sum(c.tickets)::int8 AS tickets,
               bool_or(c.has_numero) AS has_numero, bool_or(c.has_reventado) AS has_reventado
        FROM c {joins}
        GROUP BY {group}, c.band
        ORDER BY {order}",
        where_ = rollup_where!(),
    )
}

fn bind_filter<'q, O>(
    q: sqlx::query::QueryAs<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments>,
    f: &'q Filter,
) -> sqlx::query::QueryAs<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments> {
    q.bind(f.from)
        .bind(f.to)
        .bind(f.banca_id)
        .bind(f.ventana_id)
        .bind(f.vendedor_id)
        .bind(f.loteria_id)
        .bind(f.sorteo_id)
        .bind(f.vendedores.as_deref())
}

/// The band cells of `f` at `grain`, in the grain's order.
pub async fn cells(pool: &PgPool, f: &Filter, grain: Grain) -> Result<Vec<Cell>, sqlx::Error> {
    bind_filter(query_as::<Cell>(cells_statement(grain)), f)
        .bind(f.band)
        .fetch_all(pool)
        .await
}

/// The band cells of `f` at `grain` as a stream (exports: bounded memory).
pub fn cells_stream<'a>(
    pool: &'a PgPool,
    f: &'a Filter,
    grain: Grain,
) -> BoxStream<'a, Result<Cell, sqlx::Error>> {
    bind_filter(query_as::<Cell>(cells_statement(grain)), f)
        .bind(f.band)
        .fetch(pool)
}

/// The statement of a grain, built once.
fn cells_statement(grain: Grain) -> &'static str {
    static SQL: [OnceLock<String>; 4] = [
        OnceLock::new(),
        OnceLock::new(),
        OnceLock::new(),
        OnceLock::new(),
    ];
    let i = match grain {
        Grain::Sorteo => 0,
        Grain::BandSorteo => 1,
        Grain::Seller => 2,
        Grain::SellerSorteo => 3,
    };
    SQL[i].get_or_init(|| cells_sql(grain)).as_str()
}

/// Distinct tickets of a group (from `ticket_rollup`, additive across sorteos and sellers).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TicketCount {
    pub sorteo_id: Option<Uuid>,
    pub business_date: Option<NaiveDate>,
    pub vendedor_id: Option<Uuid>,
    pub ventana_id: Option<Uuid>,
    pub tickets: i64,
}

/// Tickets of `f` (its band aside) per sorteo × day (`per_sorteo`) and/or per vendedor ×
/// ventana (`per_seller`); both false: one row with the total.
pub async fn tickets(
    pool: &PgPool,
    f: &Filter,
    per_sorteo: bool,
    per_seller: bool,
) -> Result<Vec<TicketCount>, sqlx::Error> {
    let sql = format!(
        "SELECT {s} AS sorteo_id, {d} AS business_date, {v} AS vendedor_id, {w} AS ventana_id,
                COALESCE(sum(r.ticket_count), 0)::int8 AS tickets
         FROM ticket_rollup r JOIN sorteos s ON s.id = r.sorteo_id
         WHERE {where_}
         GROUP BY 1, 2, 3, 4",
        s = if per_sorteo {
            "r.sorteo_id"
        } else {
            "NULL::uuid"
        },
        d = if per_sorteo {
            "r.business_date"
        } else {
            "NULL::date"
        },
        v = if per_seller {
            "r.vendedor_id"
        } else {
            "NULL::uuid"
        },
        w = if per_seller {
            "r.ventana_id"
        } else {
            "NULL::uuid"
        },
        where_ = rollup_where!(),
    );
    bind_filter(query_as::<TicketCount>(&sql), f)
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

/// The bands of `f` per lotería, by lotería name and band.
pub async fn bands_used(pool: &PgPool, f: &Filter) -> Result<Vec<BandUse>, sqlx::Error> {
    let sql = format!(
        "SELECT r.loteria_id, l.name AS loteria_name, r.band,
                bool_or({oob}) AS out_of_band, sum(r.jugada_count)::int8 AS jugadas
         FROM sales_rollup r JOIN sorteos s ON s.id = r.sorteo_id
         JOIN loterias l ON l.id = r.loteria_id
         WHERE {where_} AND ($9::numeric IS NULL OR r.band = $9)
         GROUP BY r.loteria_id, l.name, r.band
         ORDER BY l.name, r.loteria_id, r.band",
        oob = out_of_band!(),
        where_ = rollup_where!(),
    );
    bind_filter(query_as::<BandUse>(&sql), f)
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

/// The out-of-band groups of `f`, by day, lotería, draw time, type and band.
pub async fn anomalies(pool: &PgPool, f: &Filter) -> Result<Vec<Anomaly>, sqlx::Error> {
    let sql = format!(
        "SELECT r.loteria_id, l.name AS loteria_name, r.sorteo_id, s.scheduled_at,
                r.business_date, r.type::text AS bet_type, r.band,
                sum(r.jugada_count)::int8 AS jugadas, sum(r.total_sales) AS sales
         FROM sales_rollup r JOIN sorteos s ON s.id = r.sorteo_id
         JOIN loterias l ON l.id = r.loteria_id
         WHERE {where_} AND ($9::numeric IS NULL OR r.band = $9) AND {oob}
         GROUP BY r.loteria_id, l.name, r.sorteo_id, s.scheduled_at, r.business_date, r.type,
                  r.band
         ORDER BY r.business_date, l.name, s.scheduled_at, r.type, r.band",
        oob = out_of_band!(),
        where_ = rollup_where!(),
    );
    bind_filter(query_as::<Anomaly>(&sql), f)
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
                 FROM sales_rollup r JOIN sorteos s ON s.id = r.sorteo_id
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
    bind_filter(query_as::<Line>(sql), f)
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
