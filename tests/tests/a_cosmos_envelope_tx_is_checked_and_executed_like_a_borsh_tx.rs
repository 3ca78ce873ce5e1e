//! The Cosmos SDK envelope (`docs/wallets.md`): a `TxRaw` signed in `SIGN_MODE_DIRECT` by
//! `cosmrs` (or built field by field) goes through the same checks, nonce sequence, handlers and
//! codes as a borsh tx; every mistake a wallet could make is refused with its own code in CheckTx
//! and in a block; the queries CosmJS makes answer; `proto/` and the Rust types agree.

use std::collections::{BTreeMap, BTreeSet};

use cosmos_sdk_proto::cosmos::auth::v1beta1::{
    BaseAccount, QueryAccountRequest, QueryAccountResponse,
};
use cosmos_sdk_proto::cosmos::bank::v1beta1::{
    QueryAllBalancesRequest, QueryAllBalancesResponse, QueryBalanceRequest, QueryBalanceResponse,
};
use cosmos_sdk_proto::cosmos::tx::v1beta1::{SimulateRequest, SimulateResponse, Tx as CosmosTx};
use nodeop_app::app::TxOutcome;
use nodeop_app::cosmos::proto::{self, TYPE_URLS};
use nodeop_app::cosmos::{cosmos_send, msg_to_any, query as cq, MULTISIG_PUBKEY};
use nodeop_app::crypto::Address;
use nodeop_app::error::TxError;
use nodeop_app::modules::coprocessors::{
    MsgAddCollateral, MsgBid, MsgEditCoprocessor, MsgOpenAuction, MsgRegisterCoprocessor,
    MsgWithdrawCollateral,
};
use nodeop_app::modules::slashing::Offence;
use nodeop_app::modules::staking::MsgEditOperator;
use nodeop_app::modules::tasks::Consistency;
use nodeop_app::tx::Msg;
use nodeop_driver::chain::{
    consensus_key, genesis, genesis_operator, msgs as staking_msgs, slash_msgs, Key, TestChain,
};
use nodeop_driver::cosmos::{mode_info, unop, Any, CosmosParts, ModeInfo, SignMode, TxRaw};
use nodeop_driver::tasks::{exact_task, posted_id};
use prost::Message;

const NOP: u128 = 1_000_000;

/// A tx built and signed with cosmrs, the way a Rust wallet does it.
fn cosmrs_tx(
    key: &Key,
    chain_id: &str,
    nonce: u64,
    fee: u128,
    memo: &str,
    messages: Vec<Any>,
) -> Vec<u8> {
    use cosmrs::tx::{Body, Fee, SignDoc, SignerInfo};
    let signing = cosmrs::crypto::secp256k1::SigningKey::from_slice(&key.secret_bytes()).unwrap();
    let body = Body::new(messages, memo, 0u32);
    let auth_info = SignerInfo::single_direct(Some(signing.public_key()), nonce).auth_info(
        Fee::from_amount_and_gas(
            cosmrs::Coin {
                denom: "unop".parse().unwrap(),
                amount: fee,
            },
            200_000u64,
        ),
    );
    let doc = SignDoc::new(&body, &auth_info, &chain_id.parse().unwrap(), 0).unwrap();
    doc.sign(&signing).unwrap().to_bytes().unwrap()
}

/// An event as (type, [(key, value)]).
type EventPairs = (String, Vec<(String, String)>);

/// The result without what depends on the tx's bytes (its hash).
fn comparable(o: &TxOutcome) -> (u32, String, String, Vec<EventPairs>) {
    let events = o
        .events
        .iter()
        .map(|e| {
            let attrs = e
                .attributes
                .iter()
                .filter(|a| a.key != "tx_hash")
                .map(|a| (a.key.clone(), a.value.clone()))
                .collect();
            (e.kind.clone(), attrs)
        })
        .collect();
    (o.code, o.codespace.clone(), o.log.clone(), events)
}

