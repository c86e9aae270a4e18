//! The admin dashboard (`/admin/dashboard*`, domain-money §6.1, §7): its figures and wire
//! shapes, built from `db::dashboard`.
//!
//! Decisions:
//! - Money of a period comes from the report rollups: only sorteos with a result count, the
//!   statements' population, so every total agrees with the statements to the cent. Sales of
//!   OPEN sorteos only show in the exposure.
//! - Per row (ventana, vendedor, lotería, time bucket): `commissionUser` = seller commission of
//!   USER origin, `commissionVentana` = listero commission, `commissions` = both,
//!   `net = sales − payout − commissionVentana`, `margin = net / sales × 100`,
//!   `winRate = winners / tickets × 100`, `avgTicket = sales / tickets`.
//! - The period summary (`summary` of `GET /`, `kpis`, `monthToDate`, `previousPeriod`):
//!   `net = sales − payouts − commissionVentana` for an ADMIN, `sales − payouts −
//!   commissionUser` for the other roles (§6.1 as written); `gananciaListeros =
//!   commissionVentana − commissionUser`, `gananciaBanca = net`.
//! - Balances come from the statements' running balance (which carries across months):
//!   "saldo a hoy" is the remaining balance of the entity's latest statement up to today;
//!   `periodRemainingBalance` the one of its latest statement up to the period's last day;
//!   `openingBalance` the one before the period. CxC lists entities whose saldo a hoy is
//!   positive (`amount = saldo`), CxP those where it is negative (`amount = −saldo`). Balances
//!   do not depend on `loteriaId`/`betType` (statements have no such split).
//! - `periodBalance` (ganancia) = the dimension's balance of the period (ventana: net of the
//!   listero commission; vendedor: of the seller's) + paid − collected.
//! - Exposure covers every OPEN sorteo in scope (whatever the period: it is the risk of draws
//!   still to come): per number `potentialPayout = Σ round(amount × finalMultiplierX, 2)`,
//!   `ratio = potentialPayout / sales of its sorteo × 100` (over 100: the banca loses if that
//!   number comes out). Alerts: `LOW_SALES` (warning) when the period's sales are under 10 000;
//!   `HIGH_EXPOSURE` when the highest ratio passes 60 (warning) or 80 (critical).
//! - Percentages and ratios are numbers with 2 decimals (not money); money is exact.
//! - A caller who can see nothing (`ReportScope::nothing`) filters on the nil banca, so every
//!   query answers empty figures.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, Duration, NaiveDate, TimeZone};
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

use crate::db::dashboard::{self as db, Balance, Figures, Filter, Group, Part};
use crate::domain::commission::{average as avg, money, percent_of as pct};
use crate::services::exports::{Cell, Sheet};
use crate::services::report_scope::ReportScope;

/// Below this, a period's sales raise `LOW_SALES`.
pub const LOW_SALES_THRESHOLD: i64 = 10_000;
/// A number whose potential payout passes this share of its sorteo's sales raises a warning.
pub const EXPOSURE_WARNING: Decimal = Decimal::from_parts(60, 0, 0, false, 0);
/// … and this one a critical alert.
pub const EXPOSURE_CRITICAL: Decimal = Decimal::from_parts(80, 0, 0, false, 0);

// ---------------------------------------------------------------------------------------------
// Parameters

/// Whose balances and rankings (`dimension`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Dimension {
    Ventana,
    Vendedor,
}

impl Dimension {
    pub fn as_str(self) -> &'static str {
        match self {
            Dimension::Ventana => "ventana",
            Dimension::Vendedor => "vendedor",
        }
    }
}

/// Time buckets of a series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Interval {
    Hour,
    Day,
    Week,
    Month,
}

/// The ranking key of `/vendedores`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum OrderBy {
    Sales,
    Commissions,
    Tickets,
    Winners,
    AvgTicket,
}

/// Everything a dashboard figure depends on besides the scope (part of the cache key).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Params {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Today's business date ("saldo a hoy", month to date).
    pub today: NaiveDate,
    pub bet_type: Option<String>,
    /// `net` of the period summary subtracts the listero commission (ADMIN).
    pub listero_view: bool,
    pub dimension: Dimension,
    pub interval: Interval,
    pub top: usize,
    pub order_by: OrderBy,
    pub descending: bool,
    pub page: i64,
    pub page_size: i64,
    pub compare: bool,
    pub aging: bool,
    /// The business time zone's name.
    pub tz: String,
}

impl Params {
    /// The first day of today's month.
    pub fn month_start(&self) -> NaiveDate {
        self.today.with_day(1).unwrap_or(self.today)
    }

    /// The period of the same length right before this one.
    pub fn previous(&self) -> (NaiveDate, NaiveDate) {
        let to = self.from - Duration::days(1);
        (to - (self.to - self.from), to)
    }
}

/// The db filter of a scope: every field that is set filters; a scope that sees nothing
/// filters on the nil banca.
pub fn filter(scope: &ReportScope, bet_type: Option<&str>) -> Filter {
    Filter {
        banca_id: if scope.nothing {
            Some(Uuid::nil())
        } else {
            scope.banca_id
        },
        ventana_id: scope.ventana_id,
        vendedor_id: scope.vendedor_id,
        loteria_id: scope.loteria_id,
        sorteo_id: scope.sorteo_id,
        bet_type: bet_type.map(str::to_string),
    }
}

// ---------------------------------------------------------------------------------------------
// Figures

/// One ventana, vendedor, lotería or time bucket.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Row {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ventana_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ventana_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vendedor_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vendedor_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loteria_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loteria_name: Option<String>,
    pub sales: Decimal,
    pub payout: Decimal,
    pub commission_user: Decimal,
    pub commission_ventana: Decimal,
    pub commissions: Decimal,
    /// `sales − payout − commissionVentana`.
    pub net: Decimal,
    pub margin: Decimal,
    pub tickets: i64,
    pub winners: i64,
    pub win_rate: Decimal,
    pub avg_ticket: Decimal,
    /// Ganancia: movements of the period and `periodBalance`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_paid: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_collected: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period_balance: Option<Decimal>,
    /// Summary / entities: "saldo a hoy" and what it means.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remaining_balance: Option<Decimal>,
    /// Summary: Σ saldo a hoy of the ventana's vendedores.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vendedores_balance: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cxc_amount: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cxp_amount: Option<Decimal>,
}

