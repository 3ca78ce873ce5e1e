//! ABCI queries: typed JSON paths for people and tools, and raw store reads with ICS23 proofs for
//! auditors. `docs/queries.md` is the reference.
//!
//! | path | data | answer |
//! |---|---|---|
//! | `/account/{address}` | – | `{address, balance, nonce}` |
//! | `/supply` | – | the supply record |
//! | `/params` | – | every module's params |
//! | `/validators`, `/staking/…` | – | the validator set and staking records (docs/queries.md) |
//! | `/reputation/…` | – | operator scores, records, params (docs/reputation.md) |
//! | `/tasks/…` | – | tasks, their schedules and results with Merkle paths, price, capacity (docs/queries.md) |
//! | `/issuance/…` | – | supply, period records, subsidy, vesting, epoch metrics (docs/issuance.md) |
//! | `/module-accounts` | – | name, address, balance of each module account |
//! | `/status` | – | chain id, height, app hash |
//! | `/store` | raw key | the stored bytes |
//! | `/cosmos.…` | protobuf request | the queries CosmJS makes ([`crate::cosmos::query`]) |
//!
//! `height = 0` means the latest committed height. With `prove = true`, a single-record path
//! answers with the *stored* bytes of its record in `value`, the store key in `key`, an ICS23
//! proof in `proof_ops` (one op of type `ics23:jmt`, the root being the app hash of that height,
//! which CometBFT puts in header `height + 1`), and the JSON rendering in `info`.

use prost::Message;
use serde::Serialize;

use crate::app::App;
use crate::component::Component;
use crate::crypto::Address;
use crate::error::{QueryError, CODESPACE_QUERY};
use crate::genesis::keys as chain_keys;
use crate::modules::{bank, staking};
use crate::params::TxParams;
use crate::records::Record;
use crate::state::{StateRead, StateReadExt, Storage};

pub const PROOF_OP_TYPE: &str = "ics23:jmt";

#[derive(Clone, Debug, Default)]
pub struct QueryRequest {
    pub path: String,
    pub data: Vec<u8>,
    pub height: u64,
    pub prove: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProofOp {
    pub kind: String,
    pub key: Vec<u8>,
    pub data: Vec<u8>,
}

#[derive(Clone, Debug, Default)]
pub struct QueryResponse {
    pub code: u32,
    pub codespace: String,
    pub log: String,
    pub info: String,
    pub key: Vec<u8>,
    pub value: Vec<u8>,
    pub proof_ops: Vec<ProofOp>,
    pub height: u64,
}

impl QueryResponse {
    fn error(e: QueryError) -> Self {
        Self {
            code: e.code(),
            codespace: CODESPACE_QUERY.into(),
            log: format!("{}: {e}", e.name()),
            ..Default::default()
        }
    }
}

/// A read view of a past height (single keys only).
struct AtHeight<'a> {
    storage: &'a Storage,
    height: u64,
}

impl StateRead for AtHeight<'_> {
    fn get_raw(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.storage.get_at(key, self.height).unwrap_or_else(|e| {
            crate::state::fatal(&format!(
                "reading {} at {}: {e}",
                crate::state::display_key(key),
                self.height
            ))
        })
    }
    fn prefix_raw(&self, _: &[u8], _: Option<&[u8]>, _: usize) -> Vec<(Vec<u8>, Vec<u8>)> {
        Vec::new()
    }
}

#[derive(Serialize)]
struct ModuleAccountView {
    name: &'static str,
    address: Address,
    #[serde(with = "crate::serde_u128")]
    balance: u128,
}

#[derive(Serialize)]
struct ParamsView {
    tx: TxParams,
}

#[derive(Serialize)]
struct StatusView {
    chain_id: String,
    height: u64,
    app_hash: String,
}

/// One page of a listing: its items and the cursor of the next page (`?after=`), if any.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

/// `/pending/account/{address}`: the account as CheckTx sees it (the committed state plus the
/// txs accepted since the last Commit) beside the committed account. `nonce` is the nonce the
/// account's next tx must carry to enter this node's mempool.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct PendingAccountView {
    pub address: crate::crypto::Address,
    #[serde(with = "crate::serde_u128")]
    pub balance: u128,
    pub nonce: u64,
    #[serde(with = "crate::serde_u128")]
    pub committed_balance: u128,
    pub committed_nonce: u64,
}

