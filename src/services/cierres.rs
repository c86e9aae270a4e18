//! Cierres (domain-money §4, §7): the operational closing of a period by lotería → sorteo →
//! band, by seller, one seller's detail, and the XLSX and CSV exports, all read from the report
//! rollups (`db::cierres`).
//!
//! Metrics (§4.2), per band and summed upwards: `totalVendida` = Σ sales, `ganado` = Σ payouts,
//! `comisionTotal` = Σ listero (ventana) commission, `netoDespuesComision` = vendida − ganado −
//! comisión, `jugadasCount`, `ticketsCount` (distinct tickets; over several bands they come
//! from `ticket_rollup`/`ventana_rollup`, see `db::cierres`), `refuerzos` always 0. A band
//! entry also splits into `numero` and `reventado` when the band has lines of that type. Money
//! is exact (sums of the stored two-decimal amounts; nothing is divided).
//!
//! Bands: a NUMERO line's band is its sale-time multiplier; a REVENTADO line's the smallest
//! NUMERO multiplier of its number on the same ticket. Keys render the number as written
//! (`"80"`, `"92.5"`).
//!
//! Decision: Banca never drops money from a cierre. The reference drops lines whose band has
//! no active multiplier; here they stay in the report under their band (a REVENTADO line
//! without a NUMERO line of its number has band 0) and are also reported in
//! `meta.anomalies {outOfBandCount (jugadas), examples (≤ 10)}`, so cierre totals equal the
//! account statements to the cent.
//!
//! Decision: `GET /cierres/by-seller` defaults to `depth=summary` (per seller: metrics and
//! bands). The reference defaults to `full` (every seller's lotería → sorteo → band tree),
//! which for 200 sellers over 30 days is a 40 MB answer that takes seconds and gigabytes of
//! server memory to build. The tree stays available with `depth=full`, and lazily per seller
//! through `GET /cierres/by-seller/{vendedorId}/detail`, the route the spec made for it.
//!
//! `meta`: `effectiveFilters`, `range`, `bandsUsed {byLoteria, global, details}`, `configHash`
//! (sha256 hex of the sorted band keys joined by commas) and `anomalies`.
//!
//! Queries: each request reads `sales_rollup` once, grouped at the grain of its answer (per
//! sorteo × type × band for weekly and detail, per seller × lotería × type × band for
//! by-seller, the rollup rows themselves for `depth=full`); the types of a band are folded
//! into one [`Cell`] here, and `meta` (bands used, anomalies) is derived from the same rows
//! (by-seller asks the database for the anomalies' sorteos only when some row is out of band).
//! Ticket counts over several bands come from `ventana_rollup`/`ticket_rollup`, seller totals
//! of the exports from `ticket_rollup` alone.
//!
//! Exports (§7): XLSX `view=total` (default): one `Banda <n>` sheet per band (lotería, sorteo
//! with the date prefixed when the period has more than one day, money columns, lotería
//! subtotals, TOTAL BANDA), `Cierre Total` (per band and TOTAL GLOBAL) and `Cierre por
//! Vendedor`; `view=seller`: one sheet per band with a line per vendedor × lotería × day ×
//! turno × type, seller subtotals and TOTAL BANDA (one header row, the reference's date-group
//! pivot is not reproduced); `view=<band>`: that band's sheet only. CSV: one line per band ×
//! vendedor × ventana × lotería × turno × type × day with non-zero sales. `top`/`orderBy` cut
//! and order the sellers of the seller-oriented outputs (the CSV, `view=seller` and `Cierre
//! por Vendedor`); band sheets and `Cierre Total` always hold the whole scope. Both formats are
//! written while the rows stream from the database, each statement run once.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use futures::TryStreamExt;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use rust_xlsxwriter::{Format, FormatAlign, Workbook, Worksheet, XlsxError};
use serde::{Serialize, Serializer};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::db::cierres::{self as db, Anomaly, BandUse, Filter, Grain, Line, Row};
use crate::domain::commission::money_cell;
use crate::domain::schedule;
use crate::services::exports::{money_text, safe_text};
use crate::services::report_scope::ReportScope;

/// The longest period of a cierre: `to − from` at most 90 days.
pub const MAX_SPAN_DAYS: i64 = 90;

/// The rollup filter of a caller's scope over `[from, to]`. A scope that sees nothing gets a
/// banca that does not exist.
pub fn filter(scope: &ReportScope, from: NaiveDate, to: NaiveDate) -> Filter {
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
        vendedores: None,
        band: None,
    }
}

// ---------------------------------------------------------------------------------------------
// Wire shapes.

/// A band number: an integer in JSON when whole, else a decimal number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Band(pub Decimal);

impl Band {
    /// The band as a key: `"80"`, `"92.5"`.
    pub fn key(&self) -> String {
        self.0.normalize().to_string()
    }
}

impl Serialize for Band {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let n = self.0.normalize();
        match (n.fract().is_zero(), n.to_i64()) {
            (true, Some(i)) => s.serialize_i64(i),
            _ => s.serialize_f64(n.to_f64().unwrap_or_default()),
        }
    }
}

/// The figures of §4.2.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Metrics {
    pub total_vendida: Decimal,
    pub ganado: Decimal,
    pub comision_total: Decimal,
    pub neto_despues_comision: Decimal,
    pub tickets_count: i64,
    pub jugadas_count: i64,
    /// Always 0 (the reference's placeholder).
    pub refuerzos: i64,
}

impl Metrics {
    fn new(sales: Decimal, payouts: Decimal, listero: Decimal, tickets: i64, jugadas: i64) -> Self {
        Metrics {
            total_vendida: sales,
            ganado: payouts,
            comision_total: listero,
            neto_despues_comision: sales - payouts - listero,
            tickets_count: tickets,
            jugadas_count: jugadas,
            refuerzos: 0,
        }
    }

    fn add(&mut self, o: &Metrics) {
        self.total_vendida += o.total_vendida;
        self.ganado += o.ganado;
        self.comision_total += o.comision_total;
        self.neto_despues_comision += o.neto_despues_comision;
        self.tickets_count += o.tickets_count;
        self.jugadas_count += o.jugadas_count;
    }

