//! The App: the block lifecycle over the committed store.
//!
//! ```text
//! InitChain        genesis content → state at height initial_height − 1 (committed at once)
//! CheckTx          mempool limits (new txs only), stateless checks, then check_and_execute on
//!                  the mempool overlay
//! PrepareProposal  replays the proposer's txs on a scratch overlay, drops those that fail
//!                  before paying a fee, stops at max_tx_bytes
//! ProcessProposal  refuses a block only for what no honest proposer could build
//! FinalizeBlock    begin hooks → txs (each on its own overlay) → end hooks → invariants
//!                  → new root (app hash), kept in memory
//! Commit           writes the block in one storage transaction; resets the mempool overlay
//! ```
//!
//! The App has no I/O of its own beyond the store it is given, no clock and no randomness: every
//! input arrives as an argument, so it can be driven in-process block by block (tests, the
//! benchmark, simulations) exactly as CometBFT drives it.

use std::collections::{BTreeSet, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, OnceLock};

use crate::block::BeginBlock;
pub use crate::block::{
    BlockCtx, BlockRequest, BlockResponse, BlockTime, CheckKind, CommitResponse, Info,
    InitChainRequest, InitChainResponse, Misbehavior, MisbehaviorKind, TxOutcome, ValidatorUpdate,
    VoteInfo,
};
use crate::crypto::{Address, Verifier};
use crate::error::TxError;
use crate::events::Event;
use crate::genesis::{keys as chain_keys, AppState};
use crate::hooks::Hooks;
use crate::modules::{bank, coprocessors, issuance, reputation, slashing, staking, tasks, MODULES};
use crate::params::TxParams;
use crate::state::store::Prepared;
use crate::state::{Changes, Overlay, StateRead, StateReadExt, StateWrite, Storage, StoreError};
use crate::tx::{check_stateless, CheckedTx, Msg, SignatureMemo};

#[derive(Clone, Debug)]
pub struct AppOptions {
    /// Check every invariant after every block (on in debug and test builds).
    pub check_invariants: bool,
    /// How many verified tx signatures to remember between CheckTx and FinalizeBlock.
    pub sig_cache_capacity: usize,
    /// How much CheckTx lets into the mempool (app.toml `[mempool]`).
    pub mempool: MempoolLimits,
    /// Threads that decode and verify a block's txs while it executes them (the machine's
    /// cores by default; the executing thread is one of them). Only how fast a block runs
    /// depends on it, never what it does: the checks are pure functions of each tx's bytes, and
    /// the txs are executed one after the other in block order, each once it is verified.
    pub verify_threads: usize,
    /// Threads that compute a large block's new tree (its subtrees' changes and hashes) and
    /// encode its nodes (the machine's cores by default);
    /// as with `verify_threads`, only the speed depends on it.
    pub hash_threads: usize,
}

impl Default for AppOptions {
    fn default() -> Self {
        Self {
            check_invariants: cfg!(debug_assertions),
            sig_cache_capacity: 200_000,
            mempool: MempoolLimits::default(),
            verify_threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            hash_threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }
}

/// Below this many txs a block is checked on the calling thread (a thread costs more than a
/// few signatures).
const PARALLEL_CHECK_MIN_TXS: usize = 32;

/// How many txs a verifying thread claims at a time: enough that claiming costs nothing next to
/// verifying, few enough that the executing thread rarely waits for a claimed tx.
const VERIFY_CLAIM: usize = 16;

/// The most txs and tx bytes CheckTx accepts into the mempool: a new tx beyond either is refused
/// with `mempool_full` (code 16), so the wallet hears "retry later" instead of "accepted".
///
/// Why: CometBFT v0.38 checks again whether its mempool is full *after* CheckTx accepted a tx
/// and then drops the tx without telling anyone, while the sender was already told "accepted"
/// and this CheckTx had already counted the tx's nonce and balance as pending. Kept below
/// CometBFT's own `[mempool] size` and `max_txs_bytes`, these limits refuse first, so CometBFT's
/// late check never fires.
///
/// The count is of what CheckTx accepted since the last Commit, rechecks included: at Commit it
/// restarts from zero and CometBFT's recheck of every tx left in its mempool rebuilds it before
/// any new tx is checked. It affects CheckTx answers only, never a block's execution or its app
/// hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MempoolLimits {
    /// The most txs held at once.
    pub max_txs: u64,
    /// The most tx bytes held at once (the sum of the txs' lengths, as CometBFT counts them).
    pub max_txs_bytes: u64,
}

