//! The sio-bench server contract (the sio-bench README, in ../shared/tools/sio-bench beside
//! the repository) on socketioxide: `socketioxide-bench-peer PORT`.
//!
//! - `echo`: ack with the arguments received. (`Data<Value>` is the first argument: the
//!   generator sends exactly one, and that is socketioxide's usual way to take it.)
//! - `broadcast`: emit `broadcast` with the same arguments to every other socket, then ack.

use axum::serve::ListenerExt;
use serde_json::Value;
use socketioxide::extract::{AckSender, Data, SocketRef};
use socketioxide::SocketIo;

async fn on_connect(socket: SocketRef) {
    socket.on("echo", |ack: AckSender, Data(args): Data<Value>| async move {
        let _ = ack.send(&args);
    });
    socket.on("broadcast", |socket: SocketRef, ack: AckSender, Data(args): Data<Value>| async move {
        let _ = socket.broadcast().emit("broadcast", &args).await;
        let _ = ack.send(&());
    });
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::args().nth(1).and_then(|p| p.parse().ok()).unwrap_or(3000);
    let (layer, io) = SocketIo::new_layer();
    io.ns("/", on_connect);
    let app = axum::Router::new().layer(layer);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening on http://{}", listener.local_addr()?);
    // TCP_NODELAY like the servers it is compared with (ours sets it on accept; Node's `ws`
    // sets it on every WebSocket). axum leaves Nagle on by default, which coalesces small
    // frames at the cost of latency; SIO_NODELAY=0 measures that default.
    if std::env::var("SIO_NODELAY").is_ok_and(|v| v == "0") {
        axum::serve(listener, app).await
    } else {
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        axum::serve(listener, app).await
    }
}
