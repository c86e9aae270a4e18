//! Restriction rules as pure functions (domain-sales §3.4, §3.6; spec decisions 14, 15, 18).
//!
//! - [`resolve_cutoff`]: which sales cutoff applies to a seller, and why.
//! - [`resolve_limits`]: for each number of a sale, every limit that binds it (per ticket and
//!   cumulative per scope), the multiplier blocks, and the most specific rule, which names the
//!   error. [`NumberLimits::violation`] applies them to amounts.
//!
//! No database and no clock: callers pass the rules, the business-local date and hour
//! ([`LocalNow`]) and, for percentage limits, the sorteo's sales per scope so far.
//!
//! Where Banca departs from the existing system (decision 15 and the hazards of §3.4/§3.6):
//! every applicable rule applies and the smallest limit wins; a rule with amounts limits and never
//! blocks; static and percentage limits combine as the smaller of the two, both per ticket and
//! cumulative; a general rule (no banca/ventana/user scope) counts its `maxTotal` over the whole
//! banca; a ventana's cutoff rule is never a fallback for the banca's other ventanas; the date
//! window compares the business-local calendar day in both resolutions.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Timelike, Utc};
use chrono_tz::Tz;
use rust_decimal::{Decimal, RoundingStrategy};
use uuid::Uuid;

/// Minutes before the draw when sales close if nothing else says so (no rule, inactive banca).
pub const DEFAULT_CUTOFF_MINUTES: i32 = 1;

/// Sales stay open this long past `scheduledAt − cutoff` (the existing system's 1 s grace).
pub const CUTOFF_GRACE_SECONDS: i64 = 1;

/// A restriction rule as the resolutions read it.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub id: Uuid,
    /// The tenant the rule belongs to.
    pub owner_banca_id: Option<Uuid>,
    pub banca_id: Option<Uuid>,
    pub ventana_id: Option<Uuid>,
    pub user_id: Option<Uuid>,
    /// One canonical number; `None` governs every number (unless `is_auto_date`).
    pub number: Option<String>,
    /// The rule governs today's business-local day of the month ("01".."31").
    pub is_auto_date: bool,
    /// Cap per number within one ticket.
    pub max_amount: Option<Decimal>,
    /// Cap on the cumulative amount per number in the sorteo, within the counting scope.
    pub max_total: Option<Decimal>,
    /// Floor of the percentage (dynamic) limit.
    pub base_amount: Option<Decimal>,
    /// Percentage (0 < p ≤ 100) of the scope's sorteo sales.
    pub sales_percentage: Option<Decimal>,
    /// A shared-scope rule counted per individual seller.
    pub applies_to_vendedor: bool,
    pub applies_to_date: Option<NaiveDate>,
    pub applies_to_hour: Option<u8>,
    /// A cutoff rule: sales close this many minutes before the draw.
    pub sales_cutoff_minutes: Option<i32>,
    pub loteria_id: Option<Uuid>,
    pub multiplier_id: Option<Uuid>,
    pub sorteo_id: Option<Uuid>,
    pub message: Option<String>,
    pub is_active: bool,
    pub updated_at: DateTime<Utc>,
}

impl Rule {
    /// The scope the rule is written for.
    pub fn scope(&self) -> Scope {
        if self.user_id.is_some() {
            Scope::User
        } else if self.ventana_id.is_some() {
            Scope::Ventana
        } else if self.banca_id.is_some() {
            Scope::Banca
        } else {
            Scope::General
        }
    }

    pub fn is_cutoff(&self) -> bool {
        self.sales_cutoff_minutes.is_some()
    }

    /// Whether the rule carries any amount (static or percentage); such a rule limits.
    pub fn has_amounts(&self) -> bool {
        self.max_amount.is_some()
            || self.max_total.is_some()
            || self.base_amount.is_some_and(|b| b > Decimal::ZERO)
            || self.sales_percentage.is_some()
    }

    /// A lotería/multiplier rule without amounts: it refuses the multiplier outright.
    pub fn is_block(&self) -> bool {
        !self.is_cutoff()
            && !self.has_amounts()
            && self.loteria_id.is_some()
            && self.multiplier_id.is_some()
    }

    /// How specific the rule is; the most specific applicable rule names a limit error.
    pub fn specificity(&self) -> Specificity {
        Specificity {
            scope: self.scope(),
            target: if self.sorteo_id.is_some() {
                Target::Sorteo
            } else if self.loteria_id.is_some() {
                Target::Loteria
            } else {
                Target::Any
            },
            number: self.number.is_some() || self.is_auto_date,
            multiplier: self.multiplier_id.is_some(),
        }
    }
}

/// A rule's scope, least specific first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// No banca/ventana/user: every seller of the owning banca.
    General,
    Banca,
    Ventana,
    /// One seller ("personal").
    User,
}

impl Scope {
    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::General => "GENERAL",
            Scope::Banca => "BANCA",
            Scope::Ventana => "VENTANA",
            Scope::User => "USER",
        }
    }

    /// The Spanish label of the existing system's limit errors.
    pub fn label_es(self) -> &'static str {
        match self {
            Scope::General => "general",
            Scope::Banca => "de banca",
            Scope::Ventana => "de ventana",
            Scope::User => "personal",
        }
    }
}

/// What a rule targets besides its scope, least specific first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    Any,
    Loteria,
    Sorteo,
}

/// Ordered specificity: scope (user > ventana > banca > general), then target (sorteo > lotería
/// > any), then one number over all numbers, then one multiplier over all multipliers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Specificity {
    pub scope: Scope,
    pub target: Target,
    pub number: bool,
    pub multiplier: bool,
}

/// The business-local calendar day and hour of an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalNow {
    pub date: NaiveDate,
    pub hour: u8,
}

impl LocalNow {
    /// `now` in the business time zone.
    pub fn at(now: DateTime<Utc>, tz: Tz) -> Self {
        let local = now.with_timezone(&tz);
        LocalNow {
            date: local.date_naive(),
            hour: u8::try_from(local.hour()).unwrap_or(0),
        }
    }

    /// The number an auto-date rule governs today: the day of the month, zero-padded to
    /// `digits` ("05" with 2 digits, "005" with 3), so it is canonical for the sorteo.
    pub fn auto_date_number(&self, digits: u8) -> String {
        format!(
            "{:0width$}",
            self.date.day(),
            width = usize::from(digits.max(2))
        )
    }
}

/// Why a rule takes no part in a resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    Inactive,
    /// Belongs to another banca.
    OtherTenant,
    /// Scoped to another banca, ventana or user.
    OtherScope,
    /// A personal rule while a listero or admin sells for the vendedor (§3.6.2).
    PersonalRuleNotBinding,
    OtherLoteria,
    OtherSorteo,
    /// `appliesToDate` is another business day.
    OtherDate,
    /// `appliesToHour` is another business hour.
    OtherHour,
    /// A cutoff rule, which limits nothing.
    CutoffRule,
    /// Not a cutoff rule (cutoff resolution).
    NotCutoff,
    /// A cutoff rule written for one number, which cutoffs ignore.
    NumberCutoff,
    /// Neither an amount nor a block.
    NoLimit,
}

