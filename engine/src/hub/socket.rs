//! The Socket.IO side of the hub: a session's messages as Socket.IO packets, namespaces
//! connected and refused, events dispatched to their handlers, sockets that leave.

use super::*;

impl<S: Store, H: Host> Inner<S, H> {
    /// A client message; returns the turn of the event it dispatched, if any.
    pub(super) async fn on_message(&self, sid: &str, data: Data) -> Option<Turn> {
        if let (Some(engine), Some(ops)) = (&self.app.engine, self.ops()) {
            run(&self.host, engine(EngineSocket::new(sid, ops), data));
            return None;
        }
        match data {
            Data::Text(text) => match sio::decode(&text) {
                Ok(Decoded::Complete(packet)) => self.on_packet(sid, packet).await,
                Ok(Decoded::Partial(partial)) => {
                    let stored = self
                        .store
                        .update_session(sid, |r| {
                            if r.partial.is_some() {
                                return false;
                            }
                            r.partial = Some(partial.clone());
                            true
                        })
                        .await;
                    if stored != Ok(Some(true)) {
                        warn!(%sid, "a binary packet started before the previous one completed");
                        self.close_session(sid, CloseReason::ParseError, Some(Packet::Close)).await;
                    }
                    None
                }
                Err(e) => {
                    warn!(%sid, error = %e, "undecodable Socket.IO packet");
                    self.close_session(sid, CloseReason::ParseError, Some(Packet::Close)).await;
                    None
                }
            },
            Data::Binary(bytes) => {
                let pushed = self
                    .store
                    .update_session(sid, |r| match r.partial.as_mut() {
                        None => Err("a binary frame with no packet waiting for it".to_owned()),
                        Some(p) => match p.push(bytes.clone()) {
                            Ok(Some(done)) => {
                                r.partial = None;
                                Ok(Some(done))
                            }
                            Ok(None) => Ok(None),
                            Err(e) => Err(e.to_string()),
                        },
                    })
                    .await;
                match pushed {
                    Ok(Some(Ok(Some(packet)))) => return self.on_packet(sid, packet).await,
                    Ok(Some(Ok(None))) | Ok(None) => {}
                    Ok(Some(Err(e))) => {
                        warn!(%sid, error = %e, "bad binary attachment");
                        self.close_session(sid, CloseReason::ParseError, Some(Packet::Close)).await;
                    }
                    Err(e) => warn!(%sid, error = %e, "cannot load session"),
                }
                None
            }
        }
    }

    pub(super) async fn on_packet(&self, sid: &str, packet: sio::Packet) -> Option<Turn> {
        let socket = self
            .store
            .update_session(sid, |r| match r.partial {
                Some(_) => Err(()),
                None => Ok(r.socket_in(&packet.nsp).map(str::to_owned)),
            })
            .await;
        let socket = match socket {
            Ok(Some(Ok(socket))) => socket,
            Ok(Some(Err(()))) => {
                warn!(%sid, "a text packet arrived while binary attachments were awaited");
                self.close_session(sid, CloseReason::ParseError, Some(Packet::Close)).await;
                return None;
            }
            _ => return None,
        };
        if packet.kind == PacketKind::Connect {
            self.connect(sid, packet.nsp, packet.data).await;
            return None;
        }
        self.on_socket_packet(sid, packet, socket).await
    }

    /// A packet other than CONNECT, for `socket`: the client's socket in the packet's
    /// namespace, if it joined it. Returns the turn of the event it dispatched, if any.
    pub(super) async fn on_socket_packet(
        &self,
        sid: &str,
        packet: sio::Packet,
        socket: Option<String>,
    ) -> Option<Turn> {
        let Some(id) = socket else {
            warn!(%sid, nsp = %packet.nsp, "packet for a namespace the client has not joined");
            Box::pin(self.close_session(sid, CloseReason::ParseError, Some(Packet::Close))).await;
            return None;
        };
        match packet.kind {
            PacketKind::Disconnect => {
                let _ = self.store.update_session(sid, |r| r.sockets.retain(|(_, s)| *s != id)).await;
                Box::pin(self.socket_gone(&packet.nsp, &id, DisconnectReason::ClientNamespaceDisconnect)).await;
            }
            PacketKind::Event => return self.dispatch(sid, &id, packet),
            PacketKind::Ack => {
                let ack = packet.id?;
                match self.store.take_ack(&packet.nsp, &id, ack).await {
                    Ok(Some(pending)) => {
                        self.resolve_ack(pending, Ok(Args::from_ack_data(packet.data, packet.attachments)))
                    }
                    Ok(None) => debug!(%sid, ack, "an acknowledgement nobody awaits (late or unknown)"),
                    Err(e) => warn!(%sid, error = %e, "cannot load a pending acknowledgement"),
                }
            }
            PacketKind::Connect | PacketKind::ConnectError => {
                warn!(%sid, "a client sent a server-only packet");
                Box::pin(self.close_session(sid, CloseReason::ParseError, Some(Packet::Close))).await;
            }
        }
        None
    }

