//! The store and the hub: where sessions, sockets and rooms live, and the code that steps
//! the protocol core against them for every runtime.

pub mod host;
pub mod hub;
pub mod memory;
pub mod record;
pub mod store;

pub use host::Host;
pub use hub::{Hub, ProbeOutcome, SessionView};
pub use memory::MemoryStore;
pub use record::{LogEntry, Member, PendingAck, PersistedSocket, SessionRecord, SocketRecord};
pub use store::{Store, StoreError};
