//! Experiment 004: the DePIN paper's token-economics Monte Carlo (runs × months of demand growth,
//! monthly shocks, a token price driven by buy and sell pressure), in two modes:
//!
//! - `literal`: the mint as PROTOCOL.md §3.6 quotes the paper, `revenue_usd / price_usd ×
//!   (1 + s(m))` capped by `max_supply − supply`, in floats, and price pressure that adds the
//!   minted amount (tokens) to dollars, as the listing's numbers stand.
//! - `chain`: the fee revenue converted to unop at the month's price and handed to the issuance
//!   module ([`crate::chain::ChainIssuance`]): the module's integer functions mint (subsidy
//!   decay, supply cap) and pay out; price pressure counts the payout in dollars.
//!
//! Everything else (demand, shocks, price noise, survival) is one model shared by both modes and
//! written down in the report. Runs are independent: each has its own generator seeded from
//! (seed, run index), the same for every mode, growth rate and shock setting (common random
//! numbers), so the split of runs over threads never changes a number.

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use nodeop_app::modules::bank::UNOP_PER_NOP;
use nodeop_driver::rng::Rng;
use serde::Deserialize;

use crate::chain::ChainIssuance;
use crate::plot::{line_chart, Series, PALETTE};
use plotters::prelude::SeriesLabelPosition;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Literal,
    Chain,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Literal => "literal",
            Mode::Chain => "chain",
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Market {
    pub initial_price_usd: f64,
    pub initial_revenue_usd: f64,
    /// σ of the monthly demand growth (added to the growth rate).
    pub demand_volatility: f64,
    /// σ of the monthly log-price noise.
    pub price_volatility: f64,
    /// A shock cuts demand by this fraction (it then grows again from the lower level).
    pub shock_demand_drop: f64,
    /// A shock cuts the price by this fraction.
    pub shock_price_drop: f64,
    /// Share of what workers earn (fees and rewards) that they sell each month.
    pub sell_fraction: f64,
    /// Share of the market cap that holders sell each month (outside the workers' sales): with
    /// it, the price settles where the monthly net buying of fee payers balances holders' selling.
    pub holder_sell_share: f64,
    /// The dollar side of the market's liquidity pool (constant product), as a share of the
    /// market capitalisation: net buying or selling moves the price as it would move that pool's.
    pub pool_liquidity_share: f64,
    /// A run fails in the first month its price ends below this share of the initial price.
    pub death_price_ratio: f64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Issuance {
    pub genesis_supply_nop: u64,
    pub max_supply_nop: u64,
    pub subsidy_periods: u64,
    /// Accounts that share each period's work (chain mode).
    pub workers: usize,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Paper {
    pub survival_with_shocks: f64,
    pub survival_without_shocks: f64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonteCarlo {
    pub title: String,
    pub seed: u64,
    pub runs: usize,
    pub months: usize,
    /// 0: every core.
    #[serde(default)]
    pub threads: usize,
    pub modes: Vec<Mode>,
    pub growth_rates: Vec<f64>,
    pub base_growth: f64,
    pub shock_probability: f64,
    pub market: Market,
    pub issuance: Issuance,
    pub paper: Paper,
    /// One-at-a-time variations of the market model at the base growth rate.
    #[serde(default)]
    pub robustness: Robustness,
}

/// Each listed market parameter is multiplied by each factor, one parameter at a time, and the
/// base-growth scenarios are run again with `runs` runs: how much the survival rates owe to the
/// chosen values.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Robustness {
    pub runs: usize,
    pub factors: Vec<f64>,
    pub parameters: Vec<String>,
}

impl Market {
    /// The parameter called `name` (a field of `[market]`), to scale it.
    pub fn parameter_mut(&mut self, name: &str) -> Option<&mut f64> {
        Some(match name {
            "initial_revenue_usd" => &mut self.initial_revenue_usd,
            "demand_volatility" => &mut self.demand_volatility,
            "price_volatility" => &mut self.price_volatility,
            "shock_demand_drop" => &mut self.shock_demand_drop,
            "shock_price_drop" => &mut self.shock_price_drop,
            "sell_fraction" => &mut self.sell_fraction,
            "holder_sell_share" => &mut self.holder_sell_share,
            "pool_liquidity_share" => &mut self.pool_liquidity_share,
            "death_price_ratio" => &mut self.death_price_ratio,
            _ => return None,
        })
    }
}

/// One variation's survival.
#[derive(Clone, Debug)]
pub struct Variant {
    pub parameter: String,
    pub factor: f64,
    pub value: f64,
    pub mode: Mode,
    pub shocks: bool,
    pub runs: usize,
    pub survived: usize,
}

impl Variant {
    pub fn survival(&self) -> f64 {
        self.survived as f64 / self.runs.max(1) as f64
    }
}

/// Runs every variation of [`Robustness`] (the same seed and run indices as the main runs).
pub fn run_robustness(cfg: &MonteCarlo, progress: bool) -> Result<Vec<Variant>> {
    let rb = &cfg.robustness;
    let mut out = Vec::new();
    if rb.runs == 0 {
        return Ok(out);
    }
    let start = Instant::now();
    for name in &rb.parameters {
        for &factor in &rb.factors {
            let mut v = cfg.clone();
            v.runs = rb.runs;
            let Some(p) = v.market.parameter_mut(name) else {
                bail!("robustness: `{name}` is not a [market] parameter");
            };
            *p *= factor;
            let value = *p;
            for &mode in &cfg.modes {
                for shocks in [true, false] {
                    let s = run_scenario(&v, mode, cfg.base_growth, shocks);
                    out.push(Variant {
                        parameter: name.clone(),
                        factor,
                        value,
                        mode,
                        shocks,
                        runs: s.runs.len(),
                        survived: s.runs.iter().filter(|r| r.death_month.is_none()).count(),
                    });
                }
            }
        }
        if progress {
            eprintln!(
                "robustness: {name} × {:?} done ({:.1} s so far)",
                rb.factors,
                start.elapsed().as_secs_f64()
            );
        }
    }
    Ok(out)
}

impl MonteCarlo {
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.runs == 0 || self.months == 0 {
            out.push("runs and months must be at least 1".into());
        }
        if self.modes.is_empty() || self.growth_rates.is_empty() {
            out.push("modes and growth_rates must not be empty".into());
        }
        if !self.growth_rates.contains(&self.base_growth) {
            out.push("base_growth must be one of growth_rates".into());
        }
        if !(0.0..=1.0).contains(&self.shock_probability) {
            out.push("shock_probability must be in [0, 1]".into());
        }
        if self.issuance.genesis_supply_nop > self.issuance.max_supply_nop {
            out.push("genesis_supply_nop exceeds max_supply_nop".into());
        }
        if self.market.initial_price_usd <= 0.0 {
            out.push("initial_price_usd must be positive".into());
        }
        out
    }
}

/// One run of one scenario.
#[derive(Clone, Debug)]
pub struct RunResult {
    pub death_month: Option<usize>,
    pub shocks: u32,
    pub final_price: f64,
    pub min_price: f64,
    /// NOP.
    pub final_supply: f64,
    /// The largest total supply seen, unop (chain mode: the bank's record; literal: rounded).
    pub max_supply_seen: u128,
    pub cap_month: Option<usize>,
}

/// One (mode, growth, shocks) cell of the experiment.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub mode: Mode,
    pub growth: f64,
    pub shocks: bool,
    pub runs: Vec<RunResult>,
    pub months: usize,
    /// End-of-month price (USD), supply (NOP) and mint (NOP) of every run, run after run
    /// (`months` values each): one allocation per series, not three per run, keeps the
    /// allocator from fragmenting over a long experiment.
    pub price: Vec<f64>,
    pub supply: Vec<f64>,
    pub minted: Vec<f64>,
    pub elapsed: Duration,
}

