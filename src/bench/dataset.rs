//! The report dataset (issue 10): a banca with months of drawn sorteos, generated in set-based
//! SQL so that 1,000,000 jugadas take well under two minutes, for the report benchmark
//! (scenario r) and for tests that cross-check report figures against statements.
//!
//! What it writes follows the rules of the sale path and of the money writers, because report
//! tests compare against it to the cent:
//! - one banca (`global_max_per_number` out of the way), its ventanas (a listero each, with a
//!   commission policy), vendedores (every third with its own policy, so its commissions have
//!   origin USER; the others take their ventana's, origin VENTANA), an ADMIN and a BANCA login
//!   (password [`DATASET_PASSWORD`]);
//! - loterías with two NUMERO multipliers (80x and 90x, the cierre bands) and a REVENTADO one;
//!   three sorteos a day each at Costa Rica draw times, over `days` business days ending
//!   yesterday (`business_date` = the draw's date in the business time zone);
//! - tickets of 3–7 jugadas (≈5), sold between 06:00 and the draw by one seller (its ventana
//!   copied), numbers distinct within a ticket, amounts ≥ 100 with cents, NUMERO lines with 80x or
//!   90x, about one ticket in three ending with a REVENTADO on its first number (amount ≤ that
//!   NUMERO's); commission snapshots `round2(amount × percent / 100)` (half away from zero, as
//!   `domain::commission::money`) for the seller and the listero, ticket totals = Σ lines; ticket
//!   numbers from `ticket_number_seq` with their check digits; 2 % cancelled as
//!   `db::sale::mark_cancelled` leaves them;
//! - every sorteo evaluated in its own transaction by the evaluation's own functions
//!   (`db::evaluation::mark_winners`, `set_evaluated`, `db::statements::rebuild_number_sales`,
//!   `db::rollups::rebuild_sorteo`); a REVENTADO multiplier named on one sorteo in three;
//! - 70 % of the winning tickets paid in full once, as the payment path records it;
//! - the statements rebuilt from the first day under `db::statements::lock_banca`.
//!
//! Not written: `sale_counters` (they only guard the limits of open sorteos; a drawn sorteo's are
//! never read) and activity logs. Every choice comes from `hashint8extended(key, seed)`, so a seed
//! always gives the same data (row ids and ticket sequence numbers aside).

use std::time::Instant;

use anyhow::Context;
use chrono::NaiveDate;
use futures::TryStreamExt;
use rust_decimal::Decimal;
use sqlx::{Connection, PgConnection, PgPool};
use uuid::Uuid;

/// Password of every login the dataset creates.
pub const DATASET_PASSWORD: &str = "report-pass-123";

/// Value of the cheaper NUMERO band.
pub const BAND_LOW_X: u32 = 80;
/// Value of the usual NUMERO band (the lotería's base multiplier).
pub const BAND_HIGH_X: u32 = 90;
/// Value of the REVENTADO multiplier.
pub const REVENTADO_X: u32 = 5;
/// Percent of a vendedor's own policy (origin USER), every third vendedor.
pub const USER_PERCENT: &str = "7.75";

/// Draw times (business time zone) of the loterías, in order; more loterías reuse them.
const LOTERIAS: [(&str, [&str; 3]); 6] = [
    ("Tica", ["12:55", "16:30", "19:30"]),
    ("Nica", ["12:00", "15:00", "18:00"]),
    ("Honduras", ["11:00", "15:00", "21:00"]),
    ("Panamá", ["13:00", "17:00", "20:00"]),
    ("Dominicana", ["10:30", "14:30", "18:30"]),
    ("Monazos", ["13:30", "16:00", "21:30"]),
];

/// NUMERO amounts (a REVENTADO takes the smaller of its NUMERO's and 100/200/250).
const AMOUNTS: &str =
    "ARRAY[100, 200, 250, 500, 1000, 150, 333.33, 125.50, 775.25, 300]::numeric[]";

/// What to generate.
#[derive(Debug, Clone)]
pub struct DatasetSpec {
    /// Jugadas written (cancelled tickets' included).
    pub jugadas: u64,
    /// Business days, ending yesterday.
    pub days: u32,
    pub ventanas: u32,
    pub vendedores: u32,
    pub loterias: u32,
    /// Same seed, same data; also part of the names (`RPT<seed>`), so two datasets of different
    /// seeds can share a database.
    pub seed: u64,
    /// The business time zone (business dates, draw times).
    pub timezone: chrono_tz::Tz,
}

