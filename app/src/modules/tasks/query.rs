//! tasks' query paths (under `/tasks/`; docs/queries.md is the reference).
//!
//! Provable records (any stored height, `prove=true` answers with the stored bytes):
//! `task/{id}` → [`Task`], `result-record/{id}` → [`ResultRecord`] (kept after pruning),
//! `block-results/{height}` → [`BlockResults`] (the root over one block's finalized results),
//! `params` → [`TasksParams`].
//!
//! Computed answers (latest height, no proof): `list?status=&client=&operator=&after=&limit=`
//! (a page of [`TaskSummary`]), `schedule/{id}` ([`ScheduleView`]), `result/{id}`
//! ([`ResultView`]: the result hash, its Merkle path and its block's root), `price`
//! ([`PriceView`]), `capacity` ([`state::CapacitySummary`]), `load/{operator}` ([`LoadView`]).

use serde::{Deserialize, Serialize};

use super::keys;
use super::state::{self, Task, TaskStatus};
use crate::crypto::Address;
use crate::error::QueryError;
use crate::query::{json, listing, Target};
use crate::records::Record;
use crate::serde_u128;
use crate::state::StateRead;

/// The default and largest page of `list`.
pub const DEFAULT_LIMIT: usize = 100;
pub const MAX_LIMIT: usize = 1000;

/// One task in a listing: what a dashboard shows, without the payload and per-member detail
/// (read `/tasks/task/{id}` for those).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskSummary {
    pub id: u64,
    pub client: Address,
    pub kind: super::TaskKind,
    pub consistency: super::Consistency,
    pub status: TaskStatus,
    pub difficulty_units: u64,
    #[serde(with = "serde_u128")]
    pub fee: u128,
    #[serde(with = "hex::serde")]
    pub payload_hash: [u8; 32],
    pub posted_height: u64,
    /// 0 the original committee, 1 the escalated one.
    pub round: u8,
    /// The current round's committee.
    pub committee: Vec<Address>,
    /// Members of the current round that committed / revealed so far.
    pub committed: u32,
    pub revealed: u32,
    pub commit_end: u64,
    pub reveal_end: u64,
    #[serde(with = "opt_hex32")]
    pub result_hash: Option<[u8; 32]>,
    pub finalized_height: Option<u64>,
    /// The member of the open submission window (`None`: the window open to any bonded operator,
    /// or no schedule yet).
    pub submitter_due: Option<Address>,
    pub due_height: Option<u64>,
    pub finished_height: Option<u64>,
}

impl TaskSummary {
    pub fn of(t: &Task) -> Self {
        let round = t.rounds.last();
        TaskSummary {
            id: t.id,
            client: t.client,
            kind: t.kind,
            consistency: t.consistency,
            status: t.status,
            difficulty_units: t.difficulty_units,
            fee: t.fee,
            payload_hash: t.payload_hash,
            posted_height: t.posted_height,
            round: round.map(|r| r.number).unwrap_or(0),
            committee: round
                .map(|r| r.members.iter().map(|m| m.operator).collect())
                .unwrap_or_default(),
            committed: round
                .map(|r| r.members.iter().filter(|m| m.commitment.is_some()).count() as u32)
                .unwrap_or(0),
            revealed: round
                .map(|r| r.members.iter().filter(|m| m.result.is_some()).count() as u32)
                .unwrap_or(0),
            commit_end: round.map(|r| r.commit_end).unwrap_or(0),
            reveal_end: round.map(|r| r.reveal_end).unwrap_or(0),
            result_hash: t.result.as_ref().map(|r| r.result_hash),
            finalized_height: t.result.as_ref().map(|r| r.finalized_height),
            submitter_due: match (&t.status, &t.submission) {
                (TaskStatus::Finalized, Some(s)) => s.current_member(),
                _ => None,
            },
            due_height: t.due_height,
            finished_height: t.finished_height,
        }
    }
}

/// One page of a listing; `next` is the `after=` of the next page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskPage {
    pub items: Vec<TaskSummary>,
    pub next: Option<String>,
}

