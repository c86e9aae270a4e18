//! Scheduled jobs (issue 8, decision 8): an engine on PostgreSQL that runs each due time of each
//! job exactly once across any number of instances ([`engine`]), and the jobs themselves.
//!
//! A job is a [`JobDef`]: a name, where its cron schedule comes from (fixed, or a configuration
//! row the API edits), and an idempotent body that gets a [`JobCtx`] and reports what it did as
//! JSON (counts). Bodies take the time from `ctx.now` — never from the wall clock — so tests run
//! them on a fixed clock.

pub mod accounts;
pub mod engine;
pub mod maintenance;
pub mod registry;
pub mod sorteos_auto;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use futures::future::BoxFuture;
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

/// How a run was started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// Its schedule came due.
    Schedule,
    /// `POST …/execute` by a user.
    Manual,
    /// `banca jobs run <name>`.
    Cli,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Schedule => "schedule",
            Trigger::Manual => "manual",
            Trigger::Cli => "cli",
        }
    }
}

/// Settings the job bodies read (from the configuration).
#[derive(Debug, Clone)]
pub struct JobSettings {
    /// `BUSINESS_TIMEZONE`.
    pub business_tz: Tz,
    /// `ACTIVITY_LOG_RETENTION_DAYS` (default 45).
    pub activity_log_retention_days: u32,
}

/// What a job body gets.
#[derive(Debug, Clone)]
pub struct JobCtx {
    pub pool: PgPool,
    /// The time the job acts at: the due time of a scheduled run, the request time of a manual
    /// or CLI run (tests pass a fixed instant).
    pub now: DateTime<Utc>,
    pub trigger: Trigger,
    /// The user who asked for a manual run.
    pub requested_by: Option<Uuid>,
    /// Parameters of a manual run (e.g. `{"daysAhead": 2}`); `{}` otherwise.
    pub params: Value,
    pub settings: Arc<JobSettings>,
}

/// A job's body: does the work (idempotently) and reports counts.
pub type JobBody = fn(JobCtx) -> BoxFuture<'static, anyhow::Result<Value>>;

/// Where a job's schedule comes from: the effective 5-field cron string (UTC), or `None` when
/// the job is not scheduled now (disabled).
pub type ScheduleSource = fn(PgPool) -> BoxFuture<'static, anyhow::Result<Option<String>>>;

/// One job.
#[derive(Clone)]
pub struct JobDef {
    /// Stable name (`sorteos_auto_create`, …): the CLI's argument and the run rows' `job`.
    pub name: &'static str,
    /// One line for `banca jobs list`.
    pub description: &'static str,
    pub schedule: ScheduleSource,
    pub body: JobBody,
}

impl std::fmt::Debug for JobDef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobDef").field("name", &self.name).finish()
    }
}
