//! A deployment's settings, from the function's environment (template.yaml sets them).

use std::time::Duration;

use sio_core::{App, Asset};

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
    /// The settings, and `app` as this deployment serves it: `SIO_PING_INTERVAL` and
    /// `SIO_PING_TIMEOUT` (milliseconds) override its heartbeat, since a deployment whose
    /// sweeper runs once a minute needs it far longer than the defaults (docs/aws.md,
    /// "Heartbeats and the sweeper"), and `maxPayload` is at most API Gateway's WebSocket message.
    pub fn from_env(mut app: App, assets: &'static [Asset]) -> (Self, App) {
        let config = &mut app.config;
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
        (settings, app)
    }
}
