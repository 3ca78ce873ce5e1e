//! Task results as bytes (PROTOCOL.md §3.4).
//!
//! An `Exact` task's result is any byte string; a `Numeric` task's result is 8 bytes, the
//! big-endian two's-complement `i64` of the value × 10^scale ([`encode_numeric`] turns decimal
//! text such as `-12.25` into them, exactly, with no floats; [`format_numeric`] turns them back).
//! [`result_bytes`] reads a result as a command line gives it.

use anyhow::{anyhow, bail, Result};
use nodeop_app::modules::tasks::msg::MAX_NUMERIC_SCALE;
use nodeop_app::modules::tasks::TaskKind;

/// Decimal text → the value × 10^`scale` as 8 big-endian bytes (a Numeric task's result).
/// Accepts an optional sign, digits, and at most `scale` decimals (`-12.5`, `+3`, `0.125`);
/// refuses more decimals than the scale holds (no silent rounding) and values outside `i64`.
pub fn encode_numeric(text: &str, scale: u8) -> Result<[u8; 8]> {
    parse_numeric(text, scale).map(i64::to_be_bytes)
}

/// Decimal text → the fixed-point `i64` (value × 10^`scale`); see [`encode_numeric`].
pub fn parse_numeric(text: &str, scale: u8) -> Result<i64> {
    if scale > MAX_NUMERIC_SCALE {
        bail!("scale {scale} is above the largest a task can have ({MAX_NUMERIC_SCALE})");
    }
    let s = text.trim();
    let (negative, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (whole, fraction) = match digits.split_once('.') {
        Some((w, f)) => (w, f),
        None => (digits, ""),
    };
    let all_digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty())
        || !all_digits(whole)
        || !all_digits(fraction)
        || (digits.contains('.') && fraction.is_empty() && whole.is_empty())
    {
        bail!("{text:?} is not a decimal number (an optional sign, digits, at most one '.')");
    }
    if fraction.len() > usize::from(scale) {
        bail!(
            "{text:?} has {} decimals; the task's scale is {scale} (value × 10^{scale} must be whole)",
            fraction.len()
        );
    }
    // i64 has at most 19 digits: anything longer is out of range before the fraction counts.
    let out_of_range = || {
        anyhow!(
            "{text:?} × 10^{scale} does not fit a signed 64-bit integer (|value| < {} at scale {scale})",
            format_numeric(i64::MAX, scale)
        )
    };
    let whole = whole.trim_start_matches('0');
    if whole.len() > 19 {
        return Err(out_of_range());
    }
    let padded = format!("{fraction:0<width$}", width = usize::from(scale));
    let whole: i128 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| out_of_range())?
    };
    let fraction: i128 = if padded.is_empty() {
        0
    } else {
        padded.parse().map_err(|_| out_of_range())?
    };
    let magnitude = 10i128
        .checked_pow(u32::from(scale))
        .and_then(|p| whole.checked_mul(p))
        .and_then(|w| w.checked_add(fraction))
        .ok_or_else(out_of_range)?;
    let value = if negative { -magnitude } else { magnitude };
    i64::try_from(value).map_err(|_| out_of_range())
}

/// A Numeric result's bytes → the fixed-point `i64`.
pub fn decode_numeric(bytes: &[u8]) -> Result<i64> {
    let b: [u8; 8] = bytes
        .try_into()
        .map_err(|_| anyhow!("a numeric result is 8 bytes, got {}", bytes.len()))?;
    Ok(i64::from_be_bytes(b))
}

/// The fixed-point `value` (× 10^`scale`) as decimal text with exactly `scale` decimals:
/// `format_numeric(-1250, 3)` = `"-1.250"`.
pub fn format_numeric(value: i64, scale: u8) -> String {
    let magnitude = value.unsigned_abs();
    let sign = if value < 0 { "-" } else { "" };
    if scale == 0 {
        return format!("{sign}{magnitude}");
    }
    let p = 10u128.pow(u32::from(scale.min(MAX_NUMERIC_SCALE)));
    let m = u128::from(magnitude);
    format!(
        "{sign}{}.{:0width$}",
        m / p,
        m % p,
        width = usize::from(scale)
    )
}

