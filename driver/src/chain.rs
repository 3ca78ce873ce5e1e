//! A mock consensus over the real App.
//!
//! [`TestChain`] plays CometBFT's part: it sends InitChain with a genesis it builds, then for each
//! block runs PrepareProposal (optionally), ProcessProposal, FinalizeBlock and Commit, advancing
//! the height by one and BFT time by `block_seconds`. Test keys ([`Key`]) sign real txs with the
//! pure-Rust `k256` (an independent implementation from the app's libsecp256k1 verifier);
//! [`Key::with_libsecp256k1`] switches a key to libsecp256k1's signer, several times faster, for
//! the simulator's millions of txs (both give the same RFC 6979 signatures, which a test checks).

use k256::ecdsa::signature::hazmat::PrehashSigner;
use k256::ecdsa::{Signature, SigningKey};
use nodeop_app::app::{
    BlockRequest, BlockResponse, BlockTime, CheckKind, InitChainRequest, TxOutcome, VoteInfo,
};
use nodeop_app::crypto::Address;
use nodeop_app::genesis::AppState;
use nodeop_app::modules::bank;
use nodeop_app::modules::bank::genesis::{GenesisAccount, GenesisModuleAccount};
use nodeop_app::modules::staking::validator_set::ValidatorPowers;
use nodeop_app::modules::staking::{self, consensus_address, StakingParams};
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
    /// libsecp256k1's copy of the secret, when the key signs with it.
    fast: Option<secp256k1::SecretKey>,
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
            fast: None,
        })
    }

    /// The same key, signing with libsecp256k1 instead of `k256` (same signatures, faster).
    pub fn with_libsecp256k1(mut self) -> Self {
        self.fast = secp256k1::SecretKey::from_byte_array(self.secret_bytes()).ok();
        self
    }

    pub fn secret_bytes(&self) -> [u8; 32] {
        self.signing.to_bytes().into()
    }

    /// A low-S signature of a 32-byte digest, as the chain requires.
    pub fn signature(&self, digest: &[u8]) -> [u8; 64] {
        if let (Some(secret), Ok(digest)) = (&self.fast, <[u8; 32]>::try_from(digest)) {
            static SIGNER: std::sync::OnceLock<secp256k1::Secp256k1<secp256k1::SignOnly>> =
                std::sync::OnceLock::new();
            let signer = SIGNER.get_or_init(secp256k1::Secp256k1::signing_only);
            // libsecp256k1 always answers with the low-S form
            return signer
                .sign_ecdsa(secp256k1::Message::from_digest(digest), secret)
                .serialize_compact();
        }
        let sig: Signature = self
            .signing
            .sign_prehash(digest)
            .expect("signing a 32-byte digest");
        sig.normalize_s().unwrap_or(sig).to_bytes().into()
    }

    pub fn sign(&self, body: TxBody) -> Tx {
        Tx {
            signature: self.signature(&body.sign_bytes()),
            pubkey: self.pubkey,
            body,
        }
    }

    /// A signed tx carrying `msgs`, paying exactly the minimum fee for its size.
    pub fn tx(
        &self,
        chain_id: &str,
        params: &nodeop_app::params::TxParams,
        nonce: u64,
        msgs: Vec<Msg>,
    ) -> Vec<u8> {
        let body = TxBody {
            chain_id: chain_id.to_string(),
            nonce,
            fee: 0,
            memo: String::new(),
            msgs,
        };
        // The fee is a fixed-width u128 and the signature 64 bytes, so the size depends on
        // neither: measured unsigned, then signed once.
        let unsigned = Tx {
            body,
            pubkey: self.pubkey,
            signature: [0; 64],
        };
        let len = unsigned.to_bytes().len();
        let mut body = unsigned.body;
        body.fee = min_fee(params, len).expect("fee fits");
        self.sign(body).to_bytes()
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
        self.tx(chain_id, params, nonce, vec![Msg::send(to, amount)])
    }
}

