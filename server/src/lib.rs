//! The native runtime of sio: a tokio process serving Socket.IO applications over
//! hyper. State lives in this process's memory or, for several processes behind any load
//! balancer, in Redis.
//!
//! # A server of its own
//!
//! [`Server`] is the builder most programs need: give it the application, bind an address,
//! serve. [`Bound::serve`] runs until SIGINT or SIGTERM, then shuts down gracefully.
//!
//! ```no_run
//! use sio_core::{App, NamespaceDef};
//!
//! #[tokio::main]
//! async fn main() -> std::io::Result<()> {
//!     sio_server::init_tracing();
//!     let app = App::new().namespace(
//!         "/",
//!         NamespaceDef::new().on("echo", |socket, args, _ack| async move {
//!             let _ = socket.emit("echo", args).await;
//!         }),
//!     );
//!     let server = sio_server::Server::new(app).bind(([127, 0, 0, 1], 3000).into()).await?;
//!     println!("listening on http://{}", server.local_addr()?);
//!     server.serve().await
//! }
//! ```
//!
//! # Several processes on Redis
//!
//! With [`Server::redis`], every process started the same way shares the sessions, rooms
//! and acknowledgements through Redis. Any load balancer can spread the clients over them:
//! no sticky sessions are needed. The prefix keeps the keys of one deployment apart from
//! those of another on the same Redis.
//!
//! ```no_run
//! # async fn run(app: sio_core::App) -> std::io::Result<()> {
//! let server = sio_server::Server::new(app)
//!     .redis("redis://127.0.0.1:6379/", "sio:chat:")
//!     .bind(([0, 0, 0, 0], 3000).into())
//!     .await?;
//! server.serve().await
//! # }
//! ```
//!
//! # Inside an existing server
//!
//! [`Server::service`] returns the endpoints as a tower `Service`, to mount in an axum or
//! hyper server beside its own routes; its example shows axum.
#![warn(missing_docs)]

mod host;
mod listener;
mod relay;
mod transport;
mod wire;

use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::StreamExt;
use hyper::{Request, Response, StatusCode};
use sio_core::eio::session::CloseReason;
use sio_core::{App, Args, Asset};
use sio_engine::{Hub, MemoryStore, Store};
use sio_redis::{RedisConfig, RedisStore};
use tokio::net::{TcpListener, TcpSocket};
use tracing::{debug, warn};

use host::NativeHost;
use transport::Endpoint;

pub use listener::HttpTimeouts;

use relay::{Relay, Relayed};
use transport::{response, Body, RequestBody};

/// A native server for one or more applications: the builder most programs need.
///
/// State lives in this process's memory unless [`Server::redis`] names a Redis, where any
/// number of processes started the same way serve the applications together, with no
/// sticky sessions.
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
/// # async fn run(chat: App, admin: App) -> std::io::Result<()> {
/// // `admin` has its own `config.engine.path`, e.g. `/admin/socket.io/`.
/// let server = sio_server::Server::new(chat)
///     .also(admin)
///     .assets(ASSETS)
///     .redis("redis://127.0.0.1:6379/", "sio:chat:")
///     .reuse_port(true)
///     .bind(([0, 0, 0, 0], 3000).into())
///     .await?;
/// server.serve().await
/// # }
/// ```
#[must_use = "a server does nothing until bound and served"]
pub struct Server {
    apps: Vec<App>,
    assets: &'static [Asset],
    redis: Option<RedisTarget>,
    reuse_port: bool,
    timeouts: HttpTimeouts,
}

impl Server {
    /// A server for `app`, at the path its options give (`/socket.io/` by default).
    pub fn new(app: App) -> Self {
        Self { apps: vec![app], assets: &[], redis: None, reuse_port: false, timeouts: HttpTimeouts::default() }
    }

    /// Serves another application on the same listener, at its own path (each
    /// application's `config.engine.path`; the first whose path prefixes a request's
    /// takes it).
    pub fn also(mut self, app: App) -> Self {
        self.apps.push(app);
        self
    }

    /// Static files answered before the Socket.IO endpoints (`/` is `/index.html`).
    pub fn assets(mut self, assets: &'static [Asset]) -> Self {
        self.assets = assets;
        self
    }

