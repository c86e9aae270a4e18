//! `/api/v1/reports/*` (domain-money §6.4) against a real PostgreSQL: exact figures on a small
//! world (one evaluated sorteo, one OPEN sorteo, a cancelled ticket, a partial payment), the
//! roles of §6.4, tenant isolation (banca B never sees banca A's figures or sorteos), strict
//! queries and `meta.source`.
//!
//! The world (banca A, lotería TICA, base 90x, REVENTADO "Roja" 2.5x; vendedor A1 earns its own
//! 10 %, both ventanas 5 %), all on the business day of the sorteos:
//! * evaluated sorteo (winning 07 + Roja): t1 (A1) 07×100 + 42×50 + R07×40 → prize 9100;
//!   t2 (A2) 07×12.35 + R07×0.55 + 42×3 + R42×3 → prize 1112.88; t3 (A2) 42×10 + R42×10 → 0;
//!   t4 (A1) 07×100 cancelled;
//! * OPEN sorteo: x1 (A1) 07×500; x2 (A2) 42×100 + R42×25 + 13×90 + 99×20.

use reqwest::{Method, StatusCode};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::evaluation::{dec, evaluate, numero, reventado, roja, standard_sales};
use crate::fixtures::{self, call, scalar, shop, Login, Shop, Tenant};

/// GET paths of the reports that name `v`'s objects: an attacker of the other banca gets
/// 403 (ventana/vendedor filters, RBAC) or 404 (sorteos of `v`'s banca are looked up by id, so
/// pass one: here a random id, which is a 404 for everybody).
pub(crate) fn isolation_paths(v: &Tenant) -> Vec<String> {
    let r = "date=range&fromDate=2026-01-01&toDate=2026-01-31";
    let (ventana, vendedor) = (v.ventanas[0], v.vendedores[0].user_id);
    let sorteo = Uuid::new_v4();
    vec![
        format!("/api/v1/reports/tickets/summary?{r}&ventanaId={ventana}"),
        format!("/api/v1/reports/tickets/winners-payments?{r}&vendedorId={vendedor}"),
        format!("/api/v1/reports/tickets/numbers-analysis?{r}&ventanaId={ventana}"),
        format!("/api/v1/reports/tickets/cancelled?{r}&ventanaId={ventana}"),
        format!("/api/v1/reports/tickets/profitability?{r}&vendedorId={vendedor}"),
        format!("/api/v1/reports/tickets/time-analysis?{r}&ventanaId={ventana}"),
        format!("/api/v1/reports/loterias/performance?{r}&ventanaId={ventana}"),
        format!("/api/v1/reports/ventanas/ranking?{r}&ventanaId={ventana}"),
        format!("/api/v1/reports/vendedores/ranking?{r}&vendedorId={vendedor}"),
        format!("/api/v1/reports/vendedores/commissions-chart?{r}&ventanaId={ventana}"),
        format!("/api/v1/reports/tickets/exposure?sorteoId={sorteo}&ventanaId={ventana}"),
        format!("/api/v1/reports/winners-list/{sorteo}?vendedorId={vendedor}"),
    ]
}

async fn get(s: &Shop, who: &Login, path: &str) -> (StatusCode, Value) {
    call(&s.w.app, Method::GET, path, Some(&who.token), None).await
}

