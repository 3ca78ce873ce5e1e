//! Every named kind of bad input is refused with its stable (codespace, code), both by CheckTx and
//! when a block holds it anyway, and it changes nothing but what the rules say (a tx that passed
//! the fee and nonce checks pays its fee even if a message fails).

use nodeop_app::modules::bank::MsgSend;
use nodeop_app::tx::{min_fee, Msg, Tx, TxBody};
use nodeop_driver::chain::{genesis, Key, TestChain};

struct Case {
    name: &'static str,
    bytes: Vec<u8>,
    codespace: &'static str,
    code: u32,
    /// Whether FinalizeBlock charges the fee (the tx passed the envelope checks).
    charged: bool,
}

fn body(chain: &TestChain, nonce: u64, msgs: Vec<Msg>) -> TxBody {
    TxBody {
        chain_id: chain.chain_id.clone(),
        nonce,
        fee: 0,
        memo: String::new(),
        msgs,
    }
}

fn with_min_fee(chain: &TestChain, key: &Key, mut b: TxBody) -> Tx {
    let len = key.sign(b.clone()).to_bytes().len();
    b.fee = min_fee(&chain.params(), len).unwrap();
    key.sign(b)
}

fn cases(chain: &TestChain, alice: &Key, bob: &Key, poor: &Key) -> Vec<Case> {
    let good = chain.send(alice, &bob.address, 10);
    let mut out = Vec::new();
    let mut c = |name, bytes, codespace, code, charged| {
        out.push(Case {
            name,
            bytes,
            codespace,
            code,
            charged,
        })
    };

    c("empty bytes", Vec::new(), "tx", 2, false);
    c(
        "truncated bytes",
        good[..good.len() - 1].to_vec(),
        "tx",
        2,
        false,
    );
    let mut trailing = good.clone();
    trailing.push(0);
    c("trailing bytes", trailing, "tx", 2, false);

    let mut b = body(chain, 0, vec![Msg::send(&bob.address, 10)]);
    b.chain_id = "other-chain".into();
    c(
        "wrong chain id",
        with_min_fee(chain, alice, b).to_bytes(),
        "tx",
        3,
        false,
    );

    let mut tx = with_min_fee(
        chain,
        alice,
        body(chain, 0, vec![Msg::send(&bob.address, 10)]),
    );
    tx.signature[10] ^= 1;
    c("bad signature", tx.to_bytes(), "tx", 5, false);

    let mut tx = with_min_fee(
        chain,
        alice,
        body(chain, 0, vec![Msg::send(&bob.address, 10)]),
    );
    tx.pubkey = bob.pubkey; // a valid key that did not sign
    c("signature by another key", tx.to_bytes(), "tx", 5, false);

    let mut tx = with_min_fee(
        chain,
        alice,
        body(chain, 0, vec![Msg::send(&bob.address, 10)]),
    );
    tx.pubkey[0] = 0x05; // not a compressed point prefix
    c("malformed pubkey", tx.to_bytes(), "tx", 4, false);

    let tx = with_min_fee(
        chain,
        alice,
        body(chain, 0, vec![Msg::send(&bob.address, 10)]),
    );
    c("high-S signature", high_s(tx).to_bytes(), "tx", 6, false);

    c(
        "nonce gap",
        with_min_fee(
            chain,
            alice,
            body(chain, 1, vec![Msg::send(&bob.address, 10)]),
        )
        .to_bytes(),
        "tx",
        8,
        false,
    );

    let mut b = body(chain, 0, vec![Msg::send(&bob.address, 10)]);
    b.fee = 1;
    c("fee too low", alice.sign(b).to_bytes(), "tx", 9, false);

    c(
        "fee not affordable",
        with_min_fee(
            chain,
            poor,
            body(chain, 0, vec![Msg::send(&bob.address, 1)]),
        )
        .to_bytes(),
        "tx",
        10,
        false,
    );

    c(
        "insufficient balance",
        with_min_fee(
            chain,
            alice,
            body(chain, 0, vec![Msg::send(&bob.address, 10_000_000)]),
        )
        .to_bytes(),
        "bank",
        2,
        true,
    );

    c(
        "amount overflow",
        with_min_fee(
            chain,
            alice,
            body(chain, 0, vec![Msg::send(&bob.address, u128::MAX - 5)]),
        )
        .to_bytes(),
        "tx",
        14,
        false,
    );

    let mut b = body(chain, 0, vec![Msg::send(&bob.address, 1)]);
    b.memo = "x".repeat(70 * 1024);
    c("oversized tx", alice.sign(b).to_bytes(), "tx", 1, false);

    c(
        "too many msgs",
        with_min_fee(
            chain,
            alice,
            body(
                chain,
                0,
                (0..17).map(|_| Msg::send(&bob.address, 1)).collect(),
            ),
        )
        .to_bytes(),
        "tx",
        12,
        false,
    );
    c(
        "no msgs",
        with_min_fee(chain, alice, body(chain, 0, vec![])).to_bytes(),
        "tx",
        11,
        false,
    );

    let mut b = body(chain, 0, vec![Msg::send(&bob.address, 1)]);
    b.memo = "m".repeat(257);
    c(
        "memo too long",
        with_min_fee(chain, alice, b).to_bytes(),
        "tx",
        13,
        false,
    );

    let bad_addr = Msg::Send(MsgSend {
        to: "nodeop1notanaddress".into(),
        amount: 5,
    });
    c(
        "malformed address",
        with_min_fee(chain, alice, body(chain, 0, vec![bad_addr])).to_bytes(),
        "bank",
        1,
        false,
    );
    let cosmos = Msg::Send(MsgSend {
        to: "cosmos1qypqxpq9qcrsszg2pvxq6rs0zqg3yyc5lzv7xu".into(),
        amount: 5,
    });
    c(
        "address of another chain",
        with_min_fee(chain, alice, body(chain, 0, vec![cosmos])).to_bytes(),
        "bank",
        1,
        false,
    );
    c(
        "zero amount",
        with_min_fee(
            chain,
            alice,
            body(chain, 0, vec![Msg::send(&bob.address, 0)]),
        )
        .to_bytes(),
        "bank",
        4,
        false,
    );
    out
}