#[test]
fn every_message_type_signed_with_cosmrs_has_the_same_outcome_and_app_hash_as_in_a_borsh_tx() {
    let alice = Key::from_seed("alice");
    let carol = Key::from_seed("carol");
    let dave = Key::from_seed("dave");
    let bob = Key::from_seed("bob");
    let (op, _) = genesis_operator();
    let app_state = genesis(&[
        (alice.address, 100_000 * NOP),
        (carol.address, 10_000 * NOP),
        (dave.address, 10_000 * NOP),
    ]);
    let mut borsh_chain = TestChain::start(&app_state);
    let mut cosmos_chain = TestChain::start(&app_state);
    // one fee both envelopes meet, so that balances (and app hashes) stay equal
    let fee = 100_000;
    let salt = [9u8; 32];
    let mut task = 0;
    let mut proposal = 0;
    let mut member = op.clone();
    let mut ok = BTreeSet::new();
    let mut reached_handler = BTreeSet::new();
    for step in 0..21 {
        let (key, msg): (&Key, Msg) = match step {
            0 => (&alice, Msg::send(&bob.address, 1_000)),
            1 => (
                &carol,
                staking_msgs::register(consensus_key("carol"), "carol", 1_000 * NOP),
            ),
            2 => (
                &carol,
                MsgEditOperator {
                    moniker: Some("carol-2".into()),
                    capacity_units: None,
                    region: None,
                    commission_ppm: Some(50_000),
                }
                .into(),
            ),
            3 => (&alice, Msg::delegate(&carol.address, 500 * NOP)),
            4 => (&alice, Msg::undelegate(&carol.address, 100 * NOP)),
            5 => (&carol, Msg::unjail()),
            6 => (
                &alice,
                slash_msgs::statement(&carol.address, Offence::Performance, 7, 1),
            ),
            7 => (&carol, Msg::dispute_slash(proposal, "it was delivered")),
            8 => (&op, Msg::vote_dispute(proposal, false)),
            9 => (&alice, exact_task(Consistency::Eventual, 50 * NOP).into()),
            10 => (
                &member,
                Msg::commit_result(task, &member.address, b"42", &salt),
            ),
            11 => (&member, Msg::reveal_result(task, b"42", &salt)),
            12 => (&member, Msg::confirm_submission(task, "consumer#1")),
            13 => (&alice, Msg::claim_vested()),
            14 => (
                &dave,
                MsgRegisterCoprocessor {
                    capacity_units: 10,
                    collateral: 100 * NOP,
                    moniker: "dave".into(),
                }
                .into(),
            ),
            15 => (
                &dave,
                MsgEditCoprocessor {
                    capacity_units: Some(12),
                    moniker: None,
                }
                .into(),
            ),
            16 => (&dave, MsgAddCollateral { amount: 10 * NOP }.into()),
            17 => (&dave, MsgWithdrawCollateral { amount: NOP }.into()),
            18 => (
                &member,
                MsgOpenAuction {
                    task_id: task,
                    start_price: 10 * NOP,
                    floor_price: NOP,
                }
                .into(),
            ),
            19 => (&dave, MsgBid { auction_id: 1 }.into()),
            _ => (&alice, Msg::send(&bob.address, 2_000)),
        };
        if step == 11 {
            // the reveal window opens after the commit window ends
            let state = nodeop_app::modules::tasks::state::task(borsh_chain.app.storage(), task);
            let commit_end = state.expect("the task").current_round().commit_end;
            while borsh_chain.height <= commit_end {
                let (a, b) = (
                    borsh_chain.block(Vec::new()),
                    cosmos_chain.block(Vec::new()),
                );
                assert_eq!(a.app_hash, b.app_hash);
            }
        }
        let nonce = borsh_chain.account(&key.address).nonce;
        assert_eq!(nonce, cosmos_chain.account(&key.address).nonce);
        let borsh_tx = borsh_chain.tx_with_nonce_and_fee(key, nonce, fee, vec![msg.clone()]);
        // the last step is a wallet's ordinary Send, /cosmos.bank.v1beta1.MsgSend
        let any = if step == 20 {
            cosmos_send(&key.address, &bob.address, 2_000)
        } else {
            msg_to_any(&msg)
        };
        let cosmos_tx = cosmrs_tx(key, &cosmos_chain.chain_id, nonce, fee, "", vec![any]);
        let a = borsh_chain.block(vec![borsh_tx]);
        let b = cosmos_chain.block(vec![cosmos_tx]);
        let (ra, rb) = (&a.tx_results[0], &b.tx_results[0]);
        assert_eq!(
            comparable(ra),
            comparable(rb),
            "step {step} ({})",
            msg.type_name()
        );
        assert_eq!(a.app_hash, b.app_hash, "app hashes part at step {step}");
        // the tx got past the envelope: it succeeded or its own module refused it
        assert!(
            ra.is_ok() || ra.codespace != "tx",
            "step {step}: {}",
            ra.log
        );
        reached_handler.insert(msg.type_name());
        if !ra.is_ok() {
            eprintln!("step {step} ({}): {}", msg.type_name(), ra.log);
        }
        if ra.is_ok() {
            ok.insert(msg.type_name());
        }
        if step == 6 {
            proposal = ra
                .events
                .iter()
                .find_map(|e| e.get("proposal").and_then(|v| v.parse().ok()))
                .expect("the proposal's id");
        }
        if step == 9 {
            task = posted_id(ra).expect("the task was posted");
            let state = nodeop_app::modules::tasks::state::task(borsh_chain.app.storage(), task);
            let first = state.expect("the task").current_round().members[0].operator;
            member = [&op, &carol]
                .into_iter()
                .find(|k| k.address == first)
                .expect("an operator")
                .clone();
        }
    }
    assert_eq!(reached_handler.len(), 20, "every message type ran");
    for must in [
        "bank.send",
        "staking.register_operator",
        "staking.edit_operator",
        "staking.delegate",
        "staking.undelegate",
        "slashing.propose",
        "slashing.dispute",
        "tasks.post",
        "tasks.commit",
        "tasks.reveal",
        "coprocessors.register",
        "coprocessors.edit",
        "coprocessors.add_collateral",
    ] {
        assert!(
            ok.contains(must),
            "{must} did not succeed; succeeded: {ok:?}"
        );
    }
}

/// A mistake a wallet could make, and the refusal it must get.
struct Mistake {
    what: &'static str,
    expected: TxError,
    tx: Vec<u8>,
}