    fn metric(&self, by: OrderBy) -> Decimal {
        match by {
            OrderBy::TotalVendida => self.total_vendida,
            OrderBy::Ganado => self.ganado,
            OrderBy::NetoDespuesComision => self.neto_despues_comision,
        }
    }
}

fn add_opt(into: &mut Option<Metrics>, o: &Option<Metrics>) {
    match (into.as_mut(), o) {
        (Some(a), Some(b)) => a.add(b),
        (None, Some(b)) => *into = Some(b.clone()),
        _ => {}
    }
}

/// One band of a group.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct BandFigures {
    pub band: Band,
    #[serde(flatten)]
    pub metrics: Metrics,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub numero: Option<Metrics>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reventado: Option<Metrics>,
}

impl BandFigures {
    fn of(c: &Cell) -> Self {
        let (n, r) = (
            c.numero.unwrap_or_default(),
            c.reventado.unwrap_or_default(),
        );
        BandFigures {
            band: Band(c.band),
            metrics: Metrics::new(
                n.sales + r.sales,
                n.payouts + r.payouts,
                n.listero + r.listero,
                c.tickets(),
                n.jugadas + r.jugadas,
            ),
            numero: c.numero.as_ref().map(Part::metrics),
            reventado: c.reventado.as_ref().map(Part::metrics),
        }
    }

    fn add(&mut self, o: &BandFigures) {
        self.metrics.add(&o.metrics);
        add_opt(&mut self.numero, &o.numero);
        add_opt(&mut self.reventado, &o.reventado);
    }
}

/// Bands by number; a JSON object keyed by [`Band::key`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Bands(pub BTreeMap<Band, BandFigures>);

impl Bands {
    fn add(&mut self, f: &BandFigures) {
        match self.0.get_mut(&f.band) {
            Some(b) => b.add(f),
            None => {
                self.0.insert(f.band, f.clone());
            }
        }
    }

    /// Σ over the bands, with `tickets` as the ticket count.
    fn sum(&self, tickets: i64) -> Metrics {
        let mut m = Metrics::default();
        for b in self.0.values() {
            m.add(&b.metrics);
        }
        m.tickets_count = tickets;
        m
    }
}

impl Serialize for Bands {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(&k.key(), v)?;
        }
        m.end()
    }
}

/// An id and a name.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Named {
    pub id: Uuid,
    pub name: String,
}

/// A sorteo of the cierre.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SorteoRef {
    pub id: Uuid,
    /// `HH:MM` of the draw in the business time zone.
    pub turno: String,
    /// The business day.
    pub fecha: NaiveDate,
    /// The draw time with the business offset.
    pub scheduled_at: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SorteoBlock {
    pub sorteo: SorteoRef,
    pub bands: Bands,
    pub subtotal: Metrics,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct LoteriaBlock {
    pub loteria: Named,
    pub sorteos: Vec<SorteoBlock>,
    pub subtotal: Metrics,
}

/// `GET /cierres/weekly`.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Weekly {
    pub loterias: Vec<LoteriaBlock>,
    /// Every band over the whole period.
    pub bands: Bands,
    pub totals: Metrics,
}

/// One seller (vendedor × ventana) of `GET /cierres/by-seller`.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SellerBlock {
    pub vendedor_id: Uuid,
    pub vendedor_nombre: String,
    pub ventana_id: Uuid,
    pub ventana_nombre: String,
    #[serde(flatten)]
    pub metrics: Metrics,
    pub bands: Bands,
    /// `depth=full` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loterias: Option<Vec<LoteriaBlock>>,
}

/// `GET /cierres/by-seller`: `totals` over the sellers kept by `top`.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct BySeller {
    pub totals: Metrics,
    pub vendedores: Vec<SellerBlock>,
}

/// `GET /cierres/by-seller/{vendedorId}/detail` (null when the seller sold nothing).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Detail {
    pub vendedor: Named,
    pub bands: Bands,
    pub loterias: Vec<LoteriaBlock>,
    pub subtotal: Metrics,
}

/// `orderBy` of the seller views (always descending).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub enum OrderBy {
    #[default]
    TotalVendida,
    Ganado,
    NetoDespuesComision,
}

impl OrderBy {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "totalVendida" => Some(OrderBy::TotalVendida),
            "ganado" => Some(OrderBy::Ganado),
            "netoDespuesComision" => Some(OrderBy::NetoDespuesComision),
            _ => None,
        }
    }
}

/// `depth` of `by-seller`: `summary` (default, see the module docs) or `full`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Depth {
    #[default]
    Summary,
    Full,
}

impl Depth {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "summary" => Some(Depth::Summary),
            "full" => Some(Depth::Full),
            _ => None,
        }
    }
}

/// How the sellers are ordered and cut.
#[derive(Debug, Clone, Copy, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SellerOpts {
    pub order_by: OrderBy,
    pub top: Option<usize>,
    pub depth: Depth,
}

// ---------------------------------------------------------------------------------------------
// Folding rows into cells.

/// One bet type's figures in a [`Cell`].
#[derive(Debug, Clone, Copy, Default)]
struct Part {
    sales: Decimal,
    payouts: Decimal,
    listero: Decimal,
    jugadas: i64,
    tickets: i64,
}

impl Part {
    fn add(&mut self, r: &Row) {
        self.sales += r.sales;
        self.payouts += r.payouts;
        self.listero += r.listero;
        self.jugadas += r.jugadas;
        self.tickets += r.tickets;
    }

    fn metrics(&self) -> Metrics {
        Metrics::new(
            self.sales,
            self.payouts,
            self.listero,
            self.tickets,
            self.jugadas,
        )
    }
}

/// One band of one group: the rows of both bet types (and both `in_band` values) folded.
#[derive(Debug, Clone)]
struct Cell {
    loteria_id: Uuid,
    loteria_name: String,
    sorteo_id: Option<Uuid>,
    scheduled_at: Option<DateTime<Utc>>,
    business_date: Option<NaiveDate>,
    band: Decimal,
    numero: Option<Part>,
    reventado: Option<Part>,
}

impl Cell {
    fn of(r: &Row) -> Self {
        let mut c = Cell {
            loteria_id: r.loteria_id,
            loteria_name: r.loteria_name.clone(),
            sorteo_id: r.sorteo_id,
            scheduled_at: r.scheduled_at,
            business_date: r.business_date,
            band: r.band,
            numero: None,
            reventado: None,
        };
        c.add(r);
        c
    }

