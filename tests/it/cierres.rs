//! `/api/v1/cierres/*` (domain-money §4, §7) against a real PostgreSQL: exact figures per
//! lotería → sorteo → band and per seller (two NUMERO bands, REVENTADO lines inheriting the
//! smallest NUMERO band), out-of-band money kept and reported in `meta.anomalies`, totals equal
//! to the account statements, role scoping, strict queries, and the CSV and XLSX exports read
//! back equal to the JSON.

use std::io::Cursor;
use std::time::{Duration, Instant};

use banca::services::statements;
use calamine::{open_workbook_from_rs, Data, Reader, Xlsx};
use reqwest::{Method, StatusCode};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::evaluation::{dec, evaluate, numero, reventado, roja, sell};
use crate::fixtures::{self, call, scalar, shop, Login, Shop, Tenant};

/// GET paths of the cierres that name `v`'s objects: an attacker of the other banca gets 403.
pub(crate) fn isolation_paths(v: &Tenant) -> Vec<String> {
    let r = "from=2026-01-01&to=2026-01-31";
    let (ventana, vendedor) = (v.ventanas[0], v.vendedores[0].user_id);
    vec![
        format!("/api/v1/cierres/weekly?{r}&ventanaId={ventana}"),
        format!("/api/v1/cierres/by-seller?{r}&ventanaId={ventana}"),
        format!("/api/v1/cierres/by-seller/{vendedor}/detail?{r}"),
        format!("/api/v1/cierres/export.csv?{r}&ventanaId={ventana}"),
        format!("/api/v1/cierres/export.xlsx?{r}&ventanaId={ventana}"),
    ]
}

/// GET `path` as `who` (optionally with an active banca): status, headers and body bytes.
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

/// The whole answer of a successful GET.
async fn ok(s: &Shop, who: &Login, path: &str, banca: Option<Uuid>) -> Value {
    let (st, v) = get(s, who, path, banca).await;
    assert_eq!(st, StatusCode::OK, "{path}: {v}");
    assert_eq!(v["success"], true);
    v
}

/// A JSON number as an exact decimal.
fn d(v: &Value) -> Decimal {
    assert!(v.is_number(), "not a number: {v}");
    v.to_string().parse().unwrap()
}

/// Asserts the metrics of `m`: sales, payouts, commission, net, tickets, jugadas.
fn assert_metrics(m: &Value, want: (&str, &str, &str, &str, i64, i64)) {
    assert_eq!(d(&m["totalVendida"]), dec(want.0), "totalVendida of {m}");
    assert_eq!(d(&m["ganado"]), dec(want.1), "ganado of {m}");
    assert_eq!(d(&m["comisionTotal"]), dec(want.2), "comisionTotal of {m}");
    assert_eq!(
        d(&m["netoDespuesComision"]),
        dec(want.3),
        "netoDespuesComision of {m}"
    );
    assert_eq!(m["ticketsCount"], want.4, "ticketsCount of {m}");
    assert_eq!(m["jugadasCount"], want.5, "jugadasCount of {m}");
    assert_eq!(m["refuerzos"], 0, "refuerzos of {m}");
}

