//! `/api/v1/commissions` (domain-money §6.3, §7) against a real PostgreSQL: exact figures per
//! dimension from the per-jugada snapshots, the lotería × multiplier views (NUMERO and
//! REVENTADO), only evaluated sorteos, role scoping, strict queries and the CSV export.

use reqwest::{Method, StatusCode};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::evaluation::{dec, evaluate, numero, roja, standard_sales};
use crate::fixtures::{self, call, scalar, shop, Login, Shop};

/// Commission policies: vendedor A1 earns 10 % (its own policy, origin USER), both ventanas
/// of banca A 5 % (A2 has no own policy: its seller commission has origin VENTANA).
async fn policies(s: &Shop) {
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
}

/// `(business day, sorteo time HH:MM)` of a sorteo in the business zone.
async fn day_and_time(s: &Shop, sorteo: Uuid) -> (String, String) {
    let v: String = scalar(
        &s.w,
        &format!(
            "SELECT to_char(scheduled_at AT TIME ZONE 'America/Costa_Rica', 'YYYY-MM-DD HH24:MI')
             FROM sorteos WHERE id = '{sorteo}'"
        ),
    )
    .await;
    let (d, t) = v.split_once(' ').unwrap();
    (d.to_string(), t.to_string())
}

/// GET `path` as `who` (optionally with an active banca); status and raw body bytes.
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
    (status, headers, res.bytes().await.unwrap().to_vec())
}

