//! Scenario e: evaluating a sorteo with many jugadas (issue 7: "evaluating 100,000 jugadas
//! takes well under a second").
//!
//! It seeds a fresh OPEN sorteo with `--eval-jugadas` jugadas in set-based SQL (see
//! [`super::seed::seed_eval_jugadas`]), then, over HTTP as the bench's ADMIN, times
//! `PATCH /sorteos/:id/evaluate`, `PATCH /sorteos/:id/revert-evaluation` and the evaluation
//! again, and checks in SQL that what the evaluation wrote equals an independent
//! recomputation from the jugadas.

use std::time::Instant;

use anyhow::Context;
use reqwest::header::AUTHORIZATION;
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

use super::seed::{self, Catalog};
use super::step;

/// The winning number of scenario e. With the seed's number pattern it is hit by NUMERO lines
/// and, on every 100th ticket, by a REVENTADO line.
pub const WINNING_NUMBER: &str = "57";

/// What the sorteo looks like in SQL after an evaluation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct EvalFigures {
    /// Live tickets now EVALUATED.
    pub tickets_evaluated: i64,
    /// Live tickets marked winner.
    pub winning_tickets: i64,
    /// Jugadas marked winner.
    pub winning_jugadas: i64,
    /// Σ `tickets.total_payout` of the sorteo.
    pub payout_tickets: Decimal,
    /// Σ `jugadas.payout` of its winning jugadas.
    pub payout_jugadas: Decimal,
    /// Independent recomputation from the jugadas: tickets, jugadas and Σ payout expected.
    pub expected_winning_tickets: i64,
    pub expected_winning_jugadas: i64,
    pub payout_recomputed: Decimal,
    /// Live tickets whose `total_payout` differs from the recomputed sum of their lines, whose
    /// `remaining_amount` differs from it, or whose winner flag is wrong.
    pub ticket_mismatches: i64,
}

impl EvalFigures {
    fn consistent(&self, live_tickets: i64) -> bool {
        self.payout_tickets == self.payout_jugadas
            && self.payout_jugadas == self.payout_recomputed
            && self.winning_jugadas == self.expected_winning_jugadas
            && self.winning_tickets == self.expected_winning_tickets
            && self.ticket_mismatches == 0
            && self.tickets_evaluated == live_tickets
    }
}

/// Scenario e's figures and verdict.
#[derive(Debug, Clone, Serialize)]
pub struct EvalResult {
    pub sorteo_id: Uuid,
    pub sorteo_name: String,
    /// `--eval-jugadas`.
    pub jugadas_requested: u32,
    pub tickets: i64,
    pub jugadas: i64,
    pub reventado_jugadas: i64,
    pub counter_rows: i64,
    /// Writing the tickets, jugadas and counters, then VACUUM ANALYZE.
    pub seed_ms: f64,
    pub winning_number: String,
    pub extra_multiplier_id: Uuid,
    pub extra_multiplier_x: Decimal,
    /// Wall time of each HTTP request as the client saw it (loopback).
    pub evaluate_ms: f64,
    pub revert_ms: f64,
    pub reevaluate_ms: f64,
    /// `winnersCount` of the two evaluate answers.
    pub winners_count_first: i64,
    pub winners_count_again: i64,
    /// After the first evaluation, and after the re-evaluation (the one verified).
    pub first: EvalFigures,
    pub again: EvalFigures,
    /// After the revert: tickets not back to ACTIVE without prize, jugadas still carrying a
    /// prize or an evaluation's REVENTADO multiplier, and the sorteo's status.
    pub revert_leftover_tickets: i64,
    pub revert_leftover_jugadas: i64,
    pub status_after_revert: String,
    pub pass: bool,
    pub failures: Vec<String>,
}

impl EvalResult {
    /// Jugadas evaluated per second by the first evaluation.
    pub fn jugadas_per_second(&self) -> f64 {
        self.jugadas as f64 / (self.evaluate_ms / 1000.0).max(1e-9)
    }
}

/// PATCHes `url` with `body` as `auth`; returns the wall time in ms and the answer.
async fn patch(
    client: &reqwest::Client,
    url: &str,
    auth: &str,
    body: serde_json::Value,
) -> anyhow::Result<(f64, serde_json::Value)> {
    let started = Instant::now();
    let r = client
        .patch(url)
        .header(AUTHORIZATION, auth)
        .json(&body)
        .send()
        .await
        .with_context(|| format!("PATCH {url}"))?;
    let status = r.status();
    let bytes = r.bytes().await?;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    if !status.is_success() {
        anyhow::bail!(
            "PATCH {url} answered {status}: {}",
            String::from_utf8_lossy(&bytes)
        );
    }
    let v: serde_json::Value =
        serde_json::from_slice(&bytes).with_context(|| format!("PATCH {url}: not JSON"))?;
    Ok((ms, v))
}

fn winners_count(v: &serde_json::Value) -> i64 {
    v.pointer("/data/winnersCount")
        .and_then(serde_json::Value::as_i64)
        .unwrap_or(-1)
}