    fn add(&mut self, r: &Row) {
        let part = if r.reventado {
            &mut self.reventado
        } else {
            &mut self.numero
        };
        part.get_or_insert_with(Part::default).add(r);
    }

    /// `r` belongs to this cell: same lotería, sorteo, day and band.
    fn holds(&self, r: &Row) -> bool {
        self.band == r.band
            && self.sorteo_id == r.sorteo_id
            && self.business_date == r.business_date
            && self.loteria_id == r.loteria_id
    }

    /// Distinct tickets of the band: the larger of the two types' (see `db::cierres`).
    fn tickets(&self) -> i64 {
        let n = self.numero.map_or(0, |p| p.tickets);
        let r = self.reventado.map_or(0, |p| p.tickets);
        n.max(r)
    }
}

/// Folds consecutive rows of one cell (rows ordered with the cell's keys first).
#[derive(Default)]
struct Folder {
    pending: Option<Cell>,
}

impl Folder {
    /// Adds `r`; returns the previous cell when `r` starts a new one.
    fn push(&mut self, r: &Row) -> Option<Cell> {
        match self.pending.as_mut() {
            Some(c) if c.holds(r) => {
                c.add(r);
                None
            }
            _ => self.pending.replace(Cell::of(r)),
        }
    }

    fn finish(self) -> Option<Cell> {
        self.pending
    }
}

/// The cells of ordered `rows`.
fn fold<'a>(rows: impl IntoIterator<Item = &'a Row>) -> Vec<Cell> {
    let mut folder = Folder::default();
    let mut out: Vec<Cell> = rows.into_iter().filter_map(|r| folder.push(r)).collect();
    out.extend(folder.finish());
    out
}

// ---------------------------------------------------------------------------------------------
// Building the shapes from cells.

fn sorteo_ref(c: &Cell, tz: Tz) -> Option<SorteoRef> {
    let at = c.scheduled_at?;
    Some(SorteoRef {
        id: c.sorteo_id?,
        turno: at.with_timezone(&tz).format("%H:%M").to_string(),
        fecha: c.business_date?,
        scheduled_at: schedule::local_iso(at, tz),
    })
}

/// Lotería → sorteo → band blocks of `cells` (ordered by lotería, sorteo, day), the bands over
/// all of them and the totals. `tickets(sorteo, day)` gives a sorteo's distinct tickets.
fn loterias_of<'a>(
    cells: impl IntoIterator<Item = &'a Cell>,
    tickets: impl Fn(Uuid, NaiveDate) -> i64,
    tz: Tz,
) -> (Vec<LoteriaBlock>, Bands, Metrics) {
    let mut out: Vec<LoteriaBlock> = Vec::new();
    let mut all = Bands::default();
    for c in cells {
        let Some(sref) = sorteo_ref(c, tz) else {
            continue;
        };
        let lid = c.loteria_id;
        let fig = BandFigures::of(c);
        all.add(&fig);
        if out.last().is_none_or(|l| l.loteria.id != lid) {
            out.push(LoteriaBlock {
                loteria: Named {
                    id: lid,
                    name: c.loteria_name.clone(),
                },
                sorteos: Vec::new(),
                subtotal: Metrics::default(),
            });
        }
        let Some(lot) = out.last_mut() else { continue };
        if lot
            .sorteos
            .last()
            .is_none_or(|s| s.sorteo.id != sref.id || s.sorteo.fecha != sref.fecha)
        {
            lot.sorteos.push(SorteoBlock {
                sorteo: sref,
                bands: Bands::default(),
                subtotal: Metrics::default(),
            });
        }
        if let Some(s) = lot.sorteos.last_mut() {
            s.bands.add(&fig);
        }
    }
    let mut totals = Metrics::default();
    for lot in &mut out {
        let mut sub = Metrics::default();
        for s in &mut lot.sorteos {
            s.subtotal = s.bands.sum(tickets(s.sorteo.id, s.sorteo.fecha));
            sub.add(&s.subtotal);
        }
        lot.subtotal = sub;
        totals.add(&lot.subtotal);
    }
    (out, all, totals)
}

/// An empty block of seller `(vendedor, ventana)` named as in `r`.
fn seller_block(vendedor: Uuid, ventana: Uuid, r: &Row) -> SellerBlock {
    SellerBlock {
        vendedor_id: vendedor,
        vendedor_nombre: r.vendedor_name.clone().unwrap_or_default(),
        ventana_id: ventana,
        ventana_nombre: r.ventana_name.clone().unwrap_or_default(),
        metrics: Metrics::default(),
        bands: Bands::default(),
        loterias: None,
    }
}

/// Seller blocks (metrics and bands) of seller-grain `rows`; `tickets[(vendedor, ventana)]`.
fn sellers_of(rows: &[Row], tickets: &HashMap<(Uuid, Uuid), i64>) -> Vec<SellerBlock> {
    let mut per: HashMap<(Uuid, Uuid), (SellerBlock, BTreeMap<Band, Cell>)> = HashMap::new();
    for r in rows {
        let (Some(vid), Some(wid)) = (r.vendedor_id, r.ventana_id) else {
            continue;
        };
        let (_, cells) = per
            .entry((vid, wid))
            .or_insert_with(|| (seller_block(vid, wid, r), BTreeMap::new()));
        match cells.get_mut(&Band(r.band)) {
            Some(c) => c.add(r),
            None => {
                cells.insert(Band(r.band), Cell::of(r));
            }
        }
    }
    per.into_values()
        .map(|(mut s, cells)| {
            for c in cells.values() {
                s.bands.add(&BandFigures::of(c));
            }
            s.metrics = s.bands.sum(
                tickets
                    .get(&(s.vendedor_id, s.ventana_id))
                    .copied()
                    .unwrap_or(0),
            );
            s
        })
        .collect()
}

