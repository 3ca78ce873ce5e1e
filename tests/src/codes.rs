//! The error codes a refused tx may carry: one example of every [`TxError`] (the list
//! `every_error_code_is_documented` holds to docs/errors.md), for the property tests that throw
//! arbitrary txs at CheckTx and blocks.

use std::collections::BTreeSet;

use nodeop_app::app::TxOutcome;
use nodeop_app::error::TxError;

/// Every (codespace, code) a tx can be refused with.
pub struct DocumentedCodes(BTreeSet<(String, u32)>);

impl Default for DocumentedCodes {
    fn default() -> Self {
        Self(
            TxError::examples()
                .iter()
                .map(|e| (e.codespace().to_string(), e.code()))
                .collect(),
        )
    }
}

impl DocumentedCodes {
    /// `Ok` for an accepted tx and for a refusal with a documented (codespace, code) and a log
    /// saying why; otherwise what is wrong with it.
    pub fn check(&self, r: &TxOutcome) -> Result<(), String> {
        if r.is_ok() {
            return Ok(());
        }
        if !self.0.contains(&(r.codespace.clone(), r.code)) {
            return Err(format!(
                "undocumented {}/{}: {}",
                r.codespace, r.code, r.log
            ));
        }
        if r.log.is_empty() {
            return Err(format!("{}/{} refused without a log", r.codespace, r.code));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_undocumented_code_or_an_empty_log_is_reported() {
        let codes = DocumentedCodes::default();
        let known = TxError::examples().remove(0);
        let refused = TxOutcome {
            code: known.code(),
            codespace: known.codespace().to_string(),
            log: known.to_string(),
            events: Vec::new(),
        };
        assert_eq!(codes.check(&refused), Ok(()));
        let mut silent = refused.clone();
        silent.log.clear();
        assert!(codes.check(&silent).unwrap_err().contains("without a log"));
        let mut unknown = refused;
        unknown.code = 999_999;
        assert!(codes
            .check(&unknown)
            .unwrap_err()
            .starts_with("undocumented"));
    }
}
