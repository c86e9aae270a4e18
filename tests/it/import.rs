//! `banca import --from <URL>` (docs/migrating.md) against real databases: a source made from
//! `tests/fixtures/legacy/` (the existing system's Prisma schema and representative data) and
//! a fresh Banca database. Every count and money sum matches, the rounding report lists
//! exactly the values that were not whole cents, a re-run imports nothing and takes legacy
//! changes, a dry run writes nothing, derived data is rebuilt (also after an interrupted run),
//! legacy users log in with their old password (upgraded to argon2id), legacy tickets are found
//! and paid by their printed number, and a cierre over the imported days equals the legacy sums.
//!
//! [`imported_world`] is the imported database other suites run a server against.

use std::collections::BTreeSet;
use std::str::FromStr;

use banca::import::{self, Options, Outcome};
use reqwest::{Method, StatusCode};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use sqlx::{Connection, PgConnection, PgPool};
use uuid::Uuid;

use crate::common::{self, banca_command, TestDb};
use crate::fixtures::call;

/// Every legacy user's password (see the header of tests/fixtures/legacy/data.sql).
pub const LEGACY_PASSWORD: &str = "Legado-2024!";

/// One login per role of the legacy data (all active).
pub const LEGACY_LOGINS: &[(&str, &str)] = &[
    ("admin", "ADMIN"),
    ("banca.central", "BANCA"),
    ("listero.centro", "VENTANA"),
    ("vende.ana", "VENDEDOR"),
];

pub const BANCA_CENTRAL: Uuid = Uuid::from_u128(0xa0000000_0000_4000_8000_000000000001);
pub const BANCA_NORTE: Uuid = Uuid::from_u128(0xa0000000_0000_4000_8000_000000000002);
pub const VENTANA_CENTRO: Uuid = Uuid::from_u128(0xa1000000_0000_4000_8000_000000000001);
pub const VENDE_ANA: Uuid = Uuid::from_u128(0xc0000000_0000_4000_8000_000000000007);
pub const TICA: Uuid = Uuid::from_u128(0xd0000000_0000_4000_8000_000000000001);
pub const TICA_BASE: Uuid = Uuid::from_u128(0xd1000000_0000_4000_8000_000000000001);
/// Special tickets: S1 (33.333333 on the winning 42, its payment reversed), S2 (an unpaid
/// winner: 100.005 on 17 at 85× plus REVENTADO), S3 (unpadded "7", no business date).
const S1: Uuid = Uuid::from_u128(0xf0000000_0000_4000_8000_000000000001);
const S2: Uuid = Uuid::from_u128(0xf0000000_0000_4000_8000_000000000002);
const S3: Uuid = Uuid::from_u128(0xf0000000_0000_4000_8000_000000000003);

/// A database holding the existing system's schema and the fixture data (dropped with it).
pub struct LegacyDb {
    pub db: TestDb,
}

impl LegacyDb {
    pub async fn load() -> LegacyDb {
        let db = TestDb::empty().await;
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/legacy");
        let schema = std::fs::read_to_string(format!("{dir}/schema.sql")).unwrap();
        let data = std::fs::read_to_string(format!("{dir}/data.sql")).unwrap();
        let mut conn = db.connect().await;
        // One session: data.sql uses temporary helpers.
        sqlx::raw_sql(&format!("{schema}\n{data}"))
            .execute(&mut conn)
            .await
            .expect("the legacy fixture loads");
        conn.close().await.ok();
        LegacyDb { db }
    }

    pub fn url(&self) -> &str {
        &self.db.url
    }

    pub async fn connect(&self) -> PgConnection {
        self.db.connect().await
    }
}

/// A legacy login.
#[derive(Debug, Clone)]
pub struct LegacyLogin {
    pub username: &'static str,
    pub role: &'static str,
    pub password: &'static str,
}

/// A migrated Banca database loaded from the legacy fixture by `banca import`, with the
/// legacy logins (whose bcrypt hashes were kept) and the ids a client flow needs.
pub struct ImportedWorld {
    pub db: TestDb,
    pub legacy: LegacyDb,
    pub outcome: Outcome,
    pub logins: Vec<LegacyLogin>,
    pub banca_id: Uuid,
    /// TICA's sorteo of tomorrow 13:00, OPEN with a few tickets already sold.
    pub open_sorteo: Uuid,
    pub loteria_id: Uuid,
    /// TICA's "Base" NUMERO multiplier (80×).
    pub multiplier_id: Uuid,
}

/// The fixture imported into a fresh Banca database.
pub async fn imported_world() -> ImportedWorld {
    let legacy = LegacyDb::load().await;
    let db = TestDb::empty().await;
    let outcome = run(&db, &legacy, |_| {}).await;
    assert!(outcome.verified(), "{}", import::report::summary(&outcome));
    let mut conn = db.connect().await;
    let open_sorteo: Uuid = sqlx::query_scalar(
        "SELECT id FROM sorteos WHERE loteria_id = $1 AND status = 'OPEN' AND deleted_at IS NULL
         ORDER BY scheduled_at LIMIT 1",
    )
    .bind(TICA)
    .fetch_one(&mut conn)
    .await
    .unwrap();
    ImportedWorld {
        db,
        legacy,
        outcome,
        logins: LEGACY_LOGINS
            .iter()
            .map(|&(username, role)| LegacyLogin {
                username,
                role,
                password: LEGACY_PASSWORD,
            })
            .collect(),
        banca_id: BANCA_CENTRAL,
        open_sorteo,
        loteria_id: TICA,
        multiplier_id: TICA_BASE,
    }
}

fn options(legacy: &LegacyDb) -> Options {
    Options::new(legacy.url(), chrono_tz::America::Costa_Rica)
}

async fn pool(db: &TestDb) -> PgPool {
    PgPool::connect(&db.url).await.unwrap()
}

