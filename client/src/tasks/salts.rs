//! The salt store of commit–reveal.
//!
//! A member commits to `SHA-256(task_id BE ‖ member address ‖ result ‖ salt)` and reveals
//! `result` and `salt` in the next window. The salt is 32 random bytes; losing it makes the
//! reveal impossible (a missed duty), so [`super::commit_result`] writes it to the [`SaltStore`]
//! **before** anything is broadcast, and [`super::reveal_result`] reads it back:
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

use std::fs::{self, DirBuilder, OpenOptions};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use nodeop_app::crypto::Address;
use nodeop_app::modules::tasks::msg::commitment;
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};

use crate::error::ClientError;
use crate::files::read_bounded;

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
}

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

    /// The stored entry, a [`ClientError::NoStoredSalt`] error if there is none; an entry that does not
    /// belong to this file or whose commitment does not recompute is refused.
    pub fn load(&self, chain_id: &str, task_id: u64, member: &Address) -> Result<StoredSalt> {
        self.find(chain_id, task_id, member)?.ok_or_else(|| {
            ClientError::NoStoredSalt {
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
        let text = read_bounded(f, &path, MAX_SALT_FILE_BYTES, "a salt file can be")?;
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
    /// `replace` is set); a [`ClientError::SaltConflict`] when another result is stored. Nothing is written.
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
            Some(existing) if !replace => Err(ClientError::SaltConflict {
                task_id,
                stored_result: existing.result,
                path: self.path(chain_id, task_id, member)?,
            }
            .into()),
            _ => Ok(StoredSalt::new(chain_id, task_id, member, result)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::KeyPair;
    use nodeop_app::tx::Msg;

    fn member() -> Address {
        KeyPair::from_secret_hex(&"55".repeat(32))
            .unwrap()
            .address()
    }

    #[test]
    fn the_commitment_binds_task_member_result_and_salt() {
        let m = member();
        let salt = [9u8; 32];
        let Msg::CommitResult(c) = Msg::commit_result(7, &m, b"42", &salt) else {
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
        assert_eq!(entry.commitment, c.commitment);
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
        assert!(
            matches!(
                ClientError::find(&e),
                Some(ClientError::SaltConflict { .. })
            ),
            "{e}"
        );
        let replaced = store
            .prepare("nodeop-devnet", 7, &m, b"other", true)
            .unwrap();
        assert_ne!(replaced.salt, entry.salt);
        store.save(&replaced).unwrap();
        assert_eq!(store.load("nodeop-devnet", 7, &m).unwrap(), replaced);
        // other tasks, members and chains are separate
        let e = store.load("nodeop-devnet", 8, &m).unwrap_err();
        let Some(ClientError::NoStoredSalt { task_id, .. }) = ClientError::find(&e) else {
            panic!("not NoStoredSalt: {e}");
        };
        assert_eq!(task_id, 8);
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
}
