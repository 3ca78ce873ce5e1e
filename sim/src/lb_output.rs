//! Experiment 001's outputs: CSVs, SVG figures and `report.md`.
#![allow(clippy::float_arithmetic)] // metrics and plots are floats

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};

use plotters::prelude::SeriesLabelPosition;

use crate::agents::{Profile, Strategy};
use crate::load_balancing::{run_all, LoadBalancing, RunResult};
use crate::plot::{heatmap, line_chart, Series, PALETTE};

/// Columns of each CSV, with their meaning: the report's column table is written from this
/// list, and the writers below emit exactly these headers.
pub const COLUMNS: &[(&str, &[(&str, &str)])] = &[
    (
        "periods.csv",
        &[
            ("run", "variant: `base`, `base @N` (the base at the sweep's length N), `slash F` (slashing factor F), or `k_low K`, `k_high K`, `load_opt L` (load-curve constants)"),
            ("period", "period index (0-based); a period is `blocks_per_period` blocks and one staking epoch"),
            ("height", "the period's last block"),
            ("demand", "tasks the demand curve asked for in the period (expectation)"),
            ("posted", "PostTask messages that succeeded"),
            ("refused", "PostTask messages the chain refused (too few eligible operators; a client never sends a post it cannot pay)"),
            ("priced_out", "posts the demand asked for that the client did not send because the unit price was above its highest acceptable price (`clients.max_unit_price_nop`)"),
            ("unaffordable", "posts the demand asked for that the client did not send because its balance could not pay them"),
            ("finalized", "tasks whose aggregate became final in the period"),
            ("wrong", "of those, tasks whose final aggregate is not the true result"),
            ("failed", "tasks that failed (no quorum twice, or no committee)"),
            ("delivered", "tasks whose submission was confirmed"),
            ("undelivered", "finalized tasks whose scheduled submitters all let their window pass"),
            ("slots", "committee slots assigned (rounds 0 and 1, and dispute re-executions)"),
            ("auctions_opened", "slots put up for a Dutch auction"),
            ("auctions_won", "auctions won by a coprocessor"),
            ("auctions_expired", "auctions that expired unsold (the member then executes)"),
            ("bids", "Bid messages sent"),
            ("txs", "txs in the period's blocks"),
            ("failed_txs", "txs the chain refused or failed (should be 0: agents send what the chain allows)"),
            ("active_operators", "operators that have not left and may validate"),
            ("active_honest", "active operators of the honest profile"),
            ("active_lazy", "active lazy operators"),
            ("active_liar", "active liars"),
            ("active_flaky", "active flaky operators"),
            ("score_honest", "mean effective reputation (0–1) of the active honest operators"),
            ("score_lazy", "same, lazy"),
            ("score_liar", "same, liars"),
            ("score_flaky", "same, flaky"),
            ("active_coprocessors", "coprocessors that still bid (collateral above the retirement line)"),
            ("unit_price", "the chain's task unit price at the period's end, unop"),
            ("operator_reward_nop", "Σ over operators of wealth − initial wealth (account + self-bond + unbonding), NOP: cumulative net reward"),
            ("honest_reward_nop", "the same over the honest operators only, NOP"),
            ("coprocessor_reward_nop", "Σ over coprocessors of wealth − initial wealth (account + collateral), NOP"),
            ("operator_slashed_nop", "Σ of everything slashed from operators so far, NOP"),
            ("reward_p10", "10th percentile of the active operators' net reward in the period, NOP"),
            ("reward_p50", "median of the same"),
            ("reward_p90", "90th percentile of the same"),
            ("reward_gini", "Gini coefficient of the same (shifted so the smallest is 0)"),
            ("won_early_high", "auctions won in the period by early/high coprocessors"),
            ("won_late_low", "by late/low coprocessors"),
            ("won_load_aware", "by load-aware coprocessors"),
            ("coprocessor_gini", "Gini coefficient of the auctions won per coprocessor in the period"),
            ("mean_coprocessor_load", "mean load state f (0–1) of the coprocessors at the period's end"),
            ("disputes", "DisputeSlash txs the chain accepted in the period (accused operators whose revealed result was the true one)"),
            ("disputes_upheld", "disputed proposals executed in the period (the re-execution agreed with the original aggregate)"),
            ("disputes_overturned", "disputed proposals overturned in the period (re-execution, or a vote without quorum)"),
            ("disputes_voted", "disputes put to the validators' vote in the period (re-execution without quorum, or unable to run)"),
        ],
    ),
    (
        "operators.csv",
        &[
            ("run", "variant"),
            ("operator", "index (0 is the genesis operator)"),
            ("profile", "honest, lazy, liar or flaky"),
            ("stake_nop", "self-bond at genesis, NOP"),
            ("capacity_units", "capacity registered on chain"),
            ("compute_units", "units it executes itself at once; more is auctioned"),
            ("left_period", "period it left in (empty: stayed)"),
            ("self_bond_nop", "self-bond at the end, NOP"),
            ("reward_nop", "wealth − initial wealth at the end, NOP"),
            ("slashed_nop", "slashed from its pool and unbonding entries, NOP"),
            ("score_ppm", "effective reputation at the end, ppm"),
            ("slots", "committee slots it was drawn for"),
            ("slots_self", "slots it executed itself"),
            ("slots_sold", "slots it put up for auction"),
            ("slots_skipped", "slots it did not take up at all"),
            ("wrong_answers", "slots it answered wrongly itself (lies and random errors)"),
            ("proposals", "result_mismatch proposals raised against it when a task it served aggregated"),
            ("disputes", "proposals against it that it disputed"),
            ("disputes_won", "of those, overturned"),
            ("disputes_saved_nop", "what the overturned proposals asked of its stake, NOP"),
        ],
    ),
    (
        "coprocessors.csv",
        &[
            ("run", "variant"),
            ("coprocessor", "index"),
            ("strategy", "early_high, late_low or load_aware"),
            ("capacity_units", "capacity registered at genesis"),
            ("collateral_nop", "collateral at genesis, NOP"),
            ("won", "auctions won"),
            ("errors", "won slots answered wrongly"),
            ("reward_nop", "wealth − initial wealth at the end, NOP"),
            ("mean_load", "mean over periods of its load state f (0–1)"),
            ("final_load", "load state f at the end (0–1)"),
            ("reward_weight", "issuance reward weight at the end (1.0 at or above load_opt)"),
            ("retired_period", "period it stopped bidding (empty: never)"),
        ],
    ),
    (
        "graph.csv",
        &[
            ("operator", "the member that sold the slot (base run)"),
            ("coprocessor", "the coprocessor that won it"),
            ("slots", "auctions won on that pair over the run"),
        ],
    ),
    (
        "sweep.csv",
        &[
            ("run", "variant"),
            ("slashing_factor", "slashing_factor_ppm / 10⁶"),
            ("k_low", "k_low_ppm / 10⁶"),
            ("k_high", "k_high_ppm / 10⁶"),
            ("load_opt", "load_opt_ppm / 10⁶"),
            ("periods", "periods run"),
            ("tasks", "tasks posted"),
            ("wrong_share", "wrong final aggregates / finalized tasks"),
            ("delivered_share", "delivered / posted"),
            ("active_end", "active operators at the end"),
            ("honest_left", "honest operators that left"),
            ("liar_left", "liars that left"),
            ("lazy_left", "lazy operators that left"),
            ("flaky_left", "flaky operators that left"),
            ("operator_reward_nop", "Σ operators' net reward at the end, NOP"),
            ("coprocessor_reward_nop", "Σ coprocessors' net reward at the end, NOP"),
            ("load_reward_corr", "Pearson correlation of the coprocessors' mean load and their reward per slot won"),
            ("coprocessor_gini", "Gini coefficient of auctions won per coprocessor over the run"),
            ("honest_reward_nop", "honest operators' net reward at the end, NOP"),
            ("disputes", "disputes filed over the run"),
            ("disputes_overturned", "disputed proposals overturned over the run"),
        ],
    ),
];

