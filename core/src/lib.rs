//! Sans-IO core of a Socket.IO v4 server.
//!
//! Nothing here performs I/O, spawns tasks or reads a clock: requests, frames and the
//! current time come in as arguments and the state machines hand back what to send and
//! when to be woken. That is what lets the same protocol code run in a tokio process, a
//! Cloudflare Durable Object and an AWS Lambda invocation.

pub mod api;
pub mod config;
pub mod eio;
pub mod maybe;
pub mod sio;

pub use api::*;
pub use config::{Config, EngineConfig, RecoveryConfig, SocketConfig};