impl Scenario {
    /// Run `run`'s month-end prices.
    pub fn prices(&self, run: usize) -> &[f64] {
        &self.price[run * self.months..(run + 1) * self.months]
    }

    /// Run `run`'s month-end supplies, NOP.
    pub fn supplies(&self, run: usize) -> &[f64] {
        &self.supply[run * self.months..(run + 1) * self.months]
    }

    pub fn survival(&self) -> f64 {
        let alive = self.runs.iter().filter(|r| r.death_month.is_none()).count();
        alive as f64 / self.runs.len().max(1) as f64
    }
}

fn uniform(rng: &mut Rng) -> f64 {
    // 53 random bits, in (0, 1]
    ((rng.next_u64() >> 11) + 1) as f64 / (1u64 << 53) as f64
}

fn normal(rng: &mut Rng) -> f64 {
    // Box–Muller; both uniforms are always drawn so every month consumes the same stream
    let u1 = uniform(rng);
    let u2 = uniform(rng);
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// The generator seed of run `run`: the same in every mode and scenario.
pub fn run_seed(seed: u64, run: usize) -> u64 {
    let mut r = Rng::new(seed ^ (run as u64).wrapping_mul(0xD1B5_4A32_D192_ED03));
    r.next_u64()
}

/// Prices are kept in [1e-12, 1e12] USD so that a collapsed run stays finite in the CSVs.
pub const PRICE_FLOOR: f64 = 1e-12;
pub const PRICE_CEILING: f64 = 1e12;

/// One run: `months` months of demand, mint, payout and price. The month-end price, supply and
/// mint go into `price`, `supply` and `minted` (`cfg.months` values each).
pub fn simulate(
    cfg: &MonteCarlo,
    mode: Mode,
    growth: f64,
    shocks: bool,
    run: usize,
    series: [&mut [f64]; 3],
) -> RunResult {
    let [out_price, out_supply, out_minted] = series;
    let m = &cfg.market;
    let iss = &cfg.issuance;
    let nop = UNOP_PER_NOP as f64;
    let max_supply_nop = iss.max_supply_nop as f64;
    let mut rng = Rng::new(run_seed(cfg.seed, run));
    let mut chain = match mode {
        Mode::Chain => Some(ChainIssuance::new(
            u128::from(iss.genesis_supply_nop) * UNOP_PER_NOP,
            u128::from(iss.max_supply_nop) * UNOP_PER_NOP,
            iss.subsidy_periods,
            iss.workers,
        )),
        Mode::Literal => None,
    };
    let mut demand = m.initial_revenue_usd;
    let mut price = m.initial_price_usd;
    let mut supply = iss.genesis_supply_nop as f64;
    let mut out = RunResult {
        death_month: None,
        shocks: 0,
        final_price: 0.0,
        min_price: f64::INFINITY,
        final_supply: 0.0,
        max_supply_seen: u128::from(iss.genesis_supply_nop) * UNOP_PER_NOP,
        cap_month: None,
    };
    for month in 0..cfg.months {
        let u_shock = uniform(&mut rng);
        let z_demand = normal(&mut rng);
        let z_price = normal(&mut rng);
        let shock = shocks && u_shock <= cfg.shock_probability;
        demand *= (1.0 + growth + m.demand_volatility * z_demand).max(0.0);
        if shock {
            demand *= 1.0 - m.shock_demand_drop;
            out.shocks += 1;
        }
        // what workers earn and sell: the fees (bought by clients with `demand` dollars) and
        // the period's payout
        let (minted, sold_usd) = match &mut chain {
            None => {
                let s = if iss.subsidy_periods == 0 {
                    0.0
                } else {
                    ((iss.subsidy_periods as f64 - month as f64) / iss.subsidy_periods as f64)
                        .max(0.0)
                };
                let due = demand / price * (1.0 + s);
                let minted = due.min(max_supply_nop - supply).max(0.0);
                supply += minted;
                out.max_supply_seen = out.max_supply_seen.max((supply * nop) as u128);
                // dollars of fees plus tokens of mint, added as they stand
                (minted, m.sell_fraction * (demand + minted))
            }
            Some(c) => {
                // the fee revenue in unop at this month's price (`as` saturates)
                let revenue = (demand / price * nop) as u128;
                let o = c.close_period(revenue);
                supply = o.total_supply as f64 / nop;
                out.max_supply_seen = out.max_supply_seen.max(o.total_supply);
                let paid = o.paid_out as f64 / nop;
                (
                    o.minted as f64 / nop,
                    m.sell_fraction * (demand + paid * price),
                )
            }
        };
        if out.cap_month.is_none() && supply >= max_supply_nop * (1.0 - 1e-12) {
            out.cap_month = Some(month);
        }
        // the month's net flow through a constant-product pool whose dollar reserve is
        // `pool_liquidity_share` of the market cap: buying `x` dollars multiplies the price by
        // (1 + x/y)², selling `x` dollars' worth divides it by the same
        let pool_usd = (m.pool_liquidity_share * price * supply).max(f64::MIN_POSITIVE);
        let net = demand - sold_usd - m.holder_sell_share * price * supply;
        let impact = 2.0 * (net.abs() / pool_usd).ln_1p();
        let mut log_price = price.ln() + impact.copysign(net) + m.price_volatility * z_price;
        if shock {
            log_price += (1.0 - m.shock_price_drop).ln();
        }
        price = log_price.exp().clamp(PRICE_FLOOR, PRICE_CEILING);
        if out.death_month.is_none() && price < m.death_price_ratio * m.initial_price_usd {
            out.death_month = Some(month);
        }
        out_price[month] = price;
        out_supply[month] = supply;
        out_minted[month] = minted;
        out.min_price = out.min_price.min(price);
    }
    out.final_price = price;
    out.final_supply = supply;
    out
}

fn threads(cfg: &MonteCarlo) -> usize {
    if cfg.threads > 0 {
        cfg.threads
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    }
}

/// Every run of one scenario, split over the threads in contiguous blocks and merged in run order.
pub fn run_scenario(cfg: &MonteCarlo, mode: Mode, growth: f64, shocks: bool) -> Scenario {
    let start = Instant::now();
    let n = threads(cfg).clamp(1, cfg.runs.max(1));
    let block = cfg.runs.div_ceil(n);
    let months = cfg.months;
    let size = cfg.runs * months;
    let mut out = Scenario {
        mode,
        growth,
        shocks,
        runs: Vec::with_capacity(cfg.runs),
        months,
        price: vec![0.0; size],
        supply: vec![0.0; size],
        minted: vec![0.0; size],
        elapsed: Duration::ZERO,
    };
    // each thread fills its contiguous block of runs in place
    let chunk = block * months;
    std::thread::scope(|scope| {
        let handles: Vec<_> = out
            .price
            .chunks_mut(chunk)
            .zip(out.supply.chunks_mut(chunk))
            .zip(out.minted.chunks_mut(chunk))
            .enumerate()
            .map(|(t, ((price, supply), minted))| {
                scope.spawn(move || {
                    let lo = t * block;
                    let mut results = Vec::with_capacity(price.len() / months);
                    for (i, ((p, s), m)) in price
                        .chunks_mut(months)
                        .zip(supply.chunks_mut(months))
                        .zip(minted.chunks_mut(months))
                        .enumerate()
                    {
                        results.push(simulate(cfg, mode, growth, shocks, lo + i, [p, s, m]));
                    }
                    results
                })
            })
            .collect();
        for h in handles {
            out.runs
                .extend(h.join().expect("a simulation thread panicked"));
        }
    });
    out.elapsed = start.elapsed();
    out
}

/// Every scenario: modes × growth rates × (shocks, no shocks), with a progress line per
/// scenario on stderr.
pub fn run_all(cfg: &MonteCarlo, progress: bool) -> Result<Vec<Scenario>> {
    let problems = cfg.problems();
    if !problems.is_empty() {
        bail!("scenario: {}", problems.join("; "));
    }
    let mut cells = Vec::new();
    for &mode in &cfg.modes {
        for &g in &cfg.growth_rates {
            for shocks in [true, false] {
                cells.push((mode, g, shocks));
            }
        }
    }
    let total = cells.len();
    let mut out = Vec::with_capacity(total);
    for (i, (mode, g, shocks)) in cells.into_iter().enumerate() {
        let s = run_scenario(cfg, mode, g, shocks);
        if progress {
            eprintln!(
                "[{}/{total}] {:<7} growth {:>4.1} % shocks {:<3}: {} runs × {} months in {:.2} s, survival {:.1} %",
                i + 1,
                mode.name(),
                g * 100.0,
                if shocks { "on" } else { "off" },
                cfg.runs,
                cfg.months,
                s.elapsed.as_secs_f64(),
                s.survival() * 100.0
            );
        }
        out.push(s);
    }
    Ok(out)
}

// ------------------------------------------------------------------ outputs

/// Columns of each CSV, with their meaning: the report's column table is written from this list,
/// and the writers below emit exactly these headers.
pub const COLUMNS: &[(&str, &[(&str, &str)])] = &[
    (
        "runs.csv",
        &[
            ("mode", "`literal` or `chain`"),
            ("growth", "monthly demand growth rate of the scenario"),
            ("shocks", "1 when shocks were drawn, 0 when not"),
            ("run", "run index (its generator seed derives from the seed and this index)"),
            ("survived", "1 when the price never ended a month below `death_price_ratio` × the initial price"),
            ("death_month", "first month (0-based) the price ended below that line; empty when it survived"),
            ("shocks_hit", "shocks that hit the run"),
            ("final_price_usd", "price at the end of the last month"),
            ("min_price_usd", "lowest month-end price"),
            ("final_supply_nop", "total supply at the end, NOP"),
            ("cap_month", "first month the supply reached `max_supply`; empty when it never did"),
        ],
    ),
    (
        "months.csv",
        &[
            ("mode", "`literal` or `chain`"),
            ("growth", "monthly demand growth rate"),
            ("shocks", "1 with shocks, 0 without"),
            ("month", "month index, 0-based"),
            ("price_p5_usd", "5th percentile of the month-end price over all runs (nearest rank)"),
            ("price_p50_usd", "median month-end price"),
            ("price_p95_usd", "95th percentile of the month-end price"),
            ("alive_share", "share of runs whose price has not yet crossed the failure line"),
            ("supply_p50_nop", "median total supply, NOP"),
            ("minted_p50_nop", "median mint of the month, NOP"),
        ],
    ),
    (
        "robustness.csv",
        &[
            ("parameter", "the `[market]` parameter varied (the others keep their values)"),
            ("factor", "what its value was multiplied by"),
            ("value", "the value used"),
            ("mode", "`literal` or `chain`"),
            ("shocks", "1 with shocks, 0 without"),
            ("runs", "runs (`[robustness] runs`), at the base growth rate"),
            ("survival", "share of runs that survived"),
        ],
    ),
    (
        "sensitivity.csv",
        &[
            ("mode", "`literal` or `chain`"),
            ("growth", "monthly demand growth rate"),
            ("shocks", "1 with shocks, 0 without"),
            ("runs", "runs in the scenario"),
            ("survived", "runs that survived"),
            ("survival", "survived / runs"),
            ("paper_claim", "the paper's survival figure for this cell where PROTOCOL.md or the issue quotes one; empty otherwise"),
        ],
    ),
];

fn header(file: &str) -> String {
    COLUMNS
        .iter()
        .find(|(f, _)| *f == file)
        .map(|(_, cols)| cols.iter().map(|(c, _)| *c).collect::<Vec<_>>().join(","))
        .unwrap_or_default()
}

fn opt(v: Option<usize>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

/// Nearest-rank percentile of sorted values: the value at index ⌊q·(n − 1)⌋.
fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * q).floor() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(f64::total_cmp);
    v
}

