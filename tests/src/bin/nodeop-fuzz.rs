//! Throws seeded random inputs at the in-process App: structure-aware txs of every message type
//! (plausible and wild fields, right and wrong nonces and fees, correct and broken signatures),
//! mutations of valid txs, random bytes, and random query paths, data and heights. Every tx goes
//! through CheckTx, and a block of them (accepted and refused alike, as a faulty proposer could
//! send) through FinalizeBlock and Commit, with every module invariant checked after every
//! block. Fails on any panic, on any refusal whose (codespace, code) docs/errors.md does not
//! list, and on a broken invariant; on failure it writes a reproducer file and exits 1.
//!
//! ```text
//! nodeop-fuzz [--cases N] [--seed S] [--block-txs K] [--out DIR]
//!   --cases N      inputs to throw (default 1000000)
//!   --seed S       the run's seed (default 1); the same seed gives the same inputs
//!   --block-txs K  tx inputs per block (default 40; the block holds those CheckTx accepted
//!                  and some it refused)
//!   --out DIR      where a reproducer file goes (default .)
//!   --forget CS/C  treat code C of codespace CS as undocumented: a self-test of the checker
//!                  (the run must fail at the first such refusal and write a reproducer)
//! ```
//!
//! Build it in release mode for long runs:
//! `cargo run --release -p nodeop-tests --bin nodeop-fuzz -- --cases 1000000`.

#![allow(clippy::float_arithmetic)] // cases per second for the report, not in the state machine

use std::collections::BTreeSet;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::time::Instant;

use nodeop_app::crypto::Address;
use nodeop_app::modules::bank::MsgSend;
use nodeop_app::modules::coprocessors::{
    MsgAddCollateral, MsgBid, MsgEditCoprocessor, MsgOpenAuction, MsgRegisterCoprocessor,
    MsgWithdrawCollateral,
};
use nodeop_app::modules::issuance::MsgClaimVested;
use nodeop_app::modules::slashing::{
    Attestation, Evidence, MsgDisputeSlash, MsgProposeSlash, MsgVoteDispute, Offence,
};
use nodeop_app::modules::staking::{
    MsgDelegate, MsgEditOperator, MsgRegisterOperator, MsgUndelegate, MsgUnjail,
};
use nodeop_app::modules::tasks::{
    Consistency, MsgCommitResult, MsgConfirmSubmission, MsgPostTask, MsgRevealResult, TaskKind,
    TaskPayload,
};
use nodeop_app::tx::{Msg, Tx, TxBody};
use nodeop_driver::chain::{Key, TestChain};
use nodeop_driver::coprocessors::CoproGenesis;
use nodeop_driver::issuance::{schedule, task_genesis, GENESIS_TIME};
use nodeop_driver::rng::Rng;
use nodeop_driver::tasks::{salt, NOP};

const ERRORS_MD: &str = include_str!("../../../docs/errors.md");

/// Every (codespace, code) docs/errors.md lists.
fn documented() -> BTreeSet<(String, u32)> {
    let mut out = BTreeSet::new();
    let mut codespace = None;
    for line in ERRORS_MD.lines() {
        if let Some(rest) = line.strip_prefix("## codespace `") {
            codespace = rest.split('`').next().map(str::to_string);
            continue;
        }
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() > 3 {
            if let (Some(cs), Ok(code)) = (&codespace, cells[1].parse::<u32>()) {
                out.insert((cs.clone(), code));
            }
        }
    }
    out
}

struct Args {
    cases: u64,
    seed: u64,
    block_txs: usize,
    out: PathBuf,
    /// Codes to treat as undocumented (a self-test: the run must then fail with a reproducer).
    forget: Vec<(String, u32)>,
}

