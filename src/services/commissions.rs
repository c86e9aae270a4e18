//! Commission reports (`/commissions`, domain-money §6.3): who sees what, and the wire shapes
//! built from `db::commissions` (one statement per response).
//!
//! Role scoping: a VENDEDOR always gets `scope=mine, dimension=vendedor` on its own jugadas; a
//! VENTANA always `scope=mine` on its ventana (and, with `vendedorId`, one of its vendedores);
//! a BANCA user its active banca (none: nothing); an ADMIN any banca, or the active one when it
//! has one. Entity ids outside the caller's reach simply match nothing.
//!
//! Figures: `commissionListero` = Σ listero snapshot; `commissionVendedor` = Σ seller snapshot
//! of USER origin. Dimension `ventana`: `totalCommission = listero`; dimension `vendedor`:
//! `totalCommission = listero + vendedor`; both `net = sales − payouts − listero`. The
//! per-lotería views count the listero amounts for `ventana` and the seller's (USER origin)
//! for `vendedor`.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

use crate::db::commissions::{self as db, DailyRow, Filter, Grouping, LoteriaRow};
use crate::domain::authz::Actor;
use crate::domain::commission::percent_of as percent;
use crate::domain::roles::Role;

/// The `dimension` of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Dimension {
    Ventana,
    Vendedor,
}

impl Dimension {
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "ventana" => Some(Dimension::Ventana),
            "vendedor" => Some(Dimension::Vendedor),
            _ => None,
        }
    }
}

/// The `scope` of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    Mine,
    All,
}

impl Scope {
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "mine" => Some(Scope::Mine),
            "all" => Some(Scope::All),
            _ => None,
        }
    }
}

/// What the caller asked for.
#[derive(Debug, Clone)]
pub struct Requested {
    pub scope: Scope,
    pub dimension: Dimension,
    pub ventana_id: Option<Uuid>,
    pub vendedor_id: Option<Uuid>,
    pub loteria_id: Option<Uuid>,
}

/// What the caller gets, after role scoping.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Effective {
    pub scope: Scope,
    pub dimension: Dimension,
    pub banca_id: Option<Uuid>,
    pub ventana_id: Option<Uuid>,
    pub vendedor_id: Option<Uuid>,
    pub loteria_id: Option<Uuid>,
    /// The caller can see nothing (a BANCA user without an active banca…).
    #[serde(skip)]
    pub nothing: bool,
}

/// Applies the role rules of §6.3 to `req`.
pub fn effective(actor: &Actor, req: &Requested) -> Effective {
    let mut e = Effective {
        scope: req.scope,
        dimension: req.dimension,
        banca_id: actor.banca_id,
        ventana_id: req.ventana_id,
        vendedor_id: req.vendedor_id,
        loteria_id: req.loteria_id,
        nothing: false,
    };
    match actor.role {
        Role::Admin => {}
        Role::Banca => e.nothing = actor.banca_id.is_none(),
        Role::Ventana => {
            e.scope = Scope::Mine;
            e.banca_id = actor.home_banca_id;
            e.ventana_id = actor.ventana_id;
            e.nothing = actor.ventana_id.is_none() || actor.home_banca_id.is_none();
        }
        Role::Vendedor => {
            e.scope = Scope::Mine;
            e.dimension = Dimension::Vendedor;
            e.banca_id = actor.home_banca_id;
            e.ventana_id = None;
            e.vendedor_id = Some(actor.user_id);
            e.nothing = actor.home_banca_id.is_none();
        }
    }
    e
}

impl Effective {
    fn filter(&self, from: NaiveDate, to: NaiveDate) -> Filter {
        Filter {
            banca_id: self.banca_id,
            ventana_id: self.ventana_id,
            vendedor_id: self.vendedor_id,
            loteria_id: self.loteria_id,
            from,
            to,
        }
    }

    /// Rows are per entity when the dimension's entity is named, else per day.
    fn grouping(&self) -> Grouping {
        match self.dimension {
            Dimension::Ventana if self.ventana_id.is_some() => Grouping::Ventana,
            Dimension::Vendedor if self.vendedor_id.is_some() => Grouping::Vendedor,
            _ => Grouping::Day,
        }
    }

