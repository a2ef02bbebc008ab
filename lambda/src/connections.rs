//! What the Lambda runtime keeps in Redis beside the store: which API Gateway connection
//! carries which session, the last packets of sessions closed between two polls, and the
//! parked long-polling GETs. A function instance remembers nothing between invocations,
//! so these are what the native runtime keeps in memory.

use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{AsyncCommands, AsyncConnectionConfig, Script};
use serde::{Deserialize, Serialize};
use sio_core::eio::packet::Packet;
use sio_engine::{split_close, StoreError};
use sio_redis::RedisStore;
use tokio::sync::Mutex;

use crate::turns::Taking;

/// How long the last packets of a polling session closed between two GETs wait for the
/// next GET (Node's "buffering orderly close"); the other runtimes wait as long.
const FAREWELL_MS: u64 = 30_000;

/// API Gateway closes a WebSocket after two hours: its keys need not outlive that.
const CONNECTION_TTL_MS: u64 = 2 * 3600 * 1000 + 60_000;

/// A parked GET holds its mark this long at most (the HTTP API gives up after 30 s).
const PARK_TTL_MS: u64 = 30_000;

type Res<T> = Result<T, StoreError>;

fn corrupt(key: &str, e: serde_json::Error) -> StoreError {
    StoreError::Corrupt { key: key.to_owned(), reason: e.to_string() }
}

/// What an API Gateway connection is to its session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attached {
    pub sid: String,
    /// Still probing an upgrade: not yet the session's transport.
    pub probe: bool,
}

/// What woke a parked GET.
#[derive(Debug)]
pub enum Woken {
    /// Packets were queued.
    Queued(Vec<Packet>),
    /// The session closed: its last packets (a bare close when empty).
    Closed(Vec<Packet>),
    /// Nothing within the wait: the GET answers with a noop so that the HTTP API does
    /// not time it out.
    Idle,
    /// The session moved to a WebSocket while the GET was parked: the GET is refused as
    /// any GET after the upgrade, rather than hold its invocation for the whole wait.
    Upgraded,
}

/// Removes a connection and, if they still name it, its session's transport or probe
/// keys: KEYS = [connection, transport of sid, probe of sid], ARGV = [connection id].
static DETACH: std::sync::LazyLock<Script> = std::sync::LazyLock::new(|| {
    Script::new(
        r"
local attached = redis.call('GET', KEYS[1])
redis.call('DEL', KEYS[1])
for i = 2, 3 do
  if redis.call('GET', KEYS[i]) == ARGV[1] then redis.call('DEL', KEYS[i]) end
end
return attached",
    )
});

pub struct Connections {
    store: RedisStore,
    client: redis::Client,
    /// The connection a parked GET blocks on: a blocking pop holds a connection for its
    /// whole wait, longer than the shared connection's response timeout allows.
    blocking: Mutex<Option<MultiplexedConnection>>,
    /// How long a GET stays parked before answering with a noop.
    poll_wait: Duration,
}

impl Connections {
    pub fn new(store: RedisStore, url: &str, poll_wait: Duration) -> Res<Self> {
        let client = redis::Client::open(url).map_err(sio_redis::unavailable)?;
        Ok(Self { store, client, blocking: Mutex::new(None), poll_wait })
    }

    fn conn(&self) -> sio_redis::Connection {
        self.store.connection()
    }

    fn connection_key(&self, connection: &str) -> String {
        self.store.key("c", connection)
    }

    /// The key naming the session's WebSocket connection.
    pub fn transport_key(&self, sid: &str) -> String {
        self.store.key("w", sid)
    }

    fn probe_key(&self, sid: &str) -> String {
        self.store.key("u", sid)
    }

    fn farewell_key(&self, sid: &str) -> String {
        self.store.key("f", sid)
    }

    fn park_key(&self, sid: &str) -> String {
        self.store.key("g", sid)
    }

    /// A list that wakes a GET parked across the session's upgrade ([`Woken::Upgraded`]).
    fn upgraded_key(&self, sid: &str) -> String {
        self.store.key("v", sid)
    }

    /// Records that `connection` is the session's WebSocket, or its probe.
    pub async fn attach(&self, connection: &str, sid: &str, probe: bool) -> Res<()> {
        self.attaching(connection, sid, probe).query_async::<()>(&mut self.conn()).await.map_err(sio_redis::unavailable)
    }

