//! The Redis store: the production backend that lets several processes (or Lambda
//! invocations) serve one application with no sticky sessions.
//!
//! # Who this crate is for
//!
//! An application does not use it directly. The native runtime uses it when told to with
//! `sio_server::Server::redis(url, prefix)`, and the Lambda runtime (`sio-lambda`) always
//! keeps its state here. For a runtime author, [`RedisStore`] is the entry point: a
//! [`Store`] to build a [`Hub`](sio_engine::Hub) on, with [`RedisStore::key`] and
//! [`RedisStore::connection`] for the runtime's own keys beside the store's.
//!
//! # How it keeps state
//!
//! Every record is JSON under a configurable prefix. Multi-key changes go in one MULTI
//! or one Lua script, so a crash between two writes never leaves half a change. Most
//! store calls are one round trip. Those that need a record to name the keys they change
//! (joining, leaving, removing or restoring a socket) read it first, then change
//! everything in one step. Read-modify-write updates of a record read it, run the
//! caller's closure, and write it back only if it changed and nobody else changed it
//! meanwhile (a compare-and-set script, retried on conflict).
#![warn(missing_docs)]

use std::future::Future;
use std::time::Duration;

use redis::{AsyncCommands, ScriptInvocation};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use sio_core::eio::packet::Packet;
use sio_core::maybe::MaybeSend;
use sio_core::{Census, Target};
use tracing::warn;

mod connection;
mod scripts;

pub use connection::Connection;
use scripts::*;

use sio_engine::{
    LogEntry, Member, PendingAck, PersistedSocket, Queued, Recovery, SessionRecord, SocketRecord, Store, StoreError,
};

/// How often a read-modify-write is retried when another writer got there first.
const MAX_CAS_RETRIES: usize = 16;

/// Where the store's Redis is and how it names and ages its keys.
///
/// Start from [`RedisConfig::new`] and change the fields you need.
///
/// # Example
///
/// ```no_run
/// use std::time::Duration;
///
/// use sio_redis::{RedisConfig, RedisStore};
///
/// # async fn connect() -> Result<(), sio_engine::StoreError> {
/// let config = RedisConfig {
///     prefix: "sio:chat:".to_owned(),
///     ttl: Duration::from_secs(3600),
///     ..RedisConfig::new("redis://127.0.0.1:6379/")
/// };
/// let store = RedisStore::connect(config).await?;
/// # let _ = store;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct RedisConfig {
    /// The Redis URL, e.g. `redis://host:port/` (what the `redis` crate accepts).
    pub url: String,
    /// Prepended to every key, so that several applications can share one Redis.
    pub prefix: String,
    /// Abandoned records expire after this long without a write.
    pub ttl: Duration,
}

impl RedisConfig {
    /// The Redis at `url`, with the prefix `sio:`, and abandoned records expiring two
    /// hours after their last write.
    pub fn new(url: impl Into<String>) -> Self {
        Self { url: url.into(), prefix: "sio:".to_owned(), ttl: Duration::from_secs(2 * 3600) }
    }
}

/// The [`Store`] in Redis, shared by every process or Lambda invocation of a
/// deployment. Cheap to clone: clones share one connection.
///
/// # Example
///
/// A runtime connects with a URL and a key prefix, then builds the hub on the store with
/// its own [`Host`](sio_engine::Host):
///
/// ```no_run
/// use sio_core::App;
/// use sio_engine::{Host, Hub, StoreError};
/// use sio_redis::{RedisConfig, RedisStore};
///
/// async fn hub<H: Host>(app: App, host: H) -> Result<Hub<RedisStore, H>, StoreError> {
///     let config = RedisConfig { prefix: "sio:chat:".to_owned(), ..RedisConfig::new("redis://127.0.0.1:6379/") };
///     let store = RedisStore::connect(config).await?;
///     Ok(Hub::new(app, store, host))
/// }
/// ```
#[derive(Clone)]
pub struct RedisStore {
    conn: Connection,
    prefix: String,
    ttl_ms: u64,
}

