//! A mock consensus over the real App.
//!
//! [`TestChain`] plays CometBFT's part: it sends InitChain with a genesis it builds, then for each
//! block runs PrepareProposal (optionally), ProcessProposal, FinalizeBlock and Commit, advancing
//! the height by one and BFT time by `block_seconds`. Test keys ([`Key`]) sign real txs with the
//! pure-Rust `k256` (an independent implementation from the app's libsecp256k1 verifier).

use k256::ecdsa::signature::hazmat::PrehashSigner;
use k256::ecdsa::{Signature, SigningKey};
use nodeop_app::app::{
    BlockRequest, BlockResponse, BlockTime, CheckKind, InitChainRequest, TxOutcome, VoteInfo,
};
use nodeop_app::crypto::Address;
use nodeop_app::genesis::AppState;
use nodeop_app::modules::bank::genesis::GenesisAccount;
use nodeop_app::modules::bank::{self, MsgSend};
use nodeop_app::modules::staking::Validator;
use nodeop_app::query::{QueryRequest, QueryResponse};
use nodeop_app::state::{StateRead, Storage};
use nodeop_app::tx::{min_fee, Msg, Tx, TxBody};
use nodeop_app::{App, AppOptions};
use sha2::{Digest, Sha256};

pub const CHAIN_ID: &str = "nodeop-test";

/// A secp256k1 account key derived from a seed string.
#[derive(Clone)]
pub struct Key {
    signing: SigningKey,
    pub pubkey: [u8; 33],
    pub address: Address,
}

impl Key {
    pub fn from_seed(seed: &str) -> Self {
        let secret: [u8; 32] = Sha256::digest(seed.as_bytes()).into();
        Self::from_secret(&secret)
    }

    pub fn from_secret(secret: &[u8; 32]) -> Self {
        Self::try_from_secret(secret).expect("a secret between 1 and the group order")
    }

    pub fn try_from_secret(secret: &[u8; 32]) -> Option<Self> {
        let signing = SigningKey::from_slice(secret).ok()?;
        let point = signing.verifying_key().to_encoded_point(true);
        let pubkey: [u8; 33] = point.as_bytes().try_into().expect("compressed point");
        Some(Self {
            address: Address::from_pubkey(&pubkey),
            pubkey,
            signing,
        })
    }

    pub fn secret_bytes(&self) -> [u8; 32] {
        self.signing.to_bytes().into()
    }

    /// Signs with a low-S signature, as the chain requires.
    pub fn sign(&self, body: TxBody) -> Tx {
        let sig: Signature = self
            .signing
            .sign_prehash(&body.sign_bytes())
            .expect("signing a 32-byte digest");
        let sig = sig.normalize_s().unwrap_or(sig);
        Tx {
            body,
            pubkey: self.pubkey,
            signature: sig.to_bytes().into(),
        }
    }

    /// A signed transfer paying exactly the minimum fee for its size under `params`.
    pub fn send(
        &self,
        chain_id: &str,
        params: &nodeop_app::params::TxParams,
        nonce: u64,
        to: &Address,
        amount: u128,
    ) -> Vec<u8> {
        let mut body = TxBody {
            chain_id: chain_id.to_string(),
            nonce,
            fee: 0,
            memo: String::new(),
            msgs: vec![Msg::Send(MsgSend {
                to: to.to_bech32(),
                amount,
            })],
        };
        // The fee is a fixed-width u128, so the size does not depend on its value.
        let len = self.sign(body.clone()).to_bytes().len();
        body.fee = min_fee(params, len).expect("fee fits");
        self.sign(body).to_bytes()
    }
}

/// The genesis validator's consensus key (ed25519 public key bytes; nothing signs with it here).
pub const VALIDATOR_PUBKEY: [u8; 32] = [7u8; 32];

/// A genesis with `accounts` funded and one validator.
pub fn genesis(accounts: &[(Address, u128)]) -> AppState {
    let mut state = AppState::default();
    state.bank.accounts = accounts
        .iter()
        .map(|(address, balance)| GenesisAccount {
            address: *address,
            balance: *balance,
            nonce: 0,
        })
        .collect();
    state.staking.validators = vec![Validator {
        pub_key: VALIDATOR_PUBKEY,
        moniker: "v0".into(),
        power: 10,
    }];
    state
}

pub struct TestChain {
    pub app: App,
    /// The height of the last committed block (genesis: initial_height − 1).
    pub height: u64,
    pub time: BlockTime,
    pub block_seconds: i64,
    pub chain_id: String,
}

impl TestChain {
    /// A chain over an in-memory store, invariants checked after every block.
    pub fn start(app_state: &AppState) -> Self {
        let options = AppOptions {
            check_invariants: true,
            ..AppOptions::default()
        };
        Self::start_on(
            Storage::in_memory().expect("in-memory store"),
            options,
            app_state,
        )
    }

