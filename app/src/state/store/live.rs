//! The live tree: the newest version of the Jellyfish Merkle tree, held in memory, from which a
//! block's root, its new nodes and its stale nodes are computed.
//!
//! jmt computes a block by reading every node on the changed paths back from the store (decoded
//! from redb, or cloned out of the memory engine's map), building its own caches of `NodeKey`s and
//! nibble paths, and hashing; a 10k-key block over a million keys spent most of its tree time
//! there. This tree keeps the newest version's nodes in one arena (`u32` child links, each node's
//! hash cached), so a block only walks and rehashes what it changes.
//!
//! It builds exactly the tree jmt builds: the same shape (a leaf sits where its key's prefix
//! first becomes unique; a node left with a single leaf child is replaced by that leaf), the same
//! hashes (jmt's leaf and internal-node domain separators and its placeholder for empty subtrees,
//! the 16 children hashed as a 4-level binary tree in which a subtree holding one leaf is that
//! leaf), the same versions (every node a block rewrites, moves or creates is of the block's
//! version; everything else keeps its version) and the same stale nodes. A block applies its
//! deletions first, then its writes, key by key, as the store did through jmt (the result does
//! not depend on the order within each group). The store's tests compare root, new nodes and stale
//! nodes with jmt's own `put_value_set` block by block.
//!
//! Blocks are computed copy-on-write: a block never changes a node of the committed version, it
//! copies it. So a computed block that is not committed (FinalizeBlock run again for the same
//! height) is dropped by freeing what it allocated, and a committed one frees the nodes it
//! replaced.

use jmt::storage::{Node, NodeKey, TreeReader};
use jmt::Version;
use sha2::{Digest, Sha256};

use super::StoreError;
use crate::state::Changes;

const NONE: u32 = u32::MAX;
const LEAF_DOMAIN: &[u8] = b"JMT::LeafNode";
const INTERNAL_DOMAIN: &[u8] = b"JMT::IntrnalNode";
const PLACEHOLDER: [u8; 32] = *b"SPARSE_MERKLE_PLACEHOLDER_HASH__";

/// An internal node, with what its parent's hash and jmt's encoding need of each child kept
/// beside the link, so that hashing and encoding a node never visits its children.
#[derive(Clone)]
struct Internal {
    children: [u32; 16],
    /// Each child's hash, version and leaf count (1 for a leaf), as of the last `finish`.
    hashes: [[u8; 32]; 16],
    versions: [Version; 16],
    counts: [u64; 16],
    /// The children that are leaves.
    leaves: u16,
    version: Version,
    /// Valid once the block that made the node is computed.
    hash: [u8; 32],
    leaf_count: u64,
    /// jmt hashes the 16 children as a binary tree of four levels; the hashes of its inner
    /// nodes (heap order: 1 is the node's own hash, 2..3 the halves, …, 8..15 the pairs) as of
    /// the last `rehash`, so that a node with a few changed children rehashes only their paths.
    mids: [[u8; 32]; 16],
    /// Children linked since the last `rehash` (their hash, presence or kind may differ).
    dirty: u16,
    /// The entries of `mids` that hold their range's hash as of their children's state at the
    /// last rehash (bit = heap index). A range that a rehash answered without going down (empty,
    /// or one leaf) leaves the ranges below it out of date.
    valid: u16,
}

impl Internal {
    fn new(version: Version) -> Self {
        Self {
            children: [NONE; 16],
            hashes: [[0; 32]; 16],
            versions: [0; 16],
            counts: [0; 16],
            leaves: 0,
            version,
            hash: [0; 32],
            leaf_count: 0,
            mids: [[0; 32]; 16],
            dirty: u16::MAX,
            valid: 0,
        }
    }

    /// Links child `n` to a node of this block (or to nothing).
    fn link(&mut self, n: usize, child: u32) {
        self.children[n] = child;
        self.dirty |= 1 << n;
        self.versions[n] = self.version;
        if child == NONE {
            self.leaves &= !(1 << n);
        }
    }

    /// Takes a child of this block's hash, kind and leaf count into this node.
    fn take_child(&mut self, n: usize, hash: [u8; 32], is_leaf: bool, count: u64) {
        self.hashes[n] = hash;
        self.counts[n] = count;
        if is_leaf {
            self.leaves |= 1 << n;
        } else {
            self.leaves &= !(1 << n);
        }
    }

    fn exists(&self) -> u16 {
        let mut bits = 0u16;
        for (n, &c) in self.children.iter().enumerate() {
            if c != NONE {
                bits |= 1 << n;
            }
        }
        bits
    }