/// Runs the import of `legacy` into `db` with options changed by `f`.
async fn run(db: &TestDb, legacy: &LegacyDb, f: impl FnOnce(&mut Options)) -> Outcome {
    let mut opts = options(legacy);
    opts.batch_size = 37; // several pages per table
    f(&mut opts);
    let p = pool(db).await;
    let out = import::run(&p, &opts).await.expect("import runs");
    p.close().await;
    out
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

async fn count(conn: &mut PgConnection, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(conn).await.unwrap()
}

/// Every legacy money value (and 4-decimal multiplier or percentage) the import reads that is
/// not already at its scale, found in SQL with `%` (independently of the importer).
const NOT_WHOLE: &str = "
    WITH v(t, c, id, x, scale) AS (
        SELECT 'Banca', 'defaultMinBet', id, \"defaultMinBet\", 0.01 FROM \"Banca\"
        UNION ALL SELECT 'Ventana', 'commissionMarginX', id, \"commissionMarginX\", 0.0001 FROM \"Ventana\"
        UNION ALL SELECT 'LoteriaMultiplier', 'valueX', id, \"valueX\", 0.0001 FROM \"LoteriaMultiplier\"
        UNION ALL SELECT 'BancaLoteriaSetting', 'baseMultiplierX', id, \"baseMultiplierX\", 0.0001
                  FROM \"BancaLoteriaSetting\" WHERE \"bancaId\" IS NOT NULL
        UNION ALL SELECT 'MultiplierOverride', 'baseMultiplierX', id, \"baseMultiplierX\", 0.0001 FROM \"MultiplierOverride\"
        UNION ALL SELECT 'Sorteo', 'extraMultiplierX', id, \"extraMultiplierX\", 0.0001 FROM \"Sorteo\"
        UNION ALL SELECT 'RestrictionRule', 'maxAmount', id, \"maxAmount\", 0.01 FROM \"RestrictionRule\"
        UNION ALL SELECT 'RestrictionRule', 'maxTotal', id, \"maxTotal\", 0.01 FROM \"RestrictionRule\"
        UNION ALL SELECT 'RestrictionRule', 'baseAmount', id, \"baseAmount\", 0.01 FROM \"RestrictionRule\"
        UNION ALL SELECT 'RestrictionRule', 'salesPercentage', id, \"salesPercentage\", 0.01 FROM \"RestrictionRule\"
        UNION ALL SELECT 'Ticket', 'totalAmount', id, \"totalAmount\", 0.01 FROM \"Ticket\"
        UNION ALL SELECT 'Ticket', 'totalCommission', id, \"totalCommission\", 0.01 FROM \"Ticket\"
        UNION ALL SELECT 'Ticket', 'totalListeroCommission', id, \"totalListeroCommission\", 0.01 FROM \"Ticket\"
        UNION ALL SELECT 'Ticket', 'totalPayout', id, \"totalPayout\", 0.01 FROM \"Ticket\"
        UNION ALL SELECT 'Ticket', 'totalPaid', id, \"totalPaid\", 0.01 FROM \"Ticket\"
        UNION ALL SELECT 'Ticket', 'remainingAmount', id, \"remainingAmount\", 0.01 FROM \"Ticket\"
        UNION ALL SELECT 'Jugada', 'amount', id, amount, 0.01 FROM \"Jugada\"
        UNION ALL SELECT 'Jugada', 'payout', id, payout, 0.01 FROM \"Jugada\"
        UNION ALL SELECT 'Jugada', 'finalMultiplierX', id, \"finalMultiplierX\", 0.0001 FROM \"Jugada\"
        UNION ALL SELECT 'Jugada', 'commissionPercent', id, \"commissionPercent\", 0.0001 FROM \"Jugada\"
        UNION ALL SELECT 'Jugada', 'commissionAmount', id, \"commissionAmount\", 0.01 FROM \"Jugada\"
        UNION ALL SELECT 'Jugada', 'listeroCommissionAmount', id, \"listeroCommissionAmount\", 0.01 FROM \"Jugada\"
        UNION ALL SELECT 'TicketPayment', 'amountPaid', id, \"amountPaid\", 0.01 FROM \"TicketPayment\"
        UNION ALL SELECT 'TicketPayment', 'remainingAmount', id, \"remainingAmount\", 0.01 FROM \"TicketPayment\"
        UNION ALL SELECT 'AccountStatement', f, id, x, 0.01 FROM \"AccountStatement\" s
                  CROSS JOIN LATERAL (VALUES ('totalSales', \"totalSales\"), ('totalPayouts', \"totalPayouts\"),
                      ('listeroCommission', \"listeroCommission\"), ('vendedorCommission', \"vendedorCommission\"),
                      ('balance', balance), ('totalPaid', \"totalPaid\"), ('totalCollected', \"totalCollected\"),
                      ('remainingBalance', \"remainingBalance\"), ('accumulatedBalance', \"accumulatedBalance\")) AS m(f, x)
        UNION ALL SELECT 'AccountPayment', 'amount', id, amount, 0.01 FROM \"AccountPayment\"
                  WHERE COALESCE(notes, '') NOT LIKE '%Saldo arrastrado del mes anterior%')
    SELECT t, c, id::text, x::text::numeric FROM v
    WHERE x IS NOT NULL AND x::text::numeric % scale <> 0";

#[tokio::test]
async fn the_fixture_imports_with_every_count_and_sum_matching() {
    let legacy = LegacyDb::load().await;
    let db = TestDb::empty().await;
    let report = tempfile::NamedTempFile::new().unwrap();
    let out = run(&db, &legacy, |o| {
        o.rounding_report = Some(report.path().to_path_buf())
    })
    .await;
    let summary = import::report::summary(&out);
    assert!(out.verified(), "{summary}");
    let v = out.verification.as_ref().unwrap();
    assert_eq!(v.counts.len(), 17);
    for c in &v.counts {
        assert!(c.expected > 0, "{c:?}");
        assert_eq!(c.expected, c.present, "{c:?}");
    }
    assert!(v.groups > 300, "{}", v.groups);
    assert!(v.mismatches.is_empty());
    // The migrations were applied first (the target was empty).
    assert!(out.migrations_applied > 10);
    assert_eq!(out.updated(), 0);
    assert_eq!(out.unchanged(), 0);
    assert!(summary.contains("verification passed"), "{summary}");

    let mut src = legacy.connect().await;
    let mut dst = db.connect().await;
    // Sorteos with a result take their last update as their evaluation time (expiredOnly).
    let (with_result, stamped): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE winning_number IS NOT NULL
                                   AND status IN ('EVALUATED', 'CLOSED')),
                count(*) FILTER (WHERE evaluated_at = updated_at)
         FROM sorteos",
    )
    .fetch_one(&mut dst)
    .await
    .unwrap();
    assert!(with_result > 0);
    assert_eq!(with_result, stamped);
    // Every legacy row is there, except the rows left out by rule.
    for (legacy_sql, banca_sql) in [
        (
            "SELECT count(*) FROM \"Ticket\"",
            "SELECT count(*) FROM tickets",
        ),
        (
            "SELECT count(*) FROM \"Jugada\"",
            "SELECT count(*) FROM jugadas",
        ),
        (
            "SELECT count(*) FROM \"User\"",
            "SELECT count(*) FROM users",
        ),
        (
            "SELECT count(*) FROM \"Sorteo\"",
            "SELECT count(*) FROM sorteos",
        ),
        (
            "SELECT count(*) FROM \"TicketPayment\"",
            "SELECT count(*) FROM ticket_payments",
        ),
        (
            "SELECT count(*) FROM \"AccountStatement\"",
            "SELECT count(*) FROM account_statements",
        ),
        (
            "SELECT count(*) - 1 FROM \"AccountPayment\"",
            "SELECT count(*) FROM account_payments",
        ),
        (
            "SELECT count(*) - 1 FROM \"BancaLoteriaSetting\"",
            "SELECT count(*) FROM banca_loteria_settings",
        ),
        (
            "SELECT count(*) FROM \"ActivityLog\"",
            "SELECT count(*) FROM activity_logs",
        ),
    ] {
        assert_eq!(
            count(&mut src, legacy_sql).await,
            count(&mut dst, banca_sql).await,
            "{banca_sql}"
        );
    }

    // Money sums, directly: Σ rounded legacy jugada amounts per business day = Banca's.
    type DaySum = (chrono::NaiveDate, Decimal, Decimal);
    let legacy_days: Vec<DaySum> = sqlx::query_as(
        "SELECT COALESCE(t.\"businessDate\", (t.\"createdAt\" - interval '6 hours')::date) AS d,
                sum(round(j.amount::text::numeric, 2)),
                COALESCE(sum(round(j.payout::text::numeric, 2)) FILTER (WHERE j.\"isWinner\"), 0)
         FROM \"Jugada\" j JOIN \"Ticket\" t ON t.id = j.\"ticketId\"
         GROUP BY 1 ORDER BY 1",
    )
    .fetch_all(&mut src)
    .await
    .unwrap();
    let banca_days: Vec<DaySum> = sqlx::query_as(
        "SELECT t.business_date, sum(j.amount),
                COALESCE(sum(j.payout) FILTER (WHERE j.is_winner), 0)
         FROM jugadas j JOIN tickets t ON t.id = j.ticket_id GROUP BY 1 ORDER BY 1",
    )
    .fetch_all(&mut dst)
    .await
    .unwrap();
    assert_eq!(legacy_days, banca_days);
    assert_eq!(legacy_days.len(), 6, "D−5 … D−1 and tomorrow");

    // A few figures by hand.
    let j: (Decimal, Option<Decimal>, String) = sqlx::query_as(
        "SELECT amount, payout, number FROM jugadas WHERE id = 'f1000000-0000-4000-8000-000000000011'",
    )
    .fetch_one(&mut dst)
    .await
    .unwrap();
    assert_eq!(j, (dec("33.33"), Some(dec("2666.67")), "42".into()));
    let j: (Decimal, Option<Decimal>) = sqlx::query_as(
        "SELECT amount, payout FROM jugadas WHERE id = 'f1000000-0000-4000-8000-000000000021'",
    )
    .fetch_one(&mut dst)
    .await
    .unwrap();
    assert_eq!(j, (dec("100.01"), Some(dec("8500.43"))));
    // S3: "7" became "07"; no businessDate → the business day of its creation (D−2).
    let s3: (String, chrono::NaiveDate, Decimal) = sqlx::query_as(
        "SELECT j.number, t.business_date, j.amount FROM jugadas j JOIN tickets t ON t.id = j.ticket_id
         WHERE t.id = $1 AND j.position = 0",
    )
    .bind(S3)
    .fetch_one(&mut dst)
    .await
    .unwrap();
    let d2: chrono::NaiveDate =
        sqlx::query_scalar("SELECT (now() AT TIME ZONE 'America/Costa_Rica')::date - 2")
            .fetch_one(&mut dst)
            .await
            .unwrap();
    assert_eq!(s3, ("07".into(), d2, dec("12.35")));
    assert_eq!(out.numbers_padded, 2, "the jugada \"7\" and the rule \"7\"");
    // Ticket numbers exactly as printed, in both legacy formats.
    let numbers: Vec<String> =
        sqlx::query_scalar("SELECT t.ticket_number FROM tickets t ORDER BY t.ticket_number")
            .fetch_all(&mut dst)
            .await
            .unwrap();
    let legacy_numbers: Vec<String> =
        sqlx::query_scalar("SELECT \"ticketNumber\" FROM \"Ticket\" ORDER BY \"ticketNumber\"")
            .fetch_all(&mut src)
            .await
            .unwrap();
    assert_eq!(numbers, legacy_numbers);
    assert!(numbers.iter().any(|n| n.ends_with("-0A1B2C-33")));

    // Users: bcrypt kept; the BANCA user with a stray ventana has none in Banca.
    assert_eq!(
        count(
            &mut dst,
            "SELECT count(*) FROM users WHERE password_hash LIKE '$2a$10$%' OR password_hash LIKE '$2b$10$%'"
        )
        .await,
        12
    );
    assert_eq!(
        count(
            &mut dst,
            "SELECT count(*) FROM users WHERE role = 'BANCA' AND ventana_id IS NOT NULL"
        )
        .await,
        0
    );
    // One default banca per user: the newest of the two defaults.
    let defaults: Vec<(Uuid, bool)> = sqlx::query_as(
        "SELECT banca_id, is_default FROM user_bancas
         WHERE user_id = 'c0000000-0000-4000-8000-000000000003' ORDER BY banca_id",
    )
    .fetch_all(&mut dst)
    .await
    .unwrap();
    assert_eq!(defaults, vec![(BANCA_CENTRAL, true), (BANCA_NORTE, false)]);
    // Twins the existing system let through: the most recently updated one stays live.
    let live: Vec<(Uuid, bool)> = sqlx::query_as(
        "SELECT id, deleted_at IS NULL FROM multiplier_overrides
         WHERE user_id = $1 ORDER BY id",
    )
    .bind(VENDE_ANA)
    .fetch_all(&mut dst)
    .await
    .unwrap();
    assert_eq!(
        live,
        vec![
            (
                Uuid::from_u128(0xd3000000_0000_4000_8000_000000000001),
                false
            ),
            (
                Uuid::from_u128(0xd3000000_0000_4000_8000_000000000003),
                true
            )
        ]
    );
    let rules: Vec<(Uuid, bool, Option<String>)> = sqlx::query_as(
        "SELECT id, is_active, number FROM restriction_rules
         WHERE id IN ('d4000000-0000-4000-8000-000000000001', 'd4000000-0000-4000-8000-000000000009',
                      'd4000000-0000-4000-8000-000000000003') ORDER BY id",
    )
    .fetch_all(&mut dst)
    .await
    .unwrap();
    assert_eq!(
        rules,
        vec![
            (
                Uuid::from_u128(0xd4000000_0000_4000_8000_000000000001),
                false,
                Some("13".into())
            ),
            (
                Uuid::from_u128(0xd4000000_0000_4000_8000_000000000003),
                true,
                Some("07".into())
            ),
            (
                Uuid::from_u128(0xd4000000_0000_4000_8000_000000000009),
                true,
                Some("13".into())
            ),
        ]
    );
    let multipliers: Vec<(Uuid, bool)> = sqlx::query_as(
        "SELECT id, is_active FROM loteria_multipliers
         WHERE id IN ('d1000000-0000-4000-8000-000000000002', 'd1000000-0000-4000-8000-000000000008')
         ORDER BY id",
    )
    .fetch_all(&mut dst)
    .await
    .unwrap();
    assert_eq!(
        multipliers,
        vec![
            (
                Uuid::from_u128(0xd1000000_0000_4000_8000_000000000002),
                false
            ),
            (
                Uuid::from_u128(0xd1000000_0000_4000_8000_000000000008),
                true
            )
        ]
    );
    // The global template and the banca's TICA.
    assert_eq!(
        count(
            &mut dst,
            "SELECT count(*) FROM loterias WHERE name = 'TICA'"
        )
        .await,
        2
    );
    // The vendedor rows of the statements carry the vendedor's ventana.
    assert_eq!(
        count(
            &mut dst,
            "SELECT count(*) FROM account_statements s JOIN users u ON u.id = s.vendedor_id
             WHERE s.dimension = 'vendedor' AND s.ventana_id IS DISTINCT FROM u.ventana_id"
        )
        .await,
        0
    );
    // Settled days stay settled.
    assert!(
        count(
            &mut dst,
            "SELECT count(*) FROM account_statements WHERE settled_at IS NOT NULL"
        )
        .await
            >= 3
    );

    // Derived data: running totals equal the counted jugadas (the bench's invariant), per-number
    // sales and rollups exist for the drawn sorteos, none for the others.
    assert_eq!(
        count(
            &mut dst,
            "WITH j AS (
                 SELECT j.sorteo_id, j.number, j.type, j.multiplier_id, j.amount, t.vendedor_id,
                        t.ventana_id, t.banca_id
                 FROM jugadas j JOIN tickets t ON t.id = j.ticket_id
                 WHERE t.status NOT IN ('CANCELLED', 'EXCLUDED') AND t.deleted_at IS NULL
                   AND j.is_active AND j.deleted_at IS NULL AND NOT j.is_excluded),
             scoped AS (
                 SELECT sorteo_id, vendedor_id AS scope_id, number, type, multiplier_id, amount FROM j
                 UNION ALL SELECT sorteo_id, ventana_id, number, type, multiplier_id, amount FROM j
                 UNION ALL SELECT sorteo_id, banca_id, number, type, multiplier_id, amount FROM j),
             expected AS (
                 SELECT s.sorteo_id, s.scope_id, k.mkey, s.number, sum(s.amount) AS amount
                 FROM scoped s CROSS JOIN LATERAL (VALUES
                     ('00000000-0000-0000-0000-000000000000'::uuid),
                     (CASE WHEN s.type = 'NUMERO' THEN s.multiplier_id
                           ELSE 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid END)) AS k(mkey)
                 WHERE k.mkey IS NOT NULL GROUP BY 1, 2, 3, 4)
             SELECT count(*) FROM sale_counters c
             FULL JOIN expected e ON e.sorteo_id = c.sorteo_id AND e.scope_id = c.scope_id
                                 AND e.mkey = c.mkey AND e.number = c.number
             WHERE c.amount IS DISTINCT FROM e.amount"
        )
        .await,
        0
    );
    assert!(count(&mut dst, "SELECT count(*) FROM sale_counters").await > 100);
    assert_eq!(
        count(
            &mut dst,
            "SELECT count(DISTINCT s.id) FROM sorteos s JOIN daily_number_sales d ON d.sorteo_id = s.id"
        )
        .await,
        count(
            &mut dst,
            "SELECT count(*) FROM sorteos s WHERE winning_number IS NOT NULL
             AND EXISTS (SELECT 1 FROM tickets t WHERE t.sorteo_id = s.id AND t.deleted_at IS NULL
                         AND t.status IN ('EVALUATED', 'PAID', 'PAGADO'))"
        )
        .await
    );
    assert_eq!(
        count(
            &mut dst,
            "SELECT count(*) FROM sales_rollup r JOIN sorteos s ON s.id = r.sorteo_id
             WHERE s.winning_number IS NULL OR s.deleted_at IS NOT NULL"
        )
        .await,
        0
    );
    let rolled: Decimal = sqlx::query_scalar("SELECT sum(total_sales) FROM ticket_rollup")
        .fetch_one(&mut dst)
        .await
        .unwrap();
    let statements: Decimal = sqlx::query_scalar(
        "SELECT sum(total_sales) FROM account_statements WHERE dimension = 'banca'",
    )
    .fetch_one(&mut dst)
    .await
    .unwrap();
    assert_eq!(
        rolled, statements,
        "rollups agree with the imported statements"
    );
    // The ticket sequence is past every imported number of Banca's own shape.
    // (S4 carries a legacy number of that shape: T<D−1>-100042-17.)
    assert_eq!(out.derived.sequence_moved_to, Some(100_042));
    assert!(count(&mut dst, "SELECT count(*) FROM report_generations").await >= 2);

    // The rounding report lists exactly the values that were not whole cents.
    let expected: Vec<(String, String, String, Decimal)> =
        sqlx::query_as(NOT_WHOLE).fetch_all(&mut src).await.unwrap();
    let want: BTreeSet<(String, String, String, Decimal)> = expected.into_iter().collect();
    let got: BTreeSet<(String, String, String, Decimal)> = out
        .rounded
        .iter()
        .map(|r| {
            (
                r.table.to_string(),
                r.column.to_string(),
                r.id.clone(),
                r.original,
            )
        })
        .collect();
    assert_eq!(got, want);
    assert_eq!(got.len(), out.rounded.len(), "each value once");
    for special in [
        (
            "Jugada",
            "amount",
            "f1000000-0000-4000-8000-000000000011",
            "33.333333",
        ),
        (
            "Jugada",
            "amount",
            "f1000000-0000-4000-8000-000000000021",
            "100.005",
        ),
        (
            "Jugada",
            "amount",
            "f1000000-0000-4000-8000-000000000031",
            "12.345",
        ),
        (
            "AccountPayment",
            "amount",
            "a5000000-0000-4000-8000-000000000005",
            "1500.755",
        ),
    ] {
        assert!(
            got.contains(&(
                special.0.into(),
                special.1.into(),
                special.2.into(),
                dec(special.3)
            )),
            "{special:?}"
        );
    }
    // …and the CSV file holds the same lines.
    let mut csv = csv::Reader::from_path(report.path()).unwrap();
    assert_eq!(
        csv.headers().unwrap().iter().collect::<Vec<_>>(),
        ["table", "column", "id", "original", "stored"]
    );
    let mut from_file = BTreeSet::new();
    for rec in csv.records() {
        let rec = rec.unwrap();
        let (original, stored) = (dec(&rec[3]), dec(&rec[4]));
        assert_eq!(
            stored,
            banca::domain::commission::money(original),
            "{rec:?}"
        );
        from_file.insert((
            rec[0].to_string(),
            rec[1].to_string(),
            rec[2].to_string(),
            original,
        ));
    }
    assert_eq!(from_file, want);
}

#[tokio::test]
async fn a_rerun_imports_nothing_and_then_takes_legacy_changes() {
    let legacy = LegacyDb::load().await;
    let db = TestDb::empty().await;
    let first = run(&db, &legacy, |_| {}).await;
    assert!(first.inserted() > 500);
    let generation = |db: &TestDb| {
        let url = db.url.clone();
        async move {
            let mut c = PgConnection::connect(&url).await.unwrap();
            count(
                &mut c,
                "SELECT COALESCE(sum(generation), 0)::bigint FROM report_generations",
            )
            .await
        }
    };
    let before = generation(&db).await;

    let again = run(&db, &legacy, |_| {}).await;
    assert_eq!((again.inserted(), again.updated()), (0, 0));
    assert_eq!(again.unchanged(), first.inserted());
    assert_eq!(again.derived.sorteos, 0, "nothing to rebuild");
    assert_eq!(again.derived.sequence_moved_to, None);
    assert!(again.verified());
    let line = import::report::summary(&again);
    assert!(line.contains("nothing new: 0 rows imported"), "{line}");
    assert_eq!(generation(&db).await, before, "nothing was written");

    // The existing system pays S2 and sells one more ticket on the open sorteo before the
    // final import: the re-run updates the one, inserts the other, and rebuilds both sorteos.
    let mut src = legacy.connect().await;
    sqlx::raw_sql(
        "UPDATE \"Ticket\" SET status = 'PAID', \"totalPaid\" = \"totalPayout\", \"remainingAmount\" = 0,
                \"updatedAt\" = now() WHERE id = 'f0000000-0000-4000-8000-000000000002';
         INSERT INTO \"TicketPayment\" (id, \"ticketId\", \"amountPaid\", \"paidById\", \"isFinal\", \"updatedAt\")
         SELECT 'f2000000-0000-4000-8000-0000000000ff', id, \"totalPayout\",
                'c0000000-0000-4000-8000-000000000002', true, now()
         FROM \"Ticket\" WHERE id = 'f0000000-0000-4000-8000-000000000002';
         INSERT INTO \"Ticket\" (id, \"ticketNumber\", \"loteriaId\", \"sorteoId\", \"ventanaId\", \"vendedorId\",
                \"bancaId\", \"totalAmount\", \"businessDate\", \"updatedAt\")
         SELECT 'f0000000-0000-4000-8000-0000000000ff', 'T-NUEVO-1', s.\"loteriaId\", s.id,
                'a1000000-0000-4000-8000-000000000001', 'c0000000-0000-4000-8000-000000000007',
                'a0000000-0000-4000-8000-000000000001', 700, (s.\"scheduledAt\" - interval '6 hours')::date, now()
         FROM \"Sorteo\" s WHERE s.status = 'OPEN' AND s.\"loteriaId\" = 'd0000000-0000-4000-8000-000000000001';
         INSERT INTO \"Jugada\" (id, \"ticketId\", number, amount, \"finalMultiplierX\", \"multiplierId\", \"updatedAt\")
         VALUES ('f1000000-0000-4000-8000-0000000000ff', 'f0000000-0000-4000-8000-0000000000ff', '33', 700, 80,
                 'd1000000-0000-4000-8000-000000000001', now());",
    )
    .execute(&mut src)
    .await
    .unwrap();
    let third = run(&db, &legacy, |_| {}).await;
    let by_table = |o: &Outcome, t: &str| {
        let t = o.tables.iter().find(|x| x.target == t).unwrap();
        (t.inserted, t.updated)
    };
    assert_eq!(by_table(&third, "tickets"), (1, 1));
    assert_eq!(by_table(&third, "jugadas"), (1, 0));
    assert_eq!(by_table(&third, "ticket_payments"), (1, 0));
    assert_eq!((third.inserted(), third.updated()), (3, 1));
    assert_eq!(third.derived.sorteos, 2, "S2's sorteo and the open one");
    assert!(third.verified(), "{}", import::report::summary(&third));
    let mut dst = db.connect().await;
    let counter: Decimal = sqlx::query_scalar(
        "SELECT c.amount FROM sale_counters c JOIN tickets t ON t.sorteo_id = c.sorteo_id
         WHERE t.id = 'f0000000-0000-4000-8000-0000000000ff' AND c.scope_id = $1
           AND c.mkey = '00000000-0000-0000-0000-000000000000' AND c.number = '33'",
    )
    .bind(VENDE_ANA)
    .fetch_one(&mut dst)
    .await
    .unwrap();
    assert!(counter >= dec("700"), "{counter}");
}

#[tokio::test]
async fn a_dry_run_writes_nothing_and_an_interrupted_run_is_completed() {
    let legacy = LegacyDb::load().await;
    let db = TestDb::migrated().await;
    let dry = run(&db, &legacy, |o| o.dry_run = true).await;
    assert!(dry.dry_run);
    assert!(dry.inserted() > 500);
    assert!(dry.derived.sorteos > 10);
    assert!(dry.verified(), "the dry run verifies what it would write");
    assert!(!dry.rounded.is_empty());
    assert!(import::report::summary(&dry).starts_with("import (dry run, nothing written): "));
    let mut dst = db.connect().await;
    for table in [
        "bancas",
        "users",
        "tickets",
        "jugadas",
        "account_statements",
        "sale_counters",
        "sales_rollup",
        "daily_number_sales",
        "report_generations",
    ] {
        assert_eq!(
            count(&mut dst, &format!("SELECT count(*) FROM {table}")).await,
            0,
            "{table}"
        );
    }
    let seq: bool = sqlx::query_scalar("SELECT is_called FROM ticket_number_seq")
        .fetch_one(&mut dst)
        .await
        .unwrap();
    assert!(!seq, "the sequence was not moved");

    // A dry run needs a migrated target (migrating would write).
    let empty = TestDb::empty().await;
    let p = pool(&empty).await;
    let mut opts = options(&legacy);
    opts.dry_run = true;
    let e = import::run(&p, &opts).await.unwrap_err();
    assert!(
        format!("{e:#}").contains("run `banca migrate` first"),
        "{e:#}"
    );
    p.close().await;

    // A run that stopped half-way: the tickets and jugadas of a drawn sorteo are missing, and
    // another sorteo's derived data was never built.
    run(&db, &legacy, |_| {}).await;
    sqlx::raw_sql(
        "DELETE FROM ticket_payments WHERE ticket_id IN (SELECT id FROM tickets WHERE sorteo_id =
             (SELECT sorteo_id FROM tickets WHERE id = 'f0000000-0000-4000-8000-000000000001'));
         DELETE FROM tickets WHERE sorteo_id =
             (SELECT sorteo_id FROM tickets WHERE id = 'f0000000-0000-4000-8000-000000000001');
         DELETE FROM sale_counters WHERE sorteo_id =
             (SELECT sorteo_id FROM tickets WHERE id = 'f0000000-0000-4000-8000-000000000003');
         DELETE FROM daily_number_sales WHERE sorteo_id =
             (SELECT sorteo_id FROM tickets WHERE id = 'f0000000-0000-4000-8000-000000000003');",
    )
    .execute(&mut dst)
    .await
    .unwrap();
    let resumed = run(&db, &legacy, |_| {}).await;
    let tickets = resumed
        .tables
        .iter()
        .find(|t| t.target == "tickets")
        .unwrap();
    assert_eq!(
        tickets.inserted, 11,
        "S1's sorteo: 10 generated tickets and S1"
    );
    assert_eq!(resumed.updated(), 0);
    assert_eq!(resumed.derived.sorteos, 2);
    assert!(resumed.verified(), "{}", import::report::summary(&resumed));
}

#[tokio::test]
async fn legacy_users_log_in_with_their_old_password_and_get_argon2id() {
    let w = imported_world().await;
    let app = common::spawn_app(&w.db, &[]).await;
    for l in &w.logins {
        let (st, body) = call(
            &app,
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(&json!({ "username": l.username, "password": l.password })),
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{}: {body}", l.username);
        assert_eq!(body["data"]["user"]["role"], l.role);
        let token = body["data"]["accessToken"].as_str().unwrap();
        let (st, me) = call(&app, Method::GET, "/api/v1/auth/me", Some(token), None).await;
        assert_eq!(st, StatusCode::OK, "{me}");
    }
    let mut dst = w.db.connect().await;
    let hashes: Vec<(String, String)> = sqlx::query_as(
        "SELECT username::text, password_hash FROM users WHERE username = ANY($1) ORDER BY 1",
    )
    .bind(LEGACY_LOGINS.iter().map(|l| l.0).collect::<Vec<_>>())
    .fetch_all(&mut dst)
    .await
    .unwrap();
    assert_eq!(hashes.len(), 4);
    for (u, h) in &hashes {
        assert!(h.starts_with("$argon2id$"), "{u}: {h}");
        assert_eq!(
            banca::domain::password::verify(LEGACY_PASSWORD, h),
            banca::domain::password::Verified::Yes
        );
    }
    // The other users keep their bcrypt hash until they log in.
    assert_eq!(
        count(
            &mut dst,
            "SELECT count(*) FROM users WHERE password_hash LIKE '$2%'"
        )
        .await,
        8
    );
    // A wrong password, and an inactive legacy user, are refused.
    let (st, _) = call(
        &app,
        Method::POST,
        "/api/v1/auth/login",
        None,
        Some(&json!({ "username": "vende.beto", "password": "otra-clave-1" })),
    )
    .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let (st, _) = call(
        &app,
        Method::POST,
        "/api/v1/auth/login",
        None,
        Some(&json!({ "username": "vende.eva", "password": LEGACY_PASSWORD })),
    )
    .await;
    assert!(st.is_client_error() && st != StatusCode::OK, "{st}");
    // A re-run of the import never puts the bcrypt hash back.
    let again = run(&w.db, &w.legacy, |_| {}).await;
    assert_eq!(again.updated(), 0, "{}", import::report::summary(&again));
    assert_eq!(
        count(
            &mut dst,
            "SELECT count(*) FROM users WHERE password_hash LIKE '$argon2id$%'"
        )
        .await,
        4
    );
}

async fn login(app: &common::TestApp, username: &str) -> String {
    let (st, body) = call(
        app,
        Method::POST,
        "/api/v1/auth/login",
        None,
        Some(&json!({ "username": username, "password": LEGACY_PASSWORD })),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    body["data"]["accessToken"].as_str().unwrap().to_string()
}

fn d(v: &Value) -> Decimal {
    assert!(v.is_number(), "not a number: {v}");
    v.to_string().parse().unwrap()
}

#[tokio::test]
async fn legacy_tickets_are_found_and_paid_by_their_printed_number() {
    let w = imported_world().await;
    let app = common::spawn_app(&w.db, &[]).await;
    // The listero of Ventana Centro (a BANCA user does not pay prizes in Banca).
    let token = login(&app, "listero.centro").await;
    let mut src = w.legacy.connect().await;
    let numbers: Vec<(Uuid, String)> = sqlx::query_as(
        "SELECT id, \"ticketNumber\" FROM \"Ticket\"
         WHERE id = $1 OR (\"ticketNumber\" ~ '^T[0-9]{6}-[0-9A-F]{6}-[0-9]{2}$' AND \"deletedAt\" IS NULL
                           AND \"ventanaId\" = $2)
         ORDER BY id = $1 DESC, \"ticketNumber\" LIMIT 2",
    )
    .bind(S2)
    .bind(VENTANA_CENTRO)
    .fetch_all(&mut src)
    .await
    .unwrap();
    assert_eq!(numbers.len(), 2);
    for (id, number) in &numbers {
        // As printed, and as typed at the counter (lower-case t).
        for typed in [number.clone(), format!("t{}", &number[1..])] {
            let (st, body) = call(
                &app,
                Method::GET,
                &format!("/api/v1/tickets/by-number/{typed}"),
                Some(&token),
                None,
            )
            .await;
            assert_eq!(st, StatusCode::OK, "{typed}: {body}");
            assert_eq!(body["data"]["ticketNumber"], number.as_str());
        }
        let (st, body) = call(
            &app,
            Method::GET,
            &format!("/api/v1/tickets/{id}"),
            Some(&token),
            None,
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{body}");
        assert_eq!(body["data"]["ticketNumber"], number.as_str());
    }
    // A number that is not there, in the legacy shape: not found.
    let (st, _) = call(
        &app,
        Method::GET,
        "/api/v1/tickets/by-number/T200101-99999",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // S2 is an unpaid winner: 100.01 × 85 = 8500.43 (the legacy payout, rounded) + 50 × 5.
    let (st, body) = call(
        &app,
        Method::POST,
        &format!("/api/v1/tickets/{S2}/pay"),
        Some(&token),
        Some(
            &json!({ "amountPaid": 8750.43, "method": "cash", "isFinal": true,
                      "idempotencyKey": "import-test-pay-s2" }),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["status"], "PAID");
    assert_eq!(d(&body["data"]["totalPaid"]), dec("8750.43"));
    assert_eq!(d(&body["data"]["remainingAmount"]), Decimal::ZERO);
    // S1's legacy payment was reversed: it is still owed, and paying more than the prize fails.
    let (st, body) = call(
        &app,
        Method::POST,
        &format!("/api/v1/tickets/{S1}/pay"),
        Some(&token),
        Some(&json!({ "amountPaid": 2666.68, "method": "cash", "isFinal": true })),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["code"], "PAYMENT_EXCEEDS_PRIZE");
    let (st, body) = call(
        &app,
        Method::POST,
        &format!("/api/v1/tickets/{S1}/pay"),
        Some(&token),
        Some(&json!({ "amountPaid": 2666.67, "method": "transfer", "isFinal": true })),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["status"], "PAID");
}

#[tokio::test]
async fn a_cierre_over_the_imported_days_equals_the_legacy_sums() {
    let w = imported_world().await;
    let app = common::spawn_app(&w.db, &[]).await;
    let token = login(&app, "admin").await;
    let mut src = w.legacy.connect().await;
    let (from, to): (chrono::NaiveDate, chrono::NaiveDate) = sqlx::query_as(
        "SELECT (now() AT TIME ZONE 'America/Costa_Rica')::date - 5,
                (now() AT TIME ZONE 'America/Costa_Rica')::date - 1",
    )
    .fetch_one(&mut src)
    .await
    .unwrap();
    // The money population of the cierre (domain-money §4.2, Banca's decisions: a sorteo
    // closed after its result still counts), over the legacy rows, each value rounded.
    let (sales, prizes, listero, tickets, jugadas): (Decimal, Decimal, Decimal, i64, i64) =
        sqlx::query_as(
            "SELECT sum(round(j.amount::text::numeric, 2)),
                    COALESCE(sum(round(j.payout::text::numeric, 2)) FILTER (WHERE j.\"isWinner\"), 0),
                    sum(round(j.\"listeroCommissionAmount\"::text::numeric, 2)),
                    count(DISTINCT t.id), count(*)
             FROM \"Jugada\" j JOIN \"Ticket\" t ON t.id = j.\"ticketId\"
             JOIN \"Sorteo\" s ON s.id = t.\"sorteoId\"
             JOIN \"Ventana\" v ON v.id = t.\"ventanaId\"
             WHERE COALESCE(t.\"bancaId\", v.\"bancaId\") = $1
               AND COALESCE(t.\"businessDate\", (t.\"createdAt\" - interval '6 hours')::date) BETWEEN $2 AND $3
               AND s.\"winningNumber\" IS NOT NULL AND s.status IN ('EVALUATED', 'CLOSED')
               AND s.\"deletedAt\" IS NULL
               AND t.\"deletedAt\" IS NULL AND t.\"isActive\"
               AND t.status IN ('ACTIVE', 'EVALUATED', 'PAID', 'PAGADO')
               AND NOT EXISTS (SELECT 1 FROM sorteo_lista_exclusion x
                               WHERE x.sorteo_id = t.\"sorteoId\" AND x.multiplier_id IS NULL
                                 AND x.ventana_id = t.\"ventanaId\"
                                 AND (x.vendedor_id IS NULL OR x.vendedor_id = t.\"vendedorId\"))
               AND j.\"isActive\" AND NOT j.\"isExcluded\" AND j.\"deletedAt\" IS NULL",
        )
        .bind(BANCA_CENTRAL)
        .bind(from)
        .bind(to)
        .fetch_one(&mut src)
        .await
        .unwrap();
    assert!(sales > dec("10000") && prizes > Decimal::ZERO && jugadas > 100);

    let res = app
        .client
        .get(app.url(&format!("/api/v1/cierres/weekly?from={from}&to={to}")))
        .bearer_auth(&token)
        .header("x-active-banca-id", BANCA_CENTRAL.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let v: Value = res.json().await.unwrap();
    let t = &v["data"]["totals"];
    assert_eq!(d(&t["totalVendida"]), sales, "{t}");
    assert_eq!(d(&t["ganado"]), prizes, "{t}");
    assert_eq!(d(&t["comisionTotal"]), listero, "{t}");
    assert_eq!(d(&t["netoDespuesComision"]), sales - prizes - listero);
    assert_eq!(t["ticketsCount"], tickets);
    assert_eq!(t["jugadasCount"], jugadas);
}

#[tokio::test]
async fn a_seller_sells_on_an_imported_open_sorteo_within_the_imported_limits() {
    let w = imported_world().await;
    let app = common::spawn_app(&w.db, &[]).await;
    let token = login(&app, "vende.ana").await;
    let mut dst = w.db.connect().await;
    let sold_before: Decimal = sqlx::query_scalar(
        "SELECT COALESCE(sum(amount), 0) FROM sale_counters
         WHERE sorteo_id = $1 AND scope_id = $2 AND number = '07'
           AND mkey = '00000000-0000-0000-0000-000000000000'",
    )
    .bind(w.open_sorteo)
    .bind(VENDE_ANA)
    .fetch_one(&mut dst)
    .await
    .unwrap();
    let sell = |number: &str, amount: f64| {
        json!({ "loteriaId": w.loteria_id, "sorteoId": w.open_sorteo,
                "jugadas": [{ "type": "NUMERO", "number": number, "amount": amount,
                              "multiplierId": w.multiplier_id }] })
    };
    let (st, body) = call(
        &app,
        Method::POST,
        "/api/v1/tickets",
        Some(&token),
        Some(&sell("33", 150.0)),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{body}");
    let t = &body["data"];
    assert_eq!(t["vendedorId"], VENDE_ANA.to_string());
    assert_eq!(t["ventanaId"], VENTANA_CENTRO.to_string());
    // A number of Banca's own, past every imported one of that shape.
    let parsed = banca::domain::ticket_number::parse(t["ticketNumber"].as_str().unwrap())
        .expect("Banca's format");
    assert!(parsed.seq > 100_042, "{parsed:?}");
    // The imported rule of Ana on "7" (maxAmount 1000.50 per ticket) is enforced on "07".
    let (st, body) = call(
        &app,
        Method::POST,
        "/api/v1/tickets",
        Some(&token),
        Some(&sell("07", 1000.51)),
    )
    .await;
    assert!(st.is_client_error(), "{st}: {body}");
    let (st, body) = call(
        &app,
        Method::POST,
        "/api/v1/tickets",
        Some(&token),
        Some(&sell("07", 1000.5)),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{body}");
    let sold_after: Decimal = sqlx::query_scalar(
        "SELECT sum(amount) FROM sale_counters
         WHERE sorteo_id = $1 AND scope_id = $2 AND number = '07'
           AND mkey = '00000000-0000-0000-0000-000000000000'",
    )
    .bind(w.open_sorteo)
    .bind(VENDE_ANA)
    .fetch_one(&mut dst)
    .await
    .unwrap();
    assert_eq!(sold_after, sold_before + dec("1000.5"));
    assert_eq!(w.banca_id, BANCA_CENTRAL);
    assert!(w.outcome.inserted() > 500);
}

/// The binary: import with a rounding-report file, `--verify-only` (passing, then failing on a
/// tampered row), `--help`, and bad input (unreachable source, not the legacy schema, a target
/// holding conflicting data), each a one-line error and exit code 1.
#[tokio::test]
async fn the_command_imports_verifies_and_refuses_bad_input() {
    let legacy = LegacyDb::load().await;
    let db = TestDb::empty().await;
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("rounding.csv");
    let banca = |args: &[&str], db: &TestDb| {
        let mut cmd = banca_command();
        cmd.envs(db.app_env()).args(args);
        cmd.output().unwrap()
    };

    let help = banca(&["import", "--help"], &db);
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(help.status.success());
    assert!(
        text.contains("--dry-run") && text.contains("--rounding-report"),
        "{text}"
    );
    assert!(text.contains("Example"), "{text}");

    let out = banca(
        &[
            "import",
            "--from",
            legacy.url(),
            "--rounding-report",
            report.to_str().unwrap(),
        ],
        &db,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let last = stdout.lines().last().unwrap();
    assert!(
        last.starts_with("import: 577 rows imported, 0 updated"),
        "{last}"
    );
    assert!(last.contains("verification passed"), "{last}");
    // Not on a terminal (a log): one line per step on stderr instead of bars.
    let stderr = String::from_utf8_lossy(&out.stderr);
    for step in [
        "bancas: 2 new, 0 updated, 0 unchanged (",
        "tickets: ",
        "derived data: ",
        "verification: ",
    ] {
        assert!(
            stderr
                .lines()
                .any(|l| l.starts_with(step) && l.ends_with(" ms)")),
            "{step}: {stderr}"
        );
    }
    assert!(stdout.contains("verification — row counts"), "{stdout}");
    assert!(
        stdout.contains(&format!("listed in {}", report.display())),
        "{stdout}"
    );
    let lines = std::fs::read_to_string(&report).unwrap().lines().count();
    assert!(lines > 10, "{lines}");

    let out = banca(&["import", "--from", legacy.url(), "--verify-only"], &db);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout
        .lines()
        .last()
        .unwrap()
        .starts_with("verify: verification passed"));

    let again = banca(&["import", "--from", legacy.url()], &db);
    let stdout = String::from_utf8_lossy(&again.stdout);
    assert!(again.status.success(), "{stdout}");
    assert!(stdout.contains("nothing new: 0 rows imported"), "{stdout}");

    // Tamper with one imported amount: the verification fails, names the group, exits 1.
    let mut dst = db.connect().await;
    sqlx::query(
        "UPDATE jugadas SET amount = amount + 1 WHERE id = 'f1000000-0000-4000-8000-000000000041'",
    )
    .execute(&mut dst)
    .await
    .unwrap();
    let out = banca(&["import", "--from", legacy.url(), "--verify-only"], &db);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("verification FAILED"), "{stdout}");
    assert!(stdout.contains("groups beyond tolerance:"), "{stdout}");
    assert!(stdout.contains("sales "), "{stdout}");

    // Bad input: one line on stderr, exit 1, no panic.
    let unreachable = format!(
        "postgres://postgres@127.0.0.1:{}/nada",
        common::closed_port()
    );
    let not_legacy = TestDb::migrated().await;
    for (from, want) in [
        (
            unreachable.as_str(),
            "cannot connect to the source database",
        ),
        (
            not_legacy.url.as_str(),
            "does not hold the existing system's schema",
        ),
        ("mysql://x@y/z", "--from must be a postgres:// URL"),
    ] {
        let out = banca(&["import", "--from", from], &db);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{from}: {stderr}");
        let error = stderr
            .lines()
            .find(|l| l.starts_with("error: "))
            .unwrap_or_default();
        assert!(error.contains(want), "{from}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }

    // A target that already holds another banca with the same code.
    let other = TestDb::migrated().await;
    sqlx::query("INSERT INTO bancas (name, code) VALUES ('Otra', 'BC')")
        .execute(&mut other.connect().await)
        .await
        .unwrap();
    let out = banca(&["import", "--from", legacy.url()], &other);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let error = stderr
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or_default();
    assert!(
        error.contains("bancas row a0000000-0000-4000-8000-000000000001")
            && error.contains("conflicts with data already in the target")
            && error.contains("bancas_code_key"),
        "{stderr}"
    );
}
