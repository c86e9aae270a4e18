//! Commission snapshot per jugada (`domain-sales.md` §3.7), pure: reading a stored commission
//! policy the lenient way selling reads it, matching a bet line against its rules, and the
//! seller (USER → VENTANA → BANCA) and listero (LISTERO → VENTANA → BANCA) chains.
//!
//! Money is exact ([`Decimal`]); every commission amount is rounded once with [`money`].

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{Map, Value};
use uuid::Uuid;

/// The type of a bet line (`NUMERO` or `REVENTADO`), shared with the multipliers module.
pub use crate::domain::multipliers::BetType;

// ---------------------------------------------------------------------------------------------
// Money

/// **The rounding rule of Banca** (spec decision 3): round to 2 decimals, half **away from
/// zero** (`33.335 → 33.34`, `−33.335 → −33.34`, `33.334 → 33.33`), on exact decimals.
///
/// Applied where the existing system rounds: each jugada's commission amounts. Sums of rounded
/// amounts are exact and are not re-rounded.
pub fn money(v: Decimal) -> Decimal {
    v.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// An amount as text with exactly 2 decimals after [`money`] (`190` → `"190.00"`): messages,
/// CSV cells.
pub fn money_text(v: Decimal) -> String {
    let mut x = money(v);
    x.rescale(2);
    x.to_string()
}

/// An amount as a spreadsheet number: XLSX cells only hold doubles, so this is the one place
/// an amount (after [`money`]) becomes a float, for display in a workbook.
pub fn money_cell(v: Decimal) -> f64 {
    use rust_decimal::prelude::ToPrimitive;
    money(v).to_f64().unwrap_or(0.0)
}

/// `part / whole × 100` rounded with [`money`] (0 when `whole` is 0): every percentage, ratio
/// and rate of the reports.
pub fn percent_of(part: Decimal, whole: Decimal) -> Decimal {
    if whole.is_zero() {
        Decimal::ZERO
    } else {
        money(part * Decimal::ONE_HUNDRED / whole)
    }
}

/// `total / count` rounded with [`money`] (0 when `count` is 0): averages per ticket, seller….
pub fn average(total: Decimal, count: i64) -> Decimal {
    if count == 0 {
        Decimal::ZERO
    } else {
        money(total / Decimal::from(count))
    }
}

/// `money(amount × percent / 100)`.
fn commission_amount(amount: Decimal, percent: Decimal) -> Decimal {
    money(amount * percent / Decimal::ONE_HUNDRED)
}

// ---------------------------------------------------------------------------------------------
// Policies

/// How a rule constrains one field of a bet line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RuleField<T> {
    /// The key is present and `null`: any value matches.
    Any,
    /// Only this value matches.
    Is(T),
    /// The key is absent: **nothing** matches (as in the reference, where `undefined !== null`
    /// and `undefined` equals no value). Only an explicit `null` means "any".
    Missing,
}

impl<T: PartialEq> RuleField<T> {
    /// Whether `value` satisfies this field.
    pub fn matches(&self, value: &T) -> bool {
        match self {
            RuleField::Any => true,
            RuleField::Is(v) => v == value,
            RuleField::Missing => false,
        }
    }
}

/// One rule of a commission policy, as read when selling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyRule {
    /// The rule id (a numeric JSON id is kept as its decimal text).
    pub id: String,
    pub loteria_id: RuleField<Uuid>,
    pub bet_type: RuleField<BetType>,
    /// `(min, max)`, both inclusive; `None` when the key is absent or `null`.
    pub multiplier_range: Option<(Decimal, Decimal)>,
    /// 0..=100.
    pub percent: Decimal,
}

impl PolicyRule {
    /// Whether a bet line of `kind` in `loteria_id` with `final_multiplier_x` matches: the
    /// lotería and bet type match, and — only when the rule's bet type is any or `NUMERO` — the
    /// range holds `min ≤ X ≤ max`. `REVENTADO` lines carry X = 0, so a rule of any bet type
    /// with a range excludes them (reference behaviour, kept).
    pub fn matches(&self, loteria_id: Uuid, kind: BetType, final_multiplier_x: Decimal) -> bool {
        let range_checked = matches!(
            self.bet_type,
            RuleField::Any | RuleField::Is(BetType::Numero)
        );
        self.loteria_id.matches(&loteria_id)
            && self.bet_type.matches(&kind)
            && (!range_checked
                || self.multiplier_range.is_none_or(|(min, max)| {
                    min <= final_multiplier_x && final_multiplier_x <= max
                }))
    }
}

