//! Use cases over bancas: create (optionally with its BANCA login), update, soft delete,
//! restore, list, read, and the banca commission policy. Each use case owns its transaction
//! and writes its activity entry inside it. Also the commission-policy validator shared by the
//! banca, ventana and user policy endpoints.

use std::collections::HashSet;

use rust_decimal::Decimal;
use serde_json::{json, Map, Value};
use sqlx::PgPool;
use uuid::Uuid;

use crate::db;
use crate::db::bancas::{BancaFields, BancaFilter, BancaRow};
use crate::db::policies::{PolicyOwner, PolicyRow};
use crate::db::users::NewUser;
use crate::domain::authz::Actor;
use crate::domain::password;
use crate::domain::roles::Role;
use crate::http::error::ErrorDetail;
use crate::services::activity;

#[derive(Debug, thiserror::Error)]
pub enum BancaError {
    #[error("not found")]
    NotFound,
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// Another banca already uses this `name` or `code`.
    #[error("banca {field} already taken")]
    Exists { field: &'static str },
    #[error("username already taken")]
    UsernameExists,
    #[error("banca has {count} active ventanas")]
    HasActiveVentanas { count: i64 },
    #[error("invalid input")]
    Invalid(Vec<ErrorDetail>),
    #[error("password hashing failed")]
    Hashing,
    #[error("database: {0}")]
    Database(sqlx::Error),
}

impl From<sqlx::Error> for BancaError {
    /// Unique-constraint races become the same conflicts the pre-checks report.
    fn from(e: sqlx::Error) -> Self {
        match constraint(&e) {
            Some("bancas_name_key") => BancaError::Exists { field: "name" },
            Some("bancas_code_key") => BancaError::Exists { field: "code" },
            Some("users_username_key") => BancaError::UsernameExists,
            _ => BancaError::Database(e),
        }
    }
}

/// The constraint a database error names, if any.
pub(crate) fn constraint(e: &sqlx::Error) -> Option<&str> {
    match e {
        sqlx::Error::Database(d) => d.constraint(),
        _ => None,
    }
}

/// Hashes a new password (argon2id) off the async runtime.
pub(crate) async fn hash_password(password: &str) -> Result<String, password::PasswordError> {
    let pw = password.to_string();
    tokio::task::spawn_blocking(move || password::hash(&pw))
        .await
        .map_err(|_| password::PasswordError::Hashing)?
}

/// Optional changes to a banca; `None` keeps the current value. For nullable columns
/// `Some(None)` clears the value.
#[derive(Debug, Clone, Default)]
pub struct BancaChanges {
    pub name: Option<String>,
    pub code: Option<String>,
    pub email: Option<Option<String>>,
    pub address: Option<Option<String>>,
    pub phone: Option<Option<String>>,
    pub default_min_bet: Option<Decimal>,
    pub global_max_per_number: Option<Decimal>,
    pub sales_cutoff_minutes: Option<i32>,
    pub vendor_limit: Option<Option<i32>>,
    pub max_sessions_per_vendedor: Option<i32>,
}

impl BancaChanges {
    fn apply(self, f: &mut BancaFields) {
        fn set<T>(slot: &mut T, v: Option<T>) {
            if let Some(v) = v {
                *slot = v;
            }
        }
        set(&mut f.name, self.name);
        set(&mut f.code, self.code);
        set(&mut f.email, self.email);
        set(&mut f.address, self.address);
        set(&mut f.phone, self.phone);
        set(&mut f.default_min_bet, self.default_min_bet);
        set(&mut f.global_max_per_number, self.global_max_per_number);
        set(&mut f.sales_cutoff_minutes, self.sales_cutoff_minutes);
        set(&mut f.vendor_limit, self.vendor_limit);
        set(
            &mut f.max_sessions_per_vendedor,
            self.max_sessions_per_vendedor,
        );
    }
}

/// The wire names of the columns that differ between `a` and `b`.
fn changed_fields(a: &BancaFields, b: &BancaFields) -> Vec<&'static str> {
    let mut out = Vec::new();
    let mut check = |differs: bool, name: &'static str| {
        if differs {
            out.push(name);
        }
    };
    check(a.name != b.name, "name");
    check(a.code != b.code, "code");
    check(a.email != b.email, "email");
    check(a.address != b.address, "address");
    check(a.phone != b.phone, "phone");
    check(a.default_min_bet != b.default_min_bet, "defaultMinBet");
    check(
        a.global_max_per_number != b.global_max_per_number,
        "globalMaxPerNumber",
    );
    check(
        a.sales_cutoff_minutes != b.sales_cutoff_minutes,
        "salesCutoffMinutes",
    );
    check(a.vendor_limit != b.vendor_limit, "vendorLimit");
    check(
        a.max_sessions_per_vendedor != b.max_sessions_per_vendedor,
        "maxSessionsPerVendedor",
    );
    out
}

