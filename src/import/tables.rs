//! What is copied: one [`Table`] per Banca table, in foreign-key order, each a query over the
//! existing system's tables (alias `x` is the paged legacy row) and the Banca columns it fills.
//!
//! Conventions of the queries: `$1` is the last legacy id of the previous page, `$2` the page
//! size, `$3` the business time zone (legacy `TIMESTAMP(3)` columns hold UTC). Money is read
//! as `float8` and converted in Rust ([`super::money`]); enums and `citext` are read as text.

/// How a legacy value is read and what JSON it becomes for `jsonb_to_recordset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Uuid,
    Text,
    Bool,
    Int,
    Json,
    /// `TIMESTAMP(3)` holding UTC.
    Ts,
    Date,
    /// `float8` rounded to this many decimals (2: money), reported when that changes it.
    Dec(u32),
}

/// What a re-run does with a column of a row that is already in Banca.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Update {
    /// Take the legacy value (the existing system is the source of truth until the switch).
    Always,
    /// Keep Banca's value (Banca writes it: client telemetry on login).
    Never,
    /// This expression over `t.` (the Banca row) and `EXCLUDED.` (the legacy row).
    Expr(&'static str),
}

/// A Banca column and the legacy expression that fills it.
#[derive(Debug, Clone, Copy)]
pub struct Col {
    pub name: &'static str,
    /// The column's type in `jsonb_to_recordset`.
    pub ty: &'static str,
    pub kind: Kind,
    /// SQL over the legacy row `x` (and the joins of [`Table::from`]).
    pub expr: &'static str,
    pub update: Update,
    /// For [`Kind::Dec`] values: the legacy column named in the rounding report.
    pub legacy: &'static str,
}

const fn col(name: &'static str, ty: &'static str, kind: Kind, expr: &'static str) -> Col {
    Col {
        name,
        ty,
        kind,
        expr,
        update: Update::Always,
        legacy: "",
    }
}

const fn money(name: &'static str, legacy: &'static str, expr: &'static str) -> Col {
    Col {
        name,
        ty: "numeric",
        kind: Kind::Dec(2),
        expr,
        update: Update::Always,
        legacy,
    }
}

const fn dec4(name: &'static str, legacy: &'static str, expr: &'static str) -> Col {
    Col {
        name,
        ty: "numeric",
        kind: Kind::Dec(4),
        expr,
        update: Update::Always,
        legacy,
    }
}

const fn uuid(name: &'static str, expr: &'static str) -> Col {
    col(name, "uuid", Kind::Uuid, expr)
}
const fn text(name: &'static str, expr: &'static str) -> Col {
    col(name, "text", Kind::Text, expr)
}
const fn boolean(name: &'static str, expr: &'static str) -> Col {
    col(name, "boolean", Kind::Bool, expr)
}
const fn int(name: &'static str, expr: &'static str) -> Col {
    col(name, "integer", Kind::Int, expr)
}
const fn json(name: &'static str, expr: &'static str) -> Col {
    col(name, "jsonb", Kind::Json, expr)
}
const fn ts(name: &'static str, expr: &'static str) -> Col {
    col(name, "timestamptz", Kind::Ts, expr)
}
const fn date(name: &'static str, expr: &'static str) -> Col {
    col(name, "date", Kind::Date, expr)
}
const fn enumerated(name: &'static str, ty: &'static str, expr: &'static str) -> Col {
    col(name, ty, Kind::Text, expr)
}

/// One Banca table filled from the existing system.
#[derive(Debug, Clone, Copy)]
pub struct Table {
    /// The Banca table.
    pub target: &'static str,
    /// The legacy table (names the rows in messages and in the rounding report).
    pub legacy: &'static str,
    /// `FROM` clause; the paged legacy row is `x` and has a uuid `id`.
    pub from: &'static str,
    /// Legacy rows that are not imported, by rule (`NOT (...)` is imported); see
    /// docs/migrating.md.
    pub skip: Option<&'static str>,
    /// Why [`Table::skip`] rows are left out (printed with their count).
    pub skip_reason: &'static str,
    /// Columns; the first `key_len` are the conflict key.
    pub cols: &'static [Col],
    pub key_len: usize,
    /// A column of the written rows whose values are the sorteos the change touches (their
    /// derived data is rebuilt).
    pub touches_sorteo: Option<&'static str>,
}

impl Table {
    pub fn key_cols(&self) -> &'static [Col] {
        &self.cols[..self.key_len]
    }

    /// The legacy row filter (`TRUE` when nothing is skipped).
    pub fn imported_filter(&self) -> String {
        match self.skip {
            Some(s) => format!("NOT ({s})"),
            None => "TRUE".into(),
        }
    }
}

/// Soft-delete trio and timestamps shared by most tables.
macro_rules! audit {
    () => {
        [
            ts("deleted_at", "x.\"deletedAt\""),
            text("deleted_by", "x.\"deletedBy\""),
            text("deleted_reason", "x.\"deletedReason\""),
            ts("created_at", "x.\"createdAt\""),
            ts("updated_at", "x.\"updatedAt\""),
        ]
    };
}

/// The CR (business-zone) calendar date of a legacy UTC timestamp expression.
macro_rules! local_date {
    ($e:literal) => {
        concat!("((", $e, ") AT TIME ZONE 'UTC' AT TIME ZONE $3)::date")
    };
}

