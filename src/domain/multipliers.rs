//! Multiplier rules, pure: the bet types a multiplier is for, the scopes of a multiplier
//! override, the base-multiplier chain (`domain-sales.md` §3.5) and which multipliers a
//! vendedor's commission policy lets it sell (`GET /users/:id/allowed-multipliers`, §3.7
//! matching by `multiplierRange`).

use chrono::{DateTime, NaiveTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

/// What a multiplier pays for, and the type of a bet: a number (`NUMERO`) or the red-ball
/// side bet (`REVENTADO`). The reference's `MultiplierKind` and `BetType` share these values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type)]
#[sqlx(type_name = "bet_type", rename_all = "UPPERCASE")]
#[serde(rename_all = "UPPERCASE")]
pub enum BetType {
    Numero,
    Reventado,
}

impl BetType {
    /// The wire and database name.
    pub fn as_str(self) -> &'static str {
        match self {
            BetType::Numero => "NUMERO",
            BetType::Reventado => "REVENTADO",
        }
    }

    /// Parses the exact wire name (`NUMERO`, `REVENTADO`).
    pub fn parse(s: &str) -> Option<BetType> {
        match s {
            "NUMERO" => Some(BetType::Numero),
            "REVENTADO" => Some(BetType::Reventado),
            _ => None,
        }
    }
}

/// Whom a multiplier override is for: one seller (`USER`) or one ventana (`VENTANA`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type)]
#[sqlx(type_name = "override_scope", rename_all = "UPPERCASE")]
#[serde(rename_all = "UPPERCASE")]
pub enum OverrideScope {
    User,
    Ventana,
}

impl OverrideScope {
    /// The wire and database name.
    pub fn as_str(self) -> &'static str {
        match self {
            OverrideScope::User => "USER",
            OverrideScope::Ventana => "VENTANA",
        }
    }

    /// Parses the exact wire name (`USER`, `VENTANA`).
    pub fn parse(s: &str) -> Option<OverrideScope> {
        match s {
            "USER" => Some(OverrideScope::User),
            "VENTANA" => Some(OverrideScope::Ventana),
            _ => None,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Base-multiplier chain (§3.5)

/// The name that gives a multiplier its meaning in step 4 of the chain (exact, case-sensitive).
pub const BASE_MULTIPLIER_NAME: &str = "Base";

/// A multiplier override found for the seller (USER) or its ventana (VENTANA), type `NUMERO`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OverrideCandidate {
    pub value_x: Decimal,
    pub is_active: bool,
    /// Soft-deleted (`deleted_at` set).
    pub deleted: bool,
}

/// A multiplier of the lotería, as the chain sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MultiplierCandidate {
    pub name: String,
    pub kind: BetType,
    pub value_x: Decimal,
    pub is_active: bool,
}

/// Everything the chain reads for one (banca, lotería, seller, ventana).
#[derive(Debug, Clone, Default)]
pub struct ChainInputs<'a> {
    /// Step 1: overrides of scope USER for the seller.
    pub user_overrides: &'a [OverrideCandidate],
    /// Step 2: overrides of scope VENTANA for the seller's ventana.
    pub ventana_overrides: &'a [OverrideCandidate],
    /// Step 3: `banca_loteria_settings.base_multiplier_x`. Its active flag is not read (§3.5).
    pub banca_setting: Option<Decimal>,
    /// Steps 4 and 5: the lotería's multipliers, oldest first.
    pub multipliers: &'a [MultiplierCandidate],
    /// Step 6: `rulesJson.baseMultiplierX` (see [`rules_base_multiplier_x`]).
    pub rules_base_multiplier_x: Option<Decimal>,
    /// Step 7: `MULTIPLIER_BASE_DEFAULT_X`.
    pub env_default: Option<Decimal>,
}

/// Which step of the chain produced the base multiplier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BaseMultiplierSource {
    UserOverride,
    VentanaOverride,
    BancaSetting,
    /// The active multiplier named `Base`.
    MultiplierBase,
    /// The oldest active `NUMERO` multiplier.
    MultiplierNumero,
    RulesJson,
    EnvDefault,
}

