//! The live tree: the newest version of the Jellyfish Merkle tree, held in memory, from which a
//! block's root, its new nodes and its stale nodes are computed.
//!
//! jmt computes a block by reading every node on the changed paths back from the store (decoded
//! from redb, or cloned out of the memory engine's map), building its own caches of `NodeKey`s and
//! nibble paths, and hashing; a 10k-key block over a million keys spent most of its tree time
//! there. This tree keeps the newest version's nodes in memory (each internal node owns its
//! children and holds their hashes, versions and leaf counts), so a block only walks and rehashes
//! what it changes.
//!
//! It builds exactly the tree jmt builds: the same shape (a leaf sits where its key's prefix
//! first becomes unique; a node left with a single leaf child is replaced by that leaf), the same
//! hashes (jmt's leaf and internal-node domain separators and its placeholder for empty subtrees,
//! the 16 children hashed as a 4-level binary tree in which a subtree holding one leaf is that
//! leaf), the same versions (every node a block rewrites, moves or creates is of the block's
//! version; everything else keeps its version) and the same stale nodes. For the value records
//! (kept under their leaf's version) it also reports the leaves a block moved without writing
//! them and the leaves whose records no later version reaches. A block applies its
//! deletions first, then its writes, as the store did through jmt (the result does not depend on
//! the order within each group). The store's tests compare root, new nodes and stale nodes with
//! jmt's own `put_value_set` block by block.
//!
//! Blocks are computed in place: a block's changes are made to the committed tree's own nodes
//! (a node of an older version that a block changes is reported stale and takes the block's
//! version), so a block allocates only the leaves and nodes it adds. A computed block that is
//! not committed (FinalizeBlock run again for the same height, which CometBFT does not do in a
//! running node) or a computation that failed leaves the tree unusable: the store then reads
//! the committed tree again (`LiveTree::load`, or `LiveTree::rebuild` from the newest state for
//! a store that keeps no nodes).
//!
//! A large block is computed on several threads: under an internal root, the 16 subtrees are
//! independent, so each thread applies the deletions, then the writes, of the subtrees it was
//! given and hashes them; the root's own changes (a root left with one leaf takes that leaf's
//! place, as jmt does) are made between the two. The result is the same whatever the thread
//! count, and the store's tests compare a three-thread store with jmt block by block.

use jmt::storage::{Node, NodeKey, TreeReader};
use jmt::Version;
use sha2::{Digest, Sha256};

use super::StoreError;
use crate::state::Changes;

const LEAF_DOMAIN: &[u8] = b"JMT::LeafNode";
const INTERNAL_DOMAIN: &[u8] = b"JMT::IntrnalNode";
const PLACEHOLDER: [u8; 32] = *b"SPARSE_MERKLE_PLACEHOLDER_HASH__";

/// A link to a subtree.
#[derive(Default)]
enum Child {
    #[default]
    Empty,
    Leaf(Box<Leaf>),
    Node(Box<Internal>),
}

impl Child {
    fn is_empty(&self) -> bool {
        matches!(self, Child::Empty)
    }
}

/// An internal node, with what its parent's hash and jmt's encoding need of each child kept
/// beside the link, so that hashing and encoding a node never visits its children.
struct Internal {
    children: [Child; 16],
    /// Each child's hash, version and leaf count (1 for a leaf), as of the last `finish`.
    hashes: [[u8; 32]; 16],
    versions: [Version; 16],
    counts: [u64; 16],
    /// The children that are leaves.
    leaves: u16,
    version: Version,
    /// Valid once the block that changed the node is computed.
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
    fn new(version: Version) -> Box<Self> {
        Box::new(Self {
            children: Default::default(),
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
        })
    }

