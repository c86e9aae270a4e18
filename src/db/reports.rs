//! SQL of `/reports/*` (domain-money §6.4). Every statement filters by the five scope ids and
//! the business-day range of a [`Filter`] (`$1` banca, `$2` ventana, `$3` vendedor, `$4`
//! lotería, `$5` sorteo, `$6`/`$7` first and last day; `$8` the business time zone where hours
//! are read), so no report can reach past the caller's banca (decision 4).
//!
//! Sources:
//! * evaluated money (sales, prizes, commissions, ticket and winner counts) comes from
//!   `ventana_rollup` / `ticket_rollup` ([`rollup_groups`]): the statements' population, exact;
//!   no report splits by bet type or band, so none reads `sales_rollup`;
//! * what includes ACTIVE or cancelled tickets, hours of sale and payments reads `tickets` live
//!   ([`tickets_summary`], [`time_slots`], [`ticket_groups`], [`winner_totals`],
//!   [`cancelled_totals`]), each report in as few passes as it can: one pass over the period's
//!   tickets for the summary and one for the time analysis;
//! * most played numbers read `number_rollup` / `daily_number_sales` (evaluated sorteos) plus
//!   the live jugadas of ACTIVE tickets of sorteos without a result ([`numbers`]).
//!
//! Every statement here that reads a period is sent unnamed ([`planned`]), so PostgreSQL plans
//! it for its parameters on every run.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde_json::Value;
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::query::QueryAs;
use sqlx::{FromRow, PgPool, Postgres};
use uuid::Uuid;

use crate::db::query_as;

/// Which rows a report reads: the effective scope and an inclusive range of business days.
#[derive(Debug, Clone)]
pub struct Filter {
    pub banca_id: Option<Uuid>,
    pub ventana_id: Option<Uuid>,
    pub vendedor_id: Option<Uuid>,
    pub loteria_id: Option<Uuid>,
    pub sorteo_id: Option<Uuid>,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// IANA name of the business time zone (hours of sale, hours of draws).
    pub tz: String,
}

/// `$1…$8` of [`Filter`] on the table aliased `$a` (every report table carries the five ids
/// and `business_date`; `$8` is always referenced so that every statement takes the same eight
/// parameters).
macro_rules! scoped {
    ($a:literal) => {
        concat!(
            "($1::uuid IS NULL OR ",
            $a,
            ".banca_id = $1)
             AND ($2::uuid IS NULL OR ",
            $a,
            ".ventana_id = $2)
             AND ($3::uuid IS NULL OR ",
            $a,
            ".vendedor_id = $3)
             AND ($4::uuid IS NULL OR ",
            $a,
            ".loteria_id = $4)
             AND ($5::uuid IS NULL OR ",
            $a,
            ".sorteo_id = $5)
             AND ",
            $a,
            ".business_date BETWEEN $6 AND $7 AND $8::text IS NOT NULL"
        )
    };
}

/// A live ticket that counts as sold: not deleted, active, ACTIVE/EVALUATED/PAID/PAGADO.
const SOLD: &str = "t.deleted_at IS NULL AND t.is_active
     AND t.status IN ('ACTIVE', 'EVALUATED', 'PAID', 'PAGADO')";

/// A ticket (`t`) of a sorteo that is not deleted, as a join to `sorteos` would say (every
/// ticket has its sorteo). Deleted sorteos are few: the hashed list of them, tested in the
/// scan, costs far less than joining every ticket of the period to `sorteos` (`sorteos.id` is
/// never NULL, so `NOT IN` means what it says).
const LIVE_SORTEO: &str =
    "t.sorteo_id NOT IN (SELECT id FROM sorteos WHERE deleted_at IS NOT NULL)";

/// A report statement, sent unnamed so that PostgreSQL plans it for its parameters on every
/// run. A named (cached) statement switches to a generic plan after five runs, and with the
/// optional filters (`$n::uuid IS NULL OR …`) the generic estimates collapse to one row: the
/// numbers analysis then ran a nested loop of 322,767 `daily_number_sales` rows × 1,620 sorteos
/// (75 s; the bench's 15 s timeouts). Planning costs 1–3 ms, nothing next to what a report reads.
fn planned<'q, O>(sql: &'q str) -> QueryAs<'q, Postgres, O, PgArguments>
where
    O: for<'r> FromRow<'r, PgRow>,
{
    query_as::<O>(sql).persistent(false)
}

fn bind<'q, O>(
    q: QueryAs<'q, Postgres, O, PgArguments>,
    f: &'q Filter,
) -> QueryAs<'q, Postgres, O, PgArguments> {
    q.bind(f.banca_id)
        .bind(f.ventana_id)
        .bind(f.vendedor_id)
        .bind(f.loteria_id)
        .bind(f.sorteo_id)
        .bind(f.from)
        .bind(f.to)
        .bind(f.tz.as_str())
}

// ---------------------------------------------------------------------------------------------
// Evaluated money from the rollups.

/// How [`rollup_groups`] splits the figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    Total,
    Loteria,
    Sorteo,
    Ventana,
    Vendedor,
    Day,
    /// Monday of the week.
    Week,
    /// `YYYY-MM`.
    Month,
    /// Hour (`HH`) of the draw in the business time zone.
    Hour,
}

impl Group {
    /// What [`rollup_groups`] first sums the rollup rows by (`k`): the entity itself, the
    /// business day for calendar groups, the sorteo for hours of draw (a few hundred rows at
    /// most, whatever the group).
    fn column(self) -> &'static str {
        match self {
            Group::Total => "true",
            Group::Loteria => "r.loteria_id",
            Group::Sorteo | Group::Hour => "r.sorteo_id",
            Group::Ventana => "r.ventana_id",
            Group::Vendedor => "r.vendedor_id",
            Group::Day | Group::Week | Group::Month => "r.business_date",
        }
    }

    /// The group's key from `{a}.k` (see [`Group::column`]) and the join it needs: hours read
    /// the draw time of sorteo `{a}.k`.
    fn key(self, a: &str) -> (String, String) {
        let key = match self {
            Group::Total => "''".to_string(),
            Group::Loteria | Group::Sorteo | Group::Ventana | Group::Vendedor | Group::Day => {
                format!("{a}.k::text")
            }
            Group::Week => format!("date_trunc('week', {a}.k)::date::text"),
            Group::Month => format!("to_char({a}.k, 'YYYY-MM')"),
            Group::Hour => "to_char(s.scheduled_at AT TIME ZONE $8, 'HH24')".to_string(),
        };
        let join = if self == Group::Hour {
            format!("JOIN sorteos s ON s.id = {a}.k AND s.deleted_at IS NULL")
        } else {
            String::new()
        };
        (key, join)
    }

    /// Columns `name, code, active, parent_id, parent_name, at, status` and their join.
    fn names(self) -> (&'static str, &'static str) {
        const NONE: &str = "NULL::text AS name, NULL::text AS code, NULL::boolean AS active,
             NULL::uuid AS parent_id, NULL::text AS parent_name,
             NULL::timestamptz AS at, NULL::text AS status";
        match self {
            Group::Loteria => (
                "l.name, NULL::text AS code, (l.is_active AND l.deleted_at IS NULL) AS active,
                 NULL::uuid AS parent_id, NULL::text AS parent_name,
                 NULL::timestamptz AS at, NULL::text AS status",
                "LEFT JOIN loterias l ON l.id = g.key::uuid",
            ),
            Group::Sorteo => (
                "so.name, NULL::text AS code, so.is_active AS active,
                 so.loteria_id AS parent_id, lo.name AS parent_name,
                 so.scheduled_at AS at, so.status::text AS status",
                "LEFT JOIN sorteos so ON so.id = g.key::uuid
                 LEFT JOIN loterias lo ON lo.id = so.loteria_id",
            ),
            Group::Ventana => (
                "v.name, v.code, (v.is_active AND v.deleted_at IS NULL) AS active,
                 NULL::uuid AS parent_id, NULL::text AS parent_name,
                 NULL::timestamptz AS at, NULL::text AS status",
                "LEFT JOIN ventanas v ON v.id = g.key::uuid",
            ),
            Group::Vendedor => (
                "u.name, u.code, (u.is_active AND u.deleted_at IS NULL) AS active,
                 u.ventana_id AS parent_id, uv.name AS parent_name,
                 NULL::timestamptz AS at, NULL::text AS status",
                "LEFT JOIN users u ON u.id = g.key::uuid
                 LEFT JOIN ventanas uv ON uv.id = u.ventana_id",
            ),
            _ => (NONE, ""),
        }
    }
}

