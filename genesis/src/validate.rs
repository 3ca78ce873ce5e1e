//! Every problem with a genesis file, then a dry run of InitChain.
//!
//! Checks, in order (all of them run; nothing stops at the first problem):
//! 1. JSON, field by field: every field of the document, of `consensus_params` and of each
//!    module in `app_state` is read on its own, so one wrong type does not hide the next.
//! 2. The rules CometBFT 0.38 applies when it loads a genesis (`ValidateAndComplete`,
//!    `ConsensusParams.ValidateBasic`): chain id length, initial height, param ranges.
//! 3. nodeop's own rules: a genesis time every node reads the same way, `validators` left empty
//!    (the app returns them), ed25519 allowed, blocks large enough for the largest tx, the app
//!    version this build implements.
//! 4. [`AppState::problems`] (every module's content).
//! 5. When all of that passes: InitChain on an in-memory store ([`dry_run`]), with invariants on.

use nodeop_app::app::{AppError, InitChainRequest};
use nodeop_app::crypto::Address;
use nodeop_app::genesis::AppState;
use nodeop_app::{App, AppOptions};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::doc::{int_str, GenesisDoc, GenesisValidator};
use crate::{parse_rfc3339, validator_address, APP_VERSION, MAX_CHAIN_ID_LEN};

/// CometBFT's upper bound on block.max_bytes (types.MaxBlockSizeBytes, 100 MiB).
pub const MAX_BLOCK_SIZE_BYTES: i64 = 104_857_600;

/// The outcome of [`validate_json`].
#[derive(Debug, Default)]
pub struct Validation {
    /// Every problem found; empty means the genesis is valid.
    pub problems: Vec<String>,
    /// The document, when it parses.
    pub doc: Option<GenesisDoc>,
    /// The dry run's result, when every check before it passed.
    pub dry_run: Option<DryRun>,
}

