//! SQL of the ticket reads: the list (one page, its count, and the page's jugadas), the detail
//! with its relations, the look-up by number, the filter options, the per-number totals of the
//! numbers summary (from the jugadas or from the running totals in `sale_counters`) and what the
//! balances need (sorteo sales per scope, counters per scope).
//!
//! The list-like statements are assembled from the filters that are present only (no
//! `$n IS NULL OR …` guards), so the planner sees plain predicates and uses the
//! `(banca_id | ventana_id | vendedor_id, business_date, created_at DESC)` indexes.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::db::bancas::like_contains;
use crate::db::{query_as, query_scalar};
use crate::domain::roles::Role;

/// The counter keys, as the sale path writes them.
pub use crate::db::sale::{MKEY_ALL, MKEY_REVENTADO};

/// Every `ticket_status`.
pub const ALL_STATUSES: [&str; 7] = [
    "ACTIVE",
    "EVALUATED",
    "PAID",
    "PAGADO",
    "CANCELLED",
    "RESTORED",
    "EXCLUDED",
];

/// Statuses whose jugadas count as sold (summaries, percentage limits).
pub const SOLD_STATUSES: [&str; 4] = ["ACTIVE", "EVALUATED", "PAID", "PAGADO"];

// ---------------------------------------------------------------------------------------------
// Statement assembly.

/// One bind parameter of an assembled statement.
#[derive(Debug, Clone)]
enum Arg {
    Uuid(Uuid),
    Uuids(Vec<Uuid>),
    Text(String),
    Texts(Vec<String>),
    Date(NaiveDate),
    Int(i64),
}

/// The parameters of an assembled statement, numbered in push order.
#[derive(Debug, Default)]
struct Args(Vec<Arg>);

impl Args {
    /// Adds a parameter and returns its placeholder (`$n`).
    fn push(&mut self, a: Arg) -> String {
        self.0.push(a);
        format!("${}", self.0.len())
    }
}

/// Binds every parameter of `$args` to the statement `$q`, in order.
macro_rules! bind_args {
    ($q:expr, $args:expr) => {{
        let mut q = $q;
        for a in $args.0.iter() {
            q = match a {
                Arg::Uuid(v) => q.bind(*v),
                Arg::Uuids(v) => q.bind(v.clone()),
                Arg::Text(v) => q.bind(v.clone()),
                Arg::Texts(v) => q.bind(v.clone()),
                Arg::Date(v) => q.bind(*v),
                Arg::Int(v) => q.bind(*v),
            };
        }
        q
    }};
}

/// The relations the list shows and `search` matches.
const JOINS: &str = "JOIN loterias l ON l.id = t.loteria_id
    JOIN sorteos s ON s.id = t.sorteo_id
    JOIN ventanas v ON v.id = t.ventana_id
    JOIN users u ON u.id = t.vendedor_id";

/// Which tickets a read covers. Every field left `None`/`false` does not filter.
#[derive(Debug, Clone, Default)]
pub struct TicketFilter {
    /// Tickets of these bancas; `None`: every banca.
    pub banca_ids: Option<Vec<Uuid>>,
    pub ventana_id: Option<Uuid>,
    pub vendedor_id: Option<Uuid>,
    /// `status` is one of these.
    pub statuses: Option<Vec<String>>,
    pub is_active: Option<bool>,
    /// Leave out soft-deleted tickets.
    pub live_only: bool,
    pub sorteo_id: Option<Uuid>,
    pub loteria_id: Option<Uuid>,
    /// Some non-deleted jugada has this multiplier.
    pub multiplier_id: Option<Uuid>,
    /// Case-insensitive substring of the vendedor, ventana, lotería or sorteo name, or a
    /// prefix of the ticket number.
    pub search: Option<String>,
    pub winners_only: bool,
    /// Some non-deleted jugada has this `number` or `reventadoNumber`.
    pub number: Option<String>,
    /// Some non-deleted winning jugada has this `number` or `reventadoNumber`.
    pub winning_number: Option<String>,
    /// The sorteo's business-local `HH:MM` (with `tz_name`).
    pub scheduled_time: Option<String>,
    /// IANA name of the business time zone (for `scheduled_time`).
    pub tz_name: String,
    /// The sorteo's status.
    pub sorteo_status: Option<String>,
    /// `business_date >= from_date`.
    pub from_date: Option<NaiveDate>,
    /// `business_date <= to_date`.
    pub to_date: Option<NaiveDate>,
}

