//! Engine.IO protocol 4, the transport layer under Socket.IO: packet and payload codecs,
//! request routing, error answers, CORS headers and the session state machine.
//!
//! This module is for runtime authors: the native, Cloudflare and Lambda runtimes use it to
//! turn HTTP requests and WebSocket frames into Engine.IO packets and back. An application
//! does not need it; it works with the API at the crate root.
//!
//! A runtime's path through it, for one request:
//!
//! 1. [`request::route`] says what the request asks for (handshake, poll, post, upgrade),
//!    or which [`error::RequestError`] to answer with.
//! 2. [`payload::decode_payload`] splits a polling POST body into [`packet::Packet`]s;
//!    [`packet::Packet::decode_text`] decodes a WebSocket text frame.
//! 3. [`session::EngineSession`] takes each packet and the current time, and returns the
//!    [`session::Step`] the runtime must perform.
//! 4. [`payload::encode_payload`] and [`packet::Packet::to_frame`] write what goes back.

pub mod cors;
pub mod error;
pub mod packet;
pub mod payload;
pub mod request;
pub mod session;
