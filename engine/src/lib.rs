//! The engine of sio: the hub that steps the sans-IO protocol core ([`sio_core`]) against
//! a store, for every runtime.
//!
//! # Who this crate is for
//!
//! Runtime authors and store implementers. An application never depends on it: it
//! writes its handlers with `sio-core` and serves them with a runtime crate
//! (`sio-server` natively, `sio-cloudflare` on Workers, `sio-lambda` on AWS Lambda).
//!
//! # The two seams
//!
//! A runtime plugs in at two seams: a [`Store`] (where sessions, sockets, rooms and
//! pending acks live: [`MemoryStore`] here, Redis in `sio-redis`, Durable Object storage
//! in `sio-cloudflare`) and a [`Host`] (delivery to the connections it holds, its clock,
//! task spawning). [`Hub`] does the rest, the same on every runtime.
//!
//! Besides the seams, the crate holds what several runtimes share: the records a store
//! keeps ([`record`]), the parked long-polling GET ([`poll`]), the HTTP answers of the
//! Engine.IO endpoint ([`http`]), the clock and ids of a runtime on an operating system
//! (`os`, not on wasm), and [`SimHost`], a virtual host for tests. With the `store-suite`
//! feature, the `suite` module checks a [`Store`] backend against what the hub expects.
#![warn(missing_docs)]

pub mod host;
pub mod http;
pub mod hub;
pub mod map;
pub mod memory;
#[cfg(not(target_arch = "wasm32"))]
pub mod os;
pub mod poll;
pub mod record;
pub mod sim;
pub mod store;
#[cfg(feature = "store-suite")]
pub mod suite;

pub use host::{Host, RelayedAck, ServerSideEvent};
pub use hub::{Hub, PostAnswer, PostError, ProbeOutcome, SessionView, WsMessage, WsStep};
pub use memory::MemoryStore;
pub use poll::{hand_over, split_close, Parking, Wake};
pub use record::{LogEntry, Member, PendingAck, PersistedSocket, Recovery, SessionRecord, SocketRecord};
pub use sim::SimHost;
pub use store::{Queued, Store, StoreError};