    fn listero(&self) -> bool {
        self.dimension == Dimension::Ventana
    }
}

// ---------------------------------------------------------------------------------------------
// GET /commissions

/// One day (and entity) of `GET /commissions`.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DayRow {
    pub date: NaiveDate,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ventana_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ventana_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vendedor_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vendedor_name: Option<String>,
    pub total_sales: Decimal,
    pub total_tickets: i64,
    pub total_payouts: Decimal,
    pub commission_listero: Decimal,
    pub commission_vendedor: Decimal,
    pub total_commission: Decimal,
    pub net: Decimal,
}

fn day_row(r: &DailyRow, dimension: Dimension) -> DayRow {
    let total_commission = match dimension {
        Dimension::Ventana => r.listero,
        Dimension::Vendedor => r.listero + r.vendedor,
    };
    DayRow {
        date: r.d,
        ventana_id: r.ventana_id,
        ventana_name: r.ventana_name.clone(),
        vendedor_id: r.vendedor_id,
        vendedor_name: r.vendedor_name.clone(),
        total_sales: r.sales,
        total_tickets: r.tickets,
        total_payouts: r.payouts,
        commission_listero: r.listero,
        commission_vendedor: r.vendedor,
        total_commission,
        net: r.sales - r.payouts - r.listero,
    }
}

/// `GET /commissions`: daily rows, newest first.
pub async fn list(
    pool: &PgPool,
    e: &Effective,
    from: NaiveDate,
    to: NaiveDate,
    tz: &str,
) -> Result<Vec<DayRow>, sqlx::Error> {
    if e.nothing {
        return Ok(Vec::new());
    }
    let rows = db::daily(pool, &e.filter(from, to), e.grouping(), false, tz).await?;
    Ok(rows.iter().map(|r| day_row(r, e.dimension)).collect())
}

// ---------------------------------------------------------------------------------------------
// GET /commissions/detail and /commissions/:date/breakdown

/// One multiplier of a lotería.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct MultiplierFigures {
    /// The multiplier's id, or `"unknown"` for the REVENTADO key (as `/commissions/tickets`
    /// takes it).
    pub multiplier_id: String,
    pub multiplier_name: String,
    pub total_sales: Decimal,
    pub total_tickets: i64,
    pub total_commission: Decimal,
    /// `commission / sales × 100`, 2 decimals.
    pub multiplier_percentage: Decimal,
    /// Breakdown only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_payouts: Option<Decimal>,
    /// Breakdown only: `sales − payouts − commission`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub net: Option<Decimal>,
}

/// One lotería with its multipliers.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct LoteriaFigures {
    pub loteria_id: Uuid,
    pub loteria_name: String,
    pub total_sales: Decimal,
    pub total_tickets: i64,
    pub total_commission: Decimal,
    /// `commission / sales × 100`, 2 decimals.
    pub commission_percentage: Decimal,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_payouts: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub net: Option<Decimal>,
    pub multipliers: Vec<MultiplierFigures>,
}

fn nest(rows: Vec<LoteriaRow>, with_payouts: bool) -> Vec<LoteriaFigures> {
    let mut out: Vec<LoteriaFigures> = Vec::new();
    let pay = |r: &LoteriaRow| with_payouts.then_some(r.payouts);
    let net = |r: &LoteriaRow| with_payouts.then(|| r.sales - r.payouts - r.commission);
    for r in rows {
        if r.total_row {
            out.push(LoteriaFigures {
                loteria_id: r.loteria_id,
                loteria_name: r.loteria_name.clone(),
                total_sales: r.sales,
                total_tickets: r.tickets,
                total_commission: r.commission,
                commission_percentage: percent(r.commission, r.sales),
                total_payouts: pay(&r),
                net: net(&r),
                multipliers: Vec::new(),
            });
        } else if let Some(l) = out.last_mut().filter(|l| l.loteria_id == r.loteria_id) {
            l.multipliers.push(MultiplierFigures {
                multiplier_id: r
                    .multiplier_id
                    .map_or_else(|| "unknown".to_string(), |m| m.to_string()),
                multiplier_name: r.multiplier_name.clone().unwrap_or_default(),
                total_sales: r.sales,
                total_tickets: r.tickets,
                total_commission: r.commission,
                multiplier_percentage: percent(r.commission, r.sales),
                total_payouts: pay(&r),
                net: net(&r),
            });
        }
    }
    out
}

