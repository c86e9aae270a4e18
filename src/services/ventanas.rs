//! Use cases over ventanas (sales points, "listeros"): create with its VENTANA login, update
//! (the login too), soft delete, restore, list, read and the ventana commission policy. Each
//! use case owns its transaction and writes its activity entry inside it.
//!
//! Who reaches a ventana: ADMIN any; BANCA those of its assigned bancas; VENTANA and VENDEDOR
//! only their own. Anything else is reported as not found.

use rand::Rng;
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::db;
use crate::db::policies::{PolicyOwner, PolicyRow};
use crate::db::users::NewUser;
use crate::db::ventanas::{VentanaFields, VentanaFilter, VentanaRow};
use crate::domain::authz::Actor;
use crate::domain::roles::Role;
use crate::http::error::ErrorDetail;
use crate::services::activity;
use crate::services::bancas::{constraint, hash_password, normalize_commission_policy};

/// The reason recorded on sessions closed because their ventana was deactivated.
pub const VENTANA_DEACTIVATED: &str = "ventana_deactivated";

#[derive(Debug, thiserror::Error)]
pub enum VentanaError {
    #[error("not found")]
    NotFound,
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    #[error("ventana code already taken")]
    CodeExists,
    #[error("username already taken")]
    UsernameExists,
    #[error("email already taken")]
    EmailExists,
    #[error("banca not found")]
    BancaNotFound,
    #[error("banca inactive")]
    BancaInactive,
    #[error("no banca to create the ventana in")]
    BancaRequired,
    #[error("invalid input")]
    Invalid(Vec<ErrorDetail>),
    #[error("password hashing failed")]
    Hashing,
    #[error("database: {0}")]
    Database(sqlx::Error),
}

impl From<sqlx::Error> for VentanaError {
    /// Unique-constraint races become the same conflicts the pre-checks report.
    fn from(e: sqlx::Error) -> Self {
        match constraint(&e) {
            Some("ventanas_code_key") => VentanaError::CodeExists,
            Some("users_username_key") => VentanaError::UsernameExists,
            Some("users_email_key") => VentanaError::EmailExists,
            _ => VentanaError::Database(e),
        }
    }
}

/// Input of `create`. Texts are trimmed; blank optional texts are `None`.
#[derive(Debug, Clone)]
pub struct NewVentana {
    /// ADMIN: the banca (else the active banca). BANCA: honoured when assigned, else the
    /// active banca.
    pub banca_id: Option<Uuid>,
    pub name: String,
    /// Generated (`V` + 6 characters) when absent.
    pub code: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub commission_margin_x: Option<Decimal>,
    pub is_active: Option<bool>,
    /// Validated settings; `null` leaves are dropped.
    pub settings: Option<Value>,
    pub username: String,
    pub password: String,
}

/// A created ventana and its VENTANA login.
#[derive(Debug, Clone)]
pub struct CreatedVentana {
    pub ventana: VentanaRow,
    pub user_id: Uuid,
    pub username: String,
}

/// Optional changes to a ventana; `None` keeps the current value, `Some(None)` clears a
/// nullable one. `settings: Some(Some(patch))` is deep-merged (a `null` leaf deletes the key);
/// `Some(None)` removes the settings.
#[derive(Debug, Clone, Default)]
pub struct VentanaChanges {
    /// Must be the ventana's own banca when sent: a ventana never moves.
    pub banca_id: Option<Uuid>,
    pub name: Option<String>,
    pub code: Option<String>,
    pub email: Option<Option<String>>,
    pub phone: Option<Option<String>>,
    pub address: Option<Option<String>>,
    pub commission_margin_x: Option<Decimal>,
    pub is_active: Option<bool>,
    pub settings: Option<Option<Value>>,
    /// New username of the ventana's login.
    pub username: Option<String>,
    /// New password of the ventana's login.
    pub password: Option<String>,
}

