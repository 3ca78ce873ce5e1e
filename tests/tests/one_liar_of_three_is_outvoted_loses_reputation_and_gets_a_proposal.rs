//! A Session committee (2 of 3) where one member reveals another answer: the two honest
//! members' result is final, the liar is not paid, its Byzantine factor is halved, its
//! effective reputation falls below where it was and below the honest members', and it gets
//! exactly one automatic result_mismatch proposal naming the task.

use nodeop_app::modules::reputation;
use nodeop_app::modules::slashing::{Evidence, Offence, ProposalStatus};
use nodeop_app::modules::tasks::{Consistency, TaskStatus};
use nodeop_driver::tasks::{events_of, exact_task, Act, TaskGenesis, NOP};

#[test]
fn one_liar_of_three_is_outvoted_loses_reputation_and_gets_a_proposal() {
    let mut net = TaskGenesis::new(4, 10).start();
    let id = net.post(exact_task(Consistency::Session, NOP));
    let members = net.members(id);
    assert_eq!(members.len(), 3);
    let (honest, liar) = (&members[..2], &members[2]);

    let score_before = net.score(&liar.address);
    let pool_before = net.pool(&liar.address);
    let resp = net.play_round(
        id,
        &[
            Act::Answer(b"0xabc".to_vec()),
            Act::Answer(b"0xabc".to_vec()),
            Act::Answer(b"0xdef".to_vec()),
        ],
    );

    // outvoted: the honest answer is final, the liar disagrees
    let t = net.task(id);
    assert_eq!(t.status, TaskStatus::Finalized);
    let fin = t.result.expect("finalized result");
    assert_eq!(fin.result, b"0xabc");
    let mut agreeing = fin.agreeing.clone();
    agreeing.sort();
    let mut expected: Vec<_> = honest.iter().map(|k| k.address).collect();
    expected.sort();
    assert_eq!(agreeing, expected);
    assert_eq!(fin.disagreeing, vec![liar.address]);
    assert_eq!(
        events_of(&resp, nodeop_app::modules::tasks::events::RESULT_FINALIZED).count(),
        1
    );

    // not paid: no pay line, and its pool did not grow
    assert!(fin.pay.iter().all(|l| l.operator != liar.address));
    assert_eq!(fin.pay.len(), 2);
    assert!(fin.pay.iter().all(|l| l.pay > 0));
    assert_eq!(net.pool(&liar.address), pool_before);

    // loses reputation: the Byzantine factor is halved, the effective score falls
    let rec = reputation::state::record(net.chain.app.storage(), &liar.address);
    assert_eq!(rec.byz_factor_ppm, 500_000);
    let score_after = net.score(&liar.address);
    assert!(
        score_after < score_before,
        "liar's score {score_before} → {score_after}"
    );
    for h in honest {
        let r = reputation::state::record(net.chain.app.storage(), &h.address);
        assert_eq!(r.byz_factor_ppm, 1_000_000);
        assert!(net.score(&h.address) > score_after);
    }

    // gets a proposal: one automatic result_mismatch for this task, pending its dispute window
    let props = net.proposals_against(&liar.address);
    assert_eq!(props.len(), 1, "{props:?}");
    let p = &props[0];
    assert_eq!(p.offence, Offence::ResultMismatch);
    assert_eq!(p.evidence, Evidence::ResultMismatch { task_id: id });
    assert_eq!(p.reporter, None);
    assert_eq!(p.status, ProposalStatus::Pending);
    assert_eq!(p.infraction_height, net.chain.height);
    assert!(p.amount > 0);
    for h in honest {
        assert!(net.proposals_against(&h.address).is_empty());
    }
}
