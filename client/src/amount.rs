//! Token amounts on the command line.
//!
//! The chain counts in **unop**; 1 NOP = 1_000_000 unop (PROTOCOL.md §1). A bare number, or a
//! number with the suffix `unop`, is unop and must be whole; a number with the suffix `nop` may
//! have up to six decimals (`1.5nop` = 1_500_000 unop). Parsing is integer-only: no floats, so
//! `0.000001nop` is exactly 1 unop.

use anyhow::{bail, Context, Result};
use nodeop_app::modules::bank::UNOP_PER_NOP;

/// Decimal places of a NOP.
pub const NOP_DECIMALS: usize = 6;

/// Parses `123`, `123unop`, `2nop`, `1.5nop` or `0.000001nop` into unop.
pub fn parse_amount(input: &str) -> Result<u128> {
    let s = input.trim();
    let lower = s.to_ascii_lowercase();
    let (number, in_nop) = if let Some(n) = lower.strip_suffix("unop") {
        (n.trim_end(), false)
    } else if let Some(n) = lower.strip_suffix("nop") {
        (n.trim_end(), true)
    } else {
        (lower.as_str(), false)
    };
    if number.is_empty() {
        bail!("amount {input:?} has no number; write e.g. 1500000, 1500000unop or 1.5nop");
    }
    let (whole, fraction) = match number.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (number, None),
    };
    let digits_only = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    if !digits_only(whole) {
        bail!("amount {input:?} is not a non-negative decimal number (digits, at most one '.', then an optional unit unop or nop)");
    }
    let whole: u128 = whole
        .parse()
        .with_context(|| format!("amount {input:?} is too large"))?;
    match (fraction, in_nop) {
        (None, false) => Ok(whole),
        (Some(_), false) => {
            bail!("amount {input:?}: unop is the smallest unit and cannot have decimals (did you mean {number}nop?)")
        }
        (fraction, true) => {
            let fraction = fraction.unwrap_or("0");
            if !digits_only(fraction) {
                bail!("amount {input:?} has a malformed decimal part");
            }
            if fraction.len() > NOP_DECIMALS {
                bail!("amount {input:?} has more than {NOP_DECIMALS} decimals; 1 unop = 0.000001 nop is the smallest unit");
            }
            let padded = format!("{fraction:0<width$}", width = NOP_DECIMALS);
            let fraction: u128 = padded
                .parse()
                .with_context(|| format!("amount {input:?} has a malformed decimal part"))?;
            whole
                .checked_mul(UNOP_PER_NOP)
                .and_then(|w| w.checked_add(fraction))
                .with_context(|| format!("amount {input:?} is too large"))
        }
    }
}

/// `1500000` → `"1.5"` (in NOP, trailing zeros removed).
pub fn format_nop(unop: u128) -> String {
    let whole = unop / UNOP_PER_NOP;
    let fraction = unop % UNOP_PER_NOP;
    if fraction == 0 {
        return whole.to_string();
    }
    let fraction = format!("{fraction:0width$}", width = NOP_DECIMALS);
    format!("{whole}.{}", fraction.trim_end_matches('0'))
}

/// `1500000` → `"1.500000"` (in NOP, always six decimals).
pub fn format_nop_fixed(unop: u128) -> String {
    format!(
        "{}.{:0width$}",
        unop / UNOP_PER_NOP,
        unop % UNOP_PER_NOP,
        width = NOP_DECIMALS
    )
}

/// `1500000` → `"1.500000 NOP (1500000 unop)"`.
pub fn describe(unop: u128) -> String {
    format!("{} NOP ({unop} unop)", format_nop_fixed(unop))
}

/// A ppm fraction for people: `100000` → `"10 % (100000 ppm)"`, `12345` → `"1.2345 % (12345 ppm)"`.
pub fn format_ppm(ppm: u32) -> String {
    // 1 % = 10_000 ppm
    let whole = ppm / 10_000;
    let fraction = ppm % 10_000;
    if fraction == 0 {
        format!("{whole} % ({ppm} ppm)")
    } else {
        let fraction = format!("{fraction:04}");
        format!("{whole}.{} % ({ppm} ppm)", fraction.trim_end_matches('0'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unop_and_nop_amounts_parse_exactly() {
        assert_eq!(parse_amount("0").unwrap(), 0);
        assert_eq!(parse_amount("1500000").unwrap(), 1_500_000);
        assert_eq!(parse_amount("1500000unop").unwrap(), 1_500_000);
        assert_eq!(parse_amount(" 42 UNOP ").unwrap(), 42);
        assert_eq!(parse_amount("2nop").unwrap(), 2_000_000);
        assert_eq!(parse_amount("1.5nop").unwrap(), 1_500_000);
        assert_eq!(parse_amount("1.5 NOP").unwrap(), 1_500_000);
        assert_eq!(parse_amount("0.000001nop").unwrap(), 1);
        assert_eq!(parse_amount("007nop").unwrap(), 7_000_000);
        assert_eq!(parse_amount(&u128::MAX.to_string()).unwrap(), u128::MAX);
    }

    #[test]
    fn bad_amounts_are_refused_with_an_error() {
        for bad in [
            "",
            "nop",
            "unop",
            "-1",
            "+1",
            "1e6",
            "1.5",
            "1.5unop",
            "0.0000001nop",
            "1..2nop",
            ".5nop",
            "1,000",
            "1_000",
            "abc",
            "1 2",
            "١٢",
            "1.-5nop",
            "3.nop",
            "340282366920938463463374607431768211456",
            "340282366920938463463374607431768211455nop",
        ] {
            assert!(parse_amount(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn nop_formatting_drops_trailing_zeros() {
        assert_eq!(format_nop(0), "0");
        assert_eq!(format_nop(1), "0.000001");
        assert_eq!(format_nop(1_500_000), "1.5");
        assert_eq!(format_nop(2_000_000), "2");
        assert_eq!(describe(1_000_123), "1.000123 NOP (1000123 unop)");
        assert_eq!(describe(0), "0.000000 NOP (0 unop)");
        assert_eq!(format_nop_fixed(1_000_000_000), "1000.000000");
        assert_eq!(
            describe(u128::MAX),
            "340282366920938463463374607431768.211455 NOP (340282366920938463463374607431768211455 unop)"
        );
    }

    #[test]
    fn ppm_shows_as_a_percentage() {
        assert_eq!(format_ppm(0), "0 % (0 ppm)");
        assert_eq!(format_ppm(100_000), "10 % (100000 ppm)");
        assert_eq!(format_ppm(12_345), "1.2345 % (12345 ppm)");
        assert_eq!(format_ppm(1), "0.0001 % (1 ppm)");
        assert_eq!(format_ppm(1_000_000), "100 % (1000000 ppm)");
    }
}
