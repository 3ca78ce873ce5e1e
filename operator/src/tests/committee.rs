//! Committees of agents: honest ones finalize and deliver with no missed duty; a lying
//! executor's agent is outvoted and gets a result_mismatch proposal; an executor that times
//! out commits nothing; a slow execution runs in the background while other duties go on.

use std::sync::Arc;

use nodeop_app::modules::slashing::Offence;
use nodeop_app::modules::tasks::{Consistency, TaskStatus};
use nodeop_app::tx::Msg;
use nodeop_driver::tasks::{all_proposals, numeric_task, TaskGenesis};

use super::*;
use crate::executor::ExecExecutor;

#[tokio::test]
async fn an_honest_committee_of_agents_finalizes_and_delivers_with_no_missed_duty() {
    let g = TaskGenesis::new(7, 100);
    let keys = g.operators.clone();
    let net = Net::new(TestChain::start(&g.state), g.client.clone());
    let mut agents: Vec<_> = keys
        .iter()
        .map(|k| net.agent(k, honest(), Policy::default()))
        .collect();
    run(&net, &mut agents, 1).await;
    let mut ids = vec![
        net.post_exact(Consistency::Eventual),
        net.post_exact(Consistency::Session),
        net.post_exact(Consistency::Strong),
    ];
    let price = {
        let sim = net.chain.sim();
        nodeop_app::modules::tasks::state::unit_price(sim.chain.app.storage())
    };
    let mut numeric = numeric_task(Consistency::Session, 2, 10_000, price * 10);
    numeric.payload = nodeop_app::modules::tasks::TaskPayload::Inline(b"12.34".to_vec());
    ids.push(net.post(numeric));
    run_until_done(&net, &mut agents, &ids, 80).await;
    for id in &ids {
        let t = net.task(*id);
        assert_eq!(t.status, TaskStatus::Delivered, "task {id}");
        let r = t.result.expect("finalized");
        assert!(r.disagreeing.is_empty(), "task {id}: {:?}", r.disagreeing);
        assert_eq!(
            r.agreeing.len(),
            t.rounds[0].members.len(),
            "task {id}: every member agreed"
        );
    }
    // the Exact answer is the payload's hash, the Numeric one the number × 10^2
    let exact = net.task(ids[0]).result.unwrap().result;
    assert_eq!(
        exact,
        sha256(&[b"what is the block hash of height 42?"]).to_vec()
    );
    assert_eq!(
        net.task(ids[3]).result.unwrap().result,
        1234i64.to_be_bytes()
    );
    for a in &mut agents {
        a.step().await.unwrap();
        assert_eq!(missed(a), Vec::<Duty>::new(), "agent {}", a.address);
        assert_eq!(a.metrics.missed(), 0);
        assert!(duties(a).iter().all(|d| d.state.is_terminal()));
        // every duty tx went with fee 0
        for (m, _) in net.sent_by(&a.address) {
            assert!(m.is_duty(), "{m:?}");
        }
        for b in net.chain.broadcasts() {
            assert_eq!(b.tx.body.fee, 0);
        }
    }
    let members_total: usize = ids
        .iter()
        .map(|id| net.task(*id).rounds[0].members.len())
        .sum();
    let duties_total: usize = agents.iter().map(|a| duties(a).len()).sum();
    assert_eq!(duties_total, members_total, "one duty per committee seat");
    let delivered: usize = agents
        .iter()
        .map(|a| {
            duties(a)
                .iter()
                .filter(|d| d.state == DutyState::Delivered)
                .count()
        })
        .sum();
    assert_eq!(delivered, ids.len(), "one delivery per task");
    assert!(agents[0]
        .metrics
        .render()
        .contains("nodeop_operator_missed_duties 0"));
}

#[tokio::test]
async fn a_lying_executor_is_outvoted_and_gets_a_result_mismatch_proposal() {
    // three operators: a Session committee (3, quorum 2) is all of them
    let g = TaskGenesis::new(3, 100);
    let keys = g.operators.clone();
    let net = Net::new(TestChain::start(&g.state), g.client.clone());
    let liar = keys[1].address;
    let mut agents: Vec<_> = keys
        .iter()
        .map(|k| {
            let ex = if k.address == liar {
                with_exact(Arc::new(Constant(b"a made-up answer".to_vec())))
            } else {
                honest()
            };
            net.agent(k, ex, Policy::default())
        })
        .collect();
    run(&net, &mut agents, 1).await;
    let id = net.post_exact(Consistency::Session);
    run_until_done(&net, &mut agents, &[id], 80).await;
    let t = net.task(id);
    let r = t.result.expect("finalized");
    assert_eq!(r.disagreeing, vec![liar]);
    assert_eq!(r.agreeing.len(), 2);
    assert_eq!(
        r.result,
        sha256(&[b"what is the block hash of height 42?"]).to_vec()
    );
    let proposals: Vec<_> = {
        let sim = net.chain.sim();
        all_proposals(&sim.chain)
    };
    assert!(
        proposals.iter().any(|p| p.operator == liar
            && p.offence == Offence::ResultMismatch
            && p.infraction_id == id),
        "{proposals:?}"
    );
    assert!(
        proposals.iter().all(|p| p.operator == liar),
        "only the liar is accused"
    );
    // the liar's agent did its duties (it revealed what it committed) and was paid nothing
    let liar_agent = agents.iter().find(|a| a.address == liar).unwrap();
    let d = &duties(liar_agent)[0];
    assert_eq!(d.state, DutyState::Done);
    assert_eq!(d.pay(), 0);
}

