//! Turns at posting to a WebSocket connection.
//!
//! Every frame is a Management API call of its own and invocations run side by side, so
//! without turns a frame of one invocation can land between a binary packet's header and
//! its attachments, which the client's decoder refuses ("parse error"), or another
//! packet's attachment can take the place of the one due. One invocation at a time holds a
//! connection's turn; the others leave what they have for it in the connection's outbox,
//! and the holder posts that too before it gives the turn up. Nobody waits for a turn, and
//! what reaches a connection keeps the order in which the invocations handed it over.
//!
//! A turn outlives its holder only by its time to live: if the holder dies, the next
//! invocation to claim the turn posts what was left in the outbox first.

use std::sync::LazyLock;

use redis::{Script, Value};
use sio_engine::StoreError;
use sio_redis::RedisStore;

use crate::management::Out;

/// How long a turn is held without news from its holder: long enough for the posts of a
/// fan-out ([`per_connection_ms`] more per connection it holds), short enough that the
/// outbox of a holder that died waits little.
const TURN_TTL_MS: u64 = 10_000;

/// What a fan-out adds to [`TURN_TTL_MS`] per connection it posts to.
fn per_connection_ms(connections: usize) -> u64 {
    5 * connections as u64
}

/// An entry of an outbox: a tag byte, then the frame.
fn encode(out: &Out) -> Vec<u8> {
    let (tag, body): (u8, &[u8]) = match out {
        Out::Text(text) => (b't', text.as_bytes()),
        Out::Close => (b'x', &[]),
    };
    let mut encoded = Vec::with_capacity(1 + body.len());
    encoded.push(tag);
    encoded.extend_from_slice(body);
    encoded
}

fn decode(encoded: &[u8]) -> Result<Out, String> {
    match encoded.split_first() {
        Some((b't', text)) => {
            std::str::from_utf8(text).map(|text| Out::Text(text.to_owned())).map_err(|e| e.to_string())
        }
        Some((b'x', [])) => Ok(Out::Close),
        _ => Err("unknown outbox entry".to_owned()),
    }
}

/// What claiming a session's turn gave.
#[derive(Debug, PartialEq, Eq)]
pub enum Claim {
    /// The session has no WebSocket: it polls.
    NoWebSocket,
    /// Another invocation holds the turn; what was to be posted is in the outbox, and that
    /// invocation posts it.
    Queued,
    /// The turn is this invocation's: post what an earlier holder left, then its own.
    Held { connection: String, left: Vec<Out> },
}

/// Claims turns: KEYS = the sessions' transport keys (ARGV[5] = '1') or connection ids;
/// ARGV = [turn key prefix, outbox key prefix, token, time to live, resolve, entries...].
/// For each key: 0 when no connection, {connection, 0} when queued, {connection, 1,
/// left...} when held.
static CLAIM: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local token, ttl = ARGV[3], ARGV[4]
local out = {}
for i, key in ipairs(KEYS) do
  local connection = key
  if ARGV[5] == '1' then connection = redis.call('GET', key) end
  if not connection then
    out[i] = 0
  else
    local turn, outbox = ARGV[1] .. connection, ARGV[2] .. connection
    if redis.call('SET', turn, token, 'NX', 'PX', ttl) then
      local held = redis.call('LRANGE', outbox, 0, -1)
      redis.call('DEL', outbox)
      table.insert(held, 1, 1)
      table.insert(held, 1, connection)
      out[i] = held
    else
      for j = 6, #ARGV do redis.call('RPUSH', outbox, ARGV[j]) end
      redis.call('PEXPIRE', outbox, ttl)
      out[i] = {connection, 0}
    end
  end
end
return out",
    )
});

/// Passes turns on: ARGV = [turn key prefix, outbox key prefix, token, time to live,
/// (connection, gone)...]. A turn
/// still this token's is given up when its outbox is empty (or the connection is gone, its
/// outbox then dropped); otherwise it is kept, and what the outbox held is returned.
static PASS: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local token, ttl = ARGV[3], ARGV[4]
local out = {}
for i = 5, #ARGV, 2 do
  local connection = ARGV[i]
  local turn, outbox = ARGV[1] .. connection, ARGV[2] .. connection
  local left = {}
  if redis.call('GET', turn) == token then
    if ARGV[i + 1] == '1' then
      redis.call('DEL', turn, outbox)
    else
      left = redis.call('LRANGE', outbox, 0, -1)
      if #left == 0 then
        redis.call('DEL', turn)
      else
        redis.call('DEL', outbox)
        redis.call('PEXPIRE', turn, ttl)
      end
    end
  end
  out[#out + 1] = left
end
return out",
    )
});

/// Whose turns are claimed: sessions, by the keys that name their WebSocket
/// ([`crate::connections::Connections::transport_key`]), or one connection by its id.
pub enum Targets<'a> {
    Sessions(Vec<String>),
    Connection(&'a str),
}

