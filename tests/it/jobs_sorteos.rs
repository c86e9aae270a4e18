//! The sorteo jobs (domain-money §2.2–2.5) on a real database: the bodies run directly on a
//! fixed clock (auto-create's draws and idempotence, auto-open's Costa Rica business day,
//! auto-close's "no ticket at all" rule), and the routes `/sorteos/auto-config`,
//! `/sorteos/auto-status` and `/sorteos/auto-*/execute`.

use std::sync::Arc;

use banca::jobs::sorteos_auto::{self, auto_close, auto_create, auto_open};
use banca::jobs::{JobCtx, JobSettings, Trigger};
use chrono::{DateTime, Duration, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::fixtures::{self, call, exec, scalar, shop, World};

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn ctx(w: &World, now: DateTime<Utc>, trigger: Trigger, params: Value) -> JobCtx {
    JobCtx {
        pool: w.app.state.pools.primary().clone(),
        now,
        trigger,
        requested_by: None,
        params,
        settings: Arc::new(JobSettings {
            business_tz: chrono_tz::America::Costa_Rica,
            activity_log_retention_days: 45,
        }),
    }
}

/// `(name, scheduledAt, status, digits, bancaId)` of every sorteo of a lotería, by instant.
async fn sorteos_of(
    w: &World,
    loteria: Uuid,
) -> Vec<(String, DateTime<Utc>, String, i16, Option<Uuid>)> {
    sqlx::query_as(
        "SELECT name, scheduled_at, status::text, digits, banca_id FROM sorteos
         WHERE loteria_id = $1 ORDER BY scheduled_at",
    )
    .bind(loteria)
    .fetch_all(&mut w.db.connect().await)
    .await
    .unwrap()
}

/// Every sorteo row, to prove a run changed nothing.
async fn all_sorteos(w: &World) -> String {
    scalar::<Option<String>>(
        w,
        "SELECT string_agg(s::text, '|' ORDER BY s.id) FROM sorteos s",
    )
    .await
    .unwrap_or_default()
}

async fn status_of(w: &World, id: Uuid) -> String {
    sqlx::query_scalar("SELECT status::text FROM sorteos WHERE id = $1")
        .bind(id)
        .fetch_one(&mut w.db.connect().await)
        .await
        .unwrap()
}

#[tokio::test]
async fn auto_create_makes_exactly_the_scheduled_draws_once() {
    let w = fixtures::world().await;
    let a = Some(w.a.banca_id);
    let tica = fixtures::loteria(
        &w.app,
        a,
        "TICA",
        json!({"digits": 2, "drawSchedule": {"frequency": "diario", "times": ["12:55", "19:30"]}}),
    )
    .await;
    // Weekends only, 3 digits, in banca B.
    let nica = fixtures::loteria(
        &w.app,
        Some(w.b.banca_id),
        "NICA",
        json!({"digits": 3, "drawSchedules": [
            {"frequency": "semanal", "times": ["10:00"], "daysOfWeek": [0, 6]}
        ]}),
    )
    .await;
    let off = fixtures::loteria(
        &w.app,
        a,
        "APAGADA",
        json!({"autoCreateSorteos": false, "drawSchedule": {"times": ["11:00"]}}),
    )
    .await;
    let plain = fixtures::loteria(&w.app, a, "SIN HORARIO", json!({"digits": 2})).await;

    // Saturday 2026-03-07 01:00 in Costa Rica (07:00 UTC), two days ahead.
    let now = utc("2026-03-07T07:00:00Z");
    // A scheduled run while the flag is off does nothing.
    let out = auto_create(ctx(&w, now, Trigger::Schedule, json!({})))
        .await
        .unwrap();
    assert_eq!(out, json!({"skipped": "disabled"}));
    assert_eq!(all_sorteos(&w).await, "");

    let out = auto_create(ctx(&w, now, Trigger::Manual, json!({"daysAhead": 2})))
        .await
        .unwrap();
    assert_eq!(out["createdCount"], 6, "{out}");
    assert_eq!(out["skippedCount"], 0, "{out}");
    assert_eq!(out["errors"], json!([]), "{out}");

    let tica_rows = sorteos_of(&w, tica).await;
    let want = |name: &str, at: &str, digits: i16, banca: Option<Uuid>| {
        (
            name.to_string(),
            utc(at),
            "SCHEDULED".to_string(),
            digits,
            banca,
        )
    };
    assert_eq!(
        tica_rows,
        vec![
            want("TICA 12:55 PM", "2026-03-07T18:55:00Z", 2, a),
            want("TICA 7:30 PM", "2026-03-08T01:30:00Z", 2, a),
            want("TICA 12:55 PM", "2026-03-08T18:55:00Z", 2, a),
            want("TICA 7:30 PM", "2026-03-09T01:30:00Z", 2, a),
        ]
    );
    let b = Some(w.b.banca_id);
    assert_eq!(
        sorteos_of(&w, nica).await,
        vec![
            want("NICA 10:00 AM", "2026-03-07T16:00:00Z", 3, b),
            want("NICA 10:00 AM", "2026-03-08T16:00:00Z", 3, b),
        ]
    );
    assert!(sorteos_of(&w, off).await.is_empty());
    assert!(sorteos_of(&w, plain).await.is_empty());

    // Again with the same clock: nothing changes.
    let before = all_sorteos(&w).await;
    for _ in 0..2 {
        let out = auto_create(ctx(&w, now, Trigger::Manual, json!({"daysAhead": 2})))
            .await
            .unwrap();
        assert_eq!(out["createdCount"], 0, "{out}");
    }
    assert_eq!(all_sorteos(&w).await, before);

    // Three days ahead from the same day: the last live TICA draw is local 03-08 (1 < 2
    // days away), so 03-09..03-11 are generated (6 draws); NICA's last is Sunday 03-08, and
    // 03-09..03-11 has no weekend day. A deleted draw stays deleted.
    exec(
        &w,
        &format!(
            "UPDATE sorteos SET deleted_at = now() WHERE loteria_id = '{tica}'
             AND scheduled_at = '2026-03-07T18:55:00Z'"
        ),
    )
    .await;
    let out = auto_create(ctx(&w, now, Trigger::Manual, json!({"daysAhead": 3})))
        .await
        .unwrap();
    assert_eq!(out["createdCount"], 6, "{out}");
    let n: i64 = scalar(
        &w,
        &format!("SELECT count(*) FROM sorteos WHERE loteria_id = '{tica}' AND deleted_at IS NULL"),
    )
    .await;
    assert_eq!(n, 3 + 6);
    // The run is recorded.
    let entries: i64 = scalar(
        &w,
        "SELECT count(*) FROM activity_logs WHERE action = 'SYSTEM_ACTION'
         AND target_type = 'CRON_JOB' AND target_id = 'sorteos_auto_create'",
    )
    .await;
    assert_eq!(entries, 4);
    // Bad parameters fail the run.
    assert!(
        auto_create(ctx(&w, now, Trigger::Manual, json!({"daysAhead": 31})))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn auto_open_opens_the_costa_rica_business_day_only() {
    let w = fixtures::world().await;
    let l = fixtures::loteria(&w.app, Some(w.a.banca_id), "TICA", json!({"digits": 2})).await;
    let other = fixtures::loteria(&w.app, Some(w.b.banca_id), "NICA", json!({"digits": 2})).await;
    // 2026-03-09 23:30 in Costa Rica = 2026-03-10 05:30 UTC: the business day is 03-09 local,
    // [03-09 06:00Z, 03-10 06:00Z).
    let now = utc("2026-03-10T05:30:00Z");
    let noon = fixtures::sorteo(&w.app, l, utc("2026-03-09T18:55:00Z"), "SCHEDULED").await;
    let late = fixtures::sorteo(&w.app, other, utc("2026-03-10T05:50:00Z"), "SCHEDULED").await;
    let first_minute = fixtures::sorteo(&w.app, l, utc("2026-03-09T06:00:00Z"), "SCHEDULED").await;
    // Same UTC date as `now`, but the next local day.
    let tomorrow = fixtures::sorteo(&w.app, l, utc("2026-03-10T06:30:00Z"), "SCHEDULED").await;
    let midnight_next = fixtures::sorteo(&w.app, l, utc("2026-03-10T06:00:00Z"), "SCHEDULED").await;
    // UTC date 03-09, local 03-08.
    let yesterday = fixtures::sorteo(&w.app, l, utc("2026-03-09T05:00:00Z"), "SCHEDULED").await;
    let inactive = fixtures::sorteo(&w.app, l, utc("2026-03-09T20:00:00Z"), "SCHEDULED").await;
    let deleted = fixtures::sorteo(&w.app, l, utc("2026-03-09T21:00:00Z"), "SCHEDULED").await;
    let closed = fixtures::sorteo(&w.app, l, utc("2026-03-09T22:00:00Z"), "CLOSED").await;
    exec(
        &w,
        &format!("UPDATE sorteos SET is_active = false WHERE id = '{inactive}'"),
    )
    .await;
    exec(
        &w,
        &format!("UPDATE sorteos SET deleted_at = now() WHERE id = '{deleted}'"),
    )
    .await;

    let out = auto_open(ctx(&w, now, Trigger::Schedule, json!({})))
        .await
        .unwrap();
    assert_eq!(out, json!({"skipped": "disabled"}));
    exec(
        &w,
        "UPDATE sorteos_auto_config SET auto_open_enabled = true",
    )
    .await;
    let out = auto_open(ctx(&w, now, Trigger::Schedule, json!({})))
        .await
        .unwrap();
    assert_eq!(out["openedCount"], 3, "{out}");
    assert_eq!(out["errors"], json!([]));
    for id in [noon, late, first_minute] {
        assert_eq!(status_of(&w, id).await, "OPEN");
    }
    for id in [tomorrow, midnight_next, yesterday, inactive, deleted] {
        assert_eq!(status_of(&w, id).await, "SCHEDULED", "{id}");
    }
    assert_eq!(status_of(&w, closed).await, "CLOSED");
    let audited: i64 = scalar(
        &w,
        &format!("SELECT count(*) FROM activity_logs WHERE action = 'SORTEO_OPEN' AND target_id = '{noon}' AND user_id IS NULL"),
    )
    .await;
    assert_eq!(audited, 1);

    let before = all_sorteos(&w).await;
    let out = auto_open(ctx(&w, now, Trigger::Manual, json!({})))
        .await
        .unwrap();
    assert_eq!(out["openedCount"], 0, "{out}");
    assert_eq!(all_sorteos(&w).await, before);

    // A manual run limited to banca A opens nothing of banca B.
    let next_day = utc("2026-03-10T12:00:00Z");
    let b_next = fixtures::sorteo(&w.app, other, utc("2026-03-10T18:00:00Z"), "SCHEDULED").await;
    let out = auto_open(ctx(
        &w,
        next_day,
        Trigger::Manual,
        json!({"bancaId": w.a.banca_id}),
    ))
    .await
    .unwrap();
    assert_eq!(out["openedCount"], 2, "{out}"); // tomorrow and midnight_next
    assert_eq!(status_of(&w, b_next).await, "SCHEDULED");
}

#[tokio::test]
async fn auto_close_closes_only_past_draws_without_tickets() {
    let s = shop().await;
    let w = &s.w;
    let seller = &w.a.vendedores[0];
    let (st, v) = call(
        &w.app,
        Method::POST,
        "/api/v1/tickets",
        Some(&seller.token),
        Some(&json!({"loteriaId": s.loteria, "sorteoId": s.sorteo,
                     "jugadas": [{"type": "NUMERO", "number": "07", "amount": 100}]})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let sold_at: DateTime<Utc> =
        sqlx::query_scalar("SELECT scheduled_at FROM sorteos WHERE id = $1")
            .bind(s.sorteo)
            .fetch_one(&mut w.db.connect().await)
            .await
            .unwrap();
    let now = sold_at + Duration::hours(1);
    let open_empty =
        fixtures::sorteo(&w.app, s.loteria, sold_at - Duration::hours(2), "OPEN").await;
    let scheduled_empty =
        fixtures::sorteo(&w.app, s.loteria, sold_at - Duration::hours(3), "SCHEDULED").await;
    // Within the 5-minute grace, and in the future.
    let grace = fixtures::sorteo(&w.app, s.loteria, now - Duration::minutes(3), "OPEN").await;
    let future = fixtures::sorteo(&w.app, s.loteria, now + Duration::hours(2), "OPEN").await;
    let evaluated =
        fixtures::sorteo(&w.app, s.loteria, sold_at - Duration::hours(4), "EVALUATED").await;
    // A sorteo whose only ticket was cancelled and deleted still has a ticket: not closed.
    let other_sorteo =
        fixtures::sorteo(&w.app, s.loteria, sold_at - Duration::hours(5), "OPEN").await;
    exec(
        w,
        &format!(
            "INSERT INTO tickets SELECT (jsonb_populate_record(t, jsonb_build_object(
                 'id', gen_random_uuid(), 'sorteo_id', '{other_sorteo}'::uuid,
                 'ticket_number', t.ticket_number || 'X', 'status', 'CANCELLED',
                 'deleted_at', now()))).*
             FROM tickets t WHERE sorteo_id = '{}'",
            s.sorteo
        ),
    )
    .await;

    let out = auto_close(ctx(w, now, Trigger::Manual, json!({})))
        .await
        .unwrap();
    assert_eq!(out["closedCount"], 2, "{out}");
    assert_eq!(out["errors"], json!([]));
    assert_eq!(status_of(w, open_empty).await, "CLOSED");
    assert_eq!(status_of(w, scheduled_empty).await, "CLOSED");
    assert_eq!(status_of(w, s.sorteo).await, "OPEN");
    assert_eq!(status_of(w, other_sorteo).await, "OPEN");
    assert_eq!(status_of(w, grace).await, "OPEN");
    assert_eq!(status_of(w, future).await, "OPEN");
    assert_eq!(status_of(w, evaluated).await, "EVALUATED");
    // OPEN → CLOSED went through the close path (audited); SCHEDULED → CLOSED did not.
    let audited: i64 = scalar(
        w,
        &format!(
            "SELECT count(*) FROM activity_logs WHERE action = 'SORTEO_CLOSE'
             AND target_id IN ('{open_empty}', '{scheduled_empty}')"
        ),
    )
    .await;
    assert_eq!(audited, 1);
    let job_entry: Value = scalar(
        w,
        "SELECT details FROM activity_logs WHERE target_type = 'CRON_JOB'
         AND target_id = 'sorteos_auto_close'",
    )
    .await;
    assert_eq!(job_entry["affectedRows"], 2, "{job_entry}");
    assert_eq!(job_entry["status"], "success", "{job_entry}");

    let before = all_sorteos(w).await;
    let out = auto_close(ctx(w, now, Trigger::Manual, json!({})))
        .await
        .unwrap();
    assert_eq!(out["closedCount"], 0, "{out}");
    assert_eq!(all_sorteos(w).await, before);
}

#[tokio::test]
async fn auto_config_reads_validates_and_drives_the_schedules() {
    let w = fixtures::world().await;
    let admin = Some(w.admin.token.as_str());
    let pool = w.app.state.pools.primary().clone();
    let (st, v) = call(
        &w.app,
        Method::GET,
        "/api/v1/sorteos/auto-config",
        admin,
        None,
    )
    .await;
    assert_eq!(st, 200, "{v}");
    let d = &v["data"];
    assert_eq!(d["autoOpenEnabled"], false);
    assert_eq!(d["autoCreateEnabled"], false);
    assert_eq!(d["autoCloseEnabled"], false);
    assert_eq!(d["openCronSchedule"], Value::Null);
    assert_eq!(d["effectiveOpenCronSchedule"], "30 7 * * *");
    assert_eq!(d["effectiveCreateCronSchedule"], "0 7 * * *");
    assert_eq!(d["effectiveCloseCronSchedule"], "0 4 * * *");
    assert_eq!(d["lastOpenExecution"], Value::Null);
    assert_eq!(d["lastCreateCount"], Value::Null);
    assert!(sorteos_auto::create_schedule(pool.clone())
        .await
        .unwrap()
        .is_none());

    // Not ADMIN: 403, whatever the body.
    for who in [&w.a.banca_user, &w.a.ventana_users[0], &w.a.vendedores[0]] {
        let (st, v) = call(
            &w.app,
            Method::GET,
            "/api/v1/sorteos/auto-config",
            Some(&who.token),
            None,
        )
        .await;
        assert_eq!(st, 403, "{v}");
        let (st, v) = call(
            &w.app,
            Method::PATCH,
            "/api/v1/sorteos/auto-config",
            Some(&who.token),
            Some(&json!({"autoOpenEnabled": true})),
        )
        .await;
        assert_eq!(st, 403, "{v}");
    }

    // Invalid bodies: 400 naming the field, nothing stored.
    for (body, field) in [
        (json!({"openCronSchedule": "every day"}), "openCronSchedule"),
        (
            json!({"createCronSchedule": "61 7 * * *"}),
            "createCronSchedule",
        ),
        (
            json!({"closeCronSchedule": "0 0 4 * * *"}),
            "closeCronSchedule",
        ),
        (json!({"closeCronSchedule": ""}), "closeCronSchedule"),
        (json!({"autoOpenEnabled": null}), "autoOpenEnabled"),
    ] {
        let (st, v) = call(
            &w.app,
            Method::PATCH,
            "/api/v1/sorteos/auto-config",
            admin,
            Some(&body),
        )
        .await;
        assert_eq!(st, 400, "{body} → {v}");
        assert_eq!(v["code"], "VALIDATION_ERROR", "{v}");
        assert_eq!(v["details"][0]["field"], field, "{v}");
    }
    let (st, v) = call(
        &w.app,
        Method::PATCH,
        "/api/v1/sorteos/auto-config",
        admin,
        Some(&json!({"autoOpenEnabled": "yes"})),
    )
    .await;
    assert_eq!(
        (st.as_u16(), v["code"].as_str()),
        (400, Some("VALIDATION_ERROR")),
        "{v}"
    );
    let (st, v) = call(
        &w.app,
        Method::PATCH,
        "/api/v1/sorteos/auto-config",
        admin,
        Some(&json!({"bancaId": w.a.banca_id})),
    )
    .await;
    assert_eq!(st, 400, "{v}");
    let updated: i64 = scalar(
        &w,
        "SELECT count(*) FROM sorteos_auto_config WHERE updated_by IS NOT NULL",
    )
    .await;
    assert_eq!(updated, 0);

    let (st, v) = call(
        &w.app,
        Method::PATCH,
        "/api/v1/sorteos/auto-config",
        admin,
        Some(&json!({"autoCreateEnabled": true, "autoCloseEnabled": true,
                     "createCronSchedule": " 15 6 * * * ", "openCronSchedule": "0 8 * * 1-5"})),
    )
    .await;
    assert_eq!(st, 200, "{v}");
    let d = &v["data"];
    assert_eq!(d["autoCreateEnabled"], true);
    assert_eq!(d["autoOpenEnabled"], false);
    assert_eq!(d["createCronSchedule"], "15 6 * * *");
    assert_eq!(d["effectiveCreateCronSchedule"], "15 6 * * *");
    assert_eq!(d["effectiveOpenCronSchedule"], "0 8 * * 1-5");
    assert_eq!(d["updatedBy"], json!(w.admin.user_id));
    assert_eq!(
        sorteos_auto::create_schedule(pool.clone())
            .await
            .unwrap()
            .as_deref(),
        Some("15 6 * * *")
    );
    assert_eq!(
        sorteos_auto::close_schedule(pool.clone())
            .await
            .unwrap()
            .as_deref(),
        Some("0 4 * * *")
    );
    assert!(sorteos_auto::open_schedule(pool.clone())
        .await
        .unwrap()
        .is_none());
    // null goes back to the default.
    let (st, v) = call(
        &w.app,
        Method::PATCH,
        "/api/v1/sorteos/auto-config",
        admin,
        Some(&json!({"createCronSchedule": null})),
    )
    .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["data"]["createCronSchedule"], Value::Null);
    assert_eq!(v["data"]["autoCreateEnabled"], true);
    assert_eq!(
        sorteos_auto::create_schedule(pool)
            .await
            .unwrap()
            .as_deref(),
        Some("0 7 * * *")
    );
    let audited: i64 = scalar(
        &w,
        "SELECT count(*) FROM activity_logs WHERE target_type = 'SORTEOS_AUTO_CONFIG'",
    )
    .await;
    assert_eq!(audited, 2);

    // Health, for any role: never run yet.
    let (st, v) = call(
        &w.app,
        Method::GET,
        "/api/v1/sorteos/auto-status",
        Some(&w.a.vendedores[0].token),
        None,
    )
    .await;
    assert_eq!(st, 200, "{v}");
    let d = &v["data"];
    for job in ["open", "create", "close"] {
        assert_eq!(d[job]["status"], "never_run", "{v}");
        assert_eq!(d[job]["isHealthy"], false, "{v}");
        assert_eq!(d[job]["lastExecution"], Value::Null, "{v}");
    }
    assert_eq!(d["autoCreateEnabled"], true);
    assert_eq!(d["autoOpenEnabled"], false);
    let (st, _) = call(
        &w.app,
        Method::GET,
        "/api/v1/sorteos/auto-status",
        None,
        None,
    )
    .await;
    assert_eq!(st, 401);
}

/// Needs the sorteo jobs registered in the engine (`jobs::registry::all`).
#[tokio::test]
async fn execute_routes_run_the_jobs_through_the_engine() {
    let w = fixtures::world().await;
    let admin = Some(w.admin.token.as_str());
    let tica = fixtures::loteria(
        &w.app,
        Some(w.a.banca_id),
        "TICA",
        json!({"digits": 2, "drawSchedule": {"frequency": "diario", "times": ["12:55", "19:30"]}}),
    )
    .await;
    let nica = fixtures::loteria(
        &w.app,
        Some(w.b.banca_id),
        "NICA",
        json!({"digits": 2, "drawSchedule": {"times": ["10:00"]}}),
    )
    .await;

    // Roles and parameters.
    for who in [&w.a.ventana_users[0], &w.a.vendedores[0]] {
        for path in [
            "/api/v1/sorteos/auto-open/execute",
            "/api/v1/sorteos/auto-create/execute",
            "/api/v1/sorteos/auto-close/execute",
        ] {
            let (st, v) = call(&w.app, Method::POST, path, Some(&who.token), None).await;
            assert_eq!(st, 403, "{path} {v}");
        }
    }
    for bad in ["0", "31", "x"] {
        let (st, v) = call(
            &w.app,
            Method::POST,
            &format!("/api/v1/sorteos/auto-create/execute?daysAhead={bad}"),
            admin,
            None,
        )
        .await;
        assert_eq!(st, 400, "{bad} {v}");
        assert_eq!(v["code"], "VALIDATION_ERROR");
    }

    // BANCA runs act on its banca only.
    let (st, v) = call(
        &w.app,
        Method::POST,
        "/api/v1/sorteos/auto-create/execute?daysAhead=2",
        Some(&w.a.banca_user.token),
        None,
    )
    .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["data"]["createdCount"], 4, "{v}");
    assert!(v["data"]["runId"].as_i64().is_some(), "{v}");
    assert!(sorteos_of(&w, nica).await.is_empty());
    assert_eq!(sorteos_of(&w, tica).await.len(), 4);

    // ADMIN runs act on every banca.
    let (st, v) = call(
        &w.app,
        Method::POST,
        "/api/v1/sorteos/auto-create/execute",
        admin,
        None,
    )
    .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["data"]["createdCount"], 1, "{v}");
    let (st, v) = call(
        &w.app,
        Method::POST,
        "/api/v1/sorteos/auto-open/execute",
        admin,
        None,
    )
    .await;
    assert_eq!(st, 200, "{v}");
    assert!(v["data"]["openedCount"].as_i64().is_some(), "{v}");
    let (st, v) = call(
        &w.app,
        Method::POST,
        "/api/v1/sorteos/auto-close/execute",
        admin,
        None,
    )
    .await;
    assert_eq!(st, 200, "{v}");
    assert!(v["data"]["closedCount"].as_i64().is_some(), "{v}");

    // The runs show in the config and the health.
    let (st, v) = call(
        &w.app,
        Method::GET,
        "/api/v1/sorteos/auto-config",
        admin,
        None,
    )
    .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["data"]["lastCreateCount"], 1, "{v}");
    assert!(v["data"]["lastCreateExecution"].is_string(), "{v}");
    let (_, v) = call(
        &w.app,
        Method::GET,
        "/api/v1/sorteos/auto-status",
        admin,
        None,
    )
    .await;
    assert_eq!(v["data"]["create"]["status"], "ok", "{v}");
    assert_eq!(v["data"]["create"]["isHealthy"], true, "{v}");
    assert_eq!(v["data"]["create"]["lastExecutionCount"], 1, "{v}");

    // A run in progress: 409.
    exec(
        &w,
        "INSERT INTO job_runs (job, due_at, trigger, status, instance, lease_until)
         VALUES ('sorteos_auto_close', now() - interval '1 minute', 'schedule', 'running',
                 'elsewhere', now() + interval '1 hour')",
    )
    .await;
    let (st, v) = call(
        &w.app,
        Method::POST,
        "/api/v1/sorteos/auto-close/execute",
        admin,
        None,
    )
    .await;
    assert_eq!(st, 409, "{v}");
    assert_eq!(v["code"], "JOB_ALREADY_RUNNING");
}
