//! The per-block Merkle root over the block's finalized results (`rs_merkle`, SHA-256).
//!
//! ```text
//! leaf  = SHA-256("nodeop-task-result-v1" ‖ task_id (8, BE) ‖ SHA-256(result) (32))
//! node  = SHA-256(left ‖ right); a node without a sibling is carried up unchanged (rs_merkle)
//! root  = the single leaf when the block finalized one result
//! ```
//! Leaves are in the order the end block finalized the tasks (due height, then task id). The
//! leaves of every block are kept, so a path can be rebuilt after the task itself is pruned.

use rs_merkle::algorithms::Sha256 as MerkleSha256;
use rs_merkle::{MerkleProof, MerkleTree};
use serde::{Deserialize, Serialize};

use super::state::{block_results, result_record};
use crate::crypto::sha256;
use crate::state::StateRead;

pub const LEAF_DOMAIN: &[u8] = b"nodeop-task-result-v1";

pub fn leaf(task_id: u64, result_hash: &[u8; 32]) -> [u8; 32] {
    sha256(&[LEAF_DOMAIN, &task_id.to_be_bytes(), result_hash])
}

pub fn root(leaves: &[[u8; 32]]) -> [u8; 32] {
    MerkleTree::<MerkleSha256>::from_leaves(leaves)
        .root()
        .unwrap_or([0; 32])
}

/// A finalized result and its path to its block's root.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultProof {
    pub task_id: u64,
    pub finalized_height: u64,
    #[serde(with = "hex::serde")]
    pub result_hash: [u8; 32],
    #[serde(with = "hex::serde")]
    pub leaf: [u8; 32],
    pub leaf_index: u32,
    pub leaf_count: u32,
    #[serde(with = "super::state::hexser::vec32")]
    pub proof_hashes: Vec<[u8; 32]>,
    #[serde(with = "hex::serde")]
    pub root: [u8; 32],
}

impl ResultProof {
    /// Whether the path leads from `leaf(task_id, result_hash)` to `root`.
    pub fn verify(&self) -> bool {
        verify(
            self.task_id,
            &self.result_hash,
            self.leaf_index,
            self.leaf_count,
            &self.proof_hashes,
            &self.root,
        )
    }
}

/// The proof of a finalized task's result (also after the task is pruned).
pub fn result_proof(state: &impl StateRead, task_id: u64) -> Option<ResultProof> {
    let rec = result_record(state, task_id)?;
    let block = block_results(state, rec.finalized_height)?;
    let index = rec.leaf_index as usize;
    let leaf_value = *block.leaves.get(index)?;
    let tree = MerkleTree::<MerkleSha256>::from_leaves(&block.leaves);
    let proof = tree.proof(&[index]);
    Some(ResultProof {
        task_id,
        finalized_height: rec.finalized_height,
        result_hash: rec.result_hash,
        leaf: leaf_value,
        leaf_index: rec.leaf_index,
        leaf_count: block.leaves.len() as u32,
        proof_hashes: proof.proof_hashes().to_vec(),
        root: block.root,
    })
}

/// How many sibling hashes the path of leaf `index` of `count` has: one per level where the node
/// has a sibling (a node without one is carried up unchanged).
pub fn path_len(index: u32, count: u32) -> usize {
    let (mut i, mut n, mut len) = (index, count, 0);
    while n > 1 {
        if i % 2 == 1 || i + 1 < n {
            len += 1;
        }
        i /= 2;
        n = n.div_ceil(2);
    }
    len
}

/// Checks a result against a root: what a consumer runs with the root it trusts. The path must
/// be exactly the leaf's path ([`path_len`] hashes): a path with hashes appended is refused.
pub fn verify(
    task_id: u64,
    result_hash: &[u8; 32],
    leaf_index: u32,
    leaf_count: u32,
    proof_hashes: &[[u8; 32]],
    root: &[u8; 32],
) -> bool {
    if leaf_index >= leaf_count || proof_hashes.len() != path_len(leaf_index, leaf_count) {
        return false;
    }
    let proof = MerkleProof::<MerkleSha256>::new(proof_hashes.to_vec());
    proof.verify(
        *root,
        &[leaf_index as usize],
        &[leaf(task_id, result_hash)],
        leaf_count as usize,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_leaf_of_odd_and_even_trees_verifies_and_a_wrong_one_does_not() {
        for n in 1..=9u64 {
            let hashes: Vec<[u8; 32]> = (0..n).map(|i| sha256(&[&i.to_be_bytes()])).collect();
            let leaves: Vec<[u8; 32]> =
                (0..n).map(|i| leaf(100 + i, &hashes[i as usize])).collect();
            let r = root(&leaves);
            let tree = MerkleTree::<MerkleSha256>::from_leaves(&leaves);
            for (i, h) in hashes.iter().enumerate() {
                let p = tree.proof(&[i]);
                let (id, idx, len) = (100 + i as u64, i as u32, n as u32);
                assert!(verify(id, h, idx, len, p.proof_hashes(), &r));
                assert!(!verify(id, &[0; 32], idx, len, p.proof_hashes(), &r));
                assert!(!verify(99, h, idx, len, p.proof_hashes(), &r));
                assert!(!verify(id, h, len, len, p.proof_hashes(), &r));
                assert_eq!(p.proof_hashes().len(), path_len(idx, len));
                let mut padded = p.proof_hashes().to_vec();
                padded.push([7; 32]);
                assert!(
                    !verify(id, h, idx, len, &padded, &r),
                    "a padded path is refused"
                );
            }
        }
        let one = [leaf(1, &[5; 32])];
        assert_eq!(root(&one), one[0]);
    }
}
