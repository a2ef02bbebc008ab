//! The flags of the test servers (their launchers pass them; libraries take values).

use sio_core::App;

/// The value of `--name VALUE` on the command line, when given and parsable.
pub fn flag<T: std::str::FromStr>(name: &str) -> Option<T> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok())
}

/// The value of `--name N` on the command line, or `default`.
pub fn port_flag(name: &str, default: u16) -> u16 {
    flag(name).unwrap_or(default)
}

/// `app` with the limits given on the command line (`--max-sessions N`,
/// `--max-buffered-packets N`, `--max-namespaces N`, `--max-rooms N`,
/// `--max-pending-acks N`, [`crate::with_limits`]) and its heartbeat (`--ping-interval MS`,
/// `--ping-timeout MS`, as the other runtimes' test launchers take them); the others keep
/// their values.
pub fn limit_flags(mut app: App) -> App {
    let engine = &mut app.config.engine;
    for (name, ms) in [("--ping-interval", &mut engine.ping_interval), ("--ping-timeout", &mut engine.ping_timeout)] {
        if let Some(value) = flag(name) {
            *ms = value;
        }
    }
    crate::with_limits(app, &|name| flag(&format!("--{name}")))
}

/// Serves `app` on loopback at `--port` (`default` when not given; 0 picks a free port)
/// and prints the address first, the line test drivers wait for. `--redis URL` (or
/// `SIO_REDIS_URL`) keeps the state in Redis under `--redis-prefix P` (or
/// `SIO_REDIS_PREFIX`, else `default_prefix`): processes given the same URL and prefix
/// serve the application together. `--reuse-port` binds with `SO_REUSEPORT`;
/// `--headers-timeout MS` and `--request-timeout MS` set the listener's
/// [`sio_server::HttpTimeouts`].
pub async fn serve(server: sio_server::Server, default: u16, default_prefix: &str) -> std::io::Result<()> {
    let setting =
        |name: &str, var: &str| flag::<String>(name).or_else(|| std::env::var(var).ok().filter(|v| !v.is_empty()));
    let mut timeouts = sio_server::HttpTimeouts::default();
    for (name, timeout) in [("--headers-timeout", &mut timeouts.headers), ("--request-timeout", &mut timeouts.request)]
    {
        if let Some(ms) = flag(name) {
            *timeout = std::time::Duration::from_millis(ms);
        }
    }
    let mut server = server.reuse_port(std::env::args().any(|a| a == "--reuse-port")).http_timeouts(timeouts);
    if let Some(url) = setting("--redis", "SIO_REDIS_URL") {
        let prefix = setting("--redis-prefix", "SIO_REDIS_PREFIX").unwrap_or_else(|| default_prefix.to_owned());
        server = server.redis(url, prefix);
    }
    let bound = server.bind(([127, 0, 0, 1], port_flag("--port", default)).into()).await?;
    println!("listening on http://{}", bound.local_addr()?);
    bound.serve().await
}