    fn attaching(&self, connection: &str, sid: &str, probe: bool) -> redis::Pipeline {
        let attached = serde_json::to_string(&Attached { sid: sid.to_owned(), probe }).unwrap_or_default();
        let session_key = if probe { self.probe_key(sid) } else { self.transport_key(sid) };
        let mut pipe = redis::pipe();
        pipe.atomic()
            .set_options(self.connection_key(connection), attached, px(CONNECTION_TTL_MS))
            .ignore()
            .set_options(session_key, connection, px(CONNECTION_TTL_MS))
            .ignore();
        pipe
    }

    pub async fn attached(&self, connection: &str) -> Res<Option<Attached>> {
        let key = self.connection_key(connection);
        let json: Option<String> = self.conn().get(&key).await.map_err(sio_redis::unavailable)?;
        json.map(|j| serde_json::from_str(&j).map_err(|e| corrupt(&key, e))).transpose()
    }

    /// Forgets a connection that closed; returns what it was.
    pub async fn detach(&self, connection: &str) -> Res<Option<Attached>> {
        let Some(attached) = self.attached(connection).await? else { return Ok(None) };
        let _: Option<String> = DETACH
            .key(self.connection_key(connection))
            .key(self.transport_key(&attached.sid))
            .key(self.probe_key(&attached.sid))
            .arg(connection)
            .invoke_async(&mut self.conn())
            .await
            .map_err(sio_redis::unavailable)?;
        Ok(Some(attached))
    }

    /// Forgets the connections of a session that closed; returns them (transport, probe)
    /// for the Management API to close.
    pub async fn release(&self, sid: &str) -> Res<(Option<String>, Option<String>)> {
        let (transport, probe): (Option<String>, Option<String>) = redis::pipe()
            .atomic()
            .get_del(self.transport_key(sid))
            .get_del(self.probe_key(sid))
            .query_async(&mut self.conn())
            .await
            .map_err(sio_redis::unavailable)?;
        let keys: Vec<String> = transport.iter().chain(probe.iter()).map(|c| self.connection_key(c)).collect();
        if !keys.is_empty() {
            let _: i64 = self.conn().del(keys).await.map_err(sio_redis::unavailable)?;
        }
        Ok((transport, probe))
    }

    /// Forgets the probe of a session whose upgrade failed; returns its connection.
    pub async fn release_probe(&self, sid: &str) -> Res<Option<String>> {
        let probe: Option<String> = self.conn().get_del(self.probe_key(sid)).await.map_err(sio_redis::unavailable)?;
        if let Some(connection) = &probe {
            let _: i64 = self.conn().del(self.connection_key(connection)).await.map_err(sio_redis::unavailable)?;
        }
        Ok(probe)
    }

    /// The probe became the session's transport, whose turn ([`crate::turns`]) the caller
    /// takes at once, so that what was queued for polling goes out
    /// before what other invocations post from now on. A GET that was parked before (the
    /// client sent it and the upgrade packet at once, and nothing orders the two APIs) is
    /// woken; the mark outlives any such GET, and no later GET waits, since the session no
    /// longer polls.
    pub async fn promote(&self, connection: &str, sid: &str, turn: &Taking) -> Res<()> {
        let upgraded = self.upgraded_key(sid);
        self.attaching(connection, sid, false)
            .set_options(&turn.key, &turn.token, px(turn.ttl_ms))
            .ignore()
            .del(self.probe_key(sid))
            .ignore()
            .rpush(&upgraded, 1)
            .ignore()
            .pexpire(&upgraded, PARK_TTL_MS as i64)
            .ignore()
            .query_async::<()>(&mut self.conn())
            .await
            .map_err(sio_redis::unavailable)
    }

    /// Keeps what a polling session's client is owed after its session closed, for the
    /// parked GET or the next one; an empty list wakes a parked GET with a bare close.
    pub async fn keep_farewell(&self, sid: &str, last: &[Packet]) -> Res<()> {
        let key = self.farewell_key(sid);
        push_expiring(&self.store, &key, serde_json::to_string(last).unwrap_or_default(), FAREWELL_MS).await
    }

    /// Whether a closed session's client is still owed its last packets: its session
    /// closed a moment ago, and what the client sent meanwhile is no error.
    pub async fn has_farewell(&self, sid: &str) -> Res<bool> {
        self.conn().exists(self.farewell_key(sid)).await.map_err(sio_redis::unavailable)
    }

