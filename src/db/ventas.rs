//! SQL of the ventas reports (`/ventas*`) and `GET /sales/daily-stats` (domain-money §6.2).
//!
//! The ventas population is the money population of the account statements (invariant 1):
//! tickets not deleted, active, in status ACTIVE/EVALUATED/PAID/PAGADO, outside any whole-list
//! exclusion, of a sorteo with a result (EVALUATED, or CLOSED after it) that is not deleted; of
//! them, jugadas active, not excluded, not deleted.
//!
//! Two sources build the same per-(sorteo, day, ventana, vendedor) rows, `base`, that every
//! aggregate reads:
//! * the rollups (`ticket_rollup` for ticket counts, `sales_rollup` for money), exact and kept
//!   in the transaction of every evaluation, revert, delete or restore; prize-payment figures
//!   come from the winning tickets (partial index on winners), joined on the rollup's keys, so a
//!   whole-list exclusion (which removes a key from the rollups) also removes its payments;
//! * the tickets themselves (`live`), when a ticket-level filter is asked (`status`,
//!   `winnersOnly`) or the hour of sale is the bucket (business-zone hour of `created_at`).
//!
//! Every statement binds the same ten leading parameters ([`Filter::bind`]): `$1` banca, `$2`
//! ventana, `$3` vendedor, `$4` lotería, `$5` sorteo (each `NULL` = any), `$6`/`$7` the
//! inclusive business days, `$8` ticket status (`NULL` = any of the population), `$9` winners
//! only, `$10` the business time zone; a statement's own parameters follow from `$11`.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use rust_decimal::Decimal;
use sqlx::postgres::PgArguments;
use sqlx::{PgPool, Postgres};
use uuid::Uuid;

use crate::db::{query_as, query_scalar};

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

    fn bind<'q, O>(
        &self,
        q: sqlx::query::QueryAs<'q, Postgres, O, PgArguments>,
    ) -> sqlx::query::QueryAs<'q, Postgres, O, PgArguments> {
        q.bind(self.banca_id)
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
}

/// The population's tickets (`pop`), filtered by `$1…$10`.
const POP: &str = "pop AS (
    SELECT t.id, t.sorteo_id, t.business_date, t.banca_id, t.ventana_id, t.vendedor_id,
           t.loteria_id, t.created_at, t.status, t.is_winner, t.total_paid, t.remaining_amount
    FROM tickets t
    JOIN sorteos s ON s.id = t.sorteo_id
    WHERE t.business_date BETWEEN $6 AND $7
      AND ($1::uuid IS NULL OR t.banca_id = $1)
      AND ($2::uuid IS NULL OR t.ventana_id = $2)
      AND ($3::uuid IS NULL OR t.vendedor_id = $3)
      AND ($4::uuid IS NULL OR t.loteria_id = $4)
      AND ($5::uuid IS NULL OR t.sorteo_id = $5)
      AND ($8::text IS NULL OR t.status::text = $8)
      AND (NOT $9::bool OR t.is_winner)
      AND t.deleted_at IS NULL AND t.is_active
      AND t.status IN ('ACTIVE', 'EVALUATED', 'PAID', 'PAGADO')
      AND s.winning_number IS NOT NULL AND s.status IN ('EVALUATED', 'CLOSED')
      AND s.deleted_at IS NULL
      AND NOT EXISTS (
          SELECT 1 FROM sorteo_lista_exclusions x
          WHERE x.sorteo_id = t.sorteo_id AND x.multiplier_id IS NULL AND x.number IS NULL
            AND (x.ventana_id IS NULL OR x.ventana_id = t.ventana_id)
            AND (x.vendedor_id IS NULL OR x.vendedor_id = t.vendedor_id))
)";

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

