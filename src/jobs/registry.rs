//! Every job Banca runs, with where its schedule comes from.

use super::JobDef;

/// The registered jobs.
pub fn all() -> Vec<JobDef> {
    Vec::new()
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