    /// Runs an event's handler; returns the event's turn when it goes through the ordered
    /// phase first.
    pub(super) fn dispatch(&self, sid: &str, id: &str, packet: sio::Packet) -> Option<Turn> {
        let def = self.app.resolve(&packet.nsp)?;
        let (event, args) = packet.data.and_then(|d| Args::from_event_data(d, packet.attachments))?;
        let ops = self.ops()?;
        let socket = Socket::new(id, &packet.nsp, None, false, ops.clone());
        let ack = packet.id.map(|ack| Ack::new(&packet.nsp, sid, ack, ops));
        let handler = def.handler(&event).cloned();
        if def.packet_middlewares.is_empty() && def.on_any.is_empty() {
            if let Some(handler) = handler {
                run(&self.host, handler(socket, args, ack));
            }
            return None;
        }
        let (done, turn) = oneshot::channel();
        let turn = turn.shared();
        let previous = self.turns.lock().unwrap_or_else(|e| e.into_inner()).insert(id.to_owned(), turn.clone());
        let order = Order { previous, done };
        run(&self.host, boxed(run_event(def.clone(), handler, socket, event, args, ack, order)));
        Some(turn)
    }

    pub(super) async fn connect(&self, sid: &str, nsp: String, auth: Option<Value>) {
        let Some(def) = self.app.resolve(&nsp) else {
            return self
                .send_packet(
                    sid,
                    &sio::Packet::connect_error(&nsp, serde_json::json!({"message": "Invalid namespace"})),
                )
                .await;
        };
        let max = self.config.socket.max_namespaces;
        let handshake = self.store.update_session(sid, |r| r.admits(&nsp, max).map(|()| r.handshake.clone())).await;
        let mut handshake = match handshake {
            Ok(Some(Ok(h))) => h,
            Ok(Some(Err(refusal))) => return self.refuse_namespace(sid, &nsp, refusal).await,
            _ => return,
        };
        let auth = match auth {
            Some(Value::Object(map)) => map,
            _ => Map::new(),
        };
        let asked = self.config.socket.recovery.as_ref().and_then(|rc| match (auth.get("pid"), auth.get("offset")) {
            (Some(Value::String(pid)), Some(Value::String(offset))) => {
                Some((pid.clone(), offset.clone(), self.host.now().saturating_sub(rc.max_disconnection_duration)))
            }
            _ => None,
        });
        // The socket shares the session's handshake unless this namespace's auth differs.
        let auth = Value::Object(auth);
        if handshake.auth != auth {
            Arc::make_mut(&mut handshake).auth = auth;
        }
        let mut restored = None;
        if let Some((pid, offset, not_before)) = asked {
            let (nsp, handshake) = (nsp.clone(), handshake.clone());
            let recovery = Recovery { pid: pid.clone(), offset, not_before, nsp, sid: sid.to_owned(), handshake };
            match self.store.restore_socket(recovery).await {
                Ok(r) => restored = r.map(|r| (pid, r)),
                Err(e) => warn!(%sid, error = %e, "cannot restore a session"),
            }
        }
        let recovered = restored.is_some();
        let (id, pid) = match restored {
            // Back in its rooms already: what it missed goes out at once (only a live
            // event sent in the moment since the store step can come before it) and, as
            // from the reference server, before the CONNECT, which clients hold events for.
            Some((pid, (socket, missed))) => {
                for entry in missed {
                    let (data, binary) = entry.args().into_event_data(&entry.event);
                    self.send_packet(sid, &sio::Packet::event(&nsp, data, binary, None)).await;
                }
                (socket.id, Some(pid))
            }
            None => {
                let id = self.host.random_id();
                let pid = self.config.socket.recovery.as_ref().map(|_| self.host.random_id());
                let record = SocketRecord {
                    id: id.clone(),
                    nsp: nsp.clone(),
                    sid: sid.to_owned(),
                    data: Value::Null,
                    pid: pid.clone(),
                    handshake: handshake.clone(),
                };
                if let Err(e) = self.store.insert_socket(record).await {
                    warn!(%sid, error = %e, "cannot store a socket");
                    return;
                }
                (id, pid)
            }
        };
        let Some(socket) = self.socket_handle(&id, &nsp, Some(handshake), recovered) else { return };
        let skip = recovered && self.config.socket.recovery.as_ref().is_some_and(|r| r.skip_middlewares);
        if !skip {
            for middleware in &def.middlewares {
                if let Err(refusal) = middleware(socket.clone()).await {
                    let _ = self.store.remove_socket(&nsp, &id).await;
                    return self.send_packet(sid, &sio::Packet::connect_error(&nsp, refusal.to_json())).await;
                }
            }
        }
        let joined = self
            .store
            .update_session(sid, |r| {
                r.admits(&nsp, max)?;
                // Most sessions join one namespace: a first push would make room for four.
                r.sockets.reserve_exact(1);
                r.sockets.push((nsp.clone(), id.clone()));
                r.connect_deadline = None;
                Ok(r.deadline())
            })
            .await;
        let deadline = match joined {
            Ok(Some(Ok(deadline))) => deadline,
            Ok(Some(Err(refusal))) => {
                let _ = self.store.remove_socket(&nsp, &id).await;
                return self.refuse_namespace(sid, &nsp, refusal).await;
            }
            _ => {
                let _ = self.store.remove_socket(&nsp, &id).await;
                return;
            }
        };
        match deadline {
            Some(at) => self.schedule(sid, at).await,
            None => {
                let _ = self.store.set_deadline(sid, None).await;
            }
        }
        if !recovered {
            if let Err(e) = self.join_rooms(&nsp, &id, std::slice::from_ref(&id), usize::MAX).await {
                warn!(%sid, error = %e, "cannot store rooms");
            }
        }
        let reply = match &pid {
            Some(pid) => serde_json::json!({ "sid": id, "pid": pid }),
            None => serde_json::json!({ "sid": id }),
        };
        self.send_packet(sid, &sio::Packet::connect(&nsp, Some(reply))).await;
        debug!(%sid, %nsp, socket = %id, recovered, "socket connected");
        if let (Some(hook), true) = (&self.app.new_namespace, self.app.is_dynamic(&nsp)) {
            match self.store.members(&Target::namespace(&nsp)).await {
                Ok(members) if members.iter().all(|m| m.id == id) => {
                    if let Some(ops) = self.ops() {
                        run(&self.host, hook(Server::new(ops), nsp.clone()));
                    }
                }
                Ok(_) => {}
                Err(e) => warn!(%nsp, error = %e, "cannot tell whether a namespace is new"),
            }
        }
        for handler in &def.on_connect {
            run(&self.host, handler(socket.clone()));
        }
    }

