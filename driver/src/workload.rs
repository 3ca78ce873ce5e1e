//! Seeded transfer workloads: the same seed gives the same txs, byte for byte.

use nodeop_app::crypto::Address;
use nodeop_app::params::TxParams;

use crate::chain::{Key, CHAIN_ID};
use crate::rng::Rng;

/// `senders` funded keys and `extra` funded addresses without keys.
pub struct Population {
    pub senders: Vec<Key>,
    pub others: Vec<Address>,
    /// Next nonce of each sender.
    pub nonces: Vec<u64>,
}

pub const START_BALANCE: u128 = 100_000_000;

impl Population {
    pub fn new(rng: &mut Rng, senders: usize, extra: usize) -> Self {
        let senders: Vec<Key> = (0..senders)
            .map(|_| loop {
                // Not every 32 bytes is a valid secret; draw again in that (rare) case.
                if let Some(k) = Key::try_from_secret(&rng.bytes::<32>()) {
                    break k;
                }
            })
            .collect();
        let others = (0..extra).map(|_| Address(rng.bytes::<20>())).collect();
        let nonces = vec![0; senders.len()];
        Self {
            senders,
            others,
            nonces,
        }
    }

    pub fn genesis_accounts(&self) -> Vec<(Address, u128)> {
        self.senders
            .iter()
            .map(|k| k.address)
            .chain(self.others.iter().copied())
            .map(|a| (a, START_BALANCE))
            .collect()
    }

    /// A block of `n` transfers from random senders to random accounts.
    pub fn transfers(&mut self, rng: &mut Rng, params: &TxParams, n: usize) -> Vec<Vec<u8>> {
        let total = (self.senders.len() + self.others.len()) as u64;
        (0..n)
            .map(|_| {
                let s = rng.below(self.senders.len() as u64) as usize;
                let r = rng.below(total) as usize;
                let to = if r < self.senders.len() {
                    self.senders[r].address
                } else {
                    self.others[r - self.senders.len()]
                };
                let amount = 1 + rng.below(1_000) as u128;
                let tx = self.senders[s].send(CHAIN_ID, params, self.nonces[s], &to, amount);
                self.nonces[s] += 1;
                tx
            })
            .collect()
    }
}
