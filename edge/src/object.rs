//! The Durable Object that owns a share of the sessions: it serves their polling requests
//! and hibernatable WebSockets, and its alarm drives their deadlines.
//!
//! Everything that must outlive an eviction is in the object's storage or in its
//! WebSockets' tags and attachments; the hub and host in memory are rebuilt from the
//! environment when workerd brings the object back.

use std::rc::Rc;

use serde::Serialize;
#[cfg(feature = "inspect")]
use serde_json::json;
use sio_core::eio::cors::cors_headers;
use sio_core::eio::error::RequestError;
use sio_core::eio::packet::Packet;
use sio_core::eio::request::{route, Method, Route, TransportKind};
use sio_core::eio::session::CloseReason;
use sio_core::App;
use sio_core::Args;
use sio_engine::{Hub, PostAnswer, ProbeOutcome, WsMessage, WsStep};
use tracing::{error, warn};
use worker::{Env, Request, Response, State, WebSocket, WebSocketIncomingMessage, WebSocketPair};

use crate::clock::now_ms;
use crate::host::{attachment, send_frames, Attachment, EdgeHost};
use crate::http::{self, payload, respond};
use crate::pool::{Call, Pool, CALL_PATH};
use crate::site::{Site, BINDING};
use crate::store::SqlStore;

pub type EdgeHub = Hub<SqlStore, EdgeHost>;

/// WebSocket close code for a frame over `maxPayload` (RFC 6455 "message too big").
const CLOSE_TOO_BIG: u16 = 1009;

/// The Durable Object class's state: what [`crate::worker!`] wraps in the class it
/// declares in the user's crate, forwarding each of workerd's calls to it.
pub struct Object {
    hub: EdgeHub,
    /// Whether this object runs the application's schedules.
    schedules: bool,
    /// Tells this incarnation of the object from the one before an eviction.
    #[cfg(feature = "inspect")]
    incarnation: String,
}

impl Object {
    async fn serve(&self, mut req: Request) -> worker::Result<Response> {
        let path = req.path();
        if path == CALL_PATH {
            return self.answer(req).await;
        }
        #[cfg(feature = "inspect")]
        if let Some(what) = path.strip_prefix("/__sio/object/").and_then(|p| p.split_once('/')).map(|(_, w)| w) {
            return self.inspect(what).await;
        }
        let config = &self.hub.config().engine;
        let method = Method::parse(req.method().as_ref());
        let query = http::query(&req);
        let base64 = query.base64();
        let route = match route(method, &query, http::is_websocket(&req), config) {
            Ok(route) => route,
            Err(e) => return self.refuse(&req, e),
        };
        match route {
            Route::Handshake(transport) => {
                let handshake = http::handshake(&req, query, now_ms());
                let hooks = self.hub.hooks();
                let request = hooks.handshake_request(&handshake);
                let (sid, res) = match self.hub.handshake(transport, handshake).await {
                    Err(e) => return self.refuse(&req, e),
                    Ok((sid, open)) if transport == TransportKind::Polling => (sid, payload([&open])),
                    Ok((sid, open)) => {
                        let res = self.accept_ws(&sid, Some(open), base64);
                        (sid, res)
                    }
                };
                let mut res = res?;
                http::add_headers(&mut res, hooks.handshake_headers(config.cookie.as_ref(), request.as_ref(), &sid))?;
                Ok(res)
            }
            Route::Poll(sid) => match self.hub.poll(&sid, self.host()).await {
                Ok(packets) => payload(&packets),
                Err(e) => self.refuse(&req, e),
            },
            Route::Post(sid) => self.post(&sid, &mut req).await,
            Route::Upgrade(sid) => match self.hub.session(&sid).await {
                Err(e) => self.refuse(&req, e),
                Ok(None) => self.refuse(&req, RequestError::UnknownSid),
                Ok(Some(_)) if self.hub.begin_upgrade(&sid).await => self.accept_ws(&sid, None, base64),
                Ok(Some(_)) => refuse_ws(),
            },
        }
    }

