//! The store on a Durable Object's SQLite storage.
//!
//! The SQL API is synchronous and the object runs one event at a time up to its next
//! await, so every operation here is atomic without a transaction, and its writes are
//! durable before the response or frame that follows it leaves the object (output gates).
//! Records are JSON text; the columns beside them are the keys the queries need.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::future::{ready, Future};
use std::rc::Rc;

use futures_util::future::join_all;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sio_core::eio::packet::Packet;
use sio_core::maybe::MaybeSend;
use sio_core::{Census, Target};
use sio_engine::{
    LogEntry, Member, PendingAck, PersistedSocket, Queued, Recovery, SessionRecord, SocketRecord, Store, StoreError,
};
use tracing::{error, warn};
use worker::{SqlCursor, SqlStorage, SqlStorageValue};

use crate::clock::now_ms;
use crate::pool::{Call, Pool, PoolError};

mod away;
mod seam;

use away::pool_error;

const SCHEMA: &str = include_str!("schema.sql");

/// How long a socket restored here from another object is shielded from live deliveries
/// of the events it got among those it missed: the handover's calls still under way when
/// it ends take far less.
const REPLAYED_FOR_MS: u64 = 30_000;

/// SQLite caps bound parameters; targets name few rooms, but a long list must not fail.
const MAX_ROOMS: usize = 64;

/// What a run of operations cost in storage: rows read and written, as billed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Usage {
    pub statements: u64,
    pub rows_read: u64,
    pub rows_written: u64,
}

/// One object's tables, and the pool of objects when sessions are spread over several:
/// operations on another object's sockets then go to that object.
pub struct SqlStore {
    sql: SqlStorage,
    usage: Cell<Usage>,
    pool: Option<Rc<Pool>>,
    /// How many sockets this object is taking back from another object for recovery
    /// right now: while it is, events reaching it are logged here (see
    /// [`SqlStore::members_logging`]). Kept in memory: an object is not evicted while
    /// a request is under way.
    restoring: Rc<Cell<usize>>,
    /// The offsets of the missed events each socket restored here lately was sent (few:
    /// a list). An event that reached this object during the handover was logged here
    /// and sent among them, and may still be passed on to the socket once it is back (by
    /// the object that handed it over, or the one that minted it): that delivery is
    /// dropped, not sent twice. Kept in memory, like `restoring`: the window is that of
    /// requests under way.
    replayed: Rc<RefCell<Vec<Replayed>>>,
    /// How long a disconnected socket is kept for recovery (0 without recovery): how often
    /// a socket minted here that went to another object is checked on.
    window: u64,
    /// The earliest `due` in `away`, shared by this object's handles: only this object
    /// writes the table, so it is read once on open rather than by every event's
    /// [`SqlStore::next_deadline`]. Never later than the table's.
    away_due: Rc<Cell<Option<u64>>>,
}

type Res<T> = Result<T, StoreError>;

fn unavailable(e: worker::Error) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

fn encode<T: Serialize>(value: &T) -> Res<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt { key: "encode".into(), reason: e.to_string() })
}

fn decode<T: DeserializeOwned>(key: &str, text: &str) -> Res<T> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt { key: key.to_owned(), reason: e.to_string() })
}

fn text(s: &str) -> SqlStorageValue {
    SqlStorageValue::from(s)
}

/// Integers reach SQLite as JavaScript numbers: milliseconds and ack ids stay far below
/// 2^53, where numbers are still exact.
fn int(n: u64) -> SqlStorageValue {
    SqlStorageValue::Integer(n as i64)
}

#[derive(Deserialize)]
struct MemberRow {
    id: String,
    sid: String,
}

#[derive(Deserialize)]
struct AtRow {
    at: Option<f64>,
}

#[derive(Deserialize)]
struct CountRow {
    n: f64,
}

#[derive(Deserialize)]
struct NamespaceRow {
    nsp: String,
    n: f64,
}

