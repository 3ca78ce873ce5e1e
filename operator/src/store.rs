//! The agent's local store (redb): duties, the last height fully processed, auctions a
//! coprocessor watches. Every change is one durable write transaction, made *before* the tx it
//! prepares is broadcast, so a `kill -9` at any point leaves a store from which the agent
//! resumes without sending anything that contradicts what it sent before.
//!
//! Tables:
//!
//! | table | key | value |
//! |---|---|---|
//! | `duties` | task id (8, BE) ‖ round (1) ‖ slot address (20) | [`Duty`] as JSON |
//! | `meta` | name | bytes: `last_height` (u64 BE), `chain_id`, `address` |
//! | `auctions` | auction id (u64) | [`WatchedAuction`] as JSON |
//!
//! redb admits one writer per file: `nodeop-operator status` asks the running agent over its
//! HTTP endpoint, and opens the file read-only only when no agent holds it.

use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

use crate::duty::{Duty, DutyKey, DutyState};

const DUTIES: TableDefinition<&[u8], &[u8]> = TableDefinition::new("duties");
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
const AUCTIONS: TableDefinition<u64, &[u8]> = TableDefinition::new("auctions");

/// An auction a coprocessor agent saw open, and what it did about it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WatchedAuction {
    pub id: u64,
    pub task_id: u64,
    pub member: nodeop_app::crypto::Address,
    pub difficulty_units: u64,
    pub expires_height: u64,
    /// The bid tx, stored before it was broadcast.
    pub bid_tx: Option<crate::duty::SentTx>,
    /// Won, expired, lost or given up: nothing more to do.
    pub closed: bool,
}

pub struct Store {
    db: Database,
}

/// Any store error as anyhow.
fn e<E: std::fmt::Display>(what: &'static str) -> impl Fn(E) -> anyhow::Error {
    move |err| anyhow!("store: {what}: {err}")
}

impl Store {
    /// Opens (or creates) the store at `path`; refuses a store written for another chain or
    /// account.
    pub fn open(path: &Path, chain_id: &str, address: &str) -> Result<Self> {
        if let Some(dir) = path.parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
            }
        }
        let db = Database::create(path).map_err(|err| {
            anyhow!(
                "opening the store {}: {err} (is another nodeop-operator running on it?)",
                path.display()
            )
        })?;
        let store = Self { db };
        store.init_tables()?;
        for (name, want) in [("chain_id", chain_id), ("address", address)] {
            match store.meta(name)? {
                Some(have) if have != want.as_bytes() => bail!(
                    "the store {} belongs to {name} {:?}, not {want:?}: use another store path",
                    path.display(),
                    String::from_utf8_lossy(&have)
                ),
                Some(_) => {}
                None => store.put_meta(name, want.as_bytes())?,
            }
        }
        Ok(store)
    }

    fn init_tables(&self) -> Result<()> {
        let tx = self.db.begin_write().map_err(e("begin"))?;
        tx.open_table(DUTIES).map_err(e("duties"))?;
        tx.open_table(META).map_err(e("meta"))?;
        tx.open_table(AUCTIONS).map_err(e("auctions"))?;
        tx.commit().map_err(e("commit"))?;
        Ok(())
    }

    fn meta(&self, name: &str) -> Result<Option<Vec<u8>>> {
        let tx = self.db.begin_read().map_err(e("begin"))?;
        let t = tx.open_table(META).map_err(e("meta"))?;
        Ok(t.get(name).map_err(e("get"))?.map(|v| v.value().to_vec()))
    }

    fn put_meta(&self, name: &str, value: &[u8]) -> Result<()> {
        let tx = self.db.begin_write().map_err(e("begin"))?;
        {
            let mut t = tx.open_table(META).map_err(e("meta"))?;
            t.insert(name, value).map_err(e("insert"))?;
        }
        tx.commit().map_err(e("commit"))
    }

    /// The last height whose events were fully processed (0: none yet).
    pub fn last_height(&self) -> Result<u64> {
        Ok(self
            .meta("last_height")?
            .and_then(|v| v.try_into().ok())
            .map(u64::from_be_bytes)
            .unwrap_or(0))
    }

    pub fn set_last_height(&self, h: u64) -> Result<()> {
        self.put_meta("last_height", &h.to_be_bytes())
    }

    /// Writes a duty (durably) and returns only once it is on disk.
    pub fn put_duty(&self, duty: &Duty) -> Result<()> {
        let value = serde_json::to_vec(duty).context("encoding a duty")?;
        let tx = self.db.begin_write().map_err(e("begin"))?;
        {
            let mut t = tx.open_table(DUTIES).map_err(e("duties"))?;
            t.insert(duty.key().to_bytes().as_slice(), value.as_slice())
                .map_err(e("insert"))?;
        }
        tx.commit().map_err(e("commit"))
    }

    pub fn duty(&self, key: &DutyKey) -> Result<Option<Duty>> {
        let tx = self.db.begin_read().map_err(e("begin"))?;
        let t = tx.open_table(DUTIES).map_err(e("duties"))?;
        t.get(key.to_bytes().as_slice())
            .map_err(e("get"))?
            .map(|v| serde_json::from_slice(v.value()).context("decoding a duty"))
            .transpose()
    }

    /// Every duty, in (task, round, slot) order.
    pub fn duties(&self) -> Result<Vec<Duty>> {
        read_duties(&self.db)
    }

    pub fn put_auction(&self, a: &WatchedAuction) -> Result<()> {
        let value = serde_json::to_vec(a).context("encoding an auction")?;
        let tx = self.db.begin_write().map_err(e("begin"))?;
        {
            let mut t = tx.open_table(AUCTIONS).map_err(e("auctions"))?;
            t.insert(a.id, value.as_slice()).map_err(e("insert"))?;
        }
        tx.commit().map_err(e("commit"))
    }

    pub fn auctions(&self) -> Result<Vec<WatchedAuction>> {
        let tx = self.db.begin_read().map_err(e("begin"))?;
        let t = tx.open_table(AUCTIONS).map_err(e("auctions"))?;
        let mut out = Vec::new();
        for row in t.iter().map_err(e("iter"))? {
            let (_, v) = row.map_err(e("row"))?;
            out.push(serde_json::from_slice(v.value()).context("decoding an auction")?);
        }
        Ok(out)
    }
}

