//! Account statement reads (domain-money §5.6, §5.7): who may read which statements, the
//! day-by-day statement with its totals and month-accumulated figures, the intercalated day
//! view (sorteos, movements and adjustments of one business day with a running balance), the
//! entities with statements and a ventana's balance as of today.
//!
//! Everything reads stored statements (`account_statements`, rebuilt by the refresher) and the
//! tickets and movements behind them; nothing is written. Every function takes a pool so the
//! route can send it to the replica.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

use crate::db::statement_reads::{self as db, AdjustmentRow, Scope, StatementRow};
use crate::domain::authz::Actor;
use crate::domain::roles::Role;
use crate::domain::schedule;
use crate::services::exports::{Cell, Sheet};

/// Why a read is refused.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The caller may not read what it asked for (another tenant, another seller, a role
    /// limit).
    #[error("forbidden")]
    Forbidden,
    /// A named ventana or vendedor does not exist.
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// The statement level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dimension {
    Banca,
    Ventana,
    Vendedor,
}

impl Dimension {
    pub fn parse(s: &str) -> Option<Dimension> {
        match s.to_ascii_lowercase().as_str() {
            "banca" => Some(Dimension::Banca),
            "ventana" | "listero" => Some(Dimension::Ventana),
            "vendedor" => Some(Dimension::Vendedor),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Dimension::Banca => "banca",
            Dimension::Ventana => "ventana",
            Dimension::Vendedor => "vendedor",
        }
    }
}

/// `scope` of the query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeKind {
    Mine,
    /// A VENTANA's own vendedores (the existing system's `scope=ventana`).
    Ventana,
    All,
}

impl ScopeKind {
    pub fn parse(s: &str) -> Option<ScopeKind> {
        match s.to_ascii_lowercase().as_str() {
            "mine" => Some(ScopeKind::Mine),
            "ventana" => Some(ScopeKind::Ventana),
            "all" => Some(ScopeKind::All),
            _ => None,
        }
    }
}

/// What the client asked to read.
#[derive(Debug, Clone)]
pub struct ScopeRequest {
    pub scope: ScopeKind,
    pub dimension: Dimension,
    pub banca_id: Option<Uuid>,
    pub ventana_id: Option<Uuid>,
    pub vendedor_id: Option<Uuid>,
}

/// The rows a caller reads, and the one entity they are about when there is one.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub dimension: Dimension,
    pub scope: Scope,
    /// Code (vendedor: code, else username) of the single entity read, for file names.
    pub entity_code: Option<String>,
}

