//! Catalog reads answered from Redis: the `200` JSON answers of the lotería, multiplier,
//! multiplier-override and restriction-rule `GET` routes, per caller and query, shared by
//! every instance (`http::cache` serves them).
//!
//! Freshness does not depend on the time to live (`CACHE_TTL_CATALOG`,
//! `CACHE_TTL_RESTRICTIONS`): every answer is tagged with the epoch and the catalog
//! generation read before it was computed, and every write request outside the families that
//! never change these tables ([`write_touches_catalog`]) bumps the catalog generation before
//! its response leaves, so the next read on any instance computes afresh. Keys carry the
//! caller (user, role, active banca, ventana, banca links) and the business date, so role
//! scoping and "today" stay exact. Nothing that decides money reads these answers: the sale,
//! evaluation and payment paths read PostgreSQL in their transactions.
//!
//! Not cached, on purpose: the sorteo list and sorteo reads (they carry the caller's live
//! ticket counts, which every sale changes), `allowed-multipliers` (read against the user's
//! commission policy at the current instant), schedule previews (computed from the clock).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::cache::{self, Gen, Redis};
use crate::domain::authz::Actor;

/// Which time to live an answer gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// Loterías, multipliers, overrides (`CACHE_TTL_CATALOG`).
    Catalog,
    /// Restriction rules (`CACHE_TTL_RESTRICTIONS`).
    Restrictions,
}

/// The family of a cached `GET` route (its matched path), if it is cached.
pub fn cached_route(route: &str) -> Option<Family> {
    match route {
        "/api/v1/loterias"
        | "/api/v1/loterias/{id}"
        | "/api/v1/multipliers"
        | "/api/v1/multipliers/{id}"
        | "/api/v1/multiplier-overrides"
        | "/api/v1/multiplier-overrides/{id}" => Some(Family::Catalog),
        "/api/v1/restrictions"
        | "/api/v1/restrictions/grouped"
        | "/api/v1/restrictions/me"
        | "/api/v1/restrictions/{id}" => Some(Family::Restrictions),
        _ => None,
    }
}

/// Path prefixes whose writes never change a cached catalog answer: sales and their tickets,
/// payments, logins and sessions, accounts and statements, telemetry. Every other write
/// (bancas, ventanas, users, vendedores, loterías, sorteos, multipliers, overrides, rules,
/// listas…) bumps the catalog generation: new write routes are covered by default.
const WRITES_OUTSIDE_THE_CATALOG: [&str; 13] = [
    "/api/v1/tickets",
    "/api/v1/ticket-payments",
    "/api/v1/auth/login",
    "/api/v1/auth/refresh",
    "/api/v1/auth/logout",
    "/api/v1/auth/sessions/",
    "/api/v1/auth/set-active-banca",
    "/api/v1/users/me/password",
    "/api/v1/accounts/",
    "/api/v1/account-statements",
    "/api/v1/admin/dashboard",
    "/api/v1/telemetry",
    "/api/v1/app/",
];

/// Whether a write request to `path` may change a cached catalog answer.
pub fn write_touches_catalog(path: &str) -> bool {
    !WRITES_OUTSIDE_THE_CATALOG
        .iter()
        .any(|p| path == p.trim_end_matches('/') || path.starts_with(p))
}

/// The cache key of a `GET` answer: the route, the path and query as sent, the caller's
/// scope and the business date.
pub fn key(route: &str, path_and_query: &str, actor: &Actor, business_date: &str) -> String {
    let mut h = Sha256::new();
    for part in [
        route,
        path_and_query,
        &actor.user_id.to_string(),
        actor.role.as_str(),
        &actor.banca_id.map(|b| b.to_string()).unwrap_or_default(),
        &actor.ventana_id.map(|v| v.to_string()).unwrap_or_default(),
        &actor
            .assigned_bancas
            .iter()
            .map(|b| b.to_string())
            .collect::<Vec<_>>()
            .join(","),
        business_date,
    ] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    let digest = h.finalize();
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("cat:{hex}")
}

/// A lookup: the current answer if Redis has one, and the tag to store a fresh one under.
#[derive(Debug)]
pub struct Lookup {
    pub body: Option<Vec<u8>>,
    tag: String,
}

