//! The client contract end to end (issue 12, `client-contract.md` §1.4): the real app's flows,
//! in the app's order, over real HTTP — log in → active banca → catalog → sorteos → sell
//! (idempotency key, NUMERO and REVENTADO) → detail, print, look-up by number → evaluate → pay
//! the winner → ventas, dashboard, account statements, cierres, commissions → change password →
//! refresh → log out, and the tokens are dead afterwards.
//!
//! Every call sends what the app sends (`Content-Type: application/json` and a bearer token,
//! no other header; bodyless PATCH/POST/DELETE where the app sends none) and every field the
//! spec says the app reads is checked for presence, JSON type and enum values with the
//! declarative tables of `contract_shape`. Where Banca departs from the reference on purpose
//! (spec README decisions, §1.6), the walk asserts Banca's behaviour and says so.
//!
//! [`walk`] takes only a base URL and credentials, so the same walk runs against any server:
//! the tests here run it on a fresh fixture world; the import tests run it on a server started
//! from an imported database. It creates what it needs with the admin credentials and leaves
//! behind only what a day of use would: a lotería unless one is named, multipliers the lotería
//! lacks, the sorteo and its tickets (one cancelled, one paid); deleted (soft) entities it made
//! to walk the admin screens (a lotería, a sorteo, a restriction rule, a ventana with its user
//! and a vendedor, and for an ADMIN a banca). It sets the vendedor's and ventana's print
//! settings and theme as the app's settings screens do, and when the vendedor cannot see the
//! lotería it adds a rule to the vendedor's commission policy (dropping stored rules the write
//! API refuses). The sale carries an `idempotencyKey` (the app sends none; decision 5 makes it
//! safe to add) and is sent twice.

use std::time::Duration;

use chrono::NaiveDate;
use reqwest::{Method, StatusCode};
use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::contract_shape::Kind::*;
use crate::contract_shape::{
    expect, Kind, BET_TYPES, PAYMENT_METHODS, ROLES, SORTEO_STATUSES, TICKET_STATUSES,
};
use crate::fixtures::{self, PASSWORD};

/// A username and password.
#[derive(Debug, Clone)]
pub struct Cred {
    pub username: String,
    pub password: String,
}

impl Cred {
    pub fn new(username: &str, password: &str) -> Cred {
        Cred {
            username: username.to_string(),
            password: password.to_string(),
        }
    }
}

/// Who walks, and on what.
#[derive(Debug, Clone)]
pub struct ContractCreds {
    /// An ADMIN or BANCA login: sets up the catalog, sells on behalf, evaluates, reads the
    /// admin screens.
    pub admin: Cred,
    /// A VENTANA (listero) login: sells for its vendedor, cancels, pays the winner.
    pub ventana: Cred,
    /// A VENDEDOR of that ventana: sells for itself.
    pub vendedor: Cred,
    /// The banca to make active for the admin login (`None`: the ventana's banca).
    pub banca_id: Option<uuid::Uuid>,
    /// A lotería of that banca to sell in, with REVENTADO enabled and sales open all day
    /// (`None`: the walk creates one). Its missing NUMERO/REVENTADO multipliers are created.
    pub loteria_id: Option<uuid::Uuid>,
}

/// What a walk did.
#[derive(Debug, Clone)]
pub struct WalkReport {
    /// HTTP calls made.
    pub calls: usize,
    /// Table rows (path, kind) checked.
    pub rows_checked: usize,
    pub loteria_id: String,
    pub sorteo_id: String,
    /// The vendedor's winning ticket.
    pub ticket_id: String,
    pub ticket_number: String,
}

// ---------------------------------------------------------------------------------------------
// Shapes: one table per call (or per family of calls), rows relative to the whole answer.

/// Every list: `{success, data: [...], meta: {page, pageSize, total, totalPages, ...}}`.
const LIST: &[(&str, Kind)] = &[
    ("success", Bool),
    ("data", Arr),
    ("meta.page", Num),
    ("meta.pageSize", Num),
    ("meta.total", Num),
    ("meta.totalPages", Num),
    ("meta.hasNextPage", Bool),
    ("meta.hasPrevPage", Bool),
];

const LOGIN: &[(&str, Kind)] = &[("data.accessToken", Str), ("data.refreshToken", Str)];
const REFRESH: &[(&str, Kind)] = &[("data.accessToken", Str)];

/// The user as `/auth/me` and `/users/:id` answer it (§1.3).
const USER: &[(&str, Kind)] = &[
    ("id", Uuid),
    ("name", Str),
    ("username", Str),
    ("role", Enum(ROLES)),
    ("ventanaId", Nullable(&Uuid)),
    ("bancaId", Nullable(&Uuid)),
    ("code", Nullable(&Str)),
    ("email", Nullable(&Str)),
    ("isActive", Bool),
    ("phone", Nullable(&Str)),
    ("settings", Nullable(&Obj)),
    ("settings.theme", Optional(&Str)),
    ("settings.print", Optional(&Obj)),
    ("settings.print.name", Optional(&Str)),
    ("settings.print.phone", Optional(&Str)),
    ("settings.print.width", Optional(&Num)),
    ("settings.print.footer", Optional(&Str)),
    ("settings.print.barcode", Optional(&Bool)),
    ("printName", Nullable(&Str)),
    ("printPhone", Nullable(&Str)),
    ("printWidth", Nullable(&Num)),
    ("printFooter", Nullable(&Str)),
    ("printBarcode", Nullable(&Bool)),
];

/// A VENTANA or VENDEDOR always has its ventana and banca (`bancaId` = the user's or its
/// ventana's, as the reference answers it).
const USER_OF_VENTANA: &[(&str, Kind)] =
    &[("ventanaId", Uuid), ("bancaId", Uuid), ("ventana.id", Uuid)];

/// The vendedor after the walk set its print settings and theme.
const USER_WITH_SETTINGS: &[(&str, Kind)] = &[
    ("settings.theme", Str),
    ("settings.print.name", Str),
    ("settings.print.phone", Str),
    ("settings.print.width", Num),
    ("settings.print.footer", Str),
    ("settings.print.barcode", Bool),
    ("printName", Str),
    ("printPhone", Str),
    ("printWidth", Num),
    ("printFooter", Str),
    ("printBarcode", Bool),
];

/// `GET /users` rows (§1.4 Admin CRUD).
const USER_ROWS: &[(&str, Kind)] = &[
    ("data[].id", Uuid),
    ("data[].name", Str),
    ("data[].username", Str),
    ("data[].email", Nullable(&Str)),
    ("data[].code", Nullable(&Str)),
    ("data[].role", Enum(ROLES)),
    ("data[].ventanaId", Nullable(&Uuid)),
    ("data[].ventana", Nullable(&Obj)),
    ("data[].ventana.id", Optional(&Uuid)),
    ("data[].isActive", Bool),
    ("data[].settings", Nullable(&Obj)),
];

const COMMISSION_POLICY: &[(&str, Kind)] = &[("data.commissionPolicyJson", Nullable(&Obj))];
const COMMISSION_POLICY_SET: &[(&str, Kind)] = &[
    ("data.commissionPolicyJson.version", Num),
    ("data.commissionPolicyJson.defaultPercent", Num),
    ("data.commissionPolicyJson.effectiveFrom", Nullable(&Str)),
    ("data.commissionPolicyJson.effectiveTo", Nullable(&Str)),
    ("data.commissionPolicyJson.rules[].id", Str),
    (
        "data.commissionPolicyJson.rules[].loteriaId",
        Nullable(&Uuid),
    ),
    (
        "data.commissionPolicyJson.rules[].betType",
        Nullable(&Enum(BET_TYPES)),
    ),
    ("data.commissionPolicyJson.rules[].multiplierRange.min", Num),
    ("data.commissionPolicyJson.rules[].multiplierRange.max", Num),
    ("data.commissionPolicyJson.rules[].percent", Num),
];

const BANCA_FIELDS: &[(&str, Kind)] = &[
    ("id", Uuid),
    ("name", Str),
    ("code", Str),
    ("isActive", Bool),
    ("email", Nullable(&Str)),
    ("phone", Nullable(&Str)),
    ("address", Nullable(&Str)),
    ("defaultMinBet", Num),
    ("globalMaxPerNumber", Num),
    ("salesCutoffMinutes", Num),
];

const VENTANA_FIELDS: &[(&str, Kind)] = &[
    ("id", Uuid),
    ("bancaId", Uuid),
    ("name", Str),
    ("code", Nullable(&Str)),
    ("email", Nullable(&Str)),
    ("phone", Nullable(&Str)),
    ("address", Nullable(&Str)),
    ("commissionMarginX", Nullable(&Num)),
    ("isActive", Bool),
    ("settings", Nullable(&Obj)),
    ("settings.print.name", Optional(&Str)),
    ("settings.print.width", Optional(&Num)),
];

/// `rulesJson` keys the app edits (§1.4 Loterías); each is optional, typed when present.
const RULES_JSON: &[(&str, Kind)] = &[
    ("salesHours", Optional(&Obj)),
    ("salesHours.*.start", Optional(&Str)),
    ("salesHours.*.end", Optional(&Str)),
    ("closingTimeBeforeDraw", Optional(&Num)),
    ("allowedBetTypes", Optional(&Arr)),
    ("reventadoConfig", Optional(&Obj)),
    ("reventadoConfig.enabled", Optional(&Bool)),
    ("reventadoConfig.allowedMultiplierIds", Optional(&Arr)),
    ("minBetAmount", Optional(&Num)),
    ("maxBetAmount", Optional(&Num)),
    ("maxNumbersPerTicket", Optional(&Num)),
    ("numberRange.min", Optional(&Num)),
    ("numberRange.max", Optional(&Num)),
    ("drawSchedule", Optional(&Obj)),
    ("drawSchedule.frequency", Optional(&Str)),
    ("drawSchedule.times", Optional(&Arr)),
    ("drawSchedule.daysOfWeek", Optional(&Arr)),
    ("autoCreateSorteos", Optional(&Bool)),
    ("commissionRules", Optional(&Obj)),
    ("display", Optional(&Obj)),
    ("baseMultiplierX", Optional(&Num)),
];

const LOTERIA_ROWS: &[(&str, Kind)] = &[
    ("data[].id", Uuid),
    ("data[].name", Str),
    ("data[].isActive", Bool),
    ("data[].rulesJson", Nullable(&Obj)),
];

const MULTIPLIER_FIELDS: &[(&str, Kind)] = &[
    ("id", Uuid),
    ("loteriaId", Uuid),
    ("name", Str),
    ("valueX", Num),
    ("kind", Enum(BET_TYPES)),
    ("isActive", Bool),
    ("appliesToDate", Nullable(&Str)),
    ("appliesToSorteoId", Nullable(&Uuid)),
];

const RULE_FIELDS: &[(&str, Kind)] = &[
    ("id", Uuid),
    ("bancaId", Nullable(&Uuid)),
    ("ventanaId", Nullable(&Uuid)),
    ("userId", Nullable(&Uuid)),
    ("number", Nullable(&Str)),
    ("maxAmount", Nullable(&Num)),
    ("maxTotal", Nullable(&Num)),
    ("salesCutoffMinutes", Nullable(&Num)),
    ("appliesToDate", Nullable(&Str)),
    ("appliesToHour", Nullable(&Num)),
    ("isActive", Bool),
    ("banca", Nullable(&Obj)),
    ("ventana", Nullable(&Obj)),
    ("user", Nullable(&Obj)),
];

/// `GET /sorteos/:id` and the sorteo transitions (§1.4 Sorteos).
const SORTEO_FIELDS: &[(&str, Kind)] = &[
    ("id", Uuid),
    ("name", Str),
    ("loteriaId", Uuid),
    ("scheduledAt", Instant),
    ("status", Enum(SORTEO_STATUSES)),
    ("winningNumber", Nullable(&Str)),
    ("extraOutcomeCode", Nullable(&Str)),
    ("extraMultiplierId", Nullable(&Uuid)),
    ("extraMultiplierX", Nullable(&Num)),
    ("isActive", Bool),
    ("loteria", Obj),
    ("loteria.id", Uuid),
    ("loteria.name", Str),
];

