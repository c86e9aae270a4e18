//! `/reports/*` (domain-money §6.4): the wire shapes and the figures built from `db::reports`.
//! Each use case takes a [`Filter`] already narrowed to the caller's [`ReportScope`] (see
//! [`filter`]) and answers `(data, meta)` as JSON for `http::reports::{cached, live}`.
//!
//! Decisions:
//! * Evaluated money (profitability, lotería performance, rankings, commissions chart) is read
//!   from the rollups, so it equals the account statements to the cent: sales, prizes, listero
//!   commission, seller commission of USER origin. `neto`/`margenNeto` = sales − prizes −
//!   listero commission; a vendedor's `margen` = sales − prizes − its own (USER origin)
//!   commission, what its statement subtracts.
//! * The tickets summary, time analysis, cancelled list, winners-payments, exposure and the
//!   winners list read the tickets live (they include ACTIVE tickets of open sorteos, hours of
//!   sale, cancellations and payments).
//! * `pagos` of the summary and the payment figures of winners-payments are the payment
//!   records' running totals (`total_paid`, `remaining_amount`): a partial payment counts as
//!   paid for its part (the existing system split by ticket status PAID/EVALUATED).
//! * Exposure of a number is the exact potential payout of its NUMERO lines, Σ amount × the
//!   line's sale multiplier (30 when a line has none); REVENTADO lines add to sales only (their
//!   prize depends on the draw's extra multiplier). `maxPotentialPayout` is the largest number's
//!   exposure (only one number wins). Risk: share of the sorteo's sales > 15 % critical,
//!   > 10 % high, > 5 % medium.
//! * Percentages, ratios and durations are exact decimals rounded to 2 places (half away from
//!   zero, `domain::commission::money`), like every amount; JSON carries them as numbers.
//! * Ranking summaries cover the whole scope (before the `top` cut), so they agree with the
//!   other reports; `includeComparison` adds the previous period of equal length.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

use crate::db::reports::{
    self as db, Figures, Filter, Group, Population, SorteoHead, TicketFigures, TicketGroup,
};
use crate::domain::commission::{average as avg, money, percent_of as pct};
use crate::services::report_scope::ReportScope;

pub use crate::db::reports::{Filter as ReportFilter, WinnerFilter};

/// The rows of `scope` over the inclusive days `from..=to`. A scope that sees nothing gets a
/// banca id no row has (the nil uuid), so every figure comes out empty.
pub fn filter(scope: &ReportScope, from: NaiveDate, to: NaiveDate, tz: &str) -> Filter {
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
        from,
        to,
        tz: tz.to_string(),
    }
}

/// The same filter over the period of equal length just before it.
pub fn previous(f: &Filter) -> Filter {
    let days = (f.to - f.from).num_days() + 1;
    let to = f.from - chrono::Duration::days(1);
    Filter {
        from: to - chrono::Duration::days(days - 1),
        to,
        ..f.clone()
    }
}

fn pct_count(num: i64, den: i64) -> Decimal {
    pct(Decimal::from(num), Decimal::from(den))
}

/// Change from `before` to `now` in percent (`None` when there was nothing before).
fn change(now: Decimal, before: Decimal) -> Option<Decimal> {
    (!before.is_zero()).then(|| pct(now - before, before.abs()))
}