fn header(file: &str) -> String {
    let cols = COLUMNS
        .iter()
        .find(|(f, _)| *f == file)
        .map(|(_, c)| *c)
        .unwrap_or_default();
    let names: Vec<&str> = cols.iter().map(|(n, _)| *n).collect();
    format!("{}\n", names.join(","))
}

fn opt(v: Option<u64>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

pub fn periods_csv(results: &[RunResult]) -> String {
    let mut s = header("periods.csv");
    for r in results {
        for p in &r.periods {
            let _ = writeln!(
                s,
                "{},{},{},{:.3},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{:.4},{:.4},{:.4},{:.4},{},{},{:.3},{:.3},{:.3},{:.3},{:.4},{:.4},{:.4},{:.4},{},{},{},{:.4},{:.4},{},{},{},{}",
                r.variant.label,
                p.period,
                p.height,
                p.demand,
                p.posted,
                p.refused,
                p.priced_out,
                p.unaffordable,
                p.finalized,
                p.wrong,
                p.failed,
                p.delivered,
                p.undelivered,
                p.slots,
                p.auctions_opened,
                p.auctions_won,
                p.auctions_expired,
                p.bids,
                p.txs,
                p.failed_txs,
                p.active_operators,
                p.active_by_profile[0],
                p.active_by_profile[1],
                p.active_by_profile[2],
                p.active_by_profile[3],
                p.score_by_profile[0],
                p.score_by_profile[1],
                p.score_by_profile[2],
                p.score_by_profile[3],
                p.active_coprocessors,
                p.unit_price,
                p.operator_reward_nop,
                p.honest_reward_nop,
                p.coprocessor_reward_nop,
                p.operator_slashed_nop,
                p.reward_p10,
                p.reward_p50,
                p.reward_p90,
                p.reward_gini,
                p.won_by_strategy[0],
                p.won_by_strategy[1],
                p.won_by_strategy[2],
                p.coprocessor_gini,
                p.mean_coprocessor_load,
                p.disputes,
                p.disputes_upheld,
                p.disputes_overturned,
                p.disputes_voted,
            );
        }
    }
    s
}

pub fn operators_csv(results: &[RunResult]) -> String {
    let mut s = header("operators.csv");
    for r in results {
        for o in &r.operators {
            let _ = writeln!(
                s,
                "{},{},{},{:.0},{},{},{},{:.3},{:.3},{:.3},{},{},{},{},{},{},{},{},{},{:.3}",
                r.variant.label,
                o.index,
                o.profile.name(),
                o.stake_nop,
                o.capacity_units,
                o.compute_units,
                opt(o.left_period),
                o.self_bond_nop,
                o.reward_nop,
                o.slashed_nop,
                o.score_ppm,
                o.slots,
                o.slots_self,
                o.slots_sold,
                o.slots_skipped,
                o.lies,
                o.proposals,
                o.disputes,
                o.disputes_won,
                o.disputes_saved_nop
            );
        }
    }
    s
}

pub fn coprocessors_csv(results: &[RunResult]) -> String {
    let mut s = header("coprocessors.csv");
    for r in results {
        for c in &r.coprocessors {
            let _ = writeln!(
                s,
                "{},{},{},{},{:.0},{},{},{:.4},{:.4},{:.4},{:.4},{}",
                r.variant.label,
                c.index,
                c.strategy.name(),
                c.capacity_units,
                c.collateral_nop,
                c.won,
                c.errors,
                c.reward_nop,
                c.mean_load_ppm / 1e6,
                c.final_load_ppm as f64 / 1e6,
                c.reward_weight_ppm as f64 / 1e6,
                opt(c.retired_period)
            );
        }
    }
    s
}

pub fn graph_csv(base: &RunResult) -> String {
    let mut s = header("graph.csv");
    for ((o, c), n) in &base.graph {
        let _ = writeln!(s, "{o},{c},{n}");
    }
    s
}

fn pearson(xs: &[f64], ys: &[f64]) -> f64 {
    let n = xs.len() as f64;
    if xs.len() < 2 {
        return 0.0;
    }
    let mx = xs.iter().sum::<f64>() / n;
    let my = ys.iter().sum::<f64>() / n;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (x, y) in xs.iter().zip(ys) {
        sxy += (x - mx) * (y - my);
        sxx += (x - mx) * (x - mx);
        syy += (y - my) * (y - my);
    }
    if sxx <= 0.0 || syy <= 0.0 {
        return 0.0;
    }
    sxy / (sxx * syy).sqrt()
}

/// One run's summary numbers (a row of sweep.csv).
pub struct Summary {
    pub tasks: u64,
    pub wrong_share: f64,
    pub delivered_share: f64,
    pub active_end: u64,
    pub left: [u64; 4],
    pub operator_reward: f64,
    pub coprocessor_reward: f64,
    pub load_reward_corr: f64,
    pub coprocessor_gini: f64,
    pub tasks_per_s: f64,
    pub honest_reward: f64,
    pub disputes: u64,
    pub upheld: u64,
    pub overturned: u64,
    pub voted: u64,
}

pub fn summary(r: &RunResult) -> Summary {
    summary_upto(r, r.periods.len() as u64)
}

/// The summary of the first `n` periods (runs of different lengths compared at the same time;
/// the coprocessor columns are over the whole run).
pub fn summary_upto(r: &RunResult, n: u64) -> Summary {
    let periods = &r.periods[..(n as usize).min(r.periods.len())];
    let tasks: u64 = periods.iter().map(|p| p.posted).sum();
    let finalized: u64 = periods.iter().map(|p| p.finalized).sum();
    let wrong: u64 = periods.iter().map(|p| p.wrong).sum();
    let delivered: u64 = periods.iter().map(|p| p.delivered).sum();
    let mut left = [0u64; 4];
    for o in &r.operators {
        if o.left_period.is_some_and(|p| p < n) {
            left[o.profile as usize] += 1;
        }
    }
    let active: Vec<&crate::load_balancing::CoprocessorRow> =
        r.coprocessors.iter().filter(|c| c.won > 0).collect();
    let loads: Vec<f64> = active.iter().map(|c| c.mean_load_ppm / 1e6).collect();
    let per_slot: Vec<f64> = active.iter().map(|c| c.reward_nop / c.won as f64).collect();
    let won: Vec<f64> = r.coprocessors.iter().map(|c| c.won as f64).collect();
    let last = periods.last();
    Summary {
        tasks,
        wrong_share: wrong as f64 / finalized.max(1) as f64,
        delivered_share: delivered as f64 / tasks.max(1) as f64,
        active_end: last.map_or(0, |p| p.active_operators),
        left,
        operator_reward: last.map_or(0.0, |p| p.operator_reward_nop),
        coprocessor_reward: last.map_or(0.0, |p| p.coprocessor_reward_nop),
        load_reward_corr: pearson(&loads, &per_slot),
        coprocessor_gini: crate::load_balancing::gini(&won),
        tasks_per_s: tasks as f64 / r.timing.total.as_secs_f64().max(1e-9),
        honest_reward: last.map_or(0.0, |p| p.honest_reward_nop),
        disputes: periods.iter().map(|p| p.disputes).sum(),
        upheld: periods.iter().map(|p| p.disputes_upheld).sum(),
        overturned: periods.iter().map(|p| p.disputes_overturned).sum(),
        voted: periods.iter().map(|p| p.disputes_voted).sum(),
    }
}

pub fn sweep_csv(results: &[RunResult]) -> String {
    let mut s = header("sweep.csv");
    for r in results {
        let m = summary(r);
        let _ = writeln!(
            s,
            "{},{:.2},{:.2},{:.2},{:.2},{},{},{:.5},{:.5},{},{},{},{},{},{:.3},{:.3},{:.4},{:.4},{:.3},{},{}",
            r.variant.label,
            r.variant.slashing_factor_ppm as f64 / 1e6,
            r.variant.k_low_ppm as f64 / 1e6,
            r.variant.k_high_ppm as f64 / 1e6,
            r.variant.load_opt_ppm as f64 / 1e6,
            r.variant.periods,
            m.tasks,
            m.wrong_share,
            m.delivered_share,
            m.active_end,
            m.left[Profile::Honest as usize],
            m.left[Profile::Liar as usize],
            m.left[Profile::Lazy as usize],
            m.left[Profile::Flaky as usize],
            m.operator_reward,
            m.coprocessor_reward,
            m.load_reward_corr,
            m.coprocessor_gini,
            m.honest_reward,
            m.disputes,
            m.overturned,
        );
    }
    s
}

/// Every CSV of a run set, by file name (what the determinism test hashes).
pub fn csvs(results: &[RunResult]) -> Vec<(&'static str, String)> {
    vec![
        ("periods.csv", periods_csv(results)),
        ("operators.csv", operators_csv(results)),
        ("coprocessors.csv", coprocessors_csv(results)),
        ("graph.csv", graph_csv(&results[0])),
        ("sweep.csv", sweep_csv(results)),
    ]
}

/// Runs the experiment and writes CSVs, figures and report.md into `out`.
pub fn run_to_dir(cfg: &LoadBalancing, scenario: &str, out: &Path, progress: bool) -> Result<()> {
    let results = run_all(cfg, progress)?;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    for (name, text) in csvs(&results) {
        std::fs::write(out.join(name), text).with_context(|| format!("writing {name}"))?;
    }
    figures(&results, out)?;
    let report = report(cfg, scenario, &results);
    std::fs::write(out.join("report.md"), report).context("writing report.md")?;
    Ok(())
}

fn series(label: &str, color: usize, points: Vec<(f64, f64)>) -> Series {
    Series {
        label: label.into(),
        points,
        band: None,
        color: PALETTE[color % PALETTE.len()],
        dashed: false,
        markers: false,
    }
}

fn dots(label: &str, color: usize, points: Vec<(f64, f64)>) -> Series {
    Series {
        markers: true,
        ..series(label, color, points)
    }
}

/// Moving sum over `w` periods (for noisy per-period counts).
fn moving(points: &[(f64, f64)], w: usize) -> Vec<(f64, f64)> {
    (0..points.len())
        .map(|i| {
            let lo = i.saturating_sub(w - 1);
            let s: f64 = points[lo..=i].iter().map(|p| p.1).sum();
            (points[i].0, s / (i - lo + 1) as f64)
        })
        .collect()
}

/// The runs of the sweep, all of one length: the sweep points and the base parameters run at
/// the sweep's length (the base run itself when it has that length). Fig. 2a and fig. 9 and
/// their tables compare these only.
pub fn comparable(results: &[RunResult]) -> Vec<&RunResult> {
    let len = results
        .iter()
        .skip(1)
        .map(|x| x.variant.periods)
        .min()
        .unwrap_or(results[0].variant.periods);
    let mut out: Vec<&RunResult> = Vec::new();
    for x in results.iter().filter(|x| x.variant.periods == len) {
        let same = out
            .iter()
            .any(|y| y.variant.constants() == x.variant.constants());
        if !same {
            out.push(x);
        }
    }
    out
}

fn figures(results: &[RunResult], out: &Path) -> Result<()> {
    let base = &results[0];
    let cmp = comparable(results);
    let per =
        |r: &RunResult, f: &dyn Fn(&crate::load_balancing::PeriodRow) -> f64| -> Vec<(f64, f64)> {
            r.periods.iter().map(|p| (p.period as f64, f(p))).collect()
        };
    // fig. 2: active operators by slashing factor; cumulative rewards
    let mut active = Vec::new();
    let mut slash: Vec<&&RunResult> = cmp
        .iter()
        .filter(|r| r.variant.same_but(&base.variant, 0))
        .collect();
    slash.sort_by_key(|r| r.variant.slashing_factor_ppm);
    for (i, r) in slash.iter().enumerate() {
        let label = format!(
            "slashing factor {:.1}{}",
            r.variant.slashing_factor_ppm as f64 / 1e6,
            if r.variant.slashing_factor_ppm == base.variant.slashing_factor_ppm {
                " (base)"
            } else {
                ""
            }
        );
        active.push(series(&label, i, per(r, &|p| p.active_operators as f64)));
    }
    line_chart(
        &out.join("fig2_active_operators.svg"),
        "Fig. 2a: active operators by slashing factor",
        "period",
        "active operators",
        &active,
        false,
        SeriesLabelPosition::LowerLeft,
    )?;
    line_chart(
        &out.join("fig2_cumulative_rewards.svg"),
        "Fig. 2b: cumulative net rewards (base run)",
        "period",
        "NOP",
        &[
            series("operators", 0, per(base, &|p| p.operator_reward_nop)),
            series("honest operators", 3, per(base, &|p| p.honest_reward_nop)),
            series("coprocessors", 1, per(base, &|p| p.coprocessor_reward_nop)),
            series(
                "slashed from operators",
                2,
                per(base, &|p| p.operator_slashed_nop),
            ),
        ],
        false,
        SeriesLabelPosition::UpperLeft,
    )?;
    // fig. 3: reward distribution among active operators per period
    let mut med = series("median", 0, per(base, &|p| p.reward_p50));
    med.band = Some(
        base.periods
            .iter()
            .map(|p| (p.period as f64, p.reward_p10, p.reward_p90))
            .collect(),
    );
    line_chart(
        &out.join("fig3_reward_distribution.svg"),
        "Fig. 3: operators' net reward per period (median, 10th–90th percentile)",
        "period",
        "NOP per period",
        &[
            med,
            series("Gini × max p90", 1, {
                let top = base
                    .periods
                    .iter()
                    .map(|p| p.reward_p90)
                    .fold(0.0, f64::max);
                per(base, &|p| p.reward_gini * top)
            }),
        ],
        false,
        SeriesLabelPosition::UpperLeft,
    )?;
    // fig. 4: reputation vs total reward, by profile
    let by_profile: Vec<Series> = Profile::ALL
        .iter()
        .enumerate()
        .map(|(i, pr)| {
            dots(
                pr.name(),
                i,
                base.operators
                    .iter()
                    .filter(|o| o.profile == *pr)
                    .map(|o| (o.score_ppm as f64 / 1e6, o.reward_nop))
                    .collect(),
            )
        })
        .collect();
    line_chart(
        &out.join("fig4_reputation_vs_reward.svg"),
        "Fig. 4: effective reputation vs total net reward (operators, base run)",
        "effective reputation at the end",
        "net reward, NOP",
        &by_profile,
        false,
        SeriesLabelPosition::UpperLeft,
    )?;
    // fig. 5: operator → coprocessor task graph
    let n_ops = base.operators.len();
    let n_cp = base.coprocessors.len();
    let mut m = vec![vec![0u64; n_cp]; n_ops];
    for ((o, c), n) in &base.graph {
        m[*o][*c] = *n;
    }
    heatmap(
        &out.join("fig5_task_graph.svg"),
        "Fig. 5: slots sold, operator (row) → coprocessor (column)",
        "coprocessor",
        "operator",
        &m,
    )?;
    // fig. 6: coprocessor load vs reward, by strategy
    let by_strategy: Vec<Series> = Strategy::ALL
        .iter()
        .enumerate()
        .map(|(i, st)| {
            dots(
                st.name(),
                i,
                base.coprocessors
                    .iter()
                    .filter(|c| c.strategy == *st)
                    .map(|c| (c.mean_load_ppm / 1e6, c.reward_nop))
                    .collect(),
            )
        })
        .collect();
    line_chart(
        &out.join("fig6_load_vs_reward.svg"),
        "Fig. 6: coprocessor mean load vs net reward (base run)",
        "mean load state f",
        "net reward, NOP",
        &by_strategy,
        false,
        SeriesLabelPosition::UpperLeft,
    )?;
    // fig. 7: tasks among coprocessors over time
    let w = 10;
    line_chart(
        &out.join("fig7_coprocessor_tasks.svg"),
        "Fig. 7: slots won per period by strategy (10-period mean), and Gini across coprocessors × 100",
        "period",
        "slots won per period",
        &[
            series("early_high", 0, moving(&per(base, &|p| p.won_by_strategy[0] as f64), w)),
            series("late_low", 1, moving(&per(base, &|p| p.won_by_strategy[1] as f64), w)),
            series("load_aware", 2, moving(&per(base, &|p| p.won_by_strategy[2] as f64), w)),
            Series {
                dashed: true,
                ..series("Gini × 100", 7, moving(&per(base, &|p| p.coprocessor_gini * 100.0), w))
            },
        ],
        false,
        SeriesLabelPosition::UpperRight,
    )?;
    // fig. 9: load vs reward per slot, coloured by the load-curve constant
    let mut by_k = Vec::new();
    let mut ks: Vec<&&RunResult> = cmp
        .iter()
        .filter(|r| r.variant.same_but(&base.variant, 1))
        .collect();
    ks.sort_by_key(|r| r.variant.k_low_ppm);
    for (i, r) in ks.iter().enumerate() {
        by_k.push(dots(
            &format!("k_low {:.1}", r.variant.k_low_ppm as f64 / 1e6),
            i,
            r.coprocessors
                .iter()
                .filter(|c| c.won > 0)
                .map(|c| (c.mean_load_ppm / 1e6, c.reward_nop / c.won as f64))
                .collect(),
        ));
    }
    line_chart(
        &out.join("fig9_load_vs_reward_by_k.svg"),
        "Fig. 9: coprocessor mean load vs net reward per slot won, by k_low",
        "mean load state f",
        "net reward per slot won, NOP",
        &by_k,
        false,
        SeriesLabelPosition::UpperRight,
    )?;
    Ok(())
}

fn verdict(ok: bool, partly: bool) -> &'static str {
    if ok {
        "**reproduced**"
    } else if partly {
        "**partly reproduced**"
    } else {
        "**not reproduced**"
    }
}

