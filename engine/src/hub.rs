//! The hub: steps the sans-IO core against a store and a host.
//!
//! Everything a runtime does with a request or a frame goes through here, so the
//! Socket.IO semantics (connect, middlewares, events, acks, rooms, recovery) are one piece
//! of code whatever the runtime. A runtime only moves bytes and time in and out.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll};

use futures_channel::oneshot;
use futures_util::future::{join_all, select, Either, FutureExt, Shared};
use serde_json::{Map, Value};
use sio_core::api::app::EventHandler;
use sio_core::eio::error::RequestError;
use sio_core::eio::packet::{Data, Packet};
use sio_core::eio::request::TransportKind;
use sio_core::eio::session::{Channel, CloseReason, EngineSession, Step};
use sio_core::maybe::{boxed, BoxFuture};
use sio_core::sio::packet::{self as sio, Decoded, PacketKind};
use sio_core::{
    Ack, AckError, AckReplies, App, Args, Config, DisconnectReason, EngineSocket, Handshake, NamespaceDef, OpError,
    Ops, Server, SharedOps, Socket, SocketInfo, Target,
};
use tracing::{debug, warn};

use crate::host::Host;
use crate::map::HashMap;
use crate::poll::{split_close, Parking, Wake};
use crate::record::{
    LogEntry, Member, NamespaceRefusal, PendingAck, PersistedSocket, Recovery, SessionRecord, SocketRecord,
};
use crate::store::{Queued, Store, StoreError};

/// A session as a request handler needs to see it before acting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionView {
    pub transport: TransportKind,
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
    Upgraded { then_close: bool },
    /// Close the probing WebSocket.
    Abort,
}

type Pending = Mutex<HashMap<String, HashMap<u64, oneshot::Sender<Args>>>>;

/// The runtime-independent server. Cheap to clone.
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
    me: Weak<Inner<S, H>>,
}

