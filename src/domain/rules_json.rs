//! The typed `rulesJson` of a lotería: every key of domain-sales §2 plus the ones the client
//! edits (`commissionRules`, `display`, `reventadoConfig.allowedMultiplierIds`). A write is
//! checked against it: a key of the wrong type, a time that is not `HH:MM` or a minimum above
//! its maximum is an issue naming the key path (`salesHours.monday.start`,
//! `drawSchedules[1].times[0]`). Keys it does not know are kept as they are, so the stored
//! object is the object the client sent. `null` means "not set" for every key.
//!
//! Decision: **`reventadoConfig.enabled` absent means `false`** (REVENTADO disabled) everywhere
//! — selling, evaluation and the `reventadoEnabled` flag of sorteo listings. The existing
//! system allowed REVENTADO sales unless the flag was exactly `false` while its other modules
//! read a missing flag as disabled; Banca reads it one way.

use std::str::FromStr;

use chrono::NaiveTime;
use rust_decimal::Decimal;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::domain::schedule::{DrawSchedule, Frequency};

/// One problem in a `rulesJson` object. `path` is relative to `rulesJson`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleIssue {
    pub path: String,
    pub code: &'static str,
    pub issue: String,
}

/// A bet kind as `allowedBetTypes` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BetType {
    Numero,
    Reventado,
}

/// `numberRange`: the sellable numbers, both bounds inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NumberRange {
    pub min: u32,
    pub max: u32,
}

/// `reventadoConfig`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReventadoConfig {
    /// Absent means `false` (see the module notes).
    pub enabled: bool,
    pub requires_matching_number: bool,
    pub colors: Vec<String>,
    pub allowed_multiplier_ids: Option<Vec<Uuid>>,
}

/// A day's sales window of `salesHours`; a missing bound is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SalesWindow {
    pub start: Option<NaiveTime>,
    pub end: Option<NaiveTime>,
}

/// `commissionRules` (UI defaults; commissions come from the commission policies).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommissionRules {
    pub ventana_percentage: Option<Decimal>,
    pub vendedor_percentage: Option<Decimal>,
    pub bonus_threshold: Option<Decimal>,
}

/// The day keys of `salesHours`, Sunday first (index = days from Sunday).
pub const DAY_KEYS: [&str; 7] = [
    "sunday",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
];

/// A lotería's rules, typed. Built by [`LoteriaRules::parse`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoteriaRules {
    pub number_range: Option<NumberRange>,
    pub min_bet_amount: Option<Decimal>,
    pub max_bet_amount: Option<Decimal>,
    pub max_numbers_per_ticket: Option<u32>,
    /// `None` or empty: every bet type.
    pub allowed_bet_types: Option<Vec<BetType>>,
    pub reventado: ReventadoConfig,
    /// `salesHours` per day, Sunday first; `None` means open all day.
    pub sales_hours: [Option<SalesWindow>; 7],
    /// Minutes.
    pub closing_time_before_draw: Option<u32>,
    pub base_multiplier_x: Option<Decimal>,
    /// 2 or 3 (default 2).
    pub digits: u8,
    pub draw_schedule: Option<DrawSchedule>,
    pub draw_schedules: Vec<DrawSchedule>,
    pub auto_create_sorteos: Option<bool>,
    pub commission_rules: CommissionRules,
}

