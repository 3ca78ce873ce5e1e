//! A small experiment 001 (10 operators × 10 coprocessors × 20 periods, the base parameters
//! again for 10 periods and one 10-period sweep run): every block runs with the App's invariants checked and Σ balances = total supply
//! asserted (conservation of value); the agents' txs never fail except PostTasks the chain
//! refuses; tasks are posted, finalized and delivered and slots are sold and won; with three
//! colluding liars of ten, an outvoted honest member disputes its slash and the re-execution (or
//! the vote it falls back to) overturns it, and no liar ever disputes; the same seed
//! writes byte-identical CSVs and another seed other bytes; the CSV headers are the columns
//! report.md documents.

use std::path::{Path, PathBuf};

use nodeop_sim::lb_output;
use nodeop_sim::load_balancing::{run_all, LoadBalancing};
use nodeop_sim::Experiment;
use sha2::{Digest, Sha256};

mod common;
use common::documented_columns;

fn scenario_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../experiments/001-load-balancing.toml")
}

fn small() -> (LoadBalancing, String) {
    let text = std::fs::read_to_string(scenario_file()).expect("the 001 scenario file");
    let Experiment::LoadBalancing(cfg) = nodeop_sim::parse(&text).expect("it parses") else {
        panic!("001 is a load-balancing scenario");
    };
    let mut cfg = *cfg;
    cfg.operators = 10;
    cfg.coprocessors = 10;
    cfg.periods = 20;
    cfg.clients.tasks_per_period = 10.0;
    cfg.clients.clients = 3;
    cfg.demand.shock_period = Some(10);
    cfg.demand.recover_periods = 5;
    cfg.sweep.slashing_factor_ppm = vec![4_000_000];
    cfg.sweep.k_low_ppm = Vec::new();
    cfg.sweep.k_high_ppm = Vec::new();
    cfg.sweep.load_opt_ppm = Vec::new();
    // three liars of ten, so that two of them can outvote an honest member of a committee of
    // three and the honest member disputes
    cfg.operator.profiles.honest = 0.5;
    cfg.operator.profiles.liar = 0.3;
    cfg.operator.liar_lie = 1.0;
    cfg.sweep.periods = 10;
    cfg.threads = 2;
    cfg.check_every_block = true;
    (cfg, text)
}

fn csv_hash(csvs: &[(&str, String)]) -> String {
    let mut h = Sha256::new();
    for (name, text) in csvs {
        h.update(name.as_bytes());
        h.update((text.len() as u64).to_le_bytes());
        h.update(text.as_bytes());
    }
    hex::encode(h.finalize())
}

#[test]
fn load_balancing_is_deterministic_and_conserves_value() {
    let (cfg, text) = small();
    let a = run_all(&cfg, false).expect("runs");
    assert_eq!(
        a.len(),
        3,
        "the base run, the base parameters at the sweep's length, one sweep run"
    );
    let base = &a[0];
    assert_eq!(base.periods.len(), 20);
    assert_eq!(a[1].periods.len(), 10);
    assert_eq!(a[2].periods.len(), 10);
    // the same seed and parameters: the shorter run is the longer one's beginning
    let first = |csv: String, label: &str, n: usize| -> Vec<String> {
        csv.lines()
            .filter(|l| l.starts_with(&format!("{label},")))
            .take(n)
            .map(|l| l.split_once(',').map_or(String::new(), |x| x.1.to_string()))
            .collect()
    };
    let all = lb_output::periods_csv(&a);
    assert_eq!(first(all.clone(), "base", 10), first(all, "base @10", 10));

    let sum = |f: &dyn Fn(&nodeop_sim::load_balancing::PeriodRow) -> u64| -> u64 {
        base.periods.iter().map(f).sum()
    };
    let posted = sum(&|p| p.posted);
    assert!(posted >= 150, "about 200 tasks asked for, {posted} posted");
    assert!(sum(&|p| p.finalized) > posted / 2);
    assert!(sum(&|p| p.delivered) > 0);
    assert!(sum(&|p| p.auctions_won) > 0, "slots are sold and won");
    for p in &base.periods {
        assert_eq!(
            p.failed_txs, p.refused,
            "period {}: only refused PostTasks fail",
            p.period
        );
    }
    // the liars lie and some of it is caught
    let lies: u64 = base.operators.iter().map(|o| o.lies).sum();
    assert!(lies > 0);
    assert!(base.operators.iter().any(|o| o.slashed_nop > 0.0));
    let (disputes, overturned, upheld, voted) = (
        sum(&|p| p.disputes),
        sum(&|p| p.disputes_overturned),
        sum(&|p| p.disputes_upheld),
        sum(&|p| p.disputes_voted),
    );
    eprintln!("disputes {disputes}, overturned {overturned}, upheld {upheld}, voted {voted}");
    assert!(disputes > 0, "outvoted honest members dispute");
    assert!(overturned > 0, "some disputes are overturned");
    assert!(overturned + upheld <= disputes);
    // only operators whose answer was the true one dispute: never a liar
    for o in &base.operators {
        if o.profile == nodeop_sim::agents::Profile::Liar {
            assert_eq!(o.disputes, 0, "operator {} is a liar", o.index);
        }
        assert!(o.disputes_won <= o.disputes);
    }

    // same seed, same bytes (here one run at a time, so each run signs and verifies on every
    // core); another seed, other bytes
    let csv_a = lb_output::csvs(&a);
    let mut one_at_a_time = cfg.clone();
    one_at_a_time.threads = 1;
    let b = run_all(&one_at_a_time, false).expect("runs");
    let csv_b = lb_output::csvs(&b);
    for ((name, x), (_, y)) in csv_a.iter().zip(&csv_b) {
        assert_eq!(x, y, "{name} differs between two runs with the same seed");
    }
    assert_eq!(csv_hash(&csv_a), csv_hash(&csv_b));
    let mut other = cfg.clone();
    other.seed += 1;
    other.sweep.slashing_factor_ppm.clear();
    other.periods = 5;
    let c = run_all(&other, false).expect("runs");
    let first = |csv: String| csv.lines().take(6).collect::<Vec<_>>().join("\n");
    assert_ne!(
        first(lb_output::periods_csv(&c)),
        first(lb_output::periods_csv(&a)),
        "another seed draws other agents and tasks: other numbers in the first 5 periods"
    );

    // every CSV header is documented in the report, in order
    let report = lb_output::report(&cfg, &text, &a);
    for (name, csv) in &csv_a {
        let header: Vec<String> = csv
            .lines()
            .next()
            .expect("a header")
            .split(',')
            .map(String::from)
            .collect();
        assert_eq!(header, documented_columns(&report, name), "{name}");
    }
}

