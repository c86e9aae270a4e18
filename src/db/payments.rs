//! SQL of prize payments (issue 7, decision 10): the `ticket_payments` rows and the payment
//! columns of the ticket they belong to. Every writer locks the ticket's sorteo `FOR KEY SHARE`
//! and then the ticket `FOR UPDATE` (the order of every ticket writer), so two payments of one
//! ticket run one after the other and a sorteo state change waits for payments in flight.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{query, query_as, query_scalar};

/// Columns of a payment as the API shows it (camelCase of the table, plus the payer's name).
const PAYMENT_COLUMNS: &str = "p.id, p.ticket_id, p.banca_id, p.amount_paid, p.paid_by_id,
    u.name AS paid_by_name, p.payment_date, p.method, p.notes, p.is_partial, p.remaining_amount,
    p.is_final, p.completed_at, p.is_reversed, p.reversed_at, p.reversed_by, p.reversed_reason,
    p.idempotency_key, p.created_at, p.updated_at";

/// One `ticket_payments` row.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
#[serde(rename_all = "camelCase")]
pub struct PaymentRow {
    pub id: Uuid,
    pub ticket_id: Uuid,
    pub banca_id: Uuid,
    pub amount_paid: Decimal,
    pub paid_by_id: Uuid,
    pub paid_by_name: Option<String>,
    pub payment_date: DateTime<Utc>,
    pub method: String,
    pub notes: Option<String>,
    pub is_partial: bool,
    pub remaining_amount: Option<Decimal>,
    pub is_final: bool,
    pub completed_at: Option<DateTime<Utc>>,
    pub is_reversed: bool,
    pub reversed_at: Option<DateTime<Utc>>,
    pub reversed_by: Option<Uuid>,
    pub reversed_reason: Option<String>,
    pub idempotency_key: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The payment `paid_by_id` made with idempotency key `key`.
pub async fn find_by_key(
    conn: &mut PgConnection,
    paid_by_id: Uuid,
    key: &str,
) -> Result<Option<PaymentRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {PAYMENT_COLUMNS} FROM ticket_payments p LEFT JOIN users u ON u.id = p.paid_by_id
         WHERE p.paid_by_id = $1 AND p.idempotency_key = $2"
    );
    query_as(&sql)
        .bind(paid_by_id)
        .bind(key)
        .fetch_optional(conn)
        .await
}

pub async fn find(conn: &mut PgConnection, id: Uuid) -> Result<Option<PaymentRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {PAYMENT_COLUMNS} FROM ticket_payments p LEFT JOIN users u ON u.id = p.paid_by_id
         WHERE p.id = $1"
    );
    query_as(&sql).bind(id).fetch_optional(conn).await
}

/// Every payment of a ticket (reversed ones too), oldest first.
pub async fn list_for_ticket(
    conn: &mut PgConnection,
    ticket_id: Uuid,
) -> Result<Vec<PaymentRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {PAYMENT_COLUMNS} FROM ticket_payments p LEFT JOIN users u ON u.id = p.paid_by_id
         WHERE p.ticket_id = $1 ORDER BY p.payment_date, p.created_at, p.id"
    );
    query_as(&sql).bind(ticket_id).fetch_all(conn).await
}

/// The sorteo of a ticket, read without locking (to lock the sorteo first, then the ticket).
pub async fn ticket_sorteo(
    conn: &mut PgConnection,
    ticket_id: Uuid,
) -> Result<Option<Uuid>, sqlx::Error> {
    query_scalar("SELECT sorteo_id FROM tickets WHERE id = $1")
        .bind(ticket_id)
        .fetch_optional(conn)
        .await
}

/// The state of a sorteo, locked `FOR KEY SHARE` (its state changes take it `FOR UPDATE`).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SorteoState {
    pub status: String,
    pub deleted: bool,
}

pub async fn lock_sorteo(
    conn: &mut PgConnection,
    sorteo_id: Uuid,
) -> Result<Option<SorteoState>, sqlx::Error> {
    query_as(
        "SELECT status::text AS status, deleted_at IS NOT NULL AS deleted
         FROM sorteos WHERE id = $1 FOR KEY SHARE",
    )
    .bind(sorteo_id)
    .fetch_optional(conn)
    .await
}

/// What a payment needs of its ticket.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PayTicket {
    pub id: Uuid,
    pub ticket_number: String,
    pub banca_id: Uuid,
    pub sorteo_id: Uuid,
    pub ventana_id: Uuid,
    pub vendedor_id: Uuid,
    pub status: String,
    pub is_winner: bool,
    pub total_payout: Decimal,
    pub total_paid: Decimal,
    pub remaining_amount: Decimal,
    pub is_sorteo_closed: bool,
    pub deleted: bool,
}

const TICKET_COLUMNS: &str = "id, ticket_number, banca_id, sorteo_id, ventana_id, vendedor_id,
    status::text AS status, is_winner, total_payout, total_paid, remaining_amount,
    is_sorteo_closed, deleted_at IS NOT NULL AS deleted";