/// Evaluated figures of one group (all sums over the rollups of the filter).
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct Figures {
    /// The group's key: an entity id, a day, a week's Monday, `YYYY-MM`, an hour; `""` for
    /// the total.
    pub key: String,
    pub name: Option<String>,
    pub code: Option<String>,
    pub active: Option<bool>,
    /// A sorteo's lotería, a vendedor's ventana.
    pub parent_id: Option<Uuid>,
    pub parent_name: Option<String>,
    /// A sorteo's draw time.
    pub at: Option<DateTime<Utc>>,
    /// A sorteo's status.
    pub status: Option<String>,
    pub sales: Decimal,
    pub payouts: Decimal,
    /// Σ listero (ventana) commission snapshots.
    pub listero: Decimal,
    /// Σ seller commission snapshots of USER origin (what vendedor statements subtract).
    pub vendedor: Decimal,
    /// Σ seller commission snapshots of every origin.
    pub commission_total: Decimal,
    pub jugadas: i64,
    pub tickets: i64,
    pub winners: i64,
    /// Distinct business days with tickets (only with `activity`, see [`rollup_groups`]).
    pub days: i64,
    /// Distinct vendedores with tickets (only with `activity`).
    pub sellers: i64,
}

/// The evaluated figures of `f` split by `group`, by key (no row when nothing counts).
/// `days` and `sellers` are counted only with `activity` (0 otherwise).
///
/// One pass over one rollup: `ventana_rollup` (one row per sorteo × day × ventana) when
/// neither the filter nor the split names a vendedor, `ticket_rollup` (per vendedor too)
/// otherwise; both carry the money and the additive ticket counts, so no join between rollups.
/// `activity` adds one pass over `ticket_rollup` for the distinct days and vendedores. The
/// rollups hold no row of a deleted sorteo (deleting a drawn sorteo rebuilds its rollups empty
/// in the same transaction), so only hours of draw join `sorteos`.
pub async fn rollup_groups(
    pool: &PgPool,
    f: &Filter,
    group: Group,
    activity: bool,
) -> Result<Vec<Figures>, sqlx::Error> {
    let table = if f.vendedor_id.is_none() && group != Group::Vendedor {
        "ventana_rollup"
    } else {
        "ticket_rollup"
    };
    let column = group.column();
    let (key_m, join_m) = group.key("m");
    let (names, joins) = group.names();
    let scope = scoped!("r");
    let (activity_cte, activity_cols, activity_join) = if activity {
        let (key_x, join_x) = group.key("x");
        (
            format!(
                ", a AS (
                    SELECT {key_x} AS key, count(DISTINCT x.business_date) AS days,
                           count(DISTINCT x.vendedor_id) AS sellers
                    FROM (SELECT DISTINCT {column} AS k, r.business_date, r.vendedor_id
                          FROM ticket_rollup r
                          WHERE {scope}) x
                    {join_x}
                    GROUP BY 1
                )"
            ),
            "COALESCE(a.days, 0) AS days, COALESCE(a.sellers, 0) AS sellers",
            "LEFT JOIN a ON a.key = g.key",
        )
    } else {
        (String::new(), "0::bigint AS days, 0::bigint AS sellers", "")
    };
    let sql = format!(
        "WITH m AS (
            SELECT {column} AS k, sum(r.total_sales) AS sales, sum(r.total_payouts) AS payouts,
                   sum(r.listero_commission) AS listero, sum(r.vendedor_commission) AS vend,
                   sum(r.commission_total) AS comm, sum(r.jugada_count) AS jugadas,
                   sum(r.ticket_count) AS tickets, sum(r.winner_count) AS winners
            FROM {table} r
            WHERE {scope}
            GROUP BY 1
        ), g AS (
            SELECT {key_m} AS key, sum(m.sales) AS sales, sum(m.payouts) AS payouts,
                   sum(m.listero) AS listero, sum(m.vend) AS vendedor,
                   sum(m.comm) AS commission_total, sum(m.jugadas)::bigint AS jugadas,
                   sum(m.tickets)::bigint AS tickets, sum(m.winners)::bigint AS winners
            FROM m {join_m}
            GROUP BY 1
        ){activity_cte}
        SELECT g.key, {names}, g.sales, g.payouts, g.listero, g.vendedor, g.commission_total,
               g.jugadas, g.tickets, g.winners, {activity_cols}
        FROM g {activity_join} {joins}
        ORDER BY g.key",
    );
    bind(planned::<Figures>(&sql), f).fetch_all(pool).await
}

// ---------------------------------------------------------------------------------------------
// Live tickets.

/// The live totals of the tickets summary.
#[derive(Debug, Clone, Default)]
pub struct SummaryTotals {
    /// Σ `total_amount` of sold tickets (ACTIVE/EVALUATED/PAID/PAGADO).
    pub gross: Decimal,
    pub tickets: i64,
    /// Σ `total_payout` of EVALUATED/PAID/PAGADO tickets.
    pub prizes: Decimal,
    pub winners: i64,
    pub cancelled_amount: Decimal,
    pub cancelled: i64,
    /// Σ paid / still owed of the winning tickets (the payment records' running totals).
    pub paid: Decimal,
    pub pending: Decimal,
}

/// The live figures of the tickets summary: totals, and the sold tickets by hour of sale, by
/// lotería and by sorteo (each largest amount first, as [`ticket_groups`] orders them).
#[derive(Debug, Clone, Default)]
pub struct LiveSummary {
    pub totals: SummaryTotals,
    pub hours: Vec<TicketFigures>,
    pub by_loteria: Vec<TicketFigures>,
    pub by_sorteo: Vec<TicketFigures>,
}

/// The figures of the tickets summary of `f`: from `sale_hour_rollup` plus the few live tickets
/// it does not hold ([`summary_from_rollup`]) when `f` is not narrowed to a ventana or a seller
/// and the business zone's offsets are whole hours in the period (the rollup keeps UTC hours);
/// otherwise in one pass over the period's tickets ([`summary_from_tickets`]). Both give the
/// same figures (`tests/it/reports.rs`, `tests/it/reports_crosscheck.rs`).
pub async fn tickets_summary(pool: &PgPool, f: &Filter) -> Result<LiveSummary, sqlx::Error> {
    if f.ventana_id.is_none() && f.vendedor_id.is_none() && whole_hour_offsets(f) {
        summary_from_rollup(pool, f).await
    } else {
        summary_from_tickets(pool, f).await
    }
}

/// True when the business zone is a whole number of hours from UTC on the period's first and
/// last day, so a UTC hour is one local hour.
fn whole_hour_offsets(f: &Filter) -> bool {
    use chrono::{Offset, TimeZone};
    let Ok(tz) = f.tz.parse::<chrono_tz::Tz>() else {
        return false;
    };
    [f.from, f.to].iter().all(|d| {
        let noon = d.and_hms_opt(12, 0, 0).unwrap_or_default();
        tz.offset_from_utc_datetime(&noon).fix().local_minus_utc() % 3600 == 0
    })
}

