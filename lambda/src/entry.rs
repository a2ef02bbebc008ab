//! The functions' entry points: what the `main` of the user's Lambda binary calls.

use lambda_http::{service_fn as http_service, Request};
use lambda_runtime::{service_fn, Error, LambdaEvent};
use sio_core::{App, Asset};
use tokio::sync::OnceCell;

use crate::websocket::Event;
use crate::Runtime;

/// A warm instance's runtime: kept for the life of the process, so that warm invocations
/// reuse its connections.
static RUNTIME: OnceCell<Runtime> = OnceCell::const_new();

/// Which of the three functions a binary runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The HTTP API (payload v2): the Engine.IO handshake, long-polling, static files.
    Http,
    /// The WebSocket API's `$connect`, `$default` and `$disconnect` routes.
    WebSocket,
    /// The scheduled sweeper: heartbeats and timeouts.
    Sweeper,
}

impl Role {
    /// The role `SIO_FUNCTION` names (`http`, `websocket` or `sweeper`), as template.yaml
    /// sets it for each function.
    pub fn from_env() -> Option<Self> {
        match std::env::var("SIO_FUNCTION").ok()?.as_str() {
            "http" => Some(Self::Http),
            "websocket" => Some(Self::WebSocket),
            "sweeper" => Some(Self::Sweeper),
            _ => None,
        }
    }
}

/// The Lambda functions of one application: one binary serves all three roles.
///
/// Build it with [`Functions::new`], add static files with [`Functions::assets`], then
/// [`Functions::run`] it from `main`. The first invocation of an instance connects to
/// Redis; warm invocations reuse that connection.
///
/// ```no_run
/// use sio_core::{App, Asset};
///
/// static ASSETS: &[Asset] = &[Asset {
///     path: "/index.html",
///     content_type: "text/html; charset=utf-8",
///     body: b"<!doctype html><title>chat</title>",
/// }];
///
/// #[tokio::main]
/// async fn main() -> Result<(), sio_lambda::Error> {
///     let app = App::new();
///     sio_lambda::Functions::new(app).assets(ASSETS).run().await
/// }
/// ```
#[must_use = "the functions do nothing until run"]
pub struct Functions {
    app: App,
    assets: &'static [Asset],
}

impl Functions {
    /// The functions serving `app`.
    pub fn new(app: App) -> Self {
        Self { app, assets: &[] }
    }

    /// Static files the HTTP function answers before the Socket.IO endpoint (`/` is
    /// `/index.html`).
    pub fn assets(mut self, assets: &'static [Asset]) -> Self {
        self.assets = assets;
        self
    }

    /// Runs the role `SIO_FUNCTION` names ([`Role::from_env`]) until the Lambda runtime
    /// stops the process.
    ///
    /// # Errors
    ///
    /// When `SIO_FUNCTION` names no role, when `SIO_REDIS_URL` is not set or Redis cannot
    /// be reached, or when the Lambda runtime fails.
    pub async fn run(self) -> Result<(), Error> {
        let role = Role::from_env().ok_or("SIO_FUNCTION must be http, websocket or sweeper")?;
        self.run_as(role).await
    }

    /// Runs as `role`, whatever `SIO_FUNCTION` says: for a binary that serves one role only.
    ///
    /// # Errors
    ///
    /// When `SIO_REDIS_URL` is not set or Redis cannot be reached, or when the Lambda
    /// runtime fails.
    pub async fn run_as(self, role: Role) -> Result<(), Error> {
        crate::init_tracing();
        let runtime = RUNTIME.get_or_try_init(|| Runtime::from_env(self.app, self.assets)).await?;
        match role {
            Role::Http => {
                // Registered before the runtime asks for its first event, as Lambda requires.
                let extension = crate::tail::register_extension(&runtime.tails).await?;
                let function = lambda_http::run(http_service(move |req: Request| async move {
                    Ok::<_, Error>(crate::http::handle(runtime, req).await)
                }));
                tokio::try_join!(function, extension)?;
            }
            Role::WebSocket => {
                let extension = crate::tail::register_extension(&runtime.tails).await?;
                let function = lambda_runtime::run(service_fn(move |event: LambdaEvent<Event>| async move {
                    Ok::<_, Error>(crate::websocket::handle(runtime, event.payload, event.context.request_id).await)
                }));
                tokio::try_join!(function, extension)?;
            }
            Role::Sweeper => {
                lambda_runtime::run(service_fn(move |_: LambdaEvent<serde_json::Value>| async move {
                    crate::sweeper::run(runtime).await;
                    Ok::<_, Error>(())
                }))
                .await?;
            }
        }
        Ok(())
    }
}
