//! The `state` table, the ordered index of the latest state, lags the tree by a few blocks.
//!
//! Updating it in place was most of what a big block wrote: at 1M keys a block's 16k–20k
//! changed keys land on ~12k of its 4 KB pages, each copied, checksummed and written out (and
//! the keys of one block are never near each other). So a commit writes into it only a slice of
//! the changes that committed blocks made and the table does not hold yet (the *pending*
//! changes, kept in memory): the next `ceil(pending / blocks)` entries in key order after the
//! slice written last, going round. The changes of ~`blocks` blocks then fall on
//! 1/`blocks` of the table's pages, and a page is written once for many changes. Below
//! `flush_all_below` pending entries (every small block) a commit writes them all, and it
//! writes them all once the oldest is `max_age` versions old, so nothing waits for ever.
//!
//! Reads of the latest state take, newest first: the changes of the block being written, the
//! pending changes, the slice being written and the one staged for the next commit (taken out
//! of the pending changes as soon as a commit is written, so that Commit does not spend the
//! time), then the table as of the last written commit ([`Layers`]). No key is in more than
//! one layer except the newest, which wins. A filter of the layers' keys ([`KeyFilter`]) sends
//! a read of a key none of them holds straight to the table.
//!
//! Nothing here needs a write of its own to survive a crash or a stop: every value a block
//! sets is in `jmt_values` under the block's version, and the keys it deletes are recorded in
//! `deleted` (version ‖ key). `meta.index_floor` is the lowest version whose changes may be
//! missing from the table (absent: none is); opening a store reads every record and deletion
//! from that version on back into the pending changes, in version order ([`recover`]). A
//! record may be the copy of a moved leaf: it holds the key's value at its version all the
//! same. Pruning never deletes what this needs: the newest record of a key is never stale.

use std::collections::BTreeMap;
use std::ops::Bound;

use jmt::Version;
use redb::ReadableTable;

use super::{backend, decode_value_record, value_key, StoreError};
use crate::state::Changes;

/// A change the `state` table does not hold yet, and the version that made it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Pending {
    pub version: Version,
    pub value: Option<Vec<u8>>,
}

pub(super) type PendingMap = BTreeMap<Vec<u8>, Pending>;

/// How far the `state` table may lag (see the module doc).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Lag {
    /// Fewer pending entries than this are all written at the next commit.
    pub flush_all_below: usize,
    /// A commit writes this fraction (1/blocks) of the pending entries.
    pub blocks: usize,
    /// Every pending entry is written once the oldest is this many versions old.
    pub max_age: u64,
}

/// The lag nodes run with: up to ~8 blocks of changes in memory (at 20k changes a block,
/// ~160k entries), each commit writing one eighth of them.
pub(super) const LAG: Lag = Lag {
    flush_all_below: 4096,
    blocks: 8,
    max_age: 32,
};

/// Takes from `pending` the slice the commit of `version` writes into the table (see the module
/// doc); `oldest` is the lowest version pending before it, `cursor` the last key written.
pub(super) fn take_slice(
    pending: &mut PendingMap,
    cursor: &mut Option<Vec<u8>>,
    lag: Lag,
    oldest: Option<Version>,
    version: Version,
) -> PendingMap {
    let len = pending.len();
    let overdue = oldest.is_some_and(|o| version.saturating_sub(o) >= lag.max_age);
    if len < lag.flush_all_below.max(1) || overdue {
        *cursor = None;
        return std::mem::take(pending);
    }
    let n = len.div_ceil(lag.blocks.max(1));
    let start = cursor.take().map_or(Bound::Unbounded, Bound::Excluded);
    let mut slice: PendingMap = pending
        .extract_if((start, Bound::Unbounded), |_, _| true)
        .take(n)
        .collect();
    let mut last = slice.last_key_value().map(|(k, _)| k.clone());
    if slice.len() < n {
        // round to the start of the key order
        let more: PendingMap = pending
            .extract_if(.., |_, _| true)
            .take(n - slice.len())
            .collect();
        if let Some((k, _)) = more.last_key_value() {
            last = Some(k.clone());
        }
        slice.extend(more);
    }
    *cursor = last;
    slice
}

