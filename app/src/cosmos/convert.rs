//! Between the protobuf messages of [`super::proto`] (inside an `Any`) and [`crate::tx::Msg`].
//!
//! Each protobuf message maps to exactly one borsh variant with the same fields; the chain then
//! runs the borsh message, so both envelopes share every check and handler. Decoding is strict
//! where protobuf is loose: an amount is a decimal integer with no sign and no spaces, a fixed
//! size byte field has exactly its size, an enum is never its unspecified 0, a oneof is set.

use cosmos_sdk_proto::cosmos::bank::v1beta1::MsgSend as CosmosMsgSend;
use cosmos_sdk_proto::cosmos::base::v1beta1::Coin;
use cosmos_sdk_proto::Any;
use prost::Message;

use super::proto::{self, COSMOS_MSG_SEND, TYPE_URLS};
use super::DENOM;
use crate::crypto::Address;
use crate::error::TxError;
use crate::modules::bank::MsgSend;
use crate::modules::coprocessors::{
    MsgAddCollateral, MsgBid, MsgEditCoprocessor, MsgOpenAuction, MsgRegisterCoprocessor,
    MsgWithdrawCollateral,
};
use crate::modules::issuance::MsgClaimVested;
use crate::modules::slashing::{
    Attestation, AttestationBody, Evidence, MsgDisputeSlash, MsgProposeSlash, MsgVoteDispute,
    Offence,
};
use crate::modules::staking::{
    MsgDelegate, MsgEditOperator, MsgRegisterOperator, MsgUndelegate, MsgUnjail,
};
use crate::modules::tasks::{
    Consistency, MsgCommitResult, MsgConfirmSubmission, MsgPostTask, MsgRevealResult, TaskKind,
    TaskPayload,
};
use crate::tx::Msg;

/// `Any` with `value` encoded.
fn any(type_url: &str, value: &impl Message) -> Any {
    Any {
        type_url: type_url.to_string(),
        value: value.encode_to_vec(),
    }
}

fn amount(v: u128) -> String {
    v.to_string()
}