/// `GET /commissions/detail` (`breakdown = false`) and `GET /commissions/:date/breakdown`
/// (`breakdown = true`, with payouts and net): per lotería × multiplier of one day.
pub async fn per_loteria(
    pool: &PgPool,
    e: &Effective,
    day: NaiveDate,
    breakdown: bool,
) -> Result<Vec<LoteriaFigures>, sqlx::Error> {
    if e.nothing {
        return Ok(Vec::new());
    }
    let rows = db::by_loteria(pool, &e.filter(day, day), e.listero()).await?;
    Ok(nest(rows, breakdown))
}

// ---------------------------------------------------------------------------------------------
// GET /commissions/tickets

/// One ticket with its commission under the asked multiplier.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TicketCommission {
    pub ticket_id: Uuid,
    pub ticket_number: String,
    pub business_date: NaiveDate,
    pub total_amount: Decimal,
    /// Σ of the ticket's jugadas under the multiplier.
    pub amount: Decimal,
    /// The dimension's commission of those jugadas.
    pub commission_amount: Decimal,
    /// `commissionAmount / amount × 100`, 2 decimals.
    pub commission_percentage: Decimal,
    pub listero_commission_amount: Decimal,
    pub vendedor_commission_amount: Decimal,
    pub created_at: DateTime<Utc>,
    pub ventana_id: Uuid,
    pub ventana_name: Option<String>,
    pub vendedor_id: Uuid,
    pub vendedor_name: Option<String>,
}

/// `GET /commissions/tickets`: a page of tickets and the total count.
pub async fn tickets(
    pool: &PgPool,
    e: &Effective,
    day: NaiveDate,
    mkey: Option<Uuid>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<TicketCommission>, i64), sqlx::Error> {
    if e.nothing {
        return Ok((Vec::new(), 0));
    }
    let rows = db::tickets(pool, &e.filter(day, day), mkey, limit, offset).await?;
    let total = rows.first().map_or(0, |r| r.total);
    let listero = e.listero();
    let data = rows
        .into_iter()
        .filter_map(|r| {
            let amount = r.amount?;
            let (l, v) = (r.listero?, r.vendedor?);
            let commission = if listero { l } else { v };
            Some(TicketCommission {
                ticket_id: r.id?,
                ticket_number: r.ticket_number?,
                business_date: r.d?,
                total_amount: r.total_amount?,
                amount,
                commission_amount: commission,
                commission_percentage: percent(commission, amount),
                listero_commission_amount: l,
                vendedor_commission_amount: v,
                created_at: r.created_at?,
                ventana_id: r.ventana_id?,
                ventana_name: r.ventana_name,
                vendedor_id: r.vendedor_id?,
                vendedor_name: r.vendedor_name,
            })
        })
        .collect();
    Ok((data, total))
}

// ---------------------------------------------------------------------------------------------
// GET /commissions/export

/// The export formats that are produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Xlsx,
}

impl ExportFormat {
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Xlsx => "xlsx",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            ExportFormat::Csv => "text/csv; charset=utf-8",
            ExportFormat::Xlsx => {
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
        }
    }
}

