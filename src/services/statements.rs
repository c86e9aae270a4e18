//! Account statements after a result changes (domain-money §5.2–5.3, issue 7).
//!
//! Evaluating or reverting a sorteo does not rebuild statements itself (a day's statements read
//! every ticket of the day, which an evaluation should not wait for). Instead its transaction
//! writes a row in `statement_refreshes` — the request is committed with the change or not at
//! all — and a **refresher** rebuilds the statements of that banca from that day on and deletes
//! the request in one transaction. A crash in between leaves the request, so the rebuild runs
//! again; a rebuild is a pure function of the tickets and movements, so running it twice is
//! harmless.
//!
//! Every instance runs a refresher ([`run`]); they never work on the same banca at once: a
//! request row is taken `FOR UPDATE SKIP LOCKED` and the banca's rebuilds are serialised by a
//! transaction-level advisory lock, so a rebuild always starts after the previous one committed
//! and reads everything committed before it. A request committed while a rebuild runs stays in
//! the queue and causes one more rebuild.

use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::db;

/// How often a refresher looks at the queue when nothing woke it.
pub const POLL_INTERVAL: Duration = Duration::from_secs(15);

/// What one [`drain`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Drained {
    /// Bancas whose statements were rebuilt.
    pub bancas: usize,
    /// Statement rows written.
    pub rows: u64,
    /// Bancas whose rebuild failed (their requests stay queued, attempts counted).
    pub failed: usize,
}

/// Rebuilds the statements of one banca from its earliest pending day, in one transaction.
/// `Ok(None)` when the requests were taken by another refresher meanwhile.
async fn rebuild_banca(pool: &PgPool, banca: Uuid) -> Result<Option<u64>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    db::statements::lock_banca(&mut tx, banca).await?;
    let (ids, from) = db::statements::claim(&mut tx, banca).await?;
    let Some(from) = from else {
        tx.commit().await?;
        return Ok(None);
    };
    let rows = db::statements::rebuild_from(&mut tx, banca, from).await?;
    db::statements::complete(&mut tx, &ids).await?;
    tx.commit().await?;
    Ok(Some(rows))
}

/// Works through every pending rebuild request, one banca at a time; a banca whose rebuild
/// fails is skipped until the next drain (its failure is recorded on its requests).
pub async fn drain(pool: &PgPool) -> Result<Drained, sqlx::Error> {
    let mut done = Drained::default();
    let mut tried: Vec<Uuid> = Vec::new();
    loop {
        // Find a banca with work, holding its oldest request only long enough to read it.
        let banca = {
            let mut tx = pool.begin().await?;
            let b = db::statements::next_pending(&mut tx, &tried).await?;
            tx.commit().await?;
            b
        };
        let Some(banca) = banca else {
            return Ok(done);
        };
        tried.push(banca);
        match rebuild_banca(pool, banca).await {
            Ok(Some(rows)) => {
                done.bancas += 1;
                done.rows += rows;
            }
            Ok(None) => {}
            Err(e) => {
                done.failed += 1;
                tracing::error!(banca = %banca, error = %e, "statement rebuild failed; will retry");
                let mut conn = pool.acquire().await?;
                db::statements::record_failure(&mut conn, banca, &e.to_string()).await?;
            }
        }
    }
}

/// The refresher: drains the queue when woken (after an evaluation or revert commits) and every
/// [`POLL_INTERVAL`], until `shutdown`. A drain in progress finishes its transaction first.
pub async fn run(pool: PgPool, wake: Arc<Notify>, shutdown: CancellationToken) {
    loop {
        match drain(&pool).await {
            Ok(d) if d.bancas > 0 || d.failed > 0 => {
                tracing::info!(
                    bancas = d.bancas,
                    rows = d.rows,
                    failed = d.failed,
                    "account statements rebuilt"
                );
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "statement refresher cannot reach the database"),
        }
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(POLL_INTERVAL) => {}
            _ = shutdown.cancelled() => return,
        }
    }
}
