//! Prize payments of winning tickets, one model (decision 10): `/tickets/:id/pay`,
//! `/tickets/:id/reverse-payment`, `/tickets/:id/finalize-payment` and `/ticket-payments*` all
//! read and write the `ticket_payments` rows, and after every change the ticket's payment
//! columns (`totalPaid`, `remainingAmount`, status, last payment, `paymentHistory`) are
//! recomputed from those rows in the same transaction ([`resync_ticket`]).
//!
//! Order of the checks of a payment: role (a BANCA user cannot pay, 403), the idempotency key
//! (a replay answers the original payment, whatever happened to the ticket since), then under
//! the locks (sorteo `FOR KEY SHARE`, ticket `FOR UPDATE`): ownership (decision 16, 404),
//! cancelled, winner, status, sorteo closed, and `totalPaid + amount ≤ totalPayout`.

use chrono::SecondsFormat;
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::{json, Value};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::db::payments::{self as db, NewPayment, PayTicket, PaymentRow, TicketPaymentState};
use crate::domain::authz::Actor;
use crate::domain::roles::Role;
use crate::services::activity;
use crate::services::sale::{owns, Refusal, RefusalKind, SaleError};
use crate::services::tickets::{can_see, TicketScope};

/// Refusals and database errors (mapped to the wire like the sale's).
pub type PaymentError = SaleError;

fn refuse(kind: RefusalKind, code: &'static str, message: impl Into<String>) -> SaleError {
    SaleError::Refused(Refusal {
        kind,
        code,
        message: message.into(),
        details: None,
    })
}

fn ticket_not_found() -> SaleError {
    refuse(
        RefusalKind::NotFound,
        "TICKET_NOT_FOUND",
        "Tiquete no encontrado",
    )
}

fn payment_not_found() -> SaleError {
    refuse(
        RefusalKind::NotFound,
        "PAYMENT_NOT_FOUND",
        "Pago no encontrado",
    )
}

/// A hidden or missing ticket of a payment is a missing payment.
fn as_payment_not_found(e: SaleError) -> SaleError {
    match e {
        SaleError::Refused(r) if r.kind == RefusalKind::NotFound => payment_not_found(),
        other => other,
    }
}

/// A BANCA user reads payments but does not pay (as the existing system).
fn may_pay(actor: &Actor) -> Result<(), SaleError> {
    if actor.role == Role::Banca {
        return Err(refuse(
            RefusalKind::Forbidden,
            "FORBIDDEN",
            "Un usuario BANCA no puede registrar ni modificar pagos de premios",
        ));
    }
    Ok(())
}

/// Payment methods: `cash`, `transfer`, `check`, `other`; anything else (also `system`) is cash.
pub fn normalize_method(method: Option<&str>) -> &'static str {
    match method.map(|m| m.trim().to_ascii_lowercase()).as_deref() {
        Some("transfer") => "transfer",
        Some("check") => "check",
        Some("other") => "other",
        _ => "cash",
    }
}

/// A payment to register.
#[derive(Debug, Clone)]
pub struct PayRequest {
    pub ticket_id: Uuid,
    pub amount: Decimal,
    pub method: &'static str,
    pub notes: Option<String>,
    pub is_final: bool,
    pub idempotency_key: Option<String>,
}

/// A payment registered, or replayed.
#[derive(Debug, Clone)]
pub struct PayOutcome {
    pub payment: PaymentRow,
    pub replayed: bool,
}

fn replay(found: PaymentRow, req: &PayRequest) -> Result<PayOutcome, SaleError> {
    if found.ticket_id != req.ticket_id || found.amount_paid != req.amount {
        return Err(refuse(
            RefusalKind::Conflict,
            "IDEMPOTENCY_PAYLOAD_MISMATCH",
            "La clave de idempotencia ya se usó con otro pago distinto",
        ));
    }
    Ok(PayOutcome {
        payment: found,
        replayed: true,
    })
}

/// Locks the ticket's sorteo, then the ticket; 404 when missing or not the caller's.
async fn lock_owned(
    conn: &mut PgConnection,
    actor: &Actor,
    ticket_id: Uuid,
) -> Result<(PayTicket, db::SorteoState), SaleError> {
    let sorteo_id = db::ticket_sorteo(conn, ticket_id)
        .await?
        .ok_or_else(ticket_not_found)?;
    let sorteo = db::lock_sorteo(conn, sorteo_id)
        .await?
        .ok_or_else(ticket_not_found)?;
    let t = db::lock_ticket(conn, ticket_id)
        .await?
        .ok_or_else(ticket_not_found)?;
    if !owns(actor, t.banca_id, t.ventana_id, t.vendedor_id) {
        return Err(ticket_not_found());
    }
    Ok((t, sorteo))
}