/// Orders `sellers` by `by` (descending; ties by name and ids) and keeps the first `top`.
fn rank(sellers: &mut Vec<SellerBlock>, by: OrderBy, top: Option<usize>) {
    sellers.sort_by(|a, b| {
        b.metrics
            .metric(by)
            .cmp(&a.metrics.metric(by))
            .then_with(|| a.vendedor_nombre.cmp(&b.vendedor_nombre))
            .then_with(|| a.vendedor_id.cmp(&b.vendedor_id))
            .then_with(|| a.ventana_id.cmp(&b.ventana_id))
    });
    if let Some(n) = top {
        sellers.truncate(n);
    }
}

/// The sellers of `f` with their totals (no bands), ranked and cut by `opts`: one
/// `ticket_rollup` query (the exports' seller sheet and `top` cut).
async fn ranked_totals(
    pool: &PgPool,
    f: &Filter,
    opts: SellerOpts,
) -> Result<Vec<SellerBlock>, sqlx::Error> {
    let mut sellers: Vec<SellerBlock> = db::seller_totals(pool, f)
        .await?
        .into_iter()
        .map(|t| SellerBlock {
            vendedor_id: t.vendedor_id,
            vendedor_nombre: t.vendedor_name,
            ventana_id: t.ventana_id,
            ventana_nombre: t.ventana_name,
            metrics: Metrics::new(t.sales, t.payouts, t.listero, t.tickets, t.jugadas),
            bands: Bands::default(),
            loterias: None,
        })
        .collect();
    rank(&mut sellers, opts.order_by, opts.top);
    Ok(sellers)
}

fn to_json<T: Serialize>(v: &T) -> Result<Value, sqlx::Error> {
    serde_json::to_value(v).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

// ---------------------------------------------------------------------------------------------
// Meta.

/// The bands used per lotería of `rows`, by lotería name, lotería and band.
fn bands_used(rows: &[Row]) -> Vec<BandUse> {
    let mut used: BTreeMap<(i64, Uuid, Decimal), BandUse> = BTreeMap::new();
    for r in rows {
        let u = used
            .entry((r.loteria_ord, r.loteria_id, r.band))
            .or_insert_with(|| BandUse {
                loteria_id: r.loteria_id,
                loteria_name: r.loteria_name.clone(),
                band: r.band,
                out_of_band: false,
                jugadas: 0,
            });
        u.out_of_band |= r.out_of_band();
        u.jugadas += r.jugadas;
    }
    used.into_values().collect()
}

/// The out-of-band groups of `rows` (a grain with the sorteo), per lotería × sorteo × day ×
/// type × band, by day, lotería name, draw time, type, band (then lotería and sorteo).
fn anomalies_of(rows: &[Row]) -> Vec<Anomaly> {
    type Key = (NaiveDate, i64, DateTime<Utc>, bool, Decimal, Uuid, Uuid);
    let mut out: BTreeMap<Key, Anomaly> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.out_of_band()) {
        let (Some(sorteo_id), Some(at), Some(day)) = (r.sorteo_id, r.scheduled_at, r.business_date)
        else {
            continue;
        };
        let a = out
            .entry((
                day,
                r.loteria_ord,
                at,
                r.reventado,
                r.band,
                r.loteria_id,
                sorteo_id,
            ))
            .or_insert_with(|| Anomaly {
                loteria_id: r.loteria_id,
                loteria_name: r.loteria_name.clone(),
                sorteo_id,
                scheduled_at: at,
                business_date: day,
                bet_type: if r.reventado { "REVENTADO" } else { "NUMERO" }.to_string(),
                band: r.band,
                jugadas: 0,
                sales: Decimal::ZERO,
            });
        a.jugadas += r.jugadas;
        a.sales += r.sales;
    }
    out.into_values().collect()
}

/// `meta` of a JSON cierre: the effective filters and range given, the bands used (`used`),
/// their hash and the out-of-band `anomalies` of `f`.
fn meta(f: &Filter, effective: &Value, used: &[BandUse], anomalies: &[Anomaly]) -> Value {
    let mut by_loteria: BTreeMap<String, Vec<Band>> = BTreeMap::new();
    let mut global: Vec<Band> = Vec::new();
    let mut details = Vec::new();
    for u in used {
        by_loteria
            .entry(u.loteria_id.to_string())
            .or_default()
            .push(Band(u.band));
        global.push(Band(u.band));
        details.push(json!({
            "loteriaId": u.loteria_id,
            "loteriaName": u.loteria_name,
            "band": Band(u.band),
            "jugadasCount": u.jugadas,
            "inBand": !u.out_of_band,
        }));
    }
    global.sort();
    global.dedup();
    let keys: Vec<String> = global.iter().map(Band::key).collect();
    let hash = Sha256::digest(keys.join(",").as_bytes());
    let config_hash: String = hash.iter().map(|b| format!("{b:02x}")).collect();
    let count: i64 = anomalies.iter().map(|a| a.jugadas).sum();
    let examples: Vec<Value> = anomalies
        .iter()
        .take(10)
        .map(|a| {
            json!({
                "loteriaId": a.loteria_id,
                "loteriaName": a.loteria_name,
                "sorteoId": a.sorteo_id,
                "scheduledAt": a.scheduled_at,
                "fecha": a.business_date,
                "tipo": a.bet_type,
                "band": Band(a.band),
                "jugadasCount": a.jugadas,
                "totalVendida": a.sales,
                "reason": if a.band.is_zero() { "REVENTADO_WITHOUT_NUMERO" } else { "NO_ACTIVE_MULTIPLIER" },
            })
        })
        .collect();
    json!({
        "effectiveFilters": effective,
        "range": {"from": f.from, "to": f.to, "days": (f.to - f.from).num_days() + 1},
        "bandsUsed": {"byLoteria": by_loteria, "global": global, "details": details},
        "configHash": config_hash,
        "anomalies": {"outOfBandCount": count, "examples": examples},
    })
}

// ---------------------------------------------------------------------------------------------
// JSON reports.

/// Tickets per sorteo × day of `f`.
async fn sorteo_tickets(
    pool: &PgPool,
    f: &Filter,
) -> Result<HashMap<(Uuid, NaiveDate), i64>, sqlx::Error> {
    Ok(db::tickets(pool, f, true, false)
        .await?
        .into_iter()
        .filter_map(|t| Some(((t.sorteo_id?, t.business_date?), t.tickets)))
        .collect())
}

