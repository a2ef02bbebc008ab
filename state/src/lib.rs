//! The store and the hub: where sessions, sockets and rooms live, and the code that steps
//! the protocol core against them for every runtime.

pub mod host;
pub mod http;
pub mod hub;
pub mod map;
pub mod memory;
#[cfg(not(target_arch = "wasm32"))]
pub mod os;
pub mod poll;
pub mod record;
#[cfg(all(feature = "redis", not(target_arch = "wasm32")))]
pub mod redis_store;
pub mod sim;
pub mod store;

pub use host::{Host, RelayedAck};
pub use hub::{Hub, ProbeOutcome, SessionView};
pub use memory::MemoryStore;
pub use poll::{hand_over, split_close, Parking, Wake};
pub use record::{LogEntry, Member, PendingAck, PersistedSocket, Recovery, SessionRecord, SocketRecord};
#[cfg(all(feature = "redis", not(target_arch = "wasm32")))]
pub use redis_store::{Connection, RedisConfig, RedisStore};
pub use sim::SimHost;
pub use store::{Queued, Store, StoreError};
