//! The conformance app: what the official Engine.IO, Socket.IO and socket.io-client test
//! suites expect of a server (../shared/CONFORMANCE.md).

use bytes::Bytes;
use serde_json::{json, Value};
use sio_core::{App, Args, Config, ConnectError, EngineConfig, NamespaceDef, RecoveryConfig, SocketConfig};

fn protocol_engine(path: &str) -> EngineConfig {
    EngineConfig {
        ping_interval: 300,
        ping_timeout: 200,
        max_payload: 1_000_000,
        path: path.to_owned(),
        ..EngineConfig::default()
    }
}

/// `/engine.io/`: bare Engine.IO, every message echoed as it came.
pub fn engine_app() -> App {
    App::new().with_config(engine_config()).engine(|socket, data| async move { socket.send(data).await })
}

fn engine_config() -> Config {
    Config { engine: protocol_engine("/engine.io/"), socket: SocketConfig::default() }
}

fn emit_auth() -> NamespaceDef {
    NamespaceDef::new().on_connect(|socket| async move {
        let auth = socket.handshake().await.map(|h| h.auth).unwrap_or(Value::Null);
        let _ = socket.emit("auth", auth).await;
    })
}

/// `/socket.io/` for the Socket.IO protocol suite.
pub fn protocol_app() -> App {
    App::new()
        .with_config(protocol_config())
        .namespace(
            "/",
            emit_auth()
                .on("message", |socket, args, _| async move {
                    let _ = socket.emit("message-back", args).await;
                })
                .on("message-with-ack", |_, args, ack| async move {
                    if let Some(ack) = ack {
                        let _ = ack.send(args).await;
                    }
                }),
        )
        .namespace("/custom", emit_auth())
}

fn protocol_config() -> Config {
    Config {
        engine: protocol_engine("/socket.io/"),
        socket: SocketConfig { connect_timeout: 1000, recovery: None, ..SocketConfig::default() },
    }
}

fn is_binary(args: &Args, index: usize) -> bool {
    args.binary_at(index).is_some()
}

/// Records that `step` arrived, if `previous` did before it; true when it did.
async fn sequence(socket: &sio_core::Socket, previous: Option<&str>, step: &str) -> bool {
    let mut seen: Vec<String> = socket.data().await.ok().flatten().unwrap_or_default();
    let in_order = previous.is_none_or(|p| seen.last().map(String::as_str) == Some(p));
    if in_order {
        seen.push(step.to_owned());
    } else {
        seen.clear();
    }
    let _ = socket.set_data(&seen).await;
    in_order
}

