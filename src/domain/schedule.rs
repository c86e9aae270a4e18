//! The business calendar: draw-schedule generation, local wall-clock times ↔ UTC instants in
//! the business time zone, the 12-hour draw names, and the list date tokens
//! (`today|yesterday|week|month|year|range`). Pure: the zone and "today" are arguments.
//!
//! Local times that do not exist (the hour skipped when daylight-saving time starts) are read
//! with the offset in force before the change, so `02:30` on that day is the instant the
//! clocks show as `03:30` (RFC 5545 §3.3.5). Local times that happen twice (the hour repeated
//! when it ends) mean the first of the two. `America/Costa_Rica` has neither.

use std::collections::BTreeMap;

use chrono::{
    DateTime, Datelike, Duration, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, NaiveTime,
    Offset, TimeZone, Timelike, Utc, Weekday,
};
use chrono_tz::Tz;

/// How often a draw block repeats (`drawSchedule.frequency`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frequency {
    /// Every day (`daysOfWeek` is ignored).
    Diario,
    /// On the days of `daysOfWeek`.
    Semanal,
    /// As `Semanal`: on the days of `daysOfWeek`.
    Personalizado,
}

impl Frequency {
    /// The wire name (`diario`, `semanal`, `personalizado`).
    pub fn parse(s: &str) -> Option<Frequency> {
        match s {
            "diario" => Some(Frequency::Diario),
            "semanal" => Some(Frequency::Semanal),
            "personalizado" => Some(Frequency::Personalizado),
            _ => None,
        }
    }
}

/// One block of draw times: at each of `times` (local wall-clock time) on the days the
/// frequency selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrawSchedule {
    pub frequency: Frequency,
    pub times: Vec<NaiveTime>,
    /// Days of the week, 0 = Sunday … 6 = Saturday; `None` means every day.
    pub days_of_week: Option<Vec<u8>>,
}

impl DrawSchedule {
    fn includes(&self, day: NaiveDate) -> bool {
        match self.frequency {
            Frequency::Diario => true,
            Frequency::Semanal | Frequency::Personalizado => {
                let dow = day.weekday().num_days_from_sunday() as u8;
                self.days_of_week.as_ref().is_none_or(|d| d.contains(&dow))
            }
        }
    }
}

/// One generated draw: its instant and its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Occurrence {
    pub scheduled_at: DateTime<Utc>,
    pub name: String,
}

/// The draws of `schedules` on the `days` local calendar days starting at `start`, in
/// `tz`, sorted by instant, at most `limit`. Blocks are merged; two blocks naming the same
/// instant give one draw. Names are `"<loteria> <h:mm AM/PM>"` of the local time.
pub fn occurrences(
    loteria_name: &str,
    schedules: &[DrawSchedule],
    start: NaiveDate,
    days: u32,
    tz: Tz,
    limit: usize,
) -> Vec<Occurrence> {
    let mut at: BTreeMap<DateTime<Utc>, ()> = BTreeMap::new();
    for offset in 0..days {
        let Some(day) = start.checked_add_days(chrono::Days::new(u64::from(offset))) else {
            break;
        };
        for block in schedules.iter().filter(|b| b.includes(day)) {
            for t in &block.times {
                at.insert(local_to_utc(day.and_time(*t), tz), ());
            }
        }
    }
    at.into_keys()
        .take(limit)
        .map(|scheduled_at| Occurrence {
            name: draw_name(loteria_name, scheduled_at, tz),
            scheduled_at,
        })
        .collect()
}

/// The instant a local wall-clock time in `tz` names (see the module notes for skipped and
/// repeated hours).
pub fn local_to_utc(local: NaiveDateTime, tz: Tz) -> DateTime<Utc> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(first, _) => first.with_timezone(&Utc),
        LocalResult::None => {
            // Inside a skipped hour: use the offset in force just before it.
            let mut probe = local;
            let offset: FixedOffset = loop {
                probe -= Duration::minutes(30);
                match tz.from_local_datetime(&probe) {
                    LocalResult::Single(t) => break t.offset().fix(),
                    LocalResult::Ambiguous(_, later) => break later.offset().fix(),
                    LocalResult::None if local - probe > Duration::days(2) => {
                        break tz.offset_from_utc_datetime(&local).fix();
                    }
                    LocalResult::None => {}
                }
            };
            (local - Duration::seconds(i64::from(offset.local_minus_utc()))).and_utc()
        }
    }
}

/// The first instant of local calendar day `day` in `tz`.
pub fn day_start(day: NaiveDate, tz: Tz) -> DateTime<Utc> {
    local_to_utc(day.and_time(NaiveTime::MIN), tz)
}

