//! Seeds and weighted sampling (PROTOCOL.md §1).
//!
//! ```text
//! seed      = SHA-256("nodeop/seed" ‖ prev_app_hash (32) ‖ height (8, BE) ‖ domain ‖ id (8, BE))
//! stream[k] = SHA-256(seed ‖ k (8, BE)),  k = 0, 1, 2, …
//! draw      = the first 16 bytes of stream[k] as a big-endian u128
//! ```
//! Domains: `tasks/assign` (a task's first committee, id = task id; a re-execution task uses
//! its own id), `tasks/escalate` (the escalated committee), `tasks/schedule` (the submission
//! order).
//!
//! Weighted sampling without replacement: candidates in address order with positive weights;
//! each draw takes `r = draw mod W` (W = the remaining total weight) and picks the first
//! candidate whose cumulative weight exceeds `r`, then removes it. The modulo bias is below
//! `W / 2^128` per draw (W < 2^100 for any real stake), far below anything observable.
//!
//! The previous app hash is fixed before the current block's proposer acts, but the previous
//! proposer chose which txs went into the previous block and so could try several orderings
//! to steer the hash; that residual bias is documented in `docs/tasks.md`.

use crate::block::BlockCtx;
use crate::crypto::{sha256, Address};

pub const DOMAIN_ASSIGN: &[u8] = b"tasks/assign";
pub const DOMAIN_ESCALATE: &[u8] = b"tasks/escalate";
pub const DOMAIN_SCHEDULE: &[u8] = b"tasks/schedule";

pub fn seed(ctx: &BlockCtx, domain: &[u8], id: u64) -> [u8; 32] {
    sha256(&[
        b"nodeop/seed",
        &ctx.prev_app_hash,
        &ctx.height.to_be_bytes(),
        domain,
        &id.to_be_bytes(),
    ])
}

/// The counter expansion of a seed.
pub struct Stream {
    seed: [u8; 32],
    counter: u64,
}

impl Stream {
    pub fn new(seed: [u8; 32]) -> Self {
        Self { seed, counter: 0 }
    }

    pub fn next_u128(&mut self) -> u128 {
        let block = sha256(&[&self.seed, &self.counter.to_be_bytes()]);
        self.counter += 1;
        let mut b = [0u8; 16];
        b.copy_from_slice(&block[..16]);
        u128::from_be_bytes(b)
    }
}

/// Picks `k` distinct candidates (indices into `candidates`, in draw order) with probability
/// proportional to weight; `None` when fewer than `k` have a positive weight or the weights
/// overflow.
pub fn sample(candidates: &[(Address, u128)], k: usize, seed: [u8; 32]) -> Option<Vec<usize>> {
    let mut pool: Vec<(usize, u128)> = candidates
        .iter()
        .enumerate()
        .filter(|(_, (_, w))| *w > 0)
        .map(|(i, (_, w))| (i, *w))
        .collect();
    if pool.len() < k {
        return None;
    }
    let mut total = pool
        .iter()
        .try_fold(0u128, |acc, (_, w)| acc.checked_add(*w))?;
    let mut stream = Stream::new(seed);
    let mut out = Vec::with_capacity(k);
    for _ in 0..k {
        let r = stream.next_u128() % total;
        let mut acc = 0u128;
        let mut pick = pool.len() - 1;
        for (pos, (_, w)) in pool.iter().enumerate() {
            acc += *w;
            if r < acc {
                pick = pos;
                break;
            }
        }
        let (index, w) = pool.remove(pick);
        total -= w;
        out.push(index);
    }
    Some(out)
}

/// The submission order: `members` sorted by `SHA-256(seed ‖ member)` (ties impossible for
/// distinct members short of a hash collision; the address breaks them anyway).
pub fn schedule(members: &[Address], seed: [u8; 32]) -> Vec<Address> {
    let mut keyed: Vec<([u8; 32], Address)> = members
        .iter()
        .map(|m| (sha256(&[&seed, &m.0]), *m))
        .collect();
    keyed.sort();
    keyed.into_iter().map(|(_, m)| m).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cands(weights: &[u128]) -> Vec<(Address, u128)> {
        weights
            .iter()
            .enumerate()
            .map(|(i, w)| (Address([i as u8; 20]), *w))
            .collect()
    }

    #[test]
    fn sampling_is_deterministic_and_without_replacement() {
        let c = cands(&[5, 1, 9, 3, 3, 7, 2]);
        let a = sample(&c, 5, [1; 32]).unwrap();
        assert_eq!(a, sample(&c, 5, [1; 32]).unwrap());
        let mut d = a.clone();
        d.sort();
        d.dedup();
        assert_eq!(d.len(), 5);
        assert_ne!(a, sample(&c, 5, [2; 32]).unwrap());
        // all of them, when k is the number of candidates
        let mut all = sample(&c, 7, [3; 32]).unwrap();
        all.sort();
        assert_eq!(all, (0..7).collect::<Vec<_>>());
    }

    #[test]
    fn zero_weights_are_never_drawn_and_too_few_candidates_fail() {
        let c = cands(&[0, 4, 0, 4]);
        for s in 0..50u8 {
            let mut picked = sample(&c, 2, [s; 32]).unwrap();
            picked.sort();
            assert_eq!(picked, vec![1, 3]);
        }
        assert_eq!(sample(&c, 3, [0; 32]), None);
        assert_eq!(sample(&cands(&[u128::MAX, 1]), 1, [0; 32]), None);
    }

    #[test]
    fn first_draws_follow_the_weights() {
        // weights 1 : 3 : 6 over 20_000 seeds: expected 2_000 / 6_000 / 12_000
        let c = cands(&[1, 3, 6]);
        let mut hits = [0u32; 3];
        for s in 0..20_000u64 {
            let mut seed = [0u8; 32];
            seed[..8].copy_from_slice(&s.to_be_bytes());
            hits[sample(&c, 1, seed).unwrap()[0]] += 1;
        }
        for (got, want) in hits.iter().zip([2_000u32, 6_000, 12_000]) {
            assert!(got.abs_diff(want) < want / 10, "{hits:?}");
        }
    }

    #[test]
    fn the_seed_binds_every_input() {
        let ctx = BlockCtx {
            height: 5,
            time: 0,
            prev_app_hash: [9; 32],
        };
        let s = seed(&ctx, DOMAIN_ASSIGN, 1);
        assert_ne!(s, seed(&ctx, DOMAIN_ASSIGN, 2));
        assert_ne!(s, seed(&ctx, DOMAIN_ESCALATE, 1));
        assert_ne!(s, seed(&BlockCtx { height: 6, ..ctx }, DOMAIN_ASSIGN, 1));
        let m = [Address([1; 20]), Address([2; 20]), Address([3; 20])];
        let order = schedule(&m, s);
        assert_eq!(order.len(), 3);
        assert_eq!(order, schedule(&[m[2], m[0], m[1]], s));
    }
}
