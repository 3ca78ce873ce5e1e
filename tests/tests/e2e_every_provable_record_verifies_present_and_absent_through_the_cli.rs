//! End to end, with real processes: on a single-validator devnet (nodeopd + cometbft; 10 s
//! epochs, 30 s issuance periods) every kind of record `nodeop query … --prove` can read is read
//! with the CLI twice, once present and once absent, and each answer is checked as the CLI prints
//! it (`--output json`): present records carry their value and `exists: true`; absent ones are a
//! proven non-membership (`exists: false`, no stored bytes, the kind's absent value) and the
//! command succeeds, rather than failing to verify. Every answer is checked against the app hash
//! of the chain's own header H+1, signed by more than 2/3 of the power.
//!
//! The params records and the supply record exist from genesis on and can never be absent: they
//! are read present only.

use std::process::Command;
use std::time::{Duration, Instant};

use nodeop_app::modules::tasks;
use nodeop_driver::chain::Key;
use nodeop_tests::net::{num, run, run_ok, Node, Output, COMMAND_TIMEOUT};
use serde_json::Value;

const CHAIN_ID: &str = "nodeop-e2e-proofs";
const NOP: u128 = 1_000_000;

/// `nodeop` as the operator: its key `operator` is in the node's client home after init.
fn operator_cli(node: &Node, args: &[&str]) -> Output {
    node.cli_ok(args)
}

fn nodeopd(node: &Node, args: &[&str]) {
    run_ok(
        Command::new(&node.bins.nodeopd)
            .args(args)
            .arg("--home")
            .arg(&node.home),
        COMMAND_TIMEOUT,
    );
}

/// A tx sent with `--output json`, checked to be included with code 0.
fn included_ok(out: &Output) -> Value {
    let v = out.json();
    assert_eq!(
        v["outcome"]["included"]["code"],
        0,
        "not included with code 0:\n{}",
        out.describe()
    );
    v
}

