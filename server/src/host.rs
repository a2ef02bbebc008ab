//! The native host: live connections of this process, tokio for time and tasks.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use sio_core::eio::packet::{Frame, Packet};
use sio_core::maybe::BoxFuture;
use sio_state::Host;
use tokio::sync::{mpsc, oneshot, Notify};
use tokio_tungstenite::tungstenite::Message;

/// What a connection task is told to do.
#[derive(Debug)]
pub enum Command {
    Send(Arc<[Message]>),
    Close,
}

pub fn to_message(frame: Frame) -> Message {
    match frame {
        Frame::Text(text) => Message::text(text),
        Frame::Binary(bytes) => Message::binary(bytes),
    }
}

/// How a parked polling GET is woken.
#[derive(Debug)]
pub enum Wake {
    /// Packets are queued: take them.
    Ready,
    /// The session ended; answer with these packets (a close packet if none).
    Closed(Vec<Packet>),
}

#[derive(Default)]
struct Conn {
    /// The WebSocket that is the session's transport.
    ws: Option<mpsc::UnboundedSender<Command>>,
    /// A WebSocket probing an upgrade.
    probe: Option<mpsc::UnboundedSender<Command>>,
    /// The parked polling GET.
    poll: Option<oneshot::Sender<Wake>>,
}

/// Connections are transport, not session state: losing them loses no fact the store
/// holds, which is why they may live in this process only.
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
}

/// Splits a trailing close packet off `packets` when messages precede it. The client
/// handles messages one tick after the packets of a payload, so a close in the same
/// payload would overtake them: the close goes in a payload of its own, as in Node.
fn split_close(packets: &mut Vec<Packet>) -> Option<Vec<Packet>> {
    (packets.len() > 1 && packets.last() == Some(&Packet::Close)).then(|| packets.split_off(packets.len() - 1))
}

pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

impl NativeHost {
    fn conns(&self) -> MutexGuard<'_, HashMap<String, Conn>> {
        self.conns.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn attach_ws(&self, sid: &str, tx: mpsc::UnboundedSender<Command>) {
        self.conns().entry(sid.to_owned()).or_default().ws = Some(tx);
    }

    pub fn attach_probe(&self, sid: &str, tx: mpsc::UnboundedSender<Command>) {
        self.conns().entry(sid.to_owned()).or_default().probe = Some(tx);
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

    pub fn detach(&self, sid: &str) {
        self.conns().remove(sid);
    }

    /// Parks a GET. `None` when another GET is already parked on the session: the
    /// protocol forbids overlapping polls.
    pub fn park(&self, sid: &str) -> Option<oneshot::Receiver<Wake>> {
        let mut conns = self.conns();
        let conn = conns.entry(sid.to_owned()).or_default();
        if conn.poll.as_ref().is_some_and(|p| !p.is_closed()) {
            return None;
        }
        let (tx, rx) = oneshot::channel();
        conn.poll = Some(tx);
        Some(rx)
    }

    /// The last packets of a session that closed while no GET was parked.
    pub fn take_farewell(&self, sid: &str) -> Option<Vec<Packet>> {
        let mut farewells = self.farewells.lock().unwrap_or_else(|e| e.into_inner());
        let packets = farewells.packets.get_mut(sid)?;
        if let Some(close) = split_close(packets) {
            return Some(std::mem::replace(packets, close));
        }
        farewells.packets.remove(sid)
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

    pub fn unpark(&self, sid: &str) {
        if let Some(conn) = self.conns().get_mut(sid) {
            conn.poll = None;
        }
    }

    /// Runs the deadline sweeper of `sweep` forever.
    pub async fn run_sweeper<F, Fut>(self: Arc<Self>, sweep: F)
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Option<u64>>,
    {
        loop {
            let next = sweep().await.unwrap_or(now_ms() + 60_000);
            self.sweep_at.store(next, Ordering::SeqCst);
            let wait = Duration::from_millis(next.saturating_sub(now_ms()));
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = self.sweep.notified() => {}
            }
        }
    }
}

impl Host for NativeHost {
    fn now(&self) -> u64 {
        now_ms()
    }

    fn random_id(&self) -> String {
        let mut bytes = [0u8; 16];
        if getrandom::fill(&mut bytes).is_err() {
            // The OS generator does not fail on the platforms this runtime supports; a
            // counter-and-clock id keeps the server up if it ever does.
            bytes[..8].copy_from_slice(&now_ms().to_le_bytes());
        }
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }

    fn spawn(&self, future: BoxFuture<'static, ()>) {
        tokio::spawn(future);
    }

    fn sleep(&self, ms: u64) -> BoxFuture<'static, ()> {
        Box::pin(tokio::time::sleep(Duration::from_millis(ms)))
    }

    fn deliver(&self, sids: Vec<String>, packets: Arc<[Packet]>) -> BoxFuture<'_, Vec<String>> {
        // Encoded once; each recipient's copy shares the bytes.
        let messages: Arc<[Message]> = packets.iter().map(|p| to_message(p.to_frame())).collect();
        let conns = self.conns();
        let undelivered = sids
            .into_iter()
            .filter(|sid| match conns.get(sid.as_str()).and_then(|c| c.ws.as_ref()) {
                Some(tx) => tx.send(Command::Send(messages.clone())).is_err(),
                None => true,
            })
            .collect();
        Box::pin(std::future::ready(undelivered))
    }

    fn notify(&self, sid: &str) {
        if let Some(poll) = self.conns().get_mut(sid).and_then(|c| c.poll.take()) {
            let _ = poll.send(Wake::Ready);
        }
    }

    fn close(&self, sid: &str, last: Vec<Packet>) {
        let conn = self.conns().remove(sid).unwrap_or_default();
        for tx in conn.ws.iter().chain(conn.probe.iter()) {
            let _ = tx.send(Command::Close);
        }
        let mut now = last;
        let later = split_close(&mut now).unwrap_or_default();
        let undelivered = match conn.poll {
            Some(poll) => match poll.send(Wake::Closed(now)) {
                Ok(()) => later,
                Err(Wake::Closed(mut now)) => {
                    now.extend(later);
                    now
                }
                Err(Wake::Ready) => later,
            },
            None => {
                now.extend(later);
                now
            }
        };
        // Messages still owed to the client wait for its next GET; a bare close does not
        // (the reference answers that GET with "Session ID unknown").
        if conn.ws.is_none() && undelivered.iter().any(|p| matches!(p, Packet::Message(_))) {
            self.keep_farewell(sid, undelivered);
        }
    }

    fn abort_upgrade(&self, sid: &str) {
        if let Some(tx) = self.conns().get_mut(sid).and_then(|c| c.probe.take()) {
            let _ = tx.send(Command::Close);
        }
    }

    fn wake_at(&self, at: u64) {
        if at < self.sweep_at.load(Ordering::SeqCst) {
            self.sweep_at.store(at, Ordering::SeqCst);
            self.sweep.notify_one();
        }
    }
}