/// `base` from the rollups (`hr` is NULL: no hour of sale there).
const ROLLUP_BASE: &str = concat!(
    "tr AS (
    SELECT r.sorteo_id, r.business_date, r.banca_id, r.ventana_id, r.vendedor_id, r.loteria_id,
           r.ticket_count, r.winner_count
    FROM ticket_rollup r
    JOIN sorteos s ON s.id = r.sorteo_id AND s.deleted_at IS NULL
    WHERE r.business_date BETWEEN $6 AND $7
      AND ($1::uuid IS NULL OR r.banca_id = $1)
      AND ($2::uuid IS NULL OR r.ventana_id = $2)
      AND ($3::uuid IS NULL OR r.vendedor_id = $3)
      AND ($4::uuid IS NULL OR r.loteria_id = $4)
      AND ($5::uuid IS NULL OR r.sorteo_id = $5)
), sr AS (
    SELECT r.sorteo_id, r.business_date, r.ventana_id, r.vendedor_id,
           sum(r.total_sales) AS sales, sum(r.total_payouts) AS payouts,
           sum(r.listero_commission) AS listero, sum(r.vendedor_commission) AS vend,
           sum(r.jugada_count) AS jugadas
    FROM sales_rollup r
    WHERE r.business_date BETWEEN $6 AND $7
      AND ($1::uuid IS NULL OR r.banca_id = $1)
      AND ($2::uuid IS NULL OR r.ventana_id = $2)
      AND ($3::uuid IS NULL OR r.vendedor_id = $3)
      AND ($4::uuid IS NULL OR r.loteria_id = $4)
      AND ($5::uuid IS NULL OR r.sorteo_id = $5)
    GROUP BY 1, 2, 3, 4
), pw AS (
    SELECT t.sorteo_id, t.business_date, t.ventana_id, t.vendedor_id, ",
    paid_columns!("t."),
    "
    FROM tickets t
    WHERE t.is_winner AND t.deleted_at IS NULL AND t.is_active
      AND t.status IN ('ACTIVE', 'EVALUATED', 'PAID', 'PAGADO')
      AND t.business_date BETWEEN $6 AND $7
      AND ($1::uuid IS NULL OR t.banca_id = $1)
      AND ($2::uuid IS NULL OR t.ventana_id = $2)
      AND ($3::uuid IS NULL OR t.vendedor_id = $3)
      AND ($4::uuid IS NULL OR t.loteria_id = $4)
      AND ($5::uuid IS NULL OR t.sorteo_id = $5)
    GROUP BY 1, 2, 3, 4
), base AS (
    SELECT tr.sorteo_id, tr.business_date, tr.banca_id, tr.ventana_id, tr.vendedor_id,
           tr.loteria_id, NULL::timestamp AS hr,
           tr.ticket_count::numeric AS tickets, tr.winner_count::numeric AS winners,
           COALESCE(sr.sales, 0) AS sales, COALESCE(sr.payouts, 0) AS payouts,
           COALESCE(sr.listero, 0) AS listero, COALESCE(sr.vend, 0) AS vend,
           COALESCE(sr.jugadas, 0)::numeric AS jugadas,
           COALESCE(pw.paid_tickets, 0)::numeric AS paid_tickets,
           COALESCE(pw.unpaid_tickets, 0)::numeric AS unpaid_tickets,
           COALESCE(pw.total_paid, 0) AS total_paid, COALESCE(pw.remaining, 0) AS remaining,
           COALESCE(pw.pending, 0) AS pending
    FROM tr
    LEFT JOIN sr USING (sorteo_id, business_date, ventana_id, vendedor_id)
    LEFT JOIN pw USING (sorteo_id, business_date, ventana_id, vendedor_id)
)"
);

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

/// `WITH … base AS (…)` for `f` (`live`: from the tickets even without ticket-level filters).
fn with_base(f: &Filter, live: bool) -> String {
    if live || f.ticket_level() {
        format!("WITH {POP}, {LIVE_BASE}")
    } else {
        format!("WITH {ROLLUP_BASE}")
    }
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
    let sql = format!("{} SELECT {SUMS} FROM base b", with_base(f, false));
    f.bind(query_as(&sql)).fetch_one(pool).await
}

