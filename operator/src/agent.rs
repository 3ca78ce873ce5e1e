//! The agent: one step reads every block since the last one fully processed, turns their
//! events into duties, reconciles each open duty with the chain's task record, and sends the
//! txs the duty asks for.
//!
//! Every tx is stored in its duty before it is broadcast. A stored tx is sent again (after
//! `resend_after_blocks`) only once the chain shows neither its effect nor the tx itself
//! (looked up by hash); a tx refused for a stale nonce is rebuilt with the nonce the chain
//! expects, with the same messages. Duty txs (commit, reveal, confirm) go with fee 0.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use nodeop_app::crypto::{sha256, Address};
use nodeop_app::modules::coprocessors::{self, AuctionStatus};
use nodeop_app::modules::staking::state::Operator;
use nodeop_app::modules::tasks::state::Task;
use nodeop_app::modules::tasks::{self, TaskKind, TaskStatus, TasksParams};
use nodeop_app::params::TxParams;
use nodeop_app::tx::Msg;
use nodeop_client::KeyPair;
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tracing::{debug, error, info, warn};

use crate::chain::{self, Chain, CheckOutcome};
use crate::duty::{Duty, DutyKey, DutyState, Role, SentTx};
use crate::executor::{self, Executor, Job};
use crate::metrics::Metrics;
use crate::store::{StatusReport, Store, WatchedAuction};

/// The operator's rule for its own slots (seed 001): execute what fits the local resources,
/// else sell the slot in a Dutch auction and execute it anyway if the auction expires.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuctionPolicy {
    /// Start price, unop (capped at the member's expected pay).
    pub start_price: u128,
    /// Floor price, unop (capped at the start).
    pub floor_price: u128,
}

/// The coprocessor role: bid on open auctions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CoprocessorPolicy {
    /// The lowest price this coprocessor works for, unop: it bids as soon as the price of the
    /// next block is at least this (the price only falls).
    pub min_price: u128,
    /// Units of difficulty it takes on at once (its own bookkeeping; the chain checks its
    /// registered capacity too).
    pub capacity_units: u64,
}

#[derive(Clone, Debug)]
pub struct Policy {
    /// The largest task difficulty this machine executes itself.
    pub max_difficulty_units: u64,
    pub auction: Option<AuctionPolicy>,
    pub coprocessor: Option<CoprocessorPolicy>,
    /// Blocks to wait for a sent tx's effect before looking it up and sending it again.
    pub resend_after_blocks: u64,
    /// The largest reference payload fetched.
    pub max_payload_bytes: usize,
    /// Heights read per step at most (a long catch-up is spread over steps).
    pub max_heights_per_step: u64,
    /// On an empty store, start this many blocks before the chain's height.
    pub start_lookback: u64,
    /// How long a step waits for the executions it started before it moves on; the rest run
    /// on in the background and are committed by the step after they finish (a slow executor
    /// never holds up reading blocks and the other duties).
    pub execution_wait: Duration,
    /// Send `Unjail` when this agent's operator is jailed for downtime and its jail time has
    /// passed (never when tombstoned).
    pub unjail: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            max_difficulty_units: u64::MAX,
            auction: None,
            coprocessor: None,
            resend_after_blocks: 2,
            max_payload_bytes: 1 << 20,
            max_heights_per_step: 200,
            start_lookback: 60,
            execution_wait: Duration::from_millis(300),
            unjail: true,
        }
    }
}

/// Executors by task kind, and the delivery hook.
#[derive(Clone)]
pub struct Executors {
    pub exact: Arc<dyn Executor>,
    pub numeric: Arc<dyn Executor>,
    /// Gets the aggregate's bytes, returns the delivery reference (`target_ref`).
    pub deliver: Option<Arc<dyn Executor>>,
}

impl Executors {
    fn for_kind(&self, kind: &TaskKind) -> Arc<dyn Executor> {
        match kind {
            TaskKind::Exact => self.exact.clone(),
            TaskKind::Numeric { .. } => self.numeric.clone(),
        }
    }
}

pub struct Agent<C: Chain> {
    pub chain: C,
    pub store: Store,
    key: KeyPair,
    pub address: Address,
    pub chain_id: String,
    pub policy: Policy,
    executors: Executors,
    next_nonce: Option<u64>,
    tx_params: Option<TxParams>,
    tasks_params: Option<TasksParams>,
    pub metrics: Metrics,
    /// Executions in the background (aborted when the agent is dropped).
    executions: JoinSet<Execution>,
    /// The duties being executed, and their execution's task id.
    running: BTreeMap<DutyKey, tokio::task::Id>,
    /// Woken when an execution finishes, so that the loop commits its result at once.
    execution_done: Arc<Notify>,
    /// The last `Unjail` sent, and the height it was sent at.
    unjail_tx: Option<SentTx>,
}

/// A finished execution.
struct Execution {
    key: DutyKey,
    out: Result<Vec<u8>>,
    took: Duration,
}

/// What a broadcast came to.
enum Sent {
    Accepted,
    /// The chain already holds it (found by hash).
    Included,
    Refused(CheckOutcome),
}

impl<C: Chain> Agent<C> {
    pub fn new(
        chain: C,
        store: Store,
        key: KeyPair,
        chain_id: String,
        policy: Policy,
        executors: Executors,
        metrics: Metrics,
    ) -> Self {
        Self {
            address: key.address(),
            chain,
            store,
            key,
            chain_id,
            policy,
            executors,
            next_nonce: None,
            tx_params: None,
            tasks_params: None,
            metrics,
            executions: JoinSet::new(),
            running: BTreeMap::new(),
            execution_done: Arc::new(Notify::new()),
            unjail_tx: None,
        }
    }

