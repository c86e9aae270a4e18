//! Issue 10's cross-check on one generated dataset (evaluated sorteos over several days, two
//! ventanas, ten sellers, commissions of several origins, cancelled and paid tickets): for the
//! same range, cierre totals = dashboard totals = ventas totals = report totals = Σ banca
//! statements, per seller the cierre equals the seller's statements, and the commissions equal
//! the per-jugada snapshots summed straight from `jugadas`.

use banca::domain::roles::Role;
use rust_decimal::Decimal;
use serde_json::Value;
use sqlx::Connection;

use crate::bench_reports::small_dataset;
use crate::common::{self, TestDb};
use crate::fixtures;

fn dec(v: &Value) -> Decimal {
    match v {
        Value::Number(n) => n.to_string().parse().unwrap(),
        Value::String(s) => s.parse().unwrap(),
        other => panic!("not a number: {other}"),
    }
}

/// The rows of `sql`, whose `$1`, `$2` and `$3` are a banca and a range of business days.
async fn range_rows<T>(
    conn: &mut sqlx::PgConnection,
    sql: &str,
    banca: uuid::Uuid,
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
) -> Vec<T>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin,
{
    sqlx::query_as(sql)
        .bind(banca)
        .bind(from)
        .bind(to)
        .fetch_all(conn)
        .await
        .unwrap()
}

/// Σ of the money population straight from tickets and jugadas (independent of the rollups,
/// the statements and every report): (sales, payouts, listero commission, USER commission,
/// tickets, jugadas).
const POPULATION: &str = "
    WITH pop AS (
        SELECT t.id, t.total_payout FROM tickets t JOIN sorteos s ON s.id = t.sorteo_id
        WHERE t.banca_id = $1 AND t.business_date BETWEEN $2 AND $3
          AND t.deleted_at IS NULL AND t.is_active
          AND t.status IN ('ACTIVE', 'EVALUATED', 'PAID', 'PAGADO')
          AND s.winning_number IS NOT NULL AND s.status IN ('EVALUATED', 'CLOSED')
          AND s.deleted_at IS NULL)
    SELECT (SELECT sum(j.amount) FROM jugadas j JOIN pop ON pop.id = j.ticket_id
            WHERE j.is_active AND NOT j.is_excluded AND j.deleted_at IS NULL)::text,
           (SELECT sum(total_payout) FROM pop)::text,
           (SELECT sum(j.listero_commission_amount) FROM jugadas j JOIN pop ON pop.id = j.ticket_id
            WHERE j.is_active AND NOT j.is_excluded AND j.deleted_at IS NULL)::text,
           (SELECT COALESCE(sum(j.commission_amount), 0) FROM jugadas j
            JOIN pop ON pop.id = j.ticket_id
            WHERE j.is_active AND NOT j.is_excluded AND j.deleted_at IS NULL
              AND j.commission_origin = 'USER')::text,
           (SELECT count(*) FROM pop),
           (SELECT count(*) FROM jugadas j JOIN pop ON pop.id = j.ticket_id
            WHERE j.is_active AND NOT j.is_excluded AND j.deleted_at IS NULL)";