impl DatasetSpec {
    /// Issue 10's benchmark dataset: 1,000,000 jugadas over 90 days, 5 ventanas, 200
    /// vendedores, 6 loterías.
    pub fn issue10(jugadas: u64) -> DatasetSpec {
        DatasetSpec {
            jugadas,
            days: 90,
            ventanas: 5,
            vendedores: 200,
            loterias: 6,
            seed: 10,
            timezone: chrono_tz::America::Costa_Rica,
        }
    }
}

/// A login the dataset created.
#[derive(Debug, Clone)]
pub struct DatasetLogin {
    pub user_id: Uuid,
    pub username: String,
    pub password: String,
}

/// What was generated.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub banca_id: Uuid,
    pub banca_name: String,
    /// ADMIN (no banca of its own: send `X-Active-Banca-Id`).
    pub admin: DatasetLogin,
    /// BANCA user assigned to the banca (its default).
    pub banca_user: DatasetLogin,
    /// Ventanas in code order.
    pub ventanas: Vec<Uuid>,
    /// The listero (VENTANA user) of each ventana, same order.
    pub listeros: Vec<DatasetLogin>,
    /// Vendedores in username order; vendedor `i` sells for ventana `i % ventanas`.
    pub vendedores: Vec<Uuid>,
    /// Usernames of the vendedores, same order.
    pub vendedor_usernames: Vec<String>,
    pub loterias: Vec<Uuid>,
    /// Every sorteo, by draw time.
    pub sorteos: Vec<Uuid>,
    /// First and last business day with sorteos.
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    pub tickets: i64,
    pub jugadas: i64,
    pub cancelled_tickets: i64,
    pub winning_tickets: i64,
    pub paid_tickets: i64,
    /// Wall time of the whole generation.
    pub generate_ms: f64,
}

/// One sorteo's result: id, winning number, REVENTADO multiplier (id, value, outcome code).
type EvalPlan = (Uuid, String, Option<Uuid>, Decimal, Option<String>);

/// `H(key, salt)`: a deterministic non-negative int4-sized hash of a bigint SQL expression.
fn h(key: &str, salt: u32, seed: i64) -> String {
    format!("(hashint8extended(({key})::bigint * 16 + {salt}, {seed}) & 2147483647)::int")
}

/// Runs `f`, then reports its duration through `progress` when it took over a second.
async fn timed<T, F>(progress: &impl Fn(&str), what: &str, f: F) -> anyhow::Result<T>
where
    F: std::future::Future<Output = anyhow::Result<T>>,
{
    let started = Instant::now();
    let r = f.await.with_context(|| format!("dataset: {what}"))?;
    let ms = started.elapsed().as_millis();
    if ms >= 1000 {
        progress(&format!("{what}: {ms} ms"));
    }
    Ok(r)
}

