//! SQL of the ventas reports (`/ventas*`) and `GET /sales/daily-stats` (domain-money §6.2).
//!
//! The ventas population is the money population of the account statements (invariant 1):
//! tickets not deleted, active, in status ACTIVE/EVALUATED/PAID/PAGADO, outside any whole-list
//! exclusion, of a sorteo with a result (EVALUATED, or CLOSED after it) that is not deleted; of
//! them, jugadas active, not excluded, not deleted.
//!
//! Two sources give the figures:
//! * the rollups, exact and kept in the transaction of every evaluation, revert, delete or
//!   restore: `ventana_rollup` (per sorteo × day × ventana) when neither a vendedor filter nor a
//!   vendedor grouping asks for the seller, `ticket_rollup` (per sorteo × day × ventana ×
//!   vendedor) otherwise; both carry the money, the jugada and the ticket counts, so one scan
//!   of one table gives every sum (no `sales_rollup`, no join between rollups). Prize-payment
//!   figures come from the winning tickets (partial index `tickets_winners_banca_date_idx`)
//!   whose key (sorteo, day, ventana, vendedor) is in `ticket_rollup`, so a whole-list
//!   exclusion (which removes a key from the rollups) also removes its payments;
//! * the tickets themselves (`pop`, and `base` from them and their jugadas), when a
//!   ticket-level filter is asked (`status`, `winnersOnly`), the hour of sale is the bucket
//!   (business-zone hour of `created_at`) or the number is the group.
//!
//! Every statement binds the same ten leading parameters ([`Filter::bind`]): `$1` banca, `$2`
//! ventana, `$3` vendedor, `$4` lotería, `$5` sorteo (each `NULL` = any), `$6`/`$7` the
//! inclusive business days, `$8` ticket status (`NULL` = any of the population), `$9` winners
//! only, `$10` the business time zone; a statement's own parameters follow from `$11`. The
//! statements name only the parameters whose filter is present (no `$n IS NULL OR …` guards),
//! so the planner sees plain predicates and picks the `(banca_id | ventana_id | vendedor_id,
//! business_date, …)` indexes, and a cached generic plan cannot lose them.
//!
//! The ventas list and `lastTicketAt` walk the tickets one business day at a time, newest sale
//! first, along the `(…, business_date, created_at DESC, id DESC)` indexes, reading at most
//! the page's reach per day, instead of sorting the period's tickets.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use rust_decimal::Decimal;
use sqlx::postgres::PgArguments;
use sqlx::{PgPool, Postgres};
use uuid::Uuid;

use crate::db::query_as;

/// Which tickets count.
#[derive(Debug, Clone)]
pub struct Filter {
    /// `None`: every banca (ADMIN without an active banca).
    pub banca_id: Option<Uuid>,
    pub ventana_id: Option<Uuid>,
    pub vendedor_id: Option<Uuid>,
    pub loteria_id: Option<Uuid>,
    pub sorteo_id: Option<Uuid>,
    /// Inclusive business days.
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// One status of the population (ACTIVE, EVALUATED, PAID or PAGADO).
    pub status: Option<String>,
    pub winners_only: bool,
    /// IANA name of the business time zone (hour buckets, list times).
    pub tz: String,
}

impl Filter {
    /// Whether the figures must come from the tickets instead of the rollups.
    fn ticket_level(&self) -> bool {
        self.status.is_some() || self.winners_only
    }

