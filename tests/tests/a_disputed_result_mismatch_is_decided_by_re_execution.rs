//! The accused of an automatic result_mismatch proposal disputes it: a fresh committee of
//! `reexec_size` operators (none of the original committee) runs the task again through
//! commit–reveal, and its aggregate decides. Same aggregate as the original: upheld and
//! executed. The accused's result: overturned, and each original agreeing member gets a
//! proposal of its own. No quorum: the validators vote. Votes are refused while the
//! re-execution runs.

use nodeop_app::modules::slashing::resolver::Resolver;
use nodeop_app::modules::slashing::{Evidence, Offence, ProposalStatus};
use nodeop_app::modules::tasks::{Consistency, TaskStatus};
use nodeop_app::tx::Msg;
use nodeop_driver::tasks::{events_of, exact_task, Act, TaskGenesis, TaskNet, NOP};

/// A Session task where member 2 lies; returns (net, task id, liar index, proposal id).
fn disputed() -> (TaskNet, u64, usize, u64) {
    let mut net = TaskGenesis::new(11, 10).start();
    let id = net.post(exact_task(Consistency::Session, NOP));
    net.play_round(
        id,
        &[
            Act::Answer(b"right".to_vec()),
            Act::Answer(b"right".to_vec()),
            Act::Answer(b"wrong".to_vec()),
        ],
    );
    let liar = net.members(id)[2].clone();
    let props = net.proposals_against(&liar.address);
    assert_eq!(props.len(), 1);
    let prop = props[0].clone();
    assert_eq!(prop.offence, Offence::ResultMismatch);
    let r = net.run(&liar, Msg::dispute_slash(prop.id, "not me"));
    assert!(r.is_ok(), "{}", r.log);
    let idx = net
        .operators
        .iter()
        .position(|k| k.address == liar.address)
        .unwrap();
    (net, id, idx, prop.id)
}

fn reexec_task(net: &TaskNet, proposal: u64) -> u64 {
    let p = net.chain.proposal(proposal);
    assert_eq!(p.status, ProposalStatus::Disputed);
    match p.dispute.expect("disputed").resolver {
        Resolver::Reexecution { task_id } => task_id,
        other => panic!("expected re-execution, got {other:?}"),
    }
}

#[test]
fn the_same_aggregate_upholds_and_the_slash_executes() {
    let (mut net, original, liar, proposal) = disputed();
    let rid = reexec_task(&net, proposal);
    let t = net.task(rid);
    let link = t.reexec.clone().expect("a re-execution link");
    assert_eq!(link.original_task, original);
    assert_eq!(link.proposal, proposal);
    assert_eq!(t.fee, 0);
    let committee = t.current_round().members.clone();
    assert_eq!(committee.len(), 7);
    let originals = net.task(original).all_members();
    assert!(committee.iter().all(|m| !originals.contains(&m.operator)));

    // a vote is refused while the re-execution decides
    let voter = net.operators[0].clone();
    let r = net.run(&voter, Msg::vote_dispute(proposal, false));
    assert_eq!(
        (r.codespace.as_str(), r.code),
        ("slashing", 19),
        "{}",
        r.log
    );

    let liar_key = net.operators[liar].clone();
    let pool_before = net.pool(&liar_key.address);
    let resp = net.play_honest(rid, b"right");
    assert_eq!(
        events_of(&resp, nodeop_app::modules::slashing::events::SLASH_EXECUTED).count(),
        1
    );
    let p = net.chain.proposal(proposal);
    assert_eq!(p.status, ProposalStatus::Executed);
    assert!(net.pool(&liar_key.address) < pool_before);
    let t = net.task(rid);
    assert_eq!(t.status, TaskStatus::Reexecuted);
    assert_eq!(t.reexec.unwrap().verdict.as_deref(), Some("upheld"));
}

#[test]
fn the_accused_result_overturns_and_the_original_majority_is_accused() {
    let (mut net, original, liar, proposal) = disputed();
    let rid = reexec_task(&net, proposal);
    let liar_key = net.operators[liar].clone();
    let pool_before = net.pool(&liar_key.address);
    let resp = net.play_honest(rid, b"wrong");
    assert_eq!(
        events_of(
            &resp,
            nodeop_app::modules::slashing::events::SLASH_OVERTURNED
        )
        .count(),
        1
    );
    assert_eq!(
        net.chain.proposal(proposal).status,
        ProposalStatus::Overturned
    );
    assert_eq!(net.pool(&liar_key.address), pool_before);
    let fin = net.task(original).result.expect("original result");
    for a in &fin.agreeing {
        let props = net.proposals_against(a);
        assert_eq!(props.len(), 1, "one proposal per original agreeing member");
        assert_eq!(props[0].infraction_id, rid);
        assert_eq!(
            props[0].evidence,
            Evidence::ResultMismatch { task_id: original }
        );
        assert_eq!(props[0].status, ProposalStatus::Pending);
    }
    assert_eq!(
        net.task(rid).reexec.unwrap().verdict.as_deref(),
        Some("overturned")
    );
}

#[test]
fn no_quorum_falls_back_to_the_validators_vote() {
    let (mut net, _, _, proposal) = disputed();
    let rid = reexec_task(&net, proposal);
    let acts: Vec<Act> = (0..7)
        .map(|i| Act::Answer(format!("answer-{i}").into_bytes()))
        .collect();
    let resp = net.play_round(rid, &acts);
    assert_eq!(
        events_of(
            &resp,
            nodeop_app::modules::slashing::events::SLASH_VOTE_OPENED
        )
        .count(),
        1
    );
    let p = net.chain.proposal(proposal);
    assert_eq!(p.status, ProposalStatus::Disputed);
    let d = p.dispute.expect("disputed");
    assert_eq!(d.resolver, Resolver::ValidatorVote);
    assert!(d.decides_at > net.chain.time.seconds);
    assert_eq!(
        net.task(rid).reexec.unwrap().verdict.as_deref(),
        Some("no_quorum")
    );
    // now the validators may vote
    let voter = net.operators[0].clone();
    let r = net.run(&voter, Msg::vote_dispute(proposal, true));
    assert!(r.is_ok(), "{}", r.log);
}