/// Generates the dataset described by `spec` into the (migrated) database of `pool`; see the
/// module documentation for what it contains. `progress` gets one line per step that took
/// more than a second. Fails when the banca of this seed already exists.
pub async fn generate(
    pool: &PgPool,
    spec: &DatasetSpec,
    progress: impl Fn(&str),
) -> anyhow::Result<Dataset> {
    if spec.jugadas == 0 || spec.days == 0 || spec.ventanas == 0 || spec.vendedores == 0 {
        anyhow::bail!("dataset: jugadas, days, ventanas and vendedores must be positive");
    }
    if spec.loterias == 0 || spec.jugadas > 100_000_000 || spec.days > 3650 {
        anyhow::bail!("dataset: 1..=100,000,000 jugadas, 1..=3650 days, at least 1 lotería");
    }
    let started = Instant::now();
    let seed = i64::try_from(spec.seed % 1_000_000_000).unwrap_or(0);
    let tz = spec.timezone.name().to_string();
    let today = crate::domain::schedule::local_date(chrono::Utc::now(), spec.timezone);
    let last_day = today.pred_opt().context("no yesterday")?;
    let first_day = last_day - chrono::Duration::days(i64::from(spec.days) - 1);

    let hash =
        tokio::task::spawn_blocking(|| crate::domain::password::hash(DATASET_PASSWORD)).await??;
    let mut conn = pool.acquire().await?;
    let cat = timed(&progress, "catalog", async {
        catalog(&mut conn, spec, seed, &hash, first_day, last_day, &tz).await
    })
    .await?;

    timed(&progress, "tickets and jugadas (INSERT … SELECT)", async {
        sales(&mut conn, spec, seed, cat.banca_id).await
    })
    .await?;
    // The evaluation's per-sorteo statements need index plans on the fresh tables.
    timed(&progress, "ANALYZE tickets, jugadas", async {
        crate::db::query("ANALYZE tickets, jugadas, sorteos")
            .execute(&mut *conn)
            .await?;
        Ok(())
    })
    .await?;

    // Evaluate every sorteo in its own transaction, two at a time.
    let plan: Vec<EvalPlan> = crate::db::query_as(
        "SELECT s.id, s.win, CASE WHEN s.extra THEN m.id END,
                CASE WHEN s.extra THEN m.value_x ELSE 0 END::numeric,
                CASE WHEN s.extra THEN m.name::text END
         FROM ds_sorteo s
         JOIN loteria_multipliers m ON m.loteria_id = s.loteria_id AND m.kind = 'REVENTADO'
         ORDER BY s.k",
    )
    .fetch_all(&mut *conn)
    .await?;
    timed(
        &progress,
        &format!("evaluating {} sorteos", plan.len()),
        async {
            futures::stream::iter(plan.into_iter().map(Ok::<_, anyhow::Error>))
                .try_for_each_concurrent(2, |(id, win, extra_id, extra_x, code)| async move {
                    evaluate(pool, id, &win, extra_id, extra_x, code.as_deref()).await
                })
                .await
        },
    )
    .await?;

    timed(&progress, "prize payments", async {
        payments(&mut conn, seed, &tz).await
    })
    .await?;

    // Fresh statistics before the statement rebuild reads every ticket of the period.
    timed(&progress, "ANALYZE", async {
        crate::db::query("ANALYZE tickets, jugadas, sorteos, users, account_statements")
            .execute(&mut *conn)
            .await?;
        Ok(())
    })
    .await?;

    timed(&progress, "account statements (rebuild_from)", async {
        let mut tx = conn.begin().await?;
        crate::db::statements::lock_banca(&mut tx, cat.banca_id).await?;
        crate::db::statements::rebuild_from(&mut tx, cat.banca_id, first_day).await?;
        tx.commit().await?;
        Ok(())
    })
    .await?;

    let counts: (i64, i64, i64, i64, i64) = crate::db::query_as(
        "SELECT (SELECT count(*) FROM tickets WHERE banca_id = $1),
                (SELECT count(*) FROM jugadas WHERE banca_id = $1),
                (SELECT count(*) FROM tickets WHERE banca_id = $1 AND status = 'CANCELLED'),
                (SELECT count(*) FROM tickets WHERE banca_id = $1 AND is_winner),
                (SELECT count(*) FROM tickets WHERE banca_id = $1 AND status = 'PAID')",
    )
    .bind(cat.banca_id)
    .fetch_one(&mut *conn)
    .await?;
    crate::db::query("DROP TABLE IF EXISTS ds_sorteo, ds_seller, ds_tk, ds_line")
        .execute(&mut *conn)
        .await?;
    drop(conn);

    timed(&progress, "VACUUM ANALYZE", async {
        crate::db::query(
            "VACUUM (ANALYZE) tickets, jugadas, sorteos, sales_rollup, ticket_rollup, \
             ventana_rollup, band_rollup, seller_day_rollup, seller_day_tickets, daily_number_sales, \
             number_rollup, sale_hour_rollup, \
             account_statements, ticket_payments, users",
        )
        .execute(pool)
        .await?;
        Ok(())
    })
    .await?;

    Ok(Dataset {
        banca_id: cat.banca_id,
        banca_name: cat.banca_name,
        admin: cat.admin,
        banca_user: cat.banca_user,
        ventanas: cat.ventanas,
        listeros: cat.listeros,
        vendedores: cat.vendedores,
        vendedor_usernames: cat.vendedor_usernames,
        loterias: cat.loterias,
        sorteos: cat.sorteos,
        first_day,
        last_day,
        tickets: counts.0,
        jugadas: counts.1,
        cancelled_tickets: counts.2,
        winning_tickets: counts.3,
        paid_tickets: counts.4,
        generate_ms: started.elapsed().as_secs_f64() * 1000.0,
    })
}

struct Catalog {
    banca_id: Uuid,
    banca_name: String,
    admin: DatasetLogin,
    banca_user: DatasetLogin,
    ventanas: Vec<Uuid>,
    listeros: Vec<DatasetLogin>,
    vendedores: Vec<Uuid>,
    vendedor_usernames: Vec<String>,
    loterias: Vec<Uuid>,
    sorteos: Vec<Uuid>,
}

