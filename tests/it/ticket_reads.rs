//! Ticket reads against a real PostgreSQL: the list (role and tenant scope, pagination meta,
//! date tokens, search, number filters), the detail (404 out of reach), the look-up by number
//! (format, check digits, scope, REVENTADO folding), the numbers summary (running totals and
//! jugadas agree), the balances of a maxTotal rule, and the filter options.
//!
//! Tickets, jugadas and running totals are written with plain SQL (the sale endpoint is tested
//! on its own); the read routes are served by a second app on the same database that shares
//! the world's JWT secrets.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::America::Costa_Rica;
use reqwest::StatusCode;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::common::{self, TestApp};
use crate::fixtures::{self, Login, World};

const SECRETS: [(&str, &str); 2] = [
    (
        "JWT_ACCESS_SECRET",
        "ticket-reads-access-secret-0123456789abcdef",
    ),
    (
        "JWT_REFRESH_SECRET",
        "ticket-reads-refresh-secret-0123456789abcdef",
    ),
];

const MKEY_ALL: Uuid = Uuid::nil();
const MKEY_REVENTADO: Uuid = Uuid::max();

struct Env {
    w: World,
    /// Serves `ticket_reads::routes()` on the world's database.
    app: TestApp,
}

async fn env() -> Env {
    let w = fixtures::world_with(&SECRETS).await;
    let app = common::spawn_with(
        common::config(&w.db, &SECRETS),
        banca::http::routes::ticket_reads::routes(),
        true,
    )
    .await;
    Env { w, app }
}

/// GET with a bearer token and, optionally, an active banca.
async fn get(app: &TestApp, path: &str, who: &Login, banca: Option<Uuid>) -> (StatusCode, Value) {
    let mut req = app.client.get(app.url(path)).bearer_auth(&who.token);
    if let Some(b) = banca {
        req = req.header("X-Active-Banca-Id", b.to_string());
    }
    let res = req.send().await.expect("request sent");
    let status = res.status();
    let text = res.text().await.unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn cr_today() -> NaiveDate {
    Utc::now().with_timezone(&Costa_Rica).date_naive()
}

/// 20:00 business-local of `day`.
fn evening(day: NaiveDate) -> DateTime<Utc> {
    Costa_Rica
        .from_local_datetime(&day.and_hms_opt(20, 0, 0).unwrap())
        .single()
        .unwrap()
        .with_timezone(&Utc)
}

fn dec(v: &Value) -> Decimal {
    v.as_f64()
        .map(|f| Decimal::try_from(f).unwrap().round_dp(2))
        .unwrap_or_else(|| panic!("not a number: {v}"))
}

fn d(n: i64) -> Decimal {
    Decimal::from(n)
}

/// A lotería of `banca` (reventado enabled), its "Base" multiplier and an OPEN sorteo at 20:00
/// of `day`.
struct Game {
    loteria: Uuid,
    sorteo: Uuid,
    base: Uuid,
}

async fn game(w: &World, banca: Uuid, name: &str, day: NaiveDate) -> Game {
    let loteria = fixtures::loteria(
        &w.app,
        Some(banca),
        name,
        json!({"digits": 2, "reventadoConfig": {"enabled": true}}),
    )
    .await;
    let base = fixtures::multiplier(&w.app, loteria, "Base", 90, "NUMERO").await;
    let sorteo = fixtures::sorteo(&w.app, loteria, evening(day), "OPEN").await;
    Game {
        loteria,
        sorteo,
        base,
    }
}

/// Another sorteo of the same lotería at 20:00 of `day`.
async fn sorteo_on(w: &World, g: &Game, day: NaiveDate) -> Uuid {
    fixtures::sorteo(&w.app, g.loteria, evening(day), "OPEN").await
}

/// One jugada to write: `(type, number, amount, multiplier)`.
type J = (&'static str, &'static str, i64, Option<Uuid>);

/// Who sells: banca, ventana, vendedor.
#[derive(Clone, Copy)]
struct Seller {
    banca: Uuid,
    ventana: Uuid,
    vendedor: Uuid,
}

fn seller_a(w: &World, i: usize) -> Seller {
    Seller {
        banca: w.a.banca_id,
        ventana: w.a.ventanas[i],
        vendedor: w.a.vendedores[i].user_id,
    }
}

fn seller_b(w: &World, i: usize) -> Seller {
    Seller {
        banca: w.b.banca_id,
        ventana: w.b.ventanas[i],
        vendedor: w.b.vendedores[i].user_id,
    }
}

struct Sold {
    id: Uuid,
    number: String,
}

/// Writes a ticket with `jugadas` for `s` in `sorteo` (business date `day`, created `age`
/// seconds ago) with `status`. ACTIVE tickets also add to the running totals of the three
/// scopes, as the sale does.
#[allow(clippy::too_many_arguments)]
async fn ticket(
    w: &World,
    s: Seller,
    g: &Game,
    sorteo: Uuid,
    day: NaiveDate,
    age: i64,
    status: &str,
    jugadas: &[J],
) -> Sold {
    let mut conn = w.db.connect().await;
    let seq: i64 = sqlx::query_scalar("SELECT nextval('ticket_number_seq')")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let number = banca::domain::ticket_number::format(day, seq);
    let id = Uuid::new_v4();
    let total: i64 = jugadas.iter().map(|j| j.2).sum();
    let active = status != "CANCELLED";
    sqlx::query(
        "INSERT INTO tickets (id, ticket_number, business_date, banca_id, loteria_id, sorteo_id,
                              ventana_id, vendedor_id, total_amount, status, is_active,
                              created_at, deleted_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::ticket_status, $11,
                 now() - make_interval(secs => $12), CASE WHEN $11 THEN NULL ELSE now() END)",
    )
    .bind(id)
    .bind(&number)
    .bind(day)
    .bind(s.banca)
    .bind(g.loteria)
    .bind(sorteo)
    .bind(s.ventana)
    .bind(s.vendedor)
    .bind(d(total))
    .bind(status)
    .bind(active)
    .bind(age as f64)
    .execute(&mut conn)
    .await
    .unwrap();
    for (pos, (kind, num, amount, m)) in jugadas.iter().enumerate() {
        sqlx::query(
            "INSERT INTO jugadas (id, ticket_id, sorteo_id, banca_id, position, type, number,
                                  reventado_number, amount, final_multiplier_x, multiplier_id,
                                  is_active)
             VALUES ($1, $2, $3, $4, $5, $6::bet_type, $7,
                     CASE WHEN $6 = 'REVENTADO' THEN $7 END, $8, 90, $9, $10)",
        )
        .bind(Uuid::new_v4())
        .bind(id)
        .bind(sorteo)
        .bind(s.banca)
        .bind(pos as i16)
        .bind(*kind)
        .bind(*num)
        .bind(d(*amount))
        .bind(*m)
        .bind(active)
        .execute(&mut conn)
        .await
        .unwrap();
        if !active {
            continue;
        }
        let key = if *kind == "REVENTADO" {
            MKEY_REVENTADO
        } else {
            m.unwrap_or(MKEY_ALL)
        };
        for (scope_kind, scope_id) in [
            ("VENDEDOR", s.vendedor),
            ("VENTANA", s.ventana),
            ("BANCA", s.banca),
        ] {
            let mut keys = vec![MKEY_ALL];
            if key != MKEY_ALL {
                keys.push(key);
            }
            for mkey in keys {
                counter(w, sorteo, scope_kind, scope_id, mkey, num, *amount).await;
            }
        }
    }
    Sold { id, number }
}

