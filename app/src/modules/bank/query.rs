//! bank's queries: `account/{address}` (`{address, balance, nonce}`; an account never used reads
//! as zero) and `supply` (the supply record). The chain also answers them at `/account/…` and
//! `/supply`.

use serde::Serialize;

use super::{keys, Account, Supply};
use crate::crypto::Address;
use crate::error::QueryError;
use crate::query::{json, Target};
use crate::state::decode_stored;

#[derive(Serialize)]
struct AccountView {
    address: Address,
    #[serde(with = "crate::serde_u128")]
    balance: u128,
    nonce: u64,
}

pub(crate) fn route(path: &str, _args: &[(&str, &str)]) -> Result<Target, QueryError> {
    if let Some(addr) = path.strip_prefix("account/") {
        let address = Address::parse(addr)
            .map_err(|e| QueryError::BadArgument(format!("address {addr:?}: {e}")))?;
        return Ok(Target::Record {
            key: keys::account(&address),
            render: |key, bytes| {
                let address = keys::address_of(key).unwrap_or(Address([0; 20]));
                let acct: Account = bytes.map(|b| decode_stored(key, b)).unwrap_or_default();
                json(&AccountView {
                    address,
                    balance: acct.balance,
                    nonce: acct.nonce,
                })
            },
        });
    }
    match path {
        "supply" => Ok(Target::Record {
            key: keys::SUPPLY.to_vec(),
            render: |key, bytes| match bytes {
                Some(b) => json(&decode_stored::<Supply>(key, b)),
                None => Err(QueryError::NotFound("supply (no genesis yet)".into())),
            },
        }),
        _ => Err(QueryError::UnknownPath(format!(
            "/bank/{}",
            path.chars().take(200).collect::<String>()
        ))),
    }
}
