//! Reputation for people: every component, the score, the Byzantine factor, the load state.

use std::fmt::Write as _;

use nodeop_app::modules::reputation::Tally;

use crate::amount::{describe, format_ppm};
use crate::reputation::ReputationView;

fn opt_ppm(v: Option<u32>) -> String {
    v.map(format_ppm)
        .unwrap_or_else(|| "none yet (not counted)".into())
}

fn tally_text(t: &Tally) -> String {
    format!("good {}, bad {}, neutral {}", t.good, t.bad, t.neutral)
}

/// A reputation, one field per line.
pub fn reputation_text(v: &ReputationView) -> String {
    let c = &v.components;
    let mut out = format!(
        "operator:             {}{}\nbonded tokens:        {}\nscore:                {}\n  success:            {}\n  uptime:             {} (task duties {}; validator blocks {})\n  latency:            {}\n  stake:              {}\nbyzantine factor:     {}\neffective score:      {} (score × byzantine factor; eligibility and committee weights use it)\nload state:           {} of capacity\n  reward weight:      {}\n  slash amplification: {}",
        v.address,
        if v.registered { "" } else { " (not a registered operator)" },
        describe(v.bonded_tokens),
        format_ppm(v.score_ppm),
        format_ppm(c.success_ppm),
        format_ppm(c.uptime_ppm),
        opt_ppm(c.duties_ppm),
        opt_ppm(c.blocks_ppm),
        format_ppm(c.latency_ppm),
        format_ppm(c.stake_ppm),
        format_ppm(v.byz_factor_ppm),
        format_ppm(v.effective_score_ppm),
        format_ppm(v.load_ppm),
        format_ppm(v.reward_weight_ppm),
        format_ppm(v.load_amplification_ppm),
    );
    let r = &v.counters;
    write!(
        out,
        "\ncounters (decaying toward neutral each epoch):\n  results:            {}\n  duties:             {}\n  blocks:             {}\n  latency:            {}",
        tally_text(&r.results),
        tally_text(&r.duties),
        tally_text(&r.blocks),
        tally_text(&r.latency),
    )
    .ok();
    out
}
