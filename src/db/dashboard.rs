//! SQL of the admin dashboard (`/admin/dashboard*`, domain-money §6.1). Read-only; every
//! function takes a pool so the caller can point it at the replica.
//!
//! - Money of a period (sales, payouts, commissions, tickets, winners) comes from the report
//!   rollups: the statements' population (only sorteos with a result, live tickets and
//!   jugadas), so the dashboard agrees with the statements to the cent. Without a bet type
//!   filter everything comes from `ventana_rollup` (per sorteo, day and ventana), or from
//!   `ticket_rollup` (per vendedor too) when a vendedor filters or the figures are per vendedor:
//!   Σ live jugadas, Σ ticket payouts, the commissions, additive ticket counts, as the
//!   statements count them. With one, everything comes from the `sales_rollup` rows of that type
//!   (tickets: Σ per-band distinct tickets; winners: winning lines). Several groupings and
//!   periods of one request come from one statement that reads each rollup once
//!   ([`figure_parts`]).
//! - Balances come from `account_statements` (the running balance), movements from their
//!   `total_paid`/`total_collected`, prizes paid to customers from `ticket_payments`.
//! - Exposure reads the live jugadas of OPEN sorteos through `jugadas_sorteo_number_idx`.
//!
//! Every query filters by each filter field that is set (tenant isolation).

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use rust_decimal::Decimal;
use sqlx::PgPool;
use uuid::Uuid;

use crate::db::query_as;

/// Which rows count.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// `None`: every banca (ADMIN without an active banca).
    pub banca_id: Option<Uuid>,
    pub ventana_id: Option<Uuid>,
    pub vendedor_id: Option<Uuid>,
    pub loteria_id: Option<Uuid>,
    pub sorteo_id: Option<Uuid>,
    /// `NUMERO` or `REVENTADO`.
    pub bet_type: Option<String>,
}

/// How rollup figures are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    Total,
    Ventana,
    Vendedor,
    Loteria,
    Day,
    Week,
    Month,
}

/// Figures of one group.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Figures {
    /// The ventana, vendedor or lotería (`None` for totals and time buckets).
    pub key: Option<Uuid>,
    pub name: Option<String>,
    /// A vendedor's ventana.
    pub ventana_id: Option<Uuid>,
    pub ventana_name: Option<String>,
    /// The first day of a time bucket.
    pub bucket: Option<NaiveDate>,
    pub sales: Decimal,
    pub payouts: Decimal,
    pub listero: Decimal,
    pub vendedor: Decimal,
    pub tickets: i64,
    pub winners: i64,
}

/// `$1` banca, `$2` ventana, `$3` vendedor, `$4` lotería, `$5` sorteo over alias `r`.
const ROLLUP_SCOPE: &str = "($1::uuid IS NULL OR r.banca_id = $1)
      AND ($2::uuid IS NULL OR r.ventana_id = $2)
      AND ($3::uuid IS NULL OR r.vendedor_id = $3)
      AND ($4::uuid IS NULL OR r.loteria_id = $4)
      AND ($5::uuid IS NULL OR r.sorteo_id = $5)";

/// One set of figures of a [`figure_parts`] request: business days `from..=to` grouped by
/// `group`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Part {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub group: Group,
}

impl Part {
    pub fn new(from: NaiveDate, to: NaiveDate, group: Group) -> Part {
        Part { from, to, group }
    }
}

/// The rollup a base reads (they hold the same population and agree to the cent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// Per (sorteo, day, ventana): no vendedor filter, no vendedor grouping, no bet type.
    Ventana,
    /// Per (sorteo, day, ventana, vendedor): no bet type.
    Ticket,
    /// Per (sorteo, day, ventana, vendedor, type, band): the bet type's rows.
    Sales,
}

impl Source {
    fn table(self) -> &'static str {
        match self {
            Source::Ventana => "ventana_rollup",
            Source::Ticket => "ticket_rollup",
            Source::Sales => "sales_rollup",
        }
    }

    /// Tickets and winners: additive ticket counts without a bet type; with one, Σ per-band
    /// distinct tickets and the winning lines.
    fn counts(self) -> (&'static str, &'static str) {
        match self {
            Source::Ventana | Source::Ticket => ("ticket_count", "winner_count"),
            Source::Sales => ("ticket_count", "winning_jugadas"),
        }
    }

    /// `$6` is the bet type.
    fn bet_type(self) -> &'static str {
        match self {
            Source::Sales => "r.type = $6::bet_type",
            Source::Ventana | Source::Ticket => "$6::text IS NULL",
        }
    }
}

