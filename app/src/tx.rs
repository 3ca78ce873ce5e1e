//! The transaction envelope (PROTOCOL.md §2) and its stateless checks.
//!
//! ```text
//! Tx     { body: TxBody, pubkey: [u8; 33], signature: [u8; 64] }            (borsh)
//! TxBody { chain_id: String, nonce: u64, fee: u128, memo: String, msgs: Vec<Msg> }
//! sign bytes = SHA-256("nodeop-tx-v1" ‖ borsh(body))
//! ```
//! `docs/tx-format.md` gives the exact byte layout with test vectors. Message variants are
//! append-only: a variant's borsh index never changes. A second envelope, the Cosmos SDK's
//! `TxRaw` signed in `SIGN_MODE_DIRECT`, decodes into the same [`Tx`] ([`crate::cosmos`],
//! `docs/wallets.md`).
//!
//! Checking a tx happens in two stages. [`check_stateless`] needs only the bytes, the chain id and
//! the params: size, decoding (trailing bytes refused), chain id, message count and contents, memo,
//! fee floor, overflow of the total outflow, and the signature. Then `check_and_execute` (in
//! [`crate::app`]) charges the fee and the nonce on an overlay, and runs the messages on an overlay
//! of their own. CheckTx, PrepareProposal and FinalizeBlock all run this same path.

use borsh::{BorshDeserialize, BorshSerialize};

use crate::crypto::{sha256, Address, SignatureFault, Verifier};
use crate::error::TxError;
use crate::modules::bank::{self, MsgSend};
use crate::modules::coprocessors::{
    MsgAddCollateral, MsgBid, MsgEditCoprocessor, MsgOpenAuction, MsgRegisterCoprocessor,
    MsgWithdrawCollateral,
};
use crate::modules::issuance::MsgClaimVested;
use crate::modules::slashing::{MsgDisputeSlash, MsgProposeSlash, MsgVoteDispute};
use crate::modules::staking::{
    MsgDelegate, MsgEditOperator, MsgRegisterOperator, MsgUndelegate, MsgUnjail,
};
use crate::modules::tasks::{MsgCommitResult, MsgConfirmSubmission, MsgPostTask, MsgRevealResult};
use crate::params::TxParams;

pub const SIGN_DOMAIN: &[u8] = b"nodeop-tx-v1";

/// The bytes after the body in an encoded tx: the pubkey and the signature.
const TX_SUFFIX_LEN: usize = 33 + 64;

#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Tx {
    pub body: TxBody,
    pub pubkey: [u8; 33],
    pub signature: [u8; 64],
}

#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct TxBody {
    pub chain_id: String,
    pub nonce: u64,
    pub fee: u128,
    pub memo: String,
    pub msgs: Vec<Msg>,
}

/// Every message the chain accepts. Append-only: new variants go at the end.
#[allow(clippy::large_enum_variant)] // decoded once per tx; boxing would only add indirection
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum Msg {
    /// 0: move tokens between accounts.
    Send(MsgSend),
    /// 1: become an operator (bind a consensus key, bond a self-bond).
    RegisterOperator(MsgRegisterOperator),
    /// 2: change an operator's metadata.
    EditOperator(MsgEditOperator),
    /// 3: bond tokens to an operator's pool.
    Delegate(MsgDelegate),
    /// 4: start unbonding tokens from an operator's pool.
    Undelegate(MsgUndelegate),
    /// 5: leave jail after `jailed_until`.
    Unjail(MsgUnjail),
    /// 6: report an offence (with `report_bond`).
    ProposeSlash(MsgProposeSlash),
    /// 7: the accused disputes a proposal (with `dispute_bond`).
    DisputeSlash(MsgDisputeSlash),
    /// 8: a validator votes on a disputed proposal.
    VoteDispute(MsgVoteDispute),
    /// 9: a client posts a task and escrows its fee.
    PostTask(MsgPostTask),
    /// 10: a committee member commits to its result.
    CommitResult(MsgCommitResult),
    /// 11: a committee member reveals its result.
    RevealResult(MsgRevealResult),
    /// 12: the scheduled submitter confirms delivery of the aggregate.
    ConfirmSubmission(MsgConfirmSubmission),
    /// 13: a vesting beneficiary claims what has vested.
    ClaimVested(MsgClaimVested),
    /// 14: become a coprocessor (capacity, collateral).
    RegisterCoprocessor(MsgRegisterCoprocessor),
    /// 15: change a coprocessor's capacity or moniker.
    EditCoprocessor(MsgEditCoprocessor),
    /// 16: add free collateral.
    AddCollateral(MsgAddCollateral),
    /// 17: withdraw free collateral after the withdrawal delay.
    WithdrawCollateral(MsgWithdrawCollateral),
    /// 18: a committee member auctions its slot.
    OpenAuction(MsgOpenAuction),
    /// 19: a coprocessor bids on an open auction.
    Bid(MsgBid),
}

