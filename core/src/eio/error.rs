//! The Engine.IO error codes a server answers bad requests with.

use thiserror::Error;

/// Why a request was refused, with the numeric code the reference server puts in its
/// JSON body (`{"code":1,"message":"Session ID unknown"}`); clients and the official test
/// suite match on these exact texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum RequestError {
    #[error("Transport unknown")]
    UnknownTransport,
    #[error("Session ID unknown")]
    UnknownSid,
    #[error("Bad handshake method")]
    BadHandshakeMethod,
    #[error("Bad request")]
    BadRequest,
    #[error("Forbidden")]
    Forbidden,
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
    pub fn code(self) -> u8 {
        match self {
            Self::UnknownTransport => 0,
            Self::UnknownSid => 1,
            Self::BadHandshakeMethod => 2,
            Self::BadRequest | Self::StoreUnavailable => 3,
            Self::Forbidden | Self::TooManySessions => 4,
            Self::UnsupportedProtocolVersion => 5,
        }
    }

    /// HTTP status: the reference answers 403 for a refused request and 400 otherwise;
    /// a full server, or one whose store cannot be reached, answers 503.
    pub fn status(self) -> u16 {
        match self {
            Self::Forbidden => 403,
            Self::StoreUnavailable | Self::TooManySessions => 503,
            _ => 400,
        }
    }

    pub fn body(self) -> String {
        serde_json::json!({ "code": self.code(), "message": self.to_string() }).to_string()
    }
}