    /// Keeps all state in Redis: `url` (`redis://host:port/`) and a key prefix shared by
    /// every process of this deployment (e.g. `sio:chat:`).
    pub fn redis(mut self, url: impl Into<String>, prefix: impl Into<String>) -> Self {
        self.redis = Some(RedisTarget { url: url.into(), prefix: prefix.into() });
        self
    }

    /// Binds with `SO_REUSEPORT`: several processes sharing one Redis then listen on one
    /// port and the kernel spreads connections over them, with no load balancer in front.
    pub fn reuse_port(mut self, reuse: bool) -> Self {
        self.reuse_port = reuse;
        self
    }

    /// How long the listener of [`Server::bind`] waits on a slow or idle client (Node's
    /// `http.Server` defaults unless set). A server that mounts [`Server::service`] in its
    /// own sets these on its own listener.
    pub fn http_timeouts(mut self, timeouts: HttpTimeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// Binds `addr` (port 0 picks a free port) and connects to the store; serve with
    /// [`Bound::serve`].
    ///
    /// # Errors
    ///
    /// When the address cannot be bound, or Redis ([`Server::redis`]) cannot be reached.
    pub async fn bind(self, addr: SocketAddr) -> std::io::Result<Bound> {
        let socket = if addr.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
        socket.set_reuseaddr(true)?;
        if self.reuse_port {
            socket.set_reuseport(true)?;
        }
        socket.bind(addr)?;
        let listener = socket.listen(1024)?;
        let timeouts = self.timeouts;
        Ok(Bound { listener, timeouts, service: self.service().await? })
    }

    /// Connects to the store and returns the endpoints as a tower `Service`, to mount in
    /// an existing axum or hyper server beside its own routes. The service answers every
    /// request whose path starts with an application's path (`/socket.io/`) or names one
    /// of the assets.
    ///
    /// The surrounding server owns the shutdown: once it stops accepting, call
    /// [`SocketIoService::shut_down`] so that sessions close and parked long-polling
    /// requests are answered.
    ///
    /// ```no_run
    /// use axum::routing::get;
    /// use axum::Router;
    ///
    /// # async fn run(app: sio_core::App) -> std::io::Result<()> {
    /// let sio = sio_server::Server::new(app).service().await?;
    /// let router = Router::new()
    ///     .route("/health", get(|| async { "ok" }))
    ///     .route_service("/socket.io/", sio.clone());
    /// let listener = tokio::net::TcpListener::bind(("127.0.0.1", 3000)).await?;
    /// axum::serve(listener, router)
    ///     .with_graceful_shutdown(async move {
    ///         sio_server::shutdown_signal().await;
    ///         // Parked long-polling requests would hold axum's shutdown: close the
    ///         // sessions first, which answers them.
    ///         sio.shut_down().await;
    ///     })
    ///     .await
    /// # }
    /// ```
    ///
    /// WebSockets go through hyper's upgrade: a plain TCP connection is taken over whole;
    /// any other (axum's wrapped connections, TLS terminated in the process) is read and
    /// written through its upgraded stream.
    ///
    /// # Errors
    ///
    /// When Redis ([`Server::redis`]) cannot be reached.
    pub async fn service(self) -> std::io::Result<SocketIoService> {
        let sites = match &self.redis {
            None => {
                let endpoints = self.apps.into_iter().map(|app| endpoint(app, MemoryStore::new())).collect();
                Sites::Memory(Arc::new(Site { endpoints, assets: self.assets }))
            }
            Some(target) => {
                let mut endpoints = Vec::with_capacity(self.apps.len());
                for app in self.apps {
                    endpoints.push(shared_endpoint(app, target).await?);
                }
                Sites::Redis(Arc::new(Site { endpoints, assets: self.assets }))
            }
        };
        Ok(SocketIoService { sites })
    }
}

/// The endpoints over the store they share.
#[derive(Clone)]
enum Sites {
    Memory(Arc<Site<MemoryStore>>),
    Redis(Arc<Site<RedisStore>>),
}

impl Sites {
    async fn handle<B: RequestBody>(&self, req: Request<B>, remote: Option<IpAddr>) -> Response<Body> {
        match self {
            Sites::Memory(site) => site.handle(req, remote).await,
            Sites::Redis(site) => site.handle(req, remote).await,
        }
    }