    /// Own hash and leaf count from the children's (only the binary paths above the children
    /// linked since the last rehash are hashed again).
    fn rehash(&mut self) {
        let exists = self.exists();
        self.hash = self.merkle(exists, 1, 0, 16);
        self.dirty = 0;
        self.leaf_count = self
            .children
            .iter()
            .zip(&self.counts)
            .filter(|(c, _)| **c != NONE)
            .map(|(_, n)| n)
            .sum();
    }

    /// jmt's hash of the children `start .. start + width` (the binary tree's node `at`).
    fn merkle(&mut self, exists: u16, at: usize, start: u32, width: u32) -> [u8; 32] {
        let mask = (((1u32 << width) - 1) << start) as u16;
        let (e, l) = (exists & mask, self.leaves & mask);
        if width == 1 {
            return if e == 0 {
                PLACEHOLDER
            } else {
                self.hashes[start as usize]
            };
        }
        if self.dirty & mask == 0 && self.valid & (1 << at) != 0 {
            return self.mids[at];
        }
        let hash = if e == 0 {
            self.valid &= !below(at);
            PLACEHOLDER
        } else if e.count_ones() == 1 && l != 0 {
            self.valid &= !below(at);
            self.hashes[e.trailing_zeros() as usize]
        } else {
            let half = width / 2;
            let left = self.merkle(exists, 2 * at, start, half);
            let right = self.merkle(exists, 2 * at + 1, start + half, half);
            internal_hash(&left, &right)
        };
        self.mids[at] = hash;
        self.valid |= 1 << at;
        hash
    }

    /// borsh(Node::Internal).
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(1);
        let mut count = 0u64;
        for n in 0..16 {
            if self.children[n] == NONE {
                out.push(0);
                continue;
            }
            count += 1;
            out.push(1);
            out.extend_from_slice(&self.hashes[n]);
            out.extend_from_slice(&self.versions[n].to_le_bytes());
            if self.leaves & (1 << n) != 0 {
                out.push(0);
            } else {
                out.push(1);
                out.extend_from_slice(&self.counts[n].to_le_bytes());
            }
        }
        out.extend_from_slice(&count.to_le_bytes());
        out.extend_from_slice(&self.leaf_count.to_le_bytes());
    }
}

#[derive(Clone)]
struct Leaf {
    key: [u8; 32],
    value_hash: [u8; 32],
    version: Version,
    hash: [u8; 32],
}

enum Slot {
    Internal(Box<Internal>),
    Leaf(Leaf),
    Free,
}

/// The block being computed and not yet committed.
struct Pending {
    version: Version,
    /// The committed root, to go back to.
    committed_root: u32,
    /// Every slot this block allocated (to free if it is dropped).
    allocated: Vec<u32>,
    /// Committed slots this block replaced (to free once it is committed).
    replaced: Vec<u32>,
    stale: Vec<Vec<u8>>,
    /// Whether the block's new and stale nodes are wanted (a store that keeps no history has
    /// no use for them).
    record: bool,
}

/// What a block writes to the tree tables, encoded as the store keeps it.
#[derive(Default)]
pub(super) struct Batch {
    /// (`jmt_nodes` key, borsh(Node)) of every node of the block's version, the root first.
    pub(super) nodes: Vec<(Vec<u8>, Vec<u8>)>,
    /// The `jmt_nodes` keys of the nodes the block made stale.
    pub(super) stale: Vec<Vec<u8>>,
}

#[derive(Default)]
pub(super) struct LiveTree {
    slots: Vec<Slot>,
    free: Vec<u32>,
    root: u32,
    pending: Option<Pending>,
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Tree(format!("live tree: {what}"))
}

/// Nibble `i` of a key hash (the high half of a byte first).
fn nibble(key: &[u8; 32], i: usize) -> usize {
    let b = key[i / 2];
    if i & 1 == 0 {
        (b >> 4) as usize
    } else {
        (b & 0x0f) as usize
    }
}

fn leaf_hash(key: &[u8; 32], value_hash: &[u8; 32]) -> [u8; 32] {
    domain_hash(LEAF_DOMAIN, key, value_hash)
}

fn internal_hash(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
    domain_hash(INTERNAL_DOMAIN, left, right)
}

/// jmt's node hash: SHA-256 of its domain separator and the two halves.
fn domain_hash(domain: &[u8], a: &[u8; 32], b: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(domain);
    h.update(a);
    h.update(b);
    h.finalize().into()
}

/// The heap indices of the binary ranges strictly below `at` (those kept in `mids`: 2..15).
fn below(at: usize) -> u16 {
    if at >= 8 {
        0
    } else {
        (1 << (2 * at)) | (1 << (2 * at + 1)) | below(2 * at) | below(2 * at + 1)
    }
}

