//! Building and signing transactions (PROTOCOL.md §2).
//!
//! A tx is `borsh(Tx { body, pubkey, signature })`; the signature is over
//! `TxBody::sign_bytes()` = SHA-256("nodeop-tx-v1" ‖ borsh(body)). The fee floor depends on the
//! encoded length of the whole signed tx; since the fee is a fixed 16-byte borsh `u128`, the pubkey
//! is 33 bytes and the signature 64, the length is known before signing and one pass suffices.

use anyhow::{anyhow, bail, Context, Result};
use nodeop_app::crypto::Address;
use nodeop_app::modules::bank::check_send_stateless;
use nodeop_app::modules::coprocessors::CoprocessorsError;
use nodeop_app::modules::slashing::{Evidence, SlashingError};
use nodeop_app::modules::staking::{consensus_address, StakingError};
use nodeop_app::modules::tasks::{Consistency, TaskKind, TaskPayload, TasksError};
use nodeop_app::params::TxParams;
use nodeop_app::serde_base64_32;
use nodeop_app::tx::{min_fee, Msg, Tx, TxBody};
use serde::Serialize;

use crate::amount::{describe, format_ppm};
use crate::keys::KeyPair;

/// Bytes a signed tx adds to its body: the 33-byte pubkey and the 64-byte signature.
pub const SIGNATURE_OVERHEAD: usize = 33 + 64;

/// The encoded length of the signed tx that will carry `body`.
pub fn signed_len(body: &TxBody) -> Result<usize> {
    Ok(borsh::to_vec(body).context("encoding the tx body")?.len() + SIGNATURE_OVERHEAD)
}

/// The minimum fee for `body` once signed (`min_fee_base + min_fee_per_byte × tx_len`).
pub fn required_fee(params: &TxParams, body: &TxBody) -> Result<u128> {
    let len = signed_len(body)?;
    min_fee(params, len).context("the minimum fee overflows u128")
}

/// Default `capacity_units` of `register-operator`.
pub const DEFAULT_CAPACITY_UNITS: u64 = 100;
/// Default commission of `register-operator`: 10 %.
pub const DEFAULT_COMMISSION_PPM: u32 = 100_000;

/// Runs the chain's own stateless check of one message (the one CheckTx runs), so that a bad
/// message is refused before anything is signed or sent. The error reads as the node's log would:
/// `name: message`.
pub fn check_msg(msg: &Msg) -> Result<()> {
    let result = match msg {
        Msg::Send(m) => check_send_stateless(m)
            .map(|_| ())
            .map_err(|e| format!("{}: {e}", e.name())),
        Msg::RegisterOperator(m) => m.check_stateless().map_err(staking_error),
        Msg::EditOperator(m) => m.check_stateless().map_err(staking_error),
        Msg::Delegate(m) => m.check_stateless().map(|_| ()).map_err(staking_error),
        Msg::Undelegate(m) => m.check_stateless().map(|_| ()).map_err(staking_error),
        Msg::Unjail(_) | Msg::VoteDispute(_) => Ok(()),
        Msg::ProposeSlash(m) => m.check_stateless().map(|_| ()).map_err(slashing_error),
        Msg::DisputeSlash(m) => m.check_stateless().map_err(slashing_error),
        Msg::PostTask(m) => m.check_stateless().map_err(tasks_error),
        Msg::ConfirmSubmission(m) => m.check_stateless().map_err(tasks_error),
        Msg::RegisterCoprocessor(m) => m.check_stateless().map_err(coprocessors_error),
        Msg::EditCoprocessor(m) => m.check_stateless().map_err(coprocessors_error),
        Msg::AddCollateral(m) => m.check_stateless().map_err(coprocessors_error),
        Msg::WithdrawCollateral(m) => m.check_stateless().map_err(coprocessors_error),
        Msg::OpenAuction(m) => m.check_stateless().map_err(coprocessors_error),
        // A message this client has no check for (the app's enum is append-only): the chain
        // checks it.
        #[allow(unreachable_patterns)]
        _ => Ok(()),
    };
    result.map_err(|e| anyhow!("{}: {e}", msg.type_name()))
}

fn staking_error(e: StakingError) -> String {
    format!("{}: {e}", e.name())
}

fn slashing_error(e: SlashingError) -> String {
    format!("{}: {e}", e.name())
}

fn tasks_error(e: TasksError) -> String {
    format!("{}: {e}", e.name())
}

fn coprocessors_error(e: CoprocessorsError) -> String {
    format!("{}: {e}", e.name())
}

