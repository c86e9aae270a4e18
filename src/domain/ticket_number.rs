//! Ticket numbers (`domain-sales.md` §3.9, spec decision 17): `T<YYMMDD>-<seq>-<CC>`.
//!
//! - `YYMMDD` is the ticket's **business date** (years 2000–2099; the century is not printed).
//! - `seq` is a positive integer taken from the PostgreSQL sequence `ticket_number_seq`, printed
//!   zero-padded to at least 5 digits (more digits when larger: `00042`, `99999`, `100000`). The
//!   sequence is global, never reused and gap-tolerant; uniqueness rests on the UNIQUE index.
//! - `CC` are two ISO 7064 MOD 97-10 check digits computed over the digit string `YYMMDD`
//!   followed by the `seq` digits **exactly as printed** (padding zeros included). They catch
//!   every single-digit error and every transposition of two adjacent digits, so a mistyped
//!   number at payout is rejected instead of finding another ticket.
//!
//! Example: business date 2025-01-26, sequence 42 → `T250126-00042-68`.
//!
//! The column is `varchar(24)`: `T` + 6 + `-` + seq + `-` + 2 leaves 13 digits for the sequence,
//! i.e. sequences below 10^13, which a sale-per-row sequence never reaches.

use chrono::{Datelike, NaiveDate};

/// The longest ticket number the database stores (`tickets.ticket_number varchar(24)`), and the
/// longest string a look-up by number accepts.
pub const MAX_LEN: usize = 24;

/// The sequence is zero-padded to at least this many digits.
const SEQ_MIN_DIGITS: usize = 5;

/// The most sequence digits that fit in [`MAX_LEN`] (`MAX_LEN` − `T`, date, two `-`, check).
const SEQ_MAX_DIGITS: usize = MAX_LEN - 1 - 6 - 1 - 1 - 2;

/// Why a string is not a valid ticket number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Not shaped `T<YYMMDD>-<seq>-<CC>`, the date is not a real date, or the sequence is not a
    /// positive number printed the canonical way.
    #[error("not a ticket number (expected T<YYMMDD>-<sequence>-<check digits>)")]
    Format,
    /// Well shaped, but the check digits do not match: a mistyped number.
    #[error("ticket number check digits do not match")]
    CheckDigits,
}

/// The parts of a valid ticket number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parsed {
    /// The business date (`YYMMDD`, read as 20YY).
    pub date: NaiveDate,
    /// The sequence value (always ≥ 1).
    pub seq: i64,
}

/// Formats the ticket number of sequence value `seq` on `business_date`.
///
/// Never panics. `seq` must be ≥ 1 (it comes from `nextval`); a non-positive value is a
/// programming error and is printed as `0`, which yields a well-shaped number that [`parse`]
/// rejects. The result fits [`MAX_LEN`] for every `seq` below 10^13; the date's year must be in
/// 2000–2099 to read back as the same date.
pub fn format(business_date: NaiveDate, seq: i64) -> String {
    let yymmdd = format!(
        "{:02}{:02}{:02}",
        business_date.year().rem_euclid(100),
        business_date.month(),
        business_date.day()
    );
    let seq = format!("{:0width$}", seq.max(0), width = SEQ_MIN_DIGITS);
    let cc = check_digits(&yymmdd, &seq);
    format!("T{yymmdd}-{seq}-{cc:02}")
}