/// Merges `patch` into `target`: objects merge key by key, a `null` deletes the key, any
/// other value replaces.
pub fn deep_merge(target: &mut Value, patch: Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                match v {
                    Value::Null => {
                        t.remove(&k);
                    }
                    Value::Object(_) if t.get(&k).is_some_and(Value::is_object) => {
                        if let Some(slot) = t.get_mut(&k) {
                            deep_merge(slot, v);
                        }
                    }
                    v => {
                        t.insert(k, strip_nulls(v));
                    }
                }
            }
        }
        (t, p) => *t = strip_nulls(p),
    }
}

/// `v` without object keys whose value is `null`, at any depth.
pub fn strip_nulls(v: Value) -> Value {
    match v {
        Value::Object(o) => Value::Object(
            o.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, strip_nulls(v)))
                .collect::<Map<_, _>>(),
        ),
        other => other,
    }
}

fn reaches(actor: &Actor, v: &VentanaRow) -> bool {
    actor.can_reach_ventana(v.id, v.banca_id)
}

/// The banca a new ventana goes to, by role. A BANCA user naming a banca it is not linked to
/// gets 404 (the reference silently used the active banca instead).
fn target_banca(actor: &Actor, requested: Option<Uuid>) -> Result<Uuid, VentanaError> {
    match actor.role {
        Role::Admin => requested.or(actor.banca_id),
        Role::Banca => match requested {
            Some(b) if !actor.assigned_bancas.contains(&b) => {
                return Err(VentanaError::BancaNotFound)
            }
            Some(b) => Some(b),
            None => actor.banca_id,
        },
        Role::Ventana | Role::Vendedor => return Err(VentanaError::Forbidden("rol no permitido")),
    }
    .ok_or(VentanaError::BancaRequired)
}

/// Locks banca `id` and checks it is active.
async fn lock_active_banca(conn: &mut PgConnection, id: Uuid) -> Result<(), VentanaError> {
    let banca = db::bancas::find_for_update(conn, id)
        .await?
        .ok_or(VentanaError::BancaNotFound)?;
    if !banca.is_active || banca.deleted_at.is_some() {
        return Err(VentanaError::BancaInactive);
    }
    Ok(())
}

/// A free ventana code: `V` and six upper-case letters or digits.
async fn generate_code(conn: &mut PgConnection) -> Result<String, VentanaError> {
    const CHARS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    for _ in 0..8 {
        let code: String = {
            let mut rng = rand::thread_rng();
            std::iter::once('V')
                .chain((0..6).map(|_| char::from(CHARS[rng.gen_range(0..CHARS.len())])))
                .collect()
        };
        if !db::ventanas::code_taken(conn, &code, None).await? {
            return Ok(code);
        }
    }
    Err(VentanaError::CodeExists)
}

/// Creates a ventana and its VENTANA user (name and e-mail of the ventana, active as the
/// ventana) in one transaction. ADMIN and BANCA only; the banca must be active.
pub async fn create(
    pool: &PgPool,
    actor: &Actor,
    input: NewVentana,
) -> Result<CreatedVentana, VentanaError> {
    let banca_id = target_banca(actor, input.banca_id)?;
    let hash = hash_password(&input.password)
        .await
        .map_err(|_| VentanaError::Hashing)?;
    let mut tx = pool.begin().await?;
    lock_active_banca(&mut tx, banca_id).await?;
    let code = match input.code {
        Some(c) => {
            if db::ventanas::code_taken(&mut tx, &c, None).await? {
                return Err(VentanaError::CodeExists);
            }
            c
        }
        None => generate_code(&mut tx).await?,
    };
    if db::users::username_exists(&mut tx, &input.username).await? {
        return Err(VentanaError::UsernameExists);
    }
    let fields = VentanaFields {
        name: input.name,
        code,
        email: input.email,
        phone: input.phone,
        address: input.address,
        commission_margin_x: input.commission_margin_x.unwrap_or_default(),
        is_active: input.is_active.unwrap_or(true),
        settings: input.settings.map(strip_nulls),
    };
    let id = db::ventanas::insert(&mut tx, banca_id, &fields).await?;
    let user_id = db::users::insert_user(
        &mut tx,
        &NewUser {
            name: &fields.name,
            username: &input.username,
            email: fields.email.as_deref(),
            password_hash: &hash,
            role: Role::Ventana,
            ventana_id: Some(id),
            banca_id: None,
        },
    )
    .await?;
    if !fields.is_active {
        db::ventanas::set_user_active(&mut tx, user_id, false).await?;
    }
    activity::record(
        &mut tx,
        actor,
        Some(banca_id),
        "VENTANA_CREATE",
        "VENTANA",
        id,
        json!({
            "name": fields.name,
            "code": fields.code,
            "bancaId": banca_id,
            "isActive": fields.is_active,
            "userId": user_id,
            "username": input.username,
        }),
    )
    .await?;
    let ventana = db::ventanas::find(&mut tx, id)
        .await?
        .ok_or(VentanaError::NotFound)?;
    tx.commit().await?;
    Ok(CreatedVentana {
        ventana,
        user_id,
        username: input.username,
    })
}

