//! The AWS runtime: Lambda functions behind API Gateway, state in Redis.
//!
//! One binary of the user's serves three functions ([`Functions`], the role from
//! `SIO_FUNCTION`): the HTTP API's (the Engine.IO handshake and long-polling), the
//! WebSocket API's (`$connect`, `$default`, `$disconnect`) and the sweeper's (on a
//! schedule: pings, ping timeouts, connect and ack timeouts).
//! Each invocation loads what it needs from Redis through the hub, exactly as every
//! process of the native runtime on Redis does; frames reach WebSocket clients through the
//! API Gateway Management API. Invocations answer before their handlers finish; the rest
//! runs after the answer, held open by an internal extension ([`tail`]).

pub mod aws;
pub mod connections;
mod entry;
pub mod host;
pub mod http;
pub mod inbox;
pub mod management;
pub mod settings;
pub mod sweeper;
pub mod tail;
pub mod turns;
pub mod websocket;

use sio_core::eio::session::CloseReason;
use sio_core::{App, Asset};
use sio_engine::{Hub, StoreError};
use sio_redis::{RedisConfig, RedisStore};
use thiserror::Error;

use crate::aws::AwsClient;
use crate::connections::Connections;
use crate::host::LambdaHost;
use crate::inbox::Inbox;
use crate::management::Management;
use crate::settings::Settings;
use crate::tail::Tails;
use crate::turns::Turns;

pub use entry::{Functions, Role};

pub type LambdaHub = Hub<RedisStore, LambdaHost>;

#[derive(Debug, Error)]
pub enum StartError {
    #[error("SIO_REDIS_URL is not set")]
    NoRedis,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a warm function instance keeps between invocations: connections and settings,
/// never session state.
pub struct Runtime {
    pub hub: LambdaHub,
    pub host: LambdaHost,
    pub settings: Settings,
    pub aws: AwsClient,
    pub tails: Tails,
}

impl Runtime {
    /// Connects to Redis and builds the hub serving `app`, with the function's
    /// environment's settings.
    pub async fn from_env(app: App, assets: &'static [Asset]) -> Result<Self, StartError> {
        let (settings, app) = Settings::from_env(app, assets);
        let url = settings.redis_url.clone().ok_or(StartError::NoRedis)?;
        let store_config = RedisConfig { prefix: settings.prefix.clone(), ..RedisConfig::new(&url) };
        let store = RedisStore::connect(store_config).await?;
        let connections = Connections::new(store.clone(), &url, settings.poll_wait)?;
        let inbox = Inbox::new(store.clone(), redis::Client::open(url.as_str()).map_err(sio_redis::unavailable)?);
        let aws = AwsClient::default();
        let management = settings.ws_endpoint.as_deref().map(|endpoint| Management::new(aws.clone(), endpoint));
        let host = LambdaHost::new(connections, management, Turns::new(store.clone()), inbox);
        let hub = Hub::new(app, store, host.clone());
        Ok(Self { hub, host, settings, aws, tails: Tails::default() })
    }

    /// What an invocation finishes before it answers: the host's own tasks (closes,
    /// relayed acknowledgements), then the sessions whose WebSocket turned out gone.
    pub async fn answerable(&self) {
        self.close_gone(false).await
    }

    /// Finishes all the work started so far, handlers included, listening meanwhile for
    /// the acknowledgements other instances relay to handlers awaiting them here.
    pub async fn finish(&self) {
        if self.host.busy() {
            let awaited = self.host.acks_awaited(&self.hub);
            self.host.inbox().listen_while(&self.hub, awaited, self.close_gone(true)).await
        }
    }

    /// Runs the rest of invocation `request_id` after its answer, then tells its extension.
    pub fn tail(&'static self, request_id: String) {
        tokio::spawn(async move {
            self.finish().await;
            self.tails.end(&request_id);
        });
    }

    /// Waits for tasks (with `handlers`, all of them; else the host's own), then closes the
    /// sessions found gone, which may start more tasks, until nothing is left.
    async fn close_gone(&self, handlers: bool) {
        loop {
            if handlers {
                self.host.settle().await
            } else {
                self.host.settle_io().await
            }
            let gone = self.host.take_gone();
            if gone.is_empty() {
                return;
            }
            for sid in gone {
                self.hub.transport_closed(&sid, CloseReason::TransportClose).await;
            }
        }
    }
}

/// Logs to stderr (CloudWatch), filtered by `RUST_LOG` (warnings by default), without
/// colours or times: CloudWatch stamps each line itself.
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .without_time()
        .init();
}
