//! nodeopd verifies a new tx's signature before it takes the lock that serialises the app
//! (`tx::preverify`), and CheckTx then skips only the signature whose tx hash that returned. The
//! verdicts are the same as the full check's: a good tx is accepted, a tampered one refused with
//! `invalid_signature` whatever other hash was verified, and garbage is refused for what it is.

use nodeop_app::block::CheckKind;
use nodeop_app::crypto::Verifier;
use nodeop_app::tx::{preverify, tx_hash};
use nodeop_driver::chain::{genesis, Key, TestChain};

#[test]
fn a_signature_verified_before_the_app_lock_is_the_same_check() {
    let alice = Key::from_seed("alice");
    let bob = Key::from_seed("bob");
    let mut chain = TestChain::start(&genesis(&[(alice.address, 1_000_000_000)]));
    let verifier = Verifier::default();

    let good = chain.send(&alice, &bob.address, 5);
    assert_eq!(preverify(&good, &verifier), Some(tx_hash(&good)));

    // a flipped signature byte, or a changed amount under the old signature
    let mut bad_sig = good.clone();
    let n = bad_sig.len();
    bad_sig[n - 3] ^= 0x01;
    let other = chain.send(&alice, &bob.address, 6);
    let mut swapped = other.clone();
    let sig_at = swapped.len() - 64;
    swapped[sig_at..].copy_from_slice(&good[sig_at..]);
    for (name, tx) in [
        ("flipped signature", &bad_sig),
        ("swapped signature", &swapped),
    ] {
        assert_eq!(preverify(tx, &verifier), None, "{name}");
        // even with another tx's verified hash, the signature of this one is checked
        let out = chain
            .app
            .check_tx_preverified(tx, CheckKind::New, Some(tx_hash(&good)));
        assert_eq!(
            (out.codespace.as_str(), out.code),
            ("tx", 5),
            "{name}: {}",
            out.log
        );
    }
    // garbage: nothing to verify; the full check names the fault
    assert_eq!(preverify(b"not a tx", &verifier), None);
    assert_eq!(preverify(&[], &verifier), None);
    let out = chain
        .app
        .check_tx_preverified(b"not a tx", CheckKind::New, None);
    assert_eq!((out.codespace.as_str(), out.code), ("tx", 2), "{}", out.log);

    // the good tx, verified outside, is accepted exactly as by the full check
    let pre = preverify(&good, &verifier);
    let out = chain.app.check_tx_preverified(&good, CheckKind::New, pre);
    assert!(out.is_ok(), "{}", out.log);
    let block = chain.finalize_and_commit(vec![good]);
    assert!(block.tx_results[0].is_ok());
    assert_eq!(chain.balance(&bob.address), 5);
}
