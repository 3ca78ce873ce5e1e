//! A task result's Merkle path to its block's result root (PROTOCOL.md §3.4), checked with the
//! app's own tree ([`nodeop_app::modules::tasks::merkle`]): on its own
//! ([`verify_result_path`]), against a proven result record and a proven block root
//! ([`check_against_proven`]), or read and proven in one go ([`proven_result`]).

use std::time::Duration;

use anyhow::{anyhow, Result};
use nodeop_app::crypto::sha256;
use nodeop_app::modules::tasks::merkle;
use nodeop_app::modules::tasks::query::ResultView;
use nodeop_app::modules::tasks::state::{BlockResults, ResultRecord};
use serde::Serialize;
use tendermint::hash::Hash;
use tendermint_rpc::HttpClient;

use super::reads::result;
use crate::verify::{query_verified, Record, VerificationFailed, VerifiedRecord};

/// Checks a `/tasks/result/{id}` answer on its own: the leaf is the task's result leaf, the
/// result bytes (when given) hash to the result hash, and the path climbs from the leaf to the
/// root the answer names. (That the root is the chain's needs [`proven_result`].)
pub fn verify_result_path(v: &ResultView) -> Result<(), VerificationFailed> {
    if let Some(bytes) = &v.result {
        if sha256(&[bytes]) != v.result_hash {
            return Err(VerificationFailed(format!(
                "the result bytes of task {} do not hash to its result hash",
                v.task_id
            )));
        }
    }
    if merkle::leaf(v.task_id, &v.result_hash) != v.leaf {
        return Err(VerificationFailed(format!(
            "the leaf is not SHA-256(\"nodeop-task-result-v1\" ‖ {} ‖ result hash)",
            v.task_id
        )));
    }
    if v.leaf_index < v.leaf_count && v.path.len() != merkle::path_len(v.leaf_index, v.leaf_count) {
        return Err(VerificationFailed(format!(
            "the path of task {} has {} hashes, which does not fit leaf {} of {}",
            v.task_id,
            v.path.len(),
            v.leaf_index,
            v.leaf_count
        )));
    }
    if !merkle::verify(
        v.task_id,
        &v.result_hash,
        v.leaf_index,
        v.leaf_count,
        &v.path,
        &v.root,
    ) {
        return Err(VerificationFailed(format!(
            "the path of task {} ({} hashes from leaf {} of {}) does not climb to the root {}",
            v.task_id,
            v.path.len(),
            v.leaf_index,
            v.leaf_count,
            hex::encode(v.root)
        )));
    }
    Ok(())
}

/// A result proven against the app hash: its record and its block's root, both read with
/// ICS23 proofs at one height (header `height + 1` checked by the light client), and the node's
/// Merkle path checked from the proven leaf to the proven root.
#[derive(Clone, Debug, Serialize)]
pub struct ProvenResult {
    pub task_id: u64,
    pub record: ResultRecord,
    pub block: BlockResults,
    /// The node's answer whose path was checked.
    pub path: ResultView,
    /// The proven `tasks/result/{id}` read.
    pub record_proof: VerifiedRecord,
    /// The proven `tasks/block_results/{height}` read.
    pub root_proof: VerifiedRecord,
}

/// Reads task `id`'s result record and its block's root with proofs at `height` (latest if
/// `None`), then checks the node's path from the proven leaf to the proven root. Works after
/// the task is pruned.
pub async fn proven_result(
    client: &HttpClient,
    id: u64,
    height: Option<u64>,
    chain_id: &str,
    pinned: Option<&Hash>,
    timeout: Duration,
) -> Result<ProvenResult> {
    let record_proof = query_verified(
        client,
        &Record::ResultRecord(id),
        height,
        chain_id,
        pinned,
        timeout,
    )
    .await?;
    let Some(record) = decode_proven::<ResultRecord>(&record_proof)? else {
        return Err(VerificationFailed(format!(
            "task {id} has no finalized result at height {} (its absence is proven)",
            record_proof.height
        ))
        .into());
    };
    let root_proof = query_verified(
        client,
        &Record::BlockResults(record.finalized_height),
        Some(record_proof.height),
        chain_id,
        pinned,
        timeout,
    )
    .await?;
    let Some(block) = decode_proven::<BlockResults>(&root_proof)? else {
        return Err(VerificationFailed(format!(
            "task {id}'s result names block {}, whose results are proven absent",
            record.finalized_height
        ))
        .into());
    };
    let (path, _) = result(client, id).await?;
    check_against_proven(&path, &record, &block)?;
    Ok(ProvenResult {
        task_id: id,
        record,
        block,
        path,
        record_proof,
        root_proof,
    })
}

