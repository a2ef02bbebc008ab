//! Delivery between processes that share a Redis store: no sticky sessions, so the
//! process that has something for a session is often not the one holding its connection.
//!
//! Each process listens on a channel of its own and on one channel for all. A WebSocket's
//! holder is recorded under `owner:{sid}` while it lives: frames for it are published to
//! that process only, once per broadcast for all the sessions it holds. What has no
//! recorded holder (a parked polling GET, a probing WebSocket) is announced to all, and
//! the process that holds it acts.

use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sio_core::eio::packet::Packet;
use sio_engine::{RelayedAck, ServerSideEvent};
use sio_redis::Connection;
use tokio::sync::mpsc;
use tracing::{debug, warn};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Relayed {
    /// Frames for WebSockets the receiving process holds (`volatile`: see
    /// [`sio_engine::Host::deliver`]).
    Deliver { sids: Vec<String>, packets: Vec<Packet>, volatile: bool },
    /// Packets were queued for a polling session: wake its parked GET.
    Wake { sid: String },
    /// The session is over: close whatever transport of it the receiver holds.
    Close { sid: String, last: Vec<Packet> },
    /// The upgrade failed: close the probing WebSocket.
    AbortUpgrade { sid: String },
    /// A client's acknowledgement, for the task of the receiving process awaiting it.
    Ack(RelayedAck),
    /// A server-side event for every process but `from`; `request` names the emit whose
    /// acknowledgements `from` awaits.
    ServerSide { from: String, request: u64, event: ServerSideEvent },
    /// A process's acknowledgement of server-side event `request`, for its emitter.
    ServerSideReply { request: u64, values: Vec<Value>, binary: Vec<Bytes> },
}

pub struct Relay {
    client: redis::Client,
    conn: Connection,
    prefix: String,
    instance: String,
    /// How long an owner record outlives a process that died without removing it.
    owner_ttl_ms: u64,
}

impl Relay {
    pub async fn connect(url: &str, prefix: &str, instance: &str) -> redis::RedisResult<Self> {
        let client = redis::Client::open(url)?;
        let conn = Connection::open(&client).await?;
        Ok(Self {
            client,
            conn,
            prefix: prefix.to_owned(),
            instance: instance.to_owned(),
            owner_ttl_ms: 24 * 3600 * 1000,
        })
    }

    pub fn instance(&self) -> &str {
        &self.instance
    }

    fn owner_key(&self, sid: &str) -> String {
        format!("{}owner:{sid}", self.prefix)
    }

    fn channel(&self, instance: &str) -> String {
        format!("{}relay:{instance}", self.prefix)
    }

    fn all_channel(&self) -> String {
        format!("{}relay", self.prefix)
    }

    /// Records this process as the holder of the session's WebSocket.
    pub async fn claim(&self, sid: &str) {
        let set: redis::RedisResult<()> =
            self.conn.clone().pset_ex(self.owner_key(sid), &self.instance, self.owner_ttl_ms).await;
        if let Err(e) = set {
            warn!(%sid, error = %e, "cannot record the WebSocket's holder");
        }
    }

    pub async fn release(&self, sid: &str) {
        let _: redis::RedisResult<()> = self.conn.clone().del(self.owner_key(sid)).await;
    }

    /// The holder of each session's WebSocket, where one is recorded.
    pub async fn owners(&self, sids: &[String]) -> Vec<Option<String>> {
        if sids.is_empty() {
            return Vec::new();
        }
        let keys: Vec<String> = sids.iter().map(|sid| self.owner_key(sid)).collect();
        let mut cmd = redis::cmd("MGET");
        cmd.arg(keys);
        match cmd.query_async::<Vec<Option<String>>>(&mut self.conn.clone()).await {
            Ok(owners) => owners,
            Err(e) => {
                warn!(error = %e, "cannot look up WebSocket holders");
                vec![None; sids.len()]
            }
        }
    }

    /// Publishes to one process, or to all when `to` is `None`.
    /// Publishes `message` to process `to`, or to all (this one included); returns how
    /// many processes it reached (Redis's count of subscribers that received it).
    pub async fn publish(&self, to: Option<&str>, message: &Relayed) -> usize {
        let channel = to.map_or_else(|| self.all_channel(), |i| self.channel(i));
        let payload = serde_json::to_string(message).unwrap_or_default();
        let sent: redis::RedisResult<usize> = self.conn.clone().publish(channel, payload).await;
        sent.unwrap_or_else(|e| {
            warn!(error = %e, "cannot relay to another process");
            0
        })
    }

    /// Passes on what other processes relay here, until `to` is dropped, re-subscribing
    /// with a bounded backoff after Redis goes away.
    ///
    /// Pub/sub keeps nothing for a subscriber that is away: what was published while this
    /// process was not subscribed is gone. `resync` runs after every subscription so
    /// that the process can look again at what such messages would have told it of.
    pub async fn listen(&self, to: mpsc::UnboundedSender<Relayed>, resync: impl Fn()) {
        let mut backoff = Duration::from_millis(100);
        loop {
            match self.client.get_async_pubsub().await {
                Ok(mut pubsub) => {
                    let subscribed = async {
                        pubsub.subscribe(self.channel(&self.instance)).await?;
                        pubsub.subscribe(self.all_channel()).await
                    };
                    if let Err(e) = subscribed.await {
                        warn!(error = %e, "cannot subscribe to the relay");
                    } else {
                        backoff = Duration::from_millis(100);
                        resync();
                        let mut messages = pubsub.on_message();
                        while let Some(message) = messages.next().await {
                            let payload: String = message.get_payload().unwrap_or_default();
                            match serde_json::from_str::<Relayed>(&payload) {
                                Ok(relayed) => {
                                    if to.send(relayed).is_err() {
                                        return;
                                    }
                                }
                                Err(e) => warn!(error = %e, "undecodable relay message"),
                            }
                        }
                        debug!("relay subscription ended");
                    }
                }
                Err(e) => warn!(error = %e, "cannot connect the relay"),
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(1));
        }
    }
}