/// Where a submission window stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WindowState {
    /// Passed without a confirmation from its member (a missed duty).
    Missed,
    /// The window accepting a confirmation now.
    Open,
    /// Opens if the windows before it are missed.
    Upcoming,
    /// The delivery was confirmed in this window.
    Delivered,
    /// Not needed: the aggregate was delivered in an earlier window.
    Skipped,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowView {
    pub window: u32,
    /// The member that may confirm in it; `None` for the last window, open to any bonded operator.
    pub member: Option<Address>,
    pub first_height: u64,
    pub last_height: u64,
    pub state: WindowState,
}

/// A finalized task's submission schedule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleView {
    pub task_id: u64,
    pub status: TaskStatus,
    pub finalized_height: u64,
    /// Blocks per window (W).
    pub submission_window: u64,
    pub windows: Vec<WindowView>,
    pub current_window: u32,
    pub current_window_end: u64,
    #[serde(with = "serde_u128")]
    pub submission_fee: u128,
    pub submitter: Option<Address>,
    pub target_ref: Option<String>,
    pub delivered_height: Option<u64>,
}

/// A finalized result with its Merkle path to the root of the block that finalized it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultView {
    pub task_id: u64,
    pub status: TaskStatus,
    #[serde(with = "hex::serde")]
    pub result_hash: [u8; 32],
    /// The result's bytes while the task is in state (`None` once pruned).
    #[serde(with = "opt_hex")]
    pub result: Option<Vec<u8>>,
    pub finalized_height: u64,
    pub leaf_index: u32,
    pub leaf_count: u32,
    /// The leaf of this result in the block's tree.
    #[serde(with = "hex::serde")]
    pub leaf: [u8; 32],
    /// Sibling hashes from the leaf up to the root.
    #[serde(with = "state::hexser::vec32")]
    pub path: Vec<[u8; 32]>,
    /// The block's root (`tasks/block_results/{finalized_height}`).
    #[serde(with = "hex::serde")]
    pub root: [u8; 32],
}

/// The current unit price and what moves it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceView {
    /// unop per difficulty unit: a task's fee must be at least `difficulty_units × unit_price`.
    #[serde(with = "serde_u128")]
    pub unit_price: u128,
    #[serde(with = "serde_u128")]
    pub min_unit_price: u128,
    #[serde(with = "serde_u128")]
    pub max_unit_price: u128,
    pub target_utilisation_ppm: u32,
    pub utilisation_ppm: u32,
}

/// An operator's capacity and how much of it open duties hold.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoadView {
    pub operator: Address,
    pub capacity_units: u64,
    pub reserved_units: u64,
    pub free_units: u64,
    /// reserved / capacity, ppm (capped at 1_000_000).
    pub utilisation_ppm: u32,
}

