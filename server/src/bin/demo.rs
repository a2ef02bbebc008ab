//! The chat demo on the native runtime: `cargo run`, then open http://127.0.0.1:3000.
//! `--redis URL` (or `SIO_REDIS_URL`) keeps the state in Redis: then any number of these
//! processes serve the application together, with no sticky sessions (those given the same
//! `--redis-prefix`, default `sio:chat:`).

use sio_server::{endpoint, serve, shared_endpoint, Endpoint, Site};
use sio_state::{MemoryStore, Store};
use tokio::net::TcpListener;

async fn run<S: Store>(listener: TcpListener, endpoint: Endpoint<S>) -> std::io::Result<()> {
    serve(listener, Site { endpoints: vec![endpoint], assets: sio_app::chat::ASSETS }).await
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    sio_server::init_tracing();
    let listener = sio_server::bind(sio_server::port_flag("--port", 3000)).await?;
    let (app, config) = (sio_app::chat::app(), sio_app::chat::config());
    match sio_server::redis_target("sio:chat:") {
        Some(target) => run(listener, shared_endpoint(app, config, &target).await?).await,
        None => run(listener, endpoint(app, config, MemoryStore::new())).await,
    }
}
