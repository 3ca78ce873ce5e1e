//! Stable error codes for rejected txs and queries.
//!
//! Every rejection carries a `(codespace, code)` pair. Codes are append-only: a code is never
//! renumbered or reused, so wallets can match on them. `docs/errors.md` lists every pair, and a
//! test checks that the list and this file agree.

use crate::modules::bank::BankError;
use crate::modules::coprocessors::CoprocessorsError;
use crate::modules::issuance::IssuanceError;
use crate::modules::slashing::SlashingError;
use crate::modules::staking::StakingError;
use crate::modules::tasks::TasksError;

pub const CODESPACE_TX: &str = "tx";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TxError {
    #[error("tx is {size} bytes; the limit is max_tx_bytes = {max}")]
    TooLarge { size: u64, max: u64 },
    #[error("tx bytes do not decode as a borsh Tx: {0}")]
    Decode(String),
    #[error("tx is for chain {got:?}, this chain is {expected:?}")]
    WrongChainId { expected: String, got: String },
    #[error("pubkey is not a compressed secp256k1 point")]
    InvalidPubkey,
    #[error("signature does not verify for this pubkey and body")]
    InvalidSignature,
    #[error("signature has a high S value; sign with low S (s <= n/2)")]
    HighS,
    #[error("nonce {got} was already used; the account's next nonce is {expected}")]
    NonceReplayed { expected: u64, got: u64 },
    #[error("nonce {got} is ahead of the account's next nonce {expected}")]
    NonceGap { expected: u64, got: u64 },
    #[error("fee {offered} unop is below the minimum {required} unop for this tx's size")]
    FeeTooLow { required: u128, offered: u128 },
    #[error("balance {balance} unop cannot pay the fee {fee} unop")]
    CannotPayFee { balance: u128, fee: u128 },
    #[error("tx has no messages")]
    NoMsgs,
    #[error("tx has {count} messages; the limit is max_msgs_per_tx = {max}")]
    TooManyMsgs { count: u64, max: u32 },
    #[error("memo is {len} bytes; the limit is max_memo_bytes = {max}")]
    MemoTooLong { len: u64, max: u32 },
    #[error("fee plus amounts overflows u128")]
    AmountOverflow,
    #[error("the chain has no genesis yet")]
    NotInitialized,
    /// CheckTx only (never a block result): the mempool already holds as many txs or bytes as
    /// app.toml's `[mempool]` limits allow until the next block.
    #[error(
        "the mempool holds {txs} txs / {bytes} bytes (limits {max_txs} txs / {max_txs_bytes} \
         bytes); retry later"
    )]
    MempoolFull {
        txs: u64,
        bytes: u64,
        max_txs: u64,
        max_txs_bytes: u64,
    },
    /// The bytes start like a Cosmos `TxRaw` (docs/wallets.md) but do not decode as one.
    #[error("tx bytes do not decode as a Cosmos TxRaw: {0}")]
    CosmosDecode(String),
    #[error("sign mode {0} is not supported; sign in SIGN_MODE_DIRECT (1)")]
    UnsupportedSignMode(String),
    #[error(
        "the tx has {signer_infos} signer infos and {signatures} signatures; a nodeop tx has \
         exactly one signer and one signature"
    )]
    NotOneSigner { signer_infos: u64, signatures: u64 },
    #[error("timeout_height is {0}; nodeop does not support timeout heights, leave it 0")]
    TimeoutHeight(u64),
    #[error("the tx body carries extension options; nodeop supports none")]
    ExtensionOptions,
    #[error("the fee is {0}; it must be one coin of unop (or no coin, for a fee-free duty)")]
    FeeDenom(String),
    #[error(
        "the fee names a payer or a granter, or the tx a tip; a nodeop tx is paid by its signer"
    )]
    FeeDelegation,
    #[error(
        "multisig keys and multisig sign modes are not supported; sign with one secp256k1 key"
    )]
    Multisig,
    #[error("public key {0} is not supported; use a /cosmos.crypto.secp256k1.PubKey of 33 bytes")]
    UnsupportedPubkey(String),
    #[error("message {index} has type {type_url:?}, which nodeop does not know (docs/wallets.md)")]
    UnknownMsgType { index: u64, type_url: String },
    #[error("message {index} ({type_url}) is invalid: {reason}")]
    InvalidMsg {
        index: u64,
        type_url: String,
        reason: String,
    },
    #[error("message {index} is sent from {sender}, but the tx is signed by {signer}")]
    SenderMismatch {
        index: u64,
        sender: String,
        signer: String,
    },
    #[error("message {index} sends {found}; a send moves exactly one coin of unop")]
    SendDenom { index: u64, found: String },
    #[error("bank: {0}")]
    Bank(BankError),
    #[error("staking: {0}")]
    Staking(StakingError),
    #[error("slashing: {0}")]
    Slashing(SlashingError),
    #[error("tasks: {0}")]
    Tasks(TasksError),
    #[error("issuance: {0}")]
    Issuance(IssuanceError),
    #[error("coprocessors: {0}")]
    Coprocessors(CoprocessorsError),
}

