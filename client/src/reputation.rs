//! Operator reputation (PROTOCOL.md §3.3; every formula in docs/reputation.md): the
//! `/reputation/…` reads and a **proven** score (their text for people is
//! [`crate::render::reputation`]).
//!
//! `/reputation/operator/{address}` is computed by the node (no proof). [`proven`] instead reads
//! the three records the score is made of with ICS23 proofs at one height — the operator's
//! reputation record (`reputation/operator/{address}`), its staking record (the bonded tokens)
//! and the reputation params — and recomputes every component, the score, the effective score
//! and the load factors with the chain's own functions, so the numbers are the chain's without
//! trusting the node.

use std::time::Duration;

use anyhow::{anyhow, Result};
use nodeop_app::crypto::Address;
use nodeop_app::modules::reputation::{score, OperatorReputation, ReputationParams};
use nodeop_app::modules::staking::Operator;
use serde::Serialize;
use tendermint::hash::Hash;
use tendermint_rpc::HttpClient;

use crate::node::query_json;
use crate::verify::{query_verified, Record, VerifiedRecord};

/// The components of a score and an operator's reputation now, as the node renders them.
pub use nodeop_app::modules::reputation::query::OperatorReputationView as ReputationView;
pub use nodeop_app::modules::reputation::Components as ComponentsView;

/// `/reputation/operator/{address}` (latest height, computed by the node, not proven).
pub async fn operator(client: &HttpClient, address: &Address) -> Result<(ReputationView, u64)> {
    let (v, h): (ReputationView, u64) =
        query_json(client, &format!("/reputation/operator/{address}"), None).await?;
    if v.address != *address {
        return Err(anyhow!(
            "the node answered for {} instead of {address}",
            v.address
        ));
    }
    Ok((v, h))
}

/// `/reputation/params`.
pub async fn params(client: &HttpClient, height: Option<u64>) -> Result<(ReputationParams, u64)> {
    query_json(client, "/reputation/params", height).await
}

/// The view the chain computes from its records: what [`proven`] derives from proven reads
/// (and what the node's `/reputation/operator` answer must equal).
pub fn compute(
    address: &Address,
    counters: &OperatorReputation,
    operator: Option<&Operator>,
    p: &ReputationParams,
) -> ReputationView {
    let bonded_tokens = operator.map(|o| o.tokens).unwrap_or(0);
    let c = score::Components::of(counters, bonded_tokens, p);
    let score_ppm = c.score_ppm(p);
    ReputationView {
        address: *address,
        registered: operator.is_some(),
        bonded_tokens,
        components: ComponentsView {
            success_ppm: c.success_ppm,
            duties_ppm: c.duties_ppm,
            blocks_ppm: c.blocks_ppm,
            uptime_ppm: c.uptime_ppm,
            latency_ppm: c.latency_ppm,
            stake_ppm: c.stake_ppm,
        },
        score_ppm,
        byz_factor_ppm: counters.byz_factor_ppm,
        effective_score_ppm: score::effective_ppm(score_ppm, counters.byz_factor_ppm),
        load_ppm: counters.load_ppm,
        reward_weight_ppm: score::reward_weight_ppm(counters.load_ppm, p),
        load_amplification_ppm: score::load_amplification_ppm(counters.load_ppm, p),
        counters: counters.clone(),
    }
}

/// A reputation recomputed from proven records.
#[derive(Clone, Debug, Serialize)]
pub struct ProvenReputation {
    pub view: ReputationView,
    pub record_proof: VerifiedRecord,
    pub operator_proof: VerifiedRecord,
    pub params_proof: VerifiedRecord,
}

