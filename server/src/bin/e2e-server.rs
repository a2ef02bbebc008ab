//! The application the end-to-end tests drive (tests/CONTRACT.md).
//! `--redis URL` (or `SIO_REDIS_URL`) keeps the state in Redis: then any number of these
//! processes serve the application together, with no sticky sessions (those given the same
//! `--redis-prefix`, default `sio:e2e:`). `--max-sessions N`
//! and the other limit flags of [`sio_server::limit_flags`] lower its limits.

use sio_server::{endpoint, serve, shared_endpoint, Endpoint, Site};
use sio_state::{MemoryStore, Store};
use tokio::net::TcpListener;

async fn run<S: Store>(listener: TcpListener, endpoint: Endpoint<S>) -> std::io::Result<()> {
    serve(listener, Site { endpoints: vec![endpoint], assets: &[] }).await
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    sio_server::init_tracing();
    let listener = sio_server::bind(sio_server::port_flag("--port", 0)).await?;
    let (app, config) = (sio_app::e2e::app(), sio_server::limit_flags(sio_app::e2e::config()));
    match sio_server::redis_target("sio:e2e:") {
        Some(target) => run(listener, shared_endpoint(app, config, &target).await?).await,
        None => run(listener, endpoint(app, config, MemoryStore::new())).await,
    }
}
