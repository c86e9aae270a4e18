//! Ventas (`/ventas*`) and `GET /sales/daily-stats` (domain-money §6.2): the wire shapes built
//! from `db::ventas`, whose population is the statements' (only drawn sorteos count, to the
//! cent what the account statements and cierres say).
//!
//! Decisions:
//! * `commissionTotal` is the listero (ventana) commission for ADMIN, BANCA and VENTANA
//!   callers, and the seller's own commission (USER origin, what its statement subtracts) for a
//!   VENDEDOR; `netoDespuesComision = neto − commissionTotal`. The reference summed the seller
//!   snapshots of every origin for everyone, which agrees with no statement.
//! * A VENTANA caller's summary adds `commissionVendedorTotal` (USER-origin seller commission,
//!   as in its vendedores' statements), `commissionListeroTotal`, `balanceDueToBanca`
//!   (= `gananciaNeta` = ventas − payout − listero) and `myGain` (listero − vendedor). Its view
//!   is always its own ventana (`scope` is forced to `mine`).
//! * Payment figures count winning tickets: `totalPaid` Σ paid, `remainingAmount` Σ remaining,
//!   `pendingPayment` Σ remaining of winners not PAID/PAGADO, `paidTicketsCount` winners PAID or
//!   paid in full, `unpaidTicketsCount` winners with something left that are not PAID.
//! * `neto` is ventas − payout in every row of every dimension (the reference also took the
//!   seller commission off for `vendedor` rows only); `netoDespuesComision` subtracts
//!   `commissionTotal` as above. `lastTicketAt` is the latest sale time of the counted tickets.
//! * `numero` rows group the jugadas by number (NUMERO and REVENTADO lines of that number);
//!   their `ticketsCount` is distinct tickets with the number (not additive across numbers),
//!   `totalWinningTickets` the tickets that won with that number.
//! * Time-series `ts`: for day/week/month the bucket's first day at `00:00Z` (the reference's
//!   format; `date` carries the same day), for hour the instant the business-zone hour starts
//!   (`date` and `hour` in the business zone). Buckets newest first.

use chrono::{DateTime, NaiveDate, Timelike, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

use crate::db::ventas::{self as db, Figures, Filter, Granularity, Grouping, ListOptions};
use crate::domain::commission::{money, percent_of as percent};

/// How a caller's figures are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct View {
    /// `commissionTotal` is the seller's (USER origin) instead of the listero's.
    pub seller_commission: bool,
    /// Add the VENTANA fields to the summary.
    pub ventana_fields: bool,
}

impl View {
    fn commission(&self, f: &Figures) -> Decimal {
        if self.seller_commission {
            f.vend
        } else {
            f.listero
        }
    }
}

// ---------------------------------------------------------------------------------------------
// GET /ventas/summary

/// `GET /ventas/summary`.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub ventas_total: Decimal,
    pub tickets_count: i64,
    pub jugadas_count: i64,
    pub payout_total: Decimal,
    /// ventas − payout.
    pub neto: Decimal,
    pub commission_total: Decimal,
    pub neto_despues_comision: Decimal,
    pub last_ticket_at: Option<DateTime<Utc>>,
    pub winning_tickets_count: i64,
    pub total_paid: Decimal,
    pub remaining_amount: Decimal,
    pub paid_tickets_count: i64,
    pub unpaid_tickets_count: i64,
    pub pending_payment: Decimal,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commission_vendedor_total: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commission_listero_total: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub balance_due_to_banca: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ganancia_neta: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub my_gain: Option<Decimal>,
}

fn summary_of(f: &Figures, last: Option<DateTime<Utc>>, view: View) -> Summary {
    let commission = view.commission(f);
    let neto = f.sales - f.payouts;
    let due = money(f.sales - f.payouts - f.listero);
    let ventana = |v: Decimal| view.ventana_fields.then_some(v);
    Summary {
        ventas_total: f.sales,
        tickets_count: f.tickets,
        jugadas_count: f.jugadas,
        payout_total: f.payouts,
        neto,
        commission_total: commission,
        neto_despues_comision: neto - commission,
        last_ticket_at: last,
        winning_tickets_count: f.winners,
        total_paid: f.total_paid,
        remaining_amount: f.remaining,
        paid_tickets_count: f.paid_tickets,
        unpaid_tickets_count: f.unpaid_tickets,
        pending_payment: f.pending,
        commission_vendedor_total: ventana(f.vend),
        commission_listero_total: ventana(f.listero),
        balance_due_to_banca: ventana(due),
        ganancia_neta: ventana(due),
        my_gain: ventana(money(f.listero - f.vend)),
    }
}

/// `GET /ventas/summary` of `filter` (`None`: the caller sees nothing).
pub async fn summary(
    pool: &PgPool,
    filter: Option<&Filter>,
    view: View,
) -> Result<Summary, sqlx::Error> {
    let Some(f) = filter else {
        return Ok(summary_of(&Figures::default(), None, view));
    };
    let figures = db::summary(pool, f).await?;
    let last = db::last_ticket_at(pool, f).await?;
    Ok(summary_of(&figures, last, view))
}