impl From<CoprocessorsError> for TxError {
    fn from(e: CoprocessorsError) -> Self {
        TxError::Coprocessors(e)
    }
}

impl From<TasksError> for TxError {
    fn from(e: TasksError) -> Self {
        TxError::Tasks(e)
    }
}

impl From<IssuanceError> for TxError {
    fn from(e: IssuanceError) -> Self {
        TxError::Issuance(e)
    }
}

impl From<SlashingError> for TxError {
    fn from(e: SlashingError) -> Self {
        TxError::Slashing(e)
    }
}

impl From<BankError> for TxError {
    fn from(e: BankError) -> Self {
        TxError::Bank(e)
    }
}

impl From<StakingError> for TxError {
    fn from(e: StakingError) -> Self {
        TxError::Staking(e)
    }
}

impl TxError {
    pub fn codespace(&self) -> &'static str {
        match self {
            TxError::Bank(_) => crate::modules::bank::CODESPACE,
            TxError::Staking(_) => crate::modules::staking::CODESPACE,
            TxError::Slashing(_) => crate::modules::slashing::CODESPACE,
            TxError::Tasks(_) => crate::modules::tasks::CODESPACE,
            TxError::Issuance(_) => crate::modules::issuance::CODESPACE,
            TxError::Coprocessors(_) => crate::modules::coprocessors::CODESPACE,
            _ => CODESPACE_TX,
        }
    }

    /// The stable code within the codespace (never 0).
    pub fn code(&self) -> u32 {
        match self {
            TxError::TooLarge { .. } => 1,
            TxError::Decode(_) => 2,
            TxError::WrongChainId { .. } => 3,
            TxError::InvalidPubkey => 4,
            TxError::InvalidSignature => 5,
            TxError::HighS => 6,
            TxError::NonceReplayed { .. } => 7,
            TxError::NonceGap { .. } => 8,
            TxError::FeeTooLow { .. } => 9,
            TxError::CannotPayFee { .. } => 10,
            TxError::NoMsgs => 11,
            TxError::TooManyMsgs { .. } => 12,
            TxError::MemoTooLong { .. } => 13,
            TxError::AmountOverflow => 14,
            TxError::NotInitialized => 15,
            TxError::MempoolFull { .. } => 16,
            TxError::CosmosDecode(_) => 17,
            TxError::UnsupportedSignMode(_) => 18,
            TxError::NotOneSigner { .. } => 19,
            TxError::TimeoutHeight(_) => 20,
            TxError::ExtensionOptions => 21,
            TxError::FeeDenom(_) => 22,
            TxError::FeeDelegation => 23,
            TxError::Multisig => 24,
            TxError::UnsupportedPubkey(_) => 25,
            TxError::UnknownMsgType { .. } => 26,
            TxError::InvalidMsg { .. } => 27,
            TxError::SenderMismatch { .. } => 28,
            TxError::SendDenom { .. } => 29,
            TxError::Bank(e) => e.code(),
            TxError::Staking(e) => e.code(),
            TxError::Slashing(e) => e.code(),
            TxError::Tasks(e) => e.code(),
            TxError::Issuance(e) => e.code(),
            TxError::Coprocessors(e) => e.code(),
        }
    }

    /// A stable machine-readable name (also in docs/errors.md).
    pub fn name(&self) -> &'static str {
        match self {
            TxError::TooLarge { .. } => "tx_too_large",
            TxError::Decode(_) => "tx_decode",
            TxError::WrongChainId { .. } => "wrong_chain_id",
            TxError::InvalidPubkey => "invalid_pubkey",
            TxError::InvalidSignature => "invalid_signature",
            TxError::HighS => "high_s_signature",
            TxError::NonceReplayed { .. } => "nonce_replayed",
            TxError::NonceGap { .. } => "nonce_gap",
            TxError::FeeTooLow { .. } => "fee_too_low",
            TxError::CannotPayFee { .. } => "cannot_pay_fee",
            TxError::NoMsgs => "no_msgs",
            TxError::TooManyMsgs { .. } => "too_many_msgs",
            TxError::MemoTooLong { .. } => "memo_too_long",
            TxError::AmountOverflow => "amount_overflow",
            TxError::NotInitialized => "not_initialized",
            TxError::MempoolFull { .. } => "mempool_full",
            TxError::CosmosDecode(_) => "cosmos_tx_decode",
            TxError::UnsupportedSignMode(_) => "unsupported_sign_mode",
            TxError::NotOneSigner { .. } => "not_one_signer",
            TxError::TimeoutHeight(_) => "timeout_height_set",
            TxError::ExtensionOptions => "extension_options",
            TxError::FeeDenom(_) => "fee_not_unop",
            TxError::FeeDelegation => "fee_delegation",
            TxError::Multisig => "multisig_unsupported",
            TxError::UnsupportedPubkey(_) => "unsupported_pubkey_type",
            TxError::UnknownMsgType { .. } => "unknown_msg_type",
            TxError::InvalidMsg { .. } => "invalid_msg",
            TxError::SenderMismatch { .. } => "sender_mismatch",
            TxError::SendDenom { .. } => "send_not_unop",
            TxError::Bank(e) => e.name(),
            TxError::Staking(e) => e.name(),
            TxError::Slashing(e) => e.name(),
            TxError::Tasks(e) => e.name(),
            TxError::Issuance(e) => e.name(),
            TxError::Coprocessors(e) => e.name(),
        }
    }

    /// One example of every error, for documentation checks.
    pub fn examples() -> Vec<TxError> {
        let mut v = vec![
            TxError::TooLarge { size: 0, max: 0 },
            TxError::Decode(String::new()),
            TxError::WrongChainId {
                expected: String::new(),
                got: String::new(),
            },
            TxError::InvalidPubkey,
            TxError::InvalidSignature,
            TxError::HighS,
            TxError::NonceReplayed {
                expected: 0,
                got: 0,
            },
            TxError::NonceGap {
                expected: 0,
                got: 0,
            },
            TxError::FeeTooLow {
                required: 0,
                offered: 0,
            },
            TxError::CannotPayFee { balance: 0, fee: 0 },
            TxError::NoMsgs,
            TxError::TooManyMsgs { count: 0, max: 0 },
            TxError::MemoTooLong { len: 0, max: 0 },
            TxError::AmountOverflow,
            TxError::NotInitialized,
            TxError::MempoolFull {
                txs: 0,
                bytes: 0,
                max_txs: 0,
                max_txs_bytes: 0,
            },
            TxError::CosmosDecode(String::new()),
            TxError::UnsupportedSignMode(String::new()),
            TxError::NotOneSigner {
                signer_infos: 0,
                signatures: 0,
            },
            TxError::TimeoutHeight(0),
            TxError::ExtensionOptions,
            TxError::FeeDenom(String::new()),
            TxError::FeeDelegation,
            TxError::Multisig,
            TxError::UnsupportedPubkey(String::new()),
            TxError::UnknownMsgType {
                index: 0,
                type_url: String::new(),
            },
            TxError::InvalidMsg {
                index: 0,
                type_url: String::new(),
                reason: String::new(),
            },
            TxError::SenderMismatch {
                index: 0,
                sender: String::new(),
                signer: String::new(),
            },
            TxError::SendDenom {
                index: 0,
                found: String::new(),
            },
        ];
        v.extend(BankError::examples().into_iter().map(TxError::Bank));
        v.extend(StakingError::examples().into_iter().map(TxError::Staking));
        v.extend(SlashingError::examples().into_iter().map(TxError::Slashing));
        v.extend(TasksError::examples().into_iter().map(TxError::Tasks));
        v.extend(IssuanceError::examples().into_iter().map(TxError::Issuance));
        v.extend(
            CoprocessorsError::examples()
                .into_iter()
                .map(TxError::Coprocessors),
        );
        v
    }
}

