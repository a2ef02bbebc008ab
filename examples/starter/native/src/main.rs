//! The lobby on a tokio server: `cargo run -- [--port N] [--redis URL]` (port 3000 by
//! default, 0 picks a free one; with Redis, any number of these processes share the load).

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let port = arg("--port").and_then(|p| p.parse().ok()).unwrap_or(3000);
    let mut server = sio_server::Server::new(starter::app());
    if let Some(url) = arg("--redis").or_else(|| std::env::var("REDIS_URL").ok()) {
        server = server.redis(url, "starter:");
    }
    let server = server.bind(([127, 0, 0, 1], port).into()).await?;
    println!("listening on http://{}", server.local_addr()?);
    server.serve().await
}