/// A polling queue's length, and whether the upgrade sealed it.
#[derive(Deserialize, Default, Clone, Copy)]
struct QueueRow {
    n: f64,
    sealed: f64,
}

/// What a socket restored here was sent among the events it missed (see `replayed`).
struct Replayed {
    id: String,
    offsets: Vec<String>,
    until: u64,
}

#[derive(Deserialize)]
struct EntryRow {
    seq: f64,
    entry: String,
}

impl SqlStore {
    /// Opens the store, creating its tables on an object's first run. Without them the
    /// object can serve nothing: every operation then fails with a store error, and the
    /// log says why.
    pub fn open(sql: SqlStorage, pool: Option<Rc<Pool>>, window: u64) -> Self {
        let store = Self {
            sql,
            usage: Cell::default(),
            pool,
            window,
            away_due: Rc::default(),
            restoring: Rc::default(),
            replayed: Rc::default(),
        };
        if let Err(e) = store.exec(SCHEMA, vec![]).and_then(|()| store.add_away_due()) {
            error!(error = %e, "cannot create the tables");
        }
        if let Err(e) = store.read_away_due() {
            error!(error = %e, "cannot read when sockets gone to other objects are due a check");
        }
        store
    }

    fn read_away_due(&self) -> Res<()> {
        let rows: Vec<AtRow> = self.rows("SELECT MIN(due) AS at FROM away", vec![])?;
        self.away_due.set(rows.first().and_then(|r| r.at).map(|at| at as u64));
        Ok(())
    }

    /// Gives `away` its `due` column in an object whose tables predate it: its rows are
    /// then checked at the next alarm.
    fn add_away_due(&self) -> Res<()> {
        let columns = self.run("PRAGMA table_info(away)", vec![])?;
        let has_due =
            columns.raw().any(|c| c.is_ok_and(|c| matches!(c.get(1), Some(SqlStorageValue::String(n)) if n == "due")));
        self.count(&columns);
        match has_due {
            true => Ok(()),
            false => self.exec("ALTER TABLE away ADD COLUMN due INTEGER NOT NULL DEFAULT 0", vec![]),
        }
    }

    /// Another handle on the same tables, counting its own usage.
    pub fn share(&self) -> Self {
        Self {
            sql: self.sql.clone(),
            usage: Cell::default(),
            pool: self.pool.clone(),
            restoring: self.restoring.clone(),
            replayed: self.replayed.clone(),
            window: self.window,
            away_due: self.away_due.clone(),
        }
    }

    /// Storage used since the last call.
    #[cfg(feature = "inspect")]
    pub fn take_usage(&self) -> Usage {
        self.usage.take()
    }

    fn run(&self, query: &str, bindings: Vec<SqlStorageValue>) -> Res<SqlCursor> {
        let cursor = self.sql.exec(query, bindings).map_err(unavailable)?;
        Ok(cursor)
    }

    /// Runs a statement and drains it, counting what it cost.
    fn rows<T: DeserializeOwned>(&self, query: &str, bindings: Vec<SqlStorageValue>) -> Res<Vec<T>> {
        let cursor = self.run(query, bindings)?;
        let rows = cursor.to_array::<T>().map_err(|e| StoreError::Corrupt { key: query.into(), reason: e.to_string() });
        self.count(&cursor);
        rows
    }

    /// Runs a statement that returns one text column, and drains it. Read by position:
    /// a row type per query would compile a deserializer per query.
    fn texts(&self, query: &str, bindings: Vec<SqlStorageValue>) -> Res<Vec<String>> {
        let cursor = self.run(query, bindings)?;
        let texts = cursor
            .raw()
            .map(|row| match row.map_err(unavailable)?.into_iter().next() {
                Some(SqlStorageValue::String(text)) => Ok(text),
                _ => Err(StoreError::Corrupt { key: query.into(), reason: "not a text column".into() }),
            })
            .collect();
        self.count(&cursor);
        texts
    }

