//! Sockets that recovered on another object, and the operations on a socket that run
//! where it is kept: this object's, or the one a call goes to.

use super::*;

impl SqlStore {
    /// Where socket `id`, minted or kept here before, went on recovering on another object.
    pub fn away(&self, id: &str) -> Option<String> {
        self.texts("SELECT holder FROM away WHERE id = ?", vec![text(id)]).ok()?.into_iter().next()
    }

    /// Where the socket kept for recovery under `pid`, minted or kept here before, went on
    /// recovering.
    pub fn away_by_pid(&self, pid: &str) -> Option<String> {
        self.texts("SELECT holder FROM away WHERE pid = ?", vec![text(pid)]).ok()?.into_iter().next()
    }

    /// Records that socket `id` (private id `pid`), minted or kept here, is now kept by
    /// `holder`. [`SqlStore::check_away`] asks `holder` about it once a recovery window
    /// has passed.
    pub(super) fn moved(&self, id: &str, pid: &str, holder: &str) -> Res<()> {
        let due = now_ms() + self.window;
        self.exec(
            "INSERT OR REPLACE INTO away (id, pid, holder, due) VALUES (?, ?, ?, ?)",
            vec![text(id), text(pid), text(holder), int(due)],
        )?;
        self.away_due.set(Some(self.away_due.get().map_or(due, |at| at.min(due))));
        Ok(())
    }

    /// Asks the objects keeping sockets minted or kept here before, for the rows whose
    /// check is due, whether they still keep them, live or for recovery. A socket gone
    /// from there for good can no longer be recovered nor reached, so its row goes; the
    /// others are asked again a window later. One sub-request per due row: rows only exist
    /// for sockets that recovered on another object.
    pub async fn check_away(&self, now: u64) -> Res<()> {
        let Some(pool) = self.pool.as_deref().filter(|_| self.away_due.get().is_some_and(|at| at <= now)) else {
            return Ok(());
        };
        let cursor = self.run("SELECT id, pid, holder FROM away WHERE due <= ?", vec![int(now)])?;
        let rows: Vec<Vec<SqlStorageValue>> = cursor.raw().collect::<Result<_, _>>().map_err(unavailable)?;
        self.count(&cursor);
        for row in rows {
            let [SqlStorageValue::String(id), SqlStorageValue::String(pid), SqlStorageValue::String(holder)] = &row[..]
            else {
                continue;
            };
            let call = Call::Keeps(id.clone(), pid.clone(), now.saturating_sub(self.window));
            // JSON `true` or `false`, told apart as text: no deserializer compiled for it.
            let keeps = pool.send(holder, &call).await.map(|answer| answer != "false").unwrap_or_else(|e| {
                warn!(error = %e, %id, "cannot ask where a socket went whether it is still there");
                true
            });
            // Only the row as read: one a recovery wrote meanwhile is due later.
            let (query, mut bindings) = match keeps {
                true => {
                    ("UPDATE away SET due = ? WHERE id = ? AND holder = ? AND due <= ?", vec![int(now + self.window)])
                }
                false => ("DELETE FROM away WHERE id = ? AND holder = ? AND due <= ?", vec![]),
            };
            bindings.extend([text(id), text(holder), int(now)]);
            self.exec(query, bindings)?;
        }
        self.read_away_due()
    }

    /// Whether socket `id` (private id `pid`) is here, live or kept for recovery since
    /// `since`: what [`SqlStore::check_away`] asks the object it went to. The `away` row
    /// it comes from has no namespace, so the socket is found by id alone, through the
    /// `sockets_id` index (an index needs no migration of the tables that predate it, as
    /// a namespace column in `away` would, and costs a row written per socket connected
    /// or gone, where a scan cost a row read per socket of the object at every check).
    pub fn keeps(&self, id: &str, pid: &str, since: u64) -> Res<bool> {
        let n = self.count_of(
            "SELECT (SELECT COUNT(*) FROM sockets WHERE id = ?)
              + (SELECT COUNT(*) FROM persisted WHERE pid = ? AND disconnected_at >= ?) AS n",
            vec![text(id), text(pid), int(since)],
        )?;
        Ok(n > 0)
    }

    /// The sockets minted here kept by other objects, for tests.
    #[cfg(feature = "inspect")]
    pub fn away_ids(&self) -> Res<Vec<String>> {
        self.texts("SELECT id FROM away ORDER BY id", vec![])
    }