    /// Marks child `n` as changed by this node's block (linked to a new subtree, or emptied).
    fn link(&mut self, n: usize) {
        self.dirty |= 1 << n;
        self.versions[n] = self.version;
        if self.children[n].is_empty() {
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

    /// Takes the hash, kind and leaf count of each child this node's block changed (their own
    /// subtrees already hashed) and rehashes.
    fn absorb(&mut self) {
        for n in 0..16 {
            if self.versions[n] != self.version {
                continue;
            }
            let fresh = match &self.children[n] {
                Child::Empty => continue,
                Child::Leaf(l) => (l.hash, true, 1),
                Child::Node(c) => (c.hash, false, c.leaf_count),
            };
            self.take_child(n, fresh.0, fresh.1, fresh.2);
        }
        self.rehash();
    }

    fn exists(&self) -> u16 {
        let mut bits = 0u16;
        for (n, c) in self.children.iter().enumerate() {
            if !c.is_empty() {
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
            .filter(|(c, _)| !c.is_empty())
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

    /// The length of borsh(Node::Internal): a tag, one byte an absent child and 42 or 50 bytes
    /// a present one (hash, version, kind, and a subtree's leaf count), two counts.
    fn encoded_len(&self) -> usize {
        let present = (0..16).filter(|&n| !self.children[n].is_empty());
        let subtrees = present
            .clone()
            .filter(|&n| self.leaves & (1 << n) == 0)
            .count();
        1 + 16 + present.count() * (32 + 8 + 1) + subtrees * 8 + 16
    }

    /// borsh(Node::Internal).
    fn encode(&self, out: &mut Vec<u8>) {
        let start = out.len();
        out.reserve(self.encoded_len());
        out.push(1);
        let mut count = 0u64;
        for n in 0..16 {
            if self.children[n].is_empty() {
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
        debug_assert_eq!(out.len() - start, self.encoded_len());
    }
}

/// One step of a walk down the stored tree towards a key (see [`step`]).
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Step {
    /// The key has no leaf in this tree.
    Absent,
    /// This node is the key's leaf.
    Leaf,
    /// Go on to the child of this version (one nibble deeper).
    Child(Version),
}

/// Where the walk to `key` goes from the node stored as `bytes` (borsh(Node), as `emit` and
/// jmt write it) at `depth`, read in place: nothing is decoded or allocated.
pub(super) fn step(bytes: &[u8], key: &[u8; 32], depth: usize) -> Result<Step, StoreError> {
    let malformed = || {
        corrupt(&format!(
            "a stored node on the path of {} is malformed",
            hex::encode_upper(key)
        ))
    };
    match bytes.first() {
        Some(0) => Ok(Step::Absent),
        Some(2) => match bytes.get(1..33) {
            Some(k) if k == key.as_slice() => Ok(Step::Leaf),
            Some(_) => Ok(Step::Absent),
            None => Err(malformed()),
        },
        Some(1) => {
            let want = nibble(key, depth);
            let mut at = 1;
            for n in 0..16 {
                match bytes.get(at) {
                    Some(0) => {
                        if n == want {
                            return Ok(Step::Absent);
                        }
                        at += 1;
                    }
                    Some(1) => {
                        let version = bytes
                            .get(at + 33..at + 41)
                            .and_then(|v| v.try_into().ok())
                            .map(u64::from_le_bytes)
                            .ok_or_else(malformed)?;
                        if n == want {
                            return Ok(Step::Child(version));
                        }
                        at += match bytes.get(at + 41) {
                            Some(0) => 42,
                            Some(1) => 50,
                            _ => return Err(malformed()),
                        };
                    }
                    _ => return Err(malformed()),
                }
            }
            Err(malformed())
        }
        _ => Err(malformed()),
    }
}

struct Leaf {
    key: [u8; 32],
    value_hash: [u8; 32],
    version: Version,
    hash: [u8; 32],
}

fn new_leaf(key: [u8; 32], value_hash: [u8; 32], version: Version) -> Box<Leaf> {
    Box::new(Leaf {
        key,
        value_hash,
        version,
        hash: leaf_hash(&key, &value_hash),
    })
}

/// What a block writes to the tree tables, encoded as the store keeps it.
#[derive(Default)]
pub(super) struct Batch {
    /// (`jmt_nodes` key, borsh(Node)) of every node of the block's version, the root first.
    pub(super) nodes: Vec<(Vec<u8>, Vec<u8>)>,
    /// The `jmt_nodes` keys of the nodes the block made stale.
    pub(super) stale: Vec<Vec<u8>>,
    /// Leaves the block moved (or, for a leaf root, copied) to its version without writing their
    /// key: (the version of the leaf before, key hash). A value record is stored under its
    /// leaf's version, so the store copies each of these records to the block's version.
    pub(super) moved: Vec<(Version, [u8; 32])>,
    /// The value records no longer reachable from the block's version: (version, key hash) of
    /// every leaf of an earlier version that the block rewrote, moved or deleted.
    pub(super) stale_values: Vec<(Version, [u8; 32])>,
    /// The key hash of every change, in the changes' order (computed once, here; the store keys
    /// the value records with them).
    pub(super) key_hashes: Vec<[u8; 32]>,
}

/// One change of a block: its key and its value (`None`: a deletion).
type Change<'a> = (&'a Vec<u8>, &'a Option<Vec<u8>>);

impl Batch {
    /// Each change of the block `changes` (the one this batch was computed from) with its key
    /// hash; an error when the batch is not that block's.
    pub(super) fn hashed<'a>(
        &'a self,
        changes: &'a Changes,
    ) -> Result<impl Iterator<Item = (Change<'a>, &'a [u8; 32])>, StoreError> {
        if self.key_hashes.len() != changes.len() {
            return Err(corrupt(&format!(
                "a batch of {} key hashes for a block of {} changes",
                self.key_hashes.len(),
                changes.len()
            )));
        }
        Ok(changes.iter().zip(&self.key_hashes))
    }
}

/// Where the tree stands.
#[derive(Default, Clone, Copy, PartialEq, Eq, Debug)]
enum Status {
    /// It is the committed tree.
    #[default]
    Committed,
    /// The block of this version is computed over it and not yet committed.
    Computed(Version),
    /// A block was computed over it and dropped, or its computation failed: it must be read
    /// again.
    Unusable,
}

#[derive(Default)]
pub(super) struct LiveTree {
    root: Child,
    status: Status,
}

/// One thread's share of a block: the block's version, the stale nodes and value records it
/// found and the leaves it moved.
struct Work {
    version: Version,
    record: bool,
    stale: Vec<Vec<u8>>,
    stale_values: Vec<(Version, [u8; 32])>,
    moved: Vec<(Version, [u8; 32])>,
}

impl Work {
    fn new(version: Version, record: bool) -> Self {
        Self {
            version,
            record,
            stale: Vec::new(),
            stale_values: Vec::new(),
            moved: Vec::new(),
        }
    }

    /// Takes in what another thread's share found.
    fn join(&mut self, other: Work) {
        self.stale.extend(other.stale);
        self.stale_values.extend(other.stale_values);
        self.moved.extend(other.moved);
    }

    /// Leaf `leaf` (at `depth` on the path of `key`) is rewritten, deleted, or (`moves`) moved
    /// by this block; it takes the block's version.
    fn retire_leaf(&mut self, leaf: &mut Leaf, key: &[u8; 32], depth: usize, moves: bool) {
        if leaf.version == self.version {
            return;
        }
        self.retire(leaf.version, key, depth);
        if self.record {
            self.stale_values.push((leaf.version, leaf.key));
            if moves {
                self.moved.push((leaf.version, leaf.key));
            }
        }
        leaf.version = self.version;
    }

    /// A node of `version` at `depth` on the path of `key` leaves its place: stale when an
    /// earlier block made it (a node of this block is simply gone).
    fn retire(&mut self, version: Version, key: &[u8; 32], depth: usize) {
        if version != self.version && self.record {
            self.stale.push(stored_key(version, key, depth));
        }
    }

    /// Internal node `node` (at `depth` on the path of `key`) becomes a node of this block.
    fn touch(&mut self, node: &mut Internal, key: &[u8; 32], depth: usize) {
        if node.version != self.version {
            self.retire(node.version, key, depth);
            node.version = self.version;
        }
    }
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Tree(format!("live tree: {what}"))
}

/// Nibble `i` of a key hash (the high half of a byte first).
pub(super) fn nibble(key: &[u8; 32], i: usize) -> usize {
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
pub(super) fn stored_key(version: Version, key: &[u8; 32], depth: usize) -> Vec<u8> {
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

/// Writes `key` (its value's hash `value_hash`) into the subtree at `slot`, at `depth`.
fn insert(slot: &mut Child, depth: usize, key: &[u8; 32], value_hash: [u8; 32], work: &mut Work) {
    match slot {
        Child::Empty => *slot = Child::Leaf(new_leaf(*key, value_hash, work.version)),
        Child::Node(node) => {
            work.touch(node, key, depth);
            let n = nibble(key, depth);
            insert(&mut node.children[n], depth + 1, key, value_hash, work);
            node.link(n);
        }
        Child::Leaf(leaf) if leaf.key == *key => {
            work.retire_leaf(leaf, key, depth, false);
            leaf.value_hash = value_hash;
            leaf.hash = leaf_hash(key, &value_hash);
        }
        Child::Leaf(_) => {
            // a new key under an existing leaf: both go down to where their paths part
            let Child::Leaf(mut existing) = std::mem::take(slot) else {
                return;
            };
            work.retire_leaf(&mut existing, key, depth, true);
            let mut fork = depth;
            while nibble(key, fork) == nibble(&existing.key, fork) {
                fork += 1;
            }
            let (moved, new) = (nibble(&existing.key, fork), nibble(key, fork));
            let mut node = Internal::new(work.version);
            node.children[moved] = Child::Leaf(existing);
            node.link(moved);
            node.children[new] = Child::Leaf(new_leaf(*key, value_hash, work.version));
            node.link(new);
            let mut top = Child::Node(node);
            for d in (depth..fork).rev() {
                let mut node = Internal::new(work.version);
                let n = nibble(key, d);
                node.children[n] = top;
                node.link(n);
                top = Child::Node(node);
            }
            *slot = top;
        }
    }
}

/// Deletes `key` from the subtree at `slot`, at `depth`; whether it was there.
fn delete(slot: &mut Child, depth: usize, key: &[u8; 32], work: &mut Work) -> bool {
    match slot {
        Child::Empty => false,
        Child::Leaf(leaf) => {
            if leaf.key != *key {
                return false;
            }
            work.retire_leaf(leaf, key, depth, false);
            *slot = Child::Empty;
            true
        }
        Child::Node(node) => {
            let n = nibble(key, depth);
            if !delete(&mut node.children[n], depth + 1, key, work) {
                return false;
            }
            work.touch(node, key, depth);
            node.link(n);
            settle(slot, depth, work);
            true
        }
    }
}

/// An internal node of this block at `slot` (at `depth`) that lost children: gone when it has
/// none left, replaced by its child when that is its only child and a leaf (jmt's shape).
fn settle(slot: &mut Child, depth: usize, work: &mut Work) {
    let Child::Node(node) = slot else {
        return;
    };
    let left = {
        let mut left = (0..16).filter(|&n| !node.children[n].is_empty());
        (left.next(), left.next())
    };
    match left {
        (None, _) => *slot = Child::Empty,
        (Some(only), None) if matches!(node.children[only], Child::Leaf(_)) => {
            if let Child::Leaf(mut leaf) = std::mem::take(&mut node.children[only]) {
                let key = leaf.key;
                work.retire_leaf(&mut leaf, &key, depth + 1, true);
                *slot = Child::Leaf(leaf);
            }
        }
        _ => {}
    }
}

/// Hashes every internal node of `version` under and including `node`, children first.
fn finish(node: &mut Internal, version: Version) {
    for n in 0..16 {
        if node.versions[n] != version {
            continue;
        }
        if let Child::Node(c) = &mut node.children[n] {
            finish(c, version);
        }
    }
    node.absorb();
}

/// Hashes the subtree at `slot` when its top is an internal node of `version`.
fn finish_child(slot: &mut Child, version: Version) {
    if let Child::Node(node) = slot {
        if node.version == version {
            finish(node, version);
        }
    }
}

/// Every node of `version` in the subtree at `slot` (at the first `depth` nibbles of `path`)
/// into `nodes`, parents first.
fn emit(
    slot: &Child,
    version: Version,
    path: &mut [u8; 32],
    depth: usize,
    nodes: &mut NodeRecords,
) {
    match slot {
        Child::Empty => {}
        Child::Leaf(l) => {
            let mut bytes = Vec::with_capacity(65);
            bytes.push(2);
            bytes.extend_from_slice(&l.key);
            bytes.extend_from_slice(&l.value_hash);
            nodes.push((stored_key(version, path, depth), bytes));
        }
        Child::Node(node) => {
            let mut bytes = Vec::new();
            node.encode(&mut bytes);
            nodes.push((stored_key(version, path, depth), bytes));
            for n in 0..16 {
                if node.versions[n] != version || node.children[n].is_empty() {
                    continue;
                }
                let byte = &mut path[depth / 2];
                *byte = if depth & 1 == 0 {
                    (n as u8) << 4
                } else {
                    (*byte & 0xf0) | n as u8
                };
                emit(&node.children[n], version, path, depth + 1, nodes);
            }
        }
    }
}

/// Runs `f` on each given subtree of the root (nibble, slot), on up to `threads` threads, each
/// with its own [`Work`] (joined into `work` after); the results in nibble order.
fn in_parallel<T: Send>(
    slots: Vec<(usize, &mut Child)>,
    threads: usize,
    work: &mut Work,
    f: impl Fn(usize, &mut Child, &mut Work) -> T + Sync,
) -> Vec<(usize, T)> {
    let (version, record) = (work.version, work.record);
    let parts = threads.min(slots.len()).max(1);
    let mut groups: Vec<Vec<(usize, &mut Child)>> = (0..parts).map(|_| Vec::new()).collect();
    for (k, slot) in slots.into_iter().enumerate() {
        groups[k % parts].push(slot);
    }
    let f = &f;
    let run = move |group: Vec<(usize, &mut Child)>| {
        let mut work = Work::new(version, record);
        let out: Vec<(usize, T)> = group
            .into_iter()
            .map(|(n, slot)| (n, f(n, slot, &mut work)))
            .collect();
        (out, work)
    };
    let done: Vec<_> = std::thread::scope(|s| {
        let mut groups = groups.into_iter();
        let first = groups.next().unwrap_or_default();
        let helpers: Vec<_> = groups.map(|g| s.spawn(move || run(g))).collect();
        let mut out = vec![run(first)];
        for h in helpers {
            out.push(h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)));
        }
        out
    });
    let mut results = Vec::new();
    for (out, w) in done {
        results.extend(out);
        work.join(w);
    }
    results.sort_by_key(|(n, _)| *n);
    results
}

/// A block's deletions and writes, by the first nibble of their key hash.
type ByNibble<T> = [Vec<T>; 16];

impl LiveTree {
    /// An empty tree.
    pub(super) fn new() -> Self {
        Self::default()
    }

    /// The tree of `version` as stored, read from its root down.
    pub(super) fn load<R: TreeReader>(reader: &R, version: Version) -> Result<Self, StoreError> {
        let mut path = Vec::with_capacity(64);
        Ok(Self {
            root: load_node(reader, version, &mut path)?,
            status: Status::Committed,
        })
    }

    /// The tree of a state (`state`, the committed state of `version`) built from its values,
    /// for a store that keeps no tree nodes. Its root is the stored tree's; node versions are
    /// not kept (such a store records no nodes).
    pub(super) fn rebuild<'a>(
        state: impl Iterator<Item = (&'a Vec<u8>, &'a Vec<u8>)>,
        version: Version,
        threads: usize,
    ) -> Result<Self, StoreError> {
        let changes: Changes = state.map(|(k, v)| (k.clone(), Some(v.clone()))).collect();
        let mut tree = Self::new();
        tree.apply(&changes, version, false, threads)?;
        tree.status = Status::Committed;
        Ok(tree)
    }

    /// The root's hash (jmt's placeholder for an empty tree).
    pub(super) fn root_hash(&self) -> [u8; 32] {
        match &self.root {
            Child::Empty => PLACEHOLDER,
            Child::Leaf(l) => l.hash,
            Child::Node(n) => n.hash,
        }
    }

    /// Whether a block can be computed over this tree (it is the committed tree).
    pub(super) fn is_committed(&self) -> bool {
        self.status == Status::Committed
    }

    /// Computes the block `changes` at `version` over the committed tree: its root and, with
    /// `record`, what it writes to the tree tables (new nodes and stale nodes; the store writes
    /// the values; without, the batch is empty). The tree must be the committed one
    /// ([`Self::is_committed`]).
    pub(super) fn apply(
        &mut self,
        changes: &Changes,
        version: Version,
        record: bool,
        threads: usize,
    ) -> Result<([u8; 32], Batch), StoreError> {
        if self.status != Status::Committed {
            return Err(corrupt(
                "a block is computed over a tree that is not the committed one",
            ));
        }
        // until it is done the tree is neither the committed one nor the block's
        self.status = Status::Unusable;
        let computed = self.compute(changes, version, record, threads.max(1));
        self.status = Status::Computed(version);
        Ok(computed)
    }

    fn compute(
        &mut self,
        changes: &Changes,
        version: Version,
        record: bool,
        threads: usize,
    ) -> ([u8; 32], Batch) {
        // a small block is not worth a thread
        let threads = if changes.len() < PARALLEL_MIN_CHANGES {
            1
        } else {
            threads
        };
        let mut deletes: ByNibble<[u8; 32]> = Default::default();
        let mut writes: ByNibble<([u8; 32], [u8; 32])> = Default::default();
        let digests = digests(changes, threads);
        for &(key, value_hash) in &digests {
            let n = nibble(&key, 0);
            match value_hash {
                None => deletes[n].push(key),
                Some(value_hash) => writes[n].push((key, value_hash)),
            }
        }
        let mut work = Work::new(version, record);
        if threads > 1 && matches!(self.root, Child::Node(_)) {
            self.compute_parallel(deletes, writes, &mut work, threads);
        } else {
            // deletions first, then writes (each group's order does not matter)
            for key in deletes.iter().flatten() {
                delete(&mut self.root, 0, key, &mut work);
            }
            for (key, value_hash) in writes.iter().flatten() {
                insert(&mut self.root, 0, key, *value_hash, &mut work);
            }
            finish_child(&mut self.root, version);
        }
        let hash = match &mut self.root {
            Child::Empty => PLACEHOLDER,
            Child::Leaf(l) => {
                // nothing changed: jmt still gives the version its own root, a copy (and does
                // not report the previous one stale; the store marks it)
                if l.version != version && record {
                    work.stale_values.push((l.version, l.key));
                    work.moved.push((l.version, l.key));
                }
                l.version = version;
                l.hash
            }
            Child::Node(n) => {
                n.version = version;
                n.hash
            }
        };
        let mut nodes = Vec::new();
        if record {
            match &self.root {
                // an empty tree's root is jmt's null node
                Child::Empty => nodes.push((stored_key(version, &[0; 32], 0), vec![0])),
                Child::Leaf(_) => emit(&self.root, version, &mut [0; 32], 0, &mut nodes),
                Child::Node(root) => emit_all(root, version, threads, &mut nodes),
            }
        }
        // a leaf moved and then written or deleted by the same block needs no copy: the store
        // writes the block's value under the block's version, or nothing
        if !work.moved.is_empty() {
            let mut changed: Vec<[u8; 32]> = digests.iter().map(|(k, _)| *k).collect();
            changed.sort_unstable();
            work.moved
                .retain(|(_, k)| changed.binary_search(k).is_err());
        }
        (
            hash,
            Batch {
                nodes,
                stale: work.stale,
                moved: work.moved,
                stale_values: work.stale_values,
                key_hashes: if record {
                    digests.iter().map(|(k, _)| *k).collect()
                } else {
                    Vec::new()
                },
            },
        )
    }

    /// The block's changes under an internal root, its 16 subtrees on up to `threads` threads.
    fn compute_parallel(
        &mut self,
        deletes: ByNibble<[u8; 32]>,
        writes: ByNibble<([u8; 32], [u8; 32])>,
        work: &mut Work,
        threads: usize,
    ) {
        let version = work.version;
        let Child::Node(root) = &mut self.root else {
            return;
        };
        // the deletions, subtree by subtree
        let slots: Vec<(usize, &mut Child)> = root
            .children
            .iter_mut()
            .enumerate()
            .filter(|(n, _)| !deletes[*n].is_empty())
            .collect();
        let deleted = in_parallel(slots, threads, work, |n, slot, work| {
            let mut changed = false;
            for key in &deletes[n] {
                changed |= delete(slot, 1, key, work);
            }
            changed
        });
        let mut changed = deleted
            .iter()
            .filter(|(_, c)| *c)
            .map(|(n, _)| *n)
            .peekable();
        if changed.peek().is_some() {
            work.touch(root, &[0; 32], 0);
            for n in changed {
                root.link(n);
            }
            settle(&mut self.root, 0, work);
        }
        let Child::Node(root) = &mut self.root else {
            // a root left with one leaf (or nothing) changed kind: the writes go on one thread
            for (key, value_hash) in writes.iter().flatten() {
                insert(&mut self.root, 0, key, *value_hash, work);
            }
            finish_child(&mut self.root, version);
            return;
        };
        // the writes, and every changed subtree hashed
        let any_writes = writes.iter().any(|w| !w.is_empty());
        if any_writes {
            work.touch(root, &[0; 32], 0);
        }
        // the subtrees the deletions changed are hashed with the others
        let versions = root.versions;
        let slots: Vec<(usize, &mut Child)> = root
            .children
            .iter_mut()
            .enumerate()
            .filter(|(n, _)| !writes[*n].is_empty() || versions[*n] == version)
            .collect();
        in_parallel(slots, threads, work, |n, slot, work| {
            for (key, value_hash) in &writes[n] {
                insert(slot, 1, key, *value_hash, work);
            }
            finish_child(slot, version);
        });
        for (n, w) in writes.iter().enumerate() {
            if !w.is_empty() {
                root.link(n);
            }
        }
        if root.version == version {
            root.absorb();
        }
    }

    /// Makes the computed block of `version` the committed tree. False when no block of that
    /// version is the one computed (the caller then reads the tree again).
    pub(super) fn commit(&mut self, version: Version) -> bool {
        if self.status == Status::Computed(version) {
            self.status = Status::Committed;
            true
        } else {
            self.status = Status::Unusable;
            false
        }
    }
}

fn load_node<R: TreeReader>(
    reader: &R,
    version: Version,
    path: &mut Vec<u8>,
) -> Result<Child, StoreError> {
    let key = node_key(version, path)?;
    let node = reader
        .get_node_option(&key)
        .map_err(|e| StoreError::Tree(e.to_string()))?
        .ok_or_else(|| corrupt(&format!("node {key:?} is missing from the store")))?;
    Ok(match node {
        Node::Null if path.is_empty() => Child::Empty,
        Node::Null => return Err(corrupt(&format!("a null node below the root at {key:?}"))),
        Node::Leaf(leaf) => {
            let bytes = borsh::to_vec(&leaf).map_err(|e| corrupt(&e.to_string()))?;
            let mut value_hash = [0u8; 32];
            value_hash.copy_from_slice(&bytes[32..64]);
            Child::Leaf(new_leaf(leaf.key_hash().0, value_hash, version))
        }
        Node::Internal(internal) => {
            let mut node = Internal::new(version);
            // every child is new to it: `dirty` starts full
            let listed: Vec<(u8, Version, bool, u64)> = internal
                .children_sorted()
                .map(|(n, c)| (u8::from(n), c.version, c.is_leaf(), c.leaf_count() as u64))
                .collect();
            for (n, child_version, is_leaf, count) in listed {
                path.push(n);
                let child = load_node(reader, child_version, path)?;
                path.pop();
                let n = n as usize;
                node.versions[n] = child_version;
                node.counts[n] = count;
                match &child {
                    Child::Leaf(l) => {
                        if !is_leaf {
                            return Err(corrupt(&format!("child {n} of {key:?} is a leaf")));
                        }
                        node.hashes[n] = l.hash;
                        node.leaves |= 1 << n;
                    }
                    Child::Node(c) => node.hashes[n] = c.hash,
                    Child::Empty => return Err(corrupt("an empty child listed")),
                }
                node.children[n] = child;
            }
            node.rehash();
            Child::Node(node)
        }
    })
}

/// [`emit`] of the internal root `root`, its subtrees encoded on up to `threads` threads (in
/// the same order as one thread).
fn emit_all(root: &Internal, version: Version, threads: usize, nodes: &mut NodeRecords) {
    let mut bytes = Vec::new();
    root.encode(&mut bytes);
    nodes.push((stored_key(version, &[0; 32], 0), bytes));
    let children: Vec<(usize, &Child)> = (0..16)
        .filter(|&n| !root.children[n].is_empty() && root.versions[n] == version)
        .map(|n| (n, &root.children[n]))
        .collect();
    let emit_into = |part: &[(usize, &Child)], out: &mut NodeRecords| {
        for &(n, c) in part {
            let mut path = [0u8; 32];
            path[0] = (n as u8) << 4;
            emit(c, version, &mut path, 1, out);
        }
    };
    if threads <= 1 {
        emit_into(&children, nodes);
        return;
    }
    let emit_part = |part: &[(usize, &Child)]| -> NodeRecords {
        let mut out = Vec::new();
        emit_into(part, &mut out);
        out
    };
    let parts = threads.min(children.len()).max(1);
    let per = children.len().div_ceil(parts).max(1);
    let encoded: Vec<NodeRecords> = std::thread::scope(|s| {
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
        nodes.extend(part);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `step` reads every stored node as jmt's decoding does: for each node a block emits and
    /// keys going through each of its 16 slots, it names the same child version, leaf or
    /// absence; and a truncated or altered node gives an error, never a panic.
    #[test]
    fn a_walk_step_reads_a_stored_node_as_jmt_decodes_it() {
        let mut changes = Changes::new();
        for i in 0..3_000u32 {
            changes.insert(
                format!("key/{i}").into_bytes(),
                Some(i.to_le_bytes().to_vec()),
            );
        }
        let mut tree = LiveTree::new();
        let (_, batch) = tree.apply(&changes, 0, true, 1).unwrap();
        let mut checked = 0;
        for (stored, bytes) in &batch.nodes {
            // stored key: version (BE), then borsh(NodeKey): version, nibble count, packed path
            let depth = u64::from_le_bytes(stored[16..24].try_into().unwrap()) as usize;
            let node: Node = borsh::from_slice(bytes).unwrap();
            for n in 0..16u8 {
                // the node's own path (packed after the 28-byte header), then nibble n
                let mut key = [0u8; 32];
                let path = &stored[28..];
                key[..path.len()].copy_from_slice(path);
                let byte = &mut key[depth / 2];
                *byte = if depth.is_multiple_of(2) {
                    n << 4
                } else {
                    (*byte & 0xf0) | n
                };
                let expected = match &node {
                    Node::Null => Step::Absent,
                    Node::Leaf(l) if l.key_hash().0 == key => Step::Leaf,
                    Node::Leaf(_) => Step::Absent,
                    Node::Internal(i) => match i.children_sorted().find(|(m, _)| u8::from(*m) == n)
                    {
                        Some((_, c)) => Step::Child(c.version),
                        None => Step::Absent,
                    },
                };
                assert_eq!(step(bytes, &key, depth).unwrap(), expected);
                checked += 1;
            }
            if let Node::Leaf(l) = &node {
                assert_eq!(step(bytes, &l.key_hash().0, depth).unwrap(), Step::Leaf);
            }
            for cut in 0..bytes.len() {
                let _ = step(&bytes[..cut], &[0xff; 32], depth);
            }
            let mut bad = bytes.clone();
            bad[1] = 7;
            if matches!(node, Node::Internal(_)) {
                assert!(step(&bad, &[0; 32], depth).is_err());
            }
        }
        assert!(checked > 16 * 200, "{checked} node slots checked");
        assert!(step(&[9], &[0; 32], 0).is_err());
        assert!(step(&[], &[0; 32], 0).is_err());
    }

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
        let dummy = || Child::Leaf(new_leaf([0; 32], [0; 32], 1));
        let mut node = Internal::new(1);
        for round in 0..5_000u64 {
            let changes = if next() % 4 == 0 { 1 + next() % 16 } else { 1 };
            for _ in 0..changes {
                let n = (next() % 16) as usize;
                match next() % 3 {
                    0 => {
                        node.children[n] = Child::Empty;
                        node.link(n);
                    }
                    kind => {
                        node.children[n] = dummy();
                        node.link(n);
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
