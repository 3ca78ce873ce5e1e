//! The ABCI socket server: CometBFT's four connections (consensus, mempool, query, snapshot) over
//! TCP, one thread each, requests and responses as varint-length-delimited protobuf (CometBFT's
//! `protoio` framing).
//!
//! Two things differ from a naive loop, both for latency:
//! - every accepted socket has `TCP_NODELAY` set, so a small response is not held back by Nagle's
//!   algorithm waiting for the ACK of the previous one (with delayed ACKs that wait is ~40 ms per
//!   synchronous round-trip);
//! - responses are buffered and written out whenever no complete request is left in the read
//!   buffer (and always on a `Flush` request), so a burst of pipelined `CheckTx` requests is answered
//!   in one write instead of one write per response.

use std::io::{self, BufWriter, Read, Write};
use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::thread;

use bytes::{Buf, BytesMut};
use prost::Message;
use tendermint_abci::Application;
use tendermint_proto::v0_38::abci::{request, response, Request, Response, ResponseException};

/// The largest request accepted (CometBFT's blocks are far smaller; a longer length prefix means
/// the stream is not ABCI).
pub const MAX_REQUEST_BYTES: usize = 1 << 30;

/// Bytes read from the socket at a time.
const READ_CHUNK: usize = 1 << 20;

/// A bound ABCI listener.
pub struct Server<App> {
    listener: TcpListener,
    app: App,
}

impl<App: Application> Server<App> {
    pub fn bind(addr: impl ToSocketAddrs, app: App) -> io::Result<Self> {
        Ok(Self {
            listener: TcpListener::bind(addr)?,
            app,
        })
    }

    pub fn local_addr(&self) -> io::Result<std::net::SocketAddr> {
        self.listener.local_addr()
    }

    /// Accepts connections for ever, one thread per connection.
    pub fn listen(self) -> io::Result<()> {
        loop {
            let (stream, peer) = self.listener.accept()?;
            stream.set_nodelay(true)?;
            tracing::info!(%peer, "ABCI connection");
            let app = self.app.clone();
            thread::Builder::new()
                .name(format!("abci-{peer}"))
                .spawn(move || match serve(stream, app) {
                    Ok(()) => tracing::info!(%peer, "ABCI connection closed"),
                    Err(e) => tracing::error!(%peer, error = %e, "ABCI connection failed"),
                })?;
        }
    }
}

/// Serves one connection until the peer closes it.
fn serve<App: Application>(stream: TcpStream, app: App) -> io::Result<()> {
    let mut reader = stream.try_clone()?;
    let mut writer = BufWriter::with_capacity(1 << 16, stream);
    let mut pending = BytesMut::with_capacity(READ_CHUNK);
    let mut chunk = vec![0u8; READ_CHUNK];
    let mut out = Vec::new();
    loop {
        while let Some(req) = decode::<Request>(&mut pending)? {
            let flush = matches!(req.value, Some(request::Value::Flush(_)));
            let resp = dispatch(&app, req);
            out.clear();
            resp.encode_length_delimited(&mut out)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            writer.write_all(&out)?;
            if flush {
                writer.flush()?;
            }
        }
        // nothing complete is left to answer: send what is buffered before waiting for more
        writer.flush()?;
        let n = reader.read(&mut chunk)?;
        if n == 0 {
            return Ok(());
        }
        pending.extend_from_slice(&chunk[..n]);
    }
}

/// The application's answer to one request (an empty request gets an exception, not a panic).
fn dispatch<App: Application>(app: &App, req: Request) -> Response {
    use request::Value as Q;
    use response::Value as R;
    let value = match req.value {
        None => R::Exception(ResponseException {
            error: "empty ABCI request".into(),
        }),
        Some(Q::Echo(r)) => R::Echo(app.echo(r)),
        Some(Q::Flush(_)) => R::Flush(app.flush()),
        Some(Q::Info(r)) => R::Info(app.info(r)),
        Some(Q::InitChain(r)) => R::InitChain(app.init_chain(r)),
        Some(Q::Query(r)) => R::Query(app.query(r)),
        Some(Q::CheckTx(r)) => R::CheckTx(app.check_tx(r)),
        Some(Q::Commit(_)) => R::Commit(app.commit()),
        Some(Q::ListSnapshots(_)) => R::ListSnapshots(app.list_snapshots()),
        Some(Q::OfferSnapshot(r)) => R::OfferSnapshot(app.offer_snapshot(r)),
        Some(Q::LoadSnapshotChunk(r)) => R::LoadSnapshotChunk(app.load_snapshot_chunk(r)),
        Some(Q::ApplySnapshotChunk(r)) => R::ApplySnapshotChunk(app.apply_snapshot_chunk(r)),
        Some(Q::PrepareProposal(r)) => R::PrepareProposal(app.prepare_proposal(r)),
        Some(Q::ProcessProposal(r)) => R::ProcessProposal(app.process_proposal(r)),
        Some(Q::ExtendVote(r)) => R::ExtendVote(app.extend_vote(r)),
        Some(Q::VerifyVoteExtension(r)) => R::VerifyVoteExtension(app.verify_vote_extension(r)),
        Some(Q::FinalizeBlock(r)) => R::FinalizeBlock(app.finalize_block(r)),
    };
    Response { value: Some(value) }
}

