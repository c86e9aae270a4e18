//! Ticket reads: the list, the detail ([`load_view`], shared with the sale path's answers),
//! the look-up by number, the filter options, the numbers summary and the per-number balances.
//!
//! Who sees which ticket (decisions 4 and 16), one rule everywhere ([`can_see`] for one ticket,
//! [`reach`] for lists): a VENDEDOR its own tickets; a VENTANA the tickets of its ventana; a
//! BANCA user the tickets of its active banca; an ADMIN those of the active banca when one is
//! selected, else every ticket. A single ticket out of reach is reported as not found.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::db;
use crate::db::tickets::{OptionRow, TicketFilter, MKEY_ALL, MKEY_REVENTADO, SOLD_STATUSES};
use crate::domain::authz::Actor;
use crate::domain::roles::Role;
use crate::domain::rules::{resolve_limits, LimitContext, LocalNow, SalesScope};
use crate::domain::rules_json;
use crate::domain::schedule::local_iso;
use crate::http::error::ErrorDetail;
use crate::services::ticket_view::{
    JugadaView, ListJugada, ListLoteria, ListSorteo, ListVendedor, ListVentana, LoteriaBrief,
    MultiplierBrief, PrintConfig, SorteoBrief, TicketListItem, TicketView, VendedorBrief,
    VentanaBrief,
};

/// Why a ticket read is refused.
#[derive(Debug, thiserror::Error)]
pub enum TicketReadError {
    /// The message says what was not found.
    #[error("not found: {0}")]
    NotFound(&'static str),
    /// Out of the caller's reach (the reason is logged, not sent).
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    #[error("invalid input")]
    Invalid(Vec<ErrorDetail>),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

const TICKET_NOT_FOUND: &str = "Ticket no encontrado";
const SORTEO_NOT_FOUND: &str = "Sorteo no encontrado";
const VENDEDOR_NOT_FOUND: &str = "Vendedor no encontrado";

fn invalid(field: &str, code: &str, issue: &str) -> TicketReadError {
    TicketReadError::Invalid(vec![ErrorDetail {
        field: field.into(),
        code: code.into(),
        issue: issue.into(),
    }])
}

// ---------------------------------------------------------------------------------------------
// Who sees what.

/// Whose a ticket is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TicketScope {
    pub banca_id: Uuid,
    pub ventana_id: Uuid,
    pub vendedor_id: Uuid,
}

impl From<db::tickets::OwnerRow> for TicketScope {
    fn from(r: db::tickets::OwnerRow) -> Self {
        TicketScope {
            banca_id: r.banca_id,
            ventana_id: r.ventana_id,
            vendedor_id: r.vendedor_id,
        }
    }
}

/// May `actor` see (and act on) a ticket of `t`? VENDEDOR: its own; VENTANA: its ventana's;
/// BANCA: its active banca's; ADMIN: the active banca's when one is selected, else any.
pub fn can_see(actor: &Actor, t: &TicketScope) -> bool {
    match actor.role {
        Role::Admin => actor.banca_id.is_none_or(|b| b == t.banca_id),
        Role::Banca => actor.banca_id == Some(t.banca_id),
        Role::Ventana => actor.ventana_id == Some(t.ventana_id),
        Role::Vendedor => actor.user_id == t.vendedor_id,
    }
}

/// The tickets a list may show: bancas (`None`: all), and the ventana and vendedor it is
/// narrowed to (by role or by a filter the caller may use).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reach {
    pub banca_ids: Option<Vec<Uuid>>,
    pub ventana_id: Option<Uuid>,
    pub vendedor_id: Option<Uuid>,
}

/// Applies the role scope to the `ventanaId`/`vendedorId` filters of a list. A VENDEDOR is
/// always narrowed to itself (other values are ignored, as the existing system does). A
/// VENTANA is narrowed to its ventana; another `ventanaId`, or a `vendedorId` outside it, is
/// refused. BANCA (and ADMIN with an active banca) may filter by ventanas and vendedores of
/// that banca only. `banca` is an explicit `bancaId` filter (numbers summary).
pub async fn reach(
    conn: &mut PgConnection,
    actor: &Actor,
    banca: Option<Uuid>,
    ventana_id: Option<Uuid>,
    vendedor_id: Option<Uuid>,
) -> Result<Reach, TicketReadError> {
    let bancas: Option<Vec<Uuid>> = match actor.role {
        Role::Vendedor => {
            return Ok(Reach {
                banca_ids: None,
                ventana_id: None,
                vendedor_id: Some(actor.user_id),
            })
        }
        Role::Ventana => {
            let own = actor
                .ventana_id
                .ok_or(TicketReadError::Forbidden("VENTANA sin ventana"))?;
            if ventana_id.is_some_and(|v| v != own) {
                return Err(TicketReadError::Forbidden("otra ventana"));
            }
            if banca.is_some_and(|b| Some(b) != actor.home_banca_id) {
                return Err(TicketReadError::Forbidden("otra banca"));
            }
            if let Some(v) = vendedor_id {
                let place = db::tickets::user_place(conn, v).await?;
                if place.and_then(|p| p.ventana_id) != Some(own) {
                    return Err(TicketReadError::Forbidden("vendedor de otra ventana"));
                }
            }
            return Ok(Reach {
                banca_ids: None,
                ventana_id: Some(own),
                vendedor_id,
            });
        }
        Role::Banca => {
            let b = actor
                .banca_id
                .ok_or(TicketReadError::Forbidden("BANCA sin banca activa"))?;
            if banca.is_some_and(|x| x != b) {
                return Err(TicketReadError::Forbidden("otra banca"));
            }
            Some(vec![b])
        }
        Role::Admin => match (actor.banca_id, banca) {
            (Some(active), Some(b)) if active != b => {
                return Err(TicketReadError::Forbidden("otra banca"))
            }
            (Some(active), _) => Some(vec![active]),
            (None, b) => b.map(|b| vec![b]),
        },
    };
    if let Some(allowed) = &bancas {
        if let Some(v) = ventana_id {
            let b = db::tickets::ventana_banca(conn, v).await?;
            if !b.is_some_and(|b| allowed.contains(&b)) {
                return Err(TicketReadError::Forbidden("ventana de otra banca"));
            }
        }
        if let Some(u) = vendedor_id {
            let place = db::tickets::user_place(conn, u).await?;
            if !place
                .and_then(|p| p.banca_id)
                .is_some_and(|b| allowed.contains(&b))
            {
                return Err(TicketReadError::Forbidden("vendedor de otra banca"));
            }
        }
    }
    Ok(Reach {
        banca_ids: bancas,
        ventana_id,
        vendedor_id,
    })
}