/// The same signature with s replaced by n − s: valid ECDSA, but malleated.
fn high_s(mut tx: Tx) -> Tx {
    let sig = k256::ecdsa::Signature::from_slice(&tx.signature).unwrap();
    let (r, s) = sig.split_scalars();
    let flipped = k256::ecdsa::Signature::from_scalars(r, -*s).unwrap();
    tx.signature = flipped.to_bytes().into();
    tx
}

#[test]
fn every_named_bad_input_is_refused_by_check_tx_with_its_code() {
    let alice = Key::from_seed("alice");
    let bob = Key::from_seed("bob");
    let poor = Key::from_seed("poor");
    let mut chain = TestChain::start(&genesis(&[(alice.address, 1_000_000), (poor.address, 5)]));
    let before = chain.dump();
    for case in cases(&chain, &alice, &bob, &poor) {
        let r = chain.check(&case.bytes);
        assert_eq!(
            (r.codespace.as_str(), r.code),
            (case.codespace, case.code),
            "{}: got log {:?}",
            case.name,
            r.log
        );
        assert!(
            !r.log.is_empty(),
            "{}: a rejection must say what was wrong",
            case.name
        );
    }
    // nothing accepted: the next valid tx still uses nonce 0
    assert!(chain.check(&chain.send(&alice, &bob.address, 1)).is_ok());
    assert_eq!(
        chain.dump(),
        before,
        "CheckTx must not write committed state"
    );
}