impl BaseMultiplierSource {
    /// The step number in §3.5 (1–7).
    pub fn step(self) -> u8 {
        match self {
            BaseMultiplierSource::UserOverride => 1,
            BaseMultiplierSource::VentanaOverride => 2,
            BaseMultiplierSource::BancaSetting => 3,
            BaseMultiplierSource::MultiplierBase => 4,
            BaseMultiplierSource::MultiplierNumero => 5,
            BaseMultiplierSource::RulesJson => 6,
            BaseMultiplierSource::EnvDefault => 7,
        }
    }
}

/// The resolved base multiplier and the step that gave it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BaseMultiplier {
    pub value_x: Decimal,
    pub source: BaseMultiplierSource,
}

fn positive(v: Decimal) -> Option<Decimal> {
    (v > Decimal::ZERO).then_some(v)
}

fn first_live_override(candidates: &[OverrideCandidate]) -> Option<Decimal> {
    candidates
        .iter()
        .filter(|o| o.is_active && !o.deleted)
        .find_map(|o| positive(o.value_x))
}

/// The base-multiplier chain of §3.5; the first step with a value wins:
/// 1. an active, not deleted USER override of the seller;
/// 2. an active, not deleted VENTANA override of the seller's ventana;
/// 3. the banca–lotería setting (its active flag ignored, as in the reference);
/// 4. the active multiplier named exactly `Base`;
/// 5. the oldest active `NUMERO` multiplier;
/// 6. `rulesJson.baseMultiplierX`;
/// 7. the configured default (`MULTIPLIER_BASE_DEFAULT_X`).
///
/// Every step takes only values > 0. `None` when no step has one (the sale answers 400
/// "Missing baseMultiplierX").
pub fn resolve_base_multiplier(inputs: &ChainInputs<'_>) -> Option<BaseMultiplier> {
    use BaseMultiplierSource as S;
    let active = || inputs.multipliers.iter().filter(|m| m.is_active);
    let steps: [(S, Option<Decimal>); 7] = [
        (S::UserOverride, first_live_override(inputs.user_overrides)),
        (
            S::VentanaOverride,
            first_live_override(inputs.ventana_overrides),
        ),
        (S::BancaSetting, inputs.banca_setting.and_then(positive)),
        (
            S::MultiplierBase,
            active()
                .filter(|m| m.name == BASE_MULTIPLIER_NAME)
                .find_map(|m| positive(m.value_x)),
        ),
        (
            S::MultiplierNumero,
            active()
                .filter(|m| m.kind == BetType::Numero)
                .find_map(|m| positive(m.value_x)),
        ),
        (
            S::RulesJson,
            inputs.rules_base_multiplier_x.and_then(positive),
        ),
        (S::EnvDefault, inputs.env_default.and_then(positive)),
    ];
    steps
        .into_iter()
        .find_map(|(source, v)| v.map(|value_x| BaseMultiplier { value_x, source }))
}

/// `rulesJson.baseMultiplierX` when it is a JSON number (the chain then requires it > 0).
pub fn rules_base_multiplier_x(rules_json: &Value) -> Option<Decimal> {
    json_decimal(rules_json.get("baseMultiplierX")?)
}

/// A JSON number as an exact decimal (`90`, `92.5`, `1e2`).
fn json_decimal(v: &Value) -> Option<Decimal> {
    let n = v.as_number()?;
    let s = n.to_string();
    s.parse::<Decimal>()
        .ok()
        .or_else(|| Decimal::from_scientific(&s).ok())
}

// ---------------------------------------------------------------------------------------------
// Allowed multipliers: a vendedor's USER commission policy read for its `multiplierRange`s

/// One rule of a commission policy that can allow multipliers.
#[derive(Debug, Clone, PartialEq)]
pub struct RangeRule {
    pub id: String,
    /// `None`: any lotería (`loteriaId: null`).
    pub loteria_id: Option<Uuid>,
    /// `None`: any bet type (`betType: null`).
    pub bet_type: Option<BetType>,
    pub min: Decimal,
    pub max: Decimal,
}

