//! issuance's genesis content: params and vesting schedules; in an export also the period and
//! epoch history and the open period's and epoch's accumulators.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::keys;
use super::state::{
    opening, put_open_epoch, put_open_period, put_vesting, EpochMetrics, OpenEpoch, OpenPeriod,
    Payout, PeriodRecord, VestingSchedule, Work,
};
use super::IssuanceParams;
use crate::crypto::Address;
use crate::modules::bank::ModuleAccount;
use crate::state::{decode_stored, StateRead, StateReadExt, StateWrite, StateWriteExt};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IssuanceGenesis {
    pub params: IssuanceParams,
    pub vesting: Vec<VestingSchedule>,
    /// Exports only: history and accumulators. A new chain leaves them out; the open period
    /// then starts at the genesis epoch's period with the genesis supply.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub periods: Vec<PeriodRecord>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub payouts: Vec<Payout>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub metrics: Vec<EpochMetrics>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub open_period: Option<OpenPeriod>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub open_epoch: Option<OpenEpoch>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub work: Vec<(Address, Work)>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub faulty: Vec<(u64, Address)>,
}

impl IssuanceGenesis {
    /// What the vesting schedules may still mint.
    pub fn unclaimed(&self) -> Option<u128> {
        self.vesting
            .iter()
            .try_fold(0u128, |t, v| t.checked_add(v.unclaimed()))
    }

    pub fn problems(&self) -> Vec<String> {
        let mut out = self.params.problems();
        let mut seen = BTreeSet::new();
        for v in &self.vesting {
            let who = v.beneficiary;
            if !seen.insert(who) {
                out.push(format!(
                    "issuance.vesting: {who} has two schedules; list one per beneficiary"
                ));
            }
            if ModuleAccount::at(&who).is_some() {
                out.push(format!(
                    "issuance.vesting: {who} is a module account; no key could claim"
                ));
            }
            if v.total == 0 {
                out.push(format!("issuance.vesting: {who}'s total must be positive"));
            }
            if v.cliff < 0 || v.duration < 0 {
                out.push(format!(
                    "issuance.vesting: {who}'s cliff ({}) and duration ({}) must not be negative",
                    v.cliff, v.duration
                ));
            }
            if v.cliff > v.duration {
                out.push(format!(
                    "issuance.vesting: {who}'s cliff {} s is longer than its duration {} s",
                    v.cliff, v.duration
                ));
            }
            if v.start.checked_add(v.duration).is_none() {
                out.push(format!(
                    "issuance.vesting: {who}'s start + duration overflows"
                ));
            }
            if v.claimed > v.total {
                out.push(format!(
                    "issuance.vesting: {who} claimed {} of a total of {}",
                    v.claimed, v.total
                ));
            }
        }
        if self.unclaimed().is_none() {
            out.push("issuance.vesting: the totals overflow u128".into());
        }
        let next = self.open_period.as_ref().map(|o| o.period);
        for r in &self.periods {
            if next.is_none_or(|n| r.period >= n) {
                out.push(format!(
                    "issuance.periods: period {} is not before the open period",
                    r.period
                ));
            }
        }
        out
    }

    /// Writes the genesis state (after bank's and staking's). `last_epoch` is staking's.
    pub fn apply(&self, state: &mut impl StateWrite, last_epoch: u64) {
        state.put(keys::PARAMS.to_vec(), &self.params);
        for v in &self.vesting {
            put_vesting(state, v);
        }
        for r in &self.periods {
            state.put(keys::period(r.period), r);
        }
        for p in &self.payouts {
            state.put(keys::payout(p.period, &p.operator), p);
        }
        for m in &self.metrics {
            state.put(keys::metrics(m.epoch), m);
        }
        for (a, w) in &self.work {
            state.put(keys::work(a), w);
        }
        for (e, a) in &self.faulty {
            state.put_raw(keys::faulty(*e, a), vec![1]);
        }
        let open = match &self.open_period {
            Some(o) => o.clone(),
            None => opening(
                state,
                last_epoch / self.params.issuance_period_epochs.max(1),
            ),
        };
        put_open_period(state, &open);
        let epoch = match &self.open_epoch {
            Some(e) => e.clone(),
            None => OpenEpoch {
                epoch: last_epoch,
                ..OpenEpoch::default()
            },
        };
        put_open_epoch(state, &epoch);
    }
}