impl Skip {
    /// Stable wire code.
    pub fn code(self) -> &'static str {
        match self {
            Skip::Inactive => "INACTIVE",
            Skip::OtherTenant => "OTHER_TENANT",
            Skip::OtherScope => "OTHER_SCOPE",
            Skip::PersonalRuleNotBinding => "PERSONAL_RULE_NOT_BINDING",
            Skip::OtherLoteria => "OTHER_LOTERIA",
            Skip::OtherSorteo => "OTHER_SORTEO",
            Skip::OtherDate => "OTHER_DATE",
            Skip::OtherHour => "OTHER_HOUR",
            Skip::CutoffRule => "CUTOFF_RULE",
            Skip::NotCutoff => "NOT_CUTOFF",
            Skip::NumberCutoff => "NUMBER_CUTOFF",
            Skip::NoLimit => "NO_LIMIT",
        }
    }
}

fn time_skip(rule: &Rule, now: &LocalNow) -> Option<Skip> {
    if rule.applies_to_date.is_some_and(|d| d != now.date) {
        return Some(Skip::OtherDate);
    }
    if rule.applies_to_hour.is_some_and(|h| h != now.hour) {
        return Some(Skip::OtherHour);
    }
    None
}

fn tenant_skip(rule: &Rule, banca_id: Uuid) -> Option<Skip> {
    if !rule.is_active {
        return Some(Skip::Inactive);
    }
    if rule.owner_banca_id.is_some_and(|o| o != banca_id) {
        return Some(Skip::OtherTenant);
    }
    None
}

// ---------------------------------------------------------------------------------------------
// Sales cutoff (§3.4).

/// Who a cutoff is resolved for.
#[derive(Debug, Clone, PartialEq)]
pub struct CutoffContext {
    pub banca_id: Uuid,
    pub ventana_id: Option<Uuid>,
    /// The seller.
    pub user_id: Option<Uuid>,
    /// `bancas.sales_cutoff_minutes`; `None` when the banca is inactive.
    pub banca_minutes: Option<i32>,
    /// The lotería's `rulesJson.closingTimeBeforeDraw`: a floor under whatever the rules say
    /// (decision 18: settings that look enforced are enforced).
    pub loteria_minutes: Option<i32>,
    pub now: LocalNow,
}

/// Where the resolved cutoff comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CutoffSource {
    /// A rule for the seller.
    User,
    /// A rule for the seller's ventana.
    Ventana,
    /// A rule for the banca, or (without `rule_id`) the banca's `salesCutoffMinutes`.
    Banca,
    /// Nothing applies: [`DEFAULT_CUTOFF_MINUTES`].
    Default,
    /// The lotería's `closingTimeBeforeDraw`, longer than what the rules give.
    Loteria,
}

impl CutoffSource {
    /// Wire name (the existing system's `USER|VENTANA|BANCA|DEFAULT`, plus `LOTERIA`).
    pub fn as_str(self) -> &'static str {
        match self {
            CutoffSource::User => "USER",
            CutoffSource::Ventana => "VENTANA",
            CutoffSource::Banca => "BANCA",
            CutoffSource::Default => "DEFAULT",
            CutoffSource::Loteria => "LOTERIA",
        }
    }
}

/// What the resolution made of one cutoff rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CutoffVerdict {
    /// This rule gives the cutoff.
    Winner,
    /// Applies, but a more specific (or, at equal score, more recently updated) rule won.
    Outranked,
    Skipped(Skip),
}

/// One cutoff rule as the resolution saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CutoffCandidate {
    pub rule_id: Uuid,
    pub minutes: i32,
    /// 100 user, 10 ventana, 5 banca; 0 when skipped.
    pub score: u8,
    pub source: Option<CutoffSource>,
    pub verdict: CutoffVerdict,
}

/// The resolved cutoff and its explanation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CutoffResolution {
    /// Sales close this many minutes before the draw.
    pub minutes: i32,
    pub source: CutoffSource,
    /// The winning rule, if a rule decided.
    pub rule_id: Option<Uuid>,
    /// What the rules (or the banca/default fallback) gave before the lotería floor.
    pub rules_minutes: i32,
    pub rules_source: CutoffSource,
    /// Every cutoff rule passed in, with its verdict.
    pub candidates: Vec<CutoffCandidate>,
}

/// Resolves the sales cutoff of a seller: among active cutoff rules (no number) of the banca
/// that pass the date/hour window, the seller's own rule (100) beats its ventana's (10), which
/// beats the banca's (5); ties go to the most recently updated. Without a rule, the banca's
/// `salesCutoffMinutes`, else [`DEFAULT_CUTOFF_MINUTES`]. The lotería's closing time, when
/// longer, wins over all of them. Rules that are not cutoff rules are listed as skipped.
pub fn resolve_cutoff(rules: &[Rule], ctx: &CutoffContext) -> CutoffResolution {
    let mut candidates: Vec<CutoffCandidate> = rules
        .iter()
        .map(|r| {
            let minutes = r.sales_cutoff_minutes.unwrap_or(0);
            let skipped = |s| CutoffCandidate {
                rule_id: r.id,
                minutes,
                score: 0,
                source: None,
                verdict: CutoffVerdict::Skipped(s),
            };
            if !r.is_cutoff() {
                return skipped(Skip::NotCutoff);
            }
            if let Some(s) = tenant_skip(r, ctx.banca_id) {
                return skipped(s);
            }
            if r.number.is_some() || r.is_auto_date {
                return skipped(Skip::NumberCutoff);
            }
            let scored = match (r.user_id, r.ventana_id, r.banca_id) {
                (Some(u), _, _) if Some(u) == ctx.user_id => Some((100, CutoffSource::User)),
                (Some(_), _, _) => None,
                (None, Some(v), _) if Some(v) == ctx.ventana_id => {
                    Some((10, CutoffSource::Ventana))
                }
                (None, Some(_), _) => None,
                (None, None, Some(b)) if b == ctx.banca_id => Some((5, CutoffSource::Banca)),
                _ => None,
            };
            let Some((score, source)) = scored else {
                return skipped(Skip::OtherScope);
            };
            if let Some(s) = time_skip(r, &ctx.now) {
                return skipped(s);
            }
            CutoffCandidate {
                rule_id: r.id,
                minutes,
                score,
                source: Some(source),
                verdict: CutoffVerdict::Outranked,
            }
        })
        .collect();

    let updated: HashMap<Uuid, DateTime<Utc>> =
        rules.iter().map(|r| (r.id, r.updated_at)).collect();
    let winner = candidates
        .iter()
        .enumerate()
        .filter(|(_, c)| c.verdict == CutoffVerdict::Outranked)
        .max_by_key(|(_, c)| (c.score, updated.get(&c.rule_id).copied(), c.rule_id))
        .map(|(i, _)| i);

    let (rules_minutes, rules_source, rule_id) = match winner {
        Some(i) => {
            candidates[i].verdict = CutoffVerdict::Winner;
            let c = &candidates[i];
            (
                c.minutes,
                c.source.unwrap_or(CutoffSource::Banca),
                Some(c.rule_id),
            )
        }
        None => match ctx.banca_minutes {
            Some(m) => (m, CutoffSource::Banca, None),
            None => (DEFAULT_CUTOFF_MINUTES, CutoffSource::Default, None),
        },
    };
    let (minutes, source, rule_id) = match ctx.loteria_minutes {
        Some(l) if l > rules_minutes => (l, CutoffSource::Loteria, None),
        _ => (rules_minutes, rules_source, rule_id),
    };
    CutoffResolution {
        minutes,
        source,
        rule_id,
        rules_minutes,
        rules_source,
        candidates,
    }
}

