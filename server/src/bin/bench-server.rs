//! The ../shared/tools/sio-bench server contract: `bench-server PORT`.

#[tokio::main]
async fn main() -> std::io::Result<()> {
    sio_server::init_tracing();
    let port = std::env::args().nth(1).and_then(|p| p.parse().ok()).unwrap_or(3000);
    let listener = sio_server::bind(port).await?;
    let site = sio_server::Site {
        endpoints: vec![sio_server::endpoint(sio_app::bench::app(), sio_app::bench::config())],
        assets: &[],
    };
    sio_server::serve(listener, site).await
}
