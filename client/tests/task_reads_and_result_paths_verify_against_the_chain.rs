//! The client's task and reputation reads against the real app (the in-process chain of
//! the nodeop-driver crate): a Session task is played to finalization, delivered and pruned, and at
//! each step the client decodes the node's answers into its types, verifies the proven records
//! against the app hash, and checks the result's Merkle path against the proven root — also
//! after the task itself is gone from state.

use nodeop_app::modules::reputation::{OperatorReputation, ReputationParams};
use nodeop_app::modules::staking::Operator;
use nodeop_app::modules::tasks::query::{
    LoadView, PriceView, ResultView, ScheduleView, TaskPage, WindowState,
};
use nodeop_app::modules::tasks::state::{BlockResults, CapacitySummary, ResultRecord};
use nodeop_app::modules::tasks::{Consistency, Task, TaskStatus};
use nodeop_app::query::QueryResponse;
use nodeop_app::tx::Msg;
use nodeop_client::reputation::{self, ReputationView};
use nodeop_client::tasks::{check_against_proven, verify_result_path};
use nodeop_client::verify::{verify_query_answer, Record};
use nodeop_driver::chain::TestChain;
use nodeop_driver::tasks::{exact_task, TaskGenesis, NOP};
use tendermint::merkle::proof::{ProofOp, ProofOps};
use tendermint_rpc::endpoint::abci_query::AbciQuery;

/// The app's answer as CometBFT's RPC hands it to the client.
fn as_rpc(r: QueryResponse) -> AbciQuery {
    AbciQuery {
        code: r.code.into(),
        log: r.log,
        info: r.info,
        index: 0,
        key: r.key,
        value: r.value,
        proof: Some(ProofOps {
            ops: r
                .proof_ops
                .into_iter()
                .map(|o| ProofOp {
                    field_type: o.kind,
                    key: o.key,
                    data: o.data,
                })
                .collect(),
        }),
        height: r.height.try_into().unwrap(),
        codespace: r.codespace,
    }
}

/// A proven read of `record` at the latest height, verified as `nodeop query … --prove` does.
fn proven(chain: &TestChain, record: &Record) -> serde_json::Value {
    let r = chain.query(&record.path(), &record.data(), 0, true);
    assert_eq!(r.code, 0, "{}: {}", record.path(), r.log);
    verify_query_answer(record, &as_rpc(r), chain.height, &chain.app_hash())
        .unwrap_or_else(|e| panic!("{}: {e}", record.path()))
}