    /// Binds `$1…$10` and sends the statement unnamed: PostgreSQL plans it for its
    /// parameters on every run (1–3 ms) instead of switching to a cached generic plan after
    /// five runs. Measured on the 1 M-jugada dataset, the generic plans of the former `$n IS
    /// NULL OR …` statements ran the summary, breakdown and day series into the 15–20 s
    /// timeouts and the list from 0.15 to 0.85 s; those of these statements are safer but still
    /// up to 9× slower than their custom plans (winners-only summary 35 → 308 ms).
    fn bind<'q, O>(
        &self,
        q: sqlx::query::QueryAs<'q, Postgres, O, PgArguments>,
    ) -> sqlx::query::QueryAs<'q, Postgres, O, PgArguments> {
        q.persistent(false)
            .bind(self.banca_id)
            .bind(self.ventana_id)
            .bind(self.vendedor_id)
            .bind(self.loteria_id)
            .bind(self.sorteo_id)
            .bind(self.from)
            .bind(self.to)
            .bind(self.status.clone())
            .bind(self.winners_only)
            .bind(self.tz.clone())
    }

    /// The rollup that answers: `ventana_rollup` (40× smaller) unless the seller matters (a
    /// vendedor filter, or `by_vendedor`: grouped or listed per vendedor).
    fn rollup(&self, by_vendedor: bool) -> &'static str {
        if self.vendedor_id.is_none() && !by_vendedor {
            "ventana_rollup"
        } else {
            "ticket_rollup"
        }
    }

    /// The key filters present, on the row alias `a` (a rollup or `tickets`): `AND …` each.
    fn keys(&self, a: &str) -> String {
        let mut s = String::new();
        for (present, col, n) in [
            (self.banca_id.is_some(), "banca_id", 1),
            (self.ventana_id.is_some(), "ventana_id", 2),
            (self.vendedor_id.is_some(), "vendedor_id", 3),
            (self.loteria_id.is_some(), "loteria_id", 4),
            (self.sorteo_id.is_some(), "sorteo_id", 5),
        ] {
            if present {
                s.push_str(&format!(" AND {a}.{col} = ${n}"));
            }
        }
        s
    }

    /// The period and key filters on the rollup alias `r`, and the deleted-sorteo guard.
    fn rollup_where(&self) -> String {
        format!(
            "r.business_date BETWEEN $6 AND $7{}
               AND r.sorteo_id NOT IN (SELECT id FROM sorteos WHERE deleted_at IS NOT NULL)",
            self.keys("r")
        )
    }

    /// The population's tickets `t` of the filter, without the period (`AND …` each): keys,
    /// ticket-level filters, ticket state, sorteo state (on the joined sorteo row `s` when
    /// `sorteo_joined`, else a semi-join on `sorteos`) and whole-list exclusions.
    fn population(&self, sorteo_joined: bool) -> String {
        let mut s = self.keys("t");
        if self.status.is_some() {
            s.push_str(" AND t.status::text = $8");
        }
        if self.winners_only {
            s.push_str(" AND t.is_winner");
        }
        s.push_str(
            " AND t.deleted_at IS NULL AND t.is_active
              AND t.status IN ('ACTIVE', 'EVALUATED', 'PAID', 'PAGADO')",
        );
        if sorteo_joined {
            s.push_str(
                " AND s.winning_number IS NOT NULL AND s.status IN ('EVALUATED', 'CLOSED')
                  AND s.deleted_at IS NULL",
            );
        } else {
            s.push_str(
                " AND t.sorteo_id IN (
                      SELECT id FROM sorteos
                      WHERE winning_number IS NOT NULL AND status IN ('EVALUATED', 'CLOSED')
                        AND deleted_at IS NULL)",
            );
        }
        s.push_str(
            " AND NOT EXISTS (
                  SELECT 1 FROM sorteo_lista_exclusions x
                  WHERE x.sorteo_id = t.sorteo_id AND x.multiplier_id IS NULL
                    AND x.number IS NULL
                    AND (x.ventana_id IS NULL OR x.ventana_id = t.ventana_id)
                    AND (x.vendedor_id IS NULL OR x.vendedor_id = t.vendedor_id))",
        );
        s
    }

    /// `pop AS (…)`: the population's tickets of the period.
    fn pop(&self) -> String {
        format!(
            "pop AS (
                SELECT t.id, t.sorteo_id, t.business_date, t.banca_id, t.ventana_id,
                       t.vendedor_id, t.loteria_id, t.created_at, t.status, t.is_winner,
                       t.total_paid, t.remaining_amount
                FROM tickets t
                WHERE t.business_date BETWEEN $6 AND $7{}
            )",
            self.population(false)
        )
    }

    /// The winning tickets of the filter's keys whose key is in `ticket_rollup` (what the
    /// payment figures count), `AND …` after the period. Deleted sorteos are tested as a hashed
    /// `NOT IN` list: as a semi-join to `sorteos`, the planner (which expects a handful of rows
    /// from the `ticket_rollup` EXISTS) nested-looped 1,620 sorteos × 3,053 winners, 390 ms of
    /// the 2 ms this takes (bench scenario r, `/ventas/summary`).
    fn winners(&self) -> String {
        format!(
            "{keys} AND t.is_winner AND t.deleted_at IS NULL AND t.is_active
               AND t.status IN ('ACTIVE', 'EVALUATED', 'PAID', 'PAGADO')
               AND t.sorteo_id NOT IN (SELECT id FROM sorteos WHERE deleted_at IS NOT NULL)
               AND EXISTS (
                   SELECT 1 FROM ticket_rollup k
                   WHERE k.sorteo_id = t.sorteo_id AND k.business_date = t.business_date
                     AND k.ventana_id = t.ventana_id AND k.vendedor_id = t.vendedor_id)",
            keys = self.keys("t")
        )
    }
}