/// What a vendedor's policy says about multipliers, as `allowed-multipliers` reports it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PolicyRanges {
    /// A policy is stored (not null).
    pub exists: bool,
    /// The policy reads, is within its `effectiveFrom`/`effectiveTo` window at `now` and has
    /// rules.
    pub effective: bool,
    /// The rules with an explicit lotería (`null` or an id), bet type (`null` or a type) and
    /// `multiplierRange`, in policy order. Empty unless `effective`.
    pub rules: Vec<RangeRule>,
}

impl PolicyRanges {
    /// The first rule (policy order) that allows a multiplier of `kind` and `value_x` in
    /// `loteria_id`: its lotería is null or `loteria_id`, its bet type null or `kind`, and
    /// `min ≤ value_x ≤ max`.
    pub fn matching_rule(&self, loteria_id: Uuid, kind: BetType, value_x: Decimal) -> Option<&str> {
        self.rules
            .iter()
            .find(|r| {
                r.loteria_id.is_none_or(|l| l == loteria_id)
                    && r.bet_type.is_none_or(|b| b == kind)
                    && r.min <= value_x
                    && value_x <= r.max
            })
            .map(|r| r.id.as_str())
    }
}

/// An instant in a policy: RFC 3339, or a plain date meaning its midnight UTC. `Err` when
/// present but unreadable; `Ok(None)` when absent or null.
fn policy_instant(v: Option<&Value>) -> Result<Option<DateTime<Utc>>, ()> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => DateTime::parse_from_rfc3339(s)
            .map(|d| d.with_timezone(&Utc))
            .or_else(|_| {
                crate::domain::schedule::parse_date(s).map(|d| d.and_time(NaiveTime::MIN).and_utc())
            })
            .map(Some)
            .map_err(|_| ()),
        Some(_) => Err(()),
    }
}

/// A rule's range rule when it names its lotería and bet type explicitly (a missing key matches
/// nothing, as in the reference) and has a numeric `multiplierRange`.
fn range_rule(rule: &serde_json::Map<String, Value>, id: String) -> Option<RangeRule> {
    let loteria_id = match rule.get("loteriaId")? {
        Value::Null => None,
        Value::String(s) => Some(Uuid::parse_str(s).ok()?),
        _ => return None,
    };
    let bet_type = match rule.get("betType")? {
        Value::Null => None,
        Value::String(s) => Some(BetType::parse(s)?),
        _ => return None,
    };
    let range = rule.get("multiplierRange")?.as_object()?;
    Some(RangeRule {
        id,
        loteria_id,
        bet_type,
        min: json_decimal(range.get("min")?)?,
        max: json_decimal(range.get("max")?)?,
    })
}

