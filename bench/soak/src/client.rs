//! What one simulated user does: connect, echo with acks now and then, join and leave rooms,
//! emit to its room, receive broadcasts; some users drop without a close and come back.

use crate::error::Error;
use crate::polling::PollingClient;
use crate::proto::{self, Incoming};
use crate::stats::Stats;
use crate::transport::Transport;
use crate::ws::WsClient;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio::time::{sleep, sleep_until, timeout, Instant};

/// A handshake slower than this counts as a failed connect (and is retried).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// Upper bound on sessions per client, so a server refusing everyone cannot spin a task.
const MAX_LIVES: u32 = 10_000;
/// Pause before reconnecting, like a client library's first backoff step.
const RECONNECT_PAUSE: (Duration, Duration) = (Duration::from_secs(1), Duration::from_secs(3));

/// A range of intervals; each wait is drawn uniformly from it so clients do not act in step.
pub type Range = (Duration, Duration);

/// The soak's shape, shared by every client.
pub struct Plan {
    pub addr: SocketAddr,
    pub deadline: Instant,
    pub ack_timeout: Duration,
    pub echo_every: Range,
    pub room_change_every: Range,
    pub room_emit_every: Range,
    pub rooms: u32,
    pub drop_after: Range,
    pub broadcast_every: Duration,
    /// Caps handshakes in flight, so reconnect bursts stay under the server's listen backlog.
    pub connect_gate: Semaphore,
    /// The broadcaster's sequence, kept here so it survives a reconnect of the broadcaster.
    pub broadcast_seq: AtomicU64,
    pub stats: Stats,
}

#[derive(Clone, Copy)]
pub struct Client {
    pub idx: usize,
    pub polling: bool,
    /// Drops without a close after `drop_after`, then reconnects: the 1% churn.
    pub dropper: bool,
    /// The one client that emits `broadcast` (and nothing else).
    pub broadcaster: bool,
}

enum End {
    /// The soak is over; the session was closed politely.
    Deadline,
    /// The soak dropped it on purpose.
    Dropped,
    /// The server or the network ended it: an unexpected disconnect.
    Lost(Error),
}

fn between((lo, hi): Range) -> Duration {
    lo + hi.saturating_sub(lo).mul_f64(fastrand::f64())
}

/// Runs one client from `start_at` until the deadline, reconnecting after drops and losses.
pub async fn run(plan: Arc<Plan>, me: Client, start_at: Instant) {
    sleep_until(start_at).await;
    for life in 0..MAX_LIVES {
        if Instant::now() >= plan.deadline {
            return;
        }
        // Alternate an RST with a plain FIN: a crashed process and a closed laptop lid.
        let reset = life % 2 == 0;
        let end = if me.polling {
            one_life(&plan, &me, PollingClient::connect(plan.addr, reset)).await
        } else {
            one_life(&plan, &me, WsClient::connect(plan.addr, reset)).await
        };
        let stats = &plan.stats;
        match end {
            Some(End::Deadline) => return,
            Some(End::Dropped) => drop(stats.drops.fetch_add(1, Relaxed)),
            Some(End::Lost(e)) => {
                stats.unexpected_disconnects.fetch_add(1, Relaxed);
                stats.sample(format!("client {} ({}): {e}", me.idx, kind(&me)));
            }
            None => {}
        }
        sleep(between(RECONNECT_PAUSE)).await;
    }
}

fn kind(me: &Client) -> &'static str {
    if me.polling {
        "polling"
    } else {
        "websocket"
    }
}

/// Connect (through the gate), then play a session. `None` if the connect failed.
async fn one_life<T: Transport>(
    plan: &Plan,
    me: &Client,
    connect: impl Future<Output = Result<T, Error>>,
) -> Option<End> {
    let stats = &plan.stats;
    let connected = {
        let _permit = plan.connect_gate.acquire().await.ok()?;
        timeout(CONNECT_TIMEOUT, connect).await.unwrap_or(Err(Error::Timeout("connect")))
    };
    let transport = match connected {
        Ok(t) => t,
        Err(e) => {
            stats.connect_failures.fetch_add(1, Relaxed);
            stats.sample(format!("client {} ({}) connect: {e}", me.idx, kind(me)));
            return None;
        }
    };
    stats.connects.fetch_add(1, Relaxed);
    stats.connected.fetch_add(1, Relaxed);
    let drop_at = me.dropper.then(|| Instant::now() + between(plan.drop_after));
    let end = Session::new(plan, me).play(transport, drop_at).await;
    stats.connected.fetch_sub(1, Relaxed);
    Some(end)
}

/// One connection's state: acks awaited and the last broadcast seen.
struct Session<'a> {
    plan: &'a Plan,
    me: &'a Client,
    /// (ack id, sent at), oldest first: ids are issued in time order.
    pending: Vec<(u64, Instant)>,
    next_id: u64,
    room: Option<u32>,
    last_broadcast: Option<u64>,
}

/// Why the active phase of a session stopped.
enum Stop {
    Deadline,
    Drop,
}

impl<'a> Session<'a> {
    fn new(plan: &'a Plan, me: &'a Client) -> Self {
        Session { plan, me, pending: Vec::new(), next_id: 1, room: None, last_broadcast: None }
    }

    async fn play<T: Transport>(mut self, mut t: T, drop_at: Option<Instant>) -> End {
        let stats = &self.plan.stats;
        match self.active(&mut t, drop_at).await {
            Ok(Stop::Drop) => {
                stats.acks_abandoned.fetch_add(self.pending.len() as u64, Relaxed);
                t.drop_abruptly();
                End::Dropped
            }
            Ok(Stop::Deadline) => match self.drain(&mut t).await {
                Ok(()) => {
                    let _ = timeout(Duration::from_secs(3), t.close()).await;
                    End::Deadline
                }
                Err(e) => self.lost(e),
            },
            Err(e) => self.lost(e),
        }
    }