fn event_attr(outcome: &Value, kind: &str, key: &str) -> String {
    outcome["outcome"]["included"]["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["type"] == kind)
        .flat_map(|e| e["attributes"].as_array().cloned().unwrap_or_default())
        .find(|a| a["key"] == key)
        .and_then(|a| a["value"].as_str().map(String::from))
        .unwrap_or_else(|| panic!("no {kind}.{key} event attribute in {outcome}"))
}

fn json_query(node: &Node, args: &[&str]) -> Value {
    let mut all = vec!["query"];
    all.extend_from_slice(args);
    node.cli_ok(&all).json()
}

/// `nodeop query ARGS --prove --output json`, which must succeed (exit 0) whether the record is
/// present or absent.
fn proven(node: &Node, args: &[&str]) -> Value {
    let mut all = vec!["query"];
    all.extend_from_slice(args);
    all.extend(["--prove"]);
    let out = node.cli(&all);
    assert!(
        out.success(),
        "nodeop {} did not verify (exit 4 = not verified):\n{}",
        all.join(" "),
        out.describe()
    );
    out.json()
}

/// Checks one verified record as the CLI printed it: present or proven absent, at height H
/// against the app hash of the chain's header H+1, signed by > 2/3 of the power. Returns its
/// decoded value.
fn check_verified(node: &Node, what: &str, v: &Value, present: bool) -> Value {
    assert_eq!(v["exists"], present, "{what}: {v}");
    let height = v["height"]
        .as_u64()
        .unwrap_or_else(|| panic!("{what}: {v}"));
    let header = &v["header"];
    assert_eq!(header["height"].as_u64(), Some(height + 1), "{what}: {v}");
    assert_eq!(header["chain_id"], CHAIN_ID, "{what}: {v}");
    assert_eq!(
        header["app_hash"].as_str().map(str::to_uppercase),
        Some(node.header_app_hash(height + 1).unwrap()),
        "{what}: the proof is checked against the chain's header H+1: {v}"
    );
    let (signed, total) = (num(&header["signed_power"]), num(&header["total_power"]));
    assert!(3 * signed > 2 * total, "{what}: {v}");
    assert!(
        !v["key_hex"].as_str().unwrap_or_default().is_empty(),
        "{what}: {v}"
    );
    let stored = v["value_hex"].as_str().unwrap_or_default();
    if present {
        assert!(
            !stored.is_empty(),
            "{what}: a present record has bytes: {v}"
        );
        assert!(v["value"].is_object(), "{what}: {v}");
    } else {
        assert_eq!(stored, "", "{what}: an absent record has no bytes: {v}");
    }
    v["value"].clone()
}

/// A typed record read present and absent: the present one's value is returned, the absent one
/// must decode to `null`.
fn present_and_absent(node: &Node, what: &str, present: &[&str], absent: &[&str]) -> Value {
    let v = proven(node, present);
    let value = check_verified(node, what, &v["verified"], true);
    let v = proven(node, absent);
    let none = check_verified(node, what, &v["verified"], false);
    assert_eq!(none, Value::Null, "absent {what}: {v}");
    value
}

/// Waits until the open issuance period is past `period`.
fn wait_for_period_after(node: &Node, period: u64) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let now = json_query(node, &["issuance", "subsidy"])["subsidy"]["period"]
            .as_u64()
            .expect("period");
        if now > period {
            return;
        }
        assert!(Instant::now() < deadline, "period {period} never ended");
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn e2e_every_provable_record_verifies_present_and_absent_through_the_cli() {
    let client = Key::from_seed("e2e proofs client");
    let team = Key::from_seed("e2e proofs team");
    let never_used = Key::from_seed("e2e proofs never used").address.to_bech32();
    let mut node = Node::init("proofs", CHAIN_ID);
    nodeopd(&node, &["genesis", "set-staking-params", "--devnet"]);
    node.add_genesis_account(&client.address.to_bech32(), 1_000 * NOP);
    node.add_genesis_account(&team.address.to_bech32(), 10 * NOP);
    nodeopd(
        &node,
        &[
            "genesis",
            "add-vesting",
            &team.address.to_bech32(),
            "100nop",
            "--duration",
            "20",
        ],
    );
    node.validate_genesis();
    node.cli_ok(&[
        "keys",
        "import",
        "client",
        "--secret-hex",
        &hex::encode(client.secret_bytes()),
    ]);
    let operator = operator_cli(&node, &["keys", "show", "operator"]).json()["address"]
        .as_str()
        .expect("the operator key's address")
        .to_string();
    let client_addr = client.address.to_bech32();
    let team_addr = team.address.to_bech32();
    node.start();
    node.wait_for_height(2, Duration::from_secs(90));

    // What makes the records exist: a delegation, an unbonding entry, a slash proposal and a
    // task, committed, revealed and confirmed.
    included_ok(&node.cli_ok(&["tx", "staking", "delegate", "client", &operator, "5nop"]));
    let v =
        included_ok(&node.cli_ok(&["tx", "staking", "undelegate", "client", &operator, "1nop"]));
    let unbonding_id = event_attr(&v, "undelegate", "unbonding_id");
    let v = included_ok(&node.cli_ok(&[
        "tx",
        "slashing",
        "propose",
        "client",
        &operator,
        "--offence",
        "performance",
        "--infraction-id",
        "1",
        "--infraction-height",
        "1",
        "--description",
        "missed its benchmark",
    ]));
    let proposal_id = event_attr(&v, "slash_proposed", "proposal");
    let v = included_ok(&node.cli_ok(&[
        "tx",
        "task",
        "post",
        "client",
        "--kind",
        "exact",
        "--consistency",
        "eventual",
        "--difficulty",
        "1",
        "--payload",
        "what is six times seven?",
        "--fee",
        "3nop",
    ]));
    let task_id = event_attr(&v, "task_posted", "task");
    let task = json_query(&node, &["task", &task_id]);
    let commit_end = task["task"]["rounds"][0]["commit_end"]
        .as_u64()
        .expect("commit_end");
    included_ok(&operator_cli(
        &node,
        &["tx", "task", "commit", "operator", &task_id, "42"],
    ));
    node.wait_for_height(commit_end, Duration::from_secs(60));
    included_ok(&operator_cli(
        &node,
        &["tx", "task", "reveal", "operator", &task_id],
    ));
    included_ok(&operator_cli(
        &node,
        &[
            "tx",
            "task",
            "confirm",
            "operator",
            &task_id,
            "consumer-receipt-1",
        ],
    ));
    // The period of the task's revenue is recorded (with its payout) in the first block past
    // its end.
    let open = json_query(&node, &["issuance", "subsidy"])["subsidy"]["period"]
        .as_u64()
        .expect("period");
    wait_for_period_after(&node, open);

    // account: present, and never used — the zero account, marked absent, proven
    let v = proven(&node, &["account", "client"]);
    let value = check_verified(&node, "account", &v["verified"], true);
    assert_eq!(value["address"], client_addr.as_str(), "{v}");
    assert!(num(&value["balance"]) > 0, "{v}");
    let v = proven(&node, &["account", &never_used]);
    let value = check_verified(&node, "never-used account", &v["verified"], false);
    assert_eq!(
        value,
        serde_json::json!({ "address": never_used, "balance": "0", "nonce": 0 }),
        "{v}"
    );
    // … and in text, as a person reads it
    // (the harness's `cli` asks for JSON, so the text output is read with a plain command)
    let text = run(
        Command::new(&node.bins.nodeop)
            .arg("--home")
            .arg(&node.client_home)
            .arg("--node")
            .arg(node.rpc_url())
            .args(["query", "account", &never_used, "--prove"]),
        COMMAND_TIMEOUT,
    )
    .stdout;
    assert!(
        text.contains("absent; non-membership proven") && text.contains("never used"),
        "{text}"
    );

    // supply: exists from genesis on, never absent
    let v = proven(&node, &["supply"]);
    let value = check_verified(&node, "supply", &v["verified"], true);
    assert!(num(&value["total_supply"]) > 0, "{v}");

    // operator
    let value = present_and_absent(
        &node,
        "operator",
        &["staking", "operator", &operator],
        &["staking", "operator", &client_addr],
    );
    assert_eq!(value["address"], operator.as_str());

    // delegation
    let value = present_and_absent(
        &node,
        "delegation",
        &["staking", "delegation", &client_addr, &operator],
        &["staking", "delegation", &team_addr, &operator],
    );
    assert_eq!(value["delegator"], client_addr.as_str());

    // unbonding entry
    let value = present_and_absent(
        &node,
        "unbonding entry",
        &["staking", "unbonding-entry", &unbonding_id],
        &["staking", "unbonding-entry", "999999"],
    );
    assert_eq!(value["id"].to_string(), unbonding_id);

    // slash proposal
    let value = present_and_absent(
        &node,
        "slash proposal",
        &["slashing", "proposal", &proposal_id],
        &["slashing", "proposal", "999999"],
    );
    assert_eq!(value["id"].to_string(), proposal_id);

    // task
    let value = present_and_absent(&node, "task", &["task", &task_id], &["task", "999999"]);
    assert_eq!(value["id"].to_string(), task_id);

    // task result record and its block's results (read together by `task result --prove`)
    let v = proven(&node, &["task", "result", &task_id]);
    let p = &v["proven_result"];
    let record = check_verified(&node, "task result record", &p["record_proof"], true);
    assert_eq!(record["task_id"].to_string(), task_id, "{v}");
    let block = check_verified(&node, "block results", &p["root_proof"], true);
    assert_eq!(block["height"], record["finalized_height"], "{v}");
    let v = proven(&node, &["task", "result", "999999"]);
    let none = check_verified(&node, "task result record", &v["verified"], false);
    assert_eq!(none, Value::Null, "{v}");
    // block results alone have no typed command; their absence (block 1 finalized no result)
    // is proven through the raw key read
    let key = hex::encode(tasks::keys::block_results(1));
    let v = proven(&node, &["store", &key]);
    check_verified(&node, "block results", &v["verified"], false);
    assert_eq!(v["verified"]["key_hex"], key.as_str(), "{v}");

    // reputation record: present for the operator that did the task; absent for an address
    // that never operated, proven, and read as the neutral record every operator starts from
    let v = proven(&node, &["reputation", &operator]);
    check_verified(
        &node,
        "reputation record",
        &v["proven_reputation"]["record_proof"],
        true,
    );
    check_verified(
        &node,
        "reputation params",
        &v["proven_reputation"]["params_proof"],
        true,
    );
    let v = proven(&node, &["reputation", &never_used]);
    let neutral = check_verified(
        &node,
        "reputation record",
        &v["proven_reputation"]["record_proof"],
        false,
    );
    assert!(neutral.is_object(), "the neutral record: {v}");
    check_verified(
        &node,
        "operator",
        &v["proven_reputation"]["operator_proof"],
        false,
    );

    // issuance period and payout: the period with the task's revenue has a mint and a payout
    let periods = json_query(&node, &["issuance", "periods", "--all"])["periods"]
        .as_array()
        .cloned()
        .expect("periods");
    let paid = periods
        .iter()
        .find(|r| num(&r["minted"]) > 0)
        .unwrap_or_else(|| panic!("no period minted: {periods:?}"))["period"]
        .as_u64()
        .expect("period")
        .to_string();
    let value = present_and_absent(
        &node,
        "period record",
        &["issuance", "period", &paid],
        &["issuance", "period", "999999"],
    );
    assert!(num(&value["minted"]) > 0);
    let value = present_and_absent(
        &node,
        "payout",
        &["issuance", "payout", &paid, &operator],
        &["issuance", "payout", &paid, &client_addr],
    );
    assert_eq!(value["operator"], operator.as_str());

    // epoch metrics: of a closed epoch, and of one far ahead
    let closed = json_query(&node, &["issuance", "metrics"])["metrics"][0]["epoch"]
        .as_u64()
        .expect("a closed epoch's metrics")
        .to_string();
    let value = present_and_absent(
        &node,
        "epoch metrics",
        &["issuance", "metrics", &closed],
        &["issuance", "metrics", "999999"],
    );
    assert_eq!(value["epoch"].to_string(), closed);

    // vesting schedule: the team's genesis schedule; the client has none
    let value = present_and_absent(
        &node,
        "vesting schedule",
        &["issuance", "vesting", &team_addr],
        &["issuance", "vesting", &client_addr],
    );
    assert_eq!(value["beneficiary"], team_addr.as_str());

    // the params records exist from genesis on and are never absent
    for (what, args) in [
        ("staking params", ["staking", "params"]),
        ("slashing params", ["slashing", "params"]),
        ("tasks params", ["task", "params"]),
        ("issuance params", ["issuance", "params"]),
    ] {
        let v = proven(&node, &args);
        check_verified(&node, what, &v["verified"], true);
    }
    node.stop();
}