impl IssuanceGenesis {
    /// The genesis section that reproduces the module's state.
    pub fn export(state: &impl StateRead) -> Self {
        let list = |prefix: &[u8]| state.prefix_raw(prefix, None, usize::MAX);
        IssuanceGenesis {
            params: super::state::params(state),
            vesting: super::state::vesting_schedules(state),
            periods: list(keys::PERIOD_PREFIX)
                .iter()
                .map(|(k, v)| decode_stored(k, v))
                .collect(),
            payouts: list(keys::PAYOUT_PREFIX)
                .iter()
                .map(|(k, v)| decode_stored(k, v))
                .collect(),
            metrics: list(keys::METRICS_PREFIX)
                .iter()
                .map(|(k, v)| decode_stored(k, v))
                .collect(),
            open_period: state.get(keys::OPEN_PERIOD),
            open_epoch: state.get(keys::OPEN_EPOCH),
            work: super::state::work(state),
            faulty: list(keys::FAULTY_PREFIX)
                .iter()
                .filter_map(|(k, _)| {
                    let epoch = keys::number_at(k, keys::FAULTY_PREFIX)?;
                    let a = crate::state::keys::address_at(k, keys::FAULTY_PREFIX.len() + 9)?;
                    Some((epoch, a))
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::genesis::AppState;
    use crate::modules::bank;

    fn schedule(byte: u8, total: u128, cliff: i64, duration: i64) -> VestingSchedule {
        VestingSchedule {
            beneficiary: Address([byte; 20]),
            total,
            start: 1_000,
            cliff,
            duration,
            claimed: 0,
        }
    }

    #[test]
    fn every_bad_schedule_is_listed() {
        let g = IssuanceGenesis {
            params: IssuanceParams {
                issuance_period_epochs: 0,
                subsidy_periods: 24,
            },
            vesting: vec![
                schedule(1, 0, 0, 10),
                schedule(2, 5, 20, 10),
                schedule(2, 5, 0, 10),
                schedule(3, 5, -1, 10),
                VestingSchedule {
                    claimed: 6,
                    ..schedule(4, 5, 0, 10)
                },
                VestingSchedule {
                    beneficiary: bank::TREASURY.address(),
                    ..schedule(5, 5, 0, 10)
                },
            ],
            ..IssuanceGenesis::default()
        };
        let p = g.problems().join("\n");
        for needle in [
            "issuance_period_epochs must be at least 1",
            "total must be positive",
            "cliff 20 s is longer than its duration 10 s",
            "has two schedules",
            "must not be negative",
            "claimed 6 of a total of 5",
            "is a module account",
        ] {
            assert!(p.contains(needle), "{needle:?} missing from:\n{p}");
        }
        assert!(IssuanceGenesis::default().problems().is_empty());
    }

    #[test]
    fn vesting_must_fit_under_max_supply_beside_the_genesis_balances() {
        let issuance_problems = |s: &AppState| -> Vec<String> {
            s.problems("c")
                .into_iter()
                .filter(|p| p.starts_with("issuance"))
                .collect()
        };
        let mut state = AppState::default();
        let room = state.bank.max_supply - 100_000_000 * 1_000_000;
        state.issuance.vesting = vec![schedule(1, room, 0, 10)];
        assert!(issuance_problems(&state).is_empty());
        state.issuance.vesting = vec![schedule(1, room, 0, 10), schedule(2, 1, 0, 10)];
        let p = issuance_problems(&state).join("\n");
        assert!(p.contains("exceeds bank.max_supply"), "{p}");
        // what was already claimed is in the balances: only the rest must fit
        state.issuance.vesting[1].claimed = 1;
        assert!(issuance_problems(&state).is_empty());
    }
}
