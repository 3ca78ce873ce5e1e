//! Which event attributes CometBFT's tx indexer stores (app.toml `[events] index`).
//!
//! Every ABCI event attribute carries an `index` flag: CometBFT's `kv` indexer writes one database
//! entry per flagged attribute of every tx and block, and only flagged attributes can be searched
//! with `tx_search` and `block_search`. Nothing else depends on the flag: subscriptions
//! (`/websocket` `subscribe`), `block_results` and a tx's own result carry every attribute, and
//! CometBFT leaves the flag out of the results hash, so it never changes a block's outcome or an
//! app hash. It is a node's own choice, as the Cosmos SDK's `index-events` is.
//!
//! The default indexes the attributes that name an account or a record (a signer, sender,
//! recipient, operator, coprocessor, delegator, member, voter, submitter, resolver, client,
//! bidder, accused, beneficiary; a task, proposal, auction or unbonding id), which is what a wallet's history or an explorer's search
//! looks up, and leaves out quantities, hashes and prices (amounts, fees, nonces, `tx_hash`,
//! which CometBFT already indexes itself as `tx.hash`). Every indexed attribute costs CometBFT a
//! database write per tx: `docs/performance.md` measures what it does to throughput.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{bail, Result};

/// The default `[events] index`: attribute keys, of any event type.
pub const DEFAULT_INDEX: &[&str] = &[
    "signer",
    "sender",
    "recipient",
    "operator",
    "coprocessor",
    "delegator",
    "member",
    "voter",
    "submitter",
    "resolver",
    "client",
    "bidder",
    "accused",
    "beneficiary",
    "missed_by",
    "task",
    "original_task",
    "reexecution_task",
    "proposal",
    "auction",
    "id",
    "unbonding_id",
];

/// A parsed `[events] index` list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventIndex {
    all: bool,
    /// Attribute keys indexed in every event type.
    keys: BTreeSet<String>,
    /// `type.key` entries: event type → its indexed keys.
    typed: BTreeMap<String, BTreeSet<String>>,
}

impl EventIndex {
    /// Every attribute indexed (`["*"]`).
    pub fn all() -> Self {
        Self {
            all: true,
            keys: BTreeSet::new(),
            typed: BTreeMap::new(),
        }
    }

    /// Parses a list of entries: `"*"`, an attribute key (`"recipient"`: in every event type)
    /// or `"type.key"` (`"transfer.recipient"`). Names are lowercase letters, digits and `_`.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<Self> {
        let mut index = Self {
            all: false,
            keys: BTreeSet::new(),
            typed: BTreeMap::new(),
        };
        let name = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        };
        for entry in entries {
            let entry = entry.as_ref();
            if entry == "*" {
                index.all = true;
                continue;
            }
            match entry.split_once('.') {
                None if name(entry) => {
                    index.keys.insert(entry.to_string());
                }
                Some((kind, key)) if name(kind) && name(key) => {
                    index
                        .typed
                        .entry(kind.to_string())
                        .or_default()
                        .insert(key.to_string());
                }
                _ => bail!(
                    "{entry:?} is not \"*\", an attribute key (`recipient`) or `type.key` \
                     (`transfer.recipient`): lowercase letters, digits and `_`"
                ),
            }
        }
        Ok(index)
    }

    /// Whether attribute `key` of an event of type `kind` is indexed (no allocation: it runs
    /// for every attribute of every tx of every block).
    pub fn indexes(&self, kind: &str, key: &str) -> bool {
        self.all
            || self.keys.contains(key)
            || self.typed.get(kind).is_some_and(|keys| keys.contains(key))
    }
}

impl Default for EventIndex {
    fn default() -> Self {
        Self::parse(DEFAULT_INDEX).unwrap_or_else(|_| Self::all())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_types_and_the_wildcard() {
        let i = EventIndex::parse(&["recipient", "tx.signer"]).unwrap();
        assert!(i.indexes("transfer", "recipient"));
        assert!(i.indexes("anything", "recipient"));
        assert!(i.indexes("tx", "signer"));
        assert!(!i.indexes("other", "signer"));
        assert!(!i.indexes("transfer", "amount"));
        let all = EventIndex::parse(&["*"]).unwrap();
        assert!(all.indexes("transfer", "amount"));
        assert_eq!(all, EventIndex::all());
        let none = EventIndex::parse::<&str>(&[]).unwrap();
        assert!(!none.indexes("transfer", "recipient"));
    }

    #[test]
    fn the_default_indexes_who_and_which_record_not_how_much() {
        let d = EventIndex::default();
        assert_ne!(d, EventIndex::all(), "every default entry parses");
        for (kind, key) in [
            ("tx", "signer"),
            ("transfer", "sender"),
            ("transfer", "recipient"),
            ("task_posted", "task"),
        ] {
            assert!(d.indexes(kind, key), "{kind}.{key}");
        }
        for (kind, key) in [
            ("tx", "tx_hash"),
            ("tx", "nonce"),
            ("tx", "fee"),
            ("transfer", "amount"),
        ] {
            assert!(!d.indexes(kind, key), "{kind}.{key}");
        }
    }

    #[test]
    fn malformed_entries_are_refused_with_what_was_wrong() {
        for bad in [
            "",
            "Transfer.recipient",
            "transfer.",
            ".key",
            "a.b.c",
            "amount!",
        ] {
            let e = EventIndex::parse(&[bad]).unwrap_err().to_string();
            assert!(e.contains(&format!("{bad:?}")), "{bad}: {e}");
        }
    }
}