/// The tickets summary in one pass over the tickets of `f`: sold and cancelled tickets are
/// summed per (lotería, sorteo, hour of sale), and those few thousand rows are rolled up into
/// the total and the three splits (the sold tickets' figures of [`ticket_groups`], by hour of
/// sale in the business time zone, by lotería and by sorteo).
///
/// The tickets' projection sits behind `OFFSET 0`: grouped straight off `tickets`, the planner
/// expects one group per distinct `created_at` (about one per ticket) and sorts the period's
/// tickets on disk instead of hashing the few thousand groups there are.
async fn summary_from_tickets(pool: &PgPool, f: &Filter) -> Result<LiveSummary, sqlx::Error> {
    let b = format!(
        "x AS (
            SELECT t.loteria_id, t.sorteo_id,
                   extract(hour FROM t.created_at AT TIME ZONE $8)::int AS hour,
                   ({SOLD}) AS sold, t.status, t.is_winner, t.total_amount, t.total_payout,
                   t.total_paid, t.remaining_amount
            FROM tickets t
            WHERE {scope} AND (({SOLD}) OR t.status = 'CANCELLED') AND {LIVE_SORTEO}
            OFFSET 0
        ), b AS (
            SELECT x.loteria_id, x.sorteo_id, x.hour,
                   count(*) FILTER (WHERE x.sold) AS tickets,
                   sum(x.total_amount) FILTER (WHERE x.sold) AS gross,
                   sum(x.total_payout) FILTER (WHERE x.sold AND x.status <> 'ACTIVE') AS prizes,
                   count(*) FILTER (WHERE x.sold AND x.is_winner) AS winners,
                   sum(x.total_paid) FILTER (WHERE x.sold AND x.is_winner) AS paid,
                   sum(x.remaining_amount) FILTER (WHERE x.sold AND x.is_winner) AS pending,
                   count(*) FILTER (WHERE NOT x.sold) AS cancelled,
                   sum(x.total_amount) FILTER (WHERE NOT x.sold) AS cancelled_amount
            FROM x
            GROUP BY 1, 2, 3
        )",
        scope = scoped!("t"),
    );
    summary_rows(pool, f, &b).await
}

/// The tickets summary from `sale_hour_rollup` (the sold tickets of drawn sorteos, per sorteo ×
/// business day × UTC hour of sale) plus, live: the sold tickets of sorteos without a result
/// (reached from those sorteos), the cancelled tickets (partial index) and the payment state of
/// the winners (partial index). Reads a few thousand rows where the pass over the tickets reads
/// every ticket of the period (66,675 for 30 days of the benchmark: 190 ms → ≈ 15 ms).
async fn summary_from_rollup(pool: &PgPool, f: &Filter) -> Result<LiveSummary, sqlx::Error> {
    let b = format!(
        "b AS (
            SELECT r.loteria_id, r.sorteo_id,
                   extract(hour FROM r.sale_hour AT TIME ZONE $8)::int AS hour,
                   sum(r.ticket_count)::bigint AS tickets, sum(r.total_amount) AS gross,
                   sum(r.total_payout) AS prizes, sum(r.winner_count)::bigint AS winners,
                   0::numeric AS paid, 0::numeric AS pending,
                   0::bigint AS cancelled, 0::numeric AS cancelled_amount
            FROM sale_hour_rollup r
            WHERE {rscope}
              AND r.sorteo_id NOT IN (SELECT id FROM sorteos WHERE deleted_at IS NOT NULL)
            GROUP BY 1, 2, 3
            UNION ALL
            SELECT t.loteria_id, t.sorteo_id,
                   extract(hour FROM t.created_at AT TIME ZONE $8)::int,
                   count(*), sum(t.total_amount),
                   COALESCE(sum(t.total_payout) FILTER (WHERE t.status <> 'ACTIVE'), 0),
                   count(*) FILTER (WHERE t.is_winner),
                   COALESCE(sum(t.total_paid) FILTER (WHERE t.is_winner), 0),
                   COALESCE(sum(t.remaining_amount) FILTER (WHERE t.is_winner), 0),
                   0::bigint, 0::numeric
            FROM {UNDRAWN_SORTEO_TICKETS} AND {tscope} AND {SOLD}
            GROUP BY 1, 2, 3
            UNION ALL
            SELECT t.loteria_id, t.sorteo_id,
                   extract(hour FROM t.created_at AT TIME ZONE $8)::int,
                   0::bigint, 0::numeric, 0::numeric, 0::bigint, 0::numeric, 0::numeric,
                   count(*), sum(t.total_amount)
            FROM tickets t
            WHERE {tscope} AND t.status = 'CANCELLED' AND {LIVE_SORTEO}
            GROUP BY 1, 2, 3
            UNION ALL
            SELECT t.loteria_id, t.sorteo_id, NULL::int,
                   0::bigint, 0::numeric, 0::numeric, 0::bigint,
                   sum(t.total_paid), sum(t.remaining_amount), 0::bigint, 0::numeric
            FROM tickets t
            JOIN sorteos s ON s.id = t.sorteo_id AND s.winning_number IS NOT NULL
                          AND s.deleted_at IS NULL
            WHERE {tscope} AND t.is_winner AND {SOLD}
            GROUP BY 1, 2
        )",
        rscope = SALE_HOUR_ROLLUP_SCOPE,
        tscope = scoped!("t"),
    );
    summary_rows(pool, f, &b).await
}

/// The tickets (`t`) of the sorteos of `$1`/`$4`/`$5` without a result, not deleted, reached
/// from those sorteos (few) rather than from the period's tickets; a `FROM … WHERE …` the caller
/// continues with `AND`.
const UNDRAWN_SORTEO_TICKETS: &str = "sorteos s JOIN tickets t ON t.sorteo_id = s.id
     WHERE s.winning_number IS NULL AND s.deleted_at IS NULL
       AND ($1::uuid IS NULL OR s.banca_id = $1)
       AND ($4::uuid IS NULL OR s.loteria_id = $4)
       AND ($5::uuid IS NULL OR s.id = $5)";

/// [`scoped!`] for `sale_hour_rollup` (alias `r`), which has no ventana or seller (only used
/// when `$2` and `$3` are NULL).
const SALE_HOUR_ROLLUP_SCOPE: &str = "($1::uuid IS NULL OR r.banca_id = $1)
     AND $2::uuid IS NULL AND $3::uuid IS NULL
     AND ($4::uuid IS NULL OR r.loteria_id = $4)
     AND ($5::uuid IS NULL OR r.sorteo_id = $5)
     AND r.business_date BETWEEN $6 AND $7 AND $8::text IS NOT NULL";