const BANCAS: &[Col] = &{
    let a = audit!();
    [
        uuid("id", "x.id"),
        text("name", "x.name"),
        text("code", "x.code"),
        money(
            "default_min_bet",
            "defaultMinBet",
            "x.\"defaultMinBet\"::float8",
        ),
        Col {
            ty: "numeric",
            ..int(
                "global_max_per_number",
                "GREATEST(x.\"globalMaxPerNumber\", 0)",
            )
        },
        int(
            "sales_cutoff_minutes",
            "GREATEST(x.\"salesCutoffMinutes\", 0)",
        ),
        json("commission_policy_json", "x.\"commissionPolicyJson\""),
        int(
            "max_sessions_per_vendedor",
            "GREATEST(x.\"maxSessionsPerVendedor\", 1)",
        ),
        int(
            "vendor_limit",
            "CASE WHEN x.\"vendorLimit\" >= 0 THEN x.\"vendorLimit\" END",
        ),
        boolean("is_active", "x.\"isActive\""),
        text("address", "x.address"),
        text("email", "x.email"),
        text("phone", "x.phone"),
        a[0],
        a[1],
        a[2],
        a[3],
        a[4],
    ]
};

const VENTANAS: &[Col] = &{
    let a = audit!();
    [
        uuid("id", "x.id"),
        uuid("banca_id", "x.\"bancaId\""),
        text("name", "x.name"),
        text("code", "x.code"),
        dec4(
            "commission_margin_x",
            "commissionMarginX",
            "x.\"commissionMarginX\"::float8",
        ),
        json("commission_policy_json", "x.\"commissionPolicyJson\""),
        json("settings", "x.settings"),
        boolean("is_active", "x.\"isActive\""),
        text("address", "x.address"),
        text("email", "x.email"),
        text("phone", "x.phone"),
        a[0],
        a[1],
        a[2],
        a[3],
        a[4],
    ]
};

const USERS: &[Col] = &{
    let a = audit!();
    [
        uuid("id", "x.id"),
        // ADMIN and BANCA users belong to no sales point in Banca (a CHECK).
        uuid(
            "ventana_id",
            "CASE WHEN x.role::text IN ('ADMIN', 'BANCA') THEN NULL ELSE x.\"ventanaId\" END",
        ),
        uuid("banca_id", "x.\"bancaId\""),
        text("name", "x.name"),
        col("email", "citext", Kind::Text, "x.email::text"),
        text("phone", "x.phone"),
        // bcrypt as is; Banca re-hashes it with argon2id at the next login. A re-run takes a
        // changed legacy hash only while Banca still holds a bcrypt one (never undoes that
        // upgrade).
        Col {
            update: Update::Expr(
                "CASE WHEN t.password_hash LIKE '$2%' THEN EXCLUDED.password_hash \
                 ELSE t.password_hash END",
            ),
            ..text("password_hash", "x.password")
        },
        enumerated("role", "user_role", "x.role::text"),
        col("username", "citext", Kind::Text, "x.username::text"),
        text("code", "x.code"),
        json("commission_policy_json", "x.\"commissionPolicyJson\""),
        json("settings", "x.settings"),
        Col {
            update: Update::Never,
            ..text("platform", "x.platform")
        },
        Col {
            update: Update::Never,
            ..text("app_version", "x.\"appVersion\"")
        },
        int(
            "max_sessions_per_vendedor",
            "CASE WHEN x.\"maxSessionsPerVendedor\" >= 1 THEN x.\"maxSessionsPerVendedor\" END",
        ),
        boolean("is_active", "x.\"isActive\""),
        a[0],
        a[1],
        a[2],
        a[3],
        a[4],
    ]
};