/// Resolves what `actor` may read of `req` (domain-money §5.7 RBAC):
/// - VENDEDOR: its own vendedor rows only (`dimension` forced to `vendedor`); `scope=all` or
///   another vendedor, ventana or banca named → forbidden.
/// - VENTANA: its ventana's rows (`dimension=ventana`) or its own vendedores' rows
///   (`dimension=vendedor`, optionally one of them); `scope=all`, `dimension=banca`, another
///   ventana or a vendedor of another ventana → forbidden.
/// - BANCA: the active banca (or `bancaId` when it administers it); named ventanas and
///   vendedores must belong to it (forbidden otherwise; unknown ones are not found).
/// - ADMIN: `bancaId`, else the active banca, else every banca; a named ventana or vendedor
///   narrows the read to it (and to its banca when no banca was chosen explicitly).
pub async fn resolve(
    pool: &PgPool,
    actor: &Actor,
    req: &ScopeRequest,
) -> Result<Resolved, ReadError> {
    let dim = req.dimension;
    match actor.role {
        Role::Vendedor => {
            if req.scope == ScopeKind::All
                || req.vendedor_id.is_some_and(|v| v != actor.user_id)
                || req.ventana_id.is_some_and(|v| Some(v) != actor.ventana_id)
                || req.banca_id.is_some_and(|b| Some(b) != actor.home_banca_id)
            {
                return Err(ReadError::Forbidden);
            }
            let code = db::vendedor(pool, actor.user_id).await?.map(|v| v.4);
            Ok(Resolved {
                dimension: Dimension::Vendedor,
                scope: Scope {
                    dimension: "vendedor".into(),
                    banca_ids: Some(actor.home_banca_id.into_iter().collect()),
                    ventana_id: None,
                    vendedor_id: Some(actor.user_id),
                },
                entity_code: code,
            })
        }
        Role::Ventana => {
            let own = actor.ventana_id.ok_or(ReadError::Forbidden)?;
            if req.scope == ScopeKind::All
                || dim == Dimension::Banca
                || req.ventana_id.is_some_and(|v| v != own)
                || req.banca_id.is_some_and(|b| Some(b) != actor.home_banca_id)
            {
                return Err(ReadError::Forbidden);
            }
            let banca_ids = Some(actor.home_banca_id.into_iter().collect());
            if dim == Dimension::Ventana {
                let code = db::ventana(pool, own).await?.map(|v| v.2);
                return Ok(Resolved {
                    dimension: dim,
                    scope: Scope {
                        dimension: "ventana".into(),
                        banca_ids,
                        ventana_id: Some(own),
                        vendedor_id: None,
                    },
                    entity_code: code,
                });
            }
            let mut code = None;
            if let Some(v) = req.vendedor_id {
                let (role, ventana, _, _, c) =
                    db::vendedor(pool, v).await?.ok_or(ReadError::NotFound)?;
                if role != "VENDEDOR" || ventana != Some(own) {
                    return Err(ReadError::Forbidden);
                }
                code = Some(c);
            }
            Ok(Resolved {
                dimension: dim,
                scope: Scope {
                    dimension: "vendedor".into(),
                    banca_ids,
                    ventana_id: Some(own),
                    vendedor_id: req.vendedor_id,
                },
                entity_code: code,
            })
        }
        Role::Banca | Role::Admin => {
            let admin = actor.role == Role::Admin;
            // The banca chosen explicitly, else the active one.
            let explicit = match req.banca_id {
                Some(b) if admin => {
                    db::banca(pool, b).await?.ok_or(ReadError::NotFound)?;
                    Some(b)
                }
                Some(b) if actor.assigned_bancas.contains(&b) => Some(b),
                Some(_) => return Err(ReadError::Forbidden),
                None => None,
            };
            let mut banca = explicit.or(actor.banca_id);
            if !admin && banca.is_none() {
                return Err(ReadError::Forbidden);
            }
            // The banca of a named ventana or vendedor.
            let mut entity_banca = None;
            let mut ventana_code = None;
            if let Some(v) = req.ventana_id {
                let (b, _, code) = db::ventana(pool, v).await?.ok_or(ReadError::NotFound)?;
                entity_banca = Some(b);
                ventana_code = Some(code);
            }
            let mut vendedor_code = None;
            if let Some(v) = req.vendedor_id {
                let (role, ventana, b, _, code) =
                    db::vendedor(pool, v).await?.ok_or(ReadError::NotFound)?;
                if role != "VENDEDOR" {
                    return Err(ReadError::NotFound);
                }
                if req.ventana_id.is_some_and(|w| Some(w) != ventana) {
                    return Err(ReadError::NotFound);
                }
                entity_banca = entity_banca.or(b);
                vendedor_code = Some(code);
            }
            if let Some(eb) = entity_banca {
                match banca {
                    Some(b) if b != eb => {
                        if admin && explicit.is_none() {
                            banca = Some(eb);
                        } else if admin {
                            return Err(ReadError::NotFound);
                        } else {
                            return Err(ReadError::Forbidden);
                        }
                    }
                    None => banca = Some(eb),
                    _ => {}
                }
            }
            let (ventana_id, vendedor_id, code) = match dim {
                Dimension::Banca => {
                    let code = match banca {
                        Some(b) => db::banca(pool, b).await?.map(|x| x.1),
                        None => None,
                    };
                    (None, None, code)
                }
                Dimension::Ventana => (req.ventana_id, None, ventana_code),
                Dimension::Vendedor => (req.ventana_id, req.vendedor_id, vendedor_code),
            };
            Ok(Resolved {
                dimension: dim,
                scope: Scope {
                    dimension: dim.as_str().into(),
                    banca_ids: banca.map(|b| vec![b]),
                    ventana_id,
                    vendedor_id,
                },
                entity_code: code,
            })
        }
    }
}

// ---------------------------------------------------------------------------------------------
// GET /accounts/statement

/// An adjustment booked on a statement's day.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AdjustmentView {
    pub id: Uuid,
    /// The settled day whose figures changed.
    pub settled_date: NaiveDate,
    pub amount: Decimal,
    pub reason: String,
}