/// A username for a ventana login created on update without one:
/// `<name lower-cased, spaces as _>_<code>`, limited to `[a-z0-9_-]` and 100 characters.
fn generated_username(v: &VentanaRow) -> String {
    let clean = |s: &str| -> String {
        s.to_lowercase()
            .chars()
            .map(|c| if c.is_whitespace() { '_' } else { c })
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
            .collect()
    };
    let mut name = clean(&v.name);
    if name.is_empty() {
        name = "ventana".into();
    }
    let code = clean(&v.code);
    let suffix = if code.is_empty() {
        v.id.simple().to_string()[..8].to_string()
    } else {
        code
    };
    format!("{name}_{suffix}").chars().take(100).collect()
}

/// Updates a ventana (ADMIN; BANCA of its banca; VENTANA its own). `bancaId` never changes
/// (a different `bancaId` is a 400). A VENTANA may not change its own `isActive`, nor its
/// login's username or password here (it has `PUT /users/me/password`, which asks for the
/// current one). Deactivating closes the sessions of the ventana's users; reactivating needs
/// an active banca and clears the deletion record. `username`/`password` change the ventana's
/// VENTANA login, creating it (password required) when the ventana has none.
pub async fn update(
    pool: &PgPool,
    actor: &Actor,
    id: Uuid,
    changes: VentanaChanges,
) -> Result<VentanaRow, VentanaError> {
    if !actor.is(&[Role::Admin, Role::Banca, Role::Ventana]) {
        return Err(VentanaError::Forbidden("rol no permitido"));
    }
    if actor.role == Role::Ventana && (changes.username.is_some() || changes.password.is_some()) {
        return Err(VentanaError::Forbidden(
            "un listero cambia su contraseña con PUT /users/me/password",
        ));
    }
    // Money settings of a ventana are set by its banca, never by the listero itself.
    if actor.role == Role::Ventana && changes.commission_margin_x.is_some() {
        return Err(VentanaError::Forbidden(
            "un listero no puede cambiar su propio margen de comisión",
        ));
    }
    let hash = match &changes.password {
        Some(p) => Some(hash_password(p).await.map_err(|_| VentanaError::Hashing)?),
        None => None,
    };
    let mut tx = pool.begin().await?;
    let old = db::ventanas::find_for_update(&mut tx, id)
        .await?
        .filter(|v| reaches(actor, v))
        .ok_or(VentanaError::NotFound)?;
    if changes.banca_id.is_some_and(|b| b != old.banca_id) {
        return Err(VentanaError::Invalid(vec![ErrorDetail {
            field: "bancaId".into(),
            code: "immutable".into(),
            issue: "la banca de un listero no se puede cambiar".into(),
        }]));
    }
    let before = VentanaFields::from(&old);
    let mut after = before.clone();
    if let Some(v) = changes.name {
        after.name = v;
    }
    if let Some(v) = changes.code {
        after.code = v;
    }
    if let Some(v) = changes.email {
        after.email = v;
    }
    if let Some(v) = changes.phone {
        after.phone = v;
    }
    if let Some(v) = changes.address {
        after.address = v;
    }
    if let Some(v) = changes.commission_margin_x {
        after.commission_margin_x = v;
    }
    if let Some(v) = changes.is_active {
        after.is_active = v;
    }
    match changes.settings {
        None => {}
        Some(None) => after.settings = None,
        Some(Some(patch)) => {
            let mut merged = after.settings.take().unwrap_or_else(|| json!({}));
            deep_merge(&mut merged, patch);
            after.settings = Some(merged);
        }
    }
    if actor.role == Role::Ventana && after.is_active != before.is_active {
        return Err(VentanaError::Forbidden(
            "un listero no puede activar ni desactivar su propia ventana",
        ));
    }
    if after.code != before.code && db::ventanas::code_taken(&mut tx, &after.code, Some(id)).await?
    {
        return Err(VentanaError::CodeExists);
    }

    let mut fields: Vec<&'static str> = Vec::new();
    for (differs, name) in [
        (before.name != after.name, "name"),
        (before.code != after.code, "code"),
        (before.email != after.email, "email"),
        (before.phone != after.phone, "phone"),
        (before.address != after.address, "address"),
        (
            before.commission_margin_x != after.commission_margin_x,
            "commissionMarginX",
        ),
        (before.is_active != after.is_active, "isActive"),
        (before.settings != after.settings, "settings"),
    ] {
        if differs {
            fields.push(name);
        }
    }
    if !fields.is_empty() {
        db::ventanas::update(&mut tx, id, &after).await?;
    }
    let mut revoked = 0;
    if before.is_active && !after.is_active {
        revoked = db::ventanas::revoke_sessions(&mut tx, id, VENTANA_DEACTIVATED).await?;
    } else if !before.is_active && after.is_active {
        lock_active_banca(&mut tx, old.banca_id).await?;
        db::ventanas::restore(&mut tx, id).await?;
    }

    let mut login = json!(null);
    if changes.username.is_some() || hash.is_some() {
        login = update_login(&mut tx, &old, &after, changes.username, hash).await?;
    }
    if fields.is_empty() && login.is_null() {
        return Ok(old);
    }
    activity::record(
        &mut tx,
        actor,
        Some(old.banca_id),
        "VENTANA_UPDATE",
        "VENTANA",
        id,
        json!({ "fields": fields, "login": login, "revokedSessions": revoked }),
    )
    .await?;
    let row = db::ventanas::find(&mut tx, id)
        .await?
        .ok_or(VentanaError::NotFound)?;
    tx.commit().await?;
    Ok(row)
}

