//! The Engine.IO error codes a server answers bad requests with: the code, HTTP status and
//! JSON body of each refusal.
//!
//! This module is for runtime authors: the native, Cloudflare and Lambda runtimes turn a
//! [`RequestError`] from [`super::request::route`] or from their session store into an HTTP
//! response. An application does not need it.

use std::sync::Arc;

use thiserror::Error;

/// Why a request was refused, with the numeric code the reference server puts in its
/// JSON body (`{"code":1,"message":"Session ID unknown"}`); clients and the official test
/// suite match on these exact texts.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RequestError {
    /// Code 0: the `transport` query parameter is missing, unknown or disabled.
    #[error("Transport unknown")]
    UnknownTransport,
    /// Code 1: no open session has this `sid` (it never existed, closed or expired).
    #[error("Session ID unknown")]
    UnknownSid,
    /// Code 2: a handshake (a request without `sid`) that is not a `GET`.
    #[error("Bad handshake method")]
    BadHandshakeMethod,
    /// Code 3: a request that is malformed or does not fit its session, e.g. a query whose
    /// transport does not match the connection, a poll for a session that has upgraded,
    /// a body that does not decode, or an overlapping poll.
    #[error("Bad request")]
    BadRequest,
    /// Code 4: the application's `allow_request` hook refused the handshake (Node's
    /// `allowRequest`), with the status and message it chose (403 `Forbidden` unless it
    /// said otherwise).
    #[error("{0}")]
    Forbidden(Refusal),
    /// Code 5: the handshake's `EIO` query parameter is not `4`.
    #[error("Unsupported protocol version")]
    UnsupportedProtocolVersion,
    /// Not in the reference, which keeps sessions in its own memory: the store holding
    /// the session cannot be reached for now. The client's retry may well succeed.
    #[error("Session store unavailable")]
    StoreUnavailable,
    /// `max_sessions` are open: refused like an `allowRequest` refusal in Node (code 4,
    /// with its own message), but with 503 since trying again later may succeed.
    #[error("Too many sessions")]
    TooManySessions,
}

impl RequestError {
    /// The numeric `code` of the JSON body. Codes 3 and 4 are shared with the two errors
    /// this server adds, so that clients treat them as the reference's nearest error.
    pub fn code(&self) -> u8 {
        match self {
            Self::UnknownTransport => 0,
            Self::UnknownSid => 1,
            Self::BadHandshakeMethod => 2,
            Self::BadRequest | Self::StoreUnavailable => 3,
            Self::Forbidden(_) | Self::TooManySessions => 4,
            Self::UnsupportedProtocolVersion => 5,
        }
    }

    /// HTTP status: the reference answers 403 for a refused request and 400 otherwise;
    /// a full server, or one whose store cannot be reached, answers 503.
    pub fn status(&self) -> u16 {
        match self {
            Self::Forbidden(refusal) => refusal.status,
            Self::StoreUnavailable | Self::TooManySessions => 503,
            _ => 400,
        }
    }

    /// The JSON response body, `{"code":<code>,"message":"<text>"}`.
    ///
    /// ```
    /// use sio_core::eio::error::RequestError;
    ///
    /// let error = RequestError::UnknownSid;
    /// assert_eq!(error.status(), 400);
    /// assert_eq!(error.body(), r#"{"code":1,"message":"Session ID unknown"}"#);
    /// ```
    pub fn body(&self) -> String {
        serde_json::json!({ "code": self.code(), "message": self.to_string() }).to_string()
    }
}

/// Why the application refused a handshake (`allow_request`): the HTTP status and the
/// message of the JSON body, whose code is 4 as in Node.
///
/// ```
/// use sio_core::eio::error::{Refusal, RequestError};
///
/// // allowRequest: (req, callback) => callback("too many connections from your address", false)
/// let refusal = Refusal::new("too many connections from your address").with_status(429);
/// let error = RequestError::Forbidden(refusal);
/// assert_eq!(error.status(), 429);
/// assert_eq!(error.body(), r#"{"code":4,"message":"too many connections from your address"}"#);
/// assert_eq!(RequestError::Forbidden(Refusal::default()).status(), 403);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{message}")]
pub struct Refusal {
    status: u16,
    message: Arc<str>,
}

impl Refusal {
    /// A refusal with `message`, answered with 403 as in Node.
    pub fn new(message: impl Into<Arc<str>>) -> Self {
        Self { status: 403, message: message.into() }
    }

    /// Answers with `status` instead of 403 (401 or 429, say); a status that is not a
    /// client or server error (400 to 599) is ignored.
    pub fn with_status(mut self, status: u16) -> Self {
        if (400..600).contains(&status) {
            self.status = status;
        }
        self
    }

    /// The HTTP status of the answer.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The message of the answer's JSON body.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl Default for Refusal {
    /// Node's refusal: 403 `Forbidden`.
    fn default() -> Self {
        Self::new("Forbidden")
    }
}
