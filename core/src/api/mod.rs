//! The application API: what handlers see, the same on every runtime.

pub mod app;
pub mod args;
pub mod broadcast;
pub mod handle;
pub mod hooks;
pub mod into_args;
pub mod ops;
pub mod parent;
pub mod remote;
pub mod rooms;
pub mod schedule;
pub mod socket;

pub use app::{Admission, App, Asset, ConnectError, DisconnectReason, NamespaceDef, RoomEvent};
pub use args::Args;
pub use broadcast::{Broadcast, Namespace};
pub use handle::{Ack, EngineSocket, Server, ServerAck, SharedOps};
pub use hooks::{ConnectionError, CookieConfig, EngineHooks, HeaderPairs, RequestHead};
pub use into_args::IntoArgs;
pub use ops::{AckError, AckReplies, Census, Handshake, Headers, OpError, Ops, SocketInfo, Target};
pub use parent::ParentNamespace;
pub use remote::RemoteSocket;
pub use rooms::Rooms;
pub use schedule::Schedule;
pub use socket::{Emitter, Socket};
