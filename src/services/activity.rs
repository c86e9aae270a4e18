//! Writing activity-log entries. Call inside the use case's transaction, so the entry and the
//! change commit together or not at all.

use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::db::activity::{self, NewActivity};
use crate::domain::authz::Actor;

/// Records that `actor` did `action` on a target, tagged with the request id.
pub async fn record(
    conn: &mut PgConnection,
    actor: &Actor,
    banca_id: Option<Uuid>,
    action: &str,
    target_type: &str,
    target_id: impl ToString,
    details: Value,
) -> Result<(), sqlx::Error> {
    activity::insert(
        conn,
        &NewActivity {
            user_id: Some(actor.user_id),
            banca_id: banca_id.or(actor.banca_id).or(actor.home_banca_id),
            action,
            target_type: Some(target_type),
            target_id: Some(target_id.to_string()),
            details,
            request_id: crate::http::middleware::current_request_id(),
        },
    )
    .await
    .map(|_| ())
}

/// Records an event without an authenticated actor (e.g. a failed login).
pub async fn record_anonymous(
    conn: &mut PgConnection,
    user_id: Option<Uuid>,
    banca_id: Option<Uuid>,
    action: &str,
    details: Value,
) -> Result<(), sqlx::Error> {
    activity::insert(
        conn,
        &NewActivity {
            user_id,
            banca_id,
            action,
            target_type: user_id.map(|_| "USER"),
            target_id: user_id.map(|u| u.to_string()),
            details,
            request_id: crate::http::middleware::current_request_id(),
        },
    )
    .await
    .map(|_| ())
}