    /// A call from another object of the pool, about this object's sockets and sessions.
    async fn answer(&self, mut req: Request) -> worker::Result<Response> {
        // Read by serde_json, as the answer is: `Request::json` would go through
        // serde_wasm_bindgen, a second deserializer for every type a call carries.
        let call: Call = serde_json::from_str(&req.text().await?)?;
        let store = self.hub.store();
        // A socket minted here that recovered on another object is that object's to serve.
        if let Some((pool, holder)) = call.socket().and_then(|id| store.forward_to(id)) {
            let answer = pool.send(&holder, &call).await.map_err(|e| worker::Error::RustError(e.to_string()))?;
            return respond(200, "application/json", answer);
        }
        let answer = match call {
            Call::Members(target, log) => reply(store.members_for(target, log).await),
            Call::Deliver(sids, packets, volatile) => {
                let frames: Vec<_> = packets.iter().map(Packet::to_frame).collect();
                for sid in self.host().deliver_local(sids, &frames) {
                    self.hub.requeue(&sid, &packets, volatile).await;
                }
                reply(Ok(()))
            }
            Call::Join(nsp, id, rooms, max) => reply(store.join_local(&nsp, &id, &rooms, max)),
            Call::Leave(nsp, id, rooms) => reply(store.leave_rooms(&nsp, &id, &rooms)),
            Call::Socket(nsp, id) => reply(store.socket_record(&nsp, &id)),
            Call::RoomsOf(nsp, id) => reply(store.rooms(&nsp, &id)),
            Call::SetData(nsp, id, data) => reply(store.set_data_local(&nsp, &id, data)),
            Call::AddAcks(acks, max) => reply(store.add_acks_for(acks, max).await),
            Call::Restore { pid, offset, not_before, nsp, to } => {
                reply(store.restore_for(&pid, &offset, not_before, &nsp, &to).await)
            }
            Call::Disconnect(nsp, ids, close) => {
                let sockets = ids.into_iter().fold(self.hub.server().of(&nsp).local(), |op, id| op.to(id));
                if let Err(e) = sockets.disconnect_sockets(close).await {
                    warn!(error = %e, "cannot disconnect sockets for another object");
                }
                reply(Ok(()))
            }
            Call::Keeps(id, pid, since) => reply(store.keeps(&id, &pid, since)),
            Call::Start => reply(Ok(())),
            Call::Census => reply(store.census_here()),
            Call::ServerSide(event) => reply(Ok(event.run(&self.hub).await.map(|a| (a.values, a.binary)))),
            Call::AckRelayed(socket, id, values, binary) => {
                self.hub.ack_relayed(&socket, id, Args { values, binary });
                reply(Ok(()))
            }
        };
        respond(200, "application/json", answer?)
    }

    /// What tests and measurements read from an object: its incarnation (to tell an
    /// eviction happened), its sessions and the storage it used since last asked.
    #[cfg(feature = "inspect")]
    async fn inspect(&self, what: &str) -> worker::Result<Response> {
        match what {
            "stats" => {
                let (hub, host) = (self.hub.store().take_usage(), self.host().store().take_usage());
                let alarm = self.host().state().storage().get_alarm().await?;
                let body = json!({
                    "incarnation": self.incarnation,
                    "alarm": alarm,
                    "next_deadline": self.host().store().next_deadline(0).ok().flatten(),
                    "away": self.host().store().away_ids().unwrap_or_default(),
                    "sessions": self.host().store().sessions_here().unwrap_or(0),
                    "websockets": self.host().state().get_websockets().len(),
                    "alarms": self.host().alarms(),
                    "calls": self.host().take_calls(),
                    "storage": {
                        "statements": hub.statements + host.statements,
                        "rows_read": hub.rows_read + host.rows_read,
                        "rows_written": hub.rows_written + host.rows_written,
                    },
                });
                respond(200, "application/json", body.to_string())
            }
            "break-away" => match self.host().store().break_away() {
                Ok(()) => respond(200, "text/plain", "ok"),
                Err(e) => respond(500, "text/plain", e.to_string()),
            },
            // The store suite of sio-engine, on this object's storage: the names of its
            // checks, or one check, which wants an object of its own (a fresh storage). A
            // check that fails panics, and workerd answers 500.
            "suite" => respond(200, "application/json", json!(sio_engine::suite::CHECKS).to_string()),
            _ => match what.strip_prefix("suite/") {
                Some(check) if sio_engine::suite::check(check, self.hub.store()).await => {
                    respond(200, "text/plain", "ok")
                }
                _ => respond(404, "text/plain", "not found"),
            },
        }
    }

    async fn post(&self, sid: &str, req: &mut Request) -> worker::Result<Response> {
        match self.hub.session(sid).await {
            Err(e) => return self.refuse(req, e),
            Ok(None) => return self.refuse(req, RequestError::UnknownSid),
            Ok(Some(view)) if view.transport != TransportKind::Polling => {
                return self.refuse(req, RequestError::BadRequest)
            }
            Ok(Some(_)) => {}
        }
        let body = http::read_body(req, self.hub.config().engine.max_payload).await;
        match self.hub.post(sid, body, false).await {
            PostAnswer::Accepted => respond(200, "text/html", "ok"),
            PostAnswer::TooLarge => respond(413, "text/plain", "payload too large"),
            PostAnswer::Refused(error) => self.refuse(req, error),
        }
    }