/// The local calendar date of `at` in `tz`.
pub fn local_date(at: DateTime<Utc>, tz: Tz) -> NaiveDate {
    at.with_timezone(&tz).date_naive()
}

/// An instant as the business-local time with its offset, milliseconds included
/// (`2026-03-02T12:55:00.000-06:00`): how the API answers draw times.
pub fn local_iso(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz)
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, false)
}

/// `"<loteria> <h:mm AM/PM>"` of the local time of `at`, e.g. `"TICA 1:55 PM"`.
pub fn draw_name(loteria_name: &str, at: DateTime<Utc>, tz: Tz) -> String {
    let local = at.with_timezone(&tz);
    let (pm, hour) = local.hour12();
    format!(
        "{loteria_name} {hour}:{:02} {}",
        local.minute(),
        if pm { "PM" } else { "AM" }
    )
}

/// Why a date or instant given by a client could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InstantError {
    #[error("no es una fecha y hora válida (ISO 8601, por ejemplo 2025-11-25T13:55:00-06:00)")]
    Invalid,
}

/// Years a client may name: chrono reads far wider ranges than PostgreSQL stores, so anything
/// outside is refused as bad input instead of failing in the database.
pub const YEARS: std::ops::RangeInclusive<i32> = 1900..=9999;

fn plausible(d: NaiveDate) -> bool {
    YEARS.contains(&d.year())
}

/// A calendar date `YYYY-MM-DD` from a client, within `YEARS`.
pub fn parse_date(raw: &str) -> Result<NaiveDate, InstantError> {
    NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
        .ok()
        .filter(|d| plausible(*d))
        .ok_or(InstantError::Invalid)
}

/// An instant from epoch milliseconds, within `YEARS`.
pub fn from_epoch_millis(ms: i64) -> Result<DateTime<Utc>, InstantError> {
    DateTime::from_timestamp_millis(ms)
        .filter(|t| plausible(t.date_naive()))
        .ok_or(InstantError::Invalid)
}

/// An instant from a client: RFC 3339 with `Z` or an offset, or a local date-time without
/// offset (`YYYY-MM-DDTHH:MM[:SS[.fff]]`, `T` or a space) read in `tz`. A bare date is not
/// an instant. Years outside `YEARS` are refused.
pub fn parse_instant(raw: &str, tz: Tz) -> Result<DateTime<Utc>, InstantError> {
    let raw = raw.trim();
    let parsed = if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        Some(t.with_timezone(&Utc))
    } else {
        [
            "%Y-%m-%dT%H:%M:%S%.f",
            "%Y-%m-%dT%H:%M",
            "%Y-%m-%d %H:%M:%S%.f",
            "%Y-%m-%d %H:%M",
        ]
        .iter()
        .find_map(|fmt| NaiveDateTime::parse_from_str(raw, fmt).ok())
        .map(|local| local_to_utc(local, tz))
    };
    parsed
        .filter(|t| plausible(t.date_naive()))
        .ok_or(InstantError::Invalid)
}

/// A start point given as a date (`YYYY-MM-DD`, the local day) or any instant `parse_instant`
/// reads (its local date).
pub fn parse_start_date(raw: &str, tz: Tz) -> Result<NaiveDate, InstantError> {
    if let Ok(d) = parse_date(raw) {
        return Ok(d);
    }
    parse_instant(raw, tz).map(|t| local_date(t, tz))
}

// ---------------------------------------------------------------------------------------------
// Date tokens of the list endpoints.

/// `date=` of the list endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DateToken {
    Today,
    Yesterday,
    /// Monday to Sunday of the current week.
    Week,
    /// The 1st of the current month to today.
    Month,
    /// January 1st to December 31st of the current year.
    Year,
    /// `fromDate`..`toDate`.
    Range,
}

/// Why a date filter is refused; `field` names the query key at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {issue}")]
pub struct DateRangeError {
    pub field: &'static str,
    pub issue: &'static str,
}

/// Inclusive first and last local day of a date filter; an absent bound is open.
pub type DayBounds = (Option<NaiveDate>, Option<NaiveDate>);

