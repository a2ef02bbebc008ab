//! The Lambda host: API Gateway connections for delivery, Redis for everything a warm
//! process would otherwise remember, and the tasks of invocations: the host's own (closes,
//! relayed acknowledgements), which an invocation finishes before it answers, and the
//! application's handlers, which may go on after (see [`crate::tail`]).

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures_util::future::join_all;
use sio_core::eio::packet::{Frame, Packet};
use sio_core::maybe::BoxFuture;
use sio_core::Args;
use sio_state::Host;
use tokio::task::JoinHandle;
use tracing::warn;

use crate::connections::Connections;
use crate::inbox::Inbox;
use crate::management::Management;

/// Cheap to clone: the hub holds one, the handlers another, and the tasks of closes theirs.
#[derive(Clone)]
pub struct LambdaHost {
    shared: Arc<Shared>,
}

struct Shared {
    connections: Connections,
    /// `None` when no WebSocket API is configured: then every session polls.
    management: Option<Management>,
    inbox: Inbox,
    /// The host's own tasks: what the client is answered after.
    io: Mutex<Vec<JoinHandle<()>>>,
    /// Handlers and the hub's other tasks, which may outlive the answer.
    handlers: Mutex<Vec<JoinHandle<()>>>,
    /// Sessions whose WebSocket the Management API answered 410 for.
    gone: Mutex<Vec<String>>,
}

fn locked<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl LambdaHost {
    pub fn new(connections: Connections, management: Option<Management>, inbox: Inbox) -> Self {
        let shared = Shared {
            connections,
            management,
            inbox,
            io: Mutex::default(),
            handlers: Mutex::default(),
            gone: Mutex::default(),
        };
        Self { shared: Arc::new(shared) }
    }

    pub fn connections(&self) -> &Connections {
        &self.shared.connections
    }

    pub fn management(&self) -> Option<&Management> {
        self.shared.management.as_ref()
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

    /// The sessions found gone since the last call.
    pub fn take_gone(&self) -> Vec<String> {
        std::mem::take(&mut *locked(&self.shared.gone))
    }

    fn spawn_io(&self, future: impl std::future::Future<Output = ()> + Send + 'static) {
        locked(&self.shared.io).push(tokio::spawn(future));
    }
}

/// Waits for the tasks in `tasks`; `false` when there were none.
async fn join(tasks: &Mutex<Vec<JoinHandle<()>>>) -> bool {
    let taken = std::mem::take(&mut *locked(tasks));
    let any = !taken.is_empty();
    join_all(taken).await;
    any
}

/// The frames of `packets` a WebSocket client gets (noops exist for polling only).
pub fn ws_frames(packets: &[Packet]) -> Arc<[Frame]> {
    packets.iter().filter(|p| **p != Packet::Noop).map(Packet::to_frame).collect()
}

impl Host for LambdaHost {
    fn now(&self) -> u64 {
        sio_state::os::now_ms()
    }

    fn random_id(&self) -> String {
        sio_state::os::random_id()
    }

    fn spawn(&self, future: BoxFuture<'static, ()>) {
        locked(&self.shared.handlers).push(tokio::spawn(future));
    }

    fn sleep(&self, ms: u64) -> BoxFuture<'static, ()> {
        Box::pin(tokio::time::sleep(Duration::from_millis(ms)))
    }

    /// Posts to the sessions that have a WebSocket, [`Management::fan_out`] at a time;
    /// the others poll.
    fn deliver(&self, sids: Vec<String>, packets: Arc<[Packet]>) -> BoxFuture<'_, Vec<String>> {
        Box::pin(async move {
            let transports = match self.connections().transports(&sids).await {
                Ok(t) => t,
                Err(e) => {
                    warn!(error = %e, "cannot look up WebSocket connections");
                    return sids;
                }
            };
            let (mut polling, mut posted) = (Vec::new(), Vec::new());
            for (sid, transport) in sids.into_iter().zip(transports) {
                match transport {
                    Some(connection) => posted.push((connection, sid)),
                    None => polling.push(sid),
                }
            }
            let Some(management) = self.management() else {
                polling.extend(posted.into_iter().map(|(_, sid)| sid));
                return polling;
            };
            let connections = posted.iter().map(|(c, _)| c.clone()).collect();
            let gone = management.fan_out(connections, ws_frames(&packets)).await;
            let gone = posted.into_iter().filter(|(c, _)| gone.contains(c)).map(|(_, sid)| sid);
            locked(&self.shared.gone).extend(gone);
            polling
        })
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
            if let Some(management) = host.management() {
                for connection in transport.iter().chain(probe.iter()) {
                    management.delete(connection).await;
                }
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
}