    /// The refusal of `req`, told to the application's `connection_error` hook.
    fn refuse(&self, req: &Request, error: RequestError) -> worker::Result<Response> {
        http::refuse_reported(&self.hub, req, error)
    }

    /// Accepts a hibernatable WebSocket: a new session's transport when `open` is given,
    /// else a probe to upgrade session `sid` (refused when one is already under way).
    fn accept_ws(&self, sid: &str, open: Option<Packet>, base64: bool) -> worker::Result<Response> {
        let pair = WebSocketPair::new()?;
        let ws = pair.server;
        let probe = open.is_none();
        self.host().state().accept_websocket_with_tags(&ws, &[sid]);
        ws.serialize_attachment(Attachment { sid: sid.to_owned(), probe, base64 })?;
        if let Some(open) = open {
            send_frames(&ws, &[open.to_frame()], base64);
        }
        Response::from_websocket(pair.client)
    }

    async fn on_frame(&self, ws: &WebSocket, at: Attachment, message: WebSocketIncomingMessage) {
        let sid = at.sid.as_str();
        let size = match &message {
            WebSocketIncomingMessage::String(s) => s.len(),
            WebSocketIncomingMessage::Binary(b) => b.len(),
        };
        if size > self.hub.config().engine.max_payload {
            warn!(%sid, size, "WebSocket frame over maxHttpBufferSize");
            let _ = ws.close(Some(CLOSE_TOO_BIG), Some("message too big"));
            return self.closed(at, CloseReason::TransportError).await;
        }
        let step = match message {
            WebSocketIncomingMessage::String(text) => {
                self.hub.ws_message(sid, WsMessage::Text(&text), at.probe, false).await
            }
            WebSocketIncomingMessage::Binary(bytes) => {
                self.hub.ws_message(sid, WsMessage::Binary(bytes.into()), at.probe, false).await
            }
        };
        let outcome = match step {
            WsStep::Done => return,
            WsStep::BadProbe => {
                let _ = ws.close(Some(1000), Some("bad probe"));
                return self.hub.cancel_upgrade(sid).await;
            }
            WsStep::Probe(outcome) => outcome,
        };
        match outcome {
            ProbeOutcome::Pending => {}
            ProbeOutcome::Reply(reply) => {
                send_frames(ws, &[reply.to_frame()], at.base64);
            }
            ProbeOutcome::Upgraded { then_close } => {
                if let Err(e) = ws.serialize_attachment(Attachment { probe: false, ..at.clone() }) {
                    error!(%sid, error = %e, "cannot record the upgrade");
                }
                let queued = self.hub.seal_queue(sid).await;
                let frames: Vec<_> = queued.iter().map(Packet::to_frame).collect();
                send_frames(ws, &frames, at.base64);
                self.host().release_poll(sid);
                if then_close {
                    self.hub.close(sid, CloseReason::ForcedClose).await;
                }
            }
            ProbeOutcome::Abort => {
                let _ = ws.close(Some(1000), Some("upgrade aborted"));
            }
        }
    }

    /// A WebSocket is gone: a probe cancels its upgrade, a transport ends its session.
    async fn closed(&self, at: Attachment, reason: CloseReason) {
        match at.probe {
            true => self.hub.cancel_upgrade(&at.sid).await,
            false => self.hub.transport_closed(&at.sid, reason).await,
        }
    }

    fn host(&self) -> &EdgeHost {
        self.hub.host()
    }

    /// Every event ends by pointing the alarm at the earliest deadline it left.
    fn settle(&self) {
        self.host().sync_alarm();
    }
}

fn to_worker(e: sio_engine::StoreError) -> worker::Error {
    worker::Error::RustError(e.to_string())
}

/// A call's answer as JSON text, written straight from its value: through a `Value`
/// (`json!`), every answer type would compile a second serializer.
fn reply<T: Serialize>(answer: Result<T, sio_engine::StoreError>) -> worker::Result<String> {
    serde_json::to_string(&answer.map_err(to_worker)?).map_err(|e| worker::Error::RustError(e.to_string()))
}

/// Answers a second WebSocket for a session, as the reference does, by accepting and
/// closing it at once; it is never hibernatable, so no event of it reaches the hub.
fn refuse_ws() -> worker::Result<Response> {
    let pair = WebSocketPair::new()?;
    pair.server.accept()?;
    pair.server.close(Some(1000), Some("upgrade refused"))?;
    Response::from_websocket(pair.client)
}

