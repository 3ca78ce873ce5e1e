//! `nodeop query account|supply|params|store|tx`: chain-level reads.

use anyhow::{anyhow, bail, Context, Result};
use nodeop_client::amount::describe;
use nodeop_client::node::{
    abci_query, fetch_tx, find_tx_in_block, parse_tx_hash, query_account, TxResult,
};
use nodeop_client::render;
use nodeop_client::tx::{decode_tx, TxView};
use nodeop_client::verify::Record;
use nodeop_client::ClientError;
use serde_json::json;

use super::proof::{prove_record, verified_text, ProveArgs};
use super::{resolve_address, Ctx};

/// `nodeop query account`: an account's balance and nonce.
pub(crate) async fn account(ctx: &Ctx, account: &str, prove: &ProveArgs) -> Result<()> {
    let address = resolve_address(ctx, account)?;
    if prove.prove {
        let v = prove_record(ctx, &Record::Account(address), prove).await?;
        let balance = v.value["balance"]
            .as_str()
            .and_then(|b| b.parse::<u128>().ok())
            .unwrap_or(0);
        let nonce = v.value["nonce"].as_u64().unwrap_or(0);
        let summary = if v.exists {
            format!(
                "account {address}: balance {}, next nonce {nonce}",
                describe(balance)
            )
        } else {
            format!("account {address}: never used (balance 0, next nonce 0)")
        };
        ctx.emit(json!({ "address": address, "verified": v }), || {
            verified_text(&v, &summary)
        });
    } else {
        let client = ctx.client()?;
        let (acct, height) = query_account(&client, &address, prove.height).await?;
        ctx.emit(json!({ "account": acct, "height": height }), || {
            format!(
                "address: {}\nbalance: {}\nnonce:   {} (the next tx must carry it)\nheight:  {height} (not verified; add --prove)",
                acct.address,
                describe(acct.balance),
                acct.nonce
            )
        });
    }
    Ok(())
}

/// `nodeop query supply`: the supply record.
pub(crate) async fn supply(ctx: &Ctx, prove: &ProveArgs) -> Result<()> {
    if prove.prove {
        let v = prove_record(ctx, &Record::Supply, prove).await?;
        let total = v.value["total_supply"]
            .as_str()
            .and_then(|b| b.parse::<u128>().ok())
            .unwrap_or(0);
        let summary = format!("total supply {}", describe(total));
        ctx.emit(json!({ "verified": v }), || verified_text(&v, &summary));
    } else {
        let client = ctx.client()?;
        let resp = abci_query(&client, "/supply", Vec::new(), prove.height, false).await?;
        let supply: serde_json::Value =
            serde_json::from_slice(&resp.value).context("the node's /supply answer is not JSON")?;
        let height = resp.height.value();
        ctx.emit(json!({ "supply": supply, "height": height }), || {
            let field = |k: &str| {
                supply[k].as_str().and_then(|s| s.parse::<u128>().ok()).map(describe).unwrap_or_else(|| "?".into())
            };
            format!(
                "total_supply:   {}\ngenesis_supply: {}\nminted:         {}\nburned:         {}\nmax_supply:     {}\nheight:         {height} (not verified; add --prove)",
                field("total_supply"),
                field("genesis_supply"),
                field("minted"),
                field("burned"),
                field("max_supply")
            )
        });
    }
    Ok(())
}

/// `nodeop query params`: the chain's params.
pub(crate) async fn params(ctx: &Ctx) -> Result<()> {
    let client = ctx.client()?;
    let resp = abci_query(&client, "/params", Vec::new(), None, false).await?;
    let params: serde_json::Value =
        serde_json::from_slice(&resp.value).context("the node's /params answer is not JSON")?;
    let height = resp.height.value();
    let text = serde_json::to_string_pretty(&params).unwrap_or_default();
    ctx.emit(json!({ "params": params, "height": height }), || {
        format!("{text}\n(at height {height})")
    });
    Ok(())
}

/// `nodeop query store`: a raw store key.
pub(crate) async fn store(ctx: &Ctx, key_hex: &str, prove: &ProveArgs) -> Result<()> {
    let key = hex::decode(key_hex.trim()).map_err(|_| anyhow!("KEY_HEX {key_hex:?} is not hex"))?;
    if key.is_empty() {
        bail!("KEY_HEX is empty");
    }
    if prove.prove {
        let v = prove_record(ctx, &Record::Store(key), prove).await?;
        let summary = format!("{} bytes stored", v.value_hex.len() / 2);
        ctx.emit(json!({ "verified": v }), || verified_text(&v, &summary));
    } else {
        let client = ctx.client()?;
        let resp = abci_query(&client, "/store", key.clone(), prove.height, false).await?;
        let value = String::from_utf8_lossy(&resp.value).into_owned();
        let height = resp.height.value();
        ctx.emit(
            json!({ "key_hex": hex::encode(&key), "value_hex": value, "height": height }),
            || {
                format!(
                    "{} = {}\nheight: {height} (not verified; add --prove)",
                    nodeop_client::verify::display_store_key(&key),
                    if value.is_empty() { "(absent)" } else { &value }
                )
            },
        );
    }
    Ok(())
}

/// `nodeop query tx`: a tx by hash, decoded, with its result.
pub(crate) async fn tx(ctx: &Ctx, hash: &str, height: Option<u64>) -> Result<()> {
    let hash = parse_tx_hash(hash)?;
    let client = ctx.client()?;
    let (result, tx_bytes) = match height {
        Some(h) => find_tx_in_block(&client, &hash, h)
            .await?
            .ok_or_else(|| anyhow!("block {h} does not hold tx {hash}"))?,
        None => match fetch_tx(&client, &hash).await {
            Ok(Some(r)) => (TxResult::from_response(&r), r.tx),
            Ok(None) => bail!(
                "the node's tx index does not know tx {hash}; if it is in a block, pass --height H to read it from the block"
            ),
            Err(e) if ClientError::find(&e) == Some(ClientError::TxIndexDisabled) => {
                bail!("{e}; pass --height H to read tx {hash} from its block")
            }
            Err(e) => return Err(e),
        },
    };
    let decoded = decode_tx(&tx_bytes, &ctx.chain_id(&client).await?);
    let (view, decode_error) = match &decoded {
        Ok(t) => (Some(TxView::from(t)), None),
        Err(e) => (None, Some(format!("{e:#}"))),
    };
    ctx.emit(
        json!({
            "hash": hash.to_string(),
            "tx": view,
            "decode_error": decode_error,
            "tx_hex": hex::encode(&tx_bytes),
            "result": result,
        }),
        || {
            let mut out = format!("tx {hash}");
            match &view {
                Some(v) => {
                    out.push_str(&format!(
                        "\nsigner:   {}\nchain_id: {}\nnonce:    {}\nfee:      {}\nmemo:     {:?}\nmsgs:",
                        v.signer,
                        v.chain_id,
                        v.nonce,
                        describe(v.fee),
                        v.memo
                    ));
                    for m in &v.msgs {
                        out.push_str(&format!("\n  {}", m.describe()));
                    }
                }
                None => out.push_str(&format!(
                    "\n(the bytes do not decode as a nodeop tx: {})\nhex: {}",
                    decode_error.clone().unwrap_or_default(),
                    hex::encode(&tx_bytes)
                )),
            }
            out.push_str(&format!("\n{}", render::tx::result_text(&result)));
            out
        },
    );
    Ok(())
}
