//! Talking to a node: CometBFT RPC (`abci_query`, `broadcast_tx_sync`, `tx`, `status`).
//!
//! Every function takes a [`HttpClient`] so tests can reuse them with their own client
//! (build one with [`connect`]: CometBFT v0.38 compatibility mode, a request timeout).

use std::fmt::Write as _;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use nodeop_app::crypto::Address;
use nodeop_app::params::TxParams;
use nodeop_app::tx::{Msg, Tx};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tendermint::abci::Event;
use tendermint::block::Height;
use tendermint::hash::{Algorithm, Hash};
use tendermint_rpc::client::CompatMode;
use tendermint_rpc::endpoint::abci_query::AbciQuery;
use tendermint_rpc::{Client, HttpClient, HttpClientUrl};

use crate::error::ClientError;
use crate::keys::KeyPair;
use crate::tx::{build_tx, encode_tx, sign_tx, tx_hash_hex};

pub const DEFAULT_NODE: &str = "http://127.0.0.1:26657";
/// Time limit of one RPC request.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// How often to ask whether a tx or a block has arrived.
pub const POLL_INTERVAL: Duration = Duration::from_millis(400);

/// An HTTP RPC client for a CometBFT v0.38 node.
pub fn connect(url: &str) -> Result<HttpClient> {
    let parsed: HttpClientUrl = url.parse().map_err(|e: tendermint_rpc::Error| {
        anyhow!(
            "node URL {url:?} is not an http(s) URL: {}",
            rpc_message(&e)
        )
    })?;
    HttpClient::builder(parsed)
        .compat_mode(CompatMode::V0_38)
        .timeout(REQUEST_TIMEOUT)
        .build()
        .map_err(|e| anyhow!("creating an RPC client for {url}: {}", rpc_message(&e)))
}

/// An RPC error as one readable line. (`tendermint_rpc::Error`'s own `Display` carries an eyre
/// trace, with a backtrace when RUST_BACKTRACE is set; its detail is the message.) Most RPC
/// failures mean "the node is not there", so say where to look.
pub fn rpc_error(e: tendermint_rpc::Error, what: &str) -> anyhow::Error {
    anyhow!(
        "{what}: {} (is the node running, and is --node / NODEOP_NODE right?)",
        rpc_message(&e)
    )
}

/// The messages of an RPC error's cause chain, joined by ": ", without trace or backtrace.
pub fn rpc_message(e: &tendermint_rpc::Error) -> String {
    let parts: Vec<String> = e.1.chain().map(|c| c.to_string()).collect();
    if parts.is_empty() {
        e.detail().to_string()
    } else {
        parts.join(": ")
    }
}

/// The chain id the node reports in `/status`.
pub async fn node_chain_id(client: &HttpClient) -> Result<String> {
    let status = client
        .status()
        .await
        .map_err(|e| rpc_error(e, "asking the node for /status"))?;
    Ok(status.node_info.network.to_string())
}

/// An ABCI query that the app answered with code 0.
pub async fn abci_query(
    client: &HttpClient,
    path: &str,
    data: Vec<u8>,
    height: Option<u64>,
    prove: bool,
) -> Result<AbciQuery> {
    let height = match height {
        Some(h) => Some(Height::try_from(h).map_err(|e| anyhow!("height {h}: {e}"))?),
        None => None,
    };
    let resp = client
        .abci_query(Some(path.to_string()), data, height, prove)
        .await
        .map_err(|e| rpc_error(e, &format!("abci_query {path}")))?;
    if resp.code.is_err() {
        return Err(QueryRefused {
            path: path.to_string(),
            codespace: resp.codespace,
            code: resp.code.value(),
            log: resp.log,
        }
        .into());
    }
    Ok(resp)
}

/// The app answered a query with a non-zero code (docs/errors.md, codespace `query`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("query {path} failed: codespace {codespace:?} code {code}: {log}")]
pub struct QueryRefused {
    pub path: String,
    pub codespace: String,
    pub code: u32,
    pub log: String,
}

impl QueryRefused {
    /// The node does not know the query path (an older node).
    pub fn is_unknown_path(&self) -> bool {
        self.codespace == nodeop_app::error::CODESPACE_QUERY
            && self.code == nodeop_app::error::QueryError::UnknownPath(String::new()).code()
    }

