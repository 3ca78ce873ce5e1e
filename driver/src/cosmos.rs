//! Cosmos-envelope txs (`docs/wallets.md`) signed by test keys: a `TxRaw` in
//! `SIGN_MODE_DIRECT`, built from the Cosmos SDK's own protobuf types and signed with `k256`, the
//! way CosmJS and cosmrs build them. [`CosmosParts`] lets a test change any field before signing
//! (to make each mistake a wallet could make).

use nodeop_app::cosmos::{self, ACCOUNT_NUMBER, DENOM, SECP256K1_PUBKEY};
use nodeop_app::params::TxParams;
use nodeop_app::tx::{min_fee, Msg};
use prost::Message;

pub use cosmos_sdk_proto::cosmos::base::v1beta1::Coin;
pub use cosmos_sdk_proto::cosmos::crypto::secp256k1::PubKey;
pub use cosmos_sdk_proto::cosmos::tx::signing::v1beta1::SignMode;
pub use cosmos_sdk_proto::cosmos::tx::v1beta1::{
    mode_info, AuthInfo, Fee, ModeInfo, SignDoc, SignerInfo, TxBody, TxRaw,
};
pub use cosmos_sdk_proto::Any;

use crate::chain::{Key, TestChain};

/// The parts of a Cosmos tx before it is signed.
#[derive(Clone, Debug)]
pub struct CosmosParts {
    pub body: TxBody,
    pub auth_info: AuthInfo,
    /// The chain id and account number the signer puts in the `SignDoc`.
    pub chain_id: String,
    pub account_number: u64,
}

/// `amount` unop as a fee coin.
pub fn unop(amount: u128) -> Coin {
    Coin {
        denom: DENOM.into(),
        amount: amount.to_string(),
    }
}

/// The `Any` of a secp256k1 public key, as wallets put it in a signer info.
pub fn pubkey_any(pubkey: &[u8; 33]) -> Any {
    Any {
        type_url: SECP256K1_PUBKEY.into(),
        value: PubKey {
            key: pubkey.to_vec(),
        }
        .encode_to_vec(),
    }
}

impl CosmosParts {
    /// One direct-mode signer (`key` at `sequence`), a fee of `fee` unop, `messages`.
    pub fn new(key: &Key, chain_id: &str, sequence: u64, fee: u128, messages: Vec<Any>) -> Self {
        Self {
            body: TxBody {
                messages,
                ..TxBody::default()
            },
            auth_info: AuthInfo {
                signer_infos: vec![SignerInfo {
                    public_key: Some(pubkey_any(&key.pubkey)),
                    mode_info: Some(ModeInfo {
                        sum: Some(mode_info::Sum::Single(mode_info::Single {
                            mode: SignMode::Direct as i32,
                        })),
                    }),
                    sequence,
                }],
                fee: Some(Fee {
                    amount: vec![unop(fee)],
                    gas_limit: 200_000,
                    payer: String::new(),
                    granter: String::new(),
                }),
                ..AuthInfo::default()
            },
            chain_id: chain_id.into(),
            account_number: ACCOUNT_NUMBER,
        }
    }

    pub fn sign_doc(&self) -> SignDoc {
        SignDoc {
            body_bytes: self.body.encode_to_vec(),
            auth_info_bytes: self.auth_info.encode_to_vec(),
            chain_id: self.chain_id.clone(),
            account_number: self.account_number,
        }
    }

    /// The `TxRaw` with `key`'s signature over the `SignDoc` digest.
    pub fn sign(&self, key: &Key) -> TxRaw {
        let doc = self.sign_doc();
        let digest = nodeop_app::crypto::sha256(&[&doc.encode_to_vec()]);
        TxRaw {
            body_bytes: doc.body_bytes,
            auth_info_bytes: doc.auth_info_bytes,
            signatures: vec![key.signature(&digest).to_vec()],
        }
    }

    pub fn signed_bytes(&self, key: &Key) -> Vec<u8> {
        self.sign(key).encode_to_vec()
    }
}

impl Key {
    /// A Cosmos tx carrying `msgs` (as their `/nodeop.*` types) at `nonce`, paying exactly the
    /// minimum fee for its size under `params`.
    pub fn cosmos_tx(
        &self,
        chain_id: &str,
        params: &TxParams,
        nonce: u64,
        msgs: &[Msg],
    ) -> Vec<u8> {
        let anys = msgs.iter().map(cosmos::msg_to_any).collect();
        self.cosmos_tx_of(chain_id, params, nonce, anys)
    }

    /// A Cosmos tx of any messages at `nonce`, paying exactly the minimum fee for its size.
    pub fn cosmos_tx_of(
        &self,
        chain_id: &str,
        params: &TxParams,
        nonce: u64,
        messages: Vec<Any>,
    ) -> Vec<u8> {
        let mut parts = CosmosParts::new(self, chain_id, nonce, 0, messages);
        // the fee is a decimal string: its size depends on its value, so settle on a fixed point
        let mut fee = 0;
        loop {
            parts.auth_info.fee.as_mut().expect("set above").amount = vec![unop(fee)];
            let bytes = parts.signed_bytes(self);
            let needed = min_fee(params, bytes.len()).expect("fee fits");
            if needed == fee {
                return bytes;
            }
            fee = needed;
        }
    }
}

impl TestChain {
    /// A Cosmos tx from `from` at its next nonce carrying `msgs`, paying the minimum fee.
    pub fn cosmos_tx(&self, from: &Key, msgs: &[Msg]) -> Vec<u8> {
        let nonce = self.account(&from.address).nonce;
        from.cosmos_tx(&self.chain_id, &self.params(), nonce, msgs)
    }

    /// [`CosmosParts`] from `from` at its next nonce with fee `fee`, to change before signing.
    pub fn cosmos_parts(&self, from: &Key, fee: u128, messages: Vec<Any>) -> CosmosParts {
        let nonce = self.account(&from.address).nonce;
        CosmosParts::new(from, &self.chain_id, nonce, fee, messages)
    }
}