/// What a command line gives as a result, turned into the task's result bytes: for a Numeric
/// task decimal text ([`encode_numeric`]); for an Exact task the text's UTF-8 bytes, or with
/// `hex` the bytes the hex digits spell.
pub fn result_bytes(kind: &TaskKind, text: &str, hex_input: bool) -> Result<Vec<u8>> {
    match kind {
        TaskKind::Numeric { scale, .. } => {
            if hex_input {
                bail!("a Numeric task's result is a decimal number, not hex");
            }
            Ok(encode_numeric(text, *scale)?.to_vec())
        }
        TaskKind::Exact if hex_input => {
            let s = text.trim();
            let s = s.strip_prefix("0x").unwrap_or(s);
            hex::decode(s).map_err(|_| anyhow!("result {text:?} is not hex"))
        }
        TaskKind::Exact => Ok(text.as_bytes().to_vec()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::tasks::result_text;

    #[test]
    fn numeric_results_parse_exactly_at_the_tasks_scale() {
        assert_eq!(parse_numeric("12.345", 3).unwrap(), 12_345);
        assert_eq!(parse_numeric("12.3", 3).unwrap(), 12_300);
        assert_eq!(parse_numeric("12", 3).unwrap(), 12_000);
        assert_eq!(parse_numeric("-0.005", 3).unwrap(), -5);
        assert_eq!(parse_numeric("+7", 0).unwrap(), 7);
        assert_eq!(parse_numeric(".5", 1).unwrap(), 5);
        assert_eq!(parse_numeric("5.", 1).unwrap(), 50);
        assert_eq!(parse_numeric(" 0042 ", 0).unwrap(), 42);
        assert_eq!(parse_numeric("-0", 2).unwrap(), 0);
        assert_eq!(encode_numeric("-1.5", 2).unwrap(), (-150i64).to_be_bytes());
        assert_eq!(encode_numeric("1", 0).unwrap(), [0, 0, 0, 0, 0, 0, 0, 1]);
        // the examples of docs/tx-format.md
        assert_eq!(
            hex::encode(encode_numeric("12.345", 3).unwrap()),
            "0000000000003039"
        );
        assert_eq!(
            hex::encode(encode_numeric("-0.5", 3).unwrap()),
            "fffffffffffffe0c"
        );
        // the extremes of i64, and one past them
        assert_eq!(parse_numeric("9223372036854775807", 0).unwrap(), i64::MAX);
        assert_eq!(parse_numeric("-9223372036854775808", 0).unwrap(), i64::MIN);
        assert!(parse_numeric("9223372036854775808", 0).is_err());
        assert_eq!(parse_numeric("9.223372036854775807", 18).unwrap(), i64::MAX);
        assert!(parse_numeric("9.3", 18).is_err());
        assert!(parse_numeric("100000000000000000000", 0).is_err());
        // more decimals than the scale: refused, never rounded
        let e = parse_numeric("1.2345", 3).unwrap_err().to_string();
        assert!(e.contains("scale is 3"), "{e}");
        assert!(parse_numeric("1.5", 0).is_err());
        // not numbers
        for bad in [
            "", "-", ".", "1e3", "1.2.3", "0x10", "one", "1,5", "--1", "- 1",
        ] {
            assert!(parse_numeric(bad, 3).is_err(), "{bad:?} parsed");
        }
        assert!(parse_numeric("1", MAX_NUMERIC_SCALE + 1).is_err());
    }

    #[test]
    fn numeric_results_format_back_to_the_same_text() {
        assert_eq!(format_numeric(12_345, 3), "12.345");
        assert_eq!(format_numeric(-5, 3), "-0.005");
        assert_eq!(format_numeric(0, 2), "0.00");
        assert_eq!(format_numeric(42, 0), "42");
        assert_eq!(format_numeric(i64::MIN, 0), "-9223372036854775808");
        assert_eq!(format_numeric(i64::MIN, 18), "-9.223372036854775808");
        for (v, scale) in [
            (1i64, 1u8),
            (-987_654_321, 4),
            (i64::MAX, 18),
            (i64::MIN, 5),
        ] {
            assert_eq!(parse_numeric(&format_numeric(v, scale), scale).unwrap(), v);
        }
        let kind = TaskKind::Numeric {
            scale: 2,
            tolerance_ppm: 0,
        };
        assert_eq!(result_text(&kind, &(-150i64).to_be_bytes()), "-1.50");
        assert!(result_text(&kind, b"abc").contains("not 8 bytes"));
        assert_eq!(result_text(&TaskKind::Exact, b"ok"), "\"ok\"");
        assert_eq!(result_text(&TaskKind::Exact, &[0, 1]), "0x0001");
        assert_eq!(decode_numeric(&7i64.to_be_bytes()).unwrap(), 7);
        assert!(decode_numeric(&[1, 2]).is_err());
    }

    #[test]
    fn result_input_follows_the_tasks_kind() {
        let numeric = TaskKind::Numeric {
            scale: 3,
            tolerance_ppm: 1000,
        };
        assert_eq!(
            result_bytes(&numeric, "1.5", false).unwrap(),
            1_500i64.to_be_bytes().to_vec()
        );
        assert!(result_bytes(&numeric, "00ff", true).is_err());
        assert_eq!(
            result_bytes(&TaskKind::Exact, "hello", false).unwrap(),
            b"hello".to_vec()
        );
        assert_eq!(
            result_bytes(&TaskKind::Exact, "0x00ff", true).unwrap(),
            vec![0, 0xff]
        );
        assert!(result_bytes(&TaskKind::Exact, "zz", true).is_err());
    }
}
