//! Tasks (PROTOCOL.md §3.4): posting a task, the commit–reveal of a committee member's result,
//! confirming a delivery; the rest by concern:
//!
//! - [`codec`] — result bytes: numeric fixed point, text ↔ bytes.
//! - [`salts`] — the salt store of commit–reveal ([`salts::SaltStore`]; the salt is saved before
//!   the commit is broadcast).
//! - [`reads`] — the `/tasks/…` reads.
//! - [`result_path`] — a result's Merkle path to its block's root, checked with the app's tree,
//!   also against proven records.
//!
//! Their text for people is [`crate::render::tasks`]; the messages are the app's
//! ([`Msg::from`] a [`MsgPostTask`], [`Msg::commit_result`], [`Msg::reveal_result`],
//! [`Msg::confirm_submission`]).

pub mod codec;
pub mod reads;
pub mod result_path;
pub mod salts;

pub use result_path::{check_against_proven, proven_result, verify_result_path, ProvenResult};
pub use salts::{SaltStore, StoredSalt};

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{anyhow, bail, Result};
use nodeop_app::modules::tasks::MsgPostTask;
use nodeop_app::tx::{Msg, Tx};
use tendermint_rpc::HttpClient;

use crate::keys::KeyPair;
use crate::node::{event_attribute, node_chain_id, submit, TxOptions, TxOutcome};

/// Parses a 32-byte hash given as 64 hex digits (an optional `0x` prefix is allowed).
pub fn parse_sha256(what: &str, hex_str: &str) -> Result<[u8; 32]> {
    let s = hex_str.trim();
    let s = s.strip_prefix("0x").unwrap_or(s);
    let bytes = hex::decode(s).map_err(|_| anyhow!("{what} {hex_str:?} is not hex"))?;
    bytes
        .try_into()
        .map_err(|b: Vec<u8>| anyhow!("{what} is 32 bytes (64 hex digits), got {} bytes", b.len()))
}

/// The fee a task of `difficulty_units` needs at `unit_price` (unop per unit).
pub fn fee_for(difficulty_units: u64, unit_price: u128) -> Result<u128> {
    unit_price
        .checked_mul(u128::from(difficulty_units))
        .ok_or_else(|| anyhow!("difficulty {difficulty_units} × unit price {unit_price} overflows"))
}

/// The chain id of `opts`, else the node's.
async fn chain_of(client: &HttpClient, opts: &TxOptions) -> Result<String> {
    match &opts.chain_id {
        Some(c) => Ok(c.clone()),
        None => node_chain_id(client).await,
    }
}

/// Submits a `tasks.post` from `key` (the client, whose `fee` is escrowed).
pub async fn post_task(
    client: &HttpClient,
    key: &KeyPair,
    msg: MsgPostTask,
    opts: &TxOptions,
) -> Result<(Tx, TxOutcome)> {
    submit(client, key, vec![msg.into()], opts).await
}

/// What [`commit_result`] did: the salt entry (stored before the broadcast), where it is, and
/// the tx.
#[derive(Clone, Debug)]
pub struct Committed {
    pub entry: StoredSalt,
    pub salt_file: PathBuf,
    pub tx: Tx,
    pub outcome: TxOutcome,
}

/// Commits `key`'s member to `result` for `task_id`: takes the salt from the store (a fresh one,
/// or the stored one for the same result; see [`SaltStore::prepare`]), **saves it**, then signs
/// and broadcasts the `tasks.commit`. If the broadcast fails the salt stays stored, so the
/// commit can be retried with the same commitment.
pub async fn commit_result(
    client: &HttpClient,
    key: &KeyPair,
    store: &SaltStore,
    task_id: u64,
    result: &[u8],
    replace_salt: bool,
    opts: &TxOptions,
) -> Result<Committed> {
    let chain_id = chain_of(client, opts).await?;
    let member = key.address();
    let entry = store.prepare(&chain_id, task_id, &member, result, replace_salt)?;
    let salt_file = store.save(&entry)?;
    let mut opts = opts.clone();
    opts.chain_id = Some(chain_id);
    let (tx, outcome) = submit(
        client,
        key,
        vec![Msg::commit_result(
            task_id,
            &member,
            &entry.result,
            &entry.salt,
        )],
        &opts,
    )
    .await?;
    Ok(Committed {
        entry,
        salt_file,
        tx,
        outcome,
    })
}

