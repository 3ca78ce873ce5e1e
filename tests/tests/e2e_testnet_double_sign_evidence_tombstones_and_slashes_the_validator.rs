//! End to end, on a real 4-validator network: duplicate-vote evidence against validator 3 is
//! committed by CometBFT, and in the block that carries it the app tombstones the operator and
//! slashes 5 % of its stake at the infraction height (`/staking/slashes/…` records the amounts,
//! the operator's tokens drop by exactly that), the validator leaves CometBFT's `/validators`,
//! can never unjail, and the chain goes on with the other three.
//!
//! How the evidence is made: two conflicting prevotes for one height and round, signed with
//! validator 3's consensus key (CometBFT's canonical vote sign bytes, from the `tendermint`
//! crate), sent through CometBFT's `broadcast_evidence` RPC
//! ([`Testnet::broadcast_duplicate_vote`]). The other way, a "twin" node running a copy of
//! validator 3's key, only produces evidence when the twins sign different blocks at one height
//! and round (in practice when validator 3 is the proposer and each twin prevotes its own
//! proposal) and some node receives both votes: whether and when that happens depends on timing,
//! so such a test would pass or time out by luck. Forged votes are deterministic and still go
//! through CometBFT's full evidence checks (signature, validator power, total power and block
//! time at that height) and its gossip to the proposer.

use std::time::{Duration, Instant};

use nodeop_driver::tasks::NOP;
use nodeop_tests::net::num;
use nodeop_tests::testnet::{check_tx_refusal, Testnet, TestnetOptions};

const CHAIN_ID: &str = "nodeop-e2e-double-sign";
const CULPRIT: usize = 3;

#[test]
fn duplicate_vote_evidence_tombstones_and_slashes_the_validator_while_the_chain_goes_on() {
    let started = Instant::now();
    let mut net = Testnet::new("double-sign", &TestnetOptions::new(CHAIN_ID));
    net.start();
    let operator = net.v(CULPRIT).operator.clone();
    let consensus_address = net.v(CULPRIT).consensus_address.clone();
    let params = net.v(0).abci_query("/staking/params", 0).unwrap();
    let slash_ppm = num(&params["double_sign_slash_ppm"]);
    let power_reduction = num(&params["power_reduction"]);

    let infraction = net.wait_for_height(0, 3, Duration::from_secs(60)) - 1;
    let submitted_at = net.v(0).height();
    let result = net
        .broadcast_duplicate_vote(0, CULPRIT, infraction)
        .unwrap_or_else(|e| panic!("broadcast_evidence refused the evidence: {e}"));
    eprintln!("evidence for height {infraction} accepted at height {submitted_at}: {result}");

    // CometBFT gossips it to the proposers and commits it in a block.
    let mut next = submitted_at;
    let evidence_height = net.wait(
        "a block carrying the evidence",
        Duration::from_secs(60),
        |net| {
            while next <= net.v(0).height() {
                let block = net.v(0).rpc(&format!("/block?height={next}")).ok()?;
                let found = block["block"]["evidence"]["evidence"]
                    .as_array()
                    .is_some_and(|list| !list.is_empty());
                if found {
                    let ev = &block["block"]["evidence"]["evidence"][0];
                    assert_eq!(ev["type"], "tendermint/DuplicateVoteEvidence", "{ev}");
                    assert_eq!(
                        ev["value"]["vote_a"]["validator_address"],
                        consensus_address.as_str(),
                        "{ev}"
                    );
                    return Some(next);
                }
                next += 1;
            }
            None
        },
    );
    eprintln!("evidence committed in block {evidence_height}");

    // The app acted on it in that very block. (A node stores a block before its app executes
    // it; once the next block exists, the app has committed this one.)
    net.wait_for_height(0, evidence_height + 1, Duration::from_secs(60));
    let slashes = net
        .v(0)
        .abci_query(&format!("/staking/slashes/{operator}"), 0)
        .unwrap();
    let list = slashes.as_array().expect("a list of slashes");
    assert_eq!(list.len(), 1, "{slashes}");
    let slash = &list[0];
    let stake = 10_000 * NOP;
    let expected = stake * slash_ppm / 1_000_000;
    assert_eq!(expected, 500 * NOP, "5 % of 10 000 NOP");
    assert_eq!(slash["reason"], "double_sign", "{slash}");
    assert_eq!(
        num(&slash["height"]),
        u128::from(evidence_height),
        "{slash}"
    );
    assert_eq!(
        num(&slash["infraction_height"]),
        u128::from(infraction),
        "{slash}"
    );
    assert_eq!(
        num(&slash["stake_at_infraction"]),
        10_000 * power_reduction,
        "{slash}"
    );
    assert_eq!(num(&slash["amount"]), expected, "{slash}");
    assert_eq!(num(&slash["from_pool"]), expected, "{slash}");
    assert_eq!(num(&slash["from_unbonding"]), 0, "{slash}");
    assert_eq!(
        num(&slash["burned"]) + num(&slash["to_treasury"]),
        expected,
        "{slash}"
    );

    let before = net.operator_record(0, &operator, evidence_height - 1);
    let after = net.operator_record(0, &operator, evidence_height);
    assert_eq!(
        num(&before["tokens"]) - num(&after["tokens"]),
        expected,
        "the pool's tokens drop by the slash in block {evidence_height}:\nbefore {before}\nafter {after}"
    );
    assert_eq!(before["tombstoned"], false);
    assert_eq!(after["tombstoned"], true, "{after}");
    assert_eq!(net.operator_status(0, &operator).unwrap(), "tombstoned");

    // Out of CometBFT's set two blocks later, never to return.
    net.wait_for_height(0, evidence_height + 2, Duration::from_secs(60));
    let set = net
        .v(0)
        .cometbft_validators(Some(evidence_height + 2))
        .unwrap();
    assert!(
        set.len() == 3 && !set.iter().any(|(a, _)| *a == consensus_address),
        "/validators?height={}: {set:?}",
        evidence_height + 2
    );
    let out = net.v(CULPRIT).cli(&["tx", "staking", "unjail", "operator"]);
    assert_eq!(
        check_tx_refusal("unjail of a tombstoned operator", &out),
        ("staking".to_string(), 14)
    );

    // The chain goes on with the other three, and they agree.
    let top = net.wait_for_height(0, evidence_height + 6, Duration::from_secs(60));
    let hash = net.app_hash_at(0, top, Duration::from_secs(30));
    for i in 1..4 {
        net.wait_for_height(i, top, Duration::from_secs(60));
        let got = net.app_hash_at(i, top, Duration::from_secs(30));
        assert_eq!(got, hash, "node{i} at {top}");
    }
    eprintln!(
        "e2e_testnet double sign: passed in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
