//! What a deployment serves: the user's application, with the options its environment
//! (wrangler.toml's `[vars]`) sets, and how many objects sessions are spread over.

use sio_core::App;
use worker::Env;

/// The Durable Object binding in wrangler.toml.
pub const BINDING: &str = "SIO";

pub struct Site {
    pub app: App,
    /// How many objects new sessions are spread over (`SIO_OBJECTS`).
    pub objects: u32,
    /// Whether the `/__sio/` inspection routes answer (`SIO_DEBUG`), for tests.
    #[cfg(feature = "inspect")]
    pub debug: bool,
}

/// The text of variable `name` of the Worker's environment, when set and not empty.
pub fn var(env: &Env, name: &str) -> Option<String> {
    env.var(name).ok().map(|v| v.to_string()).filter(|v| !v.is_empty())
}

fn number(env: &Env, name: &str) -> Option<u64> {
    var(env, name).and_then(|v| v.parse().ok())
}

impl Site {
    /// `app` as this deployment serves it. `SIO_PING_INTERVAL` and `SIO_PING_TIMEOUT`
    /// (milliseconds) override its heartbeat, which tests of hibernation need longer than
    /// the ~10 s an idle object lives; `SIO_OBJECTS` spreads sessions over that many
    /// objects (1 by default).
    ///
    /// It installs the log first (`SIO_LOG`), so that what it reports is shown.
    pub fn new(env: &Env, mut app: App) -> Self {
        crate::log::init(var(env, "SIO_LOG").as_deref());
        if let Some(ms) = number(env, "SIO_PING_INTERVAL") {
            app.config.engine.ping_interval = ms;
        }
        if let Some(ms) = number(env, "SIO_PING_TIMEOUT") {
            app.config.engine.ping_timeout = ms;
        }
        let objects = number(env, "SIO_OBJECTS").map_or(1, |n| n.clamp(1, 1024) as u32);
        Self {
            app,
            objects,
            #[cfg(feature = "inspect")]
            debug: var(env, "SIO_DEBUG").is_some_and(|v| v == "1"),
        }
    }
}
