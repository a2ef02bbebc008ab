//! The API Gateway Management API: frames to WebSocket clients (POST
//! `@connections/{id}`) and closing their connections (DELETE).

use bytes::Bytes;
use http::{Method, StatusCode};
use tracing::{debug, warn};

use crate::aws::{path_segment, AwsClient};

/// What an invocation posts to a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Out {
    /// A text frame, all that API Gateway's WebSockets carry (`crate::host::ws_outs`).
    Text(String),
    /// Closes the connection (a DELETE) after what went before.
    Close,
}

/// What became of frames posted to one connection, or of closing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Posted {
    Sent,
    /// Closed by this call.
    Closed,
    /// 410: the connection is gone (or, during `$connect`, not there yet).
    Gone,
    /// Any other failure, logged: the frames are lost, the connection may live on.
    Failed,
}

#[derive(Clone)]
pub struct Management {
    client: AwsClient,
    /// `https://{api-id}.execute-api.{region}.amazonaws.com/{stage}`, or an emulator's.
    endpoint: String,
}

impl Management {
    pub fn new(client: AwsClient, endpoint: &str) -> Self {
        Self { client, endpoint: endpoint.trim_end_matches('/').to_owned() }
    }

    fn url(&self, connection: &str) -> String {
        format!("{}/@connections/{}", self.endpoint, path_segment(connection))
    }

    /// Posts one text frame: one WebSocket message for the client.
    pub async fn post(&self, connection: &str, text: &str) -> Posted {
        let headers = [("content-type", "text/plain; charset=utf-8")];
        let body = Bytes::copy_from_slice(text.as_bytes());
        match self.client.send("execute-api", Method::POST, &self.url(connection), &headers, body).await {
            Ok((status, _)) if status.is_success() => Posted::Sent,
            Ok((StatusCode::GONE, _)) => Posted::Gone,
            Ok((status, body)) => {
                warn!(%connection, %status, body = %String::from_utf8_lossy(&body), "cannot post to a connection");
                Posted::Failed
            }
            Err(e) => {
                warn!(%connection, error = %e, "cannot post to a connection");
                Posted::Failed
            }
        }
    }

    /// Posts to one connection in order, up to the first failure or a close.
    pub async fn post_all(&self, connection: &str, outs: &[Out]) -> Posted {
        for out in outs {
            let posted = match out {
                Out::Text(text) => self.post(connection, text).await,
                Out::Close => match self.delete(connection).await {
                    Posted::Sent => Posted::Closed,
                    posted => posted,
                },
            };
            if posted != Posted::Sent {
                return posted;
            }
        }
        Posted::Sent
    }

    /// Closes a client's connection; API Gateway then invokes `$disconnect` for it.
    /// [`Posted::Gone`] when it is closed already (or, during `$connect`, not open yet).
    pub async fn delete(&self, connection: &str) -> Posted {
        match self.client.send("execute-api", Method::DELETE, &self.url(connection), &[], Bytes::new()).await {
            Ok((status, _)) if status.is_success() => {
                debug!(%connection, "connection closed");
                Posted::Sent
            }
            Ok((StatusCode::GONE, _)) => Posted::Gone,
            Ok((status, _)) => {
                warn!(%connection, %status, "cannot close a connection");
                Posted::Failed
            }
            Err(e) => {
                warn!(%connection, error = %e, "cannot close a connection");
                Posted::Failed
            }
        }
    }
}
