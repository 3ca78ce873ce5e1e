//! Helpers every module's `keys.rs` uses to build and read keys: numbers big-endian so that
//! byte order is numeric order, times with the sign bit flipped, addresses as their 20 bytes.

use crate::crypto::Address;

/// Times before 1970 sort first; the sign bit is flipped so that byte order is numeric order.
pub fn time_key(t: i64) -> [u8; 8] {
    ((t as u64) ^ (1 << 63)).to_be_bytes()
}

/// The last 8 bytes of a key as a big-endian id.
pub fn trailing_id(key: &[u8]) -> Option<u64> {
    let tail = key.get(key.len().checked_sub(8)?..)?;
    Some(u64::from_be_bytes(tail.try_into().ok()?))
}

/// The address at `offset` in a key.
pub fn address_at(key: &[u8], offset: usize) -> Option<Address> {
    Some(Address(key.get(offset..offset + 20)?.try_into().ok()?))
}
