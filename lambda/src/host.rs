//! The Lambda host: API Gateway connections for delivery, Redis for everything a warm
//! process would otherwise remember, and the tasks of invocations: the host's own (closes,
//! relayed acknowledgements), which an invocation finishes before it answers, and the
//! application's handlers, which may go on after (see [`crate::tail`]).

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures_util::future::join_all;
use futures_util::stream::{self, StreamExt};
use sio_core::eio::packet::Packet;
use sio_core::maybe::BoxFuture;
use sio_core::Args;
use sio_engine::Host;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tracing::warn;

use crate::connections::Connections;
use crate::inbox::Inbox;
use crate::management::{Management, Out, Posted};
use crate::turns::{Claim, Targets, Turns};
use crate::LambdaHub;

/// Connections posted to at once in a fan-out: enough to hide the latency of each call,
/// few enough to stay within the function's sockets and the API's burst limits.
const FAN_OUT: usize = 16;

/// Cheap to clone: the hub holds one, the handlers another, and the tasks of closes theirs.
#[derive(Clone)]
pub struct LambdaHost {
    shared: Arc<Shared>,
}

struct Shared {
    connections: Connections,
    /// `None` when no WebSocket API is configured: then every session polls.
    management: Option<Management>,
    turns: Turns,
    inbox: Inbox,
    /// The host's own tasks: what the client is answered after.
    io: Mutex<Vec<JoinHandle<()>>>,
    /// Handlers and the hub's other tasks, which may outlive the answer.
    handlers: Mutex<Vec<JoinHandle<()>>>,
    /// Sessions whose WebSocket the Management API answered 410 for.
    gone: Mutex<Vec<String>>,
    /// Told when a task begins to await clients' acknowledgements.
    awaiting_acks: Notify,
}

fn locked<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl LambdaHost {
    pub fn new(connections: Connections, management: Option<Management>, turns: Turns, inbox: Inbox) -> Self {
        let shared = Shared {
            connections,
            management,
            turns,
            inbox,
            io: Mutex::default(),
            handlers: Mutex::default(),
            gone: Mutex::default(),
            awaiting_acks: Notify::new(),
        };
        Self { shared: Arc::new(shared) }
    }

    pub fn connections(&self) -> &Connections {
        &self.shared.connections
    }

    pub fn management(&self) -> Option<&Management> {
        self.shared.management.as_ref()
    }

    pub fn turns(&self) -> &Turns {
        &self.shared.turns
    }

    pub fn inbox(&self) -> &Inbox {
        &self.shared.inbox
    }

    /// Waits for the host's own tasks spawned so far, and those they spawn.
    pub async fn settle_io(&self) {
        while join(&self.shared.io).await {}
    }

    /// Waits for every task spawned so far, handlers included, and those they spawn.
    pub async fn settle(&self) {
        while join(&self.shared.io).await | join(&self.shared.handlers).await {}
    }

    /// Whether some task is still to be waited for, or some session found gone to close.
    pub fn busy(&self) -> bool {
        [&self.shared.io, &self.shared.handlers].iter().any(|tasks| !locked(tasks).is_empty())
            || !locked(&self.shared.gone).is_empty()
    }

    /// Returns once a task of `hub` awaits clients' acknowledgements: until then no
    /// reply can be relayed to this instance, and its inbox need not be listened to.
    pub async fn acks_awaited(&self, hub: &LambdaHub) {
        loop {
            let mut told = std::pin::pin!(self.shared.awaiting_acks.notified());
            // Registered before the check, so that a task that begins to await between
            // the two is not missed.
            told.as_mut().enable();
            if hub.awaiting_acks() {
                return;
            }
            told.await;
        }
    }

    /// The sessions found gone since the last call.
    pub fn take_gone(&self) -> Vec<String> {
        std::mem::take(&mut *locked(&self.shared.gone))
    }

    fn spawn_io(&self, future: impl std::future::Future<Output = ()> + Send + 'static) {
        locked(&self.shared.io).push(tokio::spawn(future));
    }

    /// Posts `outs` to the WebSocket of each session of `to` in its turn ([`crate::turns`]);
    /// returns the sessions that have none: they poll.
    async fn send(&self, to: To<'_>, outs: &[Out]) -> Vec<String> {
        if self.management().is_none() {
            return match to {
                To::Sessions(sids) => sids,
                To::Connection { .. } => Vec::new(),
            };
        }
        let (sids, targets) = match to {
            To::Sessions(sids) => {
                let keys = sids.iter().map(|sid| self.connections().transport_key(sid)).collect();
                (sids, Targets::Sessions(keys))
            }
            To::Connection { sid, connection } => (vec![sid.to_owned()], Targets::Connection(connection)),
        };
        let token = sio_engine::os::random_id();
        let claims = match self.shared.turns.claim(targets, &token, outs).await {
            Ok(claims) => claims,
            Err(e) => {
                warn!(error = %e, "cannot take turns at WebSocket connections");
                return sids;
            }
        };
        let (mut polling, mut held) = (Vec::new(), Vec::new());
        for (sid, claim) in sids.into_iter().zip(claims) {
            match claim {
                Claim::NoWebSocket => polling.push(sid),
                Claim::Queued => {}
                Claim::Held { connection, mut left } => {
                    left.extend_from_slice(outs);
                    held.push(Held { connection, sid, outs: left });
                }
            }
        }
        self.post_held(&token, held).await;
        polling
    }

    /// Posts to connections whose turn `token` holds, [`FAN_OUT`] at a time, then passes
    /// their turns on, posting what other invocations left meanwhile until no more is left.
    pub async fn post_held(&self, token: &str, mut held: Vec<Held>) {
        let Some(management) = self.management() else { return };
        while !held.is_empty() {
            let posted: Vec<(Held, Posted)> = stream::iter(held)
                .map(|held| async move {
                    let posted = management.post_all(&held.connection, &held.outs).await;
                    (held, posted)
                })
                .buffer_unordered(FAN_OUT)
                .collect()
                .await;
            let passed: Vec<(String, bool)> = posted
                .iter()
                .map(|(held, posted)| (held.connection.clone(), matches!(posted, Posted::Gone | Posted::Closed)))
                .collect();
            let gone = posted.iter().filter(|(_, posted)| *posted == Posted::Gone).map(|(held, _)| held.sid.clone());
            locked(&self.shared.gone).extend(gone);
            let left = match self.shared.turns.pass(token, &passed).await {
                Ok(left) => left,
                // Turns and outboxes expire; the next invocation to claim one posts what is left.
                Err(e) => return warn!(error = %e, "cannot pass turns on"),
            };
            held = posted
                .into_iter()
                .zip(left)
                .filter(|(_, left)| !left.is_empty())
                .map(|((held, _), outs)| Held { outs, ..held })
                .collect();
        }
    }
}

