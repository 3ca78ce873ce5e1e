//! Exporting while auctions are in flight (one open, one won and executing, one paid) and with
//! a withdrawal queued, then importing the export, gives back every `coprocessors/` key and the
//! tasks' slot records byte for byte, and the collateral module account's balance.

use nodeop_app::modules::coprocessors::{AuctionStatus, MsgWithdrawCollateral};
use nodeop_app::modules::tasks::Consistency;
use nodeop_driver::chain::TestChain;
use nodeop_driver::coprocessors::CoproGenesis;
use nodeop_driver::tasks::{commit, exact_task, NOP};

fn keys(chain: &TestChain) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut all = chain.raw_under(b"coprocessors/");
    all.extend(chain.raw_under(b"tasks/slot"));
    all
}

#[test]
fn a_mid_auction_export_imports_to_the_same_coprocessors_state() {
    let mut cn = CoproGenesis::new(4, 10, 2).start();
    let copro = cn.coprocessors[0].clone();
    cn.register(0, 4, 100 * NOP);
    cn.register(1, 4, 50 * NOP);
    // paid
    let first = cn.net.post(exact_task(Consistency::Session, 100 * NOP));
    let m = cn.net.members(first);
    let paid = cn.sell(&m[0], first, 10 * NOP, 2 * NOP, 0);
    let answer = b"answer".to_vec();
    cn.net.block_ok(vec![
        (copro.clone(), commit(first, &m[0].address, &answer)),
        (m[1].clone(), commit(first, &m[1].address, &answer)),
        (m[2].clone(), commit(first, &m[2].address, &answer)),
    ]);
    let round = cn.net.task(first).current_round().clone();
    cn.net.run_to(round.commit_end);
    cn.net.block_ok(
        m.iter()
            .map(|k| {
                let signer = if k.address == m[0].address {
                    copro.clone()
                } else {
                    k.clone()
                };
                (
                    signer,
                    nodeop_driver::tasks::reveal(first, &k.address, &answer),
                )
            })
            .collect(),
    );
    assert_eq!(cn.auction(paid).status, AuctionStatus::Paid);
    // won, executing
    let second = cn.net.post(exact_task(Consistency::Session, 100 * NOP));
    let m2 = cn.net.members(second);
    let won = cn.sell(&m2[0], second, 10 * NOP, 2 * NOP, 1);
    // open
    let open = cn.open(&m2[1], second, 5 * NOP, NOP);
    assert_eq!(cn.auction(won).status, AuctionStatus::Won);
    assert_eq!(cn.auction(open).status, AuctionStatus::Open);
    // a queued withdrawal
    let out = cn
        .net
        .run(&copro, MsgWithdrawCollateral { amount: 10 * NOP }.into());
    assert!(out.is_ok(), "{}", out.log);

    let (_, _, exported) = cn.net.chain.app.export().expect("export");
    let json = serde_json::to_vec(&exported).expect("encodes");
    let reimported: nodeop_app::genesis::AppState = serde_json::from_slice(&json).expect("decodes");
    assert_eq!(reimported.problems("nodeop-test"), Vec::<String>::new());
    let copy = TestChain::start(&reimported);
    assert_eq!(keys(&copy), keys(&cn.net.chain));
    let account = nodeop_app::modules::bank::COPROCESSOR_COLLATERAL.address();
    assert_eq!(copy.balance(&account), cn.net.chain.balance(&account));
    assert_eq!(
        copy.balance(&account),
        150 * NOP,
        "pending collateral stays until paid"
    );
}