    /// `query` code 4 (`not_found`): no such record.
    pub fn is_not_found(&self) -> bool {
        self.codespace == nodeop_app::error::CODESPACE_QUERY
            && self.code == nodeop_app::error::QueryError::NotFound(String::new()).code()
    }
}

/// The `/account/{address}` answer (one definition, in the app).
pub use nodeop_app::modules::bank::query::AccountView;

/// An account's balance and next nonce (at `height`, latest if `None`), and the height answered.
pub async fn query_account(
    client: &HttpClient,
    address: &Address,
    height: Option<u64>,
) -> Result<(AccountView, u64)> {
    let resp = abci_query(
        client,
        &format!("/account/{address}"),
        Vec::new(),
        height,
        false,
    )
    .await?;
    let view: AccountView = serde_json::from_slice(&resp.value).with_context(|| {
        format!(
            "the node's /account answer is not an account: {}",
            String::from_utf8_lossy(&resp.value)
        )
    })?;
    if view.address != *address {
        bail!(
            "the node answered for account {} instead of {address}",
            view.address
        );
    }
    Ok((view, resp.height.value()))
}

/// The nonce `address`'s next tx must carry at this node: `/pending/account/{address}` counts the
/// account's txs already in the node's mempool, so several txs can be sent back to back (a node
/// without that path answers with the committed nonce).
pub async fn next_nonce(client: &HttpClient, address: &Address) -> Result<u64> {
    let path = format!("/pending/account/{address}");
    match query_json::<nodeop_app::query::PendingAccountView>(client, &path, None).await {
        Ok((view, _)) if view.address == *address => Ok(view.nonce),
        Ok((view, _)) => bail!(
            "the node answered for account {} instead of {address}",
            view.address
        ),
        Err(e)
            if e.downcast_ref::<QueryRefused>()
                .is_some_and(QueryRefused::is_unknown_path) =>
        {
            Ok(query_account(client, address, None).await?.0.nonce)
        }
        Err(e) => Err(e),
    }
}

/// The chain's tx params (`/params` → `tx`).
pub async fn query_tx_params(client: &HttpClient) -> Result<TxParams> {
    let resp = abci_query(client, "/params", Vec::new(), None, false).await?;
    let all: serde_json::Value =
        serde_json::from_slice(&resp.value).context("the node's /params answer is not JSON")?;
    let tx = all
        .get("tx")
        .cloned()
        .ok_or_else(|| anyhow!("the node's /params answer has no \"tx\" section"))?;
    serde_json::from_value(tx).context("the node's tx params do not decode")
}

/// One ABCI event, with its attributes as text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EventView {
    #[serde(rename = "type")]
    pub kind: String,
    pub attributes: Vec<AttributeView>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AttributeView {
    pub key: String,
    pub value: String,
}

impl From<&Event> for EventView {
    fn from(e: &Event) -> Self {
        EventView {
            kind: e.kind.clone(),
            attributes: e
                .attributes
                .iter()
                .map(|a| AttributeView {
                    key: String::from_utf8_lossy(a.key_bytes()).into_owned(),
                    value: String::from_utf8_lossy(a.value_bytes()).into_owned(),
                })
                .collect(),
        }
    }
}

/// What CheckTx said.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CheckTxResult {
    pub code: u32,
    pub codespace: String,
    pub log: String,
}

/// A tx's result in a block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TxResult {
    pub height: u64,
    pub index: u32,
    pub code: u32,
    pub codespace: String,
    pub log: String,
    pub events: Vec<EventView>,
}

impl TxResult {
    pub fn from_response(r: &tendermint_rpc::endpoint::tx::Response) -> Self {
        TxResult {
            height: r.height.value(),
            index: r.index,
            code: r.tx_result.code.value(),
            codespace: r.tx_result.codespace.clone(),
            log: r.tx_result.log.clone(),
            events: r.tx_result.events.iter().map(EventView::from).collect(),
        }
    }
}

/// The fate of a broadcast tx.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TxOutcome {
    /// SHA-256 of the tx bytes, upper-case hex.
    pub hash: String,
    pub check_tx: CheckTxResult,
    /// The block result, if we waited and the tx was included.
    pub included: Option<TxResult>,
}

impl TxOutcome {
    /// CheckTx accepted the tx into the mempool.
    pub fn accepted(&self) -> bool {
        self.check_tx.code == 0
    }

