//! The hub: steps the sans-IO core against a store and a host.
//!
//! Everything a runtime does with a request or a frame goes through here, so the
//! Socket.IO semantics (connect, middlewares, events, acks, rooms, recovery) are one piece
//! of code whatever the runtime. A runtime only moves bytes and time in and out.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_channel::oneshot;
use futures_util::future::{join_all, select, Either, FutureExt, Shared};
use serde_json::{Map, Value};
use sio_core::api::app::EventHandler;
use sio_core::eio::error::RequestError;
use sio_core::eio::packet::{Data, Packet};
use sio_core::eio::payload::decode_payload;
use sio_core::eio::request::TransportKind;
use sio_core::eio::session::{Channel, CloseReason, EngineSession, Step};
use sio_core::maybe::{boxed, BoxFuture};
use sio_core::sio::packet::{self as sio, Decoded, PacketKind};
use sio_core::{
    Ack, AckError, AckReplies, App, Args, Census, Config, ConnectionError, DisconnectReason, EngineHooks, EngineSocket,
    Handshake, NamespaceDef, OpError, Ops, RequestHead, Server, ServerAck, SharedOps, Socket, SocketInfo, Target,
};
use tracing::{debug, warn};

use crate::host::Host;
use crate::map::HashMap;
use crate::poll::{split_close, Parking, Wake};
use crate::record::{
    LogEntry, Member, NamespaceRefusal, PendingAck, PersistedSocket, Recovery, SessionRecord, SocketRecord,
};
use crate::store::{Queued, Store, StoreError};

mod acks;
mod emit;
mod engine;
mod ops;
mod rooms;
mod socket;

use emit::{run_event, Order, Turn};

/// Why a runtime could not read a POST's body whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PostError {
    /// Over `max_payload` (Node's `maxHttpBufferSize`).
    #[error("body over maxHttpBufferSize")]
    TooLarge,
    /// The request failed while its body was read.
    #[error("cannot read the body: {0}")]
    Unreadable(String),
}

/// What a polling POST comes to ([`Hub::post`]), for the runtime to answer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum PostAnswer {
    /// 200, `ok`.
    Accepted,
    /// 413: the session is closed.
    TooLarge,
    /// The protocol's refusal.
    Refused(RequestError),
}

/// One message from a WebSocket, as it arrived ([`Hub::ws_message`]).
#[derive(Debug, Clone)]
pub enum WsMessage<'a> {
    /// A text message: an Engine.IO packet, binary ones as `b` + base64.
    Text(&'a str),
    /// A binary message: a binary Engine.IO message.
    Binary(Bytes),
}

/// What the runtime does after a WebSocket message ([`Hub::ws_message`]).
#[derive(Debug)]
#[must_use]
pub enum WsStep {
    /// Nothing more: the session took it, or closed on it.
    Done,
    /// A probe's packet stepped the upgrade: the runtime acts on the outcome.
    Probe(ProbeOutcome),
    /// A probe sent what is no Engine.IO packet: the runtime closes the probe, and the
    /// upgrade is cancelled ([`Hub::cancel_upgrade`]) as for any probe that closes.
    BadProbe,
}

/// A session as a request handler needs to see it before acting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionView {
    /// The transport the session uses now.
    pub transport: TransportKind,
    /// Whether a WebSocket is probing to take it over.
    pub upgrading: bool,
}

/// What feeding a probing WebSocket's packets produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeOutcome {
    /// Keep waiting for the upgrade packet.
    Pending,
    /// Answer the probe with this packet on the probing WebSocket.
    Reply(Packet),
    /// The WebSocket is now the session's transport. With `then_close`, the server closed
    /// the session during the upgrade: flush what is queued, then close it.
    Upgraded {
        /// Whether to close the session once what is queued is flushed.
        then_close: bool,
    },
    /// Close the probing WebSocket.
    Abort,
}

type Pending = Mutex<HashMap<String, HashMap<u64, oneshot::Sender<Args>>>>;

/// The runtime-independent server: it steps an application's sessions against a
/// [`Store`] and a [`Host`]. Cheap to clone; clones share one state.
///
/// A runtime builds one with [`Hub::new`] and hands it every request, WebSocket message
/// and timer ([`Hub::handshake`], [`Hub::post`], [`Hub::poll`], [`Hub::ws_message`],
/// [`Hub::sweep`]). [`MemoryStore`](crate::MemoryStore) shows one built for a test.
pub struct Hub<S: Store, H: Host> {
    inner: Arc<Inner<S, H>>,
}

impl<S: Store, H: Host> Clone for Hub<S, H> {
    fn clone(&self) -> Self {
        Self { inner: self.inner.clone() }
    }
}