/// The sorteo after an evaluation, with the independent recomputation.
async fn figures(
    pool: &PgPool,
    sorteo: Uuid,
    winning: &str,
    extra_x: Decimal,
) -> anyhow::Result<EvalFigures> {
    let f = crate::db::query_as(
        "WITH live AS ( \
             SELECT t.id, t.status, t.is_winner, t.total_payout, t.remaining_amount \
             FROM tickets t WHERE t.sorteo_id = $1 AND t.deleted_at IS NULL \
               AND t.status NOT IN ('CANCELLED', 'EXCLUDED')), \
         expect AS ( \
             SELECT j.ticket_id, \
                    CASE WHEN j.type = 'NUMERO' THEN round(j.amount * j.final_multiplier_x, 2) \
                         ELSE round(j.amount * $3, 2) END AS payout \
             FROM jugadas j JOIN live t ON t.id = j.ticket_id \
             WHERE j.sorteo_id = $1 AND j.is_active AND NOT j.is_excluded \
               AND j.deleted_at IS NULL \
               AND ((j.type = 'NUMERO' AND j.number = $2) \
                    OR ($3 > 0 AND j.type = 'REVENTADO' AND j.reventado_number = $2))), \
         per AS (SELECT ticket_id, sum(payout) AS payout FROM expect GROUP BY ticket_id) \
         SELECT \
             (SELECT count(*) FROM live WHERE status = 'EVALUATED') AS tickets_evaluated, \
             (SELECT count(*) FROM live WHERE is_winner) AS winning_tickets, \
             (SELECT count(*) FROM jugadas WHERE sorteo_id = $1 AND is_winner) AS winning_jugadas, \
             (SELECT coalesce(sum(total_payout), 0) FROM tickets \
              WHERE sorteo_id = $1 AND deleted_at IS NULL)::numeric AS payout_tickets, \
             (SELECT coalesce(sum(payout), 0) FROM jugadas \
              WHERE sorteo_id = $1 AND is_winner)::numeric AS payout_jugadas, \
             (SELECT count(*) FROM per) AS expected_winning_tickets, \
             (SELECT count(*) FROM expect) AS expected_winning_jugadas, \
             (SELECT coalesce(sum(payout), 0) FROM expect)::numeric AS payout_recomputed, \
             (SELECT count(*) FROM live t LEFT JOIN per ON per.ticket_id = t.id \
              WHERE t.total_payout <> coalesce(per.payout, 0) \
                 OR t.remaining_amount <> t.total_payout \
                 OR t.is_winner <> (per.ticket_id IS NOT NULL)) AS ticket_mismatches",
    )
    .bind(sorteo)
    .bind(winning)
    .bind(extra_x)
    .fetch_one(pool)
    .await?;
    Ok(f)
}

