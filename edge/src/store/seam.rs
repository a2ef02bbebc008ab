//! The store seam ([`Store`]) on this object's tables, and on the other objects' for
//! the sockets they keep.

use super::*;

impl Store for SqlStore {
    fn insert_session(&self, record: SessionRecord) -> impl Future<Output = Res<()>> + MaybeSend {
        ready(self.save_session(&record))
    }

    fn session_count(&self) -> impl Future<Output = Res<usize>> + MaybeSend {
        ready(self.sessions_here())
    }

    fn census(&self) -> impl Future<Output = Res<Census>> + MaybeSend {
        self.census_everywhere()
    }

    fn update_session<R, F>(&self, sid: &str, mut f: F) -> impl Future<Output = Res<Option<R>>> + MaybeSend
    where
        R: MaybeSend,
        F: FnMut(&mut SessionRecord) -> R + MaybeSend,
    {
        let result = (|| {
            let Some(mut record) = self.session(sid)? else { return Ok(None) };
            let before = encode(&record)?;
            let out = f(&mut record);
            // Most steps only read: writing an unchanged record would cost a row write.
            let after = encode(&record)?;
            if after != before {
                self.exec("UPDATE sessions SET record = ? WHERE sid = ?", vec![text(&after), text(sid)])?;
            }
            Ok(Some(out))
        })();
        ready(result)
    }

    fn remove_session(&self, sid: &str) -> impl Future<Output = Res<Option<(SessionRecord, Vec<Packet>)>>> + MaybeSend {
        let result = (|| {
            let rows = self.texts("DELETE FROM sessions WHERE sid = ? RETURNING record", vec![text(sid)])?;
            let Some(row) = rows.first() else { return Ok(None) };
            let record = decode(sid, row)?;
            let packets = self.take_queue(sid)?;
            self.exec("DELETE FROM sealed WHERE sid = ?", vec![text(sid)])?;
            Ok(Some((record, packets)))
        })();
        ready(result)
    }

    fn insert_socket(&self, record: SocketRecord) -> impl Future<Output = Res<()>> + MaybeSend {
        ready(self.insert_local(&record))
    }

    fn socket(&self, nsp: &str, id: &str) -> impl Future<Output = Res<Option<SocketRecord>>> + MaybeSend {
        self.route((nsp, id), || Call::Socket(nsp.to_owned(), id.to_owned()), || self.socket_record(nsp, id)).finish()
    }

    fn set_socket_data(
        &self,
        nsp: &str,
        id: &str,
        data: serde_json::Value,
    ) -> impl Future<Output = Res<bool>> + MaybeSend {
        self.route(
            (nsp, id),
            || Call::SetData(nsp.to_owned(), id.to_owned(), data.clone()),
            || self.set_data_local(nsp, id, data.clone()),
        )
        .finish()
    }

    fn remove_socket(
        &self,
        nsp: &str,
        id: &str,
    ) -> impl Future<Output = Res<Option<(SocketRecord, Vec<String>)>>> + MaybeSend {
        let result = (|| {
            let mut rooms =
                self.texts("DELETE FROM rooms WHERE nsp = ? AND id = ? RETURNING room", vec![text(nsp), text(id)])?;
            rooms.sort();
            let removed =
                self.texts("DELETE FROM sockets WHERE nsp = ? AND id = ? RETURNING record", vec![text(nsp), text(id)])?;
            removed.first().map(|r| Ok((decode(id, r)?, rooms))).transpose()
        })();
        ready(result)
    }

    fn join(&self, nsp: &str, id: &str, rooms: &[String], max: usize) -> impl Future<Output = Res<bool>> + MaybeSend {
        self.route(
            (nsp, id),
            || Call::Join(nsp.to_owned(), id.to_owned(), rooms.to_vec(), max),
            || self.join_local(nsp, id, rooms, max),
        )
        .finish()
    }

    fn leave(&self, nsp: &str, id: &str, rooms: &[String]) -> impl Future<Output = Res<()>> + MaybeSend {
        self.route(
            (nsp, id),
            || Call::Leave(nsp.to_owned(), id.to_owned(), rooms.to_vec()),
            || self.leave_rooms(nsp, id, rooms),
        )
        .finish()
    }

