//! A validator jailed for downtime comes back by itself: its agent sends `Unjail` once the jail
//! time has passed (the chain refuses an earlier one in CheckTx), and nothing before it is
//! jailed; with `unjail` off it stays jailed.

use nodeop_app::modules::staking::events as staking_events;
use nodeop_driver::chain::consensus_key;
use nodeop_driver::tasks::TaskGenesis;

use super::*;

/// Runs blocks with operator 1's validator offline until it is jailed; returns the net, its
/// key and the jail's end (BFT seconds).
async fn jailed(policy: Policy) -> (Net, Key, Agent<InProcessChain>, i64) {
    let g = TaskGenesis::new(2, 100);
    let key = g.operators[1].clone();
    let net = Net::new(TestChain::start(&g.state), g.client.clone());
    let mut agents = vec![net.agent(&key, honest(), policy)];
    net.chain
        .sim()
        .chain
        .offline
        .insert(consensus_key("task-op-1"));
    for _ in 0..200 {
        run(&net, &mut agents, 1).await;
        let op = net.chain.sim().chain.operator(&key.address);
        if let Some(until) = op.jailed_until {
            let agent = agents.pop().expect("the agent");
            return (net, key, agent, until);
        }
    }
    panic!("operator 1 was not jailed within 200 blocks");
}

fn unjails(net: &Net, key: &Key) -> Vec<bool> {
    net.sent_by(&key.address)
        .into_iter()
        .filter(|(m, _)| matches!(m, Msg::Unjail(_)))
        .map(|(_, accepted)| accepted)
        .collect()
}

#[tokio::test]
async fn a_jailed_operators_agent_unjails_it_once_the_jail_time_has_passed() {
    let (net, key, agent, until) = jailed(Policy::default()).await;
    assert!(unjails(&net, &key).is_empty(), "no Unjail before the jail");
    // the machine is back
    net.chain.sim().chain.offline.clear();
    let mut agents = vec![agent];
    let mut unjailed_at = None;
    for _ in 0..60 {
        run(&net, &mut agents, 1).await;
        let sim = net.chain.sim();
        if sim.chain.operator(&key.address).jailed_until.is_none() {
            unjailed_at = Some(sim.chain.time.seconds);
            break;
        }
    }
    let at = unjailed_at.expect("unjailed within 60 blocks of the jail");
    assert!(
        at >= until,
        "unjailed at {at}, before the jail's end {until}"
    );
    let sent = unjails(&net, &key);
    assert_eq!(
        sent.iter().filter(|ok| **ok).count(),
        1,
        "one Unjail accepted (attempts: {sent:?})"
    );
    // its validator is reported to CometBFT again
    let height = net.chain.height();
    let events = net.chain.sim().events.clone();
    assert!(
        events
            .range(..=height)
            .flat_map(|(_, evs)| evs)
            .any(|e| e.kind == staking_events::UNJAIL),
        "an unjail event"
    );
    run(&net, &mut agents, 3).await;
    let sim = net.chain.sim();
    assert!(
        sim.chain
            .reported_set()
            .iter()
            .any(|(pk, _)| *pk == consensus_key("task-op-1")),
        "back in the validator set"
    );
}

#[tokio::test]
async fn with_unjail_off_the_agent_leaves_the_operator_jailed() {
    let policy = Policy {
        unjail: false,
        ..Policy::default()
    };
    let (net, key, agent, _) = jailed(policy).await;
    net.chain.sim().chain.offline.clear();
    let mut agents = vec![agent];
    run(&net, &mut agents, 40).await;
    assert!(unjails(&net, &key).is_empty());
    assert!(net
        .chain
        .sim()
        .chain
        .operator(&key.address)
        .jailed_until
        .is_some());
}
