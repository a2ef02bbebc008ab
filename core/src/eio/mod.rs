//! Engine.IO protocol 4: the transport layer under Socket.IO.

pub mod cors;
pub mod error;
pub mod packet;
pub mod payload;
pub mod request;
pub mod session;