/// The sale form's `GET /sorteos?status=OPEN`: `data[].{id,name,loteriaId,scheduledAt,status,
/// loteria}`. The reference strips `rulesJson` from `loteria` here (domain-money §1.9); the app
/// reads `loteria.rulesJson.maxNumbersPerTicket` with a fallback, so it is optional.
const SALE_FORM_SORTEOS: &[(&str, Kind)] = &[
    ("data[].id", Uuid),
    ("data[].name", Str),
    ("data[].loteriaId", Uuid),
    ("data[].scheduledAt", Instant),
    ("data[].status", Enum(SORTEO_STATUSES)),
    ("data[].loteria", Obj),
    ("data[].loteria.name", Str),
    (
        "data[].loteria.rulesJson.maxNumbersPerTicket",
        Optional(&Num),
    ),
];

/// A ticket as the detail, the receipt and the payout modal read it (§1.4 Tickets).
const TICKET: &[(&str, Kind)] = &[
    ("id", Uuid),
    ("ticketNumber", Str),
    ("status", Enum(TICKET_STATUSES)),
    ("isWinner", Bool),
    ("totalAmount", Num),
    ("createdAt", Instant),
    ("clienteNombre", Nullable(&Str)),
    ("vendedor.name", Str),
    ("vendedor.code", Nullable(&Str)),
    ("vendedor.phone", Nullable(&Str)),
    ("vendedor.printName", Nullable(&Str)),
    ("vendedor.printPhone", Nullable(&Str)),
    ("vendedor.printWidth", Nullable(&Num)),
    ("vendedor.printFooter", Nullable(&Str)),
    ("vendedor.printBarcode", Bool),
    ("vendedor.settings.print.name", Optional(&Str)),
    ("vendedor.settings.print.phone", Optional(&Str)),
    ("vendedor.settings.print.width", Optional(&Num)),
    ("vendedor.settings.print.footer", Optional(&Str)),
    ("vendedor.settings.print.barcode", Optional(&Bool)),
    ("ventana.name", Str),
    ("ventana.code", Nullable(&Str)),
    ("ventana.printName", Nullable(&Str)),
    ("ventana.printPhone", Nullable(&Str)),
    ("ventana.printWidth", Nullable(&Num)),
    ("ventana.printFooter", Nullable(&Str)),
    ("ventana.printBarcode", Bool),
    ("ventana.settings.print.name", Optional(&Str)),
    ("ventana.settings.print.phone", Optional(&Str)),
    ("ventana.settings.print.width", Optional(&Num)),
    ("ventana.settings.print.footer", Optional(&Str)),
    ("ventana.settings.print.barcode", Optional(&Bool)),
    ("loteria.id", Uuid),
    ("loteria.name", Str),
    ("loteria.rulesJson", Nullable(&Obj)),
    ("loteria.rulesJson.baseMultiplierX", Optional(&Num)),
    ("sorteo.name", Str),
    ("sorteo.scheduledAt", Instant),
    ("jugadas[].id", Uuid),
    ("jugadas[].type", Enum(BET_TYPES)),
    ("jugadas[].number", Str),
    ("jugadas[].reventadoNumber", Nullable(&Str)),
    ("jugadas[].amount", Num),
    ("jugadas[].isWinner", Bool),
    ("jugadas[].payout", Nullable(&Num)),
    ("jugadas[].winAmount", Nullable(&Num)),
    ("jugadas[].finalMultiplierX", Num),
    ("jugadas[].multiplier", Nullable(&Obj)),
    ("jugadas[].multiplier.name", Optional(&Str)),
    ("totalPayout", Num),
    ("totalPaid", Num),
    ("remainingAmount", Num),
    ("lastPaymentAt", Nullable(&Instant)),
    ("paymentMethod", Nullable(&Enum(PAYMENT_METHODS))),
    ("paymentHistory", Arr),
    ("paymentHistory[]?.id", Uuid),
    ("paymentHistory[]?.amountPaid", Num),
    ("paymentHistory[]?.paidAt", Instant),
    ("paymentHistory[]?.paidByName", Nullable(&Str)),
    ("paymentHistory[]?.method", Enum(PAYMENT_METHODS)),
    ("paymentHistory[]?.notes", Nullable(&Str)),
    ("paymentHistory[]?.isFinal", Bool),
    ("paymentHistory[]?.isReversed", Bool),
    ("paymentHistory[]?.reversedAt", Nullable(&Instant)),
    // The app's legacy fallback, read only when `paymentHistory` is missing.
    ("payments[]?.amountPaid", Optional(&Num)),
    ("payments[]?.isReversed", Optional(&Bool)),
];

/// A `GET /tickets` row as the list screen, the payout screen and the daily guard read it.
const TICKET_ROWS: &[(&str, Kind)] = &[
    ("data[].id", Uuid),
    ("data[].ticketNumber", Str),
    ("data[].status", Enum(TICKET_STATUSES)),
    ("data[].isWinner", Bool),
    ("data[].totalAmount", Num),
    ("data[].createdAt", Instant),
    ("data[].clienteNombre", Nullable(&Str)),
    ("data[].vendedor.name", Str),
    ("data[].ventana.name", Str),
    ("data[].ventana.code", Nullable(&Str)),
    ("data[].loteria.name", Str),
    ("data[].sorteo.name", Str),
    ("data[].sorteo.scheduledAt", Instant),
    ("data[].jugadas", Arr),
    ("data[].jugadas[]?.id", Uuid),
    ("data[].jugadas[]?.type", Enum(BET_TYPES)),
    ("data[].jugadas[]?.number", Str),
    ("data[].jugadas[]?.amount", Num),
    ("data[].jugadas[]?.isWinner", Bool),
    ("data[].jugadas[]?.payout", Nullable(&Num)),
    ("data[].jugadas[]?.winAmount", Nullable(&Num)),
    ("data[].totalPayout", Num),
    ("data[].totalPaid", Num),
    ("data[].remainingAmount", Num),
    ("data[].lastPaymentAt", Nullable(&Instant)),
    ("data[].paymentMethod", Nullable(&Enum(PAYMENT_METHODS))),
];

const VENTAS_SUMMARY: &[(&str, Kind)] = &[
    ("data.ventasTotal", Num),
    ("data.ticketsCount", Num),
    ("data.jugadasCount", Num),
    ("data.payoutTotal", Num),
    ("data.neto", Num),
    ("data.lastTicketAt", Nullable(&Instant)),
    ("data.commissionTotal", Num),
    ("data.netoDespuesComision", Num),
    ("data.totalPaid", Num),
    ("data.remainingAmount", Num),
    ("data.paidTicketsCount", Num),
    ("data.unpaidTicketsCount", Num),
];

const VENTAS_BREAKDOWN: &[(&str, Kind)] = &[
    ("data[].key", Str),
    ("data[].name", Nullable(&Str)),
    ("data[].ventasTotal", Num),
    ("data[].ticketsCount", Num),
    ("data[].payoutTotal", Num),
    ("data[].neto", Num),
    ("data[].totalWinningTickets|winnerTickets", Num),
    ("data[].totalPaidTickets|paidTickets", Num),
];

const VENTAS_TIMESERIES: &[(&str, Kind)] = &[
    ("data[].ts", Instant),
    ("data[].ventasTotal", Num),
    ("data[].ticketsCount", Num),
];

const DASHBOARD: &[(&str, Kind)] = &[
    ("data.kpis.totalSales", Num),
    ("data.kpis.totalTickets", Num),
    ("data.kpis.totalWinners", Num),
    ("data.kpis.totalCommissions", Num),
    ("data.kpis.winRate", Num),
    ("data.kpis.margin", Num),
    ("data.kpis.previousPeriod", Obj),
    ("data.timeSeries[]", Obj),
    ("data.byVentana[]", Obj),
    ("data.byLoteria[]", Obj),
    ("data.alerts", Arr),
    ("meta.range", Obj),
    ("meta.queryExecutionTime", Num),
    // The statements behind the answer (0 when it came from the report cache).
    ("meta.totalQueries", Num),
    ("meta.etag", Str),
    ("meta.cacheHit", Bool),
];

const DASHBOARD_TIMESERIES: &[(&str, Kind)] = &[
    ("data.data[].timestamp", Str),
    ("data.data[].sales", Num),
    ("data.data[].commissions", Num),
    ("data.data[].tickets", Num),
    ("data.data[].winners", Num),
    ("data.data[].payout", Num),
    ("data.granularity", Str),
    ("data.comparison", Any),
    ("meta", Obj),
];

const STATEMENT_ROW: &[(&str, Kind)] = &[
    ("id", Uuid),
    ("date", Day),
    ("month", Str),
    ("dimension", Enum(&["banca", "ventana", "vendedor"])),
    ("bancaId", Uuid),
    ("ventanaId", Nullable(&Uuid)),
    ("vendedorId", Nullable(&Uuid)),
    ("totalSales", Num),
    ("totalPayouts", Num),
    ("listeroCommission", Num),
    ("vendedorCommission", Num),
    ("balance", Num),
    ("totalPaid", Num),
    ("totalCollected", Num),
    ("totalAdjustments", Num),
    ("remainingBalance", Num),
    ("ticketCount", Num),
    ("isSettled", Bool),
    ("canEdit", Bool),
    ("settledAt", Nullable(&Instant)),
];

const STATEMENT_TOTALS: &[(&str, Kind)] = &[
    ("totalSales", Num),
    ("totalPayouts", Num),
    ("totalListeroCommission", Num),
    ("totalVendedorCommission", Num),
    ("totalBalance", Num),
    ("totalPaid", Num),
    ("totalCollected", Num),
    ("totalRemainingBalance", Num),
    ("totalTickets", Num),
    ("settledDays", Num),
    ("pendingDays", Num),
];

const STATEMENT_BY_SORTEO: &[(&str, Kind)] = &[
    ("data[].sorteoId", Str),
    ("data[].type", Str),
    ("data[].sorteoName", Str),
    ("data[].date", Day),
    ("data[].balance", Num),
    ("data[].accumulated", Num),
    ("data[].chronologicalIndex", Num),
    ("meta.openingBalance", Num),
    ("meta.closingBalance", Num),
    ("meta.totalSales", Num),
];

/// A cierre figure (`totals`, subtotals, bands).
const CIERRE_METRICS: &[(&str, Kind)] = &[
    ("totalVendida", Num),
    ("ganado", Num),
    ("comisionTotal", Num),
    ("netoDespuesComision", Num),
    ("ticketsCount", Num),
    ("jugadasCount", Num),
    ("refuerzos", Num),
];

const CIERRE_WEEKLY: &[(&str, Kind)] = &[
    ("data.totals", Obj),
    ("data.bands.*.band", Num),
    ("data.loterias[].loteria.id", Uuid),
    ("data.loterias[].loteria.name", Str),
    ("data.loterias[].sorteos[].sorteo.id", Uuid),
    ("data.loterias[].sorteos[].sorteo.scheduledAt", Instant),
    ("data.loterias[].sorteos[].bands.*.totalVendida", Num),
    ("data.loterias[].sorteos[].subtotal.totalVendida", Num),
    ("data.loterias[].subtotal.totalVendida", Num),
    ("meta.range", Obj),
];

const CIERRE_BY_SELLER: &[(&str, Kind)] = &[
    ("data.totals", Obj),
    ("data.vendedores[].vendedorId", Uuid),
    ("data.vendedores[].vendedorNombre", Str),
    ("data.vendedores[].ventanaId", Uuid),
    ("data.vendedores[].ventanaNombre", Str),
    ("data.vendedores[].totalVendida", Num),
    ("data.vendedores[].ganado", Num),
    ("data.vendedores[].netoDespuesComision", Num),
    ("data.vendedores[].bands.*.totalVendida", Num),
];

const COMMISSION_ROWS: &[(&str, Kind)] = &[
    ("data[].date", Day),
    ("data[].totalSales", Num),
    ("data[].totalTickets", Num),
    ("data[].totalPayouts", Num),
    ("data[].commissionListero", Num),
    ("data[].commissionVendedor", Num),
    ("data[].totalCommission", Num),
    ("data[].net", Num),
];

/// `{success: false, message, code}` at top level, as the app reads errors.
const ERROR: &[(&str, Kind)] = &[("success", Bool), ("message", Str), ("code", Str)];