/// The `Any` a wallet puts in `TxBody.messages` for `msg` (the `/nodeop.*` type; a transfer
/// could also be sent as a `/cosmos.bank.v1beta1.MsgSend`, see [`cosmos_send`]).
pub fn msg_to_any(msg: &Msg) -> Any {
    let url = TYPE_URLS[msg_index(msg)];
    match msg {
        Msg::Send(m) => any(
            url,
            &proto::bank::MsgSend {
                to: m.to.clone(),
                amount: amount(m.amount),
            },
        ),
        Msg::RegisterOperator(m) => any(
            url,
            &proto::staking::MsgRegisterOperator {
                consensus_pubkey: m.consensus_pubkey.to_vec(),
                moniker: m.moniker.clone(),
                capacity_units: m.capacity_units,
                region: m.region.clone(),
                commission_ppm: m.commission_ppm,
                self_bond: amount(m.self_bond),
            },
        ),
        Msg::EditOperator(m) => any(
            url,
            &proto::staking::MsgEditOperator {
                moniker: m.moniker.clone(),
                capacity_units: m.capacity_units,
                region: m.region.clone(),
                commission_ppm: m.commission_ppm,
            },
        ),
        Msg::Delegate(m) => any(
            url,
            &proto::staking::MsgDelegate {
                operator: m.operator.clone(),
                amount: amount(m.amount),
            },
        ),
        Msg::Undelegate(m) => any(
            url,
            &proto::staking::MsgUndelegate {
                operator: m.operator.clone(),
                amount: amount(m.amount),
            },
        ),
        Msg::Unjail(_) => any(url, &proto::staking::MsgUnjail {}),
        Msg::ProposeSlash(m) => any(url, &propose_slash_to_proto(m)),
        Msg::DisputeSlash(m) => any(
            url,
            &proto::slashing::MsgDisputeSlash {
                proposal: m.proposal,
                reason: m.reason.clone(),
            },
        ),
        Msg::VoteDispute(m) => any(
            url,
            &proto::slashing::MsgVoteDispute {
                proposal: m.proposal,
                uphold: m.uphold,
            },
        ),
        Msg::PostTask(m) => any(url, &post_task_to_proto(m)),
        Msg::CommitResult(m) => any(
            url,
            &proto::tasks::MsgCommitResult {
                task_id: m.task_id,
                commitment: m.commitment.to_vec(),
            },
        ),
        Msg::RevealResult(m) => any(
            url,
            &proto::tasks::MsgRevealResult {
                task_id: m.task_id,
                result: m.result.clone(),
                salt: m.salt.to_vec(),
            },
        ),
        Msg::ConfirmSubmission(m) => any(
            url,
            &proto::tasks::MsgConfirmSubmission {
                task_id: m.task_id,
                target_ref: m.target_ref.clone(),
            },
        ),
        Msg::ClaimVested(_) => any(url, &proto::issuance::MsgClaimVested {}),
        Msg::RegisterCoprocessor(m) => any(
            url,
            &proto::coprocessors::MsgRegisterCoprocessor {
                capacity_units: m.capacity_units,
                collateral: amount(m.collateral),
                moniker: m.moniker.clone(),
            },
        ),
        Msg::EditCoprocessor(m) => any(
            url,
            &proto::coprocessors::MsgEditCoprocessor {
                capacity_units: m.capacity_units,
                moniker: m.moniker.clone(),
            },
        ),
        Msg::AddCollateral(m) => any(
            url,
            &proto::coprocessors::MsgAddCollateral {
                amount: amount(m.amount),
            },
        ),
        Msg::WithdrawCollateral(m) => any(
            url,
            &proto::coprocessors::MsgWithdrawCollateral {
                amount: amount(m.amount),
            },
        ),
        Msg::OpenAuction(m) => any(
            url,
            &proto::coprocessors::MsgOpenAuction {
                task_id: m.task_id,
                start_price: amount(m.start_price),
                floor_price: amount(m.floor_price),
            },
        ),
        Msg::Bid(m) => any(
            url,
            &proto::coprocessors::MsgBid {
                auction_id: m.auction_id,
            },
        ),
    }
}

/// A wallet's ordinary Send: `/cosmos.bank.v1beta1.MsgSend` of `amount` unop.
pub fn cosmos_send(from: &Address, to: &Address, amount: u128) -> Any {
    any(
        COSMOS_MSG_SEND,
        &CosmosMsgSend {
            from_address: from.to_bech32(),
            to_address: to.to_bech32(),
            amount: vec![Coin {
                denom: DENOM.to_string(),
                amount: amount.to_string(),
            }],
        },
    )
}

/// The borsh variant index of `msg` (its place in [`TYPE_URLS`]).
fn msg_index(msg: &Msg) -> usize {
    match msg {
        Msg::Send(_) => 0,
        Msg::RegisterOperator(_) => 1,
        Msg::EditOperator(_) => 2,
        Msg::Delegate(_) => 3,
        Msg::Undelegate(_) => 4,
        Msg::Unjail(_) => 5,
        Msg::ProposeSlash(_) => 6,
        Msg::DisputeSlash(_) => 7,
        Msg::VoteDispute(_) => 8,
        Msg::PostTask(_) => 9,
        Msg::CommitResult(_) => 10,
        Msg::RevealResult(_) => 11,
        Msg::ConfirmSubmission(_) => 12,
        Msg::ClaimVested(_) => 13,
        Msg::RegisterCoprocessor(_) => 14,
        Msg::EditCoprocessor(_) => 15,
        Msg::AddCollateral(_) => 16,
        Msg::WithdrawCollateral(_) => 17,
        Msg::OpenAuction(_) => 18,
        Msg::Bid(_) => 19,
    }
}

