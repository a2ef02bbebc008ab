//! Acknowledgements relayed between function instances. A handler awaiting a client's
//! acknowledgement (`emit_with_ack(..).await`) keeps running in the instance that asked,
//! after its invocation answered (see [`crate::tail`]); the client's answer arrives in
//! another invocation, often in another instance, which takes the pending ack from the
//! store and pushes the reply onto the asking instance's inbox: a Redis list that instance
//! pops while a task of it awaits acknowledgements and its work goes on.
//!
//! A list, not pub/sub: a reply pushed while the asker is between two pops (or while its
//! connection is being made again) waits in the list instead of being lost, and a Lambda
//! instance frozen between invocations holds no subscription that could break unseen.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures_util::future::{select, Either};
use redis::aio::MultiplexedConnection;
use sio_core::Args;
use sio_engine::{RelayedAck, StoreError};
use sio_redis::RedisStore;
use tokio::sync::Mutex;
use tracing::warn;

use crate::connections::{blocking_connection, push_expiring};
use crate::LambdaHub;

/// How long one blocking pop waits; the pop is simply made again after, until the work is
/// over (a stop is pushed then, so this only bounds how long a dead connection goes unseen).
const POP_WAIT: Duration = Duration::from_secs(10);

/// How long a reply waits for its asker: no invocation runs longer than Lambda's maximum
/// timeout (15 minutes), so an older reply has nobody waiting for it.
const INBOX_TTL_MS: u64 = 15 * 60 * 1000;

/// How long a stop marker outlives a listener that died before popping it.
const STOP_TTL_MS: u64 = 60_000;

type Res<T> = Result<T, StoreError>;

pub struct Inbox {
    store: RedisStore,
    client: redis::Client,
    /// Blocking connections not popping at the moment: one is taken for each listen (an
    /// instance has one at a time on AWS; cargo lambda may overlap an instance's
    /// invocations, so there may be more).
    idle: Mutex<Vec<MultiplexedConnection>>,
}

impl Inbox {
    pub fn new(store: RedisStore, client: redis::Client) -> Self {
        Self { store, client, idle: Mutex::default() }
    }

    fn key(&self, instance: &str) -> String {
        self.store.key("inbox", instance)
    }

    /// Pushes a reply onto the inbox of `instance`, whose task awaits it.
    pub async fn post(&self, instance: &str, socket: &str, id: u64, reply: Args) -> Res<()> {
        let key = self.key(instance);
        let json = serde_json::to_string(&RelayedAck::new(socket, id, reply)).unwrap_or_default();
        push_expiring(&self.store, &key, json, INBOX_TTL_MS).await
    }

    /// Hands the replies relayed to this instance to its hub while `work` runs, from when
    /// `awaited` ends (a task awaits clients' acknowledgements: replies wait in the inbox
    /// until then); returns once `work` is done and the listening has stopped. Work that
    /// awaits no acknowledgement costs Redis nothing here.
    pub async fn listen_while<F: Future>(
        &self,
        hub: &LambdaHub,
        awaited: impl Future<Output = ()>,
        work: F,
    ) -> F::Output {
        let stop = self.store.key("inboxstop", &sio_engine::os::random_id());
        let started = AtomicBool::new(false);
        let listening = std::pin::pin!(async {
            awaited.await;
            started.store(true, Ordering::Relaxed);
            self.listen(hub, &stop).await
        });
        let work = std::pin::pin!(work);
        match select(work, listening).await {
            Either::Left((output, _)) if !started.load(Ordering::Relaxed) => output,
            Either::Left((output, listening)) => {
                // The pop in flight may take a reply: it is let finish, and the stop marker
                // ends it at once. Without Redis nothing is popping either.
                match push_expiring(&self.store, &stop, String::new(), STOP_TTL_MS).await {
                    Ok(()) => listening.await,
                    Err(e) => warn!(error = %e, "cannot stop listening for acknowledgements"),
                }
                output
            }
            Either::Right(((), work)) => work.await,
        }
    }

    /// Pops replies for `hub` until the marker `stop` is pushed.
    async fn listen(&self, hub: &LambdaHub, stop: &str) {
        let inbox = self.key(hub.instance());
        let mut pause = Duration::from_millis(50);
        loop {
            let taken = self.idle.lock().await.pop();
            let conn = match taken {
                Some(conn) => Ok(conn),
                None => blocking_connection(&self.client, POP_WAIT).await,
            };
            let popped = match conn {
                Ok(mut conn) => {
                    let popped: redis::RedisResult<Option<(String, String)>> =
                        redis::AsyncCommands::blpop(&mut conn, &[&inbox, stop], POP_WAIT.as_secs_f64()).await;
                    if popped.is_ok() {
                        self.idle.lock().await.push(conn);
                    }
                    popped.map_err(sio_redis::unavailable)
                }
                Err(e) => Err(e),
            };
            match popped {
                Ok(None) => {}
                Ok(Some((key, _))) if key == stop => return,
                Ok(Some((_, json))) => match serde_json::from_str::<RelayedAck>(&json) {
                    Ok(ack) => ack.deliver(hub),
                    Err(e) => warn!(error = %e, "dropping an undecodable relayed acknowledgement"),
                },
                Err(e) => {
                    warn!(error = %e, "cannot pop relayed acknowledgements");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(1));
                }
            }
        }
    }
}
