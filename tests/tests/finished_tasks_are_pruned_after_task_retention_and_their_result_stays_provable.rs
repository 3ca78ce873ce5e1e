//! Three tasks finalize in one block and are delivered together. `task_retention` blocks after
//! they finished, the tasks and their index entries leave state; their result records and the
//! block's root stay. Each result still checks against the root with the Merkle path the chain
//! publishes (verified here by an independent implementation of the tree rule), the record and
//! the root are proved against the app hash, and the pruned task itself stays provable at a
//! height where it existed.

use std::collections::BTreeMap;

use nodeop_app::crypto::{sha256, Address};
use nodeop_app::modules::tasks::query::ResultView;
use nodeop_app::modules::tasks::state::{
    block_results, ids_by_client, ids_by_operator, ids_by_status, result_record, BlockResults,
    ResultRecord,
};
use nodeop_app::modules::tasks::{keys, Consistency, Task, TaskStatus};
use nodeop_app::query::verify_proof;
use nodeop_app::tx::Msg;
use nodeop_driver::chain::Key;
use nodeop_driver::tasks::{
    commit, exact_task, posted_id, result_leaf, reveal, verify_path, TaskGenesis, TaskNet, NOP,
};

/// One tx per operator carrying all of its messages, in one block; every tx must succeed.
fn grouped(net: &mut TaskNet, msgs: Vec<(Key, Msg)>) {
    let mut by: BTreeMap<Address, (Key, Vec<Msg>)> = BTreeMap::new();
    for (k, m) in msgs {
        by.entry(k.address).or_insert((k, Vec::new())).1.push(m);
    }
    let txs = by
        .values()
        .map(|(k, ms)| net.chain.tx(k, ms.clone()))
        .collect();
    let resp = net.chain.block(txs);
    for r in &resp.tx_results {
        assert!(r.is_ok(), "{}", r.log);
    }
}

