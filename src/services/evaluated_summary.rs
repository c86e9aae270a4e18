//! `GET /sorteos/evaluated-summary`: the seller's day-by-day ledger (domain-money §1.10).
//!
//! The caller is always the seller. Each business day of the range lists its events — the
//! seller's EVALUATED sorteos (at their draw time) and its movements (payments to it: `+amount`,
//! collections from it: `−amount`, at their date and `HH:MM`) — oldest first, with a running
//! `accumulated` that starts at the remaining balance of the seller's latest statement before
//! the range (0 without one). A balance reset (`users.settings.balanceResetAt`) sets the running
//! total to 0 at its instant and, unless ignored, hides the days, tickets and movements before
//! it. Figures come from two set-based queries (per sorteo, per sorteo and multiplier) and one
//! for the movements, whatever the number of sorteos.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

use crate::db::evaluated_summary::{self as db, MovementRow, Population, SorteoTotalsRow};
use crate::domain::schedule;

/// What the route resolved from the query.
#[derive(Debug, Clone)]
pub struct SummaryParams {
    pub vendedor_id: Uuid,
    /// First and last business day (inclusive).
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub loteria_id: Option<Uuid>,
    /// `isActive=false`: the inactive tickets.
    pub inactive: bool,
    /// Leave out `byMultiplier`.
    pub summary_only: bool,
    /// Show what came before a balance reset (only ever true for a non-VENDEDOR caller).
    pub ignore_reset: bool,
    /// The `date` token as the client sent it (`today` by default), echoed in `meta`.
    pub date_filter: String,
    pub today: NaiveDate,
    pub tz: Tz,
}

/// One multiplier bucket of a sorteo.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MultiplierSummary {
    pub multiplier_id: Option<Uuid>,
    pub multiplier_name: Option<String>,
    pub multiplier_value: Option<Decimal>,
    /// `NUMERO` or `REVENTADO`.
    pub kind: String,
    pub total_sales: Decimal,
    pub total_commission: Decimal,
    pub commission_by_number: Decimal,
    pub commission_by_reventado: Decimal,
    pub total_prizes: Decimal,
    pub subtotal: Decimal,
    pub ticket_count: i64,
    pub jugada_count: i64,
    pub winning_tickets_count: i64,
    pub paid_tickets_count: i64,
    pub unpaid_tickets_count: i64,
}

/// One event of a day: an evaluated sorteo, or a movement (`sorteoId = "mov-<id>"`, with
/// `type`, `amount`, `method` and `notes`), in the existing system's shape.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LedgerEvent {
    pub sorteo_id: String,
    pub sorteo_name: String,
    /// Business-local ISO instant with offset.
    pub scheduled_at: String,
    /// `YYYY-MM-DD` (business day).
    pub date: String,
    /// `h:mm AM`.
    pub time: String,
    pub loteria_id: Option<Uuid>,
    pub loteria_name: Option<String>,
    pub winning_number: Option<String>,
    pub extra_outcome_code: Option<String>,
    pub is_reventado: bool,
    pub total_sales: Decimal,
    pub total_commission: Decimal,
    pub commission_by_number: Decimal,
    pub commission_by_reventado: Decimal,
    pub total_prizes: Decimal,
    pub ticket_count: i64,
    /// Sorteo: sales − commission − prizes. Movement: +amount (payment) or −amount
    /// (collection).
    pub subtotal: Decimal,
    /// The running balance after this event.
    pub accumulated: Decimal,
    /// 1 = the oldest event of the answer.
    pub chronological_index: usize,
    pub total_chronological: usize,
    pub winning_tickets_count: i64,
    pub paid_tickets_count: i64,
    pub unpaid_tickets_count: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by_multiplier: Option<Vec<MultiplierSummary>>,
    /// Movements only: `payment` or `collection`.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub movement_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    #[serde(skip)]
    instant: DateTime<Utc>,
    #[serde(skip)]
    is_movement: bool,
}

/// The figures of a day, of the whole answer (`meta.totals`) or of the month.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Totals {
    pub total_sales: Decimal,
    pub total_commission: Decimal,
    pub commission_by_number: Decimal,
    pub commission_by_reventado: Decimal,
    pub total_prizes: Decimal,
    pub total_tickets: i64,
    pub total_paid: Decimal,
    pub total_collected: Decimal,
    /// sales − prizes − commission.
    pub total_balance: Decimal,
    /// balance − collected + paid.
    pub total_remaining_balance: Decimal,
    /// The existing system's name for `totalRemainingBalance`.
    pub total_subtotal: Decimal,
    /// The running balance at the end (of the day, of the answer, of the month so far).
    pub accumulated: Decimal,
}

