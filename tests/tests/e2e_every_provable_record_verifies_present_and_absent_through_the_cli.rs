//! End to end, with real processes: on a single-validator devnet (nodeopd + cometbft; 10 s
//! epochs, 30 s issuance periods) every kind of record `nodeop query … --prove` can read is read
//! with the CLI twice, once present and once absent, and each answer is checked as the CLI prints
//! it (`--output json`): present records carry their value and `exists: true`; absent ones are a
//! proven non-membership (`exists: false`, no stored bytes, the kind's absent value) and the
//! command succeeds, rather than failing to verify. Every answer is checked against the app hash
//! of the chain's own header H+1, signed by more than 2/3 of the power, and its store key against
//! the key of the record asked for (`Record::key`).
//!
//! The params records and the supply record exist from genesis on and can never be absent: they
//! are read present only. The kinds are the variants of `Record` (app/src/records.rs, read as
//! source): the test fails if a kind there was not read both ways (present only for those that
//! are never absent), so a kind added to `Record` must be added here too.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::time::{Duration, Instant};

use nodeop_app::crypto::Address;
use nodeop_app::modules::{bank, tasks};
use nodeop_app::records::Record;
use nodeop_driver::chain::Key;
use nodeop_tests::net::{num, run, run_ok, Node, Output, COMMAND_TIMEOUT};
use serde_json::Value;

const CHAIN_ID: &str = "nodeop-e2e-proofs";
const NOP: u128 = 1_000_000;

/// The record kinds that exist from genesis on and can never be absent.
const NEVER_ABSENT: [&str; 6] = [
    "Supply",
    "StakingParams",
    "SlashingParams",
    "TasksParams",
    "ReputationParams",
    "IssuanceParams",
];

/// The variant names of `Record`, read from its declaration in app/src/records.rs (variants
/// are the lines indented once that start with a capital; their fields are indented twice).
fn record_kinds() -> BTreeSet<String> {
    let source = include_str!("../../app/src/records.rs");
    let body = source
        .split("pub enum Record {")
        .nth(1)
        .and_then(|rest| rest.split("\n}").next())
        .expect("records.rs declares `pub enum Record { … }`");
    body.lines()
        .filter_map(|line| line.strip_prefix("    "))
        .filter(|line| line.starts_with(|c: char| c.is_ascii_uppercase()))
        .map(|line| {
            line.chars()
                .take_while(char::is_ascii_alphanumeric)
                .collect()
        })
        .collect()
}

/// A record's kind: its variant name, as `Debug` prints it.
fn kind_of(record: &Record) -> String {
    format!("{record:?}")
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect()
}

/// Which record kinds were read present and absent through the CLI.
#[derive(Default)]
struct Coverage(BTreeMap<String, (bool, bool)>);

impl Coverage {
    fn saw(&mut self, record: &Record, present: bool) {
        let seen = self.0.entry(kind_of(record)).or_default();
        if present {
            seen.0 = true;
        } else {
            seen.1 = true;
        }
    }

    /// Every kind of `Record` was read present, and absent unless it can never be; no kind was
    /// read that `Record` does not have (the source reading above is checked by it).
    fn assert_complete(&self) {
        let kinds = record_kinds();
        assert!(
            kinds.len() >= 20 && kinds.contains("Account") && kinds.contains("AuctionBid"),
            "the variants read from records.rs look wrong: {kinds:?}"
        );
        let read: BTreeSet<String> = self.0.keys().cloned().collect();
        let unknown: Vec<_> = read.difference(&kinds).collect();
        assert!(
            unknown.is_empty(),
            "read kinds Record does not have: {unknown:?}"
        );
        let mut missing = Vec::new();
        for kind in &kinds {
            let (present, absent) = self.0.get(kind).copied().unwrap_or_default();
            let never_absent = NEVER_ABSENT.contains(&kind.as_str());
            if !present {
                missing.push(format!("{kind} present"));
            }
            if !absent && !never_absent {
                missing.push(format!("{kind} absent"));
            }
        }
        assert!(
            missing.is_empty(),
            "record kinds not read through the CLI: {missing:?}"
        );
        for kind in NEVER_ABSENT {
            assert!(kinds.contains(kind), "{kind} is no longer a Record kind");
        }
    }
}

