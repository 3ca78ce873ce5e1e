//! Tasks (PROTOCOL.md §3.4): posting a task, the commit–reveal of a committee member's result,
//! confirming a delivery, and the `/tasks/…` reads.
//!
//! # Results
//!
//! An `Exact` task's result is any byte string; a `Numeric` task's result is 8 bytes, the
//! big-endian two's-complement `i64` of the value × 10^scale ([`encode_numeric`] turns decimal
//! text such as `-12.25` into them, exactly, with no floats; [`format_numeric`] turns them back).
//!
//! # Commit, then reveal: the salt store
//!
//! A member commits to `SHA-256(task_id BE ‖ member address ‖ result ‖ salt)` and reveals
//! `result` and `salt` in the next window. The salt is 32 random bytes; losing it makes the
//! reveal impossible (a missed duty), so [`commit_result`] writes it to the [`SaltStore`]
//! **before** anything is broadcast, and [`reveal_result`] reads it back:
//!
//! ```text
//! HOME/salts/CHAIN_ID/TASK_ID-MEMBER_ADDRESS.json      (file mode 0600, directories 0700)
//! {
//!   "format": "nodeop-task-salt-v1",
//!   "chain_id": "nodeop-devnet",
//!   "task_id": 7,
//!   "member": "nodeop1…",
//!   "result": "<hex of the result bytes>",
//!   "salt": "<64 hex digits>",
//!   "commitment": "<64 hex digits>"
//! }
//! ```
//!
//! Committing again to the same result reuses the stored salt (so a retried commit is the same
//! commitment); committing to another result is refused unless the caller replaces the salt
//! explicitly, since a commitment already on chain could then never be revealed. On reading,
//! the commitment is recomputed from the file, so an edited or truncated file is detected.
//!
//! # Reads
//!
//! [`task`], [`tasks`], [`schedule`], [`result`], [`price`], [`capacity`], [`load`], [`params`]
//! read `/tasks/…`; proven reads go through [`crate::verify::Record::Task`] and
//! [`crate::verify::Record::ResultRoot`], and [`verify_result_path`] checks a result's Merkle
//! path against its block's root.

use std::fmt::Write as _;
use std::fs::{self, DirBuilder, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use nodeop_app::crypto::sha256;
use nodeop_app::crypto::Address;
use nodeop_app::modules::tasks::msg::{commitment, MAX_NUMERIC_SCALE};
use nodeop_app::modules::tasks::query::{
    LoadView, PriceView, ResultView, ScheduleView, TaskPage, TaskSummary, WindowState,
};
use nodeop_app::modules::tasks::state::{
    BlockResults, CapacitySummary, ResultRecord, Submission, Task,
};
use nodeop_app::modules::tasks::{
    Consistency, MsgCommitResult, MsgConfirmSubmission, MsgPostTask, MsgRevealResult, TaskKind,
    TaskPayload,
};
use nodeop_app::modules::tasks::{TaskStatus, TasksParams};
use nodeop_app::tx::{Msg, Tx};
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};
use tendermint::hash::Hash;
use tendermint_rpc::HttpClient;

use crate::keys::KeyPair;
use crate::node::{event_attribute, node_chain_id, submit, TxOptions, TxOutcome};
use crate::staking::{push_query_param, query_json};
use crate::verify::{query_verified, Record, VerificationFailed, VerifiedRecord};

// ------------------------------------------------------------------ numeric results

/// Decimal text → the value × 10^`scale` as 8 big-endian bytes (a Numeric task's result).
/// Accepts an optional sign, digits, and at most `scale` decimals (`-12.5`, `+3`, `0.125`);
/// refuses more decimals than the scale holds (no silent rounding) and values outside `i64`.
pub fn encode_numeric(text: &str, scale: u8) -> Result<[u8; 8]> {
    parse_numeric(text, scale).map(i64::to_be_bytes)
}

/// Decimal text → the fixed-point `i64` (value × 10^`scale`); see [`encode_numeric`].
pub fn parse_numeric(text: &str, scale: u8) -> Result<i64> {
    if scale > MAX_NUMERIC_SCALE {
        bail!("scale {scale} is above the largest a task can have ({MAX_NUMERIC_SCALE})");
    }
    let s = text.trim();
    let (negative, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (whole, fraction) = match digits.split_once('.') {
        Some((w, f)) => (w, f),
        None => (digits, ""),
    };
    let all_digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty())
        || !all_digits(whole)
        || !all_digits(fraction)
        || (digits.contains('.') && fraction.is_empty() && whole.is_empty())
    {
        bail!("{text:?} is not a decimal number (an optional sign, digits, at most one '.')");
    }
    if fraction.len() > usize::from(scale) {
        bail!(
            "{text:?} has {} decimals; the task's scale is {scale} (value × 10^{scale} must be whole)",
            fraction.len()
        );
    }
    // i64 has at most 19 digits: anything longer is out of range before the fraction counts.
    let out_of_range = || {
        anyhow!(
            "{text:?} × 10^{scale} does not fit a signed 64-bit integer (|value| < {} at scale {scale})",
            format_numeric(i64::MAX, scale)
        )
    };
    let whole = whole.trim_start_matches('0');
    if whole.len() > 19 {
        return Err(out_of_range());
    }
    let padded = format!("{fraction:0<width$}", width = usize::from(scale));
    let whole: i128 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| out_of_range())?
    };
    let fraction: i128 = if padded.is_empty() {
        0
    } else {
        padded.parse().map_err(|_| out_of_range())?
    };
    let magnitude = 10i128
        .checked_pow(u32::from(scale))
        .and_then(|p| whole.checked_mul(p))
        .and_then(|w| w.checked_add(fraction))
        .ok_or_else(out_of_range)?;
    let value = if negative { -magnitude } else { magnitude };
    i64::try_from(value).map_err(|_| out_of_range())
}

/// A Numeric result's bytes → the fixed-point `i64`.
pub fn decode_numeric(bytes: &[u8]) -> Result<i64> {
    let b: [u8; 8] = bytes
        .try_into()
        .map_err(|_| anyhow!("a numeric result is 8 bytes, got {}", bytes.len()))?;
    Ok(i64::from_be_bytes(b))
}

/// The fixed-point `value` (× 10^`scale`) as decimal text with exactly `scale` decimals:
/// `format_numeric(-1250, 3)` = `"-1.250"`.
pub fn format_numeric(value: i64, scale: u8) -> String {
    let magnitude = value.unsigned_abs();
    let sign = if value < 0 { "-" } else { "" };
    if scale == 0 {
        return format!("{sign}{magnitude}");
    }
    let p = 10u128.pow(u32::from(scale.min(MAX_NUMERIC_SCALE)));
    let m = u128::from(magnitude);
    format!(
        "{sign}{}.{:0width$}",
        m / p,
        m % p,
        width = usize::from(scale)
    )
}

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

