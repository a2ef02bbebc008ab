//! The engine's hooks on HTTP (Node's `io.engine` events): headers the application adds to
//! the handshake and to every response, the session cookie, and a report of every refused
//! request.
//!
//! The headers hooks are plain functions, not async: they run on every response, on every
//! runtime, before it goes out. Runtimes build a [`RequestHead`] only when a hook needs
//! one.

use std::future::Future;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::app::App;
use super::handle::Server;
use super::ops::{Handshake, Headers};
use crate::eio::error::RequestError;
use crate::maybe::{boxed, BoxFuture, MaybeSend};

/// An HTTP request of the Engine.IO endpoint, as the hooks see it (Node's `req`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequestHead {
    /// `GET`, `POST`, `OPTIONS`...
    pub method: String,
    /// The path and query.
    pub url: String,
    /// The request headers, lower-cased names.
    pub headers: Headers,
    /// The client's IP address; empty when the runtime does not know it.
    pub address: String,
}

impl RequestHead {
    /// The handshake request a [`Handshake`] describes (a `GET`).
    pub fn of_handshake(handshake: &Handshake) -> Self {
        Self {
            method: "GET".to_owned(),
            url: handshake.url.clone(),
            headers: handshake.headers.clone(),
            address: handshake.address.clone(),
        }
    }
}

/// A request the endpoint refused (Node's `connection_error` event): the protocol's
/// error code and message, the HTTP status, and the request.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectionError {
    /// The `code` of the JSON body: 0 transport unknown, 1 session id unknown, 2 bad
    /// handshake method, 3 bad request, 4 forbidden, 5 unsupported protocol version.
    pub code: u8,
    /// The `message` of the JSON body, e.g. `Session ID unknown`.
    pub message: String,
    /// The HTTP status of the answer.
    pub status: u16,
    /// The refused request.
    pub request: RequestHead,
}

/// Headers to add to a response, by name and value.
pub type HeaderPairs = Vec<(String, String)>;
/// A headers hook as stored, see [`App::headers`].
pub type HeadersHook = Arc<dyn Fn(&RequestHead) -> HeaderPairs + Send + Sync>;
/// A `connection_error` hook as stored, see [`App::on_connection_error`].
pub type ConnectionErrorHook = Arc<dyn Fn(ConnectionError, Server) -> BoxFuture<'static, ()> + Send + Sync>;
/// A `generateId` hook as stored, see [`App::generate_id`].
pub type IdHook = Arc<dyn Fn(&RequestHead) -> String + Send + Sync>;

/// The longest session id [`App::generate_id`] may choose.
pub const MAX_ID_LEN: usize = 64;

/// The session cookie set on the handshake (Node's `cookie` option), for load balancers
/// that route by cookie: `io=<sid>; Path=/; HttpOnly; SameSite=Lax` by default. This
/// server needs no such routing (every request carries its session id, any instance
/// serves it); the cookie is for what stands in front of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CookieConfig {
    /// The cookie's name, `io` by default.
    pub name: String,
    /// `Path`, `/` by default; `None` leaves it out.
    pub path: Option<String>,
    /// `HttpOnly`, on by default.
    pub http_only: bool,
    /// `SameSite` (`Strict`, `Lax` or `None`), `Lax` by default; `None` leaves it out.
    pub same_site: Option<String>,
    /// `Secure`, off by default.
    pub secure: bool,
    /// `Max-Age` in seconds; `None` (the default) makes it a session cookie.
    pub max_age: Option<u64>,
}

impl Default for CookieConfig {
    fn default() -> Self {
        Self {
            name: "io".to_owned(),
            path: Some("/".to_owned()),
            http_only: true,
            same_site: Some("Lax".to_owned()),
            secure: false,
            max_age: None,
        }
    }
}

impl CookieConfig {
    /// The `Set-Cookie` value for session `sid`.
    ///
    /// ```
    /// use sio_core::CookieConfig;
    ///
    /// assert_eq!(CookieConfig::default().set_cookie("abc"), "io=abc; Path=/; HttpOnly; SameSite=Lax");
    /// ```
    pub fn set_cookie(&self, sid: &str) -> String {
        let mut cookie = format!("{}={sid}", self.name);
        if let Some(max_age) = self.max_age {
            cookie.push_str(&format!("; Max-Age={max_age}"));
        }
        if let Some(path) = &self.path {
            cookie.push_str(&format!("; Path={path}"));
        }
        if self.http_only {
            cookie.push_str("; HttpOnly");
        }
        if self.secure {
            cookie.push_str("; Secure");
        }
        if let Some(same_site) = &self.same_site {
            cookie.push_str(&format!("; SameSite={same_site}"));
        }
        cookie
    }
}

/// The engine hooks of an application; runtimes call its methods, applications set it
/// through [`App::initial_headers`], [`App::headers`] and [`App::on_connection_error`].
#[derive(Clone, Default)]
pub struct EngineHooks {
    /// Headers for the handshake's answer (`initial_headers`).
    pub initial_headers: Option<HeadersHook>,
    /// Headers for every answer of the endpoint, the handshake's included (`headers`).
    pub headers: Option<HeadersHook>,
    /// Told of every refused request (`connection_error`).
    pub connection_error: Option<ConnectionErrorHook>,
    /// Chooses the id of each new session (`generateId`).
    pub generate_id: Option<IdHook>,
}

impl EngineHooks {
    /// Whether a runtime must describe each request ([`RequestHead`]) for the hooks.
    pub fn wants_requests(&self) -> bool {
        self.headers.is_some() || self.connection_error.is_some()
    }

