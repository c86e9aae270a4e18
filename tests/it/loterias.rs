//! loterías API tests: CRUD by role with the catalog tenancy (ADMIN any banca or global
//! templates, BANCA its active banca, the other roles read only), soft delete taking the
//! undrawn sorteos along and restore bringing them back, `rulesJson` validation (key paths,
//! unknown keys kept, nothing written on a 400), the schedule preview and the idempotent,
//! race-free sorteo seed.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use chrono_tz::America::Costa_Rica;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::fixtures::{self, call, Login, World};

async fn count(w: &World, sql: &str) -> i64 {
    let mut conn = w.db.connect().await;
    sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap()
}

/// Rows a refused request must leave as they were.
async fn counts(w: &World) -> (i64, i64, i64) {
    (
        count(w, "SELECT count(*) FROM loterias").await,
        count(w, "SELECT count(*) FROM sorteos").await,
        count(w, "SELECT count(*) FROM activity_logs").await,
    )
}

/// `(name, rules_json, is_active, deleted)` of a lotería.
async fn loteria_row(w: &World, id: Uuid) -> (String, Value, bool, bool) {
    let mut conn = w.db.connect().await;
    sqlx::query_as(
        "SELECT name, rules_json, is_active, deleted_at IS NOT NULL FROM loterias WHERE id = $1",
    )
    .bind(id)
    .fetch_one(&mut conn)
    .await
    .unwrap()
}

async fn activity_count(w: &World, action: &str, target: Uuid) -> i64 {
    let mut conn = w.db.connect().await;
    sqlx::query_scalar("SELECT count(*) FROM activity_logs WHERE action = $1 AND target_id = $2")
        .bind(action)
        .bind(target.to_string())
        .fetch_one(&mut conn)
        .await
        .unwrap()
}

fn id_of(v: &Value) -> Uuid {
    Uuid::parse_str(v["data"]["id"].as_str().expect("data.id")).unwrap()
}