    /// Makes every later check of the sockets gone to other objects fail, as a storage
    /// error would: the test of a failing alarm.
    #[cfg(feature = "inspect")]
    pub fn break_away(&self) -> Res<()> {
        self.exec("ALTER TABLE away RENAME TO away_broken", vec![])
    }

    /// The object to ask about socket `id` of `nsp`, or `None` when it is kept here: the
    /// object that minted it, or where that one says it went.
    pub(super) fn keeper(&self, nsp: &str, id: &str) -> Option<(&Pool, String)> {
        let pool = self.pool.as_deref()?;
        match pool.remote(id) {
            Some(owner) => (!self.holds(nsp, id)).then(|| (pool, owner.to_owned())),
            None => Some((pool, self.away(id)?)),
        }
    }

    /// This object's members of `target`, and unless the target is `local`, those of
    /// every other object that may hold some: one sub-request per object, all at once,
    /// which carries `log` (see [`SqlStore::members_logging`]).
    pub(super) fn members_everywhere(
        &self,
        target: &Target,
        log: Option<(LogEntry, u64)>,
    ) -> impl Future<Output = Res<Vec<Member>>> + '_ {
        let local = self.members_of(target).map(|members| self.not_replayed(members, log.as_ref()));
        let others = match (&self.pool, target.local) {
            (Some(pool), false) => pool.holders(target, |room| self.keeper(&target.nsp, room).map(|(_, k)| k)),
            _ => Vec::new(),
        };
        let call = Call::Members(target.clone(), log);
        async move {
            let mut members = local?;
            let Some(pool) = self.pool.as_deref().filter(|_| !others.is_empty()) else { return Ok(members) };
            let answers = join_all(others.iter().map(|o| pool.call::<Vec<Member>>(o, &call))).await;
            for answer in answers {
                members.extend(answer.map_err(pool_error)?);
            }
            // The object that minted a socket recovered elsewhere answers for it too.
            let mut seen = HashSet::new();
            members.retain(|m| seen.insert(m.id.clone()));
            Ok(members)
        }
    }

    /// The census of every object of the pool, summed ([`Store::census`]).
    pub(super) async fn census_everywhere(&self) -> Res<Census> {
        let mut census = self.census_here()?;
        let Some(pool) = self.pool.as_deref() else { return Ok(census) };
        let others = pool.others();
        let answers = join_all(others.iter().map(|o| pool.call::<Census>(o, &Call::Census))).await;
        let mut namespaces: BTreeMap<String, usize> = census.namespaces.drain(..).collect();
        for answer in answers {
            let theirs = answer.map_err(pool_error)?;
            census.clients += theirs.clients;
            for (nsp, n) in theirs.namespaces {
                *namespaces.entry(nsp).or_default() += n;
            }
        }
        census.namespaces = namespaces.into_iter().collect();
        Ok(census)
    }

    /// The object a call about socket `id` goes on to: where the socket went on
    /// recovering, when this object minted it or kept it before.
    pub fn forward_to(&self, id: &str) -> Option<(&Pool, String)> {
        Some((self.pool.as_deref()?, self.away(id)?))
    }

    /// [`SqlStore::members_logging`], with the members that sockets minted or kept here
    /// before have where they recovered, asked of those objects. The object that minted a
    /// socket learns where it went once the one keeping it has handed it over: a call it
    /// passes on meanwhile reaches the one that handed it over, which passes it on in turn
    /// (and the event it carries is logged where the socket is being restored).
    pub async fn members_for(&self, target: Target, log: Option<(LogEntry, u64)>) -> Res<Vec<Member>> {
        let mut members = self.members_logging(&target, log.clone())?;
        let Some(pool) = self.pool.as_deref() else { return Ok(members) };
        let mut away: HashMap<String, Vec<String>> = HashMap::new();
        for room in pool.socket_ids(&target) {
            if let Some(holder) = self.away(room) {
                away.entry(holder).or_default().push(room.to_owned());
            }
        }
        // Rarely more than one object: asked in turn.
        for (holder, rooms) in away {
            let call = Call::Members(Target { rooms, ..target.clone() }, log.clone());
            members.extend(pool.call::<Vec<Member>>(&holder, &call).await.map_err(pool_error)?);
        }
        Ok(members)
    }

    /// [`SqlStore::add_acks_local`], but acknowledgements awaited from sockets minted
    /// here that recovered elsewhere go to where they are.
    pub async fn add_acks_for(&self, acks: Vec<PendingAck>, max: usize) -> Res<Vec<PendingAck>> {
        let mut away: HashMap<String, Vec<PendingAck>> = HashMap::new();
        let mut here = Vec::new();
        for ack in acks {
            match self.forward_to(&ack.socket) {
                Some((_, holder)) => away.entry(holder).or_default().push(ack),
                None => here.push(ack),
            }
        }
        let mut refused = self.add_acks_local(&here, max)?;
        let Some(pool) = self.pool.as_deref() else { return Ok(refused) };
        for (holder, acks) in away {
            let call = Call::AddAcks(acks, max);
            refused.extend(pool.call::<Vec<PendingAck>>(&holder, &call).await.map_err(pool_error)?);
        }
        Ok(refused)
    }

    /// Hands the socket kept under `pid` over to object `to`: from here, or from where
    /// it went when it recovered before, if this object minted it or kept it. Both the
    /// object that minted it and the one that kept it record where it went, for the calls
    /// about it that reach them: the first learns it only once the second has let it go.
    pub async fn restore_for(
        &self,
        pid: &str,
        offset: &str,
        not_before: u64,
        nsp: &str,
        to: &str,
    ) -> Res<Option<(PersistedSocket, Vec<LogEntry>)>> {
        let restored = match (self.restore_local(pid, offset, not_before, nsp)?, self.pool.as_deref()) {
            (None, Some(pool)) => match self.away_by_pid(pid).filter(|holder| holder != to) {
                Some(holder) => {
                    pool.call(&holder, &restore_call(pid, offset, not_before, nsp, to)).await.map_err(pool_error)?
                }
                None => None,
            },
            (restored, _) => restored,
        };
        if let (Some((socket, _)), Some(pool)) = (&restored, self.pool.as_deref()) {
            if to != pool.me() {
                self.moved(&socket.id, pid, to)?;
            }
        }
        Ok(restored)
    }

    /// The socket kept under `pid`: here, or from the object that minted it, which hands
    /// it over (one sub-request, two when the socket recovered before on an object
    /// other than this one and the one that minted it).
    pub(super) async fn take_kept(
        &self,
        pid: &str,
        offset: &str,
        not_before: u64,
        nsp: &str,
    ) -> Res<Option<(PersistedSocket, Vec<LogEntry>)>> {
        let Some((pool, owner)) = self.pool.as_deref().and_then(|p| Some((p, p.remote(pid)?))) else {
            // Minted here: kept here, or where it went (which then forgets it).
            let me = self.pool.as_deref().map_or("", Pool::me);
            return self.restore_for(pid, offset, not_before, nsp, me).await;
        };
        if let Some(restored) = self.restore_local(pid, offset, not_before, nsp)? {
            return Ok(Some(restored));
        }
        let call = restore_call(pid, offset, not_before, nsp, pool.me());
        pool.call(owner, &call).await.map_err(pool_error)
    }
}