impl MempoolLimits {
    /// CometBFT's `[mempool] size` default.
    pub const COMETBFT_DEFAULT_SIZE: u64 = 5_000;
    /// CometBFT's `[mempool] max_txs_bytes` default (1 GiB).
    pub const COMETBFT_DEFAULT_MAX_TXS_BYTES: u64 = 1 << 30;

    /// Limits strictly below CometBFT's `[mempool] size` and `max_txs_bytes` (5 % below, at
    /// least one tx and one kilobyte), leaving room for txs CometBFT holds without this count
    /// knowing (a recheck cut short by `recheck_timeout` leaves txs in the mempool that were not
    /// counted again).
    pub fn below_cometbft(size: u64, max_txs_bytes: u64) -> Self {
        Self {
            max_txs: size.saturating_sub((size / 20).max(1)),
            max_txs_bytes: max_txs_bytes.saturating_sub((max_txs_bytes / 20).max(1024)),
        }
    }
}

impl Default for MempoolLimits {
    fn default() -> Self {
        Self::below_cometbft(
            Self::COMETBFT_DEFAULT_SIZE,
            Self::COMETBFT_DEFAULT_MAX_TXS_BYTES,
        )
    }
}

/// What CheckTx accepted since the last Commit (see [`MempoolLimits`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MempoolCount {
    pub txs: u64,
    pub bytes: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("genesis is invalid:\n  - {}", .0.join("\n  - "))]
    Genesis(Vec<String>),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Lifecycle(String),
}

/// Hashes of txs whose signature already verified, so that a tx checked in CheckTx (or
/// ProcessProposal) is not verified again in FinalizeBlock. Verification is a pure function of
/// the tx bytes, so remembering its result cannot change any outcome; a node that never saw the
/// tx (block sync, replay) simply verifies it. Bounded, oldest first out.
#[derive(Default)]
pub struct SigCache {
    capacity: usize,
    set: BTreeSet<[u8; 32]>,
    order: VecDeque<[u8; 32]>,
}

impl SigCache {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            ..Default::default()
        }
    }

    pub fn insert(&mut self, hash: [u8; 32]) {
        if self.capacity == 0 || !self.set.insert(hash) {
            return;
        }
        self.order.push_back(hash);
        while self.order.len() > self.capacity {
            if let Some(old) = self.order.pop_front() {
                self.set.remove(&old);
            }
        }
    }

    pub fn len(&self) -> usize {
        self.set.len()
    }

    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }
}

impl SignatureMemo for SigCache {
    fn verified(&self, tx_hash: &[u8; 32]) -> bool {
        self.set.contains(tx_hash)
    }
}

/// The signature cache plus one hash verified outside the app's lock.
struct Preverified<'a> {
    cache: &'a SigCache,
    hash: Option<[u8; 32]>,
}

impl SignatureMemo for Preverified<'_> {
    fn verified(&self, tx_hash: &[u8; 32]) -> bool {
        self.hash.as_ref() == Some(tx_hash) || self.cache.verified(tx_hash)
    }
}

/// What every tx check needs from state, loaded once per committed height.
#[derive(Clone, Debug)]
struct ChainContext {
    chain_id: String,
    params: TxParams,
    fee_pool: Address,
}

struct BlockInProgress {
    height: u64,
    prepared: Prepared,
}

pub struct App {
    storage: Storage,
    options: AppOptions,
    verifier: Verifier,
    sig_cache: SigCache,
    context: Option<ChainContext>,
    /// The mempool's view: committed state plus every tx CheckTx accepted since the last Commit.
    check_changes: Changes,
    /// How many txs (and bytes) CheckTx accepted since the last Commit.
    mempool: MempoolCount,
    block: Option<BlockInProgress>,
    /// Height and time of the last committed block: the context CheckTx runs messages in.
    last_block: BlockCtx,
}