type Res<T> = Result<T, StoreError>;

/// A failed Redis call as the store reports it: unreachable or refused (also for the
/// Lambda runtime's own Redis bookkeeping).
pub fn unavailable(e: redis::RedisError) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

fn decode<T: DeserializeOwned>(key: &str, json: &str) -> Res<T> {
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt { key: key.to_owned(), reason: e.to_string() })
}

fn encode<T: Serialize>(value: &T) -> String {
    // The records are plain data: serializing them to JSON cannot fail.
    serde_json::to_string(value).unwrap_or_default()
}

impl RedisStore {
    /// Connects (the connection manager reconnects by itself after a Redis restart).
    pub async fn connect(config: RedisConfig) -> Res<Self> {
        let client = redis::Client::open(config.url.as_str()).map_err(unavailable)?;
        let conn = Connection::open(&client).await.map_err(unavailable)?;
        let ttl_ms = u64::try_from(config.ttl.as_millis()).unwrap_or(u64::MAX);
        Ok(Self { conn, prefix: config.prefix, ttl_ms })
    }

    fn conn(&self) -> Connection {
        self.conn.clone()
    }

    /// The shared connection, for a runtime's own keys beside the store's (the Lambda
    /// runtime's connection ids).
    pub fn connection(&self) -> Connection {
        self.conn()
    }

    /// The key of `kind` for `id` under this store's prefix; runtimes name their own keys
    /// with it, with kinds the store does not use.
    pub fn key(&self, kind: &str, id: &str) -> String {
        format!("{}{kind}:{id}", self.prefix)
    }

    /// A key scoped to a namespace; its length first, so no name can collide with another.
    fn scoped(&self, kind: &str, nsp: &str, name: &str) -> String {
        format!("{}{kind}:{}:{nsp}{name}", self.prefix, nsp.len())
    }

    fn session_key(&self, sid: &str) -> String {
        self.key("s", sid)
    }

    /// The list of packets queued for a polling session, which a long-polling GET of a
    /// runtime without memory between requests blocks on.
    pub fn queue_key(&self, sid: &str) -> String {
        self.key("q", sid)
    }

    /// The seal only has to outlive the moment around an upgrade when another instance
    /// may still think the session polls; the session's lifetime is plenty.
    fn sealed_key(&self, sid: &str) -> String {
        self.key("sealed", sid)
    }

    /// Takes a polling queue whole, sealing it too when `seal` (the upgrade's flush).
    async fn drain_queue(&self, sid: &str, seal: bool) -> Res<Vec<Packet>> {
        let queue = self.queue_key(sid);
        let mut pipe = redis::pipe();
        pipe.atomic().lrange(&queue, 0, -1).del(&queue).ignore();
        if seal {
            pipe.pset_ex(self.sealed_key(sid), 1, self.ttl_ms).ignore();
        }
        let (queued,): (Vec<String>,) = pipe.query_async(&mut self.conn()).await.map_err(unavailable)?;
        queued.iter().map(|p| decode(&queue, p)).collect()
    }

    /// Every namespace that has sockets, and perhaps some that had: the census prunes
    /// those.
    fn namespaces_key(&self) -> String {
        format!("{}namespaces", self.prefix)
    }

    fn deadlines_key(&self) -> String {
        format!("{}deadlines", self.prefix)
    }

    /// The keys of `target` for a members script: its namespace set, then the sets of
    /// its rooms and of those it leaves out.
    fn target_keys(&self, script: &mut ScriptInvocation<'_>, target: &Target) {
        script.key(self.namespace_key(&target.nsp));
        for room in target.rooms.iter().chain(&target.except) {
            script.key(self.room_key(&target.nsp, room));
        }
    }

