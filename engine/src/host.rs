//! What a runtime lends the hub: a clock, task spawning, randomness and delivery.

use std::sync::Arc;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sio_core::eio::packet::Packet;
use sio_core::maybe::{boxed, BoxFuture, MaybeSend, MaybeSync};
use sio_core::{AckReplies, Args};

use crate::record::Member;
use crate::{Hub, Store};

/// The runtime side of the delivery seam, plus the few services the protocol needs from
/// its environment.
pub trait Host: MaybeSend + MaybeSync + 'static {
    /// Milliseconds since the Unix epoch.
    fn now(&self) -> u64;

    /// At least 120 random bits, URL-safe: session ids, socket ids and private ids.
    fn random_id(&self) -> String;

    /// The session id for an id the application chose (`generate_id`): as it is, or, on a
    /// runtime that routes requests by id, marked with what it routes by.
    fn session_id(&self, chosen: String) -> String {
        chosen
    }

    /// Runs `future` to completion in the background: handlers that outlive the request
    /// that started them, closes decided while delivering.
    fn spawn(&self, future: BoxFuture<'static, ()>);

    /// A future that is ready `ms` milliseconds from now.
    fn sleep(&self, ms: u64) -> BoxFuture<'static, ()>;

    /// Delivers packets straight to the live WebSockets this runtime holds for `sids`, a
    /// broadcast's recipients at once so that the frames are encoded once; returns the
    /// sessions it does not hold, whose packets the hub queues for polling.
    ///
    /// `volatile` packets (Node's `volatile` flag) are dropped for a WebSocket that has
    /// not yet taken what was sent to it before, where the runtime can tell; the hub
    /// likewise drops them for a polling session whose queue is not empty.
    fn deliver(&self, sids: Vec<String>, packets: Arc<[Packet]>, volatile: bool) -> BoxFuture<'_, Vec<String>>;

    /// Packets were queued for a polling session: wake its parked GET.
    fn notify(&self, sid: &str);

    /// The session is over: close its transport. `last` is what the client's polling GET
    /// is owed (a parked one answers with it, or with a bare close when it is empty); when
    /// it ends with a close packet and no GET is parked, the next GET gets it.
    fn close(&self, sid: &str, last: Vec<Packet>);

    /// The upgrade failed: close the probing WebSocket and let polling go on.
    fn abort_upgrade(&self, sid: &str);

    /// Some session must be stepped at `at` (milliseconds since the epoch).
    fn wake_at(&self, at: u64);

    /// Hands a client's acknowledgement to hub instance `instance`, whose task awaits
    /// it. Runtimes where one instance serves everything never need to.
    fn relay_ack(&self, instance: &str, socket: &str, id: u64, reply: Args);

    /// Runs server-side event `event` of namespace `nsp` on every other instance of the
    /// application ([`Hub::server_side_event`] there) and, with `timeout_ms`, gathers for
    /// that long the replies of those whose handler acknowledged. Runtimes where one
    /// instance serves everything, or none stands between invocations, reach no one.
    fn server_side_emit(
        &self,
        nsp: &str,
        event: &str,
        args: Args,
        timeout_ms: Option<u64>,
    ) -> BoxFuture<'_, Result<AckReplies, String>> {
        let _ = (nsp, event, args, timeout_ms);
        boxed(async { Ok(AckReplies::default()) })
    }

    /// A task of this instance has begun to await clients' acknowledgements, which other
    /// instances may relay to it ([`Host::relay_ack`]): a runtime that listens for relayed
    /// acknowledgements only while some are awaited ([`Hub::awaiting_acks`]) starts now.
    fn awaiting_acks(&self) {}

    /// Has the instances that alone can step their sessions (each Durable Object keeps its
    /// own) disconnect those of `members`, and returns the members left to this hub. With
    /// one store for all instances, the hub disconnects them all itself.
    fn disconnect_elsewhere(&self, nsp: &str, members: Vec<Member>, close: bool) -> BoxFuture<'_, Vec<Member>> {
        let _ = (nsp, close);
        Box::pin(std::future::ready(members))
    }

    /// Keeps of `members` those whose connection this instance holds, for targets marked
    /// `local` (Node's `io.local`). An instance that serves every session, or whose store
    /// already answers a local target with its own sockets only (each Durable Object),
    /// keeps them all.
    fn local(&self, members: Vec<Member>) -> Vec<Member> {
        members
    }
}