static HITS: AtomicU64 = AtomicU64::new(0);
static MISSES: AtomicU64 = AtomicU64::new(0);

/// `(hits, misses)` of the catalog cache in this process since the start (for `/metrics`).
pub fn stats() -> (u64, u64) {
    (HITS.load(Ordering::Relaxed), MISSES.load(Ordering::Relaxed))
}

/// One `MGET` of the generations and the answer; `None` when Redis cannot be used now.
pub async fn lookup(redis: &Redis, key: &str) -> Option<Lookup> {
    let keys = [Gen::Epoch.key(), Gen::Catalog.key(), key.to_string()];
    let values = redis.mget(&keys).await.ok()?;
    if values.len() != keys.len() {
        return None;
    }
    let tag = cache::tag(&[cache::gen_value(&values[0]), cache::gen_value(&values[1])]);
    let body = values[2]
        .as_deref()
        .and_then(|v| cache::untag(v, &tag))
        .map(<[u8]>::to_vec);
    if body.is_some() {
        HITS.fetch_add(1, Ordering::Relaxed);
    } else {
        MISSES.fetch_add(1, Ordering::Relaxed);
    }
    Some(Lookup { body, tag })
}

/// Stores a fresh answer under the tag its lookup read, in the background.
pub fn store(redis: &Redis, lookup: &Lookup, key: String, body: &[u8], ttl: Duration) {
    let value = cache::tagged(&lookup.tag, body);
    let redis = redis.clone();
    tokio::spawn(async move {
        let _ = redis.set_px(&key, value, ttl).await;
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::roles::Role;
    use uuid::Uuid;

    fn actor(role: Role, banca: Option<Uuid>) -> Actor {
        Actor {
            user_id: Uuid::nil(),
            username: "u".into(),
            role,
            ventana_id: None,
            home_banca_id: banca,
            banca_id: banca,
            assigned_bancas: Vec::new(),
            session_id: Uuid::nil(),
        }
    }

    #[test]
    fn keys_differ_by_query_caller_scope_and_date() {
        let b = Some(Uuid::new_v4());
        let a = actor(Role::Admin, b);
        let base = key(
            "/api/v1/loterias",
            "/api/v1/loterias?page=1",
            &a,
            "2026-03-01",
        );
        assert_eq!(
            base,
            key(
                "/api/v1/loterias",
                "/api/v1/loterias?page=1",
                &a,
                "2026-03-01"
            )
        );
        for other in [
            key(
                "/api/v1/loterias",
                "/api/v1/loterias?page=2",
                &a,
                "2026-03-01",
            ),
            key(
                "/api/v1/loterias",
                "/api/v1/loterias?page=1",
                &a,
                "2026-03-02",
            ),
            key(
                "/api/v1/loterias",
                "/api/v1/loterias?page=1",
                &actor(Role::Admin, None),
                "2026-03-01",
            ),
            key(
                "/api/v1/loterias",
                "/api/v1/loterias?page=1",
                &actor(Role::Banca, b),
                "2026-03-01",
            ),
        ] {
            assert_ne!(base, other);
        }
        assert!(base.starts_with("cat:") && base.len() == 4 + 32);
    }

    #[test]
    fn which_writes_bump_the_catalog() {
        for p in [
            "/api/v1/loterias",
            "/api/v1/loterias/5/restore",
            "/api/v1/restrictions/bulk",
            "/api/v1/users/abc",
            "/api/v1/bancas/x",
            "/api/v1/sorteos/x/evaluate",
            "/api/v1/multiplier-overrides",
            "/api/v1/auth/me",
        ] {
            assert!(write_touches_catalog(p), "{p}");
        }
        for p in [
            "/api/v1/tickets",
            "/api/v1/tickets/x/cancel",
            "/api/v1/ticket-payments",
            "/api/v1/auth/login",
            "/api/v1/users/me/password",
            "/api/v1/accounts/movements",
            "/api/v1/telemetry",
        ] {
            assert!(!write_touches_catalog(p), "{p}");
        }
        assert_eq!(
            cached_route("/api/v1/restrictions/me"),
            Some(Family::Restrictions)
        );
        assert_eq!(cached_route("/api/v1/sorteos"), None);
    }
}
