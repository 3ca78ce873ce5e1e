//! Scenario tests of the agent against the real app in process (no sockets): agents step, then
//! the test makes a block from the mempool, and so on. Every tx an agent broadcast is recorded
//! by the in-process chain.

mod auction;
mod committee;
mod nonce;
mod restart;
mod unjail;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Result};
use async_trait::async_trait;
use nodeop_app::crypto::{sha256, Address};
use nodeop_app::modules::tasks::{Consistency, MsgPostTask, TaskStatus};
use nodeop_app::tx::Msg;
use nodeop_client::KeyPair;
use nodeop_driver::chain::{Key, TestChain, CHAIN_ID};
use nodeop_driver::tasks::exact_task;

use crate::agent::{Agent, Executors, Policy};
use crate::chain::in_process::InProcessChain;
use crate::duty::{Duty, DutyState};
use crate::executor::{EchoExecutor, Executor, Job, Sha256Executor};
use crate::metrics::Metrics;
use crate::store::Store;

/// Answers with a fixed byte string whatever the payload (a lying or broken executor).
pub struct Constant(pub Vec<u8>);

#[async_trait]
impl Executor for Constant {
    fn name(&self) -> String {
        "constant".into()
    }
    async fn execute(&self, _job: &Job) -> Result<Vec<u8>> {
        Ok(self.0.clone())
    }
}

/// A different answer on every call; the first `slow_calls` calls hang for a minute (so a
/// test can stop the agent in the middle of an execution).
pub struct Fickle {
    pub calls: AtomicU64,
    pub slow_calls: u64,
}

#[async_trait]
impl Executor for Fickle {
    fn name(&self) -> String {
        "fickle".into()
    }
    async fn execute(&self, _job: &Job) -> Result<Vec<u8>> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        if n < self.slow_calls {
            tokio::time::sleep(Duration::from_secs(60)).await;
        }
        Ok(format!("answer {n}").into_bytes())
    }
}

/// Delivery hook of the tests: the reference names the aggregate's hash.
pub struct RecordDelivery;

#[async_trait]
impl Executor for RecordDelivery {
    fn name(&self) -> String {
        "record".into()
    }
    async fn execute(&self, job: &Job) -> Result<Vec<u8>> {
        if job.payload.is_empty() {
            bail!("nothing to deliver");
        }
        Ok(format!("test-sink:{}", hex::encode(&sha256(&[&job.payload])[..8])).into_bytes())
    }
}

pub fn honest() -> Executors {
    Executors {
        exact: Arc::new(Sha256Executor),
        numeric: Arc::new(EchoExecutor),
        deliver: Some(Arc::new(RecordDelivery)),
    }
}

pub fn with_exact(exact: Arc<dyn Executor>) -> Executors {
    Executors { exact, ..honest() }
}

pub fn keypair(k: &Key) -> KeyPair {
    KeyPair::from_secret_bytes(&k.secret_bytes()).expect("a driver key")
}

/// An in-process chain and a folder of agent stores.
pub struct Net {
    pub chain: InProcessChain,
    pub dir: tempfile::TempDir,
    pub client: Key,
}

impl Net {
    pub fn new(chain: TestChain, client: Key) -> Self {
        Self {
            chain: InProcessChain::new(chain),
            dir: tempfile::tempdir().expect("a temp dir"),
            client,
        }
    }

    pub fn store_path(&self, key: &Key) -> PathBuf {
        self.dir.path().join(format!("{}.redb", key.address))
    }

    /// An agent for `key` over its store (opened now: dropping the agent closes it).
    pub fn agent(&self, key: &Key, executors: Executors, policy: Policy) -> Agent<InProcessChain> {
        let store = Store::open(&self.store_path(key), CHAIN_ID, &key.address.to_string())
            .expect("the store opens");
        Agent::new(
            self.chain.clone(),
            store,
            keypair(key),
            CHAIN_ID.into(),
            policy,
            executors,
            Metrics::default(),
        )
    }

