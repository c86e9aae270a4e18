//! The sorteo jobs (domain-money §2.2–2.5): auto-create, auto-open, auto-close.
//!
//! - **auto-create** (`sorteos_auto_create`): for each live lotería with draw times whose
//!   `rulesJson.autoCreateSorteos` is not `false`, the draws of `daysAhead` business days (1 for
//!   scheduled runs, `params.daysAhead` for manual ones) — from today when the lotería has no
//!   active sorteo from today on, else from the day after its last one when that is closer than
//!   `daysAhead − 1` days, else nothing. Occurrences and names come from the lotería seed
//!   (`domain::schedule::occurrences`, `"<lotería> <h:mm AM/PM>"`), the insert is the seed's
//!   (`db::sorteos::seed`: SCHEDULED, the lotería's banca and digits, an instant that has a
//!   sorteo — live or deleted — is skipped, `ON CONFLICT DO NOTHING` settles races).
//! - **auto-open** (`sorteos_auto_open`): SCHEDULED, active, not deleted sorteos of the
//!   business day of `now` → OPEN, through the transition matrix, audited `SORTEO_OPEN`.
//! - **auto-close** (`sorteos_auto_close`): SCHEDULED or OPEN, active, not deleted sorteos
//!   whose time is ≥ 5 minutes before `now` and that have no ticket at all → CLOSED. OPEN ones
//!   take the manual close path (matrix, `isSorteoClosed`, audited `SORTEO_CLOSE`); SCHEDULED
//!   ones are set CLOSED directly, without an entry per sorteo, as the reference does.
//!
//! Every sorteo is handled in its own transaction holding its row lock, and its conditions are
//! checked again under the lock (a sale holds the row `FOR KEY SHARE`, so no ticket slips in
//! between the check and the close). Running a job twice with the same `now` changes no
//! sorteo the second time. Each run records one activity entry `SYSTEM_ACTION` on
//! `CRON_JOB/<job>` with its counts.
//!
//! A manual run may carry `params.bancaId`: it then acts on that banca's sorteos and loterías
//! only (a BANCA user's run; ADMIN runs act on every banca, as the scheduled runs do).

use chrono::{DateTime, Duration, NaiveDate, Utc};
use futures::future::BoxFuture;
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

use crate::db;
use crate::db::activity::NewActivity;
use crate::db::sorteos::SorteoStatus;
use crate::db::sorteos_auto::{AutoConfigRow, Candidate};
use crate::domain::rules_json::LoteriaRules;
use crate::domain::schedule;
use crate::jobs::{JobCtx, Trigger};
use crate::services::sorteos::{transition, Action};

pub const CREATE_JOB: &str = "sorteos_auto_create";
pub const OPEN_JOB: &str = "sorteos_auto_open";
pub const CLOSE_JOB: &str = "sorteos_auto_close";

/// Default schedules (UTC) when the configuration stores none.
pub const DEFAULT_CREATE_CRON: &str = "0 7 * * *";
pub const DEFAULT_OPEN_CRON: &str = "30 7 * * *";
pub const DEFAULT_CLOSE_CRON: &str = "0 4 * * *";

/// Draws generated per lotería and run at most (the reference's limit).
const MAX_OCCURRENCES: usize = 1000;
/// `daysAhead` of manual runs.
pub const DAYS_AHEAD: std::ops::RangeInclusive<u32> = 1..=30;
/// A draw is closed this long after its time at the earliest.
const CLOSE_GRACE_MINUTES: i64 = 5;

/// The three jobs, for the config and status routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SorteoJob {
    Create,
    Open,
    Close,
}

impl SorteoJob {
    pub const ALL: [SorteoJob; 3] = [SorteoJob::Open, SorteoJob::Create, SorteoJob::Close];