/// A runtime usually shares its host between the hub and its transports.
impl<H: Host> Host for Arc<H> {
    fn now(&self) -> u64 {
        (**self).now()
    }

    fn random_id(&self) -> String {
        (**self).random_id()
    }

    fn session_id(&self, chosen: String) -> String {
        (**self).session_id(chosen)
    }

    fn spawn(&self, future: BoxFuture<'static, ()>) {
        (**self).spawn(future)
    }

    fn sleep(&self, ms: u64) -> BoxFuture<'static, ()> {
        (**self).sleep(ms)
    }

    fn deliver(&self, sids: Vec<String>, packets: Arc<[Packet]>, volatile: bool) -> BoxFuture<'_, Vec<String>> {
        (**self).deliver(sids, packets, volatile)
    }

    fn notify(&self, sid: &str) {
        (**self).notify(sid)
    }

    fn close(&self, sid: &str, last: Vec<Packet>) {
        (**self).close(sid, last)
    }

    fn abort_upgrade(&self, sid: &str) {
        (**self).abort_upgrade(sid)
    }

    fn wake_at(&self, at: u64) {
        (**self).wake_at(at)
    }

    fn relay_ack(&self, instance: &str, socket: &str, id: u64, reply: Args) {
        (**self).relay_ack(instance, socket, id, reply)
    }

    fn server_side_emit(
        &self,
        nsp: &str,
        event: &str,
        args: Args,
        timeout_ms: Option<u64>,
    ) -> BoxFuture<'_, Result<AckReplies, String>> {
        (**self).server_side_emit(nsp, event, args, timeout_ms)
    }

    fn awaiting_acks(&self) {
        (**self).awaiting_acks()
    }

    fn disconnect_elsewhere(&self, nsp: &str, members: Vec<Member>, close: bool) -> BoxFuture<'_, Vec<Member>> {
        (**self).disconnect_elsewhere(nsp, members, close)
    }

    fn local(&self, members: Vec<Member>) -> Vec<Member> {
        (**self).local(members)
    }
}

/// A server-side event on its way to the other instances ([`Host::server_side_emit`]), in
/// the form runtimes carry it between processes or objects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerSideEvent {
    /// The namespace whose handler runs.
    pub nsp: String,
    /// The event's name.
    pub event: String,
    /// Its JSON arguments.
    pub values: Vec<Value>,
    /// Its binary attachments.
    pub binary: Vec<Bytes>,
    /// Whether the emitter waits for acknowledgements.
    pub ack: bool,
}

impl ServerSideEvent {
    /// The event as [`Host::server_side_emit`] gets it.
    pub fn new(nsp: &str, event: &str, args: Args, ack: bool) -> Self {
        Self { nsp: nsp.to_owned(), event: event.to_owned(), values: args.values, binary: args.binary, ack }
    }

    /// Runs it on `hub` ([`Hub::server_side_event`]): the handler's reply, when it
    /// acknowledged and one was asked for.
    pub async fn run<S: Store, H: Host>(self, hub: &Hub<S, H>) -> Option<Args> {
        let args = Args { values: self.values, binary: self.binary };
        hub.server_side_event(&self.nsp, &self.event, args, self.ack).await
    }
}

/// A client's acknowledgement on its way to the hub instance whose task awaits it
/// ([`Host::relay_ack`]): what the runtimes whose instances share Redis (native
/// processes, Lambda instances) put there, so that both carry it in one form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RelayedAck {
    /// The id of the socket that answered.
    pub socket: String,
    /// The acknowledgement id it answered.
    pub id: u64,
    /// The reply's JSON arguments.
    pub values: Vec<Value>,
    /// The reply's binary attachments.
    pub binary: Vec<Bytes>,
}

impl RelayedAck {
    /// The reply of socket `socket` to acknowledgement `id`, as [`Host::relay_ack`] gets it.
    pub fn new(socket: &str, id: u64, reply: Args) -> Self {
        Self { socket: socket.to_owned(), id, values: reply.values, binary: reply.binary }
    }

    /// Hands it to the task of `hub` that awaits it.
    pub fn deliver<S: Store, H: Host>(self, hub: &Hub<S, H>) {
        hub.ack_relayed(&self.socket, self.id, Args { values: self.values, binary: self.binary });
    }
}