    /// Posts a task from the client in the next block; returns its id.
    pub fn post(&self, msg: MsgPostTask) -> u64 {
        let tx = {
            let sim = self.chain.sim();
            sim.chain.tx(&self.client, vec![msg.into()])
        };
        let out = self.chain.submit(tx);
        assert!(out.accepted(), "PostTask refused: {}", out.log);
        self.chain.produce_block();
        let height = self.chain.height();
        let id = self.chain.sim().events[&height]
            .iter()
            .find(|e| e.kind == nodeop_app::modules::tasks::events::TASK_POSTED)
            .and_then(|e| e.get_u64("task"))
            .expect("a task_posted event");
        id
    }

    /// An Exact task at the current price.
    pub fn post_exact(&self, consistency: Consistency) -> u64 {
        let price = {
            let sim = self.chain.sim();
            nodeop_app::modules::tasks::state::unit_price(sim.chain.app.storage())
        };
        self.post(exact_task(consistency, price * 10))
    }

    pub fn task(&self, id: u64) -> nodeop_app::modules::tasks::state::Task {
        let sim = self.chain.sim();
        nodeop_app::modules::tasks::state::task(sim.chain.app.storage(), id).expect("the task")
    }

    /// Every message `signer` broadcast (accepted or not), in order.
    pub fn sent_by(&self, signer: &Address) -> Vec<(Msg, bool)> {
        self.chain
            .broadcasts()
            .into_iter()
            .filter(|b| Address::from_pubkey(&b.tx.pubkey) == *signer)
            .flat_map(|b| {
                let ok = b.check.accepted();
                b.tx.body.msgs.into_iter().map(move |m| (m, ok))
            })
            .collect()
    }
}

/// Steps every agent, then makes a block; `blocks` times.
pub async fn run(net: &Net, agents: &mut [Agent<InProcessChain>], blocks: u64) {
    for _ in 0..blocks {
        for a in agents.iter_mut() {
            a.step().await.expect("a step");
        }
        net.chain.produce_block();
    }
}

/// Runs until every task in `ids` is terminal (delivered, undelivered or failed), at most
/// `max_blocks`; panics if one is not.
pub async fn run_until_done(
    net: &Net,
    agents: &mut [Agent<InProcessChain>],
    ids: &[u64],
    max_blocks: u64,
) {
    for _ in 0..max_blocks {
        if ids.iter().all(|id| {
            matches!(
                net.task(*id).status,
                TaskStatus::Delivered | TaskStatus::Undelivered | TaskStatus::Failed
            )
        }) {
            return;
        }
        run(net, agents, 1).await;
    }
    let states: Vec<_> = ids.iter().map(|id| (id, net.task(*id).status)).collect();
    panic!("tasks not finished after {max_blocks} blocks: {states:?}");
}

pub fn duties(agent: &Agent<InProcessChain>) -> Vec<Duty> {
    agent.store.duties().expect("the store reads")
}

pub fn missed(agent: &Agent<InProcessChain>) -> Vec<Duty> {
    duties(agent)
        .into_iter()
        .filter(|d| d.state == DutyState::Missed)
        .collect()
}

/// Distinct commitments and distinct reveals `signer` ever broadcast for `task`.
pub fn distinct_commit_reveal(net: &Net, signer: &Address, task: u64) -> (usize, usize) {
    let mut commits = Vec::new();
    let mut reveals = Vec::new();
    for (m, _) in net.sent_by(signer) {
        match m {
            Msg::CommitResult(c) if c.task_id == task => commits.push(c.commitment),
            Msg::RevealResult(r) if r.task_id == task => reveals.push((r.result, r.salt)),
            _ => {}
        }
    }
    commits.sort();
    commits.dedup();
    reveals.sort();
    reveals.dedup();
    (commits.len(), reveals.len())
}