/// Wraps each message type into its [`Msg`] variant (`MsgPostTask { .. }.into()`).
macro_rules! msg_from {
    ($($variant:ident($ty:ty)),* $(,)?) => {
        $(impl From<$ty> for Msg {
            fn from(m: $ty) -> Msg {
                Msg::$variant(m)
            }
        })*
    };
}

msg_from!(
    Send(MsgSend),
    RegisterOperator(MsgRegisterOperator),
    EditOperator(MsgEditOperator),
    Delegate(MsgDelegate),
    Undelegate(MsgUndelegate),
    Unjail(MsgUnjail),
    ProposeSlash(MsgProposeSlash),
    DisputeSlash(MsgDisputeSlash),
    VoteDispute(MsgVoteDispute),
    PostTask(MsgPostTask),
    CommitResult(MsgCommitResult),
    RevealResult(MsgRevealResult),
    ConfirmSubmission(MsgConfirmSubmission),
    ClaimVested(MsgClaimVested),
    RegisterCoprocessor(MsgRegisterCoprocessor),
    EditCoprocessor(MsgEditCoprocessor),
    AddCollateral(MsgAddCollateral),
    WithdrawCollateral(MsgWithdrawCollateral),
    OpenAuction(MsgOpenAuction),
    Bid(MsgBid),
);

/// The message builders every program uses (the CLI, the operator agent, the tests): one place
/// that knows how an address goes into a message and how a commitment is computed. Messages with
/// many fields are built as structs and converted with `.into()`.
impl Msg {
    /// `bank.send` of `amount` unop to `to`.
    pub fn send(to: &Address, amount: u128) -> Msg {
        MsgSend {
            to: to.to_bech32(),
            amount,
        }
        .into()
    }

    /// `staking.delegate` of `amount` unop to `operator`'s pool.
    pub fn delegate(operator: &Address, amount: u128) -> Msg {
        MsgDelegate {
            operator: operator.to_bech32(),
            amount,
        }
        .into()
    }

    /// `staking.undelegate` of `amount` unop from `operator`'s pool.
    pub fn undelegate(operator: &Address, amount: u128) -> Msg {
        MsgUndelegate {
            operator: operator.to_bech32(),
            amount,
        }
        .into()
    }

    /// `staking.unjail`.
    pub fn unjail() -> Msg {
        MsgUnjail {}.into()
    }

    /// `slashing.dispute` of `proposal` by the accused.
    pub fn dispute_slash(proposal: u64, reason: &str) -> Msg {
        MsgDisputeSlash {
            proposal,
            reason: reason.to_string(),
        }
        .into()
    }

    /// `slashing.vote` on a disputed `proposal` (`uphold = true` to slash).
    pub fn vote_dispute(proposal: u64, uphold: bool) -> Msg {
        MsgVoteDispute { proposal, uphold }.into()
    }

    /// `tasks.commit` binding `member` to `result` with `salt` (the commitment of
    /// [`crate::modules::tasks::msg::commitment`]).
    pub fn commit_result(task_id: u64, member: &Address, result: &[u8], salt: &[u8; 32]) -> Msg {
        MsgCommitResult {
            task_id,
            commitment: crate::modules::tasks::msg::commitment(task_id, member, result, salt),
        }
        .into()
    }

    /// `tasks.reveal` of `result` and the `salt` it was committed with.
    pub fn reveal_result(task_id: u64, result: &[u8], salt: &[u8; 32]) -> Msg {
        MsgRevealResult {
            task_id,
            result: result.to_vec(),
            salt: *salt,
        }
        .into()
    }

    /// `tasks.confirm` of a delivery with its consumer-side reference.
    pub fn confirm_submission(task_id: u64, target_ref: &str) -> Msg {
        MsgConfirmSubmission {
            task_id,
            target_ref: target_ref.to_string(),
        }
        .into()
    }