    fn rooms_of(&self, nsp: &str, id: &str) -> impl Future<Output = Res<Vec<String>>> + MaybeSend {
        self.route((nsp, id), || Call::RoomsOf(nsp.to_owned(), id.to_owned()), || self.rooms(nsp, id)).finish()
    }

    fn members(&self, target: &Target) -> impl Future<Output = Res<Vec<Member>>> + MaybeSend {
        self.members_everywhere(target, None)
    }

    fn log_event(
        &self,
        entry: LogEntry,
        keep_since: u64,
        target: &Target,
    ) -> impl Future<Output = Res<Vec<Member>>> + MaybeSend {
        let logged = self.append_local(&entry, keep_since);
        let members = self.members_everywhere(target, Some((entry, keep_since)));
        async move {
            logged?;
            members.await
        }
    }

    fn push_outbound(
        &self,
        sid: &str,
        packets: &[Packet],
        max: usize,
    ) -> impl Future<Output = Res<Queued>> + MaybeSend {
        let result = (|| {
            let rows: Vec<QueueRow> = self.rows(
                "SELECT (SELECT COUNT(*) FROM outbound WHERE sid = ?) AS n, EXISTS (SELECT 1 FROM sealed WHERE sid = ?) AS sealed",
                vec![text(sid), text(sid)],
            )?;
            let QueueRow { n, sealed } = rows.first().copied().unwrap_or_default();
            if sealed != 0.0 {
                return Ok(Queued::Sealed);
            }
            if n as usize + packets.len() > max {
                return Ok(Queued::Full);
            }
            for packet in packets {
                self.exec(
                    "INSERT INTO outbound (sid, packet) SELECT ?, ? WHERE EXISTS (SELECT 1 FROM sessions WHERE sid = ?)",
                    vec![text(sid), text(&encode(packet)?), text(sid)],
                )?;
            }
            Ok(Queued::Yes)
        })();
        ready(result)
    }

    fn take_outbound(&self, sid: &str) -> impl Future<Output = Res<Vec<Packet>>> + MaybeSend {
        ready(self.take_queue(sid))
    }

    fn seal_outbound(&self, sid: &str) -> impl Future<Output = Res<Vec<Packet>>> + MaybeSend {
        let result = self.exec(
            "INSERT OR IGNORE INTO sealed (sid) SELECT ? WHERE EXISTS (SELECT 1 FROM sessions WHERE sid = ?)",
            vec![text(sid), text(sid)],
        );
        ready(result.and_then(|()| self.take_queue(sid)))
    }

    fn set_deadline(&self, sid: &str, at: Option<u64>) -> impl Future<Output = Res<()>> + MaybeSend {
        let at = at.map(int).unwrap_or(SqlStorageValue::Null);
        ready(self.exec("UPDATE sessions SET deadline = ? WHERE sid = ?", vec![at, text(sid)]))
    }

    fn due(&self, now: u64, lease: u64) -> impl Future<Output = Res<(Vec<String>, Option<u64>)>> + MaybeSend {
        let result = (|| {
            // Earliest first, as the other stores hand them out (an UPDATE's RETURNING
            // comes in no particular order); both statements run in one step of the object.
            let due = self.texts("SELECT sid FROM sessions WHERE deadline <= ? ORDER BY deadline", vec![int(now)])?;
            if !due.is_empty() {
                self.exec("UPDATE sessions SET deadline = ? WHERE deadline <= ?", vec![int(now + lease), int(now)])?;
            }
            let next: Vec<AtRow> = self.rows("SELECT MIN(deadline) AS at FROM sessions", vec![])?;
            Ok((due, next.first().and_then(|r| r.at).map(|at| at as u64)))
        })();
        ready(result)
    }