/// `GET /cierres/weekly`: `(data, meta)`. One pass over `sales_rollup` per sorteo × type ×
/// band (cells, bands used and anomalies), tickets per sorteo from `ventana_rollup`.
pub async fn weekly(
    pool: &PgPool,
    f: &Filter,
    tz: Tz,
    effective: &Value,
) -> Result<(Value, Value), sqlx::Error> {
    let (rows, tickets) =
        tokio::try_join!(db::rows(pool, f, Grain::Sorteo), sorteo_tickets(pool, f))?;
    let cells = fold(&rows);
    let (loterias, bands, totals) = loterias_of(
        &cells,
        |s, d| tickets.get(&(s, d)).copied().unwrap_or(0),
        tz,
    );
    let data = to_json(&Weekly {
        loterias,
        bands,
        totals,
    })?;
    Ok((
        data,
        meta(f, effective, &bands_used(&rows), &anomalies_of(&rows)),
    ))
}

/// `GET /cierres/by-seller`: `(data, meta)`.
pub async fn by_seller(
    pool: &PgPool,
    f: &Filter,
    tz: Tz,
    opts: SellerOpts,
    effective: &Value,
) -> Result<(Value, Value), sqlx::Error> {
    let (sellers, meta) = match opts.depth {
        Depth::Summary => by_seller_summary(pool, f, opts, effective).await?,
        Depth::Full => by_seller_full(pool, f, tz, opts, effective).await?,
    };
    let mut totals = Metrics::default();
    for s in &sellers {
        totals.add(&s.metrics);
    }
    let data = to_json(&BySeller {
        totals,
        vendedores: sellers,
    })?;
    Ok((data, meta))
}

/// `depth=summary`: seller × type × band from `seller_day_rollup` (with the bands used per
/// lotería from `band_rollup`/`sales_rollup`), or, narrowed to a lotería or sorteo, one pass
/// over `sales_rollup` per seller × lotería × type × band; tickets per seller from
/// `seller_day_tickets`/`ticket_rollup`; the anomalies' sorteos are asked for only when some
/// band is out of band.
async fn by_seller_summary(
    pool: &PgPool,
    f: &Filter,
    opts: SellerOpts,
    effective: &Value,
) -> Result<(Vec<SellerBlock>, Value), sqlx::Error> {
    // The day rollup's rows have no lotería: the bands used per lotería are read apart.
    let read_uses = async {
        if Grain::Seller.from_day_rollup(f) {
            db::band_uses(pool, f).await.map(Some)
        } else {
            Ok(None)
        }
    };
    let (rows, tickets, uses) = tokio::try_join!(
        db::rows(pool, f, Grain::Seller),
        db::tickets(pool, f, false, true),
        read_uses
    )?;
    let uses = uses.unwrap_or_else(|| bands_used(&rows));
    let tickets: HashMap<(Uuid, Uuid), i64> = tickets
        .into_iter()
        .filter_map(|t| Some(((t.vendedor_id?, t.ventana_id?), t.tickets)))
        .collect();
    let mut sellers = sellers_of(&rows, &tickets);
    rank(&mut sellers, opts.order_by, opts.top);
    let anomalies = if uses.iter().any(|u| u.out_of_band) {
        db::anomalies(pool, f).await?
    } else {
        Vec::new()
    };
    Ok((sellers, meta(f, effective, &uses, &anomalies)))
}

/// `depth=full`: the rollup rows of `f` (one read), tickets per seller × sorteo from
/// `ticket_rollup`; every figure and `meta` derived from them, the lotería trees built for
/// the sellers `top` keeps only.
async fn by_seller_full(
    pool: &PgPool,
    f: &Filter,
    tz: Tz,
    opts: SellerOpts,
    effective: &Value,
) -> Result<(Vec<SellerBlock>, Value), sqlx::Error> {
    let (rows, tickets) = tokio::try_join!(
        db::rows(pool, f, Grain::SellerSorteo),
        db::tickets(pool, f, true, true)
    )?;
    let meta = meta(f, effective, &bands_used(&rows), &anomalies_of(&rows));
    let mut seller_tickets: HashMap<(Uuid, Uuid), i64> = HashMap::new();
    let mut sorteo_tickets: HashMap<(Uuid, Uuid, Uuid, NaiveDate), i64> = HashMap::new();
    for t in &tickets {
        let (Some(v), Some(w), Some(s), Some(d)) =
            (t.vendedor_id, t.ventana_id, t.sorteo_id, t.business_date)
        else {
            continue;
        };
        *seller_tickets.entry((v, w)).or_default() += t.tickets;
        *sorteo_tickets.entry((v, w, s, d)).or_default() += t.tickets;
    }
    // Rank on the sellers' totals (Σ of their rows), then build the tree of the kept ones.
    let mut per: HashMap<(Uuid, Uuid), Vec<&Row>> = HashMap::new();
    for r in &rows {
        if let (Some(v), Some(w)) = (r.vendedor_id, r.ventana_id) {
            per.entry((v, w)).or_default().push(r);
        }
    }
    let mut sellers: Vec<SellerBlock> = per
        .iter()
        .map(|(&(v, w), mine)| {
            let mut s = seller_block(v, w, mine[0]);
            let mut sum = Part::default();
            for r in mine {
                sum.add(r);
            }
            sum.tickets = seller_tickets.get(&(v, w)).copied().unwrap_or(0);
            s.metrics = sum.metrics();
            s
        })
        .collect();
    rank(&mut sellers, opts.order_by, opts.top);
    for s in &mut sellers {
        let key = (s.vendedor_id, s.ventana_id);
        let mut mine = per.remove(&key).unwrap_or_default();
        // Lotería → sorteo → band order, folded into cells.
        mine.sort_by(|a, b| {
            (a.loteria_ord, a.loteria_id)
                .cmp(&(b.loteria_ord, b.loteria_id))
                .then_with(|| a.scheduled_at.cmp(&b.scheduled_at))
                .then_with(|| a.sorteo_id.cmp(&b.sorteo_id))
                .then_with(|| a.business_date.cmp(&b.business_date))
                .then_with(|| a.band.cmp(&b.band))
                .then_with(|| a.reventado.cmp(&b.reventado))
        });
        let cells = fold(mine);
        let (lots, bands, _) = loterias_of(
            &cells,
            |so, d| {
                sorteo_tickets
                    .get(&(key.0, key.1, so, d))
                    .copied()
                    .unwrap_or(0)
            },
            tz,
        );
        s.metrics = bands.sum(seller_tickets.get(&key).copied().unwrap_or(0));
        s.bands = bands;
        s.loterias = Some(lots);
    }
    Ok((sellers, meta))
}

