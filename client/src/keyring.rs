//! The keyring: one JSON file per key in `HOME/keyring/`, optionally passphrase-encrypted.
//!
//! File `HOME/keyring/NAME.json` (mode 0600, directory 0700), format `nodeop-keyring-v1`:
//!
//! ```json
//! {
//!   "format": "nodeop-keyring-v1",
//!   "name": "alice",
//!   "address": "nodeop1…",
//!   "pubkey": "02…",                       // compressed secp256k1, hex
//!   "kind": "mnemonic",                    // or "secret_key"
//!   "hd_path": "m/44'/118'/0'/0/0",        // mnemonic keys only
//!   "secret": { "scheme": "plain", "material": "word word …" }
//! }
//! ```
//!
//! `material` is the 24-word mnemonic (kind `mnemonic`) or the 32-byte secret key in hex (kind
//! `secret_key`). Encrypted keys (`--encrypt`) store instead
//!
//! ```json
//! "secret": { "scheme": "scrypt-xchacha20poly1305", "log_n": 17, "r": 8, "p": 1,
//!             "salt": "<32 bytes hex>", "nonce": "<24 bytes hex>", "ciphertext": "<hex>" }
//! ```
//!
//! The key is `scrypt(passphrase, salt, N = 2^log_n, r, p)` (32 bytes; default 2^17, 8, 1: 128 MiB
//! of memory per try), the cipher XChaCha20-Poly1305 with a random nonce, and the associated data
//! `"nodeop-keyring-v1" 0x00 kind 0x00 address`, so a ciphertext moved into another key's file does
//! not decrypt. A wrong passphrase fails the authentication tag and is reported as such. After
//! decryption the derived public key must equal the file's, so an edited file is detected too.
//!
//! The name of a key is its file name without `.json`; names match `[a-zA-Z0-9_-]{1,64}`.

use std::fs::{self, DirBuilder, OpenOptions};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use nodeop_app::crypto::Address;
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::files::read_bounded;
use crate::keys::{normalize_mnemonic, KeyPair, HD_PATH};

pub const KEYRING_DIR: &str = "keyring";
pub const FORMAT: &str = "nodeop-keyring-v1";
pub const SCHEME_PLAIN: &str = "plain";
pub const SCHEME_ENCRYPTED: &str = "scrypt-xchacha20poly1305";
/// Shortest passphrase accepted for encrypting a new key.
pub const MIN_PASSPHRASE_LEN: usize = 8;
/// Key files are small; anything larger is not one of ours.
const MAX_FILE_BYTES: u64 = 64 * 1024;

/// scrypt cost. The default is scrypt's recommended 2^17, r = 8, p = 1 (128 MiB, ≈0.3 s).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScryptCost {
    pub log_n: u8,
    pub r: u32,
    pub p: u32,
}

impl Default for ScryptCost {
    fn default() -> Self {
        Self {
            log_n: 17,
            r: 8,
            p: 1,
        }
    }
}

impl ScryptCost {
    /// Refuses parameters that are too weak to protect a key, or so large that reading a
    /// crafted file would exhaust memory.
    fn check(&self) -> Result<()> {
        if !(14..=22).contains(&self.log_n)
            || !(1..=32).contains(&self.r)
            || !(1..=16).contains(&self.p)
        {
            bail!(
                "unsupported scrypt parameters log_n={} r={} p={} (accepted: log_n 14..=22, r 1..=32, p 1..=16)",
                self.log_n,
                self.r,
                self.p
            );
        }
        Ok(())
    }
}

/// What a key is made from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyKind {
    /// A 24-word BIP-39 mnemonic, derived at [`HD_PATH`].
    Mnemonic,
    /// A raw 32-byte secret key (dev keys).
    SecretKey,
}

impl KeyKind {
    fn as_str(&self) -> &'static str {
        match self {
            KeyKind::Mnemonic => "mnemonic",
            KeyKind::SecretKey => "secret_key",
        }
    }
}