impl Row {
    fn of(f: &Figures) -> Row {
        let net = f.sales - f.payouts - f.listero;
        Row {
            ventana_id: None,
            ventana_name: None,
            vendedor_id: None,
            vendedor_name: None,
            loteria_id: None,
            loteria_name: None,
            sales: f.sales,
            payout: f.payouts,
            commission_user: f.vendedor,
            commission_ventana: f.listero,
            commissions: f.vendedor + f.listero,
            net,
            margin: pct(net, f.sales),
            tickets: f.tickets,
            winners: f.winners,
            win_rate: pct(Decimal::from(f.winners), Decimal::from(f.tickets)),
            avg_ticket: avg(f.sales, f.tickets),
            total_paid: None,
            total_collected: None,
            period_balance: None,
            remaining_balance: None,
            vendedores_balance: None,
            cxc_amount: None,
            cxp_amount: None,
        }
    }

    fn ventana(f: &Figures) -> Row {
        Row {
            ventana_id: f.key,
            ventana_name: f.name.clone(),
            ..Row::of(f)
        }
    }

    fn vendedor(f: &Figures) -> Row {
        Row {
            vendedor_id: f.key,
            vendedor_name: f.name.clone(),
            ventana_id: f.ventana_id,
            ventana_name: f.ventana_name.clone(),
            ..Row::of(f)
        }
    }

    fn loteria(f: &Figures) -> Row {
        Row {
            loteria_id: f.key,
            loteria_name: f.name.clone(),
            ..Row::of(f)
        }
    }

    fn zero() -> Row {
        Row::of(&zero_figures())
    }

    fn with_balance(mut self, saldo: Decimal) -> Row {
        self.remaining_balance = Some(saldo);
        self.cxc_amount = Some(saldo.max(Decimal::ZERO));
        self.cxp_amount = Some((-saldo).max(Decimal::ZERO));
        self
    }
}

fn zero_figures() -> Figures {
    Figures {
        key: None,
        name: None,
        ventana_id: None,
        ventana_name: None,
        bucket: None,
        sales: Decimal::ZERO,
        payouts: Decimal::ZERO,
        listero: Decimal::ZERO,
        vendedor: Decimal::ZERO,
        tickets: 0,
        winners: 0,
    }
}

/// The totals of a period.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub from_date: NaiveDate,
    pub to_date: NaiveDate,
    pub total_sales: Decimal,
    pub total_payouts: Decimal,
    pub commission_user: Decimal,
    pub commission_ventana: Decimal,
    pub total_commissions: Decimal,
    /// ADMIN: `sales − payouts − commissionVentana`; others: `sales − payouts −
    /// commissionUser`.
    pub net: Decimal,
    pub margin: Decimal,
    pub total_tickets: i64,
    pub total_winners: i64,
    pub win_rate: Decimal,
    pub avg_ticket: Decimal,
    pub ganancia_listeros: Decimal,
    pub ganancia_banca: Decimal,
}

fn summary_of(f: &Figures, from: NaiveDate, to: NaiveDate, listero_view: bool) -> Summary {
    let net = f.sales - f.payouts - if listero_view { f.listero } else { f.vendedor };
    Summary {
        from_date: from,
        to_date: to,
        total_sales: f.sales,
        total_payouts: f.payouts,
        commission_user: f.vendedor,
        commission_ventana: f.listero,
        total_commissions: f.vendedor + f.listero,
        net,
        margin: pct(net, f.sales),
        total_tickets: f.tickets,
        total_winners: f.winners,
        win_rate: pct(Decimal::from(f.winners), Decimal::from(f.tickets)),
        avg_ticket: avg(f.sales, f.tickets),
        ganancia_listeros: f.listero - f.vendedor,
        ganancia_banca: net,
    }
}

async fn totals(
    pool: &PgPool,
    f: &Filter,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Figures, sqlx::Error> {
    Ok(total_of(
        &db::figures(pool, f, from, to, Group::Total).await?,
    ))
}

/// The row of a `Group::Total` part (zeros without one).
fn total_of(rows: &[Figures]) -> Figures {
    rows.first().cloned().unwrap_or_else(zero_figures)
}

/// The totals of a partition of the period (every ventana, vendedor, lotería or time bucket):
/// the sums of its rows, exactly what a `Group::Total` part answers.
fn sum_of(rows: &[Figures]) -> Figures {
    rows.iter().fold(zero_figures(), |mut t, r| {
        t.sales += r.sales;
        t.payouts += r.payouts;
        t.listero += r.listero;
        t.vendedor += r.vendedor;
        t.tickets += r.tickets;
        t.winners += r.winners;
        t
    })
}

/// The rollup grouping of an entity dimension.
fn entity_group(dimension: Dimension) -> Group {
    match dimension {
        Dimension::Ventana => Group::Ventana,
        Dimension::Vendedor => Group::Vendedor,
    }
}

/// Takes the figure sets of a `figure_parts` answer in order.
fn next_set(sets: &mut std::vec::IntoIter<Vec<Figures>>) -> Vec<Figures> {
    sets.next().unwrap_or_default()
}

/// The totals of `from..=to`.
pub async fn period_summary(
    pool: &PgPool,
    scope: &ReportScope,
    p: &Params,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Summary, sqlx::Error> {
    let f = filter(scope, p.bet_type.as_deref());
    let t = totals(pool, &f, from, to).await?;
    Ok(summary_of(&t, from, to, p.listero_view))
}

/// The KPIs the client's dashboard reads, with the previous period.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Kpis {
    pub total_sales: Decimal,
    pub total_payouts: Decimal,
    pub total_tickets: i64,
    pub total_winners: i64,
    pub total_commissions: Decimal,
    pub net: Decimal,
    pub margin: Decimal,
    pub win_rate: Decimal,
    pub avg_ticket: Decimal,
    pub previous_period: Option<Summary>,
    /// Sales change against the previous period, in % (0 without previous sales).
    pub sales_change: Decimal,
}

fn kpis_of(s: &Summary, previous: Option<Summary>) -> Kpis {
    let sales_change = previous.as_ref().map_or(Decimal::ZERO, |p| {
        pct(s.total_sales - p.total_sales, p.total_sales)
    });
    Kpis {
        total_sales: s.total_sales,
        total_payouts: s.total_payouts,
        total_tickets: s.total_tickets,
        total_winners: s.total_winners,
        total_commissions: s.total_commissions,
        net: s.net,
        margin: s.margin,
        win_rate: s.win_rate,
        avg_ticket: s.avg_ticket,
        previous_period: previous,
        sales_change,
    }
}

// ---------------------------------------------------------------------------------------------
// GET /ganancia

/// `GET /ganancia` (and month-to-date).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Ganancia {
    pub from_date: NaiveDate,
    pub to_date: NaiveDate,
    pub dimension: Dimension,
    /// `= totalNet`.
    pub total_amount: Decimal,
    pub total_sales: Decimal,
    pub total_payouts: Decimal,
    pub commission_user: Decimal,
    pub commission_ventana: Decimal,
    pub total_commissions: Decimal,
    /// `Σ sales − Σ payouts − Σ commissionVentana`.
    pub total_net: Decimal,
    pub margin: Decimal,
    pub total_tickets: i64,
    pub total_winners: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by_ventana: Option<Vec<Row>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by_vendedor: Option<Vec<Row>>,
    pub by_loteria: Vec<Row>,
}