    /// Duties whose execution is running now.
    pub fn executing(&self) -> Vec<DutyKey> {
        self.running.keys().copied().collect()
    }

    /// Runs steps until the process ends, waiting for each new block.
    pub async fn run(&mut self) -> Result<()> {
        let mut backoff = Duration::from_millis(500);
        loop {
            match self.step().await {
                Ok(h) => {
                    backoff = Duration::from_millis(500);
                    self.metrics.set_connected(true);
                    tokio::select! {
                        r = self.chain.wait_for_block(h, Duration::from_secs(5)) => {
                            if let Err(e) = r {
                                warn!("waiting for a block: {e:#}");
                            }
                        }
                        _ = self.execution_done.notified() => {}
                    }
                }
                Err(e) => {
                    self.metrics.set_connected(false);
                    warn!("step failed (will catch up from the last processed height): {e:#}");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(10));
                }
            }
        }
    }

    /// One pass: catch up on blocks, then act on every open duty. Returns the committed height
    /// it acted at.
    pub async fn step(&mut self) -> Result<u64> {
        let height = self.chain.committed_height().await?;
        if self.tx_params.is_none() {
            self.tx_params = Some(chain::tx_params(&self.chain).await?);
        }
        if self.tasks_params.is_none() {
            self.tasks_params = Some(chain::tasks_params(&self.chain).await?);
        }
        self.catch_up(height).await?;
        self.act(height).await?;
        self.unjail(height).await?;
        self.publish_status()?;
        Ok(height)
    }

    /// A validator jailed for downtime comes back by itself: once its jail time has passed (by
    /// this machine's clock, which BFT time follows), the agent sends `Unjail`, then again
    /// every `resend_after_blocks` blocks while the operator stays jailed (the chain refuses an
    /// early one in CheckTx, at no cost). A tombstoned operator is never unjailed; an account
    /// that is not an operator (a coprocessor's agent) sends nothing.
    async fn unjail(&mut self, h: u64) -> Result<()> {
        if !self.policy.unjail {
            return Ok(());
        }
        if let Some(tx) = &self.unjail_tx {
            if h < tx.sent_height + self.policy.resend_after_blocks {
                return Ok(());
            }
        }
        let path = format!("/staking/operator/{}", self.address);
        let Some(op) = chain::query_json::<_, Operator>(&self.chain, &path).await? else {
            return Ok(());
        };
        let Some(until) = op.jailed_until.filter(|_| !op.tombstoned) else {
            self.unjail_tx = None;
            return Ok(());
        };
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        if now < until {
            return Ok(());
        }
        let tx = self.build(vec![Msg::unjail()], h).await?;
        let mut holder = Some(tx);
        match self.broadcast(&mut holder, h, "unjail").await? {
            Sent::Accepted | Sent::Included => info!(jailed_until = until, "jailed; sent unjail"),
            Sent::Refused(out) => info!(
                jailed_until = until,
                "jailed; unjail refused ({}/{}: {}), trying again in {} blocks",
                out.codespace,
                out.code,
                out.log,
                self.policy.resend_after_blocks
            ),
        }
        self.unjail_tx = holder;
        Ok(())
    }

    fn publish_status(&self) -> Result<()> {
        let mut status = StatusReport::from_duties(&self.store.duties()?);
        status.address = self.address.to_string();
        status.chain_id = self.chain_id.clone();
        status.last_height = self.store.last_height()?;
        self.metrics.set_status(status);
        Ok(())
    }

    /// Reads the events of every height after the last processed one, up to `height`.
    async fn catch_up(&mut self, height: u64) -> Result<()> {
        let mut last = self.store.last_height()?;
        if last == 0 {
            last = height.saturating_sub(self.policy.start_lookback);
        }
        let until = height.min(last.saturating_add(self.policy.max_heights_per_step));
        for h in last + 1..=until {
            let events = self.chain.block_events(h).await?;
            for ev in &events {
                self.on_event(h, ev).await?;
            }
            self.store.set_last_height(h)?;
        }
        self.metrics.heights(self.store.last_height()?, height);
        Ok(())
    }

    async fn on_event(&mut self, height: u64, ev: &chain::ChainEvent) -> Result<()> {
        let me = self.address.to_string();
        match ev.kind.as_str() {
            tasks::events::TASK_ASSIGNED => {
                let mine = ev
                    .get("members")
                    .is_some_and(|m| m.split(',').any(|a| a == me));
                if let (true, Some(task), Some(round)) =
                    (mine, ev.get_u64("task"), ev.get_u64("round"))
                {
                    self.add_duty(task, round as u8, self.address, Role::Member, height)
                        .await?;
                }
            }
            coprocessors::events::AUCTION_OPENED if self.policy.coprocessor.is_some() => {
                let (Some(id), Some(task)) = (ev.get_u64("auction"), ev.get_u64("task")) else {
                    return Ok(());
                };
                if ev.get("member") == Some(me.as_str())
                    || self.store.auctions()?.iter().any(|a| a.id == id)
                {
                    return Ok(());
                }
                if let Some(a) = chain::auction(&self.chain, id).await? {
                    info!(task, auction = id, "auction opened; watching it");
                    self.store.put_auction(&WatchedAuction {
                        id,
                        task_id: task,
                        member: a.member,
                        difficulty_units: a.difficulty_units,
                        expires_height: a.expires_height,
                        bid_tx: None,
                        closed: false,
                    })?;
                }
            }
            coprocessors::events::AUCTION_WON if ev.get("coprocessor") == Some(me.as_str()) => {
                let (Some(id), Some(task_id)) = (ev.get_u64("auction"), ev.get_u64("task")) else {
                    return Ok(());
                };
                let Some(a) = chain::auction(&self.chain, id).await? else {
                    return Ok(());
                };
                let Some(task) = chain::task(&self.chain, task_id).await? else {
                    return Ok(());
                };
                let round = task.current_round().number;
                info!(task = task_id, auction = id, price = %a.price, "auction won");
                self.metrics.auction_won();
                self.add_duty(
                    task_id,
                    round,
                    a.member,
                    Role::Coprocessor { auction: id },
                    height,
                )
                .await?;
                // the bid's fee is a cost of this slot
                let bid = self
                    .store
                    .auctions()?
                    .into_iter()
                    .find(|w| w.id == id)
                    .and_then(|w| w.bid_tx);
                let key = DutyKey {
                    task_id,
                    round,
                    slot: a.member,
                };
                if let (Some(bid), Some(mut d)) = (bid, self.store.duty(&key)?) {
                    if d.other_txs.iter().all(|t| t.hash != bid.hash) {
                        d.other_txs.push(bid);
                        self.store.put_duty(&d)?;
                    }
                }
                self.close_auction(id)?;
            }
            coprocessors::events::AUCTION_EXPIRED => {
                if let Some(id) = ev.get_u64("auction") {
                    self.close_auction(id)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn close_auction(&self, id: u64) -> Result<()> {
        if let Some(mut a) = self.store.auctions()?.into_iter().find(|a| a.id == id) {
            if !a.closed {
                a.closed = true;
                self.store.put_auction(&a)?;
            }
        }
        Ok(())
    }

    async fn add_duty(
        &mut self,
        task_id: u64,
        round: u8,
        slot: Address,
        role: Role,
        height: u64,
    ) -> Result<()> {
        let key = DutyKey {
            task_id,
            round,
            slot,
        };
        if self.store.duty(&key)?.is_some() {
            return Ok(());
        }
        let Some(task) = chain::task(&self.chain, task_id).await? else {
            warn!(
                task = task_id,
                "assigned, but the task is no longer in state"
            );
            return Ok(());
        };
        let Some(r) = task.rounds.get(round as usize) else {
            return Ok(());
        };
        let duty = Duty {
            task_id,
            round,
            slot,
            role,
            kind: task.kind,
            payload: task.payload.clone(),
            difficulty_units: task.difficulty_units,
            fee: task.fee.to_string(),
            assigned_height: r.assigned_height,
            commit_end: r.commit_end,
            reveal_end: r.reveal_end,
            state: DutyState::Assigned,
            result: None,
            salt: None,
            commit_tx: None,
            reveal_tx: None,
            confirm_tx: None,
            other_txs: Vec::new(),
            auction: None,
            target_ref: None,
            reason: None,
            pay_received: None,
            updated_height: height,
        };
        info!(
            task = task_id,
            round,
            ?role,
            commit_end = r.commit_end,
            reveal_end = r.reveal_end,
            "duty assigned"
        );
        self.store.put_duty(&duty)
    }

    /// Acts on every open duty, in (task, round, slot) order; executions run concurrently.
    async fn act(&mut self, height: u64) -> Result<()> {
        // results of executions that finished since the last step
        self.collect_executions(height, &[]).await?;
        let open: Vec<Duty> = self
            .store
            .duties()?
            .into_iter()
            .filter(|d| !d.state.is_terminal())
            .collect();
        let mut to_execute = Vec::new();
        for duty in open {
            let task = chain::task(&self.chain, duty.task_id).await?;
            // a duty that moved on may need another look in the same step (a reveal right
            // after the commit is seen, say) — the next step does it.
            if let Some(d) = self.advance(duty, task.as_ref(), height).await? {
                if !self.running.contains_key(&d.key()) {
                    to_execute.push(d);
                }
            }
        }
        if !to_execute.is_empty() {
            let started = self.start_executions(to_execute, height)?;
            self.collect_executions(height, &started).await?;
        }
        if self.policy.coprocessor.is_some() {
            self.bid_on_auctions(height).await?;
        }
        Ok(())
    }

    fn save(&self, duty: &mut Duty, height: u64) -> Result<()> {
        duty.updated_height = height;
        self.store.put_duty(duty)
    }

    fn miss(&self, duty: &mut Duty, height: u64, reason: &str) -> Result<()> {
        warn!(
            task = duty.task_id,
            round = duty.round,
            state = duty.state.as_str(),
            "duty missed: {reason}"
        );
        duty.state = DutyState::Missed;
        duty.reason = Some(reason.to_string());
        self.save(duty, height)?;
        self.metrics
            .task_finished(duty.task_id, duty.pay(), duty.fees_paid());
        Ok(())
    }

    fn finish(&self, duty: &mut Duty, height: u64, state: DutyState) -> Result<()> {
        info!(task = duty.task_id, round = duty.round, pay = %duty.pay(), fees = %duty.fees_paid(), "duty {}", state.as_str());
        duty.state = state;
        self.save(duty, height)?;
        self.metrics
            .task_finished(duty.task_id, duty.pay(), duty.fees_paid());
        Ok(())
    }

    /// One duty's transition at `height`. Returns the duty when it should be executed now.
    async fn advance(&mut self, mut d: Duty, task: Option<&Task>, h: u64) -> Result<Option<Duty>> {
        let Some(task) = task else {
            let reason = "the task is no longer in state";
            return match d.state {
                DutyState::Revealed | DutyState::Scheduled => {
                    self.finish(&mut d, h, DutyState::Done).map(|_| None)
                }
                _ => self.miss(&mut d, h, reason).map(|_| None),
            };
        };
        let Some(round) = task.rounds.get(d.round as usize) else {
            return self
                .miss(&mut d, h, "the round is not in the task")
                .map(|_| None);
        };
        let member = round.member(&d.slot).cloned();
        let round_closed =
            task.rounds.len() > d.round as usize + 1 || task.status != TaskStatus::Assigned;
        let on_chain_commitment = member.as_ref().and_then(|m| m.commitment);
        let on_chain_revealed = member.as_ref().is_some_and(|m| m.result.is_some());
        match d.state {
            DutyState::Assigned | DutyState::Executing => {
                if on_chain_commitment.is_some() {
                    // this slot was committed by someone else (a buyer, or another program
                    // using this key); never commit a second time
                    self.miss(
                        &mut d,
                        h,
                        "the slot holds a commitment this agent did not make",
                    )?;
                    return Ok(None);
                }
                if round_closed || h >= d.commit_end {
                    self.miss(
                        &mut d,
                        h,
                        "the commit window closed before a result was ready",
                    )?;
                    return Ok(None);
                }
                if d.role == Role::Member
                    && d.difficulty_units > self.policy.max_difficulty_units
                    && d.auction.is_none()
                    && d.other_txs.is_empty()
                {
                    if let Some(p) = self.policy.auction.clone() {
                        // the auction must open by commit_end − 2; a tx sent now lands at h + 1
                        if h < d.commit_end.saturating_sub(2) {
                            self.open_auction(&mut d, task, &p, h).await?;
                            return Ok(None);
                        }
                        info!(
                            task = d.task_id,
                            "too late to auction the slot; executing it here"
                        );
                    }
                }
                Ok(Some(d))
            }
            DutyState::Offered => {
                self.follow_auction(d, task, h).await?;
                Ok(None)
            }
            DutyState::Committed => {
                let ours = self.commitment(&d);
                match on_chain_commitment {
                    Some(c) if Some(c) == ours => {
                        if let Some(tx) = d.commit_tx.as_mut() {
                            if !tx.included {
                                tx.included = true;
                                info!(task = d.task_id, round = d.round, "commit included");
                                self.save(&mut d, h)?;
                            }
                        }
                    }
                    Some(_) => {
                        error!(
                            task = d.task_id,
                            round = d.round,
                            "the chain holds another commitment for this slot; not revealing"
                        );
                        self.miss(&mut d, h, "another commitment is on chain")?;
                        return Ok(None);
                    }
                    None => {
                        if round_closed || h >= d.commit_end {
                            self.miss(&mut d, h, "the commit was not included in its window")?;
                            return Ok(None);
                        }
                        self.resend_if_due(&mut d, TxSlot::Commit, h).await?;
                        return Ok(None);
                    }
                }
                // committed on chain: reveal once the reveal window is open for the next block
                if h >= d.commit_end && h < d.reveal_end && !round_closed {
                    let (result, salt) = self.stored_result(&d)?;
                    let msg = Msg::reveal_result(d.task_id, &result, &salt);
                    let tx = self.build(vec![msg], h).await?;
                    d.reveal_tx = Some(tx);
                    d.state = DutyState::Revealed;
                    self.save(&mut d, h)?;
                    info!(task = d.task_id, round = d.round, "revealing");
                    self.send(&mut d, TxSlot::Reveal, h).await?;
                } else if round_closed || h >= d.reveal_end {
                    self.miss(
                        &mut d,
                        h,
                        "the reveal window closed before the reveal was sent",
                    )?;
                }
                Ok(None)
            }
            DutyState::Revealed => {
                if !on_chain_revealed {
                    if round_closed || h >= d.reveal_end {
                        self.miss(&mut d, h, "the reveal was not included in its window")?;
                    } else {
                        self.resend_if_due(&mut d, TxSlot::Reveal, h).await?;
                    }
                    return Ok(None);
                }
                if let Some(tx) = d.reveal_tx.as_mut() {
                    if !tx.included {
                        tx.included = true;
                        info!(task = d.task_id, round = d.round, "reveal included");
                        self.save(&mut d, h)?;
                    }
                }
                if !round_closed {
                    return Ok(None);
                }
                self.settle(d, task, h).await?;
                Ok(None)
            }
            DutyState::Scheduled => {
                self.deliver(d, task, h).await?;
                Ok(None)
            }
            _ => Ok(None),
        }
    }

    /// After the round closed with this slot revealed: pay, and whether to deliver.
    async fn settle(&self, mut d: Duty, task: &Task, h: u64) -> Result<()> {
        let Some(result) = task.result.as_ref().filter(|r| r.round == d.round) else {
            return self.finish(&mut d, h, DutyState::Done);
        };
        let pay_line = result
            .pay
            .iter()
            .find(|p| p.operator == d.slot)
            .map(|p| p.pay)
            .unwrap_or(0);
        let agreed = result.agreeing.contains(&d.slot);
        if !agreed {
            warn!(
                task = d.task_id,
                round = d.round,
                "this slot's result disagreed with the aggregate"
            );
        }
        d.pay_received = Some(match d.role {
            Role::Member => pay_line.to_string(),
            // the buyer is paid the auction's price if the slot agreed; the chain writes what
            // it paid into the auction when the round closes
            Role::Coprocessor { auction } => {
                let paid = match chain::auction(&self.chain, auction).await? {
                    Some(a) if a.closed_height.is_some() => a.paid,
                    Some(a) if agreed => a.price,
                    _ => 0,
                };
                paid.to_string()
            }
        });
        let scheduled = d.role == Role::Member
            && task
                .submission
                .as_ref()
                .is_some_and(|s| s.schedule.contains(&self.address));
        if scheduled {
            info!(task = d.task_id, "scheduled to deliver the aggregate");
            d.state = DutyState::Scheduled;
            self.save(&mut d, h)?;
            Ok(())
        } else {
            self.finish(&mut d, h, DutyState::Done)
        }
    }

    async fn deliver(&mut self, mut d: Duty, task: &Task, h: u64) -> Result<()> {
        let Some(sub) = task.submission.as_ref() else {
            return self.finish(&mut d, h, DutyState::Done);
        };
        if task.status == TaskStatus::Delivered {
            return if sub.submitter == Some(self.address) {
                if let Some(tx) = d.confirm_tx.as_mut() {
                    tx.included = true;
                }
                self.finish(&mut d, h, DutyState::Delivered)
            } else {
                self.finish(&mut d, h, DutyState::Done)
            };
        }
        let my_window = sub.schedule.iter().position(|a| *a == self.address);
        let Some(my_window) = my_window else {
            return self.finish(&mut d, h, DutyState::Done);
        };
        if task.status != TaskStatus::Finalized || (sub.window as usize) > my_window {
            return self.miss(
                &mut d,
                h,
                "the delivery window passed without a confirmed delivery",
            );
        }
        if (sub.window as usize) < my_window || h >= sub.window_end {
            return Ok(()); // an earlier member's window, or too late for this block: wait
        }
        if d.confirm_tx.is_some() {
            return self.resend_if_due(&mut d, TxSlot::Confirm, h).await;
        }
        let Some(deliverer) = self.executors.deliver.clone() else {
            warn!(
                task = d.task_id,
                "scheduled to deliver, but no [deliver] hook is configured"
            );
            return Ok(());
        };
        let aggregate = task
            .result
            .as_ref()
            .map(|r| r.result.clone())
            .unwrap_or_default();
        let job = Job {
            task_id: d.task_id,
            kind: task.kind,
            payload: aggregate,
        };
        let target_ref = match deliverer.execute(&job).await {
            Ok(out) => String::from_utf8_lossy(&out).trim().to_string(),
            Err(e) => {
                warn!(
                    task = d.task_id,
                    "delivery by {} failed: {e:#}",
                    deliverer.name()
                );
                return Ok(());
            }
        };
        if target_ref.is_empty() || target_ref.len() > 128 {
            warn!(
                task = d.task_id,
                "the deliver hook returned a reference of {} bytes; 1–128 are accepted",
                target_ref.len()
            );
            return Ok(());
        }
        let tx = self
            .build(vec![Msg::confirm_submission(d.task_id, &target_ref)], h)
            .await?;
        d.target_ref = Some(target_ref.clone());
        d.confirm_tx = Some(tx);
        self.save(&mut d, h)?;
        info!(task = d.task_id, target_ref, "delivered; confirming");
        self.send(&mut d, TxSlot::Confirm, h).await
    }

    async fn open_auction(
        &mut self,
        d: &mut Duty,
        task: &Task,
        p: &AuctionPolicy,
        h: u64,
    ) -> Result<()> {
        let params = self.tasks_params.clone().context("tasks params")?;
        let expected = nodeop_client::coprocessors::member_expected_pay(task, &params)?;
        let start = p.start_price.min(expected);
        let floor = p.floor_price.min(start);
        if start == 0 {
            info!(
                task = d.task_id,
                "the expected pay is 0; executing the slot here"
            );
            return Ok(());
        }
        let msg: Msg = coprocessors::MsgOpenAuction {
            task_id: d.task_id,
            start_price: start,
            floor_price: floor,
        }
        .into();
        let tx = self.build(vec![msg], h).await?;
        d.other_txs.push(tx);
        d.state = DutyState::Offered;
        self.save(d, h)?;
        info!(task = d.task_id, start, floor, expected_pay = %expected, "difficulty {} above the local limit {}: auctioning the slot", d.difficulty_units, self.policy.max_difficulty_units);
        self.metrics.auction_opened();
        self.send(d, TxSlot::Other, h).await
    }

    async fn follow_auction(&mut self, mut d: Duty, task: &Task, h: u64) -> Result<()> {
        if d.auction.is_none() {
            let found =
                chain::auctions_of_task(&self.chain, d.task_id, Some(&self.address)).await?;
            if let Some(a) = found.into_iter().find(|a| a.member == self.address) {
                d.auction = Some(a.id);
                if let Some(tx) = d.other_txs.last_mut() {
                    tx.included = true;
                }
                self.save(&mut d, h)?;
            }
        }
        let Some(id) = d.auction else {
            // not open (yet): resend while it can still open, else execute here
            if h >= d.commit_end.saturating_sub(2) {
                info!(
                    task = d.task_id,
                    "the auction never opened; executing the slot here"
                );
                d.state = DutyState::Assigned;
                return self.save(&mut d, h);
            }
            return self.resend_if_due(&mut d, TxSlot::Other, h).await;
        };
        let Some(a) = chain::auction(&self.chain, id).await? else {
            return Ok(());
        };
        match a.status {
            AuctionStatus::Open => Ok(()),
            AuctionStatus::Expired => {
                info!(
                    task = d.task_id,
                    auction = id,
                    "the auction expired unsold; executing the slot here"
                );
                d.state = DutyState::Assigned;
                self.save(&mut d, h)
            }
            _ => {
                // sold: the buyer serves the slot; the member is paid its line minus the price
                let price = a.price;
                let closed =
                    task.rounds.len() > d.round as usize + 1 || task.status != TaskStatus::Assigned;
                if !closed {
                    return Ok(());
                }
                let pay = task
                    .result
                    .as_ref()
                    .filter(|r| r.round == d.round)
                    .and_then(|r| r.pay.iter().find(|p| p.operator == d.slot))
                    .map(|p| p.pay.saturating_sub(price))
                    .unwrap_or(0);
                d.pay_received = Some(pay.to_string());
                // the slot's result is the member's: it may be scheduled to deliver
                let scheduled = task
                    .submission
                    .as_ref()
                    .is_some_and(|s| s.schedule.contains(&self.address));
                if scheduled {
                    info!(
                        task = d.task_id,
                        "sold slot agreed; scheduled to deliver the aggregate"
                    );
                    d.state = DutyState::Scheduled;
                    return self.save(&mut d, h);
                }
                self.finish(&mut d, h, DutyState::Sold)
            }
        }
    }

    /// The coprocessor role: bid on watched auctions whose price is high enough, while this
    /// coprocessor has room.
    async fn bid_on_auctions(&mut self, h: u64) -> Result<()> {
        let Some(p) = self.policy.coprocessor.clone() else {
            return Ok(());
        };
        let busy: u64 = self
            .store
            .duties()?
            .iter()
            .filter(|d| matches!(d.role, Role::Coprocessor { .. }) && !d.state.is_terminal())
            .map(|d| d.difficulty_units)
            .sum();
        for mut a in self.store.auctions()? {
            if a.closed {
                continue;
            }
            if h > a.expires_height {
                a.closed = true;
                self.store.put_auction(&a)?;
                continue;
            }
            if let Some(tx) = a.bid_tx.clone() {
                // one bid per auction: wait for the result (auction_won / expired)
                if !tx.included && h >= tx.sent_height + self.policy.resend_after_blocks {
                    if let Some(inc) = self.chain.find_tx(&tx.hash, tx.sent_height).await? {
                        let mut tx = tx;
                        tx.included = inc.code == 0;
                        a.bid_tx = Some(tx);
                        if inc.code != 0 {
                            info!(task = a.task_id, auction = a.id, "bid failed: {}", inc.log);
                            a.closed = true;
                        }
                        self.store.put_auction(&a)?;
                    }
                }
                continue;
            }
            if busy + a.difficulty_units > p.capacity_units {
                continue;
            }
            let Some(price) = chain::auction_price(&self.chain, a.id).await? else {
                continue;
            };
            if price.status != AuctionStatus::Open || price.price_next_block < p.min_price {
                continue;
            }
            let msg: Msg = coprocessors::MsgBid { auction_id: a.id }.into();
            let tx = self.build(vec![msg], h).await?;
            a.bid_tx = Some(tx.clone());
            self.store.put_auction(&a)?;
            info!(task = a.task_id, auction = a.id, price = %price.price_next_block, "bidding");
            let mut holder = Some(tx);
            match self.broadcast(&mut holder, h, "bid").await? {
                Sent::Accepted | Sent::Included => self.metrics.bid_sent(),
                Sent::Refused(out) => {
                    // refused at CheckTx (not early enough yet, say): nothing was spent; try
                    // again in a later block
                    debug!(task = a.task_id, auction = a.id, "bid refused: {}", out.log);
                    holder = None;
                }
            }
            a.bid_tx = holder;
            self.store.put_auction(&a)?;
        }
        Ok(())
    }

    /// Starts the executors of `duties` in the background; returns their keys.
    fn start_executions(&mut self, duties: Vec<Duty>, h: u64) -> Result<Vec<DutyKey>> {
        let max_result = self
            .tasks_params
            .as_ref()
            .map(|p| p.max_result_bytes)
            .unwrap_or(1024);
        let mut started = Vec::new();
        for mut d in duties {
            if d.state != DutyState::Executing {
                d.state = DutyState::Executing;
                self.save(&mut d, h)?;
            }
            let ex = self.executors.for_kind(&d.kind);
            let max_payload = self.policy.max_payload_bytes;
            let done = self.execution_done.clone();
            let key = d.key();
            debug!(task = d.task_id, round = d.round, executor = %ex.name(), "executing");
            let handle = self.executions.spawn(async move {
                let started = Instant::now();
                let out: Result<Vec<u8>> = async {
                    let payload = executor::fetch_payload(&d.payload, max_payload).await?;
                    let job = Job {
                        task_id: d.task_id,
                        kind: d.kind,
                        payload,
                    };
                    let raw = ex.execute(&job).await.map_err(|e| e.context(ex.name()))?;
                    executor::encode_result(&d.kind, &raw, max_result)
                }
                .await;
                done.notify_one();
                Execution {
                    key,
                    out,
                    took: started.elapsed(),
                }
            });
            self.running.insert(key, handle.id());
            started.push(key);
        }
        Ok(started)
    }

    /// Commits the result of every finished execution (or records the failure). Waits up to
    /// `policy.execution_wait` while one of `wait_for` is still running.
    async fn collect_executions(&mut self, h: u64, wait_for: &[DutyKey]) -> Result<()> {
        let deadline = tokio::time::Instant::now() + self.policy.execution_wait;
        // let executions that became ready run first (on a single-threaded runtime they only
        // run while this task waits)
        if !self.running.is_empty() {
            tokio::task::yield_now().await;
        }
        let mut finished = Vec::new();
        loop {
            let next = match self.executions.try_join_next_with_id() {
                Some(r) => Some(r),
                None if wait_for.iter().any(|k| self.running.contains_key(k)) => {
                    tokio::time::timeout_at(deadline, self.executions.join_next_with_id())
                        .await
                        .unwrap_or_default()
                }
                None => None,
            };
            let Some(joined) = next else { break };
            let (key, out, took) = match joined {
                Ok((_, e)) => (e.key, e.out, e.took),
                Err(join) => {
                    let id = join.id();
                    let Some(key) = self
                        .running
                        .iter()
                        .find(|(_, v)| **v == id)
                        .map(|(k, _)| *k)
                    else {
                        continue;
                    };
                    let why = if join.is_panic() {
                        "the executor panicked"
                    } else {
                        "the execution was cancelled"
                    };
                    (key, Err(anyhow::anyhow!(why)), Duration::ZERO)
                }
            };
            self.running.remove(&key);
            self.metrics.executed(took, out.is_ok());
            finished.push((key, out));
        }
        // in (task, round, slot) order, whatever order they finished in
        finished.sort_by_key(|f| f.0);
        for (key, out) in finished {
            let Some(mut d) = self.store.duty(&key)? else {
                continue;
            };
            if d.state != DutyState::Executing || d.result.is_some() {
                info!(
                    task = d.task_id,
                    round = d.round,
                    state = d.state.as_str(),
                    "the duty moved on while executing; the result is not used"
                );
                continue;
            }
            match out {
                Ok(result) => self.commit(&mut d, result, h).await?,
                Err(e) => {
                    error!(
                        task = d.task_id,
                        round = d.round,
                        "execution failed, nothing is committed: {e:#}"
                    );
                    self.miss(&mut d, h, &format!("execution failed: {e:#}"))?;
                }
            }
        }
        Ok(())
    }

    /// Stores result, salt and the signed commit, then broadcasts it.
    async fn commit(&mut self, d: &mut Duty, result: Vec<u8>, h: u64) -> Result<()> {
        // the chain's height may have moved while executing
        let now = self.chain.committed_height().await?;
        if now >= d.commit_end {
            return self.miss(d, now, "the result was ready after the commit window");
        }
        if d.result.is_some() {
            // never replace a stored result (cannot happen: a stored result means Committed)
            error!(task = d.task_id, "a result is already stored; keeping it");
            return Ok(());
        }
        let salt = nodeop_client::tasks::salts::random_salt();
        let msg = Msg::commit_result(d.task_id, &d.slot, &result, &salt);
        d.result = Some(result);
        d.salt = Some(salt.to_vec());
        let tx = self.build(vec![msg], h.max(now)).await?;
        d.commit_tx = Some(tx);
        d.state = DutyState::Committed;
        self.save(d, now)?;
        info!(task = d.task_id, round = d.round, result = %hex::encode(d.result.as_deref().unwrap_or_default()), "committing");
        self.send(d, TxSlot::Commit, now).await
    }

    fn stored_result(&self, d: &Duty) -> Result<(Vec<u8>, [u8; 32])> {
        let result = d.result.clone().context("no stored result")?;
        let salt: [u8; 32] = d
            .salt
            .clone()
            .context("no stored salt")?
            .try_into()
            .map_err(|_| anyhow::anyhow!("the stored salt is not 32 bytes"))?;
        Ok((result, salt))
    }

    /// The commitment the stored result and salt make.
    fn commitment(&self, d: &Duty) -> Option<[u8; 32]> {
        let (result, salt) = self.stored_result(d).ok()?;
        Some(tasks::msg::commitment(d.task_id, &d.slot, &result, &salt))
    }

    /// Builds and signs a tx with the next nonce (fee 0 for duties, else the minimum).
    async fn build(&mut self, msgs: Vec<Msg>, h: u64) -> Result<SentTx> {
        let nonce = match self.next_nonce {
            Some(n) => n,
            None => chain::account_nonce(&self.chain, &self.address).await?,
        };
        self.next_nonce = Some(nonce + 1);
        self.sign(msgs, nonce, h)
    }

    fn sign(&self, msgs: Vec<Msg>, nonce: u64, h: u64) -> Result<SentTx> {
        let params = self.tx_params.as_ref().context("tx params")?;
        let body = nodeop_client::tx::build_tx(&self.chain_id, nonce, msgs, None, "", params)?;
        let fee = body.fee;
        let tx = nodeop_client::tx::sign_tx(body, &self.key)?;
        let bytes = nodeop_client::tx::encode_tx(&tx)?;
        Ok(SentTx {
            hash: nodeop_app::tx::tx_hash(&bytes),
            bytes,
            nonce,
            fee: fee.to_string(),
            sent_height: h,
            included: false,
        })
    }

    /// The stored tx of a duty slot; the last of `other_txs` for [`TxSlot::Other`].
    fn take_tx(d: &mut Duty, which: TxSlot) -> Option<SentTx> {
        match which {
            TxSlot::Commit => d.commit_tx.take(),
            TxSlot::Reveal => d.reveal_tx.take(),
            TxSlot::Confirm => d.confirm_tx.take(),
            TxSlot::Other => d.other_txs.pop(),
        }
    }

    fn put_tx(d: &mut Duty, which: TxSlot, tx: Option<SentTx>) {
        match which {
            TxSlot::Commit => d.commit_tx = tx,
            TxSlot::Reveal => d.reveal_tx = tx,
            TxSlot::Confirm => d.confirm_tx = tx,
            TxSlot::Other => d.other_txs.extend(tx),
        }
    }

    /// Broadcasts a duty's stored tx (and stores what changed: a rebuilt nonce, inclusion).
    async fn send(&mut self, d: &mut Duty, which: TxSlot, h: u64) -> Result<()> {
        let mut holder = Self::take_tx(d, which);
        let result = self.broadcast(&mut holder, h, which.name()).await;
        Self::put_tx(d, which, holder);
        self.save(d, h)?;
        match result? {
            Sent::Accepted | Sent::Included => Ok(()),
            Sent::Refused(out) => {
                warn!(
                    task = d.task_id,
                    round = d.round,
                    "{} refused: {}/{} {}",
                    which.name(),
                    out.codespace,
                    out.code,
                    out.log
                );
                Ok(())
            }
        }
    }

    /// Sends a stored tx again if its effect has not shown up after `resend_after_blocks`,
    /// unless the chain already holds it.
    async fn resend_if_due(&mut self, d: &mut Duty, which: TxSlot, h: u64) -> Result<()> {
        let tx = Self::take_tx(d, which);
        Self::put_tx(d, which, tx.clone());
        let Some(tx) = tx else { return Ok(()) };
        if tx.included || h < tx.sent_height + self.policy.resend_after_blocks {
            return Ok(());
        }
        if let Some(inc) = self
            .chain
            .find_tx(&tx.hash, tx.sent_height.saturating_sub(1))
            .await?
        {
            if inc.code == 0 {
                return Ok(()); // included; the task record shows it at the next step
            }
            info!(
                task = d.task_id,
                "{} was included but failed ({}/{} {}); sending again",
                which.name(),
                inc.codespace,
                inc.code,
                inc.log
            );
        }
        info!(
            task = d.task_id,
            round = d.round,
            "{} not seen on chain after {} blocks; sending again",
            which.name(),
            h - tx.sent_height
        );
        self.send(d, which, h).await
    }

    /// Broadcasts `holder`'s tx; on a stale nonce, looks the tx up by hash and otherwise
    /// rebuilds it with the nonce the chain expects (same messages) — up to three times.
    async fn broadcast(&mut self, holder: &mut Option<SentTx>, h: u64, kind: &str) -> Result<Sent> {
        for _ in 0..3 {
            let Some(tx) = holder.as_mut() else {
                return Ok(Sent::Refused(CheckOutcome {
                    code: u32::MAX,
                    codespace: String::new(),
                    log: "nothing to send".into(),
                }));
            };
            tx.sent_height = h;
            let out = self.chain.broadcast(tx.bytes.clone()).await?;
            if out.accepted() {
                self.metrics.tx_sent(kind);
                if self.next_nonce.is_none_or(|n| n <= tx.nonce) {
                    self.next_nonce = Some(tx.nonce + 1);
                }
                return Ok(Sent::Accepted);
            }
            self.metrics.tx_refused(&out.codespace, out.code);
            if !is_nonce_error(&out) {
                // the nonce was not used: give it back if it was the last one handed out
                if self.next_nonce == Some(tx.nonce + 1) {
                    self.next_nonce = Some(tx.nonce);
                }
                return Ok(Sent::Refused(out));
            }
            if let Some(inc) = self.chain.find_tx(&tx.hash, h.saturating_sub(64)).await? {
                if inc.code == 0 {
                    tx.included = true;
                    return Ok(Sent::Included);
                }
            }
            let expected = match expected_nonce(&out.log) {
                Some(n) => n,
                None => chain::account_nonce(&self.chain, &self.address).await?,
            };
            info!(
                kind,
                stale = tx.nonce,
                nonce = expected,
                "stale nonce ({}); rebuilding the tx",
                out.log
            );
            let body: nodeop_app::tx::Tx =
                borsh::from_slice(&tx.bytes).context("decoding a stored tx")?;
            self.next_nonce = Some(expected + 1);
            *tx = self.sign(body.body.msgs, expected, h)?;
        }
        Ok(Sent::Refused(CheckOutcome {
            code: u32::MAX,
            codespace: "tx".into(),
            log: "the nonce stayed stale after three rebuilds".into(),
        }))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TxSlot {
    Commit,
    Reveal,
    Confirm,
    Other,
}

impl TxSlot {
    fn name(self) -> &'static str {
        match self {
            TxSlot::Commit => "commit",
            TxSlot::Reveal => "reveal",
            TxSlot::Confirm => "confirm",
            TxSlot::Other => "auction",
        }
    }
}

/// `tx` codespace, `nonce_replayed` (7) or `nonce_gap` (8).
pub fn is_nonce_error(out: &CheckOutcome) -> bool {
    use nodeop_app::error::TxError;
    let replayed = TxError::NonceReplayed {
        expected: 0,
        got: 0,
    }
    .code();
    let gap = TxError::NonceGap {
        expected: 0,
        got: 0,
    }
    .code();
    out.codespace == nodeop_app::error::CODESPACE_TX && (out.code == replayed || out.code == gap)
}

/// The nonce a refusal names ("… the account's next nonce is N" / "… next nonce N").
pub fn expected_nonce(log: &str) -> Option<u64> {
    let i = log.find("next nonce")?;
    log[i + "next nonce".len()..]
        .split(|c: char| !c.is_ascii_digit())
        .find(|s| !s.is_empty())?
        .parse()
        .ok()
}

/// The SHA-256 of a result (for logs).
pub fn result_hash(result: &[u8]) -> [u8; 32] {
    sha256(&[result])
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn the_expected_nonce_is_read_from_the_refusal() {
        assert_eq!(
            expected_nonce(
                "nonce_replayed: nonce 3 was already used; the account's next nonce is 5"
            ),
            Some(5)
        );
        assert_eq!(
            expected_nonce("nonce 9 is ahead of the account's next nonce 7"),
            Some(7)
        );
        assert_eq!(expected_nonce("fee too low"), None);
    }
}