/// The secret to store for a new key.
pub enum KeySecret {
    Mnemonic(Zeroizing<String>),
    SecretKey(Zeroizing<[u8; 32]>),
}

impl KeySecret {
    pub fn mnemonic(phrase: &str) -> Self {
        KeySecret::Mnemonic(normalize_mnemonic(phrase))
    }

    pub fn kind(&self) -> KeyKind {
        match self {
            KeySecret::Mnemonic(_) => KeyKind::Mnemonic,
            KeySecret::SecretKey(_) => KeyKind::SecretKey,
        }
    }

    pub fn key_pair(&self) -> Result<KeyPair> {
        match self {
            KeySecret::Mnemonic(m) => KeyPair::from_mnemonic(m),
            KeySecret::SecretKey(s) => KeyPair::from_secret_bytes(s.as_slice()),
        }
    }

    fn material(&self) -> Zeroizing<String> {
        match self {
            KeySecret::Mnemonic(m) => m.clone(),
            KeySecret::SecretKey(s) => Zeroizing::new(hex::encode(s.as_slice())),
        }
    }

    fn from_material(kind: KeyKind, material: &str) -> Result<Self> {
        Ok(match kind {
            KeyKind::Mnemonic => KeySecret::mnemonic(material),
            KeyKind::SecretKey => {
                let bytes = Zeroizing::new(
                    hex::decode(material.trim())
                        .map_err(|_| anyhow!("stored secret key is not hex"))?,
                );
                let arr: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
                    anyhow!("stored secret key is {} bytes, expected 32", bytes.len())
                })?;
                KeySecret::SecretKey(Zeroizing::new(arr))
            }
        })
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    format: String,
    name: String,
    address: String,
    pubkey: String,
    kind: KeyKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    hd_path: Option<String>,
    secret: StoredSecret,
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "scheme", deny_unknown_fields)]
enum StoredSecret {
    #[serde(rename = "plain")]
    Plain { material: String },
    #[serde(rename = "scrypt-xchacha20poly1305")]
    Encrypted {
        log_n: u8,
        r: u32,
        p: u32,
        salt: String,
        nonce: String,
        ciphertext: String,
    },
}

impl Drop for StoredSecret {
    fn drop(&mut self) {
        if let StoredSecret::Plain { material } = self {
            zeroize::Zeroize::zeroize(material);
        }
    }
}

/// The public facts about a stored key (no secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KeyInfo {
    pub name: String,
    pub address: Address,
    #[serde(serialize_with = "crate::hex_bytes")]
    pub pubkey: [u8; 33],
    pub kind: KeyKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hd_path: Option<String>,
    pub encrypted: bool,
    pub file: PathBuf,
}

/// A keyring directory.
#[derive(Clone, Debug)]
pub struct Keyring {
    dir: PathBuf,
    cost: ScryptCost,
}

/// Checks a key name: `[a-zA-Z0-9_-]{1,64}`.
pub fn validate_name(name: &str) -> Result<()> {
    let ok = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !ok {
        bail!(
            "invalid key name {:?}: use 1 to 64 of the characters a-z A-Z 0-9 _ -",
            name.chars().take(80).collect::<String>()
        );
    }
    Ok(())
}

fn aad(kind: KeyKind, address: &Address) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(FORMAT.as_bytes());
    v.push(0);
    v.extend_from_slice(kind.as_str().as_bytes());
    v.push(0);
    v.extend_from_slice(address.to_bech32().as_bytes());
    v
}

fn scrypt_key(passphrase: &str, salt: &[u8], cost: ScryptCost) -> Result<Zeroizing<[u8; 32]>> {
    cost.check()?;
    let params = scrypt::Params::new(cost.log_n, cost.r, cost.p, 32)
        .map_err(|e| anyhow!("scrypt parameters: {e}"))?;
    let mut key = Zeroizing::new([0u8; 32]);
    scrypt::scrypt(passphrase.as_bytes(), salt, &params, key.as_mut_slice())
        .map_err(|e| anyhow!("scrypt: {e}"))?;
    Ok(key)
}