/// An ed25519 consensus key derived from a seed string (what CometBFT's priv_validator_key holds).
pub fn consensus_key(seed: &str) -> [u8; 32] {
    let secret: [u8; 32] = Sha256::digest(format!("consensus/{seed}").as_bytes()).into();
    ed25519_consensus::SigningKey::from(secret)
        .verification_key()
        .to_bytes()
}

/// The genesis operator's account key and consensus key.
pub fn genesis_operator() -> (Key, [u8; 32]) {
    (Key::from_seed("operator-0"), consensus_key("operator-0"))
}

pub const GENESIS_SELF_BOND: u128 = 10_000 * 1_000_000;

/// A genesis with `accounts` funded, one operator (`genesis_operator()`, self-bond 10_000 NOP)
/// and the devnet's short staking and slashing windows (but no downtime SLA period in sight).
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
    state.staking.params = StakingParams::devnet();
    state.slashing.params = nodeop_app::modules::slashing::SlashingParams::devnet();
    // The downtime SLA would slash a validator a test keeps offline before liveness jails it;
    // tests of the SLA set a short period themselves.
    state.slashing.params.downtime_period_epochs = 1_000_000;
    let (op, cons) = genesis_operator();
    add_genesis_operator(&mut state, &op.address, cons, "op-0", GENESIS_SELF_BOND);
    if !accounts.iter().any(|(a, _)| *a == op.address) {
        // the operator's account pays its own fees
        state.bank.accounts.push(GenesisAccount {
            address: op.address,
            balance: 1_000 * 1_000_000,
            nonce: 0,
        });
    }
    state
}

/// Adds an operator with `self_bond` (credited to the bonded pool) to a genesis.
pub fn add_genesis_operator(
    state: &mut AppState,
    address: &Address,
    consensus_pubkey: [u8; 32],
    moniker: &str,
    self_bond: u128,
) {
    state.staking.add_operator(
        *address,
        consensus_pubkey,
        moniker,
        100,
        "eu",
        100_000,
        self_bond,
    );
    match state
        .bank
        .module_accounts
        .iter_mut()
        .find(|m| m.name == "bonded_pool")
    {
        Some(m) => m.balance += self_bond,
        None => state.bank.module_accounts.push(GenesisModuleAccount {
            name: "bonded_pool".into(),
            balance: self_bond,
        }),
    }
}

