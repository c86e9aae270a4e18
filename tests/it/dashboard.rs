//! `/api/v1/admin/dashboard*` (domain-money §6.1, §7) against a real PostgreSQL: exact figures
//! after sales, evaluation, statement rebuilds and movements (only drawn sorteos count), totals
//! equal to the statements', balances (CxC/CxP, saldo a hoy), the exposure of OPEN sorteos
//! only, role scoping (VENDEDOR 403, VENTANA its ventana, the other banca nothing), strict
//! queries, the hourly limit, `meta.source`/cache, and the exports parsed back.

use std::io::Cursor;
use std::time::{Duration, Instant};

use calamine::{open_workbook_from_rs, Data, Reader, Xlsx};
use chrono::NaiveDate;
use reqwest::{Method, StatusCode};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::evaluation::{dec, evaluate, numero, roja, standard_sales};
use crate::fixtures::{self, call, exec, scalar, shop, Login, Shop, Tenant};

/// GET paths of these routes aimed at `v`'s ventanas and vendedores: a user of another banca
/// must get 403/404 or nothing of `v`.
pub(crate) fn isolation_paths(v: &Tenant) -> Vec<String> {
    let (v0, v1) = (v.ventanas[0], v.ventanas[1]);
    let s0 = v.vendedores[0].user_id;
    let base = "/api/v1/admin/dashboard";
    vec![
        format!("{base}?ventanaId={v0}"),
        format!("{base}/ganancia?ventanaId={v0}"),
        format!("{base}/ganancia?dimension=vendedor&ventanaId={v1}"),
        format!("{base}/ganancia/month-to-date?ventanaId={v0}"),
        format!("{base}/cxc?ventanaId={v0}"),
        format!("{base}/cxp?dimension=vendedor&ventanaId={v1}"),
        format!("{base}/summary?ventanaId={v0}"),
        format!("{base}/entities?ventanaId={v1}"),
        format!("{base}/timeseries?ventanaId={v0}"),
        format!("{base}/exposure?ventanaId={v0}"),
        format!("{base}/vendedores?ventanaId={v1}"),
        format!("{base}/accumulated-balances?dimension=ventana&entityIds={v0},{v1}"),
        format!("{base}/accumulated-balances?dimension=vendedor&entityIds={s0}"),
        format!("{base}/export?format=csv&ventanaId={v0}"),
    ]
}

const BASE: &str = "/api/v1/admin/dashboard";

async fn get_raw(
    s: &Shop,
    who: &Login,
    path: &str,
    banca: Option<Uuid>,
) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
    let mut req =
        s.w.app
            .client
            .get(s.w.app.url(path))
            .bearer_auth(&who.token);
    if let Some(b) = banca {
        req = req.header("x-active-banca-id", b.to_string());
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body = res.bytes().await.unwrap().to_vec();
    // The export answers a link (what the app reads): open it as the app does, without the
    // bearer token.
    if path.contains("/export?") && status == StatusCode::OK {
        let v: Value = serde_json::from_slice(&body).expect("a JSON link");
        let url = v["data"]["url"].as_str().expect("data.url").to_string();
        let res = s.w.app.client.get(&url).send().await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        return (status, headers, res.bytes().await.unwrap().to_vec());
    }
    (status, headers, body)
}

async fn get_as(s: &Shop, who: &Login, path: &str, banca: Option<Uuid>) -> (StatusCode, Value) {
    let (st, _, body) = get_raw(s, who, path, banca).await;
    (st, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

/// The whole successful answer of a GET.
async fn ok(s: &Shop, who: &Login, path: &str) -> Value {
    let (st, v) = get_as(s, who, path, None).await;
    assert_eq!(st, StatusCode::OK, "{path}: {v}");
    assert_eq!(v["success"], true, "{v}");
    v
}

/// A JSON number as an exact decimal.
fn d(v: &Value) -> Decimal {
    assert!(v.is_number(), "not a number: {v}");
    v.to_string().parse().unwrap()
}

fn assert_money(row: &Value, expected: &[(&str, &str)]) {
    for (k, want) in expected {
        assert_eq!(d(&row[*k]), dec(want), "{k} of {row}");
    }
}

fn find<'a>(rows: &'a Value, key: &str, id: Uuid) -> &'a Value {
    rows.as_array()
        .unwrap_or_else(|| panic!("not an array: {rows}"))
        .iter()
        .find(|r| r[key] == json!(id))
        .unwrap_or_else(|| panic!("{key} {id} not in {rows}"))
}

