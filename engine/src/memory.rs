//! The in-memory store: one process, no persistence, no network round trip.

use std::collections::{BTreeSet, VecDeque};
use std::future::{ready, Future};
use std::sync::{Mutex, MutexGuard};

use sio_core::eio::packet::Packet;
use sio_core::maybe::MaybeSend;
use sio_core::{Census, Target};

use crate::map::{HashMap, HashSet};
use crate::record::{LogEntry, Member, PendingAck, PersistedSocket, Recovery, SessionRecord, SocketRecord};
use crate::store::{Queued, Store, StoreError};

/// Records are boxed in their maps: a hash table holds spare slots, and a spare slot the
/// size of a whole record would weigh on every idle connection.
#[derive(Default)]
struct Inner {
    sessions: HashMap<String, Box<SessionRecord>>,
    outbound: HashMap<String, Vec<Packet>>,
    /// Sessions whose queue was sealed by their upgrade ([`Store::seal_outbound`]).
    sealed: HashSet<String>,
    deadlines: BTreeSet<(u64, String)>,
    deadline_of: HashMap<String, u64>,
    sockets: Sockets,
    /// (namespace, room) -> socket ids, less each socket's own room (see
    /// [`Inner::in_room`]).
    rooms: HashMap<(String, String), HashSet<String>>,
    /// (namespace, socket id) -> rooms, sorted: a list, as most sockets are in one or
    /// two rooms, for which a B-tree node would be much larger than the list.
    rooms_of: HashMap<(String, String), Vec<String>>,
    /// (namespace, socket id) -> ack id -> the ack.
    acks: HashMap<(String, String), HashMap<u64, PendingAck>>,
    /// (deadline, namespace, socket id, ack id).
    ack_deadlines: BTreeSet<(u64, String, String, u64)>,
    log: VecDeque<LogEntry>,
    persisted: HashMap<String, PersistedSocket>,
}