/// Rolls `b` (`loteria_id, sorteo_id, hour, tickets, gross, prizes, winners, paid, pending,
/// cancelled, cancelled_amount`; a NULL hour for rows that only carry payment state) up into
/// the total and the three splits.
async fn summary_rows(pool: &PgPool, f: &Filter, b: &str) -> Result<LiveSummary, sqlx::Error> {
    let sql = format!(
        "WITH {b}, g AS (
            SELECT CASE GROUPING(b.loteria_id, b.sorteo_id, b.hour)
                        WHEN 3 THEN 'loteria' WHEN 5 THEN 'sorteo' WHEN 6 THEN 'hour'
                        ELSE 'total' END AS kind,
                   b.loteria_id, b.sorteo_id,
                   COALESCE(b.loteria_id::text, b.sorteo_id::text, b.hour::text, '') AS key,
                   COALESCE(sum(b.tickets), 0)::bigint AS count,
                   COALESCE(sum(b.gross), 0) AS amount, COALESCE(sum(b.prizes), 0) AS payouts,
                   COALESCE(sum(b.winners), 0)::bigint AS winners,
                   COALESCE(sum(b.paid), 0) AS paid, COALESCE(sum(b.pending), 0) AS pending,
                   COALESCE(sum(b.cancelled), 0)::bigint AS cancelled,
                   COALESCE(sum(b.cancelled_amount), 0) AS cancelled_amount
            FROM b
            GROUP BY GROUPING SETS ((), (b.loteria_id), (b.sorteo_id), (b.hour))
        )
        SELECT g.kind, g.key, COALESCE(l.name, so.name) AS name, lo.name AS parent_name,
               g.count, g.amount, g.payouts, g.winners, g.paid, g.pending, g.cancelled,
               g.cancelled_amount
        FROM g
        LEFT JOIN loterias l ON l.id = g.loteria_id
        LEFT JOIN sorteos so ON so.id = g.sorteo_id
        LEFT JOIN loterias lo ON lo.id = so.loteria_id
        WHERE g.kind = 'total' OR g.count > 0
        ORDER BY g.kind, g.amount DESC, g.key",
    );
    #[derive(sqlx::FromRow)]
    struct Row {
        kind: String,
        key: String,
        name: Option<String>,
        parent_name: Option<String>,
        count: i64,
        amount: Decimal,
        payouts: Decimal,
        winners: i64,
        paid: Decimal,
        pending: Decimal,
        cancelled: i64,
        cancelled_amount: Decimal,
    }
    let rows = bind(planned::<Row>(&sql), f).fetch_all(pool).await?;
    let mut out = LiveSummary::default();
    for r in rows {
        let split = match r.kind.as_str() {
            "hour" => &mut out.hours,
            "loteria" => &mut out.by_loteria,
            "sorteo" => &mut out.by_sorteo,
            _ => {
                out.totals = SummaryTotals {
                    gross: r.amount,
                    tickets: r.count,
                    prizes: r.payouts,
                    winners: r.winners,
                    cancelled_amount: r.cancelled_amount,
                    cancelled: r.cancelled,
                    paid: r.paid,
                    pending: r.pending,
                };
                continue;
            }
        };
        split.push(TicketFigures {
            key: r.key,
            name: r.name,
            parent_name: r.parent_name,
            count: r.count,
            amount: r.amount,
            payouts: r.payouts,
        });
    }
    Ok(out)
}

/// Sold and cancelled tickets of one hour of sale and weekday of the business date.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TimeSlot {
    /// Hour of sale (`created_at`) in the business time zone, 0–23.
    pub hour: i32,
    /// Day of week of the business date, 0 = Sunday.
    pub dow: i32,
    pub sold: i64,
    pub sold_amount: Decimal,
    pub cancelled: i64,
    pub cancelled_amount: Decimal,
}

/// The tickets of `f` per hour of sale and weekday of the business date, sold and cancelled:
/// from `sale_hour_rollup` plus the few live tickets it does not hold ([`time_slots_from_rollup`])
/// under the same conditions as [`tickets_summary`], otherwise in one pass over the period's
/// tickets ([`time_slots_from_tickets`]). Both give the same figures
/// (`tests/it/reports_crosscheck.rs`).
pub async fn time_slots(pool: &PgPool, f: &Filter) -> Result<Vec<TimeSlot>, sqlx::Error> {
    if f.ventana_id.is_none() && f.vendedor_id.is_none() && whole_hour_offsets(f) {
        time_slots_from_rollup(pool, f).await
    } else {
        time_slots_from_tickets(pool, f).await
    }
}

/// [`time_slots`] in one pass over the tickets of `f` (the time analysis splits both ways and
/// by population); grouped behind `OFFSET 0` as in [`summary_from_tickets`].
async fn time_slots_from_tickets(pool: &PgPool, f: &Filter) -> Result<Vec<TimeSlot>, sqlx::Error> {
    let sql = format!(
        "SELECT x.hour, x.dow,
                count(*) FILTER (WHERE x.sold) AS sold,
                COALESCE(sum(x.total_amount) FILTER (WHERE x.sold), 0) AS sold_amount,
                count(*) FILTER (WHERE NOT x.sold) AS cancelled,
                COALESCE(sum(x.total_amount) FILTER (WHERE NOT x.sold), 0) AS cancelled_amount
         FROM (SELECT extract(hour FROM t.created_at AT TIME ZONE $8)::int AS hour,
                      extract(dow FROM t.business_date)::int AS dow,
                      ({SOLD}) AS sold, t.total_amount
               FROM tickets t
               WHERE {scope} AND (({SOLD}) OR t.status = 'CANCELLED') AND {LIVE_SORTEO}
               OFFSET 0) x
         GROUP BY 1, 2",
        scope = scoped!("t"),
    );
    bind(planned::<TimeSlot>(&sql), f).fetch_all(pool).await
}

/// [`time_slots`] from `sale_hour_rollup` (the sold tickets of drawn sorteos) plus, live, the
/// sold tickets of sorteos without a result and the cancelled tickets (partial index): a few
/// thousand rows where the pass over the tickets reads every ticket of the period.
async fn time_slots_from_rollup(pool: &PgPool, f: &Filter) -> Result<Vec<TimeSlot>, sqlx::Error> {
    let sql = format!(
        "SELECT x.hour, x.dow, sum(x.sold)::bigint AS sold,
                COALESCE(sum(x.sold_amount), 0) AS sold_amount,
                sum(x.cancelled)::bigint AS cancelled,
                COALESCE(sum(x.cancelled_amount), 0) AS cancelled_amount
         FROM (SELECT extract(hour FROM r.sale_hour AT TIME ZONE $8)::int AS hour,
                      extract(dow FROM r.business_date)::int AS dow,
                      sum(r.ticket_count)::bigint AS sold, sum(r.total_amount) AS sold_amount,
                      0::bigint AS cancelled, 0::numeric AS cancelled_amount
               FROM sale_hour_rollup r
               WHERE {rscope} AND r.sorteo_id NOT IN (SELECT id FROM sorteos WHERE deleted_at IS NOT NULL)
               GROUP BY 1, 2
               UNION ALL
               SELECT extract(hour FROM t.created_at AT TIME ZONE $8)::int,
                      extract(dow FROM t.business_date)::int,
                      count(*), sum(t.total_amount), 0::bigint, 0::numeric
               FROM {UNDRAWN_SORTEO_TICKETS} AND {tscope} AND {SOLD}
               GROUP BY 1, 2
               UNION ALL
               SELECT extract(hour FROM t.created_at AT TIME ZONE $8)::int,
                      extract(dow FROM t.business_date)::int,
                      0::bigint, 0::numeric, count(*), sum(t.total_amount)
               FROM tickets t
               WHERE {tscope} AND t.status = 'CANCELLED' AND {LIVE_SORTEO}
               GROUP BY 1, 2) x
         GROUP BY 1, 2",
        rscope = SALE_HOUR_ROLLUP_SCOPE,
        tscope = scoped!("t"),
    );
    bind(planned::<TimeSlot>(&sql), f).fetch_all(pool).await
}

/// Which live tickets [`ticket_groups`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Population {
    /// Sold: not deleted, active, ACTIVE/EVALUATED/PAID/PAGADO.
    Sold,
    /// CANCELLED.
    Cancelled,
}

/// How [`ticket_groups`] splits the tickets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketGroup {
    Loteria,
    Sorteo,
    Ventana,
    Vendedor,
}

/// Live tickets of one group.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TicketFigures {
    pub key: String,
    pub name: Option<String>,
    pub parent_name: Option<String>,
    pub count: i64,
    pub amount: Decimal,
    pub payouts: Decimal,
}

