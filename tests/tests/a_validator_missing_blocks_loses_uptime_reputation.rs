//! A validator that stops signing (but not long enough to be jailed) has every missed block
//! recorded by the liveness path as a missed duty of its reputation: its uptime component and its
//! score fall below those of validators that signed everything, and the query shows the counts.

use nodeop_app::crypto::Address;
use nodeop_driver::chain::{consensus_key, three_validators, TestChain};
use serde_json::Value;

const EVENT: u128 = 1_000_000;

fn reputation(chain: &TestChain, who: &Address) -> Value {
    let r = chain.query(&format!("/reputation/operator/{who}"), &[], 0, false);
    assert_eq!(r.code, 0, "{}", r.log);
    serde_json::from_slice(&r.value).expect("JSON")
}

fn mass(v: &Value, tally: &str, part: &str) -> u128 {
    v["counters"][tally][part]
        .as_str()
        .unwrap_or_else(|| panic!("{tally}.{part} in {v}"))
        .parse()
        .expect("a decimal string")
}

#[test]
fn a_validator_missing_blocks_loses_uptime_reputation() {
    // three_validators makes epochs long: no decay in this test
    let (g, big, mid) = three_validators(&[]);
    let mut chain = TestChain::start(&g);
    chain.empty_blocks(10);
    chain.offline.insert(consensus_key("mid"));
    chain.empty_blocks(20);
    chain.offline.clear();
    chain.empty_blocks(10);
    assert!(
        !chain.operator(&mid.address).is_jailed(),
        "20 misses stay under the liveness limit"
    );

    let b = reputation(&chain, &big.address);
    let m = reputation(&chain, &mid.address);
    // block 1 has no last commit: blocks 2..=40 each counted once for every validator
    for v in [&b, &m] {
        let counted = mass(v, "blocks", "good") + mass(v, "blocks", "bad");
        assert_eq!(counted, 39 * EVENT);
        assert_eq!(mass(v, "blocks", "neutral"), 0);
    }
    assert_eq!(mass(&b, "blocks", "bad"), 0);
    assert_eq!(mass(&m, "blocks", "bad"), 20 * EVENT);
    assert_eq!(b["components"]["blocks_ppm"], 1_000_000);
    // 19 of 39 signed, floored
    assert_eq!(m["components"]["blocks_ppm"], 487_179);
    // no task duties yet: uptime is the blocks' ratio alone
    assert_eq!(m["components"]["duties_ppm"], Value::Null);
    assert_eq!(m["components"]["uptime_ppm"], 487_179);
    assert_eq!(b["components"]["uptime_ppm"], 1_000_000);
    // both bonds are at or above the 20_000 NOP cap; success and latency are neutral:
    // big = 0.3×0.5 + 0.4×1 + 0.2×0.5 + 0.1×1 = 0.75
    assert_eq!(b["score_ppm"], 750_000);
    // mid = 0.15 + 0.4 × 0.487179 + 0.1 + 0.1 = 0.5448716
    assert_eq!(m["score_ppm"], 544_871);
    assert_eq!(
        m["byz_factor_ppm"], 1_000_000,
        "missing blocks is not Byzantine"
    );
    assert_eq!(m["effective_score_ppm"], 544_871);

    // the stored counters are a provable record
    let proved = chain.query(&format!("/reputation/record/{}", mid.address), &[], 0, true);
    assert_eq!(proved.code, 0, "{}", proved.log);
    assert_eq!(proved.proof_ops.len(), 1);
    nodeop_app::query::verify_proof(
        &proved.proof_ops[0],
        &chain.app_hash(),
        &proved.key,
        Some(&proved.value),
    )
    .expect("the record verifies against the app hash");
    let record: nodeop_app::modules::reputation::OperatorReputation =
        borsh::from_slice(&proved.value).expect("the stored borsh record");
    assert_eq!(record.blocks.bad, 20 * EVENT);
}