/// A turn to take unconditionally: the connection has just become a session's WebSocket,
/// so no one can hold it yet.
pub struct Taking {
    pub key: String,
    pub token: String,
    pub ttl_ms: u64,
}

/// Turns at posting, kept in Redis beside the store.
#[derive(Clone)]
pub struct Turns {
    store: RedisStore,
}

impl Turns {
    pub fn new(store: RedisStore) -> Self {
        Self { store }
    }

    fn turn_key(&self, connection: &str) -> String {
        self.store.key("turn", connection)
    }

    /// How long the turns of a send to `connections` connections are held.
    fn ttl_ms(connections: usize) -> u64 {
        TURN_TTL_MS + per_connection_ms(connections)
    }

    /// The turn of `connection`, for a change that takes it along with others (a
    /// promoted probe: [`crate::connections::Connections::promote`]).
    pub fn taking(&self, connection: &str) -> Taking {
        Taking { key: self.turn_key(connection), token: sio_engine::os::random_id(), ttl_ms: Self::ttl_ms(1) }
    }

    /// Claims the turn of each target with `token`, leaving `outs` in the outbox of those
    /// whose turn another holds; one answer per target, in order.
    pub async fn claim(&self, targets: Targets<'_>, token: &str, outs: &[Out]) -> Result<Vec<Claim>, StoreError> {
        let (keys, resolve): (Vec<String>, _) = match targets {
            Targets::Sessions(transport_keys) => (transport_keys, "1"),
            Targets::Connection(connection) => (vec![connection.to_owned()], "0"),
        };
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut invocation = CLAIM.prepare_invoke();
        invocation.key(&keys).arg(&self.prefixes()[..]).arg(token).arg(Self::ttl_ms(keys.len())).arg(resolve);
        for out in outs {
            invocation.arg(encode(out));
        }
        let answers: Vec<Value> =
            invocation.invoke_async(&mut self.store.connection()).await.map_err(sio_redis::unavailable)?;
        answers.into_iter().map(|answer| self.claim_of(answer)).collect()
    }

    fn claim_of(&self, answer: Value) -> Result<Claim, StoreError> {
        let Value::Array(items) = answer else { return Ok(Claim::NoWebSocket) };
        let mut items = items.into_iter();
        let connection: String = match items.next() {
            Some(value) => redis::from_redis_value(value).map_err(|e| self.corrupt(&e.to_string()))?,
            None => return Err(self.corrupt("an empty claim")),
        };
        if items.next() != Some(Value::Int(1)) {
            return Ok(Claim::Queued);
        }
        let left = items.map(|entry| self.out_of(entry)).collect::<Result<_, _>>()?;
        Ok(Claim::Held { connection, left })
    }

    /// Passes on the turns of `connections` (with whether each is gone): for each, what
    /// its outbox held meanwhile, to post before passing it on again (empty: given up).
    pub async fn pass(&self, token: &str, connections: &[(String, bool)]) -> Result<Vec<Vec<Out>>, StoreError> {
        if connections.is_empty() {
            return Ok(Vec::new());
        }
        let mut invocation = PASS.prepare_invoke();
        invocation.arg(&self.prefixes()[..]).arg(token).arg(Self::ttl_ms(connections.len()));
        for (connection, gone) in connections {
            invocation.arg(connection).arg(if *gone { "1" } else { "0" });
        }
        let answers: Vec<Vec<Value>> =
            invocation.invoke_async(&mut self.store.connection()).await.map_err(sio_redis::unavailable)?;
        answers.into_iter().map(|left| left.into_iter().map(|entry| self.out_of(entry)).collect()).collect()
    }

    /// What the scripts put a connection id after to name its turn and its outbox.
    fn prefixes(&self) -> [String; 2] {
        [self.turn_key(""), self.store.key("outbox", "")]
    }

    fn out_of(&self, entry: Value) -> Result<Out, StoreError> {
        let bytes: Vec<u8> = redis::from_redis_value(entry).map_err(|e| self.corrupt(&e.to_string()))?;
        decode(&bytes).map_err(|reason| self.corrupt(&reason))
    }

    fn corrupt(&self, reason: &str) -> StoreError {
        StoreError::Corrupt { key: self.store.key("outbox", "*"), reason: reason.to_owned() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outbox_entries_round_trip() {
        let outs = [
            Out::Text("451-[\"bin\",{\"_placeholder\":true,\"num\":0}]".to_owned()),
            Out::Text("bAP90eA==".to_owned()),
            Out::Text(String::new()),
            Out::Close,
        ];
        for out in outs {
            assert_eq!(decode(&encode(&out)), Ok(out));
        }
    }

    #[test]
    fn unknown_entries_are_refused() {
        for entry in [&b""[..], b"q", b"b\x01", b"xjunk", b"t\xff\xfe"] {
            assert!(decode(entry).is_err(), "{entry:?}");
        }
    }
}
