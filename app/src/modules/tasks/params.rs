//! tasks' params (PROTOCOL.md §3.4, §4), stored at `tasks/params`. Windows are in heights; the
//! one conversion to seconds (`max_block_seconds`) exists only for the unbonding guard.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use super::msg::Consistency;
use crate::serde_u128;

const NOP: u128 = 1_000_000;

/// A committee's size and the number of agreeing members that finalizes its aggregate.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize,
)]
#[serde(deny_unknown_fields)]
pub struct CommitteeSpec {
    pub size: u32,
    pub quorum: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TasksParams {
    /// Committee sizes and quorums per consistency level (1 of 1, 2 of 3, 5 of 7).
    pub eventual: CommitteeSpec,
    pub session: CommitteeSpec,
    pub strong: CommitteeSpec,
    /// Commits are accepted in blocks `(h_assign, h_assign + commit_blocks]`.
    pub commit_blocks: u64,
    /// Reveals in the next `reveal_blocks` blocks.
    pub reveal_blocks: u64,
    /// Blocks per submission window (W).
    pub submission_window: u64,
    /// How many scheduled submission windows precede the window open to any bonded operator.
    pub max_fallbacks: u32,
    /// The treasury's share of every fee (ppm).
    pub protocol_fee_ppm: u32,
    /// The share of the fee held for the submitter (ppm).
    pub submission_fee_ppm: u32,
    /// The largest inline payload (bytes).
    pub max_payload_bytes: u32,
    /// The largest Exact result (bytes).
    pub max_result_bytes: u32,
    /// The re-execution committee of a disputed result_mismatch proposal.
    pub reexec_size: u32,
    /// Blocks a finished task stays in state before it is pruned (its result record stays).
    pub task_retention: u64,
    /// Price of one difficulty unit (unop): bounds and the genesis value.
    #[serde(with = "serde_u128")]
    pub min_unit_price: u128,
    #[serde(with = "serde_u128")]
    pub max_unit_price: u128,
    #[serde(with = "serde_u128")]
    pub initial_unit_price: u128,
    /// The utilisation of total operator capacity the price steers toward (ppm).
    pub target_utilisation_ppm: u32,
    /// The largest difficulty a task may ask for.
    pub max_difficulty_units: u64,
    /// The block interval (seconds) the unbonding guard assumes when it converts the longest
    /// task lifetime in blocks into seconds; genesis validation requires
    /// `max_task_lifetime_blocks × max_block_seconds ≤ slashing.max_task_lifetime_seconds`.
    /// 1 s is CometBFT's `timeout_commit`; a network with slower blocks raises it (the default
    /// slashing lifetime of 3_600 s leaves room for 60 s blocks).
    pub max_block_seconds: i64,
}

impl Default for TasksParams {
    fn default() -> Self {
        Self {
            eventual: CommitteeSpec { size: 1, quorum: 1 },
            session: CommitteeSpec { size: 3, quorum: 2 },
            strong: CommitteeSpec { size: 7, quorum: 5 },
            commit_blocks: 10,
            reveal_blocks: 10,
            submission_window: 5,
            max_fallbacks: 3,
            protocol_fee_ppm: 20_000,
            submission_fee_ppm: 100_000,
            max_payload_bytes: 16 * 1024,
            max_result_bytes: 1024,
            reexec_size: 7,
            task_retention: 100_000,
            min_unit_price: 100,
            max_unit_price: 100 * NOP,
            initial_unit_price: 10_000,
            target_utilisation_ppm: 500_000,
            max_difficulty_units: 1_000_000,
            max_block_seconds: 1,
        }
    }
}

impl TasksParams {
    /// Devnet values: the protocol's windows and a short retention (1_000 blocks).
    pub fn devnet() -> Self {
        Self {
            task_retention: 1_000,
            ..Self::default()
        }
    }

    pub fn committee(&self, consistency: Consistency) -> CommitteeSpec {
        match consistency {
            Consistency::Eventual => self.eventual,
            Consistency::Session => self.session,
            Consistency::Strong => self.strong,
        }
    }

    /// One commit–reveal round, in blocks.
    pub fn round_blocks(&self) -> u64 {
        self.commit_blocks.saturating_add(self.reveal_blocks)
    }

