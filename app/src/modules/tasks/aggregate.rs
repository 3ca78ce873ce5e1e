//! Aggregation of a round's reveals (pure functions; `docs/tasks.md` states the same rules).
//!
//! - **Exact**: reveals are grouped by `SHA-256(result)`; the largest group wins, ties broken
//!   by the larger total weight, then by the smaller hash. Final if the group has ≥ quorum
//!   members. Everyone outside the group disagrees.
//! - **Numeric**: values are 8-byte big-endian i64. The weighted median `m` is the *lower*
//!   weighted median: sort by value; `m` is the first value at which the cumulative weight `c`
//!   satisfies `2c ≥ W` (W = total weight), so an exact half/half split takes the lower value.
//!   A member agrees when `|r − m| × 1_000_000 ≤ tolerance_ppm × max(|m|, 1)` (for `m = 0` the
//!   band is `tolerance_ppm / 10⁶` of one unit of the last decimal place, i.e. only 0 unless
//!   the tolerance is 100 %). The aggregate is the weighted mean over agreeing members,
//!   `A = ⌊Σ wᵢ·rᵢ / Σ wᵢ⌋` rounded toward −∞, in i128 after shifting every weight right until
//!   every weight is below `2^(63 − ⌈log2 n⌉)` (so `Σ wᵢ·rᵢ` cannot overflow). Final if ≥ quorum members agree.

use crate::crypto::{sha256, Address};

use super::msg::TaskKind;

/// One member's revealed result and its weight.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reveal {
    pub operator: Address,
    pub weight: u128,
    pub result: Vec<u8>,
}

/// The verdict over a round's reveals (indices into the reveals).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// `None`: no quorum.
    pub result: Option<Vec<u8>>,
    pub agreeing: Vec<usize>,
    pub disagreeing: Vec<usize>,
}

impl Outcome {
    fn no_quorum() -> Self {
        Self {
            result: None,
            agreeing: Vec::new(),
            disagreeing: Vec::new(),
        }
    }
}

pub fn aggregate(kind: TaskKind, reveals: &[Reveal], quorum: u32) -> Outcome {
    match kind {
        TaskKind::Exact => exact(reveals, quorum),
        TaskKind::Numeric { tolerance_ppm, .. } => numeric(reveals, tolerance_ppm, quorum),
    }
}

pub fn exact(reveals: &[Reveal], quorum: u32) -> Outcome {
    // (hash, count, weight, members)
    let mut groups: Vec<([u8; 32], u64, u128, Vec<usize>)> = Vec::new();
    for (i, r) in reveals.iter().enumerate() {
        let h = sha256(&[&r.result]);
        match groups.iter_mut().find(|g| g.0 == h) {
            Some(g) => {
                g.1 += 1;
                g.2 = g.2.saturating_add(r.weight);
                g.3.push(i);
            }
            None => groups.push((h, 1, r.weight, vec![i])),
        }
    }
    // largest count, then larger weight, then smaller hash
    let Some(best) = groups
        .iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(a.2.cmp(&b.2)).then(b.0.cmp(&a.0)))
    else {
        return Outcome::no_quorum();
    };
    if best.1 < u64::from(quorum) {
        return Outcome::no_quorum();
    }
    let agreeing = best.3.clone();
    let disagreeing = (0..reveals.len())
        .filter(|i| !agreeing.contains(i))
        .collect();
    Outcome {
        result: Some(reveals[agreeing[0]].result.clone()),
        agreeing,
        disagreeing,
    }
}

/// An 8-byte big-endian i64, or `None` for any other length.
pub fn numeric_value(bytes: &[u8]) -> Option<i64> {
    Some(i64::from_be_bytes(bytes.try_into().ok()?))
}