    /// The server ended the session: whatever was awaited is lost with it.
    fn lost(&self, e: Error) -> End {
        self.plan.stats.acks_lost.fetch_add(self.pending.len() as u64, Relaxed);
        End::Lost(e)
    }

    /// Until the deadline or the planned drop: act on timers, handle what arrives.
    async fn active<T: Transport>(&mut self, t: &mut T, drop_at: Option<Instant>) -> Result<Stop, Error> {
        let plan = self.plan;
        let now = Instant::now();
        let first = |every: Range| Some(now + between((Duration::ZERO, every.1)));
        let (mut echo, mut room_change, mut room_emit, mut broadcast) = if self.me.broadcaster {
            (None, None, None, Some(now + plan.broadcast_every))
        } else {
            (first(plan.echo_every), first(plan.room_change_every), first(plan.room_emit_every), None)
        };
        let due = |at: Option<Instant>, now: Instant| at.is_some_and(|at| now >= at);
        // Each turn handles one packet or the timers due; the deadline ends it.
        loop {
            let now = Instant::now();
            if now >= plan.deadline {
                return Ok(Stop::Deadline);
            }
            if due(drop_at, now) {
                return Ok(Stop::Drop);
            }
            self.expire(now);
            if due(echo, now) {
                self.emit(t, "echo", format!("\"soak {}\"", self.me.idx)).await?;
                echo = Some(now + between(plan.echo_every));
            }
            if due(room_change, now) {
                match self.room.take() {
                    Some(r) => self.emit(t, "leave", format!("\"room-{r}\"")).await?,
                    None => {
                        let r = fastrand::u32(0..plan.rooms.max(1));
                        self.emit(t, "join", format!("\"room-{r}\"")).await?;
                        self.room = Some(r);
                    }
                }
                room_change = Some(now + between(plan.room_change_every));
            }
            if due(room_emit, now) {
                if let Some(r) = self.room {
                    self.emit(t, "room", format!("\"room-{r}\",\"from {}\"", self.me.idx)).await?;
                }
                room_emit = Some(now + between(plan.room_emit_every));
            }
            if due(broadcast, now) {
                let seq = plan.broadcast_seq.fetch_add(1, Relaxed) + 1;
                self.emit(t, "broadcast", seq.to_string()).await?;
                plan.stats.broadcasts_sent.fetch_add(1, Relaxed);
                broadcast = broadcast
                    .map(|at| at + plan.broadcast_every)
                    .filter(|at| *at > now)
                    .or(Some(now + plan.broadcast_every));
            }
            let oldest = self.pending.first().map(|p| p.1 + plan.ack_timeout);
            let wake = [echo, room_change, room_emit, broadcast, drop_at, oldest, Some(plan.deadline)]
                .into_iter()
                .flatten()
                .min()
                .unwrap_or(plan.deadline);
            tokio::select! {
                packet = t.recv() => self.handle(&packet?)?,
                _ = sleep_until(wake) => {}
            }
        }
    }

    /// After the deadline: no new emits, wait (at most one ack timeout) for the acks due.
    async fn drain<T: Transport>(&mut self, t: &mut T) -> Result<(), Error> {
        let until = Instant::now() + self.plan.ack_timeout;
        while !self.pending.is_empty() {
            tokio::select! {
                packet = t.recv() => self.handle(&packet?)?,
                _ = sleep_until(until) => {
                    self.expire(until + self.plan.ack_timeout);
                    break;
                }
            }
        }
        Ok(())
    }

    async fn emit<T: Transport>(&mut self, t: &mut T, event: &str, args: String) -> Result<(), Error> {
        let id = self.next_id;
        self.next_id += 1;
        t.send(proto::event(id, event, &args)).await?;
        self.pending.push((id, Instant::now()));
        self.plan.stats.acks_sent.fetch_add(1, Relaxed);
        Ok(())
    }

    /// Acks older than the timeout are counted lost and forgotten.
    fn expire(&mut self, now: Instant) {
        let timeout = self.plan.ack_timeout;
        let late = self.pending.iter().take_while(|(_, sent)| now.duration_since(*sent) >= timeout).count();
        if late > 0 {
            let stats = &self.plan.stats;
            stats.acks_lost.fetch_add(late as u64, Relaxed);
            stats.sample(format!("client {} ({}): {late} ack(s) not back in {timeout:?}", self.me.idx, kind(self.me)));
            self.pending.drain(..late);
        }
    }

    fn handle(&mut self, packet: &str) -> Result<(), Error> {
        let stats = &self.plan.stats;
        match proto::parse(packet) {
            Incoming::Ack(id) => {
                if let Some(i) = self.pending.iter().position(|p| p.0 == id) {
                    let (_, sent) = self.pending.remove(i);
                    stats.ack(sent.elapsed().as_micros() as u64);
                }
            }
            Incoming::Broadcast(seq) => {
                stats.broadcasts_received.fetch_add(1, Relaxed);
                if let Some(last) = self.last_broadcast {
                    stats.broadcasts_missed.fetch_add(seq.saturating_sub(last + 1), Relaxed);
                }
                self.last_broadcast = Some(seq.max(self.last_broadcast.unwrap_or(0)));
            }
            Incoming::Room => drop(stats.room_messages_received.fetch_add(1, Relaxed)),
            Incoming::Disconnect => return Err(Error::Protocol(format!("server disconnect {packet:.40}"))),
            Incoming::ConnectError => return Err(Error::Protocol(format!("connect_error {packet:.80}"))),
            Incoming::Other => {}
        }
        Ok(())
    }
}
