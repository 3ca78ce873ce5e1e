//! The path every `nodeop tx …` takes: the shared flags, FROM's key, build → check → sign →
//! broadcast → wait, and the printed outcome.

use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use nodeop_app::tx::Msg;
use nodeop_client::amount::{describe, parse_amount};
use nodeop_client::node::{broadcast_and_wait, tx_context, TxOptions, TxOutcome};
use nodeop_client::render;
use nodeop_client::tx::{
    build_tx, check_msg, decode_tx, direct_required_fee, encode_tx, required_fee, sign_direct,
    sign_tx, SignMode, TxView,
};
use serde_json::json;

use super::{load_key, Ctx};

/// Flags every tx takes.
#[derive(Args, Clone)]
pub(crate) struct TxFlags {
    /// Fee (same units as amounts); default: the chain's minimum for this tx's size.
    #[arg(long)]
    pub(crate) fee: Option<String>,
    #[arg(long, default_value = "")]
    pub(crate) memo: String,
    /// Nonce to use (default: the account's next nonce from the node).
    #[arg(long)]
    pub(crate) nonce: Option<u64>,
    /// Return after CheckTx instead of waiting for the block.
    #[arg(long)]
    pub(crate) no_wait: bool,
    /// Seconds to wait for inclusion.
    #[arg(long, default_value_t = 30)]
    pub(crate) timeout: u64,
    /// The envelope: `nodeop` (borsh, docs/tx-format.md) or `direct` (a Cosmos SDK `TxRaw`
    /// signed in SIGN_MODE_DIRECT, as CosmJS and Keplr sign; docs/wallets.md).
    #[arg(long, value_enum, default_value_t = SignMode::Nodeop)]
    pub(crate) sign_mode: SignMode,
}

/// [`submit_tx_outcome`] when the outcome is not needed afterwards.
pub(crate) async fn submit_tx(
    ctx: &Ctx,
    from: &str,
    msgs: Vec<Msg>,
    flags: &TxFlags,
) -> Result<()> {
    submit_tx_outcome(ctx, from, msgs, flags).await.map(drop)
}

/// Every tx's path: parse the shared flags, load FROM's key, ask the node for what is missing,
/// build → check → sign → broadcast → wait, print the
/// outcome. A refusal or a failure in the block is a
/// [`nodeop_client::ClientError::TxFailed`] (exit code 3).
pub(crate) async fn submit_tx_outcome(
    ctx: &Ctx,
    from: &str,
    msgs: Vec<Msg>,
    flags: &TxFlags,
) -> Result<TxOutcome> {
    let fee = flags
        .fee
        .as_deref()
        .map(parse_amount)
        .transpose()
        .context("--fee")?;
    let (from_info, key) = load_key(ctx, from)?;
    // Refuse a bad message before asking the node anything.
    for m in &msgs {
        check_msg(m)?;
    }

    let client = ctx.client()?;
    let opts = TxOptions {
        chain_id: Some(ctx.chain_id(&client).await?),
        nonce: flags.nonce,
        fee,
        memo: flags.memo.clone(),
        wait: (!flags.no_wait).then(|| Duration::from_secs(flags.timeout)),
    };
    let (chain_id, nonce, params) = tx_context(&client, &key.address(), &opts).await?;
    let mut body = build_tx(&chain_id, nonce, msgs, opts.fee, &opts.memo, &params)?;
    let minimum = match flags.sign_mode {
        SignMode::Nodeop => required_fee(&params, &body)?,
        SignMode::Direct => {
            let minimum = direct_required_fee(&params, &body, &key)?;
            // the borsh minimum build_tx chose is not this envelope's
            if opts.fee.is_none() && !body.is_fee_free_duty() {
                body.fee = minimum;
            }
            minimum
        }
    };
    if body.fee < minimum && !body.is_fee_free_duty() {
        eprintln!(
            "warning: fee {} is below the chain's minimum {} for this tx; the node will refuse it",
            describe(body.fee),
            describe(minimum)
        );
    }
    let (tx, bytes) = match flags.sign_mode {
        SignMode::Nodeop => {
            let tx = sign_tx(body, &key)?;
            let bytes = encode_tx(&tx)?;
            (tx, bytes)
        }
        SignMode::Direct => {
            let bytes = sign_direct(&body, &key)?;
            (decode_tx(&bytes, &chain_id)?, bytes)
        }
    };
    let outcome: TxOutcome = broadcast_and_wait(&client, bytes, opts.wait).await?;

    let view = TxView::from(&tx);
    ctx.emit(json!({ "tx": view, "outcome": outcome }), || {
        let mut out = format!("tx {}", outcome.hash);
        for m in &view.msgs {
            out.push_str(&format!("\n{}", m.describe()));
        }
        out.push_str(&format!(
            "\nsigner {} ({}), fee {}, nonce {}, chain {}",
            key.address(),
            from_info.name,
            describe(tx.body.fee),
            tx.body.nonce,
            chain_id
        ));
        if outcome.accepted() {
            out.push_str("\ncheck_tx: accepted");
            match &outcome.included {
                Some(r) => out.push_str(&format!("\n{}", render::tx::result_text(r))),
                None => out.push_str(&format!(
                    "\nnot waiting for the block; later: nodeop query tx {}",
                    outcome.hash
                )),
            }
        } else {
            out.push_str(&format!(
                "\ncheck_tx: REFUSED codespace {:?} code {}\nlog: {}",
                outcome.check_tx.codespace, outcome.check_tx.code, outcome.check_tx.log
            ));
        }
        out
    });
    outcome.check()?;
    Ok(outcome)
}