    /// Included with code 0.
    pub fn succeeded(&self) -> bool {
        self.accepted() && self.included.as_ref().is_some_and(|r| r.code == 0)
    }

    /// A [`ClientError::TxFailed`] if CheckTx refused the tx or it failed in its block (a tx
    /// not waited for is not failed).
    pub fn check(&self) -> Result<(), ClientError> {
        if !self.accepted() {
            return Err(ClientError::TxFailed(format!(
                "CheckTx refused the tx: codespace {:?} code {}: {}",
                self.check_tx.codespace, self.check_tx.code, self.check_tx.log
            )));
        }
        match &self.included {
            Some(r) if r.code != 0 => Err(ClientError::TxFailed(format!(
                "the tx failed in block {}: codespace {:?} code {}: {} (the fee was charged)",
                r.height, r.codespace, r.code, r.log
            ))),
            _ => Ok(()),
        }
    }
}

/// The value of attribute `key` of the first event of type `kind` in an included tx.
pub fn event_attribute(outcome: &TxOutcome, kind: &str, key: &str) -> Option<String> {
    outcome
        .included
        .as_ref()?
        .events
        .iter()
        .filter(|e| e.kind == kind)
        .flat_map(|e| &e.attributes)
        .find(|a| a.key == key)
        .map(|a| a.value.clone())
}

/// One page of a listing (one definition, in the app).
pub use nodeop_app::query::Page;

/// A JSON answer of `path` (at `height`, latest if `None`) and the height it is for.
pub async fn query_json<T: DeserializeOwned>(
    client: &HttpClient,
    path: &str,
    height: Option<u64>,
) -> Result<(T, u64)> {
    let resp = abci_query(client, path, Vec::new(), height, false).await?;
    let value = serde_json::from_slice(&resp.value).with_context(|| {
        format!(
            "the node's {path} answer does not decode: {}",
            String::from_utf8_lossy(&resp.value)
        )
    })?;
    Ok((value, resp.height.value()))
}

/// Appends `key=value` to a query path when `value` is given: after `?` for the path's first
/// parameter, after `&` for the others.
pub fn push_query_param(path: &mut String, key: &str, value: Option<impl std::fmt::Display>) {
    if let Some(v) = value {
        let sep = if path.contains('?') { '&' } else { '?' };
        write!(path, "{sep}{key}={v}").ok();
    }
}

/// An outcome included with code 0 whose only event is `kind` with attribute `key` = `value`.
#[cfg(test)]
pub(crate) fn outcome_with_event(kind: &str, key: &str, value: &str) -> TxOutcome {
    TxOutcome {
        hash: String::new(),
        check_tx: CheckTxResult {
            code: 0,
            codespace: String::new(),
            log: String::new(),
        },
        included: Some(TxResult {
            height: 5,
            index: 0,
            code: 0,
            codespace: String::new(),
            log: String::new(),
            events: vec![EventView {
                kind: kind.into(),
                attributes: vec![AttributeView {
                    key: key.into(),
                    value: value.into(),
                }],
            }],
        }),
    }
}

pub fn parse_tx_hash(hex_str: &str) -> Result<Hash> {
    let s = hex_str.trim();
    let s = s.strip_prefix("0x").unwrap_or(s);
    let bytes = hex::decode(s).map_err(|_| anyhow!("tx hash {hex_str:?} is not hex"))?;
    Hash::from_bytes(Algorithm::Sha256, &bytes)
        .map_err(|_| anyhow!("a tx hash is 32 bytes (64 hex digits), got {}", bytes.len()))
}

/// A tx by hash from the node's tx index (`/tx`): `Ok(None)` if the index does not know it
/// (yet), an error if the node does not index txs at all.
pub async fn fetch_tx(
    client: &HttpClient,
    hash: &Hash,
) -> Result<Option<tendermint_rpc::endpoint::tx::Response>> {
    match client.tx(*hash, false).await {
        Ok(r) => Ok(Some(r)),
        Err(e) => {
            let text = rpc_message(&e);
            if text.contains("not found") {
                Ok(None)
            } else if text.contains("indexing is disabled") {
                Err(ClientError::TxIndexDisabled.into())
            } else {
                Err(rpc_error(e, &format!("looking up tx {hash}")))
            }
        }
    }
}

