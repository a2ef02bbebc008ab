//! The applications the tests drive, written once against the core API: the conformance
//! app of ../shared/CONFORMANCE.md, the end-to-end test app of tests/CONTRACT.md, the
//! sio-bench server, and the demo chat (examples/chat). The binaries of this crate serve
//! them natively and as Lambda functions, `worker/` as a Worker; `SIO_APP` picks one.

#[cfg(feature = "servers")]
mod alloc;
pub mod bench;
#[cfg(feature = "servers")]
pub mod cli;
pub mod conformance;
pub mod e2e;

use sio_core::{App, Asset};

/// An ISO 8601 date with milliseconds, as `JSON.stringify(new Date())` writes it.
pub fn iso_date(ms: u64) -> String {
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms);
    humantime::format_rfc3339_millis(at).to_string()
}

/// The application `name` names, with its static files: `chat`, `e2e` (tests/CONTRACT.md),
/// `bench`, or one contract of the conformance app (../shared/CONFORMANCE.md):
/// `conformance-engine` (`/engine.io/`), `conformance` (`/socket.io/`, the Socket.IO
/// protocol suite), `conformance-client` (the socket.io-client suite).
pub fn by_name(name: &str) -> Option<(App, &'static [Asset])> {
    Some(match name {
        "chat" => (chat::app(), chat::ASSETS),
        "e2e" => (e2e::app(), &[]),
        "bench" => (bench::app(), &[]),
        "conformance-engine" => (conformance::engine_app(), &[]),
        "conformance" => (conformance::protocol_app(), &[]),
        "conformance-client" => (conformance::client_app(), &[]),
        _ => return None,
    })
}

/// The application the variable `SIO_APP` names ([`by_name`]; the chat when unset), as
/// the Worker of the tests chooses it, with the limits of [`limit_vars`].
pub fn from_vars(var: &dyn Fn(&str) -> Option<String>) -> App {
    let name = var("SIO_APP").unwrap_or_else(|| "chat".to_owned());
    let app = by_name(&name).map(|(app, _)| app).unwrap_or_else(|| {
        tracing::error!("SIO_APP {name:?} names no application: serving the chat");
        chat::app()
    });
    limit_vars(app, var)
}

/// `app` with the limits `setting` gives by name (`max-sessions`, `max-buffered-packets`,
/// `max-namespaces`, `max-rooms`, `max-pending-acks`; the others keep their values), and
/// with `tick-ms`, the scheduled handler of [`e2e::ticking`].
pub fn with_limits(mut app: App, setting: &dyn Fn(&str) -> Option<String>) -> App {
    if let Some(ms) = setting("tick-ms").and_then(|v| v.parse().ok()) {
        app = e2e::ticking(app, ms);
    }
    let (engine, socket) = (&mut app.config.engine, &mut app.config.socket);
    for (name, limit) in [
        ("max-sessions", &mut engine.max_sessions),
        ("max-buffered-packets", &mut engine.max_buffered_packets),
        ("max-namespaces", &mut socket.max_namespaces),
        ("max-rooms", &mut socket.max_rooms),
        ("max-pending-acks", &mut socket.max_pending_acks),
    ] {
        if let Some(value) = setting(name).and_then(|v| v.parse().ok()) {
            *limit = value;
        }
    }
    app
}

/// `app` with the limits of the variables `SIO_MAX_SESSIONS`, `SIO_MAX_BUFFERED_PACKETS`,
/// ... ([`with_limits`]), as the Worker and the Lambda functions of the tests take them
/// from their launchers (tests/edge/serve.mjs, tests/lambda/serve.mjs).
pub fn limit_vars(app: App, var: &dyn Fn(&str) -> Option<String>) -> App {
    with_limits(app, &|name| var(&format!("SIO_{}", name.to_uppercase().replace('-', "_"))))
}

#[cfg(test)]
mod tests {
    #[test]
    fn iso_date_matches_javascript() {
        assert_eq!(super::iso_date(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
    }
}