/// The Durable Object's entry points, as [`worker::DurableObject`] names them.
impl Object {
    /// The object `state` names, serving `app`.
    pub fn new(state: State, env: Env, app: App) -> Self {
        let site = Site::new(&env, app);
        let name = state.id().name().unwrap_or_else(|| {
            error!("object created without a name: its ids cannot be routed");
            String::new()
        });
        let pool = match (site.objects, env.durable_object(BINDING)) {
            (1, _) => None,
            (objects, Ok(namespace)) => Some(Rc::new(Pool::new(namespace, name.clone(), objects))),
            (_, Err(e)) => {
                error!(error = %e, "no Durable Object binding {BINDING}: serving this object's sessions alone");
                None
            }
        };
        let window = site.app.config.socket.recovery.as_ref().map_or(0, |r| r.max_disconnection_duration);
        let store = SqlStore::open(state.storage().sql(), pool.clone(), window);
        let host_store = store.share();
        // One object runs the application's schedules, the pool's first: its alarm
        // keeps it (and so the schedules) going once it has started, and every other
        // object starts it as it starts itself.
        let scheduler = crate::route::object_name(0);
        let schedules = !site.app.schedules.is_empty() && name == scheduler;
        if !site.app.schedules.is_empty() && name != scheduler {
            if let Some(pool) = pool.clone() {
                wasm_bindgen_futures::spawn_local(async move {
                    if let Err(e) = pool.call::<()>(&scheduler, &Call::Start).await {
                        warn!(error = %e, "cannot start the object that runs the schedules");
                    }
                });
            }
        }
        let host = EdgeHost::new(state, name, host_store, pool);
        if schedules {
            host.schedule_at(Some(now_ms()));
        }
        #[cfg(feature = "inspect")]
        let incarnation = sio_engine::Host::random_id(&host);
        let hub = Hub::new(site.app, store, host);
        Self {
            hub,
            schedules,
            #[cfg(feature = "inspect")]
            incarnation,
        }
    }

    /// A request routed here by the Worker, or a call from another object.
    pub async fn fetch(&self, req: Request) -> worker::Result<Response> {
        let cors = self.hub.config().engine.cors.clone();
        let origin = req.headers().get("origin").ok().flatten();
        let preflight = req.method() == worker::Method::Options;
        let hooks = self.hub.hooks();
        let engine_path = req.path().starts_with(self.hub.config().engine.path.as_str());
        let head = hooks.headers.as_ref().filter(|_| engine_path).map(|_| http::request_head(&req));
        let res = match (&cors, preflight) {
            (Some(_), true) => respond(204, "text/plain", ""),
            _ => self.serve(req).await,
        };
        self.settle();
        let mut res = res?;
        if let Some(cors) = &cors {
            for (name, value) in cors_headers(cors, origin.as_deref(), preflight) {
                res.headers_mut().set(name, &value)?;
            }
        }
        if let Some(head) = head {
            http::add_headers(&mut res, hooks.response_headers(&head))?;
        }
        Ok(res)
    }

    /// A message on one of the object's hibernatable WebSockets.
    pub async fn websocket_message(&self, ws: WebSocket, message: WebSocketIncomingMessage) -> worker::Result<()> {
        if let Some(at) = attachment(&ws) {
            self.on_frame(&ws, at, message).await;
        }
        self.settle();
        Ok(())
    }

    /// One of its WebSockets closed.
    pub async fn websocket_close(
        &self,
        ws: WebSocket,
        _code: usize,
        _reason: String,
        _clean: bool,
    ) -> worker::Result<()> {
        if let Some(at) = attachment(&ws) {
            self.closed(at, CloseReason::TransportClose).await;
        }
        self.settle();
        Ok(())
    }

    /// One of its WebSockets failed.
    pub async fn websocket_error(&self, ws: WebSocket, error: worker::Error) -> worker::Result<()> {
        warn!(%error, "WebSocket error");
        if let Some(at) = attachment(&ws) {
            self.closed(at, CloseReason::TransportError).await;
        }
        self.settle();
        Ok(())
    }

    /// The object's alarm: deadlines are due.
    pub async fn alarm(&self) -> worker::Result<Response> {
        let started = now_ms();
        self.host().alarm_fired();
        self.hub.sweep().await;
        if self.schedules {
            self.host().schedule_at(self.hub.run_schedules().await);
        }
        if let Err(e) = self.hub.store().check_away(started).await {
            error!(error = %e, "cannot check on sockets gone to other objects");
        }
        self.host().alarm_done(started);
        Response::ok("")
    }
}
