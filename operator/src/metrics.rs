//! Prometheus metrics in the text exposition format (written by hand: a few counters, gauges
//! and one histogram), and the small HTTP endpoint that serves them with the agent's status.
//!
//! `GET /metrics` — the metrics; `GET /status` — the [`StatusReport`] as JSON (what
//! `nodeop-operator status` prints while the agent runs: redb admits one process per file).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::store::StatusReport;

/// Upper bounds of the executor latency histogram, seconds × 1000.
const LATENCY_BUCKETS_MS: [u64; 9] = [10, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000];
/// Tasks whose profit is kept as a labelled gauge.
const PROFIT_TASKS_KEPT: usize = 100;

#[derive(Default)]
struct Inner {
    duties_by_state: BTreeMap<String, u64>,
    missed_total: u64,
    txs_sent: BTreeMap<String, u64>,
    txs_refused: BTreeMap<(String, u32), u64>,
    latency_counts: [u64; LATENCY_BUCKETS_MS.len()],
    latency_count: u64,
    latency_sum_ms: u64,
    executor_failures: u64,
    last_height: u64,
    chain_height: u64,
    auctions_won: u64,
    auctions_opened: u64,
    bids_sent: u64,
    pay_received: u128,
    fees_paid: u128,
    profit_by_task: BTreeMap<u64, i128>,
    connected: bool,
    /// Whether new blocks arrive over the websocket (shared with the chain).
    subscribed: Option<Arc<std::sync::atomic::AtomicBool>>,
    status: StatusReport,
}

#[derive(Default, Clone)]
pub struct Metrics(Arc<Mutex<Inner>>);

