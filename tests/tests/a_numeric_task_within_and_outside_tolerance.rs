//! Numeric tasks (fixed point, scale 2, tolerance 1 %): results within the tolerance of the
//! weighted median all agree and the result is their weighted mean `⌊Σ wᵢ·Rᵢ / Σ wᵢ⌋`
//! (weights recorded at assignment); a result outside it disagrees, is left out of the mean and
//! gets a result_mismatch proposal; when fewer than the quorum are within tolerance the round
//! has no result.

use nodeop_app::modules::slashing::{Evidence, Offence};
use nodeop_app::modules::tasks::{Consistency, Task, TaskStatus};
use nodeop_driver::tasks::{numeric, numeric_task, Act, TaskGenesis, NOP};

/// The weighted mean over the members whose revealed value is in `agreeing`, floored toward
/// −∞, from the weights recorded in the round.
fn weighted_mean(t: &Task, agreeing: &[nodeop_app::crypto::Address]) -> i64 {
    let (mut num, mut den) = (0i128, 0i128);
    for m in &t.current_round().members {
        if agreeing.contains(&m.operator) {
            let v = i64::from_be_bytes(m.result.clone().unwrap().try_into().unwrap());
            let w = i128::try_from(m.weight).unwrap();
            num += w * i128::from(v);
            den += w;
        }
    }
    i64::try_from(num.div_euclid(den)).unwrap()
}

fn value(bytes: &[u8]) -> i64 {
    i64::from_be_bytes(bytes.try_into().unwrap())
}

#[test]
fn results_within_tolerance_agree_and_average_by_weight() {
    let mut net = TaskGenesis::new(4, 10).start();
    let id = net.post(numeric_task(Consistency::Session, 2, 10_000, NOP));
    // 100.00, 100.50, 99.80: all within 1 % of any median of them
    net.play_round(
        id,
        &[
            Act::Answer(numeric(10_000)),
            Act::Answer(numeric(10_050)),
            Act::Answer(numeric(9_980)),
        ],
    );
    let t = net.task(id);
    assert_eq!(t.status, TaskStatus::Finalized);
    let fin = t.result.clone().unwrap();
    assert_eq!(fin.agreeing.len(), 3);
    assert!(fin.disagreeing.is_empty());
    let mean = weighted_mean(&t, &fin.agreeing);
    assert_eq!(value(&fin.result), mean);
    assert!((9_980..=10_050).contains(&mean));
    assert!(all_quiet(&net));
}

fn all_quiet(net: &nodeop_driver::tasks::TaskNet) -> bool {
    nodeop_driver::tasks::all_proposals(&net.chain).is_empty()
}

#[test]
fn a_result_outside_tolerance_disagrees_and_is_left_out_of_the_mean() {
    let mut net = TaskGenesis::new(4, 10).start();
    let id = net.post(numeric_task(Consistency::Session, 2, 10_000, NOP));
    let members = net.members(id);
    // 100.00 and 100.90 agree (0.9 % apart); 120.00 is 20 % off
    net.play_round(
        id,
        &[
            Act::Answer(numeric(10_000)),
            Act::Answer(numeric(10_090)),
            Act::Answer(numeric(12_000)),
        ],
    );
    let t = net.task(id);
    assert_eq!(t.status, TaskStatus::Finalized);
    let fin = t.result.clone().unwrap();
    assert_eq!(fin.disagreeing, vec![members[2].address]);
    assert_eq!(fin.agreeing.len(), 2);
    let mean = weighted_mean(&t, &fin.agreeing);
    assert_eq!(value(&fin.result), mean);
    assert!((10_000..=10_090).contains(&mean));
    let props = net.proposals_against(&members[2].address);
    assert_eq!(props.len(), 1);
    assert_eq!(props[0].offence, Offence::ResultMismatch);
    assert_eq!(props[0].evidence, Evidence::ResultMismatch { task_id: id });
    assert!(fin.pay.iter().all(|l| l.operator != members[2].address));
}

#[test]
fn too_few_within_tolerance_finalizes_nothing() {
    let mut net = TaskGenesis::new(10, 10).start();
    let id = net.post(numeric_task(Consistency::Session, 2, 10_000, NOP));
    // 1.00, 2.00, 3.00: whatever the median, the others are 50 % or more away
    net.play_round(
        id,
        &[
            Act::Answer(numeric(100)),
            Act::Answer(numeric(200)),
            Act::Answer(numeric(300)),
        ],
    );
    let t = net.task(id);
    assert_eq!(t.status, TaskStatus::Assigned);
    assert!(t.result.is_none());
    assert_eq!(t.rounds.len(), 2, "no quorum escalates");
    assert!(all_quiet(&net));
}