pub(crate) fn route(path: &str, args: &[(&str, &str)]) -> Result<Target, QueryError> {
    let arg = |name: &str| {
        args.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
    };
    let parts: Vec<&str> = path.split('/').collect();
    match parts.as_slice() {
        ["task", id] => Ok(Target::Record(Record::Task(parse_id("task id", id)?))),
        ["result-record", id] => Ok(Target::Record(Record::ResultRecord(parse_id(
            "task id", id,
        )?))),
        ["block-results", height] => Ok(Target::Record(Record::BlockResults(parse_id(
            "height", height,
        )?))),
        ["params"] => Ok(Target::Record(Record::TasksParams)),
        ["list"] => {
            let status = arg("status").unwrap_or_else(|| "all".into());
            let status_filter = match status.as_str() {
                "all" => StatusFilter::All,
                "open" => StatusFilter::Open,
                s => StatusFilter::One(TaskStatus::parse(s).ok_or_else(|| {
                    QueryError::BadArgument(format!(
                        "status {s:?}: one of all, open, {}",
                        TaskStatus::ALL.map(|s| s.name()).join(", ")
                    ))
                })?),
            };
            let client = arg("client").map(|a| address("client", &a)).transpose()?;
            let operator = arg("operator")
                .map(|a| address("operator", &a))
                .transpose()?;
            let limit = match arg("limit") {
                None => DEFAULT_LIMIT,
                Some(l) => l
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=MAX_LIMIT).contains(n))
                    .ok_or_else(|| {
                        QueryError::BadArgument(format!("limit {l:?} must be 1..={MAX_LIMIT}"))
                    })?,
            };
            let after = arg("after").map(|a| parse_id("after", &a)).transpose()?;
            Ok(listing(move |app| {
                let page = list(
                    app.storage(),
                    status_filter,
                    client.as_ref(),
                    operator.as_ref(),
                    after,
                    limit,
                );
                json(&page)
            }))
        }
        ["schedule", id] => {
            let id = parse_id("task id", id)?;
            Ok(listing(move |app| json(&schedule(app.storage(), id)?)))
        }
        ["result", id] => {
            let id = parse_id("task id", id)?;
            Ok(listing(move |app| json(&result(app.storage(), id)?)))
        }
        ["price"] => Ok(listing(|app| json(&price(app.storage())))),
        ["capacity"] => Ok(listing(|app| json(&state::capacity(app.storage())))),
        ["load", operator] => {
            let operator = address("operator", operator)?;
            Ok(listing(move |app| json(&load(app.storage(), &operator)?)))
        }
        _ => Err(QueryError::UnknownPath(format!(
            "/tasks/{}",
            path.chars().take(200).collect::<String>()
        ))),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum StatusFilter {
    All,
    /// Assigned or finalized.
    Open,
    One(TaskStatus),
}

impl StatusFilter {
    fn keeps(&self, s: TaskStatus) -> bool {
        match self {
            StatusFilter::All => true,
            StatusFilter::Open => s.is_open(),
            StatusFilter::One(x) => *x == s,
        }
    }
}

/// The smallest ids above `after` under any of `prefixes` (each an index whose keys end in a
/// big-endian id), at most `n`, ascending and without repeats.
fn next_ids(
    state: &impl StateRead,
    prefixes: &[Vec<u8>],
    after: Option<u64>,
    n: usize,
) -> Vec<u64> {
    let mut ids: Vec<u64> = Vec::new();
    for prefix in prefixes {
        let start = after.map(|a| [prefix.as_slice(), &a.to_be_bytes()].concat());
        ids.extend(
            state
                .prefix_raw(prefix, start.as_deref(), n)
                .iter()
                .filter_map(|(k, _)| crate::state::keys::trailing_id(k)),
        );
    }
    ids.sort_unstable();
    ids.dedup();
    ids.truncate(n);
    ids
}

/// A page of tasks in id order, from the most selective index (client, else operator, else
/// status), every filter applied to each task.
fn list(
    state: &impl StateRead,
    status: StatusFilter,
    client: Option<&Address>,
    operator: Option<&Address>,
    after: Option<u64>,
    limit: usize,
) -> TaskPage {
    let prefixes: Vec<Vec<u8>> = match (client, operator, status) {
        (Some(c), _, _) => vec![keys::by_client_prefix(c)],
        (None, Some(o), _) => vec![keys::by_operator_prefix(o)],
        (None, None, StatusFilter::One(s)) => vec![keys::by_status_prefix(s.index())],
        (None, None, StatusFilter::Open) => vec![
            keys::by_status_prefix(TaskStatus::Assigned.index()),
            keys::by_status_prefix(TaskStatus::Finalized.index()),
        ],
        (None, None, StatusFilter::All) => vec![keys::TASK_PREFIX.to_vec()],
    };
    let mut items: Vec<TaskSummary> = Vec::new();
    let mut cursor = after;
    loop {
        let batch = next_ids(state, &prefixes, cursor, 256);
        if batch.is_empty() {
            return TaskPage { items, next: None };
        }
        for id in batch {
            cursor = Some(id);
            let Some(t) = state::task(state, id) else {
                continue;
            };
            let keep = status.keeps(t.status)
                && client.is_none_or(|c| t.client == *c)
                && operator.is_none_or(|o| t.rounds.iter().any(|r| r.member(o).is_some()));
            if keep {
                if items.len() == limit {
                    let next = items.last().map(|x| x.id.to_string());
                    return TaskPage { items, next };
                }
                items.push(TaskSummary::of(&t));
            }
        }
    }
}

