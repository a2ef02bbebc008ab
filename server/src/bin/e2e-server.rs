//! The application the end-to-end tests drive (tests/CONTRACT.md). `--redis URL` keeps
//! its state in Redis, so that several of these processes serve it together.

use sio_server::{endpoint, serve, Site};
use sio_state::{MemoryStore, Store};
use tokio::net::TcpListener;

async fn run<S: Store>(listener: TcpListener, store: S) -> std::io::Result<()> {
    let site = Site { endpoints: vec![endpoint(sio_app::e2e::app(), sio_app::e2e::config(), store)], assets: &[] };
    serve(listener, site).await
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    sio_server::init_tracing();
    let listener = sio_server::bind(sio_server::port_flag("--port", 0)).await?;
    match sio_server::redis_url() {
        Some(url) => run(listener, sio_server::redis_store(&url, "sio:e2e:").await?).await,
        None => run(listener, MemoryStore::new()).await,
    }
}
