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