/// `$n` of the first and last day of part `i`.
fn days(i: usize) -> (usize, usize) {
    (7 + 2 * i, 8 + 2 * i)
}

/// The rollup rows of `source` in scope (alias `r`) on the days of `where_days`.
fn rollup_rows(source: Source, where_days: &str) -> String {
    format!(
        "FROM {table} r JOIN sorteos s ON s.id = r.sorteo_id AND s.deleted_at IS NULL
         WHERE ({where_days}) AND {ROLLUP_SCOPE} AND {bet_type}",
        table = source.table(),
        bet_type = source.bet_type(),
    )
}

/// The sums of the rollup rows (alias `r`) of `source`.
fn sums(source: Source) -> String {
    let (tickets, winners) = source.counts();
    format!(
        "sum(r.total_sales) AS sales, sum(r.total_payouts) AS payouts,
         sum(r.listero_commission) AS listero, sum(r.vendedor_commission) AS vend,
         sum(r.{tickets}) AS tickets, sum(r.{winners}) AS winners"
    )
}

/// The base CTE of the parts `parts` (indexes into `all`, none per vendedor): the rows of
/// `source` on their days (a range shared by several parts is read once), summed per day,
/// ventana and lotería.
fn base_sql(source: Source, all: &[Part], parts: &[usize]) -> String {
    let mut ranges: Vec<String> = Vec::new();
    for &i in parts {
        let first = all
            .iter()
            .position(|p| p.from == all[i].from && p.to == all[i].to)
            .unwrap_or(i);
        let (a, b) = days(first);
        let range = format!("r.business_date BETWEEN ${a} AND ${b}");
        if !ranges.contains(&range) {
            ranges.push(range);
        }
    }
    format!(
        "SELECT r.business_date AS d, r.ventana_id, r.loteria_id, {sums}
         {rows}
         GROUP BY r.business_date, r.ventana_id, r.loteria_id",
        sums = sums(source),
        rows = rollup_rows(source, &ranges.join(" OR ")),
    )
}

/// The money columns of a part over its rows `b`.
const PART_SUMS: &str =
    "COALESCE(sum(b.sales), 0) AS sales, COALESCE(sum(b.payouts), 0) AS payouts,
     COALESCE(sum(b.listero), 0) AS listero, COALESCE(sum(b.vend), 0) AS vendedor,
     COALESCE(sum(b.tickets), 0)::bigint AS tickets,
     COALESCE(sum(b.winners), 0)::bigint AS winners";

/// Part `i`, grouped per vendedor (and ventana): summed straight from the rows of `source`
/// (few groups), ranked by `ord` (largest sales first).
fn vendedor_part_sql(i: usize, source: Source) -> String {
    let (a, z) = days(i);
    format!(
        "(SELECT {i} AS part,
                 row_number() OVER (ORDER BY b.sales DESC, u.name, b.vendedor_id) AS ord,
                 b.vendedor_id AS key, u.name, b.ventana_id, v.name AS ventana_name,
                 NULL::date AS bucket, b.sales, b.payouts, b.listero, b.vend AS vendedor,
                 b.tickets, b.winners
          FROM (SELECT r.vendedor_id, r.ventana_id, {sums}
                {rows}
                GROUP BY r.vendedor_id, r.ventana_id) b
          LEFT JOIN users u ON u.id = b.vendedor_id LEFT JOIN ventanas v ON v.id = b.ventana_id)",
        sums = sums(source),
        rows = rollup_rows(source, &format!("r.business_date BETWEEN ${a} AND ${z}")),
    )
}

