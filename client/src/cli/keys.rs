//! `nodeop keys …`: the keyring under HOME/keyring (add, import, list, show, delete).

use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use nodeop_client::keyring::{KeyInfo, KeyKind, KeySecret};
use nodeop_client::keys::{generate_mnemonic, KeyPair};
use serde_json::json;
use zeroize::Zeroizing;

use super::{Ctx, PASSPHRASE_ENV};

#[derive(Subcommand)]
pub(crate) enum KeysCmd {
    /// Create a key from a new 24-word mnemonic; prints the address and the mnemonic once.
    Add {
        name: String,
        /// Encrypt the stored mnemonic with a passphrase (scrypt + XChaCha20-Poly1305).
        #[arg(long)]
        encrypt: bool,
    },
    /// Import a key from a 24-word mnemonic (stdin or --mnemonic-file) or a hex secret key.
    Import {
        name: String,
        /// Read the mnemonic from this file instead of stdin.
        #[arg(long, conflicts_with = "secret_hex")]
        mnemonic_file: Option<PathBuf>,
        /// Import a raw 32-byte secret key given as 64 hex digits (dev keys); `-` reads it from stdin.
        #[arg(long, value_name = "HEX")]
        secret_hex: Option<String>,
        /// Encrypt the stored secret with a passphrase.
        #[arg(long)]
        encrypt: bool,
    },
    /// List the keys.
    List,
    /// Show a key's address and public key (by name or address).
    Show {
        name: String,
        /// Print only the address.
        #[arg(long)]
        address: bool,
    },
    /// Delete a key file.
    Delete {
        name: String,
        /// Do not ask for confirmation (required when stdin is not a terminal).
        #[arg(long, short = 'y')]
        yes: bool,
    },
}

pub(crate) fn key_json(k: &KeyInfo) -> serde_json::Value {
    serde_json::to_value(k).unwrap_or_default()
}

pub(crate) fn key_text(k: &KeyInfo) -> String {
    format!(
        "name:      {}\naddress:   {}\npubkey:    {}\nkind:      {}{}\nencrypted: {}\nfile:      {}",
        k.name,
        k.address,
        hex::encode(k.pubkey),
        match k.kind {
            KeyKind::Mnemonic => "mnemonic",
            KeyKind::SecretKey => "secret key",
        },
        k.hd_path.as_deref().map(|p| format!(" ({p})")).unwrap_or_default(),
        if k.encrypted { "yes" } else { "no" },
        k.file.display()
    )
}

pub(crate) fn storage_note(k: &KeyInfo) -> String {
    let what = match k.kind {
        KeyKind::Mnemonic => "mnemonic",
        KeyKind::SecretKey => "secret key",
    };
    if k.encrypted {
        format!("the {what} is stored in {}, encrypted with your passphrase (scrypt + XChaCha20-Poly1305)", k.file.display())
    } else {
        format!(
            "the {what} is stored in {} in plain text, protected only by the file's mode 0600 (use --encrypt to encrypt it)",
            k.file.display()
        )
    }
}

pub(crate) fn passphrase_for_new_key(
    ctx: &Ctx,
    encrypt: bool,
) -> Result<Option<Zeroizing<String>>> {
    if !encrypt {
        return Ok(None);
    }
    match ctx.passphrase()? {
        Some(p) => Ok(Some(p)),
        None => bail!(
            "--encrypt needs a passphrase: set {PASSPHRASE_ENV} or pass --passphrase-file FILE"
        ),
    }
}

pub(crate) fn read_stdin_secret(what: &str) -> Result<Zeroizing<String>> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("enter the {what} and press Enter (it is shown as you type): ");
        let _ = std::io::stderr().flush();
        let mut line = Zeroizing::new(String::new());
        stdin.read_line(&mut line).context("reading stdin")?;
        return Ok(line);
    }
    let mut s = Zeroizing::new(String::new());
    stdin
        .lock()
        .take(64 * 1024)
        .read_to_string(&mut s)
        .context("reading stdin")?;
    Ok(s)
}