pub use crate::services::ticket_view::sorteo_display_name;

// ---------------------------------------------------------------------------------------------
// List.

/// The filters of `GET /tickets` (and of the filter options), validated.
#[derive(Debug, Clone, Default)]
pub struct TicketQuery {
    pub status: Option<String>,
    pub is_active: Option<bool>,
    pub sorteo_id: Option<Uuid>,
    pub loteria_id: Option<Uuid>,
    pub multiplier_id: Option<Uuid>,
    pub ventana_id: Option<Uuid>,
    pub vendedor_id: Option<Uuid>,
    pub search: Option<String>,
    pub winners_only: bool,
    pub number: Option<String>,
    pub winning_number: Option<String>,
    /// `HH:MM`.
    pub scheduled_time: Option<String>,
    /// Inclusive business dates; both `None`: no date filter.
    pub from_date: Option<NaiveDate>,
    pub to_date: Option<NaiveDate>,
}

impl TicketQuery {
    fn filter(&self, reach: Reach, tz: Tz) -> TicketFilter {
        TicketFilter {
            banca_ids: reach.banca_ids,
            ventana_id: reach.ventana_id,
            vendedor_id: reach.vendedor_id,
            statuses: self.status.clone().map(|s| vec![s]),
            is_active: self.is_active,
            live_only: false,
            sorteo_id: self.sorteo_id,
            loteria_id: self.loteria_id,
            multiplier_id: self.multiplier_id,
            search: self.search.clone(),
            winners_only: self.winners_only,
            number: self.number.clone(),
            winning_number: self.winning_number.clone(),
            scheduled_time: self.scheduled_time.clone(),
            tz_name: tz.name().to_string(),
            sorteo_status: None,
            from_date: self.from_date,
            to_date: self.to_date,
        }
    }
}