impl Totals {
    fn add_sorteo(&mut self, e: &LedgerEvent) {
        self.total_sales += e.total_sales;
        self.total_commission += e.total_commission;
        self.commission_by_number += e.commission_by_number;
        self.commission_by_reventado += e.commission_by_reventado;
        self.total_prizes += e.total_prizes;
        self.total_tickets += e.ticket_count;
    }

    fn add(&mut self, o: &Totals) {
        self.total_sales += o.total_sales;
        self.total_commission += o.total_commission;
        self.commission_by_number += o.commission_by_number;
        self.commission_by_reventado += o.commission_by_reventado;
        self.total_prizes += o.total_prizes;
        self.total_tickets += o.total_tickets;
        self.total_paid += o.total_paid;
        self.total_collected += o.total_collected;
    }

    fn finish(&mut self, accumulated: Decimal) {
        self.total_balance = self.total_sales - self.total_prizes - self.total_commission;
        self.total_remaining_balance = self.total_balance - self.total_collected + self.total_paid;
        self.total_subtotal = self.total_remaining_balance;
        self.accumulated = accumulated;
    }
}

/// One business day.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LedgerDay {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// Sorteos and movements, oldest first.
    pub sorteos: Vec<LedgerEvent>,
    pub day_totals: Totals,
}

/// `meta` of the answer.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SummaryMeta {
    pub totals: Totals,
    /// The current business month up to today, every lotería, active tickets; its balances
    /// include the balance brought from before the month.
    pub monthly_accumulated: Totals,
    /// The `date` token.
    pub date_filter: String,
    /// The business days read (`YYYY-MM-DD`).
    pub from_date: String,
    pub to_date: String,
    /// The running balance before the first day.
    pub opening_balance: Decimal,
    pub total_sorteos: usize,
    pub total_days: usize,
}

/// A ledger of some days.
struct Ledger {
    days: Vec<LedgerDay>,
    totals: Totals,
    opening: Decimal,
    sorteo_count: usize,
}

/// The seller's ledger of `p.from..=p.to` and the month's figures.
pub async fn evaluated_summary(
    pool: &PgPool,
    p: &SummaryParams,
) -> Result<(Vec<LedgerDay>, SummaryMeta), sqlx::Error> {
    let reset = db::balance_reset_at(pool, p.vendedor_id)
        .await?
        .and_then(|raw| match DateTime::parse_from_rfc3339(raw.trim()) {
            Ok(t) => Some(t.with_timezone(&Utc)),
            Err(e) => {
                tracing::warn!(vendedor_id = %p.vendedor_id, error = %e, "unreadable balanceResetAt ignored");
                None
            }
        });
    let main = ledger(
        pool,
        p,
        p.from,
        p.to,
        p.loteria_id,
        !p.inactive,
        p.summary_only,
        reset,
    )
    .await?;
    let month_start = p.today.with_day(1).unwrap_or(p.today);
    let monthly =
        if p.from == month_start && p.to == p.today && p.loteria_id.is_none() && !p.inactive {
            monthly_of(&main)
        } else {
            let month = ledger(pool, p, month_start, p.today, None, true, true, reset).await?;
            monthly_of(&month)
        };
    let meta = SummaryMeta {
        totals: main.totals.clone(),
        monthly_accumulated: monthly,
        date_filter: p.date_filter.clone(),
        from_date: p.from.format("%Y-%m-%d").to_string(),
        to_date: p.to.format("%Y-%m-%d").to_string(),
        opening_balance: main.opening,
        total_sorteos: main.sorteo_count,
        total_days: main.days.len(),
    };
    Ok((main.days, meta))
}

/// The month's figures: its sums, with the balances carried from before the month.
fn monthly_of(l: &Ledger) -> Totals {
    let mut t = l.totals.clone();
    t.total_balance += l.opening;
    t.total_remaining_balance += l.opening;
    t.total_subtotal += l.opening;
    t
}