/// Adds `amount` to one running total.
async fn counter(
    w: &World,
    sorteo: Uuid,
    scope_kind: &str,
    scope_id: Uuid,
    mkey: Uuid,
    number: &str,
    amount: i64,
) {
    let mut conn = w.db.connect().await;
    sqlx::query(
        "INSERT INTO sale_counters (sorteo_id, scope_kind, scope_id, mkey, number, amount)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (sorteo_id, scope_id, mkey, number)
         DO UPDATE SET amount = sale_counters.amount + EXCLUDED.amount",
    )
    .bind(sorteo)
    .bind(scope_kind)
    .bind(scope_id)
    .bind(mkey)
    .bind(number)
    .bind(d(amount))
    .execute(&mut conn)
    .await
    .unwrap();
}

async fn exec(w: &World, sql: &str, id: Uuid) {
    let mut conn = w.db.connect().await;
    sqlx::query(sql).bind(id).execute(&mut conn).await.unwrap();
}

fn total(v: &Value) -> i64 {
    v["meta"]["total"].as_i64().unwrap_or_else(|| panic!("{v}"))
}

fn ids(v: &Value) -> Vec<String> {
    v["data"]
        .as_array()
        .unwrap_or_else(|| panic!("{v}"))
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect()
}

// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn list_is_scoped_by_role_and_tenant() {
    let Env { w, app } = env().await;
    let today = cr_today();
    let ga = game(&w, w.a.banca_id, "Tica A", today).await;
    let gb = game(&w, w.b.banca_id, "Tica B", today).await;
    let one: &[J] = &[("NUMERO", "05", 100, None)];
    let a1 = seller_a(&w, 0);
    let a2 = seller_a(&w, 1);
    for age in [10, 20] {
        ticket(&w, a1, &ga, ga.sorteo, today, age, "ACTIVE", one).await;
    }
    let a2_ticket = ticket(&w, a2, &ga, ga.sorteo, today, 30, "ACTIVE", one).await;
    ticket(&w, seller_b(&w, 0), &gb, gb.sorteo, today, 5, "ACTIVE", one).await;

    let path = "/api/v1/tickets?date=today&scope=mine";
    // A vendedor sees its own tickets only, whatever filter it sends.
    let (s, v) = get(&app, path, &w.a.vendedores[0], None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(total(&v), 2);
    for t in v["data"].as_array().unwrap() {
        assert_eq!(t["vendedorId"], a1.vendedor.to_string());
    }
    let (_, v) = get(
        &app,
        &format!("{path}&vendedorId={}", a2.vendedor),
        &w.a.vendedores[0],
        None,
    )
    .await;
    assert!(!ids(&v).contains(&a2_ticket.id.to_string()), "{v}");

    // A ventana sees its ventana; another ventana's vendedor or another ventana is refused.
    let (_, v) = get(&app, path, &w.a.ventana_users[1], None).await;
    assert_eq!(ids(&v), vec![a2_ticket.id.to_string()]);
    let (s, v) = get(
        &app,
        &format!("{path}&vendedorId={}", a2.vendedor),
        &w.a.ventana_users[0],
        None,
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    let (s, _) = get(
        &app,
        &format!("{path}&ventanaId={}", a2.ventana),
        &w.a.ventana_users[0],
        None,
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // Bancas see their own tenant only; a filter naming the other tenant is refused.
    let (_, v) = get(&app, path, &w.a.banca_user, None).await;
    assert_eq!(total(&v), 3);
    let (_, v) = get(&app, path, &w.b.banca_user, None).await;
    assert_eq!(total(&v), 1);
    let (s, _) = get(
        &app,
        &format!("{path}&vendedorId={}", a1.vendedor),
        &w.b.banca_user,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // ADMIN: everything, or the active banca.
    let (_, v) = get(&app, path, &w.admin, None).await;
    assert_eq!(total(&v), 4);
    let (_, v) = get(&app, path, &w.admin, Some(w.a.banca_id)).await;
    assert_eq!(total(&v), 3);
    let (_, v) = get(
        &app,
        &format!("{path}&vendedorId={}", a2.vendedor),
        &w.admin,
        None,
    )
    .await;
    assert_eq!(total(&v), 1);
}

#[tokio::test]
async fn list_pages_filters_by_date_search_and_number() {
    let Env { w, app } = env().await;
    let today = cr_today();
    let yesterday = today.pred_opt().unwrap();
    let g = game(&w, w.a.banca_id, "Nica Especial", today).await;
    let old_sorteo = sorteo_on(&w, &g, yesterday).await;
    let a1 = seller_a(&w, 0);
    let mut sold = Vec::new();
    for (age, num) in [(50, "05"), (40, "17"), (30, "05"), (20, "33"), (10, "44")] {
        let j: Vec<J> = vec![("NUMERO", num, 100, Some(g.base))];
        sold.push(ticket(&w, a1, &g, g.sorteo, today, age, "ACTIVE", &j).await);
    }
    let old = ticket(
        &w,
        a1,
        &g,
        old_sorteo,
        yesterday,
        86_400,
        "ACTIVE",
        &[("NUMERO", "99", 100, None)],
    )
    .await;
    exec(
        &w,
        "UPDATE tickets SET is_winner = true WHERE id = $1",
        sold[4].id,
    )
    .await;
    let who = &w.a.banca_user;

    // Pagination: newest first, meta as every list.
    let (s, v) = get(&app, "/api/v1/tickets?page=2&pageSize=2", who, None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        v["meta"],
        json!({"page": 2, "pageSize": 2, "total": 5, "totalPages": 3,
               "hasNextPage": true, "hasPrevPage": true})
    );
    assert_eq!(
        ids(&v),
        vec![sold[2].id.to_string(), sold[1].id.to_string()]
    );
    let (_, v) = get(&app, "/api/v1/tickets?page=3&pageSize=2", who, None).await;
    assert_eq!(ids(&v), vec![sold[0].id.to_string()]);
    assert_eq!(v["meta"]["hasNextPage"], false);
    let (_, v) = get(&app, "/api/v1/tickets?page=9&pageSize=2", who, None).await;
    assert_eq!((ids(&v).len(), total(&v)), (0, 5));

    // The list item carries its relations and jugadas.
    let (_, v) = get(&app, "/api/v1/tickets?pageSize=1", who, None).await;
    let t = &v["data"][0];
    assert_eq!(t["ticketNumber"], sold[4].number);
    assert_eq!(t["loteria"]["name"], "Nica Especial");
    assert_eq!(t["vendedor"]["name"], w.a.vendedores[0].username);
    assert_eq!(t["ventana"]["code"], "VA1");
    assert!(
        t["sorteo"]["name"].as_str().unwrap().ends_with("8:00 PM"),
        "{t}"
    );
    assert!(t["sorteo"]["scheduledAt"]
        .as_str()
        .unwrap()
        .ends_with("-06:00"));
    assert_eq!(t["jugadas"][0]["number"], "44");
    assert_eq!(t["jugadas"][0]["type"], "NUMERO");
    assert_eq!(t["totalAmount"], 100.0);
    assert_eq!(t["businessDate"], format!("{today}T00:00:00.000Z"));

    // Date tokens.
    let (_, v) = get(&app, "/api/v1/tickets?date=yesterday", who, None).await;
    assert_eq!(ids(&v), vec![old.id.to_string()]);
    let (_, v) = get(
        &app,
        &format!("/api/v1/tickets?date=range&fromDate={yesterday}&toDate={today}"),
        who,
        None,
    )
    .await;
    assert_eq!(total(&v), 6);
    let (_, v) = get(&app, "/api/v1/tickets?date=week", who, None).await;
    assert!(total(&v) >= 5);
    // A named sorteo without explicit dates is not limited to today.
    let (_, v) = get(
        &app,
        &format!("/api/v1/tickets?sorteoId={old_sorteo}"),
        who,
        None,
    )
    .await;
    assert_eq!(ids(&v), vec![old.id.to_string()]);

    // Search: names (case-insensitive) and ticket-number prefixes.
    let (_, v) = get(&app, "/api/v1/tickets?search=nica%20esp", who, None).await;
    assert_eq!(total(&v), 5);
    let (_, v) = get(&app, "/api/v1/tickets?search=nadie", who, None).await;
    assert_eq!(total(&v), 0);
    let prefix = &sold[3].number[..sold[3].number.len() - 1].to_lowercase();
    let (_, v) = get(&app, &format!("/api/v1/tickets?search={prefix}"), who, None).await;
    assert_eq!(ids(&v), vec![sold[3].id.to_string()]);

    // Number filters, winners, unknown keys ignored.
    let (_, v) = get(&app, "/api/v1/tickets?number=05", who, None).await;
    assert_eq!(
        ids(&v),
        vec![sold[2].id.to_string(), sold[0].id.to_string()]
    );
    let (_, v) = get(
        &app,
        "/api/v1/tickets?hasWinner=true&foo=bar&_=123",
        who,
        None,
    )
    .await;
    assert_eq!(ids(&v), vec![sold[4].id.to_string()]);
    let (_, v) = get(&app, "/api/v1/tickets?winnersOnly=false", who, None).await;
    assert_eq!(total(&v), 5);
    let (_, v) = get(
        &app,
        &format!("/api/v1/tickets?multiplierId={}&status=ACTIVE", g.base),
        who,
        None,
    )
    .await;
    assert_eq!(total(&v), 5);
    let (_, v) = get(&app, "/api/v1/tickets?status=PAID", who, None).await;
    assert_eq!(total(&v), 0);
    let (_, v) = get(&app, "/api/v1/tickets?scheduledTime=20:00", who, None).await;
    assert_eq!(total(&v), 5);
    let (_, v) = get(&app, "/api/v1/tickets?scheduledTime=13:55", who, None).await;
    assert_eq!(total(&v), 0);

    // Bad values are 400 VALIDATION_ERROR, never 500.
    for bad in [
        "number=5",
        "pageSize=101",
        "page=0",
        "page=abc",
        "date=someday",
        "date=range&fromDate=2026-01-02",
        "fromDate=2026-13-01",
        "status=NOPE",
        "scope=everything",
        "scheduledTime=25:00",
        "sorteoId=not-a-uuid",
        "isActive=maybe",
    ] {
        let (s, v) = get(&app, &format!("/api/v1/tickets?{bad}"), who, None).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}: {v}");
        assert_eq!(v["code"], "VALIDATION_ERROR", "{bad}: {v}");
    }
    let long = "x".repeat(101);
    let (s, _) = get(&app, &format!("/api/v1/tickets?search={long}"), who, None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn detail_is_not_found_out_of_reach() {
    let Env { w, app } = env().await;
    let today = cr_today();
    let g = game(&w, w.a.banca_id, "Tica", today).await;
    let t = ticket(
        &w,
        seller_a(&w, 0),
        &g,
        g.sorteo,
        today,
        5,
        "ACTIVE",
        &[
            ("NUMERO", "05", 100, Some(g.base)),
            ("REVENTADO", "05", 50, None),
            ("NUMERO", "10", 200, Some(g.base)),
        ],
    )
    .await;
    exec(
        &w,
        "UPDATE jugadas SET deleted_at = now() WHERE ticket_id = $1 AND position = 2",
        t.id,
    )
    .await;
    exec(
        &w,
        "UPDATE users SET settings = '{\"print\": {\"name\": \"Chepe\", \"width\": 88}}' WHERE id = $1",
        w.a.vendedores[0].user_id,
    )
    .await;
    let path = format!("/api/v1/tickets/{}", t.id);

    let (s, v) = get(&app, &path, &w.a.vendedores[0], None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let d = &v["data"];
    assert_eq!(d["ticketNumber"], t.number);
    assert_eq!(d["status"], "ACTIVE");
    assert_eq!(d["enableTicketReprints"], false);
    assert_eq!(
        d["jugadas"].as_array().unwrap().len(),
        2,
        "deleted jugada hidden"
    );
    assert_eq!(d["jugadas"][0]["multiplier"]["name"], "Base");
    assert_eq!(d["jugadas"][0]["multiplier"]["valueX"], 90.0);
    assert_eq!(d["jugadas"][1]["type"], "REVENTADO");
    assert_eq!(d["vendedor"]["printName"], "Chepe");
    assert_eq!(d["vendedor"]["printWidth"], 88);
    assert_eq!(d["vendedor"]["printBarcode"], true);
    assert_eq!(d["ventana"]["printName"], "Ventana A1");
    assert_eq!(
        d["loteria"]["rulesJson"]["reventadoConfig"]["enabled"],
        true
    );
    assert!(d["sorteo"]["name"].as_str().unwrap().ends_with("8:00 PM"));
    assert_eq!(d["paymentHistory"], json!([]));
    assert!(d.get("warnings").is_none());
    fixtures::assert_no_secrets(&v);

    for who in [&w.a.ventana_users[0], &w.a.banca_user, &w.admin] {
        let (s, v) = get(&app, &path, who, None).await;
        assert_eq!(s, StatusCode::OK, "{}: {v}", who.username);
    }
    for who in [
        &w.a.vendedores[1],
        &w.a.ventana_users[1],
        &w.b.banca_user,
        &w.b.vendedores[0],
        &w.b.ventana_users[0],
    ] {
        let (s, v) = get(&app, &path, who, None).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{}: {v}", who.username);
        assert_eq!(v["code"], "NOT_FOUND");
    }
    let (s, _) = get(&app, &path, &w.admin, Some(w.b.banca_id)).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = get(
        &app,
        &format!("/api/v1/tickets/{}", Uuid::new_v4()),
        &w.admin,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, v) = get(&app, "/api/v1/tickets/abc", &w.admin, None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
}

#[tokio::test]
async fn by_number_checks_format_check_digits_and_scope() {
    let Env { w, app } = env().await;
    let today = cr_today();
    let g = game(&w, w.a.banca_id, "Tica", today).await;
    let t = ticket(
        &w,
        seller_a(&w, 0),
        &g,
        g.sorteo,
        today,
        5,
        "ACTIVE",
        &[
            ("NUMERO", "05", 100, Some(g.base)),
            ("REVENTADO", "05", 50, None),
            ("NUMERO", "10", 200, Some(g.base)),
        ],
    )
    .await;
    let path = |n: &str| format!("/api/v1/tickets/by-number/{n}");

    let (s, v) = get(&app, &path(&t.number), &w.a.vendedores[1], None).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "another seller's ticket: {v}");
    assert_eq!(v["code"], "NOT_FOUND");
    let (s, v) = get(&app, &path(&t.number), &w.a.vendedores[0], None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        v["data"],
        json!({
            "ticketNumber": t.number,
            "sorteoId": g.sorteo,
            "loteriaId": g.loteria,
            "clienteNombre": "CLIENTE CONTADO",
            "createdAt": v["data"]["createdAt"],
            "jugadas": [
                {"type": "REVENTADO", "number": "05", "reventadoNumber": "05", "amount": 100.0,
                 "amountReventado": 50.0, "multiplierId": g.base},
                {"type": "NUMERO", "number": "10", "amount": 200.0, "multiplierId": g.base},
            ]
        })
    );
    // Lower case is read as upper case.
    let (s, _) = get(&app, &path(&t.number.to_lowercase()), &w.a.banca_user, None).await;
    assert_eq!(s, StatusCode::OK);

    // A mistyped check digit is caught before any look-up.
    let mut wrong = t.number.clone();
    let last = wrong.pop().unwrap();
    wrong.push(if last == '9' { '0' } else { '9' });
    let (s, v) = get(&app, &path(&wrong), &w.a.vendedores[0], None).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    assert_eq!(v["code"], "TICKET_NUMBER_INVALID");
    let (s, v) = get(&app, &path("T2501-1"), &w.a.vendedores[0], None).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("TICKET_NUMBER_INVALID"))
    );

    // Not starting with T, or too long: 400.
    for bad in [
        "X250101-00001-00".to_string(),
        format!("T{}", "1".repeat(30)),
    ] {
        let (s, v) = get(&app, &path(&bad), &w.a.vendedores[0], None).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}: {v}");
        assert_eq!(v["code"], "INVALID_TICKET_NUMBER");
        assert!(v["message"]
            .as_str()
            .unwrap()
            .contains("debe empezar con T"));
    }

    // Well formed but unknown, and another tenant's.
    let unknown = banca::domain::ticket_number::format(today, 987_654);
    let (s, v) = get(&app, &path(&unknown), &w.a.vendedores[0], None).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("NOT_FOUND"))
    );
    let (s, v) = get(&app, &path(&t.number), &w.b.banca_user, None).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("NOT_FOUND"))
    );

    // A deleted ticket is not found.
    exec(
        &w,
        "UPDATE tickets SET deleted_at = now() WHERE id = $1",
        t.id,
    )
    .await;
    let (s, _) = get(&app, &path(&t.number), &w.a.vendedores[0], None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

/// `{number: (amountByNumber, amountByReventado)}` of the numbers with sales.
fn grid(v: &Value) -> Vec<(String, Decimal, Decimal)> {
    v["data"]
        .as_array()
        .unwrap_or_else(|| panic!("{v}"))
        .iter()
        .filter(|n| dec(&n["totalAmount"]) > Decimal::ZERO)
        .map(|n| {
            assert_eq!(
                dec(&n["totalAmount"]),
                dec(&n["amountByNumber"]) + dec(&n["amountByReventado"])
            );
            (
                n["number"].as_str().unwrap().to_string(),
                dec(&n["amountByNumber"]),
                dec(&n["amountByReventado"]),
            )
        })
        .collect()
}

#[tokio::test]
async fn numbers_summary_totals_from_counters_and_jugadas_agree() {
    let Env { w, app } = env().await;
    let today = cr_today();
    let g = game(&w, w.a.banca_id, "Tica", today).await;
    let other = fixtures::multiplier(&w.app, g.loteria, "Doble", 180, "NUMERO").await;
    let (a1, a2) = (seller_a(&w, 0), seller_a(&w, 1));
    let m = Some(g.base);
    ticket(
        &w,
        a1,
        &g,
        g.sorteo,
        today,
        50,
        "ACTIVE",
        &[
            ("NUMERO", "05", 100, m),
            ("REVENTADO", "05", 40, None),
            ("NUMERO", "17", 250, Some(other)),
        ],
    )
    .await;
    ticket(
        &w,
        a1,
        &g,
        g.sorteo,
        today,
        40,
        "ACTIVE",
        &[("NUMERO", "05", 60, m)],
    )
    .await;
    ticket(
        &w,
        a2,
        &g,
        g.sorteo,
        today,
        30,
        "ACTIVE",
        &[
            ("NUMERO", "05", 10, m),
            ("NUMERO", "99", 5, m),
            ("REVENTADO", "99", 7, None),
        ],
    )
    .await;
    // Cancelled: neither in the totals nor in the jugadas sums.
    ticket(
        &w,
        a2,
        &g,
        g.sorteo,
        today,
        20,
        "CANCELLED",
        &[("NUMERO", "05", 1000, m)],
    )
    .await;

    let base = format!("/api/v1/tickets/numbers-summary?sorteoId={}", g.sorteo);
    let via_jugadas = format!("{base}&date=range&fromDate={today}&toDate={today}");
    let row = |n: &str, a: i64, b: i64| (n.to_string(), d(a), d(b));

    // BANCA, whole banca.
    let (s, c) = get(&app, &base, &w.a.banca_user, None).await;
    assert_eq!(s, StatusCode::OK, "{c}");
    assert_eq!(c["meta"]["totalsFrom"], "counters");
    assert_eq!(c["meta"]["readSource"], "primary");
    assert_eq!(c["data"].as_array().unwrap().len(), 100);
    let (s, j) = get(&app, &via_jugadas, &w.a.banca_user, None).await;
    assert_eq!(s, StatusCode::OK, "{j}");
    assert_eq!(j["meta"]["totalsFrom"], "jugadas");
    let expected = vec![row("05", 170, 40), row("17", 250, 0), row("99", 5, 7)];
    assert_eq!(grid(&c), expected);
    assert_eq!(grid(&j), expected);
    let c_all = c.clone();
    for key in [
        "totalAmountByNumber",
        "totalAmountByReventado",
        "totalAmount",
    ] {
        assert_eq!(dec(&c["meta"][key]), dec(&j["meta"][key]), "{key}");
    }
    assert_eq!(dec(&c["meta"]["totalAmount"]), d(472));
    assert_eq!(c["meta"]["numbersWithBets"], json!(["05", "17", "99"]));
    assert_eq!(c["meta"]["reventadoEnabled"], true);
    assert_eq!(c["meta"]["sorteoDigits"], 2);

    // One multiplier: its NUMERO jugadas, every REVENTADO.
    let (_, c) = get(
        &app,
        &format!("{base}&multiplierId={}", g.base),
        &w.a.banca_user,
        None,
    )
    .await;
    let (_, j) = get(
        &app,
        &format!("{via_jugadas}&multiplierId={}", g.base),
        &w.a.banca_user,
        None,
    )
    .await;
    assert_eq!(c["meta"]["totalsFrom"], "counters");
    let expected = vec![row("05", 170, 40), row("99", 5, 7)];
    assert_eq!(grid(&c), expected);
    assert_eq!(grid(&j), expected);

    // Narrowed to a ventana, a vendedor; a vendedor sees itself.
    let (_, c) = get(
        &app,
        &format!("{base}&ventanaId={}", a2.ventana),
        &w.a.banca_user,
        None,
    )
    .await;
    let (_, j) = get(
        &app,
        &format!("{via_jugadas}&ventanaId={}", a2.ventana),
        &w.a.banca_user,
        None,
    )
    .await;
    assert_eq!(grid(&c), vec![row("05", 10, 0), row("99", 5, 7)]);
    assert_eq!(grid(&c), grid(&j));
    let (_, c) = get(&app, &base, &w.a.vendedores[0], None).await;
    let (_, j) = get(&app, &via_jugadas, &w.a.vendedores[0], None).await;
    assert_eq!(grid(&c), vec![row("05", 160, 40), row("17", 250, 0)]);
    assert_eq!(grid(&c), grid(&j));
    let (_, c) = get(&app, &base, &w.a.ventana_users[1], None).await;
    assert_eq!(grid(&c), vec![row("05", 10, 0), row("99", 5, 7)]);

    // A status filter or excluded jugadas need the jugadas.
    let (_, v) = get(
        &app,
        &format!("{base}&status=ACTIVE"),
        &w.a.banca_user,
        None,
    )
    .await;
    assert_eq!(v["meta"]["totalsFrom"], "jugadas");
    assert_eq!(grid(&v), grid(&c_all));
    let (_, v) = get(
        &app,
        &format!("{base}&status=CANCELLED"),
        &w.a.banca_user,
        None,
    )
    .await;
    assert!(grid(&v).is_empty(), "cancelled tickets are not sales: {v}");
    let (_, v) = get(
        &app,
        &format!("{base}&isExcluded=true"),
        &w.a.banca_user,
        None,
    )
    .await;
    assert_eq!(v["meta"]["isExcluded"], true);
    assert!(grid(&v).is_empty());

    // Blocks of numbers.
    let (_, v) = get(
        &app,
        &format!("{base}&page=0&pageSize=10"),
        &w.a.banca_user,
        None,
    )
    .await;
    let numbers: Vec<&str> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["number"].as_str().unwrap())
        .collect();
    assert_eq!(
        numbers,
        (0..10).map(|n| format!("{n:02}")).collect::<Vec<_>>()
    );
    assert_eq!(v["meta"]["pagination"]["totalPages"], 10);
    assert_eq!(dec(&v["meta"]["totalAmount"]), d(472));

    // Refusals.
    let (s, _) = get(&app, &format!("{base}&scope=all"), &w.a.vendedores[0], None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = get(
        &app,
        &format!("{base}&scope=all"),
        &w.a.ventana_users[0],
        None,
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = get(&app, &format!("{base}&scope=all"), &w.a.banca_user, None).await;
    assert_eq!(s, StatusCode::OK);
    let (s, v) = get(&app, &base, &w.b.banca_user, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    let (s, _) = get(
        &app,
        &format!("/api/v1/tickets/numbers-summary?vendedorId={}", a1.vendedor),
        &w.b.banca_user,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    for bad in [
        "page=10",
        "pageSize=0",
        "pageSize=1001",
        "sorteoStatus=DONE",
    ] {
        let (s, v) = get(&app, &format!("{base}&{bad}"), &w.a.banca_user, None).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}: {v}");
    }

    // Without a sorteo: today's jugadas of the caller.
    let (_, v) = get(
        &app,
        &format!("/api/v1/tickets/numbers-summary?loteriaId={}", g.loteria),
        &w.a.banca_user,
        None,
    )
    .await;
    assert_eq!(v["meta"]["totalsFrom"], "jugadas");
    assert_eq!(dec(&v["meta"]["totalAmount"]), d(472));
}

#[tokio::test]
async fn balances_show_what_is_left_of_max_total_rules() {
    let Env { w, app } = env().await;
    let today = cr_today();
    let g = game(&w, w.a.banca_id, "Tica", today).await;
    let (a1, a2) = (seller_a(&w, 0), seller_a(&w, 1));
    let mut conn = w.db.connect().await;
    // Banca-wide: 05 up to 1000 in the sorteo. Personal for a1: 07 up to 300. A multiplier
    // rule and a per-ticket rule do not show.
    sqlx::query(
        "INSERT INTO restriction_rules (owner_banca_id, banca_id, number, max_total, loteria_id)
         VALUES ($1, $1, '05', 1000, $2)",
    )
    .bind(w.a.banca_id)
    .bind(g.loteria)
    .execute(&mut conn)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO restriction_rules (owner_banca_id, user_id, number, max_total)
         VALUES ($1, $2, '07', 300)",
    )
    .bind(w.a.banca_id)
    .bind(a1.vendedor)
    .execute(&mut conn)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO restriction_rules (owner_banca_id, banca_id, number, max_total, multiplier_id, loteria_id)
         VALUES ($1, $1, '08', 50, $2, $3)",
    )
    .bind(w.a.banca_id)
    .bind(g.base)
    .bind(g.loteria)
    .execute(&mut conn)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO restriction_rules (owner_banca_id, banca_id, number, max_amount)
         VALUES ($1, $1, '09', 50)",
    )
    .bind(w.a.banca_id)
    .execute(&mut conn)
    .await
    .unwrap();
    // Tenant B's rule on 05 never binds A.
    sqlx::query(
        "INSERT INTO restriction_rules (owner_banca_id, banca_id, number, max_total)
         VALUES ($1, $1, '05', 10)",
    )
    .bind(w.b.banca_id)
    .execute(&mut conn)
    .await
    .unwrap();
    drop(conn);
    ticket(
        &w,
        a1,
        &g,
        g.sorteo,
        today,
        30,
        "ACTIVE",
        &[
            ("NUMERO", "05", 300, Some(g.base)),
            ("NUMERO", "07", 100, Some(g.base)),
        ],
    )
    .await;
    ticket(
        &w,
        a2,
        &g,
        g.sorteo,
        today,
        20,
        "ACTIVE",
        &[("REVENTADO", "05", 100, None)],
    )
    .await;

    let path = format!("/api/v1/tickets/validation/balances?sorteoId={}", g.sorteo);
    let (s, v) = get(&app, &path, &w.a.vendedores[0], None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        v["data"],
        json!({
            "05": {"remaining": 600.0, "limit": 1000.0, "accumulated": 400.0},
            "07": {"remaining": 200.0, "limit": 300.0, "accumulated": 100.0},
        })
    );
    // a2: the personal rule of a1 does not apply.
    let (_, v) = get(&app, &path, &w.a.vendedores[1], None).await;
    assert_eq!(
        v["data"],
        json!({"05": {"remaining": 600.0, "limit": 1000.0, "accumulated": 400.0}})
    );
    // On behalf of a vendedor within reach.
    for who in [&w.a.ventana_users[0], &w.a.banca_user, &w.admin] {
        let (s, v) = get(
            &app,
            &format!("{path}&vendedorId={}", a1.vendedor),
            who,
            None,
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{}: {v}", who.username);
        assert_eq!(v["data"]["07"]["remaining"], 200.0);
    }
    // Out of reach.
    for who in [&w.a.vendedores[1], &w.a.ventana_users[1], &w.b.banca_user] {
        let (s, v) = get(
            &app,
            &format!("{path}&vendedorId={}", a1.vendedor),
            who,
            None,
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{}: {v}", who.username);
    }
    let (s, _) = get(
        &app,
        &format!("{path}&vendedorId={}", a1.vendedor),
        &w.admin,
        Some(w.b.banca_id),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // Missing or bad input.
    let (s, v) = get(
        &app,
        "/api/v1/tickets/validation/balances",
        &w.a.vendedores[0],
        None,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["code"], "MISSING_SORTEO_ID");
    let (s, v) = get(&app, &path, &w.a.banca_user, None).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("VALIDATION_ERROR"))
    );
    let (s, v) = get(
        &app,
        "/api/v1/tickets/validation/balances?sorteoId=nope",
        &w.a.vendedores[0],
        None,
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("VALIDATION_ERROR"))
    );
    let (s, _) = get(
        &app,
        &format!(
            "/api/v1/tickets/validation/balances?sorteoId={}",
            Uuid::new_v4()
        ),
        &w.a.vendedores[0],
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn filter_options_list_what_the_caller_sees() {
    let Env { w, app } = env().await;
    let today = cr_today();
    let g = game(&w, w.a.banca_id, "Tica", today).await;
    let gb = game(&w, w.b.banca_id, "Nica", today).await;
    ticket(
        &w,
        seller_a(&w, 0),
        &g,
        g.sorteo,
        today,
        30,
        "ACTIVE",
        &[("NUMERO", "05", 300, Some(g.base))],
    )
    .await;
    ticket(
        &w,
        seller_a(&w, 1),
        &g,
        g.sorteo,
        today,
        20,
        "ACTIVE",
        &[("NUMERO", "06", 300, Some(g.base))],
    )
    .await;
    ticket(
        &w,
        seller_a(&w, 1),
        &g,
        g.sorteo,
        today,
        10,
        "CANCELLED",
        &[("NUMERO", "06", 300, Some(g.base))],
    )
    .await;
    ticket(
        &w,
        seller_b(&w, 0),
        &gb,
        gb.sorteo,
        today,
        10,
        "ACTIVE",
        &[("NUMERO", "06", 300, Some(gb.base))],
    )
    .await;

    let path = "/api/v1/tickets/filter-options?date=today";
    let (s, v) = get(&app, path, &w.a.banca_user, None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let d = &v["data"];
    assert_eq!(d["meta"]["totalTickets"], 2);
    assert_eq!(
        d["loterias"],
        json!([{"id": g.loteria, "name": "Tica", "ticketCount": 2}])
    );
    assert_eq!(d["sorteos"][0]["id"], g.sorteo.to_string());
    assert_eq!(d["multipliers"][0]["name"], "Base");
    assert_eq!(d["multipliers"][0]["ticketCount"], 2);
    assert_eq!(d["vendedores"].as_array().unwrap().len(), 2);
    assert_eq!(d["ventanas"].as_array().unwrap().len(), 2);

    let (_, v) = get(&app, path, &w.a.vendedores[0], None).await;
    assert_eq!(v["data"]["meta"]["totalTickets"], 1);
    assert_eq!(v["data"]["vendedores"], json!([]));
    assert_eq!(v["data"]["ventanas"], json!([]));

    let (_, v) = get(&app, path, &w.b.banca_user, None).await;
    assert_eq!(v["data"]["loterias"][0]["name"], "Nica");
    assert_eq!(v["data"]["meta"]["totalTickets"], 1);

    let (_, v) = get(
        &app,
        "/api/v1/tickets/filter-options?date=yesterday",
        &w.admin,
        None,
    )
    .await;
    assert_eq!(v["data"]["meta"]["totalTickets"], 0);
    let (_, v) = get(&app, path, &w.admin, None).await;
    assert_eq!(v["data"]["meta"]["totalTickets"], 3);

    let (s, v) = get(
        &app,
        &format!(
            "/api/v1/tickets/numbers-summary/filter-options?sorteoId={}",
            g.sorteo
        ),
        &w.a.ventana_users[1],
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["meta"]["totalTickets"], 1);
    let (s, _) = get(
        &app,
        "/api/v1/tickets/numbers-summary/filter-options?scope=all",
        &w.a.vendedores[0],
        None,
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}