#[test]
fn finished_tasks_are_pruned_after_task_retention_and_their_result_stays_provable() {
    let mut g = TaskGenesis::new(4, 10);
    g.state.tasks.params.task_retention = 5;
    let mut net = g.start();
    let client = net.client.clone();

    // three tasks posted in one tx
    let tx = net.chain.tx(
        &client,
        vec![
            Msg::from(exact_task(Consistency::Session, NOP)),
            Msg::from(exact_task(Consistency::Session, 2 * NOP)),
            Msg::from(exact_task(Consistency::Session, 3 * NOP)),
        ],
    );
    let resp = net.chain.block(vec![tx]);
    assert!(resp.tx_results[0].is_ok(), "{}", resp.tx_results[0].log);
    let ids: Vec<u64> = resp.tx_results[0]
        .events
        .iter()
        .filter(|e| e.kind == nodeop_app::modules::tasks::events::TASK_POSTED)
        .filter_map(|e| e.get("task")?.parse().ok())
        .collect();
    assert_eq!(ids.len(), 3);
    assert_eq!(posted_id(&resp.tx_results[0]), Some(ids[0]));
    let answers: Vec<Vec<u8>> = ids
        .iter()
        .map(|i| format!("answer {i}").into_bytes())
        .collect();
    let plan: Vec<(Key, u64, Vec<u8>)> = ids
        .iter()
        .zip(&answers)
        .flat_map(|(id, a)| {
            net.members(*id)
                .into_iter()
                .map(move |k| (k, *id, a.clone()))
        })
        .collect();
    let round = net.task(ids[0]).current_round().clone();

    grouped(
        &mut net,
        plan.iter()
            .map(|(k, id, a)| (k.clone(), commit(*id, &k.address, a)))
            .collect(),
    );
    net.run_to(round.commit_end);
    grouped(
        &mut net,
        plan.iter()
            .map(|(k, id, a)| (k.clone(), reveal(*id, &k.address, a)))
            .collect(),
    );
    let h_f = net.chain.height;
    let tasks: Vec<Task> = ids.iter().map(|i| net.task(*i)).collect();
    assert!(tasks.iter().all(|t| t.status == TaskStatus::Finalized));
    let block = block_results(net.chain.app.storage(), h_f).expect("the block's results");
    assert_eq!(block.leaves.len(), 3);

    // delivered together by each schedule's first member
    let confirms = tasks
        .iter()
        .map(|t| {
            let s = t.submission.as_ref().unwrap().schedule[0];
            (net.key(&s).clone(), Msg::confirm_submission(t.id, "ref"))
        })
        .collect();
    grouped(&mut net, confirms);
    let h_d = net.chain.height;
    let root_at_h_d = net.chain.app_hash();
    let members: Vec<Address> = tasks.iter().flat_map(|t| t.all_members()).collect();
    for id in &ids {
        let t = net.task(*id);
        assert_eq!(t.status, TaskStatus::Delivered);
        assert_eq!(t.finished_height, Some(h_d));
    }

    // still there through the last block of the retention, gone at its end
    let retention = net.params().task_retention;
    net.run_to(h_d + retention - 1);
    assert!(ids.iter().all(|i| net.try_task(*i).is_some()));
    net.chain.block(Vec::new());
    assert_eq!(net.chain.height, h_d + retention);
    let s = net.chain.app.storage();
    for id in &ids {
        assert!(net.try_task(*id).is_none(), "task {id} was not pruned");
        assert!(!ids_by_status(s, TaskStatus::Delivered, None, 100).contains(id));
    }
    assert!(ids_by_client(s, &client.address, None, 100).is_empty());
    for m in &members {
        assert!(ids_by_operator(s, m, None, 100).is_empty());
    }

    // the result records and the block's root stay; every result checks against the root
    let app_hash = net.chain.app_hash();
    let now = block_results(s, h_f).expect("the block's root stays");
    assert_eq!(now, block);
    for (id, answer) in ids.iter().zip(&answers) {
        let rec: ResultRecord = result_record(s, *id).expect("result record");
        assert_eq!(rec.result_hash, sha256(&[answer]));
        assert_eq!(rec.finalized_height, h_f);
        assert_eq!(rec.status, TaskStatus::Delivered);

        let r = net
            .chain
            .query(&format!("/tasks/result/{id}"), &[], 0, false);
        assert_eq!(r.code, 0, "{}", r.log);
        let view: ResultView = serde_json::from_slice(&r.value).unwrap();
        assert_eq!(view.result, None, "the bytes left with the task");
        assert_eq!(view.root, block.root);
        assert_eq!(view.leaf, result_leaf(*id, answer));
        assert_eq!(view.leaf_count, 3);
        assert!(verify_path(
            view.leaf,
            view.leaf_index as usize,
            3,
            &view.path,
            &view.root
        ));
        // another result, or another task id, does not reach the root
        let forged = result_leaf(*id, b"forged");
        assert!(!verify_path(
            forged,
            view.leaf_index as usize,
            3,
            &view.path,
            &view.root
        ));
        let other = result_leaf(id + 100, answer);
        assert!(!verify_path(
            other,
            view.leaf_index as usize,
            3,
            &view.path,
            &view.root
        ));

        // the record is proved against the app hash
        let r = net
            .chain
            .query(&format!("/tasks/result-record/{id}"), &[], 0, true);
        assert_eq!(r.code, 0, "{}", r.log);
        assert_eq!(r.key, keys::result(*id));
        assert_eq!(borsh::from_slice::<ResultRecord>(&r.value).unwrap(), rec);
        verify_proof(&r.proof_ops[0], &app_hash, &r.key, Some(&r.value)).unwrap();

        // the pruned task is proved absent now and present at a height where it existed
        let r = net.chain.query("/store", &keys::task(*id), 0, true);
        assert!(r.value.is_empty());
        verify_proof(&r.proof_ops[0], &app_hash, &keys::task(*id), None).unwrap();
        let r = net.chain.query("/store", &keys::task(*id), h_d, true);
        assert_eq!(r.code, 0, "{}", r.log);
        let old: Task = borsh::from_slice(&r.value).unwrap();
        assert_eq!(old.result.unwrap().result, *answer);
        verify_proof(
            &r.proof_ops[0],
            &root_at_h_d,
            &keys::task(*id),
            Some(&r.value),
        )
        .unwrap();
    }
    let r = net
        .chain
        .query(&format!("/tasks/block-results/{h_f}"), &[], 0, true);
    assert_eq!(r.code, 0, "{}", r.log);
    assert_eq!(borsh::from_slice::<BlockResults>(&r.value).unwrap(), block);
    verify_proof(&r.proof_ops[0], &app_hash, &r.key, Some(&r.value)).unwrap();
}
