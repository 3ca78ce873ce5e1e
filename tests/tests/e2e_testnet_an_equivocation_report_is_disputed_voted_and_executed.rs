//! End to end, on a real 4-validator network: validator 3's operator signs two conflicting result
//! attestations for one task (`nodeop attest`), a funded reporter proposes an equivocation slash
//! with them (`nodeop tx slashing propose-equivocation`), validator 3 disputes it as the accused,
//! validators 0 and 1 vote to uphold and validator 2 to reject. Once the vote period is over the
//! proposal is `executed` in the first block at or past `decides_at`, and in that block:
//!
//! - validator 3's pool drops by exactly the slashed amount (5 % of its stake at the infraction),
//! - the reporter gets back its bond plus its 30 % share,
//! - the supply drops by the burned half plus the burned dispute bond (the `burned` counter rises
//!   by the same),
//!
//! and over the whole run the reporter's balance and the supply's `burned` counter move by
//! exactly the bonds, the fees it paid and the outcome.

use std::time::{Duration, Instant};

use nodeop_driver::chain::Key;
use nodeop_driver::tasks::NOP;
use nodeop_tests::net::num;
use nodeop_tests::testnet::{included_ok, Testnet, TestnetOptions};
use serde_json::Value;

const CHAIN_ID: &str = "nodeop-e2e-equivocation";
const ACCUSED: usize = 3;
const TASK_ID: &str = "4242";

fn json_of(what: &str, out: &nodeop_tests::net::Output) -> Value {
    assert!(out.success(), "{what} failed:\n{}", out.describe());
    serde_json::from_str(out.stdout.trim())
        .unwrap_or_else(|e| panic!("{what} printed no JSON ({e}):\n{}", out.describe()))
}

/// `(total_supply, burned, minted)` at `height` (0: latest).
fn supply(net: &Testnet, height: u64) -> (u128, u128, u128) {
    let s = net.validators[0].abci_query("/supply", height).unwrap();
    (
        num(&s["total_supply"]),
        num(&s["burned"]),
        num(&s["minted"]),
    )
}

fn balance(net: &Testnet, address: &str, height: u64) -> u128 {
    let a = net.validators[0]
        .abci_query(&format!("/account/{address}"), height)
        .unwrap();
    num(&a["balance"])
}

/// The fee a tx paid, from the CLI's JSON output if it shows one.
fn fee_of(v: &Value) -> Option<u128> {
    for pointer in ["/fee", "/tx/fee", "/outcome/fee"] {
        if let Some(f) = v.pointer(pointer) {
            if !f.is_null() {
                return Some(num(f));
            }
        }
    }
    None
}