/// Builds the body of a tx carrying `msgs` (executed in order, atomically). With `fee = None` the
/// fee is the minimum for the signed tx's size under `params`; an explicit fee is used as given,
/// even below the minimum (the node then refuses it with `fee_too_low`). Every message is checked
/// as the chain will check it, and the message count, memo and size against `params`.
pub fn build_tx(
    chain_id: &str,
    nonce: u64,
    msgs: Vec<Msg>,
    fee: Option<u128>,
    memo: &str,
    params: &TxParams,
) -> Result<TxBody> {
    if msgs.is_empty() {
        bail!("a tx needs at least one message");
    }
    if msgs.len() > params.max_msgs_per_tx as usize {
        bail!(
            "the tx has {} messages; the chain accepts at most {} (max_msgs_per_tx)",
            msgs.len(),
            params.max_msgs_per_tx
        );
    }
    for msg in &msgs {
        check_msg(msg)?;
    }
    if memo.len() > params.max_memo_bytes as usize {
        bail!(
            "the memo is {} bytes; the chain accepts at most {} (max_memo_bytes)",
            memo.len(),
            params.max_memo_bytes
        );
    }
    let mut body = TxBody {
        chain_id: chain_id.to_string(),
        nonce,
        fee: 0,
        memo: memo.to_string(),
        msgs,
    };
    body.fee = match fee {
        Some(f) => f,
        // duties pay no fee (docs/tasks.md)
        None if body.msgs.iter().all(Msg::is_duty) => 0,
        None => required_fee(params, &body)?,
    };
    let len = signed_len(&body)?;
    if len as u64 > params.max_tx_bytes {
        bail!(
            "the tx would be {len} bytes; the chain accepts at most {} (max_tx_bytes)",
            params.max_tx_bytes
        );
    }
    Ok(body)
}

/// Builds the body of a one-message `bank.send` tx ([`build_tx`] with [`Msg::send`]).
pub fn build_send(
    chain_id: &str,
    nonce: u64,
    to: &Address,
    amount: u128,
    fee: Option<u128>,
    memo: &str,
    params: &TxParams,
) -> Result<TxBody> {
    build_tx(
        chain_id,
        nonce,
        vec![Msg::send(to, amount)],
        fee,
        memo,
        params,
    )
}

/// Signs `body` with `key`: ECDSA secp256k1 over `body.sign_bytes()`, low S.
pub fn sign_tx(body: TxBody, key: &KeyPair) -> Result<Tx> {
    let signature = key.sign_digest(&body.sign_bytes())?;
    Ok(Tx {
        body,
        pubkey: key.pubkey(),
        signature,
    })
}

/// The bytes to broadcast.
pub fn encode_tx(tx: &Tx) -> Result<Vec<u8>> {
    borsh::to_vec(tx).context("encoding the tx")
}

/// The CometBFT hash of a tx (SHA-256 of its bytes), upper-case hex as CometBFT prints it.
pub fn tx_hash_hex(bytes: &[u8]) -> String {
    hex::encode_upper(nodeop_app::tx::tx_hash(bytes))
}

/// A tx in a form for people and JSON.
#[derive(Clone, Debug, Serialize)]
pub struct TxView {
    pub signer: Address,
    pub pubkey: String,
    pub signature: String,
    pub chain_id: String,
    pub nonce: u64,
    #[serde(with = "nodeop_app::serde_u128")]
    pub fee: u128,
    pub memo: String,
    pub msgs: Vec<MsgView>,
}