impl TicketFilter {
    /// Whether the conditions read the joined relations (`l`, `s`, `v`, `u`).
    fn needs_joins(&self) -> bool {
        self.search.is_some() || self.scheduled_time.is_some() || self.sorteo_status.is_some()
    }

    /// `WHERE …` over `tickets t` (and the relations of [`JOINS`] when [`Self::needs_joins`]).
    fn where_clause(&self, a: &mut Args) -> String {
        let mut c: Vec<String> = Vec::new();
        if let Some(ids) = &self.banca_ids {
            c.push(format!(
                "t.banca_id = ANY({})",
                a.push(Arg::Uuids(ids.clone()))
            ));
        }
        if let Some(id) = self.ventana_id {
            c.push(format!("t.ventana_id = {}", a.push(Arg::Uuid(id))));
        }
        if let Some(id) = self.vendedor_id {
            c.push(format!("t.vendedor_id = {}", a.push(Arg::Uuid(id))));
        }
        if let Some(d) = self.from_date {
            c.push(format!("t.business_date >= {}", a.push(Arg::Date(d))));
        }
        if let Some(d) = self.to_date {
            c.push(format!("t.business_date <= {}", a.push(Arg::Date(d))));
        }
        if let Some(st) = &self.statuses {
            c.push(format!(
                "t.status = ANY({}::text[]::ticket_status[])",
                a.push(Arg::Texts(st.clone()))
            ));
        }
        if let Some(b) = self.is_active {
            c.push(if b { "t.is_active" } else { "NOT t.is_active" }.to_string());
        }
        if self.live_only {
            c.push("t.deleted_at IS NULL".into());
        }
        if let Some(id) = self.sorteo_id {
            c.push(format!("t.sorteo_id = {}", a.push(Arg::Uuid(id))));
        }
        if let Some(id) = self.loteria_id {
            c.push(format!("t.loteria_id = {}", a.push(Arg::Uuid(id))));
        }
        if self.winners_only {
            c.push("t.is_winner".into());
        }
        if let Some(m) = self.multiplier_id {
            c.push(format!(
                "EXISTS (SELECT 1 FROM jugadas jm WHERE jm.ticket_id = t.id
                   AND jm.deleted_at IS NULL AND jm.multiplier_id = {})",
                a.push(Arg::Uuid(m))
            ));
        }
        if let Some(n) = &self.number {
            let p = a.push(Arg::Text(n.clone()));
            c.push(format!(
                "EXISTS (SELECT 1 FROM jugadas jn WHERE jn.ticket_id = t.id
                   AND jn.deleted_at IS NULL AND (jn.number = {p} OR jn.reventado_number = {p}))"
            ));
        }
        if let Some(n) = &self.winning_number {
            let p = a.push(Arg::Text(n.clone()));
            c.push(format!(
                "EXISTS (SELECT 1 FROM jugadas jw WHERE jw.ticket_id = t.id
                   AND jw.deleted_at IS NULL AND jw.is_winner
                   AND (jw.number = {p} OR jw.reventado_number = {p}))"
            ));
        }
        if let Some(hhmm) = &self.scheduled_time {
            let tz = a.push(Arg::Text(self.tz_name.clone()));
            let at = a.push(Arg::Text(hhmm.clone()));
            c.push(format!(
                "to_char(s.scheduled_at AT TIME ZONE {tz}, 'HH24:MI') = {at}"
            ));
        }
        if let Some(st) = &self.sorteo_status {
            c.push(format!(
                "s.status::text = {}",
                a.push(Arg::Text(st.clone()))
            ));
        }
        if let Some(s) = &self.search {
            let contains = a.push(Arg::Text(like_contains(s)));
            let mut prefix = like_contains(&s.to_uppercase());
            prefix.remove(0);
            let prefix = a.push(Arg::Text(prefix));
            c.push(format!(
                "(u.name ILIKE {contains} OR v.name ILIKE {contains} OR l.name ILIKE {contains}
                  OR s.name ILIKE {contains} OR t.ticket_number LIKE {prefix})"
            ));
        }
        if c.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", c.join(" AND "))
        }
    }

    fn tables_clause(&self) -> String {
        if self.needs_joins() {
            format!("FROM tickets t {JOINS}")
        } else {
            "FROM tickets t".to_string()
        }
    }
}