/// The lowest version in `pending`.
pub(super) fn oldest(pending: &PendingMap) -> Option<Version> {
    pending.values().map(|p| p.version).min()
}

/// The layers of the latest state over the `state` table, newest first.
pub(super) struct Layers<'a> {
    /// The changes of the newest commit, until it is written and merged into `pending`.
    pub newest: Option<&'a Changes>,
    pub pending: &'a PendingMap,
    /// The slice the newest commit writes into the table, and the one the next commit writes.
    pub writing: [Option<&'a PendingMap>; 2],
    /// Holds every key of the layers above (see [`KeyFilter`]).
    pub filter: &'a KeyFilter,
}

/// Every key the layers hold, by hash, and a few others: a read of a key it does not hold (most
/// reads of a big state: an account no recent block touched) skips the layers' ordered maps and
/// goes straight to the table. Keys are only ever added; the store builds a new one from the
/// layers once it has taken as many keys again as it was built for, so that keys the table has
/// taken since do not fill it. An empty filter holds every key. Only the speed of a read
/// depends on it: the values read are the same with any filter that holds the layers' keys.
#[derive(Clone, Debug, Default)]
pub(super) struct KeyFilter {
    bits: Vec<u64>,
    /// Keys added since it was built, and how many it is built for.
    added: usize,
    room: usize,
}

impl KeyFilter {
    /// Bits a key (two set per key, ~1.4 % of other keys held when full).
    const BITS_PER_KEY: usize = 16;
    /// The fewest keys a filter is built for (tests: few, so that the stores they drive build
    /// theirs anew often).
    const MIN_ROOM: usize = if cfg!(test) { 16 } else { 1 << 15 };

    /// A filter holding `keys` (all of them: the count is only its size).
    pub fn of<'k>(count: usize, keys: impl Iterator<Item = &'k [u8]>) -> Self {
        let room = count.saturating_mul(2).max(Self::MIN_ROOM);
        let bits = room.saturating_mul(Self::BITS_PER_KEY).next_power_of_two();
        let mut f = KeyFilter {
            bits: vec![0; bits / 64],
            added: 0,
            room,
        };
        for k in keys {
            f.add(k);
        }
        f.added = 0;
        f
    }

    pub fn add(&mut self, key: &[u8]) {
        if self.bits.is_empty() {
            return;
        }
        let [a, b] = self.positions(key);
        self.bits[a / 64] |= 1 << (a % 64);
        self.bits[b / 64] |= 1 << (b % 64);
        self.added = self.added.saturating_add(1);
    }

    /// False only for a key never added.
    pub fn may_hold(&self, key: &[u8]) -> bool {
        if self.bits.is_empty() {
            return true;
        }
        let [a, b] = self.positions(key);
        self.bits[a / 64] & (1 << (a % 64)) != 0 && self.bits[b / 64] & (1 << (b % 64)) != 0
    }

    /// Whether it has taken as many keys as it was built for (time to build it anew).
    pub fn is_full(&self) -> bool {
        !self.bits.is_empty() && self.added > self.room
    }

    fn positions(&self, key: &[u8]) -> [usize; 2] {
        let mask = (self.bits.len() * 64 - 1) as u64;
        let h = key_hash(key);
        [(h & mask) as usize, ((h >> 32) & mask) as usize]
    }
}