/// Reveals the result and salt `key`'s member committed to for `task_id`, read from the store;
/// a [`crate::ClientError::NoStoredSalt`] error (before anything is sent) when none is stored.
pub async fn reveal_result(
    client: &HttpClient,
    key: &KeyPair,
    store: &SaltStore,
    task_id: u64,
    opts: &TxOptions,
) -> Result<(StoredSalt, Tx, TxOutcome)> {
    let chain_id = chain_of(client, opts).await?;
    let entry = store.load(&chain_id, task_id, &key.address())?;
    let mut opts = opts.clone();
    opts.chain_id = Some(chain_id);
    let (tx, outcome) = submit(
        client,
        key,
        vec![Msg::reveal_result(task_id, &entry.result, &entry.salt)],
        &opts,
    )
    .await?;
    Ok((entry, tx, outcome))
}

/// Submits a `tasks.confirm` from `key` (the scheduled submitter of the open window).
pub async fn confirm_submission(
    client: &HttpClient,
    key: &KeyPair,
    task_id: u64,
    target_ref: &str,
    opts: &TxOptions,
) -> Result<(Tx, TxOutcome)> {
    submit(
        client,
        key,
        vec![Msg::confirm_submission(task_id, target_ref)],
        opts,
    )
    .await
}

/// Waits until the node's application has committed `height` (polling), at most `timeout`, so
/// that a tx sent next is checked for a later block; returns the application's height then.
pub async fn wait_for_height(client: &HttpClient, height: u64, timeout: Duration) -> Result<u64> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        // the application's height: CheckTx runs on its committed state
        let latest = crate::node::app_height(client).await?;
        if latest >= height {
            return Ok(latest);
        }
        if tokio::time::Instant::now() >= deadline {
            bail!(
                "the chain is at height {latest}, not yet {height}, after {} s",
                timeout.as_secs()
            );
        }
        tokio::time::sleep(crate::node::POLL_INTERVAL).await;
    }
}

