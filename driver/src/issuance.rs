//! Issuance support for scenario and property tests: a task chain whose epochs and issuance
//! periods are short enough to cross in a test, vesting schedules in its genesis, time jumps to a
//! chosen period, and reads of period records, payouts, metrics and the supply.

use nodeop_app::crypto::Address;
use nodeop_app::modules::issuance::state::{self as iss, OpenPeriod, Payout};
use nodeop_app::modules::issuance::{EpochMetrics, IssuanceParams, PeriodRecord, VestingSchedule};
use nodeop_app::modules::tasks::Consistency;

use crate::chain::{Key, TestChain};
use crate::tasks::{exact_task, TaskGenesis, TaskNet};

/// Epochs of this many seconds (the devnet's).
pub const EPOCH_SECONDS: i64 = 10;

/// A task chain with `n` operators whose epochs last [`EPOCH_SECONDS`] and whose issuance
/// periods last `period_epochs` epochs, with `subsidy_periods` S. Tasks run as in
/// [`TaskGenesis`]; the driver makes 1-second blocks unless a test jumps.
pub fn task_genesis(n: usize, period_epochs: u64, subsidy_periods: u64) -> TaskGenesis {
    let mut g = TaskGenesis::new(n, 100);
    g.state.staking.params.epoch_seconds = EPOCH_SECONDS;
    g.state.issuance.params = IssuanceParams {
        issuance_period_epochs: period_epochs,
        subsidy_periods,
    };
    g
}

/// The seconds one issuance period lasts.
pub fn period_seconds(chain: &TestChain) -> i64 {
    let p = iss::params(chain.app.storage());
    EPOCH_SECONDS * p.issuance_period_epochs as i64
}

pub fn schedule(
    beneficiary: &Address,
    total: u128,
    start: i64,
    cliff: i64,
    duration: i64,
) -> VestingSchedule {
    VestingSchedule {
        beneficiary: *beneficiary,
        total,
        start,
        cliff,
        duration,
        claimed: 0,
    }
}

/// The genesis time every driver chain starts at.
pub const GENESIS_TIME: i64 = 1_700_000_000;

pub fn open_period(chain: &TestChain) -> OpenPeriod {
    iss::open_period(chain.app.storage())
}

pub fn record(chain: &TestChain, m: u64) -> Option<PeriodRecord> {
    iss::period_record(chain.app.storage(), m)
}

/// Every period record, in period order.
pub fn records(chain: &TestChain) -> Vec<PeriodRecord> {
    chain.records(nodeop_app::modules::issuance::keys::PERIOD_PREFIX)
}

/// Every epoch's metrics, in epoch order.
pub fn all_metrics(chain: &TestChain) -> Vec<EpochMetrics> {
    chain.records(nodeop_app::modules::issuance::keys::METRICS_PREFIX)
}

pub fn metrics(chain: &TestChain, epoch: u64) -> Option<EpochMetrics> {
    iss::metrics(chain.app.storage(), epoch)
}

pub fn payouts(chain: &TestChain, m: u64) -> Vec<Payout> {
    iss::payouts(chain.app.storage(), m)
}

pub fn vesting(chain: &TestChain, beneficiary: &Address) -> VestingSchedule {
    iss::vesting(chain.app.storage(), beneficiary).expect("a vesting schedule")
}

/// The first second of period `m`.
pub fn period_start(chain: &TestChain, m: u64) -> i64 {
    GENESIS_TIME + period_seconds(chain) * m as i64
}

/// Runs one empty block at the first second of period `m` (it closes every period before it),
/// then goes back to the chain's block interval. Returns that block's response.
pub fn enter_period(chain: &mut TestChain, m: u64) -> nodeop_app::app::BlockResponse {
    assert!(open_period(chain).period < m, "period {m} is already open");
    let start = period_start(chain, m);
    let step = chain.block_seconds;
    chain.block_seconds = (start - chain.time.seconds).max(1);
    let resp = chain.block(Vec::new());
    chain.block_seconds = step;
    assert_eq!(open_period(chain).period, m);
    resp
}

/// Posts an Eventual task (one member) with `fee` and finalizes it honestly; returns the
/// member's address. The fee kept as revenue at finalization is `fee − submission fee`.
pub fn finalize_one(net: &mut TaskNet, fee: u128) -> Address {
    let id = net.post(exact_task(Consistency::Eventual, fee));
    let member = net.members(id)[0].address;
    net.finalize_honestly(id, b"42");
    member
}

/// Posts a Session task (three members) with `fee` and finalizes it honestly; returns the task.
pub fn finalize_session(net: &mut TaskNet, fee: u128) -> u64 {
    let id = net.post(exact_task(Consistency::Session, fee));
    net.finalize_honestly(id, b"42");
    id
}

/// A key from a seed (for beneficiaries).
pub fn key(seed: &str) -> Key {
    Key::from_seed(seed)
}
