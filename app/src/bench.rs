//! The server side of the sio-bench load generator.

use sio_core::{App, Config, NamespaceDef};

pub fn app() -> App {
    App::new().namespace(
        "/",
        NamespaceDef::new()
            .on("echo", |_socket, args, ack| async move {
                if let Some(ack) = ack {
                    let _ = ack.send(args).await;
                }
            })
            .on("broadcast", |socket, args, ack| async move {
                let _ = socket.broadcast().emit("broadcast", args).await;
                if let Some(ack) = ack {
                    let _ = ack.send(()).await;
                }
            }),
    )
}

pub fn config() -> Config {
    Config::default()
}