impl<S: Store, H: Host> Hub<S, H> {
    /// A hub serving `app` (with the options it carries) with state in `store`.
    pub fn new(mut app: App, store: S, host: H) -> Self {
        let config = std::mem::take(&mut app.config);
        let instance = host.random_id();
        let inner = Arc::new_cyclic(|me| Inner {
            app,
            config,
            store,
            host,
            acks: Mutex::default(),
            turns: Mutex::default(),
            emits: Mutex::default(),
            ack_seq: AtomicU64::new(0),
            log_seq: AtomicU64::new(0),
            instance,
            me: me.clone(),
        });
        Self { inner }
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Makes the acknowledgement ids this hub hands out start at `first`. A runtime whose
    /// hub is rebuilt while acknowledgements of its predecessor are still awaited in the
    /// store (a Durable Object after an eviction) starts past the ids they hold.
    pub fn start_ack_ids_at(&self, first: u64) {
        self.inner.ack_seq.store(first, Ordering::Relaxed);
    }

    /// This hub's id among the instances sharing a store.
    pub fn instance(&self) -> &str {
        &self.inner.instance
    }

    /// Queues packets another instance could not deliver here after all.
    pub async fn requeue(&self, sid: &str, packets: &[Packet]) {
        self.inner.queue(sid, packets).await
    }

    /// Whether a task of this instance awaits clients' acknowledgements.
    pub fn awaiting_acks(&self) -> bool {
        !self.inner.acks.lock().unwrap_or_else(|e| e.into_inner()).is_empty()
    }

    /// A client's acknowledgement that another instance received for a task of this one.
    pub fn ack_relayed(&self, socket: &str, id: u64, reply: Args) {
        self.inner.wake_waiter(socket, id, reply);
    }

    pub fn store(&self) -> &S {
        &self.inner.store
    }

    pub fn host(&self) -> &H {
        &self.inner.host
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
                self.requeue(sid, &close).await;
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

    /// Packets queued while the session was polling, to flush on its new WebSocket; its
    /// queue is sealed so that nothing sent later waits there. The runtime must already
    /// deliver to the WebSocket (and, across processes, have recorded where it is).
    pub async fn seal_queue(&self, sid: &str) -> Vec<Packet> {
        self.inner.store.seal_outbound(sid).await.unwrap_or_default()
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

impl<S: Store, H: Host> Inner<S, H> {
    fn ops(&self) -> Option<SharedOps> {
        self.me.upgrade().map(|me| me as SharedOps)
    }

    fn socket_handle(&self, id: &str, nsp: &str, handshake: Option<Arc<Handshake>>, recovered: bool) -> Option<Socket> {
        Some(Socket::new(id, nsp, handshake, recovered, self.ops()?))
    }

    async fn handshake(
        &self,
        transport: TransportKind,
        handshake: Handshake,
    ) -> Result<(String, Packet), RequestError> {
        let max = self.config.engine.max_sessions;
        let open = self.store.session_count().await.map_err(|e| {
            warn!(error = %e, "cannot count sessions");
            RequestError::StoreUnavailable
        })?;
        if open >= max {
            warn!(open, max, "handshake refused: max_sessions reached");
            return Err(RequestError::TooManySessions);
        }
        if let (Some(allow), Some(ops)) = (&self.app.allow_request, self.ops()) {
            if !allow(handshake.clone(), Server::new(ops)).await {
                return Err(RequestError::Forbidden);
            }
        }
        let now = self.host.now();
        let sid = self.host.random_id();
        let eio = EngineSession::new(sid.clone(), transport, now, &self.config.engine);
        let open = eio.open_packet(&self.config.engine);
        let record = SessionRecord {
            eio,
            sockets: Vec::new(),
            partial: None,
            connect_deadline: Some(now + self.config.socket.connect_timeout),
            handshake: Arc::new(handshake),
        };
        let deadline = record.deadline();
        self.store.insert_session(record).await.map_err(|e| {
            warn!(error = %e, "cannot store a new session");
            RequestError::StoreUnavailable
        })?;
        if let Some(at) = deadline {
            self.schedule(&sid, at).await;
        }
        debug!(%sid, transport = transport.name(), "session opened");
        Ok((sid, open))
    }

    async fn schedule(&self, sid: &str, at: u64) {
        if let Err(e) = self.store.set_deadline(sid, Some(at)).await {
            warn!(%sid, error = %e, "cannot store a deadline");
        }
        self.host.wake_at(at);
    }

    async fn session(&self, sid: &str) -> Result<Option<SessionView>, RequestError> {
        let now = self.host.now();
        let view = self
            .store
            .update_session(sid, |r| {
                (!r.eio.expired(now))
                    .then_some(SessionView { transport: r.eio.transport, upgrading: r.eio.upgrading() })
            })
            .await;
        match view {
            Ok(Some(Some(view))) => Ok(Some(view)),
            Ok(Some(None)) => {
                self.close_session(sid, CloseReason::PingTimeout, Some(Packet::Close)).await;
                Ok(None)
            }
            Ok(None) => Ok(None),
            Err(e) => {
                warn!(%sid, error = %e, "cannot load session");
                Err(RequestError::StoreUnavailable)
            }
        }
    }

    /// Steps the session with client packets; `turns` gets the turn of each event dispatched
    /// through the ordered phase (see [`Order`]).
    async fn receive(&self, sid: &str, packets: Vec<Packet>, turns: &mut Vec<Turn>) -> bool {
        let cfg = &self.config.engine;
        for packet in packets {
            let now = self.host.now();
            // A complete Socket.IO packet is decoded before the engine step, so that the
            // socket it addresses is looked up in the same read of the session: one store
            // round trip per event instead of two.
            let early = match &packet {
                Packet::Message(Data::Text(text)) if self.app.engine.is_none() => match sio::decode(text) {
                    Ok(Decoded::Complete(p)) if p.kind != PacketKind::Connect => Some(p),
                    _ => None,
                },
                _ => None,
            };
            let stepped = self
                .store
                .update_session(sid, |r| {
                    let before = r.deadline();
                    let step = r.eio.on_packet(&packet, Channel::Current, now, cfg);
                    let after = r.deadline();
                    let socket = match (&step, &early) {
                        (Step::Message, Some(p)) if r.partial.is_none() => Some(r.socket_in(&p.nsp).map(str::to_owned)),
                        _ => None,
                    };
                    (step, after.filter(|_| after != before), socket)
                })
                .await;
            let (step, deadline, socket) = match stepped {
                Ok(Some(s)) => s,
                Ok(None) => return false,
                Err(e) => {
                    warn!(%sid, error = %e, "cannot load session");
                    return false;
                }
            };
            if let Some(at) = deadline {
                self.schedule(sid, at).await;
            }
            match step {
                // The paths an event takes are kept inline; the others (connects, binary
                // packets, closes) are boxed, so that the future of every message, itself
                // boxed by the runtime, is not sized (and copied) for the largest of them.
                Step::Message => match (early, socket, packet) {
                    (Some(early), Some(socket), _) => turns.extend(self.on_socket_packet(sid, early, socket).await),
                    (_, _, Packet::Message(data)) => turns.extend(Box::pin(self.on_message(sid, data)).await),
                    _ => {}
                },
                Step::Close(reason) => {
                    let last = (reason == CloseReason::TransportClose).then_some(Packet::Noop);
                    Box::pin(self.close_session(sid, reason, last)).await;
                    return false;
                }
                Step::AbortUpgrade => self.host.abort_upgrade(sid),
                Step::Idle | Step::Ping | Step::Probed(_) | Step::Upgraded => {}
            }
        }
        true
    }

    async fn on_deadline(&self, sid: &str, now: u64) {
        let cfg = &self.config.engine;
        let stepped = self
            .store
            .update_session(sid, |r| {
                let mut steps = r.eio.on_timeout(now, cfg);
                let connect_timeout = r.connect_deadline.is_some_and(|d| d <= now);
                if connect_timeout {
                    steps.push(Step::Close(CloseReason::TransportClose));
                }
                (steps, r.deadline(), connect_timeout)
            })
            .await;
        let (steps, deadline, connect_timeout) = match stepped {
            Ok(Some(s)) => s,
            Ok(None) | Err(_) => {
                let _ = self.store.set_deadline(sid, None).await;
                return;
            }
        };
        if connect_timeout {
            warn!(%sid, "no namespace joined within the connect timeout");
        }
        for step in steps {
            match step {
                Step::Ping => self.transmit(sid, Arc::from([Packet::Ping(String::new())])).await,
                Step::AbortUpgrade => self.host.abort_upgrade(sid),
                Step::Close(reason) => {
                    debug!(%sid, reason = reason.as_str(), "session timed out");
                    self.close_session(sid, reason, Some(Packet::Close)).await;
                    return;
                }
                _ => {}
            }
        }
        match deadline {
            Some(at) => self.schedule(sid, at).await,
            None => {
                let _ = self.store.set_deadline(sid, None).await;
            }
        }
    }

    /// Sends packets to a session: straight onto its WebSocket, or into its polling queue.
    /// `sid` as the caller has it: one that owns its id hands it on uncopied.
    async fn transmit(&self, sid: impl Into<String>, packets: Arc<[Packet]>) {
        self.transmit_to(vec![sid.into()], packets).await
    }

    async fn transmit_to(&self, sids: Vec<String>, packets: Arc<[Packet]>) {
        for sid in self.host.deliver(sids, packets.clone()).await {
            self.queue(&sid, &packets).await;
        }
    }

    async fn queue(&self, sid: &str, packets: &[Packet]) {
        let max = self.config.engine.max_buffered_packets;
        match self.store.push_outbound(sid, packets, max).await {
            Ok(Queued::Yes) => self.host.notify(sid),
            Ok(Queued::Sealed) => {
                // The session upgraded after we found no WebSocket: it is there now (a
                // noop only ever meant to release a GET).
                let packets: Arc<[Packet]> = packets.iter().filter(|p| **p != Packet::Noop).cloned().collect();
                if !packets.is_empty() && !self.host.deliver(vec![sid.to_owned()], packets).await.is_empty() {
                    debug!(%sid, "packets for a WebSocket that is gone dropped");
                }
            }
            Ok(Queued::Full) => {
                warn!(%sid, max, "polling queue over max_buffered_packets: closing the session");
                if let Some(me) = self.me.upgrade() {
                    self.host.spawn(close_task(me, sid.to_owned(), CloseReason::TransportError));
                }
            }
            Err(e) => warn!(%sid, error = %e, "cannot queue packets"),
        }
    }

    /// Releases the GET still parked a moment after a probe, as Node does, so that the
    /// client can pause polling and send the upgrade packet. A poll answered meanwhile
    /// needs no noop, and the client sees none.
    fn release_poll_later(self: &Arc<Self>, sid: &str) {
        let (inner, sid) = (self.clone(), sid.to_owned());
        self.host.spawn(boxed(async move {
            inner.host.sleep(UPGRADE_NOOP_DELAY_MS).await;
            if inner.store.update_session(&sid, |r| r.eio.upgrading()).await == Ok(Some(true)) {
                inner.queue(&sid, &[Packet::Noop]).await;
            }
        }));
    }

    async fn send_packet(&self, sid: impl Into<String>, packet: &sio::Packet) {
        self.transmit_to(vec![sid.into()], frames(packet)).await
    }

    async fn close_session(&self, sid: &str, reason: CloseReason, last: Option<Packet>) {
        let deferred =
            self.store.update_session(sid, |r| r.eio.defer_close().then(|| std::mem::take(&mut r.sockets))).await;
        if let Ok(Some(Some(sockets))) = deferred {
            debug!(%sid, reason = reason.as_str(), "closing once the upgrade in progress settles");
            if let Some(last) = last {
                self.queue(sid, &[last]).await;
            }
            for (nsp, id) in sockets {
                self.socket_gone(&nsp, &id, reason.into()).await;
            }
            return;
        }
        let (record, mut remaining) = match self.store.remove_session(sid).await {
            Ok(Some(r)) => r,
            Ok(None) => return,
            Err(e) => {
                warn!(%sid, error = %e, "cannot remove session");
                return;
            }
        };
        debug!(%sid, reason = reason.as_str(), "session closed");
        // What the client's GET is owed. An orderly close by the server (`disconnect(true)`)
        // owes what is still queued and a close packet, for the next GET if none is parked
        // (Node buffers an orderly close likewise); the client's own close owes `last`; an
        // error owes nothing (a parked GET gets a bare close, the next one "Session ID
        // unknown").
        let owed = match reason {
            CloseReason::ForcedClose => {
                remaining.extend(last);
                remaining
            }
            CloseReason::TransportClose => last.into_iter().collect(),
            _ => Vec::new(),
        };
        self.host.close(sid, owed);
        for (nsp, id) in record.sockets {
            self.socket_gone(&nsp, &id, reason.into()).await;
        }
    }

    /// A client message; returns the turn of the event it dispatched, if any.
    async fn on_message(&self, sid: &str, data: Data) -> Option<Turn> {
        if let (Some(engine), Some(ops)) = (&self.app.engine, self.ops()) {
            run(&self.host, engine(EngineSocket::new(sid, ops), data));
            return None;
        }
        match data {
            Data::Text(text) => match sio::decode(&text) {
                Ok(Decoded::Complete(packet)) => self.on_packet(sid, packet).await,
                Ok(Decoded::Partial(partial)) => {
                    let stored = self
                        .store
                        .update_session(sid, |r| {
                            if r.partial.is_some() {
                                return false;
                            }
                            r.partial = Some(partial.clone());
                            true
                        })
                        .await;
                    if stored != Ok(Some(true)) {
                        warn!(%sid, "a binary packet started before the previous one completed");
                        self.close_session(sid, CloseReason::ParseError, Some(Packet::Close)).await;
                    }
                    None
                }
                Err(e) => {
                    warn!(%sid, error = %e, "undecodable Socket.IO packet");
                    self.close_session(sid, CloseReason::ParseError, Some(Packet::Close)).await;
                    None
                }
            },
            Data::Binary(bytes) => {
                let pushed = self
                    .store
                    .update_session(sid, |r| match r.partial.as_mut() {
                        None => Err("a binary frame with no packet waiting for it".to_owned()),
                        Some(p) => match p.push(bytes.clone()) {
                            Ok(Some(done)) => {
                                r.partial = None;
                                Ok(Some(done))
                            }
                            Ok(None) => Ok(None),
                            Err(e) => Err(e.to_string()),
                        },
                    })
                    .await;
                match pushed {
                    Ok(Some(Ok(Some(packet)))) => return self.on_packet(sid, packet).await,
                    Ok(Some(Ok(None))) | Ok(None) => {}
                    Ok(Some(Err(e))) => {
                        warn!(%sid, error = %e, "bad binary attachment");
                        self.close_session(sid, CloseReason::ParseError, Some(Packet::Close)).await;
                    }
                    Err(e) => warn!(%sid, error = %e, "cannot load session"),
                }
                None
            }
        }
    }

    async fn on_packet(&self, sid: &str, packet: sio::Packet) -> Option<Turn> {
        let socket = self
            .store
            .update_session(sid, |r| match r.partial {
                Some(_) => Err(()),
                None => Ok(r.socket_in(&packet.nsp).map(str::to_owned)),
            })
            .await;
        let socket = match socket {
            Ok(Some(Ok(socket))) => socket,
            Ok(Some(Err(()))) => {
                warn!(%sid, "a text packet arrived while binary attachments were awaited");
                self.close_session(sid, CloseReason::ParseError, Some(Packet::Close)).await;
                return None;
            }
            _ => return None,
        };
        if packet.kind == PacketKind::Connect {
            self.connect(sid, packet.nsp, packet.data).await;
            return None;
        }
        self.on_socket_packet(sid, packet, socket).await
    }

    /// A packet other than CONNECT, for `socket`: the client's socket in the packet's
    /// namespace, if it joined it. Returns the turn of the event it dispatched, if any.
    async fn on_socket_packet(&self, sid: &str, packet: sio::Packet, socket: Option<String>) -> Option<Turn> {
        let Some(id) = socket else {
            warn!(%sid, nsp = %packet.nsp, "packet for a namespace the client has not joined");
            Box::pin(self.close_session(sid, CloseReason::ParseError, Some(Packet::Close))).await;
            return None;
        };
        match packet.kind {
            PacketKind::Disconnect => {
                let _ = self.store.update_session(sid, |r| r.sockets.retain(|(_, s)| *s != id)).await;
                Box::pin(self.socket_gone(&packet.nsp, &id, DisconnectReason::ClientNamespaceDisconnect)).await;
            }
            PacketKind::Event => return self.dispatch(sid, &id, packet),
            PacketKind::Ack => {
                let ack = packet.id?;
                match self.store.take_ack(&packet.nsp, &id, ack).await {
                    Ok(Some(pending)) => {
                        self.resolve_ack(pending, Ok(Args::from_ack_data(packet.data, packet.attachments)))
                    }
                    Ok(None) => debug!(%sid, ack, "an acknowledgement nobody awaits (late or unknown)"),
                    Err(e) => warn!(%sid, error = %e, "cannot load a pending acknowledgement"),
                }
            }
            PacketKind::Connect | PacketKind::ConnectError => {
                warn!(%sid, "a client sent a server-only packet");
                Box::pin(self.close_session(sid, CloseReason::ParseError, Some(Packet::Close))).await;
            }
        }
        None
    }

    /// Runs an event's handler; returns the event's turn when it goes through the ordered
    /// phase first.
    fn dispatch(&self, sid: &str, id: &str, packet: sio::Packet) -> Option<Turn> {
        let def = self.app.resolve(&packet.nsp)?;
        let (event, args) = packet.data.and_then(|d| Args::from_event_data(d, packet.attachments))?;
        let ops = self.ops()?;
        let socket = Socket::new(id, &packet.nsp, None, false, ops.clone());
        let ack = packet.id.map(|ack| Ack::new(&packet.nsp, sid, ack, ops));
        let handler = def.handler(&event).cloned();
        if def.packet_middlewares.is_empty() && def.on_any.is_empty() {
            if let Some(handler) = handler {
                run(&self.host, handler(socket, args, ack));
            }
            return None;
        }
        let (done, turn) = oneshot::channel();
        let turn = turn.shared();
        let previous = self.turns.lock().unwrap_or_else(|e| e.into_inner()).insert(id.to_owned(), turn.clone());
        let order = Order { previous, done };
        run(&self.host, boxed(run_event(def.clone(), handler, socket, event, args, ack, order)));
        Some(turn)
    }

    async fn connect(&self, sid: &str, nsp: String, auth: Option<Value>) {
        let Some(def) = self.app.resolve(&nsp) else {
            return self
                .send_packet(
                    sid,
                    &sio::Packet::connect_error(&nsp, serde_json::json!({"message": "Invalid namespace"})),
                )
                .await;
        };
        let max = self.config.socket.max_namespaces;
        let handshake = self.store.update_session(sid, |r| r.admits(&nsp, max).map(|()| r.handshake.clone())).await;
        let mut handshake = match handshake {
            Ok(Some(Ok(h))) => h,
            Ok(Some(Err(refusal))) => return self.refuse_namespace(sid, &nsp, refusal).await,
            _ => return,
        };
        let auth = match auth {
            Some(Value::Object(map)) => map,
            _ => Map::new(),
        };
        let asked = self.config.socket.recovery.as_ref().and_then(|rc| match (auth.get("pid"), auth.get("offset")) {
            (Some(Value::String(pid)), Some(Value::String(offset))) => {
                Some((pid.clone(), offset.clone(), self.host.now().saturating_sub(rc.max_disconnection_duration)))
            }
            _ => None,
        });
        // The socket shares the session's handshake unless this namespace's auth differs.
        let auth = Value::Object(auth);
        if handshake.auth != auth {
            Arc::make_mut(&mut handshake).auth = auth;
        }
        let mut restored = None;
        if let Some((pid, offset, not_before)) = asked {
            let (nsp, handshake) = (nsp.clone(), handshake.clone());
            let recovery = Recovery { pid: pid.clone(), offset, not_before, nsp, sid: sid.to_owned(), handshake };
            match self.store.restore_socket(recovery).await {
                Ok(r) => restored = r.map(|r| (pid, r)),
                Err(e) => warn!(%sid, error = %e, "cannot restore a session"),
            }
        }
        let recovered = restored.is_some();
        let (id, pid) = match restored {
            // Back in its rooms already: what it missed goes out at once (only a live
            // event sent in the moment since the store step can come before it) and, as
            // from the reference server, before the CONNECT, which clients hold events for.
            Some((pid, (socket, missed))) => {
                for entry in missed {
                    let (data, binary) = entry.args().into_event_data(&entry.event);
                    self.send_packet(sid, &sio::Packet::event(&nsp, data, binary, None)).await;
                }
                (socket.id, Some(pid))
            }
            None => {
                let id = self.host.random_id();
                let pid = self.config.socket.recovery.as_ref().map(|_| self.host.random_id());
                let record = SocketRecord {
                    id: id.clone(),
                    nsp: nsp.clone(),
                    sid: sid.to_owned(),
                    data: Value::Null,
                    pid: pid.clone(),
                    handshake: handshake.clone(),
                };
                if let Err(e) = self.store.insert_socket(record).await {
                    warn!(%sid, error = %e, "cannot store a socket");
                    return;
                }
                (id, pid)
            }
        };
        let Some(socket) = self.socket_handle(&id, &nsp, Some(handshake), recovered) else { return };
        let skip = recovered && self.config.socket.recovery.as_ref().is_some_and(|r| r.skip_middlewares);
        if !skip {
            for middleware in &def.middlewares {
                if let Err(refusal) = middleware(socket.clone()).await {
                    let _ = self.store.remove_socket(&nsp, &id).await;
                    return self.send_packet(sid, &sio::Packet::connect_error(&nsp, refusal.to_json())).await;
                }
            }
        }
        let joined = self
            .store
            .update_session(sid, |r| {
                r.admits(&nsp, max)?;
                // Most sessions join one namespace: a first push would make room for four.
                r.sockets.reserve_exact(1);
                r.sockets.push((nsp.clone(), id.clone()));
                r.connect_deadline = None;
                Ok(r.deadline())
            })
            .await;
        let deadline = match joined {
            Ok(Some(Ok(deadline))) => deadline,
            Ok(Some(Err(refusal))) => {
                let _ = self.store.remove_socket(&nsp, &id).await;
                return self.refuse_namespace(sid, &nsp, refusal).await;
            }
            _ => {
                let _ = self.store.remove_socket(&nsp, &id).await;
                return;
            }
        };
        match deadline {
            Some(at) => self.schedule(sid, at).await,
            None => {
                let _ = self.store.set_deadline(sid, None).await;
            }
        }
        if !recovered {
            if let Err(e) = self.store.join(&nsp, &id, std::slice::from_ref(&id), usize::MAX).await {
                warn!(%sid, error = %e, "cannot store rooms");
            }
        }
        let reply = match &pid {
            Some(pid) => serde_json::json!({ "sid": id, "pid": pid }),
            None => serde_json::json!({ "sid": id }),
        };
        self.send_packet(sid, &sio::Packet::connect(&nsp, Some(reply))).await;
        debug!(%sid, %nsp, socket = %id, recovered, "socket connected");
        for handler in &def.on_connect {
            run(&self.host, handler(socket.clone()));
        }
    }

    async fn refuse_namespace(&self, sid: &str, nsp: &str, refusal: NamespaceRefusal) {
        match refusal {
            NamespaceRefusal::AlreadyConnected => debug!(%sid, %nsp, "already connected to this namespace"),
            NamespaceRefusal::TooMany => {
                warn!(%sid, %nsp, max = self.config.socket.max_namespaces, "CONNECT refused: max_namespaces reached");
                let refusal = serde_json::json!({"message": "Too many namespaces"});
                self.send_packet(sid, &sio::Packet::connect_error(nsp, refusal)).await;
            }
        }
    }

    /// Records the acknowledgement `ack` awaited from each of `members`, except from those
    /// already awaiting `max_pending_acks`, which are returned.
    async fn expect_acks(
        &self,
        nsp: &str,
        members: &[Member],
        ack: u64,
        timeout_ms: Option<u64>,
        handler: Option<String>,
        context: Value,
    ) -> Result<Vec<PendingAck>, OpError> {
        let deadline = timeout_ms.map(|ms| self.host.now() + ms);
        let pending = members
            .iter()
            .map(|m| PendingAck {
                nsp: nsp.to_owned(),
                socket: m.id.clone(),
                id: ack,
                deadline,
                waiter: handler.is_none().then(|| self.instance.clone()),
                handler: handler.clone(),
                context: context.clone(),
            })
            .collect();
        let max = self.config.socket.max_pending_acks;
        let refused = self.store.add_acks(pending, max).await.map_err(store_error)?;
        for ack in &refused {
            warn!(socket = %ack.socket, max, "acknowledgement not requested: max_pending_acks reached");
        }
        if let Some(at) = deadline {
            self.host.wake_at(at);
        }
        Ok(refused)
    }

    /// An awaited acknowledgement arrived, timed out, or its socket left: hand the outcome
    /// to the named ack handler, or to the task of this process awaiting it.
    fn resolve_ack(&self, pending: PendingAck, outcome: Result<Args, AckError>) {
        let Some(name) = pending.handler else {
            // The awaiting task keeps its own timer and watches its socket: only a reply
            // is news to it.
            let Ok(reply) = outcome else { return };
            match pending.waiter {
                Some(waiter) if waiter != self.instance => {
                    self.host.relay_ack(&waiter, &pending.socket, pending.id, reply)
                }
                _ => self.wake_waiter(&pending.socket, pending.id, reply),
            }
            return;
        };
        let handler = self.app.resolve(&pending.nsp).and_then(|def| def.ack_handler(&name)).cloned();
        match (handler, self.socket_handle(&pending.socket, &pending.nsp, None, false)) {
            (Some(handler), Some(socket)) => run(&self.host, handler(socket, outcome, pending.context)),
            (None, _) => warn!(nsp = %pending.nsp, handler = %name, "no such ack handler"),
            (_, None) => {}
        }
    }

    fn wake_waiter(&self, socket: &str, id: u64, reply: Args) {
        let waiter = self.acks.lock().unwrap_or_else(|e| e.into_inner()).get_mut(socket).and_then(|m| m.remove(&id));
        if let Some(tx) = waiter {
            let _ = tx.send(reply);
        }
    }

    /// A socket left its namespace: run the handlers, drop its rooms and pending acks,
    /// and keep it for recovery if the client may come back.
    async fn socket_gone(&self, nsp: &str, id: &str, reason: DisconnectReason) {
        let def = self.app.resolve(nsp);
        let socket = self.socket_handle(id, nsp, None, false);
        if let (Some(def), Some(socket)) = (def, &socket) {
            for handler in &def.on_disconnecting {
                handler(socket.clone(), reason).await;
            }
        }
        let removed = match self.store.remove_socket(nsp, id).await {
            Ok(r) => r,
            Err(e) => {
                warn!(socket = %id, error = %e, "cannot remove socket");
                None
            }
        };
        match self.store.take_acks_of(nsp, id).await {
            Ok(acks) => acks.into_iter().for_each(|ack| self.resolve_ack(ack, Err(AckError::Disconnected))),
            Err(e) => warn!(socket = %id, error = %e, "cannot drop pending acknowledgements"),
        }
        self.acks.lock().unwrap_or_else(|e| e.into_inner()).remove(id);
        self.turns.lock().unwrap_or_else(|e| e.into_inner()).remove(id);
        if let (Some((record, rooms)), Some(_)) = (&removed, &self.config.socket.recovery) {
            if let (Some(pid), true) = (&record.pid, reason.recoverable()) {
                let kept = PersistedSocket {
                    id: record.id.clone(),
                    nsp: record.nsp.clone(),
                    rooms: rooms.clone(),
                    data: record.data.clone(),
                    disconnected_at: self.host.now(),
                };
                if let Err(e) = self.store.persist_socket(pid, kept).await {
                    warn!(socket = %id, error = %e, "cannot keep socket for recovery");
                }
            }
        }
        if let (Some(def), Some(socket)) = (def, socket) {
            for handler in &def.on_disconnect {
                run(&self.host, handler(socket.clone(), reason));
            }
        }
    }

    fn def(&self, nsp: &str) -> Option<&NamespaceDef> {
        self.app.resolve(nsp)
    }

    /// Emits an event without acknowledgement, logging it for recovery.
    async fn emit_inner(&self, target: Target, event: String, mut args: Args) -> Result<(), OpError> {
        let order = self.emit_order();
        let members = if let (Some(rc), false) = (&self.config.socket.recovery, target.volatile) {
            let now = self.host.now();
            let offset = format!("{}-{}", self.instance, self.log_seq.fetch_add(1, Ordering::Relaxed));
            let entry = LogEntry {
                offset: offset.clone(),
                emitted_at: now,
                target: target.clone(),
                event: event.clone(),
                values: args.values.clone(),
                binary: args.binary.clone(),
            };
            args.values.push(Value::String(offset));
            let keep_since = now.saturating_sub(rc.max_disconnection_duration);
            self.store.log_event(entry, keep_since, &target).await
        } else {
            self.store.members(&target).await
        };
        let members = members.map_err(store_error)?;
        self.send_event(&target.nsp, members, event, args, None, order).await;
        Ok(())
    }

    /// The next place in the order in which this process's emits reach their members: the
    /// order of the `emit` calls, taken when the call is first polled.
    ///
    /// In Node, `emit` is synchronous: two events that one client sends in a row, each
    /// broadcast by its handler, reach every member in that order. Here an emit first waits
    /// on the store (its members, the recovery log), and handlers run side by side, so a
    /// later emit could otherwise deliver first (with Redis, a room's members got
    /// broadcasts out of order). The lookups still run side by side; only the deliveries
    /// take turns.
    fn emit_order(&self) -> Order {
        let (done, turn) = oneshot::channel();
        let previous = self.emits.lock().unwrap_or_else(|e| e.into_inner()).replace(turn.shared());
        Order { previous, done }
    }

    /// Sends an event to `members` of namespace `nsp` in its turn, and runs its outgoing
    /// handlers; returns the members' socket ids.
    async fn send_event(
        &self,
        nsp: &str,
        members: Vec<Member>,
        event: String,
        args: Args,
        ack: Option<u64>,
        order: Order,
    ) -> Vec<String> {
        let outgoing = self.def(nsp).map(|d| d.on_any_outgoing.clone()).unwrap_or_default();
        let (data, binary) = args.clone().into_event_data(&event);
        let packets = frames(&sio::Packet::event(nsp, data, binary, ack));
        if let Some(previous) = order.previous {
            let _ = previous.await;
        }
        // Moved apart, not copied: a broadcast to a namespace has a member per socket.
        let (ids, sids): (Vec<String>, Vec<String>) = members.into_iter().map(|m| (m.id, m.sid)).unzip();
        self.transmit_to(sids, packets).await;
        // Before the outgoing handlers, which may emit in turn.
        let _ = order.done.send(());
        for id in &ids {
            for handler in &outgoing {
                if let Some(socket) = self.socket_handle(id, nsp, None, false) {
                    run(&self.host, handler(socket, event.clone(), args.clone()));
                }
            }
        }
        ids
    }
}

/// Keeps a socket's events in arrival order through the middlewares and `on_any`, which
/// may wait on the store: each event starts them once the previous one is past them, so
/// handlers start in arrival order, as in Node. (Only that phase is ordered: a handler
/// waiting on the same socket's next packet cannot block it.)
struct Order {
    previous: Option<Turn>,
    done: oneshot::Sender<()>,
}

type Turn = Shared<oneshot::Receiver<()>>;

#[allow(clippy::too_many_arguments)]
async fn run_event(
    def: NamespaceDef,
    handler: Option<EventHandler>,
    socket: Socket,
    event: String,
    mut args: Args,
    ack: Option<Ack>,
    order: Order,
) {
    if let Some(previous) = order.previous {
        let _ = previous.await;
    }
    for middleware in &def.packet_middlewares {
        match middleware(socket.clone(), event.clone(), args).await {
            Ok(a) => args = a,
            Err(e) => return warn!(socket = socket.id(), %event, error = %e, "packet middleware refused an event"),
        }
    }
    for any in &def.on_any {
        any(socket.clone(), event.clone(), args.clone()).await;
    }
    let _ = order.done.send(());
    if let Some(handler) = handler {
        handler(socket, args, ack).await;
    }
}

impl<S: Store, H: Host> Ops for Inner<S, H> {
    fn emit(&self, target: Target, event: String, args: Args) -> BoxFuture<'_, Result<(), OpError>> {
        boxed(async move { self.emit_inner(target, event, args).await })
    }

    fn emit_with_ack(
        &self,
        target: Target,
        event: String,
        args: Args,
        timeout_ms: Option<u64>,
    ) -> BoxFuture<'_, Result<AckReplies, AckError>> {
        boxed(async move {
            let ack = self.ack_seq.fetch_add(1, Ordering::Relaxed);
            let order = self.emit_order();
            let mut members = self.store.members(&target).await.map_err(store_error)?;
            let refused = self.expect_acks(&target.nsp, &members, ack, timeout_ms, None, Value::Null).await?;
            members.retain(|m| !refused.iter().any(|r| r.socket == m.id));
            let mut receivers = Vec::with_capacity(members.len());
            {
                let mut acks = self.acks.lock().unwrap_or_else(|e| e.into_inner());
                for member in &members {
                    let (tx, rx) = oneshot::channel();
                    acks.entry(member.id.clone()).or_default().insert(ack, tx);
                    receivers.push(rx);
                }
            }
            if !receivers.is_empty() {
                self.host.awaiting_acks();
            }
            let ids = self.send_event(&target.nsp, members, event, args, Some(ack), order).await;
            let replies = Arc::new(Mutex::new(Vec::new()));
            let gather = join_all(receivers.into_iter().map(|rx| {
                let replies = replies.clone();
                async move {
                    if let Ok(reply) = rx.await {
                        replies.lock().unwrap_or_else(|e| e.into_inner()).push(reply);
                    }
                }
            }));
            let timed_out = match timeout_ms {
                Some(ms) => matches!(select(Box::pin(gather), self.host.sleep(ms)).await, Either::Right(_)),
                None => {
                    gather.await;
                    false
                }
            };
            {
                let mut acks = self.acks.lock().unwrap_or_else(|e| e.into_inner());
                for id in &ids {
                    if let Some(m) = acks.get_mut(id) {
                        m.remove(&ack);
                        if m.is_empty() {
                            acks.remove(id);
                        }
                    }
                }
            }
            let replies = std::mem::take(&mut *replies.lock().unwrap_or_else(|e| e.into_inner()));
            let timed_out = timed_out && replies.len() < ids.len();
            Ok(AckReplies { replies, timed_out, refused: refused.len() })
        })
    }

    fn emit_with_ack_to(
        &self,
        target: Target,
        event: String,
        args: Args,
        handler: String,
        context: Value,
        timeout_ms: Option<u64>,
    ) -> BoxFuture<'_, Result<(), OpError>> {
        boxed(async move {
            let ack = self.ack_seq.fetch_add(1, Ordering::Relaxed);
            let order = self.emit_order();
            let mut members = self.store.members(&target).await.map_err(store_error)?;
            let refused = self.expect_acks(&target.nsp, &members, ack, timeout_ms, Some(handler), context).await?;
            members.retain(|m| !refused.iter().any(|r| r.socket == m.id));
            for pending in refused {
                self.resolve_ack(pending, Err(AckError::TooManyPendingAcks));
            }
            self.send_event(&target.nsp, members, event, args, Some(ack), order).await;
            Ok(())
        })
    }

    fn ack(&self, nsp: String, sid: String, id: u64, args: Args) -> BoxFuture<'_, Result<(), OpError>> {
        boxed(async move {
            let (data, binary) = args.into_ack_data();
            self.send_packet(sid, &sio::Packet::ack(&nsp, id, data, binary)).await;
            Ok(())
        })
    }

