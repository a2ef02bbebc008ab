//! The Engine.IO side of the hub: handshakes, sessions and their deadlines, what reaches
//! a session (to its WebSocket, or queued for its polling GET), and its end.

use super::*;

impl<S: Store, H: Host> Inner<S, H> {
    pub(super) fn ops(&self) -> Option<SharedOps> {
        self.me.upgrade().map(|me| me as SharedOps)
    }

    pub(super) fn socket_handle(
        &self,
        id: &str,
        nsp: &str,
        handshake: Option<Arc<Handshake>>,
        recovered: bool,
    ) -> Option<Socket> {
        Some(Socket::new(id, nsp, handshake, recovered, self.ops()?))
    }

    pub(super) async fn handshake(
        &self,
        transport: TransportKind,
        handshake: Handshake,
    ) -> Result<(String, Packet), RequestError> {
        let max = self.config.engine.max_sessions;
        let open = self.store.session_count().await.map_err(|e| {
            warn!(error = %e, "cannot count sessions");
            RequestError::StoreUnavailable
        })?;
        if open >= max {
            warn!(open, max, "handshake refused: max_sessions reached");
            return Err(RequestError::TooManySessions);
        }
        if let (Some(allow), Some(ops)) = (&self.app.allow_request, self.ops()) {
            allow(handshake.clone(), Server::new(ops)).await.map_err(RequestError::Forbidden)?;
        }
        let now = self.host.now();
        let sid = self.new_session_id(&handshake).await;
        let eio = EngineSession::new(sid.clone(), transport, now, &self.config.engine);
        let open = eio.open_packet(&self.config.engine);
        let record = SessionRecord {
            eio,
            sockets: Vec::new(),
            partial: None,
            connect_deadline: Some(now + self.config.socket.connect_timeout),
            handshake: Arc::new(handshake),
        };
        let deadline = record.deadline();
        self.store.insert_session(record).await.map_err(|e| {
            warn!(error = %e, "cannot store a new session");
            RequestError::StoreUnavailable
        })?;
        if let Some(at) = deadline {
            self.schedule(&sid, at).await;
        }
        debug!(%sid, transport = transport.name(), "session opened");
        Ok((sid, open))
    }

    pub(super) async fn schedule(&self, sid: &str, at: u64) {
        if let Err(e) = self.store.set_deadline(sid, Some(at)).await {
            warn!(%sid, error = %e, "cannot store a deadline");
        }
        self.host.wake_at(at);
    }

    pub(super) async fn session(&self, sid: &str) -> Result<Option<SessionView>, RequestError> {
        let now = self.host.now();
        let view = self
            .store
            .update_session(sid, |r| {
                (!r.eio.expired(now))
                    .then_some(SessionView { transport: r.eio.transport, upgrading: r.eio.upgrading() })
            })
            .await;
        match view {
            Ok(Some(Some(view))) => Ok(Some(view)),
            Ok(Some(None)) => {
                self.close_session(sid, CloseReason::PingTimeout, Some(Packet::Close)).await;
                Ok(None)
            }
            Ok(None) => Ok(None),
            Err(e) => {
                warn!(%sid, error = %e, "cannot load session");
                Err(RequestError::StoreUnavailable)
            }
        }
    }

