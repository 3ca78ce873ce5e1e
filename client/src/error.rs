//! The errors a caller can tell apart.
//!
//! Library functions return `anyhow::Result` so that each layer can say what it was doing
//! (`--fee`, `reading HOME/keyring/…`); the kinds a caller acts on are [`ClientError`] values in
//! that chain, and [`ClientError::find`] reads them back: the CLI maps
//! [`ClientError::TxFailed`] to exit code 3 and [`ClientError::Verification`] to 4, the tx
//! waiter falls back to reading blocks on [`ClientError::TxIndexDisabled`], and so on.
//!
//! [`VerificationFailed`] (what a proof check returns) and [`QueryRefused`] (the app's answer
//! to a query with a non-zero code) keep their own types, which [`find`](ClientError::find)
//! reports as the matching variant.

use std::path::PathBuf;

use nodeop_app::crypto::Address;

use crate::node::QueryRefused;
use crate::verify::VerificationFailed;

/// Every error kind of the client that a caller may act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// A proof or a header did not verify: the node's answer is not what the chain signed.
    #[error(transparent)]
    Verification(#[from] VerificationFailed),
    /// The app answered a query with a non-zero code.
    #[error(transparent)]
    QueryRefused(#[from] QueryRefused),
    /// CheckTx refused the tx, or it failed in its block.
    #[error("{0}")]
    TxFailed(String),
    /// The node runs with `tx_index.indexer = "null"`.
    #[error("the node does not index txs (tx_index.indexer = \"null\")")]
    TxIndexDisabled,
    /// The node has the block at this height but not yet its results: CometBFT stores a block
    /// before it saves the block's FinalizeBlock results, so `/status` can name a height whose
    /// `/block_results` still fails for a moment. Asking again shortly succeeds.
    #[error("block {0} is stored but its results are not yet; ask again in a moment")]
    ResultsNotReady(u64),
    /// No salt is stored for this task and member: nothing was committed from this home.
    #[error(
        "no stored salt for task {task_id} and member {member} on chain {chain_id:?} ({} does not exist): the result was not committed from this home (`nodeop tx task commit` stores the salt; pass the same --home), so it cannot be revealed from here",
        path.display()
    )]
    NoStoredSalt {
        chain_id: String,
        task_id: u64,
        member: Address,
        path: PathBuf,
    },
    /// A salt is stored for this task and member with another result.
    #[error(
        "a salt for task {task_id} is already stored ({}) with another result (0x{}); the chain accepts one commit per member, and if that commit is on chain replacing its salt makes it impossible to reveal. Reveal it with `nodeop tx task reveal`, or replace the stored salt explicitly (--replace-salt)",
        path.display(),
        hex::encode(stored_result)
    )]
    SaltConflict {
        task_id: u64,
        stored_result: Vec<u8>,
        path: PathBuf,
    },
}

impl ClientError {
    /// The first client error in `e`'s chain (the error itself, then what it was caused by),
    /// skipping the context added on the way up.
    pub fn find(e: &anyhow::Error) -> Option<ClientError> {
        e.chain().find_map(Self::of)
    }

    /// Whether `e`'s chain holds a client error for which `kind` holds (the CLI's exit codes:
    /// a failed tx anywhere in the chain is exit code 3, whatever else is there).
    pub fn any(e: &anyhow::Error, kind: impl Fn(&ClientError) -> bool) -> bool {
        e.chain().filter_map(Self::of).any(|c| kind(&c))
    }

    /// `cause` as a client error, if it is one.
    fn of(cause: &(dyn std::error::Error + 'static)) -> Option<ClientError> {
        if let Some(c) = cause.downcast_ref::<ClientError>() {
            return Some(c.clone());
        }
        if let Some(v) = cause.downcast_ref::<VerificationFailed>() {
            return Some(ClientError::Verification(v.clone()));
        }
        cause
            .downcast_ref::<QueryRefused>()
            .map(|q| ClientError::QueryRefused(q.clone()))
    }
}
