//! The chain as the agent sees it: heights, each block's events, queries, broadcast and tx
//! lookup. [`rpc::RpcChain`] is a CometBFT node over its RPC; the tests run the same agent over
//! an in-process chain (`in_process`, compiled for tests only, so the binary never links the
//! app's test driver).
//!
//! The agent never guesses from timing: tasks, rounds, auctions and windows come from block
//! events (the triggers) and from the chain's queries (the truth).

use std::time::Duration;

use anyhow::{Context, Result};
use nodeop_app::crypto::Address;
use nodeop_app::modules::coprocessors::Auction;
use nodeop_app::modules::tasks::state::Task;
use nodeop_app::modules::tasks::TasksParams;
use nodeop_app::params::TxParams;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

#[cfg(test)]
pub mod in_process;
pub mod rpc;

/// One event of a block (FinalizeBlock's own events and those of its successful txs).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainEvent {
    pub kind: String,
    pub attributes: Vec<(String, String)>,
}

impl ChainEvent {
    /// An event from its kind and (key, value) attribute pairs.
    pub fn from_pairs<'a>(
        kind: &str,
        attributes: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Self {
        Self {
            kind: kind.to_string(),
            attributes: attributes
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn get_u64(&self, key: &str) -> Option<u64> {
        self.get(key)?.parse().ok()
    }
}

/// What CheckTx said about a broadcast tx.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckOutcome {
    pub code: u32,
    pub codespace: String,
    pub log: String,
}

impl CheckOutcome {
    pub fn accepted(&self) -> bool {
        self.code == 0
    }
}

/// A tx found in a block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IncludedTx {
    pub height: u64,
    pub code: u32,
    pub codespace: String,
    pub log: String,
    pub events: Vec<ChainEvent>,
}

/// The chain behind the agent.
#[allow(async_fn_in_trait)]
pub trait Chain {
    /// The chain id the node serves.
    async fn chain_id(&self) -> Result<String>;
    /// The last height the node's application has committed: a tx sent now is checked for the
    /// block after it.
    async fn committed_height(&self) -> Result<u64>;
    /// The events of block `height` (an error if its results are not available yet).
    async fn block_events(&self, height: u64) -> Result<Vec<ChainEvent>>;
    /// A query's answer at the latest height; `None` when the record does not exist.
    async fn query(&self, path: &str) -> Result<Option<Vec<u8>>>;
    /// Broadcasts a signed tx and returns CheckTx's verdict.
    async fn broadcast(&self, tx: Vec<u8>) -> Result<CheckOutcome>;
    /// The tx with this hash, if a block after `since` holds it.
    async fn find_tx(&self, hash: &[u8; 32], since: u64) -> Result<Option<IncludedTx>>;
    /// Returns when a block after `height` is committed, or after `timeout` (the polling path;
    /// an implementation with a subscription returns as soon as a block arrives).
    async fn wait_for_block(&self, height: u64, timeout: Duration) -> Result<()> {
        let deadline = tokio::time::Instant::now() + timeout;
        while tokio::time::Instant::now() < deadline {
            if self.committed_height().await? > height {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        Ok(())
    }
}

/// Typed reads over any [`Chain`] (the same query paths as the client's reads).
pub async fn query_json<C: Chain, T: DeserializeOwned>(chain: &C, path: &str) -> Result<Option<T>> {
    match chain.query(path).await? {
        None => Ok(None),
        Some(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .with_context(|| format!("the answer to {path} does not decode")),
    }
}

pub async fn task<C: Chain>(chain: &C, id: u64) -> Result<Option<Task>> {
    query_json(chain, &format!("/tasks/task/{id}")).await
}

pub async fn tasks_params<C: Chain>(chain: &C) -> Result<TasksParams> {
    query_json(chain, "/tasks/params")
        .await?
        .context("the node has no tasks params")
}

pub async fn account_nonce<C: Chain>(chain: &C, address: &Address) -> Result<u64> {
    let view: Option<nodeop_client::node::AccountView> =
        query_json(chain, &format!("/account/{address}")).await?;
    Ok(view.map(|v| v.nonce).unwrap_or(0))
}

pub async fn tx_params<C: Chain>(chain: &C) -> Result<TxParams> {
    let all: serde_json::Value = query_json(chain, "/params")
        .await?
        .context("the node answered no /params")?;
    serde_json::from_value(
        all.get("tx")
            .cloned()
            .context("/params has no tx section")?,
    )
    .context("the node's tx params do not decode")
}

pub async fn auction<C: Chain>(chain: &C, id: u64) -> Result<Option<Auction>> {
    query_json(chain, &format!("/coprocessors/auction/{id}")).await
}

/// Auctions of `task` (all statuses), optionally of one member.
pub async fn auctions_of_task<C: Chain>(
    chain: &C,
    task: u64,
    member: Option<&Address>,
) -> Result<Vec<Auction>> {
    let filter = nodeop_client::coprocessors::AuctionFilter {
        open_only: false,
        task: Some(task),
        member: member.copied(),
        coprocessor: None,
    };
    let path = nodeop_client::coprocessors::auctions_path(&filter, None, None);
    let page: Option<nodeop_client::node::Page<Auction>> = query_json(chain, &path).await?;
    Ok(page.map(|p| p.items).unwrap_or_default())
}

pub async fn auction_price<C: Chain>(
    chain: &C,
    id: u64,
) -> Result<Option<nodeop_client::coprocessors::AuctionPriceView>> {
    query_json(chain, &format!("/coprocessors/price/{id}")).await
}