fn args() -> Args {
    let mut a = Args {
        cases: 1_000_000,
        seed: 1,
        block_txs: 40,
        out: PathBuf::from("."),
        forget: Vec::new(),
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    let usage = || -> ! {
        eprintln!(
            "usage: nodeop-fuzz [--cases N] [--seed S] [--block-txs K] [--out DIR] \
             [--forget CODESPACE/CODE]"
        );
        std::process::exit(2)
    };
    while i < argv.len() {
        let value = argv.get(i + 1).cloned().unwrap_or_else(|| usage());
        let num = || value.parse::<u64>().unwrap_or_else(|_| usage());
        match argv[i].as_str() {
            "--cases" => a.cases = num(),
            "--seed" => a.seed = num(),
            "--block-txs" => a.block_txs = num().max(1) as usize,
            "--out" => a.out = PathBuf::from(&value),
            "--forget" => {
                let (cs, code) = value.split_once('/').unwrap_or_else(|| usage());
                a.forget
                    .push((cs.to_string(), code.parse().unwrap_or_else(|_| usage())));
            }
            _ => usage(),
        }
        i += 2;
    }
    a
}

/// The keys that sign: operators, the client, coprocessors (one registered), the vesting
/// beneficiary, and strangers with no funds.
struct Actors {
    operators: Vec<Key>,
    client: Key,
    coprocessors: Vec<Key>,
    team: Key,
    strangers: Vec<Key>,
}

impl Actors {
    fn all(&self) -> Vec<&Key> {
        self.operators
            .iter()
            .chain([&self.client, &self.team])
            .chain(self.coprocessors.iter())
            .chain(self.strangers.iter())
            .collect()
    }
}

fn start() -> (TestChain, Actors) {
    let team = Key::from_seed("fuzz team");
    let mut g = task_genesis(4, 2, 4);
    g.state.issuance.vesting.push(schedule(
        &team.address,
        1_000 * NOP,
        GENESIS_TIME + 5,
        10,
        500,
    ));
    g.state
        .bank
        .accounts
        .push(nodeop_app::modules::bank::genesis::GenesisAccount {
            address: team.address,
            balance: 10 * NOP,
            nonce: 0,
        });
    let cn = CoproGenesis::with_tasks(g, 2)
        .registered_at_genesis(0, 10, 200 * NOP, 0)
        .start();
    let actors = Actors {
        operators: cn.net.operators.clone(),
        client: cn.net.client.clone(),
        coprocessors: cn.coprocessors.clone(),
        team,
        strangers: vec![
            Key::from_seed("fuzz stranger 0"),
            Key::from_seed("fuzz stranger 1"),
        ],
    };
    (cn.net.chain, actors)
}

fn pick<'a, T>(rng: &mut Rng, items: &'a [T]) -> &'a T {
    &items[rng.below(items.len() as u64) as usize]
}

fn chance(rng: &mut Rng, percent: u64) -> bool {
    rng.below(100) < percent
}