/// A winner counts as paid when PAID/PAGADO or paid in full; unpaid while something remains
/// and it is not PAID/PAGADO.
macro_rules! paid_columns {
    ($p:literal) => {
        concat!(
            "count(*) FILTER (WHERE ",
            $p,
            "is_winner AND (",
            $p,
            "status IN ('PAID', 'PAGADO')
                OR (",
            $p,
            "remaining_amount = 0 AND ",
            $p,
            "total_paid > 0))) AS paid_tickets,
             count(*) FILTER (WHERE ",
            $p,
            "is_winner AND ",
            $p,
            "remaining_amount > 0
                AND ",
            $p,
            "status NOT IN ('PAID', 'PAGADO')) AS unpaid_tickets,
             COALESCE(sum(",
            $p,
            "total_paid) FILTER (WHERE ",
            $p,
            "is_winner), 0) AS total_paid,
             COALESCE(sum(",
            $p,
            "remaining_amount) FILTER (WHERE ",
            $p,
            "is_winner), 0)
                AS remaining,
             COALESCE(sum(",
            $p,
            "remaining_amount) FILTER (WHERE ",
            $p,
            "is_winner
                AND ",
            $p,
            "status NOT IN ('PAID', 'PAGADO')), 0) AS pending"
        )
    };
}

/// The sums of a rollup (alias `r`): sales, payouts, commissions, counts.
const ROLLUP_SUMS: &str = "COALESCE(sum(r.total_sales), 0) AS sales,
       COALESCE(sum(r.total_payouts), 0) AS payouts,
       COALESCE(sum(r.listero_commission), 0) AS listero,
       COALESCE(sum(r.vendedor_commission), 0) AS vend,
       COALESCE(sum(r.ticket_count), 0)::bigint AS tickets,
       COALESCE(sum(r.jugada_count), 0)::bigint AS jugadas,
       COALESCE(sum(r.winner_count), 0)::bigint AS winners";

/// `fig` (the rollup's sums) and `pay` (the winners' payment figures) of `f`, each grouped by
/// `group` (a column of both the rollup and `tickets`, output as `id`) or not at all.
fn rollup_ctes(f: &Filter, group: Option<&str>) -> String {
    let table = f.rollup(group == Some("vendedor_id"));
    let (rcol, tcol, by) = match group {
        Some(c) => (
            format!("r.{c} AS id, "),
            format!("t.{c} AS id, "),
            " GROUP BY 1",
        ),
        None => (String::new(), String::new(), ""),
    };
    format!(
        "fig AS (
            SELECT {rcol}{ROLLUP_SUMS}
            FROM {table} r
            WHERE {rw}{by}
        ), pay AS (
            SELECT {tcol}{paid}
            FROM tickets t
            WHERE t.business_date BETWEEN $6 AND $7{winners}{by}
        )",
        rw = f.rollup_where(),
        paid = paid_columns!("t."),
        winners = f.winners(),
    )
}

/// `base` from the tickets of `pop` (`hr`: the business-zone hour of sale).
const LIVE_BASE: &str = concat!(
    "base AS (
    SELECT p.sorteo_id, p.business_date, p.banca_id, p.ventana_id, p.vendedor_id, p.loteria_id,
           date_trunc('hour', p.created_at AT TIME ZONE $10) AS hr,
           count(*)::numeric AS tickets,
           count(*) FILTER (WHERE p.is_winner)::numeric AS winners,
           COALESCE(sum(j.sales), 0) AS sales, COALESCE(sum(j.payouts), 0) AS payouts,
           COALESCE(sum(j.listero), 0) AS listero, COALESCE(sum(j.vend), 0) AS vend,
           COALESCE(sum(j.jugadas), 0)::numeric AS jugadas, ",
    paid_columns!("p."),
    "
    FROM pop p
    LEFT JOIN LATERAL (
        SELECT sum(j.amount) AS sales,
               COALESCE(sum(j.payout) FILTER (WHERE j.is_winner), 0) AS payouts,
               sum(j.listero_commission_amount) AS listero,
               COALESCE(sum(j.commission_amount) FILTER (WHERE j.commission_origin = 'USER'), 0)
                   AS vend,
               count(*) AS jugadas
        FROM jugadas j
        WHERE j.ticket_id = p.id AND j.is_active AND NOT j.is_excluded AND j.deleted_at IS NULL
    ) j ON true
    GROUP BY 1, 2, 3, 4, 5, 6, 7
)"
);

/// `WITH pop, base` from the tickets.
fn live_base(f: &Filter) -> String {
    format!("WITH {}, {LIVE_BASE}", f.pop())
}

/// The sums every aggregate reports, over rows of `base` aliased `b`.
const SUMS: &str = "COALESCE(sum(b.sales), 0) AS sales, COALESCE(sum(b.payouts), 0) AS payouts,
       COALESCE(sum(b.listero), 0) AS listero, COALESCE(sum(b.vend), 0) AS vend,
       COALESCE(sum(b.tickets), 0)::bigint AS tickets,
       COALESCE(sum(b.jugadas), 0)::bigint AS jugadas,
       COALESCE(sum(b.winners), 0)::bigint AS winners,
       COALESCE(sum(b.paid_tickets), 0)::bigint AS paid_tickets,
       COALESCE(sum(b.unpaid_tickets), 0)::bigint AS unpaid_tickets,
       COALESCE(sum(b.total_paid), 0) AS total_paid, COALESCE(sum(b.remaining), 0) AS remaining,
       COALESCE(sum(b.pending), 0) AS pending";

/// Figures of a set of tickets.
#[derive(Debug, Clone, Default, PartialEq, sqlx::FromRow)]
pub struct Figures {
    /// Σ jugada amounts.
    pub sales: Decimal,
    /// Σ prizes of winning jugadas.
    pub payouts: Decimal,
    /// Σ listero (ventana) commission snapshots.
    pub listero: Decimal,
    /// Σ seller commission snapshots of USER origin.
    pub vend: Decimal,
    pub tickets: i64,
    pub jugadas: i64,
    /// Winning tickets.
    pub winners: i64,
    pub paid_tickets: i64,
    pub unpaid_tickets: i64,
    pub total_paid: Decimal,
    pub remaining: Decimal,
    /// Remaining of winners not PAID/PAGADO (still payable).
    pub pending: Decimal,
}

/// The figures of the whole filter.
pub async fn summary(pool: &PgPool, f: &Filter) -> Result<Figures, sqlx::Error> {
    f.bind(query_as(&summary_sql(f))).fetch_one(pool).await
}

fn summary_sql(f: &Filter) -> String {
    if f.ticket_level() {
        format!("{} SELECT {SUMS} FROM base b", live_base(f))
    } else {
        format!(
            "WITH {} SELECT fig.*, pay.* FROM fig CROSS JOIN pay",
            rollup_ctes(f, None)
        )
    }
}

/// The population's tickets `t` of each business day `$6 + d.n` of the period, newest sale
/// first (`desc`) or oldest first, at most `$lim` of them: a walk down the `(…, business_date,
/// created_at DESC, id DESC)` index of the day that stops at the limit. `joins` and `extra`
/// add tables and predicates; `cols` is the select list. (The days are an integer series: the
/// planner knows its length, so the plan's cost stays small and JIT compilation, ≈25 ms, is
/// not triggered.)
fn day_walk(f: &Filter, cols: &str, joins: &str, extra: &str, desc: bool, lim: &str) -> String {
    let dir = if desc { "DESC" } else { "ASC" };
    format!(
        "generate_series(0, $7::date - $6::date) AS d(n)
         CROSS JOIN LATERAL (
             SELECT {cols}
             FROM tickets t
             JOIN sorteos s ON s.id = t.sorteo_id{joins}
             WHERE t.business_date = $6::date + d.n{pop}{extra}
             ORDER BY t.created_at {dir}, t.id {dir}
             LIMIT {lim}
         ) x",
        pop = f.population(true)
    )
}

/// The latest sale time of the population's tickets: the newest ticket of each day of the
/// period (the day's index walk stops at its first ticket of the population), then the latest
/// of them.
pub async fn last_ticket_at(
    pool: &PgPool,
    f: &Filter,
) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    let sql = last_ticket_sql(f);
    f.bind(query_as::<(Option<DateTime<Utc>>,)>(&sql))
        .fetch_one(pool)
        .await
        .map(|(at,)| at)
}

fn last_ticket_sql(f: &Filter) -> String {
    format!(
        "SELECT max(x.created_at) FROM {}",
        day_walk(f, "t.created_at", "", "", true, "1")
    )
}

/// What a breakdown groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dimension {
    Banca,
    Ventana,
    Vendedor,
    Loteria,
    Sorteo,
    Numero,
}

/// What a breakdown sorts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    Sales,
    Payouts,
    Neto,
    Commission,
    Tickets,
    Margin,
    PayoutRate,
}

impl Sort {
    /// The expression over the grouped row `g` (`comm` names the commission column).
    fn expr(self, comm: &str) -> String {
        match self {
            Sort::Sales => "g.sales".into(),
            Sort::Payouts => "g.payouts".into(),
            Sort::Neto => "g.sales - g.payouts".into(),
            Sort::Commission => format!("g.{comm}"),
            Sort::Tickets => "g.tickets::numeric".into(),
            Sort::Margin => {
                format!("CASE WHEN g.sales > 0 THEN (g.sales - g.payouts - g.{comm}) / g.sales END")
            }
            Sort::PayoutRate => "CASE WHEN g.sales > 0 THEN g.payouts / g.sales END".into(),
        }
    }
}

/// One group of a breakdown.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct GroupRow {
    pub key: String,
    pub name: Option<String>,
    /// Code of a ventana or vendedor; username is not used.
    pub code: Option<String>,
    /// A sorteo's draw time.
    pub scheduled_at: Option<DateTime<Utc>>,
    #[sqlx(flatten)]
    pub figures: Figures,
}

/// The breakdown's options.
#[derive(Debug, Clone)]
pub struct Grouping {
    pub dimension: Dimension,
    /// Sort by this, descending unless `asc`; ties by key.
    pub sort: Sort,
    pub asc: bool,
    /// Case-insensitive part of the group's name (numero: of the number).
    pub search: Option<String>,
    pub top: i64,
    /// The commission that `Sort::Commission`/`Sort::Margin` use: the seller's (USER origin)
    /// instead of the listero's.
    pub seller_commission: bool,
}

/// `… grouped AS (…)` per number, from the population's live jugadas (NUMERO and REVENTADO
/// lines of the number); ticket counts are distinct tickets with the number. (Measured: one
/// sort by number with per-group distinct counts beats pre-grouping per (ticket, number).)
fn numero_grouped(f: &Filter) -> String {
    format!(
        "WITH {pop}, grouped AS (
            SELECT j.number AS key,
                   sum(j.amount) AS sales,
                   COALESCE(sum(j.payout) FILTER (WHERE j.is_winner), 0) AS payouts,
                   sum(j.listero_commission_amount) AS listero,
                   COALESCE(sum(j.commission_amount)
                       FILTER (WHERE j.commission_origin = 'USER'), 0) AS vend,
                   count(DISTINCT j.ticket_id) AS tickets,
                   count(*) AS jugadas,
                   count(DISTINCT j.ticket_id) FILTER (WHERE j.is_winner) AS winners,
                   count(DISTINCT j.ticket_id) FILTER (WHERE j.is_winner
                       AND (p.status IN ('PAID', 'PAGADO')
                            OR (p.remaining_amount = 0 AND p.total_paid > 0)))
                       AS paid_tickets,
                   count(DISTINCT j.ticket_id) FILTER (WHERE j.is_winner
                       AND p.remaining_amount > 0 AND p.status NOT IN ('PAID', 'PAGADO'))
                       AS unpaid_tickets,
                   0::numeric AS total_paid, 0::numeric AS remaining, 0::numeric AS pending
            FROM jugadas j
            JOIN pop p ON p.id = j.ticket_id
            WHERE j.is_active AND NOT j.is_excluded AND j.deleted_at IS NULL
            GROUP BY j.number
        )",
        pop = f.pop()
    )
}

/// The groups of `g.dimension`, sorted and cut to `g.top`.
pub async fn breakdown(
    pool: &PgPool,
    f: &Filter,
    g: &Grouping,
) -> Result<Vec<GroupRow>, sqlx::Error> {
    let search = g.search.as_ref().map(|s| {
        s.replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    });
    f.bind(query_as(&breakdown_sql(f, g)))
        .bind(search)
        .bind(g.asc)
        .bind(g.top)
        .fetch_all(pool)
        .await
}

/// `$11` search, `$12` ascending, `$13` top.
fn breakdown_sql(f: &Filter, g: &Grouping) -> String {
    let comm = if g.seller_commission {
        "vend"
    } else {
        "listero"
    };
    let sort = g.sort.expr(comm);
    let grouped = if g.dimension == Dimension::Numero {
        format!(
            "{}, named AS (
                SELECT g.*, 'Número ' || g.key AS name, NULL::text AS code,
                       NULL::timestamptz AS scheduled_at
                FROM grouped g
                WHERE $11::text IS NULL OR g.key LIKE '%' || $11 || '%'
            )",
            numero_grouped(f)
        )
    } else {
        let (col, join, name, code, at) = match g.dimension {
            Dimension::Banca => (
                "banca_id",
                "bancas e",
                "e.name",
                "e.code",
                "NULL::timestamptz",
            ),
            Dimension::Ventana => (
                "ventana_id",
                "ventanas e",
                "e.name",
                "e.code",
                "NULL::timestamptz",
            ),
            Dimension::Vendedor => (
                "vendedor_id",
                "users e",
                "e.name",
                "e.code",
                "NULL::timestamptz",
            ),
            Dimension::Loteria => (
                "loteria_id",
                "loterias e",
                "e.name",
                "NULL::text",
                "NULL::timestamptz",
            ),
            Dimension::Sorteo | Dimension::Numero => (
                "sorteo_id",
                "sorteos e",
                "e.name",
                "NULL::text",
                "e.scheduled_at",
            ),
        };
        let grouped = if f.ticket_level() {
            format!(
                "{}, grouped AS (SELECT b.{col} AS id, {SUMS} FROM base b GROUP BY 1)",
                live_base(f)
            )
        } else {
            format!(
                "WITH {}, grouped AS (
                    SELECT fig.*,
                           COALESCE(pay.paid_tickets, 0) AS paid_tickets,
                           COALESCE(pay.unpaid_tickets, 0) AS unpaid_tickets,
                           COALESCE(pay.total_paid, 0) AS total_paid,
                           COALESCE(pay.remaining, 0) AS remaining,
                           COALESCE(pay.pending, 0) AS pending
                    FROM fig LEFT JOIN pay USING (id)
                )",
                rollup_ctes(f, Some(col))
            )
        };
        format!(
            "{grouped}, named AS (
                SELECT g.id::text AS key, g.sales, g.payouts, g.listero, g.vend, g.tickets,
                       g.jugadas, g.winners, g.paid_tickets, g.unpaid_tickets, g.total_paid,
                       g.remaining, g.pending,
                       {name} AS name, {code} AS code, {at} AS scheduled_at
                FROM grouped g
                LEFT JOIN {join} ON e.id = g.id
                WHERE $11::text IS NULL OR {name} ILIKE '%' || $11 || '%'
            )"
        )
    };
    format!(
        "{grouped}
         SELECT n.key, n.name, n.code, n.scheduled_at, n.sales, n.payouts, n.listero, n.vend,
                n.tickets::bigint AS tickets, n.jugadas::bigint AS jugadas,
                n.winners::bigint AS winners, n.paid_tickets::bigint AS paid_tickets,
                n.unpaid_tickets::bigint AS unpaid_tickets, n.total_paid, n.remaining, n.pending
         FROM named n
         ORDER BY CASE WHEN $12 THEN {s} END ASC NULLS LAST,
                  CASE WHEN NOT $12 THEN {s} END DESC NULLS LAST, n.key
         LIMIT $13",
        s = sort.replace("g.", "n.")
    )
}