/// The BANCA login created with a banca.
#[derive(Debug, Clone)]
pub struct NewLogin {
    pub username: String,
    pub password: String,
}

/// Input of `create`: name and code (already trimmed, code upper-cased), the optional
/// columns (the table defaults apply to the rest) and an optional login.
#[derive(Debug, Clone)]
pub struct NewBanca {
    pub name: String,
    pub code: String,
    pub rest: BancaChanges,
    pub is_active: bool,
    pub login: Option<NewLogin>,
}

/// A created banca and, when one was asked for, its BANCA login `(id, username)`.
#[derive(Debug, Clone)]
pub struct CreatedBanca {
    pub banca: BancaRow,
    pub login: Option<(Uuid, String)>,
}

/// Creates a banca and, when `login` is given, a BANCA user "Admin <name>" linked to it as
/// its default banca, in one transaction (ADMIN only).
pub async fn create(
    pool: &PgPool,
    actor: &Actor,
    input: NewBanca,
) -> Result<CreatedBanca, BancaError> {
    if !actor.is_admin() {
        return Err(BancaError::Forbidden("solo ADMIN crea bancas"));
    }
    let hash = match &input.login {
        Some(l) => Some(
            hash_password(&l.password)
                .await
                .map_err(|_| BancaError::Hashing)?,
        ),
        None => None,
    };
    let mut fields = BancaFields {
        name: input.name,
        code: input.code,
        email: None,
        address: None,
        phone: None,
        default_min_bet: Decimal::new(10000, 2),
        global_max_per_number: Decimal::new(500000, 2),
        sales_cutoff_minutes: 1,
        vendor_limit: None,
        max_sessions_per_vendedor: 1,
    };
    input.rest.apply(&mut fields);

    let mut tx = pool.begin().await?;
    if let Some(field) = db::bancas::taken_field(&mut tx, &fields.name, &fields.code, None).await? {
        return Err(BancaError::Exists { field });
    }
    if let Some(l) = &input.login {
        if db::users::username_exists(&mut tx, &l.username).await? {
            return Err(BancaError::UsernameExists);
        }
    }
    let banca = db::bancas::insert(&mut tx, &fields, input.is_active).await?;
    let mut login = None;
    if let (Some(l), Some(hash)) = (&input.login, &hash) {
        let user_id = db::users::insert_user(
            &mut tx,
            &NewUser {
                name: &format!("Admin {}", banca.name),
                username: &l.username,
                email: None,
                password_hash: hash,
                role: Role::Banca,
                ventana_id: None,
                banca_id: Some(banca.id),
            },
        )
        .await?;
        db::users::link_default_banca(&mut tx, user_id, banca.id).await?;
        login = Some((user_id, l.username.clone()));
    }
    activity::record(
        &mut tx,
        actor,
        Some(banca.id),
        "BANCA_CREATE",
        "BANCA",
        banca.id,
        json!({
            "name": banca.name,
            "code": banca.code,
            "isActive": banca.is_active,
            "userCreated": login.is_some(),
            "userId": login.as_ref().map(|l| l.0),
            "username": login.as_ref().map(|l| l.1.clone()),
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(CreatedBanca { banca, login })
}

/// Whether `new` limits the banca's vendedores more than `old` (`None` = no limit).
fn vendor_limit_tightened(old: Option<i32>, new: Option<i32>) -> bool {
    match (old, new) {
        (_, None) => false,
        (None, Some(_)) => true,
        (Some(a), Some(b)) => b < a,
    }
}

/// Updates an active banca (ADMIN, or a BANCA user assigned to it). Only ADMIN changes
/// `vendorLimit`; a tighter limit closes the sessions of the banca's vendedores
/// (`vendor_limit_reduced`). No change writes nothing.
pub async fn update(
    pool: &PgPool,
    actor: &Actor,
    id: Uuid,
    changes: BancaChanges,
) -> Result<BancaRow, BancaError> {
    if !actor.is(&[Role::Admin, Role::Banca]) {
        return Err(BancaError::Forbidden("rol no permitido"));
    }
    let mut tx = pool.begin().await?;
    let old = db::bancas::find_for_update(&mut tx, id)
        .await?
        .filter(|b| b.is_active && b.deleted_at.is_none() && actor.can_reach_banca(b.id))
        .ok_or(BancaError::NotFound)?;
    let before = BancaFields::from(&old);
    let mut after = before.clone();
    changes.apply(&mut after);
    let fields = changed_fields(&before, &after);
    if fields.is_empty() {
        return Ok(old);
    }
    if !actor.is_admin() && before.vendor_limit != after.vendor_limit {
        return Err(BancaError::Forbidden(
            "solo un ADMIN puede cambiar el límite de vendedores",
        ));
    }
    if before.name != after.name || before.code != after.code {
        if let Some(field) =
            db::bancas::taken_field(&mut tx, &after.name, &after.code, Some(id)).await?
        {
            return Err(BancaError::Exists { field });
        }
    }
    let row = db::bancas::update(&mut tx, id, &after).await?;
    let revoked = if vendor_limit_tightened(before.vendor_limit, after.vendor_limit) {
        db::bancas::revoke_vendedor_sessions(&mut tx, id, "vendor_limit_reduced").await?
    } else {
        0
    };
    let mut details = json!({ "fields": fields });
    if before.vendor_limit != after.vendor_limit {
        details["vendorLimit"] = json!({ "from": before.vendor_limit, "to": after.vendor_limit });
        details["revokedSessions"] = json!(revoked);
    }
    activity::record(
        &mut tx,
        actor,
        Some(id),
        "BANCA_UPDATE",
        "BANCA",
        id,
        details,
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// Soft-deletes a banca (ADMIN): refused while it has active ventanas; deleting a deleted
/// banca changes nothing.
pub async fn delete(
    pool: &PgPool,
    actor: &Actor,
    id: Uuid,
    reason: Option<String>,
) -> Result<BancaRow, BancaError> {
    if !actor.is_admin() {
        return Err(BancaError::Forbidden("solo ADMIN elimina bancas"));
    }
    let mut tx = pool.begin().await?;
    let old = db::bancas::find_for_update(&mut tx, id)
        .await?
        .ok_or(BancaError::NotFound)?;
    if old.deleted_at.is_some() && !old.is_active {
        return Ok(old);
    }
    let count = db::bancas::count_active_ventanas(&mut tx, id).await?;
    if count > 0 {
        return Err(BancaError::HasActiveVentanas { count });
    }
    let row =
        db::bancas::soft_delete(&mut tx, id, &actor.user_id.to_string(), reason.as_deref()).await?;
    activity::record(
        &mut tx,
        actor,
        Some(id),
        "BANCA_DELETE",
        "BANCA",
        id,
        json!({ "name": row.name, "code": row.code, "reason": reason }),
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// Reactivates a banca (ADMIN); restoring an active banca changes nothing.
pub async fn restore(
    pool: &PgPool,
    actor: &Actor,
    id: Uuid,
    reason: Option<String>,
) -> Result<BancaRow, BancaError> {
    if !actor.is_admin() {
        return Err(BancaError::Forbidden("solo ADMIN restaura bancas"));
    }
    let mut tx = pool.begin().await?;
    let old = db::bancas::find_for_update(&mut tx, id)
        .await?
        .ok_or(BancaError::NotFound)?;
    if old.is_active && old.deleted_at.is_none() {
        return Ok(old);
    }
    let row = db::bancas::restore(&mut tx, id).await?;
    activity::record(
        &mut tx,
        actor,
        Some(id),
        "BANCA_RESTORE",
        "BANCA",
        id,
        json!({ "name": row.name, "code": row.code, "reason": reason }),
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// Bancas the caller may see: ADMIN every one (inactive included), BANCA its assigned
/// (active) bancas, VENTANA and VENDEDOR only their own banca.
pub async fn list(
    pool: &PgPool,
    actor: &Actor,
    search: Option<String>,
    is_active: Option<bool>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<BancaRow>, i64), BancaError> {
    let filter = BancaFilter {
        ids: actor.reachable_bancas(),
        search,
        is_active,
    };
    let mut conn = pool.acquire().await?;
    Ok(db::bancas::list(&mut conn, &filter, limit, offset).await?)
}

/// One banca: ADMIN any (inactive included); others only a reachable, active one.
pub async fn get(pool: &PgPool, actor: &Actor, id: Uuid) -> Result<BancaRow, BancaError> {
    let mut conn = pool.acquire().await?;
    db::bancas::find(&mut conn, id)
        .await?
        .filter(|b| {
            actor.can_reach_banca(b.id)
                && (actor.is_admin() || (b.is_active && b.deleted_at.is_none()))
        })
        .ok_or(BancaError::NotFound)
}

/// The banca's commission policy (ADMIN).
pub async fn get_commission_policy(
    pool: &PgPool,
    actor: &Actor,
    id: Uuid,
) -> Result<PolicyRow, BancaError> {
    if !actor.is_admin() {
        return Err(BancaError::Forbidden("solo ADMIN"));
    }
    let mut conn = pool.acquire().await?;
    db::policies::get(&mut conn, PolicyOwner::Banca, id)
        .await?
        .ok_or(BancaError::NotFound)
}

/// Replaces (or, with `null`, removes) the banca's commission policy (ADMIN). The policy is
/// validated and normalized by `normalize_commission_policy`.
pub async fn set_commission_policy(
    pool: &PgPool,
    actor: &Actor,
    id: Uuid,
    policy: Value,
) -> Result<PolicyRow, BancaError> {
    if !actor.is_admin() {
        return Err(BancaError::Forbidden("solo ADMIN"));
    }
    let policy = normalize_commission_policy(policy).map_err(BancaError::Invalid)?;
    let mut tx = pool.begin().await?;
    if db::bancas::find_for_update(&mut tx, id).await?.is_none() {
        return Err(BancaError::NotFound);
    }
    let row = db::policies::set(&mut tx, PolicyOwner::Banca, id, policy.as_ref()).await?;
    activity::record(
        &mut tx,
        actor,
        Some(id),
        "BANCA_UPDATE",
        "BANCA",
        id,
        json!({ "fields": ["commissionPolicyJson"], "policySet": policy.is_some() }),
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

// ---------------------------------------------------------------------------------------------
// Commission policy (version 1)

/// The body key every commission-policy endpoint uses; detail fields start with it.
pub const POLICY_FIELD: &str = "commissionPolicyJson";

const POLICY_KEYS: &[&str] = &[
    "version",
    "effectiveFrom",
    "effectiveTo",
    "defaultPercent",
    "rules",
];
const RULE_KEYS: &[&str] = &[
    "id",
    "loteriaId",
    "betType",
    "multiplierId",
    "multiplierRange",
    "percent",
    "multiplier",
];

fn detail(out: &mut Vec<ErrorDetail>, field: String, code: &str, issue: impl Into<String>) {
    out.push(ErrorDetail {
        field,
        code: code.into(),
        issue: issue.into(),
    });
}

fn unknown_keys(
    obj: &Map<String, Value>,
    allowed: &[&str],
    field: &str,
    out: &mut Vec<ErrorDetail>,
) {
    let extra: Vec<&str> = obj
        .keys()
        .map(String::as_str)
        .filter(|k| !allowed.contains(k))
        .collect();
    if !extra.is_empty() {
        detail(
            out,
            field.to_string(),
            "unrecognized_keys",
            format!("Claves no permitidas: {}", extra.join(", ")),
        );
    }
}

/// A percent: a number in 0..=100 with at most 2 decimals.
fn check_percent(v: Option<&Value>, field: String, out: &mut Vec<ErrorDetail>) {
    match v {
        None => detail(out, field, "required", "es obligatorio"),
        Some(Value::Number(n)) => {
            let f = n.as_f64().unwrap_or(f64::NAN);
            if !(0.0..=100.0).contains(&f) {
                detail(out, field, "out_of_range", "debe estar entre 0 y 100");
            } else if !has_at_most_two_decimals(&n.to_string()) {
                detail(
                    out,
                    field,
                    "invalid_precision",
                    "admite como máximo 2 decimales",
                );
            }
        }
        Some(_) => detail(out, field, "invalid_type", "debe ser un número"),
    }
}

/// `^\d+(\.\d{1,2})?$` on the number's JSON text.
fn has_at_most_two_decimals(s: &str) -> bool {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.len() <= 2
        && frac.bytes().all(|b| b.is_ascii_digit())
        && (frac.is_empty() != s.contains('.'))
}

/// A required key whose value is `null` or an RFC 3339 date-time; returns the parsed time.
fn check_instant(
    obj: &Map<String, Value>,
    key: &str,
    out: &mut Vec<ErrorDetail>,
) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    let field = format!("{POLICY_FIELD}.{key}");
    match obj.get(key) {
        None => {
            detail(out, field, "required", "es obligatorio (puede ser null)");
            None
        }
        Some(Value::Null) => None,
        Some(Value::String(s)) => match chrono::DateTime::parse_from_rfc3339(s) {
            Ok(t) => Some(t),
            Err(_) => {
                detail(
                    out,
                    field,
                    "invalid_format",
                    "debe ser una fecha ISO 8601 (p. ej. 2025-01-01T00:00:00Z)",
                );
                None
            }
        },
        Some(_) => {
            detail(
                out,
                field,
                "invalid_type",
                "debe ser una fecha ISO 8601 o null",
            );
            None
        }
    }
}

fn is_uuid(v: &Value) -> bool {
    v.as_str().is_some_and(|s| Uuid::parse_str(s).is_ok())
}

/// Checks one rule; returns its duplicate key when the rule is well formed.
fn check_rule(i: usize, rule: &Value, out: &mut Vec<ErrorDetail>) -> Option<String> {
    let base = format!("{POLICY_FIELD}.rules.{i}");
    let Some(obj) = rule.as_object() else {
        detail(out, base, "invalid_type", "cada regla debe ser un objeto");
        return None;
    };
    let before = out.len();
    unknown_keys(obj, RULE_KEYS, &base, out);
    match obj.get("id") {
        None => {}
        Some(Value::String(s)) if !s.is_empty() && s.chars().count() <= 100 => {}
        Some(_) => detail(
            out,
            format!("{base}.id"),
            "invalid_type",
            "debe ser un texto de 1 a 100 caracteres",
        ),
    }
    match obj.get("loteriaId") {
        None => detail(
            out,
            format!("{base}.loteriaId"),
            "required",
            "es obligatorio (puede ser null)",
        ),
        Some(Value::Null) => {}
        Some(v) if is_uuid(v) => {}
        Some(_) => detail(
            out,
            format!("{base}.loteriaId"),
            "invalid_format",
            "debe ser un UUID o null",
        ),
    }
    match obj.get("betType") {
        None => detail(
            out,
            format!("{base}.betType"),
            "required",
            "es obligatorio (puede ser null)",
        ),
        Some(Value::Null) => {}
        Some(Value::String(s)) if s == "NUMERO" || s == "REVENTADO" => {}
        Some(_) => detail(
            out,
            format!("{base}.betType"),
            "invalid_enum_value",
            "debe ser NUMERO, REVENTADO o null",
        ),
    }
    match obj.get("multiplierId") {
        None | Some(Value::Null) => {}
        Some(v) if is_uuid(v) => {}
        Some(_) => detail(
            out,
            format!("{base}.multiplierId"),
            "invalid_format",
            "debe ser un UUID o null",
        ),
    }
    let range_field = format!("{base}.multiplierRange");
    let mut value_x = None;
    match obj.get("multiplierRange") {
        None => detail(out, range_field, "required", "es obligatorio"),
        Some(Value::Object(r)) => {
            unknown_keys(r, &["min", "max"], &range_field, out);
            let min = r.get("min").and_then(Value::as_f64);
            let max = r.get("max").and_then(Value::as_f64);
            match (min, max) {
                (Some(min), Some(_)) if min < 0.0 => detail(
                    out,
                    format!("{range_field}.min"),
                    "too_small",
                    "no puede ser negativo",
                ),
                (Some(min), Some(max)) if min != max => detail(
                    out,
                    format!("{range_field}.min"),
                    "custom",
                    "min debe ser igual a max: solo se permiten multiplicadores específicos",
                ),
                (Some(min), Some(_)) => value_x = Some(min),
                _ => detail(
                    out,
                    range_field,
                    "invalid_type",
                    "min y max deben ser números",
                ),
            }
        }
        Some(_) => detail(
            out,
            range_field,
            "invalid_type",
            "debe ser un objeto {min, max}",
        ),
    }
    check_percent(obj.get("percent"), format!("{base}.percent"), out);
    if out.len() != before {
        return None;
    }
    let loteria = obj
        .get("loteriaId")
        .and_then(Value::as_str)
        .unwrap_or("global");
    let bet = obj.get("betType").and_then(Value::as_str).unwrap_or("all");
    let multiplier = match obj.get("multiplierId").and_then(Value::as_str) {
        Some(m) => m.to_string(),
        None => format!("val-{}", value_x.unwrap_or_default()),
    };
    Some(format!("{loteria}:{bet}:{multiplier}"))
}

/// Checks a commission policy (version 1) as the write endpoints accept it:
/// `null` (no policy) or `{version: 1, effectiveFrom: ISO|null, effectiveTo: ISO|null,
/// defaultPercent: 0..100, rules: [{id?, loteriaId: uuid|null, betType: NUMERO|REVENTADO|null,
/// multiplierId?: uuid|null, multiplierRange: {min, max} with min = max, percent: 0..100,
/// multiplier?: ignored}]}`, percents with at most 2 decimals, `effectiveFrom ≤ effectiveTo`,
/// no unknown keys, and no two rules for the same (loteria, betType, multiplier id or value).
/// Every problem is reported; detail fields are paths under `commissionPolicyJson`
/// (e.g. `commissionPolicyJson.rules.0.percent`).
pub fn validate_commission_policy(policy: &Value) -> Result<(), Vec<ErrorDetail>> {
    let mut out = Vec::new();
    let obj = match policy {
        Value::Null => return Ok(()),
        Value::Object(o) => o,
        _ => {
            detail(
                &mut out,
                POLICY_FIELD.into(),
                "invalid_type",
                "debe ser un objeto o null",
            );
            return Err(out);
        }
    };
    unknown_keys(obj, POLICY_KEYS, POLICY_FIELD, &mut out);
    match obj.get("version") {
        Some(v) if v.as_f64() == Some(1.0) => {}
        None => detail(
            &mut out,
            format!("{POLICY_FIELD}.version"),
            "required",
            "es obligatorio (1)",
        ),
        Some(_) => detail(
            &mut out,
            format!("{POLICY_FIELD}.version"),
            "invalid_literal",
            "debe ser 1",
        ),
    }
    let from = check_instant(obj, "effectiveFrom", &mut out);
    let to = check_instant(obj, "effectiveTo", &mut out);
    if let (Some(f), Some(t)) = (from, to) {
        if f > t {
            detail(
                &mut out,
                format!("{POLICY_FIELD}.effectiveFrom"),
                "custom",
                "effectiveFrom debe ser anterior o igual a effectiveTo",
            );
        }
    }
    check_percent(
        obj.get("defaultPercent"),
        format!("{POLICY_FIELD}.defaultPercent"),
        &mut out,
    );
    match obj.get("rules") {
        None => detail(
            &mut out,
            format!("{POLICY_FIELD}.rules"),
            "required",
            "es obligatorio (puede ser [])",
        ),
        Some(Value::Array(rules)) => {
            let mut seen = HashSet::new();
            for (i, rule) in rules.iter().enumerate() {
                if let Some(key) = check_rule(i, rule, &mut out) {
                    if !seen.insert(key) {
                        detail(
                            &mut out,
                            format!("{POLICY_FIELD}.rules"),
                            "custom",
                            format!(
                                "la regla {i} repite lotería, tipo y multiplicador de otra regla"
                            ),
                        );
                    }
                }
            }
        }
        Some(_) => detail(
            &mut out,
            format!("{POLICY_FIELD}.rules"),
            "invalid_type",
            "debe ser una lista",
        ),
    }
    if out.is_empty() {
        Ok(())
    } else {
        Err(out)
    }
}

/// Validates a policy and returns what to store: `None` for `null`; otherwise the policy with
/// a generated id (UUID) on each rule that has none and the read-only `multiplier` dropped.
pub fn normalize_commission_policy(policy: Value) -> Result<Option<Value>, Vec<ErrorDetail>> {
    validate_commission_policy(&policy)?;
    if policy.is_null() {
        return Ok(None);
    }
    let mut policy = policy;
    if let Some(rules) = policy.get_mut("rules").and_then(Value::as_array_mut) {
        for rule in rules.iter_mut().filter_map(Value::as_object_mut) {
            rule.remove("multiplier");
            if !rule.contains_key("id") {
                rule.insert("id".into(), Value::String(Uuid::new_v4().to_string()));
            }
        }
    }
    Ok(Some(policy))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(rules: Value) -> Value {
        json!({
            "version": 1,
            "effectiveFrom": null,
            "effectiveTo": "2030-01-01T00:00:00Z",
            "defaultPercent": 5.25,
            "rules": rules,
        })
    }

    fn fields(r: &Result<(), Vec<ErrorDetail>>) -> Vec<String> {
        r.as_ref()
            .err()
            .map(|d| d.iter().map(|d| d.field.clone()).collect())
            .unwrap_or_default()
    }

    #[test]
    fn accepts_the_client_shape_and_null() {
        let p = policy(json!([
            {"loteriaId": null, "betType": "NUMERO", "multiplierRange": {"min": 90, "max": 90}, "percent": 10},
            {"id": "r2", "loteriaId": "4b0c7b9e-0000-4000-8000-000000000001", "betType": null,
             "multiplierRange": {"min": 80, "max": 80}, "percent": 8.5, "multiplier": {"id": "x"}},
        ]));
        assert_eq!(validate_commission_policy(&p), Ok(()));
        assert_eq!(validate_commission_policy(&Value::Null), Ok(()));
        let n = normalize_commission_policy(p).unwrap().unwrap();
        let rules = n["rules"].as_array().unwrap();
        assert!(Uuid::parse_str(rules[0]["id"].as_str().unwrap()).is_ok());
        assert_eq!(rules[1]["id"], "r2");
        assert!(rules[1].get("multiplier").is_none());
    }

    #[test]
    fn reports_every_problem_with_its_path() {
        let p = json!({
            "version": 2,
            "effectiveFrom": "2030-01-02T00:00:00Z",
            "effectiveTo": "2030-01-01T00:00:00Z",
            "defaultPercent": 100.5,
            "extra": true,
            "rules": [
                {"loteriaId": "nope", "betType": "DIRECTO", "multiplierRange": {"min": 1, "max": 2}, "percent": 1.234},
                {"betType": null, "multiplierRange": {"min": 1, "max": 1}, "percent": 1},
            ],
        });
        let f = fields(&validate_commission_policy(&p));
        for want in [
            "commissionPolicyJson",
            "commissionPolicyJson.version",
            "commissionPolicyJson.effectiveFrom",
            "commissionPolicyJson.defaultPercent",
            "commissionPolicyJson.rules.0.loteriaId",
            "commissionPolicyJson.rules.0.betType",
            "commissionPolicyJson.rules.0.multiplierRange.min",
            "commissionPolicyJson.rules.0.percent",
            "commissionPolicyJson.rules.1.loteriaId",
        ] {
            assert!(f.contains(&want.to_string()), "{want} missing from {f:?}");
        }
    }

    #[test]
    fn refuses_duplicates_and_bad_precision() {
        let rule = json!({"loteriaId": null, "betType": null, "multiplierRange": {"min": 90, "max": 90}, "percent": 5});
        let f = fields(&validate_commission_policy(&policy(json!([rule, rule]))));
        assert_eq!(f, vec!["commissionPolicyJson.rules".to_string()]);
        assert!(has_at_most_two_decimals("12.5") && has_at_most_two_decimals("100"));
        assert!(!has_at_most_two_decimals("1.234") && !has_at_most_two_decimals("1e-7"));
        assert!(validate_commission_policy(&json!([1])).is_err());
    }

    #[test]
    fn vendor_limit_tightening() {
        assert!(vendor_limit_tightened(Some(5), Some(3)));
        assert!(vendor_limit_tightened(None, Some(3)));
        assert!(!vendor_limit_tightened(Some(3), Some(5)));
        assert!(!vendor_limit_tightened(Some(3), None));
    }
}
