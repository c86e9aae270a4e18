//! Field checks for request bodies: collect every problem, answer one 400 with `details`.

use crate::http::error::{ApiError, ErrorDetail};

/// Collects field problems; `finish` turns them into a 400 `VALIDATION_ERROR`.
#[derive(Default)]
pub struct Checks {
    details: Vec<ErrorDetail>,
}

impl Checks {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn fail(&mut self, field: &str, code: &str, issue: impl Into<String>) {
        self.details.push(ErrorDetail {
            field: field.into(),
            code: code.into(),
            issue: issue.into(),
        });
    }

    /// Length in characters within `min..=max`, after trimming.
    pub fn text(&mut self, field: &str, value: &str, min: usize, max: usize) {
        let n = value.trim().chars().count();
        if n < min {
            self.fail(
                field,
                "too_small",
                format!("debe tener al menos {min} caracteres"),
            );
        } else if n > max {
            self.fail(
                field,
                "too_big",
                format!("debe tener como máximo {max} caracteres"),
            );
        }
    }

    pub fn opt_text(&mut self, field: &str, value: Option<&str>, min: usize, max: usize) {
        if let Some(v) = value {
            self.text(field, v, min, max);
        }
    }

    /// A plausible e-mail address (one `@`, a dot in the domain, no spaces), at most 254 chars.
    pub fn opt_email(&mut self, field: &str, value: Option<&str>) {
        let Some(v) = value else { return };
        let v = v.trim();
        let ok = v.len() <= 254
            && !v.contains(char::is_whitespace)
            && v.split_once('@').is_some_and(|(l, d)| {
                !l.is_empty()
                    && d.contains('.')
                    && !d.starts_with('.')
                    && !d.ends_with('.')
                    && !d.contains('@')
            });
        if !ok {
            self.fail(
                field,
                "invalid_format",
                "no es un correo electrónico válido",
            );
        }
    }

    /// Login names: 3–32 of letters, digits, `.`, `_`, `-`.
    pub fn username(&mut self, field: &str, value: &str) {
        let ok = (3..=32).contains(&value.chars().count())
            && value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if !ok {
            self.fail(
                field,
                "invalid_format",
                "debe tener de 3 a 32 letras, dígitos, puntos, guiones o guiones bajos",
            );
        }
    }

    /// New passwords: 8–128 characters.
    pub fn password(&mut self, field: &str, value: &str) {
        if let Err(e) = crate::domain::password::validate_new(value) {
            self.fail(field, "invalid_length", e.to_string());
        }
    }

    pub fn range_i64(&mut self, field: &str, value: Option<i64>, min: i64, max: i64) {
        if let Some(v) = value {
            if v < min || v > max {
                self.fail(
                    field,
                    "out_of_range",
                    format!("debe estar entre {min} y {max}"),
                );
            }
        }
    }

    pub fn non_negative(&mut self, field: &str, value: Option<rust_decimal::Decimal>) {
        if let Some(v) = value {
            if v.is_sign_negative() {
                self.fail(field, "too_small", "no puede ser negativo");
            } else if v.scale() > 2 && v.round_dp(2) != v {
                self.fail(field, "invalid_precision", "admite como máximo 2 decimales");
            }
        }
    }

    /// `Ok` when nothing failed, else a 400 naming the first problem.
    pub fn finish(self) -> Result<(), ApiError> {
        match self.details.first() {
            None => Ok(()),
            Some(first) => {
                let msg = format!(
                    "Error en la información enviada ({}): {}",
                    first.field, first.issue
                );
                Err(ApiError::bad_request("VALIDATION_ERROR", msg).with_details(self.details))
            }
        }
    }
}