/// How a time series buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Granularity {
    /// Business-zone hour of sale (from the tickets).
    Hour,
    /// Business day.
    Day,
    /// ISO week (Monday) of the business day.
    Week,
    /// Month of the business day.
    Month,
}

/// One bucket of a time series: `bucket` is the local start (midnight of the first day, or the
/// hour).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BucketRow {
    pub bucket: NaiveDateTime,
    /// Sales, payouts, commissions and counts; the payment figures (`paid_tickets` …
    /// `pending`) are not computed for a time series and are 0.
    #[sqlx(flatten)]
    pub figures: Figures,
}

/// What a time series leaves out of [`Figures`].
const NO_PAYMENTS: &str = "0::bigint AS paid_tickets, 0::bigint AS unpaid_tickets,
       0::numeric AS total_paid, 0::numeric AS remaining, 0::numeric AS pending";

/// The buckets with sales, newest first.
pub async fn timeseries(
    pool: &PgPool,
    f: &Filter,
    g: Granularity,
) -> Result<Vec<BucketRow>, sqlx::Error> {
    f.bind(query_as(&timeseries_sql(f, g)))
        .fetch_all(pool)
        .await
}

fn timeseries_sql(f: &Filter, g: Granularity) -> String {
    let day = |a: &str| match g {
        Granularity::Hour | Granularity::Day => format!("{a}.business_date::timestamp"),
        Granularity::Week => format!("date_trunc('week', {a}.business_date::timestamp)"),
        Granularity::Month => format!("date_trunc('month', {a}.business_date::timestamp)"),
    };
    if g == Granularity::Hour || f.ticket_level() {
        let bucket = if g == Granularity::Hour {
            "b.hr".to_string()
        } else {
            day("b")
        };
        format!(
            "{} SELECT {bucket} AS bucket,
                    COALESCE(sum(b.sales), 0) AS sales, COALESCE(sum(b.payouts), 0) AS payouts,
                    COALESCE(sum(b.listero), 0) AS listero, COALESCE(sum(b.vend), 0) AS vend,
                    COALESCE(sum(b.tickets), 0)::bigint AS tickets,
                    COALESCE(sum(b.jugadas), 0)::bigint AS jugadas,
                    COALESCE(sum(b.winners), 0)::bigint AS winners, {NO_PAYMENTS}
             FROM base b GROUP BY 1 ORDER BY 1 DESC",
            live_base(f)
        )
    } else {
        format!(
            "SELECT {bucket} AS bucket, {ROLLUP_SUMS}, {NO_PAYMENTS}
             FROM {table} r
             WHERE {rw}
             GROUP BY 1 ORDER BY 1 DESC",
            bucket = day("r"),
            table = f.rollup(false),
            rw = f.rollup_where()
        )
    }
}

