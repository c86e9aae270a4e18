//! SQL of the sale path: what a sale reads inside its transaction, the per-number counters it
//! adds to (row locks in key order), the ticket and jugadas it writes in one statement, and the
//! idempotency keys. Cancel and restore use the same counters.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{query, query_as, query_scalar};
use crate::db::sorteos::SorteoStatus;
use crate::domain::roles::Role;

/// Multiplier key of a counter that counts every jugada of the number.
pub const MKEY_ALL: Uuid = Uuid::nil();
/// Multiplier key of a counter that counts the REVENTADO jugadas of the number.
pub const MKEY_REVENTADO: Uuid = Uuid::max();

/// The sorteo of a sale, read with `FOR KEY SHARE`: a state change (which takes the row
/// `FOR UPDATE`) waits for the sales in flight, and a sale waits for a state change in flight
/// and then reads the new state.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SaleSorteo {
    pub id: Uuid,
    pub loteria_id: Uuid,
    pub banca_id: Option<Uuid>,
    pub name: String,
    pub scheduled_at: DateTime<Utc>,
    pub status: SorteoStatus,
    pub is_active: bool,
    pub deleted: bool,
    pub digits: i16,
    pub winning_number: Option<String>,
    pub loteria_name: String,
    pub loteria_rules: Value,
    /// The database clock at the start of the transaction: the sale's `now`.
    pub now: DateTime<Utc>,
}

pub async fn sorteo_for_sale(
    conn: &mut PgConnection,
    sorteo_id: Uuid,
) -> Result<Option<SaleSorteo>, sqlx::Error> {
    query_as(
        "SELECT s.id, s.loteria_id, s.banca_id, s.name, s.scheduled_at, s.status, s.is_active,
                s.deleted_at IS NOT NULL AS deleted, s.digits, s.winning_number,
                l.name AS loteria_name, l.rules_json AS loteria_rules, now() AS now
         FROM sorteos s JOIN loterias l ON l.id = s.loteria_id
         WHERE s.id = $1
         FOR KEY SHARE OF s",
    )
    .bind(sorteo_id)
    .fetch_optional(conn)
    .await
}

/// A user as the sale path needs it (the seller, or the vendedor a ticket belongs to).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SaleUser {
    pub id: Uuid,
    pub name: String,
    pub username: String,
    pub code: Option<String>,
    pub phone: Option<String>,
    pub role: Role,
    pub ventana_id: Option<Uuid>,
    pub active: bool,
    pub settings: Option<Value>,
    pub commission_policy_json: Option<Value>,
}