/// A commission policy in force (stored on a Banca, Ventana or User; §3.7), read leniently by
/// [`parse_policy`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub version: i64,
    pub effective_from: Option<DateTime<Utc>>,
    pub effective_to: Option<DateTime<Utc>>,
    /// 0..=100; the percent when no rule matches.
    pub default_percent: Decimal,
    /// The usable rules, in policy order.
    pub rules: Vec<PolicyRule>,
}

impl Policy {
    /// The commission percent for a bet line and the id of the rule that gave it: the first
    /// rule in policy order that [matches](PolicyRule::matches), else `(default_percent, None)`.
    /// A policy therefore always yields a percent; the next level of a chain is never asked.
    pub fn find(
        &self,
        loteria_id: Uuid,
        kind: BetType,
        final_multiplier_x: Decimal,
    ) -> (Decimal, Option<String>) {
        self.rules
            .iter()
            .find(|r| r.matches(loteria_id, kind, final_multiplier_x))
            .map_or((self.default_percent, None), |r| {
                (r.percent, Some(r.id.clone()))
            })
    }
}

/// Reads a stored policy JSON the lenient way selling does (§3.7); `None` means "no policy".
///
/// The policy is `None` (absent) when `v` is `null` or not an object, or when it is invalid:
/// - `version` present but not a number (or not representable as an `i64` after dropping any
///   fraction); absent → 1;
/// - `defaultPercent` present but not a number in 0..=100 (`null` included); absent → 0;
/// - `effectiveFrom` / `effectiveTo` present, not `null` and not an instant (RFC 3339, or a
///   plain `YYYY-MM-DD` meaning its midnight UTC);
/// - `rules` present, not `null` and not an array; absent or `null` → no rules.
///
/// It is also `None` when not in force at `now`: not yet effective (`effectiveFrom > now`) or
/// expired (`effectiveTo < now`); both bounds are inclusive.
///
/// Each rule needs an `id` (a string, or a number kept as its text) and a `percent` (a number in
/// 0..=100). **A rule that lacks either, or is otherwise unusable, is skipped**; the rest of the
/// policy still applies. Unusable also covers: not an object; `loteriaId` neither `null` nor a
/// UUID string; `betType` neither `null`, `"NUMERO"` nor `"REVENTADO"`; `multiplierRange`
/// neither `null` nor `{"min": number, "max": number}`. An absent `loteriaId` or `betType` keeps
/// the rule, as [`RuleField::Missing`] (it never matches). Other keys (`multiplierId`, …) are
/// ignored: matching is by value.
pub fn parse_policy(v: &Value, now: DateTime<Utc>) -> Option<Policy> {
    let obj = v.as_object()?;
    let version = match obj.get("version") {
        None => 1,
        Some(v) => json_decimal(v)?.trunc().try_into().ok()?,
    };
    let default_percent = match obj.get("defaultPercent") {
        None => Decimal::ZERO,
        Some(v) => percent(v)?,
    };
    let effective_from = instant(obj.get("effectiveFrom"))?;
    let effective_to = instant(obj.get("effectiveTo"))?;
    let rules = match obj.get("rules") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(rules)) => rules.iter().filter_map(parse_rule).collect(),
        Some(_) => return None,
    };
    let started = effective_from.is_none_or(|from| from <= now);
    let not_ended = effective_to.is_none_or(|to| now <= to);
    (started && not_ended).then_some(Policy {
        version,
        effective_from,
        effective_to,
        default_percent,
        rules,
    })
}

