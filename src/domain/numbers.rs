//! Bet numbers: canonical digit strings of exactly the sorteo's `digits` (decision 14).

/// Why a number is not canonical.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    #[error("el número debe tener exactamente {digits} dígitos (por ejemplo {example})")]
    WrongShape { digits: u8, example: &'static str },
    #[error("los dígitos deben ser 2 o 3")]
    BadDigits,
}

/// Checks that `raw` is exactly `digits` ASCII digits (`"05"` for 2 digits, never `"5"` or
/// `"005"`) and returns it.
pub fn canonical(raw: &str, digits: u8) -> Result<&str, NumberError> {
    let example = match digits {
        2 => "05",
        3 => "005",
        _ => return Err(NumberError::BadDigits),
    };
    if raw.len() == usize::from(digits) && raw.bytes().all(|b| b.is_ascii_digit()) {
        Ok(raw)
    } else {
        Err(NumberError::WrongShape { digits, example })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_exact_digit_strings_are_canonical() {
        assert_eq!(canonical("05", 2), Ok("05"));
        assert_eq!(canonical("999", 3), Ok("999"));
        for bad in ["5", "005", " 5", "5a", "", "-1", "٠٥"] {
            assert!(canonical(bad, 2).is_err(), "{bad:?}");
        }
        assert_eq!(canonical("05", 4), Err(NumberError::BadDigits));
    }
}