/// The [`Store`] of a single process: sessions, sockets, rooms and acks in its memory.
///
/// This is the store of the native runtime when no Redis is configured, and the one to
/// use in tests with [`SimHost`](crate::SimHost). Nothing survives the process, and no
/// other process can see it.
///
/// It holds everything behind one lock: every operation is a few map look-ups, far
/// shorter than the time a finer-grained scheme would spend on its own bookkeeping.
///
/// # Example
///
/// A hub on the in-memory store and the virtual host, as the engine's tests build it:
/// a client opens a polling session and connects to the main namespace.
///
/// ```
/// use std::sync::Arc;
///
/// use sio_core::eio::packet::{Data, Packet};
/// use sio_core::eio::request::TransportKind;
/// use sio_core::{App, Handshake, NamespaceDef};
/// use sio_engine::{Hub, MemoryStore, SimHost};
///
/// let app = App::new().namespace("/", NamespaceDef::new());
/// let host = Arc::new(SimHost::new(0));
/// let hub = Hub::new(app, MemoryStore::new(), host.clone());
///
/// let (sid, _open) = host.block_on(hub.handshake(TransportKind::Polling, Handshake::default())).unwrap().unwrap();
/// let connect = Packet::Message(Data::Text("0".to_owned()));
/// assert!(host.block_on(hub.receive(&sid, vec![connect])).unwrap());
///
/// // The session polls, so the CONNECT's answer waits in the store for its next GET.
/// let queued = host.block_on(hub.take_queued(&sid)).unwrap();
/// assert_eq!(queued.len(), 1);
/// ```
#[derive(Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
    rerun: bool,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// A store whose [`Store::update_session`] first applies the update to a copy it then
    /// throws away, as a store that compares and swaps (Redis) does when another update
    /// of the record lands between its read and its write: for tests of the code that
    /// updates, which must change nothing but the record it is handed.
    pub fn rerunning() -> Self {
        Self { rerun: true, ..Self::default() }
    }

    /// Every session open in the store (a process closing them all as it shuts down).
    pub fn session_ids(&self) -> Vec<String> {
        self.lock().sessions.keys().cloned().collect()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave a map half-updated in a way later
        // operations would misread, so a poisoned lock is still usable.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Socket records by namespace, then by socket id: found from two `&str` without building
/// a key, and a namespace's sockets (every broadcast to all of it) listed without passing
/// over, and comparing the namespace of, every other socket.
#[derive(Default)]
struct Sockets(HashMap<String, HashMap<String, Box<SocketRecord>>>);

impl Sockets {
    fn get(&self, nsp: &str, id: &str) -> Option<&SocketRecord> {
        self.0.get(nsp)?.get(id).map(|s| &**s)
    }

    fn get_mut(&mut self, nsp: &str, id: &str) -> Option<&mut SocketRecord> {
        self.0.get_mut(nsp)?.get_mut(id).map(|s| &mut **s)
    }

    fn insert(&mut self, record: SocketRecord) {
        self.0.entry(record.nsp.clone()).or_default().insert(record.id.clone(), Box::new(record));
    }

    fn remove(&mut self, nsp: &str, id: &str) -> Option<SocketRecord> {
        let of_nsp = self.0.get_mut(nsp)?;
        let record = of_nsp.remove(id)?;
        if of_nsp.is_empty() {
            self.0.remove(nsp);
        }
        Some(*record)
    }

    fn of(&self, nsp: &str) -> impl Iterator<Item = (&String, &SocketRecord)> {
        self.0.get(nsp).into_iter().flatten().map(|(id, s)| (id, &**s))
    }
}

fn key(nsp: &str, id: &str) -> (String, String) {
    (nsp.to_owned(), id.to_owned())
}

impl Inner {
    fn take_ack(&mut self, nsp: &str, socket: &str, id: u64) -> Option<PendingAck> {
        let key = key(nsp, socket);
        let acks = self.acks.get_mut(&key)?;
        let ack = acks.remove(&id)?;
        if acks.is_empty() {
            self.acks.remove(&key);
        }
        if let Some(at) = ack.deadline {
            self.ack_deadlines.remove(&(at, key.0, key.1, id));
        }
        Some(ack)
    }

    fn clear_deadline(&mut self, sid: &str) {
        if let Some(at) = self.deadline_of.remove(sid) {
            self.deadlines.remove(&(at, sid.to_owned()));
        }
    }

    fn join(&mut self, nsp: &str, id: &str, rooms: &[String]) {
        for room in rooms.iter().filter(|r| *r != id) {
            self.rooms.entry(key(nsp, room)).or_default().insert(id.to_owned());
        }
        let set = self.rooms_of.entry(key(nsp, id)).or_default();
        for room in rooms {
            if let Err(at) = set.binary_search(room) {
                set.insert(at, room.clone());
            }
        }
    }

    fn leave(&mut self, nsp: &str, id: &str, rooms: &[String]) {
        let k = key(nsp, id);
        if let Some(set) = self.rooms_of.get_mut(&k) {
            for room in rooms {
                if let Ok(at) = set.binary_search(room) {
                    set.remove(at);
                }
            }
            if set.is_empty() {
                self.rooms_of.remove(&k);
            }
        }
        for room in rooms.iter().filter(|r| *r != id) {
            let rk = key(nsp, room);
            if let Some(members) = self.rooms.get_mut(&rk) {
                members.remove(id);
                if members.is_empty() {
                    self.rooms.remove(&rk);
                }
            }
        }
    }

    /// The sockets in room `room` of `nsp`. A socket's own room is not kept in `rooms`
    /// (that would be a set of one, with its keys, per socket): a socket is in it while
    /// its own list of rooms says so.
    fn in_room<'a>(&'a self, nsp: &str, room: &'a String) -> impl Iterator<Item = &'a String> + 'a {
        let own = self.rooms_of.get(&key(nsp, room)).filter(|rs| rs.binary_search(room).is_ok()).map(|_| room);
        self.rooms.get(&key(nsp, room)).into_iter().flatten().chain(own)
    }

    fn members(&self, target: &Target) -> Vec<Member> {
        let member = |id: &String, s: &SocketRecord| Member { id: id.clone(), sid: s.sid.clone() };
        let excluded: HashSet<&String> = target.except.iter().flat_map(|r| self.in_room(&target.nsp, r)).collect();
        let wanted = |id: &String| !excluded.contains(id) && target.exclude.as_ref() != Some(id);
        if target.rooms.is_empty() {
            // The whole namespace: its records at hand, no look-up per member.
            return self.sockets.of(&target.nsp).filter(|(id, _)| wanted(id)).map(|(id, s)| member(id, s)).collect();
        }
        let mut seen: HashSet<_> = HashSet::default();
        target
            .rooms
            .iter()
            .flat_map(|r| self.in_room(&target.nsp, r))
            .filter(|id| wanted(id) && seen.insert(*id))
            .filter_map(|id| self.sockets.get(&target.nsp, id).map(|s| member(id, s)))
            .collect()
    }
}

