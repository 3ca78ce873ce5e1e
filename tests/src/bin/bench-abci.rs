//! Round-trip time of synchronous ABCI calls on loopback: starts a one-validator node (real
//! cometbft and nodeopd), opens one more ABCI connection to nodeopd, and times `Echo`, `Info` and
//! `Query` calls sent as CometBFT sends a synchronous call (the request, then a `Flush`, then
//! waiting for both answers). Prints p50 / p95 / p99 / max in microseconds.
//!
//! usage: bench-abci [CALLS]   (default 2000 per kind)

#![allow(clippy::float_arithmetic)] // timing arithmetic in a benchmark, not in the state machine

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use nodeop_tests::net::Node;
use prost::Message;
use tendermint_proto::v0_38::abci::{
    request, Request, RequestEcho, RequestFlush, RequestInfo, RequestQuery, Response,
};

fn frame(req: Request, out: &mut Vec<u8>) {
    req.encode_length_delimited(out)
        .expect("encoding a request");
}

/// Reads `n` length-delimited responses.
fn read_responses(s: &mut TcpStream, buf: &mut Vec<u8>, n: usize) -> Vec<Response> {
    let mut got = Vec::with_capacity(n);
    let mut chunk = [0u8; 65536];
    while got.len() < n {
        let mut slice: &[u8] = buf;
        match Response::decode_length_delimited(&mut slice) {
            Ok(r) => {
                let used = buf.len() - slice.len();
                buf.drain(..used);
                got.push(r);
            }
            Err(_) => {
                let k = s.read(&mut chunk).expect("reading from nodeopd");
                assert!(k > 0, "nodeopd closed the connection");
                buf.extend_from_slice(&chunk[..k]);
            }
        }
    }
    got
}

/// A request of one kind, made afresh for every call.
type MakeRequest = Box<dyn Fn() -> Request>;

fn time_calls(s: &mut TcpStream, calls: usize, make: impl Fn() -> Request) -> Vec<Duration> {
    let mut buf = Vec::new();
    let mut out = Vec::new();
    let mut times = Vec::with_capacity(calls);
    for _ in 0..calls {
        out.clear();
        frame(make(), &mut out);
        frame(
            Request {
                value: Some(request::Value::Flush(RequestFlush {})),
            },
            &mut out,
        );
        let t = Instant::now();
        s.write_all(&out).expect("writing to nodeopd");
        let r = read_responses(s, &mut buf, 2);
        times.push(t.elapsed());
        assert!(r[0].value.is_some());
    }
    times.sort();
    times
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn main() {
    let calls: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse().expect("CALLS is a number"))
        .unwrap_or(2000);
    let mut node = Node::init("bench-abci", "bench-abci");
    node.start();
    node.wait_for_height(2, Duration::from_secs(60));
    let mut s = TcpStream::connect(("127.0.0.1", node.abci_port)).expect("connecting to nodeopd");
    // as CometBFT's Go client: Go sets TCP_NODELAY on every TCP connection by default
    s.set_nodelay(true).expect("TCP_NODELAY");
    println!("synchronous ABCI round-trips to nodeopd on loopback, {calls} calls each (µs)");
    println!(
        "{:<28} {:>9} {:>9} {:>9} {:>9}",
        "call", "p50", "p95", "p99", "max"
    );
    let kinds: [(&str, MakeRequest); 3] = [
        (
            "echo",
            Box::new(|| Request {
                value: Some(request::Value::Echo(RequestEcho {
                    message: "ping".into(),
                })),
            }),
        ),
        (
            "info",
            Box::new(|| Request {
                value: Some(request::Value::Info(RequestInfo::default())),
            }),
        ),
        (
            "query /supply",
            Box::new(|| Request {
                value: Some(request::Value::Query(RequestQuery {
                    path: "/supply".into(),
                    ..Default::default()
                })),
            }),
        ),
    ];
    for (name, make) in kinds.iter() {
        let t = time_calls(&mut s, calls, make);
        let at = |q: usize| us(t[(t.len() * q / 100).min(t.len() - 1)]);
        println!(
            "{:<28} {:>9.0} {:>9.0} {:>9.0} {:>9.0}",
            name,
            at(50),
            at(95),
            at(99),
            us(*t.last().expect("at least one call"))
        );
    }
}