    pub fn name(self) -> &'static str {
        match self {
            SorteoJob::Create => CREATE_JOB,
            SorteoJob::Open => OPEN_JOB,
            SorteoJob::Close => CLOSE_JOB,
        }
    }

    pub fn default_cron(self) -> &'static str {
        match self {
            SorteoJob::Create => DEFAULT_CREATE_CRON,
            SorteoJob::Open => DEFAULT_OPEN_CRON,
            SorteoJob::Close => DEFAULT_CLOSE_CRON,
        }
    }

    /// The key of its count in the run's outcome.
    pub fn count_key(self) -> &'static str {
        match self {
            SorteoJob::Create => "createdCount",
            SorteoJob::Open => "openedCount",
            SorteoJob::Close => "closedCount",
        }
    }

    pub fn enabled(self, c: &AutoConfigRow) -> bool {
        match self {
            SorteoJob::Create => c.auto_create_enabled,
            SorteoJob::Open => c.auto_open_enabled,
            SorteoJob::Close => c.auto_close_enabled,
        }
    }

    /// The stored cron string (`None`: the default).
    pub fn stored_cron(self, c: &AutoConfigRow) -> Option<&str> {
        match self {
            SorteoJob::Create => c.create_cron_schedule.as_deref(),
            SorteoJob::Open => c.open_cron_schedule.as_deref(),
            SorteoJob::Close => c.close_cron_schedule.as_deref(),
        }
    }

    /// The cron string the engine schedules with.
    pub fn effective_cron(self, c: &AutoConfigRow) -> String {
        self.stored_cron(c)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .unwrap_or(self.default_cron())
            .to_string()
    }
}

// ---------------------------------------------------------------------------------------------
// Schedule sources.

async fn schedule_of(pool: PgPool, job: SorteoJob) -> anyhow::Result<Option<String>> {
    let mut conn = pool.acquire().await?;
    let config = db::sorteos_auto::get(&mut conn).await?;
    Ok(job.enabled(&config).then(|| job.effective_cron(&config)))
}

/// The schedule of auto-create: `None` while `autoCreateEnabled` is off.
pub fn create_schedule(pool: PgPool) -> BoxFuture<'static, anyhow::Result<Option<String>>> {
    Box::pin(schedule_of(pool, SorteoJob::Create))
}

/// The schedule of auto-open: `None` while `autoOpenEnabled` is off.
pub fn open_schedule(pool: PgPool) -> BoxFuture<'static, anyhow::Result<Option<String>>> {
    Box::pin(schedule_of(pool, SorteoJob::Open))
}

/// The schedule of auto-close: `None` while `autoCloseEnabled` is off.
pub fn close_schedule(pool: PgPool) -> BoxFuture<'static, anyhow::Result<Option<String>>> {
    Box::pin(schedule_of(pool, SorteoJob::Close))
}

// ---------------------------------------------------------------------------------------------
// Bodies.

/// Auto-create (§2.2).
pub fn auto_create(ctx: JobCtx) -> BoxFuture<'static, anyhow::Result<Value>> {
    Box::pin(run_create(ctx))
}

/// Auto-open (§2.3).
pub fn auto_open(ctx: JobCtx) -> BoxFuture<'static, anyhow::Result<Value>> {
    Box::pin(run_open(ctx))
}

/// Auto-close (§2.4).
pub fn auto_close(ctx: JobCtx) -> BoxFuture<'static, anyhow::Result<Value>> {
    Box::pin(run_close(ctx))
}

/// Whether a scheduled run must do nothing because its flag is off.
async fn disabled(ctx: &JobCtx, job: SorteoJob) -> anyhow::Result<bool> {
    if ctx.trigger != Trigger::Schedule {
        return Ok(false);
    }
    let mut conn = ctx.pool.acquire().await?;
    Ok(!job.enabled(&db::sorteos_auto::get(&mut conn).await?))
}

/// `params.bancaId` of a manual run.
fn banca_scope(ctx: &JobCtx) -> anyhow::Result<Option<Uuid>> {
    match ctx.params.get("bancaId") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(Uuid::parse_str(s)?)),
        Some(other) => anyhow::bail!("bancaId must be a uuid, got {other}"),
    }
}

/// `params.daysAhead` (1..=30), default 1.
fn days_ahead(ctx: &JobCtx) -> anyhow::Result<u32> {
    match ctx.params.get("daysAhead") {
        None | Some(Value::Null) => Ok(1),
        Some(v) => v
            .as_u64()
            .and_then(|d| u32::try_from(d).ok())
            .filter(|d| DAYS_AHEAD.contains(d))
            .ok_or_else(|| anyhow::anyhow!("daysAhead must be an integer within 1..=30, got {v}")),
    }
}

fn status_of(errors: &[Value], done: usize) -> &'static str {
    match (errors.is_empty(), done) {
        (true, _) => "success",
        (false, 0) => "error",
        (false, _) => "partial",
    }
}

