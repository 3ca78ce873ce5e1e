//! ABCI 2.0 (CometBFT v0.38) ⇄ the App's domain types, and nothing else.
//!
//! `tendermint-abci` serves each of CometBFT's four connections (consensus, mempool, query,
//! snapshot) on its own thread with its own clone of [`AbciApp`]; the clones share one App
//! behind a mutex, so requests run one at a time in arrival order.
//!
//! What may stop the process, and what may not:
//! - InitChain with an invalid genesis, a FinalizeBlock or Commit that fails (storage error,
//!   broken invariant: the App panics with "nodeop halted: …"), or a request no CometBFT sends
//!   (negative height, missing time) end the process with a message: the node cannot follow the
//!   chain, and CometBFT stops when its app connection drops.
//! - CheckTx bytes and Query path, data and height come from users: they are answered with an
//!   error code, never a halt.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use crate::event_index::EventIndex;
use nodeop_app::app::{
    BlockRequest, BlockTime, CheckKind, InitChainRequest, Misbehavior, MisbehaviorKind, TxOutcome,
    ValidatorUpdate, VoteInfo,
};
use nodeop_app::error::{QueryError, CODESPACE_QUERY};
use nodeop_app::events::Event;
use nodeop_app::query::QueryRequest;
use nodeop_app::state::snapshot::{ChunkError, Restore, SnapshotInfo};
use nodeop_app::state::store::RestoreError;
use nodeop_app::App;
use nodeop_genesis::APP_VERSION;
use prost::bytes::Bytes;
use tendermint_abci::Application;
use tendermint_proto::google::protobuf::Timestamp;
use tendermint_proto::v0_38::abci as pb;
use tendermint_proto::v0_38::crypto as pb_crypto;
use tendermint_proto::v0_38::types::BlockIdFlag;

use crate::snapshots::Snapshots;

/// The process exit code when the node halts.
pub const EXIT_HALT: i32 = 1;

/// Stops the process: the node can no longer follow the chain. CometBFT notices the closed
/// connection and stops too.
pub fn halt(what: &str) -> ! {
    tracing::error!(target: "nodeop::halt", "{what}");
    eprintln!("nodeopd halted: {what}");
    std::process::exit(EXIT_HALT)
}

/// What the mutex guards: the App, and the timing of the block being executed.
pub struct Node {
    pub app: App,
    block: Option<BlockStats>,
    /// Whether an Info request was answered yet (the first one is CometBFT's handshake).
    info_seen: bool,
}

struct BlockStats {
    height: u64,
    txs: usize,
    failed: usize,
    started: Instant,
    /// How long FinalizeBlock took (the rest of `ms` is CometBFT saving the block's results,
    /// and Commit).
    exec_ms: u128,
}

impl Node {
    pub fn new(app: App) -> Self {
        Self {
            app,
            block: None,
            info_seen: false,
        }
    }
}

/// The ABCI application: a handle on the shared [`Node`]. `None` inside the mutex means the
/// node has shut down (its store is closed).
#[derive(Clone)]
pub struct AbciApp {
    node: Arc<Mutex<Option<Node>>>,
    /// Verifies new txs' signatures outside the lock.
    verifier: Arc<nodeop_app::crypto::Verifier>,
    /// This node's snapshots (state sync: taken, listed, served).
    snapshots: Arc<Snapshots>,
    /// The snapshot being restored (state sync: joining), and the peers that sent its chunks.
    restore: Arc<Mutex<Option<Restoring>>>,
    /// Which event attributes CometBFT indexes (app.toml `[events]`).
    index: Arc<EventIndex>,
}

struct Restoring {
    restore: Restore,
    senders: std::collections::BTreeSet<String>,
}

impl AbciApp {
    /// An ABCI app that takes no snapshots and serves none (it can still restore one).
    #[cfg(test)]
    pub fn new(app: App) -> Self {
        Self::with_snapshots(app, Snapshots::disabled())
    }

    /// An ABCI app that takes and serves `snapshots`.
    pub fn with_snapshots(app: App, snapshots: Snapshots) -> Self {
        Self {
            node: Arc::new(Mutex::new(Some(Node::new(app)))),
            verifier: Arc::new(nodeop_app::crypto::Verifier::default()),
            snapshots: Arc::new(snapshots),
            restore: Arc::new(Mutex::new(None)),
            index: Arc::new(EventIndex::all()),
        }
    }

    /// The same app, flagging for CometBFT's indexer only the attributes `index` names.
    pub fn with_event_index(mut self, index: EventIndex) -> Self {
        self.index = Arc::new(index);
        self
    }

    /// This node's snapshots.
    #[cfg(test)]
    pub fn snapshots(&self) -> Arc<Snapshots> {
        self.snapshots.clone()
    }

    /// The shared node, for the shutdown path.
    pub fn shared(&self) -> Arc<Mutex<Option<Node>>> {
        self.node.clone()
    }

    fn with<R>(&self, f: impl FnOnce(&mut Node) -> R) -> R {
        let mut guard: MutexGuard<'_, Option<Node>> = match self.node.lock() {
            Ok(g) => g,
            // Only a panic while holding the lock poisons it, and the panic hook ends the
            // process first; this is the fallback.
            Err(_) => halt("the app lock is poisoned: a request panicked mid-way"),
        };
        match guard.as_mut() {
            Some(node) => f(node),
            // Shutting down: the signal handler holds the lock and exits; never reached.
            None => halt("request after shutdown"),
        }
    }
}

