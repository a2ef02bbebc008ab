//! The chat demo on the native runtime: `cargo run`, then open http://127.0.0.1:3000.
//! `--port N` listens elsewhere (0 picks a free port). `--redis URL` (or `SIO_REDIS_URL`)
//! keeps the state in Redis: then any number of these processes serve the chat together,
//! with no sticky sessions.

#[tokio::main]
async fn main() -> std::io::Result<()> {
    sio_server::init_tracing();
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let port = arg("--port").and_then(|p| p.parse().ok()).unwrap_or(3000);
    let mut server = sio_server::Server::new(chat::app()).assets(chat::ASSETS);
    if let Some(url) = arg("--redis").or_else(|| std::env::var("SIO_REDIS_URL").ok()) {
        server = server.redis(url, "sio:chat:");
    }
    let server = server.bind(([127, 0, 0, 1], port).into()).await?;
    println!("listening on http://{}", server.local_addr()?);
    server.serve().await
}