/// What a command line gives as a result, turned into the task's result bytes: for a Numeric
/// task decimal text ([`encode_numeric`]); for an Exact task the text's UTF-8 bytes, or with
/// `hex` the bytes the hex digits spell.
pub fn result_bytes(kind: &TaskKind, text: &str, hex_input: bool) -> Result<Vec<u8>> {
    match kind {
        TaskKind::Numeric { scale, .. } => {
            if hex_input {
                bail!("a Numeric task's result is a decimal number, not hex");
            }
            Ok(encode_numeric(text, *scale)?.to_vec())
        }
        TaskKind::Exact if hex_input => {
            let s = text.trim();
            let s = s.strip_prefix("0x").unwrap_or(s);
            hex::decode(s).map_err(|_| anyhow!("result {text:?} is not hex"))
        }
        TaskKind::Exact => Ok(text.as_bytes().to_vec()),
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

// ------------------------------------------------------------------ messages

/// Parses a 32-byte hash given as 64 hex digits (an optional `0x` prefix is allowed).
pub fn parse_sha256(what: &str, hex_str: &str) -> Result<[u8; 32]> {
    let s = hex_str.trim();
    let s = s.strip_prefix("0x").unwrap_or(s);
    let bytes = hex::decode(s).map_err(|_| anyhow!("{what} {hex_str:?} is not hex"))?;
    bytes
        .try_into()
        .map_err(|b: Vec<u8>| anyhow!("{what} is 32 bytes (64 hex digits), got {} bytes", b.len()))
}

/// A `tasks.post` message.
pub fn post_task_msg(
    kind: TaskKind,
    consistency: Consistency,
    payload: TaskPayload,
    difficulty_units: u64,
    min_reputation_ppm: u32,
    fee: u128,
) -> Msg {
    Msg::PostTask(MsgPostTask {
        kind,
        consistency,
        payload,
        difficulty_units,
        min_reputation_ppm,
        fee,
    })
}

/// A `tasks.commit` message committing `member` to `result` with `salt`.
pub fn commit_msg(task_id: u64, member: &Address, result: &[u8], salt: &[u8; 32]) -> Msg {
    Msg::CommitResult(MsgCommitResult {
        task_id,
        commitment: commitment(task_id, member, result, salt),
    })
}

/// A `tasks.reveal` message.
pub fn reveal_msg(task_id: u64, result: &[u8], salt: &[u8; 32]) -> Msg {
    Msg::RevealResult(MsgRevealResult {
        task_id,
        result: result.to_vec(),
        salt: *salt,
    })
}

/// A `tasks.confirm` message.
pub fn confirm_msg(task_id: u64, target_ref: &str) -> Msg {
    Msg::ConfirmSubmission(MsgConfirmSubmission {
        task_id,
        target_ref: target_ref.to_string(),
    })
}

/// The fee a task of `difficulty_units` needs at `unit_price` (unop per unit).
pub fn fee_for(difficulty_units: u64, unit_price: u128) -> Result<u128> {
    unit_price
        .checked_mul(u128::from(difficulty_units))
        .ok_or_else(|| anyhow!("difficulty {difficulty_units} × unit price {unit_price} overflows"))
}

// ------------------------------------------------------------------ the salt store

/// The format tag of a salt file.
pub const SALT_FORMAT: &str = "nodeop-task-salt-v1";
/// Directory of the salt store under the client home.
pub const SALTS_DIR: &str = "salts";
/// Salt files are small; anything larger is not one of ours.
const MAX_SALT_FILE_BYTES: u64 = 1 << 20;

/// 32 bytes from the operating system's random source.
pub fn random_salt() -> [u8; 32] {
    let mut salt = [0u8; 32];
    OsRng.fill_bytes(&mut salt);
    salt
}

/// What a member needs to reveal: the result and salt behind its commitment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredSalt {
    pub format: String,
    pub chain_id: String,
    pub task_id: u64,
    pub member: Address,
    #[serde(with = "hex::serde")]
    pub result: Vec<u8>,
    #[serde(with = "hex::serde")]
    pub salt: [u8; 32],
    #[serde(with = "hex::serde")]
    pub commitment: [u8; 32],
}

impl StoredSalt {
    /// A new entry with a fresh random salt.
    pub fn new(chain_id: &str, task_id: u64, member: &Address, result: &[u8]) -> Self {
        Self::with_salt(chain_id, task_id, member, result, random_salt())
    }

    /// An entry with the given salt (tests, or a salt kept elsewhere).
    pub fn with_salt(
        chain_id: &str,
        task_id: u64,
        member: &Address,
        result: &[u8],
        salt: [u8; 32],
    ) -> Self {
        StoredSalt {
            format: SALT_FORMAT.into(),
            chain_id: chain_id.to_string(),
            task_id,
            member: *member,
            result: result.to_vec(),
            salt,
            commitment: commitment(task_id, member, result, &salt),
        }
    }

    /// The `tasks.commit` message of this entry.
    pub fn commit_msg(&self) -> Msg {
        Msg::CommitResult(MsgCommitResult {
            task_id: self.task_id,
            commitment: self.commitment,
        })
    }

    /// The `tasks.reveal` message of this entry.
    pub fn reveal_msg(&self) -> Msg {
        reveal_msg(self.task_id, &self.result, &self.salt)
    }
}

/// No salt is stored for this task and member: nothing was committed from this home.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoStoredSalt {
    pub chain_id: String,
    pub task_id: u64,
    pub member: Address,
    pub path: PathBuf,
}

impl std::fmt::Display for NoStoredSalt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "no stored salt for task {} and member {} on chain {:?} ({} does not exist): the result was not committed from this home (`nodeop tx task commit` stores the salt; pass the same --home), so it cannot be revealed from here",
            self.task_id,
            self.member,
            self.chain_id,
            self.path.display()
        )
    }
}

impl std::error::Error for NoStoredSalt {}

/// A salt is stored for this task and member with another result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaltConflict {
    pub task_id: u64,
    pub stored_result: Vec<u8>,
    pub path: PathBuf,
}

impl std::fmt::Display for SaltConflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "a salt for task {} is already stored ({}) with another result (0x{}); the chain accepts one commit per member, and if that commit is on chain replacing its salt makes it impossible to reveal. Reveal it with `nodeop tx task reveal`, or replace the stored salt explicitly (--replace-salt)",
            self.task_id,
            self.path.display(),
            hex::encode(&self.stored_result)
        )
    }
}

impl std::error::Error for SaltConflict {}

/// The salt store: `HOME/salts/CHAIN_ID/TASK_ID-MEMBER.json` (see the module docs).
#[derive(Clone, Debug)]
pub struct SaltStore {
    dir: PathBuf,
}

