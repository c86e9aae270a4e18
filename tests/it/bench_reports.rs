//! The report dataset of bench scenario r (issue 10) on a small scale: what it writes obeys the
//! sale path's rules, its money agrees between jugadas, rollups and statements to the cent, and
//! a seed always gives the same figures. [`small_dataset`] is for other report tests.

use banca::bench::dataset::{self, Dataset, DatasetSpec};
use rust_decimal::Decimal;
use sqlx::PgPool;

use crate::common::TestDb;

/// The small dataset's shape: 20,000 jugadas, 10 days, 2 ventanas, 10 vendedores, 2 loterías.
pub(crate) fn small_spec(seed: u64) -> DatasetSpec {
    DatasetSpec {
        jugadas: 20_000,
        days: 10,
        ventanas: 2,
        vendedores: 10,
        loterias: 2,
        seed,
        timezone: chrono_tz::America::Costa_Rica,
    }
}

/// Generates the small dataset (seed 7) into `db` (migrated): 60 evaluated sorteos over the 10
/// business days ending yesterday, statements rebuilt. Logins use
/// [`dataset::DATASET_PASSWORD`].
pub(crate) async fn small_dataset(db: &TestDb) -> Dataset {
    let pool = PgPool::connect(&db.url).await.unwrap();
    let d = dataset::generate(&pool, &small_spec(7), |l| eprintln!("dataset: {l}"))
        .await
        .expect("dataset generates");
    pool.close().await;
    d
}

/// Money of the population, read three independent ways.
#[derive(Debug, PartialEq, Eq)]
struct Sums {
    tickets: i64,
    jugadas: i64,
    cancelled: i64,
    winners: i64,
    paid: i64,
    // From the jugadas of the statement population.
    sales: Decimal,
    payouts: Decimal,
    listero: Decimal,
    vendedor_user: Decimal,
    commission_all: Decimal,
    // From sales_rollup / ticket_rollup.
    rollup_sales: Decimal,
    rollup_payouts: Decimal,
    rollup_listero: Decimal,
    rollup_vendedor: Decimal,
    rollup_commission: Decimal,
    ticket_rollup_sales: Decimal,
    ticket_rollup_payouts: Decimal,
    ticket_rollup_tickets: i64,
    // From the banca-level statements, and the vendedor-level ones.
    stmt_sales: Decimal,
    stmt_payouts: Decimal,
    stmt_listero: Decimal,
    stmt_tickets: i64,
    stmt_vendedor_commission: Decimal,
}

