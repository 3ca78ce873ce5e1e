//! End to end, on a real 4-validator network, every step with the `nodeop` CLI: two funded
//! accounts register as coprocessors (`nodeop tx coprocessor register`, one adds collateral);
//! a client posts a Session task; two of the three committee members sell their slots
//! (`nodeop tx auction open`, one with the default prices — start at the member's expected pay,
//! floor at half — one with explicit prices); each coprocessor bids on one auction
//! (`nodeop tx auction bid`) and wins it in its block; the honest coprocessor commits and reveals
//! the right result for its member's slot (`nodeop tx task commit|reveal`, the slot found from
//! the auction it won), the other a wrong one (`--for-member`), the third member executes
//! itself; a seller's own commit is refused. The task finalizes with the two right results.
//!
//! Checked exactly as docs/coprocessors.md states it, from the node's records and the blocks'
//! events:
//! - the auctions' prices: start, floor, step `⌈(start − floor)/descent_intervals⌉`, the price
//!   of the winning block `max(floor, start − step × ⌊(h − h_open)/interval⌋)`, the lock
//!   `⌈price × collateral_ppm⌉` moved from free to locked, one unit reserved;
//! - the honest coprocessor is paid `price` out of the task escrow (`coprocessor_paid`), its lock
//!   returns to free collateral; its member's pool takes `pay − price` less commission, the
//!   commission going to the member's account;
//! - the wrong coprocessor loses `⌊⌊lock × coproc_mismatch_slash_ppm⌋ × amplification⌋`
//!   (`collateral_slashed`), half of it burned (the supply's `burned` grows by exactly that), the
//!   rest to the treasury, the remainder of the lock back to free; its member gets a
//!   `result_mismatch` slash proposal and no pay;
//! - each coprocessor's account: its funding less its collateral and its txs' fees, plus the
//!   price for the honest one; a queued withdrawal then moves free collateral to pending;
//! - over the run no unop is created or lost: every account the run touches plus every module
//!   account, plus what was burned, is what it was before.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use nodeop_app::modules::bank::{MODULE_ACCOUNTS, TREASURY};
use nodeop_app::modules::coprocessors::events as copro_events;
use nodeop_app::modules::slashing::events as slashing_events;
use nodeop_driver::chain::Key;
use nodeop_driver::tasks::NOP;
use nodeop_tests::net::{num, run, Output, COMMAND_TIMEOUT};
use nodeop_tests::testnet::{check_tx_refusal, included_ok, task_members, Testnet, TestnetOptions};
use serde_json::{json, Value};

const CHAIN_ID: &str = "nodeop-e2e-coprocessor";
const FEE: u128 = 100 * NOP;
const FUNDING: u128 = 1_000 * NOP;
const RIGHT: &str = "the answer is 42";
const WRONG: &str = "the answer is 41";

type Events = Vec<(String, Vec<(String, String)>)>;

fn attr<'a>(attributes: &'a [(String, String)], key: &str) -> Option<&'a str> {
    attributes
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn attr_num(attributes: &[(String, String)], key: &str) -> u128 {
    attr(attributes, key)
        .unwrap_or_else(|| panic!("no {key} in {attributes:?}"))
        .parse()
        .unwrap_or_else(|e| panic!("{key} in {attributes:?}: {e}"))
}

/// The one event of `kind` whose `key` is `value`.
fn event_where<'a>(
    events: &'a Events,
    kind: &str,
    key: &str,
    value: &str,
) -> &'a [(String, String)] {
    let found: Vec<_> = events
        .iter()
        .filter(|(k, a)| k == kind && attr(a, key) == Some(value))
        .collect();
    assert_eq!(
        found.len(),
        1,
        "one {kind} event with {key} = {value} expected: {events:?}"
    );
    &found[0].1
}

fn floor_ppm(amount: u128, ppm: u128) -> u128 {
    amount * ppm / 1_000_000
}

