//! `nodeop tx send`: a `bank.send` from a keyring key.

use anyhow::{Context, Result};
use nodeop_app::tx::Msg;
use nodeop_client::amount::parse_amount;

use super::submit::{submit_tx, TxFlags};
use super::{resolve_address, Ctx};

/// Sends `amount` from the key `from` to `to` (an address or a key name).
pub(crate) async fn send(
    ctx: &Ctx,
    from: &str,
    to: &str,
    amount: &str,
    flags: &TxFlags,
) -> Result<()> {
    let amount = parse_amount(amount).context("AMOUNT")?;
    let to = resolve_address(ctx, to).context("TO")?;
    submit_tx(ctx, from, vec![Msg::send(&to, amount)], flags).await
}
