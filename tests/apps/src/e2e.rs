//! The application the end-to-end tests drive; tests/CONTRACT.md is its specification.

use serde::Serialize;
use serde_json::{json, Value};
use sio_core::eio::cors::{AllowedOrigins, CorsConfig};
use sio_core::{
    Ack, AckError, App, Args, Bytes, Config, ConnectError, CookieConfig, EngineConfig, IntoArgs, NamespaceDef,
    RecoveryConfig, Refusal, RoomEvent, Socket, SocketConfig,
};

/// The room the scheduled handler tells of each tick ([`ticking`]).
const TICK_WATCHERS: &str = "tick-watchers";

/// `app` with a scheduled handler every `every_ms` (the `tick-ms` setting of the test
/// servers, off unless given: a schedule keeps a Durable Object's alarm busy, which the
/// edge suites that count alarm runs must not see): it emits `tick` with the tick's
/// number to the room `tick-watchers` of `/`.
pub fn ticking(app: App, every_ms: u64) -> App {
    app.every("e2e-tick", every_ms, move |server| async move {
        let _ = server.of("/").to(TICK_WATCHERS).emit("tick", server.now() / every_ms).await;
    })
}

/// The room told of every refused request (`connection_error`).
const REFUSAL_WATCHERS: &str = "refusal-watchers";

/// The one foreign origin allowed to poll cross-origin.
pub const CORS_ORIGIN: &str = "http://allowed.test";

async fn reply(ack: Option<Ack>, args: impl IntoArgs) {
    if let Some(ack) = ack {
        let _ = ack.send(args).await;
    }
}

async fn sorted_rooms(socket: &Socket) -> Value {
    let mut rooms = socket.rooms().await.unwrap_or_default();
    rooms.sort();
    json!(rooms)
}

fn echo(def: NamespaceDef) -> NamespaceDef {
    def.on("echo", |socket, args, ack| async move {
        match ack {
            Some(ack) => {
                let _ = ack.send(args).await;
            }
            None => {
                let _ = socket.emit("echo", args).await;
            }
        }
    })
}

fn string(args: &Args, index: usize) -> String {
    args.str(index).unwrap_or_default().to_owned()
}

/// Argument `index` as rooms: a string is one room, an array of strings several.
fn rooms(args: &Args, index: usize) -> Vec<String> {
    args.parse::<Vec<String>>(index).unwrap_or_else(|| vec![string(args, index)])
}

/// Argument `index` passed on as it came, binary attachments included (a placeholder in
/// it keeps pointing at the same bytes).
fn forwarded(args: &Args, index: usize) -> Args {
    Args { values: vec![arg(args, index)], binary: args.binary.clone() }
}

fn arg(args: &Args, index: usize) -> Value {
    args.get(index).cloned().unwrap_or(Value::Null)
}

/// `socket.data` holds the application's value under `app` and the `onAny` counter under
/// `events`: per-socket state lives in the store, never in a closure, so the counter needs
/// a home there too. Clients see only the `app` part as "socket.data".
fn app_data(data: &Value) -> Value {
    data.get("app").cloned().unwrap_or(Value::Null)
}

/// What `typed` sends as a struct, to show that it arrives as `serde_json` writes it.
#[derive(Serialize)]
struct Point {
    x: i32,
    y: i32,
}

