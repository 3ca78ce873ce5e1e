//! Building and signing transactions (PROTOCOL.md §2).
//!
//! A tx is `borsh(Tx { body, pubkey, signature })`; the signature is over
//! `TxBody::sign_bytes()` = SHA-256("nodeop-tx-v1" ‖ borsh(body)). The fee floor depends on the
//! encoded length of the whole signed tx; since the fee is a fixed 16-byte borsh `u128`, the pubkey
//! is 33 bytes and the signature 64, the length is known before signing and one pass suffices.

use anyhow::{bail, Context, Result};
use nodeop_app::crypto::Address;
use nodeop_app::modules::bank::{check_send_stateless, MsgSend};
use nodeop_app::params::TxParams;
use nodeop_app::tx::{min_fee, Msg, Tx, TxBody};
use serde::Serialize;

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

/// Builds the body of a one-message `bank.send` tx. With `fee = None` the fee is the minimum for
/// the signed tx's size under `params`. The message is checked as the chain will (non-zero
/// amount, valid recipient) and the memo against `max_memo_bytes`; an explicit fee is used as
/// given, even below the minimum (the node then refuses it with `fee_too_low`).
pub fn build_send(
    chain_id: &str,
    nonce: u64,
    to: &Address,
    amount: u128,
    fee: Option<u128>,
    memo: &str,
    params: &TxParams,
) -> Result<TxBody> {
    let msg = MsgSend {
        to: to.to_bech32(),
        amount,
    };
    check_send_stateless(&msg).map_err(|e| anyhow::anyhow!("{e}"))?;
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
        msgs: vec![Msg::Send(msg)],
    };
    body.fee = match fee {
        Some(f) => f,
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

#[derive(Clone, Debug, Serialize)]
#[serde(tag = "type")]
pub enum MsgView {
    #[serde(rename = "bank.send")]
    Send {
        to: String,
        #[serde(with = "nodeop_app::serde_u128")]
        amount: u128,
    },
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
            msgs: tx
                .body
                .msgs
                .iter()
                .map(|m| match m {
                    Msg::Send(s) => MsgView::Send {
                        to: s.to.clone(),
                        amount: s.amount,
                    },
                })
                .collect(),
        }
    }
}

/// Decodes broadcast tx bytes (trailing bytes refused, as the chain does).
pub fn decode_tx(bytes: &[u8]) -> Result<Tx> {
    borsh::from_slice(bytes).context("the tx bytes do not decode as a borsh nodeop Tx")
}

#[cfg(test)]
mod tests {
    use super::*;
    use nodeop_app::crypto::Verifier;
    use nodeop_app::tx::check_stateless;

    fn key() -> KeyPair {
        KeyPair::from_secret_hex(&"11".repeat(32)).unwrap()
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
        assert_eq!(decode_tx(&bytes).unwrap(), tx);
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
}