/// The inclusive local days a date filter selects, or `None` for no date filter.
/// `range` needs both `fromDate` and `toDate`; without `date`, either bound alone limits one
/// side; with another token they are refused. `fromDate ≤ toDate`.
pub fn resolve_dates(
    token: Option<DateToken>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    today: NaiveDate,
) -> Result<Option<DayBounds>, DateRangeError> {
    let bounds = match token {
        None if from.is_none() && to.is_none() => return Ok(None),
        None => (from, to),
        Some(DateToken::Range) => match (from, to) {
            (Some(f), Some(t)) => (Some(f), Some(t)),
            (None, _) => {
                return Err(DateRangeError {
                    field: "fromDate",
                    issue: "es obligatorio cuando date=range",
                })
            }
            (_, None) => {
                return Err(DateRangeError {
                    field: "toDate",
                    issue: "es obligatorio cuando date=range",
                })
            }
        },
        Some(_) if from.is_some() || to.is_some() => {
            return Err(DateRangeError {
                field: if from.is_some() { "fromDate" } else { "toDate" },
                issue: "solo se admite con date=range",
            })
        }
        Some(DateToken::Today) => (Some(today), Some(today)),
        Some(DateToken::Yesterday) => {
            let y = today.pred_opt().unwrap_or(today);
            (Some(y), Some(y))
        }
        Some(DateToken::Week) => {
            let monday = today.week(Weekday::Mon).first_day();
            let sunday = today.week(Weekday::Mon).last_day();
            (Some(monday), Some(sunday))
        }
        Some(DateToken::Month) => (today.with_day(1), Some(today)),
        Some(DateToken::Year) => (
            NaiveDate::from_ymd_opt(today.year(), 1, 1),
            NaiveDate::from_ymd_opt(today.year(), 12, 31),
        ),
    };
    if let (Some(f), Some(t)) = bounds {
        if f > t {
            return Err(DateRangeError {
                field: "fromDate",
                issue: "debe ser anterior o igual a toDate",
            });
        }
    }
    Ok(Some(bounds))
}