/// borsh(NodeKey): version, nibble count, packed nibbles (two per byte, high half first).
fn node_key_bytes(version: Version, nibbles: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(20 + nibbles.len() / 2 + 1);
    out.extend_from_slice(&version.to_le_bytes());
    out.extend_from_slice(&(nibbles.len() as u64).to_le_bytes());
    let packed = nibbles.len().div_ceil(2);
    out.extend_from_slice(&(packed as u32).to_le_bytes());
    for pair in nibbles.chunks(2) {
        out.push(pair[0] << 4 | pair.get(1).copied().unwrap_or(0));
    }
    out
}

/// The `jmt_nodes` key of the node at the first `depth` nibbles of `key`: version (big-endian,
/// so that a version's nodes sit together) ‖ borsh(NodeKey).
fn stored_key(version: Version, key: &[u8; 32], depth: usize) -> Vec<u8> {
    let packed = depth.div_ceil(2);
    let mut out = Vec::with_capacity(28 + packed);
    out.extend_from_slice(&version.to_be_bytes());
    out.extend_from_slice(&version.to_le_bytes());
    out.extend_from_slice(&(depth as u64).to_le_bytes());
    out.extend_from_slice(&(packed as u32).to_le_bytes());
    out.extend_from_slice(&key[..depth / 2]);
    if depth % 2 == 1 {
        out.push(key[depth / 2] & 0xf0);
    }
    out
}

fn node_key(version: Version, nibbles: &[u8]) -> Result<NodeKey, StoreError> {
    borsh::from_slice(&node_key_bytes(version, nibbles)).map_err(|e| corrupt(&e.to_string()))
}

/// Encoded nodes: (`jmt_nodes` key, borsh(Node)).
type NodeRecords = Vec<(Vec<u8>, Vec<u8>)>;

/// Taken subtrees under the nibbles that lead to them.
type Group = Vec<(usize, Taken)>;

/// Blocks with fewer changed keys are computed on one thread (in tests nearly every block is
/// computed both ways).
const PARALLEL_MIN_CHANGES: usize = if cfg!(test) { 2 } else { 64 };

/// The key hash and value hash (`None`: a deletion) of every change, in the changes' order,
/// computed on up to `threads` threads.
fn digests(changes: &Changes, threads: usize) -> Vec<([u8; 32], Option<[u8; 32]>)> {
    let digest = |(k, v): (&Vec<u8>, &Option<Vec<u8>>)| -> ([u8; 32], Option<[u8; 32]>) {
        (
            Sha256::digest(k).into(),
            v.as_ref().map(|v| Sha256::digest(v).into()),
        )
    };
    if threads <= 1 {
        return changes.iter().map(digest).collect();
    }
    let all: Vec<(&Vec<u8>, &Option<Vec<u8>>)> = changes.iter().collect();
    let per = all.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let mut chunks = all.chunks(per);
        let first = chunks.next().unwrap_or(&[]);
        let helpers: Vec<_> = chunks
            .map(|c| s.spawn(move || c.iter().copied().map(digest).collect::<Vec<_>>()))
            .collect();
        let mut out: Vec<_> = first.iter().copied().map(digest).collect();
        for h in helpers {
            out.extend(h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)));
        }
        out
    })
}

/// An internal node of the block being computed, taken out of the arena to be hashed on a
/// thread of its own, with the block's internal nodes below it (`node` is `None` when the slot
/// held no internal node: the hash then reports the corruption).
struct Taken {
    slot: u32,
    node: Option<Box<Internal>>,
    below: Vec<(usize, Taken)>,
}

impl Taken {
    /// [`LiveTree::finish`] on taken nodes: children first; leaves are read from `slots`.
    fn hash(&mut self, slots: &[Slot], version: Version) -> Result<(), StoreError> {
        for (_, child) in &mut self.below {
            child.hash(slots, version)?;
        }
        self.absorb(slots, version)
    }

    /// Takes each of the block's children's hash, kind and leaf count (the taken children
    /// already hashed) and rehashes.
    fn absorb(&mut self, slots: &[Slot], version: Version) -> Result<(), StoreError> {
        let node = self
            .node
            .as_mut()
            .ok_or_else(|| corrupt("expected an internal node"))?;
        let mut below = self.below.iter().peekable();
        for n in 0..16 {
            let c = node.children[n];
            if c == NONE || node.versions[n] != version {
                continue;
            }
            let taken = match below.peek() {
                Some((m, _)) if *m == n => below.next().map(|(_, t)| t),
                _ => None,
            };
            let (hash, is_leaf, count) = match (taken, &slots[c as usize]) {
                (Some(t), _) => {
                    let child = t
                        .node
                        .as_ref()
                        .ok_or_else(|| corrupt("expected an internal node"))?;
                    (child.hash, false, child.leaf_count)
                }
                (None, Slot::Leaf(l)) => (l.hash, true, 1),
                (None, _) => return Err(corrupt("a link to a free slot")),
            };
            node.take_child(n, hash, is_leaf, count);
        }
        node.rehash();
        Ok(())
    }
}