fn encrypt(
    material: &str,
    passphrase: &str,
    kind: KeyKind,
    address: &Address,
    cost: ScryptCost,
) -> Result<StoredSecret> {
    let mut salt = [0u8; 32];
    OsRng.fill_bytes(&mut salt);
    let mut nonce = [0u8; 24];
    OsRng.fill_bytes(&mut nonce);
    let key = scrypt_key(passphrase, &salt, cost)?;
    let cipher = XChaCha20Poly1305::new(key.as_slice().into());
    let ciphertext = cipher
        .encrypt(
            &XNonce::from(nonce),
            Payload {
                msg: material.as_bytes(),
                aad: &aad(kind, address),
            },
        )
        .map_err(|_| anyhow!("encryption failed"))?;
    Ok(StoredSecret::Encrypted {
        log_n: cost.log_n,
        r: cost.r,
        p: cost.p,
        salt: hex::encode(salt),
        nonce: hex::encode(nonce),
        ciphertext: hex::encode(ciphertext),
    })
}

/// Reads a passphrase from a file (its first line, without the line break).
pub fn read_passphrase_file(path: &Path) -> Result<Zeroizing<String>> {
    let content = Zeroizing::new(
        fs::read_to_string(path)
            .with_context(|| format!("reading passphrase file {}", path.display()))?,
    );
    let line = content.lines().next().unwrap_or("");
    Ok(Zeroizing::new(line.to_string()))
}

impl Keyring {
    /// The keyring under `home` (`home/keyring`), created with mode 0700 if missing.
    pub fn open(home: &Path) -> Result<Self> {
        Self::open_dir(&home.join(KEYRING_DIR))
    }