/// Reads `address`'s reputation record, its operator record and the reputation params with
/// proofs at `height` (latest if `None`; all three at the height of the first answer), and
/// recomputes the reputation from them with [`compute`].
pub async fn proven(
    client: &HttpClient,
    address: &Address,
    height: Option<u64>,
    chain_id: &str,
    pinned: Option<&Hash>,
    timeout: Duration,
) -> Result<ProvenReputation> {
    let record_proof = query_verified(
        client,
        &Record::Reputation(*address),
        height,
        chain_id,
        pinned,
        timeout,
    )
    .await?;
    let h = Some(record_proof.height);
    let operator_proof = query_verified(
        client,
        &Record::Operator(*address),
        h,
        chain_id,
        pinned,
        timeout,
    )
    .await?;
    let params_proof = query_verified(
        client,
        &Record::ReputationParams,
        h,
        chain_id,
        pinned,
        timeout,
    )
    .await?;
    let counters: OperatorReputation = serde_json::from_value(record_proof.value.clone())
        .map_err(|e| anyhow!("the proven reputation record does not read back: {e}"))?;
    let op: Option<Operator> = if operator_proof.exists {
        Some(
            serde_json::from_value(operator_proof.value.clone())
                .map_err(|e| anyhow!("the proven operator does not read back: {e}"))?,
        )
    } else {
        None
    };
    let p: ReputationParams = serde_json::from_value(params_proof.value.clone())
        .map_err(|e| anyhow!("the proven reputation params do not read back: {e}"))?;
    Ok(ProvenReputation {
        view: compute(address, &counters, op.as_ref(), &p),
        record_proof,
        operator_proof,
        params_proof,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::reputation::*;

    fn bob() -> Address {
        Address([0xb0; 20])
    }

    #[test]
    fn the_nodes_view_decodes_and_equals_the_recomputed_one() {
        let mut counters = OperatorReputation::default();
        counters.results.record(1_000_000);
        counters.results.record(0);
        counters.duties.record(1_000_000);
        counters.byz_factor_ppm = 500_000;
        counters.load_ppm = 900_000;
        let p = ReputationParams::default();
        let op = Operator {
            address: bob(),
            consensus_pubkey: [7; 32],
            moniker: "b".into(),
            capacity_units: 100,
            region: String::new(),
            commission_ppm: 0,
            tokens: p.stake_cap / 2,
            shares: 1,
            self_shares: 1,
            jailed_until: None,
            tombstoned: false,
            slashed_total: 0,
            slash_count: 0,
            registered_height: 1,
        };
        let v = compute(&bob(), &counters, Some(&op), &p);
        // what the node renders from the same records reads back as exactly this view
        {
            use nodeop_app::modules::{reputation, staking};
            use nodeop_app::state::{overlay::Empty, Overlay, StateWriteExt};
            let mut state = Overlay::new(Empty);
            state.put(reputation::keys::PARAMS.to_vec(), &p);
            state.put(reputation::keys::operator(&bob()), &counters);
            state.put(staking::keys::operator(&bob()), &op);
            let node = reputation::query::operator_view(&state, &bob());
            let decoded: ReputationView =
                serde_json::from_value(serde_json::to_value(&node).unwrap()).unwrap();
            assert_eq!(decoded, v);
        }
        assert!(v.registered);
        assert_eq!(v.components.stake_ppm, 500_000);
        assert_eq!(v.byz_factor_ppm, 500_000);
        assert_eq!(
            v.effective_score_ppm,
            score::effective_ppm(v.score_ppm, 500_000)
        );
        // the JSON the node renders (the app's own view) reads back into this client's view
        let json = serde_json::to_value(&v).unwrap();
        assert_eq!(json["bonded_tokens"], (p.stake_cap / 2).to_string());
        let back: ReputationView = serde_json::from_value(json).unwrap();
        assert_eq!(back, v);

        // no operator record: no stake, not registered
        let none = compute(&bob(), &OperatorReputation::default(), None, &p);
        assert!(!none.registered);
        assert_eq!(none.components.stake_ppm, 0);
        assert_eq!(none.byz_factor_ppm, 1_000_000);

        let text = reputation_text(&v);
        assert!(
            text.contains("byzantine factor:     50 % (500000 ppm)"),
            "{text}"
        );
        assert!(text.contains("validator blocks none yet"), "{text}");
        assert!(reputation_text(&none).contains("not a registered operator"));
    }
}
