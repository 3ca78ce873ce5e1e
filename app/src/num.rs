//! Integer arithmetic shared by every module: ppm fractions and one exact `⌊a × b / c⌋`.
//!
//! Fractions are parts per million ([`PPM`] = 1.0). Every division floors unless its name says
//! otherwise, and the caller sends the remainder to a named sink. [`mul_div`] is exact over a
//! 256-bit product, so it fails only when `c = 0` or the quotient itself does not fit `u128`;
//! a consensus path that reaches either is in an impossible state and halts naming the invariant
//! it relied on, instead of turning the result into zero. Callers whose divisor can be zero in a
//! valid state (an empty pool, no work in a period) test it before dividing.

use crate::state::fatal;

/// 1.0 in parts per million.
pub const PPM: u128 = 1_000_000;

/// `⌊a × b / c⌋`, exact; `None` when `c = 0` or the quotient does not fit `u128`.
pub fn checked_mul_div(a: u128, b: u128, c: u128) -> Option<u128> {
    mul_div_rem(a, b, c).map(|(q, _)| q)
}

/// The quotient and remainder of `a × b` by `c` over a 256-bit product.
fn mul_div_rem(a: u128, b: u128, c: u128) -> Option<(u128, u128)> {
    if c == 0 {
        return None;
    }
    if let Some(p) = a.checked_mul(b) {
        return Some((p / c, p % c));
    }
    // the 256-bit product (hi, lo) from 64-bit limbs
    let mask = u128::from(u64::MAX);
    let (a1, a0) = (a >> 64, a & mask);
    let (b1, b0) = (b >> 64, b & mask);
    let p00 = a0 * b0;
    let p01 = a0 * b1;
    let p10 = a1 * b0;
    let p11 = a1 * b1;
    let mid = (p00 >> 64) + (p01 & mask) + (p10 & mask);
    let lo = (p00 & mask) | (mid << 64);
    let hi = p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64);
    if hi >= c {
        return None;
    }
    // long division of (hi, lo) by c, one bit at a time; the remainder stays below c
    let mut rem = hi;
    let mut quotient: u128 = 0;
    for i in (0..128).rev() {
        let carry = rem >> 127;
        rem = (rem << 1) | ((lo >> i) & 1);
        quotient <<= 1;
        if carry == 1 || rem >= c {
            rem = rem.wrapping_sub(c);
            quotient |= 1;
        }
    }
    Some((quotient, rem))
}

/// `⌈a × b / c⌉`, exact; `None` when `c = 0` or the quotient does not fit `u128`.
pub fn checked_mul_div_ceil(a: u128, b: u128, c: u128) -> Option<u128> {
    let (floor, rem) = mul_div_rem(a, b, c)?;
    if rem == 0 {
        Some(floor)
    } else {
        floor.checked_add(1)
    }
}

/// `⌊a × b / c⌋` on a consensus path where `c > 0` and the quotient fits by construction
/// (`invariant` says why); otherwise the node halts with that invariant's name.
pub fn mul_div(a: u128, b: u128, c: u128, invariant: &str) -> u128 {
    checked_mul_div(a, b, c).unwrap_or_else(|| {
        fatal(&format!(
            "invariant broken: {invariant} (⌊{a} × {b} / {c}⌋ has no u128 value)"
        ))
    })
}

/// `⌊amount × ppm / 10⁶⌋`: a fraction of at most 1.0 of an amount, which always fits.
pub fn ppm_of(amount: u128, ppm: u32) -> u128 {
    mul_div(
        amount,
        u128::from(ppm),
        PPM,
        "a ppm fraction of an amount fits the amount's range",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mul_div_is_exact_and_does_not_overflow() {
        assert_eq!(checked_mul_div(7, 3, 2), Some(10));
        assert_eq!(checked_mul_div(1, 1, 0), None);
        let big = u128::MAX;
        assert_eq!(checked_mul_div(big, big, big), Some(big));
        assert_eq!(checked_mul_div(big, 3, 4), Some(big / 4 * 3 + 2));
        assert_eq!(checked_mul_div(1 << 100, 1 << 100, 1 << 90), Some(1 << 110));
        assert_eq!(
            checked_mul_div(big, 2, 1),
            None,
            "the quotient does not fit"
        );
        // (2^127 + 1) × (2^127 − 1) / 2^126 = (2^254 − 1) / 2^126 = 2^128 − 1 (floored)
        assert_eq!(
            checked_mul_div((1 << 127) + 1, (1 << 127) - 1, 1 << 126),
            Some(u128::MAX)
        );
        // the narrow split a/c·b + (a%c)·b/c overflowed here although the result fits
        assert_eq!(
            checked_mul_div((1 << 100) + 7, 1 << 50, (1 << 100) + 9),
            Some((1 << 50) - 1)
        );
    }

    #[test]
    fn ceil_rounds_up_only_when_inexact() {
        assert_eq!(checked_mul_div_ceil(7, 3, 2), Some(11));
        assert_eq!(checked_mul_div_ceil(6, 3, 2), Some(9));
        assert_eq!(
            checked_mul_div_ceil(1 << 100, 1 << 60, 1 << 62),
            Some(1 << 98)
        );
        assert_eq!(
            checked_mul_div_ceil((1 << 100) + 1, 1 << 60, 1 << 62),
            Some((1 << 98) + 1)
        );
        assert_eq!(checked_mul_div_ceil(1, 1, 0), None);
        // exact although the product needs 256 bits: 3·2^126 × 2^100 / 3·2^100 = 2^126
        assert_eq!(
            checked_mul_div_ceil(3 << 126, 1 << 100, 3 << 100),
            Some(1 << 126)
        );
    }

    #[test]
    fn ppm_of_floors() {
        assert_eq!(ppm_of(999, 500_000), 499);
        assert_eq!(ppm_of(u128::MAX, 1_000_000), u128::MAX);
    }
}