enum Deleted {
    NotChanged,
    Removed,
    Updated(u32),
}

impl LiveTree {
    /// An empty tree.
    pub(super) fn new() -> Self {
        Self {
            slots: Vec::new(),
            free: Vec::new(),
            root: NONE,
            pending: None,
        }
    }

    /// The tree of `version` as stored, read from its root down.
    pub(super) fn load<R: TreeReader>(reader: &R, version: Version) -> Result<Self, StoreError> {
        let mut tree = Self::new();
        let mut path = Vec::with_capacity(64);
        tree.root = tree.load_node(reader, version, &mut path)?;
        Ok(tree)
    }

    fn load_node<R: TreeReader>(
        &mut self,
        reader: &R,
        version: Version,
        path: &mut Vec<u8>,
    ) -> Result<u32, StoreError> {
        let key = node_key(version, path)?;
        let node = reader
            .get_node_option(&key)
            .map_err(|e| StoreError::Tree(e.to_string()))?
            .ok_or_else(|| corrupt(&format!("node {key:?} is missing from the store")))?;
        let slot = match node {
            Node::Null if path.is_empty() => return Ok(NONE),
            Node::Null => return Err(corrupt(&format!("a null node below the root at {key:?}"))),
            Node::Leaf(leaf) => {
                let bytes = borsh::to_vec(&leaf).map_err(|e| corrupt(&e.to_string()))?;
                let key_hash = leaf.key_hash().0;
                let mut value_hash = [0u8; 32];
                value_hash.copy_from_slice(&bytes[32..64]);
                Slot::Leaf(Leaf {
                    key: key_hash,
                    value_hash,
                    version,
                    hash: leaf_hash(&key_hash, &value_hash),
                })
            }
            Node::Internal(internal) => {
                let mut node = Box::new(Internal::new(version));
                // every child is new to it: `dirty` starts full
                let listed: Vec<(u8, Version, bool, u64)> = internal
                    .children_sorted()
                    .map(|(n, c)| (u8::from(n), c.version, c.is_leaf(), c.leaf_count() as u64))
                    .collect();
                for (n, child_version, is_leaf, count) in listed {
                    path.push(n);
                    let child = self.load_node(reader, child_version, path)?;
                    path.pop();
                    let n = n as usize;
                    node.children[n] = child;
                    node.versions[n] = child_version;
                    node.counts[n] = count;
                    match &self.slots[child as usize] {
                        Slot::Leaf(l) => {
                            node.hashes[n] = l.hash;
                            if !is_leaf {
                                return Err(corrupt(&format!("child {n} of {key:?} is a leaf")));
                            }
                            node.leaves |= 1 << n;
                        }
                        Slot::Internal(c) => node.hashes[n] = c.hash,
                        Slot::Free => return Err(corrupt("a link to a free slot")),
                    }
                }
                node.rehash();
                Slot::Internal(node)
            }
        };
        Ok(self.push(slot))
    }

    fn push(&mut self, slot: Slot) -> u32 {
        match self.free.pop() {
            Some(i) => {
                self.slots[i as usize] = slot;
                i
            }
            None => {
                self.slots.push(slot);
                (self.slots.len() - 1) as u32
            }
        }
    }

    fn alloc(&mut self, slot: Slot) -> u32 {
        let i = self.push(slot);
        if let Some(p) = &mut self.pending {
            p.allocated.push(i);
        }
        i
    }

    fn new_leaf(&mut self, key: [u8; 32], value_hash: [u8; 32], version: Version) -> u32 {
        self.alloc(Slot::Leaf(Leaf {
            key,
            value_hash,
            version,
            hash: leaf_hash(&key, &value_hash),
        }))
    }

    fn version_of(&self, i: u32) -> Result<Version, StoreError> {
        match self.slots.get(i as usize) {
            Some(Slot::Internal(n)) => Ok(n.version),
            Some(Slot::Leaf(l)) => Ok(l.version),
            _ => Err(corrupt("a link to a free slot")),
        }
    }

    fn block_version(&self) -> Result<Version, StoreError> {
        self.pending
            .as_ref()
            .map(|p| p.version)
            .ok_or_else(|| corrupt("no block"))
    }