fn check_sorteo_open(t: &PayTicket, sorteo: &db::SorteoState) -> Result<(), SaleError> {
    if sorteo.status == "CLOSED" || sorteo.deleted || t.is_sorteo_closed {
        return Err(refuse(
            RefusalKind::Conflict,
            "SORTEO_CLOSED",
            "El sorteo está cerrado: no se pueden modificar pagos de premios",
        ));
    }
    Ok(())
}

/// The checks every payment write makes of the ticket.
fn check_payable(t: &PayTicket, sorteo: &db::SorteoState) -> Result<(), SaleError> {
    if t.status == "CANCELLED" || t.deleted {
        return Err(refuse(
            RefusalKind::Conflict,
            "TICKET_CANCELLED",
            "El tiquete está anulado o eliminado",
        ));
    }
    if !t.is_winner {
        return Err(refuse(
            RefusalKind::Conflict,
            "TICKET_NOT_WINNER",
            "El tiquete no es ganador",
        ));
    }
    if !matches!(t.status.as_str(), "EVALUATED" | "PAID" | "PAGADO") {
        return Err(refuse(
            RefusalKind::Conflict,
            "INVALID_TICKET_STATUS",
            format!(
                "El tiquete debe estar evaluado o pagado (estado {})",
                t.status
            ),
        ));
    }
    check_sorteo_open(t, sorteo)
}

/// Registers a prize payment (total or partial) in one transaction. A replay of the payer's
/// idempotency key answers the original payment, before any other check.
pub async fn pay(
    pool: &PgPool,
    actor: &Actor,
    req: &PayRequest,
    tz: Tz,
) -> Result<PayOutcome, SaleError> {
    may_pay(actor)?;
    let mut tx = pool.begin().await?;
    if let Some(key) = &req.idempotency_key {
        if let Some(found) = db::find_by_key(&mut tx, actor.user_id, key).await? {
            tx.rollback().await?;
            return replay(found, req);
        }
    }
    let (t, sorteo) = lock_owned(&mut tx, actor, req.ticket_id).await?;
    // A twin request may have committed while this one waited for the ticket.
    if let Some(key) = &req.idempotency_key {
        if let Some(found) = db::find_by_key(&mut tx, actor.user_id, key).await? {
            tx.rollback().await?;
            return replay(found, req);
        }
    }
    check_payable(&t, &sorteo)?;
    let new_total = t.total_paid + req.amount;
    if new_total > t.total_payout {
        return Err(refuse(
            RefusalKind::Invalid,
            "PAYMENT_EXCEEDS_PRIZE",
            format!(
                "El pago excede el premio: premio {}, pagado {}, pendiente {}",
                t.total_payout,
                t.total_paid,
                t.total_payout - t.total_paid
            ),
        ));
    }
    let is_partial = new_total < t.total_payout;
    let remaining = if is_partial {
        t.total_payout - new_total
    } else {
        Decimal::ZERO
    };
    let inserted = db::insert(
        &mut tx,
        &NewPayment {
            ticket_id: t.id,
            banca_id: t.banca_id,
            amount_paid: req.amount,
            paid_by_id: actor.user_id,
            method: req.method,
            notes: req.notes.as_deref(),
            is_partial,
            remaining_amount: remaining,
            is_final: req.is_final,
            completed: !is_partial || req.is_final,
            idempotency_key: req.idempotency_key.as_deref(),
        },
    )
    .await?;
    let Some(id) = inserted else {
        // The key was taken by a twin request of another ticket that committed meanwhile.
        tx.rollback().await?;
        let mut conn = pool.acquire().await?;
        let key = req.idempotency_key.as_deref().unwrap_or_default();
        let found = db::find_by_key(&mut conn, actor.user_id, key)
            .await?
            .ok_or_else(payment_not_found)?;
        return replay(found, req);
    };
    let ticket = resync_ticket(&mut tx, t.id, tz, None).await?;
    activity::record(
        &mut tx,
        actor,
        Some(t.banca_id),
        "TICKET_PAY",
        "TICKET",
        t.id,
        json!({
            "ticketNumber": t.ticket_number,
            "paymentId": id,
            "amountPaid": req.amount,
            "method": req.method,
            "isFinal": req.is_final,
            "isPartial": is_partial,
            "totalPaid": ticket.total_paid,
            "remainingAmount": ticket.remaining_amount,
            "status": ticket.status,
            "description": format!("Pago de premio del tiquete {}", t.ticket_number),
        }),
    )
    .await?;
    let payment = db::find(&mut tx, id).await?.ok_or_else(payment_not_found)?;
    tx.commit().await?;
    Ok(PayOutcome {
        payment,
        replayed: false,
    })
}