/// Part `i`: its figures, ranked by `ord` (largest sales first for entities, oldest first for
/// time buckets); per vendedor from the rows of `heavy`, otherwise from the base `b`.
fn part_sql(i: usize, part: &Part, heavy: Source) -> String {
    let (select, join, group_by, order) = match part.group {
        Group::Vendedor => return vendedor_part_sql(i, heavy),
        Group::Total => (
            "NULL::uuid AS key, NULL::text AS name, NULL::uuid AS ventana_id,
             NULL::text AS ventana_name, NULL::date AS bucket",
            "",
            "",
            "",
        ),
        Group::Ventana => (
            "b.ventana_id AS key, v.name, NULL::uuid AS ventana_id, NULL::text AS ventana_name,
             NULL::date AS bucket",
            "LEFT JOIN ventanas v ON v.id = b.ventana_id",
            "GROUP BY b.ventana_id, v.name",
            "ORDER BY COALESCE(sum(b.sales), 0) DESC, v.name, b.ventana_id",
        ),
        Group::Loteria => (
            "b.loteria_id AS key, l.name, NULL::uuid AS ventana_id, NULL::text AS ventana_name,
             NULL::date AS bucket",
            "LEFT JOIN loterias l ON l.id = b.loteria_id",
            "GROUP BY b.loteria_id, l.name",
            "ORDER BY COALESCE(sum(b.sales), 0) DESC, l.name, b.loteria_id",
        ),
        Group::Day => (
            "NULL::uuid AS key, NULL::text AS name, NULL::uuid AS ventana_id,
             NULL::text AS ventana_name, b.d AS bucket",
            "",
            "GROUP BY b.d",
            "ORDER BY b.d",
        ),
        Group::Week => (
            "NULL::uuid AS key, NULL::text AS name, NULL::uuid AS ventana_id,
             NULL::text AS ventana_name, date_trunc('week', b.d)::date AS bucket",
            "",
            "GROUP BY date_trunc('week', b.d)::date",
            "ORDER BY date_trunc('week', b.d)::date",
        ),
        Group::Month => (
            "NULL::uuid AS key, NULL::text AS name, NULL::uuid AS ventana_id,
             NULL::text AS ventana_name, date_trunc('month', b.d)::date AS bucket",
            "",
            "GROUP BY date_trunc('month', b.d)::date",
            "ORDER BY date_trunc('month', b.d)::date",
        ),
    };
    let (a, z) = days(i);
    format!(
        "(SELECT {i} AS part, row_number() OVER ({order}) AS ord, {select}, {PART_SUMS}
          FROM b {join}
          WHERE b.d BETWEEN ${a} AND ${z}
          {group_by})"
    )
}

/// The statement of [`figure_parts`]: the parts per vendedor read `ticket_rollup` (with a bet
/// type `sales_rollup`) on their own, the others share one base read from `ventana_rollup`
/// (`ticket_rollup` when a vendedor filters, `sales_rollup` with a bet type).
fn parts_sql(f: &Filter, parts: &[Part]) -> String {
    let (light, heavy) = match (&f.bet_type, f.vendedor_id) {
        (Some(_), _) => (Source::Sales, Source::Sales),
        (None, Some(_)) => (Source::Ticket, Source::Ticket),
        (None, None) => (Source::Ventana, Source::Ticket),
    };
    let shared: Vec<usize> = (0..parts.len())
        .filter(|&i| parts[i].group != Group::Vendedor)
        .collect();
    let with = if shared.is_empty() {
        String::new()
    } else {
        format!("WITH b AS ({})", base_sql(light, parts, &shared))
    };
    let selects: Vec<String> = parts
        .iter()
        .enumerate()
        .map(|(i, p)| part_sql(i, p, heavy))
        .collect();
    format!(
        "{with}
         SELECT x.part, x.key, x.name, x.ventana_id, x.ventana_name, x.bucket, x.sales,
                x.payouts, x.listero, x.vendedor, x.tickets, x.winners
         FROM ({}) x
         ORDER BY x.part, x.ord",
        selects.join("\nUNION ALL\n")
    )
}

/// A row of [`figure_parts`].
#[derive(sqlx::FromRow)]
struct PartRow {
    part: i32,
    #[sqlx(flatten)]
    figures: Figures,
}