fn mistakes(chain: &TestChain, alice: &Key, bob: &Key) -> Vec<Mistake> {
    let fee = 100_000;
    let send = || vec![msg_to_any(&Msg::send(&bob.address, 5))];
    let base = || chain.cosmos_parts(alice, fee, send());
    let signed = |f: &dyn Fn(&mut CosmosParts)| {
        let mut p = base();
        f(&mut p);
        p.signed_bytes(alice)
    };
    let single = |mode: SignMode| ModeInfo {
        sum: Some(mode_info::Sum::Single(mode_info::Single {
            mode: mode as i32,
        })),
    };
    let mut out = vec![
        Mistake {
            what: "amino JSON sign mode",
            expected: TxError::UnsupportedSignMode(String::new()),
            tx: signed(&|p| {
                p.auth_info.signer_infos[0].mode_info = Some(single(SignMode::LegacyAminoJson))
            }),
        },
        Mistake {
            what: "textual sign mode",
            expected: TxError::UnsupportedSignMode(String::new()),
            tx: signed(&|p| {
                p.auth_info.signer_infos[0].mode_info = Some(single(SignMode::Textual))
            }),
        },
        Mistake {
            what: "no mode info",
            expected: TxError::UnsupportedSignMode(String::new()),
            tx: signed(&|p| p.auth_info.signer_infos[0].mode_info = None),
        },
        Mistake {
            what: "two signer infos",
            expected: TxError::NotOneSigner {
                signer_infos: 0,
                signatures: 0,
            },
            tx: signed(&|p| {
                let again = p.auth_info.signer_infos[0].clone();
                p.auth_info.signer_infos.push(again)
            }),
        },
        Mistake {
            what: "two signatures",
            expected: TxError::NotOneSigner {
                signer_infos: 0,
                signatures: 0,
            },
            tx: {
                let mut raw = base().sign(alice);
                let again = raw.signatures[0].clone();
                raw.signatures.push(again);
                raw.encode_to_vec()
            },
        },
        Mistake {
            what: "no signature",
            expected: TxError::NotOneSigner {
                signer_infos: 0,
                signatures: 0,
            },
            tx: {
                let mut raw = base().sign(alice);
                raw.signatures.clear();
                raw.encode_to_vec()
            },
        },
        Mistake {
            what: "a timeout height",
            expected: TxError::TimeoutHeight(0),
            tx: signed(&|p| p.body.timeout_height = 100),
        },
        Mistake {
            what: "extension options",
            expected: TxError::ExtensionOptions,
            tx: signed(&|p| {
                p.body.extension_options.push(Any {
                    type_url: "/ethermint.types.v1.ExtensionOptionsWeb3Tx".into(),
                    value: Vec::new(),
                })
            }),
        },
        Mistake {
            what: "non-critical extension options",
            expected: TxError::ExtensionOptions,
            tx: signed(&|p| {
                p.body.non_critical_extension_options.push(Any {
                    type_url: "/x".into(),
                    value: Vec::new(),
                })
            }),
        },
        Mistake {
            what: "a fee in another denom",
            expected: TxError::FeeDenom(String::new()),
            tx: signed(&|p| p.auth_info.fee.as_mut().unwrap().amount[0].denom = "uatom".into()),
        },
        Mistake {
            what: "a fee of two coins",
            expected: TxError::FeeDenom(String::new()),
            tx: signed(&|p| p.auth_info.fee.as_mut().unwrap().amount.push(unop(1))),
        },
        Mistake {
            what: "a fee amount that is not an integer",
            expected: TxError::FeeDenom(String::new()),
            tx: signed(&|p| p.auth_info.fee.as_mut().unwrap().amount[0].amount = "1.5".into()),
        },
        Mistake {
            what: "a fee payer",
            expected: TxError::FeeDelegation,
            tx: signed(&|p| p.auth_info.fee.as_mut().unwrap().payer = bob.address.to_bech32()),
        },
        Mistake {
            what: "a fee granter",
            expected: TxError::FeeDelegation,
            tx: signed(&|p| p.auth_info.fee.as_mut().unwrap().granter = bob.address.to_bech32()),
        },
        Mistake {
            what: "a multisig key",
            expected: TxError::Multisig,
            tx: signed(&|p| {
                p.auth_info.signer_infos[0].public_key = Some(Any {
                    type_url: MULTISIG_PUBKEY.into(),
                    value: vec![8, 1],
                })
            }),
        },
        Mistake {
            what: "a multi sign mode",
            expected: TxError::Multisig,
            tx: signed(&|p| {
                p.auth_info.signer_infos[0].mode_info = Some(ModeInfo {
                    sum: Some(mode_info::Sum::Multi(mode_info::Multi {
                        bitarray: None,
                        mode_infos: Vec::new(),
                    })),
                })
            }),
        },
        Mistake {
            what: "an ed25519 key",
            expected: TxError::UnsupportedPubkey(String::new()),
            tx: signed(&|p| {
                p.auth_info.signer_infos[0]
                    .public_key
                    .as_mut()
                    .unwrap()
                    .type_url = "/cosmos.crypto.ed25519.PubKey".into()
            }),
        },
        Mistake {
            what: "no public key",
            expected: TxError::UnsupportedPubkey(String::new()),
            tx: signed(&|p| p.auth_info.signer_infos[0].public_key = None),
        },
        Mistake {
            what: "a body with no messages",
            expected: TxError::NoMsgs,
            tx: signed(&|p| p.body.messages.clear()),
        },
        Mistake {
            what: "a message type nodeop does not know",
            expected: TxError::UnknownMsgType {
                index: 0,
                type_url: String::new(),
            },
            tx: signed(&|p| {
                p.body.messages[0].type_url = "/cosmos.staking.v1beta1.MsgDelegate".into()
            }),
        },
        Mistake {
            what: "an amount that is not a decimal integer",
            expected: TxError::InvalidMsg {
                index: 0,
                type_url: String::new(),
                reason: String::new(),
            },
            tx: signed(&|p| {
                p.body.messages[0].value = proto::bank::MsgSend {
                    to: bob.address.to_bech32(),
                    amount: "5unop".into(),
                }
                .encode_to_vec()
            }),
        },
        Mistake {
            what: "a Cosmos MsgSend from another account",
            expected: TxError::SenderMismatch {
                index: 0,
                sender: String::new(),
                signer: String::new(),
            },
            tx: signed(&|p| p.body.messages = vec![cosmos_send(&bob.address, &alice.address, 5)]),
        },
        Mistake {
            what: "a Cosmos MsgSend in another denom",
            expected: TxError::SendDenom {
                index: 0,
                found: String::new(),
            },
            tx: signed(&|p| {
                let mut any = cosmos_send(&alice.address, &bob.address, 5);
                let mut m =
                    cosmos_sdk_proto::cosmos::bank::v1beta1::MsgSend::decode(any.value.as_slice())
                        .unwrap();
                m.amount[0].denom = "uatom".into();
                any.value = m.encode_to_vec();
                p.body.messages = vec![any];
            }),
        },
        Mistake {
            what: "a TxRaw with an unknown field appended",
            expected: TxError::CosmosDecode(String::new()),
            tx: {
                let mut bytes = base().signed_bytes(alice);
                bytes.extend([0x20, 0x01]);
                bytes
            },
        },
        Mistake {
            what: "an unordered tx (TxBody field 4, Cosmos SDK 0.53)",
            expected: TxError::CosmosDecode(String::new()),
            tx: {
                let p = base();
                let mut body_bytes = p.body.encode_to_vec();
                body_bytes.extend([0x20, 0x01]);
                let auth_info_bytes = p.auth_info.encode_to_vec();
                let digest =
                    nodeop_app::cosmos::sign_bytes(&body_bytes, &auth_info_bytes, &p.chain_id);
                TxRaw {
                    signatures: vec![alice.signature(&digest).to_vec()],
                    body_bytes,
                    auth_info_bytes,
                }
                .encode_to_vec()
            },
        },
        Mistake {
            what: "a body that does not decode",
            expected: TxError::CosmosDecode(String::new()),
            tx: TxRaw {
                body_bytes: vec![0x0a, 0x05, 0x01],
                auth_info_bytes: base().auth_info.encode_to_vec(),
                signatures: vec![vec![0; 64]],
            }
            .encode_to_vec(),
        },
        Mistake {
            what: "an account number other than 0",
            expected: TxError::InvalidSignature,
            tx: signed(&|p| p.account_number = 7),
        },
        Mistake {
            what: "another chain id in the sign doc",
            expected: TxError::InvalidSignature,
            tx: signed(&|p| p.chain_id = "cosmoshub-4".into()),
        },
        Mistake {
            what: "a fee below the fee rule",
            expected: TxError::FeeTooLow {
                required: 0,
                offered: 0,
            },
            tx: signed(&|p| p.auth_info.fee.as_mut().unwrap().amount = vec![unop(10)]),
        },
        Mistake {
            what: "a sequence ahead of the account's nonce",
            expected: TxError::NonceGap {
                expected: 0,
                got: 0,
            },
            tx: signed(&|p| p.auth_info.signer_infos[0].sequence += 1),
        },
    ];
    // signed by another key than the one in the signer info
    let mallory = Key::from_seed("mallory");
    out.push(Mistake {
        what: "a signature by another key",
        expected: TxError::InvalidSignature,
        tx: base().signed_bytes(&mallory),
    });
    out
}

