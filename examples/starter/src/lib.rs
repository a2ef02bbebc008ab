//! A small multiplayer lobby: the whole application, the same on every runtime.
//!
//! - A player connects with `auth: { name }`; a connection without a name is refused.
//! - `join(room)` puts the player in a room (leaving the previous one) and answers with
//!   the room's players; the others in the room get `joined`.
//! - `move(payload)` goes to the other players of the player's room as `moved`.
//!
//! What a player is (name, room) lives in `socket.data`, in the store: the next packet of
//! the same player may be served by another process, object or invocation.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sio_core::{App, ConnectError, NamespaceDef, Socket};

/// A player, kept in `socket.data`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Player {
    name: String,
    room: Option<String>,
}

async fn player(socket: &Socket) -> Player {
    socket.data::<Player>().await.ok().flatten().unwrap_or_default()
}

/// The name the player connected with (`auth: { name }`), when there is a fitting one.
async fn name(socket: &Socket) -> Option<String> {
    let auth = socket.handshake().await.ok()?.auth;
    let name = auth.get("name")?.as_str()?.trim();
    (!name.is_empty() && name.chars().count() <= 32).then(|| name.to_owned())
}

/// The names of the players in `room`, sorted.
async fn players(socket: &Socket, room: &str) -> Vec<String> {
    let sockets = socket.namespace().within(room).fetch_sockets().await.unwrap_or_default();
    let mut names: Vec<String> =
        sockets.into_iter().filter_map(|s| serde_json::from_value::<Player>(s.data).ok()).map(|p| p.name).collect();
    names.sort();
    names
}

/// The lobby.
pub fn app() -> App {
    App::new().namespace(
        "/",
        NamespaceDef::new()
            .use_middleware(|socket| async move {
                match name(&socket).await {
                    Some(_) => Ok(()),
                    None => Err(ConnectError::new("a player name is required")),
                }
            })
            .on_connect(|socket| async move {
                let name = name(&socket).await.unwrap_or_default();
                let _ = socket.set_data(&Player { name, room: None }).await;
            })
            .on("join", |socket, args, ack| async move {
                let Some(room) = args.str(0).map(str::to_owned).filter(|r| !r.is_empty()) else {
                    if let Some(ack) = ack {
                        let _ = ack.send(json!({ "ok": false, "error": "join(room)" })).await;
                    }
                    return;
                };
                let mut me = player(&socket).await;
                if let Some(old) = me.room.take() {
                    let _ = socket.leave(old).await;
                }
                me.room = Some(room.clone());
                let _ = socket.set_data(&me).await;
                let _ = socket.join(room.clone()).await;
                let _ = socket.to(room.clone()).emit("joined", json!({ "name": me.name })).await;
                if let Some(ack) = ack {
                    let _ = ack.send(json!({ "ok": true, "room": room, "players": players(&socket, &room).await })).await;
                }
            })
            .on("move", |socket, args, _| async move {
                let me = player(&socket).await;
                if let Some(room) = me.room {
                    let payload = args.get(0).cloned().unwrap_or(Value::Null);
                    let _ = socket.to(room).emit("moved", json!({ "name": me.name, "move": payload })).await;
                }
            }),
    )
}
