//! Account movements (domain-money §5.4): payments to and collections from a banca, ventana or
//! vendedor, their reversal, their history, deleting an empty statement, and the vendedor's
//! balance reset (§5.2 `balanceResetAt`).
//!
//! Every write is one transaction that takes the banca's statement lock
//! ([`statements::lock_banca`]), changes the movement (or the reset), and rebuilds the banca's
//! statements from the movement's day on ([`statements::rebuild_from`]), so the statement is
//! current when the transaction commits; concurrent movements of one banca queue on the lock
//! and every one of them counts. A movement dated in an earlier month also rewrites that month's
//! closing snapshot ([`statements::close_month`]).

use chrono::{DateTime, Datelike, Months, NaiveDate, SecondsFormat, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde_json::json;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::db::movements::{
    self as db, HistoryFilter, MovementRow, NewMovement, StatementRow, VendedorTarget,
};
use crate::db::statements;
use crate::domain::authz::Actor;
use crate::domain::roles::Role;
use crate::services::activity;
use crate::services::sale::{Refusal, RefusalKind, SaleError};

/// Refusals (400/403/404/409 with a code) and database errors; mapped like the sale's.
pub type MovementError = SaleError;

fn refuse(kind: RefusalKind, code: &'static str, message: impl Into<String>) -> SaleError {
    SaleError::Refused(Refusal {
        kind,
        code,
        message: message.into(),
        details: None,
    })
}

fn forbidden(message: &str) -> SaleError {
    refuse(RefusalKind::Forbidden, "FORBIDDEN", message)
}

fn payment_not_found() -> SaleError {
    refuse(
        RefusalKind::NotFound,
        "PAYMENT_NOT_FOUND",
        "Movimiento no encontrado",
    )
}

fn vendedor_not_found() -> SaleError {
    refuse(
        RefusalKind::NotFound,
        "VENDEDOR_NOT_FOUND",
        "Vendedor no encontrado",
    )
}

fn ventana_not_found() -> SaleError {
    refuse(
        RefusalKind::NotFound,
        "VENTANA_NOT_FOUND",
        "Ventana no encontrada",
    )
}

fn banca_not_found() -> SaleError {
    refuse(
        RefusalKind::NotFound,
        "BANCA_NOT_FOUND",
        "Banca no encontrada",
    )
}

fn statement_not_found() -> SaleError {
    refuse(
        RefusalKind::NotFound,
        "STATEMENT_NOT_FOUND",
        "Estado de cuenta no encontrado",
    )
}

/// The business day and month of `now`.
pub fn business_today(now: DateTime<Utc>, tz: Tz) -> NaiveDate {
    now.with_timezone(&tz).date_naive()
}

fn month_of(d: NaiveDate) -> String {
    d.format("%Y-%m").to_string()
}

/// Rewrites the closing snapshot (§5.8) of every month from `from`'s month up to the one before
/// the current business month: the movement changed that month's figures and the remaining
/// balance every later month ends with.
async fn close_past_months(
    conn: &mut PgConnection,
    banca: Uuid,
    from: NaiveDate,
    tz: Tz,
) -> Result<(), sqlx::Error> {
    let now = Utc::now();
    let today = business_today(now, tz);
    let current = today.with_day(1).unwrap_or(today);
    let mut month = from.with_day(1).unwrap_or(from);
    while month < current {
        statements::close_month(conn, &month_of(month), now, Some(banca)).await?;
        month = month.checked_add_months(Months::new(1)).unwrap_or(current);
    }
    Ok(())
}

/// A movement to register (the route checked formats, amount and that the day is not future).
#[derive(Debug, Clone)]
pub struct CreateMovement {
    pub date: NaiveDate,
    pub time: Option<String>,
    pub ventana_id: Option<Uuid>,
    pub vendedor_id: Option<Uuid>,
    pub banca_id: Option<Uuid>,
    pub amount: Decimal,
    /// `payment` or `collection`.
    pub kind: &'static str,
    /// `cash`, `transfer`, `check` or `other`.
    pub method: &'static str,
    pub notes: Option<String>,
    pub is_final: bool,
    pub idempotency_key: Option<String>,
}

/// A movement and its day's statement (the entity's row).
#[derive(Debug, Clone)]
pub struct MovementAnswer {
    pub payment: MovementRow,
    pub statement: Option<StatementRow>,
    /// An idempotent replay: nothing was written.
    pub replayed: bool,
}

/// The entity a movement is booked on, with the levels above it.
#[derive(Debug, Clone, Copy)]
struct Target {
    banca: Uuid,
    ventana: Option<Uuid>,
    vendedor: Option<Uuid>,
}

/// A live VENDEDOR user with a banca.
async fn vendedor_of(conn: &mut PgConnection, id: Uuid) -> Result<VendedorTarget, SaleError> {
    match db::vendedor(conn, id).await? {
        Some(t) if t.is_vendedor && t.banca_id.is_some() => Ok(t),
        _ => Err(vendedor_not_found()),
    }
}

/// Who the movement is for (§5.4): VENTANA its own ventana or one of its vendedores; ADMIN the
/// first of vendedor > ventana > banca named (the rest inferred; within its active banca when it
/// has one); BANCA inside its active banca (banca-level when nothing is named).
async fn resolve_target(
    conn: &mut PgConnection,
    actor: &Actor,
    req: &CreateMovement,
) -> Result<Target, SaleError> {
    match actor.role {
        Role::Vendedor => Err(forbidden(
            "Un vendedor no puede registrar movimientos de cuenta",
        )),
        Role::Ventana => {
            let own = actor
                .ventana_id
                .ok_or_else(|| forbidden("Usuario sin ventana asignada"))?;
            if req.ventana_id.is_some_and(|v| v != own) {
                return Err(forbidden(
                    "Solo puede registrar movimientos de su propia ventana",
                ));
            }
            if req.banca_id.is_some_and(|b| Some(b) != actor.home_banca_id) {
                return Err(forbidden(
                    "Una ventana no puede registrar movimientos de otra banca",
                ));
            }
            let banca = db::ventana_banca(conn, own)
                .await?
                .ok_or_else(ventana_not_found)?;
            match req.vendedor_id {
                Some(s) => {
                    let t = vendedor_of(conn, s).await?;
                    if t.banca_id != Some(banca) {
                        return Err(vendedor_not_found());
                    }
                    if t.ventana_id != Some(own) {
                        return Err(forbidden("El vendedor no pertenece a su ventana"));
                    }
                    Ok(Target {
                        banca,
                        ventana: Some(own),
                        vendedor: Some(s),
                    })
                }
                None => Ok(Target {
                    banca,
                    ventana: Some(own),
                    vendedor: None,
                }),
            }
        }
        Role::Admin | Role::Banca => {
            let active = if actor.role == Role::Banca {
                let active = actor
                    .banca_id
                    .filter(|b| actor.assigned_bancas.contains(b))
                    .ok_or_else(|| forbidden("No hay una banca activa"))?;
                if req.banca_id.is_some_and(|b| b != active) {
                    return Err(forbidden("Solo puede operar dentro de su banca activa"));
                }
                Some(active)
            } else {
                actor.banca_id
            };
            let target = if let Some(s) = req.vendedor_id {
                let t = vendedor_of(conn, s).await?;
                Target {
                    banca: t.banca_id.unwrap_or_default(),
                    ventana: t.ventana_id,
                    vendedor: Some(s),
                }
            } else if let Some(v) = req.ventana_id {
                let banca = db::ventana_banca(conn, v)
                    .await?
                    .ok_or_else(ventana_not_found)?;
                Target {
                    banca,
                    ventana: Some(v),
                    vendedor: None,
                }
            } else if let Some(b) = req.banca_id.or(if actor.role == Role::Banca {
                active
            } else {
                None
            }) {
                if !db::banca_exists(conn, b).await? {
                    return Err(banca_not_found());
                }
                Target {
                    banca: b,
                    ventana: None,
                    vendedor: None,
                }
            } else {
                return Err(refuse(
                    RefusalKind::Invalid,
                    "TARGET_REQUIRED",
                    "Debe indicar vendedorId, ventanaId o bancaId",
                ));
            };
            if active.is_some_and(|b| b != target.banca) {
                return Err(if target.vendedor.is_some() {
                    vendedor_not_found()
                } else if target.ventana.is_some() {
                    ventana_not_found()
                } else {
                    banca_not_found()
                });
            }
            Ok(target)
        }
    }
}

/// Whether `actor` may see (and, with a writing role, reverse) movement `m`: ADMIN any (within
/// its active banca), BANCA those of its bancas, VENTANA those of its ventana and its
/// vendedores, VENDEDOR its own.
pub fn reaches(actor: &Actor, m: &MovementRow) -> bool {
    match actor.role {
        Role::Admin => actor.banca_id.is_none_or(|b| b == m.banca_id),
        Role::Banca => actor.assigned_bancas.contains(&m.banca_id),
        Role::Ventana => actor.ventana_id.is_some() && m.ventana_id == actor.ventana_id,
        Role::Vendedor => m.vendedor_id == Some(actor.user_id),
    }
}

async fn statement_for(
    conn: &mut PgConnection,
    m: &MovementRow,
) -> Result<Option<StatementRow>, sqlx::Error> {
    if let Some(id) = m.account_statement_id {
        if let Some(s) = db::statement(conn, id, false).await? {
            return Ok(Some(s));
        }
    }
    db::statement_of(conn, m.dimension(), m.entity(), m.date).await
}

/// The stored movement of a used idempotency key, if the caller may see it and it is the same
/// movement (amount, type, day); otherwise 409.
async fn replay(
    conn: &mut PgConnection,
    actor: &Actor,
    found: MovementRow,
    req: &CreateMovement,
) -> Result<MovementAnswer, SaleError> {
    if !reaches(actor, &found) {
        return Err(refuse(
            RefusalKind::Conflict,
            "IDEMPOTENCY_KEY_CONFLICT",
            "La clave de idempotencia ya fue usada",
        ));
    }
    if found.amount != req.amount || found.kind != req.kind || found.date != req.date {
        return Err(refuse(
            RefusalKind::Conflict,
            "IDEMPOTENCY_PAYLOAD_MISMATCH",
            "La clave de idempotencia ya se usó con otro movimiento distinto",
        ));
    }
    let statement = statement_for(conn, &found).await?;
    Ok(MovementAnswer {
        payment: found,
        statement,
        replayed: true,
    })
}

/// `POST /accounts/payment`: registers a movement and brings the statements up to date, in one
/// transaction. No settled-day check (as the existing system): a settled row is never
/// rewritten by the rebuild.
pub async fn create(
    pool: &PgPool,
    actor: &Actor,
    req: &CreateMovement,
    tz: Tz,
) -> Result<MovementAnswer, SaleError> {
    let mut tx = pool.begin().await?;
    if let Some(key) = &req.idempotency_key {
        if let Some(found) = db::find_by_key(&mut tx, key).await? {
            let answer = replay(&mut tx, actor, found, req).await;
            tx.rollback().await?;
            return answer;
        }
    }
    let target = resolve_target(&mut tx, actor, req).await?;
    statements::lock_banca(&mut tx, target.banca).await?;
    let paid_by_name = db::user_name(&mut tx, actor.user_id)
        .await?
        .unwrap_or_else(|| actor.username.clone());
    let inserted = db::insert(
        &mut tx,
        &NewMovement {
            date: req.date,
            time: req.time.as_deref().unwrap_or("00:00"),
            banca_id: target.banca,
            ventana_id: target.ventana,
            vendedor_id: target.vendedor,
            amount: req.amount,
            kind: req.kind,
            method: req.method,
            notes: req.notes.as_deref(),
            is_final: req.is_final,
            paid_by_id: actor.user_id,
            paid_by_name: &paid_by_name,
            idempotency_key: req.idempotency_key.as_deref(),
        },
    )
    .await?;
    let Some(id) = inserted else {
        // A twin request with the same key committed meanwhile: answer its movement.
        tx.rollback().await?;
        let mut conn = pool.acquire().await?;
        let key = req.idempotency_key.as_deref().unwrap_or_default();
        let found = db::find_by_key(&mut conn, key)
            .await?
            .ok_or_else(payment_not_found)?;
        return replay(&mut conn, actor, found, req).await;
    };
    statements::rebuild_from(&mut tx, target.banca, req.date).await?;
    db::link_statement(&mut tx, id).await?;
    close_past_months(&mut tx, target.banca, req.date, tz).await?;
    let payment = db::find(&mut tx, id, false)
        .await?
        .ok_or_else(payment_not_found)?;
    let statement = statement_for(&mut tx, &payment).await?;
    activity::record(
        &mut tx,
        actor,
        Some(target.banca),
        "ACCOUNT_PAYMENT_CREATE",
        "ACCOUNT_PAYMENT",
        id,
        json!({
            "paymentId": id,
            "date": req.date,
            "time": payment.time,
            "type": req.kind,
            "method": req.method,
            "amount": req.amount,
            "isFinal": req.is_final,
            "dimension": payment.dimension(),
            "bancaId": target.banca,
            "ventanaId": target.ventana,
            "vendedorId": target.vendedor,
            "accountStatementId": payment.account_statement_id,
            "remainingBalance": statement.as_ref().map(|s| s.remaining_balance),
            "description": format!(
                "{} de {} ({}) del {}",
                if req.kind == "payment" { "Pago" } else { "Cobro" },
                req.amount,
                payment.dimension(),
                req.date
            ),
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(MovementAnswer {
        payment,
        statement,
        replayed: false,
    })
}

/// `POST /accounts/reverse-payment`: marks the movement reversed (never deleted) and brings the
/// statements up to date. 404 when missing or out of reach, 400 when already reversed.
pub async fn reverse(
    pool: &PgPool,
    actor: &Actor,
    id: Uuid,
    reason: Option<&str>,
    tz: Tz,
) -> Result<MovementAnswer, SaleError> {
    if actor.role == Role::Vendedor {
        return Err(forbidden("Un vendedor no puede revertir movimientos"));
    }
    let mut tx = pool.begin().await?;
    let m = db::find(&mut tx, id, false)
        .await?
        .ok_or_else(payment_not_found)?;
    if !reaches(actor, &m) {
        return Err(payment_not_found());
    }
    statements::lock_banca(&mut tx, m.banca_id).await?;
    let m = db::find(&mut tx, id, true)
        .await?
        .ok_or_else(payment_not_found)?;
    if m.is_reversed {
        return Err(refuse(
            RefusalKind::Invalid,
            "PAYMENT_ALREADY_REVERSED",
            "El movimiento ya fue revertido",
        ));
    }
    db::mark_reversed(&mut tx, id, actor.user_id, reason).await?;
    statements::rebuild_from(&mut tx, m.banca_id, m.date).await?;
    db::link_statement(&mut tx, id).await?;
    // Decision: the closing of a past month follows a reversal too (the existing system only
    // recomputed it on creation, §5.8 [REF-DEFECT]).
    close_past_months(&mut tx, m.banca_id, m.date, tz).await?;
    let payment = db::find(&mut tx, id, false)
        .await?
        .ok_or_else(payment_not_found)?;
    let statement = statement_for(&mut tx, &payment).await?;
    activity::record(
        &mut tx,
        actor,
        Some(m.banca_id),
        "ACCOUNT_PAYMENT_REVERSE",
        "ACCOUNT_PAYMENT",
        id,
        json!({
            "paymentId": id,
            "date": m.date,
            "type": m.kind,
            "amount": m.amount,
            "reason": reason,
            "dimension": m.dimension(),
            "remainingBalance": statement.as_ref().map(|s| s.remaining_balance),
            "description": format!("Reversión de {} de {} del {}",
                if m.kind == "payment" { "pago" } else { "cobro" }, m.amount, m.date),
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(MovementAnswer {
        payment,
        statement,
        replayed: false,
    })
}

/// The history query (formats checked by the route).
#[derive(Debug, Clone)]
pub struct HistoryQuery {
    pub date: NaiveDate,
    pub ventana_id: Option<Uuid>,
    pub vendedor_id: Option<Uuid>,
    pub limit: i64,
    pub offset: i64,
}

/// `GET /accounts/payment-history`: movements of a day (reversed ones included), newest first.
/// VENDEDOR only its own; VENTANA its ventana's (and one of its vendedores); BANCA its active
/// banca; ADMIN its active banca or every banca.
pub async fn history(
    pool: &PgPool,
    actor: &Actor,
    q: &HistoryQuery,
) -> Result<(Vec<MovementRow>, i64), SaleError> {
    let mut conn = pool.acquire().await?;
    let mut f = HistoryFilter {
        date: Some(q.date),
        bancas: None,
        ventana_id: q.ventana_id,
        vendedor_id: q.vendedor_id,
    };
    match actor.role {
        Role::Vendedor => {
            if q.vendedor_id.is_some_and(|v| v != actor.user_id)
                || q.ventana_id.is_some_and(|v| Some(v) != actor.ventana_id)
            {
                return Err(forbidden("Solo puede ver sus propios movimientos"));
            }
            f.vendedor_id = Some(actor.user_id);
        }
        Role::Ventana => {
            let own = actor
                .ventana_id
                .ok_or_else(|| forbidden("Usuario sin ventana asignada"))?;
            if q.ventana_id.is_some_and(|v| v != own) {
                return Err(forbidden("Solo puede ver los movimientos de su ventana"));
            }
            if let Some(s) = q.vendedor_id {
                let t = db::vendedor(&mut conn, s).await?;
                if t.is_none_or(|t| t.ventana_id != Some(own)) {
                    return Err(forbidden("El vendedor no pertenece a su ventana"));
                }
            }
            f.ventana_id = Some(own);
        }
        Role::Banca => {
            let active = actor
                .banca_id
                .filter(|b| actor.assigned_bancas.contains(b))
                .ok_or_else(|| forbidden("No hay una banca activa"))?;
            f.bancas = Some(vec![active]);
        }
        Role::Admin => f.bancas = actor.banca_id.map(|b| vec![b]),
    }
    Ok(db::history(&mut conn, &f, q.limit, q.offset).await?)
}

/// `DELETE /accounts/statement/:id` (ADMIN): only a statement without tickets, without live
/// movements, without adjustments and not settled.
pub async fn delete_statement(
    pool: &PgPool,
    actor: &Actor,
    id: Uuid,
) -> Result<StatementRow, SaleError> {
    if !actor.is_admin() {
        return Err(forbidden(
            "Solo un administrador puede eliminar estados de cuenta",
        ));
    }
    let mut tx = pool.begin().await?;
    let s = db::statement(&mut tx, id, false)
        .await?
        .ok_or_else(statement_not_found)?;
    if actor.banca_id.is_some_and(|b| b != s.banca_id) {
        return Err(statement_not_found());
    }
    statements::lock_banca(&mut tx, s.banca_id).await?;
    let s = db::statement(&mut tx, id, true)
        .await?
        .ok_or_else(statement_not_found)?;
    if s.settled_at.is_some() {
        return Err(refuse(
            RefusalKind::Conflict,
            "STATEMENT_SETTLED",
            "El estado de cuenta está liquidado (cerrado) y no se puede eliminar",
        ));
    }
    if s.ticket_count > 0 {
        return Err(refuse(
            RefusalKind::Invalid,
            "STATEMENT_HAS_TICKETS",
            format!(
                "No se puede eliminar: el estado de cuenta tiene {} tiquete(s)",
                s.ticket_count
            ),
        ));
    }
    let live = db::live_movements_of(&mut tx, &s).await?;
    if live > 0 {
        return Err(refuse(
            RefusalKind::Invalid,
            "STATEMENT_HAS_MOVEMENTS",
            format!(
                "No se puede eliminar: el estado de cuenta tiene {live} movimiento(s) vigentes"
            ),
        ));
    }
    if !s.total_adjustments.is_zero() {
        return Err(refuse(
            RefusalKind::Invalid,
            "STATEMENT_HAS_ADJUSTMENTS",
            "No se puede eliminar: el estado de cuenta tiene ajustes de días liquidados",
        ));
    }
    db::delete_statement(&mut tx, id).await?;
    activity::record(
        &mut tx,
        actor,
        Some(s.banca_id),
        "ACCOUNT_STATEMENT_DELETE",
        "ACCOUNT_STATEMENT",
        id,
        json!({
            "statementId": id,
            "date": s.date,
            "dimension": s.dimension,
            "bancaId": s.banca_id,
            "ventanaId": s.ventana_id,
            "vendedorId": s.vendedor_id,
            "remainingBalance": s.remaining_balance,
            "description": format!("Eliminación del estado de cuenta vacío del {}", s.date),
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(s)
}

/// What a balance reset did.
#[derive(Debug, Clone)]
pub struct ResetAnswer {
    pub vendedor_id: Uuid,
    /// The stored instant (ISO, UTC), `None` after a revert.
    pub balance_reset_at: Option<String>,
    pub previous: Option<String>,
    /// The vendedor's statement of today after the rebuild.
    pub statement: Option<StatementRow>,
}

/// `POST /accounts/reset-balance` (ADMIN, or BANCA of the vendedor's banca): sets (or with
/// `revert` removes) `users.settings.balanceResetAt` = now, keeping the other settings, and
/// rebuilds the banca's statements from today (or from the earlier reset's day, which a new
/// reset or a revert changes too) in the same transaction.
pub async fn reset_balance(
    pool: &PgPool,
    actor: &Actor,
    vendedor_id: Uuid,
    revert: bool,
    tz: Tz,
) -> Result<ResetAnswer, SaleError> {
    if !actor.is(&[Role::Admin, Role::Banca]) {
        return Err(forbidden(
            "Solo un administrador o la banca pueden reiniciar el saldo de un vendedor",
        ));
    }
    let mut tx = pool.begin().await?;
    let t = vendedor_of(&mut tx, vendedor_id).await?;
    let banca = t.banca_id.unwrap_or_default();
    let reachable = match actor.role {
        Role::Admin => actor.banca_id.is_none_or(|b| b == banca),
        _ => actor.assigned_bancas.contains(&banca),
    };
    if !reachable {
        return Err(vendedor_not_found());
    }
    statements::lock_banca(&mut tx, banca).await?;
    // Re-read under the lock: a concurrent reset of the same vendedor has committed by now.
    let t = vendedor_of(&mut tx, vendedor_id).await?;
    let now = Utc::now();
    let today = business_today(now, tz);
    let previous_day = t
        .reset_at
        .as_deref()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|d| business_today(d.with_timezone(&Utc), tz));
    let stamp = (!revert).then(|| now.to_rfc3339_opts(SecondsFormat::Millis, true));
    db::set_balance_reset(&mut tx, vendedor_id, stamp.as_deref()).await?;
    let from = previous_day.map_or(today, |d| d.min(today));
    statements::rebuild_from(&mut tx, banca, from).await?;
    close_past_months(&mut tx, banca, from, tz).await?;
    let statement = db::statement_of(&mut tx, "vendedor", vendedor_id, today).await?;
    activity::record(
        &mut tx,
        actor,
        Some(banca),
        if revert {
            "ACCOUNT_BALANCE_RESET_REVERT"
        } else {
            "ACCOUNT_BALANCE_RESET"
        },
        "USER",
        vendedor_id,
        json!({
            "vendedorId": vendedor_id,
            "balanceResetAt": stamp,
            "previousBalanceResetAt": t.reset_at,
            "description": if revert {
                "Reversión del reinicio de saldo del vendedor"
            } else {
                "Reinicio de saldo del vendedor (borrón y cuenta nueva)"
            },
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(ResetAnswer {
        vendedor_id,
        balance_reset_at: stamp,
        previous: t.reset_at,
        statement,
    })
}
