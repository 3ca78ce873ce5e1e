//! Tasks for people: a task and where it stands, listings, the schedule, a result with its
//! path, the price, capacity, load and params.

use std::fmt::Write as _;

use nodeop_app::crypto::Address;
use nodeop_app::modules::tasks::query::{
    LoadView, PriceView, ResultView, ScheduleView, TaskSummary, WindowState,
};
use nodeop_app::modules::tasks::state::{CapacitySummary, Submission, Task};
use nodeop_app::modules::tasks::{TaskKind, TaskPayload, TaskStatus, TasksParams};

use crate::tasks::codec::{decode_numeric, format_numeric};

/// How a result's bytes read for people: a Numeric result as its decimal value, an Exact result
/// as text when it is printable UTF-8, else as hex.
pub fn result_text(kind: &TaskKind, bytes: &[u8]) -> String {
    match kind {
        TaskKind::Numeric { scale, .. } => match decode_numeric(bytes) {
            Ok(v) => format_numeric(v, *scale),
            Err(_) => format!("0x{} (not 8 bytes)", hex::encode(bytes)),
        },
        TaskKind::Exact => match std::str::from_utf8(bytes) {
            Ok(s) if !s.is_empty() && !s.chars().any(char::is_control) => format!("{s:?}"),
            _ => format!("0x{}", hex::encode(bytes)),
        },
    }
}

/// A task kind for people: `exact`, `numeric (scale 3, tolerance 0.1 % (1000 ppm))`.
pub fn kind_text(kind: &TaskKind) -> String {
    match kind {
        TaskKind::Exact => "exact".into(),
        TaskKind::Numeric {
            scale,
            tolerance_ppm,
        } => format!(
            "numeric (scale {scale}, tolerance {})",
            crate::amount::format_ppm(*tolerance_ppm)
        ),
    }
}

/// A payload for people: `inline, 12 bytes, sha256 …` or `reference sha256 … at URI`.
pub fn payload_text(payload: &TaskPayload) -> String {
    match payload {
        TaskPayload::Inline(bytes) => format!(
            "inline, {} bytes, sha256 {}",
            bytes.len(),
            hex::encode(payload.hash())
        ),
        TaskPayload::Reference { sha256, uri } => {
            format!("reference sha256 {} at {uri:?}", hex::encode(sha256))
        }
    }
}

/// A height relative to the latest: `42 (in 3 blocks)`, `42 (5 blocks ago)`, `42 (now)`.
pub fn height_text(h: u64, latest: Option<u64>) -> String {
    match latest {
        None => h.to_string(),
        Some(l) if h == l => format!("{h} (the latest block)"),
        Some(l) if h > l => format!("{h} (in {} blocks)", h - l),
        Some(l) => format!("{h} ({} blocks ago)", l - h),
    }
}

fn short(a: &Address) -> String {
    a.to_string()
}

/// What a task waits for now, in one line.
pub fn phase_text(t: &Task, latest: Option<u64>) -> String {
    match (t.status, t.rounds.last()) {
        (TaskStatus::Assigned, Some(r)) => {
            let now = latest.unwrap_or(0);
            let round = if r.number == 0 {
                "".to_string()
            } else {
                format!(" (escalated round {})", r.number)
            };
            if latest.is_some() && now <= r.commit_end {
                format!(
                    "commit window{round}: commits accepted through height {}",
                    height_text(r.commit_end, latest)
                )
            } else if latest.is_some() && now <= r.reveal_end {
                format!(
                    "reveal window{round}: reveals accepted through height {}",
                    height_text(r.reveal_end, latest)
                )
            } else {
                format!(
                    "commit–reveal{round}: commits through height {}, reveals through {}",
                    r.commit_end, r.reveal_end
                )
            }
        }
        (TaskStatus::Finalized, _) => match &t.submission {
            Some(sub) => match sub.current_member() {
                Some(m) => format!(
                    "finalized; submission window {} belongs to {} and ends at height {}",
                    sub.window,
                    short(&m),
                    height_text(sub.window_end, latest)
                ),
                None => format!(
                    "finalized; the last submission window is open to any bonded operator and ends at height {}",
                    height_text(sub.window_end, latest)
                ),
            },
            None => "finalized".into(),
        },
        (TaskStatus::Delivered, _) => match &t.submission {
            Some(Submission {
                submitter: Some(by),
                delivered_height: Some(h),
                ..
            }) => format!("delivered by {by} at height {h}"),
            _ => "the aggregate was delivered".into(),
        },
        (TaskStatus::Undelivered, _) => {
            "undelivered: every submission window passed; the submission fee went back to the client"
                .into()
        }
        (TaskStatus::Failed, _) => {
            "failed: no quorum (after one escalation); the client was refunded minus the protocol fee"
                .into()
        }
        (TaskStatus::Reexecuted, _) => "re-executed: its aggregate decided a dispute".into(),
        (TaskStatus::Assigned, None) => "assigned".into(),
    }
}