    pub fn start_on(storage: Storage, options: AppOptions, app_state: &AppState) -> Self {
        let mut app = App::new(storage, options);
        let time = BlockTime {
            seconds: 1_700_000_000,
            nanos: 0,
        };
        app.init_chain(&InitChainRequest {
            chain_id: CHAIN_ID.into(),
            genesis_time: time,
            initial_height: 1,
            app_state: serde_json::to_vec(app_state).expect("app_state encodes"),
        })
        .expect("genesis is valid");
        Self {
            app,
            height: 0,
            time,
            block_seconds: 1,
            chain_id: CHAIN_ID.into(),
        }
    }

    /// Resumes a chain from an App whose store already holds blocks.
    pub fn resume(app: App) -> Self {
        let height = app.storage().committed().map(|c| c.height).unwrap_or(0);
        Self {
            app,
            height,
            time: BlockTime {
                seconds: 1_700_000_000 + height as i64,
                nanos: 0,
            },
            block_seconds: 1,
            chain_id: CHAIN_ID.into(),
        }
    }

    pub fn params(&self) -> nodeop_app::params::TxParams {
        self.app.tx_params().expect("genesis done").clone()
    }

    pub fn send(&self, from: &Key, to: &Address, amount: u128) -> Vec<u8> {
        let nonce = self.account(&from.address).nonce;
        from.send(&self.chain_id, &self.params(), nonce, to, amount)
    }

    pub fn send_with_nonce(&self, from: &Key, nonce: u64, to: &Address, amount: u128) -> Vec<u8> {
        from.send(&self.chain_id, &self.params(), nonce, to, amount)
    }

    pub fn check(&mut self, bytes: &[u8]) -> TxOutcome {
        self.app.check_tx(bytes, CheckKind::New)
    }

    fn next_request(&self, txs: Vec<Vec<u8>>) -> BlockRequest {
        BlockRequest {
            height: self.height + 1,
            time: BlockTime {
                seconds: self.time.seconds + self.block_seconds,
                nanos: 0,
            },
            hash: Sha256::digest((self.height + 1).to_be_bytes()).to_vec(),
            proposer_address: vec![0u8; 20],
            txs,
            decided_last_commit: vec![VoteInfo {
                validator_address: vec![0u8; 20],
                power: 10,
                signed: true,
            }],
            misbehavior: Vec::new(),
        }
    }

    /// Runs one block holding exactly `txs` (ProcessProposal must accept it), then commits.
    pub fn block(&mut self, txs: Vec<Vec<u8>>) -> BlockResponse {
        assert!(
            self.app.process_proposal(&txs),
            "ProcessProposal refused the block"
        );
        self.finalize_and_commit(txs)
    }

    /// As the proposer: PrepareProposal picks from `mempool`, then the block runs as usual.
    pub fn propose(&mut self, mempool: Vec<Vec<u8>>, max_tx_bytes: u64) -> BlockResponse {
        let txs = self.app.prepare_proposal(mempool, max_tx_bytes);
        self.block(txs)
    }

    /// FinalizeBlock + Commit without ProcessProposal (a block other validators accepted).
    pub fn finalize_and_commit(&mut self, txs: Vec<Vec<u8>>) -> BlockResponse {
        let req = self.next_request(txs);
        let resp = self.app.finalize_block(&req).expect("FinalizeBlock");
        let commit = self.app.commit().expect("Commit");
        assert_eq!(
            commit.app_hash, resp.app_hash,
            "Commit wrote another root than FinalizeBlock"
        );
        self.height = req.height;
        self.time = req.time;
        resp
    }

    pub fn empty_blocks(&mut self, n: u64) {
        for _ in 0..n {
            self.block(Vec::new());
        }
    }

    pub fn account(&self, address: &Address) -> bank::Account {
        bank::account(self.app.storage(), address)
    }

    pub fn balance(&self, address: &Address) -> u128 {
        self.account(address).balance
    }

    pub fn supply(&self) -> bank::Supply {
        bank::supply(self.app.storage())
    }

    pub fn query(&self, path: &str, data: &[u8], height: u64, prove: bool) -> QueryResponse {
        self.app.query(&QueryRequest {
            path: path.into(),
            data: data.to_vec(),
            height,
            prove,
        })
    }

    pub fn app_hash(&self) -> [u8; 32] {
        self.app.storage().committed().expect("committed").app_hash
    }

    /// Every (key, value) of the committed state.
    pub fn dump(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        self.app.storage().prefix_raw(b"", None, usize::MAX)
    }
}
