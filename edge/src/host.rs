//! The Durable Object host: hibernatable WebSockets for delivery, the object's alarm for
//! time, parked polling GETs for the rest.
//!
//! A WebSocket carries its session id as its tag and an [`Attachment`] saying whether it
//! is the session's transport or a probe: both survive hibernation, so a frame for a
//! session finds its socket on an object that was evicted meanwhile. Parked GETs are
//! in-flight requests, which keep the object in memory while they wait, so they may live
//! in memory.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::ready;
use std::rc::Rc;
use std::sync::Arc;

use base64::Engine as _;
use futures_channel::oneshot;
use futures_util::future::{join_all, select, Either};
use futures_util::stream::{FuturesUnordered, StreamExt};
use serde::{Deserialize, Serialize};
use sio_core::eio::packet::{base64_text, Frame, Packet};
use sio_core::maybe::BoxFuture;
use sio_core::{AckReplies, Args};
use sio_engine::{hand_over, split_close, Host, Member, Parking, ServerSideEvent, Wake};
use tracing::{error, warn};
use wasm_bindgen::prelude::wasm_bindgen;
use worker::{ScheduledTime, State, WebSocket};

use crate::clock::now_ms;
use crate::pool::{Call, Pool, PoolError};
use crate::route;
use crate::store::{earliest, SqlStore};

/// How long the last packets of a polling session closed between two GETs wait for the
/// next GET (Node's "buffering orderly close"); the native runtime waits as long.
const FAREWELL_MS: u64 = 30_000;

/// How long after an alarm that left deadlines due (its store or a sub-request failed) it
/// runs again, rather than at once and over and over: short next to a ping timeout (20 s
/// by default), long enough that a storage that keeps failing costs one run in a while.
const ALARM_RETRY_MS: u64 = 5_000;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = crypto, js_name = getRandomValues)]
    fn get_random_values(buf: &mut [u8]);

    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(callback: &js_sys::Function, ms: f64) -> wasm_bindgen::JsValue;
}

/// What a hibernatable WebSocket remembers about itself across evictions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub sid: String,
    /// Still probing an upgrade: not yet the session's transport.
    pub probe: bool,
    /// The client takes binary messages as base64 text alone (`b64`).
    #[serde(default)]
    pub base64: bool,
}

pub fn attachment(ws: &WebSocket) -> Option<Attachment> {
    ws.deserialize_attachment::<Attachment>().ok().flatten()
}

/// Sends frames on a WebSocket, binary ones as text (`b` + base64) to a client that asked
/// for `base64`; `false` when the WebSocket is gone.
pub fn send_frames(ws: &WebSocket, frames: &[Frame], base64: bool) -> bool {
    frames.iter().all(|frame| match frame {
        Frame::Text(text) => ws.send_with_str(text).is_ok(),
        Frame::Binary(bytes) if base64 => ws.send_with_str(base64_text(bytes)).is_ok(),
        Frame::Binary(bytes) => ws.send_with_bytes(bytes).is_ok(),
    })
}

pub struct EdgeHost {
    state: State,
    /// This object's name: the prefix of every id it mints.
    name: String,
    store: SqlStore,
    /// The other objects, when sessions are spread over several.
    pool: Option<Rc<Pool>>,
    polls: RefCell<HashMap<String, oneshot::Sender<Wake>>>,
    /// The alarm as last set by this instance; `None` until known (after an eviction).
    alarm: Cell<Option<Option<u64>>>,
    /// After an alarm that failed: the deadlines up to the first time were left due, and
    /// wait for the second, when the alarm tries them again; later ones keep their time.
    /// In memory: an evicted object's alarm is still set for the retry.
    retry: Cell<Option<(u64, u64)>>,
    /// When the application's next scheduled tick begins, on the object that runs the
    /// schedules (the pool's first); the alarm fires then too.
    schedule_at: Cell<Option<u64>>,
    #[cfg(feature = "inspect")]
    alarms: Cell<u64>,
}

impl EdgeHost {
    pub fn new(state: State, name: String, store: SqlStore, pool: Option<Rc<Pool>>) -> Self {
        Self {
            state,
            name,
            store,
            pool,
            polls: RefCell::default(),
            alarm: Cell::new(None),
            retry: Cell::new(None),
            schedule_at: Cell::new(None),
            #[cfg(feature = "inspect")]
            alarms: Cell::new(0),
        }
    }

