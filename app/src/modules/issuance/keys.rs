//! issuance's key layout (public API). Numbers are 8 bytes big-endian, addresses 20 raw bytes, so
//! that key order is numeric order.

use crate::crypto::Address;

/// [`super::IssuanceParams`].
pub const PARAMS: &[u8] = b"issuance/params";
/// [`super::state::OpenPeriod`]: the period now accumulating (index, revenue, supply at start).
pub const OPEN_PERIOD: &[u8] = b"issuance/open_period";
/// [`super::state::OpenEpoch`]: the epoch now accumulating metrics.
pub const OPEN_EPOCH: &[u8] = b"issuance/open_epoch";
pub const WORK_PREFIX: &[u8] = b"issuance/work/";
pub const PERIOD_PREFIX: &[u8] = b"issuance/period/";
pub const PAYOUT_PREFIX: &[u8] = b"issuance/payout/";
pub const FAULTY_PREFIX: &[u8] = b"issuance/faulty/";
pub const METRICS_PREFIX: &[u8] = b"issuance/metrics/";
pub const VESTING_PREFIX: &[u8] = b"issuance/vesting/";

fn join(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// `issuance/work/{operator}` → [`super::state::Work`]: task pay earned in the open period.
pub fn work(operator: &Address) -> Vec<u8> {
    join(&[WORK_PREFIX, &operator.0])
}

/// `issuance/period/{m}` → [`super::state::PeriodRecord`].
pub fn period(m: u64) -> Vec<u8> {
    join(&[PERIOD_PREFIX, &m.to_be_bytes()])
}

/// `issuance/payout/{m}/{operator}` → [`super::state::Payout`].
pub fn payout(m: u64, operator: &Address) -> Vec<u8> {
    join(&[PAYOUT_PREFIX, &m.to_be_bytes(), b"/", &operator.0])
}

pub fn payouts_of(m: u64) -> Vec<u8> {
    join(&[PAYOUT_PREFIX, &m.to_be_bytes(), b"/"])
}

/// `issuance/faulty/{epoch}/{operator}` → `[1]`: the open epoch's set of faulty operators.
pub fn faulty(epoch: u64, operator: &Address) -> Vec<u8> {
    join(&[FAULTY_PREFIX, &epoch.to_be_bytes(), b"/", &operator.0])
}

pub fn faulty_in(epoch: u64) -> Vec<u8> {
    join(&[FAULTY_PREFIX, &epoch.to_be_bytes(), b"/"])
}

/// `issuance/metrics/{epoch}` → [`super::state::EpochMetrics`].
pub fn metrics(epoch: u64) -> Vec<u8> {
    join(&[METRICS_PREFIX, &epoch.to_be_bytes()])
}

/// `issuance/vesting/{beneficiary}` → [`super::state::VestingSchedule`].
pub fn vesting(beneficiary: &Address) -> Vec<u8> {
    join(&[VESTING_PREFIX, &beneficiary.0])
}

/// The 8-byte number right after `prefix` in `key`.
pub fn number_at(key: &[u8], prefix: &[u8]) -> Option<u64> {
    let raw = key.get(prefix.len()..prefix.len() + 8)?;
    Some(u64::from_be_bytes(raw.try_into().ok()?))
}