/// The lower weighted median of `(value, weight)` pairs (`None` when the total weight is 0).
pub fn weighted_median(values: &[(i64, u128)]) -> Option<i64> {
    let total = values
        .iter()
        .try_fold(0u128, |a, (_, w)| a.checked_add(*w))?;
    if total == 0 {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort();
    let mut acc = 0u128;
    for (v, w) in sorted {
        acc += w;
        // 2·acc ≥ total, without overflow
        if acc >= total - acc {
            return Some(v);
        }
    }
    None
}

/// `|r − m| × 10⁶ ≤ tolerance_ppm × max(|m|, 1)`.
pub fn within_tolerance(r: i64, m: i64, tolerance_ppm: u32) -> bool {
    let diff = (i128::from(r) - i128::from(m)).unsigned_abs();
    let base = i128::from(m).unsigned_abs().max(1);
    diff * 1_000_000 <= u128::from(tolerance_ppm) * base
}

/// `⌊Σ wᵢ·rᵢ / Σ wᵢ⌋` toward −∞ (`None` when no weight remains).
pub fn weighted_mean(values: &[(i64, u128)]) -> Option<i64> {
    // shift every weight right until each is below 2^(63 − ⌈log2 n⌉): then Σ w < 2^63 and
    // |Σ w·r| < 2^126
    let max_bits = values
        .iter()
        .map(|(_, w)| 128 - w.leading_zeros())
        .max()
        .unwrap_or(0);
    let n_bits = usize::BITS - values.len().leading_zeros();
    let shift = (max_bits + n_bits).saturating_sub(63);
    let scaled: Vec<(i64, i128)> = values
        .iter()
        .map(|(v, w)| (*v, (*w >> shift) as i128))
        .collect();
    let sum_w: i128 = scaled.iter().map(|(_, w)| *w).sum();
    if sum_w == 0 {
        return None;
    }
    let sum: i128 = scaled.iter().map(|(v, w)| i128::from(*v) * *w).sum();
    i64::try_from(sum.div_euclid(sum_w)).ok()
}

pub fn numeric(reveals: &[Reveal], tolerance_ppm: u32, quorum: u32) -> Outcome {
    let values: Vec<(i64, u128)> = reveals
        .iter()
        .filter_map(|r| Some((numeric_value(&r.result)?, r.weight)))
        .collect();
    if values.len() != reveals.len() {
        // reveals are size-checked when accepted; a wrong size here is a broken record
        return Outcome::no_quorum();
    }
    let Some(m) = weighted_median(&values) else {
        return Outcome::no_quorum();
    };
    let (agreeing, disagreeing): (Vec<usize>, Vec<usize>) =
        (0..values.len()).partition(|&i| within_tolerance(values[i].0, m, tolerance_ppm));
    if (agreeing.len() as u64) < u64::from(quorum) {
        return Outcome::no_quorum();
    }
    let agreed: Vec<(i64, u128)> = agreeing.iter().map(|&i| values[i]).collect();
    let Some(mean) = weighted_mean(&agreed) else {
        return Outcome::no_quorum();
    };
    Outcome {
        result: Some(mean.to_be_bytes().to_vec()),
        agreeing,
        disagreeing,
    }
}

/// Whether `candidate` counts as the same result as `reference` under the task's rule: equal
/// bytes (Exact), or within tolerance of `reference` (Numeric).
pub fn matches(kind: TaskKind, candidate: &[u8], reference: &[u8]) -> bool {
    match kind {
        TaskKind::Exact => candidate == reference,
        TaskKind::Numeric { tolerance_ppm, .. } => {
            match (numeric_value(candidate), numeric_value(reference)) {
                (Some(c), Some(r)) => within_tolerance(c, r, tolerance_ppm),
                _ => false,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rv(i: u8, weight: u128, result: &[u8]) -> Reveal {
        Reveal {
            operator: Address([i; 20]),
            weight,
            result: result.to_vec(),
        }
    }

    fn num(i: u8, weight: u128, v: i64) -> Reveal {
        rv(i, weight, &v.to_be_bytes())
    }

    #[test]
    fn exact_majority_wins_and_the_rest_disagree() {
        let r = [rv(1, 5, b"a"), rv(2, 5, b"b"), rv(3, 1, b"a")];
        let o = exact(&r, 2);
        assert_eq!(o.result.as_deref(), Some(&b"a"[..]));
        assert_eq!(o.agreeing, vec![0, 2]);
        assert_eq!(o.disagreeing, vec![1]);
    }

    #[test]
    fn exact_ties_go_to_weight_then_to_the_smaller_hash() {
        // 1 vs 1: the heavier wins
        let o = exact(&[rv(1, 5, b"a"), rv(2, 9, b"b")], 1);
        assert_eq!(o.result.as_deref(), Some(&b"b"[..]));
        // equal weight: the smaller SHA-256 wins
        let (ha, hb) = (sha256(&[b"a"]), sha256(&[b"b"]));
        let smaller: &[u8] = if ha < hb { b"a" } else { b"b" };
        let o = exact(&[rv(1, 5, b"a"), rv(2, 5, b"b")], 1);
        assert_eq!(o.result.as_deref(), Some(smaller));
        let o = exact(&[rv(2, 5, b"b"), rv(1, 5, b"a")], 1);
        assert_eq!(o.result.as_deref(), Some(smaller));
    }

    #[test]
    fn exact_without_quorum_finalizes_nothing() {
        let o = exact(&[rv(1, 5, b"a"), rv(2, 5, b"b"), rv(3, 5, b"c")], 2);
        assert_eq!(o.result, None);
        assert!(o.agreeing.is_empty() && o.disagreeing.is_empty());
        assert_eq!(exact(&[], 1).result, None);
    }

    #[test]
    fn weighted_median_takes_the_lower_value_on_an_even_split() {
        assert_eq!(weighted_median(&[(10, 1), (20, 1)]), Some(10));
        assert_eq!(weighted_median(&[(10, 1), (20, 2)]), Some(20));
        assert_eq!(weighted_median(&[(30, 1), (10, 1), (20, 1)]), Some(20));
        assert_eq!(weighted_median(&[(5, 0)]), None);
    }

    #[test]
    fn tolerance_is_relative_to_the_median_and_zero_only_matches_zero() {
        assert!(within_tolerance(101, 100, 10_000));
        assert!(!within_tolerance(102, 100, 10_000));
        assert!(within_tolerance(-101, -100, 10_000));
        assert!(within_tolerance(0, 0, 0));
        assert!(!within_tolerance(1, 0, 999_999));
        assert!(within_tolerance(1, 0, 1_000_000));
        assert!(!within_tolerance(i64::MIN, i64::MAX, 1_000_000));
    }

    #[test]
    fn numeric_mean_over_agreeing_members_floors_toward_minus_infinity() {
        // median 100 (weights 1,1,1); 250 is outside 1 %
        let o = numeric(&[num(1, 1, 100), num(2, 2, 101), num(3, 1, 250)], 10_000, 2);
        assert_eq!(o.agreeing, vec![0, 1]);
        assert_eq!(o.disagreeing, vec![2]);
        // (100·1 + 101·2) / 3 = 100.67 → 100
        assert_eq!(o.result, Some(100i64.to_be_bytes().to_vec()));
        assert_eq!(weighted_mean(&[(-1, 1), (-2, 1)]), Some(-2));
        assert_eq!(weighted_mean(&[(1, 1), (2, 1)]), Some(1));
    }

    #[test]
    fn numeric_without_quorum_finalizes_nothing() {
        let o = numeric(&[num(1, 1, 100), num(2, 1, 200), num(3, 1, 300)], 1_000, 2);
        assert_eq!(o.result, None);
    }

    #[test]
    fn extreme_values_and_weights_do_not_overflow() {
        let w = u128::MAX / 4;
        assert_eq!(
            weighted_mean(&[(i64::MAX, w), (i64::MAX, w), (i64::MAX, w)]),
            Some(i64::MAX)
        );
        assert_eq!(
            weighted_mean(&[(i64::MIN, w), (i64::MIN, w)]),
            Some(i64::MIN)
        );
        let o = numeric(
            &[
                num(1, w, i64::MAX),
                num(2, w, i64::MAX),
                num(3, w, i64::MIN),
            ],
            1_000_000,
            2,
        );
        assert_eq!(o.result, Some(i64::MAX.to_be_bytes().to_vec()));
        assert_eq!(o.disagreeing, vec![2]);
    }

    #[test]
    fn matching_follows_the_kind() {
        assert!(matches(TaskKind::Exact, b"x", b"x"));
        assert!(!matches(TaskKind::Exact, b"x", b"y"));
        let k = TaskKind::Numeric {
            scale: 2,
            tolerance_ppm: 10_000,
        };
        assert!(matches(k, &101i64.to_be_bytes(), &100i64.to_be_bytes()));
        assert!(!matches(k, &110i64.to_be_bytes(), &100i64.to_be_bytes()));
        assert!(!matches(k, b"short", &100i64.to_be_bytes()));
    }
}
