//! Access and refresh tokens: HS256 JWTs signed with `JWT_ACCESS_SECRET` and
//! `JWT_REFRESH_SECRET`. Every access token names its session (`sid`), so revoking the session
//! refuses the token at once on every instance.

use std::time::Duration;

use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::config::Config;
use crate::domain::roles::Role;

/// Seconds of clock skew tolerated when checking `exp`.
const LEEWAY_SECS: u64 = 30;

/// Claims of an access token (the field names of the existing system).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct AccessClaims {
    pub sub: Uuid,
    pub role: Role,
    pub ventana_id: Option<Uuid>,
    /// The active banca chosen with set-active-banca (ADMIN/BANCA), else the user's banca.
    pub banca_id: Option<Uuid>,
    pub sid: Uuid,
    pub iat: i64,
    pub exp: i64,
}

/// Claims of a refresh token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct RefreshClaims {
    pub tid: Uuid,
    pub sid: Uuid,
    pub iat: i64,
    pub exp: i64,
}

/// Claims of a download link (`GET /admin/dashboard/export` answers a URL the app opens
/// without its bearer token): the caller's session, the export's query, a short life.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct DownloadClaims {
    pub sub: Uuid,
    pub sid: Uuid,
    /// The active banca of the access token that asked for the link.
    pub banca_id: Option<Uuid>,
    /// What the link downloads (`dashboard`) and its query string.
    pub what: String,
    pub q: String,
    pub iat: i64,
    pub exp: i64,
}

/// Signs and checks tokens with the configured secrets and lifetimes.
#[derive(Clone)]
pub struct TokenKeys {
    access_enc: EncodingKey,
    access_dec: DecodingKey,
    /// Download links: a key derived from the access secret (never interchangeable with an
    /// access or refresh token).
    download_enc: EncodingKey,
    download_dec: DecodingKey,
    refresh_enc: EncodingKey,
    refresh_dec: DecodingKey,
    pub access_ttl: Duration,
    pub refresh_ttl: Duration,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("token expired")]
    Expired,
    #[error("token invalid")]
    Invalid,
    #[error("token could not be signed")]
    Signing,
}

fn validation() -> Validation {
    let mut v = Validation::new(Algorithm::HS256);
    v.leeway = LEEWAY_SECS;
    v.required_spec_claims = ["exp"].into_iter().map(String::from).collect();
    v
}

fn classify(e: jsonwebtoken::errors::Error) -> TokenError {
    match e.kind() {
        jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenError::Expired,
        _ => TokenError::Invalid,
    }
}

impl TokenKeys {
    pub fn from_config(config: &Config) -> Self {
        let a = config.jwt_access_secret.expose().as_bytes();
        let r = config.jwt_refresh_secret.expose().as_bytes();
        let d = download_secret(a);
        TokenKeys {
            access_enc: EncodingKey::from_secret(a),
            access_dec: DecodingKey::from_secret(a),
            download_enc: EncodingKey::from_secret(&d),
            download_dec: DecodingKey::from_secret(&d),
            refresh_enc: EncodingKey::from_secret(r),
            refresh_dec: DecodingKey::from_secret(r),
            access_ttl: config.jwt_access_expires_in,
            refresh_ttl: config.jwt_refresh_expires_in,
        }
    }

    /// Signs an access token valid from `now` (unix seconds).
    pub fn sign_access(
        &self,
        now: i64,
        sub: Uuid,
        role: Role,
        ventana_id: Option<Uuid>,
        banca_id: Option<Uuid>,
        sid: Uuid,
    ) -> Result<String, TokenError> {
        let claims = AccessClaims {
            sub,
            role,
            ventana_id,
            banca_id,
            sid,
            iat: now,
            exp: now + self.access_ttl.as_secs().max(1) as i64,
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.access_enc)
            .map_err(|_| TokenError::Signing)
    }

    /// Signs a refresh token for token `tid` of session `sid`, expiring at `exp`.
    pub fn sign_refresh(
        &self,
        now: i64,
        tid: Uuid,
        sid: Uuid,
        exp: i64,
    ) -> Result<String, TokenError> {
        let claims = RefreshClaims {
            tid,
            sid,
            iat: now,
            exp,
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.refresh_enc)
            .map_err(|_| TokenError::Signing)
    }

    pub fn verify_access(&self, token: &str) -> Result<AccessClaims, TokenError> {
        decode::<AccessClaims>(token, &self.access_dec, &validation())
            .map(|d| d.claims)
            .map_err(classify)
    }

