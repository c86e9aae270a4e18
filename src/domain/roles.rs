//! The four roles of the wire contract.

use serde::{Deserialize, Serialize};

/// Who a user is in a banca: ADMIN (the platform), BANCA (a banca's administrator),
/// VENTANA (a listero, owner of a sales point) and VENDEDOR (a seller).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type)]
#[sqlx(type_name = "user_role", rename_all = "UPPERCASE")]
#[serde(rename_all = "UPPERCASE")]
pub enum Role {
    Admin,
    Banca,
    Ventana,
    Vendedor,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "ADMIN",
            Role::Banca => "BANCA",
            Role::Ventana => "VENTANA",
            Role::Vendedor => "VENDEDOR",
        }
    }

    /// ADMIN and BANCA users are not tied to a ventana.
    pub fn needs_ventana(self) -> bool {
        matches!(self, Role::Ventana | Role::Vendedor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_are_upper_case() {
        assert_eq!(
            serde_json::to_string(&Role::Vendedor).unwrap(),
            "\"VENDEDOR\""
        );
        let r: Role = serde_json::from_str("\"BANCA\"").unwrap();
        assert_eq!(r, Role::Banca);
        assert!(serde_json::from_str::<Role>("\"banca\"").is_err());
        assert!(Role::Ventana.needs_ventana() && !Role::Admin.needs_ventana());
    }
}
