//! A block's txs are decoded and their signatures verified on `verify_threads` threads while
//! the block executes them in order on its own thread, each as soon as it is verified. Only speed
//! may depend on that: the same blocks — valid transfers mixed
//! with bad signatures, malformed bytes, replays and wrong nonces — give the same result for
//! every tx, the same events and the same app hash on one thread as on several.

use nodeop_app::state::Storage;
use nodeop_app::AppOptions;
use nodeop_driver::chain::{genesis, Key, TestChain};

fn chain(threads: usize, state: &nodeop_app::genesis::AppState) -> TestChain {
    TestChain::start_on(
        Storage::in_memory().expect("in-memory store"),
        AppOptions {
            check_invariants: true,
            verify_threads: threads,
            ..AppOptions::default()
        },
        state,
    )
}

#[test]
fn a_block_checked_on_several_threads_gives_the_same_results_and_app_hash() {
    let keys: Vec<Key> = (0..40)
        .map(|i| Key::from_seed(&format!("par{i}")))
        .collect();
    let state = genesis(
        &keys
            .iter()
            .map(|k| (k.address, 1_000_000_000_000u128))
            .collect::<Vec<_>>(),
    );
    let mut one = chain(1, &state);
    let mut many: Vec<TestChain> = [2, 3, 7].iter().map(|t| chain(*t, &state)).collect();
    let mut nonces = vec![0u64; keys.len()];
    let (mut ok, mut refused) = (0, 0);
    for block in 0..6u64 {
        let mut txs = Vec::new();
        for i in 0..150usize {
            let k = (i * 7 + block as usize) % keys.len();
            let to = keys[(k + 1) % keys.len()].address;
            let good = one.send_with_nonce(&keys[k], nonces[k], &to, 1 + i as u128);
            match i % 10 {
                // a flipped signature byte
                3 => {
                    let mut bad = good.clone();
                    let n = bad.len();
                    bad[n - 5] ^= 0x40;
                    txs.push(bad);
                }
                // garbage and truncated bytes
                5 => txs.push(vec![block as u8; 3 + i]),
                6 => txs.push(good[..good.len() / 2].to_vec()),
                // the same tx twice: the second is a replay
                8 => {
                    txs.push(good.clone());
                    txs.push(good);
                    nonces[k] += 1;
                }
                // a nonce from the future
                9 => txs.push(one.send_with_nonce(&keys[k], nonces[k] + 5, &to, 1)),
                _ => {
                    txs.push(good);
                    nonces[k] += 1;
                }
            }
        }
        let expected = one.finalize_and_commit(txs.clone());
        for c in many.iter_mut() {
            let got = c.finalize_and_commit(txs.clone());
            assert_eq!(got.tx_results.len(), expected.tx_results.len());
            if let Some(i) =
                (0..got.tx_results.len()).find(|i| got.tx_results[*i] != expected.tx_results[*i])
            {
                panic!(
                    "block {block}, tx {i}: {:?} on several threads, {:?} on one",
                    got.tx_results[i], expected.tx_results[i]
                );
            }
            assert_eq!(got.events, expected.events, "block {block}");
            assert_eq!(got.app_hash, expected.app_hash, "block {block}");
        }
        ok += expected.tx_results.iter().filter(|r| r.is_ok()).count();
        refused += expected.tx_results.iter().filter(|r| !r.is_ok()).count();
    }
    // the blocks held both kinds, many of each
    assert!(ok > 500 && refused > 200, "ok {ok}, refused {refused}");
    for c in &many {
        assert_eq!(c.app_hash(), one.app_hash());
    }
}
