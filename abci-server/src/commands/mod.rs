//! One module per `nodeopd` command.

pub mod export;
pub mod genesis;
pub mod init;
pub mod start;

use std::path::{Path, PathBuf};

use clap::Args;

use crate::home::Home;

/// `--home`, shared by every command that works on a node home.
#[derive(Args, Debug, Clone)]
pub struct HomeArg {
    /// The node's home directory (holds cometbft/ and app/).
    #[arg(long, env = "NODEOP_HOME", default_value = "~/.nodeop")]
    pub home: PathBuf,
}

impl HomeArg {
    pub fn home(&self) -> Home {
        Home::new(&crate::expand_home(&self.home))
    }
}

/// A path for messages: as given.
pub fn show(path: &Path) -> String {
    path.display().to_string()
}

/// Opens the store (keeping every version), explaining a lock held by a running node.
pub fn open_store(path: &Path) -> anyhow::Result<nodeop_app::state::Storage> {
    open_store_with(path, nodeop_app::state::StoreOptions::default())
}

/// Opens the store with `options`, explaining a lock held by a running node.
pub fn open_store_with(
    path: &Path,
    options: nodeop_app::state::StoreOptions,
) -> anyhow::Result<nodeop_app::state::Storage> {
    nodeop_app::state::Storage::open_with(path, options).map_err(|e| {
        let msg = e.to_string();
        if msg.contains("already open") {
            anyhow::anyhow!(
                "the store {} is locked by another process: is nodeopd running on this home? \
                 Stop it first ({msg})",
                show(path)
            )
        } else {
            anyhow::anyhow!("cannot open the store {}: {msg}", show(path))
        }
    })
}
