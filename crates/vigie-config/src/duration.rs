//! Durations written the humantime way: `500ms`, `5s`, `30m`, `1h30m`, `3d`.

use std::time::Duration;

/// A string that is not a duration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid duration {input:?}: {reason}; write a number and a unit (ms, s, m, h, d), e.g. \"5m\" or \"1h30m\""
)]
pub struct DurationError {
    /// The rejected input.
    pub input: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// Units, longest suffix first so that `ms` is not read as `m` followed by garbage.
const UNITS: [(&str, u64); 5] = [
    ("ms", 1),
    ("s", 1_000),
    ("m", 60_000),
    ("h", 3_600_000),
    ("d", 86_400_000),
];

/// Parses a duration: one or more `<integer><unit>` groups, units `ms`, `s`, `m`, `h`, `d`
/// (`1h30m`, `90s`, `3d`). Spaces between groups and before a unit are allowed; a bare number is rejected
/// because its unit would be a guess.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(vigie_config::parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
/// assert!(vigie_config::parse_duration("30").is_err());
/// ```
pub fn parse_duration(input: &str) -> Result<Duration, DurationError> {
    let err = |reason| DurationError {
        input: input.to_owned(),
        reason,
    };
    let mut rest = input.trim();
    if rest.is_empty() {
        return Err(err("it is empty"));
    }
    let mut total_ms: u64 = 0;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(err("expected a number"));
        }
        let (number, after) = rest.split_at(digits);
        let value: u64 = number.parse().map_err(|_| err("the number is too large"))?;
        let after = after.trim_start();
        let unit_len = after.bytes().take_while(u8::is_ascii_alphabetic).count();
        let (unit, after) = after.split_at(unit_len);
        if unit.is_empty() {
            return Err(err("missing unit"));
        }
        let factor = UNITS
            .iter()
            .find(|(name, _)| *name == unit)
            .map(|(_, factor)| *factor)
            .ok_or_else(|| err("unknown unit"))?;
        total_ms = value
            .checked_mul(factor)
            .and_then(|ms| total_ms.checked_add(ms))
            .ok_or_else(|| err("the duration is too large"))?;
        rest = after.trim_start();
    }
    Ok(Duration::from_millis(total_ms))
}

/// Writes a duration in the form [`parse_duration`] reads, largest units first
/// (`Duration::from_secs(5400)` → `1h30m`; zero → `0s`).
pub fn format_duration(duration: Duration) -> String {
    let mut ms = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
    if ms == 0 {
        return "0s".to_owned();
    }
    let mut out = String::new();
    for (name, factor) in UNITS.iter().rev() {
        let n = ms / factor;
        if n > 0 {
            out.push_str(&n.to_string());
            out.push_str(name);
            ms -= n * factor;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_single_and_compound_durations() {
        assert_eq!(parse_duration("5s").unwrap(), Duration::from_secs(5));
        assert_eq!(parse_duration("30m").unwrap(), Duration::from_secs(1800));
        assert_eq!(
            parse_duration("3d").unwrap(),
            Duration::from_secs(3 * 86_400)
        );
        assert_eq!(parse_duration("1h 30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("5 m").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("0s").unwrap(), Duration::ZERO);
    }

    #[test]
    fn rejects_bad_durations_with_a_reason() {
        assert_eq!(parse_duration("").unwrap_err().reason, "it is empty");
        assert_eq!(parse_duration("30").unwrap_err().reason, "missing unit");
        assert_eq!(
            parse_duration("5 minutes").unwrap_err().reason,
            "unknown unit"
        );
        assert_eq!(
            parse_duration("m5").unwrap_err().reason,
            "expected a number"
        );
        assert_eq!(
            parse_duration("-5m").unwrap_err().reason,
            "expected a number"
        );
        assert_eq!(
            parse_duration("99999999999999999999d").unwrap_err().reason,
            "the number is too large"
        );
        assert_eq!(
            parse_duration("999999999999999d").unwrap_err().reason,
            "the duration is too large"
        );
        let message = parse_duration("5x").unwrap_err().to_string();
        assert!(
            message.starts_with("invalid duration \"5x\": unknown unit"),
            "{message}"
        );
    }

    #[test]
    fn formats_what_it_parses() {
        for text in ["0s", "5s", "250ms", "1h30m", "3d", "1d2h3m4s5ms"] {
            assert_eq!(format_duration(parse_duration(text).unwrap()), text);
        }
        assert_eq!(format_duration(Duration::from_secs(3600)), "1h");
    }
}