/// Month-by-month percentiles of one scenario: (p5, p50, p95, alive share, supply p50, mint p50).
pub fn monthly(s: &Scenario, months: usize) -> Vec<[f64; 6]> {
    (0..months)
        .map(|t| {
            let at = |v: &[f64]| sorted((0..s.runs.len()).map(|i| v[i * s.months + t]).collect());
            let price = at(&s.price);
            let supply = at(&s.supply);
            let minted = at(&s.minted);
            let alive = s
                .runs
                .iter()
                .filter(|r| r.death_month.is_none_or(|d| d > t))
                .count() as f64
                / s.runs.len().max(1) as f64;
            [
                percentile(&price, 0.05),
                percentile(&price, 0.50),
                percentile(&price, 0.95),
                alive,
                percentile(&supply, 0.50),
                percentile(&minted, 0.50),
            ]
        })
        .collect()
}

fn paper_claim(cfg: &MonteCarlo, growth: f64, shocks: bool) -> Option<f64> {
    // the paper's two figures are quoted for its base case only
    (growth == cfg.base_growth).then_some(if shocks {
        cfg.paper.survival_with_shocks
    } else {
        cfg.paper.survival_without_shocks
    })
}

/// The CSVs, as (file name, contents): deterministic for a given configuration.
pub fn csvs(cfg: &MonteCarlo, scenarios: &[Scenario]) -> Vec<(&'static str, String)> {
    let mut runs = header("runs.csv") + "\n";
    let mut months = header("months.csv") + "\n";
    let mut sens = header("sensitivity.csv") + "\n";
    for s in scenarios {
        let key = format!("{},{:.4},{}", s.mode.name(), s.growth, u8::from(s.shocks));
        for (i, r) in s.runs.iter().enumerate() {
            let _ = writeln!(
                runs,
                "{key},{i},{},{},{},{:.6},{:.6},{:.3},{}",
                u8::from(r.death_month.is_none()),
                opt(r.death_month),
                r.shocks,
                r.final_price,
                r.min_price,
                r.final_supply,
                opt(r.cap_month)
            );
        }
        for (t, row) in monthly(s, cfg.months).iter().enumerate() {
            let _ = writeln!(
                months,
                "{key},{t},{:.6},{:.6},{:.6},{:.4},{:.3},{:.3}",
                row[0], row[1], row[2], row[3], row[4], row[5]
            );
        }
        let alive = s.runs.iter().filter(|r| r.death_month.is_none()).count();
        let _ = writeln!(
            sens,
            "{key},{},{alive},{:.4},{}",
            s.runs.len(),
            s.survival(),
            paper_claim(cfg, s.growth, s.shocks)
                .map(|c| format!("{c:.4}"))
                .unwrap_or_default()
        );
    }
    vec![
        ("runs.csv", runs),
        ("months.csv", months),
        ("sensitivity.csv", sens),
    ]
}