/// One message in a form for people and JSON; `type` is the chain's name for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type")]
pub enum MsgView {
    #[serde(rename = "bank.send")]
    Send {
        to: String,
        #[serde(with = "nodeop_app::serde_u128")]
        amount: u128,
    },
    #[serde(rename = "staking.register_operator")]
    RegisterOperator {
        /// base64, as in CometBFT's files and `/validators`
        consensus_pubkey: String,
        /// CometBFT's validator address of that key, upper-case hex
        consensus_address: String,
        moniker: String,
        capacity_units: u64,
        region: String,
        commission_ppm: u32,
        #[serde(with = "nodeop_app::serde_u128")]
        self_bond: u128,
    },
    #[serde(rename = "staking.edit_operator")]
    EditOperator {
        moniker: Option<String>,
        capacity_units: Option<u64>,
        region: Option<String>,
        commission_ppm: Option<u32>,
    },
    #[serde(rename = "staking.delegate")]
    Delegate {
        operator: String,
        #[serde(with = "nodeop_app::serde_u128")]
        amount: u128,
    },
    #[serde(rename = "staking.undelegate")]
    Undelegate {
        operator: String,
        #[serde(with = "nodeop_app::serde_u128")]
        amount: u128,
    },
    #[serde(rename = "staking.unjail")]
    Unjail {},
    #[serde(rename = "slashing.propose")]
    ProposeSlash {
        operator: String,
        /// result_mismatch, equivocation, false_submission, downtime, performance, byzantine
        offence: String,
        /// The app's serde form: `{"equivocation": {"first", "second"}}` or
        /// `{"statement": {"infraction_id", "infraction_height", "description", "reference"}}`.
        evidence: Box<Evidence>,
    },
    #[serde(rename = "slashing.dispute")]
    DisputeSlash { proposal: u64, reason: String },
    #[serde(rename = "slashing.vote")]
    VoteDispute { proposal: u64, uphold: bool },
    #[serde(rename = "tasks.post")]
    PostTask {
        /// `"exact"` or `{"numeric": {"scale", "tolerance_ppm"}}`
        kind: TaskKind,
        /// eventual, session or strong
        consistency: Consistency,
        /// `{"inline": "<hex>"}` or `{"reference": {"sha256": "<hex>", "uri"}}`
        payload: TaskPayload,
        difficulty_units: u64,
        min_reputation_ppm: u32,
        #[serde(with = "nodeop_app::serde_u128")]
        fee: u128,
    },
    #[serde(rename = "tasks.commit")]
    CommitResult {
        task_id: u64,
        #[serde(with = "hex::serde")]
        commitment: [u8; 32],
    },
    #[serde(rename = "tasks.reveal")]
    RevealResult {
        task_id: u64,
        #[serde(with = "hex::serde")]
        result: Vec<u8>,
        #[serde(with = "hex::serde")]
        salt: [u8; 32],
    },
    #[serde(rename = "tasks.confirm")]
    ConfirmSubmission { task_id: u64, target_ref: String },
    #[serde(rename = "vesting.claim")]
    ClaimVested {},
    #[serde(rename = "coprocessors.register")]
    RegisterCoprocessor {
        capacity_units: u64,
        #[serde(with = "nodeop_app::serde_u128")]
        collateral: u128,
        moniker: String,
    },
    #[serde(rename = "coprocessors.edit")]
    EditCoprocessor {
        capacity_units: Option<u64>,
        moniker: Option<String>,
    },
    #[serde(rename = "coprocessors.add_collateral")]
    AddCollateral {
        #[serde(with = "nodeop_app::serde_u128")]
        amount: u128,
    },
    #[serde(rename = "coprocessors.withdraw_collateral")]
    WithdrawCollateral {
        #[serde(with = "nodeop_app::serde_u128")]
        amount: u128,
    },
    #[serde(rename = "coprocessors.open_auction")]
    OpenAuction {
        task_id: u64,
        #[serde(with = "nodeop_app::serde_u128")]
        start_price: u128,
        #[serde(with = "nodeop_app::serde_u128")]
        floor_price: u128,
    },
    #[serde(rename = "coprocessors.bid")]
    Bid { auction_id: u64 },
    /// A message this client has no view for yet; `name` is the chain's name for it.
    #[serde(rename = "other")]
    Other { name: String, debug: String },
}

impl From<&Msg> for MsgView {
    fn from(m: &Msg) -> Self {
        match m {
            Msg::Send(s) => MsgView::Send {
                to: s.to.clone(),
                amount: s.amount,
            },
            Msg::RegisterOperator(r) => MsgView::RegisterOperator {
                consensus_pubkey: serde_base64_32::encode(&r.consensus_pubkey),
                consensus_address: hex::encode_upper(consensus_address(&r.consensus_pubkey)),
                moniker: r.moniker.clone(),
                capacity_units: r.capacity_units,
                region: r.region.clone(),
                commission_ppm: r.commission_ppm,
                self_bond: r.self_bond,
            },
            Msg::EditOperator(e) => MsgView::EditOperator {
                moniker: e.moniker.clone(),
                capacity_units: e.capacity_units,
                region: e.region.clone(),
                commission_ppm: e.commission_ppm,
            },
            Msg::Delegate(d) => MsgView::Delegate {
                operator: d.operator.clone(),
                amount: d.amount,
            },
            Msg::Undelegate(u) => MsgView::Undelegate {
                operator: u.operator.clone(),
                amount: u.amount,
            },
            Msg::Unjail(_) => MsgView::Unjail {},
            Msg::ProposeSlash(p) => MsgView::ProposeSlash {
                operator: p.operator.clone(),
                offence: p.offence.name().to_string(),
                evidence: Box::new(p.evidence.clone()),
            },
            Msg::DisputeSlash(d) => MsgView::DisputeSlash {
                proposal: d.proposal,
                reason: d.reason.clone(),
            },
            Msg::VoteDispute(v) => MsgView::VoteDispute {
                proposal: v.proposal,
                uphold: v.uphold,
            },
            Msg::PostTask(p) => MsgView::PostTask {
                kind: p.kind,
                consistency: p.consistency,
                payload: p.payload.clone(),
                difficulty_units: p.difficulty_units,
                min_reputation_ppm: p.min_reputation_ppm,
                fee: p.fee,
            },
            Msg::CommitResult(c) => MsgView::CommitResult {
                task_id: c.task_id,
                commitment: c.commitment,
            },
            Msg::RevealResult(r) => MsgView::RevealResult {
                task_id: r.task_id,
                result: r.result.clone(),
                salt: r.salt,
            },
            Msg::ConfirmSubmission(c) => MsgView::ConfirmSubmission {
                task_id: c.task_id,
                target_ref: c.target_ref.clone(),
            },
            Msg::ClaimVested(_) => MsgView::ClaimVested {},
            Msg::RegisterCoprocessor(r) => MsgView::RegisterCoprocessor {
                capacity_units: r.capacity_units,
                collateral: r.collateral,
                moniker: r.moniker.clone(),
            },
            Msg::EditCoprocessor(e) => MsgView::EditCoprocessor {
                capacity_units: e.capacity_units,
                moniker: e.moniker.clone(),
            },
            Msg::AddCollateral(a) => MsgView::AddCollateral { amount: a.amount },
            Msg::WithdrawCollateral(w) => MsgView::WithdrawCollateral { amount: w.amount },
            Msg::OpenAuction(o) => MsgView::OpenAuction {
                task_id: o.task_id,
                start_price: o.start_price,
                floor_price: o.floor_price,
            },
            Msg::Bid(b) => MsgView::Bid {
                auction_id: b.auction_id,
            },
            #[allow(unreachable_patterns)]
            other => MsgView::Other {
                name: other.type_name().to_string(),
                debug: format!("{other:?}"),
            },
        }
    }
}

