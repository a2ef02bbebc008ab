//! The native host: live connections of this process, tokio for time and tasks.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use sio_core::eio::packet::Packet;
use sio_core::maybe::BoxFuture;
use sio_core::{AckReplies, Args};
use sio_engine::map::HashMap;
pub use sio_engine::os::now_ms;
use sio_engine::{hand_over, split_close, Host, Member, Parking, RelayedAck, ServerSideEvent, Wake};

use crate::relay::{Relay, Relayed};
use crate::wire::{Closed, Frames, Wire};
use tokio::sync::{mpsc, oneshot, Notify};
use tokio::task::{AbortHandle, JoinHandle};
use tokio_util::task::TaskTracker;

/// Connections are transport, not session state: losing them loses no fact the store
/// holds, which is why they may live in this process only.
#[derive(Default)]
struct Conn {
    /// The WebSocket that is the session's transport.
    ws: Option<Arc<Wire>>,
    /// A WebSocket probing an upgrade.
    probe: Option<Arc<Wire>>,
    /// The parked polling GET.
    poll: Option<oneshot::Sender<Wake>>,
}

impl Conn {
    /// Wakes the parked GET, if there is one.
    fn wake_poll(&mut self) -> bool {
        match self.poll.take() {
            Some(poll) => {
                let _ = poll.send(Wake::Ready);
                true
            }
            None => false,
        }
    }
}

/// From how many local recipients a delivery is queued rather than written at once.
const QUEUE_FROM: usize = 16;

/// How many queued sockets are written before other tasks get a turn.
const WRITE_BATCH: usize = 16;

/// Writes what deliveries queued on `wires`, letting other tasks run between batches.
async fn write_queued(wires: Vec<Arc<Wire>>) {
    for batch in wires.chunks(WRITE_BATCH) {
        for wire in batch {
            wire.write_queued();
        }
        tokio::task::yield_now().await;
    }
}

/// How long the last packets of a polling session closed between two GETs wait for the
/// next GET (Node's "buffering orderly close").
const FAREWELL_MS: u64 = 30_000;

#[derive(Default)]
struct Farewells {
    packets: HashMap<String, Vec<Packet>>,
    /// (expiry, sid) in expiry order, for pruning.
    expiry: VecDeque<(u64, String)>,
}

#[derive(Default)]
pub struct NativeHost {
    conns: Mutex<HashMap<String, Conn>>,
    farewells: Mutex<Farewells>,
    sweep_at: AtomicU64,
    sweep: Notify,
    /// Set when other processes share the store.
    relay: OnceLock<Arc<Relay>>,
    /// The hub's tasks (handlers among them), which a shutdown waits for.
    tasks: TaskTracker,
    /// What runs for as long as the endpoint serves (its sweeper, the relay's listener).
    background: Mutex<Vec<AbortHandle>>,
    /// Server-side emits of this process awaiting other processes' acknowledgements, by
    /// request number.
    server_side: Mutex<HashMap<u64, mpsc::UnboundedSender<Args>>>,
    server_side_seq: AtomicU64,
}

/// How long the sweeper may sleep: other processes sharing the store set deadlines this
/// one does not hear of, so it looks at least this often.
const SHARED_SWEEP_MS: u64 = 200;

impl NativeHost {
    fn conns(&self) -> MutexGuard<'_, HashMap<String, Conn>> {
        self.conns.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Shares delivery with the other processes on the store.
    pub fn set_relay(&self, relay: Arc<Relay>) {
        let _ = self.relay.set(relay);
    }

    /// Records that this process holds the session's WebSocket, for the other processes.
    pub async fn claim(&self, sid: &str) {
        if let Some(relay) = self.relay.get() {
            relay.claim(sid).await;
        }
    }

    pub async fn release(&self, sid: &str) {
        if let Some(relay) = self.relay.get() {
            relay.release(sid).await;
        }
    }

    /// Sends the acknowledgement of server-side event `request` to process `to`.
    pub fn reply_server_side(&self, to: String, request: u64, reply: Args) {
        let message = Relayed::ServerSideReply { request, values: reply.values, binary: reply.binary };
        self.relay_later(Some(to), message);
    }

    /// Another process acknowledged server-side event `request` of this one.
    pub fn server_side_replied(&self, request: u64, reply: Args) {
        if let Some(waiting) = self.server_side.lock().unwrap_or_else(|e| e.into_inner()).get(&request) {
            let _ = waiting.send(reply);
        }
    }