/// One statement (one entity, one business day).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatementView {
    pub id: Uuid,
    pub date: NaiveDate,
    pub month: String,
    pub dimension: String,
    /// The row's entity: the vendedor, the ventana or the banca.
    pub entity_id: Uuid,
    pub banca_id: Uuid,
    pub banca_name: Option<String>,
    pub banca_code: Option<String>,
    pub ventana_id: Option<Uuid>,
    pub ventana_name: Option<String>,
    pub ventana_code: Option<String>,
    pub vendedor_id: Option<Uuid>,
    pub vendedor_name: Option<String>,
    pub vendedor_code: Option<String>,
    pub total_sales: Decimal,
    pub total_payouts: Decimal,
    pub listero_commission: Decimal,
    pub vendedor_commission: Decimal,
    /// sales − payouts − commission (vendedor's for vendedor rows, listero's otherwise)
    /// + paid − collected.
    pub balance: Decimal,
    pub total_paid: Decimal,
    pub total_collected: Decimal,
    /// paid − collected.
    pub total_payments_collections: Decimal,
    /// Σ adjustments booked on this day (part of `remainingBalance`).
    pub total_adjustments: Decimal,
    /// The running balance after this day (positive: the entity owes the banca).
    pub remaining_balance: Decimal,
    pub ticket_count: i32,
    pub is_settled: bool,
    pub can_edit: bool,
    pub settled_at: Option<DateTime<Utc>>,
    pub adjustments: Vec<AdjustmentView>,
    /// Always null: the per-sorteo breakdown is `GET /accounts/statement/:date/bySorteo`.
    pub by_sorteo: Option<()>,
}

impl StatementView {
    fn commission(&self) -> Decimal {
        if self.dimension == "vendedor" {
            self.vendedor_commission
        } else {
            self.listero_commission
        }
    }
}

fn view(r: StatementRow, adjustments: Vec<AdjustmentView>) -> StatementView {
    let commission = if r.dimension == "vendedor" {
        r.vendedor_commission
    } else {
        r.listero_commission
    };
    let balance = r.total_sales - r.total_payouts - commission + r.total_paid - r.total_collected;
    StatementView {
        id: r.id,
        date: r.date,
        month: r.month,
        dimension: r.dimension,
        entity_id: r.entity_id,
        banca_id: r.banca_id,
        banca_name: r.banca_name,
        banca_code: r.banca_code,
        ventana_id: r.ventana_id,
        ventana_name: r.ventana_name,
        ventana_code: r.ventana_code,
        vendedor_id: r.vendedor_id,
        vendedor_name: r.vendedor_name,
        vendedor_code: r.vendedor_code,
        total_sales: r.total_sales,
        total_payouts: r.total_payouts,
        listero_commission: r.listero_commission,
        vendedor_commission: r.vendedor_commission,
        balance,
        total_paid: r.total_paid,
        total_collected: r.total_collected,
        total_payments_collections: r.total_paid - r.total_collected,
        total_adjustments: r.total_adjustments,
        remaining_balance: r.remaining_balance,
        ticket_count: r.ticket_count,
        is_settled: r.is_settled,
        can_edit: !r.is_settled,
        settled_at: r.settled_at,
        adjustments,
        by_sorteo: None,
    }
}

/// Sums over statements.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Totals {
    pub total_sales: Decimal,
    pub total_payouts: Decimal,
    pub total_listero_commission: Decimal,
    pub total_vendedor_commission: Decimal,
    /// Σ row balances (movement-inclusive).
    pub total_balance: Decimal,
    pub total_paid: Decimal,
    pub total_collected: Decimal,
    /// paid − collected.
    pub total_payments_collections: Decimal,
    pub total_adjustments: Decimal,
    /// Σ over the entities of the remaining balance of each one's latest row.
    pub total_remaining_balance: Decimal,
    pub total_tickets: i64,
    pub settled_days: i64,
    pub pending_days: i64,
}