/// A 64-bit hash of `key` for [`KeyFilter`] (not a commitment: any well-mixed function does).
fn key_hash(key: &[u8]) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mut h = key.len() as u64;
    let mut words = key.chunks_exact(8);
    for w in &mut words {
        let mut b = [0u8; 8];
        b.copy_from_slice(w);
        h = (h.rotate_left(5) ^ u64::from_le_bytes(b)).wrapping_mul(K);
    }
    let mut b = [0u8; 8];
    b[..words.remainder().len()].copy_from_slice(words.remainder());
    h = (h.rotate_left(5) ^ u64::from_le_bytes(b)).wrapping_mul(K);
    // murmur3's finalizer, so that every bit of the key moves the low and the high half
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

type Entry<'a> = (&'a [u8], Option<&'a [u8]>);

impl<'a> Layers<'a> {
    /// The value of `key` if a layer holds it (`Some(None)`: deleted); `None`: ask the table.
    pub fn get(&self, key: &[u8]) -> Option<Option<&'a [u8]>> {
        if !self.filter.may_hold(key) {
            debug_assert_eq!(
                self.probe(key),
                None,
                "a layered key the filter does not hold"
            );
            return None;
        }
        self.probe(key)
    }

    /// [`Layers::get`] without the filter.
    fn probe(&self, key: &[u8]) -> Option<Option<&'a [u8]>> {
        if let Some(v) = self.newest.and_then(|c| c.get(key)) {
            return Some(v.as_deref());
        }
        if let Some(p) = self.pending.get(key) {
            return Some(p.value.as_deref());
        }
        self.writing
            .iter()
            .flatten()
            .find_map(|w| w.get(key))
            .map(|p| p.value.as_deref())
    }

    /// Every entry of the layers from `lower` on, in key order, the newest layer's for a key
    /// several hold.
    pub fn range(&self, lower: Bound<&[u8]>) -> impl Iterator<Item = Entry<'a>> + 'a {
        let bounds = (lower, Bound::Unbounded);
        let newest: Box<dyn Iterator<Item = Entry<'a>> + 'a> = match self.newest {
            Some(c) => Box::new(
                c.range::<[u8], _>(bounds)
                    .map(|(k, v)| (k.as_slice(), v.as_deref())),
            ),
            None => Box::new(std::iter::empty()),
        };
        let pending = Box::new(
            self.pending
                .range::<[u8], _>(bounds)
                .map(|(k, p)| (k.as_slice(), p.value.as_deref())),
        );
        let [writing, staged] = self.writing.map(|w| {
            let slice: Box<dyn Iterator<Item = Entry<'a>> + 'a> = match w {
                Some(w) => Box::new(
                    w.range::<[u8], _>(bounds)
                        .map(|(k, p)| (k.as_slice(), p.value.as_deref())),
                ),
                None => Box::new(std::iter::empty()),
            };
            slice
        });
        NewestFirst {
            layers: [newest, pending, writing, staged].map(Iterator::peekable),
        }
    }
}

/// Ordered iterators merged by key; for a key several hold, the first layer's entry.
struct NewestFirst<'a, const N: usize> {
    layers: [std::iter::Peekable<Box<dyn Iterator<Item = Entry<'a>> + 'a>>; N],
}

impl<'a, const N: usize> Iterator for NewestFirst<'a, N> {
    type Item = Entry<'a>;

    fn next(&mut self) -> Option<Entry<'a>> {
        let mut best: Option<Entry<'a>> = None;
        for layer in &mut self.layers {
            if let Some(&(k, v)) = layer.peek() {
                if best.is_none_or(|(b, _)| k < b) {
                    best = Some((k, v));
                }
            }
        }
        let (key, _) = best?;
        let mut taken = None;
        for layer in &mut self.layers {
            if layer.peek().is_some_and(|(k, _)| *k == key) {
                let entry = layer.next();
                taken = taken.or(entry);
            }
        }
        taken
    }
}