/// Runs scenario e against the running server at `base` (the `index`-th run of it).
pub async fn run(
    pool: &PgPool,
    client: &reqwest::Client,
    base: &str,
    catalog: &Catalog,
    tz: &str,
    jugadas: u32,
    index: u32,
) -> anyhow::Result<EvalResult> {
    let seed_started = Instant::now();
    let (extra_id, extra_x) = seed::seed_eval_catalog(pool, catalog).await?;
    let sorteo_name = if index == 0 {
        "BENCH E".to_string()
    } else {
        format!("BENCH E{}", index + 1)
    };
    let sorteo = seed::seed_eval_sorteo(pool, catalog, &sorteo_name, index).await?;
    let planned_tickets = jugadas.div_ceil(seed::EVAL_LINES_PER_TICKET);
    step(format!(
        "  e: inserting {planned_tickets} tickets / {jugadas} jugadas on OPEN sorteo {sorteo_name} \
         (INSERT … SELECT FROM generate_series)"
    ));
    let t = Instant::now();
    let (tickets, written, reventados) =
        seed::seed_eval_jugadas(pool, catalog, sorteo, tz, jugadas).await?;
    eprintln!(
        "    {tickets} tickets, {written} jugadas ({reventados} REVENTADO) in {} ms",
        t.elapsed().as_millis()
    );
    if written != i64::from(jugadas) {
        anyhow::bail!("scenario e: {written} jugadas written, {jugadas} asked");
    }
    step("  e: writing their sale_counters rows, VACUUM ANALYZE tickets, jugadas");
    let t = Instant::now();
    let counter_rows = seed::seed_eval_counters(pool, sorteo).await?;
    crate::db::query("VACUUM (ANALYZE) tickets, jugadas, sale_counters")
        .execute(pool)
        .await?;
    eprintln!(
        "    {counter_rows} counter rows, vacuumed in {} ms",
        t.elapsed().as_millis()
    );
    let seed_ms = seed_started.elapsed().as_secs_f64() * 1000.0;

    step(format!("  e: logging in {}", seed::ADMIN_USERNAME));
    let admin = super::load::login_all(client, base, &[seed::ADMIN_USERNAME.to_string()])
        .await?
        .pop()
        .context("no admin token")?;

    let evaluate_url = format!("{base}/api/v1/sorteos/{sorteo}/evaluate");
    let revert_url = format!("{base}/api/v1/sorteos/{sorteo}/revert-evaluation");
    let body = serde_json::json!({
        "winningNumber": WINNING_NUMBER,
        "extraMultiplierId": extra_id,
    });

    step(format!(
        "  e: PATCH evaluate (winning \"{WINNING_NUMBER}\", REVENTADO {}x)",
        extra_x.normalize()
    ));
    let (evaluate_ms, answer) = patch(client, &evaluate_url, &admin, body.clone()).await?;
    let winners_count_first = winners_count(&answer);
    let first = figures(pool, sorteo, WINNING_NUMBER, extra_x).await?;
    eprintln!(
        "    {evaluate_ms:.0} ms: {} winning tickets, {} winning jugadas, payout {}",
        winners_count_first, first.winning_jugadas, first.payout_tickets
    );

    step("  e: PATCH revert-evaluation {}");
    let (revert_ms, _) = patch(client, &revert_url, &admin, serde_json::json!({})).await?;
    let (revert_leftover_tickets, revert_leftover_jugadas, status_after_revert): (
        i64,
        i64,
        String,
    ) = crate::db::query_as(
        "SELECT \
             (SELECT count(*) FROM tickets WHERE sorteo_id = $1 AND deleted_at IS NULL \
              AND (status <> 'ACTIVE' OR is_winner OR total_payout <> 0 \
                   OR remaining_amount <> 0)), \
             (SELECT count(*) FROM jugadas WHERE sorteo_id = $1 \
              AND (is_winner OR payout IS NOT NULL \
                   OR (type = 'REVENTADO' AND (final_multiplier_x <> 0 \
                                               OR multiplier_id IS NOT NULL)))), \
             (SELECT status::text FROM sorteos WHERE id = $1)",
    )
    .bind(sorteo)
    .fetch_one(pool)
    .await?;
    eprintln!("    {revert_ms:.0} ms: sorteo {status_after_revert}");

    step("  e: PATCH evaluate again");
    let (reevaluate_ms, answer) = patch(client, &evaluate_url, &admin, body).await?;
    let winners_count_again = winners_count(&answer);
    let again = figures(pool, sorteo, WINNING_NUMBER, extra_x).await?;
    eprintln!(
        "    {reevaluate_ms:.0} ms: {} winning tickets, {} winning jugadas, payout {}",
        winners_count_again, again.winning_jugadas, again.payout_tickets
    );

    let mut failures = Vec::new();
    if !again.consistent(tickets) {
        failures.push(format!(
            "scenario e: after re-evaluation Σ tickets.total_payout {} / Σ jugadas.payout {} / \
             recomputed {}; winning jugadas {} (expected {}), winning tickets {} (expected {}), \
             {} tickets inconsistent, {} of {tickets} EVALUATED",
            again.payout_tickets,
            again.payout_jugadas,
            again.payout_recomputed,
            again.winning_jugadas,
            again.expected_winning_jugadas,
            again.winning_tickets,
            again.expected_winning_tickets,
            again.ticket_mismatches,
            again.tickets_evaluated
        ));
    }
    if !first.consistent(tickets) {
        failures.push(format!(
            "scenario e: the first evaluation is inconsistent: Σ tickets {} / Σ jugadas {} / \
             recomputed {}",
            first.payout_tickets, first.payout_jugadas, first.payout_recomputed
        ));
    }
    if first != again {
        failures.push(
            "scenario e: evaluate → revert → evaluate differs from the first evaluation".into(),
        );
    }
    if winners_count_first != again.winning_tickets || winners_count_again != again.winning_tickets
    {
        failures.push(format!(
            "scenario e: winnersCount answered {winners_count_first} / {winners_count_again}, \
             {} winning tickets in SQL",
            again.winning_tickets
        ));
    }
    if revert_leftover_tickets != 0 || revert_leftover_jugadas != 0 || status_after_revert != "OPEN"
    {
        failures.push(format!(
            "scenario e: after the revert {revert_leftover_tickets} tickets and \
             {revert_leftover_jugadas} jugadas keep evaluation data, sorteo {status_after_revert}"
        ));
    }
    Ok(EvalResult {
        sorteo_id: sorteo,
        sorteo_name,
        jugadas_requested: jugadas,
        tickets,
        jugadas: written,
        reventado_jugadas: reventados,
        counter_rows,
        seed_ms,
        winning_number: WINNING_NUMBER.to_string(),
        extra_multiplier_id: extra_id,
        extra_multiplier_x: extra_x.normalize(),
        evaluate_ms,
        revert_ms,
        reevaluate_ms,
        winners_count_first,
        winners_count_again,
        first,
        again,
        revert_leftover_tickets,
        revert_leftover_jugadas,
        status_after_revert,
        pass: failures.is_empty(),
        failures,
    })
}