fn json<T: serde::de::DeserializeOwned>(chain: &TestChain, path: &str) -> T {
    let r = chain.query(path, &[], 0, false);
    assert_eq!(r.code, 0, "{path}: {}", r.log);
    serde_json::from_slice(&r.value).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn task_reads_and_result_paths_verify_against_the_chain() {
    let mut g = TaskGenesis::new(4, 100);
    g.state.tasks.params.task_retention = 5;
    let mut net = g.start();
    let id = net.post(exact_task(Consistency::Session, 10 * NOP));
    let client = net.client.address;

    // assigned: the proven record is the task, with its committee and deadlines
    let t: Task = serde_json::from_value(proven(&net.chain, &Record::Task(id))).unwrap();
    assert_eq!(
        (t.id, t.status, t.client),
        (id, TaskStatus::Assigned, client)
    );
    let round = t.current_round().clone();
    assert_eq!(round.members.len(), 3);
    let page: TaskPage = json(
        &net.chain,
        &format!("/tasks/list?status=open&client={client}"),
    );
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].commit_end, round.commit_end);
    let member = round.members[0].operator;
    let page: TaskPage = json(&net.chain, &format!("/tasks/list?operator={member}"));
    assert_eq!(page.items[0].id, id);
    let load: LoadView = json(&net.chain, &format!("/tasks/load/{member}"));
    assert_eq!((load.capacity_units, load.reserved_units), (100, 1));
    let cap: CapacitySummary = json(&net.chain, "/tasks/capacity");
    assert_eq!((cap.total_units, cap.reserved_units), (400, 3));
    let price: PriceView = json(&net.chain, "/tasks/price");
    assert_eq!(price.unit_price, net.unit_price());

    // finalized: the result's path climbs to the proven root of its block
    net.play_honest(id, b"0xfeed");
    let t: Task = serde_json::from_value(proven(&net.chain, &Record::Task(id))).unwrap();
    assert_eq!(t.status, TaskStatus::Finalized);
    let h_f = t.result.as_ref().unwrap().finalized_height;
    let view: ResultView = json(&net.chain, &format!("/tasks/result/{id}"));
    assert_eq!(view.result.as_deref(), Some(b"0xfeed".as_slice()));
    verify_result_path(&view).unwrap();
    let record: ResultRecord =
        serde_json::from_value(proven(&net.chain, &Record::ResultRecord(id))).unwrap();
    let block: BlockResults =
        serde_json::from_value(proven(&net.chain, &Record::BlockResults(h_f))).unwrap();
    check_against_proven(&view, &record, &block).unwrap();
    // a node that lies about the root is caught by the proven one
    let mut lying = view.clone();
    lying.root[0] ^= 1;
    assert!(check_against_proven(&lying, &record, &block).is_err());

    // the schedule: window 0 is open for the first scheduled member
    let schedule: ScheduleView = json(&net.chain, &format!("/tasks/schedule/{id}"));
    assert_eq!(schedule.windows[0].state, WindowState::Open);
    let submitter = schedule.windows[0].member.expect("a scheduled member");
    assert_eq!(schedule.windows.last().unwrap().member, None);
    let key = net.key(&submitter).clone();
    let out = net.run(&key, Msg::confirm_submission(id, "consumer-tx-1"));
    assert!(out.is_ok(), "{}", out.log);
    let schedule: ScheduleView = json(&net.chain, &format!("/tasks/schedule/{id}"));
    assert_eq!(schedule.windows[0].state, WindowState::Delivered);
    assert_eq!(schedule.target_ref.as_deref(), Some("consumer-tx-1"));

    // pruned: the task is gone (its absence proven), its result still proves
    let finished = net
        .task(id)
        .finished_height
        .expect("delivered tasks finish");
    net.run_to(finished + 6);
    assert!(net.try_task(id).is_none(), "pruned after task_retention");
    let r = net.chain.query(&format!("/tasks/task/{id}"), &[], 0, false);
    assert_eq!((r.codespace.as_str(), r.code), ("query", 4), "{}", r.log);
    assert_eq!(
        proven(&net.chain, &Record::Task(id)),
        serde_json::Value::Null
    );
    let raw = Record::Store(Record::Task(id).key());
    assert_eq!(
        proven(&net.chain, &raw),
        serde_json::Value::String(String::new())
    );
    let view: ResultView = json(&net.chain, &format!("/tasks/result/{id}"));
    assert_eq!(view.result, None);
    let record: ResultRecord =
        serde_json::from_value(proven(&net.chain, &Record::ResultRecord(id))).unwrap();
    let block: BlockResults =
        serde_json::from_value(proven(&net.chain, &Record::BlockResults(h_f))).unwrap();
    check_against_proven(&view, &record, &block).unwrap();
    assert_eq!(record.status, TaskStatus::Delivered);

    // reputation: the node's computed view equals the one recomputed from proven records
    let node_view: ReputationView = json(&net.chain, &format!("/reputation/operator/{member}"));
    let counters: OperatorReputation =
        serde_json::from_value(proven(&net.chain, &Record::Reputation(member))).unwrap();
    let op: Operator =
        serde_json::from_value(proven(&net.chain, &Record::Operator(member))).unwrap();
    let params: ReputationParams =
        serde_json::from_value(proven(&net.chain, &Record::ReputationParams)).unwrap();
    assert_eq!(
        reputation::compute(&member, &counters, Some(&op), &params),
        node_view
    );
    assert!(
        counters.results.good > 0,
        "the member's agreeing result is recorded"
    );
}