    /// Steps the session with client packets; `turns` gets the turn of each event dispatched
    /// through the ordered phase (see [`Order`]).
    pub(super) async fn receive(&self, sid: &str, packets: Vec<Packet>, turns: &mut Vec<Turn>) -> bool {
        let cfg = &self.config.engine;
        for packet in packets {
            let now = self.host.now();
            // A complete Socket.IO packet is decoded before the engine step, so that the
            // socket it addresses is looked up in the same read of the session: one store
            // round trip per event instead of two.
            let early = match &packet {
                Packet::Message(Data::Text(text)) if self.app.engine.is_none() => match sio::decode(text) {
                    Ok(Decoded::Complete(p)) if p.kind != PacketKind::Connect => Some(p),
                    _ => None,
                },
                _ => None,
            };
            let stepped = self
                .store
                .update_session(sid, |r| {
                    let before = r.deadline();
                    let step = r.eio.on_packet(&packet, Channel::Current, now, cfg);
                    let after = r.deadline();
                    let socket = match (&step, &early) {
                        (Step::Message, Some(p)) if r.partial.is_none() => Some(r.socket_in(&p.nsp).map(str::to_owned)),
                        _ => None,
                    };
                    (step, after.filter(|_| after != before), socket)
                })
                .await;
            let (step, deadline, socket) = match stepped {
                Ok(Some(s)) => s,
                Ok(None) => return false,
                Err(e) => {
                    warn!(%sid, error = %e, "cannot load session");
                    return false;
                }
            };
            if let Some(at) = deadline {
                self.schedule(sid, at).await;
            }
            match step {
                // The paths an event takes are kept inline; the others (connects, binary
                // packets, closes) are boxed, so that the future of every message, itself
                // boxed by the runtime, is not sized (and copied) for the largest of them.
                Step::Message => match (early, socket, packet) {
                    (Some(early), Some(socket), _) => turns.extend(self.on_socket_packet(sid, early, socket).await),
                    (_, _, Packet::Message(data)) => turns.extend(Box::pin(self.on_message(sid, data)).await),
                    _ => {}
                },
                Step::Close(reason) => {
                    let last = (reason == CloseReason::TransportClose).then_some(Packet::Noop);
                    Box::pin(self.close_session(sid, reason, last)).await;
                    return false;
                }
                Step::AbortUpgrade => self.host.abort_upgrade(sid),
                Step::Idle | Step::Ping | Step::Probed(_) | Step::Upgraded => {}
            }
        }
        true
    }

    pub(super) async fn on_deadline(&self, sid: &str, now: u64) {
        let cfg = &self.config.engine;
        let stepped = self
            .store
            .update_session(sid, |r| {
                let mut steps = r.eio.on_timeout(now, cfg);
                let connect_timeout = r.connect_deadline.is_some_and(|d| d <= now);
                if connect_timeout {
                    steps.push(Step::Close(CloseReason::TransportClose));
                }
                (steps, r.deadline(), connect_timeout)
            })
            .await;
        let (steps, deadline, connect_timeout) = match stepped {
            Ok(Some(s)) => s,
            Ok(None) | Err(_) => {
                let _ = self.store.set_deadline(sid, None).await;
                return;
            }
        };
        if connect_timeout {
            warn!(%sid, "no namespace joined within the connect timeout");
        }
        for step in steps {
            match step {
                Step::Ping => self.transmit(sid, Arc::from([Packet::Ping(String::new())])).await,
                Step::AbortUpgrade => self.host.abort_upgrade(sid),
                Step::Close(reason) => {
                    debug!(%sid, reason = reason.as_str(), "session timed out");
                    self.close_session(sid, reason, Some(Packet::Close)).await;
                    return;
                }
                _ => {}
            }
        }
        match deadline {
            Some(at) => self.schedule(sid, at).await,
            None => {
                let _ = self.store.set_deadline(sid, None).await;
            }
        }
    }

    /// The id of a new session: the application's choice ([`sio_core::App::generate_id`])
    /// unless it is invalid or taken (a session with that id still open would be handed
    /// to the new client), a random one otherwise.
    async fn new_session_id(&self, handshake: &Handshake) -> String {
        let chosen = match self.app.hooks.session_id(handshake) {
            Some(Ok(chosen)) => chosen,
            Some(Err(invalid)) => {
                warn!(%invalid, "generate_id gave an invalid session id: a random one is used");
                return self.host.random_id();
            }
            None => return self.host.random_id(),
        };
        let sid = self.host.session_id(chosen);
        match self.store.update_session(&sid, |_| ()).await {
            Ok(None) => sid,
            Ok(Some(())) => {
                warn!(%sid, "generate_id gave the id of an open session: a random one is used");
                self.host.random_id()
            }
            Err(e) => {
                warn!(%sid, error = %e, "cannot tell whether a chosen session id is taken: a random one is used");
                self.host.random_id()
            }
        }
    }

    /// Sends packets to a session: straight onto its WebSocket, or into its polling queue.
    /// `sid` as the caller has it: one that owns its id hands it on uncopied.
    pub(super) async fn transmit(&self, sid: impl Into<String>, packets: Arc<[Packet]>) {
        self.transmit_to(vec![sid.into()], packets, false).await
    }

