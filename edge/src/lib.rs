//! The Cloudflare runtime: a stateless Worker in front of Durable Objects.
//!
//! The Worker routes every Engine.IO request to the object that owns its session, read
//! from the session id ([`route`]); a handshake goes to an object picked at random, which
//! mints the session id. The chat's static files are Workers static assets, served before
//! the Worker runs. Each object runs the hub against its own SQLite storage, holds its
//! sessions' WebSockets through the hibernation API, and drives their deadlines with its
//! one alarm.
//!
//! Only [`route`] builds for the native workspace; the rest is wasm32 only.

pub mod route;

#[cfg(target_arch = "wasm32")]
mod host;
#[cfg(target_arch = "wasm32")]
mod http;
#[cfg(target_arch = "wasm32")]
mod log;
#[cfg(target_arch = "wasm32")]
mod object;
#[cfg(target_arch = "wasm32")]
mod pool;
#[cfg(target_arch = "wasm32")]
mod site;
#[cfg(target_arch = "wasm32")]
mod store;
#[cfg(target_arch = "wasm32")]
mod worker_entry;

#[cfg(target_arch = "wasm32")]
pub use object::SioObject;