/// The id of the task an included `tasks.post` opened (its `task_posted` event).
pub fn posted_task_id(outcome: &TxOutcome) -> Option<u64> {
    event_attribute(
        outcome,
        nodeop_app::modules::tasks::events::TASK_POSTED,
        "task",
    )
    .and_then(|v| v.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use nodeop_app::modules::tasks::{Consistency, TaskKind, TaskPayload};

    fn commit(e: &StoredSalt) -> Msg {
        Msg::commit_result(e.task_id, &e.member, &e.result, &e.salt)
    }

    fn reveal(e: &StoredSalt) -> Msg {
        Msg::reveal_result(e.task_id, &e.result, &e.salt)
    }

    #[test]
    fn task_messages_sign_into_txs_the_chain_accepts_and_show_in_tx_views() {
        use crate::tx::{build_tx, encode_tx, sign_tx, MsgView, TxView};
        use nodeop_app::crypto::Verifier;
        use nodeop_app::params::TxParams;
        use nodeop_app::tx::check_stateless;
        let key = KeyPair::from_secret_hex(&"55".repeat(32)).unwrap();
        let params = TxParams::default();
        let entry = StoredSalt::with_salt("nodeop-devnet", 4, &key.address(), b"ok", [3; 32]);
        let post = Msg::from(MsgPostTask {
            kind: TaskKind::Numeric {
                scale: 2,
                tolerance_ppm: 5_000,
            },
            consistency: Consistency::Session,
            payload: TaskPayload::Reference {
                sha256: [7; 32],
                uri: "ipfs://x".into(),
            },
            difficulty_units: 3,
            min_reputation_ppm: 600_000,
            fee: 4_500,
        });
        for (msg, name) in [
            (post.clone(), "tasks.post"),
            (commit(&entry), "tasks.commit"),
            (reveal(&entry), "tasks.reveal"),
            (Msg::confirm_submission(4, "consumer-tx-1"), "tasks.confirm"),
        ] {
            let body = build_tx("nodeop-devnet", 1, vec![msg.clone()], None, "", &params).unwrap();
            let bytes = encode_tx(&sign_tx(body, &key).unwrap()).unwrap();
            let checked =
                check_stateless(&bytes, "nodeop-devnet", &params, &Verifier::default(), &())
                    .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(checked.tx.body.msgs, vec![msg.clone()]);
            let json = serde_json::to_value(TxView::from(&checked.tx)).unwrap();
            assert_eq!(json["msgs"][0]["type"], name);
        }
        let json = serde_json::to_value(MsgView::from(&post)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "type": "tasks.post",
                "kind": {"numeric": {"scale": 2, "tolerance_ppm": 5000}},
                "consistency": "session",
                "payload": {"reference": {"sha256": "07".repeat(32), "uri": "ipfs://x"}},
                "difficulty_units": 3,
                "min_reputation_ppm": 600000,
                "fee": "4500",
            })
        );
        assert_eq!(
            MsgView::from(&post).describe(),
            format!(
                "tasks.post numeric (scale 2, tolerance 0.5 % (5000 ppm)) task, session consistency, 3 difficulty units, minimum reputation 60 % (600000 ppm), fee 0.004500 NOP (4500 unop), payload reference sha256 {} at \"ipfs://x\"",
                "07".repeat(32)
            )
        );
        let json = serde_json::to_value(MsgView::from(&reveal(&entry))).unwrap();
        assert_eq!(json["result"], hex::encode(b"ok"));
        assert_eq!(json["salt"], "03".repeat(32));
        assert_eq!(
            MsgView::from(&Msg::confirm_submission(4, "r")).describe(),
            "tasks.confirm task 4: delivered as \"r\""
        );
        let json = serde_json::to_value(MsgView::from(&commit(&entry))).unwrap();
        assert_eq!(json["commitment"], hex::encode(entry.commitment));
    }

    #[test]
    fn bad_task_messages_are_refused_before_signing() {
        use crate::tx::build_tx;
        use nodeop_app::params::TxParams;
        let params = TxParams::default();
        let build = |msg: Msg| {
            build_tx("c", 0, vec![msg], None, "", &params)
                .map(|_| ())
                .map_err(|e| format!("{e:#}"))
        };
        let post = |edit: &dyn Fn(&mut MsgPostTask)| {
            let mut m = MsgPostTask {
                kind: TaskKind::Exact,
                consistency: Consistency::Eventual,
                payload: TaskPayload::Inline(b"p".to_vec()),
                difficulty_units: 1,
                min_reputation_ppm: 0,
                fee: 1,
            };
            edit(&mut m);
            build(Msg::PostTask(m))
        };
        assert!(post(&|_| ()).is_ok());
        let e = post(&|m| m.difficulty_units = 0).unwrap_err();
        assert!(
            e.contains("tasks.post: invalid_field: difficulty_units"),
            "{e}"
        );
        assert!(post(&|m| m.fee = 0).is_err());
        assert!(post(&|m| m.min_reputation_ppm = 1_000_001).is_err());
        assert!(post(&|m| m.payload = TaskPayload::Inline(Vec::new())).is_err());
        assert!(post(&|m| m.kind = TaskKind::Numeric {
            scale: 19,
            tolerance_ppm: 0
        })
        .is_err());
        assert!(post(&|m| m.payload = TaskPayload::Reference {
            sha256: [0; 32],
            uri: "has space".into()
        })
        .is_err());
        let e = build(Msg::confirm_submission(1, "")).unwrap_err();
        assert!(
            e.contains("tasks.confirm: invalid_field: target_ref"),
            "{e}"
        );
        assert!(build(Msg::confirm_submission(1, &"r".repeat(129))).is_err());
        assert!(build(Msg::confirm_submission(1, &"r".repeat(128))).is_ok());
    }

    /// A recorded one-validator devnet (`nodeop tx task post|commit|reveal` against nodeopd +
    /// cometbft) at height 145, header 146: task 2 is a Numeric task (scale 2) whose single
    /// member revealed -1.25, finalized at height 88 and then went undelivered; task 99 does not
    /// exist. `/tasks/result/2` is the node's unproven answer with the path.

    #[test]
    fn the_task_id_comes_from_the_posted_event() {
        let outcome = crate::node::outcome_with_event(
            nodeop_app::modules::tasks::events::TASK_POSTED,
            "task",
            "12",
        );
        assert_eq!(posted_task_id(&outcome), Some(12));
        assert_eq!(fee_for(5, 1_000).unwrap(), 5_000);
        assert!(fee_for(u64::MAX, u128::MAX).is_err());
    }
}