/// `rows` under `prefix` (`"data"`, `"data[]"`, `"data.statements[]"`…).
fn under(prefix: &str, rows: &[(&'static str, Kind)]) -> Vec<(String, Kind)> {
    rows.iter()
        .map(|(p, k)| {
            if p.is_empty() {
                (prefix.to_string(), *k)
            } else {
                (format!("{prefix}.{p}"), *k)
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The app's HTTP client.

struct Answer {
    status: StatusCode,
    body: Value,
    headers: reqwest::header::HeaderMap,
}

/// Calls the API as `lib/api.client.ts` does, counting calls and checked rows.
struct Api<F> {
    url: F,
    http: reqwest::Client,
    calls: usize,
    rows: usize,
}

impl<F: Fn(&str) -> String> Api<F> {
    async fn send(
        &mut self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Answer {
        self.calls += 1;
        let url = (self.url)(&format!("/api/v1{path}"));
        let mut req = self
            .http
            .request(method.clone(), url)
            .header(reqwest::header::CONTENT_TYPE, "application/json");
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.body(b.to_string());
        }
        let res = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Answer {
            status,
            body,
            headers,
        }
    }

    /// A call the app expects to succeed: a 2xx with `success: true` (the app treats
    /// `success: false` in a 2xx as an error). Answers the body.
    async fn ok(&mut self, method: Method, path: &str, token: &str, body: Option<&Value>) -> Value {
        let a = self.send(method.clone(), path, Some(token), body).await;
        assert!(
            a.status.is_success(),
            "{method} {path}: {} {}",
            a.status,
            a.body
        );
        assert_eq!(a.body["success"], true, "{method} {path}: {}", a.body);
        a.body
    }

    async fn get(&mut self, path: &str, token: &str) -> Value {
        self.ok(Method::GET, path, token, None).await
    }

    async fn post(&mut self, path: &str, token: &str, body: &Value) -> Value {
        self.ok(Method::POST, path, token, Some(body)).await
    }

    async fn patch(&mut self, path: &str, token: &str, body: &Value) -> Value {
        self.ok(Method::PATCH, path, token, Some(body)).await
    }

    /// Checks `table` on `v`, naming `call` in failures.
    fn shape(&mut self, call: &str, v: &Value, table: &[(&str, Kind)]) {
        self.rows += table.len();
        expect(call, v, table);
    }

    fn shape_owned(&mut self, call: &str, v: &Value, table: &[(String, Kind)]) {
        let rows: Vec<(&str, Kind)> = table.iter().map(|(p, k)| (p.as_str(), *k)).collect();
        self.shape(call, v, &rows);
    }

    /// `rows` under `data`.
    fn data(&mut self, call: &str, v: &Value, rows: &[(&'static str, Kind)]) {
        self.shape_owned(call, v, &under("data", rows));
    }

    /// A list answer: the list envelope, then `rows`.
    fn list(&mut self, call: &str, v: &Value, rows: &[(&str, Kind)]) {
        self.shape(call, v, LIST);
        self.shape(call, v, rows);
    }

    /// A single object the app uses as it comes (`{success, data: {...}}` without `meta`:
    /// with a `meta` the app's client would hand the whole envelope to the screen), with
    /// `fields` checked under `data`.
    fn item(&mut self, call: &str, v: &Value, fields: &[(&'static str, Kind)]) {
        assert!(v["data"].is_object(), "{call}: data is not an object: {v}");
        assert!(
            v.get("meta").is_none(),
            "{call}: an item answer carries meta, the app would read the envelope: {v}"
        );
        self.shape_owned(call, v, &under("data", fields));
    }

    /// An error answer with `status` and `code`, in the shape the app reads.
    async fn refused(
        &mut self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        status: u16,
        code: &str,
    ) -> Value {
        let a = self.send(method.clone(), path, token, body).await;
        assert_eq!(a.status.as_u16(), status, "{method} {path}: {}", a.body);
        self.shape(&format!("{method} {path}"), &a.body, ERROR);
        assert_eq!(a.body["success"], false, "{method} {path}: {}", a.body);
        assert_eq!(a.body["code"], code, "{method} {path}: {}", a.body);
        a.body
    }
}

/// `path?k=v&…`, keys and values encoded.
fn qs(path: &str, params: &[(&str, &str)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        s.append_pair(k, v);
    }
    format!("{path}?{}", s.finish())
}

fn text(v: &Value) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("expected a string, got {v}"))
        .to_string()
}

/// The exact decimal of a JSON number.
fn dec(v: &Value) -> Decimal {
    let s = v.to_string();
    Decimal::from_str_exact(&s)
        .or_else(|_| Decimal::from_scientific(&s))
        .unwrap_or_else(|_| panic!("expected a number, got {v}"))
}

fn ids(list: &Value) -> Vec<String> {
    list["data"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|r| r["id"].as_str())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// One logged-in user of the walk.
struct Session {
    role: String,
    user_id: String,
    access: String,
    /// The access token the login answered (`access` moves on: active banca, refresh).
    login_access: String,
    refresh: String,
    me: Value,
}

/// `POST /auth/login` then `GET /auth/me`, as the app's login screen does.
async fn login<F: Fn(&str) -> String>(api: &mut Api<F>, cred: &Cred) -> Session {
    let body = json!({"username": cred.username, "password": cred.password});
    let a = api
        .send(Method::POST, "/auth/login", None, Some(&body))
        .await;
    assert_eq!(
        a.status,
        StatusCode::OK,
        "login {}: {}",
        cred.username,
        a.body
    );
    api.shape("POST /auth/login", &a.body, LOGIN);
    let access = text(&a.body["data"]["accessToken"]);
    let refresh = text(&a.body["data"]["refreshToken"]);
    let me = api.get("/auth/me", &access).await;
    api.item("GET /auth/me", &me, USER);
    let role = text(&me["data"]["role"]);
    if role == "VENTANA" || role == "VENDEDOR" {
        api.data("GET /auth/me", &me, USER_OF_VENTANA);
    }
    Session {
        role,
        user_id: text(&me["data"]["id"]),
        login_access: access.clone(),
        access,
        refresh,
        me,
    }
}

// ---------------------------------------------------------------------------------------------
// The walk.

const N_WIN: u32 = 37;
const N_LOSE: u32 = 12;
const N_CANCEL: u32 = 55;
const N_RULE: u32 = 89;
/// How far ahead the walk's sorteo is drawn: past any reasonable sales cutoff. Its business
/// date may be tomorrow; every figure is read over the range from today to that date.
const DRAW_IN: chrono::Duration = chrono::Duration::hours(2);

/// State carried from step to step.
struct Ctx {
    admin: Session,
    ventana: Session,
    vendedor: Session,
    banca_id: String,
    ventana_id: String,
    loteria_id: String,
    /// The lotería was made by this walk (so its schedule may be seeded).
    own_loteria: bool,
    digits: usize,
    base: Value,
    reventado: Value,
    sorteo_id: String,
    ticket: Value,
    admin_ticket_id: String,
    /// The business dates the walk's tickets fall on, as a `date=range` (from ≤ to).
    from: String,
    to: String,
    tag: String,
}

impl Ctx {
    fn num(&self, n: u32) -> String {
        format!("{n:0width$}", width = self.digits)
    }

    fn range<'a>(&'a self, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
        let mut v = vec![
            ("date", "range"),
            ("fromDate", self.from.as_str()),
            ("toDate", self.to.as_str()),
        ];
        v.extend_from_slice(extra);
        v
    }
}

/// Walks the app's flows against the server at `app_url` (given `/api/v1/...`, answers the
/// full URL) with `creds`; panics naming the call and path of the first contract failure.
pub async fn walk(app_url: impl Fn(&str) -> String, creds: &ContractCreds) -> WalkReport {
    let mut api = Api {
        url: app_url,
        http: reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("http client"),
        calls: 0,
        rows: 0,
    };

    // ---- Log in: the three people using the app.
    let mut admin = login(&mut api, &creds.admin).await;
    assert!(
        admin.role == "ADMIN" || admin.role == "BANCA",
        "the admin login is {}",
        admin.role
    );
    let ventana = login(&mut api, &creds.ventana).await;
    assert_eq!(ventana.role, "VENTANA");
    let vendedor = login(&mut api, &creds.vendedor).await;
    assert_eq!(vendedor.role, "VENDEDOR");
    let ventana_id = text(&ventana.me["data"]["ventanaId"]);
    assert_eq!(
        vendedor.me["data"]["ventanaId"], ventana.me["data"]["ventanaId"],
        "the vendedor sells for the ventana"
    );
    // ADMIN and BANCA get the bancas they may make active (platform-api, "Me").
    api.shape("GET /auth/me", &admin.me, &[("data.bancas[].id", Uuid)]);

    // ---- Active banca (ADMIN and BANCA; the app itself never calls it, §1.2).
    let banca_id = creds
        .banca_id
        .map(|b| b.to_string())
        .unwrap_or_else(|| text(&ventana.me["data"]["bancaId"]));
    let v = api
        .post(
            "/auth/set-active-banca",
            &admin.access,
            &json!({"bancaId": banca_id}),
        )
        .await;
    api.shape(
        "POST /auth/set-active-banca",
        &v,
        &[("data.accessToken", Str), ("data.activeBancaId", Uuid)],
    );
    assert_eq!(v["data"]["activeBancaId"], banca_id.as_str());
    admin.access = text(&v["data"]["accessToken"]);
    let me = api.get("/auth/me", &admin.access).await;
    api.item("GET /auth/me", &me, USER);
    assert_eq!(me["data"]["activeBancaId"], banca_id.as_str(), "{me}");

    let tag = uuid::Uuid::new_v4().simple().to_string()[..8].to_uppercase();
    let mut cx = Ctx {
        admin,
        ventana,
        vendedor,
        banca_id,
        ventana_id,
        loteria_id: String::new(),
        own_loteria: creds.loteria_id.is_none(),
        digits: 2,
        base: Value::Null,
        reventado: Value::Null,
        sorteo_id: String::new(),
        ticket: Value::Null,
        admin_ticket_id: String::new(),
        from: String::new(),
        to: String::new(),
        tag,
    };

    admin_screens(&mut api, &cx).await;
    admin_crud(&mut api, &cx).await;
    catalog(&mut api, &mut cx, creds.loteria_id).await;
    restrictions(&mut api, &cx).await;
    sorteo(&mut api, &mut cx).await;
    people_settings(&mut api, &cx).await;
    sell(&mut api, &mut cx).await;
    evaluate(&mut api, &cx).await;
    pay(&mut api, &mut cx).await;
    ventas_and_dashboard(&mut api, &cx).await;
    accounts(&mut api, &cx).await;
    cierres_and_commissions(&mut api, &cx).await;
    password_and_logout(&mut api, &mut cx, creds).await;

    WalkReport {
        calls: api.calls,
        rows_checked: api.rows,
        loteria_id: cx.loteria_id.clone(),
        sorteo_id: cx.sorteo_id.clone(),
        ticket_id: text(&cx.ticket["id"]),
        ticket_number: text(&cx.ticket["ticketNumber"]),
    }
}

/// Admin CRUD lists and details: bancas, ventanas, users (§1.4 Admin CRUD).
async fn admin_screens<F: Fn(&str) -> String>(api: &mut Api<F>, cx: &Ctx) {
    let t = cx.admin.access.clone();
    let v = api
        .get(&qs("/bancas", &[("page", "1"), ("pageSize", "20")]), &t)
        .await;
    api.list("GET /bancas", &v, &[]);
    api.shape_owned("GET /bancas", &v, &under("data[]", BANCA_FIELDS));
    let v = api
        .get(
            &qs(
                "/bancas",
                &[("page", "1"), ("pageSize", "100"), ("isActive", "true")],
            ),
            &t,
        )
        .await;
    api.list("GET /bancas (picker)", &v, &[]);
    assert!(
        ids(&v).contains(&cx.banca_id),
        "picker lacks the banca: {v}"
    );
    let v = api.get(&format!("/bancas/{}", cx.banca_id), &t).await;
    api.item("GET /bancas/:id", &v, BANCA_FIELDS);

    let v = api
        .get(
            &qs(
                "/ventanas",
                &[
                    ("page", "1"),
                    ("pageSize", "100"),
                    ("bancaId", &cx.banca_id),
                ],
            ),
            &t,
        )
        .await;
    api.list("GET /ventanas", &v, &[]);
    api.shape_owned("GET /ventanas", &v, &under("data[]", VENTANA_FIELDS));
    assert!(ids(&v).contains(&cx.ventana_id), "{v}");
    let v = api.get(&format!("/ventanas/{}", cx.ventana_id), &t).await;
    api.item("GET /ventanas/:id", &v, VENTANA_FIELDS);

    let v = api
        .get(&qs("/users", &[("page", "1"), ("pageSize", "20")]), &t)
        .await;
    api.list("GET /users", &v, USER_ROWS);
    // The seller picker of the sale form (ADMIN and VENTANA).
    for token in [&t, &cx.ventana.access] {
        let v = api
            .get(
                &qs(
                    "/users",
                    &[("role", "VENDEDOR"), ("page", "1"), ("pageSize", "50")],
                ),
                token,
            )
            .await;
        api.list("GET /users?role=VENDEDOR", &v, USER_ROWS);
        let row = v["data"]
            .as_array()
            .and_then(|a| a.iter().find(|r| r["id"] == cx.vendedor.user_id.as_str()))
            .unwrap_or_else(|| panic!("the seller picker lacks the vendedor: {v}"));
        assert_eq!(row["role"], "VENDEDOR");
        assert_eq!(row["ventana"]["id"], cx.ventana_id.as_str());
    }
    let v = api
        .get(&format!("/users/{}", cx.vendedor.user_id), &t)
        .await;
    api.item("GET /users/:id", &v, USER);
    api.data("GET /users/:id", &v, USER_OF_VENTANA);
}

/// The admin create/edit/delete/restore screens of bancas (ADMIN), ventanas and users, on
/// entities the walk makes and leaves deleted. Deleted rows stay in the lists (the app filters
/// active/inactive on the client, §0).
async fn admin_crud<F: Fn(&str) -> String>(api: &mut Api<F>, cx: &Ctx) {
    let t = cx.admin.access.clone();
    let tag = cx.tag.to_lowercase();
    let in_list = |v: &Value, id: &str| -> Value {
        v["data"]
            .as_array()
            .and_then(|a| a.iter().find(|r| r["id"] == id))
            .cloned()
            .unwrap_or_else(|| panic!("{id} is not listed: {v}"))
    };

    if cx.admin.role == "ADMIN" {
        let v = api
            .post(
                "/bancas",
                &t,
                &json!({"name": format!("Banca Contrato {}", cx.tag),
                        "code": format!("C{}", &cx.tag[..6]),
                        "email": format!("banca-{tag}@example.com"),
                        "address": "San José", "phone": "(506) 2222-3333", "isActive": true,
                        "defaultMinBet": 100, "globalMaxPerNumber": 5000,
                        "salesCutoffMinutes": 5}),
            )
            .await;
        api.item("POST /bancas", &v, BANCA_FIELDS);
        let id = text(&v["data"]["id"]);
        let p = format!("/bancas/{id}");
        let v = api
            .patch(
                &p,
                &t,
                &json!({"name": format!("Banca Contrato {} b", cx.tag), "isActive": true}),
            )
            .await;
        api.item("PATCH /bancas/:id", &v, BANCA_FIELDS);
        api.ok(Method::DELETE, &p, &t, Some(&json!({}))).await;
        let v = api
            .get(
                &qs(
                    "/bancas",
                    &[("page", "1"), ("pageSize", "20"), ("search", &cx.tag)],
                ),
                &t,
            )
            .await;
        assert_eq!(in_list(&v, &id)["isActive"], false);
        api.patch(&format!("{p}/restore"), &t, &json!({})).await;
        api.ok(Method::DELETE, &p, &t, Some(&json!({}))).await;
    }

    // The app's "nueva ventana" form sends no `username`/`password`; the reference at HEAD
    // (which Banca follows) creates the ventana's VENTANA user with it and requires both.
    let form = json!({"bancaId": cx.banca_id, "name": format!("Ventana Contrato {}", cx.tag),
                      "code": format!("V{}", &cx.tag[..6]),
                      "email": format!("ventana-{tag}@example.com"),
                      "phone": "(506) 2222-4444", "address": "Heredia",
                      "commissionMarginX": 0, "isActive": true});
    let e = api
        .refused(
            Method::POST,
            "/ventanas",
            Some(&t),
            Some(&form),
            400,
            "VALIDATION_ERROR",
        )
        .await;
    assert!(e["details"].to_string().contains("username"), "{e}");
    let mut body = form.clone();
    body["username"] = json!(format!("listero_{tag}"));
    body["password"] = json!("clave-contrato-1");
    let v = api.post("/ventanas", &t, &body).await;
    let ventana = text(&v["data"]["id"]);
    api.data("POST /ventanas", &v, VENTANA_FIELDS);
    let p = format!("/ventanas/{ventana}");
    let v = api
        .patch(
            &p,
            &t,
            &json!({"bancaId": cx.banca_id, "name": format!("Ventana Contrato {} b", cx.tag),
                    "isActive": true}),
        )
        .await;
    api.item("PATCH /ventanas/:id", &v, VENTANA_FIELDS);

    // A vendedor of that ventana: create, edit (compacted), delete with `{reason}`, restore,
    // delete without a body.
    let v = api
        .post(
            "/users",
            &t,
            &json!({"name": format!("Vendedor Contrato {}", cx.tag),
                    "username": format!("vend_{tag}"), "email": null, "role": "VENDEDOR",
                    "ventanaId": ventana, "password": "clave-contrato-1", "isActive": true}),
        )
        .await;
    api.item("POST /users", &v, USER);
    api.data("POST /users", &v, USER_OF_VENTANA);
    let user = text(&v["data"]["id"]);
    let u = format!("/users/{user}");
    let v = api
        .patch(
            &u,
            &t,
            &json!({"name": format!("Vendedor Contrato {} b", cx.tag),
                    "email": format!("vendedor-{tag}@example.com")}),
        )
        .await;
    api.item("PATCH /users/:id", &v, USER);
    api.ok(
        Method::DELETE,
        &u,
        &t,
        Some(&json!({"reason": "Prueba de contrato"})),
    )
    .await;
    let v = api
        .get(
            &qs(
                "/users",
                &[("page", "1"), ("pageSize", "20"), ("search", &cx.tag)],
            ),
            &t,
        )
        .await;
    api.list("GET /users?search", &v, USER_ROWS);
    assert_eq!(in_list(&v, &user)["isActive"], false);
    api.patch(&format!("{u}/restore"), &t, &json!({})).await;
    api.ok(Method::DELETE, &u, &t, None).await;

    api.ok(Method::DELETE, &p, &t, Some(&json!({}))).await;
    let v = api
        .get(
            &qs(
                "/ventanas",
                &[("page", "1"), ("pageSize", "100"), ("search", &cx.tag)],
            ),
            &t,
        )
        .await;
    api.list("GET /ventanas?search", &v, &[]);
    assert_eq!(in_list(&v, &ventana)["isActive"], false);
    api.patch(&format!("{p}/restore"), &t, &json!({})).await;
    api.ok(Method::DELETE, &p, &t, Some(&json!({}))).await;
}

/// Loterías and multipliers: the sale lotería (made unless named) and a catalog-only one the
/// walk edits, deletes, restores and deletes again (§1.4 Loterías, Multipliers).
async fn catalog<F: Fn(&str) -> String>(
    api: &mut Api<F>,
    cx: &mut Ctx,
    loteria: Option<uuid::Uuid>,
) {
    let t = cx.admin.access.clone();
    let v = api
        .get(&qs("/loterias", &[("page", "1"), ("pageSize", "100")]), &t)
        .await;
    api.list("GET /loterias", &v, &[("data[]?.id", Uuid)]);

    let schedule = json!({
        "frequency": "diario",
        "times": ["12:55", "16:30", "19:30"],
        "daysOfWeek": [0, 1, 2, 3, 4, 5, 6],
    });
    cx.loteria_id = match loteria {
        Some(id) => id.to_string(),
        None => {
            // `bancaId` is accepted by Banca (the app sends none and the reference makes a
            // global lotería then): the walk keeps its lotería inside the banca it walks.
            let body = json!({
                "name": format!("Contrato {}", cx.tag),
                "isActive": true,
                "bancaId": cx.banca_id,
                "rulesJson": {
                    "closingTimeBeforeDraw": 1,
                    "allowedBetTypes": ["NUMERO", "REVENTADO"],
                    "reventadoConfig": {"enabled": true, "allowedMultiplierIds": []},
                    "minBetAmount": 100,
                    "maxBetAmount": 100000,
                    "maxNumbersPerTicket": 50,
                    "numberRange": {"min": 0, "max": 99},
                    "drawSchedule": schedule,
                    "autoCreateSorteos": false,
                    "baseMultiplierX": 90,
                },
            });
            let v = api.post("/loterias", &t, &body).await;
            api.item("POST /loterias", &v, &[("id", Uuid), ("rulesJson", Obj)]);
            text(&v["data"]["id"])
        }
    };
    let lot = api.get(&format!("/loterias/{}", cx.loteria_id), &t).await;
    api.item(
        "GET /loterias/:id",
        &lot,
        &[
            ("id", Uuid),
            ("name", Str),
            ("isActive", Bool),
            ("rulesJson", Obj),
        ],
    );
    api.shape_owned(
        "GET /loterias/:id",
        &lot,
        &under("data.rulesJson", RULES_JSON),
    );
    assert_eq!(
        lot["data"]["rulesJson"]["reventadoConfig"]["enabled"], true,
        "the walk sells REVENTADO: name a lotería with reventadoConfig.enabled"
    );
    if let Some(d) = lot["data"]["rulesJson"]["digits"].as_u64() {
        cx.digits = usize::try_from(d).expect("digits");
    }

    // Multipliers: the NUMERO base and a REVENTADO one, made when missing.
    let active = |v: &Value| -> Option<Value> {
        v["data"]
            .as_array()?
            .iter()
            .filter(|m| m["isActive"] == true)
            .min_by_key(|m| (m["name"] != "Base", m["createdAt"].to_string()))
            .cloned()
    };
    let list = |kind: &str| {
        qs(
            "/multipliers",
            &[("loteriaId", &cx.loteria_id), ("kind", kind)],
        )
    };
    let v = api.get(&list("NUMERO"), &t).await;
    api.list("GET /multipliers", &v, &[]);
    api.shape_owned("GET /multipliers", &v, &under("data[]?", MULTIPLIER_FIELDS));
    cx.base = match active(&v) {
        Some(m) => m,
        None => {
            let v = api
                .post(
                    "/multipliers",
                    &t,
                    &json!({"loteriaId": cx.loteria_id, "name": "Base", "valueX": 90,
                            "kind": "NUMERO", "isActive": true}),
                )
                .await;
            api.item("POST /multipliers", &v, MULTIPLIER_FIELDS);
            v["data"].clone()
        }
    };
    let v = api.get(&list("REVENTADO"), &t).await;
    cx.reventado = match active(&v) {
        Some(m) => m,
        None => {
            let v = api
                .post(
                    "/multipliers",
                    &t,
                    &json!({"loteriaId": cx.loteria_id, "name": format!("Roja {}", cx.tag),
                            "valueX": 200, "kind": "REVENTADO", "isActive": true}),
                )
                .await;
            api.item("POST /multipliers", &v, MULTIPLIER_FIELDS);
            v["data"].clone()
        }
    };
    assert_eq!(cx.reventado["kind"], "REVENTADO");
    let v = api
        .get(&format!("/multipliers/{}", text(&cx.reventado["id"])), &t)
        .await;
    api.item("GET /multipliers/:id", &v, MULTIPLIER_FIELDS);

    // The multiplier screens: create, edit (the whole form), toggle off with
    // `DELETE {isActive: false}`; the list keeps showing it (the app filters on the client).
    let v = api
        .post(
            "/multipliers",
            &t,
            &json!({"loteriaId": cx.loteria_id, "name": format!("Contrato {}", cx.tag),
                    "valueX": 80, "kind": "NUMERO", "isActive": true}),
        )
        .await;
    api.item("POST /multipliers", &v, MULTIPLIER_FIELDS);
    let extra = text(&v["data"]["id"]);
    let v = api
        .patch(
            &format!("/multipliers/{extra}"),
            &t,
            &json!({"loteriaId": cx.loteria_id, "name": format!("Contrato {} b", cx.tag),
                    "valueX": 85, "kind": "NUMERO", "isActive": true}),
        )
        .await;
    assert_eq!(dec(&v["data"]["valueX"]), Decimal::from(85));
    let v = api
        .ok(
            Method::DELETE,
            &format!("/multipliers/{extra}"),
            &t,
            Some(&json!({"isActive": false})),
        )
        .await;
    assert_eq!(v["data"]["isActive"], false, "{v}");
    let v = api.get(&list("NUMERO"), &t).await;
    let row = v["data"]
        .as_array()
        .and_then(|a| a.iter().find(|m| m["id"] == extra.as_str()))
        .unwrap_or_else(|| panic!("an inactive multiplier left the list: {v}"));
    assert_eq!(row["isActive"], false);

    // The reventado multiplier allowed by the lotería's rules: the `{rulesJson}` form of
    // PATCH /loterias/:id, only on a lotería the walk owns.
    if cx.own_loteria {
        let mut rules = lot["data"]["rulesJson"].clone();
        rules["reventadoConfig"]["allowedMultiplierIds"] = json!([cx.reventado["id"]]);
        let v = api
            .patch(
                &format!("/loterias/{}", cx.loteria_id),
                &t,
                &json!({"rulesJson": rules}),
            )
            .await;
        assert_eq!(v["data"]["rulesJson"], rules, "rulesJson is stored as sent");
    }

    // A catalog-only lotería: every rulesJson key the app edits round-trips unchanged; edit,
    // delete (`DELETE {}`), restore, delete again. A deleted lotería stays in the list.
    let day = json!({"start": "06:00", "end": "21:00"});
    let rules = json!({
        "salesHours": {"sunday": day, "monday": day, "tuesday": day, "wednesday": day,
                       "thursday": day, "friday": day, "saturday": day},
        "closingTimeBeforeDraw": 5,
        "allowedBetTypes": ["NUMERO", "REVENTADO"],
        "reventadoConfig": {"enabled": false, "allowedMultiplierIds": []},
        "minBetAmount": 100,
        "maxBetAmount": 20000,
        "maxNumbersPerTicket": 30,
        "numberRange": {"min": 0, "max": 99},
        "drawSchedule": schedule,
        "autoCreateSorteos": false,
        "commissionRules": {"ventanaPercentage": 5, "vendedorPercentage": 10, "bonusThreshold": 0},
        "display": {"color": "#1e88e5", "icon": "ticket", "description": "Contrato",
                    "featured": false},
        "baseMultiplierX": 85,
    });
    let v = api
        .post(
            "/loterias",
            &t,
            &json!({"name": format!("Contrato {} horario", cx.tag), "isActive": true,
                    "bancaId": cx.banca_id, "rulesJson": rules}),
        )
        .await;
    let other = text(&v["data"]["id"]);
    let v = api.get(&format!("/loterias/{other}"), &t).await;
    api.shape_owned(
        "GET /loterias/:id",
        &v,
        &under("data.rulesJson", RULES_JSON),
    );
    assert_eq!(
        v["data"]["rulesJson"], rules,
        "rulesJson round-trips unchanged"
    );
    let v = api
        .patch(
            &format!("/loterias/{other}"),
            &t,
            &json!({"name": format!("Contrato {} horario b", cx.tag), "isActive": true,
                    "rulesJson": rules}),
        )
        .await;
    assert_eq!(v["data"]["rulesJson"], rules);
    api.ok(
        Method::DELETE,
        &format!("/loterias/{other}"),
        &t,
        Some(&json!({})),
    )
    .await;
    let v = api
        .get(
            &qs(
                "/loterias",
                &[("page", "1"), ("pageSize", "100"), ("search", &cx.tag)],
            ),
            &t,
        )
        .await;
    api.list("GET /loterias?search", &v, LOTERIA_ROWS);
    let row = v["data"]
        .as_array()
        .and_then(|a| a.iter().find(|l| l["id"] == other.as_str()))
        .unwrap_or_else(|| panic!("a deleted lotería left the list: {v}"));
    assert_eq!(row["isActive"], false);
    api.patch(&format!("/loterias/{other}/restore"), &t, &json!({}))
        .await;
    api.ok(
        Method::DELETE,
        &format!("/loterias/{other}"),
        &t,
        Some(&json!({})),
    )
    .await;
}

/// Restriction rules: the admin list screens, one rule created, read, edited, deleted (no
/// body), restored and deleted again (§1.4 Restrictions).
async fn restrictions<F: Fn(&str) -> String>(api: &mut Api<F>, cx: &Ctx) {
    let t = cx.admin.access.clone();
    let rows = under("data[]?", RULE_FIELDS);
    let rows: Vec<(&str, Kind)> = rows.iter().map(|(p, k)| (p.as_str(), *k)).collect();
    for params in [
        vec![("page", "1"), ("pageSize", "20")],
        vec![("page", "1"), ("pageSize", "20"), ("hasCutoff", "true")],
        vec![("page", "1"), ("pageSize", "20"), ("hasAmount", "true")],
    ] {
        let v = api.get(&qs("/restrictions", &params), &t).await;
        api.list("GET /restrictions", &v, &rows);
    }
    let number = cx.num(N_RULE);
    let v = api
        .post(
            "/restrictions",
            &t,
            &json!({"ventanaId": cx.ventana_id, "number": number,
                    "maxAmount": 40000, "maxTotal": 90000}),
        )
        .await;
    // Banca answers the created rules as a list (one rule per number, as the reference's
    // create of a number list); the app only checks that the call succeeded.
    let created = match &v["data"] {
        Value::Array(a) => a.first().cloned().unwrap_or(Value::Null),
        other => other.clone(),
    };
    api.shape("POST /restrictions", &created, RULE_FIELDS);
    let id = text(&created["id"]);
    let path = format!("/restrictions/{id}");
    let v = api.get(&path, &t).await;
    api.item("GET /restrictions/:id", &v, RULE_FIELDS);
    assert_eq!(v["data"]["number"], number.as_str());
    let v = api
        .patch(
            &path,
            &t,
            &json!({"ventanaId": cx.ventana_id, "number": number,
                    "maxAmount": 45000, "maxTotal": 90000}),
        )
        .await;
    assert_eq!(dec(&v["data"]["maxAmount"]), Decimal::from(45000));
    api.ok(Method::DELETE, &path, &t, None).await;
    // Banca keeps the reference's default for this list (active rules only unless
    // `isActive` is sent, restrictionRule.repository), unlike the other admin lists.
    let listed = |v: &Value| ids(v).contains(&id);
    let v = api
        .get(
            &qs(
                "/restrictions",
                &[("page", "1"), ("pageSize", "100"), ("number", &number)],
            ),
            &t,
        )
        .await;
    assert!(!listed(&v), "a deleted rule is listed by default: {v}");
    let v = api
        .get(
            &qs(
                "/restrictions",
                &[
                    ("page", "1"),
                    ("pageSize", "100"),
                    ("number", &number),
                    ("isActive", "false"),
                ],
            ),
            &t,
        )
        .await;
    assert!(listed(&v), "isActive=false lists the deleted rule: {v}");
    let v = api.patch(&format!("{path}/restore"), &t, &json!({})).await;
    assert_eq!(v["data"]["isActive"], true);
    api.ok(Method::DELETE, &path, &t, None).await;
}

/// The sorteo the walk sells in (created as the app does, edited, opened), a second one for
/// the rest of the lifecycle (close, delete with `DELETE {}`, restore), the lotería's schedule
/// previewed and, on the walk's own lotería, one draw seeded and deleted again.
async fn sorteo<F: Fn(&str) -> String>(api: &mut Api<F>, cx: &mut Ctx) {
    let t = cx.admin.access.clone();
    let at = (chrono::Utc::now() + DRAW_IN)
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string();
    let name = format!("Contrato {}", cx.tag);
    let v = api
        .post(
            "/sorteos",
            &t,
            &json!({"name": name, "loteriaId": cx.loteria_id, "scheduledAt": at}),
        )
        .await;
    api.item("POST /sorteos", &v, SORTEO_FIELDS);
    cx.sorteo_id = text(&v["data"]["id"]);
    if let Some(d) = v["data"]["digits"].as_u64() {
        cx.digits = usize::try_from(d).expect("digits");
    }
    let path = format!("/sorteos/{}", cx.sorteo_id);
    let v = api
        .patch(
            &path,
            &t,
            &json!({"name": format!("{name} b"), "loteriaId": cx.loteria_id, "scheduledAt": at}),
        )
        .await;
    api.item("PATCH /sorteos/:id", &v, SORTEO_FIELDS);
    let v = api.patch(&format!("{path}/open"), &t, &json!({})).await;
    api.item("PATCH /sorteos/:id/open", &v, SORTEO_FIELDS);
    assert_eq!(v["data"]["status"], "OPEN");
    let v = api.get(&path, &t).await;
    api.item("GET /sorteos/:id", &v, SORTEO_FIELDS);

    let preview = api
        .get(
            &qs(
                &format!("/loterias/{}/preview_schedule", cx.loteria_id),
                &[("days", "7"), ("limit", "200")],
            ),
            &t,
        )
        .await;
    api.shape(
        "GET /loterias/:id/preview_schedule",
        &preview,
        &[
            ("data[]?.name", Str),
            ("data[]?.scheduledAt", Instant),
            ("data[]?.loteriaId", Uuid),
            ("meta.count", Num),
            ("meta.from", Str),
            ("meta.to", Str),
        ],
    );
    // A second sorteo for the rest of the lifecycle: open, close, delete (`DELETE {}`; a
    // deleted sorteo stays in the list), restore, delete again.
    let later = (chrono::Utc::now() + DRAW_IN + chrono::Duration::minutes(15))
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string();
    let v = api
        .post(
            "/sorteos",
            &t,
            &json!({"name": format!("{name} ciclo"), "loteriaId": cx.loteria_id,
                    "scheduledAt": later}),
        )
        .await;
    let other = text(&v["data"]["id"]);
    let p = format!("/sorteos/{other}");
    api.patch(&format!("{p}/open"), &t, &json!({})).await;
    let v = api.patch(&format!("{p}/close"), &t, &json!({})).await;
    api.item("PATCH /sorteos/:id/close", &v, SORTEO_FIELDS);
    assert_eq!(v["data"]["status"], "CLOSED");
    api.ok(Method::DELETE, &p, &t, Some(&json!({}))).await;
    let v = api
        .get(
            &qs(
                "/sorteos",
                &[
                    ("page", "1"),
                    ("pageSize", "100"),
                    ("loteriaId", &cx.loteria_id),
                ],
            ),
            &t,
        )
        .await;
    api.list("GET /sorteos?loteriaId", &v, &[]);
    api.shape_owned(
        "GET /sorteos?loteriaId",
        &v,
        &under("data[]", SORTEO_FIELDS),
    );
    let row = v["data"]
        .as_array()
        .and_then(|a| a.iter().find(|s| s["id"] == other.as_str()))
        .unwrap_or_else(|| panic!("a deleted sorteo left the list: {v}"));
    assert_eq!(row["isActive"], false, "{row}");
    api.patch(&format!("{p}/restore"), &t, &json!({})).await;
    api.ok(Method::DELETE, &p, &t, Some(&json!({}))).await;

    // Seeding from the schedule, only on the walk's own lotería: one previewed draw, then
    // deleted again.
    if !cx.own_loteria {
        return;
    }
    let when = last_previewed(&preview);
    let v = api
        .post(
            &qs(
                &format!("/loterias/{}/seed_sorteos", cx.loteria_id),
                &[("days", "7"), ("limit", "200")],
            ),
            &t,
            &json!({"scheduledDates": [when]}),
        )
        .await;
    api.shape(
        "POST /loterias/:id/seed_sorteos",
        &v,
        &[("data.created", Any), ("data.skipped", Any)],
    );
    // `created` is a number or a list of instants (the app reads both).
    let created = match &v["data"]["created"] {
        Value::Number(n) => n.as_u64().unwrap_or(0),
        Value::Array(a) => a.len() as u64,
        other => panic!("created is neither a number nor a list: {other}"),
    };
    assert_eq!(created, 1, "{v}");
    let v = api
        .get(
            &qs(
                "/sorteos",
                &[
                    ("page", "1"),
                    ("pageSize", "100"),
                    ("loteriaId", &cx.loteria_id),
                    ("status", "SCHEDULED"),
                ],
            ),
            &t,
        )
        .await;
    api.list("GET /sorteos?status=SCHEDULED", &v, &[]);
    api.shape_owned(
        "GET /sorteos?status=SCHEDULED",
        &v,
        &under("data[]", SORTEO_FIELDS),
    );
    let seeded = v["data"]
        .as_array()
        .and_then(|a| a.iter().find(|s| s["scheduledAt"] == when))
        .map(|s| text(&s["id"]))
        .unwrap_or_else(|| panic!("the seeded sorteo is not listed: {v}"));
    api.ok(
        Method::DELETE,
        &format!("/sorteos/{seeded}"),
        &t,
        Some(&json!({})),
    )
    .await;
}

/// The last previewed draw instant.
fn last_previewed(preview: &Value) -> Value {
    preview["data"]
        .as_array()
        .and_then(|a| a.last())
        .map(|s| s["scheduledAt"].clone())
        .unwrap_or_else(|| panic!("the walk's lotería has a schedule: {preview}"))
}

/// Print settings and theme (the app's settings screens), and the vendedor's commission
/// policy (the admin user screen) when without it the vendedor cannot see the lotería.
async fn people_settings<F: Fn(&str) -> String>(api: &mut Api<F>, cx: &Ctx) {
    let t = cx.admin.access.clone();
    let user = format!("/users/{}", cx.vendedor.user_id);
    api.patch(
        &user,
        &t,
        &json!({"settings": {"print": {"name": format!("Vendedor {}", cx.tag),
                "phone": "(506) 8888-0000", "width": 58, "footer": "Gracias por su compra",
                "barcode": true}}}),
    )
    .await;
    let v = api
        .patch(&user, &t, &json!({"settings": {"theme": "dark"}}))
        .await;
    api.item("PATCH /users/:id", &v, USER);
    api.data("PATCH /users/:id {settings}", &v, USER_WITH_SETTINGS);
    let v = api
        .patch(
            &format!("/ventanas/{}", cx.ventana_id),
            &t,
            &json!({"settings": {"print": {"name": format!("Ventana {}", cx.tag),
                    "phone": "(506) 2222-0000", "width": 88, "footer": "Suerte",
                    "barcode": true}}}),
        )
        .await;
    api.item("PATCH /ventanas/:id", &v, VENTANA_FIELDS);

    let policy = format!("/users/{}/commission-policy", cx.vendedor.user_id);
    let v = api.get(&policy, &t).await;
    api.item("GET /users/:id/commission-policy", &v, &[]);
    api.shape("GET /users/:id/commission-policy", &v, COMMISSION_POLICY);
    let open = qs("/sorteos", &[("status", "OPEN")]);
    let visible = |v: &Value, id: &str| ids(v).iter().any(|s| s == id);
    let seen = api.get(&open, &cx.vendedor.access).await;
    if visible(&seen, &cx.sorteo_id) {
        return;
    }
    // A VENDEDOR sees the loterías its own policy covers (domain-money §1.9): the policy it
    // has plus a rule for this lotería's base multiplier. The write API (Banca's as the
    // reference's) requires a `{min, max}` range on every rule; stored rules without one
    // (legal on the lenient read side) are left out, as the app's policy form would have to.
    let mut p = match &v["data"]["commissionPolicyJson"] {
        Value::Object(_) => v["data"]["commissionPolicyJson"].clone(),
        _ => json!({"version": 1, "effectiveFrom": null, "effectiveTo": null,
                    "defaultPercent": 5, "rules": []}),
    };
    let mut rules: Vec<Value> = p["rules"]
        .as_array()
        .map(|r| {
            r.iter()
                .filter(|rule| rule["multiplierRange"].is_object())
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    let x = cx.base["valueX"].clone();
    rules.push(json!({"loteriaId": cx.loteria_id, "betType": "NUMERO",
                      "multiplierRange": {"min": x, "max": x}, "percent": 10}));
    p["rules"] = Value::Array(rules);
    let v = api
        .ok(
            Method::PUT,
            &policy,
            &t,
            Some(&json!({"commissionPolicyJson": p})),
        )
        .await;
    api.item("PUT /users/:id/commission-policy", &v, &[]);
    api.shape(
        "PUT /users/:id/commission-policy",
        &v,
        COMMISSION_POLICY_SET,
    );
}

/// The sale forms of the three roles: VENDEDOR for itself (idempotency key, NUMERO and
/// REVENTADO), the ticket detail, print and look-up by number; VENTANA for its vendedor and a
/// cancel; the admin on behalf of the vendedor.
async fn sell<F: Fn(&str) -> String>(api: &mut Api<F>, cx: &mut Ctx) {
    let seller = cx.vendedor.access.clone();
    let v = api
        .get(&qs("/sorteos", &[("status", "OPEN")]), &seller)
        .await;
    api.list("GET /sorteos?status=OPEN", &v, SALE_FORM_SORTEOS);
    assert!(
        ids(&v).contains(&cx.sorteo_id),
        "the vendedor's sale form lacks the sorteo: {v}"
    );
    let v = api.get("/restrictions", &seller).await;
    api.list("GET /restrictions (sale form)", &v, &[("data[]?.id", Uuid)]);
    let v = api
        .get(
            &qs("/tickets", &[("date", "today"), ("scope", "mine")]),
            &seller,
        )
        .await;
    api.list(
        "GET /tickets (daily guard)",
        &v,
        &[("data[]?.totalAmount", Num)],
    );

    let win = cx.num(N_WIN);
    let lose = cx.num(N_LOSE);
    let body = json!({
        "loteriaId": cx.loteria_id,
        "sorteoId": cx.sorteo_id,
        "idempotencyKey": format!("contrato-{}-venta", cx.tag),
        "jugadas": [
            {"type": "NUMERO", "number": win, "amount": 1000},
            {"type": "REVENTADO", "number": win, "reventadoNumber": win, "amount": 500},
            {"type": "NUMERO", "number": lose, "amount": 200},
        ],
    });
    let a = api
        .send(Method::POST, "/tickets", Some(&seller), Some(&body))
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "POST /tickets: {}", a.body);
    api.item("POST /tickets", &a.body, TICKET);
    let ticket = a.body["data"].clone();
    let number = text(&ticket["ticketNumber"]);
    assert!(
        is_ticket_number(&number),
        "ticketNumber {number} is not T<YYMMDD>-<sequence>-<check>"
    );
    assert_eq!(dec(&ticket["totalAmount"]), Decimal::from(1700));
    assert_eq!(ticket["status"], "ACTIVE");
    assert_eq!(
        ticket["vendedor"]["printName"],
        format!("Vendedor {}", cx.tag)
    );
    assert_eq!(
        ticket["ventana"]["printName"],
        format!("Ventana {}", cx.tag)
    );
    assert_eq!(dec(&ticket["ventana"]["printWidth"]), Decimal::from(88));
    // The same key again (the app's mutation retry): the same ticket, not a second one.
    let again = api
        .send(Method::POST, "/tickets", Some(&seller), Some(&body))
        .await;
    assert!(again.status.is_success(), "replay: {}", again.body);
    assert_eq!(
        again.body["data"]["id"], ticket["id"],
        "replay made another ticket"
    );
    assert_eq!(again.body["data"]["ticketNumber"], number.as_str());
    assert_eq!(
        again
            .headers
            .get("idempotent-replayed")
            .and_then(|h| h.to_str().ok()),
        Some("true")
    );

    let id = text(&ticket["id"]);
    let v = api.get(&format!("/tickets/{id}"), &seller).await;
    api.item("GET /tickets/:id", &v, TICKET);
    assert_eq!(v["data"]["jugadas"].as_array().map(Vec::len), Some(3));
    // Printing is client-side in the app; Banca also counts server-side (re)prints.
    let v = api
        .ok(Method::POST, &format!("/tickets/{id}/print"), &seller, None)
        .await;
    assert!(
        v["data"]["printCount"].as_i64().is_some_and(|n| n >= 1),
        "{v}"
    );
    let v = api
        .get(&format!("/tickets/by-number/{number}"), &seller)
        .await;
    api.shape(
        "GET /tickets/by-number/:n",
        &v,
        &[
            ("data.ticketNumber", Str),
            ("data.sorteoId", Uuid),
            ("data.loteriaId", Uuid),
            ("data.clienteNombre", Nullable(&Str)),
            ("data.createdAt", Instant),
            ("data.jugadas[].type", Enum(BET_TYPES)),
            ("data.jugadas[].number", Str),
            ("data.jugadas[].amount", Num),
        ],
    );
    assert_eq!(v["data"]["ticketNumber"], number.as_str());
    assert_eq!(v["data"]["sorteoId"], cx.sorteo_id.as_str());

    // VENTANA: its "new ticket" screen fetches /auth/me again, sells for its vendedor, then
    // cancels (PATCH without a body).
    let listero = cx.ventana.access.clone();
    let me = api.get("/auth/me", &listero).await;
    api.item("GET /auth/me", &me, USER);
    let v = api
        .post(
            "/tickets",
            &listero,
            &json!({"loteriaId": cx.loteria_id, "sorteoId": cx.sorteo_id,
                    "vendedorId": cx.vendedor.user_id,
                    "jugadas": [{"type": "NUMERO", "number": cx.num(N_CANCEL), "amount": 300}]}),
        )
        .await;
    api.item("POST /tickets (ventana)", &v, TICKET);
    assert_eq!(v["data"]["vendedor"]["id"], cx.vendedor.user_id.as_str());
    let cancel = text(&v["data"]["id"]);
    let v = api
        .ok(
            Method::PATCH,
            &format!("/tickets/{cancel}/cancel"),
            &listero,
            None,
        )
        .await;
    assert_eq!(v["data"]["status"], "CANCELLED", "{v}");

    // The admin sells on behalf of the vendedor, naming its ventana too.
    let v = api
        .post(
            "/tickets",
            &cx.admin.access,
            &json!({"loteriaId": cx.loteria_id, "sorteoId": cx.sorteo_id,
                    "vendedorId": cx.vendedor.user_id, "ventanaId": cx.ventana_id,
                    "jugadas": [{"type": "NUMERO", "number": lose, "amount": 200}]}),
        )
        .await;
    api.item("POST /tickets (admin)", &v, TICKET);
    assert_eq!(v["data"]["createdByRole"], cx.admin.role.as_str());
    cx.admin_ticket_id = text(&v["data"]["id"]);

    // The business dates of the walk's tickets: the draw's day, and today (a range query
    // must hold both however the server dates a ticket).
    let day = text(&ticket["businessDate"])[..10].to_string();
    let draw = NaiveDate::parse_from_str(&day, "%Y-%m-%d").expect("businessDate");
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::America::Costa_Rica)
        .date_naive();
    cx.from = draw.min(today).format("%Y-%m-%d").to_string();
    cx.to = draw.max(today).format("%Y-%m-%d").to_string();
    cx.ticket = ticket;
}

/// `T<YYMMDD>-<sequence>-<check>` (decision 17).
fn is_ticket_number(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    parts.len() == 3
        && parts[0].len() == 7
        && parts[0].starts_with('T')
        && digits(&parts[0][1..])
        && digits(parts[1])
        && parts[2].len() == 2
        && digits(parts[2])
}

/// The results screen: evaluate with the winning number and a REVENTADO multiplier.
async fn evaluate<F: Fn(&str) -> String>(api: &mut Api<F>, cx: &Ctx) {
    let t = cx.admin.access.clone();
    let path = format!("/sorteos/{}", cx.sorteo_id);
    let v = api
        .patch(
            &format!("{path}/evaluate"),
            &t,
            &json!({"winningNumber": cx.num(N_WIN), "extraMultiplierId": cx.reventado["id"],
                    "extraOutcomeCode": null}),
        )
        .await;
    api.item("PATCH /sorteos/:id/evaluate", &v, SORTEO_FIELDS);
    let s = &v["data"];
    assert_eq!(s["status"], "EVALUATED");
    assert_eq!(s["winningNumber"], cx.num(N_WIN).as_str());
    assert_eq!(s["extraMultiplierId"], cx.reventado["id"]);
    assert_eq!(dec(&s["extraMultiplierX"]), dec(&cx.reventado["valueX"]));
    let v = api.get(&path, &t).await;
    api.item("GET /sorteos/:id", &v, SORTEO_FIELDS);
    assert_eq!(v["data"]["status"], "EVALUATED");

    let v = api
        .get(
            &qs(
                "/sorteos",
                &[
                    ("page", "1"),
                    ("pageSize", "20"),
                    ("loteriaId", &cx.loteria_id),
                    ("status", "EVALUATED"),
                    ("search", &cx.tag),
                ],
            ),
            &t,
        )
        .await;
    api.list("GET /sorteos?status=EVALUATED", &v, &[]);
    api.shape_owned(
        "GET /sorteos?status=EVALUATED",
        &v,
        &under("data[]", SORTEO_FIELDS),
    );
    assert!(ids(&v).contains(&cx.sorteo_id), "{v}");
    let v = api
        .get(
            &qs(
                "/sorteos",
                &cx.range(&[
                    ("page", "1"),
                    ("pageSize", "100"),
                    ("loteriaId", &cx.loteria_id),
                ]),
            ),
            &t,
        )
        .await;
    api.list("GET /sorteos?date=range", &v, &[]);
    api.shape_owned(
        "GET /sorteos?date=range",
        &v,
        &under("data[]", SORTEO_FIELDS),
    );
    assert!(ids(&v).contains(&cx.sorteo_id), "{v}");

    // Prizes: NUMERO pays amount × its multiplier, REVENTADO amount × the extra multiplier.
    let v = api
        .get(
            &format!("/tickets/{}", text(&cx.ticket["id"])),
            &cx.vendedor.access,
        )
        .await;
    api.item("GET /tickets/:id", &v, TICKET);
    let t = &v["data"];
    let base_x = dec(&cx.ticket["jugadas"][0]["finalMultiplierX"]);
    let prize = Decimal::from(1000) * base_x + Decimal::from(500) * dec(&cx.reventado["valueX"]);
    assert_eq!(t["status"], "EVALUATED");
    assert_eq!(t["isWinner"], true);
    assert_eq!(dec(&t["totalPayout"]), prize);
    assert_eq!(dec(&t["remainingAmount"]), prize);
    let v = api
        .get(
            &format!("/tickets/{}", cx.admin_ticket_id),
            &cx.admin.access,
        )
        .await;
    assert_eq!(v["data"]["isWinner"], false);
    assert_eq!(dec(&v["data"]["totalPayout"]), Decimal::ZERO);
}

/// The payout screens (§1.4 Payments): the ventana finds the winner, pays part with the app's
/// `system` method, reverses it, pays part again and finalises; the vendedor sees the history.
async fn pay<F: Fn(&str) -> String>(api: &mut Api<F>, cx: &mut Ctx) {
    let listero = cx.ventana.access.clone();
    let id = text(&cx.ticket["id"]);
    let mut params = cx.range(&[
        ("page", "1"),
        ("pageSize", "20"),
        ("scope", "mine"),
        ("status", "EVALUATED"),
        ("hasWinner", "true"),
    ]);
    let v = api.get(&qs("/tickets", &params), &listero).await;
    api.list(
        "GET /tickets?status=EVALUATED&hasWinner=true",
        &v,
        TICKET_ROWS,
    );
    let listed = ids(&v);
    assert!(
        listed.contains(&id),
        "the payout screen lacks the winner: {v}"
    );
    // Departure (§1.6 item 3): the reference ignores `hasWinner` and the app filters on the
    // client; Banca reads `hasWinner=true` (and `isWinner=true`) as `winnersOnly=true`, so
    // the payout screen gets winners only.
    assert!(
        !listed.contains(&cx.admin_ticket_id),
        "a loser on the payout screen: {v}"
    );
    assert!(
        v["data"]
            .as_array()
            .is_some_and(|a| a.iter().all(|t| t["isWinner"] == true)),
        "{v}"
    );
    params.retain(|(k, _)| *k != "hasWinner");
    params.push(("winnersOnly", "true"));
    let v = api.get(&qs("/tickets", &params), &listero).await;
    api.list("GET /tickets?winnersOnly=true", &v, TICKET_ROWS);
    assert!(ids(&v).contains(&id), "{v}");
    assert!(
        v["data"]
            .as_array()
            .is_some_and(|a| a.iter().all(|t| t["isWinner"] == true)),
        "winnersOnly lists a loser: {v}"
    );

    let v = api.get(&format!("/tickets/{id}"), &listero).await;
    let prize = dec(&v["data"]["totalPayout"]);
    let part = (prize / Decimal::from(2)).round_dp(2);
    let path = format!("/tickets/{id}/pay");
    let v = api
        .post(
            &path,
            &listero,
            &json!({"amountPaid": part, "method": "system",
                    "idempotencyKey": uuid::Uuid::new_v4(), "isFinal": false}),
        )
        .await;
    api.item("POST /tickets/:id/pay", &v, TICKET);
    // 'system' (Sinpe Móvil) is not a stored method: kept as cash (§1.6 item 4).
    assert_eq!(v["data"]["paymentMethod"], "cash");
    assert_eq!(dec(&v["data"]["totalPaid"]), part);
    let v = api
        .post(
            &format!("/tickets/{id}/reverse-payment"),
            &listero,
            &json!({"reason": "Pago registrado por error"}),
        )
        .await;
    api.item("POST /tickets/:id/reverse-payment", &v, TICKET);
    assert_eq!(dec(&v["data"]["totalPaid"]), Decimal::ZERO);
    assert_eq!(v["data"]["paymentHistory"][0]["isReversed"], true, "{v}");
    let v = api
        .post(
            &path,
            &listero,
            &json!({"amountPaid": part, "method": "cash",
                    "idempotencyKey": uuid::Uuid::new_v4(), "isFinal": false}),
        )
        .await;
    assert_eq!(v["data"]["status"], "EVALUATED");
    assert_eq!(dec(&v["data"]["remainingAmount"]), prize - part);
    let v = api
        .post(
            &format!("/tickets/{id}/finalize-payment"),
            &listero,
            &json!({"notes": "Cliente acepta el pago parcial"}),
        )
        .await;
    api.item("POST /tickets/:id/finalize-payment", &v, TICKET);
    assert_eq!(v["data"]["status"], "PAID");

    let v = api
        .get(&format!("/tickets/{id}"), &cx.vendedor.access)
        .await;
    api.item("GET /tickets/:id", &v, TICKET);
    api.shape(
        "GET /tickets/:id (paid)",
        &v,
        &[
            ("data.paymentHistory[].id", Uuid),
            ("data.lastPaymentAt", Instant),
        ],
    );
    assert_eq!(v["data"]["status"], "PAID");
    assert_eq!(dec(&v["data"]["totalPaid"]), part);
    assert_eq!(
        v["data"]["paymentHistory"].as_array().map(Vec::len),
        Some(2)
    );
    cx.ticket = v["data"].clone();

    // The app's `GET /ticket-payments` hook has no screen and the reference's route is
    // commented out (§1.6 item 8): Banca has no list either, and answers JSON.
    api.refused(
        Method::GET,
        &qs("/ticket-payments", &[("page", "1"), ("pageSize", "20")]),
        Some(&listero),
        None,
        405,
        "METHOD_NOT_ALLOWED",
    )
    .await;
}

/// The home screens and reports (§1.4 Ventas, Admin dashboard).
async fn ventas_and_dashboard<F: Fn(&str) -> String>(api: &mut Api<F>, cx: &Ctx) {
    // Vendedor home: today and yesterday, its own.
    for date in ["today", "yesterday"] {
        let v = api
            .get(
                &qs("/ventas/summary", &[("scope", "mine"), ("date", date)]),
                &cx.vendedor.access,
            )
            .await;
        api.shape("GET /ventas/summary (vendedor)", &v, VENTAS_SUMMARY);
    }
    let v = api
        .get(
            &qs("/ventas/summary", &cx.range(&[("scope", "mine")])),
            &cx.vendedor.access,
        )
        .await;
    api.shape("GET /ventas/summary (vendedor, range)", &v, VENTAS_SUMMARY);
    assert!(dec(&v["data"]["ticketsCount"]) >= Decimal::from(2), "{v}");
    assert!(dec(&v["data"]["totalPaid"]) > Decimal::ZERO, "{v}");
    assert!(v["data"]["lastTicketAt"].is_string(), "{v}");

    // Ventana home and its "vendedores" and "ventas" screens.
    let w = cx.ventana.access.clone();
    let v = api
        .get(
            &qs(
                "/ventas/breakdown",
                &cx.range(&[("dimension", "vendedor"), ("scope", "mine")]),
            ),
            &w,
        )
        .await;
    api.shape(
        "GET /ventas/breakdown?dimension=vendedor",
        &v,
        VENTAS_BREAKDOWN,
    );
    assert!(
        v["data"]
            .as_array()
            .is_some_and(|a| a.iter().any(|r| r["key"] == cx.vendedor.user_id.as_str())),
        "{v}"
    );
    let v = api
        .get(&qs("/ventas/summary", &cx.range(&[("scope", "mine")])), &w)
        .await;
    api.shape("GET /ventas/summary (ventana)", &v, VENTAS_SUMMARY);

    // Admin home and reports.
    let t = cx.admin.access.clone();
    for date in ["today", "yesterday", "week", "month"] {
        let v = api.get(&qs("/ventas/summary", &[("date", date)]), &t).await;
        api.shape("GET /ventas/summary (admin)", &v, VENTAS_SUMMARY);
    }
    let v = api
        .get(
            &qs(
                "/ventas/breakdown",
                &[("dimension", "ventana"), ("top", "50"), ("date", "today")],
            ),
            &t,
        )
        .await;
    api.shape("GET /ventas/breakdown (today)", &v, &[("data[]?.key", Str)]);
    for dimension in ["ventana", "vendedor", "loteria", "sorteo", "numero"] {
        let v = api
            .get(
                &qs(
                    "/ventas/breakdown",
                    &cx.range(&[("dimension", dimension), ("top", "10")]),
                ),
                &t,
            )
            .await;
        api.shape(
            &format!("GET /ventas/breakdown?dimension={dimension}"),
            &v,
            VENTAS_BREAKDOWN,
        );
    }
    let v = api
        .get(
            &qs(
                "/ventas/timeseries",
                &[("granularity", "day"), ("date", "week")],
            ),
            &t,
        )
        .await;
    api.shape(
        "GET /ventas/timeseries (week)",
        &v,
        &[("data[]?.ts", Instant)],
    );
    for granularity in ["day", "hour"] {
        let v = api
            .get(
                &qs(
                    "/ventas/timeseries",
                    &cx.range(&[("granularity", granularity)]),
                ),
                &t,
            )
            .await;
        api.shape("GET /ventas/timeseries", &v, VENTAS_TIMESERIES);
    }
    let v = api
        .get(
            &qs(
                "/ventas",
                &cx.range(&[
                    ("page", "1"),
                    ("pageSize", "20"),
                    ("scope", "all"),
                    ("winnersOnly", "true"),
                ]),
            ),
            &t,
        )
        .await;
    api.list(
        "GET /ventas?winnersOnly=true",
        &v,
        &[("data[].id", Uuid), ("data[].isWinner", Bool)],
    );
    assert!(ids(&v).contains(&text(&cx.ticket["id"])), "{v}");
    let v = api
        .get(
            &qs(
                "/tickets",
                &cx.range(&[("page", "1"), ("pageSize", "20"), ("scope", "all")]),
            ),
            &t,
        )
        .await;
    api.list("GET /tickets (admin)", &v, TICKET_ROWS);

    // The admin dashboard (the app's mock mode switched off).
    let v = api.get(&qs("/admin/dashboard", &cx.range(&[])), &t).await;
    api.shape("GET /admin/dashboard", &v, DASHBOARD);
    let v = api
        .get(&qs("/admin/dashboard", &[("date", "today")]), &t)
        .await;
    api.shape(
        "GET /admin/dashboard (today)",
        &v,
        &[("data.kpis.totalSales", Num), ("meta.etag", Str)],
    );
    let v = api
        .get(
            &qs(
                "/admin/dashboard/timeseries",
                &cx.range(&[("granularity", "day"), ("compare", "false")]),
            ),
            &t,
        )
        .await;
    api.shape("GET /admin/dashboard/timeseries", &v, DASHBOARD_TIMESERIES);
    // The export as the app uses it: `{url, filename, format, expiresAt}`, then it opens
    // `url` (without its bearer token) and gets the file.
    let v = api
        .get(
            &qs("/admin/dashboard/export", &cx.range(&[("format", "csv")])),
            &t,
        )
        .await;
    api.item(
        "GET /admin/dashboard/export",
        &v,
        &[
            ("url", Str),
            ("filename", Str),
            ("format", Enum(&["csv", "xlsx", "pdf"])),
            ("expiresAt", Instant),
        ],
    );
    assert_eq!(v["data"]["format"], "csv");
    let url = text(&v["data"]["url"]);
    api.calls += 1;
    let res = api
        .http
        .get(&url)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    assert_eq!(res.status(), StatusCode::OK, "GET {url}");
    let header = |name| {
        res.headers()
            .get(name)
            .and_then(|h| h.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let (ct, cd) = (
        header(reqwest::header::CONTENT_TYPE),
        header(reqwest::header::CONTENT_DISPOSITION),
    );
    assert!(ct.starts_with("text/csv"), "{ct}");
    assert!(cd.contains(&text(&v["data"]["filename"])), "{cd}");
    let file = res.text().await.unwrap_or_default();
    assert!(file.lines().count() > 1, "an empty export: {file}");
}

/// Account statements after the result (HEAD-only screens): the vendedor's and the ventana's
/// day, the ventana's current balance, the admin's view.
async fn accounts<F: Fn(&str) -> String>(api: &mut Api<F>, cx: &Ctx) {
    let statement = |extra: &[(&str, &str)]| {
        let mut p = vec![
            ("date", "range"),
            ("fromDate", cx.from.as_str()),
            ("toDate", cx.to.as_str()),
        ];
        p.extend_from_slice(extra);
        qs("/accounts/statement", &p)
    };
    // Statements are rebuilt right after the evaluation commits (docs/results.md); wait for
    // the vendedor's row.
    let path = statement(&[("scope", "mine"), ("dimension", "vendedor")]);
    let until = std::time::Instant::now() + Duration::from_secs(30);
    let v = loop {
        let v = api.get(&path, &cx.vendedor.access).await;
        let ready = v["data"]["statements"]
            .as_array()
            .is_some_and(|a| a.iter().any(|s| dec(&s["ticketCount"]) >= Decimal::ONE));
        if ready {
            break v;
        }
        assert!(
            std::time::Instant::now() < until,
            "the vendedor's statement did not appear: {v}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let shape = |api: &mut Api<F>, call: &str, v: &Value| {
        api.shape_owned(call, v, &under("data.statements[]", STATEMENT_ROW));
        api.shape_owned(call, v, &under("data.totals", STATEMENT_TOTALS));
        api.shape_owned(call, v, &under("data.monthlyAccumulated", STATEMENT_TOTALS));
        api.shape(
            call,
            v,
            &[("data.meta.startDate", Day), ("data.meta.endDate", Day)],
        );
    };
    shape(api, "GET /accounts/statement (vendedor)", &v);
    let row = v["data"]["statements"]
        .as_array()
        .and_then(|a| {
            a.iter()
                .find(|s| s["vendedorId"] == cx.vendedor.user_id.as_str())
        })
        .unwrap_or_else(|| panic!("{v}"));
    assert!(dec(&row["totalSales"]) >= Decimal::from(1900), "{row}");
    assert!(
        dec(&row["totalPayouts"]) >= dec(&cx.ticket["totalPayout"]),
        "{row}"
    );

    let w = cx.ventana.access.clone();
    let v = api
        .get(
            &statement(&[("scope", "mine"), ("dimension", "ventana")]),
            &w,
        )
        .await;
    shape(api, "GET /accounts/statement (ventana)", &v);
    let v = api
        .get(
            &qs(
                "/accounts/balance/current",
                &[("scope", "mine"), ("dimension", "ventana")],
            ),
            &w,
        )
        .await;
    api.shape(
        "GET /accounts/balance/current",
        &v,
        &[
            ("data.balance", Num),
            ("data.remainingBalance", Num),
            ("data.ventanaId", Uuid),
        ],
    );
    let day = text(&cx.ticket["businessDate"])[..10].to_string();
    let v = api
        .get(
            &qs(
                &format!("/accounts/statement/{day}/bySorteo"),
                &[("scope", "mine"), ("dimension", "ventana")],
            ),
            &w,
        )
        .await;
    api.shape(
        "GET /accounts/statement/:date/bySorteo",
        &v,
        STATEMENT_BY_SORTEO,
    );
    assert!(
        v["data"]
            .as_array()
            .is_some_and(|a| a.iter().any(|e| e["sorteoId"] == cx.sorteo_id.as_str())),
        "{v}"
    );
    let v = api
        .get(
            &statement(&[
                ("scope", "all"),
                ("dimension", "ventana"),
                ("bancaId", &cx.banca_id),
            ]),
            &cx.admin.access,
        )
        .await;
    shape(api, "GET /accounts/statement (admin)", &v);
}

/// Cierres and commissions (HEAD-only screens).
async fn cierres_and_commissions<F: Fn(&str) -> String>(api: &mut Api<F>, cx: &Ctx) {
    let range = [("from", cx.from.as_str()), ("to", cx.to.as_str())];
    for token in [cx.admin.access.clone(), cx.ventana.access.clone()] {
        let v = api.get(&qs("/cierres/weekly", &range), &token).await;
        api.shape("GET /cierres/weekly", &v, CIERRE_WEEKLY);
        api.shape_owned(
            "GET /cierres/weekly",
            &v,
            &under("data.totals", CIERRE_METRICS),
        );
        assert!(
            v["data"]["loterias"].as_array().is_some_and(|a| a
                .iter()
                .any(|l| l["loteria"]["id"] == cx.loteria_id.as_str())),
            "{v}"
        );
        let v = api.get(&qs("/cierres/by-seller", &range), &token).await;
        api.shape("GET /cierres/by-seller", &v, CIERRE_BY_SELLER);
        api.shape_owned(
            "GET /cierres/by-seller",
            &v,
            &under("data.totals", CIERRE_METRICS),
        );
        assert!(
            v["data"]["vendedores"].as_array().is_some_and(|a| a
                .iter()
                .any(|s| s["vendedorId"] == cx.vendedor.user_id.as_str())),
            "{v}"
        );
    }
    let v = api
        .get(
            &qs(
                "/commissions",
                &cx.range(&[("scope", "mine"), ("dimension", "vendedor")]),
            ),
            &cx.ventana.access,
        )
        .await;
    api.shape("GET /commissions (ventana)", &v, COMMISSION_ROWS);
    let v = api
        .get(
            &qs(
                "/commissions",
                &cx.range(&[("scope", "all"), ("dimension", "ventana")]),
            ),
            &cx.admin.access,
        )
        .await;
    api.shape("GET /commissions (admin)", &v, COMMISSION_ROWS);
}

/// Change password (and back), refresh as the Nov-2025 app does, log out without a body; the
/// tokens are dead afterwards and the app's refresh-on-401 fails too.
async fn password_and_logout<F: Fn(&str) -> String>(
    api: &mut Api<F>,
    cx: &mut Ctx,
    creds: &ContractCreds,
) {
    let seller = cx.vendedor.access.clone();
    let old = creds.vendedor.password.as_str();
    let new = format!("{old}-contrato");
    for (current, next) in [(old, new.as_str()), (new.as_str(), old)] {
        let v = api
            .ok(
                Method::PUT,
                "/users/me/password",
                &seller,
                Some(&json!({"currentPassword": current, "newPassword": next})),
            )
            .await;
        assert!(v["data"].is_object(), "{v}");
    }

    for s in [&mut cx.vendedor, &mut cx.ventana, &mut cx.admin] {
        let body = json!({"refreshToken": s.refresh});
        let a = api
            .send(Method::POST, "/auth/refresh", None, Some(&body))
            .await;
        assert_eq!(a.status, StatusCode::OK, "refresh: {}", a.body);
        api.shape("POST /auth/refresh", &a.body, REFRESH);
        let fresh = text(&a.body["data"]["accessToken"]);
        let me = api.get("/auth/me", &fresh).await;
        assert_eq!(me["data"]["id"], s.user_id.as_str());
        // The app keeps its first refresh token (it discards the rotated one): sent again
        // within the 30 s grace window it still gets the session's current pair (decision 6).
        let a = api
            .send(Method::POST, "/auth/refresh", None, Some(&body))
            .await;
        assert_eq!(a.status, StatusCode::OK, "refresh again: {}", a.body);
        api.shape("POST /auth/refresh (grace)", &a.body, REFRESH);
        s.access = fresh;

        // Logout as the app sends it: no body, the bearer token names the session.
        let v = api.ok(Method::POST, "/auth/logout", &s.access, None).await;
        assert!(v["data"].is_object(), "{v}");
        for token in [s.access.clone(), s.login_access.clone()] {
            api.refused(
                Method::GET,
                "/auth/me",
                Some(&token),
                None,
                401,
                "SESSION_REVOKED",
            )
            .await;
        }
        // The app's answer to a 401 is one refresh: it fails, and the app logs out.
        let a = api
            .send(Method::POST, "/auth/refresh", None, Some(&body))
            .await;
        assert_eq!(
            a.status,
            StatusCode::UNAUTHORIZED,
            "refresh after logout: {}",
            a.body
        );
        api.shape("POST /auth/refresh (after logout)", &a.body, ERROR);
    }
}

// ---------------------------------------------------------------------------------------------
// The walk on a fresh fixture world.

fn fixture_creds(w: &fixtures::World, admin: &str) -> ContractCreds {
    ContractCreds {
        admin: Cred::new(admin, PASSWORD),
        ventana: Cred::new(&w.a.ventana_users[0].username, PASSWORD),
        vendedor: Cred::new(&w.a.vendedores[0].username, PASSWORD),
        banca_id: Some(w.a.banca_id),
        loteria_id: None,
    }
}

#[tokio::test]
async fn the_app_walks_its_flows_as_admin() {
    let w = fixtures::world().await;
    let creds = fixture_creds(&w, &w.admin.username);
    let report = walk(|p| w.app.url(p), &creds).await;
    eprintln!("client contract walk: {report:?}");
    assert!(report.calls > 100, "{report:?}");
    assert!(report.rows_checked > 1000, "{report:?}");
    // The walk's tickets are in the database as the API answered them.
    let (status, paid): (String, Decimal) = sqlx::query_as(
        "SELECT status::text, total_paid FROM tickets
         WHERE ticket_number = $1 AND id = $2::uuid AND sorteo_id = $3::uuid",
    )
    .bind(&report.ticket_number)
    .bind(&report.ticket_id)
    .bind(&report.sorteo_id)
    .fetch_one(&mut w.db.connect().await)
    .await
    .unwrap();
    assert_eq!(status, "PAID");
    assert!(paid > Decimal::ZERO);
}

#[tokio::test]
async fn the_app_walks_its_flows_as_banca() {
    let w = fixtures::world().await;
    let creds = fixture_creds(&w, &w.a.banca_user.username);
    let report = walk(|p| w.app.url(p), &creds).await;
    assert!(report.calls > 100, "{report:?}");
    // Nothing of the walk leaked into the other banca.
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM tickets WHERE banca_id = $1")
        .bind(w.b.banca_id)
        .fetch_one(&mut w.db.connect().await)
        .await
        .unwrap();
    assert_eq!(n, 0);
}

#[tokio::test]
async fn a_second_walk_on_the_same_data_passes_too() {
    // The walk must not depend on a clean database (the import test runs it on imported
    // data): a second walk on the same world, on the lotería the first one made.
    let w = fixtures::world().await;
    let creds = fixture_creds(&w, &w.admin.username);
    let first = walk(|p| w.app.url(p), &creds).await;
    let again = ContractCreds {
        loteria_id: Some(first.loteria_id.parse().unwrap()),
        ..creds
    };
    let second = walk(|p| w.app.url(p), &again).await;
    assert_ne!(first.ticket_number, second.ticket_number);
    assert_eq!(first.loteria_id, second.loteria_id);
}

/// Issue 12: the app's walk against a server started on a database imported from the legacy
/// fixture (`banca import`), with the legacy users' old passwords — as ADMIN, then as the
/// imported BANCA user on its own lotería. Runs after the import's verification passed
/// (`imported_world` asserts it): the walk writes.
#[tokio::test]
async fn the_app_walks_its_flows_on_an_imported_database() {
    let iw = crate::import::imported_world().await;
    let app = crate::common::spawn_app(&iw.db, &[]).await;
    let pw = crate::import::LEGACY_PASSWORD;
    let creds = ContractCreds {
        admin: Cred::new("admin", pw),
        ventana: Cred::new("listero.centro", pw),
        vendedor: Cred::new("vende.ana", pw),
        banca_id: Some(iw.banca_id),
        loteria_id: Some(iw.loteria_id),
    };
    let report = walk(|p| app.url(p), &creds).await;
    assert!(report.calls > 100, "{report:?}");
    assert_eq!(report.loteria_id, iw.loteria_id.to_string());
    let again = ContractCreds {
        admin: Cred::new("banca.central", pw),
        ..creds
    };
    let second = walk(|p| app.url(p), &again).await;
    assert_ne!(report.ticket_number, second.ticket_number);
    // The imported users' hashes were upgraded on their first login.
    let bcrypt_left: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM users
         WHERE username IN ('admin', 'banca.central', 'listero.centro', 'vende.ana')
           AND password_hash NOT LIKE '$argon2id$%'",
    )
    .fetch_one(&mut iw.db.connect().await)
    .await
    .unwrap();
    assert_eq!(bcrypt_left, 0);
}