/// Looks for a tx in one block (`/block`, then `/block_results` for its result): the result
/// and the tx bytes, or `None` if the block does not hold it. Works without the tx index. A
/// [`ClientError::ResultsNotReady`] error when the block holds the tx but its results are not saved yet.
pub async fn find_tx_in_block(
    client: &HttpClient,
    hash: &Hash,
    height: u64,
) -> Result<Option<(TxResult, Vec<u8>)>> {
    let h = Height::try_from(height).map_err(|e| anyhow!("height {height}: {e}"))?;
    let block = client
        .block(h)
        .await
        .map_err(|e| rpc_error(e, &format!("fetching block {height}")))?;
    let Some(index) = block
        .block
        .data
        .iter()
        .position(|tx| nodeop_app::tx::tx_hash(tx).as_slice() == hash.as_bytes())
    else {
        return Ok(None);
    };
    let results = client.block_results(h).await.map_err(|e| {
        if rpc_message(&e).contains("could not find results for height") {
            ClientError::ResultsNotReady(height).into()
        } else {
            rpc_error(e, &format!("fetching the results of block {height}"))
        }
    })?;
    let r = results
        .txs_results
        .unwrap_or_default()
        .into_iter()
        .nth(index)
        .ok_or_else(|| anyhow!("block {height} holds tx {hash} but its results do not"))?;
    let result = TxResult {
        height,
        index: index as u32,
        code: r.code.value(),
        codespace: r.codespace,
        log: r.log,
        events: r.events.iter().map(EventView::from).collect(),
    };
    Ok(Some((result, block.block.data[index].clone())))
}

/// The node's latest block height.
pub async fn latest_height(client: &HttpClient) -> Result<u64> {
    let status = client
        .status()
        .await
        .map_err(|e| rpc_error(e, "asking the node for /status"))?;
    Ok(status.sync_info.latest_block_height.value())
}

/// The last height the node's application has committed (`/abci_info`). CometBFT stores a block
/// and reports it in `/status` before the application has committed it, so a tx sent when
/// `/status` first shows height h may still be checked as if for block h: wait on this height
/// when a tx must land after h.
pub async fn app_height(client: &HttpClient) -> Result<u64> {
    let info = client
        .abci_info()
        .await
        .map_err(|e| rpc_error(e, "asking the node for /abci_info"))?;
    Ok(info.last_block_height.value())
}

/// The time of the node's latest block, unix seconds (the chain's clock: deadlines are compared
/// with block times, not with the local clock).
pub async fn latest_block_time(client: &HttpClient) -> Result<i64> {
    let status = client
        .status()
        .await
        .map_err(|e| rpc_error(e, "asking the node for /status"))?;
    Ok(status.sync_info.latest_block_time.unix_timestamp())
}

