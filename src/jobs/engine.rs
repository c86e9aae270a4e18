//! The job engine: each due time of each job runs exactly once across any number of instances
//! (decision 8), with the run rows in PostgreSQL as the only coordination.
//!
//! - **Claim**: every `JOBS_TICK_MS` an instance computes, per job, the latest due time of its
//!   cron schedule (UTC) at or before now, and inserts `(job, due_at)` into `job_runs`. The
//!   unique key lets exactly one instance win; the others' inserts do nothing. A due time missed
//!   while every instance was down is the latest one when an instance starts, so it runs then,
//!   once (older missed ones are not replayed).
//! - **One at a time**: a partial unique index allows one `running` row per job, so a manual
//!   run (`POST …/execute`, `banca jobs run`) and a scheduled run never overlap: the second one
//!   gets `JOB_ALREADY_RUNNING`, a scheduled claim simply waits for the next tick.
//! - **Lease**: the holder renews `lease_until` every third of `JOBS_LEASE_SECONDS`. If it dies,
//!   another instance takes the run over once the lease has passed (`attempts` + 1) and runs the
//!   body again; bodies are idempotent and transactional, so the side effects exist once. A
//!   holder that cannot renew its lease stops its body before the lease ends.
//! - **Shutdown**: an instance stops claiming, lets running bodies finish within the drain time,
//!   and releases the lease of any still running so another instance takes it at once.
//! - **Record**: every run leaves its row: start, end, status, the body's counts or its error.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use sqlx::PgPool;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::{JobCtx, JobDef, JobSettings, Trigger};
use crate::db::{query, query_as, query_scalar};

/// One row of `job_runs`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RunRow {
    pub id: i64,
    pub job: String,
    pub due_at: DateTime<Utc>,
    pub trigger: String,
    pub status: String,
    pub instance: String,
    pub attempts: i32,
    pub requested_by: Option<Uuid>,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub outcome: Option<Value>,
    pub error: Option<String>,
}

/// Why a run asked for now did not happen (or failed).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A run of the job is in progress (on this or another instance).
    #[error("the job is already running")]
    AlreadyRunning,
    #[error("unknown job")]
    UnknownJob,
    /// The body failed; its run row says why.
    #[error("the job failed: {0}")]
    Failed(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// A finished run.
#[derive(Debug, Clone)]
pub struct RunReport {
    pub run_id: i64,
    pub job: String,
    pub status: String,
    pub outcome: Value,
    pub error: Option<String>,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
}

/// A name for this process in the run rows: host, pid and a random suffix.
pub fn instance_id() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|h| h.trim().to_string())
        })
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".into());
    let suffix = Uuid::new_v4().simple().to_string();
    format!("{host}-{}-{}", std::process::id(), &suffix[..6])
}

