//! End to end, on a real 4-validator network, with nobody at the keyboard: four
//! `nodeop-operator` agents (one per validator's operator, each watching its own node) and two
//! coprocessor agents serve every duty; no `nodeop tx task commit|reveal|confirm` and no
//! `tx auction open|bid` is ever typed. Two clients post N tasks (`NODEOP_E2E_TASKS`, default
//! 40) of mixed kinds and consistencies: Exact and Numeric, Session (committees of three) and
//! Eventual (one); Strong needs seven operators and four exist. Under that load:
//!
//! - every task finalizes with the right result and is delivered (the deliver hook's reference
//!   is on chain);
//! - zero missed duties in every agent's `/metrics` and in every operator's reputation (its
//!   `duties` tally gains no bad outcome);
//! - one agent is killed with SIGKILL a third of the way in and started again: it catches up
//!   from its store, and every commitment it made on chain is revealed;
//! - node3's agent runs a lying Exact executor for payloads starting with `lie-`: it is outvoted
//!   (the task finalizes with the honest result, the liar among the disagreeing) and gets a
//!   `result_mismatch` slash proposal for every such task it sat on;
//! - the operator agents execute at most 5 difficulty units; tasks of 8 units are auctioned,
//!   and the coprocessor agents win auctions and are paid (`coprocessor_paid`).
//!
//! It prints the tasks per minute the network sustained, p50/p95 from post to finalization and
//! to delivery (blocks and seconds, from the blocks' header times), and each agent's CPU time and
//! resident memory (from /proc). Those numbers are printed, never asserted.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use nodeop_app::modules::coprocessors::events as copro_events;
use nodeop_app::modules::slashing::events as slashing_events;
use nodeop_driver::chain::Key;
use nodeop_driver::tasks::NOP;
use nodeop_tests::net::num;
use nodeop_tests::testnet::{
    included_ok, process_usage, task_members, AgentProcess, Testnet, TestnetOptions,
};
use serde_json::Value;

const CHAIN_ID: &str = "nodeop-e2e-agents";
/// The agent that is killed and restarted (not the liar).
const KILLED: usize = 1;
/// The agent with the lying executor.
const LIAR: usize = 3;
/// Operator agents execute up to this many units; above it they auction the slot.
const LOCAL_UNITS: u64 = 5;
const AUCTIONED_UNITS: u64 = 8;

#[derive(Clone, Debug)]
struct Posted {
    index: usize,
    id: u64,
    height: u64,
    kind: &'static str,
    consistency: &'static str,
    difficulty: u64,
    payload: String,
}

/// What task `i` of the run is: (kind, consistency, difficulty, payload).
fn plan(i: usize) -> (&'static str, &'static str, u64, String) {
    if i % 10 == 5 {
        return ("exact", "session", 1, format!("lie-{i}"));
    }
    match i % 4 {
        0 => ("exact", "session", 1, format!("task {i}: what is 6x7")),
        1 => ("numeric", "session", 2, format!("{i}.25")),
        2 => ("exact", "eventual", 1, format!("task {i}: eventual")),
        _ => (
            "exact",
            "session",
            AUCTIONED_UNITS,
            format!("task {i}: heavy"),
        ),
    }
}

fn sha256(data: &[u8]) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    Sha256::digest(data).to_vec()
}

/// The result the honest agents commit for a task.
fn expected_result(p: &Posted) -> Vec<u8> {
    match p.kind {
        // a Numeric payload "I.25" with scale 2: the 8-byte big-endian integer I25
        "numeric" => {
            let scaled: i64 = p.payload.replace('.', "").parse().unwrap();
            scaled.to_be_bytes().to_vec()
        }
        _ => sha256(p.payload.as_bytes()),
    }
}

fn percentile(sorted: &[u64], p: usize) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[((sorted.len() - 1) * p).div_ceil(100)]
}

#[allow(clippy::float_arithmetic)]
fn secs(ms: u64) -> f64 {
    ms as f64 / 1000.0
}

/// A block's header time, ms since the epoch.
fn block_time_ms(net: &Testnet, height: u64, cache: &mut BTreeMap<u64, u64>) -> u64 {
    if let Some(t) = cache.get(&height) {
        return *t;
    }
    let b = net.validators[0]
        .rpc(&format!("/block?height={height}"))
        .unwrap_or_else(|e| panic!("block {height}: {e}"));
    let time = b["block"]["header"]["time"].as_str().unwrap();
    let t = tendermint::Time::parse_from_rfc3339(time).unwrap();
    let ms = (t.unix_timestamp_nanos() / 1_000_000) as u64;
    cache.insert(height, ms);
    ms
}