/// Records the run's `SYSTEM_ACTION` entry on `CRON_JOB/<job>`.
async fn record_run(
    ctx: &JobCtx,
    job: SorteoJob,
    banca: Option<Uuid>,
    details: Value,
) -> anyhow::Result<()> {
    let mut conn = ctx.pool.acquire().await?;
    db::activity::insert(
        &mut conn,
        &NewActivity {
            user_id: ctx.requested_by,
            banca_id: banca,
            action: "SYSTEM_ACTION",
            target_type: Some("CRON_JOB"),
            target_id: Some(job.name().to_string()),
            details,
            request_id: crate::http::middleware::current_request_id(),
        },
    )
    .await?;
    Ok(())
}

/// One entry per sorteo transition, authored by the user of a manual run (none otherwise).
async fn record_sorteo(
    conn: &mut sqlx::PgConnection,
    ctx: &JobCtx,
    job: SorteoJob,
    sorteo: &db::sorteos::SorteoRow,
    action: &str,
    mut details: Value,
) -> Result<(), sqlx::Error> {
    details["source"] = json!(job.name());
    details["trigger"] = json!(ctx.trigger.as_str());
    db::activity::insert(
        conn,
        &NewActivity {
            user_id: ctx.requested_by,
            banca_id: sorteo.banca_id,
            action,
            target_type: Some("SORTEO"),
            target_id: Some(sorteo.id.to_string()),
            details,
            request_id: crate::http::middleware::current_request_id(),
        },
    )
    .await
    .map(|_| ())
}

/// Where auto-create starts for a lotería and how many days it covers, or `None` when the
/// lotería already has its sorteos far enough ahead. `last` is the latest active sorteo
/// scheduled from the start of `today` on.
pub fn create_window(
    today: NaiveDate,
    last: Option<NaiveDate>,
    days_ahead: u32,
) -> Option<NaiveDate> {
    let Some(last) = last else {
        return Some(today);
    };
    let min_days_ahead = i64::from(days_ahead.saturating_sub(1));
    let days_until_last = (last - today).num_days();
    if days_until_last < min_days_ahead {
        last.succ_opt()
    } else {
        None
    }
}

async fn run_create(ctx: JobCtx) -> anyhow::Result<Value> {
    let job = SorteoJob::Create;
    if disabled(&ctx, job).await? {
        return Ok(json!({ "skipped": "disabled" }));
    }
    let banca = banca_scope(&ctx)?;
    let days = if ctx.trigger == Trigger::Schedule {
        1
    } else {
        days_ahead(&ctx)?
    };
    let tz = ctx.settings.business_tz;
    let today = schedule::local_date(ctx.now, tz);
    let today_start = schedule::day_start(today, tz);
    let mut conn = ctx.pool.acquire().await?;
    let loterias = db::sorteos_auto::live_loterias(&mut conn, banca).await?;
    let (mut created, mut skipped) = (0usize, 0usize);
    let mut loterias_done = 0usize;
    let mut errors: Vec<Value> = Vec::new();
    for l in &loterias {
        let rules = match LoteriaRules::parse(&l.rules_json) {
            Ok(r) => r,
            Err(issues) => {
                tracing::warn!(loteria = %l.id, issues = issues.len(), "auto-create: stored rulesJson invalid");
                errors.push(json!({
                    "loteriaId": l.id,
                    "error": "Las reglas guardadas de la lotería no son válidas",
                }));
                continue;
            }
        };
        let blocks = rules.schedules();
        if blocks.iter().all(|b| b.times.is_empty()) || rules.auto_create_sorteos == Some(false) {
            continue;
        }
        let step = async {
            let last = db::sorteos_auto::latest_sorteo_from(&mut conn, l.id, today_start).await?;
            let Some(start) = create_window(today, last.map(|t| schedule::local_date(t, tz)), days)
            else {
                return Ok::<_, sqlx::Error>((0, 0));
            };
            let items: Vec<(DateTime<Utc>, String)> =
                schedule::occurrences(&l.name, blocks, start, days, tz, MAX_OCCURRENCES)
                    .into_iter()
                    .map(|o| (o.scheduled_at, o.name))
                    .collect();
            if items.is_empty() {
                return Ok((0, 0));
            }
            let made =
                db::sorteos::seed(&mut conn, l.id, l.banca_id, i16::from(rules.digits), &items)
                    .await?;
            Ok((made.len(), items.len() - made.len()))
        };
        match step.await {
            Ok((c, s)) => {
                created += c;
                skipped += s;
                loterias_done += 1;
            }
            Err(e) => {
                tracing::warn!(loteria = %l.id, error = %e, "auto-create: lotería failed");
                errors.push(json!({
                    "loteriaId": l.id,
                    "error": "No se pudieron crear los sorteos de la lotería",
                }));
            }
        }
    }
    drop(conn);
    let status = status_of(&errors, loterias_done);
    record_run(
        &ctx,
        job,
        banca,
        json!({
            "status": status,
            "affectedRows": created,
            "skipped": skipped,
            "errorsCount": errors.len(),
            "daysAhead": days,
            "trigger": ctx.trigger.as_str(),
            "bancaId": banca,
            "executedAt": ctx.now,
        }),
    )
    .await?;
    Ok(json!({
        "success": true,
        "status": status,
        "createdCount": created,
        "skippedCount": skipped,
        "daysAhead": days,
        "errors": errors,
        "executedAt": ctx.now,
    }))
}

