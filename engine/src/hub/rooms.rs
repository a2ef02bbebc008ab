//! Room changes told to a namespace's room event handlers (Node's adapter events:
//! `create-room`, `join-room`, `leave-room`, `delete-room`). Without handlers, joins and
//! leaves go straight to the store; with some, the hub looks at the socket's rooms and at
//! each changed room's sockets around the change.

use sio_core::api::app::RoomEventHandler;
use sio_core::RoomEvent;

use super::*;

impl<S: Store, H: Host> Inner<S, H> {
    fn room_handlers(&self, nsp: &str) -> Option<Vec<RoomEventHandler>> {
        self.app.resolve(nsp).map(|def| def.on_room_event.clone()).filter(|handlers| !handlers.is_empty())
    }

    fn tell(&self, handlers: &[RoomEventHandler], event: RoomEvent) {
        let Some(ops) = self.ops() else { return };
        for handler in handlers {
            run(&self.host, handler(Server::new(ops.clone()), event.clone()));
        }
    }

    async fn empty(&self, nsp: &str, room: &str) -> Result<bool, StoreError> {
        let target = Target { rooms: vec![room.to_owned()], ..Target::namespace(nsp) };
        Ok(self.store.members(&target).await?.is_empty())
    }

    /// Adds socket `id` to `rooms` as [`Store::join`] does (`false`: refused, `max` rooms
    /// reached), telling the room event handlers what changed.
    pub(super) async fn join_rooms(
        &self,
        nsp: &str,
        id: &str,
        rooms: &[String],
        max: usize,
    ) -> Result<bool, StoreError> {
        let Some(handlers) = self.room_handlers(nsp) else { return self.store.join(nsp, id, rooms, max).await };
        let before = self.store.rooms_of(nsp, id).await?;
        let mut new: Vec<&String> = rooms.iter().filter(|room| !before.contains(room)).collect();
        new.sort();
        new.dedup();
        let mut created = Vec::new();
        for room in &new {
            if self.empty(nsp, room).await? {
                created.push(*room);
            }
        }
        if !self.store.join(nsp, id, rooms, max).await? {
            return Ok(false);
        }
        for room in new {
            if created.contains(&room) {
                self.tell(&handlers, RoomEvent::Create(room.clone()));
            }
            self.tell(&handlers, RoomEvent::Join(room.clone(), id.to_owned()));
        }
        Ok(true)
    }

    /// Removes socket `id` from `rooms` as [`Store::leave`] does, telling the room event
    /// handlers what changed.
    pub(super) async fn leave_rooms(&self, nsp: &str, id: &str, rooms: &[String]) -> Result<(), StoreError> {
        let Some(handlers) = self.room_handlers(nsp) else { return self.store.leave(nsp, id, rooms).await };
        let before = self.store.rooms_of(nsp, id).await?;
        self.store.leave(nsp, id, rooms).await?;
        let left: Vec<String> = before.into_iter().filter(|room| rooms.contains(room)).collect();
        self.left(&handlers, nsp, id, &left).await;
        Ok(())
    }

    /// Socket `id`, gone from the store, was in `rooms`: tells the room event handlers.
    pub(super) async fn left_all(&self, nsp: &str, id: &str, rooms: &[String]) {
        if let Some(handlers) = self.room_handlers(nsp) {
            self.left(&handlers, nsp, id, rooms).await;
        }
    }

    async fn left(&self, handlers: &[RoomEventHandler], nsp: &str, id: &str, rooms: &[String]) {
        for room in rooms {
            self.tell(handlers, RoomEvent::Leave(room.clone(), id.to_owned()));
            match self.empty(nsp, room).await {
                Ok(true) => self.tell(handlers, RoomEvent::Delete(room.clone())),
                Ok(false) => {}
                Err(e) => warn!(%room, error = %e, "cannot tell whether a room is empty"),
            }
        }
    }
}
