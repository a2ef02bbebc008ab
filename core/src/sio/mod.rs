//! Socket.IO protocol 5, carried over Engine.IO: the packet codec for namespaces, events
//! and acknowledgements.
//!
//! This module is for runtime authors: the native, Cloudflare and Lambda runtimes use it to
//! read the Socket.IO packet inside each Engine.IO message and to write the answers. An
//! application does not need it; it sends and receives events through the API at the crate
//! root.

pub mod packet;
