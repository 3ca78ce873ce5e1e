//! A duty survives a restart at every state: the agent is dropped and its store reopened
//! before every step, stopped in the middle of an execution, stopped right after a broadcast
//! reached the node, and cut off from the node before and after a broadcast. It never sends two different commitments or reveals.

use std::collections::BTreeSet;

use nodeop_app::modules::tasks::{Consistency, TaskStatus};
use nodeop_driver::tasks::TaskGenesis;

use super::*;
use crate::chain::in_process::Fault;

#[tokio::test]
async fn a_duty_survives_a_restart_at_every_state_and_never_equivocates() {
    let g = TaskGenesis::new(1, 100);
    let key = g.operators[0].clone();
    let net = Net::new(TestChain::start(&g.state), g.client.clone());
    // a different answer on every call: re-executing after a restart would change the result,
    // so only the stored result can make the reveal match the commitment
    let fickle = Arc::new(Fickle {
        calls: AtomicU64::new(0),
        slow_calls: 1,
    });
    // a step waits far longer for its executions than the test waits for the step, so that
    // the cut below always falls inside the execution (with the default 300 ms wait the step
    // and the test's timer raced)
    let policy = Policy {
        execution_wait: Duration::from_secs(30),
        ..Policy::default()
    };
    let open = || net.agent(&key, with_exact(fickle.clone()), policy.clone());
    open().step().await.unwrap();
    net.chain.produce_block();
    let id = net.post_exact(Consistency::Eventual);
    let state = || {
        let a = open();
        duties(&a).first().map(|d| d.state)
    };

    // stopped in the middle of the (slow) execution
    {
        let mut a = open();
        let r = tokio::time::timeout(Duration::from_millis(300), a.step()).await;
        assert!(r.is_err(), "the step was cut short");
    }
    assert_eq!(state(), Some(DutyState::Executing));
    let mut seen = BTreeSet::from([DutyState::Executing]);

    // stopped right after the commit reached the node, before hearing back: result, salt and
    // tx were stored before the broadcast
    net.chain.inject(Fault::HangAfterNode);
    {
        let mut a = open();
        let r = tokio::time::timeout(Duration::from_secs(2), a.step()).await;
        assert!(r.is_err(), "the step hung in the broadcast");
    }
    assert_eq!(state(), Some(DutyState::Committed));
    assert_eq!(
        net.chain.broadcasts().len(),
        1,
        "the commit reached the node"
    );
    let stored = duties(&open())[0].clone();
    assert_eq!(
        fickle.calls.load(Ordering::SeqCst),
        2,
        "executed twice, committed once"
    );

    // from here on: a fresh agent for every step
    let mut dropped = false;
    for _ in 0..60 {
        if net.task(id).status == TaskStatus::Delivered {
            break;
        }
        let s = state().expect("the duty");
        seen.insert(s);
        if s == DutyState::Committed
            && net.task(id).rounds[0].members[0].commitment.is_some()
            && net.chain.height() >= net.task(id).rounds[0].commit_end
            && !dropped
        {
            // the reveal's first broadcast never reaches the node, its resend's answer is lost
            net.chain.inject(Fault::DropBeforeNode);
            net.chain.inject(Fault::LoseReply);
            dropped = true;
            assert!(open().step().await.is_err());
            seen.insert(state().unwrap());
            continue;
        }
        if let Err(e) = open().step().await {
            // only the injected lost answer may fail a step
            assert!(format!("{e:#}").contains("injected"), "{e:#}");
        }
        net.chain.produce_block();
    }
    open().step().await.unwrap();
    seen.insert(state().unwrap());
    assert!(dropped, "the reveal's broadcasts failed");
    assert!(
        net.chain.sim().faults.is_empty(),
        "every injected fault was hit"
    );
    let t = net.task(id);
    assert_eq!(t.status, TaskStatus::Delivered);
    for s in [
        DutyState::Executing,
        DutyState::Committed,
        DutyState::Revealed,
        DutyState::Scheduled,
        DutyState::Delivered,
    ] {
        assert!(seen.contains(&s), "restarted in {s:?}: {seen:?}");
    }
    let d = duties(&open())[0].clone();
    assert_eq!(d.state, DutyState::Delivered);
    assert_eq!(d.result, stored.result, "the stored result never changed");
    assert_eq!(d.salt, stored.salt);
    // what was revealed is what the first completed execution produced
    assert_eq!(t.result.unwrap().result, b"answer 1".to_vec());
    assert_eq!(distinct_commit_reveal(&net, &key.address, id), (1, 1));
    assert!(missed(&open()).is_empty());
}