/// Calls `f` with every entry of the latest state from the start of `table` (a range of the
/// `state` table) on, the layers' entries (from the same lower bound) over the table's, in
/// key order, until `f` returns false.
pub(super) fn for_each_merged<'a, 't>(
    table: impl Iterator<
        Item = Result<
            (
                redb::AccessGuard<'t, &'static [u8]>,
                redb::AccessGuard<'t, &'static [u8]>,
            ),
            redb::StorageError,
        >,
    >,
    layers: impl Iterator<Item = Entry<'a>>,
    mut f: impl FnMut(&[u8], &[u8]) -> bool,
) -> Result<(), StoreError> {
    let mut layers = layers.peekable();
    'table: for entry in table {
        let (k, v) = entry.map_err(backend)?;
        let key = k.value();
        while let Some(&(lk, lv)) = layers.peek() {
            if lk > key {
                break;
            }
            layers.next();
            if let Some(lv) = lv {
                if !f(lk, lv) {
                    return Ok(());
                }
            }
            if lk == key {
                // the layer's entry replaces the table's
                continue 'table;
            }
        }
        if !f(key, v.value()) {
            return Ok(());
        }
    }
    for (lk, lv) in layers {
        if let Some(lv) = lv {
            if !f(lk, lv) {
                return Ok(());
            }
        }
    }
    Ok(())
}

/// The pending changes of a store whose `meta.index_floor` is `floor` and whose newest version
/// is `newest`: every value record and deletion of versions `floor..=newest`, in version order.
pub(super) fn recover(
    values: &impl ReadableTable<&'static [u8], &'static [u8]>,
    deleted: &impl ReadableTable<&'static [u8], ()>,
    floor: Version,
    newest: Version,
) -> Result<PendingMap, StoreError> {
    let mut pending = PendingMap::new();
    for version in floor..=newest {
        let (from, to) = (value_key(version, [0; 32]), value_key(version, [0xff; 32]));
        for entry in values
            .range::<&[u8]>(from.as_slice()..=to.as_slice())
            .map_err(backend)?
        {
            let (_, record) = entry.map_err(backend)?;
            let (key, value) = decode_value_record(record.value()).ok_or_else(|| {
                StoreError::Tree(format!("a value record of version {version} is malformed"))
            })?;
            pending.insert(
                key.to_vec(),
                Pending {
                    version,
                    value: Some(value.to_vec()),
                },
            );
        }
        let start = version.to_be_bytes();
        for entry in deleted
            .range::<&[u8]>(start.as_slice()..)
            .map_err(backend)?
        {
            let (k, _) = entry.map_err(backend)?;
            let Some(key) = k.value().strip_prefix(start.as_slice()) else {
                break;
            };
            pending.insert(
                key.to_vec(),
                Pending {
                    version,
                    value: None,
                },
            );
        }
    }
    Ok(pending)
}

/// The `deleted` key of `key`, deleted at `version`.
pub(super) fn deleted_key(version: Version, key: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(8 + key.len());
    k.extend_from_slice(&version.to_be_bytes());
    k.extend_from_slice(key);
    k
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A filter holds every key added or built from, refuses most others, and says when it
    /// has taken as many keys again as it was built for.
    #[test]
    fn the_key_filter_holds_what_it_was_given_and_few_others() {
        let key = |i: u32| format!("bank/acct/{i:08}").into_bytes();
        let built: Vec<Vec<u8>> = (0..1000).map(key).collect();
        let mut f = KeyFilter::of(built.len(), built.iter().map(Vec::as_slice));
        assert!(built.iter().all(|k| f.may_hold(k)));
        assert!(!f.is_full());
        let others = (1000..21000).filter(|&i| f.may_hold(&key(i))).count();
        assert!(others < 20000 / 50, "{others} of 20000 other keys held");
        for i in 1000..3001 {
            f.add(&key(i));
        }
        assert!((0..3001).all(|i| f.may_hold(&key(i))));
        assert!(f.is_full());
        // no filter at all holds every key
        assert!(KeyFilter::default().may_hold(b"anything"));
        assert!(!KeyFilter::default().is_full());
    }
}