/// `GET /cierres/by-seller/{vendedorId}/detail` (`f.vendedor_id` set): `(data, meta)`; data is
/// null when the seller has no sales in the scope and period.
pub async fn detail(
    pool: &PgPool,
    f: &Filter,
    vendedor: Uuid,
    tz: Tz,
    effective: &Value,
) -> Result<(Value, Value), sqlx::Error> {
    let rows = db::rows(pool, f, Grain::Sorteo).await?;
    let data = if rows.is_empty() {
        Value::Null
    } else {
        let (tickets, name) =
            tokio::try_join!(sorteo_tickets(pool, f), db::vendedor_name(pool, vendedor))?;
        let cells = fold(&rows);
        let (loterias, bands, subtotal) = loterias_of(
            &cells,
            |s, d| tickets.get(&(s, d)).copied().unwrap_or(0),
            tz,
        );
        to_json(&Detail {
            vendedor: Named {
                id: vendedor,
                name: name.unwrap_or_default(),
            },
            bands,
            loterias,
            subtotal,
        })?
    };
    Ok((
        data,
        meta(f, effective, &bands_used(&rows), &anomalies_of(&rows)),
    ))
}

// ---------------------------------------------------------------------------------------------
// Exports.

/// What an export shows (`view`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum View {
    Total,
    Seller,
    Band(Decimal),
}

impl View {
    /// `total`, `seller` or a band number (`80`, `92.5`).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "total" => Some(View::Total),
            "seller" => Some(View::Seller),
            _ if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit() || b == b'.') => s
                .parse::<Decimal>()
                .ok()
                .filter(|d| *d > Decimal::ZERO && *d < Decimal::from(100_000))
                .map(View::Band),
            _ => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("xlsx: {0}")]
    Xlsx(#[from] XlsxError),
    #[error("csv: {0}")]
    Csv(#[from] csv::Error),
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    #[error("the client went away")]
    Closed,
}

/// The sellers kept by `opts.top` (all when it is not set): the filter of the seller-oriented
/// exports.
pub async fn top_filter(
    pool: &PgPool,
    f: &Filter,
    opts: SellerOpts,
) -> Result<Filter, sqlx::Error> {
    if opts.top.is_none() {
        return Ok(f.clone());
    }
    let mut ids: Vec<Uuid> = ranked_totals(pool, f, opts)
        .await?
        .iter()
        .map(|s| s.vendedor_id)
        .collect();
    ids.sort();
    ids.dedup();
    Ok(Filter {
        vendedores: Some(ids),
        ..f.clone()
    })
}

/// The CSV header.
pub const CSV_HEADER: [&str; 11] = [
    "banda", "vendedor", "ventana", "loteria", "turno", "tipo", "fecha", "venta", "premios",
    "comision", "neto",
];

const CHUNK: usize = 64 * 1024;

/// Writes the operational CSV of `f` (BOM, CRLF) into `tx` in chunks of about 64 KiB while the
/// lines stream from the database.
pub async fn csv_export(
    pool: &PgPool,
    f: &Filter,
    tz: Tz,
    tx: &mpsc::Sender<Result<Vec<u8>, std::io::Error>>,
) -> Result<(), ExportError> {
    let writer = |start: Vec<u8>| {
        csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(start)
    };
    let mut w = writer(vec![0xEF, 0xBB, 0xBF]);
    w.write_record(CSV_HEADER)?;
    let mut lines = db::lines_stream(pool, f, tz.name());
    while let Some(l) = lines.try_next().await? {
        w.write_record([
            Band(l.band).key(),
            safe_text(&l.vendedor_name),
            safe_text(&l.ventana_name),
            safe_text(&l.loteria_name),
            l.turno.clone(),
            l.bet_type.clone(),
            l.business_date.to_string(),
            money_text(l.sales),
            money_text(l.payouts),
            money_text(l.listero),
            money_text(l.sales - l.payouts - l.listero),
        ])?;
        if w.get_ref().len() >= CHUNK {
            let chunk = std::mem::replace(&mut w, writer(Vec::new()))
                .into_inner()
                .map_err(|e| ExportError::Io(std::io::Error::other(e.to_string())))?;
            tx.send(Ok(chunk)).await.map_err(|_| ExportError::Closed)?;
        }
    }
    let rest = w
        .into_inner()
        .map_err(|e| ExportError::Io(std::io::Error::other(e.to_string())))?;
    if !rest.is_empty() {
        tx.send(Ok(rest)).await.map_err(|_| ExportError::Closed)?;
    }
    Ok(())
}

/// Money columns of a sheet row.
fn money_row(m: &Metrics) -> [Decimal; 4] {
    [
        m.total_vendida,
        m.ganado,
        m.comision_total,
        m.neto_despues_comision,
    ]
}

struct Formats {
    bold: Format,
    money: Format,
    money_bold: Format,
}

impl Formats {
    fn new() -> Self {
        Formats {
            bold: Format::new().set_bold().set_align(FormatAlign::Center),
            money: Format::new().set_num_format("#,##0.00"),
            money_bold: Format::new().set_bold().set_num_format("#,##0.00"),
        }
    }
}

/// A new constant-memory sheet named `name` with a bold `header` row, column widths, landscape
/// and one page wide when printed. Constant memory: each row goes to a temporary file as soon as
/// the next one starts, so rows must be (and are) written in order, widths before any row.
fn new_sheet<'b>(
    book: &'b mut Workbook,
    name: &str,
    header: &[&str],
    widths: &[f64],
    fm: &Formats,
) -> Result<&'b mut Worksheet, XlsxError> {
    let ws = book.add_worksheet_with_constant_memory();
    ws.set_name(name)?;
    ws.set_landscape();
    ws.set_print_fit_to_pages(1, 0);
    for (c, w) in widths.iter().enumerate() {
        ws.set_column_width(col(c), *w)?;
    }
    for (c, h) in header.iter().enumerate() {
        ws.write_string_with_format(0, col(c), *h, &fm.bold)?;
    }
    Ok(ws)
}