#[test]
fn a_replayed_tx_is_refused_after_it_was_executed() {
    let alice = Key::from_seed("alice");
    let bob = Key::from_seed("bob");
    let mut chain = TestChain::start(&genesis(&[(alice.address, 1_000_000)]));
    let tx = chain.send(&alice, &bob.address, 10);
    assert!(chain.block(vec![tx.clone()]).tx_results[0].is_ok());
    let r = chain.check(&tx);
    assert_eq!((r.codespace.as_str(), r.code), ("tx", 7), "{}", r.log);
    // and in a block it does nothing at all to any account or the supply
    let bank = |c: &TestChain| -> Vec<_> {
        c.dump()
            .into_iter()
            .filter(|(k, _)| k.starts_with(b"bank/"))
            .collect()
    };
    let before = bank(&chain);
    let resp = chain.finalize_and_commit(vec![tx]);
    assert_eq!(resp.tx_results[0].code, 7);
    assert_eq!(bank(&chain), before);
}

#[test]
fn a_block_holding_bad_txs_applies_only_what_the_rules_allow() {
    let alice = Key::from_seed("alice");
    let bob = Key::from_seed("bob");
    let poor = Key::from_seed("poor");
    let mut chain = TestChain::start(&genesis(&[(alice.address, 1_000_000), (poor.address, 5)]));
    // Cases that are charged go last: they consume nonce 0, which every case is built with.
    let mut all = cases(&chain, &alice, &bob, &poor);
    all.sort_by_key(|c| c.charged);
    assert!(all.iter().filter(|c| c.charged).count() == 1);
    for case in all {
        let alice_before = chain.account(&alice.address);
        let supply_before = chain.supply();
        // Run each case in a block of its own, as a faulty proposer could.
        let resp = chain.finalize_and_commit(vec![case.bytes.clone()]);
        let r = &resp.tx_results[0];
        assert_eq!(
            (r.codespace.as_str(), r.code),
            (case.codespace, case.code),
            "{}: {}",
            case.name,
            r.log
        );
        let alice_after = chain.account(&alice.address);
        if case.charged {
            assert_eq!(alice_after.nonce, alice_before.nonce + 1, "{}", case.name);
            assert!(alice_after.balance < alice_before.balance, "{}", case.name);
        } else {
            assert_eq!(
                alice_after, alice_before,
                "{}: nothing may change",
                case.name
            );
        }
        assert_eq!(chain.balance(&bob.address), 0, "{}", case.name);
        assert_eq!(chain.supply(), supply_before, "{}", case.name);
    }
}

#[test]
fn process_proposal_refuses_only_what_an_honest_proposer_could_not_build() {
    let alice = Key::from_seed("alice");
    let bob = Key::from_seed("bob");
    let poor = Key::from_seed("poor");
    let mut chain = TestChain::start(&genesis(&[(alice.address, 1_000_000), (poor.address, 5)]));
    for case in cases(&chain, &alice, &bob, &poor) {
        let accepted = chain
            .app
            .process_proposal(std::slice::from_ref(&case.bytes));
        // stateful failures (nonce, fee affordability, message failures) can happen to an honest
        // proposer's block when state moves; stateless ones cannot
        let stateful = matches!(
            (case.codespace, case.code),
            ("tx", 7) | ("tx", 8) | ("tx", 10) | ("bank", 2)
        );
        assert_eq!(accepted, stateful, "{}", case.name);
    }
}

#[test]
fn prepare_proposal_drops_txs_that_would_not_pay_and_respects_max_bytes() {
    let alice = Key::from_seed("alice");
    let bob = Key::from_seed("bob");
    let poor = Key::from_seed("poor");
    let mut chain = TestChain::start(&genesis(&[(alice.address, 1_000_000), (poor.address, 5)]));
    let good: Vec<_> = (0..5)
        .map(|n| chain.send_with_nonce(&alice, n, &bob.address, 10))
        .collect();
    let mut mempool = vec![vec![1, 2, 3]];
    mempool.extend(good.iter().cloned());
    mempool.push(chain.send_with_nonce(&poor, 0, &bob.address, 1)); // cannot pay its fee
    mempool.push(chain.send_with_nonce(&alice, 9, &bob.address, 1)); // nonce gap
    let picked = chain.app.prepare_proposal(mempool.clone(), 1 << 20);
    assert_eq!(picked, good);

    let size = good[0].len() as u64;
    let picked = chain.app.prepare_proposal(good.clone(), size * 3 + 1);
    assert_eq!(picked, good[..3].to_vec());
}
