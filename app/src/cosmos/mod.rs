//! The Cosmos SDK transaction envelope: what CosmJS, Keplr-style direct signers and `cosmrs`
//! produce (`docs/wallets.md`).
//!
//! ```text
//! TxRaw    { body_bytes, auth_info_bytes, signatures: [64 bytes] }             (protobuf)
//! TxBody   { messages: [Any], memo }         timeout_height 0, no extension options
//! AuthInfo { signer_infos: [{ /cosmos.crypto.secp256k1.PubKey, SIGN_MODE_DIRECT, sequence }],
//!            fee: { amount: [] or [N unop], gas_limit (ignored) } }
//! sign bytes = SHA-256(SignDoc { body_bytes, auth_info_bytes, chain_id, account_number: 0 })
//! ```
//! A Cosmos tx decodes into the same [`crate::tx::Tx`] a borsh tx does (`nonce` = the signer
//! info's sequence, `fee` = the unop amount, the messages converted by [`msg_from_any`]), so
//! both envelopes then go through the same checks, nonce sequence, fee rule, handlers, codes
//! and events. Only decoding and the sign bytes differ.
//!
//! **Telling the envelopes apart.** A tx whose first byte is `0x0a`, `0x12` or `0x1a` and whose
//! second byte is not `0x00` is a Cosmos `TxRaw`; every other tx is a borsh `Tx`. A borsh tx
//! starts with its chain id's length as a little-endian u32, and CometBFT caps chain ids at 50
//! bytes, so its second byte is always 0. A `TxRaw` starts with the key of its first non-empty
//! field — `0x0a` (field 1, `body_bytes`), `0x12` (field 2, `auth_info_bytes`) or `0x1a`
//! (field 3, a signature), each length-delimited — followed by that field's length as a varint,
//! whose first byte is 0 only for an empty field, which encoders leave out.
//!
//! **Account number.** nodeop has no account numbers: every `SignDoc` carries
//! [`ACCOUNT_NUMBER`] = 0, and the account query answers 0. In the Cosmos SDK the number keeps
//! a signature from being replayed after an account is deleted and created again with its
//! sequence back at 0. A nodeop account record is never deleted (it stays at balance 0), so its
//! nonce never goes back and the nonce alone rules out replay; and numbering accounts would
//! add a counter and a field to every account record — changing the state, and the app hash, of
//! chains that only ever see borsh txs.

pub mod convert;
pub mod proto;
pub mod query;

use cosmos_sdk_proto::cosmos::crypto::secp256k1::PubKey;
use cosmos_sdk_proto::cosmos::tx::signing::v1beta1::SignMode;
use cosmos_sdk_proto::cosmos::tx::v1beta1::{mode_info, AuthInfo, SignDoc, TxBody, TxRaw};
use prost::Message;

pub use convert::{cosmos_send, msg_from_any, msg_to_any};

use crate::crypto::{sha256, Address};
use crate::error::TxError;
use crate::tx::{Tx, TxBody as NodeopBody};

/// The account number every nodeop `SignDoc` carries (see the module docs).
pub const ACCOUNT_NUMBER: u64 = 0;
/// The one denomination: fees and sends are in unop.
pub const DENOM: &str = "unop";
/// The only public key type a signer may use.
pub const SECP256K1_PUBKEY: &str = "/cosmos.crypto.secp256k1.PubKey";
/// A multisig key, refused with its own code.
pub const MULTISIG_PUBKEY: &str = "/cosmos.crypto.multisig.LegacyAminoPubKey";

/// Whether `bytes` are a Cosmos `TxRaw` rather than a borsh `Tx` (see the module docs).
pub fn is_cosmos_envelope(bytes: &[u8]) -> bool {
    matches!(bytes, [0x0a | 0x12 | 0x1a, second, ..] if *second != 0)
}

/// What the decoded tx is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// CheckTx and blocks: everything is checked.
    Deliver,
    /// `/cosmos.tx.v1beta1.Service/Simulate`: the tx is not signed yet, so the sign mode, the
    /// signature and the fee are not looked at (CosmJS simulates with
    /// `SIGN_MODE_UNSPECIFIED`, an empty signature and no fee).
    Simulate,
}

/// A Cosmos tx as the borsh [`Tx`] it stands for, and the digest its signature is over.
#[derive(Clone, Debug)]
pub struct Decoded {
    pub tx: Tx,
    pub sign_bytes: [u8; 32],
}