/// Takes one length-delimited message off the front of `buf`, or `None` if it is not all there
/// yet.
fn decode<M: Message + Default>(buf: &mut BytesMut) -> io::Result<Option<M>> {
    let mut len: u64 = 0;
    let mut prefix = 0;
    loop {
        let Some(&byte) = buf.get(prefix) else {
            return Ok(None);
        };
        if prefix == 10 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "ABCI length prefix is longer than a varint",
            ));
        }
        len |= u64::from(byte & 0x7f) << (7 * prefix);
        prefix += 1;
        if byte & 0x80 == 0 {
            break;
        }
    }
    let len = usize::try_from(len).unwrap_or(usize::MAX);
    if len > MAX_REQUEST_BYTES {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("ABCI message of {len} bytes is above the limit of {MAX_REQUEST_BYTES}"),
        ));
    }
    if buf.len() < prefix + len {
        return Ok(None);
    }
    buf.advance(prefix);
    let body = buf.split_to(len);
    M::decode(body.as_ref())
        .map(Some)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tendermint_proto::v0_38::abci::{RequestEcho, RequestFlush, RequestInfo};

    #[derive(Clone)]
    struct Echo;
    impl Application for Echo {}

    fn frame(req: &Request) -> Vec<u8> {
        let mut v = Vec::new();
        req.encode_length_delimited(&mut v).unwrap();
        v
    }

    fn echo(msg: &str) -> Request {
        Request {
            value: Some(request::Value::Echo(RequestEcho {
                message: msg.into(),
            })),
        }
    }

    #[test]
    fn a_message_split_anywhere_decodes_once_it_is_complete() {
        let bytes = frame(&echo(&"x".repeat(300)));
        for cut in 0..bytes.len() {
            let mut buf = BytesMut::from(&bytes[..cut]);
            assert!(decode::<Request>(&mut buf).unwrap().is_none(), "cut {cut}");
            buf.extend_from_slice(&bytes[cut..]);
            assert_eq!(
                decode::<Request>(&mut buf).unwrap(),
                Some(echo(&"x".repeat(300)))
            );
            assert!(buf.is_empty());
        }
    }

    #[test]
    fn an_overlong_prefix_or_length_is_refused() {
        let mut buf = BytesMut::from(&[0xff; 11][..]);
        assert!(decode::<Request>(&mut buf).is_err());
        let mut big = Vec::new();
        prost::encoding::encode_varint((MAX_REQUEST_BYTES + 1) as u64, &mut big);
        let mut buf = BytesMut::from(&big[..]);
        assert!(decode::<Request>(&mut buf).is_err());
    }

    /// Pipelined requests without a Flush are all answered, in order, with no second request
    /// needed to push them out; the socket has TCP_NODELAY.
    #[test]
    fn pipelined_requests_are_answered_in_order_without_a_flush() {
        let server = Server::bind("127.0.0.1:0", Echo).unwrap();
        let addr = server.local_addr().unwrap();
        thread::spawn(move || server.listen());
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        let mut burst = Vec::new();
        for i in 0..50 {
            burst.extend(frame(&echo(&format!("m{i}"))));
        }
        burst.extend(frame(&Request {
            value: Some(request::Value::Info(RequestInfo::default())),
        }));
        s.write_all(&burst).unwrap();
        let mut buf = BytesMut::new();
        let mut got = Vec::new();
        let mut chunk = [0u8; 4096];
        while got.len() < 51 {
            match decode::<Response>(&mut buf).unwrap() {
                Some(r) => got.push(r),
                None => {
                    let n = s.read(&mut chunk).unwrap();
                    assert!(n > 0, "the server closed the connection");
                    buf.extend_from_slice(&chunk[..n]);
                }
            }
        }
        for (i, r) in got.iter().take(50).enumerate() {
            match &r.value {
                Some(response::Value::Echo(e)) => assert_eq!(e.message, format!("m{i}")),
                other => panic!("response {i}: {other:?}"),
            }
        }
        assert!(matches!(got[50].value, Some(response::Value::Info(_))));
        // and a Flush is answered too
        s.write_all(&frame(&Request {
            value: Some(request::Value::Flush(RequestFlush {})),
        }))
        .unwrap();
        let r = loop {
            if let Some(r) = decode::<Response>(&mut buf).unwrap() {
                break r;
            }
            let n = s.read(&mut chunk).unwrap();
            assert!(n > 0);
            buf.extend_from_slice(&chunk[..n]);
        };
        assert!(matches!(r.value, Some(response::Value::Flush(_))));
    }
}
