//! The agents of experiment 001: operators, coprocessors and clients, each drawn from a seeded
//! generator by the distributions of the scenario file. Agents only decide; everything they do
//! reaches the chain as a signed tx that the App checks (see [`crate::load_balancing`]).
//!
//! **Operators** (genesis validators):
//! - `stake_nop`, `capacity_units` (what the chain may assign), `compute_units` (what the
//!   operator can execute itself at once) are drawn uniformly from the given ranges;
//! - a profile, assigned to `round(share × N)` operators in a shuffled order:
//!   - `honest`: executes correctly what fits its compute, auctions the rest, always delivers;
//!   - `lazy`: each duty (a slot's commit and reveal, a submission window) is skipped with
//!     probability `lazy_skip`; what it does take on it does correctly;
//!   - `liar`: each slot it executes itself is answered with the liars' common wrong result
//!     with probability `liar_lie` (the liars collude: the same wrong bytes, so two liars in a
//!     committee of three outvote the honest member);
//!   - `flaky`: offline for a whole period with probability `flaky_offline` (skips every duty
//!     of that period), and answers a random wrong result with probability `flaky_error`.
//! - disputes (`DisputeSlash`, paying the chain's `dispute_bond`) a `result_mismatch` proposal
//!   raised against it when it knows its revealed result was the true one: its own correct
//!   answer, or a coprocessor's answer for a slot it sold, which it checks by computing the task
//!   once the proposal appears. It sends the dispute in the first block it is online for (a
//!   lazy operator skips each try with probability `lazy_skip`, a flaky one is offline for
//!   whole periods), while the proposal is pending and before its deadline; it gives up if its
//!   account cannot pay the bond and a fee. **Liars never dispute**, not even their own true
//!   answers: an overturned proposal raises proposals against the members that agreed on the
//!   wrong aggregate, i.e. the fellow liars. A dispute's re-execution is a commit–reveal task
//!   like any other: its committee members do the duties exactly as for ordinary slots (same
//!   choices, same honesty profile; liars lie there too; a re-execution pays nothing, so its
//!   slots are never auctioned).
//!   No agent votes on disputes (`VoteDispute`): only operators whose result was the true one
//!   dispute, and a vote without quorum overturns, so honest votes would only confirm the
//!   outcome that no votes give; the liars' 10 % of the power cannot reach the 1/3 quorum alone.
//! - leaves (undelegates its whole self-bond, after which the chain no longer draws it) when its
//!   self-bond falls below `leave_stake_fraction` × the initial one, or its wealth (account +
//!   self-bond) below `leave_wealth_fraction` × the initial wealth. It still finishes the duties
//!   it holds.
//!
//! **Coprocessors** (registered at genesis): `capacity_units` and `collateral_nop` drawn
//! uniformly; a bidding strategy assigned by shares like the profiles:
//! - `early_high`: bids as soon as the chain lets it (early access by free capacity), at the
//!   higher price;
//! - `late_low`: waits until the price has reached the floor;
//! - `load_aware`: bids early while its reserved share of capacity is below `load_aware_low`,
//!   waits for the floor up to `load_aware_high`, and does not bid above.
//!
//! A coprocessor never bids for more than its free capacity and free collateral cover (counting
//! the bids it already placed in the block), places at most one bid per auction (the chain's rule),
//! answers a wrong random result with probability `error_rate`, and stops bidding once its
//! collateral falls below `retire_collateral_nop`.
//!
//! **Clients** post the demand: `tasks_per_period` × the demand curve (growth, shock, recovery),
//! spread over the period's blocks with seeded rounding; each task's difficulty, consistency,
//! kind and fee markup are drawn from the stated distributions. Posts go to the clients in turn.
//! Demand is price-elastic when `max_unit_price_nop = [lo, hi]` is set: each client draws once
//! (from its own seeded stream, so the rest of the run draws the same numbers) the highest unit
//! price it pays, uniformly from the range, and does not post while the chain's unit price is
//! above it (`priced_out`). Without it, clients post at any price.
//! Either way a client, like a wallet, never sends a post its balance cannot pay
//! (the fee plus the tx fee, counting the posts it already sent in the block): such a post is
//! counted `unaffordable`, not sent.
#![allow(clippy::float_arithmetic)] // agents draw from float distributions; the chain decides in integers

use nodeop_driver::chain::Key;
use nodeop_driver::rng::Rng;
use serde::Deserialize;

