//! Use cases over exclusion lists ("listas excluidas"): exclude and re-include a ventana's or a
//! vendedor's list, one multiplier within it, or a number, for one sorteo; read them; and
//! [`is_excluded`], which the sale calls for each line. Exclude and include are idempotent (the
//! table's unique key) and each change writes one activity entry in its transaction.
//!
//! An exclusion changes the tickets already sold (domain-sales §4.6), in the same transaction
//! as the entry, which first locks the sorteo row `FOR UPDATE` (sales, cancellations and
//! restores hold it `FOR KEY SHARE`, so none runs meanwhile), then the tickets, then the
//! counters — the lock order of every ticket writer:
//! - exclude: the live jugadas the entry covers (of ACTIVE tickets) become `isExcluded`,
//!   inactive, with `excludedAt/By/Reason`; a ticket whose jugadas are now all excluded becomes
//!   EXCLUDED and inactive; the excluded amounts are released from the per-number counters;
//! - include: the entry is removed; the jugadas it covered that no other entry covers are
//!   un-excluded (active again unless their ticket was cancelled meanwhile); an EXCLUDED ticket
//!   with a jugada no longer excluded is ACTIVE again; their amounts are added back to the
//!   counters **without checking limits**: re-including is the banca's decision to carry that
//!   list again, even past a limit that later sales filled (those later sales stay valid).
//!
//! Who: ADMIN and BANCA (of the sorteo's banca) write; everyone of the banca reads, a VENTANA
//! only the entries about its ventana (its vendedores included) and the banca-wide ones, a
//! VENDEDOR only those that apply to it. Objects out of reach answer 404.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde_json::json;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::db;
use crate::db::listas::{
    Audience, ExclusionFilter, ExclusionKey, ExclusionRow, MovedJugada, SorteoRef,
};
use crate::db::sale::{CountedJugada, CounterDelta};
use crate::domain::authz::Actor;
use crate::domain::numbers::canonical;
use crate::domain::roles::Role;
use crate::http::error::ErrorDetail;
use crate::services::activity;
use crate::services::restrictions::sorteo_visible;
use crate::services::sale::{counter_deltas, CountLine};

