//! The e2e application (tests/CONTRACT.md) mounted in an axum router beside routes of the
//! router's own, as a user mounts it in an existing server (a tower `Service`): `/health`,
//! and `/announce/T`, which emits `announcement` T to namespace `/` from outside any
//! handler (`io.emit` in an HTTP route) and answers how many sockets the namespace has.
//! `E2E_SERVER=target/release/e2e-axum` runs the end-to-end suites against it. Takes
//! `--port` and the limit flags of [`sio_test_apps::cli::limit_flags`]. On SIGTERM or
//! SIGINT it closes its sessions, then axum stops.

use axum::extract::Path;
use axum::routing::get;
use axum::Router;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    sio_server::init_tracing();
    let app = sio_test_apps::cli::limit_flags(sio_test_apps::e2e::app());
    let sio = sio_server::Server::new(app).service().await?;
    let io = sio.server();
    let announce = get(|Path(text): Path<String>| async move {
        let nsp = io.of("/");
        let _ = nsp.emit("announcement", text).await;
        nsp.fetch_sockets().await.map_or(0, |sockets| sockets.len()).to_string()
    });
    let router = Router::new()
        .route("/health", get(|| async { "ok" }))
        .route("/announce/{text}", announce)
        .route_service("/socket.io/", sio.clone());
    let port = sio_test_apps::cli::port_flag("--port", 0);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, router)
        .with_graceful_shutdown(async move {
            sio_server::shutdown_signal().await;
            // Parked polling GETs would hold axum's shutdown until their ping: the sessions
            // close first, which answers them.
            sio.shut_down().await;
        })
        .await
}