/// What happened to one candidate.
enum Outcome {
    Done,
    /// Its conditions no longer hold (another run or a user got there first).
    Gone,
}

async fn open_one(
    ctx: &JobCtx,
    c: Candidate,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Outcome, anyhow::Error> {
    let mut tx = ctx.pool.begin().await?;
    let Some(row) = db::sorteos::lock(&mut tx, c.id).await? else {
        return Ok(Outcome::Gone);
    };
    if row.deleted_at.is_some()
        || row.status != SorteoStatus::Scheduled
        || !row.is_active
        || row.scheduled_at < from
        || row.scheduled_at >= to
    {
        return Ok(Outcome::Gone);
    }
    let to_status = transition(row.status, Action::Open)?;
    db::sorteos::set_state(&mut tx, row.id, to_status, true).await?;
    record_sorteo(
        &mut tx,
        ctx,
        SorteoJob::Open,
        &row,
        "SORTEO_OPEN",
        json!({ "action": Action::Open.as_str(), "from": row.status, "to": to_status }),
    )
    .await?;
    tx.commit().await?;
    Ok(Outcome::Done)
}

async fn run_open(ctx: JobCtx) -> anyhow::Result<Value> {
    let job = SorteoJob::Open;
    if disabled(&ctx, job).await? {
        return Ok(json!({ "skipped": "disabled" }));
    }
    let banca = banca_scope(&ctx)?;
    let tz = ctx.settings.business_tz;
    let today = schedule::local_date(ctx.now, tz);
    let (from, to) = schedule::day_range_instants(Some(today), Some(today), tz);
    let (from, to) = (
        from.unwrap_or(ctx.now),
        to.unwrap_or(ctx.now + Duration::days(1)),
    );
    let candidates = {
        let mut conn = ctx.pool.acquire().await?;
        db::sorteos_auto::open_candidates(&mut conn, from, to, banca).await?
    };
    let mut opened = 0usize;
    let mut errors: Vec<Value> = Vec::new();
    for c in candidates {
        match open_one(&ctx, c, from, to).await {
            Ok(Outcome::Done) => opened += 1,
            Ok(Outcome::Gone) => {}
            Err(e) => {
                tracing::warn!(sorteo = %c.id, error = %e, "auto-open: sorteo failed");
                errors.push(json!({
                    "sorteoId": c.id,
                    "error": "No se pudo abrir el sorteo",
                }));
            }
        }
    }
    let status = status_of(&errors, opened);
    record_run(
        &ctx,
        job,
        banca,
        json!({
            "status": status,
            "affectedRows": opened,
            "errorsCount": errors.len(),
            "trigger": ctx.trigger.as_str(),
            "bancaId": banca,
            "executedAt": ctx.now,
        }),
    )
    .await?;
    Ok(json!({
        "success": true,
        "status": status,
        "openedCount": opened,
        "errors": errors,
        "executedAt": ctx.now,
    }))
}

async fn close_one(
    ctx: &JobCtx,
    c: Candidate,
    until: DateTime<Utc>,
) -> Result<Outcome, anyhow::Error> {
    let mut tx = ctx.pool.begin().await?;
    let Some(row) = db::sorteos::lock(&mut tx, c.id).await? else {
        return Ok(Outcome::Gone);
    };
    if row.deleted_at.is_some()
        || !matches!(row.status, SorteoStatus::Scheduled | SorteoStatus::Open)
        || !row.is_active
        || row.scheduled_at > until
        || db::sorteos_auto::has_tickets(&mut tx, row.id).await?
    {
        return Ok(Outcome::Gone);
    }
    if row.status == SorteoStatus::Scheduled {
        // The reference updates SCHEDULED draws directly, without an entry per sorteo (the
        // matrix has no SCHEDULED → CLOSED action).
        db::sorteos::set_state(&mut tx, row.id, SorteoStatus::Closed, row.is_active).await?;
    } else {
        let to_status = transition(row.status, Action::Close)?;
        let closed = db::sorteos::mark_tickets_closed(&mut tx, row.id, true).await?;
        db::sorteos::set_state(&mut tx, row.id, to_status, row.is_active).await?;
        record_sorteo(
            &mut tx,
            ctx,
            SorteoJob::Close,
            &row,
            "SORTEO_CLOSE",
            json!({
                "action": Action::Close.as_str(),
                "from": row.status,
                "to": to_status,
                "ticketsClosed": closed,
            }),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(Outcome::Done)
}

async fn run_close(ctx: JobCtx) -> anyhow::Result<Value> {
    let job = SorteoJob::Close;
    if disabled(&ctx, job).await? {
        return Ok(json!({ "skipped": "disabled" }));
    }
    let banca = banca_scope(&ctx)?;
    let until = ctx.now - Duration::minutes(CLOSE_GRACE_MINUTES);
    let candidates = {
        let mut conn = ctx.pool.acquire().await?;
        db::sorteos_auto::close_candidates(&mut conn, until, banca).await?
    };
    let mut closed = 0usize;
    let mut errors: Vec<Value> = Vec::new();
    for c in candidates {
        match close_one(&ctx, c, until).await {
            Ok(Outcome::Done) => closed += 1,
            Ok(Outcome::Gone) => {}
            Err(e) => {
                tracing::warn!(sorteo = %c.id, error = %e, "auto-close: sorteo failed");
                errors.push(json!({
                    "sorteoId": c.id,
                    "error": "No se pudo cerrar el sorteo",
                }));
            }
        }
    }
    let status = status_of(&errors, closed);
    record_run(
        &ctx,
        job,
        banca,
        json!({
            "status": status,
            "affectedRows": closed,
            "errorsCount": errors.len(),
            "trigger": ctx.trigger.as_str(),
            "bancaId": banca,
            "executedAt": ctx.now,
        }),
    )
    .await?;
    Ok(json!({
        "success": true,
        "status": status,
        "closedCount": closed,
        "errors": errors,
        "executedAt": ctx.now,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn the_create_window_follows_the_reference() {
        let today = d("2026-03-02");
        // Nothing from today on: start today.
        assert_eq!(create_window(today, None, 1), Some(today));
        assert_eq!(create_window(today, None, 3), Some(today));
        // daysAhead = 1 only creates when nothing exists from today on.
        assert_eq!(create_window(today, Some(today), 1), None);
        assert_eq!(create_window(today, Some(d("2026-03-05")), 1), None);
        // daysAhead = 3: the last is today (0 < 2) → from tomorrow; the day after → 1 < 2.
        assert_eq!(create_window(today, Some(today), 3), Some(d("2026-03-03")));
        assert_eq!(
            create_window(today, Some(d("2026-03-03")), 3),
            Some(d("2026-03-04"))
        );
        // Two days ahead already: enough.
        assert_eq!(create_window(today, Some(d("2026-03-04")), 3), None);
    }

    #[test]
    fn effective_schedules_fall_back_to_the_defaults() {
        let mut c = AutoConfigRow {
            auto_open_enabled: true,
            auto_create_enabled: false,
            auto_close_enabled: false,
            open_cron_schedule: None,
            create_cron_schedule: Some("15 6 * * *".into()),
            close_cron_schedule: Some("  ".into()),
            updated_by: None,
            updated_by_username: None,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        };
        assert_eq!(SorteoJob::Open.effective_cron(&c), "30 7 * * *");
        assert_eq!(SorteoJob::Create.effective_cron(&c), "15 6 * * *");
        assert_eq!(SorteoJob::Close.effective_cron(&c), "0 4 * * *");
        c.open_cron_schedule = Some("0 8 * * 1-5".into());
        assert_eq!(SorteoJob::Open.effective_cron(&c), "0 8 * * 1-5");
    }
}