/// One rule, or `None` when it is skipped (see [`parse_policy`]).
fn parse_rule(v: &Value) -> Option<PolicyRule> {
    let rule = v.as_object()?;
    let id = match rule.get("id")? {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    let percent = percent(rule.get("percent")?)?;
    let loteria_id = rule_field(rule, "loteriaId", |v| Uuid::parse_str(v.as_str()?).ok())?;
    let bet_type = rule_field(rule, "betType", |v| BetType::parse(v.as_str()?))?;
    let multiplier_range = match rule.get("multiplierRange") {
        None | Some(Value::Null) => None,
        Some(Value::Object(range)) => Some((
            json_decimal(range.get("min")?)?,
            json_decimal(range.get("max")?)?,
        )),
        Some(_) => return None,
    };
    Some(PolicyRule {
        id,
        loteria_id,
        bet_type,
        multiplier_range,
        percent,
    })
}

/// A rule field: absent → `Missing`, `null` → `Any`, else `Is(read(value))`; `None` when the
/// value does not read.
fn rule_field<T>(
    rule: &Map<String, Value>,
    key: &str,
    read: impl FnOnce(&Value) -> Option<T>,
) -> Option<RuleField<T>> {
    match rule.get(key) {
        None => Some(RuleField::Missing),
        Some(Value::Null) => Some(RuleField::Any),
        Some(v) => read(v).map(RuleField::Is),
    }
}

/// A JSON number in 0..=100.
fn percent(v: &Value) -> Option<Decimal> {
    json_decimal(v).filter(|p| (Decimal::ZERO..=Decimal::ONE_HUNDRED).contains(p))
}

/// A JSON number as an exact decimal: the shortest text of the number, so `0.1` is exactly
/// 0.1 (`90`, `92.5`, `1e2` read as written).
fn json_decimal(v: &Value) -> Option<Decimal> {
    let s = v.as_number()?.to_string();
    s.parse::<Decimal>()
        .ok()
        .or_else(|| Decimal::from_scientific(&s).ok())
}

/// An optional policy instant: `Some(None)` when absent or `null`, `None` when unreadable.
fn instant(v: Option<&Value>) -> Option<Option<DateTime<Utc>>> {
    match v {
        None | Some(Value::Null) => Some(None),
        Some(Value::String(s)) => {
            let s = s.trim();
            let at = DateTime::parse_from_rfc3339(s)
                .map(|t| t.with_timezone(&Utc))
                .ok()
                .or_else(|| {
                    NaiveDate::parse_from_str(s, "%Y-%m-%d")
                        .ok()
                        .map(|d| d.and_time(NaiveTime::MIN).and_utc())
                })?;
            Some(Some(at))
        }
        Some(_) => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Snapshot

/// Which policy gave a jugada's seller commission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Origin {
    User,
    Ventana,
    Banca,
}

impl Origin {
    /// The stored name (`jugadas.commission_origin`).
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::User => "USER",
            Origin::Ventana => "VENTANA",
            Origin::Banca => "BANCA",
        }
    }
}

/// The commissions stored on one jugada.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// The seller's commission percent (0 with no policy).
    pub percent: Decimal,
    /// `money(amount × percent / 100)`.
    pub amount: Decimal,
    /// The policy that gave `percent`; `None` with no policy.
    pub origin: Option<Origin>,
    /// The matching rule's id; `None` when the default percent applied or with no policy.
    pub rule_id: Option<String>,
    /// The listero's commission amount, `money(amount × listero percent / 100)`.
    pub listero_amount: Decimal,
}

/// The policies in force for one sale, each already read by [`parse_policy`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policies {
    /// The seller (vendedor) user's policy.
    pub user: Option<Policy>,
    pub ventana: Option<Policy>,
    pub banca: Option<Policy>,
    /// The listero user's policy.
    pub listero: Option<Policy>,
}

