//! Administrative use cases run from the command line: the first ADMIN user and the demo banca.

use sqlx::PgPool;
use uuid::Uuid;

use crate::db::users::{self, NewUser};
use crate::domain::password::{self, PasswordError};
use crate::domain::roles::Role;

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("the username {0:?} is already taken")]
    UsernameTaken(String),
    #[error("the username must be 3 to 64 letters, digits, dots, dashes or underscores")]
    InvalidUsername,
    #[error("{0}")]
    Password(#[from] PasswordError),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

/// Checks a username: 3–64 characters of `[A-Za-z0-9._-]`.
pub fn valid_username(username: &str) -> bool {
    (3..=64).contains(&username.len())
        && username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// Input of `create_admin`.
pub struct NewAdmin<'a> {
    pub username: &'a str,
    pub name: &'a str,
    pub email: Option<&'a str>,
    pub password: &'a str,
}

/// Creates an ADMIN user; refuses a username that exists (case-insensitive).
pub async fn create_admin(pool: &PgPool, input: &NewAdmin<'_>) -> Result<Uuid, AdminError> {
    if !valid_username(input.username) {
        return Err(AdminError::InvalidUsername);
    }
    password::validate_new(input.password)?;
    let hash = password::hash(input.password)?;
    let mut tx = pool.begin().await?;
    if users::username_exists(&mut tx, input.username).await? {
        return Err(AdminError::UsernameTaken(input.username.to_string()));
    }
    let id = users::insert_user(
        &mut tx,
        &NewUser {
            name: input.name,
            username: input.username,
            email: input.email,
            password_hash: &hash,
            role: Role::Admin,
            ventana_id: None,
            banca_id: None,
        },
    )
    .await
    .map_err(|e| match &e {
        sqlx::Error::Database(d) if d.constraint() == Some("users_username_key") => {
            AdminError::UsernameTaken(input.username.to_string())
        }
        _ => AdminError::Database(e),
    })?;
    tx.commit().await?;
    Ok(id)
}

/// One demo login, as printed by `seed-demo`.
#[derive(Debug, Clone)]
pub struct DemoLogin {
    pub role: Role,
    pub username: &'static str,
}

/// What `seed_demo` created or refreshed.
#[derive(Debug, Clone)]
pub struct DemoSummary {
    pub banca_id: Uuid,
    pub ventana_id: Uuid,
    pub logins: Vec<DemoLogin>,
}

/// The demo logins, one per role.
pub const DEMO_LOGINS: [(Role, &str, &str); 4] = [
    (Role::Admin, "demo.admin", "Administrador Demo"),
    (Role::Banca, "demo.banca", "Admin Banca Demo"),
    (Role::Ventana, "demo.ventana", "Ventana Demo"),
    (Role::Vendedor, "demo.vendedor", "Vendedor Demo"),
];

/// Creates (or refreshes, when run again) a demo banca with one ventana and one user per role,
/// all with the given password. Running it twice leaves one copy of everything.
pub async fn seed_demo(pool: &PgPool, demo_password: &str) -> Result<DemoSummary, AdminError> {
    password::validate_new(demo_password)?;
    let hash = password::hash(demo_password)?;
    let mut tx = pool.begin().await?;
    let banca_id = users::upsert_banca(&mut tx, "Banca Demo", "DEMO").await?;
    let ventana_id = users::upsert_ventana(&mut tx, banca_id, "Ventana Demo", "DEMO-V1").await?;
    let mut logins = Vec::new();
    for (role, username, name) in DEMO_LOGINS {
        let ventana = role.needs_ventana().then_some(ventana_id);
        let banca = (role != Role::Admin).then_some(banca_id);
        let id = users::upsert_user(
            &mut tx,
            &NewUser {
                name,
                username,
                email: None,
                password_hash: &hash,
                role,
                ventana_id: ventana,
                banca_id: banca,
            },
        )
        .await?;
        if role == Role::Banca {
            users::link_default_banca(&mut tx, id, banca_id).await?;
        }
        logins.push(DemoLogin { role, username });
    }
    tx.commit().await?;
    Ok(DemoSummary {
        banca_id,
        ventana_id,
        logins,
    })
}

#[cfg(test)]
mod tests {
    use super::valid_username;

    #[test]
    fn usernames() {
        assert!(valid_username("admin"));
        assert!(valid_username("demo.vendedor-1_a"));
        assert!(!valid_username("ab"));
        assert!(!valid_username("with space"));
        assert!(!valid_username(&"a".repeat(65)));
    }
}