/// The totals of `rows` (oldest first).
pub fn totals(rows: &[StatementView]) -> Totals {
    let mut t = Totals::default();
    let mut latest: HashMap<Uuid, (NaiveDate, Decimal)> = HashMap::new();
    for r in rows {
        t.total_sales += r.total_sales;
        t.total_payouts += r.total_payouts;
        t.total_listero_commission += r.listero_commission;
        t.total_vendedor_commission += r.vendedor_commission;
        t.total_balance +=
            r.total_sales - r.total_payouts - r.commission() + r.total_paid - r.total_collected;
        t.total_paid += r.total_paid;
        t.total_collected += r.total_collected;
        t.total_adjustments += r.total_adjustments;
        t.total_tickets += i64::from(r.ticket_count);
        if r.is_settled {
            t.settled_days += 1;
        } else {
            t.pending_days += 1;
        }
        let e = latest
            .entry(r.entity_id)
            .or_insert((r.date, r.remaining_balance));
        if r.date >= e.0 {
            *e = (r.date, r.remaining_balance);
        }
    }
    t.total_payments_collections = t.total_paid - t.total_collected;
    t.total_remaining_balance = latest.values().map(|v| v.1).sum();
    t
}

/// `meta` of the statement answer.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatementMeta {
    /// `YYYY-MM` of the month `monthlyAccumulated` covers (the month of `endDate`).
    pub month: String,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub dimension: &'static str,
    /// Calendar days of `startDate..=endDate`.
    pub total_days: i64,
    pub month_start_date: NaiveDate,
    pub month_end_date: NaiveDate,
    /// `primary` or `replica` (filled by the route).
    pub read_source: &'static str,
}

/// `data` of `GET /accounts/statement`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatementAnswer {
    pub statements: Vec<StatementView>,
    pub totals: Totals,
    pub monthly_accumulated: Totals,
    pub meta: StatementMeta,
}

/// First and last day of the month of `d`.
pub fn month_bounds(d: NaiveDate) -> (NaiveDate, NaiveDate) {
    let first = d.with_day(1).unwrap_or(d);
    let next = if d.month() == 12 {
        NaiveDate::from_ymd_opt(d.year() + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(d.year(), d.month() + 1, 1)
    };
    let last = next.and_then(|n| n.pred_opt()).unwrap_or(d);
    (first, last)
}

/// The statements of `scope` dated `from..=to` with the adjustments booked on them, oldest
/// first.
pub async fn statement_views(
    pool: &PgPool,
    scope: &Scope,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<StatementView>, sqlx::Error> {
    let rows = db::statements(pool, scope, from, to).await?;
    let mut entities: Vec<Uuid> = rows.iter().map(|r| r.entity_id).collect();
    entities.sort();
    entities.dedup();
    let mut by_key: HashMap<(Uuid, NaiveDate), Vec<AdjustmentView>> = HashMap::new();
    if !entities.is_empty() {
        for a in db::adjustments(pool, &scope.dimension, &entities, from, to).await? {
            by_key
                .entry((a.entity_id, a.applied_date))
                .or_default()
                .push(adjustment_view(&a));
        }
    }
    Ok(rows
        .into_iter()
        .map(|r| {
            let adj = by_key.remove(&(r.entity_id, r.date)).unwrap_or_default();
            view(r, adj)
        })
        .collect())
}

fn adjustment_view(a: &AdjustmentRow) -> AdjustmentView {
    AdjustmentView {
        id: a.id,
        settled_date: a.settled_date,
        amount: a.amount,
        reason: a.reason.clone(),
    }
}

/// `GET /accounts/statement`: the rows of `from..=to` (sorted by date, `descending` or not),
/// their totals, and the month-accumulated figures of the month of `to`.
pub async fn statement(
    pool: &PgPool,
    scope: &Scope,
    dimension: Dimension,
    from: NaiveDate,
    to: NaiveDate,
    descending: bool,
) -> Result<StatementAnswer, sqlx::Error> {
    let rows = statement_views(pool, scope, from, to).await?;
    let (month_start, month_end) = month_bounds(to);
    let monthly = if month_start >= from && month_end <= to {
        totals(&rows)
    } else {
        totals(&statement_views(pool, scope, month_start, month_end).await?)
    };
    let totals = totals(&rows);
    let mut statements = rows;
    if descending {
        // Newest day first; entities of a day keep their order.
        statements.sort_by_key(|s| std::cmp::Reverse(s.date));
    }
    Ok(StatementAnswer {
        statements,
        totals,
        monthly_accumulated: monthly,
        meta: StatementMeta {
            month: month_start.format("%Y-%m").to_string(),
            start_date: from,
            end_date: to,
            dimension: dimension.as_str(),
            total_days: (to - from).num_days() + 1,
            month_start_date: month_start,
            month_end_date: month_end,
            read_source: "primary",
        },
    })
}

// ---------------------------------------------------------------------------------------------
// GET /accounts/statement/:date/bySorteo

/// One event of the intercalated day view.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DayEvent {
    /// The sorteo's id; `mov-<id>` for a movement, `adj-<id>` for an adjustment,
    /// `previous-month-balance-<dimension>-<entity|all>` for the opening of day 1.
    pub sorteo_id: String,
    pub sorteo_name: String,
    /// `sorteo`, `payment`, `collection`, `adjustment` or `initial_balance`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub loteria_id: Option<Uuid>,
    pub loteria_name: Option<String>,
    /// Business-local ISO instant with offset.
    pub scheduled_at: String,
    pub date: NaiveDate,
    /// `HH:MM`, business-local.
    pub time: String,
    pub status: Option<String>,
    pub winning_number: Option<String>,
    pub extra_outcome_code: Option<String>,
    pub total_sales: Decimal,
    pub total_payouts: Decimal,
    pub listero_commission: Decimal,
    pub vendedor_commission: Decimal,
    /// The dimension's commission (vendedor's for vendedor reads, listero's otherwise).
    pub commission: Decimal,
    /// Sorteo: sales − payouts − commission; payment: +amount; collection: −amount;
    /// adjustment and opening: their amount.
    pub balance: Decimal,
    pub ticket_count: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// The running balance after this event.
    pub accumulated: Decimal,
    /// 1 = the oldest event of the day.
    pub chronological_index: usize,
    pub total_chronological: usize,
    #[serde(skip)]
    instant: DateTime<Utc>,
    #[serde(skip)]
    rank: u8,
}

/// `meta` of the day view.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DayMeta {
    pub date: NaiveDate,
    pub dimension: &'static str,
    /// The running balance before the day: the remaining balance of the previous statement
    /// (summed over the entities read); on the 1st of a month it is carried by the
    /// `initial_balance` event instead and the running balance starts at 0.
    pub opening_balance: Decimal,
    /// The running balance after the last event.
    pub closing_balance: Decimal,
    pub total_sales: Decimal,
    pub total_payouts: Decimal,
    pub total_listero_commission: Decimal,
    pub total_vendedor_commission: Decimal,
    pub total_paid: Decimal,
    pub total_collected: Decimal,
    pub total_adjustments: Decimal,
    pub total_tickets: i64,
    pub total_sorteos: usize,
    pub total_events: usize,
    /// `primary` or `replica` (filled by the route).
    pub read_source: &'static str,
}