    fn relay_later(&self, to: Option<String>, message: Relayed) {
        if let Some(relay) = self.relay.get().cloned() {
            tokio::spawn(async move { relay.publish(to.as_deref(), &message).await });
        }
    }

    /// Writes WebSocket frames to the WebSockets of `sids` this process holds; returns
    /// the others. The writes (a system call each) happen after the connections' lock is
    /// released: every delivery of the process takes that lock.
    ///
    /// To many sockets, the frames are queued and a task of their own writes them, a batch
    /// of sockets at a time: the emitter's next broadcast, read meanwhile, joins the frames
    /// of the sockets still waiting, one system call for both, where a saturated server
    /// would otherwise pay one per frame. A few recipients are written at once.
    ///
    /// `volatile` frames are dropped for a WebSocket whose earlier frames still wait.
    pub fn deliver_local(&self, sids: Vec<String>, frames: &Frames, volatile: bool) -> Vec<String> {
        let mut held = Vec::with_capacity(sids.len());
        let mut others = Vec::new();
        {
            let conns = self.conns();
            for sid in sids {
                match conns.get(sid.as_str()).and_then(|c| c.ws.clone()) {
                    Some(wire) => held.push((sid, wire)),
                    None => others.push(sid),
                }
            }
        }
        if held.len() < QUEUE_FROM {
            let send = |wire: &Wire| match volatile {
                true => wire.send_volatile(frames.for_wire(wire)).map(drop),
                false => wire.send(frames.for_wire(wire)),
            };
            others.extend(held.into_iter().filter(|(_, wire)| send(wire).is_err()).map(|(sid, _)| sid));
            return others;
        }
        let mut to_write = Vec::new();
        for (sid, wire) in held {
            match wire.queue(frames.for_wire(&wire), volatile) {
                Ok(true) => to_write.push(wire),
                Ok(false) => {}
                Err(Closed) => others.push(sid),
            }
        }
        if !to_write.is_empty() {
            tokio::spawn(write_queued(to_write));
        }
        others
    }

    /// Wakes the session's parked GET if this process holds it, to look at its queue (or
    /// the session's state) again.
    pub fn notify_local(&self, sid: &str) -> bool {
        self.conns().get_mut(sid).is_some_and(Conn::wake_poll)
    }

    /// Wakes every parked GET this process holds: a wake relayed from another process may
    /// have been lost while Redis was away.
    pub fn notify_all_local(&self) {
        for conn in self.conns().values_mut() {
            conn.wake_poll();
        }
    }

    /// The sessions this process holds a connection of: a WebSocket or a parked GET.
    pub fn held_sids(&self) -> Vec<String> {
        self.conns().keys().cloned().collect()
    }

    /// Keeps `task` running until the endpoint stops ([`NativeHost::stop_background`]).
    pub fn background<T>(&self, task: JoinHandle<T>) {
        self.background.lock().unwrap_or_else(|e| e.into_inner()).push(task.abort_handle());
    }

    /// Stops the endpoint's background tasks.
    pub fn stop_background(&self) {
        for task in self.background.lock().unwrap_or_else(|e| e.into_inner()).drain(..) {
            task.abort();
        }
    }

    /// Waits until every task the hub has spawned so far, and those they spawn, is done.
    pub async fn tasks_done(&self) {
        self.tasks.close();
        self.tasks.wait().await;
        self.tasks.reopen();
    }

    /// The sessions whose WebSocket (transport or upgrade probe) this process holds.
    pub fn websocket_sids(&self) -> Vec<String> {
        self.conns().iter().filter(|(_, c)| c.ws.is_some() || c.probe.is_some()).map(|(sid, _)| sid.clone()).collect()
    }

    /// Closes what this process holds of the session; `false` when it holds nothing.
    pub fn close_local(&self, sid: &str, last: Vec<Packet>) -> bool {
        let conn = self.conns().remove(sid);
        let held = conn.is_some();
        let conn = conn.unwrap_or_default();
        for wire in conn.ws.iter().chain(conn.probe.iter()) {
            wire.close(None);
        }
        let undelivered = hand_over(last, conn.poll.map(|poll| move |wake| poll.send(wake)));
        // What is still owed to the client waits for its next GET (the hub owes nothing
        // after an error: then the reference answers that GET with "Session ID unknown").
        // Processes that do not hold the session keep it too: with no sticky sessions, the
        // next GET may come to any of them.
        if conn.ws.is_none() && !undelivered.is_empty() {
            self.keep_farewell(sid, undelivered);
        }
        held
    }

