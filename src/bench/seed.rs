//! The bench's demo catalog: one banca with 4 ventanas and 64 vendedores, one lotería `BENCH`
//! with a `Base` NUMERO multiplier (90x), open sorteos a day ahead (no cutoff in sight), and one
//! limit rule on the hot number of scenario b.

use sqlx::PgPool;
use uuid::Uuid;

/// Password of every bench seller.
pub const SELLER_PASSWORD: &str = "bench-pass-123";
/// Sellers created: each worker sells as its own vendedor (worker `i` → seller `i % SELLERS`).
pub const SELLERS: usize = 64;
/// Ventanas the sellers are spread over.
pub const VENTANAS: usize = 4;
/// The hot number of scenario b; the spread scenarios never sell it.
pub const HOT_NUMBER: &str = "13";
/// Scenario b's `maxTotal` on the hot number (banca scope, its own sorteo).
pub const HOT_LIMIT: u32 = 10_000;
/// Scenario b's amount per buyer: exactly `HOT_LIMIT / HOT_AMOUNT` buyers succeed.
pub const HOT_AMOUNT: u32 = 100;
/// The banca's `globalMaxPerNumber`, out of the way of the spread scenarios (NUMERIC(14,2) max).
const GLOBAL_MAX_PER_NUMBER: &str = "999999999999.00";

/// What the seed created.
#[derive(Debug, Clone)]
pub struct Catalog {
    pub loteria_id: Uuid,
    pub multiplier_id: Uuid,
    /// Usernames of the sellers, in order.
    pub sellers: Vec<String>,
    /// Sorteo of scenarios a1/a16/a64.
    pub sorteo_a: Uuid,
    /// Sorteo of scenario b (the only one with the hot-number rule).
    pub sorteo_b: Uuid,
    /// The 4 sorteos of scenario c.
    pub sorteos_c: Vec<Uuid>,
}