    async fn shut_down(&self) {
        match self {
            Sites::Memory(site) => site.shut_down().await,
            Sites::Redis(site) => site.shut_down().await,
        }
    }

    fn server(&self) -> sio_core::Server {
        match self {
            Sites::Memory(site) => site.endpoints[0].hub.server(),
            Sites::Redis(site) => site.endpoints[0].hub.server(),
        }
    }
}

/// The Socket.IO endpoints (and assets) of a [`Server`] as a tower `Service`
/// ([`Server::service`]), for any request body. The client's address (the handshake's
/// `address`) is read from a `SocketAddr` request extension, when there is one.
#[derive(Clone)]
pub struct SocketIoService {
    sites: Sites,
}

impl SocketIoService {
    /// Closes every session it serves with "server shutting down" and waits for their
    /// handlers (up to [`SHUTDOWN_GRACE`]), as [`Bound::serve_with_shutdown`] does; call it
    /// once the surrounding server has stopped accepting.
    pub async fn shut_down(&self) {
        self.sites.shut_down().await
    }

    /// The application's server handle (`io`), for work that starts outside any handler:
    /// an HTTP route, a timer. It reaches the application given to [`Server::new`] (not
    /// those added with [`Server::also`]); on Redis, every process's sockets.
    pub fn server(&self) -> sio_core::Server {
        self.sites.server()
    }
}

impl<B: RequestBody> tower_service::Service<Request<B>> for SocketIoService {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let sites = self.sites.clone();
        let remote = req.extensions().get::<SocketAddr>().map(SocketAddr::ip);
        Box::pin(async move { Ok(sites.handle(req, remote).await) })
    }
}

/// A bound server, ready to serve: what [`Server::bind`] returns.
///
/// Bound first, served after, so that a program learns its address (with port 0, the port
/// the system picked) before it serves.
///
/// ```no_run
/// # async fn run(app: sio_core::App) -> std::io::Result<()> {
/// let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
/// let server = sio_server::Server::new(app).bind(([127, 0, 0, 1], 0).into()).await?;
/// println!("listening on port {}", server.local_addr()?.port());
/// // Serves until `stop` is sent or dropped, instead of until a signal.
/// let serving = tokio::spawn(server.serve_with_shutdown(async move {
///     let _ = stopped.await;
/// }));
/// // ...
/// drop(stop);
/// serving.await??;
/// # Ok(())
/// # }
/// ```
pub struct Bound {
    listener: TcpListener,
    timeouts: HttpTimeouts,
    service: SocketIoService,
}

impl Bound {
    /// The address it listens on (the port chosen, when bound to port 0).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The application's server handle (`io`), for work that starts outside any handler
    /// (see [`SocketIoService::server`]).
    ///
    /// ```no_run
    /// # async fn run(app: sio_core::App) -> std::io::Result<()> {
    /// let server = sio_server::Server::new(app).bind(([127, 0, 0, 1], 3000).into()).await?;
    /// let io = server.server();
    /// // setInterval(() => io.emit("tick", Date.now()), 1000)
    /// tokio::spawn(async move {
    ///     loop {
    ///         io.sleep(1_000).await;
    ///         let _ = io.of("/").emit("tick", io.now()).await;
    ///     }
    /// });
    /// server.serve().await
    /// # }
    /// ```
    pub fn server(&self) -> sio_core::Server {
        self.service.server()
    }

    /// Serves until SIGINT or SIGTERM, then shuts down gracefully
    /// ([`Bound::serve_with_shutdown`]).
    ///
    /// # Errors
    ///
    /// When accepting a connection fails.
    pub async fn serve(self) -> std::io::Result<()> {
        self.serve_with_shutdown(shutdown_signal()).await
    }

