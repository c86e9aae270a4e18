//! Floats of the existing system to Banca's exact decimals, and the report of every value the
//! conversion changed.
//!
//! The rule (docs/migrating.md, "Money"): a `DOUBLE PRECISION` value is read as the shortest
//! decimal that round-trips to the same double — the number the existing system showed (its
//! JSON and its screens print that form: `100.005`, `33.333333`, `0.30000000000000004`) — and
//! that decimal is rounded half away from zero to the column's scale (2 for money,
//! [`crate::domain::commission::money`]; 4 for multipliers and percentages). PostgreSQL's
//! `float8::text::numeric` yields the same shortest decimal, which the verification uses.

use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};

/// Why a float could not become a decimal.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConvertError {
    #[error("{0} is not a finite number")]
    NotFinite(f64),
    #[error("{0} does not fit a decimal")]
    OutOfRange(f64),
}

/// The exact decimal a double stands for: its shortest round-trip representation.
pub fn shortest_decimal(v: f64) -> Result<Decimal, ConvertError> {
    if !v.is_finite() {
        return Err(ConvertError::NotFinite(v));
    }
    // `Display` of f64 prints the shortest digits that read back as the same double, and never
    // uses an exponent.
    let text = format!("{v}");
    Decimal::from_str(&text)
        .or_else(|_| Decimal::from_scientific(&format!("{v:e}")))
        .map_err(|_| ConvertError::OutOfRange(v))
}

/// `v` as a decimal of `scale` digits (half away from zero), with the exact original.
/// Money uses scale 2 (the same as [`crate::domain::commission::money`]).
pub fn convert(v: f64, scale: u32) -> Result<Converted, ConvertError> {
    let original = shortest_decimal(v)?;
    let stored = if scale == 2 {
        crate::domain::commission::money(original)
    } else {
        original.round_dp_with_strategy(scale, RoundingStrategy::MidpointAwayFromZero)
    };
    Ok(Converted { original, stored })
}

/// A converted value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Converted {
    /// The decimal the float stood for.
    pub original: Decimal,
    /// What Banca stores.
    pub stored: Decimal,
}

impl Converted {
    /// Whether the conversion changed the value (for money: it was not a whole cent).
    pub fn changed(&self) -> bool {
        self.original != self.stored
    }
}

/// One value the conversion changed: a line of the rounding report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rounded {
    /// The existing system's table and column (`Jugada`, `amount`).
    pub table: &'static str,
    pub column: &'static str,
    /// The row's id in the existing system.
    pub id: String,
    pub original: Decimal,
    pub stored: Decimal,
}

/// Writes the rounding report as CSV: `table,column,id,original,stored`.
pub fn write_csv(path: &std::path::Path, rows: &[Rounded]) -> anyhow::Result<()> {
    use anyhow::Context;
    let mut w = csv::Writer::from_path(path)
        .with_context(|| format!("cannot write the rounding report to {}", path.display()))?;
    w.write_record(["table", "column", "id", "original", "stored"])?;
    for r in rows {
        w.write_record([
            r.table,
            r.column,
            &r.id,
            &r.original.to_string(),
            &r.stored.to_string(),
        ])?;
    }
    w.flush()
        .with_context(|| format!("cannot write the rounding report to {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn shortest_form_is_what_the_existing_system_showed() {
        assert_eq!(shortest_decimal(100.005).unwrap(), d("100.005"));
        assert_eq!(shortest_decimal(33.333333).unwrap(), d("33.333333"));
        assert_eq!(
            shortest_decimal(0.1 + 0.2).unwrap(),
            d("0.30000000000000004")
        );
        assert_eq!(shortest_decimal(1500.0).unwrap(), d("1500"));
        assert_eq!(shortest_decimal(-0.5).unwrap(), d("-0.5"));
        assert_eq!(shortest_decimal(1e-7).unwrap(), d("0.0000001"));
    }

    #[test]
    fn money_rounds_half_away_from_zero_on_the_decimal() {
        // 100.005 is 100.00499999999999545… as a double; the shown value rounds up.
        let c = convert(100.005, 2).unwrap();
        assert_eq!((c.original, c.stored), (d("100.005"), d("100.01")));
        assert!(c.changed());
        assert_eq!(convert(-100.005, 2).unwrap().stored, d("-100.01"));
        assert_eq!(convert(12.345, 2).unwrap().stored, d("12.35"));
        assert_eq!(convert(33.333333, 2).unwrap().stored, d("33.33"));
        assert_eq!(convert(2666.66664, 2).unwrap().stored, d("2666.67"));
        assert_eq!(convert(0.1 + 0.2, 2).unwrap().stored, d("0.30"));
        let whole = convert(150.5, 2).unwrap();
        assert!(!whole.changed());
        assert_eq!(whole.stored, d("150.5"));
    }

    #[test]
    fn other_scales() {
        assert_eq!(convert(92.5, 4).unwrap().stored, d("92.5"));
        assert_eq!(convert(1.23456, 4).unwrap().stored, d("1.2346"));
        assert!(!convert(92.5, 4).unwrap().changed());
    }

    #[test]
    fn non_numbers_are_errors() {
        assert_eq!(
            convert(f64::NAN, 2).unwrap_err().to_string(),
            "NaN is not a finite number"
        );
        assert!(convert(f64::INFINITY, 2).is_err());
        assert!(convert(1e40, 2).is_err());
    }
}