fn col(c: usize) -> u16 {
    u16::try_from(c).unwrap_or(u16::MAX)
}

/// Writes `texts` then `money` from column 0 of `row`.
fn put(
    ws: &mut Worksheet,
    row: u32,
    texts: &[&str],
    money: &[Decimal],
    total: bool,
    fm: &Formats,
) -> Result<(), XlsxError> {
    for (c, t) in texts.iter().enumerate() {
        if !t.is_empty() {
            ws.write_string(row, col(c), *t)?;
        }
    }
    let f = if total { &fm.money_bold } else { &fm.money };
    for (i, m) in money.iter().enumerate() {
        ws.write_number_with_format(row, col(texts.len() + i), money_cell(*m), f)?;
    }
    Ok(())
}

fn band_sheet_name(b: Band) -> String {
    format!("Banda {}", b.key())
}

const BAND_HEADER: [&str; 6] = [
    "Lotería",
    "Sorteo",
    "Total Vendido",
    "Premios",
    "Comisión",
    "Neto Después Comisión",
];

/// The band sheet being written (rows arrive in order).
struct BandSheet {
    index: usize,
    band: Band,
    row: u32,
    loteria: Option<(Uuid, String)>,
    loteria_sum: Metrics,
    band_sum: Metrics,
}

impl BandSheet {
    fn close_loteria(&mut self, book: &mut Workbook, fm: &Formats) -> Result<(), XlsxError> {
        if let Some((_, name)) = self.loteria.take() {
            let ws = book.worksheet_from_index(self.index)?;
            put(
                ws,
                self.row,
                &[&format!("Subtotal {name}"), ""],
                &money_row(&self.loteria_sum),
                true,
                fm,
            )?;
            self.row += 1;
            self.loteria_sum = Metrics::default();
        }
        Ok(())
    }

    fn close(&mut self, book: &mut Workbook, fm: &Formats) -> Result<(), XlsxError> {
        self.close_loteria(book, fm)?;
        let ws = book.worksheet_from_index(self.index)?;
        put(
            ws,
            self.row,
            &["TOTAL BANDA", ""],
            &money_row(&self.band_sum),
            true,
            fm,
        )?;
        Ok(())
    }
}

/// Writes cell `c` (cells arrive band first) on its band's sheet, opening the sheet (and closing
/// the previous one into `totals`) when the band changes.
fn band_row(
    book: &mut Workbook,
    sheet: &mut Option<BandSheet>,
    totals: &mut Vec<(Band, Metrics)>,
    c: &Cell,
    tz: Tz,
    multi_day: bool,
    fm: &Formats,
) -> Result<(), XlsxError> {
    let band = Band(c.band);
    if sheet.as_ref().is_none_or(|s| s.band != band) {
        if let Some(mut s) = sheet.take() {
            s.close(book, fm)?;
            totals.push((s.band, s.band_sum));
        }
        new_sheet(
            book,
            &band_sheet_name(band),
            &BAND_HEADER,
            &[24.0, 18.0, 16.0, 16.0, 16.0, 22.0],
            fm,
        )?;
        *sheet = Some(BandSheet {
            index: book.worksheets().len() - 1,
            band,
            row: 1,
            loteria: None,
            loteria_sum: Metrics::default(),
            band_sum: Metrics::default(),
        });
    }
    let Some(s) = sheet.as_mut() else {
        return Ok(());
    };
    if s.loteria.as_ref().is_none_or(|(id, _)| *id != c.loteria_id) {
        s.close_loteria(book, fm)?;
        s.loteria = Some((c.loteria_id, c.loteria_name.clone()));
    }
    let fig = BandFigures::of(c);
    let label = match sorteo_ref(c, tz) {
        Some(r) if multi_day => format!("{} {}", r.fecha, r.turno),
        Some(r) => r.turno,
        None => String::new(),
    };
    let ws = book.worksheet_from_index(s.index)?;
    put(
        ws,
        s.row,
        &[&c.loteria_name, &label],
        &money_row(&fig.metrics),
        false,
        fm,
    )?;
    s.row += 1;
    s.loteria_sum.add(&fig.metrics);
    s.band_sum.add(&fig.metrics);
    Ok(())
}

/// The default (`total`) and single-band views: band sheets streamed from the database, then
/// (`total` only) `Cierre Total` and `Cierre por Vendedor`.
async fn xlsx_total(
    pool: &PgPool,
    book: &mut Workbook,
    f: &Filter,
    tz: Tz,
    view: View,
    opts: SellerOpts,
    fm: &Formats,
) -> Result<(), ExportError> {
    let multi_day = f.from != f.to;
    let mut totals: Vec<(Band, Metrics)> = Vec::new();
    let mut sheet: Option<BandSheet> = None;
    {
        let mut rows = db::rows_stream(pool, f, Grain::BandSorteo);
        let mut folder = Folder::default();
        loop {
            let row = rows.try_next().await?;
            let cell = match &row {
                Some(r) => folder.push(r),
                None => std::mem::take(&mut folder).finish(),
            };
            if let Some(c) = cell {
                band_row(book, &mut sheet, &mut totals, &c, tz, multi_day, fm)?;
            }
            if row.is_none() {
                break;
            }
        }
    }
    if let Some(mut s) = sheet.take() {
        s.close(book, fm)?;
        totals.push((s.band, s.band_sum));
    }
    if let View::Band(b) = view {
        if totals.is_empty() {
            let band = Band(b);
            new_sheet(
                book,
                &band_sheet_name(band),
                &BAND_HEADER,
                &[24.0, 18.0, 16.0, 16.0, 16.0, 22.0],
                fm,
            )?;
            let mut s = BandSheet {
                index: book.worksheets().len() - 1,
                band,
                row: 1,
                loteria: None,
                loteria_sum: Metrics::default(),
                band_sum: Metrics::default(),
            };
            s.close(book, fm)?;
        }
        return Ok(());
    }

    let ws = new_sheet(
        book,
        "Cierre Total",
        &[
            "Banda",
            "Total Vendido",
            "Premios",
            "Comisión",
            "Neto Después Comisión",
        ],
        &[16.0, 16.0, 16.0, 16.0, 22.0],
        fm,
    )?;
    let mut global = Metrics::default();
    let mut row = 1;
    for (b, m) in &totals {
        put(ws, row, &[&band_sheet_name(*b)], &money_row(m), false, fm)?;
        global.add(m);
        row += 1;
    }
    put(ws, row, &["TOTAL GLOBAL"], &money_row(&global), true, fm)?;

    let sellers = ranked_totals(pool, f, opts).await?;
    let ws = new_sheet(
        book,
        "Cierre por Vendedor",
        &[
            "Vendedor",
            "Ventana",
            "Total Vendido",
            "Premios",
            "Comisión",
            "Neto Después Comisión",
            "Tickets",
        ],
        &[24.0, 20.0, 16.0, 16.0, 16.0, 22.0, 10.0],
        fm,
    )?;
    let mut sum = Metrics::default();
    let mut row = 1;
    for s in &sellers {
        put(
            ws,
            row,
            &[&s.vendedor_nombre, &s.ventana_nombre],
            &money_row(&s.metrics),
            false,
            fm,
        )?;
        ws.write_number(row, 6, s.metrics.tickets_count as f64)?;
        sum.add(&s.metrics);
        row += 1;
    }
    put(ws, row, &["TOTAL", ""], &money_row(&sum), true, fm)?;
    ws.write_number(row, 6, sum.tickets_count as f64)?;
    Ok(())
}