    /// Runs a script that answers with a target's members, less the one it `exclude`s.
    async fn members_by(&self, script: ScriptInvocation<'static>, exclude: Option<String>) -> Res<Vec<Member>> {
        let raw: Vec<String> = script.invoke_async(&mut self.conn()).await.map_err(unavailable)?;
        Ok(raw.iter().filter_map(|m| parse_member(m)).filter(|m| exclude.as_ref() != Some(&m.id)).collect())
    }

    fn socket_key(&self, nsp: &str, id: &str) -> String {
        self.scoped("k", nsp, id)
    }

    fn namespace_key(&self, nsp: &str) -> String {
        self.scoped("n", nsp, "")
    }

    fn room_key(&self, nsp: &str, room: &str) -> String {
        self.scoped("r", nsp, room)
    }

    fn rooms_of_key(&self, nsp: &str, id: &str) -> String {
        self.scoped("o", nsp, id)
    }

    fn ack_deadlines_key(&self) -> String {
        format!("{}ackdeadlines", self.prefix)
    }

    fn log_key(&self) -> String {
        format!("{}log", self.prefix)
    }

    fn persisted_key(&self, pid: &str) -> String {
        self.key("p", pid)
    }

    /// Read-modify-write of one JSON record; `None` when there is no record.
    async fn update_json<T, R, F>(&self, key: &str, mut f: F) -> Res<Option<R>>
    where
        T: Serialize + DeserializeOwned,
        F: FnMut(&mut T) -> R,
    {
        let mut conn = self.conn();
        for _ in 0..MAX_CAS_RETRIES {
            let Some(old): Option<String> = conn.get(key).await.map_err(unavailable)? else { return Ok(None) };
            let mut record: T = decode(key, &old)?;
            let out = f(&mut record);
            let new = encode(&record);
            if new == old {
                return Ok(Some(out));
            }
            let swapped: i64 =
                CAS.key(key).arg(&old).arg(&new).arg(self.ttl_ms).invoke_async(&mut conn).await.map_err(unavailable)?;
            if swapped == 1 {
                return Ok(Some(out));
            }
        }
        Err(StoreError::Unavailable(format!("{key} kept changing under a read-modify-write")))
    }

    async fn get_json<T: DeserializeOwned>(&self, key: &str) -> Res<Option<T>> {
        let json: Option<String> = self.conn().get(key).await.map_err(unavailable)?;
        json.map(|j| decode(key, &j)).transpose()
    }

    fn decode_acks(&self, jsons: Vec<String>) -> Vec<PendingAck> {
        let key = self.ack_deadlines_key();
        jsons
            .into_iter()
            .filter_map(|j| match decode(&key, &j) {
                Ok(ack) => Some(ack),
                Err(e) => {
                    warn!(error = %e, "dropping an undecodable pending ack");
                    None
                }
            })
            .collect()
    }
}

/// Who awaits an ack: the socket, scoped to its namespace. In the deadline set it is
/// followed by `|` and the ack id, the last `|` of the member.
fn ack_owner(nsp: &str, socket: &str) -> String {
    format!("{}:{nsp}{socket}", nsp.len())
}

/// A room or namespace member: socket id, then session id. Both are URL-safe base64,
/// so `|` cannot occur in either.
fn member_of(id: &str, sid: &str) -> String {
    format!("{id}|{sid}")
}

fn parse_member(member: &str) -> Option<Member> {
    let (id, sid) = member.split_once('|')?;
    Some(Member { id: id.to_owned(), sid: sid.to_owned() })
}

impl Store for RedisStore {
    async fn insert_session(&self, record: SessionRecord) -> Res<()> {
        let key = self.session_key(&record.eio.sid);
        let _: () = self.conn().pset_ex(key, encode(&record), self.ttl_ms).await.map_err(unavailable)?;
        Ok(())
    }