/// Waits up to `timeout` for a tx to be in a block after `after_height`. Asks the tx index
/// (`/tx`) and also reads each new block, so it works when the node's tx index is off or
/// failing.
pub async fn wait_for_tx(
    client: &HttpClient,
    hash: &Hash,
    after_height: u64,
    timeout: Duration,
) -> Result<TxResult> {
    let deadline = tokio::time::Instant::now() + timeout;
    let mut next = after_height.saturating_add(1);
    let mut use_index = true;
    loop {
        if use_index {
            match fetch_tx(client, hash).await {
                Ok(Some(r)) => return Ok(TxResult::from_response(&r)),
                Ok(None) => {}
                Err(e) if ClientError::find(&e) == Some(ClientError::TxIndexDisabled) => {
                    use_index = false
                }
                Err(e) => return Err(e),
            }
        }
        let latest = latest_height(client).await?;
        while next <= latest {
            match find_tx_in_block(client, hash, next).await {
                Ok(Some((result, _))) => return Ok(result),
                Ok(None) => next += 1,
                // the tx is in block `next`, whose results are not saved yet: ask again after
                // the pause (or time out below, naming the block)
                Err(e)
                    if matches!(ClientError::find(&e), Some(ClientError::ResultsNotReady(_))) =>
                {
                    break
                }
                Err(e) => return Err(e),
            }
        }
        if tokio::time::Instant::now() >= deadline {
            bail!(
                "tx {hash} passed CheckTx but was not in a block within {} s (blocks {}..={latest} checked); it may still be included: `nodeop query tx {hash}`",
                timeout.as_secs(),
                after_height.saturating_add(1),
            );
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// Broadcasts with `broadcast_tx_sync`; if CheckTx accepts and `wait` is given, waits until the
/// tx is in a block (an error if it is not within `wait`). A CheckTx rejection is not an error:
/// it is in the outcome (`check_tx.code != 0`), so callers can look at codes.
pub async fn broadcast_and_wait(
    client: &HttpClient,
    tx_bytes: Vec<u8>,
    wait: Option<Duration>,
) -> Result<TxOutcome> {
    let expected_hash = tx_hash_hex(&tx_bytes);
    let before = match wait {
        Some(_) => latest_height(client).await?,
        None => 0,
    };
    let resp = client
        .broadcast_tx_sync(tx_bytes)
        .await
        .map_err(|e| rpc_error(e, "broadcast_tx_sync"))?;
    let hash = resp.hash.to_string();
    if hash != expected_hash {
        bail!("the node reports tx hash {hash}, expected {expected_hash}");
    }
    let check_tx = CheckTxResult {
        code: resp.code.value(),
        codespace: resp.codespace,
        log: resp.log,
    };
    let mut outcome = TxOutcome {
        hash,
        check_tx,
        included: None,
    };
    if outcome.accepted() {
        if let Some(timeout) = wait {
            outcome.included = Some(wait_for_tx(client, &resp.hash, before, timeout).await?);
        }
    }
    Ok(outcome)
}

/// Options of [`submit`] and [`send`]; `None` fields are asked from the node.
#[derive(Clone, Debug, Default)]
pub struct TxOptions {
    pub chain_id: Option<String>,
    pub nonce: Option<u64>,
    pub fee: Option<u128>,
    pub memo: String,
    /// Wait for inclusion up to this long (`None`: return after CheckTx).
    pub wait: Option<Duration>,
}

/// The chain id, nonce and tx params a tx from `signer` needs, asking the node for what
/// `opts` leaves open.
pub async fn tx_context(
    client: &HttpClient,
    signer: &Address,
    opts: &TxOptions,
) -> Result<(String, u64, TxParams)> {
    let chain_id = match &opts.chain_id {
        Some(c) => c.clone(),
        None => node_chain_id(client).await?,
    };
    let nonce = match opts.nonce {
        Some(n) => n,
        None => next_nonce(client, signer).await?,
    };
    let params = query_tx_params(client).await?;
    Ok((chain_id, nonce, params))
}

/// Every tx's path: asks the node what is missing (chain id, nonce, params), builds the tx
/// ([`build_tx`]: each message checked as the chain will), signs it, broadcasts it and, with
/// `opts.wait`, waits for its block. Returns the signed tx and its outcome; a refusal by
/// CheckTx or a failure in the block is in the outcome, not an error.
pub async fn submit(
    client: &HttpClient,
    key: &KeyPair,
    msgs: Vec<Msg>,
    opts: &TxOptions,
) -> Result<(Tx, TxOutcome)> {
    let (chain_id, nonce, params) = tx_context(client, &key.address(), opts).await?;
    let body = build_tx(&chain_id, nonce, msgs, opts.fee, &opts.memo, &params)?;
    let tx = sign_tx(body, key)?;
    let bytes = encode_tx(&tx)?;
    let outcome = broadcast_and_wait(client, bytes, opts.wait).await?;
    Ok((tx, outcome))
}

/// [`submit`] of one `bank.send`.
pub async fn send(
    client: &HttpClient,
    key: &KeyPair,
    to: &Address,
    amount: u128,
    opts: &TxOptions,
) -> Result<(Tx, TxOutcome)> {
    submit(client, key, vec![Msg::send(to, amount)], opts).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_is_query_code_4() {
        let refused = |codespace: &str, code| QueryRefused {
            path: "/staking/operator/x".into(),
            codespace: codespace.into(),
            code,
            log: "not_found: not found: no operator at this address".into(),
        };
        assert!(refused("query", 4).is_not_found());
        assert!(!refused("query", 2).is_not_found());
        assert!(!refused("staking", 4).is_not_found());
        // the message reads as before the error was typed
        assert_eq!(
            refused("query", 4).to_string(),
            "query /staking/operator/x failed: codespace \"query\" code 4: not_found: not found: no operator at this address"
        );
        let e: anyhow::Error = refused("query", 4).into();
        assert!(e.downcast_ref::<QueryRefused>().is_some());
    }
}