    /// `vesting.claim`.
    pub fn claim_vested() -> Msg {
        MsgClaimVested {}.into()
    }
}

impl Msg {
    /// A committee duty: a result's commitment or reveal for a slot, or the scheduled
    /// submitter's delivery confirmation. A tx made only of duties may carry fee 0: it is
    /// included only if every message succeeds, and a refused one is never charged
    /// (docs/tasks.md, "Duties pay no tx fee").
    pub fn is_duty(&self) -> bool {
        matches!(
            self,
            Msg::CommitResult(_) | Msg::RevealResult(_) | Msg::ConfirmSubmission(_)
        )
    }

    /// The name used in events and logs.
    pub fn type_name(&self) -> &'static str {
        match self {
            Msg::Send(_) => "bank.send",
            Msg::RegisterOperator(_) => "staking.register_operator",
            Msg::EditOperator(_) => "staking.edit_operator",
            Msg::Delegate(_) => "staking.delegate",
            Msg::Undelegate(_) => "staking.undelegate",
            Msg::Unjail(_) => "staking.unjail",
            Msg::ProposeSlash(_) => "slashing.propose",
            Msg::DisputeSlash(_) => "slashing.dispute",
            Msg::VoteDispute(_) => "slashing.vote",
            Msg::PostTask(_) => "tasks.post",
            Msg::CommitResult(_) => "tasks.commit",
            Msg::RevealResult(_) => "tasks.reveal",
            Msg::ConfirmSubmission(_) => "tasks.confirm",
            Msg::ClaimVested(_) => "vesting.claim",
            Msg::RegisterCoprocessor(_) => "coprocessors.register",
            Msg::EditCoprocessor(_) => "coprocessors.edit",
            Msg::AddCollateral(_) => "coprocessors.add_collateral",
            Msg::WithdrawCollateral(_) => "coprocessors.withdraw_collateral",
            Msg::OpenAuction(_) => "coprocessors.open_auction",
            Msg::Bid(_) => "coprocessors.bid",
        }
    }

    /// Tokens this message moves out of the signer's account, if any.
    fn outflow(&self) -> u128 {
        match self {
            Msg::Send(m) => m.amount,
            Msg::RegisterOperator(m) => m.self_bond,
            Msg::Delegate(m) => m.amount,
            Msg::PostTask(m) => m.fee,
            Msg::RegisterCoprocessor(m) => m.collateral,
            Msg::AddCollateral(m) => m.amount,
            Msg::EditCoprocessor(_)
            | Msg::WithdrawCollateral(_)
            | Msg::OpenAuction(_)
            | Msg::Bid(_)
            | Msg::CommitResult(_)
            | Msg::RevealResult(_)
            | Msg::ConfirmSubmission(_)
            | Msg::ClaimVested(_)
            | Msg::EditOperator(_)
            | Msg::Undelegate(_)
            | Msg::Unjail(_)
            | Msg::ProposeSlash(_)
            | Msg::DisputeSlash(_)
            | Msg::VoteDispute(_) => 0,
        }
    }

    /// Checks that need no state.
    fn check_stateless(&self) -> Result<(), TxError> {
        match self {
            Msg::Send(m) => bank::check_send_stateless(m)
                .map(|_| ())
                .map_err(TxError::Bank),
            Msg::RegisterOperator(m) => m.check_stateless().map_err(TxError::Staking),
            Msg::EditOperator(m) => m.check_stateless().map_err(TxError::Staking),
            Msg::Delegate(m) => m.check_stateless().map(|_| ()).map_err(TxError::Staking),
            Msg::Undelegate(m) => m.check_stateless().map(|_| ()).map_err(TxError::Staking),
            Msg::Unjail(_) | Msg::VoteDispute(_) => Ok(()),
            Msg::ProposeSlash(m) => m.check_stateless().map(|_| ()).map_err(TxError::Slashing),
            Msg::DisputeSlash(m) => m.check_stateless().map_err(TxError::Slashing),
            Msg::PostTask(m) => m.check_stateless().map_err(TxError::Tasks),
            Msg::ConfirmSubmission(m) => m.check_stateless().map_err(TxError::Tasks),
            Msg::CommitResult(_) | Msg::RevealResult(_) | Msg::ClaimVested(_) => Ok(()),
            Msg::RegisterCoprocessor(m) => m.check_stateless().map_err(TxError::Coprocessors),
            Msg::EditCoprocessor(m) => m.check_stateless().map_err(TxError::Coprocessors),
            Msg::AddCollateral(m) => m.check_stateless().map_err(TxError::Coprocessors),
            Msg::WithdrawCollateral(m) => m.check_stateless().map_err(TxError::Coprocessors),
            Msg::OpenAuction(m) => m.check_stateless().map_err(TxError::Coprocessors),
            Msg::Bid(_) => Ok(()),
        }
    }
}

