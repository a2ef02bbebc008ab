//! The Lua scripts (in `lua/`) behind the store's multi-key steps: each is one round trip,
//! and atomic.

use std::sync::LazyLock;

use redis::Script;

/// Sets `KEYS[1]` to `ARGV[2]` only if it still holds `ARGV[1]`.
pub(crate) static CAS: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("lua/cas.lua")));

/// Pushes `ARGV[3..]` onto a polling queue only while its session `KEYS[1]` exists, its
/// queue is not sealed (`KEYS[3]`: 2 when it is), and only if the queue then holds at most
/// `ARGV[2]` packets (0 when it would not).
pub(crate) static PUSH_IF_SESSION: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/push_if_session.lua")));

/// Adds the member `ARGV[2]` to the rooms `ARGV[3..]` (keys `KEYS[3..]`) and the rooms to
/// its set `KEYS[2]`, while its record `KEYS[1]` exists, unless the set would then hold
/// more than `ARGV[1]` rooms (0 when it would).
pub(crate) static JOIN: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("lua/join.lua")));

/// Records pending acks: `KEYS[1]` is the deadline set, `KEYS[i]` (i >= 2) the hash of
/// the socket of ack i-1, whose id, JSON, deadline (empty for none) and deadline member
/// are `ARGV[4i-5..4i-2]`; `ARGV[1]` is the per-socket maximum, `ARGV[2]` the TTL.
/// Returns the (0-based) indices of the acks refused because their socket was full.
pub(crate) static ADD_ACKS: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("lua/add_acks.lua")));

/// Sets a session's deadline only while the session exists.
pub(crate) static DEADLINE_IF_SESSION: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/deadline_if_session.lua")));

/// Claims the sessions due by ARGV[1], leasing them until ARGV[2]; returns them and the
/// next deadline.
pub(crate) static CLAIM_DUE: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("lua/claim_due.lua")));

/// The members of a target, as a Lua function: `KEYS[k]` is the namespace set, the
/// `rooms` room sets follow it, then the except sets up to the last key.
const MEMBERS_FN: &str = include_str!("lua/members_fn.lua");

/// The members of a target: KEYS = [namespace set, room sets..., except sets...],
/// ARGV[1] = how many room sets follow the namespace set.
pub(crate) static MEMBERS: LazyLock<Script> =
    LazyLock::new(|| Script::new(&format!("{MEMBERS_FN} return members(1, tonumber(ARGV[1]))")));

/// Takes one pending ack: KEYS = [ack hash, ack deadlines], ARGV = [ack id, zset member].
pub(crate) static TAKE_ACK: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("lua/take_ack.lua")));

/// Takes the acks due by ARGV[1]: KEYS = [ack deadlines], ARGV[2] = the key prefix.
pub(crate) static DUE_ACKS: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("lua/due_acks.lua")));

/// Takes every ack of a socket: KEYS = [ack hash, ack deadlines], ARGV[1] = the zset
/// member prefix of this socket.
pub(crate) static TAKE_ACKS_OF: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("lua/take_acks_of.lua")));

/// Appends `ARGV[2]` to the recovery log `KEYS[1]`, first dropping entries emitted
/// before `ARGV[1]`, and returns the members of its target (`KEYS[2..]` and `ARGV[4]` as
/// for [`MEMBERS`]) in the same step, so that a socket being restored
/// ([`RESTORE`]) either reads the entry or is among them.
pub(crate) static LOG_EVENT: LazyLock<Script> =
    LazyLock::new(|| Script::new(&format!("{MEMBERS_FN}{}", include_str!("lua/log_event.lua"))));

/// Takes the kept socket `KEYS[1]` if the recovery log `KEYS[5]` still holds offset
/// `ARGV[4]`, and puts it back: its record `ARGV[1]` under `KEYS[2]` (TTL `ARGV[2]`), its
/// member `ARGV[3]` in the namespace set `KEYS[3]` (and the namespace `ARGV[5]` in the
/// index of namespaces `KEYS[6]`) and in the rooms `ARGV[6..]` (sets `KEYS[7..]`, listed
/// in `KEYS[4]`); returns the log as it is at that moment, or nothing if the offset is
/// gone or the socket was taken already.
pub(crate) static RESTORE: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("lua/restore.lua")));

/// Removes from the index of namespaces `KEYS[1]` each namespace `ARGV[i]` whose set of
/// sockets `KEYS[i + 1]` is gone (empty), in one step with the look: a socket inserted
/// meanwhile puts its namespace back in the index in the same step as in its set.
pub(crate) static PRUNE_NAMESPACES: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/prune_namespaces.lua")));