#[test]
fn every_wallet_mistake_is_refused_with_its_own_code_in_check_tx_and_in_a_block() {
    let alice = Key::from_seed("alice");
    let bob = Key::from_seed("bob");
    let mut chain = TestChain::start(&genesis(&[(alice.address, 1_000 * NOP)]));
    let documented: BTreeSet<(String, u32)> = TxError::examples()
        .iter()
        .map(|e| (e.codespace().to_string(), e.code()))
        .collect();
    let list = mistakes(&chain, &alice, &bob);
    for m in &list {
        assert!(documented.contains(&(m.expected.codespace().into(), m.expected.code())));
        let r = chain.check(&m.tx);
        assert_eq!(
            (
                r.codespace.as_str(),
                r.code,
                r.log.split(':').next().unwrap()
            ),
            (m.expected.codespace(), m.expected.code(), m.expected.name()),
            "CheckTx of {}: {}",
            m.what,
            r.log
        );
    }
    // in a block (as a faulty proposer would include them): the same codes, nothing charged
    let before = chain.account(&alice.address);
    let txs = list.iter().map(|m| m.tx.clone()).collect();
    let resp = chain.finalize_and_commit(txs);
    for (m, r) in list.iter().zip(&resp.tx_results) {
        assert_eq!(
            (r.codespace.as_str(), r.code),
            (m.expected.codespace(), m.expected.code()),
            "in a block, {}: {}",
            m.what,
            r.log
        );
    }
    assert_eq!(
        chain.account(&alice.address),
        before,
        "a refused tx charges nothing"
    );
    // the account still works, in either envelope
    let ok = chain.cosmos_tx(&alice, &[Msg::send(&bob.address, 5)]);
    assert!(chain.block(vec![ok]).tx_results[0].is_ok());
}

#[test]
fn borsh_and_cosmos_txs_from_one_account_share_one_nonce_sequence() {
    let alice = Key::from_seed("alice");
    let bob = Key::from_seed("bob");
    let mut chain = TestChain::start(&genesis(&[(alice.address, 1_000 * NOP)]));
    let params = chain.params();
    let id = chain.chain_id.clone();
    let send = |n: u64| Msg::send(&bob.address, 10 + u128::from(n));
    // four in flight in the mempool, alternating envelopes
    let txs: Vec<Vec<u8>> = (0..4)
        .map(|n| {
            if n % 2 == 0 {
                alice.tx(&id, &params, n, vec![send(n)])
            } else {
                alice.cosmos_tx(&id, &params, n, &[send(n)])
            }
        })
        .collect();
    for tx in &txs {
        let r = chain.check(tx);
        assert!(r.is_ok(), "{}", r.log);
    }
    // a Cosmos tx reusing a nonce a borsh tx holds is a replay, in the mempool and in a block
    let replay = alice.cosmos_tx(&id, &params, 2, &[send(9)]);
    assert_eq!(
        chain.check(&replay).code,
        TxError::NonceReplayed {
            expected: 0,
            got: 0
        }
        .code()
    );
    let resp = chain.block(txs);
    assert!(resp.tx_results.iter().all(TxOutcome::is_ok));
    assert_eq!(chain.account(&alice.address).nonce, 4);
    assert_eq!(chain.balance(&bob.address), 10 + 11 + 12 + 13);
    let resp = chain.finalize_and_commit(vec![replay]);
    assert_eq!(
        resp.tx_results[0].code,
        TxError::NonceReplayed {
            expected: 0,
            got: 0
        }
        .code()
    );
    // and a borsh tx at the nonce a Cosmos tx used is a replay too
    let borsh_replay = alice.tx(&id, &params, 3, vec![send(1)]);
    assert_eq!(
        chain.check(&borsh_replay).code,
        TxError::NonceReplayed {
            expected: 0,
            got: 0
        }
        .code()
    );
}

fn query<Req: Message, Resp: Message + Default>(chain: &TestChain, path: &str, req: &Req) -> Resp {
    let r = chain.query(path, &req.encode_to_vec(), 0, false);
    assert_eq!(r.code, 0, "{path}: {}", r.log);
    Resp::decode(r.value.as_slice()).unwrap()
}

