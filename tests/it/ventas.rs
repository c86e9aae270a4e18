//! `/api/v1/ventas*` and `/api/v1/sales/daily-stats` (domain-money §6.2) against a real
//! PostgreSQL: exact figures after sales and evaluation (only drawn sorteos count, cancelled
//! tickets never), breakdowns and time series that add up to the summary, payments that move
//! the payment figures at once (cache invalidated), role scoping (VENDEDOR itself, VENTANA its
//! ventana, the other banca nothing), strict queries and `meta.source`.

use reqwest::{Method, StatusCode};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::evaluation::{dec, evaluate, numero, roja, standard_sales};
use crate::fixtures::{self, call, scalar, shop, Login, Shop, Tenant};

/// GET paths of these routes aimed at `v`'s ventanas and vendedores: a user of another banca
/// must get 403/404 or nothing of `v`.
#[allow(dead_code)] // read by the isolation matrix (tests/it/isolation.rs)
pub(crate) fn isolation_paths(v: &Tenant) -> Vec<String> {
    let (v0, s0) = (v.ventanas[0], v.vendedores[0].user_id);
    vec![
        format!("/api/v1/ventas?ventanaId={v0}"),
        format!("/api/v1/ventas?vendedorId={s0}"),
        format!("/api/v1/ventas/summary?ventanaId={v0}"),
        format!("/api/v1/ventas/summary?vendedorId={s0}"),
        format!("/api/v1/ventas/breakdown?dimension=vendedor&ventanaId={v0}"),
        format!("/api/v1/ventas/breakdown?dimension=numero&vendedorId={s0}"),
        format!("/api/v1/ventas/timeseries?granularity=hour&ventanaId={v0}"),
        format!("/api/v1/ventas/timeseries?vendedorId={s0}"),
        format!("/api/v1/sales/daily-stats?vendedorId={s0}"),
        format!("/api/v1/sales/daily-stats?ventanaId={v0}"),
        format!("/api/v1/sales/daily-stats?bancaId={}", v.banca_id),
    ]
}

async fn get(s: &Shop, who: &Login, path: &str) -> (StatusCode, Value) {
    call(&s.w.app, Method::GET, path, Some(&who.token), None).await
}

/// The whole successful answer of a GET.
async fn ok(s: &Shop, who: &Login, path: &str) -> Value {
    let (st, v) = get(s, who, path).await;
    assert_eq!(st, StatusCode::OK, "{path}: {v}");
    assert_eq!(v["success"], true, "{v}");
    v
}

/// A JSON number as an exact decimal.
fn num(v: &Value) -> Decimal {
    assert!(v.is_number(), "not a number: {v}");
    v.to_string().parse().unwrap()
}

fn assert_money(row: &Value, expected: &[(&str, &str)]) {
    for (k, want) in expected {
        assert_eq!(num(&row[*k]), dec(want), "{k} of {row}");
    }
}

/// Σ of `key` over the rows.
fn total(rows: &Value, key: &str) -> Decimal {
    rows.as_array().unwrap().iter().map(|r| num(&r[key])).sum()
}

fn count(rows: &Value, key: &str) -> i64 {
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| r[key].as_i64().unwrap())
        .sum()
}

/// The shop's sorteo's business day.
async fn day_of(s: &Shop) -> String {
    scalar(
        &s.w,
        &format!(
            "SELECT to_char(scheduled_at AT TIME ZONE 'America/Costa_Rica', 'YYYY-MM-DD')
             FROM sorteos WHERE id = '{}'",
            s.sorteo
        ),
    )
    .await
}

struct Sold {
    day: String,
    /// (winner A1 190 → 9100, winner A2 18.90 → 1112.88, loser A2 20, cancelled A1 100).
    tickets: (Uuid, Uuid, Uuid, Uuid),
    /// The 500 ticket of A1 in a second sorteo of the same day that stays OPEN.
    open_ticket: Uuid,
    open_sorteo: Uuid,
}