fn main_namespace() -> NamespaceDef {
    echo(NamespaceDef::new())
        .use_middleware(|socket| async move {
            let auth = socket.handshake().await.map(|h| h.auth).unwrap_or(Value::Null);
            if auth.get("token") == Some(&json!("bad")) {
                return Err(ConnectError::new("unauthorized").with_data(json!({ "reason": "bad token" })));
            }
            Ok(())
        })
        .on_connect(|socket| async move {
            if !socket.recovered() {
                let auth = socket.handshake().await.map(|h| h.auth).unwrap_or(Value::Null);
                let name = auth.get("name").cloned().unwrap_or(Value::Null);
                let _ = socket.set_data(json!({ "app": { "name": name }, "events": 0 })).await;
            }
            let _ = socket.emit("welcome", json!({ "id": socket.id(), "recovered": socket.recovered() })).await;
        })
        .on_any(|socket, _event, _args| async move {
            let mut data = socket.data_value().await.unwrap_or(Value::Null);
            let events = data.get("events").and_then(Value::as_u64).unwrap_or(0);
            if !data.is_object() {
                data = json!({ "app": Value::Null });
            }
            data["events"] = json!(events + 1);
            let _ = socket.set_data(data).await;
        })
        .use_packet(|_socket, event, mut args| async move {
            match event.as_str() {
                "forbidden" => Err("forbidden event".to_owned()),
                "shout" => {
                    if let Some(Value::String(text)) = args.values.first_mut() {
                        *text = text.to_uppercase();
                    }
                    Ok(args)
                }
                _ => Ok(args),
            }
        })
        .on_error(|socket, message| async move {
            let _ = socket.emit("error-seen", message).await;
        })
        .on("shout", |_socket, args, ack| async move { reply(ack, args).await })
        .on("forbidden", |_socket, _args, ack| async move { reply(ack, "handler ran").await })
        .on_any_outgoing(|socket, event, _args| async move {
            if event == "watched" {
                let _ = socket.emit("outgoing-seen", event).await;
            }
        })
        .on("message", |socket, args, _| async move {
            let _ = socket.send(args).await;
        })
        .on("count", |socket, _, ack| async move {
            let data = socket.data_value().await.unwrap_or(Value::Null);
            reply(ack, json!(data.get("events").and_then(Value::as_u64).unwrap_or(0))).await;
        })
        .on("join", |socket, args, ack| async move {
            match socket.join(rooms(&args, 0)).await {
                Ok(()) => reply(ack, sorted_rooms(&socket).await).await,
                Err(e) => reply(ack, json!({ "error": e.to_string() })).await,
            }
        })
        .on("leave", |socket, args, ack| async move {
            let _ = socket.leave(rooms(&args, 0)).await;
            reply(ack, sorted_rooms(&socket).await).await;
        })
        .on("to-room", |socket, args, ack| async move {
            let _ = socket.namespace().to(rooms(&args, 0)).emit(&string(&args, 1), forwarded(&args, 2)).await;
            reply(ack, "ok").await;
        })
        .on("broadcast", |socket, args, ack| async move {
            let _ = socket.broadcast().emit(&string(&args, 0), forwarded(&args, 1)).await;
            reply(ack, "ok").await;
        })
        .on("except", |socket, args, ack| async move {
            let _ = socket
                .namespace()
                .to(rooms(&args, 0))
                .except(rooms(&args, 1))
                .emit(&string(&args, 2), forwarded(&args, 3))
                .await;
            reply(ack, "ok").await;
        })
        .on("volatile", |socket, args, ack| async move {
            let _ = socket.namespace().volatile().emit(&string(&args, 0), forwarded(&args, 1)).await;
            reply(ack, "ok").await;
        })
        .on("volatile-me", |socket, args, ack| async move {
            let _ = socket.volatile().emit(&string(&args, 0), forwarded(&args, 1)).await;
            reply(ack, "ok").await;
        })
        .on("volatile-burst", |socket, args, ack| async move {
            let count = args.get(0).and_then(Value::as_u64).unwrap_or(0).min(10_000);
            let size = args.get(1).and_then(Value::as_u64).unwrap_or(0).min(1 << 20);
            let filler = "x".repeat(size as usize);
            for i in 0..count {
                let _ = socket.volatile().emit("burst", (i, &filler)).await;
            }
            let _ = socket.emit("burst-done", count).await;
            reply(ack, "ok").await;
        })
        .on("local-room", |socket, args, ack| async move {
            let nsp = socket.namespace();
            let _ = nsp.local().to(string(&args, 0)).emit(&string(&args, 1), forwarded(&args, 2)).await;
            reply(ack, nsp.local().within(string(&args, 0)).fetch_sockets().await.map_or(0, |s| s.len())).await;
        })
        .on("transport", |socket, _args, ack| async move {
            reply(ack, socket.transport().await.map_or("unknown", |t| t.name())).await;
        })
        .on("census", |socket, _args, ack| async move {
            let census = socket.server().census().await.unwrap_or_default();
            let namespaces: serde_json::Map<String, Value> =
                census.namespaces.into_iter().map(|(name, n)| (name, json!(n))).collect();
            reply(ack, json!({ "clients": census.clients, "namespaces": namespaces })).await;
        })
        .on("parent-emit", |socket, args, ack| async move {
            let Some(parent) = socket.server().of(&string(&args, 0)).parent() else { return reply(ack, None::<()>).await };
            let _ = parent.emit(&string(&args, 1), forwarded(&args, 2)).await;
            let children = parent.children().await.unwrap_or_default();
            reply(ack, children.iter().map(|c| c.name()).collect::<Vec<_>>()).await;
        })
        .on("to-nsp", |socket, args, ack| async move {
            let nsp = socket.server().of(&string(&args, 0));
            let _ = nsp.emit(&string(&args, 1), forwarded(&args, 2)).await;
            reply(ack, nsp.fetch_sockets().await.map_or(0, |s| s.len())).await;
        })
        .on("connected-later", |socket, args, ack| async move {
            reply(ack, socket.connected().await.unwrap_or(false)).await;
            socket.sleep(args.get(0).and_then(Value::as_u64).unwrap_or(0)).await;
            let connected = socket.connected().await.unwrap_or(true);
            let report = json!({ "id": socket.id(), "connected": connected });
            let _ = socket.server().of(socket.nsp()).to(string(&args, 1)).emit("connected-report", report).await;
        })
        .on("typed", |socket, _, ack| async move {
            let point = Point { x: 1, y: -2 };
            let _ = socket.emit("typed", ("text", 42, Bytes::from_static(&[1, 2, 3]), &point)).await;
            reply(ack, vec![1, 2]).await;
        })
        .on("sum", |_socket, args, ack| async move {
            match args.parse_all::<(i64, i64)>() {
                Some((a, b)) => reply(ack, a + b).await,
                None => reply(ack, json!({ "error": "sum(a, b)" })).await,
            }
        })
        .on("ask", |socket, args, ack| async move {
            let timeout = args.get(1).and_then(Value::as_u64).unwrap_or(1000);
            let answer = match socket.timeout(timeout).emit_with_ack("question", forwarded(&args, 0)).await {
                Ok(reply) => json!({ "answer": reply.get(0).cloned().unwrap_or(Value::Null) }),
                Err(AckError::Timeout) => json!({ "error": "timeout" }),
                Err(e) => json!({ "error": e.to_string() }),
            };
            reply(ack, answer).await;
        })
        .on("ask-later", |socket, args, ack| async move {
            let timeout = args.get(1).and_then(Value::as_u64).unwrap_or(1000);
            let context = json!({ "asked": arg(&args, 0) });
            let sent = socket.timeout(timeout).emit_with_ack_to("question", forwarded(&args, 0), "answered", context).await;
            reply(ack, json!(sent.is_ok())).await;
        })
        .on_ack("answered", |socket, outcome, context| async move {
            let report = match outcome {
                Ok(reply) => json!({ "asked": context["asked"], "answer": arg(&reply, 0) }),
                Err(e) => json!({ "asked": context["asked"], "error": e.to_string() }),
            };
            let _ = socket.emit("answered", report).await;
        })
        .on("ask-room", |socket, args, ack| async move {
            let timeout = args.get(1).and_then(Value::as_u64).unwrap_or(1000);
            let result = socket.namespace().to(string(&args, 0)).timeout(timeout).emit_with_ack("poll", ()).await;
            let answer = match result {
                Ok(replies) => {
                    let mut answers: Vec<Value> =
                        replies.replies.iter().map(|r| r.get(0).cloned().unwrap_or(Value::Null)).collect();
                    answers.sort_by_key(|v| v.to_string());
                    let error = if replies.timed_out { json!("timeout") } else { Value::Null };
                    json!({ "answers": answers, "error": error })
                }
                Err(e) => json!({ "answers": [], "error": e.to_string() }),
            };
            reply(ack, answer).await;
        })
        .on("set-data", |socket, args, ack| async move {
            let mut data = socket.data_value().await.unwrap_or(Value::Null);
            if !data.is_object() {
                data = json!({});
            }
            data["app"] = arg(&args, 0);
            let _ = socket.set_data(data).await;
            reply(ack, json!(true)).await;
        })
        .on("get-data", |socket, _, ack| async move {
            reply(ack, app_data(&socket.data_value().await.unwrap_or(Value::Null))).await;
        })
        .on("fetch", |socket, args, ack| async move {
            let mut sockets = socket.namespace().within(string(&args, 0)).fetch_sockets().await.unwrap_or_default();
            sockets.sort_by(|a, b| a.id.cmp(&b.id));
            let list: Vec<Value> = sockets
                .into_iter()
                .map(|mut s| {
                    s.rooms.sort();
                    json!({ "id": s.id, "data": app_data(&s.data), "rooms": s.rooms })
                })
                .collect();
            reply(ack, json!(list)).await;
        })
        .on_server_side("ping", |_server, args, ack| async move {
            if let Some(ack) = ack {
                ack.send(("pong", arg(&args, 0)));
            }
        })
        .on_server_side("tell", |server, args, _ack| async move {
            let _ = server.of("/").to(string(&args, 0)).emit("told", arg(&args, 1)).await;
        })
        .on("cluster-ask", |socket, args, ack| async move {
            let timeout = args.get(1).and_then(Value::as_u64).unwrap_or(1000);
            let answer = match socket.server().server_side_emit_with_ack("ping", forwarded(&args, 0), timeout).await {
                Ok(r) => json!({ "replies": r.replies.iter().map(|a| &a.values).collect::<Vec<_>>(), "timedOut": r.timed_out }),
                Err(e) => json!({ "error": e.to_string() }),
            };
            reply(ack, answer).await;
        })
        .on("cluster-tell", |socket, args, ack| async move {
            let told = socket.server().server_side_emit("tell", (string(&args, 0), arg(&args, 1))).await;
            reply(ack, told.is_ok()).await;
        })
        .on("remote-ops", |socket, args, ack| async move {
            let room = string(&args, 0);
            let sockets = socket.namespace().within(room.clone()).fetch_sockets().await.unwrap_or_default();
            let mut answers = Vec::new();
            for s in sockets {
                let _ = s.emit("remote-hello", s.id.clone()).await;
                let _ = s.join(format!("{room}-joined")).await;
                let _ = s.leave(room.clone()).await;
                if let Ok(answer) = s.timeout(1000).emit_with_ack("question", "remote?").await {
                    answers.push(arg(&answer, 0));
                }
            }
            answers.sort_by_key(|v| v.to_string());
            reply(ack, json!(answers)).await;
        })
        .on("remote-kick", |socket, args, ack| async move {
            let sockets = socket.namespace().within(string(&args, 0)).fetch_sockets().await.unwrap_or_default();
            for s in &sockets {
                let _ = s.disconnect(false).await;
            }
            reply(ack, sockets.len()).await;
        })
        .on("sockets-join", |socket, args, ack| async move {
            let _ = socket.namespace().within(string(&args, 0)).sockets_join(string(&args, 1)).await;
            reply(ack, "ok").await;
        })
        .on("sockets-leave", |socket, args, ack| async move {
            let _ = socket.namespace().within(string(&args, 0)).sockets_leave(string(&args, 1)).await;
            reply(ack, "ok").await;
        })
        .on("disconnect-room", |socket, args, ack| async move {
            reply(ack, "ok").await;
            let close = args.get(1).and_then(Value::as_bool).unwrap_or(false);
            let _ = socket.namespace().within(string(&args, 0)).disconnect_sockets(close).await;
        })
        .on("disconnect-me", |socket, _, _| async move {
            let _ = socket.disconnect(false).await;
        })
        .on("close-me", |socket, _, _| async move {
            let _ = socket.disconnect(true).await;
        })
        .on("whoami", |socket, _, ack| async move {
            let handshake = socket.handshake().await.unwrap_or_default();
            let query: serde_json::Map<String, Value> =
                handshake.query.pairs.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
            let me = json!({ "id": socket.id(), "nsp": socket.nsp(), "handshake": { "query": query, "auth": handshake.auth } });
            reply(ack, me).await;
        })
        .on_disconnecting(|socket, reason| async move {
            let rooms = socket.rooms().await.unwrap_or_default();
            let mut to = socket.broadcast();
            let mut any = false;
            for room in rooms.into_iter().filter(|r| r != socket.id()) {
                to = to.to(room);
                any = true;
            }
            if any {
                let _ = to.emit("left", json!({ "id": socket.id(), "reason": reason.as_str() })).await;
            }
        })
}

