//! Acknowledgements the server awaits from clients: recorded in the store, answered by a
//! named ack handler or by the task awaiting them, here or in another instance.

use super::*;

impl<S: Store, H: Host> Inner<S, H> {
    /// Records the acknowledgement `ack` awaited from each of `members`, except from those
    /// already awaiting `max_pending_acks`, which are returned.
    pub(super) async fn expect_acks(
        &self,
        nsp: &str,
        members: &[Member],
        ack: u64,
        timeout_ms: Option<u64>,
        handler: Option<String>,
        context: Value,
    ) -> Result<Vec<PendingAck>, OpError> {
        let deadline = timeout_ms.map(|ms| self.host.now() + ms);
        let pending = members
            .iter()
            .map(|m| PendingAck {
                nsp: nsp.to_owned(),
                socket: m.id.clone(),
                id: ack,
                deadline,
                waiter: handler.is_none().then(|| self.instance.clone()),
                handler: handler.clone(),
                context: context.clone(),
            })
            .collect();
        let max = self.config.socket.max_pending_acks;
        let refused = self.store.add_acks(pending, max).await.map_err(store_error)?;
        for ack in &refused {
            warn!(socket = %ack.socket, max, "acknowledgement not requested: max_pending_acks reached");
        }
        if let Some(at) = deadline {
            self.host.wake_at(at);
        }
        Ok(refused)
    }

    /// An awaited acknowledgement arrived, timed out, or its socket left: hand the outcome
    /// to the named ack handler, or to the task of this process awaiting it.
    pub(super) fn resolve_ack(&self, pending: PendingAck, outcome: Result<Args, AckError>) {
        let Some(name) = pending.handler else {
            // The awaiting task keeps its own timer and watches its socket: only a reply
            // is news to it.
            let Ok(reply) = outcome else { return };
            match pending.waiter {
                Some(waiter) if waiter != self.instance => {
                    self.host.relay_ack(&waiter, &pending.socket, pending.id, reply)
                }
                _ => self.wake_waiter(&pending.socket, pending.id, reply),
            }
            return;
        };
        let handler = self.app.resolve(&pending.nsp).and_then(|def| def.ack_handler(&name)).cloned();
        match (handler, self.socket_handle(&pending.socket, &pending.nsp, None, false)) {
            (Some(handler), Some(socket)) => run(&self.host, handler(socket, outcome, pending.context)),
            (None, _) => warn!(nsp = %pending.nsp, handler = %name, "no such ack handler"),
            (_, None) => {}
        }
    }

    pub(super) fn wake_waiter(&self, socket: &str, id: u64, reply: Args) {
        let waiter = self.acks.lock().unwrap_or_else(|e| e.into_inner()).get_mut(socket).and_then(|m| m.remove(&id));
        if let Some(tx) = waiter {
            let _ = tx.send(reply);
        }
    }
}