type Res<T> = Result<T, StoreError>;

impl Store for MemoryStore {
    fn insert_session(&self, record: SessionRecord) -> impl Future<Output = Res<()>> + MaybeSend {
        self.lock().sessions.insert(record.eio.sid.clone(), Box::new(record));
        ready(Ok(()))
    }

    fn session_count(&self) -> impl Future<Output = Res<usize>> + MaybeSend {
        ready(Ok(self.lock().sessions.len()))
    }

    fn census(&self) -> impl Future<Output = Res<Census>> + MaybeSend {
        let inner = self.lock();
        let mut namespaces: Vec<(String, usize)> =
            inner.sockets.0.iter().map(|(nsp, sockets)| (nsp.clone(), sockets.len())).collect();
        namespaces.sort_unstable();
        ready(Ok(Census { clients: inner.sessions.len(), namespaces }))
    }

    fn update_session<R, F>(&self, sid: &str, mut f: F) -> impl Future<Output = Res<Option<R>>> + MaybeSend
    where
        R: MaybeSend,
        F: FnMut(&mut SessionRecord) -> R + MaybeSend,
    {
        ready(Ok(self.lock().sessions.get_mut(sid).map(|r| {
            if self.rerun {
                f(&mut r.clone());
            }
            f(r)
        })))
    }

    fn remove_session(&self, sid: &str) -> impl Future<Output = Res<Option<(SessionRecord, Vec<Packet>)>>> + MaybeSend {
        let mut inner = self.lock();
        let queued = inner.outbound.remove(sid).unwrap_or_default();
        inner.sealed.remove(sid);
        inner.clear_deadline(sid);
        ready(Ok(inner.sessions.remove(sid).map(|r| (*r, queued))))
    }

    fn insert_socket(&self, record: SocketRecord) -> impl Future<Output = Res<()>> + MaybeSend {
        self.lock().sockets.insert(record);
        ready(Ok(()))
    }

    fn socket(&self, nsp: &str, id: &str) -> impl Future<Output = Res<Option<SocketRecord>>> + MaybeSend {
        ready(Ok(self.lock().sockets.get(nsp, id).cloned()))
    }

    fn set_socket_data(
        &self,
        nsp: &str,
        id: &str,
        data: serde_json::Value,
    ) -> impl Future<Output = Res<bool>> + MaybeSend {
        let found = match self.lock().sockets.get_mut(nsp, id) {
            Some(s) => {
                s.data = data;
                true
            }
            None => false,
        };
        ready(Ok(found))
    }

    fn remove_socket(
        &self,
        nsp: &str,
        id: &str,
    ) -> impl Future<Output = Res<Option<(SocketRecord, Vec<String>)>>> + MaybeSend {
        let mut inner = self.lock();
        let rooms = inner.rooms_of.get(&key(nsp, id)).cloned().unwrap_or_default();
        inner.leave(nsp, id, &rooms);
        ready(Ok(inner.sockets.remove(nsp, id).map(|s| (s, rooms))))
    }