/// Reads a stored USER commission policy the lenient way selling reads it (§3.7): an object
/// whose `version` (if present) is a number, whose `rules` (default `[]`) each carry an `id`
/// and a numeric `percent`, and whose `effectiveFrom`/`effectiveTo` (if present) are instants.
/// Anything else counts as no policy in force. Within its window at `now` and with rules, the
/// policy is effective and its range rules are returned.
pub fn policy_ranges(policy: Option<&Value>, now: DateTime<Utc>) -> PolicyRanges {
    let Some(policy) = policy.filter(|p| !p.is_null()) else {
        return PolicyRanges::default();
    };
    let not_effective = PolicyRanges {
        exists: true,
        ..Default::default()
    };
    let Some(obj) = policy.as_object() else {
        return not_effective;
    };
    if obj.get("version").is_some_and(|v| !v.is_number()) {
        return not_effective;
    }
    let (Ok(from), Ok(to)) = (
        policy_instant(obj.get("effectiveFrom")),
        policy_instant(obj.get("effectiveTo")),
    ) else {
        return not_effective;
    };
    let rules = match obj.get("rules") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(r)) => r.clone(),
        Some(_) => return not_effective,
    };
    let mut ranges = Vec::new();
    for rule in &rules {
        let Some(rule) = rule.as_object() else {
            return not_effective;
        };
        let id = match rule.get("id") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => return not_effective,
        };
        if !rule.get("percent").is_some_and(Value::is_number) {
            return not_effective;
        }
        ranges.extend(range_rule(rule, id));
    }
    let in_window = from.is_none_or(|f| now >= f) && to.is_none_or(|t| now <= t);
    if rules.is_empty() || !in_window {
        return not_effective;
    }
    PolicyRanges {
        exists: true,
        effective: true,
        rules: ranges,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn d(v: i64) -> Decimal {
        Decimal::from(v)
    }

    fn ov(v: i64, is_active: bool, deleted: bool) -> OverrideCandidate {
        OverrideCandidate {
            value_x: d(v),
            is_active,
            deleted,
        }
    }

    fn m(name: &str, kind: BetType, v: i64, is_active: bool) -> MultiplierCandidate {
        MultiplierCandidate {
            name: name.into(),
            kind,
            value_x: d(v),
            is_active,
        }
    }

    /// Every source filled with a distinct value; each row removes what comes before a step.
    #[test]
    fn each_step_wins_when_the_earlier_ones_are_missing() {
        use BaseMultiplierSource as S;
        let with_base = || {
            vec![
                m("Otro", BetType::Numero, 80, true),
                m("Base", BetType::Numero, 92, true),
            ]
        };
        let without_base = || {
            vec![
                m("Reventado", BetType::Reventado, 200, true),
                m("Otro", BetType::Numero, 80, true),
            ]
        };
        let full = || Owned {
            user: vec![ov(95, true, false)],
            ventana: vec![ov(94, true, false)],
            setting: Some(93),
            multipliers: with_base(),
            rules: Some(70),
            env: Some(60),
        };
        let cases: Vec<Case> = vec![
            ("all present", full(), Some((95, S::UserOverride))),
            (
                "no user override",
                Owned {
                    user: vec![],
                    ..full()
                },
                Some((94, S::VentanaOverride)),
            ),
            (
                "no overrides",
                Owned {
                    user: vec![],
                    ventana: vec![],
                    ..full()
                },
                Some((93, S::BancaSetting)),
            ),
            (
                "no setting",
                Owned {
                    user: vec![],
                    ventana: vec![],
                    setting: None,
                    ..full()
                },
                Some((92, S::MultiplierBase)),
            ),
            (
                "no Base multiplier: oldest active NUMERO",
                Owned {
                    user: vec![],
                    ventana: vec![],
                    setting: None,
                    multipliers: without_base(),
                    ..full()
                },
                Some((80, S::MultiplierNumero)),
            ),
            (
                "no multipliers",
                Owned {
                    user: vec![],
                    ventana: vec![],
                    setting: None,
                    multipliers: vec![],
                    ..full()
                },
                Some((70, S::RulesJson)),
            ),
            (
                "only the environment",
                Owned {
                    env: Some(60),
                    ..Default::default()
                },
                Some((60, S::EnvDefault)),
            ),
            ("nothing", Owned::default(), None),
        ];
        for (name, inputs, want) in cases {
            assert_eq!(inputs.resolve(), want.map(|(v, s)| (d(v), s)), "{name}");
        }
    }

    /// A chain input that owns its rows, for tables of cases.
    #[derive(Default)]
    struct Owned {
        user: Vec<OverrideCandidate>,
        ventana: Vec<OverrideCandidate>,
        setting: Option<i64>,
        multipliers: Vec<MultiplierCandidate>,
        rules: Option<i64>,
        env: Option<i64>,
    }

    /// A named chain input and the `(value, step)` it must resolve to.
    type Case = (&'static str, Owned, Option<(i64, BaseMultiplierSource)>);

    impl Owned {
        fn resolve(&self) -> Option<(Decimal, BaseMultiplierSource)> {
            resolve_base_multiplier(&ChainInputs {
                user_overrides: &self.user,
                ventana_overrides: &self.ventana,
                banca_setting: self.setting.map(d),
                multipliers: &self.multipliers,
                rules_base_multiplier_x: self.rules.map(d),
                env_default: self.env.map(d),
            })
            .map(|b| (b.value_x, b.source))
        }
    }

    #[test]
    fn inactive_deleted_and_non_positive_values_are_skipped() {
        use BaseMultiplierSource as S;
        let cases: Vec<Case> = vec![
            (
                "inactive user override falls to the ventana override",
                Owned {
                    user: vec![ov(95, false, false)],
                    ventana: vec![ov(94, true, false)],
                    ..Default::default()
                },
                Some((94, S::VentanaOverride)),
            ),
            (
                "deleted user override, live one after it",
                Owned {
                    user: vec![ov(95, true, true), ov(91, true, false)],
                    ..Default::default()
                },
                Some((91, S::UserOverride)),
            ),
            (
                "deleted and inactive ventana overrides fall to the setting",
                Owned {
                    ventana: vec![ov(94, true, true), ov(93, false, false)],
                    setting: Some(90),
                    ..Default::default()
                },
                Some((90, S::BancaSetting)),
            ),
            (
                "zero setting is no setting",
                Owned {
                    setting: Some(0),
                    rules: Some(70),
                    ..Default::default()
                },
                Some((70, S::RulesJson)),
            ),
            (
                "inactive Base and inactive NUMERO are skipped; REVENTADO is never step 5",
                Owned {
                    multipliers: vec![
                        m("Base", BetType::Numero, 92, false),
                        m("Viejo", BetType::Numero, 85, false),
                        m("Roja", BetType::Reventado, 200, true),
                        m("Nuevo", BetType::Numero, 88, true),
                    ],
                    ..Default::default()
                },
                Some((88, S::MultiplierNumero)),
            ),
            (
                "the name must be exactly Base",
                Owned {
                    multipliers: vec![m("base", BetType::Reventado, 92, true)],
                    env: Some(60),
                    ..Default::default()
                },
                Some((60, S::EnvDefault)),
            ),
            (
                "an active Base of kind REVENTADO still counts (the spec checks only the name)",
                Owned {
                    multipliers: vec![
                        m("Otro", BetType::Numero, 80, true),
                        m("Base", BetType::Reventado, 150, true),
                    ],
                    ..Default::default()
                },
                Some((150, S::MultiplierBase)),
            ),
            (
                "negative rules value and zero default",
                Owned {
                    rules: Some(-1),
                    env: Some(0),
                    ..Default::default()
                },
                None,
            ),
        ];
        for (name, inputs, want) in cases {
            assert_eq!(inputs.resolve(), want.map(|(v, s)| (d(v), s)), "{name}");
        }
    }

    #[test]
    fn steps_are_numbered_as_in_the_spec() {
        use BaseMultiplierSource as S;
        let all = [
            S::UserOverride,
            S::VentanaOverride,
            S::BancaSetting,
            S::MultiplierBase,
            S::MultiplierNumero,
            S::RulesJson,
            S::EnvDefault,
        ];
        assert_eq!(all.map(S::step), [1, 2, 3, 4, 5, 6, 7]);
        assert_eq!(
            serde_json::to_value(S::MultiplierBase).unwrap(),
            "MULTIPLIER_BASE"
        );
    }

    #[test]
    fn rules_json_base_multiplier_is_a_number() {
        assert_eq!(
            rules_base_multiplier_x(&json!({"baseMultiplierX": 92.5})),
            Some(Decimal::new(925, 1))
        );
        assert_eq!(
            rules_base_multiplier_x(&json!({"baseMultiplierX": 90})),
            Some(d(90))
        );
        assert_eq!(
            rules_base_multiplier_x(&json!({"baseMultiplierX": 1e2})),
            Some(d(100))
        );
        assert_eq!(
            rules_base_multiplier_x(&json!({"baseMultiplierX": "90"})),
            None
        );
        assert_eq!(rules_base_multiplier_x(&json!({})), None);
        assert_eq!(rules_base_multiplier_x(&Value::Null), None);
    }

    #[test]
    fn bet_type_names() {
        assert_eq!(BetType::parse("NUMERO"), Some(BetType::Numero));
        assert_eq!(BetType::parse("numero"), None);
        assert_eq!(BetType::Reventado.as_str(), "REVENTADO");
        assert_eq!(
            serde_json::to_value(BetType::Reventado).unwrap(),
            "REVENTADO"
        );
    }

    fn now() -> DateTime<Utc> {
        "2030-06-01T12:00:00Z".parse().unwrap()
    }

    #[test]
    fn policy_ranges_follow_the_lenient_read() {
        let l = Uuid::new_v4();
        let other = Uuid::new_v4();
        let policy = json!({
            "version": 1, "effectiveFrom": null, "effectiveTo": null, "defaultPercent": 5,
            "rules": [
                {"id": "r-l", "loteriaId": l.to_string(), "betType": "NUMERO",
                 "multiplierRange": {"min": 85, "max": 85}, "percent": 8},
                {"id": "r-any", "loteriaId": null, "betType": null,
                 "multiplierRange": {"min": 90, "max": 92.5}, "percent": 10},
                {"id": "r-no-range", "loteriaId": null, "betType": null, "percent": 1},
                {"id": "r-no-lot-key", "betType": null,
                 "multiplierRange": {"min": 0, "max": 1000}, "percent": 1},
                {"id": "r-rev", "loteriaId": null, "betType": "REVENTADO",
                 "multiplierRange": {"min": 200, "max": 200}, "percent": 3},
            ],
        });
        let p = policy_ranges(Some(&policy), now());
        assert!(p.exists && p.effective);
        assert_eq!(
            p.rules.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
            ["r-l", "r-any", "r-rev"]
        );
        let cases = [
            (l, BetType::Numero, 85, Some("r-l")),
            (other, BetType::Numero, 85, None),
            (other, BetType::Numero, 90, Some("r-any")),
            (other, BetType::Reventado, 90, Some("r-any")),
            (l, BetType::Numero, 80, None),
            (l, BetType::Reventado, 200, Some("r-rev")),
            (l, BetType::Numero, 200, None),
        ];
        for (lot, kind, x, want) in cases {
            assert_eq!(p.matching_rule(lot, kind, d(x)), want, "{kind:?} {x}");
        }
        assert_eq!(
            p.matching_rule(other, BetType::Numero, Decimal::new(925, 1)),
            Some("r-any")
        );
    }

    #[test]
    fn policies_not_in_force_allow_nothing() {
        let rule = json!({"id": "r", "loteriaId": null, "betType": null,
                          "multiplierRange": {"min": 1, "max": 999}, "percent": 1});
        let cases: Vec<(&str, Option<Value>, bool)> = vec![
            ("no policy", None, false),
            ("null policy", Some(Value::Null), false),
            ("not an object", Some(json!([1])), true),
            ("no rules", Some(json!({"version": 1, "rules": []})), true),
            (
                "not yet effective",
                Some(json!({"effectiveFrom": "2031-01-01T00:00:00Z", "rules": [rule]})),
                true,
            ),
            (
                "expired",
                Some(json!({"effectiveTo": "2030-05-31", "rules": [rule]})),
                true,
            ),
            (
                "unreadable date",
                Some(json!({"effectiveTo": "pronto", "rules": [rule]})),
                true,
            ),
            (
                "a rule without id",
                Some(
                    json!({"rules": [{"percent": 1, "loteriaId": null, "betType": null,
                                       "multiplierRange": {"min": 1, "max": 999}}]}),
                ),
                true,
            ),
            (
                "a rule without percent",
                Some(
                    json!({"rules": [{"id": "x", "loteriaId": null, "betType": null,
                                       "multiplierRange": {"min": 1, "max": 999}}]}),
                ),
                true,
            ),
            (
                "version not a number",
                Some(json!({"version": "1", "rules": [rule]})),
                true,
            ),
        ];
        for (name, policy, exists) in cases {
            let p = policy_ranges(policy.as_ref(), now());
            assert_eq!((p.exists, p.effective), (exists, false), "{name}");
            assert!(p.rules.is_empty(), "{name}");
        }
        let in_window = json!({"effectiveFrom": "2030-01-01", "effectiveTo": "2030-12-31T23:59:59Z",
                               "rules": [rule]});
        assert!(policy_ranges(Some(&in_window), now()).effective);
    }
}