impl LoteriaRules {
    /// Reads a `rulesJson` object; every problem is reported, not only the first.
    pub fn parse(value: &Value) -> Result<LoteriaRules, Vec<RuleIssue>> {
        let mut p = Parser::default();
        let empty = Map::new();
        let root = match value {
            Value::Null => &empty,
            Value::Object(m) => m,
            _ => {
                p.fail("", "invalid_type", "debe ser un objeto JSON");
                return Err(p.issues);
            }
        };
        let digits = match p.int(root, "digits", "digits", 2, 3) {
            Some(d) => d as u8,
            None => 2,
        };
        let rules = LoteriaRules {
            number_range: p.number_range(root, digits),
            min_bet_amount: p.positive(root, "minBetAmount", "minBetAmount"),
            max_bet_amount: p.positive(root, "maxBetAmount", "maxBetAmount"),
            max_numbers_per_ticket: p
                .int(
                    root,
                    "maxNumbersPerTicket",
                    "maxNumbersPerTicket",
                    1,
                    10_000,
                )
                .map(|n| n as u32),
            allowed_bet_types: p.bet_types(root),
            reventado: p.reventado(root),
            sales_hours: p.sales_hours(root),
            closing_time_before_draw: p
                .int(
                    root,
                    "closingTimeBeforeDraw",
                    "closingTimeBeforeDraw",
                    0,
                    1440,
                )
                .map(|n| n as u32),
            base_multiplier_x: p.positive(root, "baseMultiplierX", "baseMultiplierX"),
            digits,
            draw_schedule: p
                .object(root, "drawSchedule", "drawSchedule")
                .and_then(|o| p.draw_schedule(o, "drawSchedule")),
            draw_schedules: p.draw_schedules(root),
            auto_create_sorteos: p.bool(root, "autoCreateSorteos", "autoCreateSorteos"),
            commission_rules: p.commission_rules(root),
        };
        p.display(root);
        if let (Some(min), Some(max)) = (rules.min_bet_amount, rules.max_bet_amount) {
            if min > max {
                p.fail(
                    "minBetAmount",
                    "invalid_range",
                    "debe ser menor o igual que maxBetAmount",
                );
            }
        }
        if p.issues.is_empty() {
            Ok(rules)
        } else {
            Err(p.issues)
        }
    }

    /// The draw blocks that generate sorteos: `drawSchedules` when it has any, else
    /// `drawSchedule`.
    pub fn schedules(&self) -> &[DrawSchedule] {
        if !self.draw_schedules.is_empty() {
            &self.draw_schedules
        } else {
            self.draw_schedule.as_slice()
        }
    }
}

/// `rulesJson.digits` when it is 2 or 3, else 2. For stored objects (never fails).
pub fn digits_of(rules: &Value) -> u8 {
    // 3 and 3.0 alike, as the validator accepts both.
    match rules.get("digits").and_then(Value::as_f64) {
        Some(3.0) => 3,
        _ => 2,
    }
}

/// `rulesJson.reventadoConfig.enabled == true`; absent or anything else is `false`.
pub fn reventado_enabled(rules: &Value) -> bool {
    rules
        .get("reventadoConfig")
        .and_then(|r| r.get("enabled"))
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

/// Parses `"HH:MM"` (00–23, 00–59, exactly two digits each).
pub fn parse_hhmm(s: &str) -> Option<NaiveTime> {
    let b = s.as_bytes();
    if b.len() != 5
        || b[2] != b':'
        || !b
            .iter()
            .enumerate()
            .all(|(i, c)| i == 2 || c.is_ascii_digit())
    {
        return None;
    }
    let h = u32::from(b[0] - b'0') * 10 + u32::from(b[1] - b'0');
    let m = u32::from(b[3] - b'0') * 10 + u32::from(b[4] - b'0');
    NaiveTime::from_hms_opt(h, m, 0)
}

fn decimal_of(n: &serde_json::Number) -> Option<Decimal> {
    let s = n.to_string();
    Decimal::from_str(&s)
        .ok()
        .or_else(|| Decimal::from_scientific(&s).ok())
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "booleano",
        Value::Number(_) => "número",
        Value::String(_) => "texto",
        Value::Array(_) => "lista",
        Value::Object(_) => "objeto",
    }
}

#[derive(Default)]
struct Parser {
    issues: Vec<RuleIssue>,
}

/// `key` of `obj`, with `null` read as absent.
fn get<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    obj.get(key).filter(|v| !v.is_null())
}

impl Parser {
    fn fail(&mut self, path: &str, code: &'static str, issue: impl Into<String>) {
        self.issues.push(RuleIssue {
            path: path.to_string(),
            code,
            issue: issue.into(),
        });
    }

    fn wrong_type(&mut self, path: &str, want: &str, got: &Value) {
        self.fail(
            path,
            "invalid_type",
            format!("debe ser {want} (se recibió {})", type_name(got)),
        );
    }