/// The cierre world: banca A's TICA with NUMERO multipliers Base 90x and Especial 80x, a 5 %
/// listero commission on both ventanas, and in the shop's sorteo (evaluated with 07 and the
/// REVENTADO "Roja" 2.5x):
///
/// | ticket | seller | lines |
/// |---|---|---|
/// | t1 | A1 | 07 × 100 (90x), 07 × 50 (80x), REV 07 × 40 (band 80), 13 × 20 (90x) |
/// | t2 | A2 | 42 × 60 (90x), REV 42 × 20 (band 90), 07 × 10 (80x) |
/// | t3 | A1 | 55 × 30 (80x) |
///
/// Prizes: t1 9000 + 4000 + 100 = 13100, t2 800, t3 0. Especial is deactivated before the
/// evaluation, so band 80 has no active multiplier (out of band, but its money stays).
/// A second sorteo of the same day with a sale stays OPEN (never counted).
/// Returns (business day, turno HH:MM).
async fn cierre_world(s: &Shop) -> (String, String) {
    let w = &s.w;
    fixtures::exec(
        w,
        &format!(
            "UPDATE ventanas SET commission_policy_json =
                 '{{\"version\":1,\"defaultPercent\":5,\"rules\":[]}}' WHERE banca_id = '{}'",
            w.a.banca_id
        ),
    )
    .await;
    let esp = fixtures::multiplier(&w.app, s.loteria, "Especial", 80, "NUMERO").await;
    let roja = roja(s).await;
    let [a1, a2] = [&w.a.vendedores[0], &w.a.vendedores[1]];
    let with = |n: &str, amount: f64, m: Uuid| json!({"type": "NUMERO", "number": n, "amount": amount, "multiplierId": m});
    sell(
        s,
        a1,
        json!([
            numero("07", 100.0),
            with("07", 50.0, esp),
            reventado("07", 40.0),
            numero("13", 20.0)
        ]),
    )
    .await;
    sell(
        s,
        a2,
        json!([
            numero("42", 60.0),
            reventado("42", 20.0),
            with("07", 10.0, esp)
        ]),
    )
    .await;
    sell(s, a1, json!([with("55", 30.0, esp)])).await;

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
        Some(&a1.token),
        Some(&body),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");

    fixtures::exec(
        w,
        &format!("UPDATE loteria_multipliers SET is_active = false WHERE id = '{esp}'"),
    )
    .await;
    let (st, v) = evaluate(
        s,
        &w.a.banca_user,
        json!({"winningNumber": "07", "extraMultiplierId": roja}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let v: String = scalar(
        w,
        &format!(
            "SELECT to_char(scheduled_at AT TIME ZONE 'America/Costa_Rica', 'YYYY-MM-DD HH24:MI')
             FROM sorteos WHERE id = '{}'",
            s.sorteo
        ),
    )
    .await;
    let (day, time) = v.split_once(' ').unwrap();
    (day.to_string(), time.to_string())
}

fn range(day: &str) -> String {
    format!("from={day}&to={day}")
}

// Hand-computed figures of the world (sales, payouts, listero 5 %, net, tickets, jugadas).
// Band 80: NUMERO 50 + 10 + 30 = 90 (prizes 4000 + 800, commission 4.50), REVENTADO 40 (prize
// 100, commission 2); tickets t1, t2, t3.
const BAND_80: (&str, &str, &str, &str, i64, i64) = ("130", "4900", "6.5", "-4776.5", 3, 4);
const BAND_80_NUMERO: (&str, &str, &str, &str, i64, i64) = ("90", "4800", "4.5", "-4714.5", 3, 3);
const BAND_80_REV: (&str, &str, &str, &str, i64, i64) = ("40", "100", "2", "-62", 1, 1);
// Band 90: NUMERO 100 + 20 + 60 = 180 (prize 9000, commission 9), REVENTADO 20 (commission 1);
// tickets t1, t2.
const BAND_90: (&str, &str, &str, &str, i64, i64) = ("200", "9000", "10", "-8810", 2, 4);
const BAND_90_NUMERO: (&str, &str, &str, &str, i64, i64) = ("180", "9000", "9", "-8829", 2, 3);
const BAND_90_REV: (&str, &str, &str, &str, i64, i64) = ("20", "0", "1", "19", 1, 1);
const TOTAL: (&str, &str, &str, &str, i64, i64) = ("330", "13900", "16.5", "-13586.5", 3, 8);
// A1: t1 and t3. A2: t2.
const A1: (&str, &str, &str, &str, i64, i64) = ("240", "13100", "12", "-12872", 2, 5);
const A1_BAND_80: (&str, &str, &str, &str, i64, i64) = ("120", "4100", "6", "-3986", 2, 3);
const A1_BAND_90: (&str, &str, &str, &str, i64, i64) = ("120", "9000", "6", "-8886", 1, 2);
const A2: (&str, &str, &str, &str, i64, i64) = ("90", "800", "4.5", "-714.5", 1, 3);
const A2_BAND_80: (&str, &str, &str, &str, i64, i64) = ("10", "800", "0.5", "-790.5", 1, 1);
const A2_BAND_90: (&str, &str, &str, &str, i64, i64) = ("80", "0", "4", "76", 1, 2);
const EMPTY: (&str, &str, &str, &str, i64, i64) = ("0", "0", "0", "0", 0, 0);

fn sha256_hex(s: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test]
async fn weekly_by_seller_and_detail_have_exact_figures_and_keep_out_of_band_money() {
    let s = shop().await;
    let w = &s.w;
    let (day, turno) = cierre_world(&s).await;
    // Statement rebuilds bump the report generation: let them finish so the cache is stable.
    settle(&s).await;
    let r = range(&day);

    // Weekly: one lotería, one sorteo (the OPEN one is not there), bands 80 and 90.
    let v = ok(
        &s,
        &w.a.banca_user,
        &format!("/api/v1/cierres/weekly?{r}"),
        None,
    )
    .await;
    let data = &v["data"];
    let lots = data["loterias"].as_array().unwrap();
    assert_eq!(lots.len(), 1, "{data}");
    assert_eq!(lots[0]["loteria"]["id"], s.loteria.to_string());
    assert_eq!(lots[0]["loteria"]["name"], "TICA");
    let sorteos = lots[0]["sorteos"].as_array().unwrap();
    assert_eq!(sorteos.len(), 1, "{data}");
    let so = &sorteos[0];
    assert_eq!(so["sorteo"]["id"], s.sorteo.to_string());
    assert_eq!(so["sorteo"]["turno"], turno);
    assert_eq!(so["sorteo"]["fecha"], day);
    assert!(so["sorteo"]["scheduledAt"]
        .as_str()
        .unwrap()
        .ends_with("-06:00"));
    let bands = so["bands"].as_object().unwrap();
    assert_eq!(bands.len(), 2, "{so}");
    assert_eq!(so["bands"]["80"]["band"], 80);
    assert_metrics(&so["bands"]["80"], BAND_80);
    assert_metrics(&so["bands"]["80"]["numero"], BAND_80_NUMERO);
    assert_metrics(&so["bands"]["80"]["reventado"], BAND_80_REV);
    assert_eq!(so["bands"]["90"]["band"], 90);
    assert_metrics(&so["bands"]["90"], BAND_90);
    assert_metrics(&so["bands"]["90"]["numero"], BAND_90_NUMERO);
    assert_metrics(&so["bands"]["90"]["reventado"], BAND_90_REV);
    assert_metrics(&so["subtotal"], TOTAL);
    assert_metrics(&lots[0]["subtotal"], TOTAL);
    assert_metrics(&data["totals"], TOTAL);
    assert_metrics(&data["bands"]["80"], BAND_80);
    assert_metrics(&data["bands"]["90"], BAND_90);

    // Meta: filters, bands used, hash, and band 80 (Especial deactivated) as anomalies: 3
    // NUMERO and 1 REVENTADO jugadas, its money still in the totals above.
    let meta = &v["meta"];
    assert_eq!(meta["source"], "primary");
    assert_eq!(meta["cache"], "miss");
    assert_eq!(
        meta["effectiveFilters"]["bancaId"],
        w.a.banca_id.to_string()
    );
    assert_eq!(meta["effectiveFilters"]["from"], day);
    assert_eq!(meta["effectiveFilters"]["scope"], "all");
    assert_eq!(meta["range"]["days"], 1);
    assert_eq!(meta["bandsUsed"]["global"], json!([80, 90]));
    assert_eq!(
        meta["bandsUsed"]["byLoteria"][s.loteria.to_string()],
        json!([80, 90])
    );
    let details = meta["bandsUsed"]["details"].as_array().unwrap();
    assert_eq!(details.len(), 2);
    assert_eq!(details[0]["band"], 80);
    assert_eq!(details[0]["inBand"], false);
    assert_eq!(details[1]["inBand"], true);
    assert_eq!(meta["configHash"], sha256_hex("80,90"));
    assert_eq!(meta["anomalies"]["outOfBandCount"], 4);
    let ex = meta["anomalies"]["examples"].as_array().unwrap();
    assert_eq!(ex.len(), 2, "{meta}");
    assert_eq!(ex[0]["tipo"], "NUMERO");
    assert_eq!(d(&ex[0]["totalVendida"]), dec("90"));
    assert_eq!(ex[1]["tipo"], "REVENTADO");
    assert_eq!(d(&ex[1]["totalVendida"]), dec("40"));

    // The same query again comes from the cache with the same figures.
    let again = ok(
        &s,
        &w.a.banca_user,
        &format!("/api/v1/cierres/weekly?{r}"),
        None,
    )
    .await;
    assert_eq!(again["meta"]["cache"], "hit");
    assert_eq!(again["data"], v["data"]);

    // By seller, full depth: A1 first by sales; its lotería → sorteo → band breakdown.
    let v = ok(
        &s,
        &w.a.banca_user,
        &format!("/api/v1/cierres/by-seller?{r}&depth=full"),
        None,
    )
    .await;
    assert_eq!(v["meta"]["effectiveFilters"]["depth"], "full");
    assert_eq!(v["meta"]["source"], "primary");
    let data = &v["data"];
    let sellers = data["vendedores"].as_array().unwrap();
    assert_eq!(sellers.len(), 2, "{data}");
    let (a1, a2) = (&sellers[0], &sellers[1]);
    assert_eq!(a1["vendedorId"], w.a.vendedores[0].user_id.to_string());
    assert_eq!(a1["vendedorNombre"], "vendedor.a1");
    assert_eq!(a1["ventanaId"], w.a.ventanas[0].to_string());
    assert_eq!(a1["ventanaNombre"], "Ventana A1");
    assert_metrics(a1, A1);
    assert_metrics(&a1["bands"]["80"], A1_BAND_80);
    assert_metrics(&a1["bands"]["90"], A1_BAND_90);
    let a1_sorteo = &a1["loterias"][0]["sorteos"][0];
    assert_eq!(a1_sorteo["sorteo"]["id"], s.sorteo.to_string());
    assert_metrics(&a1_sorteo["bands"]["80"], A1_BAND_80);
    assert_metrics(&a1_sorteo["subtotal"], A1);
    assert_metrics(&a1["loterias"][0]["subtotal"], A1);
    assert_eq!(a2["vendedorId"], w.a.vendedores[1].user_id.to_string());
    assert_metrics(a2, A2);
    assert_metrics(&a2["bands"]["80"], A2_BAND_80);
    assert_metrics(&a2["bands"]["90"], A2_BAND_90);
    assert_metrics(&data["totals"], TOTAL);
    assert_eq!(v["meta"]["anomalies"]["outOfBandCount"], 4);
    assert_eq!(v["meta"]["bandsUsed"]["global"], json!([80, 90]));
    let full = v;

    // The default depth is summary (decision, services::cierres): the same sellers, metrics,
    // bands and meta as full depth, without the lotería breakdown.
    let v = ok(
        &s,
        &w.a.banca_user,
        &format!("/api/v1/cierres/by-seller?{r}"),
        None,
    )
    .await;
    assert_eq!(v["meta"]["effectiveFilters"]["depth"], "summary");
    let sellers = v["data"]["vendedores"].as_array().unwrap();
    let full_sellers = full["data"]["vendedores"].as_array().unwrap();
    assert_eq!(sellers.len(), full_sellers.len());
    for (sum, full) in sellers.iter().zip(full_sellers) {
        assert!(sum.get("loterias").is_none(), "{sum}");
        let mut without = full.clone();
        without.as_object_mut().unwrap().remove("loterias");
        assert_eq!(sum, &without);
    }
    assert_eq!(v["data"]["totals"], full["data"]["totals"]);
    for k in ["bandsUsed", "configHash", "anomalies", "range"] {
        assert_eq!(v["meta"][k], full["meta"][k], "meta.{k}");
    }

    // Summary depth has no lotería breakdown; orderBy net puts A2 first; top cuts before the
    // totals are summed.
    let v = ok(
        &s,
        &w.a.banca_user,
        &format!("/api/v1/cierres/by-seller?{r}&depth=summary&orderBy=netoDespuesComision&top=1"),
        None,
    )
    .await;
    let sellers = v["data"]["vendedores"].as_array().unwrap();
    assert_eq!(sellers.len(), 1);
    assert_eq!(
        sellers[0]["vendedorId"],
        w.a.vendedores[1].user_id.to_string()
    );
    assert!(sellers[0].get("loterias").is_none());
    assert_metrics(&v["data"]["totals"], A2);
    assert_eq!(v["meta"]["effectiveFilters"]["top"], 1);
    assert_eq!(
        v["meta"]["effectiveFilters"]["orderBy"],
        "netoDespuesComision"
    );
    let v = ok(
        &s,
        &w.a.banca_user,
        &format!("/api/v1/cierres/by-seller?{r}&orderBy=ganado&depth=summary"),
        None,
    )
    .await;
    assert_eq!(
        v["data"]["vendedores"][0]["vendedorId"],
        w.a.vendedores[0].user_id.to_string()
    );

    // Detail of A1.
    let v = ok(
        &s,
        &w.a.banca_user,
        &format!(
            "/api/v1/cierres/by-seller/{}/detail?{r}",
            w.a.vendedores[0].user_id
        ),
        None,
    )
    .await;
    let data = &v["data"];
    assert_eq!(
        data["vendedor"]["id"],
        w.a.vendedores[0].user_id.to_string()
    );
    assert_eq!(data["vendedor"]["name"], "vendedor.a1");
    assert_metrics(&data["subtotal"], A1);
    assert_metrics(&data["bands"]["80"], A1_BAND_80);
    assert_metrics(&data["bands"]["90"], A1_BAND_90);
    assert_metrics(
        &data["loterias"][0]["sorteos"][0]["bands"]["90"],
        A1_BAND_90,
    );
    assert_eq!(v["meta"]["anomalies"]["outOfBandCount"], 3);

    // A seller of the banca without sales in the period: null.
    let other = fixtures::user(
        &w.app,
        "vendedor.a3",
        banca::domain::roles::Role::Vendedor,
        Some(w.a.ventanas[0]),
        Some(w.a.banca_id),
    )
    .await;
    let v = ok(
        &s,
        &w.a.banca_user,
        &format!("/api/v1/cierres/by-seller/{}/detail?{r}", other.user_id),
        None,
    )
    .await;
    assert_eq!(v["data"], Value::Null);

    // The day before has nothing.
    let prev = (chrono::NaiveDate::parse_from_str(&day, "%Y-%m-%d").unwrap()
        - chrono::Duration::days(1))
    .to_string();
    let v = ok(
        &s,
        &w.a.banca_user,
        &format!("/api/v1/cierres/weekly?from={prev}&to={prev}"),
        None,
    )
    .await;
    assert_eq!(v["data"]["loterias"], json!([]));
    assert_metrics(&v["data"]["totals"], EMPTY);
}

/// Drains the statement rebuild queue (the server's refresher may hold a request meanwhile).
async fn settle(s: &Shop) {
    let until = Instant::now() + Duration::from_secs(20);
    loop {
        statements::drain(s.w.app.state.pools.primary())
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

#[tokio::test]
async fn totals_equal_the_account_statements() {
    let s = shop().await;
    let w = &s.w;
    let (day, _) = cierre_world(&s).await;
    settle(&s).await;
    let r = range(&day);

    type Sums = (Decimal, Decimal, Decimal);
    let banca: Sums = sqlx::query_as(
        "SELECT COALESCE(sum(total_sales), 0), COALESCE(sum(total_payouts), 0),
                COALESCE(sum(listero_commission), 0)
         FROM account_statements WHERE dimension = 'banca' AND banca_id = $1 AND date = $2::date",
    )
    .bind(w.a.banca_id)
    .bind(&day)
    .fetch_one(&mut w.db.connect().await)
    .await
    .unwrap();
    assert_eq!(banca, (dec("330"), dec("13900"), dec("16.5")));
    let v = ok(
        &s,
        &w.admin,
        &format!("/api/v1/cierres/weekly?{r}"),
        Some(w.a.banca_id),
    )
    .await;
    let t = &v["data"]["totals"];
    assert_eq!(
        (
            d(&t["totalVendida"]),
            d(&t["ganado"]),
            d(&t["comisionTotal"])
        ),
        banca
    );
    assert_eq!(d(&t["netoDespuesComision"]), banca.0 - banca.1 - banca.2);

    // Per seller: the vendedor statements' sales, prizes and listero commission.
    let v = ok(
        &s,
        &w.admin,
        &format!("/api/v1/cierres/by-seller?{r}"),
        Some(w.a.banca_id),
    )
    .await;
    for seller in v["data"]["vendedores"].as_array().unwrap() {
        let id = Uuid::parse_str(seller["vendedorId"].as_str().unwrap()).unwrap();
        let st: Sums = sqlx::query_as(
            "SELECT COALESCE(sum(total_sales), 0), COALESCE(sum(total_payouts), 0),
                    COALESCE(sum(listero_commission), 0)
             FROM account_statements
             WHERE dimension = 'vendedor' AND vendedor_id = $1 AND date = $2::date",
        )
        .bind(id)
        .bind(&day)
        .fetch_one(&mut w.db.connect().await)
        .await
        .unwrap();
        assert_eq!(
            (
                d(&seller["totalVendida"]),
                d(&seller["ganado"]),
                d(&seller["comisionTotal"])
            ),
            st,
            "{seller}"
        );
    }
}

#[tokio::test]
async fn roles_scope_the_cierre() {
    let s = shop().await;
    let w = &s.w;
    let (day, _) = cierre_world(&s).await;
    let r = range(&day);
    let weekly = format!("/api/v1/cierres/weekly?{r}");

    // VENDEDOR: 403 on every route.
    for p in [
        weekly.clone(),
        format!("/api/v1/cierres/by-seller?{r}"),
        format!(
            "/api/v1/cierres/by-seller/{}/detail?{r}",
            w.a.vendedores[0].user_id
        ),
        format!("/api/v1/cierres/export.csv?{r}"),
        format!("/api/v1/cierres/export.xlsx?{r}"),
    ] {
        let (st, v) = get(&s, &w.a.vendedores[0], &p, None).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{p}: {v}");
        assert_eq!(v["code"], "FORBIDDEN");
    }

    // VENTANA A1: its ventana only, whatever it asks; another ventana is 403 RBAC_001.
    let v = ok(&s, &w.a.ventana_users[0], &weekly, None).await;
    assert_metrics(&v["data"]["totals"], A1);
    assert_eq!(
        v["meta"]["effectiveFilters"]["ventanaId"],
        w.a.ventanas[0].to_string()
    );
    let v = ok(
        &s,
        &w.a.ventana_users[0],
        &format!("{weekly}&scope=mine"),
        None,
    )
    .await;
    assert_metrics(&v["data"]["totals"], A1);
    let (st, v) = get(
        &s,
        &w.a.ventana_users[0],
        &format!("{weekly}&ventanaId={}", w.a.ventanas[1]),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    assert_eq!(v["code"], "RBAC_001");
    let (st, v) = get(
        &s,
        &w.a.ventana_users[0],
        &format!(
            "/api/v1/cierres/by-seller/{}/detail?{r}",
            w.a.vendedores[1].user_id
        ),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    let v = ok(
        &s,
        &w.a.ventana_users[1],
        &format!("/api/v1/cierres/by-seller?{r}"),
        None,
    )
    .await;
    let sellers = v["data"]["vendedores"].as_array().unwrap();
    assert_eq!(sellers.len(), 1);
    assert_metrics(&sellers[0], A2);

    // BANCA A: everything of A; a ventana filter narrows.
    let v = ok(&s, &w.a.banca_user, &weekly, None).await;
    assert_metrics(&v["data"]["totals"], TOTAL);
    let v = ok(
        &s,
        &w.a.banca_user,
        &format!("{weekly}&ventanaId={}", w.a.ventanas[1]),
        None,
    )
    .await;
    assert_metrics(&v["data"]["totals"], A2);
    let v = ok(
        &s,
        &w.a.banca_user,
        &format!("{weekly}&ventanaId=all"),
        None,
    )
    .await;
    assert_metrics(&v["data"]["totals"], TOTAL);

    // BANCA B: nothing of A, and A's ventana or vendedor is 403.
    let v = ok(&s, &w.b.banca_user, &weekly, None).await;
    assert_eq!(v["data"]["loterias"], json!([]));
    assert_metrics(&v["data"]["totals"], EMPTY);
    assert_eq!(v["meta"]["anomalies"]["outOfBandCount"], 0);
    let v = ok(
        &s,
        &w.b.banca_user,
        &format!("/api/v1/cierres/by-seller?{r}"),
        None,
    )
    .await;
    assert_eq!(v["data"]["vendedores"], json!([]));
    let (st, v) = get(
        &s,
        &w.b.banca_user,
        &format!("{weekly}&ventanaId={}", w.a.ventanas[0]),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    assert_eq!(v["code"], "RBAC_007");
    for p in isolation_paths(&w.a) {
        for who in w.b.logins() {
            let (st, _, _) = get_raw(&s, who, &p, None).await;
            assert!(
                st == StatusCode::FORBIDDEN || st == StatusCode::NOT_FOUND,
                "{} got {st} on {p}",
                who.username
            );
        }
    }
    let (st, _, body) = get_raw(
        &s,
        &w.b.banca_user,
        &format!("/api/v1/cierres/export.csv?{r}"),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let text = String::from_utf8(body).unwrap();
    assert_eq!(text.lines().count(), 1, "only the header: {text}");

    // ADMIN: the active banca (A: all of it; B: nothing), or every banca without one.
    let v = ok(&s, &w.admin, &weekly, Some(w.a.banca_id)).await;
    assert_metrics(&v["data"]["totals"], TOTAL);
    let v = ok(&s, &w.admin, &weekly, Some(w.b.banca_id)).await;
    assert_metrics(&v["data"]["totals"], EMPTY);
    let v = ok(&s, &w.admin, &weekly, None).await;
    assert_metrics(&v["data"]["totals"], TOTAL);
    let (st, v) = get(
        &s,
        &w.admin,
        &format!("{weekly}&ventanaId={}", w.a.ventanas[0]),
        Some(w.b.banca_id),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    assert_eq!(v["code"], "RBAC_004");
}

#[tokio::test]
async fn queries_are_strict_and_ranges_bounded() {
    let s = shop().await;
    let w = &s.w;
    let who = &w.a.banca_user;
    let cases: Vec<(String, &str)> = vec![
        (
            "/api/v1/cierres/weekly?from=2026-01-01&to=2026-01-02&foo=1".into(),
            "VALIDATION_ERROR",
        ),
        (
            "/api/v1/cierres/weekly?from=2026-01-01&to=2026-01-02&top=5".into(),
            "VALIDATION_ERROR",
        ),
        (
            "/api/v1/cierres/weekly?to=2026-01-02".into(),
            "VALIDATION_ERROR",
        ),
        (
            "/api/v1/cierres/weekly?from=2026-01-01".into(),
            "VALIDATION_ERROR",
        ),
        (
            "/api/v1/cierres/weekly?from=2026-13-01&to=2026-01-02".into(),
            "VALIDATION_ERROR",
        ),
        (
            "/api/v1/cierres/weekly?from=2026-01-05&to=2026-01-02".into(),
            "VALIDATION_ERROR",
        ),
        // 91 days apart.
        (
            "/api/v1/cierres/weekly?from=2026-01-01&to=2026-04-02".into(),
            "RANGE_TOO_LONG",
        ),
        (
            "/api/v1/cierres/weekly?from=2026-01-01&to=2026-01-02&scope=todo".into(),
            "VALIDATION_ERROR",
        ),
        (
            "/api/v1/cierres/weekly?from=2026-01-01&to=2026-01-02&ventanaId=x".into(),
            "VALIDATION_ERROR",
        ),
        (
            "/api/v1/cierres/by-seller?from=2026-01-01&to=2026-01-02&top=0".into(),
            "VALIDATION_ERROR",
        ),
        (
            "/api/v1/cierres/by-seller?from=2026-01-01&to=2026-01-02&top=101".into(),
            "VALIDATION_ERROR",
        ),
        (
            "/api/v1/cierres/by-seller?from=2026-01-01&to=2026-01-02&orderBy=ventas".into(),
            "VALIDATION_ERROR",
        ),
        (
            "/api/v1/cierres/by-seller?from=2026-01-01&to=2026-01-02&depth=deep".into(),
            "VALIDATION_ERROR",
        ),
        (
            "/api/v1/cierres/by-seller?from=2026-01-01&to=2026-01-02&view=total".into(),
            "VALIDATION_ERROR",
        ),
        (
            "/api/v1/cierres/by-seller/nope/detail?from=2026-01-01&to=2026-01-02".into(),
            "VALIDATION_ERROR",
        ),
        (
            "/api/v1/cierres/export.xlsx?from=2026-01-01&to=2026-01-02&view=banda".into(),
            "VALIDATION_ERROR",
        ),
        (
            "/api/v1/cierres/export.csv?from=2026-01-01&to=2026-01-02&depth=full".into(),
            "VALIDATION_ERROR",
        ),
        (
            "/api/v1/cierres/export.csv?from=2026-01-01&to=2026-06-02".into(),
            "RANGE_TOO_LONG",
        ),
    ];
    for (path, code) in cases {
        let (st, v) = get(&s, who, &path, None).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{path}: {v}");
        assert_eq!(v["code"], code, "{path}: {v}");
        assert_eq!(v["success"], false);
    }
    // Exactly 90 days apart, the cache buster and empty/all ids are fine.
    let v = ok(
        &s,
        who,
        "/api/v1/cierres/weekly?from=2026-01-01&to=2026-04-01&_=123&ventanaId=",
        None,
    )
    .await;
    assert_eq!(v["meta"]["range"]["days"], 91);
    ok(
        &s,
        who,
        "/api/v1/cierres/by-seller?from=2026-01-01&to=2026-01-01&ventanaId=all&top=100&depth=full&orderBy=ganado",
        None,
    )
    .await;
    // No token: 401.
    let res =
        s.w.app
            .client
            .get(
                s.w.app
                    .url("/api/v1/cierres/weekly?from=2026-01-01&to=2026-01-01"),
            )
            .send()
            .await
            .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

/// The CSV rows as `(band, vendedor, ventana, loteria, turno, tipo, fecha, [venta, premios,
/// comision, neto])`.
type CsvRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    [Decimal; 4],
);

fn parse_csv(body: &[u8]) -> Vec<CsvRow> {
    assert_eq!(&body[..3], &[0xEF, 0xBB, 0xBF], "BOM");
    let text = std::str::from_utf8(&body[3..]).unwrap();
    assert!(text.ends_with("\r\n"));
    assert_eq!(
        text.matches('\n').count(),
        text.matches("\r\n").count(),
        "CRLF line ends"
    );
    let mut rd = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(text.as_bytes());
    let header: Vec<String> = rd.headers().unwrap().iter().map(str::to_string).collect();
    assert_eq!(
        header,
        [
            "banda", "vendedor", "ventana", "loteria", "turno", "tipo", "fecha", "venta",
            "premios", "comision", "neto"
        ]
    );
    rd.records()
        .map(|r| {
            let r = r.unwrap();
            for i in 7..11 {
                let (_, dp) = r[i].split_once('.').expect("two decimals");
                assert_eq!(dp.len(), 2, "{:?}", &r[i]);
            }
            (
                r[0].to_string(),
                r[1].to_string(),
                r[2].to_string(),
                r[3].to_string(),
                r[4].to_string(),
                r[5].to_string(),
                r[6].to_string(),
                [dec(&r[7]), dec(&r[8]), dec(&r[9]), dec(&r[10])],
            )
        })
        .collect()
}

fn money4(m: &Value) -> [Decimal; 4] {
    [
        d(&m["totalVendida"]),
        d(&m["ganado"]),
        d(&m["comisionTotal"]),
        d(&m["netoDespuesComision"]),
    ]
}

fn add4(a: &mut [Decimal; 4], b: &[Decimal; 4]) {
    for (x, y) in a.iter_mut().zip(b) {
        *x += *y;
    }
}

#[tokio::test]
async fn csv_export_matches_the_json() {
    let s = shop().await;
    let w = &s.w;
    let (day, turno) = cierre_world(&s).await;
    let r = range(&day);
    let who = &w.a.banca_user;

    let (st, headers, body) =
        get_raw(&s, who, &format!("/api/v1/cierres/export.csv?{r}"), None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
    assert_eq!(
        headers["content-disposition"],
        format!("attachment; filename=\"cierre-operativo-{day}-{day}.csv\"").as_str()
    );
    assert_eq!(headers["x-report-source"], "primary");
    let rows = parse_csv(&body);
    let line = |band: &str, seller: &str, ventana: &str, tipo: &str, m: [&str; 4]| -> CsvRow {
        (
            band.into(),
            seller.into(),
            ventana.into(),
            "TICA".into(),
            turno.clone(),
            tipo.into(),
            day.clone(),
            [dec(m[0]), dec(m[1]), dec(m[2]), dec(m[3])],
        )
    };
    assert_eq!(
        rows,
        vec![
            line(
                "80",
                "vendedor.a1",
                "Ventana A1",
                "NUMERO",
                ["80", "4000", "4", "-3924"]
            ),
            line(
                "80",
                "vendedor.a1",
                "Ventana A1",
                "REVENTADO",
                ["40", "100", "2", "-62"]
            ),
            line(
                "80",
                "vendedor.a2",
                "Ventana A2",
                "NUMERO",
                ["10", "800", "0.5", "-790.5"]
            ),
            line(
                "90",
                "vendedor.a1",
                "Ventana A1",
                "NUMERO",
                ["120", "9000", "6", "-8886"]
            ),
            line(
                "90",
                "vendedor.a2",
                "Ventana A2",
                "NUMERO",
                ["60", "0", "3", "57"]
            ),
            line(
                "90",
                "vendedor.a2",
                "Ventana A2",
                "REVENTADO",
                ["20", "0", "1", "19"]
            ),
        ]
    );

    // Sums per band equal the weekly bands; per seller and band the by-seller bands.
    let weekly = ok(&s, who, &format!("/api/v1/cierres/weekly?{r}"), None).await;
    let sellers = ok(&s, who, &format!("/api/v1/cierres/by-seller?{r}"), None).await;
    for band in ["80", "90"] {
        let mut sum = [Decimal::ZERO; 4];
        for row in rows.iter().filter(|r| r.0 == band) {
            add4(&mut sum, &row.7);
        }
        assert_eq!(sum, money4(&weekly["data"]["bands"][band]), "band {band}");
        for seller in sellers["data"]["vendedores"].as_array().unwrap() {
            let mut sum = [Decimal::ZERO; 4];
            for row in rows
                .iter()
                .filter(|r| r.0 == band && r.1 == seller["vendedorNombre"].as_str().unwrap())
            {
                add4(&mut sum, &row.7);
            }
            assert_eq!(
                sum,
                money4(&seller["bands"][band]),
                "band {band} of {seller}"
            );
        }
    }

    // One band; the top seller by net only; a VENTANA gets its own lines.
    let (_, _, body) = get_raw(
        &s,
        who,
        &format!("/api/v1/cierres/export.csv?{r}&view=90"),
        None,
    )
    .await;
    let rows = parse_csv(&body);
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().all(|r| r.0 == "90"));
    let (_, _, body) = get_raw(
        &s,
        who,
        &format!("/api/v1/cierres/export.csv?{r}&top=1&orderBy=netoDespuesComision"),
        None,
    )
    .await;
    let rows = parse_csv(&body);
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().all(|r| r.1 == "vendedor.a2"));
    let (st, _, body) = get_raw(
        &s,
        &w.a.ventana_users[0],
        &format!("/api/v1/cierres/export.csv?{r}"),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let rows = parse_csv(&body);
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().all(|r| r.2 == "Ventana A1"));
}

/// The rows of sheet `name` as text ("" for empty, numbers as exact 2-dp decimals).
fn sheet(book: &mut Xlsx<Cursor<Vec<u8>>>, name: &str) -> Vec<Vec<String>> {
    let range = book.worksheet_range(name).unwrap();
    range
        .rows()
        .map(|row| {
            row.iter()
                .map(|c| match c {
                    Data::String(s) => s.clone(),
                    Data::Float(f) => Decimal::try_from(*f)
                        .unwrap()
                        .round_dp(2)
                        .normalize()
                        .to_string(),
                    Data::Int(i) => i.to_string(),
                    Data::Empty => String::new(),
                    other => format!("{other:?}"),
                })
                .collect()
        })
        .collect()
}

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// Money of a metrics object as the sheet shows it.
fn money_strs(m: &Value) -> Vec<String> {
    money4(m)
        .iter()
        .map(|d| d.normalize().to_string())
        .collect()
}

async fn xlsx(s: &Shop, who: &Login, path: &str) -> Xlsx<Cursor<Vec<u8>>> {
    let (st, headers, body) = get_raw(s, who, path, None).await;
    assert_eq!(st, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    assert_eq!(
        headers["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert_eq!(headers["x-report-source"], "primary");
    open_workbook_from_rs(Cursor::new(body)).unwrap()
}

#[tokio::test]
async fn xlsx_export_matches_the_json() {
    let s = shop().await;
    let w = &s.w;
    let (day, turno) = cierre_world(&s).await;
    let r = range(&day);
    let who = &w.a.banca_user;
    let weekly = ok(&s, who, &format!("/api/v1/cierres/weekly?{r}"), None).await;
    let sellers = ok(&s, who, &format!("/api/v1/cierres/by-seller?{r}"), None).await;
    let wd = &weekly["data"];

    let (_, headers, _) = get_raw(&s, who, &format!("/api/v1/cierres/export.xlsx?{r}"), None).await;
    assert_eq!(
        headers["content-disposition"],
        format!("attachment; filename=\"cierre-{day}-{day}.xlsx\"").as_str()
    );
    let mut book = xlsx(&s, who, &format!("/api/v1/cierres/export.xlsx?{r}")).await;
    assert_eq!(
        book.sheet_names(),
        [
            "Banda 80",
            "Banda 90",
            "Cierre Total",
            "Cierre por Vendedor"
        ]
    );
    let header = strs(&[
        "Lotería",
        "Sorteo",
        "Total Vendido",
        "Premios",
        "Comisión",
        "Neto Después Comisión",
    ]);
    for band in ["80", "90"] {
        let rows = sheet(&mut book, &format!("Banda {band}"));
        let m = money_strs(&wd["loterias"][0]["sorteos"][0]["bands"][band]);
        let mut sorteo_row = strs(&["TICA", &turno]);
        sorteo_row.extend(m.clone());
        let mut sub = strs(&["Subtotal TICA", ""]);
        sub.extend(m.clone());
        let mut total = strs(&["TOTAL BANDA", ""]);
        total.extend(money_strs(&wd["bands"][band]));
        assert_eq!(
            rows,
            vec![header.clone(), sorteo_row, sub, total],
            "band {band}"
        );
    }
    let rows = sheet(&mut book, "Cierre Total");
    let mut want = vec![strs(&[
        "Banda",
        "Total Vendido",
        "Premios",
        "Comisión",
        "Neto Después Comisión",
    ])];
    for band in ["80", "90"] {
        let mut row = vec![format!("Banda {band}")];
        row.extend(money_strs(&wd["bands"][band]));
        want.push(row);
    }
    let mut row = strs(&["TOTAL GLOBAL"]);
    row.extend(money_strs(&wd["totals"]));
    want.push(row);
    assert_eq!(rows, want);
    let rows = sheet(&mut book, "Cierre por Vendedor");
    assert_eq!(rows.len(), 4);
    for (i, seller) in sellers["data"]["vendedores"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        let mut row = vec![
            seller["vendedorNombre"].as_str().unwrap().to_string(),
            seller["ventanaNombre"].as_str().unwrap().to_string(),
        ];
        row.extend(money_strs(seller));
        row.push(seller["ticketsCount"].to_string());
        assert_eq!(rows[i + 1], row);
    }
    let mut total = strs(&["TOTAL", ""]);
    total.extend(money_strs(&sellers["data"]["totals"]));
    total.push(sellers["data"]["totals"]["ticketsCount"].to_string());
    assert_eq!(rows[3], total);

    // One band only.
    let mut book = xlsx(&s, who, &format!("/api/v1/cierres/export.xlsx?{r}&view=90")).await;
    assert_eq!(book.sheet_names(), ["Banda 90"]);
    let rows = sheet(&mut book, "Banda 90");
    let mut total = strs(&["TOTAL BANDA", ""]);
    total.extend(money_strs(&wd["bands"]["90"]));
    assert_eq!(rows.last().unwrap(), &total);

    // Seller view: per band, a line per seller × lotería × day × turno × type, subtotals per
    // seller equal the by-seller bands.
    let mut book = xlsx(
        &s,
        who,
        &format!("/api/v1/cierres/export.xlsx?{r}&view=seller"),
    )
    .await;
    assert_eq!(book.sheet_names(), ["Banda 80", "Banda 90"]);
    let rows = sheet(&mut book, "Banda 80");
    assert_eq!(rows[0][0], "Vendedor");
    assert_eq!(
        rows[1],
        strs(&[
            "vendedor.a1",
            "Ventana A1",
            "TICA",
            &day,
            &turno,
            "NUMERO",
            "80",
            "4000",
            "4",
            "-3924"
        ])
    );
    let a1 = &sellers["data"]["vendedores"][0];
    let mut sub = strs(&["Subtotal vendedor.a1", "", "", "", "", ""]);
    sub.extend(money_strs(&a1["bands"]["80"]));
    assert_eq!(rows[3], sub);
    let mut total = strs(&["TOTAL BANDA", "", "", "", "", ""]);
    total.extend(money_strs(&wd["bands"]["80"]));
    assert_eq!(rows.last().unwrap(), &total);

    // A period of more than one day prefixes the sorteo with its date.
    let next = (chrono::NaiveDate::parse_from_str(&day, "%Y-%m-%d").unwrap()
        + chrono::Duration::days(1))
    .to_string();
    let mut book = xlsx(
        &s,
        who,
        &format!("/api/v1/cierres/export.xlsx?from={day}&to={next}&view=80"),
    )
    .await;
    let rows = sheet(&mut book, "Banda 80");
    assert_eq!(rows[1][1], format!("{day} {turno}"));

    // A banca without sales: a valid workbook with zero totals.
    let mut book = xlsx(
        &s,
        &w.b.banca_user,
        &format!("/api/v1/cierres/export.xlsx?{r}"),
    )
    .await;
    let rows = sheet(&mut book, "Cierre Total");
    assert_eq!(
        rows,
        vec![
            strs(&[
                "Banda",
                "Total Vendido",
                "Premios",
                "Comisión",
                "Neto Después Comisión"
            ]),
            strs(&["TOTAL GLOBAL", "0", "0", "0", "0"]),
        ]
    );
}

/// Rows where the per-day seller rollups differ from `sales_rollup` / `ticket_rollup` summed
/// over the live sorteos (0 when they agree).
async fn seller_day_drift(s: &Shop) -> i64 {
    scalar(
        &s.w,
        "WITH want AS (
            SELECT r.business_date, r.banca_id, r.ventana_id, r.vendedor_id,
                   r.type, r.band, r.in_band, sum(r.total_sales) AS sales,
                   sum(r.total_payouts) AS payouts, sum(r.listero_commission) AS listero,
                   sum(r.jugada_count)::int8 AS jugadas, sum(r.ticket_count)::int8 AS tickets
            FROM sales_rollup r JOIN sorteos s ON s.id = r.sorteo_id AND s.deleted_at IS NULL
            GROUP BY 1, 2, 3, 4, 5, 6, 7),
         have AS (
            SELECT business_date, banca_id, ventana_id, vendedor_id, type, band,
                   in_band, total_sales, total_payouts, listero_commission, jugada_count,
                   ticket_count
            FROM seller_day_rollup),
         want_t AS (
            SELECT r.business_date, r.banca_id, r.ventana_id, r.vendedor_id,
                   sum(r.ticket_count)::int8 AS tickets
            FROM ticket_rollup r JOIN sorteos s ON s.id = r.sorteo_id AND s.deleted_at IS NULL
            GROUP BY 1, 2, 3, 4),
         have_t AS (
            SELECT business_date, banca_id, ventana_id, vendedor_id, ticket_count
            FROM seller_day_tickets)
         SELECT (SELECT count(*) FROM (SELECT * FROM want EXCEPT SELECT * FROM have) a)
              + (SELECT count(*) FROM (SELECT * FROM have EXCEPT SELECT * FROM want) b)
              + (SELECT count(*) FROM (SELECT * FROM want_t EXCEPT SELECT * FROM have_t) c)
              + (SELECT count(*) FROM (SELECT * FROM have_t EXCEPT SELECT * FROM want_t) d)",
    )
    .await
}

async fn sorteo_action(s: &Shop, sorteo: Uuid, what: &str, body: Value) {
    let (st, v) = call(
        &s.w.app,
        Method::PATCH,
        &format!("/api/v1/sorteos/{sorteo}/{what}"),
        Some(&s.w.a.banca_user.token),
        Some(&body),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{what} {sorteo}: {v}");
}

/// `/cierres/by-seller` reads `seller_day_rollup` / `seller_day_tickets` (the sorteo rollups
/// summed per seller and day, kept by difference): they follow evaluations and reverts of two
/// sorteos of one day, also when both are evaluated at once, and the by-seller
/// answer equals the one built from the per-sorteo rows (`depth=full` reads `sales_rollup`).
#[tokio::test]
async fn by_seller_day_rollups_follow_evaluations_and_reverts() {
    let s = shop().await;
    let w = &s.w;
    let (day, _) = cierre_world(&s).await;
    let r = range(&day);
    let second: Uuid = scalar(
        w,
        &format!(
            "SELECT id FROM sorteos WHERE loteria_id = '{}' AND id <> '{}' AND status = 'OPEN'",
            s.loteria, s.sorteo
        ),
    )
    .await;
    assert_eq!(seller_day_drift(&s).await, 0);
    let rows: i64 = scalar(w, "SELECT count(*) FROM seller_day_rollup").await;
    assert!(rows > 0);

    let total = |v: &Value| d(&v["data"]["totals"]["totalVendida"]);
    let by_seller = format!("/api/v1/cierres/by-seller?{r}&depth=summary");
    let v = ok(&s, &w.a.banca_user, &by_seller, None).await;
    assert_metrics(&v["data"]["totals"], TOTAL);

    // The second sorteo of the same lotería and day: A1's 07 × 500 joins the same day rows.
    sorteo_action(&s, second, "evaluate", json!({"winningNumber": "07"})).await;
    assert_eq!(seller_day_drift(&s).await, 0);
    settle(&s).await;
    let v = ok(&s, &w.a.banca_user, &by_seller, None).await;
    assert_eq!(total(&v), dec("830"), "{v}");
    // depth=full reads the per-sorteo rows (`sales_rollup`): the same seller figures.
    let full = ok(
        &s,
        &w.a.banca_user,
        &format!("/api/v1/cierres/by-seller?{r}&depth=full"),
        None,
    )
    .await;
    let sellers = |v: &Value| -> Vec<(String, Value)> {
        let mut out: Vec<(String, Value)> = v["data"]["vendedores"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                let mut s = s.clone();
                s.as_object_mut().unwrap().remove("loterias");
                (s["vendedorId"].as_str().unwrap().to_string(), s)
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    };
    assert_eq!(sellers(&v), sellers(&full));
    assert_eq!(v["data"]["totals"], full["data"]["totals"]);

    // Revert the first: only the second's sale is left in the day rows.
    sorteo_action(&s, s.sorteo, "revert-evaluation", json!({})).await;
    assert_eq!(seller_day_drift(&s).await, 0);
    settle(&s).await;
    let v = ok(&s, &w.a.banca_user, &by_seller, None).await;
    assert_eq!(total(&v), dec("500"), "{v}");

    // Revert the second (the day rows empty out), then evaluate both at once.
    sorteo_action(&s, second, "revert-evaluation", json!({})).await;
    assert_eq!(seller_day_drift(&s).await, 0);
    let rows: i64 = scalar(w, "SELECT count(*) FROM seller_day_rollup").await;
    assert_eq!(rows, 0);
    let roja = scalar::<Uuid>(
        w,
        &format!(
            "SELECT id FROM loteria_multipliers WHERE loteria_id = '{}' AND name = 'Roja'",
            s.loteria
        ),
    )
    .await;
    tokio::join!(
        sorteo_action(
            &s,
            s.sorteo,
            "evaluate",
            json!({"winningNumber": "07", "extraMultiplierId": roja})
        ),
        sorteo_action(&s, second, "evaluate", json!({"winningNumber": "07"})),
    );
    assert_eq!(seller_day_drift(&s).await, 0);
    settle(&s).await;
    let v = ok(&s, &w.a.banca_user, &by_seller, None).await;
    assert_eq!(total(&v), dec("830"), "{v}");
}