/// Live tickets of `f` in population `pop`, split by `group`, largest amount first.
pub async fn ticket_groups(
    pool: &PgPool,
    f: &Filter,
    pop: Population,
    group: TicketGroup,
) -> Result<Vec<TicketFigures>, sqlx::Error> {
    let key = match group {
        TicketGroup::Loteria => "t.loteria_id::text",
        TicketGroup::Sorteo => "t.sorteo_id::text",
        TicketGroup::Ventana => "t.ventana_id::text",
        TicketGroup::Vendedor => "t.vendedor_id::text",
    };
    let (names, joins) = match group {
        TicketGroup::Loteria => (
            "l.name, NULL::text AS parent_name",
            "LEFT JOIN loterias l ON l.id = g.key::uuid",
        ),
        TicketGroup::Sorteo => (
            "so.name, lo.name AS parent_name",
            "LEFT JOIN sorteos so ON so.id = g.key::uuid
             LEFT JOIN loterias lo ON lo.id = so.loteria_id",
        ),
        TicketGroup::Ventana => (
            "v.name, NULL::text AS parent_name",
            "LEFT JOIN ventanas v ON v.id = g.key::uuid",
        ),
        TicketGroup::Vendedor => (
            "u.name, uv.name AS parent_name",
            "LEFT JOIN users u ON u.id = g.key::uuid
             LEFT JOIN ventanas uv ON uv.id = u.ventana_id",
        ),
    };
    let pop = match pop {
        Population::Sold => SOLD,
        Population::Cancelled => "t.status = 'CANCELLED'",
    };
    let sql = format!(
        "WITH g AS (
            SELECT {key} AS key, count(*) AS count, sum(t.total_amount) AS amount,
                   sum(t.total_payout) FILTER (WHERE t.status <> 'ACTIVE') AS payouts
            FROM tickets t
            WHERE {scope} AND {pop} AND {LIVE_SORTEO}
            GROUP BY 1
        )
        SELECT g.key, {names}, g.count, COALESCE(g.amount, 0) AS amount,
               COALESCE(g.payouts, 0) AS payouts
        FROM g {joins}
        ORDER BY g.amount DESC, g.key",
        scope = scoped!("t"),
    );
    bind(planned::<TicketFigures>(&sql), f)
        .fetch_all(pool)
        .await
}

/// How many tickets of `f` were made at all (any status), for cancellation rates.
pub async fn all_tickets(pool: &PgPool, f: &Filter) -> Result<i64, sqlx::Error> {
    let sql = format!(
        "SELECT count(*) FROM tickets t WHERE {scope}",
        scope = scoped!("t"),
    );
    bind(planned::<(i64,)>(&sql), f)
        .fetch_one(pool)
        .await
        .map(|r| r.0)
}

// ---------------------------------------------------------------------------------------------
// Numbers.

/// One number's sales.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct NumberFigures {
    pub number: String,
    pub amount: Decimal,
    pub jugadas: i64,
    /// Times the number was drawn in an evaluated sorteo of the lotería filter and period
    /// (only with `with_wins`).
    pub times_won: i64,
}

/// `(numbers, distinct numbers, Σ amount)`: the `limit` most played numbers of `f` (largest
/// amount first; ties by number) from `number_rollup` (or `daily_number_sales` when `f` names a
/// ventana or a seller) plus the live jugadas of ACTIVE tickets of sorteos without a result.
/// `bet_type` narrows to NUMERO or REVENTADO.
///
/// `daily_number_sales` keeps the rows of a drawn sorteo that was deleted: they are left out
/// as in [`LIVE_SORTEO`] (≈ 320,000 rows for 30 days at 1 M jugadas; a join to `sorteos`
/// cost a fifth of the statement). Those rows are summed per number before they meet the live
/// jugadas (not passed one by one through the union).
pub async fn numbers(
    pool: &PgPool,
    f: &Filter,
    bet_type: Option<&str>,
    limit: i64,
) -> Result<(Vec<NumberFigures>, i64, Decimal), sqlx::Error> {
    // Not narrowed to a ventana or a seller: the per-sorteo sums of `number_rollup` (≈ a
    // quarter of the rows); otherwise `daily_number_sales`, which has both ids.
    let (source, dscope) = if f.ventana_id.is_none() && f.vendedor_id.is_none() {
        ("number_rollup", NUMBER_ROLLUP_SCOPE)
    } else {
        ("daily_number_sales", scoped!("d"))
    };
    let sql = format!(
        "WITH n AS (
            SELECT d.number, sum(d.total_amount) AS amount, sum(d.jugada_count)::bigint AS jugadas
            FROM {source} d
            WHERE {dscope} AND ($9::text IS NULL OR d.type::text = $9)
              AND d.sorteo_id NOT IN (SELECT id FROM sorteos WHERE deleted_at IS NOT NULL)
            GROUP BY 1
            UNION ALL
            SELECT j.number, j.amount, 1::bigint
            FROM tickets t
            JOIN sorteos s ON s.id = t.sorteo_id AND s.deleted_at IS NULL
                          AND s.winning_number IS NULL
            JOIN jugadas j ON j.ticket_id = t.id
            WHERE {tscope} AND t.status = 'ACTIVE' AND t.is_active AND t.deleted_at IS NULL
              AND j.is_active AND NOT j.is_excluded AND j.deleted_at IS NULL
              AND ($9::text IS NULL OR j.type::text = $9)
        ), g AS (
            SELECT number, sum(amount) AS amount, sum(jugadas)::bigint AS jugadas
            FROM n GROUP BY number
        ), wins AS (
            SELECT s.winning_number AS number, count(*) AS times_won
            FROM sorteos s
            WHERE s.winning_number IS NOT NULL AND s.deleted_at IS NULL
              AND s.status IN ('EVALUATED', 'CLOSED')
              AND ($1::uuid IS NULL OR s.banca_id = $1)
              AND ($4::uuid IS NULL OR s.loteria_id = $4)
              AND ($5::uuid IS NULL OR s.id = $5)
              AND (s.scheduled_at AT TIME ZONE $8)::date BETWEEN $6 AND $7
            GROUP BY 1
        )
        SELECT g.number, g.amount, g.jugadas, COALESCE(w.times_won, 0) AS times_won,
               count(*) OVER () AS distinct_numbers, sum(g.amount) OVER () AS total
        FROM g LEFT JOIN wins w ON w.number = g.number
        ORDER BY g.amount DESC, g.number
        LIMIT $10",
        tscope = scoped!("t"),
    );
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        n: NumberFigures,
        distinct_numbers: i64,
        total: Decimal,
    }
    let rows = bind(planned::<Row>(&sql), f)
        .bind(bet_type)
        .bind(limit)
        .fetch_all(pool)
        .await?;
    let (count, total) = rows
        .first()
        .map(|r| (r.distinct_numbers, r.total))
        .unwrap_or_default();
    Ok((rows.into_iter().map(|r| r.n).collect(), count, total))
}

/// Open exposure of `numbers` in `f`: Σ amount × the line's sale multiplier (30 without one)
/// of the NUMERO lines of ACTIVE tickets of sorteos without a result — what the banca would
/// pay if the number were drawn in each of them. Numbers without such lines are absent.
pub async fn open_exposure(
    pool: &PgPool,
    f: &Filter,
    numbers: &[String],
) -> Result<Vec<(String, Decimal)>, sqlx::Error> {
    let sql = format!(
        "SELECT j.number,
                sum(j.amount * CASE WHEN j.final_multiplier_x > 0 THEN j.final_multiplier_x
                                    ELSE 30 END) AS exposure
         FROM tickets t
         JOIN sorteos s ON s.id = t.sorteo_id AND s.deleted_at IS NULL
                       AND s.winning_number IS NULL
         JOIN jugadas j ON j.ticket_id = t.id
         WHERE {tscope} AND t.status = 'ACTIVE' AND t.is_active AND t.deleted_at IS NULL
           AND j.is_active AND NOT j.is_excluded AND j.deleted_at IS NULL
           AND j.type = 'NUMERO' AND j.number = ANY($9)
         GROUP BY j.number",
        tscope = scoped!("t"),
    );
    bind(planned::<(String, Decimal)>(&sql), f)
        .bind(numbers)
        .fetch_all(pool)
        .await
}