/// The last instant a sale is accepted: `scheduled_at − minutes + 1 s` (exclusive).
pub fn sales_deadline(scheduled_at: DateTime<Utc>, minutes: i32) -> DateTime<Utc> {
    scheduled_at - Duration::minutes(i64::from(minutes)) + Duration::seconds(CUTOFF_GRACE_SECONDS)
}

/// Whether sales are closed at `now`: `now ≥ sales_deadline(..)`.
pub fn sales_closed(now: DateTime<Utc>, scheduled_at: DateTime<Utc>, minutes: i32) -> bool {
    now >= sales_deadline(scheduled_at, minutes)
}

// ---------------------------------------------------------------------------------------------
// Limits (§3.6 with decision 15).

/// Whose sorteo sales a cumulative limit counts (and a percentage limit is a share of).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SalesScope {
    Vendedor(Uuid),
    Ventana(Uuid),
    Banca(Uuid),
}

impl SalesScope {
    /// Wire name of the kind.
    pub fn kind(&self) -> &'static str {
        match self {
            SalesScope::Vendedor(_) => "VENDEDOR",
            SalesScope::Ventana(_) => "VENTANA",
            SalesScope::Banca(_) => "BANCA",
        }
    }

    pub fn id(&self) -> Uuid {
        match *self {
            SalesScope::Vendedor(id) | SalesScope::Ventana(id) | SalesScope::Banca(id) => id,
        }
    }
}

/// The sale (or the question) limits are resolved for.
#[derive(Debug, Clone, PartialEq)]
pub struct LimitContext {
    pub banca_id: Uuid,
    pub ventana_id: Uuid,
    /// The seller the sale is for.
    pub vendedor_id: Uuid,
    pub loteria_id: Uuid,
    pub sorteo_id: Uuid,
    /// The sorteo's number length (2 or 3).
    pub digits: u8,
    pub now: LocalNow,
    /// A listero or admin sells for the vendedor: the vendedor's personal rules do not bind
    /// (the existing system's §3.6.2).
    pub sold_by_other: bool,
    /// Canonical numbers to resolve. The result also has one entry (`number: None`) for any
    /// other number.
    pub numbers: Vec<String>,
    /// The sorteo's sales so far per scope (the current sale excluded). A scope missing here
    /// is unknown: a percentage limit then falls back to its `baseAmount` (when > 0).
    pub sales: HashMap<SalesScope, Decimal>,
}

/// A percentage (dynamic) limit as computed for one rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DynamicLimit {
    pub base_amount: Option<Decimal>,
    pub sales_percentage: Option<Decimal>,
    /// The scope whose sales the percentage applies to.
    pub scope: SalesScope,
    /// Those sales; `None` when unknown.
    pub sales: Option<Decimal>,
    /// `max(baseAmount, salesPercentage% × sales)`, 2 decimals; `None` when nothing is known.
    pub limit: Option<Decimal>,
}

/// What the resolution made of one rule.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleOutcome {
    pub rule_id: Uuid,
    pub scope: Scope,
    pub specificity: Specificity,
    /// `None` when the rule applies.
    pub skip: Option<Skip>,
    /// The numbers it governs (`None`: every number).
    pub number: Option<String>,
    /// Per ticket: `maxAmount`, capped by the dynamic limit.
    pub per_ticket: Option<Decimal>,
    /// Cumulative: the smaller of `maxTotal` and the dynamic limit.
    pub total: Option<Decimal>,
    /// Where `total` is counted.
    pub counted_in: Option<SalesScope>,
    pub dynamic: Option<DynamicLimit>,
    /// Blocks its multiplier.
    pub blocks: bool,
}

/// One limit on a number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bound {
    pub rule_id: Uuid,
    pub scope: Scope,
    pub specificity: Specificity,
    pub amount: Decimal,
    /// Counts only jugadas with this multiplier (`None`: every jugada of the number).
    pub multiplier_id: Option<Uuid>,
    /// Cumulative limits: where they are counted. `None` for per-ticket limits.
    pub counted_in: Option<SalesScope>,
    /// The dynamic limit is (part of) this bound.
    pub is_dynamic: bool,
    pub is_auto_date: bool,
}

/// A lotería/multiplier rule that refuses a multiplier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    pub rule_id: Uuid,
    pub scope: Scope,
    pub specificity: Specificity,
    pub multiplier_id: Uuid,
    pub message: Option<String>,
}

/// Everything that binds one number (or, with `number: None`, any number no rule names).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberLimits {
    pub number: Option<String>,
    /// Per-ticket limits, most specific first.
    pub per_ticket: Vec<Bound>,
    /// Cumulative limits, most specific first.
    pub totals: Vec<Bound>,
    /// Multiplier blocks, most specific first.
    pub blocks: Vec<Block>,
    /// The most specific rule governing the number.
    pub most_specific_rule: Option<Uuid>,
}

/// Which kind of limit a sale broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitKind {
    PerTicket,
    Total,
}

/// A broken limit, named by the most specific rule that is broken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub kind: LimitKind,
    pub rule_id: Uuid,
    pub scope: Scope,
    pub number: Option<String>,
    pub multiplier_id: Option<Uuid>,
    pub counted_in: Option<SalesScope>,
    pub limit: Decimal,
    /// The amount in this ticket that the limit counts.
    pub attempted: Decimal,
    /// Sold before this ticket (cumulative limits; zero per ticket).
    pub accumulated: Decimal,
    /// What may still be sold under this limit: `max(0, limit − accumulated)`.
    pub available: Decimal,
    pub is_dynamic: bool,
    pub is_auto_date: bool,
}

fn counts(bound_multiplier: Option<Uuid>, multiplier: Option<Uuid>) -> bool {
    bound_multiplier.is_none() || bound_multiplier == multiplier
}

impl NumberLimits {
    /// The smallest per-ticket limit on a jugada with `multiplier`.
    pub fn max_per_ticket(&self, multiplier: Option<Uuid>) -> Option<&Bound> {
        smallest(&self.per_ticket, multiplier)
    }

    /// The smallest cumulative limit on a jugada with `multiplier` (whatever its scope).
    pub fn max_total(&self, multiplier: Option<Uuid>) -> Option<&Bound> {
        smallest(&self.totals, multiplier)
    }

    /// The most specific block of `multiplier`, if any.
    pub fn blocked(&self, multiplier: Uuid) -> Option<&Block> {
        self.blocks.iter().find(|b| b.multiplier_id == multiplier)
    }