    /// The application's next scheduled tick begins at `at`: the alarm fires then.
    pub fn schedule_at(&self, at: Option<u64>) {
        self.schedule_at.set(at);
    }

    /// Sub-requests to other objects since last asked.
    #[cfg(feature = "inspect")]
    pub fn take_calls(&self) -> u64 {
        self.pool.as_deref().map_or(0, Pool::take_calls)
    }

    /// Sends frames to the WebSockets of `sids` this object holds; returns the others.
    pub fn deliver_local(&self, sids: Vec<String>, frames: &[Frame]) -> Vec<String> {
        sids.into_iter()
            .filter(|sid| !self.transport(sid).is_some_and(|(ws, at)| send_frames(&ws, frames, at.base64)))
            .collect()
    }

    pub fn state(&self) -> &State {
        &self.state
    }

    #[cfg(feature = "inspect")]
    pub fn store(&self) -> &SqlStore {
        &self.store
    }

    /// The WebSockets of a session: its transport and a probe, at most one each.
    fn sockets(&self, sid: &str) -> Vec<(WebSocket, Attachment)> {
        self.state
            .get_websockets_with_tag(sid)
            .into_iter()
            .filter_map(|ws| attachment(&ws).map(|a| (ws, a)))
            .filter(|(_, a)| a.sid == sid)
            .collect()
    }

    pub fn transport(&self, sid: &str) -> Option<(WebSocket, Attachment)> {
        self.sockets(sid).into_iter().find(|(_, a)| !a.probe)
    }

    /// Wakes the GET still parked on a session that has just moved to a WebSocket, which
    /// then finds it upgraded and is refused as any GET after the upgrade (see
    /// [`sio_engine::Hub::poll`]) rather than wait for the session's end.
    pub fn release_poll(&self, sid: &str) {
        if let Some(poll) = self.polls.borrow_mut().remove(sid) {
            let _ = poll.send(Wake::Ready);
        }
    }

    fn keep_farewell(&self, sid: &str, packets: Vec<Packet>) {
        let now = now_ms();
        if let Err(e) = self.store.keep_farewell(sid, &packets, now, now + FAREWELL_MS) {
            error!(%sid, error = %e, "cannot keep the farewell");
        }
    }

    /// The alarm fired: it is no longer set.
    pub fn alarm_fired(&self) {
        self.alarm.set(Some(None));
        #[cfg(feature = "inspect")]
        self.alarms.set(self.alarms.get() + 1);
    }

    /// The alarm's runs in this incarnation, for tests.
    #[cfg(feature = "inspect")]
    pub fn alarms(&self) -> u64 {
        self.alarms.get()
    }

    /// The alarm's run that began at `started` is over. A deadline it was to handle and
    /// left due means a failure (logged where it happened): the alarm tries those again
    /// [`ALARM_RETRY_MS`] later, not at once, while later deadlines keep their time.
    pub fn alarm_done(&self, started: u64) {
        self.retry.set(None);
        match self.store.next_deadline(0) {
            Ok(Some(due)) if due <= started => {
                let retry = now_ms() + ALARM_RETRY_MS;
                warn!(due, retry, "deadlines left due by the alarm: trying them again later");
                self.retry.set(Some((started, retry)));
            }
            Ok(_) => {}
            Err(e) => error!(error = %e, "cannot read deadlines after the alarm"),
        }
        self.sync_alarm();
    }

    /// When the alarm is to fire next: at the earliest deadline in the store, but those a
    /// failed alarm left wait for its retry; when the store cannot tell, after
    /// [`ALARM_RETRY_MS`] (or sooner if the alarm is set sooner), so that no deadline is
    /// dropped.
    fn next_alarm(&self) -> Option<u64> {
        let (after, retry) = self.retry.get().map_or((0, None), |(stale, retry)| (stale, Some(retry)));
        let retry = earliest(retry, self.schedule_at.get());
        match self.store.next_deadline(after) {
            Ok(next) => earliest(next, retry),
            Err(e) => {
                let retry = now_ms() + ALARM_RETRY_MS;
                error!(error = %e, retry, "cannot read deadlines");
                earliest(Some(retry), self.alarm.get().flatten())
            }
        }
    }