/// `GET /ganancia` over `p.from..=p.to`, per `p.dimension` and per lotería.
pub async fn ganancia(
    pool: &PgPool,
    scope: &ReportScope,
    p: &Params,
) -> Result<Ganancia, sqlx::Error> {
    let f = filter(scope, p.bet_type.as_deref());
    let mut sets = db::figure_parts(
        pool,
        &f,
        &[
            Part::new(p.from, p.to, entity_group(p.dimension)),
            Part::new(p.from, p.to, Group::Loteria),
        ],
    )
    .await?
    .into_iter();
    let (entities, loterias) = (next_set(&mut sets), next_set(&mut sets));
    let balances = db::balances(pool, p.dimension.as_str(), &f, p.from, p.to, p.today).await?;
    Ok(ganancia_of(p, &entities, &loterias, &balances))
}

/// The ganancia of `p`'s period from its figures per `p.dimension` and per lotería and the
/// dimension's statements (movements); the totals are the sums of the entities.
fn ganancia_of(
    p: &Params,
    entities: &[Figures],
    loterias: &[Figures],
    balances: &[Balance],
) -> Ganancia {
    let t = sum_of(entities);
    let moves: HashMap<Uuid, (Decimal, Decimal)> = balances
        .iter()
        .map(|b| (b.entity_id, (b.total_paid, b.total_collected)))
        .collect();
    let rows: Vec<Row> = entities
        .iter()
        .map(|e| {
            let mut r = match p.dimension {
                Dimension::Ventana => Row::ventana(e),
                Dimension::Vendedor => Row::vendedor(e),
            };
            let (paid, collected) = e
                .key
                .and_then(|k| moves.get(&k).copied())
                .unwrap_or_default();
            let commission = match p.dimension {
                Dimension::Ventana => e.listero,
                Dimension::Vendedor => e.vendedor,
            };
            r.total_paid = Some(paid);
            r.total_collected = Some(collected);
            r.period_balance = Some(e.sales - e.payouts - commission + paid - collected);
            r
        })
        .collect();
    let net = t.sales - t.payouts - t.listero;
    Ganancia {
        from_date: p.from,
        to_date: p.to,
        dimension: p.dimension,
        total_amount: net,
        total_sales: t.sales,
        total_payouts: t.payouts,
        commission_user: t.vendedor,
        commission_ventana: t.listero,
        total_commissions: t.vendedor + t.listero,
        total_net: net,
        margin: pct(net, t.sales),
        total_tickets: t.tickets,
        total_winners: t.winners,
        by_ventana: (p.dimension == Dimension::Ventana).then(|| rows.clone()),
        by_vendedor: (p.dimension == Dimension::Vendedor).then_some(rows),
        by_loteria: loterias.iter().map(Row::loteria).collect(),
    }
}

// ---------------------------------------------------------------------------------------------
// Balances: GET /cxc, /cxp, /accumulated-balances

/// The balance of one entity.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct BalanceRow {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vendedor_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vendedor_name: Option<String>,
    pub ventana_id: Option<Uuid>,
    pub ventana_name: Option<String>,
    /// Σ of the period's statements.
    pub total_sales: Decimal,
    pub total_payouts: Decimal,
    pub listero_commission: Decimal,
    pub vendedor_commission: Decimal,
    pub total_paid: Decimal,
    pub total_collected: Decimal,
    pub total_adjustments: Decimal,
    /// Prizes paid to customers on the period's days (ticket payments).
    pub total_paid_to_customers: Decimal,
    pub opening_balance: Decimal,
    /// The running balance at the period's last day.
    pub period_remaining_balance: Decimal,
    pub monthly_accumulated: Accumulated,
    /// Saldo a hoy.
    pub remaining_balance: Decimal,
    /// CxC: the saldo when positive; CxP: minus the saldo when negative; 0 otherwise.
    pub amount: Decimal,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aging: Option<Aging>,
}

/// "Saldo a hoy" and the day of the statement it comes from.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Accumulated {
    pub remaining_balance: Decimal,
    pub date: Option<NaiveDate>,
}

/// How long since the entity's last movement (`aging=true`).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Aging {
    pub last_movement_date: Option<NaiveDate>,
    pub days_since_last_movement: Option<i64>,
}

fn balance_row(b: &Balance, dimension: Dimension, prizes: Decimal, p: &Params) -> BalanceRow {
    let saldo = b.current_balance;
    let (vendedor_id, vendedor_name, ventana_id, ventana_name) = match dimension {
        Dimension::Ventana => (None, None, Some(b.entity_id), b.name.clone()),
        Dimension::Vendedor => (
            Some(b.entity_id),
            b.name.clone(),
            b.ventana_id,
            b.ventana_name.clone(),
        ),
    };
    BalanceRow {
        vendedor_id,
        vendedor_name,
        ventana_id,
        ventana_name,
        total_sales: b.total_sales,
        total_payouts: b.total_payouts,
        listero_commission: b.listero_commission,
        vendedor_commission: b.vendedor_commission,
        total_paid: b.total_paid,
        total_collected: b.total_collected,
        total_adjustments: b.total_adjustments,
        total_paid_to_customers: prizes,
        opening_balance: b.opening_balance,
        period_remaining_balance: b.period_balance,
        monthly_accumulated: Accumulated {
            remaining_balance: saldo,
            date: b.current_date,
        },
        remaining_balance: saldo,
        amount: saldo.abs(),
        aging: p.aging.then(|| Aging {
            last_movement_date: b.last_movement_date,
            days_since_last_movement: b.last_movement_date.map(|d| (p.today - d).num_days()),
        }),
    }
}

/// Every entity of `dimension` with statements in scope, with its balances.
pub async fn balance_rows(
    pool: &PgPool,
    scope: &ReportScope,
    p: &Params,
    dimension: Dimension,
) -> Result<Vec<BalanceRow>, sqlx::Error> {
    let f = filter(scope, None);
    let rows = db::balances(pool, dimension.as_str(), &f, p.from, p.to, p.today).await?;
    let prizes = db::prizes_paid(pool, dimension.as_str(), &f, p.from, p.to, &p.tz).await?;
    Ok(balance_rows_of(&rows, prizes, dimension, p))
}