    /// Takes node `i` (at `depth` on the path of `key`) out of the tree: freed at once when this
    /// block made it, otherwise recorded stale and freed when the block is committed.
    fn drop_node(&mut self, i: u32, depth: usize, key: &[u8; 32]) -> Result<(), StoreError> {
        let version = self.version_of(i)?;
        let p = self.pending.as_mut().ok_or_else(|| corrupt("no block"))?;
        if version == p.version {
            self.slots[i as usize] = Slot::Free;
            self.free.push(i);
        } else {
            if p.record {
                p.stale.push(stored_key(version, key, depth));
            }
            p.replaced.push(i);
        }
        Ok(())
    }

    /// Internal node `i` (at `depth` on the path of `key`) as a node of this block: itself when
    /// the block made it, otherwise a copy, the original stale.
    fn own(&mut self, i: u32, depth: usize, key: &[u8; 32]) -> Result<u32, StoreError> {
        let version = self.block_version()?;
        let copy = match &self.slots[i as usize] {
            Slot::Internal(n) if n.version == version => return Ok(i),
            Slot::Internal(n) => {
                let mut copy = n.clone();
                copy.version = version;
                copy
            }
            _ => return Err(corrupt("expected an internal node")),
        };
        self.drop_node(i, depth, key)?;
        Ok(self.alloc(Slot::Internal(copy)))
    }

    fn internal(&self, i: u32) -> Result<&Internal, StoreError> {
        match &self.slots[i as usize] {
            Slot::Internal(n) => Ok(n),
            _ => Err(corrupt("expected an internal node")),
        }
    }

    fn internal_mut(&mut self, i: u32) -> Result<&mut Internal, StoreError> {
        match &mut self.slots[i as usize] {
            Slot::Internal(n) => Ok(n),
            _ => Err(corrupt("expected an internal node")),
        }
    }

    fn insert(
        &mut self,
        i: u32,
        depth: usize,
        key: &[u8; 32],
        value_hash: [u8; 32],
        version: Version,
    ) -> Result<u32, StoreError> {
        if i == NONE {
            return Ok(self.new_leaf(*key, value_hash, version));
        }
        let existing = match &self.slots[i as usize] {
            Slot::Leaf(l) => l.clone(),
            Slot::Internal(_) => {
                let own = self.own(i, depth, key)?;
                let n = nibble(key, depth);
                let child = self.internal(own)?.children[n];
                let child = self.insert(child, depth + 1, key, value_hash, version)?;
                self.internal_mut(own)?.link(n, child);
                return Ok(own);
            }
            Slot::Free => return Err(corrupt("a link to a free slot")),
        };
        self.drop_node(i, depth, key)?;
        if existing.key == *key {
            return Ok(self.new_leaf(*key, value_hash, version));
        }
        // a new key under an existing leaf: both go down to where their paths part
        let mut fork = depth;
        while nibble(key, fork) == nibble(&existing.key, fork) {
            fork += 1;
        }
        let moved = self.new_leaf(existing.key, existing.value_hash, version);
        let new = self.new_leaf(*key, value_hash, version);
        let mut node = Box::new(Internal::new(version));
        node.link(nibble(&existing.key, fork), moved);
        node.link(nibble(key, fork), new);
        let mut top = self.alloc(Slot::Internal(node));
        for d in (depth..fork).rev() {
            let mut node = Box::new(Internal::new(version));
            node.link(nibble(key, d), top);
            top = self.alloc(Slot::Internal(node));
        }
        Ok(top)
    }

    fn delete(&mut self, i: u32, depth: usize, key: &[u8; 32]) -> Result<Deleted, StoreError> {
        if i == NONE {
            return Ok(Deleted::NotChanged);
        }
        match &self.slots[i as usize] {
            Slot::Leaf(l) => {
                if l.key != *key {
                    return Ok(Deleted::NotChanged);
                }
                self.drop_node(i, depth, key)?;
                return Ok(Deleted::Removed);
            }
            Slot::Internal(_) => {}
            Slot::Free => return Err(corrupt("a link to a free slot")),
        }
        let n = nibble(key, depth);
        let child = self.internal(i)?.children[n];
        let child = match self.delete(child, depth + 1, key)? {
            Deleted::NotChanged => return Ok(Deleted::NotChanged),
            Deleted::Removed => NONE,
            Deleted::Updated(c) => c,
        };
        let own = self.own(i, depth, key)?;
        self.internal_mut(own)?.link(n, child);
        let children = self.internal(own)?.children;
        let mut left = children.iter().filter(|c| **c != NONE);
        match (left.next().copied(), left.next()) {
            (None, _) => {
                self.drop_node(own, depth, key)?;
                Ok(Deleted::Removed)
            }
            (Some(only), None) => {
                let Slot::Leaf(leaf) = &self.slots[only as usize] else {
                    return Ok(Deleted::Updated(own));
                };
                // a node left with one leaf: the leaf takes its place
                let leaf = leaf.clone();
                self.drop_node(only, depth + 1, &leaf.key)?;
                self.drop_node(own, depth, key)?;
                let version = self.block_version()?;
                Ok(Deleted::Updated(self.new_leaf(
                    leaf.key,
                    leaf.value_hash,
                    version,
                )))
            }
            _ => Ok(Deleted::Updated(own)),
        }
    }

