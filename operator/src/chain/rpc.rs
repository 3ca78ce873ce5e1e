//! A CometBFT node over its HTTP RPC, with the client library's functions.
//!
//! New blocks wake the agent through a `tm.event='NewBlock'` subscription on the node's
//! websocket (`/websocket`), kept open by a background task that reconnects with a backoff;
//! while it is down the agent polls `/abci_info` (the application's committed height) instead.
//! Either way a block is only a wake-up: the agent reads `/block_results` height by height from
//! the last one it fully processed — the same path after a start, a dropped connection or a
//! slow step, so no height is ever skipped.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, Result};
use futures::StreamExt;
use nodeop_client::node::{self, rpc_message, QueryRefused};
use nodeop_client::ClientError;
use tendermint::block::Height;
use tendermint::hash::{Algorithm, Hash};
use tendermint_rpc::event::EventData;
use tendermint_rpc::query::EventType;
use tendermint_rpc::{Client, HttpClient, SubscriptionClient, WebSocketClient};
use tokio::sync::watch;
use tracing::{debug, info, warn};

use super::{Chain, ChainEvent, CheckOutcome, IncludedTx};

pub struct RpcChain {
    client: HttpClient,
    url: String,
    connected: Arc<AtomicBool>,
    /// The latest height a websocket NewBlock event announced (0 before the first).
    new_blocks: watch::Receiver<u64>,
    /// Whether the websocket subscription is up now.
    subscribed: Arc<AtomicBool>,
}

impl RpcChain {
    /// An RPC chain that only polls.
    pub fn connect(url: &str) -> Result<Self> {
        let (_, new_blocks) = watch::channel(0);
        Ok(Self {
            client: node::connect(url)?,
            url: url.to_string(),
            connected: Arc::new(AtomicBool::new(false)),
            new_blocks,
            subscribed: Arc::new(AtomicBool::new(false)),
        })
    }

    /// An RPC chain woken by the node's websocket: starts the background task that keeps the
    /// `NewBlock` subscription open (it ends with the runtime).
    pub fn connect_with_websocket(url: &str) -> Result<Self> {
        let mut chain = Self::connect(url)?;
        let ws_url = websocket_url(url)?;
        let (tx, rx) = watch::channel(0);
        chain.new_blocks = rx;
        tokio::spawn(keep_subscribed(ws_url, tx, chain.subscribed.clone()));
        Ok(chain)
    }

    /// Whether new blocks arrive over the websocket now (else the agent polls).
    pub fn subscription_flag(&self) -> Arc<AtomicBool> {
        self.subscribed.clone()
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

/// `http://host:port[/]` → `ws://host:port/websocket` (`https` → `wss`).
pub fn websocket_url(rpc: &str) -> Result<String> {
    let (scheme, rest) = rpc
        .split_once("://")
        .ok_or_else(|| anyhow!("the RPC address {rpc} has no scheme (http:// or https://)"))?;
    let ws = match scheme {
        "http" | "tcp" => "ws",
        "https" => "wss",
        other => {
            return Err(anyhow!(
                "the RPC address {rpc} has scheme {other}, not http(s)"
            ))
        }
    };
    Ok(format!("{ws}://{}/websocket", rest.trim_end_matches('/')))
}

/// Keeps a `NewBlock` subscription open, publishing each announced height; reconnects with a
/// backoff (1 s doubling to 30 s) whenever it drops.
async fn keep_subscribed(url: String, heights: watch::Sender<u64>, up: Arc<AtomicBool>) {
    let mut backoff = Duration::from_secs(1);
    loop {
        match WebSocketClient::new(url.as_str()).await {
            Ok((client, driver)) => {
                let driver = tokio::spawn(driver.run());
                match client.subscribe(EventType::NewBlock.into()).await {
                    Ok(mut sub) => {
                        up.store(true, Ordering::Relaxed);
                        backoff = Duration::from_secs(1);
                        info!(url = %url, "subscribed to new blocks over the websocket");
                        while let Some(ev) = sub.next().await {
                            match ev {
                                Ok(ev) => {
                                    let height = match &ev.data {
                                        EventData::NewBlock { block: Some(b), .. }
                                        | EventData::LegacyNewBlock { block: Some(b), .. } => {
                                            b.header.height.value()
                                        }
                                        _ => continue,
                                    };
                                    heights.send_replace(height);
                                }
                                Err(e) => {
                                    warn!("the websocket subscription failed: {e}");
                                    break;
                                }
                            }
                        }
                        up.store(false, Ordering::Relaxed);
                        warn!("the websocket subscription ended; polling until it is back");
                    }
                    Err(e) => debug!("subscribing over {url}: {e}"),
                }
                let _ = client.close();
                driver.abort();
            }
            Err(e) => debug!("connecting to {url}: {e}"),
        }
        if heights.is_closed() {
            return;
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(30));
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

    /// Wakes on the websocket's next block, checking the application's committed height each
    /// time (and every second anyway); polls every 200 ms while the subscription is down.
    async fn wait_for_block(&self, height: u64, timeout: Duration) -> Result<()> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut blocks = self.new_blocks.clone();
        while tokio::time::Instant::now() < deadline {
            blocks.mark_unchanged();
            if self.committed_height().await? > height {
                return Ok(());
            }
            let nap = if self.subscribed.load(Ordering::Relaxed) {
                Duration::from_secs(1)
            } else {
                Duration::from_millis(200)
            };
            let until = deadline.min(tokio::time::Instant::now() + nap);
            let _ = tokio::time::timeout_at(until, blocks.changed()).await;
        }
        Ok(())
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
                .map(|e| {
                    ChainEvent::from_pairs(
                        &e.kind,
                        e.attributes
                            .iter()
                            .map(|a| (a.key.as_str(), a.value.as_str())),
                    )
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

#[cfg(test)]
mod tests {
    use super::websocket_url;

    #[test]
    fn the_websocket_address_is_derived_from_the_rpc_address() {
        assert_eq!(
            websocket_url("http://127.0.0.1:26657").unwrap(),
            "ws://127.0.0.1:26657/websocket"
        );
        assert_eq!(
            websocket_url("https://rpc.example.org/").unwrap(),
            "wss://rpc.example.org/websocket"
        );
        assert_eq!(
            websocket_url("tcp://127.0.0.1:26657").unwrap(),
            "ws://127.0.0.1:26657/websocket"
        );
        assert!(websocket_url("127.0.0.1:26657").is_err());
        assert!(websocket_url("ftp://x").is_err());
    }
}
