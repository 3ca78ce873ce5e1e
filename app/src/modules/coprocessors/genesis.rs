//! coprocessors' genesis content: params and (in an export) every coprocessor, its reputation
//! record, every auction and bid, and the queued withdrawals. Index keys are derived on import.
//! Nothing is written for a section left at its defaults, so a chain without coprocessors has
//! the state it had before the module existed.

use serde::{Deserialize, Serialize};

use super::keys;
use super::params::CoprocessorsParams;
use super::settle::all_auctions;
use super::state::{
    coprocessors, put_auction, put_coprocessor, withdrawals, Auction, AuctionStatus, Bid,
    Coprocessor, Withdrawal,
};
use crate::crypto::Address;
use crate::modules::reputation::OperatorReputation;
use crate::modules::staking;
use crate::state::{decode_stored, StateRead, StateReadExt, StateWrite, StateWriteExt};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisCoprocessorReputation {
    pub address: Address,
    pub record: OperatorReputation,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CoprocessorsGenesis {
    pub params: CoprocessorsParams,
    pub next_auction_id: u64,
    pub next_withdrawal_id: u64,
    /// The last staking epoch the coprocessors' reputations took (absent before the first
    /// registration), and the height it was processed at. Both absent with coprocessors listed
    /// (a hand-written genesis): staking's last epoch and the chain's first height.
    pub last_epoch: Option<u64>,
    pub last_epoch_height: Option<u64>,
    pub coprocessors: Vec<Coprocessor>,
    pub reputations: Vec<GenesisCoprocessorReputation>,
    pub auctions: Vec<Auction>,
    pub bids: Vec<Bid>,
    pub withdrawals: Vec<Withdrawal>,
}

impl Default for CoprocessorsGenesis {
    fn default() -> Self {
        Self {
            params: CoprocessorsParams::default(),
            next_auction_id: 1,
            next_withdrawal_id: 1,
            last_epoch: None,
            last_epoch_height: None,
            coprocessors: Vec::new(),
            reputations: Vec::new(),
            auctions: Vec::new(),
            bids: Vec::new(),
            withdrawals: Vec::new(),
        }
    }
}

impl CoprocessorsGenesis {
    /// What the coprocessors' collateral adds up to (must equal the `coprocessor_collateral`
    /// balance); `None` on overflow.
    pub fn held(&self) -> Option<u128> {
        self.coprocessors.iter().try_fold(0u128, |t, c| {
            t.checked_add(c.free_collateral)?
                .checked_add(c.locked_collateral)?
                .checked_add(c.pending_collateral)
        })
    }

    pub fn problems(&self) -> Vec<String> {
        let mut out = self.params.problems();
        let mut seen = std::collections::BTreeSet::new();
        for c in &self.coprocessors {
            if !seen.insert(c.address) {
                out.push(format!(
                    "coprocessors.coprocessors: {} is listed twice",
                    c.address
                ));
            }
            if c.reserved_units > c.capacity_units {
                out.push(format!(
                    "coprocessors.coprocessors: {} reserves more than its capacity",
                    c.address
                ));
            }
        }
        if self.held().is_none() {
            out.push("coprocessors.coprocessors: the collateral overflows u128".into());
        }
        for a in &self.auctions {
            if a.id == 0 || a.id >= self.next_auction_id {
                out.push(format!(
                    "coprocessors.auctions: id {} is not below next_auction_id",
                    a.id
                ));
            }
            if a.winner.is_some_and(|w| !seen.contains(&w)) {
                out.push(format!(
                    "coprocessors.auctions: auction {}'s winner is unknown",
                    a.id
                ));
            }
        }
        for w in &self.withdrawals {
            if !seen.contains(&w.coprocessor) || w.id >= self.next_withdrawal_id {
                out.push(format!(
                    "coprocessors.withdrawals: withdrawal {} names an unknown coprocessor or an \
                     id not below next_withdrawal_id",
                    w.id
                ));
            }
        }
        out
    }

    /// Writes this genesis (`initial_height`: the chain's first block).
    pub fn apply(&self, state: &mut impl StateWrite, initial_height: u64) {
        if self.params != CoprocessorsParams::default() {
            state.put(keys::PARAMS.to_vec(), &self.params);
        }
        if self.next_auction_id != 1 {
            state.put(keys::NEXT_AUCTION_ID.to_vec(), &self.next_auction_id);
        }
        if self.next_withdrawal_id != 1 {
            state.put(keys::NEXT_WITHDRAWAL_ID.to_vec(), &self.next_withdrawal_id);
        }
        // coprocessors registered at genesis start the epoch clock of their reputations at the
        // first block, as the first registration in a block would (without it they would never
        // take an epoch step)
        let (last_epoch, last_epoch_height) = match (
            self.last_epoch,
            self.last_epoch_height,
            self.coprocessors.is_empty(),
        ) {
            (None, None, false) => (
                Some(state.get(staking::keys::LAST_EPOCH).unwrap_or(0u64)),
                Some(initial_height),
            ),
            (e, h, _) => (e, h),
        };
        if let Some(e) = last_epoch {
            state.put(keys::LAST_EPOCH.to_vec(), &e);
        }
        if let Some(h) = last_epoch_height {
            state.put(keys::LAST_EPOCH_HEIGHT.to_vec(), &h);
        }
        for c in &self.coprocessors {
            put_coprocessor(state, c);
        }
        for r in &self.reputations {
            state.put(keys::reputation(&r.address), &r.record);
        }
        for a in &self.auctions {
            put_auction(state, a);
            state.put(keys::by_task(a.task_id, &a.member), &a.id);
            state.put_raw(keys::by_member(&a.member, a.id), vec![1]);
            if a.status == AuctionStatus::Open {
                state.put_raw(keys::open(a.id), vec![1]);
                state.put_raw(keys::expiry(a.expires_height, a.id), vec![1]);
            }
            if let Some(w) = a.winner {
                state.put_raw(keys::by_coprocessor(&w, a.id), vec![1]);
            }
            if a.closed_height.is_some() {
                super::state::schedule_prune(state, a);
            }
        }
        for b in &self.bids {
            state.put(keys::bid(b.auction_id, &b.bidder), b);
        }
        for w in &self.withdrawals {
            state.put(keys::withdrawal(w.maturity_height, w.id), w);
        }
    }

    pub fn export(state: &impl StateRead) -> Self {
        Self {
            params: super::state::params(state),
            next_auction_id: state.get(keys::NEXT_AUCTION_ID).unwrap_or(1),
            next_withdrawal_id: state.get(keys::NEXT_WITHDRAWAL_ID).unwrap_or(1),
            last_epoch: state.get(keys::LAST_EPOCH),
            last_epoch_height: state.get(keys::LAST_EPOCH_HEIGHT),
            coprocessors: coprocessors(state),
            reputations: state
                .prefix_raw(keys::REPUTATION_PREFIX, None, usize::MAX)
                .iter()
                .filter_map(|(k, v)| {
                    Some(GenesisCoprocessorReputation {
                        address: crate::state::keys::address_at(k, keys::REPUTATION_PREFIX.len())?,
                        record: decode_stored(k, v),
                    })
                })
                .collect(),
            auctions: all_auctions(state),
            bids: state
                .prefix_raw(keys::BID_PREFIX, None, usize::MAX)
                .iter()
                .map(|(k, v)| decode_stored(k, v))
                .collect(),
            withdrawals: withdrawals(state),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::genesis::AppState;

    #[test]
    fn the_withdrawal_delay_must_exceed_the_longest_task_and_the_collateral_must_match() {
        let mut g = AppState::default();
        let mention =
            |g: &AppState, what: &str| g.problems("nodeop-test").iter().any(|p| p.contains(what));
        assert!(!mention(&g, "coprocessor"));
        g.coprocessors.params.withdrawal_delay_blocks = g.tasks.params.max_task_lifetime_blocks();
        assert!(mention(&g, "withdrawal_delay_blocks"));
        g.coprocessors.params.withdrawal_delay_blocks += 1;
        g.coprocessors.coprocessors.push(super::Coprocessor {
            address: crate::crypto::Address([9; 20]),
            moniker: String::new(),
            capacity_units: 1,
            reserved_units: 0,
            free_collateral: 5,
            locked_collateral: 0,
            pending_collateral: 0,
            registered_height: 0,
        });
        let problems = g.problems("nodeop-test");
        assert!(problems
            .iter()
            .any(|p| p.contains("coprocessor_collateral")));
    }
}