pub async fn user(conn: &mut PgConnection, id: Uuid) -> Result<Option<SaleUser>, sqlx::Error> {
    query_as(
        "SELECT id, name, username::text AS username, code, phone, role, ventana_id,
                is_active AND deleted_at IS NULL AS active, settings, commission_policy_json
         FROM users WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// The seller's ventana with its banca and its listero's commission policy.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SaleVentana {
    pub id: Uuid,
    pub banca_id: Uuid,
    pub name: String,
    pub code: String,
    pub phone: Option<String>,
    pub settings: Option<Value>,
    pub active: bool,
    pub ventana_policy: Option<Value>,
    pub banca_active: bool,
    pub banca_cutoff_minutes: i32,
    pub banca_policy: Option<Value>,
    pub default_min_bet: Decimal,
    pub global_max_per_number: Decimal,
    /// The policy of the ventana's listero (its most recently updated active VENTANA user).
    pub listero_policy: Option<Value>,
}

pub async fn ventana(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<SaleVentana>, sqlx::Error> {
    query_as(
        "SELECT v.id, v.banca_id, v.name, v.code, v.phone, v.settings,
                v.is_active AND v.deleted_at IS NULL AS active,
                v.commission_policy_json AS ventana_policy,
                b.is_active AND b.deleted_at IS NULL AS banca_active,
                b.sales_cutoff_minutes AS banca_cutoff_minutes,
                b.commission_policy_json AS banca_policy,
                b.default_min_bet, b.global_max_per_number,
                (SELECT u.commission_policy_json FROM users u
                  WHERE u.ventana_id = v.id AND u.role = 'VENTANA' AND u.is_active
                    AND u.deleted_at IS NULL
                  ORDER BY u.updated_at DESC, u.id DESC LIMIT 1) AS listero_policy
         FROM ventanas v JOIN bancas b ON b.id = v.banca_id
         WHERE v.id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// A multiplier of the sale's lotería, or one a jugada names.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SaleMultiplier {
    pub id: Uuid,
    pub loteria_id: Uuid,
    pub name: String,
    pub value_x: Decimal,
    pub kind: String,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
}

/// Every multiplier of lotería `loteria_id`, plus those of `ids` (which may belong to others).
pub async fn multipliers(
    conn: &mut PgConnection,
    loteria_id: Uuid,
    ids: &[Uuid],
) -> Result<Vec<SaleMultiplier>, sqlx::Error> {
    query_as(
        "SELECT id, loteria_id, name, value_x, kind::text AS kind, is_active, created_at
         FROM loteria_multipliers WHERE loteria_id = $1 OR id = ANY($2)
         ORDER BY created_at, id",
    )
    .bind(loteria_id)
    .bind(ids)
    .fetch_all(conn)
    .await
}

/// An exclusion entry of the sorteo that reaches the seller.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SaleExclusion {
    pub multiplier_id: Option<Uuid>,
    pub number: Option<String>,
}

pub async fn exclusions(
    conn: &mut PgConnection,
    sorteo_id: Uuid,
    banca_id: Uuid,
    ventana_id: Uuid,
    vendedor_id: Uuid,
) -> Result<Vec<SaleExclusion>, sqlx::Error> {
    query_as(
        "SELECT multiplier_id, number FROM sorteo_lista_exclusions
         WHERE sorteo_id = $1 AND banca_id = $2
           AND (ventana_id IS NULL OR ventana_id = $3)
           AND (vendedor_id IS NULL OR vendedor_id = $4)",
    )
    .bind(sorteo_id)
    .bind(banca_id)
    .bind(ventana_id)
    .bind(vendedor_id)
    .fetch_all(conn)
    .await
}

/// Live sales of the sorteo so far (tickets not cancelled or excluded), per scope.
#[derive(Debug, Clone, Copy, sqlx::FromRow)]
pub struct ScopeSales {
    pub vendedor: Decimal,
    pub ventana: Decimal,
    pub banca: Decimal,
}

pub async fn scope_sales(
    conn: &mut PgConnection,
    sorteo_id: Uuid,
    banca_id: Uuid,
    ventana_id: Uuid,
    vendedor_id: Uuid,
) -> Result<ScopeSales, sqlx::Error> {
    query_as(
        "SELECT COALESCE(SUM(total_amount) FILTER (WHERE vendedor_id = $4), 0) AS vendedor,
                COALESCE(SUM(total_amount) FILTER (WHERE ventana_id = $3), 0) AS ventana,
                COALESCE(SUM(total_amount), 0) AS banca
         FROM tickets
         WHERE sorteo_id = $1 AND banca_id = $2 AND deleted_at IS NULL
           AND status IN ('ACTIVE', 'EVALUATED', 'PAID', 'PAGADO')",
    )
    .bind(sorteo_id)
    .bind(banca_id)
    .bind(ventana_id)
    .bind(vendedor_id)
    .fetch_one(conn)
    .await
}

/// The next ticket sequence value (never rolled back, never reused).
pub async fn next_ticket_seq(conn: &mut PgConnection) -> Result<i64, sqlx::Error> {
    query_scalar("SELECT nextval('ticket_number_seq')")
        .fetch_one(conn)
        .await
}

/// One counter change: `amount` (positive to sell, negative to release) on
/// (scope, multiplier key, number) of the sorteo.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct CounterDelta {
    pub scope_id: Uuid,
    pub mkey: Uuid,
    pub number: String,
    pub scope_kind: &'static str,
    pub amount: Decimal,
}

/// A counter's value after a change.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CounterValue {
    pub scope_id: Uuid,
    pub mkey: Uuid,
    pub number: String,
    pub amount: Decimal,
}