/// Errors of the query path (codespace `query`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("unknown query path {0:?}; see docs/queries.md")]
    UnknownPath(String),
    #[error("bad query argument: {0}")]
    BadArgument(String),
    #[error("height {height} is not available: {reason}")]
    HeightUnavailable { height: u64, reason: String },
    #[error("not found: {0}")]
    NotFound(String),
    #[error("listing at a past height is not supported; query the latest height")]
    ListingAtPastHeight,
    #[error("storage error: {0}")]
    Storage(String),
    /// `/cosmos.tx.v1beta1.Service/Simulate`: the tx would be refused with `codespace/code`.
    #[error("simulation failed with {codespace}/{code}: {reason}")]
    SimulationFailed {
        codespace: String,
        code: u32,
        reason: String,
    },
}

pub const CODESPACE_QUERY: &str = "query";

impl QueryError {
    pub fn code(&self) -> u32 {
        match self {
            QueryError::UnknownPath(_) => 1,
            QueryError::BadArgument(_) => 2,
            QueryError::HeightUnavailable { .. } => 3,
            QueryError::NotFound(_) => 4,
            QueryError::ListingAtPastHeight => 5,
            QueryError::Storage(_) => 6,
            QueryError::SimulationFailed { .. } => 7,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            QueryError::UnknownPath(_) => "unknown_path",
            QueryError::BadArgument(_) => "bad_argument",
            QueryError::HeightUnavailable { .. } => "height_unavailable",
            QueryError::NotFound(_) => "not_found",
            QueryError::ListingAtPastHeight => "listing_at_past_height",
            QueryError::Storage(_) => "storage",
            QueryError::SimulationFailed { .. } => "simulation_failed",
        }
    }

    pub fn examples() -> Vec<QueryError> {
        vec![
            QueryError::UnknownPath(String::new()),
            QueryError::BadArgument(String::new()),
            QueryError::HeightUnavailable {
                height: 0,
                reason: String::new(),
            },
            QueryError::NotFound(String::new()),
            QueryError::ListingAtPastHeight,
            QueryError::Storage(String::new()),
            QueryError::SimulationFailed {
                codespace: String::new(),
                code: 0,
                reason: String::new(),
            },
        ]
    }
}
