//! End to end, on a real one-validator network: wallets that speak the Cosmos SDK's transaction
//! format send nodeop txs (docs/wallets.md).
//!
//! - `nodeop tx send --sign-mode direct` and `nodeop tx send` (borsh) from one account, one
//!   after the other: both included, one nonce sequence, and `nodeop query tx` decodes both.
//! - CosmJS from npm (tests/js, pinned in package-lock.json): a `DirectSecp256k1HdWallet` from a
//!   mnemonic, `SigningStargateClient.connectWithSigner` with a `Registry` read from `proto/`,
//!   `signAndBroadcast` of a `cosmos.bank` MsgSend and of a `MsgPostTask` with `"auto"` fees;
//!   both execute, and `getBalance` / `getAccount` agree with `nodeop query account`.
//!
//! The CosmJS half needs Node.js and the packages `npm ci` installs in tests/js (scripts/test.sh
//! runs it). Without `node` on PATH it is skipped with a message saying so; with `node` but
//! without tests/js/node_modules it fails, saying to run `npm ci --prefix tests/js`.

use std::process::Command;
use std::time::Duration;

use nodeop_tests::net::{num, run, workspace_root};
use nodeop_tests::testnet::{included_ok, Testnet, TestnetOptions};
use serde_json::Value;

const CHAIN_ID: &str = "nodeop-e2e-wallets";
const NOP: u128 = 1_000_000;
/// The CosmJS wallet's mnemonic: a public test key, funded only in this test's genesis.
const MNEMONIC: &str = "cheese carpet zebra climb hire float champion immune magnet benefit \
                        hello wool property phone utility blood category sign mixed rent seed \
                        column damage blossom";
const RECIPIENT: &str = "nodeop1qgpqyqszqgpqyqszqgpqyqszqgpqyqszdfa5e6";
const TASK_FEE: u128 = 1_000_003;

fn json(out: &nodeop_tests::net::Output, what: &str) -> Value {
    assert!(out.success(), "{what}:\n{}", out.describe());
    serde_json::from_str(out.stdout.trim()).unwrap_or_else(|e| panic!("{what}: not JSON ({e})"))
}

fn node_available() -> bool {
    Command::new("node")
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

#[test]
fn cosmjs_and_the_cli_sign_in_direct_mode_and_the_chain_executes_both() {
    let root = workspace_root();
    let options = TestnetOptions {
        validators: 1,
        ..TestnetOptions::new(CHAIN_ID)
    };
    // the wallet's address: the CLI derives it from the mnemonic as every Cosmos wallet does
    // (m/44'/118'/0'/0/0), and CosmJS must find the same one below
    let scratch = tempfile::tempdir().unwrap();
    let mnemonic_file = scratch.path().join("mnemonic");
    std::fs::write(&mnemonic_file, MNEMONIC).unwrap();
    let bins = nodeop_tests::net::Binaries::locate();
    let client_home = scratch.path().join("client");
    let import = run(
        Command::new(&bins.nodeop)
            .arg("--home")
            .arg(&client_home)
            .args([
                "--output",
                "json",
                "keys",
                "import",
                "wallet",
                "--mnemonic-file",
            ])
            .arg(&mnemonic_file),
        Duration::from_secs(30),
    );
    let wallet = json(&import, "keys import")["address"]
        .as_str()
        .unwrap()
        .to_string();
    let options = options.fund(&wallet, 100_000 * NOP);
    let mut net = Testnet::new("wallets", &options);
    net.start();

    // --- the CLI, both envelopes from one account ---
    let send = |net: &mut Testnet, mode: &str, amount: &str| {
        let out = net.v(0).cli_as(
            &client_home,
            &[
                "tx",
                "send",
                "wallet",
                RECIPIENT,
                amount,
                "--sign-mode",
                mode,
            ],
        );
        let v = json(&out, &format!("tx send --sign-mode {mode}"));
        (included_ok(&format!("tx send --sign-mode {mode}"), &out), v)
    };
    let (h1, direct) = send(&mut net, "direct", "3nop");
    let (h2, borsh) = send(&mut net, "nodeop", "4nop");
    assert_eq!(direct["tx"]["nonce"], 0);
    assert_eq!(borsh["tx"]["nonce"], 1);
    eprintln!("direct send in block {h1}, borsh send in block {h2}");
    let hash = direct["outcome"]["hash"].as_str().unwrap();
    let shown = json(
        &net.v(0).cli_as(&client_home, &["query", "tx", hash]),
        "query tx",
    );
    assert_eq!(shown["tx"]["signer"], wallet.as_str(), "{shown}");
    assert_eq!(shown["tx"]["msgs"][0]["type"], "bank.send", "{shown}");
    assert!(hex::decode(shown["tx_hex"].as_str().unwrap()).unwrap()[0] == 0x0a);
    net.wait_app_height(0, h2);
    assert_eq!(net.balance(0, RECIPIENT, 0), 7 * NOP);

    // --- CosmJS ---
    if !node_available() {
        eprintln!(
            "SKIPPED the CosmJS half: `node` is not on PATH (install Node.js 18 or later and run \
             `npm ci --prefix tests/js` to run it)"
        );
        return;
    }
    let js = root.join("tests").join("js");
    assert!(
        js.join("node_modules")
            .join("@cosmjs")
            .join("stargate")
            .is_dir(),
        "tests/js has no node_modules: run `npm ci --prefix tests/js` (scripts/test.sh does)"
    );
    let out = run(
        Command::new("node")
            .arg(js.join("cosmjs.mjs"))
            .current_dir(&js)
            .env("NODEOP_RPC", net.v(0).rpc_url())
            .env("NODEOP_MNEMONIC", MNEMONIC)
            .env("NODEOP_RECIPIENT", RECIPIENT)
            .env("NODEOP_TASK_FEE", TASK_FEE.to_string())
            .env("NODEOP_PROTO_DIR", root.join("proto")),
        Duration::from_secs(180),
    );
    assert!(
        out.success(),
        "node tests/js/cosmjs.mjs:\n{}",
        out.describe()
    );
    let seen: Value = serde_json::from_str(out.stdout.trim().lines().last().unwrap()).unwrap();
    eprintln!("CosmJS saw: {seen}");
    assert_eq!(
        seen["sender"],
        wallet.as_str(),
        "CosmJS derived another address"
    );
    assert_eq!(seen["types"].as_array().unwrap().len(), 20, "{seen}");
    let post_height = seen["post"]["height"].as_u64().unwrap();
    assert!(
        seen["post"]["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e == "task_posted"),
        "{seen}"
    );
    net.wait_app_height(0, post_height);
    // what CosmJS read agrees with `nodeop query account`
    let query = |who: &str| {
        json(
            &net.validators[0].cli_as(&client_home, &["query", "account", who]),
            "query account",
        )["account"]
            .clone()
    };
    let sender = query(&wallet);
    let recipient = query(RECIPIENT);
    assert_eq!(num(&recipient["balance"]), 7 * NOP + 1_234_567);
    assert_eq!(
        seen["recipientBalance"],
        num(&recipient["balance"]).to_string()
    );
    assert_eq!(seen["senderBalance"], num(&sender["balance"]).to_string());
    assert_eq!(seen["account"]["sequence"], sender["nonce"], "{sender}");
    assert_eq!(sender["nonce"], 4, "two CLI txs and two CosmJS txs");
    assert_eq!(seen["account"]["accountNumber"], 0);
    assert_eq!(
        seen["allBalances"],
        serde_json::json!([{ "denom": "unop", "amount": (7 * NOP + 1_234_567).to_string() }])
    );
}
