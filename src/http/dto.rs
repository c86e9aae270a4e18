//! Wire shapes shared by several routes (camelCase, the existing system's field names).
//! Domain and database types never reach the wire directly.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use crate::db::users::UserRow;
use crate::domain::roles::Role;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BancaBrief {
    pub id: Uuid,
    pub name: String,
    pub code: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VentanaBrief {
    pub id: Uuid,
    pub name: String,
    pub code: String,
    pub banca_id: Uuid,
    pub banca: Option<BancaBrief>,
}

/// A user as the client reads it (`/auth/me`, `/users/:id`, lists). Never a password hash.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserDto {
    pub id: Uuid,
    pub name: String,
    pub username: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub role: Role,
    pub code: Option<String>,
    pub ventana_id: Option<Uuid>,
    pub banca_id: Option<Uuid>,
    pub is_active: bool,
    pub settings: Option<Value>,
    pub platform: Option<String>,
    pub app_version: Option<String>,
    pub max_sessions_per_vendedor: Option<i32>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub ventana: Option<VentanaBrief>,
    pub banca: Option<BancaBrief>,
    /// Legacy flat copies of `settings.print.*` that older app screens read.
    pub print_name: Option<Value>,
    pub print_phone: Option<Value>,
    pub print_width: Option<Value>,
    pub print_footer: Option<Value>,
    pub print_barcode: Option<Value>,
}

impl From<UserRow> for UserDto {
    fn from(u: UserRow) -> Self {
        let banca = match (u.banca_id, u.banca_name, u.banca_code) {
            (Some(id), Some(name), Some(code)) => Some(BancaBrief { id, name, code }),
            _ => None,
        };
        let ventana = match (
            u.ventana_id,
            u.ventana_name,
            u.ventana_code,
            u.ventana_banca_id,
        ) {
            (Some(id), Some(name), Some(code), Some(banca_id)) => Some(VentanaBrief {
                id,
                name,
                code,
                banca_id,
                banca: banca.clone().filter(|b| b.id == banca_id),
            }),
            _ => None,
        };
        let print = |key: &str| {
            u.settings
                .as_ref()
                .and_then(|s| s.get("print"))
                .and_then(|p| p.get(key))
                .cloned()
        };
        UserDto {
            print_name: print("name"),
            print_phone: print("phone"),
            print_width: print("width"),
            print_footer: print("footer"),
            print_barcode: print("barcode"),
            id: u.id,
            name: u.name,
            username: u.username,
            email: u.email,
            phone: u.phone,
            role: u.role,
            code: u.code,
            ventana_id: u.ventana_id,
            banca_id: u.banca_id,
            is_active: u.is_active,
            settings: u.settings,
            platform: u.platform,
            app_version: u.app_version,
            max_sessions_per_vendedor: u.max_sessions_per_vendedor,
            created_at: u.created_at,
            updated_at: u.updated_at,
            ventana,
            banca,
        }
    }
}