    fn object<'a>(
        &mut self,
        obj: &'a Map<String, Value>,
        key: &str,
        path: &str,
    ) -> Option<&'a Map<String, Value>> {
        match get(obj, key)? {
            Value::Object(m) => Some(m),
            other => {
                self.wrong_type(path, "un objeto", other);
                None
            }
        }
    }

    fn array<'a>(
        &mut self,
        obj: &'a Map<String, Value>,
        key: &str,
        path: &str,
    ) -> Option<&'a Vec<Value>> {
        match get(obj, key)? {
            Value::Array(a) => Some(a),
            other => {
                self.wrong_type(path, "una lista", other);
                None
            }
        }
    }

    fn bool(&mut self, obj: &Map<String, Value>, key: &str, path: &str) -> Option<bool> {
        match get(obj, key)? {
            Value::Bool(b) => Some(*b),
            other => {
                self.wrong_type(path, "true o false", other);
                None
            }
        }
    }

    fn text(&mut self, obj: &Map<String, Value>, key: &str, path: &str) {
        if let Some(v) = get(obj, key) {
            if !v.is_string() {
                self.wrong_type(path, "texto", v);
            }
        }
    }

    /// A number of `obj[key]`.
    fn number(&mut self, obj: &Map<String, Value>, key: &str, path: &str) -> Option<Decimal> {
        match get(obj, key)? {
            Value::Number(n) => match decimal_of(n) {
                Some(d) => Some(d),
                None => {
                    self.fail(path, "out_of_range", "número fuera de rango");
                    None
                }
            },
            other => {
                self.wrong_type(path, "un número", other);
                None
            }
        }
    }

    /// A number greater than zero.
    fn positive(&mut self, obj: &Map<String, Value>, key: &str, path: &str) -> Option<Decimal> {
        let v = self.number(obj, key, path)?;
        if v <= Decimal::ZERO {
            self.fail(path, "too_small", "debe ser mayor que 0");
            return None;
        }
        Some(v)
    }

    /// A number within `min..=max`.
    fn bounded(
        &mut self,
        obj: &Map<String, Value>,
        key: &str,
        path: &str,
        min: Decimal,
        max: Decimal,
    ) -> Option<Decimal> {
        let v = self.number(obj, key, path)?;
        if v < min || v > max {
            self.fail(
                path,
                "out_of_range",
                format!("debe estar entre {min} y {max}"),
            );
            return None;
        }
        Some(v)
    }

    fn int_value(&mut self, v: &Value, path: &str, min: i64, max: i64) -> Option<i64> {
        let n = match v {
            Value::Number(n) => n.as_i64().or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 1e15)
                    .map(|f| f as i64)
            }),
            other => {
                self.wrong_type(path, "un número entero", other);
                return None;
            }
        };
        match n {
            None => {
                self.fail(path, "invalid_type", "debe ser un número entero");
                None
            }
            Some(n) if n < min || n > max => {
                self.fail(
                    path,
                    "out_of_range",
                    format!("debe estar entre {min} y {max}"),
                );
                None
            }
            Some(n) => Some(n),
        }
    }

    fn int(
        &mut self,
        obj: &Map<String, Value>,
        key: &str,
        path: &str,
        min: i64,
        max: i64,
    ) -> Option<i64> {
        let v = get(obj, key)?;
        self.int_value(v, path, min, max)
    }

    /// An `"HH:MM"` string; `""` is read as absent (the client sends it for an empty field).
    fn hhmm_value(&mut self, v: &Value, path: &str) -> Option<NaiveTime> {
        match v {
            Value::String(s) if s.is_empty() => None,
            Value::String(s) => {
                let t = parse_hhmm(s);
                if t.is_none() {
                    self.fail(
                        path,
                        "invalid_format",
                        format!("debe ser una hora HH:MM de 24 horas (se recibió {s:?})"),
                    );
                }
                t
            }
            other => {
                self.wrong_type(path, "una hora \"HH:MM\"", other);
                None
            }
        }
    }

    fn number_range(&mut self, root: &Map<String, Value>, digits: u8) -> Option<NumberRange> {
        let o = self.object(root, "numberRange", "numberRange")?;
        let top = if digits == 3 { 999 } else { 99 };
        let min = match get(o, "min") {
            Some(v) => self.int_value(v, "numberRange.min", 0, top),
            None => {
                self.fail("numberRange.min", "required", "es obligatorio");
                None
            }
        };
        let max = match get(o, "max") {
            Some(v) => self.int_value(v, "numberRange.max", 0, top),
            None => {
                self.fail("numberRange.max", "required", "es obligatorio");
                None
            }
        };
        let (min, max) = (min?, max?);
        if min > max {
            self.fail(
                "numberRange.min",
                "invalid_range",
                "debe ser menor o igual que numberRange.max",
            );
            return None;
        }
        Some(NumberRange {
            min: min as u32,
            max: max as u32,
        })
    }

    fn bet_types(&mut self, root: &Map<String, Value>) -> Option<Vec<BetType>> {
        let items = self.array(root, "allowedBetTypes", "allowedBetTypes")?;
        let mut out = Vec::new();
        for (i, v) in items.iter().enumerate() {
            let path = format!("allowedBetTypes[{i}]");
            match v.as_str() {
                Some("NUMERO") => out.push(BetType::Numero),
                Some("REVENTADO") => out.push(BetType::Reventado),
                _ => self.fail(&path, "invalid_enum", "debe ser NUMERO o REVENTADO"),
            }
        }
        Some(out)
    }

    fn reventado(&mut self, root: &Map<String, Value>) -> ReventadoConfig {
        let Some(o) = self.object(root, "reventadoConfig", "reventadoConfig") else {
            return ReventadoConfig::default();
        };
        let mut cfg = ReventadoConfig {
            enabled: self
                .bool(o, "enabled", "reventadoConfig.enabled")
                .unwrap_or(false),
            requires_matching_number: self
                .bool(
                    o,
                    "requiresMatchingNumber",
                    "reventadoConfig.requiresMatchingNumber",
                )
                .unwrap_or(false),
            ..ReventadoConfig::default()
        };
        if let Some(colors) = self.array(o, "colors", "reventadoConfig.colors") {
            for (i, c) in colors.iter().enumerate() {
                match c.as_str() {
                    Some(s @ ("ROJA" | "VERDE")) => cfg.colors.push(s.to_string()),
                    _ => self.fail(
                        &format!("reventadoConfig.colors[{i}]"),
                        "invalid_enum",
                        "debe ser ROJA o VERDE",
                    ),
                }
            }
        }
        if let Some(ids) = self.array(
            o,
            "allowedMultiplierIds",
            "reventadoConfig.allowedMultiplierIds",
        ) {
            let mut out = Vec::new();
            for (i, v) in ids.iter().enumerate() {
                match v.as_str().and_then(|s| Uuid::parse_str(s).ok()) {
                    Some(id) => out.push(id),
                    None => self.fail(
                        &format!("reventadoConfig.allowedMultiplierIds[{i}]"),
                        "invalid_format",
                        "debe ser un UUID",
                    ),
                }
            }
            cfg.allowed_multiplier_ids = Some(out);
        }
        cfg
    }

    fn sales_hours(&mut self, root: &Map<String, Value>) -> [Option<SalesWindow>; 7] {
        let mut out = [None; 7];
        let Some(o) = self.object(root, "salesHours", "salesHours") else {
            return out;
        };
        for (key, v) in o {
            let path = format!("salesHours.{key}");
            let Some(day) = DAY_KEYS.iter().position(|d| d == key) else {
                self.fail(
                    &path,
                    "unknown_key",
                    "día desconocido (sunday, monday, tuesday, wednesday, thursday, friday o saturday)",
                );
                continue;
            };
            let w = match v {
                Value::Null => continue,
                Value::Object(w) => w,
                other => {
                    self.wrong_type(&path, "un objeto {start, end}", other);
                    continue;
                }
            };
            let start = get(w, "start").and_then(|s| self.hhmm_value(s, &format!("{path}.start")));
            let end = get(w, "end").and_then(|s| self.hhmm_value(s, &format!("{path}.end")));
            if let (Some(s), Some(e)) = (start, end) {
                if s > e {
                    self.fail(
                        &format!("{path}.start"),
                        "invalid_range",
                        "la hora de inicio debe ser anterior o igual a la de fin",
                    );
                }
            }
            out[day] = Some(SalesWindow { start, end });
        }
        out
    }

    fn draw_schedule(&mut self, o: &Map<String, Value>, path: &str) -> Option<DrawSchedule> {
        let before = self.issues.len();
        let frequency = match get(o, "frequency") {
            None => Frequency::Diario,
            Some(Value::String(s)) => Frequency::parse(s).unwrap_or_else(|| {
                self.fail(
                    &format!("{path}.frequency"),
                    "invalid_enum",
                    "debe ser diario, semanal o personalizado",
                );
                Frequency::Diario
            }),
            Some(other) => {
                self.wrong_type(&format!("{path}.frequency"), "texto", other);
                Frequency::Diario
            }
        };
        let mut times = Vec::new();
        if let Some(items) = self.array(o, "times", &format!("{path}.times")) {
            for (i, v) in items.iter().enumerate() {
                let p = format!("{path}.times[{i}]");
                match v {
                    Value::String(s) if s.is_empty() => {
                        self.fail(&p, "invalid_format", "debe ser una hora HH:MM de 24 horas")
                    }
                    _ => times.extend(self.hhmm_value(v, &p)),
                }
            }
        }
        let days_of_week = self
            .array(o, "daysOfWeek", &format!("{path}.daysOfWeek"))
            .map(|items| {
                items
                    .iter()
                    .enumerate()
                    .filter_map(|(i, v)| {
                        self.int_value(v, &format!("{path}.daysOfWeek[{i}]"), 0, 6)
                            .map(|d| d as u8)
                    })
                    .collect()
            });
        (self.issues.len() == before).then_some(DrawSchedule {
            frequency,
            times,
            days_of_week,
        })
    }

    fn draw_schedules(&mut self, root: &Map<String, Value>) -> Vec<DrawSchedule> {
        let Some(items) = self.array(root, "drawSchedules", "drawSchedules") else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, v) in items.iter().enumerate() {
            let path = format!("drawSchedules[{i}]");
            match v {
                Value::Object(o) => out.extend(self.draw_schedule(o, &path)),
                other => self.wrong_type(&path, "un objeto", other),
            }
        }
        out
    }

    fn commission_rules(&mut self, root: &Map<String, Value>) -> CommissionRules {
        let Some(o) = self.object(root, "commissionRules", "commissionRules") else {
            return CommissionRules::default();
        };
        let hundred = Decimal::from(100);
        CommissionRules {
            ventana_percentage: self.bounded(
                o,
                "ventanaPercentage",
                "commissionRules.ventanaPercentage",
                Decimal::ZERO,
                hundred,
            ),
            vendedor_percentage: self.bounded(
                o,
                "vendedorPercentage",
                "commissionRules.vendedorPercentage",
                Decimal::ZERO,
                hundred,
            ),
            bonus_threshold: self.bounded(
                o,
                "bonusThreshold",
                "commissionRules.bonusThreshold",
                Decimal::ZERO,
                Decimal::MAX,
            ),
        }
    }

    fn display(&mut self, root: &Map<String, Value>) {
        let Some(o) = self.object(root, "display", "display") else {
            return;
        };
        for key in ["color", "icon", "description"] {
            self.text(o, key, &format!("display.{key}"));
        }
        self.bool(o, "featured", "display.featured");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn issues(v: Value) -> Vec<(String, &'static str)> {
        LoteriaRules::parse(&v)
            .unwrap_err()
            .into_iter()
            .map(|i| (i.path, i.code))
            .collect()
    }

    #[test]
    fn a_full_object_reads_and_unknown_keys_are_tolerated() {
        let v = json!({
            "numberRange": {"min": 0, "max": 99},
            "minBetAmount": 100, "maxBetAmount": 5000.5,
            "maxNumbersPerTicket": 10,
            "allowedBetTypes": ["NUMERO", "REVENTADO"],
            "reventadoConfig": {"enabled": true, "requiresMatchingNumber": true,
                                "colors": ["ROJA"], "allowedMultiplierIds": []},
            "salesHours": {"monday": {"start": "06:00", "end": "12:50"},
                           "sunday": {"start": "", "end": ""}, "friday": null},
            "closingTimeBeforeDraw": 5,
            "baseMultiplierX": 90,
            "digits": 2,
            "drawSchedule": {"frequency": "diario", "times": ["12:55", "16:30", "19:30"]},
            "autoCreateSorteos": true,
            "display": {"color": "#ff0000", "featured": true},
            "commissionRules": {"ventanaPercentage": 10},
            "somethingNew": {"x": 1}
        });
        let r = LoteriaRules::parse(&v).unwrap();
        assert_eq!(r.number_range, Some(NumberRange { min: 0, max: 99 }));
        assert_eq!(r.max_bet_amount, Some(Decimal::new(50005, 1)));
        assert!(r.reventado.enabled);
        assert_eq!(r.sales_hours[1].unwrap().start, parse_hhmm("06:00"));
        assert_eq!(r.sales_hours[0], Some(SalesWindow::default()));
        assert_eq!(r.schedules().len(), 1);
        assert_eq!(r.schedules()[0].times.len(), 3);
    }

    #[test]
    fn reventado_is_disabled_unless_enabled_is_true() {
        assert!(!LoteriaRules::parse(&json!({})).unwrap().reventado.enabled);
        assert!(!reventado_enabled(&json!({})));
        assert!(!reventado_enabled(&json!({"reventadoConfig": {}})));
        assert!(!reventado_enabled(
            &json!({"reventadoConfig": {"enabled": "true"}})
        ));
        assert!(reventado_enabled(
            &json!({"reventadoConfig": {"enabled": true}})
        ));
    }

    #[test]
    fn wrong_types_name_the_key_path() {
        assert_eq!(
            issues(json!({"salesHours": {"monday": {"start": 600}}})),
            vec![("salesHours.monday.start".to_string(), "invalid_type")]
        );
        assert_eq!(
            issues(json!({"minBetAmount": "100", "digits": 4, "autoCreateSorteos": 1})),
            vec![
                ("digits".to_string(), "out_of_range"),
                ("minBetAmount".to_string(), "invalid_type"),
                ("autoCreateSorteos".to_string(), "invalid_type"),
            ]
        );
        assert_eq!(
            issues(
                json!({"drawSchedules": [{"times": ["12:00"]}, {"times": ["7:00"], "frequency": "mensual"}]})
            ),
            vec![
                ("drawSchedules[1].frequency".to_string(), "invalid_enum"),
                ("drawSchedules[1].times[0]".to_string(), "invalid_format"),
            ]
        );
        assert_eq!(
            issues(json!({"allowedBetTypes": ["NUMERO", "PALE"], "salesHours": {"moday": {}}})),
            vec![
                ("allowedBetTypes[1]".to_string(), "invalid_enum"),
                ("salesHours.moday".to_string(), "unknown_key"),
            ]
        );
        assert_eq!(issues(json!([1])), vec![(String::new(), "invalid_type")]);
    }

    #[test]
    fn ranges_and_amounts() {
        assert_eq!(
            issues(json!({"numberRange": {"min": 50, "max": 10}})),
            vec![("numberRange.min".to_string(), "invalid_range")]
        );
        assert_eq!(
            issues(json!({"numberRange": {"min": 0, "max": 999}})),
            vec![("numberRange.max".to_string(), "out_of_range")]
        );
        assert!(
            LoteriaRules::parse(&json!({"digits": 3, "numberRange": {"min": 0, "max": 999}}))
                .is_ok()
        );
        assert_eq!(
            issues(json!({"minBetAmount": 0, "maxBetAmount": -1})),
            vec![
                ("minBetAmount".to_string(), "too_small"),
                ("maxBetAmount".to_string(), "too_small"),
            ]
        );
        assert_eq!(
            issues(json!({"minBetAmount": 500, "maxBetAmount": 100})),
            vec![("minBetAmount".to_string(), "invalid_range")]
        );
        assert_eq!(
            issues(json!({"salesHours": {"monday": {"start": "18:00", "end": "06:00"}}})),
            vec![("salesHours.monday.start".to_string(), "invalid_range")]
        );
        assert_eq!(
            issues(json!({"drawSchedule": {"daysOfWeek": [0, 7]}})),
            vec![("drawSchedule.daysOfWeek[1]".to_string(), "out_of_range")]
        );
    }

    #[test]
    fn hhmm_is_strict() {
        assert!(parse_hhmm("00:00").is_some() && parse_hhmm("23:59").is_some());
        for bad in [
            "24:00", "12:60", "7:00", "07:0", "0700", "07:00:00", " 07:00", "ab:cd",
        ] {
            assert!(parse_hhmm(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn stored_digits_fall_back_to_two() {
        assert_eq!(digits_of(&json!({"digits": 3})), 3);
        assert_eq!(digits_of(&json!({"digits": 4})), 2);
        assert_eq!(digits_of(&json!({})), 2);
    }
}