impl App {
    pub fn new(mut storage: Storage, options: AppOptions) -> Self {
        storage.set_hash_threads(options.hash_threads);
        let sig_cache = SigCache::new(options.sig_cache_capacity);
        let mut app = Self {
            storage,
            options,
            verifier: Verifier::default(),
            sig_cache,
            context: None,
            check_changes: Changes::new(),
            mempool: MempoolCount::default(),
            block: None,
            last_block: BlockCtx::GENESIS,
        };
        app.context = load_context(&app.storage);
        app.last_block = last_block(&app.storage);
        app
    }

    /// An App over an in-memory store.
    pub fn in_memory(options: AppOptions) -> Result<Self, AppError> {
        Ok(Self::new(Storage::in_memory()?, options))
    }

    pub fn storage(&self) -> &Storage {
        &self.storage
    }

    /// Gives the store back (to reopen it under another App, or to close it).
    pub fn storage_into(self) -> Storage {
        self.storage
    }

    pub fn chain_id(&self) -> Option<&str> {
        self.context.as_ref().map(|c| c.chain_id.as_str())
    }

    pub fn tx_params(&self) -> Option<&TxParams> {
        self.context.as_ref().map(|c| &c.params)
    }

    /// The context CheckTx and PrepareProposal run messages in: the next height, at the last
    /// block's time (the next block's time is not known yet).
    fn next_block_ctx(&self) -> BlockCtx {
        BlockCtx {
            height: self.last_block.height + 1,
            time: self.last_block.time,
            prev_app_hash: self.last_block.prev_app_hash,
        }
    }

    /// How many txs and bytes CheckTx accepted since the last Commit (rechecks included).
    pub fn mempool_count(&self) -> MempoolCount {
        self.mempool
    }

    pub fn mempool_limits(&self) -> MempoolLimits {
        self.options.mempool
    }

    /// Sets `verify_threads` (benchmarks compare settings on one store).
    pub fn set_verify_threads(&mut self, threads: usize) {
        self.options.verify_threads = threads.max(1);
    }

    /// Sets `hash_threads` (benchmarks compare settings on one store).
    pub fn set_hash_threads(&mut self, threads: usize) {
        self.options.hash_threads = threads.max(1);
        self.storage.set_hash_threads(threads);
    }

    pub fn sig_cache_len(&self) -> usize {
        self.sig_cache.len()
    }

    /// What CometBFT's handshake needs: the last committed block and its app hash. Before the
    /// first block (even if genesis was written) the height is 0, so CometBFT calls InitChain.
    pub fn info(&self) -> Info {
        match (self.storage.committed(), &self.context) {
            (Some(c), Some(ctx)) => {
                let genesis_only = c.height == c.version_offset;
                Info {
                    last_block_height: if genesis_only { 0 } else { c.height },
                    last_block_app_hash: if genesis_only {
                        Vec::new()
                    } else {
                        c.app_hash.to_vec()
                    },
                    chain_id: Some(ctx.chain_id.clone()),
                }
            }
            _ => Info {
                last_block_height: 0,
                last_block_app_hash: Vec::new(),
                chain_id: None,
            },
        }
    }

