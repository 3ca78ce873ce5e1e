//! An honest Session committee (3 members, quorum 2): the client's fee is escrowed, every
//! member commits in the commit window and reveals in the reveal window, the round finalizes
//! early in the block of the last reveal, every member is paid into its pool with commission to
//! its account, the result enters that block's Merkle root, the first scheduled member confirms
//! delivery in its window and receives the submission fee, and the escrow ends empty: the fee
//! is accounted for to the last unop.

use nodeop_app::crypto::sha256;
use nodeop_app::modules::tasks::merkle;
use nodeop_app::modules::tasks::{Consistency, TaskStatus};
use nodeop_app::num::checked_mul_div as mul_div_floor;
use nodeop_app::tx::Msg;
use nodeop_driver::tasks::{events_of, exact_task, TaskGenesis, NOP};

#[test]
fn an_honest_session_committee_finalizes_and_is_paid() {
    let mut net = TaskGenesis::new(4, 10).start();
    let fee = 3 * NOP + 7;
    let client_before = net.balance(&net.client.address);
    let id = net.post(exact_task(Consistency::Session, fee));
    assert_eq!(net.module_balance("task_escrow"), fee);
    assert!(net.balance(&net.client.address) < client_before - fee + 1);
    let t = net.task(id);
    assert_eq!(t.status, TaskStatus::Assigned);
    let members = net.members(id);
    assert_eq!(members.len(), 3);
    let mut distinct: Vec<_> = members.iter().map(|k| k.address).collect();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 3, "sampled without replacement");

    let pools: Vec<u128> = members.iter().map(|k| net.pool(&k.address)).collect();
    let treasury_before = net.module_balance("treasury");
    let resp = net.play_honest(id, b"0xfeed");
    let h_f = net.chain.height;
    assert_eq!(
        events_of(&resp, nodeop_app::modules::tasks::events::RESULT_FINALIZED).count(),
        1
    );
    let t = net.task(id);
    assert_eq!(t.status, TaskStatus::Finalized);
    let fin = t.result.clone().expect("a finalized result");
    assert_eq!(fin.result, b"0xfeed");
    assert_eq!(fin.finalized_height, h_f);
    assert_eq!(fin.agreeing.len(), 3);
    assert!(fin.disagreeing.is_empty());

    // the split: protocol fee, held submission fee, pays, rounding — exactly the fee
    let p = net.params();
    let protocol = fee * u128::from(p.protocol_fee_ppm) / 1_000_000;
    let submission = fee * u128::from(p.submission_fee_ppm) / 1_000_000;
    let paid: u128 = fin.pay.iter().map(|l| l.pay).sum();
    assert_eq!(fin.protocol_fee, protocol);
    assert_eq!(protocol + submission + paid + fin.rounding_to_treasury, fee);
    assert!(fin.rounding_to_treasury < 3);
    assert_eq!(net.module_balance("task_escrow"), submission);
    assert_eq!(
        net.module_balance("treasury") - treasury_before,
        protocol + fin.rounding_to_treasury
    );
    // each pay lands in the member's pool, minus the operator's commission
    for (k, before) in members.iter().zip(&pools) {
        let line = fin
            .pay
            .iter()
            .find(|l| l.operator == k.address)
            .expect("every agreeing member has a pay line");
        assert!(line.pay > 0);
        let op = net.chain.operator(&k.address);
        let commission = mul_div_floor(line.pay, u128::from(op.commission_ppm), 1_000_000).unwrap();
        assert_eq!(op.tokens - before, line.pay - commission);
    }

    // the result is in the block's Merkle root
    let proof = merkle::result_proof(net.chain.app.storage(), id).expect("a proof");
    assert_eq!(proof.result_hash, sha256(&[b"0xfeed"]));
    assert_eq!(proof.finalized_height, h_f);
    assert!(proof.verify());

    // window 0 belongs to the first scheduled member; it confirms and takes the submission fee
    let sub = t.submission.clone().expect("a schedule");
    assert_eq!(sub.window, 0);
    assert_eq!(sub.window_end, h_f + p.submission_window);
    let submitter = net.key(&sub.schedule[0]).clone();
    let pool_before = net.pool(&submitter.address);
    let r = net.run(&submitter, Msg::confirm_submission(id, "consumer-tx-0xabc"));
    assert!(r.is_ok(), "{}", r.log);
    let t = net.task(id);
    assert_eq!(t.status, TaskStatus::Delivered);
    let sub = t.submission.expect("schedule");
    assert_eq!(sub.submitter, Some(submitter.address));
    assert_eq!(sub.target_ref.as_deref(), Some("consumer-tx-0xabc"));
    let op = net.chain.operator(&submitter.address);
    let commission = mul_div_floor(submission, u128::from(op.commission_ppm), 1_000_000).unwrap();
    assert_eq!(op.tokens - pool_before, submission - commission);
    assert_eq!(net.module_balance("task_escrow"), 0);
    assert_eq!(t.escrow, 0);
}