/// One page of the tickets the caller may see, newest first, and how many there are.
/// Three statements: the count, the page, and the page's jugadas.
pub async fn list(
    pool: &PgPool,
    actor: &Actor,
    q: &TicketQuery,
    limit: i64,
    offset: i64,
    tz: Tz,
) -> Result<(Vec<TicketListItem>, i64), TicketReadError> {
    let mut conn = pool.acquire().await?;
    let reach = reach(&mut conn, actor, None, q.ventana_id, q.vendedor_id).await?;
    let filter = q.filter(reach, tz);
    let total = db::tickets::count(&mut conn, &filter).await?;
    if total == 0 || offset >= total {
        return Ok((Vec::new(), total));
    }
    let rows = db::tickets::page(&mut conn, &filter, limit, offset).await?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let mut jugadas: HashMap<Uuid, Vec<ListJugada>> = HashMap::new();
    for j in db::tickets::list_jugadas(&mut conn, &ids).await? {
        jugadas.entry(j.ticket_id).or_default().push(ListJugada {
            id: j.id,
            kind: j.kind,
            number: j.number,
            reventado_number: j.reventado_number,
            amount: j.amount,
            final_multiplier_x: j.final_multiplier_x,
            multiplier_id: j.multiplier_id,
            is_winner: j.is_winner,
            payout: j.payout,
            win_amount: j.payout,
        });
    }
    let items = rows
        .into_iter()
        .map(|r| TicketListItem {
            jugadas: jugadas.remove(&r.id).unwrap_or_default(),
            loteria: ListLoteria {
                id: r.loteria_id,
                name: r.loteria_name,
            },
            sorteo: ListSorteo {
                id: r.sorteo_id,
                name: sorteo_display_name(&r.sorteo_name, r.sorteo_scheduled_at, tz),
                scheduled_at: local_iso(r.sorteo_scheduled_at, tz),
                status: r.sorteo_status,
            },
            ventana: ListVentana {
                id: r.ventana_id,
                name: r.ventana_name,
                code: r.ventana_code,
            },
            vendedor: ListVendedor {
                id: r.vendedor_id,
                name: r.vendedor_name,
                code: r.vendedor_code,
            },
            id: r.id,
            ticket_number: r.ticket_number,
            business_date: r.business_date,
            banca_id: r.banca_id,
            loteria_id: r.loteria_id,
            sorteo_id: r.sorteo_id,
            ventana_id: r.ventana_id,
            vendedor_id: r.vendedor_id,
            total_amount: r.total_amount,
            total_commission: r.total_commission,
            total_listero_commission: r.total_listero_commission,
            status: r.status,
            is_active: r.is_active,
            is_winner: r.is_winner,
            total_payout: r.total_payout,
            total_paid: r.total_paid,
            remaining_amount: r.remaining_amount,
            last_payment_at: r.last_payment_at,
            payment_method: r.payment_method,
            cliente_nombre: r.cliente_nombre,
            created_by: r.created_by,
            created_by_role: r.created_by_role,
            print_count: r.print_count,
            deleted_at: r.deleted_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
        .collect();
    Ok((items, total))
}

// ---------------------------------------------------------------------------------------------
// Detail.

/// The ticket `id` as the API shows it (detail, and the answers of cancel, restore and print),
/// with its non-deleted jugadas by position. No access check: callers check [`can_see`]
/// first. `enableTicketReprints` is false (callers set it from
/// `ENABLE_TICKET_REPRINTS`) and `warnings` is empty.
pub async fn load_view(
    conn: &mut PgConnection,
    id: Uuid,
    tz: Tz,
) -> Result<Option<TicketView>, sqlx::Error> {
    let Some(t) = db::tickets::find_detail(&mut *conn, id).await? else {
        return Ok(None);
    };
    let jugadas = db::tickets::detail_jugadas(conn, id).await?;
    let loteria = LoteriaBrief {
        id: t.loteria_id,
        name: t.loteria_name.clone(),
        rules_json: t.loteria_rules.clone(),
    };
    let vendedor = VendedorBrief {
        print: PrintConfig::derive(
            &t.vendedor_name,
            t.vendedor_phone.as_deref(),
            t.vendedor_settings.as_ref(),
        ),
        id: t.vendedor_id,
        name: t.vendedor_name,
        code: t.vendedor_code,
        phone: t.vendedor_phone,
        username: t.vendedor_username,
        settings: t.vendedor_settings,
    };
    let ventana = VentanaBrief {
        print: PrintConfig::derive(
            &t.ventana_name,
            t.ventana_phone.as_deref(),
            t.ventana_settings.as_ref(),
        ),
        id: t.ventana_id,
        name: t.ventana_name,
        code: t.ventana_code,
        phone: t.ventana_phone,
        banca_id: t.ventana_banca_id,
        settings: t.ventana_settings,
    };
    let sorteo = SorteoBrief {
        id: t.sorteo_id,
        name: sorteo_display_name(&t.sorteo_name, t.sorteo_scheduled_at, tz),
        scheduled_at: local_iso(t.sorteo_scheduled_at, tz),
        status: t.sorteo_status,
        loteria_id: t.sorteo_loteria_id,
        banca_id: t.sorteo_banca_id,
        digits: t.sorteo_digits,
        winning_number: t.sorteo_winning_number,
        loteria: loteria.clone(),
    };
    let jugadas = jugadas
        .into_iter()
        .map(|j| JugadaView {
            multiplier: match (j.multiplier_id, j.multiplier_name) {
                (Some(id), Some(name)) => Some(MultiplierBrief {
                    id,
                    name,
                    value_x: j.multiplier_value_x.unwrap_or_default(),
                }),
                _ => None,
            },
            id: j.id,
            ticket_id: j.ticket_id,
            kind: j.kind,
            number: j.number,
            reventado_number: j.reventado_number,
            amount: j.amount,
            final_multiplier_x: j.final_multiplier_x,
            multiplier_id: j.multiplier_id,
            commission_percent: j.commission_percent,
            commission_amount: j.commission_amount,
            commission_origin: j.commission_origin,
            commission_rule_id: j.commission_rule_id,
            listero_commission_amount: j.listero_commission_amount,
            is_active: j.is_active,
            is_winner: j.is_winner,
            payout: j.payout,
            win_amount: j.payout,
            is_excluded: j.is_excluded,
            created_at: j.created_at,
            updated_at: j.updated_at,
            deleted_at: j.deleted_at,
        })
        .collect();
    Ok(Some(TicketView {
        id: t.id,
        ticket_number: t.ticket_number,
        business_date: t.business_date,
        banca_id: t.banca_id,
        loteria_id: t.loteria_id,
        sorteo_id: t.sorteo_id,
        ventana_id: t.ventana_id,
        vendedor_id: t.vendedor_id,
        total_amount: t.total_amount,
        total_commission: t.total_commission,
        total_listero_commission: t.total_listero_commission,
        status: t.status,
        is_active: t.is_active,
        is_winner: t.is_winner,
        total_payout: t.total_payout,
        total_paid: t.total_paid,
        remaining_amount: t.remaining_amount,
        last_payment_at: t.last_payment_at,
        payment_method: t.payment_method,
        payment_notes: t.payment_notes,
        payment_history: t.payment_history,
        cliente_nombre: t.cliente_nombre,
        created_by: t.created_by,
        created_by_role: t.created_by_role,
        is_sorteo_closed: t.is_sorteo_closed,
        idempotency_key: t.idempotency_key,
        print_count: t.print_count,
        cancelled_at: t.cancelled_at,
        deleted_at: t.deleted_at,
        created_at: t.created_at,
        updated_at: t.updated_at,
        enable_ticket_reprints: false,
        loteria,
        sorteo,
        vendedor,
        ventana,
        jugadas,
        warnings: Vec::new(),
    }))
}

/// The ticket `id` if the caller may see it; otherwise not found.
pub async fn get(
    pool: &PgPool,
    actor: &Actor,
    id: Uuid,
    tz: Tz,
) -> Result<TicketView, TicketReadError> {
    let mut conn = pool.acquire().await?;
    let owner = db::tickets::owner(&mut conn, id)
        .await?
        .ok_or(TicketReadError::NotFound(TICKET_NOT_FOUND))?;
    if !can_see(actor, &owner.into()) {
        return Err(TicketReadError::NotFound(TICKET_NOT_FOUND));
    }
    load_view(&mut conn, id, tz)
        .await?
        .ok_or(TicketReadError::NotFound(TICKET_NOT_FOUND))
}

// ---------------------------------------------------------------------------------------------
// By number.

/// A jugada of `GET /tickets/by-number/:n`, ready to be sold again. A NUMERO that has a
/// REVENTADO on the same number comes folded into one REVENTADO entry (`amount` is the
/// NUMERO's, `amountReventado` the REVENTADO's, `multiplierId` the NUMERO's); a REVENTADO
/// without its NUMERO carries its own amount in both.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CopyJugada {
    #[serde(rename = "type")]
    pub kind: String,
    pub number: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reventado_number: Option<String>,
    pub amount: Decimal,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount_reventado: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub multiplier_id: Option<Uuid>,
}

/// `GET /tickets/by-number/:n`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TicketCopy {
    pub ticket_number: String,
    pub sorteo_id: Uuid,
    pub loteria_id: Uuid,
    pub cliente_nombre: String,
    pub created_at: DateTime<Utc>,
    pub jugadas: Vec<CopyJugada>,
}