    /// A keyring directory, created with mode 0700 if missing (a group- or world-accessible
    /// existing directory is tightened to 0700).
    pub fn open_dir(dir: &Path) -> Result<Self> {
        if !dir.exists() {
            DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .with_context(|| format!("creating keyring directory {}", dir.display()))?;
        }
        let meta = fs::metadata(dir)
            .with_context(|| format!("reading keyring directory {}", dir.display()))?;
        if !meta.is_dir() {
            bail!("{} is not a directory", dir.display());
        }
        if meta.permissions().mode() & 0o077 != 0 {
            fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
                .with_context(|| format!("restricting {} to mode 0700", dir.display()))?;
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            cost: ScryptCost::default(),
        })
    }

    /// The scrypt cost used for keys encrypted from now on (tests lower it).
    pub fn with_scrypt_cost(mut self, cost: ScryptCost) -> Result<Self> {
        cost.check()?;
        self.cost = cost;
        Ok(self)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn file_of(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.json"))
    }

    /// Stores a new key under `name`, encrypted if a passphrase is given. Refuses to overwrite
    /// a key, or to store a second copy of an address under another name.
    pub fn add(&self, name: &str, secret: &KeySecret, passphrase: Option<&str>) -> Result<KeyInfo> {
        validate_name(name)?;
        let pair = secret.key_pair()?;
        let file = self.file_of(name);
        if file.exists() {
            bail!(
                "a key named {name:?} already exists ({}); delete it first or choose another name",
                file.display()
            );
        }
        let (existing, _) = self.list()?;
        if let Some(other) = existing.iter().find(|k| k.address == pair.address()) {
            bail!(
                "this key is already in the keyring as {:?} ({})",
                other.name,
                other.address
            );
        }
        let kind = secret.kind();
        let material = secret.material();
        let stored = match passphrase {
            None => StoredSecret::Plain {
                material: material.to_string(),
            },
            Some(p) => {
                if p.chars().count() < MIN_PASSPHRASE_LEN {
                    bail!(
                        "the passphrase is too short: use at least {MIN_PASSPHRASE_LEN} characters"
                    );
                }
                encrypt(&material, p, kind, &pair.address(), self.cost)?
            }
        };
        let key_file = KeyFile {
            format: FORMAT.into(),
            name: name.into(),
            address: pair.address().to_bech32(),
            pubkey: hex::encode(pair.pubkey()),
            kind,
            hd_path: (kind == KeyKind::Mnemonic).then(|| HD_PATH.to_string()),
            secret: stored,
        };
        let json = Zeroizing::new(
            serde_json::to_string_pretty(&key_file).context("encoding the key file")?,
        );
        self.write_new(&file, json.as_bytes())?;
        Ok(KeyInfo {
            name: name.into(),
            address: pair.address(),
            pubkey: pair.pubkey(),
            kind,
            hd_path: key_file.hd_path.clone(),
            encrypted: passphrase.is_some(),
            file,
        })
    }

    /// Writes `bytes` to a new file with mode 0600, atomically and without replacing one.
    fn write_new(&self, file: &Path, bytes: &[u8]) -> Result<()> {
        let tmp = self.dir.join(format!(
            ".{}.tmp-{}",
            file.file_name().and_then(|n| n.to_str()).unwrap_or("key"),
            std::process::id()
        ));
        let _ = fs::remove_file(&tmp);
        let result = (|| -> Result<()> {
            let mut f = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&tmp)
                .with_context(|| format!("creating {}", tmp.display()))?;
            f.write_all(bytes)
                .with_context(|| format!("writing {}", tmp.display()))?;
            f.sync_all()
                .with_context(|| format!("syncing {}", tmp.display()))?;
            // hard_link fails if the target exists: no key is ever silently replaced.
            fs::hard_link(&tmp, file).map_err(|e| {
                if e.kind() == ErrorKind::AlreadyExists {
                    anyhow!("{} already exists", file.display())
                } else {
                    anyhow!("creating {}: {e}", file.display())
                }
            })?;
            Ok(())
        })();
        let _ = fs::remove_file(&tmp);
        result?;
        if let Ok(d) = fs::File::open(&self.dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }

    fn read_file(&self, name: &str) -> Result<(KeyFile, KeyInfo)> {
        validate_name(name)?;
        let file = self.file_of(name);
        let f = match fs::File::open(&file) {
            Ok(f) => f,
            Err(e) if e.kind() == ErrorKind::NotFound => {
                bail!(
                    "no key named {name:?} in {} (see `nodeop keys list`)",
                    self.dir.display()
                )
            }
            Err(e) => return Err(e).with_context(|| format!("opening {}", file.display())),
        };
        let text = read_bounded(f, &file, MAX_FILE_BYTES, "a key file can be")?;
        let kf: KeyFile = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a nodeop key file", file.display()))?;
        if kf.format != FORMAT {
            bail!(
                "{}: format {:?} is not supported (expected {FORMAT:?})",
                file.display(),
                kf.format
            );
        }
        let address = Address::parse(&kf.address)
            .map_err(|e| anyhow!("{}: address {:?}: {e}", file.display(), kf.address))?;
        let pubkey: [u8; 33] = hex::decode(&kf.pubkey)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| anyhow!("{}: pubkey is not 33 bytes of hex", file.display()))?;
        if Address::from_pubkey(&pubkey) != address {
            bail!(
                "{}: the address does not belong to the pubkey (the file was altered)",
                file.display()
            );
        }
        let info = KeyInfo {
            name: name.to_string(),
            address,
            pubkey,
            kind: kf.kind,
            hd_path: kf.hd_path.clone(),
            encrypted: matches!(kf.secret, StoredSecret::Encrypted { .. }),
            file,
        };
        Ok((kf, info))
    }

    /// The public facts of one key.
    pub fn get(&self, name: &str) -> Result<KeyInfo> {
        self.read_file(name).map(|(_, info)| info)
    }

    /// Every key in name order, plus a description of each file that could not be read.
    pub fn list(&self) -> Result<(Vec<KeyInfo>, Vec<String>)> {
        let mut names = Vec::new();
        for entry in
            fs::read_dir(&self.dir).with_context(|| format!("listing {}", self.dir.display()))?
        {
            let entry = entry.with_context(|| format!("listing {}", self.dir.display()))?;
            let file_name = entry.file_name();
            let Some(file_name) = file_name.to_str() else {
                continue;
            };
            if let Some(name) = file_name.strip_suffix(".json") {
                if validate_name(name).is_ok() {
                    names.push(name.to_string());
                }
            }
        }
        names.sort();
        let mut keys = Vec::new();
        let mut problems = Vec::new();
        for name in names {
            match self.get(&name) {
                Ok(info) => keys.push(info),
                Err(e) => problems.push(format!("{e:#}")),
            }
        }
        Ok((keys, problems))
    }

    /// A key by name, or by the address of a key in the keyring.
    pub fn find(&self, name_or_address: &str) -> Result<KeyInfo> {
        if let Ok(address) = Address::parse(name_or_address) {
            let (keys, _) = self.list()?;
            return keys
                .into_iter()
                .find(|k| k.address == address)
                .ok_or_else(|| {
                    anyhow!("no key in {} has the address {address}", self.dir.display())
                });
        }
        self.get(name_or_address)
    }

    /// Deletes a key file; returns what it held.
    pub fn delete(&self, name: &str) -> Result<KeyInfo> {
        let info = self.get(name)?;
        fs::remove_file(&info.file).with_context(|| format!("deleting {}", info.file.display()))?;
        Ok(info)
    }

    /// The stored secret of a key (decrypted with `passphrase` if the key is encrypted).
    pub fn load_secret(
        &self,
        name: &str,
        passphrase: Option<&str>,
    ) -> Result<(KeySecret, KeyInfo)> {
        let (kf, info) = self.read_file(name)?;
        let mode = fs::metadata(&info.file)
            .with_context(|| format!("reading {}", info.file.display()))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            bail!(
                "refusing to use {}: its mode {:o} lets other users read it; run `chmod 600 {}`",
                info.file.display(),
                mode & 0o777,
                info.file.display()
            );
        }
        let material = match &kf.secret {
            StoredSecret::Plain { material } => Zeroizing::new(material.clone()),
            StoredSecret::Encrypted {
                log_n,
                r,
                p,
                salt,
                nonce,
                ciphertext,
            } => {
                let Some(passphrase) = passphrase else {
                    bail!(
                        "key {name:?} is encrypted: give its passphrase in the environment variable NODEOP_KEYRING_PASSPHRASE or with --passphrase-file"
                    );
                };
                let bad = |what: &str| anyhow!("{}: {what} is malformed", info.file.display());
                let salt = hex::decode(salt).map_err(|_| bad("salt"))?;
                let nonce: [u8; 24] = hex::decode(nonce)
                    .ok()
                    .and_then(|n| n.try_into().ok())
                    .ok_or_else(|| bad("nonce"))?;
                let ciphertext = hex::decode(ciphertext).map_err(|_| bad("ciphertext"))?;
                let key = scrypt_key(
                    passphrase,
                    &salt,
                    ScryptCost {
                        log_n: *log_n,
                        r: *r,
                        p: *p,
                    },
                )
                .with_context(|| format!("{}", info.file.display()))?;
                let cipher = XChaCha20Poly1305::new(key.as_slice().into());
                let plain = cipher
                    .decrypt(
                        &XNonce::from(nonce),
                        Payload {
                            msg: &ciphertext,
                            aad: &aad(info.kind, &info.address),
                        },
                    )
                    .map(Zeroizing::new)
                    .map_err(|_| {
                        anyhow!("wrong passphrase for key {name:?} (or its file was altered)")
                    })?;
                Zeroizing::new(
                    String::from_utf8(plain.to_vec()).map_err(|_| bad("decrypted secret"))?,
                )
            }
        };
        let secret = KeySecret::from_material(info.kind, &material)
            .with_context(|| format!("{}", info.file.display()))?;
        let pair = secret
            .key_pair()
            .with_context(|| format!("{}", info.file.display()))?;
        if pair.pubkey() != info.pubkey {
            bail!(
                "{}: the stored secret does not give the stored pubkey (the file was altered)",
                info.file.display()
            );
        }
        Ok((secret, info))
    }

    /// The signing key of `name` (decrypted with `passphrase` if the key is encrypted).
    pub fn load_key(&self, name: &str, passphrase: Option<&str>) -> Result<KeyPair> {
        let (secret, _) = self.load_secret(name, passphrase)?;
        secret.key_pair()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MNEMONIC: &str = "economy stock theory fatal elder harbor betray wasp final emotion task crumble siren bottom lizard educate guess current outdoor pair theory focus wife stone";

    fn mode(p: &Path) -> u32 {
        fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn plain_keys_round_trip_with_private_permissions() {
        let home = tempfile::tempdir().unwrap();
        let ring = Keyring::open(home.path()).unwrap();
        assert_eq!(mode(ring.dir()), 0o700);
        let info = ring
            .add("alice", &KeySecret::mnemonic(MNEMONIC), None)
            .unwrap();
        assert!(!info.encrypted);
        assert_eq!(
            info.address.to_bech32(),
            "nodeop1pkptre7fdkl6gfrzlesjjvhxhlc3r4gm4gav02"
        );
        assert_eq!(mode(&info.file), 0o600);
        let text = fs::read_to_string(&info.file).unwrap();
        assert!(text.contains("\"scheme\": \"plain\""));

        let loaded = ring.load_key("alice", None).unwrap();
        assert_eq!(loaded.address(), info.address);
        assert_eq!(ring.find(&info.address.to_bech32()).unwrap().name, "alice");
        assert_eq!(ring.get("alice").unwrap(), info);

        let dev = KeyPair::from_secret_hex(&"42".repeat(32)).unwrap();
        let dev_info = ring
            .add("dev-1", &KeySecret::SecretKey(dev.secret_bytes()), None)
            .unwrap();
        assert_eq!(dev_info.kind, KeyKind::SecretKey);
        assert_eq!(ring.load_key("dev-1", None).unwrap().pubkey(), dev.pubkey());

        let (keys, problems) = ring.list().unwrap();
        assert_eq!(
            keys.iter().map(|k| k.name.as_str()).collect::<Vec<_>>(),
            ["alice", "dev-1"]
        );
        assert!(problems.is_empty());

        // no overwrite, no duplicate address, no bad names
        assert!(ring
            .add("alice", &KeySecret::mnemonic(MNEMONIC), None)
            .is_err());
        assert!(ring
            .add("alice2", &KeySecret::mnemonic(MNEMONIC), None)
            .is_err());
        for bad in ["", "a/b", "../x", "a b", "ä", &"x".repeat(65)] {
            assert!(
                ring.add(bad, &KeySecret::mnemonic(MNEMONIC), None).is_err(),
                "{bad:?}"
            );
        }

        // loose permissions are refused
        fs::set_permissions(&info.file, fs::Permissions::from_mode(0o644)).unwrap();
        let err = ring.load_key("alice", None).unwrap_err().to_string();
        assert!(err.contains("chmod 600"), "{err}");
        fs::set_permissions(&info.file, fs::Permissions::from_mode(0o600)).unwrap();

        ring.delete("alice").unwrap();
        assert!(!info.file.exists());
        assert!(ring
            .get("alice")
            .unwrap_err()
            .to_string()
            .contains("no key named"));
        assert!(ring.delete("alice").is_err());
    }

    #[test]
    fn encrypted_keys_need_the_right_passphrase() {
        let home = tempfile::tempdir().unwrap();
        // the default (production) cost, once
        let ring = Keyring::open(home.path()).unwrap();
        let info = ring
            .add(
                "bob",
                &KeySecret::mnemonic(MNEMONIC),
                Some("correct horse battery"),
            )
            .unwrap();
        assert!(info.encrypted);
        assert_eq!(mode(&info.file), 0o600);
        let text = fs::read_to_string(&info.file).unwrap();
        assert!(
            !text.contains("economy"),
            "the mnemonic leaked into the file"
        );
        assert!(text.contains(SCHEME_ENCRYPTED) && text.contains("\"log_n\": 17"));

        let key = ring.load_key("bob", Some("correct horse battery")).unwrap();
        assert_eq!(key.address(), info.address);
        let wrong = ring
            .load_key("bob", Some("wrong horse battery"))
            .unwrap_err()
            .to_string();
        assert!(wrong.contains("wrong passphrase"), "{wrong}");
        let missing = ring.load_key("bob", None).unwrap_err().to_string();
        assert!(missing.contains("NODEOP_KEYRING_PASSPHRASE"), "{missing}");
        // the public facts need no passphrase
        assert_eq!(ring.get("bob").unwrap().address, info.address);
        assert!(ring
            .add(
                "carol",
                &KeySecret::SecretKey(Zeroizing::new([7u8; 32])),
                Some("short")
            )
            .is_err());
    }

    #[test]
    fn altered_key_files_are_detected() {
        let home = tempfile::tempdir().unwrap();
        let ring = Keyring::open(home.path())
            .unwrap()
            .with_scrypt_cost(ScryptCost {
                log_n: 14,
                r: 8,
                p: 1,
            })
            .unwrap();
        let a = ring
            .add(
                "a",
                &KeySecret::SecretKey(Zeroizing::new([1u8; 32])),
                Some("passphrase-a"),
            )
            .unwrap();
        let b = ring
            .add(
                "b",
                &KeySecret::SecretKey(Zeroizing::new([2u8; 32])),
                Some("passphrase-a"),
            )
            .unwrap();
        // move a's ciphertext into b's file: the associated data (kind, address) no longer match
        let a_json: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(&a.file).unwrap()).unwrap();
        let mut b_json: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(&b.file).unwrap()).unwrap();
        b_json["secret"] = a_json["secret"].clone();
        fs::write(&b.file, serde_json::to_string(&b_json).unwrap()).unwrap();
        assert!(ring.load_key("b", Some("passphrase-a")).is_err());
        // a plain file whose secret does not match its pubkey
        let c = ring
            .add("c", &KeySecret::SecretKey(Zeroizing::new([3u8; 32])), None)
            .unwrap();
        let text = fs::read_to_string(&c.file)
            .unwrap()
            .replace(&"03".repeat(32), &"04".repeat(32));
        fs::write(&c.file, text).unwrap();
        let err = ring.load_key("c", None).unwrap_err().to_string();
        assert!(err.contains("altered"), "{err}");
        // junk in the directory is reported, not fatal
        fs::write(ring.file_of("junk"), "{").unwrap();
        let (keys, problems) = ring.list().unwrap();
        assert_eq!(keys.len(), 3);
        assert_eq!(problems.len(), 1);
        // absurd scrypt parameters in a file are refused before any work
        let mut a_json = a_json;
        a_json["secret"]["log_n"] = serde_json::json!(40);
        fs::write(&a.file, serde_json::to_string(&a_json).unwrap()).unwrap();
        let err = format!(
            "{:#}",
            ring.load_key("a", Some("passphrase-a")).unwrap_err()
        );
        assert!(err.contains("unsupported scrypt"), "{err}");
    }
}
