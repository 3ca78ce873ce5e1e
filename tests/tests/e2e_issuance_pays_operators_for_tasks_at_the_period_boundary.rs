//! End to end, with real processes: a single-validator devnet (nodeopd + cometbft; 10 s epochs,
//! 30 s issuance periods) where a client posts tasks with the `nodeop` CLI and the operator
//! commits, reveals and confirms them with the CLI. After the period boundary the period record
//! (read with `nodeop query issuance`, and proven with `--prove`) shows the revenue, the subsidy
//! and the mint `⌊R × (1e6 + s) / 1e6⌋`; the whole mint is the operator's share, and its pool
//! grows in the recording block by exactly the payout less commission (plus the epoch's fee
//! payout, read from the same block's `epoch` event). A genesis vesting schedule is claimed with
//! `nodeop tx vesting claim`, and the supply adds up.

use std::time::{Duration, Instant};

use nodeop_driver::chain::Key;
use nodeop_driver::tasks::NOP;
use nodeop_tests::net::{num, Node, Output};
use serde_json::Value;

const CHAIN_ID: &str = "nodeop-e2e-issuance";

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

fn event_attr(outcome: &Value, kind: &str, key: &str) -> Option<String> {
    outcome["outcome"]["included"]["events"]
        .as_array()?
        .iter()
        .filter(|e| e["type"] == kind)
        .flat_map(|e| e["attributes"].as_array().cloned().unwrap_or_default())
        .find(|a| a["key"] == key)
        .and_then(|a| a["value"].as_str().map(String::from))
}

fn json_query(node: &Node, args: &[&str]) -> Value {
    let mut all = vec!["query"];
    all.extend_from_slice(args);
    node.cli_ok(&all).json()
}

fn pool_at(node: &Node, operator: &str, height: u64) -> u128 {
    let v = node
        .abci_query(&format!("/staking/operator/{operator}"), height)
        .expect("the operator record");
    num(&v["tokens"])
}

/// Runs one task through its life: posted by the client, committed, revealed and confirmed by
/// the operator (the only member). Returns the task's fee.
fn run_task(node: &mut Node, fee_nop: u128) -> u128 {
    let fee = format!("{fee_nop}nop");
    let out = node.cli_ok(&[
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
        &fee,
    ]);
    let v = included_ok(&out);
    let id = event_attr(&v, "task_posted", "task").expect("a task_posted event");
    let task = json_query(node, &["task", &id]);
    let commit_end = task["task"]["rounds"][0]["commit_end"]
        .as_u64()
        .expect("commit_end");
    included_ok(&node.cli_ok(&["tx", "task", "commit", "operator", &id, "42"]));
    // the reveal window opens after commit_end
    node.wait_for_height(commit_end, Duration::from_secs(60));
    included_ok(&node.cli_ok(&["tx", "task", "reveal", "operator", &id]));
    let task = json_query(node, &["task", &id]);
    assert_eq!(task["task"]["status"], "finalized", "{task}");
    included_ok(&node.cli_ok(&[
        "tx",
        "task",
        "confirm",
        "operator",
        &id,
        "consumer-receipt-1",
    ]));
    let task = json_query(node, &["task", &id]);
    assert_eq!(task["task"]["status"], "delivered", "{task}");
    fee_nop * NOP
}