/// Adds `deltas` to the sorteo's counters (creating missing ones) and returns the new values.
/// Rows are locked in (scope, key, number) order, the same order every writer uses, so
/// concurrent sales and cancellations never deadlock; the locks are held until the
/// transaction ends, so the returned values are exact for the rest of it.
pub async fn add_to_counters(
    conn: &mut PgConnection,
    sorteo_id: Uuid,
    deltas: &[CounterDelta],
) -> Result<Vec<CounterValue>, sqlx::Error> {
    let mut sorted: Vec<&CounterDelta> = deltas.iter().collect();
    sorted.sort();
    let kinds: Vec<&str> = sorted.iter().map(|d| d.scope_kind).collect();
    let scopes: Vec<Uuid> = sorted.iter().map(|d| d.scope_id).collect();
    let mkeys: Vec<Uuid> = sorted.iter().map(|d| d.mkey).collect();
    let numbers: Vec<&str> = sorted.iter().map(|d| d.number.as_str()).collect();
    let amounts: Vec<Decimal> = sorted.iter().map(|d| d.amount).collect();
    query_as(
        "INSERT INTO sale_counters AS c (sorteo_id, scope_kind, scope_id, mkey, number, amount)
         SELECT $1, k, s, m, n, a
         FROM unnest($2::text[], $3::uuid[], $4::uuid[], $5::text[], $6::numeric[])
              WITH ORDINALITY AS t(k, s, m, n, a, i)
         ORDER BY i
         ON CONFLICT (sorteo_id, scope_id, mkey, number)
         DO UPDATE SET amount = c.amount + EXCLUDED.amount
         RETURNING c.scope_id, c.mkey, c.number, c.amount",
    )
    .bind(sorteo_id)
    .bind(&kinds)
    .bind(&scopes)
    .bind(&mkeys)
    .bind(&numbers)
    .bind(&amounts)
    .fetch_all(conn)
    .await
}

/// Subtracts `deltas` (positive amounts) from existing counters, locking them in key order
/// first (the order every writer uses). A counter that would go negative fails the statement
/// (CHECK): the counters disagree with the jugadas, and the transaction rolls back rather than
/// guess.
pub async fn release_counters(
    conn: &mut PgConnection,
    sorteo_id: Uuid,
    deltas: &[CounterDelta],
) -> Result<(), sqlx::Error> {
    let mut sorted: Vec<&CounterDelta> = deltas.iter().collect();
    sorted.sort();
    let scopes: Vec<Uuid> = sorted.iter().map(|d| d.scope_id).collect();
    let mkeys: Vec<Uuid> = sorted.iter().map(|d| d.mkey).collect();
    let numbers: Vec<&str> = sorted.iter().map(|d| d.number.as_str()).collect();
    let amounts: Vec<Decimal> = sorted.iter().map(|d| d.amount).collect();
    query(
        "SELECT 1 FROM sale_counters c
         JOIN unnest($2::uuid[], $3::uuid[], $4::text[]) AS d(s, m, n)
           ON c.scope_id = d.s AND c.mkey = d.m AND c.number = d.n
         WHERE c.sorteo_id = $1
         ORDER BY c.scope_id, c.mkey, c.number
         FOR UPDATE OF c",
    )
    .bind(sorteo_id)
    .bind(&scopes)
    .bind(&mkeys)
    .bind(&numbers)
    .execute(&mut *conn)
    .await?;
    query(
        "UPDATE sale_counters c SET amount = c.amount - d.a
         FROM unnest($2::uuid[], $3::uuid[], $4::text[], $5::numeric[]) AS d(s, m, n, a)
         WHERE c.sorteo_id = $1 AND c.scope_id = d.s AND c.mkey = d.m AND c.number = d.n",
    )
    .bind(sorteo_id)
    .bind(&scopes)
    .bind(&mkeys)
    .bind(&numbers)
    .bind(&amounts)
    .execute(conn)
    .await
    .map(|_| ())
}