/// A chain id usable as a directory name: `[A-Za-z0-9._-]`, not `.` or `..`.
fn check_chain_dir(chain_id: &str) -> Result<()> {
    let ok = !chain_id.is_empty()
        && chain_id.len() <= 64
        && chain_id != "."
        && chain_id != ".."
        && chain_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-');
    if !ok {
        bail!(
            "chain id {chain_id:?} cannot name a salt directory (letters, digits, '.', '_', '-')"
        );
    }
    Ok(())
}

fn create_private_dir(dir: &Path) -> Result<()> {
    if !dir.exists() {
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .with_context(|| format!("creating {}", dir.display()))?;
    }
    let meta = fs::metadata(dir).with_context(|| format!("reading {}", dir.display()))?;
    if !meta.is_dir() {
        bail!("{} is not a directory", dir.display());
    }
    if meta.permissions().mode() & 0o077 != 0 {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .with_context(|| format!("restricting {} to mode 0700", dir.display()))?;
    }
    Ok(())
}

impl SaltStore {
    /// The store under a client home (`home/salts`). Nothing is created until a salt is saved.
    pub fn open(home: &Path) -> Self {
        SaltStore {
            dir: home.join(SALTS_DIR),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file of one task and member on one chain.
    pub fn path(&self, chain_id: &str, task_id: u64, member: &Address) -> Result<PathBuf> {
        check_chain_dir(chain_id)?;
        Ok(self
            .dir
            .join(chain_id)
            .join(format!("{task_id}-{}.json", member.to_bech32())))
    }

    /// Writes `entry` (mode 0600, atomically: a temporary file renamed into place).
    pub fn save(&self, entry: &StoredSalt) -> Result<PathBuf> {
        let path = self.path(&entry.chain_id, entry.task_id, &entry.member)?;
        let dir = path
            .parent()
            .ok_or_else(|| anyhow!("{} has no directory", path.display()))?;
        create_private_dir(&self.dir)?;
        create_private_dir(dir)?;
        let json = serde_json::to_string_pretty(entry).context("encoding the salt file")?;
        let tmp = dir.join(format!(
            ".{}.tmp-{}",
            path.file_name().and_then(|n| n.to_str()).unwrap_or("salt"),
            std::process::id()
        ));
        let _ = fs::remove_file(&tmp);
        let written = (|| -> Result<()> {
            let mut f = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&tmp)
                .with_context(|| format!("creating {}", tmp.display()))?;
            f.write_all(json.as_bytes())
                .with_context(|| format!("writing {}", tmp.display()))?;
            f.sync_all()
                .with_context(|| format!("syncing {}", tmp.display()))?;
            fs::rename(&tmp, &path).with_context(|| format!("writing {}", path.display()))
        })();
        if written.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        written?;
        if let Ok(d) = fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(path)
    }

    /// The stored entry, a [`NoStoredSalt`] error if there is none; an entry that does not
    /// belong to this file or whose commitment does not recompute is refused.
    pub fn load(&self, chain_id: &str, task_id: u64, member: &Address) -> Result<StoredSalt> {
        self.find(chain_id, task_id, member)?.ok_or_else(|| {
            NoStoredSalt {
                chain_id: chain_id.to_string(),
                task_id,
                member: *member,
                path: self
                    .path(chain_id, task_id, member)
                    .unwrap_or_else(|_| self.dir.clone()),
            }
            .into()
        })
    }

    /// The stored entry, if any (see [`SaltStore::load`]).
    pub fn find(
        &self,
        chain_id: &str,
        task_id: u64,
        member: &Address,
    ) -> Result<Option<StoredSalt>> {
        let path = self.path(chain_id, task_id, member)?;
        let f = match fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("opening {}", path.display())),
        };
        let mut text = String::new();
        f.take(MAX_SALT_FILE_BYTES + 1)
            .read_to_string(&mut text)
            .with_context(|| format!("reading {}", path.display()))?;
        if text.len() as u64 > MAX_SALT_FILE_BYTES {
            bail!("{} is larger than a salt file can be", path.display());
        }
        let entry: StoredSalt = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a nodeop salt file", path.display()))?;
        if entry.format != SALT_FORMAT {
            bail!(
                "{}: format {:?} is not supported (expected {SALT_FORMAT:?})",
                path.display(),
                entry.format
            );
        }
        if entry.chain_id != chain_id || entry.task_id != task_id || entry.member != *member {
            bail!(
                "{} holds the salt of task {} of {} on chain {:?}, not of this task and member (the file was moved or altered)",
                path.display(),
                entry.task_id,
                entry.member,
                entry.chain_id
            );
        }
        if commitment(entry.task_id, &entry.member, &entry.result, &entry.salt) != entry.commitment
        {
            bail!(
                "{}: the stored result and salt do not give the stored commitment (the file was altered)",
                path.display()
            );
        }
        Ok(Some(entry))
    }

    /// The entry to commit with: the stored one when it holds the same result (a retried
    /// commit is the same commitment), a new one with a fresh salt when none is stored (or
    /// `replace` is set); a [`SaltConflict`] when another result is stored. Nothing is written.
    pub fn prepare(
        &self,
        chain_id: &str,
        task_id: u64,
        member: &Address,
        result: &[u8],
        replace: bool,
    ) -> Result<StoredSalt> {
        match self.find(chain_id, task_id, member)? {
            Some(existing) if existing.result == result => Ok(existing),
            Some(existing) if !replace => Err(SaltConflict {
                task_id,
                stored_result: existing.result,
                path: self.path(chain_id, task_id, member)?,
            }
            .into()),
            _ => Ok(StoredSalt::new(chain_id, task_id, member, result)),
        }
    }
}

// ------------------------------------------------------------------ submitters

/// The chain id of `opts`, else the node's.
async fn chain_of(client: &HttpClient, opts: &TxOptions) -> Result<String> {
    match &opts.chain_id {
        Some(c) => Ok(c.clone()),
        None => node_chain_id(client).await,
    }
}

/// Submits a `tasks.post` from `key` (the client, whose `fee` is escrowed).
pub async fn post_task(
    client: &HttpClient,
    key: &KeyPair,
    msg: MsgPostTask,
    opts: &TxOptions,
) -> Result<(Tx, TxOutcome)> {
    submit(client, key, vec![Msg::PostTask(msg)], opts).await
}

/// What [`commit_result`] did: the salt entry (stored before the broadcast), where it is, and
/// the tx.
#[derive(Clone, Debug)]
pub struct Committed {
    pub entry: StoredSalt,
    pub salt_file: PathBuf,
    pub tx: Tx,
    pub outcome: TxOutcome,
}