/// A filter value offered by the facets.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FacetRow {
    /// `ventana`, `vendedor`, `loteria` or `sorteo`.
    pub kind: String,
    pub id: Uuid,
    pub name: String,
    /// Ventana code or vendedor username.
    pub code: Option<String>,
    pub scheduled_at: Option<DateTime<Utc>>,
}

/// The ventanas, vendedores, loterías and (latest 50) sorteos with sales in the filter.
pub async fn facets(pool: &PgPool, f: &Filter) -> Result<Vec<FacetRow>, sqlx::Error> {
    f.bind(query_as(&facets_sql(f))).fetch_all(pool).await
}

fn facets_sql(f: &Filter) -> String {
    // `keys`: the (ventana, lotería, sorteo) with sales; `sellers`: the vendedores with sales.
    let keys = if f.ticket_level() {
        format!(
            "{pop}, keys AS (SELECT DISTINCT ventana_id, loteria_id, sorteo_id FROM pop),
             sellers AS (SELECT DISTINCT vendedor_id FROM pop)",
            pop = f.pop()
        )
    } else {
        format!(
            "keys AS (
                 SELECT DISTINCT r.ventana_id, r.loteria_id, r.sorteo_id
                 FROM {table} r WHERE {rw}
             ), sellers AS (
                 SELECT DISTINCT r.vendedor_id FROM ticket_rollup r WHERE {rw}
             )",
            table = f.rollup(false),
            rw = f.rollup_where()
        )
    };
    format!(
        "WITH {keys}
         (SELECT 'ventana' AS kind, e.id, e.name, e.code, NULL::timestamptz AS scheduled_at
          FROM ventanas e WHERE e.id IN (SELECT ventana_id FROM keys) ORDER BY e.name, e.id)
         UNION ALL
         (SELECT 'vendedor', e.id, e.name, e.username::text, NULL
          FROM users e WHERE e.id IN (SELECT vendedor_id FROM sellers) ORDER BY e.name, e.id)
         UNION ALL
         (SELECT 'loteria', e.id, e.name, NULL, NULL
          FROM loterias e WHERE e.id IN (SELECT loteria_id FROM keys) ORDER BY e.name, e.id)
         UNION ALL
         (SELECT 'sorteo', e.id, e.name, NULL, e.scheduled_at
          FROM sorteos e WHERE e.id IN (SELECT sorteo_id FROM keys)
          ORDER BY e.scheduled_at DESC, e.id LIMIT 50)"
    )
}

