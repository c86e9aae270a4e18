//! Who may see and change what. One place, used by every handler: the caller (`Actor`) and the
//! scope rules of the four roles. Objects of another tenant are reported as not found.

use uuid::Uuid;

use crate::domain::roles::Role;

/// The authenticated caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_id: Uuid,
    pub username: String,
    pub role: Role,
    pub ventana_id: Option<Uuid>,
    /// The banca the user belongs to: profile banca, else its ventana's banca.
    pub home_banca_id: Option<Uuid>,
    /// The active banca of this request: `X-Active-Banca-Id` or set-active-banca for ADMIN and
    /// BANCA (validated), the home banca for VENTANA and VENDEDOR. `None` for an ADMIN without
    /// one means the global view.
    pub banca_id: Option<Uuid>,
    /// Bancas a BANCA user administers (its links); empty for other roles.
    pub assigned_bancas: Vec<Uuid>,
    /// The login session this request belongs to.
    pub session_id: Uuid,
}

impl Actor {
    pub fn is(&self, roles: &[Role]) -> bool {
        roles.contains(&self.role)
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// Whether objects of banca `banca_id` are within reach of this caller at all.
    pub fn can_reach_banca(&self, banca_id: Uuid) -> bool {
        match self.role {
            Role::Admin => true,
            Role::Banca => self.assigned_bancas.contains(&banca_id),
            Role::Ventana | Role::Vendedor => self.home_banca_id == Some(banca_id),
        }
    }

    /// Whether objects of ventana `ventana_id` (of banca `banca_id`) are within reach.
    pub fn can_reach_ventana(&self, ventana_id: Uuid, banca_id: Uuid) -> bool {
        match self.role {
            Role::Admin => true,
            Role::Banca => self.assigned_bancas.contains(&banca_id),
            Role::Ventana | Role::Vendedor => self.ventana_id == Some(ventana_id),
        }
    }

    /// The bancas a list shows: `None` means no banca filter (ADMIN in the global view).
    /// ADMIN with an active banca and BANCA see the active banca; VENTANA/VENDEDOR their own.
    pub fn list_scope(&self) -> Option<Vec<Uuid>> {
        match self.role {
            Role::Admin => self.banca_id.map(|b| vec![b]),
            Role::Banca => Some(self.banca_id.into_iter().collect()),
            Role::Ventana | Role::Vendedor => Some(self.home_banca_id.into_iter().collect()),
        }
    }

    /// Every banca the caller may see (ADMIN: `None`, all of them).
    pub fn reachable_bancas(&self) -> Option<Vec<Uuid>> {
        match self.role {
            Role::Admin => None,
            Role::Banca => Some(self.assigned_bancas.clone()),
            Role::Ventana | Role::Vendedor => Some(self.home_banca_id.into_iter().collect()),
        }
    }
}

/// What is known of a user when deciding whether a caller may manage it.
#[derive(Debug, Clone, Copy)]
pub struct UserTarget {
    pub id: Uuid,
    pub role: Role,
    pub ventana_id: Option<Uuid>,
    /// Profile banca, else the ventana's banca.
    pub banca_id: Option<Uuid>,
}

/// May `actor` see user `target`? ADMIN: anyone. Self: always. BANCA: users of its assigned
/// bancas. VENTANA: VENDEDOR users of its ventana. VENDEDOR: only itself.
pub fn can_view_user(actor: &Actor, target: &UserTarget) -> bool {
    if actor.user_id == target.id || actor.is_admin() {
        return true;
    }
    match actor.role {
        Role::Banca => target
            .banca_id
            .is_some_and(|b| actor.assigned_bancas.contains(&b)),
        Role::Ventana => {
            target.role == Role::Vendedor
                && target.ventana_id.is_some()
                && target.ventana_id == actor.ventana_id
        }
        _ => false,
    }
}

/// May `actor` change user `target`? As `can_view_user`, except that a BANCA user may not
/// change ADMINs or other BANCA users.
pub fn can_manage_user(actor: &Actor, target: &UserTarget) -> bool {
    if !can_view_user(actor, target) {
        return false;
    }
    match actor.role {
        Role::Banca if actor.user_id != target.id => {
            matches!(target.role, Role::Ventana | Role::Vendedor)
        }
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role, banca: Option<Uuid>, ventana: Option<Uuid>) -> Actor {
        Actor {
            user_id: Uuid::new_v4(),
            username: "x".into(),
            role,
            ventana_id: ventana,
            home_banca_id: banca,
            banca_id: banca,
            assigned_bancas: if role == Role::Banca {
                banca.into_iter().collect()
            } else {
                vec![]
            },
            session_id: Uuid::new_v4(),
        }
    }

    #[test]
    fn tenants_do_not_reach_each_other() {
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let (va, vb) = (Uuid::new_v4(), Uuid::new_v4());
        let banca_a = actor(Role::Banca, Some(a), None);
        let ventana_a = actor(Role::Ventana, Some(a), Some(va));
        let admin = actor(Role::Admin, None, None);
        assert!(banca_a.can_reach_banca(a) && !banca_a.can_reach_banca(b));
        assert!(ventana_a.can_reach_ventana(va, a) && !ventana_a.can_reach_ventana(vb, b));
        assert!(admin.can_reach_banca(b));
        assert_eq!(admin.list_scope(), None);
        assert_eq!(banca_a.list_scope(), Some(vec![a]));

        let vendedor_b = UserTarget {
            id: Uuid::new_v4(),
            role: Role::Vendedor,
            ventana_id: Some(vb),
            banca_id: Some(b),
        };
        let vendedor_a = UserTarget {
            id: Uuid::new_v4(),
            role: Role::Vendedor,
            ventana_id: Some(va),
            banca_id: Some(a),
        };
        let banca_user_a = UserTarget {
            id: Uuid::new_v4(),
            role: Role::Banca,
            ventana_id: None,
            banca_id: Some(a),
        };
        assert!(!can_view_user(&banca_a, &vendedor_b));
        assert!(can_manage_user(&banca_a, &vendedor_a));
        assert!(
            can_view_user(&banca_a, &banca_user_a) && !can_manage_user(&banca_a, &banca_user_a)
        );
        assert!(
            can_manage_user(&ventana_a, &vendedor_a) && !can_view_user(&ventana_a, &vendedor_b)
        );
    }
}