    /// Closes the session's probing WebSocket if this process holds it.
    pub fn abort_local(&self, sid: &str) -> bool {
        match self.conns().get_mut(sid).and_then(|c| c.probe.take()) {
            Some(wire) => {
                wire.close(None);
                true
            }
            None => false,
        }
    }

    pub fn attach_ws(&self, sid: &str, wire: Arc<Wire>) {
        self.conns().entry(sid.to_owned()).or_default().ws = Some(wire);
    }

    pub fn attach_probe(&self, sid: &str, wire: Arc<Wire>) {
        self.conns().entry(sid.to_owned()).or_default().probe = Some(wire);
    }

    /// The probe became the transport.
    pub fn promote_probe(&self, sid: &str) {
        if let Some(conn) = self.conns().get_mut(sid) {
            conn.ws = conn.probe.take();
        }
    }

    pub fn detach_probe(&self, sid: &str) {
        if let Some(conn) = self.conns().get_mut(sid) {
            conn.probe = None;
        }
    }

    fn keep_farewell(&self, sid: &str, last: Vec<Packet>) {
        let now = now_ms();
        let mut farewells = self.farewells.lock().unwrap_or_else(|e| e.into_inner());
        while farewells.expiry.front().is_some_and(|(at, _)| *at <= now) {
            if let Some((_, old)) = farewells.expiry.pop_front() {
                farewells.packets.remove(&old);
            }
        }
        farewells.packets.insert(sid.to_owned(), last);
        farewells.expiry.push_back((now + FAREWELL_MS, sid.to_owned()));
    }

    /// Runs the deadline sweeper of `sweep` forever.
    pub async fn run_sweeper<F, Fut>(self: Arc<Self>, sweep: F)
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Option<u64>>,
    {
        loop {
            let cap = if self.relay.get().is_some() { SHARED_SWEEP_MS } else { 60_000 };
            let next = sweep().await.unwrap_or(u64::MAX).min(now_ms() + cap);
            self.sweep_at.store(next, Ordering::SeqCst);
            let wait = Duration::from_millis(next.saturating_sub(now_ms()));
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = self.sweep.notified() => {}
            }
        }
    }
}

impl Parking for NativeHost {
    fn park(&self, sid: &str) -> Option<BoxFuture<'static, Option<Wake>>> {
        let mut conns = self.conns();
        let conn = conns.entry(sid.to_owned()).or_default();
        if conn.poll.as_ref().is_some_and(|p| !p.is_closed()) {
            return None;
        }
        let (tx, rx) = oneshot::channel();
        conn.poll = Some(tx);
        Some(Box::pin(async move { rx.await.ok() }))
    }

    fn unpark(&self, sid: &str) {
        if let Some(conn) = self.conns().get_mut(sid) {
            conn.poll = None;
        }
    }

    fn take_farewell(&self, sid: &str) -> Option<Vec<Packet>> {
        let mut farewells = self.farewells.lock().unwrap_or_else(|e| e.into_inner());
        let packets = farewells.packets.get_mut(sid)?;
        if let Some(close) = split_close(packets) {
            return Some(std::mem::replace(packets, close));
        }
        farewells.packets.remove(sid)
    }
}

impl Host for NativeHost {
    fn now(&self) -> u64 {
        now_ms()
    }

    fn random_id(&self) -> String {
        sio_engine::os::random_id()
    }

    fn spawn(&self, future: BoxFuture<'static, ()>) {
        self.tasks.spawn(future);
    }

