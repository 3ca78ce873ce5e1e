//! The queries CosmJS and cosmrs make, answered through `abci_query` with protobuf:
//!
//! | path | request → response |
//! |---|---|
//! | `/cosmos.auth.v1beta1.Query/Account` | `QueryAccountRequest` → `QueryAccountResponse` holding a `BaseAccount` |
//! | `/cosmos.bank.v1beta1.Query/Balance` | `QueryBalanceRequest` → `QueryBalanceResponse` |
//! | `/cosmos.bank.v1beta1.Query/AllBalances` | `QueryAllBalancesRequest` → `QueryAllBalancesResponse` |
//! | `/cosmos.tx.v1beta1.Service/Simulate` | `SimulateRequest` → `SimulateResponse` |
//!
//! Any other `/cosmos.*` path is `query/unknown_path` with the list above in its log. The
//! account is read from committed state (at the query's height), as the Cosmos SDK does; an
//! account never written is `NotFound` with CosmJS's `rpc error: code = NotFound` in the log, so
//! `getAccount` answers `null` for it. `BaseAccount.pub_key` is always empty: nodeop does not
//! store public keys (every tx carries its signer's key). Simulate runs the tx on the latest
//! committed state without its signature, and answers as gas the minimum fee in unop of the
//! signed tx ([`simulated_gas`]), so a gas price of 1 unop per gas pays the fee rule.

use cosmos_sdk_proto::cosmos::auth::v1beta1::{
    BaseAccount, QueryAccountRequest, QueryAccountResponse,
};
use cosmos_sdk_proto::cosmos::bank::v1beta1::{
    QueryAllBalancesRequest, QueryAllBalancesResponse, QueryBalanceRequest, QueryBalanceResponse,
};
use cosmos_sdk_proto::cosmos::base::abci::v1beta1::{GasInfo, Result as AbciResult};
use cosmos_sdk_proto::cosmos::base::v1beta1::Coin;
use cosmos_sdk_proto::cosmos::tx::v1beta1::{SimulateRequest, SimulateResponse};
use cosmos_sdk_proto::Any;
use prost::{Message, Name};

use super::DENOM;
use crate::app::App;
use crate::crypto::Address;
use crate::error::QueryError;
use crate::modules::bank;
use crate::params::TxParams;
use crate::state::StateRead;
use crate::tx::min_fee;

pub const ACCOUNT: &str = "/cosmos.auth.v1beta1.Query/Account";
pub const BALANCE: &str = "/cosmos.bank.v1beta1.Query/Balance";
pub const ALL_BALANCES: &str = "/cosmos.bank.v1beta1.Query/AllBalances";
pub const SIMULATE: &str = "/cosmos.tx.v1beta1.Service/Simulate";

/// The Cosmos query paths nodeop answers.
pub const PATHS: [&str; 4] = [ACCOUNT, BALANCE, ALL_BALANCES, SIMULATE];

/// Bytes a simulated tx grows by once signed: the 64-byte signature, and a fee coin of up to 39
/// digits with its gas limit (the simulated tx has none). The gas Simulate answers is the
/// minimum fee for the simulated size plus this, so the signed tx always meets it.
pub const SIMULATE_EXTRA_BYTES: usize = 128;

/// The gas Simulate answers for a tx of `simulated_len` bytes: the minimum fee in unop of the
/// signed tx, `min_fee_base + min_fee_per_byte × (simulated_len + 128)`.
pub fn simulated_gas(params: &TxParams, simulated_len: usize) -> u64 {
    min_fee(params, simulated_len.saturating_add(SIMULATE_EXTRA_BYTES))
        .map_or(u64::MAX, |fee| u64::try_from(fee).unwrap_or(u64::MAX))
}

fn request<M: Message + Name + Default>(path: &str, data: &[u8]) -> Result<M, QueryError> {
    M::decode(data).map_err(|e| {
        QueryError::BadArgument(format!(
            "{path} takes a protobuf {} in data: {e}",
            M::full_name()
        ))
    })
}

fn address(path: &str, s: &str) -> Result<Address, QueryError> {
    Address::parse(s).map_err(|e| {
        QueryError::BadArgument(format!(
            "{path}: address {:?}: {e}",
            s.chars().take(100).collect::<String>()
        ))
    })
}

fn unop(amount: u128) -> Coin {
    Coin {
        denom: DENOM.to_string(),
        amount: amount.to_string(),
    }
}

/// Answers a `/cosmos.*` query over `state` (the store at the query's height); `latest` says
/// whether that is the latest committed height (Simulate runs only there).
pub fn answer(
    app: &App,
    state: &impl StateRead,
    latest: bool,
    path: &str,
    data: &[u8],
) -> Result<Vec<u8>, QueryError> {
    match path {
        ACCOUNT => {
            let req: QueryAccountRequest = request(path, data)?;
            let addr = address(path, &req.address)?;
            let account = bank::account(state, &addr);
            if account == bank::Account::default() {
                // CosmJS's getAccount turns exactly this text into `null`
                return Err(QueryError::NotFound(format!(
                    "rpc error: code = NotFound desc = account {addr} not found (it has never \
                     held funds)"
                )));
            }
            let base = BaseAccount {
                address: addr.to_bech32(),
                pub_key: None,
                account_number: super::ACCOUNT_NUMBER,
                sequence: account.nonce,
            };
            Ok(QueryAccountResponse {
                account: Some(Any {
                    type_url: format!("/{}", BaseAccount::full_name()),
                    value: base.encode_to_vec(),
                }),
            }
            .encode_to_vec())
        }
        BALANCE => {
            let req: QueryBalanceRequest = request(path, data)?;
            let addr = address(path, &req.address)?;
            let amount = if req.denom == DENOM {
                bank::account(state, &addr).balance
            } else {
                0
            };
            Ok(QueryBalanceResponse {
                balance: Some(Coin {
                    denom: req.denom,
                    amount: amount.to_string(),
                }),
            }
            .encode_to_vec())
        }
        ALL_BALANCES => {
            let req: QueryAllBalancesRequest = request(path, data)?;
            let addr = address(path, &req.address)?;
            let balance = bank::account(state, &addr).balance;
            Ok(QueryAllBalancesResponse {
                balances: if balance == 0 {
                    Vec::new()
                } else {
                    vec![unop(balance)]
                },
                pagination: None,
            }
            .encode_to_vec())
        }
        SIMULATE => {
            if !latest {
                return Err(QueryError::ListingAtPastHeight);
            }
            let req: SimulateRequest = request(path, data)?;
            if req.tx_bytes.is_empty() {
                return Err(QueryError::BadArgument(format!(
                    "{path} takes the tx in tx_bytes (the deprecated tx field is not read)"
                )));
            }
            let gas = app
                .simulate(&req.tx_bytes)
                .map_err(|e| QueryError::SimulationFailed {
                    codespace: e.codespace().to_string(),
                    code: e.code(),
                    reason: format!("{}: {e}", e.name()),
                })?;
            Ok(SimulateResponse {
                gas_info: Some(GasInfo {
                    gas_wanted: gas,
                    gas_used: gas,
                }),
                result: Some(AbciResult::default()),
            }
            .encode_to_vec())
        }
        _ => Err(QueryError::UnknownPath(format!(
            "{}; the Cosmos paths nodeop answers are {}",
            path.chars().take(200).collect::<String>(),
            PATHS.join(", ")
        ))),
    }
}