    fn join(&self, target: Target, rooms: Vec<String>) -> BoxFuture<'_, Result<(), OpError>> {
        boxed(async move {
            let max = self.config.socket.max_rooms;
            let mut refused = false;
            for member in self.store.members(&target).await.map_err(store_error)? {
                if !self.store.join(&target.nsp, &member.id, &rooms, max).await.map_err(store_error)? {
                    warn!(socket = %member.id, max, "join refused: max_rooms reached");
                    refused = true;
                }
            }
            if refused {
                return Err(OpError::TooManyRooms);
            }
            Ok(())
        })
    }

    fn leave(&self, target: Target, rooms: Vec<String>) -> BoxFuture<'_, Result<(), OpError>> {
        boxed(async move {
            for member in self.store.members(&target).await.map_err(store_error)? {
                self.store.leave(&target.nsp, &member.id, &rooms).await.map_err(store_error)?;
            }
            Ok(())
        })
    }

    fn fetch_sockets(&self, target: Target) -> BoxFuture<'_, Result<Vec<SocketInfo>, OpError>> {
        boxed(async move {
            let mut out = Vec::new();
            for member in self.store.members(&target).await.map_err(store_error)? {
                let Some(record) = self.store.socket(&target.nsp, &member.id).await.map_err(store_error)? else {
                    continue;
                };
                let rooms = self.store.rooms_of(&target.nsp, &member.id).await.map_err(store_error)?;
                out.push(SocketInfo {
                    id: record.id,
                    nsp: record.nsp,
                    rooms,
                    data: record.data,
                    handshake: Arc::unwrap_or_clone(record.handshake),
                });
            }
            Ok(out)
        })
    }

    fn disconnect(&self, target: Target, close: bool) -> BoxFuture<'_, Result<(), OpError>> {
        boxed(async move {
            let members = self.store.members(&target).await.map_err(store_error)?;
            for member in self.host.disconnect_elsewhere(&target.nsp, members, close).await {
                if close {
                    // As in Node: every namespace of the connection is told first, then the
                    // connection closes.
                    let sockets = self.store.update_session(&member.sid, |r| std::mem::take(&mut r.sockets)).await;
                    for (nsp, id) in sockets.ok().flatten().unwrap_or_default() {
                        self.send_packet(&member.sid, &sio::Packet::disconnect(&nsp)).await;
                        self.socket_gone(&nsp, &id, DisconnectReason::ServerNamespaceDisconnect).await;
                    }
                    self.close_session(&member.sid, CloseReason::ForcedClose, Some(Packet::Close)).await;
                    continue;
                }
                let left = self
                    .store
                    .update_session(&member.sid, |r| {
                        let before = r.sockets.len();
                        r.sockets.retain(|(n, s)| !(*n == target.nsp && *s == member.id));
                        before != r.sockets.len()
                    })
                    .await;
                if left == Ok(Some(true)) {
                    self.send_packet(&member.sid, &sio::Packet::disconnect(&target.nsp)).await;
                    self.socket_gone(&target.nsp, &member.id, DisconnectReason::ServerNamespaceDisconnect).await;
                }
            }
            Ok(())
        })
    }

    fn sleep(&self, ms: u64) -> BoxFuture<'static, ()> {
        self.host.sleep(ms)
    }

    fn now(&self) -> u64 {
        self.host.now()
    }

    fn send_message(&self, sid: String, data: Data) -> BoxFuture<'_, ()> {
        boxed(async move { self.transmit(sid, Arc::from([Packet::Message(data)])).await })
    }

    fn set_data(&self, nsp: String, socket: String, data: Value) -> BoxFuture<'_, Result<(), OpError>> {
        boxed(async move {
            match self.store.set_socket_data(&nsp, &socket, data).await.map_err(store_error)? {
                true => Ok(()),
                false => Err(OpError::NotConnected),
            }
        })
    }
}