/// How long after a probe a still parked GET is released with a noop (Node's upgrade
/// check interval).
const UPGRADE_NOOP_DELAY_MS: u64 = 100;

struct Inner<S, H> {
    app: App,
    config: Config,
    store: S,
    host: H,
    /// Server-to-client acknowledgements awaited in this process: socket id -> ack id.
    acks: Pending,
    /// Per socket, the turn of its latest event (see [`Order`]).
    turns: Mutex<HashMap<String, Turn>>,
    /// The turn of this process's latest emit (see [`Inner::emit_order`]).
    emits: Mutex<Option<Turn>>,
    ack_seq: AtomicU64,
    log_seq: AtomicU64,
    /// Tells this process's recovery offsets from another's.
    instance: String,
    /// Per schedule (by index in the app's), the last tick this hub has dealt with.
    ticks: Mutex<Vec<Option<u64>>>,
    me: Weak<Inner<S, H>>,
}

/// Where the acknowledgement ids of the hub `instance` start. Every hub sharing a store
/// (processes on Redis, Lambda instances, a Durable Object and its next incarnation) may
/// ask the same socket for an acknowledgement, and the store and the client know a pending
/// one by its id alone: so each hub counts up from a point of its own, drawn from its
/// random instance id, below 2^52 so that the ids stay below 2^53, which a JavaScript
/// client reads exactly.
fn first_ack_id(instance: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::hash::DefaultHasher::new();
    instance.hash(&mut hasher);
    hasher.finish() & ((1 << 52) - 1)
}

impl<S: Store, H: Host> Hub<S, H> {
    /// A hub serving `app` (with the options it carries) with state in `store`.
    pub fn new(mut app: App, store: S, host: H) -> Self {
        let config = std::mem::take(&mut app.config);
        let instance = host.random_id();
        let app_schedules = app.schedules.len();
        let inner = Arc::new_cyclic(|me| Inner {
            app,
            config,
            store,
            host,
            acks: Mutex::default(),
            turns: Mutex::default(),
            emits: Mutex::default(),
            ack_seq: AtomicU64::new(first_ack_id(&instance)),
            log_seq: AtomicU64::new(0),
            instance,
            ticks: Mutex::new(vec![None; app_schedules]),
            me: me.clone(),
        });
        Self { inner }
    }

    /// The options the hub runs with (the app's).
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// This hub's id among the instances sharing a store.
    pub fn instance(&self) -> &str {
        &self.inner.instance
    }

    /// Queues packets another instance could not deliver here after all (`volatile` ones
    /// only into an empty queue).
    pub async fn requeue(&self, sid: &str, packets: &[Packet], volatile: bool) {
        self.inner.queue(sid, packets, volatile).await
    }

    /// Whether a task of this instance awaits clients' acknowledgements.
    pub fn awaiting_acks(&self) -> bool {
        !self.inner.acks.lock().unwrap_or_else(|e| e.into_inner()).is_empty()
    }

    /// A client's acknowledgement that another instance received for a task of this one.
    pub fn ack_relayed(&self, socket: &str, id: u64, reply: Args) {
        self.inner.wake_waiter(socket, id, reply);
    }

    /// The store the hub keeps its state in.
    pub fn store(&self) -> &S {
        &self.inner.store
    }

    /// The host the hub runs on.
    pub fn host(&self) -> &H {
        &self.inner.host
    }

    /// The application's engine hooks (headers, `connection_error`).
    pub fn hooks(&self) -> &EngineHooks {
        &self.inner.app.hooks
    }

    /// Runs the server-side event handler of namespace `nsp` for an event another
    /// instance emitted; with `wants_ack`, waits for the handler's acknowledgement: its
    /// reply, or `None` when the handler ended without one (or there is no handler).
    pub async fn server_side_event(&self, nsp: &str, event: &str, args: Args, wants_ack: bool) -> Option<Args> {
        let handler = self.inner.app.resolve(nsp)?.server_side_handler(event)?.clone();
        let server = Server::new(self.inner.ops()?);
        if !wants_ack {
            run(&self.inner.host, handler(server, args, None));
            return None;
        }
        let (tx, rx) = oneshot::channel();
        let ack = ServerAck::new(move |reply| {
            let _ = tx.send(reply);
        });
        run(&self.inner.host, handler(server, args, Some(ack)));
        rx.await.ok()
    }

    /// Whether the application has scheduled handlers ([`sio_core::App::every`]): a
    /// runtime then calls [`Self::run_schedules`] on time.
    pub fn has_schedules(&self) -> bool {
        !self.inner.app.schedules.is_empty()
    }