impl TxBody {
    pub fn sign_bytes(&self) -> [u8; 32] {
        // Encoding an in-memory value into a Vec cannot fail.
        let body = borsh::to_vec(self).unwrap_or_default();
        sha256(&[SIGN_DOMAIN, &body])
    }

    /// Fee 0 on a tx of duties only ([`Msg::is_duty`]): it needs no fee, and it is refused
    /// whole (nonce included) if any of its messages fails.
    pub fn is_fee_free_duty(&self) -> bool {
        self.fee == 0 && !self.msgs.is_empty() && self.msgs.iter().all(Msg::is_duty)
    }
}

impl Tx {
    pub fn signer(&self) -> Address {
        Address::from_pubkey(&self.pubkey)
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        borsh::to_vec(self).unwrap_or_default()
    }
}

/// The hash CometBFT uses for a tx (and our `tx_hash` event attribute): SHA-256 of its bytes.
pub fn tx_hash(bytes: &[u8]) -> [u8; 32] {
    sha256(&[bytes])
}

/// A tx that passed the stateless checks.
#[derive(Clone, Debug)]
pub struct CheckedTx {
    pub tx: Tx,
    pub signer: Address,
    pub hash: [u8; 32],
    pub len: usize,
}

/// Whether a signature for these exact bytes was already verified (see [`crate::app::SigCache`]).
pub trait SignatureMemo {
    fn verified(&self, tx_hash: &[u8; 32]) -> bool;
}

impl SignatureMemo for () {
    fn verified(&self, _: &[u8; 32]) -> bool {
        false
    }
}

/// The minimum fee for a tx of `len` bytes.
pub fn min_fee(params: &TxParams, len: usize) -> Option<u128> {
    params
        .min_fee_per_byte
        .checked_mul(len as u128)?
        .checked_add(params.min_fee_base)
}

/// The tx's hash if its bytes decode and its signature verifies; `None` otherwise (the full
/// check then says why). It reads no state, so a node can run it for a new CheckTx before taking
/// the lock that serialises the app (on the mempool connection's thread, while FinalizeBlock
/// holds the app), then pass the hash to [`crate::App::check_tx_preverified`], whose
/// [`check_stateless`] skips the signature it names. It checks exactly what `check_stateless`
/// would: the same sign bytes, the same verifier.
pub fn preverify(bytes: &[u8], verifier: &Verifier) -> Option<[u8; 32]> {
    // nothing a node accepts is this large; the locked check refuses it by size
    const MAX_PREVERIFY_BYTES: usize = 1 << 20;
    if bytes.len() > MAX_PREVERIFY_BYTES || bytes.len() < TX_SUFFIX_LEN {
        return None;
    }
    // a Cosmos tx's sign bytes need the chain id: the locked check verifies it
    if crate::cosmos::is_cosmos_envelope(bytes) {
        return None;
    }
    let tx: Tx = borsh::from_slice(bytes).ok()?;
    let body_len = bytes.len() - TX_SUFFIX_LEN;
    let sign_bytes = sha256(&[SIGN_DOMAIN, &bytes[..body_len]]);
    verifier
        .verify(&tx.pubkey, &sign_bytes, &tx.signature)
        .ok()?;
    Some(tx_hash(bytes))
}

