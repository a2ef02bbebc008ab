//! The chat demo on the native runtime: `cargo run`, then open http://127.0.0.1:3000.
//! `--redis URL` keeps its state in Redis, so that several processes serve it together.

use sio_server::{endpoint, serve, Site};
use sio_state::{MemoryStore, Store};
use tokio::net::TcpListener;

async fn run<S: Store>(listener: TcpListener, store: S) -> std::io::Result<()> {
    let app = endpoint(sio_app::chat::app(), sio_app::chat::config(), store);
    serve(listener, Site { endpoints: vec![app], assets: sio_app::chat::ASSETS }).await
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    sio_server::init_tracing();
    let listener = sio_server::bind(sio_server::port_flag("--port", 3000)).await?;
    match sio_server::redis_url() {
        Some(url) => run(listener, sio_server::redis_store(&url, "sio:chat:").await?).await,
        None => run(listener, MemoryStore::new()).await,
    }
}