/// The node's path answer against a proven result record and a proven block root.
pub fn check_against_proven(
    path: &ResultView,
    record: &ResultRecord,
    block: &BlockResults,
) -> Result<(), VerificationFailed> {
    let fail = |m: String| Err(VerificationFailed(m));
    if record.task_id != path.task_id {
        return fail(format!(
            "the proven record is of task {}, not {}",
            record.task_id, path.task_id
        ));
    }
    if block.height != record.finalized_height {
        return fail(format!(
            "the proven block results are of height {}, the result was finalized at {}",
            block.height, record.finalized_height
        ));
    }
    if path.result_hash != record.result_hash
        || path.leaf_index != record.leaf_index
        || path.finalized_height != record.finalized_height
    {
        return fail(format!(
            "the node's answer for task {} differs from its proven record (hash, leaf index or height)",
            record.task_id
        ));
    }
    if path.root != block.root || path.leaf_count as usize != block.leaves.len() {
        return fail(format!(
            "the node's answer names another root or leaf count than block {}'s proven results",
            block.height
        ));
    }
    if block.leaves.get(record.leaf_index as usize) != Some(&path.leaf) {
        return fail(format!(
            "leaf {} of block {}'s proven results is not the answer's leaf",
            record.leaf_index, block.height
        ));
    }
    verify_result_path(path)
}