pub(crate) fn keys(ctx: &Ctx, cmd: KeysCmd) -> Result<()> {
    match cmd {
        KeysCmd::Add { name, encrypt } => {
            nodeop_client::keyring::validate_name(&name)?;
            let passphrase = passphrase_for_new_key(ctx, encrypt)?;
            let ring = ctx.keyring()?;
            let mnemonic = generate_mnemonic();
            let info = ring.add(
                &name,
                &KeySecret::mnemonic(mnemonic.phrase()),
                passphrase.as_deref().map(|s| s.as_str()),
            )?;
            let note = storage_note(&info);
            let mut value = key_json(&info);
            value["mnemonic"] = json!(mnemonic.phrase());
            value["note"] = json!(format!("{note}; the mnemonic is printed only this once: write it down, it is the only backup"));
            ctx.emit(value, || {
                format!(
                    "created key {name:?}\n{}\n\nmnemonic (24 words; shown only this once: write it down, it is the only backup):\n\n{}\n\nnote: {note}.",
                    key_text(&info),
                    mnemonic.phrase()
                )
            });
            Ok(())
        }
        KeysCmd::Import {
            name,
            mnemonic_file,
            secret_hex,
            encrypt,
        } => {
            nodeop_client::keyring::validate_name(&name)?;
            let passphrase = passphrase_for_new_key(ctx, encrypt)?;
            let secret = match secret_hex {
                Some(h) => {
                    let h = if h == "-" {
                        read_stdin_secret("secret key (hex)")?
                    } else {
                        Zeroizing::new(h)
                    };
                    let pair = KeyPair::from_secret_hex(&h)?;
                    KeySecret::SecretKey(pair.secret_bytes())
                }
                None => {
                    let phrase = match mnemonic_file {
                        Some(f) => Zeroizing::new(
                            std::fs::read_to_string(&f)
                                .with_context(|| format!("reading {}", f.display()))?,
                        ),
                        None => read_stdin_secret("24-word mnemonic")?,
                    };
                    KeyPair::from_mnemonic(&phrase)?;
                    KeySecret::mnemonic(&phrase)
                }
            };
            let ring = ctx.keyring()?;
            let info = ring.add(&name, &secret, passphrase.as_deref().map(|s| s.as_str()))?;
            let note = storage_note(&info);
            let mut value = key_json(&info);
            value["note"] = json!(note);
            ctx.emit(value, || {
                format!("imported key {name:?}\n{}\nnote: {note}.", key_text(&info))
            });
            Ok(())
        }
        KeysCmd::List => {
            let ring = ctx.keyring()?;
            let (keys, problems) = ring.list()?;
            for p in &problems {
                eprintln!("warning: {p}");
            }
            ctx.emit(json!({ "keys": keys, "problems": problems }), || {
                if keys.is_empty() {
                    return format!("no keys in {}", ring.dir().display());
                }
                let width = keys.iter().map(|k| k.name.len()).max().unwrap_or(4).max(4);
                let mut out = format!(
                    "{:width$}  {:45}  {:10}  ENCRYPTED",
                    "NAME", "ADDRESS", "KIND"
                );
                for k in &keys {
                    let kind = match k.kind {
                        KeyKind::Mnemonic => "mnemonic",
                        KeyKind::SecretKey => "secret-key",
                    };
                    out.push_str(&format!(
                        "\n{:width$}  {:45}  {:10}  {}",
                        k.name,
                        k.address.to_bech32(),
                        kind,
                        if k.encrypted { "yes" } else { "no" }
                    ));
                }
                out
            });
            Ok(())
        }
        KeysCmd::Show { name, address } => {
            let info = ctx.keyring()?.find(&name)?;
            if address {
                ctx.emit(json!({ "address": info.address }), || {
                    info.address.to_bech32()
                });
            } else {
                ctx.emit(key_json(&info), || key_text(&info));
            }
            Ok(())
        }
        KeysCmd::Delete { name, yes } => {
            let ring = ctx.keyring()?;
            let info = ring.get(&name)?;
            if !yes {
                let stdin = std::io::stdin();
                if !stdin.is_terminal() {
                    bail!("deleting a key cannot be undone; pass --yes to confirm");
                }
                eprint!(
                    "delete key {:?} ({})? Without its mnemonic the key is lost. Type the name to confirm: ",
                    info.name, info.address
                );
                let _ = std::io::stderr().flush();
                let mut line = String::new();
                stdin
                    .read_line(&mut line)
                    .context("reading the confirmation")?;
                if line.trim() != info.name {
                    bail!("not confirmed; nothing deleted");
                }
            }
            let info = ring.delete(&name)?;
            ctx.emit(json!({ "deleted": key_json(&info) }), || {
                format!("deleted key {:?} ({})", info.name, info.address)
            });
            Ok(())
        }
    }
}