impl MsgView {
    /// One line for people: `staking.delegate 5.000000 NOP (5000000 unop) to nodeop1…`.
    pub fn describe(&self) -> String {
        match self {
            MsgView::Send { to, amount } => format!("bank.send {} to {to}", describe(*amount)),
            MsgView::RegisterOperator {
                consensus_pubkey,
                consensus_address,
                moniker,
                capacity_units,
                region,
                commission_ppm,
                self_bond,
            } => format!(
                "staking.register_operator {moniker:?}: self-bond {}, consensus key {consensus_pubkey} (validator address {consensus_address}), capacity {capacity_units} units, region {region:?}, commission {}",
                describe(*self_bond),
                format_ppm(*commission_ppm)
            ),
            MsgView::EditOperator {
                moniker,
                capacity_units,
                region,
                commission_ppm,
            } => {
                let mut changes = Vec::new();
                if let Some(m) = moniker {
                    changes.push(format!("moniker {m:?}"));
                }
                if let Some(c) = capacity_units {
                    changes.push(format!("capacity {c} units"));
                }
                if let Some(r) = region {
                    changes.push(format!("region {r:?}"));
                }
                if let Some(c) = commission_ppm {
                    changes.push(format!("commission {}", format_ppm(*c)));
                }
                format!("staking.edit_operator: {}", changes.join(", "))
            }
            MsgView::Delegate { operator, amount } => {
                format!("staking.delegate {} to {operator}", describe(*amount))
            }
            MsgView::Undelegate { operator, amount } => {
                format!("staking.undelegate {} from {operator}", describe(*amount))
            }
            MsgView::Unjail {} => "staking.unjail".to_string(),
            MsgView::ClaimVested {} => {
                "vesting.claim: mint what has vested and is not yet claimed".to_string()
            }
            MsgView::ProposeSlash {
                operator,
                offence,
                evidence,
            } => format!(
                "slashing.propose {offence} against {operator}: {}",
                crate::render::slashing::evidence_text(evidence)
            ),
            MsgView::DisputeSlash { proposal, reason } => {
                format!("slashing.dispute proposal {proposal}: {reason:?}")
            }
            MsgView::VoteDispute { proposal, uphold } => format!(
                "slashing.vote proposal {proposal}: {}",
                if *uphold { "uphold (slash)" } else { "reject" }
            ),
            MsgView::PostTask {
                kind,
                consistency,
                payload,
                difficulty_units,
                min_reputation_ppm,
                fee,
            } => format!(
                "tasks.post {} task, {} consistency, {difficulty_units} difficulty units, minimum reputation {}, fee {}, payload {}",
                crate::render::tasks::kind_text(kind),
                consistency.name(),
                format_ppm(*min_reputation_ppm),
                describe(*fee),
                crate::render::tasks::payload_text(payload),
            ),
            MsgView::CommitResult {
                task_id,
                commitment,
            } => format!(
                "tasks.commit task {task_id}: commitment {}",
                hex::encode(commitment)
            ),
            MsgView::RevealResult {
                task_id, result, ..
            } => format!(
                "tasks.reveal task {task_id}: result 0x{} ({} bytes) and its salt",
                hex::encode(result),
                result.len()
            ),
            MsgView::ConfirmSubmission {
                task_id,
                target_ref,
            } => format!("tasks.confirm task {task_id}: delivered as {target_ref:?}"),
            MsgView::RegisterCoprocessor {
                capacity_units,
                collateral,
                moniker,
            } => format!(
                "coprocessors.register {moniker:?}: capacity {capacity_units} units, collateral {}",
                describe(*collateral)
            ),
            MsgView::EditCoprocessor {
                capacity_units,
                moniker,
            } => {
                let mut changes = Vec::new();
                if let Some(m) = moniker {
                    changes.push(format!("moniker {m:?}"));
                }
                if let Some(c) = capacity_units {
                    changes.push(format!("capacity {c} units"));
                }
                format!("coprocessors.edit: {}", changes.join(", "))
            }
            MsgView::AddCollateral { amount } => {
                format!("coprocessors.add_collateral {}", describe(*amount))
            }
            MsgView::WithdrawCollateral { amount } => format!(
                "coprocessors.withdraw_collateral {} (pending until the withdrawal delay has passed)",
                describe(*amount)
            ),
            MsgView::OpenAuction {
                task_id,
                start_price,
                floor_price,
            } => format!(
                "coprocessors.open_auction of the signer's slot of task {task_id}: from {} down to {}",
                describe(*start_price),
                describe(*floor_price)
            ),
            MsgView::Bid { auction_id } => {
                format!("coprocessors.bid on auction {auction_id} at the price of its block")
            }
            MsgView::Other { name, debug } => format!("{name} {debug}"),
        }
    }
}