/// Folds each NUMERO with the REVENTADO on the same number (see [`CopyJugada`]), keeping the
/// ticket's order (a folded pair sits where its NUMERO was).
pub fn fold_jugadas(rows: Vec<db::tickets::CopyJugadaRow>) -> Vec<CopyJugada> {
    let is_rev = |k: &str| k == "REVENTADO";
    let rev_entry = |r: &db::tickets::CopyJugadaRow, amount: Decimal, m: Option<Uuid>| CopyJugada {
        kind: "REVENTADO".into(),
        number: r.number.clone(),
        reventado_number: Some(
            r.reventado_number
                .clone()
                .unwrap_or_else(|| r.number.clone()),
        ),
        amount,
        amount_reventado: Some(r.amount),
        multiplier_id: m,
    };
    // The first REVENTADO of each number (by position), and whether a NUMERO took it.
    let mut first_rev: HashMap<&str, usize> = HashMap::new();
    for (i, r) in rows.iter().enumerate() {
        if is_rev(&r.kind) {
            first_rev.entry(r.number.as_str()).or_insert(i);
        }
    }
    let mut taken = vec![false; rows.len()];
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        if is_rev(&r.kind) {
            continue;
        }
        match first_rev.get(r.number.as_str()).copied() {
            Some(i) if !taken[i] => {
                taken[i] = true;
                out.push(rev_entry(&rows[i], r.amount, r.multiplier_id));
            }
            _ => out.push(CopyJugada {
                kind: r.kind.clone(),
                number: r.number.clone(),
                reventado_number: None,
                amount: r.amount,
                amount_reventado: None,
                multiplier_id: r.multiplier_id,
            }),
        }
    }
    // Lone REVENTADOs keep their own place among the NUMERO entries.
    let mut result = Vec::with_capacity(rows.len());
    let mut numeros = out.into_iter();
    for (i, r) in rows.iter().enumerate() {
        if !is_rev(&r.kind) {
            result.extend(numeros.next());
        } else if !taken[i] {
            result.push(rev_entry(r, r.amount, r.multiplier_id));
        }
    }
    result
}

