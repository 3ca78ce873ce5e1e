//! Events emitted by txs and blocks. They map one to one onto ABCI events, so CometBFT indexes
//! them and clients can subscribe (`tm.event='Tx' AND transfer.recipient='nodeop1…'`).

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub kind: String,
    pub attributes: Vec<EventAttribute>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventAttribute {
    pub key: String,
    pub value: String,
    /// Whether CometBFT should index it for search.
    pub index: bool,
}

impl Event {
    pub fn new(kind: &str) -> Self {
        Self {
            kind: kind.to_string(),
            attributes: Vec::new(),
        }
    }

    /// Adds an indexed attribute.
    pub fn attr(mut self, key: &str, value: impl ToString) -> Self {
        self.attributes.push(EventAttribute {
            key: key.to_string(),
            value: value.to_string(),
            index: true,
        });
        self
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|a| a.key == key)
            .map(|a| a.value.as_str())
    }
}

/// The event of every executed tx: `tx_hash`, `signer`, `nonce`, `fee`. (CometBFT reserves the
/// composite keys `tx.hash` and `tx.height` for its own index, so the hash is under `tx_hash`.)
/// Each module's own events are in `modules/<name>/events.rs`.
pub const TX: &str = "tx";