    /// `SET NX`: the first instance to claim the tick gets it.
    async fn claim_tick(&self, name: &str, tick: u64, ttl_ms: u64) -> Res<bool> {
        let key = format!("{}tick:{name}:{tick}", self.prefix);
        let options = redis::SetOptions::default()
            .conditional_set(redis::ExistenceCheck::NX)
            .with_expiration(redis::SetExpiry::PX(ttl_ms.max(1)));
        let set: Option<String> = self.conn().set_options(key, 1, options).await.map_err(unavailable)?;
        Ok(set.is_some())
    }

    /// Every open session has its next deadline in the deadline set, so its size is the
    /// count, less the few a sweep is stepping at that moment.
    async fn session_count(&self) -> Res<usize> {
        self.conn().zcard(self.deadlines_key()).await.map_err(unavailable)
    }

    async fn census(&self) -> Res<Census> {
        let (clients, names): (usize, Vec<String>) = redis::pipe()
            .zcard(self.deadlines_key())
            .smembers(self.namespaces_key())
            .query_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        if names.is_empty() {
            return Ok(Census { clients, namespaces: Vec::new() });
        }
        let mut counts = redis::pipe();
        for name in &names {
            counts.scard(self.namespace_key(name));
        }
        let counts: Vec<usize> = counts.query_async(&mut self.conn()).await.map_err(unavailable)?;
        let (mut namespaces, empty): (Vec<_>, Vec<_>) = names.into_iter().zip(counts).partition(|(_, n)| *n > 0);
        if !empty.is_empty() {
            let mut prune = PRUNE_NAMESPACES.prepare_invoke();
            prune.key(self.namespaces_key());
            for (name, _) in &empty {
                prune.key(self.namespace_key(name)).arg(name);
            }
            let _: () = prune.invoke_async(&mut self.conn()).await.map_err(unavailable)?;
        }
        namespaces.sort_unstable();
        Ok(Census { clients, namespaces })
    }

    fn update_session<R, F>(&self, sid: &str, f: F) -> impl Future<Output = Res<Option<R>>> + MaybeSend
    where
        R: MaybeSend,
        F: FnMut(&mut SessionRecord) -> R + MaybeSend,
    {
        let key = self.session_key(sid);
        async move { self.update_json(&key, f).await }
    }

    fn remove_session(&self, sid: &str) -> impl Future<Output = Res<Option<(SessionRecord, Vec<Packet>)>>> + MaybeSend {
        let (session, queue, sealed) = (self.session_key(sid), self.queue_key(sid), self.sealed_key(sid));
        let sid = sid.to_owned();
        async move {
            let (record, queued): (Option<String>, Vec<String>) = redis::pipe()
                .atomic()
                .get(&session)
                .lrange(&queue, 0, -1)
                .del(&[&session, &queue, &sealed])
                .ignore()
                .zrem(self.deadlines_key(), &sid)
                .ignore()
                .query_async(&mut self.conn())
                .await
                .map_err(unavailable)?;
            let Some(record) = record else { return Ok(None) };
            let record = decode(&session, &record)?;
            let queued = queued.iter().map(|p| decode(&queue, p)).collect::<Res<Vec<Packet>>>()?;
            Ok(Some((record, queued)))
        }
    }

