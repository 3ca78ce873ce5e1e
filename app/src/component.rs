//! The module contract: what the App asks of every module, in the order of
//! [`crate::modules::MODULES`].
//!
//! A module is a folder under `modules/` with the same file names wherever a file exists (`msg`,
//! `handler`, `component`, `state`, `keys`, `params`, `genesis`, `events`, `error`, `query`,
//! `invariants`) and one unit struct implementing [`Component`] in its `component.rs`. Every
//! method has a default that does nothing, so a module implements only the stages it takes part
//! in. The App calls them in table order (lowest layer first), except `end_block`, which runs in
//! reverse order (highest layer first: a task's outcome raises slash proposals before slashing
//! decides due ones, and those land before staking pays matured unbonding entries).
//!
//! State is passed as `&mut dyn StateWrite` / `&dyn StateRead` so that the table can hold every
//! module; inside, modules keep their generic `impl StateWrite` functions (a `&mut dyn StateWrite`
//! is itself a `StateWrite`).

use crate::block::{BeginBlock, BlockCtx};
use crate::crypto::Address;
use crate::error::{QueryError, TxError};
use crate::events::Event;
use crate::genesis::AppState;
use crate::hooks::Hooks;
use crate::query::Target;
use crate::state::{StateRead, StateWrite};
use crate::tx::Msg;

pub trait Component: Sync {
    /// The module's name: its query prefix (`/{name}/…`) and the first part of its keys.
    fn name(&self) -> &'static str;

    /// Every problem of the module's genesis section (empty when it is valid).
    fn genesis_problems(&self, _genesis: &AppState) -> Vec<String> {
        Vec::new()
    }

    /// Writes the module's genesis section.
    fn init_genesis(&self, _state: &mut dyn StateWrite, _genesis: &AppState, _initial_height: u64) {
    }

    /// Reads the module's state back into its genesis section (`export ∘ import = identity`).
    fn export_genesis(&self, _state: &dyn StateRead, _genesis: &mut AppState) {}

    /// Runs before the block's txs.
    fn begin_block(
        &self,
        _state: &mut dyn StateWrite,
        _block: &BeginBlock,
        _hooks: &Hooks,
    ) -> Vec<Event> {
        Vec::new()
    }

    /// Executes `msg` if this module owns it (`None` otherwise).
    fn deliver(
        &self,
        _state: &mut dyn StateWrite,
        _ctx: &BlockCtx,
        _signer: &Address,
        _msg: &Msg,
        _hooks: &Hooks,
    ) -> Option<Result<Vec<Event>, TxError>> {
        None
    }

    /// Runs after the block's txs (in reverse table order).
    fn end_block(
        &self,
        _state: &mut dyn StateWrite,
        _ctx: &BlockCtx,
        _hooks: &Hooks,
    ) -> Vec<Event> {
        Vec::new()
    }

    /// The module's invariants; a broken one names itself in the error.
    fn check_invariants(&self, _state: &dyn StateRead) -> Result<(), String> {
        Ok(())
    }

    /// Answers a query path under `/{name}/` (`rest` is the part after it).
    fn query(&self, rest: &str, _args: &[(&str, &str)]) -> Result<Target, QueryError> {
        Err(QueryError::UnknownPath(format!(
            "/{}/{}",
            self.name(),
            rest.chars().take(200).collect::<String>()
        )))
    }
}
