//! The namespaces one dynamic definition serves, acted on together.

use std::sync::Arc;

use super::broadcast::Namespace;
use super::handle::SharedOps;
use super::into_args::IntoArgs;
use super::ops::OpError;
use super::remote::RemoteSocket;
use super::rooms::Rooms;

/// Every namespace that one [`crate::App::dynamic_namespace`] definition serves (Node's
/// parent namespace, what `io.of(/^\/room-\d+$/)` returns): an emit reaches every socket
/// of every child.
///
/// Get it from any of its children with [`Namespace::parent`]. The children are the
/// namespaces the definition serves that have sockets, on every instance, at the moment
/// of each call: a namespace here is a name, and one without sockets has nothing to reach.
///
/// ```
/// use sio_core::{App, NamespaceDef};
///
/// let app = App::new()
///     .dynamic_namespace(|name| name.starts_with("/room-"), NamespaceDef::new())
///     .namespace(
///         "/",
///         NamespaceDef::new().on("closing time", |socket, _args, _ack| async move {
///             // const rooms = io.of(/^\/room-/); rooms.emit("closing", 5)
///             if let Some(rooms) = socket.server().of("/room-1").parent() {
///                 let _ = rooms.emit("closing", 5).await;
///                 for room in rooms.children().await.unwrap_or_default() {
///                     let _ = room.to("hosts").emit("close it", room.name()).await;
///                 }
///             }
///         }),
///     );
/// # let _ = app;
/// ```
#[derive(Clone)]
pub struct ParentNamespace {
    /// One of the children: the definition is the one serving it.
    child: Arc<str>,
    ops: SharedOps,
}

impl ParentNamespace {
    pub(super) fn new(child: Arc<str>, ops: SharedOps) -> Self {
        Self { child, ops }
    }

    /// The children that have sockets now, on every instance, sorted by name.
    pub async fn children(&self) -> Result<Vec<Namespace>, OpError> {
        let census = self.ops.census().await?;
        Ok(census
            .namespaces
            .into_iter()
            .filter(|(name, _)| self.ops.same_parent(&self.child, name))
            .map(|(name, _)| Namespace::new(&name, self.ops.clone()))
            .collect())
    }

    /// Sends an event to every socket of every child (`parentNamespace.emit(...)`). Every
    /// child is tried; the first failure is returned.
    pub async fn emit(&self, event: &str, args: impl IntoArgs) -> Result<(), OpError> {
        let args = args.into_args()?;
        let mut result = Ok(());
        for child in self.children().await? {
            result = result.and(child.emit(event, args.clone()).await);
        }
        result
    }

    /// Every socket of every child (`parentNamespace.fetchSockets()`).
    pub async fn fetch_sockets(&self) -> Result<Vec<RemoteSocket>, OpError> {
        let mut sockets = Vec::new();
        for child in self.children().await? {
            sockets.extend(child.fetch_sockets().await?);
        }
        Ok(sockets)
    }

    /// Adds every socket of every child to `rooms`, each in its own namespace
    /// (`parentNamespace.socketsJoin(room)`).
    pub async fn sockets_join(&self, rooms: impl Rooms) -> Result<(), OpError> {
        let rooms = rooms.into_rooms();
        let mut result = Ok(());
        for child in self.children().await? {
            result = result.and(child.sockets_join(rooms.clone()).await);
        }
        result
    }

    /// Disconnects every socket of every child (`parentNamespace.disconnectSockets(close)`).
    pub async fn disconnect_sockets(&self, close: bool) -> Result<(), OpError> {
        let mut result = Ok(());
        for child in self.children().await? {
            result = result.and(child.disconnect_sockets(close).await);
        }
        result
    }
}