pub(super) fn pool_error(e: PoolError) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

/// Where an operation on one socket runs: here, already done, or at its owner.
pub(super) enum Routed<'a, T> {
    Here(Res<T>),
    There(&'a Pool, String, Call),
}

impl SqlStore {
    /// Runs `local` now when this object keeps socket `id` of `nsp`; else prepares the
    /// call to the object that does, or knows which does. (The trait's futures may borrow the store but
    /// not the arguments.)
    pub(super) fn route<T>(
        &self,
        (nsp, id): (&str, &str),
        call: impl FnOnce() -> Call,
        local: impl FnOnce() -> Res<T>,
    ) -> Routed<'_, T> {
        match self.keeper(nsp, id) {
            Some((pool, keeper)) => Routed::There(pool, keeper, call()),
            None => Routed::Here(local()),
        }
    }
}

impl<T: DeserializeOwned> Routed<'_, T> {
    pub(super) async fn finish(self) -> Res<T> {
        match self {
            Routed::Here(result) => result,
            Routed::There(pool, owner, call) => pool.call(&owner, &call).await.map_err(pool_error),
        }
    }
}

fn restore_call(pid: &str, offset: &str, not_before: u64, nsp: &str, to: &str) -> Call {
    Call::Restore { pid: pid.to_owned(), offset: offset.to_owned(), not_before, nsp: nsp.to_owned(), to: to.to_owned() }
}