    /// Runs each scheduled handler whose current tick this hub has not dealt with yet,
    /// when the store grants this instance the tick (one instance of all runs each
    /// tick); returns when the next tick begins. A hub that first looks at a schedule
    /// mid-tick runs it: ticks are not made up for, and a tick is not run twice.
    pub async fn run_schedules(&self) -> Option<u64> {
        let inner = &self.inner;
        let now = inner.host.now();
        let mut next = None::<u64>;
        for (index, schedule) in inner.app.schedules.iter().enumerate() {
            let tick = schedule.tick(now);
            next = Some(next.map_or(schedule.next_after(tick), |n| n.min(schedule.next_after(tick))));
            let due = {
                let mut ticks = inner.ticks.lock().unwrap_or_else(|e| e.into_inner());
                let due = ticks[index].is_none_or(|last| last < tick);
                ticks[index] = Some(tick);
                due
            };
            if !due {
                continue;
            }
            match inner.store.claim_tick(&schedule.name, tick, schedule.every_ms.saturating_mul(2)).await {
                Ok(true) => {
                    if let Some(ops) = inner.ops() {
                        run(&inner.host, (schedule.handler)(Server::new(ops)));
                    }
                }
                Ok(false) => {}
                Err(e) => warn!(schedule = %schedule.name, error = %e, "cannot claim a scheduled tick"),
            }
        }
        next
    }

    /// Tells the application's `connection_error` hook, as a task of its own, that
    /// `request` was refused with `error`.
    pub fn refused(&self, request: RequestHead, error: &RequestError) {
        if let (Some(hook), Some(ops)) = (&self.inner.app.hooks.connection_error, self.inner.ops()) {
            run(&self.inner.host, hook(ConnectionError::new(request, error), Server::new(ops)));
        }
    }

    /// Operations on the whole server, as the application sees them.
    pub fn server(&self) -> Server {
        Server::new(self.inner.clone() as SharedOps)
    }

    /// Opens a session. Returns its id and the open packet to send first.
    pub async fn handshake(
        &self,
        transport: TransportKind,
        handshake: Handshake,
    ) -> Result<(String, Packet), RequestError> {
        self.inner.handshake(transport, handshake).await
    }

    /// The session as it stands, closing it first if its ping deadline has passed (a
    /// request may arrive before the timer that would have closed it fires); `None` for
    /// an unknown session.
    pub async fn session(&self, sid: &str) -> Result<Option<SessionView>, RequestError> {
        self.inner.session(sid).await
    }

    /// Client packets on the session's current transport.
    pub async fn receive(&self, sid: &str, packets: Vec<Packet>) -> bool {
        let mut turns = Vec::new();
        self.inner.receive(sid, packets, &mut turns).await
    }

    /// [`Hub::receive`], resolving only once the events among the packets have reached
    /// their handlers: past the packet middlewares and `on_any`, which run one event after
    /// another per socket. A runtime that answers a request before its handlers finish, and
    /// whose next request for the session may be served by another process (Lambda), waits
    /// for this before answering, so that the next events start after these wherever they
    /// land. Handlers themselves go on concurrently, as on every runtime.
    pub async fn receive_in_order(&self, sid: &str, packets: Vec<Packet>) -> bool {
        let mut turns = Vec::new();
        let alive = self.inner.receive(sid, packets, &mut turns).await;
        join_all(turns).await;
        alive
    }

    /// Takes the body of a polling POST to session `sid`, as the runtime read it (at most
    /// `max_payload` bytes): its packets go to the session, in order when `in_order` (see
    /// [`Hub::receive_in_order`]). A body over the limit or unreadable closes the session
    /// as a failed transport, an undecodable one as a parse error.
    pub async fn post(&self, sid: &str, body: Result<impl AsRef<[u8]>, PostError>, in_order: bool) -> PostAnswer {
        let packets = match body.as_ref().map(|b| decode_payload(b.as_ref())) {
            Ok(Ok(packets)) => packets,
            Ok(Err(e)) => {
                warn!(%sid, error = %e, "undecodable polling payload");
                self.close(sid, CloseReason::ParseError).await;
                return PostAnswer::Refused(RequestError::BadRequest);
            }
            Err(e) => {
                warn!(%sid, error = %e, "POST body refused");
                self.close(sid, CloseReason::TransportError).await;
                return match e {
                    PostError::TooLarge => PostAnswer::TooLarge,
                    PostError::Unreadable(_) => PostAnswer::Refused(RequestError::BadRequest),
                };
            }
        };
        match in_order {
            true => self.receive_in_order(sid, packets).await,
            false => self.receive(sid, packets).await,
        };
        PostAnswer::Accepted
    }

