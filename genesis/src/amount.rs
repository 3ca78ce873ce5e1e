//! Token amounts on the command line: `1500` or `1500unop` (base units), `1000nop`, `0.25nop`.

use nodeop_app::modules::bank::UNOP_PER_NOP;

/// Parses an amount in unop. A `nop` suffix multiplies by 1_000_000 and allows up to six
/// decimals; no suffix or `unop` means base units.
pub fn parse_amount(text: &str) -> Result<u128, String> {
    let s = text.trim();
    let bad = |why: &str| format!("amount {text:?}: {why} (e.g. 2500000, 2500000unop, 2.5nop)");
    let (number, scale_decimals) = if let Some(n) = s.strip_suffix("unop") {
        (n, 0u32)
    } else if let Some(n) = s.strip_suffix("nop") {
        (n, 6u32)
    } else {
        (s, 0u32)
    };
    let number = number.trim_end();
    if number.is_empty() {
        return Err(bad("no number"));
    }
    let (whole, frac) = match number.split_once('.') {
        Some((w, f)) => (w, f),
        None => (number, ""),
    };
    let digits_ok = |d: &str| d.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits_ok(whole) || !digits_ok(frac) {
        return Err(bad("not a whole number or decimal"));
    }
    if frac.len() > scale_decimals as usize {
        return Err(bad(if scale_decimals == 0 {
            "unop is the smallest unit; no decimals"
        } else {
            "at most 6 decimals of nop"
        }));
    }
    let whole: u128 = whole.parse().map_err(|_| bad("too large"))?;
    let mut frac_value: u128 = 0;
    if !frac.is_empty() {
        frac_value = frac.parse().map_err(|_| bad("bad decimals"))?;
        // pad the decimals to six digits: "25" → 250000
        let pad = scale_decimals - frac.len() as u32;
        frac_value = frac_value
            .checked_mul(10u128.pow(pad))
            .ok_or_else(|| bad("too large"))?;
    }
    let scale = if scale_decimals == 6 { UNOP_PER_NOP } else { 1 };
    whole
        .checked_mul(scale)
        .and_then(|w| w.checked_add(frac_value))
        .ok_or_else(|| bad("too large"))
}

/// `1234500000` → `"1234.5 NOP (1234500000 unop)"`.
pub fn format_amount(unop: u128) -> String {
    let whole = unop / UNOP_PER_NOP;
    let frac = unop % UNOP_PER_NOP;
    if frac == 0 {
        format!("{whole} NOP ({unop} unop)")
    } else {
        let f = format!("{frac:06}");
        format!("{whole}.{} NOP ({unop} unop)", f.trim_end_matches('0'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_parse() {
        assert_eq!(parse_amount("1500").unwrap(), 1500);
        assert_eq!(parse_amount("1500unop").unwrap(), 1500);
        assert_eq!(parse_amount("1000nop").unwrap(), 1_000_000_000);
        assert_eq!(parse_amount("2.5nop").unwrap(), 2_500_000);
        assert_eq!(parse_amount("0.000001nop").unwrap(), 1);
        assert_eq!(parse_amount(" 7 nop ").unwrap(), 7_000_000);
        for bad in [
            "",
            "nop",
            "1.5",
            "1.5unop",
            "0.0000001nop",
            "-1",
            "1e6",
            "x",
            ".5nop",
        ] {
            assert!(parse_amount(bad).is_err(), "{bad:?}");
        }
        assert!(parse_amount("340282366920938463463374607431768211456").is_err());
        assert!(parse_amount("340282366920938463463374607431768211455nop").is_err());
    }

    #[test]
    fn amounts_format() {
        assert_eq!(format_amount(1_234_500_000), "1234.5 NOP (1234500000 unop)");
        assert_eq!(format_amount(3_000_000), "3 NOP (3000000 unop)");
        assert_eq!(format_amount(1), "0.000001 NOP (1 unop)");
    }
}
