//! The chat demo on the native runtime: `cargo run`, then open http://127.0.0.1:3000.

#[tokio::main]
async fn main() -> std::io::Result<()> {
    sio_server::init_tracing();
    let listener = sio_server::bind(sio_server::port_flag("--port", 3000)).await?;
    let site = sio_server::Site {
        endpoints: vec![sio_server::endpoint(sio_app::chat::app(), sio_app::chat::config())],
        assets: sio_app::chat::ASSETS,
    };
    sio_server::serve(listener, site).await
}
