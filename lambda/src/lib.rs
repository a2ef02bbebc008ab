//! The AWS runtime of sio: a Socket.IO application as Lambda functions behind API Gateway,
//! with all state in Redis.
//!
//! One binary of yours serves three functions. Each function learns its role from
//! `SIO_FUNCTION`:
//!
//! - `http`, behind an HTTP API (payload v2): the Engine.IO handshake, long-polling and
//!   the application's static files;
//! - `websocket`, behind a WebSocket API: its `$connect`, `$default` and `$disconnect`
//!   routes;
//! - `sweeper`, on a schedule: pings, ping timeouts, connect and ack timeouts.
//!
//! The whole `main` of that binary:
//!
//! ```no_run
//! # fn app() -> sio_core::App { sio_core::App::new() }
//! #[tokio::main]
//! async fn main() -> Result<(), sio_lambda::Error> {
//!     sio_lambda::Functions::new(app()).run().await
//! }
//! ```
//!
//! Each invocation loads what it needs from Redis, as every process of the native runtime
//! on Redis does. Frames reach WebSocket clients through the API Gateway Management API.
//! An invocation answers as soon as the client's packets are accepted; the handlers go on
//! after the answer, and an internal Lambda extension keeps the instance awake until they
//! finish.
//!
//! # Environment
//!
//! The functions read these variables (`template.yaml` at the repository's root sets them):
//!
//! | Variable | Meaning | Default |
//! |---|---|---|
//! | `SIO_FUNCTION` | The role: `http`, `websocket` or `sweeper` ([`Functions::run`]). | required |
//! | `SIO_REDIS_URL` | The Redis all three functions share, e.g. `redis://host:6379/`. | required |
//! | `SIO_REDIS_PREFIX` | Prepended to every Redis key, so that several deployments share one Redis. | `sio:` |
//! | `SIO_WS_ENDPOINT` | The WebSocket API's Management API, `https://{api-id}.execute-api.{region}.amazonaws.com/{stage}`. Without it every client polls. | none |
//! | `SIO_LAMBDA_ENDPOINT` | The Lambda API, which the WebSocket function calls to invoke itself. | `https://lambda.{region}.amazonaws.com` |
//! | `SIO_PING_INTERVAL` | Milliseconds between pings; overrides the application's. | the application's |
//! | `SIO_PING_TIMEOUT` | Milliseconds a client has to answer a ping; overrides the application's. | the application's |
//! | `SIO_POLL_WAIT_MS` | How long a long-polling GET waits for packets before it answers with a noop. | `20000` |
//! | `SIO_SWEEP_FOR_MS` | How long one sweeper invocation keeps sweeping; `0` is one pass. | `0` |
//! | `RUST_LOG` | The log filter; logs go to stderr, which is CloudWatch. | `warn` |
//!
//! Lambda itself sets `AWS_REGION`, `AWS_LAMBDA_FUNCTION_NAME` and the credentials
//! (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), which the functions
//! use to sign their calls to AWS.
//!
//! The sweeper runs at most once a minute on a schedule, so a deployment needs a ping
//! interval and timeout far longer than the defaults: `template.yaml` uses 240000 and
//! 90000. The largest message a client may send is at most API Gateway's WebSocket limit,
//! 128 KiB, whatever the application's `max_payload` says.
#![warn(missing_docs)]

mod aws;
mod connections;
mod entry;
mod host;
mod http;
mod inbox;
mod management;
mod settings;
mod sweeper;
mod tail;
mod turns;
mod websocket;

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
/// The error [`Functions::run`] returns: any error, boxed, as the Lambda runtime reports it.
pub use lambda_runtime::Error;

type LambdaHub = Hub<RedisStore, LambdaHost>;

/// Why a function instance cannot start; [`Functions::run`] returns it boxed.
#[derive(Error)]
enum StartError {
    #[error("SIO_REDIS_URL is not set")]
    NoRedis,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Its message: a `main` that returns the error prints its `Debug` form, which is what the
/// function's log shows.
impl std::fmt::Debug for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

/// What a warm function instance keeps between invocations: connections and settings,
/// never session state.
struct Runtime {
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
fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .without_time()
        .init();
}
