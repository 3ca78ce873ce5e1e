//! Chain-wide parameters of the tx envelope (PROTOCOL.md §2, §4). Stored at `auth/params`, set at
//! genesis; every module's own params live in its folder.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use crate::serde_u128;

#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TxParams {
    /// Minimum fee of any tx, unop.
    #[serde(with = "serde_u128")]
    pub min_fee_base: u128,
    /// Added minimum fee per byte of the encoded tx, unop.
    #[serde(with = "serde_u128")]
    pub min_fee_per_byte: u128,
    /// Largest accepted tx, bytes (64 KiB).
    pub max_tx_bytes: u64,
    pub max_msgs_per_tx: u32,
    pub max_memo_bytes: u32,
}

impl Default for TxParams {
    fn default() -> Self {
        Self {
            min_fee_base: 1_000,
            min_fee_per_byte: 10,
            max_tx_bytes: 64 * 1024,
            max_msgs_per_tx: 16,
            max_memo_bytes: 256,
        }
    }
}

impl TxParams {
    /// Every problem with these params (empty when valid).
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.max_tx_bytes < 256 {
            out.push(format!(
                "tx.max_tx_bytes = {} is below 256 bytes",
                self.max_tx_bytes
            ));
        }
        if self.max_tx_bytes > 4 * 1024 * 1024 {
            out.push(format!(
                "tx.max_tx_bytes = {} is above 4 MiB",
                self.max_tx_bytes
            ));
        }
        if self.max_msgs_per_tx == 0 {
            out.push("tx.max_msgs_per_tx must be at least 1".into());
        }
        out
    }
}