    /// Hashes every node of `version` under `i` (an internal node of `version`), children
    /// first, and takes each changed child's hash, version and leaf count into its parent.
    fn finish(&mut self, i: u32, version: Version) -> Result<(), StoreError> {
        let node = self.internal(i)?;
        let (children, versions) = (node.children, node.versions);
        let mut fresh: [Option<([u8; 32], bool, u64)>; 16] = [None; 16];
        for n in 0..16 {
            let c = children[n];
            if c == NONE || versions[n] != version {
                continue;
            }
            fresh[n] = Some(match &self.slots[c as usize] {
                Slot::Leaf(l) => (l.hash, true, 1),
                Slot::Internal(_) => {
                    self.finish(c, version)?;
                    let child = self.internal(c)?;
                    (child.hash, false, child.leaf_count)
                }
                Slot::Free => return Err(corrupt("a link to a free slot")),
            });
        }
        let node = self.internal_mut(i)?;
        for (n, f) in fresh.into_iter().enumerate() {
            if let Some((hash, is_leaf, count)) = f {
                node.take_child(n, hash, is_leaf, count);
            }
        }
        node.rehash();
        Ok(())
    }

    /// Every node of `version` under `i` (at the first `depth` nibbles of `path`) into `nodes`.
    fn emit(
        &self,
        i: u32,
        version: Version,
        path: &mut [u8; 32],
        depth: usize,
        nodes: &mut Vec<(Vec<u8>, Vec<u8>)>,
    ) -> Result<(), StoreError> {
        let mut bytes = Vec::new();
        let node = match &self.slots[i as usize] {
            Slot::Leaf(l) => {
                bytes.reserve_exact(65);
                bytes.push(2);
                bytes.extend_from_slice(&l.key);
                bytes.extend_from_slice(&l.value_hash);
                nodes.push((stored_key(version, path, depth), bytes));
                return Ok(());
            }
            Slot::Internal(n) => n,
            Slot::Free => return Err(corrupt("a link to a free slot")),
        };
        node.encode(&mut bytes);
        nodes.push((stored_key(version, path, depth), bytes));
        for n in 0..16 {
            let c = node.children[n];
            if c == NONE || node.versions[n] != version {
                continue;
            }
            let byte = &mut path[depth / 2];
            *byte = if depth & 1 == 0 {
                (n as u8) << 4
            } else {
                (*byte & 0xf0) | n as u8
            };
            self.emit(c, version, path, depth + 1, nodes)?;
        }
        Ok(())
    }

