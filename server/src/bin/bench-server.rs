//! The ../shared/tools/sio-bench server contract: `bench-server PORT [--redis URL]`.

use sio_server::{endpoint, serve, Site};
use sio_state::{MemoryStore, Store};
use tokio::net::TcpListener;

async fn run<S: Store>(listener: TcpListener, store: S) -> std::io::Result<()> {
    let site = Site { endpoints: vec![endpoint(sio_app::bench::app(), sio_app::bench::config(), store)], assets: &[] };
    serve(listener, site).await
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    sio_server::init_tracing();
    let port = std::env::args().nth(1).and_then(|p| p.parse().ok()).unwrap_or(3000);
    let listener = sio_server::bind(port).await?;
    match sio_server::redis_url() {
        Some(url) => run(listener, sio_server::redis_store(&url, "sio:bench:").await?).await,
        None => run(listener, MemoryStore::new()).await,
    }
}
