//! Request routing: classifies an incoming HTTP request into the Engine.IO operation it
//! asks for (handshake, poll, post or upgrade), from its method and query string.
//!
//! This module is for runtime authors: the native, Cloudflare and Lambda runtimes call
//! [`route`] on every request under the Engine.IO path. An application does not need it.
//!
//! ```
//! use sio_core::eio::error::RequestError;
//! use sio_core::eio::request::{route, Method, Query, Route, TransportKind};
//! use sio_core::EngineConfig;
//!
//! let config = EngineConfig::default();
//!
//! // A polling handshake: a GET without `sid`.
//! let query = Query::parse("EIO=4&transport=polling");
//! let handshake = route(Method::parse("GET"), &query, false, &config);
//! assert_eq!(handshake, Ok(Route::Handshake(TransportKind::Polling)));
//!
//! // A POST of packets to an open session.
//! let query = Query::parse("EIO=4&transport=polling&sid=abc");
//! assert_eq!(route(Method::Post, &query, false, &config), Ok(Route::Post("abc".into())));
//!
//! // A WebSocket for that session: the upgrade.
//! let query = Query::parse("EIO=4&transport=websocket&sid=abc");
//! assert_eq!(route(Method::Get, &query, true, &config), Ok(Route::Upgrade("abc".into())));
//!
//! // An Engine.IO v3 client is refused with code 5.
//! let query = Query::parse("EIO=3&transport=polling");
//! let refused = route(Method::Get, &query, false, &config).unwrap_err();
//! assert_eq!(refused, RequestError::UnsupportedProtocolVersion);
//! assert_eq!(refused.status(), 400);
//! ```

use super::error::RequestError;
use crate::config::EngineConfig;

/// The transport a request names in its `transport` query parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum TransportKind {
    /// HTTP long-polling: GETs wait for packets, POSTs carry the client's.
    Polling,
    /// One WebSocket, a frame per packet.
    WebSocket,
}

impl TransportKind {
    /// The name as it appears in the `transport` query parameter and in the open
    /// packet's `upgrades` list.
    pub fn name(self) -> &'static str {
        match self {
            Self::Polling => "polling",
            Self::WebSocket => "websocket",
        }
    }
}

/// The HTTP methods Engine.IO distinguishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `GET`: a handshake, a poll, or a WebSocket upgrade request.
    Get,
    /// `POST`: packets from a polling client.
    Post,
    /// `OPTIONS`: a CORS preflight. [`route`] refuses it; the runtime answers it with
    /// [`super::cors::cors_headers`].
    Options,
    /// Any other method; [`route`] refuses it.
    Other,
}

impl Method {
    /// The method from its HTTP name, which is case-sensitive (`GET`, not `get`).
    pub fn parse(method: &str) -> Self {
        match method {
            "GET" => Self::Get,
            "POST" => Self::Post,
            "OPTIONS" => Self::Options,
            _ => Self::Other,
        }
    }
}

/// What a request asks the server to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// A new session: a polling GET or a WebSocket without `sid`.
    Handshake(TransportKind),
    /// Long-polling GET: wait for packets of this session.
    Poll(String),
    /// Long-polling POST: packets from the client.
    Post(String),
    /// A WebSocket opened for an existing polling session (the upgrade).
    Upgrade(String),
}

/// The decoded query string, keeping every pair for the application's handshake object.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Query {
    /// Every `key=value` pair, percent-decoded, in the order of the query string.
    pub pairs: Vec<(String, String)>,
}

impl Query {
    /// Decodes a query string (without its `?`) as `application/x-www-form-urlencoded`.
    pub fn parse(query: &str) -> Self {
        // Shrunk: a session keeps its handshake's query for its whole life.
        let mut pairs: Vec<_> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
        pairs.shrink_to_fit();
        Self { pairs }
    }

    /// The value of the first pair named `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// Whether the client takes binary messages as text alone, `b` + base64 (`b64`, which
    /// engine.io-client's `forceBase64` sets): the reference server then sends them so on
    /// a WebSocket too.
    pub fn base64(&self) -> bool {
        self.get("b64").is_some_and(|v| !v.is_empty())
    }
}

