//! The fee split of a finalized task (PROTOCOL.md §3.4). Every division floors; every
//! remainder is named.
//!
//! ```text
//! protocol   = ⌊F × protocol_fee_ppm / 10⁶⌋                       → treasury
//! submission = ⌊F × submission_fee_ppm / 10⁶⌋                     → held for the submitter
//! P          = F − protocol − submission
//! repᵢ       = 800_000 + ⌊400_000 × scoreᵢ / 10⁶⌋                 (ppm; scoreᵢ = effective score)
//! latᵢ       = max(800_000, 1_000_000 − ⌊200_000 × delayᵢ / commit_blocks⌋)
//! uᵢ         = ⌊repᵢ × latᵢ / 10⁶⌋                                (ppm)
//! payᵢ       = ⌊P × uᵢ / Σu⌋
//! remainder  = P − Σ payᵢ                                         → treasury
//! ```
//! `delayᵢ` = the commit's height − the round's assignment height − 1 (0 for a commit in the
//! first block of the window).

use crate::num::{mul_div, ppm_of};

pub fn member_weight_ppm(score_ppm: u32, delay_blocks: u64, commit_blocks: u64) -> u64 {
    let score = u64::from(score_ppm.min(1_000_000));
    let rep = 800_000 + 400_000 * score / 1_000_000;
    let penalty = (u128::from(delay_blocks) * 200_000 / u128::from(commit_blocks.max(1)))
        .min(1_000_000) as u64;
    let lat = (1_000_000 - penalty).max(800_000);
    rep * lat / 1_000_000
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Split {
    pub protocol_fee: u128,
    pub submission_fee: u128,
    /// P, what the members share.
    pub members_pool: u128,
    pub pays: Vec<u128>,
    /// P − Σ pay → treasury.
    pub remainder: u128,
}

/// Splits fee `fee` among members with weights `u` (ppm). With no member, all of P is
/// remainder.
pub fn split(fee: u128, protocol_fee_ppm: u32, submission_fee_ppm: u32, u: &[u64]) -> Split {
    let protocol_fee = ppm_of(fee, protocol_fee_ppm);
    let submission_fee = ppm_of(fee, submission_fee_ppm);
    // the params keep protocol + submission ≤ 100 %, so this cannot underflow
    let members_pool = fee
        .saturating_sub(protocol_fee)
        .saturating_sub(submission_fee);
    let total: u128 = u.iter().map(|w| u128::from(*w)).sum();
    let pays: Vec<u128> = u
        .iter()
        .map(|w| {
            if total == 0 {
                0
            } else {
                mul_div(
                    members_pool,
                    u128::from(*w),
                    total,
                    "a member's weight is part of the total weight",
                )
            }
        })
        .collect();
    let paid: u128 = pays.iter().sum();
    Split {
        protocol_fee,
        submission_fee,
        members_pool,
        pays,
        remainder: members_pool - paid,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_weights_follow_score_and_delay() {
        assert_eq!(member_weight_ppm(500_000, 0, 10), 1_000_000);
        assert_eq!(member_weight_ppm(1_000_000, 0, 10), 1_200_000);
        assert_eq!(member_weight_ppm(0, 0, 10), 800_000);
        // delay 5 of 10: latency factor 0.9
        assert_eq!(member_weight_ppm(500_000, 5, 10), 900_000);
        // the latency factor never goes below 0.8
        assert_eq!(member_weight_ppm(500_000, 100, 10), 800_000);
        assert_eq!(member_weight_ppm(0, 100, 10), 640_000);
    }

    #[test]
    fn the_split_conserves_the_fee_to_the_last_unop() {
        for fee in [
            1u128,
            7,
            999,
            1_000_003,
            123_456_789_012,
            u128::from(u64::MAX),
        ] {
            for u in [
                vec![],
                vec![1_000_000],
                vec![1_200_000, 800_000, 999_999],
                vec![3, 3, 3],
            ] {
                let s = split(fee, 20_000, 100_000, &u);
                let paid: u128 = s.pays.iter().sum();
                assert_eq!(s.protocol_fee + s.submission_fee + paid + s.remainder, fee);
                assert_eq!(s.members_pool, fee - s.protocol_fee - s.submission_fee);
                // flooring leaves less than one unop per member
                assert!(s.remainder < (u.len() as u128).max(1) || u.is_empty());
            }
        }
        let s = split(1_000_000, 20_000, 100_000, &[1_000_000, 1_000_000]);
        assert_eq!(s.protocol_fee, 20_000);
        assert_eq!(s.submission_fee, 100_000);
        assert_eq!(s.pays, vec![440_000, 440_000]);
        assert_eq!(s.remainder, 0);
    }
}
