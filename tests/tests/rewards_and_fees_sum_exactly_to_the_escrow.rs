//! A Strong committee (7 of 7) whose members commit with delays 0..6: every unop of the fee is
//! accounted for. `protocol = ⌊F·2 %⌋` and the rounding remainder go to the treasury, the
//! submission fee `⌊F·10 %⌋` stays escrowed until delivery, and the rest P is split by
//! `uᵢ = (0.8 + 0.4·scoreᵢ) × max(0.8, 1 − 0.2·delayᵢ/commit_blocks)` (ppm, floored),
//! `payᵢ = ⌊P·uᵢ/Σu⌋`, each landing in the member's pool with its commission in its account.
//! Everything is recomputed here from the published formulas.

use nodeop_app::modules::tasks::{Consistency, TaskStatus};
use nodeop_app::num::checked_mul_div as mul_div_floor;
use nodeop_app::tx::Msg;
use nodeop_driver::tasks::{commit, exact_task, reveal, TaskGenesis, NOP};

const PPM: u128 = 1_000_000;

#[test]
fn rewards_and_fees_sum_exactly_to_the_escrow() {
    let mut g = TaskGenesis::new(8, 10);
    // every stake is above the cap, so the pay itself cannot move a score mid-block
    g.state.reputation.params.stake_cap = 1_000 * NOP;
    let mut net = g.start();
    let fee: u128 = 7 * NOP + 777_777;
    let id = net.post(exact_task(Consistency::Strong, fee));
    assert_eq!(net.module_balance("task_escrow"), fee);
    let members = net.members(id);
    assert_eq!(members.len(), 7);
    let round = net.task(id).current_round().clone();
    let p = net.params();
    let answer = b"strong answer".to_vec();

    // member i commits i blocks after the first block of the window
    for (i, m) in members.iter().enumerate() {
        net.run_to(round.assigned_height + i as u64);
        net.block_ok(vec![(m.clone(), commit(id, &m.address, &answer))]);
        assert_eq!(
            net.task(id)
                .current_round()
                .member(&m.address)
                .unwrap()
                .commit_height,
            Some(round.assigned_height + 1 + i as u64)
        );
    }
    net.run_to(round.commit_end);

    let treasury = net.module_balance("treasury");
    let balances: Vec<u128> = members.iter().map(|m| net.balance(&m.address)).collect();
    let pools: Vec<u128> = members.iter().map(|m| net.pool(&m.address)).collect();
    let (resp, tx_fees) = net.block_paying(
        members
            .iter()
            .map(|m| (m.clone(), reveal(id, &m.address, &answer)))
            .collect(),
    );
    assert!(resp.tx_results.iter().all(|r| r.is_ok()));
    let t = net.task(id);
    assert_eq!(t.status, TaskStatus::Finalized);
    let fin = t.result.clone().unwrap();

    let protocol = fee * u128::from(p.protocol_fee_ppm) / PPM;
    let submission = fee * u128::from(p.submission_fee_ppm) / PPM;
    let pool_p = fee - protocol - submission;
    assert_eq!(fin.protocol_fee, protocol);
    assert_eq!(t.escrow, submission);
    assert_eq!(net.module_balance("task_escrow"), submission);

    // the weights, from the scores the chain holds and the commit delays
    let mut u = Vec::new();
    for (i, m) in members.iter().enumerate() {
        let score = u128::from(net.score(&m.address));
        let rep = 800_000 + 400_000 * score / PPM;
        let lat = (PPM - 200_000 * i as u128 / u128::from(p.commit_blocks)).max(800_000);
        u.push(rep * lat / PPM);
    }
    let total_u: u128 = u.iter().sum();
    let pays: Vec<u128> = u.iter().map(|w| pool_p * w / total_u).collect();
    let remainder = pool_p - pays.iter().sum::<u128>();
    assert!(remainder < members.len() as u128);
    assert_eq!(fin.rounding_to_treasury, remainder);
    assert_eq!(
        net.module_balance("treasury"),
        treasury + protocol + remainder
    );
    assert_eq!(fin.pay.len(), 7);
    // later commits earn less (delays 0..6 of 10 blocks)
    for (i, m) in members.iter().enumerate() {
        let line = fin.pay.iter().find(|l| l.operator == m.address).unwrap();
        assert_eq!(u128::from(line.weight_ppm), u[i], "member {i}'s weight");
        assert_eq!(line.pay, pays[i], "member {i}'s pay");
        let op = net.chain.operator(&m.address);
        let commission = mul_div_floor(pays[i], u128::from(op.commission_ppm), PPM).unwrap();
        assert_eq!(
            net.balance(&m.address),
            balances[i] - tx_fees[i] + commission
        );
        assert_eq!(net.pool(&m.address), pools[i] + pays[i] - commission);
    }

    // delivery pays the held submission fee; then every unop of the fee has a destination
    let sub = net.task(id).submission.unwrap();
    let submitter = net.key(&sub.schedule[0]).clone();
    let s_idx = members
        .iter()
        .position(|m| m.address == submitter.address)
        .unwrap();
    let before = (
        net.balance(&submitter.address),
        net.pool(&submitter.address),
    );
    let (resp, f) = net.block_paying(vec![(
        submitter.clone(),
        Msg::confirm_submission(id, "ref"),
    )]);
    assert!(resp.tx_results[0].is_ok(), "{}", resp.tx_results[0].log);
    let gained =
        net.balance(&submitter.address) + f[0] - before.0 + net.pool(&submitter.address) - before.1;
    assert_eq!(gained, submission);
    assert_eq!(net.module_balance("task_escrow"), 0);
    assert_eq!(net.task(id).escrow, 0);
    let to_members: u128 = members
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let fees = tx_fees[i] + if i == s_idx { f[0] } else { 0 };
            net.balance(&m.address) + fees - balances[i] + net.pool(&m.address) - pools[i]
        })
        .sum();
    let to_treasury = net.module_balance("treasury") - treasury;
    assert_eq!(to_members + to_treasury, fee);
}
