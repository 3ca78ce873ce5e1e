//! State access for the state machine.
//!
//! Every module reads and writes raw bytes under its own key prefix through two traits:
//! [`StateRead`] and [`StateWrite`]. Typed access (borsh) is layered on top by [`StateReadExt`] and
//! [`StateWriteExt`]. Writes never touch the store directly: they land in an [`Overlay`], which the
//! caller either applies to its parent (success) or drops (failure). The committed store
//! ([`store::Storage`]) is a Jellyfish Merkle Tree whose root is the app hash, plus an ordered redb
//! index for prefix iteration.
//!
//! Reads are infallible at this level: a storage read failure or undecodable stored bytes mean the
//! node can no longer follow the chain, and the node halts with a message naming the key (see
//! [`fatal`]). Nothing a user sends can cause either.

pub mod keys;
pub mod overlay;
pub mod snapshot;
pub mod store;

pub use overlay::{Changes, Overlay};
pub use store::{StateView, Storage, StoreError, StoreOptions, StoreStats};

use borsh::{BorshDeserialize, BorshSerialize};

/// Read access to key/value state. Keys are ordered bytewise.
pub trait StateRead {
    /// The value stored under `key`, if any.
    fn get_raw(&self, key: &[u8]) -> Option<Vec<u8>>;

    /// Up to `limit` entries whose key starts with `prefix`, in key order, starting strictly after
    /// `start_after` when given (for pagination).
    fn prefix_raw(
        &self,
        prefix: &[u8],
        start_after: Option<&[u8]>,
        limit: usize,
    ) -> Vec<(Vec<u8>, Vec<u8>)>;
}

/// Write access. Writes are buffered by the implementation (an [`Overlay`]).
pub trait StateWrite: StateRead {
    fn put_raw(&mut self, key: Vec<u8>, value: Vec<u8>);
    fn delete(&mut self, key: Vec<u8>);
}

impl<S: StateRead + ?Sized> StateRead for &S {
    fn get_raw(&self, key: &[u8]) -> Option<Vec<u8>> {
        (**self).get_raw(key)
    }
    fn prefix_raw(
        &self,
        prefix: &[u8],
        start_after: Option<&[u8]>,
        limit: usize,
    ) -> Vec<(Vec<u8>, Vec<u8>)> {
        (**self).prefix_raw(prefix, start_after, limit)
    }
}

impl<S: StateRead + ?Sized> StateRead for &mut S {
    fn get_raw(&self, key: &[u8]) -> Option<Vec<u8>> {
        (**self).get_raw(key)
    }
    fn prefix_raw(
        &self,
        prefix: &[u8],
        start_after: Option<&[u8]>,
        limit: usize,
    ) -> Vec<(Vec<u8>, Vec<u8>)> {
        (**self).prefix_raw(prefix, start_after, limit)
    }
}

impl<S: StateWrite + ?Sized> StateWrite for &mut S {
    fn put_raw(&mut self, key: Vec<u8>, value: Vec<u8>) {
        (**self).put_raw(key, value)
    }
    fn delete(&mut self, key: Vec<u8>) {
        (**self).delete(key)
    }
}

/// Halts the node: the state can no longer be trusted or read. Used only for storage faults and
/// broken invariants, never for user input.
#[track_caller]
pub fn fatal(what: &str) -> ! {
    tracing::error!(target: "nodeop::halt", "{what}");
    panic!("nodeop halted: {what}")
}

/// Typed (borsh) reads.
pub trait StateReadExt: StateRead {
    fn get<T: BorshDeserialize>(&self, key: &[u8]) -> Option<T> {
        self.get_raw(key).map(|bytes| decode_stored(key, &bytes))
    }
}
impl<S: StateRead + ?Sized> StateReadExt for S {}

/// Typed (borsh) writes.
pub trait StateWriteExt: StateWrite {
    fn put<T: BorshSerialize>(&mut self, key: Vec<u8>, value: &T) {
        let bytes = borsh::to_vec(value)
            .unwrap_or_else(|e| fatal(&format!("encoding a state value failed: {e}")));
        self.put_raw(key, bytes)
    }
}
impl<S: StateWrite + ?Sized> StateWriteExt for S {}

/// Decodes bytes that this program stored itself; failure means corrupted state.
pub fn decode_stored<T: BorshDeserialize>(key: &[u8], bytes: &[u8]) -> T {
    borsh::from_slice(bytes).unwrap_or_else(|e| {
        fatal(&format!(
            "stored value under key {} does not decode: {e}",
            crate::state::display_key(key)
        ))
    })
}

/// A key for logs: printable ASCII as is, the rest as hex.
pub fn display_key(key: &[u8]) -> String {
    let mut out = String::with_capacity(key.len() * 2);
    for &b in key {
        if (0x20..0x7f).contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

/// The smallest key strictly greater than every key starting with `prefix`, or `None` when the
/// prefix is all 0xff (no upper bound).
pub fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}