/// The whole body of a successful GET.
async fn ok(s: &Shop, who: &Login, path: &str) -> Value {
    let (st, v) = get(s, who, path).await;
    assert_eq!(st, StatusCode::OK, "{path}: {v}");
    assert_eq!(v["success"], true, "{v}");
    assert_eq!(v["meta"]["source"], "primary", "{path}: {v}");
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

async fn expect_error(s: &Shop, who: &Login, path: &str, status: StatusCode, code: &str) {
    let (st, v) = get(s, who, path).await;
    assert_eq!(st, status, "{path}: {v}");
    assert_eq!(v["code"], code, "{path}: {v}");
}

struct Sold {
    s: Shop,
    /// `date=range&fromDate=<day>&toDate=<day>` of the business day of the sorteos.
    r: String,
    open: Uuid,
    t1: Uuid,
    t2: Uuid,
}

/// Sells into `sorteo` as `who`.
async fn sell_to(s: &Shop, who: &Login, sorteo: Uuid, jugadas: Value) -> Uuid {
    let body = json!({"loteriaId": s.loteria, "sorteoId": sorteo, "jugadas": jugadas});
    let (st, v) = call(
        &s.w.app,
        Method::POST,
        "/api/v1/tickets",
        Some(&who.token),
        Some(&body),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    Uuid::parse_str(v["data"]["id"].as_str().unwrap()).unwrap()
}

/// The world of the module docs.
async fn sold() -> Sold {
    let s = shop().await;
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
    let (t1, t2, _, _) = standard_sales(&s).await;
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
    sell_to(&s, &w.a.vendedores[0], open, json!([numero("07", 500.0)])).await;
    sell_to(
        &s,
        &w.a.vendedores[1],
        open,
        json!([
            numero("42", 100.0),
            reventado("42", 25.0),
            numero("13", 90.0),
            numero("99", 20.0)
        ]),
    )
    .await;
    let (st, v) = evaluate(
        &s,
        &w.a.banca_user,
        json!({"winningNumber": "07", "extraMultiplierId": roja}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    // The statement rebuilds the evaluation queued bump the report generation when they run:
    // finish them, so two identical reads below see one generation.
    for _ in 0..100 {
        banca::services::statements::drain(w.app.state.pools.primary())
            .await
            .expect("drain");
        let left: i64 = scalar(w, "SELECT count(*) FROM statement_refreshes").await;
        if left == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let day: String = scalar(
        w,
        &format!(
            "SELECT to_char(scheduled_at AT TIME ZONE 'America/Costa_Rica', 'YYYY-MM-DD')
             FROM sorteos WHERE id = '{}'",
            s.sorteo
        ),
    )
    .await;
    let r = format!("date=range&fromDate={day}&toDate={day}");
    Sold { s, r, open, t1, t2 }
}

#[tokio::test]
async fn evaluated_money_reports_agree_with_the_statements_to_the_cent() {
    let Sold { s, r, .. } = sold().await;
    let w = &s.w;
    let banca = &w.a.banca_user;

    // Profitability: only the evaluated sorteo counts (the OPEN one and the cancelled ticket
    // do not). Sales 190 + 18.90 + 20; prizes 9100 + 1112.88; listero 5 % per line (9.50 and
    // 1.95); seller (USER origin) 10 % of A1's 190.
    let v = ok(
        &s,
        banca,
        &format!("/api/v1/reports/tickets/profitability?{r}&groupBy=day&includeComparison=true"),
    )
    .await;
    let sum = &v["data"]["summary"];
    assert_money(
        sum,
        &[
            ("totalVentas", "228.90"),
            ("totalPremios", "10212.88"),
            ("totalComisiones", "11.45"),
            ("comisionVendedor", "19"),
            ("margenBruto", "-9983.98"),
            ("margenNeto", "-9995.43"),
        ],
    );
    assert_eq!(sum["ticketsCount"], 3);
    assert_eq!(sum["ticketsGanadores"], 2);
    assert_eq!(sum["tasaGanadores"], 66.67);
    // 10212.88 / 228.90 × 100 = 4461.72…
    assert_eq!(sum["porcentajeRetorno"], 4461.72);
    assert_eq!(v["data"]["trend"].as_array().unwrap().len(), 1, "{v}");
    assert_money(
        &v["data"]["trend"][0],
        &[("ventas", "228.90"), ("margenNeto", "-9995.43")],
    );
    let prev = &v["data"]["previousPeriod"];
    assert_money(&prev["summary"], &[("totalVentas", "0")]);
    assert_eq!(v["meta"]["cache"], "miss");
    let by_ventana = v["data"]["byVentana"].as_array().unwrap();
    assert_eq!(by_ventana.len(), 2);
    assert_money(
        &by_ventana[0],
        &[
            ("ventas", "190"),
            ("comisiones", "9.50"),
            ("margenNeto", "-8919.50"),
        ],
    );
    // The same query again comes from the cache.
    let again = ok(
        &s,
        banca,
        &format!("/api/v1/reports/tickets/profitability?{r}&groupBy=day&includeComparison=true"),
    )
    .await;
    assert_eq!(again["meta"]["cache"], "hit");
    assert_eq!(again["data"], v["data"]);

    // Lotería performance: neto net of the listero commission.
    let v = ok(
        &s,
        banca,
        &format!("/api/v1/reports/loterias/performance?{r}"),
    )
    .await;
    let l = &v["data"]["loterias"];
    assert_eq!(l.as_array().unwrap().len(), 1, "{v}");
    assert_eq!(l[0]["loteriaId"], s.loteria.to_string());
    assert_eq!(l[0]["loteriaName"], "TICA");
    assert_eq!(l[0]["ticketsCount"], 3);
    assert_eq!(l[0]["winningTicketsCount"], 2);
    assert_money(
        &l[0],
        &[
            ("ventasTotal", "228.90"),
            ("payoutTotal", "10212.88"),
            ("commissionListero", "11.45"),
            ("neto", "-9995.43"),
            ("avgTicketAmount", "76.30"),
        ],
    );
    assert_money(
        &v["data"]["summary"],
        &[("totalVentas", "228.90"), ("totalNeto", "-9995.43")],
    );
    // With the lotería filter: its sorteos.
    let v = ok(
        &s,
        banca,
        &format!(
            "/api/v1/reports/loterias/performance?{r}&loteriaId={}",
            s.loteria
        ),
    )
    .await;
    let sorteos = v["data"]["loterias"][0]["sorteos"].as_array().unwrap();
    assert_eq!(sorteos.len(), 1);
    assert_eq!(sorteos[0]["sorteoId"], s.sorteo.to_string());

    // Ventanas ranking by sales, by neto and by tickets.
    let [a1, a2] = [w.a.ventanas[0].to_string(), w.a.ventanas[1].to_string()];
    let v = ok(&s, banca, &format!("/api/v1/reports/ventanas/ranking?{r}")).await;
    let vs = v["data"]["ventanas"].as_array().unwrap();
    assert_eq!(vs.len(), 2);
    assert_eq!(vs[0]["ventanaId"], a1);
    assert_eq!(vs[0]["rank"], 1);
    assert_money(
        &vs[0],
        &[
            ("ventasTotal", "190"),
            ("payoutTotal", "9100"),
            ("commissionListero", "9.50"),
            ("neto", "-8919.50"),
        ],
    );
    assert_money(
        &vs[1],
        &[
            ("ventasTotal", "38.90"),
            ("payoutTotal", "1112.88"),
            ("commissionListero", "1.95"),
            ("neto", "-1075.93"),
        ],
    );
    assert_eq!(vs[1]["ticketsCount"], 2);
    assert_money(
        &v["data"]["summary"],
        &[("totalVentas", "228.90"), ("totalNeto", "-9995.43")],
    );
    for sort in ["neto", "tickets", "margin"] {
        let v = ok(
            &s,
            banca,
            &format!("/api/v1/reports/ventanas/ranking?{r}&sortBy={sort}"),
        )
        .await;
        assert_eq!(v["data"]["ventanas"][0]["ventanaId"], a2, "{sort}: {v}");
    }
    let v = ok(
        &s,
        banca,
        &format!("/api/v1/reports/ventanas/ranking?{r}&top=1"),
    )
    .await;
    assert_eq!(v["data"]["ventanas"].as_array().unwrap().len(), 1);

    // Vendedores ranking: margen = ventas − premios − own commission.
    let v = ok(
        &s,
        banca,
        &format!("/api/v1/reports/vendedores/ranking?{r}"),
    )
    .await;
    let vs = v["data"]["vendedores"].as_array().unwrap();
    assert_eq!(vs.len(), 2, "{v}");
    assert_eq!(vs[0]["vendedorId"], w.a.vendedores[0].user_id.to_string());
    assert_eq!(vs[0]["ventanaId"], a1);
    assert_money(
        &vs[0],
        &[
            ("ventasTotal", "190"),
            ("premiosTotal", "9100"),
            ("comisiones", "19"),
            ("margen", "-8929"),
        ],
    );
    assert_money(
        &vs[1],
        &[
            ("ventasTotal", "38.90"),
            ("comisiones", "0"),
            ("margen", "-1073.98"),
        ],
    );
    let v = ok(
        &s,
        banca,
        &format!("/api/v1/reports/vendedores/ranking?{r}&sortBy=margen"),
    )
    .await;
    assert_eq!(
        v["data"]["vendedores"][0]["vendedorId"],
        w.a.vendedores[1].user_id.to_string()
    );

    // Commissions chart of ventana A1.
    let v = ok(
        &s,
        banca,
        &format!("/api/v1/reports/vendedores/commissions-chart?{r}&ventanaId={a1}"),
    )
    .await;
    let vs = v["data"]["vendedores"].as_array().unwrap();
    assert_eq!(vs.len(), 1, "{v}");
    assert_money(
        &vs[0],
        &[
            ("ventasTotal", "190"),
            ("comisionVendedor", "19"),
            ("comisionListero", "9.50"),
            ("gananciaListero", "-9.50"),
        ],
    );

    // Banca B sees nothing of banca A, and may not name A's ventanas.
    let b = &w.b.banca_user;
    let v = ok(&s, b, &format!("/api/v1/reports/tickets/profitability?{r}")).await;
    assert_money(
        &v["data"]["summary"],
        &[("totalVentas", "0"), ("totalPremios", "0")],
    );
    let v = ok(&s, b, &format!("/api/v1/reports/ventanas/ranking?{r}")).await;
    assert_eq!(v["data"]["ventanas"], json!([]));
    let v = ok(&s, b, &format!("/api/v1/reports/loterias/performance?{r}")).await;
    assert_eq!(v["data"]["loterias"], json!([]));
    for p in isolation_paths(&w.a) {
        let (st, v) = get(&s, b, &p).await;
        assert!(
            st == StatusCode::FORBIDDEN || st == StatusCode::NOT_FOUND,
            "{p}: {st} {v}"
        );
    }
    // ADMIN without an active banca sees every banca (here only A has figures).
    let v = ok(
        &s,
        &w.admin,
        &format!("/api/v1/reports/tickets/profitability?{r}"),
    )
    .await;
    assert_money(&v["data"]["summary"], &[("totalVentas", "228.90")]);
}

#[tokio::test]
async fn live_reports_count_open_sorteos_cancellations_and_hours() {
    let Sold { s, r, open, .. } = sold().await;
    let w = &s.w;
    let banca = &w.a.banca_user;

    // Summary: sold = 190 + 18.90 + 20 (evaluated) + 500 + 235 (OPEN) = 963.90 in 5 tickets;
    // prizes 10212.88; the cancelled ticket 100 → rate 100 / 1063.90 = 9.40 %.
    let v = ok(&s, banca, &format!("/api/v1/reports/tickets/summary?{r}")).await;
    let d0 = &v["data"];
    assert_money(&d0["ventas"], &[("brutas", "963.90")]);
    assert_eq!(d0["ventas"]["tickets"], 5);
    assert_money(
        d0,
        &[("premiosGanados", "10212.88"), ("margenNeto", "-9248.98")],
    );
    assert_money(&d0["anulaciones"], &[("monto", "100")]);
    assert_eq!(d0["anulaciones"]["cantidad"], 1);
    assert_eq!(d0["anulaciones"]["tasa"], 9.4);
    assert_money(
        &d0["pagos"],
        &[("totalPagado", "0"), ("totalPendiente", "10212.88")],
    );
    // Numbers: evaluated sales (daily_number_sales) + the OPEN sorteo's live lines.
    // 07: 100 + 40 + 12.35 + 0.55 + 500; 42: 50 + 3 + 3 + 10 + 10 + 100 + 25; 13: 90; 99: 20.
    let nums = d0["numeros"]["masJugados"].as_array().unwrap();
    assert_eq!(d0["numeros"]["unicos"], 4);
    let got: Vec<(String, Decimal)> = nums
        .iter()
        .map(|n| {
            (
                n["number"].as_str().unwrap().to_string(),
                d(&n["totalAmount"]),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("07".to_string(), dec("652.90")),
            ("42".to_string(), dec("201")),
            ("13".to_string(), dec("90")),
            ("99".to_string(), dec("20")),
        ]
    );
    assert_eq!(d0["byLoteria"].as_array().unwrap().len(), 1);
    assert_eq!(d0["bySorteo"].as_array().unwrap().len(), 2);
    // Peak hour: every ticket was sold now (checked against the database's own clock).
    let hours: Vec<i32> = sqlx::query_scalar(
        "SELECT DISTINCT extract(hour FROM created_at AT TIME ZONE 'America/Costa_Rica')::int
         FROM tickets WHERE status <> 'CANCELLED'",
    )
    .fetch_all(&mut w.db.connect().await)
    .await
    .unwrap();
    if hours.len() == 1 {
        assert_eq!(d0["horaPico"]["hour"], hours[0]);
        assert_money(&d0["horaPico"], &[("ventas", "963.90")]);
        // Time analysis: the same hour, 24 slots, 7 weekdays.
        let v = ok(
            &s,
            banca,
            &format!("/api/v1/reports/tickets/time-analysis?{r}"),
        )
        .await;
        let t = &v["data"];
        assert_eq!(t["byHour"].as_array().unwrap().len(), 24);
        assert_eq!(t["byDayOfWeek"].as_array().unwrap().len(), 7);
        let slot = &t["byHour"][hours[0] as usize];
        assert_eq!(slot["count"], 5);
        assert_money(slot, &[("amount", "963.90")]);
        assert_eq!(t["summary"]["peakHour"], hours[0]);
        assert_eq!(t["summary"]["totalCount"], 5);
        assert_eq!(t["cancellations"]["totalCount"], 1);
        assert_money(&t["cancellations"], &[("totalAmount", "100")]);
        assert_eq!(v["meta"]["metric"], "ventas");
    }
    let dow: i32 = scalar(
        w,
        &format!(
            "SELECT extract(dow FROM business_date)::int FROM tickets WHERE sorteo_id = '{}' LIMIT 1",
            s.sorteo
        ),
    )
    .await;
    let v = ok(
        &s,
        banca,
        &format!("/api/v1/reports/tickets/time-analysis?{r}&metric=cancelaciones"),
    )
    .await;
    let day = &v["data"]["byDayOfWeek"][dow as usize];
    assert_eq!(day["count"], 1, "{v}");
    assert_money(day, &[("amount", "100")]);
    assert_eq!(v["data"]["summary"]["totalCount"], 1);
    assert!(v["data"].get("cancellations").is_none());

    // Cancelled list: one ticket of six.
    let v = ok(&s, banca, &format!("/api/v1/reports/tickets/cancelled?{r}")).await;
    let c = &v["data"];
    assert_eq!(c["summary"]["totalCancelled"], 1);
    assert_money(
        &c["summary"],
        &[
            ("totalCancelledAmount", "100"),
            ("averageCancelledAmount", "100"),
        ],
    );
    assert_eq!(c["summary"]["cancelledRate"], 16.67);
    assert_eq!(c["tickets"].as_array().unwrap().len(), 1);
    assert_eq!(
        c["tickets"][0]["vendedorId"],
        w.a.vendedores[0].user_id.to_string()
    );
    assert!(c["tickets"][0]["cancelledAt"].is_string());
    assert_eq!(v["meta"]["total"], 1);
    assert_eq!(v["meta"]["page"], 1);
    assert_eq!(c["byVentana"].as_array().unwrap().len(), 1);
    // Banca B: none of A's cancellations.
    let v = ok(
        &s,
        &w.b.banca_user,
        &format!("/api/v1/reports/tickets/cancelled?{r}"),
    )
    .await;
    assert_eq!(v["data"]["summary"]["totalCancelled"], 0);
    assert_eq!(v["data"]["tickets"], json!([]));

    // Exposure of the OPEN sorteo: 735 sold. NUMERO lines × 90: 07 45000, 42 9000, 13 8100,
    // 99 1800. Shares 68.03 % (critical), 17.01 % (critical), 12.24 % (high), 2.72 % (low).
    let v = ok(
        &s,
        banca,
        &format!("/api/v1/reports/tickets/exposure?sorteoId={open}"),
    )
    .await;
    let e = &v["data"];
    assert_eq!(e["sorteo"]["id"], open.to_string());
    assert_eq!(e["sorteo"]["status"], "OPEN");
    assert_money(
        &e["summary"],
        &[
            ("totalVentas", "735"),
            ("totalExposure", "63900"),
            ("maxPotentialPayout", "45000"),
            ("averageExposurePerNumber", "15975"),
        ],
    );
    assert_eq!(e["summary"]["highRiskNumbers"], 3);
    let rows: Vec<(String, Decimal, Decimal, f64, String)> = e["numbers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["number"].as_str().unwrap().to_string(),
                d(&n["totalAmount"]),
                d(&n["exposure"]),
                n["percentOfTotal"].as_f64().unwrap(),
                n["riskLevel"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            (
                "07".into(),
                dec("500"),
                dec("45000"),
                68.03,
                "critical".into()
            ),
            (
                "42".into(),
                dec("125"),
                dec("9000"),
                17.01,
                "critical".into()
            ),
            ("13".into(), dec("90"), dec("8100"), 12.24, "high".into()),
            ("99".into(), dec("20"), dec("1800"), 2.72, "low".into()),
        ]
    );
    assert_eq!(e["alerts"].as_array().unwrap().len(), 3);
    let bv = e["byVentana"].as_array().unwrap();
    assert_eq!(bv.len(), 2);
    assert_eq!(bv[0]["ventanaId"], w.a.ventanas[0].to_string());
    assert_eq!(bv[0]["topNumber"], "07");
    assert_eq!(bv[1]["topNumber"], "42");
    assert_money(&bv[1], &[("ventas", "235"), ("exposure", "18900")]);
    // top and minExposure.
    let v = ok(
        &s,
        banca,
        &format!("/api/v1/reports/tickets/exposure?sorteoId={open}&top=2&minExposure=8500"),
    )
    .await;
    let n: Vec<&str> = v["data"]["numbers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["number"].as_str().unwrap())
        .collect();
    assert_eq!(n, vec!["07", "42"]);
    // Banca B cannot look at A's sorteo.
    expect_error(
        &s,
        &w.b.banca_user,
        &format!("/api/v1/reports/tickets/exposure?sorteoId={open}"),
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    )
    .await;

    // Numbers analysis: a VENTANA sees only its own ventana's numbers.
    let v = ok(
        &s,
        &w.a.ventana_users[1],
        &format!("/api/v1/reports/tickets/numbers-analysis?{r}&includeWinners=true"),
    )
    .await;
    let nums = v["data"]["currentPeriod"]["numbers"].as_array().unwrap();
    let got: Vec<(String, Decimal)> = nums
        .iter()
        .map(|n| {
            (
                n["number"].as_str().unwrap().to_string(),
                d(&n["totalAmount"]),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("42".to_string(), dec("151")),
            ("13".to_string(), dec("90")),
            ("99".to_string(), dec("20")),
            ("07".to_string(), dec("12.90")),
        ]
    );
    assert_eq!(nums[3]["timesWon"], 1);
    assert_eq!(nums[0]["timesWon"], 0);
    assert!(nums[0].get("exposure").is_none(), "{}", nums[0]);
    // includeExposure: each number's potential payout in the period's sorteos without a
    // result (here the open sorteo: the exposure report's figures).
    let v = ok(
        &s,
        banca,
        &format!("/api/v1/reports/tickets/numbers-analysis?{r}&includeExposure=true"),
    )
    .await;
    assert_eq!(v["meta"]["exposureEnabled"], true);
    let exposure: std::collections::HashMap<String, Decimal> = v["data"]["currentPeriod"]
        ["numbers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| (n["number"].as_str().unwrap().to_string(), d(&n["exposure"])))
        .collect();
    for (n, want) in [
        ("07", "45000"),
        ("42", "9000"),
        ("13", "8100"),
        ("99", "1800"),
    ] {
        assert_eq!(exposure[n], dec(want), "exposure of {n}");
    }
    expect_error(
        &s,
        &w.a.ventana_users[1],
        &format!(
            "/api/v1/reports/tickets/numbers-analysis?{r}&ventanaId={}",
            w.a.ventanas[0]
        ),
        StatusCode::FORBIDDEN,
        "RBAC_001",
    )
    .await;
    // Drill-down of 42 (NUMERO only): 50 + 3 + 10 evaluated, 100 open.
    let v = ok(
        &s,
        banca,
        &format!(
            "/api/v1/reports/tickets/numbers-analysis/detail?{r}&number=42&loteriaId={}&betType=NUMERO",
            s.loteria
        ),
    )
    .await;
    assert_money(&v["data"]["summary"], &[("totalAmount", "163")]);
    assert_eq!(v["data"]["bySorteo"].as_array().unwrap().len(), 2);
    expect_error(
        &s,
        &w.b.banca_user,
        &format!(
            "/api/v1/reports/tickets/numbers-analysis/detail?{r}&number=42&loteriaId={}",
            s.loteria
        ),
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    )
    .await;
}

#[tokio::test]
async fn winners_lists_and_payment_status_are_scoped() {
    let Sold { s, r, t1, t2, .. } = sold().await;
    let w = &s.w;
    let banca = &w.a.banca_user;

    // A partial payment of 100 on t1 (prize 9100).
    let (st, v) = call(
        &w.app,
        Method::POST,
        &format!("/api/v1/tickets/{t1}/pay"),
        Some(&w.a.vendedores[0].token),
        Some(&json!({"amountPaid": 100, "method": "cash"})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");

    let path = format!("/api/v1/reports/tickets/winners-payments?{r}");
    let v = ok(&s, banca, &path).await;
    let sum = &v["data"]["summary"];
    assert_eq!(sum["totalWinningTickets"], 2);
    assert_money(
        sum,
        &[
            ("totalPayout", "10212.88"),
            ("totalPaid", "100"),
            ("totalPending", "10112.88"),
            ("maxPayout", "9100"),
        ],
    );
    assert_eq!(sum["partialPaymentsCount"], 1);
    assert_eq!(sum["unpaidCount"], 1);
    assert_eq!(sum["paidCount"], 0);
    assert_eq!(sum["maxPayoutTicketId"], t1.to_string());
    // Winning lines per type: NUMERO 9000 + 1111.50, REVENTADO 100 + 1.38.
    assert_eq!(sum["byBetType"]["NUMERO"]["count"], 2);
    assert_money(&sum["byBetType"]["NUMERO"], &[("amount", "10111.50")]);
    assert_money(&sum["byBetType"]["REVENTADO"], &[("amount", "101.38")]);
    assert_eq!(v["meta"]["total"], 2);
    assert_eq!(v["meta"]["pageSize"], 20);

    let one = |v: &Value| -> (String, String) {
        let t = v["data"]["tickets"].as_array().unwrap();
        assert_eq!(t.len(), 1, "{v}");
        (
            t[0]["id"].as_str().unwrap().to_string(),
            t[0]["paymentStatus"].as_str().unwrap().to_string(),
        )
    };
    let v = ok(&s, banca, &format!("{path}&paymentStatus=partial")).await;
    assert_eq!(one(&v), (t1.to_string(), "partial".to_string()));
    assert_money(
        &v["data"]["tickets"][0],
        &[("totalPaid", "100"), ("remainingAmount", "9000")],
    );
    assert_eq!(v["data"]["tickets"][0]["paymentCount"], 1);
    let v = ok(&s, banca, &format!("{path}&paymentStatus=unpaid")).await;
    assert_eq!(one(&v), (t2.to_string(), "unpaid".to_string()));
    let v = ok(&s, banca, &format!("{path}&paymentStatus=paid")).await;
    assert_eq!(v["data"]["tickets"], json!([]));
    let v = ok(&s, banca, &format!("{path}&minPayout=2000")).await;
    assert_eq!(one(&v).0, t1.to_string());
    let v = ok(
        &s,
        banca,
        &format!("{path}&maxPayout=2000&betType=REVENTADO"),
    )
    .await;
    assert_eq!(one(&v).0, t2.to_string());
    // Evaluated just now: nothing is expired yet.
    let v = ok(&s, banca, &format!("{path}&expiredOnly=true")).await;
    assert_eq!(v["data"]["summary"]["totalWinningTickets"], 0);
    // Evaluated 25 h ago (and edited since): the prizes still owed are expired — the
    // evaluation time counts, not the sorteo's last update.
    fixtures::exec(
        w,
        &format!(
            "UPDATE sorteos SET evaluated_at = now() - interval '25 hours', updated_at = now()
             WHERE id = '{}'",
            s.sorteo
        ),
    )
    .await;
    let v = ok(&s, banca, &format!("{path}&expiredOnly=true")).await;
    let expired = v["data"]["tickets"].as_array().unwrap();
    assert!(!expired.is_empty(), "{v}");
    for t in expired {
        assert!(d(&t["remainingAmount"]) > Decimal::ZERO, "{t}");
    }
    fixtures::exec(
        w,
        &format!(
            "UPDATE sorteos SET evaluated_at = now() WHERE id = '{}'",
            s.sorteo
        ),
    )
    .await;
    let v = ok(&s, banca, &format!("{path}&page=2&pageSize=1")).await;
    assert_eq!(v["data"]["tickets"].as_array().unwrap().len(), 1);
    assert_eq!(v["meta"]["hasPrevPage"], true);
    // The summary's payments follow the payment records.
    let v = ok(&s, banca, &format!("/api/v1/reports/tickets/summary?{r}")).await;
    assert_money(
        &v["data"]["pagos"],
        &[("totalPagado", "100"), ("totalPendiente", "10112.88")],
    );
    // Banca B: none of A's winners.
    let v = ok(&s, &w.b.banca_user, &path).await;
    assert_eq!(v["data"]["summary"]["totalWinningTickets"], 0);

    // Winners list of the evaluated sorteo.
    let list = format!("/api/v1/reports/winners-list/{}", s.sorteo);
    let v = ok(&s, banca, &list).await;
    let d0 = &v["data"];
    assert_eq!(d0["sorteo"]["winningNumber"], "07");
    assert_eq!(d0["sorteo"]["isReventado"], true);
    assert_eq!(d0["loteria"]["name"], "TICA");
    assert_eq!(d0["vendedor"]["name"], "Todos");
    assert_eq!(d0["totals"]["count"], 2);
    assert_money(
        &d0["totals"],
        &[
            ("totalAmount", "152.90"),
            ("totalPayout", "10212.88"),
            ("totalPayoutByNumber", "10111.50"),
            ("totalPayoutByReventado", "101.38"),
            ("totalPaid", "100"),
        ],
    );
    assert_eq!(d0["tickets"][0]["ticketId"], t1.to_string());
    assert_eq!(
        d0["tickets"][0]["winningJugadas"].as_array().unwrap().len(),
        2
    );
    assert_money(
        &d0["tickets"][0],
        &[("totalAmount", "140"), ("totalPayout", "9100")],
    );

    // A VENDEDOR sees its own winners only, and may not ask for another seller's.
    let v = ok(&s, &w.a.vendedores[0], &list).await;
    assert_eq!(v["data"]["totals"]["count"], 1);
    assert_eq!(v["data"]["tickets"][0]["ticketId"], t1.to_string());
    assert_eq!(v["data"]["vendedor"]["name"], w.a.vendedores[0].username);
    expect_error(
        &s,
        &w.a.vendedores[0],
        &format!("{list}?vendedorId={}", w.a.vendedores[1].user_id),
        StatusCode::FORBIDDEN,
        "RBAC_003",
    )
    .await;
    // A VENTANA its ventana's.
    let v = ok(&s, &w.a.ventana_users[1], &list).await;
    assert_eq!(v["data"]["totals"]["count"], 1);
    assert_eq!(v["data"]["tickets"][0]["ticketId"], t2.to_string());
    // BANCA with a seller filter.
    let v = ok(
        &s,
        banca,
        &format!("{list}?vendedorId={}", w.a.vendedores[1].user_id),
    )
    .await;
    assert_money(&v["data"]["totals"], &[("totalPayout", "1112.88")]);
    // Another banca's sorteo does not exist for B's users.
    for who in w.b.logins() {
        expect_error(&s, who, &list, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    }
    expect_error(
        &s,
        banca,
        &format!("/api/v1/reports/winners-list/{}", Uuid::new_v4()),
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    )
    .await;
}

#[tokio::test]
async fn roles_strict_queries_and_bad_input() {
    let s = shop().await;
    let w = &s.w;
    let admin_banca_only = [
        "/api/v1/reports/tickets/summary",
        "/api/v1/reports/tickets/winners-payments",
        "/api/v1/reports/tickets/cancelled",
        "/api/v1/reports/tickets/profitability",
        "/api/v1/reports/tickets/time-analysis",
        "/api/v1/reports/loterias/performance",
        "/api/v1/reports/ventanas/ranking",
        "/api/v1/reports/vendedores/ranking",
    ];
    for p in admin_banca_only {
        for who in [&w.a.vendedores[0], &w.a.ventana_users[0]] {
            expect_error(&s, who, p, StatusCode::FORBIDDEN, "FORBIDDEN").await;
        }
        // Empty but fine for BANCA and ADMIN (today has no sales).
        ok(&s, &w.a.banca_user, p).await;
        ok(&s, &w.admin, p).await;
    }
    expect_error(
        &s,
        &w.a.vendedores[0],
        "/api/v1/reports/tickets/numbers-analysis",
        StatusCode::FORBIDDEN,
        "FORBIDDEN",
    )
    .await;
    ok(
        &s,
        &w.a.ventana_users[0],
        "/api/v1/reports/tickets/numbers-analysis",
    )
    .await;
    expect_error(
        &s,
        &w.a.ventana_users[0],
        &format!("/api/v1/reports/tickets/exposure?sorteoId={}", s.sorteo),
        StatusCode::FORBIDDEN,
        "FORBIDDEN",
    )
    .await;
    expect_error(
        &s,
        &w.a.ventana_users[0],
        &format!(
            "/api/v1/reports/vendedores/commissions-chart?ventanaId={}",
            w.a.ventanas[0]
        ),
        StatusCode::FORBIDDEN,
        "FORBIDDEN",
    )
    .await;
    // Unauthenticated.
    let (st, _) = call(
        &w.app,
        Method::GET,
        "/api/v1/reports/tickets/summary",
        None,
        None,
    )
    .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);

    let banca = &w.a.banca_user;
    let bad = [
        "/api/v1/reports/tickets/summary?foo=1".to_string(),
        "/api/v1/reports/tickets/summary?_=123".to_string(),
        "/api/v1/reports/tickets/summary?ventanaId=not-a-uuid".to_string(),
        "/api/v1/reports/tickets/summary?date=someday".to_string(),
        "/api/v1/reports/tickets/summary?date=range&fromDate=2026-02-01&toDate=2026-01-01"
            .to_string(),
        "/api/v1/reports/tickets/winners-payments?paymentStatus=maybe".to_string(),
        "/api/v1/reports/tickets/winners-payments?minPayout=abc".to_string(),
        "/api/v1/reports/tickets/winners-payments?minPayout=10&maxPayout=5".to_string(),
        "/api/v1/reports/tickets/winners-payments?pageSize=1000".to_string(),
        "/api/v1/reports/tickets/winners-payments?expiredOnly=maybe".to_string(),
        "/api/v1/reports/tickets/winners-payments?betType=DIRECTO".to_string(),
        "/api/v1/reports/tickets/numbers-analysis?top=0".to_string(),
        "/api/v1/reports/tickets/numbers-analysis?top=101".to_string(),
        "/api/v1/reports/tickets/numbers-analysis/detail?number=42".to_string(),
        format!(
            "/api/v1/reports/tickets/numbers-analysis/detail?number=5&loteriaId={}",
            s.loteria
        ),
        "/api/v1/reports/tickets/exposure".to_string(),
        "/api/v1/reports/tickets/exposure?sorteoId=123".to_string(),
        "/api/v1/reports/tickets/profitability?groupBy=year".to_string(),
        "/api/v1/reports/tickets/time-analysis?metric=premios".to_string(),
        "/api/v1/reports/ventanas/ranking?top=51".to_string(),
        "/api/v1/reports/ventanas/ranking?sortBy=nombre".to_string(),
        "/api/v1/reports/ventanas/ranking?vendedorId=x".to_string(),
        "/api/v1/reports/vendedores/ranking?sortBy=neto".to_string(),
        "/api/v1/reports/vendedores/commissions-chart".to_string(),
        format!(
            "/api/v1/reports/vendedores/commissions-chart?ventanaId={}&ticketStatus=WON",
            w.a.ventanas[0]
        ),
        format!("/api/v1/reports/winners-list/{}?foo=1", s.sorteo),
        format!("/api/v1/reports/winners-list/{}?vendedorId=zz", s.sorteo),
    ];
    for p in &bad {
        let (st, v) = get(&s, banca, p).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{p}: {v}");
        assert!(v["code"].is_string(), "{p}: {v}");
    }
    let (st, v) = get(&s, banca, "/api/v1/reports/winners-list/not-a-uuid").await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["code"], "VALIDATION_ERROR");
    // Longer than a year.
    expect_error(
        &s,
        banca,
        "/api/v1/reports/tickets/profitability?date=range&fromDate=2024-01-01&toDate=2025-06-01",
        StatusCode::BAD_REQUEST,
        "RANGE_TOO_LONG",
    )
    .await;
    // A BANCA user may not name another banca's ventana or vendedor.
    expect_error(
        &s,
        banca,
        &format!(
            "/api/v1/reports/ventanas/ranking?ventanaId={}",
            w.b.ventanas[0]
        ),
        StatusCode::FORBIDDEN,
        "RBAC_007",
    )
    .await;
    expect_error(
        &s,
        banca,
        &format!(
            "/api/v1/reports/vendedores/ranking?vendedorId={}",
            w.b.vendedores[0].user_id
        ),
        StatusCode::FORBIDDEN,
        "RBAC_003",
    )
    .await;
}