    /// Writes the genesis state (at height `initial_height − 1`) and returns its app hash and
    /// the validators CometBFT starts with.
    pub fn init_chain(&mut self, req: &InitChainRequest) -> Result<InitChainResponse, AppError> {
        if let Some(c) = self.storage.committed() {
            if c.height > c.version_offset {
                return Err(AppError::Lifecycle(format!(
                    "InitChain on a store that already holds block {}",
                    c.height
                )));
            }
        }
        let app_state =
            AppState::from_json(&req.app_state).map_err(|e| AppError::Genesis(vec![e]))?;
        let problems = app_state.problems(&req.chain_id);
        if !problems.is_empty() {
            return Err(AppError::Genesis(problems));
        }
        let initial_height = req.initial_height.max(1);
        let genesis_height = initial_height - 1;
        let mut overlay = Overlay::new(crate::state::overlay::Empty);
        app_state.apply(
            &mut overlay,
            &req.chain_id,
            req.genesis_time.seconds,
            initial_height,
        );
        let (set, _) = staking::validator_set::update(&mut overlay);
        let validators = set
            .into_iter()
            .map(|(ed25519_pubkey, power)| ValidatorUpdate {
                ed25519_pubkey,
                power,
            })
            .collect();
        if self.options.check_invariants {
            check_invariants(&overlay).map_err(|e| AppError::Genesis(vec![e]))?;
        }
        let mut prepared =
            self.storage
                .prepare(genesis_height, overlay.into_changes(), Some(genesis_height))?;
        prepared.block_time = req.genesis_time.seconds;
        let committed = self.storage.commit(prepared)?;
        self.context = load_context(&self.storage);
        self.last_block = last_block(&self.storage);
        self.check_changes.clear();
        self.mempool = MempoolCount::default();
        self.block = None;
        tracing::info!(
            chain_id = %req.chain_id,
            initial_height,
            app_hash = %hex::encode(committed.app_hash),
            "genesis written"
        );
        Ok(InitChainResponse {
            app_hash: committed.app_hash,
            validators,
        })
    }

    /// The account as CheckTx sees it: the committed record with the txs accepted since the
    /// last Commit applied (this node's mempool view; not part of consensus).
    pub fn pending_account(&self, address: &crate::crypto::Address) -> bank::Account {
        let key = bank::keys::account(address);
        match self.check_changes.get(&key) {
            Some(Some(bytes)) => crate::state::decode_stored(&key, bytes),
            Some(None) => bank::Account::default(),
            None => bank::account(&self.storage, address),
        }
    }

    /// Checks a tx for the mempool on the same path as delivery, over the committed state plus
    /// the txs already accepted since the last Commit (so one account can have several txs in
    /// flight, and a balance is never promised twice).
    ///
    /// A new tx is first held against the [`MempoolLimits`]; a recheck never is (it is a tx
    /// the mempool already holds, and refusing it would evict a tx its sender was told was
    /// accepted). Every accepted check, new or recheck, is counted until the next Commit.
    pub fn check_tx(&mut self, bytes: &[u8], kind: CheckKind) -> TxOutcome {
        self.check_tx_preverified(bytes, kind, None)
    }

    /// [`App::check_tx`] for a tx whose signature [`crate::tx::preverify`] already verified
    /// (`preverified` is the hash it returned): the signature is not verified again.
    pub fn check_tx_preverified(
        &mut self,
        bytes: &[u8],
        kind: CheckKind,
        preverified: Option<[u8; 32]>,
    ) -> TxOutcome {
        let Some(ctx) = self.context.clone() else {
            return TxOutcome::rejected(&TxError::NotInitialized, Vec::new());
        };
        let size = bytes.len() as u64;
        let limits = self.options.mempool;
        if kind == CheckKind::New
            && (self.mempool.txs >= limits.max_txs
                || self.mempool.bytes.saturating_add(size) > limits.max_txs_bytes)
        {
            let full = TxError::MempoolFull {
                txs: self.mempool.txs,
                bytes: self.mempool.bytes,
                max_txs: limits.max_txs,
                max_txs_bytes: limits.max_txs_bytes,
            };
            return TxOutcome::rejected(&full, Vec::new());
        }
        let memo = Preverified {
            cache: &self.sig_cache,
            hash: preverified,
        };
        let checked =
            match check_stateless(bytes, &ctx.chain_id, &ctx.params, &self.verifier, &memo) {
                Ok(c) => c,
                Err(e) => return TxOutcome::rejected(&e, Vec::new()),
            };
        self.sig_cache.insert(checked.hash);
        let mut overlay =
            Overlay::with_changes(&self.storage, std::mem::take(&mut self.check_changes));
        let block = self.next_block_ctx();
        let outcome = match check_and_execute(&overlay, &checked, &ctx, &block) {
            Executed::Ok { changes, events } => {
                overlay.apply(changes);
                self.mempool.txs += 1;
                self.mempool.bytes = self.mempool.bytes.saturating_add(size);
                TxOutcome {
                    events,
                    ..Default::default()
                }
            }
            // A tx whose messages fail would only pay a fee; keep it out of the mempool.
            Executed::MsgFailed { err, .. } | Executed::Rejected(err) => {
                TxOutcome::rejected(&err, Vec::new())
            }
        };
        self.check_changes = overlay.into_changes();
        outcome
    }