    fn exec(&self, query: &str, bindings: Vec<SqlStorageValue>) -> Res<()> {
        let cursor = self.run(query, bindings)?;
        // Iterating runs the statement to its end.
        for row in cursor.clone() {
            row.map_err(unavailable)?;
        }
        self.count(&cursor);
        Ok(())
    }

    fn count(&self, cursor: &SqlCursor) {
        let mut usage = self.usage.get();
        usage.statements += 1;
        usage.rows_read += cursor.rows_read() as u64;
        usage.rows_written += cursor.rows_written() as u64;
        self.usage.set(usage);
    }

    fn session(&self, sid: &str) -> Res<Option<SessionRecord>> {
        let rows = self.texts("SELECT record FROM sessions WHERE sid = ?", vec![text(sid)])?;
        rows.first().map(|r| decode(sid, r)).transpose()
    }

    fn save_session(&self, record: &SessionRecord) -> Res<()> {
        let deadline = record.deadline().map(int).unwrap_or(SqlStorageValue::Null);
        let sid = record.eio.sid.as_str();
        // The deadline column is the sweeper's: a record update leaves it alone.
        self.exec(
            "INSERT INTO sessions (sid, deadline, record) VALUES (?, ?, ?)
             ON CONFLICT (sid) DO UPDATE SET record = excluded.record",
            vec![text(sid), deadline, text(&encode(record)?)],
        )
    }

    pub fn socket_record(&self, nsp: &str, id: &str) -> Res<Option<SocketRecord>> {
        let rows = self.texts("SELECT record FROM sockets WHERE nsp = ? AND id = ?", vec![text(nsp), text(id)])?;
        rows.first().map(|r| decode(id, r)).transpose()
    }

    pub fn rooms(&self, nsp: &str, id: &str) -> Res<Vec<String>> {
        self.texts("SELECT room FROM rooms WHERE nsp = ? AND id = ? ORDER BY room", vec![text(nsp), text(id)])
    }

    pub fn leave_rooms(&self, nsp: &str, id: &str, rooms: &[String]) -> Res<()> {
        for chunk in rooms.chunks(MAX_ROOMS) {
            let mut bindings = vec![text(nsp), text(id)];
            bindings.extend(chunk.iter().map(|r| text(r)));
            self.exec(
                &format!("DELETE FROM rooms WHERE nsp = ? AND id = ? AND room IN ({})", placeholders(chunk.len())),
                bindings,
            )?;
        }
        Ok(())
    }

    fn ids_in(&self, nsp: &str, rooms: &[String]) -> Res<Vec<String>> {
        let mut ids = Vec::new();
        for chunk in rooms.chunks(MAX_ROOMS) {
            let mut bindings = vec![text(nsp)];
            bindings.extend(chunk.iter().map(|r| text(r)));
            ids.extend(self.texts(
                &format!("SELECT DISTINCT id FROM rooms WHERE nsp = ? AND room IN ({})", placeholders(chunk.len())),
                bindings,
            )?);
        }
        Ok(ids)
    }

    pub fn members_of(&self, target: &Target) -> Res<Vec<Member>> {
        let all: Vec<MemberRow> = if target.rooms.is_empty() {
            self.rows("SELECT id, sid FROM sockets WHERE nsp = ?", vec![text(&target.nsp)])?
        } else {
            let mut seen = HashSet::new();
            let ids: Vec<String> =
                self.ids_in(&target.nsp, &target.rooms)?.into_iter().filter(|id| seen.insert(id.clone())).collect();
            let mut rows = Vec::with_capacity(ids.len());
            for chunk in ids.chunks(MAX_ROOMS) {
                let mut bindings = vec![text(&target.nsp)];
                bindings.extend(chunk.iter().map(|r| text(r)));
                rows.extend(self.rows::<MemberRow>(
                    &format!("SELECT id, sid FROM sockets WHERE nsp = ? AND id IN ({})", placeholders(chunk.len())),
                    bindings,
                )?);
            }
            rows
        };
        let excluded: HashSet<String> = match target.except.is_empty() {
            true => Default::default(),
            false => self.ids_in(&target.nsp, &target.except)?.into_iter().collect(),
        };
        Ok(all
            .into_iter()
            .filter(|m| !excluded.contains(&m.id) && target.exclude.as_ref() != Some(&m.id))
            .map(|m| Member { id: m.id, sid: m.sid })
            .collect())
    }