/// [`scoped!`] for `number_rollup` (alias `d`), which has no ventana or seller: only used when
/// `$2` and `$3` are NULL (they stay referenced, so every statement takes the same parameters).
const NUMBER_ROLLUP_SCOPE: &str = "($1::uuid IS NULL OR d.banca_id = $1)
     AND $2::uuid IS NULL AND $3::uuid IS NULL
     AND ($4::uuid IS NULL OR d.loteria_id = $4)
     AND ($5::uuid IS NULL OR d.sorteo_id = $5)
     AND d.business_date BETWEEN $6 AND $7 AND $8::text IS NOT NULL";

/// One sorteo's sales of a number (drill-down), with its sellers.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct NumberSorteo {
    pub sorteo_id: Uuid,
    pub sorteo_name: String,
    pub scheduled_at: DateTime<Utc>,
    pub amount: Decimal,
    pub jugadas: i64,
    /// `[{vendedorId, vendedorName, totalAmount, jugadasCount}]`, largest first.
    pub by_vendedor: Value,
}

/// The sales of `number` in `f` (the lotería filter is required by the route) per sorteo and
/// seller, from the same sources as [`numbers`]. Deleted sorteos drop out when the sums per
/// sorteo meet `sorteos`, not row by row.
pub async fn number_detail(
    pool: &PgPool,
    f: &Filter,
    number: &str,
    bet_type: Option<&str>,
) -> Result<Vec<NumberSorteo>, sqlx::Error> {
    let sql = format!(
        "WITH n AS (
            SELECT d.sorteo_id, d.vendedor_id, d.total_amount AS amount,
                   d.jugada_count::bigint AS jugadas
            FROM daily_number_sales d
            WHERE {dscope} AND d.number = $9 AND ($10::text IS NULL OR d.type::text = $10)
            UNION ALL
            SELECT t.sorteo_id, t.vendedor_id, j.amount, 1::bigint
            FROM tickets t
            JOIN sorteos s ON s.id = t.sorteo_id AND s.deleted_at IS NULL
                          AND s.winning_number IS NULL
            JOIN jugadas j ON j.ticket_id = t.id
            WHERE {tscope} AND t.status = 'ACTIVE' AND t.is_active AND t.deleted_at IS NULL
              AND j.is_active AND NOT j.is_excluded AND j.deleted_at IS NULL
              AND j.number = $9 AND ($10::text IS NULL OR j.type::text = $10)
        ), sv AS (
            SELECT sorteo_id, vendedor_id, sum(amount) AS amount, sum(jugadas)::bigint AS jugadas
            FROM n GROUP BY 1, 2
        )
        SELECT sv.sorteo_id, so.name AS sorteo_name, so.scheduled_at,
               sum(sv.amount) AS amount, sum(sv.jugadas)::bigint AS jugadas,
               json_agg(json_build_object('vendedorId', sv.vendedor_id, 'vendedorName', u.name,
                        'totalAmount', sv.amount, 'jugadasCount', sv.jugadas)
                        ORDER BY sv.amount DESC, u.name) AS by_vendedor
        FROM sv JOIN sorteos so ON so.id = sv.sorteo_id AND so.deleted_at IS NULL
        LEFT JOIN users u ON u.id = sv.vendedor_id
        GROUP BY sv.sorteo_id, so.name, so.scheduled_at
        ORDER BY amount DESC, so.scheduled_at",
        dscope = scoped!("d"),
        tscope = scoped!("t"),
    );
    bind(planned::<NumberSorteo>(&sql), f)
        .bind(number)
        .bind(bet_type)
        .fetch_all(pool)
        .await
}

/// A lotería's name when it is visible in banca `banca` (any banca when `None`).
pub async fn loteria_name(
    pool: &PgPool,
    id: Uuid,
    banca: Option<Uuid>,
) -> Result<Option<String>, sqlx::Error> {
    query_as::<(String,)>(
        "SELECT name FROM loterias
         WHERE id = $1 AND ($2::uuid IS NULL OR banca_id = $2 OR banca_id IS NULL)",
    )
    .bind(id)
    .bind(banca)
    .fetch_optional(pool)
    .await
    .map(|r| r.map(|r| r.0))
}

// ---------------------------------------------------------------------------------------------
// Winners and payments.

/// The winners-payments filters besides [`Filter`].
#[derive(Debug, Clone, Default)]
pub struct WinnerFilter {
    /// `paid` | `partial` | `unpaid`; `None`: all.
    pub payment_status: Option<String>,
    pub expired_only: bool,
    pub min_payout: Option<Decimal>,
    pub max_payout: Option<Decimal>,
    /// `NUMERO` | `REVENTADO`: tickets with a winning line of that type.
    pub bet_type: Option<String>,
}

/// `$1…$8` + `$9…$13` of [`WinnerFilter`]: the winning tickets (`w`) of the report.
macro_rules! winners_cte {
    () => {
        concat!(
            "WITH w AS (
                SELECT t.id, t.ticket_number, t.created_at, t.loteria_id, t.sorteo_id,
                       t.ventana_id, t.vendedor_id, t.total_amount, t.total_payout, t.total_paid,
                       t.remaining_amount, t.last_payment_at, s.status AS sorteo_status,
                       s.evaluated_at,
                       (t.remaining_amount > 0 AND s.status = 'EVALUATED'
                        AND s.evaluated_at < now() - interval '24 hours') AS expired
                FROM tickets t
                JOIN sorteos s ON s.id = t.sorteo_id AND s.deleted_at IS NULL
                WHERE ",
            scoped!("t"),
            "
                  AND t.is_winner AND t.is_active AND t.deleted_at IS NULL
                  AND t.status IN ('EVALUATED', 'PAID', 'PAGADO')
                  AND ($9::text IS NULL
                       OR ($9 = 'paid' AND t.remaining_amount <= 0)
                       OR ($9 = 'partial' AND t.remaining_amount > 0 AND t.total_paid > 0)
                       OR ($9 = 'unpaid' AND t.total_paid <= 0))
                  AND (NOT $10 OR (t.remaining_amount > 0 AND s.status = 'EVALUATED'
                                   AND s.evaluated_at < now() - interval '24 hours'))
                  AND ($11::numeric IS NULL OR t.total_payout >= $11)
                  AND ($12::numeric IS NULL OR t.total_payout <= $12)
                  AND ($13::text IS NULL OR EXISTS (
                      SELECT 1 FROM jugadas j
                      WHERE j.ticket_id = t.id AND j.is_winner AND j.is_active
                        AND j.deleted_at IS NULL AND j.type::text = $13))
            )"
        )
    };
}

fn bind_winners<'q, O>(
    q: QueryAs<'q, Postgres, O, PgArguments>,
    f: &'q Filter,
    w: &'q WinnerFilter,
) -> QueryAs<'q, Postgres, O, PgArguments> {
    bind(q, f)
        .bind(w.payment_status.as_deref())
        .bind(w.expired_only)
        .bind(w.min_payout)
        .bind(w.max_payout)
        .bind(w.bet_type.as_deref())
}

/// Totals of the winning tickets of the report.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct WinnerTotals {
    pub count: i64,
    pub payout: Decimal,
    pub paid: Decimal,
    pub pending: Decimal,
    pub partial: i64,
    pub unpaid: i64,
    pub expired: i64,
    pub expired_amount: Decimal,
    pub max_payout: Decimal,
    pub max_payout_ticket_id: Option<Uuid>,
    pub max_payout_ticket_number: Option<String>,
    /// `[{type, count, amount}]`: winning lines per bet type (count = tickets).
    pub by_bet_type: Value,
}