/// The latest sale time of the population's tickets.
pub async fn last_ticket_at(
    pool: &PgPool,
    f: &Filter,
) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    let sql = format!("WITH {POP} SELECT max(created_at) FROM pop");
    let q = query_scalar::<Option<DateTime<Utc>>>(&sql)
        .bind(f.banca_id)
        .bind(f.ventana_id)
        .bind(f.vendedor_id)
        .bind(f.loteria_id)
        .bind(f.sorteo_id)
        .bind(f.from)
        .bind(f.to)
        .bind(f.status.clone())
        .bind(f.winners_only)
        .bind(f.tz.clone());
    q.fetch_one(pool).await
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

/// The groups of `g.dimension`, sorted and cut to `g.top`.
pub async fn breakdown(
    pool: &PgPool,
    f: &Filter,
    g: &Grouping,
) -> Result<Vec<GroupRow>, sqlx::Error> {
    let comm = if g.seller_commission {
        "vend"
    } else {
        "listero"
    };
    let sort = g.sort.expr(comm);
    let grouped = if g.dimension == Dimension::Numero {
        format!(
            "WITH {POP}, grouped AS (
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
            ), named AS (
                SELECT g.*, 'Número ' || g.key AS name, NULL::text AS code,
                       NULL::timestamptz AS scheduled_at
                FROM grouped g
                WHERE $11::text IS NULL OR g.key LIKE '%' || $11 || '%'
            )"
        )
    } else {
        let (key, join, name, code, at) = match g.dimension {
            Dimension::Banca => (
                "b.banca_id",
                "bancas e",
                "e.name",
                "e.code",
                "NULL::timestamptz",
            ),
            Dimension::Ventana => (
                "b.ventana_id",
                "ventanas e",
                "e.name",
                "e.code",
                "NULL::timestamptz",
            ),
            Dimension::Vendedor => (
                "b.vendedor_id",
                "users e",
                "e.name",
                "e.code",
                "NULL::timestamptz",
            ),
            Dimension::Loteria => (
                "b.loteria_id",
                "loterias e",
                "e.name",
                "NULL::text",
                "NULL::timestamptz",
            ),
            Dimension::Sorteo | Dimension::Numero => (
                "b.sorteo_id",
                "sorteos e",
                "e.name",
                "NULL::text",
                "e.scheduled_at",
            ),
        };
        format!(
            "{base}, grouped AS (
                SELECT {key} AS id, {SUMS} FROM base b GROUP BY 1
            ), named AS (
                SELECT g.id::text AS key, g.sales, g.payouts, g.listero, g.vend, g.tickets,
                       g.jugadas, g.winners, g.paid_tickets, g.unpaid_tickets, g.total_paid,
                       g.remaining, g.pending,
                       {name} AS name, {code} AS code, {at} AS scheduled_at
                FROM grouped g
                LEFT JOIN {join} ON e.id = g.id
                WHERE $11::text IS NULL OR {name} ILIKE '%' || $11 || '%'
            )",
            base = with_base(f, false)
        )
    };
    let sql = format!(
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
    );
    let search = g.search.as_ref().map(|s| {
        s.replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    });
    f.bind(query_as(&sql))
        .bind(search)
        .bind(g.asc)
        .bind(g.top)
        .fetch_all(pool)
        .await
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
    #[sqlx(flatten)]
    pub figures: Figures,
}