#[test]
fn the_queries_cosmjs_makes_answer_in_protobuf_and_unknown_cosmos_paths_say_so() {
    let alice = Key::from_seed("alice");
    let bob = Key::from_seed("bob");
    let nobody = Key::from_seed("nobody");
    let mut chain = TestChain::start(&genesis(&[(alice.address, 1_000 * NOP)]));
    let tx = chain.cosmos_tx(&alice, &[Msg::send(&bob.address, 7)]);
    assert!(chain.block(vec![tx]).tx_results[0].is_ok());

    let acc: QueryAccountResponse = query(
        &chain,
        cq::ACCOUNT,
        &QueryAccountRequest {
            address: alice.address.to_bech32(),
        },
    );
    let any = acc.account.unwrap();
    assert_eq!(any.type_url, "/cosmos.auth.v1beta1.BaseAccount");
    let base = BaseAccount::decode(any.value.as_slice()).unwrap();
    assert_eq!(base.address, alice.address.to_bech32());
    assert_eq!((base.account_number, base.sequence), (0, 1));
    // an account that never held funds: NotFound in the words CosmJS turns into `null`
    let r = chain.query(
        cq::ACCOUNT,
        &QueryAccountRequest {
            address: nobody.address.to_bech32(),
        }
        .encode_to_vec(),
        0,
        false,
    );
    assert_eq!((r.codespace.as_str(), r.code), ("query", 4));
    assert!(r.log.contains("rpc error: code = NotFound"), "{}", r.log);

    let balance = |who: &Address, denom: &str| -> String {
        let r: QueryBalanceResponse = query(
            &chain,
            cq::BALANCE,
            &QueryBalanceRequest {
                address: who.to_bech32(),
                denom: denom.into(),
            },
        );
        let coin = r.balance.unwrap();
        assert_eq!(coin.denom, denom);
        coin.amount
    };
    assert_eq!(balance(&bob.address, "unop"), "7");
    assert_eq!(
        balance(&alice.address, "unop"),
        chain.balance(&alice.address).to_string()
    );
    assert_eq!(balance(&bob.address, "uatom"), "0");
    let all: QueryAllBalancesResponse = query(
        &chain,
        cq::ALL_BALANCES,
        &QueryAllBalancesRequest {
            address: bob.address.to_bech32(),
            pagination: None,
            resolve_denom: false,
        },
    );
    assert_eq!(all.balances, vec![unop(7)]);

    // Simulate, as CosmJS sends it: a Tx with no fee, SIGN_MODE_UNSPECIFIED, an empty signature
    let mut parts = chain.cosmos_parts(&alice, 0, vec![msg_to_any(&Msg::send(&bob.address, 3))]);
    parts.auth_info.fee = None;
    parts.auth_info.signer_infos[0].mode_info = Some(ModeInfo {
        sum: Some(mode_info::Sum::Single(mode_info::Single {
            mode: SignMode::Unspecified as i32,
        })),
    });
    let unsigned = CosmosTx {
        body: Some(parts.body.clone()),
        auth_info: Some(parts.auth_info.clone()),
        signatures: vec![Vec::new()],
    }
    .encode_to_vec();
    let sim: SimulateResponse = query(
        &chain,
        cq::SIMULATE,
        &SimulateRequest {
            tx_bytes: unsigned.clone(),
            ..Default::default()
        },
    );
    let gas = sim.gas_info.unwrap().gas_used;
    assert_eq!(gas, cq::simulated_gas(&chain.params(), unsigned.len()));
    // a gas price of 1 unop per gas, as chain.json says, pays the signed tx's fee rule
    let mut signed = chain.cosmos_parts(&alice, u128::from(gas), parts.body.messages.clone());
    signed.auth_info.fee.as_mut().unwrap().gas_limit = gas;
    let r = chain.check(&signed.signed_bytes(&alice));
    assert!(r.is_ok(), "{}", r.log);
    // a simulation that fails says why, with the tx's own code
    let broke = chain.cosmos_parts(
        &bob,
        0,
        vec![msg_to_any(&Msg::send(&alice.address, 1_000 * NOP))],
    );
    let r = chain.query(
        cq::SIMULATE,
        &SimulateRequest {
            tx_bytes: broke.sign(&bob).encode_to_vec(),
            ..Default::default()
        }
        .encode_to_vec(),
        0,
        false,
    );
    assert_eq!((r.codespace.as_str(), r.code), ("query", 7));
    assert!(r.log.contains("bank/2"), "{}", r.log);

    // unknown /cosmos.* paths and bad data: clear errors, never a panic
    for path in [
        "/cosmos.staking.v1beta1.Query/Validators",
        "/cosmos.auth.v1beta1.Query/Params",
        "/cosmos.",
    ] {
        let r = chain.query(path, &[], 0, false);
        assert_eq!((r.codespace.as_str(), r.code), ("query", 1), "{path}");
        assert!(r.log.contains(cq::ACCOUNT), "{}", r.log);
    }
    for path in cq::PATHS {
        let r = chain.query(path, &[0xff, 0xff, 0x01], 0, false);
        assert_eq!(
            (r.codespace.as_str(), r.code),
            ("query", 2),
            "{path}: {}",
            r.log
        );
    }
}

// ---- proto/ and the Rust types agree ----

#[derive(Debug, Clone)]
struct ProtoField {
    name: String,
    ty: String,
    number: u64,
}

#[derive(Debug, Default)]
struct Schema {
    /// full message name → fields
    messages: BTreeMap<String, Vec<ProtoField>>,
    /// full enum name → declared values
    enums: BTreeMap<String, BTreeSet<u64>>,
}