/// The idempotency record of (user, key), if live.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredResponse {
    pub request_hash: String,
    pub status_code: Option<i16>,
    pub response_body: Option<Vec<u8>>,
}

pub async fn find_idempotent(
    conn: &mut PgConnection,
    user_id: Uuid,
    key: &str,
) -> Result<Option<StoredResponse>, sqlx::Error> {
    query_as(
        "SELECT request_hash, status_code, response_body FROM idempotency_keys
         WHERE user_id = $1 AND key = $2 AND expires_at > now()",
    )
    .bind(user_id)
    .bind(key)
    .fetch_optional(conn)
    .await
}

/// Claims (user, key) for this transaction. `false` when a live record exists: a twin
/// committed it (this call waited for the twin's transaction to end). An expired record is
/// taken over.
pub async fn claim_idempotent(
    conn: &mut PgConnection,
    user_id: Uuid,
    key: &str,
    request_hash: &str,
    ttl_seconds: i64,
) -> Result<bool, sqlx::Error> {
    let claimed: Option<i32> = query_scalar(
        "INSERT INTO idempotency_keys AS k (user_id, key, request_hash, expires_at)
         VALUES ($1, $2, $3, now() + make_interval(secs => $4))
         ON CONFLICT (user_id, key) DO UPDATE
             SET request_hash = EXCLUDED.request_hash, ticket_id = NULL, status_code = NULL,
                 response_body = NULL, created_at = now(), expires_at = EXCLUDED.expires_at
             WHERE k.expires_at <= now()
         RETURNING 1",
    )
    .bind(user_id)
    .bind(key)
    .bind(request_hash)
    .bind(ttl_seconds as f64)
    .fetch_optional(conn)
    .await?;
    Ok(claimed.is_some())
}

/// A ticket as the sale writes it.
#[derive(Debug, Clone)]
pub struct NewTicket<'a> {
    pub id: Uuid,
    pub ticket_number: &'a str,
    pub business_date: NaiveDate,
    pub banca_id: Uuid,
    pub loteria_id: Uuid,
    pub sorteo_id: Uuid,
    pub ventana_id: Uuid,
    pub vendedor_id: Uuid,
    pub total_amount: Decimal,
    pub total_commission: Decimal,
    pub total_listero_commission: Decimal,
    pub cliente_nombre: &'a str,
    pub created_by: Uuid,
    pub created_by_role: Role,
    pub idempotency_key: Option<&'a str>,
    pub created_at: DateTime<Utc>,
}

/// A jugada as the sale writes it.
#[derive(Debug, Clone)]
pub struct NewJugada {
    pub id: Uuid,
    pub position: i16,
    pub kind: &'static str,
    pub number: String,
    pub reventado_number: Option<String>,
    pub amount: Decimal,
    pub final_multiplier_x: Decimal,
    pub multiplier_id: Option<Uuid>,
    pub commission_percent: Decimal,
    pub commission_amount: Decimal,
    pub commission_origin: Option<&'static str>,
    pub commission_rule_id: Option<String>,
    pub listero_commission_amount: Decimal,
}

/// The stored answer of an idempotent sale.
#[derive(Debug, Clone)]
pub struct IdempotentAnswer<'a> {
    pub user_id: Uuid,
    pub key: &'a str,
    pub status_code: i16,
    pub body: &'a [u8],
}

