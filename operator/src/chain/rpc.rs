//! A CometBFT node over its HTTP RPC, with the client library's functions.
//!
//! New blocks are found by polling `/abci_info` (the application's committed height) and read
//! with `/block_results` height by height from the last one the agent fully processed — the
//! same path after a start, a dropped connection or a slow step, so no height is ever skipped.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::{anyhow, Result};
use nodeop_client::node::{self, rpc_message, QueryRefused};
use nodeop_client::ClientError;
use tendermint::block::Height;
use tendermint::hash::{Algorithm, Hash};
use tendermint_rpc::{Client, HttpClient};

use super::{Chain, ChainEvent, CheckOutcome, IncludedTx};

pub struct RpcChain {
    client: HttpClient,
    url: String,
    connected: Arc<AtomicBool>,
}

impl RpcChain {
    pub fn connect(url: &str) -> Result<Self> {
        Ok(Self {
            client: node::connect(url)?,
            url: url.to_string(),
            connected: Arc::new(AtomicBool::new(false)),
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Whether the last request reached the node.
    pub fn connection_flag(&self) -> Arc<AtomicBool> {
        self.connected.clone()
    }

    fn mark<T>(&self, r: Result<T>) -> Result<T> {
        self.connected.store(r.is_ok(), Ordering::Relaxed);
        r
    }
}

fn events_of(events: &[tendermint::abci::Event]) -> Vec<ChainEvent> {
    events
        .iter()
        .map(|e| ChainEvent {
            kind: e.kind.clone(),
            attributes: e
                .attributes
                .iter()
                .map(|a| {
                    (
                        String::from_utf8_lossy(a.key_bytes()).into_owned(),
                        String::from_utf8_lossy(a.value_bytes()).into_owned(),
                    )
                })
                .collect(),
        })
        .collect()
}

impl Chain for RpcChain {
    async fn chain_id(&self) -> Result<String> {
        let r = node::node_chain_id(&self.client).await;
        self.mark(r)
    }

    async fn committed_height(&self) -> Result<u64> {
        let r = node::app_height(&self.client).await;
        self.mark(r)
    }

    async fn block_events(&self, height: u64) -> Result<Vec<ChainEvent>> {
        let h = Height::try_from(height).map_err(|e| anyhow!("height {height}: {e}"))?;
        let r = self
            .client
            .block_results(h)
            .await
            .map_err(|e| node::rpc_error(e, &format!("block_results {height}")));
        let r = self.mark(r)?;
        let mut out = events_of(&r.finalize_block_events);
        out.extend(events_of(&r.begin_block_events.unwrap_or_default()));
        for tx in r.txs_results.unwrap_or_default() {
            // a failed tx applied nothing
            if tx.code.is_ok() {
                out.extend(events_of(&tx.events));
            }
        }
        out.extend(events_of(&r.end_block_events.unwrap_or_default()));
        Ok(out)
    }

    async fn query(&self, path: &str) -> Result<Option<Vec<u8>>> {
        match node::abci_query(&self.client, path, Vec::new(), None, false).await {
            Ok(r) => {
                self.connected.store(true, Ordering::Relaxed);
                Ok(Some(r.value))
            }
            Err(e) => match e.downcast_ref::<QueryRefused>() {
                Some(q) if q.is_not_found() => {
                    self.connected.store(true, Ordering::Relaxed);
                    Ok(None)
                }
                Some(_) => Err(e),
                None => self.mark(Err(e)),
            },
        }
    }

    async fn broadcast(&self, tx: Vec<u8>) -> Result<CheckOutcome> {
        match self.client.broadcast_tx_sync(tx).await {
            Ok(r) => {
                self.connected.store(true, Ordering::Relaxed);
                Ok(CheckOutcome {
                    code: r.code.value(),
                    codespace: r.codespace,
                    log: r.log,
                })
            }
            Err(e) => {
                let text = rpc_message(&e);
                // CometBFT's mempool cache: the same bytes were accepted before
                if text.contains("tx already exists in cache") {
                    self.connected.store(true, Ordering::Relaxed);
                    return Ok(CheckOutcome {
                        code: 0,
                        codespace: String::new(),
                        log: "already in the node's mempool cache".into(),
                    });
                }
                self.mark(Err(node::rpc_error(e, "broadcast_tx_sync")))
            }
        }
    }

    async fn find_tx(&self, hash: &[u8; 32], since: u64) -> Result<Option<IncludedTx>> {
        let h = Hash::from_bytes(Algorithm::Sha256, hash).map_err(|e| anyhow!("{e}"))?;
        let to_included = |r: node::TxResult| IncludedTx {
            height: r.height,
            code: r.code,
            codespace: r.codespace,
            log: r.log,
            events: r
                .events
                .iter()
                .map(|e| ChainEvent {
                    kind: e.kind.clone(),
                    attributes: e
                        .attributes
                        .iter()
                        .map(|a| (a.key.clone(), a.value.clone()))
                        .collect(),
                })
                .collect(),
        };
        match node::fetch_tx(&self.client, &h).await {
            Ok(Some(r)) => return Ok(Some(to_included(node::TxResult::from_response(&r)))),
            Ok(None) => return Ok(None),
            Err(e) if ClientError::find(&e) == Some(ClientError::TxIndexDisabled) => {}
            Err(e) => return self.mark(Err(e)),
        }
        // no tx index: read the blocks since the tx was sent
        let latest = self.committed_height().await?;
        for height in since.saturating_add(1)..=latest {
            if let Some((r, _)) = node::find_tx_in_block(&self.client, &h, height).await? {
                return Ok(Some(to_included(r)));
            }
        }
        Ok(None)
    }
}