/// The rollup figures of `f` for each of `parts` (in that order, each ordered as
/// [`figures`]), in one statement: the parts that are not per vendedor share one read of
/// `ventana_rollup` (`ticket_rollup` when a vendedor filters), a part per vendedor reads
/// `ticket_rollup`; with a bet type, everything reads the `sales_rollup` rows of that type.
/// `$6` is the bet type, part `i`'s days `$(7+2i)`/`$(8+2i)`.
pub async fn figure_parts(
    pool: &PgPool,
    f: &Filter,
    parts: &[Part],
) -> Result<Vec<Vec<Figures>>, sqlx::Error> {
    let mut out: Vec<Vec<Figures>> = parts.iter().map(|_| Vec::new()).collect();
    if parts.is_empty() {
        return Ok(out);
    }
    let sql = parts_sql(f, parts);
    // Unnamed: planned with the request's days and filters every time. A cached statement
    // switches to a generic plan after five runs, and the generic plan of these optional
    // filters and day ranges guesses one row (a sort that spills, a nested loop per rollup
    // row): 3–4 times slower.
    let mut q = query_as::<PartRow>(&sql)
        .persistent(false)
        .bind(f.banca_id)
        .bind(f.ventana_id)
        .bind(f.vendedor_id)
        .bind(f.loteria_id)
        .bind(f.sorteo_id)
        .bind(f.bet_type.as_deref());
    for p in parts {
        q = q.bind(p.from).bind(p.to);
    }
    for r in q.fetch_all(pool).await? {
        if let Some(set) = usize::try_from(r.part).ok().and_then(|i| out.get_mut(i)) {
            set.push(r.figures);
        }
    }
    Ok(out)
}

/// The rollup figures of `f` on business days `from..=to` grouped by `group` (largest sales
/// first for entities, oldest first for time buckets).
pub async fn figures(
    pool: &PgPool,
    f: &Filter,
    from: NaiveDate,
    to: NaiveDate,
    group: Group,
) -> Result<Vec<Figures>, sqlx::Error> {
    Ok(figure_parts(pool, f, &[Part::new(from, to, group)])
        .await?
        .pop()
        .unwrap_or_default())
}

/// Figures of one business hour.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HourFigures {
    /// The local (business time zone) start of the hour the tickets were sold in.
    pub hour: NaiveDateTime,
    pub sales: Decimal,
    pub payouts: Decimal,
    pub listero: Decimal,
    pub vendedor: Decimal,
    pub tickets: i64,
    pub winners: i64,
}

/// The statements' population of `f` on business days `from..=to` per local hour of sale
/// (`tz`): the same tickets and jugadas as the rollups, read from `tickets`.
pub async fn hourly(
    pool: &PgPool,
    f: &Filter,
    from: NaiveDate,
    to: NaiveDate,
    tz: &str,
) -> Result<Vec<HourFigures>, sqlx::Error> {
    query_as(
        "WITH pop AS (
             SELECT t.id, t.created_at, t.total_payout, t.is_winner
             FROM tickets t JOIN sorteos s ON s.id = t.sorteo_id
             WHERE t.business_date BETWEEN $6 AND $7
               AND ($1::uuid IS NULL OR t.banca_id = $1)
               AND ($2::uuid IS NULL OR t.ventana_id = $2)
               AND ($3::uuid IS NULL OR t.vendedor_id = $3)
               AND ($4::uuid IS NULL OR t.loteria_id = $4)
               AND ($5::uuid IS NULL OR t.sorteo_id = $5)
               AND t.deleted_at IS NULL AND t.is_active
               AND t.status IN ('ACTIVE', 'EVALUATED', 'PAID', 'PAGADO')
               AND s.winning_number IS NOT NULL AND s.status IN ('EVALUATED', 'CLOSED')
               AND s.deleted_at IS NULL
               AND NOT EXISTS (
                   SELECT 1 FROM sorteo_lista_exclusions x
                   WHERE x.sorteo_id = t.sorteo_id AND x.multiplier_id IS NULL
                     AND x.number IS NULL
                     AND (x.ventana_id IS NULL OR x.ventana_id = t.ventana_id)
                     AND (x.vendedor_id IS NULL OR x.vendedor_id = t.vendedor_id))),
         jug AS (
             SELECT j.ticket_id, sum(j.amount) AS sales,
                    COALESCE(sum(j.payout) FILTER (WHERE j.is_winner), 0) AS payouts,
                    bool_or(j.is_winner) AS won,
                    sum(j.listero_commission_amount) AS listero,
                    COALESCE(sum(j.commission_amount)
                             FILTER (WHERE j.commission_origin = 'USER'), 0) AS vend
             FROM jugadas j JOIN pop ON pop.id = j.ticket_id
             WHERE j.is_active AND NOT j.is_excluded AND j.deleted_at IS NULL
               AND ($8::text IS NULL OR j.type::text = $8)
             GROUP BY j.ticket_id)
         SELECT date_trunc('hour', pop.created_at AT TIME ZONE $9) AS hour,
                COALESCE(sum(jug.sales), 0) AS sales,
                COALESCE(sum(CASE WHEN $8::text IS NULL THEN pop.total_payout
                                  ELSE jug.payouts END), 0) AS payouts,
                COALESCE(sum(jug.listero), 0) AS listero,
                COALESCE(sum(jug.vend), 0) AS vendedor,
                count(*) AS tickets,
                count(*) FILTER (WHERE CASE WHEN $8::text IS NULL THEN pop.is_winner
                                            ELSE COALESCE(jug.won, false) END) AS winners
         FROM pop LEFT JOIN jug ON jug.ticket_id = pop.id
         WHERE $8::text IS NULL OR jug.ticket_id IS NOT NULL
         GROUP BY 1 ORDER BY 1",
    )
    .bind(f.banca_id)
    .bind(f.ventana_id)
    .bind(f.vendedor_id)
    .bind(f.loteria_id)
    .bind(f.sorteo_id)
    .bind(from)
    .bind(to)
    .bind(f.bet_type.as_deref())
    .bind(tz)
    .fetch_all(pool)
    .await
}

