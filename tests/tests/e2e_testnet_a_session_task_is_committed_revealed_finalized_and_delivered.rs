//! End to end, on a real 4-validator network: a client posts a Session task with
//! `nodeop tx task post`; the chain draws a committee of three of the four genesis operators in
//! the posting block. Each member commits with `nodeop tx task commit` (the salt stays in its own
//! client home) and, once the commit window has closed, reveals with `nodeop tx task reveal`.
//! The task finalizes at the end of the block of the last reveal; the member the schedule puts
//! in window 0 confirms the delivery with `nodeop tx task confirm` inside that window.
//!
//! Checked on the chain, from the node's queries and the blocks' events:
//! - `task_posted` in the posting block; the committee has three distinct genesis operators;
//!   the fee sits in `task_escrow`;
//! - every commit lands in the commit window, every reveal in the reveal window;
//! - `result_finalized` and `submission_due` (submitter = window 0's member) in the last
//!   reveal's block; the result is the members' bytes, all three agree;
//! - the split: protocol fee and rounding to the treasury, each member's pay into its pool less
//!   commission, the submission fee held in escrow, to the last unop, recomputed here from the
//!   published formulas (weights `(0.8 + 0.4·score) × latency`);
//! - `submission_confirmed` in window 0; the submission fee lands in the submitter's pool less
//!   commission; the task is `delivered` and the escrow empty;
//! - over the whole run no unop is created or lost: the total supply does not move and the
//!   client, the four operator accounts, the treasury, the fee pool, the task escrow and the
//!   bonded pool together hold exactly what they held before.

use std::time::{Duration, Instant};

use nodeop_app::modules::reputation::{score, Components, OperatorReputation, ReputationParams};
use nodeop_driver::chain::Key;
use nodeop_driver::tasks::NOP;
use nodeop_tests::net::num;
use nodeop_tests::testnet::{included_ok, task_members, Testnet, TestnetOptions};
use serde_json::Value;

const CHAIN_ID: &str = "nodeop-e2e-task-delivered";
/// unop; not a round number, so the floors of the split leave remainders.
const FEE: u128 = 1_000_003;
const RESULT: &str = "the answer is 42";

fn attr<'a>(attributes: &'a [(String, String)], key: &str) -> Option<&'a str> {
    attributes
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// The one event of `kind` naming task `id` in `events`.
fn event_of<'a>(
    events: &'a [(String, Vec<(String, String)>)],
    kind: &str,
    id: u64,
) -> &'a [(String, String)] {
    let id = id.to_string();
    let found: Vec<_> = events
        .iter()
        .filter(|(k, a)| k == kind && attr(a, "task") == Some(id.as_str()))
        .collect();
    assert_eq!(
        found.len(),
        1,
        "one {kind} event for task {id} expected: {events:?}"
    );
    &found[0].1
}

fn floor_ppm(amount: u128, ppm: u128) -> u128 {
    amount * ppm / 1_000_000
}

