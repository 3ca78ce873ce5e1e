//! End to end, with real processes: a single-validator chain (nodeopd + cometbft), transfers sent
//! with the `nodeop` CLI, balances read back through the CLI, a proved query verified against the
//! app hash, and bad txs refused with their stable codes.

use std::time::Duration;

use nodeop_tests::harness::Key;
use nodeop_tests::net::{num, wait_for, Node, Output};
use serde_json::Value;

const CHAIN_ID: &str = "nodeop-e2e";
const GENESIS_BALANCE: u128 = 1_000_000_000_000; // 1_000_000 NOP

/// The first of `names` that `v` has (the CLI's JSON field names, with their usual synonyms).
fn field<'a>(v: &'a Value, names: &[&str]) -> &'a Value {
    names
        .iter()
        .map(|n| &v[n])
        .find(|x| !x.is_null())
        .unwrap_or_else(|| panic!("none of {names:?} in {v}"))
}

fn tx_hash(out: &Output) -> String {
    let v = out.json();
    field(&v, &["hash", "txhash", "tx_hash"])
        .as_str()
        .expect("hash is a string")
        .to_uppercase()
}

/// The balance the CLI reports.
fn cli_balance(node: &Node, address: &str) -> u128 {
    let v = node
        .cli_ok(&["query", "account", address, "--output", "json"])
        .json();
    num(field(&v, &["balance"]))
}

#[test]
fn cli_transfers_move_funds_proofs_verify_and_bad_txs_are_refused_with_their_codes() {
    let alice = Key::from_seed("e2e transfers alice");
    let bob = Key::from_seed("e2e transfers bob");
    let carol = Key::from_seed("e2e transfers carol");
    let addr = |k: &Key| k.address.to_bech32();

    let mut node = Node::init("validator", CHAIN_ID);
    for k in [&alice, &bob, &carol] {
        node.add_genesis_account(&addr(k), GENESIS_BALANCE);
    }
    node.validate_genesis();
    for (name, k) in [("alice", &alice), ("bob", &bob), ("carol", &carol)] {
        node.cli_ok(&[
            "keys",
            "import",
            name,
            "--secret-hex",
            &hex::encode(k.secret_bytes()),
        ]);
    }
    let shown = node
        .cli_ok(&["keys", "show", "alice", "--output", "json"])
        .json();
    assert_eq!(
        field(&shown, &["address"]).as_str(),
        Some(addr(&alice).as_str()),
        "{shown}"
    );

    node.start();
    node.wait_for_height(2, Duration::from_secs(90));
    let supply_before = {
        let v = node.cli_ok(&["query", "supply", "--output", "json"]).json();
        num(field(&v, &["total_supply"]))
    };

    // Transfers through the CLI; the fee of each is read from the committed tx itself.
    let mut expected = [GENESIS_BALANCE; 3];
    let transfers = [
        (0usize, 1usize, 1_500_000u128),
        (1, 2, 700_000),
        (0, 2, 2_000_000),
        (2, 0, 1),
    ];
    let names = ["alice", "bob", "carol"];
    let keys = [&alice, &bob, &carol];
    for (from, to, amount) in transfers {
        let out = node.cli_ok(&[
            "tx",
            "send",
            names[from],
            &addr(keys[to]),
            &amount.to_string(),
            "--output",
            "json",
        ]);
        let hash = tx_hash(&out);
        let (height, code) = wait_for(
            &format!("tx {hash} in a block"),
            Duration::from_secs(60),
            || node.tx_result(&hash),
        );
        assert_eq!(code, 0, "transfer {hash} failed");
        let committed = node.committed_txs(height, height);
        let tx = committed
            .iter()
            .find(|t| t.hash == hash)
            .expect("the tx is in its block");
        assert_eq!(tx.signer, addr(keys[from]));
        assert_eq!(tx.sends, vec![(addr(keys[to]), amount)]);
        expected[from] -= amount + tx.fee;
        expected[to] += amount;
    }
    node.wait_for_height(node.height() + 1, Duration::from_secs(30));
    for (i, k) in keys.iter().enumerate() {
        assert_eq!(
            cli_balance(&node, &addr(k)),
            expected[i],
            "{}'s balance",
            names[i]
        );
        assert_eq!(
            node.account(&addr(k), 0).unwrap().0,
            expected[i],
            "{}'s balance via RPC",
            names[i]
        );
    }

    // A proved query: the CLI checks the ICS23 proof against the app hash of a verified header.
    let proved = node.cli_ok(&[
        "query",
        "account",
        &addr(&bob),
        "--prove",
        "--output",
        "json",
    ]);
    let v = proved.json();
    let verified = field(&v, &["verified", "proof_verified"]);
    assert_eq!(
        verified,
        &Value::Bool(true),
        "proof not verified:\n{}",
        proved.describe()
    );
    assert_eq!(num(field(&v, &["balance"])), expected[1], "{v}");
    // At a past height too: bob's balance before the transfers is the genesis balance.
    let at_1 = node.cli_ok(&[
        "query",
        "account",
        &addr(&bob),
        "--prove",
        "--height",
        "1",
        "--output",
        "json",
    ]);
    let v = at_1.json();
    assert_eq!(
        field(&v, &["verified", "proof_verified"]),
        &Value::Bool(true),
        "{}",
        at_1.describe()
    );
    assert_eq!(num(field(&v, &["balance"])), GENESIS_BALANCE, "{v}");

    // An overspend is refused by CheckTx: bank insufficient_funds (codespace bank, code 2).
    let over = node.cli(&[
        "tx",
        "send",
        "carol",
        &addr(&alice),
        &(expected[2] + 1).to_string(),
        "--output",
        "json",
    ]);
    assert!(
        !over.success(),
        "an overspend was accepted:\n{}",
        over.describe()
    );
    let text = format!("{}{}", over.stdout, over.stderr);
    assert!(
        text.contains("insufficient_funds") && text.contains("bank"),
        "the overspend's error does not name bank/insufficient_funds:\n{}",
        over.describe()
    );

    // A replayed and a future nonce, broadcast raw: codes tx/7 (nonce_replayed), tx/8 (nonce_gap).
    let params = nodeop_app::params::TxParams::default();
    let (_, nonce) = node.account(&addr(&alice), 0).unwrap();
    assert_eq!(nonce, 2, "alice sent two txs");
    let replay = alice.send(CHAIN_ID, &params, nonce - 1, &bob.address, 5);
    let (code, log, _) = node.broadcast(&replay).unwrap();
    assert_eq!(code, 7, "replayed nonce: {log}");
    assert!(
        log.starts_with("tx:") && log.contains("nonce_replayed"),
        "{log}"
    );
    let gap = alice.send(CHAIN_ID, &params, nonce + 5, &bob.address, 5);
    let (code, log, _) = node.broadcast(&gap).unwrap();
    assert_eq!(code, 8, "future nonce: {log}");
    let wrong_chain = alice.send("another-chain", &params, nonce, &bob.address, 5);
    let (code, log, _) = node.broadcast(&wrong_chain).unwrap();
    assert_eq!(code, 3, "wrong chain id: {log}");

    // Refused txs change nothing, and fees move tokens without creating or destroying any.
    node.wait_for_height(node.height() + 2, Duration::from_secs(30));
    for (i, k) in keys.iter().enumerate() {
        assert_eq!(
            cli_balance(&node, &addr(k)),
            expected[i],
            "{}'s balance after refusals",
            names[i]
        );
    }
    let v = node.cli_ok(&["query", "supply", "--output", "json"]).json();
    assert_eq!(num(field(&v, &["total_supply"])), supply_before, "{v}");

    node.stop();
}
