//! Field checks for request bodies: collect every problem, answer one 400 with `details`.

use serde_json::Value;

use crate::http::error::{ApiError, ErrorDetail};

/// A Bluetooth MAC address: `AA:BB:CC:DD:EE:FF` or 8 hex digits (the printers' short form).
fn is_mac(v: &str) -> bool {
    let hex = |s: &str| s.chars().all(|c| c.is_ascii_hexdigit());
    let parts: Vec<&str> = v.split(':').collect();
    (parts.len() == 6 && parts.iter().all(|p| p.len() == 2 && hex(p))) || (v.len() == 8 && hex(v))
}

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

    /// An optional JSON text of at most `max` characters (`null` allowed).
    fn json_text(&mut self, field: &str, v: Option<&Value>, max: usize) {
        match v {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) => self.text(field, s, 0, max),
            Some(_) => self.fail(field, "invalid_type", "debe ser texto o null"),
        }
    }

    fn unknown_keys(&mut self, field: &str, obj: &serde_json::Map<String, Value>, known: &[&str]) {
        let extra: Vec<&str> = obj
            .keys()
            .map(String::as_str)
            .filter(|k| !known.contains(k))
            .collect();
        if !extra.is_empty() {
            self.fail(
                field,
                "unrecognized_keys",
                format!("Claves no permitidas: {}", extra.join(", ")),
            );
        }
    }

    /// The `settings` object of users and ventanas: `{print?{name ≤100, phone ≤32, width 58|88,
    /// footer ≤200, barcode, bluetoothMacAddress}, theme? light|dark, system?{}}` (`system`
    /// only where `allow_system`); every leaf may be `null` (it removes the key on update).
    pub fn settings(&mut self, v: &Value, allow_system: bool) {
        let Some(obj) = v.as_object() else {
            self.fail("settings", "invalid_type", "debe ser un objeto o null");
            return;
        };
        let top: &[&str] = if allow_system {
            &["print", "theme", "system"]
        } else {
            &["print", "theme"]
        };
        self.unknown_keys("settings", obj, top);
        match obj.get("print") {
            None | Some(Value::Null) => {}
            Some(Value::Object(p)) => {
                self.unknown_keys(
                    "settings.print",
                    p,
                    &[
                        "name",
                        "phone",
                        "width",
                        "footer",
                        "barcode",
                        "bluetoothMacAddress",
                    ],
                );
                self.json_text("settings.print.name", p.get("name"), 100);
                self.json_text("settings.print.phone", p.get("phone"), 32);
                self.json_text("settings.print.footer", p.get("footer"), 200);
                match p.get("width") {
                    None | Some(Value::Null) => {}
                    Some(w) if w.as_i64() == Some(58) || w.as_i64() == Some(88) => {}
                    Some(_) => {
                        self.fail("settings.print.width", "invalid_value", "debe ser 58 u 88")
                    }
                }
                match p.get("barcode") {
                    None | Some(Value::Null) | Some(Value::Bool(_)) => {}
                    Some(_) => self.fail(
                        "settings.print.barcode",
                        "invalid_type",
                        "debe ser true, false o null",
                    ),
                }
                match p.get("bluetoothMacAddress") {
                    None | Some(Value::Null) => {}
                    Some(Value::String(s)) if s.trim().is_empty() || is_mac(s.trim()) => {}
                    Some(_) => self.fail(
                        "settings.print.bluetoothMacAddress",
                        "invalid_format",
                        "Formato inválido. Usa AA:BB:CC:DD:EE:FF o AABBCCDD",
                    ),
                }
            }
            Some(_) => self.fail(
                "settings.print",
                "invalid_type",
                "debe ser un objeto o null",
            ),
        }
        match obj.get("theme") {
            None | Some(Value::Null) => {}
            Some(Value::String(t)) if t == "light" || t == "dark" => {}
            Some(_) => self.fail(
                "settings.theme",
                "invalid_enum_value",
                "debe ser light, dark o null",
            ),
        }
        if allow_system {
            match obj.get("system") {
                None | Some(Value::Null) | Some(Value::Object(_)) => {}
                Some(_) => self.fail(
                    "settings.system",
                    "invalid_type",
                    "debe ser un objeto o null",
                ),
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