fn to_json(v: impl Serialize) -> Result<Value, sqlx::Error> {
    serde_json::to_value(v).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

/// An amount carried in a JSON number built by the database (numeric → JSON keeps at most 16
/// significant digits, which the shortest float form reproduces exactly).
fn json_money(v: &Value) -> Decimal {
    match v {
        Value::String(s) => s.parse().unwrap_or_default(),
        Value::Number(n) => n.to_string().parse().unwrap_or_default(),
        _ => Decimal::ZERO,
    }
}

fn range_meta(f: &Filter) -> Value {
    json!({"dateRange": {"from": f.from, "to": f.to}})
}

fn parse_id(key: &str) -> Option<Uuid> {
    Uuid::parse_str(key).ok()
}

/// Which breakdowns a report adds (as the existing system): by lotería without a lotería
/// filter, by sorteo with one; by ventana without ventana or vendedor filter; by vendedor with
/// a ventana filter and no vendedor filter.
struct Breakdowns {
    loteria: bool,
    sorteo: bool,
    ventana: bool,
    vendedor: bool,
}

fn breakdowns(f: &Filter) -> Breakdowns {
    Breakdowns {
        loteria: f.loteria_id.is_none(),
        sorteo: f.loteria_id.is_some(),
        ventana: f.ventana_id.is_none() && f.vendedor_id.is_none(),
        vendedor: f.vendedor_id.is_none() && f.ventana_id.is_some(),
    }
}

fn total(rows: Vec<Figures>) -> Figures {
    rows.into_iter().next().unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// GET /reports/tickets/summary

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Ventas {
    brutas: Decimal,
    tickets: i64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Anulaciones {
    monto: Decimal,
    cantidad: i64,
    /// `monto / (brutas + monto) × 100`.
    tasa: Decimal,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Pagos {
    total_pagado: Decimal,
    total_pendiente: Decimal,
    tickets_ganadores: i64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct NumberDto {
    number: String,
    total_amount: Decimal,
    jugadas_count: i64,
    rank: usize,
    percent_of_total: Decimal,
    #[serde(skip_serializing_if = "Option::is_none")]
    times_won: Option<i64>,
    /// Only with `includeExposure`: potential payout of the number's NUMERO lines in the
    /// sorteos of the period without a result (0 when none).
    #[serde(skip_serializing_if = "Option::is_none")]
    exposure: Option<Decimal>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Numeros {
    mas_jugados: Vec<NumberDto>,
    unicos: i64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct HoraPico {
    hour: u32,
    ventas: Decimal,
    tickets: i64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct LiveGroup {
    id: Option<Uuid>,
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parent_name: Option<String>,
    ventas: Decimal,
    premios: Decimal,
    tickets: i64,
}

fn live_groups(rows: Vec<TicketFigures>) -> Vec<LiveGroup> {
    rows.into_iter()
        .map(|r| LiveGroup {
            id: parse_id(&r.key),
            name: r.name,
            parent_name: r.parent_name,
            ventas: r.amount,
            premios: r.payouts,
            tickets: r.count,
        })
        .collect()
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct TicketsSummary {
    ventas: Ventas,
    premios_ganados: Decimal,
    margen_neto: Decimal,
    margen_porcentaje: Decimal,
    anulaciones: Anulaciones,
    pagos: Pagos,
    numeros: Numeros,
    hora_pico: Option<HoraPico>,
    by_loteria: Vec<LiveGroup>,
    by_sorteo: Vec<LiveGroup>,
}

fn number_dtos(rows: Vec<db::NumberFigures>, total: Decimal, wins: bool) -> Vec<NumberDto> {
    rows.into_iter()
        .enumerate()
        .map(|(i, n)| NumberDto {
            percent_of_total: pct(n.amount, total),
            number: n.number,
            total_amount: n.amount,
            jugadas_count: n.jugadas,
            rank: i + 1,
            times_won: wins.then_some(n.times_won),
            exposure: None,
        })
        .collect()
}

/// The tickets summary: live sold/cancelled/prize/payment totals, the 10 most played numbers,
/// the peak hour of sale and the split by lotería and sorteo.
pub async fn summary(pool: &PgPool, f: &Filter) -> Result<(Value, Value), sqlx::Error> {
    let db::LiveSummary {
        totals: t,
        hours,
        by_loteria,
        by_sorteo,
    } = db::tickets_summary(pool, f).await?;
    let (nums, unique, nums_total) = db::numbers(pool, f, None, 10).await?;
    // Rows come largest amount first; ties go to the earliest hour.
    let peak = hours
        .iter()
        .filter(|h| h.amount == hours[0].amount)
        .min_by_key(|h| h.key.parse::<u32>().unwrap_or(0))
        .map(|h| HoraPico {
            hour: h.key.parse().unwrap_or(0),
            ventas: h.amount,
            tickets: h.count,
        });
    let margen = t.gross - t.prizes;
    let data = TicketsSummary {
        ventas: Ventas {
            brutas: t.gross,
            tickets: t.tickets,
        },
        premios_ganados: t.prizes,
        margen_neto: margen,
        margen_porcentaje: pct(margen, t.gross),
        anulaciones: Anulaciones {
            monto: t.cancelled_amount,
            cantidad: t.cancelled,
            tasa: pct(t.cancelled_amount, t.gross + t.cancelled_amount),
        },
        pagos: Pagos {
            total_pagado: t.paid,
            total_pendiente: t.pending,
            tickets_ganadores: t.winners,
        },
        numeros: Numeros {
            mas_jugados: number_dtos(nums, nums_total, false),
            unicos: unique,
        },
        hora_pico: peak,
        by_loteria: live_groups(by_loteria),
        by_sorteo: live_groups(by_sorteo),
    };
    Ok((to_json(data)?, range_meta(f)))
}

// ---------------------------------------------------------------------------------------------
// GET /reports/tickets/winners-payments

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
struct BetTypeTotal {
    count: i64,
    amount: Decimal,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ByBetType {
    #[serde(rename = "NUMERO")]
    numero: BetTypeTotal,
    #[serde(rename = "REVENTADO")]
    reventado: BetTypeTotal,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct WinnersSummary {
    total_winning_tickets: i64,
    total_payout: Decimal,
    total_paid: Decimal,
    total_pending: Decimal,
    paid_count: i64,
    partial_payments_count: i64,
    unpaid_count: i64,
    expired_count: i64,
    expired_amount: Decimal,
    max_payout: Decimal,
    max_payout_ticket_id: Option<Uuid>,
    max_payout_ticket_number: Option<String>,
    by_bet_type: ByBetType,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct WinnerDto {
    id: Uuid,
    ticket_number: String,
    created_at: DateTime<Utc>,
    evaluated_at: Option<DateTime<Utc>>,
    loteria_id: Uuid,
    loteria_name: Option<String>,
    sorteo_id: Uuid,
    sorteo_name: Option<String>,
    ventana_id: Uuid,
    ventana_name: Option<String>,
    vendedor_id: Uuid,
    vendedor_name: Option<String>,
    total_amount: Decimal,
    total_payout: Decimal,
    total_paid: Decimal,
    remaining_amount: Decimal,
    /// `paid` (nothing left), `partial` (something paid, something left), `unpaid`.
    payment_status: &'static str,
    payment_count: i64,
    last_payment_at: Option<DateTime<Utc>>,
    is_expired: bool,
    hours_since_evaluation: Option<Decimal>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct WinnersPayments {
    summary: WinnersSummary,
    tickets: Vec<WinnerDto>,
}

/// Winning tickets with their payment state (summary over every match, one page of tickets).
pub async fn winners_payments(
    pool: &PgPool,
    f: &Filter,
    w: &WinnerFilter,
    page: &Paging<'_>,
) -> Result<(Value, Value), sqlx::Error> {
    let t = db::winner_totals(pool, f, w).await?;
    let rows = db::winner_page(pool, f, w, page.limit, page.offset).await?;
    let mut by_type = ByBetType {
        numero: BetTypeTotal::default(),
        reventado: BetTypeTotal::default(),
    };
    for b in t.by_bet_type.as_array().into_iter().flatten() {
        let total = BetTypeTotal {
            count: b["count"].as_i64().unwrap_or(0),
            amount: json_money(&b["amount"]),
        };
        match b["type"].as_str() {
            Some("NUMERO") => by_type.numero = total,
            Some("REVENTADO") => by_type.reventado = total,
            _ => {}
        }
    }
    let now = Utc::now();
    let tickets = rows
        .into_iter()
        .map(|r| WinnerDto {
            payment_status: if r.remaining_amount <= Decimal::ZERO {
                "paid"
            } else if r.total_paid > Decimal::ZERO {
                "partial"
            } else {
                "unpaid"
            },
            hours_since_evaluation: r
                .evaluated_at
                .map(|e| money(Decimal::from((now - e).num_seconds()) / Decimal::from(3600))),
            id: r.id,
            ticket_number: r.ticket_number,
            created_at: r.created_at,
            evaluated_at: r.evaluated_at,
            loteria_id: r.loteria_id,
            loteria_name: r.loteria_name,
            sorteo_id: r.sorteo_id,
            sorteo_name: r.sorteo_name,
            ventana_id: r.ventana_id,
            ventana_name: r.ventana_name,
            vendedor_id: r.vendedor_id,
            vendedor_name: r.vendedor_name,
            total_amount: r.total_amount,
            total_payout: r.total_payout,
            total_paid: r.total_paid,
            remaining_amount: r.remaining_amount,
            payment_count: r.payment_count,
            last_payment_at: r.last_payment_at,
            is_expired: r.expired,
        })
        .collect();
    let data = WinnersPayments {
        summary: WinnersSummary {
            total_winning_tickets: t.count,
            total_payout: t.payout,
            total_paid: t.paid,
            total_pending: t.pending,
            paid_count: t.count - t.partial - t.unpaid,
            partial_payments_count: t.partial,
            unpaid_count: t.unpaid,
            expired_count: t.expired,
            expired_amount: t.expired_amount,
            max_payout: t.max_payout,
            max_payout_ticket_id: t.max_payout_ticket_id,
            max_payout_ticket_number: t.max_payout_ticket_number,
            by_bet_type: by_type,
        },
        tickets,
    };
    Ok((to_json(data)?, page_meta(page, t.count, f)))
}

/// One page of a list: its window and the list `meta` for a total (built by the edge).
pub struct Paging<'a> {
    pub limit: i64,
    pub offset: i64,
    pub meta: &'a (dyn Fn(i64) -> Value + Send + Sync),
}

fn page_meta(page: &Paging<'_>, total: i64, f: &Filter) -> Value {
    let mut m = (page.meta)(total);
    if let Value::Object(o) = &mut m {
        o.insert("dateRange".into(), json!({"from": f.from, "to": f.to}));
    }
    m
}

// ---------------------------------------------------------------------------------------------
// GET /reports/tickets/numbers-analysis (+ /detail)

/// Options of the numbers analysis.
#[derive(Debug, Clone, Default)]
pub struct NumbersOptions {
    pub bet_type: Option<String>,
    pub top: i64,
    pub include_winners: bool,
    pub include_comparison: bool,
    /// Adds each number's open exposure (`exposure`, see `db::reports::open_exposure`).
    pub include_exposure: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct NumbersPeriod {
    from: NaiveDate,
    to: NaiveDate,
    numbers: Vec<NumberDto>,
    total_numbers_played: i64,
    total_amount: Decimal,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct NumbersSummary {
    total_numbers_played: i64,
    total_amount: Decimal,
    top_number: Option<String>,
    top_number_amount: Decimal,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct NumbersAnalysis {
    current_period: NumbersPeriod,
    #[serde(skip_serializing_if = "Option::is_none")]
    previous_period: Option<NumbersPeriod>,
    summary: NumbersSummary,
}

async fn numbers_period(
    pool: &PgPool,
    f: &Filter,
    o: &NumbersOptions,
) -> Result<NumbersPeriod, sqlx::Error> {
    let (rows, count, total) = db::numbers(pool, f, o.bet_type.as_deref(), o.top).await?;
    let mut numbers = number_dtos(rows, total, o.include_winners);
    if o.include_exposure && !numbers.is_empty() {
        let wanted: Vec<String> = numbers.iter().map(|n| n.number.clone()).collect();
        let open: std::collections::HashMap<String, Decimal> = db::open_exposure(pool, f, &wanted)
            .await?
            .into_iter()
            .collect();
        for n in &mut numbers {
            n.exposure = Some(open.get(&n.number).copied().unwrap_or_default());
        }
    }
    Ok(NumbersPeriod {
        from: f.from,
        to: f.to,
        numbers,
        total_numbers_played: count,
        total_amount: total,
    })
}

/// The most played numbers of the period (and of the previous one with the comparison).
pub async fn numbers_analysis(
    pool: &PgPool,
    f: &Filter,
    o: &NumbersOptions,
) -> Result<(Value, Value), sqlx::Error> {
    let current = numbers_period(pool, f, o).await?;
    let previous_period = if o.include_comparison {
        Some(numbers_period(pool, &previous(f), o).await?)
    } else {
        None
    };
    let summary = NumbersSummary {
        total_numbers_played: current.total_numbers_played,
        total_amount: current.total_amount,
        top_number: current.numbers.first().map(|n| n.number.clone()),
        top_number_amount: current
            .numbers
            .first()
            .map(|n| n.total_amount)
            .unwrap_or_default(),
    };
    let data = NumbersAnalysis {
        current_period: current,
        previous_period,
        summary,
    };
    let mut meta = range_meta(f);
    meta["comparisonEnabled"] = Value::Bool(o.include_comparison);
    meta["exposureEnabled"] = Value::Bool(o.include_exposure);
    Ok((to_json(data)?, meta))
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct NumberSorteoDto {
    sorteo_id: Uuid,
    sorteo_name: String,
    scheduled_at: DateTime<Utc>,
    total_amount: Decimal,
    jugadas_count: i64,
    by_vendedor: Value,
}

/// One number's sales per sorteo and seller (`f.loteria_id` is set by the route).
pub async fn number_detail(
    pool: &PgPool,
    f: &Filter,
    number: &str,
    loteria_name: &str,
    bet_type: Option<&str>,
) -> Result<(Value, Value), sqlx::Error> {
    let rows = db::number_detail(pool, f, number, bet_type).await?;
    let total: Decimal = rows.iter().map(|r| r.amount).sum();
    let jugadas: i64 = rows.iter().map(|r| r.jugadas).sum();
    let by_sorteo: Vec<NumberSorteoDto> = rows
        .into_iter()
        .map(|r| NumberSorteoDto {
            sorteo_id: r.sorteo_id,
            sorteo_name: r.sorteo_name,
            scheduled_at: r.scheduled_at,
            total_amount: r.amount,
            jugadas_count: r.jugadas,
            by_vendedor: r.by_vendedor,
        })
        .collect();
    let data = json!({
        "number": number,
        "loteriaId": f.loteria_id,
        "loteriaName": loteria_name,
        "summary": {"totalAmount": total, "jugadasCount": jugadas},
        "bySorteo": to_json(by_sorteo)?,
    });
    Ok((data, range_meta(f)))
}

// ---------------------------------------------------------------------------------------------
// GET /reports/tickets/cancelled

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct CancelledDto {
    id: Uuid,
    ticket_number: String,
    created_at: DateTime<Utc>,
    cancelled_at: Option<DateTime<Utc>>,
    loteria_id: Uuid,
    loteria_name: Option<String>,
    sorteo_id: Uuid,
    sorteo_name: Option<String>,
    ventana_id: Uuid,
    ventana_name: Option<String>,
    vendedor_id: Uuid,
    vendedor_name: Option<String>,
    cancelled_by_name: Option<String>,
    total_amount: Decimal,
    minutes_to_cancel: Option<Decimal>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct CancelledGroup {
    id: Option<Uuid>,
    name: Option<String>,
    cancelled_count: i64,
    cancelled_amount: Decimal,
}

fn cancelled_groups(rows: Vec<TicketFigures>) -> Vec<CancelledGroup> {
    rows.into_iter()
        .map(|r| CancelledGroup {
            id: parse_id(&r.key),
            name: r.name,
            cancelled_count: r.count,
            cancelled_amount: r.amount,
        })
        .collect()
}

/// Cancelled tickets of the period: summary, one page, and the breakdowns of the filters.
pub async fn cancelled(
    pool: &PgPool,
    f: &Filter,
    page: &Paging<'_>,
) -> Result<(Value, Value), sqlx::Error> {
    let (count, amount, minutes) = db::cancelled_totals(pool, f).await?;
    let all = db::all_tickets(pool, f).await?;
    let rows = db::cancelled_page(pool, f, page.limit, page.offset).await?;
    let tickets: Vec<CancelledDto> = rows
        .into_iter()
        .map(|r| CancelledDto {
            minutes_to_cancel: r.cancelled_at.map(|c| {
                money(Decimal::from((c - r.created_at).num_seconds()) / Decimal::from(60))
            }),
            id: r.id,
            ticket_number: r.ticket_number,
            created_at: r.created_at,
            cancelled_at: r.cancelled_at,
            loteria_id: r.loteria_id,
            loteria_name: r.loteria_name,
            sorteo_id: r.sorteo_id,
            sorteo_name: r.sorteo_name,
            ventana_id: r.ventana_id,
            ventana_name: r.ventana_name,
            vendedor_id: r.vendedor_id,
            vendedor_name: r.vendedor_name,
            cancelled_by_name: r.cancelled_by_name,
            total_amount: r.total_amount,
        })
        .collect();
    let mut data = json!({
        "summary": {
            "totalCancelled": count,
            "totalCancelledAmount": amount,
            "cancelledRate": pct_count(count, all),
            "averageCancelledAmount": avg(amount, count),
            "averageTimeToCancel": minutes.map(money).unwrap_or_default(),
        },
        "tickets": to_json(tickets)?,
    });
    let b = breakdowns(f);
    for (on, key, group) in [
        (b.ventana, "byVentana", TicketGroup::Ventana),
        (b.vendedor, "byVendedor", TicketGroup::Vendedor),
        (b.loteria, "byLoteria", TicketGroup::Loteria),
        (b.sorteo, "bySorteo", TicketGroup::Sorteo),
    ] {
        if on {
            let rows = db::ticket_groups(pool, f, Population::Cancelled, group).await?;
            data[key] = to_json(cancelled_groups(rows))?;
        }
    }
    Ok((data, page_meta(page, count, f)))
}

// ---------------------------------------------------------------------------------------------
// GET /reports/tickets/exposure

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct SorteoDto {
    id: Uuid,
    name: String,
    loteria_id: Uuid,
    loteria_name: String,
    scheduled_at: DateTime<Utc>,
    status: String,
}

impl From<&SorteoHead> for SorteoDto {
    fn from(s: &SorteoHead) -> Self {
        SorteoDto {
            id: s.id,
            name: s.name.clone(),
            loteria_id: s.loteria_id,
            loteria_name: s.loteria_name.clone(),
            scheduled_at: s.scheduled_at,
            status: s.status.clone(),
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ExposureNumber {
    number: String,
    total_amount: Decimal,
    tickets_count: i64,
    jugadas_count: i64,
    exposure: Decimal,
    /// Exposure ÷ NUMERO sales: the lines' weighted multiplier.
    multiplier: Decimal,
    percent_of_total: Decimal,
    risk_level: &'static str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ExposureAlert {
    #[serde(rename = "type")]
    kind: &'static str,
    number: String,
    message: String,
    severity: &'static str,
}

/// Exposure options.
#[derive(Debug, Clone, Copy)]
pub struct ExposureOptions {
    pub top: usize,
    pub min_exposure: Option<Decimal>,
}

/// Risk of a number holding `share` percent of the sorteo's sales.
pub fn risk_level(share: Decimal) -> &'static str {
    if share > Decimal::from(15) {
        "critical"
    } else if share > Decimal::TEN {
        "high"
    } else if share > Decimal::from(5) {
        "medium"
    } else {
        "low"
    }
}

/// Per-number exposure of sorteo `head` (`f.sorteo_id`), its alerts and the split per ventana.
pub async fn exposure(
    pool: &PgPool,
    f: &Filter,
    head: &SorteoHead,
    o: ExposureOptions,
) -> Result<(Value, Value), sqlx::Error> {
    let rows = db::exposure(pool, f).await?;
    let by_ventana = db::exposure_by_ventana(pool, f).await?;
    let total_sales: Decimal = rows.iter().map(|r| r.amount).sum();
    let total_exposure: Decimal = rows.iter().map(|r| r.exposure).sum();
    let max_exposure = rows.iter().map(|r| r.exposure).max().unwrap_or_default();
    let all: Vec<ExposureNumber> = rows
        .iter()
        .map(|r| {
            let share = pct(r.amount, total_sales);
            ExposureNumber {
                number: r.number.clone(),
                total_amount: r.amount,
                tickets_count: r.tickets,
                jugadas_count: r.jugadas,
                exposure: r.exposure,
                multiplier: if r.numero_amount.is_zero() {
                    Decimal::ZERO
                } else {
                    money(r.exposure / r.numero_amount)
                },
                percent_of_total: share,
                risk_level: risk_level(share),
            }
        })
        .collect();
    let high_risk = all
        .iter()
        .filter(|n| matches!(n.risk_level, "critical" | "high"))
        .count();
    let alerts: Vec<ExposureAlert> = all
        .iter()
        .filter(|n| n.percent_of_total > Decimal::TEN)
        .map(|n| ExposureAlert {
            kind: "HIGH_CONCENTRATION",
            number: n.number.clone(),
            message: format!(
                "El número {} tiene el {:.2}% de las ventas del sorteo",
                n.number, n.percent_of_total
            ),
            severity: if n.percent_of_total > Decimal::from(15) {
                "critical"
            } else {
                "warning"
            },
        })
        .collect();
    let count = all.len() as i64;
    let numbers: Vec<ExposureNumber> = all
        .into_iter()
        .filter(|n| o.min_exposure.is_none_or(|m| n.exposure >= m))
        .take(o.top)
        .collect();
    let by_ventana: Vec<Value> = by_ventana
        .into_iter()
        .map(|v| {
            json!({
                "ventanaId": v.ventana_id,
                "ventanaName": v.ventana_name,
                "ventas": v.amount,
                "exposure": v.exposure,
                "topNumber": v.top_number,
                "topNumberExposure": v.top_number_exposure,
            })
        })
        .collect();
    let data = json!({
        "sorteo": to_json(SorteoDto::from(head))?,
        "summary": {
            "totalVentas": total_sales,
            "totalExposure": total_exposure,
            "maxPotentialPayout": max_exposure,
            "highRiskNumbers": high_risk,
            "averageExposurePerNumber": avg(total_exposure, count),
        },
        "numbers": to_json(numbers)?,
        "alerts": to_json(alerts)?,
        "byVentana": by_ventana,
    });
    Ok((data, json!({"generatedAt": Utc::now()})))
}

// ---------------------------------------------------------------------------------------------
// GET /reports/tickets/profitability

/// `groupBy` of the profitability trend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TrendBy {
    Hour,
    Day,
    Week,
    Month,
}

impl TrendBy {
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "hour" => Some(TrendBy::Hour),
            "day" => Some(TrendBy::Day),
            "week" => Some(TrendBy::Week),
            "month" => Some(TrendBy::Month),
            _ => None,
        }
    }

    fn group(self) -> Group {
        match self {
            TrendBy::Hour => Group::Hour,
            TrendBy::Day => Group::Day,
            TrendBy::Week => Group::Week,
            TrendBy::Month => Group::Month,
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ProfitSummary {
    total_ventas: Decimal,
    total_premios: Decimal,
    /// Listero commission (what banca/ventana statements subtract).
    total_comisiones: Decimal,
    comision_vendedor: Decimal,
    margen_bruto: Decimal,
    margen_neto: Decimal,
    porcentaje_retorno: Decimal,
    porcentaje_margen: Decimal,
    tickets_count: i64,
    tickets_ganadores: i64,
    tasa_ganadores: Decimal,
}

fn profit_summary(t: &Figures) -> ProfitSummary {
    let bruto = t.sales - t.payouts;
    let neto = bruto - t.listero;
    ProfitSummary {
        total_ventas: t.sales,
        total_premios: t.payouts,
        total_comisiones: t.listero,
        comision_vendedor: t.vendedor,
        margen_bruto: bruto,
        margen_neto: neto,
        porcentaje_retorno: pct(t.payouts, t.sales),
        porcentaje_margen: pct(neto, t.sales),
        tickets_count: t.tickets,
        tickets_ganadores: t.winners,
        tasa_ganadores: pct_count(t.winners, t.tickets),
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ProfitRow {
    #[serde(skip_serializing_if = "Option::is_none")]
    period: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    ventas: Decimal,
    premios: Decimal,
    comisiones: Decimal,
    margen_bruto: Decimal,
    margen_neto: Decimal,
    porcentaje_margen: Decimal,
    tickets: i64,
}

fn profit_rows(rows: Vec<Figures>, by_period: bool) -> Vec<ProfitRow> {
    let mut out: Vec<ProfitRow> = rows
        .into_iter()
        .map(|r| {
            let bruto = r.sales - r.payouts;
            let neto = bruto - r.listero;
            ProfitRow {
                period: by_period.then(|| r.key.clone()),
                id: if by_period { None } else { parse_id(&r.key) },
                name: r.name,
                ventas: r.sales,
                premios: r.payouts,
                comisiones: r.listero,
                margen_bruto: bruto,
                margen_neto: neto,
                porcentaje_margen: pct(neto, r.sales),
                tickets: r.tickets,
            }
        })
        .collect();
    if !by_period {
        out.sort_by(|a, b| b.ventas.cmp(&a.ventas).then_with(|| a.name.cmp(&b.name)));
    }
    out
}

/// The figures of `rows` added up (a split of one filter adds up to its total: every figure
/// of the rollups is a sum, the ticket counts included).
fn sum_of(rows: &[Figures]) -> Figures {
    rows.iter().fold(Figures::default(), |mut t, r| {
        t.sales += r.sales;
        t.payouts += r.payouts;
        t.listero += r.listero;
        t.vendedor += r.vendedor;
        t.commission_total += r.commission_total;
        t.jugadas += r.jugadas;
        t.tickets += r.tickets;
        t.winners += r.winners;
        t
    })
}

/// Profitability of the evaluated sorteos of the period (rollups): summary, optional trend,
/// breakdowns, optional previous period. The summary is the sum of the lotería (or sorteo)
/// breakdown, which every request has, rather than one more pass over the rollups.
pub async fn profitability(
    pool: &PgPool,
    f: &Filter,
    group_by: Option<TrendBy>,
    comparison: bool,
) -> Result<(Value, Value), sqlx::Error> {
    let b = breakdowns(f);
    let mut splits = Vec::new();
    for (on, key, group) in [
        (b.loteria, "byLoteria", Group::Loteria),
        (b.sorteo, "bySorteo", Group::Sorteo),
        (b.ventana, "byVentana", Group::Ventana),
        (b.vendedor, "byVendedor", Group::Vendedor),
    ] {
        if on {
            splits.push((key, db::rollup_groups(pool, f, group, false).await?));
        }
    }
    // `loteria` and `sorteo` exclude each other and one of them is always on: the first split.
    let t = sum_of(
        splits
            .first()
            .map(|(_, rows)| rows.as_slice())
            .unwrap_or(&[]),
    );
    let summary = profit_summary(&t);
    let mut data = json!({"summary": to_json(&summary)?});
    if let Some(g) = group_by {
        let rows = db::rollup_groups(pool, f, g.group(), false).await?;
        data["trend"] = to_json(profit_rows(rows, true))?;
    }
    for (key, rows) in splits {
        data[key] = to_json(profit_rows(rows, false))?;
    }
    if comparison {
        let p = previous(f);
        let before = profit_summary(&total(
            db::rollup_groups(pool, &p, Group::Total, false).await?,
        ));
        data["previousPeriod"] = json!({
            "from": p.from,
            "to": p.to,
            "summary": to_json(&before)?,
            "changePercent": {
                "ventas": change(summary.total_ventas, before.total_ventas),
                "premios": change(summary.total_premios, before.total_premios),
                "margenNeto": change(summary.margen_neto, before.margen_neto),
            },
        });
    }
    let mut meta = range_meta(f);
    meta["groupBy"] = to_json(group_by)?;
    meta["comparisonEnabled"] = Value::Bool(comparison);
    Ok((data, meta))
}

// ---------------------------------------------------------------------------------------------
// GET /reports/tickets/time-analysis

/// `metric` of the time analysis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TimeMetric {
    Ventas,
    Tickets,
    Cancelaciones,
}

impl TimeMetric {
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "ventas" => Some(TimeMetric::Ventas),
            "tickets" => Some(TimeMetric::Tickets),
            "cancelaciones" => Some(TimeMetric::Cancelaciones),
            _ => None,
        }
    }
}

const DAY_NAMES: [&str; 7] = [
    "Domingo",
    "Lunes",
    "Martes",
    "Miércoles",
    "Jueves",
    "Viernes",
    "Sábado",
];

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct Slot {
    #[serde(skip_serializing_if = "Option::is_none")]
    hour: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    day: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    day_name: Option<&'static str>,
    count: i64,
    amount: Decimal,
}

/// `(count, amount)` per hour of sale (24) and per weekday (7) of one population.
type Counts = (Vec<(i64, Decimal)>, Vec<(i64, Decimal)>);

fn counts(rows: &[db::TimeSlot], cancelled: bool) -> Counts {
    let (mut hours, mut days) = (vec![(0, Decimal::ZERO); 24], vec![(0, Decimal::ZERO); 7]);
    for r in rows {
        let (count, amount) = if cancelled {
            (r.cancelled, r.cancelled_amount)
        } else {
            (r.sold, r.sold_amount)
        };
        if count == 0 {
            continue;
        }
        for (slot, i) in [(&mut hours, r.hour), (&mut days, r.dow)] {
            if let Some(s) = usize::try_from(i).ok().and_then(|i| slot.get_mut(i)) {
                s.0 += count;
                s.1 += amount;
            }
        }
    }
    (hours, days)
}

fn slots(counts: &[(i64, Decimal)], days: bool) -> Vec<Slot> {
    counts
        .iter()
        .zip(0u32..)
        .map(|(&(count, amount), i)| Slot {
            hour: (!days).then_some(i),
            day: days.then_some(i),
            day_name: days.then(|| DAY_NAMES[i as usize]),
            count,
            amount,
        })
        .collect()
}

/// The slot with the largest amount (ventas) or count (tickets, cancelaciones); the first on
/// ties; `None` when nothing happened.
fn peak(slots: &[Slot], by_amount: bool) -> Option<&Slot> {
    let mut best: Option<&Slot> = None;
    for s in slots {
        let better = match best {
            None => s.count > 0,
            Some(b) if by_amount => s.amount > b.amount,
            Some(b) => s.count > b.count,
        };
        if better {
            best = Some(s);
        }
    }
    best
}

/// Sales (or tickets, or cancellations) by hour of sale and by weekday of the business date.
pub async fn time_analysis(
    pool: &PgPool,
    f: &Filter,
    metric: TimeMetric,
) -> Result<(Value, Value), sqlx::Error> {
    let rows = db::time_slots(pool, f).await?;
    let (hours, days) = counts(&rows, metric == TimeMetric::Cancelaciones);
    let by_hour = slots(&hours, false);
    let by_day = slots(&days, true);
    let by_amount = metric == TimeMetric::Ventas;
    let ph = peak(&by_hour, by_amount);
    let pd = peak(&by_day, by_amount);
    let total_amount: Decimal = by_hour.iter().map(|s| s.amount).sum();
    let total_count: i64 = by_hour.iter().map(|s| s.count).sum();
    let mut data = json!({
        "byHour": to_json(&by_hour)?,
        "byDayOfWeek": to_json(&by_day)?,
        "summary": {
            "peakHour": ph.and_then(|s| s.hour),
            "peakHourAmount": ph.map(|s| s.amount).unwrap_or_default(),
            "peakHourCount": ph.map(|s| s.count).unwrap_or(0),
            "peakDay": pd.and_then(|s| s.day),
            "peakDayName": pd.and_then(|s| s.day_name),
            "peakDayAmount": pd.map(|s| s.amount).unwrap_or_default(),
            "totalAmount": total_amount,
            "totalCount": total_count,
            "averagePerHour": money(total_amount / Decimal::from(24)),
            "daysWithData": by_day.iter().filter(|d| d.count > 0).count(),
        },
    });
    if metric != TimeMetric::Cancelaciones {
        let c = slots(&counts(&rows, true).0, false);
        let cp = peak(&c, false);
        data["cancellations"] = json!({
            "byHour": to_json(c.iter().filter(|s| s.count > 0).collect::<Vec<_>>())?,
            "peakHour": cp.and_then(|s| s.hour),
            "totalCount": c.iter().map(|s| s.count).sum::<i64>(),
            "totalAmount": c.iter().map(|s| s.amount).sum::<Decimal>(),
        });
    }
    let mut meta = range_meta(f);
    meta["metric"] = to_json(metric)?;
    Ok((data, meta))
}

// ---------------------------------------------------------------------------------------------
// GET /reports/loterias/performance

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct LoteriaPerf {
    loteria_id: Option<Uuid>,
    loteria_name: Option<String>,
    is_active: bool,
    ventas_total: Decimal,
    tickets_count: i64,
    jugadas_count: i64,
    avg_ticket_amount: Decimal,
    payout_total: Decimal,
    winning_tickets_count: i64,
    commission_listero: Decimal,
    /// `ventas − payout − commissionListero`.
    neto: Decimal,
    margin: Decimal,
    payout_ratio: Decimal,
    #[serde(skip_serializing_if = "Option::is_none")]
    previous: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sorteos: Option<Vec<Value>>,
}

/// Evaluated figures per lotería (rollups), with its sorteos when one lotería is asked for.
pub async fn loterias_performance(
    pool: &PgPool,
    f: &Filter,
    comparison: bool,
) -> Result<(Value, Value), sqlx::Error> {
    let rows = db::rollup_groups(pool, f, Group::Loteria, false).await?;
    let prev = if comparison {
        db::rollup_groups(pool, &previous(f), Group::Loteria, false).await?
    } else {
        Vec::new()
    };
    let sorteos = if f.loteria_id.is_some() {
        Some(db::rollup_groups(pool, f, Group::Sorteo, false).await?)
    } else {
        None
    };
    let (mut ventas, mut payout, mut listero) = (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
    let mut out: Vec<LoteriaPerf> = rows
        .into_iter()
        .map(|r| {
            ventas += r.sales;
            payout += r.payouts;
            listero += r.listero;
            let neto = r.sales - r.payouts - r.listero;
            let previous = comparison.then(|| {
                let p = prev.iter().find(|p| p.key == r.key);
                let pv = p.map(|p| p.sales).unwrap_or_default();
                let pn = p
                    .map(|p| p.sales - p.payouts - p.listero)
                    .unwrap_or_default();
                json!({"ventasTotal": pv, "neto": pn, "ventasChange": change(r.sales, pv)})
            });
            let sorteos = sorteos.as_ref().map(|ss| {
                let mut v: Vec<&Figures> = ss
                    .iter()
                    .filter(|s| s.parent_id.map(|p| p.to_string()) == Some(r.key.clone()))
                    .collect();
                v.sort_by_key(|s| s.at);
                v.into_iter()
                    .map(|s| {
                        json!({
                            "sorteoId": parse_id(&s.key),
                            "sorteoName": s.name,
                            "scheduledAt": s.at,
                            "status": s.status,
                            "ventasTotal": s.sales,
                            "ticketsCount": s.tickets,
                            "payoutTotal": s.payouts,
                            "commissionListero": s.listero,
                            "neto": s.sales - s.payouts - s.listero,
                        })
                    })
                    .collect()
            });
            LoteriaPerf {
                loteria_id: parse_id(&r.key),
                loteria_name: r.name,
                is_active: r.active.unwrap_or(false),
                ventas_total: r.sales,
                tickets_count: r.tickets,
                jugadas_count: r.jugadas,
                avg_ticket_amount: avg(r.sales, r.tickets),
                payout_total: r.payouts,
                winning_tickets_count: r.winners,
                commission_listero: r.listero,
                neto,
                margin: pct(neto, r.sales),
                payout_ratio: pct(r.payouts, r.sales),
                previous,
                sorteos,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.ventas_total
            .cmp(&a.ventas_total)
            .then_with(|| a.loteria_name.cmp(&b.loteria_name))
    });
    let neto = ventas - payout - listero;
    let data = json!({
        "loterias": to_json(&out)?,
        "summary": {
            "totalVentas": ventas,
            "totalPayout": payout,
            "totalCommissionListero": listero,
            "totalNeto": neto,
            "overallMargin": pct(neto, ventas),
            "activeLoterias": out.iter().filter(|l| l.is_active).count(),
        },
    });
    let mut meta = range_meta(f);
    meta["comparisonEnabled"] = Value::Bool(comparison);
    Ok((data, meta))
}

// ---------------------------------------------------------------------------------------------
// GET /reports/ventanas/ranking

/// `sortBy` of the ventanas ranking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum VentanaSort {
    Ventas,
    Neto,
    Margin,
    Tickets,
}

impl VentanaSort {
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "ventas" => Some(VentanaSort::Ventas),
            "neto" => Some(VentanaSort::Neto),
            "margin" => Some(VentanaSort::Margin),
            "tickets" => Some(VentanaSort::Tickets),
            _ => None,
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct VentanaRank {
    ventana_id: Option<Uuid>,
    ventana_name: Option<String>,
    ventana_code: Option<String>,
    is_active: bool,
    ventas_total: Decimal,
    tickets_count: i64,
    avg_ticket_amount: Decimal,
    payout_total: Decimal,
    commission_listero: Decimal,
    winning_tickets_count: i64,
    /// `ventas − payout − commissionListero`.
    neto: Decimal,
    margin: Decimal,
    active_vendedores_count: i64,
    activity_days: i64,
    rank: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    previous: Option<Value>,
}

/// Ventanas ranked by `sort` (descending; ties by name), the first `top`.
pub async fn ventanas_ranking(
    pool: &PgPool,
    f: &Filter,
    top: usize,
    sort: VentanaSort,
    comparison: bool,
) -> Result<(Value, Value), sqlx::Error> {
    // Active vendedores and activity days are shown per ventana: counted here only.
    let rows = db::rollup_groups(pool, f, Group::Ventana, true).await?;
    let prev = if comparison {
        db::rollup_groups(pool, &previous(f), Group::Ventana, false).await?
    } else {
        Vec::new()
    };
    let (mut ventas, mut payout, mut listero) = (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
    let mut all: Vec<VentanaRank> = rows
        .into_iter()
        .map(|r| {
            ventas += r.sales;
            payout += r.payouts;
            listero += r.listero;
            let neto = r.sales - r.payouts - r.listero;
            let previous = comparison.then(|| {
                let p = prev.iter().find(|p| p.key == r.key);
                let pv = p.map(|p| p.sales).unwrap_or_default();
                let pn = p
                    .map(|p| p.sales - p.payouts - p.listero)
                    .unwrap_or_default();
                json!({"ventasTotal": pv, "neto": pn, "ventasChange": change(r.sales, pv)})
            });
            VentanaRank {
                ventana_id: parse_id(&r.key),
                ventana_name: r.name,
                ventana_code: r.code,
                is_active: r.active.unwrap_or(false),
                ventas_total: r.sales,
                tickets_count: r.tickets,
                avg_ticket_amount: avg(r.sales, r.tickets),
                payout_total: r.payouts,
                commission_listero: r.listero,
                winning_tickets_count: r.winners,
                neto,
                margin: pct(neto, r.sales),
                active_vendedores_count: r.sellers,
                activity_days: r.days,
                rank: 0,
                previous,
            }
        })
        .collect();
    all.sort_by(|a, b| {
        let o = match sort {
            VentanaSort::Ventas => b.ventas_total.cmp(&a.ventas_total),
            VentanaSort::Neto => b.neto.cmp(&a.neto),
            VentanaSort::Margin => b.margin.cmp(&a.margin),
            VentanaSort::Tickets => b.tickets_count.cmp(&a.tickets_count),
        };
        o.then_with(|| a.ventana_name.cmp(&b.ventana_name))
    });
    let count = all.len();
    let margins: Decimal = all.iter().map(|v| v.margin).sum();
    all.truncate(top);
    for (i, v) in all.iter_mut().enumerate() {
        v.rank = i + 1;
    }
    let data = json!({
        "ventanas": to_json(&all)?,
        "summary": {
            "totalVentas": ventas,
            "totalPayout": payout,
            "totalCommissionListero": listero,
            "totalNeto": ventas - payout - listero,
            "ventanasCount": count,
            "averageMargin": avg(margins, count as i64),
        },
    });
    let mut meta = range_meta(f);
    meta["sortBy"] = to_json(sort)?;
    meta["top"] = json!(top);
    meta["comparisonEnabled"] = Value::Bool(comparison);
    Ok((data, meta))
}

// ---------------------------------------------------------------------------------------------
// GET /reports/vendedores/ranking and /vendedores/commissions-chart

/// `sortBy` of the vendedores ranking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum VendedorSort {
    Ventas,
    Tickets,
    Comisiones,
    Margen,
}

impl VendedorSort {
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "ventas" => Some(VendedorSort::Ventas),
            "tickets" => Some(VendedorSort::Tickets),
            "comisiones" => Some(VendedorSort::Comisiones),
            "margen" => Some(VendedorSort::Margen),
            _ => None,
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct VendedorRank {
    vendedor_id: Option<Uuid>,
    vendedor_name: Option<String>,
    vendedor_code: Option<String>,
    ventana_id: Option<Uuid>,
    ventana_name: Option<String>,
    is_active: bool,
    ventas_total: Decimal,
    tickets_count: i64,
    avg_ticket_amount: Decimal,
    premios_total: Decimal,
    /// The seller's own commission (USER origin), what its statement subtracts.
    comisiones: Decimal,
    comision_listero: Decimal,
    /// `ventas − premios − comisiones`.
    margen: Decimal,
    margen_porcentaje: Decimal,
    winning_tickets_count: i64,
    activity_days: i64,
    rank: usize,
}

fn vendedor_rank(r: Figures) -> VendedorRank {
    let margen = r.sales - r.payouts - r.vendedor;
    VendedorRank {
        vendedor_id: parse_id(&r.key),
        vendedor_name: r.name,
        vendedor_code: r.code,
        ventana_id: r.parent_id,
        ventana_name: r.parent_name,
        is_active: r.active.unwrap_or(false),
        ventas_total: r.sales,
        tickets_count: r.tickets,
        avg_ticket_amount: avg(r.sales, r.tickets),
        premios_total: r.payouts,
        comisiones: r.vendedor,
        comision_listero: r.listero,
        margen,
        margen_porcentaje: pct(margen, r.sales),
        winning_tickets_count: r.winners,
        activity_days: r.days,
        rank: 0,
    }
}

/// Vendedores ranked by `sort` (descending; ties by name), the first `top`; inactive or
/// deleted sellers only with `include_inactive`.
pub async fn vendedores_ranking(
    pool: &PgPool,
    f: &Filter,
    top: usize,
    sort: VendedorSort,
    include_inactive: bool,
) -> Result<(Value, Value), sqlx::Error> {
    let rows = db::rollup_groups(pool, f, Group::Vendedor, true).await?;
    let mut all: Vec<VendedorRank> = rows
        .into_iter()
        .map(vendedor_rank)
        .filter(|v| include_inactive || v.is_active)
        .collect();
    let ventas: Decimal = all.iter().map(|v| v.ventas_total).sum();
    let premios: Decimal = all.iter().map(|v| v.premios_total).sum();
    let comisiones: Decimal = all.iter().map(|v| v.comisiones).sum();
    all.sort_by(|a, b| {
        let o = match sort {
            VendedorSort::Ventas => b.ventas_total.cmp(&a.ventas_total),
            VendedorSort::Tickets => b.tickets_count.cmp(&a.tickets_count),
            VendedorSort::Comisiones => b.comisiones.cmp(&a.comisiones),
            VendedorSort::Margen => b.margen.cmp(&a.margen),
        };
        o.then_with(|| a.vendedor_name.cmp(&b.vendedor_name))
    });
    let count = all.len();
    all.truncate(top);
    for (i, v) in all.iter_mut().enumerate() {
        v.rank = i + 1;
    }
    let data = json!({
        "vendedores": to_json(&all)?,
        "summary": {
            "totalVentas": ventas,
            "totalPremios": premios,
            "totalComisiones": comisiones,
            "totalMargen": ventas - premios - comisiones,
            "vendedoresCount": count,
        },
    });
    let mut meta = range_meta(f);
    meta["sortBy"] = to_json(sort)?;
    meta["top"] = json!(top);
    meta["includeInactive"] = Value::Bool(include_inactive);
    Ok((data, meta))
}

/// Per vendedor of the ventana `f.ventana_id`: sales and the two commissions.
pub async fn commissions_chart(pool: &PgPool, f: &Filter) -> Result<(Value, Value), sqlx::Error> {
    let mut rows = db::rollup_groups(pool, f, Group::Vendedor, false).await?;
    rows.sort_by(|a, b| b.sales.cmp(&a.sales).then_with(|| a.name.cmp(&b.name)));
    let (mut ventas, mut vend, mut listero) = (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
    let items: Vec<Value> = rows
        .iter()
        .map(|r| {
            ventas += r.sales;
            vend += r.vendedor;
            listero += r.listero;
            json!({
                "vendedorId": parse_id(&r.key),
                "vendedorName": r.name,
                "ventasTotal": r.sales,
                "ticketsCount": r.tickets,
                "comisionVendedor": r.vendedor,
                "comisionListero": r.listero,
                "gananciaListero": r.listero - r.vendedor,
                "porcentajeComision": pct(r.vendedor, r.sales),
            })
        })
        .collect();
    let data = json!({
        "ventanaId": f.ventana_id,
        "vendedores": items,
        "totals": {
            "ventasTotal": ventas,
            "comisionVendedor": vend,
            "comisionListero": listero,
            "gananciaListero": listero - vend,
        },
    });
    Ok((data, range_meta(f)))
}

// ---------------------------------------------------------------------------------------------
// GET /reports/winners-list/{sorteoId}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct WinnersListTicket {
    ticket_id: Uuid,
    ticket_number: String,
    cliente_nombre: String,
    vendedor_id: Uuid,
    vendedor_name: Option<String>,
    ventana_name: Option<String>,
    status: String,
    /// Σ amount of its winning lines.
    total_amount: Decimal,
    total_payout: Decimal,
    total_paid: Decimal,
    remaining_amount: Decimal,
    winning_jugadas: Value,
}

/// The printable winners of sorteo `head` in the scope of `f`; `vendedor_name` heads the list
/// when one seller was asked for.
pub async fn winners_list(
    pool: &PgPool,
    f: &Filter,
    head: &SorteoHead,
    vendedor_name: Option<String>,
) -> Result<(Value, Value), sqlx::Error> {
    let rows = db::winning_tickets(pool, f).await?;
    let (mut amount, mut payout, mut by_numero, mut by_reventado) =
        (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
    let (mut paid, mut pending) = (Decimal::ZERO, Decimal::ZERO);
    let tickets: Vec<WinnersListTicket> = rows
        .into_iter()
        .map(|t| {
            let mut ticket_amount = Decimal::ZERO;
            for j in t.jugadas.as_array().into_iter().flatten() {
                ticket_amount += json_money(&j["amount"]);
                let p = json_money(&j["payout"]);
                match j["type"].as_str() {
                    Some("REVENTADO") => by_reventado += p,
                    _ => by_numero += p,
                }
            }
            amount += ticket_amount;
            payout += t.total_payout;
            paid += t.total_paid;
            pending += t.remaining_amount;
            WinnersListTicket {
                ticket_id: t.id,
                ticket_number: t.ticket_number,
                cliente_nombre: t.cliente_nombre,
                vendedor_id: t.vendedor_id,
                vendedor_name: t.vendedor_name,
                ventana_name: t.ventana_name,
                status: t.status,
                total_amount: ticket_amount,
                total_payout: t.total_payout,
                total_paid: t.total_paid,
                remaining_amount: t.remaining_amount,
                winning_jugadas: t.jugadas,
            }
        })
        .collect();
    let vendedor = match vendedor_name {
        Some(n) => n,
        None => {
            let first = tickets.first().and_then(|t| t.vendedor_name.clone());
            match first {
                Some(n) if tickets.iter().all(|t| t.vendedor_name.as_ref() == Some(&n)) => n,
                _ => "Todos".to_string(),
            }
        }
    };
    let data = json!({
        "sorteo": {
            "id": head.id,
            "name": head.name,
            "scheduledAt": head.scheduled_at,
            "status": head.status,
            "winningNumber": head.winning_number,
            "isReventado": head.extra_outcome_code.is_some(),
            "extraOutcomeCode": head.extra_outcome_code,
            "extraMultiplierX": head.extra_multiplier_x,
        },
        "loteria": {"id": head.loteria_id, "name": head.loteria_name},
        "vendedor": {"id": f.vendedor_id, "name": vendedor},
        "printDateTime": Utc::now(),
        "tickets": to_json(&tickets)?,
        "totals": {
            "count": tickets.len(),
            "totalAmount": amount,
            "totalPayout": payout,
            "totalPayoutByNumber": by_numero,
            "totalPayoutByReventado": by_reventado,
            "totalPaid": paid,
            "totalPending": pending,
        },
    });
    Ok((data, json!({})))
}

// ---------------------------------------------------------------------------------------------
// Look-ups of the routes.

/// Sorteo `id` when it is not deleted and belongs to banca `banca` (any banca when `None`).
pub async fn sorteo(
    pool: &PgPool,
    id: Uuid,
    banca: Option<Uuid>,
) -> Result<Option<SorteoHead>, sqlx::Error> {
    db::sorteo_head(pool, id, banca).await
}

/// A lotería's name when banca `banca` may see it (its own or a global one).
pub async fn loteria_name(
    pool: &PgPool,
    id: Uuid,
    banca: Option<Uuid>,
) -> Result<Option<String>, sqlx::Error> {
    db::loteria_name(pool, id, banca).await
}

/// A user's name.
pub async fn user_name(pool: &PgPool, id: Uuid) -> Result<Option<String>, sqlx::Error> {
    db::user_name(pool, id).await
}