fn timestamp(t: Option<&Timestamp>, what: &str) -> BlockTime {
    let Some(t) = t else {
        halt(&format!("{what}: CometBFT sent no time"))
    };
    let Ok(nanos) = u32::try_from(t.nanos) else {
        halt(&format!(
            "{what}: time has negative nanoseconds {}",
            t.nanos
        ))
    };
    BlockTime {
        seconds: t.seconds,
        nanos,
    }
}

fn height(h: i64, what: &str) -> u64 {
    u64::try_from(h).unwrap_or_else(|_| halt(&format!("{what}: negative height {h}")))
}

/// ABCI events; an attribute is flagged for CometBFT's indexer if the app flags it and `index`
/// names it.
fn events(list: Vec<Event>, index: &EventIndex) -> Vec<pb::Event> {
    list.into_iter()
        .map(|e| pb::Event {
            attributes: e
                .attributes
                .into_iter()
                .map(|a| pb::EventAttribute {
                    index: a.index && index.indexes(&e.kind, &a.key),
                    key: a.key,
                    value: a.value,
                })
                .collect(),
            r#type: e.kind,
        })
        .collect()
}

fn validator_updates(list: Vec<ValidatorUpdate>) -> Vec<pb::ValidatorUpdate> {
    list.into_iter()
        .map(|v| pb::ValidatorUpdate {
            pub_key: Some(pb_crypto::PublicKey {
                sum: Some(pb_crypto::public_key::Sum::Ed25519(
                    v.ed25519_pubkey.to_vec(),
                )),
            }),
            power: i64::try_from(v.power).unwrap_or_else(|_| {
                halt(&format!(
                    "validator power {} does not fit CometBFT's int64",
                    v.power
                ))
            }),
        })
        .collect()
}

fn exec_result(o: TxOutcome, index: &EventIndex) -> pb::ExecTxResult {
    pb::ExecTxResult {
        code: o.code,
        codespace: o.codespace,
        log: o.log,
        events: events(o.events, index),
        ..Default::default()
    }
}

fn misbehavior_kind(t: i32) -> MisbehaviorKind {
    match pb::MisbehaviorType::try_from(t) {
        Ok(pb::MisbehaviorType::DuplicateVote) => MisbehaviorKind::DuplicateVote,
        Ok(pb::MisbehaviorType::LightClientAttack) => MisbehaviorKind::LightClientAttack,
        _ => MisbehaviorKind::Unknown,
    }
}