/// What [`resync_ticket`] wrote.
#[derive(Debug, Clone)]
pub struct TicketTotals {
    pub status: String,
    pub total_paid: Decimal,
    pub remaining_amount: Decimal,
}

/// Recomputes the payment columns of a ticket (locked by the caller) from its payment rows:
/// `totalPaid` = Σ unreversed payments, `remainingAmount` = prize − paid (never negative),
/// status `PAID` when something is paid and it is all of the prize or a payment is final,
/// else `EVALUATED` (a ticket in another status keeps it); last payment columns from the
/// latest unreversed payment (`notes`, when given, replaces its notes); `paymentHistory` lists
/// every payment, reversed ones marked. The sorteo's revert may call this after reversing.
pub async fn resync_ticket(
    conn: &mut PgConnection,
    ticket_id: Uuid,
    tz: Tz,
    notes: Option<&str>,
) -> Result<TicketTotals, sqlx::Error> {
    let t = db::ticket(conn, ticket_id)
        .await?
        .ok_or(sqlx::Error::RowNotFound)?;
    let rows = db::list_for_ticket(conn, ticket_id).await?;
    let active: Vec<&PaymentRow> = rows.iter().filter(|p| !p.is_reversed).collect();
    let total_paid: Decimal = active.iter().map(|p| p.amount_paid).sum();
    let remaining = (t.total_payout - total_paid).max(Decimal::ZERO);
    let status = if matches!(t.status.as_str(), "EVALUATED" | "PAID" | "PAGADO") {
        let paid = total_paid > Decimal::ZERO
            && (total_paid >= t.total_payout || active.iter().any(|p| p.is_final));
        if paid {
            "PAID".to_string()
        } else {
            "EVALUATED".to_string()
        }
    } else {
        t.status.clone()
    };
    let last = active.last();
    let history: Vec<Value> = rows.iter().map(|p| history_entry(p, tz)).collect();
    db::update_ticket(
        conn,
        ticket_id,
        &TicketPaymentState {
            status: &status,
            total_paid,
            remaining_amount: remaining,
            last_payment_at: last.map(|p| p.payment_date),
            paid_by_id: last.map(|p| p.paid_by_id),
            payment_method: last.map(|p| p.method.as_str()),
            payment_notes: notes.or_else(|| last.and_then(|p| p.notes.as_deref())),
            payment_history: Value::Array(history),
        },
    )
    .await?;
    Ok(TicketTotals {
        status,
        total_paid,
        remaining_amount: remaining,
    })
}

fn local_iso(d: chrono::DateTime<chrono::Utc>, tz: Tz) -> String {
    d.with_timezone(&tz)
        .to_rfc3339_opts(SecondsFormat::Millis, false)
}

/// One `paymentHistory` entry (times in the business time zone, with offset).
fn history_entry(p: &PaymentRow, tz: Tz) -> Value {
    json!({
        "id": p.id,
        "amountPaid": p.amount_paid,
        "paidAt": local_iso(p.payment_date, tz),
        "paidById": p.paid_by_id,
        "paidByName": p.paid_by_name,
        "method": p.method,
        "notes": p.notes,
        "isFinal": p.is_final,
        "isReversed": p.is_reversed,
        "reversedAt": p.reversed_at.map(|d| local_iso(d, tz)),
    })
}

/// Reverses one payment of a locked ticket and recomputes the ticket.
async fn reverse_locked(
    conn: &mut PgConnection,
    actor: &Actor,
    t: &PayTicket,
    payment: &PaymentRow,
    reason: Option<&str>,
    tz: Tz,
) -> Result<TicketTotals, sqlx::Error> {
    db::mark_reversed(conn, payment.id, actor.user_id, reason).await?;
    let note = format!("Revertido: {}", reason.unwrap_or("sin motivo"));
    let totals = resync_ticket(conn, t.id, tz, Some(&note)).await?;
    activity::record(
        conn,
        actor,
        Some(t.banca_id),
        "TICKET_PAYMENT_REVERSE",
        "TICKET",
        t.id,
        json!({
            "ticketNumber": t.ticket_number,
            "paymentId": payment.id,
            "amountPaid": payment.amount_paid,
            "reason": reason,
            "totalPaid": totals.total_paid,
            "remainingAmount": totals.remaining_amount,
            "status": totals.status,
            "description": format!("Reversión de pago del tiquete {}", t.ticket_number),
        }),
    )
    .await?;
    Ok(totals)
}