/// Why a look-up by number found nothing.
#[derive(Debug, thiserror::Error)]
pub enum ByNumberError {
    /// Not a ticket number, or its check digits do not match.
    #[error("invalid ticket number")]
    InvalidNumber,
    #[error(transparent)]
    Read(#[from] TicketReadError),
}

/// The live ticket numbered `raw` (trimmed, upper-cased), if the caller may see it.
pub async fn by_number(
    pool: &PgPool,
    actor: &Actor,
    raw: &str,
) -> Result<TicketCopy, ByNumberError> {
    use crate::domain::ticket_number::parse;
    let number = raw.trim().to_uppercase();
    let banca_shaped = parse(&number).is_ok();
    let mut conn = pool.acquire().await.map_err(TicketReadError::from)?;
    let found = db::tickets::find_by_number(&mut conn, &number)
        .await
        .map_err(TicketReadError::from)?;
    // Numbers imported from the existing system (docs/migrating.md) have no check digits:
    // they are found exactly as printed, and only they are (a mistyped Banca number stays
    // invalid).
    let t = match found {
        Some(t) if banca_shaped || parse(&t.ticket_number).is_err() => t,
        _ if !banca_shaped => return Err(ByNumberError::InvalidNumber),
        _ => return Err(TicketReadError::NotFound(TICKET_NOT_FOUND).into()),
    };
    let scope = TicketScope {
        banca_id: t.banca_id,
        ventana_id: t.ventana_id,
        vendedor_id: t.vendedor_id,
    };
    if !can_see(actor, &scope) {
        return Err(TicketReadError::NotFound(TICKET_NOT_FOUND).into());
    }
    let rows = db::tickets::copy_jugadas(&mut conn, t.id)
        .await
        .map_err(TicketReadError::from)?;
    Ok(TicketCopy {
        ticket_number: t.ticket_number,
        sorteo_id: t.sorteo_id,
        loteria_id: t.loteria_id,
        cliente_nombre: t.cliente_nombre,
        created_at: t.created_at,
        jugadas: fold_jugadas(rows),
    })
}

// ---------------------------------------------------------------------------------------------
// Filter options.

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoteriaOption {
    pub id: Uuid,
    pub name: String,
    pub ticket_count: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SorteoOption {
    pub id: Uuid,
    /// With its 12-hour time ("TICA 1:55 PM").
    pub name: String,
    pub loteria_id: Option<Uuid>,
    pub loteria_name: String,
    pub scheduled_at: String,
    pub ticket_count: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MultiplierOption {
    pub id: Uuid,
    pub name: String,
    pub value_x: Decimal,
    pub loteria_id: Option<Uuid>,
    pub loteria_name: String,
    pub ticket_count: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VendedorOption {
    pub id: Uuid,
    pub name: String,
    pub code: Option<String>,
    pub ventana_id: Option<Uuid>,
    pub ventana_name: Option<String>,
    pub ticket_count: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VentanaOption {
    pub id: Uuid,
    pub name: String,
    pub code: Option<String>,
    pub ticket_count: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OptionsMeta {
    pub total_tickets: i64,
}

/// `GET /tickets/filter-options` and `/tickets/numbers-summary/filter-options`: what the
/// caller's tickets (live, active, not cancelled) contain, with ticket counts. `vendedores`
/// for every role but VENDEDOR (empty for it); `ventanas` for ADMIN and BANCA only (empty
/// otherwise).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FilterOptions {
    /// By name.
    pub loterias: Vec<LoteriaOption>,
    /// Latest draw first.
    pub sorteos: Vec<SorteoOption>,
    /// By factor.
    pub multipliers: Vec<MultiplierOption>,
    /// By name.
    pub vendedores: Vec<VendedorOption>,
    /// By name.
    pub ventanas: Vec<VentanaOption>,
    pub meta: OptionsMeta,
}

/// The filter options of the tickets `q` selects among those the caller may see. Only live,
/// active, not-cancelled tickets count; `sorteo_status` narrows by the sorteo's status.
pub async fn filter_options(
    pool: &PgPool,
    actor: &Actor,
    q: &TicketQuery,
    sorteo_status: Option<String>,
    tz: Tz,
) -> Result<FilterOptions, TicketReadError> {
    let mut conn = pool.acquire().await?;
    let reach = reach(&mut conn, actor, None, q.ventana_id, q.vendedor_id).await?;
    let mut filter = q.filter(reach, tz);
    filter.live_only = true;
    filter.is_active = Some(true);
    if filter.statuses.is_none() {
        filter.statuses = Some(
            db::tickets::ALL_STATUSES
                .iter()
                .filter(|s| **s != "CANCELLED")
                .map(|s| s.to_string())
                .collect(),
        );
    }
    filter.sorteo_status = sorteo_status;
    let with_vendedores = actor.role != Role::Vendedor;
    let with_ventanas = actor.is(&[Role::Admin, Role::Banca]);
    let rows =
        db::tickets::filter_options(&mut conn, &filter, with_vendedores, with_ventanas).await?;
    Ok(options_from_rows(rows, tz))
}

fn options_from_rows(rows: Vec<OptionRow>, tz: Tz) -> FilterOptions {
    let mut o = FilterOptions {
        loterias: Vec::new(),
        sorteos: Vec::new(),
        multipliers: Vec::new(),
        vendedores: Vec::new(),
        ventanas: Vec::new(),
        meta: OptionsMeta { total_tickets: 0 },
    };
    let mut sorteo_at: HashMap<Uuid, DateTime<Utc>> = HashMap::new();
    for r in rows {
        match r.kind.as_str() {
            "total" => o.meta.total_tickets = r.cnt,
            "loteria" => o.loterias.push(LoteriaOption {
                id: r.id,
                name: r.name,
                ticket_count: r.cnt,
            }),
            "sorteo" => {
                let at = r.at.unwrap_or_default();
                sorteo_at.insert(r.id, at);
                o.sorteos.push(SorteoOption {
                    id: r.id,
                    name: sorteo_display_name(&r.name, at, tz),
                    loteria_id: r.parent_id,
                    loteria_name: r.parent_name.unwrap_or_default(),
                    scheduled_at: local_iso(at, tz),
                    ticket_count: r.cnt,
                })
            }
            "multiplier" => o.multipliers.push(MultiplierOption {
                id: r.id,
                name: r.name,
                value_x: r.value_x.unwrap_or_default(),
                loteria_id: r.parent_id,
                loteria_name: r.parent_name.unwrap_or_default(),
                ticket_count: r.cnt,
            }),
            "vendedor" => o.vendedores.push(VendedorOption {
                id: r.id,
                name: r.name,
                code: r.code,
                ventana_id: r.parent_id,
                ventana_name: r.parent_name,
                ticket_count: r.cnt,
            }),
            "ventana" => o.ventanas.push(VentanaOption {
                id: r.id,
                name: r.name,
                code: r.code,
                ticket_count: r.cnt,
            }),
            _ => {}
        }
    }
    o.loterias
        .sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
    o.sorteos.sort_by(|a, b| {
        sorteo_at
            .get(&b.id)
            .cmp(&sorteo_at.get(&a.id))
            .then(a.id.cmp(&b.id))
    });
    o.multipliers
        .sort_by(|a, b| a.value_x.cmp(&b.value_x).then(a.name.cmp(&b.name)));
    o.vendedores
        .sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
    o.ventanas
        .sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
    o
}

// ---------------------------------------------------------------------------------------------
// Numbers summary.

/// The filters of the numbers summary, validated.
#[derive(Debug, Clone, Default)]
pub struct SummaryQuery {
    /// `mine` (default), `all` (ADMIN and BANCA only) or `ventana`.
    pub scope: Option<String>,
    pub banca_id: Option<Uuid>,
    pub ventana_id: Option<Uuid>,
    pub vendedor_id: Option<Uuid>,
    pub loteria_id: Option<Uuid>,
    pub sorteo_id: Option<Uuid>,
    pub multiplier_id: Option<Uuid>,
    pub status: Option<String>,
    pub sorteo_status: Option<String>,
    pub scheduled_time: Option<String>,
    /// Inclusive business dates (already skipped for a sorteo without explicit dates).
    pub from_date: Option<NaiveDate>,
    pub to_date: Option<NaiveDate>,
    /// The date token as sent (`today` when absent), echoed in `meta.dateFilter`.
    pub date_token: String,
    /// `page` 0..=9: the block `[page·pageSize, (page+1)·pageSize)`; `None`: every number.
    pub page: Option<u32>,
    pub page_size: u32,
    /// Only excluded jugadas (of any ticket status unless `status` is given).
    pub is_excluded: bool,
}

/// One number of the grid: NUMERO and REVENTADO amounts sold and their sum.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NumberTotals {
    /// Canonical (`"05"`, `"105"`).
    pub number: String,
    /// NUMERO jugadas (only those of `multiplierId` when it is given).
    pub amount_by_number: Decimal,
    /// REVENTADO jugadas on the number.
    pub amount_by_reventado: Decimal,
    pub total_amount: Decimal,
}

/// The block of numbers returned when `page` is given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SummaryPagination {
    pub page: u32,
    pub page_size: u32,
    pub start_number: u32,
    pub end_number: u32,
    pub total_pages: u32,
    pub returned_count: usize,
}

/// Everything about a numbers summary besides the grid.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SummaryMeta {
    /// Where the totals come from: `counters` (the running totals of one sorteo) or
    /// `jugadas` (an aggregation of the matching jugadas).
    pub totals_from: &'static str,
    pub date_filter: String,
    pub from_date: Option<NaiveDate>,
    pub to_date: Option<NaiveDate>,
    pub sorteo_id: Option<Uuid>,
    /// With its 12-hour time.
    pub sorteo_name: Option<String>,
    /// Business-local time with offset.
    pub sorteo_date: Option<String>,
    pub sorteo_status: Option<String>,
    pub winning_number: Option<String>,
    pub loteria_id: Option<Uuid>,
    pub loteria_name: Option<String>,
    pub multiplier_id: Option<Uuid>,
    pub ventana_id: Option<Uuid>,
    pub vendedor_id: Option<Uuid>,
    pub sorteo_digits: u8,
    pub max_number: u32,
    pub total_numbers: u32,
    pub reventado_enabled: bool,
    pub is_excluded: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pagination: Option<SummaryPagination>,
    /// Over every number, not only the returned block.
    pub total_amount_by_number: Decimal,
    pub total_amount_by_reventado: Decimal,
    pub total_amount: Decimal,
    /// Numbers with any sale, ascending.
    pub numbers_with_bets: Vec<String>,
}

/// A numbers summary: the grid (every number of the block, in order) and its meta. The HTTP
/// answer is `{success, data: numbers, meta}`; the PDF export renders the same struct.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NumbersSummary {
    pub numbers: Vec<NumberTotals>,
    pub meta: SummaryMeta,
}

/// Sales per number under the caller's scope: NUMERO and REVENTADO amounts of live tickets
/// in ACTIVE/EVALUATED/PAID/PAGADO (or `status`) and their active, non-excluded jugadas
/// (with `isExcluded`, only excluded jugadas).
///
/// One sorteo and no filter the counters cannot answer (status, sorteo status, explicit dates,
/// scheduled time, excluded jugadas) reads the running totals in `sale_counters` for the most
/// specific scope asked for (vendedor, else ventana, else the bancas): NUMERO = all − REVENTADO,
/// or the multiplier's own key with `multiplierId`. Anything else aggregates the jugadas.
/// Both give the same numbers for the same question.
pub async fn numbers_summary_data(
    pool: &PgPool,
    actor: &Actor,
    q: &SummaryQuery,
    tz: Tz,
) -> Result<NumbersSummary, TicketReadError> {
    if q.scope.as_deref() == Some("all") && !actor.is(&[Role::Admin, Role::Banca]) {
        return Err(TicketReadError::Forbidden(
            "scope=all solo para ADMIN y BANCA",
        ));
    }
    let mut conn = pool.acquire().await?;
    let reach = reach(&mut conn, actor, q.banca_id, q.ventana_id, q.vendedor_id).await?;

    let sorteo = match q.sorteo_id {
        Some(id) => Some(
            db::tickets::sorteo_info(&mut conn, id)
                .await?
                .filter(|s| summary_sorteo_visible(actor, &reach, s.banca_id))
                .ok_or(TicketReadError::NotFound(SORTEO_NOT_FOUND))?,
        ),
        None => None,
    };
    let loteria = match (q.loteria_id, &sorteo) {
        (Some(id), None) => db::tickets::loteria_info(&mut conn, id).await?,
        _ => None,
    };
    let rules = sorteo
        .as_ref()
        .map(|s| s.loteria_rules.clone())
        .or_else(|| loteria.as_ref().map(|l| l.rules_json.clone()));

    let use_counters = q.sorteo_id.is_some()
        && q.status.is_none()
        && q.sorteo_status.is_none()
        && q.scheduled_time.is_none()
        && q.from_date.is_none()
        && q.to_date.is_none()
        && !q.is_excluded;

    let mut sums: Vec<db::tickets::NumberSums> = Vec::new();
    let loteria_mismatch =
        matches!((&sorteo, q.loteria_id), (Some(s), Some(l)) if s.loteria_id != l);
    if loteria_mismatch {
        // Nothing of that sorteo belongs to another lotería.
    } else if use_counters {
        let sorteo_id = q.sorteo_id.unwrap_or_default();
        let (kind, ids): (&str, Option<Vec<Uuid>>) = match (reach.vendedor_id, reach.ventana_id) {
            (Some(v), _) => ("VENDEDOR", Some(vec![v])),
            (None, Some(v)) => ("VENTANA", Some(vec![v])),
            (None, None) => ("BANCA", reach.banca_ids.clone()),
        };
        let numero_key = q.multiplier_id.unwrap_or(MKEY_ALL);
        let rows = db::tickets::counter_sums(
            &mut conn,
            sorteo_id,
            kind,
            ids.as_deref(),
            &[numero_key, MKEY_REVENTADO],
        )
        .await?;
        let mut by_number: BTreeMap<String, (Decimal, Decimal)> = BTreeMap::new();
        for r in rows {
            let e = by_number.entry(r.number).or_default();
            if r.mkey == MKEY_REVENTADO {
                e.1 += r.amount;
            } else {
                e.0 += r.amount;
            }
        }
        sums = by_number
            .into_iter()
            .map(|(number, (numero, reventado))| db::tickets::NumberSums {
                number,
                numero: if q.multiplier_id.is_some() {
                    numero
                } else {
                    (numero - reventado).max(Decimal::ZERO)
                },
                reventado,
            })
            .collect();
    } else {
        let statuses = match (&q.status, q.is_excluded) {
            (Some(s), _) => Some(vec![s.clone()]),
            (None, true) => None,
            (None, false) => Some(SOLD_STATUSES.iter().map(|s| s.to_string()).collect()),
        };
        let filter = TicketFilter {
            banca_ids: reach.banca_ids.clone(),
            ventana_id: reach.ventana_id,
            vendedor_id: reach.vendedor_id,
            statuses,
            is_active: None,
            live_only: true,
            sorteo_id: q.sorteo_id,
            loteria_id: q.loteria_id,
            scheduled_time: q.scheduled_time.clone(),
            tz_name: tz.name().to_string(),
            sorteo_status: q.sorteo_status.clone(),
            from_date: q.from_date,
            to_date: q.to_date,
            ..TicketFilter::default()
        };
        sums = db::tickets::sums_from_jugadas(&mut conn, &filter, q.multiplier_id, q.is_excluded)
            .await?;
    }

    let digits: u8 = match (&sorteo, &rules) {
        (Some(s), _) => u8::try_from(s.digits).unwrap_or(2),
        (None, Some(r)) => rules_json::digits_of(r),
        (None, None) => {
            if sums.iter().any(|s| s.number.len() == 3) {
                3
            } else {
                2
            }
        }
    };
    Ok(build_summary(
        q,
        sums,
        digits,
        sorteo,
        loteria,
        rules,
        reach,
        use_counters,
        tz,
    ))
}

/// Whether a sorteo may be summarised within `reach`: global sorteos always, a banca's when
/// the reach covers it (VENDEDOR and VENTANA: their home banca).
fn summary_sorteo_visible(actor: &Actor, reach: &Reach, banca: Option<Uuid>) -> bool {
    match (banca, &reach.banca_ids) {
        (None, _) => true,
        (Some(b), Some(ids)) => ids.contains(&b),
        (Some(b), None) => match actor.role {
            Role::Admin => true,
            _ => actor.home_banca_id == Some(b),
        },
    }
}

#[allow(clippy::too_many_arguments)]
fn build_summary(
    q: &SummaryQuery,
    sums: Vec<db::tickets::NumberSums>,
    digits: u8,
    sorteo: Option<db::tickets::SorteoInfo>,
    loteria: Option<db::tickets::LoteriaInfo>,
    rules: Option<serde_json::Value>,
    reach: Reach,
    from_counters: bool,
    tz: Tz,
) -> NumbersSummary {
    let max_number: u32 = if digits == 3 { 999 } else { 99 };
    let width = usize::from(digits);
    let mut map: HashMap<String, (Decimal, Decimal)> = HashMap::new();
    let (mut total_n, mut total_r) = (Decimal::ZERO, Decimal::ZERO);
    let mut with_bets: Vec<String> = Vec::new();
    for s in sums {
        if s.number.len() != width || !s.number.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        total_n += s.numero;
        total_r += s.reventado;
        if s.numero > Decimal::ZERO || s.reventado > Decimal::ZERO {
            with_bets.push(s.number.clone());
        }
        let e = map.entry(s.number).or_default();
        e.0 += s.numero;
        e.1 += s.reventado;
    }
    with_bets.sort();
    with_bets.dedup();
    let (start, end, pagination) = match q.page {
        Some(p) => {
            let start = p * q.page_size;
            let end = (start + q.page_size - 1).min(max_number);
            (
                start,
                end,
                Some(SummaryPagination {
                    page: p,
                    page_size: q.page_size,
                    start_number: start,
                    end_number: end,
                    total_pages: (max_number + 1).div_ceil(q.page_size),
                    returned_count: if start > max_number {
                        0
                    } else {
                        (end - start + 1) as usize
                    },
                }),
            )
        }
        None => (0, max_number, None),
    };
    let numbers: Vec<NumberTotals> = if start > max_number {
        Vec::new()
    } else {
        (start..=end)
            .map(|n| {
                let number = format!("{n:0width$}");
                let (a, b) = map.get(&number).copied().unwrap_or_default();
                NumberTotals {
                    number,
                    amount_by_number: a,
                    amount_by_reventado: b,
                    total_amount: a + b,
                }
            })
            .collect()
    };
    let meta = SummaryMeta {
        totals_from: if from_counters { "counters" } else { "jugadas" },
        date_filter: q.date_token.clone(),
        from_date: q.from_date,
        to_date: q.to_date,
        sorteo_id: sorteo.as_ref().map(|s| s.id),
        sorteo_name: sorteo
            .as_ref()
            .map(|s| sorteo_display_name(&s.name, s.scheduled_at, tz)),
        sorteo_date: sorteo.as_ref().map(|s| local_iso(s.scheduled_at, tz)),
        sorteo_status: sorteo.as_ref().map(|s| s.status.clone()),
        winning_number: sorteo.as_ref().and_then(|s| s.winning_number.clone()),
        loteria_id: sorteo
            .as_ref()
            .map(|s| s.loteria_id)
            .or(loteria.as_ref().map(|l| l.id)),
        loteria_name: sorteo
            .as_ref()
            .map(|s| s.loteria_name.clone())
            .or(loteria.map(|l| l.name)),
        multiplier_id: q.multiplier_id,
        ventana_id: reach.ventana_id,
        vendedor_id: reach.vendedor_id,
        sorteo_digits: digits,
        max_number,
        total_numbers: max_number + 1,
        reventado_enabled: rules.as_ref().is_some_and(rules_json::reventado_enabled),
        is_excluded: q.is_excluded,
        pagination,
        total_amount_by_number: total_n,
        total_amount_by_reventado: total_r,
        total_amount: total_n + total_r,
        numbers_with_bets: with_bets,
    };
    NumbersSummary { numbers, meta }
}

// ---------------------------------------------------------------------------------------------
// Balances.

/// What is left of the binding cumulative limit on one number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NumberBalance {
    /// `max(0, limit − accumulated)` of the binding limit (the smallest remainder).
    pub remaining: Decimal,
    pub limit: Decimal,
    /// Sold so far in the limit's counting scope.
    pub accumulated: Decimal,
}

