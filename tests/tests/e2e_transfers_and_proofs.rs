//! End to end, with real processes: a single-validator chain (nodeopd + cometbft), transfers sent
//! with the `nodeop` CLI, balances read back through the CLI, a proved query verified against the
//! app hash, and bad txs refused with their stable codes.

use std::time::Duration;

use nodeop_driver::chain::Key;
use nodeop_tests::net::{num, Node, Output};
use serde_json::Value;

const CHAIN_ID: &str = "nodeop-e2e";
const GENESIS_BALANCE: u128 = 1_000_000_000_000; // 1_000_000 NOP

/// The hash and block height of a tx from `nodeop tx send --output json`, after checking that
/// it was accepted and included with code 0.
fn sent_tx(out: &Output) -> (String, u64) {
    let v = out.json();
    let outcome = &v["outcome"];
    assert_eq!(
        outcome["check_tx"]["code"],
        0,
        "CheckTx refused:\n{}",
        out.describe()
    );
    assert_eq!(
        outcome["included"]["code"],
        0,
        "not included with code 0:\n{}",
        out.describe()
    );
    let hash = outcome["hash"]
        .as_str()
        .expect("outcome.hash")
        .to_uppercase();
    let height = outcome["included"]["height"]
        .as_u64()
        .expect("outcome.included.height");
    (hash, height)
}

/// The balance `nodeop query account` reports.
fn cli_balance(node: &Node, address: &str) -> u128 {
    let v = node.cli_ok(&["query", "account", address]).json();
    num(&v["account"]["balance"])
}

/// `nodeop query account --prove`: the verified record, after checking what it claims.
fn proved_account(node: &Node, address: &str, height: Option<u64>) -> Value {
    let mut args = vec!["query", "account", address, "--prove"];
    let h = height.map(|h| h.to_string());
    if let Some(h) = &h {
        args.extend(["--height", h]);
    }
    let out = node.cli(&args);
    assert!(
        out.success(),
        "the proved query failed (exit 4 = not verified):\n{}",
        out.describe()
    );
    let v = out.json()["verified"].clone();
    assert_eq!(v["exists"], true, "{v}");
    assert_eq!(v["value"]["address"], address, "{v}");
    let header = &v["header"];
    let state_height = v["height"].as_u64().expect("verified.height");
    assert_eq!(
        header["height"].as_u64(),
        Some(state_height + 1),
        "the proof is checked against header H+1: {v}"
    );
    assert_eq!(header["chain_id"], CHAIN_ID, "{v}");
    // The app hash the proof verified against is the one in the chain's own header H+1.
    assert_eq!(
        header["app_hash"].as_str().map(str::to_uppercase),
        Some(node.header_app_hash(state_height + 1).unwrap()),
        "{v}"
    );
    let (signed, total) = (num(&header["signed_power"]), num(&header["total_power"]));
    assert!(
        3 * signed > 2 * total,
        "header signed by {signed} of {total} power: {v}"
    );
    if let Some(h) = height {
        assert_eq!(state_height, h, "{v}");
    }
    v
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
    let shown = node.cli_ok(&["keys", "show", "alice"]).json();
    assert_eq!(
        shown["address"].as_str(),
        Some(addr(&alice).as_str()),
        "{shown}"
    );

    node.start();
    node.wait_for_height(2, Duration::from_secs(90));
    let supply_before = {
        let v = node.cli_ok(&["query", "supply"]).json();
        num(&v["supply"]["total_supply"])
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
    let mut sent = Vec::new();
    for (from, to, amount) in transfers {
        let out = node.cli_ok(&[
            "tx",
            "send",
            names[from],
            &addr(keys[to]),
            &amount.to_string(),
        ]);
        let (hash, height) = sent_tx(&out);
        sent.push((hash.clone(), height));
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
    // CometBFT's tx index (app.toml [events] index, default): found by recipient and by
    // signer; amounts are not indexed, so a search by amount finds nothing.
    let search = |query: &str| -> Vec<String> {
        let q: String = format!("\"{query}\"")
            .bytes()
            .map(|b| match b {
                b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'_' | b'-' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect();
        let v = nodeop_tests::net::rpc(node.rpc_port, &format!("/tx_search?query={q}"))
            .unwrap_or_else(|e| panic!("tx_search {query}: {e}"));
        let mut hashes: Vec<String> = v["txs"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|t| t["hash"].as_str().map(str::to_uppercase))
                    .collect()
            })
            .unwrap_or_default();
        hashes.sort();
        hashes
    };
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    assert_eq!(
        search(&format!("transfer.recipient='{}'", addr(&carol))),
        sorted(vec![sent[1].0.clone(), sent[2].0.clone()]),
        "carol's incoming transfers"
    );
    assert_eq!(
        search(&format!("tx.signer='{}'", addr(&alice))),
        sorted(vec![sent[0].0.clone(), sent[2].0.clone()]),
        "alice's txs"
    );
    assert_eq!(search("transfer.amount='1500000'"), Vec::<String>::new());

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

    // A proved query: the CLI checks the ICS23 proof against the app hash of header H+1, which
    // it checks against the validator set's signatures.
    let v = proved_account(&node, &addr(&bob), None);
    assert_eq!(num(&v["value"]["balance"]), expected[1], "{v}");
    // At a past height too: at height 1 bob still had his genesis balance.
    let v = proved_account(&node, &addr(&bob), Some(1));
    assert_eq!(num(&v["value"]["balance"]), GENESIS_BALANCE, "{v}");
    assert_eq!(num(&v["value"]["nonce"]), 0, "{v}");

    // An overspend is refused by CheckTx: bank insufficient_funds (codespace bank, code 2).
    let over = node.cli(&[
        "tx",
        "send",
        "carol",
        &addr(&alice),
        &(expected[2] + 1).to_string(),
    ]);
    assert_eq!(
        over.status.code(),
        Some(3),
        "an overspend was not refused:\n{}",
        over.describe()
    );
    let check = &over.json()["outcome"]["check_tx"];
    assert_eq!(
        (check["codespace"].as_str(), check["code"].as_u64()),
        (Some("bank"), Some(2)),
        "{check}"
    );
    assert!(
        check["log"]
            .as_str()
            .unwrap_or_default()
            .contains("insufficient_funds"),
        "{check}"
    );

    // A replayed nonce through the CLI: tx/7 (nonce_replayed).
    let (_, nonce) = node.account(&addr(&alice), 0).unwrap();
    assert_eq!(nonce, 2, "alice sent two txs");
    let replayed = node.cli(&["tx", "send", "alice", &addr(&bob), "5", "--nonce", "0"]);
    assert_eq!(replayed.status.code(), Some(3), "{}", replayed.describe());
    let check = &replayed.json()["outcome"]["check_tx"];
    assert_eq!(
        (check["codespace"].as_str(), check["code"].as_u64()),
        (Some("tx"), Some(7)),
        "{check}"
    );

    // The same and a future nonce, and a wrong chain id, broadcast raw: tx/7, tx/8, tx/3.
    let params = node.tx_params();
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
    let v = node.cli_ok(&["query", "supply"]).json();
    assert_eq!(num(&v["supply"]["total_supply"]), supply_before, "{v}");

    // CometBFT's tx index serves every committed tx (`/tx`, `nodeop query tx`).
    for (hash, height) in &sent {
        assert_eq!(
            node.tx_result(hash),
            Some((*height, 0)),
            "/tx does not serve committed tx {hash} (height {height}){}",
            node.index_errors()
        );
        let v = node.cli_ok(&["query", "tx", hash]).json();
        assert!(v.to_string().contains(hash.as_str()), "{v}");
    }

    node.stop();
}