    /// Applies every limit. `in_ticket(m)` is the ticket's amount on this number counted by a
    /// limit on multiplier `m` (`None`: all of the number's jugadas); `accumulated(scope, m)`
    /// what the sorteo already sold the same way in `scope`. Every broken limit is found; the
    /// most specific one is returned (ties: the smallest `available`, then per ticket first).
    pub fn violation(
        &self,
        in_ticket: impl Fn(Option<Uuid>) -> Decimal,
        accumulated: impl Fn(&SalesScope, Option<Uuid>) -> Decimal,
    ) -> Option<Violation> {
        let mut broken: Vec<Violation> = Vec::new();
        for b in &self.per_ticket {
            let attempted = in_ticket(b.multiplier_id);
            if attempted > b.amount {
                broken.push(self.violation_of(b, LimitKind::PerTicket, attempted, Decimal::ZERO));
            }
        }
        for b in &self.totals {
            let attempted = in_ticket(b.multiplier_id);
            let Some(scope) = b.counted_in else { continue };
            if attempted <= Decimal::ZERO {
                continue;
            }
            let sold = accumulated(&scope, b.multiplier_id);
            if sold + attempted > b.amount {
                broken.push(self.violation_of(b, LimitKind::Total, attempted, sold));
            }
        }
        broken.into_iter().min_by(|a, b| {
            let sa = self.specificity_of(a.rule_id);
            let sb = self.specificity_of(b.rule_id);
            sb.cmp(&sa)
                .then(a.available.cmp(&b.available))
                .then((a.kind == LimitKind::Total).cmp(&(b.kind == LimitKind::Total)))
        })
    }

    fn specificity_of(&self, rule_id: Uuid) -> Option<Specificity> {
        self.per_ticket
            .iter()
            .chain(&self.totals)
            .find(|b| b.rule_id == rule_id)
            .map(|b| b.specificity)
    }

    fn violation_of(
        &self,
        b: &Bound,
        kind: LimitKind,
        attempted: Decimal,
        accumulated: Decimal,
    ) -> Violation {
        Violation {
            kind,
            rule_id: b.rule_id,
            scope: b.scope,
            number: self.number.clone(),
            multiplier_id: b.multiplier_id,
            counted_in: b.counted_in,
            limit: b.amount,
            attempted,
            accumulated,
            available: (b.amount - accumulated).max(Decimal::ZERO),
            is_dynamic: b.is_dynamic,
            is_auto_date: b.is_auto_date,
        }
    }
}

fn smallest(bounds: &[Bound], multiplier: Option<Uuid>) -> Option<&Bound> {
    // `bounds` is most-specific first, so among equal amounts the most specific wins.
    bounds
        .iter()
        .filter(|b| counts(b.multiplier_id, multiplier))
        .fold(None, |best: Option<&Bound>, b| match best {
            Some(x) if x.amount <= b.amount => Some(x),
            _ => Some(b),
        })
}

/// The result of [`resolve_limits`].
#[derive(Debug, Clone, PartialEq)]
pub struct LimitResolution {
    /// One entry per context number, in order, then one with `number: None` (any other number).
    pub numbers: Vec<NumberLimits>,
    /// Every rule passed in, with what the resolution made of it.
    pub rules: Vec<RuleOutcome>,
}

impl LimitResolution {
    /// The limits of `number` (the "any other number" entry when the context did not name it).
    pub fn for_number(&self, number: &str) -> Option<&NumberLimits> {
        self.numbers
            .iter()
            .find(|n| n.number.as_deref() == Some(number))
            .or_else(|| self.numbers.iter().find(|n| n.number.is_none()))
    }
}

fn counting_scope(rule: &Rule, ctx: &LimitContext) -> SalesScope {
    if rule.user_id.is_some() || rule.applies_to_vendedor {
        SalesScope::Vendedor(ctx.vendedor_id)
    } else if rule.ventana_id.is_some() {
        SalesScope::Ventana(ctx.ventana_id)
    } else {
        // Banca rules and general rules alike count over the whole banca (decision 15).
        SalesScope::Banca(ctx.banca_id)
    }
}