/// Drains the statement rebuilds until none is queued.
async fn settle(s: &Shop) {
    let until = Instant::now() + Duration::from_secs(20);
    loop {
        banca::services::statements::drain(s.w.app.state.pools.primary())
            .await
            .expect("drain");
        let left: i64 = scalar(&s.w, "SELECT count(*) FROM statement_refreshes").await;
        if left == 0 {
            return;
        }
        assert!(Instant::now() < until, "rebuild requests left in the queue");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn movement(s: &Shop, day: NaiveDate, kind: &str, amount: &str, target: Value) {
    let mut body =
        json!({"date": day.to_string(), "amount": dec(amount), "type": kind, "method": "cash"});
    for (k, v) in target.as_object().unwrap() {
        body[k] = v.clone();
    }
    let (st, v) = call(
        &s.w.app,
        Method::POST,
        "/api/v1/accounts/payment",
        Some(&s.w.admin.token),
        Some(&body),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
}

/// The world of every test:
/// - policies: vendedor A1 10 % of its own (USER origin), every ventana of A 5 % (listero);
/// - the standard sales in the shop's sorteo, moved to today (12:00) and evaluated with 07 and
///   the REVENTADO "Roja" (2.5x): A1 sells 190 (prize 9100; listero 9.50, seller 19), A2 sells
///   18.90 + 20 (prize 1112.88; listero 1.95, seller 0 (origin VENTANA)); a cancelled ticket;
/// - a second sorteo that stays OPEN, where A1 sells 07 × 500 and 13 × 20 (Base 90x);
/// - movements of today: a collection of 100 from ventana A1, a payment of 10 000 to ventana
///   A2, a payment of 50.25 to vendedor A2.
///
/// Ventana statements: A1 −8919.50 − 100 = −9019.50 (CxP), A2 −1075.93 + 10000 = 8924.07
/// (CxC). Vendedor statements: A1 −8929, A2 −1073.98 + 50.25 = −1023.73.
struct World {
    s: Shop,
    today: NaiveDate,
    open: Uuid,
}

async fn world() -> World {
    let s = shop().await;
    let w = &s.w;
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::America::Costa_Rica)
        .date_naive();
    exec(
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
    standard_sales(&s).await;
    let roja = roja(&s).await;
    let at: chrono::DateTime<chrono::Utc> = scalar(
        w,
        &format!(
            "SELECT scheduled_at + interval '1 minute' FROM sorteos WHERE id = '{}'",
            s.sorteo
        ),
    )
    .await;
    let open = fixtures::sorteo(&w.app, s.loteria, at, "OPEN").await;
    let body = json!({"loteriaId": s.loteria, "sorteoId": open,
                      "jugadas": [numero("07", 500.0), numero("13", 20.0)]});
    let (st, v) = call(
        &w.app,
        Method::POST,
        "/api/v1/tickets",
        Some(&w.a.vendedores[0].token),
        Some(&body),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    // The drawn sorteo belongs to today.
    exec(
        w,
        &format!(
            "UPDATE sorteos SET scheduled_at = ('{today} 12:00'::timestamp
                 AT TIME ZONE 'America/Costa_Rica') WHERE id = '{id}';
             UPDATE tickets SET business_date = '{today}' WHERE sorteo_id = '{id}'",
            id = s.sorteo
        ),
    )
    .await;
    let (st, v) = evaluate(
        &s,
        &w.a.banca_user,
        json!({"winningNumber": "07", "extraMultiplierId": roja}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    settle(&s).await;
    let (va1, va2) = (w.a.ventanas[0], w.a.ventanas[1]);
    let a2 = w.a.vendedores[1].user_id;
    movement(&s, today, "collection", "100", json!({"ventanaId": va1})).await;
    movement(&s, today, "payment", "10000", json!({"ventanaId": va2})).await;
    movement(&s, today, "payment", "50.25", json!({"vendedorId": a2})).await;
    settle(&s).await;
    World { s, today, open }
}

fn today_range(today: NaiveDate) -> String {
    format!("date=range&fromDate={today}&toDate={today}")
}

#[tokio::test]
async fn overview_has_exact_figures_equal_to_the_statements() {
    let x = world().await;
    let (s, w) = (&x.s, &x.s.w);
    let (va1, va2) = (w.a.ventanas[0], w.a.ventanas[1]);

    let v = ok(s, &w.admin, BASE).await;
    let data = &v["data"];

    // Totals (ADMIN: net after the listero commission): 228.90 − 10212.88 − 11.45.
    assert_money(
        &data["summary"],
        &[
            ("totalSales", "228.90"),
            ("totalPayouts", "10212.88"),
            ("commissionUser", "19"),
            ("commissionVentana", "11.45"),
            ("totalCommissions", "30.45"),
            ("net", "-9995.43"),
            ("gananciaListeros", "-7.55"),
            ("gananciaBanca", "-9995.43"),
        ],
    );
    assert_eq!(data["summary"]["totalTickets"], 3);
    assert_eq!(data["summary"]["totalWinners"], 2);
    assert_eq!(data["summary"]["margin"], json!(-4366.72));
    assert_eq!(data["summary"]["winRate"], json!(66.67));

    // What the client reads.
    let k = &data["kpis"];
    assert_money(
        k,
        &[("totalSales", "228.90"), ("totalCommissions", "30.45")],
    );
    assert_eq!(k["totalTickets"], 3);
    assert_eq!(k["totalWinners"], 2);
    assert_eq!(k["winRate"], json!(66.67));
    assert_eq!(k["margin"], json!(-4366.72));
    assert!(k["previousPeriod"].is_object(), "{k}");
    assert_money(&k["previousPeriod"], &[("totalSales", "0")]);
    for key in ["timeSeries", "byVentana", "byLoteria", "alerts"] {
        assert!(data[key].is_array(), "{key}: {data}");
    }
    for key in [
        "range",
        "queryExecutionTime",
        "totalQueries",
        "etag",
        "cacheHit",
    ] {
        assert!(!v["meta"][key].is_null(), "meta.{key}: {}", v["meta"]);
    }
    // totalQueries: the statements this request ran (the live exposure's at least); a figure
    // answered from the report cache ran none.
    assert!(
        v["meta"]["totalQueries"].as_u64().unwrap() > 0,
        "{}",
        v["meta"]
    );
    let fresh = ok(s, &w.admin, &format!("{BASE}/ganancia?refresh=true")).await;
    assert_eq!(fresh["meta"]["cacheHit"], false);
    assert!(
        fresh["meta"]["totalQueries"].as_u64().unwrap() > 1,
        "{}",
        fresh["meta"]
    );
    let again = ok(s, &w.admin, &format!("{BASE}/ganancia")).await;
    if again["meta"]["cacheHit"] == true {
        assert_eq!(again["meta"]["totalQueries"], 0, "{}", again["meta"]);
    }
    assert_eq!(v["meta"]["source"], "primary");
    assert_eq!(v["meta"]["range"]["fromDate"], x.today.to_string());

    // Per ventana: net after the listero commission; period balance with the movements.
    let a1 = find(&data["byVentana"], "ventanaId", va1);
    assert_money(
        a1,
        &[
            ("sales", "190"),
            ("payout", "9100"),
            ("commissionUser", "19"),
            ("commissionVentana", "9.50"),
            ("commissions", "28.50"),
            ("net", "-8919.50"),
            ("totalCollected", "100"),
            ("periodBalance", "-9019.50"),
        ],
    );
    assert_eq!(a1["tickets"], 1);
    assert_eq!(a1["winners"], 1);
    let a2 = find(&data["byVentana"], "ventanaId", va2);
    assert_money(
        a2,
        &[
            ("sales", "38.90"),
            ("payout", "1112.88"),
            ("commissionUser", "0"),
            ("commissionVentana", "1.95"),
            ("net", "-1075.93"),
            ("totalPaid", "10000"),
            ("periodBalance", "8924.07"),
        ],
    );
    assert_eq!(a2["tickets"], 2);
    assert_eq!(a2["avgTicket"], json!(19.45));
    assert_eq!(data["byLoteria"].as_array().unwrap().len(), 1);
    assert_money(&data["byLoteria"][0], &[("sales", "228.90")]);

    // CxC: A2 owes 8924.07; CxP: the banca owes A1 9019.50.
    assert_money(&data["cxc"], &[("totalAmount", "8924.07")]);
    assert_eq!(data["cxc"]["byVentana"].as_array().unwrap().len(), 1);
    assert_money(&data["cxp"], &[("totalAmount", "9019.50")]);
    assert_eq!(data["cxp"]["byVentana"][0]["ventanaId"], json!(va1));

    // The series has the day, the exposure only the OPEN sorteo, with its alert.
    assert_eq!(data["timeSeries"].as_array().unwrap().len(), 1);
    assert_money(
        &data["timeSeries"][0],
        &[("sales", "228.90"), ("payout", "10212.88")],
    );
    assert_eq!(data["exposure"]["openSorteos"], 1);
    assert_eq!(data["exposure"]["bySorteo"][0]["sorteoId"], json!(x.open));
    let kinds: Vec<&str> = data["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        vec!["LOW_SALES", "HIGH_EXPOSURE"],
        "{}",
        data["alerts"]
    );

    // The same figures as Σ of the ventana statements of the day.
    let (sales, payouts, listero, tickets): (Decimal, Decimal, Decimal, i64) = sqlx::query_as(
        "SELECT sum(total_sales), sum(total_payouts), sum(listero_commission),
                sum(ticket_count)::bigint
         FROM account_statements WHERE dimension = 'ventana' AND date = $1",
    )
    .bind(x.today)
    .fetch_one(&mut w.db.connect().await)
    .await
    .unwrap();
    assert_eq!(d(&data["summary"]["totalSales"]), sales);
    assert_eq!(d(&data["summary"]["totalPayouts"]), payouts);
    assert_eq!(d(&data["summary"]["commissionVentana"]), listero);
    assert_eq!(data["summary"]["totalTickets"], json!(tickets));
    // … and of the rollups.
    let rollup: Decimal = scalar(
        w,
        &format!(
            "SELECT sum(total_sales) FROM sales_rollup WHERE business_date = '{}'",
            x.today
        ),
    )
    .await;
    assert_eq!(d(&data["summary"]["totalSales"]), rollup);

    // A second read is served by the cache, with the same figures.
    let again = ok(s, &w.admin, BASE).await;
    assert_eq!(again["meta"]["cache"], "hit");
    assert_eq!(again["meta"]["cacheHit"], true);
    assert_eq!(again["data"]["summary"], data["summary"]);
    let fresh = ok(s, &w.admin, &format!("{BASE}?refresh=true")).await;
    assert_eq!(fresh["meta"]["cacheHit"], false);
    assert_eq!(fresh["data"]["summary"], data["summary"]);
}

#[tokio::test]
async fn ganancia_balances_summary_entities_and_accumulated_balances() {
    let x = world().await;
    let (s, w) = (&x.s, &x.s.w);
    let (va1, va2) = (w.a.ventanas[0], w.a.ventanas[1]);
    let (a1, a2) = (w.a.vendedores[0].user_id, w.a.vendedores[1].user_id);
    let r = today_range(x.today);

    // Ganancia per vendedor: period balance after the seller's commission.
    let g = ok(
        s,
        &w.admin,
        &format!("{BASE}/ganancia?dimension=vendedor&{r}"),
    )
    .await;
    let g = &g["data"];
    assert_money(g, &[("totalNet", "-9995.43"), ("totalAmount", "-9995.43")]);
    assert!(g.get("byVentana").is_none(), "{g}");
    let s1 = find(&g["byVendedor"], "vendedorId", a1);
    assert_money(s1, &[("sales", "190"), ("periodBalance", "-8929")]);
    assert_eq!(s1["ventanaId"], json!(va1));
    let s2 = find(&g["byVendedor"], "vendedorId", a2);
    assert_money(
        s2,
        &[
            ("sales", "38.90"),
            ("totalPaid", "50.25"),
            ("periodBalance", "-1023.73"),
        ],
    );
    let mtd = ok(s, &w.admin, &format!("{BASE}/ganancia/month-to-date")).await;
    assert_money(&mtd["data"], &[("totalSales", "228.90")]);
    assert_eq!(mtd["data"]["toDate"], x.today.to_string());

    // CxC / CxP per vendedor: both sellers are owed.
    let cxc = ok(s, &w.admin, &format!("{BASE}/cxc?dimension=vendedor")).await;
    assert_eq!(cxc["data"]["byVendedor"], json!([]), "{cxc}");
    let cxp = ok(
        s,
        &w.admin,
        &format!("{BASE}/cxp?dimension=vendedor&aging=true"),
    )
    .await;
    let rows = &cxp["data"]["byVendedor"];
    assert_eq!(rows.as_array().unwrap().len(), 2, "{rows}");
    assert_money(&cxp["data"], &[("totalAmount", "9952.73")]);
    assert_eq!(rows[0]["vendedorId"], json!(a1), "largest first");
    assert_money(
        &rows[0],
        &[
            ("amount", "8929"),
            ("remainingBalance", "-8929"),
            ("periodRemainingBalance", "-8929"),
            ("openingBalance", "0"),
            ("totalSales", "190"),
            ("vendedorCommission", "19"),
        ],
    );
    assert_money(
        &rows[0]["monthlyAccumulated"],
        &[("remainingBalance", "-8929")],
    );
    assert_eq!(rows[1]["aging"]["lastMovementDate"], x.today.to_string());
    assert_eq!(rows[1]["aging"]["daysSinceLastMovement"], 0);
    assert!(rows[0]["aging"]["lastMovementDate"].is_null());

    // Ventana balances with the movements.
    let cxc = ok(s, &w.admin, &format!("{BASE}/cxc")).await;
    let row = &cxc["data"]["byVentana"][0];
    assert_eq!(row["ventanaId"], json!(va2));
    assert_money(
        row,
        &[
            ("amount", "8924.07"),
            ("totalPaid", "10000"),
            ("totalSales", "38.90"),
            ("listeroCommission", "1.95"),
        ],
    );

    // Summary per ventana: saldo a hoy, its vendedores' saldo, CxC/CxP amounts.
    let sm = ok(s, &w.admin, &format!("{BASE}/summary")).await;
    let v1 = find(&sm["data"]["byVentana"], "ventanaId", va1);
    assert_money(
        v1,
        &[
            ("remainingBalance", "-9019.50"),
            ("vendedoresBalance", "-8929"),
            ("cxcAmount", "0"),
            ("cxpAmount", "9019.50"),
            ("net", "-8919.50"),
        ],
    );
    let v2 = find(&sm["data"]["byVentana"], "ventanaId", va2);
    assert_money(
        v2,
        &[
            ("remainingBalance", "8924.07"),
            ("vendedoresBalance", "-1023.73"),
            ("cxcAmount", "8924.07"),
            ("cxpAmount", "0"),
        ],
    );
    assert_money(&sm["data"]["kpis"], &[("totalSales", "228.90")]);
    assert_money(&sm["data"]["monthToDate"], &[("totalSales", "228.90")]);

    // Entities: per vendedor.
    let en = ok(s, &w.admin, &format!("{BASE}/entities")).await;
    let e2 = find(&en["data"]["byVendedor"], "vendedorId", a2);
    assert_money(
        e2,
        &[("remainingBalance", "-1023.73"), ("cxpAmount", "1023.73")],
    );
    assert_eq!(e2["tickets"], 2);

    // Accumulated balances, by GET (comma list or repeated keys) and POST.
    let acc = ok(
        s,
        &w.admin,
        &format!("{BASE}/accumulated-balances?dimension=ventana&entityIds={va1},{va2}"),
    )
    .await;
    assert_money(
        find(&acc["data"], "entityId", va1),
        &[("remainingBalance", "-9019.50")],
    );
    assert_money(
        find(&acc["data"], "entityId", va2),
        &[("remainingBalance", "8924.07")],
    );
    // Like every dashboard answer, it says how many statements it ran (0 from the cache).
    let queries = acc["meta"]["totalQueries"].as_u64().unwrap();
    assert!(
        (queries > 0) != (acc["meta"]["cacheHit"] == true),
        "{}",
        acc["meta"]
    );
    let acc = ok(
        s,
        &w.admin,
        &format!("{BASE}/accumulated-balances?dimension=vendedor&entityIds={a1}&entityIds={a2}"),
    )
    .await;
    assert_eq!(acc["data"].as_array().unwrap().len(), 2);
    let (st, v) = call(
        &w.app,
        Method::POST,
        &format!("{BASE}/accumulated-balances"),
        Some(&w.a.banca_user.token),
        Some(&json!({"dimension": "vendedor", "entityIds": [a2]})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_money(&v["data"][0], &[("remainingBalance", "-1023.73")]);
    assert_eq!(v["data"][0]["date"], x.today.to_string());
    // Banca B asks for A's entities: nothing.
    let (st, v) = call(
        &w.app,
        Method::POST,
        &format!("{BASE}/accumulated-balances"),
        Some(&w.b.banca_user.token),
        Some(&json!({"dimension": "ventana", "entityIds": [va1, va2]})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["data"], json!([]));
}

#[tokio::test]
async fn timeseries_vendedores_and_exposure() {
    let x = world().await;
    let (s, w) = (&x.s, &x.s.w);
    let (a1, a2) = (w.a.vendedores[0].user_id, w.a.vendedores[1].user_id);
    let week = format!(
        "date=range&fromDate={}&toDate={}",
        x.today - chrono::Duration::days(6),
        x.today
    );

    // Daily buckets over a week, every day present; the previous week to compare.
    let ts = ok(
        s,
        &w.admin,
        &format!("{BASE}/timeseries?{week}&compare=true"),
    )
    .await;
    let data = ts["data"]["data"].as_array().unwrap();
    assert_eq!(data.len(), 7);
    assert_eq!(ts["data"]["granularity"], "day");
    let last = data.last().unwrap();
    assert_eq!(last["timestamp"], x.today.to_string());
    assert_money(
        last,
        &[
            ("sales", "228.90"),
            ("payout", "10212.88"),
            ("commissions", "30.45"),
        ],
    );
    assert_eq!(last["tickets"], 3);
    assert_eq!(last["winners"], 2);
    assert_eq!(ts["data"]["comparison"].as_array().unwrap().len(), 7);

    // Hourly over the day: 24 buckets adding up to the day.
    let ts = ok(
        s,
        &w.admin,
        &format!("{BASE}/timeseries?interval=hour&{}", today_range(x.today)),
    )
    .await;
    let hours = ts["data"]["data"].as_array().unwrap();
    assert_eq!(hours.len(), 24);
    let sum: Decimal = hours.iter().map(|h| d(&h["sales"])).sum();
    assert_eq!(sum, dec("228.90"));
    let tickets: i64 = hours.iter().map(|h| h["tickets"].as_i64().unwrap()).sum();
    assert_eq!(tickets, 3);

    // Hourly over 8 days is refused.
    let (st, v) = get_as(
        s,
        &w.admin,
        &format!(
            "{BASE}/timeseries?interval=hour&date=range&fromDate={}&toDate={}",
            x.today - chrono::Duration::days(7),
            x.today
        ),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["code"], "INTERVAL_TOO_WIDE");

    // The ranking, ordered and paginated.
    let r = ok(s, &w.admin, &format!("{BASE}/vendedores")).await;
    assert_eq!(r["data"][0]["vendedorId"], json!(a1));
    assert_money(&r["data"][0], &[("sales", "190"), ("avgTicket", "190")]);
    assert_eq!(r["meta"]["total"], 2);
    let r = ok(
        s,
        &w.admin,
        &format!("{BASE}/vendedores?orderBy=tickets&order=desc&page=1&pageSize=1"),
    )
    .await;
    assert_eq!(r["data"].as_array().unwrap().len(), 1);
    assert_eq!(r["data"][0]["vendedorId"], json!(a2));
    assert_eq!(r["meta"]["hasNextPage"], true);
    assert_eq!(r["meta"]["totalPages"], 2);

    // Exposure: only the OPEN sorteo (07 × 500, 13 × 20 at 90x), never the evaluated one.
    let e = ok(s, &w.admin, &format!("{BASE}/exposure?top=1")).await;
    assert_eq!(e["meta"]["source"], "primary");
    let e = &e["data"];
    assert_eq!(e["openSorteos"], 1);
    assert_money(
        e,
        &[("totalSales", "520"), ("totalPotentialPayout", "46800")],
    );
    assert_eq!(e["topNumbers"].as_array().unwrap().len(), 1);
    let top = &e["topNumbers"][0];
    assert_eq!(top["number"], "07");
    assert_eq!(top["sorteoId"], json!(x.open));
    assert_money(top, &[("sales", "500"), ("potentialPayout", "45000")]);
    // 45000 / 520 × 100.
    assert_eq!(top["ratio"], json!(8653.85));
    assert_eq!(e["heatmap"].as_array().unwrap().len(), 2);
    assert_eq!(e["bySorteo"][0]["criticalNumber"], "07");
    assert_money(&e["byLoteria"][0], &[("maxPotentialPayout", "45000")]);
    // A sale in the OPEN sorteo shows at once (live, not cached).
    let body = json!({"loteriaId": s.loteria, "sorteoId": x.open, "jugadas": [numero("13", 30.0)]});
    let (st, v) = call(
        &w.app,
        Method::POST,
        "/api/v1/tickets",
        Some(&w.a.vendedores[1].token),
        Some(&body),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let e = ok(s, &w.admin, &format!("{BASE}/exposure")).await;
    assert_money(&e["data"], &[("totalSales", "550")]);
    // Filtered by ventana: only A1's jugadas.
    let e = ok(
        s,
        &w.admin,
        &format!("{BASE}/exposure?ventanaId={}", w.a.ventanas[0]),
    )
    .await;
    assert_money(&e["data"], &[("totalSales", "520")]);
}

#[tokio::test]
async fn roles_scope_the_figures() {
    let x = world().await;
    let (s, w) = (&x.s, &x.s.w);
    let (va1, va2) = (w.a.ventanas[0], w.a.ventanas[1]);
    let paths = [
        BASE.to_string(),
        format!("{BASE}/ganancia"),
        format!("{BASE}/ganancia/month-to-date"),
        format!("{BASE}/cxc"),
        format!("{BASE}/cxp"),
        format!("{BASE}/summary"),
        format!("{BASE}/entities"),
        format!("{BASE}/timeseries"),
        format!("{BASE}/exposure"),
        format!("{BASE}/vendedores"),
        format!("{BASE}/accumulated-balances?entityIds={va1}"),
        format!("{BASE}/export?format=csv"),
    ];

    // VENDEDOR: 403 everywhere.
    for p in &paths {
        let (st, v) = get_as(s, &w.a.vendedores[0], p, None).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{p}: {v}");
        assert_eq!(v["code"], "FORBIDDEN", "{p}");
    }
    let (st, _) = call(
        &w.app,
        Method::POST,
        &format!("{BASE}/accumulated-balances"),
        Some(&w.a.vendedores[0].token),
        Some(&json!({"dimension": "ventana", "entityIds": [va1]})),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);

    // VENTANA A1: only its ventana; another ventana is 403.
    let v = ok(s, &w.a.ventana_users[0], BASE).await;
    let rows = v["data"]["byVentana"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["ventanaId"], json!(va1));
    // Not ADMIN: net after the seller's commission (190 − 9100 − 19).
    assert_money(
        &v["data"]["summary"],
        &[("net", "-8929"), ("totalSales", "190")],
    );
    assert_eq!(v["data"]["exposure"]["openSorteos"], 1);
    let (st, v) = get_as(
        s,
        &w.a.ventana_users[0],
        &format!("{BASE}/summary?ventanaId={va2}"),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    assert_eq!(v["code"], "RBAC_001");

    // BANCA A: the whole banca; net after the seller's commission.
    let v = ok(s, &w.a.banca_user, BASE).await;
    assert_money(
        &v["data"]["summary"],
        &[("totalSales", "228.90"), ("net", "-10002.98")],
    );

    // Banca B sees nothing of A, and A's ventana is out of its reach.
    for p in &paths {
        let (st, v) = get_as(s, &w.b.banca_user, p, None).await;
        assert_eq!(st, StatusCode::OK, "{p}: {v}");
        let text = v["data"].to_string();
        assert!(!text.contains(&va1.to_string()), "{p}: {text}");
        assert!(!text.contains(&va2.to_string()), "{p}: {text}");
    }
    let v = ok(s, &w.b.banca_user, BASE).await;
    assert_money(&v["data"]["summary"], &[("totalSales", "0")]);
    assert_eq!(v["data"]["exposure"]["openSorteos"], 0);
    assert_eq!(v["data"]["cxc"]["byVentana"], json!([]));
    for p in isolation_paths(&w.a) {
        let (st, v) = get_as(s, &w.b.banca_user, &p, None).await;
        if st == StatusCode::OK {
            let text = v["data"].to_string();
            assert!(!text.contains(&va1.to_string()), "{p}: {text}");
            assert!(!text.contains(&va2.to_string()), "{p}: {text}");
            assert!(!text.contains("190"), "{p}: {text}");
        } else {
            assert_eq!(st, StatusCode::FORBIDDEN, "{p}: {v}");
        }
    }
    let (st, v) = get_as(
        s,
        &w.b.ventana_users[0],
        &format!("{BASE}/ganancia?ventanaId={va1}"),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");

    // ADMIN: with banca B active nothing, without an active banca everything.
    let (st, v) = get_as(s, &w.admin, BASE, Some(w.b.banca_id)).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_money(&v["data"]["summary"], &[("totalSales", "0")]);
    assert_eq!(v["data"]["exposure"]["openSorteos"], 0);
    let (st, v) = get_as(s, &w.admin, BASE, Some(w.a.banca_id)).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_money(&v["data"]["summary"], &[("totalSales", "228.90")]);
    let (st, v) = get_as(
        s,
        &w.admin,
        &format!("{BASE}/summary?ventanaId={va1}"),
        Some(w.b.banca_id),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
}

#[tokio::test]
async fn queries_are_strict() {
    let x = world().await;
    let (s, w) = (&x.s, &x.s.w);
    for (path, field) in [
        (format!("{BASE}?foo=1"), "foo"),
        (
            format!("{BASE}/ganancia?vendedorId={}", Uuid::new_v4()),
            "vendedorId",
        ),
        (format!("{BASE}/summary?betType=DIRECTO"), "betType"),
        (format!("{BASE}/timeseries?interval=minute"), "interval"),
        (format!("{BASE}/vendedores?orderBy=name"), "orderBy"),
        (format!("{BASE}/vendedores?pageSize=500"), "pageSize"),
        (format!("{BASE}/exposure?top=0"), "top"),
        (format!("{BASE}/cxc?dimension=banca"), "dimension"),
        (format!("{BASE}/cxc?ventanaId=nope"), "ventanaId"),
        (
            format!("{BASE}?date=range&fromDate=2025-13-01&toDate=2025-01-01"),
            "fromDate",
        ),
        (format!("{BASE}?date=today&fromDate=2025-01-01"), "fromDate"),
        (format!("{BASE}/export?format=doc"), "format"),
        (format!("{BASE}/export"), "format"),
        (
            format!("{BASE}/export?format=csv&sections=otra"),
            "sections",
        ),
        (
            format!("{BASE}/accumulated-balances?entityIds=x"),
            "entityIds",
        ),
        (format!("{BASE}/accumulated-balances?foo=1"), "foo"),
    ] {
        let (st, v) = get_as(s, &w.admin, &path, None).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{path}: {v}");
        assert_eq!(v["code"], "VALIDATION_ERROR", "{path}: {v}");
        assert!(
            v["message"].as_str().unwrap().contains(field),
            "{path}: {v}"
        );
    }
    // More than 366 days.
    let (st, v) = get_as(
        s,
        &w.admin,
        &format!("{BASE}?date=range&fromDate=2024-01-01&toDate=2025-06-01"),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["code"], "RANGE_TOO_LONG");
    // Every known key together is accepted.
    let v = ok(
        s,
        &w.admin,
        &format!(
            "{BASE}?date=today&ventanaId=all&scope=all&loteriaId={}&betType=NUMERO&interval=day\
             &granularity=day&top=5&dimension=ventana&orderBy=sales&order=asc&page=1\
             &pageSize=10&aging=false&format=csv&sections=summary&compare=false&refresh=false&_=1",
            s.loteria
        ),
    )
    .await;
    // Only NUMERO lines: 100 + 50 + 12.35 + 3 + 10.
    assert_money(&v["data"]["summary"], &[("totalSales", "175.35")]);
    let (st, v) = call(
        &w.app,
        Method::POST,
        &format!("{BASE}/accumulated-balances"),
        Some(&w.admin.token),
        Some(&json!({"dimension": "ventana", "entityIds": [], "otro": 1})),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
}

/// The sheets after the first one in a CSV export (each starts with its name on a line).
const SHEETS: [&str; 4] = [
    "Balances por Ventana",
    "Balances por Vendedor",
    "Serie Temporal",
    "Exposición",
];

/// The rows of one CSV section (the first one with `None`; else after its name line), header
/// first.
fn csv_section(body: &[u8], name: Option<&str>) -> Vec<Vec<String>> {
    assert_eq!(&body[..3], &[0xEF, 0xBB, 0xBF], "BOM");
    let text = std::str::from_utf8(&body[3..]).unwrap();
    assert!(text.contains("\r\n"), "CRLF");
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let rows: Vec<Vec<String>> = r
        .records()
        .map(|x| {
            x.unwrap()
                .iter()
                .map(str::to_string)
                .collect::<Vec<String>>()
        })
        .filter(|r| !(r.len() == 1 && r[0].is_empty()))
        .collect();
    let is_name = |r: &Vec<String>| r.len() == 1 && SHEETS.contains(&r[0].as_str());
    let start = match name {
        None => 0,
        Some(n) => rows.iter().position(|r| r.len() == 1 && r[0] == n).unwrap() + 1,
    };
    rows[start..]
        .iter()
        .take_while(|r| !is_name(r))
        .cloned()
        .collect()
}

#[tokio::test]
async fn exports_parse_back_to_the_json() {
    let x = world().await;
    let (s, w) = (&x.s, &x.s.w);
    let (va1, va2) = (w.a.ventanas[0], w.a.ventanas[1]);
    let json_sum = ok(s, &w.admin, BASE).await["data"]["summary"].clone();
    let cxc = ok(s, &w.admin, &format!("{BASE}/cxc")).await;
    let cxp = ok(s, &w.admin, &format!("{BASE}/cxp")).await;
    let saldo = |id: Uuid| -> Decimal {
        let all: Vec<&Value> = cxc["data"]["byVentana"]
            .as_array()
            .unwrap()
            .iter()
            .chain(cxp["data"]["byVentana"].as_array().unwrap())
            .collect();
        d(&all.iter().find(|r| r["ventanaId"] == json!(id)).unwrap()["remainingBalance"])
    };

    // CSV.
    let (st, h, body) = get_raw(s, &w.admin, &format!("{BASE}/export?format=csv"), None).await;
    assert_eq!(st, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    assert!(h["content-type"].to_str().unwrap().starts_with("text/csv"));
    assert_eq!(
        h["content-disposition"].to_str().unwrap(),
        format!(
            "attachment; filename=\"dashboard-{t}_{t}.csv\"",
            t = x.today
        )
    );
    let resumen = csv_section(&body, None);
    assert_eq!(resumen[0], vec!["Indicador", "Período", "Mes a la Fecha"]);
    let line = |label: &str| resumen.iter().find(|r| r[0] == label).unwrap().clone();
    assert_eq!(dec(&line("Ventas")[1]), d(&json_sum["totalSales"]));
    assert_eq!(dec(&line("Premios")[1]), d(&json_sum["totalPayouts"]));
    assert_eq!(dec(&line("Neto")[1]), d(&json_sum["net"]));
    assert_eq!(line("Tickets")[1], "3");
    assert_eq!(dec(&line("Margen (%)")[1]), dec("-4366.72"));
    let ventanas = csv_section(&body, Some("Balances por Ventana"));
    assert_eq!(ventanas[0][0], "Ventana");
    let col = ventanas[0].iter().position(|c| c == "Saldo a Hoy").unwrap();
    for (name, id) in [("Ventana A1", va1), ("Ventana A2", va2)] {
        let row = ventanas.iter().find(|r| r[0] == name).unwrap();
        assert_eq!(dec(&row[col]), saldo(id), "{name}");
    }
    let serie = csv_section(&body, Some("Serie Temporal"));
    assert_eq!(serie.len(), 2);
    assert_eq!(dec(&serie[1][1]), dec("228.90"));
    let expo = csv_section(&body, Some("Exposición"));
    assert_eq!(expo[1][2], "07");
    assert_eq!(dec(&expo[1][4]), dec("45000"));
    assert!(csv_section(&body, Some("Balances por Vendedor")).len() == 3);

    // Sections.
    let (_, _, only) = get_raw(
        s,
        &w.admin,
        &format!("{BASE}/export?format=csv&sections=exposure"),
        None,
    )
    .await;
    let rows = csv_section(&only, None);
    assert_eq!(rows[0][0], "Lotería");

    // XLSX.
    let (st, h, body) = get_raw(s, &w.admin, &format!("{BASE}/export?format=xlsx"), None).await;
    assert_eq!(st, StatusCode::OK);
    assert!(h["content-disposition"].to_str().unwrap().contains(".xlsx"));
    let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(body)).unwrap();
    assert_eq!(
        book.sheet_names(),
        vec![
            "Resumen Ejecutivo",
            "Balances por Ventana",
            "Balances por Vendedor",
            "Serie Temporal",
            "Exposición"
        ]
    );
    let r = book.worksheet_range("Resumen Ejecutivo").unwrap();
    let rows: Vec<Vec<Data>> = r.rows().map(|r| r.to_vec()).collect();
    let ventas = rows
        .iter()
        .find(|r| r[0] == Data::String("Ventas".into()))
        .unwrap();
    assert_eq!(ventas[1], Data::Float(228.90));
    assert_eq!(ventas[2], Data::Float(228.90));
    let r = book.worksheet_range("Balances por Ventana").unwrap();
    let rows: Vec<Vec<Data>> = r.rows().map(|r| r.to_vec()).collect();
    let a1 = rows
        .iter()
        .find(|r| r[0] == Data::String("Ventana A1".into()))
        .unwrap();
    assert_eq!(a1[col], Data::Float(-9019.50));

    // PDF: negatives in parentheses.
    let (st, h, body) = get_raw(s, &w.admin, &format!("{BASE}/export?format=pdf"), None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(h["content-type"], "application/pdf");
    assert!(body.starts_with(b"%PDF"));
    let doc = lopdf::Document::load_mem(&body).unwrap();
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    let text = doc.extract_text(&pages).unwrap();
    assert!(text.contains("Dashboard"), "{text}");
    assert!(text.contains("(9,019.50)"), "{text}");
    assert!(text.contains("(GMT-6)"), "{text}");
    assert!(text.contains("228.90"), "{text}");
}

/// `GET /export` answers `{url, filename, format, expiresAt}` (client-contract: the app opens
/// `url`); the link works without a bearer token for 5 minutes, only while the session that
/// made it is open; `Accept` with the file's type answers the file at once.
#[tokio::test]
async fn export_answers_a_download_link_bound_to_the_session() {
    let x = world().await;
    let (s, w) = (&x.s, &x.s.w);
    let path = format!("{BASE}/export?format=csv&sections=summary");
    let (st, v) = call(&w.app, Method::GET, &path, Some(&w.admin.token), None).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let link = &v["data"];
    assert_eq!(link["format"], "csv");
    assert_eq!(
        link["filename"],
        format!("dashboard-{t}_{t}.csv", t = x.today)
    );
    let url = link["url"].as_str().unwrap();
    assert!(
        url.starts_with(&s.w.app.url("/api/v1/admin/dashboard/export/file?token=")),
        "{url}"
    );
    let expires: chrono::DateTime<chrono::Utc> =
        link["expiresAt"].as_str().unwrap().parse().unwrap();
    let left = expires - chrono::Utc::now();
    assert!(left > chrono::Duration::seconds(250) && left <= chrono::Duration::seconds(300));

    // Opened without a token: the file, as the direct answer with `Accept: text/csv`.
    let res = w.app.client.get(url).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let linked = res.bytes().await.unwrap();
    let direct = w
        .app
        .client
        .get(w.app.url(&path))
        .bearer_auth(&w.admin.token)
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap();
    assert_eq!(direct.status(), StatusCode::OK);
    let direct = direct.bytes().await.unwrap();
    assert_eq!(csv_section(&linked, None), csv_section(&direct, None));

    // A tampered or foreign token is refused; so is an access token used as a link.
    for bad in [
        format!("{url}x"),
        w.app.url(&format!(
            "/api/v1/admin/dashboard/export/file?token={}",
            w.admin.token
        )),
        w.app.url("/api/v1/admin/dashboard/export/file"),
    ] {
        let res = w.app.client.get(&bad).send().await.unwrap();
        let st = res.status();
        let v: Value = res.json().await.unwrap();
        assert!(
            (st == StatusCode::UNAUTHORIZED && v["code"] == "INVALID_TOKEN")
                || (st == StatusCode::BAD_REQUEST && v["code"] == "VALIDATION_ERROR"),
            "{bad}: {st} {v}"
        );
    }

    // A VENDEDOR gets no link; a VENTANA none for another ventana.
    let (st, _) = get_as(s, &w.a.vendedores[0], &path, None).await;
    assert_eq!(st, StatusCode::FORBIDDEN);

    // Logging out closes the session: its links stop working.
    let (st, v) = call(
        &w.app,
        Method::POST,
        "/api/v1/auth/logout",
        Some(&w.admin.token),
        Some(&json!({})),
    )
    .await;
    assert!(st.is_success(), "{v}");
    let res = w.app.client.get(url).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}
