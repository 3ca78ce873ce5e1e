//! The chain's issuance, run on an in-memory state: each simulated month records the period's
//! task revenue and work through the issuance module's own `record_*` functions, then crosses the
//! period boundary with the module's begin-block hook, which mints (subsidy decay and supply cap
//! included), pays out and writes the period record. Nothing here recomputes a formula: the
//! numbers come back from the stored `PeriodRecord` and the bank's supply record.

use nodeop_app::block::BlockCtx;
use nodeop_app::crypto::Address;
use nodeop_app::modules::bank;
use nodeop_app::modules::bank::genesis::{BankGenesis, GenesisModuleAccount};
use nodeop_app::modules::issuance;
use nodeop_app::modules::issuance::genesis::IssuanceGenesis;
use nodeop_app::modules::issuance::IssuanceParams;
use nodeop_app::modules::staking;
use nodeop_app::state::overlay::Empty;
use nodeop_app::state::{Overlay, StateWriteExt};

/// What one closed period left in the chain's records, in unop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeriodOutcome {
    pub period: u64,
    pub revenue: u128,
    pub subsidy_ppm: u32,
    pub minted: u128,
    pub clipped: u128,
    /// Paid to the accounts that did the period's work.
    pub paid_out: u128,
    /// Rounding remainders of the payout.
    pub to_treasury: u128,
    pub total_supply: u128,
    pub max_supply: u128,
}

/// One simulated chain's issuance state.
pub struct ChainIssuance {
    state: Overlay<Empty>,
    workers: Vec<Address>,
    period: u64,
}

impl ChainIssuance {
    /// A chain whose genesis puts `genesis_supply` unop in the treasury, with bank's `max_supply`
    /// and issuance's `subsidy_periods` as given. Periods last one epoch: the mint does not
    /// depend on a period's length, and fewer epoch records keep a run cheap. `workers` accounts
    /// share the work equally; they are not operators, so the payout pays their accounts
    /// directly (the coprocessor path), which needs no staking pools.
    pub fn new(
        genesis_supply: u128,
        max_supply: u128,
        subsidy_periods: u64,
        workers: usize,
    ) -> Self {
        let mut state = Overlay::new(Empty);
        let bank_genesis = BankGenesis {
            module_accounts: vec![GenesisModuleAccount {
                name: bank::TREASURY.name().into(),
                balance: genesis_supply,
            }],
            max_supply,
            ..BankGenesis::default()
        };
        let problems = bank_genesis.problems();
        assert!(problems.is_empty(), "bank genesis: {problems:?}");
        bank_genesis.apply(&mut state);
        state.put(staking::keys::LAST_EPOCH.to_vec(), &0u64);
        IssuanceGenesis {
            params: IssuanceParams {
                issuance_period_epochs: 1,
                subsidy_periods,
            },
            ..IssuanceGenesis::default()
        }
        .apply(&mut state, 0);
        let workers = (0..workers.max(1))
            .map(|i| {
                let mut a = [0u8; 20];
                a[0] = 0x51;
                a[12..20].copy_from_slice(&(i as u64).to_be_bytes());
                Address(a)
            })
            .collect();
        ChainIssuance {
            state,
            workers,
            period: 0,
        }
    }

    /// Records `revenue` unop of settled task fees as the open period's revenue, the same amount
    /// as work shared by the workers (neutral reward weight), and closes the period.
    pub fn close_period(&mut self, revenue: u128) -> PeriodOutcome {
        issuance::record_revenue(&mut self.state, revenue);
        let n = self.workers.len() as u128;
        for (i, w) in self.workers.iter().enumerate() {
            // the first worker takes the division's remainder, so the work sums to the revenue
            let pay = revenue / n + if i == 0 { revenue % n } else { 0 };
            issuance::record_weighted_work(&mut self.state, w, pay, 1_000_000);
        }
        self.period += 1;
        self.state
            .put(staking::keys::LAST_EPOCH.to_vec(), &self.period);
        let ctx = BlockCtx {
            height: self.period,
            time: 0,
            prev_app_hash: [0; 32],
        };
        issuance::component::begin_block(&mut self.state, &ctx);
        let m = self.period - 1;
        let r = issuance::state::period_record(&self.state, m)
            .unwrap_or_else(|| panic!("the issuance module wrote no record for period {m}"));
        let supply = bank::supply(&self.state);
        PeriodOutcome {
            period: r.period,
            revenue: r.revenue,
            subsidy_ppm: r.subsidy_ppm,
            minted: r.minted,
            clipped: r.clipped,
            paid_out: r.paid_out,
            to_treasury: r.to_treasury,
            total_supply: r.total_supply,
            max_supply: supply.max_supply,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOP: u128 = bank::UNOP_PER_NOP;

    #[test]
    fn the_module_mints_revenue_plus_a_decaying_subsidy_under_the_cap() {
        let mut c = ChainIssuance::new(100 * NOP, 1_000 * NOP, 24, 3);
        let p0 = c.close_period(100 * NOP);
        assert_eq!(p0.subsidy_ppm, 1_000_000);
        assert_eq!(p0.minted, 200 * NOP);
        assert_eq!(p0.paid_out + p0.to_treasury, p0.minted);
        let p1 = c.close_period(100 * NOP);
        assert_eq!(p1.subsidy_ppm, 958_333);
        // the cap clips: about 504 NOP of room left, about 767 due
        let p2 = c.close_period(400 * NOP);
        assert_eq!(p2.total_supply, p2.max_supply);
        assert!(p2.clipped > 0);
        let p3 = c.close_period(100 * NOP);
        assert_eq!(p3.minted, 0);
    }
}