    fn add_acks(&self, acks: Vec<PendingAck>, max: usize) -> impl Future<Output = Res<Vec<PendingAck>>> + MaybeSend {
        let mut by_owner: HashMap<String, Vec<PendingAck>> = HashMap::new();
        let mut local = Vec::new();
        for ack in acks {
            match self.keeper(&ack.nsp, &ack.socket) {
                Some((_, keeper)) => by_owner.entry(keeper).or_default().push(ack),
                None => local.push(ack),
            }
        }
        async move {
            let mut refused = self.add_acks_local(&local, max)?;
            let Some(pool) = self.pool.as_deref() else { return Ok(refused) };
            let calls = by_owner.into_iter().map(|(owner, acks)| async move {
                pool.call::<Vec<PendingAck>>(&owner, &Call::AddAcks(acks, max)).await
            });
            for answer in join_all(calls).await {
                refused.extend(answer.map_err(pool_error)?);
            }
            Ok(refused)
        }
    }

    fn take_ack(&self, nsp: &str, socket: &str, id: u64) -> impl Future<Output = Res<Option<PendingAck>>> + MaybeSend {
        ready(self.take_ack_row(nsp, socket, id))
    }

    fn due_acks(&self, now: u64) -> impl Future<Output = Res<(Vec<PendingAck>, Option<u64>)>> + MaybeSend {
        let result = (|| {
            let rows = self.texts("DELETE FROM acks WHERE deadline <= ? RETURNING record", vec![int(now)])?;
            let acks = rows.iter().map(|r| decode("acks", r)).collect::<Res<Vec<PendingAck>>>()?;
            let next: Vec<AtRow> = self.rows("SELECT MIN(deadline) AS at FROM acks", vec![])?;
            Ok((acks, next.first().and_then(|r| r.at).map(|at| at as u64)))
        })();
        ready(result)
    }

    fn take_acks_of(&self, nsp: &str, socket: &str) -> impl Future<Output = Res<Vec<PendingAck>>> + MaybeSend {
        let result = (|| {
            let rows = self.texts(
                "DELETE FROM acks WHERE nsp = ? AND socket = ? RETURNING record",
                vec![text(nsp), text(socket)],
            )?;
            rows.iter().map(|r| decode(socket, r)).collect()
        })();
        ready(result)
    }

    fn persist_socket(&self, pid: &str, socket: PersistedSocket) -> impl Future<Output = Res<()>> + MaybeSend {
        let result = encode(&socket).and_then(|json| {
            self.exec(
                "INSERT OR REPLACE INTO persisted (pid, disconnected_at, record) VALUES (?, ?, ?)",
                vec![text(pid), int(socket.disconnected_at), text(&json)],
            )
        });
        ready(result)
    }

    /// Takes the socket back (see [`SqlStore::take_kept`]) and puts it back in its rooms
    /// here. Events that reached this object while another one handed the socket over
    /// were logged here (see `restoring`) and are read back after the handover: with
    /// those, nothing falls between what it missed and what reaches it live.
    async fn restore_socket(&self, recovery: Recovery) -> Res<Option<(PersistedSocket, Vec<LogEntry>)>> {
        let Recovery { pid, offset, not_before, nsp, sid, handshake } = recovery;
        let mark = self.log_end()?;
        self.restoring.set(self.restoring.get() + 1);
        let taken = self.take_kept(&pid, &offset, not_before, &nsp).await;
        self.restoring.set(self.restoring.get() - 1);
        let Some((socket, mut missed)) = taken? else { return Ok(None) };
        if self.pool.is_some() {
            // Back here: a row saying where it went would send its calls round in a loop.
            self.exec("DELETE FROM away WHERE id = ?", vec![text(&socket.id)])?;
        }
        self.insert_local(&socket.revive(&pid, &sid, handshake))?;
        self.join_local(&socket.nsp, &socket.id, &socket.rejoined(), usize::MAX)?;
        for entry in self.logged_for(&socket, mark)? {
            if !missed.iter().any(|m| m.offset == entry.offset) {
                missed.push(entry);
            }
        }
        let offsets = missed.iter().map(|entry| entry.offset.clone()).collect();
        self.replayed.borrow_mut().push(Replayed { id: socket.id.clone(), offsets, until: now_ms() + REPLAYED_FOR_MS });
        Ok(Some((socket, missed)))
    }
}