    /// [`Self::finish`] of the root `root` with its subtrees hashed on up to `threads` threads:
    /// the block's internal nodes are taken out of the arena (each thread then owns the nodes
    /// it hashes and only reads the leaves), hashed, and put back. The same hashes as
    /// `finish`, whatever the thread count.
    fn finish_parallel(
        &mut self,
        root: u32,
        version: Version,
        threads: usize,
    ) -> Result<(), StoreError> {
        let mut top = self.take(root, version);
        let below = std::mem::take(&mut top.below);
        let parts = threads.min(below.len()).max(1);
        let mut groups: Vec<Group> = (0..parts).map(|_| Vec::new()).collect();
        for (k, child) in below.into_iter().enumerate() {
            groups[k % parts].push(child);
        }
        let slots = &self.slots;
        let hash_group = move |mut group: Group| {
            let mut failed = None;
            for (_, t) in &mut group {
                if let Err(e) = t.hash(slots, version) {
                    failed = Some(e);
                    break;
                }
            }
            (group, failed)
        };
        let hashed: Vec<(Group, Option<StoreError>)> = std::thread::scope(|s| {
            let mut groups = groups.into_iter();
            let first = groups.next().unwrap_or_default();
            let helpers: Vec<_> = groups.map(|g| s.spawn(move || hash_group(g))).collect();
            let mut out = vec![hash_group(first)];
            for h in helpers {
                out.push(h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)));
            }
            out
        });
        let mut failed = None;
        for (group, f) in hashed {
            top.below.extend(group);
            failed = failed.or(f);
        }
        top.below.sort_by_key(|(n, _)| *n);
        let outcome = match failed {
            Some(e) => Err(e),
            None => top.absorb(&self.slots, version),
        };
        // every node goes back, whatever happened
        self.put_back(top);
        outcome
    }

    /// Internal node `i` of `version` and the block's internal nodes below it, out of the arena
    /// (their slots read as free until [`Self::put_back`]).
    fn take(&mut self, i: u32, version: Version) -> Taken {
        let node = match std::mem::replace(&mut self.slots[i as usize], Slot::Free) {
            Slot::Internal(node) => node,
            other => {
                self.slots[i as usize] = other;
                return Taken {
                    slot: i,
                    node: None,
                    below: Vec::new(),
                };
            }
        };
        let mut below = Vec::new();
        for n in 0..16 {
            let c = node.children[n];
            if c != NONE
                && node.versions[n] == version
                && matches!(self.slots.get(c as usize), Some(Slot::Internal(_)))
            {
                below.push((n, self.take(c, version)));
            }
        }
        Taken {
            slot: i,
            node: Some(node),
            below,
        }
    }

    fn put_back(&mut self, t: Taken) {
        for (_, child) in t.below {
            self.put_back(child);
        }
        if let Some(node) = t.node {
            self.slots[t.slot as usize] = Slot::Internal(node);
        }
    }

    /// [`Self::emit`] of the root `root`, its subtrees encoded on up to `threads` threads (in
    /// the same order as one thread).
    fn emit_all(
        &self,
        root: u32,
        version: Version,
        threads: usize,
        nodes: &mut NodeRecords,
    ) -> Result<(), StoreError> {
        let node = self.internal(root)?;
        if threads <= 1 {
            return self.emit(root, version, &mut [0; 32], 0, nodes);
        }
        let mut bytes = Vec::new();
        node.encode(&mut bytes);
        nodes.push((stored_key(version, &[0; 32], 0), bytes));
        let children: Vec<(usize, u32)> = (0..16)
            .filter(|&n| node.children[n] != NONE && node.versions[n] == version)
            .map(|n| (n, node.children[n]))
            .collect();
        let parts = threads.min(children.len()).max(1);
        let per = children.len().div_ceil(parts).max(1);
        let emit_part = |part: &[(usize, u32)]| -> Result<NodeRecords, StoreError> {
            let mut out = Vec::new();
            for &(n, c) in part {
                let mut path = [0u8; 32];
                path[0] = (n as u8) << 4;
                self.emit(c, version, &mut path, 1, &mut out)?;
            }
            Ok(out)
        };
        let encoded: Vec<Result<NodeRecords, StoreError>> = std::thread::scope(|s| {
            let mut chunks = children.chunks(per);
            let first = chunks.next().unwrap_or(&[]);
            let helpers: Vec<_> = chunks.map(|c| s.spawn(move || emit_part(c))).collect();
            let mut out = vec![emit_part(first)];
            for h in helpers {
                out.push(h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)));
            }
            out
        });
        for part in encoded {
            nodes.extend(part?);
        }
        Ok(())
    }

    /// Drops a computed block that was not committed.
    fn drop_pending(&mut self) {
        if let Some(p) = self.pending.take() {
            for i in p.allocated {
                if !matches!(self.slots[i as usize], Slot::Free) {
                    self.slots[i as usize] = Slot::Free;
                    self.free.push(i);
                }
            }
            self.root = p.committed_root;
        }
    }

    /// Computes the block `changes` at `version` over the committed tree: its root and, with
    /// `record`, what it writes to the tree tables (new nodes and stale nodes; the store writes
    /// the values; without, the batch is empty). A block computed earlier and not committed is
    /// dropped first.
    pub(super) fn apply(
        &mut self,
        changes: &Changes,
        version: Version,
        record: bool,
        threads: usize,
    ) -> Result<([u8; 32], Batch), StoreError> {
        self.drop_pending();
        self.pending = Some(Pending {
            version,
            committed_root: self.root,
            allocated: Vec::new(),
            replaced: Vec::new(),
            stale: Vec::new(),
            record,
        });
        let result = self.compute(changes, version, threads.max(1));
        if result.is_err() {
            self.drop_pending();
        }
        result
    }

    fn compute(
        &mut self,
        changes: &Changes,
        version: Version,
        threads: usize,
    ) -> Result<([u8; 32], Batch), StoreError> {
        // a small block is not worth a thread
        let threads = if changes.len() < PARALLEL_MIN_CHANGES {
            1
        } else {
            threads
        };
        let start = self.root;
        let mut root = self.root;
        let mut writes = Vec::with_capacity(changes.len());
        for (key, value_hash) in digests(changes, threads) {
            match value_hash {
                None => match self.delete(root, 0, &key)? {
                    Deleted::NotChanged => {}
                    Deleted::Removed => root = NONE,
                    Deleted::Updated(r) => root = r,
                },
                Some(value_hash) => writes.push((key, value_hash)),
            }
        }
        for (key, value_hash) in writes {
            root = self.insert(root, 0, &key, value_hash, version)?;
        }
        if root == start && root != NONE && version > 0 {
            // nothing changed: jmt still gives the version its own root, a copy (and does not
            // report the previous one stale)
            let copy = match &self.slots[root as usize] {
                Slot::Internal(n) => {
                    let mut copy = n.clone();
                    copy.version = version;
                    Slot::Internal(copy)
                }
                Slot::Leaf(l) => Slot::Leaf(Leaf {
                    version,
                    ..l.clone()
                }),
                Slot::Free => return Err(corrupt("a link to a free slot")),
            };
            if let Some(p) = &mut self.pending {
                p.replaced.push(root);
            }
            root = self.alloc(copy);
        }
        self.root = root;
        let record = self.pending.as_ref().is_some_and(|p| p.record);
        let mut nodes = Vec::new();
        let hash = match self.slots.get(root as usize) {
            None => {
                // an empty tree's root is jmt's null node
                if record {
                    nodes.push((stored_key(version, &[0; 32], 0), vec![0]));
                }
                PLACEHOLDER
            }
            Some(Slot::Leaf(l)) => {
                let hash = l.hash;
                if record {
                    self.emit(root, version, &mut [0; 32], 0, &mut nodes)?;
                }
                hash
            }
            Some(_) => {
                if threads > 1 {
                    self.finish_parallel(root, version, threads)?;
                } else {
                    self.finish(root, version)?;
                }
                if record {
                    self.emit_all(root, version, threads, &mut nodes)?;
                }
                self.internal(root)?.hash
            }
        };
        let stale = self
            .pending
            .as_mut()
            .map(|p| std::mem::take(&mut p.stale))
            .unwrap_or_default();
        Ok((hash, Batch { nodes, stale }))
    }

    /// Makes the computed block of `version` the committed tree. False when no block of that
    /// version is pending (the caller then reloads the tree from the store).
    pub(super) fn commit(&mut self, version: Version) -> bool {
        match self.pending.take() {
            Some(p) if p.version == version => {
                for i in p.replaced {
                    self.slots[i as usize] = Slot::Free;
                    self.free.push(i);
                }
                true
            }
            other => {
                self.pending = other;
                self.drop_pending();
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// jmt's hash of children `start .. start + width`, computed from scratch.
    fn reference(n: &Internal, start: u32, width: u32) -> [u8; 32] {
        let mask = (((1u32 << width) - 1) << start) as u16;
        let (e, l) = (n.exists() & mask, n.leaves & mask);
        if e == 0 {
            PLACEHOLDER
        } else if width == 1 || (e.count_ones() == 1 && l != 0) {
            n.hashes[e.trailing_zeros() as usize]
        } else {
            let half = width / 2;
            internal_hash(
                &reference(n, start, half),
                &reference(n, start + half, half),
            )
        }
    }

    /// A node rehashed after each of many random relinks (children added, replaced with a
    /// leaf or a subtree, removed; several at a time or one) has the hash computed from scratch:
    /// the kept inner hashes are never stale, including below a range that was empty or one
    /// leaf at the previous rehash.
    #[test]
    fn rehashing_only_the_changed_paths_gives_the_hash_from_scratch() {
        let mut seed = 0x11ee_u64;
        let mut next = move || {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            seed >> 33
        };
        let mut node = Internal::new(1);
        for round in 0..5_000u64 {
            let changes = if next() % 4 == 0 { 1 + next() % 16 } else { 1 };
            for _ in 0..changes {
                let n = (next() % 16) as usize;
                match next() % 3 {
                    0 => node.link(n, NONE),
                    kind => {
                        node.link(n, 7);
                        node.hashes[n] = Sha256::digest(next().to_le_bytes()).into();
                        if kind == 1 {
                            node.leaves |= 1 << n;
                        } else {
                            node.leaves &= !(1 << n);
                        }
                    }
                }
            }
            node.rehash();
            assert_eq!(node.hash, reference(&node, 0, 16), "round {round}");
            // an unchanged node answers from what it kept
            node.rehash();
            assert_eq!(node.hash, reference(&node, 0, 16), "round {round}, again");
        }
    }
}