/// Where [`LambdaHost::send`] posts: the WebSockets of sessions, or one session's
/// connection, known already.
enum To<'a> {
    Sessions(Vec<String>),
    Connection { sid: &'a str, connection: &'a str },
}

/// A connection whose turn an invocation holds, and what it is to post there.
pub struct Held {
    pub connection: String,
    pub sid: String,
    pub outs: Vec<Out>,
}

/// Waits for the tasks in `tasks`; `false` when there were none.
async fn join(tasks: &Mutex<Vec<JoinHandle<()>>>) -> bool {
    let taken = std::mem::take(&mut *locked(tasks));
    let any = !taken.is_empty();
    join_all(taken).await;
    any
}

/// What a WebSocket client gets of `packets` (noops exist for polling only), each as
/// text: API Gateway closes a WebSocket that sends a binary frame and documents none that
/// it sends, so binary messages go in Engine.IO's text form (`b` + base64), which every
/// official client decodes on either transport.
pub fn ws_outs(packets: &[Packet]) -> Vec<Out> {
    packets.iter().filter(|p| **p != Packet::Noop).map(|p| Out::Text(p.to_text())).collect()
}

impl Host for LambdaHost {
    fn now(&self) -> u64 {
        sio_engine::os::now_ms()
    }

    fn random_id(&self) -> String {
        sio_engine::os::random_id()
    }

    fn spawn(&self, future: BoxFuture<'static, ()>) {
        locked(&self.shared.handlers).push(tokio::spawn(future));
    }

    fn sleep(&self, ms: u64) -> BoxFuture<'static, ()> {
        Box::pin(tokio::time::sleep(Duration::from_millis(ms)))
    }

    /// Posts to the sessions that have a WebSocket, in their turns; the others poll. API
    /// Gateway takes a post or refuses it, and tells nothing of a busy client: volatile
    /// packets are posted as any others.
    fn deliver(&self, sids: Vec<String>, packets: Arc<[Packet]>, _volatile: bool) -> BoxFuture<'_, Vec<String>> {
        Box::pin(async move { self.send(To::Sessions(sids), &ws_outs(&packets)).await })
    }

    /// A parked GET blocks on the session's queue itself: nothing to wake.
    fn notify(&self, _sid: &str) {}

    fn close(&self, sid: &str, last: Vec<Packet>) {
        let (host, sid) = (self.clone(), sid.to_owned());
        self.spawn_io(async move {
            let (transport, probe) = match host.connections().release(&sid).await {
                Ok(released) => released,
                Err(e) => return warn!(%sid, error = %e, "cannot release a session's connections"),
            };
            if transport.is_none() {
                if let Err(e) = host.connections().keep_farewell(&sid, &last).await {
                    warn!(%sid, error = %e, "cannot keep a closed session's last packets");
                }
            }
            if let Some(connection) = &transport {
                // In its turn: after what other invocations are posting to it.
                host.send(To::Connection { sid: &sid, connection }, &[Out::Close]).await;
            }
            if let (Some(management), Some(probe)) = (host.management(), &probe) {
                management.delete(probe).await;
            }
        });
    }

    fn abort_upgrade(&self, sid: &str) {
        let (host, sid) = (self.clone(), sid.to_owned());
        self.spawn_io(async move {
            match host.connections().release_probe(&sid).await {
                Ok(Some(probe)) => {
                    if let Some(management) = host.management() {
                        management.delete(&probe).await;
                    }
                }
                Ok(None) => {}
                Err(e) => warn!(%sid, error = %e, "cannot release a probe"),
            }
        });
    }

    /// Deadlines are read from the store by the scheduled sweeper.
    fn wake_at(&self, _at: u64) {}

    /// Onto the inbox of the instance whose task awaits it, before the client is answered.
    fn relay_ack(&self, instance: &str, socket: &str, id: u64, reply: Args) {
        let (host, instance, socket) = (self.clone(), instance.to_owned(), socket.to_owned());
        self.spawn_io(async move {
            if let Err(e) = host.inbox().post(&instance, &socket, id, reply).await {
                warn!(%instance, %socket, id, error = %e, "cannot relay an acknowledgement");
            }
        });
    }

    fn awaiting_acks(&self) {
        self.shared.awaiting_acks.notify_waiters();
    }
}