fn attestation_to_proto(a: &Attestation) -> proto::slashing::Attestation {
    proto::slashing::Attestation {
        body: Some(proto::slashing::AttestationBody {
            chain_id: a.body.chain_id.clone(),
            task_id: a.body.task_id,
            result_hash: a.body.result_hash.to_vec(),
        }),
        pubkey: a.pubkey.to_vec(),
        signature: a.signature.to_vec(),
    }
}

fn propose_slash_to_proto(m: &MsgProposeSlash) -> proto::slashing::MsgProposeSlash {
    use proto::slashing as p;
    let offence = match m.offence {
        Offence::ResultMismatch => p::Offence::ResultMismatch,
        Offence::Equivocation => p::Offence::Equivocation,
        Offence::FalseSubmission => p::Offence::FalseSubmission,
        Offence::Downtime => p::Offence::Downtime,
        Offence::Performance => p::Offence::Performance,
        Offence::Byzantine => p::Offence::Byzantine,
    };
    let evidence = match &m.evidence {
        Evidence::Equivocation { first, second } => {
            p::Evidence::Equivocation(p::EquivocationEvidence {
                first: Some(attestation_to_proto(first)),
                second: Some(attestation_to_proto(second)),
            })
        }
        Evidence::Statement {
            infraction_id,
            infraction_height,
            description,
            reference,
        } => p::Evidence::Statement(p::StatementEvidence {
            infraction_id: *infraction_id,
            infraction_height: *infraction_height,
            description: description.clone(),
            reference: reference.clone(),
        }),
        Evidence::Downtime { period, uptime_ppm } => p::Evidence::Downtime(p::DowntimeEvidence {
            period: *period,
            uptime_ppm: *uptime_ppm,
        }),
        Evidence::ResultMismatch { task_id } => {
            p::Evidence::ResultMismatch(p::ResultMismatchEvidence { task_id: *task_id })
        }
    };
    p::MsgProposeSlash {
        operator: m.operator.clone(),
        offence: offence as i32,
        evidence: Some(evidence),
    }
}

fn post_task_to_proto(m: &MsgPostTask) -> proto::tasks::MsgPostTask {
    use proto::tasks as p;
    let kind = match m.kind {
        TaskKind::Exact => p::Kind::Exact(p::ExactKind {}),
        TaskKind::Numeric {
            scale,
            tolerance_ppm,
        } => p::Kind::Numeric(p::NumericKind {
            scale: u32::from(scale),
            tolerance_ppm,
        }),
    };
    let consistency = match m.consistency {
        Consistency::Eventual => p::Consistency::Eventual,
        Consistency::Session => p::Consistency::Session,
        Consistency::Strong => p::Consistency::Strong,
    };
    let payload = match &m.payload {
        TaskPayload::Inline(bytes) => p::Payload::Inline(bytes.clone()),
        TaskPayload::Reference { sha256, uri } => p::Payload::Reference(p::PayloadReference {
            sha256: sha256.to_vec(),
            uri: uri.clone(),
        }),
    };
    p::MsgPostTask {
        kind: Some(kind),
        consistency: consistency as i32,
        payload: Some(payload),
        difficulty_units: m.difficulty_units,
        min_reputation_ppm: m.min_reputation_ppm,
        fee: amount(m.fee),
    }
}

/// Why one field of a message does not convert.
type FieldResult<T> = Result<T, String>;

/// A decimal amount of unop: digits only, at most u128.
pub fn parse_amount(field: &str, s: &str) -> FieldResult<u128> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "{field} {:?} is not a decimal integer of unop",
            s.chars().take(50).collect::<String>()
        ));
    }
    s.parse::<u128>()
        .map_err(|_| format!("{field} {s:?} is above the largest amount (2^128 - 1)"))
}