/// Writes the ticket, its jugadas and (for an idempotent sale) its stored answer in one
/// statement.
pub async fn insert_ticket(
    conn: &mut PgConnection,
    t: &NewTicket<'_>,
    jugadas: &[NewJugada],
    answer: Option<&IdempotentAnswer<'_>>,
) -> Result<(), sqlx::Error> {
    let ids: Vec<Uuid> = jugadas.iter().map(|j| j.id).collect();
    let positions: Vec<i16> = jugadas.iter().map(|j| j.position).collect();
    let kinds: Vec<&str> = jugadas.iter().map(|j| j.kind).collect();
    let numbers: Vec<&str> = jugadas.iter().map(|j| j.number.as_str()).collect();
    let reventados: Vec<Option<&str>> = jugadas
        .iter()
        .map(|j| j.reventado_number.as_deref())
        .collect();
    let amounts: Vec<Decimal> = jugadas.iter().map(|j| j.amount).collect();
    let xs: Vec<Decimal> = jugadas.iter().map(|j| j.final_multiplier_x).collect();
    let mults: Vec<Option<Uuid>> = jugadas.iter().map(|j| j.multiplier_id).collect();
    let pcts: Vec<Decimal> = jugadas.iter().map(|j| j.commission_percent).collect();
    let camts: Vec<Decimal> = jugadas.iter().map(|j| j.commission_amount).collect();
    let origins: Vec<Option<&str>> = jugadas.iter().map(|j| j.commission_origin).collect();
    let rules: Vec<Option<&str>> = jugadas
        .iter()
        .map(|j| j.commission_rule_id.as_deref())
        .collect();
    let lamts: Vec<Decimal> = jugadas
        .iter()
        .map(|j| j.listero_commission_amount)
        .collect();
    query(
        "WITH t AS (
             INSERT INTO tickets (id, ticket_number, business_date, banca_id, loteria_id,
                 sorteo_id, ventana_id, vendedor_id, total_amount, total_commission,
                 total_listero_commission, cliente_nombre, created_by, created_by_role,
                 idempotency_key, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16)
             RETURNING id),
         j AS (
             INSERT INTO jugadas (id, ticket_id, sorteo_id, banca_id, position, type, number,
                 reventado_number, amount, final_multiplier_x, multiplier_id, commission_percent,
                 commission_amount, commission_origin, commission_rule_id,
                 listero_commission_amount, created_at, updated_at)
             SELECT u.id, t.id, $6, $4, u.pos, u.kind::bet_type, u.num, u.rev, u.amount, u.x,
                    u.mult, u.pct, u.camt, u.origin, u.rule, u.lamt, $16, $16
             FROM t, unnest($17::uuid[], $18::int2[], $19::text[], $20::text[], $21::text[],
                            $22::numeric[], $23::numeric[], $24::uuid[], $25::numeric[],
                            $26::numeric[], $27::text[], $28::text[], $29::numeric[])
                  AS u(id, pos, kind, num, rev, amount, x, mult, pct, camt, origin, rule, lamt)
             RETURNING 1),
         k AS (
             UPDATE idempotency_keys SET ticket_id = (SELECT id FROM t), status_code = $31,
                    response_body = $32
             WHERE $30::uuid IS NOT NULL AND user_id = $30 AND key = $33
             RETURNING 1)
         SELECT (SELECT count(*) FROM j) + (SELECT count(*) FROM k)",
    )
    .bind(t.id)
    .bind(t.ticket_number)
    .bind(t.business_date)
    .bind(t.banca_id)
    .bind(t.loteria_id)
    .bind(t.sorteo_id)
    .bind(t.ventana_id)
    .bind(t.vendedor_id)
    .bind(t.total_amount)
    .bind(t.total_commission)
    .bind(t.total_listero_commission)
    .bind(t.cliente_nombre)
    .bind(t.created_by)
    .bind(t.created_by_role)
    .bind(t.idempotency_key)
    .bind(t.created_at)
    .bind(&ids)
    .bind(&positions)
    .bind(&kinds)
    .bind(&numbers)
    .bind(&reventados)
    .bind(&amounts)
    .bind(&xs)
    .bind(&mults)
    .bind(&pcts)
    .bind(&camts)
    .bind(&origins)
    .bind(&rules)
    .bind(&lamts)
    .bind(answer.map(|a| a.user_id))
    .bind(answer.map(|a| a.status_code))
    .bind(answer.map(|a| a.body))
    .bind(answer.map(|a| a.key))
    .execute(conn)
    .await
    .map(|_| ())
}

/// A ticket row locked for a state change (cancel, restore).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LockedTicket {
    pub id: Uuid,
    pub ticket_number: String,
    pub banca_id: Uuid,
    pub sorteo_id: Uuid,
    pub ventana_id: Uuid,
    pub vendedor_id: Uuid,
    pub total_amount: Decimal,
    pub status: String,
    pub created_by_role: Option<Role>,
}