/// The statements of one entity (ventana or vendedor) around a period.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Balance {
    pub entity_id: Uuid,
    pub name: Option<String>,
    /// The ventana (a vendedor's: of its latest statement).
    pub ventana_id: Option<Uuid>,
    pub ventana_name: Option<String>,
    /// Σ over the period's statements.
    pub total_sales: Decimal,
    pub total_payouts: Decimal,
    pub listero_commission: Decimal,
    pub vendedor_commission: Decimal,
    pub total_paid: Decimal,
    pub total_collected: Decimal,
    pub total_adjustments: Decimal,
    /// Remaining balance of the latest statement before the period (0 without one).
    pub opening_balance: Decimal,
    /// Remaining balance of the latest statement up to the period's last day.
    pub period_balance: Decimal,
    /// "Saldo a hoy": remaining balance of the latest statement up to today.
    pub current_balance: Decimal,
    pub current_date: Option<NaiveDate>,
    /// The latest movement (not reversed) of the entity up to today.
    pub last_movement_date: Option<NaiveDate>,
}

/// Per entity of `dimension` (`ventana` or `vendedor`) with a statement up to `today` inside
/// the banca/ventana/vendedor of `f`: the period's statement sums and its balances. Ordered by
/// name.
pub async fn balances(
    pool: &PgPool,
    dimension: &str,
    f: &Filter,
    from: NaiveDate,
    to: NaiveDate,
    today: NaiveDate,
) -> Result<Vec<Balance>, sqlx::Error> {
    query_as(
        "WITH st AS (
             SELECT s.* FROM account_statements s
             WHERE s.dimension = $1 AND s.date <= $7
               AND ($2::uuid IS NULL OR s.banca_id = $2)
               AND ($3::uuid IS NULL OR s.ventana_id = $3)
               AND ($4::uuid IS NULL OR s.vendedor_id = $4)),
         ent AS (
             SELECT entity_id,
                    (array_agg(ventana_id ORDER BY date DESC))[1] AS ventana_id,
                    COALESCE(sum(total_sales) FILTER (WHERE date BETWEEN $5 AND $6), 0)
                      AS total_sales,
                    COALESCE(sum(total_payouts) FILTER (WHERE date BETWEEN $5 AND $6), 0)
                      AS total_payouts,
                    COALESCE(sum(listero_commission) FILTER (WHERE date BETWEEN $5 AND $6), 0)
                      AS listero_commission,
                    COALESCE(sum(vendedor_commission) FILTER (WHERE date BETWEEN $5 AND $6), 0)
                      AS vendedor_commission,
                    COALESCE(sum(total_paid) FILTER (WHERE date BETWEEN $5 AND $6), 0)
                      AS total_paid,
                    COALESCE(sum(total_collected) FILTER (WHERE date BETWEEN $5 AND $6), 0)
                      AS total_collected,
                    COALESCE(sum(total_adjustments) FILTER (WHERE date BETWEEN $5 AND $6), 0)
                      AS total_adjustments,
                    COALESCE((array_agg(remaining_balance ORDER BY date DESC)
                              FILTER (WHERE date < $5))[1], 0) AS opening_balance,
                    COALESCE((array_agg(remaining_balance ORDER BY date DESC)
                              FILTER (WHERE date <= $6))[1], 0) AS period_balance,
                    (array_agg(remaining_balance ORDER BY date DESC))[1] AS current_balance,
                    max(date) AS current_date
             FROM st GROUP BY entity_id)
         SELECT e.entity_id, COALESCE(u.name, v.name) AS name, e.ventana_id,
                vv.name AS ventana_name,
                e.total_sales, e.total_payouts, e.listero_commission, e.vendedor_commission,
                e.total_paid, e.total_collected, e.total_adjustments, e.opening_balance,
                e.period_balance, e.current_balance, e.current_date,
                (SELECT max(p.date) FROM account_payments p
                 WHERE NOT p.is_reversed AND p.date <= $7
                   AND CASE $1 WHEN 'vendedor' THEN p.vendedor_id = e.entity_id
                               ELSE p.ventana_id = e.entity_id AND p.vendedor_id IS NULL END)
                  AS last_movement_date
         FROM ent e
         LEFT JOIN users u ON $1 = 'vendedor' AND u.id = e.entity_id
         LEFT JOIN ventanas v ON $1 = 'ventana' AND v.id = e.entity_id
         LEFT JOIN ventanas vv ON vv.id = e.ventana_id
         ORDER BY 2, 1",
    )
    .bind(dimension)
    .bind(f.banca_id)
    .bind(f.ventana_id)
    .bind(f.vendedor_id)
    .bind(from)
    .bind(to)
    .bind(today)
    .fetch_all(pool)
    .await
}