/// Applies a username and/or password change to the ventana's login (creating it when
/// missing); returns what changed, for the activity entry (never the password).
async fn update_login(
    tx: &mut PgConnection,
    old: &VentanaRow,
    after: &VentanaFields,
    username: Option<String>,
    hash: Option<String>,
) -> Result<Value, VentanaError> {
    match db::ventanas::login_user(tx, old.id).await? {
        Some(user) => {
            let new_name = username.filter(|u| u.to_lowercase() != user.username.to_lowercase());
            if let Some(u) = &new_name {
                if db::users::username_exists(tx, u).await? {
                    return Err(VentanaError::UsernameExists);
                }
            }
            db::ventanas::update_login(tx, user.id, new_name.as_deref(), hash.as_deref()).await?;
            // A password set for the listero by someone else ends the listero's sessions.
            if hash.is_some() {
                db::sessions::revoke_user_sessions(tx, user.id, "password_reset").await?;
            }
            Ok(json!({
                "userId": user.id,
                "usernameChanged": new_name.is_some(),
                "username": new_name,
                "credentialChanged": hash.is_some(),
            }))
        }
        None => {
            let Some(hash) = hash else {
                return Err(VentanaError::Invalid(vec![ErrorDetail {
                    field: "password".into(),
                    code: "required".into(),
                    issue: "la ventana no tiene usuario: la contraseña es obligatoria para crearlo"
                        .into(),
                }]));
            };
            let username = username.unwrap_or_else(|| generated_username(old));
            if db::users::username_exists(tx, &username).await? {
                return Err(VentanaError::UsernameExists);
            }
            let user_id = db::users::insert_user(
                tx,
                &NewUser {
                    name: &after.name,
                    username: &username,
                    email: after.email.as_deref(),
                    password_hash: &hash,
                    role: Role::Ventana,
                    ventana_id: Some(old.id),
                    banca_id: None,
                },
            )
            .await?;
            if !after.is_active {
                db::ventanas::set_user_active(tx, user_id, false).await?;
            }
            Ok(json!({ "userId": user_id, "userCreated": true, "username": username }))
        }
    }
}