async fn sums(pool: &PgPool, banca: uuid::Uuid) -> Sums {
    let row: (i64, i64, i64, i64, i64) = sqlx::query_as(
        "SELECT count(*), (SELECT count(*) FROM jugadas WHERE banca_id = $1),
                count(*) FILTER (WHERE status = 'CANCELLED'), count(*) FILTER (WHERE is_winner),
                count(*) FILTER (WHERE status = 'PAID')
         FROM tickets WHERE banca_id = $1",
    )
    .bind(banca)
    .fetch_one(pool)
    .await
    .unwrap();
    // The population of domain-money §8.1, written out here independently of the rollups.
    let pop: (Decimal, Decimal, Decimal, Decimal, Decimal) = sqlx::query_as(
        "SELECT COALESCE(sum(j.amount), 0), COALESCE(sum(j.payout) FILTER (WHERE j.is_winner), 0),
                COALESCE(sum(j.listero_commission_amount), 0),
                COALESCE(sum(j.commission_amount) FILTER (WHERE j.commission_origin = 'USER'), 0),
                COALESCE(sum(j.commission_amount), 0)
         FROM jugadas j JOIN tickets t ON t.id = j.ticket_id JOIN sorteos s ON s.id = t.sorteo_id
         WHERE t.banca_id = $1 AND t.deleted_at IS NULL AND t.is_active
           AND t.status IN ('ACTIVE', 'EVALUATED', 'PAID', 'PAGADO')
           AND s.winning_number IS NOT NULL AND s.status IN ('EVALUATED', 'CLOSED')
           AND s.deleted_at IS NULL
           AND j.is_active AND NOT j.is_excluded AND j.deleted_at IS NULL",
    )
    .bind(banca)
    .fetch_one(pool)
    .await
    .unwrap();
    let roll: (Decimal, Decimal, Decimal, Decimal, Decimal) = sqlx::query_as(
        "SELECT COALESCE(sum(total_sales), 0), COALESCE(sum(total_payouts), 0),
                COALESCE(sum(listero_commission), 0), COALESCE(sum(vendedor_commission), 0),
                COALESCE(sum(commission_total), 0)
         FROM sales_rollup WHERE banca_id = $1",
    )
    .bind(banca)
    .fetch_one(pool)
    .await
    .unwrap();
    let troll: (Decimal, Decimal, i64) = sqlx::query_as(
        "SELECT COALESCE(sum(total_sales), 0), COALESCE(sum(total_payouts), 0),
                COALESCE(sum(ticket_count), 0)::bigint
         FROM ticket_rollup WHERE banca_id = $1",
    )
    .bind(banca)
    .fetch_one(pool)
    .await
    .unwrap();
    let stmt: (Decimal, Decimal, Decimal, i64) = sqlx::query_as(
        "SELECT COALESCE(sum(total_sales), 0), COALESCE(sum(total_payouts), 0),
                COALESCE(sum(listero_commission), 0), COALESCE(sum(ticket_count), 0)::bigint
         FROM account_statements WHERE banca_id = $1 AND dimension = 'banca'",
    )
    .bind(banca)
    .fetch_one(pool)
    .await
    .unwrap();
    let stmt_vend: Decimal = sqlx::query_scalar(
        "SELECT COALESCE(sum(vendedor_commission), 0) FROM account_statements
         WHERE banca_id = $1 AND dimension = 'vendedor'",
    )
    .bind(banca)
    .fetch_one(pool)
    .await
    .unwrap();
    Sums {
        tickets: row.0,
        jugadas: row.1,
        cancelled: row.2,
        winners: row.3,
        paid: row.4,
        sales: pop.0,
        payouts: pop.1,
        listero: pop.2,
        vendedor_user: pop.3,
        commission_all: pop.4,
        rollup_sales: roll.0,
        rollup_payouts: roll.1,
        rollup_listero: roll.2,
        rollup_vendedor: roll.3,
        rollup_commission: roll.4,
        ticket_rollup_sales: troll.0,
        ticket_rollup_payouts: troll.1,
        ticket_rollup_tickets: troll.2,
        stmt_sales: stmt.0,
        stmt_payouts: stmt.1,
        stmt_listero: stmt.2,
        stmt_tickets: stmt.3,
        stmt_vendedor_commission: stmt_vend,
    }
}