thread_local! {
    /// Whether the message being built draws plausible values only (half of the txs): wild
    /// values fail early, plausible ones reach deep into the handlers.
    static PLAUSIBLE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn plausible() -> bool {
    PLAUSIBLE.with(|p| p.get())
}

fn amount(rng: &mut Rng) -> u128 {
    if plausible() {
        return u128::from(1 + rng.below(50)) * NOP;
    }
    match rng.below(10) {
        0 => 0,
        1 => u128::MAX,
        2 => u128::from(rng.next_u64()) << 64 | u128::from(rng.next_u64()),
        3..=5 => u128::from(rng.below(1_000)),
        _ => u128::from(1 + rng.below(5_000)) * NOP,
    }
}

fn small_id(rng: &mut Rng) -> u64 {
    if plausible() {
        return 1 + rng.below(8);
    }
    match rng.below(10) {
        0 => 0,
        1 => u64::MAX,
        2 => rng.next_u64(),
        _ => 1 + rng.below(12),
    }
}

fn text(rng: &mut Rng) -> String {
    if plausible() {
        return format!("fuzz-{}", rng.below(1_000));
    }
    match rng.below(6) {
        0 => String::new(),
        1 => "x".repeat(1 + rng.below(400) as usize),
        2 => "é\u{0}\u{202e}ünï".into(),
        _ => format!("fuzz-{}", rng.below(1_000)),
    }
}

fn address(rng: &mut Rng, actors: &Actors) -> String {
    if plausible() {
        return if chance(rng, 70) {
            pick(rng, &actors.operators).address.to_bech32()
        } else {
            pick(rng, &actors.all()).address.to_bech32()
        };
    }
    match rng.below(8) {
        0 => String::new(),
        1 => "nodeop1notanaddress".into(),
        2 => Address(rng.bytes::<20>()).to_bech32(),
        3 => text(rng),
        _ => pick(rng, &actors.all()).address.to_bech32(),
    }
}

fn bytes(rng: &mut Rng, max: u64) -> Vec<u8> {
    let n = rng.below(max + 1) as usize;
    (0..n).map(|_| rng.below(256) as u8).collect()
}

fn attestation(rng: &mut Rng, key: &Key, chain_id: &str, task_id: u64) -> Attestation {
    let chain_id = if chance(rng, 85) {
        chain_id.to_string()
    } else {
        text(rng)
    };
    let result_hash = if chance(rng, 50) {
        [7; 32]
    } else {
        rng.bytes::<32>()
    };
    let mut a = key.attest(&chain_id, task_id, result_hash);
    if chance(rng, 10) {
        a.signature[rng.below(64) as usize] ^= 1;
    }
    a
}

/// A message of a random type, with plausible or wild fields.
fn msg(rng: &mut Rng, actors: &Actors, signer: &Key, chain_id: &str) -> Msg {
    let results: [&[u8]; 3] = [b"42", b"hash", b"7"];
    match rng.below(20) {
        0 => MsgSend {
            to: address(rng, actors),
            amount: amount(rng),
        }
        .into(),
        1 => MsgRegisterOperator {
            consensus_pubkey: rng.bytes::<32>(),
            moniker: text(rng),
            capacity_units: small_id(rng),
            region: text(rng),
            commission_ppm: rng.below(2_000_000) as u32,
            self_bond: amount(rng),
        }
        .into(),
        2 => MsgEditOperator {
            moniker: chance(rng, 50).then(|| text(rng)),
            capacity_units: chance(rng, 50).then(|| small_id(rng)),
            region: chance(rng, 50).then(|| text(rng)),
            commission_ppm: chance(rng, 50).then(|| rng.below(2_000_000) as u32),
        }
        .into(),
        3 => MsgDelegate {
            operator: address(rng, actors),
            amount: amount(rng),
        }
        .into(),
        4 => MsgUndelegate {
            operator: address(rng, actors),
            amount: amount(rng),
        }
        .into(),
        5 => MsgUnjail {}.into(),
        6 => {
            let offence = *pick(
                rng,
                &[
                    Offence::ResultMismatch,
                    Offence::Equivocation,
                    Offence::FalseSubmission,
                    Offence::Downtime,
                    Offence::Performance,
                    Offence::Byzantine,
                ],
            );
            let task_id = small_id(rng);
            let evidence = match rng.below(4) {
                0 => {
                    let k = pick(rng, &actors.operators).clone();
                    Evidence::Equivocation {
                        first: attestation(rng, &k, chain_id, task_id),
                        second: attestation(rng, &k, chain_id, task_id),
                    }
                }
                1 => Evidence::Statement {
                    infraction_id: task_id,
                    infraction_height: small_id(rng),
                    description: text(rng),
                    reference: text(rng),
                },
                2 => Evidence::Downtime {
                    period: small_id(rng),
                    uptime_ppm: rng.below(2_000_000) as u32,
                },
                _ => Evidence::ResultMismatch { task_id },
            };
            MsgProposeSlash {
                operator: address(rng, actors),
                offence,
                evidence,
            }
            .into()
        }
        7 => MsgDisputeSlash {
            proposal: small_id(rng),
            reason: text(rng),
        }
        .into(),
        8 => MsgVoteDispute {
            proposal: small_id(rng),
            uphold: chance(rng, 50),
        }
        .into(),
        9 => MsgPostTask {
            kind: if chance(rng, 70) {
                TaskKind::Exact
            } else {
                TaskKind::Numeric {
                    scale: rng.below(40) as u8,
                    tolerance_ppm: rng.below(2_000_000) as u32,
                }
            },
            consistency: *pick(
                rng,
                &[
                    Consistency::Eventual,
                    Consistency::Session,
                    Consistency::Strong,
                ],
            ),
            payload: if chance(rng, 80) {
                TaskPayload::Inline(bytes(rng, 64))
            } else {
                TaskPayload::Reference {
                    sha256: rng.bytes::<32>(),
                    uri: text(rng),
                }
            },
            difficulty_units: if chance(rng, 80) {
                1 + rng.below(4)
            } else {
                small_id(rng)
            },
            min_reputation_ppm: if chance(rng, 80) {
                0
            } else {
                rng.below(2_000_000) as u32
            },
            fee: if chance(rng, 70) {
                u128::from(1 + rng.below(200)) * NOP
            } else {
                amount(rng)
            },
        }
        .into(),
        10 => {
            let task_id = small_id(rng);
            let commitment = if chance(rng, 70) {
                let result = *pick(rng, &results);
                nodeop_app::modules::tasks::msg::commitment(
                    task_id,
                    &signer.address,
                    result,
                    &salt(task_id, &signer.address, result),
                )
            } else {
                rng.bytes::<32>()
            };
            MsgCommitResult {
                task_id,
                commitment,
            }
            .into()
        }
        11 => {
            let task_id = small_id(rng);
            let result = pick(rng, &results).to_vec();
            let salt = if chance(rng, 80) {
                salt(task_id, &signer.address, &result)
            } else {
                rng.bytes::<32>()
            };
            MsgRevealResult {
                task_id,
                result: if chance(rng, 90) {
                    result
                } else {
                    bytes(rng, 300)
                },
                salt,
            }
            .into()
        }
        12 => MsgConfirmSubmission {
            task_id: small_id(rng),
            target_ref: text(rng),
        }
        .into(),
        13 => MsgClaimVested {}.into(),
        14 => MsgRegisterCoprocessor {
            capacity_units: small_id(rng),
            collateral: amount(rng),
            moniker: text(rng),
        }
        .into(),
        15 => MsgEditCoprocessor {
            capacity_units: chance(rng, 50).then(|| small_id(rng)),
            moniker: chance(rng, 50).then(|| text(rng)),
        }
        .into(),
        16 => MsgAddCollateral {
            amount: amount(rng),
        }
        .into(),
        17 => MsgWithdrawCollateral {
            amount: amount(rng),
        }
        .into(),
        18 => MsgOpenAuction {
            task_id: small_id(rng),
            start_price: amount(rng),
            floor_price: amount(rng),
        }
        .into(),
        _ => MsgBid {
            auction_id: small_id(rng),
        }
        .into(),
    }
}

/// A structure-aware tx: half plausible (a funded signer, one message of plausible values, the
/// pending nonce and the minimum fee, a good signature), half wild (any signer, none or several
/// messages of any values, wrong nonces, fees, chain ids, memos and signatures).
fn structured_tx(rng: &mut Rng, chain: &TestChain, actors: &Actors) -> Vec<u8> {
    let all = actors.all();
    let plausible = chance(rng, 50);
    PLAUSIBLE.with(|p| p.set(plausible));
    let params = chain.params();
    if plausible {
        // a funded signer, one message, the right nonce and fee, signed correctly
        let funded: Vec<&Key> = actors
            .operators
            .iter()
            .chain([&actors.client])
            .chain(actors.coprocessors.iter())
            .collect();
        let signer = (*pick(rng, &funded)).clone();
        let m = msg(rng, actors, &signer, &chain.chain_id);
        let nonce = chain.app.pending_account(&signer.address).nonce;
        return signer.tx(&chain.chain_id, &params, nonce, vec![m]);
    }
    let signer = (*pick(rng, &all)).clone();
    let msgs: Vec<Msg> = (0..match rng.below(10) {
        0 => 0,
        1 => 2 + rng.below(3),
        _ => 1,
    })
        .map(|_| msg(rng, actors, &signer, &chain.chain_id))
        .collect();
    let pending = chain.app.pending_account(&signer.address).nonce;
    let nonce = match rng.below(10) {
        0 => pending.wrapping_add(1 + rng.below(3)),
        1 => pending.saturating_sub(1),
        2 => rng.next_u64(),
        _ => pending,
    };
    let valid = signer.tx(&chain.chain_id, &params, nonce, msgs);
    if chance(rng, 60) {
        return valid;
    }
    let Ok(tx) = borsh::from_slice::<Tx>(&valid) else {
        return valid;
    };
    let mut body: TxBody = tx.body;
    match rng.below(4) {
        0 => body.fee = amount(rng),
        1 => body.chain_id = text(rng),
        2 => body.memo = text(rng),
        _ => {}
    }
    let mut signed = signer.sign(body);
    match rng.below(3) {
        0 => signed.signature[rng.below(64) as usize] ^= 1 << rng.below(8),
        1 => signed.pubkey = pick(rng, &all).pubkey,
        _ => {}
    }
    signed.to_bytes()
}

fn mutate(rng: &mut Rng, mut tx: Vec<u8>) -> Vec<u8> {
    for _ in 0..1 + rng.below(3) {
        let n = tx.len().max(1);
        let at = rng.below(n as u64) as usize;
        match rng.below(4) {
            0 => {
                if let Some(b) = tx.get_mut(at) {
                    *b ^= 1 << rng.below(8);
                }
            }
            1 => tx.truncate(at),
            2 => tx.insert(at.min(tx.len()), rng.below(256) as u8),
            _ => {
                for j in 0..1 + rng.below(16) as usize {
                    if let Some(b) = tx.get_mut(at + j) {
                        *b = rng.below(256) as u8;
                    }
                }
            }
        }
    }
    tx
}

fn query_path(rng: &mut Rng, actors: &Actors) -> String {
    let a = pick(rng, &actors.all()).address.to_bech32();
    let id = small_id(rng);
    let b = pick(rng, &actors.all()).address.to_bech32();
    let paths = [
        format!("/account/{a}"),
        format!("/pending/account/{a}"),
        "/supply".into(),
        "/params".into(),
        "/status".into(),
        "/validators".into(),
        "/store".into(),
        format!("/bank/{}", pick(rng, &["supply", "module", "x"])),
        format!(
            "/staking/{}",
            pick(
                rng,
                &[
                    "all",
                    "bonded",
                    "inactive",
                    "jailed",
                    "tombstoned",
                    "params"
                ]
            )
        ),
        format!("/staking/operator/{a}"),
        format!("/staking/delegation/{a}/{b}"),
        format!("/staking/delegations/{a}"),
        format!("/staking/delegators/{a}"),
        format!("/staking/unbonding/{a}"),
        "/staking/validators".to_string(),
        format!("/reputation/record/{a}"),
        format!("/reputation/load/{a}"),
        format!("/slashing/proposal/{id}"),
        "/slashing/proposals".to_string(),
        format!("/slashing/votes/{id}"),
        format!("/slashing/slashes/{a}"),
        format!("/tasks/task/{id}"),
        format!("/tasks/result/{id}"),
        format!("/tasks/schedule/{id}"),
        "/tasks/price".to_string(),
        "/tasks/capacity".to_string(),
        "/tasks/list".to_string(),
        format!("/issuance/period/{id}"),
        "/issuance/periods".to_string(),
        format!("/issuance/payouts/{id}"),
        format!("/issuance/payout/{id}/{a}"),
        format!("/issuance/metrics/{id}"),
        format!("/issuance/vesting/{a}"),
        "/issuance/subsidy".to_string(),
        "/issuance/epoch".to_string(),
        format!("/issuance/work/{a}"),
        format!("/coprocessors/coprocessor/{a}"),
        format!("/coprocessors/auction/{id}"),
        "/coprocessors/auctions".to_string(),
        format!("/coprocessors/bid/{id}/{a}"),
        format!("/coprocessors/price/{id}"),
        "/coprocessors/list".to_string(),
    ];
    let mut p = pick(rng, &paths).clone();
    match rng.below(10) {
        0 => p.push_str(&format!("/{}", text(rng))),
        1 => p = String::from_utf8_lossy(&mutate(rng, p.into_bytes())).into_owned(),
        2 => p.push_str("?limit=99999999999&after=zz"),
        _ => {}
    }
    p
}

/// What went wrong, for the reproducer file.
struct Failure {
    case: u64,
    what: String,
    input: String,
}

fn panic_message(e: &(dyn std::any::Any + Send)) -> String {
    e.downcast_ref::<String>()
        .cloned()
        .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "panic".into())
}

