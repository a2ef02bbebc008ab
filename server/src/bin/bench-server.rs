//! The ../shared/tools/sio-bench server contract: `bench-server PORT`.
//! `--redis URL` (or `SIO_REDIS_URL`) keeps the state in Redis: then any number of these
//! processes serve the application together, with no sticky sessions (those given the same
//! `--redis-prefix`, default `sio:bench:`).

use sio_server::{endpoint, serve, shared_endpoint, Endpoint, Site};
use sio_state::{MemoryStore, Store};
use tokio::net::TcpListener;

async fn run<S: Store>(listener: TcpListener, endpoint: Endpoint<S>) -> std::io::Result<()> {
    serve(listener, Site { endpoints: vec![endpoint], assets: &[] }).await
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    sio_server::init_tracing();
    let listener = sio_server::bind(std::env::args().nth(1).and_then(|p| p.parse().ok()).unwrap_or(3000)).await?;
    let (app, config) = (sio_app::bench::app(), sio_app::bench::config());
    match sio_server::redis_target("sio:bench:") {
        Some(target) => run(listener, shared_endpoint(app, config, &target).await?).await,
        None => run(listener, endpoint(app, config, MemoryStore::new())).await,
    }
}
