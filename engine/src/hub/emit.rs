//! Events on their way out: targets resolved to members, the recovery log, delivery in
//! emit order; and events on their way in, kept in arrival order to their handlers.

use super::*;

impl<S: Store, H: Host> Inner<S, H> {
    /// Emits an event without acknowledgement, logging it for recovery.
    pub(super) async fn emit_inner(&self, target: Target, event: String, mut args: Args) -> Result<(), OpError> {
        let order = self.emit_order();
        let members = if let (Some(rc), false) = (&self.config.socket.recovery, target.volatile) {
            let now = self.host.now();
            let offset = format!("{}-{}", self.instance, self.log_seq.fetch_add(1, Ordering::Relaxed));
            let entry = LogEntry {
                offset: offset.clone(),
                emitted_at: now,
                target: target.clone(),
                event: event.clone(),
                values: args.values.clone(),
                binary: args.binary.clone(),
            };
            args.values.push(Value::String(offset));
            let keep_since = now.saturating_sub(rc.max_disconnection_duration);
            self.store.log_event(entry, keep_since, &target).await
        } else {
            self.store.members(&target).await
        };
        let members = self.only_local(&target, members.map_err(store_error)?);
        self.send_event(&target, members, event, args, None, order).await;
        Ok(())
    }

    /// The sockets a target designates, only those whose connection this instance holds
    /// when it is `local`.
    pub(super) async fn members_of(&self, target: &Target) -> Result<Vec<Member>, OpError> {
        let members = self.store.members(target).await.map_err(store_error)?;
        Ok(self.only_local(target, members))
    }

    fn only_local(&self, target: &Target, members: Vec<Member>) -> Vec<Member> {
        match target.local {
            true => self.host.local(members),
            false => members,
        }
    }

    /// The next place in the order in which this process's emits reach their members: the
    /// order of the `emit` calls, taken when the call is first polled.
    ///
    /// In Node, `emit` is synchronous: two events that one client sends in a row, each
    /// broadcast by its handler, reach every member in that order. Here an emit first waits
    /// on the store (its members, the recovery log), and handlers run side by side, so a
    /// later emit could otherwise deliver first (with Redis, a room's members got
    /// broadcasts out of order). The lookups still run side by side; only the deliveries
    /// take turns.
    pub(super) fn emit_order(&self) -> Order {
        let (done, turn) = oneshot::channel();
        let previous = self.emits.lock().unwrap_or_else(|e| e.into_inner()).replace(turn.shared());
        Order { previous, done }
    }

    /// Sends an event to `members` of the target's namespace in its turn (if volatile, to
    /// those that can take it now), and runs its outgoing handlers; returns the members'
    /// socket ids.
    pub(super) async fn send_event(
        &self,
        target: &Target,
        members: Vec<Member>,
        event: String,
        args: Args,
        ack: Option<u64>,
        order: Order,
    ) -> Vec<String> {
        let nsp = target.nsp.as_str();
        let outgoing = self.def(nsp).map(|d| d.on_any_outgoing.clone()).unwrap_or_default();
        let (data, binary) = args.clone().into_event_data(&event);
        let packets = frames(&sio::Packet::event(nsp, data, binary, ack));
        if let Some(previous) = order.previous {
            let _ = previous.await;
        }
        // Moved apart, not copied: a broadcast to a namespace has a member per socket.
        let (ids, sids): (Vec<String>, Vec<String>) = members.into_iter().map(|m| (m.id, m.sid)).unzip();
        self.transmit_to(sids, packets, target.volatile).await;
        // Before the outgoing handlers, which may emit in turn.
        let _ = order.done.send(());
        for id in &ids {
            for handler in &outgoing {
                if let Some(socket) = self.socket_handle(id, nsp, None, false) {
                    run(&self.host, handler(socket, event.clone(), args.clone()));
                }
            }
        }
        ids
    }
}

/// Keeps a socket's events in arrival order through the middlewares and `on_any`, which
/// may wait on the store: each event starts them once the previous one is past them, so
/// handlers start in arrival order, as in Node. (Only that phase is ordered: a handler
/// waiting on the same socket's next packet cannot block it.)
pub(super) struct Order {
    pub(super) previous: Option<Turn>,
    pub(super) done: oneshot::Sender<()>,
}

pub(super) type Turn = Shared<oneshot::Receiver<()>>;

#[allow(clippy::too_many_arguments)]
pub(super) async fn run_event(
    def: NamespaceDef,
    handler: Option<EventHandler>,
    socket: Socket,
    event: String,
    mut args: Args,
    ack: Option<Ack>,
    order: Order,
) {
    if let Some(previous) = order.previous {
        let _ = previous.await;
    }
    for middleware in &def.packet_middlewares {
        match middleware(socket.clone(), event.clone(), args).await {
            Ok(a) => args = a,
            Err(e) if def.on_error.is_empty() => {
                return warn!(socket = socket.id(), %event, error = %e, "packet middleware refused an event, no error handler")
            }
            Err(e) => {
                // The refusal ends the event's ordered phase: the error handlers run as
                // the event's handler would have, not before the next event.
                let _ = order.done.send(());
                for handler in &def.on_error {
                    handler(socket.clone(), e.clone()).await;
                }
                return;
            }
        }
    }
    for any in &def.on_any {
        any(socket.clone(), event.clone(), args.clone()).await;
    }
    let _ = order.done.send(());
    if let Some(handler) = handler {
        handler(socket, args, ack).await;
    }
}