/// Creates the catalog in one transaction. Hashes the sellers' password once.
pub async fn seed(pool: &PgPool) -> anyhow::Result<Catalog> {
    let hash =
        tokio::task::spawn_blocking(|| crate::domain::password::hash(SELLER_PASSWORD)).await??;
    let mut tx = pool.begin().await?;

    let banca_id: Uuid = crate::db::query_scalar(
        "INSERT INTO bancas (name, code, global_max_per_number) \
         VALUES ('Banca Bench', 'BENCH', $1::numeric) RETURNING id",
    )
    .bind(GLOBAL_MAX_PER_NUMBER)
    .fetch_one(&mut *tx)
    .await?;

    let mut ventanas = Vec::with_capacity(VENTANAS);
    for v in 1..=VENTANAS {
        let id: Uuid = crate::db::query_scalar(
            "INSERT INTO ventanas (banca_id, name, code) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(banca_id)
        .bind(format!("Ventana Bench {v}"))
        .bind(format!("BENCH-V{v}"))
        .fetch_one(&mut *tx)
        .await?;
        ventanas.push(id);
    }

    let sellers: Vec<String> = crate::db::query_scalar(
        "INSERT INTO users (name, username, password_hash, role, ventana_id, banca_id) \
         SELECT 'Vendedor Bench ' || n, 'bench.v' || lpad(n::text, 2, '0'), $1, 'VENDEDOR', \
                ($2::uuid[])[1 + (n - 1) % cardinality($2::uuid[])], $3 \
         FROM generate_series(1, $4::int) AS n ORDER BY n \
         RETURNING username::text",
    )
    .bind(&hash)
    .bind(&ventanas)
    .bind(banca_id)
    .bind(SELLERS as i32)
    .fetch_all(&mut *tx)
    .await?;
    let mut sellers = sellers;
    sellers.sort();

    let loteria_id: Uuid = crate::db::query_scalar(
        "INSERT INTO loterias (banca_id, name, rules_json) \
         VALUES ($1, 'BENCH', '{\"digits\":2}'::jsonb) RETURNING id",
    )
    .bind(banca_id)
    .fetch_one(&mut *tx)
    .await?;

    let multiplier_id: Uuid = crate::db::query_scalar(
        "INSERT INTO loteria_multipliers (loteria_id, banca_id, name, value_x, kind) \
         VALUES ($1, $2, 'Base', 90, 'NUMERO') RETURNING id",
    )
    .bind(loteria_id)
    .bind(banca_id)
    .fetch_one(&mut *tx)
    .await?;

    crate::db::query(
        "INSERT INTO banca_loteria_settings (banca_id, loteria_id, base_multiplier_x) \
         VALUES ($1, $2, 90)",
    )
    .bind(banca_id)
    .bind(loteria_id)
    .execute(&mut *tx)
    .await?;

    // Six open sorteos a day ahead, an hour apart: A, B, C1..C4.
    let mut sorteos = Vec::with_capacity(6);
    for (i, name) in [
        "BENCH A", "BENCH B", "BENCH C1", "BENCH C2", "BENCH C3", "BENCH C4",
    ]
    .into_iter()
    .enumerate()
    {
        let id: Uuid = crate::db::query_scalar(
            "INSERT INTO sorteos (loteria_id, banca_id, name, scheduled_at, status, digits) \
             VALUES ($1, $2, $3, date_trunc('minute', now()) + interval '1 day' \
                     + $4::int * interval '1 hour', 'OPEN', 2) \
             RETURNING id",
        )
        .bind(loteria_id)
        .bind(banca_id)
        .bind(name)
        .bind(i as i32)
        .fetch_one(&mut *tx)
        .await?;
        sorteos.push(id);
    }

    crate::db::query(
        "INSERT INTO restriction_rules \
             (owner_banca_id, banca_id, number, max_total, loteria_id, sorteo_id, message) \
         VALUES ($1, $1, $2, $3::numeric, $4, $5, 'bench: hot number limit')",
    )
    .bind(banca_id)
    .bind(HOT_NUMBER)
    .bind(HOT_LIMIT.to_string())
    .bind(loteria_id)
    .bind(sorteos[1])
    .execute(&mut *tx)
    .await?;

    tx.commit().await?;
    Ok(Catalog {
        loteria_id,
        multiplier_id,
        sellers,
        sorteo_a: sorteos[0],
        sorteo_b: sorteos[1],
        sorteos_c: sorteos[2..].to_vec(),
    })
}

/// Username of the bench's ADMIN (scenario e evaluates as it); its password is
/// [`SELLER_PASSWORD`].
pub const ADMIN_USERNAME: &str = "bench.admin";
/// Value of the REVENTADO multiplier scenario e creates when the lotería has none.
pub const REVENTADO_X: u32 = 5;
/// Lines per seeded ticket of scenario e (the last ticket may have fewer).
pub const EVAL_LINES_PER_TICKET: u32 = 5;
/// Seller commission percent written on scenario e's jugadas (origin VENTANA).
const EVAL_COMMISSION_PERCENT: u32 = 5;

/// Creates the ADMIN (once), finds or creates an active REVENTADO multiplier of the lotería.
/// Returns the multiplier's id and value.
pub async fn seed_eval_catalog(
    pool: &PgPool,
    catalog: &Catalog,
) -> anyhow::Result<(Uuid, rust_decimal::Decimal)> {
    let hash =
        tokio::task::spawn_blocking(|| crate::domain::password::hash(SELLER_PASSWORD)).await??;
    crate::db::query(
        "INSERT INTO users (name, username, password_hash, role) \
         VALUES ('Admin Bench', $1, $2, 'ADMIN') ON CONFLICT (username) DO NOTHING",
    )
    .bind(ADMIN_USERNAME)
    .bind(&hash)
    .execute(pool)
    .await?;
    let found: Option<(Uuid, rust_decimal::Decimal)> = crate::db::query_as(
        "SELECT id, value_x FROM loteria_multipliers \
         WHERE loteria_id = $1 AND kind = 'REVENTADO' AND is_active \
           AND applies_to_sorteo_id IS NULL ORDER BY created_at, id LIMIT 1",
    )
    .bind(catalog.loteria_id)
    .fetch_optional(pool)
    .await?;
    if let Some(m) = found {
        return Ok(m);
    }
    let m = crate::db::query_as(
        "INSERT INTO loteria_multipliers (loteria_id, banca_id, name, value_x, kind) \
         SELECT l.id, l.banca_id, 'Reventado', $2, 'REVENTADO' FROM loterias l WHERE l.id = $1 \
         RETURNING id, value_x",
    )
    .bind(catalog.loteria_id)
    .bind(rust_decimal::Decimal::from(REVENTADO_X))
    .fetch_one(pool)
    .await?;
    Ok(m)
}

/// Creates a fresh OPEN sorteo of the bench lotería a day ahead, after the six of the catalog
/// (`index` hours later for a repeated scenario e); returns its id.
pub async fn seed_eval_sorteo(
    pool: &PgPool,
    catalog: &Catalog,
    name: &str,
    index: u32,
) -> anyhow::Result<Uuid> {
    let id = crate::db::query_scalar(
        "INSERT INTO sorteos (loteria_id, banca_id, name, scheduled_at, status, digits) \
         SELECT l.id, l.banca_id, $2, date_trunc('minute', now()) + interval '1 day' \
                + (7 + $3::int) * interval '1 hour', 'OPEN', 2 \
         FROM loterias l WHERE l.id = $1 RETURNING id",
    )
    .bind(catalog.loteria_id)
    .bind(name)
    .bind(i32::try_from(index).unwrap_or(0))
    .fetch_one(pool)
    .await?;
    Ok(id)
}

/// Writes `jugadas` jugadas on sorteo `sorteo_id` in one set-based statement, as the sale path
/// (`db::sale::write_sale`) would have: tickets of [`EVAL_LINES_PER_TICKET`] lines sold by the
/// bench's vendedores in turn (their ventana, `created_by` = the seller, role VENDEDOR), real
/// ticket numbers from `ticket_number_seq` (`T<YYMMDD>-<seq>-<CC>`, business date = the
/// sorteo's date in `tz`), numbers spread over 00–99 (distinct within a ticket), amounts
/// 100–1,000, a 5 % VENTANA commission. Every second ticket's last line is a REVENTADO on the
/// number of the line before it (`reventado_number` set, `final_multiplier_x` 0, no
/// multiplier); every other line is a NUMERO with the lotería's `Base` multiplier and its
/// value. Returns (tickets, jugadas, REVENTADO jugadas).
pub async fn seed_eval_jugadas(
    pool: &PgPool,
    catalog: &Catalog,
    sorteo_id: Uuid,
    tz: &str,
    jugadas: u32,
) -> anyhow::Result<(i64, i64, i64)> {
    let sql = format!(
        "WITH s AS ( \
             SELECT id, loteria_id, banca_id, (scheduled_at AT TIME ZONE $3)::date AS bd \
             FROM sorteos WHERE id = $1), \
         m AS (SELECT id, value_x FROM loteria_multipliers WHERE id = $4), \
         sellers AS ( \
             SELECT array_agg(u.id ORDER BY u.username) AS ids, \
                    array_agg(u.ventana_id ORDER BY u.username) AS vs \
             FROM users u, s WHERE u.banca_id = s.banca_id AND u.role = 'VENDEDOR' \
               AND u.deleted_at IS NULL), \
         tk AS MATERIALIZED ( \
             SELECT g, gen_random_uuid() AS id, nextval('ticket_number_seq') AS seq, \
                    sellers.ids[1 + g % cardinality(sellers.ids)] AS vendedor_id, \
                    sellers.vs[1 + g % cardinality(sellers.vs)] AS ventana_id \
             FROM generate_series(0, ($2 - 1) / {n}) AS g, sellers), \
         ln AS MATERIALIZED ( \
             SELECT tk.id AS ticket_id, p::int2 AS position, \
                    p = {last} AND tk.g % 2 = 0 AS rev, \
                    lpad(((tk.g * 37 + CASE WHEN p = {last} AND tk.g % 2 = 0 THEN p - 1 ELSE p END \
                           * 19) % 100)::text, 2, '0') AS number, \
                    (ARRAY[100, 200, 500, 1000, 250])[1 + (tk.g + p) % 5]::numeric AS amount \
             FROM tk CROSS JOIN generate_series(0, {last}) AS p \
             WHERE tk.g * {n} + p < $2), \
         j AS ( \
             INSERT INTO jugadas (id, ticket_id, sorteo_id, banca_id, position, type, number, \
                 reventado_number, amount, final_multiplier_x, multiplier_id, commission_percent, \
                 commission_amount, commission_origin, commission_rule_id, \
                 listero_commission_amount, created_at, updated_at) \
             SELECT gen_random_uuid(), ln.ticket_id, s.id, s.banca_id, ln.position, \
                    CASE WHEN ln.rev THEN 'REVENTADO' ELSE 'NUMERO' END::bet_type, ln.number, \
                    CASE WHEN ln.rev THEN ln.number END, ln.amount, \
                    CASE WHEN ln.rev THEN 0 ELSE m.value_x END, \
                    CASE WHEN ln.rev THEN NULL ELSE m.id END, \
                    {pct}, round(ln.amount * {pct} / 100, 2), 'VENTANA', NULL, 0, now(), now() \
             FROM ln, s, m \
             RETURNING type = 'REVENTADO' AS rev_flag), \
         sums AS ( \
             SELECT ticket_id, sum(amount) AS total, sum(round(amount * {pct} / 100, 2)) AS comm \
             FROM ln GROUP BY ticket_id), \
         t AS ( \
             INSERT INTO tickets (id, ticket_number, business_date, banca_id, loteria_id, \
                 sorteo_id, ventana_id, vendedor_id, total_amount, total_commission, \
                 total_listero_commission, created_by, created_by_role, created_at, updated_at) \
             SELECT tk.id, \
                    'T' || to_char(s.bd, 'YYMMDD') || '-' || q.seq_text || '-' \
                        || lpad((98 - ((to_char(s.bd, 'YYMMDD') || q.seq_text || '00')::numeric \
                                       % 97))::text, 2, '0'), \
                    s.bd, s.banca_id, s.loteria_id, s.id, tk.ventana_id, tk.vendedor_id, \
                    sums.total, sums.comm, 0, tk.vendedor_id, 'VENDEDOR', now(), now() \
             FROM tk JOIN sums ON sums.ticket_id = tk.id \
             CROSS JOIN s \
             CROSS JOIN LATERAL (SELECT CASE WHEN tk.seq < 100000 THEN lpad(tk.seq::text, 5, '0') \
                                             ELSE tk.seq::text END AS seq_text) q \
             RETURNING 1) \
         SELECT (SELECT count(*) FROM t), (SELECT count(*) FROM j), \
                (SELECT count(*) FILTER (WHERE rev_flag) FROM j)",
        n = EVAL_LINES_PER_TICKET,
        last = EVAL_LINES_PER_TICKET - 1,
        pct = EVAL_COMMISSION_PERCENT,
    );
    let counts: (i64, i64, i64) = crate::db::query_as(&sql)
        .bind(sorteo_id)
        .bind(i32::try_from(jugadas).unwrap_or(i32::MAX))
        .bind(tz)
        .bind(catalog.multiplier_id)
        .fetch_one(pool)
        .await?;
    Ok(counts)
}

/// Writes the per-number running totals of sorteo `sorteo_id`'s jugadas, as the sale path
/// keeps them (scopes vendedor, ventana, banca; keys nil = all, the multiplier of NUMERO lines,
/// max uuid = REVENTADO), so the verification's counter check covers the seeded sorteo too.
/// Returns the rows written.
pub async fn seed_eval_counters(pool: &PgPool, sorteo_id: Uuid) -> anyhow::Result<i64> {
    let rows = crate::db::query(
        "INSERT INTO sale_counters (sorteo_id, scope_kind, scope_id, mkey, number, amount) \
         SELECT j.sorteo_id, sc.kind, sc.id, k.mkey, j.number, sum(j.amount) \
         FROM jugadas j JOIN tickets t ON t.id = j.ticket_id \
         CROSS JOIN LATERAL (VALUES ('VENDEDOR', t.vendedor_id), ('VENTANA', t.ventana_id), \
                                    ('BANCA', t.banca_id)) AS sc(kind, id) \
         CROSS JOIN LATERAL (VALUES ('00000000-0000-0000-0000-000000000000'::uuid), \
                 (CASE WHEN j.type = 'NUMERO' THEN j.multiplier_id \
                       ELSE 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid END)) AS k(mkey) \
         WHERE j.sorteo_id = $1 AND k.mkey IS NOT NULL \
         GROUP BY 1, 2, 3, 4, 5",
    )
    .bind(sorteo_id)
    .execute(pool)
    .await?
    .rows_affected();
    Ok(i64::try_from(rows).unwrap_or(i64::MAX))
}