/// A task, one field per line, with its committee, deadlines, result and schedule. `latest`
/// is the latest block height, for "in N blocks".
pub fn task_text(t: &Task, latest: Option<u64>) -> String {
    let mut out = format!(
        "task:                {}\nstatus:              {} — {}\nclient:              {}\nkind:                {}\nconsistency:         {}\npayload:             {}\ndifficulty:          {} units\nminimum reputation:  {}\nfee:                 {} (held in escrow now: {})\nposted at:           height {}",
        t.id,
        t.status.name(),
        phase_text(t, latest),
        t.client,
        kind_text(&t.kind),
        t.consistency.name(),
        payload_text(&t.payload),
        t.difficulty_units,
        crate::amount::format_ppm(t.min_reputation_ppm),
        crate::amount::describe(t.fee),
        crate::amount::describe(t.escrow),
        t.posted_height,
    );
    for r in &t.rounds {
        write!(
            out,
            "\nround {}{}: assigned at height {}, quorum {} of {}\n  commits:  heights {}..={}\n  reveals:  heights {}..={}",
            r.number,
            if r.number == 0 { "" } else { " (escalated)" },
            r.assigned_height,
            r.quorum,
            r.members.len(),
            r.assigned_height.saturating_add(1),
            r.commit_end,
            r.commit_end.saturating_add(1),
            r.reveal_end,
        )
        .ok();
        for m in &r.members {
            let commit = match m.commit_height {
                Some(h) => format!("committed at {h}"),
                None if m.commitment.is_some() => "committed".into(),
                None => "not committed".into(),
            };
            let reveal = match (&m.result, m.reveal_height) {
                (Some(res), Some(h)) => {
                    format!("revealed {} at {h}", result_text(&t.kind, res))
                }
                (Some(res), None) => format!("revealed {}", result_text(&t.kind, res)),
                _ => "not revealed".into(),
            };
            write!(
                out,
                "\n  member {}: weight {}, {commit}, {reveal}",
                m.operator, m.weight
            )
            .ok();
        }
    }
    if let Some(r) = &t.result {
        write!(
            out,
            "\nresult:              {} (sha256 {})\n  finalized at:      height {} (round {}, leaf {} of that block's result root)\n  agreeing:          {}\n  disagreeing:       {}\n  protocol fee:      {}\n  rounding:          {} to the treasury",
            result_text(&t.kind, &r.result),
            hex::encode(r.result_hash),
            r.finalized_height,
            r.round,
            r.leaf_index,
            list_text(&r.agreeing),
            list_text(&r.disagreeing),
            crate::amount::describe(r.protocol_fee),
            crate::amount::describe(r.rounding_to_treasury),
        )
        .ok();
        for line in &r.pay {
            write!(
                out,
                "\n  paid {} (weight {} ppm) {}",
                line.operator,
                line.weight_ppm,
                crate::amount::describe(line.pay)
            )
            .ok();
        }
    }
    if let Some(sub) = &t.submission {
        write!(
            out,
            "\nsubmission:          {} scheduled windows, then one open to any bonded operator; fee {}",
            sub.schedule.len(),
            crate::amount::describe(sub.submission_fee)
        )
        .ok();
        if t.status == TaskStatus::Finalized {
            write!(
                out,
                "\n  current:           window {}, ends at height {}",
                sub.window,
                height_text(sub.window_end, latest)
            )
            .ok();
        }
        for (j, m) in sub.schedule.iter().enumerate() {
            write!(out, "\n  window {j}: {m}").ok();
        }
        if let (Some(by), Some(h)) = (&sub.submitter, sub.delivered_height) {
            write!(
                out,
                "\n  delivered by {by} at height {h} as {:?}",
                sub.target_ref.as_deref().unwrap_or("")
            )
            .ok();
        }
    }
    if let Some(x) = &t.reexec {
        write!(
            out,
            "\nre-execution of:     task {} for proposal {} against {} ({})",
            x.original_task,
            x.proposal,
            x.accused,
            x.verdict.as_deref().unwrap_or("undecided")
        )
        .ok();
    }
    if let Some(h) = t.due_height {
        write!(
            out,
            "\nnext acted on at:    height {}",
            height_text(h, latest)
        )
        .ok();
    }
    if let Some(h) = t.finished_height {
        write!(out, "\nfinished at:         height {h}").ok();
    }
    out
}

