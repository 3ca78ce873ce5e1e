//! bank in the module table: genesis, the `bank.send` message, the supply invariant and the
//! account and supply queries.

use super::genesis::BankGenesis;
use crate::block::BlockCtx;
use crate::component::Component;
use crate::crypto::Address;
use crate::error::{QueryError, TxError};
use crate::events::Event;
use crate::genesis::AppState;
use crate::hooks::Hooks;
use crate::query::Target;
use crate::state::{StateRead, StateWrite};
use crate::tx::Msg;

pub struct Bank;

impl Component for Bank {
    fn name(&self) -> &'static str {
        "bank"
    }

    fn genesis_problems(&self, genesis: &AppState) -> Vec<String> {
        genesis.bank.problems()
    }

    fn init_genesis(&self, mut state: &mut dyn StateWrite, genesis: &AppState, _: u64) {
        genesis.bank.apply(&mut state);
    }

    fn export_genesis(&self, state: &dyn StateRead, genesis: &mut AppState) {
        genesis.bank = BankGenesis::export(&state);
    }

    fn deliver(
        &self,
        mut state: &mut dyn StateWrite,
        _ctx: &BlockCtx,
        signer: &Address,
        msg: &Msg,
        _hooks: &Hooks,
    ) -> Option<Result<Vec<Event>, TxError>> {
        match msg {
            Msg::Send(m) => {
                Some(super::handler::send(&mut state, signer, m).map_err(TxError::Bank))
            }
            _ => None,
        }
    }

    fn check_invariants(&self, state: &dyn StateRead) -> Result<(), String> {
        super::invariants::check_supply(&state)
    }

    fn query(&self, rest: &str, args: &[(&str, &str)]) -> Result<Target, QueryError> {
        super::query::route(rest, args)
    }
}