/// A computed or listed answer.
pub type Listing = Box<dyn Fn(&App) -> Result<String, QueryError>>;

pub enum Target {
    /// One stored record (`crate::records`): readable at any height, with a proof.
    Record(Record),
    /// A computed or listed answer, latest height only, no proof.
    Listing(Listing),
}

pub(crate) fn listing(f: impl Fn(&App) -> Result<String, QueryError> + 'static) -> Target {
    Target::Listing(Box::new(f))
}

/// `?a=1&b=x` → pairs; a path without `?` has none.
pub(crate) fn split_query(path: &str) -> (&str, Vec<(&str, &str)>) {
    match path.split_once('?') {
        None => (path, Vec::new()),
        Some((p, q)) => (
            p,
            q.split('&')
                .filter(|kv| !kv.is_empty())
                .map(|kv| kv.split_once('=').unwrap_or((kv, "")))
                .collect(),
        ),
    }
}

pub(crate) fn json<T: Serialize>(v: &T) -> Result<String, QueryError> {
    serde_json::to_string(v).map_err(|e| QueryError::Storage(e.to_string()))
}

fn route(path: &str, data: &[u8]) -> Result<Target, QueryError> {
    let (path, args) = split_query(path);
    let path = path.trim_end_matches('/');
    // `/account/…` and `/supply` are bank's, kept at the root where wallets look for them
    if let Some(rest) = path.strip_prefix("/account/") {
        return bank::component::Bank.query(&format!("account/{rest}"), &args);
    }
    if path == "/supply" {
        return bank::component::Bank.query("supply", &args);
    }
    if let Some(addr) = path.strip_prefix("/pending/account/") {
        let address = crate::crypto::Address::parse(addr)
            .map_err(|e| QueryError::BadArgument(format!("address {addr:?}: {e}")))?;
        return Ok(listing(move |app| {
            let committed = bank::account(app.storage(), &address);
            let pending = app.pending_account(&address);
            json(&PendingAccountView {
                address,
                balance: pending.balance,
                nonce: pending.nonce,
                committed_balance: committed.balance,
                committed_nonce: committed.nonce,
            })
        }));
    }
    if let Some((name, rest)) = path.trim_start_matches('/').split_once('/') {
        if let Some(m) = crate::modules::module(name) {
            return m.query(rest, &args);
        }
    }
    match path {
        "/store" => {
            if data.is_empty() {
                return Err(QueryError::BadArgument(
                    "/store needs the raw key in data".into(),
                ));
            }
            Ok(Target::Record(Record::Store(data.to_vec())))
        }
        "/params" => Ok(listing(|app| {
            let tx: TxParams = app
                .storage()
                .get(chain_keys::TX_PARAMS)
                .ok_or_else(|| QueryError::NotFound("params (no genesis yet)".into()))?;
            json(&ParamsView { tx })
        })),
        "/validators" => staking::query::route("validators", &args),
        "/module-accounts" => Ok(listing(|app| {
            let list: Vec<ModuleAccountView> = bank::MODULE_ACCOUNTS
                .into_iter()
                .map(|m| {
                    let address = m.address();
                    let balance = bank::account(app.storage(), &address).balance;
                    ModuleAccountView {
                        name: m.name(),
                        address,
                        balance,
                    }
                })
                .collect();
            json(&list)
        })),
        "/status" => Ok(listing(|app| {
            let c = app.storage().committed();
            json(&StatusView {
                chain_id: app.chain_id().unwrap_or_default().to_string(),
                height: c.map(|c| c.height).unwrap_or(0),
                app_hash: c.map(|c| hex::encode_upper(c.app_hash)).unwrap_or_default(),
            })
        })),
        _ => Err(QueryError::UnknownPath(path.chars().take(200).collect())),
    }
}

impl App {
    /// Answers an ABCI query. Never panics on any path, data or height.
    pub fn query(&self, req: &QueryRequest) -> QueryResponse {
        match self.query_inner(req) {
            Ok(r) => r,
            Err(e) => QueryResponse::error(e),
        }
    }

