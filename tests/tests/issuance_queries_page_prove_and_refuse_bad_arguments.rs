//! The `/issuance/…` query paths: period and metrics lists page with `limit`/`after` and end
//! with `next: null`; records answer at past heights and with proofs; computed answers (supply,
//! subsidy, vesting) agree with the state; bad arguments, unknown paths, absent records and
//! proofs of listings are refused with their documented query codes.

use nodeop_app::error::QueryError;
use nodeop_app::modules::issuance::{keys, IssuanceParams, PeriodRecord};
use nodeop_app::query::verify_proof;
use nodeop_driver::chain::{genesis, Key, TestChain};
use nodeop_driver::issuance::{enter_period, schedule, GENESIS_TIME};
use serde_json::Value;

fn json(chain: &TestChain, path: &str) -> Value {
    let r = chain.query(path, &[], 0, false);
    assert_eq!(r.code, 0, "{path}: {}", r.log);
    serde_json::from_slice(&r.value).unwrap()
}

fn refused(chain: &TestChain, path: &str, prove: bool) -> u32 {
    let r = chain.query(path, &[], 0, prove);
    assert_eq!(r.codespace, "query", "{path}: {}", r.log);
    r.code
}

#[test]
fn issuance_queries_page_prove_and_refuse_bad_arguments() {
    let team = Key::from_seed("team");
    let mut g = genesis(&[(team.address, 5_000_000)]);
    g.staking.params.epoch_seconds = 10;
    g.issuance.params = IssuanceParams {
        issuance_period_epochs: 1,
        subsidy_periods: 4,
    };
    g.issuance
        .vesting
        .push(schedule(&team.address, 9_000_000, GENESIS_TIME, 50, 100));
    let mut chain = TestChain::start(&g);
    enter_period(&mut chain, 5);
    let h5 = chain.height;
    enter_period(&mut chain, 7);

    // periods 0..=6, two at a time
    let mut seen = Vec::new();
    let mut after: Option<u64> = None;
    loop {
        let path = match after {
            None => "/issuance/periods?limit=2".to_string(),
            Some(a) => format!("/issuance/periods?limit=2&after={a}"),
        };
        let page = json(&chain, &path);
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(|r| r["period"].as_u64().unwrap()));
        match page["next"].as_str() {
            Some(n) => after = Some(n.parse().unwrap()),
            None => break,
        }
    }
    assert_eq!(seen, (0..=6).collect::<Vec<_>>());
    let metrics = json(&chain, "/issuance/metrics?limit=3&after=2");
    let epochs: Vec<u64> = metrics["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["epoch"].as_u64().unwrap())
        .collect();
    assert_eq!(epochs, vec![3, 4, 5]);
    assert_eq!(metrics["next"], "5");

    // a record at a past height, and with a proof
    let r = chain.query("/issuance/period/6", &[], h5, false);
    assert_eq!(
        r.code,
        QueryError::NotFound(String::new()).code(),
        "not yet at h5"
    );
    let r = chain.query("/issuance/period/4", &[], h5, true);
    assert_eq!(r.code, 0, "{}", r.log);
    assert_eq!(r.key, keys::period(4));
    let rec: PeriodRecord = borsh::from_slice(&r.value).unwrap();
    assert_eq!(rec.period, 4);
    assert_eq!(rec.subsidy_ppm, 0, "S = 4");
    let v: Value = serde_json::from_str(&r.info).unwrap();
    assert_eq!(v["period"], 4);
    let root = chain
        .app
        .storage()
        .root_at(h5)
        .unwrap()
        .expect("root of h5");
    verify_proof(&r.proof_ops[0], &root, &r.key, Some(&r.value)).unwrap();

    // computed answers
    let supply = json(&chain, "/issuance/supply");
    let s = chain.supply();
    assert_eq!(supply["total_supply"], s.total_supply.to_string());
    assert_eq!(supply["room"], (s.max_supply - s.total_supply).to_string());
    assert_eq!(supply["vesting_unclaimed"], "9000000");
    assert_eq!(supply["reward_pool"], "0");
    let subsidy = json(&chain, "/issuance/subsidy");
    assert_eq!(subsidy["period"], 7);
    assert_eq!(subsidy["subsidy_ppm"], 0);
    assert_eq!(subsidy["first_epoch"], 7);
    let vesting = json(&chain, &format!("/issuance/vesting/{}", team.address));
    // the last block is at 70 s: past the 50 s cliff, 70 % of the 100 s vested
    assert_eq!(vesting["time"], GENESIS_TIME + 70);
    assert_eq!(vesting["claimable"], "6300000");
    assert_eq!(vesting["cliff_ends"], GENESIS_TIME + 50);
    let params = json(&chain, "/issuance/params");
    assert_eq!(params["issuance_period_epochs"], 1);

    // refusals
    let bad = QueryError::BadArgument(String::new()).code();
    assert_eq!(refused(&chain, "/issuance/period/x", false), bad);
    assert_eq!(refused(&chain, "/issuance/periods?limit=0", false), bad);
    assert_eq!(refused(&chain, "/issuance/vesting/cosmos1abc", false), bad);
    assert_eq!(
        refused(&chain, "/issuance/nothing", false),
        QueryError::UnknownPath(String::new()).code()
    );
    assert_eq!(
        refused(&chain, "/issuance/metrics/999", false),
        QueryError::NotFound(String::new()).code()
    );
    assert_eq!(
        refused(&chain, "/issuance/periods", true),
        QueryError::ListingAtPastHeight.code()
    );
    let nobody = Key::from_seed("nobody");
    assert_eq!(
        refused(
            &chain,
            &format!("/issuance/vesting/{}", nobody.address),
            false
        ),
        QueryError::NotFound(String::new()).code()
    );
}