/// Price-elastic demand: clients whose highest acceptable unit price is below the chain's price
/// send no post (counted `priced_out`, not refused); with the scenario's range they all post.
#[test]
fn clients_post_nothing_above_their_highest_price() {
    let (mut cfg, _) = small();
    cfg.periods = 4;
    cfg.sweep.slashing_factor_ppm.clear();
    cfg.check_every_block = false;
    let posted_and_priced_out = |cfg: &LoadBalancing| -> (u64, u64, u64, u64) {
        let runs = run_all(cfg, false).expect("runs");
        let p = &runs[0].periods;
        (
            p.iter().map(|p| p.posted).sum(),
            p.iter().map(|p| p.priced_out).sum(),
            p.iter().map(|p| p.refused + p.unaffordable).sum(),
            p.iter().map(|p| p.txs).sum(),
        )
    };
    // the scenario's range starts at 5× the minimum price: nobody is priced out at the start
    let (posted, priced_out, other, _) = posted_and_priced_out(&cfg);
    assert!(posted >= 30, "about 40 tasks asked for, {posted} posted");
    assert_eq!((priced_out, other), (0, 0));
    // every client's limit below the chain's minimum price (0.1 NOP per unit)
    cfg.clients.max_unit_price_nop = Some([0.01, 0.09]);
    let (posted, priced_out, other, txs) = posted_and_priced_out(&cfg);
    assert_eq!(posted, 0);
    assert!(
        priced_out >= 30,
        "about 40 tasks asked for, {priced_out} priced out"
    );
    assert_eq!(other, 0, "nothing was sent, so nothing was refused");
    // no post and no other tx: without tasks no agent has a duty
    assert_eq!(txs, 0);
}

/// A client never sends a post its balance cannot pay: with fees far above every client's
/// balance nothing is sent (so the chain refuses nothing) and every post is `unaffordable`.
#[test]
fn clients_send_no_post_they_cannot_pay() {
    let (mut cfg, _) = small();
    cfg.periods = 4;
    cfg.sweep.slashing_factor_ppm.clear();
    cfg.check_every_block = false;
    // a fee of at least 10⁹ × the minimum: 10⁸ NOP per difficulty unit, beyond any client
    cfg.clients.fee_markup = [1e9, 1e9];
    let runs = run_all(&cfg, false).expect("runs");
    let p = &runs[0].periods;
    let sum = |f: fn(&nodeop_sim::load_balancing::PeriodRow) -> u64| p.iter().map(f).sum::<u64>();
    assert_eq!(sum(|p| p.posted), 0);
    assert_eq!(sum(|p| p.refused), 0, "nothing sent, nothing refused");
    assert_eq!(sum(|p| p.failed_txs), 0);
    assert!(
        sum(|p| p.unaffordable) >= 30,
        "about 40 tasks asked for, {} unaffordable",
        sum(|p| p.unaffordable)
    );
}