#[allow(clippy::too_many_arguments)]
async fn ledger(
    pool: &PgPool,
    p: &SummaryParams,
    from: NaiveDate,
    to: NaiveDate,
    loteria_id: Option<Uuid>,
    active: bool,
    summary_only: bool,
    reset: Option<DateTime<Utc>>,
) -> Result<Ledger, sqlx::Error> {
    let tz = p.tz;
    let range_start = schedule::day_start(from, tz);
    // What a reset hides: the days before its day, and the tickets and movements created
    // before it.
    let hide = reset.filter(|_| !p.ignore_reset);
    let first_day = match hide {
        Some(r) => from.max(schedule::local_date(r, tz)),
        None => from,
    };

    // The opening balance: the latest statement before the range, unless a reset since
    // zeroed it.
    let stmt = db::balance_before(pool, p.vendedor_id, from).await?;
    let mut accumulated = stmt.map(|(_, b)| b).unwrap_or_default();
    let mut crossed = false;
    if let Some(r) = reset {
        if r <= range_start {
            crossed = true;
            if stmt.is_some_and(|(d, _)| d < schedule::local_date(r, tz)) {
                accumulated = Decimal::ZERO;
            }
        }
    }
    let opening = accumulated;

    let mut events: Vec<LedgerEvent> = Vec::new();
    let mut sorteo_count = 0;
    if first_day <= to {
        let (from_at, to_at) = schedule::day_range_instants(Some(first_day), Some(to), tz);
        let pop = Population {
            vendedor_id: p.vendedor_id,
            active,
            from_at: from_at.unwrap_or(range_start),
            to_at: to_at.unwrap_or(DateTime::<Utc>::MAX_UTC),
            from_day: first_day,
            to_day: to,
            loteria_id,
            created_since: hide,
        };
        let rows = db::sorteo_totals(pool, &pop).await?;
        let mut by_multiplier: HashMap<Uuid, Vec<MultiplierSummary>> = HashMap::new();
        if !summary_only && !rows.is_empty() {
            for m in db::multiplier_totals(pool, &pop).await? {
                by_multiplier
                    .entry(m.sorteo_id)
                    .or_default()
                    .push(MultiplierSummary {
                        multiplier_id: m.multiplier_id,
                        multiplier_name: m.name,
                        multiplier_value: m.value_x,
                        kind: m.kind,
                        subtotal: m.total_sales - m.total_commission - m.total_prizes,
                        total_sales: m.total_sales,
                        total_commission: m.total_commission,
                        commission_by_number: m.commission_by_number,
                        commission_by_reventado: m.commission_by_reventado,
                        total_prizes: m.total_prizes,
                        ticket_count: m.ticket_count,
                        jugada_count: m.jugada_count,
                        winning_tickets_count: m.winning_tickets,
                        paid_tickets_count: m.paid_tickets,
                        unpaid_tickets_count: m.winning_tickets - m.paid_tickets,
                    });
            }
        }
        sorteo_count = rows.len();
        for row in rows {
            let mults =
                (!summary_only).then(|| by_multiplier.remove(&row.sorteo_id).unwrap_or_default());
            events.push(sorteo_event(row, mults, tz));
        }
        for m in db::movements(pool, p.vendedor_id, first_day, to, hide).await? {
            events.push(movement_event(m, summary_only, tz));
        }
    }
    // Chronological: by instant, a sorteo before a movement of the same instant.
    events.sort_by(|a, b| {
        (a.instant, a.is_movement, &a.sorteo_id).cmp(&(b.instant, b.is_movement, &b.sorteo_id))
    });

    let total = events.len();
    let mut days: Vec<LedgerDay> = Vec::new();
    let mut totals = Totals::default();
    for (i, mut e) in events.into_iter().enumerate() {
        if let Some(r) = reset {
            if !crossed && e.instant >= r {
                accumulated = Decimal::ZERO;
                crossed = true;
            }
        }
        accumulated += e.subtotal;
        e.accumulated = accumulated;
        e.chronological_index = i + 1;
        e.total_chronological = total;
        let date = e.date.clone();
        if days.last().is_none_or(|d| d.date != date) {
            days.push(LedgerDay {
                date,
                sorteos: Vec::new(),
                day_totals: Totals::default(),
            });
        }
        let day = days.last_mut().expect("a day was just pushed");
        if e.is_movement {
            let amount = e.amount.unwrap_or_default();
            if e.movement_type.as_deref() == Some("payment") {
                day.day_totals.total_paid += amount;
            } else {
                day.day_totals.total_collected += amount;
            }
        } else {
            day.day_totals.add_sorteo(&e);
        }
        day.day_totals.accumulated = accumulated;
        day.sorteos.push(e);
    }
    for d in &mut days {
        d.day_totals.finish(d.day_totals.accumulated);
        totals.add(&d.day_totals);
    }
    // A reset inside the range with no later event still leaves the balance at 0.
    if let Some(r) = reset {
        let range_end = schedule::day_range_instants(None, Some(to), tz).1;
        if !crossed && range_end.is_some_and(|end| r < end) {
            accumulated = Decimal::ZERO;
        }
    }
    totals.finish(accumulated);
    Ok(Ledger {
        days,
        totals,
        opening,
        sorteo_count,
    })
}

