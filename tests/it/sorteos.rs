//! sorteos API tests: create and update (instants with and without offset, digits from the
//! lotería, conflicts, bad input writing nothing), the transition matrix over HTTP for every
//! (state, action) pair, the guards beyond it (inactive, deleted, drawn), concurrent
//! transitions (exactly one wins), listing filters and date tokens, and tenant isolation.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::America::Costa_Rica;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::fixtures::{self, call, Login, World};

async fn count(w: &World, sql: &str) -> i64 {
    let mut conn = w.db.connect().await;
    sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap()
}

async fn counts(w: &World) -> (i64, i64) {
    (
        count(w, "SELECT count(*) FROM sorteos").await,
        count(w, "SELECT count(*) FROM activity_logs").await,
    )
}

/// `(status, is_active, deleted, name, scheduled_at)` of a sorteo.
async fn sorteo_row(w: &World, id: Uuid) -> (String, bool, bool, String, DateTime<Utc>) {
    let mut conn = w.db.connect().await;
    sqlx::query_as(
        "SELECT status::text, is_active, deleted_at IS NOT NULL, name, scheduled_at
         FROM sorteos WHERE id = $1",
    )
    .bind(id)
    .fetch_one(&mut conn)
    .await
    .unwrap()
}

async fn exec(w: &World, sql: &str, id: Uuid) {
    let mut conn = w.db.connect().await;
    sqlx::query(sql).bind(id).execute(&mut conn).await.unwrap();
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

fn cr_date(days: i64) -> NaiveDate {
    (Utc::now().with_timezone(&Costa_Rica) + Duration::days(days)).date_naive()
}

fn utc(date: NaiveDate, h: u32, m: u32) -> DateTime<Utc> {
    date.and_hms_opt(h, m, 0).unwrap().and_utc()
}

/// The fields the client reads, with their JSON types.
fn assert_sorteo_shape(v: &Value) {
    for k in [
        "id",
        "name",
        "loteriaId",
        "scheduledAt",
        "status",
        "createdAt",
        "updatedAt",
    ] {
        assert!(v[k].is_string(), "{k} should be a string: {v}");
    }
    for k in [
        "isActive",
        "hasWinner",
        "reventadoEnabled",
        "hasSales",
        "hasExclusions",
    ] {
        assert!(v[k].is_boolean(), "{k} should be a boolean: {v}");
    }
    assert!(
        v["digits"].is_number() && v["ticketCount"].is_number(),
        "{v}"
    );
    for k in [
        "winningNumber",
        "extraOutcomeCode",
        "extraMultiplierId",
        "extraMultiplierX",
        "bancaId",
    ] {
        assert!(v.get(k).is_some(), "{k} missing: {v}");
    }
    assert_eq!(v["loteria"]["id"], v["loteriaId"]);
    assert!(v["loteria"]["name"].is_string());
    assert!(
        v["loteria"].get("rulesJson").is_none(),
        "rules are not sent: {v}"
    );
}

async fn patch(w: &World, who: &Login, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    call(&w.app, Method::PATCH, path, Some(&who.token), body.as_ref()).await
}

#[tokio::test]
async fn create_and_update() {
    let w = fixtures::world().await;
    let tres = fixtures::loteria(&w.app, Some(w.a.banca_id), "MONAZOS", json!({"digits": 3})).await;
    let tica = fixtures::loteria(
        &w.app,
        Some(w.a.banca_id),
        "TICA",
        json!({"reventadoConfig": {"enabled": true}}),
    )
    .await;
    let day = cr_date(5);
    let create = |who: &Login, body: Value| {
        let w = &w;
        let token = who.token.clone();
        async move {
            call(
                &w.app,
                Method::POST,
                "/api/v1/sorteos",
                Some(&token),
                Some(&body),
            )
            .await
        }
    };

    // Without offset: Costa Rica local time; digits from the lotería.
    let (st, body) = create(
        &w.a.banca_user,
        json!({"loteriaId": tres, "name": "MONAZOS tarde", "scheduledAt": format!("{day}T13:55:00")}),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{body}");
    let d = &body["data"];
    assert_sorteo_shape(d);
    assert_eq!(d["scheduledAt"], format!("{day}T13:55:00.000-06:00"));
    assert_eq!(
        (d["status"].as_str(), d["digits"].as_i64()),
        (Some("SCHEDULED"), Some(3))
    );
    assert_eq!(d["bancaId"], json!(w.a.banca_id));
    assert_eq!(d["reventadoEnabled"], false, "absent means disabled");
    let s1 = id_of(&body);
    assert_eq!(sorteo_row(&w, s1).await.4, utc(day, 19, 55));

    // With an offset, or epoch milliseconds; a missing name is generated.
    let (st, body) = create(
        &w.admin,
        json!({"loteriaId": tica, "scheduledAt": format!("{day}T20:00:00Z")}),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{body}");
    assert_eq!(body["data"]["name"], "TICA 2:00 PM");
    assert_eq!(body["data"]["reventadoEnabled"], true);
    assert_eq!(body["data"]["digits"], 2);
    let (st, body) = create(
        &w.a.banca_user,
        json!({"loteriaId": tica, "name": "TICA noche", "scheduledAt": utc(day, 2, 30).timestamp_millis()}),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{body}");

    // The same lotería and instant twice.
    let (st, body) = create(
        &w.a.banca_user,
        json!({"loteriaId": tica, "name": "otra", "scheduledAt": format!("{day}T14:00:00-06:00")}),
    )
    .await;
    assert_eq!(
        (st, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("SORTEO_EXISTS"))
    );

    // Bad input, other tenant, other roles: nothing written.
    let before = counts(&w).await;
    let at = format!("{day}T09:00:00");
    for (body, field) in [
        (json!({"name": "x", "scheduledAt": at}), "loteriaId"),
        (json!({"loteriaId": tica, "name": "x"}), "scheduledAt"),
        (
            json!({"loteriaId": tica, "scheduledAt": "mañana"}),
            "scheduledAt",
        ),
        (
            json!({"loteriaId": tica, "scheduledAt": format!("{day}")}),
            "scheduledAt",
        ),
        (
            json!({"loteriaId": tica, "scheduledAt": at, "name": "  "}),
            "name",
        ),
        (
            json!({"loteriaId": tica, "scheduledAt": at, "digits": 4}),
            "digits",
        ),
        (
            json!({"loteriaId": tica, "scheduledAt": at, "digits": 3}),
            "digits",
        ),
    ] {
        let (st, res) = create(&w.a.banca_user, body.clone()).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{body}: {res}");
        assert!(
            detail_fields(&res).contains(&field.to_string()),
            "{body}: {res}"
        );
    }
    for body in [
        json!({"loteriaId": "no-uuid", "scheduledAt": at}),
        json!({"loteriaId": tica, "scheduledAt": at, "status": "OPEN"}),
    ] {
        let (st, res) = create(&w.a.banca_user, body.clone()).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{body}: {res}");
    }
    let (st, _) = create(
        &w.b.banca_user,
        json!({"loteriaId": tica, "scheduledAt": at}),
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    for who in [&w.a.ventana_users[0], &w.a.vendedores[0]] {
        let (st, _) = create(who, json!({"loteriaId": tica, "scheduledAt": at})).await;
        assert_eq!(st, StatusCode::FORBIDDEN);
    }
    exec(
        &w,
        "UPDATE loterias SET is_active = false WHERE id = $1",
        tres,
    )
    .await;
    let (st, res) = create(
        &w.a.banca_user,
        json!({"loteriaId": tres, "scheduledAt": at}),
    )
    .await;
    assert_eq!(
        (st, res["code"].as_str()),
        (StatusCode::CONFLICT, Some("LOTERIA_INACTIVE"))
    );
    assert_eq!(counts(&w).await, before);
    exec(
        &w,
        "UPDATE loterias SET is_active = true WHERE id = $1",
        tres,
    )
    .await;

    // Update: name and time; the lotería only while SCHEDULED (taking its digits).
    let path = format!("/api/v1/sorteos/{s1}");
    let (st, body) = patch(
        &w,
        &w.a.banca_user,
        &path,
        Some(json!({"name": "MONAZOS 2", "scheduledAt": format!("{day}T15:00:00")})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["name"], "MONAZOS 2");
    assert_eq!(sorteo_row(&w, s1).await.4, utc(day, 21, 0));
    let (st, body) = call(
        &w.app,
        Method::PUT,
        &path,
        Some(&w.a.banca_user.token),
        Some(&json!({"loteriaId": tica})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(
        (
            body["data"]["loteriaId"].clone(),
            body["data"]["digits"].as_i64()
        ),
        (json!(tica), Some(2))
    );
    exec(&w, "UPDATE sorteos SET status = 'OPEN' WHERE id = $1", s1).await;
    let (st, body) = patch(&w, &w.a.banca_user, &path, Some(json!({"loteriaId": tres}))).await;
    assert_eq!(
        (st, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("INVALID_SORTEO_STATE"))
    );
    exec(&w, "UPDATE sorteos SET status = 'CLOSED' WHERE id = $1", s1).await;
    let (st, body) = patch(&w, &w.a.banca_user, &path, Some(json!({"name": "x"}))).await;
    assert_eq!(
        (st, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("INVALID_SORTEO_STATE"))
    );
    assert!(
        body["message"].as_str().unwrap().contains("CLOSED"),
        "{body}"
    );
    let (st, _) = patch(&w, &w.a.banca_user, &path, Some(json!({"status": "OPEN"}))).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "only the fields of §1.3");
}

/// What each action does from each state: `Some(new status)` or refused.
fn expected(action: &str, from: &str) -> Option<&'static str> {
    let row: [Option<&str>; 4] = match action {
        "open" => [Some("OPEN"), None, None, None],
        "close" => [None, Some("CLOSED"), Some("CLOSED"), None],
        "force-open" | "activate-and-open" => [Some("OPEN"), None, None, Some("OPEN")],
        "set-active" => [
            Some("SCHEDULED"),
            Some("OPEN"),
            Some("EVALUATED"),
            Some("CLOSED"),
        ],
        "reset-to-scheduled" => [
            Some("SCHEDULED"),
            Some("SCHEDULED"),
            None,
            Some("SCHEDULED"),
        ],
        "restore" => [None, None, None, Some("OPEN")],
        "delete" => [Some("CLOSED"); 4],
        _ => unreachable!(),
    };
    let i = STATES.iter().position(|s| *s == from).unwrap();
    row[i]
}

const STATES: [&str; 4] = ["SCHEDULED", "OPEN", "EVALUATED", "CLOSED"];
const ACTIONS: [&str; 8] = [
    "open",
    "close",
    "force-open",
    "activate-and-open",
    "set-active",
    "reset-to-scheduled",
    "restore",
    "delete",
];

#[tokio::test]
async fn every_state_and_action_pair_over_http() {
    let w = fixtures::world().await;
    let l = fixtures::loteria(&w.app, Some(w.a.banca_id), "TICA", json!({})).await;
    let day = cr_date(2);
    let mut minute = 0;
    for action in ACTIONS {
        for from in STATES {
            minute += 1;
            let id = fixtures::sorteo(&w.app, l, utc(day, 12, 0) + Duration::minutes(minute), from)
                .await;
            let before = sorteo_row(&w, id).await;
            let activity = count(&w, "SELECT count(*) FROM activity_logs").await;
            let (st, body) = if action == "delete" {
                call(
                    &w.app,
                    Method::DELETE,
                    &format!("/api/v1/sorteos/{id}"),
                    Some(&w.a.banca_user.token),
                    Some(&json!({})),
                )
                .await
            } else {
                patch(
                    &w,
                    &w.a.banca_user,
                    &format!("/api/v1/sorteos/{id}/{action}"),
                    Some(json!({})),
                )
                .await
            };
            let after = sorteo_row(&w, id).await;
            match expected(action, from) {
                Some(to) => {
                    assert_eq!(st, StatusCode::OK, "{action} from {from}: {body}");
                    assert_eq!(body["data"]["status"], to, "{action} from {from}");
                    assert_eq!(after.0, to, "{action} from {from}");
                    let active = !matches!(action, "set-active" | "delete");
                    assert_eq!(after.1, active, "{action} from {from}: isActive");
                    assert_eq!(after.2, action == "delete", "{action} from {from}: deleted");
                    assert_eq!(
                        count(&w, "SELECT count(*) FROM activity_logs").await,
                        activity + 1,
                        "{action} from {from}: one activity entry"
                    );
                }
                None => {
                    assert_eq!(st, StatusCode::CONFLICT, "{action} from {from}: {body}");
                    assert_eq!(body["code"], "INVALID_SORTEO_STATE", "{action} from {from}");
                    assert!(
                        body["message"].as_str().unwrap().contains(from),
                        "the message names the state: {body}"
                    );
                    assert_eq!(after, before, "{action} from {from}: nothing changed");
                    assert_eq!(
                        count(&w, "SELECT count(*) FROM activity_logs").await,
                        activity
                    );
                }
            }
        }
    }
}

#[tokio::test]
async fn guards_beyond_the_matrix() {
    let w = fixtures::world().await;
    let l = fixtures::loteria(&w.app, Some(w.a.banca_id), "TICA", json!({})).await;
    let day = cr_date(2);
    let at = |m: i64| utc(day, 12, 0) + Duration::minutes(m);
    let p = |id: Uuid, a: &str| format!("/api/v1/sorteos/{id}/{a}");

    // open needs isActive; activate-and-open activates.
    let s = fixtures::sorteo(&w.app, l, at(1), "SCHEDULED").await;
    let (st, body) = patch(
        &w,
        &w.a.banca_user,
        &p(s, "set-active"),
        Some(json!({"isActive": false})),
    )
    .await;
    assert_eq!(
        (st, body["data"]["isActive"].as_bool()),
        (StatusCode::OK, Some(false))
    );
    let (st, body) = patch(&w, &w.a.banca_user, &p(s, "open"), None).await;
    assert_eq!(
        (st, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("SORTEO_INACTIVE"))
    );
    let (st, body) = patch(&w, &w.a.banca_user, &p(s, "activate-and-open"), None).await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(
        (
            body["data"]["status"].as_str(),
            body["data"]["isActive"].as_bool()
        ),
        (Some("OPEN"), Some(true))
    );
    // set-active without a body toggles; the same value again changes nothing.
    let (_, body) = patch(&w, &w.a.banca_user, &p(s, "set-active"), None).await;
    assert_eq!(body["data"]["isActive"], false);
    let (st, _) = patch(
        &w,
        &w.a.banca_user,
        &p(s, "set-active"),
        Some(json!({"isActive": "no"})),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);

    // A deleted sorteo only takes restore; deleting again is a no-op; restore reopens it.
    let s = fixtures::sorteo(&w.app, l, at(2), "SCHEDULED").await;
    let (st, body) = call(
        &w.app,
        Method::DELETE,
        &format!("/api/v1/sorteos/{s}"),
        Some(&w.a.banca_user.token),
        Some(&json!({"reason": "feriado"})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["deletedReason"], "feriado");
    for a in [
        "open",
        "force-open",
        "reset-to-scheduled",
        "set-active",
        "activate-and-open",
    ] {
        let (st, body) = patch(&w, &w.a.banca_user, &p(s, a), None).await;
        assert_eq!(
            (st, body["code"].as_str()),
            (StatusCode::CONFLICT, Some("INVALID_SORTEO_STATE")),
            "{a}"
        );
    }
    let (st, _) = patch(
        &w,
        &w.a.banca_user,
        &format!("/api/v1/sorteos/{s}"),
        Some(json!({"name": "x"})),
    )
    .await;
    assert_eq!(st, StatusCode::CONFLICT);
    let (st, _) = call(
        &w.app,
        Method::DELETE,
        &format!("/api/v1/sorteos/{s}"),
        Some(&w.a.banca_user.token),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let mut conn = w.db.connect().await;
    let deletes: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM activity_logs WHERE action = 'SOFT_DELETE' AND target_id = $1",
    )
    .bind(s.to_string())
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(deletes, 1);
    let (st, body) = patch(&w, &w.a.banca_user, &p(s, "restore"), Some(json!({}))).await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(sorteo_row(&w, s).await.0, "OPEN");
    assert!(!sorteo_row(&w, s).await.2);

    // A drawn sorteo (closed with a result) is not reopened nor reset.
    let s = fixtures::sorteo(&w.app, l, at(3), "CLOSED").await;
    exec(
        &w,
        "UPDATE sorteos SET winning_number = '25', has_winner = true WHERE id = $1",
        s,
    )
    .await;
    for a in [
        "force-open",
        "activate-and-open",
        "reset-to-scheduled",
        "restore",
    ] {
        let (st, body) = patch(&w, &w.a.banca_user, &p(s, a), None).await;
        assert_eq!(
            (st, body["code"].as_str()),
            (StatusCode::CONFLICT, Some("SORTEO_HAS_RESULT")),
            "{a}"
        );
    }
    assert_eq!(sorteo_row(&w, s).await.0, "CLOSED");

    // Restoring a deleted sorteo whose instant was taken meanwhile is a conflict.
    let s = fixtures::sorteo(&w.app, l, at(4), "OPEN").await;
    call(
        &w.app,
        Method::DELETE,
        &format!("/api/v1/sorteos/{s}"),
        Some(&w.a.banca_user.token),
        None,
    )
    .await;
    fixtures::sorteo(&w.app, l, at(4), "SCHEDULED").await;
    let (st, body) = patch(&w, &w.a.banca_user, &p(s, "restore"), None).await;
    assert_eq!(
        (st, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("SORTEO_EXISTS"))
    );
}

#[tokio::test]
async fn concurrent_transitions_serialize_and_exactly_one_wins() {
    let w = fixtures::world().await;
    let l = fixtures::loteria(&w.app, Some(w.a.banca_id), "TICA", json!({})).await;
    let day = cr_date(1);
    for i in 0..5 {
        let s = fixtures::sorteo(&w.app, l, utc(day, 12, i), "SCHEDULED").await;
        let path = format!("/api/v1/sorteos/{s}/open");
        let (a, b) = tokio::join!(
            patch(&w, &w.a.banca_user, &path, Some(json!({}))),
            patch(&w, &w.admin, &path, Some(json!({})))
        );
        let mut codes = [a.0, b.0];
        codes.sort();
        assert_eq!(
            codes,
            [StatusCode::OK, StatusCode::CONFLICT],
            "{} {}",
            a.1,
            b.1
        );
        let loser = if a.0 == StatusCode::CONFLICT {
            &a.1
        } else {
            &b.1
        };
        assert_eq!(loser["code"], "INVALID_SORTEO_STATE");
        assert!(
            loser["message"].as_str().unwrap().contains("OPEN"),
            "{loser}"
        );
        let mut conn = w.db.connect().await;
        let opens: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM activity_logs WHERE action = 'SORTEO_OPEN' AND target_id = $1",
        )
        .bind(s.to_string())
        .fetch_one(&mut conn)
        .await
        .unwrap();
        assert_eq!(opens, 1);
    }
}

async fn list(w: &World, who: &Login, query: &str) -> (StatusCode, Value) {
    call(
        &w.app,
        Method::GET,
        &format!("/api/v1/sorteos?{query}"),
        Some(&who.token),
        None,
    )
    .await
}

fn names(v: &Value) -> Vec<String> {
    v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn listing_filters_tokens_and_pages() {
    let w = fixtures::world().await;
    let tica = fixtures::loteria(
        &w.app,
        Some(w.a.banca_id),
        "TICA",
        json!({"reventadoConfig": {"enabled": true}}),
    )
    .await;
    let nica = fixtures::loteria(&w.app, Some(w.a.banca_id), "NICA", json!({})).await;
    let today = cr_date(0);
    let yesterday = cr_date(-1);
    let later = cr_date(40);
    // Local noon and 18:00 (UTC−6).
    let t_noon = fixtures::sorteo(&w.app, tica, utc(today, 18, 0), "OPEN").await;
    let _t_eve = fixtures::sorteo(
        &w.app,
        nica,
        utc(today + Duration::days(1), 0, 0),
        "SCHEDULED",
    )
    .await;
    let y = fixtures::sorteo(&w.app, tica, utc(yesterday, 18, 0), "EVALUATED").await;
    exec(
        &w,
        "UPDATE sorteos SET winning_number = '25' WHERE id = $1",
        y,
    )
    .await;
    let _l = fixtures::sorteo(&w.app, tica, utc(later, 18, 0), "SCHEDULED").await;
    exec(&w, "UPDATE sorteos SET is_active = false WHERE id = $1", _l).await;
    let b_lot = fixtures::loteria(&w.app, Some(w.b.banca_id), "TICA", json!({})).await;
    fixtures::sorteo(&w.app, b_lot, utc(today, 18, 0), "OPEN").await;

    // A listero sees every draw of its banca (a vendedor only its policy's loterías, tested
    // in `vendedores_see_draws_of_loterias_their_policy_lets_them_sell`).
    let who = &w.a.ventana_users[0];
    let (st, body) = list(&w, who, "").await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["meta"]["total"], 4);
    assert_eq!(body["meta"]["pageSize"], 10, "default page size");
    let data = body["data"].as_array().unwrap();
    for s in data {
        assert_sorteo_shape(s);
    }
    let at: Vec<&str> = data
        .iter()
        .map(|s| s["scheduledAt"].as_str().unwrap())
        .collect();
    let mut sorted = at.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(at, sorted, "latest draw first");
    let first_noon = data.iter().find(|s| s["id"] == json!(t_noon)).unwrap();
    assert_eq!(first_noon["reventadoEnabled"], true);
    assert_eq!(
        first_noon["scheduledAt"],
        format!("{today}T12:00:00.000-06:00")
    );

    let total = |q: &'static str| {
        let w = &w;
        async move {
            let (st, body) = list(w, who, q).await;
            assert_eq!(st, StatusCode::OK, "{q}: {body}");
            body["meta"]["total"].as_i64().unwrap()
        }
    };
    assert_eq!(total("date=today").await, 2, "noon and 18:00 local today");
    assert_eq!(total("date=yesterday").await, 1);
    assert!(total("date=year").await >= 2);
    assert_eq!(total("status=OPEN").await, 1);
    assert_eq!(total("status=EVALUATED&search=25").await, 1);
    assert_eq!(total("search=nica").await, 1, "lotería name");
    assert_eq!(total("isActive=false").await, 1);
    assert_eq!(total("isActive=true").await, 3);
    assert_eq!(total("loteriaId=all").await, 4);
    let (_, body) = list(&w, who, &format!("loteriaId={nica}")).await;
    assert_eq!(body["meta"]["total"], 1);
    let (_, body) = list(
        &w,
        who,
        &format!("date=range&fromDate={yesterday}&toDate={today}"),
    )
    .await;
    assert_eq!(body["meta"]["total"], 3, "{body}");
    let (_, body) = list(
        &w,
        who,
        &format!("date=range&fromDate={later}&toDate={later}"),
    )
    .await;
    assert_eq!(
        names(&body),
        vec!["TICA 12:00"],
        "future ranges are allowed"
    );
    let (_, body) = list(&w, who, "pageSize=1&page=2&_=123").await;
    assert_eq!(body["data"].as_array().unwrap().len(), 1);
    assert_eq!(
        (
            body["meta"]["totalPages"].as_i64(),
            body["meta"]["hasNextPage"].as_bool(),
            body["meta"]["hasPrevPage"].as_bool()
        ),
        (Some(4), Some(true), Some(true))
    );

    for bad in [
        "pageSize=101",
        "page=0",
        "status=PENDING",
        "date=manana",
        "date=range",
        &format!("date=range&fromDate={today}"),
        &format!("date=today&fromDate={today}"),
        &format!("date=range&fromDate={today}&toDate={yesterday}"),
        "fromDate=2026-13-01",
        "loteriaId=xyz",
        "isActive=maybe",
        "groupBy=day",
    ] {
        let (st, body) = list(&w, who, bad).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert_eq!(body["code"], "VALIDATION_ERROR");
    }

    // Grouped by local time of day: every listed draw falls in exactly one group.
    let (st, body) = list(&w, who, "groupBy=hour").await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["meta"]["grouped"], true);
    let groups = body["data"].as_array().unwrap();
    let counted: u64 = groups.iter().map(|g| g["count"].as_u64().unwrap()).sum();
    assert_eq!(counted, 4, "{body}");
    assert!(groups
        .iter()
        .all(|g| g["hour24"].as_str().unwrap().len() == 5));
    let (st, body) = list(&w, who, "groupBy=loteria-hour").await;
    assert_eq!(st, StatusCode::OK);
    assert!(body["data"][0]["loteriaName"].is_string(), "{body}");

    // Tenants: B sees its own sorteo only (its vendedores none: they have no policy); ADMIN
    // sees all.
    for who in w.b.logins() {
        let (_, body) = list(&w, who, "").await;
        let want = if who.role == banca::domain::roles::Role::Vendedor {
            0
        } else {
            1
        };
        assert_eq!(body["meta"]["total"], want, "{}", who.username);
    }
    let (_, body) = list(&w, &w.admin, "").await;
    assert_eq!(body["meta"]["total"], 5);
}

#[tokio::test]
async fn isolation_and_reading_one() {
    let w = fixtures::world().await;
    let la = fixtures::loteria(&w.app, Some(w.a.banca_id), "TICA", json!({})).await;
    let lb = fixtures::loteria(&w.app, Some(w.b.banca_id), "TICA", json!({})).await;
    let day = cr_date(3);
    let sa = fixtures::sorteo(&w.app, la, utc(day, 18, 0), "SCHEDULED").await;
    let sb = fixtures::sorteo(&w.app, lb, utc(day, 18, 0), "SCHEDULED").await;
    let mul = fixtures::multiplier(&w.app, la, "ROJA", 5, "REVENTADO").await;
    let mut conn = w.db.connect().await;
    sqlx::query(
        "UPDATE sorteos SET extra_multiplier_id = $2, extra_multiplier_x = 5.5 WHERE id = $1",
    )
    .bind(sa)
    .bind(mul)
    .execute(&mut conn)
    .await
    .unwrap();

    // Every role of A reads A's sorteo; numbers are JSON numbers.
    for who in w.a.logins() {
        let (st, body) = call(
            &w.app,
            Method::GET,
            &format!("/api/v1/sorteos/{sa}"),
            Some(&who.token),
            None,
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{}: {body}", who.username);
        assert_sorteo_shape(&body["data"]);
        assert_eq!(body["data"]["extraMultiplierX"], json!(5.5));
        assert_eq!(body["data"]["extraMultiplier"]["valueX"], json!(5.0));
        assert_eq!(
            (
                body["data"]["hasSales"].as_bool(),
                body["data"]["ticketCount"].as_i64()
            ),
            (Some(false), Some(0))
        );
    }

    // Every write of each role of A on B's sorteo (and VENTANA/VENDEDOR on A's own).
    let writes = |id: Uuid| -> Vec<(Method, String, Option<Value>)> {
        let base = format!("/api/v1/sorteos/{id}");
        let mut v = vec![
            (Method::PATCH, base.clone(), Some(json!({"name": "x"}))),
            (Method::PUT, base.clone(), Some(json!({"name": "x"}))),
            (Method::DELETE, base.clone(), None),
        ];
        for a in [
            "restore",
            "open",
            "close",
            "force-open",
            "activate-and-open",
            "set-active",
            "reset-to-scheduled",
        ] {
            v.push((Method::PATCH, format!("{base}/{a}"), Some(json!({}))));
        }
        v
    };
    let before = (
        counts(&w).await,
        sorteo_row(&w, sa).await,
        sorteo_row(&w, sb).await,
    );
    for who in w.a.logins() {
        let (st, _) = call(
            &w.app,
            Method::GET,
            &format!("/api/v1/sorteos/{sb}"),
            Some(&who.token),
            None,
        )
        .await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{}", who.username);
        let want = if who.role == banca::domain::roles::Role::Banca {
            StatusCode::NOT_FOUND
        } else {
            StatusCode::FORBIDDEN
        };
        for (m, path, body) in writes(sb) {
            let (st, res) = call(&w.app, m, &path, Some(&who.token), body.as_ref()).await;
            assert_eq!(st, want, "{} {path}: {res}", who.username);
        }
        if who.role != banca::domain::roles::Role::Banca {
            for (m, path, body) in writes(sa) {
                let (st, _) = call(&w.app, m, &path, Some(&who.token), body.as_ref()).await;
                assert_eq!(st, StatusCode::FORBIDDEN, "{} {path}", who.username);
            }
        }
    }
    assert_eq!(
        (
            counts(&w).await,
            sorteo_row(&w, sa).await,
            sorteo_row(&w, sb).await
        ),
        before
    );

    // ADMIN reaches every banca.
    let (st, body) = patch(&w, &w.admin, &format!("/api/v1/sorteos/{sb}/open"), None).await;
    assert_eq!(st, StatusCode::OK, "{body}");
    let (st, _) = call(
        &w.app,
        Method::GET,
        "/api/v1/sorteos/not-a-uuid",
        Some(&w.admin.token),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, _) = call(
        &w.app,
        Method::GET,
        &format!("/api/v1/sorteos/{}", Uuid::new_v4()),
        Some(&w.admin.token),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn out_of_range_dates_are_400_and_deleted_draws_leave_status_lists() {
    let w = crate::fixtures::world().await;
    let admin = Some(w.admin.token.as_str());
    let lot = crate::fixtures::loteria(
        &w.app,
        Some(w.a.banca_id),
        "TICA",
        serde_json::json!({ "digits": 2, "drawSchedule": { "frequency": "diario", "times": ["12:55", "16:30", "19:30"] } }),
    )
    .await;
    for body in [
        serde_json::json!({ "loteriaId": lot, "scheduledAt": "-5000-01-01T00:00" }),
        serde_json::json!({ "loteriaId": lot, "scheduledAt": -300_000_000_000_000i64 }),
    ] {
        let (s, v) = crate::fixtures::call(
            &w.app,
            reqwest::Method::POST,
            "/api/v1/sorteos",
            admin,
            Some(&body),
        )
        .await;
        assert_eq!(s, 400, "{v}");
    }
    let (s, v) = crate::fixtures::call(
        &w.app,
        reqwest::Method::GET,
        "/api/v1/sorteos?date=range&fromDate=-5000-01-01&toDate=2026-01-01",
        admin,
        None,
    )
    .await;
    assert_eq!(s, 400, "{v}");
    let (s, v) = crate::fixtures::call(
        &w.app,
        reqwest::Method::GET,
        &format!("/api/v1/loterias/{lot}/preview_schedule?start=-5000-01-01&allowPast=true"),
        admin,
        None,
    )
    .await;
    assert_eq!(s, 400, "{v}");

    // Without `days`, a preview covers a week (3 draws a day → 21).
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1)).format("%Y-%m-%d");
    let (s, v) = crate::fixtures::call(
        &w.app,
        reqwest::Method::GET,
        &format!("/api/v1/loterias/{lot}/preview_schedule?start={tomorrow}"),
        admin,
        None,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["data"].as_array().map(Vec::len), Some(21), "{v}");

    // A deleted lotería takes its open sorteos along: they leave `status=OPEN` lists.
    let open = crate::fixtures::sorteo(
        &w.app,
        lot,
        chrono::Utc::now() + chrono::Duration::hours(5),
        "OPEN",
    )
    .await;
    let (s, _) = crate::fixtures::call(
        &w.app,
        reqwest::Method::DELETE,
        &format!("/api/v1/loterias/{lot}"),
        admin,
        None,
    )
    .await;
    assert_eq!(s, 200);
    let (s, v) = crate::fixtures::call(
        &w.app,
        reqwest::Method::GET,
        "/api/v1/sorteos?status=OPEN",
        Some(&w.a.vendedores[0].token),
        None,
    )
    .await;
    assert_eq!(s, 200);
    assert!(!v["data"].to_string().contains(&open.to_string()), "{v}");
}

#[tokio::test]
async fn vendedores_see_draws_of_loterias_their_policy_lets_them_sell() {
    use chrono::Utc;
    use serde_json::json;
    let w = crate::fixtures::world().await;
    let tica =
        crate::fixtures::loteria(&w.app, Some(w.a.banca_id), "TICA", json!({ "digits": 2 })).await;
    let nica =
        crate::fixtures::loteria(&w.app, Some(w.a.banca_id), "NICA", json!({ "digits": 2 })).await;
    crate::fixtures::multiplier(&w.app, tica, "Base", 90, "NUMERO").await;
    crate::fixtures::multiplier(&w.app, nica, "Base", 70, "NUMERO").await;
    let in_tica = crate::fixtures::sorteo(
        &w.app,
        tica,
        Utc::now() + chrono::Duration::hours(3),
        "OPEN",
    )
    .await;
    let in_nica = crate::fixtures::sorteo(
        &w.app,
        nica,
        Utc::now() + chrono::Duration::hours(4),
        "OPEN",
    )
    .await;
    let seller = &w.a.vendedores[0];
    let list = |token: String| {
        let app = &w.app;
        async move {
            let (s, v) = crate::fixtures::call(
                app,
                reqwest::Method::GET,
                "/api/v1/sorteos?status=OPEN",
                Some(&token),
                None,
            )
            .await;
            assert_eq!(s, 200, "{v}");
            v["data"].to_string()
        }
    };
    // No policy: nothing to sell, nothing listed.
    let text = list(seller.token.clone()).await;
    assert!(!text.contains(&in_tica.to_string()) && !text.contains(&in_nica.to_string()));

    let mut conn = w.db.connect().await;
    sqlx::query("UPDATE users SET commission_policy_json = $2 WHERE id = $1")
        .bind(seller.user_id)
        .bind(json!({
            "version": 1, "effectiveFrom": null, "effectiveTo": null, "defaultPercent": 0,
            "rules": [{ "id": "r1", "loteriaId": null, "betType": "NUMERO", "multiplierRange": { "min": 80, "max": 90 }, "percent": 5 }]
        }))
        .execute(&mut conn)
        .await
        .unwrap();
    let text = list(seller.token.clone()).await;
    assert!(text.contains(&in_tica.to_string()), "{text}");
    assert!(!text.contains(&in_nica.to_string()), "{text}");
    // The banca's administrator sees both.
    let text = list(w.a.banca_user.token.clone()).await;
    assert!(text.contains(&in_tica.to_string()) && text.contains(&in_nica.to_string()));
}

/// Per ticket of the sorteo: (vendedor, status, is_sorteo_closed, deleted, deleted_reason).
async fn tickets_of(w: &World, sorteo: Uuid) -> Vec<(Uuid, String, bool, bool, Option<String>)> {
    sqlx::query_as(
        "SELECT vendedor_id, status::text, is_sorteo_closed, deleted_at IS NOT NULL, deleted_reason
         FROM tickets WHERE sorteo_id = $1 ORDER BY created_at, id",
    )
    .bind(sorteo)
    .fetch_all(&mut w.db.connect().await)
    .await
    .unwrap()
}

#[tokio::test]
async fn ticket_counts_close_and_delete_follow_the_tickets() {
    let w = fixtures::world().await;
    let a = &w.a;
    let l = fixtures::loteria(&w.app, Some(a.banca_id), "TICA", json!({"digits": 2})).await;
    fixtures::multiplier(&w.app, l, "Base", 90, "NUMERO").await;
    let s = fixtures::sorteo(&w.app, l, Utc::now() + Duration::days(1), "OPEN").await;
    let empty = fixtures::sorteo(&w.app, l, Utc::now() + Duration::days(2), "OPEN").await;
    exec(
        &w,
        "UPDATE bancas SET default_min_bet = 0, global_max_per_number = 0 WHERE id = $1",
        a.banca_id,
    )
    .await;
    let sell = |who: &Login, n: &str| {
        let token = who.token.clone();
        let body = json!({"loteriaId": l, "sorteoId": s,
                          "jugadas": [{"type": "NUMERO", "number": n, "amount": 10}]});
        let app = &w.app;
        async move {
            let (st, v) = call(
                app,
                Method::POST,
                "/api/v1/tickets",
                Some(&token),
                Some(&body),
            )
            .await;
            assert_eq!(st, StatusCode::CREATED, "{v}");
            v["data"]["id"].as_str().unwrap().to_string()
        }
    };
    sell(&a.vendedores[0], "01").await;
    sell(&a.vendedores[0], "02").await;
    let cancelled = sell(&a.vendedores[0], "03").await;
    sell(&a.vendedores[1], "04").await;
    let (st, v) = patch(
        &w,
        &a.vendedores[0],
        &format!("/api/v1/tickets/{cancelled}/cancel"),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let one = |who: &Login, id: Uuid| {
        let token = who.token.clone();
        let app = &w.app;
        async move {
            let (st, v) = call(
                app,
                Method::GET,
                &format!("/api/v1/sorteos/{id}"),
                Some(&token),
                None,
            )
            .await;
            assert_eq!(st, StatusCode::OK, "{v}");
            (
                v["data"]["ticketCount"].as_i64().unwrap(),
                v["data"]["hasSales"].as_bool().unwrap(),
            )
        }
    };
    // Cancelled tickets do not count; each role counts what it may see.
    assert_eq!(one(&w.admin, s).await, (3, true));
    assert_eq!(one(&a.banca_user, s).await, (3, true));
    assert_eq!(one(&a.ventana_users[0], s).await, (2, true));
    assert_eq!(one(&a.ventana_users[1], s).await, (1, true));
    assert_eq!(one(&a.vendedores[1], s).await, (1, true));
    assert_eq!(one(&a.banca_user, empty).await, (0, false));
    // The list counts the whole page in one go.
    let (st, v) = list(&w, &a.banca_user, &format!("loteriaId={l}")).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let listed: Vec<(String, i64, bool)> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["id"].as_str().unwrap().to_string(),
                x["ticketCount"].as_i64().unwrap(),
                x["hasSales"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        vec![(empty.to_string(), 0, false), (s.to_string(), 3, true)]
    );
    // An excluded ticket is no sale either.
    let (st, v) = call(
        &w.app,
        Method::POST,
        &format!("/api/v1/sorteos/{s}/listas/exclude"),
        Some(&a.banca_user.token),
        Some(&json!({"ventanaId": a.ventanas[1]})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!(one(&a.banca_user, s).await, (2, true));
    assert_eq!(one(&a.ventana_users[1], s).await, (0, false));

    // Close marks every non-deleted ticket (the cancelled one is deleted) and says how many.
    let (st, v) = patch(
        &w,
        &a.banca_user,
        &format!("/api/v1/sorteos/{s}/close"),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let rows = tickets_of(&w, s).await;
    let closed: Vec<bool> = rows.iter().map(|r| r.2).collect();
    assert_eq!(closed, vec![true, true, false, true]);
    let logged: Value = sqlx::query_scalar(
        "SELECT details FROM activity_logs WHERE action = 'SORTEO_CLOSE' AND target_id = $1",
    )
    .bind(s.to_string())
    .fetch_one(&mut w.db.connect().await)
    .await
    .unwrap();
    assert_eq!(logged["ticketsClosed"], 3, "{logged}");
    // Reopened, they are not closed any more.
    let (st, v) = patch(
        &w,
        &a.banca_user,
        &format!("/api/v1/sorteos/{s}/force-open"),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert!(tickets_of(&w, s).await.iter().all(|r| !r.2));

    // Delete takes the non-deleted tickets with it; restore brings back exactly those.
    let (st, v) = call(
        &w.app,
        Method::DELETE,
        &format!("/api/v1/sorteos/{s}"),
        Some(&a.banca_user.token),
        Some(&json!({"reason": "feriado"})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["ticketCount"], 0);
    let rows = tickets_of(&w, s).await;
    for (i, r) in rows.iter().enumerate() {
        assert!(r.3, "ticket {i} deleted");
        if i == 2 {
            assert_eq!((r.1.as_str(), r.4.as_deref()), ("CANCELLED", None));
        } else {
            assert_eq!(
                r.4.as_deref(),
                Some("Eliminado por cascada del sorteo: feriado")
            );
        }
    }
    assert_eq!(rows[0].1, "ACTIVE", "the status is kept");
    assert_eq!(rows[3].1, "EXCLUDED");
    let (st, v) = patch(
        &w,
        &a.banca_user,
        &format!("/api/v1/sorteos/{s}/restore"),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["status"], "OPEN");
    assert_eq!(v["data"]["ticketCount"], 2);
    let deleted: Vec<bool> = tickets_of(&w, s).await.iter().map(|r| r.3).collect();
    assert_eq!(deleted, vec![false, false, true, false]);
    let logged: Value = sqlx::query_scalar(
        "SELECT details FROM activity_logs WHERE action = 'RESTORE' AND target_id = $1",
    )
    .bind(s.to_string())
    .fetch_one(&mut w.db.connect().await)
    .await
    .unwrap();
    assert_eq!(logged["ticketsRestored"], 3, "{logged}");
    // The counters never moved: they still match the jugadas, and the sorteo sells again.
    let (st, v) = call(
        &w.app,
        Method::GET,
        "/api/v1/restrictions/cron-health",
        Some(&w.admin.token),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["counters"]["mismatches"], 0, "{v}");
    sell(&a.vendedores[0], "05").await;
    assert_eq!(one(&a.banca_user, s).await, (3, true));
}
