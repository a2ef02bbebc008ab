//! HTTP and WebSocket transports: requests in, hub calls, responses and frames out.

use std::future::Future;
use std::net::IpAddr;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::StreamExt;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::header::{self, HeaderValue};
use hyper::upgrade::{OnUpgrade, Parts};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use sio_core::eio::error::RequestError;
use sio_core::eio::packet::Packet;
use sio_core::eio::request::{route, Method, Query, Route, TransportKind};
use sio_core::eio::session::CloseReason;
use sio_core::Handshake;
use sio_engine::http::{
    add_cors, add_headers, answered, compressed_payload, cors_request, header_pairs, payload, posted, refuse,
    request_head,
};
use sio_engine::{Hub, PostError, ProbeOutcome, Store, WsMessage, WsStep};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::error::ProtocolError;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::WebSocketStream;
use tracing::{debug, warn};

use crate::host::NativeHost;
use crate::wire::{Socket, Wire};

pub type NativeHub<S> = Hub<S, Arc<NativeHost>>;

/// A request body the endpoint reads: hyper's own, or any other (axum's) that a tower
/// stack hands over.
pub trait RequestBody:
    hyper::body::Body<Data: Send, Error: Into<Box<dyn std::error::Error + Send + Sync>>> + Send + 'static
{
}

impl<B> RequestBody for B where
    B: hyper::body::Body<Data: Send, Error: Into<Box<dyn std::error::Error + Send + Sync>>> + Send + 'static
{
}
pub type Body = Full<Bytes>;