/// Parses a ticket number: surrounding whitespace is ignored and the leading `T` may be lower
/// case. The sequence must be printed as [`format`] prints it (at least 5 digits, no extra
/// leading zeros) and be ≥ 1.
///
/// [`ParseError::Format`] for a wrong shape or an impossible date; [`ParseError::CheckDigits`]
/// when everything is well shaped but the check digits do not match.
pub fn parse(s: &str) -> Result<Parsed, ParseError> {
    let s = s.trim();
    if s.len() > MAX_LEN {
        return Err(ParseError::Format);
    }
    let rest = s.strip_prefix(['T', 't']).ok_or(ParseError::Format)?;
    let mut parts = rest.split('-');
    let (Some(date_digits), Some(seq), Some(cc), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ParseError::Format);
    };
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    // The sequence as `format` prints it: at least 5 digits, zero-padded only up to 5.
    let canonical_seq = (SEQ_MIN_DIGITS..=SEQ_MAX_DIGITS).contains(&seq.len())
        && (seq.len() == SEQ_MIN_DIGITS || !seq.starts_with('0'));
    if date_digits.len() != 6
        || cc.len() != 2
        || !canonical_seq
        || ![date_digits, seq, cc].into_iter().all(digits)
    {
        return Err(ParseError::Format);
    }
    // Two ASCII digits of the date at `i` (checked above), 0..=99.
    let two = |i: usize| {
        let b = date_digits.as_bytes();
        (b[i] - b'0') * 10 + (b[i + 1] - b'0')
    };
    let date = NaiveDate::from_ymd_opt(
        2000 + i32::from(two(0)),
        u32::from(two(2)),
        u32::from(two(4)),
    )
    .ok_or(ParseError::Format)?;
    // At most 13 ASCII digits: fits an i64.
    let seq_value: i64 = seq.parse().map_err(|_| ParseError::Format)?;
    if seq_value < 1 {
        return Err(ParseError::Format);
    }
    // Valid when (digits · 100 + CC) mod 97 == 1: the remainder over all the digits
    // (date, sequence as printed, check) is 1.
    let all = date_digits.bytes().chain(seq.bytes()).chain(cc.bytes());
    if mod97(all) != 1 {
        return Err(ParseError::CheckDigits);
    }
    Ok(Parsed {
        date,
        seq: seq_value,
    })
}

/// Whether `s` may be a ticket number for a look-up route's first check: after trimming it
/// starts with `T` or `t` and has at most [`MAX_LEN`] characters. [`parse`] decides the rest.
pub fn looks_like_ticket_number(s: &str) -> bool {
    let s = s.trim();
    s.starts_with(['T', 't']) && s.chars().count() <= MAX_LEN
}

/// ISO 7064 MOD 97-10 check digits for `yymmdd` followed by `seq` (as printed):
/// `98 − (digits · 100 mod 97)`, in 2..=98.
fn check_digits(yymmdd: &str, seq: &str) -> u8 {
    let r = u32::from(mod97(yymmdd.bytes().chain(seq.bytes())));
    (98 - r * 100 % 97) as u8
}