fn find(scenarios: &[Scenario], mode: Mode, growth: f64, shocks: bool) -> Option<&Scenario> {
    scenarios
        .iter()
        .find(|s| s.mode == mode && s.growth == growth && s.shocks == shocks)
}

fn plots(cfg: &MonteCarlo, scenarios: &[Scenario], dir: &Path) -> Result<Vec<(String, String)>> {
    let mut figures = Vec::new();
    let x = |t: usize| t as f64 + 1.0;
    // price fans at the base growth rate, one figure per mode
    for &mode in &cfg.modes {
        let mut series = Vec::new();
        for (k, shocks) in [true, false].into_iter().enumerate() {
            if let Some(s) = find(scenarios, mode, cfg.base_growth, shocks) {
                let rows = monthly(s, cfg.months);
                series.push(Series {
                    label: format!(
                        "median, shocks {} (band: p5–p95)",
                        if shocks { "on" } else { "off" }
                    ),
                    points: rows.iter().enumerate().map(|(t, r)| (x(t), r[1])).collect(),
                    band: Some(
                        rows.iter()
                            .enumerate()
                            .map(|(t, r)| (x(t), r[0], r[2]))
                            .collect(),
                    ),
                    color: PALETTE[k],
                    dashed: !shocks,
                    markers: false,
                });
            }
        }
        let file = format!("price_fan_{}.svg", mode.name());
        line_chart(
            &dir.join(&file),
            &format!(
                "004 {} mode: token price, growth {:.0} %/month",
                mode.name(),
                cfg.base_growth * 100.0
            ),
            "month",
            "price (USD, log scale)",
            &series,
            true,
            SeriesLabelPosition::UpperLeft,
        )?;
        figures.push((
            file,
            format!(
                "Token price by month in `{}` mode at the base growth rate: median (line) and the \
                 p5–p95 band, with and without shocks.",
                mode.name()
            ),
        ));
    }
    // survival against the growth rate
    let mut series = Vec::new();
    for (k, &mode) in cfg.modes.iter().enumerate() {
        for shocks in [true, false] {
            let points = cfg
                .growth_rates
                .iter()
                .filter_map(|&g| {
                    find(scenarios, mode, g, shocks).map(|s| (g * 100.0, s.survival() * 100.0))
                })
                .collect();
            series.push(Series {
                label: format!(
                    "{}, shocks {}",
                    mode.name(),
                    if shocks { "on" } else { "off" }
                ),
                points,
                band: None,
                color: PALETTE[k],
                dashed: !shocks,
                markers: false,
            });
        }
    }
    series.push(Series {
        label: format!(
            "paper: {:.1} % with shocks, {:.1} % without",
            cfg.paper.survival_with_shocks * 100.0,
            cfg.paper.survival_without_shocks * 100.0
        ),
        points: vec![
            (
                cfg.base_growth * 100.0,
                cfg.paper.survival_with_shocks * 100.0,
            ),
            (
                cfg.base_growth * 100.0,
                cfg.paper.survival_without_shocks * 100.0,
            ),
        ],
        band: None,
        color: PALETTE[7],
        dashed: false,
        markers: true,
    });
    line_chart(
        &dir.join("survival_by_growth.svg"),
        "004: survival over 60 months against demand growth",
        "demand growth (%/month)",
        "runs surviving (%)",
        &series,
        false,
        SeriesLabelPosition::MiddleRight,
    )?;
    figures.push((
        "survival_by_growth.svg".into(),
        "Survival against the monthly demand growth rate, per mode, with shocks (solid) and without \
         (dashed); the grey dots are the paper's claims at the base growth rate."
            .into(),
    ));
    // alive share and median supply by month at the base growth
    let mut alive = Vec::new();
    let mut supply = Vec::new();
    for (k, &mode) in cfg.modes.iter().enumerate() {
        for shocks in [true, false] {
            if let Some(s) = find(scenarios, mode, cfg.base_growth, shocks) {
                let rows = monthly(s, cfg.months);
                let label = format!(
                    "{}, shocks {}",
                    mode.name(),
                    if shocks { "on" } else { "off" }
                );
                alive.push(Series {
                    label: label.clone(),
                    points: rows
                        .iter()
                        .enumerate()
                        .map(|(t, r)| (x(t), r[3] * 100.0))
                        .collect(),
                    band: None,
                    color: PALETTE[k],
                    dashed: !shocks,
                    markers: false,
                });
                supply.push(Series {
                    label,
                    points: rows
                        .iter()
                        .enumerate()
                        .map(|(t, r)| (x(t), r[4] / 1e6))
                        .collect(),
                    band: None,
                    color: PALETTE[k],
                    dashed: !shocks,
                    markers: false,
                });
            }
        }
    }
    line_chart(
        &dir.join("alive_by_month.svg"),
        "004: runs still alive by month (base growth)",
        "month",
        "alive (%)",
        &alive,
        false,
        SeriesLabelPosition::LowerLeft,
    )?;
    figures.push((
        "alive_by_month.svg".into(),
        "Share of runs whose price has not yet crossed the failure line, by month (dashed: without \
         shocks).".into(),
    ));
    line_chart(
        &dir.join("supply_by_month.svg"),
        "004: median total supply by month (base growth)",
        "month",
        "supply (million NOP)",
        &supply,
        false,
        SeriesLabelPosition::UpperLeft,
    )?;
    figures.push((
        "supply_by_month.svg".into(),
        "Median total supply by month (dashed: without shocks); the cap is `max_supply`.".into(),
    ));
    Ok(figures)
}