pub fn response(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Response<Body> {
    sio_engine::http::response(status, content_type, Full::new(body.into()))
}

fn handshake_of<B>(req: &Request<B>, query: Query, remote: Option<IpAddr>, now: u64) -> Handshake {
    Handshake {
        query,
        headers: header_pairs(req.headers()),
        auth: serde_json::Value::Object(Default::default()),
        issued: now,
        address: remote.map(|ip| ip.to_string()).unwrap_or_default(),
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
    /// Answers one request of the endpoint; `remote` is the client's address, when known.
    pub async fn handle<B: RequestBody>(&self, req: Request<B>, remote: Option<IpAddr>) -> Response<Body> {
        let hooks = self.hub.hooks();
        let head = hooks.wants_requests().then(|| request_head(&req, remote));
        let mut res = self.answer(req, remote).await;
        if let Some(head) = head {
            answered(&mut res, &self.hub, head);
        }
        res
    }

    async fn answer<B: RequestBody>(&self, req: Request<B>, remote: Option<IpAddr>) -> Response<Body> {
        let Some(cors) = &self.hub.config().engine.cors else { return self.respond(req, remote).await };
        let (preflight, origin) = cors_request(req.method(), req.headers());
        let mut res = match preflight {
            true => response(StatusCode::NO_CONTENT, "text/plain", ""),
            false => self.respond(req, remote).await,
        };
        add_cors(&mut res, cors, origin.as_deref(), preflight);
        res
    }

    async fn respond<B: RequestBody>(&self, req: Request<B>, remote: Option<IpAddr>) -> Response<Body> {
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
                let base64 = query.base64();
                let handshake = handshake_of(&req, query, remote, crate::host::now_ms());
                let hooks = self.hub.hooks();
                let request = hooks.handshake_request(&handshake);
                let (sid, mut res) = match self.hub.handshake(transport, handshake).await {
                    Err(e) => return refuse(e),
                    Ok((sid, open)) if transport == TransportKind::Polling => {
                        debug!(%sid, "polling handshake");
                        (sid, payload([&open]))
                    }
                    Ok((sid, open)) => (sid.clone(), self.accept_ws(req, sid, Some(open), base64)),
                };
                add_headers(&mut res, hooks.handshake_headers(config.cookie.as_ref(), request.as_ref(), &sid));
                res
            }
            Route::Poll(sid) => match self.hub.poll(&sid, &*self.host).await {
                Ok(packets) => compressed_payload(
                    &packets,
                    req.headers().get(header::ACCEPT_ENCODING),
                    config.http_compression.as_ref(),
                ),
                Err(e) => refuse(e),
            },
            Route::Post(sid) => self.post(&sid, req).await,
            Route::Upgrade(sid) => match self.hub.session(&sid).await {
                Err(e) => refuse(e),
                Ok(None) => refuse(RequestError::UnknownSid),
                Ok(Some(_)) => self.accept_ws(req, sid, None, query.base64()),
            },
        }
    }

    async fn post<B: RequestBody>(&self, sid: &str, req: Request<B>) -> Response<Body> {
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
        let body = match declared.is_some_and(|len| len > max) {
            true => Err(PostError::TooLarge),
            false => Limited::new(req.into_body(), max).collect().await.map(|b| b.to_bytes()).map_err(|e| {
                match e.downcast_ref::<LengthLimitError>() {
                    Some(_) => PostError::TooLarge,
                    None => PostError::Unreadable(e.to_string()),
                }
            }),
        };
        posted(self.hub.post(sid, body, false).await)
    }

    /// Answers 101 and serves the WebSocket: a new session when `open` is given, else a
    /// probe to upgrade session `sid`.
    fn accept_ws<B>(&self, req: Request<B>, sid: String, open: Option<Packet>, base64: bool) -> Response<Body> {
        let Some(key) = req.headers().get(header::SEC_WEBSOCKET_KEY).map(|k| derive_accept_key(k.as_bytes())) else {
            return refuse(RequestError::BadRequest);
        };
        tokio::spawn(self.clone().serve_ws(hyper::upgrade::on(req), sid, open, base64));
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

    /// Serves one WebSocket for as long as it lives: reads it, and flushes what its wire
    /// could not write at once. This future stays alive (idle, mostly) for the whole
    /// connection, so everything else is boxed: inlined, the hub's futures would make each
    /// idle connection carry their largest state (kilobytes).
    ///
    /// An async block, not an async fn: a fn's arguments are moved into locals of their
    /// own, and the idle future would carry both copies.
    #[expect(clippy::manual_async_fn, reason = "an async fn doubles its arguments in the future")]
    fn serve_ws(
        self,
        upgrade: OnUpgrade,
        sid: String,
        open: Option<Packet>,
        base64: bool,
    ) -> impl Future<Output = ()> + Send {
        async move {
            let upgraded = match upgrade.await {
                Ok(upgraded) => upgraded,
                Err(e) => return debug!(error = %e, "WebSocket upgrade failed"),
            };
            // A TCP connection is taken back from hyper so that its socket can be written
            // from wherever frames come from (wire.rs); any other (behind a tower stack
            // whose server wraps its connections) is split into its two halves.
            let (wire, socket) = match upgraded.downcast::<TokioIo<TcpStream>>() {
                Ok(Parts { io, read_buf, .. }) => {
                    let tcp = Arc::new(io.into_inner());
                    let wire = Wire::new(tcp.clone(), base64);
                    (wire.clone(), Socket::new(tcp, wire, read_buf))
                }
                Err(upgraded) => {
                    let (read, write) = tokio::io::split(TokioIo::new(upgraded));
                    let wire = Wire::stream(Box::pin(write), base64);
                    (wire.clone(), Socket::stream(Box::pin(read), wire))
                }
            };
            let max = self.hub.config().engine.max_payload;
            // The codec's read buffer is held by every idle connection, and a small one costs
            // no extra reads: what does not fit waits in the socket's scratch read (wire.rs).
            let config = WebSocketConfig::default()
                .read_buffer_size(256)
                .write_buffer_size(0)
                .max_message_size(Some(max))
                .max_frame_size(Some(max));
            let mut ws = Box::pin(WebSocketStream::from_raw_socket(socket, Role::Server, Some(config))).await;
            let mut probing = open.is_none();
            if !Box::pin(self.start_ws(&sid, &wire, open)).await {
                return Box::pin(wire.finish()).await;
            }
            let mut woken = std::pin::pin!(wire.woken());
            let ended = loop {
                let message = tokio::select! {
                    () = &mut woken => {
                        woken.set(wire.woken());
                        None
                    }
                    message = ws.next() => Some(message),
                };
                match message {
                    Some(message) => {
                        if let Some(ended) = Box::pin(self.on_ws_message(&sid, &wire, &mut probing, message)).await {
                            break ended;
                        }
                    }
                    None if Box::pin(wire.flush()).await.is_err() || wire.is_over() => {
                        break CloseReason::TransportClose
                    }
                    None => {}
                }
            };
            if probing {
                self.host.detach_probe(&sid);
                Box::pin(self.hub.cancel_upgrade(&sid)).await;
            } else {
                Box::pin(self.host.release(&sid)).await;
                Box::pin(self.hub.transport_closed(&sid, ended)).await;
            }
            Box::pin(wire.finish()).await;
        }
    }

    /// Makes the wire the session's transport (after the open packet), or its upgrade
    /// probe; `false` when the session refuses it.
    async fn start_ws(&self, sid: &str, wire: &Arc<Wire>, open: Option<Packet>) -> bool {
        match open {
            Some(open) => {
                // On the wire before anyone else can find the wire.
                let _ = wire.send(&wire.frames(&[open]));
                self.host.attach_ws(sid, wire.clone());
                self.host.claim(sid).await;
            }
            None => {
                if !self.hub.begin_upgrade(sid).await {
                    debug!(%sid, "refused a second WebSocket for the session");
                    wire.close(None);
                    return false;
                }
                self.host.attach_probe(sid, wire.clone());
            }
        }
        true
    }

    /// Handles what the WebSocket read; `Some` when the connection is over, and why.
    async fn on_ws_message(
        &self,
        sid: &str,
        wire: &Wire,
        probing: &mut bool,
        message: Option<Result<Message, WsError>>,
    ) -> Option<CloseReason> {
        let step = match message {
            Some(Ok(Message::Text(text))) => {
                self.hub.ws_message(sid, WsMessage::Text(text.as_str()), *probing, false).await
            }
            Some(Ok(Message::Binary(bytes))) => {
                self.hub.ws_message(sid, WsMessage::Binary(bytes), *probing, false).await
            }
            Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => return None,
            Some(Ok(Message::Close(_))) | None => return Some(CloseReason::TransportClose),
            Some(Err(WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake))) => {
                debug!(%sid, "WebSocket dropped without a close frame");
                return Some(CloseReason::TransportClose);
            }
            Some(Err(e)) => {
                warn!(%sid, error = %e, "WebSocket closed on a protocol error");
                if let Some(code) = close_code(&e) {
                    wire.close(Some(CloseFrame { code, reason: e.to_string().into() }));
                }
                return Some(CloseReason::TransportError);
            }
        };
        let outcome = match step {
            WsStep::Done => return None,
            WsStep::BadProbe => return Some(CloseReason::TransportClose),
            WsStep::Probe(outcome) => outcome,
        };
        match outcome {
            ProbeOutcome::Pending => None,
            ProbeOutcome::Reply(reply) => wire.send(&wire.frames(&[reply])).err().map(|_| CloseReason::TransportClose),
            ProbeOutcome::Upgraded { then_close } => {
                *probing = false;
                // Frames sent to the session from now on wait behind the packets it queued
                // before. Claimed before the queue is sealed and flushed: whatever another
                // process sends from now on is relayed here, whatever it queued before is in
                // the flush, and whatever it tries to queue after (having looked for the
                // holder a moment too early) is refused by the seal and relayed here after
                // all.
                wire.hold();
                self.host.promote_probe(sid);
                self.host.claim(sid).await;
                let queued = self.hub.seal_queue(sid).await;
                wire.release(&wire.frames(&queued));
                // The GET still parked finds the session upgraded and is refused as any
                // GET after the upgrade (see `Hub::poll`), rather than wait for the
                // session's next ping or its end.
                self.host.notify_local(sid);
                debug!(%sid, "upgraded to WebSocket");
                if then_close {
                    self.hub.close(sid, CloseReason::ForcedClose).await;
                }
                None
            }
            ProbeOutcome::Abort => {
                wire.close(None);
                Some(CloseReason::TransportClose)
            }
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
