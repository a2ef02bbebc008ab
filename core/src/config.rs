//! Server options, with the Node.js reference server's defaults.

use serde::{Deserialize, Serialize};

use crate::eio::cors::CorsConfig;

/// Engine.IO options (`new Server({ pingInterval, ... })` in Node).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct EngineConfig {
    /// Milliseconds between server pings.
    pub ping_interval: u64,
    /// Milliseconds a client has to answer a ping before its session is closed.
    pub ping_timeout: u64,
    /// Largest message or POST body accepted, in bytes (`maxHttpBufferSize`).
    pub max_payload: usize,
    /// Milliseconds a WebSocket upgrade may take between probe and upgrade packet.
    pub upgrade_timeout: u64,
    pub allow_polling: bool,
    pub allow_websocket: bool,
    pub allow_upgrades: bool,
    /// The request path prefix, `/socket.io/` by default.
    pub path: String,
    /// Cross-origin polling; `None` (the default, as in Node) sends no CORS headers.
    pub cors: Option<CorsConfig>,
    /// Sessions open at once across the store; a handshake beyond it is refused with
    /// HTTP 503 (`{"code":4,"message":"Too many sessions"}`), so that a flood of
    /// handshakes cannot exhaust memory while sessions already open carry on. Checked
    /// before each handshake: handshakes in flight at the same moment may overshoot it by
    /// their number.
    pub max_sessions: usize,
    /// Packets queued for a polling session between two of its GETs. A client that stops
    /// polling while the server keeps sending would otherwise grow its queue until its
    /// ping times out; past this the session is closed as a failed transport (reason
    /// `transport error`), so the client reconnects, and with connection state recovery
    /// gets the missed events back.
    pub max_buffered_packets: usize,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            ping_interval: 25_000,
            ping_timeout: 20_000,
            max_payload: 1_000_000,
            upgrade_timeout: 10_000,
            allow_polling: true,
            allow_websocket: true,
            allow_upgrades: true,
            path: "/socket.io/".to_owned(),
            cors: None,
            max_sessions: 100_000,
            max_buffered_packets: 10_000,
        }
    }
}

/// Socket.IO options layered over Engine.IO.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct SocketConfig {
    /// Milliseconds an Engine.IO session may stay without any namespace connected.
    pub connect_timeout: u64,
    /// Connection state recovery; `None` disables it (the default, as in Node).
    pub recovery: Option<RecoveryConfig>,
    /// Namespaces one connection may join; a CONNECT beyond it gets a CONNECT_ERROR
    /// `{"message":"Too many namespaces"}` for that namespace, the others stay connected.
    pub max_namespaces: usize,
    /// Rooms one socket may be in, its own id room included; `join` beyond it fails with
    /// [`crate::OpError::TooManyRooms`] and joins nothing for that socket.
    pub max_rooms: usize,
    /// Acknowledgements the server may await from one socket at once. An emit asking for
    /// one more skips that socket: `emit_with_ack` to it fails with
    /// [`crate::AckError::TooManyPendingAcks`], and a named ack handler gets that error for
    /// it. A client that never answers thus holds a bounded amount of server memory.
    pub max_pending_acks: usize,
}

impl Default for SocketConfig {
    fn default() -> Self {
        Self { connect_timeout: 45_000, recovery: None, max_namespaces: 100, max_rooms: 1_000, max_pending_acks: 1_000 }
    }
}

/// `connectionStateRecovery` options.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecoveryConfig {
    /// Milliseconds a disconnected socket's state and missed packets are kept.
    pub max_disconnection_duration: u64,
    /// Whether namespace middlewares run again for a recovered socket.
    pub skip_middlewares: bool,
}

impl Default for RecoveryConfig {
    fn default() -> Self {
        Self { max_disconnection_duration: 120_000, skip_middlewares: true }
    }
}

/// Everything a runtime needs to know to serve one application.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Config {
    pub engine: EngineConfig,
    pub socket: SocketConfig,
}