    /// The longest a task can still give rise to a result_mismatch proposal, plus the
    /// re-execution such a proposal can start: the original round, the escalated round and one
    /// re-execution round, `3 × (commit_blocks + reveal_blocks)` blocks.
    pub fn max_task_lifetime_blocks(&self) -> u64 {
        self.round_blocks().saturating_mul(3)
    }

    /// [`Self::max_task_lifetime_blocks`] in seconds at `max_block_seconds` per block.
    pub fn max_task_lifetime_seconds(&self) -> i64 {
        i64::try_from(self.max_task_lifetime_blocks())
            .unwrap_or(i64::MAX)
            .saturating_mul(self.max_block_seconds)
    }

    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (name, c) in [
            ("eventual", self.eventual),
            ("session", self.session),
            ("strong", self.strong),
        ] {
            if c.size == 0 || c.quorum == 0 || c.quorum > c.size {
                out.push(format!(
                    "tasks.params.{name}: quorum {} must be between 1 and the size {}",
                    c.quorum, c.size
                ));
            }
            if c.size > 100 {
                out.push(format!(
                    "tasks.params.{name}: a committee of {} is above 100",
                    c.size
                ));
            }
        }
        if self.commit_blocks == 0 || self.reveal_blocks == 0 || self.submission_window == 0 {
            out.push(
                "tasks.params.commit_blocks, reveal_blocks and submission_window must be at least 1"
                    .into(),
            );
        }
        if self.max_fallbacks == 0 {
            out.push("tasks.params.max_fallbacks must be at least 1".into());
        }
        if u64::from(self.protocol_fee_ppm) + u64::from(self.submission_fee_ppm) > 1_000_000 {
            out.push(
                "tasks.params.protocol_fee_ppm + submission_fee_ppm is above 1_000_000".into(),
            );
        }
        if self.max_payload_bytes == 0 || self.max_result_bytes == 0 {
            out.push("tasks.params.max_payload_bytes and max_result_bytes must be positive".into());
        }
        if self.reexec_size == 0 || self.reexec_size > 100 {
            out.push("tasks.params.reexec_size must be between 1 and 100".into());
        }
        if self.task_retention == 0 {
            out.push("tasks.params.task_retention must be at least 1 block".into());
        }
        if self.min_unit_price == 0
            || self.min_unit_price > self.max_unit_price
            || !(self.min_unit_price..=self.max_unit_price).contains(&self.initial_unit_price)
        {
            out.push(
                "tasks.params: need 0 < min_unit_price <= initial_unit_price <= max_unit_price"
                    .into(),
            );
        }
        if self.target_utilisation_ppm == 0 || self.target_utilisation_ppm > 1_000_000 {
            out.push("tasks.params.target_utilisation_ppm must be in 1..=1_000_000".into());
        }
        if self.max_difficulty_units == 0 {
            out.push("tasks.params.max_difficulty_units must be at least 1".into());
        }
        if self.max_block_seconds <= 0 {
            out.push("tasks.params.max_block_seconds must be positive".into());
        }
        out
    }
}

/// The quorum of a committee whose size no consistency level names (an escalated committee of
/// 2n+1, a re-execution committee): `⌈2m/3⌉`, which gives the protocol's 1/1, 2/3 and 5/7.
pub fn quorum_of(size: u32) -> u32 {
    (2 * u64::from(size)).div_ceil(3) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_two_thirds_rule_reproduces_the_named_quorums() {
        let p = TasksParams::default();
        for c in [p.eventual, p.session, p.strong] {
            assert_eq!(quorum_of(c.size), c.quorum);
        }
        assert_eq!(quorum_of(15), 10);
        assert!(p.problems().is_empty());
        assert!(TasksParams::devnet().problems().is_empty());
    }

    #[test]
    fn bad_params_are_listed() {
        let p = TasksParams {
            session: CommitteeSpec { size: 3, quorum: 4 },
            protocol_fee_ppm: 950_000,
            initial_unit_price: 0,
            ..TasksParams::default()
        };
        assert_eq!(p.problems().len(), 3);
    }
}