/// The half-open instant range `[start of from, start of the day after to)` of local days in
/// `tz`; an absent bound stays open.
pub fn day_range_instants(
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    tz: Tz,
) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
    (
        from.map(|d| day_start(d, tz)),
        to.and_then(|d| d.succ_opt()).map(|d| day_start(d, tz)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::America::{Costa_Rica, New_York};

    fn t(s: &str) -> NaiveTime {
        NaiveTime::parse_from_str(s, "%H:%M").unwrap()
    }

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn daily(times: &[&str]) -> DrawSchedule {
        DrawSchedule {
            frequency: Frequency::Diario,
            times: times.iter().map(|s| t(s)).collect(),
            days_of_week: None,
        }
    }

    #[test]
    fn a_week_of_a_daily_costa_rica_schedule() {
        let got = occurrences(
            "TICA",
            &[daily(&["12:55", "16:30", "19:30"])],
            d("2026-03-02"),
            7,
            Costa_Rica,
            1000,
        );
        assert_eq!(got.len(), 21);
        // UTC−6 all year: local + 6 h.
        assert_eq!(got[0].scheduled_at, utc("2026-03-02T18:55:00Z"));
        assert_eq!(got[0].name, "TICA 12:55 PM");
        assert_eq!(got[1].scheduled_at, utc("2026-03-02T22:30:00Z"));
        assert_eq!(got[1].name, "TICA 4:30 PM");
        assert_eq!(got[2].scheduled_at, utc("2026-03-03T01:30:00Z"));
        assert_eq!(got[20].scheduled_at, utc("2026-03-09T01:30:00Z"));
        assert!(got
            .windows(2)
            .all(|w| w[0].scheduled_at < w[1].scheduled_at));
    }

    #[test]
    fn weekly_blocks_pick_their_days_and_merge_without_duplicates() {
        let weekend = DrawSchedule {
            frequency: Frequency::Semanal,
            times: vec![t("10:00"), t("12:55")],
            days_of_week: Some(vec![0, 6]),
        };
        // 2026-03-02 is a Monday: the week has one Saturday and one Sunday.
        let got = occurrences(
            "NICA",
            &[daily(&["12:55"]), weekend],
            d("2026-03-02"),
            7,
            Costa_Rica,
            1000,
        );
        assert_eq!(got.len(), 7 + 2);
        assert_eq!(
            occurrences(
                "NICA",
                &[daily(&["12:55"])],
                d("2026-03-02"),
                7,
                Costa_Rica,
                3
            )
            .len(),
            3
        );
    }

    #[test]
    fn new_york_across_the_spring_forward_switch() {
        // 2026-03-08 02:00 EST the clocks jump to 03:00 EDT.
        let got = occurrences(
            "NY",
            &[daily(&["01:30", "02:30", "12:00"])],
            d("2026-03-07"),
            3,
            New_York,
            1000,
        );
        let at: Vec<_> = got.iter().map(|o| o.scheduled_at).collect();
        assert_eq!(
            at,
            vec![
                utc("2026-03-07T06:30:00Z"),
                utc("2026-03-07T07:30:00Z"),
                utc("2026-03-07T17:00:00Z"),
                utc("2026-03-08T06:30:00Z"),
                // 02:30 does not exist: read with EST, shown as 03:30 EDT.
                utc("2026-03-08T07:30:00Z"),
                utc("2026-03-08T16:00:00Z"),
                utc("2026-03-09T05:30:00Z"),
                utc("2026-03-09T06:30:00Z"),
                utc("2026-03-09T16:00:00Z"),
            ]
        );
        assert_eq!(got[4].name, "NY 3:30 AM");
        assert_eq!(got[5].name, "NY 12:00 PM");
    }

    #[test]
    fn new_york_across_the_fall_back_switch() {
        // 2026-11-01 02:00 EDT the clocks go back to 01:00 EST: 01:30 happens twice.
        let got = occurrences(
            "NY",
            &[daily(&["01:30", "12:00"])],
            d("2026-10-31"),
            3,
            New_York,
            1000,
        );
        let at: Vec<_> = got.iter().map(|o| o.scheduled_at).collect();
        assert_eq!(
            at,
            vec![
                utc("2026-10-31T05:30:00Z"),
                utc("2026-10-31T16:00:00Z"),
                utc("2026-11-01T05:30:00Z"), // the first 01:30 (EDT)
                utc("2026-11-01T17:00:00Z"),
                utc("2026-11-02T06:30:00Z"),
                utc("2026-11-02T17:00:00Z"),
            ]
        );
        assert_eq!(
            day_start(d("2026-11-01"), New_York),
            utc("2026-11-01T04:00:00Z")
        );
        assert_eq!(
            day_start(d("2026-11-02"), New_York),
            utc("2026-11-02T05:00:00Z")
        );
    }

    #[test]
    fn instants_with_and_without_offset() {
        let want = utc("2026-03-02T19:55:00Z");
        for raw in [
            "2026-03-02T19:55:00Z",
            "2026-03-02T13:55:00-06:00",
            "2026-03-02T13:55:00",
            "2026-03-02T13:55:00.000",
            "2026-03-02T13:55",
            "2026-03-02 13:55",
        ] {
            assert_eq!(parse_instant(raw, Costa_Rica), Ok(want), "{raw}");
        }
        for bad in ["2026-03-02", "13:55", "2026-02-30T10:00", "mañana", ""] {
            assert!(parse_instant(bad, Costa_Rica).is_err(), "{bad}");
        }
        assert_eq!(
            parse_start_date("2026-03-02", Costa_Rica),
            Ok(d("2026-03-02"))
        );
        assert_eq!(
            parse_start_date("2026-03-03T03:00:00Z", Costa_Rica),
            Ok(d("2026-03-02"))
        );
    }

    #[test]
    fn date_tokens() {
        let today = d("2026-03-04"); // a Wednesday
        let r = |tok, f, t| resolve_dates(tok, f, t, today);
        assert_eq!(r(None, None, None), Ok(None));
        assert_eq!(
            r(Some(DateToken::Today), None, None),
            Ok(Some((Some(today), Some(today))))
        );
        assert_eq!(
            r(Some(DateToken::Yesterday), None, None),
            Ok(Some((Some(d("2026-03-03")), Some(d("2026-03-03")))))
        );
        assert_eq!(
            r(Some(DateToken::Week), None, None),
            Ok(Some((Some(d("2026-03-02")), Some(d("2026-03-08")))))
        );
        assert_eq!(
            r(Some(DateToken::Month), None, None),
            Ok(Some((Some(d("2026-03-01")), Some(today))))
        );
        assert_eq!(
            r(Some(DateToken::Year), None, None),
            Ok(Some((Some(d("2026-01-01")), Some(d("2026-12-31")))))
        );
        assert_eq!(
            r(
                Some(DateToken::Range),
                Some(d("2026-03-01")),
                Some(d("2026-04-01"))
            ),
            Ok(Some((Some(d("2026-03-01")), Some(d("2026-04-01")))))
        );
        assert_eq!(
            r(Some(DateToken::Range), None, Some(today))
                .unwrap_err()
                .field,
            "fromDate"
        );
        assert_eq!(
            r(Some(DateToken::Range), Some(today), None)
                .unwrap_err()
                .field,
            "toDate"
        );
        assert!(r(Some(DateToken::Today), Some(today), None).is_err());
        assert!(r(Some(DateToken::Range), Some(today), Some(d("2026-03-01"))).is_err());
        assert_eq!(r(None, Some(today), None), Ok(Some((Some(today), None))));
        let (from, to) = day_range_instants(Some(today), Some(today), Costa_Rica);
        assert_eq!(from, Some(utc("2026-03-04T06:00:00Z")));
        assert_eq!(to, Some(utc("2026-03-05T06:00:00Z")));
    }
}
