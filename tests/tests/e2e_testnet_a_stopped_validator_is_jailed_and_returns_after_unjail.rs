//! End to end, on a real 4-validator network with the devnet liveness params (window 100
//! blocks, at least 50 % signed, jail 20 s): validator 3 is stopped; the other three (75 % of the
//! power) keep committing; once validator 3 has missed more than half of a whole window it is
//! jailed (`/staking/operator/…` has `jailed_until`, the listing says `jailed`) and leaves
//! CometBFT's `/validators`. Restarted, it catches up; an unjail before `jailed_until` is refused
//! (`staking/13`), the one after it succeeds, and the validator is back in `/validators` two blocks
//! after the unjail's block and signs blocks again.
//!
//! The downtime SLA is kept out of the way ([`TestnetOptions::new`] says why): with the devnet
//! SLA period of 30 s, the stopped validator would lose its whole stake to it before liveness
//! jails it.

use std::time::{Duration, Instant};

use nodeop_tests::net::num;
use nodeop_tests::testnet::{check_tx_refusal, included_ok, Testnet, TestnetOptions};

const CHAIN_ID: &str = "nodeop-e2e-liveness";
const VICTIM: usize = 3;

#[test]
fn a_stopped_validator_is_jailed_leaves_the_set_and_returns_after_unjail() {
    let started = Instant::now();
    let mut net = Testnet::new("liveness", &TestnetOptions::new(CHAIN_ID));
    net.start();
    let operator = net.v(VICTIM).operator.clone();
    let consensus_address = net.v(VICTIM).consensus_address.clone();
    let params = net.v(0).abci_query("/staking/params", 0).unwrap();
    let window = num(&params["signed_blocks_window"]) as u64;
    assert_eq!(window, 100, "devnet params expected: {params}");

    net.v(VICTIM).stop();
    let stopped_at = net.v(0).height();
    eprintln!("node{VICTIM} stopped at height {stopped_at}");

    // Jailed once watched for a whole window with more than half of it missed: about a window
    // of blocks after the stop. Blocks where the stopped node was to propose take a round more.
    let jailed_until = net.wait(
        "the stopped validator to be jailed",
        Duration::from_secs(600),
        |net| net.operator_record(0, &operator, 0)["jailed_until"].as_i64(),
    );
    let jailed_at = net.v(0).height();
    eprintln!(
        "jailed by height {jailed_at} ({:.0} s in), until {jailed_until}",
        started.elapsed().as_secs_f64()
    );
    assert!(
        jailed_at >= stopped_at + window / 2,
        "jailed at {jailed_at}, too soon after the stop at {stopped_at}"
    );
    assert_eq!(net.operator_status(0, &operator).unwrap(), "jailed");

    // Unjail too early (sent through node 0 while node 3 is down): refused with its own code.
    // Checked only while there is certainly time left, as a slow machine may have used it up.
    let client = net.v(VICTIM).client_home.clone();
    let now = net.v(0).latest_block_time().unwrap();
    if now + 5 < jailed_until {
        let out = net
            .v(0)
            .cli_as(&client, &["tx", "staking", "unjail", "operator"]);
        let refusal = check_tx_refusal("unjail before jailed_until", &out);
        assert_eq!(refusal, ("staking".to_string(), 13), "{}", out.describe());
    } else {
        eprintln!("jail nearly over when seen ({now} vs {jailed_until}); early unjail not tried");
    }
    net.wait(
        "the jailed validator to leave CometBFT's /validators",
        Duration::from_secs(60),
        |net| {
            let set = net.v(0).cometbft_validators(None).ok()?;
            (set.len() == 3 && !set.iter().any(|(a, _)| *a == consensus_address)).then_some(())
        },
    );

    net.v(VICTIM).start();
    net.wait_caught_up(VICTIM, 0, Duration::from_secs(120));

    // Through node 0, whose latest block is past jailed_until: CheckTx judges by the block time
    // of the node it runs on, and the restarted node may lag a little behind on a busy machine.
    net.wait(
        "the block time to pass jailed_until",
        Duration::from_secs(60),
        |net| (net.v(0).latest_block_time().ok()? >= jailed_until).then_some(()),
    );
    let out = net
        .v(0)
        .cli_as(&client, &["tx", "staking", "unjail", "operator"]);
    let h = included_ok("unjail", &out);
    eprintln!("unjail included in block {h}");
    net.wait_for_height(0, h + 2, Duration::from_secs(60));
    let in_set = |set: &[(String, u64)]| set.iter().any(|(a, _)| *a == consensus_address);
    let before = net.v(0).cometbft_validators(Some(h + 1)).unwrap();
    assert!(!in_set(&before), "back one block too early: {before:?}");
    let after = net.v(0).cometbft_validators(Some(h + 2)).unwrap();
    assert!(
        after.contains(&(consensus_address.clone(), 10_000)),
        "back in /validators?height={} with its power: {after:?}",
        h + 2
    );
    assert_eq!(after.len(), 4, "{after:?}");
    assert_eq!(net.operator_status(0, &operator).unwrap(), "bonded");

    // …and it signs again: a later block's last commit carries its signature.
    net.wait(
        "the unjailed validator's signature in a commit",
        Duration::from_secs(60),
        |net| {
            let top = net.v(0).height();
            let block = net.v(0).rpc(&format!("/block?height={top}")).ok()?;
            let signed = block["block"]["last_commit"]["signatures"]
                .as_array()?
                .iter()
                .any(|s| {
                    s["validator_address"].as_str() == Some(consensus_address.as_str())
                        && s["block_id_flag"].as_u64() == Some(2)
                });
            (top > h + 3 && signed).then_some(())
        },
    );
    eprintln!(
        "e2e_testnet liveness jail and unjail: passed in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
