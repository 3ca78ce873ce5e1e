//! A coprocessor with 100 NOP of collateral wins an auction that locks 16 NOP. It cannot
//! withdraw the locked part (only free collateral can leave); the free 84 NOP it can queue, but
//! they reach its account only at the end of the block `withdrawal_delay_blocks` later — not a
//! block earlier — and meanwhile they cannot be withdrawn again. (It never executes the slot,
//! so when the round closes the liveness slash takes 10 % of the lock and frees the rest.)

use nodeop_app::modules::coprocessors::{CoprocessorsError, MsgWithdrawCollateral};
use nodeop_app::modules::tasks::Consistency;
use nodeop_app::tx::Msg;
use nodeop_driver::coprocessors::{assert_copro_refused, CoproGenesis};
use nodeop_driver::tasks::{exact_task, tx_fee, NOP};

fn withdraw(amount: u128) -> Msg {
    MsgWithdrawCollateral { amount }.into()
}

#[test]
fn collateral_cannot_be_withdrawn_while_locked_or_before_the_delay() {
    let mut cn = CoproGenesis::new(4, 10, 1).start();
    let copro = cn.coprocessors[0].clone();
    cn.register(0, 4, 100 * NOP);
    let id = cn.net.post(exact_task(Consistency::Session, 100 * NOP));
    let seller = cn.net.members(id)[0].clone();
    let auction = cn.sell(&seller, id, 10 * NOP, 2 * NOP, 0);
    let locked = cn.auction(auction).collateral_locked;
    assert_eq!(locked, 16 * NOP);

    assert_copro_refused(
        &cn.net.run(&copro, withdraw(100 * NOP)),
        &CoprocessorsError::InsufficientFreeCollateral {
            requested: 0,
            free: 0,
        },
    );
    let free = 100 * NOP - locked;
    let tx = cn.net.chain.tx(&copro, vec![withdraw(free)]);
    let fee = tx_fee(&tx);
    let balance = cn.net.balance(&copro.address);
    let resp = cn.net.chain.block(vec![tx]);
    assert!(resp.tx_results[0].is_ok(), "{}", resp.tx_results[0].log);
    let queued_at = cn.net.chain.height;
    let c = cn.coprocessor(&copro.address);
    assert_eq!(
        (c.free_collateral, c.locked_collateral, c.pending_collateral),
        (0, locked, free)
    );
    assert_eq!(
        cn.module_collateral(),
        100 * NOP,
        "nothing left the module account yet"
    );
    // nothing more to withdraw: the pending part is no longer free
    assert_copro_refused(
        &cn.net.run(&copro, withdraw(1)),
        &CoprocessorsError::InsufficientFreeCollateral {
            requested: 0,
            free: 0,
        },
    );
    let delay = 100; // withdrawal_delay_blocks default
    let after_refusal = cn.net.balance(&copro.address);
    cn.net.run_to(queued_at + delay - 1);
    assert_eq!(
        cn.net.balance(&copro.address),
        after_refusal,
        "not before the delay"
    );
    cn.net.chain.block(Vec::new());
    assert_eq!(cn.net.balance(&copro.address), after_refusal + free);
    assert!(after_refusal < balance - fee);
    // meanwhile the round closed without its commit: the liveness slash took 10 % of the lock
    // and released the rest, which is free (and only now withdrawable)
    let c = cn.coprocessor(&copro.address);
    let left = locked - locked / 10;
    assert_eq!(
        (c.free_collateral, c.locked_collateral, c.pending_collateral),
        (left, 0, 0)
    );
    assert_eq!(cn.module_collateral(), left);
}