fn main_namespace() -> NamespaceDef {
    NamespaceDef::new()
        .use_middleware(|socket| async move {
            let handshake = socket.handshake().await.map_err(|e| ConnectError::new(e.to_string()))?;
            match handshake.query.get("fail") {
                Some(_) => Err(ConnectError::new("Auth failed (main namespace)")),
                None => Ok(()),
            }
        })
        .on("hi", |socket, _, _| async move {
            let _ = socket.emit("hi", ()).await;
        })
        .on("echo", |_, args, ack| async move {
            if let Some(ack) = ack {
                let _ = ack.send(args).await;
            }
        })
        .on("ack", |socket, _, _| async move {
            if let Ok(reply) = socket.emit_with_ack("ack", ()).await {
                let five = reply.get(0) == Some(&json!(5));
                let test = reply.get(1).and_then(|v| v.get("test")).is_some_and(truthy);
                if five && test {
                    let _ = socket.emit("got it", ()).await;
                }
            }
        })
        .on("getAckDate", |socket, _, ack| async move {
            if let Some(ack) = ack {
                let _ = ack.send(json!(crate::iso_date(socket.now()))).await;
            }
        })
        .on("getDate", |socket, _, _| async move {
            let _ = socket.emit("takeDate", json!(crate::iso_date(socket.now()))).await;
        })
        .on("getDateObj", |socket, _, _| async move {
            let _ = socket.emit("takeDateObj", json!({ "date": crate::iso_date(socket.now()) })).await;
        })
        .on("getUtf8", |socket, _, _| async move {
            for text in ["てすと", "Я Б Г Д Ж Й", "Ä ä Ü ü ß", "utf8 — string", "utf8 — string"] {
                let _ = socket.emit("takeUtf8", text).await;
            }
        })
        .on("false", |socket, _, _| async move {
            let _ = socket.emit("false", json!(false)).await;
        })
        .on("doge", |socket, _, _| async move {
            let _ = socket.emit("doge", Bytes::from_static(b"asdfasdf")).await;
        })
        .on("getbin", |socket, _, _| async move {
            let _ = socket.emit("takebin", Bytes::from_static(b"asdfasdf")).await;
        })
        .on("buffa", |socket, args, _| async move {
            if is_binary(&args, 0) {
                let _ = socket.emit("buffack", ()).await;
            }
        })
        .on("blob", |socket, args, _| async move {
            if is_binary(&args, 0) {
                let _ = socket.emit("back", ()).await;
            }
        })
        .on("jsonbuff", |socket, args, _| async move {
            if json_with_binary(&args) {
                let _ = socket.emit("jsonbuff-ack", ()).await;
            }
        })
        .on("jsonblob", |socket, args, _| async move {
            if json_with_binary(&args) {
                let _ = socket.emit("jsonblob-ack", ()).await;
            }
        })
        .on("abuff1", |socket, args, _| async move {
            if is_binary(&args, 0) {
                sequence(&socket, None, "abuff1").await;
            }
        })
        .on("abuff2", |socket, _, _| async move {
            if sequence(&socket, Some("abuff1"), "abuff2").await {
                let _ = socket.emit("abuff2-ack", ()).await;
            }
        })
        .on("blob1", |socket, args, _| async move {
            if is_binary(&args, 0) {
                sequence(&socket, None, "blob1").await;
            }
        })
        .on("blob2", |socket, args, _| async move {
            if args.str(0) == Some("second") {
                sequence(&socket, Some("blob1"), "blob2").await;
            }
        })
        .on("blob3", |socket, args, _| async move {
            if is_binary(&args, 0) && sequence(&socket, Some("blob2"), "blob3").await {
                let _ = socket.emit("blob3-ack", ()).await;
            }
        })
        .on("getHandshake", |socket, _, ack| async move {
            if let (Some(ack), Ok(handshake)) = (ack, socket.handshake().await) {
                let _ = ack.send(handshake.to_json()).await;
            }
        })
        .on("getId", |socket, _, ack| async move {
            if let Some(ack) = ack {
                let _ = ack.send(socket.id()).await;
            }
        })
}

fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

fn json_with_binary(args: &Args) -> bool {
    let Some(obj) = args.get(0) else { return false };
    obj.get("hello") == Some(&json!("lol"))
        && obj.get("goodbye") == Some(&json!("gotcha"))
        && obj.get("message").is_some_and(|m| args.bytes_of(m).is_some())
}

/// `/socket.io/` on the client-suite listener.
pub fn client_app() -> App {
    App::new()
        .with_config(client_config())
        .allow_request(|_, server| async move {
            server.sleep(10).await;
            true
        })
        .namespace("/", main_namespace())
        .namespace(
            "/no",
            NamespaceDef::new().use_middleware(|_| async { Err(ConnectError::new("Auth failed (custom namespace)")) }),
        )
        .namespace(
            "/foo",
            NamespaceDef::new().on("getId", |socket, _, ack| async move {
                if let Some(ack) = ack {
                    let _ = ack.send(socket.id()).await;
                }
            }),
        )
        .namespace(
            "/abc",
            NamespaceDef::new().on_connect(|socket| async move {
                if let Ok(handshake) = socket.handshake().await {
                    let _ = socket.emit("handshake", handshake.to_json()).await;
                }
            }),
        )
        .namespace("/timeout_socket", NamespaceDef::new())
        .namespace("/valid", NamespaceDef::new())
        .namespace("/asd", NamespaceDef::new())
}

fn client_config() -> Config {
    Config {
        engine: EngineConfig { ping_interval: 2000, ..EngineConfig::default() },
        socket: SocketConfig { recovery: Some(RecoveryConfig::default()), ..SocketConfig::default() },
    }
}
