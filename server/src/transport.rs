//! HTTP and WebSocket transports: requests in, hub calls, responses and frames out.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use sio_core::eio::error::RequestError;
use sio_core::eio::packet::{Data, Packet};
use sio_core::eio::payload::decode_payload;
use sio_core::eio::request::{route, Method, Query, Route, TransportKind};
use sio_core::eio::session::CloseReason;
use sio_core::Handshake;
use sio_state::http::{add_cors, cors_request, header_pairs, payload, refuse};
use sio_state::{split_close, Hub, ProbeOutcome, Store, Wake};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::error::ProtocolError;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::WebSocketStream;
use tracing::{debug, warn};

use crate::host::{to_message, Command, NativeHost};

pub type NativeHub<S> = Hub<S, Arc<NativeHost>>;
pub type Body = Full<Bytes>;

pub fn response(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Response<Body> {
    sio_state::http::response(status, content_type, Full::new(body.into()))
}

fn handshake_of(req: &Request<Incoming>, query: Query, remote: SocketAddr, now: u64) -> Handshake {
    Handshake {
        query,
        headers: header_pairs(req.headers()),
        auth: serde_json::Value::Object(Default::default()),
        issued: now,
        address: remote.ip().to_string(),
        url: req.uri().to_string(),
    }
}

/// One Engine.IO endpoint of this process: its hub and the connections it holds.
pub struct Endpoint<S: Store> {
    pub hub: NativeHub<S>,
    pub host: Arc<NativeHost>,
}

impl<S: Store> Clone for Endpoint<S> {
    fn clone(&self) -> Self {
        Self { hub: self.hub.clone(), host: self.host.clone() }
    }
}

impl<S: Store> Endpoint<S> {
    pub async fn handle(&self, req: Request<Incoming>, remote: SocketAddr) -> Response<Body> {
        let Some(cors) = &self.hub.config().engine.cors else { return self.respond(req, remote).await };
        let (preflight, origin) = cors_request(req.method(), req.headers());
        let mut res = match preflight {
            true => response(StatusCode::NO_CONTENT, "text/plain", ""),
            false => self.respond(req, remote).await,
        };
        add_cors(&mut res, cors, origin.as_deref(), preflight);
        res
    }

    async fn respond(&self, req: Request<Incoming>, remote: SocketAddr) -> Response<Body> {
        let config = &self.hub.config().engine;
        let method = Method::parse(req.method().as_str());
        let query = Query::parse(req.uri().query().unwrap_or(""));
        let websocket = req
            .headers()
            .get(header::UPGRADE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
        let route = match route(method, &query, websocket, config) {
            Ok(route) => route,
            Err(e) => {
                debug!(error = %e, uri = %req.uri(), "refused request");
                return refuse(e);
            }
        };
        match route {
            Route::Handshake(transport) => {
                let handshake = handshake_of(&req, query, remote, crate::host::now_ms());
                match self.hub.handshake(transport, handshake).await {
                    Err(e) => refuse(e),
                    Ok((sid, open)) if transport == TransportKind::Polling => {
                        debug!(%sid, "polling handshake");
                        payload([&open])
                    }
                    Ok((sid, open)) => self.accept_ws(req, sid, Some(open)),
                }
            }
            Route::Poll(sid) => self.poll(&sid).await,
            Route::Post(sid) => self.post(&sid, req).await,
            Route::Upgrade(sid) => match self.hub.session(&sid).await {
                Err(e) => refuse(e),
                Ok(None) => refuse(RequestError::UnknownSid),
                Ok(Some(_)) => self.accept_ws(req, sid, None),
            },
        }
    }

    async fn poll(&self, sid: &str) -> Response<Body> {
        loop {
            match self.hub.session(sid).await {
                Err(e) => return refuse(e),
                Ok(None) => match self.host.take_farewell(sid) {
                    Some(last) => return payload(&last),
                    None => return refuse(RequestError::UnknownSid),
                },
                Ok(Some(view)) if view.transport != TransportKind::Polling => return refuse(RequestError::BadRequest),
                Ok(Some(_)) => {}
            }
            let Some(wake) = self.host.park(sid) else {
                warn!(%sid, "overlapping polls: closing the session");
                self.hub.close(sid, CloseReason::TransportError).await;
                return refuse(RequestError::BadRequest);
            };
            let mut queued = self.hub.take_queued(sid).await;
            if let Some(close) = split_close(&mut queued) {
                self.hub.requeue(sid, &close).await;
            }
            if !queued.is_empty() {
                self.host.unpark(sid);
                return payload(&queued);
            }
            match wake.await {
                Ok(Wake::Ready) => continue,
                Ok(Wake::Closed(last)) if !last.is_empty() => return payload(&last),
                Ok(Wake::Closed(_)) | Err(_) => return payload([&Packet::Close]),
            }
        }
    }

    async fn post(&self, sid: &str, req: Request<Incoming>) -> Response<Body> {
        match self.hub.session(sid).await {
            Err(e) => return refuse(e),
            Ok(None) => return refuse(RequestError::UnknownSid),
            Ok(Some(view)) if view.transport != TransportKind::Polling => return refuse(RequestError::BadRequest),
            Ok(Some(_)) => {}
        }
        let max = self.hub.config().engine.max_payload;
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        if declared.is_some_and(|len| len > max) {
            warn!(%sid, "POST body over maxHttpBufferSize");
            self.hub.close(sid, CloseReason::TransportError).await;
            return response(StatusCode::PAYLOAD_TOO_LARGE, "text/plain", "payload too large");
        }
        let body = match Limited::new(req.into_body(), max).collect().await {
            Ok(body) => body.to_bytes(),
            Err(e) => {
                warn!(%sid, error = %e, "POST body refused");
                self.hub.close(sid, CloseReason::TransportError).await;
                return response(StatusCode::PAYLOAD_TOO_LARGE, "text/plain", "payload too large");
            }
        };
        match decode_payload(&body) {
            Ok(packets) => {
                self.hub.receive(sid, packets).await;
                response(StatusCode::OK, "text/html", "ok")
            }
            Err(e) => {
                warn!(%sid, error = %e, "undecodable polling payload");
                self.hub.close(sid, CloseReason::ParseError).await;
                refuse(RequestError::BadRequest)
            }
        }
    }

    /// Answers 101 and serves the WebSocket: a new session when `open` is given, else a
    /// probe to upgrade session `sid`.
    fn accept_ws(&self, req: Request<Incoming>, sid: String, open: Option<Packet>) -> Response<Body> {
        let Some(key) = req.headers().get(header::SEC_WEBSOCKET_KEY).map(|k| derive_accept_key(k.as_bytes())) else {
            return refuse(RequestError::BadRequest);
        };
        let endpoint = self.clone();
        let max = self.hub.config().engine.max_payload;
        tokio::spawn(async move {
            match hyper::upgrade::on(req).await {
                Ok(upgraded) => {
                    let config = WebSocketConfig::default()
                        .read_buffer_size(1024)
                        .write_buffer_size(16 * 1024)
                        .max_message_size(Some(max))
                        .max_frame_size(Some(max));
                    let ws = WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, Some(config)).await;
                    endpoint.serve_ws(ws, sid, open).await;
                }
                Err(e) => debug!(error = %e, "WebSocket upgrade failed"),
            }
        });
        let mut res = response(StatusCode::SWITCHING_PROTOCOLS, "text/plain", Bytes::new());
        let headers = res.headers_mut();
        headers.remove(header::CONTENT_TYPE);
        headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        headers.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
        if let Ok(v) = HeaderValue::from_str(&key) {
            headers.insert(header::SEC_WEBSOCKET_ACCEPT, v);
        }
        res
    }

    /// Serves one WebSocket for as long as it lives. Every call into the hub is boxed:
    /// this future stays alive (idle, mostly) for the whole connection, and inlined hub
    /// futures would make each idle connection carry their largest state (kilobytes).
    async fn serve_ws(
        &self,
        ws: WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>,
        sid: String,
        open: Option<Packet>,
    ) {
        let (mut sink, stream) = ws.split();
        let mut stream = WokenStream::new(stream);
        let (tx, mut rx) = mpsc::unbounded_channel();
        let mut probing = open.is_none();
        let mut ended = CloseReason::TransportClose;
        match open {
            Some(open) => {
                self.host.attach_ws(&sid, tx);
                Box::pin(self.host.claim(&sid)).await;
                if sink.send(to_message(open.to_frame())).await.is_err() {
                    Box::pin(self.hub.transport_closed(&sid, CloseReason::TransportClose)).await;
                    return;
                }
            }
            None => {
                if !Box::pin(self.hub.begin_upgrade(&sid)).await {
                    debug!(%sid, "refused a second WebSocket for the session");
                    let _ = sink.close().await;
                    return;
                }
                self.host.attach_probe(&sid, tx);
            }
        }
        loop {
            tokio::select! {
                command = rx.recv() => match command {
                    Some(Command::Send(messages)) => {
                        let mut failed = false;
                        for message in messages.iter() {
                            failed |= sink.feed(message.clone()).await.is_err();
                        }
                        while let Ok(Command::Send(messages)) = rx.try_recv() {
                            for message in messages.iter() {
                                failed |= sink.feed(message.clone()).await.is_err();
                            }
                        }
                        if failed || sink.flush().await.is_err() {
                            break;
                        }
                    }
                    Some(Command::Close) | None => {
                        let _ = sink.close().await;
                        break;
                    }
                },
                message = stream.next() => {
                    let packet = match message {
                        Some(Ok(Message::Text(text))) => match Packet::decode_text(text.as_str()) {
                            Ok(packet) => packet,
                            Err(e) => {
                                warn!(%sid, error = %e, "undecodable Engine.IO packet");
                                if probing {
                                    break;
                                }
                                Box::pin(self.hub.close(&sid, CloseReason::ParseError)).await;
                                continue;
                            }
                        },
                        Some(Ok(Message::Binary(bytes))) => Packet::Message(Data::Binary(bytes)),
                        Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
                        Some(Ok(Message::Close(_))) | None => break,
                        Some(Err(WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake))) => {
                            debug!(%sid, "WebSocket dropped without a close frame");
                            break;
                        }
                        Some(Err(e)) => {
                            warn!(%sid, error = %e, "WebSocket closed on a protocol error");
                            if let Some(code) = close_code(&e) {
                                let frame = CloseFrame { code, reason: e.to_string().into() };
                                let _ = sink.send(Message::Close(Some(frame))).await;
                            }
                            ended = CloseReason::TransportError;
                            break;
                        }
                    };
                    if !probing {
                        Box::pin(self.hub.receive(&sid, vec![packet])).await;
                        continue;
                    }
                    match Box::pin(self.hub.probe(&sid, packet)).await {
                        ProbeOutcome::Pending => {}
                        ProbeOutcome::Reply(reply) => {
                            if sink.send(to_message(reply.to_frame())).await.is_err() {
                                break;
                            }
                        }
                        ProbeOutcome::Upgraded { then_close } => {
                            probing = false;
                            self.host.promote_probe(&sid);
                            // Claimed before the queue is sealed and flushed: whatever
                            // another process sends from now on is relayed here, whatever
                            // it queued before is in the flush, and whatever it tries to
                            // queue after (having looked for the holder a moment too
                            // early) is refused by the seal and relayed here after all.
                            Box::pin(self.host.claim(&sid)).await;
                            let queued = Box::pin(self.hub.seal_queue(&sid)).await;
                            let frames: Vec<Message> =
                                queued.iter().filter(|p| **p != Packet::Noop).map(|p| to_message(p.to_frame())).collect();
                            let mut failed = false;
                            for frame in frames {
                                failed |= sink.feed(frame).await.is_err();
                            }
                            if failed || sink.flush().await.is_err() {
                                break;
                            }
                            debug!(%sid, "upgraded to WebSocket");
                            if then_close {
                                Box::pin(self.hub.close(&sid, CloseReason::ForcedClose)).await;
                            }
                        }
                        ProbeOutcome::Abort => {
                            let _ = sink.close().await;
                            break;
                        }
                    }
                }
            }
        }
        if probing {
            self.host.detach_probe(&sid);
            Box::pin(self.hub.cancel_upgrade(&sid)).await;
        } else {
            Box::pin(self.host.release(&sid)).await;
            Box::pin(self.hub.transport_closed(&sid, ended)).await;
        }
    }
}

