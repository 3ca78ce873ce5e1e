//! The coprocessor, auction and bid records are read with a proof against the app hash (and an
//! absent bid is proved absent); the proven bytes render to the node's answer by
//! `Record::render`. The listings page with `limit` and `after`, and filter by task, member and
//! coprocessor; the load view shows the reservation.

use nodeop_app::modules::coprocessors::keys;
use nodeop_app::modules::tasks::Consistency;
use nodeop_app::query::verify_proof;
use nodeop_app::records::Record;
use nodeop_driver::coprocessors::CoproGenesis;
use nodeop_driver::tasks::{exact_task, NOP};
use serde_json::Value;

#[test]
fn coprocessor_records_are_proved_and_their_listings_page() {
    let mut cn = CoproGenesis::new(4, 10, 2).start();
    let (c0, c1) = (cn.coprocessors[0].clone(), cn.coprocessors[1].clone());
    cn.register(0, 4, 100 * NOP);
    cn.register(1, 4, 100 * NOP);
    let id = cn.net.post(exact_task(Consistency::Session, 100 * NOP));
    let m = cn.net.members(id);
    let won = cn.sell(&m[0], id, 10 * NOP, 2 * NOP, 0);
    let open = cn.open(&m[1], id, 10 * NOP, 2 * NOP);
    let root = cn.net.chain.app_hash();

    for record in [
        Record::Coprocessor(c0.address),
        Record::Auction(won),
        Record::Auction(open),
        Record::AuctionBid {
            auction: won,
            bidder: c0.address,
        },
    ] {
        let r = cn.net.chain.query(&record.path(), &[], 0, true);
        assert_eq!(r.code, 0, "{}: {}", record.path(), r.log);
        assert_eq!(r.key, record.key());
        assert!(!r.value.is_empty(), "{}", record.path());
        verify_proof(&r.proof_ops[0], &root, &r.key, Some(&r.value)).unwrap();
        assert_eq!(record.render(&r.value).unwrap(), r.info);
    }
    let absent = Record::AuctionBid {
        auction: won,
        bidder: c1.address,
    };
    let r = cn.net.chain.query(&absent.path(), &[], 0, true);
    assert_eq!(r.code, 0, "{}", r.log);
    assert!(r.value.is_empty());
    verify_proof(&r.proof_ops[0], &root, &keys::bid(won, &c1.address), None).unwrap();

    let list = |path: &str| -> Value {
        let r = cn.net.chain.query(path, &[], 0, false);
        assert_eq!(r.code, 0, "{path}: {}", r.log);
        serde_json::from_slice(&r.value).unwrap()
    };
    let all = list(&format!(
        "/coprocessors/auctions?status=all&task={id}&limit=1"
    ));
    assert_eq!(all["items"].as_array().unwrap().len(), 1);
    assert_eq!(all["items"][0]["id"], won);
    let next = all["next"].as_str().unwrap().to_string();
    let rest = list(&format!(
        "/coprocessors/auctions?status=all&task={id}&limit=1&after={next}"
    ));
    assert_eq!(rest["items"][0]["id"], open);
    assert!(rest["next"].is_null());
    let opened = list("/coprocessors/auctions");
    assert_eq!(
        opened["items"].as_array().unwrap().len(),
        1,
        "open only by default"
    );
    let by_member = list(&format!(
        "/coprocessors/auctions?status=all&member={}",
        m[0].address
    ));
    assert_eq!(by_member["items"][0]["id"], won);
    let by_copro = list(&format!(
        "/coprocessors/auctions?status=all&coprocessor={}",
        c0.address
    ));
    assert_eq!(by_copro["items"].as_array().unwrap().len(), 1);
    let copros = list("/coprocessors/list?limit=1");
    assert_eq!(copros["items"].as_array().unwrap().len(), 1);
    assert!(copros["next"].is_string());
    let load = list(&format!("/coprocessors/load/{}", c0.address));
    assert_eq!(load["coprocessor"]["reserved_units"], 1);
    assert_eq!(load["free_ppm"], 750_000);
    let bad = cn
        .net
        .chain
        .query("/coprocessors/auctions?limit=0", &[], 0, false);
    assert_ne!(bad.code, 0);
}