    fn join(&self, nsp: &str, id: &str, rooms: &[String], max: usize) -> impl Future<Output = Res<bool>> + MaybeSend {
        let mut inner = self.lock();
        if inner.sockets.get(nsp, id).is_none() {
            return ready(Ok(true));
        }
        let current = inner.rooms_of.get(&key(nsp, id));
        let new: BTreeSet<&String> =
            rooms.iter().filter(|r| current.is_none_or(|c| c.binary_search(r).is_err())).collect();
        if current.map_or(0, Vec::len) + new.len() > max {
            return ready(Ok(false));
        }
        inner.join(nsp, id, rooms);
        ready(Ok(true))
    }

    fn leave(&self, nsp: &str, id: &str, rooms: &[String]) -> impl Future<Output = Res<()>> + MaybeSend {
        self.lock().leave(nsp, id, rooms);
        ready(Ok(()))
    }

    fn rooms_of(&self, nsp: &str, id: &str) -> impl Future<Output = Res<Vec<String>>> + MaybeSend {
        ready(Ok(self.lock().rooms_of.get(&key(nsp, id)).cloned().unwrap_or_default()))
    }

    fn members(&self, target: &Target) -> impl Future<Output = Res<Vec<Member>>> + MaybeSend {
        ready(Ok(self.lock().members(target)))
    }

    fn push_outbound(
        &self,
        sid: &str,
        packets: &[Packet],
        max: usize,
    ) -> impl Future<Output = Res<Queued>> + MaybeSend {
        let mut inner = self.lock();
        if !inner.sessions.contains_key(sid) {
            return ready(Ok(Queued::Yes));
        }
        if inner.sealed.contains(sid) {
            return ready(Ok(Queued::Sealed));
        }
        let queue = inner.outbound.entry(sid.to_owned()).or_default();
        if queue.len() + packets.len() > max {
            return ready(Ok(Queued::Full));
        }
        queue.extend_from_slice(packets);
        ready(Ok(Queued::Yes))
    }

    fn take_outbound(&self, sid: &str) -> impl Future<Output = Res<Vec<Packet>>> + MaybeSend {
        ready(Ok(self.lock().outbound.remove(sid).unwrap_or_default()))
    }

    fn seal_outbound(&self, sid: &str) -> impl Future<Output = Res<Vec<Packet>>> + MaybeSend {
        let mut inner = self.lock();
        if inner.sessions.contains_key(sid) {
            inner.sealed.insert(sid.to_owned());
        }
        ready(Ok(inner.outbound.remove(sid).unwrap_or_default()))
    }

    fn set_deadline(&self, sid: &str, at: Option<u64>) -> impl Future<Output = Res<()>> + MaybeSend {
        let mut inner = self.lock();
        inner.clear_deadline(sid);
        if let Some(at) = at {
            if inner.sessions.contains_key(sid) {
                inner.deadlines.insert((at, sid.to_owned()));
                inner.deadline_of.insert(sid.to_owned(), at);
            }
        }
        ready(Ok(()))
    }

    fn due(&self, now: u64, lease: u64) -> impl Future<Output = Res<(Vec<String>, Option<u64>)>> + MaybeSend {
        let mut inner = self.lock();
        let due: Vec<String> =
            inner.deadlines.iter().take_while(|(at, _)| *at <= now).map(|(_, sid)| sid.clone()).collect();
        for sid in &due {
            inner.clear_deadline(sid);
            inner.deadlines.insert((now + lease, sid.clone()));
            inner.deadline_of.insert(sid.clone(), now + lease);
        }
        let next = inner.deadlines.first().map(|(at, _)| *at);
        ready(Ok((due, next)))
    }