/// `GET /tickets/validation/balances`: for every number a cumulative rule without multiplier
/// (maxTotal or percentage) restricts for a sale by `vendedor_id` (default: the caller when it
/// is a VENDEDOR) in sorteo `sorteo_id`, the remaining quota. The same resolution as a sale
/// (`resolve_limits`, percentage limits over the scope's sorteo sales), with the running
/// totals as accumulated amounts. Keys are the canonical numbers, ascending.
pub async fn balances(
    pool: &PgPool,
    actor: &Actor,
    sorteo_id: Uuid,
    vendedor_id: Option<Uuid>,
    tz: Tz,
    now: DateTime<Utc>,
) -> Result<BTreeMap<String, NumberBalance>, TicketReadError> {
    let vendedor_id = match (vendedor_id, actor.role) {
        (Some(v), _) => v,
        (None, Role::Vendedor) => actor.user_id,
        (None, _) => return Err(invalid("vendedorId", "required", "es obligatorio")),
    };
    let mut conn = pool.acquire().await?;
    let seller = db::tickets::user_place(&mut conn, vendedor_id)
        .await?
        .ok_or(TicketReadError::NotFound(VENDEDOR_NOT_FOUND))?;
    let (Some(ventana_id), Some(banca_id)) = (seller.ventana_id, seller.banca_id) else {
        return Err(TicketReadError::NotFound(VENDEDOR_NOT_FOUND));
    };
    let allowed = match actor.role {
        Role::Vendedor => seller.id == actor.user_id,
        Role::Ventana => actor.ventana_id == Some(ventana_id),
        Role::Banca => actor.banca_id == Some(banca_id),
        Role::Admin => actor.banca_id.is_none_or(|b| b == banca_id),
    };
    if !allowed {
        return Err(TicketReadError::Forbidden("vendedor fuera de alcance"));
    }
    let sorteo = db::tickets::sorteo_info(&mut conn, sorteo_id)
        .await?
        .filter(|s| s.banca_id.is_none_or(|b| b == banca_id))
        .ok_or(TicketReadError::NotFound(SORTEO_NOT_FOUND))?;
    let digits = u8::try_from(sorteo.digits).unwrap_or(2);
    let rows = db::restrictions::for_seller(&mut conn, banca_id, Some(ventana_id), Some(seller.id))
        .await?;
    let rules: Vec<_> = rows.iter().map(|r| r.to_rule()).collect();
    let local = LocalNow::at(now, tz);
    let width = usize::from(digits);
    let mut named: Vec<String> = rules
        .iter()
        .filter(|r| !r.is_auto_date)
        .filter_map(|r| r.number.clone())
        .filter(|n| n.len() == width)
        .chain(
            rules
                .iter()
                .any(|r| r.is_auto_date)
                .then(|| local.auto_date_number(digits)),
        )
        .collect();
    named.sort();
    named.dedup();
    let sales =
        db::sale::scope_sales(&mut conn, sorteo.id, banca_id, ventana_id, seller.id).await?;
    let ctx = LimitContext {
        banca_id,
        ventana_id,
        vendedor_id: seller.id,
        loteria_id: sorteo.loteria_id,
        sorteo_id: sorteo.id,
        digits,
        now: local,
        sold_by_other: false,
        numbers: named.clone(),
        sales: HashMap::from([
            (SalesScope::Vendedor(seller.id), sales.vendedor),
            (SalesScope::Ventana(ventana_id), sales.ventana),
            (SalesScope::Banca(banca_id), sales.banca),
        ]),
    };
    let resolution = resolve_limits(&rules, &ctx);
    let cumulative = |n: &crate::domain::rules::NumberLimits| {
        n.totals
            .iter()
            .filter(|b| b.multiplier_id.is_none() && b.counted_in.is_some())
            .cloned()
            .collect::<Vec<_>>()
    };
    // Which numbers to answer: the named ones, or every number when a rule governs all.
    let any_number_bound = resolution
        .numbers
        .iter()
        .find(|n| n.number.is_none())
        .is_some_and(|n| !cumulative(n).is_empty());
    let numbers: Vec<String> = if any_number_bound {
        let max: u32 = if digits == 3 { 999 } else { 99 };
        (0..=max).map(|n| format!("{n:0width$}")).collect()
    } else {
        named
    };
    let counters =
        db::tickets::scope_counters(&mut conn, sorteo.id, &[seller.id, ventana_id, banca_id])
            .await?;
    let mut acc: HashMap<(String, Uuid, String), Decimal> = HashMap::new();
    for c in counters {
        *acc.entry((c.scope_kind, c.scope_id, c.number)).or_default() += c.amount;
    }
    let mut out = BTreeMap::new();
    for number in numbers {
        let Some(limits) = resolution.for_number(&number) else {
            continue;
        };
        let best = cumulative(limits)
            .into_iter()
            .filter_map(|b| {
                let scope = b.counted_in?;
                let accumulated = acc
                    .get(&(scope.kind().to_string(), scope.id(), number.clone()))
                    .copied()
                    .unwrap_or_default();
                Some(NumberBalance {
                    remaining: (b.amount - accumulated).max(Decimal::ZERO),
                    limit: b.amount,
                    accumulated,
                })
            })
            .min_by(|a, b| a.remaining.cmp(&b.remaining).then(a.limit.cmp(&b.limit)));
        if let Some(b) = best {
            out.insert(number, b);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use chrono_tz::America::Costa_Rica;
    use db::tickets::CopyJugadaRow;

    fn row(kind: &str, number: &str, amount: i64, m: Option<Uuid>) -> CopyJugadaRow {
        CopyJugadaRow {
            kind: kind.into(),
            number: number.into(),
            reventado_number: (kind == "REVENTADO").then(|| number.to_string()),
            amount: Decimal::from(amount),
            multiplier_id: m,
        }
    }

    #[test]
    fn numero_and_reventado_on_one_number_fold_into_one_entry() {
        let m = Uuid::new_v4();
        let folded = fold_jugadas(vec![
            row("NUMERO", "05", 100, Some(m)),
            row("REVENTADO", "05", 50, None),
            row("NUMERO", "10", 200, Some(m)),
            row("REVENTADO", "33", 70, None),
        ]);
        assert_eq!(folded.len(), 3);
        assert_eq!(folded[0].kind, "REVENTADO");
        assert_eq!(folded[0].amount, Decimal::from(100));
        assert_eq!(folded[0].amount_reventado, Some(Decimal::from(50)));
        assert_eq!(folded[0].multiplier_id, Some(m));
        assert_eq!(folded[1].kind, "NUMERO");
        assert_eq!(folded[1].amount_reventado, None);
        assert_eq!(folded[2].number, "33");
        assert_eq!(folded[2].amount, Decimal::from(70));
        assert_eq!(folded[2].amount_reventado, Some(Decimal::from(70)));
    }

    #[test]
    fn display_name_appends_the_time_once() {
        let at = Utc.with_ymd_and_hms(2026, 3, 2, 19, 55, 0).unwrap();
        assert_eq!(sorteo_display_name("TICA", at, Costa_Rica), "TICA 1:55 PM");
        assert_eq!(
            sorteo_display_name("TICA 1:55 PM", at, Costa_Rica),
            "TICA 1:55 PM"
        );
    }

    fn actor(role: Role, banca: Option<Uuid>, ventana: Option<Uuid>) -> Actor {
        Actor {
            user_id: Uuid::new_v4(),
            username: "x".into(),
            role,
            ventana_id: ventana,
            home_banca_id: banca,
            banca_id: banca,
            assigned_bancas: banca.into_iter().collect(),
            session_id: Uuid::new_v4(),
        }
    }

    #[test]
    fn ticket_visibility_follows_the_roles() {
        let (a, b, va) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let seller = actor(Role::Vendedor, Some(a), Some(va));
        let mine = TicketScope {
            banca_id: a,
            ventana_id: va,
            vendedor_id: seller.user_id,
        };
        let other_seller = TicketScope {
            vendedor_id: Uuid::new_v4(),
            ..mine
        };
        let other_banca = TicketScope {
            banca_id: b,
            ventana_id: Uuid::new_v4(),
            vendedor_id: Uuid::new_v4(),
        };
        assert!(can_see(&seller, &mine) && !can_see(&seller, &other_seller));
        let listero = actor(Role::Ventana, Some(a), Some(va));
        assert!(can_see(&listero, &other_seller) && !can_see(&listero, &other_banca));
        let banca = actor(Role::Banca, Some(a), None);
        assert!(can_see(&banca, &mine) && !can_see(&banca, &other_banca));
        let admin = actor(Role::Admin, None, None);
        assert!(can_see(&admin, &other_banca));
        let admin_a = actor(Role::Admin, Some(a), None);
        assert!(!can_see(&admin_a, &other_banca));
    }
}