/// Σ prizes paid to customers (ticket payments not reversed) on business days `from..=to`
/// (`tz`) per ventana or vendedor (`dimension`) of `f`.
pub async fn prizes_paid(
    pool: &PgPool,
    dimension: &str,
    f: &Filter,
    from: NaiveDate,
    to: NaiveDate,
    tz: &str,
) -> Result<Vec<(Uuid, Decimal)>, sqlx::Error> {
    query_as(
        "SELECT CASE $1 WHEN 'vendedor' THEN t.vendedor_id ELSE t.ventana_id END,
                sum(p.amount_paid)
         FROM ticket_payments p JOIN tickets t ON t.id = p.ticket_id
         WHERE NOT p.is_reversed
           AND p.payment_date >= ($5::date::timestamp AT TIME ZONE $7)
           AND p.payment_date < (($6::date + 1)::timestamp AT TIME ZONE $7)
           AND ($2::uuid IS NULL OR p.banca_id = $2)
           AND ($3::uuid IS NULL OR t.ventana_id = $3)
           AND ($4::uuid IS NULL OR t.vendedor_id = $4)
         GROUP BY 1",
    )
    .bind(dimension)
    .bind(f.banca_id)
    .bind(f.ventana_id)
    .bind(f.vendedor_id)
    .bind(from)
    .bind(to)
    .bind(tz)
    .fetch_all(pool)
    .await
}

/// "Saldo a hoy" of one requested entity.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CurrentBalance {
    pub entity_id: Uuid,
    pub name: String,
    pub ventana_id: Option<Uuid>,
    /// `None`: the entity has no statement yet.
    pub remaining_balance: Option<Decimal>,
    pub date: Option<NaiveDate>,
}