/// Mean of `f` over the first or last tenth of the periods.
fn tenth(r: &RunResult, last: bool, f: impl Fn(&crate::load_balancing::PeriodRow) -> f64) -> f64 {
    let n = (r.periods.len() / 10).max(1);
    let slice = if last {
        &r.periods[r.periods.len() - n..]
    } else {
        &r.periods[..n]
    };
    slice.iter().map(f).sum::<f64>() / n as f64
}

pub fn report(cfg: &LoadBalancing, scenario: &str, results: &[RunResult]) -> String {
    let base = &results[0];
    let bs = summary(base);
    let profiles_n = |p: Profile| base.operators.iter().filter(|o| o.profile == p).count();
    let honest_slashed: f64 = base
        .operators
        .iter()
        .filter(|o| o.profile == Profile::Honest)
        .map(|o| o.slashed_nop)
        .sum();
    let mut r = String::new();
    let _ = writeln!(r, "# {}\n", cfg.title);
    let total_tasks: u64 = results.iter().map(|x| summary(x).tasks).sum();
    let _ = writeln!(
        r,
        "{} operators × {} coprocessors × {} periods of {} one-second blocks (base run), seed {}; \
         {} runs in all ({} tasks). Every action of every agent is a signed tx executed by the \
         real App's FinalizeBlock and committed (in-memory store, last 2 heights kept); \
         signatures are verified in FinalizeBlock itself (the simulator sends no CheckTx, so the \
         verified-signature cache is never used). Agents read back only what a node's queries \
         show: task, auction, coprocessor, slash-proposal and account records.\n",
        cfg.operators,
        cfg.coprocessors,
        base.variant.periods,
        cfg.blocks_per_period,
        cfg.seed,
        results.len(),
        total_tasks
    );
    let _ = writeln!(r, "## Headline numbers (base run)\n");
    let _ = writeln!(r, "| quantity | value |\n|---|---:|");
    let total =
        |f: fn(&crate::load_balancing::PeriodRow) -> u64| base.periods.iter().map(f).sum::<u64>();
    let rows: Vec<(String, String)> = vec![
        ("tasks posted".into(), bs.tasks.to_string()),
        (
            "posts refused by the chain / priced out / unaffordable".into(),
            format!(
                "{} / {} / {}",
                total(|p| p.refused),
                total(|p| p.priced_out),
                total(|p| p.unaffordable)
            ),
        ),
        (
            "delivered / posted".into(),
            format!("{:.1} %", bs.delivered_share * 100.0),
        ),
        (
            "wrong final aggregates / finalized".into(),
            format!("{:.3} %", bs.wrong_share * 100.0),
        ),
        (
            "active operators at the end".into(),
            format!("{} of {}", bs.active_end, cfg.operators),
        ),
        (
            "operators that left (honest / lazy / liar / flaky)".into(),
            format!(
                "{}/{} · {}/{} · {}/{} · {}/{}",
                bs.left[0],
                profiles_n(Profile::Honest),
                bs.left[1],
                profiles_n(Profile::Lazy),
                bs.left[2],
                profiles_n(Profile::Liar),
                bs.left[3],
                profiles_n(Profile::Flaky)
            ),
        ),
        (
            "operators' cumulative net reward".into(),
            format!("{:.1} NOP", bs.operator_reward),
        ),
        (
            "honest operators' cumulative net reward".into(),
            format!("{:.1} NOP", bs.honest_reward),
        ),
        (
            "coprocessors' cumulative net reward".into(),
            format!("{:.1} NOP", bs.coprocessor_reward),
        ),
        (
            "slash proposals disputed / upheld / overturned / put to the vote".into(),
            format!(
                "{} / {} / {} / {}",
                bs.disputes, bs.upheld, bs.overturned, bs.voted
            ),
        ),
        (
            "slots auctioned / won / expired".into(),
            format!(
                "{} / {} / {}",
                total(|p| p.auctions_opened),
                total(|p| p.auctions_won),
                total(|p| p.auctions_expired)
            ),
        ),
        (
            "txs / of them refused or failed".into(),
            format!("{} / {}", total(|p| p.txs), total(|p| p.failed_txs)),
        ),
    ];
    for (k, v) in rows {
        let _ = writeln!(r, "| {k} | {v} |");
    }
    let _ = writeln!(
        r,
        "\n(`failed_txs` counts PostTask txs the chain refused for lack of eligible operators, \
         which a client cannot know before it posts; `NODEOP_SIM_DEBUG=1` prints every refusal. \
         Clients send no post they cannot pay and none above their highest acceptable unit \
         price (`priced_out`, `unaffordable`); an agent only sends what the node's own checks \
         allow, so other failures are bugs.)\n"
    );

    // ---------------------------------------------------------------- figures
    let _ = writeln!(r, "## Figures, one by one\n");
    let cmp = comparable(results);
    let slash_runs: Vec<&RunResult> = cmp
        .iter()
        .copied()
        .filter(|x| x.variant.same_but(&base.variant, 0))
        .collect();
    // runs of different lengths are compared over the periods they all have
    let common = slash_runs
        .iter()
        .map(|x| x.periods.len() as u64)
        .min()
        .unwrap_or(0);
    let mut by_factor: Vec<(u32, Summary)> = Vec::new();
    for x in &slash_runs {
        if by_factor
            .iter()
            .any(|(f, _)| *f == x.variant.slashing_factor_ppm)
        {
            continue;
        }
        by_factor.push((x.variant.slashing_factor_ppm, summary_upto(x, common)));
    }
    by_factor.sort_by_key(|(f, _)| *f);
    let _ = writeln!(
        r,
        "### Fig. 2a — active operators over time by slashing factor\n"
    );
    let _ = writeln!(r, "![fig2a](fig2_active_operators.svg)\n");
    let _ = writeln!(
        r,
        "Over the first {common} periods (the length every run of the sweep has):\n"
    );
    let _ = writeln!(
        r,
        "| slashing factor | active at end | honest left | liars left | lazy left | flaky left | wrong aggregates |\n|---:|---:|---:|---:|---:|---:|---:|"
    );
    for (f, m) in &by_factor {
        let _ = writeln!(
            r,
            "| {:.1} | {} | {} | {} | {} | {} | {:.3} % |",
            *f as f64 / 1e6,
            m.active_end,
            m.left[0],
            m.left[2],
            m.left[1],
            m.left[3],
            m.wrong_share * 100.0
        );
    }
    let (lo, hi) = (by_factor.first(), by_factor.last());
    if let (Some((flo, mlo)), Some((fhi, mhi))) = (lo, hi) {
        let deter = mhi.left[2] > mlo.left[2] || mhi.wrong_share < mlo.wrong_share;
        let at_base = by_factor
            .iter()
            .find(|(f, _)| *f == base.variant.slashing_factor_ppm)
            .map(|(_, m)| m);
        let keeps =
            at_base.is_some_and(|m| m.left[0] <= mhi.left[0] && m.active_end >= mhi.active_end);
        let base_honest_left = at_base.map_or(0, |m| m.left[0]);
        let _ = writeln!(
            r,
            "\nThe paper's shape: more operators leave as the factor grows, and a moderate factor \
             keeps the honest ones while cheats are deterred. From factor {:.1} to {:.1}, liars that \
             left went from {} to {} and wrong aggregates from {:.3} % to {:.3} %; honest operators \
             that left: {} at the base factor, {} at the highest. Verdict: {}. Why: a liar's \
             mismatch proposal takes `result_mismatch_ppm × factor` of its stake once undisputed \
             (30 s later), so its self-bond crosses the leave line after fewer lies as the factor \
             grows. Honest operators are slashed for their coprocessors' wrong answers (the seller \
             stays liable, below) and when two colluding liars outvote them in a committee; they \
             dispute the second kind, which a re-execution by fresh members overturns (section \
             \"Disputes\" below), so what still grows with the factor is mostly the first kind, \
             and at a high factor it pushes busy sellers below the leave line. With factor 0 \
             liars are never slashed; they still lose reputation (the Byzantine factor halves on \
             every mismatch), so they are drawn less, which deters through income, not stake.\n",
            *flo as f64 / 1e6,
            *fhi as f64 / 1e6,
            mlo.left[2],
            mhi.left[2],
            mlo.wrong_share * 100.0,
            mhi.wrong_share * 100.0,
            base_honest_left,
            mhi.left[0],
            verdict(deter && keeps, deter || keeps)
        );
    }
    let op_end = tenth(base, true, |p| p.operator_reward_nop);
    let h_mid = {
        let n = base.periods.len();
        base.periods.get(n / 2).map_or(0.0, |p| p.honest_reward_nop)
    };
    let h_end = base.periods.last().map_or(0.0, |p| p.honest_reward_nop);
    let c_mid = {
        let n = base.periods.len();
        base.periods
            .get(n / 2)
            .map_or(0.0, |p| p.coprocessor_reward_nop)
    };
    let cp_end = base
        .periods
        .last()
        .map_or(0.0, |p| p.coprocessor_reward_nop);
    let _ = writeln!(
        r,
        "### Fig. 2b — cumulative rewards of operators and coprocessors\n"
    );
    let _ = writeln!(r, "![fig2b](fig2_cumulative_rewards.svg)\n");
    let _ = writeln!(
        r,
        "Honest operators' cumulative net reward: {:.1} NOP at mid-run, {:.1} NOP at the end; \
         coprocessors': {:.1} and {:.1} NOP; all operators together (slashed liars included): \
         {:.1} NOP in the last tenth. The paper's shape is rising cumulative rewards for both \
         sides. Verdict: {}. Why: honest operators keep their pay line minus the price of the \
         slots they sell, plus issuance's payout and the epoch fee payout; coprocessors earn the \
         auction price, at most the member's guaranteed pay (docs/coprocessors.md), falling to \
         the floor when late/low bidders win, plus their weighted issuance share. The sum over \
         all operators falls where liars are slashed: the slashed total is drawn too. Honest \
         operators also carry the slashes for their coprocessors' wrong results (below, fig. 6), \
         which is what bends their curve; the slashes for being outvoted by liars are disputed \
         and overturned (section \"Disputes\").\n",
        h_mid,
        h_end,
        c_mid,
        cp_end,
        op_end,
        verdict(
            h_end > h_mid && h_mid > 0.0 && cp_end > c_mid && c_mid > 0.0,
            h_end > h_mid || cp_end > c_mid
        )
    );
    let g0 = tenth(base, false, |p| p.reward_gini);
    let g1 = tenth(base, true, |p| p.reward_gini);
    let _ = writeln!(
        r,
        "### Fig. 3 — reward distribution among operators across periods\n"
    );
    let _ = writeln!(r, "![fig3](fig3_reward_distribution.svg)\n");
    let _ = writeln!(
        r,
        "Gini of the per-period net reward among active operators: {:.3} in the first tenth, \
         {:.3} in the last. The paper shows the distribution settling into a stable band as \
         rewards converge. Verdict: {}. Why: committees are drawn by stake × effective \
         reputation, so once the reputations have separated (liars and flaky operators down, \
         honest ones up) each operator's share of slots, and so its reward, is steady; the band \
         is wide because stakes differ threefold and issuance pays at period ends (the spikes \
         every `issuance_period_epochs` periods).\n",
        g0,
        g1,
        verdict(g1 <= g0 * 1.1, g1 <= g0 * 1.5)
    );
    let scores: Vec<f64> = base.operators.iter().map(|o| o.score_ppm as f64).collect();
    let rewards: Vec<f64> = base.operators.iter().map(|o| o.reward_nop).collect();
    let corr = pearson(&scores, &rewards);
    let _ = writeln!(r, "### Fig. 4 — reputation vs total reward\n");
    let _ = writeln!(r, "![fig4](fig4_reputation_vs_reward.svg)\n");
    let _ = writeln!(
        r,
        "Pearson correlation of the final effective reputation and the total net reward over \
         operators: {:.2}. The paper: reputation and reward rise together. Verdict: {}. Why: the \
         effective reputation is in the committee weight and in the pay weight `0.8 + 0.4·score`, \
         and mismatches both halve the Byzantine factor and raise slash proposals; stake (the \
         other half of the weight) spreads honest operators vertically.\n",
        corr,
        verdict(corr > 0.3, corr > 0.0)
    );
    let served = base.coprocessors.iter().filter(|c| c.won > 0).count();
    let sellers = base.operators.iter().filter(|o| o.slots_sold > 0).count();
    let _ = writeln!(r, "### Fig. 5 — operator → coprocessor task graph\n");
    let _ = writeln!(r, "![fig5](fig5_task_graph.svg)\n");
    let _ = writeln!(
        r,
        "{} operators sold slots and {} of {} coprocessors won at least one; Gini of slots won per \
         coprocessor over the run: {:.3}. The paper's graph connects most operators to many \
         coprocessors with no hub. Verdict: {}. Why: the settlement ranks same-block bids by \
         reputation and free capacity, and early access goes to coprocessors with spare \
         capacity, so a busy coprocessor loses ties to an idle one and the slots spread; small \
         coprocessors (capacity or collateral too low for heavy slots) win fewer.\n",
        sellers,
        served,
        base.coprocessors.len(),
        bs.coprocessor_gini,
        verdict(served * 10 >= base.coprocessors.len() * 8, served * 2 >= base.coprocessors.len())
    );
    let loads: Vec<f64> = base.coprocessors.iter().map(|c| c.mean_load_ppm).collect();
    let crew: Vec<f64> = base.coprocessors.iter().map(|c| c.reward_nop).collect();
    let lcorr = pearson(&loads, &crew);
    let _ = writeln!(r, "### Fig. 6 — coprocessor load vs reward\n");
    let _ = writeln!(r, "![fig6](fig6_load_vs_reward.svg)\n");
    let _ = writeln!(
        r,
        "Correlation of mean load state and total net reward over coprocessors: {:.2}; per slot \
         won: {:.2}. The paper: reward grows with load up to the optimum, and the curve pays \
         spare capacity more per unit. Verdict: {}. Why: total reward is volume (more slots, \
         more load); the load-curve's reward weight applies only to the coprocessor's issuance \
         share, so per slot an idle coprocessor earns a little more, which shows as the negative \
         per-slot correlation when it exists.\n",
        lcorr,
        bs.load_reward_corr,
        verdict(lcorr > 0.3 && bs.load_reward_corr <= 0.0, lcorr > 0.3)
    );
    let errors: u64 = base.coprocessors.iter().map(|c| c.errors).sum();
    let won_all: u64 = base.coprocessors.iter().map(|c| c.won).sum();
    let mean_stake = base.operators.iter().map(|o| o.stake_nop).sum::<f64>()
        / base.operators.len().max(1) as f64;
    let per_slot_pay =
        base.coprocessors.iter().map(|c| c.reward_nop).sum::<f64>() / won_all.max(1) as f64;
    let liability = cfg.coprocessor.error_rate * cfg.chain.result_mismatch_ppm as f64 / 1e6
        * base.variant.slashing_factor_ppm as f64
        / 1e6
        * mean_stake;
    let _ = writeln!(
        r,
        "**The seller stays liable.** A coprocessor's wrong result also raises a result_mismatch \
         proposal against the member that sold the slot (docs/coprocessors.md). This run had {} \
         wrong coprocessor results in {} won slots, and honest operators were slashed {:.1} NOP \
         in all. A seller's expected stake loss per sold slot is error_rate × result_mismatch × \
         factor × stake ≈ {:.2} NOP at the mean stake, against about {:.2} NOP of net \
         coprocessor income per slot won: unless coprocessors are almost never wrong, selling a \
         slot costs an honest operator more in expected slashes than the slot pays, and a busy \
         honest operator that sells much can be slashed out of the set. Disputes do not help \
         here: the seller checks the coprocessor's answer when the proposal appears, finds it \
         wrong, and lets the slash stand.\n",
        errors, won_all, honest_slashed, liability, per_slot_pay
    );
    let sh = |i: usize| {
        base.periods
            .iter()
            .map(|p| p.won_by_strategy[i])
            .sum::<u64>()
    };
    let gi0 = tenth(base, false, |p| p.coprocessor_gini);
    let gi1 = tenth(base, true, |p| p.coprocessor_gini);
    let _ = writeln!(r, "### Fig. 7 — tasks among coprocessors over time\n");
    let _ = writeln!(r, "![fig7](fig7_coprocessor_tasks.svg)\n");
    let _ =
        writeln!(
        r,
        "Slots won by strategy over the run: early/high {}, late/low {}, load-aware {}. Gini of \
         slots won per coprocessor per period: {:.3} in the first tenth, {:.3} in the last. The \
         paper's tasks spread across coprocessors over time rather than piling on a few. Verdict: \
         {}. Why: early bidders get the slot while they have capacity; as they fill, the access \
         rule delays them and late or load-aware bidders take the rest, so the per-period share \
         evens out; the demand shock at period {} shows as a dip in every curve.\n",
        sh(0),
        sh(1),
        sh(2),
        gi0,
        gi1,
        verdict(gi1 <= gi0 + 0.02, gi1 <= gi0 + 0.1),
        cfg.demand.shock_period.map_or("–".to_string(), |p| p.to_string())
    );
    let mut by_k: Vec<(u32, Summary)> = Vec::new();
    for x in cmp.iter().filter(|x| x.variant.same_but(&base.variant, 1)) {
        if by_k.iter().any(|(k, _)| *k == x.variant.k_low_ppm) {
            continue;
        }
        by_k.push((x.variant.k_low_ppm, summary(x)));
    }
    by_k.sort_by_key(|(k, _)| *k);
    let _ = writeln!(
        r,
        "### Fig. 9 — load vs reward coloured by the load-curve constant\n"
    );
    let _ = writeln!(r, "![fig9](fig9_load_vs_reward_by_k.svg)\n");
    let _ = writeln!(
        r,
        "| k_low | load–reward-per-slot correlation | Gini of slots won | coprocessors' net reward |\n|---:|---:|---:|---:|"
    );
    for (k, m) in &by_k {
        let _ = writeln!(
            r,
            "| {:.1} | {:.3} | {:.3} | {:.1} NOP |",
            *k as f64 / 1e6,
            m.load_reward_corr,
            m.coprocessor_gini,
            m.coprocessor_reward
        );
    }
    let kshape = by_k.len() >= 2
        && by_k.last().map(|x| x.1.load_reward_corr) < by_k.first().map(|x| x.1.load_reward_corr);
    let _ = writeln!(
        r,
        "\nThe paper: a larger constant tilts reward toward less loaded coprocessors. Verdict: {}. \
         Why: k_low scales the issuance reward weight below `load_opt`; issuance pays by work, \
         and a coprocessor's work is the price it was paid times that weight, so the tilt is \
         bounded by issuance's share of income (the price itself is never scaled). With \
         the default issuance and prices the effect is small next to the volume effect.\n",
        verdict(kshape, by_k.len() >= 2)
    );

    // ---------------------------------------------------------------- advice
    // ---------------------------------------------------------------- disputes
    let by = |p: Profile, f: &dyn Fn(&crate::load_balancing::OperatorRow) -> f64| -> f64 {
        base.operators
            .iter()
            .filter(|o| o.profile == p)
            .map(f)
            .sum()
    };
    let hp = by(Profile::Honest, &|o| o.proposals as f64);
    let hd = by(Profile::Honest, &|o| o.disputes as f64);
    let hw = by(Profile::Honest, &|o| o.disputes_won as f64);
    let hs = by(Profile::Honest, &|o| o.disputes_saved_nop);
    let other_d =
        by(Profile::Lazy, &|o| o.disputes as f64) + by(Profile::Flaky, &|o| o.disputes as f64);
    let other_w = by(Profile::Lazy, &|o| o.disputes_won as f64)
        + by(Profile::Flaky, &|o| o.disputes_won as f64);
    let hurt = base
        .operators
        .iter()
        .filter(|o| o.profile == Profile::Honest && o.slashed_nop > 0.0)
        .count();
    let _ = writeln!(r, "## Disputes: what they change for honest operators\n");
    let _ = writeln!(
        r,
        "An operator disputes a result_mismatch proposal against it when it knows its revealed \
         result was the true one (its own answer, or the answer of the coprocessor it sold the \
         slot to, which it checks); liars never dispute. The chain answers a dispute with a \
         re-execution by `reexec_size` fresh members (a commit–reveal task whose duties the \
         agents do as any other, liars lying there too); no quorum, or no committee to draw, \
         puts it to the validators' vote, in which no agent votes, so it is overturned for want \
         of quorum (src/agents.rs says why votes are left out).\n\n\
         Base run: honest operators received {:.0} result_mismatch proposals and disputed {:.0} \
         of them; {:.0} were overturned, sparing {:.1} NOP of their stake. The other {:.0} were for \
         wrong answers they are liable for (their coprocessors' errors) and stood. Lazy and \
         flaky operators disputed {:.0} (overturned {:.0}). All disputes: {} filed, {} upheld, {} \
         overturned, {} put to the vote. Honest operators end at {:.1} NOP with {:.1} NOP slashed \
         from {} of them; their coprocessors gave {} wrong results. What moves honest \
         operators' wealth is how many wrong answers their coprocessors happen to give (each \
         dispute changes the chain's state, a re-execution task and other committees drawn from \
         then on, so runs with and without disputes part ways after the first one). Being \
         outvoted by colluding liars is the smaller cause of honest slashes; seller liability is \
         the larger, and disputes cannot touch it (fig. 6's paragraph).\n",
        hp,
        hd,
        hw,
        hs,
        hp - hd,
        other_d,
        other_w,
        bs.disputes,
        bs.upheld,
        bs.overturned,
        bs.voted,
        bs.honest_reward,
        honest_slashed,
        hurt,
        errors
    );

    // ---------------------------------------------------------------- sweep
    let _ = writeln!(r, "## The sweep, run by run\n");
    let _ = writeln!(
        r,
        "Every run of the sweep's length ({} periods; each sweep run changes one constant of the \
         base):\n",
        cmp.first().map_or(0, |x| x.variant.periods)
    );
    let _ = writeln!(
        r,
        "| run | slashing factor | k_low | k_high | load_opt | active at end | honest left | liars left | wrong aggregates | honest operators' net reward | disputes (overturned) | Gini of slots won | load–reward-per-slot corr. |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for x in &cmp {
        let m = summary(x);
        let v = &x.variant;
        let _ = writeln!(
            r,
            "| {} | {:.1} | {:.1} | {:.1} | {:.1} | {} | {} | {} | {:.3} % | {:.1} NOP | {} ({}) | {:.3} | {:.3} |",
            v.label,
            v.slashing_factor_ppm as f64 / 1e6,
            v.k_low_ppm as f64 / 1e6,
            v.k_high_ppm as f64 / 1e6,
            v.load_opt_ppm as f64 / 1e6,
            m.active_end,
            m.left[0],
            m.left[2],
            m.wrong_share * 100.0,
            m.honest_reward,
            m.disputes,
            m.overturned,
            m.coprocessor_gini,
            m.load_reward_corr
        );
    }
    let _ = writeln!(r, "\n## Recommended defaults\n");
    // one group per swept constant: the runs that differ from the base in that constant only
    let group = |which: usize| -> Vec<(u32, Summary)> {
        let mut g: Vec<(u32, Summary)> = Vec::new();
        for x in cmp
            .iter()
            .filter(|x| x.variant.same_but(&base.variant, which))
        {
            let v = x.variant.constants()[which];
            if !g.iter().any(|(k, _)| *k == v) {
                g.push((v, summary(x)));
            }
        }
        g.sort_by_key(|(k, _)| *k);
        g
    };
    let honest_n = profiles_n(Profile::Honest).max(1) as f64;
    let cost_of = |g: &[(u32, Summary)]| {
        let worst = g
            .iter()
            .map(|(_, m)| m.wrong_share)
            .fold(0.0, f64::max)
            .max(1e-12);
        g.iter()
            .map(|(k, m)| (*k, m.wrong_share / worst + m.left[0] as f64 / honest_n))
            .collect::<Vec<(u32, f64)>>()
    };
    let base_consts = base.variant.constants();
    // the lowest score wins; a tie keeps the base value
    let pick = |which: usize, scores: &[(u32, f64)]| -> Option<u32> {
        scores
            .iter()
            .min_by(|a, b| {
                a.1.total_cmp(&b.1)
                    .then((a.0 != base_consts[which]).cmp(&(b.0 != base_consts[which])))
            })
            .map(|x| x.0)
    };
    let _ = writeln!(
        r,
        "Rules. The slash-side constants (the slashing factor, and `k_high`, which amplifies \
         slashes above `load_opt`) take the value with the lowest cost = (wrong-aggregate share ÷ \
         the group's worst) + (honest operators that left ÷ honest operators): wrong results and \
         lost honest operators weighed equally. The reward-side constants (`k_low`, and \
         `load_opt`, where the curve turns) take the value that spreads slots most evenly \
         (lowest Gini of slots won), among the values whose cost is no higher than the base's. \
         A tie keeps the base value.\n"
    );
    let names = [
        "slashing_factor_ppm",
        "k_low_ppm",
        "k_high_ppm",
        "load_opt_ppm",
    ];
    for which in 0..4 {
        let g = group(which);
        if g.len() < 2 {
            let _ = writeln!(
                r,
                "- `{}` = **{}**: not swept (kept).",
                names[which], base_consts[which]
            );
            continue;
        }
        let costs = cost_of(&g);
        let chosen = if which == 0 || which == 2 {
            pick(which, &costs)
        } else {
            let base_cost = costs
                .iter()
                .find(|(k, _)| *k == base_consts[which])
                .map_or(f64::INFINITY, |x| x.1);
            let ginis: Vec<(u32, f64)> = g
                .iter()
                .zip(&costs)
                .filter(|(_, (_, c))| *c <= base_cost + 1e-12)
                .map(|((k, m), _)| (*k, m.coprocessor_gini))
                .collect();
            pick(which, &ginis)
        };
        let Some(k) = chosen else { continue };
        let m = &g
            .iter()
            .find(|(v, _)| *v == k)
            .expect("picked from the group")
            .1;
        let tried: Vec<String> = g
            .iter()
            .map(|(v, _)| format!("{:.1}", *v as f64 / 1e6))
            .collect();
        let _ = writeln!(
            r,
            "- `{}` = **{}** ({:.1}; tried {}): wrong aggregates {:.3} %, honest operators lost \
             {}, liars gone {}, Gini of slots won {:.3}, honest operators' net reward {:.1} NOP.",
            names[which],
            k,
            k as f64 / 1e6,
            tried.join(", "),
            m.wrong_share * 100.0,
            m.left[0],
            m.left[2],
            m.coprocessor_gini,
            m.honest_reward
        );
    }
    let _ =
        writeln!(
        r,
        "- `result_mismatch_ppm` {} is kept: the sweep scales it through the factor. The dispute \
         window and vote period are the devnet's 30 s here (24 h in the protocol's defaults); \
         they decide how long a slash waits, not whether it lands.\n\nThese are advice from one \
         seed and one agent mix; the sweep runs are {} periods long. A difference of 0.01 % in \
         wrong aggregates is one task in 10,000, within one seed's noise; so is a few thousand \
         NOP of honest operators' net reward, which hangs on how many wrong answers their \
         coprocessors happen to give.\n",
        cfg.chain.result_mismatch_ppm,
        results.get(1).map_or(base.variant.periods, |x| x.variant.periods)
    );
    let spread = |which: usize| -> Option<String> {
        let g = group(which);
        let (first, last) = (g.first()?, g.last()?);
        (g.len() >= 2).then(|| {
            let steps: Vec<String> = g
                .iter()
                .map(|(k, m)| format!("{:.1} NOP at {:.1}", m.honest_reward, *k as f64 / 1e6))
                .collect();
            let falls = last.1.honest_reward < first.1.honest_reward;
            let monotone = g
                .windows(2)
                .all(|w| (w[1].1.honest_reward < w[0].1.honest_reward) == falls);
            format!(
                "{}{}",
                steps.join(", "),
                if monotone {
                    if falls {
                        " (falling as it grows)"
                    } else {
                        " (rising as it grows)"
                    }
                } else {
                    " (no direction)"
                }
            )
        })
    };
    if let (Some(kh), Some(lo)) = (spread(2), spread(3)) {
        let _ = writeln!(
            r,
            "What the new sweeps show. `k_high` amplifies a slash by up to `k_high` when the \
             operator's load state is above `load_opt`, so it scales the slashes busy operators \
             take, and for honest operators those are mostly the seller-liability slashes: their \
             net reward was {kh}. `load_opt` moves where both halves of the curve turn: {lo}. \
             Neither moved the liars' exit or the wrong-aggregate share beyond noise, so the rule \
             keeps the base values; if honest operators' wealth is weighed too, a lower `k_high` \
             is the cheaper choice when its direction holds over more seeds.\n"
        );
    }

    // ---------------------------------------------------------------- speed
    let _ = writeln!(r, "## Speed: where the time goes\n");
    let _ = writeln!(
        r,
        "| run | periods | tasks | txs | msgs | wall s | CPU s | FinalizeBlock s | Commit s | agents s | tasks/s (wall) | tasks/s (CPU) |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for x in results {
        let t = &x.timing;
        let _ = writeln!(
            r,
            "| {} | {} | {} | {} | {} | {:.1} | {} | {:.1} | {:.1} | {:.1} | {:.0} | {} |",
            x.variant.label,
            x.variant.periods,
            t.tasks,
            t.txs,
            t.msgs,
            t.total.as_secs_f64(),
            t.cpu
                .map_or("–".to_string(), |c| format!("{:.1}", c.as_secs_f64())),
            t.finalize.as_secs_f64(),
            t.commit.as_secs_f64(),
            t.agents.as_secs_f64(),
            t.tasks as f64 / t.total.as_secs_f64().max(1e-9),
            t.cpu.map_or("–".to_string(), |c| format!(
                "{:.0}",
                t.tasks as f64 / c.as_secs_f64().max(1e-9)
            )),
        );
    }
    let _ = writeln!(
        r,
        "\n`agents` is deciding, signing (libsecp256k1) and reading state back; FinalizeBlock includes \
         verifying every signature (libsecp256k1). Each run signs and verifies on the cores the \
         runs side by side leave free ({} thread(s) per run here; the same bytes whatever the \
         count). Wall times vary with the machine's load and are not in the CSVs; CPU is the run \
         thread's own time for a run on one thread, the process's over the runs side by side \
         otherwise. Machine: {} cores, load average {} when the report was written.\n",
        base.timing.threads,
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        std::fs::read_to_string("/proc/loadavg")
            .ok()
            .and_then(|l| l.split_whitespace().next().map(String::from))
            .unwrap_or_else(|| "unknown".into())
    );

    let full_size = cfg.operators >= 100
        && cfg.coprocessors >= 100
        && cfg.periods >= 1000
        && cfg.clients.tasks_per_period >= 1000.0;
    let minutes = |d: std::time::Duration| d.as_secs_f64() / 60.0;
    if full_size {
        let _ = writeln!(
            r,
            "**Full size.** This is the paper's size (100 operators × 100 coprocessors × 1000 \
             periods of 1000 tasks asked for). Its base run took {:.1} min of wall time on this \
             machine ({}), against a target of 10 minutes for a full-size run; {} run(s) in \
             all.\n",
            minutes(base.timing.total),
            base.timing
                .cpu
                .map_or("CPU time not readable".to_string(), |c| format!(
                    "{:.1} min of CPU",
                    minutes(c)
                )),
            results.len(),
        );
    } else {
        let _ = writeln!(
            r,
            "**Full size.** `001-load-balancing-full.toml` asks for 1000 periods × 1000 tasks \
             (over a million tasks asked for per run, 12 runs with its sweeps); its base run \
             alone is in `experiments/results/001-load-balancing-full/`, whose report gives its \
             measured time against the target of 10 minutes (its blocks carry ten times the \
             tasks of this file's, so this run's rate per task does not carry over). The default \
             file keeps the paper's 100 × 100 agents and shortens the run.\n"
        );
    }
    let _ = writeln!(
        r,
        "**Profile** (`perf record --call-graph dwarf` of a 60-period run of the default file's \
         base alone, release build, both cores): the simulator keeps the chain's state in the \
         store's memory engine in its newest-only form (`Storage::in_memory_newest_only`: every \
         block's root computed in full on the same live tree as a node's, the newest state \
         kept, but no past versions, proofs or tree nodes, which nothing here reads; the store's \
         tests hold its roots to the history-keeping store's block by block, and every CSV is \
         byte-identical with either), allocates with mimalloc and signs the agents' txs with \
         libsecp256k1. Of the CPU: 30 % verifying signatures and 20 % the agents signing (both \
         spread over the cores), 21 % executing the messages and the blocks' begin and end \
         hooks, 16 % computing each block's new tree (its deletions and writes made in place \
         on the live tree and hashed, subtrees on both cores), 2 % Commit, the rest the agents \
         deciding and reading state. The same run took 13.2 s with the history-keeping memory \
         store, one thread and two signatures per fee-paying tx, 5.3 s now, with \
         byte-identical CSVs. At this size the signatures are the largest part; at the full \
         size, with three times as many messages per tx, executing them is (see \
         docs/performance.md).\n"
    );

    // ---------------------------------------------------------------- limits
    let _ = writeln!(r, "## What the model leaves out\n");
    let _ = writeln!(
        r,
        "- Agents dispute only result_mismatch proposals (no other offence is raised in this \
         model: nobody reports equivocation, false submissions or failed benchmarks). No agent \
         votes on disputes (a vote only follows a re-execution without quorum, and a vote \
         without quorum overturns, which is what honest votes would decide anyway), and none \
         delegates. A seller does not dispute its coprocessor's wrong answer and has no recourse \
         against the coprocessor beyond what the chain does to it.\n- The downtime SLA is off (`downtime_period_epochs` very large, as \
         in the driver's genesis): lazy operators lose reputation and are drawn less, but are \
         not slashed for it.\n- Coprocessors are honest up to `error_rate`; none lies on purpose.\n\
         - Validators all sign every block (no consensus faults).\n\
         - Clients react to the price only through a highest acceptable unit price each, drawn \
         once (`clients.max_unit_price_nop`): above it a client skips its posts (`priced_out`) \
         and comes back when the price falls; demand itself (the curve) never moves with the \
         price, clients have no budget beyond their balance, and a skipped task is lost, not \
         queued.\n"
    );

    // ---------------------------------------------------------------- columns
    let _ = writeln!(r, "## CSV columns\n");
    let _ = writeln!(r, "| file | column | meaning |\n|---|---|---|");
    for (file, cols) in COLUMNS {
        for (c, m) in *cols {
            let _ = writeln!(r, "| {file} | `{c}` | {m} |");
        }
    }
    let _ = writeln!(r, "\n## Scenario file\n\n```toml\n{}```", scenario);
    r
}