/// The totals of the winning tickets of `f` and `w`. The winning lines per bet type are read
/// ticket by ticket through the jugadas' `(ticket_id, position)` key (the `OFFSET 0` keeps
/// that lateral read: joined, the planner scanned all jugadas for `is_winner`).
pub async fn winner_totals(
    pool: &PgPool,
    f: &Filter,
    w: &WinnerFilter,
) -> Result<WinnerTotals, sqlx::Error> {
    let sql = concat!(
        winners_cte!(),
        " SELECT count(*) AS count, COALESCE(sum(total_payout), 0) AS payout,
                 COALESCE(sum(total_paid), 0) AS paid,
                 COALESCE(sum(remaining_amount), 0) AS pending,
                 count(*) FILTER (WHERE total_paid > 0 AND remaining_amount > 0) AS partial,
                 count(*) FILTER (WHERE total_paid <= 0) AS unpaid,
                 count(*) FILTER (WHERE expired) AS expired,
                 COALESCE(sum(remaining_amount) FILTER (WHERE expired), 0) AS expired_amount,
                 COALESCE(max(total_payout), 0) AS max_payout,
                 (SELECT id FROM w ORDER BY total_payout DESC, ticket_number LIMIT 1)
                     AS max_payout_ticket_id,
                 (SELECT ticket_number FROM w ORDER BY total_payout DESC, ticket_number LIMIT 1)
                     AS max_payout_ticket_number,
                 (SELECT COALESCE(json_agg(json_build_object('type', b.type, 'count', b.count,
                                                            'amount', b.amount)), '[]'::json)
                  FROM (SELECT j.type::text AS type, count(DISTINCT j.ticket_id) AS count,
                               sum(j.payout) AS amount
                        FROM w CROSS JOIN LATERAL (
                            SELECT j.ticket_id, j.type, j.payout
                            FROM jugadas j
                            WHERE j.ticket_id = w.id AND j.is_winner AND j.is_active
                              AND j.deleted_at IS NULL
                            OFFSET 0) j
                        GROUP BY 1) b) AS by_bet_type
          FROM w"
    );
    bind_winners(planned::<WinnerTotals>(sql), f, w)
        .fetch_one(pool)
        .await
}

/// One winning ticket of the report.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WinnerRow {
    pub id: Uuid,
    pub ticket_number: String,
    pub created_at: DateTime<Utc>,
    pub evaluated_at: Option<DateTime<Utc>>,
    pub loteria_id: Uuid,
    pub loteria_name: Option<String>,
    pub sorteo_id: Uuid,
    pub sorteo_name: Option<String>,
    pub ventana_id: Uuid,
    pub ventana_name: Option<String>,
    pub vendedor_id: Uuid,
    pub vendedor_name: Option<String>,
    pub total_amount: Decimal,
    pub total_payout: Decimal,
    pub total_paid: Decimal,
    pub remaining_amount: Decimal,
    pub payment_count: i64,
    pub last_payment_at: Option<DateTime<Utc>>,
    pub expired: bool,
}

/// A page of the winning tickets of `f` and `w`, newest first.
pub async fn winner_page(
    pool: &PgPool,
    f: &Filter,
    w: &WinnerFilter,
    limit: i64,
    offset: i64,
) -> Result<Vec<WinnerRow>, sqlx::Error> {
    let sql = concat!(
        winners_cte!(),
        " SELECT w.id, w.ticket_number, w.created_at,
                 CASE WHEN w.sorteo_status IN ('EVALUATED', 'CLOSED') THEN w.evaluated_at END
                     AS evaluated_at,
                 w.loteria_id, l.name AS loteria_name, w.sorteo_id, s.name AS sorteo_name,
                 w.ventana_id, v.name AS ventana_name, w.vendedor_id, u.name AS vendedor_name,
                 w.total_amount, w.total_payout, w.total_paid, w.remaining_amount,
                 (SELECT count(*) FROM ticket_payments p
                  WHERE p.ticket_id = w.id AND NOT p.is_reversed) AS payment_count,
                 w.last_payment_at, w.expired
          FROM w
          LEFT JOIN loterias l ON l.id = w.loteria_id
          LEFT JOIN sorteos s ON s.id = w.sorteo_id
          LEFT JOIN ventanas v ON v.id = w.ventana_id
          LEFT JOIN users u ON u.id = w.vendedor_id
          ORDER BY w.created_at DESC, w.id DESC
          LIMIT $14 OFFSET $15"
    );
    bind_winners(planned::<WinnerRow>(sql), f, w)
        .bind(limit)
        .bind(offset)
        .fetch_all(pool)
        .await
}

// ---------------------------------------------------------------------------------------------
// Cancelled tickets.

/// One cancelled ticket.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CancelledRow {
    pub id: Uuid,
    pub ticket_number: String,
    pub created_at: DateTime<Utc>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub loteria_id: Uuid,
    pub loteria_name: Option<String>,
    pub sorteo_id: Uuid,
    pub sorteo_name: Option<String>,
    pub ventana_id: Uuid,
    pub ventana_name: Option<String>,
    pub vendedor_id: Uuid,
    pub vendedor_name: Option<String>,
    pub total_amount: Decimal,
    pub cancelled_by_name: Option<String>,
}

/// `(count, Σ amount, average minutes from sale to cancellation)` of the cancelled tickets.
pub async fn cancelled_totals(
    pool: &PgPool,
    f: &Filter,
) -> Result<(i64, Decimal, Option<Decimal>), sqlx::Error> {
    let sql = format!(
        "SELECT count(*), COALESCE(sum(t.total_amount), 0),
                round(avg(extract(epoch FROM COALESCE(t.cancelled_at, t.deleted_at)
                                             - t.created_at)) / 60, 2)
         FROM tickets t WHERE {scope} AND t.status = 'CANCELLED'",
        scope = scoped!("t"),
    );
    bind(planned::<(i64, Decimal, Option<Decimal>)>(&sql), f)
        .fetch_one(pool)
        .await
}

/// A page of the cancelled tickets of `f`, latest cancellation first.
pub async fn cancelled_page(
    pool: &PgPool,
    f: &Filter,
    limit: i64,
    offset: i64,
) -> Result<Vec<CancelledRow>, sqlx::Error> {
    let sql = format!(
        "SELECT t.id, t.ticket_number, t.created_at,
                COALESCE(t.cancelled_at, t.deleted_at) AS cancelled_at,
                t.loteria_id, l.name AS loteria_name, t.sorteo_id, s.name AS sorteo_name,
                t.ventana_id, v.name AS ventana_name, t.vendedor_id, u.name AS vendedor_name,
                t.total_amount, cb.name AS cancelled_by_name
         FROM tickets t
         LEFT JOIN loterias l ON l.id = t.loteria_id
         LEFT JOIN sorteos s ON s.id = t.sorteo_id
         LEFT JOIN ventanas v ON v.id = t.ventana_id
         LEFT JOIN users u ON u.id = t.vendedor_id
         LEFT JOIN users cb ON cb.id = t.cancelled_by
         WHERE {scope} AND t.status = 'CANCELLED'
         ORDER BY COALESCE(t.cancelled_at, t.deleted_at, t.created_at) DESC, t.id DESC
         LIMIT $9 OFFSET $10",
        scope = scoped!("t"),
    );
    bind(planned::<CancelledRow>(&sql), f)
        .bind(limit)
        .bind(offset)
        .fetch_all(pool)
        .await
}

// ---------------------------------------------------------------------------------------------
// Sorteos: exposure and winners list.

/// A sorteo as the reports show it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SorteoHead {
    pub id: Uuid,
    pub name: String,
    pub loteria_id: Uuid,
    pub loteria_name: String,
    pub scheduled_at: DateTime<Utc>,
    pub status: String,
    pub winning_number: Option<String>,
    pub extra_outcome_code: Option<String>,
    pub extra_multiplier_x: Option<Decimal>,
}

/// Sorteo `id` when it is not deleted and belongs to banca `banca` (any banca when `None`).
pub async fn sorteo_head(
    pool: &PgPool,
    id: Uuid,
    banca: Option<Uuid>,
) -> Result<Option<SorteoHead>, sqlx::Error> {
    query_as::<SorteoHead>(
        "SELECT s.id, s.name, s.loteria_id, l.name AS loteria_name, s.scheduled_at,
                s.status::text AS status, s.winning_number, s.extra_outcome_code,
                s.extra_multiplier_x
         FROM sorteos s JOIN loterias l ON l.id = s.loteria_id
         WHERE s.id = $1 AND s.deleted_at IS NULL
           AND ($2::uuid IS NULL OR s.banca_id = $2)",
    )
    .bind(id)
    .bind(banca)
    .fetch_optional(pool)
    .await
}