fn schedule(state: &impl StateRead, id: u64) -> Result<ScheduleView, QueryError> {
    let t = state::task(state, id).ok_or_else(|| not_in_state(id))?;
    let (Some(result), Some(sub)) = (&t.result, &t.submission) else {
        return Err(QueryError::NotFound(format!(
            "task {id} is {}: a schedule is drawn when a task finalizes",
            t.status.name()
        )));
    };
    let w = state::params(state).submission_window;
    let h_f = result.finalized_height;
    let count = sub.schedule.len() as u32 + 1;
    let windows = (0..count)
        .map(|j| {
            let first_height = h_f
                .saturating_add(u64::from(j).saturating_mul(w))
                .saturating_add(1);
            let last_height = h_f.saturating_add(u64::from(j + 1).saturating_mul(w));
            let state = match (t.status, sub.delivered_height) {
                (_, Some(d)) if (first_height..=last_height).contains(&d) => WindowState::Delivered,
                (_, Some(d)) if d < first_height => WindowState::Skipped,
                (_, Some(_)) => WindowState::Missed,
                (TaskStatus::Finalized, None) if j == sub.window => WindowState::Open,
                (TaskStatus::Finalized, None) if j > sub.window => WindowState::Upcoming,
                _ => WindowState::Missed,
            };
            WindowView {
                window: j,
                member: sub.schedule.get(j as usize).copied(),
                first_height,
                last_height,
                state,
            }
        })
        .collect();
    Ok(ScheduleView {
        task_id: id,
        status: t.status,
        finalized_height: h_f,
        submission_window: w,
        windows,
        current_window: sub.window,
        current_window_end: sub.window_end,
        submission_fee: sub.submission_fee,
        submitter: sub.submitter,
        target_ref: sub.target_ref.clone(),
        delivered_height: sub.delivered_height,
    })
}

fn result(state: &impl StateRead, id: u64) -> Result<ResultView, QueryError> {
    let record = state::result_record(state, id).ok_or_else(|| {
        QueryError::NotFound(match state::task(state, id) {
            Some(t) => format!(
                "task {id} is {} and has no finalized result",
                t.status.name()
            ),
            None => format!("no finalized result for task {id}"),
        })
    })?;
    let proof = super::merkle::result_proof(state, id).ok_or_else(|| {
        QueryError::Storage(format!(
            "task {id}'s result names leaf {} of block {}, which that block's results do not hold",
            record.leaf_index, record.finalized_height
        ))
    })?;
    let bytes = state::task(state, id)
        .and_then(|t| t.result)
        .map(|r| r.result);
    Ok(ResultView {
        task_id: id,
        status: record.status,
        result_hash: proof.result_hash,
        result: bytes,
        finalized_height: proof.finalized_height,
        leaf_index: proof.leaf_index,
        leaf_count: proof.leaf_count,
        leaf: proof.leaf,
        path: proof.proof_hashes,
        root: proof.root,
    })
}

fn price(state: &impl StateRead) -> PriceView {
    let p = state::params(state);
    PriceView {
        unit_price: state::unit_price(state),
        min_unit_price: p.min_unit_price,
        max_unit_price: p.max_unit_price,
        target_utilisation_ppm: p.target_utilisation_ppm,
        utilisation_ppm: state::capacity(state).utilisation_ppm,
    }
}

fn load(state: &impl StateRead, operator: &Address) -> Result<LoadView, QueryError> {
    let l = state::operator_load(state, operator)
        .ok_or_else(|| QueryError::NotFound(format!("no operator {operator}")))?;
    let utilisation_ppm = if l.capacity_units == 0 {
        0
    } else {
        // floor; capped at 1.0 when capacity was lowered below what is reserved
        (u128::from(l.reserved_units) * 1_000_000 / u128::from(l.capacity_units)).min(1_000_000)
            as u32
    };
    Ok(LoadView {
        operator: *operator,
        capacity_units: l.capacity_units,
        reserved_units: l.reserved_units,
        free_units: l.free_units,
        utilisation_ppm,
    })
}