fn read_duties(db: &impl ReadableDatabase) -> Result<Vec<Duty>> {
    let tx = db.begin_read().map_err(e("begin"))?;
    let t = tx.open_table(DUTIES).map_err(e("duties"))?;
    let mut out = Vec::new();
    for row in t.iter().map_err(e("iter"))? {
        let (_, v) = row.map_err(e("row"))?;
        out.push(serde_json::from_slice(v.value()).context("decoding a duty")?);
    }
    Ok(out)
}

/// What `status` prints, from the store or from the running agent.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusReport {
    pub address: String,
    pub chain_id: String,
    pub last_height: u64,
    /// `connected`, `disconnected (…)`, or `not running` when read from the file.
    pub connection: String,
    pub pending: u64,
    pub done: u64,
    pub missed: u64,
    /// Duties by state name.
    pub by_state: Vec<(String, u64)>,
    /// Unfinished duties: `task/round state`.
    pub open: Vec<String>,
}

impl StatusReport {
    pub fn from_duties(duties: &[Duty]) -> Self {
        let mut r = StatusReport::default();
        for s in DutyState::ALL {
            let n = duties.iter().filter(|d| d.state == s).count() as u64;
            r.by_state.push((s.as_str().into(), n));
        }
        for d in duties {
            match d.state {
                DutyState::Missed => r.missed += 1,
                s if s.is_terminal() => r.done += 1,
                s => {
                    r.pending += 1;
                    r.open.push(format!(
                        "task {} round {} {}",
                        d.task_id,
                        d.round,
                        s.as_str()
                    ));
                }
            }
        }
        r
    }

    /// Reads a store no agent holds (read-only open).
    pub fn from_file(path: &Path) -> Result<Self> {
        let db = redb::ReadOnlyDatabase::open(path)
            .map_err(|err| anyhow!("opening {} read-only: {err}", path.display()))?;
        let duties = read_duties(&db)?;
        let tx = db.begin_read().map_err(e("begin"))?;
        let t = tx.open_table(META).map_err(e("meta"))?;
        let get = |k: &str| -> Result<Option<Vec<u8>>> {
            Ok(t.get(k).map_err(e("get"))?.map(|v| v.value().to_vec()))
        };
        let mut r = Self::from_duties(&duties);
        r.last_height = get("last_height")?
            .and_then(|v| v.try_into().ok())
            .map(u64::from_be_bytes)
            .unwrap_or(0);
        r.chain_id = String::from_utf8_lossy(&get("chain_id")?.unwrap_or_default()).into();
        r.address = String::from_utf8_lossy(&get("address")?.unwrap_or_default()).into();
        r.connection = "not running (read from the store)".into();
        Ok(r)
    }

    pub fn render(&self) -> String {
        let mut s = format!(
            "address      {}\nchain        {}\nconnection   {}\nlast height  {}\nduties       {} pending, {} done, {} missed\n",
            self.address, self.chain_id, self.connection, self.last_height, self.pending, self.done, self.missed
        );
        for (name, n) in &self.by_state {
            if *n > 0 {
                s.push_str(&format!("  {name:<10} {n}\n"));
            }
        }
        for o in &self.open {
            s.push_str(&format!("  open: {o}\n"));
        }
        s
    }
}