    fn sleep(&self, ms: u64) -> BoxFuture<'static, ()> {
        Box::pin(tokio::time::sleep(Duration::from_millis(ms)))
    }

    /// With other processes on the store, the sessions whose WebSocket or parked GET
    /// this process holds; alone, every session.
    fn local(&self, mut members: Vec<Member>) -> Vec<Member> {
        if self.relay.get().is_some() {
            let conns = self.conns();
            members.retain(|m| conns.contains_key(m.sid.as_str()));
        }
        members
    }

    fn deliver(&self, sids: Vec<String>, packets: Arc<[Packet]>, volatile: bool) -> BoxFuture<'_, Vec<String>> {
        // Encoded once, down to the WebSocket frames, for every recipient.
        let elsewhere = self.deliver_local(sids, &Frames::new(&packets), volatile);
        let relay = match self.relay.get() {
            Some(relay) if !elsewhere.is_empty() => relay.clone(),
            _ => return Box::pin(std::future::ready(elsewhere)),
        };
        Box::pin(async move {
            let owners = relay.owners(&elsewhere).await;
            let mut by_owner: HashMap<String, Vec<String>> = HashMap::default();
            let mut undelivered = Vec::new();
            for (sid, owner) in elsewhere.into_iter().zip(owners) {
                match owner {
                    Some(owner) if owner != relay.instance() => by_owner.entry(owner).or_default().push(sid),
                    _ => undelivered.push(sid),
                }
            }
            for (owner, sids) in by_owner {
                relay.publish(Some(&owner), &Relayed::Deliver { sids, packets: packets.to_vec(), volatile }).await;
            }
            undelivered
        })
    }

    fn notify(&self, sid: &str) {
        if !self.notify_local(sid) {
            self.relay_later(None, Relayed::Wake { sid: sid.to_owned() });
        }
    }

    fn close(&self, sid: &str, last: Vec<Packet>) {
        if self.relay.get().is_none() {
            self.close_local(sid, last);
        } else if !self.close_local(sid, last.clone()) {
            self.relay_later(None, Relayed::Close { sid: sid.to_owned(), last });
        }
    }

    fn abort_upgrade(&self, sid: &str) {
        if !self.abort_local(sid) {
            self.relay_later(None, Relayed::AbortUpgrade { sid: sid.to_owned() });
        }
    }

    fn server_side_emit(
        &self,
        nsp: &str,
        event: &str,
        args: Args,
        timeout_ms: Option<u64>,
    ) -> BoxFuture<'_, Result<AckReplies, String>> {
        let Some(relay) = self.relay.get().cloned() else { return Box::pin(async { Ok(AckReplies::default()) }) };
        let event = ServerSideEvent::new(nsp, event, args, timeout_ms.is_some());
        let request = self.server_side_seq.fetch_add(1, Ordering::Relaxed);
        let message = Relayed::ServerSide { from: relay.instance().to_owned(), request, event };
        Box::pin(async move {
            let Some(timeout) = timeout_ms else {
                relay.publish(None, &message).await;
                return Ok(AckReplies::default());
            };
            let (tx, mut rx) = mpsc::unbounded_channel();
            self.server_side.lock().unwrap_or_else(|e| e.into_inner()).insert(request, tx);
            // Every process subscribed to the channel for all got it, this one included.
            let others = relay.publish(None, &message).await.saturating_sub(1);
            let mut replies = Vec::with_capacity(others);
            let deadline = tokio::time::sleep(Duration::from_millis(timeout));
            tokio::pin!(deadline);
            while replies.len() < others {
                tokio::select! {
                    Some(reply) = rx.recv() => replies.push(reply),
                    () = &mut deadline => break,
                }
            }
            self.server_side.lock().unwrap_or_else(|e| e.into_inner()).remove(&request);
            Ok(AckReplies { timed_out: replies.len() < others, replies, refused: 0 })
        })
    }

    fn relay_ack(&self, instance: &str, socket: &str, id: u64, reply: Args) {
        self.relay_later(Some(instance.to_owned()), Relayed::Ack(RelayedAck::new(socket, id, reply)));
    }

    fn wake_at(&self, at: u64) {
        if at < self.sweep_at.load(Ordering::SeqCst) {
            self.sweep_at.store(at, Ordering::SeqCst);
            self.sweep.notify_one();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::tests::{pair, read_exact};
    use sio_core::eio::packet::Data;

    #[tokio::test]
    async fn a_delivery_to_many_sockets_reaches_each_once_in_order() {
        let host = NativeHost::default();
        let mut clients = Vec::new();
        let mut sids = Vec::new();
        for i in 0..QUEUE_FROM * 2 + 1 {
            let (wire, client) = pair().await;
            host.attach_ws(&i.to_string(), wire);
            clients.push(client);
            sids.push(i.to_string());
        }
        let mut unknown = sids.clone();
        unknown.push("gone".to_owned());
        let [first, second] = ["first", "second"].map(|s| [Packet::Message(Data::Text(s.to_owned()))]);
        assert_eq!(host.deliver_local(unknown, &Frames::new(&first), false), ["gone"]);
        assert_eq!(host.deliver_local(sids.clone(), &Frames::new(&second), false), Vec::<String>::new());
        for client in &mut clients {
            assert_eq!(read_exact(client, 17).await, b"\x81\x064first\x81\x074second");
        }
    }
}