// ---------------------------------------------------------------------------------------------
// List.

/// A ticket row of the list, with the short relations.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ListRow {
    pub id: Uuid,
    pub ticket_number: String,
    pub business_date: NaiveDate,
    pub banca_id: Uuid,
    pub loteria_id: Uuid,
    pub sorteo_id: Uuid,
    pub ventana_id: Uuid,
    pub vendedor_id: Uuid,
    pub total_amount: Decimal,
    pub total_commission: Decimal,
    pub total_listero_commission: Decimal,
    pub status: String,
    pub is_active: bool,
    pub is_winner: bool,
    pub total_payout: Decimal,
    pub total_paid: Decimal,
    pub remaining_amount: Decimal,
    pub last_payment_at: Option<DateTime<Utc>>,
    pub payment_method: Option<String>,
    pub cliente_nombre: String,
    pub created_by: Option<Uuid>,
    pub created_by_role: Option<String>,
    pub print_count: i32,
    pub deleted_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub loteria_name: String,
    pub sorteo_name: String,
    pub sorteo_scheduled_at: DateTime<Utc>,
    pub sorteo_status: String,
    pub ventana_name: String,
    pub ventana_code: String,
    pub vendedor_name: String,
    pub vendedor_code: Option<String>,
}

const LIST_COLUMNS: &str = "t.id, t.ticket_number, t.business_date, t.banca_id, t.loteria_id,
    t.sorteo_id, t.ventana_id, t.vendedor_id, t.total_amount, t.total_commission,
    t.total_listero_commission, t.status::text AS status, t.is_active, t.is_winner,
    t.total_payout, t.total_paid, t.remaining_amount, t.last_payment_at, t.payment_method,
    t.cliente_nombre, t.created_by, t.created_by_role::text AS created_by_role, t.print_count,
    t.deleted_at, t.created_at, t.updated_at, l.name AS loteria_name, s.name AS sorteo_name,
    s.scheduled_at AS sorteo_scheduled_at, s.status::text AS sorteo_status,
    v.name AS ventana_name, v.code AS ventana_code, u.name AS vendedor_name,
    u.code AS vendedor_code";

/// How many tickets `f` selects.
pub async fn count(conn: &mut PgConnection, f: &TicketFilter) -> Result<i64, sqlx::Error> {
    let mut a = Args::default();
    let w = f.where_clause(&mut a);
    let sql = format!("SELECT count(*) {} {w}", f.tables_clause());
    bind_args!(query_scalar::<i64>(&sql), a)
        .fetch_one(conn)
        .await
}

/// One page of the tickets `f` selects, newest first (`created_at DESC, id DESC`).
pub async fn page(
    conn: &mut PgConnection,
    f: &TicketFilter,
    limit: i64,
    offset: i64,
) -> Result<Vec<ListRow>, sqlx::Error> {
    let mut a = Args::default();
    let w = f.where_clause(&mut a);
    let lim = a.push(Arg::Int(limit));
    let off = a.push(Arg::Int(offset));
    let sql = format!(
        "SELECT {LIST_COLUMNS} FROM tickets t {JOINS} {w}
         ORDER BY t.created_at DESC, t.id DESC LIMIT {lim} OFFSET {off}"
    );
    bind_args!(query_as::<ListRow>(&sql), a)
        .fetch_all(conn)
        .await
}

