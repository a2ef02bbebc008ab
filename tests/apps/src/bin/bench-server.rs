//! The ../shared/tools/sio-bench server contract: `bench-server PORT`, and the flags of
//! [`sio_test_apps::cli::serve`] (`--redis URL` for several processes on one Redis).

#[tokio::main]
async fn main() -> std::io::Result<()> {
    sio_server::init_tracing();
    let port = std::env::args().nth(1).and_then(|p| p.parse().ok()).unwrap_or(3000);
    sio_test_apps::cli::serve(sio_server::Server::new(sio_test_apps::bench::app()), port, "sio:bench:").await
}