fn main() {
    let args = args();
    let mut documented = documented();
    for f in &args.forget {
        documented.remove(f);
    }
    let mut rng = Rng::new(args.seed);
    let (mut chain, actors) = start();
    // quiet panics: each is caught and reported once with its case
    std::panic::set_hook(Box::new(|_| {}));
    let started = Instant::now();
    let mut reached: BTreeSet<(String, u32)> = BTreeSet::new();
    let (mut accepted, mut blocks, mut queries) = (0u64, 0u64, 0u64);
    let mut block: Vec<Vec<u8>> = Vec::new();
    let mut valid_pool: Vec<Vec<u8>> = Vec::new();
    let mut failure: Option<Failure> = None;
    let mut case = 0u64;
    let mut tx_cases = 0usize;
    while case < args.cases && failure.is_none() {
        let kind = rng.below(100);
        if kind >= 80 {
            // a query
            let path = query_path(&mut rng, &actors);
            let data = if chance(&mut rng, 30) {
                bytes(&mut rng, 80)
            } else {
                Vec::new()
            };
            let height = match rng.below(6) {
                0 => chain.height,
                1 => chain.height.saturating_sub(1 + rng.below(5)),
                2 => rng.next_u64(),
                3 => chain.height + 1 + rng.below(3),
                _ => 0,
            };
            let prove = chance(&mut rng, 50);
            queries += 1;
            let r = catch_unwind(AssertUnwindSafe(|| {
                chain.query(&path, &data, height, prove)
            }));
            match r {
                Ok(q) if q.code == 0 => {}
                Ok(q) => {
                    let key = (q.codespace.clone(), q.code);
                    if !documented.contains(&key) {
                        failure = Some(Failure {
                            case,
                            what: format!("undocumented query refusal {key:?}: {}", q.log),
                            input: format!(
                                "query {path:?} data {} height {height} prove {prove}",
                                hex::encode(&data)
                            ),
                        });
                    }
                    reached.insert(key);
                }
                Err(e) => {
                    failure = Some(Failure {
                        case,
                        what: format!("panic in Query: {}", panic_message(&*e)),
                        input: format!(
                            "query {path:?} data {} height {height} prove {prove}",
                            hex::encode(&data)
                        ),
                    })
                }
            }
        } else {
            tx_cases += 1;
            let tx = if kind < 55 || valid_pool.is_empty() {
                structured_tx(&mut rng, &chain, &actors)
            } else if kind < 75 {
                let base = pick(&mut rng, &valid_pool).clone();
                mutate(&mut rng, base)
            } else {
                bytes(&mut rng, 400)
            };
            let r = catch_unwind(AssertUnwindSafe(|| chain.check(&tx)));
            match r {
                Ok(o) if o.code == 0 => {
                    accepted += 1;
                    if valid_pool.len() < 256 {
                        valid_pool.push(tx.clone());
                    } else {
                        let i = rng.below(256) as usize;
                        valid_pool[i] = tx.clone();
                    }
                    block.push(tx);
                }
                Ok(o) => {
                    let key = (o.codespace.clone(), o.code);
                    if !documented.contains(&key) {
                        failure = Some(Failure {
                            case,
                            what: format!("undocumented CheckTx refusal {key:?}: {}", o.log),
                            input: format!("tx {}", hex::encode(&tx)),
                        });
                    }
                    reached.insert(key);
                    // a faulty proposer may include it anyway
                    if chance(&mut rng, 15) {
                        block.push(tx);
                    }
                }
                Err(e) => {
                    failure = Some(Failure {
                        case,
                        what: format!("panic in CheckTx: {}", panic_message(&*e)),
                        input: format!("tx {}", hex::encode(&tx)),
                    })
                }
            }
        }
        case += 1;
        if failure.is_none() && (tx_cases >= args.block_txs || case == args.cases) {
            tx_cases = 0;
            let txs = std::mem::take(&mut block);
            blocks += 1;
            let r = catch_unwind(AssertUnwindSafe(|| chain.finalize_and_commit(txs.clone())));
            match r {
                Ok(resp) => {
                    for o in &resp.tx_results {
                        if o.code == 0 {
                            continue;
                        }
                        let key = (o.codespace.clone(), o.code);
                        if !documented.contains(&key) {
                            failure = Some(Failure {
                                case,
                                what: format!(
                                    "undocumented FinalizeBlock result {key:?}: {}",
                                    o.log
                                ),
                                input: block_input(&txs),
                            });
                        }
                        reached.insert(key);
                    }
                }
                Err(e) => {
                    failure = Some(Failure {
                        case,
                        what: format!(
                            "panic in FinalizeBlock or Commit (a broken invariant halts here): {}",
                            panic_message(&*e)
                        ),
                        input: block_input(&txs),
                    })
                }
            }
            // epochs and issuance periods go by now and then
            if failure.is_none() && chance(&mut rng, 5) {
                chain.block_seconds = 1 + rng.below(30) as i64;
                let r = catch_unwind(AssertUnwindSafe(|| chain.finalize_and_commit(Vec::new())));
                chain.block_seconds = 1;
                blocks += 1;
                if let Err(e) = r {
                    failure = Some(Failure {
                        case,
                        what: format!("panic in an empty block: {}", panic_message(&*e)),
                        input: "an empty block after a time jump".into(),
                    });
                }
            }
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "cases {case}  seed {}  wall {secs:.1} s  {:.0} cases/s  blocks {blocks}  height {}  \
         txs accepted by CheckTx {accepted}  queries {queries}  distinct refusal codes {}  \
         panics {}",
        args.seed,
        case as f64 / secs.max(1e-9),
        chain.height,
        reached.len(),
        u8::from(
            failure
                .as_ref()
                .is_some_and(|f| f.what.starts_with("panic"))
        )
    );
    println!(
        "codes reached: {}",
        reached
            .iter()
            .map(|(cs, c)| format!("{cs}/{c}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    if let Some(f) = failure {
        let path = args.out.join(format!(
            "nodeop-fuzz-failure-seed{}-case{}.txt",
            args.seed, f.case
        ));
        let text = format!(
            "nodeop-fuzz failure\nseed {}\ncase {}\nwhat {}\ninput {}\n\nreproduce (the run is \
             deterministic in its seed): nodeop-fuzz --seed {} --cases {} --block-txs {}\n",
            args.seed,
            f.case,
            f.what,
            f.input,
            args.seed,
            f.case + 1,
            args.block_txs
        );
        match std::fs::write(&path, &text) {
            Ok(()) => eprintln!(
                "FAILED at case {}: {}\nreproducer: {}",
                f.case,
                f.what,
                path.display()
            ),
            Err(e) => eprintln!(
                "FAILED at case {}: {}\n(cannot write {}: {e})\n{text}",
                f.case,
                f.what,
                path.display()
            ),
        }
        std::process::exit(1);
    }
}

fn block_input(txs: &[Vec<u8>]) -> String {
    format!(
        "block of {} txs: {}",
        txs.len(),
        txs.iter().map(hex::encode).collect::<Vec<_>>().join(",")
    )
}