    /// Sets the object's one alarm to [`EdgeHost::next_alarm`], if it is not set there
    /// already. The store is read and the alarm call issued without an await between
    /// them, so of two syncs the one that read later also writes later.
    pub fn sync_alarm(&self) {
        let next = self.next_alarm();
        if self.alarm.get() == Some(next) {
            return;
        }
        self.alarm.set(Some(next));
        let storage = self.state.storage();
        wasm_bindgen_futures::spawn_local(async move {
            let set = match next {
                // An i64 would be an offset from now: the deadline is absolute.
                Some(at) => {
                    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from(at as f64));
                    storage.set_alarm(ScheduledTime::new(date)).await
                }
                None => storage.delete_alarm().await,
            };
            if let Err(e) = set {
                error!(error = %e, "cannot set the alarm");
            }
        });
    }
}

impl Parking for EdgeHost {
    fn park(&self, sid: &str) -> Option<BoxFuture<'static, Option<Wake>>> {
        let mut polls = self.polls.borrow_mut();
        if polls.get(sid).is_some_and(|p| !p.is_canceled()) {
            return None;
        }
        let (tx, rx) = oneshot::channel();
        polls.insert(sid.to_owned(), tx);
        Some(Box::pin(async move { rx.await.ok() }))
    }

    fn unpark(&self, sid: &str) {
        self.polls.borrow_mut().remove(sid);
    }

    fn take_farewell(&self, sid: &str) -> Option<Vec<Packet>> {
        let mut packets = match self.store.take_farewell(sid, now_ms()) {
            Ok(packets) => packets?,
            Err(e) => {
                error!(%sid, error = %e, "cannot read the farewell");
                return None;
            }
        };
        if let Some(close) = split_close(&mut packets) {
            self.keep_farewell(sid, close);
        }
        Some(packets)
    }
}

impl Host for EdgeHost {
    fn now(&self) -> u64 {
        now_ms()
    }

    /// Routed by: the object's name first, as a random id has it.
    fn session_id(&self, chosen: String) -> String {
        route::mint(&self.name, &chosen)
    }

    fn random_id(&self) -> String {
        let mut bytes = [0u8; 16];
        get_random_values(&mut bytes);
        route::mint(&self.name, &base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
    }

    fn spawn(&self, future: BoxFuture<'static, ()>) {
        wasm_bindgen_futures::spawn_local(future);
    }

    /// A timer promise rather than `worker::Delay`, which keeps the waker of its first
    /// poll: the hub polls a handler once with a no-op waker before spawning it.
    fn sleep(&self, ms: u64) -> BoxFuture<'static, ()> {
        let timer = js_sys::Promise::new(&mut |resolve, _| {
            set_timeout(&resolve, ms as f64);
        });
        Box::pin(async move {
            let _ = wasm_bindgen_futures::JsFuture::from(timer).await;
        })
    }