    /// Sends packets to sessions, `volatile` ones only to those that can take them now
    /// ([`Host::deliver`]).
    pub(super) async fn transmit_to(&self, sids: Vec<String>, packets: Arc<[Packet]>, volatile: bool) {
        for sid in self.host.deliver(sids, packets.clone(), volatile).await {
            self.queue(&sid, &packets, volatile).await;
        }
    }

    /// Queues packets for a polling session. `volatile` ones only into an empty queue: a
    /// client that has not fetched what was queued before is busy, as Node's polling
    /// transport is not writable between two GETs, and they are dropped.
    pub(super) async fn queue(&self, sid: &str, packets: &[Packet], volatile: bool) {
        let max = match volatile {
            true => packets.len(),
            false => self.config.engine.max_buffered_packets,
        };
        match self.store.push_outbound(sid, packets, max).await {
            Ok(Queued::Yes) => self.host.notify(sid),
            Ok(Queued::Sealed) => {
                // The session upgraded after we found no WebSocket: it is there now (a
                // noop only ever meant to release a GET).
                let packets: Arc<[Packet]> = packets.iter().filter(|p| **p != Packet::Noop).cloned().collect();
                if !packets.is_empty() && !self.host.deliver(vec![sid.to_owned()], packets, volatile).await.is_empty() {
                    debug!(%sid, "packets for a WebSocket that is gone dropped");
                }
            }
            Ok(Queued::Full) if volatile => debug!(%sid, "volatile packets dropped: the polling client is busy"),
            Ok(Queued::Full) => {
                warn!(%sid, max, "polling queue over max_buffered_packets: closing the session");
                if let Some(me) = self.me.upgrade() {
                    self.host.spawn(close_task(me, sid.to_owned(), CloseReason::TransportError));
                }
            }
            Err(e) => warn!(%sid, error = %e, "cannot queue packets"),
        }
    }

    /// Releases the GET still parked a moment after a probe, as Node does, so that the
    /// client can pause polling and send the upgrade packet. A poll answered meanwhile
    /// needs no noop, and the client sees none.
    pub(super) fn release_poll_later(self: &Arc<Self>, sid: &str) {
        let (inner, sid) = (self.clone(), sid.to_owned());
        self.host.spawn(boxed(async move {
            inner.host.sleep(UPGRADE_NOOP_DELAY_MS).await;
            if inner.store.update_session(&sid, |r| r.eio.upgrading()).await == Ok(Some(true)) {
                inner.queue(&sid, &[Packet::Noop], false).await;
            }
        }));
    }

    pub(super) async fn send_packet(&self, sid: impl Into<String>, packet: &sio::Packet) {
        self.transmit_to(vec![sid.into()], frames(packet), false).await
    }

    pub(super) async fn close_session(&self, sid: &str, reason: CloseReason, last: Option<Packet>) {
        let deferred =
            self.store.update_session(sid, |r| r.eio.defer_close().then(|| std::mem::take(&mut r.sockets))).await;
        if let Ok(Some(Some(sockets))) = deferred {
            debug!(%sid, reason = reason.as_str(), "closing once the upgrade in progress settles");
            if let Some(last) = last {
                self.queue(sid, &[last], false).await;
            }
            for (nsp, id) in sockets {
                self.socket_gone(&nsp, &id, reason.into()).await;
            }
            return;
        }
        let (record, mut remaining) = match self.store.remove_session(sid).await {
            Ok(Some(r)) => r,
            Ok(None) => return,
            Err(e) => {
                warn!(%sid, error = %e, "cannot remove session");
                return;
            }
        };
        debug!(%sid, reason = reason.as_str(), "session closed");
        // What the client's GET is owed. An orderly close by the server (`disconnect(true)`)
        // owes what is still queued and a close packet, for the next GET if none is parked
        // (Node buffers an orderly close likewise); the client's own close owes `last`; an
        // error owes nothing (a parked GET gets a bare close, the next one "Session ID
        // unknown").
        let owed = match reason {
            CloseReason::ForcedClose => {
                remaining.extend(last);
                remaining
            }
            CloseReason::TransportClose => last.into_iter().collect(),
            _ => Vec::new(),
        };
        self.host.close(sid, owed);
        for (nsp, id) in record.sockets {
            self.socket_gone(&nsp, &id, reason.into()).await;
        }
    }
}
