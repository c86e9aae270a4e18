//! Commission policies stored on bancas and ventanas (users keep theirs in `db::users`).

use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::db::query_as;

/// Which table holds the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyOwner {
    Banca,
    Ventana,
}

impl PolicyOwner {
    fn table(self) -> &'static str {
        match self {
            PolicyOwner::Banca => "bancas",
            PolicyOwner::Ventana => "ventanas",
        }
    }
}

/// `{id, name, code, commissionPolicyJson}` of a banca or a ventana.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PolicyRow {
    pub id: Uuid,
    pub name: String,
    pub code: String,
    pub commission_policy_json: Option<Value>,
}

pub async fn get(
    conn: &mut PgConnection,
    owner: PolicyOwner,
    id: Uuid,
) -> Result<Option<PolicyRow>, sqlx::Error> {
    query_as(&format!(
        "SELECT id, name, code, commission_policy_json FROM {} WHERE id = $1",
        owner.table()
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

pub async fn set(
    conn: &mut PgConnection,
    owner: PolicyOwner,
    id: Uuid,
    policy: Option<&Value>,
) -> Result<PolicyRow, sqlx::Error> {
    query_as(&format!(
        "UPDATE {} SET commission_policy_json = $2, updated_at = now() WHERE id = $1
         RETURNING id, name, code, commission_policy_json",
        owner.table()
    ))
    .bind(id)
    .bind(policy)
    .fetch_one(conn)
    .await
}