/// A jugada as the list shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ListJugadaRow {
    pub id: Uuid,
    pub ticket_id: Uuid,
    pub kind: String,
    pub number: String,
    pub reventado_number: Option<String>,
    pub amount: Decimal,
    pub final_multiplier_x: Decimal,
    pub multiplier_id: Option<Uuid>,
    pub is_winner: bool,
    pub payout: Option<Decimal>,
}

/// The non-deleted jugadas of `ticket_ids`, by ticket and position.
pub async fn list_jugadas(
    conn: &mut PgConnection,
    ticket_ids: &[Uuid],
) -> Result<Vec<ListJugadaRow>, sqlx::Error> {
    query_as(
        "SELECT id, ticket_id, type::text AS kind, number, reventado_number, amount,
                final_multiplier_x, multiplier_id, is_winner, payout
         FROM jugadas
         WHERE ticket_id = ANY($1) AND deleted_at IS NULL
         ORDER BY ticket_id, position",
    )
    .bind(ticket_ids)
    .fetch_all(conn)
    .await
}

// ---------------------------------------------------------------------------------------------
// Detail.

/// A ticket with everything the detail shows about its lotería, sorteo, vendedor and ventana.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DetailRow {
    pub id: Uuid,
    pub ticket_number: String,
    pub business_date: NaiveDate,
    pub banca_id: Uuid,
    pub loteria_id: Uuid,
    pub sorteo_id: Uuid,
    pub ventana_id: Uuid,
    pub vendedor_id: Uuid,
    pub total_amount: Decimal,
    pub total_commission: Decimal,
    pub total_listero_commission: Decimal,
    pub status: String,
    pub is_active: bool,
    pub is_winner: bool,
    pub total_payout: Decimal,
    pub total_paid: Decimal,
    pub remaining_amount: Decimal,
    pub last_payment_at: Option<DateTime<Utc>>,
    pub payment_method: Option<String>,
    pub payment_notes: Option<String>,
    pub payment_history: Value,
    pub cliente_nombre: String,
    pub created_by: Option<Uuid>,
    pub created_by_role: Option<String>,
    pub is_sorteo_closed: bool,
    pub idempotency_key: Option<String>,
    pub print_count: i32,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub loteria_name: String,
    pub loteria_rules: Value,
    pub sorteo_name: String,
    pub sorteo_scheduled_at: DateTime<Utc>,
    pub sorteo_status: String,
    pub sorteo_loteria_id: Uuid,
    pub sorteo_banca_id: Option<Uuid>,
    pub sorteo_digits: i16,
    pub sorteo_winning_number: Option<String>,
    pub vendedor_name: String,
    pub vendedor_code: Option<String>,
    pub vendedor_phone: Option<String>,
    pub vendedor_username: String,
    pub vendedor_settings: Option<Value>,
    pub ventana_name: String,
    pub ventana_code: String,
    pub ventana_phone: Option<String>,
    pub ventana_banca_id: Uuid,
    pub ventana_settings: Option<Value>,
}