/// The balance rows of the statements `rows` of `dimension` with the prizes paid per entity.
fn balance_rows_of(
    rows: &[Balance],
    prizes: Vec<(Uuid, Decimal)>,
    dimension: Dimension,
    p: &Params,
) -> Vec<BalanceRow> {
    let prizes: HashMap<Uuid, Decimal> = prizes.into_iter().collect();
    rows.iter()
        .map(|b| {
            let paid = prizes.get(&b.entity_id).copied().unwrap_or_default();
            balance_row(b, dimension, paid, p)
        })
        .collect()
}

/// `GET /cxc` and `GET /cxp`.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Receivables {
    pub dimension: Dimension,
    pub total_amount: Decimal,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by_ventana: Option<Vec<BalanceRow>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by_vendedor: Option<Vec<BalanceRow>>,
}

/// CxC (`receivable`: entities that owe the banca) or CxP (the banca owes them), largest
/// amount first.
pub async fn receivables(
    pool: &PgPool,
    scope: &ReportScope,
    p: &Params,
    receivable: bool,
) -> Result<Receivables, sqlx::Error> {
    let rows = balance_rows(pool, scope, p, p.dimension).await?;
    Ok(receivables_of(rows, p, receivable))
}

/// CxC or CxP of `p.dimension` from its balance rows.
fn receivables_of(rows: Vec<BalanceRow>, p: &Params, receivable: bool) -> Receivables {
    let mut rows: Vec<BalanceRow> = rows
        .into_iter()
        .filter(|r| {
            if receivable {
                r.remaining_balance > Decimal::ZERO
            } else {
                r.remaining_balance < Decimal::ZERO
            }
        })
        .collect();
    rows.sort_by_key(|r| std::cmp::Reverse(r.amount));
    let total = rows.iter().map(|r| r.amount).sum();
    Receivables {
        dimension: p.dimension,
        total_amount: total,
        by_ventana: (p.dimension == Dimension::Ventana).then(|| rows.clone()),
        by_vendedor: (p.dimension == Dimension::Vendedor).then_some(rows),
    }
}

/// One entity of `accumulated-balances`.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EntityBalance {
    pub entity_id: Uuid,
    pub dimension: Dimension,
    pub name: String,
    pub ventana_id: Option<Uuid>,
    /// Saldo a hoy (0 without statements).
    pub remaining_balance: Decimal,
    /// The day of the statement it comes from (`None`: no statement yet).
    pub date: Option<NaiveDate>,
}

/// `accumulated-balances`: saldo a hoy of each of `ids` inside the scope (others are left
/// out).
pub async fn accumulated(
    pool: &PgPool,
    scope: &ReportScope,
    dimension: Dimension,
    ids: &[Uuid],
    today: NaiveDate,
) -> Result<Vec<EntityBalance>, sqlx::Error> {
    let f = filter(scope, None);
    let rows = db::current_balances(
        pool,
        dimension.as_str(),
        ids,
        f.banca_id,
        f.ventana_id,
        today,
    )
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| EntityBalance {
            entity_id: r.entity_id,
            dimension,
            name: r.name,
            ventana_id: r.ventana_id,
            remaining_balance: r.remaining_balance.unwrap_or_default(),
            date: r.date,
        })
        .collect())
}

// ---------------------------------------------------------------------------------------------
// GET /summary and /entities

/// `GET /summary` (per ventana) and `GET /entities` (per vendedor).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Consolidated {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by_ventana: Option<Vec<Row>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by_vendedor: Option<Vec<Row>>,
    pub kpis: Kpis,
    pub month_to_date: Summary,
}

/// Per ventana (`Ventana`) or vendedor: the period's figures with saldo a hoy; ventanas also
/// carry Σ their vendedores' saldo a hoy. Entities with a balance but no sales in the period
/// are listed with zero figures.
pub async fn consolidated(
    pool: &PgPool,
    scope: &ReportScope,
    p: &Params,
    dimension: Dimension,
) -> Result<Consolidated, sqlx::Error> {
    let f = filter(scope, p.bet_type.as_deref());
    let (pf, pt) = p.previous();
    // The figures and the balances are independent reads: run them at once.
    let parts = [
        Part::new(p.from, p.to, entity_group(dimension)),
        Part::new(pf, pt, Group::Total),
        Part::new(p.month_start(), p.today, Group::Total),
    ];
    let sellers_of_ventanas = async {
        if dimension == Dimension::Ventana {
            db::balances(pool, "vendedor", &f, p.from, p.to, p.today).await
        } else {
            Ok(Vec::new())
        }
    };
    let (sets, own, sellers) = tokio::try_join!(
        db::figure_parts(pool, &f, &parts),
        db::balances(pool, dimension.as_str(), &f, p.from, p.to, p.today),
        sellers_of_ventanas
    )?;
    let mut sets = sets.into_iter();
    let (figs, previous, month) = (
        next_set(&mut sets),
        next_set(&mut sets),
        next_set(&mut sets),
    );
    let mut per_ventana: HashMap<Uuid, Decimal> = HashMap::new();
    for s in &sellers {
        if let Some(v) = s.ventana_id {
            *per_ventana.entry(v).or_default() += s.current_balance;
        }
    }
    let saldo: HashMap<Uuid, &Balance> = own.iter().map(|b| (b.entity_id, b)).collect();
    let mut rows: Vec<Row> = figs
        .iter()
        .map(|e| match dimension {
            Dimension::Ventana => Row::ventana(e),
            Dimension::Vendedor => Row::vendedor(e),
        })
        .collect();
    let key = |r: &Row| match dimension {
        Dimension::Ventana => r.ventana_id,
        Dimension::Vendedor => r.vendedor_id,
    };
    for b in &own {
        if !rows.iter().any(|r| key(r) == Some(b.entity_id)) {
            let mut r = Row::zero();
            match dimension {
                Dimension::Ventana => {
                    r.ventana_id = Some(b.entity_id);
                    r.ventana_name = b.name.clone();
                }
                Dimension::Vendedor => {
                    r.vendedor_id = Some(b.entity_id);
                    r.vendedor_name = b.name.clone();
                    r.ventana_id = b.ventana_id;
                    r.ventana_name = b.ventana_name.clone();
                }
            }
            rows.push(r);
        }
    }
    let rows: Vec<Row> = rows
        .into_iter()
        .map(|r| {
            let id = key(&r);
            let s = id
                .and_then(|k| saldo.get(&k))
                .map_or(Decimal::ZERO, |b| b.current_balance);
            let mut r = r.with_balance(s);
            if dimension == Dimension::Ventana {
                r.vendedores_balance = Some(
                    id.and_then(|k| per_ventana.get(&k).copied())
                        .unwrap_or_default(),
                );
            }
            r
        })
        .collect();
    let now = summary_of(&sum_of(&figs), p.from, p.to, p.listero_view);
    let prev = summary_of(&total_of(&previous), pf, pt, p.listero_view);
    let mtd = summary_of(&total_of(&month), p.month_start(), p.today, p.listero_view);
    Ok(Consolidated {
        by_ventana: (dimension == Dimension::Ventana).then(|| rows.clone()),
        by_vendedor: (dimension == Dimension::Vendedor).then_some(rows),
        kpis: kpis_of(&now, Some(prev)),
        month_to_date: mtd,
    })
}

