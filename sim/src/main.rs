//! `nodeop-sim run FILE [--seed N] [--out DIR]`: runs one scenario file from `experiments/`.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "nodeop-sim", about = "Runs nodeop's economic experiments")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs a scenario file and writes CSVs, SVG plots and report.md.
    Run {
        /// The scenario (experiments/*.toml).
        file: PathBuf,
        /// Overrides the scenario's seed.
        #[arg(long)]
        seed: Option<u64>,
        /// Output folder (default: experiments/out/<file stem>).
        #[arg(long)]
        out: Option<PathBuf>,
        /// No progress lines on stderr.
        #[arg(long)]
        quiet: bool,
    },
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Run {
            file,
            seed,
            out,
            quiet,
        } => {
            let out = out.unwrap_or_else(|| {
                let stem = file
                    .file_stem()
                    .map_or_else(|| "run".into(), |s| s.to_string_lossy().into_owned());
                PathBuf::from("experiments/out").join(stem)
            });
            nodeop_sim::run_file(&file, seed, &out, !quiet)?;
            if !quiet {
                eprintln!("wrote {}", out.join("report.md").display());
            }
            Ok(())
        }
    }
}