    fn query_inner(&self, req: &QueryRequest) -> Result<QueryResponse, QueryError> {
        let storage = self.storage();
        let committed = storage
            .committed()
            .ok_or_else(|| QueryError::NotFound("nothing is committed yet".into()))?;
        let latest = committed.height;
        let height = if req.height == 0 { latest } else { req.height };
        if height > latest || height < committed.version_offset {
            return Err(QueryError::HeightUnavailable {
                height,
                reason: format!(
                    "committed heights are {}..={latest}",
                    committed.version_offset
                ),
            });
        }
        let earliest = storage
            .earliest_height()
            .unwrap_or(committed.version_offset);
        if height < earliest {
            return Err(QueryError::HeightUnavailable {
                height,
                reason: format!(
                    "it is pruned; this node keeps the last {} versions (earliest available \
                     height {earliest})",
                    latest - earliest + 1
                ),
            });
        }
        if req.path.starts_with("/cosmos.") {
            if req.prove {
                return Err(QueryError::BadArgument(
                    "Cosmos queries carry no proofs; prove a record through its nodeop path".into(),
                ));
            }
            let value = if height == latest {
                crate::cosmos::query::answer(self, storage, true, &req.path, &req.data)?
            } else {
                let past = AtHeight { storage, height };
                crate::cosmos::query::answer(self, &past, false, &req.path, &req.data)?
            };
            return Ok(QueryResponse {
                value,
                height,
                ..Default::default()
            });
        }
        match route(&req.path, &req.data)? {
            Target::Listing(f) => {
                if height != latest || req.prove {
                    return Err(QueryError::ListingAtPastHeight);
                }
                let body = f(self)?;
                Ok(QueryResponse {
                    value: body.into_bytes(),
                    height,
                    ..Default::default()
                })
            }
            Target::Record(record) => {
                let key = record.key();
                let render = |bytes: &[u8]| {
                    record.render(bytes).map_err(|e| {
                        QueryError::Storage(format!("the stored {}: {e}", record.what()))
                    })
                };
                if req.prove {
                    let (value, proof) = storage
                        .get_with_proof(&key, height)
                        .map_err(|e| QueryError::Storage(e.to_string()))?;
                    // an absent record is answered with an empty value and its non-membership proof
                    let info = match &value {
                        Some(b) => render(b)?,
                        None => String::new(),
                    };
                    Ok(QueryResponse {
                        info,
                        key: key.clone(),
                        value: value.unwrap_or_default(),
                        proof_ops: vec![ProofOp {
                            kind: PROOF_OP_TYPE.into(),
                            key,
                            data: proof.encode_to_vec(),
                        }],
                        height,
                        ..Default::default()
                    })
                } else {
                    let value = if height == latest {
                        storage.get_raw(&key)
                    } else {
                        AtHeight { storage, height }.get_raw(&key)
                    };
                    let body = match value {
                        Some(b) => render(&b)?,
                        None => record.absent().ok_or_else(|| record.not_found())?,
                    };
                    Ok(QueryResponse {
                        key,
                        value: body.into_bytes(),
                        height,
                        ..Default::default()
                    })
                }
            }
        }
    }
}

/// Verifies an `ics23:jmt` proof op: that `key` holds `value` (or, with `value = None`, holds
/// nothing) in the state whose app hash is `root`. Used by clients; kept here beside the format.
pub fn verify_proof(
    op: &ProofOp,
    root: &[u8; 32],
    key: &[u8],
    value: Option<&[u8]>,
) -> Result<(), String> {
    if op.kind != PROOF_OP_TYPE {
        return Err(format!(
            "proof op type {:?}, expected {PROOF_OP_TYPE:?}",
            op.kind
        ));
    }
    if op.key != key {
        return Err("proof op is for another key".into());
    }
    let proof = ics23::CommitmentProof::decode(op.data.as_slice())
        .map_err(|e| format!("proof does not decode: {e}"))?;
    let spec = jmt::ics23_spec();
    let ok = match value {
        Some(v) => ics23::verify_membership::<ics23::HostFunctionsManager>(
            &proof,
            &spec,
            &root.to_vec(),
            key,
            v,
        ),
        None => ics23::verify_non_membership::<ics23::HostFunctionsManager>(
            &proof,
            &spec,
            &root.to_vec(),
            key,
        ),
    };
    if ok {
        Ok(())
    } else {
        Err("the proof does not verify against this app hash".into())
    }
}