/// Reads the ticket's sorteo id without locking (to lock the sorteo first, then the ticket).
pub async fn ticket_sorteo(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<Uuid>, sqlx::Error> {
    query_scalar("SELECT sorteo_id FROM tickets WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await
}

pub async fn lock_ticket(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<LockedTicket>, sqlx::Error> {
    query_as(
        "SELECT id, ticket_number, banca_id, sorteo_id, ventana_id, vendedor_id, total_amount,
                status::text AS status, created_by_role
         FROM tickets WHERE id = $1 FOR UPDATE",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// A live jugada of a ticket, as the counters count it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CountedJugada {
    pub kind: String,
    pub number: String,
    pub amount: Decimal,
    pub multiplier_id: Option<Uuid>,
}

/// The jugadas of a ticket that count against limits: active and not excluded.
pub async fn counted_jugadas(
    conn: &mut PgConnection,
    ticket_id: Uuid,
) -> Result<Vec<CountedJugada>, sqlx::Error> {
    query_as(
        "SELECT type::text AS kind, number, amount, multiplier_id FROM jugadas
         WHERE ticket_id = $1 AND is_active AND NOT is_excluded AND deleted_at IS NULL
         ORDER BY position",
    )
    .bind(ticket_id)
    .fetch_all(conn)
    .await
}

/// The jugadas a restore brings back: every non-excluded jugada of the ticket.
pub async fn restorable_jugadas(
    conn: &mut PgConnection,
    ticket_id: Uuid,
) -> Result<Vec<CountedJugada>, sqlx::Error> {
    query_as(
        "SELECT type::text AS kind, number, amount, multiplier_id FROM jugadas
         WHERE ticket_id = $1 AND NOT is_excluded AND deleted_at IS NULL
         ORDER BY position",
    )
    .bind(ticket_id)
    .fetch_all(conn)
    .await
}

/// Marks a ticket CANCELLED (inactive, `deleted_at` and `cancelled_*` set) and its jugadas
/// inactive.
pub async fn mark_cancelled(
    conn: &mut PgConnection,
    id: Uuid,
    by: Uuid,
) -> Result<(), sqlx::Error> {
    query(
        "WITH t AS (
             UPDATE tickets SET status = 'CANCELLED', is_active = false, deleted_at = now(),
                    cancelled_at = now(), cancelled_by = $2, updated_at = now()
             WHERE id = $1 RETURNING id)
         UPDATE jugadas SET is_active = false, updated_at = now()
         WHERE ticket_id = (SELECT id FROM t) AND is_active",
    )
    .bind(id)
    .bind(by)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Marks a cancelled ticket ACTIVE again (clearing `deleted_at` and `cancelled_*`) and its
/// non-excluded jugadas active.
pub async fn mark_restored(conn: &mut PgConnection, id: Uuid) -> Result<(), sqlx::Error> {
    query(
        "WITH t AS (
             UPDATE tickets SET status = 'ACTIVE', is_active = true, deleted_at = NULL,
                    deleted_by = NULL, deleted_reason = NULL, cancelled_at = NULL,
                    cancelled_by = NULL, updated_at = now()
             WHERE id = $1 RETURNING id)
         UPDATE jugadas SET is_active = true, updated_at = now()
         WHERE ticket_id = (SELECT id FROM t) AND NOT is_excluded AND deleted_at IS NULL",
    )
    .bind(id)
    .execute(conn)
    .await
    .map(|_| ())
}

/// `print_count += 1`; the new count.
pub async fn bump_print_count(conn: &mut PgConnection, id: Uuid) -> Result<i32, sqlx::Error> {
    query_scalar(
        "UPDATE tickets SET print_count = print_count + 1, updated_at = now()
         WHERE id = $1 RETURNING print_count",
    )
    .bind(id)
    .fetch_one(conn)
    .await
}

/// Deletes expired idempotency records; how many.
pub async fn purge_expired_keys(conn: &mut PgConnection) -> Result<u64, sqlx::Error> {
    query("DELETE FROM idempotency_keys WHERE expires_at <= now()")
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
}
