//! The server side of the sio-bench load generator, plus two room events for the Redis
//! cost benchmark (`bench/redis/`): a room broadcast is the other hot path of a real app.
//! `leave` lets the soak (`bench/soak/`) churn room membership, not only grow it.

use sio_core::{App, Args, Config, NamespaceDef};

pub fn app() -> App {
    App::new().with_config(config()).namespace(
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
            })
            .on("join", |socket, args, ack| async move {
                let _ = socket.join(args.str(0).unwrap_or_default()).await;
                if let Some(ack) = ack {
                    let _ = ack.send(()).await;
                }
            })
            .on("leave", |socket, args, ack| async move {
                let _ = socket.leave(args.str(0).unwrap_or_default()).await;
                if let Some(ack) = ack {
                    let _ = ack.send(()).await;
                }
            })
            .on("room", |socket, args, ack| async move {
                let room = args.str(0).unwrap_or_default().to_owned();
                let rest = Args { values: args.values.into_iter().skip(1).collect(), binary: args.binary };
                let _ = socket.to(room).emit("room", rest).await;
                if let Some(ack) = ack {
                    let _ = ack.send(()).await;
                }
            }),
    )
}

fn config() -> Config {
    Config::default()
}