    /// Runs an unsigned Cosmos tx on the latest committed state for
    /// `/cosmos.tx.v1beta1.Service/Simulate` and returns the gas to ask for
    /// ([`crate::cosmos::query::simulated_gas`]), or why the tx would be refused. Nothing is kept.
    pub fn simulate(&self, bytes: &[u8]) -> Result<u64, TxError> {
        let ctx = self.context.as_ref().ok_or(TxError::NotInitialized)?;
        let checked = crate::tx::check_simulation(bytes, &ctx.chain_id, &ctx.params)?;
        match check_and_execute(&self.storage, &checked, ctx, &self.next_block_ctx()) {
            Executed::Ok { .. } => Ok(crate::cosmos::query::simulated_gas(
                &ctx.params,
                bytes.len(),
            )),
            Executed::MsgFailed { err, .. } | Executed::Rejected(err) => Err(err),
        }
    }

    /// Orders the proposal: keeps the mempool's order, drops txs that would fail before paying a
    /// fee (they would do nothing), and stops before `max_tx_bytes`.
    pub fn prepare_proposal(&mut self, txs: Vec<Vec<u8>>, max_tx_bytes: u64) -> Vec<Vec<u8>> {
        let Some(ctx) = self.context.clone() else {
            return Vec::new();
        };
        let mut overlay = Overlay::new(&self.storage);
        let block_ctx = self.next_block_ctx();
        let mut out = Vec::with_capacity(txs.len());
        let mut total: u64 = 0;
        for bytes in txs {
            let size = bytes.len() as u64;
            if total.saturating_add(size) > max_tx_bytes {
                continue;
            }
            let checked = match check_stateless(
                &bytes,
                &ctx.chain_id,
                &ctx.params,
                &self.verifier,
                &self.sig_cache,
            ) {
                Ok(c) => c,
                Err(_) => continue,
            };
            self.sig_cache.insert(checked.hash);
            match check_and_execute(&overlay, &checked, &ctx, &block_ctx) {
                Executed::Ok { changes, .. } | Executed::MsgFailed { changes, .. } => {
                    overlay.apply(changes);
                }
                Executed::Rejected(_) => continue,
            }
            total += size;
            out.push(bytes);
        }
        out
    }

    /// Accepts a proposal unless it holds a tx that fails the stateless checks, which no honest
    /// proposer includes. Stateful failures are accepted: they become failed tx results.
    pub fn process_proposal(&mut self, txs: &[Vec<u8>]) -> bool {
        let Some(ctx) = self.context.clone() else {
            return false;
        };
        for bytes in txs {
            match check_stateless(
                bytes,
                &ctx.chain_id,
                &ctx.params,
                &self.verifier,
                &self.sig_cache,
            ) {
                Ok(c) => self.sig_cache.insert(c.hash),
                Err(e) => {
                    tracing::warn!(error = %e, "proposal refused: it holds a tx no honest proposer includes");
                    return false;
                }
            }
        }
        true
    }