    /// One message from a WebSocket of session `sid`: a transport's goes to the session
    /// (in order when `in_order`, see [`Hub::receive_in_order`]), a probe's to the upgrade
    /// ([`Hub::probe`]). A message that is no Engine.IO packet closes the session as a
    /// parse error, or ends the probe; one over `max_payload` closes the session as a
    /// failed transport (the runtime closes the WebSocket with 1009 when it can).
    pub async fn ws_message(&self, sid: &str, message: WsMessage<'_>, probing: bool, in_order: bool) -> WsStep {
        let packet = match message {
            WsMessage::Text(text) => match Packet::decode_text(text) {
                Ok(packet) => packet,
                Err(e) => {
                    warn!(%sid, error = %e, "undecodable Engine.IO packet");
                    if probing {
                        return WsStep::BadProbe;
                    }
                    self.close(sid, CloseReason::ParseError).await;
                    return WsStep::Done;
                }
            },
            WsMessage::Binary(bytes) => Packet::Message(Data::Binary(bytes)),
        };
        let size = match &packet {
            Packet::Message(Data::Text(text)) => text.len(),
            Packet::Message(Data::Binary(bytes)) => bytes.len(),
            _ => 0,
        };
        let max = self.config().engine.max_payload;
        if size > max {
            warn!(%sid, size, max, "WebSocket message over maxPayload: closing the session");
            self.close(sid, CloseReason::TransportError).await;
            return WsStep::Done;
        }
        if probing {
            return WsStep::Probe(self.probe(sid, packet).await);
        }
        match in_order {
            true => self.receive_in_order(sid, vec![packet]).await,
            false => self.receive(sid, vec![packet]).await,
        };
        WsStep::Done
    }

    /// A WebSocket wants to take over a polling session.
    pub async fn begin_upgrade(&self, sid: &str) -> bool {
        let (now, cfg) = (self.inner.host.now(), &self.inner.config.engine);
        let started = self
            .inner
            .store
            .update_session(sid, |r| if r.eio.begin_upgrade(now, cfg) { r.deadline() } else { None })
            .await;
        match started {
            Ok(Some(Some(deadline))) => {
                self.inner.schedule(sid, deadline).await;
                true
            }
            _ => false,
        }
    }

    /// A packet from the WebSocket probing an upgrade.
    pub async fn probe(&self, sid: &str, packet: Packet) -> ProbeOutcome {
        let (now, cfg) = (self.inner.host.now(), &self.inner.config.engine);
        let step = self
            .inner
            .store
            .update_session(sid, |r| (r.eio.on_packet(&packet, Channel::Probe, now, cfg), r.eio.closing))
            .await;
        match step {
            Ok(Some((Step::Probed(reply), _))) => {
                self.inner.release_poll_later(sid);
                ProbeOutcome::Reply(reply)
            }
            Ok(Some((Step::Upgraded, then_close))) => ProbeOutcome::Upgraded { then_close },
            Ok(Some((Step::Idle, _))) => ProbeOutcome::Pending,
            Ok(Some((Step::Close(reason), _))) => {
                self.inner.close_session(sid, reason, None).await;
                ProbeOutcome::Abort
            }
            _ => ProbeOutcome::Abort,
        }
    }

    /// The probing WebSocket closed before the upgrade completed.
    pub async fn cancel_upgrade(&self, sid: &str) {
        let closing = self
            .inner
            .store
            .update_session(sid, |r| {
                r.eio.cancel_upgrade();
                r.eio.closing
            })
            .await;
        if closing == Ok(Some(true)) {
            self.inner.close_session(sid, CloseReason::ForcedClose, None).await;
        }
    }

    /// Answers a long-polling GET: what is queued for the session, or else what comes
    /// next, waiting in `parking` for it or for the session's end. `Err` is the
    /// protocol's refusal of the GET.
    ///
    /// A GET still parked when the session upgrades is woken and refused like one that
    /// comes after. A client sends the upgrade packet only once its GET has returned, so
    /// such a GET was sent after the upgrade packet on another connection and overtook it
    /// (the WebSocket and the GET may reach different processes, objects or invocations);
    /// it is answered as if it had come in the client's order.
    pub async fn poll(&self, sid: &str, parking: &impl Parking) -> Result<Vec<Packet>, RequestError> {
        loop {
            match self.session(sid).await? {
                None => return parking.take_farewell(sid).ok_or(RequestError::UnknownSid),
                Some(view) if view.transport != TransportKind::Polling => return Err(RequestError::BadRequest),
                Some(_) => {}
            }
            let Some(wake) = parking.park(sid) else {
                warn!(%sid, "overlapping polls: closing the session");
                self.close(sid, CloseReason::TransportError).await;
                return Err(RequestError::BadRequest);
            };
            let mut queued = self.take_queued(sid).await;
            if let Some(close) = split_close(&mut queued) {
                self.requeue(sid, &close, false).await;
            }
            if !queued.is_empty() {
                parking.unpark(sid);
                return Ok(queued);
            }
            match wake.await {
                Some(Wake::Ready) => continue,
                Some(Wake::Closed(last)) if !last.is_empty() => return Ok(last),
                Some(Wake::Closed(_)) | None => return Ok(vec![Packet::Close]),
            }
        }
    }