impl From<&Tx> for TxView {
    fn from(tx: &Tx) -> Self {
        TxView {
            signer: tx.signer(),
            pubkey: hex::encode(tx.pubkey),
            signature: hex::encode(tx.signature),
            chain_id: tx.body.chain_id.clone(),
            nonce: tx.body.nonce,
            fee: tx.body.fee,
            memo: tx.body.memo.clone(),
            msgs: tx.body.msgs.iter().map(MsgView::from).collect(),
        }
    }
}

/// Decodes broadcast tx bytes in either envelope, as the chain tells them apart (trailing bytes
/// refused, as the chain does). A Cosmos tx carries no chain id of its own: it is shown with
/// `chain_id`.
pub fn decode_tx(bytes: &[u8], chain_id: &str) -> Result<Tx> {
    if nodeop_app::cosmos::is_cosmos_envelope(bytes) {
        return nodeop_app::cosmos::decode(bytes, chain_id, nodeop_app::cosmos::Purpose::Deliver)
            .map(|d| d.tx)
            .map_err(|e| {
                anyhow!(
                    "the tx bytes do not decode as a Cosmos tx: {}: {e}",
                    e.name()
                )
            });
    }
    borsh::from_slice(bytes).context("the tx bytes do not decode as a borsh nodeop Tx")
}

/// How `nodeop tx …` signs (`--sign-mode`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum SignMode {
    /// The nodeop envelope: borsh, signed over SHA-256("nodeop-tx-v1" ‖ borsh(body))
    /// (docs/tx-format.md).
    #[default]
    Nodeop,
    /// The Cosmos SDK envelope: a `TxRaw` signed in `SIGN_MODE_DIRECT`, as CosmJS, Keplr and
    /// cosmrs sign (docs/wallets.md).
    Direct,
}

/// The Cosmos-envelope bytes of `body` signed by `key` in `SIGN_MODE_DIRECT` (docs/wallets.md):
/// the same messages (as their `/nodeop.*` types), the nonce as the signer info's sequence, the
/// fee as one unop coin (none for fee 0) with a gas limit equal to it (a gas price of 1 unop),
/// the memo; the `SignDoc` carries `body.chain_id` and account number 0.
pub fn sign_direct(body: &TxBody, key: &KeyPair) -> Result<Vec<u8>> {
    use cosmos_sdk_proto::cosmos::base::v1beta1::Coin;
    use cosmos_sdk_proto::cosmos::crypto::secp256k1::PubKey;
    use cosmos_sdk_proto::cosmos::tx::signing::v1beta1::SignMode as ProtoSignMode;
    use cosmos_sdk_proto::cosmos::tx::v1beta1 as txpb;
    use prost::Message;

    let tx_body = txpb::TxBody {
        messages: body
            .msgs
            .iter()
            .map(nodeop_app::cosmos::msg_to_any)
            .collect(),
        memo: body.memo.clone(),
        ..Default::default()
    };
    let amount = if body.fee == 0 {
        Vec::new()
    } else {
        vec![Coin {
            denom: nodeop_app::cosmos::DENOM.into(),
            amount: body.fee.to_string(),
        }]
    };
    let auth_info = txpb::AuthInfo {
        signer_infos: vec![txpb::SignerInfo {
            public_key: Some(cosmos_sdk_proto::Any {
                type_url: nodeop_app::cosmos::SECP256K1_PUBKEY.into(),
                value: PubKey {
                    key: key.pubkey().to_vec(),
                }
                .encode_to_vec(),
            }),
            mode_info: Some(txpb::ModeInfo {
                sum: Some(txpb::mode_info::Sum::Single(txpb::mode_info::Single {
                    mode: ProtoSignMode::Direct as i32,
                })),
            }),
            sequence: body.nonce,
        }],
        fee: Some(txpb::Fee {
            amount,
            gas_limit: u64::try_from(body.fee).unwrap_or(u64::MAX),
            ..Default::default()
        }),
        ..Default::default()
    };
    let body_bytes = tx_body.encode_to_vec();
    let auth_info_bytes = auth_info.encode_to_vec();
    let digest = nodeop_app::cosmos::sign_bytes(&body_bytes, &auth_info_bytes, &body.chain_id);
    let signature = key.sign_digest(&digest)?;
    Ok(txpb::TxRaw {
        body_bytes,
        auth_info_bytes,
        signatures: vec![signature.to_vec()],
    }
    .encode_to_vec())
}

