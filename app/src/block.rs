//! The block: what CometBFT hands the App (requests, votes, evidence) and what the App answers,
//! as domain types (`nodeopd` translates ABCI to and from these), and [`BlockCtx`], the height,
//! time and entropy every hook and message runs in. Nothing here depends on a module.

use crate::error::TxError;
use crate::events::Event;

/// The block a hook or message runs in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockCtx {
    pub height: u64,
    /// BFT time of the block header, unix seconds.
    pub time: i64,
    /// The app hash of the previous block (fixed before this block's proposer acts): the
    /// entropy of every selection the chain makes (PROTOCOL.md §1).
    pub prev_app_hash: [u8; 32],
}

impl BlockCtx {
    pub const GENESIS: BlockCtx = BlockCtx {
        height: 0,
        time: 0,
        prev_app_hash: [0; 32],
    };
}

/// BFT time from the block header.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct BlockTime {
    pub seconds: i64,
    pub nanos: u32,
}

#[derive(Clone, Debug)]
pub struct InitChainRequest {
    pub chain_id: String,
    pub genesis_time: BlockTime,
    pub initial_height: u64,
    /// The `app_state` of genesis.json, as JSON bytes.
    pub app_state: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidatorUpdate {
    pub ed25519_pubkey: [u8; 32],
    pub power: u64,
}

#[derive(Clone, Debug)]
pub struct InitChainResponse {
    pub app_hash: [u8; 32],
    pub validators: Vec<ValidatorUpdate>,
}

/// A validator's participation in the last commit.
#[derive(Clone, Debug)]
pub struct VoteInfo {
    pub validator_address: Vec<u8>,
    pub power: i64,
    pub signed: bool,
}

/// Consensus evidence as CometBFT reports it.
#[derive(Clone, Debug)]
pub struct Misbehavior {
    pub kind: MisbehaviorKind,
    pub validator_address: Vec<u8>,
    /// The validator's voting power at the infraction height.
    pub power: i64,
    pub height: i64,
    pub time: BlockTime,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MisbehaviorKind {
    DuplicateVote,
    LightClientAttack,
    Unknown,
}

/// What the begin-block hooks see of a block: its context, the last commit's votes and the
/// consensus evidence it carries.
#[derive(Clone, Copy, Debug)]
pub struct BeginBlock<'a> {
    pub ctx: BlockCtx,
    pub last_commit: &'a [VoteInfo],
    pub misbehavior: &'a [Misbehavior],
}

#[derive(Clone, Debug)]
pub struct BlockRequest {
    pub height: u64,
    pub time: BlockTime,
    pub hash: Vec<u8>,
    pub proposer_address: Vec<u8>,
    pub txs: Vec<Vec<u8>>,
    pub decided_last_commit: Vec<VoteInfo>,
    pub misbehavior: Vec<Misbehavior>,
}

/// The result of one tx. `code == 0` is success.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TxOutcome {
    pub code: u32,
    pub codespace: String,
    pub log: String,
    pub events: Vec<Event>,
}

impl TxOutcome {
    pub fn is_ok(&self) -> bool {
        self.code == 0
    }

    pub(crate) fn rejected(err: &TxError, events: Vec<Event>) -> Self {
        Self {
            code: err.code(),
            codespace: err.codespace().to_string(),
            log: format!("{}: {err}", err.name()),
            events,
        }
    }
}

#[derive(Clone, Debug)]
pub struct BlockResponse {
    pub tx_results: Vec<TxOutcome>,
    pub events: Vec<Event>,
    pub validator_updates: Vec<ValidatorUpdate>,
    pub app_hash: [u8; 32],
}

#[derive(Clone, Debug, Default)]
pub struct CommitResponse {
    pub height: u64,
    pub app_hash: [u8; 32],
    /// Blocks below this height may be pruned by CometBFT (0: keep everything).
    pub retain_height: u64,
}

#[derive(Clone, Debug)]
pub struct Info {
    pub last_block_height: u64,
    pub last_block_app_hash: Vec<u8>,
    pub chain_id: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckKind {
    New,
    Recheck,
}