/// Commits `key`'s member to `result` for `task_id`: takes the salt from the store (a fresh one,
/// or the stored one for the same result; see [`SaltStore::prepare`]), **saves it**, then signs
/// and broadcasts the `tasks.commit`. If the broadcast fails the salt stays stored, so the
/// commit can be retried with the same commitment.
pub async fn commit_result(
    client: &HttpClient,
    key: &KeyPair,
    store: &SaltStore,
    task_id: u64,
    result: &[u8],
    replace_salt: bool,
    opts: &TxOptions,
) -> Result<Committed> {
    let chain_id = chain_of(client, opts).await?;
    let member = key.address();
    let entry = store.prepare(&chain_id, task_id, &member, result, replace_salt)?;
    let salt_file = store.save(&entry)?;
    let mut opts = opts.clone();
    opts.chain_id = Some(chain_id);
    let (tx, outcome) = submit(client, key, vec![entry.commit_msg()], &opts).await?;
    Ok(Committed {
        entry,
        salt_file,
        tx,
        outcome,
    })
}

/// Reveals the result and salt `key`'s member committed to for `task_id`, read from the store;
/// a [`NoStoredSalt`] error (before anything is sent) when none is stored.
pub async fn reveal_result(
    client: &HttpClient,
    key: &KeyPair,
    store: &SaltStore,
    task_id: u64,
    opts: &TxOptions,
) -> Result<(StoredSalt, Tx, TxOutcome)> {
    let chain_id = chain_of(client, opts).await?;
    let entry = store.load(&chain_id, task_id, &key.address())?;
    let mut opts = opts.clone();
    opts.chain_id = Some(chain_id);
    let (tx, outcome) = submit(client, key, vec![entry.reveal_msg()], &opts).await?;
    Ok((entry, tx, outcome))
}

/// Submits a `tasks.confirm` from `key` (the scheduled submitter of the open window).
pub async fn confirm_submission(
    client: &HttpClient,
    key: &KeyPair,
    task_id: u64,
    target_ref: &str,
    opts: &TxOptions,
) -> Result<(Tx, TxOutcome)> {
    submit(client, key, vec![confirm_msg(task_id, target_ref)], opts).await
}

/// Waits until the node's latest block is at least `height` (polling), at most `timeout`;
/// returns the latest height then.
pub async fn wait_for_height(client: &HttpClient, height: u64, timeout: Duration) -> Result<u64> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let latest = crate::node::latest_height(client).await?;
        if latest >= height {
            return Ok(latest);
        }
        if tokio::time::Instant::now() >= deadline {
            bail!(
                "the chain is at height {latest}, not yet {height}, after {} s",
                timeout.as_secs()
            );
        }
        tokio::time::sleep(crate::node::POLL_INTERVAL).await;
    }
}

/// The id of the task an included `tasks.post` opened (its `task_posted` event).
pub fn posted_task_id(outcome: &TxOutcome) -> Option<u64> {
    event_attribute(outcome, "task_posted", "task").and_then(|v| v.parse().ok())
}

// ------------------------------------------------------------------ reads

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
/// see [`verify_result_path`] and [`proven_result`]).
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

// ------------------------------------------------------------------ result paths

/// Climbs a Merkle path: from `leaf` at `index` of `count` leaves, hashing with each sibling
/// (`SHA-256(left ‖ right)`; a node without a sibling moves up unchanged), to the root it
/// gives. `None` if the path has too few or too many hashes for that position.
pub fn climb_path(leaf: [u8; 32], index: u32, count: u32, path: &[[u8; 32]]) -> Option<[u8; 32]> {
    if index >= count {
        return None;
    }
    let (mut h, mut i, mut n) = (leaf, index, count);
    let mut siblings = path.iter();
    while n > 1 {
        if i % 2 == 1 {
            h = sha256(&[siblings.next()?, &h]);
        } else if i + 1 < n {
            h = sha256(&[&h, siblings.next()?]);
        }
        i /= 2;
        n = n.div_ceil(2);
    }
    siblings.next().is_none().then_some(h)
}

/// A result's leaf: `SHA-256("nodeop-task-result-v1" ‖ task_id BE ‖ result_hash)`.
pub fn result_leaf(task_id: u64, result_hash: &[u8; 32]) -> [u8; 32] {
    sha256(&[RESULT_LEAF_DOMAIN, &task_id.to_be_bytes(), result_hash])
}

/// The domain of a result leaf.
pub const RESULT_LEAF_DOMAIN: &[u8] = b"nodeop-task-result-v1";

/// Checks a `/tasks/result/{id}` answer on its own: the leaf is the task's result leaf, the
/// result bytes (when given) hash to the result hash, and the path climbs from the leaf to the
/// root the answer names. (That the root is the chain's needs [`proven_result`].)
pub fn verify_result_path(v: &ResultView) -> Result<(), VerificationFailed> {
    if let Some(bytes) = &v.result {
        if sha256(&[bytes]) != v.result_hash {
            return Err(VerificationFailed(format!(
                "the result bytes of task {} do not hash to its result hash",
                v.task_id
            )));
        }
    }
    if result_leaf(v.task_id, &v.result_hash) != v.leaf {
        return Err(VerificationFailed(format!(
            "the leaf is not SHA-256(\"nodeop-task-result-v1\" ‖ {} ‖ result hash)",
            v.task_id
        )));
    }
    match climb_path(v.leaf, v.leaf_index, v.leaf_count, &v.path) {
        Some(root) if root == v.root => Ok(()),
        Some(root) => Err(VerificationFailed(format!(
            "the path of task {} climbs to {}, not to the root {}",
            v.task_id,
            hex::encode(root),
            hex::encode(v.root)
        ))),
        None => Err(VerificationFailed(format!(
            "the path of task {} has {} hashes, which does not fit leaf {} of {}",
            v.task_id,
            v.path.len(),
            v.leaf_index,
            v.leaf_count
        ))),
    }
}

/// A result proven against the app hash: its record and its block's root, both read with
/// ICS23 proofs at one height (header `height + 1` checked by the light client), and the node's
/// Merkle path checked from the proven leaf to the proven root.
#[derive(Clone, Debug, Serialize)]
pub struct ProvenResult {
    pub task_id: u64,
    pub record: ResultRecord,
    pub block: BlockResults,
    /// The node's answer whose path was checked.
    pub path: ResultView,
    /// The proven `tasks/result/{id}` read.
    pub record_proof: VerifiedRecord,
    /// The proven `tasks/block_results/{height}` read.
    pub root_proof: VerifiedRecord,
}