/// The ticket, locked `FOR UPDATE`.
pub async fn lock_ticket(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<PayTicket>, sqlx::Error> {
    let sql = format!("SELECT {TICKET_COLUMNS} FROM tickets WHERE id = $1 FOR UPDATE");
    query_as(&sql).bind(id).fetch_optional(conn).await
}

/// The ticket, without locking (reads).
pub async fn ticket(conn: &mut PgConnection, id: Uuid) -> Result<Option<PayTicket>, sqlx::Error> {
    let sql = format!("SELECT {TICKET_COLUMNS} FROM tickets WHERE id = $1");
    query_as(&sql).bind(id).fetch_optional(conn).await
}

/// A payment to insert.
#[derive(Debug, Clone)]
pub struct NewPayment<'a> {
    pub ticket_id: Uuid,
    pub banca_id: Uuid,
    pub amount_paid: Decimal,
    pub paid_by_id: Uuid,
    pub method: &'a str,
    pub notes: Option<&'a str>,
    pub is_partial: bool,
    pub remaining_amount: Decimal,
    pub is_final: bool,
    pub completed: bool,
    pub idempotency_key: Option<&'a str>,
}

/// Inserts a payment; `None` when its idempotency key is already taken by the payer (a twin
/// request committed first: the caller replays it).
pub async fn insert(
    conn: &mut PgConnection,
    p: &NewPayment<'_>,
) -> Result<Option<Uuid>, sqlx::Error> {
    query_scalar(
        "INSERT INTO ticket_payments (ticket_id, banca_id, amount_paid, paid_by_id, method, notes,
             is_partial, remaining_amount, is_final, completed_at, idempotency_key)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, CASE WHEN $10 THEN now() END, $11)
         ON CONFLICT (paid_by_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
         RETURNING id",
    )
    .bind(p.ticket_id)
    .bind(p.banca_id)
    .bind(p.amount_paid)
    .bind(p.paid_by_id)
    .bind(p.method)
    .bind(p.notes)
    .bind(p.is_partial)
    .bind(p.remaining_amount)
    .bind(p.is_final)
    .bind(p.completed)
    .bind(p.idempotency_key)
    .fetch_optional(conn)
    .await
}

/// Marks a payment reversed (the row stays).
pub async fn mark_reversed(
    conn: &mut PgConnection,
    id: Uuid,
    by: Uuid,
    reason: Option<&str>,
) -> Result<(), sqlx::Error> {
    query(
        "UPDATE ticket_payments
         SET is_reversed = true, reversed_at = now(), reversed_by = $2, reversed_reason = $3,
             updated_at = now()
         WHERE id = $1",
    )
    .bind(id)
    .bind(by)
    .bind(reason)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Sets `is_final` (and `completed_at` with it) and, when given, the notes.
pub async fn set_final_and_notes(
    conn: &mut PgConnection,
    id: Uuid,
    is_final: Option<bool>,
    notes: Option<&str>,
) -> Result<(), sqlx::Error> {
    query(
        "UPDATE ticket_payments
         SET is_final = COALESCE($2, is_final),
             completed_at = CASE WHEN $2 IS NULL THEN completed_at
                                 WHEN $2 THEN COALESCE(completed_at, now())
                                 WHEN is_partial THEN NULL
                                 ELSE completed_at END,
             notes = COALESCE($3, notes),
             updated_at = now()
         WHERE id = $1",
    )
    .bind(id)
    .bind(is_final)
    .bind(notes)
    .execute(conn)
    .await
    .map(|_| ())
}

/// The payment columns of a ticket, as recomputed from its payments.
#[derive(Debug, Clone)]
pub struct TicketPaymentState<'a> {
    pub status: &'a str,
    pub total_paid: Decimal,
    pub remaining_amount: Decimal,
    pub last_payment_at: Option<DateTime<Utc>>,
    pub paid_by_id: Option<Uuid>,
    pub payment_method: Option<&'a str>,
    pub payment_notes: Option<&'a str>,
    pub payment_history: Value,
}

pub async fn update_ticket(
    conn: &mut PgConnection,
    id: Uuid,
    s: &TicketPaymentState<'_>,
) -> Result<(), sqlx::Error> {
    query(
        "UPDATE tickets
         SET status = $2::text::ticket_status, total_paid = $3, remaining_amount = $4,
             last_payment_at = $5, paid_by_id = $6, payment_method = $7, payment_notes = $8,
             payment_history = $9, updated_at = now()
         WHERE id = $1",
    )
    .bind(id)
    .bind(s.status)
    .bind(s.total_paid)
    .bind(s.remaining_amount)
    .bind(s.last_payment_at)
    .bind(s.paid_by_id)
    .bind(s.payment_method)
    .bind(s.payment_notes)
    .bind(&s.payment_history)
    .execute(conn)
    .await
    .map(|_| ())
}