#[test]
fn an_equivocation_report_is_disputed_voted_on_and_executed_with_exact_balance_moves() {
    let started = Instant::now();
    let reporter = Key::from_seed("e2e testnet equivocation reporter");
    let reporter_address = reporter.address.to_bech32();
    let options = TestnetOptions::new(CHAIN_ID).fund(&reporter_address, 1_000 * NOP);
    let mut net = Testnet::new("equivocation", &options);
    net.start();
    let accused = net.v(ACCUSED).operator.clone();
    let fee_pool = nodeop_app::modules::bank::FEE_POOL.address().to_bech32();

    let params = net.v(0).abci_query("/slashing/params", 0).unwrap();
    let report_bond = num(&params["report_bond"]);
    let dispute_bond = num(&params["dispute_bond"]);
    let equivocation_ppm = num(&params["equivocation_ppm"]);
    let factor_ppm = num(&params["slashing_factor_ppm"]);
    assert_eq!(equivocation_ppm, 50_000, "{params}");
    assert!(report_bond > 0 && dispute_bond > 0, "{params}");

    // The reporter's key in its own client home.
    let reporter_home = net.dir.join("reporter");
    let out = net.v(0).cli_as(
        &reporter_home,
        &[
            "keys",
            "import",
            "reporter",
            "--secret-hex",
            &hex::encode(reporter.secret_bytes()),
        ],
    );
    assert!(out.success(), "keys import:\n{}", out.describe());

    // Two conflicting attestations by validator 3's operator key for one task.
    let first = net.dir.join("attestation-1.json");
    let second = net.dir.join("attestation-2.json");
    for (file, hash) in [(&first, "11".repeat(32)), (&second, "22".repeat(32))] {
        let out = net.v(ACCUSED).cli(&[
            "attest",
            "operator",
            "--task-id",
            TASK_ID,
            "--result-hash",
            &hash,
            "--out",
            &file.to_string_lossy(),
        ]);
        assert!(out.success(), "attest:\n{}", out.describe());
        assert!(file.exists(), "attest wrote no {}", file.display());
    }

    // The reporter proposes.
    let start_height = net.v(0).height();
    let supply_start = supply(&net, start_height);
    let reporter_start = balance(&net, &reporter_address, start_height);
    assert_eq!(reporter_start, 1_000 * NOP);
    let out = net.v(0).cli_as(
        &reporter_home,
        &[
            "tx",
            "slashing",
            "propose-equivocation",
            "reporter",
            &accused,
            "--first",
            &first.to_string_lossy(),
            "--second",
            &second.to_string_lossy(),
        ],
    );
    let proposed_at = included_ok("propose-equivocation", &out);
    let propose_json = json_of("propose-equivocation", &out);
    eprintln!("propose-equivocation included in block {proposed_at}: {propose_json}");
    let after_propose = balance(&net, &reporter_address, proposed_at);
    let propose_fee = reporter_start - report_bond - after_propose;
    assert!(propose_fee > 0, "the proposal paid no fee");
    if let Some(fee) = fee_of(&propose_json) {
        assert_eq!(
            fee, propose_fee,
            "the fee the CLI shows is what was charged"
        );
    }

    let listing = net
        .v(0)
        .abci_query(&format!("/slashing/proposals?operator={accused}"), 0)
        .unwrap();
    let items = listing["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{listing}");
    let id = num(&items[0]["id"]).to_string();
    let proposal = |net: &Testnet| -> Value {
        json_of(
            "query slashing proposal",
            &net.validators[0].cli(&["query", "slashing", "proposal", &id]),
        )
    };
    let p = proposal(&net);
    eprintln!("proposal {id}: {p}");
    let record = if p.get("proposal").is_some() {
        p["proposal"].clone()
    } else {
        p.clone()
    };
    assert_eq!(record["status"], "pending", "{p}");
    assert_eq!(record["offence"], "equivocation", "{p}");
    assert_eq!(record["operator"], accused.as_str(), "{p}");
    assert_eq!(record["reporter"], reporter_address.as_str(), "{p}");
    assert_eq!(num(&record["reporter_bond"]), report_bond, "{p}");
    let stake = num(&record["stake_at_infraction"]);
    let amount = num(&record["amount"]);
    assert!(stake >= 10_000 * NOP, "{p}");
    assert_eq!(
        amount,
        stake * equivocation_ppm / 1_000_000 * factor_ppm / 1_000_000,
        "5 % of the stake at the infraction: {p}"
    );

    // The accused disputes.
    let out = net.v(ACCUSED).cli(&[
        "tx",
        "slashing",
        "dispute",
        "operator",
        &id,
        "--reason",
        "both attestations are forged",
    ]);
    let disputed_at = included_ok("dispute", &out);
    eprintln!("disputed in block {disputed_at}");
    let p = proposal(&net);
    let record = p.get("proposal").cloned().unwrap_or(p.clone());
    assert_eq!(record["status"], "disputed", "{p}");
    assert_eq!(num(&record["dispute"]["bond"]), dispute_bond, "{p}");

    // Validators 0 and 1 uphold, 2 rejects: broadcast together (each from its own account, so
    // they can share a block), well inside the 30 s vote period even on a slow machine.
    let votes = [(0, "--uphold"), (1, "--uphold"), (2, "--reject")];
    for (i, choice) in votes {
        let out = net.v(i).cli(&[
            "tx",
            "slashing",
            "vote",
            "--no-wait",
            choice,
            "operator",
            &id,
        ]);
        let v = json_of(&format!("node{i}'s vote {choice}"), &out);
        assert_eq!(
            v["outcome"]["check_tx"]["code"].as_u64(),
            Some(0),
            "node{i}'s vote {choice}:\n{}",
            out.describe()
        );
    }
    let cast = net.wait("the three votes", Duration::from_secs(60), |net| {
        let list = net.validators[0]
            .abci_query(&format!("/slashing/votes/{id}"), 0)
            .ok()?;
        (list.as_array()?.len() == votes.len()).then_some(list)
    });
    for (i, choice) in votes {
        let operator = net.v(i).operator.clone();
        let vote = cast
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["voter"] == operator.as_str())
            .unwrap_or_else(|| panic!("no vote by node{i}: {cast}"));
        assert_eq!(vote["uphold"], choice == "--uphold", "{vote}");
    }
    eprintln!("votes: {cast}");
    let p = proposal(&net);
    let record = p.get("proposal").cloned().unwrap_or(p.clone());
    let dispute = &record["dispute"];
    let (yes, no, eligible) = (
        num(&dispute["yes_power"]),
        num(&dispute["no_power"]),
        num(&dispute["eligible_power"]),
    );
    assert_eq!(record["status"], "disputed", "{p}");
    assert!(yes > 0 && no > 0 && 2 * yes > yes + no, "{p}");
    assert!(3 * (yes + no) >= eligible, "quorum: {p}");
    let decides_at = dispute["decides_at"].as_i64().expect("decides_at");
    assert!(
        net.v(0).latest_block_time().unwrap() < decides_at,
        "the votes came after the vote period: {p}"
    );

    // Decided in the first block at or past decides_at.
    let record = net.wait(
        "the proposal to be executed",
        Duration::from_secs(120),
        |net| {
            let p = proposal(net);
            let record = p.get("proposal").cloned().unwrap_or(p.clone());
            assert!(
                record["status"] == "disputed" || record["status"] == "executed",
                "{p}"
            );
            (record["status"] == "executed").then_some(record)
        },
    );
    eprintln!("executed: {record}");
    let closed = num(&record["closed_height"]) as u64;
    let outcome = &record["outcome"];
    assert_eq!(num(&outcome["amount"]), amount, "{record}");
    assert_eq!(num(&outcome["from_pool"]), amount, "{record}");
    assert_eq!(num(&outcome["from_unbonding"]), 0, "{record}");
    let burned = num(&outcome["burned"]);
    let to_reporter = num(&outcome["to_reporter"]);
    let to_treasury = num(&outcome["to_treasury"]);
    assert_eq!(burned, amount / 2, "{record}");
    assert_eq!(to_reporter, amount * 3 / 10, "{record}");
    assert_eq!(burned + to_reporter + to_treasury, amount, "{record}");
    assert_eq!(outcome["reporter"], reporter_address.as_str(), "{record}");
    let decides_at = record["dispute"]["decides_at"]
        .as_i64()
        .expect("decides_at");
    let block_time = |h: u64| -> i64 {
        let b = net.validators[0]
            .rpc(&format!("/block?height={h}"))
            .unwrap();
        tendermint::Time::parse_from_rfc3339(b["block"]["header"]["time"].as_str().unwrap())
            .unwrap()
            .unix_timestamp()
    };
    assert!(block_time(closed) >= decides_at, "closed at {closed}");
    assert!(block_time(closed - 1) < decides_at, "closed at {closed}");

    // In the executing block: the pool, the reporter and the supply.
    let fee_pool_before = balance(&net, &fee_pool, closed - 1);
    let pool_before = num(&net.operator_record(0, &accused, closed - 1)["tokens"]);
    let pool_after = num(&net.operator_record(0, &accused, closed)["tokens"]);
    eprintln!("fee pool before block {closed}: {fee_pool_before}");
    if fee_pool_before == 0 {
        assert_eq!(
            pool_before - pool_after,
            amount,
            "the pool drops by the slash in block {closed}"
        );
    } else {
        // An epoch payout in that block could add a fee share: bounded by the fee pool.
        let dropped = pool_before - pool_after;
        assert!(
            dropped <= amount && dropped + fee_pool_before >= amount,
            "the pool drops by the slash (less at most {fee_pool_before} of fees) in block \
             {closed}: {pool_before} -> {pool_after}"
        );
    }
    assert_eq!(
        balance(&net, &reporter_address, closed) - balance(&net, &reporter_address, closed - 1),
        report_bond + to_reporter,
        "the reporter gets its bond and 30 % in block {closed}"
    );
    let (total_before, burned_before, minted_before) = supply(&net, closed - 1);
    let (total_after, burned_after, minted_after) = supply(&net, closed);
    assert_eq!(
        burned_after - burned_before,
        burned + dispute_bond,
        "half the slash and the dispute bond are burned in block {closed}"
    );
    assert_eq!(
        total_before + (minted_after - minted_before) - total_after,
        burned + dispute_bond,
        "the supply drops by what was burned in block {closed}"
    );

    // Over the whole run: the reporter paid one fee and got bond + share back.
    let end = net.v(0).height();
    assert_eq!(
        balance(&net, &reporter_address, end),
        reporter_start - propose_fee + to_reporter,
        "the reporter's balance at the end"
    );
    let (total_end, burned_end, minted_end) = supply(&net, end);
    let (total_start, burned_start, minted_start) = supply_start;
    assert_eq!(
        burned_end - burned_start,
        burned + dispute_bond,
        "nothing else was burned during the run"
    );
    assert_eq!(
        total_start + (minted_end - minted_start) - total_end,
        burned + dispute_bond,
        "the supply over the run"
    );
    eprintln!(
        "e2e_testnet equivocation: slashed {amount} (burned {burned}, reporter {to_reporter}, \
         treasury {to_treasury}) in block {closed}; passed in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