/// The order of the ventas list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListOrder {
    CreatedAt,
    TotalAmount,
    TicketNumber,
}

/// What the list adds to [`Filter`].
#[derive(Debug, Clone)]
pub struct ListOptions {
    /// Tickets with a jugada sold with this multiplier.
    pub multiplier_id: Option<Uuid>,
    /// Case-insensitive part of the ticket number, or of the vendedor, ventana, lotería or
    /// sorteo name.
    pub search: Option<String>,
    pub order: ListOrder,
    pub desc: bool,
    pub limit: i64,
    pub offset: i64,
}

/// A ticket of the ventas list.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TicketRow {
    pub id: Uuid,
    pub ticket_number: String,
    pub business_date: NaiveDate,
    pub created_at: DateTime<Utc>,
    pub status: String,
    pub is_winner: bool,
    pub total_amount: Decimal,
    pub total_payout: Decimal,
    pub total_paid: Decimal,
    pub remaining_amount: Decimal,
    pub total_commission: Decimal,
    pub total_listero_commission: Decimal,
    pub cliente_nombre: String,
    pub ventana_id: Uuid,
    pub ventana_name: Option<String>,
    pub ventana_code: Option<String>,
    pub vendedor_id: Uuid,
    pub vendedor_name: Option<String>,
    pub vendedor_username: Option<String>,
    pub loteria_id: Uuid,
    pub loteria_name: Option<String>,
    pub sorteo_id: Uuid,
    pub sorteo_name: String,
    pub sorteo_scheduled_at: DateTime<Utc>,
    pub sorteo_status: String,
}