#[tokio::test]
async fn every_report_agrees_with_the_statements_and_the_jugadas_to_the_cent() {
    let db = TestDb::migrated().await;
    let data = small_dataset(&db).await;
    let (from, to) = (data.first_day, data.last_day);
    let app = common::spawn_app(&db, &[]).await;
    let admin = fixtures::user(&app, "cross.admin", Role::Admin, None, None).await;
    let mut conn = db.connect().await;

    let (sales, payouts, listero, user_comm, tickets, jugadas): (
        String,
        String,
        String,
        String,
        i64,
        i64,
    ) = sqlx::query_as(POPULATION)
        .bind(data.banca_id)
        .bind(from)
        .bind(to)
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let (sales, payouts, listero, user_comm): (Decimal, Decimal, Decimal, Decimal) = (
        sales.parse().unwrap(),
        payouts.parse().unwrap(),
        listero.parse().unwrap(),
        user_comm.parse().unwrap(),
    );
    assert!(sales > Decimal::from(100_000), "a real dataset: {sales}");
    assert!(payouts > Decimal::ZERO && listero > Decimal::ZERO && user_comm > Decimal::ZERO);

    // The banca's statements of the range (the dataset rebuilt them).
    let (st_sales, st_payouts, st_listero, st_tickets): (String, String, String, i64) =
        sqlx::query_as(
            "SELECT sum(total_sales)::text, sum(total_payouts)::text,
                    sum(listero_commission)::text, sum(ticket_count)::bigint
             FROM account_statements
             WHERE banca_id = $1 AND dimension = 'banca' AND date BETWEEN $2 AND $3",
        )
        .bind(data.banca_id)
        .bind(from)
        .bind(to)
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(st_sales.parse::<Decimal>().unwrap(), sales);
    assert_eq!(st_payouts.parse::<Decimal>().unwrap(), payouts);
    assert_eq!(st_listero.parse::<Decimal>().unwrap(), listero);
    assert_eq!(st_tickets, tickets);

    let get = |path: String| {
        let app = &app;
        let token = admin.token.clone();
        let banca = data.banca_id;
        async move {
            let res = app
                .client
                .get(app.url(&path))
                .bearer_auth(token)
                .header("X-Active-Banca-Id", banca.to_string())
                .send()
                .await
                .unwrap();
            let status = res.status();
            let body: Value = res.json().await.unwrap();
            assert_eq!(status, 200, "{path}: {body}");
            assert_eq!(body["meta"]["source"], "primary", "{path}");
            body
        }
    };
    let range = format!("date=range&fromDate={from}&toDate={to}");

    // Cierre.
    let cierre = get(format!("/api/v1/cierres/weekly?from={from}&to={to}")).await;
    let t = &cierre["data"]["totals"];
    assert_eq!(dec(&t["totalVendida"]), sales, "cierre sales");
    assert_eq!(dec(&t["ganado"]), payouts, "cierre prizes");
    assert_eq!(dec(&t["comisionTotal"]), listero, "cierre commission");
    assert_eq!(
        dec(&t["netoDespuesComision"]),
        sales - payouts - listero,
        "cierre net"
    );
    assert_eq!(t["ticketsCount"].as_i64(), Some(tickets));
    assert_eq!(t["jugadasCount"].as_i64(), Some(jugadas));

    // Dashboard.
    let dash = get(format!("/api/v1/admin/dashboard?{range}")).await;
    let d = &dash["data"]["summary"];
    assert_eq!(dec(&d["totalSales"]), sales, "dashboard sales");
    assert_eq!(dec(&d["totalPayouts"]), payouts, "dashboard prizes");
    assert_eq!(dec(&d["commissionVentana"]), listero, "dashboard listero");
    assert_eq!(dec(&d["commissionUser"]), user_comm, "dashboard seller");
    assert_eq!(d["totalTickets"].as_i64(), Some(tickets));
    let g = get(format!("/api/v1/admin/dashboard/ganancia?{range}")).await;
    assert_eq!(dec(&g["data"]["totalSales"]), sales, "ganancia sales");
    assert_eq!(
        dec(&g["data"]["totalNet"]),
        sales - payouts - listero,
        "ganancia net"
    );

    // Ventas.
    let ventas = get(format!("/api/v1/ventas/summary?{range}")).await;
    let v = &ventas["data"];
    assert_eq!(dec(&v["ventasTotal"]), sales, "ventas sales");
    assert_eq!(dec(&v["payoutTotal"]), payouts, "ventas prizes");
    assert_eq!(dec(&v["commissionTotal"]), listero, "ventas commission");
    assert_eq!(v["ticketsCount"].as_i64(), Some(tickets));
    assert_eq!(v["jugadasCount"].as_i64(), Some(jugadas));

    // /reports: lotería performance and ventana ranking add up to the same.
    let perf = get(format!("/api/v1/reports/loterias/performance?{range}")).await;
    let perf_rows = perf["data"]["loterias"]
        .as_array()
        .unwrap_or_else(|| panic!("loterias: {}", perf["data"]));
    let perf_sales: Decimal = perf_rows.iter().map(|r| dec(&r["ventasTotal"])).sum();
    assert_eq!(perf_sales, sales, "lotería performance sales");
    let rank = get(format!("/api/v1/reports/ventanas/ranking?{range}&top=50")).await;
    let rank_rows = rank["data"]["ventanas"]
        .as_array()
        .unwrap_or_else(|| panic!("ventanas: {}", rank["data"]));
    let rank_sales: Decimal = rank_rows.iter().map(|r| dec(&r["ventasTotal"])).sum();
    assert_eq!(rank_sales, sales, "ventana ranking sales");
    assert_eq!(
        dec(&perf["data"]["summary"]["totalNeto"]),
        sales - payouts - listero
    );
    assert_eq!(
        dec(&rank["data"]["summary"]["totalNeto"]),
        sales - payouts - listero
    );

    // Per seller: the cierre equals the seller's statements; USER commissions equal the
    // snapshots.
    let by_seller = get(format!(
        "/api/v1/cierres/by-seller?from={from}&to={to}&depth=summary&top=100"
    ))
    .await;
    let sellers = by_seller["data"]["vendedores"].as_array().unwrap();
    assert_eq!(sellers.len(), data.vendedores.len());
    for s in sellers {
        let id: uuid::Uuid = s["vendedorId"].as_str().unwrap().parse().unwrap();
        let (vs, vp, vl): (String, String, String) = sqlx::query_as(
            "SELECT sum(total_sales)::text, sum(total_payouts)::text, sum(listero_commission)::text
             FROM account_statements
             WHERE dimension = 'vendedor' AND vendedor_id = $1 AND date BETWEEN $2 AND $3",
        )
        .bind(id)
        .bind(from)
        .bind(to)
        .fetch_one(&mut conn)
        .await
        .unwrap();
        assert_eq!(dec(&s["totalVendida"]), vs.parse::<Decimal>().unwrap());
        assert_eq!(dec(&s["ganado"]), vp.parse::<Decimal>().unwrap());
        assert_eq!(dec(&s["comisionTotal"]), vl.parse::<Decimal>().unwrap());
    }
    let st_user: String = sqlx::query_scalar(
        "SELECT sum(vendedor_commission)::text FROM account_statements
         WHERE banca_id = $1 AND dimension = 'vendedor' AND date BETWEEN $2 AND $3",
    )
    .bind(data.banca_id)
    .bind(from)
    .bind(to)
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(st_user.parse::<Decimal>().unwrap(), user_comm);

    // Most played numbers: the banca-wide analysis (read from `number_rollup`) and each
    // ventana's (read from `daily_number_sales`) equal the jugadas of the evaluated sorteos
    // of the period, number by number (the dataset leaves no ACTIVE ticket in the period).
    let expected: Vec<(String, String)> = range_rows(
        &mut conn,
        "SELECT j.number, sum(j.amount)::text
         FROM jugadas j JOIN tickets t ON t.id = j.ticket_id
         JOIN sorteos s ON s.id = t.sorteo_id
         WHERE t.banca_id = $1 AND t.business_date BETWEEN $2 AND $3
           AND s.status = 'EVALUATED' AND s.deleted_at IS NULL
           AND t.deleted_at IS NULL AND t.is_active
           AND t.status IN ('ACTIVE', 'EVALUATED', 'PAID', 'PAGADO')
           AND j.is_active AND NOT j.is_excluded AND j.deleted_at IS NULL
         GROUP BY j.number ORDER BY sum(j.amount) DESC, j.number",
        data.banca_id,
        from,
        to,
    )
    .await;
    assert!(!expected.is_empty());
    let nums = get(format!(
        "/api/v1/reports/tickets/numbers-analysis?{range}&top=100"
    ))
    .await;
    let got: Vec<(String, Decimal)> = nums["data"]["currentPeriod"]["numbers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["number"].as_str().unwrap().to_string(),
                dec(&n["totalAmount"]),
            )
        })
        .collect();
    let want: Vec<(String, Decimal)> = expected
        .iter()
        .map(|(n, a)| (n.clone(), a.parse::<Decimal>().unwrap()))
        .collect();
    assert_eq!(got, want, "banca-wide numbers = jugadas");
    let mut per_ventana: std::collections::BTreeMap<String, Decimal> = Default::default();
    for v in &data.ventanas {
        let nums = get(format!(
            "/api/v1/reports/tickets/numbers-analysis?{range}&top=100&ventanaId={v}"
        ))
        .await;
        for n in nums["data"]["currentPeriod"]["numbers"].as_array().unwrap() {
            *per_ventana
                .entry(n["number"].as_str().unwrap().to_string())
                .or_default() += dec(&n["totalAmount"]);
        }
    }
    let want: std::collections::BTreeMap<String, Decimal> = want.into_iter().collect();
    assert_eq!(
        per_ventana, want,
        "Σ per-ventana numbers = banca-wide numbers"
    );

    // Time analysis: banca-wide (read from `sale_hour_rollup`) and each ventana's (read from
    // the tickets) equal the sold tickets of the period, hour of sale by hour of sale and
    // weekday by weekday.
    let expected: Vec<(i32, i32, i64, String)> = range_rows(
        &mut conn,
        "SELECT extract(hour FROM t.created_at AT TIME ZONE 'America/Costa_Rica')::int,
                extract(dow FROM t.business_date)::int, count(*), sum(t.total_amount)::text
         FROM tickets t JOIN sorteos s ON s.id = t.sorteo_id
         WHERE t.banca_id = $1 AND t.business_date BETWEEN $2 AND $3
           AND s.deleted_at IS NULL AND t.deleted_at IS NULL AND t.is_active
           AND t.status IN ('ACTIVE', 'EVALUATED', 'PAID', 'PAGADO')
         GROUP BY 1, 2",
        data.banca_id,
        from,
        to,
    )
    .await;
    let mut want_hours = vec![(0i64, Decimal::ZERO); 24];
    let mut want_days = vec![(0i64, Decimal::ZERO); 7];
    for (hour, dow, n, amount) in &expected {
        let amount: Decimal = amount.parse().unwrap();
        for slot in [
            &mut want_hours[*hour as usize],
            &mut want_days[*dow as usize],
        ] {
            slot.0 += n;
            slot.1 += amount;
        }
    }
    assert!(
        want_hours.iter().filter(|h| h.0 > 0).count() > 1,
        "sales in several hours"
    );
    let slots = |v: &Value, key: &str| -> Vec<(i64, Decimal)> {
        v["data"][key]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| (s["count"].as_i64().unwrap(), dec(&s["amount"])))
            .collect()
    };
    let path = format!("/api/v1/reports/tickets/time-analysis?{range}");
    let banca_wide = get(path.clone()).await;
    assert_eq!(
        slots(&banca_wide, "byHour"),
        want_hours,
        "time analysis by hour"
    );
    assert_eq!(
        slots(&banca_wide, "byDayOfWeek"),
        want_days,
        "time analysis by weekday"
    );
    let mut sum_hours = vec![(0i64, Decimal::ZERO); 24];
    for v in &data.ventanas {
        let one = get(format!("{path}&ventanaId={v}")).await;
        for (acc, (n, a)) in sum_hours.iter_mut().zip(slots(&one, "byHour")) {
            acc.0 += n;
            acc.1 += a;
        }
    }
    assert_eq!(
        sum_hours, want_hours,
        "Σ per-ventana time analysis = tickets"
    );
    conn.close().await.ok();
}
