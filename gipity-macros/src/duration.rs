//! `timeout = ".."` values: a whole number and a unit, checked when the crate compiles.

/// Timeouts must be shorter than this (a day, in milliseconds).
const LIMIT_MS: u64 = 24 * 60 * 60 * 1000;

/// Parses `"500ms"`, `"10s"`, `"2m"` or `"1h"` into milliseconds; the error completes the
/// sentence "invalid timeout `..`: ".
pub(crate) fn parse_millis(text: &str) -> Result<u64, &'static str> {
    let digits_end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(digits_end);
    if number.is_empty() {
        return Err(
            "expected a whole number and a unit, such as `\"500ms\"`, `\"10s\"` or `\"2m\"`",
        );
    }
    let scale = match unit {
        "ms" => 1,
        "s" => 1000,
        "m" => 60 * 1000,
        "h" => 60 * 60 * 1000,
        "" => return Err("missing unit; expected `ms`, `s`, `m` or `h`, as in `\"10s\"`"),
        _ => return Err("unknown unit; expected `ms`, `s`, `m` or `h`, as in `\"10s\"`"),
    };
    let millis = number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
        .filter(|&ms| ms < LIMIT_MS)
        .ok_or("a timeout must be shorter than a day")?;
    if millis == 0 {
        return Err("a timeout must be greater than zero");
    }
    Ok(millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units() {
        assert_eq!(parse_millis("500ms"), Ok(500));
        assert_eq!(parse_millis("10s"), Ok(10_000));
        assert_eq!(parse_millis("2m"), Ok(120_000));
        assert_eq!(parse_millis("1h"), Ok(3_600_000));
        assert_eq!(parse_millis("23h"), Ok(82_800_000));
    }

    #[test]
    fn rejected() {
        for text in [
            "",
            "10",
            "s",
            "10 s",
            "1.5s",
            "-1s",
            "10d",
            "10S",
            "0s",
            "0ms",
            "24h",
            "1440m",
            "99999999999999999999s",
        ] {
            assert!(parse_millis(text).is_err(), "{text:?} should be rejected");
        }
    }
}
