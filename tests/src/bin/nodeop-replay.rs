//! Runs a seeded block sequence through the real App on a file store and prints the app hash at
//! every height, one `height hash` line each. Two runs with the same arguments — in two processes,
//! on two machines — must print the same bytes.
//!
//! usage: nodeop-replay SEED BLOCKS TXS_PER_BLOCK STORE_DIR

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use nodeop_app::state::Storage;
use nodeop_app::AppOptions;
use nodeop_driver::chain::{genesis, TestChain};
use nodeop_driver::rng::Rng;
use nodeop_driver::workload::Population;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 5 {
        eprintln!("usage: nodeop-replay SEED BLOCKS TXS_PER_BLOCK STORE_DIR");
        std::process::exit(2);
    }
    let num = |i: usize| -> u64 {
        args[i].parse().unwrap_or_else(|_| {
            eprintln!("argument {i} ({:?}) is not a number", args[i]);
            std::process::exit(2)
        })
    };
    let (seed, blocks, per_block) = (num(1), num(2), num(3) as usize);
    for line in replay(seed, blocks, per_block, std::path::Path::new(&args[4])) {
        println!("{line}");
    }
}

fn replay(seed: u64, blocks: u64, per_block: usize, dir: &std::path::Path) -> Vec<String> {
    let mut rng = Rng::new(seed);
    let mut pop = Population::new(&mut rng, 16, 64);
    let storage = Storage::open(&dir.join("state.redb")).expect("open store");
    let options = AppOptions {
        check_invariants: true,
        ..AppOptions::default()
    };
    let mut chain = TestChain::start_on(storage, options, &genesis(&pop.genesis_accounts()));
    let params = chain.params();
    let mut out = vec![format!(
        "{} {}",
        chain.height,
        hex::encode(chain.app_hash())
    )];
    for _ in 0..blocks {
        let mut txs = pop.transfers(&mut rng, &params, per_block);
        // Some blocks also carry garbage and a replay, so failure paths are covered too.
        if rng.below(3) == 0 {
            txs.push(rng.bytes::<40>().to_vec());
        }
        if rng.below(4) == 0 && !txs.is_empty() {
            txs.push(txs[0].clone());
        }
        let resp = chain.finalize_and_commit(txs);
        let codes: Vec<String> = resp.tx_results.iter().map(|r| r.code.to_string()).collect();
        out.push(format!(
            "{} {} {}",
            chain.height,
            hex::encode(resp.app_hash),
            codes.join(",")
        ));
    }
    out
}