/// Reads task `id`'s result record and its block's root with proofs at `height` (latest if
/// `None`), then checks the node's path from the proven leaf to the proven root. Works after
/// the task is pruned.
pub async fn proven_result(
    client: &HttpClient,
    id: u64,
    height: Option<u64>,
    chain_id: &str,
    pinned: Option<&Hash>,
    timeout: Duration,
) -> Result<ProvenResult> {
    let record_proof = query_verified(
        client,
        &Record::ResultRecord(id),
        height,
        chain_id,
        pinned,
        timeout,
    )
    .await?;
    let Some(record) = decode_proven::<ResultRecord>(&record_proof)? else {
        return Err(VerificationFailed(format!(
            "task {id} has no finalized result at height {} (its absence is proven)",
            record_proof.height
        ))
        .into());
    };
    let root_proof = query_verified(
        client,
        &Record::BlockResults(record.finalized_height),
        Some(record_proof.height),
        chain_id,
        pinned,
        timeout,
    )
    .await?;
    let Some(block) = decode_proven::<BlockResults>(&root_proof)? else {
        return Err(VerificationFailed(format!(
            "task {id}'s result names block {}, whose results are proven absent",
            record.finalized_height
        ))
        .into());
    };
    let (path, _) = result(client, id).await?;
    check_against_proven(&path, &record, &block)?;
    Ok(ProvenResult {
        task_id: id,
        record,
        block,
        path,
        record_proof,
        root_proof,
    })
}

/// The node's path answer against a proven result record and a proven block root.
pub fn check_against_proven(
    path: &ResultView,
    record: &ResultRecord,
    block: &BlockResults,
) -> Result<(), VerificationFailed> {
    let fail = |m: String| Err(VerificationFailed(m));
    if record.task_id != path.task_id {
        return fail(format!(
            "the proven record is of task {}, not {}",
            record.task_id, path.task_id
        ));
    }
    if block.height != record.finalized_height {
        return fail(format!(
            "the proven block results are of height {}, the result was finalized at {}",
            block.height, record.finalized_height
        ));
    }
    if path.result_hash != record.result_hash
        || path.leaf_index != record.leaf_index
        || path.finalized_height != record.finalized_height
    {
        return fail(format!(
            "the node's answer for task {} differs from its proven record (hash, leaf index or height)",
            record.task_id
        ));
    }
    if path.root != block.root || path.leaf_count as usize != block.leaves.len() {
        return fail(format!(
            "the node's answer names another root or leaf count than block {}'s proven results",
            block.height
        ));
    }
    if block.leaves.get(record.leaf_index as usize) != Some(&path.leaf) {
        return fail(format!(
            "leaf {} of block {}'s proven results is not the answer's leaf",
            record.leaf_index, block.height
        ));
    }
    verify_result_path(path)
}

fn decode_proven<T: serde::de::DeserializeOwned>(v: &VerifiedRecord) -> Result<Option<T>> {
    if !v.exists {
        return Ok(None);
    }
    serde_json::from_value(v.value.clone())
        .map(Some)
        .map_err(|e| anyhow!("the proven {} does not read back: {e}", v.path))
}

// ------------------------------------------------------------------ text for people

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

#[cfg(test)]
mod tests {
    use super::*;

    fn member() -> Address {
        KeyPair::from_secret_hex(&"55".repeat(32))
            .unwrap()
            .address()
    }

    #[test]
    fn numeric_results_parse_exactly_at_the_tasks_scale() {
        assert_eq!(parse_numeric("12.345", 3).unwrap(), 12_345);
        assert_eq!(parse_numeric("12.3", 3).unwrap(), 12_300);
        assert_eq!(parse_numeric("12", 3).unwrap(), 12_000);
        assert_eq!(parse_numeric("-0.005", 3).unwrap(), -5);
        assert_eq!(parse_numeric("+7", 0).unwrap(), 7);
        assert_eq!(parse_numeric(".5", 1).unwrap(), 5);
        assert_eq!(parse_numeric("5.", 1).unwrap(), 50);
        assert_eq!(parse_numeric(" 0042 ", 0).unwrap(), 42);
        assert_eq!(parse_numeric("-0", 2).unwrap(), 0);
        assert_eq!(encode_numeric("-1.5", 2).unwrap(), (-150i64).to_be_bytes());
        assert_eq!(encode_numeric("1", 0).unwrap(), [0, 0, 0, 0, 0, 0, 0, 1]);
        // the examples of docs/tx-format.md
        assert_eq!(
            hex::encode(encode_numeric("12.345", 3).unwrap()),
            "0000000000003039"
        );
        assert_eq!(
            hex::encode(encode_numeric("-0.5", 3).unwrap()),
            "fffffffffffffe0c"
        );
        // the extremes of i64, and one past them
        assert_eq!(parse_numeric("9223372036854775807", 0).unwrap(), i64::MAX);
        assert_eq!(parse_numeric("-9223372036854775808", 0).unwrap(), i64::MIN);
        assert!(parse_numeric("9223372036854775808", 0).is_err());
        assert_eq!(parse_numeric("9.223372036854775807", 18).unwrap(), i64::MAX);
        assert!(parse_numeric("9.3", 18).is_err());
        assert!(parse_numeric("100000000000000000000", 0).is_err());
        // more decimals than the scale: refused, never rounded
        let e = parse_numeric("1.2345", 3).unwrap_err().to_string();
        assert!(e.contains("scale is 3"), "{e}");
        assert!(parse_numeric("1.5", 0).is_err());
        // not numbers
        for bad in [
            "", "-", ".", "1e3", "1.2.3", "0x10", "one", "1,5", "--1", "- 1",
        ] {
            assert!(parse_numeric(bad, 3).is_err(), "{bad:?} parsed");
        }
        assert!(parse_numeric("1", MAX_NUMERIC_SCALE + 1).is_err());
    }

    #[test]
    fn numeric_results_format_back_to_the_same_text() {
        assert_eq!(format_numeric(12_345, 3), "12.345");
        assert_eq!(format_numeric(-5, 3), "-0.005");
        assert_eq!(format_numeric(0, 2), "0.00");
        assert_eq!(format_numeric(42, 0), "42");
        assert_eq!(format_numeric(i64::MIN, 0), "-9223372036854775808");
        assert_eq!(format_numeric(i64::MIN, 18), "-9.223372036854775808");
        for (v, scale) in [
            (1i64, 1u8),
            (-987_654_321, 4),
            (i64::MAX, 18),
            (i64::MIN, 5),
        ] {
            assert_eq!(parse_numeric(&format_numeric(v, scale), scale).unwrap(), v);
        }
        let kind = TaskKind::Numeric {
            scale: 2,
            tolerance_ppm: 0,
        };
        assert_eq!(result_text(&kind, &(-150i64).to_be_bytes()), "-1.50");
        assert!(result_text(&kind, b"abc").contains("not 8 bytes"));
        assert_eq!(result_text(&TaskKind::Exact, b"ok"), "\"ok\"");
        assert_eq!(result_text(&TaskKind::Exact, &[0, 1]), "0x0001");
        assert_eq!(decode_numeric(&7i64.to_be_bytes()).unwrap(), 7);
        assert!(decode_numeric(&[1, 2]).is_err());
    }

