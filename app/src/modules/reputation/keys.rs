//! reputation's key layout (public API).

use crate::crypto::Address;

/// `reputation/params` → [`super::ReputationParams`].
pub const PARAMS: &[u8] = b"reputation/params";
/// `reputation/operator/{address}` → [`super::OperatorReputation`].
pub const OPERATOR_PREFIX: &[u8] = b"reputation/operator/";
/// `reputation/last_epoch` → u64: the last epoch whose decay and load update ran.
pub const LAST_EPOCH: &[u8] = b"reputation/last_epoch";
/// `reputation/last_epoch_height` → u64: the height of the block that processed the last epoch
/// boundary (the initial height before the first): the next epoch's block count starts there.
pub const LAST_EPOCH_HEIGHT: &[u8] = b"reputation/last_epoch_height";

/// `reputation/operator/{address}` (the 20 address bytes).
pub fn operator(address: &Address) -> Vec<u8> {
    [OPERATOR_PREFIX, &address.0].concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operator_keys_share_the_prefix_and_sort_by_address() {
        let a = operator(&Address([1; 20]));
        let b = operator(&Address([2; 20]));
        assert!(a.starts_with(OPERATOR_PREFIX));
        assert_eq!(a.len(), OPERATOR_PREFIX.len() + 20);
        assert!(a < b);
    }
}