/// Soft-deletes a ventana (ADMIN; BANCA of its banca; VENTANA its own) and closes the open
/// sessions of every user of the ventana (its VENTANA login and its vendedores) with reason
/// `ventana_deactivated`, in the same transaction. The users themselves stay active, so a
/// restore brings the ventana back with its people. Deleting a deleted ventana changes nothing.
pub async fn delete(
    pool: &PgPool,
    actor: &Actor,
    id: Uuid,
    reason: Option<String>,
) -> Result<VentanaRow, VentanaError> {
    if !actor.is(&[Role::Admin, Role::Banca]) {
        return Err(VentanaError::Forbidden("rol no permitido"));
    }
    let mut tx = pool.begin().await?;
    let old = db::ventanas::find_for_update(&mut tx, id)
        .await?
        .filter(|v| reaches(actor, v))
        .ok_or(VentanaError::NotFound)?;
    if old.deleted_at.is_some() && !old.is_active {
        return Ok(old);
    }
    db::ventanas::soft_delete(&mut tx, id, &actor.user_id.to_string(), reason.as_deref()).await?;
    let revoked = db::ventanas::revoke_sessions(&mut tx, id, VENTANA_DEACTIVATED).await?;
    activity::record(
        &mut tx,
        actor,
        Some(old.banca_id),
        "VENTANA_DELETE",
        "VENTANA",
        id,
        json!({ "name": old.name, "code": old.code, "reason": reason, "revokedSessions": revoked }),
    )
    .await?;
    let row = db::ventanas::find(&mut tx, id)
        .await?
        .ok_or(VentanaError::NotFound)?;
    tx.commit().await?;
    Ok(row)
}

/// Reactivates a ventana (ADMIN; BANCA of its banca). Its banca must be active. Restoring an
/// active ventana changes nothing. Closed sessions stay closed.
pub async fn restore(
    pool: &PgPool,
    actor: &Actor,
    id: Uuid,
    reason: Option<String>,
) -> Result<VentanaRow, VentanaError> {
    if !actor.is(&[Role::Admin, Role::Banca]) {
        return Err(VentanaError::Forbidden("rol no permitido"));
    }
    let mut tx = pool.begin().await?;
    let old = db::ventanas::find_for_update(&mut tx, id)
        .await?
        .filter(|v| reaches(actor, v))
        .ok_or(VentanaError::NotFound)?;
    if old.is_active && old.deleted_at.is_none() {
        return Ok(old);
    }
    lock_active_banca(&mut tx, old.banca_id).await?;
    db::ventanas::restore(&mut tx, id).await?;
    activity::record(
        &mut tx,
        actor,
        Some(old.banca_id),
        "VENTANA_RESTORE",
        "VENTANA",
        id,
        json!({ "name": old.name, "code": old.code, "reason": reason }),
    )
    .await?;
    let row = db::ventanas::find(&mut tx, id)
        .await?
        .ok_or(VentanaError::NotFound)?;
    tx.commit().await?;
    Ok(row)
}

/// List filters besides the caller's scope.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub search: Option<String>,
    pub is_active: Option<bool>,
    /// ADMIN: any banca. BANCA: one of its assigned bancas (else forbidden). Ignored for
    /// VENTANA and VENDEDOR.
    pub banca_id: Option<Uuid>,
}