    #[test]
    fn result_input_follows_the_tasks_kind() {
        let numeric = TaskKind::Numeric {
            scale: 3,
            tolerance_ppm: 1000,
        };
        assert_eq!(
            result_bytes(&numeric, "1.5", false).unwrap(),
            1_500i64.to_be_bytes().to_vec()
        );
        assert!(result_bytes(&numeric, "00ff", true).is_err());
        assert_eq!(
            result_bytes(&TaskKind::Exact, "hello", false).unwrap(),
            b"hello".to_vec()
        );
        assert_eq!(
            result_bytes(&TaskKind::Exact, "0x00ff", true).unwrap(),
            vec![0, 0xff]
        );
        assert!(result_bytes(&TaskKind::Exact, "zz", true).is_err());
    }

    #[test]
    fn the_commitment_binds_task_member_result_and_salt() {
        let m = member();
        let salt = [9u8; 32];
        let Msg::CommitResult(c) = commit_msg(7, &m, b"42", &salt) else {
            panic!("not a commit");
        };
        // SHA-256(task_id BE ‖ address ‖ result ‖ salt), spelled out
        use sha2::Digest;
        let expected: [u8; 32] = sha2::Sha256::new()
            .chain_update(7u64.to_be_bytes())
            .chain_update(m.0)
            .chain_update(b"42")
            .chain_update(salt)
            .finalize()
            .into();
        assert_eq!(c.commitment, expected);
        assert_eq!(c.task_id, 7);
        let other = KeyPair::from_secret_hex(&"66".repeat(32))
            .unwrap()
            .address();
        assert_ne!(commitment(7, &other, b"42", &salt), expected);
        assert_ne!(commitment(8, &m, b"42", &salt), expected);
        assert_ne!(commitment(7, &m, b"43", &salt), expected);
        assert_ne!(commitment(7, &m, b"42", &[8; 32]), expected);
        let entry = StoredSalt::with_salt("c", 7, &m, b"42", salt);
        assert_eq!(entry.commit_msg(), Msg::CommitResult(c));
        assert_eq!(entry.reveal_msg(), reveal_msg(7, b"42", &salt));
        // fresh salts differ
        assert_ne!(random_salt(), random_salt());
    }

