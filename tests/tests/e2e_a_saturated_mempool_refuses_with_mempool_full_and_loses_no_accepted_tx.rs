//! End to end, with real processes: one node with a small mempool (`nodeopd init
//! --mempool-size 200`, so app.toml's `[mempool] max_txs` is 190) is driven past saturation by
//! 8 sender threads, each sending transfers from 4 accounts as fast as CheckTx answers. A
//! sender told `mempool_full` waits for the next block and sends the same tx again, as a wallet
//! does. Once the load stops and the mempool has drained:
//! - some new txs were refused, every one of them with `tx` code 16 `mempool_full`;
//! - every tx CheckTx accepted (code 0) is in a block and executed with code 0;
//! - no account is stalled: its nonce equals its executed txs and its accepted txs, and a
//!   fresh tx from it still gets in and executes.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use nodeop_driver::chain::Key;
use nodeop_tests::net::{rpc, Node, NodeOptions};

const CHAIN_ID: &str = "nodeop-e2e";
const GENESIS_BALANCE: u128 = 1_000_000_000_000;
const SENDERS: usize = 8;
const ACCOUNTS_PER_SENDER: usize = 4;
const MEMPOOL_SIZE: u64 = 200;
/// How long the senders send.
const LOAD: Duration = Duration::from_secs(20);

#[derive(Default)]
struct Tally {
    /// `(account, tx hash)` of every tx CheckTx accepted.
    accepted: Vec<(usize, String)>,
    /// Refusals by `(codespace, code)`, with one log line of each.
    refused: BTreeMap<(String, u64), (u64, String)>,
    /// `(account, error)` of broadcasts that got no CheckTx answer: the account stops sending,
    /// as its tx may or may not be in the mempool.
    rpc_errors: Vec<(usize, String)>,
}

fn height(port: u16) -> Option<u64> {
    rpc(port, "/status").ok()?["sync_info"]["latest_block_height"]
        .as_str()?
        .parse()
        .ok()
}