/// Decides what a request is, following the order of checks of the reference server so
/// that the same request gets the same error code: transport first, then the session id,
/// then the handshake's method and protocol version.
///
/// `websocket` tells whether the request asks to open a WebSocket (an `Upgrade: websocket`
/// header, or a runtime's WebSocket connect event); it must agree with the `transport`
/// parameter. A transport that `config` disables counts as unknown.
pub fn route(method: Method, query: &Query, websocket: bool, config: &EngineConfig) -> Result<Route, RequestError> {
    let transport = match query.get("transport") {
        Some("polling") if config.allow_polling => TransportKind::Polling,
        Some("websocket") if config.allow_websocket => TransportKind::WebSocket,
        _ => return Err(RequestError::UnknownTransport),
    };
    if websocket != (transport == TransportKind::WebSocket) {
        return Err(RequestError::BadRequest);
    }
    match query.get("sid") {
        Some(sid) => {
            let sid = sid.to_owned();
            match (transport, method) {
                (TransportKind::WebSocket, Method::Get) => Ok(Route::Upgrade(sid)),
                (TransportKind::Polling, Method::Get) => Ok(Route::Poll(sid)),
                (TransportKind::Polling, Method::Post) => Ok(Route::Post(sid)),
                _ => Err(RequestError::BadRequest),
            }
        }
        None => {
            if method != Method::Get {
                return Err(RequestError::BadHandshakeMethod);
            }
            if query.get("EIO") != Some("4") {
                return Err(RequestError::UnsupportedProtocolVersion);
            }
            Ok(Route::Handshake(transport))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(method: &str, q: &str, ws: bool) -> Result<Route, RequestError> {
        route(Method::parse(method), &Query::parse(q), ws, &EngineConfig::default())
    }

    #[test]
    fn handshakes() {
        assert_eq!(r("GET", "EIO=4&transport=polling", false), Ok(Route::Handshake(TransportKind::Polling)));
        assert_eq!(r("GET", "EIO=4&transport=websocket", true), Ok(Route::Handshake(TransportKind::WebSocket)));
    }

    #[test]
    fn errors_follow_the_reference_order() {
        assert_eq!(r("GET", "EIO=4", false), Err(RequestError::UnknownTransport));
        assert_eq!(r("GET", "EIO=4&transport=abc", false), Err(RequestError::UnknownTransport));
        assert_eq!(r("GET", "transport=polling", false), Err(RequestError::UnsupportedProtocolVersion));
        assert_eq!(r("GET", "EIO=abc&transport=polling", false), Err(RequestError::UnsupportedProtocolVersion));
        assert_eq!(r("GET", "EIO=3&transport=polling", false), Err(RequestError::UnsupportedProtocolVersion));
        assert_eq!(r("POST", "EIO=4&transport=polling", false), Err(RequestError::BadHandshakeMethod));
        assert_eq!(r("PUT", "EIO=4&transport=polling", false), Err(RequestError::BadHandshakeMethod));
        assert_eq!(r("PUT", "EIO=4&transport=polling&sid=x", false), Err(RequestError::BadRequest));
        assert_eq!(r("GET", "EIO=4&transport=polling", true), Err(RequestError::BadRequest));
    }

    #[test]
    fn session_requests() {
        assert_eq!(r("GET", "EIO=4&transport=polling&sid=a%2Bb", false), Ok(Route::Poll("a+b".into())));
        assert_eq!(r("POST", "EIO=4&transport=polling&sid=a", false), Ok(Route::Post("a".into())));
        assert_eq!(r("GET", "EIO=4&transport=websocket&sid=a", true), Ok(Route::Upgrade("a".into())));
    }

    #[test]
    fn error_bodies() {
        assert_eq!(RequestError::UnknownSid.body(), r#"{"code":1,"message":"Session ID unknown"}"#);
        assert_eq!(RequestError::Forbidden(Default::default()).status(), 403);
        assert_eq!(RequestError::BadRequest.status(), 400);
        assert_eq!(RequestError::StoreUnavailable.status(), 503);
        assert_eq!(RequestError::StoreUnavailable.body(), r#"{"code":3,"message":"Session store unavailable"}"#);
    }
}