/// The buckets with sales, newest first.
pub async fn timeseries(
    pool: &PgPool,
    f: &Filter,
    g: Granularity,
) -> Result<Vec<BucketRow>, sqlx::Error> {
    let bucket = match g {
        Granularity::Hour => "b.hr",
        Granularity::Day => "b.business_date::timestamp",
        Granularity::Week => "date_trunc('week', b.business_date::timestamp)",
        Granularity::Month => "date_trunc('month', b.business_date::timestamp)",
    };
    let sql = format!(
        "{} SELECT {bucket} AS bucket, {SUMS} FROM base b GROUP BY 1 ORDER BY 1 DESC",
        with_base(f, g == Granularity::Hour)
    );
    f.bind(query_as(&sql)).fetch_all(pool).await
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
    let sql = format!(
        "{base}, keys AS (
             SELECT DISTINCT b.ventana_id, b.vendedor_id, b.loteria_id, b.sorteo_id FROM base b
         )
         (SELECT 'ventana' AS kind, e.id, e.name, e.code, NULL::timestamptz AS scheduled_at
          FROM ventanas e WHERE e.id IN (SELECT ventana_id FROM keys) ORDER BY e.name, e.id)
         UNION ALL
         (SELECT 'vendedor', e.id, e.name, e.username::text, NULL
          FROM users e WHERE e.id IN (SELECT vendedor_id FROM keys) ORDER BY e.name, e.id)
         UNION ALL
         (SELECT 'loteria', e.id, e.name, NULL, NULL
          FROM loterias e WHERE e.id IN (SELECT loteria_id FROM keys) ORDER BY e.name, e.id)
         UNION ALL
         (SELECT 'sorteo', e.id, e.name, NULL, e.scheduled_at
          FROM sorteos e WHERE e.id IN (SELECT sorteo_id FROM keys)
          ORDER BY e.scheduled_at DESC, e.id LIMIT 50)",
        base = with_base(f, false)
    );
    f.bind(query_as(&sql)).fetch_all(pool).await
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

const LIST_WHERE: &str = "FROM pop p
    JOIN tickets t ON t.id = p.id
    JOIN sorteos s ON s.id = t.sorteo_id
    LEFT JOIN ventanas v ON v.id = t.ventana_id
    LEFT JOIN users u ON u.id = t.vendedor_id
    LEFT JOIN loterias l ON l.id = t.loteria_id
    WHERE ($11::uuid IS NULL OR EXISTS (
              SELECT 1 FROM jugadas j
              WHERE j.ticket_id = t.id AND j.multiplier_id = $11 AND j.deleted_at IS NULL))
      AND ($12::text IS NULL OR t.ticket_number ILIKE '%' || $12 || '%'
           OR u.name ILIKE '%' || $12 || '%' OR v.name ILIKE '%' || $12 || '%'
           OR l.name ILIKE '%' || $12 || '%' OR s.name ILIKE '%' || $12 || '%')";

/// One page of the population's tickets and the total count; the page's jugadas.
pub async fn list(
    pool: &PgPool,
    f: &Filter,
    o: &ListOptions,
) -> Result<(Vec<TicketRow>, Vec<JugadaRow>, i64), sqlx::Error> {
    let order = match (o.order, o.desc) {
        (ListOrder::CreatedAt, true) => "t.created_at DESC, t.id DESC",
        (ListOrder::CreatedAt, false) => "t.created_at ASC, t.id ASC",
        (ListOrder::TotalAmount, true) => "t.total_amount DESC, t.id DESC",
        (ListOrder::TotalAmount, false) => "t.total_amount ASC, t.id ASC",
        (ListOrder::TicketNumber, true) => "t.ticket_number DESC",
        (ListOrder::TicketNumber, false) => "t.ticket_number ASC",
    };
    let search = o.search.as_ref().map(|s| {
        s.replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    });
    let page_sql = format!(
        "WITH {POP}
         SELECT t.id, t.ticket_number, t.business_date, t.created_at, t.status::text AS status,
                t.is_winner, t.total_amount, t.total_payout, t.total_paid, t.remaining_amount,
                t.total_commission, t.total_listero_commission, t.cliente_nombre,
                t.ventana_id, v.name AS ventana_name, v.code AS ventana_code,
                t.vendedor_id, u.name AS vendedor_name, u.username::text AS vendedor_username,
                t.loteria_id, l.name AS loteria_name,
                t.sorteo_id, s.name AS sorteo_name, s.scheduled_at AS sorteo_scheduled_at,
                s.status::text AS sorteo_status
         {LIST_WHERE}
         ORDER BY {order}
         LIMIT $13 OFFSET $14"
    );
    let rows: Vec<TicketRow> = f
        .bind(query_as(&page_sql))
        .bind(o.multiplier_id)
        .bind(search.clone())
        .bind(o.limit)
        .bind(o.offset)
        .fetch_all(pool)
        .await?;
    let count_sql = format!("WITH {POP} SELECT count(*) {LIST_WHERE}");
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