/// The ticket `id` with its relations, deleted or not.
pub async fn find_detail(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<DetailRow>, sqlx::Error> {
    query_as(
        "SELECT t.id, t.ticket_number, t.business_date, t.banca_id, t.loteria_id, t.sorteo_id,
                t.ventana_id, t.vendedor_id, t.total_amount, t.total_commission,
                t.total_listero_commission, t.status::text AS status, t.is_active, t.is_winner,
                t.total_payout, t.total_paid, t.remaining_amount, t.last_payment_at,
                t.payment_method, t.payment_notes,
                COALESCE(t.payment_history, '[]'::jsonb) AS payment_history, t.cliente_nombre,
                t.created_by, t.created_by_role::text AS created_by_role, t.is_sorteo_closed,
                t.idempotency_key, t.print_count, t.cancelled_at, t.deleted_at, t.created_at,
                t.updated_at,
                l.name AS loteria_name, l.rules_json AS loteria_rules,
                s.name AS sorteo_name, s.scheduled_at AS sorteo_scheduled_at,
                s.status::text AS sorteo_status, s.loteria_id AS sorteo_loteria_id,
                s.banca_id AS sorteo_banca_id, s.digits AS sorteo_digits,
                s.winning_number AS sorteo_winning_number,
                u.name AS vendedor_name, u.code AS vendedor_code, u.phone AS vendedor_phone,
                u.username::text AS vendedor_username, u.settings AS vendedor_settings,
                v.name AS ventana_name, v.code AS ventana_code, v.phone AS ventana_phone,
                v.banca_id AS ventana_banca_id, v.settings AS ventana_settings
         FROM tickets t
         JOIN loterias l ON l.id = t.loteria_id
         JOIN sorteos s ON s.id = t.sorteo_id
         JOIN ventanas v ON v.id = t.ventana_id
         JOIN users u ON u.id = t.vendedor_id
         WHERE t.id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// A jugada as the detail shows it, with its multiplier's name and factor.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct JugadaRow {
    pub id: Uuid,
    pub ticket_id: Uuid,
    pub kind: String,
    pub number: String,
    pub reventado_number: Option<String>,
    pub amount: Decimal,
    pub final_multiplier_x: Decimal,
    pub multiplier_id: Option<Uuid>,
    pub multiplier_name: Option<String>,
    pub multiplier_value_x: Option<Decimal>,
    pub commission_percent: Decimal,
    pub commission_amount: Decimal,
    pub commission_origin: Option<String>,
    pub commission_rule_id: Option<String>,
    pub listero_commission_amount: Decimal,
    pub is_active: bool,
    pub is_winner: bool,
    pub payout: Option<Decimal>,
    pub is_excluded: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

/// The non-deleted jugadas of ticket `ticket_id`, by position.
pub async fn detail_jugadas(
    conn: &mut PgConnection,
    ticket_id: Uuid,
) -> Result<Vec<JugadaRow>, sqlx::Error> {
    query_as(
        "SELECT j.id, j.ticket_id, j.type::text AS kind, j.number, j.reventado_number, j.amount,
                j.final_multiplier_x, j.multiplier_id, m.name AS multiplier_name,
                m.value_x AS multiplier_value_x, j.commission_percent, j.commission_amount,
                j.commission_origin, j.commission_rule_id, j.listero_commission_amount,
                j.is_active, j.is_winner, j.payout, j.is_excluded, j.created_at, j.updated_at,
                j.deleted_at
         FROM jugadas j
         LEFT JOIN loteria_multipliers m ON m.id = j.multiplier_id
         WHERE j.ticket_id = $1 AND j.deleted_at IS NULL
         ORDER BY j.position",
    )
    .bind(ticket_id)
    .fetch_all(conn)
    .await
}

// ---------------------------------------------------------------------------------------------
// Ownership and look-up by number.

/// Whose a ticket is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct OwnerRow {
    pub id: Uuid,
    pub banca_id: Uuid,
    pub ventana_id: Uuid,
    pub vendedor_id: Uuid,
}

/// Whose ticket `id` is (deleted or not).
pub async fn owner(conn: &mut PgConnection, id: Uuid) -> Result<Option<OwnerRow>, sqlx::Error> {
    query_as("SELECT id, banca_id, ventana_id, vendedor_id FROM tickets WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// A live ticket found by its number.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ByNumberRow {
    pub id: Uuid,
    pub ticket_number: String,
    pub sorteo_id: Uuid,
    pub loteria_id: Uuid,
    pub cliente_nombre: String,
    pub created_at: DateTime<Utc>,
    pub banca_id: Uuid,
    pub ventana_id: Uuid,
    pub vendedor_id: Uuid,
}

/// The non-deleted ticket whose number is exactly `number`.
pub async fn find_by_number(
    conn: &mut PgConnection,
    number: &str,
) -> Result<Option<ByNumberRow>, sqlx::Error> {
    query_as(
        "SELECT id, ticket_number, sorteo_id, loteria_id, cliente_nombre, created_at, banca_id,
                ventana_id, vendedor_id
         FROM tickets WHERE ticket_number = $1 AND deleted_at IS NULL",
    )
    .bind(number)
    .fetch_optional(conn)
    .await
}

/// A jugada as the copy-by-number answer needs it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CopyJugadaRow {
    pub kind: String,
    pub number: String,
    pub reventado_number: Option<String>,
    pub amount: Decimal,
    pub multiplier_id: Option<Uuid>,
}

/// The non-deleted jugadas of ticket `ticket_id`, by position.
pub async fn copy_jugadas(
    conn: &mut PgConnection,
    ticket_id: Uuid,
) -> Result<Vec<CopyJugadaRow>, sqlx::Error> {
    query_as(
        "SELECT type::text AS kind, number, reventado_number, amount, multiplier_id
         FROM jugadas WHERE ticket_id = $1 AND deleted_at IS NULL ORDER BY position",
    )
    .bind(ticket_id)
    .fetch_all(conn)
    .await
}

/// Where a user works: its role, ventana, and banca (profile banca, else its ventana's).
#[derive(Debug, Clone, Copy, sqlx::FromRow)]
pub struct UserPlace {
    pub id: Uuid,
    pub role: Role,
    pub ventana_id: Option<Uuid>,
    pub banca_id: Option<Uuid>,
}

pub async fn user_place(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<UserPlace>, sqlx::Error> {
    query_as(
        "SELECT u.id, u.role, u.ventana_id, COALESCE(v.banca_id, u.banca_id) AS banca_id
         FROM users u LEFT JOIN ventanas v ON v.id = u.ventana_id
         WHERE u.id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// The banca of ventana `id`.
pub async fn ventana_banca(conn: &mut PgConnection, id: Uuid) -> Result<Option<Uuid>, sqlx::Error> {
    query_scalar("SELECT banca_id FROM ventanas WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await
}

// ---------------------------------------------------------------------------------------------
// Filter options.

/// One option of the filter dropdowns: `kind` is `loteria`, `sorteo`, `multiplier`,
/// `vendedor`, `ventana`, or `total` (only `cnt`: the number of tickets).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OptionRow {
    pub kind: String,
    pub id: Uuid,
    pub name: String,
    pub code: Option<String>,
    /// Sorteo and multiplier: its lotería; vendedor: its ventana.
    pub parent_id: Option<Uuid>,
    pub parent_name: Option<String>,
    pub at: Option<DateTime<Utc>>,
    pub value_x: Option<Decimal>,
    /// Tickets (multipliers: tickets with a NUMERO jugada of it).
    pub cnt: i64,
}

/// The distinct loterías, sorteos, multipliers (of active NUMERO jugadas), and optionally
/// vendedores and ventanas of the tickets `f` selects, with ticket counts, in one statement.
pub async fn filter_options(
    conn: &mut PgConnection,
    f: &TicketFilter,
    with_vendedores: bool,
    with_ventanas: bool,
) -> Result<Vec<OptionRow>, sqlx::Error> {
    let mut a = Args::default();
    let w = f.where_clause(&mut a);
    let mut parts = vec![
        "SELECT 'total' AS kind, '00000000-0000-0000-0000-000000000000'::uuid AS id,
                '' AS name, NULL::text AS code, NULL::uuid AS parent_id,
                NULL::text AS parent_name, NULL::timestamptz AS at, NULL::numeric AS value_x,
                count(*) AS cnt
         FROM ft"
            .to_string(),
        "SELECT 'loteria', l.id, l.name, NULL, NULL, NULL, NULL, NULL, count(*)
         FROM ft JOIN loterias l ON l.id = ft.loteria_id GROUP BY l.id, l.name"
            .to_string(),
        "SELECT 'sorteo', s.id, s.name, NULL, s.loteria_id, l.name, s.scheduled_at, NULL, count(*)
         FROM ft JOIN sorteos s ON s.id = ft.sorteo_id JOIN loterias l ON l.id = s.loteria_id
         GROUP BY s.id, s.name, s.loteria_id, l.name, s.scheduled_at"
            .to_string(),
        "SELECT 'multiplier', m.id, m.name, NULL, m.loteria_id, l.name, NULL, m.value_x,
                count(DISTINCT j.ticket_id)
         FROM jugadas j JOIN ft ON ft.id = j.ticket_id
         JOIN loteria_multipliers m ON m.id = j.multiplier_id
         JOIN loterias l ON l.id = m.loteria_id
         WHERE j.deleted_at IS NULL AND j.is_active AND j.type = 'NUMERO'
         GROUP BY m.id, m.name, m.loteria_id, l.name, m.value_x"
            .to_string(),
    ];
    if with_vendedores {
        parts.push(
            "SELECT 'vendedor', u.id, u.name, u.code, u.ventana_id, v.name, NULL, NULL, count(*)
             FROM ft JOIN users u ON u.id = ft.vendedor_id LEFT JOIN ventanas v ON v.id = u.ventana_id
             GROUP BY u.id, u.name, u.code, u.ventana_id, v.name"
                .to_string(),
        );
    }
    if with_ventanas {
        parts.push(
            "SELECT 'ventana', v.id, v.name, v.code, NULL, NULL, NULL, NULL, count(*)
             FROM ft JOIN ventanas v ON v.id = ft.ventana_id GROUP BY v.id, v.name, v.code"
                .to_string(),
        );
    }
    let sql = format!(
        "WITH ft AS MATERIALIZED (
            SELECT t.id, t.loteria_id, t.sorteo_id, t.vendedor_id, t.ventana_id
            {} {w}
         )
         {}",
        f.tables_clause(),
        parts.join(" UNION ALL ")
    );
    bind_args!(query_as::<OptionRow>(&sql), a)
        .fetch_all(conn)
        .await
}

// ---------------------------------------------------------------------------------------------
// Numbers summary and balances.

/// A sorteo as the summaries need it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SorteoInfo {
    pub id: Uuid,
    pub loteria_id: Uuid,
    pub banca_id: Option<Uuid>,
    pub name: String,
    pub scheduled_at: DateTime<Utc>,
    pub status: String,
    pub digits: i16,
    pub winning_number: Option<String>,
    pub deleted: bool,
    pub loteria_name: String,
    pub loteria_rules: Value,
}

pub async fn sorteo_info(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<SorteoInfo>, sqlx::Error> {
    query_as(
        "SELECT s.id, s.loteria_id, s.banca_id, s.name, s.scheduled_at, s.status::text AS status,
                s.digits, s.winning_number, s.deleted_at IS NOT NULL AS deleted,
                l.name AS loteria_name, l.rules_json AS loteria_rules
         FROM sorteos s JOIN loterias l ON l.id = s.loteria_id
         WHERE s.id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// A lotería as the summaries need it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LoteriaInfo {
    pub id: Uuid,
    pub banca_id: Option<Uuid>,
    pub name: String,
    pub rules_json: Value,
}

pub async fn loteria_info(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<LoteriaInfo>, sqlx::Error> {
    query_as("SELECT id, banca_id, name, rules_json FROM loterias WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// Sold amounts of one number.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct NumberSums {
    pub number: String,
    /// NUMERO jugadas (of the multiplier, when one is given).
    pub numero: Decimal,
    /// REVENTADO jugadas (any multiplier).
    pub reventado: Decimal,
}

/// Per-number sums over the jugadas of the tickets `f` selects: NUMERO jugadas (only those of
/// `multiplier_id` when given) and REVENTADO jugadas (keyed by their `reventadoNumber`).
/// Counts active, non-excluded jugadas; with `excluded`, only excluded ones.
pub async fn sums_from_jugadas(
    conn: &mut PgConnection,
    f: &TicketFilter,
    multiplier_id: Option<Uuid>,
    excluded: bool,
) -> Result<Vec<NumberSums>, sqlx::Error> {
    let mut a = Args::default();
    let w = f.where_clause(&mut a);
    let w = if w.is_empty() {
        "WHERE TRUE".to_string()
    } else {
        w
    };
    let numero_filter = match multiplier_id {
        Some(m) => format!(" AND j.multiplier_id = {}", a.push(Arg::Uuid(m))),
        None => String::new(),
    };
    let jugada_filter = if excluded {
        "j.is_excluded"
    } else {
        "j.is_active AND NOT j.is_excluded"
    };
    let sql = format!(
        "SELECT CASE WHEN j.type = 'REVENTADO' THEN COALESCE(j.reventado_number, j.number)
                     ELSE j.number END AS number,
                COALESCE(SUM(j.amount) FILTER (WHERE j.type = 'NUMERO'{numero_filter}), 0)
                    AS numero,
                COALESCE(SUM(j.amount) FILTER (WHERE j.type = 'REVENTADO'), 0) AS reventado
         {} JOIN jugadas j ON j.ticket_id = t.id
         {w} AND j.deleted_at IS NULL AND {jugada_filter}
         GROUP BY 1",
        f.tables_clause()
    );
    bind_args!(query_as::<NumberSums>(&sql), a)
        .fetch_all(conn)
        .await
}

/// A counter summed over the scopes asked for.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CounterSum {
    pub mkey: Uuid,
    pub number: String,
    pub amount: Decimal,
}

/// The running totals of sorteo `sorteo_id` for scope kind `scope_kind` (`VENDEDOR`,
/// `VENTANA`, `BANCA`), summed over `scope_ids` (`None`: every scope of the kind), for the
/// multiplier keys `mkeys`.
pub async fn counter_sums(
    conn: &mut PgConnection,
    sorteo_id: Uuid,
    scope_kind: &str,
    scope_ids: Option<&[Uuid]>,
    mkeys: &[Uuid],
) -> Result<Vec<CounterSum>, sqlx::Error> {
    query_as(
        "SELECT mkey, number, SUM(amount) AS amount
         FROM sale_counters
         WHERE sorteo_id = $1 AND scope_kind = $2
           AND ($3::uuid[] IS NULL OR scope_id = ANY($3)) AND mkey = ANY($4)
         GROUP BY mkey, number",
    )
    .bind(sorteo_id)
    .bind(scope_kind)
    .bind(scope_ids)
    .bind(mkeys)
    .fetch_all(conn)
    .await
}

/// A counter of one scope (all jugadas of the number).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ScopeCounter {
    pub scope_kind: String,
    pub scope_id: Uuid,
    pub number: String,
    pub amount: Decimal,
}

/// The all-jugadas counters (`mkey` nil) of sorteo `sorteo_id` for the scopes `scope_ids`.
pub async fn scope_counters(
    conn: &mut PgConnection,
    sorteo_id: Uuid,
    scope_ids: &[Uuid],
) -> Result<Vec<ScopeCounter>, sqlx::Error> {
    query_as(
        "SELECT scope_kind, scope_id, number, amount
         FROM sale_counters
         WHERE sorteo_id = $1 AND scope_id = ANY($2) AND mkey = $3",
    )
    .bind(sorteo_id)
    .bind(scope_ids)
    .bind(MKEY_ALL)
    .fetch_all(conn)
    .await
}