    /// What a GET of a closed session is owed, if anything; a close after messages stays
    /// for the GET after (the client handles a payload's messages a tick after its close).
    pub async fn take_farewell(&self, sid: &str) -> Res<Option<Vec<Packet>>> {
        let key = self.farewell_key(sid);
        let json: Option<String> = self.conn().lpop(&key, None).await.map_err(sio_redis::unavailable)?;
        match json {
            Some(json) => self.owed(sid, &json).await.map(Some),
            None => Ok(None),
        }
    }

    async fn owed(&self, sid: &str, json: &str) -> Res<Vec<Packet>> {
        let key = self.farewell_key(sid);
        let mut packets: Vec<Packet> = serde_json::from_str(json).map_err(|e| corrupt(&key, e))?;
        if let Some(close) = split_close(&mut packets) {
            redis::pipe()
                .atomic()
                .lpush(&key, serde_json::to_string(&close).unwrap_or_default())
                .ignore()
                .pexpire(&key, FAREWELL_MS as i64)
                .ignore()
                .query_async::<()>(&mut self.conn())
                .await
                .map_err(sio_redis::unavailable)?;
        }
        Ok(packets)
    }

    /// Marks a GET parked on the session; `false` when one already is (the protocol
    /// forbids overlapping polls).
    pub async fn park(&self, sid: &str) -> Res<bool> {
        let set: Option<String> = self
            .conn()
            .set_options(self.park_key(sid), "1", px(PARK_TTL_MS).conditional_set(redis::ExistenceCheck::NX))
            .await
            .map_err(sio_redis::unavailable)?;
        Ok(set.is_some())
    }

    pub async fn unpark(&self, sid: &str) -> Res<()> {
        self.conn().del(self.park_key(sid)).await.map_err(sio_redis::unavailable)
    }

    async fn blocking(&self) -> Res<MultiplexedConnection> {
        let mut blocking = self.blocking.lock().await;
        if let Some(conn) = blocking.as_ref() {
            return Ok(conn.clone());
        }
        let conn = blocking_connection(&self.client, self.poll_wait).await?;
        *blocking = Some(conn.clone());
        Ok(conn)
    }

    /// Waits for packets queued for the session, its close or its upgrade: a blocking pop
    /// on the queue itself, so that no wake-up needs sending for packets.
    pub async fn wait(&self, sid: &str) -> Res<Woken> {
        let queue = self.store.queue_key(sid);
        let farewell = self.farewell_key(sid);
        let upgraded = self.upgraded_key(sid);
        let mut conn = self.blocking().await?;
        let popped: Result<Option<(String, String)>, _> =
            conn.blpop(&[&queue, &farewell, &upgraded], self.poll_wait.as_secs_f64()).await;
        let popped = match popped {
            Ok(popped) => popped,
            Err(e) => {
                // A broken connection is made again by the next GET.
                *self.blocking.lock().await = None;
                return Err(sio_redis::unavailable(e));
            }
        };
        match popped {
            None => Ok(Woken::Idle),
            Some((key, json)) if key == queue => {
                let first: Packet = serde_json::from_str(&json).map_err(|e| corrupt(&key, e))?;
                Ok(Woken::Queued(vec![first]))
            }
            Some((key, _)) if key == upgraded => Ok(Woken::Upgraded),
            Some((_, json)) => self.owed(sid, &json).await.map(Woken::Closed),
        }
    }
}

/// A connection of its own for blocking pops of up to `wait`: a pop holds its connection
/// for its whole wait, longer than the shared connection's response timeout allows.
pub(crate) async fn blocking_connection(client: &redis::Client, wait: Duration) -> Res<MultiplexedConnection> {
    let config = AsyncConnectionConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(2)))
        .set_response_timeout(Some(wait + Duration::from_secs(5)));
    client.get_multiplexed_async_connection_with_config(&config).await.map_err(sio_redis::unavailable)
}

/// Appends `value` to the list `key`, which expires `ttl_ms` after its last push.
pub(crate) async fn push_expiring(store: &RedisStore, key: &str, value: String, ttl_ms: u64) -> Res<()> {
    redis::pipe()
        .atomic()
        .rpush(key, value)
        .ignore()
        .pexpire(key, ttl_ms as i64)
        .ignore()
        .query_async::<()>(&mut store.connection())
        .await
        .map_err(sio_redis::unavailable)
}

fn px(ms: u64) -> redis::SetOptions {
    redis::SetOptions::default().with_expiration(redis::SetExpiry::PX(ms))
}