fn not_in_state(id: u64) -> QueryError {
    QueryError::NotFound(format!(
        "no task {id} in state (never posted, or pruned task_retention blocks after it finished; its result stays at /tasks/result/{id})"
    ))
}

fn parse_id(what: &str, s: &str) -> Result<u64, QueryError> {
    s.parse()
        .map_err(|_| QueryError::BadArgument(format!("{what} {s:?} is not a number")))
}

fn address(what: &str, s: &str) -> Result<Address, QueryError> {
    Address::parse(s).map_err(|e| QueryError::BadArgument(format!("{what} {s:?}: {e}")))
}

/// `Option<[u8; 32]>` as hex or null.
mod opt_hex32 {
    pub use super::state::hexser::opt32::{deserialize, serialize};
}

/// `Option<Vec<u8>>` as hex or null.
mod opt_hex {
    pub use super::state::hexser::optvec::{deserialize, serialize};
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::tasks::msg::{Consistency, TaskKind, TaskPayload};
    use crate::modules::tasks::state::{BlockResults, ResultRecord};
    use crate::modules::tasks::state::{FinalResult, Member, Round, Submission};
    use crate::modules::tasks::TasksParams;
    use crate::state::overlay::Empty;
    use crate::state::{Overlay, StateWrite, StateWriteExt};

    fn addr(b: u8) -> Address {
        Address([b; 20])
    }

    fn member(b: u8) -> Member {
        Member {
            operator: addr(b),
            weight: 1,
            commitment: Some([b; 32]),
            commit_height: Some(3),
            result: None,
            reveal_height: None,
            reserved: true,
            reserved_since: 2,
        }
    }

    fn task(id: u64, client: u8, members: &[u8], status: TaskStatus) -> Task {
        Task {
            id,
            client: addr(client),
            kind: TaskKind::Exact,
            consistency: Consistency::Session,
            payload: TaskPayload::Inline(b"p".to_vec()),
            payload_hash: [0; 32],
            difficulty_units: 2,
            min_reputation_ppm: 0,
            fee: 1_000,
            escrow: 1_000,
            status,
            posted_height: 2,
            rounds: vec![Round {
                number: 0,
                members: members.iter().map(|b| member(*b)).collect(),
                quorum: 2,
                assigned_height: 2,
                commit_end: 12,
                reveal_end: 22,
            }],
            result: None,
            submission: None,
            reexec: None,
            due_height: Some(22),
            finished_height: None,
        }
    }

    fn store(state: &mut impl StateWrite, t: &Task) {
        state.put(keys::task(t.id), t);
        state.put_raw(keys::by_status(t.status.index(), t.id), vec![1]);
        state.put_raw(keys::by_client(&t.client, t.id), vec![1]);
        for m in t.all_members() {
            state.put_raw(keys::by_operator(&m, t.id), vec![1]);
        }
    }

    fn ids(page: &TaskPage) -> Vec<u64> {
        page.items.iter().map(|t| t.id).collect()
    }