    /// Sessions of other objects go to their owners, one sub-request per object, which
    /// deliver or queue there; only this object's undelivered sessions come back.
    ///
    /// A Workers WebSocket tells nothing of what it has not sent yet (no
    /// `bufferedAmount`): volatile packets go to every WebSocket.
    fn deliver(&self, sids: Vec<String>, packets: Arc<[Packet]>, volatile: bool) -> BoxFuture<'_, Vec<String>> {
        let mut here = Vec::with_capacity(sids.len());
        let mut elsewhere: HashMap<String, Vec<String>> = HashMap::new();
        for sid in sids {
            match self.pool.as_deref().and_then(|pool| pool.remote(&sid)) {
                Some(owner) => elsewhere.entry(owner.to_owned()).or_default().push(sid),
                None => here.push(sid),
            }
        }
        let frames: Vec<Frame> = packets.iter().map(Packet::to_frame).collect();
        let undelivered = self.deliver_local(here, &frames);
        let Some(pool) = self.pool.clone().filter(|_| !elsewhere.is_empty()) else {
            return Box::pin(ready(undelivered));
        };
        Box::pin(async move {
            let calls = elsewhere.into_iter().map(|(owner, sids)| {
                let (pool, call) = (pool.clone(), Call::Deliver(sids, packets.to_vec(), volatile));
                async move {
                    if let Err(e) = pool.call::<()>(&owner, &call).await {
                        warn!(error = %e, "cannot deliver to another object");
                    }
                }
            });
            join_all(calls).await;
            undelivered
        })
    }

    fn notify(&self, sid: &str) {
        if let Some(poll) = self.polls.borrow_mut().remove(sid) {
            let _ = poll.send(Wake::Ready);
        }
    }

    fn close(&self, sid: &str, last: Vec<Packet>) {
        let sockets = self.sockets(sid);
        let had_transport = sockets.iter().any(|(_, a)| !a.probe);
        for (ws, _) in sockets {
            if let Err(e) = ws.close(Some(1000), Some("session closed")) {
                warn!(%sid, error = %e, "cannot close a WebSocket");
            }
        }
        let poll = self.polls.borrow_mut().remove(sid);
        let undelivered = hand_over(last, poll.map(|poll| move |wake| poll.send(wake)));
        if !had_transport && !undelivered.is_empty() {
            self.keep_farewell(sid, undelivered);
        }
    }

    fn abort_upgrade(&self, sid: &str) {
        for (ws, a) in self.sockets(sid) {
            if a.probe {
                let _ = ws.close(Some(1000), Some("upgrade aborted"));
            }
        }
    }

    fn wake_at(&self, at: u64) {
        // An alarm already set earlier fires first and sets the next one itself.
        if self.alarm.get().flatten().is_some_and(|set| set <= at) {
            return;
        }
        self.sync_alarm();
    }

    /// Only the owner of a session can step it: other objects' members are disconnected
    /// by their owners, one sub-request per object.
    fn disconnect_elsewhere(&self, nsp: &str, members: Vec<Member>, close: bool) -> BoxFuture<'_, Vec<Member>> {
        let Some(pool) = self.pool.clone() else { return Box::pin(ready(members)) };
        let mut here = Vec::with_capacity(members.len());
        let mut elsewhere: HashMap<String, Vec<String>> = HashMap::new();
        for member in members {
            match pool.remote(&member.sid) {
                Some(owner) => elsewhere.entry(owner.to_owned()).or_default().push(member.id),
                None => here.push(member),
            }
        }
        let nsp = nsp.to_owned();
        Box::pin(async move {
            let calls = elsewhere.into_iter().map(|(owner, ids)| {
                let (pool, call) = (pool.clone(), Call::Disconnect(nsp.clone(), ids, close));
                async move {
                    if let Err(e) = pool.call::<()>(&owner, &call).await {
                        warn!(error = %e, "cannot disconnect sockets of another object");
                    }
                }
            });
            join_all(calls).await;
            here
        })
    }

    /// Every other object of the pool is an instance: each runs the handler, and the
    /// answer to the call carries its acknowledgement.
    fn server_side_emit(
        &self,
        nsp: &str,
        event: &str,
        args: Args,
        timeout_ms: Option<u64>,
    ) -> BoxFuture<'_, Result<AckReplies, String>> {
        let Some(pool) = self.pool.clone() else { return Box::pin(ready(Ok(AckReplies::default()))) };
        let call = Call::ServerSide(ServerSideEvent::new(nsp, event, args, timeout_ms.is_some()));
        Box::pin(async move {
            let others = pool.others();
            let mut calls: FuturesUnordered<_> = others
                .iter()
                .map(|object| pool.call::<Option<(Vec<serde_json::Value>, Vec<bytes::Bytes>)>>(object, &call))
                .collect();
            let failed = |e: PoolError| warn!(error = %e, "cannot run a server-side event on another object");
            let Some(timeout) = timeout_ms else {
                while let Some(answer) = calls.next().await {
                    answer.err().map(failed);
                }
                return Ok(AckReplies::default());
            };
            let mut replies = Vec::new();
            let mut deadline = self.sleep(timeout);
            while let Either::Left((Some(answer), pending)) = select(calls.next(), deadline).await {
                match answer {
                    Ok(Some((values, binary))) => replies.push(Args { values, binary }),
                    Ok(None) => {}
                    Err(e) => failed(e),
                }
                deadline = pending;
            }
            Ok(AckReplies { timed_out: replies.len() < others.len(), replies, refused: 0 })
        })
    }

    /// The task awaiting the reply runs in the object whose hub is `instance`.
    fn relay_ack(&self, instance: &str, socket: &str, id: u64, reply: Args) {
        let Some((pool, owner)) = self.pool.clone().and_then(|p| Some((p.clone(), p.remote(instance)?.to_owned())))
        else {
            return warn!(%socket, %instance, "an acknowledgement for an unknown instance");
        };
        let call = Call::AckRelayed(socket.to_owned(), id, reply.values, reply.binary);
        wasm_bindgen_futures::spawn_local(async move {
            if let Err(e) = pool.call::<()>(&owner, &call).await {
                warn!(error = %e, "cannot relay an acknowledgement");
            }
        });
    }
}
