//! Proven and unproven reads on the command line: `--height`/`--prove` flags, the anchor a proof
//! is checked against, and how records, listings and verified answers are printed.

use std::time::Duration;

use anyhow::{anyhow, Context, Result};
use clap::Args;
use nodeop_client::verify::{parse_hash, query_verified, Record, VerifiedRecord};
use serde_json::json;

use super::Ctx;

#[derive(Args, Clone)]
pub(crate) struct ProveArgs {
    /// State height to read (default: latest).
    #[arg(long)]
    pub(crate) height: Option<u64>,
    /// Verify: ICS23 proof to the app hash, light-client check of header height+1.
    #[arg(long)]
    pub(crate) prove: bool,
    /// Pin the validator-set hash (hex) that must have signed header height+1.
    #[arg(long, value_name = "HEX", requires = "prove")]
    pub(crate) trusted_validators_hash: Option<String>,
    /// Seconds to wait for block height+1 when proving at the latest height.
    #[arg(long, default_value_t = 30)]
    pub(crate) timeout: u64,
}

pub(crate) fn verified_text(v: &VerifiedRecord, summary: &str) -> String {
    let h = &v.header;
    let trust = if h.validators_pinned {
        "trusted: pinned by --trusted-validators-hash".to_string()
    } else {
        "trusted: the set the node reported at height ".to_string()
            + &h.height.to_string()
            + ", checked against the header and the signatures only; pass --trusted-validators-hash to pin it"
    };
    format!(
        "verified: {} = {} at height {}\n  {}\n  app hash {} is in header {} (hash {}, time {}, chain {}),\n  signed by {}/{} of the voting power ({} of {} validators) of validator set {}\n  ({trust})",
        v.key,
        if v.exists { v.value.to_string() } else { "(absent; non-membership proven)".into() },
        v.height,
        summary,
        h.app_hash,
        h.height,
        h.header_hash,
        h.time,
        h.chain_id,
        h.signed_power,
        h.total_power,
        h.signers,
        h.validators,
        h.validators_hash,
    )
}

/// What a proof is checked against: the chain id, and the validator-set hash pinned by
/// `--trusted-validators-hash` (if given).
pub(crate) async fn proof_anchor(
    ctx: &Ctx,
    client: &tendermint_rpc::HttpClient,
    args: &ProveArgs,
) -> Result<(String, Option<tendermint::Hash>)> {
    let chain_id = ctx.chain_id(client).await?;
    let pinned = args
        .trusted_validators_hash
        .as_deref()
        .map(parse_hash)
        .transpose()
        .context("--trusted-validators-hash")?;
    Ok((chain_id, pinned))
}

pub(crate) async fn prove_record(
    ctx: &Ctx,
    record: &Record,
    args: &ProveArgs,
) -> Result<VerifiedRecord> {
    let client = ctx.client()?;
    let (chain_id, pinned) = proof_anchor(ctx, &client, args).await?;
    query_verified(
        &client,
        record,
        args.height,
        &chain_id,
        pinned.as_ref(),
        Duration::from_secs(args.timeout),
    )
    .await
}

pub(crate) fn not_verified(height: u64) -> String {
    format!("height: {height} (not verified; add --prove)")
}

/// Prints a record read from the node without a proof: `{key: value, "height": height}`, or
/// its text and the height it is for.
pub(crate) fn emit_unverified<T: serde::Serialize>(
    ctx: &Ctx,
    key: &str,
    value: &T,
    height: u64,
    text: impl FnOnce(&T) -> String,
) {
    ctx.emit(json!({ key: value, "height": height }), || {
        format!("{}\n{}", text(value), not_verified(height))
    });
}

pub(crate) fn listing_note(height: u64) -> String {
    format!("(at height {height}; not verified: listings have no proof)")
}

/// Prints a verified record and returns nothing more to do.
pub(crate) fn emit_verified(
    ctx: &Ctx,
    v: &VerifiedRecord,
    summary: &str,
    extra: serde_json::Value,
) {
    let mut doc = json!({ "verified": v });
    if let (Some(doc), Some(extra)) = (doc.as_object_mut(), extra.as_object()) {
        for (k, val) in extra {
            doc.insert(k.clone(), val.clone());
        }
    }
    ctx.emit(doc, || verified_text(v, summary));
}

/// Emits a proven record of type `T` with its text, or says it is absent.
pub(crate) async fn emit_proven<T: serde::de::DeserializeOwned>(
    ctx: &Ctx,
    record: Record,
    prove: &ProveArgs,
    text: impl Fn(&T) -> String,
    absent: &str,
) -> Result<()> {
    let v = prove_record(ctx, &record, prove).await?;
    let summary = match decode_value::<T>(&v)? {
        Some(r) => text(&r).replace('\n', "\n  "),
        None => absent.to_string(),
    };
    emit_verified(ctx, &v, &summary, json!({}));
    Ok(())
}

/// A page of a listing as text: `out`, a `more: --after NEXT` line while there is a next page
/// (with the `--all` hint where the command takes `--all`), and the listing note.
pub(crate) fn page_text(
    mut out: String,
    next: Option<impl std::fmt::Display>,
    has_all: bool,
    height: u64,
) -> String {
    if let Some(n) = next {
        if has_all {
            out.push_str(&format!("\nmore: --after {n} (or --all for every page)"));
        } else {
            out.push_str(&format!("\nmore: --after {n}"));
        }
    }
    out.push_str(&format!("\n{}", listing_note(height)));
    out
}

pub(crate) fn decode_value<T: serde::de::DeserializeOwned>(
    v: &VerifiedRecord,
) -> Result<Option<T>> {
    if !v.exists {
        return Ok(None);
    }
    serde_json::from_value(v.value.clone())
        .map(Some)
        .map_err(|e| anyhow!("the proven value does not read back: {e}"))
}
