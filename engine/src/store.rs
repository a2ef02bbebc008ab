//! The store seam: where the durable facts of every session live.

use std::future::Future;

use sio_core::eio::packet::Packet;
use sio_core::maybe::{MaybeSend, MaybeSync};
use sio_core::Target;
use thiserror::Error;

use crate::record::{LogEntry, Member, PendingAck, PersistedSocket, Recovery, SessionRecord, SocketRecord};

/// What became of packets offered to a polling session's queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queued {
    /// Queued (or dropped, for a session the store does not know).
    Yes,
    /// Refused whole: the queue would hold more than `max_buffered_packets`.
    Full,
    /// Refused: the session has moved to a WebSocket and its queue was sealed. Whoever
    /// offered them delivers them to the WebSocket instead.
    Sealed,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum StoreError {
    #[error("store unavailable: {0}")]
    Unavailable(String),
    #[error("corrupt record under {key}: {reason}")]
    Corrupt { key: String, reason: String },
}

/// Everything a runtime keeps about sessions, sockets and rooms.
///
/// Updates take closures so each backend can make them atomic its own way (a lock in
/// memory, a transaction elsewhere); a closure may run more than once, so it must only
/// touch the record it is given.
pub trait Store: MaybeSend + MaybeSync + 'static {
    fn insert_session(&self, record: SessionRecord) -> impl Future<Output = Result<(), StoreError>> + MaybeSend;

    /// How many sessions are open, for `max_sessions`. It may lag by the sessions being
    /// opened or closed at that moment.
    fn session_count(&self) -> impl Future<Output = Result<usize, StoreError>> + MaybeSend;

    /// Applies `f` to the session; `None` when there is no such session. `f` may run more
    /// than once, each time on a fresh copy of the record (a store that compares and swaps
    /// runs it again when the record changed under it), so it must change nothing but the
    /// record it is handed: what it moves out of its captures is gone for the next run.
    fn update_session<R, F>(&self, sid: &str, f: F) -> impl Future<Output = Result<Option<R>, StoreError>> + MaybeSend
    where
        R: MaybeSend,
        F: FnMut(&mut SessionRecord) -> R + MaybeSend;

    /// Removes the session with its deadline; returns it with the packets still queued for
    /// it, which a parked poll delivers before the close.
    #[allow(clippy::type_complexity)]
    fn remove_session(
        &self,
        sid: &str,
    ) -> impl Future<Output = Result<Option<(SessionRecord, Vec<Packet>)>, StoreError>> + MaybeSend;

    fn insert_socket(&self, record: SocketRecord) -> impl Future<Output = Result<(), StoreError>> + MaybeSend;

    fn socket(&self, nsp: &str, id: &str)
        -> impl Future<Output = Result<Option<SocketRecord>, StoreError>> + MaybeSend;

    fn set_socket_data(
        &self,
        nsp: &str,
        id: &str,
        data: serde_json::Value,
    ) -> impl Future<Output = Result<bool, StoreError>> + MaybeSend;

    /// Removes the socket and its room memberships, returning both.
    fn remove_socket(
        &self,
        nsp: &str,
        id: &str,
    ) -> impl Future<Output = Result<Option<(SocketRecord, Vec<String>)>, StoreError>> + MaybeSend;

    /// Adds the socket to `rooms`, unless it would then be in more than `max` rooms: then
    /// it joins none of them and the answer is `false` (`max_rooms`, atomic per socket).
    fn join(
        &self,
        nsp: &str,
        id: &str,
        rooms: &[String],
        max: usize,
    ) -> impl Future<Output = Result<bool, StoreError>> + MaybeSend;

    fn leave(&self, nsp: &str, id: &str, rooms: &[String]) -> impl Future<Output = Result<(), StoreError>> + MaybeSend;

    /// The socket's rooms, sorted.
    fn rooms_of(&self, nsp: &str, id: &str) -> impl Future<Output = Result<Vec<String>, StoreError>> + MaybeSend;

    /// The sockets a target designates, each once.
    fn members(&self, target: &Target) -> impl Future<Output = Result<Vec<Member>, StoreError>> + MaybeSend;

    /// Queues packets for a polling session, unless its queue would then hold more than
    /// `max` ([`Queued::Full`]: nothing is queued) or is sealed. An unknown session queues
    /// nothing and answers [`Queued::Yes`].
    fn push_outbound(
        &self,
        sid: &str,
        packets: &[Packet],
        max: usize,
    ) -> impl Future<Output = Result<Queued, StoreError>> + MaybeSend;

    /// Takes every queued packet of a polling session.
    fn take_outbound(&self, sid: &str) -> impl Future<Output = Result<Vec<Packet>, StoreError>> + MaybeSend;

    /// Takes every queued packet of a session that has just moved to a WebSocket, and
    /// seals its queue for good, in one step. Without the seal, an instance that found no
    /// WebSocket a moment before the upgrade would queue packets after the flush, where no
    /// one would ever read them; sealed, it is told to deliver them to the WebSocket.
    fn seal_outbound(&self, sid: &str) -> impl Future<Output = Result<Vec<Packet>, StoreError>> + MaybeSend;

    /// Sets (or with `None` clears) when the session must next be stepped.
    fn set_deadline(&self, sid: &str, at: Option<u64>) -> impl Future<Output = Result<(), StoreError>> + MaybeSend;

    /// Claims the sessions whose deadline is at or before `now`, and returns the earliest
    /// later deadline. A claimed deadline moves to `now + lease`, so that of several
    /// instances sweeping one store exactly one steps each session, and if that one dies
    /// before stepping it (which sets its next deadline) another does after the lease.
    fn due(
        &self,
        now: u64,
        lease: u64,
    ) -> impl Future<Output = Result<(Vec<String>, Option<u64>), StoreError>> + MaybeSend;

    /// Records acknowledgements awaited from clients, except for a socket that already
    /// awaits `max` (`max_pending_acks`): those are handed back, not recorded.
    fn add_acks(
        &self,
        acks: Vec<PendingAck>,
        max: usize,
    ) -> impl Future<Output = Result<Vec<PendingAck>, StoreError>> + MaybeSend;

    /// Takes acknowledgement `id` awaited from socket `socket`, if it still is.
    fn take_ack(
        &self,
        nsp: &str,
        socket: &str,
        id: u64,
    ) -> impl Future<Output = Result<Option<PendingAck>, StoreError>> + MaybeSend;

    /// Takes the acknowledgements whose deadline is at or before `now`, and returns the
    /// earliest later deadline.
    fn due_acks(
        &self,
        now: u64,
    ) -> impl Future<Output = Result<(Vec<PendingAck>, Option<u64>), StoreError>> + MaybeSend;

    /// Takes every acknowledgement still awaited from a socket that is gone.
    fn take_acks_of(
        &self,
        nsp: &str,
        socket: &str,
    ) -> impl Future<Output = Result<Vec<PendingAck>, StoreError>> + MaybeSend;

    /// Appends an event to the recovery log, dropping entries emitted before
    /// `keep_since` (and sockets kept since before then), and returns the sockets its
    /// target designates (as [`Store::members`]), in one step with respect
    /// to [`Store::restore_socket`]: a socket being recovered either finds the event
    /// among those it missed or is among its members, never neither. A backend whose log
    /// is not one for all (a Durable Object's) also logs the event where the target's
    /// other sockets are kept, so that a socket recovered anywhere finds what it missed.
    fn log_event(
        &self,
        entry: LogEntry,
        keep_since: u64,
        target: &Target,
    ) -> impl Future<Output = Result<Vec<Member>, StoreError>> + MaybeSend;

    /// Keeps a disconnected socket for recovery under its private id.
    fn persist_socket(
        &self,
        pid: &str,
        socket: PersistedSocket,
    ) -> impl Future<Output = Result<(), StoreError>> + MaybeSend;

    /// Takes the socket kept under `recovery.pid` back if it was kept for
    /// `recovery.nsp`, at or after `recovery.not_before`, and the log still holds
    /// `recovery.offset`; puts it back in service on `recovery.sid` (its record, its
    /// rooms and its own id room) and returns it with the events it missed since. Taking
    /// it, re-joining and reading the log are one step with respect to
    /// [`Store::log_event`], so that no event falls between what it missed and what
    /// reaches it live, and a kept socket comes back at most once.
    fn restore_socket(
        &self,
        recovery: Recovery,
    ) -> impl Future<Output = Result<Option<(PersistedSocket, Vec<LogEntry>)>, StoreError>> + MaybeSend;
}