    /// Packets queued for a polling session, to answer its GET.
    pub async fn take_queued(&self, sid: &str) -> Vec<Packet> {
        self.inner.store.take_outbound(sid).await.unwrap_or_default()
    }

    /// Packets queued while the session was polling, to flush on its new WebSocket (less
    /// the noops, which only answer a GET); its queue is sealed so that nothing sent later
    /// waits there. The runtime must already deliver to the WebSocket (and, across
    /// processes, have recorded where it is).
    pub async fn seal_queue(&self, sid: &str) -> Vec<Packet> {
        let mut queued = self.inner.store.seal_outbound(sid).await.unwrap_or_default();
        queued.retain(|p| *p != Packet::Noop);
        queued
    }

    /// The transport of a session died (a WebSocket dropped, a poll failed).
    pub async fn transport_closed(&self, sid: &str, reason: CloseReason) {
        self.inner.close_session(sid, reason, None).await
    }

    /// Closes a session from the server side (overlapping polls, oversize bodies).
    pub async fn close(&self, sid: &str, reason: CloseReason) {
        self.inner.close_session(sid, reason, Some(Packet::Close)).await
    }

    /// Steps every session whose deadline has passed; returns the next deadline.
    pub async fn sweep(&self) -> Option<u64> {
        let now = self.inner.host.now();
        // Stepping a session reschedules it later than `now`; the bound only guards
        // against a store that keeps handing back the same deadline.
        let mut next_session = None;
        // Long enough to step a session, short enough that a session whose sweeper died
        // mid-sweep is pinged again well within the ping timeout.
        let lease = self.inner.config.engine.ping_timeout / 2;
        for _ in 0..64 {
            match self.inner.store.due(now, lease).await {
                Ok((due, next)) if due.is_empty() => {
                    next_session = next;
                    break;
                }
                Ok((due, _)) => {
                    for sid in due {
                        self.inner.on_deadline(&sid, now).await;
                    }
                }
                Err(e) => {
                    warn!(error = %e, "cannot read deadlines");
                    break;
                }
            }
        }
        let next_ack = match self.inner.store.due_acks(now).await {
            Ok((acks, next)) => {
                for ack in acks {
                    self.inner.resolve_ack(ack, Err(AckError::Timeout));
                }
                next
            }
            Err(e) => {
                warn!(error = %e, "cannot read acknowledgement deadlines");
                None
            }
        };
        next_session.into_iter().chain(next_ack).min()
    }
}

/// Runs a handler: polled once right away so that whatever it does before its first real
/// wait happens in packet order (as in Node, where handlers run synchronously up to their
/// first `await`), then handed to the runtime if it is not finished.
fn run<H: Host>(host: &H, future: BoxFuture<'static, ()>) {
    let mut future = future;
    let mut cx = Context::from_waker(std::task::Waker::noop());
    if future.as_mut().poll(&mut cx) == Poll::Pending {
        host.spawn(future);
    }
}

/// Closes a session as a task of its own. Closing runs disconnect handlers, which may
/// emit and so queue again: a close decided while queueing must not run inside that
/// delivery (and a named, boxed future keeps the compiler out of the recursion).
fn close_task<S: Store, H: Host>(inner: Arc<Inner<S, H>>, sid: String, reason: CloseReason) -> BoxFuture<'static, ()> {
    boxed(async move { inner.close_session(&sid, reason, None).await })
}

fn store_error(e: StoreError) -> OpError {
    OpError::Store(e.to_string())
}

/// Splits a Socket.IO packet into the Engine.IO messages that carry it.
fn frames(packet: &sio::Packet) -> Arc<[Packet]> {
    // Of known length, so collected straight into the shared slice: one allocation.
    let attachments = packet.attachments.iter().map(|b| Packet::Message(Data::Binary(b.clone())));
    std::iter::once(Packet::Message(Data::Text(packet.encode()))).chain(attachments).collect()
}