/// An operator's effective reputation as the finalizing block's rewards saw it: its stored
/// reputation record and the reputation params at `height` (read with the node's record
/// paths), its pool at `tokens`, run through the chain's own score functions
/// (`/reputation/operator/` answers only for the latest height).
fn effective_score_at(net: &Testnet, operator: &str, height: u64, tokens: u128) -> u128 {
    let read = |path: &str| -> Value {
        net.validators[0]
            .abci_query(path, height)
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let record: OperatorReputation =
        serde_json::from_value(read(&format!("/reputation/record/{operator}"))).unwrap();
    let params: ReputationParams = serde_json::from_value(read("/reputation/params")).unwrap();
    let score = Components::of(&record, tokens, &params).score_ppm(&params);
    u128::from(score::effective_ppm(score, record.byz_factor_ppm))
}

#[test]
fn a_session_task_is_committed_revealed_finalized_and_delivered_in_the_first_window() {
    let started = Instant::now();
    let client = Key::from_seed("e2e testnet task client");
    let client_address = client.address.to_bech32();
    let options = TestnetOptions::new(CHAIN_ID)
        .fund(&client_address, 1_000 * NOP)
        .task_windows(20, 20, 10)
        .without_epochs();
    let mut net = Testnet::new("task-delivered", &options);
    net.start();
    let client_home = net.client_home_with("client", &client);
    let treasury = nodeop_app::modules::bank::TREASURY.address().to_bech32();
    let fee_pool = nodeop_app::modules::bank::FEE_POOL.address().to_bech32();
    let escrow = nodeop_app::modules::bank::TASK_ESCROW.address().to_bech32();
    let bonded_pool = nodeop_app::modules::bank::BONDED_POOL.address().to_bech32();
    let operators: Vec<String> = net.validators.iter().map(|v| v.operator.clone()).collect();

    let params = net.v(0).abci_query("/tasks/params", 0).unwrap();
    let protocol_ppm = num(&params["protocol_fee_ppm"]);
    let submission_ppm = num(&params["submission_fee_ppm"]);
    let commit_blocks = num(&params["commit_blocks"]) as u64;
    assert_eq!(commit_blocks, 20, "{params}");
    assert_eq!(num(&params["submission_window"]), 10, "{params}");
    let price = net.v(0).abci_query("/tasks/price", 0).unwrap();
    assert!(num(&price["unit_price"]) <= FEE, "{price}");

    // Everything the run may move, before it.
    let h0 = net.v(0).height();
    let accounts: Vec<String> = [
        client_address.clone(),
        treasury.clone(),
        fee_pool.clone(),
        escrow.clone(),
        bonded_pool.clone(),
    ]
    .into_iter()
    .chain(operators.iter().cloned())
    .collect();
    let before: Vec<u128> = accounts.iter().map(|a| net.balance(0, a, h0)).collect();
    let supply_before = net.supply(0, h0);
    assert_eq!(net.balance(0, &escrow, h0), 0);

    // The client posts.
    let (id, posted_at) = net.post_task_cli(&client_home, "client", &client_address, "2 × 21", FEE);
    let task = net.task(0, id, posted_at);
    eprintln!("task {id} posted in block {posted_at}: {task}");
    assert_eq!(task["status"], "assigned", "{task}");
    assert_eq!(task["consistency"], "session", "{task}");
    assert_eq!(num(&task["fee"]), FEE, "{task}");
    assert_eq!(num(&task["escrow"]), FEE, "{task}");
    assert_eq!(net.balance(0, &escrow, posted_at), FEE);
    let members = task_members(&task);
    assert_eq!(members.len(), 3, "a Session committee: {task}");
    let mut distinct = members.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 3, "{task}");
    let member_nodes: Vec<usize> = members.iter().map(|m| net.validator_of(m)).collect();
    let round = &task["rounds"][0];
    let (commit_end, reveal_end) = (
        num(&round["commit_end"]) as u64,
        num(&round["reveal_end"]) as u64,
    );
    assert_eq!(commit_end, posted_at + commit_blocks, "{task}");
    let events = net.block_events(0, posted_at, Duration::from_secs(30));
    let posted = event_of(&events, nodeop_app::modules::tasks::events::TASK_POSTED, id);
    eprintln!("task_posted: {posted:?}");

    // The three members commit, each from its own home, at the same time.
    let commits = net.members_cli(
        &member_nodes,
        "commit",
        &["tx", "task", "commit", "operator", &id.to_string(), RESULT],
    );
    eprintln!("commits in blocks {commits:?} (window ({posted_at}, {commit_end}])");
    for h in &commits {
        assert!(*h > posted_at && *h <= commit_end, "commit in {h}");
    }
    let task = net.task(0, id, 0);
    for m in task["rounds"][0]["members"].as_array().unwrap() {
        assert!(!m["commitment"].is_null(), "every member committed: {task}");
        assert!(m["result"].is_null(), "nothing revealed yet: {task}");
    }

    // ... and reveal once the commit window has closed (the CLI waits for it).
    let reveals = net.members_cli(
        &member_nodes,
        "reveal",
        &[
            "tx",
            "task",
            "reveal",
            "operator",
            &id.to_string(),
            "--wait-for-window",
        ],
    );
    eprintln!("reveals in blocks {reveals:?} (window ({commit_end}, {reveal_end}])");
    for h in &reveals {
        assert!(*h > commit_end && *h <= reveal_end, "reveal in {h}");
    }
    let finalized_at = *reveals.iter().max().unwrap();

    // Finalized at the end of the last reveal's block.
    let task = net.task(0, id, finalized_at);
    assert_eq!(
        task["status"], "finalized",
        "finalized in the block of the last reveal: {task}"
    );
    let result = &task["result"];
    assert_eq!(num(&result["finalized_height"]) as u64, finalized_at);
    assert_eq!(result["result"], hex::encode(RESULT), "{task}");
    let mut agreeing: Vec<String> = result["agreeing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect();
    agreeing.sort();
    assert_eq!(agreeing, distinct, "all three agree: {task}");
    assert_eq!(result["disagreeing"].as_array().map(Vec::len), Some(0));
    let events = net.block_events(0, finalized_at, Duration::from_secs(30));
    let fin = event_of(
        &events,
        nodeop_app::modules::tasks::events::RESULT_FINALIZED,
        id,
    );
    assert_eq!(
        attr(fin, "result_hash"),
        result["result_hash"].as_str(),
        "{fin:?}"
    );
    let due = event_of(
        &events,
        nodeop_app::modules::tasks::events::SUBMISSION_DUE,
        id,
    );
    let schedule = net
        .v(0)
        .abci_query(&format!("/tasks/schedule/{id}"), 0)
        .unwrap();
    eprintln!("schedule: {schedule}");
    let window0 = &schedule["windows"][0];
    let submitter = window0["member"].as_str().unwrap().to_string();
    assert_eq!(attr(due, "submitter"), Some(submitter.as_str()), "{due:?}");
    assert_eq!(attr(due, "window"), Some("0"), "{due:?}");
    assert_eq!(num(&window0["first_height"]) as u64, finalized_at + 1);
    assert_eq!(num(&window0["last_height"]) as u64, finalized_at + 10);
    assert_eq!(window0["state"], "open", "{schedule}");
    assert!(members.contains(&submitter), "{schedule}");

    // The split, recomputed from the published formulas.
    let protocol_fee = floor_ppm(FEE, protocol_ppm);
    let submission_fee = floor_ppm(FEE, submission_ppm);
    let pool = FEE - protocol_fee - submission_fee;
    let pays = result["pay"].as_array().unwrap();
    assert_eq!(pays.len(), 3, "{task}");
    let weights: Vec<u128> = pays.iter().map(|p| num(&p["weight_ppm"])).collect();
    let total_weight: u128 = weights.iter().sum();
    let mut paid = 0;
    for (p, w) in pays.iter().zip(&weights) {
        let operator = p["operator"].as_str().unwrap();
        let node = net.validator_of(operator);
        let member = task["rounds"][0]["members"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["operator"] == operator)
            .unwrap();
        let delay = num(&member["commit_height"]) as u64 - posted_at - 1;
        let pay = num(&p["pay"]);
        // into the pool, less commission (which goes to the operator's account)
        let record = |h| net.operator_record(0, operator, h);
        let commission_ppm = num(&record(finalized_at)["commission_ppm"]);
        let tokens_before = num(&record(finalized_at - 1)["tokens"]);
        let tokens_after = num(&record(finalized_at)["tokens"]);
        let to_pool = pay - floor_ppm(pay, commission_ppm);
        assert_eq!(
            tokens_after - tokens_before,
            to_pool,
            "node{node}'s pool in block {finalized_at}"
        );
        let score = effective_score_at(&net, operator, finalized_at, tokens_after - to_pool);
        let rep = 800_000 + 400_000 * score / 1_000_000;
        let lat =
            (1_000_000 - u128::from(delay) * 200_000 / u128::from(commit_blocks)).max(800_000);
        eprintln!("node{node}: score {score} ppm, commit delay {delay}, weight {w} ppm");
        assert_eq!(*w, rep * lat / 1_000_000, "u of {operator}: {task}");
        assert_eq!(pay, pool * w / total_weight, "pay of {operator}: {task}");
        paid += pay;
    }
    assert_eq!(num(&result["protocol_fee"]), protocol_fee, "{task}");
    let rounding = num(&result["rounding_to_treasury"]);
    assert_eq!(rounding, pool - paid, "{task}");
    assert_eq!(protocol_fee + paid + rounding + submission_fee, FEE);
    // ... and as the finalizing block's event tells it
    for (key, value) in [
        ("members_paid", paid),
        ("protocol_fee", protocol_fee),
        ("to_treasury", rounding),
    ] {
        assert_eq!(
            attr(fin, key),
            Some(value.to_string().as_str()),
            "{key} in {fin:?}"
        );
    }
    assert_eq!(
        net.balance(0, &treasury, finalized_at) - net.balance(0, &treasury, finalized_at - 1),
        protocol_fee + rounding,
        "the treasury's share in block {finalized_at}"
    );
    assert_eq!(num(&task["escrow"]), submission_fee, "{task}");
    assert_eq!(net.balance(0, &escrow, finalized_at), submission_fee);
    // the fourth operator's pool did not move
    for (i, op) in operators.iter().enumerate() {
        if !members.contains(op) {
            assert_eq!(
                num(&net.operator_record(0, op, finalized_at)["tokens"]),
                num(&net.operator_record(0, op, h0)["tokens"]),
                "node{i} sat on no committee"
            );
        }
    }

    // The scheduled submitter confirms in window 0.
    let node = net.validator_of(&submitter);
    let out = net.v(node).cli(&[
        "tx",
        "task",
        "confirm",
        "operator",
        &id.to_string(),
        "consumer-log#1",
    ]);
    let delivered_at = included_ok("tx task confirm", &out);
    assert!(
        delivered_at > finalized_at && delivered_at <= finalized_at + 10,
        "delivered in block {delivered_at}, window 0 is ({finalized_at}, {}]",
        finalized_at + 10
    );
    let task = net.task(0, id, delivered_at);
    assert_eq!(task["status"], "delivered", "{task}");
    let sub = &task["submission"];
    assert_eq!(sub["submitter"], submitter.as_str(), "{task}");
    assert_eq!(sub["target_ref"], "consumer-log#1", "{task}");
    assert_eq!(num(&sub["delivered_height"]) as u64, delivered_at);
    assert_eq!(num(&sub["window"]), 0, "{task}");
    assert_eq!(num(&task["escrow"]), 0, "{task}");
    assert_eq!(net.balance(0, &escrow, delivered_at), 0);
    let events = net.block_events(0, delivered_at, Duration::from_secs(30));
    let confirmed = event_of(
        &events,
        nodeop_app::modules::tasks::events::SUBMISSION_CONFIRMED,
        id,
    );
    assert_eq!(attr(confirmed, "submitter"), Some(submitter.as_str()));
    assert_eq!(attr(confirmed, "window"), Some("0"));
    assert_eq!(
        attr(confirmed, "submission_fee"),
        Some(submission_fee.to_string().as_str())
    );
    let record = |h| net.operator_record(0, &submitter, h);
    let commission_ppm = num(&record(delivered_at)["commission_ppm"]);
    assert_eq!(
        num(&record(delivered_at)["tokens"]) - num(&record(delivered_at - 1)["tokens"]),
        submission_fee - floor_ppm(submission_fee, commission_ppm),
        "the submission fee in node{node}'s pool"
    );
    let schedule = net
        .v(0)
        .abci_query(&format!("/tasks/schedule/{id}"), 0)
        .unwrap();
    assert_eq!(schedule["windows"][0]["state"], "delivered", "{schedule}");

    // Over the whole run: nothing created, nothing lost.
    let after: Vec<u128> = accounts
        .iter()
        .map(|a| net.balance(0, a, delivered_at))
        .collect();
    let supply_after = net.supply(0, delivered_at);
    assert_eq!(
        supply_before["total_supply"], supply_after["total_supply"],
        "{supply_before} -> {supply_after}"
    );
    let (sum_before, sum_after): (u128, u128) = (before.iter().sum(), after.iter().sum());
    assert_eq!(
        sum_before, sum_after,
        "client, operators, treasury, fee pool, escrow and bonded pool: {accounts:?}\n\
         before {before:?}\nafter  {after:?}"
    );
    let client_spent = before[0] - after[0];
    assert!(client_spent > FEE, "the client paid the fee and its tx fee");
    let fee_pool_gain = after[2] - before[2];
    // the txs' fees: the client's post, three commits, three reveals, one confirmation
    assert!(
        fee_pool_gain >= client_spent - FEE,
        "the fee pool holds at least the client's tx fee"
    );
    assert_eq!(
        after[4] - before[4],
        operators
            .iter()
            .map(
                |op| num(&net.operator_record(0, op, delivered_at)["tokens"])
                    - num(&net.operator_record(0, op, h0)["tokens"])
            )
            .sum::<u128>(),
        "the bonded pool grew by what the pools grew"
    );
    let view: Value = net
        .v(0)
        .abci_query(&format!("/tasks/result/{id}"), 0)
        .unwrap();
    assert_eq!(view["result_hash"], result["result_hash"], "{view}");
    eprintln!(
        "e2e_testnet task {id}: posted {posted_at}, committed {commits:?}, revealed {reveals:?}, \
         finalized {finalized_at}, delivered {delivered_at} by node{node}; fee {FEE} = protocol \
         {protocol_fee} + members {paid} + rounding {rounding} + submission {submission_fee}; \
         passed in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
