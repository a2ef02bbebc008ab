//! The application the end-to-end tests drive (tests/CONTRACT.md).

#[tokio::main]
async fn main() -> std::io::Result<()> {
    sio_server::init_tracing();
    let listener = sio_server::bind(sio_server::port_flag("--port", 0)).await?;
    let site = sio_server::Site {
        endpoints: vec![sio_server::endpoint(sio_app::e2e::app(), sio_app::e2e::config())],
        assets: &[],
    };
    sio_server::serve(listener, site).await
}
