//! The `nodeopd` commands that prepare and check a home, run as a user would run them.
//! `init` needs the pinned CometBFT at `bin/cometbft`; those tests are skipped without it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn nodeopd(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nodeopd"))
        .args(args)
        .env_remove("RUST_LOG")
        .env_remove("NODEOP_HOME")
        .output()
        .expect("running nodeopd")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn cometbft() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../bin/cometbft");
    p.is_file().then_some(p)
}

fn init(home: &Path, bin: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "init",
        "--home",
        home.to_str().unwrap(),
        "--chain-id",
        "nodeop-cli-test",
        "--moniker",
        "val0",
        "--cometbft",
        bin.to_str().unwrap(),
        "--abci-laddr",
        "tcp://127.0.0.1:46658",
        "--rpc-laddr",
        "tcp://127.0.0.1:46657",
        "--timeout-commit",
        "500ms",
    ];
    args.extend_from_slice(extra);
    nodeopd(&args)
}

#[test]
fn init_writes_a_home_that_validates_and_refuses_to_overwrite_it() {
    let Some(bin) = cometbft() else {
        eprintln!("skipped: bin/cometbft not found");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("node");
    let h = home.to_str().unwrap();
    let out = init(&home, &bin, &[]);
    assert!(out.status.success(), "{}", text(&out));

    for f in [
        "cometbft/config/config.toml",
        "cometbft/config/genesis.json",
        "cometbft/config/priv_validator_key.json",
        "cometbft/config/node_key.json",
        "cometbft/data/priv_validator_state.json",
        "app/app.toml",
    ] {
        assert!(home.join(f).is_file(), "{f} missing");
    }
    assert!(home.join("app/data").is_dir());
    let config = std::fs::read_to_string(home.join("cometbft/config/config.toml")).unwrap();
    assert!(config.contains("proxy_app = \"tcp://127.0.0.1:46658\""));
    assert!(config.contains("laddr = \"tcp://127.0.0.1:46657\""));
    assert!(config.contains("timeout_commit = \"500ms\""));
    assert!(config.contains("moniker = \"val0\""));
    let app_toml = std::fs::read_to_string(home.join("app/app.toml")).unwrap();
    assert!(app_toml.contains("laddr = \"tcp://127.0.0.1:46658\""));

    let genesis: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(home.join("cometbft/config/genesis.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(genesis["chain_id"], "nodeop-cli-test");
    assert_eq!(genesis["initial_height"], "1");
    assert_eq!(genesis["validators"], serde_json::json!([]));
    assert_eq!(
        genesis["consensus_params"]["abci"]["vote_extensions_enable_height"],
        "0"
    );
    // this node is the genesis operator; its account key is in the CLI's keyring, HOME/keyring
    let operators = &genesis["app_state"]["staking"]["operators"];
    assert_eq!(operators.as_array().unwrap().len(), 1);
    assert_eq!(operators[0]["moniker"], "val0");
    assert_eq!(
        operators[0]["tokens"], "10000000000",
        "--self-bond's default, 10000nop"
    );
    let key: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(home.join("cometbft/config/priv_validator_key.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(operators[0]["consensus_pubkey"], key["pub_key"]["value"]);
    let key_file = home.join("keyring/operator.json");
    let operator_key: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&key_file).unwrap()).unwrap();
    let operator = operator_key["address"].as_str().unwrap().to_string();
    assert_eq!(operators[0]["address"], operator.as_str());
    assert_eq!(operator_key["kind"], "mnemonic");
    assert!(text(&out).contains(&operator), "{}", text(&out));
    assert!(
        text(&out).contains(key_file.to_str().unwrap()),
        "{}",
        text(&out)
    );
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "the key file is private: {mode:o}");
    }
    let ring = nodeop_client::Keyring::open(&home).unwrap();
    assert_eq!(ring.get("operator").unwrap().address.to_bech32(), operator);
    // the self-bond sits in bonded_pool; the operator's account can pay fees
    let bank = &genesis["app_state"]["bank"];
    let bonded = bank["module_accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "bonded_pool")
        .unwrap();
    assert_eq!(bonded["balance"], "10000000000");
    assert_eq!(bank["accounts"][0]["address"], operator.as_str());
    assert_eq!(bank["accounts"][0]["balance"], "1000000000", "1000nop");
    // the default staking params
    assert_eq!(
        genesis["app_state"]["staking"]["params"]["unbonding_time"],
        7 * 86_400
    );

    // funding accounts, in unop and in NOP
    let a = nodeop_app::crypto::Address([1; 20]).to_bech32();
    let b = nodeop_app::crypto::Address([2; 20]).to_bech32();
    let (a, b) = (a.as_str(), b.as_str());
    for (addr, amount) in [(a, "2500000"), (b, "1000nop")] {
        let out = nodeopd(&["genesis", "add-account", "--home", h, addr, amount]);
        assert!(out.status.success(), "{}", text(&out));
    }
    let out = nodeopd(&["genesis", "add-account", "--home", h, a, "1"]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("already has a genesis account"),
        "{}",
        text(&out)
    );
    let out = nodeopd(&["genesis", "add-account", "--home", h, "cosmos1xyz", "1"]);
    assert!(!out.status.success());

    let out = nodeopd(&["genesis", "validate", "--home", h]);
    assert!(out.status.success(), "{}", text(&out));
    let report = text(&out);
    assert!(report.contains("valid"), "{report}");
    assert!(report.contains("app_hash"), "{report}");
    assert!(report.contains("val0"), "{report}");
    assert!(report.contains(&operator), "{report}");
    assert!(report.contains("power    10000"), "{report}");
    assert!(report.contains("accounts        3"), "{report}");

    // a second init is refused; --overwrite keeps the keys
    let out = init(&home, &bin, &[]);
    assert!(!out.status.success());
    assert!(text(&out).contains("--overwrite"), "{}", text(&out));
    let out = init(&home, &bin, &["--overwrite"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("reused"), "{}", text(&out));
    let key_after: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(home.join("cometbft/config/priv_validator_key.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(key, key_after);
    let operator_key_after: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&key_file).unwrap()).unwrap();
    assert_eq!(operator_key, operator_key_after, "the operator key is kept");
    let out = nodeopd(&["genesis", "validate", "--home", h]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("accounts        1"), "{}", text(&out));
    assert!(text(&out).contains(&operator), "{}", text(&out));
}

#[test]
fn init_with_devnet_params_and_an_existing_operator_account_writes_no_key() {
    let Some(bin) = cometbft() else {
        eprintln!("skipped: bin/cometbft not found");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("node");
    let operator = nodeop_app::crypto::Address([5; 20]).to_bech32();
    let out = init(
        &home,
        &bin,
        &[
            "--devnet",
            "--operator-address",
            &operator,
            "--self-bond",
            "2500nop",
            "--operator-balance",
            "0",
            "--commission-ppm",
            "50000",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(!home.join("keyring").exists(), "no key was asked for");
    let genesis: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(home.join("cometbft/config/genesis.json")).unwrap(),
    )
    .unwrap();
    let staking = &genesis["app_state"]["staking"];
    assert_eq!(staking["operators"][0]["address"], operator.as_str());
    assert_eq!(staking["operators"][0]["commission_ppm"], 50_000);
    let params = &staking["params"];
    assert_eq!(
        (
            &params["unbonding_time"],
            &params["signed_blocks_window"],
            &params["downtime_jail_duration"],
            &params["epoch_seconds"]
        ),
        (
            &serde_json::json!(300),
            &serde_json::json!(100),
            &serde_json::json!(20),
            &serde_json::json!(10)
        )
    );
    assert_eq!(
        genesis["app_state"]["bank"]["accounts"],
        serde_json::json!([])
    );
    let out = nodeopd(&["genesis", "validate", "--home", home.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("power     2500"), "{}", text(&out));
    assert!(text(&out).contains("epoch 10 s"), "{}", text(&out));

    // --client-home puts the generated key in another CLI home's keyring
    let home2 = dir.path().join("node2");
    let client = dir.path().join("client");
    let out = init(
        &home2,
        &bin,
        &["--client-home", client.to_str().unwrap(), "--devnet"],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(client.join("keyring/operator.json").is_file());
    assert!(!home2.join("keyring").exists());
}

#[test]
fn init_refuses_bad_listen_addresses_before_touching_the_home() {
    let Some(bin) = cometbft() else {
        eprintln!("skipped: bin/cometbft not found");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("node");
    for extra in [
        &["--rpc-laddr", "http://127.0.0.1:1"][..],
        &["--p2p-laddr", "127.0.0.1:1"][..],
        &["--abci-laddr", "unix:///tmp/x"][..],
        &["--chain-id", ""][..],
        &["--self-bond", "999nop"][..],
        &["--self-bond", "lots"][..],
        &["--operator-balance", "-1"][..],
        &["--operator-address", "cosmos1xyz"][..],
        &["--commission-ppm", "1000001"][..],
        &["--capacity-units", "0"][..],
    ] {
        let out = init(&home, &bin, extra);
        assert!(!out.status.success(), "{extra:?}");
        assert!(!home.exists(), "{extra:?} left files behind");
    }
}

#[test]
fn add_validator_and_validate_report_every_problem_with_a_failing_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("genesis.json");
    let f = file.to_str().unwrap();
    let doc = nodeop_genesis::GenesisDoc::new(
        "nodeop-x",
        "2026-01-01T00:00:00Z",
        &nodeop_app::genesis::AppState::default(),
    )
    .unwrap();
    doc.save(&file).unwrap();

    // no validator yet: a problem
    let out = nodeopd(&["genesis", "validate", "--file", f]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("no operator can validate"),
        "{}",
        text(&out)
    );

    let operator = |n: u8| nodeop_app::crypto::Address([n; 20]).to_bech32();
    let (op1, op2, op3) = (operator(1), operator(2), operator(3));
    let key = "wLmLqz3aflSOU2WXesxiv/ebw1qbAXQJeXsVcYBKdQQ=";
    let out = nodeopd(&[
        "genesis",
        "add-validator",
        "--file",
        f,
        "--pub-key",
        key,
        "--operator",
        &op1,
        "--self-bond",
        "5000nop",
        "--moniker",
        "v1",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    for needle in [
        "06451626FA92C026AD32D024F42289C6E9C73E98",
        &op1,
        "power 5000",
    ] {
        assert!(text(&out).contains(needle), "{needle}: {}", text(&out));
    }
    let out = nodeopd(&["genesis", "validate", "--file", f]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains(&op1), "{}", text(&out));

    // the devnet staking params, when the operators still qualify
    let out = nodeopd(&["genesis", "set-staking-params", "--file", f, "--devnet"]);
    assert!(out.status.success(), "{}", text(&out));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(json["app_state"]["staking"]["params"]["epoch_seconds"], 10);

    // a key file works too; a bad key does not
    let key_file = dir.path().join("key.json");
    std::fs::write(
        &key_file,
        r#"{"pub_key":{"type":"tendermint/PubKeyEd25519","value":"3u9oF0KFeI+F5jzwWiGk7HZjOXYVCmIrT5kFR3iPa6c="}}"#,
    )
    .unwrap();
    let add = |key_flag: &str, key: &str, operator: &str, bond: &str, moniker: &str| {
        nodeopd(&[
            "genesis",
            "add-validator",
            "--file",
            f,
            key_flag,
            key,
            "--operator",
            operator,
            "--self-bond",
            bond,
            "--moniker",
            moniker,
            "--commission-ppm",
            "0",
        ])
    };
    let key_file = key_file.to_str().unwrap();
    let fresh_key = nodeop_app::serde_base64_32::encode(
        &ed25519_consensus::SigningKey::from([3; 32])
            .verification_key()
            .to_bytes(),
    );
    let out = add("--key-file", key_file, &op2, "1000nop", "v2");
    assert!(out.status.success(), "{}", text(&out));
    for (out, needle) in [
        (add("--pub-key", "AAAA", &op3, "1000nop", "v3"), "32"),
        // a reused consensus key or operator account
        (
            add("--pub-key", key, &op3, "1000nop", "v3"),
            "consensus key is already",
        ),
        (
            add("--pub-key", &fresh_key, &op1, "1000nop", "v3"),
            "already the genesis operator",
        ),
        (
            add("--key-file", key_file, "cosmos1xyz", "1000nop", "v3"),
            "--operator",
        ),
        (
            add("--pub-key", &fresh_key, &op3, "999nop", "v3"),
            "min_self_bond",
        ),
    ] {
        assert!(!out.status.success(), "{needle}");
        assert!(text(&out).contains(needle), "{needle}: {}", text(&out));
    }
    let out = nodeopd(&["genesis", "validate", "--file", f]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("operators       2"), "{}", text(&out));

    // several problems at once, each listed
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    json["chain_id"] = "".into();
    json["initial_height"] = serde_json::json!(1);
    json["genesis_time"] = "soon".into();
    std::fs::write(&file, json.to_string()).unwrap();
    let out = nodeopd(&["genesis", "validate", "--file", f]);
    assert_eq!(out.status.code(), Some(1));
    let report = text(&out);
    assert!(report.contains("3 problem(s)"), "{report}");
    assert!(report.contains("not run"), "{report}");

    let out = nodeopd(&["genesis", "validate", "--file", "/nonexistent/genesis.json"]);
    assert!(!out.status.success());
}

#[test]
fn export_explains_a_missing_or_locked_store() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let h = home.to_str().unwrap();
    let out = nodeopd(&["export", "--home", h]);
    assert!(!out.status.success());
    assert!(text(&out).contains("no store"), "{}", text(&out));

    std::fs::create_dir_all(home.join("app/data")).unwrap();
    std::fs::create_dir_all(home.join("cometbft/config")).unwrap();
    let doc = nodeop_genesis::GenesisDoc::new(
        "nodeop-x",
        "2026-01-01T00:00:00Z",
        &nodeop_app::genesis::AppState::default(),
    )
    .unwrap();
    doc.save(&home.join("cometbft/config/genesis.json"))
        .unwrap();
    let held = nodeop_app::state::Storage::open(&home.join("app/data/state.redb")).unwrap();
    let out = nodeopd(&["export", "--home", h]);
    assert!(!out.status.success());
    assert!(text(&out).contains("is nodeopd running"), "{}", text(&out));
    drop(held);
    // open but never initialised: nothing to export
    let out = nodeopd(&["export", "--home", h]);
    assert!(!out.status.success());
    assert!(text(&out).contains("no genesis"), "{}", text(&out));
}

#[test]
fn start_refuses_a_home_without_app_toml() {
    let dir = tempfile::tempdir().unwrap();
    let out = nodeopd(&["start", "--home", dir.path().to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(text(&out).contains("nodeopd init"), "{}", text(&out));
}

#[test]
fn version_prints() {
    let out = nodeopd(&["version"]);
    assert!(out.status.success());
    assert!(text(&out).contains("app version 1"));
}