const SELLER_HEADER: [&str; 10] = [
    "Vendedor",
    "Ventana",
    "Lotería",
    "Fecha",
    "Turno",
    "Tipo",
    "Total Vendido",
    "Premios",
    "Comisión",
    "Neto Después Comisión",
];

fn line_money(l: &Line) -> [Decimal; 4] {
    [
        l.sales,
        l.payouts,
        l.listero,
        l.sales - l.payouts - l.listero,
    ]
}

/// `view=seller`: one sheet per band, a line per vendedor × lotería × day × turno × type.
async fn xlsx_seller(
    pool: &PgPool,
    book: &mut Workbook,
    f: &Filter,
    tz: Tz,
    fm: &Formats,
) -> Result<(), ExportError> {
    struct Cur {
        index: usize,
        band: Band,
        row: u32,
        seller: Option<(Uuid, String)>,
        seller_sum: [Decimal; 4],
        band_sum: [Decimal; 4],
    }
    fn add(a: &mut [Decimal; 4], b: &[Decimal; 4]) {
        for (x, y) in a.iter_mut().zip(b) {
            *x += *y;
        }
    }
    fn close_seller(cur: &mut Cur, book: &mut Workbook, fm: &Formats) -> Result<(), XlsxError> {
        if let Some((_, name)) = cur.seller.take() {
            let ws = book.worksheet_from_index(cur.index)?;
            put(
                ws,
                cur.row,
                &[&format!("Subtotal {name}"), "", "", "", "", ""],
                &cur.seller_sum,
                true,
                fm,
            )?;
            cur.row += 1;
            cur.seller_sum = [Decimal::ZERO; 4];
        }
        Ok(())
    }
    fn close(cur: &mut Cur, book: &mut Workbook, fm: &Formats) -> Result<(), XlsxError> {
        close_seller(cur, book, fm)?;
        let ws = book.worksheet_from_index(cur.index)?;
        put(
            ws,
            cur.row,
            &["TOTAL BANDA", "", "", "", "", ""],
            &cur.band_sum,
            true,
            fm,
        )
    }
    let widths = [24.0, 20.0, 20.0, 12.0, 8.0, 12.0, 16.0, 16.0, 16.0, 22.0];
    let mut cur: Option<Cur> = None;
    let mut lines = db::lines_stream(pool, f, tz.name());
    while let Some(l) = lines.try_next().await? {
        let band = Band(l.band);
        if cur.as_ref().is_none_or(|c| c.band != band) {
            if let Some(mut c) = cur.take() {
                close(&mut c, book, fm)?;
            }
            new_sheet(book, &band_sheet_name(band), &SELLER_HEADER, &widths, fm)?;
            cur = Some(Cur {
                index: book.worksheets().len() - 1,
                band,
                row: 1,
                seller: None,
                seller_sum: [Decimal::ZERO; 4],
                band_sum: [Decimal::ZERO; 4],
            });
        }
        let Some(c) = cur.as_mut() else { continue };
        if c.seller.as_ref().is_none_or(|(id, _)| *id != l.vendedor_id) {
            close_seller(c, book, fm)?;
            c.seller = Some((l.vendedor_id, l.vendedor_name.clone()));
        }
        let m = line_money(&l);
        let fecha = l.business_date.to_string();
        let ws = book.worksheet_from_index(c.index)?;
        put(
            ws,
            c.row,
            &[
                &l.vendedor_name,
                &l.ventana_name,
                &l.loteria_name,
                &fecha,
                &l.turno,
                &l.bet_type,
            ],
            &m,
            false,
            fm,
        )?;
        c.row += 1;
        add(&mut c.seller_sum, &m);
        add(&mut c.band_sum, &m);
    }
    if let Some(mut c) = cur.take() {
        close(&mut c, book, fm)?;
    }
    Ok(())
}

/// Writes the XLSX export of `f` for `view` to `path` (rows written in order as they stream
/// from the database).
pub async fn xlsx_export(
    pool: &PgPool,
    f: &Filter,
    tz: Tz,
    view: View,
    opts: SellerOpts,
    path: &Path,
) -> Result<(), ExportError> {
    let fm = Formats::new();
    let mut book = Workbook::new();
    match view {
        View::Total => xlsx_total(pool, &mut book, f, tz, view, opts, &fm).await?,
        View::Band(b) => {
            let fb = Filter {
                band: Some(b),
                ..f.clone()
            };
            xlsx_total(pool, &mut book, &fb, tz, view, opts, &fm).await?
        }
        View::Seller => {
            let ft = top_filter(pool, f, opts).await?;
            xlsx_seller(pool, &mut book, &ft, tz, &fm).await?;
        }
    }
    if book.worksheets().is_empty() {
        new_sheet(&mut book, "Cierre", &BAND_HEADER, &[], &fm)?;
    }
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || book.save(&path))
        .await
        .map_err(|e| std::io::Error::other(e.to_string()))??;
    Ok(())
}
