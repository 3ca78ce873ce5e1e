//! bank's key layout (public API: auditors and tools read these keys with proofs).

use crate::crypto::Address;

pub const ACCOUNT_PREFIX: &[u8] = b"bank/acct/";
pub const SUPPLY: &[u8] = b"bank/supply";

pub fn account(address: &Address) -> Vec<u8> {
    let mut k = Vec::with_capacity(ACCOUNT_PREFIX.len() + 20);
    k.extend_from_slice(ACCOUNT_PREFIX);
    k.extend_from_slice(&address.0);
    k
}

/// The address inside an account key, if `key` is one.
pub fn address_of(key: &[u8]) -> Option<Address> {
    let rest = key.strip_prefix(ACCOUNT_PREFIX)?;
    Some(Address(rest.try_into().ok()?))
}
