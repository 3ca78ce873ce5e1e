//! bank's queries: `account/{address}` (`{address, balance, nonce}`; an account never used reads
//! as zero) and `supply` (the supply record). Both are provable records (`crate::records`); the
//! chain also answers them at `/account/…` and `/supply`.

use serde::{Deserialize, Serialize};

use crate::crypto::Address;
use crate::error::QueryError;
use crate::query::Target;
use crate::records::Record;

/// The `/account/{address}` answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountView {
    pub address: Address,
    #[serde(with = "crate::serde_u128")]
    pub balance: u128,
    /// The nonce the account's next tx must carry.
    pub nonce: u64,
}

pub(crate) fn route(path: &str, _args: &[(&str, &str)]) -> Result<Target, QueryError> {
    if let Some(addr) = path.strip_prefix("account/") {
        let address = Address::parse(addr)
            .map_err(|e| QueryError::BadArgument(format!("address {addr:?}: {e}")))?;
        return Ok(Target::Record(Record::Account(address)));
    }
    match path {
        "supply" => Ok(Target::Record(Record::Supply)),
        _ => Err(QueryError::UnknownPath(format!(
            "/bank/{}",
            path.chars().take(200).collect::<String>()
        ))),
    }
}