// ---------------------------------------------------------------------------------------------
// GET /timeseries

/// One bucket of a series.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Point {
    /// The bucket's start: `YYYY-MM-DD` for days, weeks (Monday) and months (the 1st); an
    /// RFC 3339 instant with the business offset for hours.
    pub timestamp: String,
    pub date: NaiveDate,
    pub sales: Decimal,
    /// `commissionUser + commissionVentana`.
    pub commissions: Decimal,
    pub commission_user: Decimal,
    pub commission_ventana: Decimal,
    pub tickets: i64,
    pub winners: i64,
    pub payout: Decimal,
    /// `sales − payout − commissionVentana`.
    pub net: Decimal,
}

fn point(timestamp: String, date: NaiveDate, f: &Figures) -> Point {
    Point {
        timestamp,
        date,
        sales: f.sales,
        commissions: f.vendedor + f.listero,
        commission_user: f.vendedor,
        commission_ventana: f.listero,
        tickets: f.tickets,
        winners: f.winners,
        payout: f.payouts,
        net: f.sales - f.payouts - f.listero,
    }
}

/// `GET /timeseries`.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Series {
    pub data: Vec<Point>,
    pub granularity: Interval,
    /// The previous period of the same length (`compare=true`), bucket by bucket.
    pub comparison: Option<Vec<Point>>,
}

/// The bucket starts of `from..=to`.
fn buckets(from: NaiveDate, to: NaiveDate, interval: Interval) -> Vec<NaiveDate> {
    let start = match interval {
        Interval::Week => from - Duration::days(i64::from(from.weekday().num_days_from_monday())),
        Interval::Month => from.with_day(1).unwrap_or(from),
        Interval::Day | Interval::Hour => from,
    };
    let mut out = Vec::new();
    let mut d = start;
    while d <= to {
        out.push(d);
        d = match interval {
            Interval::Week => d + Duration::days(7),
            Interval::Month => d
                .checked_add_months(chrono::Months::new(1))
                .unwrap_or(to + Duration::days(1)),
            Interval::Day | Interval::Hour => d + Duration::days(1),
        };
    }
    out
}

/// The series of `from..=to`, every bucket present (zeros where nothing counts).
pub async fn series(
    pool: &PgPool,
    scope: &ReportScope,
    p: &Params,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<Point>, sqlx::Error> {
    let f = filter(scope, p.bet_type.as_deref());
    if p.interval == Interval::Hour {
        let tz: chrono_tz::Tz = p.tz.parse().unwrap_or(chrono_tz::America::Costa_Rica);
        let rows = db::hourly(pool, &f, from, to, &p.tz).await?;
        let by_hour: BTreeMap<_, _> = rows.into_iter().map(|r| (r.hour, r)).collect();
        let mut out = Vec::new();
        for day in buckets(from, to, Interval::Day) {
            for h in 0..24 {
                let Some(local) = day.and_hms_opt(h, 0, 0) else {
                    continue;
                };
                let f = by_hour.get(&local).map_or_else(zero_figures, |r| Figures {
                    sales: r.sales,
                    payouts: r.payouts,
                    listero: r.listero,
                    vendedor: r.vendedor,
                    tickets: r.tickets,
                    winners: r.winners,
                    ..zero_figures()
                });
                let stamp = tz
                    .from_local_datetime(&local)
                    .earliest()
                    .map_or_else(|| local.to_string(), |t| t.to_rfc3339());
                out.push(point(stamp, day, &f));
            }
        }
        return Ok(out);
    }
    let group = bucket_group(p.interval).unwrap_or(Group::Day);
    let rows = db::figures(pool, &f, from, to, group).await?;
    Ok(points_of(&rows, from, to, p.interval))
}

/// The rollup grouping of a series' buckets (`None`: hours, read from the tickets).
fn bucket_group(interval: Interval) -> Option<Group> {
    match interval {
        Interval::Hour => None,
        Interval::Day => Some(Group::Day),
        Interval::Week => Some(Group::Week),
        Interval::Month => Some(Group::Month),
    }
}

/// The series of `from..=to` from the figures per bucket of `interval` (not hours): every
/// bucket present, zeros where nothing counts.
fn points_of(rows: &[Figures], from: NaiveDate, to: NaiveDate, interval: Interval) -> Vec<Point> {
    let by_bucket: HashMap<NaiveDate, &Figures> = rows
        .iter()
        .filter_map(|r| r.bucket.map(|b| (b, r)))
        .collect();
    buckets(from, to, interval)
        .into_iter()
        .map(|d| {
            let zero = zero_figures();
            let f = by_bucket.get(&d).copied().unwrap_or(&zero);
            point(d.to_string(), d, f)
        })
        .collect()
}

/// `GET /timeseries` over `p`'s period (the period and the previous one in one statement).
pub async fn timeseries(
    pool: &PgPool,
    scope: &ReportScope,
    p: &Params,
) -> Result<Series, sqlx::Error> {
    let (pf, pt) = p.previous();
    let (data, comparison) = match bucket_group(p.interval) {
        Some(group) => {
            let mut parts = vec![Part::new(p.from, p.to, group)];
            if p.compare {
                parts.push(Part::new(pf, pt, group));
            }
            let f = filter(scope, p.bet_type.as_deref());
            let mut sets = db::figure_parts(pool, &f, &parts).await?.into_iter();
            let data = points_of(&next_set(&mut sets), p.from, p.to, p.interval);
            let comparison = p
                .compare
                .then(|| points_of(&next_set(&mut sets), pf, pt, p.interval));
            (data, comparison)
        }
        None => {
            let data = series(pool, scope, p, p.from, p.to).await?;
            let comparison = if p.compare {
                Some(series(pool, scope, p, pf, pt).await?)
            } else {
                None
            };
            (data, comparison)
        }
    };
    Ok(Series {
        data,
        granularity: p.interval,
        comparison,
    })
}

// ---------------------------------------------------------------------------------------------
// GET /exposure

/// One number of one OPEN sorteo.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct NumberRisk {
    pub sorteo_id: Uuid,
    pub sorteo_name: String,
    pub scheduled_at: chrono::DateTime<chrono::Utc>,
    pub loteria_id: Uuid,
    pub loteria_name: String,
    pub number: String,
    pub sales: Decimal,
    pub potential_payout: Decimal,
    /// `potentialPayout / sales of its sorteo × 100`.
    pub ratio: Decimal,
    pub tickets: i64,
}

