//! The HTTP long-polling transport: a GET held open for server packets and POSTs for ours,
//! on two keep-alive connections (one HTTP/1.1 connection carries one request at a time).
//! Packets in a payload are separated by `\x1e`.

use crate::error::Error;
use crate::transport::{tcp, Transport};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{handshake, SendRequest};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

const SEP: char = '\x1e';

/// One HTTP/1.1 connection to the server.
struct Http {
    sender: SendRequest<Full<Bytes>>,
    addr: SocketAddr,
}

impl Http {
    /// The connection and the task driving it (aborting the task drops the socket).
    async fn open(addr: SocketAddr, reset_on_drop: bool) -> Result<(Self, JoinHandle<()>), Error> {
        let stream = tcp(addr, reset_on_drop).await?;
        let (sender, conn) = handshake(TokioIo::new(stream)).await?;
        let conn = tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok((Http { sender, addr }, conn))
    }

    /// One request; the body of a 200, else the status as an error.
    async fn request(&mut self, method: Method, query: &str, body: String) -> Result<String, Error> {
        let req = Request::builder()
            .method(method)
            .uri(format!("/socket.io/?EIO=4&transport=polling{query}"))
            .header("host", self.addr.to_string())
            .header("content-type", "text/plain;charset=UTF-8")
            .body(Full::new(Bytes::from(body)))?;
        self.sender.ready().await?;
        let res = self.sender.send_request(req).await?;
        let status = res.status().as_u16();
        let body = res.into_body().collect().await?.to_bytes();
        if status != 200 {
            return Err(Error::Status(status));
        }
        String::from_utf8(body.to_vec()).map_err(|_| Error::Protocol("non-UTF-8 payload".into()))
    }
}

pub struct PollingClient {
    incoming: mpsc::UnboundedReceiver<Result<String, Error>>,
    outgoing: mpsc::UnboundedSender<String>,
    tasks: [JoinHandle<()>; 4],
}

impl PollingClient {
    /// Engine.IO handshake GET, Socket.IO CONNECT by POST, GETs until the `40{sid}` reply;
    /// then a task keeps a GET in flight and another POSTs whatever the loop queues.
    pub async fn connect(addr: SocketAddr, reset_on_drop: bool) -> Result<Self, Error> {
        let (mut get, get_conn) = Http::open(addr, reset_on_drop).await?;
        let (mut post, post_conn) = Http::open(addr, reset_on_drop).await?;
        let open = get.request(Method::GET, "", String::new()).await?;
        let sid = open
            .strip_prefix('0')
            .and_then(|json| serde_json::from_str::<serde_json::Value>(json).ok())
            .and_then(|v| v["sid"].as_str().map(str::to_owned))
            .ok_or_else(|| Error::Protocol(format!("expected open, got {open:.60}")))?;
        let query = format!("&sid={sid}");
        post.request(Method::POST, &query, "40".into()).await?;
        // Bounded: the reply comes on the first GET or, after a ping or two, the next ones.
        let mut after_connect = None;
        for _ in 0..4 {
            let payload = get.request(Method::GET, &query, String::new()).await?;
            let mut rest = Vec::new();
            let mut connected = false;
            for packet in payload.split(SEP) {
                match packet {
                    p if connected => rest.push(p.to_owned()),
                    "2" => drop(post.request(Method::POST, &query, "3".into()).await?),
                    p if p.starts_with("44") => return Err(Error::Protocol(format!("connect_error {p:.80}"))),
                    p if p.starts_with("40") => connected = true,
                    _ => {}
                }
            }
            if connected {
                after_connect = Some(rest);
                break;
            }
        }
        let after_connect = after_connect.ok_or(Error::Timeout("socket.io connect reply"))?;
        let (in_tx, incoming) = mpsc::unbounded_channel();
        let (outgoing, out_rx) = mpsc::unbounded_channel();
        for packet in after_connect {
            let _ = in_tx.send(Ok(packet));
        }
        let reader = tokio::spawn(read_loop(get, query.clone(), in_tx.clone(), outgoing.clone()));
        let writer = tokio::spawn(write_loop(post, query, out_rx, in_tx));
        Ok(PollingClient { incoming, outgoing, tasks: [reader, writer, get_conn, post_conn] })
    }
}

/// Keeps one GET in flight; pings are answered through the writer, the rest go to the loop.
/// Ends at the first error, which the loop then reads as the session's end.
async fn read_loop(
    mut http: Http,
    query: String,
    incoming: mpsc::UnboundedSender<Result<String, Error>>,
    outgoing: mpsc::UnboundedSender<String>,
) {
    // Each turn waits on the server (at most a ping interval); it ends with the session.
    loop {
        match http.request(Method::GET, &query, String::new()).await {
            Ok(payload) => {
                for packet in payload.split(SEP) {
                    match packet {
                        "2" => drop(outgoing.send("3".into())),
                        "6" | "" => {}
                        p => {
                            if incoming.send(Ok(p.to_owned())).is_err() {
                                return;
                            }
                        }
                    }
                }
            }
            Err(e) => return drop(incoming.send(Err(e))),
        }
    }
}

/// POSTs queued packets, batching whatever piled up while the previous POST was in flight.
async fn write_loop(
    mut http: Http,
    query: String,
    mut outgoing: mpsc::UnboundedReceiver<String>,
    incoming: mpsc::UnboundedSender<Result<String, Error>>,
) {
    while let Some(first) = outgoing.recv().await {
        let mut body = first;
        while let Ok(next) = outgoing.try_recv() {
            body.push(SEP);
            body.push_str(&next);
        }
        if let Err(e) = http.request(Method::POST, &query, body).await {
            return drop(incoming.send(Err(e)));
        }
    }
}

impl Transport for PollingClient {
    async fn recv(&mut self) -> Result<String, Error> {
        self.incoming.recv().await.unwrap_or(Err(Error::Closed))
    }

    async fn send(&mut self, packet: String) -> Result<(), Error> {
        self.outgoing.send(packet).map_err(|_| Error::Closed)
    }

    fn drop_abruptly(self) {
        for task in &self.tasks {
            task.abort();
        }
    }

    async fn close(mut self) {
        // "41" then Engine.IO close "1", in one POST; give it a moment to go out.
        let _ = self.send("41".into()).await;
        let _ = self.send("1".into()).await;
        let _ = tokio::time::timeout(std::time::Duration::from_secs(2), async {
            while self.incoming.recv().await.is_some_and(|r| r.is_ok()) {}
        })
        .await;
        for task in &self.tasks {
            task.abort();
        }
    }
}