fn address(bech32: &str) -> Address {
    Address::parse(bech32).unwrap_or_else(|e| panic!("{bech32}: {e:?}"))
}

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
/// against the app hash of the chain's header H+1, signed by > 2/3 of the power, for the store
/// key of `record`. Records the kind as read. Returns its decoded value.
fn check_verified(
    node: &Node,
    cov: &mut Coverage,
    record: &Record,
    v: &Value,
    present: bool,
) -> Value {
    let what = record.what();
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
    assert_eq!(
        v["key_hex"].as_str(),
        Some(hex::encode(record.key()).as_str()),
        "{what}: the answer is for the key of {record:?}: {v}"
    );
    let stored = v["value_hex"].as_str().unwrap_or_default();
    if present {
        assert!(
            !stored.is_empty(),
            "{what}: a present record has bytes: {v}"
        );
        if let Record::Store(_) = record {
            assert_eq!(
                v["value"], stored,
                "{what}: a raw value shows as its hex: {v}"
            );
        } else {
            assert!(v["value"].is_object(), "{what}: {v}");
        }
    } else {
        assert_eq!(stored, "", "{what}: an absent record has no bytes: {v}");
    }
    cov.saw(record, present);
    v["value"].clone()
}

/// A typed record read present and absent: the present one's value is returned, the absent one
/// must decode to `null`.
fn present_and_absent(
    node: &Node,
    cov: &mut Coverage,
    (present_record, present): (Record, &[&str]),
    (absent_record, absent): (Record, &[&str]),
) -> Value {
    let v = proven(node, present);
    let value = check_verified(node, cov, &present_record, &v["verified"], true);
    let v = proven(node, absent);
    let none = check_verified(node, cov, &absent_record, &v["verified"], false);
    assert_eq!(none, Value::Null, "absent {}: {v}", absent_record.what());
    value
}