/// One number over every OPEN sorteo in scope.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct HeatCell {
    pub number: String,
    pub sales: Decimal,
    pub potential_payout: Decimal,
}

/// The risk of one sorteo or lotería: its worst number.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Risk {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sorteo_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sorteo_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheduled_at: Option<chrono::DateTime<chrono::Utc>>,
    pub loteria_id: Uuid,
    pub loteria_name: String,
    pub sales: Decimal,
    /// The highest potential payout of one number.
    pub max_potential_payout: Decimal,
    pub critical_number: String,
    /// The critical number's ratio.
    pub ratio: Decimal,
}

/// `GET /exposure`.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Exposure {
    pub open_sorteos: usize,
    pub total_sales: Decimal,
    /// Σ potential payout of every number (not a loss that can happen at once).
    pub total_potential_payout: Decimal,
    /// The highest number ratio.
    pub max_ratio: Decimal,
    /// The `top` numbers by sales.
    pub top_numbers: Vec<NumberRisk>,
    pub heatmap: Vec<HeatCell>,
    pub by_sorteo: Vec<Risk>,
    pub by_loteria: Vec<Risk>,
}

/// `GET /exposure`: the OPEN sorteos in scope.
pub async fn exposure(
    pool: &PgPool,
    scope: &ReportScope,
    bet_type: Option<&str>,
    top: usize,
) -> Result<Exposure, sqlx::Error> {
    let rows = db::exposure(pool, &filter(scope, bet_type)).await?;
    let numbers: Vec<NumberRisk> = rows
        .iter()
        .map(|r| NumberRisk {
            sorteo_id: r.sorteo_id,
            sorteo_name: r.sorteo_name.clone(),
            scheduled_at: r.scheduled_at,
            loteria_id: r.loteria_id,
            loteria_name: r.loteria_name.clone(),
            number: r.number.clone(),
            sales: r.sales,
            potential_payout: r.potential_payout,
            ratio: pct(r.potential_payout, r.sorteo_sales),
            tickets: r.tickets,
        })
        .collect();
    let mut heat: BTreeMap<String, HeatCell> = BTreeMap::new();
    let mut sorteos: Vec<Risk> = Vec::new();
    for n in &numbers {
        let h = heat.entry(n.number.clone()).or_insert_with(|| HeatCell {
            number: n.number.clone(),
            sales: Decimal::ZERO,
            potential_payout: Decimal::ZERO,
        });
        h.sales += n.sales;
        h.potential_payout += n.potential_payout;
        match sorteos.last_mut() {
            Some(s) if s.sorteo_id == Some(n.sorteo_id) => {
                s.sales += n.sales;
                if n.potential_payout > s.max_potential_payout {
                    s.max_potential_payout = n.potential_payout;
                    s.critical_number = n.number.clone();
                    s.ratio = n.ratio;
                }
            }
            _ => sorteos.push(Risk {
                sorteo_id: Some(n.sorteo_id),
                sorteo_name: Some(n.sorteo_name.clone()),
                scheduled_at: Some(n.scheduled_at),
                loteria_id: n.loteria_id,
                loteria_name: n.loteria_name.clone(),
                sales: n.sales,
                max_potential_payout: n.potential_payout,
                critical_number: n.number.clone(),
                ratio: n.ratio,
            }),
        }
    }
    let mut loterias: Vec<Risk> = Vec::new();
    for s in &sorteos {
        match loterias.iter_mut().find(|l| l.loteria_id == s.loteria_id) {
            Some(l) => {
                l.sales += s.sales;
                if s.max_potential_payout > l.max_potential_payout {
                    l.max_potential_payout = s.max_potential_payout;
                    l.critical_number = s.critical_number.clone();
                    l.ratio = s.ratio;
                }
            }
            None => loterias.push(Risk {
                sorteo_id: None,
                sorteo_name: None,
                scheduled_at: None,
                ..s.clone()
            }),
        }
    }
    loterias.sort_by_key(|l| std::cmp::Reverse(l.max_potential_payout));
    let mut top_numbers = numbers.clone();
    top_numbers.sort_by(|a, b| {
        b.sales
            .cmp(&a.sales)
            .then(b.potential_payout.cmp(&a.potential_payout))
            .then(a.number.cmp(&b.number))
    });
    top_numbers.truncate(top);
    Ok(Exposure {
        open_sorteos: sorteos.len(),
        total_sales: numbers.iter().map(|n| n.sales).sum(),
        total_potential_payout: numbers.iter().map(|n| n.potential_payout).sum(),
        max_ratio: numbers.iter().map(|n| n.ratio).max().unwrap_or_default(),
        top_numbers,
        heatmap: heat.into_values().collect(),
        by_sorteo: sorteos,
        by_loteria: loterias,
    })
}

// ---------------------------------------------------------------------------------------------
// Alerts

/// One alert of `GET /`.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Alert {
    /// `LOW_SALES` or `HIGH_EXPOSURE`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// `warning` or `critical`.
    pub severity: &'static str,
    pub message: String,
    /// LOW_SALES: the period's sales (money, exact); HIGH_EXPOSURE: the ratio in % (2 dp).
    pub value: Decimal,
    pub threshold: Decimal,
}

/// `LOW_SALES` when the period's sales are under [`LOW_SALES_THRESHOLD`].
pub fn sales_alerts(total_sales: Decimal) -> Vec<Alert> {
    let threshold = Decimal::from(LOW_SALES_THRESHOLD);
    if total_sales < threshold {
        vec![Alert {
            kind: "LOW_SALES",
            severity: "warning",
            message: format!(
                "Ventas del período por debajo de {}: {}",
                crate::domain::commission::money_text(threshold),
                crate::domain::commission::money_text(total_sales)
            ),
            value: total_sales,
            threshold,
        }]
    } else {
        Vec::new()
    }
}

/// `HIGH_EXPOSURE` when a number's ratio passes [`EXPOSURE_WARNING`] / [`EXPOSURE_CRITICAL`].
pub fn exposure_alerts(e: &Exposure) -> Vec<Alert> {
    let worst = e.max_ratio;
    let (severity, threshold) = if worst > EXPOSURE_CRITICAL {
        ("critical", EXPOSURE_CRITICAL)
    } else if worst > EXPOSURE_WARNING {
        ("warning", EXPOSURE_WARNING)
    } else {
        return Vec::new();
    };
    let critical = e
        .by_sorteo
        .iter()
        .max_by(|a, b| a.ratio.cmp(&b.ratio))
        .map(|s| {
            format!(
                " (número {} de {})",
                s.critical_number,
                s.sorteo_name.as_deref().unwrap_or("")
            )
        })
        .unwrap_or_default();
    vec![Alert {
        kind: "HIGH_EXPOSURE",
        severity,
        message: format!("Exposición alta: el pago potencial llega al {worst:.2}% de las ventas del sorteo{critical}"),
        value: worst,
        threshold,
    }]
}