pub struct TestChain {
    /// Validators (by consensus key) that do not sign the blocks the driver makes.
    pub offline: std::collections::BTreeSet<[u8; 32]>,
    /// Consensus evidence to report in the next block.
    pub pending_misbehavior: Vec<nodeop_app::app::Misbehavior>,
    /// What CometBFT would have as the validator set: updates apply two blocks after the block
    /// that returned them. Entries: (height from which it applies, set).
    pub cometbft_sets: Vec<(u64, ValidatorPowers)>,
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
        let resp = app
            .init_chain(&InitChainRequest {
                chain_id: CHAIN_ID.into(),
                genesis_time: time,
                initial_height: 1,
                app_state: serde_json::to_vec(app_state).expect("app_state encodes"),
            })
            .expect("genesis is valid");
        let set = resp
            .validators
            .iter()
            .map(|v| (v.ed25519_pubkey, v.power))
            .collect();
        Self {
            offline: Default::default(),
            pending_misbehavior: Vec::new(),
            cometbft_sets: vec![(1, set)],
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
        let set = staking::validator_set::reported(app.storage());
        Self {
            offline: Default::default(),
            pending_misbehavior: Vec::new(),
            cometbft_sets: vec![(height + 1, set)],
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

    /// CheckTx of a new tx, as CometBFT sends one from the RPC or a peer.
    pub fn check(&mut self, bytes: &[u8]) -> TxOutcome {
        self.app.check_tx(bytes, CheckKind::New)
    }

    /// CheckTx of a tx still in the mempool after a Commit, as CometBFT's recheck sends it.
    pub fn recheck(&mut self, bytes: &[u8]) -> TxOutcome {
        self.app.check_tx(bytes, CheckKind::Recheck)
    }

    /// The validator set CometBFT runs `height` with.
    pub fn cometbft_set_at(&self, height: u64) -> Vec<([u8; 32], u64)> {
        self.cometbft_sets
            .iter()
            .rev()
            .find(|(from, _)| *from <= height)
            .map(|(_, set)| set.clone())
            .unwrap_or_default()
    }

    /// The request CometBFT would send for the next block: the last commit signed by every
    /// validator of the previous block's set that is not [`Self::offline`], the pending
    /// misbehaviour, BFT time `block_seconds` on.
    pub fn next_request(&mut self, txs: Vec<Vec<u8>>) -> BlockRequest {
        let height = self.height + 1;
        // the last commit is that of block `height − 1`, signed by that block's set
        let last_set = if height > 1 {
            self.cometbft_set_at(height - 1)
        } else {
            Vec::new()
        };
        let decided_last_commit = last_set
            .iter()
            .map(|(pk, power)| VoteInfo {
                validator_address: consensus_address(pk).to_vec(),
                power: *power as i64,
                signed: !self.offline.contains(pk),
            })
            .collect();
        BlockRequest {
            height,
            time: BlockTime {
                seconds: self.time.seconds + self.block_seconds,
                nanos: 0,
            },
            hash: Sha256::digest(height.to_be_bytes()).to_vec(),
            proposer_address: vec![0u8; 20],
            txs,
            decided_last_commit,
            misbehavior: std::mem::take(&mut self.pending_misbehavior),
        }
    }

    /// Applies a block's validator updates as CometBFT does: from height + 2.
    fn record_updates(&mut self, height: u64, updates: &[nodeop_app::app::ValidatorUpdate]) {
        if updates.is_empty() {
            return;
        }
        let mut set = self.cometbft_set_at(height + 1);
        for u in updates {
            set.retain(|(pk, _)| *pk != u.ed25519_pubkey);
            if u.power > 0 {
                set.push((u.ed25519_pubkey, u.power));
            }
        }
        set.sort();
        self.cometbft_sets.push((height + 2, set));
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
        self.commit(&req, &resp);
        resp
    }

    /// Commits the block `req` that FinalizeBlock answered with `resp`, and moves the chain to
    /// it: its height and time, its validator updates. The two steps apart let a benchmark time
    /// them apart.
    pub fn commit(&mut self, req: &BlockRequest, resp: &BlockResponse) {
        let commit = self.app.commit().expect("Commit");
        self.record_updates(req.height, &resp.validator_updates);
        assert_eq!(
            commit.app_hash, resp.app_hash,
            "Commit wrote another root than FinalizeBlock"
        );
        self.height = req.height;
        self.time = req.time;
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
        self.raw_under(b"")
    }

    /// Every (key, value) under `prefix` in the committed state, in key order.
    pub fn raw_under(&self, prefix: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
        self.app.storage().prefix_raw(prefix, None, usize::MAX)
    }

    /// Every record under `prefix` in the committed state, decoded, in key order.
    pub fn records<T: borsh::BorshDeserialize>(&self, prefix: &[u8]) -> Vec<T> {
        self.raw_under(prefix)
            .iter()
            .map(|(k, v)| nodeop_app::state::decode_stored(k, v))
            .collect()
    }

    /// Σ of every balance in the committed state, module accounts included.
    pub fn sum_of_balances(&self) -> u128 {
        self.records::<bank::Account>(bank::keys::ACCOUNT_PREFIX)
            .iter()
            .map(|a| a.balance)
            .sum()
    }
}

/// Staking helpers for scenario tests.
impl TestChain {
    pub fn tx(&self, from: &Key, msgs: Vec<Msg>) -> Vec<u8> {
        let nonce = self.account(&from.address).nonce;
        from.tx(&self.chain_id, &self.params(), nonce, msgs)
    }

    /// A signed tx with fee 0 at the signer's next nonce (a fee-free duty, or a tx the chain
    /// must refuse for its fee).
    pub fn fee_free_tx(&self, from: &Key, msgs: Vec<Msg>) -> Vec<u8> {
        self.tx_with_nonce_and_fee(from, self.account(&from.address).nonce, 0, msgs)
    }

    /// A signed tx with the given nonce and fee.
    pub fn tx_with_nonce_and_fee(
        &self,
        from: &Key,
        nonce: u64,
        fee: u128,
        msgs: Vec<Msg>,
    ) -> Vec<u8> {
        from.sign(TxBody {
            chain_id: self.chain_id.clone(),
            nonce,
            fee,
            memo: String::new(),
            msgs,
        })
        .to_bytes()
    }

    /// Runs a block with one tx and asserts it succeeded.
    pub fn ok(&mut self, from: &Key, msg: Msg) -> BlockResponse {
        let tx = self.tx(from, vec![msg]);
        let resp = self.block(vec![tx]);
        let r = &resp.tx_results[0];
        assert!(r.is_ok(), "tx failed: {}/{} {}", r.codespace, r.code, r.log);
        resp
    }

    /// Runs a block with one tx and returns its (codespace, code).
    pub fn run(&mut self, from: &Key, msg: Msg) -> (String, u32, String) {
        let tx = self.tx(from, vec![msg]);
        let resp = self.block(vec![tx]);
        let r = &resp.tx_results[0];
        (r.codespace.clone(), r.code, r.log.clone())
    }

    pub fn operator(&self, address: &Address) -> staking::Operator {
        staking::state::operator(self.app.storage(), address).expect("operator exists")
    }

    /// The set the app last reported to CometBFT.
    pub fn reported_set(&self) -> Vec<([u8; 32], u64)> {
        staking::validator_set::reported(self.app.storage())
    }

    pub fn power_of(&self, consensus_pubkey: &[u8; 32], height: u64) -> Option<u64> {
        self.cometbft_set_at(height)
            .iter()
            .find(|(pk, _)| pk == consensus_pubkey)
            .map(|(_, p)| *p)
    }

    pub fn unbonding_entries(&self) -> Vec<staking::UnbondingEntry> {
        self.records(staking::keys::UNBONDING_PREFIX)
    }

    /// Reports a duplicate vote by `consensus_pubkey` at `height` with the power it had then.
    pub fn report_double_sign(&mut self, consensus_pubkey: &[u8; 32], height: u64, power: u64) {
        self.pending_misbehavior.push(nodeop_app::app::Misbehavior {
            kind: nodeop_app::app::MisbehaviorKind::DuplicateVote,
            validator_address: consensus_address(consensus_pubkey).to_vec(),
            power: power as i64,
            height: height as i64,
            time: self.time,
        });
    }
}

/// Test defaults for messages with many fields (the app's [`Msg`] builders cover the rest).
pub mod msgs {
    use nodeop_app::modules::staking::MsgRegisterOperator;
    use nodeop_app::tx::Msg;

    /// `RegisterOperator` with the genesis operators' capacity, region and commission.
    pub fn register(consensus_pubkey: [u8; 32], moniker: &str, self_bond: u128) -> Msg {
        MsgRegisterOperator {
            consensus_pubkey,
            moniker: moniker.into(),
            capacity_units: 100,
            region: "eu".into(),
            commission_ppm: 100_000,
            self_bond,
        }
        .into()
    }
}

impl Key {
    /// A signed result attestation (for equivocation evidence).
    pub fn attest(
        &self,
        chain_id: &str,
        task_id: u64,
        result_hash: [u8; 32],
    ) -> nodeop_app::modules::slashing::Attestation {
        let body = nodeop_app::modules::slashing::AttestationBody {
            chain_id: chain_id.into(),
            task_id,
            result_hash,
        };
        nodeop_app::modules::slashing::Attestation {
            signature: self.signature(&body.sign_bytes()),
            pubkey: self.pubkey,
            body,
        }
    }
}

/// Slash proposals with test evidence (disputes and votes: [`Msg::dispute_slash`],
/// [`Msg::vote_dispute`]).
pub mod slash_msgs {
    use nodeop_app::crypto::Address;
    use nodeop_app::modules::slashing::{Attestation, Evidence, MsgProposeSlash, Offence};
    use nodeop_app::tx::Msg;

    pub fn equivocation(operator: &Address, first: Attestation, second: Attestation) -> Msg {
        MsgProposeSlash {
            operator: operator.to_bech32(),
            offence: Offence::Equivocation,
            evidence: Evidence::Equivocation { first, second },
        }
        .into()
    }

    /// A proposal backed by a statement about `infraction_id` at `height`.
    pub fn statement(operator: &Address, offence: Offence, infraction_id: u64, height: u64) -> Msg {
        MsgProposeSlash {
            operator: operator.to_bech32(),
            offence,
            evidence: Evidence::Statement {
                infraction_id,
                infraction_height: height,
                description: "the submission never reached the consumer".into(),
                reference: "consumer-log#42".into(),
            },
        }
        .into()
    }
}

/// A genesis with three validators: the genesis operator (10_000 NOP), `big` (30_000) and `mid`
/// (20_000), each account funded with 1_000 NOP, plus `accounts`. Epochs are made long (no fee
/// payouts move the pools) so that slash amounts can be compared exactly.
pub fn three_validators(accounts: &[(Address, u128)]) -> (AppState, Key, Key) {
    let big = Key::from_seed("big");
    let mid = Key::from_seed("mid");
    let mut all = accounts.to_vec();
    all.push((big.address, 1_000 * 1_000_000));
    all.push((mid.address, 1_000 * 1_000_000));
    let mut g = genesis(&all);
    add_genesis_operator(
        &mut g,
        &big.address,
        consensus_key("big"),
        "big",
        30_000 * 1_000_000,
    );
    add_genesis_operator(
        &mut g,
        &mid.address,
        consensus_key("mid"),
        "mid",
        20_000 * 1_000_000,
    );
    g.staking.params.epoch_seconds = 1_000_000;
    (g, big, mid)
}

impl TestChain {
    /// The slash proposal with `id`.
    pub fn proposal(&self, id: u64) -> nodeop_app::modules::slashing::Proposal {
        nodeop_app::modules::slashing::state::proposal(self.app.storage(), id).expect("proposal")
    }

    /// Runs empty blocks until the block time reaches `time` (the last block is at `time`).
    pub fn run_until(&mut self, time: i64) {
        while self.time.seconds + self.block_seconds <= time {
            self.block(Vec::new());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libsecp256k1_signs_exactly_as_k256_does_and_the_app_accepts_both() {
        let verifier = nodeop_app::crypto::Verifier::default();
        for i in 0..300u32 {
            let key = Key::from_seed(&format!("key-{i}"));
            let fast = key.clone().with_libsecp256k1();
            assert!(fast.fast.is_some());
            let digest: [u8; 32] = Sha256::digest(i.to_be_bytes()).into();
            let (slow_sig, fast_sig) = (key.signature(&digest), fast.signature(&digest));
            assert_eq!(slow_sig, fast_sig, "key {i}");
            assert!(verifier.verify(&key.pubkey, &digest, &fast_sig).is_ok());
            // and a signature of another digest is not accepted
            let other: [u8; 32] = Sha256::digest((i + 1).to_be_bytes()).into();
            assert!(verifier.verify(&key.pubkey, &other, &fast_sig).is_err());
        }
    }
}
