//! The session check cache: what `http::auth` needs per request (the session stands, the user
//! and its ventana and banca are active, a BANCA user's banca links, whether the banca an
//! ADMIN asks for is active) kept in Redis, so a request with a cached session makes no
//! database round trip before its handler.
//!
//! Exactness does not depend on the time to live (`CACHE_TTL_SESSION`): an entry carries the
//! epoch, the everyone generation and its user's generation read *before* the database was
//! (see [`crate::cache`]); every write that can change the answer touches one of them
//! (revocations, user and user-banca writes: the user; banca and ventana writes: everyone)
//! and the bump is published before that write's response leaves. A racing reader that
//! stores an older answer stores it under older generations, which nobody reads again.
//! Expired sessions are re-read (the entry keeps `expires_at`). Only standing sessions of
//! active users are cached; refusals always come from PostgreSQL. Without Redis (or with its
//! circuit open) nothing is cached: a per-process copy could not see another instance's
//! revocation.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::Utc;
use uuid::Uuid;

use crate::cache::{self, Gen, Redis};
use crate::db::sessions::SessionUser;

/// A cached session check.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct CachedSession {
    pub user: SessionUser,
    /// A BANCA user's active banca links, the default first (`None` for other roles).
    pub assigned: Option<Vec<Uuid>>,
}

/// What one `MGET` found, with the tags to store fresh answers under.
#[derive(Debug, Default)]
pub struct Lookup {
    pub session: Option<CachedSession>,
    /// Whether the banca asked about is active, if cached.
    pub banca_active: Option<bool>,
    session_tag: String,
    banca_tag: String,
}

static HITS: AtomicU64 = AtomicU64::new(0);
static MISSES: AtomicU64 = AtomicU64::new(0);

/// `(hits, misses)` of the session cache in this process since the start (for `/metrics`).
pub fn stats() -> (u64, u64) {
    (HITS.load(Ordering::Relaxed), MISSES.load(Ordering::Relaxed))
}

fn session_key(sid: Uuid) -> String {
    format!("auth:s:{sid}")
}

fn banca_key(banca: Uuid) -> String {
    format!("auth:banca:{banca}")
}

/// Reads the generations, the session entry and (when `banca` is given) the banca flag in one
/// round trip. `None` when Redis cannot be used now.
pub async fn lookup(redis: &Redis, sid: Uuid, uid: Uuid, banca: Option<Uuid>) -> Option<Lookup> {
    let mut keys = vec![
        Gen::Epoch.key(),
        Gen::AllSessions.key(),
        Gen::User(uid).key(),
        session_key(sid),
    ];
    if let Some(b) = banca {
        keys.push(banca_key(b));
    }
    let values = redis.mget(&keys).await.ok()?;
    if values.len() != keys.len() {
        return None;
    }
    let (epoch, all, user) = (
        cache::gen_value(&values[0]),
        cache::gen_value(&values[1]),
        cache::gen_value(&values[2]),
    );
    let session_tag = cache::tag(&[epoch, all, user]);
    let banca_tag = cache::tag(&[epoch, all]);
    let now = Utc::now();
    let session = values[3]
        .as_deref()
        .and_then(|v| cache::untag(v, &session_tag))
        .and_then(|b| serde_json::from_slice::<CachedSession>(b).ok())
        .filter(|s| s.user.user_id == uid && s.user.expires_at > now);
    let banca_active = values
        .get(4)
        .and_then(|v| v.as_deref())
        .and_then(|v| cache::untag(v, &banca_tag))
        .map(|b| b == b"1");
    if session.is_some() {
        HITS.fetch_add(1, Ordering::Relaxed);
    } else {
        MISSES.fetch_add(1, Ordering::Relaxed);
    }
    Some(Lookup {
        session,
        banca_active,
        session_tag,
        banca_tag,
    })
}

/// Stores a standing session read from PostgreSQL, in the background (the request does not
/// wait for it). Kept for `ttl`, never past the session's end.
pub fn store_session(
    redis: &Redis,
    lookup: &Lookup,
    sid: Uuid,
    entry: CachedSession,
    ttl: Duration,
) {
    if entry.user.session_revoked || !entry.user.user_active {
        return;
    }
    let left = (entry.user.expires_at - Utc::now())
        .to_std()
        .unwrap_or(Duration::ZERO);
    let ttl = ttl.min(left);
    if ttl < Duration::from_secs(1) {
        return;
    }
    let Ok(json) = serde_json::to_vec(&entry) else {
        return;
    };
    let value = cache::tagged(&lookup.session_tag, &json);
    let redis = redis.clone();
    tokio::spawn(async move {
        let _ = redis.set_px(&session_key(sid), value, ttl).await;
    });
}

/// Stores whether `banca` is active, in the background.
pub fn store_banca(redis: &Redis, lookup: &Lookup, banca: Uuid, active: bool, ttl: Duration) {
    let value = cache::tagged(&lookup.banca_tag, if active { b"1" } else { b"0" });
    let redis = redis.clone();
    tokio::spawn(async move {
        let _ = redis.set_px(&banca_key(banca), value, ttl).await;
    });
}