impl Metrics {
    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        f(&mut self.0.lock().expect("metrics lock"))
    }

    pub fn tx_sent(&self, kind: &str) {
        self.with(|m| *m.txs_sent.entry(kind.into()).or_default() += 1);
    }

    pub fn tx_refused(&self, codespace: &str, code: u32) {
        self.with(|m| *m.txs_refused.entry((codespace.into(), code)).or_default() += 1);
    }

    pub fn executed(&self, took: Duration, ok: bool) {
        let ms = took.as_millis() as u64;
        self.with(|m| {
            for (i, b) in LATENCY_BUCKETS_MS.iter().enumerate() {
                if ms <= *b {
                    m.latency_counts[i] += 1;
                }
            }
            m.latency_count += 1;
            m.latency_sum_ms += ms;
            if !ok {
                m.executor_failures += 1;
            }
        });
    }

    pub fn heights(&self, processed: u64, chain: u64) {
        self.with(|m| {
            m.last_height = processed;
            m.chain_height = chain;
        });
    }

    pub fn set_connected(&self, connected: bool) {
        self.with(|m| m.connected = connected);
    }

    /// The chain's websocket flag, read at every render.
    pub fn watch_subscription(&self, flag: Arc<std::sync::atomic::AtomicBool>) {
        self.with(|m| m.subscribed = Some(flag));
    }

    fn subscribed(m: &Inner) -> bool {
        m.subscribed
            .as_ref()
            .is_some_and(|f| f.load(std::sync::atomic::Ordering::Relaxed))
    }

    pub fn auction_won(&self) {
        self.with(|m| m.auctions_won += 1);
    }

    pub fn auction_opened(&self) {
        self.with(|m| m.auctions_opened += 1);
    }

    pub fn bid_sent(&self) {
        self.with(|m| m.bids_sent += 1);
    }

    /// A finished slot: what it paid and what its txs cost.
    pub fn task_finished(&self, task: u64, pay: u128, fees: u128) {
        self.with(|m| {
            m.pay_received += pay;
            m.fees_paid += fees;
            let profit = pay as i128 - fees as i128;
            *m.profit_by_task.entry(task).or_default() += profit;
            while m.profit_by_task.len() > PROFIT_TASKS_KEPT {
                m.profit_by_task.pop_first();
            }
        });
    }

    pub fn set_status(&self, status: StatusReport) {
        self.with(|m| {
            m.duties_by_state = status.by_state.iter().cloned().collect();
            m.missed_total = status.missed;
            m.status = status;
        });
    }

    pub fn status(&self) -> StatusReport {
        self.with(|m| {
            let mut s = m.status.clone();
            s.connection = match (m.connected, Self::subscribed(m)) {
                (true, true) => "connected (new blocks over the websocket)".into(),
                (true, false) => "connected (polling for new blocks)".into(),
                (false, _) => "disconnected".into(),
            };
            s
        })
    }

    pub fn missed(&self) -> u64 {
        self.with(|m| m.missed_total)
    }

    pub fn render(&self) -> String {
        self.with(|m| {
            let mut s = String::new();
            let p = "nodeop_operator";
            let _ = writeln!(s, "# HELP {p}_duties Duties by state (from the store).");
            let _ = writeln!(s, "# TYPE {p}_duties gauge");
            for (state, n) in &m.duties_by_state {
                let _ = writeln!(s, "{p}_duties{{state=\"{state}\"}} {n}");
            }
            let _ = writeln!(s, "# HELP {p}_missed_duties Duties missed (store total).");
            let _ = writeln!(s, "# TYPE {p}_missed_duties gauge");
            let _ = writeln!(s, "{p}_missed_duties {}", m.missed_total);
            let _ = writeln!(s, "# HELP {p}_txs_sent_total Txs CheckTx accepted, by kind.");
            let _ = writeln!(s, "# TYPE {p}_txs_sent_total counter");
            for (kind, n) in &m.txs_sent {
                let _ = writeln!(s, "{p}_txs_sent_total{{kind=\"{kind}\"}} {n}");
            }
            let _ = writeln!(s, "# HELP {p}_txs_refused_total Txs refused, by (codespace, code).");
            let _ = writeln!(s, "# TYPE {p}_txs_refused_total counter");
            for ((cs, code), n) in &m.txs_refused {
                let _ = writeln!(
                    s,
                    "{p}_txs_refused_total{{codespace=\"{cs}\",code=\"{code}\"}} {n}"
                );
            }
            let _ = writeln!(s, "# HELP {p}_executor_seconds Executor latency.");
            let _ = writeln!(s, "# TYPE {p}_executor_seconds histogram");
            for (i, b) in LATENCY_BUCKETS_MS.iter().enumerate() {
                let _ = writeln!(
                    s,
                    "{p}_executor_seconds_bucket{{le=\"{}.{:03}\"}} {}",
                    b / 1000,
                    b % 1000,
                    m.latency_counts[i]
                );
            }
            let _ = writeln!(
                s,
                "{p}_executor_seconds_bucket{{le=\"+Inf\"}} {}",
                m.latency_count
            );
            let _ = writeln!(
                s,
                "{p}_executor_seconds_sum {}.{:03}",
                m.latency_sum_ms / 1000,
                m.latency_sum_ms % 1000
            );
            let _ = writeln!(s, "{p}_executor_seconds_count {}", m.latency_count);
            let _ = writeln!(s, "# TYPE {p}_executor_failures_total counter");
            let _ = writeln!(s, "{p}_executor_failures_total {}", m.executor_failures);
            let _ = writeln!(s, "# HELP {p}_last_height The last height fully processed.");
            let _ = writeln!(s, "# TYPE {p}_last_height gauge");
            let _ = writeln!(s, "{p}_last_height {}", m.last_height);
            let _ = writeln!(s, "# HELP {p}_height_lag Committed height minus processed.");
            let _ = writeln!(s, "# TYPE {p}_height_lag gauge");
            let _ = writeln!(
                s,
                "{p}_height_lag {}",
                m.chain_height.saturating_sub(m.last_height)
            );
            let _ = writeln!(s, "# TYPE {p}_connected gauge");
            let _ = writeln!(s, "{p}_connected {}", u8::from(m.connected));
            let _ = writeln!(
                s,
                "# HELP {p}_websocket_subscribed Whether new blocks arrive over the websocket (else polling)."
            );
            let _ = writeln!(s, "# TYPE {p}_websocket_subscribed gauge");
            let _ = writeln!(
                s,
                "{p}_websocket_subscribed {}",
                u8::from(Self::subscribed(m))
            );
            let _ = writeln!(s, "# TYPE {p}_auctions_opened_total counter");
            let _ = writeln!(s, "{p}_auctions_opened_total {}", m.auctions_opened);
            let _ = writeln!(s, "# TYPE {p}_bids_sent_total counter");
            let _ = writeln!(s, "{p}_bids_sent_total {}", m.bids_sent);
            let _ = writeln!(s, "# TYPE {p}_auctions_won_total counter");
            let _ = writeln!(s, "{p}_auctions_won_total {}", m.auctions_won);
            let _ = writeln!(s, "# HELP {p}_pay_received_unop_total Pay for finished slots.");
            let _ = writeln!(s, "# TYPE {p}_pay_received_unop_total counter");
            let _ = writeln!(s, "{p}_pay_received_unop_total {}", m.pay_received);
            let _ = writeln!(s, "# HELP {p}_fees_paid_unop_total Tx fees of finished slots.");
            let _ = writeln!(s, "# TYPE {p}_fees_paid_unop_total counter");
            let _ = writeln!(s, "{p}_fees_paid_unop_total {}", m.fees_paid);
            let _ = writeln!(
                s,
                "# HELP {p}_task_profit_unop Pay received minus fees paid, per task (last {PROFIT_TASKS_KEPT})."
            );
            let _ = writeln!(s, "# TYPE {p}_task_profit_unop gauge");
            for (task, profit) in &m.profit_by_task {
                let _ = writeln!(s, "{p}_task_profit_unop{{task=\"{task}\"}} {profit}");
            }
            s
        })
    }
}

/// Serves `/metrics` and `/status` on `listen` until the process ends.
pub async fn serve(listen: String, metrics: Metrics) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .with_context(|| format!("binding the metrics endpoint {listen}"))?;
    loop {
        let (mut sock, _) = match listener.accept().await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!("metrics endpoint: accept failed: {e}");
                continue;
            }
        };
        let metrics = metrics.clone();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 2048];
            let n = match tokio::time::timeout(Duration::from_secs(5), sock.read(&mut buf)).await {
                Ok(Ok(n)) => n,
                _ => return,
            };
            let req = String::from_utf8_lossy(&buf[..n]);
            let path = req.split_whitespace().nth(1).unwrap_or("/");
            let (status, ctype, body) = match path {
                "/metrics" => ("200 OK", "text/plain; version=0.0.4", metrics.render()),
                "/status" => (
                    "200 OK",
                    "application/json",
                    serde_json::to_string(&metrics.status()).unwrap_or_default(),
                ),
                _ => (
                    "404 Not Found",
                    "text/plain",
                    "try /metrics or /status\n".into(),
                ),
            };
            let resp = format!(
                "HTTP/1.1 {status}\r\ncontent-type: {ctype}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = sock.write_all(resp.as_bytes()).await;
        });
    }
}