/// The fee a `nodeop --output json tx …` command's tx paid.
fn fee_of(what: &str, out: &Output) -> u128 {
    let v = out.json();
    assert!(!v["tx"]["fee"].is_null(), "{what}: no fee in {v}");
    num(&v["tx"]["fee"])
}

/// Runs every `(home, args)` at once on validator 0's RPC (one thread each); returns the outputs
/// in order.
fn at_once(net: &Testnet, runs: &[(PathBuf, Vec<String>)]) -> Vec<Output> {
    thread::scope(|s| {
        let handles: Vec<_> = runs
            .iter()
            .map(|(home, args)| {
                let v = &net.validators[0];
                s.spawn(move || {
                    let args: Vec<&str> = args.iter().map(String::as_str).collect();
                    v.cli_as(home, &args)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a command panicked"))
            .collect()
    })
}

fn args(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

/// A record read with `nodeop query … --prove` from `home`: the proven value.
fn proven(net: &Testnet, home: &Path, query: &[&str]) -> Value {
    let out = net.validators[0].cli_as(home, query);
    assert!(out.success(), "{query:?}:\n{}", out.describe());
    let v = out.json();
    assert_eq!(v["verified"]["exists"], true, "{query:?}: {v}");
    v["verified"]["value"].clone()
}

/// What a `nodeop` command prints for people (no `--output json`), from `home`.
fn text(net: &Testnet, home: &Path, query: &[&str]) -> String {
    let v = &net.validators[0];
    let out = run(
        Command::new(&v.bins.nodeop)
            .arg("--home")
            .arg(home)
            .arg("--node")
            .arg(v.rpc_url())
            .args(query),
        COMMAND_TIMEOUT,
    );
    assert!(out.success(), "{query:?}:\n{}", out.describe());
    out.stdout
}

#[test]
fn a_coprocessor_wins_an_auction_executes_and_is_paid_and_a_wrong_one_is_slashed() {
    let started = Instant::now();
    let client = Key::from_seed("e2e coprocessor task client");
    let honest = Key::from_seed("e2e coprocessor honest");
    let liar = Key::from_seed("e2e coprocessor liar");
    let (client_address, honest_address, liar_address) = (
        client.address.to_bech32(),
        honest.address.to_bech32(),
        liar.address.to_bech32(),
    );
    // Auctions fall one step every 3 blocks (expiring 14 blocks after opening) so that a bid
    // sent by a CLI on a busy machine still finds them open; the rules do not depend on it.
    let options = TestnetOptions::new(CHAIN_ID)
        .fund(&client_address, FUNDING)
        .fund(&honest_address, FUNDING)
        .fund(&liar_address, FUNDING)
        .task_windows(30, 20, 10)
        .genesis_edit(
            "/app_state/coprocessors/params/price_interval_blocks",
            json!(3),
        )
        .without_epochs();
    let mut net = Testnet::new("coprocessor", &options);
    net.start();
    let client_home = net.client_home_with("client", &client);
    let honest_home = net.client_home_with("honest", &honest);
    let liar_home = net.client_home_with("liar", &liar);
    let operators: Vec<String> = net.validators.iter().map(|v| v.operator.clone()).collect();
    let cp = net.validators[0]
        .abci_query("/coprocessors/params", 0)
        .unwrap();
    eprintln!("coprocessors params: {cp}");
    let collateral_ppm = num(&cp["collateral_ppm"]);
    let mismatch_ppm = num(&cp["coproc_mismatch_slash_ppm"]);
    let descent = num(&cp["descent_intervals"]);
    assert_eq!(num(&cp["price_interval_blocks"]), 3, "{cp}");
    let tp = net.validators[0].abci_query("/tasks/params", 0).unwrap();

    // Everything the run may move, before it.
    let h0 = net.v(0).height();
    let accounts: Vec<String> = [&client_address, &honest_address, &liar_address]
        .into_iter()
        .cloned()
        .chain(operators.iter().cloned())
        .chain(MODULE_ACCOUNTS.iter().map(|m| m.address().to_bech32()))
        .collect();
    let before: Vec<u128> = accounts.iter().map(|a| net.balance(0, a, h0)).collect();
    let supply_before = net.supply(0, h0);
    let collateral_account = nodeop_app::modules::bank::COPROCESSOR_COLLATERAL
        .address()
        .to_bech32();
    let treasury = TREASURY.address().to_bech32();
    let mut fees = [0u128; 2]; // honest, liar

    // Both register; the honest one adds collateral.
    let outs = at_once(
        &net,
        &[
            (
                honest_home.clone(),
                args(&[
                    "tx",
                    "coprocessor",
                    "register",
                    "honest",
                    "--capacity",
                    "4",
                    "--collateral",
                    "100nop",
                    "--moniker",
                    "honest-gpu",
                ]),
            ),
            (
                liar_home.clone(),
                args(&[
                    "tx",
                    "coprocessor",
                    "register",
                    "liar",
                    "--capacity",
                    "4",
                    "--collateral",
                    "100000000unop",
                    "--moniker",
                    "liar-gpu",
                ]),
            ),
        ],
    );
    for (i, out) in outs.iter().enumerate() {
        included_ok("tx coprocessor register", out);
        fees[i] += fee_of("register", out);
    }
    let out = net.validators[0].cli_as(
        &honest_home,
        &["tx", "coprocessor", "add-collateral", "honest", "5nop"],
    );
    let added_at = included_ok("tx coprocessor add-collateral", &out);
    fees[0] += fee_of("add-collateral", &out);
    net.wait_app_height(0, added_at);
    let record = proven(
        &net,
        &honest_home,
        &["query", "coprocessor", "honest", "--prove"],
    );
    assert_eq!(num(&record["free_collateral"]), 105 * NOP, "{record}");
    assert_eq!(num(&record["capacity_units"]), 4, "{record}");
    assert_eq!(record["moniker"], "honest-gpu", "{record}");
    let listing = net.validators[0]
        .cli_as(&client_home, &["query", "coprocessors"])
        .json();
    assert_eq!(
        listing["coprocessors"].as_array().map(Vec::len),
        Some(2),
        "{listing}"
    );

    // A client posts a Session task; two members sell their slots.
    let (id, posted_at) = net.post_task_cli(&client_home, "client", &client_address, "6 × 7", FEE);
    let task = net.task(0, id, posted_at);
    let members = task_members(&task);
    assert_eq!(members.len(), 3, "{task}");
    let (seller_a, seller_b, keeper) = (&members[0], &members[1], &members[2]);
    let (node_a, node_b, node_c) = (
        net.validator_of(seller_a),
        net.validator_of(seller_b),
        net.validator_of(keeper),
    );
    let commit_end = num(&task["rounds"][0]["commit_end"]) as u64;
    let id_s = id.to_string();
    // the member's expected pay, from the published formula
    let pool = FEE
        - floor_ppm(FEE, num(&tp["protocol_fee_ppm"]))
        - floor_ppm(FEE, num(&tp["submission_fee_ppm"]));
    let expected_pay = pool * 640_000 / (640_000 + 1_200_000 * 2);
    let homes: Vec<PathBuf> = net
        .validators
        .iter()
        .map(|v| v.client_home.clone())
        .collect();
    let outs = at_once(
        &net,
        &[
            (
                homes[node_a].clone(),
                args(&["tx", "auction", "open", "operator", &id_s]),
            ),
            (
                homes[node_b].clone(),
                args(&[
                    "tx",
                    "auction",
                    "open",
                    "operator",
                    &id_s,
                    "--start-price",
                    "10nop",
                    "--floor-price",
                    "2nop",
                ]),
            ),
        ],
    );
    let opened: Vec<u64> = outs
        .iter()
        .map(|o| included_ok("tx auction open", o))
        .collect();
    net.wait_app_height(0, *opened.iter().max().unwrap());
    let listing = net.validators[0]
        .cli_as(
            &client_home,
            &["query", "auctions", "--task", &id_s, "--open"],
        )
        .json();
    let auctions = listing["auctions"].as_array().unwrap().clone();
    assert_eq!(auctions.len(), 2, "{listing}");
    let auction_of = |member: &str| {
        auctions
            .iter()
            .find(|a| a["member"] == member)
            .unwrap_or_else(|| panic!("no auction of {member}: {listing}"))
            .clone()
    };
    let (auction_a, auction_b) = (auction_of(seller_a), auction_of(seller_b));
    assert_eq!(num(&auction_a["expected_pay"]), expected_pay, "{auction_a}");
    assert_eq!(
        num(&auction_a["start_price"]),
        expected_pay,
        "default start: {auction_a}"
    );
    assert_eq!(
        num(&auction_a["floor_price"]),
        expected_pay / 2,
        "default floor: {auction_a}"
    );
    assert_eq!(num(&auction_b["start_price"]), 10 * NOP, "{auction_b}");
    assert_eq!(num(&auction_b["floor_price"]), 2 * NOP, "{auction_b}");
    for a in [&auction_a, &auction_b] {
        let (start, floor) = (num(&a["start_price"]), num(&a["floor_price"]));
        assert_eq!(num(&a["step"]), (start - floor).div_ceil(descent), "{a}");
        assert_eq!(a["status"], "open", "{a}");
    }
    let (id_a, id_b) = (num(&auction_a["id"]) as u64, num(&auction_b["id"]) as u64);
    let shown = net.validators[0]
        .cli_as(&client_home, &["query", "auction", &id_a.to_string()])
        .json();
    assert!(num(&shown["price"]["price_now"]) <= expected_pay, "{shown}");

    // Each coprocessor bids on one auction and wins it in its block.
    let outs = at_once(
        &net,
        &[
            (
                honest_home.clone(),
                args(&["tx", "auction", "bid", "honest", &id_a.to_string()]),
            ),
            (
                liar_home.clone(),
                args(&["tx", "auction", "bid", "liar", &id_b.to_string()]),
            ),
        ],
    );
    let mut locks = [0u128; 2];
    let mut prices = [0u128; 2];
    for (i, ((out, auction), (address, home))) in outs
        .iter()
        .zip([&auction_a, &auction_b])
        .zip([(&honest_address, &honest_home), (&liar_address, &liar_home)])
        .enumerate()
    {
        let won_at = included_ok("tx auction bid", out);
        fees[i] += fee_of("bid", out);
        net.wait_app_height(0, won_at);
        let aid = num(&auction["id"]);
        let a = net.validators[0]
            .abci_query(&format!("/coprocessors/auction/{aid}"), won_at)
            .unwrap();
        assert_eq!(a["status"], "won", "{a}");
        assert_eq!(a["winner"], address.as_str(), "{a}");
        assert_eq!(num(&a["won_height"]) as u64, won_at, "{a}");
        let (start, floor, step) = (
            num(&a["start_price"]),
            num(&a["floor_price"]),
            num(&a["step"]),
        );
        let steps = u128::from((won_at - num(&a["opened_height"]) as u64) / 3);
        let price = start.saturating_sub(step * steps).max(floor);
        assert_eq!(num(&a["price"]), price, "the price of block {won_at}: {a}");
        let lock = (price * collateral_ppm).div_ceil(1_000_000);
        assert_eq!(num(&a["collateral_locked"]), lock, "{a}");
        let c = net.validators[0]
            .abci_query(&format!("/coprocessors/coprocessor/{address}"), won_at)
            .unwrap();
        let free_before = if i == 0 { 105 * NOP } else { 100 * NOP };
        assert_eq!(num(&c["locked_collateral"]), lock, "{c}");
        assert_eq!(num(&c["free_collateral"]), free_before - lock, "{c}");
        assert_eq!(num(&c["reserved_units"]), 1, "{c}");
        let bid = proven(
            &net,
            home,
            &[
                "query",
                "auction",
                &aid.to_string(),
                "--prove",
                "--height",
                &won_at.to_string(),
            ],
        );
        assert_eq!(bid["winner"], address.as_str(), "{bid}");
        locks[i] = lock;
        prices[i] = price;
        eprintln!("auction {aid} won by {address} at {won_at} for {price} unop, {lock} locked");
    }
    let amplification = num(&net.validators[0]
        .abci_query(&format!("/coprocessors/load/{liar_address}"), 0)
        .unwrap()["load_amplification_ppm"]);

    // The coprocessors commit for their members' slots, the third member for itself; the
    // seller's own commit is refused.
    let outs = at_once(
        &net,
        &[
            (
                honest_home.clone(),
                args(&["tx", "task", "commit", "honest", &id_s, RIGHT]),
            ),
            (
                liar_home.clone(),
                args(&[
                    "tx",
                    "task",
                    "commit",
                    "liar",
                    &id_s,
                    WRONG,
                    "--for-member",
                    seller_b,
                ]),
            ),
            (
                homes[node_c].clone(),
                args(&["tx", "task", "commit", "operator", &id_s, RIGHT]),
            ),
            (
                homes[node_a].clone(),
                args(&["tx", "task", "commit", "operator", &id_s, RIGHT]),
            ),
        ],
    );
    for (i, out) in outs[..3].iter().enumerate() {
        let h = included_ok("tx task commit", out);
        assert!(h > posted_at && h <= commit_end, "commit in {h}");
        if i < 2 {
            fees[i] += fee_of("commit", out);
        }
    }
    let (codespace, _) = check_tx_refusal("the seller's own commit", &outs[3]);
    assert_eq!(codespace, "tasks", "{}", outs[3].describe());
    assert!(
        outs[3].stdout.contains("slot"),
        "refused for its sold slot:\n{}",
        outs[3].describe()
    );

    // ... and reveal once the commit window has closed.
    let outs = at_once(
        &net,
        &[
            (
                honest_home.clone(),
                args(&["tx", "task", "reveal", "honest", &id_s, "--wait-for-window"]),
            ),
            (
                liar_home.clone(),
                args(&["tx", "task", "reveal", "liar", &id_s, "--wait-for-window"]),
            ),
            (
                homes[node_c].clone(),
                args(&[
                    "tx",
                    "task",
                    "reveal",
                    "operator",
                    &id_s,
                    "--wait-for-window",
                ]),
            ),
        ],
    );
    let reveals: Vec<u64> = outs
        .iter()
        .map(|o| included_ok("tx task reveal", o))
        .collect();
    fees[0] += fee_of("reveal", &outs[0]);
    fees[1] += fee_of("reveal", &outs[1]);
    let fin = *reveals.iter().max().unwrap();
    eprintln!("reveals in {reveals:?}; finalized in {fin}");

    let task = net.task(0, id, fin);
    assert_eq!(task["status"], "finalized", "{task}");
    let result = &task["result"];
    assert_eq!(result["result"], hex::encode(RIGHT), "{task}");
    let strs = |v: &Value| -> Vec<String> {
        let mut s: Vec<String> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap().to_string())
            .collect();
        s.sort();
        s
    };
    let mut agreeing = vec![seller_a.clone(), keeper.clone()];
    agreeing.sort();
    assert_eq!(strs(&result["agreeing"]), agreeing, "{task}");
    assert_eq!(
        strs(&result["disagreeing"]),
        vec![seller_b.clone()],
        "{task}"
    );
    let pay_a = result["pay"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["operator"] == seller_a.as_str())
        .map(|p| num(&p["pay"]))
        .unwrap_or_else(|| panic!("no pay line for {seller_a}: {task}"));
    assert!(
        pay_a >= prices[0],
        "the price is never above the pay: {task}"
    );

    let events = net.block_events(0, fin, Duration::from_secs(30));
    // The honest coprocessor: paid the price, its lock back to free.
    let paid = event_where(
        &events,
        copro_events::COPROCESSOR_PAID,
        "auction",
        &id_a.to_string(),
    );
    assert_eq!(attr(paid, "coprocessor"), Some(honest_address.as_str()));
    assert_eq!(attr_num(paid, "price"), prices[0], "{paid:?}");
    let kept = pay_a - prices[0];
    assert_eq!(attr_num(paid, "member_kept"), kept, "{paid:?}");
    let honest_fee_in_fin = if reveals[0] == fin {
        fee_of("reveal", &outs[0])
    } else {
        0
    };
    assert_eq!(
        net.balance(0, &honest_address, fin) + honest_fee_in_fin,
        net.balance(0, &honest_address, fin - 1) + prices[0],
        "the price reaches the coprocessor's account in block {fin}"
    );
    let c = net.validators[0]
        .abci_query(&format!("/coprocessors/coprocessor/{honest_address}"), fin)
        .unwrap();
    assert_eq!(num(&c["free_collateral"]), 105 * NOP, "{c}");
    assert_eq!(num(&c["locked_collateral"]), 0, "{c}");
    assert_eq!(num(&c["reserved_units"]), 0, "{c}");
    let a = net.validators[0]
        .abci_query(&format!("/coprocessors/auction/{id_a}"), fin)
        .unwrap();
    assert_eq!(
        (a["status"].as_str(), num(&a["paid"])),
        (Some("paid"), prices[0]),
        "{a}"
    );
    // ... its member keeps the rest: into its pool less commission, the commission to its account
    let record = |op: &str, h| net.operator_record(0, op, h);
    let commission = floor_ppm(kept, num(&record(seller_a, fin)["commission_ppm"]));
    assert_eq!(
        num(&record(seller_a, fin)["tokens"]) - num(&record(seller_a, fin - 1)["tokens"]),
        kept - commission,
        "node{node_a}'s pool keeps pay − price less commission"
    );
    assert_eq!(
        net.balance(0, seller_a, fin) - net.balance(0, seller_a, fin - 1),
        commission,
        "node{node_a}'s commission"
    );

    // The wrong coprocessor: its lock slashed by the mismatch share, amplified, half burned.
    let slashed = event_where(
        &events,
        copro_events::COLLATERAL_SLASHED,
        "auction",
        &id_b.to_string(),
    );
    assert_eq!(attr(slashed, "coprocessor"), Some(liar_address.as_str()));
    assert_eq!(
        attr(slashed, "reason"),
        Some("result_mismatch"),
        "{slashed:?}"
    );
    assert_eq!(
        attr_num(slashed, "amplification_ppm"),
        amplification,
        "{slashed:?}"
    );
    let amount = floor_ppm(floor_ppm(locks[1], mismatch_ppm), amplification).min(locks[1]);
    assert!(amount > 0);
    assert_eq!(attr_num(slashed, "amount"), amount, "{slashed:?}");
    let burned = amount / 2;
    assert_eq!(attr_num(slashed, "burned"), burned, "{slashed:?}");
    assert_eq!(
        attr_num(slashed, "to_treasury"),
        amount - burned,
        "{slashed:?}"
    );
    assert_eq!(
        attr_num(slashed, "released"),
        locks[1] - amount,
        "{slashed:?}"
    );
    let c = net.validators[0]
        .abci_query(&format!("/coprocessors/coprocessor/{liar_address}"), fin)
        .unwrap();
    assert_eq!(num(&c["free_collateral"]), 100 * NOP - amount, "{c}");
    assert_eq!(num(&c["locked_collateral"]), 0, "{c}");
    let a = net.validators[0]
        .abci_query(&format!("/coprocessors/auction/{id_b}"), fin)
        .unwrap();
    assert_eq!(
        (a["status"].as_str(), num(&a["slashed"])),
        (Some("slashed"), amount),
        "{a}"
    );
    assert_eq!(
        net.balance(0, &collateral_account, fin - 1) - net.balance(0, &collateral_account, fin),
        amount,
        "only the slash leaves the collateral account in block {fin}"
    );
    assert_eq!(
        num(&net.supply(0, fin)["burned"]) - num(&net.supply(0, fin - 1)["burned"]),
        burned,
        "half the slash burned"
    );
    assert!(
        net.balance(0, &treasury, fin) - net.balance(0, &treasury, fin - 1) >= amount - burned,
        "the treasury takes the other half"
    );
    // ... and its member stays liable: a result_mismatch proposal, no pay, pool unchanged
    let proposed = event_where(
        &events,
        slashing_events::SLASH_PROPOSED,
        "operator",
        seller_b,
    );
    assert_eq!(
        attr(proposed, "offence"),
        Some("result_mismatch"),
        "{proposed:?}"
    );
    assert!(
        result["pay"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["operator"] != seller_b.as_str()),
        "{task}"
    );
    assert_eq!(
        num(&record(seller_b, fin)["tokens"]),
        num(&record(seller_b, h0)["tokens"]),
        "node{node_b}'s pool"
    );

    // ... as the CLI tells it to people
    let shown = text(
        &net,
        &client_home,
        &["query", "auction", &id_a.to_string(), "--prove"],
    );
    assert!(
        shown.contains("verified:") && shown.contains("agreed; the coprocessor was paid"),
        "{shown}"
    );
    let shown = text(&net, &client_home, &["query", "auctions", "--task", &id_s]);
    assert!(
        shown.contains(" paid ") && shown.contains(" slashed ") && shown.contains(&liar_address),
        "{shown}"
    );

    // The honest coprocessor withdraws part of its free collateral: pending until the delay.
    let out = net.validators[0].cli_as(
        &honest_home,
        &["tx", "coprocessor", "withdraw", "honest", "5nop"],
    );
    let end = included_ok("tx coprocessor withdraw", &out);
    fees[0] += fee_of("withdraw", &out);
    net.wait_app_height(0, end);
    let shown = net.validators[0]
        .cli_as(&honest_home, &["query", "coprocessor", "honest"])
        .json();
    let c = &shown["coprocessor"];
    assert_eq!(num(&c["free_collateral"]), 100 * NOP, "{shown}");
    assert_eq!(num(&c["pending_collateral"]), 5 * NOP, "{shown}");
    assert_eq!(num(&shown["load"]["free_units"]), 4, "{shown}");

    // Each coprocessor's account, over the run.
    assert_eq!(
        net.balance(0, &honest_address, end),
        FUNDING - 105 * NOP - fees[0] + prices[0],
        "the honest coprocessor: funding − collateral − fees + price"
    );
    assert_eq!(
        net.balance(0, &liar_address, end),
        FUNDING - 100 * NOP - fees[1],
        "the wrong coprocessor: funding − collateral − fees"
    );
    // Nothing created, nothing lost but what was burned.
    let after: Vec<u128> = accounts.iter().map(|a| net.balance(0, a, end)).collect();
    let supply_after = net.supply(0, end);
    assert_eq!(
        num(&supply_before["total_supply"]) - num(&supply_after["total_supply"]),
        burned,
        "{supply_before} -> {supply_after}"
    );
    let (sum_before, sum_after): (u128, u128) = (before.iter().sum(), after.iter().sum());
    assert_eq!(
        sum_before - sum_after,
        burned,
        "{accounts:?}\nbefore {before:?}\nafter  {after:?}"
    );
    eprintln!(
        "e2e_testnet coprocessor: task {id} posted {posted_at}, auctions {id_a} (paid {}) and \
         {id_b} (slashed {amount}, burned {burned}), finalized {fin}; passed in {:.1} s",
        prices[0],
        started.elapsed().as_secs_f64()
    );
}