// ---------------------------------------------------------------------------------------------
// GET /vendedores

/// `GET /vendedores`: the page of the ranking and the number of vendedores.
pub async fn vendedores(
    pool: &PgPool,
    scope: &ReportScope,
    p: &Params,
) -> Result<(Vec<Row>, i64), sqlx::Error> {
    let f = filter(scope, p.bet_type.as_deref());
    let mut rows: Vec<Row> = db::figures(pool, &f, p.from, p.to, Group::Vendedor)
        .await?
        .iter()
        .map(Row::vendedor)
        .collect();
    rows.sort_by(|a, b| {
        let o = match p.order_by {
            OrderBy::Sales => a.sales.cmp(&b.sales),
            OrderBy::Commissions => a.commissions.cmp(&b.commissions),
            OrderBy::Tickets => a.tickets.cmp(&b.tickets),
            OrderBy::Winners => a.winners.cmp(&b.winners),
            OrderBy::AvgTicket => a.avg_ticket.cmp(&b.avg_ticket),
        };
        let o = if p.descending { o.reverse() } else { o };
        o.then(a.vendedor_name.cmp(&b.vendedor_name))
            .then(a.vendedor_id.cmp(&b.vendedor_id))
    });
    let total = i64::try_from(rows.len()).unwrap_or(i64::MAX);
    let skip = usize::try_from((p.page - 1).max(0) * p.page_size).unwrap_or(usize::MAX);
    let take = usize::try_from(p.page_size).unwrap_or(0);
    Ok((rows.into_iter().skip(skip).take(take).collect(), total))
}

// ---------------------------------------------------------------------------------------------
// GET /

/// The cached part of `GET /` (the exposure and its alerts are added live).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Overview {
    pub ganancia: Ganancia,
    pub cxc: Receivables,
    pub cxp: Receivables,
    pub summary: Summary,
    pub kpis: Kpis,
    pub time_series: Vec<Point>,
    pub by_ventana: Vec<Row>,
    pub by_loteria: Vec<Row>,
    pub previous_period: Summary,
    pub alerts: Vec<Alert>,
}

/// `GET /` without the exposure.
pub async fn overview(
    pool: &PgPool,
    scope: &ReportScope,
    p: &Params,
) -> Result<Overview, sqlx::Error> {
    // One statement for the figures (per ventana, per lotería, the previous period's totals,
    // the series), one for the ventanas' statements: ganancia, cxc and cxp share them.
    let mut gp = p.clone();
    gp.dimension = Dimension::Ventana;
    let f = filter(scope, p.bet_type.as_deref());
    let (pf, pt) = p.previous();
    let mut parts = vec![
        Part::new(p.from, p.to, Group::Ventana),
        Part::new(p.from, p.to, Group::Loteria),
        Part::new(pf, pt, Group::Total),
    ];
    if let Some(group) = bucket_group(p.interval) {
        parts.push(Part::new(p.from, p.to, group));
    }
    let mut sets = db::figure_parts(pool, &f, &parts).await?.into_iter();
    let (ventanas, loterias, prev) = (
        next_set(&mut sets),
        next_set(&mut sets),
        next_set(&mut sets),
    );
    let time_series = match bucket_group(p.interval) {
        Some(_) => points_of(&next_set(&mut sets), p.from, p.to, p.interval),
        None => series(pool, scope, p, p.from, p.to).await?,
    };
    // The statements do not depend on the bet type (`balance_rows` reads them without it).
    let statements = db::balances(pool, "ventana", &f, p.from, p.to, p.today).await?;
    let prizes = db::prizes_paid(pool, "ventana", &f, p.from, p.to, &p.tz).await?;
    let ganancia = ganancia_of(&gp, &ventanas, &loterias, &statements);
    let balances = balance_rows_of(&statements, prizes, Dimension::Ventana, &gp);
    let cxc = receivables_of(balances.clone(), &gp, true);
    let cxp = receivables_of(balances, &gp, false);
    let summary = summary_of(&sum_of(&ventanas), p.from, p.to, p.listero_view);
    let previous = summary_of(&total_of(&prev), pf, pt, p.listero_view);
    let alerts = sales_alerts(summary.total_sales);
    Ok(Overview {
        by_ventana: ganancia.by_ventana.clone().unwrap_or_default(),
        by_loteria: ganancia.by_loteria.clone(),
        kpis: kpis_of(&summary, Some(previous.clone())),
        ganancia,
        cxc,
        cxp,
        summary,
        time_series,
        previous_period: previous,
        alerts,
    })
}

// ---------------------------------------------------------------------------------------------
// GET /export

/// The sections of the export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sections {
    pub summary: bool,
    pub ventanas: bool,
    pub vendedores: bool,
    pub timeseries: bool,
    pub exposure: bool,
}

impl Sections {
    pub const ALL: Sections = Sections {
        summary: true,
        ventanas: true,
        vendedores: true,
        timeseries: true,
        exposure: true,
    };
}

