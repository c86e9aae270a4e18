//! A small typed-shape checker for JSON answers: a call's expectations are a table of
//! `(path, Kind)` rows, and every failure names its path.
//!
//! Paths are dot-separated keys from the root of the answer:
//! - `data.items[].status`: `[]` walks every element of an array that must not be empty (an
//!   empty array would make the rows under it assert nothing); `[]?` accepts an empty one;
//! - `data.bands.*.ganado`: `*` walks every value of an object that must not be empty;
//! - `data.totalWinningTickets|winnerTickets`: `|` accepts the first of several keys present
//!   (the aliases the app reads).
//!
//! A key is *present* when the object has it, even with `null`. [`Kind::Nullable`] allows `null`
//! but not absence; [`Kind::Optional`] allows both (fields the app reads with a fallback), and
//! an absent or `null` object on the way to an optional leaf is accepted too.

use serde_json::Value;

/// What a JSON value must be.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Str,
    Num,
    Bool,
    Arr,
    Obj,
    /// A string holding a UUID.
    Uuid,
    /// A string holding an RFC 3339 instant (`2026-03-02T12:55:00.000-06:00`, `…Z`).
    Instant,
    /// A string holding a calendar day (`YYYY-MM-DD`).
    Day,
    /// A string among these values.
    Enum(&'static [&'static str]),
    /// Present; `null` or the inner kind.
    Nullable(&'static Kind),
    /// May be absent or `null`; when it has a value, the inner kind.
    Optional(&'static Kind),
    /// Present, any value.
    Any,
}

pub use Kind::*;

pub const ROLES: &[&str] = &["ADMIN", "BANCA", "VENTANA", "VENDEDOR"];
pub const SORTEO_STATUSES: &[&str] = &["SCHEDULED", "OPEN", "EVALUATED", "CLOSED"];
pub const BET_TYPES: &[&str] = &["NUMERO", "REVENTADO"];
/// Ticket statuses (the app filters on ACTIVE, EVALUATED, PAID, CANCELLED and shows RESTORED).
pub const TICKET_STATUSES: &[&str] = &[
    "ACTIVE",
    "EVALUATED",
    "PAID",
    "PAGADO",
    "CANCELLED",
    "RESTORED",
    "EXCLUDED",
];
/// Payment methods as stored: the app's `system` (Sinpe Móvil) is kept as `cash`
/// (client-contract §1.6 item 4, behaviour of the existing system kept).
pub const PAYMENT_METHODS: &[&str] = &["cash", "check", "transfer", "other"];

/// The JSON type name of `v`, for messages.
fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn optional(kind: Kind) -> bool {
    matches!(kind, Kind::Optional(_))
}

/// Checks `root` against every row of `table`; returns one message per failure.
pub fn check(root: &Value, table: &[(&str, Kind)]) -> Vec<String> {
    let mut errors = Vec::new();
    for (path, kind) in table {
        let segments: Vec<&str> = if path.is_empty() {
            Vec::new()
        } else {
            path.split('.').collect()
        };
        walk(root, &segments, "", *kind, &mut errors);
    }
    errors
}

/// Checks `root` against `table` and panics with every failure, naming `call`.
pub fn expect(call: &str, root: &Value, table: &[(&str, Kind)]) {
    let errors = check(root, table);
    if !errors.is_empty() {
        let mut body = root.to_string();
        if body.len() > 3000 {
            let mut end = 3000;
            while !body.is_char_boundary(end) {
                end -= 1;
            }
            body.truncate(end);
            body.push('…');
        }
        panic!(
            "contract of {call}: {} problem(s):\n  {}\nanswer: {body}",
            errors.len(),
            errors.join("\n  ")
        );
    }
}

fn join(at: &str, key: &str) -> String {
    if at.is_empty() {
        key.to_string()
    } else {
        format!("{at}.{key}")
    }
}

fn walk(v: &Value, segments: &[&str], at: &str, kind: Kind, errors: &mut Vec<String>) {
    let Some((segment, rest)) = segments.split_first() else {
        leaf(v, at, kind, errors);
        return;
    };
    let (name, each) = if let Some(n) = segment.strip_suffix("[]?") {
        (n, Some(true))
    } else if let Some(n) = segment.strip_suffix("[]") {
        (n, Some(false))
    } else {
        (*segment, None)
    };

    if name == "*" {
        match v {
            Value::Object(m) if !m.is_empty() => {
                for (k, child) in m {
                    walk(child, rest, &join(at, k), kind, errors);
                }
            }
            Value::Null if optional(kind) => {}
            Value::Object(_) => errors.push(format!("{}: empty object", join(at, "*"))),
            other => errors.push(format!(
                "{}: expected an object, got {}",
                if at.is_empty() { "<root>" } else { at },
                type_name(other)
            )),
        }
        return;
    }

    let (child, here) = if name.is_empty() {
        (v, at.to_string())
    } else {
        match v {
            Value::Object(m) => {
                let found = name.split('|').find_map(|k| m.get(k).map(|c| (k, c)));
                match found {
                    Some((k, c)) => (c, join(at, k)),
                    None if optional(kind) => return,
                    None => {
                        errors.push(format!("{}: missing", join(at, name)));
                        return;
                    }
                }
            }
            Value::Null if optional(kind) => return,
            other => {
                errors.push(format!(
                    "{}: expected an object holding `{name}`, got {}",
                    if at.is_empty() { "<root>" } else { at },
                    type_name(other)
                ));
                return;
            }
        }
    };

    match each {
        None => walk(child, rest, &here, kind, errors),
        Some(may_be_empty) => match child {
            Value::Array(items) => {
                if items.is_empty() && !may_be_empty {
                    errors.push(format!("{here}[]: empty array"));
                }
                for (i, item) in items.iter().enumerate() {
                    walk(item, rest, &format!("{here}[{i}]"), kind, errors);
                }
            }
            Value::Null if optional(kind) => {}
            other => errors.push(format!(
                "{here}: expected an array, got {}",
                type_name(other)
            )),
        },
    }
}

fn leaf(v: &Value, at: &str, kind: Kind, errors: &mut Vec<String>) {
    let at = if at.is_empty() { "<root>" } else { at };
    let ok = match kind {
        Kind::Nullable(inner) | Kind::Optional(inner) => {
            if !v.is_null() {
                leaf(v, at, *inner, errors);
            }
            return;
        }
        Kind::Any => true,
        Kind::Str => v.is_string(),
        Kind::Num => v.is_number(),
        Kind::Bool => v.is_boolean(),
        Kind::Arr => v.is_array(),
        Kind::Obj => v.is_object(),
        Kind::Uuid => v.as_str().is_some_and(|s| uuid::Uuid::parse_str(s).is_ok()),
        Kind::Instant => v
            .as_str()
            .is_some_and(|s| chrono::DateTime::parse_from_rfc3339(s).is_ok()),
        Kind::Day => v
            .as_str()
            .is_some_and(|s| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()),
        Kind::Enum(values) => {
            if let Some(s) = v.as_str() {
                if !values.contains(&s) {
                    errors.push(format!("{at}: {s:?} is not one of {values:?}"));
                }
                return;
            }
            false
        }
    };
    if !ok {
        errors.push(format!("{at}: expected {kind:?}, got {v}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn failures_name_the_path_and_what_was_found() {
        let v = json!({
            "data": [
                {"id": "6f1c9a2e-59f4-4a43-9d0b-2f4b8c0a1e11", "status": "OPEN", "n": 1},
                {"id": "not-a-uuid", "status": "LOST", "n": "1"}
            ],
            "meta": {"page": 1, "etag": null}
        });
        let errors = check(
            &v,
            &[
                ("data[].id", Uuid),
                ("data[].status", Enum(SORTEO_STATUSES)),
                ("data[].n", Num),
                ("meta.page", Num),
                ("meta.total", Num),
                ("meta.etag", Nullable(&Str)),
                ("meta.cacheHit", Optional(&Bool)),
            ],
        );
        assert_eq!(
            errors,
            vec![
                "data[1].id: expected Uuid, got \"not-a-uuid\"".to_string(),
                format!("data[1].status: \"LOST\" is not one of {SORTEO_STATUSES:?}"),
                "data[1].n: expected Num, got \"1\"".to_string(),
                "meta.total: missing".to_string(),
            ]
        );
    }

    #[test]
    fn arrays_objects_aliases_and_optional_chains() {
        let v = json!({
            "empty": [],
            "bands": {"80": {"ganado": 5}, "90": {"ganado": "x"}},
            "row": {"winnerTickets": 2, "settings": null},
            "when": "2026-03-02T12:55:00.000-06:00",
            "day": "2026-03-02"
        });
        let errors = check(
            &v,
            &[
                ("empty[].id", Uuid),
                ("empty[]?.id", Uuid),
                ("bands.*.ganado", Num),
                ("row.totalWinningTickets|winnerTickets", Num),
                ("row.totalPaidTickets|paidTickets", Num),
                ("row.settings.print.name", Optional(&Str)),
                ("row.settings.theme", Str),
                ("when", Instant),
                ("day", Day),
                ("day", Instant),
            ],
        );
        assert_eq!(
            errors,
            vec![
                "empty[]: empty array".to_string(),
                "bands.90.ganado: expected Num, got \"x\"".to_string(),
                "row.totalPaidTickets|paidTickets: missing".to_string(),
                "row.settings: expected an object holding `theme`, got null".to_string(),
                "day: expected Instant, got \"2026-03-02\"".to_string(),
            ]
        );
    }
}
