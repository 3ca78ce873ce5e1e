//! End to end, on a real 4-validator network: a Session task is posted, committed and revealed
//! with the CLI by its three-member committee (as in
//! `e2e_testnet_a_session_task_is_committed_revealed_finalized_and_delivered`) and finalizes.
//! The member the schedule puts in window 0 stays silent. Checked:
//!
//! - in the last block of window 0 the chain closes it: `submission_due` for window 1 names the
//!   schedule's second member and `missed_by` the silent one; the silent member's duty tally
//!   records one missed duty in that block and its capacity reservation for the task ends; the
//!   schedule shows window 0 `missed` and window 1 `open`;
//! - the second member confirms with `nodeop tx task confirm` inside window 1: the task is
//!   `delivered` by it in window 1, `submission_confirmed` says so, the submission fee lands in
//!   its pool less commission, the silent member's pool does not move, and the escrow is empty.

use std::time::{Duration, Instant};

use nodeop_driver::chain::Key;
use nodeop_driver::tasks::NOP;
use nodeop_tests::net::num;
use nodeop_tests::testnet::{included_ok, task_members, Testnet, TestnetOptions};
use serde_json::Value;

const CHAIN_ID: &str = "nodeop-e2e-task-fallback";
const FEE: u128 = 2_000_000;
const RESULT: &str = "delivered by whoever is due";
/// Submission window W, blocks.
const W: u64 = 10;

fn attr<'a>(attributes: &'a [(String, String)], key: &str) -> Option<&'a str> {
    attributes
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn events_of<'a>(
    events: &'a [(String, Vec<(String, String)>)],
    kind: &str,
    id: u64,
) -> Vec<&'a [(String, String)]> {
    let id = id.to_string();
    events
        .iter()
        .filter(|(k, a)| k == kind && attr(a, "task") == Some(id.as_str()))
        .map(|(_, a)| a.as_slice())
        .collect()
}

fn member<'a>(task: &'a Value, operator: &str) -> &'a Value {
    task["rounds"][0]["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["operator"] == operator)
        .unwrap_or_else(|| panic!("{operator} is no member: {task}"))
}