impl Validation {
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// What InitChain would answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DryRun {
    pub chain_id: String,
    pub initial_height: u64,
    pub app_hash: [u8; 32],
    pub validators: Vec<DryRunValidator>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DryRunValidator {
    /// CometBFT's address: SHA-256(pub_key)[..20].
    pub address: [u8; 20],
    pub pub_key: [u8; 32],
    pub power: u64,
    /// The operator whose consensus key this is (`None` only if InitChain returned a key no
    /// genesis operator has, which the app's invariants rule out).
    pub operator: Option<Address>,
    pub moniker: String,
}

const DOC_FIELDS: [&str; 7] = [
    "genesis_time",
    "chain_id",
    "initial_height",
    "consensus_params",
    "validators",
    "app_hash",
    "app_state",
];

/// The sections of `app_state`, in the order `AppState` serializes them (one per module, plus
/// `tx`): read from the type itself, so a new module's section needs no edit here.
fn app_state_fields() -> Vec<String> {
    match serde_json::to_value(AppState::default()) {
        Ok(Value::Object(m)) => m.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

/// Reads `value` as a `T`, recording a problem under `path` when it does not fit.
fn field<T: DeserializeOwned>(value: &Value, path: &str, problems: &mut Vec<String>) -> Option<T> {
    match T::deserialize(value) {
        Ok(v) => Some(v),
        Err(e) => {
            problems.push(format!("{path}: {e}"));
            None
        }
    }
}

/// A 64-bit integer written as a JSON string.
#[derive(serde::Deserialize)]
#[serde(transparent)]
struct IntStr<T: std::str::FromStr>(#[serde(with = "int_str")] T);

fn unknown_keys(obj: &Map<String, Value>, known: &[&str], path: &str, problems: &mut Vec<String>) {
    for k in obj.keys() {
        if !known.contains(&k.as_str()) {
            problems.push(format!(
                "{path}{k}: unknown field (known: {})",
                known.join(", ")
            ));
        }
    }
}

/// Validates a genesis file's bytes: every problem, then (if there are none) a dry run.
pub fn validate_json(bytes: &[u8]) -> Validation {
    let mut out = Validation::default();
    let p = &mut out.problems;
    let root: Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(e) => {
            p.push(format!("not JSON: {e}"));
            return out;
        }
    };
    let Some(obj) = root.as_object() else {
        p.push("the document must be a JSON object".into());
        return out;
    };
    unknown_keys(obj, &DOC_FIELDS, "", p);

    // genesis_time
    match obj.get("genesis_time") {
        None | Some(Value::Null) => p.push(
            "genesis_time: missing; without it every node would use its own clock and the nodes \
             would disagree on genesis"
                .into(),
        ),
        Some(v) => {
            if let Some(s) = field::<String>(v, "genesis_time", p) {
                match parse_rfc3339(&s) {
                    Err(e) => p.push(format!("genesis_time: {e}")),
                    // Go's zero time: CometBFT replaces it with each node's clock.
                    Ok(t) if t.seconds == -62_135_596_800 && t.nanos == 0 => p.push(
                        "genesis_time: the zero time; CometBFT would replace it with each node's \
                         clock and the nodes would disagree on genesis"
                            .into(),
                    ),
                    Ok(_) => {}
                }
            }
        }
    }

    // chain_id
    let mut chain_id = None;
    let mut chain_id_flagged = false;
    match obj.get("chain_id") {
        None | Some(Value::Null) => {
            p.push("chain_id: missing".into());
            chain_id_flagged = true;
        }
        Some(v) => {
            if let Some(s) = field::<String>(v, "chain_id", p) {
                if s.is_empty() || s.len() > MAX_CHAIN_ID_LEN {
                    p.push(format!(
                        "chain_id: {s:?} must be 1 to {MAX_CHAIN_ID_LEN} bytes (CometBFT's limit)"
                    ));
                    chain_id_flagged = true;
                }
                chain_id = Some(s);
            } else {
                chain_id_flagged = true;
            }
        }
    }

    // initial_height
    if let Some(v) = obj.get("initial_height") {
        if let Some(IntStr(h)) = field::<IntStr<i64>>(v, "initial_height", p) {
            if h < 0 {
                p.push(format!("initial_height: {h} is negative"));
            }
        }
    }

    // app_state, typed module by module
    let mut app_state: Option<AppState> = None;
    match obj.get("app_state") {
        None | Some(Value::Null) => p.push(
            "app_state: missing; it holds the accounts, params and operators \
             (`nodeopd init` writes the defaults)"
                .into(),
        ),
        Some(Value::Object(modules)) => {
            let known = app_state_fields();
            let known: Vec<&str> = known.iter().map(String::as_str).collect();
            unknown_keys(modules, &known, "app_state.", p);
            // each section on its own (the others at their defaults), so that every section's
            // problem is reported, not just the first
            let mut all_parsed = true;
            for (name, section) in modules {
                if !known.contains(&name.as_str()) {
                    continue;
                }
                let mut only = Map::new();
                only.insert(name.clone(), section.clone());
                if field::<AppState>(&Value::Object(only), &format!("app_state.{name}"), p)
                    .is_none()
                {
                    all_parsed = false;
                }
            }
            if all_parsed {
                app_state = field::<AppState>(&Value::Object(modules.clone()), "app_state", p);
            }
        }
        Some(other) => p.push(format!("app_state: must be a JSON object, found {other}")),
    }

    // consensus_params (missing: CometBFT's defaults, which pass)
    match obj.get("consensus_params") {
        None | Some(Value::Null) => {}
        Some(Value::Object(cp)) => {
            let max_tx_bytes = app_state.as_ref().map(|s| s.tx.max_tx_bytes);
            consensus_param_problems(cp, max_tx_bytes, p);
        }
        Some(other) => p.push(format!(
            "consensus_params: must be a JSON object, found {other}"
        )),
    }

    // validators: nodeop leaves them to InitChain
    match obj.get("validators") {
        None | Some(Value::Null) => {}
        Some(v) => {
            if let Some(list) = field::<Vec<GenesisValidator>>(v, "validators", p) {
                if !list.is_empty() {
                    p.push(format!(
                        "validators: {} entries, but nodeop's validators are the top operators \
                         in app_state.staking.operators (InitChain returns them and CometBFT \
                         would ignore these); leave the list empty and use \
                         `nodeopd genesis add-validator`",
                        list.len()
                    ));
                }
            }
        }
    }

    // app_hash
    if let Some(v) = obj.get("app_hash") {
        if let Some(s) = field::<Option<String>>(v, "app_hash", p).flatten() {
            if hex::decode(&s).is_err() {
                p.push(format!("app_hash: {s:?} is not hex"));
            }
        }
    }

    // every module's content
    if let Some(state) = &app_state {
        for problem in state.problems(chain_id.as_deref().unwrap_or("")) {
            // The chain id rule is the same one already reported above.
            if chain_id_flagged && problem.starts_with("chain_id") {
                continue;
            }
            p.push(format!("app_state: {problem}"));
        }
    }

    match GenesisDoc::deserialize_value(&root) {
        Ok(doc) => out.doc = Some(doc),
        Err(e) => {
            if out.problems.is_empty() {
                out.problems.push(e);
            }
        }
    }
    if out.problems.is_empty() {
        if let Some(doc) = &out.doc {
            match dry_run(doc) {
                Ok(run) => {
                    if !doc.app_hash.is_empty()
                        && !doc
                            .app_hash
                            .eq_ignore_ascii_case(&hex::encode(run.app_hash))
                    {
                        out.problems.push(format!(
                            "app_hash: {} but InitChain gives {}; leave it empty",
                            doc.app_hash,
                            hex::encode_upper(run.app_hash)
                        ));
                    }
                    out.dry_run = Some(run);
                }
                Err(problems) => out.problems.extend(
                    problems
                        .into_iter()
                        .map(|e| format!("dry run of InitChain: {e}")),
                ),
            }
        }
    }
    out
}

impl GenesisDoc {
    fn deserialize_value(v: &Value) -> Result<Self, String> {
        serde::Deserialize::deserialize(v).map_err(|e: serde_json::Error| e.to_string())
    }
}

/// One section of `consensus_params`, read field by field so that every bad field is named.
struct Section<'a> {
    name: &'static str,
    obj: Option<&'a Map<String, Value>>,
}

impl<'a> Section<'a> {
    fn new(
        cp: &'a Map<String, Value>,
        name: &'static str,
        fields: &[&str],
        p: &mut Vec<String>,
    ) -> Self {
        let obj = match cp.get(name) {
            None | Some(Value::Null) => None,
            Some(Value::Object(o)) => {
                unknown_keys(o, fields, &format!("consensus_params.{name}."), p);
                Some(o)
            }
            Some(other) => {
                p.push(format!(
                    "consensus_params.{name}: must be a JSON object, found {other}"
                ));
                None
            }
        };
        Self { name, obj }
    }

    /// A 64-bit integer field; missing reads as 0 (Go's zero value), unreadable as `None`.
    fn int<T: std::str::FromStr + Default>(&self, key: &str, p: &mut Vec<String>) -> Option<T> {
        match self.obj.and_then(|o| o.get(key)) {
            None => Some(T::default()),
            Some(v) => field::<IntStr<T>>(v, &format!("consensus_params.{}.{key}", self.name), p)
                .map(|x| x.0),
        }
    }
}

/// CometBFT's `ConsensusParams.ValidateBasic` (v0.38), plus nodeop's requirements.
fn consensus_param_problems(
    cp: &Map<String, Value>,
    max_tx_bytes: Option<u64>,
    p: &mut Vec<String>,
) {
    unknown_keys(
        cp,
        &["block", "evidence", "validator", "version", "abci"],
        "consensus_params.",
        p,
    );
    let block = Section::new(cp, "block", &["max_bytes", "max_gas"], p);
    let evidence = Section::new(
        cp,
        "evidence",
        &["max_age_num_blocks", "max_age_duration", "max_bytes"],
        p,
    );
    let validator = Section::new(cp, "validator", &["pub_key_types"], p);
    let version = Section::new(cp, "version", &["app"], p);
    let abci = Section::new(cp, "abci", &["vote_extensions_enable_height"], p);

    let max_bytes = block.int::<i64>("max_bytes", p);
    if let Some(max_bytes) = max_bytes {
        if max_bytes == 0 {
            p.push("consensus_params.block.max_bytes: must not be 0".into());
        } else if max_bytes < -1 {
            p.push(format!(
                "consensus_params.block.max_bytes: {max_bytes} must be -1 or positive"
            ));
        } else if max_bytes > MAX_BLOCK_SIZE_BYTES {
            p.push(format!(
                "consensus_params.block.max_bytes: {max_bytes} exceeds CometBFT's maximum \
                 {MAX_BLOCK_SIZE_BYTES}"
            ));
        } else if let Some(max_tx) = max_tx_bytes {
            if max_bytes > 0 && i128::from(max_bytes) < i128::from(max_tx) {
                p.push(format!(
                    "consensus_params.block.max_bytes: {max_bytes} is below \
                     app_state.tx.max_tx_bytes = {max_tx}; a valid tx could never fit in a block"
                ));
            }
        }
    }
    if let Some(max_gas) = block.int::<i64>("max_gas", p) {
        if max_gas < -1 {
            p.push(format!(
                "consensus_params.block.max_gas: {max_gas} must be -1 or more"
            ));
        }
    }
    if let Some(n) = evidence.int::<i64>("max_age_num_blocks", p) {
        if n <= 0 {
            p.push(format!(
                "consensus_params.evidence.max_age_num_blocks: {n} must be positive"
            ));
        }
    }
    if let Some(d) = evidence.int::<i64>("max_age_duration", p) {
        if d <= 0 {
            p.push(format!(
                "consensus_params.evidence.max_age_duration: {d} ns must be positive"
            ));
        }
    }
    if let Some(e) = evidence.int::<i64>("max_bytes", p) {
        let block_limit = match max_bytes {
            Some(-1) => Some(MAX_BLOCK_SIZE_BYTES),
            Some(b) if b > 0 => Some(b),
            _ => None,
        };
        if e < 0 {
            p.push(format!(
                "consensus_params.evidence.max_bytes: {e} must not be negative"
            ));
        } else if let Some(limit) = block_limit.filter(|l| e > *l) {
            p.push(format!(
                "consensus_params.evidence.max_bytes: {e} exceeds block.max_bytes {limit}"
            ));
        }
    }
    let types = match validator.obj.and_then(|o| o.get("pub_key_types")) {
        None | Some(Value::Null) => Some(Vec::new()),
        Some(v) => field::<Vec<String>>(v, "consensus_params.validator.pub_key_types", p),
    };
    if let Some(types) = types {
        if types.is_empty() {
            p.push("consensus_params.validator.pub_key_types: must not be empty".into());
        } else if !types.iter().any(|t| t == "ed25519") {
            p.push(format!(
                "consensus_params.validator.pub_key_types: {types:?} lacks \"ed25519\", the key \
                 type of nodeop's validators"
            ));
        }
    }
    if let Some(app) = version.int::<u64>("app", p) {
        if app != APP_VERSION {
            p.push(format!(
                "consensus_params.version.app: {app} but this nodeopd implements app version \
                 {APP_VERSION}"
            ));
        }
    }
    if let Some(h) = abci.int::<i64>("vote_extensions_enable_height", p) {
        if h < 0 {
            p.push(format!(
                "consensus_params.abci.vote_extensions_enable_height: {h} must not be negative"
            ));
        }
    }
}

/// Runs InitChain for `doc` on an in-memory store, invariants on.
pub fn dry_run(doc: &GenesisDoc) -> Result<DryRun, Vec<String>> {
    let time = parse_rfc3339(&doc.genesis_time).map_err(|e| vec![format!("genesis_time: {e}")])?;
    let app_state = serde_json::to_vec(&doc.app_state).map_err(|e| vec![e.to_string()])?;
    let operators = doc
        .app_state()
        .map(|s| s.staking.operators)
        .unwrap_or_default();
    let options = AppOptions {
        check_invariants: true,
        ..AppOptions::default()
    };
    let mut app = App::in_memory(options).map_err(|e| vec![e.to_string()])?;
    let req = InitChainRequest {
        chain_id: doc.chain_id.clone(),
        genesis_time: time,
        initial_height: doc.first_height(),
        app_state,
    };
    let resp = app.init_chain(&req).map_err(|e| match e {
        AppError::Genesis(problems) => problems,
        other => vec![other.to_string()],
    })?;
    let validators = resp
        .validators
        .iter()
        .map(|v| {
            let operator = operators
                .iter()
                .find(|o| o.consensus_pubkey == v.ed25519_pubkey);
            DryRunValidator {
                address: validator_address(&v.ed25519_pubkey),
                pub_key: v.ed25519_pubkey,
                power: v.power,
                operator: operator.map(|o| o.address),
                moniker: operator.map(|o| o.moniker.clone()).unwrap_or_default(),
            }
        })
        .collect();
    Ok(DryRun {
        chain_id: doc.chain_id.clone(),
        initial_height: doc.first_height(),
        app_hash: resp.app_hash,
        validators,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use nodeop_app::modules::bank::UNOP_PER_NOP;

    const OPERATOR: Address = Address([9; 20]);

    fn good() -> GenesisDoc {
        let mut doc =
            GenesisDoc::new("nodeop-t", "2026-01-01T00:00:00Z", &AppState::default()).unwrap();
        let key = ed25519_consensus::SigningKey::from([9; 32])
            .verification_key()
            .to_bytes();
        doc.add_operator(OPERATOR, key, "v0", 10_000 * UNOP_PER_NOP, 0, 100, "eu")
            .unwrap();
        doc.add_account(Address([3; 20]), 5_000_000).unwrap();
        doc
    }

    #[test]
    fn a_good_genesis_passes_and_dry_runs() {
        let v = validate_json(good().to_json().as_bytes());
        assert!(v.is_ok(), "{:?}", v.problems);
        let run = v.dry_run.expect("dry run");
        assert_eq!(run.validators.len(), 1);
        // power = tokens / power_reduction (1 NOP)
        assert_eq!(run.validators[0].power, 10_000);
        assert_eq!(run.validators[0].moniker, "v0");
        assert_eq!(run.validators[0].operator, Some(OPERATOR));
        assert_eq!(run.initial_height, 1);
        // deterministic
        assert_eq!(dry_run(&good()).unwrap().app_hash, run.app_hash);
    }

    #[test]
    fn every_problem_is_listed() {
        let mut json: Value = serde_json::from_str(&good().to_json()).unwrap();
        json["chain_id"] = Value::String(String::new());
        json["genesis_time"] = Value::String("last tuesday".into());
        json["initial_height"] = serde_json::json!(3);
        json["consensus_params"]["block"]["max_bytes"] = Value::String("0".into());
        json["consensus_params"]["evidence"]["max_age_num_blocks"] = serde_json::json!(5);
        json["consensus_params"]["validator"]["pub_key_types"] = serde_json::json!(["secp256k1"]);
        json["validators"] = serde_json::json!([{
            "address": "", "pub_key": {"type": "tendermint/PubKeyEd25519",
            "value": "wLmLqz3aflSOU2WXesxiv/ebw1qbAXQJeXsVcYBKdQQ="}, "power": "1", "name": ""
        }]);
        json["app_state"]["staking"]["operators"][0]["moniker"] = Value::String(String::new());
        json["app_state"]["staking"]["operators"][0]["tokens"] = Value::String("1".into());
        json["app_state"]["bank"]["max_supply"] = Value::String("1".into());
        json["extra"] = Value::Bool(true);
        let v = validate_json(json.to_string().as_bytes());
        let all = v.problems.join("\n");
        for needle in [
            "extra: unknown field",
            "genesis_time: \"last tuesday\" is not an RFC 3339 time",
            "chain_id: \"\" must be 1 to 50 bytes",
            "initial_height: 3 must be a JSON string",
            "consensus_params.block.max_bytes: must not be 0",
            "consensus_params.evidence.max_age_num_blocks: 5 must be a JSON string",
            "lacks \"ed25519\"",
            "validators: 1 entries, but nodeop's validators are the top operators in \
             app_state.staking.operators",
            "(\"\"): moniker must be 1..=70 bytes",
            "bonded_pool = 10000000000 but the operators' pools hold 1",
            "exceeds max_supply 1",
        ] {
            assert!(all.contains(needle), "missing {needle:?} in:\n{all}");
        }
        // the chain id problem is reported once
        assert_eq!(
            v.problems
                .iter()
                .filter(|l| l.contains("1 to 50 bytes"))
                .count(),
            1,
            "{all}"
        );
        assert!(v.dry_run.is_none());
    }

    #[test]
    fn schema_errors_in_several_modules_are_all_reported() {
        let mut json: Value = serde_json::from_str(&good().to_json()).unwrap();
        json["app_state"]["tx"]["max_tx_bytes"] = Value::String("big".into());
        json["app_state"]["bank"]["accounts"][0]["address"] = Value::String("cosmos1xyz".into());
        json["app_state"]["nonsense"] = Value::Bool(true);
        json["app_state"]["coprocessors"]["params"]["collateral_ppm"] = Value::String("x".into());
        let v = validate_json(json.to_string().as_bytes());
        let all = v.problems.join("\n");
        assert!(all.contains("app_state.coprocessors:"), "{all}");
        assert!(
            !all.contains("app_state.coprocessors: unknown field"),
            "{all}"
        );
        assert!(all.contains("app_state.tx:"), "{all}");
        assert!(all.contains("app_state.bank:"), "{all}");
        assert!(all.contains("app_state.nonsense: unknown field"), "{all}");
    }

    #[test]
    fn blocks_must_hold_the_largest_tx_and_app_version_must_match() {
        let mut doc = good();
        let cp = doc.consensus_params.as_mut().unwrap();
        cp.block.max_bytes = 1000;
        cp.evidence.max_bytes = 500;
        cp.version.app = 7;
        let v = validate_json(doc.to_json().as_bytes());
        let all = v.problems.join("\n");
        assert!(all.contains("a valid tx could never fit"), "{all}");
        assert!(all.contains("implements app version 1"), "{all}");
    }

    #[test]
    fn garbage_is_reported_not_panicked_on() {
        for bytes in [
            &b""[..],
            b"[]",
            b"{",
            b"null",
            b"{\"app_state\": 5}",
            &[0xff, 0xfe],
        ] {
            let v = validate_json(bytes);
            assert!(!v.is_ok());
        }
    }

    #[test]
    fn a_wrong_app_hash_is_a_problem() {
        let mut doc = good();
        doc.app_hash = "AB".repeat(32);
        let v = validate_json(doc.to_json().as_bytes());
        assert!(
            v.problems.iter().any(|p| p.contains("leave it empty")),
            "{:?}",
            v.problems
        );
    }
}