/// Ventanas the caller may see: ADMIN the requested or active banca (else all); BANCA the
/// requested assigned banca, else its active banca; VENTANA and VENDEDOR only their own.
pub async fn list(
    pool: &PgPool,
    actor: &Actor,
    f: ListFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<VentanaRow>, i64), VentanaError> {
    let (banca_ids, ventana_ids) = match actor.role {
        Role::Admin => (f.banca_id.or(actor.banca_id).map(|b| vec![b]), None),
        Role::Banca => match f.banca_id {
            Some(b) if actor.assigned_bancas.contains(&b) => (Some(vec![b]), None),
            Some(_) => {
                return Err(VentanaError::Forbidden("banca no asignada"));
            }
            None => (Some(actor.banca_id.into_iter().collect()), None),
        },
        Role::Ventana | Role::Vendedor => (None, Some(actor.ventana_id.into_iter().collect())),
    };
    let filter = VentanaFilter {
        banca_ids,
        ventana_ids,
        search: f.search,
        is_active: f.is_active,
    };
    let mut conn = pool.acquire().await?;
    Ok(db::ventanas::list(&mut conn, &filter, limit, offset).await?)
}

/// One ventana within the caller's reach.
pub async fn get(pool: &PgPool, actor: &Actor, id: Uuid) -> Result<VentanaRow, VentanaError> {
    let mut conn = pool.acquire().await?;
    db::ventanas::find(&mut conn, id)
        .await?
        .filter(|v| reaches(actor, v))
        .ok_or(VentanaError::NotFound)
}

/// The ventana's commission policy (ADMIN; BANCA of its banca; VENTANA its own).
pub async fn get_commission_policy(
    pool: &PgPool,
    actor: &Actor,
    id: Uuid,
) -> Result<PolicyRow, VentanaError> {
    if !actor.is(&[Role::Admin, Role::Banca, Role::Ventana]) {
        return Err(VentanaError::Forbidden("rol no permitido"));
    }
    get(pool, actor, id).await?;
    let mut conn = pool.acquire().await?;
    db::policies::get(&mut conn, PolicyOwner::Ventana, id)
        .await?
        .ok_or(VentanaError::NotFound)
}

/// Replaces (or, with `null`, removes) the ventana's commission policy, validated and
/// normalized by `bancas::normalize_commission_policy`.
pub async fn set_commission_policy(
    pool: &PgPool,
    actor: &Actor,
    id: Uuid,
    policy: Value,
) -> Result<PolicyRow, VentanaError> {
    if !actor.is(&[Role::Admin, Role::Banca]) {
        return Err(VentanaError::Forbidden("rol no permitido"));
    }
    let policy = normalize_commission_policy(policy).map_err(VentanaError::Invalid)?;
    let mut tx = pool.begin().await?;
    let old = db::ventanas::find_for_update(&mut tx, id)
        .await?
        .filter(|v| reaches(actor, v))
        .ok_or(VentanaError::NotFound)?;
    let row = db::policies::set(&mut tx, PolicyOwner::Ventana, id, policy.as_ref()).await?;
    activity::record(
        &mut tx,
        actor,
        Some(old.banca_id),
        "VENTANA_UPDATE",
        "VENTANA",
        id,
        json!({ "fields": ["commissionPolicyJson"], "policySet": policy.is_some() }),
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_merge_deeply_and_null_deletes() {
        let mut s = json!({"print": {"name": "A", "width": 58, "footer": "x"}, "theme": "dark"});
        deep_merge(
            &mut s,
            json!({"print": {"width": 88, "footer": null, "barcode": true}, "theme": null}),
        );
        assert_eq!(
            s,
            json!({"print": {"name": "A", "width": 88, "barcode": true}})
        );
        let mut empty = json!({});
        deep_merge(&mut empty, json!({"print": {"name": "B", "phone": null}}));
        assert_eq!(empty, json!({"print": {"name": "B"}}));
    }

    #[test]
    fn generated_usernames_are_valid() {
        let v = VentanaRow {
            id: Uuid::new_v4(),
            banca_id: Uuid::new_v4(),
            name: "Ventana Central Ñ".into(),
            code: "VC-1".into(),
            email: None,
            phone: None,
            address: None,
            commission_margin_x: Decimal::ZERO,
            is_active: true,
            settings: None,
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
            deleted_at: None,
            banca_name: "B".into(),
            banca_code: "B".into(),
        };
        assert_eq!(generated_username(&v), "ventana_central__vc-1");
    }
}
