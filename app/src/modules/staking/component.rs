//! staking in the module table. Begin block: consensus evidence first (a double-signer is
//! tombstoned before anything else counts it), then liveness from the last commit, then epoch
//! boundaries. End block: matured unbonding entries are paid (after slashing has decided the due
//! proposals). The validator set itself is recomputed by the App after every end-block hook
//! ([`super::validator_set::update`]), since its changes go back to CometBFT.

use super::genesis::StakingGenesis;
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

pub struct Staking;

impl Component for Staking {
    fn name(&self) -> &'static str {
        "staking"
    }

    fn genesis_problems(&self, genesis: &AppState) -> Vec<String> {
        genesis.staking.problems()
    }

    fn init_genesis(
        &self,
        mut state: &mut dyn StateWrite,
        genesis: &AppState,
        initial_height: u64,
    ) {
        genesis.staking.apply(&mut state, initial_height);
    }

    fn export_genesis(&self, state: &dyn StateRead, genesis: &mut AppState) {
        genesis.staking = StakingGenesis::export(&state);
    }

    fn begin_block(
        &self,
        mut state: &mut dyn StateWrite,
        block: &BeginBlock,
        hooks: &Hooks,
    ) -> Vec<Event> {
        let ctx = &block.ctx;
        let mut events = super::evidence::handle(&mut state, ctx, block.misbehavior, hooks);
        events.extend(super::liveness::record_commit(
            &mut state,
            ctx,
            block.last_commit,
            hooks,
        ));
        events.extend(super::epochs::process(&mut state, ctx));
        events
    }

    fn deliver(
        &self,
        mut state: &mut dyn StateWrite,
        ctx: &BlockCtx,
        signer: &Address,
        msg: &Msg,
        _hooks: &Hooks,
    ) -> Option<Result<Vec<Event>, TxError>> {
        use super::handler as h;
        let state = &mut state;
        Some(match msg {
            Msg::RegisterOperator(m) => h::register_operator(state, ctx, signer, m),
            Msg::EditOperator(m) => h::edit_operator(state, signer, m).map_err(TxError::Staking),
            Msg::Delegate(m) => h::delegate(state, signer, m),
            Msg::Undelegate(m) => h::undelegate(state, ctx, signer, m),
            Msg::Unjail(_) => h::unjail(state, ctx, signer).map_err(TxError::Staking),
            _ => return None,
        })
    }

    fn end_block(
        &self,
        mut state: &mut dyn StateWrite,
        ctx: &BlockCtx,
        hooks: &Hooks,
    ) -> Vec<Event> {
        super::handler::pay_matured_unbondings(&mut state, ctx, hooks)
    }

    fn check_invariants(&self, state: &dyn StateRead) -> Result<(), String> {
        super::invariants::check(&state)
    }

    fn query(&self, rest: &str, args: &[(&str, &str)]) -> Result<Target, QueryError> {
        super::query::route(rest, args)
    }
}