    /// Decodes every tx of a block and verifies the signatures the cache does not hold on
    /// `verify_threads` threads, and hands each result to `f` on this thread in block order, as
    /// soon as it is ready: the block executes while its later signatures are still being
    /// verified. Txs are claimed in order, a few at a time; this thread verifies the next
    /// unclaimed ones whenever the tx it needs next is not ready, and waits only when every tx
    /// is claimed. The results, and so the block, are the same as with one thread.
    fn for_each_checked(
        &self,
        txs: &[Vec<u8>],
        ctx: &ChainContext,
        mut f: impl FnMut(&Result<CheckedTx, TxError>),
    ) {
        let check = |bytes: &Vec<u8>| {
            check_stateless(
                bytes,
                &ctx.chain_id,
                &ctx.params,
                &self.verifier,
                &self.sig_cache,
            )
        };
        let threads = self.options.verify_threads.max(1);
        if threads == 1 || txs.len() < PARALLEL_CHECK_MIN_TXS {
            for bytes in txs {
                f(&check(bytes));
            }
            return;
        }
        let slots: Vec<OnceLock<Result<CheckedTx, TxError>>> =
            txs.iter().map(|_| OnceLock::new()).collect();
        // the first tx nobody has claimed yet
        let next = AtomicUsize::new(0);
        // set when a verifying thread panicked: its txs will never be ready
        let failed = AtomicBool::new(false);
        let ready = (Mutex::new(()), Condvar::new());
        let notify = || {
            let _guard = ready.0.lock().unwrap_or_else(|e| e.into_inner());
            ready.1.notify_all();
        };
        // claims the next few txs and verifies them; false once every tx is claimed
        let work = || -> bool {
            let start = next.fetch_add(VERIFY_CLAIM, Ordering::Relaxed);
            let Some(claimed) = txs.get(start..(start + VERIFY_CLAIM).min(txs.len())) else {
                return false;
            };
            for (i, bytes) in claimed.iter().enumerate() {
                // each slot is claimed once, so it is empty here
                let _ = slots[start + i].set(check(bytes));
            }
            notify();
            true
        };
        std::thread::scope(|s| {
            for _ in 1..threads {
                s.spawn(|| {
                    let verified = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        while !failed.load(Ordering::Relaxed) {
                            if !work() {
                                break;
                            }
                        }
                    }));
                    if let Err(panic) = verified {
                        failed.store(true, Ordering::Relaxed);
                        notify();
                        std::panic::resume_unwind(panic);
                    }
                });
            }
            for slot in &slots {
                let result = loop {
                    if let Some(r) = slot.get() {
                        break r;
                    }
                    if work() {
                        continue;
                    }
                    // every tx is claimed: wait for the thread verifying this one
                    let guard = ready.0.lock().unwrap_or_else(|e| e.into_inner());
                    if slot.get().is_some() {
                        continue;
                    }
                    if failed.load(Ordering::Relaxed) {
                        // the scope re-raises the verifying thread's panic
                        drop(guard);
                        return;
                    }
                    drop(ready.1.wait(guard).unwrap_or_else(|e| e.into_inner()));
                };
                f(result);
            }
        });
        if failed.load(Ordering::Relaxed) {
            unreachable!("a verifying thread panicked and the scope did not re-raise it");
        }
    }

    /// Executes a block and computes its app hash. The state is written by [`App::commit`].
    pub fn finalize_block(&mut self, req: &BlockRequest) -> Result<BlockResponse, AppError> {
        let ctx = self
            .context
            .clone()
            .ok_or_else(|| AppError::Lifecycle("FinalizeBlock before InitChain".into()))?;
        let block_ctx = BlockCtx {
            height: req.height,
            time: req.time.seconds,
            prev_app_hash: self.last_block.prev_app_hash,
        };
        let mut block = Overlay::new(&self.storage);
        let begin = BeginBlock {
            ctx: block_ctx,
            last_commit: &req.decided_last_commit,
            misbehavior: &req.misbehavior,
        };
        let mut events = Vec::new();
        for m in MODULES {
            events.extend(m.begin_block(&mut block, &begin, &HOOKS));
        }
        let mut tx_results = Vec::with_capacity(req.txs.len());
        self.for_each_checked(&req.txs, &ctx, |checked| {
            let checked = match checked {
                Ok(c) => c,
                Err(e) => {
                    tx_results.push(TxOutcome::rejected(e, Vec::new()));
                    return;
                }
            };
            let outcome = match check_and_execute(&block, checked, &ctx, &block_ctx) {
                Executed::Ok {
                    changes,
                    mut events,
                } => {
                    block.apply(changes);
                    events.insert(0, tx_event(checked));
                    TxOutcome {
                        events,
                        ..Default::default()
                    }
                }
                Executed::MsgFailed { changes, err } => {
                    block.apply(changes);
                    TxOutcome::rejected(&err, vec![tx_event(checked)])
                }
                Executed::Rejected(err) => TxOutcome::rejected(&err, Vec::new()),
            };
            tx_results.push(outcome);
        });
        // end block, highest layer first: rounds that aggregate here raise proposals and decide
        // re-executions before slashing's deadlines, and due proposals are decided before any
        // unbonding entry is paid; then the validator set follows the pools
        for m in MODULES.iter().rev() {
            events.extend(m.end_block(&mut block, &block_ctx, &HOOKS));
        }
        let (updates, set_events) = staking::validator_set::update(&mut block);
        events.extend(set_events);
        if self.options.check_invariants {
            if let Err(e) = check_invariants(&block) {
                crate::state::fatal(&format!("invariant broken after block {}: {e}", req.height));
            }
        }
        let changes = block.into_changes();
        let mut prepared = self.storage.prepare(req.height, changes, None)?;
        prepared.block_time = req.time.seconds;
        let app_hash = prepared.app_hash;
        self.block = Some(BlockInProgress {
            height: req.height,
            prepared,
        });
        Ok(BlockResponse {
            tx_results,
            events,
            validator_updates: updates
                .into_iter()
                .map(|(ed25519_pubkey, power)| ValidatorUpdate {
                    ed25519_pubkey,
                    power,
                })
                .collect(),
            app_hash,
        })
    }

    /// Makes the finalized block durable and resets the mempool view to the new state.
    pub fn commit(&mut self) -> Result<CommitResponse, AppError> {
        let block = self
            .block
            .take()
            .ok_or_else(|| AppError::Lifecycle("Commit without FinalizeBlock".into()))?;
        let committed = self.storage.commit(block.prepared)?;
        debug_assert_eq!(committed.height, block.height);
        // CometBFT rechecks every tx left in its mempool next, against the new state: the
        // pending view and the count are rebuilt from those rechecks alone
        self.check_changes.clear();
        self.mempool = MempoolCount::default();
        self.context = load_context(&self.storage);
        self.last_block = last_block(&self.storage);
        Ok(CommitResponse {
            height: committed.height,
            app_hash: committed.app_hash,
            retain_height: 0,
        })
    }

    /// Takes a state rebuilt from a state sync snapshot as the latest committed state. The
    /// store must be empty; nothing is written unless the rebuilt root is the snapshot's
    /// trusted app hash (see [`crate::state::snapshot`]).
    pub fn restore_snapshot(
        &mut self,
        restore: crate::state::snapshot::Restore,
    ) -> Result<crate::state::store::Committed, crate::state::store::RestoreError> {
        let committed = restore.finish(&mut self.storage)?;
        self.context = load_context(&self.storage);
        self.last_block = last_block(&self.storage);
        self.check_changes.clear();
        self.mempool = MempoolCount::default();
        self.block = None;
        Ok(committed)
    }

    /// The genesis content that reproduces the latest committed state (`nodeopd export`).
    pub fn export(&self) -> Result<(String, u64, AppState), AppError> {
        let ctx = self
            .context
            .as_ref()
            .ok_or_else(|| AppError::Lifecycle("nothing to export: no genesis".into()))?;
        let height = self.storage.committed().map(|c| c.height).unwrap_or(0);
        Ok((
            ctx.chain_id.clone(),
            height,
            export_state(&self.storage, &ctx.params),
        ))
    }
}

