//! Server options, with the Node.js reference server's defaults.
//!
//! A [`Config`] is two groups of options: [`EngineConfig`] for the Engine.IO layer (pings,
//! transports, limits, CORS) and [`SocketConfig`] for Socket.IO on top (connect timeout,
//! connection state recovery, limits). Every field has a default, so set only what you
//! change and take the rest from `..Default::default()`:
//!
//! ```
//! use sio_core::{App, Config, EngineConfig, RecoveryConfig, SocketConfig};
//!
//! let config = Config {
//!     engine: EngineConfig { ping_interval: 10_000, ..EngineConfig::default() },
//!     socket: SocketConfig { recovery: Some(RecoveryConfig::default()), ..SocketConfig::default() },
//! };
//! let app = App::new().with_config(config);
//! assert_eq!(app.config.engine.ping_timeout, 20_000);
//! ```

use serde::{Deserialize, Serialize};

use crate::api::hooks::CookieConfig;
use crate::eio::cors::CorsConfig;

/// Engine.IO options (`new Server({ pingInterval, ... })` in Node).
///
/// Times are in milliseconds, sizes in bytes. Missing fields take their default when the
/// options are read from JSON, as with any other serde format:
///
/// ```
/// use sio_core::eio::cors::{AllowedOrigins, CorsConfig};
/// use sio_core::EngineConfig;
///
/// // new Server({ pingInterval: 10000, cors: { origin: ["https://example.com"] } })
/// let engine = EngineConfig {
///     ping_interval: 10_000,
///     cors: Some(CorsConfig {
///         origins: AllowedOrigins::List(vec!["https://example.com".to_owned()]),
///         ..CorsConfig::default()
///     }),
///     ..EngineConfig::default()
/// };
/// assert_eq!(engine.path, "/socket.io/");
///
/// let from_json: EngineConfig = serde_json::from_str(r#"{ "ping_interval": 10000 }"#).unwrap();
/// assert_eq!(from_json.ping_interval, engine.ping_interval);
/// assert_eq!(from_json.max_payload, 1_000_000);
/// ```
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
    /// Whether clients may use HTTP long-polling (`transports` in Node).
    pub allow_polling: bool,
    /// Whether clients may use WebSocket (`transports` in Node).
    pub allow_websocket: bool,
    /// Whether a polling session may upgrade to WebSocket (`allowUpgrades`).
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
    /// The session cookie set on the handshake (Node's `cookie`); `None` (the default, as
    /// in Node) sets none.
    pub cookie: Option<CookieConfig>,
    /// Compresses long-polling answers (Node's `httpCompression`, on by default as in
    /// Node); `None` sends them as they are. The native and Lambda runtimes compress; on
    /// Cloudflare the platform compresses text answers itself.
    pub http_compression: Option<HttpCompression>,
}

/// When a long-polling answer is compressed (gzip, else deflate, as the client's
/// `Accept-Encoding` allows).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct HttpCompression {
    /// Answers shorter than this many bytes go as they are (Node's `threshold`, 1024).
    pub threshold: usize,
}

impl Default for HttpCompression {
    fn default() -> Self {
        Self { threshold: 1024 }
    }
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
            cookie: None,
            http_compression: Some(HttpCompression::default()),
        }
    }
}

/// Socket.IO options layered over Engine.IO.
///
/// ```
/// use sio_core::{RecoveryConfig, SocketConfig};
///
/// // new Server({ connectTimeout: 10000, connectionStateRecovery: {} })
/// let socket = SocketConfig {
///     connect_timeout: 10_000,
///     recovery: Some(RecoveryConfig::default()),
///     ..SocketConfig::default()
/// };
/// assert_eq!(socket.max_rooms, 1_000);
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct SocketConfig {
    /// Milliseconds an Engine.IO session may stay without any namespace connected
    /// (`connectTimeout`).
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
///
/// With recovery on, a client that lost its connection and comes back within
/// `max_disconnection_duration` gets the same socket id, rooms and `socket.data`, and the
/// events it missed; [`crate::Socket::recovered`] then returns `true`.
///
/// ```
/// use sio_core::{Config, RecoveryConfig, SocketConfig};
///
/// // connectionStateRecovery: { maxDisconnectionDuration: 60000, skipMiddlewares: false }
/// let recovery = RecoveryConfig { max_disconnection_duration: 60_000, skip_middlewares: false };
/// let config = Config {
///     socket: SocketConfig { recovery: Some(recovery), ..SocketConfig::default() },
///     ..Config::default()
/// };
/// assert!(config.socket.recovery.is_some());
/// ```
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

/// Everything a runtime needs to know to serve one application. Give it to the
/// application with [`crate::App::with_config`]; [`Config::default`] is Node's defaults.
///
/// ```
/// use sio_core::{App, Config, EngineConfig};
///
/// let config = Config {
///     engine: EngineConfig { max_payload: 100_000, ..EngineConfig::default() },
///     ..Config::default()
/// };
/// let app = App::new().with_config(config);
/// assert_eq!(app.config.engine.max_payload, 100_000);
/// ```
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Config {
    /// The Engine.IO options: transports, pings, sizes, CORS.
    pub engine: EngineConfig,
    /// The Socket.IO options: connect timeout, recovery, per-socket limits.
    pub socket: SocketConfig,
}