    /// Serves until `shutdown` completes, then shuts down gracefully: closes every
    /// session it serves with "server shutting down" (so that disconnect handlers run and
    /// clients reconnect elsewhere), waits for the handlers, stops accepting, waits for the
    /// responses in flight (up to [`SHUTDOWN_GRACE`] each), and returns. On Redis, it
    /// closes the sessions whose connection this process holds: the others are served by
    /// the other processes.
    ///
    /// # Errors
    ///
    /// When accepting a connection fails.
    pub async fn serve_with_shutdown(self, shutdown: impl Future<Output = ()>) -> std::io::Result<()> {
        listener::serve(self.listener, self.timeouts, self.service.sites, shutdown).await
    }
}

/// How long a graceful shutdown waits for handlers, then for responses in flight.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Completes on SIGINT (Ctrl-C) or SIGTERM: what [`Bound::serve`] waits for, for a server
/// that mounts [`SocketIoService`] in its own (see [`Server::service`]), or one that adds
/// work of its own to the shutdown.
///
/// ```no_run
/// # async fn run(app: sio_core::App) -> std::io::Result<()> {
/// let server = sio_server::Server::new(app).bind(([127, 0, 0, 1], 3000).into()).await?;
/// server
///     .serve_with_shutdown(async {
///         sio_server::shutdown_signal().await;
///         println!("shutting down");
///     })
///     .await
/// # }
/// ```
pub async fn shutdown_signal() {
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(e) => {
                warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
}

/// The sessions a process closes when it shuts down, besides those it holds a connection
/// of: all of them when it alone serves the store.
trait Owned {
    fn owned_sessions(&self) -> Vec<String>;
}

impl Owned for MemoryStore {
    fn owned_sessions(&self) -> Vec<String> {
        self.session_ids()
    }
}

impl Owned for RedisStore {
    fn owned_sessions(&self) -> Vec<String> {
        Vec::new()
    }
}

/// Builds an endpoint for `app` with state in `store` and starts its deadline sweeper.
fn endpoint<S: Store>(app: App, store: S) -> Endpoint<S> {
    let host = Arc::new(NativeHost::default());
    let hub = Hub::new(app, store, host.clone());
    let sweeper = hub.clone();
    host.background(tokio::spawn(host.clone().run_sweeper(move || {
        let hub = sweeper.clone();
        async move { hub.sweep().await }
    })));
    if hub.has_schedules() {
        host.background(tokio::spawn(run_schedules(hub.clone())));
    }
    Endpoint { hub, host }
}

/// Runs the application's scheduled handlers as their ticks begin, for as long as the
/// endpoint serves.
async fn run_schedules<S: Store>(hub: transport::NativeHub<S>) {
    loop {
        let next = hub.run_schedules().await.unwrap_or(u64::MAX);
        let wait = next.saturating_sub(host::now_ms()).max(1);
        tokio::time::sleep(Duration::from_millis(wait)).await;
    }
}

/// How many sessions a shutdown closes at once.
const SHUTDOWN_CLOSES: usize = 32;

/// What one listener serves: static assets, then Engine.IO endpoints by path prefix.
struct Site<S: Store> {
    /// The endpoints, tried in order.
    endpoints: Vec<Endpoint<S>>,
    /// Answered before the endpoints.
    assets: &'static [Asset],
}

impl<S: Store + Owned> Site<S> {
    /// Closes the sessions of every endpoint as the server shuts down, then waits for the
    /// tasks that started (disconnect handlers among them).
    async fn shut_down(&self) {
        for Endpoint { hub, host } in &self.endpoints {
            let mut sids = hub.store().owned_sessions();
            sids.extend(host.held_sids());
            sids.sort_unstable();
            sids.dedup();
            futures_util::stream::iter(sids)
                .for_each_concurrent(SHUTDOWN_CLOSES, |sid| async move {
                    hub.close(&sid, CloseReason::ServerShutdown).await;
                })
                .await;
            if tokio::time::timeout(SHUTDOWN_GRACE, host.tasks_done()).await.is_err() {
                warn!("handlers still running after the shutdown's grace period: left behind");
            }
            host.stop_background();
        }
    }
}

impl<S: Store> Site<S> {
    async fn handle<B: RequestBody>(&self, req: Request<B>, remote: Option<IpAddr>) -> Response<Body> {
        let path = req.uri().path();
        // Assets first: the browser client lives under the Engine.IO path, as in Node.
        let wanted = if path == "/" { "/index.html" } else { path };
        if let Some(asset) = self.assets.iter().find(|a| a.path == wanted) {
            return response(StatusCode::OK, asset.content_type, asset.body);
        }
        match self.endpoints.iter().find(|e| path.starts_with(e.hub.config().engine.path.as_str())) {
            Some(endpoint) => endpoint.handle(req, remote).await,
            None => response(StatusCode::NOT_FOUND, "text/plain", "not found"),
        }
    }
}

/// How many sessions [`close_ended`] looks up at once.
const RESYNC_LOOKUPS: usize = 32;

/// Closes the WebSockets this process holds whose session has ended: run once the relay
/// has subscribed again, since the close another process published meanwhile is lost.
async fn close_ended(endpoint: Endpoint<RedisStore>) {
    let Endpoint { hub, host } = &endpoint;
    futures_util::stream::iter(host.websocket_sids())
        .for_each_concurrent(RESYNC_LOOKUPS, |sid| async move {
            if let Ok(None) = hub.session(&sid).await {
                debug!(%sid, "the session ended while the relay was away: closing its WebSocket");
                host.close_local(&sid, Vec::new());
            }
        })
        .await;
}

/// Where a shared state lives: the Redis server and the key prefix every record of this
/// application goes under. Processes share sessions exactly when they share both: two
/// unrelated applications (or test servers) on one Redis stay apart by their prefixes.
#[derive(Debug, Clone)]
struct RedisTarget {
    /// `redis://host:port/`.
    url: String,
    /// Prepended to every key, e.g. `sio:chat:`.
    prefix: String,
}

/// An endpoint whose state lives in Redis under the target's prefix, serving `app` together with
/// every other process started the same way: each request is routed by its session id
/// alone, whichever process receives it, and deliveries cross processes by the relay.
async fn shared_endpoint(app: App, target: &RedisTarget) -> std::io::Result<Endpoint<RedisStore>> {
    let (url, prefix) = (target.url.as_str(), target.prefix.as_str());
    let store_config = RedisConfig { prefix: prefix.to_owned(), ..RedisConfig::new(url) };
    let store = RedisStore::connect(store_config).await.map_err(std::io::Error::other)?;
    let endpoint = endpoint(app, store);
    let relay = Relay::connect(url, prefix, endpoint.hub.instance()).await.map_err(std::io::Error::other)?;
    let relay = Arc::new(relay);
    endpoint.host.set_relay(relay.clone());
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let resynced = endpoint.clone();
    // The messages below end when this listener stops, with the endpoint.
    endpoint.host.background(tokio::spawn(async move {
        relay
            .listen(tx, move || {
                resynced.host.notify_all_local();
                tokio::spawn(close_ended(resynced.clone()));
            })
            .await
    }));
    let (hub, host) = (endpoint.hub.clone(), endpoint.host.clone());
    tokio::spawn(async move {
        while let Some(message) = rx.recv().await {
            match message {
                Relayed::Deliver { sids, packets, volatile } => {
                    for sid in host.deliver_local(sids, &wire::Frames::new(&packets), volatile) {
                        hub.requeue(&sid, &packets, volatile).await;
                    }
                }
                Relayed::Wake { sid } => {
                    host.notify_local(&sid);
                }
                Relayed::Close { sid, last } => {
                    host.close_local(&sid, last);
                }
                Relayed::AbortUpgrade { sid } => {
                    host.abort_local(&sid);
                }
                Relayed::Ack(ack) => ack.deliver(&hub),
                Relayed::ServerSide { from, request, event } => {
                    if from != hub.instance() {
                        let (hub, host) = (hub.clone(), host.clone());
                        tokio::spawn(async move {
                            if let Some(reply) = event.run(&hub).await {
                                host.reply_server_side(from, request, reply);
                            }
                        });
                    }
                }
                Relayed::ServerSideReply { request, values, binary } => {
                    host.server_side_replied(request, Args { values, binary });
                }
            }
        }
    });
    Ok(endpoint)
}

/// Logs to stderr, filtered by `RUST_LOG` (warnings by default): a `tracing` subscriber for
/// programs that install none of their own. Call it once, first thing in `main`.
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into());
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
}