const USER_BANCAS: &[Col] = &[
    uuid("user_id", "x.\"userId\""),
    uuid("banca_id", "x.\"bancaId\""),
    // One default per user in Banca: the newest of several.
    boolean(
        "is_default",
        "x.\"isDefault\" AND NOT EXISTS (
            SELECT 1 FROM \"UserBanca\" y WHERE y.\"userId\" = x.\"userId\" AND y.\"isDefault\"
              AND (y.\"createdAt\", y.id) > (x.\"createdAt\", x.id))",
    ),
    ts("created_at", "x.\"createdAt\""),
    ts("updated_at", "x.\"updatedAt\""),
];

const LOTERIAS: &[Col] = &{
    let a = audit!();
    [
        uuid("id", "x.id"),
        uuid("banca_id", "x.\"bancaId\""),
        // Banca keeps (name, banca) unique, NULL banca included: a later twin gets its id's
        // first 8 characters appended.
        text(
            "name",
            "CASE WHEN EXISTS (
                SELECT 1 FROM \"Loteria\" y WHERE y.name = x.name
                  AND y.\"bancaId\" IS NOT DISTINCT FROM x.\"bancaId\"
                  AND (y.\"createdAt\", y.id) < (x.\"createdAt\", x.id))
             THEN x.name || ' (' || left(x.id::text, 8) || ')' ELSE x.name END",
        ),
        json("rules_json", "COALESCE(x.\"rulesJson\", '{}'::jsonb)"),
        boolean("is_active", "x.\"isActive\""),
        a[0],
        a[1],
        a[2],
        a[3],
        a[4],
    ]
};

const LOTERIA_MULTIPLIERS: &[Col] = &[
    uuid("id", "x.id"),
    uuid("loteria_id", "x.\"loteriaId\""),
    uuid("banca_id", "COALESCE(x.\"bancaId\", l.\"bancaId\")"),
    text("name", "left(x.name, 32)"),
    dec4("value_x", "valueX", "x.\"valueX\"::float8"),
    enumerated("kind", "bet_type", "x.kind::text"),
    // One active multiplier per (lotería, lower(name)): the most recently updated one.
    boolean(
        "is_active",
        "x.\"isActive\" AND NOT EXISTS (
            SELECT 1 FROM \"LoteriaMultiplier\" y
            WHERE y.\"loteriaId\" = x.\"loteriaId\" AND y.\"isActive\"
              AND lower(left(y.name, 32)) = lower(left(x.name, 32))
              AND (y.\"updatedAt\", y.id) > (x.\"updatedAt\", x.id))",
    ),
    date("applies_to_date", local_date!("x.\"appliesToDate\"")),
    uuid("applies_to_sorteo_id", "x.\"appliesToSorteoId\""),
    ts("created_at", "x.\"createdAt\""),
    ts("updated_at", "x.\"updatedAt\""),
];

const BANCA_LOTERIA_SETTINGS: &[Col] = &[
    uuid("id", "x.id"),
    uuid("banca_id", "x.\"bancaId\""),
    uuid("loteria_id", "x.\"loteriaId\""),
    dec4(
        "base_multiplier_x",
        "baseMultiplierX",
        "x.\"baseMultiplierX\"::float8",
    ),
    // Banca has no soft delete here: a deleted setting is an inactive one.
    boolean("is_active", "x.\"isActive\" AND x.\"deletedAt\" IS NULL"),
    ts("created_at", "x.\"createdAt\""),
    ts("updated_at", "x.\"updatedAt\""),
];

/// A live override with a newer live twin (same scope, target, lotería and type).
macro_rules! override_superseded {
    () => {
        "(x.\"deletedAt\" IS NULL AND EXISTS (
            SELECT 1 FROM \"MultiplierOverride\" y
            WHERE y.\"deletedAt\" IS NULL AND y.scope = x.scope
              AND CASE WHEN y.scope::text = 'USER' THEN y.\"userId\" ELSE y.\"ventanaId\" END
                  = CASE WHEN x.scope::text = 'USER' THEN x.\"userId\" ELSE x.\"ventanaId\" END
              AND y.\"loteriaId\" = x.\"loteriaId\" AND y.\"multiplierType\" = x.\"multiplierType\"
              AND (y.\"updatedAt\", y.id) > (x.\"updatedAt\", x.id)))"
    };
}

const MULTIPLIER_OVERRIDES: &[Col] = &[
    uuid("id", "x.id"),
    enumerated("scope", "override_scope", "x.scope::text"),
    uuid(
        "user_id",
        "CASE WHEN x.scope::text = 'USER' THEN x.\"userId\" END",
    ),
    uuid(
        "ventana_id",
        "CASE WHEN x.scope::text = 'VENTANA' THEN x.\"ventanaId\" END",
    ),
    uuid("loteria_id", "x.\"loteriaId\""),
    uuid(
        "banca_id",
        "COALESCE(x.\"bancaId\", ov.\"bancaId\", uv.\"bancaId\", u.\"bancaId\")",
    ),
    text("multiplier_type", "x.\"multiplierType\""),
    dec4(
        "base_multiplier_x",
        "baseMultiplierX",
        "x.\"baseMultiplierX\"::float8",
    ),
    boolean("is_active", "x.\"isActive\""),
    // A superseded twin is imported deleted (Banca keeps one live override per target).
    ts(
        "deleted_at",
        concat!(
            "CASE WHEN ",
            override_superseded!(),
            " THEN x.\"updatedAt\" ELSE x.\"deletedAt\" END"
        ),
    ),
    text("deleted_by", "x.\"deletedBy\""),
    text(
        "deleted_reason",
        concat!(
            "CASE WHEN ",
            override_superseded!(),
            " THEN 'Duplicado en el sistema anterior' ELSE x.\"deletedReason\" END"
        ),
    ),
    ts("created_at", "x.\"createdAt\""),
    ts("updated_at", "x.\"updatedAt\""),
];

const SORTEOS: &[Col] = &{
    let a = audit!();
    [
        uuid("id", "x.id"),
        uuid("loteria_id", "x.\"loteriaId\""),
        uuid("banca_id", "x.\"bancaId\""),
        text("name", "x.name"),
        ts("scheduled_at", "x.\"scheduledAt\""),
        enumerated("status", "sorteo_status", "x.status::text"),
        boolean("is_active", "x.\"isActive\""),
        col(
            "digits",
            "smallint",
            Kind::Int,
            "CASE WHEN x.digits = 3 THEN 3 ELSE 2 END",
        ),
        text(
            "winning_number",
            "CASE WHEN x.\"winningNumber\" ~ '^[0-9]+$'
                  THEN lpad(x.\"winningNumber\", CASE WHEN x.digits = 3 THEN 3 ELSE 2 END, '0')
                  ELSE x.\"winningNumber\" END",
        ),
        uuid("extra_multiplier_id", "x.\"extraMultiplierId\""),
        dec4(
            "extra_multiplier_x",
            "extraMultiplierX",
            "x.\"extraMultiplierX\"::float8",
        ),
        text("extra_outcome_code", "x.\"extraOutcomeCode\""),
        boolean("has_winner", "x.\"hasWinner\""),
        // The existing system keeps no evaluation time: its last update, for a sorteo with a
        // result (as migration `…000008` did for Banca's own).
        ts(
            "evaluated_at",
            "CASE WHEN x.\"winningNumber\" IS NOT NULL
                   AND x.status::text IN ('EVALUATED', 'CLOSED')
                  THEN x.\"updatedAt\" END",
        ),
        boolean("deleted_by_cascade", "x.\"deletedByCascade\""),
        text("deleted_by_cascade_from", "x.\"deletedByCascadeFrom\""),
        uuid("deleted_by_cascade_id", "x.\"deletedByCascadeId\""),
        a[0],
        a[1],
        a[2],
        a[3],
        a[4],
    ]
};

/// Restriction rules, normalised (scope owner, number padded) and ranked among live twins of
/// Banca's uniqueness key: `rn > 1` rows are superseded by a newer twin.
const RULES_FROM: &str = "(
    SELECT r.*, n.owner, n.num, n.day,
           row_number() OVER (
               PARTITION BY r.\"isActive\", n.owner, r.\"bancaId\", r.\"ventanaId\", r.\"userId\",
                            n.num, r.\"isAutoDate\", r.\"loteriaId\", r.\"multiplierId\", n.day,
                            r.\"appliesToHour\", (r.\"salesCutoffMinutes\" IS NOT NULL)
               ORDER BY r.\"updatedAt\" DESC, r.id DESC) AS rn
    FROM \"RestrictionRule\" r
    LEFT JOIN \"Ventana\" rv ON rv.id = r.\"ventanaId\"
    LEFT JOIN \"User\" ru ON ru.id = r.\"userId\"
    LEFT JOIN \"Ventana\" ruv ON ruv.id = ru.\"ventanaId\"
    LEFT JOIN \"Loteria\" rl ON rl.id = r.\"loteriaId\"
    CROSS JOIN LATERAL (SELECT
        COALESCE(r.\"bancaId\", rv.\"bancaId\", ruv.\"bancaId\", ru.\"bancaId\", rl.\"bancaId\") AS owner,
        CASE WHEN r.number ~ '^[0-9]+$'
             THEN lpad(r.number, CASE WHEN rl.\"rulesJson\"->>'digits' = '3' THEN 3 ELSE 2 END, '0')
             ELSE r.number END AS num,
        ((r.\"appliesToDate\") AT TIME ZONE 'UTC' AT TIME ZONE $3)::date AS day) n
) x";

const RESTRICTION_RULES: &[Col] = &[
    uuid("id", "x.id"),
    uuid("banca_id", "x.\"bancaId\""),
    uuid("ventana_id", "x.\"ventanaId\""),
    uuid("user_id", "x.\"userId\""),
    uuid("owner_banca_id", "x.owner"),
    text("number", "x.num"),
    boolean("is_auto_date", "x.\"isAutoDate\""),
    money("max_amount", "maxAmount", "x.\"maxAmount\"::float8"),
    money("max_total", "maxTotal", "x.\"maxTotal\"::float8"),
    money("base_amount", "baseAmount", "x.\"baseAmount\"::float8"),
    // 0 % is no dynamic limit (Banca's CHECK wants 0 < p ≤ 100).
    money(
        "sales_percentage",
        "salesPercentage",
        "NULLIF(x.\"salesPercentage\", 0)::float8",
    ),
    boolean("applies_to_vendedor", "x.\"appliesToVendedor\""),
    date("applies_to_date", "x.day"),
    col(
        "applies_to_hour",
        "smallint",
        Kind::Int,
        "x.\"appliesToHour\"",
    ),
    col(
        "sales_cutoff_minutes",
        "smallint",
        Kind::Int,
        "x.\"salesCutoffMinutes\"",
    ),
    uuid("loteria_id", "x.\"loteriaId\""),
    uuid("multiplier_id", "x.\"multiplierId\""),
    text("message", "x.message"),
    // A live rule with a newer live twin is imported deleted (inactive).
    boolean("is_active", "x.\"isActive\" AND x.rn = 1"),
    ts("created_at", "x.\"createdAt\""),
    ts("updated_at", "x.\"updatedAt\""),
];

const LISTA_EXCLUSIONS: &[Col] = &[
    uuid("id", "x.id"),
    uuid("sorteo_id", "x.sorteo_id"),
    uuid("banca_id", "COALESCE(x.banca_id, v.\"bancaId\")"),
    uuid("ventana_id", "x.ventana_id"),
    uuid("vendedor_id", "x.vendedor_id"),
    uuid("multiplier_id", "x.multiplier_id"),
    ts("excluded_at", "x.excluded_at"),
    uuid("excluded_by", "x.excluded_by"),
    text("reason", "x.reason"),
    ts("created_at", "x.created_at"),
    ts("updated_at", "x.updated_at"),
];

const TICKETS: &[Col] = &[
    uuid("id", "x.id"),
    // Kept exactly: the paper slips carry it.
    text("ticket_number", "x.\"ticketNumber\""),
    date(
        "business_date",
        concat!(
            "COALESCE(x.\"businessDate\", ",
            local_date!("x.\"createdAt\""),
            ")"
        ),
    ),
    uuid("banca_id", "COALESCE(x.\"bancaId\", v.\"bancaId\")"),
    uuid("loteria_id", "x.\"loteriaId\""),
    uuid("sorteo_id", "x.\"sorteoId\""),
    uuid("ventana_id", "x.\"ventanaId\""),
    uuid("vendedor_id", "x.\"vendedorId\""),
    money("total_amount", "totalAmount", "x.\"totalAmount\"::float8"),
    money(
        "total_commission",
        "totalCommission",
        "COALESCE(x.\"totalCommission\", 0)::float8",
    ),
    money(
        "total_listero_commission",
        "totalListeroCommission",
        "x.\"totalListeroCommission\"::float8",
    ),
    enumerated("status", "ticket_status", "x.status::text"),
    boolean("is_active", "x.\"isActive\""),
    boolean("is_winner", "x.\"isWinner\""),
    money(
        "total_payout",
        "totalPayout",
        "COALESCE(x.\"totalPayout\", 0)::float8",
    ),
    money(
        "total_paid",
        "totalPaid",
        "COALESCE(x.\"totalPaid\", 0)::float8",
    ),
    money(
        "remaining_amount",
        "remainingAmount",
        "COALESCE(x.\"remainingAmount\", 0)::float8",
    ),
    ts("last_payment_at", "x.\"lastPaymentAt\""),
    uuid("paid_by_id", "x.\"paidById\""),
    text("payment_method", "x.\"paymentMethod\""),
    text("payment_notes", "x.\"paymentNotes\""),
    json("payment_history", "x.\"paymentHistory\""),
    text(
        "cliente_nombre",
        "COALESCE(x.\"clienteNombre\", 'CLIENTE CONTADO')",
    ),
    uuid("created_by", "x.\"createdBy\""),
    enumerated("created_by_role", "user_role", "x.\"createdByRole\"::text"),
    boolean("is_sorteo_closed", "x.\"isSorteoClosed\""),
    text(
        "idempotency_key",
        "CASE WHEN length(x.\"idempotencyKey\") <= 100 THEN x.\"idempotencyKey\" END",
    ),
    int("print_count", "COALESCE(x.\"printCount\", 0)"),
    // The existing system marks a cancellation with deletedAt only.
    ts(
        "cancelled_at",
        "CASE WHEN x.status::text = 'CANCELLED' THEN x.\"deletedAt\" END",
    ),
    ts("deleted_at", "x.\"deletedAt\""),
    text("deleted_by", "x.\"deletedBy\""),
    text("deleted_reason", "x.\"deletedReason\""),
    ts("created_at", "x.\"createdAt\""),
    ts("updated_at", "x.\"updatedAt\""),
];

/// A bet number in Banca's canonical form: zero-padded to the sorteo's digits.
macro_rules! canonical_number {
    ($e:literal) => {
        concat!(
            "CASE WHEN ",
            $e,
            " ~ '^[0-9]+$' AND length(",
            $e,
            ") < s.digits THEN lpad(",
            $e,
            ", CASE WHEN s.digits = 3 THEN 3 ELSE 2 END, '0') ELSE ",
            $e,
            " END"
        )
    };
}

const JUGADAS: &[Col] = &[
    uuid("id", "x.id"),
    uuid("ticket_id", "x.\"ticketId\""),
    uuid("sorteo_id", "t.\"sorteoId\""),
    uuid(
        "banca_id",
        "COALESCE(x.\"bancaId\", t.\"bancaId\", v.\"bancaId\")",
    ),
    // Line order within the ticket: by creation, then id.
    col(
        "position",
        "smallint",
        Kind::Int,
        "(SELECT count(*) FROM \"Jugada\" y WHERE y.\"ticketId\" = x.\"ticketId\"
            AND (y.\"createdAt\", y.id) < (x.\"createdAt\", x.id))::int4",
    ),
    enumerated("type", "bet_type", "x.type::text"),
    text("number", canonical_number!("x.number")),
    text(
        "reventado_number",
        canonical_number!("x.\"reventadoNumber\""),
    ),
    money("amount", "amount", "x.amount::float8"),
    dec4(
        "final_multiplier_x",
        "finalMultiplierX",
        "x.\"finalMultiplierX\"::float8",
    ),
    uuid("multiplier_id", "x.\"multiplierId\""),
    money("payout", "payout", "x.payout::float8"),
    boolean("is_winner", "x.\"isWinner\""),
    boolean("is_active", "x.\"isActive\""),
    dec4(
        "commission_percent",
        "commissionPercent",
        "x.\"commissionPercent\"::float8",
    ),
    money(
        "commission_amount",
        "commissionAmount",
        "x.\"commissionAmount\"::float8",
    ),
    text("commission_origin", "x.\"commissionOrigin\""),
    text("commission_rule_id", "x.\"commissionRuleId\""),
    money(
        "listero_commission_amount",
        "listeroCommissionAmount",
        "x.\"listeroCommissionAmount\"::float8",
    ),
    boolean("is_excluded", "x.\"isExcluded\""),
    ts("excluded_at", "x.\"excludedAt\""),
    uuid("excluded_by", "x.\"excludedBy\""),
    text("excluded_reason", "x.\"excludedReason\""),
    ts("deleted_at", "x.\"deletedAt\""),
    ts("created_at", "x.\"createdAt\""),
    ts("updated_at", "x.\"updatedAt\""),
];

/// A legacy free-text payment method in Banca's list (NULL: the default `cash`).
macro_rules! method {
    ($e:literal) => {
        concat!(
            "CASE WHEN ",
            $e,
            " IS NULL THEN 'cash' WHEN lower(",
            $e,
            ") IN ('cash', 'transfer', 'check', 'other') THEN lower(",
            $e,
            ") ELSE 'other' END"
        )
    };
}

/// A legacy text column holding a user id, when it names a user.
macro_rules! user_ref {
    ($e:literal) => {
        concat!(
            "CASE WHEN ",
            $e,
            "::text ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' \
             AND EXISTS (SELECT 1 FROM \"User\" ux WHERE ux.id::text = lower(",
            $e,
            "::text)) THEN lower(",
            $e,
            "::text)::uuid END"
        )
    };
}

const TICKET_PAYMENTS: &[Col] = &[
    uuid("id", "x.id"),
    uuid("ticket_id", "x.\"ticketId\""),
    uuid("banca_id", "COALESCE(t.\"bancaId\", v.\"bancaId\")"),
    money("amount_paid", "amountPaid", "x.\"amountPaid\"::float8"),
    uuid("paid_by_id", "x.\"paidById\""),
    ts("payment_date", "x.\"paymentDate\""),
    text("method", method!("x.method")),
    text("notes", "x.notes"),
    boolean("is_partial", "x.\"isPartial\""),
    money(
        "remaining_amount",
        "remainingAmount",
        "x.\"remainingAmount\"::float8",
    ),
    boolean("is_final", "x.\"isFinal\""),
    ts("completed_at", "x.\"completedAt\""),
    boolean("is_reversed", "x.\"isReversed\""),
    ts("reversed_at", "x.\"reversedAt\""),
    uuid("reversed_by", user_ref!("x.\"reversedBy\"")),
    text(
        "reversed_reason",
        "CASE WHEN x.\"reversedBy\" IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM \"User\" ux WHERE ux.id::text = lower(x.\"reversedBy\"::text))
         THEN 'reversedBy: ' || x.\"reversedBy\" END",
    ),
    text(
        "idempotency_key",
        "CASE WHEN length(x.\"idempotencyKey\") <= 100 THEN x.\"idempotencyKey\" END",
    ),
    ts("created_at", "x.\"createdAt\""),
    ts("updated_at", "x.\"updatedAt\""),
];

/// The statement's level, as Banca names it.
const STATEMENT_DIMENSION: &str = "CASE WHEN x.\"vendedorId\" IS NOT NULL THEN 'vendedor'
     WHEN x.\"ventanaId\" IS NOT NULL THEN 'ventana' ELSE 'banca' END";

/// The banca of a legacy statement or movement: its own, else its ventana's, else its
/// vendedor's ventana's.
const ENTITY_BANCA: &str = "COALESCE(x.\"bancaId\", ev.\"bancaId\", euv.\"bancaId\")";

const ACCOUNT_STATEMENTS: &[Col] = &[
    uuid("id", "x.id"),
    date("date", "x.date"),
    text("month", "to_char(x.date, 'YYYY-MM')"),
    text("dimension", STATEMENT_DIMENSION),
    uuid("banca_id", ENTITY_BANCA),
    // Vendedor rows carry the vendedor's ventana in Banca.
    uuid(
        "ventana_id",
        "CASE WHEN x.\"vendedorId\" IS NOT NULL THEN COALESCE(x.\"ventanaId\", eu.\"ventanaId\")
              ELSE x.\"ventanaId\" END",
    ),
    uuid("vendedor_id", "x.\"vendedorId\""),
    money("total_sales", "totalSales", "x.\"totalSales\"::float8"),
    money(
        "total_payouts",
        "totalPayouts",
        "x.\"totalPayouts\"::float8",
    ),
    money(
        "listero_commission",
        "listeroCommission",
        "x.\"listeroCommission\"::float8",
    ),
    money(
        "vendedor_commission",
        "vendedorCommission",
        "x.\"vendedorCommission\"::float8",
    ),
    money("balance", "balance", "x.balance::float8"),
    money("total_paid", "totalPaid", "x.\"totalPaid\"::float8"),
    money(
        "total_collected",
        "totalCollected",
        "x.\"totalCollected\"::float8",
    ),
    money(
        "remaining_balance",
        "remainingBalance",
        "x.\"remainingBalance\"::float8",
    ),
    money(
        "accumulated_balance",
        "accumulatedBalance",
        "x.\"accumulatedBalance\"::float8",
    ),
    int("ticket_count", "x.\"ticketCount\""),
    boolean("is_settled", "x.\"isSettled\""),
    boolean("can_edit", "x.\"canEdit\""),
    ts("settled_at", "x.\"settledAt\""),
    uuid("settled_by", user_ref!("x.\"settledBy\"")),
    ts("created_at", "x.\"createdAt\""),
    ts("updated_at", "x.\"updatedAt\""),
];

/// The existing system's synthetic carry-over rows (domain-money §5.2): not movements.
pub const CARRY_OVER: &str = "(x.method = 'Saldo del mes anterior'
    OR COALESCE(x.notes, '') LIKE '%Saldo arrastrado del mes anterior%')";

const ACCOUNT_PAYMENTS: &[Col] = &[
    uuid("id", "x.id"),
    uuid("account_statement_id", "x.\"accountStatementId\""),
    date("date", "x.date"),
    text("month", "to_char(x.date, 'YYYY-MM')"),
    text(
        "time",
        "CASE WHEN x.time ~ '^[0-2][0-9]:[0-5][0-9]$' THEN x.time ELSE '00:00' END",
    ),
    uuid("banca_id", ENTITY_BANCA),
    uuid("ventana_id", "x.\"ventanaId\""),
    uuid("vendedor_id", "x.\"vendedorId\""),
    money("amount", "amount", "x.amount::float8"),
    text("type", "lower(x.type)"),
    text("method", method!("x.method")),
    text("notes", "x.notes"),
    boolean("is_final", "x.\"isFinal\""),
    boolean("is_reversed", "x.\"isReversed\""),
    ts("reversed_at", "x.\"reversedAt\""),
    uuid("reversed_by", user_ref!("x.\"reversedBy\"")),
    uuid("paid_by_id", user_ref!("x.\"paidById\"")),
    text("paid_by_name", "x.\"paidByName\""),
    text(
        "idempotency_key",
        "CASE WHEN length(x.\"idempotencyKey\") <= 100 THEN x.\"idempotencyKey\" END",
    ),
    ts("created_at", "x.\"createdAt\""),
    ts("updated_at", "x.\"updatedAt\""),
];

const ACTIVITY_LOGS: &[Col] = &[
    uuid("id", "x.id"),
    uuid("user_id", "x.\"userId\""),
    uuid(
        "banca_id",
        "CASE WHEN EXISTS (SELECT 1 FROM \"Banca\" bx WHERE bx.id = x.\"bancaId\")
              THEN x.\"bancaId\" END",
    ),
    text("action", "x.action::text"),
    text("target_type", "x.\"targetType\""),
    text("target_id", "x.\"targetId\""),
    json("details", "x.details"),
    ts("created_at", "x.\"createdAt\""),
];

/// Every table, in foreign-key order.
pub const TABLES: &[Table] = &[
    Table {
        target: "bancas",
        legacy: "Banca",
        from: "\"Banca\" x",
        skip: None,
        skip_reason: "",
        cols: BANCAS,
        key_len: 1,
        touches_sorteo: None,
    },
    Table {
        target: "ventanas",
        legacy: "Ventana",
        from: "\"Ventana\" x",
        skip: None,
        skip_reason: "",
        cols: VENTANAS,
        key_len: 1,
        touches_sorteo: None,
    },
    Table {
        target: "users",
        legacy: "User",
        from: "\"User\" x",
        skip: None,
        skip_reason: "",
        cols: USERS,
        key_len: 1,
        touches_sorteo: None,
    },
    Table {
        target: "user_bancas",
        legacy: "UserBanca",
        from: "\"UserBanca\" x",
        skip: None,
        skip_reason: "",
        cols: USER_BANCAS,
        key_len: 2,
        touches_sorteo: None,
    },
    Table {
        target: "loterias",
        legacy: "Loteria",
        from: "\"Loteria\" x",
        skip: None,
        skip_reason: "",
        cols: LOTERIAS,
        key_len: 1,
        touches_sorteo: None,
    },
    Table {
        target: "loteria_multipliers",
        legacy: "LoteriaMultiplier",
        from: "\"LoteriaMultiplier\" x JOIN \"Loteria\" l ON l.id = x.\"loteriaId\"",
        skip: None,
        skip_reason: "",
        cols: LOTERIA_MULTIPLIERS,
        key_len: 1,
        touches_sorteo: None,
    },
    Table {
        target: "banca_loteria_settings",
        legacy: "BancaLoteriaSetting",
        from: "\"BancaLoteriaSetting\" x",
        skip: Some("x.\"bancaId\" IS NULL"),
        skip_reason: "no banca (Banca keys the setting by banca)",
        cols: BANCA_LOTERIA_SETTINGS,
        key_len: 1,
        touches_sorteo: None,
    },
    Table {
        target: "multiplier_overrides",
        legacy: "MultiplierOverride",
        from: "\"MultiplierOverride\" x
               LEFT JOIN \"Ventana\" ov ON ov.id = x.\"ventanaId\"
               LEFT JOIN \"User\" u ON u.id = x.\"userId\"
               LEFT JOIN \"Ventana\" uv ON uv.id = u.\"ventanaId\"",
        skip: None,
        skip_reason: "",
        cols: MULTIPLIER_OVERRIDES,
        key_len: 1,
        touches_sorteo: None,
    },
    Table {
        target: "sorteos",
        legacy: "Sorteo",
        from: "\"Sorteo\" x",
        skip: None,
        skip_reason: "",
        cols: SORTEOS,
        key_len: 1,
        touches_sorteo: Some("id"),
    },
    Table {
        target: "restriction_rules",
        legacy: "RestrictionRule",
        from: RULES_FROM,
        skip: None,
        skip_reason: "",
        cols: RESTRICTION_RULES,
        key_len: 1,
        touches_sorteo: None,
    },
    Table {
        target: "sorteo_lista_exclusions",
        legacy: "sorteo_lista_exclusion",
        from: "\"sorteo_lista_exclusion\" x JOIN \"Ventana\" v ON v.id = x.ventana_id",
        skip: Some(
            "EXISTS (SELECT 1 FROM \"sorteo_lista_exclusion\" y
                     WHERE y.sorteo_id = x.sorteo_id AND y.ventana_id = x.ventana_id
                       AND y.vendedor_id IS NOT DISTINCT FROM x.vendedor_id
                       AND y.multiplier_id IS NOT DISTINCT FROM x.multiplier_id
                       AND (y.updated_at, y.id) > (x.updated_at, x.id))",
        ),
        skip_reason: "an older twin of the same list (Banca keeps one)",
        cols: LISTA_EXCLUSIONS,
        key_len: 1,
        touches_sorteo: Some("sorteo_id"),
    },
    Table {
        target: "tickets",
        legacy: "Ticket",
        from: "\"Ticket\" x JOIN \"Ventana\" v ON v.id = x.\"ventanaId\"",
        skip: None,
        skip_reason: "",
        cols: TICKETS,
        key_len: 1,
        touches_sorteo: Some("sorteo_id"),
    },
    Table {
        target: "jugadas",
        legacy: "Jugada",
        from: "\"Jugada\" x JOIN \"Ticket\" t ON t.id = x.\"ticketId\"
               JOIN \"Ventana\" v ON v.id = t.\"ventanaId\"
               JOIN \"Sorteo\" s ON s.id = t.\"sorteoId\"",
        skip: None,
        skip_reason: "",
        cols: JUGADAS,
        key_len: 1,
        touches_sorteo: Some("sorteo_id"),
    },
    Table {
        target: "ticket_payments",
        legacy: "TicketPayment",
        from: "\"TicketPayment\" x JOIN \"Ticket\" t ON t.id = x.\"ticketId\"
               JOIN \"Ventana\" v ON v.id = t.\"ventanaId\"",
        skip: None,
        skip_reason: "",
        cols: TICKET_PAYMENTS,
        key_len: 1,
        touches_sorteo: None,
    },
    Table {
        target: "account_statements",
        legacy: "AccountStatement",
        from: "\"AccountStatement\" x
               LEFT JOIN \"Ventana\" ev ON ev.id = x.\"ventanaId\"
               LEFT JOIN \"User\" eu ON eu.id = x.\"vendedorId\"
               LEFT JOIN \"Ventana\" euv ON euv.id = eu.\"ventanaId\"",
        skip: Some("COALESCE(x.\"bancaId\", ev.\"bancaId\", euv.\"bancaId\") IS NULL"),
        skip_reason: "no banca can be found for the row",
        cols: ACCOUNT_STATEMENTS,
        key_len: 1,
        touches_sorteo: None,
    },
    Table {
        target: "account_payments",
        legacy: "AccountPayment",
        from: "\"AccountPayment\" x
               LEFT JOIN \"Ventana\" ev ON ev.id = x.\"ventanaId\"
               LEFT JOIN \"User\" eu ON eu.id = x.\"vendedorId\"
               LEFT JOIN \"Ventana\" euv ON euv.id = eu.\"ventanaId\"",
        skip: Some(CARRY_OVER),
        skip_reason: "synthetic month carry-over rows, not movements",
        cols: ACCOUNT_PAYMENTS,
        key_len: 1,
        touches_sorteo: None,
    },
    Table {
        target: "activity_logs",
        legacy: "ActivityLog",
        from: "\"ActivityLog\" x",
        skip: None,
        skip_reason: "",
        cols: ACTIVITY_LOGS,
        key_len: 1,
        touches_sorteo: None,
    },
];

/// The legacy tables `banca import` reads; a source without them is not the existing system.
pub fn required_legacy_tables() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = TABLES.iter().map(|t| t.legacy).collect();
    v.sort_unstable();
    v.dedup();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_is_well_formed() {
        for t in TABLES {
            assert!(t.key_len >= 1 && t.key_len < t.cols.len(), "{}", t.target);
            let mut names: Vec<&str> = t.cols.iter().map(|c| c.name).collect();
            names.sort_unstable();
            let n = names.len();
            names.dedup();
            assert_eq!(n, names.len(), "duplicate column in {}", t.target);
            for c in t.cols {
                if let Kind::Dec(_) = c.kind {
                    assert!(!c.legacy.is_empty(), "{}.{}", t.target, c.name);
                }
                if matches!(c.update, Update::Expr(_)) {
                    assert!(c.kind == Kind::Text, "{}.{}", t.target, c.name);
                }
            }
            if let Some(col) = t.touches_sorteo {
                assert!(t.cols.iter().any(|c| c.name == col), "{}", t.target);
            }
        }
    }
}