#[tokio::test]
async fn an_executor_timeout_commits_nothing() {
    let g = TaskGenesis::new(1, 100);
    let key = g.operators[0].clone();
    let net = Net::new(TestChain::start(&g.state), g.client.clone());
    let slow = ExecExecutor {
        command: vec!["sleep".into(), "5".into()],
        timeout: std::time::Duration::from_millis(300),
        max_output_bytes: 100,
        trim_newline: true,
    };
    let mut agents = vec![net.agent(&key, with_exact(Arc::new(slow)), Policy::default())];
    run(&net, &mut agents, 1).await;
    let id = net.post_exact(Consistency::Eventual);
    // the execution runs in the background: blocks go on while it times out
    for _ in 0..8 {
        run(&net, &mut agents, 1).await;
        if duties(&agents[0])[0].state == DutyState::Missed {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let d = &duties(&agents[0])[0];
    assert_eq!(d.state, DutyState::Missed);
    assert!(
        d.reason.as_deref().unwrap_or("").contains("timed out"),
        "{:?}",
        d.reason
    );
    assert!(d.result.is_none() && d.commit_tx.is_none());
    assert!(
        !net.sent_by(&key.address)
            .iter()
            .any(|(m, _)| matches!(m, Msg::CommitResult(_) | Msg::RevealResult(_))),
        "nothing was committed"
    );
    // the chain sees a silent member
    let t = net.task(id);
    assert!(t.rounds[0].members[0].commitment.is_none());
    assert!(agents[0]
        .metrics
        .render()
        .contains("nodeop_operator_executor_failures_total 1"));
}

/// Holds its first call until the test opens the gate; answers the payload's SHA-256.
struct HeldFirst {
    calls: AtomicU64,
    gate: Arc<tokio::sync::Semaphore>,
}

#[async_trait]
impl Executor for HeldFirst {
    fn name(&self) -> String {
        "held-first".into()
    }
    async fn execute(&self, job: &Job) -> Result<Vec<u8>> {
        if self.calls.fetch_add(1, Ordering::SeqCst) == 0 {
            let _permit = self.gate.acquire().await?;
        }
        Ok(sha256(&[&job.payload]).to_vec())
    }
}

#[tokio::test]
async fn a_slow_execution_runs_in_the_background_and_holds_up_no_other_duty() {
    let g = TaskGenesis::new(1, 100);
    let key = g.operators[0].clone();
    let net = Net::new(TestChain::start(&g.state), g.client.clone());
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    let held = Arc::new(HeldFirst {
        calls: AtomicU64::new(0),
        gate: gate.clone(),
    });
    let mut agents = vec![net.agent(&key, with_exact(held.clone()), Policy::default())];
    run(&net, &mut agents, 1).await;
    let slow = net.post_exact(Consistency::Eventual);
    run(&net, &mut agents, 1).await;
    let fast = net.post_exact(Consistency::Eventual);
    // blocks go on; the second task is executed, committed and included while the first one's
    // execution is still running
    for _ in 0..3 {
        tokio::time::timeout(std::time::Duration::from_secs(2), run(&net, &mut agents, 1))
            .await
            .expect("a step waited for the held execution");
    }
    let running: Vec<u64> = agents[0].executing().iter().map(|k| k.task_id).collect();
    assert_eq!(running, vec![slow], "the first execution is still running");
    assert!(net.task(fast).rounds[0].members[0].commitment.is_some());
    assert!(net.task(slow).rounds[0].members[0].commitment.is_none());
    assert_eq!(
        duties(&agents[0])
            .iter()
            .find(|d| d.task_id == slow)
            .map(|d| d.state),
        Some(DutyState::Executing)
    );
    // released inside its commit window: committed and finalized like any other
    gate.add_permits(1);
    run_until_done(&net, &mut agents, &[slow, fast], 60).await;
    for id in [slow, fast] {
        assert_eq!(net.task(id).status, TaskStatus::Delivered, "task {id}");
    }
    assert!(missed(&agents[0]).is_empty(), "{:?}", missed(&agents[0]));
    assert_eq!(
        held.calls.load(Ordering::SeqCst),
        2,
        "each task executed once"
    );
}