impl Policies {
    /// The commission snapshot of a bet line of `amount`:
    /// - seller: the first policy present among [user, ventana, banca] gives the percent, the
    ///   rule id and the origin; with none, 0 / no origin / no rule;
    /// - listero: the first present among [listero, ventana, banca]; only the amount is kept
    ///   (0 with none).
    pub fn snapshot(
        &self,
        loteria_id: Uuid,
        kind: BetType,
        final_multiplier_x: Decimal,
        amount: Decimal,
    ) -> Snapshot {
        let seller = [
            (&self.user, Origin::User),
            (&self.ventana, Origin::Ventana),
            (&self.banca, Origin::Banca),
        ]
        .into_iter()
        .find_map(|(p, origin)| p.as_ref().map(|p| (p, origin)));
        let (percent, rule_id, origin) = match seller {
            Some((p, origin)) => {
                let (percent, rule_id) = p.find(loteria_id, kind, final_multiplier_x);
                (percent, rule_id, Some(origin))
            }
            None => (Decimal::ZERO, None, None),
        };
        let listero_percent = [&self.listero, &self.ventana, &self.banca]
            .into_iter()
            .find_map(Option::as_ref)
            .map_or(Decimal::ZERO, |p| {
                p.find(loteria_id, kind, final_multiplier_x).0
            });
        Snapshot {
            percent,
            amount: commission_amount(amount, percent),
            origin,
            rule_id,
            listero_amount: commission_amount(amount, listero_percent),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn now() -> DateTime<Utc> {
        "2030-06-01T12:00:00Z".parse().unwrap()
    }

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn policy(v: Value) -> Policy {
        parse_policy(&v, now()).expect("policy in force")
    }

    /// A policy with only a default percent.
    fn flat(percent: &str) -> Policy {
        Policy {
            version: 1,
            effective_from: None,
            effective_to: None,
            default_percent: d(percent),
            rules: Vec::new(),
        }
    }

    fn ids(p: &Policy) -> Vec<&str> {
        p.rules.iter().map(|r| r.id.as_str()).collect()
    }

    #[test]
    fn money_rounds_half_away_from_zero_exactly() {
        assert_eq!(money(d("33.335")), d("33.34"));
        assert_eq!(money(d("-33.335")), d("-33.34"));
        assert_eq!(money(d("33.334")), d("33.33"));
        assert_eq!(money(d("33.3350000001")), d("33.34"));
        // 1.005 is 1.00499999999999989… as a double; exact here.
        assert_eq!(money(d("1.005")), d("1.01"));
        assert_eq!(money(d("0.1") + d("0.2")), d("0.3"));
        assert_eq!((d("0.1") + d("0.2")).to_string(), "0.3");
        assert_eq!(money(d("7")), d("7.00"));
        // 100.05 × 10 % = 10.005 → 10.01 (a double gives 10.00).
        assert_eq!(commission_amount(d("100.05"), d("10")), d("10.01"));
        // 3 × 7.5 % = 0.225 → 0.23.
        assert_eq!(commission_amount(d("3"), d("7.5")), d("0.23"));
        assert_eq!(commission_amount(d("1000"), d("0")), d("0"));
        assert_eq!(commission_amount(d("1000"), d("100")), d("1000"));
    }

    #[test]
    fn lenient_parse_defaults() {
        let p = policy(json!({}));
        assert_eq!(p, flat("0"));
        let p = policy(json!({"rules": null, "version": 3, "defaultPercent": 12.5}));
        assert_eq!((p.version, p.default_percent), (3, d("12.5")));
        assert!(p.rules.is_empty());
        // Any number is a version; a fraction is dropped.
        assert_eq!(policy(json!({"version": 2.9})).version, 2);
        // Percents are exact.
        assert_eq!(
            policy(json!({"defaultPercent": 0.1})).default_percent,
            d("0.1")
        );
        assert_eq!(
            policy(json!({"defaultPercent": 100})).default_percent,
            d("100")
        );
        // Dates: RFC 3339 with any offset, or a plain date at midnight UTC.
        let p = policy(json!({"effectiveFrom": "2030-06-01T08:00:00-04:00",
                              "effectiveTo": "2030-06-02"}));
        assert_eq!(p.effective_from, Some(now()));
        assert_eq!(
            p.effective_to,
            Some("2030-06-02T00:00:00Z".parse().unwrap())
        );
    }

    #[test]
    fn invalid_policies_are_absent() {
        let cases = [
            ("null", json!(null)),
            ("array", json!([1])),
            ("string", json!("x")),
            ("version not a number", json!({"version": "1"})),
            ("version null", json!({"version": null})),
            (
                "defaultPercent above 100",
                json!({"defaultPercent": 100.01}),
            ),
            ("defaultPercent negative", json!({"defaultPercent": -1})),
            ("defaultPercent text", json!({"defaultPercent": "5"})),
            ("defaultPercent null", json!({"defaultPercent": null})),
            ("unreadable date", json!({"effectiveTo": "pronto"})),
            ("date not a string", json!({"effectiveFrom": 1_700_000_000})),
            (
                "rules not an array",
                json!({"rules": {"id": "r", "percent": 1}}),
            ),
        ];
        for (name, v) in cases {
            assert_eq!(parse_policy(&v, now()), None, "{name}");
        }
    }

    #[test]
    fn effective_window_is_inclusive() {
        let at = |from: Value, to: Value| {
            parse_policy(&json!({"effectiveFrom": from, "effectiveTo": to}), now()).is_some()
        };
        assert!(at(json!(null), json!(null)));
        assert!(at(
            json!("2030-06-01T12:00:00Z"),
            json!("2030-06-01T12:00:00Z")
        ));
        assert!(at(json!("2030-01-01"), json!("2030-12-31")));
        assert!(
            !at(json!("2030-06-01T12:00:01Z"), json!(null)),
            "not yet effective"
        );
        assert!(!at(json!("2030-06-02"), json!(null)), "not yet effective");
        assert!(!at(json!(null), json!("2030-06-01T11:59:59Z")), "expired");
        assert!(!at(json!(null), json!("2030-05-31")), "expired");
        // from > to: never in force.
        assert!(!at(json!("2030-07-01"), json!("2030-05-01")));
    }

    #[test]
    fn unusable_rules_are_skipped_and_the_rest_kept() {
        let l = Uuid::new_v4();
        let p = policy(json!({"defaultPercent": 5, "rules": [
            {"id": "ok", "loteriaId": null, "betType": null, "percent": 1, "extra": true},
            {"id": 7, "loteriaId": l.to_string(), "betType": "NUMERO", "percent": 2.25},
            {"loteriaId": null, "betType": null, "percent": 1},
            {"id": "no-percent", "loteriaId": null, "betType": null},
            {"id": null, "loteriaId": null, "betType": null, "percent": 1},
            {"id": "percent-text", "loteriaId": null, "betType": null, "percent": "1"},
            {"id": "percent-high", "loteriaId": null, "betType": null, "percent": 101},
            {"id": "percent-negative", "loteriaId": null, "betType": null, "percent": -0.5},
            {"id": "bad-loteria", "loteriaId": "abc", "betType": null, "percent": 1},
            {"id": "bad-bet-type", "loteriaId": null, "betType": "numero", "percent": 1},
            {"id": "bad-range", "loteriaId": null, "betType": null, "percent": 1,
             "multiplierRange": {"min": 1}},
            {"id": "bad-range-2", "loteriaId": null, "betType": null, "percent": 1,
             "multiplierRange": [1, 2]},
            "not an object",
            {"id": "absent-keys", "percent": 3},
        ]}));
        assert_eq!(ids(&p), ["ok", "7", "absent-keys"]);
        assert_eq!(p.default_percent, d("5"));
        let r = &p.rules[1];
        assert_eq!(r.loteria_id, RuleField::Is(l));
        assert_eq!(r.bet_type, RuleField::Is(BetType::Numero));
        assert_eq!(r.percent, d("2.25"));
        assert_eq!(r.multiplier_range, None);
        let r = &p.rules[2];
        assert_eq!(
            (r.loteria_id, r.bet_type),
            (RuleField::Missing, RuleField::Missing)
        );
    }

    #[test]
    fn missing_loteria_or_bet_type_never_matches_but_null_means_any() {
        let l = Uuid::new_v4();
        let p = policy(json!({"defaultPercent": 5, "rules": [
            {"id": "no-loteria-key", "betType": null, "percent": 50},
            {"id": "no-bet-type-key", "loteriaId": null, "percent": 40},
            {"id": "any", "loteriaId": null, "betType": null, "percent": 10},
        ]}));
        for kind in [BetType::Numero, BetType::Reventado] {
            assert_eq!(
                p.find(l, kind, d("90")),
                (d("10"), Some("any".into())),
                "{kind:?}"
            );
        }
        let only_missing = policy(json!({"defaultPercent": 5, "rules": [
            {"id": "no-loteria-key", "betType": null, "percent": 50},
        ]}));
        assert_eq!(
            only_missing.find(l, BetType::Numero, d("90")),
            (d("5"), None)
        );
    }

    #[test]
    fn loteria_and_bet_type_must_equal_when_set() {
        let l = Uuid::new_v4();
        let other = Uuid::new_v4();
        let p = policy(json!({"defaultPercent": 5, "rules": [
            {"id": "l-rev", "loteriaId": l.to_string(), "betType": "REVENTADO", "percent": 20},
            {"id": "l", "loteriaId": l.to_string(), "betType": null, "percent": 8},
            {"id": "num", "loteriaId": null, "betType": "NUMERO", "percent": 7},
        ]}));
        assert_eq!(
            p.find(l, BetType::Reventado, d("0")),
            (d("20"), Some("l-rev".into()))
        );
        assert_eq!(
            p.find(l, BetType::Numero, d("90")),
            (d("8"), Some("l".into()))
        );
        assert_eq!(
            p.find(other, BetType::Numero, d("90")),
            (d("7"), Some("num".into()))
        );
        assert_eq!(p.find(other, BetType::Reventado, d("0")), (d("5"), None));
    }

    #[test]
    fn first_matching_rule_wins() {
        let p = policy(json!({"defaultPercent": 1, "rules": [
            {"id": "narrow", "loteriaId": null, "betType": "NUMERO",
             "multiplierRange": {"min": 85, "max": 85}, "percent": 9},
            {"id": "wide", "loteriaId": null, "betType": "NUMERO",
             "multiplierRange": {"min": 0, "max": 1000}, "percent": 6},
            {"id": "also-narrow", "loteriaId": null, "betType": "NUMERO",
             "multiplierRange": {"min": 85, "max": 85}, "percent": 3},
        ]}));
        let l = Uuid::new_v4();
        assert_eq!(
            p.find(l, BetType::Numero, d("85")),
            (d("9"), Some("narrow".into()))
        );
        assert_eq!(
            p.find(l, BetType::Numero, d("90")),
            (d("6"), Some("wide".into()))
        );
        assert_eq!(p.find(l, BetType::Numero, d("1000.01")), (d("1"), None));
    }

    #[test]
    fn multiplier_range_is_inclusive_and_excludes_reventado_unless_the_rule_is_reventado() {
        let p = policy(json!({"defaultPercent": 2, "rules": [
            {"id": "any-range", "loteriaId": null, "betType": null,
             "multiplierRange": {"min": 90, "max": 92.5}, "percent": 10},
            {"id": "rev-range", "loteriaId": null, "betType": "REVENTADO",
             "multiplierRange": {"min": 200, "max": 200}, "percent": 15},
        ]}));
        let l = Uuid::new_v4();
        let hit = (d("10"), Some("any-range".to_string()));
        assert_eq!(p.find(l, BetType::Numero, d("90")), hit);
        assert_eq!(p.find(l, BetType::Numero, d("92.5")), hit);
        assert_eq!(p.find(l, BetType::Numero, d("89.9999")), (d("2"), None));
        assert_eq!(p.find(l, BetType::Numero, d("92.5001")), (d("2"), None));
        // A REVENTADO line (X = 0) fails the any-type rule's range; the REVENTADO rule's range
        // is never checked.
        assert_eq!(
            p.find(l, BetType::Reventado, Decimal::ZERO),
            (d("15"), Some("rev-range".into()))
        );
        let any_only = policy(json!({"defaultPercent": 2, "rules": [
            {"id": "any-range", "loteriaId": null, "betType": null,
             "multiplierRange": {"min": 90, "max": 92.5}, "percent": 10},
        ]}));
        assert_eq!(
            any_only.find(l, BetType::Reventado, Decimal::ZERO),
            (d("2"), None)
        );
        // Without a range the any-type rule takes REVENTADO lines too.
        let no_range = policy(json!({"rules": [
            {"id": "any", "loteriaId": null, "betType": null, "multiplierRange": null, "percent": 4},
        ]}));
        assert_eq!(
            no_range.find(l, BetType::Reventado, Decimal::ZERO),
            (d("4"), Some("any".into()))
        );
    }

    #[test]
    fn seller_chain_is_user_then_ventana_then_banca() {
        let l = Uuid::new_v4();
        let user = policy(json!({"defaultPercent": 0, "rules": [
            {"id": "u1", "loteriaId": null, "betType": "REVENTADO", "percent": 12},
        ]}));
        let all = Policies {
            user: Some(user),
            ventana: Some(flat("8")),
            banca: Some(flat("5")),
            listero: None,
        };
        // The user policy always answers once present, even with its default 0 %.
        let s = all.snapshot(l, BetType::Numero, d("90"), d("1000"));
        assert_eq!(
            (s.percent, s.amount, s.origin, s.rule_id.as_deref()),
            (d("0"), d("0"), Some(Origin::User), None)
        );
        let s = all.snapshot(l, BetType::Reventado, Decimal::ZERO, d("333.33"));
        assert_eq!(
            (s.percent, s.amount, s.origin, s.rule_id.as_deref()),
            (d("12"), d("40.00"), Some(Origin::User), Some("u1"))
        );
        let no_user = Policies {
            user: None,
            ..all.clone()
        };
        let s = no_user.snapshot(l, BetType::Numero, d("90"), d("333.35"));
        assert_eq!(
            (s.percent, s.amount, s.origin),
            (d("8"), d("26.67"), Some(Origin::Ventana))
        );
        let banca_only = Policies {
            user: None,
            ventana: None,
            ..all.clone()
        };
        let s = banca_only.snapshot(l, BetType::Numero, d("90"), d("666.70"));
        assert_eq!(
            (s.percent, s.amount, s.origin),
            (d("5"), d("33.34"), Some(Origin::Banca))
        );
        let s = Policies::default().snapshot(l, BetType::Numero, d("90"), d("100"));
        assert_eq!(
            s,
            Snapshot {
                percent: Decimal::ZERO,
                amount: Decimal::ZERO,
                origin: None,
                rule_id: None,
                listero_amount: Decimal::ZERO,
            }
        );
        assert_eq!(
            [Origin::User, Origin::Ventana, Origin::Banca].map(Origin::as_str),
            ["USER", "VENTANA", "BANCA"]
        );
    }

    #[test]
    fn listero_chain_is_listero_then_ventana_then_banca() {
        let l = Uuid::new_v4();
        let all = Policies {
            user: Some(flat("10")),
            ventana: Some(flat("3")),
            banca: Some(flat("2")),
            listero: Some(flat("1.5")),
        };
        // 1.5 % of 100.10 = 1.5015 → 1.50; the seller side is independent.
        let s = all.snapshot(l, BetType::Numero, d("90"), d("100.10"));
        assert_eq!((s.amount, s.listero_amount), (d("10.01"), d("1.50")));
        let no_listero = Policies {
            listero: None,
            ..all.clone()
        };
        // 3 % of 100.10 = 3.003 → 3.00.
        assert_eq!(
            no_listero
                .snapshot(l, BetType::Numero, d("90"), d("100.10"))
                .listero_amount,
            d("3.00")
        );
        let banca_only = Policies {
            listero: None,
            ventana: None,
            ..all.clone()
        };
        // 2 % of 100.25 = 2.005 → 2.01 (half away from zero).
        assert_eq!(
            banca_only
                .snapshot(l, BetType::Numero, d("90"), d("100.25"))
                .listero_amount,
            d("2.01")
        );
        let user_only = Policies {
            user: Some(flat("10")),
            ..Policies::default()
        };
        let s = user_only.snapshot(l, BetType::Numero, d("90"), d("100"));
        assert_eq!((s.amount, s.listero_amount), (d("10"), d("0")));
    }
}