/// The latest statement up to `today` of each of `ids` (ventanas or vendedores, by
/// `dimension`) that lies inside banca `banca` and ventana `ventana` (when set); ids outside
/// them are left out.
pub async fn current_balances(
    pool: &PgPool,
    dimension: &str,
    ids: &[Uuid],
    banca: Option<Uuid>,
    ventana: Option<Uuid>,
    today: NaiveDate,
) -> Result<Vec<CurrentBalance>, sqlx::Error> {
    query_as(
        "WITH e AS (
             SELECT v.id, v.name, v.banca_id, v.id AS ventana_id
             FROM ventanas v WHERE $1 = 'ventana' AND v.id = ANY($2)
             UNION ALL
             SELECT u.id, u.name, COALESCE(vv.banca_id, u.banca_id), u.ventana_id
             FROM users u LEFT JOIN ventanas vv ON vv.id = u.ventana_id
             WHERE $1 = 'vendedor' AND u.role = 'VENDEDOR' AND u.id = ANY($2))
         SELECT e.id AS entity_id, e.name, e.ventana_id, x.remaining_balance, x.date
         FROM e
         LEFT JOIN LATERAL (
             SELECT s.remaining_balance, s.date FROM account_statements s
             WHERE s.dimension = $1 AND s.entity_id = e.id AND s.date <= $5
             ORDER BY s.date DESC LIMIT 1) x ON true
         WHERE ($3::uuid IS NULL OR e.banca_id = $3)
           AND ($4::uuid IS NULL OR e.ventana_id = $4)
         ORDER BY e.name, e.id",
    )
    .bind(dimension)
    .bind(ids)
    .bind(banca)
    .bind(ventana)
    .bind(today)
    .fetch_all(pool)
    .await
}

/// The live sales of one number in one OPEN sorteo.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct NumberExposure {
    pub sorteo_id: Uuid,
    pub sorteo_name: String,
    pub scheduled_at: DateTime<Utc>,
    pub loteria_id: Uuid,
    pub loteria_name: String,
    pub number: String,
    pub sales: Decimal,
    /// Σ per jugada `round(amount × finalMultiplierX, 2)`.
    pub potential_payout: Decimal,
    pub tickets: i64,
    /// Σ sales of the sorteo (in scope).
    pub sorteo_sales: Decimal,
}

/// Per OPEN sorteo (not deleted) and number: the live jugadas (active, not excluded, not
/// deleted) of live ACTIVE tickets in `f`'s scope. Ordered by draw time, then number.
pub async fn exposure(pool: &PgPool, f: &Filter) -> Result<Vec<NumberExposure>, sqlx::Error> {
    query_as(
        "WITH os AS (
             SELECT s.id, s.name, s.loteria_id, s.scheduled_at
             FROM sorteos s
             WHERE s.status = 'OPEN' AND s.deleted_at IS NULL
               AND ($4::uuid IS NULL OR s.loteria_id = $4)
               AND ($5::uuid IS NULL OR s.id = $5)
               AND ($1::uuid IS NULL OR s.banca_id IS NULL OR s.banca_id = $1)),
         n AS (
             SELECT j.sorteo_id, j.number, sum(j.amount) AS sales,
                    sum(round(j.amount * j.final_multiplier_x, 2)) AS potential_payout,
                    count(DISTINCT j.ticket_id) AS tickets
             FROM os
             JOIN jugadas j ON j.sorteo_id = os.id AND j.is_active
             JOIN tickets t ON t.id = j.ticket_id
             WHERE NOT j.is_excluded AND j.deleted_at IS NULL
               AND t.deleted_at IS NULL AND t.is_active AND t.status = 'ACTIVE'
               AND ($1::uuid IS NULL OR j.banca_id = $1)
               AND ($2::uuid IS NULL OR t.ventana_id = $2)
               AND ($3::uuid IS NULL OR t.vendedor_id = $3)
               AND ($6::text IS NULL OR j.type::text = $6)
             GROUP BY j.sorteo_id, j.number)
         SELECT n.sorteo_id, os.name AS sorteo_name, os.scheduled_at, os.loteria_id,
                l.name AS loteria_name, n.number, n.sales, n.potential_payout, n.tickets,
                sum(n.sales) OVER (PARTITION BY n.sorteo_id) AS sorteo_sales
         FROM n JOIN os ON os.id = n.sorteo_id JOIN loterias l ON l.id = os.loteria_id
         ORDER BY os.scheduled_at, os.id, n.number",
    )
    .bind(f.banca_id)
    .bind(f.ventana_id)
    .bind(f.vendedor_id)
    .bind(f.loteria_id)
    .bind(f.sorteo_id)
    .bind(f.bet_type.as_deref())
    .fetch_all(pool)
    .await
}
