//! The application API of sio, a Socket.IO v4 server, and its sans-IO protocol core.
//!
//! An application is an [`App`]: its options ([`Config`]) and its namespaces, each a
//! [`NamespaceDef`] of handlers. Handlers receive a [`Socket`], the event's [`Args`] and,
//! when the client asked for one, an [`Ack`]. The same `App` runs on every runtime; hand
//! it to one:
//!
//! - natively (tokio): `sio_server::Server::new(app())`, then `bind` and `serve`, from the
//!   `sio-server` crate;
//! - on Cloudflare Workers: `sio_cloudflare::worker!(crate::app);`, from `sio-cloudflare`;
//! - on AWS Lambda: `sio_lambda::Functions::new(app()).run().await`, from `sio-lambda`.
//!
//! The calls follow Node's socket.io server: `socket.join(room)`, `socket.to(room).emit(..)`,
//! `io.of(nsp).emit(..)` become [`Socket::join`], [`Socket::to`] then [`Broadcast::emit`],
//! [`Namespace::emit`]. Calls that send, or read or change state, are `async`: they go
//! through the runtime's store.
//!
//! # Example
//!
//! A chat in one namespace: a client joins a room and gets the acknowledgement; what it
//! says goes to the others in that room.
//!
//! ```
//! use serde_json::json;
//! use sio_core::{App, NamespaceDef};
//!
//! pub fn app() -> App {
//!     App::new().namespace(
//!         "/",
//!         NamespaceDef::new()
//!             // socket.on("join", (room, callback) => { socket.join(room); callback({ ok: true }) })
//!             .on("join", |socket, args, ack| async move {
//!                 let Some(room) = args.str(0).map(str::to_owned) else { return };
//!                 let joined = socket.join(room.clone()).await.is_ok();
//!                 let _ = socket.set_data(json!({ "room": room })).await;
//!                 if let Some(ack) = ack {
//!                     let _ = ack.send(json!({ "ok": joined })).await;
//!                 }
//!             })
//!             // socket.on("say", (text) => socket.to(room).emit("said", { from: socket.id, text }))
//!             .on("say", |socket, args, _ack| async move {
//!                 let data = socket.data_value().await.unwrap_or_default();
//!                 let (Some(room), Some(text)) = (data["room"].as_str(), args.str(0)) else { return };
//!                 let _ = socket.to(room).emit("said", json!({ "from": socket.id(), "text": text })).await;
//!             }),
//!     )
//! }
//! # assert!(app().resolve("/").is_some_and(|def| def.handler("say").is_some()));
//! ```
//!
//! State that must last from one packet to the next goes in rooms and in `socket.data`
//! ([`Socket::set_data`]), which live in the runtime's store: the next packet of the same
//! client may be served by another process, Durable Object or Lambda invocation.
//!
//! # For runtime authors
//!
//! The modules [`eio`] (Engine.IO), [`sio`] (Socket.IO packets) and [`maybe`] (`Send`
//! bounds per target) are the protocol core the runtimes are built on; an application
//! does not need them. Nothing there performs I/O, spawns tasks or reads a clock:
//! requests, frames and the current time come in as arguments and the state machines hand
//! back what to send and when to be woken. That is what lets the same protocol code run in
//! a tokio process, a Cloudflare Durable Object and an AWS Lambda invocation. A runtime
//! serves an `App` by implementing [`Ops`].
#![warn(missing_docs)]

pub mod api;
pub mod config;
pub mod eio;
pub mod maybe;
pub mod sio;

pub use api::*;
/// Binary data (`bytes::Bytes`), re-exported: an emit's binary argument, what
/// [`Args::binary_at`] gives.
pub use bytes::Bytes;
pub use config::{Config, EngineConfig, HttpCompression, RecoveryConfig, SocketConfig};
pub use eio::error::Refusal;
