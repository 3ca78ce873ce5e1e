//! nodeop-sim: runs the experiments in `experiments/*.toml` and writes per-run and per-period
//! CSVs, SVG plots and a `report.md` that puts the figures, the parameters and the headline
//! numbers together.
//!
//! A scenario file's `kind` selects the experiment:
//! - `monte-carlo` ([`monte_carlo`]): experiment 004, the token-economics Monte Carlo, with the
//!   chain's mint, subsidy decay, supply cap and payout computed by the issuance module itself
//!   ([`chain`]).
//! - `load-balancing` ([`load_balancing`]): experiment 001, operators, coprocessors and clients
//!   ([`agents`]) acting through signed txs on the real App, block by block; outputs in
//!   [`lb_output`].
//!
//! The same seed gives byte-identical CSVs: every random number comes from a seeded generator,
//! runs are merged in run order whatever the thread count, and the wall time appears only in the
//! report and on stderr.
#![allow(clippy::float_arithmetic)] // the economics model and the plots are floats; the chain's own integer functions decide mint and payout

pub mod agents;
pub mod chain;
pub mod lb_output;
pub mod load_balancing;
pub mod monte_carlo;
pub mod plot;

use std::path::Path;

use anyhow::{bail, Context, Result};

/// A parsed scenario file.
pub enum Experiment {
    MonteCarlo(Box<monte_carlo::MonteCarlo>),
    LoadBalancing(Box<load_balancing::LoadBalancing>),
}

/// Parses a scenario: `kind` selects the experiment, the rest is its configuration (unknown
/// fields are refused).
pub fn parse(text: &str) -> Result<Experiment> {
    let mut table: toml::Table = toml::from_str(text).context("scenario is not valid TOML")?;
    let kind = match table.remove("kind") {
        Some(toml::Value::String(k)) => k,
        _ => bail!("scenario: `kind` (a string) is missing"),
    };
    match kind.as_str() {
        "monte-carlo" => Ok(Experiment::MonteCarlo(Box::new(
            toml::Value::Table(table)
                .try_into()
                .context("scenario of kind monte-carlo")?,
        ))),
        "load-balancing" => Ok(Experiment::LoadBalancing(Box::new(
            toml::Value::Table(table)
                .try_into()
                .context("scenario of kind load-balancing")?,
        ))),
        other => bail!("scenario: unknown kind `{other}` (known: monte-carlo, load-balancing)"),
    }
}

/// `nodeop-sim run FILE [--seed N] [--out DIR]`.
pub fn run_file(file: &Path, seed: Option<u64>, out: &Path, progress: bool) -> Result<()> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    match parse(&text)? {
        Experiment::MonteCarlo(mut cfg) => {
            if let Some(s) = seed {
                cfg.seed = s;
            }
            monte_carlo::run_to_dir(&cfg, &text, out, progress)?;
        }
        Experiment::LoadBalancing(mut cfg) => {
            if let Some(s) = seed {
                cfg.seed = s;
            }
            lb_output::run_to_dir(&cfg, &text, out, progress)?;
        }
    }
    Ok(())
}