/// A price for the tables: 4 decimals, or scientific notation where that would hide it.
fn usd(x: f64) -> String {
    if x != 0.0 && (x.abs() < 0.01 || x.abs() >= 1e6) {
        format!("{x:.2e}")
    } else {
        format!("{x:.4}")
    }
}

fn pct(x: f64) -> String {
    format!("{:.1} %", x * 100.0)
}

/// The report: parameters, model, modes, figures, headline numbers, sensitivity, verdicts and the
/// column table.
pub fn report(
    cfg: &MonteCarlo,
    scenario_text: &str,
    scenarios: &[Scenario],
    figures: &[(String, String)],
    elapsed: Duration,
) -> String {
    let mut r = String::new();
    let _ = writeln!(r, "# {}\n", cfg.title);
    let _ = writeln!(
        r,
        "{} runs × {} months per scenario; modes {}; growth rates {}; shocks {} per month; seed {}. \
         Wall time {:.1} s on {} thread(s).\n",
        cfg.runs,
        cfg.months,
        cfg.modes.iter().map(|m| format!("`{}`", m.name())).collect::<Vec<_>>().join(", "),
        cfg.growth_rates.iter().map(|g| format!("{:.0} %", g * 100.0)).collect::<Vec<_>>().join(", "),
        pct(cfg.shock_probability),
        cfg.seed,
        elapsed.as_secs_f64(),
        threads(cfg)
    );
    // headline
    let _ = writeln!(
        r,
        "## Headline: survival at the base growth rate ({:.0} %/month)\n",
        cfg.base_growth * 100.0
    );
    let _ = writeln!(
        r,
        "| | paper | {} |",
        cfg.modes
            .iter()
            .map(|m| format!("`{}`", m.name()))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    let _ = writeln!(r, "|---|---|{}", "---|".repeat(cfg.modes.len()));
    for (shocks, claim) in [
        (true, cfg.paper.survival_with_shocks),
        (false, cfg.paper.survival_without_shocks),
    ] {
        let cells: Vec<String> = cfg
            .modes
            .iter()
            .map(|&m| {
                find(scenarios, m, cfg.base_growth, shocks)
                    .map_or("–".into(), |s| pct(s.survival()))
            })
            .collect();
        let _ = writeln!(
            r,
            "| {} | {} | {} |",
            if shocks {
                "with shocks"
            } else {
                "without shocks"
            },
            pct(claim),
            cells.join(" | ")
        );
    }
    let _ = writeln!(r);
    // verdicts
    let _ = writeln!(r, "## Which claims hold\n");
    let tol = 0.02;
    for &mode in &cfg.modes {
        for (shocks, claim) in [
            (true, cfg.paper.survival_with_shocks),
            (false, cfg.paper.survival_without_shocks),
        ] {
            if let Some(s) = find(scenarios, mode, cfg.base_growth, shocks) {
                let got = s.survival();
                let verdict = if (got - claim).abs() <= tol {
                    "holds (within 2 points)"
                } else if got > claim {
                    "does not hold: survival is higher than claimed"
                } else {
                    "does not hold: survival is lower than claimed"
                };
                let _ = writeln!(
                    r,
                    "- `{}` mode, {}: paper {}, here {} — {}.",
                    mode.name(),
                    if shocks {
                        "with shocks"
                    } else {
                        "without shocks"
                    },
                    pct(claim),
                    pct(got),
                    verdict
                );
            }
        }
        let ordered = cfg.growth_rates.iter().all(|&g| {
            match (
                find(scenarios, mode, g, false),
                find(scenarios, mode, g, true),
            ) {
                (Some(off), Some(on)) => off.survival() >= on.survival(),
                _ => true,
            }
        });
        let _ = writeln!(
            r,
            "- `{}` mode: shocks {} survival (the paper's qualitative claim that shocks cost survival {}).",
            mode.name(),
            if ordered { "lower or keep" } else { "raise at some growth rate" },
            if ordered { "holds" } else { "does not hold everywhere" }
        );
    }
    let _ = writeln!(
        r,
        "\nA claim holds here when the survival is within 2 percentage points of the paper's \
         figure. The survival figures depend on the market model below, which PROTOCOL.md does \
         not give (it quotes the mint, not the listing's price equation): its parameters are \
         chosen, not fitted to the paper, and other choices move the rates. The runs test this \
         model at the paper's sizes, not the paper's own code.\n"
    );
    // what the modes' difference shows, and the trend with growth
    let capped = |s: &Scenario| {
        s.runs.iter().filter(|x| x.cap_month.is_some()).count() as f64 / s.runs.len().max(1) as f64
    };
    if let (Some(lit), Some(ch)) = (
        find(scenarios, Mode::Literal, cfg.base_growth, true),
        find(scenarios, Mode::Chain, cfg.base_growth, true),
    ) {
        let _ = writeln!(
            r,
            "What depends less on those choices is the difference between the modes. In `literal` \
             mode the mint, counted in tokens, is added to dollars of sell pressure: a price dip \
             makes the mint look larger, which deepens the dip. With shocks at the base growth rate \
             {} of literal runs reach `max_supply` ({} in `chain` mode) and {} survive ({} in \
             `chain` mode). After such a collapse the literal prices stop meaning anything: with \
             the supply at the cap nothing is minted, and the fee buying meets a pool that shrank \
             with the market cap, so the price climbs by orders of magnitude (the medians below).\n",
            pct(capped(lit)),
            pct(capped(ch)),
            pct(lit.survival()),
            pct(ch.survival())
        );
    }
    for &mode in &cfg.modes {
        let (lo, hi) = (
            cfg.growth_rates
                .iter()
                .copied()
                .fold(f64::INFINITY, f64::min),
            cfg.growth_rates
                .iter()
                .copied()
                .fold(f64::NEG_INFINITY, f64::max),
        );
        if let (Some(a), Some(b)) = (
            find(scenarios, mode, lo, true),
            find(scenarios, mode, hi, true),
        ) {
            let _ = writeln!(
                r,
                "- `{}` mode, with shocks: survival {} from {} at {:.0} % growth to {} at {:.0} %.",
                mode.name(),
                if b.survival() < a.survival() {
                    "falls"
                } else if b.survival() > a.survival() {
                    "rises"
                } else {
                    "stays"
                },
                pct(a.survival()),
                lo * 100.0,
                pct(b.survival()),
                hi * 100.0
            );
        }
    }
    let chain_falls = match (
        find(scenarios, Mode::Chain, cfg.growth_rates[0], true),
        find(
            scenarios,
            Mode::Chain,
            cfg.growth_rates[cfg.growth_rates.len() - 1],
            true,
        ),
    ) {
        (Some(a), Some(b)) => b.survival() < a.survival(),
        _ => false,
    };
    if chain_falls {
        let _ = writeln!(
            r,
            "\nIn `chain` mode faster demand growth is not safer. A plausible reading, not tested \
             separately: more demand early on means a larger subsidised mint while the market cap \
             is still small, so the dip of the subsidy years is deeper before demand carries the \
             price up (the price fans below).\n"
        );
    } else {
        let _ = writeln!(r);
    }
    // sensitivity
    let _ = writeln!(r, "## Sensitivity to the demand growth rate\n");
    let _ = writeln!(r, "| growth | mode | survival with shocks | without shocks | paper (with / without) | median price at month {} (with shocks) | runs capped (with shocks) |", cfg.months);
    let _ = writeln!(r, "|---|---|---|---|---|---|---|");
    for &g in &cfg.growth_rates {
        for &mode in &cfg.modes {
            let on = find(scenarios, mode, g, true);
            let off = find(scenarios, mode, g, false);
            let claim = match (paper_claim(cfg, g, true), paper_claim(cfg, g, false)) {
                (Some(a), Some(b)) => format!("{} / {}", pct(a), pct(b)),
                _ => "not quoted".into(),
            };
            let median = on
                .map(|s| monthly(s, cfg.months).last().map_or(f64::NAN, |row| row[1]))
                .unwrap_or(f64::NAN);
            let capped = on.map_or(0.0, |s| {
                s.runs.iter().filter(|x| x.cap_month.is_some()).count() as f64
                    / s.runs.len().max(1) as f64
            });
            let _ = writeln!(
                r,
                "| {:.0} % | `{}` | {} | {} | {} | {} USD | {} |",
                g * 100.0,
                mode.name(),
                on.map_or("–".into(), |s| pct(s.survival())),
                off.map_or("–".into(), |s| pct(s.survival())),
                claim,
                usd(median),
                pct(capped)
            );
        }
    }
    let _ = writeln!(r);
    // price percentiles
    let _ = writeln!(r, "## Price percentiles (base growth, with shocks)\n");
    let _ = writeln!(r, "| month | mode | p5 | p50 | p95 |");
    let _ = writeln!(r, "|---|---|---|---|---|");
    let marks: Vec<usize> = [1usize, 6, 12, 24, 36, 48, 60]
        .into_iter()
        .filter(|&m| m <= cfg.months)
        .collect();
    for &mode in &cfg.modes {
        if let Some(s) = find(scenarios, mode, cfg.base_growth, true) {
            let rows = monthly(s, cfg.months);
            for &m in &marks {
                let row = rows[m - 1];
                let _ = writeln!(
                    r,
                    "| {m} | `{}` | {} | {} | {} |",
                    mode.name(),
                    usd(row[0]),
                    usd(row[1]),
                    usd(row[2])
                );
            }
        }
    }
    let _ = writeln!(r, "\nEvery month of every scenario is in `months.csv`.\n");
    // figures
    let _ = writeln!(r, "## Figures\n");
    for (file, caption) in figures {
        let _ = writeln!(r, "![{caption}]({file})\n\n{caption}\n");
    }
    // the model
    let m = &cfg.market;
    let _ = writeln!(r, "## The model\n");
    let _ = writeln!(
        r,
        "What PROTOCOL.md gives of the paper: demand-driven issuance with a {}-month subsidy, the mint \
         `M_m = min(R_m × (1 + s(m)), max_supply − total_supply)` with `s(m) = max(0, (S − m)/S)` and \
         `R_m = revenue_usd / price_usd`, and \"a Monte Carlo stress test\"; the issue adds the sizes \
         (10,000 runs × 60 months, 5 %/month shocks, growth 8/10/12/15/20 %) and the claimed survival \
         (82.3 % with shocks, 98.7 % without). Neither gives the demand process, the price equation, \
         the shock size or what \"survival\" means; those are chosen here, shared by both modes, and \
         set in the scenario file:\n",
        cfg.issuance.subsidy_periods
    );
    let _ = writeln!(
        r,
        "1. **Demand** (clients' monthly fee spending, USD) starts at {} and each month is multiplied \
         by `max(0, 1 + g + {}·z)`, z standard normal, g the scenario's growth rate.\n\
         2. **Shocks**: with probability {} a month, demand is cut by {} (it grows again from the lower \
         level) and the price by {}. Without shocks the same uniform draw is made and ignored, so the \
         two settings share every other random number.\n\
         3. **Mint and payout**: per mode, below. Workers (the operators and coprocessors who earn \
         the fees and the payout) sell {} of what they earn each month — the fees and the payout — and \
         hold the rest.\n\
         4. **Price**: the month's net flow `net = buy − sell` goes through a constant-product pool \
         whose dollar reserve is y = {} of the market cap (P·supply): `ln P ← ln P ± 2·ln(1 + |net|/y)` \
         (+ when buying, − when selling), then `+ {}·z'` (z' standard normal), then the shock's cut; \
         buy = the month's demand (clients buy the tokens they pay fees with), sell = the workers' \
         sales of 3 plus holders' sales of {} of the market cap a month (without them nothing but \
         the mint ever sells, and the price would climb for ever once the cap stops the mint). The price \
         starts at {} USD and is kept within [1e-12, 1e12] USD.\n\
         5. **Survival**: a run fails in the first month whose closing price is below {} of the \
         initial price (a {:.0} % drawdown from launch); it survives if that never happens in {} \
         months. Failed runs keep being simulated, so the monthly percentiles cover every run.\n\
         6. **Randomness**: each run has its own SplitMix64 generator (`nodeop_driver::rng::Rng`) \
         seeded from (seed, run index) and draws five numbers a month in a fixed order; every mode, \
         growth rate and shock setting sees the same draws for the same run (common random numbers). \
         Runs are split over threads in contiguous blocks and merged in run order, so the CSVs are \
         byte-identical for a seed whatever the thread count (on one platform: `ln`/`exp`/`cos` come \
         from the platform's math library).\n\
         7. **Percentiles** are nearest-rank: the value at index ⌊q·(n − 1)⌋ of the sorted values.\n",
        m.initial_revenue_usd,
        m.demand_volatility,
        pct(cfg.shock_probability),
        pct(m.shock_demand_drop),
        pct(m.shock_price_drop),
        pct(m.sell_fraction),
        pct(m.pool_liquidity_share),
        m.price_volatility,
        pct(m.holder_sell_share),
        m.initial_price_usd,
        pct(m.death_price_ratio),
        (1.0 - m.death_price_ratio) * 100.0,
        cfg.months
    );
    let _ = writeln!(r, "### Modes\n");
    let _ = writeln!(
        r,
        "- **`literal`** — the paper's mint as PROTOCOL.md quotes it, in floats: `due = demand / P × \
         (1 + max(0, (S − m)/S))`, `minted = min(due, max_supply − supply)`, no rounding. Where the \
         quoted formula leaves the mint in tokens, the sell pressure adds it to dollars as it stands: \
         `sell = {f} × (demand_usd + minted_tokens)`. This is the choice made where the listing is not \
         given: it is what \"price pressure\" computes from the quoted numbers without a conversion, \
         and it is the reading the issue's \"price pressure in consistent units\" for the other mode \
         implies. At a price of 1 USD both modes agree; below it the literal pressure counts more \
         selling than the dollars it stands for, above it less.\n\
         - **`chain`** — the month's fees converted to unop at the month's price \
         (`⌊demand / P × 10⁶⌋`) are recorded with `issuance::record_revenue`, the same amount as work \
         with `issuance::record_weighted_work` over {w} worker accounts (neutral weight), and the \
         period is closed by the module's own begin-block hook \
         (`issuance::component::begin_block`) on an in-memory state built from bank's and issuance's \
         genesis: the module computes `s(m)` in ppm (floored), the mint in integers, the cap through \
         `bank::mint`, and the payout (rounding to the treasury). The simulator reads `minted`, \
         `paid_out` and `total_supply` back from the stored `PeriodRecord`: no formula is copied. \
         Sell pressure is in dollars: `sell = {f} × (demand_usd + paid_out_nop × P)`. Genesis supply \
         {gs} NOP, `max_supply` {ms} NOP, `subsidy_periods` {s}; periods of one epoch (the mint does \
         not depend on the period's length).\n",
        f = m.sell_fraction,
        w = cfg.issuance.workers,
        gs = cfg.issuance.genesis_supply_nop,
        ms = cfg.issuance.max_supply_nop,
        s = cfg.issuance.subsidy_periods
    );
    let _ = writeln!(r, "## Parameters\n\nThe scenario file as run (the seed may be overridden on the command line: this run used {}):\n\n```toml\n{}\n```\n", cfg.seed, scenario_text.trim_end());
    // columns
    let _ = writeln!(
        r,
        "## Columns\n\n| file | column | meaning |\n|---|---|---|"
    );
    for (file, cols) in COLUMNS {
        for (c, meaning) in *cols {
            let _ = writeln!(r, "| {file} | `{c}` | {meaning} |");
        }
    }
    r
}

/// `robustness.csv`'s contents.
pub fn robustness_csv(variants: &[Variant]) -> String {
    let mut out = header("robustness.csv") + "\n";
    for v in variants {
        let _ = writeln!(
            out,
            "{},{:.3},{:.6},{},{},{},{:.4}",
            v.parameter,
            v.factor,
            v.value,
            v.mode.name(),
            u8::from(v.shocks),
            v.runs,
            v.survival()
        );
    }
    out
}

/// The report's robustness section.
fn robustness_section(r: &mut String, cfg: &MonteCarlo, variants: &[Variant], elapsed: Duration) {
    if variants.is_empty() {
        return;
    }
    let _ = writeln!(
        r,
        "## Robustness: one market parameter at a time\n\nEach parameter below is multiplied by \
         each factor while the others keep their values; {} runs at the base growth rate ({:.0} %), \
         same seed ({:.1} s). The values of the main run are in the scenario file below.\n",
        cfg.robustness.runs,
        cfg.base_growth * 100.0,
        elapsed.as_secs_f64()
    );
    let mut head = String::from("| parameter | value |");
    let mut rule = String::from("|---|---|");
    for &mode in &cfg.modes {
        let _ = write!(
            head,
            " `{}` with shocks | `{}` without |",
            mode.name(),
            mode.name()
        );
        rule.push_str("---|---|");
    }
    let _ = writeln!(r, "{head}\n{rule}");
    let mut keys: Vec<(String, f64, f64)> = Vec::new();
    for v in variants {
        if !keys.iter().any(|k| k.0 == v.parameter && k.1 == v.factor) {
            keys.push((v.parameter.clone(), v.factor, v.value));
        }
    }
    for (name, factor, value) in &keys {
        let mut row = format!("| `{name}` × {factor} | {value:.4} |");
        for &mode in &cfg.modes {
            for shocks in [true, false] {
                let cell = variants
                    .iter()
                    .find(|v| {
                        &v.parameter == name
                            && v.factor == *factor
                            && v.mode == mode
                            && v.shocks == shocks
                    })
                    .map_or("–".into(), |v| pct(v.survival()));
                let _ = write!(row, " {cell} |");
            }
        }
        let _ = writeln!(r, "{row}");
    }
    let tol = 0.02;
    for &mode in &cfg.modes {
        let on: Vec<&Variant> = variants
            .iter()
            .filter(|v| v.mode == mode && v.shocks)
            .collect();
        let near = on
            .iter()
            .filter(|v| (v.survival() - cfg.paper.survival_with_shocks).abs() <= tol)
            .count();
        let (lo, hi) = on
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                (a.min(v.survival()), b.max(v.survival()))
            });
        let _ = writeln!(
            r,
            "\n`{}` mode with shocks: survival between {} and {} over these variations; within 2 \
             points of the paper's {} in {} of {}.",
            mode.name(),
            pct(lo),
            pct(hi),
            pct(cfg.paper.survival_with_shocks),
            near,
            on.len()
        );
    }
    let _ = writeln!(
        r,
        "\nThe spread is what the survival rates owe to market parameters that PROTOCOL.md's \
         account of the paper does not fix: a match or a miss against the paper's figures says more \
         about those parameters than about the issuance rules.\n"
    );
    let pairs: Vec<(f64, f64)> = variants
        .iter()
        .filter(|v| v.mode == Mode::Literal)
        .filter_map(|l| {
            variants
                .iter()
                .find(|c| {
                    c.mode == Mode::Chain
                        && c.parameter == l.parameter
                        && c.factor == l.factor
                        && c.shocks == l.shocks
                })
                .map(|c| (l.survival(), c.survival()))
        })
        .collect();
    if !pairs.is_empty() {
        let _ = writeln!(
            r,
            "`literal` survival ≤ `chain` survival in {} of {} variations (both shock settings): \
             the mode difference does not hang on the chosen values the way the match with the \
             paper does.\n",
            pairs.iter().filter(|(l, c)| l <= c).count(),
            pairs.len()
        );
    }
}