    #[test]
    fn listings_filter_by_status_client_and_operator_and_page_by_id() {
        let mut s = Overlay::new(Empty);
        use TaskStatus::*;
        for t in [
            task(1, 0xc1, &[1, 2, 3], Assigned),
            task(2, 0xc2, &[2, 3, 4], Finalized),
            task(3, 0xc1, &[4, 5, 6], Delivered),
            task(4, 0xc1, &[1, 5, 6], Failed),
            task(5, 0xc2, &[1, 2, 4], Assigned),
            task(6, 0xc1, &[3, 4, 5], Finalized),
        ] {
            store(&mut s, &t);
        }
        let all = list(&s, StatusFilter::All, None, None, None, 100);
        assert_eq!(ids(&all), vec![1, 2, 3, 4, 5, 6]);
        assert_eq!(all.next, None);
        // open = assigned or finalized, merged from two indexes in id order
        let open = list(&s, StatusFilter::Open, None, None, None, 100);
        assert_eq!(ids(&open), vec![1, 2, 5, 6]);
        let one = list(&s, StatusFilter::One(Finalized), None, None, None, 100);
        assert_eq!(ids(&one), vec![2, 6]);
        let c1 = list(&s, StatusFilter::All, Some(&addr(0xc1)), None, None, 100);
        assert_eq!(ids(&c1), vec![1, 3, 4, 6]);
        let c1_open = list(&s, StatusFilter::Open, Some(&addr(0xc1)), None, None, 100);
        assert_eq!(ids(&c1_open), vec![1, 6]);
        let op4 = list(&s, StatusFilter::All, None, Some(&addr(4)), None, 100);
        assert_eq!(ids(&op4), vec![2, 3, 5, 6]);
        let c2_op4 = list(
            &s,
            StatusFilter::Open,
            Some(&addr(0xc2)),
            Some(&addr(4)),
            None,
            100,
        );
        assert_eq!(ids(&c2_op4), vec![2, 5]);
        // pages: the cursor is the last id of the page; the last page has no cursor
        let p1 = list(&s, StatusFilter::Open, None, None, None, 2);
        assert_eq!((ids(&p1), p1.next.as_deref()), (vec![1, 2], Some("2")));
        let p2 = list(&s, StatusFilter::Open, None, None, Some(2), 2);
        assert_eq!((ids(&p2), p2.next.as_deref()), (vec![5, 6], None));
        let p3 = list(&s, StatusFilter::All, None, None, Some(6), 2);
        assert!(p3.items.is_empty() && p3.next.is_none());
        // a summary carries the committee and its deadlines
        assert_eq!(all.items[0].committee, vec![addr(1), addr(2), addr(3)]);
        assert_eq!((all.items[0].commit_end, all.items[0].reveal_end), (12, 22));
        assert_eq!(all.items[0].committed, 3);
        assert_eq!(all.items[0].revealed, 0);
    }

    #[test]
    fn a_schedule_shows_each_window_and_its_state() {
        let mut s = Overlay::new(Empty);
        let params = TasksParams::default();
        s.put(keys::PARAMS.to_vec(), &params);
        let w = params.submission_window;
        let mut t = task(9, 0xc1, &[1, 2, 3], TaskStatus::Finalized);
        t.result = Some(FinalResult {
            result: b"r".to_vec(),
            result_hash: [7; 32],
            finalized_height: 30,
            leaf_index: 0,
            round: 0,
            agreeing: vec![addr(1), addr(2), addr(3)],
            disagreeing: vec![],
            pay: vec![],
            protocol_fee: 0,
            rounding_to_treasury: 0,
        });
        t.submission = Some(Submission {
            schedule: vec![addr(2), addr(3), addr(1)],
            window: 1,
            window_end: 30 + 2 * w,
            submission_fee: 100,
            submitter: None,
            target_ref: None,
            delivered_height: None,
        });
        store(&mut s, &t);
        let v = schedule(&s, 9).unwrap();
        let states: Vec<WindowState> = v.windows.iter().map(|x| x.state).collect();
        use WindowState::*;
        assert_eq!(states, vec![Missed, Open, Upcoming, Upcoming]);
        assert_eq!(v.windows[0].member, Some(addr(2)));
        assert_eq!(
            v.windows[3].member, None,
            "the last window is open to anyone"
        );
        assert_eq!(
            (v.windows[1].first_height, v.windows[1].last_height),
            (31 + w, 30 + 2 * w)
        );
        assert_eq!(v.current_window_end, v.windows[1].last_height);

        // delivered in window 1
        let sub = t.submission.as_mut().unwrap();
        sub.delivered_height = Some(32 + w);
        sub.submitter = Some(addr(3));
        t.status = TaskStatus::Delivered;
        store(&mut s, &t);
        let states: Vec<WindowState> = schedule(&s, 9)
            .unwrap()
            .windows
            .iter()
            .map(|x| x.state)
            .collect();
        assert_eq!(states, vec![Missed, Delivered, Skipped, Skipped]);

        // not finalized yet, and unknown tasks
        store(&mut s, &task(10, 0xc1, &[1], TaskStatus::Assigned));
        assert!(matches!(schedule(&s, 10), Err(QueryError::NotFound(_))));
        assert!(matches!(schedule(&s, 11), Err(QueryError::NotFound(_))));
    }