/// The minimum fee of `body` sent with [`sign_direct`]. The fee is a decimal string there, so
/// the size depends on it: from the borsh minimum, raise the fee until it covers its own tx. A
/// fee `f` with `needed(f) ≤ f` also makes `needed(f)` itself enough (a smaller fee never
/// lengthens the tx).
pub fn direct_required_fee(params: &TxParams, body: &TxBody, key: &KeyPair) -> Result<u128> {
    let mut body = body.clone();
    body.fee = required_fee(params, &body)?;
    loop {
        let len = sign_direct(&body, key)?.len();
        let needed = min_fee(params, len).context("the minimum fee overflows u128")?;
        if needed <= body.fee {
            return Ok(needed);
        }
        body.fee = needed;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nodeop_app::crypto::Verifier;
    use nodeop_app::modules::staking::MsgEditOperator;
    use nodeop_app::modules::staking::{MsgDelegate, MsgRegisterOperator};
    use nodeop_app::tx::check_stateless;

    fn key() -> KeyPair {
        KeyPair::from_secret_hex(&"11".repeat(32)).unwrap()
    }

    #[test]
    fn a_duty_tx_defaults_to_fee_zero_and_passes_the_chains_stateless_checks() {
        let params = TxParams::default();
        let commit = Msg::commit_result(4, &key().address(), b"42", &[7; 32]);
        let body = build_tx("nodeop-devnet", 0, vec![commit.clone()], None, "", &params).unwrap();
        assert_eq!(body.fee, 0, "duties pay no fee");
        let bytes = encode_tx(&sign_tx(body, &key()).unwrap()).unwrap();
        check_stateless(&bytes, "nodeop-devnet", &params, &Verifier::default(), &()).unwrap();
        // with anything else in the tx, the minimum fee applies
        let to = KeyPair::from_secret_hex(&"22".repeat(32))
            .unwrap()
            .address();
        let mixed = vec![commit, Msg::send(&to, 1)];
        let body = build_tx("nodeop-devnet", 0, mixed, None, "", &params).unwrap();
        assert_eq!(body.fee, required_fee(&params, &body).unwrap());
    }

    #[test]
    fn signed_send_passes_the_chains_stateless_checks() {
        let params = TxParams::default();
        let to = KeyPair::from_secret_hex(&"22".repeat(32))
            .unwrap()
            .address();
        let body = build_send("nodeop-devnet", 3, &to, 1_500_000, None, "lunch", &params).unwrap();
        let tx = sign_tx(body, &key()).unwrap();
        let bytes = encode_tx(&tx).unwrap();
        // the computed fee is exactly the minimum for the final size
        assert_eq!(bytes.len(), signed_len(&tx.body).unwrap());
        assert_eq!(tx.body.fee, min_fee(&params, bytes.len()).unwrap());
        let checked =
            check_stateless(&bytes, "nodeop-devnet", &params, &Verifier::default(), &()).unwrap();
        assert_eq!(checked.signer, key().address());
        assert_eq!(checked.tx, tx);
        assert_eq!(decode_tx(&bytes, "nodeop-devnet").unwrap(), tx);
        assert_eq!(tx_hash_hex(&bytes), hex::encode_upper(checked.hash));

        // one unop less than the minimum is refused by the chain
        let mut low = tx.body.clone();
        low.fee -= 1;
        let low = encode_tx(&sign_tx(low, &key()).unwrap()).unwrap();
        assert!(
            check_stateless(&low, "nodeop-devnet", &params, &Verifier::default(), &()).is_err()
        );
        // another chain id is refused
        assert!(check_stateless(&bytes, "nodeop-1", &params, &Verifier::default(), &()).is_err());
        // a flipped body bit breaks the signature
        let mut tampered = tx.clone();
        tampered.body.nonce += 1;
        let tampered = encode_tx(&tampered).unwrap();
        assert!(check_stateless(
            &tampered,
            "nodeop-devnet",
            &params,
            &Verifier::default(),
            &()
        )
        .is_err());
    }

    #[test]
    fn a_direct_mode_tx_pays_its_own_minimum_fee_and_passes_the_chains_stateless_checks() {
        let params = TxParams::default();
        let to = KeyPair::from_secret_hex(&"22".repeat(32))
            .unwrap()
            .address();
        let msgs = vec![Msg::send(&to, 1_000), Msg::delegate(&to, 5)];
        let mut body = build_tx("nodeop-devnet", 3, msgs, None, "memo", &params).unwrap();
        body.fee = direct_required_fee(&params, &body, &key()).unwrap();
        let bytes = sign_direct(&body, &key()).unwrap();
        assert!(nodeop_app::cosmos::is_cosmos_envelope(&bytes));
        assert_eq!(
            min_fee(&params, bytes.len()),
            Some(body.fee),
            "exactly the minimum"
        );
        let checked =
            check_stateless(&bytes, "nodeop-devnet", &params, &Verifier::default(), &()).unwrap();
        assert_eq!(checked.signer, key().address());
        assert_eq!(checked.tx.body, body);
        assert_eq!(decode_tx(&bytes, "nodeop-devnet").unwrap().body, body);
        // one unop less is refused
        body.fee -= 1;
        let low = sign_direct(&body, &key()).unwrap();
        let e = check_stateless(&low, "nodeop-devnet", &params, &Verifier::default(), &());
        assert_eq!(e.unwrap_err().name(), "fee_too_low");
        // a fee-free duty sends no fee coin and is accepted
        let commit = Msg::commit_result(4, &key().address(), b"42", &[7; 32]);
        let duty = build_tx("nodeop-devnet", 0, vec![commit], None, "", &params).unwrap();
        let bytes = sign_direct(&duty, &key()).unwrap();
        check_stateless(&bytes, "nodeop-devnet", &params, &Verifier::default(), &()).unwrap();
    }

    #[test]
    fn signatures_are_low_s_and_deterministic() {
        let k = key();
        let order_half =
            hex::decode("7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0")
                .unwrap();
        for i in 0u8..32 {
            let sig = k.sign_digest(&[i; 32]).unwrap();
            assert!(sig[32..] <= order_half[..], "high S for digest {i}");
            assert_eq!(sig, k.sign_digest(&[i; 32]).unwrap());
        }
    }

    #[test]
    fn bad_sends_are_refused_before_signing() {
        let params = TxParams::default();
        let to = key().address();
        assert!(build_send("c", 0, &to, 0, None, "", &params).is_err());
        assert!(build_send("c", 0, &to, 1, None, &"m".repeat(257), &params).is_err());
        // an explicit fee is kept as given
        assert_eq!(
            build_send("c", 0, &to, 1, Some(5), "", &params)
                .unwrap()
                .fee,
            5
        );
    }
    /// A `staking.register_operator` with the CLI's defaults for the optional fields.
    fn register_operator(
        consensus_pubkey: [u8; 32],
        moniker: &str,
        self_bond: u128,
    ) -> MsgRegisterOperator {
        MsgRegisterOperator {
            consensus_pubkey,
            moniker: moniker.to_string(),
            capacity_units: DEFAULT_CAPACITY_UNITS,
            region: String::new(),
            commission_ppm: DEFAULT_COMMISSION_PPM,
            self_bond,
        }
    }

    /// The consensus key of the committed `cometbft init` fixture.
    fn consensus_key() -> [u8; 32] {
        crate::consensus_key::parse_priv_validator_key(include_str!(
            "testdata/priv_validator_key.json"
        ))
        .unwrap()
    }

    fn check(body: TxBody) -> Result<nodeop_app::tx::CheckedTx, nodeop_app::error::TxError> {
        let bytes = encode_tx(&sign_tx(body, &key()).unwrap()).unwrap();
        check_stateless(
            &bytes,
            "nodeop-devnet",
            &TxParams::default(),
            &Verifier::default(),
            &(),
        )
    }

    #[test]
    fn signed_register_operator_passes_the_chains_stateless_checks() {
        let params = TxParams::default();
        let mut msg = register_operator(consensus_key(), "n1", 1_000_000_000);
        msg.region = "eu-west".into();
        let body = build_tx(
            "nodeop-devnet",
            0,
            vec![Msg::RegisterOperator(msg.clone())],
            None,
            "",
            &params,
        )
        .unwrap();
        let signed = sign_tx(body.clone(), &key()).unwrap();
        let bytes = encode_tx(&signed).unwrap();
        assert_eq!(signed.body.fee, min_fee(&params, bytes.len()).unwrap());
        let checked = check(body).unwrap();
        assert_eq!(checked.signer, key().address());
        let Msg::RegisterOperator(decoded) = &checked.tx.body.msgs[0] else {
            panic!("not a register_operator: {:?}", checked.tx.body.msgs[0]);
        };
        assert_eq!(*decoded, msg);
        assert_eq!(decoded.capacity_units, DEFAULT_CAPACITY_UNITS);
        assert_eq!(decoded.commission_ppm, DEFAULT_COMMISSION_PPM);

        // the view shows the key as CometBFT does, and its validator address
        let view = TxView::from(&checked.tx);
        let json = serde_json::to_value(&view).unwrap();
        assert_eq!(json["msgs"][0]["type"], "staking.register_operator");
        assert_eq!(
            json["msgs"][0]["consensus_pubkey"],
            "ej7DqjQt5I5g1D49yN9qb6alGReg5M8HzaUM1SD0NsI="
        );
        assert_eq!(
            json["msgs"][0]["consensus_address"],
            "55D50CCA0A3CE01D98548562E8A9498F7F45B869"
        );
        assert_eq!(json["msgs"][0]["self_bond"], "1000000000");
        assert!(view.msgs[0].describe().contains("1000.000000 NOP"));
    }

    #[test]
    fn every_staking_message_signs_into_a_tx_the_chain_accepts() {
        let params = TxParams::default();
        let operator = KeyPair::from_secret_hex(&"33".repeat(32))
            .unwrap()
            .address();
        let edit = Msg::EditOperator(MsgEditOperator {
            moniker: Some("renamed".into()),
            capacity_units: None,
            region: Some(String::new()),
            commission_ppm: Some(50_000),
        });
        for (msgs, name) in [
            (
                vec![Msg::delegate(&operator, 5_000_000)],
                "staking.delegate",
            ),
            (vec![Msg::undelegate(&operator, 1)], "staking.undelegate"),
            (vec![Msg::unjail()], "staking.unjail"),
            (vec![edit.clone()], "staking.edit_operator"),
            // several messages in one tx, executed in order
            (
                vec![
                    Msg::send(&operator, 1),
                    Msg::delegate(&operator, 2),
                    Msg::undelegate(&operator, 1),
                ],
                "bank.send",
            ),
        ] {
            let body = build_tx("nodeop-devnet", 4, msgs.clone(), None, "m", &params).unwrap();
            let checked = check(body).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(checked.tx.body.msgs, msgs);
            assert_eq!(checked.tx.body.msgs[0].type_name(), name);
            let view = TxView::from(&checked.tx);
            assert_eq!(
                serde_json::to_value(&view).unwrap()["msgs"][0]["type"],
                name
            );
        }
        assert_eq!(
            MsgView::from(&Msg::delegate(&operator, 5_000_000)).describe(),
            format!("staking.delegate 5.000000 NOP (5000000 unop) to {operator}")
        );
        assert_eq!(
            MsgView::from(&edit).describe(),
            "staking.edit_operator: moniker \"renamed\", region \"\", commission 5 % (50000 ppm)"
        );
    }

    #[test]
    fn bad_staking_messages_are_refused_before_signing() {
        let params = TxParams::default();
        let build = |msg: Msg| {
            build_tx("c", 0, vec![msg], None, "", &params)
                .map(|_| ())
                .map_err(|e| format!("{e:#}"))
        };
        let reg = |edit: &dyn Fn(&mut MsgRegisterOperator)| {
            let mut m = register_operator(consensus_key(), "n1", 1_000_000_000);
            edit(&mut m);
            build(Msg::RegisterOperator(m))
        };
        assert!(reg(&|_| ()).is_ok());
        let e = reg(&|m| m.moniker.clear()).unwrap_err();
        assert!(
            e.contains("staking.register_operator: invalid_field: moniker"),
            "{e}"
        );
        assert!(reg(&|m| m.moniker = "m".repeat(71)).is_err());
        assert!(reg(&|m| m.region = "r".repeat(33)).is_err());
        assert!(reg(&|m| m.moniker = "a\nb".into()).is_err());
        let e = reg(&|m| m.commission_ppm = 1_000_001).unwrap_err();
        assert!(e.contains("commission_too_high"), "{e}");
        assert!(reg(&|m| m.capacity_units = 0).is_err());
        let e = reg(&|m| m.self_bond = 0).unwrap_err();
        assert!(e.contains("zero_amount"), "{e}");
        let off_curve = (0u8..=255)
            .map(|i| [i; 32])
            .find(|k| ed25519_consensus::VerificationKey::try_from(*k).is_err())
            .unwrap();
        let e = reg(&|m| m.consensus_pubkey = off_curve).unwrap_err();
        assert!(e.contains("consensus_pubkey"), "{e}");

        let nothing = MsgEditOperator {
            moniker: None,
            capacity_units: None,
            region: None,
            commission_ppm: None,
        };
        let e = build(Msg::EditOperator(nothing)).unwrap_err();
        assert!(e.contains("nothing_to_edit"), "{e}");

        let operator = key().address();
        assert!(build(Msg::delegate(&operator, 0)).is_err());
        assert!(build(Msg::undelegate(&operator, 0)).is_err());
        let e = build(Msg::Delegate(MsgDelegate {
            operator: "nodeop1notanaddress".into(),
            amount: 1,
        }))
        .unwrap_err();
        assert!(e.contains("invalid_operator_address"), "{e}");

        // no messages, too many messages
        assert!(build_tx("c", 0, vec![], None, "", &params).is_err());
        let many = vec![Msg::unjail(); params.max_msgs_per_tx as usize + 1];
        let e = build_tx("c", 0, many, None, "", &params).unwrap_err();
        assert!(e.to_string().contains("max_msgs_per_tx"), "{e}");
    }
}
