//! The chat demo: rooms, nicknames, typing indicator and delivery ticks (tests/CONTRACT.md).

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sio_core::{Ack, App, Asset, Config, NamespaceDef, Socket};

pub static ASSETS: &[Asset] = &[
    Asset {
        path: "/index.html",
        content_type: "text/html; charset=utf-8",
        body: include_bytes!("../static/index.html"),
    },
    Asset {
        path: "/chat.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../static/chat.js"),
    },
    Asset { path: "/chat.css", content_type: "text/css; charset=utf-8", body: include_bytes!("../static/chat.css") },
    Asset {
        path: "/socket.io/socket.io.min.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../static/socket.io/socket.io.min.js"),
    },
];

const MAX_NAME: usize = 32;
const MAX_TEXT: usize = 2000;

/// Who a socket is in the chat, kept in `socket.data`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Member {
    nick: String,
    room: String,
}

#[derive(Deserialize)]
struct Join {
    room: String,
    nick: String,
}

async fn member(socket: &Socket) -> Option<Member> {
    socket.data::<Member>().await.ok().flatten()
}

/// The nicknames in `room`, sorted, leaving out socket `without`.
async fn members(socket: &Socket, room: &str, without: Option<&str>) -> Vec<String> {
    let sockets = socket.namespace().within(room).fetch_sockets().await.unwrap_or_default();
    let mut nicks: Vec<String> = sockets
        .into_iter()
        .filter(|s| Some(s.id.as_str()) != without)
        .filter_map(|s| serde_json::from_value::<Member>(s.data).ok())
        .filter(|m| m.room == room)
        .map(|m| m.nick)
        .collect();
    nicks.sort();
    nicks
}

async fn refuse(ack: Option<Ack>, error: &str) {
    if let Some(ack) = ack {
        let _ = ack.send(json!({ "ok": false, "error": error })).await;
    }
}

fn valid_name(name: &str) -> bool {
    let name = name.trim();
    !name.is_empty() && name.chars().count() <= MAX_NAME
}

/// Leaves the current room, telling those who stay.
async fn leave_room(socket: &Socket, current: &Member) {
    let _ = socket.leave(current.room.clone()).await;
    let remaining = members(socket, &current.room, Some(socket.id())).await;
    let _ = socket
        .namespace()
        .to(current.room.clone())
        .emit("presence", json!({ "room": current.room, "members": remaining, "left": current.nick }))
        .await;
}

pub fn app() -> App {
    App::new().with_config(config()).namespace(
        "/",
        NamespaceDef::new()
            .on("join", |socket, args, ack| async move {
                let Some(join) = args.parse::<Join>(0) else { return refuse(ack, "expected {room, nick}").await };
                if !valid_name(&join.room) || !valid_name(&join.nick) {
                    return refuse(ack, "room and nick must be 1 to 32 characters").await;
                }
                let me = Member { nick: join.nick.trim().to_owned(), room: join.room.trim().to_owned() };
                if let Some(current) = member(&socket).await {
                    leave_room(&socket, &current).await;
                }
                let _ = socket.set_data(&me).await;
                let _ = socket.join(me.room.clone()).await;
                let list = members(&socket, &me.room, None).await;
                let _ = socket
                    .namespace()
                    .to(me.room.clone())
                    .emit("presence", json!({ "room": me.room, "members": list, "joined": me.nick }))
                    .await;
                if let Some(ack) = ack {
                    let _ = ack.send(json!({ "ok": true, "members": list })).await;
                }
            })
            .on("chat", |socket, args, ack| async move {
                let Some(me) = member(&socket).await else { return refuse(ack, "join a room first").await };
                let text = args.get(0).and_then(|v| v.get("text")).and_then(Value::as_str).unwrap_or_default();
                if text.trim().is_empty() || text.chars().count() > MAX_TEXT {
                    return refuse(ack, "messages must be 1 to 2000 characters").await;
                }
                let ts = socket.now();
                let id = format!("{}-{ts}", socket.id());
                let message = json!({ "id": id, "nick": me.nick, "text": text, "ts": ts });
                let _ = socket.namespace().to(me.room).emit("chat", message).await;
                if let Some(ack) = ack {
                    let _ = ack.send(json!({ "id": id, "ts": ts })).await;
                }
            })
            .on("typing", |socket, args, _| async move {
                let Some(me) = member(&socket).await else { return };
                let typing = args.get(0).and_then(Value::as_bool).unwrap_or(false);
                let _ = socket.to(me.room).emit("typing", json!({ "nick": me.nick, "typing": typing })).await;
            })
            .on_disconnecting(|socket, _| async move {
                if let Some(current) = member(&socket).await {
                    leave_room(&socket, &current).await;
                }
            }),
    )
}

fn config() -> Config {
    Config::default()
}
