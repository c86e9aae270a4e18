//! Password rules and hashing: argon2id for new hashes; bcrypt hashes from the existing
//! system still verify (and the caller re-hashes them on successful login).

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;

/// Shortest password accepted for a new or changed password.
pub const MIN_PASSWORD_LEN: usize = 8;
/// Longest password accepted (bounds hashing work on hostile input).
pub const MAX_PASSWORD_LEN: usize = 128;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PasswordError {
    #[error("la contraseña debe tener al menos {MIN_PASSWORD_LEN} caracteres")]
    TooShort,
    #[error("la contraseña no puede tener más de {MAX_PASSWORD_LEN} caracteres")]
    TooLong,
    #[error("no se pudo calcular el hash de la contraseña")]
    Hashing,
}

/// Checks the length rules of a new password.
pub fn validate_new(password: &str) -> Result<(), PasswordError> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_LEN {
        Err(PasswordError::TooShort)
    } else if n > MAX_PASSWORD_LEN {
        Err(PasswordError::TooLong)
    } else {
        Ok(())
    }
}

/// Hashes a password with argon2id (PHC string).
pub fn hash(password: &str) -> Result<String, PasswordError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|_| PasswordError::Hashing)
}

/// Result of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verified {
    No,
    Yes,
    /// Correct, but stored in a legacy format (bcrypt): store a fresh argon2id hash.
    YesNeedsRehash,
}

/// Verifies a password against an argon2id or bcrypt hash. Unknown formats never verify.
pub fn verify(password: &str, stored: &str) -> Verified {
    if stored.starts_with("$2a$") || stored.starts_with("$2b$") || stored.starts_with("$2y$") {
        return match bcrypt::verify(password, stored) {
            Ok(true) => Verified::YesNeedsRehash,
            _ => Verified::No,
        };
    }
    match PasswordHash::new(stored) {
        Ok(parsed)
            if Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok() =>
        {
            Verified::Yes
        }
        _ => Verified::No,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argon2id_round_trip() {
        let h = hash("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert_eq!(verify("correct horse", &h), Verified::Yes);
        assert_eq!(verify("wrong horse", &h), Verified::No);
    }

    #[test]
    fn bcrypt_from_the_existing_system_verifies_and_asks_for_rehash() {
        let legacy = bcrypt::hash("clave-vieja", 4).unwrap();
        assert_eq!(verify("clave-vieja", &legacy), Verified::YesNeedsRehash);
        assert_eq!(verify("otra", &legacy), Verified::No);
        assert_eq!(verify("x", "plaintext"), Verified::No);
    }

    #[test]
    fn length_rules() {
        assert_eq!(validate_new("short"), Err(PasswordError::TooShort));
        assert_eq!(validate_new(&"x".repeat(129)), Err(PasswordError::TooLong));
        assert!(validate_new("ocho1234").is_ok());
    }
}