#[test]
fn e2e_issuance_pays_operators_for_tasks_at_the_period_boundary() {
    let client = Key::from_seed("e2e issuance client");
    let team = Key::from_seed("e2e issuance team");
    let mut node = Node::init("issuance", CHAIN_ID);
    // devnet params: 10 s epochs, 3-epoch issuance periods, short slashing windows
    node.nodeopd_ok(&["genesis", "set-staking-params", "--devnet"]);
    node.add_genesis_account(&client.address.to_bech32(), 1_000 * NOP);
    node.add_genesis_account(&team.address.to_bech32(), 10 * NOP);
    node.nodeopd_ok(&[
        "genesis",
        "add-vesting",
        &team.address.to_bech32(),
        "100nop",
        "--duration",
        "20",
    ]);
    node.validate_genesis();
    for (name, k) in [("client", &client), ("team", &team)] {
        node.cli_ok(&[
            "keys",
            "import",
            name,
            "--secret-hex",
            &hex::encode(k.secret_bytes()),
        ]);
    }
    let operator = node.cli_ok(&["keys", "show", "operator"]).json()["address"]
        .as_str()
        .expect("the operator key's address")
        .to_string();
    node.start();
    node.wait_for_height(2, Duration::from_secs(90));
    let params = json_query(&node, &["issuance", "params"]);
    assert_eq!(params["params"]["issuance_period_epochs"], 3, "{params}");
    let genesis_supply = num(&json_query(&node, &["issuance", "supply"])["supply"]["total_supply"]);

    let mut fees = 0u128;
    for fee in [3, 5] {
        fees += run_task(&mut node, fee);
    }
    // what has vested so far (the schedule runs 20 s from genesis); the rest is claimed later
    let claim = node.cli_ok(&["tx", "vesting", "claim", "team"]);
    let v = included_ok(&claim);
    let first_claim: u128 = event_attr(&v, "vested", "amount")
        .expect("a vested event")
        .parse()
        .unwrap();
    assert!(first_claim > 0 && first_claim <= 100 * NOP, "{v}");

    // wait until the period of the last tx has been recorded
    let open = json_query(&node, &["issuance", "subsidy"])["subsidy"]["period"]
        .as_u64()
        .expect("period");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let now = json_query(&node, &["issuance", "subsidy"])["subsidy"]["period"]
            .as_u64()
            .expect("period");
        if now > open {
            break;
        }
        assert!(Instant::now() < deadline, "period {open} never ended");
        std::thread::sleep(Duration::from_millis(500));
    }
    let periods = json_query(&node, &["issuance", "periods", "--all"])["periods"]
        .as_array()
        .cloned()
        .expect("periods");
    assert!(periods.len() as u64 > open);
    let revenue: u128 = periods.iter().map(|r| num(&r["revenue"])).sum();
    assert_eq!(
        revenue, fees,
        "every fee settled as revenue: finalized and delivered"
    );
    let minted: u128 = periods.iter().map(|r| num(&r["minted"])).sum();
    let vested: u128 = periods.iter().map(|r| num(&r["vested"])).sum();
    assert_eq!(vested, first_claim, "the claim is in a recorded period");

    let mut checked_pool = false;
    for r in periods.iter().filter(|r| num(&r["minted"]) > 0) {
        let m = r["period"].as_u64().unwrap();
        let s = num(&r["subsidy_ppm"]);
        assert_eq!(
            num(&r["minted"]),
            num(&r["revenue"]) * (1_000_000 + s) / 1_000_000
        );
        assert_eq!(num(&r["clipped"]), 0);
        let payouts = json_query(&node, &["issuance", "payouts", &m.to_string()])["payouts"]
            .as_array()
            .cloned()
            .expect("payouts");
        assert_eq!(payouts.len(), 1, "the only operator did all the work");
        let p = &payouts[0];
        assert_eq!(p["operator"], operator.as_str());
        assert_eq!(
            num(&p["share"]),
            num(&r["minted"]),
            "the whole mint is its share"
        );
        assert_eq!(num(&p["commission"]) + num(&p["to_pool"]), num(&p["share"]));

        // the record is proven against the app hash
        let proven = json_query(&node, &["issuance", "period", &m.to_string(), "--prove"]);
        assert_eq!(proven["verified"]["exists"], true, "{proven}");
        assert_eq!(
            proven["verified"]["value"]["minted"], r["minted"],
            "{proven}"
        );

        // in the recording block the pool grows by the payout's part, plus the epoch's fee
        // payout less commission (the block is also an epoch boundary)
        let h = r["height"].as_u64().unwrap();
        let txs = node.block_txs(h).expect("block txs");
        if !txs.is_empty() {
            continue;
        }
        let commission_ppm = num(&node
            .abci_query(&format!("/staking/operator/{operator}"), h)
            .unwrap()["commission_ppm"]);
        let fee_share: u128 = node
            .block_events(h)
            .expect("block_results")
            .iter()
            .filter(|(k, _)| k == "epoch")
            .map(|(_, attrs)| {
                let paid: u128 = attrs
                    .iter()
                    .find(|(k, _)| k == "paid_to_validators")
                    .map(|(_, v)| v.parse().unwrap())
                    .unwrap_or(0);
                paid - paid * commission_ppm / 1_000_000
            })
            .sum();
        let growth = pool_at(&node, &operator, h) - pool_at(&node, &operator, h - 1);
        assert_eq!(
            growth,
            num(&p["to_pool"]) + fee_share,
            "period {m} at height {h}"
        );
        let mint_event = node
            .block_events(h)
            .expect("block_results")
            .into_iter()
            .find(|(k, a)| {
                k == nodeop_app::modules::issuance::events::MINT
                    && a.contains(&("period".into(), m.to_string()))
            })
            .expect("a mint event in the recording block");
        assert!(mint_event
            .1
            .contains(&("minted".to_string(), num(&r["minted"]).to_string())));
        checked_pool = true;
    }
    assert!(minted > 0);
    assert!(
        checked_pool,
        "a period with a mint was recorded in a block without txs"
    );

    // the rest of the schedule, now that its 20 s have passed
    if first_claim < 100 * NOP {
        let v = included_ok(&node.cli_ok(&["tx", "vesting", "claim", "team"]));
        assert_eq!(
            event_attr(&v, "vested", "amount"),
            Some((100 * NOP - first_claim).to_string())
        );
    }
    let again = node.cli(&["tx", "vesting", "claim", "team"]);
    assert!(!again.success());
    assert!(
        again.stdout.contains("nothing_to_claim") || again.stderr.contains("nothing_to_claim"),
        "{}",
        again.describe()
    );
    let supply = &json_query(&node, &["issuance", "supply"])["supply"];
    let burned = num(&supply["burned"]);
    let open_vested = num(&json_query(&node, &["issuance", "subsidy"])["subsidy"]["vested"]);
    assert_eq!(
        num(&supply["total_supply"]),
        genesis_supply + minted + vested + open_vested - burned
    );
    assert_eq!(num(&supply["reward_pool"]), 0);
    let vesting = json_query(&node, &["issuance", "vesting", &team.address.to_bech32()]);
    assert_eq!(num(&vesting["vesting"]["claimed"]), 100 * NOP);
    assert_eq!(num(&vesting["vesting"]["claimable"]), 0);
    node.stop();
}
