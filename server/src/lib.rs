//! The native runtime: a tokio process serving one or more Engine.IO endpoints and
//! static assets over hyper, state in the in-memory store.

mod alloc;
pub mod host;
pub mod relay;
pub mod transport;
mod wire;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use futures_util::StreamExt;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use sio_app::Asset;
use sio_core::{App, Config};
use sio_state::{Hub, RedisConfig, RedisStore, Store};
use tokio::net::{TcpListener, TcpSocket};
use tracing::debug;

pub use host::NativeHost;
pub use transport::{Endpoint, NativeHub};

use relay::{Relay, Relayed};
use transport::{response, Body};

/// Builds an endpoint for `app` with state in `store` and starts its deadline sweeper.
pub fn endpoint<S: Store>(app: App, config: Config, store: S) -> Endpoint<S> {
    let host = Arc::new(NativeHost::default());
    let hub = Hub::new(app, config, store, host.clone());
    let sweeper = hub.clone();
    tokio::spawn(host.clone().run_sweeper(move || {
        let hub = sweeper.clone();
        async move { hub.sweep().await }
    }));
    Endpoint { hub, host }
}

/// What one listener serves: Engine.IO endpoints by path prefix, then static assets.
pub struct Site<S: Store> {
    pub endpoints: Vec<Endpoint<S>>,
    pub assets: &'static [Asset],
}

impl<S: Store> Site<S> {
    async fn handle(&self, req: Request<Incoming>, remote: SocketAddr) -> Response<Body> {
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

/// Serves `site` on `listener` until the process ends.
pub async fn serve<S: Store>(listener: TcpListener, site: Site<S>) -> std::io::Result<()> {
    let site = Arc::new(site);
    loop {
        let (stream, remote) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let site = site.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let site = site.clone();
                async move { Ok::<_, Infallible>(site.handle(req, remote).await) }
            });
            if let Err(e) = http1::Builder::new().serve_connection(TokioIo::new(stream), service).with_upgrades().await
            {
                debug!(error = %e, "connection ended with an error");
            }
        });
    }
}

/// Binds `127.0.0.1:port` (0 picks a free port) and prints the address on stdout, the
/// line test drivers wait for.
///
/// With `--reuse-port` on the command line the socket is bound with `SO_REUSEPORT`:
/// several processes sharing one Redis then listen on one port and the kernel spreads
/// connections over them, with no load balancer in front.
pub async fn bind(port: u16) -> std::io::Result<TcpListener> {
    let socket = TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    if std::env::args().any(|a| a == "--reuse-port") {
        socket.set_reuseport(true)?;
    }
    socket.bind(SocketAddr::from(([127, 0, 0, 1], port)))?;
    let listener = socket.listen(1024)?;
    let addr = listener.local_addr()?;
    println!("listening on http://{addr}");
    Ok(listener)
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
/// application goes under.
pub struct RedisTarget {
    pub url: String,
    pub prefix: String,
}

/// Where the state lives: Redis when `--redis URL` or `SIO_REDIS_URL` names one (then any
/// number of processes can serve the same application), else this process's memory.
/// Processes share sessions exactly when they share the URL and the prefix, which is
/// `default_prefix` unless `--redis-prefix P` or `SIO_REDIS_PREFIX` says otherwise: two
/// unrelated applications (or test servers) on one Redis stay apart by their prefixes.
pub fn redis_target(default_prefix: &str) -> Option<RedisTarget> {
    let setting =
        |name: &str, var: &str| flag::<String>(name).or_else(|| std::env::var(var).ok().filter(|v| !v.is_empty()));
    Some(RedisTarget {
        url: setting("--redis", "SIO_REDIS_URL")?,
        prefix: setting("--redis-prefix", "SIO_REDIS_PREFIX").unwrap_or_else(|| default_prefix.to_owned()),
    })
}

/// An endpoint whose state lives in Redis under the target's prefix, serving `app` together with
/// every other process started the same way: each request is routed by its session id
/// alone, whichever process receives it, and deliveries cross processes by the relay.
pub async fn shared_endpoint(app: App, config: Config, target: &RedisTarget) -> std::io::Result<Endpoint<RedisStore>> {
    let (url, prefix) = (target.url.as_str(), target.prefix.as_str());
    let store_config = RedisConfig { prefix: prefix.to_owned(), ..RedisConfig::new(url) };
    let store = RedisStore::connect(store_config).await.map_err(std::io::Error::other)?;
    let endpoint = endpoint(app, config, store);
    let relay = Relay::connect(url, prefix, endpoint.hub.instance()).await.map_err(std::io::Error::other)?;
    let relay = Arc::new(relay);
    endpoint.host.set_relay(relay.clone());
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let resynced = endpoint.clone();
    tokio::spawn(async move {
        relay
            .listen(tx, move || {
                resynced.host.notify_all_local();
                tokio::spawn(close_ended(resynced.clone()));
            })
            .await
    });
    let (hub, host) = (endpoint.hub.clone(), endpoint.host.clone());
    tokio::spawn(async move {
        while let Some(message) = rx.recv().await {
            match message {
                Relayed::Deliver { sids, packets } => {
                    for sid in host.deliver_local(sids, &wire::Frames::new(&packets)) {
                        hub.requeue(&sid, &packets).await;
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
            }
        }
    });
    Ok(endpoint)
}

/// The value of `--name N` on the command line, or `default`.
pub fn port_flag(name: &str, default: u16) -> u16 {
    flag(name).unwrap_or(default)
}

/// The value of `--name VALUE` on the command line, when given and parsable.
pub fn flag<T: std::str::FromStr>(name: &str) -> Option<T> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok())
}

/// `config` with the limits given on the command line (`--max-sessions N`,
/// `--max-buffered-packets N`, `--max-namespaces N`, `--max-rooms N`,
/// `--max-pending-acks N`) and its heartbeat (`--ping-interval MS`, `--ping-timeout MS`,
/// as the other runtimes' test launchers take them); the others keep their values.
pub fn limit_flags(mut config: Config) -> Config {
    let (engine, socket) = (&mut config.engine, &mut config.socket);
    for (name, ms) in [("--ping-interval", &mut engine.ping_interval), ("--ping-timeout", &mut engine.ping_timeout)] {
        if let Some(value) = flag(name) {
            *ms = value;
        }
    }
    for (name, limit) in [
        ("--max-sessions", &mut engine.max_sessions),
        ("--max-buffered-packets", &mut engine.max_buffered_packets),
        ("--max-namespaces", &mut socket.max_namespaces),
        ("--max-rooms", &mut socket.max_rooms),
        ("--max-pending-acks", &mut socket.max_pending_acks),
    ] {
        if let Some(value) = flag(name) {
            *limit = value;
        }
    }
    config
}

/// Logs to stderr, filtered by `RUST_LOG` (warnings by default).
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into());
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
}
