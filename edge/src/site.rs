//! What a deployment serves, read from its environment: which application of `app/`, its
//! options, and how many objects sessions are spread over.

#[cfg(feature = "tests")]
use sio_app::conformance;
use sio_core::{App, Config};
use tracing::error;
use worker::Env;

/// The Durable Object binding in wrangler.toml.
pub const BINDING: &str = "SIO";

pub struct Site {
    pub app: App,
    pub config: Config,
    /// How many objects new sessions are spread over (`SIO_OBJECTS`).
    pub objects: u32,
    /// Whether the `/__sio/` inspection routes answer (`SIO_DEBUG`), for tests.
    #[cfg(feature = "tests")]
    pub debug: bool,
}

fn var(env: &Env, name: &str) -> Option<String> {
    env.var(name).ok().map(|v| v.to_string()).filter(|v| !v.is_empty())
}

fn number(env: &Env, name: &str) -> Option<u64> {
    var(env, name).and_then(|v| v.parse().ok())
}

impl Site {
    /// `SIO_APP` names the application: `chat` (the default), `e2e` (tests/CONTRACT.md),
    /// or one contract of the conformance app (../shared/CONFORMANCE.md), each a deployment
    /// of its own: `conformance-engine` (`/engine.io/`), `conformance` (`/socket.io/`, the
    /// Socket.IO protocol suite), `conformance-client` (the socket.io-client suite).
    /// `SIO_PING_INTERVAL` and `SIO_PING_TIMEOUT` (milliseconds) override its heartbeat,
    /// which tests of hibernation need longer than the ~10 s an idle object lives.
    ///
    /// Only the chat is compiled in unless the crate's `tests` feature is on
    /// (`EDGE_FEATURES=tests bash edge/build.sh`, as the tests build it, with the
    /// inspection routes): the others are 14% of the Worker (40 KB gzip -9), which Cloudflare caps and compiles on every
    /// cold start.
    ///
    /// It installs the log first (`SIO_LOG`), so that what it reports is shown.
    pub fn from_env(env: &Env) -> Self {
        crate::log::init(var(env, "SIO_LOG").as_deref());
        let (app, mut config) = match var(env, "SIO_APP").as_deref() {
            #[cfg(feature = "tests")]
            Some("e2e") => (sio_app::e2e::app(), sio_app::e2e::config()),
            #[cfg(feature = "tests")]
            Some("conformance-engine") => (conformance::engine_app(), conformance::engine_config()),
            #[cfg(feature = "tests")]
            Some("conformance") => (conformance::protocol_app(), conformance::protocol_config()),
            #[cfg(feature = "tests")]
            Some("conformance-client") => (conformance::client_app(), conformance::client_config()),
            None | Some("chat") => (sio_app::chat::app(), sio_app::chat::config()),
            Some(other) => {
                error!("SIO_APP {other:?} is not in this build (edge/build.sh: EDGE_FEATURES=tests): serving the chat");
                (sio_app::chat::app(), sio_app::chat::config())
            }
        };
        if let Some(ms) = number(env, "SIO_PING_INTERVAL") {
            config.engine.ping_interval = ms;
        }
        if let Some(ms) = number(env, "SIO_PING_TIMEOUT") {
            config.engine.ping_timeout = ms;
        }
        let objects = number(env, "SIO_OBJECTS").map_or(1, |n| n.clamp(1, 1024) as u32);
        Self {
            app,
            config,
            objects,
            #[cfg(feature = "tests")]
            debug: var(env, "SIO_DEBUG").is_some_and(|v| v == "1"),
        }
    }
}