fn last_block(storage: &Storage) -> BlockCtx {
    storage
        .committed()
        .map(|c| BlockCtx {
            height: c.height,
            time: c.block_time,
            // as a template for the next block: the last committed hash is its previous hash
            prev_app_hash: c.app_hash,
        })
        .unwrap_or(BlockCtx::GENESIS)
}

fn load_context(storage: &Storage) -> Option<ChainContext> {
    let chain_id: String = storage.get(chain_keys::CHAIN_ID)?;
    let params: TxParams = storage.get(chain_keys::TX_PARAMS)?;
    Some(ChainContext {
        chain_id,
        params,
        fee_pool: bank::FEE_POOL.address(),
    })
}

/// The `tx` event of every executed tx. CometBFT reserves the composite keys `tx.hash` and
/// `tx.height` for its own index, so the hash goes under `tx_hash`.
fn tx_event(checked: &CheckedTx) -> Event {
    Event::new(crate::events::TX)
        .attr("tx_hash", hex::encode_upper(checked.hash))
        .attr("signer", checked.signer)
        .attr("nonce", checked.tx.body.nonce)
        .attr("fee", checked.tx.body.fee)
}

enum Executed {
    /// Fee, nonce and messages all applied.
    Ok {
        changes: Changes,
        events: Vec<Event>,
    },
    /// Fee and nonce charged (in `changes`), messages rolled back.
    MsgFailed { changes: Changes, err: TxError },
    /// Nothing applies.
    Rejected(TxError),
}