fn detail_fields(v: &Value) -> Vec<String> {
    v["details"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|d| d["field"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// A date `days` from today's Costa Rica date.
fn cr_date(days: i64) -> NaiveDate {
    (Utc::now().with_timezone(&Costa_Rica) + Duration::days(days)).date_naive()
}

fn utc(date: NaiveDate, h: u32, m: u32) -> DateTime<Utc> {
    date.and_hms_opt(h, m, 0).unwrap().and_utc()
}

async fn create(w: &World, who: &Login, body: Value) -> (StatusCode, Value) {
    call(
        &w.app,
        Method::POST,
        "/api/v1/loterias",
        Some(&who.token),
        Some(&body),
    )
    .await
}

fn assert_loteria_shape(v: &Value) {
    for k in ["id", "name", "createdAt", "updatedAt"] {
        assert!(v[k].is_string(), "{k} should be a string: {v}");
    }
    assert!(v["isActive"].is_boolean(), "{v}");
    assert!(v["rulesJson"].is_object(), "{v}");
    assert!(v.get("bancaId").is_some(), "{v}");
}

#[tokio::test]
async fn crud_by_role_and_tenant() {
    let w = fixtures::world().await;
    let rules = json!({
        "digits": 2,
        "drawSchedule": {"frequency": "diario", "times": ["12:55"]},
        "reventadoConfig": {"enabled": true},
        "someFutureKey": {"kept": [1, 2]},
    });
    let (st, body) = create(
        &w,
        &w.a.banca_user,
        json!({"name": "TICA", "rulesJson": rules, "isActive": true}),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{body}");
    assert_loteria_shape(&body["data"]);
    assert_eq!(body["data"]["bancaId"], json!(w.a.banca_id));
    assert_eq!(body["data"]["rulesJson"], rules, "unknown keys are kept");
    let tica = id_of(&body);
    assert_eq!(activity_count(&w, "LOTERIA_CREATE", tica).await, 1);

    // Every role of A reads it; B's people do not see it.
    for who in w.a.logins() {
        let (st, body) = call(
            &w.app,
            Method::GET,
            &format!("/api/v1/loterias/{tica}"),
            Some(&who.token),
            None,
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{} {body}", who.username);
        let (st, body) = call(
            &w.app,
            Method::GET,
            "/api/v1/loterias?pageSize=100",
            Some(&who.token),
            None,
        )
        .await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(body["meta"]["total"], 1, "{body}");
        assert_eq!(body["meta"]["pageSize"], 100);
    }
    for who in w.b.logins() {
        let (st, _) = call(
            &w.app,
            Method::GET,
            &format!("/api/v1/loterias/{tica}"),
            Some(&who.token),
            None,
        )
        .await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{}", who.username);
        let (_, body) = call(
            &w.app,
            Method::GET,
            "/api/v1/loterias",
            Some(&who.token),
            None,
        )
        .await;
        assert_eq!(body["meta"]["total"], 0, "{}: {body}", who.username);
    }

    // VENTANA and VENDEDOR never write; B's BANCA reaches nothing of A; nothing changes.
    let before = counts(&w).await;
    let row_before = loteria_row(&w, tica).await;
    let writers_of_a: Vec<&Login> = w.a.ventana_users.iter().chain(&w.a.vendedores).collect();
    for who in writers_of_a {
        let (st, _) = create(&w, who, json!({"name": "Otra"})).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{}", who.username);
        for (m, path, body) in [
            (
                Method::PATCH,
                format!("/api/v1/loterias/{tica}"),
                Some(json!({"name": "Otro"})),
            ),
            (
                Method::PUT,
                format!("/api/v1/loterias/{tica}"),
                Some(json!({"name": "Otro"})),
            ),
            (Method::DELETE, format!("/api/v1/loterias/{tica}"), None),
            (
                Method::PATCH,
                format!("/api/v1/loterias/{tica}/restore"),
                None,
            ),
            (
                Method::POST,
                format!("/api/v1/loterias/{tica}/seed_sorteos"),
                None,
            ),
        ] {
            let (st, _) = call(&w.app, m, &path, Some(&who.token), body.as_ref()).await;
            assert_eq!(st, StatusCode::FORBIDDEN, "{} {path}", who.username);
        }
    }
    for (m, path, body) in [
        (
            Method::PATCH,
            format!("/api/v1/loterias/{tica}"),
            Some(json!({"name": "Otro"})),
        ),
        (Method::DELETE, format!("/api/v1/loterias/{tica}"), None),
        (
            Method::PATCH,
            format!("/api/v1/loterias/{tica}/restore"),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/loterias/{tica}/seed_sorteos"),
            None,
        ),
        (
            Method::GET,
            format!("/api/v1/loterias/{tica}/preview_schedule"),
            None,
        ),
    ] {
        let (st, _) = call(&w.app, m, &path, Some(&w.b.banca_user.token), body.as_ref()).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{path}");
    }
    // A BANCA user naming another banca, or asking for a global template.
    let (st, _) = create(
        &w,
        &w.a.banca_user,
        json!({"name": "Otra", "bancaId": w.b.banca_id}),
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = create(
        &w,
        &w.a.banca_user,
        json!({"name": "Otra", "bancaId": null}),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert_eq!(counts(&w).await, before);
    assert_eq!(loteria_row(&w, tica).await, row_before);

    // Same name in the same banca: 409; in another banca: fine.
    let (st, body) = create(&w, &w.a.banca_user, json!({"name": "TICA"})).await;
    assert_eq!(st, StatusCode::CONFLICT);
    assert_eq!(body["code"], "LOTERIA_EXISTS");
    let (st, body) = create(&w, &w.b.banca_user, json!({"name": "TICA"})).await;
    assert_eq!(st, StatusCode::CREATED, "{body}");

    // ADMIN: a global template (seen by ADMIN only) and a lotería for banca B.
    let (st, body) = create(&w, &w.admin, json!({"name": "PLANTILLA", "bancaId": null})).await;
    assert_eq!(st, StatusCode::CREATED, "{body}");
    assert_eq!(body["data"]["bancaId"], Value::Null);
    let template = id_of(&body);
    let (st, _) = call(
        &w.app,
        Method::GET,
        &format!("/api/v1/loterias/{template}"),
        Some(&w.a.banca_user.token),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, body) = create(
        &w,
        &w.admin,
        json!({"name": "NICA", "bancaId": w.b.banca_id}),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{body}");
    assert_eq!(body["data"]["bancaId"], json!(w.b.banca_id));
    let (_, body) = call(
        &w.app,
        Method::GET,
        "/api/v1/loterias",
        Some(&w.admin.token),
        None,
    )
    .await;
    assert_eq!(
        body["meta"]["total"], 4,
        "ADMIN without active banca sees all: {body}"
    );
    // ADMIN narrowed to banca A: A's loterías and the global templates.
    let res = w
        .app
        .client
        .get(w.app.url("/api/v1/loterias?search=a"))
        .bearer_auth(&w.admin.token)
        .header("x-active-banca-id", w.a.banca_id.to_string())
        .send()
        .await
        .unwrap();
    let body: Value = res.json().await.unwrap();
    let names: Vec<&str> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["PLANTILLA", "TICA"], "{body}");

    // Update (PATCH and PUT are partial); no change writes nothing.
    let (st, body) = call(
        &w.app,
        Method::PATCH,
        &format!("/api/v1/loterias/{tica}"),
        Some(&w.a.banca_user.token),
        Some(&json!({"name": "  TICA CR  ", "rulesJson": {"digits": 2}})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["name"], "TICA CR");
    assert_eq!(body["data"]["rulesJson"], json!({"digits": 2}));
    let (st, body) = call(
        &w.app,
        Method::PUT,
        &format!("/api/v1/loterias/{tica}"),
        Some(&w.a.banca_user.token),
        Some(&json!({"isActive": false, "rulesJson": null})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["isActive"], false);
    assert_eq!(
        body["data"]["rulesJson"],
        json!({"digits": 2}),
        "null keeps the rules"
    );
    let (st, _) = call(
        &w.app,
        Method::PATCH,
        &format!("/api/v1/loterias/{tica}"),
        Some(&w.a.banca_user.token),
        Some(&json!({"isActive": false})),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(activity_count(&w, "LOTERIA_UPDATE", tica).await, 2);
    // Unknown body keys are refused.
    let (st, _) = call(
        &w.app,
        Method::PATCH,
        &format!("/api/v1/loterias/{tica}"),
        Some(&w.a.banca_user.token),
        Some(&json!({"bancaId": w.b.banca_id})),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn delete_takes_undrawn_sorteos_and_restore_brings_them_back() {
    let w = fixtures::world().await;
    let l = fixtures::loteria(&w.app, Some(w.a.banca_id), "TICA", json!({})).await;
    let day = cr_date(3);
    let scheduled = fixtures::sorteo(&w.app, l, utc(day, 18, 55), "SCHEDULED").await;
    let open = fixtures::sorteo(&w.app, l, utc(day, 19, 55), "OPEN").await;
    let evaluated = fixtures::sorteo(&w.app, l, utc(day, 20, 55), "EVALUATED").await;
    let path = format!("/api/v1/loterias/{l}");

    let (st, body) = call(
        &w.app,
        Method::DELETE,
        &path,
        Some(&w.a.banca_user.token),
        Some(&json!({"reason": "fuera de servicio"})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["isActive"], false);
    assert!(body["data"]["deletedAt"].is_string());
    let state = |id: Uuid| {
        let w = &w;
        async move {
            let mut conn = w.db.connect().await;
            sqlx::query_as::<_, (String, bool, bool)>(
                "SELECT status::text, is_active, deleted_at IS NOT NULL FROM sorteos WHERE id = $1",
            )
            .bind(id)
            .fetch_one(&mut conn)
            .await
            .unwrap()
        }
    };
    assert_eq!(state(scheduled).await, ("SCHEDULED".into(), false, true));
    assert_eq!(state(open).await, ("OPEN".into(), false, true));
    assert_eq!(
        state(evaluated).await,
        ("EVALUATED".into(), true, false),
        "history stays"
    );

    // A deleted lotería takes no sorteos; deleting it again is a no-op.
    let (st, body) = call(
        &w.app,
        Method::POST,
        &format!("{path}/seed_sorteos"),
        Some(&w.a.banca_user.token),
        None,
    )
    .await;
    assert_eq!(
        (st, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("LOTERIA_INACTIVE"))
    );
    let (st, _) = call(
        &w.app,
        Method::DELETE,
        &path,
        Some(&w.a.banca_user.token),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(activity_count(&w, "LOTERIA_DELETE", l).await, 1);

    let (st, body) = call(
        &w.app,
        Method::PATCH,
        &format!("{path}/restore"),
        Some(&w.a.banca_user.token),
        Some(&json!({})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["isActive"], true);
    assert_eq!(body["data"]["deletedAt"], Value::Null);
    assert_eq!(state(scheduled).await, ("SCHEDULED".into(), true, false));
    assert_eq!(state(open).await, ("OPEN".into(), true, false));
    let (st, _) = call(
        &w.app,
        Method::PATCH,
        &format!("{path}/restore"),
        Some(&w.a.banca_user.token),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(activity_count(&w, "LOTERIA_RESTORE", l).await, 1);
}

#[tokio::test]
async fn rules_json_is_validated_with_key_paths() {
    let w = fixtures::world().await;
    let before = counts(&w).await;
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"salesHours": {"monday": {"start": 600}}}),
            "rulesJson.salesHours.monday.start",
        ),
        (
            json!({"salesHours": {"monday": {"start": "6:00"}}}),
            "rulesJson.salesHours.monday.start",
        ),
        (
            json!({"salesHours": {"funday": {}}}),
            "rulesJson.salesHours.funday",
        ),
        (
            json!({"drawSchedule": {"times": ["25:00"]}}),
            "rulesJson.drawSchedule.times[0]",
        ),
        (
            json!({"drawSchedule": {"frequency": "mensual"}}),
            "rulesJson.drawSchedule.frequency",
        ),
        (
            json!({"drawSchedules": [{}, {"daysOfWeek": [9]}]}),
            "rulesJson.drawSchedules[1].daysOfWeek[0]",
        ),
        (json!({"digits": 4}), "rulesJson.digits"),
        (json!({"digits": "2"}), "rulesJson.digits"),
        (
            json!({"minBetAmount": 500, "maxBetAmount": 100}),
            "rulesJson.minBetAmount",
        ),
        (json!({"minBetAmount": 0}), "rulesJson.minBetAmount"),
        (json!({"maxBetAmount": "mucho"}), "rulesJson.maxBetAmount"),
        (
            json!({"numberRange": {"min": 10, "max": 5}}),
            "rulesJson.numberRange.min",
        ),
        (
            json!({"numberRange": {"min": 0, "max": 100}}),
            "rulesJson.numberRange.max",
        ),
        (
            json!({"allowedBetTypes": ["NUMERO", "PALE"]}),
            "rulesJson.allowedBetTypes[1]",
        ),
        (
            json!({"reventadoConfig": {"enabled": "yes"}}),
            "rulesJson.reventadoConfig.enabled",
        ),
        (
            json!({"maxNumbersPerTicket": 1.5}),
            "rulesJson.maxNumbersPerTicket",
        ),
        (
            json!({"autoCreateSorteos": "true"}),
            "rulesJson.autoCreateSorteos",
        ),
        (
            json!({"display": {"featured": 1}}),
            "rulesJson.display.featured",
        ),
        (json!(["not", "an", "object"]), "rulesJson"),
    ];
    for (rules, field) in cases {
        let (st, body) = create(
            &w,
            &w.a.banca_user,
            json!({"name": "TICA", "rulesJson": rules}),
        )
        .await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{rules}: {body}");
        assert_eq!(body["code"], "VALIDATION_ERROR");
        assert!(
            detail_fields(&body).contains(&field.to_string()),
            "{rules}: expected {field} in {body}"
        );
    }
    // Name checks.
    for body in [
        json!({}),
        json!({"name": " T "}),
        json!({"name": "TICA", "extra": 1}),
    ] {
        let (st, res) = create(&w, &w.a.banca_user, body.clone()).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{body}: {res}");
    }
    assert_eq!(counts(&w).await, before, "nothing written");

    // An update with bad rules changes nothing either.
    let l = fixtures::loteria(&w.app, Some(w.a.banca_id), "TICA", json!({"digits": 2})).await;
    let row = loteria_row(&w, l).await;
    let (st, body) = call(
        &w.app,
        Method::PATCH,
        &format!("/api/v1/loterias/{l}"),
        Some(&w.a.banca_user.token),
        Some(&json!({"name": "OTRA", "rulesJson": {"salesHours": {"friday": {"end": "24:00"}}}})),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(
        detail_fields(&body),
        vec!["rulesJson.salesHours.friday.end"]
    );
    assert_eq!(loteria_row(&w, l).await, row);
}

async fn seed(
    w: &World,
    who: &Login,
    l: Uuid,
    query: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    call(
        &w.app,
        Method::POST,
        &format!("/api/v1/loterias/{l}/seed_sorteos?{query}"),
        Some(&who.token),
        body.as_ref(),
    )
    .await
}

async fn instants(w: &World, l: Uuid) -> Vec<DateTime<Utc>> {
    let mut conn = w.db.connect().await;
    sqlx::query_scalar(
        "SELECT scheduled_at FROM sorteos WHERE loteria_id = $1 AND deleted_at IS NULL
         ORDER BY scheduled_at",
    )
    .bind(l)
    .fetch_all(&mut conn)
    .await
    .unwrap()
}

#[tokio::test]
async fn seeding_a_week_is_exact_idempotent_and_race_free() {
    let w = fixtures::world().await;
    let rules = json!({
        "digits": 2,
        "drawSchedule": {"frequency": "diario", "times": ["12:55", "16:30", "19:30"]},
    });
    let l = fixtures::loteria(&w.app, Some(w.a.banca_id), "TICA", rules).await;
    let start = cr_date(10);
    let q = format!("start={start}&days=7");

    // Preview: 21 draws, none existing yet, named with the 12-hour local time.
    let (st, body) = call(
        &w.app,
        Method::GET,
        &format!("/api/v1/loterias/{l}/preview_schedule?{q}&limit=200"),
        Some(&w.a.vendedores[0].token),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    let data = body["data"].as_array().unwrap();
    assert_eq!(data.len(), 21);
    assert_eq!(body["meta"]["count"], 21);
    assert_eq!(data[0]["name"], "TICA 12:55 PM");
    assert_eq!(data[1]["name"], "TICA 4:30 PM");
    assert_eq!(
        data[0]["scheduledAt"],
        format!("{start}T12:55:00.000-06:00")
    );
    assert_eq!(data[0]["loteriaId"], json!(l));
    assert!(data.iter().all(|d| d["alreadyExists"] == false));
    assert_eq!(body["meta"]["from"], format!("{start}T00:00:00.000-06:00"));

    // Seed: exactly 21 sorteos at local + 6 h.
    let (st, body) = seed(&w, &w.a.banca_user, l, &q, None).await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["created"], 21, "{body}");
    assert_eq!(body["data"]["skipped"], 0);
    assert_eq!(
        body["data"]["details"]["created"].as_array().unwrap().len(),
        21
    );
    let mut want = Vec::new();
    for d in 0..7 {
        let day = start + Duration::days(d);
        want.push(utc(day, 18, 55));
        want.push(utc(day, 22, 30));
        want.push(utc(day + Duration::days(1), 1, 30));
    }
    assert_eq!(instants(&w, l).await, want);
    let mut conn = w.db.connect().await;
    let (status, digits, banca, name): (String, i16, Option<Uuid>, String) = sqlx::query_as(
        "SELECT status::text, digits, banca_id, name FROM sorteos WHERE loteria_id = $1
         ORDER BY scheduled_at LIMIT 1",
    )
    .bind(l)
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(
        (status.as_str(), digits, banca, name.as_str()),
        ("SCHEDULED", 2, Some(w.a.banca_id), "TICA 12:55 PM")
    );
    assert_eq!(activity_count(&w, "SORTEO_CREATE", l).await, 1);

    // Re-running creates nothing; the preview marks every draw as existing.
    let (st, body) = seed(&w, &w.a.banca_user, l, &q, Some(json!({}))).await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(
        (
            body["data"]["created"].as_i64(),
            body["data"]["skipped"].as_i64()
        ),
        (Some(0), Some(21))
    );
    assert_eq!(instants(&w, l).await.len(), 21);
    assert_eq!(
        activity_count(&w, "SORTEO_CREATE", l).await,
        1,
        "no change, no entry"
    );
    let (_, body) = call(
        &w.app,
        Method::GET,
        &format!("/api/v1/loterias/{l}/preview_schedule?{q}"),
        Some(&w.a.banca_user.token),
        None,
    )
    .await;
    assert!(body["data"]
        .as_array()
        .unwrap()
        .iter()
        .all(|d| d["alreadyExists"] == true));

    // Two seeds of the next week at once: each draw exists once.
    let next = start + Duration::days(7);
    let q2 = format!("start={next}&days=7");
    let (r1, r2) = tokio::join!(
        seed(&w, &w.a.banca_user, l, &q2, None),
        seed(&w, &w.admin, l, &q2, None)
    );
    assert_eq!(
        (r1.0, r2.0),
        (StatusCode::OK, StatusCode::OK),
        "{} {}",
        r1.1,
        r2.1
    );
    let created =
        r1.1["data"]["created"].as_i64().unwrap() + r2.1["data"]["created"].as_i64().unwrap();
    assert_eq!(created, 21, "{} {}", r1.1, r2.1);
    let all = instants(&w, l).await;
    assert_eq!(all.len(), 42);
    let mut dedup = all.clone();
    dedup.dedup();
    assert_eq!(dedup, all, "no duplicate instants");
}

#[tokio::test]
async fn seed_subsets_dry_runs_past_draws_and_bad_input() {
    let w = fixtures::world().await;
    let rules = json!({"drawSchedules": [
        {"frequency": "diario", "times": ["13:00"]},
        {"frequency": "semanal", "times": ["13:00", "20:00"], "daysOfWeek": [0]},
    ]});
    let l = fixtures::loteria(&w.app, Some(w.a.banca_id), "NICA", rules).await;
    let start = cr_date(20);
    let q = format!("start={start}&days=7");

    // Dry run: nothing written; one extra draw on the Sunday, the shared 13:00 merged.
    let (st, body) = seed(&w, &w.a.banca_user, l, &format!("{q}&dryRun=true"), None).await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["dryRun"], true);
    assert_eq!(body["data"]["preview"].as_array().unwrap().len(), 8);
    assert!(instants(&w, l).await.is_empty());

    // Only the instants the client picked (with or without offset, or epoch ms).
    let picked = json!({"scheduledDates": [
        format!("{start}T13:00:00-06:00"),
        format!("{}T13:00:00", start + Duration::days(1)),
        utc(start + Duration::days(2), 19, 0).timestamp_millis(),
    ]});
    let (st, body) = seed(&w, &w.a.banca_user, l, &q, Some(picked)).await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["created"], 3, "{body}");
    assert_eq!(instants(&w, l).await.len(), 3);

    // Past draws are left out unless allowPast=true.
    let past = cr_date(-3);
    let (_, body) = seed(
        &w,
        &w.a.banca_user,
        l,
        &format!("start={past}&days=1"),
        None,
    )
    .await;
    assert_eq!(body["data"]["created"], 0, "{body}");
    let (_, body) = seed(
        &w,
        &w.a.banca_user,
        l,
        &format!("start={past}&days=1&allowPast=true"),
        None,
    )
    .await;
    let on_that_day = if past.weekday() == chrono::Weekday::Sun {
        2
    } else {
        1
    };
    assert_eq!(body["data"]["created"], on_that_day, "{body}");

    let before = counts(&w).await;
    for bad in [
        "days=0",
        "days=32",
        "start=mañana",
        "limit=0",
        "unknown=1",
        "allowPast=quizas",
    ] {
        let (st, body) = seed(&w, &w.a.banca_user, l, bad, None).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{bad}: {body}");
    }
    let (st, body) = seed(
        &w,
        &w.a.banca_user,
        l,
        &q,
        Some(json!({"scheduledDates": ["2026-99-01T10:00:00"]})),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(detail_fields(&body), vec!["scheduledDates[0]"]);
    assert_eq!(counts(&w).await, before, "nothing written");

    // A lotería whose stored rules do not read is reported, not guessed at.
    let broken = fixtures::loteria(
        &w.app,
        Some(w.a.banca_id),
        "ROTA",
        json!({"drawSchedule": {"times": ["1pm"]}}),
    )
    .await;
    let (st, body) = seed(&w, &w.a.banca_user, broken, &q, None).await;
    assert_eq!(st, StatusCode::CONFLICT);
    assert_eq!(body["code"], "LOTERIA_RULES_INVALID");
    assert_eq!(
        detail_fields(&body),
        vec!["rulesJson.drawSchedule.times[0]"]
    );
}