/// A jugada of a listed ticket.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct JugadaRow {
    pub id: Uuid,
    pub ticket_id: Uuid,
    #[sqlx(rename = "type")]
    pub kind: String,
    pub number: String,
    pub reventado_number: Option<String>,
    pub amount: Decimal,
    pub final_multiplier_x: Decimal,
    pub payout: Option<Decimal>,
    pub is_winner: bool,
    pub multiplier_id: Option<Uuid>,
    pub is_excluded: bool,
}

/// The columns of a listed ticket `t` (with `s`, `v`, `u`, `l` joined).
const LIST_COLUMNS: &str = "t.id, t.ticket_number, t.business_date, t.created_at,
    t.status::text AS status, t.is_winner, t.total_amount, t.total_payout, t.total_paid,
    t.remaining_amount, t.total_commission, t.total_listero_commission, t.cliente_nombre,
    t.ventana_id, v.name AS ventana_name, v.code AS ventana_code,
    t.vendedor_id, u.name AS vendedor_name, u.username::text AS vendedor_username,
    t.loteria_id, l.name AS loteria_name,
    t.sorteo_id, s.name AS sorteo_name, s.scheduled_at AS sorteo_scheduled_at,
    s.status::text AS sorteo_status";

/// The names a listed ticket shows (and the search reads), joined to `t` and `s`.
const LIST_JOINS: &str = "
    LEFT JOIN ventanas v ON v.id = t.ventana_id
    LEFT JOIN users u ON u.id = t.vendedor_id
    LEFT JOIN loterias l ON l.id = t.loteria_id";

/// A day walk reads at most this many tickets a day (`limit + offset`); deeper pages sort the
/// period's tickets instead.
const DAY_WALK_MAX: i64 = 2_000;

/// One page of the population's tickets and the total count; the page's jugadas.
pub async fn list(
    pool: &PgPool,
    f: &Filter,
    o: &ListOptions,
) -> Result<(Vec<TicketRow>, Vec<JugadaRow>, i64), sqlx::Error> {
    let search = o.search.as_ref().map(|s| {
        s.replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    });
    let (page_sql, count_sql) = list_sql(f, o);
    let rows: Vec<TicketRow> = f
        .bind(query_as(&page_sql))
        .bind(o.multiplier_id)
        .bind(search.clone())
        .bind(o.limit)
        .bind(o.offset)
        .fetch_all(pool)
        .await?;
    let (total,): (i64,) = f
        .bind(query_as(&count_sql))
        .bind(o.multiplier_id)
        .bind(search)
        .fetch_one(pool)
        .await?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let jugadas = if ids.is_empty() {
        Vec::new()
    } else {
        query_as(
            "SELECT j.id, j.ticket_id, j.type::text AS type, j.number, j.reventado_number,
                    j.amount, j.final_multiplier_x, j.payout, j.is_winner, j.multiplier_id,
                    j.is_excluded
             FROM jugadas j
             WHERE j.ticket_id = ANY($1) AND j.is_active AND j.deleted_at IS NULL
             ORDER BY j.ticket_id, j.position",
        )
        .bind(&ids)
        .fetch_all(pool)
        .await?
    };
    Ok((rows, jugadas, total))
}