/// The latest due time of `cron` at or before `now`; `None` for a pattern that never matched.
pub fn latest_due(cron: &str, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, String> {
    use chrono::SubsecRound;
    let c = croner::Cron::from_str(cron).map_err(|e| e.to_string())?;
    // Due times are whole seconds (croner keeps the fraction of an inclusive match).
    Ok(c.find_previous_occurrence(&now.trunc_subsecs(0), true)
        .ok()
        .map(|d| d.trunc_subsecs(0)))
}

/// The next due time of `cron` after `now`.
pub fn next_due(cron: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    croner::Cron::from_str(cron)
        .ok()?
        .find_next_occurrence(&now, false)
        .ok()
}

/// A run this instance holds.
#[derive(Debug, Clone, sqlx::FromRow)]
struct Claimed {
    id: i64,
    job: String,
    due_at: DateTime<Utc>,
    trigger: String,
    requested_by: Option<Uuid>,
    params: Value,
    started_at: DateTime<Utc>,
}

impl Claimed {
    fn trigger(&self) -> Trigger {
        match self.trigger.as_str() {
            "manual" => Trigger::Manual,
            "cli" => Trigger::Cli,
            _ => Trigger::Schedule,
        }
    }
}

/// Aborts the task when dropped.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Everything a run needs, shared by the scheduled loop and the run-now paths.
#[derive(Clone)]
pub struct Runner {
    pool: PgPool,
    jobs: Arc<Vec<JobDef>>,
    settings: Arc<JobSettings>,
    instance: Arc<str>,
    lease: Duration,
}

impl Runner {
    pub fn new(
        pool: PgPool,
        jobs: Vec<JobDef>,
        settings: JobSettings,
        instance: String,
        lease: Duration,
    ) -> Runner {
        Runner {
            pool,
            jobs: Arc::new(jobs),
            settings: Arc::new(settings),
            instance: instance.into(),
            lease,
        }
    }

    /// The runner of an application state: every registered job, this process's instance id.
    pub fn from_state(state: &crate::app::AppState) -> Runner {
        Runner {
            pool: state.pools.primary().clone(),
            jobs: Arc::new(super::registry::all()),
            settings: Arc::new(JobSettings {
                business_tz: state.config.business_timezone,
                activity_log_retention_days: state.config.activity_log_retention_days,
            }),
            instance: state.instance.clone(),
            lease: state.config.jobs_lease,
        }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub fn jobs(&self) -> &[JobDef] {
        &self.jobs
    }

    pub fn instance(&self) -> &str {
        &self.instance
    }

    fn job(&self, name: &str) -> Option<&JobDef> {
        self.jobs.iter().find(|j| j.name == name)
    }

    fn lease_secs(&self) -> f64 {
        self.lease.as_secs_f64()
    }

    /// Inserts a running row for `(job, due_at)`; `None` when the due time already has a row
    /// or another run of the job is in progress.
    async fn claim(
        &self,
        job: &str,
        due_at: DateTime<Utc>,
        trigger: Trigger,
        requested_by: Option<Uuid>,
        params: &Value,
    ) -> Result<Option<Claimed>, sqlx::Error> {
        query_as(
            "INSERT INTO job_runs (job, due_at, trigger, status, instance, lease_until,
                                   requested_by, params)
             VALUES ($1, $2, $3, 'running', $4, now() + make_interval(secs => $5), $6, $7)
             ON CONFLICT DO NOTHING
             RETURNING id, job, due_at, trigger, requested_by, params, started_at",
        )
        .bind(job)
        .bind(due_at)
        .bind(trigger.as_str())
        .bind(&*self.instance)
        .bind(self.lease_secs())
        .bind(requested_by)
        .bind(params)
        .fetch_optional(&self.pool)
        .await
    }

    /// Takes over one run whose holder stopped renewing its lease.
    async fn take_over(&self) -> Result<Option<Claimed>, sqlx::Error> {
        let names: Vec<&str> = self.jobs.iter().map(|j| j.name).collect();
        query_as(
            "UPDATE job_runs r SET instance = $1, lease_until = now() + make_interval(secs => $2),
                 attempts = r.attempts + 1
             WHERE r.id = (SELECT id FROM job_runs
                           WHERE status = 'running' AND lease_until < now() AND job = ANY($3)
                           ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
               AND r.status = 'running' AND r.lease_until < now()
             RETURNING r.id, r.job, r.due_at, r.trigger, r.requested_by, r.params, r.started_at",
        )
        .bind(&*self.instance)
        .bind(self.lease_secs())
        .bind(&names)
        .fetch_optional(&self.pool)
        .await
    }

    /// Renews the lease of run `id`; false when this instance no longer holds it.
    async fn renew(&self, id: i64) -> Result<bool, sqlx::Error> {
        query(
            "UPDATE job_runs SET lease_until = now() + make_interval(secs => $3)
             WHERE id = $1 AND instance = $2 AND status = 'running'",
        )
        .bind(id)
        .bind(&*self.instance)
        .bind(self.lease_secs())
        .execute(&self.pool)
        .await
        .map(|r| r.rows_affected() == 1)
    }

    /// Records the end of run `id` (if this instance still holds it).
    async fn finish(
        &self,
        id: i64,
        result: &Result<Value, String>,
    ) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
        let (status, outcome, error) = match result {
            Ok(v) => ("succeeded", Some(v.clone()), None),
            Err(e) => ("failed", None, Some(e.clone())),
        };
        query_scalar(
            "UPDATE job_runs SET status = $3, finished_at = clock_timestamp(), outcome = $4,
                 error = $5
             WHERE id = $1 AND instance = $2 AND status = 'running'
             RETURNING finished_at",
        )
        .bind(id)
        .bind(&*self.instance)
        .bind(status)
        .bind(outcome)
        .bind(error)
        .fetch_optional(&self.pool)
        .await
    }

    /// Releases the runs `ids` this instance's scheduling loop still holds (shutdown): another
    /// instance takes them over at its next tick. Runs asked for through the API or the CLI are
    /// not released: their caller is still waiting for them.
    async fn release(&self, ids: &[i64]) -> Result<u64, sqlx::Error> {
        query(
            "UPDATE job_runs SET lease_until = now()
             WHERE id = ANY($2) AND instance = $1 AND status = 'running'",
        )
        .bind(&*self.instance)
        .bind(ids)
        .execute(&self.pool)
        .await
        .map(|r| r.rows_affected())
    }

    /// Marks failed the runs of `job` started by a user (API or CLI) whose instance stopped
    /// renewing their lease: nobody waits for them any more, and they would keep the job
    /// "running" for ever when no scheduling loop runs to take them over.
    async fn fail_abandoned_manual(&self, job: &str) -> Result<u64, sqlx::Error> {
        query(
            "UPDATE job_runs SET status = 'failed', finished_at = clock_timestamp(),
                 error = 'abandoned: its instance stopped before it finished'
             WHERE job = $1 AND status = 'running' AND trigger <> 'schedule'
               AND lease_until < now()",
        )
        .bind(job)
        .execute(&self.pool)
        .await
        .map(|r| r.rows_affected())
    }

    /// Runs a claimed run's body, renewing the lease meanwhile, and records how it ended.
    /// A body that panics is a failed run; a body whose lease cannot be renewed is stopped.
    async fn execute(&self, claimed: Claimed) -> Result<RunReport, RunError> {
        let Some(def) = self.job(&claimed.job).cloned() else {
            return Err(RunError::UnknownJob);
        };
        let ctx = JobCtx {
            pool: self.pool.clone(),
            now: claimed.due_at,
            trigger: claimed.trigger(),
            requested_by: claimed.requested_by,
            params: claimed.params.clone(),
            settings: self.settings.clone(),
        };
        tracing::info!(job = def.name, run = claimed.id, trigger = %claimed.trigger, "job run started");
        let started = std::time::Instant::now();
        // If this future is dropped (the instance stops), the body stops with it.
        let mut body = AbortOnDrop(tokio::spawn((def.body)(ctx)));
        let renew_every = (self.lease / 3).max(Duration::from_millis(200));
        let mut renewed = std::time::Instant::now();
        let result: Result<Value, String> = loop {
            tokio::select! {
                joined = &mut body.0 => {
                    break match joined {
                        Ok(Ok(v)) => Ok(v),
                        Ok(Err(e)) => Err(format!("{e:#}")),
                        Err(e) if e.is_panic() => Err("the job panicked".to_string()),
                        Err(_) => Err("the job was cancelled".to_string()),
                    };
                }
                _ = tokio::time::sleep(renew_every) => {
                    let renewal = tokio::time::timeout(renew_every, self.renew(claimed.id)).await;
                    match renewal {
                        Ok(Ok(true)) => renewed = std::time::Instant::now(),
                        Ok(Ok(false)) => {
                            body.0.abort();
                            crate::observability::metrics::job_run(def.name, "lease_lost", started.elapsed());
                            tracing::warn!(job = def.name, run = claimed.id,
                                "job run lost its lease; stopped here (another instance runs it)");
                            return Err(RunError::Failed("lease lost".into()));
                        }
                        Ok(Err(_)) | Err(_) => {
                            tracing::warn!(job = def.name, run = claimed.id,
                                "cannot renew the job lease");
                            // Before the lease can run out, stop: another instance may take the
                            // run over, and the body must never run twice at once.
                            if renewed.elapsed() + renew_every >= self.lease {
                                body.0.abort();
                                crate::observability::metrics::job_run(def.name, "lease_lost", started.elapsed());
                                tracing::error!(job = def.name, run = claimed.id,
                                    "job run stopped: its lease could not be renewed");
                                return Err(RunError::Failed("lease could not be renewed".into()));
                            }
                        }
                    }
                }
            }
        };
        let finished_at = self.finish(claimed.id, &result).await?;
        let outcome = if result.is_ok() {
            "succeeded"
        } else {
            "failed"
        };
        crate::observability::metrics::job_run(def.name, outcome, started.elapsed());
        match &result {
            Ok(v) => {
                tracing::info!(job = def.name, run = claimed.id, outcome = %v, "job run succeeded")
            }
            Err(e) => {
                tracing::error!(job = def.name, run = claimed.id, error = %e, "job run failed")
            }
        }
        Ok(RunReport {
            run_id: claimed.id,
            job: claimed.job,
            status: if result.is_ok() {
                "succeeded"
            } else {
                "failed"
            }
            .into(),
            outcome: result.clone().unwrap_or(Value::Null),
            error: result.err(),
            started_at: claimed.started_at,
            finished_at: finished_at.unwrap_or_else(Utc::now),
        })
    }

    /// Runs `job` now through the same claim as a scheduled run: `AlreadyRunning` when a run of
    /// it is in progress anywhere. Waits for the end and reports it.
    pub async fn run_now(
        &self,
        job: &str,
        trigger: Trigger,
        requested_by: Option<Uuid>,
        params: Value,
    ) -> Result<RunReport, RunError> {
        let def = self.job(job).ok_or(RunError::UnknownJob)?;
        self.fail_abandoned_manual(def.name).await?;
        let now: DateTime<Utc> = query_scalar("SELECT clock_timestamp()")
            .fetch_one(&self.pool)
            .await?;
        let claimed = self
            .claim(def.name, now, trigger, requested_by, &params)
            .await?
            .ok_or(RunError::AlreadyRunning)?;
        let report = self.execute(claimed).await?;
        match &report.error {
            Some(e) => Err(RunError::Failed(e.clone())),
            None => Ok(report),
        }
    }

    /// One scheduling pass: takes over abandoned runs and claims due ones, starting their bodies
    /// in `running`. `claimed_due` remembers the due times already settled per job so an idle
    /// pass costs one schedule read per job.
    async fn tick(
        &self,
        running: &mut JoinSet<()>,
        held: &mut Vec<i64>,
        settled: &mut HashMap<&'static str, DateTime<Utc>>,
        bad_cron: &mut HashMap<&'static str, String>,
    ) -> Result<(), sqlx::Error> {
        while let Some(c) = self.take_over().await? {
            held.push(c.id);
            tracing::warn!(job = %c.job, run = c.id, "taking over a job run whose instance stopped");
            let me = self.clone();
            running.spawn(async move {
                let _ = me.execute(c).await;
            });
        }
        let now = Utc::now();
        for def in self.jobs.iter() {
            let cron = match (def.schedule)(self.pool.clone()).await {
                Ok(Some(c)) => c,
                Ok(None) => continue,
                Err(e) => {
                    tracing::warn!(job = def.name, error = %e, "cannot read the job's schedule");
                    continue;
                }
            };
            let due = match latest_due(&cron, now) {
                Ok(Some(d)) => d,
                Ok(None) => continue,
                Err(e) => {
                    if bad_cron.get(def.name) != Some(&cron) {
                        tracing::error!(job = def.name, cron = %cron, error = %e,
                            "invalid cron schedule; the job does not run until it is fixed");
                        bad_cron.insert(def.name, cron);
                    }
                    continue;
                }
            };
            if settled.get(def.name) == Some(&due) {
                continue;
            }
            match self
                .claim(def.name, due, Trigger::Schedule, None, &json!({}))
                .await?
            {
                Some(c) => {
                    settled.insert(def.name, due);
                    held.push(c.id);
                    let me = self.clone();
                    running.spawn(async move {
                        let _ = me.execute(c).await;
                    });
                }
                None => {
                    // Either the due time has its row (another instance claimed it) or another
                    // run of the job is in progress (try again next tick).
                    let exists: bool = query_scalar(
                        "SELECT EXISTS (SELECT 1 FROM job_runs WHERE job = $1 AND due_at = $2)",
                    )
                    .bind(def.name)
                    .bind(due)
                    .fetch_one(&self.pool)
                    .await?;
                    if exists {
                        settled.insert(def.name, due);
                    }
                }
            }
        }
        Ok(())
    }

    /// The scheduling loop: a pass every `tick` until `stop`; then waits up to `drain` for the
    /// running bodies and releases the runs still going.
    pub async fn run_loop(self, tick: Duration, stop: CancellationToken, drain: Duration) {
        let mut running: JoinSet<()> = JoinSet::new();
        let mut settled: HashMap<&'static str, DateTime<Utc>> = HashMap::new();
        let mut bad_cron: HashMap<&'static str, String> = HashMap::new();
        let mut held: Vec<i64> = Vec::new();
        tracing::info!(instance = %self.instance, jobs = self.jobs.len(), "job engine started");
        loop {
            if running.is_empty() {
                held.clear();
            }
            if let Err(e) = self
                .tick(&mut running, &mut held, &mut settled, &mut bad_cron)
                .await
            {
                tracing::warn!(error = %e, "job engine cannot reach the database; retrying");
            }
            while running.try_join_next().is_some() {}
            tokio::select! {
                _ = tokio::time::sleep(tick) => {}
                _ = stop.cancelled() => break,
            }
        }
        if !running.is_empty() {
            tracing::info!(
                running = running.len(),
                "job engine stopping: waiting for running jobs"
            );
            let waited = tokio::time::timeout(drain, async {
                while running.join_next().await.is_some() {}
            })
            .await;
            if waited.is_err() {
                running.abort_all();
                match self.release(&held).await {
                    Ok(n) => tracing::warn!(released = n, "job runs released for another instance"),
                    Err(e) => {
                        tracing::error!(error = %e, "cannot release job runs; they are taken over after their lease")
                    }
                }
            }
        }
        tracing::info!(instance = %self.instance, "job engine stopped");
    }
}

/// Runs `job` now for the API (`POST …/execute`), through the same claim as scheduled runs.
pub async fn run_now(
    state: &crate::app::AppState,
    job: &str,
    trigger: Trigger,
    requested_by: Option<Uuid>,
    params: Value,
) -> Result<RunReport, RunError> {
    Runner::from_state(state)
        .run_now(job, trigger, requested_by, params)
        .await
}

/// The latest runs of `job`, newest first.
pub async fn last_runs(pool: &PgPool, job: &str, limit: i64) -> Result<Vec<RunRow>, sqlx::Error> {
    query_as(
        "SELECT id, job, due_at, trigger, status, instance, attempts, requested_by, started_at,
                finished_at, outcome, error
         FROM job_runs WHERE job = $1 ORDER BY started_at DESC, id DESC LIMIT $2",
    )
    .bind(job)
    .bind(limit)
    .fetch_all(pool)
    .await
}

impl From<RunError> for crate::http::error::ApiError {
    fn from(e: RunError) -> Self {
        use crate::http::error::ApiError;
        use axum::http::StatusCode;
        match e {
            RunError::AlreadyRunning => ApiError::new(
                StatusCode::CONFLICT,
                "JOB_ALREADY_RUNNING",
                "El trabajo ya está en ejecución",
            ),
            RunError::UnknownJob => ApiError::new(
                StatusCode::NOT_FOUND,
                "JOB_NOT_FOUND",
                "Trabajo no encontrado",
            ),
            RunError::Failed(_) => ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "JOB_FAILED",
                "El trabajo falló; el detalle quedó registrado en su ejecución",
            ),
            RunError::Database(e) => ApiError::from(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn latest_due_is_at_or_before_now_in_utc() {
        let now = Utc.with_ymd_and_hms(2026, 11, 25, 7, 0, 0).unwrap();
        assert_eq!(latest_due("0 7 * * *", now).unwrap(), Some(now));
        let later = now + chrono::Duration::minutes(5);
        assert_eq!(latest_due("0 7 * * *", later).unwrap(), Some(now));
        let before = now - chrono::Duration::seconds(1);
        assert_eq!(
            latest_due("0 7 * * *", before).unwrap(),
            Some(now - chrono::Duration::days(1))
        );
        assert_eq!(
            latest_due("* * * * * *", now + chrono::Duration::milliseconds(1500)).unwrap(),
            Some(now + chrono::Duration::seconds(1))
        );
        assert!(latest_due("not a cron", now).is_err());
        assert_eq!(
            next_due("30 7 * * *", now),
            Some(now + chrono::Duration::minutes(30))
        );
    }
}