fn hello(name: &'static str) -> NamespaceDef {
    echo(NamespaceDef::new()).on_connect(move |socket| async move {
        let greeting = if name.is_empty() { socket.nsp().to_owned() } else { name.to_owned() };
        let _ = socket.emit("hello", greeting).await;
    })
}

/// `/rooms`: joins and leaves, and every room change told to its room `watchers`.
fn rooms_namespace() -> NamespaceDef {
    NamespaceDef::new()
        .on("join", |socket, args, ack| async move {
            let _ = socket.join(string(&args, 0)).await;
            reply(ack, "ok").await;
        })
        .on("leave", |socket, args, ack| async move {
            let _ = socket.leave(string(&args, 0)).await;
            reply(ack, "ok").await;
        })
        .on_room_event(|server, event| async move {
            let (kind, room, id) = match event {
                RoomEvent::Create(room) => ("create", room, None),
                RoomEvent::Delete(room) => ("delete", room, None),
                RoomEvent::Join(room, id) => ("join", room, Some(id)),
                RoomEvent::Leave(room, id) => ("leave", room, Some(id)),
            };
            let report = json!({ "kind": kind, "room": room, "id": id });
            let _ = server.of("/rooms").to("watchers").emit("room-event", report).await;
        })
}

/// Node's `io.of((name, auth, next) => ...)`: the children named `/dyn-private...` admit
/// only clients whose `auth.key` is `open-sesame`, and refuse the others as Node refuses a
/// name, with `Invalid namespace`.
fn private_children(def: NamespaceDef) -> NamespaceDef {
    def.use_middleware(|socket| async move {
        let auth = socket.handshake().await.map(|h| h.auth).unwrap_or(Value::Null);
        match socket.nsp().starts_with("/dyn-private") && auth.get("key") != Some(&json!("open-sesame")) {
            true => Err(ConnectError::new("Invalid namespace")),
            false => Ok(()),
        }
    })
}

