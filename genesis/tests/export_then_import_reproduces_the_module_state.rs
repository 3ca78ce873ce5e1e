//! `nodeopd export` then InitChain on the exported genesis gives back every key of the module
//! state (everything but the `chain/` identity keys, which record the new initial height):
//! balances, and the staking records a chain accumulates (operator pools after a delegation,
//! delegations, an unbonding entry, signing info with a missed block, the epoch counter).

use k256::ecdsa::signature::hazmat::PrehashSigner;
use k256::ecdsa::{Signature, SigningKey};
use nodeop_app::app::{BlockRequest, BlockTime, InitChainRequest, VoteInfo};
use nodeop_app::crypto::Address;
use nodeop_app::genesis::AppState;
use nodeop_app::modules::bank::{MsgSend, UNOP_PER_NOP};
use nodeop_app::modules::staking::{consensus_address, MsgDelegate, MsgUndelegate, StakingParams};
use nodeop_app::state::store::collect_all;
use nodeop_app::tx::{min_fee, Msg, Tx, TxBody};
use nodeop_app::{App, AppOptions};
use nodeop_genesis::{export, parse_rfc3339, validate_json, GenesisDoc};

const CHAIN_ID: &str = "nodeop-export-test";

struct Key {
    signing: SigningKey,
    pubkey: [u8; 33],
    address: Address,
}

impl Key {
    fn new(byte: u8) -> Self {
        let signing = SigningKey::from_slice(&[byte; 32]).unwrap();
        let pubkey: [u8; 33] = signing
            .verifying_key()
            .to_encoded_point(true)
            .as_bytes()
            .try_into()
            .unwrap();
        Self {
            address: Address::from_pubkey(&pubkey),
            pubkey,
            signing,
        }
    }

    fn sign(&self, body: TxBody) -> Vec<u8> {
        let sig: Signature = self.signing.sign_prehash(&body.sign_bytes()).unwrap();
        let sig = sig.normalize_s().unwrap_or(sig);
        Tx {
            body,
            pubkey: self.pubkey,
            signature: sig.to_bytes().into(),
        }
        .to_bytes()
    }

    fn send(&self, app: &App, nonce: u64, to: &Address, amount: u128) -> Vec<u8> {
        self.tx(
            app,
            nonce,
            Msg::Send(MsgSend {
                to: to.to_bech32(),
                amount,
            }),
        )
    }

    fn tx(&self, app: &App, nonce: u64, msg: Msg) -> Vec<u8> {
        let mut body = TxBody {
            chain_id: CHAIN_ID.into(),
            nonce,
            fee: 0,
            memo: format!("tx {nonce}"),
            msgs: vec![msg],
        };
        let len = self.sign(body.clone()).len();
        body.fee = min_fee(app.tx_params().unwrap(), len).unwrap();
        self.sign(body)
    }
}

fn init(app: &mut App, doc: &GenesisDoc) {
    app.init_chain(&InitChainRequest {
        chain_id: doc.chain_id.clone(),
        genesis_time: parse_rfc3339(&doc.genesis_time).unwrap(),
        initial_height: doc.first_height(),
        app_state: serde_json::to_vec(&doc.app_state).unwrap(),
    })
    .unwrap();
}

fn options() -> AppOptions {
    AppOptions {
        check_invariants: true,
        ..AppOptions::default()
    }
}