    #[test]
    fn salts_round_trip_through_the_store_with_private_permissions() {
        let home = tempfile::tempdir().unwrap();
        let store = SaltStore::open(home.path());
        let m = member();
        let entry = store
            .prepare("nodeop-devnet", 7, &m, b"result", false)
            .unwrap();
        let path = store.save(&entry).unwrap();
        assert_eq!(
            path,
            home.path()
                .join("salts/nodeop-devnet")
                .join(format!("7-{m}.json"))
        );
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&home.path().join("salts")), 0o700);
        assert_eq!(mode(&home.path().join("salts/nodeop-devnet")), 0o700);
        let back = store.load("nodeop-devnet", 7, &m).unwrap();
        assert_eq!(back, entry);
        assert_eq!(back.commitment, commitment(7, &m, b"result", &back.salt));
        // the file reads as documented
        let json: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(json["format"], SALT_FORMAT);
        assert_eq!(json["task_id"], 7);
        assert_eq!(json["member"], m.to_bech32());
        assert_eq!(json["result"], hex::encode(b"result"));
        assert_eq!(json["salt"], hex::encode(entry.salt));
        assert_eq!(json["commitment"], hex::encode(entry.commitment));
        // no temporary files left behind
        let names: Vec<_> = fs::read_dir(home.path().join("salts/nodeop-devnet"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");

        // the same result again reuses the salt: a retried commit is the same commitment
        let again = store
            .prepare("nodeop-devnet", 7, &m, b"result", false)
            .unwrap();
        assert_eq!(again, entry);
        // another result is refused, unless replaced explicitly
        let e = store
            .prepare("nodeop-devnet", 7, &m, b"other", false)
            .unwrap_err();
        assert!(e.is::<SaltConflict>(), "{e}");
        let replaced = store
            .prepare("nodeop-devnet", 7, &m, b"other", true)
            .unwrap();
        assert_ne!(replaced.salt, entry.salt);
        store.save(&replaced).unwrap();
        assert_eq!(store.load("nodeop-devnet", 7, &m).unwrap(), replaced);
        // other tasks, members and chains are separate
        let e = store.load("nodeop-devnet", 8, &m).unwrap_err();
        let missing = e.downcast_ref::<NoStoredSalt>().expect("NoStoredSalt");
        assert_eq!(missing.task_id, 8);
        assert!(e.to_string().contains("no stored salt for task 8"), "{e}");
        assert!(store.load("nodeop-1", 7, &m).is_err());
        let other = KeyPair::from_secret_hex(&"66".repeat(32))
            .unwrap()
            .address();
        assert!(store.find("nodeop-devnet", 7, &other).unwrap().is_none());

        // a loose directory is tightened when a salt is saved
        fs::set_permissions(home.path().join("salts"), fs::Permissions::from_mode(0o755)).unwrap();
        store.save(&entry).unwrap();
        assert_eq!(mode(&home.path().join("salts")), 0o700);
    }

    #[test]
    fn altered_or_misplaced_salt_files_are_refused() {
        let home = tempfile::tempdir().unwrap();
        let store = SaltStore::open(home.path());
        let m = member();
        let entry = StoredSalt::with_salt("c", 3, &m, b"r", [1; 32]);
        let path = store.save(&entry).unwrap();
        // an edited result no longer gives the commitment
        let mut edited = entry.clone();
        edited.result = b"s".to_vec();
        fs::write(&path, serde_json::to_string(&edited).unwrap()).unwrap();
        let e = store.load("c", 3, &m).unwrap_err().to_string();
        assert!(e.contains("altered"), "{e}");
        // another task's file copied here
        let elsewhere = StoredSalt::with_salt("c", 4, &m, b"r", [1; 32]);
        fs::write(&path, serde_json::to_string(&elsewhere).unwrap()).unwrap();
        assert!(store.load("c", 3, &m).is_err());
        // not JSON
        fs::write(&path, "{").unwrap();
        assert!(store.load("c", 3, &m).is_err());
        // chain ids that would leave the store
        for bad in ["", ".", "..", "a/b", "../x"] {
            assert!(store.path(bad, 1, &m).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn task_messages_sign_into_txs_the_chain_accepts_and_show_in_tx_views() {
        use crate::tx::{build_tx, encode_tx, sign_tx, MsgView, TxView};
        use nodeop_app::crypto::Verifier;
        use nodeop_app::params::TxParams;
        use nodeop_app::tx::check_stateless;
        let key = KeyPair::from_secret_hex(&"55".repeat(32)).unwrap();
        let params = TxParams::default();
        let entry = StoredSalt::with_salt("nodeop-devnet", 4, &key.address(), b"ok", [3; 32]);
        let post = post_task_msg(
            TaskKind::Numeric {
                scale: 2,
                tolerance_ppm: 5_000,
            },
            Consistency::Session,
            TaskPayload::Reference {
                sha256: [7; 32],
                uri: "ipfs://x".into(),
            },
            3,
            600_000,
            4_500,
        );
        for (msg, name) in [
            (post.clone(), "tasks.post"),
            (entry.commit_msg(), "tasks.commit"),
            (entry.reveal_msg(), "tasks.reveal"),
            (confirm_msg(4, "consumer-tx-1"), "tasks.confirm"),
        ] {
            let body = build_tx("nodeop-devnet", 1, vec![msg.clone()], None, "", &params).unwrap();
            let bytes = encode_tx(&sign_tx(body, &key).unwrap()).unwrap();
            let checked =
                check_stateless(&bytes, "nodeop-devnet", &params, &Verifier::default(), &())
                    .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(checked.tx.body.msgs, vec![msg.clone()]);
            let json = serde_json::to_value(TxView::from(&checked.tx)).unwrap();
            assert_eq!(json["msgs"][0]["type"], name);
        }
        let json = serde_json::to_value(MsgView::from(&post)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "type": "tasks.post",
                "kind": {"numeric": {"scale": 2, "tolerance_ppm": 5000}},
                "consistency": "session",
                "payload": {"reference": {"sha256": "07".repeat(32), "uri": "ipfs://x"}},
                "difficulty_units": 3,
                "min_reputation_ppm": 600000,
                "fee": "4500",
            })
        );
        assert_eq!(
            MsgView::from(&post).describe(),
            format!(
                "tasks.post numeric (scale 2, tolerance 0.5 % (5000 ppm)) task, session consistency, 3 difficulty units, minimum reputation 60 % (600000 ppm), fee 0.004500 NOP (4500 unop), payload reference sha256 {} at \"ipfs://x\"",
                "07".repeat(32)
            )
        );
        let json = serde_json::to_value(MsgView::from(&entry.reveal_msg())).unwrap();
        assert_eq!(json["result"], hex::encode(b"ok"));
        assert_eq!(json["salt"], "03".repeat(32));
        assert_eq!(
            MsgView::from(&confirm_msg(4, "r")).describe(),
            "tasks.confirm task 4: delivered as \"r\""
        );
        let json = serde_json::to_value(MsgView::from(&entry.commit_msg())).unwrap();
        assert_eq!(json["commitment"], hex::encode(entry.commitment));
    }

    fn h2(a: &[u8; 32], b: &[u8; 32]) -> [u8; 32] {
        sha256(&[a, b])
    }

    /// Five results in one block: the tree spelled out by hand (the fifth leaf is carried up).
    fn five() -> (Vec<[u8; 32]>, [u8; 32]) {
        let leaves: Vec<[u8; 32]> = (0..5u64)
            .map(|i| result_leaf(10 + i, &[i as u8; 32]))
            .collect();
        let root = h2(
            &h2(&h2(&leaves[0], &leaves[1]), &h2(&leaves[2], &leaves[3])),
            &leaves[4],
        );
        (leaves, root)
    }

    fn view(i: u32) -> ResultView {
        let (leaves, root) = five();
        let l = &leaves;
        let path = match i {
            0 => vec![l[1], h2(&l[2], &l[3]), l[4]],
            1 => vec![l[0], h2(&l[2], &l[3]), l[4]],
            2 => vec![l[3], h2(&l[0], &l[1]), l[4]],
            3 => vec![l[2], h2(&l[0], &l[1]), l[4]],
            _ => vec![h2(&h2(&l[0], &l[1]), &h2(&l[2], &l[3]))],
        };
        ResultView {
            task_id: 10 + u64::from(i),
            status: nodeop_app::modules::tasks::TaskStatus::Delivered,
            result_hash: [i as u8; 32],
            result: None,
            finalized_height: 40,
            leaf_index: i,
            leaf_count: 5,
            leaf: leaves[i as usize],
            path,
            root,
        }
    }

    #[test]
    fn result_paths_climb_to_their_blocks_root() {
        let (_, root) = five();
        for i in 0..5 {
            let v = view(i);
            assert_eq!(climb_path(v.leaf, i, 5, &v.path), Some(root), "leaf {i}");
            verify_result_path(&v).unwrap();
        }
        // one leaf: the leaf is the root
        let only = result_leaf(1, &[1; 32]);
        assert_eq!(climb_path(only, 0, 1, &[]), Some(only));
        // the leaf layout
        use sha2::Digest;
        let expected: [u8; 32] = sha2::Sha256::new()
            .chain_update(b"nodeop-task-result-v1")
            .chain_update(12u64.to_be_bytes())
            .chain_update([2u8; 32])
            .finalize()
            .into();
        assert_eq!(result_leaf(12, &[2; 32]), expected);

        // tampering: a wrong sibling, hash, index, count, too few or too many hashes
        let mut v = view(2);
        v.path[0][0] ^= 1;
        let e = verify_result_path(&v).unwrap_err();
        assert!(e.0.contains("climbs to"), "{e}");
        let mut v = view(2);
        v.result_hash[0] ^= 1;
        assert!(verify_result_path(&v).unwrap_err().0.contains("leaf"));
        let mut v = view(2);
        v.leaf_index = 3;
        assert!(verify_result_path(&v).is_err());
        let mut v = view(4);
        v.leaf_count = 6;
        assert!(verify_result_path(&v).is_err());
        let mut v = view(0);
        v.path.pop();
        assert!(verify_result_path(&v).unwrap_err().0.contains("hashes"));
        let mut v = view(0);
        v.path.push([0; 32]);
        assert!(verify_result_path(&v).is_err());
        assert_eq!(climb_path(root, 5, 5, &[]), None);
        // result bytes must hash to the result hash
        let mut v = view(1);
        v.result = Some(b"x".to_vec());
        assert!(verify_result_path(&v).unwrap_err().0.contains("bytes"));
    }

    #[test]
    fn a_path_must_match_the_proven_record_and_root() {
        let (leaves, root) = five();
        let v = view(3);
        let record = ResultRecord {
            task_id: 13,
            result_hash: [3; 32],
            finalized_height: 40,
            leaf_index: 3,
            status: nodeop_app::modules::tasks::TaskStatus::Delivered,
        };
        let block = BlockResults {
            height: 40,
            root,
            task_ids: (10..15).collect(),
            leaves: leaves.clone(),
        };
        check_against_proven(&v, &record, &block).unwrap();
        // a node that answers with another root, even one its own path climbs to
        let mut other = block.clone();
        other.root = [0; 32];
        assert!(check_against_proven(&v, &record, &other).is_err());
        // another block, task, hash or index than the proven ones
        let mut b = block.clone();
        b.height = 41;
        assert!(check_against_proven(&v, &record, &b).is_err());
        let mut r = record.clone();
        r.task_id = 12;
        assert!(check_against_proven(&v, &r, &block).is_err());
        let mut r = record.clone();
        r.result_hash = [4; 32];
        assert!(check_against_proven(&v, &r, &block).is_err());
        let mut r = record.clone();
        r.leaf_index = 2;
        assert!(check_against_proven(&v, &r, &block).is_err());
        // the proven leaves must hold the answer's leaf
        let mut b = block.clone();
        b.leaves[3] = [9; 32];
        assert!(check_against_proven(&v, &record, &b).is_err());
    }

    #[test]
    fn task_listing_paths() {
        let a = member();
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

    #[test]
    fn bad_task_messages_are_refused_before_signing() {
        use crate::tx::build_tx;
        use nodeop_app::params::TxParams;
        let params = TxParams::default();
        let build = |msg: Msg| {
            build_tx("c", 0, vec![msg], None, "", &params)
                .map(|_| ())
                .map_err(|e| format!("{e:#}"))
        };
        let post = |edit: &dyn Fn(&mut MsgPostTask)| {
            let mut m = MsgPostTask {
                kind: TaskKind::Exact,
                consistency: Consistency::Eventual,
                payload: TaskPayload::Inline(b"p".to_vec()),
                difficulty_units: 1,
                min_reputation_ppm: 0,
                fee: 1,
            };
            edit(&mut m);
            build(Msg::PostTask(m))
        };
        assert!(post(&|_| ()).is_ok());
        let e = post(&|m| m.difficulty_units = 0).unwrap_err();
        assert!(
            e.contains("tasks.post: invalid_field: difficulty_units"),
            "{e}"
        );
        assert!(post(&|m| m.fee = 0).is_err());
        assert!(post(&|m| m.min_reputation_ppm = 1_000_001).is_err());
        assert!(post(&|m| m.payload = TaskPayload::Inline(Vec::new())).is_err());
        assert!(post(&|m| m.kind = TaskKind::Numeric {
            scale: 19,
            tolerance_ppm: 0
        })
        .is_err());
        assert!(post(&|m| m.payload = TaskPayload::Reference {
            sha256: [0; 32],
            uri: "has space".into()
        })
        .is_err());
        let e = build(confirm_msg(1, "")).unwrap_err();
        assert!(
            e.contains("tasks.confirm: invalid_field: target_ref"),
            "{e}"
        );
        assert!(build(confirm_msg(1, &"r".repeat(129))).is_err());
        assert!(build(confirm_msg(1, &"r".repeat(128))).is_ok());
    }

    /// A recorded one-validator devnet (`nodeop tx task post|commit|reveal` against nodeopd +
    /// cometbft) at height 145, header 146: task 2 is a Numeric task (scale 2) whose single
    /// member revealed -1.25, finalized at height 88 and then went undelivered; task 99 does not
    /// exist. `/tasks/result/2` is the node's unproven answer with the path.
    #[test]
    fn recorded_devnet_task_records_and_result_path_verify() {
        use crate::verify::{verify_query_answer, verify_signed_header};
        use tendermint_rpc::endpoint::{abci_query, commit, validators};
        let read = |text: &str| {
            serde_json::from_str::<abci_query::Response>(text)
                .unwrap()
                .response
        };
        let sh = serde_json::from_str::<commit::Response>(include_str!(
            "testdata/tasks_commit_146.json"
        ))
        .unwrap()
        .signed_header;
        let vals = serde_json::from_str::<validators::Response>(include_str!(
            "testdata/tasks_validators_146.json"
        ))
        .unwrap()
        .validators;
        let header = verify_signed_header(&sh, &vals, "nodeop-devnet", 146, None).unwrap();
        let app_hash = hex::decode(&header.app_hash).unwrap();

        let task_answer = read(include_str!("testdata/tasks_abci_query_task_2_145.json"));
        let t: Task = serde_json::from_value(
            verify_query_answer(&Record::Task(2), &task_answer, 145, &app_hash).unwrap(),
        )
        .unwrap();
        assert_eq!(t.status, TaskStatus::Undelivered);
        assert_eq!(
            t.kind,
            TaskKind::Numeric {
                scale: 2,
                tolerance_ppm: 1_000
            }
        );
        let fin = t.result.as_ref().unwrap();
        assert_eq!(result_text(&t.kind, &fin.result), "-1.25");
        assert_eq!(fin.finalized_height, 88);

        let record: ResultRecord = serde_json::from_value(
            verify_query_answer(
                &Record::ResultRecord(2),
                &read(include_str!(
                    "testdata/tasks_abci_query_result_record_2_145.json"
                )),
                145,
                &app_hash,
            )
            .unwrap(),
        )
        .unwrap();
        let block: BlockResults = serde_json::from_value(
            verify_query_answer(
                &Record::BlockResults(88),
                &read(include_str!(
                    "testdata/tasks_abci_query_block_results_88_145.json"
                )),
                145,
                &app_hash,
            )
            .unwrap(),
        )
        .unwrap();
        let path: ResultView = serde_json::from_slice(
            &read(include_str!("testdata/tasks_abci_query_result_2.json")).value,
        )
        .unwrap();
        check_against_proven(&path, &record, &block).unwrap();
        assert_eq!(record.result_hash, sha256(&[&fin.result]));

        // absent: a non-membership proof
        assert_eq!(
            verify_query_answer(
                &Record::Task(99),
                &read(include_str!("testdata/tasks_abci_query_task_99_145.json")),
                145,
                &app_hash
            )
            .unwrap(),
            serde_json::Value::Null
        );
        // the task's answer proves nothing about another task, nor against another root
        assert!(verify_query_answer(&Record::Task(1), &task_answer, 145, &app_hash).is_err());
        assert!(verify_query_answer(&Record::Task(2), &task_answer, 145, &[0; 32]).is_err());
        // a rendering that lies about the status
        let mut lying = task_answer.clone();
        lying.info = lying.info.replace("\"undelivered\"", "\"delivered\"");
        let e = verify_query_answer(&Record::Task(2), &lying, 145, &app_hash).unwrap_err();
        assert!(e.0.contains("status"), "{e}");
    }

    #[test]
    fn the_task_id_comes_from_the_posted_event() {
        let outcome = crate::node::outcome_with_event("task_posted", "task", "12");
        assert_eq!(posted_task_id(&outcome), Some(12));
        assert_eq!(fee_for(5, 1_000).unwrap(), 5_000);
        assert!(fee_for(u64::MAX, u128::MAX).is_err());
    }
}
