//! The accounts jobs: statement settlement with carry-forward (domain-money §5.5, decision 11)
//! and the monthly closing snapshot (§5.8). Their schedules: the settlement configuration's cron
//! string (`/account-statements/auto-config`, only while `enabled`) and the 1st of each month
//! at 08:00 UTC (02:00 Costa Rica).

use anyhow::Context;
use chrono::{Datelike, NaiveDate};
use futures::future::{BoxFuture, FutureExt};
use serde_json::{json, Value};
use sqlx::PgPool;

use super::{JobCtx, Trigger};
use crate::db;
use crate::domain::rules::LocalNow;

/// Job names.
pub const SETTLEMENT: &str = "account_settlement";
pub const MONTHLY_CLOSING: &str = "monthly_closing";

/// 1st of the month, 08:00 UTC = 02:00 in Costa Rica.
pub const MONTHLY_CLOSING_CRON: &str = "0 8 1 * *";

/// Settlements per run never exceed this, whatever `batchSize` says (as the existing system).
const MAX_BATCH: i64 = 2000;

/// `account_settlement`: settles (closes for good) the unsettled statements older than
/// `settlementAgeDays` business days, oldest first, at most `min(batchSize, 2000)` per run;
/// statements of a banca whose rebuild is still pending from their day are left for the next
/// run. Then the carry-forward of the business day of `ctx.now`: every active banca, ventana
/// and vendedor without a statement that day gets a zero-activity one carrying its balance.
/// A scheduled run while the configuration is disabled does nothing.
pub fn settlement(ctx: JobCtx) -> BoxFuture<'static, anyhow::Result<Value>> {
    async move {
        let mut conn = ctx.pool.acquire().await?;
        let cfg = db::maintenance::settlement_config(&mut conn)
            .await
            .context("reading the settlement configuration")?;
        if ctx.trigger == Trigger::Schedule && !cfg.enabled {
            return Ok(json!({ "skipped": "disabled" }));
        }
        let today = LocalNow::at(ctx.now, ctx.settings.business_tz).date;
        let cutoff = today - chrono::Duration::days(i64::from(cfg.settlement_age_days));
        let mut budget = i64::from(cfg.batch_size).min(MAX_BATCH);
        drop(conn);
        let bancas = {
            let mut conn = ctx.pool.acquire().await?;
            db::statements::bancas_to_settle(&mut conn, cutoff).await?
        };
        let (mut settled, mut pending, mut created, mut present) = (0i64, 0i64, 0i64, 0i64);
        // One banca at a time under its statement lock: no rebuild of it is half-way while its
        // days are settled or carried forward.
        for banca in bancas {
            let mut tx = ctx.pool.begin().await?;
            db::statements::lock_banca(&mut tx, banca).await?;
            if budget > 0 {
                let (s, p) = db::statements::settle_before(
                    &mut tx,
                    banca,
                    cutoff,
                    budget,
                    ctx.now,
                    ctx.requested_by,
                )
                .await
                .context("settling statements")?;
                budget -= s;
                settled += s;
                pending += p;
            }
            let (c, p) = db::statements::carry_forward(&mut tx, banca, today)
                .await
                .context("carrying balances forward")?;
            created += c;
            present += p;
            tx.commit().await?;
        }
        Ok(json!({
            "success": true,
            "settledCount": settled,
            "skippedCount": pending,
            "errorCount": 0,
            "cutoffDate": cutoff,
            "executedAt": ctx.now,
            "carryForward": {
                "date": today,
                "createdCount": created,
                "skippedCount": present,
                "errorCount": 0,
            },
        }))
    }
    .boxed()
}

/// The month before the one `day` is in, as 'YYYY-MM'.
fn previous_month(day: NaiveDate) -> String {
    let (y, m) = if day.month() == 1 {
        (day.year() - 1, 12)
    } else {
        (day.year(), day.month() - 1)
    };
    format!("{y:04}-{m:02}")
}

/// A 'YYYY-MM' month.
fn valid_month(s: &str) -> bool {
    NaiveDate::parse_from_str(&format!("{s}-01"), "%Y-%m-%d").is_ok() && s.len() == 7
}

/// `monthly_closing`: snapshots a month (`params.month`, 'YYYY-MM'; default the business month
/// before `ctx.now`) into `monthly_closing_balances`, one row per entity with statements that
/// month; re-running rewrites the same rows.
pub fn monthly_closing(ctx: JobCtx) -> BoxFuture<'static, anyhow::Result<Value>> {
    async move {
        let month = match ctx.params.get("month") {
            None | Some(Value::Null) => {
                previous_month(LocalNow::at(ctx.now, ctx.settings.business_tz).date)
            }
            Some(Value::String(m)) if valid_month(m) => m.clone(),
            Some(other) => anyhow::bail!("month must be YYYY-MM, got {other}"),
        };
        let bancas = {
            let mut conn = ctx.pool.acquire().await?;
            db::statements::bancas_in_month(&mut conn, &month).await?
        };
        let mut rows = 0;
        // Per banca under its statement lock, so a movement re-closing the same month of the
        // banca cannot interleave.
        for banca in bancas {
            let mut tx = ctx.pool.begin().await?;
            db::statements::lock_banca(&mut tx, banca).await?;
            rows += db::statements::close_month(&mut tx, &month, ctx.now, Some(banca))
                .await
                .context("writing the monthly closing")?;
            tx.commit().await?;
        }
        Ok(json!({ "month": month, "closedCount": rows, "executedAt": ctx.now }))
    }
    .boxed()
}

/// The monthly closing's fixed schedule.
pub fn monthly_schedule(_pool: PgPool) -> BoxFuture<'static, anyhow::Result<Option<String>>> {
    async { Ok(Some(MONTHLY_CLOSING_CRON.to_string())) }.boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(previous_month(d("2026-01-01")), "2025-12");
        assert_eq!(previous_month(d("2026-11-25")), "2026-10");
        assert!(valid_month("2026-02"));
        assert!(!valid_month("2026-13"));
        assert!(!valid_month("2026-2"));
        assert!(!valid_month("26-02-01"));
    }
}