#[test]
fn a_silent_scheduled_submitter_is_replaced_by_the_next_member_in_window_1() {
    let started = Instant::now();
    let client = Key::from_seed("e2e testnet fallback client");
    let client_address = client.address.to_bech32();
    let options = TestnetOptions::new(CHAIN_ID)
        .fund(&client_address, 1_000 * NOP)
        .task_windows(20, 20, W)
        .without_epochs();
    let mut net = Testnet::new("task-fallback", &options);
    net.start();
    let client_home = net.client_home_with("client", &client);
    let escrow = nodeop_app::modules::bank::TASK_ESCROW.address().to_bech32();

    let (id, posted_at) = net.post_task_cli(
        &client_home,
        "client",
        &client_address,
        "who delivers?",
        FEE,
    );
    let task = net.task(0, id, posted_at);
    let members = task_members(&task);
    assert_eq!(members.len(), 3, "{task}");
    let nodes: Vec<usize> = members.iter().map(|m| net.validator_of(m)).collect();
    let id_text = id.to_string();
    let commits = net.members_cli(
        &nodes,
        "commit",
        &["tx", "task", "commit", "operator", &id_text, RESULT],
    );
    let reveals = net.members_cli(
        &nodes,
        "reveal",
        &[
            "tx",
            "task",
            "reveal",
            "operator",
            &id_text,
            "--wait-for-window",
        ],
    );
    let finalized_at = *reveals.iter().max().unwrap();
    let task = net.task(0, id, finalized_at);
    assert_eq!(task["status"], "finalized", "{task}");
    assert_eq!(
        num(&task["result"]["finalized_height"]) as u64,
        finalized_at
    );
    let schedule = task["submission"]["schedule"].as_array().unwrap();
    assert!(schedule.len() >= 2, "{task}");
    let silent = schedule[0].as_str().unwrap().to_string();
    let fallback = schedule[1].as_str().unwrap().to_string();
    assert_ne!(silent, fallback);
    let (silent_node, fallback_node) = (net.validator_of(&silent), net.validator_of(&fallback));
    let window0_end = finalized_at + W;
    assert_eq!(num(&task["submission"]["window"]), 0, "{task}");
    assert_eq!(
        num(&task["submission"]["window_end"]) as u64,
        window0_end,
        "{task}"
    );
    let submission_fee = num(&task["submission"]["submission_fee"]);
    eprintln!(
        "task {id}: posted {posted_at}, committed {commits:?}, revealed {reveals:?}, finalized \
         {finalized_at}; window 0 (node{silent_node}) ends at {window0_end}, window 1 \
         (node{fallback_node}) at {}",
        window0_end + W
    );

    // Window 0 passes without a confirmation.
    net.wait_for_height(0, window0_end, Duration::from_secs(60));
    let task = net.task(0, id, window0_end);
    assert_eq!(task["status"], "finalized", "{task}");
    assert_eq!(num(&task["submission"]["window"]), 1, "{task}");
    assert_eq!(
        num(&task["submission"]["window_end"]) as u64,
        window0_end + W,
        "{task}"
    );
    assert!(task["submission"]["submitter"].is_null(), "{task}");
    let before = net.task(0, id, window0_end - 1);
    assert_eq!(num(&before["submission"]["window"]), 0, "{before}");
    assert_eq!(member(&before, &silent)["reserved"], true, "{before}");
    assert_eq!(
        member(&task, &silent)["reserved"],
        false,
        "the silent member's duty ended with its window: {task}"
    );
    assert_eq!(member(&task, &fallback)["reserved"], true, "{task}");
    let events = net.block_events(0, window0_end, Duration::from_secs(30));
    let due = events_of(
        &events,
        nodeop_app::modules::tasks::events::SUBMISSION_DUE,
        id,
    );
    assert_eq!(due.len(), 1, "{events:?}");
    assert_eq!(attr(due[0], "window"), Some("1"), "{due:?}");
    assert_eq!(
        attr(due[0], "submitter"),
        Some(fallback.as_str()),
        "{due:?}"
    );
    assert_eq!(attr(due[0], "missed_by"), Some(silent.as_str()), "{due:?}");
    let duties = |h: u64, operator: &str| -> (u128, u128) {
        let r = net.validators[0]
            .abci_query(&format!("/reputation/record/{operator}"), h)
            .unwrap();
        (num(&r["duties"]["good"]), num(&r["duties"]["bad"]))
    };
    let (good_before, bad_before) = duties(window0_end - 1, &silent);
    let (good_after, bad_after) = duties(window0_end, &silent);
    assert!(
        bad_after > bad_before && good_after <= good_before,
        "the silent member's missed duty in block {window0_end}: \
         ({good_before}, {bad_before}) -> ({good_after}, {bad_after})"
    );
    assert_eq!(
        duties(window0_end - 1, &fallback).1,
        duties(window0_end, &fallback).1,
        "the fallback member missed nothing"
    );
    let view = net
        .v(0)
        .abci_query(&format!("/tasks/schedule/{id}"), 0)
        .unwrap();
    assert_eq!(view["windows"][0]["state"], "missed", "{view}");
    assert_eq!(view["windows"][1]["state"], "open", "{view}");
    assert_eq!(view["windows"][1]["member"], fallback.as_str(), "{view}");

    // The next member delivers in window 1.
    let out = net.v(fallback_node).cli(&[
        "tx",
        "task",
        "confirm",
        "operator",
        &id_text,
        "consumer-log#fallback",
    ]);
    let delivered_at = included_ok("the fallback member's tx task confirm", &out);
    assert!(
        delivered_at > window0_end && delivered_at <= window0_end + W,
        "delivered in block {delivered_at}; window 1 is ({window0_end}, {}]",
        window0_end + W
    );
    let task = net.task(0, id, delivered_at);
    assert_eq!(task["status"], "delivered", "{task}");
    let sub = &task["submission"];
    assert_eq!(sub["submitter"], fallback.as_str(), "{task}");
    assert_eq!(num(&sub["window"]), 1, "{task}");
    assert_eq!(num(&sub["delivered_height"]) as u64, delivered_at);
    assert_eq!(sub["target_ref"], "consumer-log#fallback", "{task}");
    assert_eq!(num(&task["escrow"]), 0, "{task}");
    assert_eq!(net.balance(0, &escrow, delivered_at), 0);
    let events = net.block_events(0, delivered_at, Duration::from_secs(30));
    let confirmed = events_of(
        &events,
        nodeop_app::modules::tasks::events::SUBMISSION_CONFIRMED,
        id,
    );
    assert_eq!(confirmed.len(), 1, "{events:?}");
    assert_eq!(attr(confirmed[0], "submitter"), Some(fallback.as_str()));
    assert_eq!(attr(confirmed[0], "window"), Some("1"));
    let tokens = |op: &str, h: u64| num(&net.operator_record(0, op, h)["tokens"]);
    let commission_ppm = num(&net.operator_record(0, &fallback, delivered_at)["commission_ppm"]);
    assert_eq!(
        tokens(&fallback, delivered_at) - tokens(&fallback, delivered_at - 1),
        submission_fee - submission_fee * commission_ppm / 1_000_000,
        "the submission fee in the fallback member's pool"
    );
    assert_eq!(
        tokens(&silent, delivered_at),
        tokens(&silent, delivered_at - 1),
        "the silent member gets nothing for the delivery"
    );
    let view = net
        .v(0)
        .abci_query(&format!("/tasks/schedule/{id}"), 0)
        .unwrap();
    assert_eq!(view["windows"][0]["state"], "missed", "{view}");
    assert_eq!(view["windows"][1]["state"], "delivered", "{view}");
    eprintln!(
        "e2e_testnet fallback: task {id} finalized {finalized_at}, window 0 missed by \
         node{silent_node}, delivered {delivered_at} by node{fallback_node} in window 1; passed \
         in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