fn check_reversible_ticket(t: &PayTicket, sorteo: &db::SorteoState) -> Result<(), SaleError> {
    check_sorteo_open(t, sorteo)
}

/// `POST /tickets/:id/reverse-payment`: reverses the ticket's latest unreversed payment.
pub async fn reverse_last(
    pool: &PgPool,
    actor: &Actor,
    ticket_id: Uuid,
    reason: Option<&str>,
    tz: Tz,
) -> Result<(), SaleError> {
    may_pay(actor)?;
    let mut tx = pool.begin().await?;
    let (t, sorteo) = lock_owned(&mut tx, actor, ticket_id).await?;
    check_reversible_ticket(&t, &sorteo)?;
    let rows = db::list_for_ticket(&mut tx, ticket_id).await?;
    let last = rows.iter().rev().find(|p| !p.is_reversed).ok_or_else(|| {
        refuse(
            RefusalKind::Conflict,
            "NO_PAYMENT_TO_REVERSE",
            "El tiquete no tiene pagos para revertir",
        )
    })?;
    reverse_locked(&mut tx, actor, &t, last, reason, tz).await?;
    tx.commit().await?;
    Ok(())
}

/// `POST /ticket-payments/:id/reverse`: reverses that payment.
pub async fn reverse(
    pool: &PgPool,
    actor: &Actor,
    payment_id: Uuid,
    reason: Option<&str>,
    tz: Tz,
) -> Result<PaymentRow, SaleError> {
    may_pay(actor)?;
    let mut tx = pool.begin().await?;
    let p = db::find(&mut tx, payment_id)
        .await?
        .ok_or_else(payment_not_found)?;
    let (t, sorteo) = lock_owned(&mut tx, actor, p.ticket_id)
        .await
        .map_err(as_payment_not_found)?;
    // Read again under the ticket lock.
    let p = db::find(&mut tx, payment_id)
        .await?
        .ok_or_else(payment_not_found)?;
    if p.is_reversed {
        return Err(refuse(
            RefusalKind::Conflict,
            "PAYMENT_ALREADY_REVERSED",
            "El pago ya fue revertido",
        ));
    }
    check_reversible_ticket(&t, &sorteo)?;
    reverse_locked(&mut tx, actor, &t, &p, reason, tz).await?;
    let p = db::find(&mut tx, payment_id)
        .await?
        .ok_or_else(payment_not_found)?;
    tx.commit().await?;
    Ok(p)
}

/// `POST /tickets/:id/finalize-payment`: the latest unreversed payment becomes final and the
/// ticket PAID with the rest of the prize accepted as unpaid (`remainingAmount` kept).
pub async fn finalize_last(
    pool: &PgPool,
    actor: &Actor,
    ticket_id: Uuid,
    notes: Option<&str>,
    tz: Tz,
) -> Result<(), SaleError> {
    may_pay(actor)?;
    let mut tx = pool.begin().await?;
    let (t, sorteo) = lock_owned(&mut tx, actor, ticket_id).await?;
    check_payable(&t, &sorteo)?;
    let rows = db::list_for_ticket(&mut tx, ticket_id).await?;
    let last = rows.iter().rev().find(|p| !p.is_reversed).ok_or_else(|| {
        refuse(
            RefusalKind::Conflict,
            "NO_PAYMENT_TO_FINALIZE",
            "El tiquete no tiene pagos para finalizar",
        )
    })?;
    if last.is_final {
        return Err(refuse(
            RefusalKind::Conflict,
            "PAYMENT_ALREADY_FINAL",
            "El último pago ya es final",
        ));
    }
    if t.total_paid >= t.total_payout {
        return Err(refuse(
            RefusalKind::Conflict,
            "PAYMENT_ALREADY_COMPLETE",
            "El premio ya está pagado por completo",
        ));
    }
    finalize_locked(&mut tx, actor, &t, last, notes, tz).await?;
    tx.commit().await?;
    Ok(())
}

async fn finalize_locked(
    conn: &mut PgConnection,
    actor: &Actor,
    t: &PayTicket,
    payment: &PaymentRow,
    notes: Option<&str>,
    tz: Tz,
) -> Result<TicketTotals, sqlx::Error> {
    db::set_final_and_notes(conn, payment.id, Some(true), notes).await?;
    let totals = resync_ticket(conn, t.id, tz, notes).await?;
    activity::record(
        conn,
        actor,
        Some(t.banca_id),
        "TICKET_PAY_FINALIZE",
        "TICKET",
        t.id,
        json!({
            "ticketNumber": t.ticket_number,
            "paymentId": payment.id,
            "notes": notes,
            "totalPaid": totals.total_paid,
            "remainingAmount": totals.remaining_amount,
            "status": totals.status,
            "description": format!("Pago final del tiquete {}", t.ticket_number),
        }),
    )
    .await?;
    Ok(totals)
}

