//! A deterministic host for tests and fuzzing: a virtual clock, tasks that run only when
//! told to, and a record of what the hub asked of the transports.
//!
//! Every session is polling (nothing is held as a WebSocket), so everything the hub sends
//! lands in the store's queues, where a test can look at it.

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use sio_core::eio::packet::Packet;
use sio_core::maybe::{boxed, BoxFuture};
use sio_core::Args;

use crate::host::Host;

/// How many rounds [`SimHost::run`] polls the tasks before it gives up on them settling.
const MAX_ROUNDS: usize = 64;

/// A [`Host`] on a virtual clock, for tests: nothing runs until the test says so.
///
/// Spawned tasks wait until [`SimHost::run`] or [`SimHost::block_on`] polls them; the
/// clock moves only with [`SimHost::advance`]; ids are sequential. It holds no WebSocket,
/// so the hub queues everything it sends in the store. See [`MemoryStore`] for a hub built
/// on it.
///
/// [`MemoryStore`]: crate::MemoryStore
#[derive(Default)]
pub struct SimHost {
    clock: Arc<AtomicU64>,
    ids: AtomicU64,
    tasks: Mutex<Vec<BoxFuture<'static, ()>>>,
    closed: Mutex<HashSet<String>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl SimHost {
    /// A host whose clock reads `now` (ms since the epoch) until it is advanced.
    pub fn new(now: u64) -> Self {
        let host = Self::default();
        host.clock.store(now, Ordering::SeqCst);
        host
    }

    /// Moves the clock forward.
    pub fn advance(&self, ms: u64) {
        self.clock.fetch_add(ms, Ordering::SeqCst);
    }

    /// Whether the hub has closed the session's transport.
    pub fn is_closed(&self, sid: &str) -> bool {
        lock(&self.closed).contains(sid)
    }

    /// Tasks not finished yet.
    pub fn pending_tasks(&self) -> usize {
        lock(&self.tasks).len()
    }

    /// Polls the spawned tasks until a round finishes none and spawns none; tasks waiting
    /// on the clock wait for [`Self::advance`].
    pub fn run(&self) {
        let mut cx = Context::from_waker(Waker::noop());
        for _ in 0..MAX_ROUNDS {
            let tasks = std::mem::take(&mut *lock(&self.tasks));
            let before = tasks.len();
            let mut pending: Vec<_> =
                tasks.into_iter().filter_map(|mut t| t.as_mut().poll(&mut cx).is_pending().then_some(t)).collect();
            let mut tasks = lock(&self.tasks);
            let spawned = tasks.len();
            let settled = spawned == 0 && pending.len() == before;
            pending.append(&mut tasks);
            *tasks = pending;
            if settled {
                return;
            }
        }
    }

    /// Runs `future` to completion, running the spawned tasks while it waits; `None` if it
    /// cannot finish without the clock moving.
    pub fn block_on<T>(&self, future: impl Future<Output = T>) -> Option<T> {
        let mut future = std::pin::pin!(future);
        let mut cx = Context::from_waker(Waker::noop());
        for _ in 0..MAX_ROUNDS {
            if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
                self.run();
                return Some(out);
            }
            self.run();
        }
        None
    }
}

/// Ready once the virtual clock reaches `until`.
struct Sleep {
    clock: Arc<AtomicU64>,
    until: u64,
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        match self.clock.load(Ordering::SeqCst) >= self.until {
            true => Poll::Ready(()),
            false => Poll::Pending,
        }
    }
}

impl Host for SimHost {
    fn now(&self) -> u64 {
        self.clock.load(Ordering::SeqCst)
    }

    /// Sequential ids: runs are reproducible.
    fn random_id(&self) -> String {
        format!("id{}", self.ids.fetch_add(1, Ordering::Relaxed))
    }

    fn spawn(&self, future: BoxFuture<'static, ()>) {
        lock(&self.tasks).push(future);
    }

    fn sleep(&self, ms: u64) -> BoxFuture<'static, ()> {
        boxed(Sleep { clock: self.clock.clone(), until: self.now().saturating_add(ms) })
    }

    fn deliver(&self, sids: Vec<String>, _packets: Arc<[Packet]>, _volatile: bool) -> BoxFuture<'_, Vec<String>> {
        boxed(std::future::ready(sids))
    }

    fn notify(&self, _sid: &str) {}

    fn close(&self, sid: &str, _last: Vec<Packet>) {
        lock(&self.closed).insert(sid.to_owned());
    }

    fn abort_upgrade(&self, _sid: &str) {}

    fn wake_at(&self, _at: u64) {}

    fn relay_ack(&self, _instance: &str, _socket: &str, _id: u64, _reply: Args) {}
}
