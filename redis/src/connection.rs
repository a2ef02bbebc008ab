//! The store's connection to Redis.

use std::time::Duration;

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::RedisFuture;
use tracing::debug;

/// A shared, reconnecting connection to Redis that sends a command once more when the
/// connection it went out on had dropped.
///
/// After Redis restarts, the connection manager learns that its connection is gone from
/// the first command that fails on it, and only then reconnects: without the second try,
/// each process would lose its first command after every restart, whatever it was (a
/// handshake refused, a WebSocket's holder left unrecorded, whose pings from other
/// processes then go nowhere). A command sent twice could run twice only if a live Redis
/// dropped the connection after taking it; a restarted Redis never saw it.
///
/// While Redis is away, a request fails within about two seconds rather than waiting out
/// a long reconnection; the manager keeps reconnecting in the background, backing off up
/// to a second between attempts.
#[derive(Clone)]
pub struct Connection(ConnectionManager);

impl Connection {
    /// Opens the connection to `client`'s Redis, with the retries and timeouts described on [`Connection`].
    pub async fn open(client: &redis::Client) -> redis::RedisResult<Self> {
        let config = ConnectionManagerConfig::new()
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_secs(1))
            .set_connection_timeout(Some(Duration::from_millis(500)))
            .set_response_timeout(Some(Duration::from_secs(2)));
        client.get_connection_manager_with_config(config).await.map(Self)
    }
}

impl ConnectionLike for Connection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a redis::Cmd) -> RedisFuture<'a, redis::Value> {
        Box::pin(async move {
            match self.0.req_packed_command(cmd).await {
                Err(e) if e.is_connection_dropped() => {
                    debug!(error = %e, "the Redis connection dropped: sending again");
                    self.0.req_packed_command(cmd).await
                }
                done => done,
            }
        })
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a redis::Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<redis::Value>> {
        Box::pin(async move {
            match self.0.req_packed_commands(pipeline, offset, count).await {
                Err(e) if e.is_connection_dropped() => {
                    debug!(error = %e, "the Redis connection dropped: sending again");
                    self.0.req_packed_commands(pipeline, offset, count).await
                }
                done => done,
            }
        })
    }

    fn get_db(&self) -> i64 {
        self.0.get_db()
    }
}