fn fixed<const N: usize>(field: &str, v: &[u8]) -> FieldResult<[u8; N]> {
    v.try_into()
        .map_err(|_| format!("{field} is {} bytes, expected {N}", v.len()))
}

fn attestation_from_proto(
    which: &str,
    a: Option<proto::slashing::Attestation>,
) -> FieldResult<Attestation> {
    let a = a.ok_or_else(|| format!("evidence.{which} is missing"))?;
    let body = a
        .body
        .ok_or_else(|| format!("evidence.{which}.body is missing"))?;
    Ok(Attestation {
        body: AttestationBody {
            chain_id: body.chain_id,
            task_id: body.task_id,
            result_hash: fixed(
                &format!("evidence.{which}.body.result_hash"),
                &body.result_hash,
            )?,
        },
        pubkey: fixed(&format!("evidence.{which}.pubkey"), &a.pubkey)?,
        signature: fixed(&format!("evidence.{which}.signature"), &a.signature)?,
    })
}

fn propose_slash_from_proto(m: proto::slashing::MsgProposeSlash) -> FieldResult<MsgProposeSlash> {
    use proto::slashing as p;
    let offence = match p::Offence::try_from(m.offence) {
        Ok(p::Offence::ResultMismatch) => Offence::ResultMismatch,
        Ok(p::Offence::Equivocation) => Offence::Equivocation,
        Ok(p::Offence::FalseSubmission) => Offence::FalseSubmission,
        Ok(p::Offence::Downtime) => Offence::Downtime,
        Ok(p::Offence::Performance) => Offence::Performance,
        Ok(p::Offence::Byzantine) => Offence::Byzantine,
        Ok(p::Offence::Unspecified) | Err(_) => {
            return Err(format!(
                "offence {} is not one of OFFENCE_RESULT_MISMATCH (1) … OFFENCE_BYZANTINE (6)",
                m.offence
            ))
        }
    };
    let evidence = match m.evidence.ok_or("evidence is not set")? {
        p::Evidence::Equivocation(e) => Evidence::Equivocation {
            first: attestation_from_proto("first", e.first)?,
            second: attestation_from_proto("second", e.second)?,
        },
        p::Evidence::Statement(s) => Evidence::Statement {
            infraction_id: s.infraction_id,
            infraction_height: s.infraction_height,
            description: s.description,
            reference: s.reference,
        },
        p::Evidence::Downtime(d) => Evidence::Downtime {
            period: d.period,
            uptime_ppm: d.uptime_ppm,
        },
        p::Evidence::ResultMismatch(r) => Evidence::ResultMismatch { task_id: r.task_id },
    };
    Ok(MsgProposeSlash {
        operator: m.operator,
        offence,
        evidence,
    })
}

fn post_task_from_proto(m: proto::tasks::MsgPostTask) -> FieldResult<MsgPostTask> {
    use proto::tasks as p;
    let kind = match m.kind.ok_or("kind is not set (exact or numeric)")? {
        p::Kind::Exact(_) => TaskKind::Exact,
        p::Kind::Numeric(n) => TaskKind::Numeric {
            scale: u8::try_from(n.scale)
                .map_err(|_| format!("kind.numeric.scale {} is above 255", n.scale))?,
            tolerance_ppm: n.tolerance_ppm,
        },
    };
    let consistency = match p::Consistency::try_from(m.consistency) {
        Ok(p::Consistency::Eventual) => Consistency::Eventual,
        Ok(p::Consistency::Session) => Consistency::Session,
        Ok(p::Consistency::Strong) => Consistency::Strong,
        Ok(p::Consistency::Unspecified) | Err(_) => {
            return Err(format!(
                "consistency {} is not one of CONSISTENCY_EVENTUAL (1), CONSISTENCY_SESSION (2), \
                 CONSISTENCY_STRONG (3)",
                m.consistency
            ))
        }
    };
    let payload = match m
        .payload
        .ok_or("payload is not set (inline or reference)")?
    {
        p::Payload::Inline(bytes) => TaskPayload::Inline(bytes),
        p::Payload::Reference(r) => TaskPayload::Reference {
            sha256: fixed("payload.reference.sha256", &r.sha256)?,
            uri: r.uri,
        },
    };
    Ok(MsgPostTask {
        kind,
        consistency,
        payload,
        difficulty_units: m.difficulty_units,
        min_reputation_ppm: m.min_reputation_ppm,
        fee: parse_amount("fee", &m.fee)?,
    })
}