/// One number's exposure in a sorteo.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ExposureRow {
    pub number: String,
    /// Σ amount of every line of the number (NUMERO and REVENTADO).
    pub amount: Decimal,
    /// Σ amount of its NUMERO lines.
    pub numero_amount: Decimal,
    pub tickets: i64,
    pub jugadas: i64,
    /// Σ NUMERO amount × sale multiplier (30 when a line has none).
    pub exposure: Decimal,
}

/// Per number of the sold tickets of sorteo `f.sorteo_id` (the period is not applied; the
/// other scope ids are), largest sales first.
pub async fn exposure(pool: &PgPool, f: &Filter) -> Result<Vec<ExposureRow>, sqlx::Error> {
    planned::<ExposureRow>(
        "SELECT j.number, sum(j.amount) AS amount,
                COALESCE(sum(j.amount) FILTER (WHERE j.type = 'NUMERO'), 0) AS numero_amount,
                count(DISTINCT t.id) AS tickets, count(*) AS jugadas,
                COALESCE(sum(j.amount * CASE WHEN j.final_multiplier_x > 0
                                             THEN j.final_multiplier_x ELSE 30 END)
                         FILTER (WHERE j.type = 'NUMERO'), 0) AS exposure
         FROM tickets t JOIN jugadas j ON j.ticket_id = t.id
         WHERE t.sorteo_id = $5
           AND ($1::uuid IS NULL OR t.banca_id = $1)
           AND ($2::uuid IS NULL OR t.ventana_id = $2)
           AND ($3::uuid IS NULL OR t.vendedor_id = $3)
           AND ($4::uuid IS NULL OR t.loteria_id = $4)
           AND $6::date <= $7 AND length($8) > 0
           AND t.deleted_at IS NULL AND t.is_active
           AND t.status IN ('ACTIVE', 'EVALUATED', 'PAID', 'PAGADO')
           AND j.is_active AND NOT j.is_excluded AND j.deleted_at IS NULL
         GROUP BY j.number
         ORDER BY amount DESC, j.number",
    )
    .bind(f.banca_id)
    .bind(f.ventana_id)
    .bind(f.vendedor_id)
    .bind(f.loteria_id)
    .bind(f.sorteo_id)
    .bind(f.from)
    .bind(f.to)
    .bind(f.tz.as_str())
    .fetch_all(pool)
    .await
}

/// One ventana's exposure in a sorteo and its riskiest number.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct VentanaExposure {
    pub ventana_id: Uuid,
    pub ventana_name: Option<String>,
    pub amount: Decimal,
    pub exposure: Decimal,
    pub top_number: Option<String>,
    pub top_number_exposure: Decimal,
}

/// Per ventana of the sold tickets of sorteo `f.sorteo_id`, largest exposure first.
pub async fn exposure_by_ventana(
    pool: &PgPool,
    f: &Filter,
) -> Result<Vec<VentanaExposure>, sqlx::Error> {
    planned::<VentanaExposure>(
        "WITH n AS (
            SELECT t.ventana_id, j.number, sum(j.amount) AS amount,
                   COALESCE(sum(j.amount * CASE WHEN j.final_multiplier_x > 0
                                                THEN j.final_multiplier_x ELSE 30 END)
                            FILTER (WHERE j.type = 'NUMERO'), 0) AS exposure
            FROM tickets t JOIN jugadas j ON j.ticket_id = t.id
            WHERE t.sorteo_id = $5
              AND ($1::uuid IS NULL OR t.banca_id = $1)
              AND ($2::uuid IS NULL OR t.ventana_id = $2)
              AND ($3::uuid IS NULL OR t.vendedor_id = $3)
              AND ($4::uuid IS NULL OR t.loteria_id = $4)
              AND t.deleted_at IS NULL AND t.is_active
              AND t.status IN ('ACTIVE', 'EVALUATED', 'PAID', 'PAGADO')
              AND j.is_active AND NOT j.is_excluded AND j.deleted_at IS NULL
            GROUP BY 1, 2
        ), ranked AS (
            SELECT n.*, row_number() OVER (PARTITION BY ventana_id
                                           ORDER BY exposure DESC, number) AS rnk
            FROM n
        )
        SELECT r.ventana_id, v.name AS ventana_name, sum(r.amount) AS amount,
               sum(r.exposure) AS exposure,
               max(r.number) FILTER (WHERE r.rnk = 1) AS top_number,
               COALESCE(max(r.exposure) FILTER (WHERE r.rnk = 1), 0) AS top_number_exposure
        FROM ranked r LEFT JOIN ventanas v ON v.id = r.ventana_id
        GROUP BY r.ventana_id, v.name
        ORDER BY exposure DESC, v.name",
    )
    .bind(f.banca_id)
    .bind(f.ventana_id)
    .bind(f.vendedor_id)
    .bind(f.loteria_id)
    .bind(f.sorteo_id)
    .fetch_all(pool)
    .await
}

/// One winning ticket of a sorteo with its winning lines.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WinningTicket {
    pub id: Uuid,
    pub ticket_number: String,
    pub cliente_nombre: String,
    pub vendedor_id: Uuid,
    pub vendedor_name: Option<String>,
    pub ventana_name: Option<String>,
    pub status: String,
    pub total_payout: Decimal,
    pub total_paid: Decimal,
    pub remaining_amount: Decimal,
    /// `[{number, reventadoNumber, type, amount, payout}]` of its winning lines.
    pub jugadas: Value,
}

/// The winning tickets of sorteo `f.sorteo_id` in the scope of `f` (the period is not
/// applied), largest prize first.
pub async fn winning_tickets(pool: &PgPool, f: &Filter) -> Result<Vec<WinningTicket>, sqlx::Error> {
    planned::<WinningTicket>(
        "SELECT t.id, t.ticket_number, t.cliente_nombre, t.vendedor_id, u.name AS vendedor_name,
                v.name AS ventana_name, t.status::text AS status, t.total_payout, t.total_paid,
                t.remaining_amount,
                (SELECT COALESCE(json_agg(json_build_object(
                            'number', j.number, 'reventadoNumber', j.reventado_number,
                            'type', j.type, 'amount', j.amount, 'payout', j.payout)
                            ORDER BY j.position), '[]'::json)
                 FROM jugadas j
                 WHERE j.ticket_id = t.id AND j.is_winner AND j.is_active
                   AND NOT j.is_excluded AND j.deleted_at IS NULL) AS jugadas
         FROM tickets t
         LEFT JOIN users u ON u.id = t.vendedor_id
         LEFT JOIN ventanas v ON v.id = t.ventana_id
         WHERE t.sorteo_id = $5
           AND ($1::uuid IS NULL OR t.banca_id = $1)
           AND ($2::uuid IS NULL OR t.ventana_id = $2)
           AND ($3::uuid IS NULL OR t.vendedor_id = $3)
           AND ($4::uuid IS NULL OR t.loteria_id = $4)
           AND t.is_winner AND t.is_active AND t.deleted_at IS NULL
           AND t.status IN ('EVALUATED', 'PAID', 'PAGADO')
         ORDER BY t.total_payout DESC, t.ticket_number",
    )
    .bind(f.banca_id)
    .bind(f.ventana_id)
    .bind(f.vendedor_id)
    .bind(f.loteria_id)
    .bind(f.sorteo_id)
    .fetch_all(pool)
    .await
}

/// A user's name.
pub async fn user_name(pool: &PgPool, id: Uuid) -> Result<Option<String>, sqlx::Error> {
    query_as::<(String,)>("SELECT name FROM users WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await
        .map(|r| r.map(|r| r.0))
}
