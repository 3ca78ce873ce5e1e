//! A small experiment 004 (200 runs × 24 months): the same seed writes byte-identical CSVs, a
//! different seed changes them, the CSV headers are the columns documented in report.md, and the
//! model keeps its invariants (the chain never mints past `max_supply`; shocks never raise
//! survival).

use std::path::{Path, PathBuf};

use nodeop_app::modules::bank::UNOP_PER_NOP;
use nodeop_sim::monte_carlo::{self, Mode, MonteCarlo};
use nodeop_sim::Experiment;
use sha2::{Digest, Sha256};

mod common;
use common::documented_columns;

fn scenario_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../experiments/004-monte-carlo.toml")
}

fn small() -> (MonteCarlo, String) {
    let text = std::fs::read_to_string(scenario_file()).expect("the 004 scenario file");
    let Experiment::MonteCarlo(mut cfg) = nodeop_sim::parse(&text).expect("it parses") else {
        panic!("004 is a monte-carlo scenario");
    };
    cfg.runs = 200;
    cfg.months = 24;
    cfg.threads = 2;
    cfg.growth_rates = vec![cfg.base_growth];
    cfg.robustness.runs = 50;
    cfg.robustness.factors = vec![0.5];
    cfg.robustness.parameters = vec!["sell_fraction".into()];
    (*cfg, text)
}

const CSVS: [&str; 4] = [
    "runs.csv",
    "months.csv",
    "sensitivity.csv",
    "robustness.csv",
];

fn csv_hash(dir: &Path) -> String {
    let mut h = Sha256::new();
    for f in CSVS {
        let bytes = std::fs::read(dir.join(f)).expect("csv written");
        h.update(f.as_bytes());
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    }
    hex::encode(h.finalize())
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes_and_invariants_hold() {
    let (cfg, text) = small();
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let c = tempfile::tempdir().unwrap();
    let scenarios = monte_carlo::run_to_dir(&cfg, &text, a.path(), false).unwrap();
    // one thread instead of two: the split of runs over threads must not change a byte
    let mut one_thread = cfg.clone();
    one_thread.threads = 1;
    monte_carlo::run_to_dir(&one_thread, &text, b.path(), false).unwrap();
    assert_eq!(
        csv_hash(a.path()),
        csv_hash(b.path()),
        "same seed, same CSVs"
    );

    let mut other = cfg.clone();
    other.seed = cfg.seed + 1;
    monte_carlo::run_to_dir(&other, &text, c.path(), false).unwrap();
    assert_ne!(
        csv_hash(a.path()),
        csv_hash(c.path()),
        "another seed, other CSVs"
    );

    // the headers are the documented columns
    let report = std::fs::read_to_string(a.path().join("report.md")).unwrap();
    for f in CSVS {
        let csv = std::fs::read_to_string(a.path().join(f)).unwrap();
        let header: Vec<String> = csv
            .lines()
            .next()
            .unwrap()
            .split(',')
            .map(String::from)
            .collect();
        assert_eq!(
            header,
            documented_columns(&report, f),
            "{f}'s header vs report.md"
        );
        let rows = csv.lines().skip(1).count();
        assert!(rows > 0, "{f} has rows");
        assert!(
            csv.lines()
                .skip(1)
                .all(|l| l.split(',').count() == header.len()),
            "{f}: every row has every column"
        );
    }
    for svg in [
        "price_fan_chain.svg",
        "price_fan_literal.svg",
        "survival_by_growth.svg",
    ] {
        let s = std::fs::read_to_string(a.path().join(svg)).unwrap();
        assert!(s.starts_with("<svg"), "{svg} is an SVG");
    }

    // invariants of the model
    let cap = u128::from(cfg.issuance.max_supply_nop) * UNOP_PER_NOP;
    for s in &scenarios {
        assert_eq!(s.runs.len(), cfg.runs);
        assert_eq!(s.price.len(), cfg.runs * cfg.months);
        for (i, r) in s.runs.iter().enumerate() {
            assert!(
                r.max_supply_seen <= cap,
                "{:?}: supply past max_supply",
                s.mode
            );
            assert!(s.prices(i).iter().all(|p| p.is_finite() && *p > 0.0));
            assert!(s
                .supplies(i)
                .iter()
                .all(|&x| x <= cfg.issuance.max_supply_nop as f64));
            if !s.shocks {
                assert_eq!(r.shocks, 0);
            }
        }
    }
    for mode in [Mode::Literal, Mode::Chain] {
        let survival = |shocks: bool| {
            scenarios
                .iter()
                .find(|s| s.mode == mode && s.shocks == shocks)
                .map(|s| s.survival())
                .unwrap()
        };
        assert!(
            survival(false) >= survival(true),
            "{mode:?}: survival without shocks {} < with shocks {}",
            survival(false),
            survival(true)
        );
    }
    // the chain's first period mints revenue × 2 (s(0) = 1): the supply grows in month 0
    let chain = scenarios.iter().find(|s| s.mode == Mode::Chain).unwrap();
    assert!(chain.supplies(0)[0] > cfg.issuance.genesis_supply_nop as f64);
}
