//! Use cases over users: create (also `/auth/register` and `/vendedores`), update (also the
//! caller's own profile and `/vendedores`), deactivate and restore, the scoped lists, the
//! user↔banca links and the per-user commission policy.
//!
//! Every use case owns its transaction: the change, the sessions it revokes and its activity
//! entry commit together or not at all. Users out of the caller's reach are reported as not
//! found (`visible_user`); a role that may not act at all is refused.

use std::borrow::Cow;

use serde_json::{json, Map, Value};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::db::{self, users::UserRow};
use crate::domain::authz::{can_manage_user, Actor, UserTarget};
use crate::domain::password::{self, PasswordError};
use crate::domain::roles::Role;
use crate::http::error::ErrorDetail;
use crate::services::activity;
use crate::services::auth::{visible_user, AuthError};

#[derive(Debug, thiserror::Error)]
pub enum UserError {
    /// 403: the caller may not do this at all.
    #[error("forbidden: {0}")]
    Forbidden(Cow<'static, str>),
    /// 403: a field the caller's role may not send (`Campo no permitido para <ROLE>: <f>`).
    #[error("field {field} not allowed for {role:?}")]
    FieldForbidden { role: Role, field: &'static str },
    /// 403: a field a user may not change on itself.
    #[error("field {0} not allowed on self")]
    SelfField(&'static str),
    /// 404, also for objects out of the caller's reach.
    #[error("not found: {0}")]
    NotFound(&'static str),
    /// 400 with field details.
    #[error("invalid input")]
    Invalid(Vec<ErrorDetail>),
    #[error("bad request {0}")]
    BadRequest(&'static str, Cow<'static, str>),
    #[error("conflict {0}")]
    Conflict(&'static str, Cow<'static, str>),
    /// 403: the banca's `vendorLimit` seats are taken.
    #[error("vendor quota exceeded ({active}/{limit})")]
    QuotaExceeded { active: i64, limit: i32 },
    #[error("{0}")]
    Password(#[from] PasswordError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

impl From<AuthError> for UserError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::NotFound => UserError::NotFound("Usuario no encontrado"),
            AuthError::Database(d) => UserError::Database(d),
            AuthError::Password(p) => UserError::Password(p),
            _ => UserError::Forbidden("No tienes permisos para realizar esta acción".into()),
        }
    }
}

fn invalid(field: &str, code: &str, issue: impl Into<String>) -> UserError {
    UserError::Invalid(vec![ErrorDetail {
        field: field.into(),
        code: code.into(),
        issue: issue.into(),
    }])
}

fn forbidden(msg: &'static str) -> UserError {
    UserError::Forbidden(Cow::Borrowed(msg))
}

fn username_taken() -> UserError {
    UserError::Conflict(
        "USERNAME_EXISTS",
        "El nombre de usuario ya está en uso".into(),
    )
}

fn email_taken() -> UserError {
    UserError::Conflict(
        "EMAIL_EXISTS",
        "El correo electrónico ya está en uso".into(),
    )
}

fn code_taken() -> UserError {
    UserError::Conflict("CODE_EXISTS", "El código ya está en uso".into())
}

/// Maps unique and check violations of `users` to their API errors (races past the pre-checks).
fn on_constraint(e: sqlx::Error) -> UserError {
    if let sqlx::Error::Database(d) = &e {
        match d.constraint() {
            Some("users_username_key") => return username_taken(),
            Some("users_email_key") => return email_taken(),
            Some("users_code_key") => return code_taken(),
            Some("users_role_ventana_check") => {
                return invalid(
                    "ventanaId",
                    "invalid_combination",
                    "los roles ADMIN y BANCA no pertenecen a una ventana",
                )
            }
            _ => {}
        }
    }
    UserError::Database(e)
}

async fn hash_password(plain: &str) -> Result<String, UserError> {
    password::validate_new(plain)?;
    let pw = plain.to_string();
    Ok(tokio::task::spawn_blocking(move || password::hash(&pw))
        .await
        .map_err(|_| PasswordError::Hashing)??)
}

async fn check_taken(
    conn: &mut PgConnection,
    username: Option<&str>,
    email: Option<&str>,
    code: Option<&str>,
    except: Option<Uuid>,
) -> Result<(), UserError> {
    let t = db::users::taken(conn, username, email, code, except).await?;
    if t.username {
        return Err(username_taken());
    }
    if t.email {
        return Err(email_taken());
    }
    if t.code {
        return Err(code_taken());
    }
    Ok(())
}

/// Loads a user the caller may change: 404 when out of sight, 403 when visible but not
/// manageable (a BANCA user looking at another BANCA user).
/// Locks the user row for the rest of the transaction, then checks the caller may manage it.
async fn locked_manageable(
    conn: &mut PgConnection,
    actor: &Actor,
    id: Uuid,
) -> Result<UserRow, UserError> {
    if !db::users::lock_user(conn, id).await? {
        return Err(UserError::NotFound("Usuario no encontrado"));
    }
    manageable(conn, actor, id).await
}

async fn manageable(
    conn: &mut PgConnection,
    actor: &Actor,
    id: Uuid,
) -> Result<UserRow, UserError> {
    let row = visible_user(conn, actor, id, false).await?;
    let target = UserTarget {
        id: row.id,
        role: row.role,
        ventana_id: row.ventana_id,
        banca_id: row.banca_id,
    };
    if can_manage_user(actor, &target) {
        Ok(row)
    } else {
        Err(forbidden("No tienes permisos para modificar este usuario"))
    }
}

/// Loads a ventana a user is being placed in: it must exist and be within the caller's reach
/// (404 otherwise), and it and its banca must be active (409).
async fn usable_ventana(
    conn: &mut PgConnection,
    actor: &Actor,
    ventana_id: Uuid,
) -> Result<db::users::VentanaInfo, UserError> {
    let v = db::users::ventana_info(conn, ventana_id)
        .await?
        .filter(|v| actor.can_reach_ventana(v.id, v.banca_id))
        .ok_or(UserError::NotFound("Ventana no encontrada"))?;
    if !v.active {
        return Err(UserError::Conflict(
            "VENTANA_INACTIVE",
            "La ventana está inactiva".into(),
        ));
    }
    if !v.banca_active {
        return Err(UserError::Conflict(
            "BANCA_INACTIVE",
            "La banca de la ventana está inactiva".into(),
        ));
    }
    Ok(v)
}

/// A banca named in a body: it must exist (not deleted) and be within reach.
async fn known_banca(
    conn: &mut PgConnection,
    actor: &Actor,
    banca_id: Uuid,
) -> Result<(), UserError> {
    match db::users::banca_state(conn, banca_id).await? {
        Some(_) if actor.can_reach_banca(banca_id) => Ok(()),
        _ => Err(UserError::NotFound("Banca no encontrada")),
    }
}

/// Refuses one more active VENDEDOR in a banca whose `vendorLimit` seats are taken. Locks the
/// banca row so concurrent creations queue.
async fn check_seat(
    conn: &mut PgConnection,
    banca_id: Uuid,
    except: Option<Uuid>,
) -> Result<(), UserError> {
    let Some(limits) = db::bancas::lock_session_limits(conn, banca_id).await? else {
        return Ok(());
    };
    if let Some(limit) = limits.vendor_limit.filter(|l| *l > 0) {
        let active = db::users::count_active_vendedores(conn, banca_id, except).await?;
        if active >= i64::from(limit) {
            return Err(UserError::QuotaExceeded { active, limit });
        }
    }
    Ok(())
}

/// Which door a request came through; the doors differ in a few rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Door {
    /// `/users`.
    Users,
    /// `PATCH /auth/me`.
    SelfService,
    /// `/vendedores`: only VENDEDOR users; moving ventana resets the policy and the sessions.
    Vendedores,
}

/// Input of `create_user`, already checked for shape and lengths.
#[derive(Debug, Clone, Default)]
pub struct NewUserInput {
    pub name: String,
    pub username: String,
    pub password: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub role: Option<Role>,
    pub ventana_id: Option<Uuid>,
    pub banca_id: Option<Uuid>,
    pub banca_ids: Option<Vec<Uuid>>,
    pub is_active: Option<bool>,
    pub max_sessions_per_vendedor: Option<i32>,
    pub code: Option<String>,
}

/// What a create resolved: role, placement and profile banca.
struct Placement {
    role: Role,
    ventana_id: Option<Uuid>,
    banca_id: Option<Uuid>,
    /// BANCA users: the bancas to link, the default first.
    links: Vec<Uuid>,
}

/// The role a caller creates, with the caller's restrictions applied.
fn creatable_role(actor: &Actor, input: &NewUserInput) -> Result<Role, UserError> {
    match actor.role {
        Role::Vendedor => Err(forbidden("No tienes permisos para crear usuarios")),
        Role::Ventana => {
            let refuse = |field| UserError::FieldForbidden {
                role: Role::Ventana,
                field,
            };
            if input.role.is_some_and(|r| r != Role::Vendedor) {
                return Err(refuse("role"));
            }
            if input
                .ventana_id
                .is_some_and(|v| Some(v) != actor.ventana_id)
            {
                return Err(refuse("ventanaId"));
            }
            if input.is_active == Some(false) {
                return Err(refuse("isActive"));
            }
            if input.code.is_some() {
                return Err(refuse("code"));
            }
            if input.banca_id.is_some() {
                return Err(refuse("bancaId"));
            }
            if input.banca_ids.is_some() {
                return Err(refuse("bancaIds"));
            }
            if input.max_sessions_per_vendedor.is_some() {
                return Err(refuse("maxSessionsPerVendedor"));
            }
            if actor.ventana_id.is_none() {
                return Err(forbidden("Tu usuario no tiene una ventana asignada"));
            }
            Ok(Role::Vendedor)
        }
        Role::Banca => {
            let role = input.role.unwrap_or(Role::Ventana);
            if !role.needs_ventana() {
                return Err(forbidden(
                    "Un usuario BANCA solo puede crear usuarios VENTANA o VENDEDOR",
                ));
            }
            if input.max_sessions_per_vendedor.is_some() && role != Role::Vendedor {
                return Err(forbidden(
                    "Solo puedes definir maxSessionsPerVendedor para vendedores",
                ));
            }
            Ok(role)
        }
        Role::Admin => Ok(input.role.unwrap_or(Role::Ventana)),
    }
}

async fn place(
    conn: &mut PgConnection,
    actor: &Actor,
    role: Role,
    input: &NewUserInput,
) -> Result<Placement, UserError> {
    if input.banca_ids.is_some() && role != Role::Banca {
        return Err(invalid(
            "bancaIds",
            "not_allowed",
            "bancaIds solo aplica al rol BANCA",
        ));
    }
    match role {
        Role::Ventana | Role::Vendedor => {
            let ventana_id = input
                .ventana_id
                .or(if actor.role == Role::Ventana {
                    actor.ventana_id
                } else {
                    None
                })
                .ok_or_else(|| {
                    invalid(
                        "ventanaId",
                        "required",
                        "ventanaId es obligatorio para los roles VENTANA y VENDEDOR",
                    )
                })?;
            let v = usable_ventana(conn, actor, ventana_id).await?;
            if input.banca_id.is_some_and(|b| b != v.banca_id) {
                return Err(invalid(
                    "bancaId",
                    "mismatch",
                    "bancaId no corresponde a la banca de la ventana",
                ));
            }
            Ok(Placement {
                role,
                ventana_id: Some(v.id),
                banca_id: Some(v.banca_id),
                links: Vec::new(),
            })
        }
        Role::Admin => {
            if let Some(b) = input.banca_id {
                known_banca(conn, actor, b).await?;
            }
            Ok(Placement {
                role,
                ventana_id: None,
                banca_id: input.banca_id,
                links: Vec::new(),
            })
        }
        Role::Banca => {
            let mut links: Vec<Uuid> = Vec::new();
            match (&input.banca_ids, input.banca_id) {
                (Some(ids), first) if !ids.is_empty() => {
                    if first.is_some_and(|b| !ids.contains(&b)) {
                        return Err(invalid(
                            "bancaId",
                            "mismatch",
                            "bancaId debe estar entre los bancaIds",
                        ));
                    }
                    // The named bancaId is the default; otherwise the first of the list.
                    if let Some(b) = first {
                        links.push(b);
                    }
                    for id in ids {
                        if !links.contains(id) {
                            links.push(*id);
                        }
                    }
                }
                (_, Some(b)) => links.push(b),
                _ => {}
            }
            for b in &links {
                known_banca(conn, actor, *b).await?;
            }
            Ok(Placement {
                role,
                ventana_id: None,
                banca_id: links.first().copied(),
                links,
            })
        }
    }
}

/// Creates a user for `actor` (see §18.1 of the spec): VENTANA callers create VENDEDOR users
/// of their own ventana; BANCA callers VENTANA/VENDEDOR users of their bancas; ADMIN anyone.
pub async fn create_user(
    pool: &PgPool,
    actor: &Actor,
    input: NewUserInput,
) -> Result<UserRow, UserError> {
    let role = creatable_role(actor, &input)?;
    let hash = hash_password(&input.password).await?;
    let mut tx = pool.begin().await?;
    let p = place(&mut tx, actor, role, &input).await?;
    let is_active = input.is_active.unwrap_or(true);
    check_taken(
        &mut tx,
        Some(&input.username),
        input.email.as_deref(),
        input.code.as_deref(),
        None,
    )
    .await?;
    if p.role == Role::Vendedor && is_active {
        if let Some(b) = p.banca_id {
            check_seat(&mut tx, b, None).await?;
        }
    }
    let id = db::users::insert_user_full(
        &mut tx,
        &db::users::UserInsert {
            name: &input.name,
            username: &input.username,
            email: input.email.as_deref(),
            phone: input.phone.as_deref(),
            password_hash: &hash,
            role: p.role,
            code: input.code.as_deref(),
            ventana_id: p.ventana_id,
            banca_id: p.banca_id,
            is_active,
            max_sessions_per_vendedor: input.max_sessions_per_vendedor,
        },
    )
    .await
    .map_err(on_constraint)?;
    if let Some((first, rest)) = p.links.split_first() {
        db::users::link_default_banca(&mut tx, id, *first).await?;
        for b in rest {
            db::users::add_banca_link(&mut tx, id, *b).await?;
        }
    }
    activity::record(
        &mut tx,
        actor,
        p.banca_id,
        "USER_CREATE",
        "USER",
        id,
        json!({
            "description": format!("Usuario {} creado", input.username),
            "username": input.username,
            "role": p.role,
            "ventanaId": p.ventana_id,
            "bancaId": p.banca_id,
            "bancaIds": p.links,
        }),
    )
    .await?;
    let row = db::users::find_row(&mut tx, id)
        .await?
        .ok_or(UserError::NotFound("Usuario no encontrado"))?;
    tx.commit().await?;
    Ok(row)
}

/// Input of `update_user`. `Some(None)` clears a nullable field; `None` leaves it.
#[derive(Debug, Clone, Default)]
pub struct UserChanges {
    pub name: Option<String>,
    pub username: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub password: Option<String>,
    pub role: Option<Role>,
    pub ventana_id: Option<Option<Uuid>>,
    pub banca_id: Option<Option<Uuid>>,
    pub is_active: Option<bool>,
    pub code: Option<Option<String>>,
    pub max_sessions_per_vendedor: Option<Option<i32>>,
    pub settings: Option<Option<Value>>,
    pub reset_commission_policy: bool,
}

impl UserChanges {
    /// The fields only an administrator of the user may change, in wire names, that are present.
    fn admin_fields(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        if self.role.is_some() {
            v.push("role");
        }
        if self.ventana_id.is_some() {
            v.push("ventanaId");
        }
        if self.banca_id.is_some() {
            v.push("bancaId");
        }
        if self.code.is_some() {
            v.push("code");
        }
        if self.is_active.is_some() {
            v.push("isActive");
        }
        if self.max_sessions_per_vendedor.is_some() {
            v.push("maxSessionsPerVendedor");
        }
        if self.reset_commission_policy {
            v.push("resetCommissionPolicy");
        }
        v
    }
}

/// Deep-merges `patch` into `current`: objects merge key by key, a `null` leaf removes its key,
/// anything else replaces.
pub fn merge_settings(current: Option<&Value>, patch: &Value) -> Value {
    let mut base = match current {
        Some(Value::Object(m)) => Value::Object(m.clone()),
        _ => Value::Object(Map::new()),
    };
    merge_into(&mut base, patch);
    base
}

fn merge_into(base: &mut Value, patch: &Value) {
    match (base, patch) {
        (Value::Object(b), Value::Object(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    b.remove(k);
                } else if let Some(inner) = b.get_mut(k).filter(|x| x.is_object() && v.is_object())
                {
                    merge_into(inner, v);
                } else {
                    let mut fresh = Value::Object(Map::new());
                    if v.is_object() {
                        merge_into(&mut fresh, v);
                    } else {
                        fresh = v.clone();
                    }
                    b.insert(k.clone(), fresh);
                }
            }
        }
        (b, p) => *b = p.clone(),
    }
}

/// Checks which fields the caller may send for this target.
fn check_update_fields(
    actor: &Actor,
    row: &UserRow,
    c: &UserChanges,
    door: Door,
) -> Result<(), UserError> {
    let is_self = actor.user_id == row.id;
    if is_self && actor.role != Role::Admin {
        // Non-administrators change only their profile on themselves.
        if let Some(f) = c.admin_fields().first() {
            return Err(UserError::SelfField(f));
        }
    }
    if is_self {
        // Your own password changes only through `PUT /users/me/password`, which checks the
        // current one: a stolen access token must not be enough to take the account over.
        if c.password.is_some() {
            return Err(UserError::SelfField("password"));
        }
        if c.role.is_some_and(|r| r != row.role) {
            return Err(UserError::SelfField("role"));
        }
        if c.is_active == Some(false) {
            return Err(forbidden("No puedes desactivar tu propio usuario"));
        }
    }
    match actor.role {
        Role::Vendedor | Role::Ventana => {
            if let Some(f) = c.admin_fields().into_iter().find(|f| *f != "isActive") {
                return Err(UserError::FieldForbidden {
                    role: actor.role,
                    field: f,
                });
            }
            if actor.role == Role::Vendedor && c.is_active.is_some() {
                return Err(UserError::FieldForbidden {
                    role: actor.role,
                    field: "isActive",
                });
            }
        }
        Role::Banca => {
            if c.role.is_some_and(|r| !r.needs_ventana()) {
                return Err(forbidden(
                    "Un usuario BANCA solo puede asignar los roles VENTANA o VENDEDOR",
                ));
            }
            let final_role = c.role.unwrap_or(row.role);
            if c.max_sessions_per_vendedor.is_some() && final_role != Role::Vendedor {
                return Err(forbidden(
                    "Solo puedes definir maxSessionsPerVendedor para vendedores",
                ));
            }
        }
        Role::Admin => {}
    }
    if door == Door::Vendedores && c.role.is_some_and(|r| r != Role::Vendedor) {
        return Err(invalid(
            "role",
            "not_allowed",
            "role no puede modificarse en vendedores",
        ));
    }
    Ok(())
}

/// Updates a user the caller may manage (§18.1): role changes, moves between ventanas and
/// bancas (a move to another banca clears the commission policy and closes every session),
/// deactivation (closes every session), password (argon2id; closes the user's other
/// sessions), settings (deep merge). Writes `USER_ROLE_CHANGE` when the role changed, else
/// `USER_UPDATE`.
pub async fn update_user(
    pool: &PgPool,
    actor: &Actor,
    id: Uuid,
    c: UserChanges,
    door: Door,
) -> Result<UserRow, UserError> {
    let hash = match &c.password {
        Some(p) => Some(hash_password(p).await?),
        None => None,
    };
    let mut tx = pool.begin().await?;
    if !db::users::lock_user(&mut tx, id).await? {
        return Err(UserError::NotFound("Usuario no encontrado"));
    }
    let row = manageable(&mut tx, actor, id).await?;
    if door == Door::Vendedores && row.role != Role::Vendedor {
        return Err(UserError::NotFound("Vendedor no encontrado"));
    }
    check_update_fields(actor, &row, &c, door)?;
    let is_self = actor.user_id == row.id;

    // Placement: role, ventana and banca.
    let role = c.role.unwrap_or(row.role);
    let (ventana_id, profile_banca) = if role.needs_ventana() {
        let wanted = match c.ventana_id {
            Some(v) => v,
            None => row.ventana_id,
        }
        .ok_or_else(|| invalid("ventanaId", "required", "Selecciona una ventana"))?;
        let (banca, profile) = if Some(wanted) == row.ventana_id && row.role.needs_ventana() {
            let banca = row.ventana_banca_id.or(row.banca_id);
            (banca, row.profile_banca_id)
        } else {
            let v = usable_ventana(&mut tx, actor, wanted).await?;
            (Some(v.banca_id), Some(v.banca_id))
        };
        if let Some(Some(b)) = c.banca_id {
            if Some(b) != banca {
                return Err(invalid(
                    "bancaId",
                    "mismatch",
                    "bancaId no corresponde a la banca de la ventana",
                ));
            }
        }
        (Some(wanted), profile)
    } else {
        let profile = match c.banca_id {
            Some(Some(b)) => {
                known_banca(&mut tx, actor, b).await?;
                Some(b)
            }
            Some(None) if role == Role::Banca => {
                return Err(invalid(
                    "bancaId",
                    "required",
                    "un usuario BANCA necesita una banca",
                ))
            }
            Some(None) => None,
            None => row.profile_banca_id,
        };
        (None, profile)
    };
    let new_banca = match (ventana_id, profile_banca) {
        (_, Some(b)) => Some(b),
        (Some(v), None) => db::users::ventana_info(&mut tx, v)
            .await?
            .map(|v| v.banca_id),
        (None, None) => None,
    };
    let moved_banca = row.banca_id.is_some() && row.banca_id != new_banca;
    let moved_ventana = row.ventana_id.is_some() && row.ventana_id != ventana_id;
    let role_changed = role != row.role;

    // Profile fields.
    let username = c.username.clone().unwrap_or_else(|| row.username.clone());
    let email = c.email.clone().or_else(|| row.email.clone());
    let code = match &c.code {
        Some(v) => v.clone(),
        None => row.code.clone(),
    };
    check_taken(
        &mut tx,
        c.username
            .as_deref()
            .filter(|u| !u.eq_ignore_ascii_case(&row.username)),
        c.email.as_deref().filter(|e| {
            row.email
                .as_deref()
                .is_none_or(|old| !old.eq_ignore_ascii_case(e))
        }),
        c.code
            .as_ref()
            .and_then(|c| c.as_deref())
            .filter(|c| row.code.as_deref() != Some(*c)),
        Some(id),
    )
    .await?;
    let settings = match &c.settings {
        Some(None) => None,
        Some(Some(patch)) => Some(merge_settings(row.settings.as_ref(), patch)),
        None => row.settings.clone(),
    };
    let max_sessions = match c.max_sessions_per_vendedor {
        Some(v) => v,
        None => row.max_sessions_per_vendedor,
    };
    let is_active = c.is_active.unwrap_or(row.is_active);
    let reset_policy =
        c.reset_commission_policy || moved_banca || (door == Door::Vendedores && moved_ventana);
    let policy = if reset_policy {
        None
    } else {
        row.commission_policy_json.clone()
    };

    if role == Role::Vendedor && is_active {
        let newly_seated = !row.is_active || row.role != Role::Vendedor || moved_banca;
        if let (true, Some(b)) = (newly_seated, new_banca) {
            check_seat(&mut tx, b, Some(id)).await?;
        }
    }

    db::users::write_user(
        &mut tx,
        id,
        &db::users::UserWrite {
            name: c.name.as_deref().unwrap_or(&row.name),
            username: &username,
            email: email.as_deref(),
            phone: c.phone.as_deref().or(row.phone.as_deref()),
            role,
            code: code.as_deref(),
            ventana_id,
            banca_id: profile_banca,
            is_active,
            settings: settings.as_ref(),
            max_sessions_per_vendedor: max_sessions,
            commission_policy_json: policy.as_ref(),
            password_hash: hash.as_deref(),
        },
    )
    .await
    .map_err(on_constraint)?;
    if role == Role::Banca {
        if let Some(b) = profile_banca {
            let relinked = c.banca_id.is_some() || role_changed;
            if relinked {
                db::users::link_default_banca(&mut tx, id, b).await?;
            }
        }
    }

    // Sessions: the strongest reason wins; the caller keeps its own session on itself.
    let reason = if !is_active && row.is_active {
        Some("user_deactivated")
    } else if moved_banca {
        Some("user_moved_banca")
    } else if door == Door::Vendedores && moved_ventana {
        Some("vendedor_moved_ventana")
    } else if role_changed {
        Some("role_changed")
    } else if hash.is_some() {
        Some(if is_self {
            "password_change"
        } else {
            "password_reset"
        })
    } else {
        None
    };
    let revoked = match reason {
        Some(r) => {
            let keep = is_self.then_some(actor.session_id);
            db::users::revoke_sessions_except(&mut tx, id, keep, r).await?
        }
        None => 0,
    };

    let mut changed: Vec<&str> = Vec::new();
    for (name, present) in [
        ("name", c.name.is_some()),
        ("username", c.username.is_some()),
        ("email", c.email.is_some()),
        ("phone", c.phone.is_some()),
        ("password", c.password.is_some()),
        ("role", c.role.is_some()),
        ("ventanaId", c.ventana_id.is_some()),
        ("bancaId", c.banca_id.is_some()),
        ("isActive", c.is_active.is_some()),
        ("code", c.code.is_some()),
        (
            "maxSessionsPerVendedor",
            c.max_sessions_per_vendedor.is_some(),
        ),
        ("settings", c.settings.is_some()),
        ("resetCommissionPolicy", c.reset_commission_policy),
    ] {
        if present {
            changed.push(name);
        }
    }
    let action = if role_changed {
        "USER_ROLE_CHANGE"
    } else {
        "USER_UPDATE"
    };
    activity::record(
        &mut tx,
        actor,
        new_banca.or(row.banca_id),
        action,
        "USER",
        id,
        json!({
            "description": format!("Usuario {} actualizado", username),
            "changed": changed,
            "selfUpdate": door == Door::SelfService || is_self,
            "fromRole": role_changed.then_some(row.role),
            "toRole": role_changed.then_some(role),
            "movedBanca": moved_banca,
            "commissionPolicyReset": reset_policy && row.commission_policy_json.is_some(),
            "sessionsRevoked": revoked,
        }),
    )
    .await?;
    let row = db::users::find_row(&mut tx, id)
        .await?
        .ok_or(UserError::NotFound("Usuario no encontrado"))?;
    tx.commit().await?;
    Ok(row)
}

/// The vendedor's ACTIVE tickets (not deleted) in sorteos not yet EVALUATED or CLOSED: what
/// `DELETE /vendedores/:id` refuses to leave without a seller.
async fn open_tickets(conn: &mut PgConnection, vendedor_id: Uuid) -> Result<i64, sqlx::Error> {
    db::query_scalar(
        "SELECT count(*) FROM tickets t JOIN sorteos s ON s.id = t.sorteo_id
         WHERE t.vendedor_id = $1 AND t.status = 'ACTIVE' AND t.deleted_at IS NULL
           AND s.status NOT IN ('EVALUATED', 'CLOSED')",
    )
    .bind(vendedor_id)
    .fetch_one(conn)
    .await
}

/// Deactivates a user the caller may manage (soft delete: `isActive = false`, the reason
/// recorded) and closes all its sessions. Nobody deactivates itself. Through `/vendedores`, a
/// vendedor with ACTIVE tickets in sorteos not yet EVALUATED or CLOSED is refused (409
/// `VENDEDOR_HAS_ACTIVE_TICKETS`).
pub async fn deactivate_user(
    pool: &PgPool,
    actor: &Actor,
    id: Uuid,
    reason: Option<&str>,
    door: Door,
) -> Result<UserRow, UserError> {
    if !actor.is(&[Role::Admin, Role::Banca, Role::Ventana]) {
        return Err(forbidden("No tienes permisos para realizar esta acción"));
    }
    let mut tx = pool.begin().await?;
    if !db::users::lock_user(&mut tx, id).await? {
        return Err(UserError::NotFound("Usuario no encontrado"));
    }
    let row = manageable(&mut tx, actor, id).await?;
    if door == Door::Vendedores && row.role != Role::Vendedor {
        return Err(UserError::NotFound("Vendedor no encontrado"));
    }
    if row.id == actor.user_id {
        return Err(UserError::BadRequest(
            "CANNOT_DELETE_SELF",
            "No puedes eliminar tu propio usuario".into(),
        ));
    }
    if door == Door::Vendedores {
        let active = open_tickets(&mut tx, id).await?;
        if active > 0 {
            return Err(UserError::Conflict(
                "VENDEDOR_HAS_ACTIVE_TICKETS",
                format!(
                    "El vendedor tiene {active} tiquete(s) activo(s) en sorteos sin evaluar; \
                     anúlelos o espere a que el sorteo se evalúe antes de desactivarlo"
                )
                .into(),
            ));
        }
    }
    db::users::deactivate(&mut tx, id, &actor.user_id.to_string(), reason).await?;
    let revoked = db::sessions::revoke_user_sessions(&mut tx, id, "user_deactivated").await?;
    activity::record(
        &mut tx,
        actor,
        row.banca_id,
        "USER_DELETE",
        "USER",
        id,
        json!({
            "description": format!("Usuario {} desactivado", row.username),
            "reason": reason,
            "sessionsRevoked": revoked,
        }),
    )
    .await?;
    let row = db::users::find_row(&mut tx, id)
        .await?
        .ok_or(UserError::NotFound("Usuario no encontrado"))?;
    tx.commit().await?;
    Ok(row)
}

/// Reactivates a user the caller may manage. Closed sessions stay closed. A VENDEDOR takes a
/// seat again (`vendorLimit`); through `/vendedores` its ventana and banca must be active.
pub async fn restore_user(
    pool: &PgPool,
    actor: &Actor,
    id: Uuid,
    door: Door,
) -> Result<UserRow, UserError> {
    if !actor.is(&[Role::Admin, Role::Banca, Role::Ventana]) {
        return Err(forbidden("No tienes permisos para realizar esta acción"));
    }
    let mut tx = pool.begin().await?;
    if !db::users::lock_user(&mut tx, id).await? {
        return Err(UserError::NotFound("Usuario no encontrado"));
    }
    let row = manageable(&mut tx, actor, id).await?;
    if door == Door::Vendedores && row.role != Role::Vendedor {
        return Err(UserError::NotFound("Vendedor no encontrado"));
    }
    if row.is_active && row.deleted_at.is_none() {
        tx.commit().await?;
        return Ok(row);
    }
    if door == Door::Vendedores {
        if let Some(v) = row.ventana_id {
            usable_ventana(&mut tx, actor, v).await?;
        }
    }
    if row.role == Role::Vendedor {
        if let Some(b) = row.banca_id {
            check_seat(&mut tx, b, Some(id)).await?;
        }
    }
    db::users::reactivate(&mut tx, id).await?;
    activity::record(
        &mut tx,
        actor,
        row.banca_id,
        "USER_RESTORE",
        "USER",
        id,
        json!({ "description": format!("Usuario {} restaurado", row.username) }),
    )
    .await?;
    let row = db::users::find_row(&mut tx, id)
        .await?
        .ok_or(UserError::NotFound("Usuario no encontrado"))?;
    tx.commit().await?;
    Ok(row)
}

/// Reads one user the caller may see.
pub async fn get_user(pool: &PgPool, actor: &Actor, id: Uuid) -> Result<UserRow, UserError> {
    let mut conn = pool.acquire().await?;
    Ok(visible_user(&mut conn, actor, id, false).await?)
}

/// Reads one VENDEDOR user the caller may see.
pub async fn get_vendedor(pool: &PgPool, actor: &Actor, id: Uuid) -> Result<UserRow, UserError> {
    let row = get_user(pool, actor, id).await?;
    if row.role != Role::Vendedor {
        return Err(UserError::NotFound("Vendedor no encontrado"));
    }
    Ok(row)
}

/// Filters a caller asks for on `GET /users`.
#[derive(Debug, Clone, Default)]
pub struct ListRequest {
    pub banca_id: Option<Uuid>,
    pub ventana_id: Option<Uuid>,
    pub role: Option<Role>,
    pub is_active: Option<bool>,
    pub search: Option<String>,
}

/// `GET /users`, scoped by role: ADMIN every user (or the requested / active banca's); BANCA
/// its assigned bancas (a requested banca must be one of them); VENTANA itself and the
/// vendedores of its ventana, active ones unless asked otherwise; VENDEDOR refused.
pub async fn list_users(
    pool: &PgPool,
    actor: &Actor,
    req: ListRequest,
    limit: i64,
    offset: i64,
) -> Result<(Vec<UserRow>, i64), UserError> {
    let mut f = db::users::UserFilter {
        banca_ids: None,
        ventana_id: req.ventana_id,
        role: req.role,
        is_active: req.is_active,
        search: req.search,
        vendedores_and: None,
    };
    match actor.role {
        Role::Admin => f.banca_ids = req.banca_id.or(actor.banca_id).map(|b| vec![b]),
        Role::Banca => {
            f.banca_ids = Some(match req.banca_id {
                Some(b) if actor.assigned_bancas.contains(&b) => vec![b],
                Some(_) => {
                    return Err(forbidden("No tienes acceso a la banca solicitada"));
                }
                None => actor.assigned_bancas.clone(),
            });
        }
        Role::Ventana => {
            let Some(own) = actor.ventana_id else {
                return Err(forbidden("Tu usuario no tiene una ventana asignada"));
            };
            f.ventana_id = Some(own);
            f.vendedores_and = Some(actor.user_id);
            f.is_active = req.is_active.or(Some(true));
        }
        Role::Vendedor => {
            return Err(forbidden("No tienes permisos para realizar esta acción"));
        }
    }
    let mut conn = pool.acquire().await?;
    Ok(db::users::list_users(&mut conn, &f, limit, offset).await?)
}

/// `GET /vendedores`: VENDEDOR users, inactive included. VENTANA callers see their ventana,
/// BANCA callers their active banca, ADMIN the active banca or every banca.
pub async fn list_vendedores(
    pool: &PgPool,
    actor: &Actor,
    ventana_id: Option<Uuid>,
    search: Option<String>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<UserRow>, i64), UserError> {
    let mut f = db::users::UserFilter {
        banca_ids: None,
        ventana_id,
        role: Some(Role::Vendedor),
        is_active: None,
        search,
        vendedores_and: None,
    };
    match actor.role {
        Role::Admin | Role::Banca => f.banca_ids = actor.list_scope(),
        Role::Ventana => {
            let Some(own) = actor.ventana_id else {
                return Err(forbidden("Tu usuario no tiene una ventana asignada"));
            };
            f.ventana_id = Some(own);
        }
        Role::Vendedor => {
            return Err(forbidden("No tienes permisos para realizar esta acción"));
        }
    }
    let mut conn = pool.acquire().await?;
    Ok(db::users::list_users(&mut conn, &f, limit, offset).await?)
}

/// The banca links of a user: ADMIN for anyone, BANCA for users it manages (itself included).
pub async fn banca_links(
    pool: &PgPool,
    actor: &Actor,
    user_id: Uuid,
) -> Result<Vec<db::users::BancaLink>, UserError> {
    if !actor.is(&[Role::Admin, Role::Banca]) {
        return Err(forbidden("No tienes permisos para realizar esta acción"));
    }
    let mut conn = pool.acquire().await?;
    manageable(&mut conn, actor, user_id).await?;
    let mut links = db::users::banca_links(&mut conn, user_id).await?;
    if actor.role == Role::Banca {
        links.retain(|l| actor.assigned_bancas.contains(&l.banca_id));
    }
    Ok(links)
}

/// Links a BANCA user to a banca (ADMIN). The first link, or one asked as default, becomes
/// the default and the user's profile banca.
pub async fn add_banca_link(
    pool: &PgPool,
    actor: &Actor,
    user_id: Uuid,
    banca_id: Uuid,
    is_default: bool,
) -> Result<db::users::BancaLink, UserError> {
    if !actor.is_admin() {
        return Err(forbidden("No tienes permisos para realizar esta acción"));
    }
    let mut tx = pool.begin().await?;
    let row = locked_manageable(&mut tx, actor, user_id).await?;
    if row.role != Role::Banca {
        return Err(UserError::BadRequest(
            "INVALID_ROLE",
            "Solo los usuarios BANCA se asignan a bancas".into(),
        ));
    }
    known_banca(&mut tx, actor, banca_id).await?;
    let existing = db::users::banca_links(&mut tx, user_id).await?;
    let make_default = is_default || !existing.iter().any(|l| l.is_default);
    if make_default {
        db::users::set_default_banca(&mut tx, user_id, banca_id).await?;
    } else {
        db::users::add_banca_link(&mut tx, user_id, banca_id).await?;
    }
    activity::record(
        &mut tx,
        actor,
        Some(banca_id),
        "USER_UPDATE",
        "USER",
        user_id,
        json!({
            "description": format!("Banca asignada al usuario {}", row.username),
            "bancaAssigned": banca_id,
            "isDefault": make_default,
        }),
    )
    .await?;
    let link = db::users::banca_link(&mut tx, user_id, banca_id)
        .await?
        .ok_or(UserError::NotFound("Asignación no encontrada"))?;
    tx.commit().await?;
    Ok(link)
}

/// Makes a linked banca the user's default (and profile banca): ADMIN for anyone, a BANCA
/// user only for itself.
pub async fn set_default_banca(
    pool: &PgPool,
    actor: &Actor,
    user_id: Uuid,
    banca_id: Uuid,
) -> Result<db::users::BancaLink, UserError> {
    let allowed = actor.is_admin() || (actor.role == Role::Banca && actor.user_id == user_id);
    if !allowed {
        return Err(forbidden("No tienes permisos para realizar esta acción"));
    }
    let mut tx = pool.begin().await?;
    let row = locked_manageable(&mut tx, actor, user_id).await?;
    db::users::banca_link(&mut tx, user_id, banca_id)
        .await?
        .ok_or(UserError::NotFound("Asignación no encontrada"))?;
    db::users::set_default_banca(&mut tx, user_id, banca_id).await?;
    activity::record(
        &mut tx,
        actor,
        Some(banca_id),
        "USER_UPDATE",
        "USER",
        user_id,
        json!({
            "description": format!("Banca por defecto del usuario {} cambiada", row.username),
            "defaultBancaId": banca_id,
        }),
    )
    .await?;
    let link = db::users::banca_link(&mut tx, user_id, banca_id)
        .await?
        .ok_or(UserError::NotFound("Asignación no encontrada"))?;
    tx.commit().await?;
    Ok(link)
}

/// Removes a non-default banca link (ADMIN).
pub async fn remove_banca_link(
    pool: &PgPool,
    actor: &Actor,
    user_id: Uuid,
    banca_id: Uuid,
) -> Result<(), UserError> {
    if !actor.is_admin() {
        return Err(forbidden("No tienes permisos para realizar esta acción"));
    }
    let mut tx = pool.begin().await?;
    let row = locked_manageable(&mut tx, actor, user_id).await?;
    let link = db::users::banca_link(&mut tx, user_id, banca_id)
        .await?
        .ok_or(UserError::NotFound("Asignación no encontrada"))?;
    if link.is_default {
        return Err(UserError::BadRequest(
            "CANNOT_DELETE_DEFAULT",
            "No se puede eliminar la banca por defecto; asigna otra por defecto primero".into(),
        ));
    }
    db::users::delete_banca_link(&mut tx, user_id, banca_id).await?;
    activity::record(
        &mut tx,
        actor,
        Some(banca_id),
        "USER_UPDATE",
        "USER",
        user_id,
        json!({
            "description": format!("Banca retirada del usuario {}", row.username),
            "bancaRemoved": banca_id,
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// May the caller read (`write = false`) or set the commission policy of `row`? ADMIN: anyone.
/// BANCA: users of its bancas except ADMINs. VENTANA: the vendedores of its ventana. Self:
/// read only, except ADMIN and BANCA (a seller or listero does not set its own commission).
fn policy_access(actor: &Actor, row: &UserRow, write: bool) -> Result<(), UserError> {
    let is_self = actor.user_id == row.id;
    match actor.role {
        Role::Admin => Ok(()),
        Role::Banca if row.role == Role::Admin => Err(UserError::NotFound("Usuario no encontrado")),
        Role::Banca => Ok(()),
        Role::Ventana | Role::Vendedor if is_self && write => Err(forbidden(
            "No puedes modificar tu propia política de comisiones",
        )),
        Role::Ventana | Role::Vendedor => Ok(()),
    }
}

/// Reads the commission policy of a user the caller may see.
pub async fn commission_policy(
    pool: &PgPool,
    actor: &Actor,
    user_id: Uuid,
) -> Result<UserRow, UserError> {
    let mut conn = pool.acquire().await?;
    let row = visible_user(&mut conn, actor, user_id, false).await?;
    policy_access(actor, &row, false)?;
    Ok(row)
}

/// Sets (an object) or clears (`null`) the commission policy of a user, validated and
/// normalized by the shared rules of §18.6 (`services::bancas`).
pub async fn set_commission_policy(
    pool: &PgPool,
    actor: &Actor,
    user_id: Uuid,
    policy: Value,
) -> Result<UserRow, UserError> {
    let policy =
        crate::services::bancas::normalize_commission_policy(policy).map_err(UserError::Invalid)?;
    let mut tx = pool.begin().await?;
    if !db::users::lock_user(&mut tx, user_id).await? {
        return Err(UserError::NotFound("Usuario no encontrado"));
    }
    let row = visible_user(&mut tx, actor, user_id, false).await?;
    policy_access(actor, &row, true)?;
    db::users::set_commission_policy(&mut tx, user_id, policy.as_ref()).await?;
    activity::record(
        &mut tx,
        actor,
        row.banca_id,
        "USER_UPDATE",
        "USER",
        user_id,
        json!({
            "description": format!("Política de comisiones del usuario {} actualizada", row.username),
            "commissionPolicySet": policy.is_some(),
        }),
    )
    .await?;
    let row = db::users::find_row(&mut tx, user_id)
        .await?
        .ok_or(UserError::NotFound("Usuario no encontrado"))?;
    tx.commit().await?;
    Ok(row)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_merge_deeply_and_null_leaves_remove_keys() {
        let current = json!({"theme": "dark", "print": {"name": "A", "width": 58}});
        let merged = merge_settings(
            Some(&current),
            &json!({"print": {"width": 88, "name": null, "footer": "gracias"}, "theme": null}),
        );
        assert_eq!(merged, json!({"print": {"width": 88, "footer": "gracias"}}));
        let fresh = merge_settings(None, &json!({"print": {"barcode": true, "phone": null}}));
        assert_eq!(fresh, json!({"print": {"barcode": true}}));
    }
}
