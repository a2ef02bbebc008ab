//! The application API: what handlers see, the same on every runtime.

pub mod app;
pub mod args;
pub mod handle;
pub mod ops;
pub mod rooms;

pub use app::{App, Asset, ConnectError, DisconnectReason, NamespaceDef};
pub use args::Args;
pub use handle::{Ack, Broadcast, EngineSocket, Namespace, Server, SharedOps, Socket};
pub use ops::{AckError, AckReplies, Handshake, Headers, OpError, Ops, SocketInfo, Target};
pub use rooms::Rooms;