fn decode<M: Message + Default>(value: &[u8]) -> FieldResult<M> {
    M::decode(value).map_err(|e| format!("the value does not decode: {e}"))
}

/// The nodeop message an `Any` of `TxBody.messages` carries. `index` is its place in the body
/// (for the error), `signer` the tx's signer (a Cosmos MsgSend must be sent from it).
pub fn msg_from_any(index: usize, any: &Any, signer: &Address) -> Result<Msg, TxError> {
    let index64 = index as u64;
    let invalid = |reason: String| TxError::InvalidMsg {
        index: index64,
        type_url: any.type_url.chars().take(100).collect(),
        reason,
    };
    let v = any.value.as_slice();
    if any.type_url == COSMOS_MSG_SEND {
        let m: CosmosMsgSend = decode(v).map_err(invalid)?;
        if m.from_address != signer.to_bech32() {
            return Err(TxError::SenderMismatch {
                index: index64,
                sender: m.from_address.chars().take(100).collect(),
                signer: signer.to_bech32(),
            });
        }
        let coin = match m.amount.as_slice() {
            [c] if c.denom == DENOM => c,
            coins => {
                return Err(TxError::SendDenom {
                    index: index64,
                    found: describe_coins(coins),
                })
            }
        };
        let amount = parse_amount("amount", &coin.amount).map_err(invalid)?;
        return Ok(MsgSend {
            to: m.to_address,
            amount,
        }
        .into());
    }
    let Some(variant) = TYPE_URLS.iter().position(|u| *u == any.type_url) else {
        return Err(TxError::UnknownMsgType {
            index: index64,
            type_url: any.type_url.chars().take(100).collect(),
        });
    };
    use proto::{coprocessors as cp, issuance as iss, slashing as sl, staking as st, tasks as tk};
    let msg: FieldResult<Msg> = match variant {
        0 => decode::<proto::bank::MsgSend>(v).and_then(|m| {
            Ok(MsgSend {
                to: m.to,
                amount: parse_amount("amount", &m.amount)?,
            }
            .into())
        }),
        1 => decode::<st::MsgRegisterOperator>(v).and_then(|m| {
            Ok(MsgRegisterOperator {
                consensus_pubkey: fixed("consensus_pubkey", &m.consensus_pubkey)?,
                moniker: m.moniker,
                capacity_units: m.capacity_units,
                region: m.region,
                commission_ppm: m.commission_ppm,
                self_bond: parse_amount("self_bond", &m.self_bond)?,
            }
            .into())
        }),
        2 => decode::<st::MsgEditOperator>(v).map(|m| {
            MsgEditOperator {
                moniker: m.moniker,
                capacity_units: m.capacity_units,
                region: m.region,
                commission_ppm: m.commission_ppm,
            }
            .into()
        }),
        3 => decode::<st::MsgDelegate>(v).and_then(|m| {
            Ok(MsgDelegate {
                operator: m.operator,
                amount: parse_amount("amount", &m.amount)?,
            }
            .into())
        }),
        4 => decode::<st::MsgUndelegate>(v).and_then(|m| {
            Ok(MsgUndelegate {
                operator: m.operator,
                amount: parse_amount("amount", &m.amount)?,
            }
            .into())
        }),
        5 => decode::<st::MsgUnjail>(v).map(|_| MsgUnjail {}.into()),
        6 => decode::<sl::MsgProposeSlash>(v)
            .and_then(propose_slash_from_proto)
            .map(Msg::from),
        7 => decode::<sl::MsgDisputeSlash>(v).map(|m| {
            MsgDisputeSlash {
                proposal: m.proposal,
                reason: m.reason,
            }
            .into()
        }),
        8 => decode::<sl::MsgVoteDispute>(v).map(|m| {
            MsgVoteDispute {
                proposal: m.proposal,
                uphold: m.uphold,
            }
            .into()
        }),
        9 => decode::<tk::MsgPostTask>(v)
            .and_then(post_task_from_proto)
            .map(Msg::from),
        10 => decode::<tk::MsgCommitResult>(v).and_then(|m| {
            Ok(MsgCommitResult {
                task_id: m.task_id,
                commitment: fixed("commitment", &m.commitment)?,
            }
            .into())
        }),
        11 => decode::<tk::MsgRevealResult>(v).and_then(|m| {
            Ok(MsgRevealResult {
                task_id: m.task_id,
                result: m.result,
                salt: fixed("salt", &m.salt)?,
            }
            .into())
        }),
        12 => decode::<tk::MsgConfirmSubmission>(v).map(|m| {
            MsgConfirmSubmission {
                task_id: m.task_id,
                target_ref: m.target_ref,
            }
            .into()
        }),
        13 => decode::<iss::MsgClaimVested>(v).map(|_| MsgClaimVested {}.into()),
        14 => decode::<cp::MsgRegisterCoprocessor>(v).and_then(|m| {
            Ok(MsgRegisterCoprocessor {
                capacity_units: m.capacity_units,
                collateral: parse_amount("collateral", &m.collateral)?,
                moniker: m.moniker,
            }
            .into())
        }),
        15 => decode::<cp::MsgEditCoprocessor>(v).map(|m| {
            MsgEditCoprocessor {
                capacity_units: m.capacity_units,
                moniker: m.moniker,
            }
            .into()
        }),
        16 => decode::<cp::MsgAddCollateral>(v).and_then(|m| {
            Ok(MsgAddCollateral {
                amount: parse_amount("amount", &m.amount)?,
            }
            .into())
        }),
        17 => decode::<cp::MsgWithdrawCollateral>(v).and_then(|m| {
            Ok(MsgWithdrawCollateral {
                amount: parse_amount("amount", &m.amount)?,
            }
            .into())
        }),
        18 => decode::<cp::MsgOpenAuction>(v).and_then(|m| {
            Ok(MsgOpenAuction {
                task_id: m.task_id,
                start_price: parse_amount("start_price", &m.start_price)?,
                floor_price: parse_amount("floor_price", &m.floor_price)?,
            }
            .into())
        }),
        _ => decode::<cp::MsgBid>(v).map(|m| {
            MsgBid {
                auction_id: m.auction_id,
            }
            .into()
        }),
    };
    msg.map_err(invalid)
}

/// `[]`, `["5uatom"]`, `["1unop", "2unop"]`: coins as a wallet shows them, for a refusal's log.
pub fn describe_coins(coins: &[Coin]) -> String {
    let shown: Vec<String> = coins
        .iter()
        .take(4)
        .map(|c| {
            format!(
                "{}{}",
                c.amount.chars().take(40).collect::<String>(),
                c.denom.chars().take(40).collect::<String>()
            )
        })
        .collect();
    format!("[{}]", shown.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_plain_decimal_integers() {
        assert_eq!(parse_amount("a", "0"), Ok(0));
        assert_eq!(
            parse_amount("a", "340282366920938463463374607431768211455"),
            Ok(u128::MAX)
        );
        for bad in [
            "",
            "-1",
            "+1",
            " 1",
            "1.0",
            "1e3",
            "0x10",
            "340282366920938463463374607431768211456",
        ] {
            assert!(parse_amount("a", bad).is_err(), "{bad:?} accepted");
        }
    }
}
