//! The hash maps of a process's own bookkeeping (the memory store, the hub, the native
//! host). Natively foldhash: SipHash took a noticeable share of a connect's work, spent
//! hashing ids the server made itself (room names from clients are still hashed with a
//! per-map random seed). In the Worker, std's hasher, which its wasm carries anyway: a
//! second hasher would cost the size budget more than hashing costs it there.

#[cfg(not(target_arch = "wasm32"))]
pub use foldhash::{HashMap, HashSet};
#[cfg(target_arch = "wasm32")]
pub use std::collections::{HashMap, HashSet};
