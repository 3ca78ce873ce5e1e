//! reputation's genesis content: params, and (in an export) every operator's record and the
//! epoch bookkeeping.

use serde::{Deserialize, Serialize};

use super::keys;
use super::state::{put_record, OperatorReputation, PPM};
use super::ReputationParams;
use crate::crypto::Address;
use crate::state::{decode_stored, StateRead, StateReadExt, StateWrite, StateWriteExt};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReputationGenesis {
    pub params: ReputationParams,
    /// The last epoch processed (0: none yet).
    pub last_epoch: u64,
    /// The height of the block that processed it (0: the chain's initial height).
    pub last_epoch_height: u64,
    pub operators: Vec<GenesisOperatorReputation>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisOperatorReputation {
    pub address: Address,
    pub record: OperatorReputation,
}

impl ReputationGenesis {
    pub fn problems(&self) -> Vec<String> {
        let mut out = self.params.problems();
        let mut seen = std::collections::BTreeSet::new();
        for o in &self.operators {
            if !seen.insert(o.address) {
                out.push(format!(
                    "reputation.operators: {} is listed twice",
                    o.address
                ));
            }
            for (name, v) in [
                ("byz_factor_ppm", o.record.byz_factor_ppm),
                ("load_ppm", o.record.load_ppm),
            ] {
                if u128::from(v) > PPM {
                    out.push(format!(
                        "reputation.operators: {} has {name} = {v}, above 1_000_000",
                        o.address
                    ));
                }
            }
        }
        out
    }

    pub fn apply(&self, state: &mut impl StateWrite, initial_height: u64) {
        state.put(keys::PARAMS.to_vec(), &self.params);
        if self.last_epoch > 0 {
            state.put(keys::LAST_EPOCH.to_vec(), &self.last_epoch);
        }
        let height = if self.last_epoch_height == 0 {
            initial_height
        } else {
            self.last_epoch_height
        };
        state.put(keys::LAST_EPOCH_HEIGHT.to_vec(), &height);
        for o in &self.operators {
            put_record(state, &o.address, &o.record);
        }
    }

    /// The content that reproduces the module's state.
    pub fn export(state: &impl StateRead) -> Self {
        Self {
            params: super::state::params(state),
            last_epoch: state.get(keys::LAST_EPOCH).unwrap_or(0),
            last_epoch_height: state.get(keys::LAST_EPOCH_HEIGHT).unwrap_or(0),
            operators: state
                .prefix_raw(keys::OPERATOR_PREFIX, None, usize::MAX)
                .iter()
                .filter_map(|(k, v)| {
                    let address = crate::state::keys::address_at(k, keys::OPERATOR_PREFIX.len())?;
                    Some(GenesisOperatorReputation {
                        address,
                        record: decode_stored(k, v),
                    })
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::overlay::Empty;
    use crate::state::Overlay;

    #[test]
    fn an_empty_section_reads_as_the_defaults() {
        let g: ReputationGenesis = serde_json::from_str("{}").unwrap();
        assert_eq!(g, ReputationGenesis::default());
        assert!(g.problems().is_empty());
    }

    #[test]
    fn apply_then_export_gives_the_same_content() {
        let g = ReputationGenesis {
            params: ReputationParams {
                decay_ppm: 900_000,
                ..ReputationParams::default()
            },
            last_epoch: 3,
            last_epoch_height: 41,
            operators: vec![GenesisOperatorReputation {
                address: Address([9; 20]),
                record: OperatorReputation {
                    byz_factor_ppm: 125_000,
                    load_ppm: 800_000,
                    ..OperatorReputation::default()
                },
            }],
        };
        assert!(g.problems().is_empty());
        let mut s = Overlay::new(Empty);
        g.apply(&mut s, 100);
        assert_eq!(ReputationGenesis::export(&s), g);
        // a fresh genesis starts counting the first epoch's blocks at the initial height
        let mut s = Overlay::new(Empty);
        ReputationGenesis::default().apply(&mut s, 100);
        assert_eq!(ReputationGenesis::export(&s).last_epoch_height, 100);
    }

    #[test]
    fn bad_records_and_repeats_are_named() {
        let bad = GenesisOperatorReputation {
            address: Address([9; 20]),
            record: OperatorReputation {
                byz_factor_ppm: 1_000_001,
                ..OperatorReputation::default()
            },
        };
        let g = ReputationGenesis {
            operators: vec![bad.clone(), bad],
            ..ReputationGenesis::default()
        };
        let p = g.problems().join("\n");
        assert!(p.contains("listed twice"), "{p}");
        assert!(p.contains("byz_factor_ppm = 1000001"), "{p}");
    }
}