/// A parser for the subset of proto3 that `proto/` uses: a package, top-level messages with
/// scalar, `optional`, message, enum and `oneof` fields, and top-level enums.
fn parse_protos() -> Schema {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../proto/nodeop");
    let mut files = Vec::new();
    for module in std::fs::read_dir(root).unwrap() {
        let dir = module.unwrap().path().join("v1");
        for f in std::fs::read_dir(dir).unwrap() {
            files.push(f.unwrap().path());
        }
    }
    files.sort();
    let mut schema = Schema::default();
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let code: String = text
            .lines()
            .map(|l| l.split("//").next().unwrap())
            .collect::<Vec<_>>()
            .join(" ");
        let spaced = code
            .replace('{', " { ")
            .replace('}', " } ")
            .replace(';', " ; ")
            .replace('=', " = ");
        let tokens: Vec<&str> = spaced.split_whitespace().collect();
        let mut package = String::new();
        let mut i = 0;
        // (kind, name) of the open blocks
        let mut stack: Vec<(&str, String)> = Vec::new();
        while i < tokens.len() {
            match tokens[i] {
                "syntax" => {
                    assert_eq!(tokens[i + 2], "\"proto3\"", "{path:?}");
                    i += 4;
                }
                "package" => {
                    package = tokens[i + 1].to_string();
                    i += 3;
                }
                "message" | "enum" | "oneof" => {
                    let full = format!("{package}.{}", tokens[i + 1]);
                    match tokens[i] {
                        "message" => {
                            schema.messages.insert(full.clone(), Vec::new());
                        }
                        "enum" => {
                            schema.enums.insert(full.clone(), BTreeSet::new());
                        }
                        _ => {}
                    }
                    stack.push((tokens[i], full));
                    assert_eq!(tokens[i + 2], "{");
                    i += 3;
                }
                "}" => {
                    stack.pop();
                    i += 1;
                }
                _ => {
                    let (kind, _) = stack
                        .last()
                        .unwrap_or_else(|| panic!("{path:?}: {}", tokens[i]));
                    if *kind == "enum" {
                        // NAME = N ;
                        let n: u64 = tokens[i + 2].parse().unwrap();
                        let name = stack.last().unwrap().1.clone();
                        schema.enums.get_mut(&name).unwrap().insert(n);
                        i += 4;
                        continue;
                    }
                    // [optional] type name = N ;
                    let start = if tokens[i] == "optional" { i + 1 } else { i };
                    assert_ne!(
                        tokens[start], "repeated",
                        "proto/ has no repeated fields yet"
                    );
                    let message = stack
                        .iter()
                        .rev()
                        .find(|(k, _)| *k == "message")
                        .unwrap()
                        .1
                        .clone();
                    let ty = tokens[start].to_string();
                    let ty = if ty.contains('.') || ty.chars().next().unwrap().is_lowercase() {
                        ty
                    } else {
                        format!("{package}.{ty}")
                    };
                    schema.messages.get_mut(&message).unwrap().push(ProtoField {
                        name: tokens[start + 1].to_string(),
                        ty,
                        number: tokens[start + 3].parse().unwrap(),
                    });
                    assert_eq!(tokens[start + 4], ";");
                    i = start + 5;
                }
            }
        }
    }
    schema
}

fn varint(bytes: &[u8], at: &mut usize) -> u64 {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = bytes[*at];
        *at += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return v;
        }
    }
    panic!("varint too long")
}

/// Walks encoded `bytes` of `message` against the schema: every field on the wire is declared
/// with that number and a matching wire type, and its value follows the samples' convention
/// (an integer holds its field number, a string or bytes its field name, a bool true, an enum a
/// declared non-zero value). Records each (message, field) seen.
fn walk(schema: &Schema, message: &str, bytes: &[u8], seen: &mut BTreeSet<(String, String)>) {
    let fields = schema
        .messages
        .get(message)
        .unwrap_or_else(|| panic!("{message} is not in proto/"));
    seen.insert((message.to_string(), String::new()));
    let mut at = 0;
    while at < bytes.len() {
        let key = varint(bytes, &mut at);
        let (number, wire) = (key >> 3, key & 7);
        let f = fields
            .iter()
            .find(|f| f.number == number)
            .unwrap_or_else(|| panic!("{message}: the Rust type encodes field {number}, which proto/ does not declare"));
        seen.insert((message.to_string(), f.name.clone()));
        let scalar_varint = ["uint64", "uint32", "bool"].contains(&f.ty.as_str());
        if scalar_varint || schema.enums.contains_key(&f.ty) {
            assert_eq!(wire, 0, "{message}.{}: wire type", f.name);
            let v = varint(bytes, &mut at);
            match f.ty.as_str() {
                "bool" => assert_eq!(v, 1, "{message}.{}", f.name),
                "uint64" | "uint32" => assert_eq!(v, f.number, "{message}.{}: the value is not the field's number, so the Rust field behind it is another one", f.name),
                e => assert!(v != 0 && schema.enums[e].contains(&v), "{message}.{}: {v} is not a value of {e}", f.name),
            }
        } else {
            assert_eq!(wire, 2, "{message}.{}: wire type", f.name);
            let len = varint(bytes, &mut at) as usize;
            let value = &bytes[at..at + len];
            at += len;
            match f.ty.as_str() {
                "string" | "bytes" => assert_eq!(value, f.name.as_bytes(), "{message}.{}: the value is not the field's name, so the Rust field behind it is another one", f.name),
                nested => walk(schema, nested, value, seen),
            }
        }
    }
}