/// `nodeop query ARGS` as a person reads it (text; the harness's `cli` asks for JSON).
fn text_query(node: &Node, args: &[&str]) -> String {
    let out = run(
        Command::new(&node.bins.nodeop)
            .arg("--home")
            .arg(&node.client_home)
            .arg("--node")
            .arg(node.rpc_url())
            .arg("query")
            .args(args),
        COMMAND_TIMEOUT,
    );
    assert!(
        out.success(),
        "nodeop query {}:\n{}",
        args.join(" "),
        out.describe()
    );
    out.stdout
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
    let copro = Key::from_seed("e2e proofs coprocessor");
    let never_used = Key::from_seed("e2e proofs never used").address.to_bech32();
    let mut node = Node::init("proofs", CHAIN_ID);
    nodeopd(&node, &["genesis", "set-staking-params", "--devnet"]);
    node.add_genesis_account(&client.address.to_bech32(), 1_000 * NOP);
    node.add_genesis_account(&team.address.to_bech32(), 10 * NOP);
    node.add_genesis_account(&copro.address.to_bech32(), 100 * NOP);
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
    for (name, key) in [("client", &client), ("copro", &copro)] {
        node.cli_ok(&[
            "keys",
            "import",
            name,
            "--secret-hex",
            &hex::encode(key.secret_bytes()),
        ]);
    }
    let operator = operator_cli(&node, &["keys", "show", "operator"]).json()["address"]
        .as_str()
        .expect("the operator key's address")
        .to_string();
    let operator_address = address(&operator);
    let client_addr = client.address.to_bech32();
    let team_addr = team.address.to_bech32();
    let copro_addr = copro.address.to_bech32();
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
    let post = [
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
    ];
    let v = included_ok(&node.cli_ok(&post));
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

    // … and a coprocessor, an auction and a bid: the operator (the one-member committee of a
    // second task) sells its slot, the coprocessor bids, wins, commits and reveals for it.
    included_ok(&node.cli_ok(&[
        "tx",
        "coprocessor",
        "register",
        "copro",
        "--capacity",
        "4",
        "--collateral",
        "10nop",
        "--moniker",
        "e2e-gpu",
    ]));
    let v = included_ok(&node.cli_ok(&post));
    let sold_task = event_attr(&v, "task_posted", "task");
    let task = json_query(&node, &["task", &sold_task]);
    let sold_commit_end = task["task"]["rounds"][0]["commit_end"]
        .as_u64()
        .expect("commit_end");
    let v = included_ok(&operator_cli(
        &node,
        &["tx", "auction", "open", "operator", &sold_task],
    ));
    let auction_id = event_attr(&v, "auction_opened", "auction");
    included_ok(&node.cli_ok(&["tx", "auction", "bid", "copro", &auction_id]));
    // settled at the end of the bid's block: the only bidder wins
    let won = json_query(&node, &["auction", &auction_id]);
    assert_eq!(won["auction"]["winner"], copro_addr.as_str(), "{won}");
    let commit = included_ok(&node.cli_ok(&["tx", "task", "commit", "copro", &sold_task, "42"]));
    let committed_at = commit["outcome"]["included"]["height"]
        .as_u64()
        .expect("the commit's height");
    assert!(committed_at <= sold_commit_end, "{commit}");
    node.wait_for_height(sold_commit_end, Duration::from_secs(60));
    included_ok(&node.cli_ok(&["tx", "task", "reveal", "copro", &sold_task]));
    included_ok(&operator_cli(
        &node,
        &[
            "tx",
            "task",
            "confirm",
            "operator",
            &sold_task,
            "consumer-receipt-2",
        ],
    ));

    // The period of the tasks' revenue is recorded (with its payout) in the first block past
    // its end.
    let open = json_query(&node, &["issuance", "subsidy"])["subsidy"]["period"]
        .as_u64()
        .expect("period");
    wait_for_period_after(&node, open);

    let mut cov = Coverage::default();
    let cov = &mut cov;

    // account: present, and never used — the zero account, marked absent, proven
    let v = proven(&node, &["account", "client"]);
    let value = check_verified(
        &node,
        cov,
        &Record::Account(client.address),
        &v["verified"],
        true,
    );
    assert_eq!(value["address"], client_addr.as_str(), "{v}");
    assert!(num(&value["balance"]) > 0, "{v}");
    let v = proven(&node, &["account", &never_used]);
    let value = check_verified(
        &node,
        cov,
        &Record::Account(address(&never_used)),
        &v["verified"],
        false,
    );
    assert_eq!(
        value,
        serde_json::json!({ "address": never_used, "balance": "0", "nonce": 0 }),
        "{v}"
    );
    // … and in text, as a person reads it
    let text = text_query(&node, &["account", &never_used, "--prove"]);
    assert!(
        text.contains("absent; non-membership proven") && text.contains("never used"),
        "{text}"
    );

    // supply: exists from genesis on, never absent
    let v = proven(&node, &["supply"]);
    let value = check_verified(&node, cov, &Record::Supply, &v["verified"], true);
    assert!(num(&value["total_supply"]) > 0, "{v}");

    // a raw store key: the supply record's bytes, and a key nothing writes
    let key = hex::encode(bank::keys::SUPPLY);
    let v = proven(&node, &["store", &key]);
    check_verified(
        &node,
        cov,
        &Record::Store(bank::keys::SUPPLY.to_vec()),
        &v["verified"],
        true,
    );
    let never_written = b"e2e/never/written".to_vec();
    let v = proven(&node, &["store", &hex::encode(&never_written)]);
    check_verified(
        &node,
        cov,
        &Record::Store(never_written),
        &v["verified"],
        false,
    );

    // operator
    let value = present_and_absent(
        &node,
        cov,
        (
            Record::Operator(operator_address),
            &["staking", "operator", &operator],
        ),
        (
            Record::Operator(client.address),
            &["staking", "operator", &client_addr],
        ),
    );
    assert_eq!(value["address"], operator.as_str());

    // delegation
    let value = present_and_absent(
        &node,
        cov,
        (
            Record::Delegation {
                delegator: client.address,
                operator: operator_address,
            },
            &["staking", "delegation", &client_addr, &operator],
        ),
        (
            Record::Delegation {
                delegator: team.address,
                operator: operator_address,
            },
            &["staking", "delegation", &team_addr, &operator],
        ),
    );
    assert_eq!(value["delegator"], client_addr.as_str());

    // unbonding entry
    let value = present_and_absent(
        &node,
        cov,
        (
            Record::UnbondingEntry(unbonding_id.parse().expect("an id")),
            &["staking", "unbonding-entry", &unbonding_id],
        ),
        (
            Record::UnbondingEntry(999_999),
            &["staking", "unbonding-entry", "999999"],
        ),
    );
    assert_eq!(value["id"].to_string(), unbonding_id);

    // slash proposal
    let value = present_and_absent(
        &node,
        cov,
        (
            Record::SlashingProposal(proposal_id.parse().expect("an id")),
            &["slashing", "proposal", &proposal_id],
        ),
        (
            Record::SlashingProposal(999_999),
            &["slashing", "proposal", "999999"],
        ),
    );
    assert_eq!(value["id"].to_string(), proposal_id);

    // task
    let task_num: u64 = task_id.parse().expect("a task id");
    let value = present_and_absent(
        &node,
        cov,
        (Record::Task(task_num), &["task", &task_id]),
        (Record::Task(999_999), &["task", "999999"]),
    );
    assert_eq!(value["id"].to_string(), task_id);

    // task result record and its block's results (read together by `task result --prove`)
    let v = proven(&node, &["task", "result", &task_id]);
    let p = &v["proven_result"];
    let record = check_verified(
        &node,
        cov,
        &Record::ResultRecord(task_num),
        &p["record_proof"],
        true,
    );
    assert_eq!(record["task_id"].to_string(), task_id, "{v}");
    let finalized = record["finalized_height"]
        .as_u64()
        .expect("finalized_height");
    let block = check_verified(
        &node,
        cov,
        &Record::BlockResults(finalized),
        &p["root_proof"],
        true,
    );
    assert_eq!(block["height"], record["finalized_height"], "{v}");
    let v = proven(&node, &["task", "result", "999999"]);
    let none = check_verified(
        &node,
        cov,
        &Record::ResultRecord(999_999),
        &v["verified"],
        false,
    );
    assert_eq!(none, Value::Null, "{v}");
    // block results alone have no typed command; their absence (block 1 finalized no result)
    // is proven through the raw key read
    let key = hex::encode(tasks::keys::block_results(1));
    let v = proven(&node, &["store", &key]);
    check_verified(&node, cov, &Record::BlockResults(1), &v["verified"], false);

    // reputation record: present for the operator that did the task; absent for an address
    // that never operated, proven, and read as the neutral record every operator starts from
    let v = proven(&node, &["reputation", &operator]);
    check_verified(
        &node,
        cov,
        &Record::Reputation(operator_address),
        &v["proven_reputation"]["record_proof"],
        true,
    );
    check_verified(
        &node,
        cov,
        &Record::ReputationParams,
        &v["proven_reputation"]["params_proof"],
        true,
    );
    let v = proven(&node, &["reputation", &never_used]);
    let neutral = check_verified(
        &node,
        cov,
        &Record::Reputation(address(&never_used)),
        &v["proven_reputation"]["record_proof"],
        false,
    );
    assert!(neutral.is_object(), "the neutral record: {v}");
    check_verified(
        &node,
        cov,
        &Record::Operator(address(&never_used)),
        &v["proven_reputation"]["operator_proof"],
        false,
    );

    // issuance period and payout: the period with the task's revenue has a mint and a payout
    let periods = json_query(&node, &["issuance", "periods", "--all"])["periods"]
        .as_array()
        .cloned()
        .expect("periods");
    let paid_period = periods
        .iter()
        .find(|r| num(&r["minted"]) > 0)
        .unwrap_or_else(|| panic!("no period minted: {periods:?}"))["period"]
        .as_u64()
        .expect("period");
    let paid = paid_period.to_string();
    let value = present_and_absent(
        &node,
        cov,
        (
            Record::IssuancePeriod(paid_period),
            &["issuance", "period", &paid],
        ),
        (
            Record::IssuancePeriod(999_999),
            &["issuance", "period", "999999"],
        ),
    );
    assert!(num(&value["minted"]) > 0);
    let value = present_and_absent(
        &node,
        cov,
        (
            Record::IssuancePayout {
                period: paid_period,
                operator: operator_address,
            },
            &["issuance", "payout", &paid, &operator],
        ),
        (
            Record::IssuancePayout {
                period: paid_period,
                operator: client.address,
            },
            &["issuance", "payout", &paid, &client_addr],
        ),
    );
    assert_eq!(value["operator"], operator.as_str());

    // epoch metrics: of a closed epoch, and of one far ahead
    let closed_epoch = json_query(&node, &["issuance", "metrics"])["metrics"][0]["epoch"]
        .as_u64()
        .expect("a closed epoch's metrics");
    let closed = closed_epoch.to_string();
    let value = present_and_absent(
        &node,
        cov,
        (
            Record::IssuanceMetrics(closed_epoch),
            &["issuance", "metrics", &closed],
        ),
        (
            Record::IssuanceMetrics(999_999),
            &["issuance", "metrics", "999999"],
        ),
    );
    assert_eq!(value["epoch"].to_string(), closed);

    // vesting schedule: the team's genesis schedule; the client has none
    let value = present_and_absent(
        &node,
        cov,
        (
            Record::VestingSchedule(team.address),
            &["issuance", "vesting", &team_addr],
        ),
        (
            Record::VestingSchedule(client.address),
            &["issuance", "vesting", &client_addr],
        ),
    );
    assert_eq!(value["beneficiary"], team_addr.as_str());

    // coprocessor: registered, its lock back to free after the slot it bought was paid; the
    // client never registered
    let value = present_and_absent(
        &node,
        cov,
        (
            Record::Coprocessor(copro.address),
            &["coprocessor", &copro_addr],
        ),
        (
            Record::Coprocessor(client.address),
            &["coprocessor", &client_addr],
        ),
    );
    assert_eq!(value["address"], copro_addr.as_str(), "{value}");
    assert_eq!(value["moniker"], "e2e-gpu", "{value}");
    assert_eq!(num(&value["capacity_units"]), 4, "{value}");
    assert_eq!(num(&value["free_collateral"]), 10 * NOP, "{value}");
    assert_eq!(num(&value["locked_collateral"]), 0, "{value}");

    // auction: the operator's, won by the coprocessor and paid; an id never opened
    let auction_num: u64 = auction_id.parse().expect("an auction id");
    let auction = present_and_absent(
        &node,
        cov,
        (Record::Auction(auction_num), &["auction", &auction_id]),
        (Record::Auction(999_999), &["auction", "999999"]),
    );
    assert_eq!(auction["id"].to_string(), auction_id, "{auction}");
    assert_eq!(auction["task_id"].to_string(), sold_task, "{auction}");
    assert_eq!(auction["member"], operator.as_str(), "{auction}");
    assert_eq!(auction["winner"], copro_addr.as_str(), "{auction}");
    assert_eq!(auction["status"], "paid", "{auction}");
    assert!(num(&auction["price"]) > 0, "{auction}");
    assert_eq!(num(&auction["paid"]), num(&auction["price"]), "{auction}");

    // auction bid: the coprocessor's winning bid; the client never bid on that auction
    let bid = present_and_absent(
        &node,
        cov,
        (
            Record::AuctionBid {
                auction: auction_num,
                bidder: copro.address,
            },
            &["auction-bid", &auction_id, &copro_addr],
        ),
        (
            Record::AuctionBid {
                auction: auction_num,
                bidder: client.address,
            },
            &["auction-bid", &auction_id, &client_addr],
        ),
    );
    assert_eq!(bid["auction_id"].to_string(), auction_id, "{bid}");
    assert_eq!(bid["bidder"], copro_addr.as_str(), "{bid}");
    assert_eq!(bid["won"], true, "{bid}");
    assert_eq!(num(&bid["price"]), num(&auction["price"]), "{bid}");
    assert_eq!(bid["height"], auction["won_height"], "{bid}");
    // … and in text, by key name
    let text = text_query(&node, &["auction-bid", &auction_id, "copro", "--prove"]);
    assert!(
        text.contains("verified:")
            && text.contains(&format!("on auction {auction_id} by {copro_addr}"))
            && text.contains("won:               yes"),
        "{text}"
    );
    let text = text_query(&node, &["auction-bid", &auction_id, "client", "--prove"]);
    assert!(
        text.contains("absent; non-membership proven")
            && text.contains(&format!("no bid by {client_addr} on auction {auction_id}")),
        "{text}"
    );

    // the params records exist from genesis on and are never absent
    for (record, args) in [
        (Record::StakingParams, ["staking", "params"]),
        (Record::SlashingParams, ["slashing", "params"]),
        (Record::TasksParams, ["task", "params"]),
        (Record::IssuanceParams, ["issuance", "params"]),
    ] {
        let v = proven(&node, &args);
        check_verified(&node, cov, &record, &v["verified"], true);
    }

    cov.assert_complete();
    node.stop();
}
