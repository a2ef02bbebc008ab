//! The standalone listener ([`crate::Bound`]): accepting connections, bounding how long a
//! slow or idle client may hold one, and the graceful shutdown.

use std::convert::Infallible;
use std::future::Future;
use std::time::Duration;

use hyper::header::{HeaderValue, CONNECTION};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::StatusCode;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_util::task::TaskTracker;
use tracing::{debug, warn};

use crate::transport::response;
use crate::{Sites, SHUTDOWN_GRACE};

/// How long the listener waits on a client. Without these, a connection that sends half a
/// request, or a body that never ends, would hold its socket and task for ever; the
/// defaults are those of Node's `http.Server`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpTimeouts {
    /// A request's headers must arrive whole within this after the connection opens or
    /// the previous response was sent, or the connection is closed: it also bounds how
    /// long an idle keep-alive connection stays open (Node's `headersTimeout`, 60 s).
    pub headers: Duration,
    /// A request must be read and answered within this, or it is answered with 408 and
    /// the connection closed (Node's `requestTimeout`, 300 s). A long-polling GET waits at
    /// most a ping interval, far less.
    pub request: Duration,
}

impl Default for HttpTimeouts {
    fn default() -> Self {
        Self { headers: Duration::from_secs(60), request: Duration::from_secs(300) }
    }
}

/// Serves `sites` on `listener` until `shutdown` completes, then shuts down gracefully.
pub(crate) async fn serve(
    listener: TcpListener,
    timeouts: HttpTimeouts,
    sites: Sites,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let connections = TaskTracker::new();
    let (stop, stopped) = watch::channel(false);
    // Connections are still accepted while the sessions close, as Node's `io.close()`
    // does: a polling client whose GET was not parked then gets its close from the next.
    let closing = {
        let sites = sites.clone();
        async move {
            shutdown.await;
            sites.shut_down().await;
        }
    };
    let mut closing = std::pin::pin!(closing);
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => accepted?,
            () = &mut closing => break,
        };
        let _ = stream.set_nodelay(true);
        let sites = sites.clone();
        let mut stopped = stopped.clone();
        connections.spawn(async move {
            let service = service_fn(move |req| {
                let sites = sites.clone();
                async move {
                    let answer = tokio::time::timeout(timeouts.request, sites.handle(req, Some(remote.ip()))).await;
                    Ok::<_, Infallible>(answer.unwrap_or_else(|_| {
                        debug!(%remote, "request not done within the request timeout: 408");
                        let mut res = response(StatusCode::REQUEST_TIMEOUT, "text/plain", "request timeout");
                        res.headers_mut().insert(CONNECTION, HeaderValue::from_static("close"));
                        res
                    }))
                }
            });
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(timeouts.headers)
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades();
            let mut connection = std::pin::pin!(connection);
            let ended = tokio::select! {
                ended = connection.as_mut() => ended,
                _ = stopped.changed() => {
                    // Answers the request in flight, if any, then closes.
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(e) = ended {
                debug!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    let _ = stop.send(true);
    connections.close();
    if tokio::time::timeout(SHUTDOWN_GRACE, connections.wait()).await.is_err() {
        warn!("connections still open after the shutdown's grace period: left behind");
    }
    Ok(())
}