    fn take_ack_row(&self, nsp: &str, socket: &str, id: u64) -> Res<Option<PendingAck>> {
        let rows = self.texts(
            "DELETE FROM acks WHERE nsp = ? AND socket = ? AND id = ? RETURNING record",
            vec![text(nsp), text(socket), int(id)],
        )?;
        rows.first().map(|r| decode(socket, r)).transpose()
    }

    /// Takes a session's polling queue whole.
    fn take_queue(&self, sid: &str) -> Res<Vec<Packet>> {
        let rows = self.texts("DELETE FROM outbound WHERE sid = ? RETURNING packet", vec![text(sid)])?;
        rows.iter().map(|p| decode(sid, p)).collect()
    }

    /// Rows a query counts (`SELECT COUNT(*) AS n ...`).
    fn count_of(&self, query: &str, bindings: Vec<SqlStorageValue>) -> Res<usize> {
        let rows: Vec<CountRow> = self.rows(query, bindings)?;
        Ok(rows.first().map_or(0, |r| r.n as usize))
    }

    /// Joins `rooms` unless the socket would then be in more than `max` (`max_rooms`):
    /// then it joins none. Storage calls of one object run one at a time, so counting
    /// first and inserting after is atomic here.
    pub fn join_local(&self, nsp: &str, id: &str, rooms: &[String], max: usize) -> Res<bool> {
        let current = self.rooms(nsp, id)?;
        // Owned, like every other list of rooms sorted here: one sort compiled for them all.
        let mut added: Vec<String> = rooms.iter().filter(|r| !current.contains(r)).cloned().collect();
        added.sort();
        added.dedup();
        if current.len() + added.len() > max {
            return Ok(false);
        }
        for room in added {
            // Only a socket that exists joins: the same guard as the other backends.
            self.exec(
                "INSERT OR IGNORE INTO rooms (nsp, room, id) SELECT ?, ?, ? WHERE EXISTS
                 (SELECT 1 FROM sockets WHERE nsp = ? AND id = ?)",
                vec![text(nsp), text(&room), text(id), text(nsp), text(id)],
            )?;
        }
        Ok(true)
    }

    fn insert_local(&self, record: &SocketRecord) -> Res<()> {
        self.exec(
            "INSERT OR REPLACE INTO sockets (nsp, id, sid, record) VALUES (?, ?, ?, ?)",
            vec![text(&record.nsp), text(&record.id), text(&record.sid), text(&encode(record)?)],
        )
    }

    pub fn set_data_local(&self, nsp: &str, id: &str, data: serde_json::Value) -> Res<bool> {
        let Some(mut record) = self.socket_record(nsp, id)? else { return Ok(false) };
        record.data = data;
        self.exec(
            "UPDATE sockets SET record = ? WHERE nsp = ? AND id = ?",
            vec![text(&encode(&record)?), text(nsp), text(id)],
        )?;
        Ok(true)
    }

    /// Whether this object keeps socket `id` of `nsp`. A socket recovered here from
    /// another object keeps the id that object minted: what is done to it is done here.
    fn holds(&self, nsp: &str, id: &str) -> bool {
        let n = self.count_of("SELECT COUNT(*) AS n FROM sockets WHERE nsp = ? AND id = ?", vec![text(nsp), text(id)]);
        n.is_ok_and(|n| n > 0)
    }