    async fn insert_socket(&self, record: SocketRecord) -> Res<()> {
        let _: () = redis::pipe()
            .atomic()
            .pset_ex(self.socket_key(&record.nsp, &record.id), encode(&record), self.ttl_ms)
            .sadd(self.namespace_key(&record.nsp), member_of(&record.id, &record.sid))
            .sadd(self.namespaces_key(), &record.nsp)
            .query_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    fn socket(&self, nsp: &str, id: &str) -> impl Future<Output = Res<Option<SocketRecord>>> + MaybeSend {
        let key = self.socket_key(nsp, id);
        async move { self.get_json(&key).await }
    }

    fn set_socket_data(&self, nsp: &str, id: &str, data: Value) -> impl Future<Output = Res<bool>> + MaybeSend {
        let key = self.socket_key(nsp, id);
        async move {
            // Cloned for each run: a run that lost the swap leaves the value to the next.
            let updated = self.update_json(&key, |s: &mut SocketRecord| s.data = data.clone()).await?;
            Ok(updated.is_some())
        }
    }

    fn remove_socket(
        &self,
        nsp: &str,
        id: &str,
    ) -> impl Future<Output = Res<Option<(SocketRecord, Vec<String>)>>> + MaybeSend {
        let (nsp, id) = (nsp.to_owned(), id.to_owned());
        async move {
            let key = self.socket_key(&nsp, &id);
            let rooms_key = self.rooms_of_key(&nsp, &id);
            let (record, mut rooms): (Option<String>, Vec<String>) = redis::pipe()
                .get(&key)
                .smembers(&rooms_key)
                .query_async(&mut self.conn())
                .await
                .map_err(unavailable)?;
            let Some(record) = record else { return Ok(None) };
            let record: SocketRecord = decode(&key, &record)?;
            let member = member_of(&id, &record.sid);
            let mut pipe = redis::pipe();
            pipe.atomic().del(&[&key, &rooms_key]).ignore();
            pipe.srem(self.namespace_key(&nsp), &member).ignore();
            for room in &rooms {
                pipe.srem(self.room_key(&nsp, room), &member).ignore();
            }
            let _: () = pipe.query_async(&mut self.conn()).await.map_err(unavailable)?;
            rooms.sort();
            Ok(Some((record, rooms)))
        }
    }

    fn join(&self, nsp: &str, id: &str, rooms: &[String], max: usize) -> impl Future<Output = Res<bool>> + MaybeSend {
        let (nsp, id) = (nsp.to_owned(), id.to_owned());
        let mut rooms = rooms.to_vec();
        rooms.sort();
        rooms.dedup();
        async move {
            if rooms.is_empty() {
                return Ok(true);
            }
            let key = self.socket_key(&nsp, &id);
            let Some(socket): Option<SocketRecord> = self.get_json(&key).await? else {
                return Ok(true);
            };
            let mut script = JOIN.prepare_invoke();
            script.key(key).key(self.rooms_of_key(&nsp, &id));
            for room in &rooms {
                script.key(self.room_key(&nsp, room));
            }
            script.arg(max).arg(member_of(&id, &socket.sid)).arg(&rooms);
            let joined: i64 = script.invoke_async(&mut self.conn()).await.map_err(unavailable)?;
            Ok(joined == 1)
        }
    }

    fn leave(&self, nsp: &str, id: &str, rooms: &[String]) -> impl Future<Output = Res<()>> + MaybeSend {
        let (nsp, id, rooms) = (nsp.to_owned(), id.to_owned(), rooms.to_vec());
        async move {
            if rooms.is_empty() {
                return Ok(());
            }
            let Some(socket): Option<SocketRecord> = self.get_json(&self.socket_key(&nsp, &id)).await? else {
                return Ok(());
            };
            let member = member_of(&id, &socket.sid);
            let mut pipe = redis::pipe();
            pipe.atomic();
            for room in &rooms {
                pipe.srem(self.room_key(&nsp, room), &member).ignore();
            }
            pipe.srem(self.rooms_of_key(&nsp, &id), &rooms).ignore();
            let _: () = pipe.query_async(&mut self.conn()).await.map_err(unavailable)?;
            Ok(())
        }
    }

    fn rooms_of(&self, nsp: &str, id: &str) -> impl Future<Output = Res<Vec<String>>> + MaybeSend {
        let key = self.rooms_of_key(nsp, id);
        async move {
            let mut rooms: Vec<String> = self.conn().smembers(key).await.map_err(unavailable)?;
            rooms.sort();
            Ok(rooms)
        }
    }

    fn members(&self, target: &Target) -> impl Future<Output = Res<Vec<Member>>> + MaybeSend {
        let mut script = MEMBERS.prepare_invoke();
        self.target_keys(&mut script, target);
        script.arg(target.rooms.len());
        self.members_by(script, target.exclude.clone())
    }

    fn log_event(
        &self,
        entry: LogEntry,
        keep_since: u64,
        target: &Target,
    ) -> impl Future<Output = Res<Vec<Member>>> + MaybeSend {
        let mut script = LOG_EVENT.prepare_invoke();
        script.key(self.log_key());
        self.target_keys(&mut script, target);
        script.arg(keep_since).arg(encode(&entry)).arg(self.ttl_ms).arg(target.rooms.len());
        self.members_by(script, target.exclude.clone())
    }

    fn push_outbound(
        &self,
        sid: &str,
        packets: &[Packet],
        max: usize,
    ) -> impl Future<Output = Res<Queued>> + MaybeSend {
        let (session, queue, sealed) = (self.session_key(sid), self.queue_key(sid), self.sealed_key(sid));
        let packets: Vec<String> = packets.iter().map(encode).collect();
        async move {
            let mut script = PUSH_IF_SESSION.prepare_invoke();
            script.key(session).key(queue).key(sealed).arg(self.ttl_ms).arg(max).arg(packets);
            let pushed: i64 = script.invoke_async(&mut self.conn()).await.map_err(unavailable)?;
            Ok(match pushed {
                0 => Queued::Full,
                2 => Queued::Sealed,
                _ => Queued::Yes,
            })
        }
    }

    fn take_outbound(&self, sid: &str) -> impl Future<Output = Res<Vec<Packet>>> + MaybeSend {
        self.drain_queue(sid, false)
    }

    fn seal_outbound(&self, sid: &str) -> impl Future<Output = Res<Vec<Packet>>> + MaybeSend {
        self.drain_queue(sid, true)
    }

    fn set_deadline(&self, sid: &str, at: Option<u64>) -> impl Future<Output = Res<()>> + MaybeSend {
        let (session, sid) = (self.session_key(sid), sid.to_owned());
        async move {
            let deadlines = self.deadlines_key();
            match at {
                Some(at) => {
                    let _: i64 = DEADLINE_IF_SESSION
                        .key(session)
                        .key(deadlines)
                        .arg(at)
                        .arg(sid)
                        .invoke_async(&mut self.conn())
                        .await
                        .map_err(unavailable)?;
                }
                None => {
                    let _: i64 = self.conn().zrem(deadlines, sid).await.map_err(unavailable)?;
                }
            }
            Ok(())
        }
    }

    async fn due(&self, now: u64, lease: u64) -> Res<(Vec<String>, Option<u64>)> {
        let mut script = CLAIM_DUE.prepare_invoke();
        script.key(self.deadlines_key()).arg(now).arg(now + lease);
        let (due, next): (Vec<String>, Option<u64>) =
            script.invoke_async(&mut self.conn()).await.map_err(unavailable)?;
        Ok((due, next))
    }

    async fn add_acks(&self, acks: Vec<PendingAck>, max: usize) -> Res<Vec<PendingAck>> {
        if acks.is_empty() {
            return Ok(Vec::new());
        }
        let mut script = ADD_ACKS.prepare_invoke();
        script.key(self.ack_deadlines_key()).arg(max).arg(self.ttl_ms);
        for ack in &acks {
            let owner = ack_owner(&ack.nsp, &ack.socket);
            script.key(self.key("a", &owner));
            let deadline = ack.deadline.map(|at| at.to_string()).unwrap_or_default();
            script.arg(ack.id).arg(encode(ack)).arg(deadline).arg(format!("{owner}|{}", ack.id));
        }
        let refused: Vec<usize> = script.invoke_async(&mut self.conn()).await.map_err(unavailable)?;
        Ok(acks.into_iter().enumerate().filter(|(i, _)| refused.contains(i)).map(|(_, ack)| ack).collect())
    }

    fn take_ack(&self, nsp: &str, socket: &str, id: u64) -> impl Future<Output = Res<Option<PendingAck>>> + MaybeSend {
        let owner = ack_owner(nsp, socket);
        async move {
            let hash = self.key("a", &owner);
            let json: Option<String> = TAKE_ACK
                .key(&hash)
                .key(self.ack_deadlines_key())
                .arg(id)
                .arg(format!("{owner}|{id}"))
                .invoke_async(&mut self.conn())
                .await
                .map_err(unavailable)?;
            json.map(|j| decode(&hash, &j)).transpose()
        }
    }

    async fn due_acks(&self, now: u64) -> Res<(Vec<PendingAck>, Option<u64>)> {
        let deadlines = self.ack_deadlines_key();
        let due: Vec<String> = DUE_ACKS
            .key(&deadlines)
            .arg(now)
            .arg(self.key("a", ""))
            .invoke_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        let next: Vec<(String, u64)> = self
            .conn()
            .zrangebyscore_limit_withscores(&deadlines, format!("({now}"), "+inf", 0, 1)
            .await
            .map_err(unavailable)?;
        Ok((self.decode_acks(due), next.first().map(|(_, at)| *at)))
    }

    fn take_acks_of(&self, nsp: &str, socket: &str) -> impl Future<Output = Res<Vec<PendingAck>>> + MaybeSend {
        let owner = ack_owner(nsp, socket);
        async move {
            let jsons: Vec<String> = TAKE_ACKS_OF
                .key(self.key("a", &owner))
                .key(self.ack_deadlines_key())
                .arg(format!("{owner}|"))
                .invoke_async(&mut self.conn())
                .await
                .map_err(unavailable)?;
            Ok(self.decode_acks(jsons))
        }
    }

    fn persist_socket(&self, pid: &str, socket: PersistedSocket) -> impl Future<Output = Res<()>> + MaybeSend {
        let key = self.persisted_key(pid);
        async move {
            let _: () = self.conn().pset_ex(key, encode(&socket), self.ttl_ms).await.map_err(unavailable)?;
            Ok(())
        }
    }

    fn restore_socket(
        &self,
        recovery: Recovery,
    ) -> impl Future<Output = Res<Option<(PersistedSocket, Vec<LogEntry>)>>> + MaybeSend {
        let key = self.persisted_key(&recovery.pid);
        async move {
            let log_key = self.log_key();
            let socket: Option<String> = self.conn().get(&key).await.map_err(unavailable)?;
            let Some(socket) = socket else { return Ok(None) };
            let socket: PersistedSocket = decode(&key, &socket)?;
            if socket.nsp != recovery.nsp || socket.disconnected_at < recovery.not_before {
                return Ok(None);
            }
            // Its rooms are in the record just read: the step that takes it names their keys.
            let (nsp, id, rooms) = (&socket.nsp, &socket.id, socket.rejoined());
            let record = socket.revive(&recovery.pid, &recovery.sid, recovery.handshake);
            let mut script = RESTORE.prepare_invoke();
            script
                .key(&key)
                .key(self.socket_key(nsp, id))
                .key(self.namespace_key(nsp))
                .key(self.rooms_of_key(nsp, id))
                .key(&log_key)
                .key(self.namespaces_key());
            for room in &rooms {
                script.key(self.room_key(nsp, room));
            }
            let member = member_of(id, &recovery.sid);
            script.arg(encode(&record)).arg(self.ttl_ms).arg(member).arg(&recovery.offset).arg(nsp).arg(&rooms);
            let log: Option<Vec<String>> = script.invoke_async(&mut self.conn()).await.map_err(unavailable)?;
            let Some(log) = log else { return Ok(None) };
            let log = log.iter().map(|e| decode(&log_key, e)).collect::<Res<Vec<LogEntry>>>()?;
            let after = log.iter().position(|e| e.offset == recovery.offset).map_or(0, |at| at + 1);
            let missed = log.into_iter().skip(after).filter(|e| e.addressed_to(nsp, &socket.rooms)).collect();
            Ok(Some((socket, missed)))
        }
    }
}
