//! Entering a sorteo's result and undoing it (domain-money §1.5–1.6, decisions 3 and 9).
//!
//! Both run in one transaction that first locks the sorteo row `FOR UPDATE` (sales and ticket
//! cancels hold it `FOR KEY SHARE`, so an evaluation waits for the sales in flight and a second
//! evaluation waits and then finds it EVALUATED → 409), then touches tickets and jugadas with
//! set-based statements ([`crate::db::evaluation`]), and records its activity entry.
//!
//! - **evaluate** (OPEN → EVALUATED): winning NUMERO lines pay `round2(amount × finalMultiplierX)`,
//!   winning REVENTADO lines pay `round2(amount × extraX)` only when an extra multiplier was
//!   given; every live ticket becomes EVALUATED with `totalPayout = remainingAmount = Σ payouts`.
//! - **revert** (EVALUATED → OPEN): never deletes payments. With live (non-reversed) payments it
//!   is refused (`PRIZES_ALREADY_PAID`) unless an ADMIN forces it, which marks them reversed
//!   (who, when, why). Then prizes are cleared and tickets are ACTIVE again.
//!
//! In the same transaction an evaluation writes the sorteo's per-number daily sales and a
//! revert removes them; both queue a rebuild of the affected bancas' account statements, which
//! the statement refresher ([`crate::services::statements`]) carries out after the commit —
//! durably: the request is committed with the result or not at all.

use rust_decimal::Decimal;
use serde_json::json;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::db;
use crate::db::sorteos::{SorteoRow, SorteoStatus, SorteoView, TicketScope};
use crate::domain::authz::Actor;
use crate::domain::roles::Role;
use crate::services::activity;
use crate::services::loterias::can_write;
use crate::services::sorteos::{transition, Action, SorteoError};

#[derive(Debug, thiserror::Error)]
pub enum EvaluationError {
    #[error(transparent)]
    Sorteo(#[from] SorteoError),
    /// `winningNumber` is not exactly `digits` digits.
    #[error("winning number must be {digits} digits")]
    WinningNumber { digits: i16 },
    /// The extra multiplier fails a check of §1.5 step 3: `(code, issue)`.
    #[error("extra multiplier: {0}")]
    ExtraMultiplier(&'static str, &'static str),
    /// Prizes of the sorteo were paid (live payments); only an ADMIN's `force` reverts.
    #[error("prizes already paid ({count})")]
    PrizesAlreadyPaid { count: i64, amount: Decimal },
}

impl From<sqlx::Error> for EvaluationError {
    fn from(e: sqlx::Error) -> Self {
        EvaluationError::Sorteo(SorteoError::from(e))
    }
}

/// Input of `evaluate` (the body, checked for shape).
#[derive(Debug, Clone)]
pub struct EvaluateInput {
    pub winning_number: String,
    pub extra_multiplier_id: Option<Uuid>,
    pub extra_outcome_code: Option<String>,
}

/// Input of `revert`.
#[derive(Debug, Clone, Default)]
pub struct RevertInput {
    pub reason: Option<String>,
    pub force: bool,
}

/// The sorteo after a result change, with how many tickets won.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub view: SorteoView,
    pub winners_count: i64,
}

/// Locks a live sorteo the caller may change (ADMIN, or BANCA of its banca; others see 404).
async fn lock_writable(
    conn: &mut PgConnection,
    actor: &Actor,
    id: Uuid,
    action: Action,
) -> Result<SorteoRow, SorteoError> {
    let row = db::sorteos::lock(conn, id)
        .await?
        .filter(|s| can_write(actor, s.banca_id))
        .ok_or(SorteoError::NotFound)?;
    if row.deleted_at.is_some() {
        return Err(SorteoError::InvalidState {
            status: row.status,
            verb: match action {
                Action::Evaluate => "evaluar",
                _ => "revertir la evaluación de",
            },
            deleted: true,
        });
    }
    transition(row.status, action)?;
    Ok(row)
}

/// The view of sorteo `id` with the live tickets of the banca(s) in the writer's view.
async fn view(conn: &mut PgConnection, actor: &Actor, id: Uuid) -> Result<SorteoView, SorteoError> {
    let mut v = db::sorteos::find_view(conn, id)
        .await?
        .ok_or(SorteoError::NotFound)?;
    let scope = TicketScope {
        bancas: actor.list_scope(),
        ..TicketScope::default()
    };
    let counts = db::sorteos::ticket_counts(conn, &[id], &scope).await?;
    v.ticket_count = counts.get(&id).copied().unwrap_or(0);
    Ok(v)
}

/// `winningNumber` is canonical: exactly `digits` ASCII digits.
fn canonical(winning: &str, digits: i16) -> bool {
    usize::try_from(digits).is_ok_and(|d| winning.len() == d)
        && winning.bytes().all(|b| b.is_ascii_digit())
}