fn decode_proven<T: serde::de::DeserializeOwned>(v: &VerifiedRecord) -> Result<Option<T>> {
    if !v.exists {
        return Ok(None);
    }
    serde_json::from_value(v.value.clone())
        .map(Some)
        .map_err(|e| anyhow!("the proven {} does not read back: {e}", v.path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::tasks::result_text;
    use nodeop_app::modules::tasks::{Task, TaskKind, TaskStatus};

    fn h2(a: &[u8; 32], b: &[u8; 32]) -> [u8; 32] {
        sha256(&[a, b])
    }

    /// Five results in one block: the tree spelled out by hand (the fifth leaf is carried up).
    fn five() -> (Vec<[u8; 32]>, [u8; 32]) {
        let leaves: Vec<[u8; 32]> = (0..5u64)
            .map(|i| merkle::leaf(10 + i, &[i as u8; 32]))
            .collect();
        let root = h2(
            &h2(&h2(&leaves[0], &leaves[1]), &h2(&leaves[2], &leaves[3])),
            &leaves[4],
        );
        (leaves, root)
    }

    fn view(i: u32) -> ResultView {
        let (leaves, root) = five();
        let l = &leaves;
        let path = match i {
            0 => vec![l[1], h2(&l[2], &l[3]), l[4]],
            1 => vec![l[0], h2(&l[2], &l[3]), l[4]],
            2 => vec![l[3], h2(&l[0], &l[1]), l[4]],
            3 => vec![l[2], h2(&l[0], &l[1]), l[4]],
            _ => vec![h2(&h2(&l[0], &l[1]), &h2(&l[2], &l[3]))],
        };
        ResultView {
            task_id: 10 + u64::from(i),
            status: nodeop_app::modules::tasks::TaskStatus::Delivered,
            result_hash: [i as u8; 32],
            result: None,
            finalized_height: 40,
            leaf_index: i,
            leaf_count: 5,
            leaf: leaves[i as usize],
            path,
            root,
        }
    }

    #[test]
    fn result_paths_climb_to_their_blocks_root() {
        let (leaves, root) = five();
        // the tree these paths are cut from is the app's
        assert_eq!(merkle::root(&leaves), root);
        for i in 0..5 {
            let v = view(i);
            verify_result_path(&v).unwrap();
        }
        // one leaf: the leaf is the root
        let only = merkle::leaf(1, &[1; 32]);
        let mut v = view(0);
        (
            v.task_id,
            v.result_hash,
            v.leaf,
            v.leaf_count,
            v.path,
            v.root,
        ) = (1, [1; 32], only, 1, vec![], only);
        verify_result_path(&v).unwrap();
        // the leaf layout
        use sha2::Digest;
        let expected: [u8; 32] = sha2::Sha256::new()
            .chain_update(b"nodeop-task-result-v1")
            .chain_update(12u64.to_be_bytes())
            .chain_update([2u8; 32])
            .finalize()
            .into();
        assert_eq!(merkle::leaf(12, &[2; 32]), expected);

        // tampering: a wrong sibling, hash, index, count, too few or too many hashes
        let mut v = view(2);
        v.path[0][0] ^= 1;
        let e = verify_result_path(&v).unwrap_err();
        assert!(e.0.contains("does not climb to the root"), "{e}");
        let mut v = view(2);
        v.result_hash[0] ^= 1;
        assert!(verify_result_path(&v).unwrap_err().0.contains("leaf"));
        let mut v = view(2);
        v.leaf_index = 3;
        assert!(verify_result_path(&v).is_err());
        let mut v = view(4);
        v.leaf_count = 6;
        assert!(verify_result_path(&v).is_err());
        let mut v = view(0);
        v.path.pop();
        assert!(verify_result_path(&v).unwrap_err().0.contains("2 hashes"));
        assert_eq!(
            (0..5).map(|i| merkle::path_len(i, 5)).collect::<Vec<_>>(),
            [3, 3, 3, 3, 1]
        );
        let mut v = view(0);
        v.path.push([0; 32]);
        assert!(verify_result_path(&v).unwrap_err().0.contains("4 hashes"));
        let mut v = view(4);
        v.leaf_index = 5;
        assert!(verify_result_path(&v).is_err());
        // result bytes must hash to the result hash
        let mut v = view(1);
        v.result = Some(b"x".to_vec());
        assert!(verify_result_path(&v).unwrap_err().0.contains("bytes"));
    }

    #[test]
    fn a_path_must_match_the_proven_record_and_root() {
        let (leaves, root) = five();
        let v = view(3);
        let record = ResultRecord {
            task_id: 13,
            result_hash: [3; 32],
            finalized_height: 40,
            leaf_index: 3,
            status: nodeop_app::modules::tasks::TaskStatus::Delivered,
        };
        let block = BlockResults {
            height: 40,
            root,
            task_ids: (10..15).collect(),
            leaves: leaves.clone(),
        };
        check_against_proven(&v, &record, &block).unwrap();
        // a node that answers with another root, even one its own path climbs to
        let mut other = block.clone();
        other.root = [0; 32];
        assert!(check_against_proven(&v, &record, &other).is_err());
        // another block, task, hash or index than the proven ones
        let mut b = block.clone();
        b.height = 41;
        assert!(check_against_proven(&v, &record, &b).is_err());
        let mut r = record.clone();
        r.task_id = 12;
        assert!(check_against_proven(&v, &r, &block).is_err());
        let mut r = record.clone();
        r.result_hash = [4; 32];
        assert!(check_against_proven(&v, &r, &block).is_err());
        let mut r = record.clone();
        r.leaf_index = 2;
        assert!(check_against_proven(&v, &r, &block).is_err());
        // the proven leaves must hold the answer's leaf
        let mut b = block.clone();
        b.leaves[3] = [9; 32];
        assert!(check_against_proven(&v, &record, &b).is_err());
    }

    #[test]
    fn recorded_devnet_task_records_and_result_path_verify() {
        use crate::verify::{verify_query_answer, verify_signed_header};
        use tendermint_rpc::endpoint::{abci_query, commit, validators};
        let read = |text: &str| {
            serde_json::from_str::<abci_query::Response>(text)
                .unwrap()
                .response
        };
        let sh = serde_json::from_str::<commit::Response>(include_str!(
            "../testdata/tasks_commit_146.json"
        ))
        .unwrap()
        .signed_header;
        let vals = serde_json::from_str::<validators::Response>(include_str!(
            "../testdata/tasks_validators_146.json"
        ))
        .unwrap()
        .validators;
        let header = verify_signed_header(&sh, &vals, "nodeop-devnet", 146, None).unwrap();
        let app_hash = hex::decode(&header.app_hash).unwrap();

        let task_answer = read(include_str!("../testdata/tasks_abci_query_task_2_145.json"));
        let t: Task = serde_json::from_value(
            verify_query_answer(&Record::Task(2), &task_answer, 145, &app_hash).unwrap(),
        )
        .unwrap();
        assert_eq!(t.status, TaskStatus::Undelivered);
        assert_eq!(
            t.kind,
            TaskKind::Numeric {
                scale: 2,
                tolerance_ppm: 1_000
            }
        );
        let fin = t.result.as_ref().unwrap();
        assert_eq!(result_text(&t.kind, &fin.result), "-1.25");
        assert_eq!(fin.finalized_height, 88);

        let record: ResultRecord = serde_json::from_value(
            verify_query_answer(
                &Record::ResultRecord(2),
                &read(include_str!(
                    "../testdata/tasks_abci_query_result_record_2_145.json"
                )),
                145,
                &app_hash,
            )
            .unwrap(),
        )
        .unwrap();
        let block: BlockResults = serde_json::from_value(
            verify_query_answer(
                &Record::BlockResults(88),
                &read(include_str!(
                    "../testdata/tasks_abci_query_block_results_88_145.json"
                )),
                145,
                &app_hash,
            )
            .unwrap(),
        )
        .unwrap();
        let path: ResultView = serde_json::from_slice(
            &read(include_str!("../testdata/tasks_abci_query_result_2.json")).value,
        )
        .unwrap();
        check_against_proven(&path, &record, &block).unwrap();
        assert_eq!(record.result_hash, sha256(&[&fin.result]));

        // absent: a non-membership proof
        assert_eq!(
            verify_query_answer(
                &Record::Task(99),
                &read(include_str!(
                    "../testdata/tasks_abci_query_task_99_145.json"
                )),
                145,
                &app_hash
            )
            .unwrap(),
            serde_json::Value::Null
        );
        // the task's answer proves nothing about another task, nor against another root
        assert!(verify_query_answer(&Record::Task(1), &task_answer, 145, &app_hash).is_err());
        assert!(verify_query_answer(&Record::Task(2), &task_answer, 145, &[0; 32]).is_err());
        // a rendering that lies about the status
        let mut lying = task_answer.clone();
        lying.info = lying.info.replace("\"undelivered\"", "\"delivered\"");
        let e = verify_query_answer(&Record::Task(2), &lying, 145, &app_hash).unwrap_err();
        assert!(e.0.contains("status"), "{e}");
    }
}
