//! Every job Banca runs, with where its schedule comes from.

use super::JobDef;

/// The registered jobs: the sorteo jobs (schedules and flags from `sorteos_auto_config`) and
/// the housekeeping ones (fixed schedules), settlement (its configuration's schedule) and the
/// monthly closing.
pub fn all() -> Vec<JobDef> {
    use super::sorteos_auto as s;
    let mut jobs = vec![
        JobDef {
            name: "sorteos_auto_create",
            description: "create the coming days' sorteos from the loterías' draw schedules",
            schedule: s::create_schedule,
            body: s::auto_create,
        },
        JobDef {
            name: "sorteos_auto_open",
            description: "open today's SCHEDULED sorteos",
            schedule: s::open_schedule,
            body: s::auto_open,
        },
        JobDef {
            name: "sorteos_auto_close",
            description: "close past sorteos that sold nothing",
            schedule: s::close_schedule,
            body: s::auto_close,
        },
    ];
    jobs.extend(super::maintenance::defs());
    jobs.push(JobDef {
        name: super::accounts::SETTLEMENT,
        description: "settle old statements and carry balances forward to today",
        schedule: super::maintenance::settlement_schedule,
        body: super::accounts::settlement,
    });
    jobs.push(JobDef {
        name: super::accounts::MONTHLY_CLOSING,
        description: "snapshot the previous month's statements per entity",
        schedule: super::accounts::monthly_schedule,
        body: super::accounts::monthly_closing,
    });
    jobs
}

/// One line per job for `banca jobs list`: name, schedule (UTC) or `off`, last run, next due.
pub async fn describe(
    runner: &super::engine::Runner,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<Vec<String>> {
    let pool = runner.pool();
    let mut lines = Vec::new();
    for def in runner.jobs() {
        let schedule = (def.schedule)(pool.clone()).await?;
        let last = super::engine::last_runs(pool, def.name, 1).await?;
        let last = match last.first() {
            None => "never run".to_string(),
            Some(r) => format!(
                "last {} {} ({})",
                r.status,
                r.started_at.format("%Y-%m-%d %H:%M:%SZ"),
                r.trigger
            ),
        };
        let (sched, next) = match &schedule {
            None => ("off".to_string(), "-".to_string()),
            Some(c) => (
                c.clone(),
                super::engine::next_due(c, now)
                    .map(|d| format!("next {}", d.format("%Y-%m-%d %H:%M:%SZ")))
                    .unwrap_or_else(|| "invalid schedule".into()),
            ),
        };
        lines.push(format!(
            "{:<26} {:<16} {:<44} {}  — {}",
            def.name, sched, last, next, def.description
        ));
    }
    Ok(lines)
}
