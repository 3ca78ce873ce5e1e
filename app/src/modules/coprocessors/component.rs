//! coprocessors' place in the module table.

use super::handler as h;
use crate::block::{BeginBlock, BlockCtx};
use crate::component::Component;
use crate::crypto::Address;
use crate::error::{QueryError, TxError};
use crate::events::Event;
use crate::genesis::AppState;
use crate::hooks::Hooks;
use crate::query::Target;
use crate::state::{StateRead, StateWrite};
use crate::tx::Msg;

pub struct Coprocessors;

impl Component for Coprocessors {
    fn name(&self) -> &'static str {
        "coprocessors"
    }

    fn genesis_problems(&self, genesis: &AppState) -> Vec<String> {
        genesis.coprocessors.problems()
    }

    fn init_genesis(
        &self,
        mut state: &mut dyn StateWrite,
        genesis: &AppState,
        initial_height: u64,
    ) {
        genesis.coprocessors.apply(&mut state, initial_height);
    }

    fn export_genesis(&self, state: &dyn StateRead, genesis: &mut AppState) {
        genesis.coprocessors = super::genesis::CoprocessorsGenesis::export(&state);
    }

    fn begin_block(
        &self,
        mut state: &mut dyn StateWrite,
        block: &BeginBlock,
        _: &Hooks,
    ) -> Vec<Event> {
        super::settle::begin_block(&mut state, &block.ctx)
    }

    fn deliver(
        &self,
        mut state: &mut dyn StateWrite,
        ctx: &BlockCtx,
        signer: &Address,
        msg: &Msg,
        _hooks: &Hooks,
    ) -> Option<Result<Vec<Event>, TxError>> {
        let state = &mut state;
        Some(match msg {
            Msg::RegisterCoprocessor(m) => h::register(state, ctx, signer, m),
            Msg::EditCoprocessor(m) => h::edit(state, signer, m),
            Msg::AddCollateral(m) => h::add_collateral(state, signer, m),
            Msg::WithdrawCollateral(m) => h::withdraw_collateral(state, ctx, signer, m),
            Msg::OpenAuction(m) => h::open_auction(state, ctx, signer, m),
            Msg::Bid(m) => h::bid(state, ctx, signer, m),
            _ => return None,
        })
    }

    fn end_block(
        &self,
        mut state: &mut dyn StateWrite,
        ctx: &BlockCtx,
        _hooks: &Hooks,
    ) -> Vec<Event> {
        super::settle::end_block(&mut state, ctx)
    }

    fn check_invariants(&self, state: &dyn StateRead) -> Result<(), String> {
        super::invariants::check(&state)
    }

    fn query(&self, rest: &str, args: &[(&str, &str)]) -> Result<Target, QueryError> {
        super::query::route(rest, args)
    }
}