/// The page's statement and the count's: `$11` multiplier, `$12` search (escaped), `$13`
/// limit, `$14` offset (the count binds `$11` and `$12` only).
fn list_sql(f: &Filter, o: &ListOptions) -> (String, String) {
    let mut extra = String::new();
    if o.multiplier_id.is_some() {
        extra.push_str(
            " AND EXISTS (
                  SELECT 1 FROM jugadas j
                  WHERE j.ticket_id = t.id AND j.multiplier_id = $11 AND j.deleted_at IS NULL)",
        );
    }
    if o.search.is_some() {
        extra.push_str(
            " AND (t.ticket_number ILIKE '%' || $12 || '%'
                   OR u.name ILIKE '%' || $12 || '%' OR v.name ILIKE '%' || $12 || '%'
                   OR l.name ILIKE '%' || $12 || '%' OR s.name ILIKE '%' || $12 || '%')",
        );
    }
    let walk = o.order == ListOrder::CreatedAt && o.limit.saturating_add(o.offset) <= DAY_WALK_MAX;
    let page = if walk {
        // The page lies within the first `limit + offset` tickets of the days, in this order.
        let dir = if o.desc { "DESC" } else { "ASC" };
        format!(
            "SELECT x.* FROM {walk}
             ORDER BY x.created_at {dir}, x.id {dir}
             LIMIT $13 OFFSET $14",
            walk = day_walk(f, LIST_COLUMNS, LIST_JOINS, &extra, o.desc, "$13 + $14")
        )
    } else {
        let order = match (o.order, o.desc) {
            (ListOrder::CreatedAt, true) => "t.created_at DESC, t.id DESC",
            (ListOrder::CreatedAt, false) => "t.created_at ASC, t.id ASC",
            (ListOrder::TotalAmount, true) => "t.total_amount DESC, t.id DESC",
            (ListOrder::TotalAmount, false) => "t.total_amount ASC, t.id ASC",
            (ListOrder::TicketNumber, true) => "t.ticket_number DESC",
            (ListOrder::TicketNumber, false) => "t.ticket_number ASC",
        };
        format!(
            "SELECT {LIST_COLUMNS}
             FROM tickets t
             JOIN sorteos s ON s.id = t.sorteo_id{LIST_JOINS}
             WHERE t.business_date BETWEEN $6 AND $7{pop}{extra}
             ORDER BY {order}
             LIMIT $13 OFFSET $14",
            pop = f.population(true)
        )
    };
    // Without a ticket-level filter the count is the rollups' (the same population).
    let count = if !f.ticket_level() && o.multiplier_id.is_none() && o.search.is_none() {
        format!(
            "SELECT COALESCE(sum(r.ticket_count), 0)::bigint FROM {table} r WHERE {rw}",
            table = f.rollup(false),
            rw = f.rollup_where()
        )
    } else {
        let joins = if o.search.is_some() { LIST_JOINS } else { "" };
        format!(
            "SELECT count(*)
             FROM tickets t
             JOIN sorteos s ON s.id = t.sorteo_id{joins}
             WHERE t.business_date BETWEEN $6 AND $7{pop}{extra}",
            pop = f.population(true)
        )
    };
    (page, count)
}

/// `GET /sales/daily-stats`: Σ `total_amount` and count of the tickets of business day `day`
/// that are not deleted, not cancelled and not excluded (any sorteo state).
pub async fn daily_stats(
    pool: &PgPool,
    banca_id: Option<Uuid>,
    ventana_id: Option<Uuid>,
    vendedor_id: Option<Uuid>,
    day: NaiveDate,
) -> Result<(Decimal, i64), sqlx::Error> {
    query_as(
        "SELECT COALESCE(sum(t.total_amount), 0), count(*)
         FROM tickets t
         WHERE t.business_date = $4
           AND ($1::uuid IS NULL OR t.banca_id = $1)
           AND ($2::uuid IS NULL OR t.ventana_id = $2)
           AND ($3::uuid IS NULL OR t.vendedor_id = $3)
           AND t.deleted_at IS NULL AND t.status NOT IN ('CANCELLED', 'EXCLUDED')",
    )
    .bind(banca_id)
    .bind(ventana_id)
    .bind(vendedor_id)
    .bind(day)
    .fetch_one(pool)
    .await
}
