use nodeop_driver::chain::{
    add_genesis_operator, consensus_key, genesis, genesis_operator, Key, TestChain,
};
use nodeop_driver::tasks::NOP;

fn two_validators() -> (TestChain, Key, [u8; 32]) {
    let big = Key::from_seed("big");
    let mut g = genesis(&[(big.address, 1_000 * NOP)]);
    add_genesis_operator(
        &mut g,
        &big.address,
        consensus_key("big"),
        "big",
        30_000 * NOP,
    );
    (TestChain::start(&g), big, consensus_key("big"))
}

#[test]
fn a_validator_is_jailed_after_missing_blocks_and_leaves_the_set() {
    let (mut chain, _big, big_cons) = two_validators();
    let (op, cons) = genesis_operator();
    // devnet: window 100 blocks, at least 50 % signed: missing 51 of a full window jails
    chain.offline.insert(cons);
    let mut jailed_at = None;
    for _ in 0..150 {
        let resp = chain.block(Vec::new());
        if let Some(e) = resp
            .events
            .iter()
            .find(|e| e.kind == nodeop_app::modules::staking::events::JAILED)
        {
            assert_eq!(e.get("operator"), Some(op.address.to_string().as_str()));
            assert_eq!(e.get("reason"), Some("downtime"));
            // leaves the set in the same block's updates
            assert!(resp
                .validator_updates
                .iter()
                .any(|u| u.ed25519_pubkey == cons && u.power == 0));
            jailed_at = Some(chain.height);
            break;
        }
    }
    let h = jailed_at.expect("jailed within 150 blocks");
    // not before a whole window was observed (registered at height 1)
    assert!(h >= 101, "jailed at {h}, before a full window");
    let o = chain.operator(&op.address);
    assert_eq!(o.jailed_until, Some(chain.time.seconds + 20));
    assert_eq!(
        chain.power_of(&cons, h + 1),
        Some(10_000),
        "CometBFT still has it for one block"
    );
    assert_eq!(chain.power_of(&cons, h + 2), None);
    assert_eq!(chain.reported_set(), vec![(big_cons, 30_000)]);
    // jailing for downtime does not slash
    assert_eq!(o.tokens, 10_000 * NOP);
}

#[test]
fn missing_up_to_half_of_the_window_does_not_jail() {
    let (mut chain, _big, _) = two_validators();
    let (op, cons) = genesis_operator();
    // miss 50 blocks, sign 50, repeatedly: never more than 50 of any window of 100
    for round in 0..3 {
        chain.offline.insert(cons);
        for _ in 0..50 {
            let resp = chain.block(Vec::new());
            assert!(
                !resp
                    .events
                    .iter()
                    .any(|e| e.kind == nodeop_app::modules::staking::events::JAILED),
                "round {round}"
            );
        }
        chain.offline.clear();
        for _ in 0..50 {
            chain.block(Vec::new());
        }
    }
    assert_eq!(chain.operator(&op.address).jailed_until, None);
}

#[test]
fn a_long_halt_jails_nobody() {
    let (mut chain, _big, _) = two_validators();
    chain.empty_blocks(120);
    // a day without blocks, then the chain resumes: time passed, but no block was missed
    chain.block_seconds = 86_400;
    let resp = chain.block(Vec::new());
    chain.block_seconds = 1;
    assert!(!resp
        .events
        .iter()
        .any(|e| e.kind == nodeop_app::modules::staking::events::JAILED));
    chain.empty_blocks(5);
    let (op, _) = genesis_operator();
    assert_eq!(chain.operator(&op.address).jailed_until, None);
}
