//! Coprocessor and auction support for scenario tests and the task benchmark: coprocessors
//! registered at genesis, a task chain with funded coprocessor keys, builders for the auction
//! messages, and reads of coprocessors and auctions.

use nodeop_app::app::TxOutcome;
use nodeop_app::crypto::Address;
use nodeop_app::genesis::AppState;
use nodeop_app::modules::bank::genesis::{GenesisAccount, GenesisModuleAccount};
use nodeop_app::modules::coprocessors::genesis::GenesisCoprocessorReputation;
use nodeop_app::modules::coprocessors::{
    self, events, state as cstate, Auction, Coprocessor, CoprocessorsError, MsgAddCollateral,
    MsgBid, MsgOpenAuction, MsgRegisterCoprocessor, MsgWithdrawCollateral,
};
use nodeop_app::modules::reputation::OperatorReputation;
use nodeop_app::tx::Msg;

use crate::chain::Key;
use crate::tasks::{TaskGenesis, TaskNet, NOP};

/// What every coprocessor's account holds at genesis.
pub const COPROCESSOR_BALANCE: u128 = 100_000 * NOP;

/// Adds a coprocessor registered at genesis with `capacity` units and `collateral` unop of free
/// collateral, credited to the `coprocessor_collateral` module account as well (the address's
/// own account is left as it is).
pub fn add_genesis_coprocessor(
    state: &mut AppState,
    address: &Address,
    moniker: &str,
    capacity: u64,
    collateral: u128,
) {
    state.coprocessors.coprocessors.push(Coprocessor {
        address: *address,
        moniker: moniker.into(),
        capacity_units: capacity,
        reserved_units: 0,
        free_collateral: collateral,
        locked_collateral: 0,
        pending_collateral: 0,
        registered_height: 0,
    });
    let bank = &mut state.bank;
    match bank
        .module_accounts
        .iter_mut()
        .find(|m| m.name == "coprocessor_collateral")
    {
        Some(m) => m.balance += collateral,
        None => bank.module_accounts.push(GenesisModuleAccount {
            name: "coprocessor_collateral".into(),
            balance: collateral,
        }),
    }
}

/// A task genesis with `n` funded coprocessor keys (`copro-0`, `copro-1`, …), not registered.
pub struct CoproGenesis {
    pub tasks: TaskGenesis,
    pub coprocessors: Vec<Key>,
}

impl CoproGenesis {
    pub fn new(operators: usize, capacity: u64, coprocessors: usize) -> Self {
        Self::with_tasks(TaskGenesis::new(operators, capacity), coprocessors)
    }

    /// `coprocessors` funded coprocessor keys added to a task genesis built elsewhere (with
    /// other issuance or reputation params, say).
    pub fn with_tasks(mut tasks: TaskGenesis, coprocessors: usize) -> Self {
        let keys: Vec<Key> = (0..coprocessors)
            .map(|i| Key::from_seed(&format!("copro-{i}")))
            .collect();
        for k in &keys {
            tasks.state.bank.accounts.push(GenesisAccount {
                address: k.address,
                balance: COPROCESSOR_BALANCE,
                nonce: 0,
            });
        }
        Self {
            tasks,
            coprocessors: keys,
        }
    }

    /// Registers coprocessor `i` at genesis with `collateral` and a reputation record whose
    /// load state is `load_ppm` (what a test cannot reach without running epochs), held for
    /// the whole test: the coprocessors' epoch clock is set past every epoch a test reaches, so
    /// no epoch step changes it.
    pub fn registered_at_genesis(
        self,
        i: usize,
        capacity: u64,
        collateral: u128,
        load_ppm: u32,
    ) -> Self {
        let mut g = self.listed_at_genesis(i, capacity, collateral, load_ppm);
        g.tasks.state.coprocessors.last_epoch = Some(u64::MAX);
        g
    }

    /// Lists coprocessor `i` in the genesis as a hand-written genesis would: registered with
    /// `collateral`, a reputation record of load state `load_ppm`, and no epoch clock (the
    /// chain starts it at its first block).
    pub fn listed_at_genesis(
        mut self,
        i: usize,
        capacity: u64,
        collateral: u128,
        load_ppm: u32,
    ) -> Self {
        let address = self.coprocessors[i].address;
        add_genesis_coprocessor(
            &mut self.tasks.state,
            &address,
            &format!("copro-{i}"),
            capacity,
            collateral,
        );
        self.tasks
            .state
            .coprocessors
            .reputations
            .push(GenesisCoprocessorReputation {
                address,
                record: OperatorReputation {
                    load_ppm,
                    ..OperatorReputation::default()
                },
            });
        self
    }

