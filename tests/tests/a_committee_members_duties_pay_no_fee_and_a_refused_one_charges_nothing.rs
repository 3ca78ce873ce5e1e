//! Committee duties are fee-free (docs/tasks.md, "Duties pay no tx fee"): the members of a
//! Session task commit and reveal with fee 0 and the scheduled submitter confirms with fee 0, so
//! each one's account and pool grow by exactly its pay. A fee-free duty that fails (a second
//! commit for a slot, a stranger's commit) is refused at CheckTx, dropped by PrepareProposal and,
//! if a block holds it anyway, refused whole: no fee and no nonce. Fee 0 on a tx that mixes a
//! duty with anything else is `fee_too_low`. A duty that pays a fee is an ordinary tx: charged
//! even when it fails.

use nodeop_app::error::TxError;
use nodeop_app::modules::tasks::{Consistency, TaskStatus, TasksError};
use nodeop_app::tx::Msg;
use nodeop_driver::tasks::{assert_refused, commit, exact_task, reveal, TaskGenesis, NOP};

#[test]
fn a_committee_members_duties_pay_no_fee_and_a_refused_one_charges_nothing() {
    let mut net = TaskGenesis::new(4, 10).start();
    let id = net.post(exact_task(Consistency::Session, 100 * NOP));
    let m = net.members(id);
    let answer = b"the answer".to_vec();
    let worth = |net: &nodeop_driver::tasks::TaskNet, a| net.balance(a) + net.pool(a);

    // fee-free commits: accepted by CheckTx, included, nothing charged
    let before: Vec<u128> = m.iter().map(|k| net.balance(&k.address)).collect();
    let nonces: Vec<u64> = m
        .iter()
        .map(|k| net.chain.account(&k.address).nonce)
        .collect();
    let txs: Vec<Vec<u8>> = m
        .iter()
        .map(|k| {
            net.chain
                .fee_free_tx(k, vec![commit(id, &k.address, &answer)])
        })
        .collect();
    for tx in &txs {
        let r = net.chain.check(tx);
        assert!(r.is_ok(), "a fee-free commit passes CheckTx: {}", r.log);
    }
    let resp = net.chain.block(txs);
    for (i, r) in resp.tx_results.iter().enumerate() {
        assert!(r.is_ok(), "{}", r.log);
        let fee = r
            .events
            .iter()
            .find(|e| e.kind == nodeop_app::events::TX)
            .and_then(|e| e.get("fee").map(str::to_string));
        assert_eq!(fee.as_deref(), Some("0"));
        let k = &m[i].address;
        assert_eq!(net.balance(k), before[i], "a fee-free commit costs nothing");
        assert_eq!(net.chain.account(k).nonce, nonces[i] + 1);
    }

    // a second commit for the same slot, fee-free: refused everywhere, nothing charged
    let m0 = m[0].clone();
    let again = net
        .chain
        .fee_free_tx(&m0, vec![commit(id, &m0.address, b"another answer")]);
    assert_refused(&net.chain.check(&again), &TasksError::AlreadyCommitted(0));
    let proposed = net.chain.propose(vec![again.clone()], 1 << 20);
    assert!(
        proposed.tx_results.is_empty(),
        "PrepareProposal drops a failing fee-free duty"
    );
    let (balance, nonce) = (
        net.balance(&m0.address),
        net.chain.account(&m0.address).nonce,
    );
    let resp = net.chain.block(vec![again]);
    assert_refused(&resp.tx_results[0], &TasksError::AlreadyCommitted(0));
    assert!(
        resp.tx_results[0].events.is_empty(),
        "a refused tx has no events"
    );
    assert_eq!(net.balance(&m0.address), balance);
    assert_eq!(
        net.chain.account(&m0.address).nonce,
        nonce,
        "a refused fee-free duty uses no nonce"
    );

    // a stranger's fee-free commit: refused, nothing charged
    let outsider = net.outsiders(id)[0].clone();
    let (balance, nonce) = (
        net.balance(&outsider.address),
        net.chain.account(&outsider.address).nonce,
    );
    let resp = net.chain.block(vec![net
        .chain
        .fee_free_tx(&outsider, vec![commit(id, &outsider.address, &answer)])]);
    assert!(!resp.tx_results[0].is_ok());
    assert_eq!(
        resp.tx_results[0].codespace,
        nodeop_app::modules::tasks::CODESPACE
    );
    assert_eq!(net.balance(&outsider.address), balance);
    assert_eq!(net.chain.account(&outsider.address).nonce, nonce);

    // fee 0 on a duty mixed with a transfer is refused for its fee, before anything runs
    let mixed = net.chain.fee_free_tx(
        &m0,
        vec![
            reveal(id, &m0.address, &answer),
            Msg::send(&outsider.address, 1),
        ],
    );
    let r = net.chain.check(&mixed);
    assert_eq!(
        (r.codespace.as_str(), r.code),
        (
            nodeop_app::error::CODESPACE_TX,
            TxError::FeeTooLow {
                required: 0,
                offered: 0
            }
            .code()
        ),
        "{}",
        r.log
    );

    // fee-free reveals: each member's account and pool grow by exactly its pay
    let end = net.task(id).current_round().commit_end;
    net.run_to(end);
    let worth_before: Vec<u128> = m.iter().map(|k| worth(&net, &k.address)).collect();
    let txs = m
        .iter()
        .map(|k| {
            net.chain
                .fee_free_tx(k, vec![reveal(id, &k.address, &answer)])
        })
        .collect();
    let resp = net.chain.block(txs);
    for r in &resp.tx_results {
        assert!(r.is_ok(), "{}", r.log);
    }
    let t = net.task(id);
    assert_eq!(t.status, TaskStatus::Finalized);
    let fin = t.result.clone().unwrap();
    for (i, k) in m.iter().enumerate() {
        let pay = fin
            .pay
            .iter()
            .find(|l| l.operator == k.address)
            .unwrap()
            .pay;
        assert!(pay > 0);
        assert_eq!(
            worth(&net, &k.address) - worth_before[i],
            pay,
            "the member keeps its whole pay"
        );
    }

    // the scheduled submitter confirms fee-free inside its window and gains the submission fee
    let sub = t.submission.clone().expect("a schedule");
    let submitter = net.key(&sub.schedule[0]).clone();
    let w = worth(&net, &submitter.address);
    let resp = net.chain.block(vec![net.chain.fee_free_tx(
        &submitter,
        vec![Msg::confirm_submission(id, "consumer-ref")],
    )]);
    assert!(resp.tx_results[0].is_ok(), "{}", resp.tx_results[0].log);
    assert_eq!(worth(&net, &submitter.address) - w, sub.submission_fee);

    // a duty that pays a fee is an ordinary tx: a failing one is charged its fee and nonce
    let m1 = m[1].clone();
    let (balance, nonce) = (
        net.balance(&m1.address),
        net.chain.account(&m1.address).nonce,
    );
    let (resp, fees) = net.block_paying(vec![(m1.clone(), reveal(id, &m1.address, &answer))]);
    assert!(!resp.tx_results[0].is_ok());
    assert!(fees[0] > 0);
    assert_eq!(net.balance(&m1.address), balance - fees[0]);
    assert_eq!(net.chain.account(&m1.address).nonce, nonce + 1);
}