fn cosmos_decode(what: &str, e: prost::DecodeError) -> TxError {
    TxError::CosmosDecode(format!("{what} does not decode: {e}"))
}

/// The `SignDoc` digest a signer signs for these bytes on `chain_id`.
pub fn sign_bytes(body_bytes: &[u8], auth_info_bytes: &[u8], chain_id: &str) -> [u8; 32] {
    let doc = SignDoc {
        body_bytes: body_bytes.to_vec(),
        auth_info_bytes: auth_info_bytes.to_vec(),
        chain_id: chain_id.to_string(),
        account_number: ACCOUNT_NUMBER,
    };
    sha256(&[&doc.encode_to_vec()])
}

/// Decodes a Cosmos tx and refuses, each with its own code, everything nodeop does not support.
/// The checks every tx shares (message count, memo, fee floor, the messages' own checks, the
/// signature) are left to [`crate::tx::check_stateless`].
pub fn decode(bytes: &[u8], chain_id: &str, purpose: Purpose) -> Result<Decoded, TxError> {
    let raw = TxRaw::decode(bytes).map_err(|e| cosmos_decode("TxRaw", e))?;
    // The signature covers body and auth info, not the TxRaw around them: re-encoding must give
    // the same bytes, so that nobody can make other bytes (another tx hash) of a signed tx.
    if purpose == Purpose::Deliver && raw.encode_to_vec() != bytes {
        return Err(TxError::CosmosDecode(
            "TxRaw is not canonically encoded (fields out of order, repeated, unknown or \
             empty); send the bytes the wallet produced"
                .into(),
        ));
    }
    let body = TxBody::decode(raw.body_bytes.as_slice()).map_err(|e| cosmos_decode("TxBody", e))?;
    // protobuf decoders skip fields they do not know; a field a newer SDK added (an unordered
    // tx, a timeout timestamp) changes what the signer meant, so it is refused, not ignored
    if let Some(field) = unknown_field(&raw.body_bytes, &[1, 2, 3, 1023, 2047]) {
        return Err(TxError::CosmosDecode(format!(
            "TxBody field {field}{} is not supported",
            match field {
                4 => " (unordered)",
                5 => " (timeout_timestamp)",
                _ => "",
            }
        )));
    }
    let auth = AuthInfo::decode(raw.auth_info_bytes.as_slice())
        .map_err(|e| cosmos_decode("AuthInfo", e))?;
    if let Some(field) = unknown_field(&raw.auth_info_bytes, &[1, 2, 3]) {
        return Err(TxError::CosmosDecode(format!(
            "AuthInfo field {field} is not supported"
        )));
    }
    if body.timeout_height != 0 {
        return Err(TxError::TimeoutHeight(body.timeout_height));
    }
    if !body.extension_options.is_empty() || !body.non_critical_extension_options.is_empty() {
        return Err(TxError::ExtensionOptions);
    }
    let signatures = if purpose == Purpose::Deliver {
        raw.signatures.len()
    } else {
        1
    };
    if auth.signer_infos.len() != 1 || signatures != 1 {
        return Err(TxError::NotOneSigner {
            signer_infos: auth.signer_infos.len() as u64,
            signatures: raw.signatures.len() as u64,
        });
    }
    #[allow(deprecated)] // the tip is gone from the SDK; a tx that still sets one is refused
    let tip = auth.tip.is_some();
    let fee = auth.fee.unwrap_or_default();
    if tip || !fee.payer.is_empty() || !fee.granter.is_empty() {
        return Err(TxError::FeeDelegation);
    }
    let fee_amount = match fee.amount.as_slice() {
        [] => 0,
        [coin] if coin.denom == DENOM => convert::parse_amount("fee", &coin.amount)
            .map_err(|_| TxError::FeeDenom(convert::describe_coins(&fee.amount)))?,
        coins => return Err(TxError::FeeDenom(convert::describe_coins(coins))),
    };
    let signer_info = &auth.signer_infos[0];
    match signer_info.mode_info.as_ref().and_then(|m| m.sum.as_ref()) {
        Some(mode_info::Sum::Multi(_)) => return Err(TxError::Multisig),
        Some(mode_info::Sum::Single(single))
            if purpose == Purpose::Deliver && single.mode != SignMode::Direct as i32 =>
        {
            let name = SignMode::try_from(single.mode)
                .map(|m| m.as_str_name().to_string())
                .unwrap_or_else(|_| single.mode.to_string());
            return Err(TxError::UnsupportedSignMode(name));
        }
        Some(mode_info::Sum::Single(_)) => {}
        None if purpose == Purpose::Deliver => {
            return Err(TxError::UnsupportedSignMode(
                "none (mode_info is empty)".into(),
            ))
        }
        None => {}
    }
    let pubkey = match &signer_info.public_key {
        None => {
            return Err(TxError::UnsupportedPubkey(
                "none (the signer info must carry the signer's public key)".into(),
            ))
        }
        Some(any) if any.type_url == MULTISIG_PUBKEY => return Err(TxError::Multisig),
        Some(any) if any.type_url != SECP256K1_PUBKEY => {
            return Err(TxError::UnsupportedPubkey(
                any.type_url.chars().take(100).collect(),
            ))
        }
        Some(any) => {
            let key = PubKey::decode(any.value.as_slice())
                .map_err(|e| cosmos_decode("the secp256k1 PubKey", e))?
                .key;
            <[u8; 33]>::try_from(key.as_slice()).map_err(|_| {
                TxError::UnsupportedPubkey(format!(
                    "a secp256k1 key of {} bytes (only 33-byte compressed keys)",
                    key.len()
                ))
            })?
        }
    };
    let signature: [u8; 64] = match purpose {
        Purpose::Deliver => raw.signatures[0]
            .as_slice()
            .try_into()
            .map_err(|_| TxError::InvalidSignature)?,
        Purpose::Simulate => [0; 64],
    };
    let signer = Address::from_pubkey(&pubkey);
    let msgs = body
        .messages
        .iter()
        .enumerate()
        .map(|(i, any)| msg_from_any(i, any, &signer))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Decoded {
        sign_bytes: sign_bytes(&raw.body_bytes, &raw.auth_info_bytes, chain_id),
        tx: Tx {
            body: NodeopBody {
                chain_id: chain_id.to_string(),
                nonce: signer_info.sequence,
                fee: fee_amount,
                memo: body.memo,
                msgs,
            },
            pubkey,
            signature,
        },
    })
}