fn money(v: Decimal) -> Decimal {
    v.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

fn dynamic_limit(rule: &Rule, scope: SalesScope, ctx: &LimitContext) -> Option<DynamicLimit> {
    let base = rule.base_amount.filter(|b| *b > Decimal::ZERO);
    let pct = rule
        .sales_percentage
        .filter(|p| *p > Decimal::ZERO && *p <= Decimal::ONE_HUNDRED);
    if base.is_none() && pct.is_none() {
        return None;
    }
    let sales = ctx.sales.get(&scope).copied();
    let limit = match (pct, sales) {
        (Some(p), Some(s)) => {
            let share = money(s * p / Decimal::ONE_HUNDRED);
            Some(base.map_or(share, |b| b.max(share)))
        }
        // Unknown sales: the base alone (the existing system's fallback).
        (Some(_), None) => base,
        (None, _) => base,
    }
    .map(|l| l.max(Decimal::ZERO));
    Some(DynamicLimit {
        base_amount: rule.base_amount,
        sales_percentage: rule.sales_percentage,
        scope,
        sales,
        limit,
    })
}

fn limit_skip(rule: &Rule, ctx: &LimitContext) -> Option<Skip> {
    if let Some(s) = tenant_skip(rule, ctx.banca_id) {
        return Some(s);
    }
    if rule.is_cutoff() {
        return Some(Skip::CutoffRule);
    }
    let in_scope = match (rule.user_id, rule.ventana_id, rule.banca_id) {
        (Some(u), _, _) => u == ctx.vendedor_id,
        (None, Some(v), _) => v == ctx.ventana_id,
        (None, None, Some(b)) => b == ctx.banca_id,
        (None, None, None) => true,
    };
    if !in_scope {
        return Some(Skip::OtherScope);
    }
    if rule.user_id.is_some() && ctx.sold_by_other {
        return Some(Skip::PersonalRuleNotBinding);
    }
    if rule.loteria_id.is_some_and(|l| l != ctx.loteria_id) {
        return Some(Skip::OtherLoteria);
    }
    if rule.sorteo_id.is_some_and(|s| s != ctx.sorteo_id) {
        return Some(Skip::OtherSorteo);
    }
    if let Some(s) = time_skip(rule, &ctx.now) {
        return Some(s);
    }
    if !rule.has_amounts() && !rule.is_block() {
        return Some(Skip::NoLimit);
    }
    None
}

/// Resolves the limits of a sale. Every applicable rule applies (decision 15): a rule applies
/// when it is active, of the seller's banca, scoped to the seller, its ventana, its banca or
/// general, for the sale's lotería and sorteo (or any), within its date and hour window, and
/// not a personal rule of a vendedor someone else sells for. It governs its number, today's
/// day (auto-date) or every number. Per number the result lists:
/// - per ticket: `maxAmount`, capped by the percentage limit when there is one;
/// - cumulative: the smaller of `maxTotal` and the percentage limit, counted per seller
///   (personal rules and `appliesToVendedor`), per ventana, or per banca (banca and general
///   rules);
/// - blocks: lotería/multiplier rules without amounts;
/// - the most specific rule ([`Specificity`]).
///
/// The percentage limit is `max(baseAmount, salesPercentage% × scope sales)`.
pub fn resolve_limits(rules: &[Rule], ctx: &LimitContext) -> LimitResolution {
    let auto_number = ctx.now.auto_date_number(ctx.digits);
    let mut outcomes = Vec::with_capacity(rules.len());
    let mut numbers: Vec<NumberLimits> = ctx
        .numbers
        .iter()
        .map(|n| Some(n.clone()))
        .chain(std::iter::once(None))
        .map(|number| NumberLimits {
            number,
            per_ticket: Vec::new(),
            totals: Vec::new(),
            blocks: Vec::new(),
            most_specific_rule: None,
        })
        .collect();

    let mut order: Vec<&Rule> = rules.iter().collect();
    order.sort_by(|a, b| {
        b.specificity()
            .cmp(&a.specificity())
            .then(b.updated_at.cmp(&a.updated_at))
            .then(a.id.cmp(&b.id))
    });

    for rule in order {
        let governed = if rule.is_auto_date {
            Some(auto_number.clone())
        } else {
            rule.number.clone()
        };
        let mut outcome = RuleOutcome {
            rule_id: rule.id,
            scope: rule.scope(),
            specificity: rule.specificity(),
            skip: limit_skip(rule, ctx),
            number: governed.clone(),
            per_ticket: None,
            total: None,
            counted_in: None,
            dynamic: None,
            blocks: false,
        };
        if outcome.skip.is_none() {
            let scope = counting_scope(rule, ctx);
            let dynamic = dynamic_limit(rule, scope, ctx);
            let dyn_limit = dynamic.as_ref().and_then(|d| d.limit);
            outcome.per_ticket = rule.max_amount.map(|m| dyn_limit.map_or(m, |d| m.min(d)));
            outcome.total = match (rule.max_total, dyn_limit) {
                (Some(t), Some(d)) => Some(t.min(d)),
                (Some(t), None) => Some(t),
                (None, d) => d,
            };
            outcome.counted_in = outcome.total.map(|_| scope);
            outcome.dynamic = dynamic;
            outcome.blocks = rule.is_block();

            for entry in numbers.iter_mut() {
                let governs = match (&governed, &entry.number) {
                    (None, _) => true,
                    (Some(g), Some(n)) => g == n,
                    (Some(_), None) => false,
                };
                if !governs {
                    continue;
                }
                let bound = |amount: Decimal, counted_in: Option<SalesScope>, is_dynamic| Bound {
                    rule_id: rule.id,
                    scope: rule.scope(),
                    specificity: rule.specificity(),
                    amount,
                    multiplier_id: rule.multiplier_id,
                    counted_in,
                    is_dynamic,
                    is_auto_date: rule.is_auto_date,
                };
                if let Some(a) = outcome.per_ticket {
                    let is_dynamic = rule.max_amount.is_some_and(|m| a < m);
                    entry.per_ticket.push(bound(a, None, is_dynamic));
                }
                if let Some(t) = outcome.total {
                    let is_dynamic = rule.max_total.is_none_or(|m| t < m);
                    entry.totals.push(bound(t, Some(scope), is_dynamic));
                }
                if outcome.blocks {
                    if let Some(m) = rule.multiplier_id {
                        entry.blocks.push(Block {
                            rule_id: rule.id,
                            scope: rule.scope(),
                            specificity: rule.specificity(),
                            multiplier_id: m,
                            message: rule.message.clone(),
                        });
                    }
                }
                if entry.most_specific_rule.is_none() {
                    entry.most_specific_rule = Some(rule.id);
                }
            }
        }
        outcomes.push(outcome);
    }
    // Report rules in the caller's order.
    let position: HashMap<Uuid, usize> = rules.iter().enumerate().map(|(i, r)| (r.id, i)).collect();
    outcomes.sort_by_key(|o| position.get(&o.rule_id).copied().unwrap_or(usize::MAX));
    LimitResolution {
        numbers,
        rules: outcomes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    const BANCA: u128 = 1;
    const OTHER_BANCA: u128 = 2;
    const VENTANA: u128 = 10;
    const OTHER_VENTANA: u128 = 11;
    const SELLER: u128 = 20;
    const OTHER_SELLER: u128 = 21;
    const LOTERIA: u128 = 30;
    const SORTEO: u128 = 40;
    const MULT: u128 = 50;

    fn today() -> LocalNow {
        LocalNow {
            date: NaiveDate::from_ymd_opt(2026, 11, 5).unwrap(),
            hour: 13,
        }
    }

    /// A rule of BANCA updated `age` minutes ago; no scope, no limits.
    fn rule(n: u128, age: i64) -> Rule {
        Rule {
            id: id(n),
            owner_banca_id: Some(id(BANCA)),
            banca_id: None,
            ventana_id: None,
            user_id: None,
            number: None,
            is_auto_date: false,
            max_amount: None,
            max_total: None,
            base_amount: None,
            sales_percentage: None,
            applies_to_vendedor: false,
            applies_to_date: None,
            applies_to_hour: None,
            sales_cutoff_minutes: None,
            loteria_id: None,
            multiplier_id: None,
            sorteo_id: None,
            message: None,
            is_active: true,
            updated_at: Utc.with_ymd_and_hms(2026, 11, 5, 12, 0, 0).unwrap()
                - Duration::minutes(age),
        }
    }

    fn cutoff(n: u128, minutes: i32, scope: (Option<u128>, Option<u128>, Option<u128>)) -> Rule {
        Rule {
            banca_id: scope.0.map(id),
            ventana_id: scope.1.map(id),
            user_id: scope.2.map(id),
            sales_cutoff_minutes: Some(minutes),
            ..rule(n, 0)
        }
    }

    fn cutoff_ctx() -> CutoffContext {
        CutoffContext {
            banca_id: id(BANCA),
            ventana_id: Some(id(VENTANA)),
            user_id: Some(id(SELLER)),
            banca_minutes: Some(3),
            loteria_minutes: None,
            now: today(),
        }
    }

    #[test]
    fn cutoff_resolution_table() {
        let b = (Some(BANCA), None, None);
        let v = (None, Some(VENTANA), None);
        let other_v = (None, Some(OTHER_VENTANA), None);
        let u = (None, None, Some(SELLER));
        let other_u = (None, None, Some(OTHER_SELLER));
        struct Case {
            name: &'static str,
            rules: Vec<Rule>,
            ctx: CutoffContext,
            minutes: i32,
            source: CutoffSource,
            rule: Option<u128>,
        }
        let with = |f: &dyn Fn(&mut CutoffContext)| {
            let mut c = cutoff_ctx();
            f(&mut c);
            c
        };
        let cases = vec![
            Case {
                name: "no rule: the banca's salesCutoffMinutes",
                rules: vec![],
                ctx: cutoff_ctx(),
                minutes: 3,
                source: CutoffSource::Banca,
                rule: None,
            },
            Case {
                name: "inactive banca, no rule: the default",
                rules: vec![],
                ctx: with(&|c| c.banca_minutes = None),
                minutes: DEFAULT_CUTOFF_MINUTES,
                source: CutoffSource::Default,
                rule: None,
            },
            Case {
                name: "user beats ventana beats banca",
                rules: vec![cutoff(1, 5, b), cutoff(2, 7, v), cutoff(3, 2, u)],
                ctx: cutoff_ctx(),
                minutes: 2,
                source: CutoffSource::User,
                rule: Some(3),
            },
            Case {
                name: "ventana beats banca",
                rules: vec![cutoff(1, 5, b), cutoff(2, 7, v)],
                ctx: cutoff_ctx(),
                minutes: 7,
                source: CutoffSource::Ventana,
                rule: Some(2),
            },
            Case {
                name: "banca rule beats the banca column",
                rules: vec![cutoff(1, 5, b)],
                ctx: cutoff_ctx(),
                minutes: 5,
                source: CutoffSource::Banca,
                rule: Some(1),
            },
            Case {
                name: "another ventana's rule is not a fallback",
                rules: vec![cutoff(1, 9, other_v)],
                ctx: cutoff_ctx(),
                minutes: 3,
                source: CutoffSource::Banca,
                rule: None,
            },
            Case {
                name: "another seller's rule is ignored",
                rules: vec![cutoff(1, 9, other_u), cutoff(2, 4, b)],
                ctx: cutoff_ctx(),
                minutes: 4,
                source: CutoffSource::Banca,
                rule: Some(2),
            },
            Case {
                name: "ties go to the most recently updated",
                rules: vec![
                    Rule {
                        updated_at: rule(0, 30).updated_at,
                        ..cutoff(1, 6, v)
                    },
                    Rule {
                        updated_at: rule(0, 5).updated_at,
                        ..cutoff(2, 8, v)
                    },
                ],
                ctx: cutoff_ctx(),
                minutes: 8,
                source: CutoffSource::Ventana,
                rule: Some(2),
            },
            Case {
                name: "date and hour windows",
                rules: vec![
                    Rule {
                        applies_to_date: NaiveDate::from_ymd_opt(2026, 11, 6),
                        ..cutoff(1, 9, u)
                    },
                    Rule {
                        applies_to_hour: Some(14),
                        ..cutoff(2, 8, u)
                    },
                    Rule {
                        applies_to_date: Some(today().date),
                        applies_to_hour: Some(13),
                        ..cutoff(3, 6, v)
                    },
                ],
                ctx: cutoff_ctx(),
                minutes: 6,
                source: CutoffSource::Ventana,
                rule: Some(3),
            },
            Case {
                name: "inactive, other tenant and number rules are skipped",
                rules: vec![
                    Rule {
                        is_active: false,
                        ..cutoff(1, 9, u)
                    },
                    Rule {
                        owner_banca_id: Some(id(OTHER_BANCA)),
                        ..cutoff(2, 9, u)
                    },
                    Rule {
                        number: Some("05".into()),
                        ..cutoff(3, 9, u)
                    },
                    Rule {
                        max_amount: Some(d("10")),
                        ..rule(4, 0)
                    },
                ],
                ctx: cutoff_ctx(),
                minutes: 3,
                source: CutoffSource::Banca,
                rule: None,
            },
            Case {
                name: "a longer lotería closing time wins",
                rules: vec![cutoff(1, 2, u)],
                ctx: with(&|c| c.loteria_minutes = Some(10)),
                minutes: 10,
                source: CutoffSource::Loteria,
                rule: None,
            },
            Case {
                name: "a shorter lotería closing time does not",
                rules: vec![cutoff(1, 12, u)],
                ctx: with(&|c| c.loteria_minutes = Some(10)),
                minutes: 12,
                source: CutoffSource::User,
                rule: Some(1),
            },
            Case {
                name: "no seller: ventana rules still apply",
                rules: vec![cutoff(1, 9, u), cutoff(2, 4, v)],
                ctx: with(&|c| c.user_id = None),
                minutes: 4,
                source: CutoffSource::Ventana,
                rule: Some(2),
            },
        ];
        for c in cases {
            let r = resolve_cutoff(&c.rules, &c.ctx);
            assert_eq!(
                (r.minutes, r.source, r.rule_id),
                (c.minutes, c.source, c.rule.map(id)),
                "{}",
                c.name
            );
            assert_eq!(r.candidates.len(), c.rules.len(), "{}", c.name);
            let winners = r
                .candidates
                .iter()
                .filter(|x| x.verdict == CutoffVerdict::Winner)
                .count();
            assert!(winners <= 1, "{}", c.name);
        }
    }

    #[test]
    fn cutoff_verdicts_explain_each_rule() {
        let rules = vec![
            cutoff(1, 5, (Some(BANCA), None, None)),
            cutoff(2, 2, (None, None, Some(SELLER))),
            cutoff(3, 9, (None, Some(OTHER_VENTANA), None)),
            rule(4, 0),
        ];
        let r = resolve_cutoff(&rules, &cutoff_ctx());
        let v: Vec<CutoffVerdict> = r.candidates.iter().map(|c| c.verdict).collect();
        assert_eq!(
            v,
            vec![
                CutoffVerdict::Outranked,
                CutoffVerdict::Winner,
                CutoffVerdict::Skipped(Skip::OtherScope),
                CutoffVerdict::Skipped(Skip::NotCutoff),
            ]
        );
        assert_eq!(r.candidates[1].score, 100);
    }

    #[test]
    fn the_deadline_has_a_one_second_grace() {
        let at = Utc.with_ymd_and_hms(2026, 11, 5, 19, 0, 0).unwrap();
        let deadline = sales_deadline(at, 5);
        assert_eq!(
            deadline,
            Utc.with_ymd_and_hms(2026, 11, 5, 18, 55, 1).unwrap()
        );
        assert!(!sales_closed(deadline - Duration::milliseconds(1), at, 5));
        assert!(sales_closed(deadline, at, 5));
    }

    #[test]
    fn local_now_and_auto_date_numbers() {
        let tz: Tz = "America/Costa_Rica".parse().unwrap();
        // 03:30 UTC on the 6th is 21:30 on the 5th in Costa Rica (UTC−6).
        let now = LocalNow::at(Utc.with_ymd_and_hms(2026, 11, 6, 3, 30, 0).unwrap(), tz);
        assert_eq!(now, today_at(5, 21));
        assert_eq!(now.auto_date_number(2), "05");
        assert_eq!(now.auto_date_number(3), "005");
    }

    fn today_at(day: u32, hour: u8) -> LocalNow {
        LocalNow {
            date: NaiveDate::from_ymd_opt(2026, 11, day).unwrap(),
            hour,
        }
    }

    fn limit_ctx(numbers: &[&str]) -> LimitContext {
        LimitContext {
            banca_id: id(BANCA),
            ventana_id: id(VENTANA),
            vendedor_id: id(SELLER),
            loteria_id: id(LOTERIA),
            sorteo_id: id(SORTEO),
            digits: 2,
            now: today(),
            sold_by_other: false,
            numbers: numbers.iter().map(|s| s.to_string()).collect(),
            sales: HashMap::new(),
        }
    }

    fn limit(
        n: u128,
        scope: Scope,
        number: Option<&str>,
        max_amount: Option<&str>,
        max_total: Option<&str>,
    ) -> Rule {
        let mut r = rule(n, 0);
        match scope {
            Scope::General => {}
            Scope::Banca => r.banca_id = Some(id(BANCA)),
            Scope::Ventana => r.ventana_id = Some(id(VENTANA)),
            Scope::User => r.user_id = Some(id(SELLER)),
        }
        r.number = number.map(str::to_string);
        r.max_amount = max_amount.map(d);
        r.max_total = max_total.map(d);
        r
    }

    fn amounts(b: Option<&Bound>) -> Option<(Decimal, Uuid)> {
        b.map(|b| (b.amount, b.rule_id))
    }

    #[test]
    fn limit_resolution_table() {
        struct Case {
            name: &'static str,
            rules: Vec<Rule>,
            ctx: LimitContext,
            number: &'static str,
            /// (amount, rule) of the smallest per-ticket and cumulative limits.
            per_ticket: Option<(&'static str, u128)>,
            total: Option<(&'static str, u128)>,
            most_specific: Option<u128>,
        }
        let mut with_sales = limit_ctx(&["05"]);
        with_sales
            .sales
            .insert(SalesScope::Banca(id(BANCA)), d("10000"));
        with_sales
            .sales
            .insert(SalesScope::Vendedor(id(SELLER)), d("1000"));
        let cases = vec![
            Case {
                name: "static only",
                rules: vec![limit(1, Scope::Banca, None, Some("100"), Some("500"))],
                ctx: limit_ctx(&["05"]),
                number: "05",
                per_ticket: Some(("100", 1)),
                total: Some(("500", 1)),
                most_specific: Some(1),
            },
            Case {
                name: "every rule applies: the smallest of banca, ventana and vendedor wins",
                rules: vec![
                    limit(1, Scope::Banca, None, Some("50"), Some("300")),
                    limit(2, Scope::Ventana, None, Some("80"), Some("200")),
                    limit(3, Scope::User, None, Some("90"), Some("900")),
                ],
                ctx: limit_ctx(&["05"]),
                number: "05",
                per_ticket: Some(("50", 1)),
                total: Some(("200", 2)),
                most_specific: Some(3),
            },
            Case {
                name: "a number rule is more specific than an all-numbers rule of the same scope",
                rules: vec![
                    limit(1, Scope::Ventana, None, Some("50"), None),
                    limit(2, Scope::Ventana, Some("05"), Some("70"), None),
                ],
                ctx: limit_ctx(&["05"]),
                number: "05",
                per_ticket: Some(("50", 1)),
                total: None,
                most_specific: Some(2),
            },
            Case {
                name: "a number rule does not govern other numbers",
                rules: vec![limit(1, Scope::Banca, Some("05"), Some("10"), None)],
                ctx: limit_ctx(&["05", "06"]),
                number: "06",
                per_ticket: None,
                total: None,
                most_specific: None,
            },
            Case {
                name: "percentage above the base: static and dynamic combine as the smaller",
                rules: vec![Rule {
                    base_amount: Some(d("200")),
                    sales_percentage: Some(d("5")),
                    ..limit(1, Scope::Banca, None, None, Some("800"))
                }],
                ctx: with_sales.clone(),
                number: "05",
                per_ticket: None,
                total: Some(("500", 1)),
                most_specific: Some(1),
            },
            Case {
                name: "static below the percentage limit stays",
                rules: vec![Rule {
                    sales_percentage: Some(d("5")),
                    ..limit(1, Scope::Banca, None, Some("100"), Some("300"))
                }],
                ctx: with_sales.clone(),
                number: "05",
                per_ticket: Some(("100", 1)),
                total: Some(("300", 1)),
                most_specific: Some(1),
            },
            Case {
                name: "percentage caps maxAmount too",
                rules: vec![Rule {
                    sales_percentage: Some(d("5")),
                    applies_to_vendedor: true,
                    ..limit(1, Scope::Banca, None, Some("100"), None)
                }],
                ctx: with_sales.clone(),
                number: "05",
                per_ticket: Some(("50", 1)),
                total: Some(("50", 1)),
                most_specific: Some(1),
            },
            Case {
                name: "the base is a floor under the percentage",
                rules: vec![Rule {
                    base_amount: Some(d("700")),
                    sales_percentage: Some(d("5")),
                    ..limit(1, Scope::Banca, None, None, None)
                }],
                ctx: with_sales.clone(),
                number: "05",
                per_ticket: None,
                total: Some(("700", 1)),
                most_specific: Some(1),
            },
            Case {
                name: "unknown sales: the base alone",
                rules: vec![Rule {
                    base_amount: Some(d("150")),
                    sales_percentage: Some(d("5")),
                    ..limit(1, Scope::Ventana, None, None, None)
                }],
                ctx: with_sales.clone(),
                number: "05",
                per_ticket: None,
                total: Some(("150", 1)),
                most_specific: Some(1),
            },
            Case {
                name: "other lotería, sorteo, date, hour and scope do not apply",
                rules: vec![
                    Rule {
                        loteria_id: Some(id(99)),
                        ..limit(1, Scope::Banca, None, Some("1"), None)
                    },
                    Rule {
                        sorteo_id: Some(id(98)),
                        ..limit(2, Scope::Banca, None, Some("2"), None)
                    },
                    Rule {
                        applies_to_date: NaiveDate::from_ymd_opt(2026, 11, 4),
                        ..limit(3, Scope::Banca, None, Some("3"), None)
                    },
                    Rule {
                        applies_to_hour: Some(9),
                        ..limit(4, Scope::Banca, None, Some("4"), None)
                    },
                    Rule {
                        ventana_id: Some(id(OTHER_VENTANA)),
                        ..limit(5, Scope::General, None, Some("5"), None)
                    },
                    Rule {
                        owner_banca_id: Some(id(OTHER_BANCA)),
                        ..limit(6, Scope::General, None, Some("6"), None)
                    },
                    Rule {
                        sorteo_id: Some(id(SORTEO)),
                        loteria_id: Some(id(LOTERIA)),
                        applies_to_hour: Some(13),
                        ..limit(7, Scope::Banca, None, Some("70"), None)
                    },
                ],
                ctx: limit_ctx(&["05"]),
                number: "05",
                per_ticket: Some(("70", 7)),
                total: None,
                most_specific: Some(7),
            },
            Case {
                name: "sorteo beats lotería beats any within a scope",
                rules: vec![
                    Rule {
                        loteria_id: Some(id(LOTERIA)),
                        ..limit(1, Scope::Banca, None, Some("30"), None)
                    },
                    Rule {
                        sorteo_id: Some(id(SORTEO)),
                        ..limit(2, Scope::Banca, None, Some("40"), None)
                    },
                    limit(3, Scope::Banca, None, Some("20"), None),
                ],
                ctx: limit_ctx(&["05"]),
                number: "05",
                per_ticket: Some(("20", 3)),
                total: None,
                most_specific: Some(2),
            },
            Case {
                name: "auto-date rules govern today's day",
                rules: vec![Rule {
                    is_auto_date: true,
                    ..limit(1, Scope::Banca, None, Some("25"), None)
                }],
                ctx: limit_ctx(&["05", "06"]),
                number: "05",
                per_ticket: Some(("25", 1)),
                total: None,
                most_specific: Some(1),
            },
            Case {
                name: "auto-date rules leave other days alone",
                rules: vec![Rule {
                    is_auto_date: true,
                    ..limit(1, Scope::Banca, None, Some("25"), None)
                }],
                ctx: limit_ctx(&["05", "06"]),
                number: "06",
                per_ticket: None,
                total: None,
                most_specific: None,
            },
            Case {
                name: "personal rules do not bind a listero selling for the vendedor",
                rules: vec![
                    limit(1, Scope::User, None, Some("10"), None),
                    limit(2, Scope::Ventana, None, Some("60"), None),
                ],
                ctx: LimitContext {
                    sold_by_other: true,
                    ..limit_ctx(&["05"])
                },
                number: "05",
                per_ticket: Some(("60", 2)),
                total: None,
                most_specific: Some(2),
            },
        ];
        for c in cases {
            let r = resolve_limits(&c.rules, &c.ctx);
            let n = r.for_number(c.number).expect(c.name);
            let expect = |v: Option<(&str, u128)>| v.map(|(a, i)| (d(a), id(i)));
            assert_eq!(
                amounts(n.max_per_ticket(None)),
                expect(c.per_ticket),
                "{}: per ticket",
                c.name
            );
            assert_eq!(
                amounts(n.max_total(None)),
                expect(c.total),
                "{}: total",
                c.name
            );
            assert_eq!(
                n.most_specific_rule,
                c.most_specific.map(id),
                "{}: most specific",
                c.name
            );
            assert_eq!(r.rules.len(), c.rules.len(), "{}", c.name);
        }
    }

    #[test]
    fn totals_are_counted_in_their_scope() {
        let rules = vec![
            limit(1, Scope::General, None, None, Some("1000")),
            limit(2, Scope::Banca, None, None, Some("900")),
            limit(3, Scope::Ventana, None, None, Some("800")),
            limit(4, Scope::User, None, None, Some("700")),
            Rule {
                applies_to_vendedor: true,
                ..limit(5, Scope::Ventana, None, None, Some("600"))
            },
        ];
        let r = resolve_limits(&rules, &limit_ctx(&[]));
        let scopes: HashMap<Uuid, SalesScope> = r.numbers[0]
            .totals
            .iter()
            .map(|b| (b.rule_id, b.counted_in.unwrap()))
            .collect();
        assert_eq!(
            scopes[&id(1)],
            SalesScope::Banca(id(BANCA)),
            "general rules count per banca"
        );
        assert_eq!(scopes[&id(2)], SalesScope::Banca(id(BANCA)));
        assert_eq!(scopes[&id(3)], SalesScope::Ventana(id(VENTANA)));
        assert_eq!(scopes[&id(4)], SalesScope::Vendedor(id(SELLER)));
        assert_eq!(scopes[&id(5)], SalesScope::Vendedor(id(SELLER)));
        // Most specific first; rules 3 and 5 tie (same specificity and age), so id order.
        let order: Vec<Uuid> = r.numbers[0].totals.iter().map(|b| b.rule_id).collect();
        assert_eq!(order, vec![id(4), id(3), id(5), id(2), id(1)]);
    }

    #[test]
    fn the_most_specific_broken_rule_names_the_error() {
        let m = id(MULT);
        let rules = vec![
            limit(1, Scope::Banca, Some("05"), Some("40"), Some("1000")),
            limit(2, Scope::User, None, Some("100"), Some("300")),
            Rule {
                loteria_id: Some(id(LOTERIA)),
                multiplier_id: Some(m),
                ..limit(3, Scope::Ventana, None, Some("30"), None)
            },
        ];
        let r = resolve_limits(&rules, &limit_ctx(&["05"]));
        let n = r.for_number("05").unwrap();

        struct Case {
            name: &'static str,
            /// (amount on multiplier M, amount on other multipliers)
            ticket: (&'static str, &'static str),
            sold_by_seller: &'static str,
            expect: Option<(u128, LimitKind, &'static str)>,
        }
        let cases = [
            Case {
                name: "within every limit",
                ticket: ("10", "20"),
                sold_by_seller: "0",
                expect: None,
            },
            Case {
                name: "only the banca's number cap is broken",
                ticket: ("0", "45"),
                sold_by_seller: "0",
                expect: Some((1, LimitKind::PerTicket, "40")),
            },
            Case {
                name: "banca and personal caps broken: the personal one names it",
                ticket: ("0", "150"),
                sold_by_seller: "0",
                expect: Some((2, LimitKind::PerTicket, "100")),
            },
            Case {
                name: "the ventana's multiplier cap counts only that multiplier",
                ticket: ("35", "0"),
                sold_by_seller: "0",
                expect: Some((3, LimitKind::PerTicket, "30")),
            },
            Case {
                name: "cumulative: personal total exhausted",
                ticket: ("0", "30"),
                sold_by_seller: "290",
                expect: Some((2, LimitKind::Total, "10")),
            },
        ];
        for c in cases {
            let (on_m, other) = (d(c.ticket.0), d(c.ticket.1));
            let sold = d(c.sold_by_seller);
            let v = n.violation(
                |mult| if mult == Some(m) { on_m } else { on_m + other },
                |scope, _| match scope {
                    SalesScope::Vendedor(_) => sold,
                    _ => Decimal::ZERO,
                },
            );
            assert_eq!(
                v.as_ref().map(|v| (v.rule_id, v.kind, v.available)),
                c.expect.map(|(r, k, a)| (id(r), k, d(a))),
                "{}",
                c.name
            );
        }
    }

    #[test]
    fn lottery_multiplier_rules_block_only_without_amounts() {
        let m = id(MULT);
        let block = Rule {
            loteria_id: Some(id(LOTERIA)),
            multiplier_id: Some(m),
            message: Some("No se vende x90".into()),
            ..limit(1, Scope::Banca, None, None, None)
        };
        let limited = Rule {
            loteria_id: Some(id(LOTERIA)),
            multiplier_id: Some(m),
            ..limit(2, Scope::Ventana, Some("07"), None, Some("100"))
        };
        let other_loteria = Rule {
            loteria_id: Some(id(77)),
            ..block.clone()
        };
        let r = resolve_limits(
            &[
                block.clone(),
                limited,
                Rule {
                    id: id(3),
                    ..other_loteria
                },
            ],
            &limit_ctx(&["05", "07"]),
        );
        let five = r.for_number("05").unwrap();
        assert_eq!(five.blocked(m).map(|b| b.rule_id), Some(id(1)));
        assert_eq!(five.blocked(id(51)), None);
        let seven = r.for_number("07").unwrap();
        assert_eq!(
            seven.blocks.len(),
            1,
            "the rule with amounts limits, it does not block"
        );
        assert_eq!(amounts(seven.max_total(Some(m))), Some((d("100"), id(2))));
        assert_eq!(seven.max_total(None), None, "counts only its multiplier");
        assert_eq!(r.rules[2].skip, Some(Skip::OtherLoteria));
        assert!(r.rules[0].blocks && !r.rules[1].blocks);
    }

    #[test]
    fn rules_without_effect_are_reported() {
        let r = resolve_limits(
            &[
                rule(1, 0),
                Rule {
                    sales_cutoff_minutes: Some(5),
                    banca_id: Some(id(BANCA)),
                    ..rule(2, 0)
                },
            ],
            &limit_ctx(&["05"]),
        );
        assert_eq!(r.rules[0].skip, Some(Skip::NoLimit));
        assert_eq!(r.rules[1].skip, Some(Skip::CutoffRule));
        assert_eq!(r.numbers.len(), 2);
        assert!(r.numbers.iter().all(|n| n.most_specific_rule.is_none()));
    }
}
