//! What handlers ask of the server ([`Ops`]), carried out by the hub.

use super::*;

impl<S: Store, H: Host> Ops for Inner<S, H> {
    fn server_side_emit(
        &self,
        nsp: String,
        event: String,
        args: Args,
        timeout_ms: Option<u64>,
    ) -> BoxFuture<'_, Result<AckReplies, OpError>> {
        boxed(async move { self.host.server_side_emit(&nsp, &event, args, timeout_ms).await.map_err(OpError::Store) })
    }

    fn emit(&self, target: Target, event: String, args: Args) -> BoxFuture<'_, Result<(), OpError>> {
        boxed(async move { self.emit_inner(target, event, args).await })
    }

    fn emit_with_ack(
        &self,
        target: Target,
        event: String,
        args: Args,
        timeout_ms: Option<u64>,
    ) -> BoxFuture<'_, Result<AckReplies, AckError>> {
        boxed(async move {
            // An event that awaits answers is never dropped as volatile: its answers would
            // never come.
            let target = Target { volatile: false, ..target };
            let ack = self.ack_seq.fetch_add(1, Ordering::Relaxed);
            let order = self.emit_order();
            let mut members = self.members_of(&target).await?;
            let refused = self.expect_acks(&target.nsp, &members, ack, timeout_ms, None, Value::Null).await?;
            members.retain(|m| !refused.iter().any(|r| r.socket == m.id));
            let mut receivers = Vec::with_capacity(members.len());
            {
                let mut acks = self.acks.lock().unwrap_or_else(|e| e.into_inner());
                for member in &members {
                    let (tx, rx) = oneshot::channel();
                    acks.entry(member.id.clone()).or_default().insert(ack, tx);
                    receivers.push(rx);
                }
            }
            if !receivers.is_empty() {
                self.host.awaiting_acks();
            }
            let ids = self.send_event(&target, members, event, args, Some(ack), order).await;
            let replies = Arc::new(Mutex::new(Vec::new()));
            let gather = join_all(receivers.into_iter().map(|rx| {
                let replies = replies.clone();
                async move {
                    if let Ok(reply) = rx.await {
                        replies.lock().unwrap_or_else(|e| e.into_inner()).push(reply);
                    }
                }
            }));
            let timed_out = match timeout_ms {
                Some(ms) => matches!(select(Box::pin(gather), self.host.sleep(ms)).await, Either::Right(_)),
                None => {
                    gather.await;
                    false
                }
            };
            {
                let mut acks = self.acks.lock().unwrap_or_else(|e| e.into_inner());
                for id in &ids {
                    if let Some(m) = acks.get_mut(id) {
                        m.remove(&ack);
                        if m.is_empty() {
                            acks.remove(id);
                        }
                    }
                }
            }
            let replies = std::mem::take(&mut *replies.lock().unwrap_or_else(|e| e.into_inner()));
            let timed_out = timed_out && replies.len() < ids.len();
            Ok(AckReplies { replies, timed_out, refused: refused.len() })
        })
    }

    fn emit_with_ack_to(
        &self,
        target: Target,
        event: String,
        args: Args,
        handler: String,
        context: Value,
        timeout_ms: Option<u64>,
    ) -> BoxFuture<'_, Result<(), OpError>> {
        boxed(async move {
            // An event that awaits answers is never dropped as volatile: its answers would
            // never come.
            let target = Target { volatile: false, ..target };
            let ack = self.ack_seq.fetch_add(1, Ordering::Relaxed);
            let order = self.emit_order();
            let mut members = self.members_of(&target).await?;
            let refused = self.expect_acks(&target.nsp, &members, ack, timeout_ms, Some(handler), context).await?;
            members.retain(|m| !refused.iter().any(|r| r.socket == m.id));
            for pending in refused {
                self.resolve_ack(pending, Err(AckError::TooManyPendingAcks));
            }
            self.send_event(&target, members, event, args, Some(ack), order).await;
            Ok(())
        })
    }

    fn ack(&self, nsp: String, sid: String, id: u64, args: Args) -> BoxFuture<'_, Result<(), OpError>> {
        boxed(async move {
            let (data, binary) = args.into_ack_data();
            self.send_packet(sid, &sio::Packet::ack(&nsp, id, data, binary)).await;
            Ok(())
        })
    }

    fn join(&self, target: Target, rooms: Vec<String>) -> BoxFuture<'_, Result<(), OpError>> {
        boxed(async move {
            let max = self.config.socket.max_rooms;
            let mut refused = false;
            for member in self.members_of(&target).await? {
                if !self.join_rooms(&target.nsp, &member.id, &rooms, max).await.map_err(store_error)? {
                    warn!(socket = %member.id, max, "join refused: max_rooms reached");
                    refused = true;
                }
            }
            if refused {
                return Err(OpError::TooManyRooms);
            }
            Ok(())
        })
    }

    fn leave(&self, target: Target, rooms: Vec<String>) -> BoxFuture<'_, Result<(), OpError>> {
        boxed(async move {
            for member in self.members_of(&target).await? {
                self.leave_rooms(&target.nsp, &member.id, &rooms).await.map_err(store_error)?;
            }
            Ok(())
        })
    }

    fn fetch_sockets(&self, target: Target) -> BoxFuture<'_, Result<Vec<SocketInfo>, OpError>> {
        boxed(async move {
            let mut out = Vec::new();
            for member in self.members_of(&target).await? {
                let Some(record) = self.store.socket(&target.nsp, &member.id).await.map_err(store_error)? else {
                    continue;
                };
                let rooms = self.store.rooms_of(&target.nsp, &member.id).await.map_err(store_error)?;
                out.push(SocketInfo {
                    id: record.id,
                    nsp: record.nsp,
                    rooms,
                    data: record.data,
                    handshake: Arc::unwrap_or_clone(record.handshake),
                });
            }
            Ok(out)
        })
    }

    fn disconnect(&self, target: Target, close: bool) -> BoxFuture<'_, Result<(), OpError>> {
        boxed(async move {
            let members = self.members_of(&target).await?;
            for member in self.host.disconnect_elsewhere(&target.nsp, members, close).await {
                if close {
                    // As in Node: every namespace of the connection is told first, then the
                    // connection closes.
                    let sockets = self.store.update_session(&member.sid, |r| std::mem::take(&mut r.sockets)).await;
                    for (nsp, id) in sockets.ok().flatten().unwrap_or_default() {
                        self.send_packet(&member.sid, &sio::Packet::disconnect(&nsp)).await;
                        self.socket_gone(&nsp, &id, DisconnectReason::ServerNamespaceDisconnect).await;
                    }
                    self.close_session(&member.sid, CloseReason::ForcedClose, Some(Packet::Close)).await;
                    continue;
                }
                let left = self
                    .store
                    .update_session(&member.sid, |r| {
                        let before = r.sockets.len();
                        r.sockets.retain(|(n, s)| !(*n == target.nsp && *s == member.id));
                        before != r.sockets.len()
                    })
                    .await;
                if left == Ok(Some(true)) {
                    self.send_packet(&member.sid, &sio::Packet::disconnect(&target.nsp)).await;
                    self.socket_gone(&target.nsp, &member.id, DisconnectReason::ServerNamespaceDisconnect).await;
                }
            }
            Ok(())
        })
    }

    fn sleep(&self, ms: u64) -> BoxFuture<'static, ()> {
        self.host.sleep(ms)
    }

    fn now(&self) -> u64 {
        self.host.now()
    }

    fn send_message(&self, sid: String, data: Data) -> BoxFuture<'_, ()> {
        boxed(async move { self.transmit(sid, Arc::from([Packet::Message(data)])).await })
    }

    fn transport(&self, nsp: String, socket: String) -> BoxFuture<'_, Result<TransportKind, OpError>> {
        boxed(async move {
            let record = self.store.socket(&nsp, &socket).await.map_err(store_error)?;
            let sid = record.ok_or(OpError::NotConnected)?.sid;
            let transport = self.store.update_session(&sid, |r| r.eio.transport).await.map_err(store_error)?;
            transport.ok_or(OpError::NotConnected)
        })
    }

    fn census(&self) -> BoxFuture<'_, Result<Census, OpError>> {
        boxed(async move { self.store.census().await.map_err(store_error) })
    }

    fn same_parent(&self, a: &str, b: &str) -> bool {
        self.app.same_parent(a, b)
    }

    fn set_data(&self, nsp: String, socket: String, data: Value) -> BoxFuture<'_, Result<(), OpError>> {
        boxed(async move {
            match self.store.set_socket_data(&nsp, &socket, data).await.map_err(store_error)? {
                true => Ok(()),
                false => Err(OpError::NotConnected),
            }
        })
    }
}