/// The `task` attribute of the `task_posted` event anywhere in a command's JSON output.
fn posted_id(v: &Value) -> Option<u64> {
    match v {
        Value::Object(map) => {
            if map.values().any(|x| x == "task_posted") {
                let found = map.values().find_map(|x| {
                    x.as_array()?.iter().find_map(|a| {
                        let key = a.get("key")?.as_str()?;
                        (key == "task").then(|| a.get("value")?.as_str()?.parse().ok())?
                    })
                });
                if found.is_some() {
                    return found;
                }
            }
            map.values().find_map(posted_id)
        }
        Value::Array(items) => items.iter().find_map(posted_id),
        _ => None,
    }
}

fn attr<'a>(attributes: &'a [(String, String)], key: &str) -> Option<&'a str> {
    attributes
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

#[test]
#[allow(clippy::float_arithmetic)]
fn agents_finish_and_deliver_every_task_with_no_duty_command() {
    let started = Instant::now();
    let n: usize = std::env::var("NODEOP_E2E_TASKS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40);
    let clients = [
        Key::from_seed("e2e agents client a"),
        Key::from_seed("e2e agents client b"),
    ];
    let coprocessors = [
        Key::from_seed("e2e agents coprocessor 1"),
        Key::from_seed("e2e agents coprocessor 2"),
    ];
    let mut options = TestnetOptions::new(CHAIN_ID)
        .task_windows(20, 20, 10)
        .without_epochs();
    for k in clients.iter().chain(&coprocessors) {
        options = options.fund(&k.address.to_bech32(), 1_000_000 * NOP);
    }
    let mut net = Testnet::new("agents", &options);
    net.start();
    let client_homes: Vec<PathBuf> = clients
        .iter()
        .enumerate()
        .map(|(i, k)| net.client_home_with(&format!("client{i}"), k))
        .collect();
    let copro_homes: Vec<PathBuf> = coprocessors
        .iter()
        .enumerate()
        .map(|(i, k)| net.client_home_with(&format!("coprocessor{i}"), k))
        .collect();
    for (i, home) in copro_homes.iter().enumerate() {
        let out = net.validators[0].cli_as(
            home,
            &[
                "tx",
                "coprocessor",
                "register",
                &format!("coprocessor{i}"),
                "--capacity",
                "50",
                "--collateral",
                "1000nop",
                "--moniker",
                &format!("e2e-coprocessor-{i}"),
            ],
        );
        included_ok("tx coprocessor register", &out);
    }
    let operators: Vec<String> = net.validators.iter().map(|v| v.operator.clone()).collect();
    let liar_address = operators[LIAR].clone();

    // Reputation before the run: the duties tallies must gain nothing bad.
    let duties_bad = |net: &Testnet| -> Vec<u128> {
        operators
            .iter()
            .map(|op| {
                let r = net.validators[0]
                    .abci_query(&format!("/reputation/record/{op}"), 0)
                    .unwrap_or_else(|e| panic!("{e}"));
                num(&r["duties"]["bad"])
            })
            .collect()
    };
    let bad_before = duties_bad(&net);

    // The agents: one per operator (node3's lies about `lie-…` payloads), two coprocessors.
    let deliveries = net.dir.join("deliveries");
    std::fs::create_dir_all(&deliveries).unwrap();
    let deliver = format!(
        "cat >'{}'/\"$NODEOP_TASK_ID\" && echo \"e2e-delivery#$NODEOP_TASK_ID\"",
        deliveries.display()
    );
    let liar_exact = "python3 -c 'import hashlib,sys; d=sys.stdin.buffer.read(); \
        sys.stdout.buffer.write((b\"a wrong answer\" if d.startswith(b\"lie-\") \
        else hashlib.sha256(d).digest()) + b\"\\n\")'";
    let units = LOCAL_UNITS.to_string();
    let mut agents: Vec<AgentProcess> = Vec::new();
    for i in 0..net.validators.len() {
        let home = net.validators[i].client_home.clone();
        let mut extra = vec![
            "--max-difficulty-units",
            units.as_str(),
            "--auction",
            "1000000000",
            "1",
            "--deliver-command",
            deliver.as_str(),
        ];
        if i == LIAR {
            extra.extend(["--exact-command", liar_exact]);
        }
        let a = net.add_agent(&format!("node{i}"), i, &home, "operator", &extra);
        agents.push(a);
    }
    for (i, home) in copro_homes.iter().enumerate() {
        let a = net.add_agent(
            &format!("coprocessor{i}"),
            i,
            home,
            &format!("coprocessor{i}"),
            &["--coprocessor", "1", "50"],
        );
        agents.push(a);
    }
    for a in &mut agents {
        net.start_agent(a);
    }
    let h0 = net.v(0).height();
    eprintln!("agents running at height {h0}; posting {n} tasks");

    // Two clients post at once, each as fast as its txs are included.
    let posted: Mutex<Vec<Posted>> = Mutex::new(Vec::new());
    let count = AtomicUsize::new(0);
    let post_started = Instant::now();
    let mut killed_at = 0;
    thread::scope(|s| {
        for (c, home) in client_homes.iter().enumerate() {
            let (net, posted, count) = (&net, &posted, &count);
            s.spawn(move || {
                let v = &net.validators[c];
                for i in (c..n).step_by(2) {
                    let (kind, consistency, difficulty, payload) = plan(i);
                    let price = num(&v.abci_query("/tasks/price", 0).unwrap()["unit_price"]);
                    // a margin: the price can rise by 1/8 per block before inclusion
                    let fee = (price * u128::from(difficulty) * 2).to_string() + "unop";
                    let d = difficulty.to_string();
                    let mut args = vec![
                        "tx",
                        "task",
                        "post",
                        if c == 0 { "client0" } else { "client1" },
                        "--kind",
                        kind,
                        "--consistency",
                        consistency,
                        "--difficulty",
                        &d,
                        "--payload",
                        &payload,
                        "--fee",
                        &fee,
                    ];
                    if kind == "numeric" {
                        args.extend(["--scale", "2"]);
                    }
                    let out = v.cli_as(home, &args);
                    let height = included_ok(&format!("task {i}'s post"), &out);
                    let id = posted_id(&out.json())
                        .unwrap_or_else(|| panic!("no task_posted in: {}", out.stdout));
                    posted.lock().unwrap().push(Posted {
                        index: i,
                        id,
                        height,
                        kind,
                        consistency,
                        difficulty,
                        payload,
                    });
                    count.fetch_add(1, Ordering::SeqCst);
                }
            });
        }
        // A third of the way in, node1's agent crashes and comes back 3 s later.
        while count.load(Ordering::SeqCst) < n / 3 {
            thread::sleep(Duration::from_millis(100));
        }
        killed_at = net.validators[0].height();
        eprintln!("kill -9 of node{KILLED}'s agent at height {killed_at}");
        net.kill_agent(&mut agents[KILLED]);
        thread::sleep(Duration::from_secs(3));
        net.start_agent(&mut agents[KILLED]);
        eprintln!(
            "node{KILLED}'s agent restarted at height {}",
            net.validators[0].height()
        );
    });
    let mut posted = posted.into_inner().unwrap();
    posted.sort_by_key(|p| p.id);
    assert_eq!(posted.len(), n);
    let posting_took = post_started.elapsed();
    eprintln!(
        "{n} tasks posted in {:.1} s (ids {}..={})",
        posting_took.as_secs_f64(),
        posted[0].id,
        posted[n - 1].id
    );

    // Every task finalizes and is delivered; its record is kept the first time it is seen so.
    let mut done: BTreeMap<u64, Value> = BTreeMap::new();
    let deadline = Duration::from_secs(240 + 2 * n as u64);
    net.wait("every task to be delivered", deadline, |net| {
        for p in &posted {
            if done.contains_key(&p.id) {
                continue;
            }
            if let Ok(t) = net.validators[0].abci_query(&format!("/tasks/task/{}", p.id), 0) {
                match t["status"].as_str() {
                    Some("delivered") => {
                        done.insert(p.id, t);
                    }
                    Some("assigned") | Some("finalized") | None => {}
                    Some(other) => panic!("task {} (plan {}) ended {other}: {t}", p.id, p.index),
                }
            }
        }
        for a in agents.iter_mut() {
            nodeop_tests::testnet::assert_agent_running(a);
        }
        (done.len() == posted.len()).then_some(())
    });
    let all_done = post_started.elapsed();
    let end = net.v(0).height();
    eprintln!(
        "all {n} delivered at height {end}, {:.1} s after the first post",
        all_done.as_secs_f64()
    );

    // Results: the honest answer, the liar outvoted where it sat.
    let mut liar_seats = 0;
    let mut latencies = Vec::new(); // (post h, finalized h, delivered h)
    for p in &posted {
        let t = &done[&p.id];
        let result = &t["result"];
        assert_eq!(
            result["result"].as_str(),
            Some(hex::encode(expected_result(p)).as_str()),
            "task {} ({} {} {:?}): {t}",
            p.id,
            p.kind,
            p.consistency,
            p.payload
        );
        let members = task_members(t);
        let disagreeing: Vec<&str> = result["disagreeing"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let liar_served_itself = members.contains(&liar_address)
            && t["rounds"][0]["members"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m["operator"] == liar_address.as_str() && !m["result"].is_null());
        if p.payload.starts_with("lie-") && liar_served_itself {
            assert_eq!(disagreeing, vec![liar_address.as_str()], "{t}");
            liar_seats += 1;
        } else {
            assert!(disagreeing.is_empty(), "task {}: {t}", p.id);
        }
        assert_eq!(
            t["rounds"].as_array().map(Vec::len),
            Some(1),
            "one round: {t}"
        );
        // every commitment on chain was revealed (the killed agent's too)
        for m in t["rounds"][0]["members"].as_array().unwrap() {
            assert!(
                !m["commitment"].is_null() && !m["result"].is_null(),
                "task {}: every member committed and revealed: {t}",
                p.id
            );
        }
        let sub = &t["submission"];
        let reference = format!("e2e-delivery#{}", p.id);
        assert_eq!(sub["target_ref"].as_str(), Some(reference.as_str()), "{t}");
        let delivered_file = std::fs::read(deliveries.join(p.id.to_string()))
            .unwrap_or_else(|e| panic!("task {}'s delivery file: {e}", p.id));
        assert_eq!(
            delivered_file,
            expected_result(p),
            "task {}'s delivery",
            p.id
        );
        latencies.push((
            p.height,
            num(&result["finalized_height"]) as u64,
            num(&sub["delivered_height"]) as u64,
        ));
    }
    // The killed agent had commitments on chain, not yet revealed, when it died: all revealed.
    let killed_operator = operators[KILLED].as_str();
    let committed_before_kill = done
        .values()
        .filter(|t| {
            t["rounds"][0]["members"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| {
                    m["operator"] == killed_operator
                        && m["commit_height"]
                            .as_u64()
                            .or_else(|| m["commit_height"].as_str()?.parse().ok())
                            .is_some_and(|h| h < killed_at)
                        && !m["result"].is_null()
                })
        })
        .count();
    eprintln!("node{KILLED} committed {committed_before_kill} slots before its kill; all revealed");
    assert!(
        committed_before_kill >= 1,
        "node{KILLED}'s agent had committed nothing before it was killed"
    );
    let lie_tasks = posted
        .iter()
        .filter(|p| p.payload.starts_with("lie-"))
        .count();
    eprintln!("{lie_tasks} lie- tasks; the liar served {liar_seats} of them");
    assert!(liar_seats >= 1, "the liar sat on no lie- task");

    // The blocks' events: result_mismatch proposals against the liar, coprocessors paid.
    let mut mismatch_proposals = 0;
    let mut paid: Vec<(String, u128)> = Vec::new();
    let copro_addresses: Vec<String> = coprocessors.iter().map(|k| k.address.to_bech32()).collect();
    for h in h0..=end {
        for (kind, attrs) in net.block_events(0, h, Duration::from_secs(30)) {
            if kind == slashing_events::SLASH_PROPOSED
                && attr(&attrs, "offence") == Some("result_mismatch")
            {
                assert_eq!(
                    attr(&attrs, "operator"),
                    Some(liar_address.as_str()),
                    "only the liar: {attrs:?}"
                );
                mismatch_proposals += 1;
            }
            if kind == copro_events::COPROCESSOR_PAID {
                let who = attr(&attrs, "coprocessor").unwrap_or_default().to_string();
                assert!(copro_addresses.contains(&who), "{attrs:?}");
                paid.push((who, attr(&attrs, "price").unwrap().parse().unwrap()));
            }
        }
    }
    assert_eq!(
        mismatch_proposals, liar_seats,
        "one result_mismatch proposal per lie- task the liar served"
    );
    assert!(!paid.is_empty(), "no coprocessor was paid");
    assert!(paid.iter().all(|(_, price)| *price > 0), "{paid:?}");

    // Zero missed duties: in every agent's metrics and in the operators' reputation.
    for a in &agents {
        let missed = a.metric("nodeop_operator_missed_duties");
        assert_eq!(missed, Some(0.0), "[{}] missed duties", a.name);
    }
    let won: f64 = agents[4..]
        .iter()
        .map(|a| {
            a.metric("nodeop_operator_auctions_won_total")
                .unwrap_or(0.0)
        })
        .sum();
    assert!(won >= 1.0, "the coprocessor agents won no auction");
    // the coprocessors' pay is in their metrics (what the chain paid them for their auctions)
    let copro_pay: f64 = agents[4..]
        .iter()
        .map(|a| {
            a.metric("nodeop_operator_pay_received_unop_total")
                .unwrap_or(0.0)
        })
        .sum();
    assert!(copro_pay > 0.0, "the coprocessor agents recorded no pay");
    // every agent (the restarted one too) is woken by the node's websocket, not by polling
    for a in &agents {
        assert_eq!(
            a.metric("nodeop_operator_websocket_subscribed"),
            Some(1.0),
            "[{}] not subscribed over the websocket",
            a.name
        );
    }
    assert_eq!(
        duties_bad(&net),
        bad_before,
        "no operator's duties tally gained a bad outcome"
    );
    // The restarted agent caught up.
    let status = agents[KILLED].status().unwrap();
    assert!(num(&status["last_height"]) as u64 >= end - 2, "{status}");
    assert_eq!(num(&status["missed"]), 0, "{status}");

    // The numbers.
    let mut cache = BTreeMap::new();
    let mut fin_blocks = Vec::new();
    let mut del_blocks = Vec::new();
    let mut fin_ms = Vec::new();
    let mut del_ms = Vec::new();
    for (posted_h, fin_h, del_h) in &latencies {
        fin_blocks.push(fin_h - posted_h);
        del_blocks.push(del_h - posted_h);
        let t0 = block_time_ms(&net, *posted_h, &mut cache);
        fin_ms.push(block_time_ms(&net, *fin_h, &mut cache) - t0);
        del_ms.push(block_time_ms(&net, *del_h, &mut cache) - t0);
    }
    for v in [&mut fin_blocks, &mut del_blocks, &mut fin_ms, &mut del_ms] {
        v.sort_unstable();
    }
    let first_post = latencies.iter().map(|l| l.0).min().unwrap();
    let last_delivery = latencies.iter().map(|l| l.2).max().unwrap();
    let span_ms = block_time_ms(&net, last_delivery, &mut cache)
        - block_time_ms(&net, first_post, &mut cache);
    let auctioned = posted.iter().filter(|p| p.difficulty > LOCAL_UNITS).count();
    eprintln!(
        "==== e2e agents: {n} tasks ({auctioned} above {LOCAL_UNITS} units, {lie_tasks} lie-)"
    );
    eprintln!(
        "sustained: {:.1} tasks/min ({n} tasks from the first post's block {first_post} to the \
         last delivery's block {last_delivery}: {} blocks, {:.1} s)",
        n as f64 * 60_000.0 / span_ms as f64,
        last_delivery - first_post,
        secs(span_ms)
    );
    eprintln!(
        "post → finalized: p50 {} blocks / {:.1} s, p95 {} blocks / {:.1} s",
        percentile(&fin_blocks, 50),
        secs(percentile(&fin_ms, 50)),
        percentile(&fin_blocks, 95),
        secs(percentile(&fin_ms, 95))
    );
    eprintln!(
        "post → delivered: p50 {} blocks / {:.1} s, p95 {} blocks / {:.1} s",
        percentile(&del_blocks, 50),
        secs(percentile(&del_ms, 50)),
        percentile(&del_blocks, 95),
        secs(percentile(&del_ms, 95))
    );
    eprintln!(
        "coprocessors paid {} times, {} unop in all; liar outvoted {liar_seats} times",
        paid.len(),
        paid.iter().map(|(_, p)| p).sum::<u128>()
    );
    let wall = started.elapsed().as_secs_f64();
    for a in &agents {
        if let Some((cpu, rss, peak)) = a.pid().and_then(process_usage) {
            let lived = if a.name == format!("node{KILLED}") {
                "since its restart"
            } else {
                "over the run"
            };
            eprintln!(
                "agent {:<13} cpu {:>6.2} s ({:.1} % of the {:.0} s test; {lived}), rss {} KiB, \
                 peak {} KiB",
                a.name,
                cpu,
                100.0 * cpu / wall,
                wall,
                rss,
                peak
            );
        }
    }
    eprintln!(
        "e2e agents passed in {:.1} s (node{KILLED}'s agent killed at height {killed_at})",
        wall
    );
}