/// Runs the experiment and writes the CSVs, the plots and `report.md` into `dir`.
pub fn run_to_dir(
    cfg: &MonteCarlo,
    scenario_text: &str,
    dir: &Path,
    progress: bool,
) -> Result<Vec<Scenario>> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let start = Instant::now();
    let scenarios = run_all(cfg, progress)?;
    let elapsed = start.elapsed();
    if progress {
        eprintln!(
            "004: {} scenarios × {} runs × {} months in {:.1} s",
            scenarios.len(),
            cfg.runs,
            cfg.months,
            elapsed.as_secs_f64()
        );
    }
    let robustness_start = Instant::now();
    let variants = run_robustness(cfg, progress)?;
    let robustness_elapsed = robustness_start.elapsed();
    for (name, text) in csvs(cfg, &scenarios) {
        std::fs::write(dir.join(name), text).with_context(|| format!("writing {name}"))?;
    }
    std::fs::write(dir.join("robustness.csv"), robustness_csv(&variants))
        .context("writing robustness.csv")?;
    let figures = plots(cfg, &scenarios, dir)?;
    let mut text = report(cfg, scenario_text, &scenarios, &figures, elapsed);
    // the robustness section goes before the figures
    let mut section = String::new();
    robustness_section(&mut section, cfg, &variants, robustness_elapsed);
    if let Some(at) = text.find("## Figures") {
        text.insert_str(at, &section);
    }
    std::fs::write(dir.join("report.md"), text).context("writing report.md")?;
    Ok(scenarios)
}