    /// The id [`App::generate_id`] chooses for the session `handshake` opens: `None` when
    /// it is not set or answers an empty string (a random id, then), `Err` with the answer
    /// when that is not a valid id (up to [`MAX_ID_LEN`] characters of the URL-safe
    /// base64 alphabet, as a sid travels in URLs and cookies).
    pub fn session_id(&self, handshake: &Handshake) -> Option<Result<String, String>> {
        let id = self.generate_id.as_ref()?(&RequestHead::of_handshake(handshake));
        let valid = id.len() <= MAX_ID_LEN && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        match (id.is_empty(), valid) {
            (true, _) => None,
            (false, true) => Some(Ok(id)),
            (false, false) => Some(Err(id)),
        }
    }

    /// The handshake request, for [`Self::handshake_headers`], when `initial_headers` needs
    /// it: a runtime takes it before the handshake moves into the hub.
    pub fn handshake_request(&self, handshake: &Handshake) -> Option<RequestHead> {
        self.initial_headers.as_ref().map(|_| RequestHead::of_handshake(handshake))
    }

    /// The headers for the answer to the handshake of session `sid`: the cookie, then
    /// what `initial_headers` adds for `request` (from [`Self::handshake_request`]).
    pub fn handshake_headers(
        &self,
        cookie: Option<&CookieConfig>,
        request: Option<&RequestHead>,
        sid: &str,
    ) -> HeaderPairs {
        let mut headers: HeaderPairs =
            cookie.map(|c| ("set-cookie".to_owned(), c.set_cookie(sid))).into_iter().collect();
        if let (Some(hook), Some(request)) = (&self.initial_headers, request) {
            headers.extend(hook(request));
        }
        headers
    }

    /// The headers `headers` adds to the answer to `request`.
    pub fn response_headers(&self, request: &RequestHead) -> HeaderPairs {
        self.headers.as_ref().map(|hook| hook(request)).unwrap_or_default()
    }
}

impl ConnectionError {
    /// The report of `request`, refused with `error`.
    pub fn new(request: RequestHead, error: &RequestError) -> Self {
        Self { code: error.code(), message: error.to_string(), status: error.status(), request }
    }
}

impl App {
    /// Adds headers to the answer of every handshake (Node's
    /// `io.engine.on("initial_headers", (headers, req) => ...)`), a polling handshake's
    /// or a WebSocket's.
    ///
    /// ```
    /// use sio_core::App;
    ///
    /// let app = App::new().initial_headers(|request| {
    ///     let region = if request.address.starts_with("10.") { "internal" } else { "public" };
    ///     vec![("x-region".to_owned(), region.to_owned())]
    /// });
    /// # let _ = app;
    /// ```
    pub fn initial_headers<F>(mut self, f: F) -> Self
    where
        F: Fn(&RequestHead) -> HeaderPairs + Send + Sync + 'static,
    {
        self.hooks.initial_headers = Some(Arc::new(f));
        self
    }

    /// Adds headers to every answer of the Engine.IO endpoint, the handshake's included
    /// (Node's `io.engine.on("headers", (headers, req) => ...)`).
    pub fn headers<F>(mut self, f: F) -> Self
    where
        F: Fn(&RequestHead) -> HeaderPairs + Send + Sync + 'static,
    {
        self.hooks.headers = Some(Arc::new(f));
        self
    }

    /// Chooses the id of each new session from its handshake request (Node's
    /// `io.engine.generateId = (req) => ...`), in place of a random one. An empty answer
    /// leaves the choice to the runtime; one that is not a valid id (see
    /// [`EngineHooks::session_id`]), or the id of a session still open, gets a random id
    /// instead, with a warning: an id must be unique, and whoever knows a session's
    /// id can act as its client, so derive it from nothing a client could copy. On
    /// Cloudflare the id is prefixed with the name of the Durable Object that owns the
    /// session, which every later request is routed by.
    ///
    /// ```
    /// use sio_core::App;
    ///
    /// let app = App::new().generate_id(|request| {
    ///     // A region tag, then 128 random bits of your own.
    ///     let region = request.headers.get("x-region").unwrap_or("eu");
    ///     format!("{region}_{}", uuid_like())
    /// });
    /// # fn uuid_like() -> String { "4f1c2b7e9d3a4e5fa1b2c3d4e5f60718".to_owned() }
    /// # let _ = app;
    /// ```
    pub fn generate_id<F>(mut self, f: F) -> Self
    where
        F: Fn(&RequestHead) -> String + Send + Sync + 'static,
    {
        self.hooks.generate_id = Some(Arc::new(f));
        self
    }

    /// Told of every request the endpoint refuses, with the protocol's code and message
    /// and the request (Node's `io.engine.on("connection_error", (err) => ...)`): for
    /// logs and metrics. It runs as a task of its own, after the answer went out, with the
    /// server handle (`io`).
    ///
    /// ```
    /// use serde_json::json;
    /// use sio_core::App;
    ///
    /// let app = App::new().on_connection_error(|error, server| async move {
    ///     eprintln!("{} {} refused: {} ({})", error.request.method, error.request.url, error.message, error.code);
    ///     let report = json!({ "code": error.code, "address": error.request.address });
    ///     let _ = server.of("/ops").emit("refused", report).await;
    /// });
    /// # let _ = app;
    /// ```
    pub fn on_connection_error<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(ConnectionError, Server) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + MaybeSend + 'static,
    {
        self.hooks.connection_error = Some(Arc::new(move |e, s| boxed(f(e, s))));
        self
    }
}