/// `PATCH /ticket-payments/:id`: notes and/or `isFinal` (finalizing a partial makes the ticket
/// PAID; un-finalizing recomputes it). A reversed payment only takes notes.
pub async fn update(
    pool: &PgPool,
    actor: &Actor,
    payment_id: Uuid,
    is_final: Option<bool>,
    notes: Option<&str>,
    tz: Tz,
) -> Result<PaymentRow, SaleError> {
    may_pay(actor)?;
    let mut tx = pool.begin().await?;
    let p = db::find(&mut tx, payment_id)
        .await?
        .ok_or_else(payment_not_found)?;
    let (t, sorteo) = lock_owned(&mut tx, actor, p.ticket_id)
        .await
        .map_err(as_payment_not_found)?;
    let p = db::find(&mut tx, payment_id)
        .await?
        .ok_or_else(payment_not_found)?;
    let changes_final = is_final.is_some_and(|f| f != p.is_final);
    if changes_final {
        if p.is_reversed {
            return Err(refuse(
                RefusalKind::Conflict,
                "PAYMENT_ALREADY_REVERSED",
                "El pago fue revertido: no se puede cambiar si es final",
            ));
        }
        check_payable(&t, &sorteo)?;
    }
    if changes_final && is_final == Some(true) {
        finalize_locked(&mut tx, actor, &t, &p, notes, tz).await?;
    } else {
        db::set_final_and_notes(&mut tx, p.id, is_final, notes).await?;
        resync_ticket(&mut tx, t.id, tz, None).await?;
        activity::record(
            &mut tx,
            actor,
            Some(t.banca_id),
            "TICKET_PAYMENT_UPDATE",
            "TICKET",
            t.id,
            json!({
                "ticketNumber": t.ticket_number,
                "paymentId": p.id,
                "isFinal": is_final,
                "notes": notes,
            }),
        )
        .await?;
    }
    let p = db::find(&mut tx, payment_id)
        .await?
        .ok_or_else(payment_not_found)?;
    tx.commit().await?;
    Ok(p)
}

fn scope(t: &PayTicket) -> TicketScope {
    TicketScope {
        banca_id: t.banca_id,
        ventana_id: t.ventana_id,
        vendedor_id: t.vendedor_id,
    }
}

/// `GET /ticket-payments/:id` (BANCA reads its banca's).
pub async fn get(pool: &PgPool, actor: &Actor, payment_id: Uuid) -> Result<PaymentRow, SaleError> {
    let mut conn = pool.acquire().await?;
    let p = db::find(&mut conn, payment_id)
        .await?
        .ok_or_else(payment_not_found)?;
    let t = db::ticket(&mut conn, p.ticket_id)
        .await?
        .ok_or_else(payment_not_found)?;
    if !can_see(actor, &scope(&t)) {
        return Err(payment_not_found());
    }
    Ok(p)
}

/// `GET /ticket-payments/tickets/:ticketId/payment-history`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentHistory {
    pub ticket_id: Uuid,
    pub ticket_number: String,
    pub total_payout: Decimal,
    pub total_paid: Decimal,
    pub remaining_amount: Decimal,
    pub ticket_status: String,
    pub payments: Vec<PaymentRow>,
}

pub async fn history(
    pool: &PgPool,
    actor: &Actor,
    ticket_id: Uuid,
) -> Result<PaymentHistory, SaleError> {
    let mut conn = pool.acquire().await?;
    let t = db::ticket(&mut conn, ticket_id)
        .await?
        .ok_or_else(ticket_not_found)?;
    if !can_see(actor, &scope(&t)) {
        return Err(ticket_not_found());
    }
    let payments = db::list_for_ticket(&mut conn, ticket_id).await?;
    let total_paid: Decimal = payments
        .iter()
        .filter(|p| !p.is_reversed)
        .map(|p| p.amount_paid)
        .sum();
    Ok(PaymentHistory {
        ticket_id: t.id,
        ticket_number: t.ticket_number,
        total_payout: t.total_payout,
        total_paid,
        remaining_amount: (t.total_payout - total_paid).max(Decimal::ZERO),
        ticket_status: t.status,
        payments,
    })
}
