//! `nodeopd export`: the genesis.json that restarts the chain from the latest committed state.
//!
//! Same chain id, genesis time and consensus params as HOME's genesis.json; `initial_height` one
//! past the exported height; `app_state` from the store. The node must be stopped (the store is
//! locked while nodeopd runs).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Result};
use clap::Args;
use nodeop_app::{App, AppOptions};
use nodeop_genesis::GenesisDoc;

use super::{open_store, show, HomeArg};

#[derive(Args, Debug)]
pub struct ExportArgs {
    #[command(flatten)]
    pub home: HomeArg,
    /// Write here instead of stdout.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

pub fn run(args: ExportArgs) -> Result<ExitCode> {
    let home = args.home.home();
    let store = home.store();
    if !store.exists() {
        bail!("no store at {} (has this node run?)", show(&store));
    }
    let original = GenesisDoc::load(&home.genesis())?;
    let app = App::new(
        open_store(&store)?,
        AppOptions {
            check_invariants: false,
            ..Default::default()
        },
    );
    let doc = nodeop_genesis::export(&app, &original)?;
    let exported_height = doc.initial_height.saturating_sub(1);
    match &args.output {
        Some(path) => {
            doc.save(path)?;
            eprintln!(
                "exported chain {:?} at height {exported_height} to {} (initial_height {})",
                doc.chain_id,
                show(path),
                doc.initial_height
            );
        }
        None => print!("{}", doc.to_json()),
    }
    Ok(ExitCode::SUCCESS)
}