/// The first top-level field number in `bytes` (a protobuf message that already decoded) that
/// is not in `known`.
fn unknown_field(bytes: &[u8], known: &[u64]) -> Option<u64> {
    let mut buf = bytes;
    while !buf.is_empty() {
        let key = prost::encoding::decode_varint(&mut buf).ok()?;
        let (number, wire) = (key >> 3, key & 7);
        if !known.contains(&number) {
            return Some(number);
        }
        let skip = match wire {
            0 => {
                prost::encoding::decode_varint(&mut buf).ok()?;
                0
            }
            1 => 8,
            2 => usize::try_from(prost::encoding::decode_varint(&mut buf).ok()?).ok()?,
            5 => 4,
            // groups: the message decoded, so prost accepted them; nothing here uses them
            _ => return Some(number),
        };
        buf = buf.get(skip..)?;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_borsh_tx_for_any_chain_id_up_to_cometbfts_limit_is_never_taken_for_a_cosmos_tx() {
        for len in 0u32..=50 {
            let mut bytes = len.to_le_bytes().to_vec();
            bytes.extend(std::iter::repeat_n(b'a', len as usize));
            bytes.extend([0u8; 16]);
            assert!(!is_cosmos_envelope(&bytes), "chain id of {len} bytes");
        }
        assert!(is_cosmos_envelope(&[0x0a, 0x01, 0x00]));
        // a TxRaw with an empty body starts with its auth info
        assert!(is_cosmos_envelope(&[0x12, 0x40]));
        assert!(!is_cosmos_envelope(&[0x0b, 0x01]));
        assert!(!is_cosmos_envelope(&[0x0a]));
        assert!(!is_cosmos_envelope(&[]));
    }

    #[test]
    fn fields_a_newer_sdk_added_are_found() {
        let known = [1, 2, 3, 1023, 2047];
        let body = TxBody {
            memo: "m".into(),
            ..TxBody::default()
        }
        .encode_to_vec();
        assert_eq!(unknown_field(&body, &known), None);
        let mut unordered = body.clone();
        unordered.extend([0x20, 0x01]); // field 4, varint 1
        assert_eq!(unknown_field(&unordered, &known), Some(4));
        let mut timestamp = body;
        timestamp.extend([0x2a, 0x02, 0x08, 0x01]); // field 5, a message
        assert_eq!(unknown_field(&timestamp, &known), Some(5));
    }
}
