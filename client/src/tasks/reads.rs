//! The `/tasks/…` reads: a task, listings, the submission schedule, a result with its Merkle
//! path, the price, capacity, an operator's load and the params. Each answer comes with the
//! height it is for; none is proven (see [`super::result_path`] and
//! [`crate::verify::Record::Task`] for proven reads).

use anyhow::{anyhow, bail, Result};
use nodeop_app::crypto::Address;
use nodeop_app::modules::tasks::query::{
    LoadView, PriceView, ResultView, ScheduleView, TaskPage, TaskSummary,
};
use nodeop_app::modules::tasks::state::{CapacitySummary, Task};
use nodeop_app::modules::tasks::TasksParams;
use tendermint_rpc::HttpClient;

use super::fee_for;
use crate::node::{push_query_param, query_json};

/// Which tasks [`tasks`] lists.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum TaskFilter {
    #[default]
    All,
    /// Assigned or finalized (escrow, reservations or a submission window still running).
    Open,
    /// Commit–reveal running.
    Assigned,
    /// Aggregate final; submission windows running.
    Finalized,
    Delivered,
    Undelivered,
    Failed,
    Reexecuted,
}

impl TaskFilter {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskFilter::All => "all",
            TaskFilter::Open => "open",
            TaskFilter::Assigned => "assigned",
            TaskFilter::Finalized => "finalized",
            TaskFilter::Delivered => "delivered",
            TaskFilter::Undelivered => "undelivered",
            TaskFilter::Failed => "failed",
            TaskFilter::Reexecuted => "reexecuted",
        }
    }
}

/// `/tasks/task/{id}` at `height` (latest if `None`).
pub async fn task(client: &HttpClient, id: u64, height: Option<u64>) -> Result<(Task, u64)> {
    let (t, h): (Task, u64) = query_json(client, &format!("/tasks/task/{id}"), height).await?;
    if t.id != id {
        bail!("the node answered with task {} instead of {id}", t.id);
    }
    Ok((t, h))
}

/// The `/tasks/list` path of one page.
pub fn tasks_path(
    status: TaskFilter,
    client: Option<&Address>,
    operator: Option<&Address>,
    limit: Option<u32>,
    after: Option<u64>,
) -> String {
    let mut path = format!("/tasks/list?status={}", status.as_str());
    push_query_param(&mut path, "client", client);
    push_query_param(&mut path, "operator", operator);
    push_query_param(&mut path, "limit", limit);
    push_query_param(&mut path, "after", after);
    path
}

/// `/tasks/list?status=&client=&operator=&limit=&after=`: one page, in id order.
pub async fn tasks(
    client: &HttpClient,
    status: TaskFilter,
    poster: Option<&Address>,
    operator: Option<&Address>,
    limit: Option<u32>,
    after: Option<u64>,
) -> Result<(TaskPage, u64)> {
    query_json(
        client,
        &tasks_path(status, poster, operator, limit, after),
        None,
    )
    .await
}

/// Every task matching, following `next` to the last page.
pub async fn all_tasks(
    client: &HttpClient,
    status: TaskFilter,
    poster: Option<&Address>,
    operator: Option<&Address>,
    limit: Option<u32>,
) -> Result<(Vec<TaskSummary>, u64)> {
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let (page, height) = tasks(client, status, poster, operator, limit, after).await?;
        all.extend(page.items);
        let Some(next) = page.next else {
            return Ok((all, height));
        };
        let next: u64 = next
            .parse()
            .map_err(|_| anyhow!("the node's next cursor {next:?} is not a task id"))?;
        if after.is_some_and(|a| next <= a) {
            bail!("the node's next cursor {next} does not advance; stopping");
        }
        after = Some(next);
    }
}

/// `/tasks/schedule/{id}`: a finalized task's submission windows.
pub async fn schedule(client: &HttpClient, id: u64) -> Result<(ScheduleView, u64)> {
    query_json(client, &format!("/tasks/schedule/{id}"), None).await
}

/// `/tasks/result/{id}`: the result hash, its Merkle path and its block's root (not verified:
/// see [`super::result_path::verify_result_path`] and
/// [`super::result_path::proven_result`]).
pub async fn result(client: &HttpClient, id: u64) -> Result<(ResultView, u64)> {
    let (v, h): (ResultView, u64) =
        query_json(client, &format!("/tasks/result/{id}"), None).await?;
    if v.task_id != id {
        bail!(
            "the node answered with the result of task {} instead of {id}",
            v.task_id
        );
    }
    Ok((v, h))
}

/// `/tasks/price`.
pub async fn price(client: &HttpClient) -> Result<(PriceView, u64)> {
    query_json(client, "/tasks/price", None).await
}

/// `/tasks/capacity`.
pub async fn capacity(client: &HttpClient) -> Result<(CapacitySummary, u64)> {
    query_json(client, "/tasks/capacity", None).await
}

/// `/tasks/load/{operator}`.
pub async fn load(client: &HttpClient, operator: &Address) -> Result<(LoadView, u64)> {
    query_json(client, &format!("/tasks/load/{operator}"), None).await
}

/// `/tasks/params`.
pub async fn params(client: &HttpClient, height: Option<u64>) -> Result<(TasksParams, u64)> {
    query_json(client, "/tasks/params", height).await
}

/// The default fee of a task: `difficulty_units ×` the node's current unit price, and that
/// price. The price moves by at most 1/8 per block, so a fee of exactly this may fall short if
/// the price rises before the tx's block.
pub async fn default_fee(client: &HttpClient, difficulty_units: u64) -> Result<(u128, u128)> {
    let (p, _) = price(client).await?;
    Ok((fee_for(difficulty_units, p.unit_price)?, p.unit_price))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_listing_paths() {
        let a = crate::keys::KeyPair::from_secret_hex(&"55".repeat(32))
            .unwrap()
            .address();
        assert_eq!(
            tasks_path(TaskFilter::All, None, None, None, None),
            "/tasks/list?status=all"
        );
        assert_eq!(
            tasks_path(TaskFilter::Open, Some(&a), Some(&a), Some(5), Some(9)),
            format!("/tasks/list?status=open&client={a}&operator={a}&limit=5&after=9")
        );
        // every filter but `all` and `open` is a status name the chain knows
        use clap::ValueEnum;
        for f in TaskFilter::value_variants() {
            if !matches!(f, TaskFilter::All | TaskFilter::Open) {
                assert!(
                    nodeop_app::modules::tasks::TaskStatus::parse(f.as_str()).is_some(),
                    "{}",
                    f.as_str()
                );
            }
        }
    }
}