    pub(super) async fn refuse_namespace(&self, sid: &str, nsp: &str, refusal: NamespaceRefusal) {
        match refusal {
            NamespaceRefusal::AlreadyConnected => debug!(%sid, %nsp, "already connected to this namespace"),
            NamespaceRefusal::TooMany => {
                warn!(%sid, %nsp, max = self.config.socket.max_namespaces, "CONNECT refused: max_namespaces reached");
                let refusal = serde_json::json!({"message": "Too many namespaces"});
                self.send_packet(sid, &sio::Packet::connect_error(nsp, refusal)).await;
            }
        }
    }

    /// A socket left its namespace: run the handlers, drop its rooms and pending acks,
    /// and keep it for recovery if the client may come back.
    pub(super) async fn socket_gone(&self, nsp: &str, id: &str, reason: DisconnectReason) {
        let def = self.app.resolve(nsp);
        let socket = self.socket_handle(id, nsp, None, false);
        if let (Some(def), Some(socket)) = (def, &socket) {
            for handler in &def.on_disconnecting {
                handler(socket.clone(), reason).await;
            }
        }
        let removed = match self.store.remove_socket(nsp, id).await {
            Ok(r) => r,
            Err(e) => {
                warn!(socket = %id, error = %e, "cannot remove socket");
                None
            }
        };
        if let Some((_, rooms)) = &removed {
            self.left_all(nsp, id, rooms).await;
        }
        match self.store.take_acks_of(nsp, id).await {
            Ok(acks) => acks.into_iter().for_each(|ack| self.resolve_ack(ack, Err(AckError::Disconnected))),
            Err(e) => warn!(socket = %id, error = %e, "cannot drop pending acknowledgements"),
        }
        self.acks.lock().unwrap_or_else(|e| e.into_inner()).remove(id);
        self.turns.lock().unwrap_or_else(|e| e.into_inner()).remove(id);
        if let (Some((record, rooms)), Some(_)) = (&removed, &self.config.socket.recovery) {
            if let (Some(pid), true) = (&record.pid, reason.recoverable()) {
                let kept = PersistedSocket {
                    id: record.id.clone(),
                    nsp: record.nsp.clone(),
                    rooms: rooms.clone(),
                    data: record.data.clone(),
                    disconnected_at: self.host.now(),
                };
                if let Err(e) = self.store.persist_socket(pid, kept).await {
                    warn!(socket = %id, error = %e, "cannot keep socket for recovery");
                }
            }
        }
        if let (Some(def), Some(socket)) = (def, socket) {
            for handler in &def.on_disconnect {
                run(&self.host, handler(socket.clone(), reason));
            }
        }
    }

    pub(super) fn def(&self, nsp: &str) -> Option<&NamespaceDef> {
        self.app.resolve(nsp)
    }
}