#[allow(clippy::too_many_arguments)]
fn event(
    id: String,
    name: String,
    kind: &'static str,
    instant: DateTime<Utc>,
    rank: u8,
    date: NaiveDate,
    balance: Decimal,
    tz: Tz,
) -> DayEvent {
    DayEvent {
        sorteo_id: id,
        sorteo_name: name,
        kind,
        loteria_id: None,
        loteria_name: None,
        scheduled_at: schedule::local_iso(instant, tz),
        date,
        time: instant.with_timezone(&tz).format("%H:%M").to_string(),
        status: None,
        winning_number: None,
        extra_outcome_code: None,
        total_sales: Decimal::ZERO,
        total_payouts: Decimal::ZERO,
        listero_commission: Decimal::ZERO,
        vendedor_commission: Decimal::ZERO,
        commission: Decimal::ZERO,
        balance,
        ticket_count: 0,
        amount: None,
        method: None,
        notes: None,
        accumulated: Decimal::ZERO,
        chronological_index: 0,
        total_chronological: 0,
        instant,
        rank,
    }
}

/// `GET /accounts/statement/:date/bySorteo`: the events of business day `day` in `resolved`'s
/// scope, newest first, with the running balance from the previous statement.
pub async fn by_sorteo(
    pool: &PgPool,
    resolved: &Resolved,
    day: NaiveDate,
    tz: Tz,
) -> Result<(Vec<DayEvent>, DayMeta), sqlx::Error> {
    let scope = &resolved.scope;
    let vendedor_dim = resolved.dimension == Dimension::Vendedor;
    let opening = db::opening_before(pool, scope, day).await?;
    let sorteos = db::sorteos_of_day(pool, scope, day).await?;
    let movements = db::movements(pool, scope, day, day, false).await?;
    let rows = db::statements(pool, scope, day, day).await?;
    let mut entities: Vec<Uuid> = rows.iter().map(|r| r.entity_id).collect();
    entities.sort();
    entities.dedup();
    let adjustments = if entities.is_empty() {
        Vec::new()
    } else {
        db::adjustments(pool, &scope.dimension, &entities, day, day).await?
    };
    let start = schedule::day_start(day, tz);
    let mut meta = DayMeta {
        date: day,
        dimension: resolved.dimension.as_str(),
        opening_balance: opening,
        closing_balance: opening,
        total_sales: Decimal::ZERO,
        total_payouts: Decimal::ZERO,
        total_listero_commission: Decimal::ZERO,
        total_vendedor_commission: Decimal::ZERO,
        total_paid: Decimal::ZERO,
        total_collected: Decimal::ZERO,
        total_adjustments: Decimal::ZERO,
        total_tickets: 0,
        total_sorteos: sorteos.len(),
        total_events: 0,
        read_source: "primary",
    };
    let mut events = Vec::new();
    let mut running = opening;
    if day.day() == 1 {
        let entity = match resolved.dimension {
            Dimension::Vendedor => scope.vendedor_id,
            Dimension::Ventana => scope.ventana_id,
            Dimension::Banca => scope.banca_ids.as_ref().and_then(|b| b.first().copied()),
        }
        .filter(|_| entities.len() <= 1)
        .map(|e| e.to_string())
        .unwrap_or_else(|| "all".into());
        events.push(event(
            format!(
                "previous-month-balance-{}-{entity}",
                resolved.dimension.as_str()
            ),
            "Saldo del mes anterior".into(),
            "initial_balance",
            start,
            0,
            day,
            opening,
            tz,
        ));
        running = Decimal::ZERO;
    }
    for a in &adjustments {
        meta.total_adjustments += a.amount;
        let mut e = event(
            format!("adj-{}", a.id),
            format!("Ajuste del {}", a.settled_date.format("%Y-%m-%d")),
            "adjustment",
            start,
            1,
            day,
            a.amount,
            tz,
        );
        e.amount = Some(a.amount);
        e.notes = Some(a.reason.clone());
        events.push(e);
    }
    for s in sorteos {
        let commission = if vendedor_dim {
            s.vendedor_commission
        } else {
            s.listero_commission
        };
        meta.total_sales += s.total_sales;
        meta.total_payouts += s.total_payouts;
        meta.total_listero_commission += s.listero_commission;
        meta.total_vendedor_commission += s.vendedor_commission;
        meta.total_tickets += s.ticket_count;
        let mut e = event(
            s.sorteo_id.to_string(),
            s.sorteo_name,
            "sorteo",
            s.scheduled_at,
            2,
            day,
            s.total_sales - s.total_payouts - commission,
            tz,
        );
        e.loteria_id = Some(s.loteria_id);
        e.loteria_name = Some(s.loteria_name);
        e.status = Some(s.status);
        e.winning_number = s.winning_number;
        e.extra_outcome_code = s.extra_outcome_code;
        e.total_sales = s.total_sales;
        e.total_payouts = s.total_payouts;
        e.listero_commission = s.listero_commission;
        e.vendedor_commission = s.vendedor_commission;
        e.commission = commission;
        e.ticket_count = s.ticket_count;
        events.push(e);
    }
    for m in movements {
        let at = NaiveTime::parse_from_str(m.time.trim(), "%H:%M")
            .map(|t| schedule::local_to_utc(day.and_time(t), tz))
            .unwrap_or(m.created_at);
        let payment = m.kind == "payment";
        if payment {
            meta.total_paid += m.amount;
        } else {
            meta.total_collected += m.amount;
        }
        let mut e = event(
            format!("mov-{}", m.id),
            if payment {
                "Pago recibido".into()
            } else {
                "Cobro realizado".into()
            },
            if payment { "payment" } else { "collection" },
            at,
            2,
            day,
            if payment { m.amount } else { -m.amount },
            tz,
        );
        e.amount = Some(m.amount);
        e.method = Some(m.method);
        e.notes = m.notes;
        events.push(e);
    }
    events.sort_by_key(|e| (e.instant, e.rank));
    let n = events.len();
    for (i, e) in events.iter_mut().enumerate() {
        running += e.balance;
        e.accumulated = running;
        e.chronological_index = i + 1;
        e.total_chronological = n;
    }
    meta.closing_balance = running;
    meta.total_events = n;
    events.reverse();
    Ok((events, meta))
}