async fn count(pool: &PgPool, sql: &str, banca: uuid::Uuid) -> i64 {
    sqlx::query_scalar(sql)
        .bind(banca)
        .fetch_one(pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

#[tokio::test]
async fn small_dataset_is_consistent_with_rollups_and_statements_and_deterministic() {
    let db = TestDb::migrated().await;
    let d = small_dataset(&db).await;
    let pool = PgPool::connect(&db.url).await.unwrap();
    let b = d.banca_id;

    // Shape.
    assert_eq!(d.jugadas, 20_000);
    assert_eq!(
        (d.ventanas.len(), d.vendedores.len(), d.loterias.len()),
        (2, 10, 2)
    );
    assert_eq!(d.sorteos.len(), 2 * 3 * 10, "3 draws a day per lotería");
    assert_eq!((d.last_day - d.first_day).num_days(), 9);
    let today =
        banca::domain::schedule::local_date(chrono::Utc::now(), chrono_tz::America::Costa_Rica);
    assert_eq!(d.last_day, today.pred_opt().unwrap());
    assert!(
        d.tickets >= 20_000 / 7 && d.tickets <= 20_000 / 3 + 1,
        "{}",
        d.tickets
    );
    assert!(d.cancelled_tickets > 0 && d.cancelled_tickets < d.tickets / 20);
    assert!(d.winning_tickets > 0 && d.paid_tickets > 0 && d.paid_tickets < d.winning_tickets);

    let s = sums(&pool, b).await;
    assert_eq!(s.jugadas, 20_000);
    assert_eq!(s.tickets, d.tickets);
    assert!(
        s.sales > Decimal::ZERO && s.payouts > Decimal::ZERO,
        "{s:?}"
    );

    // Σ jugadas of the population = Σ rollups = Σ banca statements, to the cent.
    assert_eq!(s.sales, s.rollup_sales, "{s:?}");
    assert_eq!(s.sales, s.ticket_rollup_sales, "{s:?}");
    assert_eq!(s.sales, s.stmt_sales, "{s:?}");
    assert_eq!(s.payouts, s.rollup_payouts, "{s:?}");
    assert_eq!(s.payouts, s.ticket_rollup_payouts, "{s:?}");
    assert_eq!(s.payouts, s.stmt_payouts, "{s:?}");
    assert_eq!(s.listero, s.rollup_listero, "{s:?}");
    assert_eq!(s.listero, s.stmt_listero, "{s:?}");
    assert_eq!(s.vendedor_user, s.rollup_vendedor, "{s:?}");
    assert_eq!(s.vendedor_user, s.stmt_vendedor_commission, "{s:?}");
    assert_eq!(s.commission_all, s.rollup_commission, "{s:?}");
    assert!(s.vendedor_user > Decimal::ZERO && s.vendedor_user < s.commission_all);
    assert_eq!(s.ticket_rollup_tickets, s.tickets - s.cancelled);
    assert_eq!(s.stmt_tickets, s.tickets - s.cancelled);
    // Payouts: Σ winning tickets' total_payout = Σ winning jugadas' payout.
    let ticket_payouts: Decimal = sqlx::query_scalar(
        "SELECT COALESCE(sum(total_payout), 0) FROM tickets WHERE banca_id = $1",
    )
    .bind(b)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(ticket_payouts, s.payouts);

    // Ticket totals = Σ their jugadas (cancelled tickets too).
    let bad = count(
        &pool,
        "SELECT count(*) FROM tickets t JOIN (
             SELECT ticket_id, sum(amount) a, sum(commission_amount) c,
                    sum(listero_commission_amount) l, count(*) n
             FROM jugadas GROUP BY ticket_id) j ON j.ticket_id = t.id
         WHERE t.banca_id = $1 AND (t.total_amount <> j.a OR t.total_commission <> j.c
                                    OR t.total_listero_commission <> j.l
                                    OR j.n NOT BETWEEN 1 AND 7)",
        b,
    )
    .await;
    assert_eq!(bad, 0, "tickets whose totals differ from their jugadas");
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM tickets t WHERE t.banca_id = $1
             AND NOT EXISTS (SELECT 1 FROM jugadas j WHERE j.ticket_id = t.id)",
            b
        )
        .await,
        0
    );

    // Business date = the draw's date in Costa Rica; the ticket was sold that day, before the
    // draw; lotería, banca and sorteo copied onto the jugadas.
    let bad = count(
        &pool,
        "SELECT count(*) FROM tickets t JOIN sorteos s ON s.id = t.sorteo_id
         WHERE t.banca_id = $1
           AND (t.business_date <> (s.scheduled_at AT TIME ZONE 'America/Costa_Rica')::date
                OR (t.created_at AT TIME ZONE 'America/Costa_Rica')::date <> t.business_date
                OR t.created_at >= s.scheduled_at OR t.loteria_id <> s.loteria_id
                OR s.banca_id <> t.banca_id)",
        b,
    )
    .await;
    assert_eq!(bad, 0, "tickets off their sorteo's business date");
    let bad = count(
        &pool,
        "SELECT count(*) FROM jugadas j JOIN tickets t ON t.id = j.ticket_id
         WHERE t.banca_id = $1 AND (j.banca_id <> t.banca_id OR j.sorteo_id <> t.sorteo_id)",
        b,
    )
    .await;
    assert_eq!(
        bad, 0,
        "jugadas whose banca/sorteo differ from their ticket's"
    );
    // A seller sells for its own ventana.
    let bad = count(
        &pool,
        "SELECT count(*) FROM tickets t JOIN users u ON u.id = t.vendedor_id
         WHERE t.banca_id = $1 AND (u.ventana_id <> t.ventana_id OR u.role <> 'VENDEDOR'
                                    OR t.created_by <> u.id)",
        b,
    )
    .await;
    assert_eq!(bad, 0);

    // Sale rules on the lines: amounts > 0 with 2 decimals and ≥ the minimum bet; numbers two
    // digits and distinct among a ticket's NUMERO lines; a REVENTADO has a NUMERO on its number
    // with at least its amount, no multiplier at sale; NUMERO lines carry an 80x/90x multiplier
    // of the lotería; commissions are round2(amount × percent / 100).
    let bad = count(
        &pool,
        "SELECT count(*) FROM jugadas j JOIN tickets t ON t.id = j.ticket_id
         WHERE t.banca_id = $1 AND (
             j.amount < 100 OR j.amount <> round(j.amount, 2) OR j.number !~ '^[0-9]{2}$'
             OR j.commission_amount <> round(j.amount * j.commission_percent / 100, 2)
             OR j.commission_origin NOT IN ('USER', 'VENTANA')
             OR (j.type = 'NUMERO' AND (j.reventado_number IS NOT NULL OR NOT EXISTS (
                     SELECT 1 FROM loteria_multipliers m WHERE m.id = j.multiplier_id
                       AND m.loteria_id = t.loteria_id AND m.kind = 'NUMERO'
                       AND m.value_x = j.final_multiplier_x AND m.value_x IN (80, 90))))
             OR (j.type = 'REVENTADO' AND (j.reventado_number IS DISTINCT FROM j.number
                 OR j.amount > (SELECT sum(n.amount) FROM jugadas n WHERE n.ticket_id = j.ticket_id
                                AND n.type = 'NUMERO' AND n.number = j.number)
                 OR (NOT j.is_winner AND (j.final_multiplier_x <> 0 OR j.multiplier_id IS NOT NULL)))))",
        b,
    )
    .await;
    assert_eq!(bad, 0, "jugadas breaking a sale rule");
    let dup = count(
        &pool,
        "SELECT count(*) FROM (SELECT 1 FROM jugadas j JOIN tickets t ON t.id = j.ticket_id
         WHERE t.banca_id = $1 AND j.type = 'NUMERO' GROUP BY j.ticket_id, j.number
         HAVING count(*) > 1) d",
        b,
    )
    .await;
    assert_eq!(dup, 0);
    let reventados = count(
        &pool,
        "SELECT count(*) FROM jugadas WHERE banca_id = $1 AND type = 'REVENTADO'",
        b,
    )
    .await;
    assert!(reventados > 500, "{reventados} REVENTADO lines");
    // Every third vendedor has a USER policy; the rest take their ventana's percent.
    let user_origin_sellers = count(
        &pool,
        "SELECT count(DISTINCT t.vendedor_id) FROM jugadas j JOIN tickets t ON t.id = j.ticket_id
         WHERE t.banca_id = $1 AND j.commission_origin = 'USER'",
        b,
    )
    .await;
    assert_eq!(user_origin_sellers, 3);

    // Ticket numbers: T<YYMMDD>-<seq>-<CC> with valid check digits and the business date.
    let numbers: Vec<(String, chrono::NaiveDate)> =
        sqlx::query_as("SELECT ticket_number, business_date FROM tickets WHERE banca_id = $1")
            .bind(b)
            .fetch_all(&pool)
            .await
            .unwrap();
    for (n, bd) in &numbers {
        let parsed = banca::domain::ticket_number::parse(n).unwrap_or_else(|e| panic!("{n}: {e}"));
        assert_eq!(parsed.date, *bd, "{n}");
    }

    // Cancelled tickets as a cancellation leaves them; every live ticket evaluated or paid.
    let bad = count(
        &pool,
        "SELECT count(*) FROM tickets t WHERE t.banca_id = $1 AND (
             (t.status = 'CANCELLED' AND (t.is_active OR t.deleted_at IS NULL
                  OR t.cancelled_at IS NULL OR t.cancelled_by IS NULL OR t.is_winner
                  OR EXISTS (SELECT 1 FROM jugadas j WHERE j.ticket_id = t.id AND j.is_active)))
             OR (t.status <> 'CANCELLED' AND t.status NOT IN ('EVALUATED', 'PAID'))
             OR (t.status = 'PAID' AND (t.total_paid <> t.total_payout OR t.remaining_amount <> 0
                  OR NOT t.is_winner))
             OR (t.status = 'EVALUATED' AND t.remaining_amount <> t.total_payout))",
        b,
    )
    .await;
    assert_eq!(bad, 0, "tickets in an impossible state");
    let unpaid_payments = count(
        &pool,
        "SELECT count(*) FROM tickets t WHERE t.banca_id = $1 AND t.status = 'PAID'
         AND (SELECT COALESCE(sum(amount_paid), 0) FROM ticket_payments p
              WHERE p.ticket_id = t.id AND NOT p.is_reversed) <> t.total_paid",
        b,
    )
    .await;
    assert_eq!(unpaid_payments, 0);
    let open = count(
        &pool,
        "SELECT count(*) FROM sorteos WHERE banca_id = $1
         AND (status <> 'EVALUATED' OR winning_number IS NULL)",
        b,
    )
    .await;
    assert_eq!(open, 0, "every sorteo evaluated");
    let extra = count(
        &pool,
        "SELECT count(*) FROM sorteos WHERE banca_id = $1 AND extra_multiplier_id IS NOT NULL",
        b,
    )
    .await;
    assert!(
        extra > 0 && extra < 60,
        "{extra} sorteos with a REVENTADO multiplier"
    );

    // Deterministic: the same seed in another database gives the same figures.
    let db2 = TestDb::migrated().await;
    let d2 = small_dataset(&db2).await;
    let pool2 = PgPool::connect(&db2.url).await.unwrap();
    let s2 = sums(&pool2, d2.banca_id).await;
    assert_eq!(s, s2);
    assert_eq!(
        (
            d.tickets,
            d.cancelled_tickets,
            d.winning_tickets,
            d.paid_tickets
        ),
        (
            d2.tickets,
            d2.cancelled_tickets,
            d2.winning_tickets,
            d2.paid_tickets
        )
    );
    // …and another seed gives other figures.
    let d3 = dataset::generate(&pool2, &small_spec(8), |_| {})
        .await
        .unwrap();
    let s3 = sums(&pool2, d3.banca_id).await;
    assert_ne!(s.sales, s3.sales);
    assert_eq!(s3.sales, s3.stmt_sales);
    pool.close().await;
    pool2.close().await;
}

/// Writes issue 10's full dataset (1,000,000 jugadas) into the database named by
/// `BANCA_DATASET_DB` on the test server, migrated first, and keeps it: a database to read
/// query plans on (`cargo test --test it -- --ignored bench_reports::full_dataset`).
#[tokio::test]
#[ignore = "writes a 1,000,000-jugada database that is kept; run by hand"]
async fn full_dataset_into_a_kept_database() {
    let name = std::env::var("BANCA_DATASET_DB").expect("BANCA_DATASET_DB names the database");
    let mut url = url::Url::parse(&crate::common::admin_url()).unwrap();
    let admin = PgPool::connect(url.as_str()).await.unwrap();
    sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\""))
        .execute(&admin)
        .await
        .unwrap();
    sqlx::query(&format!("CREATE DATABASE \"{name}\""))
        .execute(&admin)
        .await
        .unwrap();
    url.set_path(&name);
    let pool = PgPool::connect(url.as_str()).await.unwrap();
    banca::db::migrate::run(&pool).await.unwrap();
    let d = dataset::generate(&pool, &DatasetSpec::issue10(1_000_000), |l| {
        eprintln!("dataset: {l}")
    })
    .await
    .unwrap();
    assert_eq!(d.jugadas, 1_000_000);
}
