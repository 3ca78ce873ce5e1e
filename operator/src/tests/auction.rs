//! The operator policy and the coprocessor role: slots above the local difficulty limit are
//! auctioned; a coprocessor agent wins one and serves it; unsold slots are served by their
//! members after the auction expires.

use nodeop_app::modules::coprocessors::{state as cstate, AuctionStatus};
use nodeop_app::modules::tasks::{Consistency, TaskStatus};
use nodeop_app::tx::Msg;
use nodeop_driver::coprocessors::CoproGenesis;
use nodeop_driver::tasks::NOP;

use super::*;
use crate::agent::{AuctionPolicy, CoprocessorPolicy};
use crate::duty::Role;

#[tokio::test]
async fn slots_too_hard_for_the_operator_are_auctioned_and_a_coprocessor_agent_serves_one() {
    let g = CoproGenesis::new(3, 100, 1).registered_at_genesis(0, 10, 100 * NOP, 0);
    let keys = g.tasks.operators.clone();
    let copro = g.coprocessors[0].clone();
    let net = Net::new(TestChain::start(&g.tasks.state), g.tasks.client.clone());
    let operator_policy = Policy {
        // every task (difficulty 1) is above this machine's limit
        max_difficulty_units: 0,
        auction: Some(AuctionPolicy {
            start_price: u128::MAX,
            floor_price: 1,
        }),
        ..Policy::default()
    };
    let mut agents: Vec<_> = keys
        .iter()
        .map(|k| net.agent(k, honest(), operator_policy.clone()))
        .collect();
    agents.push(net.agent(
        &copro,
        honest(),
        Policy {
            coprocessor: Some(CoprocessorPolicy {
                min_price: 1,
                capacity_units: 10,
            }),
            ..Policy::default()
        },
    ));
    run(&net, &mut agents, 1).await;
    let id = net.post_exact(Consistency::Session);
    run_until_done(&net, &mut agents, &[id], 80).await;
    for a in &mut agents {
        a.step().await.unwrap();
    }

    let t = net.task(id);
    assert_eq!(t.status, TaskStatus::Delivered);
    let r = t.result.clone().expect("finalized");
    assert_eq!(r.agreeing.len(), 3, "all three slots agree");
    let auctions: Vec<_> = {
        let sim = net.chain.sim();
        (1..=3)
            .filter_map(|i| cstate::auction(sim.chain.app.storage(), i))
            .collect()
    };
    assert_eq!(auctions.len(), 3, "every member auctioned its slot");
    let sold: Vec<_> = auctions
        .iter()
        .filter(|a| a.winner == Some(copro.address))
        .collect();
    assert_eq!(
        sold.len(),
        1,
        "one coprocessor holds at most one slot of a task"
    );
    assert_eq!(sold[0].status, AuctionStatus::Paid);
    assert!(auctions
        .iter()
        .filter(|a| a.winner.is_none())
        .all(|a| a.status == AuctionStatus::Expired));
    // the coprocessor agent committed and revealed for the member's slot
    let copro_agent = agents.last().unwrap();
    let cd = duties(copro_agent);
    assert_eq!(cd.len(), 1);
    assert_eq!(cd[0].slot, sold[0].member);
    assert_eq!(
        cd[0].role,
        Role::Coprocessor {
            auction: sold[0].id
        }
    );
    assert_eq!(cd[0].state, DutyState::Done);
    // its pay is what the chain paid it for the auction; its cost the bid's fee
    assert!(sold[0].paid > 0);
    assert_eq!(cd[0].pay(), sold[0].paid);
    assert_eq!(cd[0].other_txs.len(), 1, "the bid tx is a cost of the slot");
    let bid_fee = cd[0].fees_paid();
    assert!(bid_fee > 0, "a bid is not a fee-free duty");
    let rendered = agents.last().unwrap().metrics.render();
    let profit = format!(
        "nodeop_operator_task_profit_unop{{task=\"{id}\"}} {}",
        sold[0].paid as i128 - bid_fee as i128
    );
    assert!(rendered.contains(&profit), "{profit} not in\n{rendered}");
    assert!(net
        .sent_by(&copro.address)
        .iter()
        .any(|(m, ok)| matches!(m, Msg::Bid(_)) && *ok));
    // the seller did not commit; the others served their slots after their auctions expired
    for a in &agents[..3] {
        let d = &duties(a)[0];
        if a.address == sold[0].member {
            assert_eq!(d.auction, Some(sold[0].id));
            // sold, or (its slot agreed) scheduled and then done with delivery
            assert!(
                matches!(
                    d.state,
                    DutyState::Sold | DutyState::Delivered | DutyState::Done
                ),
                "{:?}",
                d.state
            );
            assert!(!net
                .sent_by(&a.address)
                .iter()
                .any(|(m, _)| matches!(m, Msg::CommitResult(_))));
        } else {
            assert!(
                matches!(d.state, DutyState::Done | DutyState::Delivered),
                "{:?}",
                d.state
            );
        }
        assert!(missed(a).is_empty(), "{:?}", missed(a));
    }
    assert!(copro_agent
        .metrics
        .render()
        .contains("nodeop_operator_auctions_won_total 1"));
}