fn list_text(list: &[Address]) -> String {
    if list.is_empty() {
        "none".into()
    } else {
        list.iter()
            .map(|a| a.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A table of tasks.
pub fn tasks_text(list: &[TaskSummary]) -> String {
    if list.is_empty() {
        return "(no tasks)".into();
    }
    let mut out = format!(
        "{:>6}  {:11}  {:9}  {:8}  {:>5}  {:>22}  {:>7}  {:>9}  CLIENT",
        "ID", "STATUS", "KIND", "CONSIST", "UNITS", "FEE (NOP)", "POSTED", "COMMITTED"
    );
    for t in list {
        write!(
            out,
            "\n{:>6}  {:11}  {:9}  {:8}  {:>5}  {:>22}  {:>7}  {:>9}  {}",
            t.id,
            t.status.name(),
            match t.kind {
                TaskKind::Exact => "exact",
                TaskKind::Numeric { .. } => "numeric",
            },
            t.consistency.name(),
            t.difficulty_units,
            crate::amount::format_nop_fixed(t.fee),
            t.posted_height,
            format!("{}/{}", t.committed, t.committee.len()),
            t.client,
        )
        .ok();
    }
    out
}

/// A submission schedule, one window per line.
pub fn schedule_text(v: &ScheduleView, latest: Option<u64>) -> String {
    let mut out = format!(
        "task {}: {}, finalized at height {}; windows of {} blocks; submission fee {}",
        v.task_id,
        v.status.name(),
        v.finalized_height,
        v.submission_window,
        crate::amount::describe(v.submission_fee)
    );
    for w in &v.windows {
        let who = match &w.member {
            Some(m) => format!("member {m}"),
            None => "any bonded operator".into(),
        };
        let state = match w.state {
            WindowState::Missed => "missed",
            WindowState::Open => "OPEN",
            WindowState::Upcoming => "upcoming",
            WindowState::Delivered => "delivered",
            WindowState::Skipped => "not needed",
        };
        write!(
            out,
            "\n  window {}: heights {}..={}, {who}: {state}",
            w.window, w.first_height, w.last_height
        )
        .ok();
        if w.state == WindowState::Open {
            write!(out, " (ends at {})", height_text(w.last_height, latest)).ok();
        }
    }
    if let (Some(by), Some(h)) = (&v.submitter, v.delivered_height) {
        write!(
            out,
            "\ndelivered by {by} at height {h} as {:?}",
            v.target_ref.as_deref().unwrap_or("")
        )
        .ok();
    }
    out
}

/// A result and its path.
pub fn result_view_text(v: &ResultView, kind: Option<&TaskKind>) -> String {
    let mut out = format!(
        "task:           {}\nstatus:         {}\nresult hash:    {}",
        v.task_id,
        v.status.name(),
        hex::encode(v.result_hash)
    );
    if let Some(bytes) = &v.result {
        let shown = match kind {
            Some(k) => result_text(k, bytes),
            None => format!("0x{}", hex::encode(bytes)),
        };
        write!(out, "\nresult:         {shown}").ok();
    }
    write!(
        out,
        "\nfinalized at:   height {}\nleaf:           {} (index {} of {})\npath:           {}\nroot:           {} (tasks/block_results/{})",
        v.finalized_height,
        hex::encode(v.leaf),
        v.leaf_index,
        v.leaf_count,
        if v.path.is_empty() {
            "(none: the leaf is the root)".to_string()
        } else {
            v.path.iter().map(hex::encode).collect::<Vec<_>>().join(" ")
        },
        hex::encode(v.root),
        v.finalized_height,
    )
    .ok();
    out
}

pub fn price_text(p: &PriceView) -> String {
    format!(
        "unit price:          {} per difficulty unit\nbounds:              {} ..= {}\nutilisation:         {} of total operator capacity (target {}; the price moves toward it by at most 1/8 per block)",
        crate::amount::describe(p.unit_price),
        crate::amount::describe(p.min_unit_price),
        crate::amount::describe(p.max_unit_price),
        crate::amount::format_ppm(p.utilisation_ppm),
        crate::amount::format_ppm(p.target_utilisation_ppm),
    )
}

pub fn capacity_text(c: &CapacitySummary) -> String {
    format!(
        "operators counted:   {} (bonded, not jailed)\ntotal capacity:      {} units\nreserved:            {} units\nfree:                {} units\nutilisation:         {}",
        c.operators,
        c.total_units,
        c.reserved_units,
        c.free_units,
        crate::amount::format_ppm(c.utilisation_ppm)
    )
}

pub fn load_text(l: &LoadView) -> String {
    format!(
        "operator:            {}\ncapacity:            {} units\nreserved:            {} units (open duties)\nfree:                {} units\nutilisation:         {}",
        l.operator,
        l.capacity_units,
        l.reserved_units,
        l.free_units,
        crate::amount::format_ppm(l.utilisation_ppm)
    )
}

pub fn params_text(p: &TasksParams) -> String {
    let c = |s: nodeop_app::modules::tasks::params::CommitteeSpec| {
        format!("{} of {}", s.quorum, s.size)
    };
    format!(
        "committees:          eventual {}, session {}, strong {}\ncommit window:       {} blocks\nreveal window:       {} blocks\nsubmission window:   {} blocks, {} scheduled windows then one open to any bonded operator\nprotocol fee:        {}\nsubmission fee:      {}\nmax inline payload:  {} bytes\nmax exact result:    {} bytes\nmax difficulty:      {} units\nre-execution size:   {}\ntask retention:      {} blocks\nunit price:          {} ..= {} (genesis {}), target utilisation {}",
        c(p.eventual),
        c(p.session),
        c(p.strong),
        p.commit_blocks,
        p.reveal_blocks,
        p.submission_window,
        p.max_fallbacks,
        crate::amount::format_ppm(p.protocol_fee_ppm),
        crate::amount::format_ppm(p.submission_fee_ppm),
        p.max_payload_bytes,
        p.max_result_bytes,
        p.max_difficulty_units,
        p.reexec_size,
        p.task_retention,
        crate::amount::describe(p.min_unit_price),
        crate::amount::describe(p.max_unit_price),
        crate::amount::describe(p.initial_unit_price),
        crate::amount::format_ppm(p.target_utilisation_ppm),
    )
}