/// Waits (at most 10 s) for a block above `h`.
fn wait_for_block_after(port: u16, h: u64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if height(port).is_some_and(|now| now > h) {
            return;
        }
        thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn e2e_a_saturated_mempool_refuses_with_mempool_full_and_loses_no_accepted_tx() {
    let started = Instant::now();
    let options = NodeOptions {
        mempool_size: Some(MEMPOOL_SIZE),
        ..NodeOptions::default()
    };
    let mut node = Node::init_with("mempool", CHAIN_ID, &options);
    let app_toml = std::fs::read_to_string(node.home.join("app/app.toml")).unwrap();
    assert!(app_toml.contains("max_txs = 190\n"), "{app_toml}");
    let accounts: Vec<Key> = (0..SENDERS * ACCOUNTS_PER_SENDER)
        .map(|i| Key::from_seed(&format!("mempool-sender-{i}")))
        .collect();
    for k in &accounts {
        node.add_genesis_account(&k.address.to_bech32(), GENESIS_BALANCE);
    }
    let recipient = Key::from_seed("mempool-recipient").address;
    node.start();
    node.wait_for_height(2, Duration::from_secs(60));
    let params = node.tx_params();
    let port = node.rpc_port;

    let tally = Arc::new(Mutex::new(Tally::default()));
    let load_start = Instant::now();
    let first_height = node.height();
    let threads: Vec<_> = (0..SENDERS)
        .map(|s| {
            let tally = tally.clone();
            let params = params.clone();
            let mine: Vec<(usize, Key)> = (s * ACCOUNTS_PER_SENDER..(s + 1) * ACCOUNTS_PER_SENDER)
                .map(|i| (i, accounts[i].clone()))
                .collect();
            thread::spawn(move || {
                let mut nonces = vec![0u64; mine.len()];
                let mut stopped = vec![false; mine.len()];
                let mut amount = 1_000u128 + s as u128 * 1_000_000;
                let mut turn = 0usize;
                while load_start.elapsed() < LOAD && stopped.iter().any(|s| !s) {
                    let j = turn % mine.len();
                    turn += 1;
                    if stopped[j] {
                        continue;
                    }
                    let (account, key) = &mine[j];
                    amount += 1;
                    let tx = key.send(CHAIN_ID, &params, nonces[j], &recipient, amount);
                    let path = format!("/broadcast_tx_sync?tx=0x{}", hex::encode(&tx));
                    // the same tx again after each `mempool_full`, once a block went by
                    loop {
                        let before = height(port).unwrap_or(0);
                        match rpc(port, &path) {
                            Ok(r) if r["code"].as_u64() == Some(0) => {
                                let hash = r["hash"].as_str().unwrap_or_default().to_uppercase();
                                tally.lock().unwrap().accepted.push((*account, hash));
                                nonces[j] += 1;
                                break;
                            }
                            Ok(r) => {
                                let codespace = r["codespace"].as_str().unwrap_or("").to_string();
                                let code = r["code"].as_u64().unwrap_or(u64::MAX);
                                let full = codespace == "tx" && code == 16;
                                {
                                    let mut t = tally.lock().unwrap();
                                    let entry = t
                                        .refused
                                        .entry((codespace, code))
                                        .or_insert((0, r["log"].to_string()));
                                    entry.0 += 1;
                                }
                                if !full {
                                    stopped[j] = true;
                                    break;
                                }
                                if load_start.elapsed() >= LOAD {
                                    break;
                                }
                                wait_for_block_after(port, before);
                            }
                            Err(e) => {
                                tally.lock().unwrap().rpc_errors.push((*account, e));
                                stopped[j] = true;
                                break;
                            }
                        }
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("a sender thread panicked");
    }
    let load_end_height = node.height();

    // the mempool drains
    let drain_start = Instant::now();
    let mut unconfirmed = u64::MAX;
    while drain_start.elapsed() < Duration::from_secs(60) {
        unconfirmed = rpc(port, "/num_unconfirmed_txs")
            .ok()
            .and_then(|r| r["n_txs"].as_str()?.parse().ok())
            .unwrap_or(u64::MAX);
        if unconfirmed == 0 {
            break;
        }
        thread::sleep(Duration::from_millis(200));
    }
    let tally = std::mem::take(&mut *tally.lock().unwrap());
    assert_eq!(unconfirmed, 0, "the mempool did not drain in 60 s");
    let last = node.height();
    node.wait_for_height(last + 1, Duration::from_secs(30));

    // every block's txs
    let committed = node.committed_txs(1, last);
    let executed: BTreeMap<&str, (u64, u32)> = committed
        .iter()
        .map(|t| (t.hash.as_str(), (t.height, t.code)))
        .collect();
    let mut in_blocks: BTreeMap<String, u64> = BTreeMap::new();
    for t in &committed {
        *in_blocks.entry(t.signer.clone()).or_default() += 1;
    }
    let lost: Vec<&String> = tally
        .accepted
        .iter()
        .map(|(_, h)| h)
        .filter(|h| !executed.contains_key(h.as_str()))
        .collect();
    let failed: Vec<(&String, u32)> = tally
        .accepted
        .iter()
        .filter_map(|(_, h)| match executed.get(h.as_str()) {
            Some((_, code)) if *code != 0 => Some((h, *code)),
            _ => None,
        })
        .collect();

    // every account: nonce = txs in blocks = txs accepted; then a fresh tx gets in
    let mut accepted_by: BTreeMap<usize, u64> = BTreeMap::new();
    for (a, _) in &tally.accepted {
        *accepted_by.entry(*a).or_default() += 1;
    }
    let mut mismatched = Vec::new();
    let mut fresh = Vec::new();
    let mut stalled = BTreeSet::new();
    for (i, k) in accounts.iter().enumerate() {
        let address = k.address.to_bech32();
        let (_, nonce) = node.account(&address, 0).expect("account query");
        let blocks = in_blocks.get(&address).copied().unwrap_or(0);
        let accepted = accepted_by.get(&i).copied().unwrap_or(0);
        // a broadcast without an answer may have got in: one tx more than accepted then
        let uncertain = tally.rpc_errors.iter().any(|(a, _)| *a == i);
        let accepted_ok = nonce == accepted || (uncertain && nonce == accepted + 1);
        if nonce != blocks || !accepted_ok {
            mismatched.push(format!(
                "account {i}: nonce {nonce}, {blocks} txs in blocks, {accepted} accepted"
            ));
        }
        let tx = k.send(CHAIN_ID, &params, nonce, &recipient, 7);
        let (code, log, hash) = node.broadcast(&tx).expect("broadcast of a fresh tx");
        if code == 0 {
            fresh.push((i, address, nonce, hash));
        } else {
            stalled.insert(i);
            eprintln!("account {i}: fresh tx at nonce {nonce} refused: {code} {log}");
        }
    }
    let fresh_deadline = Instant::now() + Duration::from_secs(30);
    for (i, address, nonce, hash) in &fresh {
        loop {
            let now = node.account(address, 0).map(|(_, n)| n).unwrap_or(0);
            // CometBFT indexes a block's txs after the app has committed it: once the nonce
            // moved, wait for the tx's indexed result before judging it
            if now > *nonce {
                if let Some((_, code)) = node.tx_result(hash) {
                    if code != 0 {
                        stalled.insert(*i);
                    }
                    break;
                }
            }
            if Instant::now() > fresh_deadline {
                stalled.insert(*i);
                break;
            }
            thread::sleep(Duration::from_millis(100));
        }
    }

    let full = tally
        .refused
        .get(&("tx".to_string(), 16))
        .map_or(0, |(n, _)| *n);
    let other_refusals: Vec<String> = tally
        .refused
        .iter()
        .filter(|((cs, code), _)| !(cs == "tx" && *code == 16))
        .map(|((cs, code), (n, log))| format!("{n} × {cs}/{code}: {log}"))
        .collect();
    let blocks_under_load = load_end_height.saturating_sub(first_height);
    println!(
        "load {:.1} s over {blocks_under_load} blocks ({} senders, {} accounts, mempool size \
         {MEMPOOL_SIZE}, app max_txs 190)",
        LOAD.as_secs_f64(),
        SENDERS,
        accounts.len()
    );
    println!(
        "accepted {} ({:.0} tx/s); refused mempool_full {full}; other \
         refusals {}; rpc errors {}",
        tally.accepted.len(),
        tally.accepted.len() as f64 / LOAD.as_secs_f64(),
        other_refusals.len(),
        tally.rpc_errors.len()
    );
    println!(
        "executed {} txs in blocks 1..={last}; accepted but not in a block {}; accepted but \
         failed {}; accounts stalled {}; accounts whose nonce disagrees {}",
        committed.len(),
        lost.len(),
        failed.len(),
        stalled.len(),
        mismatched.len()
    );
    for (cs_code, (n, log)) in &tally.refused {
        println!("  refused {n} × {cs_code:?}, e.g. {log}");
    }
    for (a, e) in tally.rpc_errors.iter().take(5) {
        println!("  rpc error (account {a}): {e}");
    }
    println!("runtime {:.1} s", started.elapsed().as_secs_f64());

    assert!(
        full > 0,
        "the node was never driven past saturation: no mempool_full refusal"
    );
    assert!(
        other_refusals.is_empty(),
        "refusals other than mempool_full: {other_refusals:#?}"
    );
    assert!(
        lost.is_empty(),
        "{} txs CheckTx accepted are in no block, e.g. {:?}",
        lost.len(),
        &lost[..lost.len().min(5)]
    );
    assert!(failed.is_empty(), "accepted txs that failed: {failed:?}");
    assert!(mismatched.is_empty(), "nonces disagree: {mismatched:#?}");
    assert!(stalled.is_empty(), "stalled accounts: {stalled:?}");
}