/// A uniform float in [0, 1).
pub fn unit(rng: &mut Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// True with probability `p`.
pub fn chance(rng: &mut Rng, p: f64) -> bool {
    p > 0.0 && unit(rng) < p
}

/// A uniform integer in `[lo, hi]` (inclusive).
pub fn between(rng: &mut Rng, range: [u64; 2]) -> u64 {
    let (lo, hi) = (range[0].min(range[1]), range[0].max(range[1]));
    lo + rng.below(hi - lo + 1)
}

/// `x` rounded down or up at random so that its expectation is `x`.
pub fn stochastic_round(rng: &mut Rng, x: f64) -> u64 {
    let base = x.max(0.0).floor();
    base as u64 + u64::from(chance(rng, x - base))
}

/// Index drawn with probability proportional to `weights`.
pub fn weighted(rng: &mut Rng, weights: &[f64]) -> usize {
    let total: f64 = weights.iter().sum();
    let mut r = unit(rng) * total;
    for (i, w) in weights.iter().enumerate() {
        if r < *w {
            return i;
        }
        r -= w;
    }
    weights.len() - 1
}

/// Fisher–Yates with the seeded generator.
pub fn shuffle<T>(rng: &mut Rng, v: &mut [T]) {
    for i in (1..v.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        v.swap(i, j);
    }
}

/// `round(share × n)` labels per class, the remainder filled with the first class, shuffled.
pub fn assign_classes(rng: &mut Rng, n: usize, shares: &[f64]) -> Vec<usize> {
    let mut out = Vec::with_capacity(n);
    for (c, s) in shares.iter().enumerate().skip(1) {
        let k = (s * n as f64).round() as usize;
        out.extend(std::iter::repeat_n(c, k.min(n - out.len())));
    }
    out.resize(n, 0);
    shuffle(rng, &mut out);
    out
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Profile {
    Honest,
    Lazy,
    Liar,
    Flaky,
}

impl Profile {
    pub const ALL: [Profile; 4] = [
        Profile::Honest,
        Profile::Lazy,
        Profile::Liar,
        Profile::Flaky,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Profile::Honest => "honest",
            Profile::Lazy => "lazy",
            Profile::Liar => "liar",
            Profile::Flaky => "flaky",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Strategy {
    EarlyHigh,
    LateLow,
    LoadAware,
}

impl Strategy {
    pub const ALL: [Strategy; 3] = [Strategy::EarlyHigh, Strategy::LateLow, Strategy::LoadAware];

    pub fn name(self) -> &'static str {
        match self {
            Strategy::EarlyHigh => "early_high",
            Strategy::LateLow => "late_low",
            Strategy::LoadAware => "load_aware",
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileShares {
    pub honest: f64,
    pub lazy: f64,
    pub liar: f64,
    pub flaky: f64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperatorConfig {
    pub stake_nop: [u64; 2],
    pub capacity_units: [u64; 2],
    pub compute_units: [u64; 2],
    pub profiles: ProfileShares,
    pub lazy_skip: f64,
    pub liar_lie: f64,
    pub flaky_offline: f64,
    pub flaky_error: f64,
    pub leave_stake_fraction: f64,
    pub leave_wealth_fraction: f64,
    /// An auction starts at this share of the member's guaranteed pay…
    pub auction_start: f64,
    /// …and falls to this share.
    pub auction_floor: f64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StrategyShares {
    pub early_high: f64,
    pub late_low: f64,
    pub load_aware: f64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoprocessorConfig {
    pub capacity_units: [u64; 2],
    pub collateral_nop: [u64; 2],
    pub strategies: StrategyShares,
    pub load_aware_low: f64,
    pub load_aware_high: f64,
    pub error_rate: f64,
    pub retire_collateral_nop: u64,
    /// The most coprocessors that bid on one auction in one block (who notices first: a
    /// seeded order each block).
    pub bidders_per_auction: usize,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyShares {
    pub eventual: f64,
    pub session: f64,
    pub strong: f64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientConfig {
    pub clients: usize,
    pub tasks_per_period: f64,
    /// Difficulty values and their weights.
    pub difficulty: Vec<u64>,
    pub difficulty_weights: Vec<f64>,
    pub consistency: ConsistencyShares,
    /// Share of Numeric tasks (the rest are Exact).
    pub numeric_share: f64,
    /// Fee = unit price × difficulty × a markup drawn uniformly from this range.
    pub fee_markup: [f64; 2],
    /// The range each client's highest acceptable unit price (NOP per difficulty unit) is
    /// drawn from; absent: clients post at any price.
    #[serde(default)]
    pub max_unit_price_nop: Option<[f64; 2]>,
}

/// Demand multiplier over time: compound growth per period, an optional shock at
/// `shock_period` that multiplies demand by `1 − shock_drop`, recovering linearly over
/// `recover_periods`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemandConfig {
    pub growth_per_period: f64,
    pub shock_period: Option<u64>,
    pub shock_drop: f64,
    pub recover_periods: u64,
}

impl DemandConfig {
    pub fn multiplier(&self, period: u64) -> f64 {
        let mut m = (1.0 + self.growth_per_period).powi(period as i32);
        if let Some(s) = self.shock_period {
            if period >= s {
                let since = (period - s) as f64;
                let r = if self.recover_periods == 0 {
                    1.0
                } else {
                    (since / self.recover_periods as f64).min(1.0)
                };
                m *= 1.0 - self.shock_drop * (1.0 - r);
            }
        }
        m
    }
}

pub struct OperatorAgent {
    pub key: Key,
    pub profile: Profile,
    pub stake: u128,
    pub capacity_units: u64,
    pub compute_units: u64,
    /// Units of slots it is executing itself now.
    pub busy_units: u64,
    pub initial_wealth: u128,
    /// The period it left in.
    pub left: Option<u64>,
    /// Offline for the current period (flaky).
    pub offline: bool,
    pub nonce: u64,
    // tallies for the report
    pub slots: u64,
    pub slots_sold: u64,
    pub slots_self: u64,
    pub slots_skipped: u64,
    pub lies: u64,
    /// result_mismatch proposals raised against it when a task it served aggregated…
    pub proposals: u64,
    /// …`DisputeSlash` txs it sent that the chain accepted…
    pub disputes: u64,
    /// …and of those, the proposals overturned…
    pub disputes_won: u64,
    /// …and the amounts those proposals asked for (unop).
    pub disputes_saved: u128,
}

pub struct CoprocessorAgent {
    pub key: Key,
    pub strategy: Strategy,
    pub capacity_units: u64,
    pub collateral: u128,
    pub initial_wealth: u128,
    pub retired: Option<u64>,
    pub nonce: u64,
    pub won: u64,
    pub errors: u64,
    /// Σ of its load state over the periods (for the mean).
    pub load_sum: u128,
}

pub struct ClientAgent {
    pub key: Key,
    pub nonce: u64,
    /// The highest unit price (base units per difficulty unit) it posts at.
    pub max_unit_price: u128,
}

impl ClientAgent {
    /// Client `index`'s highest acceptable unit price, drawn from its own stream of `seed`.
    pub fn max_unit_price(cfg: &ClientConfig, seed: u64, index: usize) -> u128 {
        let Some([lo, hi]) = cfg.max_unit_price_nop else {
            return u128::MAX;
        };
        let mut rng = Rng::new(seed ^ 0xc11e_7000_0000_0000 ^ index as u64);
        let nop = lo + unit(&mut rng) * (hi - lo);
        (nop * nodeop_driver::tasks::NOP as f64) as u128
    }
}

/// What the operator decides for a new slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SlotChoice {
    /// Executes it itself, answering correctly…
    Execute,
    /// …or with the liars' common wrong result…
    Lie,
    /// …or a random wrong result.
    Garbage,
    /// Puts it up for auction.
    Sell,
    /// Does nothing (missed duties).
    Skip,
}

impl OperatorAgent {
    /// The choice for a new slot of `units`; `fits` when its compute has room.
    pub fn choose(&self, rng: &mut Rng, cfg: &OperatorConfig, units: u64) -> SlotChoice {
        if self.offline || (self.profile == Profile::Lazy && chance(rng, cfg.lazy_skip)) {
            return SlotChoice::Skip;
        }
        if self.busy_units + units > self.compute_units {
            return SlotChoice::Sell;
        }
        self.answer(rng, cfg)
    }

    /// How it answers a slot it executes itself.
    pub fn answer(&self, rng: &mut Rng, cfg: &OperatorConfig) -> SlotChoice {
        match self.profile {
            Profile::Liar if chance(rng, cfg.liar_lie) => SlotChoice::Lie,
            Profile::Flaky if chance(rng, cfg.flaky_error) => SlotChoice::Garbage,
            _ => SlotChoice::Execute,
        }
    }

    /// Whether it performs a duty it holds (a reveal after its commit, a submission window).
    pub fn performs_duty(&self, rng: &mut Rng, cfg: &OperatorConfig) -> bool {
        !(self.offline || (self.profile == Profile::Lazy && chance(rng, cfg.lazy_skip)))
    }
}

impl CoprocessorAgent {
    /// The first height it wants to bid on an auction opened at `opened` (None: not at all),
    /// given its reserved share of capacity now and the height the chain lets it bid from.
    pub fn bid_height(
        &self,
        cfg: &CoprocessorConfig,
        used: f64,
        allowed_from: u64,
        floor_height: u64,
    ) -> Option<u64> {
        match self.strategy {
            Strategy::EarlyHigh => Some(allowed_from),
            Strategy::LateLow => Some(floor_height.max(allowed_from)),
            Strategy::LoadAware => {
                if used < cfg.load_aware_low {
                    Some(allowed_from)
                } else if used < cfg.load_aware_high {
                    Some(floor_height.max(allowed_from))
                } else {
                    None
                }
            }
        }
    }
}