fn text(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

/// A percentage as a two-decimal number cell (the header says `(%)`): numeric in XLSX, and
/// no leading `-` text that the CSV injection guard would quote.
fn percent_cell(v: Decimal) -> Cell {
    Cell::Money(money(v))
}

fn summary_rows(s: &Summary) -> Vec<(String, Cell)> {
    vec![
        ("Ventas".into(), Cell::Money(s.total_sales)),
        ("Premios".into(), Cell::Money(s.total_payouts)),
        ("Comisión Vendedor".into(), Cell::Money(s.commission_user)),
        ("Comisión Listero".into(), Cell::Money(s.commission_ventana)),
        ("Comisiones".into(), Cell::Money(s.total_commissions)),
        ("Neto".into(), Cell::Money(s.net)),
        ("Margen (%)".into(), percent_cell(s.margin)),
        ("Tickets".into(), Cell::Int(s.total_tickets)),
        ("Ganadores".into(), Cell::Int(s.total_winners)),
        ("Tasa de Aciertos (%)".into(), percent_cell(s.win_rate)),
        ("Ticket Promedio".into(), Cell::Money(s.avg_ticket)),
        ("Ganancia Listeros".into(), Cell::Money(s.ganancia_listeros)),
        ("Ganancia Banca".into(), Cell::Money(s.ganancia_banca)),
    ]
}

fn dmy(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

/// The sheets of the export: `Resumen Ejecutivo` (period, month to date), `Balances por
/// Ventana`, `Balances por Vendedor`, `Serie Temporal`, `Exposición` (those asked for).
pub async fn export_sheets(
    pool: &PgPool,
    scope: &ReportScope,
    p: &Params,
    sections: Sections,
) -> Result<Vec<Sheet>, sqlx::Error> {
    let mut sheets = Vec::new();
    if sections.summary {
        let s = period_summary(pool, scope, p, p.from, p.to).await?;
        let m = period_summary(pool, scope, p, p.month_start(), p.today).await?;
        let mut rows = vec![vec![
            text("Período"),
            text(format!("{} - {}", dmy(p.from), dmy(p.to))),
            text(format!("{} - {}", dmy(p.month_start()), dmy(p.today))),
        ]];
        for ((label, a), (_, b)) in summary_rows(&s).into_iter().zip(summary_rows(&m)) {
            rows.push(vec![text(label), a, b]);
        }
        sheets.push(Sheet {
            name: "Resumen Ejecutivo".into(),
            header: vec![
                "Indicador".into(),
                "Período".into(),
                "Mes a la Fecha".into(),
            ],
            rows,
            widths: vec![24.0, 22.0, 22.0],
        });
    }
    let balance_header = |entity: &str| -> Vec<String> {
        [
            entity,
            "Ventas",
            "Premios",
            "Com. Listero",
            "Com. Vendedor",
            "Pagado",
            "Cobrado",
            "Saldo Inicial",
            "Saldo del Período",
            "Saldo a Hoy",
            "CxC",
            "CxP",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let balance_cells = |name: Option<String>, r: &BalanceRow| -> Vec<Cell> {
        vec![
            text(name.unwrap_or_default()),
            Cell::Money(r.total_sales),
            Cell::Money(r.total_payouts),
            Cell::Money(r.listero_commission),
            Cell::Money(r.vendedor_commission),
            Cell::Money(r.total_paid),
            Cell::Money(r.total_collected),
            Cell::Money(r.opening_balance),
            Cell::Money(r.period_remaining_balance),
            Cell::Money(r.remaining_balance),
            Cell::Money(r.remaining_balance.max(Decimal::ZERO)),
            Cell::Money((-r.remaining_balance).max(Decimal::ZERO)),
        ]
    };
    if sections.ventanas {
        let rows = balance_rows(pool, scope, p, Dimension::Ventana).await?;
        sheets.push(Sheet {
            name: "Balances por Ventana".into(),
            header: balance_header("Ventana"),
            rows: rows
                .iter()
                .map(|r| balance_cells(r.ventana_name.clone(), r))
                .collect(),
            widths: vec![24.0],
        });
    }
    if sections.vendedores {
        let rows = balance_rows(pool, scope, p, Dimension::Vendedor).await?;
        let mut header = balance_header("Vendedor");
        header.insert(1, "Ventana".into());
        sheets.push(Sheet {
            name: "Balances por Vendedor".into(),
            header,
            rows: rows
                .iter()
                .map(|r| {
                    let mut c = balance_cells(r.vendedor_name.clone(), r);
                    c.insert(1, text(r.ventana_name.clone().unwrap_or_default()));
                    c
                })
                .collect(),
            widths: vec![24.0, 24.0],
        });
    }
    if sections.timeseries {
        let points = series(pool, scope, p, p.from, p.to).await?;
        sheets.push(Sheet {
            name: "Serie Temporal".into(),
            header: [
                "Fecha",
                "Ventas",
                "Premios",
                "Comisiones",
                "Neto",
                "Tickets",
                "Ganadores",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
            rows: points
                .iter()
                .map(|x| {
                    vec![
                        text(x.timestamp.clone()),
                        Cell::Money(x.sales),
                        Cell::Money(x.payout),
                        Cell::Money(x.commissions),
                        Cell::Money(x.net),
                        Cell::Int(x.tickets),
                        Cell::Int(x.winners),
                    ]
                })
                .collect(),
            widths: vec![26.0],
        });
    }
    if sections.exposure {
        let e = exposure(pool, scope, p.bet_type.as_deref(), p.top).await?;
        sheets.push(Sheet {
            name: "Exposición".into(),
            header: [
                "Lotería",
                "Sorteo",
                "Número",
                "Ventas",
                "Pago Potencial",
                "Relación (%)",
                "Tickets",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
            rows: e
                .top_numbers
                .iter()
                .map(|n| {
                    vec![
                        text(n.loteria_name.clone()),
                        text(n.sorteo_name.clone()),
                        text(n.number.clone()),
                        Cell::Money(n.sales),
                        Cell::Money(n.potential_payout),
                        percent_cell(n.ratio),
                        Cell::Int(n.tickets),
                    ]
                })
                .collect(),
            widths: vec![20.0, 24.0],
        });
    }
    Ok(sheets)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn percentages_and_averages() {
        assert_eq!(
            pct(Decimal::new(-999543, 2), Decimal::new(22890, 2)),
            Decimal::new(-436672, 2)
        );
        assert_eq!(pct(Decimal::ONE, Decimal::ZERO), Decimal::ZERO);
        assert_eq!(avg(Decimal::new(22890, 2), 3), Decimal::new(7630, 2));
        assert_eq!(avg(Decimal::ONE, 0), Decimal::ZERO);
    }

    #[test]
    fn buckets_cover_the_period() {
        assert_eq!(
            buckets(d("2025-01-30"), d("2025-02-02"), Interval::Day).len(),
            4
        );
        assert_eq!(
            buckets(d("2025-01-01"), d("2025-01-14"), Interval::Week),
            vec![d("2024-12-30"), d("2025-01-06"), d("2025-01-13")]
        );
        assert_eq!(
            buckets(d("2025-01-15"), d("2025-03-01"), Interval::Month),
            vec![d("2025-01-01"), d("2025-02-01"), d("2025-03-01")]
        );
    }

    #[test]
    fn alerts_follow_the_thresholds() {
        assert_eq!(sales_alerts(Decimal::from(9_999))[0].kind, "LOW_SALES");
        assert!(sales_alerts(Decimal::from(10_000)).is_empty());
        let mut e = Exposure {
            open_sorteos: 0,
            total_sales: Decimal::ZERO,
            total_potential_payout: Decimal::ZERO,
            max_ratio: Decimal::from(60),
            top_numbers: vec![],
            heatmap: vec![],
            by_sorteo: vec![],
            by_loteria: vec![],
        };
        assert!(exposure_alerts(&e).is_empty());
        e.max_ratio = Decimal::new(605, 1);
        assert_eq!(exposure_alerts(&e)[0].severity, "warning");
        e.max_ratio = Decimal::from(81);
        assert_eq!(exposure_alerts(&e)[0].severity, "critical");
    }
}
