//! Classifies an incoming HTTP request into the Engine.IO operation it asks for.

use super::error::RequestError;
use crate::config::EngineConfig;

/// The transport a request names in its `transport` query parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum TransportKind {
    Polling,
    WebSocket,
}

impl TransportKind {
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
    Get,
    Post,
    Options,
    Other,
}

impl Method {
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
    pub pairs: Vec<(String, String)>,
}

impl Query {
    pub fn parse(query: &str) -> Self {
        // Shrunk: a session keeps its handshake's query for its whole life.
        let mut pairs: Vec<_> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
        pairs.shrink_to_fit();
        Self { pairs }
    }

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
        assert_eq!(RequestError::Forbidden.status(), 403);
        assert_eq!(RequestError::BadRequest.status(), 400);
        assert_eq!(RequestError::StoreUnavailable.status(), 503);
        assert_eq!(RequestError::StoreUnavailable.body(), r#"{"code":3,"message":"Session store unavailable"}"#);
    }
}