    /// This object's members of `target`, for another object. With `log`, an event that
    /// object logged for recovery: kept in this object's log too when a socket here, live
    /// or kept for recovery, may be one it is for, since a socket recovers from the log of
    /// the object that kept it.
    pub fn members_logging(&self, target: &Target, log: Option<(LogEntry, u64)>) -> Res<Vec<Member>> {
        let members = self.not_replayed(self.members_of(target)?, log.as_ref());
        if let Some((entry, keep_since)) = log {
            let kept = || self.count_of("SELECT COUNT(*) AS n FROM persisted", vec![]);
            if !members.is_empty() || self.restoring.get() > 0 || kept()? > 0 {
                self.append_local(&entry, keep_since)?;
            }
        }
        Ok(members)
    }

    fn append_local(&self, entry: &LogEntry, keep_since: u64) -> Res<()> {
        // The entries older than `keep_since` from the start of the log up to the first
        // newer one, found in `seq` order: a condition on `emitted_at` alone reads the
        // whole log (an index on it would cost a row written per entry). Entries come in
        // time order but for those other objects logged a moment apart, which then stay
        // a moment longer.
        self.exec(
            "DELETE FROM log WHERE seq < COALESCE((SELECT seq FROM log WHERE emitted_at >= ? ORDER BY seq LIMIT 1),
             9007199254740991)",
            vec![int(keep_since)],
        )?;
        self.exec("DELETE FROM persisted WHERE disconnected_at < ?", vec![int(keep_since)])?;
        // Once: an event to several sockets recovered here from other objects reaches this
        // object through each object that minted one.
        self.exec(
            "INSERT INTO log (offset, emitted_at, entry) SELECT ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM log WHERE offset = ?)",
            vec![text(&entry.offset), int(entry.emitted_at), text(&encode(entry)?), text(&entry.offset)],
        )
    }

    /// Takes the socket kept under `pid` if it was kept for `nsp`, at or after
    /// `not_before`, and this object's log still holds `offset`, with the events it
    /// missed since. The row goes in the same synchronous step it is read, so a pid
    /// recovers at most once.
    pub fn restore_local(
        &self,
        pid: &str,
        offset: &str,
        not_before: u64,
        nsp: &str,
    ) -> Res<Option<(PersistedSocket, Vec<LogEntry>)>> {
        let rows = self.texts("SELECT record FROM persisted WHERE pid = ?", vec![text(pid)])?;
        let Some(row) = rows.first() else { return Ok(None) };
        let socket: PersistedSocket = decode(pid, row)?;
        if socket.nsp != nsp || socket.disconnected_at < not_before {
            return Ok(None);
        }
        let start: Vec<EntryRow> =
            self.rows("SELECT seq, entry FROM log WHERE offset = ? LIMIT 1", vec![text(offset)])?;
        let Some(start) = start.first() else { return Ok(None) };
        self.exec("DELETE FROM persisted WHERE pid = ?", vec![text(pid)])?;
        let missed = self.logged_for(&socket, start.seq as u64)?;
        Ok(Some((socket, missed)))
    }

    /// The entries of this object's log after `seq` that `socket` would have received.
    fn logged_for(&self, socket: &PersistedSocket, seq: u64) -> Res<Vec<LogEntry>> {
        let later: Vec<EntryRow> =
            self.rows("SELECT seq, entry FROM log WHERE seq > ? ORDER BY seq", vec![int(seq)])?;
        later
            .iter()
            .map(|r| decode::<LogEntry>("log", &r.entry))
            .filter(|e| e.as_ref().map_or(true, |e| e.addressed_to(&socket.nsp, &socket.rooms)))
            .collect()
    }

    /// `members` but those restored here that were sent `log`'s event among what they
    /// missed (see `replayed`).
    fn not_replayed(&self, mut members: Vec<Member>, log: Option<&(LogEntry, u64)>) -> Vec<Member> {
        let mut replayed = self.replayed.borrow_mut();
        let Some((entry, _)) = log.filter(|_| !replayed.is_empty()) else { return members };
        let now = now_ms();
        replayed.retain(|r| r.until > now);
        members.retain(|m| !replayed.iter().any(|r| r.id == m.id && r.offsets.contains(&entry.offset)));
        members
    }

    /// The last sequence number of this object's log (0 when it is empty).
    fn log_end(&self) -> Res<u64> {
        let rows: Vec<AtRow> = self.rows("SELECT MAX(seq) AS at FROM log", vec![])?;
        Ok(rows.first().and_then(|r| r.at).map_or(0, |at| at as u64))
    }

    /// Records `acks`, except for a socket that already awaits `max` (`max_pending_acks`):
    /// those are handed back.
    pub fn add_acks_local(&self, acks: &[PendingAck], max: usize) -> Res<Vec<PendingAck>> {
        let mut refused = Vec::new();
        for ack in acks {
            let awaited = self.count_of(
                "SELECT COUNT(*) AS n FROM acks WHERE nsp = ? AND socket = ?",
                vec![text(&ack.nsp), text(&ack.socket)],
            )?;
            if awaited >= max {
                refused.push(ack.clone());
                continue;
            }
            self.exec(
                "INSERT OR REPLACE INTO acks (nsp, socket, id, deadline, record) VALUES (?, ?, ?, ?, ?)",
                vec![
                    text(&ack.nsp),
                    text(&ack.socket),
                    int(ack.id),
                    ack.deadline.map(int).unwrap_or(SqlStorageValue::Null),
                    text(&encode(ack)?),
                ],
            )?;
        }
        Ok(refused)
    }

    /// The earliest deadline later than `after` of any session, awaited acknowledgement or
    /// check of a socket gone to another object: when the alarm must next wake the object
    /// (`after` passes over the deadlines a failed alarm left, see `EdgeHost::alarm_done`).
    pub fn next_deadline(&self, after: u64) -> Res<Option<u64>> {
        let rows: Vec<AtRow> = self.rows(
            "SELECT MIN(at) AS at FROM (SELECT MIN(deadline) AS at FROM sessions WHERE deadline > ?
             UNION ALL SELECT MIN(deadline) FROM acks WHERE deadline > ?)",
            vec![int(after), int(after)],
        )?;
        let at = rows.first().and_then(|r| r.at).map(|at| at as u64);
        Ok(earliest(at, self.away_due.get().filter(|due| *due > after)))
    }

    /// Keeps what a closed polling session's next GET is still owed, until `expires`.
    pub fn keep_farewell(&self, sid: &str, packets: &[Packet], now: u64, expires: u64) -> Res<()> {
        self.exec("DELETE FROM farewells WHERE expires <= ?", vec![int(now)])?;
        self.exec(
            "INSERT OR REPLACE INTO farewells (sid, expires, packets) VALUES (?, ?, ?)",
            vec![text(sid), int(expires), text(&encode(&packets)?)],
        )
    }

    /// Takes what a closed session's GET is owed, if anything.
    pub fn take_farewell(&self, sid: &str, now: u64) -> Res<Option<Vec<Packet>>> {
        let rows = self.texts(
            "DELETE FROM farewells WHERE sid = ? AND expires > ? RETURNING packets",
            vec![text(sid), int(now)],
        )?;
        rows.first().map(|r| decode(sid, r)).transpose()
    }

    /// The sessions this object holds: `max_sessions` bounds each object (counting the
    /// whole pool would cost a sub-request per object on every handshake), and the
    /// hibernation test reads it.
    pub fn sessions_here(&self) -> Res<usize> {
        self.count_of("SELECT COUNT(*) AS n FROM sessions", vec![])
    }

    /// This object's sessions, and its sockets in each namespace.
    pub fn census_here(&self) -> Res<Census> {
        let rows: Vec<NamespaceRow> =
            self.rows("SELECT nsp, COUNT(*) AS n FROM sockets GROUP BY nsp ORDER BY nsp", vec![])?;
        let namespaces = rows.into_iter().map(|r| (r.nsp, r.n as usize)).collect();
        Ok(Census { clients: self.sessions_here()?, namespaces })
    }
}

/// The earlier of two times, either of which may be unset.
pub fn earliest(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}
