//! Why a client's connection ended or failed to start.

/// One error type for both transports, so the behaviour loop can treat them alike.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("tcp connect: {0}")]
    Connect(#[source] std::io::Error),
    #[error("websocket: {0}")]
    Ws(#[from] tokio_tungstenite::tungstenite::Error),
    #[error("http: {0}")]
    Http(#[from] hyper::Error),
    #[error("http request: {0}")]
    Request(#[from] hyper::http::Error),
    #[error("http status {0}")]
    Status(u16),
    #[error("protocol: {0}")]
    Protocol(String),
    #[error("closed by server")]
    Closed,
    #[error("timed out: {0}")]
    Timeout(&'static str),
}