/// The remainder modulo 97 of the decimal number written by `digits` (ASCII digits), taken
/// one digit at a time: no overflow however long the digit string.
fn mod97(digits: impl Iterator<Item = u8>) -> u8 {
    digits.fold(0, |r, d| {
        ((u32::from(r) * 10 + u32::from(d - b'0')) % 97) as u8
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn samples() -> Vec<(NaiveDate, i64)> {
        let dates = [
            date(2025, 1, 26),
            date(2024, 2, 29),
            date(2000, 1, 1),
            date(2099, 12, 31),
        ];
        let seqs = [1, 42, 99_999, 100_000, 1_234_567_890_123, 9_999_999_999_999];
        dates
            .iter()
            .flat_map(|&d| seqs.iter().map(move |&s| (d, s)))
            .collect()
    }

    #[test]
    fn pinned_examples() {
        // 25012600042 mod 97 = 10; 10·100 mod 97 = 30; 98 − 30 = 68.
        assert_eq!(format(date(2025, 1, 26), 42), "T250126-00042-68");
        assert_eq!(format(date(2025, 1, 26), 1), "T250126-00001-94");
        assert_eq!(format(date(2024, 2, 29), 100_000), "T240229-100000-61");
        assert_eq!(
            format(date(2099, 12, 31), 1_234_567_890_123),
            "T991231-1234567890123-89"
        );
        assert_eq!(
            parse("T250126-00042-68"),
            Ok(Parsed {
                date: date(2025, 1, 26),
                seq: 42
            })
        );
    }

    #[test]
    fn round_trips_and_shape() {
        for (d, seq) in samples() {
            let n = format(d, seq);
            assert!(n.len() <= MAX_LEN, "{n}");
            assert!(looks_like_ticket_number(&n), "{n}");
            let b = n.as_bytes();
            assert_eq!(b[0], b'T', "{n}");
            assert_eq!(b[7], b'-', "{n}");
            assert_eq!(b[b.len() - 3], b'-', "{n}");
            let seq_part = &n[8..n.len() - 3];
            assert_eq!(seq_part.len(), seq.to_string().len().max(5), "{n}");
            assert_eq!(seq_part.parse::<i64>().unwrap(), seq, "{n}");
            assert_eq!(parse(&n), Ok(Parsed { date: d, seq }), "{n}");
            // Lower-case `t` and surrounding whitespace are accepted.
            let loose = format!("  t{}\n", &n[1..]);
            assert_eq!(parse(&loose), Ok(Parsed { date: d, seq }), "{n}");
        }
    }

    #[test]
    fn every_single_digit_substitution_is_rejected() {
        let mut checked = 0;
        for (d, seq) in samples() {
            let n = format(d, seq);
            for (i, c) in n.char_indices().filter(|(_, c)| c.is_ascii_digit()) {
                for r in ('0'..='9').filter(|&r| r != c) {
                    let mut typo = n.clone();
                    typo.replace_range(i..=i, &r.to_string());
                    assert!(parse(&typo).is_err(), "{n} → {typo} accepted");
                    checked += 1;
                }
            }
        }
        assert!(checked > 1000);
    }

    #[test]
    fn every_adjacent_transposition_is_rejected() {
        let mut checked = 0;
        for (d, seq) in samples() {
            let n = format(d, seq);
            let b = n.as_bytes();
            for i in 0..b.len() - 1 {
                let (x, y) = (b[i], b[i + 1]);
                if x == y || !x.is_ascii_digit() || !y.is_ascii_digit() {
                    continue;
                }
                let mut swapped = b.to_vec();
                swapped.swap(i, i + 1);
                let typo = String::from_utf8(swapped).unwrap();
                assert!(parse(&typo).is_err(), "{n} → {typo} accepted");
                checked += 1;
            }
        }
        assert!(checked > 100);
    }

    #[test]
    fn well_shaped_typos_are_check_digit_errors() {
        // Same shape and a real date: only the check digits can tell.
        assert_eq!(parse("T250126-00043-68"), Err(ParseError::CheckDigits));
        assert_eq!(parse("T250126-00024-68"), Err(ParseError::CheckDigits));
        assert_eq!(parse("T250126-00042-86"), Err(ParseError::CheckDigits));
        assert_eq!(parse("T250127-00042-68"), Err(ParseError::CheckDigits));
    }

    #[test]
    fn malformed_numbers_are_format_errors() {
        let cases = [
            "",
            "T",
            "X250126-00042-68",
            "250126-00042-68",
            "T250126-00042",
            "T250126-00042-68-1",
            "T250126-0042-68",           // fewer than 5 sequence digits
            "T250126-000042-68",         // padded beyond 5 digits
            "T250126-00000-97",          // sequence 0 (its check digits are right)
            "T250126-00042-6",           // one check digit
            "T250126-00042-068",         // three check digits
            "T25012-600042-68",          // a dash moved
            "T250126-0004a-68",          // not a digit
            "T250126-+0042-68",          // sign
            "T250126-00042-٦٨",          // non-ASCII digits
            "T250230-00042-68",          // 30 February
            "T251326-00042-68",          // month 13
            "T250126 00042 68",          // wrong separators
            "T250126-12345678901234-00", // 14 sequence digits: longer than 24
        ];
        for s in cases {
            assert_eq!(parse(s), Err(ParseError::Format), "{s:?}");
        }
        // The sequence-0 case above really has matching check digits.
        assert_eq!(format(date(2025, 1, 26), 0), "T250126-00000-97");
    }

    #[test]
    fn non_positive_sequences_format_as_zero() {
        let d = date(2025, 1, 26);
        assert_eq!(format(d, -7), format(d, 0));
        assert_eq!(format(d, i64::MIN), format(d, 0));
        assert_eq!(parse(&format(d, -7)), Err(ParseError::Format));
    }

    #[test]
    fn looks_like_ticket_number_is_a_cheap_prefilter() {
        assert!(looks_like_ticket_number("T250126-00042-68"));
        assert!(looks_like_ticket_number(" t1 "));
        assert!(looks_like_ticket_number(&format!("T{}", "9".repeat(23))));
        assert!(!looks_like_ticket_number(&format!("T{}", "9".repeat(24))));
        assert!(!looks_like_ticket_number("250126-00042-68"));
        assert!(!looks_like_ticket_number(""));
        assert!(!looks_like_ticket_number("   "));
    }
}