fn login(user_id: Uuid, username: String) -> DatasetLogin {
    DatasetLogin {
        user_id,
        username,
        password: DATASET_PASSWORD.to_string(),
    }
}

/// Banca, ventanas and their listeros, vendedores, ADMIN and BANCA logins, loterías with their
/// multipliers, and the OPEN sorteos (temp table `ds_sorteo`, `ds_seller`), in one transaction.
async fn catalog(
    conn: &mut PgConnection,
    spec: &DatasetSpec,
    seed: i64,
    hash: &str,
    first_day: NaiveDate,
    last_day: NaiveDate,
    tz: &str,
) -> anyhow::Result<Catalog> {
    let p = format!("rpt{seed}");
    let mut tx = conn.begin().await?;
    let banca_name = format!("Banca Reportes {seed}");
    let banca_id: Uuid = crate::db::query_scalar(
        "INSERT INTO bancas (name, code, global_max_per_number, default_min_bet)
         VALUES ($1, $2, 999999999999.00, 100) RETURNING id",
    )
    .bind(&banca_name)
    .bind(format!("RPT{seed}"))
    .fetch_one(&mut *tx)
    .await?;

    // Ventanas: seller policy 5/6/7 % (origin VENTANA); listeros 10 / 10.5 %.
    crate::db::query(
        "INSERT INTO ventanas (banca_id, name, code, commission_policy_json)
         SELECT $1, 'Ventana ' || n, $2 || '-V' || lpad(n::text, 3, '0'),
                jsonb_build_object('version', 1, 'defaultPercent', 5 + (n - 1) % 3, 'rules',
                                   '[]'::jsonb)
         FROM generate_series(1, $3::int) AS n",
    )
    .bind(banca_id)
    .bind(p.to_uppercase())
    .bind(i32::try_from(spec.ventanas)?)
    .execute(&mut *tx)
    .await?;
    let ventanas: Vec<Uuid> =
        crate::db::query_scalar("SELECT id FROM ventanas WHERE banca_id = $1 ORDER BY code")
            .bind(banca_id)
            .fetch_all(&mut *tx)
            .await?;
    let listeros: Vec<(Uuid, String)> = crate::db::query_as(
        "INSERT INTO users (name, username, password_hash, role, ventana_id, banca_id,
                            commission_policy_json)
         SELECT 'Listero ' || n, $1 || '.l' || lpad(n::text, 3, '0'), $2, 'VENTANA',
                ($3::uuid[])[n], $4,
                jsonb_build_object('version', 1, 'defaultPercent',
                                   CASE WHEN n % 2 = 1 THEN 10 ELSE 10.5 END, 'rules', '[]'::jsonb)
         FROM generate_series(1, cardinality($3::uuid[])) AS n
         RETURNING id, username::text",
    )
    .bind(&p)
    .bind(hash)
    .bind(&ventanas)
    .bind(banca_id)
    .fetch_all(&mut *tx)
    .await?;
    let mut listeros = listeros;
    listeros.sort_by(|a, b| a.1.cmp(&b.1));

    let vendedores: Vec<(Uuid, String)> = crate::db::query_as(
        "INSERT INTO users (name, username, password_hash, role, ventana_id, banca_id,
                            commission_policy_json)
         SELECT 'Vendedor ' || n, $1 || '.v' || lpad(n::text, 4, '0'), $2, 'VENDEDOR',
                ($3::uuid[])[1 + (n - 1) % cardinality($3::uuid[])], $4,
                CASE WHEN n % 3 = 0 THEN jsonb_build_object('version', 1, 'defaultPercent',
                                                            $6::numeric, 'rules', '[]'::jsonb) END
         FROM generate_series(1, $5::int) AS n
         RETURNING id, username::text",
    )
    .bind(&p)
    .bind(hash)
    .bind(&ventanas)
    .bind(banca_id)
    .bind(i32::try_from(spec.vendedores)?)
    .bind(USER_PERCENT)
    .fetch_all(&mut *tx)
    .await?;
    let mut vendedores = vendedores;
    vendedores.sort_by(|a, b| a.1.cmp(&b.1));

    let admin_name = format!("{p}.admin");
    let admin_id: Uuid = crate::db::query_scalar(
        "INSERT INTO users (name, username, password_hash, role)
         VALUES ('Admin Reportes', $1, $2, 'ADMIN') RETURNING id",
    )
    .bind(&admin_name)
    .bind(hash)
    .fetch_one(&mut *tx)
    .await?;
    let banca_username = format!("{p}.banca");
    let banca_user_id: Uuid = crate::db::query_scalar(
        "WITH u AS (
             INSERT INTO users (name, username, password_hash, role, banca_id)
             VALUES ('Dueño Reportes', $1, $2, 'BANCA', $3) RETURNING id)
         INSERT INTO user_bancas (user_id, banca_id, is_default)
         SELECT id, $3, true FROM u RETURNING user_id",
    )
    .bind(&banca_username)
    .bind(hash)
    .bind(banca_id)
    .fetch_one(&mut *tx)
    .await?;

    // Loterías, multipliers, settings.
    let mut loterias = Vec::new();
    let mut times: Vec<String> = Vec::new();
    for i in 0..usize::try_from(spec.loterias)? {
        let (base, t) = LOTERIAS[i % LOTERIAS.len()];
        let name = if i < LOTERIAS.len() {
            base.to_string()
        } else {
            format!("{base} {}", i / LOTERIAS.len() + 1)
        };
        let id: Uuid = crate::db::query_scalar(
            "WITH l AS (
                 INSERT INTO loterias (banca_id, name, rules_json)
                 VALUES ($1, $2, '{\"digits\": 2, \"reventadoConfig\": {\"enabled\": true}}')
                 RETURNING id),
             m AS (
                 INSERT INTO loteria_multipliers (loteria_id, banca_id, name, value_x, kind)
                 SELECT l.id, $1, v.name, v.x, v.kind::bet_type FROM l,
                        (VALUES ('Base ' || $3::int, $3::numeric, 'NUMERO'),
                                ('Base ' || $4::int, $4::numeric, 'NUMERO'),
                                ('Reventado', $5::numeric, 'REVENTADO')) AS v(name, x, kind)
                 RETURNING 1),
             s AS (
                 INSERT INTO banca_loteria_settings (banca_id, loteria_id, base_multiplier_x)
                 SELECT $1, l.id, $4 FROM l RETURNING 1)
             SELECT l.id FROM l
             WHERE (SELECT count(*) FROM m) = 3 AND (SELECT count(*) FROM s) = 1",
        )
        .bind(banca_id)
        .bind(&name)
        .bind(i32::try_from(BAND_LOW_X)?)
        .bind(i32::try_from(BAND_HIGH_X)?)
        .bind(i32::try_from(REVENTADO_X)?)
        .fetch_one(&mut *tx)
        .await?;
        loterias.push(id);
        times.push(t.join(","));
    }

    // Sorteos: every lotería, every day, each draw time; OPEN until evaluated.
    crate::db::query(
        "INSERT INTO sorteos (loteria_id, banca_id, name, scheduled_at, status, digits)
         SELECT l.id, $1, l.name || ' ' || t.hm, ($5::date + d + t.hm::time) AT TIME ZONE $4,
                'OPEN', 2
         FROM unnest($2::uuid[], $3::text[]) AS lt(id, times)
         JOIN loterias l ON l.id = lt.id
         CROSS JOIN LATERAL unnest(string_to_array(lt.times, ',')) AS t(hm)
         CROSS JOIN generate_series(0, $6::date - $5::date) AS d",
    )
    .bind(banca_id)
    .bind(&loterias)
    .bind(&times)
    .bind(tz)
    .bind(first_day)
    .bind(last_day)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;

    // Working tables of this session: sorteos with their result, sellers with their percents.
    crate::db::query("DROP TABLE IF EXISTS ds_sorteo, ds_seller, ds_tk, ds_line")
        .execute(&mut *conn)
        .await?;
    let sql = format!(
        "CREATE TEMP TABLE ds_sorteo AS
         SELECT q.*, lpad(({win} % 100)::text, 2, '0') AS win, {extra} % 3 = 0 AS extra
         FROM (SELECT (row_number() OVER (ORDER BY s.scheduled_at, l.name) - 1)::int AS k,
                      s.id, s.loteria_id, s.scheduled_at,
                      (s.scheduled_at AT TIME ZONE $2)::date AS bd,
                      ((s.scheduled_at AT TIME ZONE $2)::date + time '06:00') AT TIME ZONE $2
                        AS open_at,
                      (SELECT m.id FROM loteria_multipliers m WHERE m.loteria_id = s.loteria_id
                         AND m.kind = 'NUMERO' AND m.value_x = $3) AS m_low,
                      (SELECT m.id FROM loteria_multipliers m WHERE m.loteria_id = s.loteria_id
                         AND m.kind = 'NUMERO' AND m.value_x = $4) AS m_high
               FROM sorteos s JOIN loterias l ON l.id = s.loteria_id
               WHERE s.banca_id = $1) q",
        win = h("q.k", 9, seed),
        extra = h("q.k", 10, seed),
    );
    crate::db::query(&sql)
        .bind(banca_id)
        .bind(tz)
        .bind(Decimal::from(BAND_LOW_X))
        .bind(Decimal::from(BAND_HIGH_X))
        .execute(&mut *conn)
        .await?;
    crate::db::query(
        "CREATE TEMP TABLE ds_seller AS
         SELECT (row_number() OVER (ORDER BY u.username) - 1)::int AS i, u.id, u.ventana_id,
                COALESCE((u.commission_policy_json->>'defaultPercent')::numeric,
                         (v.commission_policy_json->>'defaultPercent')::numeric) AS pct,
                CASE WHEN u.commission_policy_json IS NOT NULL THEN 'USER' ELSE 'VENTANA' END
                  AS origin,
                (SELECT (l.commission_policy_json->>'defaultPercent')::numeric FROM users l
                 WHERE l.ventana_id = u.ventana_id AND l.role = 'VENTANA') AS lpct
         FROM users u JOIN ventanas v ON v.id = u.ventana_id
         WHERE u.banca_id = $1 AND u.role = 'VENDEDOR'",
    )
    .bind(banca_id)
    .execute(&mut *conn)
    .await?;
    let sorteos: Vec<Uuid> = crate::db::query_scalar("SELECT id FROM ds_sorteo ORDER BY k")
        .fetch_all(&mut *conn)
        .await?;

    Ok(Catalog {
        banca_id,
        banca_name,
        admin: login(admin_id, admin_name),
        banca_user: login(banca_user_id, banca_username),
        ventanas,
        listeros: listeros.into_iter().map(|(id, u)| login(id, u)).collect(),
        vendedor_usernames: vendedores.iter().map(|v| v.1.clone()).collect(),
        vendedores: vendedores.into_iter().map(|v| v.0).collect(),
        loterias,
        sorteos,
    })
}