#[test]
fn export_then_import_reproduces_the_module_state() {
    let alice = Key::new(0x11);
    let bob = Key::new(0x22);
    let carol = Key::new(0x33);
    // alice runs the genesis operator
    let consensus_key = ed25519_consensus::SigningKey::from([7; 32])
        .verification_key()
        .to_bytes();
    let validator = consensus_address(&consensus_key).to_vec();

    let mut genesis =
        GenesisDoc::new(CHAIN_ID, "2026-01-01T00:00:00.5Z", &AppState::default()).unwrap();
    // 10 s epochs: the blocks below cross an epoch boundary
    genesis
        .set_slashing_params(nodeop_app::modules::slashing::SlashingParams::devnet())
        .unwrap();
    genesis.set_staking_params(StakingParams::devnet()).unwrap();
    genesis
        .add_operator(
            alice.address,
            consensus_key,
            "v0",
            10_000 * UNOP_PER_NOP,
            100_000,
            100,
            "eu",
        )
        .unwrap();
    genesis.add_account(alice.address, 50_000_000).unwrap();
    genesis
        .add_account(bob.address, 5_000 * UNOP_PER_NOP)
        .unwrap();
    assert!(validate_json(genesis.to_json().as_bytes()).is_ok());

    let mut app = App::in_memory(options()).unwrap();
    init(&mut app, &genesis);

    // Transfers between three accounts (carol appears mid-way), bob delegating to alice's pool
    // and undelegating part of it, one failing send (it still pays the fee), an empty block,
    // and a block whose last commit lacks the validator's signature.
    let mut time = parse_rfc3339(&genesis.genesis_time).unwrap();
    let delegate = Msg::Delegate(MsgDelegate {
        operator: alice.address.to_bech32(),
        amount: 1_000 * UNOP_PER_NOP,
    });
    let undelegate = Msg::Undelegate(MsgUndelegate {
        operator: alice.address.to_bech32(),
        amount: 400 * UNOP_PER_NOP,
    });
    let blocks: Vec<Vec<Vec<u8>>> = vec![
        vec![
            alice.send(&app, 0, &bob.address, 1_000_000),
            bob.send(&app, 0, &carol.address, 300),
        ],
        vec![
            alice.send(&app, 1, &carol.address, 2_000_000),
            bob.tx(&app, 1, delegate),
        ],
        vec![],
        vec![bob.tx(&app, 2, undelegate)],
        vec![bob.send(&app, 3, &alice.address, 999_999_999_999_999)],
    ];
    let mut height = genesis.first_height();
    for txs in blocks {
        time = BlockTime {
            seconds: time.seconds + 3,
            nanos: time.nanos,
        };
        let resp = app
            .finalize_block(&BlockRequest {
                height,
                time,
                hash: vec![0; 32],
                proposer_address: validator.clone(),
                txs,
                // the genesis block has no last commit; block 3's misses the validator
                decided_last_commit: if height == 1 {
                    Vec::new()
                } else {
                    vec![VoteInfo {
                        validator_address: validator.clone(),
                        power: 10_000,
                        signed: height != 3,
                    }]
                },
                misbehavior: Vec::new(),
            })
            .unwrap();
        app.commit().unwrap();
        if height == 5 {
            assert!(!resp.tx_results[0].is_ok(), "the overdrawn send fails");
        } else {
            assert!(
                resp.tx_results.iter().all(|r| r.is_ok()),
                "{:?}",
                resp.tx_results
            );
        }
        height += 1;
    }
    // carol's first tx, after she was funded
    let last_height = height;
    let resp = app
        .finalize_block(&BlockRequest {
            height: last_height,
            time: BlockTime {
                seconds: time.seconds + 2,
                nanos: 0,
            },
            hash: vec![0; 32],
            proposer_address: validator.clone(),
            txs: vec![carol.send(&app, 0, &alice.address, 100)],
            decided_last_commit: vec![VoteInfo {
                validator_address: validator.clone(),
                power: 10_000,
                signed: true,
            }],
            misbehavior: Vec::new(),
        })
        .unwrap();
    assert!(resp.tx_results[0].is_ok(), "{:?}", resp.tx_results);
    app.commit().unwrap();

    let exported = export(&app, &genesis).unwrap();
    assert_eq!(exported.chain_id, CHAIN_ID);
    assert_eq!(exported.genesis_time, genesis.genesis_time);
    assert_eq!(exported.initial_height, last_height + 1);
    assert_eq!(exported.consensus_params, genesis.consensus_params);
    assert!(exported.validators.is_empty());
    let staking = exported.app_state().unwrap().staking;
    assert_eq!(staking.params, StakingParams::devnet());
    assert_eq!(staking.operators.len(), 1);
    assert!(
        staking.operators[0].tokens > 10_600 * UNOP_PER_NOP,
        "the self-bond, plus bob's delegation less his undelegation, plus fees paid to the pool \
         at the epoch boundary: {}",
        staking.operators[0].tokens
    );
    assert_eq!(staking.delegations.len(), 2, "alice's self-bond and bob's");
    assert_eq!(staking.unbonding_entries.len(), 1);
    assert_eq!(staking.unbonding_entries[0].amount, 400 * UNOP_PER_NOP);
    assert!(staking.last_epoch >= 1, "an epoch boundary passed");
    assert_eq!(staking.signing_infos.len(), 1);
    assert_eq!(staking.signing_infos[0].info.missed, 1, "block 2's commit");
    // the exported file is itself a valid genesis
    let checked = validate_json(exported.to_json().as_bytes());
    assert!(checked.is_ok(), "{:?}", checked.problems);

    let mut imported = App::in_memory(options()).unwrap();
    init(
        &mut imported,
        &GenesisDoc::from_json(exported.to_json().as_bytes()).unwrap(),
    );

    let module_state = |app: &App| {
        let mut all = collect_all(app.storage()).unwrap();
        all.retain(|k, _| !k.starts_with(b"chain/"));
        all
    };
    let before = module_state(&app);
    let after = module_state(&imported);
    // the run left a record of every kind the export must carry
    let families: std::collections::BTreeSet<String> = before
        .keys()
        .map(|k| {
            let text = String::from_utf8_lossy(k);
            text.splitn(3, '/').take(2).collect::<Vec<_>>().join("/")
        })
        .collect();
    for family in [
        "auth/params",
        "bank/acct",
        "bank/supply",
        "staking/params",
        "staking/op",
        "staking/del",
        "staking/unb",
        "staking/signing",
        "staking/missed",
        "staking/last_epoch",
        "staking/valset",
    ] {
        assert!(families.contains(family), "no {family} key in {families:?}");
    }
    assert_eq!(before, after);
    // the imported chain continues at the next height
    assert_eq!(imported.storage().committed().unwrap().height, last_height);
    assert_eq!(
        imported.info().last_block_height,
        0,
        "CometBFT will call InitChain"
    );
}