/// Commission policies (A1 10 % of its own, every ventana of A 5 %), the standard sales, a
/// 500 ticket of A1 in a second OPEN sorteo of the day, then the first evaluated with 07 and
/// the REVENTADO "Roja" (2.5x).
async fn sold_and_evaluated(s: &Shop) -> Sold {
    let w = &s.w;
    fixtures::exec(
        w,
        &format!(
            "UPDATE users SET commission_policy_json =
                 '{{\"version\":1,\"defaultPercent\":10,\"rules\":[]}}' WHERE id = '{}';
             UPDATE ventanas SET commission_policy_json =
                 '{{\"version\":1,\"defaultPercent\":5,\"rules\":[]}}' WHERE banca_id = '{}'",
            w.a.vendedores[0].user_id, w.a.banca_id
        ),
    )
    .await;
    let tickets = standard_sales(s).await;
    let roja = roja(s).await;
    let at: chrono::DateTime<chrono::Utc> = scalar(
        w,
        &format!(
            "SELECT scheduled_at + interval '1 minute' FROM sorteos WHERE id = '{}'",
            s.sorteo
        ),
    )
    .await;
    let open = fixtures::sorteo(&w.app, s.loteria, at, "OPEN").await;
    let body = json!({"loteriaId": s.loteria, "sorteoId": open, "jugadas": [numero("07", 500.0)]});
    let (st, v) = call(
        &w.app,
        Method::POST,
        "/api/v1/tickets",
        Some(&w.a.vendedores[0].token),
        Some(&body),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let open_ticket = Uuid::parse_str(v["data"]["id"].as_str().unwrap()).unwrap();
    let (st, v) = evaluate(
        s,
        &w.a.banca_user,
        json!({"winningNumber": "07", "extraMultiplierId": roja}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    Sold {
        day: day_of(s).await,
        tickets,
        open_ticket,
        open_sorteo: open,
    }
}

fn range(day: &str) -> String {
    format!("date=range&fromDate={day}&toDate={day}")
}

/// The population's sales and payouts straight from the jugadas (independent of the rollups).
async fn direct_totals(s: &Shop) -> (Decimal, Decimal) {
    let (sales, payouts): (Decimal, Decimal) = sqlx::query_as(
        "SELECT COALESCE(sum(j.amount), 0), COALESCE(sum(j.payout) FILTER (WHERE j.is_winner), 0)
         FROM jugadas j JOIN tickets t ON t.id = j.ticket_id JOIN sorteos so ON so.id = t.sorteo_id
         WHERE so.status = 'EVALUATED' AND t.deleted_at IS NULL
           AND t.status NOT IN ('CANCELLED', 'EXCLUDED') AND j.is_active AND NOT j.is_excluded",
    )
    .fetch_one(&mut s.w.db.connect().await)
    .await
    .unwrap();
    (sales, payouts)
}

#[tokio::test]
async fn summary_has_exact_figures_of_drawn_sorteos_only() {
    let s = shop().await;
    let w = &s.w;
    let day = day_of(&s).await;
    let r = range(&day);

    // Sold, nothing drawn yet: no ventas.
    standard_sales(&s).await;
    let v = ok(&s, &w.admin, &format!("/api/v1/ventas/summary?{r}")).await;
    assert_eq!(num(&v["data"]["ventasTotal"]), Decimal::ZERO, "{v}");
    assert_eq!(v["data"]["ticketsCount"], 0, "{v}");
    assert_eq!(v["meta"]["source"], "primary", "{v}");
    drop(s);

    let s = shop().await;
    let w = &s.w;
    let sold = sold_and_evaluated(&s).await;
    let r = range(&sold.day);
    let (sales, payouts) = direct_totals(&s).await;
    assert_eq!((sales, payouts), (dec("228.90"), dec("10212.88")));

    // ADMIN (every banca) and BANCA A: 190 + 18.90 + 20; 9100 + 1112.88; listero 9.50 + 1.95.
    // Neither the OPEN sorteo's 500 nor the cancelled 100.
    for who in [&w.admin, &w.a.banca_user] {
        let v = ok(&s, who, &format!("/api/v1/ventas/summary?{r}")).await;
        let d = &v["data"];
        assert_eq!(d["ticketsCount"], 3, "{v}");
        assert_eq!(d["jugadasCount"], 9, "{v}");
        assert_eq!(d["winningTicketsCount"], 2, "{v}");
        assert_eq!(d["paidTicketsCount"], 0, "{v}");
        assert_eq!(d["unpaidTicketsCount"], 2, "{v}");
        assert!(d["lastTicketAt"].is_string(), "{v}");
        assert!(d.get("myGain").is_none(), "{v}");
        assert_money(
            d,
            &[
                ("ventasTotal", "228.90"),
                ("payoutTotal", "10212.88"),
                ("neto", "-9983.98"),
                ("commissionTotal", "11.45"),
                ("netoDespuesComision", "-9995.43"),
                ("totalPaid", "0"),
                ("remainingAmount", "10212.88"),
                ("pendingPayment", "10212.88"),
            ],
        );
        assert_eq!(v["meta"]["source"], "primary");
        assert_eq!(v["meta"]["range"]["fromDate"], sold.day);
    }

    // VENDEDOR A1: its ticket only; commission = its own (USER origin) 10 % of 190.
    let v = ok(
        &s,
        &w.a.vendedores[0],
        &format!("/api/v1/ventas/summary?scope=mine&{r}"),
    )
    .await;
    let d = &v["data"];
    assert_eq!(d["ticketsCount"], 1, "{v}");
    assert_eq!(d["jugadasCount"], 3, "{v}");
    assert_money(
        d,
        &[
            ("ventasTotal", "190"),
            ("payoutTotal", "9100"),
            ("commissionTotal", "19"),
            ("netoDespuesComision", "-8929"),
        ],
    );
    assert_eq!(
        v["meta"]["effectiveFilters"]["vendedorId"],
        w.a.vendedores[0].user_id.to_string()
    );

    // VENTANA A1: listero commission and its own fields.
    let v = ok(
        &s,
        &w.a.ventana_users[0],
        &format!("/api/v1/ventas/summary?scope=mine&{r}"),
    )
    .await;
    assert_money(
        &v["data"],
        &[
            ("ventasTotal", "190"),
            ("commissionTotal", "9.50"),
            ("commissionListeroTotal", "9.50"),
            ("commissionVendedorTotal", "19"),
            ("balanceDueToBanca", "-8919.50"),
            ("gananciaNeta", "-8919.50"),
            ("myGain", "-9.50"),
        ],
    );
    // VENTANA A2: 18.90 + 20, no USER-origin seller commission.
    let v = ok(
        &s,
        &w.a.ventana_users[1],
        &format!("/api/v1/ventas/summary?{r}"),
    )
    .await;
    assert_money(
        &v["data"],
        &[
            ("ventasTotal", "38.90"),
            ("payoutTotal", "1112.88"),
            ("commissionTotal", "1.95"),
            ("commissionVendedorTotal", "0"),
            ("myGain", "1.95"),
        ],
    );

    // Banca B sees none of it, whatever it asks.
    let v = ok(&s, &w.b.banca_user, &format!("/api/v1/ventas/summary?{r}")).await;
    assert_eq!(num(&v["data"]["ventasTotal"]), Decimal::ZERO, "{v}");
    assert_eq!(v["data"]["ticketsCount"], 0, "{v}");
    let v = ok(
        &s,
        &w.b.banca_user,
        &format!("/api/v1/ventas/summary?bancaId={}&{r}", w.a.banca_id),
    )
    .await;
    assert_eq!(num(&v["data"]["ventasTotal"]), Decimal::ZERO, "{v}");

    // Ticket-level filters read the tickets and agree: winners only = t1 + t2.
    let v = ok(
        &s,
        &w.admin,
        &format!("/api/v1/ventas/summary?winnersOnly=true&{r}"),
    )
    .await;
    assert_eq!(v["data"]["ticketsCount"], 2, "{v}");
    assert_money(
        &v["data"],
        &[("ventasTotal", "208.90"), ("payoutTotal", "10212.88")],
    );
    let v = ok(
        &s,
        &w.admin,
        &format!("/api/v1/ventas/summary?winnersOnly=false&status=EVALUATED&{r}"),
    )
    .await;
    assert_money(&v["data"], &[("ventasTotal", "228.90")]);
    let _ = (sold.tickets, sold.open_ticket);
}

#[tokio::test]
async fn payments_move_the_payment_figures_at_once() {
    let s = shop().await;
    let w = &s.w;
    let sold = sold_and_evaluated(&s).await;
    let path = format!("/api/v1/ventas/summary?{}", range(&sold.day));
    // The statement rebuild that follows the evaluation also moves the generation: wait until
    // the answer is served from the cache.
    banca::services::statements::drain(w.app.state.pools.primary())
        .await
        .expect("drain");
    let mut v = ok(&s, &w.a.banca_user, &path).await;
    for _ in 0..50 {
        if v["meta"]["cache"] == "hit" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        v = ok(&s, &w.a.banca_user, &path).await;
    }
    assert_eq!(v["meta"]["cache"], "hit", "{v}");
    assert_eq!(v["data"]["unpaidTicketsCount"], 2);

    // A partial payment of the 1112.88 prize of t2.
    let t2 = sold.tickets.1;
    let (st, p) = call(
        &w.app,
        Method::POST,
        &format!("/api/v1/tickets/{t2}/pay"),
        Some(&w.a.vendedores[1].token),
        Some(&json!({"amountPaid": 100})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{p}");
    let v = ok(&s, &w.a.banca_user, &path).await;
    assert_eq!(v["meta"]["cache"], "miss", "{v}");
    assert_eq!(v["data"]["paidTicketsCount"], 0, "{v}");
    assert_eq!(v["data"]["unpaidTicketsCount"], 2, "{v}");
    assert_money(
        &v["data"],
        &[
            ("totalPaid", "100"),
            ("remainingAmount", "10112.88"),
            ("pendingPayment", "10112.88"),
            // Money of the sales does not move with payments.
            ("ventasTotal", "228.90"),
            ("payoutTotal", "10212.88"),
        ],
    );

    // The rest: t2 is paid.
    let (st, p) = call(
        &w.app,
        Method::POST,
        &format!("/api/v1/tickets/{t2}/pay"),
        Some(&w.a.vendedores[1].token),
        Some(&json!({"amountPaid": 1012.88})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{p}");
    let v = ok(&s, &w.a.banca_user, &path).await;
    assert_eq!(v["meta"]["cache"], "miss", "{v}");
    assert_eq!(v["data"]["paidTicketsCount"], 1, "{v}");
    assert_eq!(v["data"]["unpaidTicketsCount"], 1, "{v}");
    assert_money(
        &v["data"],
        &[("totalPaid", "1112.88"), ("remainingAmount", "9100")],
    );

    // The breakdown by vendedor and the list see it too.
    let rows = ok(
        &s,
        &w.a.banca_user,
        &format!(
            "/api/v1/ventas/breakdown?dimension=vendedor&top=100&{}",
            range(&sold.day)
        ),
    )
    .await["data"]
        .clone();
    let a2 = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == w.a.vendedores[1].user_id.to_string())
        .unwrap();
    assert_eq!(a2["paidTickets"], 1, "{a2}");
    assert_eq!(a2["totalPaidTickets"], 1, "{a2}");
    assert_money(a2, &[("totalPaid", "1112.88")]);
    let v = ok(
        &s,
        &w.a.banca_user,
        &format!("/api/v1/ventas?status=PAID&{}", range(&sold.day)),
    )
    .await;
    assert_eq!(v["meta"]["total"], 1, "{v}");
    assert_eq!(v["data"][0]["id"], t2.to_string());
}

#[tokio::test]
async fn breakdowns_and_time_series_add_up_to_the_summary() {
    let s = shop().await;
    let w = &s.w;
    let sold = sold_and_evaluated(&s).await;
    let r = range(&sold.day);
    let summary =
        ok(&s, &w.a.banca_user, &format!("/api/v1/ventas/summary?{r}")).await["data"].clone();

    for dim in [
        "ventana", "listero", "vendedor", "loteria", "sorteo", "banca", "numero",
    ] {
        let v = ok(
            &s,
            &w.a.banca_user,
            &format!("/api/v1/ventas/breakdown?dimension={dim}&top=100&{r}"),
        )
        .await;
        let rows = &v["data"];
        assert_eq!(v["meta"]["dimension"], dim);
        assert_eq!(
            total(rows, "ventasTotal"),
            num(&summary["ventasTotal"]),
            "{dim}"
        );
        assert_eq!(
            total(rows, "payoutTotal"),
            num(&summary["payoutTotal"]),
            "{dim}"
        );
        assert_eq!(
            total(rows, "commissionTotal"),
            num(&summary["commissionTotal"]),
            "{dim}"
        );
        if dim != "numero" {
            assert_eq!(count(rows, "ticketsCount"), 3, "{dim}: {rows}");
            assert_eq!(count(rows, "totalWinningTickets"), 2, "{dim}: {rows}");
        }
        assert_eq!(count(rows, "jugadasCount"), 9, "{dim}: {rows}");
        for row in rows.as_array().unwrap() {
            assert_eq!(
                num(&row["neto"]),
                num(&row["ventasTotal"]) - num(&row["payoutTotal"]),
                "{row}"
            );
            assert!(row["name"].is_string(), "{row}");
        }
    }

    // Per vendedor, sorted by sales: A1 190 first, then A2 38.90.
    let rows = ok(
        &s,
        &w.admin,
        &format!("/api/v1/ventas/breakdown?dimension=vendedor&top=100&{r}"),
    )
    .await["data"]
        .clone();
    assert_eq!(rows.as_array().unwrap().len(), 2, "{rows}");
    assert_eq!(rows[0]["key"], w.a.vendedores[0].user_id.to_string());
    assert_money(
        &rows[0],
        &[
            ("ventasTotal", "190"),
            ("payoutTotal", "9100"),
            ("commissionTotal", "9.50"),
        ],
    );
    assert_money(
        &rows[1],
        &[("ventasTotal", "38.90"), ("payoutTotal", "1112.88")],
    );
    // top=1 ascending: A2 only.
    let rows = ok(
        &s,
        &w.admin,
        &format!("/api/v1/ventas/breakdown?dimension=vendedor&top=1&order=asc&{r}"),
    )
    .await["data"]
        .clone();
    assert_eq!(rows.as_array().unwrap().len(), 1, "{rows}");
    assert_eq!(rows[0]["key"], w.a.vendedores[1].user_id.to_string());

    // Per number: 07 = 100 + 40 + 12.35 + 0.55 with every prize; 42 = 50 + 3 + 3 + 10 + 10.
    let rows = ok(
        &s,
        &w.admin,
        &format!("/api/v1/ventas/breakdown?dimension=numero&top=100&{r}"),
    )
    .await["data"]
        .clone();
    assert_eq!(rows.as_array().unwrap().len(), 2, "{rows}");
    assert_eq!(rows[0]["key"], "07");
    assert_eq!(rows[0]["ticketsCount"], 2);
    assert_eq!(rows[0]["totalWinningTickets"], 2);
    assert_money(
        &rows[0],
        &[("ventasTotal", "152.90"), ("payoutTotal", "10212.88")],
    );
    assert_eq!(rows[1]["key"], "42");
    assert_eq!(rows[1]["ticketsCount"], 3);
    assert_eq!(rows[1]["totalWinningTickets"], 0);
    assert_money(&rows[1], &[("ventasTotal", "76"), ("payoutTotal", "0")]);
    // Search by number.
    let rows = ok(
        &s,
        &w.admin,
        &format!("/api/v1/ventas/breakdown?dimension=numero&search=42&{r}"),
    )
    .await["data"]
        .clone();
    assert_eq!(rows.as_array().unwrap().len(), 1, "{rows}");

    // Only the evaluated sorteo is a sorteo row.
    let rows = ok(
        &s,
        &w.admin,
        &format!("/api/v1/ventas/breakdown?dimension=sorteo&{r}"),
    )
    .await["data"]
        .clone();
    assert_eq!(rows.as_array().unwrap().len(), 1, "{rows}");
    assert_eq!(rows[0]["key"], s.sorteo.to_string());

    // Time series: day, week and month buckets (from the rollups), hour buckets (from the
    // tickets) all add up to the summary.
    for g in ["day", "week", "month", "hour"] {
        let v = ok(
            &s,
            &w.a.banca_user,
            &format!("/api/v1/ventas/timeseries?granularity={g}&{r}"),
        )
        .await;
        let rows = &v["data"];
        assert_eq!(v["meta"]["granularity"], g);
        assert_eq!(total(rows, "ventasTotal"), dec("228.90"), "{g}: {rows}");
        assert_eq!(count(rows, "ticketsCount"), 3, "{g}: {rows}");
        assert_eq!(total(rows, "commissionTotal"), dec("11.45"), "{g}: {rows}");
        assert!(rows[0]["ts"].is_string(), "{rows}");
        if g == "day" {
            assert_eq!(rows.as_array().unwrap().len(), 1);
            assert_eq!(rows[0]["date"], sold.day);
            assert_eq!(rows[0]["ts"], format!("{}T00:00:00.000Z", sold.day));
        }
        if g == "hour" {
            assert!(rows[0]["hour"].is_u64(), "{rows}");
        }
    }
    // A VENDEDOR's series is its own.
    let rows = ok(
        &s,
        &w.a.vendedores[1],
        &format!("/api/v1/ventas/timeseries?{r}"),
    )
    .await["data"]
        .clone();
    assert_eq!(total(&rows, "ventasTotal"), dec("38.90"), "{rows}");

    // Facets: the entities with drawn sales.
    let f = ok(&s, &w.a.banca_user, &format!("/api/v1/ventas/facets?{r}")).await["data"].clone();
    assert_eq!(f["ventanas"].as_array().unwrap().len(), 2, "{f}");
    assert_eq!(f["vendedores"].as_array().unwrap().len(), 2, "{f}");
    assert_eq!(f["loterias"][0]["id"], s.loteria.to_string(), "{f}");
    assert_eq!(f["sorteos"].as_array().unwrap().len(), 1, "{f}");
    let f = ok(
        &s,
        &w.a.vendedores[0],
        &format!("/api/v1/ventas/facets?{r}"),
    )
    .await["data"]
        .clone();
    assert_eq!(f["vendedores"].as_array().unwrap().len(), 1, "{f}");
    let f = ok(&s, &w.b.banca_user, &format!("/api/v1/ventas/facets?{r}")).await["data"].clone();
    assert_eq!(f["ventanas"], json!([]), "{f}");
}

#[tokio::test]
async fn the_list_pages_the_drawn_tickets_of_the_scope() {
    let s = shop().await;
    let w = &s.w;
    let sold = sold_and_evaluated(&s).await;
    let r = range(&sold.day);

    let v = ok(&s, &w.admin, &format!("/api/v1/ventas?pageSize=2&{r}")).await;
    let m = &v["meta"];
    assert_eq!(
        (
            &m["total"],
            &m["page"],
            &m["pageSize"],
            &m["totalPages"],
            &m["hasNextPage"],
            &m["hasPrevPage"]
        ),
        (
            &json!(3),
            &json!(1),
            &json!(2),
            &json!(2),
            &json!(true),
            &json!(false)
        ),
        "{v}"
    );
    assert_eq!(m["source"], "primary");
    let page1 = v["data"].as_array().unwrap().clone();
    assert_eq!(page1.len(), 2);
    let v = ok(
        &s,
        &w.admin,
        &format!("/api/v1/ventas?pageSize=2&page=2&{r}"),
    )
    .await;
    let page2 = v["data"].as_array().unwrap().clone();
    assert_eq!(page2.len(), 1);
    let mut ids: Vec<String> = page1
        .iter()
        .chain(page2.iter())
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    let mut want: Vec<String> = [sold.tickets.0, sold.tickets.1, sold.tickets.2]
        .iter()
        .map(Uuid::to_string)
        .collect();
    want.sort();
    assert_eq!(
        ids, want,
        "neither the cancelled nor the open sorteo's ticket"
    );
    assert!(!ids.contains(&sold.open_ticket.to_string()));
    let sum: Decimal = page1
        .iter()
        .chain(page2.iter())
        .map(|t| num(&t["totalAmount"]))
        .sum();
    assert_eq!(sum, dec("228.90"));

    // Sorted by amount, largest first; jugadas and names come along.
    let v = ok(
        &s,
        &w.admin,
        &format!("/api/v1/ventas?orderBy=-totalAmount&{r}"),
    )
    .await;
    let t = &v["data"][0];
    assert_eq!(t["id"], sold.tickets.0.to_string());
    assert_eq!(t["jugadas"].as_array().unwrap().len(), 3, "{t}");
    assert_eq!(t["sorteo"]["status"], "EVALUATED");
    assert!(t["vendedor"]["name"].is_string(), "{t}");
    assert_money(t, &[("totalPayout", "9100")]);

    // Winners only; a VENDEDOR's own; banca B nothing.
    let v = ok(
        &s,
        &w.admin,
        &format!("/api/v1/ventas?winnersOnly=true&{r}"),
    )
    .await;
    assert_eq!(v["meta"]["total"], 2, "{v}");
    let v = ok(&s, &w.a.vendedores[1], &format!("/api/v1/ventas?{r}")).await;
    assert_eq!(v["meta"]["total"], 2, "{v}");
    let v = ok(&s, &w.b.banca_user, &format!("/api/v1/ventas?{r}")).await;
    assert_eq!(v["meta"]["total"], 0, "{v}");
    assert_eq!(v["data"], json!([]));
    // Search by ticket number.
    let number: String = scalar(
        w,
        &format!(
            "SELECT ticket_number FROM tickets WHERE id = '{}'",
            sold.tickets.2
        ),
    )
    .await;
    let v = ok(&s, &w.admin, &format!("/api/v1/ventas?search={number}&{r}")).await;
    assert_eq!(v["meta"]["total"], 1, "{v}");
    assert_eq!(v["data"][0]["id"], sold.tickets.2.to_string());
}

#[tokio::test]
async fn daily_stats_count_the_days_sales_within_the_callers_reach() {
    let s = shop().await;
    let w = &s.w;
    let sold = sold_and_evaluated(&s).await;
    let day = &sold.day;

    // Every sorteo state counts (the OPEN sorteo's 500), the cancelled 100 never.
    let v = ok(
        &s,
        &w.admin,
        &format!("/api/v1/sales/daily-stats?date={day}"),
    )
    .await;
    assert_eq!(v["data"]["ticketCount"], 4, "{v}");
    assert_money(&v["data"], &[("totalSales", "728.90")]);
    assert_eq!(v["data"]["currency"], "CRC");
    assert_eq!(v["data"]["date"], *day);
    assert_eq!(v["meta"]["source"], "primary");
    assert!(v["meta"].get("cache").is_none(), "never cached: {v}");

    let a1 = &w.a.vendedores[0];
    let v = ok(&s, a1, &format!("/api/v1/sales/daily-stats?date={day}")).await;
    assert_eq!(v["data"]["ticketCount"], 2, "{v}");
    assert_money(&v["data"], &[("totalSales", "690")]);
    let v = ok(
        &s,
        a1,
        &format!(
            "/api/v1/sales/daily-stats?date={day}&vendedorId={}",
            a1.user_id
        ),
    )
    .await;
    assert_money(&v["data"], &[("totalSales", "690")]);

    // A new sale in the open sorteo shows at once (never cached).
    let body = json!({"loteriaId": s.loteria, "sorteoId": sold.open_sorteo,
                      "jugadas": [numero("11", 10.0)]});
    let (st, v) = call(
        &w.app,
        Method::POST,
        "/api/v1/tickets",
        Some(&a1.token),
        Some(&body),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let v = ok(&s, a1, &format!("/api/v1/sales/daily-stats?date={day}")).await;
    assert_eq!(v["data"]["ticketCount"], 3, "{v}");
    assert_money(&v["data"], &[("totalSales", "700")]);

    // VENTANA A2: its ventana; BANCA A: its banca.
    let v = ok(
        &s,
        &w.a.ventana_users[1],
        &format!("/api/v1/sales/daily-stats?date={day}"),
    )
    .await;
    assert_money(&v["data"], &[("totalSales", "38.90")]);
    let v = ok(
        &s,
        &w.a.banca_user,
        &format!("/api/v1/sales/daily-stats?date={day}"),
    )
    .await;
    assert_money(&v["data"], &[("totalSales", "738.90")]);

    // Another vendedor, another ventana, another banca's people: 403; banca B sees nothing.
    let a2 = w.a.vendedores[1].user_id;
    for (who, path, code) in [
        (
            a1,
            format!("/api/v1/sales/daily-stats?vendedorId={a2}"),
            "RBAC_003",
        ),
        (
            &w.a.ventana_users[0],
            format!("/api/v1/sales/daily-stats?ventanaId={}", w.a.ventanas[1]),
            "RBAC_001",
        ),
        (
            &w.a.ventana_users[0],
            format!("/api/v1/sales/daily-stats?vendedorId={a2}"),
            "RBAC_003",
        ),
        (
            &w.b.banca_user,
            format!("/api/v1/sales/daily-stats?vendedorId={}", a1.user_id),
            "RBAC_003",
        ),
        (
            &w.b.banca_user,
            format!("/api/v1/sales/daily-stats?ventanaId={}", w.a.ventanas[0]),
            "RBAC_007",
        ),
        (
            &w.b.vendedores[0],
            format!("/api/v1/ventas/summary?vendedorId={}", a1.user_id),
            "RBAC_003",
        ),
        (
            &w.b.ventana_users[0],
            format!(
                "/api/v1/ventas/breakdown?dimension=vendedor&ventanaId={}",
                w.a.ventanas[0]
            ),
            "RBAC_001",
        ),
    ] {
        let (st, v) = get(&s, who, &path).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{path}: {v}");
        assert_eq!(v["code"], code, "{path}: {v}");
    }
    let v = ok(
        &s,
        &w.b.banca_user,
        &format!(
            "/api/v1/sales/daily-stats?date={day}&bancaId={}",
            w.a.banca_id
        ),
    )
    .await;
    assert_eq!(v["data"]["ticketCount"], 0, "{v}");
    // Unauthenticated: 401.
    let (st, _) = call(&w.app, Method::GET, "/api/v1/sales/daily-stats", None, None).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn queries_are_strict() {
    let s = shop().await;
    let w = &s.w;
    for path in [
        "/api/v1/ventas/summary?foo=1",
        "/api/v1/ventas/summary?scope=everyone",
        "/api/v1/ventas/summary?status=CANCELLED",
        "/api/v1/ventas/summary?winnersOnly=maybe",
        "/api/v1/ventas/summary?ventanaId=not-a-uuid",
        "/api/v1/ventas/summary?date=range&fromDate=2025-01-01",
        "/api/v1/ventas/summary?date=range&fromDate=2025-02-01&toDate=2025-01-01",
        "/api/v1/ventas/summary?date=range&fromDate=2020-01-01&toDate=2025-01-01",
        "/api/v1/ventas/summary?date=someday",
        "/api/v1/ventas/breakdown",
        "/api/v1/ventas/breakdown?dimension=planeta",
        "/api/v1/ventas/breakdown?dimension=vendedor&top=101",
        "/api/v1/ventas/breakdown?dimension=vendedor&top=0",
        "/api/v1/ventas/breakdown?dimension=vendedor&top=diez",
        "/api/v1/ventas/breakdown?dimension=vendedor&orderBy=nombre",
        "/api/v1/ventas/breakdown?dimension=vendedor&order=up",
        "/api/v1/ventas/breakdown?dimension=vendedor&multiplierId=x",
        "/api/v1/ventas/timeseries?granularity=minute",
        "/api/v1/ventas/timeseries?granularity=hour&date=year",
        "/api/v1/ventas/timeseries?page=1",
        "/api/v1/ventas/facets?ventanaId=all&foo=2",
        "/api/v1/ventas/facets?status=PAID",
        "/api/v1/ventas?pageSize=101",
        "/api/v1/ventas?page=0",
        "/api/v1/ventas?orderBy=id",
        "/api/v1/ventas?bar=1",
        "/api/v1/sales/daily-stats?date=ayer",
        "/api/v1/sales/daily-stats?vendedorId=nope",
        "/api/v1/sales/daily-stats?loteriaId=x",
    ] {
        for who in [&w.admin, &w.a.vendedores[0]] {
            let (st, v) = get(&s, who, path).await;
            assert_eq!(st, StatusCode::BAD_REQUEST, "{path}: {v}");
            assert!(
                v["code"] == "VALIDATION_ERROR" || v["code"] == "RANGE_TOO_LONG",
                "{path}: {v}"
            );
        }
    }
    // `_` (cache buster), `all` ids and empty values are accepted.
    ok(
        &s,
        &w.admin,
        "/api/v1/ventas/summary?_=123&ventanaId=all&status=",
    )
    .await;
    ok(&s, &w.admin, "/api/v1/ventas/facets?scope=all&date=week").await;
    ok(
        &s,
        &w.admin,
        "/api/v1/ventas/breakdown?dimension=numero&top=100&date=month",
    )
    .await;
    ok(
        &s,
        &w.admin,
        "/api/v1/ventas/timeseries?granularity=hour&date=week",
    )
    .await;
}
