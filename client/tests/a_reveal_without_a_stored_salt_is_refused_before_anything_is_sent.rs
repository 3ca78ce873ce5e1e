//! `nodeop tx task reveal` reads the salt `nodeop tx task commit` stored in the client home.
//! Without one it stops with a clear error before it signs or sends anything (the node named
//! here does not exist: reaching it would be a different error); with one stored, it gets as
//! far as asking the node.

use std::process::Command;

use nodeop_client::tasks::{SaltStore, StoredSalt};
use nodeop_client::KeyPair;

const SECRET: &str = "5555555555555555555555555555555555555555555555555555555555555555";

fn nodeop(home: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_nodeop"))
        .arg("--home")
        .arg(home)
        .args([
            "--node",
            "http://127.0.0.1:9",
            "--chain-id",
            "nodeop-devnet",
        ])
        .args(args)
        .env_remove("NODEOP_NODE")
        .env_remove("NODEOP_KEYRING_PASSPHRASE")
        .output()
        .expect("the nodeop binary runs")
}

#[test]
fn a_reveal_without_a_stored_salt_is_refused_before_anything_is_sent() {
    let home = tempfile::tempdir().unwrap();
    let imported = nodeop(
        home.path(),
        &["keys", "import", "op1", "--secret-hex", SECRET],
    );
    assert!(
        imported.status.success(),
        "{}",
        String::from_utf8_lossy(&imported.stderr)
    );
    let member = KeyPair::from_secret_hex(SECRET).unwrap().address();

    let out = nodeop(home.path(), &["tx", "task", "reveal", "op1", "7"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("no stored salt for task 7") && stderr.contains(&member.to_string()),
        "{stderr}"
    );
    assert!(stderr.contains("nodeop tx task commit"), "{stderr}");
    assert!(
        !stderr.contains("127.0.0.1:9"),
        "it asked the node: {stderr}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).is_empty());

    // --output json: one error document on stdout
    let out = nodeop(
        home.path(),
        &["--output", "json", "tx", "task", "reveal", "op1", "7"],
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["exit_code"], 1);
    assert!(doc["error"]
        .as_str()
        .unwrap()
        .contains("no stored salt for task 7"));

    // with the salt stored, the reveal goes on to the node (which is not there)
    let store = SaltStore::open(home.path());
    let path = store
        .save(&StoredSalt::with_salt(
            "nodeop-devnet",
            7,
            &member,
            b"42",
            [1; 32],
        ))
        .unwrap();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let out = nodeop(home.path(), &["tx", "task", "reveal", "op1", "7"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("no stored salt"), "{stderr}");
    assert!(stderr.contains("is the node running"), "{stderr}");
    // another chain's store is separate
    let out = Command::new(env!("CARGO_BIN_EXE_nodeop"))
        .arg("--home")
        .arg(home.path())
        .args(["--node", "http://127.0.0.1:9", "--chain-id", "nodeop-1"])
        .args(["tx", "task", "reveal", "op1", "7"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("no stored salt for task 7"));
}
