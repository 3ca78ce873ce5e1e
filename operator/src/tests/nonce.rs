//! A tx refused for a stale nonce is rebuilt with the nonce the chain expects, with the same
//! messages.

use nodeop_app::modules::tasks::{Consistency, TaskStatus};
use nodeop_app::tx::Msg;
use nodeop_driver::tasks::TaskGenesis;

use super::*;
use crate::agent::is_nonce_error;

#[tokio::test]
async fn a_stale_nonce_refusal_is_rebuilt_with_the_right_nonce() {
    let g = TaskGenesis::new(1, 100);
    let key = g.operators[0].clone();
    let net = Net::new(TestChain::start(&g.state), g.client.clone());
    let mut agents = vec![net.agent(&key, honest(), Policy::default())];
    run(&net, &mut agents, 1).await;
    let id = net.post_exact(Consistency::Eventual);
    // another program spends the operator's next nonce before the agent sends its commit:
    // the agent's nonce (read from the committed account) is stale in CheckTx
    let other = {
        let sim = net.chain.sim();
        sim.chain.send(&key, &net.client.address, 1)
    };
    let committed_nonce = {
        let sim = net.chain.sim();
        sim.chain.account(&key.address).nonce
    };
    assert!(net.chain.submit(other).accepted());
    agents[0].step().await.unwrap();
    let b = net.chain.broadcasts();
    let mine: Vec<_> = b
        .iter()
        .filter(|b| Address::from_pubkey(&b.tx.pubkey) == key.address)
        .collect();
    assert_eq!(mine.len(), 2, "one refusal, one rebuilt commit");
    assert!(is_nonce_error(&mine[0].check), "{:?}", mine[0].check);
    assert_eq!(mine[0].tx.body.nonce, committed_nonce);
    assert!(mine[1].check.accepted(), "{:?}", mine[1].check);
    assert_eq!(mine[1].tx.body.nonce, committed_nonce + 1);
    assert_eq!(
        mine[0].tx.body.msgs, mine[1].tx.body.msgs,
        "same commit, new nonce"
    );
    net.chain.produce_block();
    assert!(net.task(id).rounds[0].members[0].commitment.is_some());

    // again with the agent's own count ahead of it: someone uses the nonce it would use next
    let next = committed_nonce + 2;
    let other = {
        let sim = net.chain.sim();
        sim.chain
            .send_with_nonce(&key, next, &net.client.address, 1)
    };
    assert!(net.chain.submit(other).accepted());
    let round = net.task(id).rounds[0].clone();
    while net.chain.height() < round.commit_end {
        run(&net, &mut agents, 1).await;
    }
    run_until_done(&net, &mut agents, &[id], 40).await;
    assert_eq!(net.task(id).status, TaskStatus::Delivered);
    let reveals: Vec<_> = net
        .chain
        .broadcasts()
        .into_iter()
        .filter(|b| matches!(b.tx.body.msgs[0], Msg::RevealResult(_)))
        .collect();
    assert!(
        is_nonce_error(&reveals[0].check),
        "the first reveal used the spent nonce"
    );
    assert_eq!(reveals[0].tx.body.nonce, next);
    assert!(reveals.last().unwrap().check.accepted());
    assert!(missed(&agents[0]).is_empty(), "{:?}", missed(&agents[0]));
    assert_eq!(distinct_commit_reveal(&net, &key.address, id), (1, 1));
}