// ---------------------------------------------------------------------------------------------
// GET /ventas/breakdown

/// One row of `GET /ventas/breakdown`.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct BreakdownRow {
    /// The entity id, or the number.
    pub key: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheduled_at: Option<DateTime<Utc>>,
    pub ventas_total: Decimal,
    pub tickets_count: i64,
    pub jugadas_count: i64,
    pub payout_total: Decimal,
    pub neto: Decimal,
    pub commission_total: Decimal,
    pub neto_despues_comision: Decimal,
    pub total_winning_tickets: i64,
    /// Same as `totalWinningTickets` (the client reads either).
    pub winner_tickets: i64,
    pub total_paid_tickets: i64,
    /// Same as `totalPaidTickets`.
    pub paid_tickets: i64,
    pub unpaid_tickets_count: i64,
    pub total_paid: Decimal,
    pub pending_payment: Decimal,
    /// (ventas − payout − commission) / ventas, in percent.
    pub margin: Decimal,
    /// payout / ventas, in percent.
    pub payout_rate: Decimal,
}

/// `GET /ventas/breakdown`: the top groups of `g.dimension`.
pub async fn breakdown(
    pool: &PgPool,
    filter: Option<&Filter>,
    g: &Grouping,
    view: View,
) -> Result<Vec<BreakdownRow>, sqlx::Error> {
    let Some(f) = filter else {
        return Ok(Vec::new());
    };
    let rows = db::breakdown(pool, f, g).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let x = &r.figures;
            let commission = view.commission(x);
            let neto = x.sales - x.payouts;
            BreakdownRow {
                name: r.name.unwrap_or_else(|| r.key.clone()),
                key: r.key,
                code: r.code,
                scheduled_at: r.scheduled_at,
                ventas_total: x.sales,
                tickets_count: x.tickets,
                jugadas_count: x.jugadas,
                payout_total: x.payouts,
                neto,
                commission_total: commission,
                neto_despues_comision: neto - commission,
                total_winning_tickets: x.winners,
                winner_tickets: x.winners,
                total_paid_tickets: x.paid_tickets,
                paid_tickets: x.paid_tickets,
                unpaid_tickets_count: x.unpaid_tickets,
                total_paid: x.total_paid,
                pending_payment: x.pending,
                margin: percent(neto - commission, x.sales),
                payout_rate: percent(x.payouts, x.sales),
            }
        })
        .collect())
}

// ---------------------------------------------------------------------------------------------
// GET /ventas/timeseries

/// One bucket of `GET /ventas/timeseries`.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Bucket {
    pub ts: String,
    pub date: NaiveDate,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hour: Option<u32>,
    pub ventas_total: Decimal,
    pub tickets_count: i64,
    pub jugadas_count: i64,
    pub payout_total: Decimal,
    pub neto: Decimal,
    pub commission_total: Decimal,
}

/// `GET /ventas/timeseries`.
pub async fn timeseries(
    pool: &PgPool,
    filter: Option<&Filter>,
    g: Granularity,
    tz: Tz,
    view: View,
) -> Result<Vec<Bucket>, sqlx::Error> {
    let Some(f) = filter else {
        return Ok(Vec::new());
    };
    let rows = db::timeseries(pool, f, g).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let x = &r.figures;
            let (ts, hour) = if g == Granularity::Hour {
                let instant = r
                    .bucket
                    .and_local_timezone(tz)
                    .earliest()
                    .map(|t| t.with_timezone(&Utc))
                    .unwrap_or_else(|| r.bucket.and_utc());
                (
                    instant.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                    Some(r.bucket.hour()),
                )
            } else {
                (format!("{}T00:00:00.000Z", r.bucket.date()), None)
            };
            Bucket {
                ts,
                date: r.bucket.date(),
                hour,
                ventas_total: x.sales,
                tickets_count: x.tickets,
                jugadas_count: x.jugadas,
                payout_total: x.payouts,
                neto: x.sales - x.payouts,
                commission_total: view.commission(x),
            }
        })
        .collect())
}