#[derive(Debug, thiserror::Error)]
pub enum ListaError {
    /// Missing or out of reach; the text names what (Spanish).
    #[error("not found: {0}")]
    NotFound(&'static str),
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    #[error("invalid input")]
    Invalid(Vec<ErrorDetail>),
    /// The sorteo's results are in (EVALUATED) or it is CLOSED: its lists no longer change.
    #[error("sorteo in state {0}")]
    SorteoState(String),
    /// A number-only exclusion by an ADMIN without an active banca.
    #[error("no banca for the exclusion")]
    BancaRequired,
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

fn invalid(field: &str, code: &str, issue: &str) -> ListaError {
    ListaError::Invalid(vec![ErrorDetail {
        field: field.into(),
        code: code.into(),
        issue: issue.into(),
    }])
}

/// What to exclude or include (at least one of ventana, vendedor and number; a multiplier
/// narrows them).
#[derive(Debug, Clone, Default)]
pub struct ListaTarget {
    /// A ventana id, or the id of a VENTANA-role user (resolved to its ventana).
    pub ventana_id: Option<Uuid>,
    pub vendedor_id: Option<Uuid>,
    pub multiplier_id: Option<Uuid>,
    pub number: Option<String>,
    pub reason: Option<String>,
}

fn require_writer(actor: &Actor) -> Result<(), ListaError> {
    if actor.is(&[Role::Admin, Role::Banca]) {
        Ok(())
    } else {
        Err(ListaError::Forbidden("solo ADMIN o BANCA"))
    }
}

/// The sorteo when the caller sees it; `lock` takes the row lock (`FOR UPDATE`) for a write
/// transaction, which waits for the sales in flight and holds new ones back until the end.
async fn visible_sorteo(
    conn: &mut PgConnection,
    actor: &Actor,
    id: Uuid,
    lock: bool,
) -> Result<SorteoRef, ListaError> {
    let found = if lock {
        db::listas::sorteo_ref_for_update(conn, id).await?
    } else {
        db::listas::sorteo_ref(conn, id).await?
    };
    found
        .filter(|s| sorteo_visible(actor, s))
        .ok_or(ListaError::NotFound("Sorteo no encontrado"))
}

/// Checks the target against the sorteo and the caller's reach; returns the unique key and the
/// banca the entry belongs to. A vendedor's entry records its ventana.
async fn resolve(
    conn: &mut PgConnection,
    actor: &Actor,
    sorteo: &SorteoRef,
    t: &ListaTarget,
) -> Result<(ExclusionKey, Uuid), ListaError> {
    if matches!(sorteo.status.as_str(), "EVALUATED" | "CLOSED") {
        return Err(ListaError::SorteoState(sorteo.status.clone()));
    }
    let mut banca = sorteo.banca_id;
    let not_here = |b: Uuid, banca: Option<Uuid>| banca.is_some_and(|x| x != b);

    let mut ventana_id = None;
    if let Some(v) = t.ventana_id {
        let info = match db::users::ventana_info(conn, v).await? {
            Some(i) => Some(i),
            // The existing client may send the listero's user id.
            None => match db::users::find_row(conn, v).await? {
                Some(u) if u.role == Role::Ventana => match u.ventana_id {
                    Some(vid) => db::users::ventana_info(conn, vid).await?,
                    None => None,
                },
                _ => None,
            },
        };
        let info = info
            .filter(|i| actor.can_reach_ventana(i.id, i.banca_id) && !not_here(i.banca_id, banca))
            .ok_or(ListaError::NotFound("Ventana no encontrada"))?;
        banca = Some(info.banca_id);
        ventana_id = Some(info.id);
    }
    let mut vendedor_id = None;
    if let Some(s) = t.vendedor_id {
        let user = db::users::find_row(conn, s)
            .await?
            .filter(|u| {
                u.role == Role::Vendedor
                    && u.ventana_id.is_some()
                    && u.banca_id
                        .is_some_and(|b| actor.can_reach_banca(b) && !not_here(b, banca))
            })
            .ok_or(ListaError::NotFound("Vendedor no encontrado"))?;
        if ventana_id.is_some() && user.ventana_id != ventana_id {
            return Err(invalid(
                "vendedorId",
                "other_ventana",
                "el vendedor no pertenece a la ventana indicada",
            ));
        }
        banca = user.banca_id;
        ventana_id = user.ventana_id;
        vendedor_id = Some(user.id);
    }
    if let Some(m) = t.multiplier_id {
        db::restrictions::multiplier_ref(conn, m)
            .await?
            .filter(|x| {
                x.loteria_id == sorteo.loteria_id
                    && x.banca_id
                        .is_none_or(|b| actor.can_reach_banca(b) && !not_here(b, banca))
            })
            .ok_or(ListaError::NotFound(
                "Multiplicador no encontrado en la lotería del sorteo",
            ))?;
    }
    if let Some(n) = &t.number {
        let digits = u8::try_from(sorteo.digits).unwrap_or(2);
        if let Err(e) = canonical(n, digits) {
            return Err(invalid("number", "invalid_format", &e.to_string()));
        }
    }
    let banca = banca.or(actor.banca_id).ok_or(ListaError::BancaRequired)?;
    if !actor.can_reach_banca(banca) {
        return Err(ListaError::NotFound("Banca no encontrada"));
    }
    Ok((
        ExclusionKey {
            sorteo_id: sorteo.id,
            ventana_id,
            vendedor_id,
            multiplier_id: t.multiplier_id,
            number: t.number.clone(),
        },
        banca,
    ))
}

/// The counter changes of `moved` jugadas: per ticket scopes (its vendedor, ventana and banca),
/// merged so every (scope, key, number) appears once, as the counter writers need.
fn moved_deltas(moved: &[MovedJugada]) -> Vec<CounterDelta> {
    let mut by_scopes: BTreeMap<(Uuid, Uuid, Uuid), Vec<CountLine>> = BTreeMap::new();
    for m in moved {
        by_scopes
            .entry((m.vendedor_id, m.ventana_id, m.banca_id))
            .or_default()
            .push(CountLine::from(&CountedJugada {
                kind: m.kind.clone(),
                number: m.number.clone(),
                amount: m.amount,
                multiplier_id: m.multiplier_id,
            }));
    }
    let mut merged: BTreeMap<(Uuid, Uuid, String), CounterDelta> = BTreeMap::new();
    for ((vendedor, ventana, banca), lines) in &by_scopes {
        let scopes = [
            ("VENDEDOR", *vendedor),
            ("VENTANA", *ventana),
            ("BANCA", *banca),
        ];
        for d in counter_deltas(lines, &scopes) {
            merged
                .entry((d.scope_id, d.mkey, d.number.clone()))
                .and_modify(|x| x.amount += d.amount)
                .or_insert(d);
        }
    }
    merged.into_values().collect()
}

/// What an exclusion change did to the tickets.
#[derive(Debug, Clone, Copy, Default)]
struct Effect {
    jugadas: usize,
    tickets: u64,
    amount: rust_decimal::Decimal,
}

/// Excludes what entry `key` (of `banca`) covers among the sold tickets and releases it from
/// the counters. The sorteo row must be locked.
async fn apply_exclusion(
    conn: &mut PgConnection,
    key: &ExclusionKey,
    banca: Uuid,
    by: Uuid,
    reason: Option<&str>,
) -> Result<Effect, sqlx::Error> {
    let tickets = db::listas::lock_tickets_for(conn, key, banca, &["ACTIVE"], false).await?;
    if tickets.is_empty() {
        return Ok(Effect::default());
    }
    let moved = db::listas::exclude_jugadas(conn, &tickets, key, by, reason).await?;
    if moved.is_empty() {
        return Ok(Effect::default());
    }
    let mut touched: Vec<Uuid> = moved.iter().map(|m| m.ticket_id).collect();
    touched.sort();
    touched.dedup();
    let excluded = db::listas::mark_tickets_excluded(conn, &touched).await?;
    db::sale::release_counters(conn, key.sorteo_id, &moved_deltas(&moved)).await?;
    Ok(Effect {
        jugadas: moved.len(),
        tickets: excluded,
        amount: moved.iter().map(|m| m.amount).sum(),
    })
}

/// Reverses what the removed entry `row` excluded (where no other entry still excludes it)
/// and adds it back to the counters, without checking limits. The sorteo row must be locked.
async fn reverse_exclusion(
    conn: &mut PgConnection,
    key: &ExclusionKey,
    banca: Uuid,
    row: &ExclusionRow,
) -> Result<Effect, sqlx::Error> {
    let tickets =
        db::listas::lock_tickets_for(conn, key, banca, &["ACTIVE", "EXCLUDED", "CANCELLED"], true)
            .await?;
    if tickets.is_empty() {
        return Ok(Effect::default());
    }
    let ids = db::listas::include_jugadas(conn, &tickets, row).await?;
    if ids.is_empty() {
        return Ok(Effect::default());
    }
    let reactivated = db::listas::reactivate_tickets(conn, &tickets).await?;
    let counted = db::listas::counted_among(conn, &ids).await?;
    if !counted.is_empty() {
        db::sale::add_to_counters(conn, key.sorteo_id, &moved_deltas(&counted)).await?;
    }
    Ok(Effect {
        jugadas: ids.len(),
        tickets: reactivated,
        amount: counted.iter().map(|m| m.amount).sum(),
    })
}

fn details(row: &ExclusionRow) -> serde_json::Value {
    json!({
        "exclusionId": row.id,
        "ventanaId": row.ventana_id,
        "vendedorId": row.vendedor_id,
        "multiplierId": row.multiplier_id,
        "number": row.number,
        "reason": row.reason,
    })
}

/// Excludes a list (or a number) from a sorteo (ADMIN; BANCA of the sorteo's banca): the entry,
/// and the jugadas it covers among the tickets sold (see the module notes). Returns the entry
/// and whether it was created; excluding again changes nothing but a new `reason`. Refused
/// once the sorteo is EVALUATED or CLOSED.
pub async fn exclude(
    pool: &PgPool,
    actor: &Actor,
    sorteo_id: Uuid,
    target: ListaTarget,
) -> Result<(ExclusionRow, bool), ListaError> {
    require_writer(actor)?;
    let mut tx = pool.begin().await?;
    let sorteo = visible_sorteo(&mut tx, actor, sorteo_id, true).await?;
    let (key, banca) = resolve(&mut tx, actor, &sorteo, &target).await?;
    let created = db::listas::insert_if_absent(
        &mut tx,
        &key,
        banca,
        actor.user_id,
        target.reason.as_deref(),
    )
    .await?
    .is_some();
    let row = db::listas::find_by_key_for_update(&mut tx, &key)
        .await?
        .ok_or(ListaError::NotFound("Exclusión no encontrada"))?;
    let reason_changed = !created && target.reason.is_some() && target.reason != row.reason;
    if reason_changed {
        db::listas::set_reason(&mut tx, row.id, target.reason.as_deref()).await?;
    }
    // Also on a repeat: whatever the entry covers is excluded (nothing new, normally).
    let effect = apply_exclusion(
        &mut tx,
        &key,
        banca,
        actor.user_id,
        target.reason.as_deref().or(row.reason.as_deref()),
    )
    .await?;
    let row = db::listas::find(&mut tx, row.id)
        .await?
        .ok_or(ListaError::NotFound("Exclusión no encontrada"))?;
    if created || reason_changed || effect.jugadas > 0 {
        let mut d = details(&row);
        d["created"] = json!(created);
        d["jugadasExcluded"] = json!(effect.jugadas);
        d["ticketsExcluded"] = json!(effect.tickets);
        d["amountExcluded"] = json!(effect.amount);
        activity::record(
            &mut tx,
            actor,
            Some(banca),
            "LISTA_EXCLUDE",
            "SORTEO",
            sorteo.id,
            d,
        )
        .await?;
    }
    tx.commit().await?;
    Ok((row, created))
}

/// Re-includes what `exclude` excluded (same target): removes the entry and reverses its
/// effect on the tickets, adding the amounts back to the counters without checking limits
/// (see the module notes). Returns the removed entry (its totals as they were before), or
/// `None` when there was none (including again changes nothing). Refused once the sorteo is
/// EVALUATED or CLOSED.
pub async fn include(
    pool: &PgPool,
    actor: &Actor,
    sorteo_id: Uuid,
    target: ListaTarget,
) -> Result<Option<ExclusionRow>, ListaError> {
    require_writer(actor)?;
    let mut tx = pool.begin().await?;
    let sorteo = visible_sorteo(&mut tx, actor, sorteo_id, true).await?;
    let (key, banca) = resolve(&mut tx, actor, &sorteo, &target).await?;
    let Some(row) = db::listas::find_by_key_for_update(&mut tx, &key)
        .await?
        .filter(|r| r.banca_id.is_none_or(|b| b == banca))
    else {
        return Ok(None);
    };
    db::listas::delete(&mut tx, row.id).await?;
    let effect = reverse_exclusion(&mut tx, &key, banca, &row).await?;
    let mut d = details(&row);
    d["includeReason"] = json!(target.reason);
    d["jugadasIncluded"] = json!(effect.jugadas);
    d["ticketsReactivated"] = json!(effect.tickets);
    d["amountIncluded"] = json!(effect.amount);
    activity::record(
        &mut tx,
        actor,
        Some(banca),
        "LISTA_INCLUDE",
        "SORTEO",
        sorteo.id,
        d,
    )
    .await?;
    tx.commit().await?;
    Ok(Some(row))
}

fn scope(actor: &Actor, bancas: Option<Vec<Uuid>>) -> (Option<Vec<Uuid>>, Option<Audience>) {
    match actor.role {
        Role::Admin | Role::Banca => (bancas, None),
        Role::Ventana => (
            Some(actor.home_banca_id.into_iter().collect()),
            Some(Audience::Ventana {
                ventana_id: actor.ventana_id,
            }),
        ),
        Role::Vendedor => (
            Some(actor.home_banca_id.into_iter().collect()),
            Some(Audience::Vendedor {
                user_id: actor.user_id,
                ventana_id: actor.ventana_id,
            }),
        ),
    }
}

/// The sorteo and the exclusions of it the caller may see (every role of its banca).
pub async fn for_sorteo(
    pool: &PgPool,
    actor: &Actor,
    sorteo_id: Uuid,
    vendedor_id: Option<Uuid>,
    multiplier_id: Option<Uuid>,
) -> Result<(SorteoRef, Vec<ExclusionRow>), ListaError> {
    let mut conn = pool.acquire().await?;
    let sorteo = visible_sorteo(&mut conn, actor, sorteo_id, false).await?;
    let bancas = match actor.role {
        Role::Admin => None,
        _ => actor.reachable_bancas(),
    };
    let (bancas, audience) = scope(actor, bancas);
    let rows = db::listas::list(
        &mut conn,
        &ExclusionFilter {
            bancas,
            audience,
            sorteo_id: Some(sorteo.id),
            vendedor_id,
            multiplier_id,
            ..ExclusionFilter::default()
        },
    )
    .await?;
    Ok((sorteo, rows))
}

/// `GET /listas-excluidas` filters.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub sorteo_id: Option<Uuid>,
    pub ventana_id: Option<Uuid>,
    pub vendedor_id: Option<Uuid>,
    pub multiplier_id: Option<Uuid>,
    pub loteria_id: Option<Uuid>,
    /// Business dates, inclusive.
    pub from_date: Option<NaiveDate>,
    pub to_date: Option<NaiveDate>,
}

/// The instant a business day starts in `tz`.
fn day_start(d: NaiveDate, tz: Tz) -> Option<DateTime<Utc>> {
    d.and_hms_opt(0, 0, 0)?
        .and_local_timezone(tz)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

/// Every exclusion the caller may see (ADMIN: the active banca, else all; BANCA: its active
/// banca; VENTANA: its own), most recent first. VENDEDOR may not list them.
pub async fn list(
    pool: &PgPool,
    actor: &Actor,
    f: ListFilter,
    tz: Tz,
) -> Result<Vec<ExclusionRow>, ListaError> {
    if !actor.is(&[Role::Admin, Role::Banca, Role::Ventana]) {
        return Err(ListaError::Forbidden("rol no permitido"));
    }
    let (bancas, audience) = scope(actor, actor.list_scope());
    let mut conn = pool.acquire().await?;
    Ok(db::listas::list(
        &mut conn,
        &ExclusionFilter {
            bancas,
            audience,
            sorteo_id: f.sorteo_id,
            ventana_id: f.ventana_id,
            vendedor_id: f.vendedor_id,
            multiplier_id: f.multiplier_id,
            loteria_id: f.loteria_id,
            from: f.from_date.and_then(|d| day_start(d, tz)),
            to: f
                .to_date
                .and_then(|d| d.succ_opt())
                .and_then(|d| day_start(d, tz)),
        },
    )
    .await?)
}

/// Whether a sale line falls under an exclusion of the sorteo: an entry of the ventana's banca
/// whose ventana, vendedor, multiplier and number are each absent or equal to the line's. For
/// a REVENTADO line pass the multiplier of its paired NUMERO line (an excluded multiplier
/// excludes the reventado on the same number). One indexed query; call it inside the sale
/// transaction.
pub async fn is_excluded(
    conn: &mut PgConnection,
    sorteo_id: Uuid,
    ventana_id: Uuid,
    vendedor_id: Uuid,
    multiplier_id: Option<Uuid>,
    number: &str,
) -> Result<bool, sqlx::Error> {
    db::listas::is_excluded(
        conn,
        sorteo_id,
        ventana_id,
        vendedor_id,
        multiplier_id,
        number,
    )
    .await
}
