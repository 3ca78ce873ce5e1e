//! Every scenario file the repository ships (`experiments/*.toml` and the `scenario.toml` kept
//! beside each set of results) parses and has no configuration problem, so the commands in the
//! README and in those files run as written.

use std::path::{Path, PathBuf};

use nodeop_sim::Experiment;

fn scenario_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../experiments");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("experiments/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    for dir in std::fs::read_dir(root.join("results")).expect("experiments/results/") {
        let scenario = dir.expect("an entry").path().join("scenario.toml");
        if scenario.exists() {
            files.push(scenario);
        }
    }
    files.sort();
    files
}

#[test]
fn every_scenario_file_parses_and_validates() {
    let files = scenario_files();
    assert!(files.len() >= 4, "{files:?}");
    for file in files {
        let text = std::fs::read_to_string(&file).expect("readable");
        let problems = match nodeop_sim::parse(&text) {
            Ok(Experiment::LoadBalancing(cfg)) => cfg.problems(),
            Ok(Experiment::MonteCarlo(cfg)) => cfg.problems(),
            Err(e) => panic!("{}: {e:#}", file.display()),
        };
        assert!(problems.is_empty(), "{}: {problems:?}", file.display());
    }
}
