//! `nodeop query reputation`: an operator's reputation, as the node computes it or recomputed
//! from proven records (`--prove`), over [`nodeop_client::reputation`].

use std::time::Duration;

use anyhow::{Context, Result};
use nodeop_client::render;
use serde_json::json;

use super::proof::{proof_anchor, ProveArgs};
use super::{resolve_address, Ctx};

pub(crate) async fn reputation_query(ctx: &Ctx, operator: &str, prove: &ProveArgs) -> Result<()> {
    let address = resolve_address(ctx, operator).context("OPERATOR")?;
    let client = ctx.client()?;
    if prove.prove {
        let (chain_id, pinned) = proof_anchor(ctx, &client, prove).await?;
        let p = nodeop_client::reputation::proven(
            &client,
            &address,
            prove.height,
            &chain_id,
            pinned.as_ref(),
            Duration::from_secs(prove.timeout),
        )
        .await?;
        let h = &p.record_proof.header;
        ctx.emit(json!({ "proven_reputation": p }), || {
            format!(
                "{}\nverified: recomputed from the reputation record, the operator record and the reputation params, proven at height {} against app hash {} in header {} (signed by {}/{} of the voting power)",
                render::reputation::reputation_text(&p.view),
                p.record_proof.height,
                h.app_hash,
                h.height,
                h.signed_power,
                h.total_power,
            )
        });
        return Ok(());
    }
    let (v, height) = nodeop_client::reputation::operator(&client, &address).await?;
    ctx.emit(json!({ "reputation": v, "height": height }), || {
        format!(
            "{}\nheight:               {height} (computed by the node; add --prove to recompute it from proven records)",
            render::reputation::reputation_text(&v)
        )
    });
    Ok(())
}
