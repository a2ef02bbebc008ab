//! The application the end-to-end tests drive (tests/CONTRACT.md), with the flags of
//! [`sio_test_apps::cli::serve`] and the limit flags of [`sio_test_apps::cli::limit_flags`].

#[tokio::main]
async fn main() -> std::io::Result<()> {
    sio_server::init_tracing();
    let app = sio_test_apps::cli::limit_flags(sio_test_apps::e2e::app());
    sio_test_apps::cli::serve(sio_server::Server::new(app), 0, "sio:e2e:").await
}
