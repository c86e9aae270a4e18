//! Database access: pools for the three connection roles, bootstrap of a local database,
//! migrations, and plain async query functions per aggregate.
//!
//! Build every statement with [`query`], [`query_as`] or [`query_scalar`] from this module, never
//! `sqlx::query*` directly (clippy enforces it): behind PgBouncer in transaction mode they send
//! unnamed statements, which the pooler tolerates; elsewhere named, cached ones.

pub mod activity;
pub mod bancas;
pub mod bootstrap;
pub mod cierres;
pub mod commissions;
pub mod dashboard;
pub mod evaluated_summary;
pub mod evaluation;
pub mod listas;
pub mod loterias;
pub mod maintenance;
pub mod migrate;
pub mod movements;
pub mod multipliers;
pub mod payments;
pub mod policies;
pub mod pools;
pub mod reports;
pub mod restrictions;
pub mod rollups;
pub mod sale;
pub mod sessions;
pub mod sorteos;
pub mod sorteos_auto;
pub mod statement_reads;
pub mod statements;
pub mod tickets;
pub mod users;
pub mod ventanas;
pub mod ventas;

use std::sync::atomic::{AtomicBool, Ordering};

use sqlx::postgres::{PgArguments, PgRow};
use sqlx::{FromRow, Postgres};

pub use pools::{Pools, ReadSource};

/// Whether statements may be named and cached: a property of the process's primary database
/// (a transaction-mode pooler forbids them), fixed when the pools are created.
static NAMED_STATEMENTS: AtomicBool = AtomicBool::new(true);

pub(crate) fn set_named_statements(named: bool) {
    NAMED_STATEMENTS.store(named, Ordering::Relaxed);
}

fn persistent() -> bool {
    NAMED_STATEMENTS.load(Ordering::Relaxed)
}

tokio::task_local! {
    /// Statements built while a [`counting`] future runs.
    static STATEMENTS: std::cell::Cell<u32>;
}

/// Runs `f` and counts the statements it builds through [`query`], [`query_as`] and
/// [`query_scalar`] (each is executed once): the dashboard's `meta.totalQueries`. Statements
/// of tasks `f` spawns are not counted.
pub async fn counting<F: std::future::Future>(f: F) -> (F::Output, u32) {
    STATEMENTS
        .scope(std::cell::Cell::new(0), async move {
            let out = f.await;
            (out, STATEMENTS.with(std::cell::Cell::get))
        })
        .await
}

fn counted() {
    let _ = STATEMENTS.try_with(|c| c.set(c.get() + 1));
}

/// A statement, prepared as the connection mode allows.
#[expect(
    clippy::disallowed_methods,
    reason = "the one place that builds statements"
)]
pub fn query(sql: &str) -> sqlx::query::Query<'_, Postgres, PgArguments> {
    counted();
    sqlx::query(sql).persistent(persistent())
}

/// A statement whose rows map to `T`.
#[expect(
    clippy::disallowed_methods,
    reason = "the one place that builds statements"
)]
pub fn query_as<'q, T>(sql: &'q str) -> sqlx::query::QueryAs<'q, Postgres, T, PgArguments>
where
    T: for<'r> FromRow<'r, PgRow>,
{
    counted();
    sqlx::query_as(sql).persistent(persistent())
}

/// A statement returning one column.
#[expect(
    clippy::disallowed_methods,
    reason = "the one place that builds statements"
)]
pub fn query_scalar<'q, T>(sql: &'q str) -> sqlx::query::QueryScalar<'q, Postgres, T, PgArguments>
where
    (T,): for<'r> FromRow<'r, PgRow>,
{
    counted();
    sqlx::query_scalar(sql).persistent(persistent())
}