/// The stateless checks, cheapest first; the signature last. Both envelopes come here: the
/// first bytes say which one a tx is ([`crate::cosmos::is_cosmos_envelope`]), and each decodes
/// into the same [`Tx`]; from there on every check is shared.
pub fn check_stateless(
    bytes: &[u8],
    chain_id: &str,
    params: &TxParams,
    verifier: &Verifier,
    memo: &impl SignatureMemo,
) -> Result<CheckedTx, TxError> {
    if bytes.len() as u64 > params.max_tx_bytes {
        return Err(TxError::TooLarge {
            size: bytes.len() as u64,
            max: params.max_tx_bytes,
        });
    }
    let (tx, cosmos_sign_bytes) = if crate::cosmos::is_cosmos_envelope(bytes) {
        let decoded = crate::cosmos::decode(bytes, chain_id, crate::cosmos::Purpose::Deliver)?;
        (decoded.tx, Some(decoded.sign_bytes))
    } else {
        let tx: Tx = borsh::from_slice(bytes).map_err(|e| TxError::Decode(e.to_string()))?;
        if tx.body.chain_id != chain_id {
            return Err(TxError::WrongChainId {
                expected: chain_id.to_string(),
                got: tx.body.chain_id.clone(),
            });
        }
        (tx, None)
    };
    check_body(&tx.body, bytes.len(), params, true)?;
    let hash = tx_hash(bytes);
    if !memo.verified(&hash) {
        let sign_bytes = match cosmos_sign_bytes {
            Some(sign_bytes) => sign_bytes,
            None => {
                // borsh is canonical and trailing bytes were refused, so the encoded body is
                // exactly the tx bytes before the pubkey and signature: hash them instead of
                // encoding again.
                let body_len = bytes.len() - TX_SUFFIX_LEN;
                debug_assert_eq!(
                    &bytes[..body_len],
                    borsh::to_vec(&tx.body).unwrap_or_default()
                );
                sha256(&[SIGN_DOMAIN, &bytes[..body_len]])
            }
        };
        verifier
            .verify(&tx.pubkey, &sign_bytes, &tx.signature)
            .map_err(|fault| match fault {
                SignatureFault::BadPubkey => TxError::InvalidPubkey,
                SignatureFault::HighS => TxError::HighS,
                SignatureFault::Malformed | SignatureFault::Mismatch => TxError::InvalidSignature,
            })?;
    }
    let signer = tx.signer();
    Ok(CheckedTx {
        tx,
        signer,
        hash,
        len: bytes.len(),
    })
}

/// The checks of a decoded body that need no state and no signature: message count, memo, the
/// fee floor for a tx of `len` bytes (when `fee_floor`), each message's own checks, and the
/// total outflow.
fn check_body(
    body: &TxBody,
    len: usize,
    params: &TxParams,
    fee_floor: bool,
) -> Result<(), TxError> {
    if body.msgs.is_empty() {
        return Err(TxError::NoMsgs);
    }
    if body.msgs.len() > params.max_msgs_per_tx as usize {
        return Err(TxError::TooManyMsgs {
            count: body.msgs.len() as u64,
            max: params.max_msgs_per_tx,
        });
    }
    if body.memo.len() > params.max_memo_bytes as usize {
        return Err(TxError::MemoTooLong {
            len: body.memo.len() as u64,
            max: params.max_memo_bytes,
        });
    }
    let required = min_fee(params, len).ok_or(TxError::AmountOverflow)?;
    if fee_floor && body.fee < required && !body.is_fee_free_duty() {
        return Err(TxError::FeeTooLow {
            required,
            offered: body.fee,
        });
    }
    let mut outflow = body.fee;
    for msg in &body.msgs {
        msg.check_stateless()?;
        outflow = outflow
            .checked_add(msg.outflow())
            .ok_or(TxError::AmountOverflow)?;
    }
    Ok(())
}

/// The stateless checks of an unsigned Cosmos tx for `/cosmos.tx.v1beta1.Service/Simulate`:
/// everything [`check_stateless`] checks except the sign mode, the signature and the fee floor.
pub fn check_simulation(
    bytes: &[u8],
    chain_id: &str,
    params: &TxParams,
) -> Result<CheckedTx, TxError> {
    if bytes.len() as u64 > params.max_tx_bytes {
        return Err(TxError::TooLarge {
            size: bytes.len() as u64,
            max: params.max_tx_bytes,
        });
    }
    if !crate::cosmos::is_cosmos_envelope(bytes) {
        return Err(TxError::CosmosDecode(
            "Simulate takes a Cosmos Tx (body, auth info, signatures)".into(),
        ));
    }
    let tx = crate::cosmos::decode(bytes, chain_id, crate::cosmos::Purpose::Simulate)?.tx;
    check_body(&tx.body, bytes.len(), params, false)?;
    Ok(CheckedTx {
        signer: tx.signer(),
        tx,
        hash: tx_hash(bytes),
        len: bytes.len(),
    })
}