/// The stateful half of a tx: the nonce and the fee on one overlay (kept once they pass, even
/// if a message then fails), the messages on a second overlay (kept only if all succeed).
fn check_and_execute<S: StateRead>(
    state: &S,
    checked: &CheckedTx,
    ctx: &ChainContext,
    block: &BlockCtx,
) -> Executed {
    let signer = checked.signer;
    let body = &checked.tx.body;
    let mut ante = Overlay::new(state);
    let acct = bank::account(&ante, &signer);
    if body.nonce < acct.nonce {
        return Executed::Rejected(TxError::NonceReplayed {
            expected: acct.nonce,
            got: body.nonce,
        });
    }
    if body.nonce > acct.nonce {
        return Executed::Rejected(TxError::NonceGap {
            expected: acct.nonce,
            got: body.nonce,
        });
    }
    if acct.balance < body.fee {
        return Executed::Rejected(TxError::CannotPayFee {
            balance: acct.balance,
            fee: body.fee,
        });
    }
    if let Err(e) = bank::charge_fee(&mut ante, &signer, acct, body.fee, &ctx.fee_pool) {
        return Executed::Rejected(TxError::Bank(e));
    }
    let mut msgs = Overlay::new(&ante);
    let mut events = Vec::new();
    let mut failure = None;
    for (i, msg) in body.msgs.iter().enumerate() {
        match execute_msg(&mut msgs, block, &signer, msg) {
            Ok(ev) => events.extend(ev.into_iter().map(|e| e.attr("msg_index", i))),
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    let msg_changes = msgs.into_changes();
    let mut changes = ante.into_changes();
    match failure {
        None => {
            changes.extend(msg_changes);
            Executed::Ok { changes, events }
        }
        // a fee-free duty that fails charges nothing, not even the nonce: it is never included
        // by an honest proposer (it fails CheckTx and PrepareProposal drops it)
        Some(err) if body.is_fee_free_duty() => Executed::Rejected(err),
        Some(err) => Executed::MsgFailed { changes, err },
    }
}

fn execute_msg(
    mut state: &mut impl StateWrite,
    block: &BlockCtx,
    signer: &Address,
    msg: &Msg,
) -> Result<Vec<Event>, TxError> {
    MODULES
        .iter()
        .find_map(|m| m.deliver(&mut state, block, signer, msg, &HOOKS))
        .unwrap_or_else(|| crate::state::fatal(&format!("no module handles {}", msg.type_name())))
}

/// Every module's invariants, in table order.
pub fn check_invariants(state: &impl StateRead) -> Result<(), String> {
    MODULES.iter().try_for_each(|m| m.check_invariants(&state))
}

/// The genesis content that reproduces `state`: every module's section, in table order.
fn export_state(state: &impl StateRead, params: &TxParams) -> AppState {
    let mut genesis = AppState {
        tx: params.clone(),
        ..AppState::default()
    };
    for m in MODULES {
        m.export_genesis(&state, &mut genesis);
    }
    genesis
}

/// The cross-layer calls (`crate::hooks`), wired to the modules above the caller.
pub const HOOKS: Hooks = Hooks {
    block_signed: |mut state, operator, signed| {
        slashing::uptime::record(&mut state, operator, signed);
        reputation::record_block(&mut state, operator, signed);
    },
    stake_slashed: |mut state, operator, amount| {
        issuance::record_penalty(&mut state, amount);
        issuance::record_faulty_operator(&mut state, operator);
    },
    slash_pending: |state, operator| slashing::has_pending(&state, operator),
    start_reexecution: |mut state, ctx, request| tasks::reexec::start(&mut state, ctx, request),
    slot_closed: |mut state, ctx, slot, outcome| {
        coprocessors::settle::slot_closed(&mut state, ctx, slot, outcome)
    },
};