/// Samples of every message, each field set by the convention [`walk`] checks; one sample per
/// oneof variant.
fn samples() -> Vec<(&'static str, Vec<u8>)> {
    use proto::{coprocessors as cp, issuance as iss, slashing as sl, staking as st, tasks as tk};
    let s = |name: &str| name.to_string();
    let b = |name: &str| name.as_bytes().to_vec();
    let attestation = sl::Attestation {
        body: Some(sl::AttestationBody {
            chain_id: s("chain_id"),
            task_id: 2,
            result_hash: b("result_hash"),
        }),
        pubkey: b("pubkey"),
        signature: b("signature"),
    };
    let slash = |evidence| sl::MsgProposeSlash {
        operator: s("operator"),
        offence: sl::Offence::Byzantine as i32,
        evidence: Some(evidence),
    };
    let task = |kind, payload| tk::MsgPostTask {
        kind: Some(kind),
        consistency: tk::Consistency::Strong as i32,
        payload: Some(payload),
        difficulty_units: 6,
        min_reputation_ppm: 7,
        fee: s("fee"),
    };
    let reference = tk::PayloadReference {
        sha256: b("sha256"),
        uri: s("uri"),
    };
    vec![
        (
            "nodeop.bank.v1.MsgSend",
            proto::bank::MsgSend {
                to: s("to"),
                amount: s("amount"),
            }
            .encode_to_vec(),
        ),
        (
            "nodeop.staking.v1.MsgRegisterOperator",
            st::MsgRegisterOperator {
                consensus_pubkey: b("consensus_pubkey"),
                moniker: s("moniker"),
                capacity_units: 3,
                region: s("region"),
                commission_ppm: 5,
                self_bond: s("self_bond"),
            }
            .encode_to_vec(),
        ),
        (
            "nodeop.staking.v1.MsgEditOperator",
            st::MsgEditOperator {
                moniker: Some(s("moniker")),
                capacity_units: Some(2),
                region: Some(s("region")),
                commission_ppm: Some(4),
            }
            .encode_to_vec(),
        ),
        (
            "nodeop.staking.v1.MsgDelegate",
            st::MsgDelegate {
                operator: s("operator"),
                amount: s("amount"),
            }
            .encode_to_vec(),
        ),
        (
            "nodeop.staking.v1.MsgUndelegate",
            st::MsgUndelegate {
                operator: s("operator"),
                amount: s("amount"),
            }
            .encode_to_vec(),
        ),
        (
            "nodeop.staking.v1.MsgUnjail",
            st::MsgUnjail {}.encode_to_vec(),
        ),
        (
            "nodeop.slashing.v1.MsgProposeSlash",
            slash(sl::Evidence::Equivocation(sl::EquivocationEvidence {
                first: Some(attestation.clone()),
                second: Some(attestation),
            }))
            .encode_to_vec(),
        ),
        (
            "nodeop.slashing.v1.MsgProposeSlash",
            slash(sl::Evidence::Statement(sl::StatementEvidence {
                infraction_id: 1,
                infraction_height: 2,
                description: s("description"),
                reference: s("reference"),
            }))
            .encode_to_vec(),
        ),
        (
            "nodeop.slashing.v1.MsgProposeSlash",
            slash(sl::Evidence::Downtime(sl::DowntimeEvidence {
                period: 1,
                uptime_ppm: 2,
            }))
            .encode_to_vec(),
        ),
        (
            "nodeop.slashing.v1.MsgProposeSlash",
            slash(sl::Evidence::ResultMismatch(sl::ResultMismatchEvidence {
                task_id: 1,
            }))
            .encode_to_vec(),
        ),
        (
            "nodeop.slashing.v1.MsgDisputeSlash",
            sl::MsgDisputeSlash {
                proposal: 1,
                reason: s("reason"),
            }
            .encode_to_vec(),
        ),
        (
            "nodeop.slashing.v1.MsgVoteDispute",
            sl::MsgVoteDispute {
                proposal: 1,
                uphold: true,
            }
            .encode_to_vec(),
        ),
        (
            "nodeop.tasks.v1.MsgPostTask",
            task(
                tk::Kind::Exact(tk::ExactKind {}),
                tk::Payload::Inline(b("inline")),
            )
            .encode_to_vec(),
        ),
        (
            "nodeop.tasks.v1.MsgPostTask",
            task(
                tk::Kind::Numeric(tk::NumericKind {
                    scale: 1,
                    tolerance_ppm: 2,
                }),
                tk::Payload::Reference(reference),
            )
            .encode_to_vec(),
        ),
        (
            "nodeop.tasks.v1.MsgCommitResult",
            tk::MsgCommitResult {
                task_id: 1,
                commitment: b("commitment"),
            }
            .encode_to_vec(),
        ),
        (
            "nodeop.tasks.v1.MsgRevealResult",
            tk::MsgRevealResult {
                task_id: 1,
                result: b("result"),
                salt: b("salt"),
            }
            .encode_to_vec(),
        ),
        (
            "nodeop.tasks.v1.MsgConfirmSubmission",
            tk::MsgConfirmSubmission {
                task_id: 1,
                target_ref: s("target_ref"),
            }
            .encode_to_vec(),
        ),
        (
            "nodeop.issuance.v1.MsgClaimVested",
            iss::MsgClaimVested {}.encode_to_vec(),
        ),
        (
            "nodeop.coprocessors.v1.MsgRegisterCoprocessor",
            cp::MsgRegisterCoprocessor {
                capacity_units: 1,
                collateral: s("collateral"),
                moniker: s("moniker"),
            }
            .encode_to_vec(),
        ),
        (
            "nodeop.coprocessors.v1.MsgEditCoprocessor",
            cp::MsgEditCoprocessor {
                capacity_units: Some(1),
                moniker: Some(s("moniker")),
            }
            .encode_to_vec(),
        ),
        (
            "nodeop.coprocessors.v1.MsgAddCollateral",
            cp::MsgAddCollateral {
                amount: s("amount"),
            }
            .encode_to_vec(),
        ),
        (
            "nodeop.coprocessors.v1.MsgWithdrawCollateral",
            cp::MsgWithdrawCollateral {
                amount: s("amount"),
            }
            .encode_to_vec(),
        ),
        (
            "nodeop.coprocessors.v1.MsgOpenAuction",
            cp::MsgOpenAuction {
                task_id: 1,
                start_price: s("start_price"),
                floor_price: s("floor_price"),
            }
            .encode_to_vec(),
        ),
        (
            "nodeop.coprocessors.v1.MsgBid",
            cp::MsgBid { auction_id: 1 }.encode_to_vec(),
        ),
    ]
}

#[test]
fn the_proto_files_declare_exactly_the_fields_numbers_and_wire_types_the_rust_types_encode() {
    let schema = parse_protos();
    // the registry is exactly the proto files' Msg… types
    let declared: BTreeSet<String> = schema
        .messages
        .keys()
        .filter(|m| m.rsplit('.').next().unwrap().starts_with("Msg"))
        .map(|m| format!("/{m}"))
        .collect();
    let registry: BTreeSet<String> = TYPE_URLS.iter().map(|u| u.to_string()).collect();
    assert_eq!(
        declared, registry,
        "proto/ Msg types vs cosmos::proto::TYPE_URLS"
    );
    assert_eq!(TYPE_URLS.len(), registry.len());
    // every message's URL sits at its borsh variant's index
    for (i, url) in TYPE_URLS.iter().enumerate() {
        let msg = nodeop_app::cosmos::msg_from_any(
            0,
            &Any {
                type_url: url.to_string(),
                value: Vec::new(),
            },
            &Key::from_seed("x").address,
        );
        if let Ok(m) = msg {
            let variant = borsh::to_vec(&m).unwrap()[0] as usize;
            assert_eq!(variant, i, "{url}");
        }
    }
    let mut seen = BTreeSet::new();
    for (message, bytes) in samples() {
        walk(&schema, message, &bytes, &mut seen);
    }
    for (message, fields) in &schema.messages {
        let reached = seen.iter().any(|(m, _)| m == message);
        assert!(
            reached,
            "{message} is declared in proto/ but no Rust type encodes it"
        );
        for f in fields {
            assert!(
                seen.contains(&(message.clone(), f.name.clone())),
                "{message}.{} is declared in proto/ but the Rust type never encodes it",
                f.name
            );
        }
    }
}