    pub fn verify_refresh(&self, token: &str) -> Result<RefreshClaims, TokenError> {
        decode::<RefreshClaims>(token, &self.refresh_dec, &validation())
            .map(|d| d.claims)
            .map_err(classify)
    }

    /// Signs a download link's token.
    pub fn sign_download(&self, claims: &DownloadClaims) -> Result<String, TokenError> {
        encode(&Header::new(Algorithm::HS256), claims, &self.download_enc)
            .map_err(|_| TokenError::Signing)
    }

    pub fn verify_download(&self, token: &str) -> Result<DownloadClaims, TokenError> {
        decode::<DownloadClaims>(token, &self.download_dec, &validation())
            .map(|d| d.claims)
            .map_err(classify)
    }
}

/// The download links' key: SHA-256 of a label and the access secret.
fn download_secret(access: &[u8]) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(b"banca download link v1:");
    h.update(access);
    h.finalize().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> TokenKeys {
        TokenKeys::from_config(&Config::for_tests(&[
            (
                "JWT_ACCESS_SECRET",
                "access-secret-for-unit-tests-0123456789",
            ),
            (
                "JWT_REFRESH_SECRET",
                "refresh-secret-for-unit-tests-012345678",
            ),
        ]))
    }

    #[test]
    fn round_trip_and_rejections() {
        let k = keys();
        let now = chrono::Utc::now().timestamp();
        let (sub, sid) = (Uuid::new_v4(), Uuid::new_v4());
        let t = k
            .sign_access(now, sub, Role::Vendedor, None, None, sid)
            .unwrap();
        let c = k.verify_access(&t).unwrap();
        assert_eq!((c.sub, c.sid, c.role), (sub, sid, Role::Vendedor));

        // A refresh token is not an access token (different secret).
        let r = k.sign_refresh(now, Uuid::new_v4(), sid, now + 60).unwrap();
        assert_eq!(k.verify_access(&r), Err(TokenError::Invalid));
        assert!(k.verify_refresh(&r).is_ok());

        // Expired beyond the leeway.
        let old = k
            .sign_access(now - 10_000, sub, Role::Admin, None, None, sid)
            .unwrap();
        assert_eq!(k.verify_access(&old), Err(TokenError::Expired));

        // Tampered payload.
        let mut parts: Vec<&str> = t.split('.').collect();
        let forged = base64_url(&format!(
            r#"{{"sub":"{sub}","role":"ADMIN","ventanaId":null,"bancaId":null,"sid":"{sid}","iat":{now},"exp":{}}}"#,
            now + 900
        ));
        parts[1] = &forged;
        assert_eq!(k.verify_access(&parts.join(".")), Err(TokenError::Invalid));

        // alg: none.
        let header = base64_url(r#"{"alg":"none","typ":"JWT"}"#);
        let none = format!("{header}.{forged}.");
        assert_eq!(k.verify_access(&none), Err(TokenError::Invalid));
        assert_eq!(k.verify_access("garbage"), Err(TokenError::Invalid));
    }

    #[test]
    fn download_links_are_their_own_tokens() {
        let k = keys();
        let now = chrono::Utc::now().timestamp();
        let c = DownloadClaims {
            sub: Uuid::new_v4(),
            sid: Uuid::new_v4(),
            banca_id: None,
            what: "dashboard".into(),
            q: "format=csv".into(),
            iat: now,
            exp: now + 300,
        };
        let t = k.sign_download(&c).unwrap();
        assert_eq!(k.verify_download(&t).unwrap(), c);
        // Not an access token, and an access token is not a link.
        assert_eq!(k.verify_access(&t), Err(TokenError::Invalid));
        let a = k
            .sign_access(now, c.sub, Role::Admin, None, None, c.sid)
            .unwrap();
        assert_eq!(k.verify_download(&a), Err(TokenError::Invalid));
        let old = k
            .sign_download(&DownloadClaims {
                exp: now - 1_000,
                ..c
            })
            .unwrap();
        assert_eq!(k.verify_download(&old), Err(TokenError::Expired));
    }

    fn base64_url(s: &str) -> String {
        const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let b = s.as_bytes();
        let mut out = String::new();
        for chunk in b.chunks(3) {
            let n =
                chunk.iter().fold(0u32, |acc, &x| (acc << 8) | x as u32) << (8 * (3 - chunk.len()));
            for i in 0..=chunk.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            }
        }
        out
    }
}