/// Tickets (`ds_tk`) and their lines (`ds_line`) planned in SQL, then written to `tickets` and
/// `jugadas` in one transaction.
async fn sales(
    conn: &mut PgConnection,
    spec: &DatasetSpec,
    seed: i64,
    banca_id: Uuid,
) -> anyhow::Result<()> {
    let n = i64::try_from(spec.jugadas)?;
    // Tickets of 3–7 lines until `n` lines; spread over the sorteos in draw order.
    let sql = format!(
        "CREATE TEMP TABLE ds_tk AS
         WITH c AS (SELECT g, 3 + {lines} % 5 AS l FROM generate_series(0, $1 / 3) AS g),
         w AS (SELECT g, l, sum(l) OVER (ORDER BY g) - l AS start FROM c),
         t AS (SELECT g, least(l, $1 - start)::int AS lines FROM w WHERE start < $1),
         n AS (SELECT count(*) AS tickets FROM t),
         ns AS (SELECT count(*) AS sorteos FROM ds_sorteo),
         nv AS (SELECT count(*) AS sellers FROM ds_seller)
         SELECT t.g, gen_random_uuid() AS id, t.lines, s.k, s.id AS sorteo_id, s.loteria_id,
                s.bd, sel.id AS vendedor_id, sel.ventana_id,
                {cancel} % 50 = 0 AS cancelled,
                s.scheduled_at
                  - make_interval(secs => 60 + {when} % greatest(1, (extract(epoch FROM
                        s.scheduled_at - s.open_at) - 120)::bigint)) AS created_at
         FROM t CROSS JOIN n CROSS JOIN ns CROSS JOIN nv
         JOIN ds_sorteo s ON s.k = (t.g * ns.sorteos / n.tickets)
         JOIN ds_seller sel ON sel.i = {seller} % nv.sellers",
        lines = h("g", 1, seed),
        cancel = h("t.g", 3, seed),
        when = h("t.g", 4, seed),
        seller = h("t.g", 2, seed),
    );
    crate::db::query(&sql).bind(n).execute(&mut *conn).await?;

    // Lines: distinct numbers (step 37 mod 100); NUMERO 80x one line in five, else 90x; one
    // ticket in three (of 3+ lines) ends with a REVENTADO on its first number.
    let sql = format!(
        "CREATE TEMP TABLE ds_line AS
         WITH l AS (
             SELECT tk.g, p, tk.cancelled,
                    tk.lines >= 3 AND p = tk.lines - 1 AND {rev} % 3 = 0 AS rev,
                    {base} % 100 AS base,
                    ({amounts})[1 + {amt} % 10] AS amount,
                    ({amounts})[1 + {amt0} % 10] AS amount0,
                    {band} % 5 = 0 AS low,
                    (ARRAY[100, 200, 250]::numeric[])[1 + {revamt} % 3] AS rev_amount,
                    s.m_low, s.m_high, sel.pct, sel.origin, sel.lpct
             FROM ds_tk tk
             CROSS JOIN LATERAL generate_series(0, tk.lines - 1) AS p
             JOIN ds_sorteo s ON s.k = tk.k
             JOIN ds_seller sel ON sel.id = tk.vendedor_id),
         v AS (
             SELECT g, p, cancelled, rev, pct, origin, lpct,
                    CASE WHEN rev THEN 'REVENTADO' ELSE 'NUMERO' END AS type,
                    lpad(CASE WHEN rev THEN base ELSE (base + p * 37) % 100 END::text, 2, '0')
                      AS number,
                    CASE WHEN rev THEN least(amount0, rev_amount) ELSE amount END AS amount,
                    CASE WHEN rev THEN 0 WHEN low THEN $1 ELSE $2 END::numeric AS x,
                    CASE WHEN rev THEN NULL WHEN low THEN m_low ELSE m_high END AS multiplier_id
             FROM l)
         SELECT v.*, round(amount * pct / 100, 2) AS camt, round(amount * lpct / 100, 2) AS lamt
         FROM v",
        rev = h("tk.g", 5, seed),
        base = h("tk.g", 6, seed),
        amt = h("tk.g * 8 + p", 7, seed),
        amt0 = h("tk.g * 8", 7, seed),
        band = h("tk.g * 8 + p", 8, seed),
        revamt = h("tk.g", 12, seed),
        amounts = AMOUNTS,
    );
    crate::db::query(&sql)
        .bind(Decimal::from(BAND_LOW_X))
        .bind(Decimal::from(BAND_HIGH_X))
        .execute(&mut *conn)
        .await?;

    let mut tx = conn.begin().await?;
    // Ticket numbers as the sale path prints them: T<YYMMDD>-<seq, 5+ digits>-<MOD 97-10>.
    crate::db::query(
        "INSERT INTO tickets (id, ticket_number, business_date, banca_id, loteria_id,
             sorteo_id, ventana_id, vendedor_id, total_amount, total_commission,
             total_listero_commission, status, is_active, created_by, created_by_role,
             cancelled_at, cancelled_by, deleted_at, created_at, updated_at)
         SELECT tk.id,
                'T' || to_char(tk.bd, 'YYMMDD') || '-' || q.seq_text || '-'
                    || lpad((98 - ((to_char(tk.bd, 'YYMMDD') || q.seq_text || '00')::numeric
                                   % 97))::text, 2, '0'),
                tk.bd, $1, tk.loteria_id, tk.sorteo_id, tk.ventana_id, tk.vendedor_id,
                sums.total, sums.comm, sums.listero,
                CASE WHEN tk.cancelled THEN 'CANCELLED' ELSE 'ACTIVE' END::ticket_status,
                NOT tk.cancelled, tk.vendedor_id, 'VENDEDOR',
                c.at, CASE WHEN tk.cancelled THEN tk.vendedor_id END, c.at,
                tk.created_at, COALESCE(c.at, tk.created_at)
         FROM (SELECT tk.*, nextval('ticket_number_seq') AS seq
               FROM (SELECT * FROM ds_tk ORDER BY g) tk) tk
         JOIN (SELECT g, sum(amount) AS total, sum(camt) AS comm, sum(lamt) AS listero
               FROM ds_line GROUP BY g) sums ON sums.g = tk.g
         CROSS JOIN LATERAL (SELECT CASE WHEN tk.seq < 100000 THEN lpad(tk.seq::text, 5, '0')
                                         ELSE tk.seq::text END AS seq_text) q
         CROSS JOIN LATERAL (SELECT CASE WHEN tk.cancelled
                                         THEN tk.created_at + interval '3 minutes' END AS at) c",
    )
    .bind(banca_id)
    .execute(&mut *tx)
    .await?;
    crate::db::query(
        "INSERT INTO jugadas (id, ticket_id, sorteo_id, banca_id, position, type, number,
             reventado_number, amount, final_multiplier_x, multiplier_id, commission_percent,
             commission_amount, commission_origin, commission_rule_id,
             listero_commission_amount, is_active, created_at, updated_at)
         SELECT gen_random_uuid(), tk.id, tk.sorteo_id, $1, l.p::int2, l.type::bet_type,
                l.number, CASE WHEN l.rev THEN l.number END, l.amount, l.x, l.multiplier_id,
                l.pct, l.camt, l.origin, NULL, l.lamt, NOT l.cancelled, tk.created_at,
                tk.created_at
         FROM ds_line l JOIN ds_tk tk ON tk.g = l.g",
    )
    .bind(banca_id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Evaluates sorteo `id` in one transaction, as `services::evaluation::evaluate` does (without
/// the activity log and the statement queue: the statements are rebuilt once at the end).
async fn evaluate(
    pool: &PgPool,
    id: Uuid,
    winning: &str,
    extra_id: Option<Uuid>,
    extra_x: Decimal,
    extra_code: Option<&str>,
) -> anyhow::Result<()> {
    let mut tx = pool.begin().await?;
    crate::db::query("SELECT 1 FROM sorteos WHERE id = $1 FOR UPDATE")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    crate::db::evaluation::mark_winners(&mut tx, id, winning, extra_id, extra_x).await?;
    crate::db::evaluation::set_evaluated(&mut tx, id, winning, extra_id, extra_x, extra_code)
        .await?;
    crate::db::statements::rebuild_number_sales(&mut tx, id).await?;
    crate::db::rollups::rebuild_sorteo(&mut tx, id).await?;
    tx.commit().await?;
    Ok(())
}

/// Pays 70 % of the winning tickets in full, once, by their seller, 1 to 13 hours after the draw
/// (never in the future): a `ticket_payments` row and the ticket's payment columns as
/// `services::payments::resync_ticket` writes them (status PAID, `paymentHistory` with times in
/// the business time zone).
async fn payments(conn: &mut PgConnection, seed: i64, tz: &str) -> anyhow::Result<()> {
    let mut tx = conn.begin().await?;
    crate::db::query("SELECT set_config('TimeZone', $1, true)")
        .bind(tz)
        .execute(&mut *tx)
        .await?;
    let sql = format!(
        "WITH w AS (
             SELECT t.id, t.banca_id, t.total_payout, t.vendedor_id, u.name,
                    least(s.scheduled_at + interval '1 hour'
                            + make_interval(mins => ({pick} % 720)::int), now()) AS at
             FROM ds_tk d JOIN tickets t ON t.id = d.id
             JOIN ds_sorteo s ON s.k = d.k
             JOIN users u ON u.id = t.vendedor_id
             WHERE t.is_winner AND t.status = 'EVALUATED' AND t.total_payout > 0
               AND {pay} % 10 < 7),
         p AS (
             INSERT INTO ticket_payments (ticket_id, banca_id, amount_paid, paid_by_id,
                 payment_date, method, is_partial, remaining_amount, is_final, completed_at,
                 created_at, updated_at)
             SELECT id, banca_id, total_payout, vendedor_id, at, 'cash', false, 0, false, at,
                    at, at
             FROM w
             RETURNING id, ticket_id, amount_paid, paid_by_id, payment_date)
         UPDATE tickets t SET
             status = 'PAID', total_paid = p.amount_paid, remaining_amount = 0,
             last_payment_at = p.payment_date, paid_by_id = p.paid_by_id,
             payment_method = 'cash',
             payment_history = jsonb_build_array(jsonb_build_object(
                 'id', p.id, 'amountPaid', p.amount_paid,
                 'paidAt', to_char(p.payment_date, 'YYYY-MM-DD\"T\"HH24:MI:SS.MSTZH:TZM'),
                 'paidById', p.paid_by_id, 'paidByName', w.name, 'method', 'cash',
                 'notes', NULL, 'isFinal', false, 'isReversed', false, 'reversedAt', NULL)),
             updated_at = p.payment_date
         FROM p JOIN w ON w.id = p.ticket_id
         WHERE t.id = p.ticket_id",
        pick = h("d.g", 11, seed),
        pay = h("d.g", 13, seed),
    );
    crate::db::query(&sql).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}