// ---- docs/wallets.md's test vectors ----

/// The vectors' key: secret 0x01 × 32 (the key of docs/tx-format.md's vectors).
fn vector_key() -> Key {
    Key::from_secret(&[1u8; 32])
}

/// The published values of one vector, from its ```text block in docs/wallets.md.
fn published(vector: &str) -> BTreeMap<String, String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/wallets.md");
    let text = std::fs::read_to_string(path).unwrap();
    let start = text
        .find(&format!("### Vector: {vector}"))
        .unwrap_or_else(|| panic!("docs/wallets.md has no vector {vector:?}"));
    let block = text[start..]
        .split("```text")
        .nth(1)
        .unwrap()
        .split("```")
        .next()
        .unwrap();
    block
        .lines()
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

fn vector_values(parts: &CosmosParts, key: &Key) -> BTreeMap<String, String> {
    let doc = parts.sign_doc();
    let raw = parts.sign(key);
    let tx = raw.encode_to_vec();
    [
        ("signer", key.address.to_bech32()),
        ("pubkey", hex::encode(key.pubkey)),
        ("body_bytes", hex::encode(&doc.body_bytes)),
        ("auth_info_bytes", hex::encode(&doc.auth_info_bytes)),
        ("sign_doc_bytes", hex::encode(doc.encode_to_vec())),
        (
            "sign_doc_sha256",
            hex::encode(nodeop_app::crypto::sha256(&[&doc.encode_to_vec()])),
        ),
        ("signature", hex::encode(&raw.signatures[0])),
        ("tx_bytes", hex::encode(&tx)),
        ("tx_hash", hex::encode_upper(nodeop_app::tx::tx_hash(&tx))),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

#[test]
fn the_test_vectors_in_docs_wallets_md_match_and_the_chain_accepts_them() {
    let key = vector_key();
    let to = Address([2u8; 20]);
    let vectors = [
        (
            "a wallet's ordinary Send",
            CosmosParts::new(
                &key,
                "nodeop-1",
                0,
                5_000,
                vec![cosmos_send(&key.address, &to, 1_000_000)],
            ),
        ),
        (
            "a nodeop message",
            CosmosParts::new(
                &key,
                "nodeop-1",
                1,
                6_000,
                vec![msg_to_any(
                    &exact_task(Consistency::Session, 2_000_000).into(),
                )],
            ),
        ),
    ];
    let params = nodeop_app::params::TxParams::default();
    for (name, mut parts) in vectors {
        parts.body.memo = "test vector".into();
        let ours = vector_values(&parts, &key);
        let docs = published(name);
        for (k, v) in &ours {
            assert_eq!(
                docs.get(k),
                Some(v),
                "vector {name:?}, {k}\nall computed values:\n{}",
                ours.iter()
                    .map(|(k, v)| format!("{k}: {v}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            );
        }
        // cosmrs builds the same bytes
        let info = &parts.auth_info.signer_infos[0];
        let fee: u128 = parts.auth_info.fee.as_ref().unwrap().amount[0]
            .amount
            .parse()
            .unwrap();
        let by_cosmrs = cosmrs_tx(
            &key,
            "nodeop-1",
            info.sequence,
            fee,
            "test vector",
            parts.body.messages.clone(),
        );
        assert_eq!(
            hex::encode(by_cosmrs),
            ours["tx_bytes"],
            "vector {name:?} by cosmrs"
        );
        // the published tx passes every stateless check under the default params
        let tx = hex::decode(&docs["tx_bytes"]).unwrap();
        let checked =
            nodeop_app::tx::check_stateless(&tx, "nodeop-1", &params, &Default::default(), &())
                .unwrap_or_else(|e| panic!("vector {name:?}: {e}"));
        assert_eq!(checked.signer, key.address);
    }
}

#[test]
fn the_chain_registry_files_describe_the_devnet_as_the_chain_and_its_scripts_do() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let read = |p: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(format!("{root}/{p}")).unwrap()).unwrap()
    };
    let chain = read("chain-registry/nodeopdevnet/chain.json");
    let assets = read("chain-registry/nodeopdevnet/assetlist.json");
    let devnet = std::fs::read_to_string(format!("{root}/scripts/devnet.sh")).unwrap();
    let chain_id = devnet
        .lines()
        .find_map(|l| l.strip_prefix("CHAIN_ID=\""))
        .and_then(|l| l.strip_suffix('"'))
        .unwrap();
    assert_eq!(chain["chain_id"], chain_id);
    assert_eq!(chain["bech32_prefix"], nodeop_app::crypto::ADDRESS_HRP);
    assert_eq!(chain["slip44"], 118);
    assert_eq!(chain["chain_name"], assets["chain_name"]);
    let fee = &chain["fees"]["fee_tokens"][0];
    assert_eq!(fee["denom"], nodeop_app::cosmos::DENOM);
    // Simulate answers the minimum fee in unop as gas: a gas price of 1 meets the fee rule
    assert_eq!(fee["fixed_min_gas_price"], 1);
    assert_eq!(fee["average_gas_price"], 1);
    let asset = &assets["assets"][0];
    assert_eq!(asset["base"], nodeop_app::cosmos::DENOM);
    let units = asset["denom_units"].as_array().unwrap();
    let nop = units
        .iter()
        .find(|u| u["denom"] == asset["display"])
        .unwrap();
    assert_eq!(10u128.pow(nop["exponent"].as_u64().unwrap() as u32), NOP);
}
