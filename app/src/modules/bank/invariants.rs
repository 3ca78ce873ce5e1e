//! bank's invariants.

use super::keys;
use super::state::supply;
use crate::state::{decode_stored, StateRead};

/// Σ balances == total_supply == genesis_supply + minted − burned ≤ max_supply.
pub fn check_supply(state: &impl StateRead) -> Result<(), String> {
    let s = supply(state);
    let mut sum: u128 = 0;
    let mut after: Option<Vec<u8>> = None;
    loop {
        let page = state.prefix_raw(keys::ACCOUNT_PREFIX, after.as_deref(), 10_000);
        let Some((last, _)) = page.last() else { break };
        after = Some(last.clone());
        for (k, v) in &page {
            let acct: super::Account = decode_stored(k, v);
            sum = sum
                .checked_add(acct.balance)
                .ok_or("sum of balances overflows u128")?;
        }
    }
    if sum != s.total_supply {
        return Err(format!(
            "bank supply: sum of balances {sum} != total_supply {}",
            s.total_supply
        ));
    }
    let expected = s
        .genesis_supply
        .checked_add(s.minted)
        .and_then(|x| x.checked_sub(s.burned))
        .ok_or("bank supply: genesis + minted - burned out of range")?;
    if expected != s.total_supply {
        return Err(format!(
            "bank supply: genesis {} + minted {} - burned {} != total_supply {}",
            s.genesis_supply, s.minted, s.burned, s.total_supply
        ));
    }
    if s.total_supply > s.max_supply {
        return Err(format!(
            "bank supply: total_supply {} > max_supply {}",
            s.total_supply, s.max_supply
        ));
    }
    Ok(())
}