fn time_12h(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz).format("%-I:%M %p").to_string()
}

fn sorteo_event(
    row: SorteoTotalsRow,
    by_multiplier: Option<Vec<MultiplierSummary>>,
    tz: Tz,
) -> LedgerEvent {
    let day = schedule::local_date(row.scheduled_at, tz);
    let is_reventado = row.extra_multiplier_id.is_some()
        || row.extra_multiplier_x.is_some_and(|x| x > Decimal::ZERO);
    LedgerEvent {
        sorteo_id: row.sorteo_id.to_string(),
        sorteo_name: row.name,
        scheduled_at: schedule::local_iso(row.scheduled_at, tz),
        date: day.format("%Y-%m-%d").to_string(),
        time: time_12h(row.scheduled_at, tz),
        loteria_id: Some(row.loteria_id),
        loteria_name: Some(row.loteria_name),
        winning_number: row.winning_number,
        extra_outcome_code: row.extra_outcome_code,
        is_reventado,
        subtotal: row.total_sales - row.total_commission - row.total_prizes,
        total_sales: row.total_sales,
        total_commission: row.total_commission,
        commission_by_number: row.commission_by_number,
        commission_by_reventado: row.commission_by_reventado,
        total_prizes: row.total_prizes,
        ticket_count: row.ticket_count,
        accumulated: Decimal::ZERO,
        chronological_index: 0,
        total_chronological: 0,
        winning_tickets_count: row.winning_tickets,
        paid_tickets_count: row.paid_tickets,
        unpaid_tickets_count: row.winning_tickets - row.paid_tickets,
        by_multiplier,
        movement_type: None,
        amount: None,
        method: None,
        notes: None,
        instant: row.scheduled_at,
        is_movement: false,
    }
}

fn movement_event(m: MovementRow, summary_only: bool, tz: Tz) -> LedgerEvent {
    // The movement happened at its business date and HH:MM; an unreadable time falls back to
    // the start of its day.
    let instant = NaiveTime::parse_from_str(m.time.trim(), "%H:%M")
        .map(|t| schedule::local_to_utc(m.date.and_time(t), tz))
        .unwrap_or_else(|_| schedule::day_start(m.date, tz));
    let payment = m.kind == "payment";
    let subtotal = if payment { m.amount } else { -m.amount };
    LedgerEvent {
        sorteo_id: format!("mov-{}", m.id),
        sorteo_name: if payment {
            "Pago recibido".into()
        } else {
            "Cobro realizado".into()
        },
        scheduled_at: schedule::local_iso(instant, tz),
        date: m.date.format("%Y-%m-%d").to_string(),
        time: time_12h(instant, tz),
        loteria_id: None,
        loteria_name: None,
        winning_number: None,
        extra_outcome_code: None,
        is_reventado: false,
        total_sales: Decimal::ZERO,
        total_commission: Decimal::ZERO,
        commission_by_number: Decimal::ZERO,
        commission_by_reventado: Decimal::ZERO,
        total_prizes: Decimal::ZERO,
        ticket_count: 0,
        subtotal,
        accumulated: Decimal::ZERO,
        chronological_index: 0,
        total_chronological: 0,
        winning_tickets_count: 0,
        paid_tickets_count: 0,
        unpaid_tickets_count: 0,
        by_multiplier: (!summary_only).then(Vec::new),
        movement_type: Some(m.kind),
        amount: Some(m.amount),
        method: Some(m.method),
        notes: Some(m.notes.unwrap_or_default()),
        instant,
        is_movement: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_finish_derives_the_balances() {
        let mut t = Totals {
            total_sales: Decimal::new(10000, 2),
            total_commission: Decimal::new(500, 2),
            total_prizes: Decimal::new(2000, 2),
            total_paid: Decimal::new(300, 2),
            total_collected: Decimal::new(1000, 2),
            ..Totals::default()
        };
        t.finish(Decimal::new(42, 0));
        assert_eq!(t.total_balance, Decimal::new(7500, 2));
        assert_eq!(t.total_remaining_balance, Decimal::new(6800, 2));
        assert_eq!(t.total_subtotal, t.total_remaining_balance);
        assert_eq!(t.accumulated, Decimal::new(42, 0));
    }
}
