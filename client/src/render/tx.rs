//! Txs for people: a tx's result in its block.

use crate::node::TxResult;

/// A tx's result in its block: code, log and events.
pub fn result_text(r: &TxResult) -> String {
    let mut out = format!(
        "included in block {} (index {}): code {}{}",
        r.height,
        r.index,
        r.code,
        if r.code == 0 {
            " (ok)".to_string()
        } else {
            format!(" codespace {:?}", r.codespace)
        }
    );
    if !r.log.is_empty() {
        out.push_str(&format!("\nlog: {}", r.log));
    }
    if !r.events.is_empty() {
        out.push_str("\nevents:");
        for e in &r.events {
            let attrs: Vec<String> = e
                .attributes
                .iter()
                .map(|a| format!("{}={}", a.key, a.value))
                .collect();
            out.push_str(&format!("\n  {}: {}", e.kind, attrs.join(", ")));
        }
    }
    out
}