/// `^/dyn-[a-z0-9]+$`, written out: the core takes any predicate, no regex engine needed.
fn is_dynamic(name: &str) -> bool {
    name.strip_prefix("/dyn-")
        .is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
}

pub fn app() -> App {
    App::new()
        .with_config(config())
        .allow_request(|handshake, _server| async move {
            match (handshake.query.get("deny"), handshake.query.get("deny-with")) {
                (Some(_), _) => Err(Refusal::default()),
                (_, Some(reason)) => Err(Refusal::new(reason).with_status(429)),
                _ => Ok(()),
            }
        })
        .initial_headers(|request| {
            let tag = request.url.split_once("tag=").map_or("none", |(_, rest)| rest.split('&').next().unwrap_or(""));
            vec![("x-initial".to_owned(), tag.to_owned())]
        })
        .headers(|request| vec![("x-served".to_owned(), request.method.clone())])
        // For the tests only: a client must never choose its own session id.
        .generate_id(|request| match request.url.split_once("idhint=") {
            Some((_, rest)) => format!("chosen_{}", rest.split('&').next().unwrap_or("")),
            None => String::new(),
        })
        .on_connection_error(|error, server| async move {
            let report = json!({
                "code": error.code,
                "message": error.message,
                "status": error.status,
                "method": error.request.method,
                "url": error.request.url,
            });
            let _ = server.of("/").to(REFUSAL_WATCHERS).emit("refused", report).await;
        })
        .namespace("/", main_namespace())
        .namespace(
            "/admin",
            hello("admin").use_middleware(|socket| async move {
                let auth = socket.handshake().await.map(|h| h.auth).unwrap_or(Value::Null);
                match auth.get("role") == Some(&json!("admin")) {
                    true => Ok(()),
                    false => Err(ConnectError::new("admin only")),
                }
            }),
        )
        .namespace("/rooms", rooms_namespace())
        .dynamic_namespace(is_dynamic, private_children(hello("")))
        .on_new_namespace(|server, name| async move {
            let _ = server.of("/").to("namespace-watchers").emit("new-namespace", name).await;
        })
}

fn config() -> Config {
    Config {
        engine: EngineConfig {
            ping_interval: 500,
            ping_timeout: 1000,
            max_payload: 100_000,
            cookie: Some(CookieConfig::default()),
            cors: Some(CorsConfig {
                origins: AllowedOrigins::List(vec![CORS_ORIGIN.to_owned()]),
                allowed_headers: vec!["content-type".to_owned(), "authorization".to_owned()],
                exposed_headers: vec!["x-served".to_owned()],
                ..CorsConfig::default()
            }),
            ..EngineConfig::default()
        },
        socket: SocketConfig {
            connect_timeout: 2000,
            recovery: Some(RecoveryConfig { max_disconnection_duration: 10_000, skip_middlewares: true }),
            ..SocketConfig::default()
        },
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn dynamic_names() {
        assert!(super::is_dynamic("/dyn-abc1"));
        assert!(!super::is_dynamic("/dyn-"));
        assert!(!super::is_dynamic("/dyn-ABC"));
        assert!(!super::is_dynamic("/nope"));
    }
}