/// Translates CometBFT's FinalizeBlock request.
pub fn block_request(req: pb::RequestFinalizeBlock) -> BlockRequest {
    let h = height(req.height, "FinalizeBlock");
    let decided_last_commit = req
        .decided_last_commit
        .map(|c| c.votes)
        .unwrap_or_default()
        .into_iter()
        .map(|v| {
            let flag = BlockIdFlag::try_from(v.block_id_flag).unwrap_or(BlockIdFlag::Unknown);
            let validator = v.validator.unwrap_or_default();
            VoteInfo {
                validator_address: validator.address.to_vec(),
                power: validator.power,
                // A nil precommit is still a signature: the validator was online.
                signed: matches!(flag, BlockIdFlag::Commit | BlockIdFlag::Nil),
            }
        })
        .collect();
    let misbehavior = req
        .misbehavior
        .into_iter()
        .map(|m| {
            let validator = m.validator.unwrap_or_default();
            Misbehavior {
                kind: misbehavior_kind(m.r#type),
                validator_address: validator.address.to_vec(),
                // the offender's power at the infraction height, as CometBFT recorded it
                power: validator.power,
                height: m.height,
                time: timestamp(m.time.as_ref(), "FinalizeBlock misbehavior"),
            }
        })
        .collect();
    BlockRequest {
        height: h,
        time: timestamp(req.time.as_ref(), "FinalizeBlock"),
        hash: req.hash.to_vec(),
        proposer_address: req.proposer_address.to_vec(),
        txs: req.txs.into_iter().map(|t| t.to_vec()).collect(),
        decided_last_commit,
        misbehavior,
    }
}

/// A query answer for a request the App cannot even be asked.
fn query_error(e: QueryError) -> pb::ResponseQuery {
    pb::ResponseQuery {
        code: e.code(),
        codespace: CODESPACE_QUERY.into(),
        log: format!("{}: {e}", e.name()),
        ..Default::default()
    }
}

impl Application for AbciApp {
    fn info(&self, req: pb::RequestInfo) -> pb::ResponseInfo {
        let (info, first) =
            self.with(|n| (n.app.info(), !std::mem::replace(&mut n.info_seen, true)));
        // The first Info is CometBFT's handshake; later ones are RPC `abci_info` calls.
        if first {
            tracing::info!(
                cometbft = %req.version,
                abci = %req.abci_version,
                last_block_height = info.last_block_height,
                last_block_app_hash = %hex::encode_upper(&info.last_block_app_hash),
                chain_id = info.chain_id.as_deref().unwrap_or(""),
                "Info (handshake)"
            );
        } else {
            tracing::debug!(last_block_height = info.last_block_height, "Info");
        }
        pb::ResponseInfo {
            data: "nodeop".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            app_version: APP_VERSION,
            last_block_height: i64::try_from(info.last_block_height)
                .unwrap_or_else(|_| halt("last block height does not fit int64")),
            last_block_app_hash: Bytes::from(info.last_block_app_hash),
        }
    }

    fn init_chain(&self, req: pb::RequestInitChain) -> pb::ResponseInitChain {
        if !req.validators.is_empty() {
            tracing::warn!(
                count = req.validators.len(),
                "genesis.json lists validators; nodeop replaces them with the top operators \
                 of app_state.staking.operators"
            );
        }
        let request = InitChainRequest {
            chain_id: req.chain_id.clone(),
            genesis_time: timestamp(req.time.as_ref(), "InitChain"),
            initial_height: height(req.initial_height, "InitChain"),
            app_state: req.app_state_bytes.to_vec(),
        };
        let result = self.with(|n| n.app.init_chain(&request));
        match result {
            Ok(resp) => {
                tracing::info!(
                    chain_id = %req.chain_id,
                    initial_height = request.initial_height,
                    validators = resp.validators.len(),
                    app_hash = %hex::encode_upper(resp.app_hash),
                    "InitChain"
                );
                pb::ResponseInitChain {
                    consensus_params: None,
                    validators: validator_updates(resp.validators),
                    app_hash: Bytes::copy_from_slice(&resp.app_hash),
                }
            }
            Err(nodeop_app::app::AppError::Genesis(problems)) => {
                for p in &problems {
                    tracing::error!(problem = %p, "genesis problem");
                }
                halt(&format!(
                    "InitChain refused the genesis of chain {:?} ({} problem(s)):\n  - {}\n\
                     `nodeopd genesis validate` lists them too; fix genesis.json, reset CometBFT's \
                     data and start again",
                    req.chain_id,
                    problems.len(),
                    problems.join("\n  - ")
                ))
            }
            Err(e) => halt(&format!(
                "InitChain failed: {e}. If CometBFT's data was reset while the app's store was \
                 kept, reset both (or neither)"
            )),
        }
    }

    fn check_tx(&self, req: pb::RequestCheckTx) -> pb::ResponseCheckTx {
        let kind = match pb::CheckTxType::try_from(req.r#type) {
            Ok(pb::CheckTxType::Recheck) => CheckKind::Recheck,
            _ => CheckKind::New,
        };
        // A new tx's signature is verified here, on this connection's thread, before the lock
        // that serialises the app: CheckTx's costliest step runs while FinalizeBlock holds it.
        // (A recheck finds the signature in the app's cache.)
        let preverified = match kind {
            CheckKind::New => nodeop_app::tx::preverify(&req.tx, &self.verifier),
            CheckKind::Recheck => None,
        };
        let o = self.with(|n| n.app.check_tx_preverified(&req.tx, kind, preverified));
        // CometBFT neither indexes nor returns CheckTx events: only code, codespace and log
        // go back
        pb::ResponseCheckTx {
            code: o.code,
            codespace: o.codespace,
            log: o.log,
            ..Default::default()
        }
    }

    fn prepare_proposal(&self, req: pb::RequestPrepareProposal) -> pb::ResponsePrepareProposal {
        let max_tx_bytes = u64::try_from(req.max_tx_bytes).unwrap_or(0);
        let txs: Vec<Vec<u8>> = req.txs.into_iter().map(|t| t.to_vec()).collect();
        let chosen = self.with(|n| n.app.prepare_proposal(txs, max_tx_bytes));
        pb::ResponsePrepareProposal {
            txs: chosen.into_iter().map(Bytes::from).collect(),
        }
    }

    fn process_proposal(&self, req: pb::RequestProcessProposal) -> pb::ResponseProcessProposal {
        let txs: Vec<Vec<u8>> = req.txs.into_iter().map(|t| t.to_vec()).collect();
        let accept = self.with(|n| n.app.process_proposal(&txs));
        if !accept {
            tracing::warn!(
                height = req.height,
                txs = txs.len(),
                "ProcessProposal: rejected"
            );
        }
        let status = if accept {
            pb::response_process_proposal::ProposalStatus::Accept
        } else {
            pb::response_process_proposal::ProposalStatus::Reject
        };
        pb::ResponseProcessProposal {
            status: status as i32,
        }
    }

    fn finalize_block(&self, req: pb::RequestFinalizeBlock) -> pb::ResponseFinalizeBlock {
        let started = Instant::now();
        let block = block_request(req);
        self.with(|n| {
            let resp = n.app.finalize_block(&block).unwrap_or_else(|e| {
                halt(&format!(
                    "FinalizeBlock at height {} failed: {e}",
                    block.height
                ))
            });
            n.block = Some(BlockStats {
                height: block.height,
                txs: resp.tx_results.len(),
                failed: resp.tx_results.iter().filter(|r| !r.is_ok()).count(),
                started,
                exec_ms: started.elapsed().as_millis(),
            });
            pb::ResponseFinalizeBlock {
                events: events(resp.events, &self.index),
                tx_results: resp
                    .tx_results
                    .into_iter()
                    .map(|o| exec_result(o, &self.index))
                    .collect(),
                validator_updates: validator_updates(resp.validator_updates),
                consensus_param_updates: None,
                app_hash: Bytes::copy_from_slice(&resp.app_hash),
            }
        })
    }

    fn commit(&self) -> pb::ResponseCommit {
        self.with(|n| {
            let resp = n
                .app
                .commit()
                .unwrap_or_else(|e| halt(&format!("Commit failed: {e}")));
            let stats = n.block.take();
            let (txs, failed, exec_ms, ms) = match &stats {
                Some(s) if s.height == resp.height => {
                    (s.txs, s.failed, s.exec_ms, s.started.elapsed().as_millis())
                }
                _ => (0, 0, 0, 0),
            };
            let millis = |v: u128| u64::try_from(v).unwrap_or(u64::MAX);
            tracing::info!(
                height = resp.height,
                txs,
                failed,
                app_hash = %hex::encode_upper(resp.app_hash),
                exec_ms = millis(exec_ms),
                ms = millis(ms),
                "committed block"
            );
            if self.snapshots.due(resp.height) {
                match n.app.storage().state_view() {
                    Ok(view) => self.snapshots.take_in_background(view),
                    Err(e) => tracing::error!(height = resp.height, "snapshot skipped: {e}"),
                }
            }
            pb::ResponseCommit {
                retain_height: i64::try_from(resp.retain_height).unwrap_or(0),
            }
        })
    }

    fn list_snapshots(&self) -> pb::ResponseListSnapshots {
        pb::ResponseListSnapshots {
            snapshots: self
                .snapshots
                .list()
                .into_iter()
                .map(|s| pb::Snapshot {
                    height: s.height,
                    format: s.format,
                    chunks: s.chunks,
                    hash: Bytes::copy_from_slice(&s.hash),
                    metadata: Bytes::from(s.metadata),
                })
                .collect(),
        }
    }

    fn load_snapshot_chunk(
        &self,
        req: pb::RequestLoadSnapshotChunk,
    ) -> pb::ResponseLoadSnapshotChunk {
        let chunk = self
            .snapshots
            .chunk(req.height, req.format, req.chunk)
            .unwrap_or_else(|| {
                tracing::warn!(
                    height = req.height,
                    format = req.format,
                    chunk = req.chunk,
                    "a peer asked for a snapshot chunk this node does not have"
                );
                Vec::new()
            });
        pb::ResponseLoadSnapshotChunk {
            chunk: Bytes::from(chunk),
        }
    }

    fn offer_snapshot(&self, req: pb::RequestOfferSnapshot) -> pb::ResponseOfferSnapshot {
        use pb::response_offer_snapshot::Result as R;
        let answer = |r: R| pb::ResponseOfferSnapshot { result: r as i32 };
        let Some(s) = req.snapshot else {
            return answer(R::Reject);
        };
        if let Some(h) = self.with(|n| n.app.storage().committed().map(|c| c.height)) {
            tracing::error!(
                store_height = h,
                "state sync needs an empty store, but this one holds height {h}: stop the \
                 node, delete HOME/app/data and CometBFT's data, and start again"
            );
            return answer(R::Abort);
        }
        let info = SnapshotInfo {
            height: s.height,
            format: s.format,
            chunks: s.chunks,
            hash: s.hash.as_ref().try_into().unwrap_or([0; 32]),
            metadata: s.metadata.to_vec(),
        };
        let mut restore = self.restore.lock().unwrap_or_else(|p| p.into_inner());
        match Restore::offer(&info, &req.app_hash) {
            Ok(r) => {
                tracing::info!(
                    height = s.height,
                    chunks = s.chunks,
                    entries = r.manifest.entries,
                    app_hash = %hex::encode_upper(&req.app_hash),
                    "state sync: snapshot accepted, fetching its chunks"
                );
                *restore = Some(Restoring {
                    restore: r,
                    senders: Default::default(),
                });
                answer(R::Accept)
            }
            Err(e @ nodeop_app::state::snapshot::OfferError::Format(_)) => {
                tracing::info!(height = s.height, "state sync: snapshot refused: {e}");
                answer(R::RejectFormat)
            }
            Err(e) => {
                tracing::warn!(height = s.height, "state sync: snapshot refused: {e}");
                answer(R::Reject)
            }
        }
    }

    fn apply_snapshot_chunk(
        &self,
        req: pb::RequestApplySnapshotChunk,
    ) -> pb::ResponseApplySnapshotChunk {
        use pb::response_apply_snapshot_chunk::Result as R;
        let answer =
            |r: R, refetch: Vec<u32>, reject: Vec<String>| pb::ResponseApplySnapshotChunk {
                result: r as i32,
                refetch_chunks: refetch,
                reject_senders: reject,
            };
        let mut guard = self.restore.lock().unwrap_or_else(|p| p.into_inner());
        let Some(restoring) = guard.as_mut() else {
            tracing::error!("state sync: a chunk arrived with no snapshot accepted");
            return answer(R::Abort, Vec::new(), Vec::new());
        };
        let sender = req.sender.clone();
        match restoring.restore.apply(req.index, &req.chunk) {
            Ok(()) => {
                if !sender.is_empty() {
                    restoring.senders.insert(sender);
                }
            }
            Err(e @ ChunkError::Corrupt { .. }) => {
                tracing::warn!(
                    index = req.index,
                    sender = %req.sender,
                    "state sync: chunk refused, fetching it from another peer: {e}"
                );
                let reject = if sender.is_empty() {
                    Vec::new()
                } else {
                    vec![sender]
                };
                return answer(R::Retry, vec![req.index], reject);
            }
            Err(e @ ChunkError::OutOfOrder { .. }) => {
                tracing::warn!(index = req.index, "state sync: {e}");
                return answer(R::Retry, vec![req.index], Vec::new());
            }
            Err(e @ ChunkError::BadSnapshot(_)) => {
                tracing::warn!(sender = %req.sender, "state sync: snapshot rejected: {e}");
                let senders = guard.take().map(|r| r.senders).unwrap_or_default();
                return answer(R::RejectSnapshot, Vec::new(), senders.into_iter().collect());
            }
        }
        if !restoring.restore.is_complete() {
            return answer(R::Accept, Vec::new(), Vec::new());
        }
        let Some(Restoring { restore, senders }) = guard.take() else {
            return answer(R::Abort, Vec::new(), Vec::new());
        };
        let height = restore.height;
        match self.with(|n| n.app.restore_snapshot(restore)) {
            Ok(c) => {
                tracing::info!(
                    height,
                    app_hash = %hex::encode_upper(c.app_hash),
                    "state sync: state restored; its root is the verified app hash"
                );
                answer(R::Accept, Vec::new(), Vec::new())
            }
            Err(e @ RestoreError::RootMismatch { .. }) => {
                tracing::warn!(height, "state sync: snapshot rejected: {e}");
                answer(R::RejectSnapshot, Vec::new(), senders.into_iter().collect())
            }
            Err(e) => {
                tracing::error!(height, "state sync: the restore failed: {e}");
                answer(R::Abort, Vec::new(), Vec::new())
            }
        }
    }

    fn query(&self, req: pb::RequestQuery) -> pb::ResponseQuery {
        let Ok(height) = u64::try_from(req.height) else {
            return query_error(QueryError::BadArgument(format!(
                "height {} is negative (0 means the latest)",
                req.height
            )));
        };
        let request = QueryRequest {
            path: req.path,
            data: req.data.to_vec(),
            height,
            prove: req.prove,
        };
        let r = self.with(|n| n.app.query(&request));
        let proof_ops = (!r.proof_ops.is_empty()).then(|| pb_crypto::ProofOps {
            ops: r
                .proof_ops
                .into_iter()
                .map(|op| pb_crypto::ProofOp {
                    r#type: op.kind,
                    key: op.key,
                    data: op.data,
                })
                .collect(),
        });
        pb::ResponseQuery {
            code: r.code,
            codespace: r.codespace,
            log: r.log,
            info: r.info,
            index: 0,
            key: Bytes::from(r.key),
            value: Bytes::from(r.value),
            proof_ops,
            height: i64::try_from(r.height).unwrap_or(i64::MAX),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k256::ecdsa::signature::hazmat::PrehashSigner;
    use k256::ecdsa::{Signature, SigningKey};
    use nodeop_app::crypto::Address;
    use nodeop_app::modules::bank::MsgSend;
    use nodeop_app::tx::{Msg, Tx, TxBody};
    use nodeop_app::AppOptions;
    use nodeop_genesis::GenesisDoc;

    const CHAIN: &str = "nodeop-abci-test";

    /// The genesis operator's consensus key.
    fn consensus_key() -> [u8; 32] {
        ed25519_consensus::SigningKey::from([8; 32])
            .verification_key()
            .to_bytes()
    }

    fn key() -> (SigningKey, [u8; 33], Address) {
        let sk = SigningKey::from_slice(&[0x42; 32]).unwrap();
        let pk: [u8; 33] = sk
            .verifying_key()
            .to_encoded_point(true)
            .as_bytes()
            .try_into()
            .unwrap();
        (sk, pk, Address::from_pubkey(&pk))
    }

    fn transfer(nonce: u64, to: Address) -> Vec<u8> {
        let (sk, pk, _) = key();
        let body = TxBody {
            chain_id: CHAIN.into(),
            nonce,
            fee: 100_000,
            memo: String::new(),
            msgs: vec![Msg::Send(MsgSend {
                to: to.to_bech32(),
                amount: 5,
            })],
        };
        let sig: Signature = sk.sign_prehash(&body.sign_bytes()).unwrap();
        let sig = sig.normalize_s().unwrap_or(sig);
        Tx {
            body,
            pubkey: pk,
            signature: sig.to_bytes().into(),
        }
        .to_bytes()
    }

    fn started() -> (AbciApp, pb::ResponseInitChain) {
        let mut doc = GenesisDoc::new(
            CHAIN,
            "2026-01-01T00:00:00Z",
            &nodeop_app::genesis::AppState::default(),
        )
        .unwrap();
        doc.add_operator(
            Address([7; 20]),
            consensus_key(),
            "v0",
            10_000 * nodeop_app::modules::bank::UNOP_PER_NOP,
            100_000,
            100,
            "eu",
        )
        .unwrap();
        doc.add_account(key().2, 10_000_000).unwrap();
        let app = App::in_memory(AppOptions {
            check_invariants: true,
            ..Default::default()
        })
        .unwrap();
        let abci = AbciApp::new(app);
        let resp = abci.init_chain(pb::RequestInitChain {
            time: Some(Timestamp {
                seconds: 1_767_225_600,
                nanos: 0,
            }),
            chain_id: CHAIN.into(),
            consensus_params: None,
            validators: Vec::new(),
            app_state_bytes: Bytes::from(serde_json::to_vec(&doc.app_state).unwrap()),
            initial_height: 1,
        });
        (abci, resp)
    }

    fn block(height: i64, txs: Vec<Vec<u8>>) -> pb::RequestFinalizeBlock {
        pb::RequestFinalizeBlock {
            txs: txs.into_iter().map(Bytes::from).collect(),
            decided_last_commit: Some(pb::CommitInfo {
                round: 0,
                votes: vec![pb::VoteInfo {
                    validator: Some(pb::Validator {
                        address: Bytes::from(vec![1u8; 20]),
                        power: 10,
                    }),
                    block_id_flag: BlockIdFlag::Commit as i32,
                }],
            }),
            misbehavior: Vec::new(),
            hash: Bytes::from(vec![0u8; 32]),
            height,
            time: Some(Timestamp {
                seconds: 1_767_225_600 + height,
                nanos: 5,
            }),
            next_validators_hash: Bytes::new(),
            proposer_address: Bytes::from(vec![1u8; 20]),
        }
    }

    #[test]
    fn init_chain_returns_ed25519_validators_and_the_app_hash() {
        let (abci, resp) = started();
        assert_eq!(resp.app_hash.len(), 32);
        assert_eq!(resp.validators.len(), 1);
        // power = self-bond / power_reduction (1 NOP)
        assert_eq!(resp.validators[0].power, 10_000);
        assert_eq!(
            resp.validators[0].pub_key,
            Some(pb_crypto::PublicKey {
                sum: Some(pb_crypto::public_key::Sum::Ed25519(
                    consensus_key().to_vec()
                ))
            })
        );
        let info = abci.info(pb::RequestInfo::default());
        assert_eq!(
            info.last_block_height, 0,
            "CometBFT still sees a chain to start"
        );
        assert_eq!(info.app_version, APP_VERSION);
    }

    #[test]
    fn the_event_index_changes_only_which_attributes_are_flagged_for_the_indexer() {
        let to = Address([9; 20]);
        let every = started().0;
        let chosen = started().0.with_event_index(EventIndex::default());
        let a = every.finalize_block(block(1, vec![transfer(0, to)]));
        let c = chosen.finalize_block(block(1, vec![transfer(0, to)]));
        assert_eq!(a.app_hash, c.app_hash);
        let flat = |r: &pb::ResponseFinalizeBlock| -> Vec<(String, String, String, bool)> {
            r.events
                .iter()
                .chain(r.tx_results.iter().flat_map(|t| t.events.iter()))
                .flat_map(|e| {
                    e.attributes
                        .iter()
                        .map(|x| (e.r#type.clone(), x.key.clone(), x.value.clone(), x.index))
                })
                .collect()
        };
        let (fa, fc) = (flat(&a), flat(&c));
        assert_eq!(fa.len(), fc.len());
        for (x, y) in fa.iter().zip(&fc) {
            assert_eq!(
                (&x.0, &x.1, &x.2),
                (&y.0, &y.1, &y.2),
                "same events, same values"
            );
            assert!(x.3, "{}.{}: every attribute flagged by default", x.0, x.1);
            assert_eq!(
                y.3,
                EventIndex::default().indexes(&y.0, &y.1),
                "{}.{}",
                y.0,
                y.1
            );
        }
        let flag =
            |kind: &str, key: &str| fc.iter().find(|x| x.0 == kind && x.1 == key).map(|x| x.3);
        assert_eq!(flag("transfer", "recipient"), Some(true));
        assert_eq!(flag("tx", "signer"), Some(true));
        assert_eq!(flag("transfer", "amount"), Some(false));
        assert_eq!(flag("tx", "tx_hash"), Some(false));
    }

    #[test]
    fn a_block_with_a_transfer_finalizes_commits_and_is_queryable_with_a_proof() {
        let (abci, _) = started();
        let to = Address([9; 20]);
        let check = abci.check_tx(pb::RequestCheckTx {
            tx: Bytes::from(transfer(0, to)),
            r#type: 0,
        });
        assert_eq!(check.code, 0, "{}", check.log);

        let prepared = abci.prepare_proposal(pb::RequestPrepareProposal {
            max_tx_bytes: 1_000_000,
            txs: vec![Bytes::from(transfer(0, to))],
            ..Default::default()
        });
        assert_eq!(prepared.txs.len(), 1);
        let accepted = abci.process_proposal(pb::RequestProcessProposal {
            txs: prepared.txs.clone(),
            ..Default::default()
        });
        assert_eq!(
            accepted.status,
            pb::response_process_proposal::ProposalStatus::Accept as i32
        );

        let fin = abci.finalize_block(block(1, vec![transfer(0, to), b"junk".to_vec()]));
        assert_eq!(fin.tx_results.len(), 2);
        assert_eq!(fin.tx_results[0].code, 0, "{}", fin.tx_results[0].log);
        assert!(fin.tx_results[0].events.iter().any(|e| e.r#type == "tx"));
        assert_ne!(fin.tx_results[1].code, 0);
        assert_eq!(fin.tx_results[1].codespace, "tx");
        abci.commit();
        let info = abci.info(pb::RequestInfo::default());
        assert_eq!(info.last_block_height, 1);
        assert_eq!(info.last_block_app_hash, fin.app_hash);

        let q = abci.query(pb::RequestQuery {
            path: format!("/account/{}", to.to_bech32()),
            data: Bytes::new(),
            height: 0,
            prove: true,
        });
        assert_eq!(q.code, 0, "{}", q.log);
        assert_eq!(q.height, 1);
        let ops = q.proof_ops.expect("a proof").ops;
        assert_eq!(ops.len(), 1);
        assert_eq!(ops[0].r#type, "ics23:jmt");
        assert!(q.info.contains("\"balance\":\"5\""), "{}", q.info);
    }

    #[test]
    fn user_input_gets_error_codes_never_a_halt() {
        let (abci, _) = started();
        for tx in [&b""[..], b"\x00", &[0xff; 300]] {
            for kind in [0, 1, 7] {
                let r = abci.check_tx(pb::RequestCheckTx {
                    tx: Bytes::copy_from_slice(tx),
                    r#type: kind,
                });
                assert_ne!(r.code, 0);
            }
        }
        let rejected = abci.process_proposal(pb::RequestProcessProposal {
            txs: vec![Bytes::from_static(b"junk")],
            ..Default::default()
        });
        assert_eq!(
            rejected.status,
            pb::response_process_proposal::ProposalStatus::Reject as i32
        );
        let none = abci.prepare_proposal(pb::RequestPrepareProposal {
            max_tx_bytes: -5,
            txs: vec![Bytes::from(transfer(0, Address([1; 20])))],
            ..Default::default()
        });
        assert!(none.txs.is_empty());
        for (path, data, height, prove) in [
            ("/supply", &b""[..], -1i64, false),
            ("/supply", b"", i64::MAX, true),
            ("/nope", b"", 0, false),
            ("", b"", 0, true),
            ("/account/xyz", b"", 0, true),
            ("/store", b"", 0, true),
            ("/store", &[0xff; 64], 0, true),
            ("/validators", b"", 0, true),
        ] {
            let q = abci.query(pb::RequestQuery {
                path: path.into(),
                data: Bytes::copy_from_slice(data),
                height,
                prove,
            });
            if path == "/store" && !data.is_empty() {
                continue; // an absent key is an answer (with a non-existence proof)
            }
            assert_ne!(q.code, 0, "{path} {height}");
            assert_eq!(q.codespace, "query");
        }
    }

    /// A node that snapshots every 3 heights into `dir`, after `blocks` blocks of transfers.
    fn snapshotting(dir: &std::path::Path, blocks: i64, chunk_bytes: usize) -> AbciApp {
        let (plain, _) = started();
        let app = plain.node.lock().unwrap().take().map(|n| n.app).unwrap();
        let settings = crate::snapshots::SnapshotSettings {
            interval: 3,
            keep_recent: 2,
            chunk_bytes,
        };
        let abci = AbciApp::with_snapshots(
            app,
            crate::snapshots::Snapshots::new(dir.to_path_buf(), settings),
        );
        for h in 1..=blocks {
            let to = Address([h as u8; 20]);
            abci.finalize_block(block(h, vec![transfer(h as u64 - 1, to)]));
            abci.commit();
            abci.snapshots().wait_idle();
        }
        abci
    }

    fn offer(joining: &AbciApp, s: &pb::Snapshot, app_hash: &Bytes) -> i32 {
        joining
            .offer_snapshot(pb::RequestOfferSnapshot {
                snapshot: Some(s.clone()),
                app_hash: app_hash.clone(),
            })
            .result
    }

    fn apply(
        joining: &AbciApp,
        index: u32,
        chunk: Vec<u8>,
        sender: &str,
    ) -> pb::ResponseApplySnapshotChunk {
        joining.apply_snapshot_chunk(pb::RequestApplySnapshotChunk {
            index,
            chunk: Bytes::from(chunk),
            sender: sender.into(),
        })
    }

    fn empty_app() -> AbciApp {
        AbciApp::new(App::in_memory(AppOptions::default()).unwrap())
    }

    #[test]
    fn a_node_restores_a_served_snapshot_and_refuses_a_corrupt_chunk_from_its_sender() {
        use pb::response_apply_snapshot_chunk::Result as A;
        use pb::response_offer_snapshot::Result as O;
        let dir = tempfile::tempdir().unwrap();
        let serving = snapshotting(dir.path(), 10, 1024);
        let list = serving.list_snapshots().snapshots;
        // heights 9 and 6 kept (3 pruned)
        assert_eq!(
            list.iter().map(|s| s.height).collect::<Vec<_>>(),
            vec![9, 6]
        );
        let s = &list[0];
        assert!(s.chunks >= 2, "{}", s.chunks);
        let info = serving.info(pb::RequestInfo::default());
        assert_eq!(info.last_block_height, 10);
        let hash9 =
            Bytes::copy_from_slice(&serving.with(|n| n.app.storage().root_at(9).unwrap().unwrap()));
        let chunk = |i: u32| {
            serving
                .load_snapshot_chunk(pb::RequestLoadSnapshotChunk {
                    height: 9,
                    format: s.format,
                    chunk: i,
                })
                .chunk
                .to_vec()
        };

        let joining = empty_app();
        // an app hash the light client did not verify is refused at once
        assert_eq!(
            offer(&joining, s, &Bytes::from(vec![1u8; 32])),
            O::Reject as i32
        );
        assert_eq!(offer(&joining, s, &hash9), O::Accept as i32);
        let mut bad = chunk(0);
        bad[3] ^= 0x10;
        let r = apply(&joining, 0, bad, "liar");
        assert_eq!(r.result, A::Retry as i32);
        assert_eq!(
            (r.refetch_chunks, r.reject_senders),
            (vec![0], vec!["liar".to_string()])
        );
        for i in 0..s.chunks {
            let r = apply(&joining, i, chunk(i), "honest");
            assert_eq!(r.result, A::Accept as i32, "chunk {i}");
        }
        let joined = joining.info(pb::RequestInfo::default());
        assert_eq!(joined.last_block_height, 9);
        assert_eq!(joined.last_block_app_hash, hash9);
        // it follows the chain from there: block 10 gives the serving node's app hash
        let fin = joining.finalize_block(block(10, vec![transfer(9, Address([10; 20]))]));
        assert_eq!(fin.tx_results[0].code, 0, "{}", fin.tx_results[0].log);
        joining.commit();
        assert_eq!(
            joining.info(pb::RequestInfo::default()).last_block_app_hash,
            info.last_block_app_hash
        );
        // a store that holds a state refuses another snapshot
        assert_eq!(offer(&joining, s, &hash9), O::Abort as i32);
    }

    #[test]
    fn a_snapshot_whose_chunks_do_not_rebuild_the_verified_app_hash_is_rejected_and_nothing_written(
    ) {
        use nodeop_app::state::snapshot::Manifest;
        use pb::response_apply_snapshot_chunk::Result as A;
        use pb::response_offer_snapshot::Result as O;
        use sha2::Digest;
        let dir = tempfile::tempdir().unwrap();
        let serving = snapshotting(dir.path(), 7, 1 << 20);
        let s = serving.list_snapshots().snapshots[0].clone();
        assert_eq!((s.height, s.chunks), (6, 1));
        let hash6 = serving.with(|n| n.app.storage().root_at(6).unwrap().unwrap());
        // a liar serves the state of height 6 with one entry dropped, under a manifest it made
        // consistent with its chunk and the verified app hash
        let chunk = serving
            .load_snapshot_chunk(pb::RequestLoadSnapshotChunk {
                height: 6,
                format: 1,
                chunk: 0,
            })
            .chunk
            .to_vec();
        let mut pairs: Vec<(Vec<u8>, Vec<u8>)> = borsh::from_slice(&chunk).unwrap();
        pairs.pop();
        let forged = borsh::to_vec(&pairs).unwrap();
        let mut manifest = Manifest::from_bytes(&s.metadata).unwrap();
        manifest.entries -= 1;
        manifest.chunk_hashes = vec![sha2::Sha256::digest(&forged).into()];
        assert_eq!(manifest.app_hash, hash6);
        let info = SnapshotInfo::new(6, &manifest);
        let lying = pb::Snapshot {
            height: 6,
            format: 1,
            chunks: 1,
            hash: Bytes::copy_from_slice(&info.hash),
            metadata: Bytes::from(info.metadata),
        };
        let joining = empty_app();
        assert_eq!(
            offer(&joining, &lying, &Bytes::copy_from_slice(&hash6)),
            O::Accept as i32
        );
        let r = apply(&joining, 0, forged, "liar");
        assert_eq!(r.result, A::RejectSnapshot as i32);
        assert_eq!(r.reject_senders, vec!["liar".to_string()]);
        assert_eq!(
            joining.info(pb::RequestInfo::default()).last_block_height,
            0
        );
        assert!(joining.with(|n| n.app.storage().committed().is_none()));
        // the honest snapshot still restores afterwards
        assert_eq!(
            offer(&joining, &s, &Bytes::copy_from_slice(&hash6)),
            O::Accept as i32
        );
        assert_eq!(apply(&joining, 0, chunk, "honest").result, A::Accept as i32);
        assert_eq!(
            joining.info(pb::RequestInfo::default()).last_block_height,
            6
        );
    }

    #[test]
    fn votes_and_misbehavior_translate() {
        let mut req = block(3, Vec::new());
        req.decided_last_commit
            .as_mut()
            .unwrap()
            .votes
            .push(pb::VoteInfo {
                validator: Some(pb::Validator {
                    address: Bytes::from(vec![2u8; 20]),
                    power: 4,
                }),
                block_id_flag: BlockIdFlag::Absent as i32,
            });
        req.misbehavior.push(pb::Misbehavior {
            r#type: pb::MisbehaviorType::DuplicateVote as i32,
            validator: Some(pb::Validator {
                address: Bytes::from(vec![2u8; 20]),
                power: 4,
            }),
            height: 2,
            time: Some(Timestamp {
                seconds: 10,
                nanos: 0,
            }),
            total_voting_power: 14,
        });
        let b = block_request(req);
        assert_eq!(b.height, 3);
        assert_eq!(
            b.time,
            BlockTime {
                seconds: 1_767_225_603,
                nanos: 5
            }
        );
        assert_eq!(b.decided_last_commit.len(), 2);
        assert!(b.decided_last_commit[0].signed);
        assert!(!b.decided_last_commit[1].signed);
        assert_eq!(b.decided_last_commit[1].power, 4);
        assert_eq!(b.misbehavior[0].kind, MisbehaviorKind::DuplicateVote);
        assert_eq!(b.misbehavior[0].validator_address, vec![2u8; 20]);
        assert_eq!(b.misbehavior[0].power, 4);
    }
}