    pub fn start(self) -> CoproNet {
        CoproNet {
            net: self.tasks.start(),
            coprocessors: self.coprocessors,
        }
    }
}

/// A running task chain with coprocessor keys.
pub struct CoproNet {
    pub net: TaskNet,
    pub coprocessors: Vec<Key>,
}

/// `RegisterCoprocessor`.
pub fn register(capacity_units: u64, collateral: u128) -> Msg {
    MsgRegisterCoprocessor {
        capacity_units,
        collateral,
        moniker: "test coprocessor".into(),
    }
    .into()
}

/// `OpenAuction`.
pub fn open(task_id: u64, start_price: u128, floor_price: u128) -> Msg {
    MsgOpenAuction {
        task_id,
        start_price,
        floor_price,
    }
    .into()
}

/// `Bid`.
pub fn bid(auction_id: u64) -> Msg {
    MsgBid { auction_id }.into()
}

/// `AddCollateral`.
pub fn add_collateral(amount: u128) -> Msg {
    MsgAddCollateral { amount }.into()
}

/// `WithdrawCollateral`.
pub fn withdraw_collateral(amount: u128) -> Msg {
    MsgWithdrawCollateral { amount }.into()
}

/// The auction id an `OpenAuction` tx reported.
pub fn opened_id(outcome: &TxOutcome) -> Option<u64> {
    outcome
        .events
        .iter()
        .find(|e| e.kind == events::AUCTION_OPENED)
        .and_then(|e| e.get("auction"))
        .and_then(|v| v.parse().ok())
}

/// Asserts a tx was refused with `expected`'s (codespace, code).
pub fn assert_copro_refused(outcome: &TxOutcome, expected: &CoprocessorsError) {
    assert_eq!(
        (outcome.codespace.as_str(), outcome.code),
        (coprocessors::CODESPACE, expected.code()),
        "expected {}, got: {}",
        expected.name(),
        outcome.log
    );
}

impl CoproNet {
    /// Registers coprocessor `i` (one block); panics unless it succeeds.
    pub fn register(&mut self, i: usize, capacity: u64, collateral: u128) {
        let k = self.coprocessors[i].clone();
        let out = self.net.run(&k, register(capacity, collateral));
        assert!(out.is_ok(), "{}", out.log);
    }

    /// `member` opens an auction of its slot on `task_id` (one block); returns its id.
    pub fn open(&mut self, member: &Key, task_id: u64, start: u128, floor: u128) -> u64 {
        let out = self.net.run(member, open(task_id, start, floor));
        assert!(out.is_ok(), "{}", out.log);
        opened_id(&out).expect("an auction_opened event")
    }

    pub fn auction(&self, id: u64) -> Auction {
        cstate::auction(self.net.chain.app.storage(), id).expect("the auction exists")
    }

    pub fn coprocessor(&self, address: &Address) -> Coprocessor {
        cstate::coprocessor(self.net.chain.app.storage(), address).expect("a coprocessor")
    }

    pub fn copro_reputation(&self, address: &Address) -> OperatorReputation {
        cstate::reputation_record(self.net.chain.app.storage(), address)
    }

    /// The guaranteed pay of a member of `task_id` (the auction's start price bound).
    pub fn expected_pay(&self, task_id: u64) -> u128 {
        let t = self.net.task(task_id);
        coprocessors::handler::expected_pay(
            t.fee,
            &self.net.params(),
            t.current_round().members.len(),
        )
        .expect("no overflow")
    }
}

impl CoproNet {
    /// `member` auctions its slot on `task_id` (start, floor) and coprocessor `buyer` bids in
    /// the next block and wins; returns the auction id.
    pub fn sell(
        &mut self,
        member: &Key,
        task_id: u64,
        start: u128,
        floor: u128,
        buyer: usize,
    ) -> u64 {
        let id = self.open(member, task_id, start, floor);
        let k = self.coprocessors[buyer].clone();
        let out = self.net.run(&k, bid(id));
        assert!(out.is_ok(), "{}", out.log);
        assert_eq!(
            self.auction(id).winner,
            Some(k.address),
            "the only bidder wins"
        );
        id
    }
}

impl CoproNet {
    /// The `coprocessor_collateral` module account's balance.
    pub fn module_collateral(&self) -> u128 {
        self.net.module_balance("coprocessor_collateral")
    }
}