// ---------------------------------------------------------------------------------------------
// GET /ventas/facets

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CodedFacet {
    pub id: Uuid,
    pub name: String,
    pub code: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct UserFacet {
    pub id: Uuid,
    pub name: String,
    pub username: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct NamedFacet {
    pub id: Uuid,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SorteoFacet {
    pub id: Uuid,
    pub name: String,
    pub scheduled_at: Option<DateTime<Utc>>,
}

/// `GET /ventas/facets`: the filter values with sales in the period (latest 50 sorteos).
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Facets {
    pub ventanas: Vec<CodedFacet>,
    pub vendedores: Vec<UserFacet>,
    pub loterias: Vec<NamedFacet>,
    pub sorteos: Vec<SorteoFacet>,
}

/// `GET /ventas/facets`.
pub async fn facets(pool: &PgPool, filter: Option<&Filter>) -> Result<Facets, sqlx::Error> {
    let Some(f) = filter else {
        return Ok(Facets::default());
    };
    let mut out = Facets::default();
    for r in db::facets(pool, f).await? {
        match r.kind.as_str() {
            "ventana" => out.ventanas.push(CodedFacet {
                id: r.id,
                name: r.name,
                code: r.code,
            }),
            "vendedor" => out.vendedores.push(UserFacet {
                id: r.id,
                name: r.name,
                username: r.code,
            }),
            "loteria" => out.loterias.push(NamedFacet {
                id: r.id,
                name: r.name,
            }),
            _ => out.sorteos.push(SorteoFacet {
                id: r.id,
                name: r.name,
                scheduled_at: r.scheduled_at,
            }),
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// GET /ventas

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Ref {
    pub id: Uuid,
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SorteoRef {
    pub id: Uuid,
    pub name: String,
    pub scheduled_at: DateTime<Utc>,
    pub status: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct VentaJugada {
    pub id: Uuid,
    #[serde(rename = "type")]
    pub kind: String,
    pub number: String,
    pub reventado_number: Option<String>,
    pub amount: Decimal,
    pub final_multiplier_x: Decimal,
    pub payout: Decimal,
    pub is_winner: bool,
    pub multiplier_id: Option<Uuid>,
    pub is_excluded: bool,
}

/// A ticket of `GET /ventas`.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Venta {
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
    pub vendedor_id: Uuid,
    pub loteria_id: Uuid,
    pub sorteo_id: Uuid,
    pub ventana: Ref,
    pub vendedor: Ref,
    pub loteria: Ref,
    pub sorteo: SorteoRef,
    pub jugadas: Vec<VentaJugada>,
}

/// `GET /ventas`: one page of the population's tickets and the total.
pub async fn list(
    pool: &PgPool,
    filter: Option<&Filter>,
    o: &ListOptions,
) -> Result<(Vec<Venta>, i64), sqlx::Error> {
    let Some(f) = filter else {
        return Ok((Vec::new(), 0));
    };
    let (rows, jugadas, total) = db::list(pool, f, o).await?;
    let mut by_ticket: std::collections::HashMap<Uuid, Vec<VentaJugada>> =
        std::collections::HashMap::new();
    for j in jugadas {
        by_ticket.entry(j.ticket_id).or_default().push(VentaJugada {
            id: j.id,
            kind: j.kind,
            number: j.number,
            reventado_number: j.reventado_number,
            amount: j.amount,
            final_multiplier_x: j.final_multiplier_x,
            payout: if j.is_winner {
                j.payout.unwrap_or_default()
            } else {
                Decimal::ZERO
            },
            is_winner: j.is_winner,
            multiplier_id: j.multiplier_id,
            is_excluded: j.is_excluded,
        });
    }
    let out = rows
        .into_iter()
        .map(|t| Venta {
            jugadas: by_ticket.remove(&t.id).unwrap_or_default(),
            id: t.id,
            ticket_number: t.ticket_number,
            business_date: t.business_date,
            created_at: t.created_at,
            status: t.status,
            is_winner: t.is_winner,
            total_amount: t.total_amount,
            total_payout: t.total_payout,
            total_paid: t.total_paid,
            remaining_amount: t.remaining_amount,
            total_commission: t.total_commission,
            total_listero_commission: t.total_listero_commission,
            cliente_nombre: t.cliente_nombre,
            ventana_id: t.ventana_id,
            vendedor_id: t.vendedor_id,
            loteria_id: t.loteria_id,
            sorteo_id: t.sorteo_id,
            ventana: Ref {
                id: t.ventana_id,
                name: t.ventana_name,
                code: t.ventana_code,
                username: None,
            },
            vendedor: Ref {
                id: t.vendedor_id,
                name: t.vendedor_name,
                code: None,
                username: t.vendedor_username,
            },
            loteria: Ref {
                id: t.loteria_id,
                name: t.loteria_name,
                code: None,
                username: None,
            },
            sorteo: SorteoRef {
                id: t.sorteo_id,
                name: t.sorteo_name,
                scheduled_at: t.sorteo_scheduled_at,
                status: t.sorteo_status,
            },
        })
        .collect();
    Ok((out, total))
}

// ---------------------------------------------------------------------------------------------
// GET /sales/daily-stats

/// `GET /sales/daily-stats`: the day's sales of every sorteo state (open ones included),
/// without cancelled (REF-DEFECT fixed), excluded or deleted tickets.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DailyStats {
    /// Σ ticket `totalAmount`.
    pub total_sales: Decimal,
    pub ticket_count: i64,
    pub date: NaiveDate,
    pub currency: &'static str,
}

/// `GET /sales/daily-stats` for the effective banca/ventana/vendedor (`nothing`: zeros).
pub async fn daily_stats(
    pool: &PgPool,
    scope: &crate::services::report_scope::ReportScope,
    day: NaiveDate,
) -> Result<DailyStats, sqlx::Error> {
    let (total, count) = if scope.nothing {
        (Decimal::ZERO, 0)
    } else {
        db::daily_stats(
            pool,
            scope.banca_id,
            scope.ventana_id,
            scope.vendedor_id,
            day,
        )
        .await?
    };
    Ok(DailyStats {
        total_sales: total,
        ticket_count: count,
        date: day,
        currency: "CRC",
    })
}