// ---------------------------------------------------------------------------------------------
// GET /accounts/historical-entities

/// A ventana with statements.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoricalVentana {
    pub id: Uuid,
    pub name: String,
    pub code: Option<String>,
    pub banca_id: Uuid,
    pub last_statement_date: NaiveDate,
}

/// A vendedor with statements.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoricalVendedor {
    pub id: Uuid,
    pub name: String,
    pub code: Option<String>,
    pub ventana_id: Option<Uuid>,
    pub ventana_name: Option<String>,
    pub banca_id: Uuid,
    pub last_statement_date: NaiveDate,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoricalEntities {
    pub ventanas: Vec<HistoricalVentana>,
    pub vendedores: Vec<HistoricalVendedor>,
}

/// The ventanas and vendedores with statements the caller may see: the active banca (ADMIN
/// without one: every banca), a VENTANA's own ventana and vendedores, a VENDEDOR itself.
pub async fn historical_entities(
    pool: &PgPool,
    actor: &Actor,
) -> Result<HistoricalEntities, sqlx::Error> {
    let bancas = actor.list_scope();
    let (ventana, vendedor) = match actor.role {
        Role::Ventana => (Some(actor.ventana_id.unwrap_or(Uuid::nil())), None),
        Role::Vendedor => (None, Some(actor.user_id)),
        _ => (None, None),
    };
    let rows = db::historical_entities(pool, bancas.as_deref(), ventana, vendedor).await?;
    let mut out = HistoricalEntities {
        ventanas: Vec::new(),
        vendedores: Vec::new(),
    };
    for r in rows {
        if r.dimension == "ventana" {
            out.ventanas.push(HistoricalVentana {
                id: r.id,
                name: r.name,
                code: r.code,
                banca_id: r.banca_id,
                last_statement_date: r.last_date,
            });
        } else {
            out.vendedores.push(HistoricalVendedor {
                id: r.id,
                name: r.name,
                code: r.code,
                ventana_id: r.ventana_id,
                ventana_name: r.ventana_name,
                banca_id: r.banca_id,
                last_statement_date: r.last_date,
            });
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// GET /accounts/balance/current

/// A ventana's balance as of today ("saldo a hoy").
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CurrentBalance {
    /// = `remainingBalance`.
    pub balance: Decimal,
    pub remaining_balance: Decimal,
    pub ventana_id: Uuid,
    pub ventana_name: Option<String>,
    /// The day of the statement it comes from (null without any).
    pub date: Option<NaiveDate>,
    pub updated_at: Option<DateTime<Utc>>,
}

/// The remaining balance of ventana `ventana`'s latest statement up to `today` (0 without
/// one).
pub async fn current_balance(
    pool: &PgPool,
    ventana: Uuid,
    today: NaiveDate,
) -> Result<CurrentBalance, sqlx::Error> {
    let name = db::ventana(pool, ventana).await?.map(|v| v.1);
    let latest = db::latest_ventana_balance(pool, ventana, today).await?;
    let balance = latest.map(|l| l.0).unwrap_or(Decimal::ZERO);
    Ok(CurrentBalance {
        balance,
        remaining_balance: balance,
        ventana_id: ventana,
        ventana_name: name,
        date: latest.map(|l| l.1),
        updated_at: latest.map(|l| l.2),
    })
}

/// Movements of a range, for the export (reversed ones included, with their state).
pub async fn movements(
    pool: &PgPool,
    scope: &Scope,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<db::MovementRow>, sqlx::Error> {
    db::movements(pool, scope, from, to, true).await
}

// ---------------------------------------------------------------------------------------------
// GET /accounts/export

/// The entity column's title of a dimension (`Listero` is the ventana).
pub fn entity_title(d: Dimension) -> &'static str {
    match d {
        Dimension::Banca => "Banca",
        Dimension::Ventana => "Listero",
        Dimension::Vendedor => "Vendedor",
    }
}

fn entity_name(r: &StatementView) -> String {
    match r.dimension.as_str() {
        "vendedor" => r.vendedor_name.clone(),
        "ventana" => r.ventana_name.clone(),
        _ => r.banca_name.clone(),
    }
    .unwrap_or_default()
}

/// The export's sheets (domain-money §7): `Resumen por Día` — `Fecha, <Banca|Listero|Vendedor>,
/// Ventas, Premios, Com. Listero, Com. Vendedor` (the two commissions swapped for vendedores),
/// `Balance, Pagado, Cobrado, Saldo, Tickets`, one line per statement in the answer's order and
/// a `Total` line (its `Saldo` is `totals.totalRemainingBalance`); with `movements`, a
/// `Movimientos` sheet (`Fecha Mov., Fecha Aplicada, <entity>, Tipo, Monto, Método,
/// Registrado Por, Estado, Notas`).
pub fn export_sheets(
    answer: &StatementAnswer,
    dimension: Dimension,
    movements: Option<&[db::MovementRow]>,
    tz: Tz,
) -> Vec<Sheet> {
    let vendedor = dimension == Dimension::Vendedor;
    let (c1, c2) = if vendedor {
        ("Com. Vendedor", "Com. Listero")
    } else {
        ("Com. Listero", "Com. Vendedor")
    };
    let header = [
        "Fecha",
        entity_title(dimension),
        "Ventas",
        "Premios",
        c1,
        c2,
        "Balance",
        "Pagado",
        "Cobrado",
        "Saldo",
        "Tickets",
    ]
    .map(String::from)
    .to_vec();
    let coms = |listero: Decimal, vend: Decimal| {
        if vendedor {
            (Cell::Money(vend), Cell::Money(listero))
        } else {
            (Cell::Money(listero), Cell::Money(vend))
        }
    };
    let mut rows = Vec::new();
    for r in &answer.statements {
        let (a, b) = coms(r.listero_commission, r.vendedor_commission);
        rows.push(vec![
            Cell::text(r.date.format("%Y-%m-%d").to_string()),
            Cell::text(entity_name(r)),
            Cell::Money(r.total_sales),
            Cell::Money(r.total_payouts),
            a,
            b,
            Cell::Money(r.balance),
            Cell::Money(r.total_paid),
            Cell::Money(r.total_collected),
            Cell::Money(r.remaining_balance),
            Cell::Int(i64::from(r.ticket_count)),
        ]);
    }
    let t = &answer.totals;
    let (a, b) = coms(t.total_listero_commission, t.total_vendedor_commission);
    rows.push(vec![
        Cell::text("Total"),
        Cell::Empty,
        Cell::Money(t.total_sales),
        Cell::Money(t.total_payouts),
        a,
        b,
        Cell::Money(t.total_balance),
        Cell::Money(t.total_paid),
        Cell::Money(t.total_collected),
        Cell::Money(t.total_remaining_balance),
        Cell::Int(t.total_tickets),
    ]);
    let mut sheets = vec![Sheet {
        name: "Resumen por Día".into(),
        header,
        rows,
        widths: vec![
            12.0, 28.0, 14.0, 14.0, 14.0, 14.0, 14.0, 14.0, 14.0, 14.0, 9.0,
        ],
    }];
    if let Some(movements) = movements {
        let rows = movements
            .iter()
            .map(|m| {
                vec![
                    Cell::text(
                        m.created_at
                            .with_timezone(&tz)
                            .format("%Y-%m-%d %H:%M")
                            .to_string(),
                    ),
                    Cell::text(format!("{} {}", m.date.format("%Y-%m-%d"), m.time.trim())),
                    Cell::text(m.entity_name.clone().unwrap_or_default()),
                    Cell::text(if m.kind == "payment" { "Pago" } else { "Cobro" }),
                    Cell::Money(m.amount),
                    Cell::text(match m.method.as_str() {
                        "cash" => "Efectivo",
                        "transfer" => "Transferencia",
                        "check" => "Cheque",
                        _ => "Otro",
                    }),
                    Cell::text(m.paid_by_name.clone().unwrap_or_default()),
                    Cell::text(if m.is_reversed { "Revertido" } else { "Activo" }),
                    Cell::text(m.notes.clone().unwrap_or_default()),
                ]
            })
            .collect();
        sheets.push(Sheet {
            name: "Movimientos".into(),
            header: [
                "Fecha Mov.",
                "Fecha Aplicada",
                entity_title(dimension),
                "Tipo",
                "Monto",
                "Método",
                "Registrado Por",
                "Estado",
                "Notas",
            ]
            .map(String::from)
            .to_vec(),
            rows,
            widths: vec![17.0, 17.0, 28.0, 8.0, 14.0, 14.0, 20.0, 11.0, 30.0],
        });
    }
    sheets
}