/// A produced export file.
#[derive(Debug)]
pub struct ExportFile {
    pub filename: String,
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

/// The export's content, before formatting.
struct Report {
    dimension: Dimension,
    from: NaiveDate,
    to: NaiveDate,
    ventana_name: Option<String>,
    vendedor_name: Option<String>,
    summary: Vec<DailyRow>,
    breakdown: Vec<DailyRow>,
}

/// `GET /commissions/export`: the summary rows of `GET /commissions` and, with
/// `include_breakdown`, their lotería × sorteo × multiplier rows, as CSV (UTF-8 with BOM) or
/// XLSX. One statement reads both.
pub async fn export(
    pool: &PgPool,
    e: &Effective,
    from: NaiveDate,
    to: NaiveDate,
    tz: &str,
    format: ExportFormat,
    include_breakdown: bool,
) -> Result<ExportFile, ExportError> {
    let rows = if e.nothing {
        Vec::new()
    } else {
        db::daily(
            pool,
            &e.filter(from, to),
            e.grouping(),
            include_breakdown,
            tz,
        )
        .await?
    };
    let (breakdown, summary): (Vec<DailyRow>, Vec<DailyRow>) =
        rows.into_iter().partition(|r| r.loteria_id.is_some());
    let named = |f: fn(&DailyRow) -> Option<String>| summary.iter().find_map(f);
    let report = Report {
        dimension: e.dimension,
        from,
        to,
        ventana_name: e.ventana_id.and_then(|_| named(|r| r.ventana_name.clone())),
        vendedor_name: e
            .vendedor_id
            .and_then(|_| named(|r| r.vendedor_name.clone())),
        summary,
        breakdown,
    };
    let bytes = match format {
        ExportFormat::Csv => csv(&report).into_bytes(),
        ExportFormat::Xlsx => xlsx(&report)?,
    };
    Ok(ExportFile {
        filename: filename(&report, format),
        content_type: format.content_type(),
        bytes,
    })
}

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error("xlsx: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
}

fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.to_lowercase().chars() {
        if c.is_alphanumeric() && c.is_ascii() {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let t = out.trim_matches('-').to_string();
    if t.is_empty() {
        "todos".into()
    } else {
        t
    }
}

/// `comisiones-<listeros|vendedores>-<name|todos>-<from>[_<to>].<ext>`.
fn filename(r: &Report, format: ExportFormat) -> String {
    let kind = match r.dimension {
        Dimension::Ventana => "listeros",
        Dimension::Vendedor => "vendedores",
    };
    let name = match r.dimension {
        Dimension::Ventana => r.ventana_name.as_deref(),
        Dimension::Vendedor => r.vendedor_name.as_deref(),
    }
    .map_or_else(|| "todos".to_string(), slug);
    let period = if r.from == r.to {
        r.from.to_string()
    } else {
        format!("{}_{}", r.from, r.to)
    };
    format!("comisiones-{kind}-{name}-{period}.{}", format.extension())
}

fn dmy(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

/// Amounts with exactly 2 decimals.
fn amount(v: Decimal) -> String {
    crate::domain::commission::money_text(v)
}

fn esc(v: &str) -> String {
    let v = crate::services::exports::safe_text(v);
    if v.contains([',', '\n', '\r', '"']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v
    }
}

fn entity(r: &DailyRow, dimension: Dimension) -> String {
    match dimension {
        Dimension::Ventana => r.ventana_name.clone(),
        Dimension::Vendedor => r.vendedor_name.clone(),
    }
    .unwrap_or_else(|| "TODOS".to_string())
}

/// The row of the summary section: the seller's columns first for dimension vendedor.
fn summary_cells(r: &DailyRow, dimension: Dimension) -> (Decimal, Decimal, Decimal) {
    match dimension {
        Dimension::Ventana => (r.listero, r.vendedor, r.listero - r.vendedor),
        Dimension::Vendedor => (r.vendedor, r.listero, r.sales - r.payouts - r.listero),
    }
}

fn summary_header(dimension: Dimension) -> [&'static str; 7] {
    match dimension {
        Dimension::Ventana => [
            "Fecha",
            "Listero",
            "Total Ventas",
            "Total Tickets",
            "Comisión Listero",
            "Comisión Vendedor",
            "Ganancia Listero",
        ],
        Dimension::Vendedor => [
            "Fecha",
            "Vendedor",
            "Total Ventas",
            "Total Tickets",
            "Comisión Vendedor",
            "Comisión Listero",
            "Ganancia Neta",
        ],
    }
}

fn breakdown_header(dimension: Dimension) -> [&'static str; 9] {
    [
        "Fecha",
        match dimension {
            Dimension::Ventana => "Listero",
            Dimension::Vendedor => "Vendedor",
        },
        "Lotería",
        "Sorteo",
        "Multiplicador",
        "Ventas",
        "Comisión",
        "% Comisión",
        "Tickets",
    ]
}

/// The commission of a breakdown row for the dimension.
fn breakdown_commission(r: &DailyRow, dimension: Dimension) -> Decimal {
    match dimension {
        Dimension::Ventana => r.listero,
        Dimension::Vendedor => r.vendedor,
    }
}

/// `(sales, tickets, listero, vendedor, net)` over the summary rows.
fn totals(r: &Report) -> (Decimal, i64, Decimal, Decimal, Decimal) {
    r.summary.iter().fold(
        (
            Decimal::ZERO,
            0,
            Decimal::ZERO,
            Decimal::ZERO,
            Decimal::ZERO,
        ),
        |(s, t, l, v, n), x| {
            (
                s + x.sales,
                t + x.tickets,
                l + x.listero,
                v + x.vendedor,
                n + (x.sales - x.payouts - x.listero),
            )
        },
    )
}

/// The totals section's `(label, value)` lines.
fn total_lines(r: &Report) -> Vec<(&'static str, String)> {
    let (sales, tickets, listero, vendedor, net) = totals(r);
    let mut out = vec![
        ("Total Ventas", amount(sales)),
        ("Total Tickets", tickets.to_string()),
    ];
    match r.dimension {
        Dimension::Ventana => out.extend([
            ("Total Comisión Listero", amount(listero)),
            ("Total Comisión Vendedor", amount(vendedor)),
            ("Total Ganancia Listero", amount(listero - vendedor)),
        ]),
        Dimension::Vendedor => out.extend([
            ("Total Comisión Vendedor", amount(vendedor)),
            ("Total Comisión Listero", amount(listero)),
            ("Total Ganancia Neta", amount(net)),
        ]),
    }
    out
}

/// The CSV: UTF-8 with BOM, `\n` line ends; title lines, summary, breakdown (when asked and
/// not empty), totals.
fn csv(r: &Report) -> String {
    let mut lines: Vec<String> = vec![
        "Reporte de Comisiones".into(),
        format!("Período,{} - {}", dmy(r.from), dmy(r.to)),
        format!(
            "Dimensión,{}",
            match r.dimension {
                Dimension::Ventana => "Listeros",
                Dimension::Vendedor => "Vendedores",
            }
        ),
    ];
    if let Some(n) = &r.ventana_name {
        lines.push(format!("Listero,{}", esc(n)));
    }
    if let Some(n) = &r.vendedor_name {
        lines.push(format!("Vendedor,{}", esc(n)));
    }
    lines.push(String::new());
    lines.push(summary_header(r.dimension).join(","));
    for x in &r.summary {
        let (a, b, c) = summary_cells(x, r.dimension);
        lines.push(format!(
            "{},{},{},{},{},{},{}",
            dmy(x.d),
            esc(&entity(x, r.dimension)),
            amount(x.sales),
            x.tickets,
            amount(a),
            amount(b),
            amount(c)
        ));
    }
    if !r.breakdown.is_empty() {
        lines.push(String::new());
        lines.push("DESGLOSE POR LOTERÍA Y MULTIPLICADOR".into());
        lines.push(String::new());
        lines.push(breakdown_header(r.dimension).join(","));
        for x in &r.breakdown {
            let c = breakdown_commission(x, r.dimension);
            lines.push(format!(
                "{},{},{},{},{},{},{},{}%,{}",
                dmy(x.d),
                esc(&entity(x, r.dimension)),
                esc(x.loteria_name.as_deref().unwrap_or("")),
                esc(x.sorteo_time.as_deref().unwrap_or("")),
                esc(x.multiplier_name.as_deref().unwrap_or("")),
                amount(x.sales),
                amount(c),
                amount(percent(c, x.sales)),
                x.tickets
            ));
        }
    }
    lines.push(String::new());
    lines.push("TOTALES".into());
    for (label, value) in total_lines(r) {
        lines.push(format!("{label},{value}"));
    }
    format!("\u{feff}{}\n", lines.join("\n"))
}

use crate::domain::commission::money_cell as cell;

/// The workbook: sheet `Comisiones` (summary + totals) and, when asked and not empty,
/// `Desglose por Lotería`.
fn xlsx(r: &Report) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, Workbook};
    let bold = Format::new().set_bold();
    let money_fmt = Format::new().set_num_format("#,##0.00");
    let mut wb = Workbook::new();
    {
        let ws = wb.add_worksheet();
        ws.set_name("Comisiones")?;
        for (c, h) in summary_header(r.dimension).iter().enumerate() {
            ws.write_string_with_format(0, c as u16, *h, &bold)?;
        }
        let mut row = 1u32;
        for x in &r.summary {
            let (a, b, c) = summary_cells(x, r.dimension);
            ws.write_string(row, 0, dmy(x.d))?;
            ws.write_string(row, 1, entity(x, r.dimension))?;
            ws.write_number_with_format(row, 2, cell(x.sales), &money_fmt)?;
            ws.write_number(row, 3, x.tickets as f64)?;
            ws.write_number_with_format(row, 4, cell(a), &money_fmt)?;
            ws.write_number_with_format(row, 5, cell(b), &money_fmt)?;
            ws.write_number_with_format(row, 6, cell(c), &money_fmt)?;
            row += 1;
        }
        row += 1;
        ws.write_string_with_format(row, 0, "TOTALES", &bold)?;
        for (label, value) in total_lines(r) {
            row += 1;
            ws.write_string(row, 0, label)?;
            ws.write_string(row, 1, value)?;
        }
        for c in 0..7u16 {
            ws.set_column_width(c, 18)?;
        }
    }
    if !r.breakdown.is_empty() {
        let ws = wb.add_worksheet();
        ws.set_name("Desglose por Lotería")?;
        for (c, h) in breakdown_header(r.dimension).iter().enumerate() {
            ws.write_string_with_format(0, c as u16, *h, &bold)?;
        }
        for (i, x) in r.breakdown.iter().enumerate() {
            let row = i as u32 + 1;
            let c = breakdown_commission(x, r.dimension);
            ws.write_string(row, 0, dmy(x.d))?;
            ws.write_string(row, 1, entity(x, r.dimension))?;
            ws.write_string(row, 2, x.loteria_name.clone().unwrap_or_default())?;
            ws.write_string(row, 3, x.sorteo_time.clone().unwrap_or_default())?;
            ws.write_string(row, 4, x.multiplier_name.clone().unwrap_or_default())?;
            ws.write_number_with_format(row, 5, cell(x.sales), &money_fmt)?;
            ws.write_number_with_format(row, 6, cell(c), &money_fmt)?;
            ws.write_number_with_format(row, 7, cell(percent(c, x.sales)), &money_fmt)?;
            ws.write_number(row, 8, x.tickets as f64)?;
        }
        for c in 0..9u16 {
            ws.set_column_width(c, 16)?;
        }
    }
    wb.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_and_percentages() {
        assert_eq!(slug("Ventana Central #1"), "ventana-central-1");
        assert_eq!(slug("Ñ"), "todos");
        assert_eq!(
            percent(Decimal::new(1950, 2), Decimal::new(190, 0)),
            Decimal::new(1026, 2)
        );
        assert_eq!(percent(Decimal::ONE, Decimal::ZERO), Decimal::ZERO);
        assert_eq!(esc("a,b"), "\"a,b\"");
        assert_eq!(esc("a\"b"), "\"a\"\"b\"");
        assert_eq!(esc("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(esc("@x,y"), "\"'@x,y\"");
    }
}