/// Evaluates OPEN sorteo `id` with `input` (domain-money §1.5).
pub async fn evaluate(
    pool: &PgPool,
    actor: &Actor,
    id: Uuid,
    input: EvaluateInput,
) -> Result<Outcome, EvaluationError> {
    let mut tx = pool.begin().await?;
    let row = lock_writable(&mut tx, actor, id, Action::Evaluate).await?;
    if !canonical(&input.winning_number, row.digits) {
        return Err(EvaluationError::WinningNumber { digits: row.digits });
    }
    let (extra_id, extra_x, extra_code) = match input.extra_multiplier_id {
        None => (None, Decimal::ZERO, None),
        Some(mid) => {
            let m = db::evaluation::find_multiplier(&mut tx, mid).await?.ok_or(
                EvaluationError::ExtraMultiplier(
                    "EXTRA_MULTIPLIER_NOT_FOUND",
                    "el multiplicador extra no existe",
                ),
            )?;
            if !m.is_active {
                return Err(EvaluationError::ExtraMultiplier(
                    "EXTRA_MULTIPLIER_INACTIVE",
                    "el multiplicador extra está inactivo",
                ));
            }
            if m.loteria_id != row.loteria_id {
                return Err(EvaluationError::ExtraMultiplier(
                    "EXTRA_MULTIPLIER_LOTERIA_MISMATCH",
                    "el multiplicador extra es de otra lotería",
                ));
            }
            if m.kind != "REVENTADO" {
                return Err(EvaluationError::ExtraMultiplier(
                    "EXTRA_MULTIPLIER_NOT_REVENTADO",
                    "el multiplicador extra debe ser de tipo REVENTADO",
                ));
            }
            if m.applies_to_sorteo_id.is_some_and(|s| s != id) {
                return Err(EvaluationError::ExtraMultiplier(
                    "EXTRA_MULTIPLIER_SORTEO_MISMATCH",
                    "el multiplicador extra es de otro sorteo",
                ));
            }
            let code = input.extra_outcome_code.clone().unwrap_or(m.name);
            (Some(m.id), m.value_x, Some(code))
        }
    };
    let done =
        db::evaluation::mark_winners(&mut tx, id, &input.winning_number, extra_id, extra_x).await?;
    let has_winner = db::evaluation::set_evaluated(
        &mut tx,
        id,
        &input.winning_number,
        extra_id,
        extra_x,
        extra_code.as_deref(),
    )
    .await?;
    let number_rows = db::statements::rebuild_number_sales(&mut tx, id).await?;
    db::statements::enqueue_sorteo(&mut tx, id, "SORTEO_EVALUATE").await?;
    db::rollups::rebuild_sorteo(&mut tx, id).await?;
    activity::record(
        &mut tx,
        actor,
        row.banca_id,
        "SORTEO_EVALUATE",
        "SORTEO",
        id,
        json!({
            "from": row.status,
            "to": SorteoStatus::Evaluated,
            "winningNumber": input.winning_number,
            "extraMultiplierId": extra_id,
            "extraMultiplierX": extra_x,
            "extraOutcomeCode": extra_code,
            "hasWinner": has_winner,
            "ticketsEvaluated": done.tickets,
            "winnersCount": done.winners,
            "winningJugadas": done.winning_jugadas,
            "totalPayout": done.total_payout,
            "numberSalesRows": number_rows,
        }),
    )
    .await?;
    let view = view(&mut tx, actor, id).await?;
    tx.commit().await?;
    Ok(Outcome {
        view,
        winners_count: done.winners,
    })
}

/// Reverts the evaluation of EVALUATED sorteo `id` (domain-money §1.6 with decision 9).
pub async fn revert(
    pool: &PgPool,
    actor: &Actor,
    id: Uuid,
    input: RevertInput,
) -> Result<Outcome, EvaluationError> {
    let mut tx = pool.begin().await?;
    let row = lock_writable(&mut tx, actor, id, Action::RevertEvaluation).await?;
    // Every payment writer holds the sorteo `FOR KEY SHARE` before it locks its ticket, so no
    // payment is in flight while this transaction holds the row `FOR UPDATE`.
    let (paid_count, paid_amount) = db::evaluation::live_payments(&mut tx, id).await?;
    let mut reversed: Vec<Uuid> = Vec::new();
    if paid_count > 0 {
        if !(input.force && actor.role == Role::Admin) {
            return Err(EvaluationError::PrizesAlreadyPaid {
                count: paid_count,
                amount: paid_amount,
            });
        }
        let why = format!(
            "Reversión forzada de la evaluación: {}",
            input.reason.as_deref().unwrap_or("sin motivo")
        );
        reversed = db::evaluation::reverse_payments(&mut tx, id, actor.user_id, &why).await?;
    }
    let done = db::evaluation::revert_tickets(&mut tx, id).await?;
    db::evaluation::set_reverted(&mut tx, id).await?;
    db::statements::drop_number_sales(&mut tx, id).await?;
    db::statements::enqueue_sorteo(&mut tx, id, "SORTEO_REVERT_EVALUATION").await?;
    db::rollups::rebuild_sorteo(&mut tx, id).await?;
    activity::record(
        &mut tx,
        actor,
        row.banca_id,
        "SORTEO_REVERT_EVALUATION",
        "SORTEO",
        id,
        json!({
            "from": row.status,
            "to": SorteoStatus::Open,
            "reason": input.reason,
            "forced": !reversed.is_empty(),
            "previousWinningNumber": row.winning_number,
            "previousExtraMultiplierId": row.extra_multiplier_id,
            "previousExtraOutcomeCode": row.extra_outcome_code,
            "ticketsReverted": done.tickets,
            "jugadasReverted": done.jugadas,
            "paymentsReversed": reversed,
            "amountReversed": if reversed.is_empty() { Decimal::ZERO } else { paid_amount },
        }),
    )
    .await?;
    let view = view(&mut tx, actor, id).await?;
    tx.commit().await?;
    Ok(Outcome {
        view,
        winners_count: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::canonical;

    #[test]
    fn winning_numbers_are_canonical() {
        assert!(canonical("07", 2));
        assert!(canonical("000", 3));
        assert!(!canonical("7", 2));
        assert!(!canonical("007", 2));
        assert!(!canonical(" 7", 2));
        assert!(!canonical("0a", 2));
        assert!(!canonical("٠٧", 2));
        assert!(!canonical("", 2));
    }
}