    fn add_acks(&self, acks: Vec<PendingAck>, max: usize) -> impl Future<Output = Res<Vec<PendingAck>>> + MaybeSend {
        let mut inner = self.lock();
        let mut refused = Vec::new();
        for ack in acks {
            if inner.acks.get(&key(&ack.nsp, &ack.socket)).map_or(0, HashMap::len) >= max {
                refused.push(ack);
                continue;
            }
            if let Some(at) = ack.deadline {
                inner.ack_deadlines.insert((at, ack.nsp.clone(), ack.socket.clone(), ack.id));
            }
            inner.acks.entry(key(&ack.nsp, &ack.socket)).or_default().insert(ack.id, ack);
        }
        ready(Ok(refused))
    }

    fn take_ack(&self, nsp: &str, socket: &str, id: u64) -> impl Future<Output = Res<Option<PendingAck>>> + MaybeSend {
        ready(Ok(self.lock().take_ack(nsp, socket, id)))
    }

    fn due_acks(&self, now: u64) -> impl Future<Output = Res<(Vec<PendingAck>, Option<u64>)>> + MaybeSend {
        let mut inner = self.lock();
        let due: Vec<_> = inner.ack_deadlines.iter().take_while(|(at, ..)| *at <= now).cloned().collect();
        let acks = due.into_iter().filter_map(|(_, nsp, socket, id)| inner.take_ack(&nsp, &socket, id)).collect();
        let next = inner.ack_deadlines.first().map(|(at, ..)| *at);
        ready(Ok((acks, next)))
    }

    fn take_acks_of(&self, nsp: &str, socket: &str) -> impl Future<Output = Res<Vec<PendingAck>>> + MaybeSend {
        let mut inner = self.lock();
        let acks: Vec<PendingAck> = inner.acks.remove(&key(nsp, socket)).unwrap_or_default().into_values().collect();
        for ack in &acks {
            if let Some(at) = ack.deadline {
                inner.ack_deadlines.remove(&(at, ack.nsp.clone(), ack.socket.clone(), ack.id));
            }
        }
        ready(Ok(acks))
    }

    fn log_event(
        &self,
        entry: LogEntry,
        keep_since: u64,
        target: &Target,
    ) -> impl Future<Output = Res<Vec<Member>>> + MaybeSend {
        let mut inner = self.lock();
        while inner.log.front().is_some_and(|e| e.emitted_at < keep_since) {
            inner.log.pop_front();
        }
        inner.persisted.retain(|_, p| p.disconnected_at >= keep_since);
        inner.log.push_back(entry);
        ready(Ok(inner.members(target)))
    }

    fn persist_socket(&self, pid: &str, socket: PersistedSocket) -> impl Future<Output = Res<()>> + MaybeSend {
        self.lock().persisted.insert(pid.to_owned(), socket);
        ready(Ok(()))
    }

    fn restore_socket(
        &self,
        recovery: Recovery,
    ) -> impl Future<Output = Res<Option<(PersistedSocket, Vec<LogEntry>)>>> + MaybeSend {
        let mut inner = self.lock();
        let Some(socket) = inner.persisted.get(&recovery.pid) else { return ready(Ok(None)) };
        let at = inner.log.iter().position(|e| e.offset == recovery.offset);
        let Some(at) = at.filter(|_| socket.nsp == recovery.nsp && socket.disconnected_at >= recovery.not_before)
        else {
            return ready(Ok(None));
        };
        let missed =
            inner.log.iter().skip(at + 1).filter(|e| e.addressed_to(&socket.nsp, &socket.rooms)).cloned().collect();
        let Some(socket) = inner.persisted.remove(&recovery.pid) else { return ready(Ok(None)) };
        let record = socket.revive(&recovery.pid, &recovery.sid, recovery.handshake);
        inner.sockets.insert(record);
        inner.join(&socket.nsp, &socket.id, &socket.rejoined());
        ready(Ok(Some((socket, missed))))
    }
}
