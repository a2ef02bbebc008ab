//! A deployment's settings, from the function's environment (template.yaml sets them).

use std::time::Duration;

use sio_app::{conformance, Asset};
use sio_core::{App, Config};

/// API Gateway's largest WebSocket message: `maxPayload` never exceeds it, so that a
/// client never sends what API Gateway would refuse.
pub const API_GATEWAY_MAX_MESSAGE: usize = 128 * 1024;

/// How long a long-polling GET waits before answering a noop: well within the HTTP API's
/// 30 s limit, with room for the invocation's own work.
const DEFAULT_POLL_WAIT_MS: u64 = 20_000;

pub struct Settings {
    pub assets: &'static [Asset],
    /// `SIO_REDIS_URL`.
    pub redis_url: Option<String>,
    /// `SIO_REDIS_PREFIX`: the Redis key prefix (as on the native runtime), so that several deployments share one Redis.
    pub prefix: String,
    /// `SIO_WS_ENDPOINT`: the Management API of the WebSocket API
    /// (`https://{api-id}.execute-api.{region}.amazonaws.com/{stage}`).
    pub ws_endpoint: Option<String>,
    /// `SIO_LAMBDA_ENDPOINT`: the Lambda API, for the WebSocket function to invoke itself
    /// (`https://lambda.{region}.amazonaws.com` by default).
    pub lambda_endpoint: String,
    /// `SIO_POLL_WAIT_MS`.
    pub poll_wait: Duration,
    /// `SIO_SWEEP_FOR_MS`: how long one sweeper invocation keeps sweeping (0: one pass).
    pub sweep_for: Duration,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn number(name: &str) -> Option<u64> {
    var(name).and_then(|v| v.parse().ok())
}

impl Settings {
    /// The settings, the application and its options. `SIO_APP` names the application: `chat` (the default), `e2e` (tests/CONTRACT.md),
    /// `conformance-engine`, `conformance` or `conformance-client` (../shared/CONFORMANCE.md).
    /// `SIO_PING_INTERVAL` and `SIO_PING_TIMEOUT` (milliseconds) override its heartbeat:
    /// a deployment whose sweeper runs once a minute needs them far longer than the
    /// defaults (README, "AWS Lambda").
    pub fn from_env() -> (Self, App, Config) {
        let (app, mut config, assets) = match var("SIO_APP").as_deref() {
            Some("e2e") => (sio_app::e2e::app(), sio_app::e2e::config(), &[][..]),
            Some("conformance-engine") => (conformance::engine_app(), conformance::engine_config(), &[][..]),
            Some("conformance") => (conformance::protocol_app(), conformance::protocol_config(), &[][..]),
            Some("conformance-client") => (conformance::client_app(), conformance::client_config(), &[][..]),
            _ => (sio_app::chat::app(), sio_app::chat::config(), sio_app::chat::ASSETS),
        };
        if let Some(ms) = number("SIO_PING_INTERVAL") {
            config.engine.ping_interval = ms;
        }
        if let Some(ms) = number("SIO_PING_TIMEOUT") {
            config.engine.ping_timeout = ms;
        }
        config.engine.max_payload = config.engine.max_payload.min(API_GATEWAY_MAX_MESSAGE);
        let region = crate::aws::region();
        let settings = Self {
            assets,
            redis_url: var("SIO_REDIS_URL"),
            prefix: var("SIO_REDIS_PREFIX").unwrap_or_else(|| "sio:".to_owned()),
            ws_endpoint: var("SIO_WS_ENDPOINT"),
            lambda_endpoint: var("SIO_LAMBDA_ENDPOINT")
                .unwrap_or_else(|| format!("https://lambda.{region}.amazonaws.com")),
            poll_wait: Duration::from_millis(number("SIO_POLL_WAIT_MS").unwrap_or(DEFAULT_POLL_WAIT_MS)),
            sweep_for: Duration::from_millis(number("SIO_SWEEP_FOR_MS").unwrap_or(0)),
        };
        (settings, app, config)
    }
}