/// The close code that tells the client what was wrong with its frames, when they were.
fn close_code(error: &WsError) -> Option<CloseCode> {
    match error {
        WsError::Utf8(_) => Some(CloseCode::Invalid),
        WsError::Capacity(_) => Some(CloseCode::Size),
        WsError::Protocol(_) => Some(CloseCode::Protocol),
        _ => None,
    }
}

/// The read half of a WebSocket, polled only once its last `Pending` has been woken (or
/// after it yielded an item). tungstenite zero-fills its read buffer (4 KiB) on every
/// poll, and `serve_ws` is mostly woken to write: without the gate every outgoing frame
/// also paid for a read attempt (~8% of the server's CPU in a broadcast).
struct WokenStream<S> {
    inner: S,
    wake: Arc<ReadWake>,
    waker: std::task::Waker,
}

struct ReadWake {
    ready: std::sync::atomic::AtomicBool,
    task: futures_util::task::AtomicWaker,
}

impl std::task::Wake for ReadWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.ready.store(true, std::sync::atomic::Ordering::Release);
        self.task.wake();
    }
}

impl<S> WokenStream<S> {
    fn new(inner: S) -> Self {
        let wake = Arc::new(ReadWake {
            ready: std::sync::atomic::AtomicBool::new(true),
            task: futures_util::task::AtomicWaker::new(),
        });
        Self { inner, waker: std::task::Waker::from(wake.clone()), wake }
    }
}

impl<S: futures_util::Stream + Unpin> futures_util::Stream for WokenStream<S> {
    type Item = S::Item;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<S::Item>> {
        let this = &mut *self;
        this.wake.task.register(cx.waker());
        if !this.wake.ready.swap(false, std::sync::atomic::Ordering::AcqRel) {
            return std::task::Poll::Pending;
        }
        let polled = std::pin::Pin::new(&mut this.inner).poll_next(&mut std::task::Context::from_waker(&this.waker));
        if polled.is_ready() {
            // More frames may already be buffered: poll again next time.
            this.wake.ready.store(true, std::sync::atomic::Ordering::Release);
        }
        polled
    }
}
