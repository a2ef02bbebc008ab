//! Server options, with the Node.js reference server's defaults.

use serde::{Deserialize, Serialize};

use crate::eio::cors::CorsConfig;

/// Engine.IO options (`new Server({ pingInterval, ... })` in Node).
#[derive(Debug, Clone, Serialize, Deserialize)]
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
        }
    }
}

/// Socket.IO options layered over Engine.IO.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SocketConfig {
    /// Milliseconds an Engine.IO session may stay without any namespace connected.
    pub connect_timeout: u64,
    /// Connection state recovery; `None` disables it (the default, as in Node).
    pub recovery: Option<RecoveryConfig>,
}

impl Default for SocketConfig {
    fn default() -> Self {
        Self { connect_timeout: 45_000, recovery: None }
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
