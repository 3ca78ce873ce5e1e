//! The real app in process, behind the driver's mock consensus ([`TestChain`]): a mempool
//! filled by CheckTx, blocks made when the test says so (PrepareProposal picks from the
//! mempool), each block's events and tx results kept for the agent's reads. Every broadcast is
//! recorded, so tests can check everything an agent ever sent. Faults: a broadcast that fails
//! before reaching the node, one that reaches it but whose answer is lost, and one after which
//! the agent never hears back (it is stopped there).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use anyhow::{bail, Result};
use nodeop_app::app::CheckKind;
use nodeop_app::query::QueryRequest;
use nodeop_app::tx::{tx_hash, Tx};
use nodeop_driver::chain::TestChain;

use super::{Chain, ChainEvent, CheckOutcome, IncludedTx};

/// One broadcast as the node saw it.
#[derive(Clone, Debug)]
pub struct Broadcast {
    pub tx: Tx,
    pub hash: [u8; 32],
    pub check: CheckOutcome,
    /// The committed height when it arrived.
    pub at_height: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The next broadcast fails before reaching the node.
    DropBeforeNode,
    /// The next broadcast reaches the node, but the agent gets an error back.
    LoseReply,
    /// The next broadcast reaches the node and the call never returns (the agent is killed
    /// right after sending).
    HangAfterNode,
}

pub struct Sim {
    pub chain: TestChain,
    pub mempool: Vec<Vec<u8>>,
    pub events: BTreeMap<u64, Vec<ChainEvent>>,
    pub txs: BTreeMap<[u8; 32], IncludedTx>,
    pub broadcasts: Vec<Broadcast>,
    pub faults: Vec<Fault>,
}

/// A shared handle: every agent of a test and the test itself hold one.
#[derive(Clone)]
pub struct InProcessChain(pub Arc<Mutex<Sim>>);

fn events(evs: &[nodeop_app::events::Event]) -> Vec<ChainEvent> {
    evs.iter()
        .map(|e| {
            ChainEvent::from_pairs(
                &e.kind,
                e.attributes
                    .iter()
                    .map(|a| (a.key.as_str(), a.value.as_str())),
            )
        })
        .collect()
}

impl InProcessChain {
    pub fn new(chain: TestChain) -> Self {
        Self(Arc::new(Mutex::new(Sim {
            chain,
            mempool: Vec::new(),
            events: BTreeMap::new(),
            txs: BTreeMap::new(),
            broadcasts: Vec::new(),
            faults: Vec::new(),
        })))
    }

    pub fn sim(&self) -> std::sync::MutexGuard<'_, Sim> {
        self.0.lock().expect("the in-process chain's lock")
    }

    pub fn height(&self) -> u64 {
        self.sim().chain.height
    }

    /// Makes one block from the mempool (as its proposer), records its events and tx results,
    /// and rechecks what stays in the mempool, as CometBFT does after a commit.
    pub fn produce_block(&self) -> u64 {
        let mut sim = self.sim();
        let mempool = std::mem::take(&mut sim.mempool);
        let max = sim.chain.params().max_tx_bytes * 1000;
        let txs = sim.chain.app.prepare_proposal(mempool.clone(), max);
        let resp = sim.chain.block(txs.clone());
        let height = sim.chain.height;
        let mut evs = events(&resp.events);
        for (tx, r) in txs.iter().zip(&resp.tx_results) {
            if r.is_ok() {
                evs.extend(events(&r.events));
            }
            sim.txs.insert(
                tx_hash(tx),
                IncludedTx {
                    height,
                    code: r.code,
                    codespace: r.codespace.clone(),
                    log: r.log.clone(),
                    events: events(&r.events),
                },
            );
        }
        sim.events.insert(height, evs);
        let included: Vec<[u8; 32]> = txs.iter().map(|t| tx_hash(t)).collect();
        for tx in mempool {
            if !included.contains(&tx_hash(&tx))
                && sim.chain.app.check_tx(&tx, CheckKind::Recheck).is_ok()
            {
                sim.mempool.push(tx);
            }
        }
        height
    }

    /// A tx from the test itself (a client, a conflicting sender) into the mempool.
    pub fn submit(&self, tx: Vec<u8>) -> CheckOutcome {
        let mut sim = self.sim();
        let r = sim.chain.app.check_tx(&tx, CheckKind::New);
        if r.is_ok() {
            sim.mempool.push(tx);
        }
        CheckOutcome {
            code: r.code,
            codespace: r.codespace,
            log: r.log,
        }
    }

    pub fn inject(&self, fault: Fault) {
        self.sim().faults.push(fault);
    }

    pub fn broadcasts(&self) -> Vec<Broadcast> {
        self.sim().broadcasts.clone()
    }
}

impl InProcessChain {
    /// CheckTx of a broadcast tx (recorded), unless a fault drops it first.
    fn deliver(&self, tx: Vec<u8>) -> Result<(CheckOutcome, Option<Fault>)> {
        let mut sim = self.sim();
        let fault = if sim.faults.is_empty() {
            None
        } else {
            Some(sim.faults.remove(0))
        };
        if fault == Some(Fault::DropBeforeNode) {
            bail!("connection refused (injected)");
        }
        let r = sim.chain.app.check_tx(&tx, CheckKind::New);
        let check = CheckOutcome {
            code: r.code,
            codespace: r.codespace.clone(),
            log: r.log.clone(),
        };
        let decoded: Tx = borsh::from_slice(&tx).expect("the agent sends decodable txs");
        let at_height = sim.chain.height;
        sim.broadcasts.push(Broadcast {
            tx: decoded,
            hash: tx_hash(&tx),
            check: check.clone(),
            at_height,
        });
        if r.is_ok() {
            sim.mempool.push(tx);
        }
        Ok((check, fault))
    }
}

impl Chain for InProcessChain {
    async fn chain_id(&self) -> Result<String> {
        Ok(self.sim().chain.chain_id.clone())
    }

    async fn committed_height(&self) -> Result<u64> {
        Ok(self.sim().chain.height)
    }

    async fn block_events(&self, height: u64) -> Result<Vec<ChainEvent>> {
        match self.sim().events.get(&height) {
            Some(e) => Ok(e.clone()),
            // blocks before the agent's chain handle existed (genesis) have no events
            None if height <= 1 => Ok(Vec::new()),
            None => bail!("no results for height {height}"),
        }
    }

    async fn query(&self, path: &str) -> Result<Option<Vec<u8>>> {
        let sim = self.sim();
        let r = sim.chain.app.query(&QueryRequest {
            path: path.into(),
            data: Vec::new(),
            height: 0,
            prove: false,
        });
        if r.code == 0 {
            Ok(Some(r.value))
        } else if r.codespace == nodeop_app::error::CODESPACE_QUERY && r.code == 4 {
            Ok(None)
        } else {
            bail!("query {path}: {}/{} {}", r.codespace, r.code, r.log)
        }
    }

    async fn broadcast(&self, tx: Vec<u8>) -> Result<CheckOutcome> {
        let (check, fault) = self.deliver(tx)?;
        match fault {
            Some(Fault::LoseReply) => bail!("connection reset while reading the answer (injected)"),
            Some(Fault::HangAfterNode) => std::future::pending().await,
            _ => Ok(check),
        }
    }

    async fn find_tx(&self, hash: &[u8; 32], _since: u64) -> Result<Option<IncludedTx>> {
        Ok(self.sim().txs.get(hash).cloned())
    }
}