    /// The path check a consumer runs (docs/queries.md), written out independently of rs_merkle.
    fn climb(leaf: [u8; 32], index: u32, count: u32, path: &[[u8; 32]]) -> [u8; 32] {
        let (mut h, mut i, mut n) = (leaf, index, count);
        let mut siblings = path.iter();
        while n > 1 {
            if i % 2 == 1 {
                h = crate::crypto::sha256(&[siblings.next().unwrap(), &h]);
            } else if i + 1 < n {
                h = crate::crypto::sha256(&[&h, siblings.next().unwrap()]);
            }
            i /= 2;
            n = n.div_ceil(2);
        }
        assert!(siblings.next().is_none(), "unused path hashes");
        h
    }

    #[test]
    fn a_results_path_leads_to_its_blocks_root_even_after_pruning() {
        use crate::modules::tasks::merkle;
        for count in 1u64..=7 {
            let mut s = Overlay::new(Empty);
            let hashes: Vec<[u8; 32]> = (0..count).map(|i| [i as u8 + 1; 32]).collect();
            let leaves: Vec<[u8; 32]> = (0..count)
                .map(|i| merkle::leaf(100 + i, &hashes[i as usize]))
                .collect();
            let root = merkle::root(&leaves);
            s.put(
                keys::block_results(40),
                &BlockResults {
                    height: 40,
                    root,
                    task_ids: (100..100 + count).collect(),
                    leaves: leaves.clone(),
                },
            );
            for i in 0..count {
                s.put(
                    keys::result(100 + i),
                    &ResultRecord {
                        task_id: 100 + i,
                        result_hash: hashes[i as usize],
                        finalized_height: 40,
                        leaf_index: i as u32,
                        status: TaskStatus::Delivered,
                    },
                );
                // no task in state: pruned
                let v = result(&s, 100 + i).unwrap();
                assert_eq!((v.leaf, v.root), (leaves[i as usize], root));
                assert_eq!((v.leaf_index, v.leaf_count), (i as u32, count as u32));
                assert_eq!(v.result, None);
                assert_eq!(
                    climb(v.leaf, v.leaf_index, v.leaf_count, &v.path),
                    root,
                    "{i} of {count}"
                );
                let json = serde_json::to_value(&v).unwrap();
                assert_eq!(json["root"], hex::encode(root));
                assert_eq!(serde_json::from_value::<ResultView>(json).unwrap(), v);
            }
        }
        assert!(matches!(
            result(&Overlay::new(Empty), 5),
            Err(QueryError::NotFound(_))
        ));
    }

    #[test]
    fn bad_arguments_are_refused_with_their_codes() {
        for path in [
            "task/x",
            "list?status=done",
            "list?limit=0",
            "list?limit=1001",
            "list?client=nodeop1x",
            "list?after=-1",
            "load/abc",
            "block-results/h",
        ] {
            let (p, args) = crate::query::split_query(path);
            let e = route(p, &args)
                .err()
                .unwrap_or_else(|| panic!("{path} accepted"));
            assert!(matches!(e, QueryError::BadArgument(_)), "{path}: {e}");
        }
        assert!(matches!(
            route("nothing", &[]).err(),
            Some(QueryError::UnknownPath(_))
        ));
        for ok in [
            "task/1",
            "result/1",
            "schedule/1",
            "price",
            "capacity",
            "params",
            "list",
        ] {
            let (p, args) = crate::query::split_query(ok);
            assert!(route(p, &args).is_ok(), "{ok}");
        }
    }
}