async fn get(s: &Shop, who: &Login, path: &str, banca: Option<Uuid>) -> (StatusCode, Value) {
    let (st, _, body) = get_raw(s, who, path, banca).await;
    (st, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

/// `data` of a successful GET.
async fn data(s: &Shop, who: &Login, path: &str) -> Value {
    let (st, v) = get(s, who, path, None).await;
    assert_eq!(st, StatusCode::OK, "{path}: {v}");
    assert_eq!(v["success"], true);
    v["data"].clone()
}

/// A JSON number as an exact decimal.
fn d(v: &Value) -> Decimal {
    assert!(v.is_number(), "not a number: {v}");
    v.to_string().parse().unwrap()
}

/// Asserts the money keys of `row` (`key → "amount"`).
fn assert_money(row: &Value, expected: &[(&str, &str)]) {
    for (k, want) in expected {
        assert_eq!(d(&row[*k]), dec(want), "{k} of {row}");
    }
}

/// Sells the standard set into the shop's sorteo, plus a ticket in a second sorteo of the
/// same day that stays OPEN, then evaluates the first with 07 and the REVENTADO "Roja".
/// Returns the second sorteo.
async fn sold_and_evaluated(s: &Shop) -> Uuid {
    policies(s).await;
    standard_sales(s).await;
    let roja = roja(s).await;
    let at: chrono::DateTime<chrono::Utc> = scalar(
        &s.w,
        &format!(
            "SELECT scheduled_at + interval '1 minute' FROM sorteos WHERE id = '{}'",
            s.sorteo
        ),
    )
    .await;
    let open = fixtures::sorteo(&s.w.app, s.loteria, at, "OPEN").await;
    let body = json!({"loteriaId": s.loteria, "sorteoId": open, "jugadas": [numero("07", 500.0)]});
    let (st, v) = call(
        &s.w.app,
        Method::POST,
        "/api/v1/tickets",
        Some(&s.w.a.vendedores[0].token),
        Some(&body),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let (st, v) = evaluate(
        s,
        &s.w.a.banca_user,
        json!({"winningNumber": "07", "extraMultiplierId": roja}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    open
}

fn range(day: &str) -> String {
    format!("date=range&fromDate={day}&toDate={day}")
}

#[tokio::test]
async fn daily_rows_have_exact_figures_per_dimension_and_only_evaluated_sorteos() {
    let s = shop().await;
    let w = &s.w;
    let (day, _) = day_and_time(&s, s.sorteo).await;
    let r = range(&day);

    // Sold but not evaluated: nothing counts yet.
    policies(&s).await;
    standard_sales(&s).await;
    let before = data(
        &s,
        &w.admin,
        &format!("/api/v1/commissions?scope=all&dimension=ventana&{r}"),
    )
    .await;
    assert_eq!(before, json!([]));
    drop(s);

    let s = shop().await;
    let w = &s.w;
    let (day, _) = day_and_time(&s, s.sorteo).await;
    let r = range(&day);
    sold_and_evaluated(&s).await;
    let [v0, v1] = [&w.a.vendedores[0], &w.a.vendedores[1]];

    // Dimension ventana, all ventanas: one row for the day. A1 190 (payout 9100, listero 9.50,
    // own 10 % = 19), A2 38.90 (payout 1112.88, listero 1.95, no USER-origin commission). The
    // ticket of the OPEN sorteo (500) and the cancelled one are not there.
    let rows = data(
        &s,
        &w.admin,
        &format!("/api/v1/commissions?scope=all&dimension=ventana&{r}"),
    )
    .await;
    assert_eq!(rows.as_array().unwrap().len(), 1, "{rows}");
    let row = &rows[0];
    assert_eq!(row["date"], day);
    assert_eq!(row["totalTickets"], 3);
    assert!(row.get("ventanaId").is_none(), "{row}");
    assert_money(
        row,
        &[
            ("totalSales", "228.90"),
            ("totalPayouts", "10212.88"),
            ("commissionListero", "11.45"),
            ("commissionVendedor", "19"),
            ("totalCommission", "11.45"),
            ("net", "-9995.43"),
        ],
    );

    // One ventana: its row, named.
    let rows = data(
        &s,
        &w.admin,
        &format!(
            "/api/v1/commissions?scope=all&dimension=ventana&ventanaId={}&{r}",
            w.a.ventanas[0]
        ),
    )
    .await;
    assert_eq!(rows.as_array().unwrap().len(), 1, "{rows}");
    assert_eq!(rows[0]["ventanaId"], w.a.ventanas[0].to_string());
    assert!(rows[0]["ventanaName"].is_string());
    assert_eq!(rows[0]["totalTickets"], 1);
    assert_money(
        &rows[0],
        &[
            ("totalSales", "190"),
            ("totalPayouts", "9100"),
            ("commissionListero", "9.50"),
            ("commissionVendedor", "19"),
            ("totalCommission", "9.50"),
            ("net", "-8919.50"),
        ],
    );

    // Dimension vendedor: totalCommission = listero + vendedor, net after the listero's.
    let rows = data(
        &s,
        &w.admin,
        &format!(
            "/api/v1/commissions?scope=all&dimension=vendedor&vendedorId={}&{r}",
            v0.user_id
        ),
    )
    .await;
    assert_eq!(rows.as_array().unwrap().len(), 1, "{rows}");
    assert_eq!(rows[0]["vendedorId"], v0.user_id.to_string());
    assert_eq!(rows[0]["ventanaId"], w.a.ventanas[0].to_string());
    assert_money(
        &rows[0],
        &[
            ("totalSales", "190"),
            ("commissionListero", "9.50"),
            ("commissionVendedor", "19"),
            ("totalCommission", "28.50"),
            ("net", "-8919.50"),
        ],
    );
    let rows = data(
        &s,
        &w.admin,
        &format!(
            "/api/v1/commissions?scope=all&dimension=vendedor&vendedorId={}&{r}",
            v1.user_id
        ),
    )
    .await;
    assert_eq!(rows[0]["totalTickets"], 2);
    assert_money(
        &rows[0],
        &[
            ("totalSales", "38.90"),
            ("totalPayouts", "1112.88"),
            ("commissionListero", "1.95"),
            ("commissionVendedor", "0"),
            ("totalCommission", "1.95"),
            ("net", "-1075.93"),
        ],
    );
    let rows = data(
        &s,
        &w.admin,
        &format!("/api/v1/commissions?scope=all&dimension=vendedor&{r}"),
    )
    .await;
    assert_money(
        &rows[0],
        &[("totalSales", "228.90"), ("totalCommission", "30.45")],
    );

    // A lotería filter and another day.
    let rows = data(
        &s,
        &w.admin,
        &format!(
            "/api/v1/commissions?scope=all&dimension=ventana&loteriaId={}&{r}",
            Uuid::new_v4()
        ),
    )
    .await;
    assert_eq!(rows, json!([]));
    let rows = data(
        &s,
        &w.admin,
        "/api/v1/commissions?scope=all&dimension=ventana&date=yesterday",
    )
    .await;
    assert_eq!(rows, json!([]));
}

#[tokio::test]
async fn loteria_views_split_numero_and_reventado() {
    let s = shop().await;
    let w = &s.w;
    let (day, _) = day_and_time(&s, s.sorteo).await;
    sold_and_evaluated(&s).await;
    let base = s.base.to_string();

    // Listero amounts for dimension ventana.
    let rows = data(
        &s,
        &w.admin,
        &format!("/api/v1/commissions/detail?date={day}&scope=all&dimension=ventana"),
    )
    .await;
    assert_eq!(rows.as_array().unwrap().len(), 1, "{rows}");
    let l = &rows[0];
    assert_eq!(l["loteriaId"], s.loteria.to_string());
    assert_eq!(l["loteriaName"], "TICA");
    assert_eq!(l["totalTickets"], 3);
    assert!(l.get("totalPayouts").is_none(), "{l}");
    assert_money(l, &[("totalSales", "228.90"), ("totalCommission", "11.45")]);
    let m = l["multipliers"].as_array().unwrap();
    assert_eq!(m.len(), 2, "{l}");
    assert_eq!(m[0]["multiplierId"], base);
    assert_eq!(m[0]["multiplierName"], "Base 90x");
    assert_eq!(m[0]["totalTickets"], 3);
    assert_money(
        &m[0],
        &[
            ("totalSales", "175.35"),
            ("totalCommission", "8.77"),
            ("multiplierPercentage", "5.00"),
        ],
    );
    assert_eq!(m[1]["multiplierId"], "unknown");
    assert_eq!(m[1]["multiplierName"], "REVENTADO");
    assert_eq!(m[1]["totalTickets"], 3);
    assert_money(
        &m[1],
        &[
            ("totalSales", "53.55"),
            ("totalCommission", "2.68"),
            ("multiplierPercentage", "5.00"),
        ],
    );

    // The seller's USER-origin amounts for dimension vendedor (only A1 has its own policy).
    let rows = data(
        &s,
        &w.admin,
        &format!("/api/v1/commissions/detail?date={day}&scope=all&dimension=vendedor"),
    )
    .await;
    let m = rows[0]["multipliers"].as_array().unwrap();
    assert_money(&rows[0], &[("totalCommission", "19")]);
    assert_money(
        &m[0],
        &[("totalCommission", "15"), ("multiplierPercentage", "8.55")],
    );
    assert_money(
        &m[1],
        &[("totalCommission", "4"), ("multiplierPercentage", "7.47")],
    );

    // The breakdown adds payouts (Σ winning jugadas) and net.
    let rows = data(
        &s,
        &w.admin,
        &format!("/api/v1/commissions/{day}/breakdown?scope=all&dimension=ventana"),
    )
    .await;
    let l = &rows[0];
    assert_money(
        l,
        &[
            ("totalSales", "228.90"),
            ("totalPayouts", "10212.88"),
            ("totalCommission", "11.45"),
            ("net", "-9995.43"),
        ],
    );
    let m = l["multipliers"].as_array().unwrap();
    assert_money(&m[0], &[("totalPayouts", "10111.50"), ("net", "-9944.92")]);
    assert_money(&m[1], &[("totalPayouts", "101.38"), ("net", "-50.51")]);

    // Tickets of one lotería × multiplier, newest first, paged.
    let path = |mult: &str, extra: &str| {
        format!(
            "/api/v1/commissions/tickets?date={day}&loteriaId={}&multiplierId={mult}\
             &scope=all&dimension=ventana{extra}",
            s.loteria
        )
    };
    let (st, v) = get(&s, &w.admin, &path(&base, "&pageSize=2"), None).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["meta"]["total"], 3, "{v}");
    assert_eq!(v["meta"]["totalPages"], 2);
    assert_eq!(v["meta"]["readSource"], "primary", "decision 12");
    let t = v["data"].as_array().unwrap();
    assert_eq!(t.len(), 2);
    // Newest: A2's ticket of 10 + 10, then its 12.35 + 3 one.
    assert_money(
        &t[0],
        &[
            ("amount", "10"),
            ("commissionAmount", "0.50"),
            ("commissionPercentage", "5"),
            ("totalAmount", "20"),
        ],
    );
    assert_money(&t[1], &[("amount", "15.35"), ("commissionAmount", "0.77")]);
    let (_, v) = get(&s, &w.admin, &path(&base, "&pageSize=2&page=2"), None).await;
    let t = v["data"].as_array().unwrap();
    assert_eq!(t.len(), 1);
    assert_money(
        &t[0],
        &[
            ("amount", "150"),
            ("commissionAmount", "7.50"),
            ("listeroCommissionAmount", "7.50"),
            ("vendedorCommissionAmount", "15"),
        ],
    );
    assert_eq!(t[0]["vendedorId"], w.a.vendedores[0].user_id.to_string());
    // Beyond the last page: empty, the total still known.
    let (_, v) = get(&s, &w.admin, &path(&base, "&pageSize=2&page=5"), None).await;
    assert_eq!(v["data"], json!([]));
    assert_eq!(v["meta"]["total"], 3);
    // REVENTADO lines.
    let (_, v) = get(&s, &w.admin, &path("unknown", ""), None).await;
    let amounts: Vec<Decimal> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| d(&t["amount"]))
        .collect();
    assert_eq!(amounts, vec![dec("10"), dec("3.55"), dec("40")]);
}

#[tokio::test]
async fn roles_see_only_their_own_and_other_bancas_see_nothing() {
    let s = shop().await;
    let w = &s.w;
    let (day, _) = day_and_time(&s, s.sorteo).await;
    let r = range(&day);
    sold_and_evaluated(&s).await;
    let [v0, v1] = [&w.a.vendedores[0], &w.a.vendedores[1]];

    // A VENDEDOR asking for everything (and for another vendedor) gets only its own jugadas.
    for q in [
        format!("scope=all&dimension=ventana&{r}"),
        format!("scope=all&dimension=vendedor&vendedorId={}&{r}", v1.user_id),
    ] {
        let rows = data(&s, v0, &format!("/api/v1/commissions?{q}")).await;
        assert_eq!(rows.as_array().unwrap().len(), 1, "{rows}");
        assert_eq!(rows[0]["vendedorId"], v0.user_id.to_string());
        assert_money(
            &rows[0],
            &[("totalSales", "190"), ("totalCommission", "28.50")],
        );
    }
    let rows = data(
        &s,
        v1,
        &format!(
            "/api/v1/commissions?scope=all&dimension=vendedor&vendedorId={}&{r}",
            v0.user_id
        ),
    )
    .await;
    assert_eq!(rows[0]["vendedorId"], v1.user_id.to_string());
    assert_money(&rows[0], &[("totalSales", "38.90")]);
    let rows = data(
        &s,
        v0,
        &format!("/api/v1/commissions/detail?date={day}&scope=all&dimension=ventana"),
    )
    .await;
    // Seller amounts (dimension forced to vendedor), only A1's lines.
    assert_money(
        &rows[0],
        &[("totalSales", "190"), ("totalCommission", "19")],
    );

    // A VENTANA gets its own ventana, whatever ventana it names.
    let rows = data(
        &s,
        &w.a.ventana_users[1],
        &format!(
            "/api/v1/commissions?scope=all&dimension=ventana&ventanaId={}&{r}",
            w.a.ventanas[0]
        ),
    )
    .await;
    assert_eq!(rows[0]["ventanaId"], w.a.ventanas[1].to_string());
    assert_money(
        &rows[0],
        &[("totalSales", "38.90"), ("commissionListero", "1.95")],
    );
    // …and of its vendedores only.
    let rows = data(
        &s,
        &w.a.ventana_users[1],
        &format!(
            "/api/v1/commissions?scope=mine&dimension=vendedor&vendedorId={}&{r}",
            v0.user_id
        ),
    )
    .await;
    assert_eq!(rows, json!([]));

    // BANCA A sees everything of A.
    let rows = data(
        &s,
        &w.a.banca_user,
        &format!("/api/v1/commissions?scope=all&dimension=ventana&{r}"),
    )
    .await;
    assert_money(&rows[0], &[("totalSales", "228.90")]);

    // Banca B's people see nothing of A, on every route, even naming A's objects.
    let paths = [
        format!("/api/v1/commissions?scope=all&dimension=ventana&{r}"),
        format!(
            "/api/v1/commissions?scope=all&dimension=ventana&ventanaId={}&{r}",
            w.a.ventanas[0]
        ),
        format!(
            "/api/v1/commissions?scope=all&dimension=vendedor&vendedorId={}&{r}",
            v0.user_id
        ),
        format!("/api/v1/commissions/{day}/breakdown?scope=all&dimension=ventana"),
        format!("/api/v1/commissions/detail?date={day}&scope=all&dimension=vendedor"),
        format!(
            "/api/v1/commissions/tickets?date={day}&loteriaId={}&multiplierId={}\
             &scope=all&dimension=ventana",
            s.loteria, s.base
        ),
    ];
    for who in w.b.logins() {
        for p in &paths {
            for banca in [None, Some(w.a.banca_id)] {
                let (st, v) = get(&s, who, p, banca).await;
                assert_eq!(st, StatusCode::OK, "{p}: {v}");
                assert_eq!(v["data"], json!([]), "{:?} {p}: {v}", who.role);
            }
        }
        let (st, _, body) = get_raw(
            &s,
            who,
            &format!("/api/v1/commissions/export?format=csv&scope=all&dimension=ventana&{r}"),
            Some(w.a.banca_id),
        )
        .await;
        assert_eq!(st, StatusCode::OK);
        assert!(String::from_utf8(body)
            .unwrap()
            .contains("Total Ventas,0.00"));
    }
    // ADMIN with banca B active: nothing; with A active: A's figures.
    let p = format!("/api/v1/commissions?scope=all&dimension=ventana&{r}");
    let (_, v) = get(&s, &w.admin, &p, Some(w.b.banca_id)).await;
    assert_eq!(v["data"], json!([]));
    let (_, v) = get(&s, &w.admin, &p, Some(w.a.banca_id)).await;
    assert_money(&v["data"][0], &[("totalSales", "228.90")]);
}

#[tokio::test]
async fn invalid_queries_are_400() {
    let s = shop().await;
    let w = &s.w;
    let day = "2026-01-15";
    let base = s.base;
    let cases = [
        ("/api/v1/commissions?dimension=ventana".to_string(), "VALIDATION_ERROR"),
        ("/api/v1/commissions?scope=all".to_string(), "VALIDATION_ERROR"),
        ("/api/v1/commissions?scope=todo&dimension=ventana".to_string(), "VALIDATION_ERROR"),
        ("/api/v1/commissions?scope=all&dimension=banca".to_string(), "VALIDATION_ERROR"),
        ("/api/v1/commissions?scope=all&dimension=ventana&foo=1".to_string(), "VALIDATION_ERROR"),
        ("/api/v1/commissions?scope=all&dimension=ventana&date=ayer".to_string(), "VALIDATION_ERROR"),
        ("/api/v1/commissions?scope=all&dimension=ventana&date=range&fromDate=2026-01-02".to_string(), "VALIDATION_ERROR"),
        ("/api/v1/commissions?scope=all&dimension=ventana&date=range&fromDate=2026-01-03&toDate=2026-01-02".to_string(), "VALIDATION_ERROR"),
        ("/api/v1/commissions?scope=all&dimension=ventana&ventanaId=abc".to_string(), "VALIDATION_ERROR"),
        ("/api/v1/commissions/detail?scope=all&dimension=ventana".to_string(), "VALIDATION_ERROR"),
        ("/api/v1/commissions/detail?date=15-01-2026&scope=all&dimension=ventana".to_string(), "VALIDATION_ERROR"),
        (format!("/api/v1/commissions/detail?date={day}&scope=all&dimension=ventana&loteriaId={base}"), "VALIDATION_ERROR"),
        ("/api/v1/commissions/2026-13-01/breakdown?scope=all&dimension=ventana".to_string(), "VALIDATION_ERROR"),
        (format!("/api/v1/commissions/{day}/breakdown?scope=all&dimension=ventana&date={day}"), "VALIDATION_ERROR"),
        (format!("/api/v1/commissions/tickets?date={day}&multiplierId={base}&scope=all&dimension=ventana"), "VALIDATION_ERROR"),
        (format!("/api/v1/commissions/tickets?date={day}&loteriaId={}&multiplierId=xyz&scope=all&dimension=ventana", s.loteria), "VALIDATION_ERROR"),
        (format!("/api/v1/commissions/tickets?date={day}&loteriaId={}&multiplierId={base}&scope=all&dimension=ventana&pageSize=101", s.loteria), "VALIDATION_ERROR"),
        (format!("/api/v1/commissions/tickets?date={day}&loteriaId={}&multiplierId={base}&scope=all&dimension=ventana&page=0", s.loteria), "VALIDATION_ERROR"),
        ("/api/v1/commissions/export?format=pdf&scope=all&dimension=ventana".to_string(), "EXPORT_FORMAT_UNSUPPORTED"),
        ("/api/v1/commissions/export?format=doc&scope=all&dimension=ventana".to_string(), "VALIDATION_ERROR"),
        ("/api/v1/commissions/export?scope=all&dimension=ventana".to_string(), "VALIDATION_ERROR"),
        ("/api/v1/commissions/export?format=csv&scope=all&dimension=ventana&includeBreakdown=quizas".to_string(), "VALIDATION_ERROR"),
    ];
    for who in [&w.admin, &w.a.vendedores[0]] {
        for (path, code) in &cases {
            let (st, v) = get(&s, who, path, None).await;
            assert_eq!(st, StatusCode::BAD_REQUEST, "{path}: {v}");
            assert_eq!(v["code"], *code, "{path}: {v}");
        }
    }
    // Without a token: 401.
    let res = w
        .app
        .client
        .get(w.app.url("/api/v1/commissions?scope=all&dimension=ventana"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn csv_export_is_exact_and_xlsx_is_a_workbook() {
    let s = shop().await;
    let w = &s.w;
    let (day, time) = day_and_time(&s, s.sorteo).await;
    sold_and_evaluated(&s).await;
    let ventana = w.a.ventanas[0];
    let name: String = scalar(
        w,
        &format!("SELECT name FROM ventanas WHERE id = '{ventana}'"),
    )
    .await;
    let dmy = {
        let p: Vec<&str> = day.split('-').collect();
        format!("{}/{}/{}", p[2], p[1], p[0])
    };
    let path = format!(
        "/api/v1/commissions/export?format=csv&scope=all&dimension=ventana&ventanaId={ventana}&{}",
        range(&day)
    );
    let (st, headers, body) = get_raw(&s, &w.admin, &path, None).await;
    assert_eq!(st, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
    let slug = name
        .to_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    assert_eq!(
        headers["content-disposition"],
        format!("attachment; filename=\"comisiones-listeros-{slug}-{day}.csv\"").as_str()
    );
    let expected = format!(
        "\u{feff}Reporte de Comisiones\n\
         Período,{dmy} - {dmy}\n\
         Dimensión,Listeros\n\
         Listero,{name}\n\
         \n\
         Fecha,Listero,Total Ventas,Total Tickets,Comisión Listero,Comisión Vendedor,Ganancia Listero\n\
         {dmy},{name},190.00,1,9.50,19.00,-9.50\n\
         \n\
         DESGLOSE POR LOTERÍA Y MULTIPLICADOR\n\
         \n\
         Fecha,Listero,Lotería,Sorteo,Multiplicador,Ventas,Comisión,% Comisión,Tickets\n\
         {dmy},{name},TICA,{time},Base 90x,150.00,7.50,5.00%,1\n\
         {dmy},{name},TICA,{time},REVENTADO,40.00,2.00,5.00%,1\n\
         \n\
         TOTALES\n\
         Total Ventas,190.00\n\
         Total Tickets,1\n\
         Total Comisión Listero,9.50\n\
         Total Comisión Vendedor,19.00\n\
         Total Ganancia Listero,-9.50\n"
    );
    assert_eq!(String::from_utf8(body).unwrap(), expected);

    // Dimension vendedor, every vendedor, without the breakdown.
    let path = format!(
        "/api/v1/commissions/export?format=csv&scope=all&dimension=vendedor\
         &includeBreakdown=false&includeWarnings=true&{}",
        range(&day)
    );
    let (st, headers, body) = get_raw(&s, &w.admin, &path, None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        headers["content-disposition"],
        format!("attachment; filename=\"comisiones-vendedores-todos-{day}.csv\"").as_str()
    );
    let expected = format!(
        "\u{feff}Reporte de Comisiones\n\
         Período,{dmy} - {dmy}\n\
         Dimensión,Vendedores\n\
         \n\
         Fecha,Vendedor,Total Ventas,Total Tickets,Comisión Vendedor,Comisión Listero,Ganancia Neta\n\
         {dmy},TODOS,228.90,3,19.00,11.45,-9995.43\n\
         \n\
         TOTALES\n\
         Total Ventas,228.90\n\
         Total Tickets,3\n\
         Total Comisión Vendedor,19.00\n\
         Total Comisión Listero,11.45\n\
         Total Ganancia Neta,-9995.43\n"
    );
    assert_eq!(String::from_utf8(body).unwrap(), expected);

    // XLSX (also as "excel"): a zip container.
    for f in ["xlsx", "excel"] {
        let path = format!(
            "/api/v1/commissions/export?format={f}&scope=all&dimension=ventana&{}",
            range(&day)
        );
        let (st, headers, body) = get_raw(&s, &w.admin, &path, None).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(
            headers["content-type"],
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        );
        assert!(headers["content-disposition"]
            .to_str()
            .unwrap()
            .ends_with(".xlsx\""));
        assert_eq!(&body[..2], b"PK");
    }
}
