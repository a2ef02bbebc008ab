//! The store suite: the semantics every [`Store`] backend must have, one generic check per
//! area, so that every backend (memory here, Redis in `sio-redis`, the Durable Object one
//! in `sio-cloudflare`) runs the same checks. Built with the `store-suite` feature, for
//! the backends' tests.

use std::future::Future;

use crate::{LogEntry, Member, PendingAck, PersistedSocket, Queued, Recovery, SessionRecord, SocketRecord, Store};
use serde_json::json;
use sio_core::eio::packet::{Data, Packet};
use sio_core::eio::request::TransportKind;
use sio_core::eio::session::EngineSession;
use sio_core::{Census, EngineConfig, Handshake, Target};

/// A polling session record, as a handshake makes it.
pub fn session(sid: &str) -> SessionRecord {
    SessionRecord {
        eio: EngineSession::new(sid.to_owned(), TransportKind::Polling, 0, &EngineConfig::default()),
        sockets: Vec::new(),
        partial: None,
        connect_deadline: Some(45_000),
        handshake: Handshake::default().into(),
    }
}

fn socket(nsp: &str, id: &str, sid: &str) -> SocketRecord {
    SocketRecord {
        id: id.to_owned(),
        nsp: nsp.to_owned(),
        sid: sid.to_owned(),
        data: json!(null),
        pid: Some(format!("pid-{id}")),
        handshake: Handshake::default().into(),
    }
}

fn ids(mut members: Vec<Member>) -> Vec<String> {
    members.sort_by(|a, b| a.id.cmp(&b.id));
    members.into_iter().map(|m| m.id).collect()
}

fn target(rooms: &[&str], except: &[&str], exclude: Option<&str>) -> Target {
    Target {
        nsp: "/".into(),
        rooms: rooms.iter().map(|r| r.to_string()).collect(),
        except: except.iter().map(|r| r.to_string()).collect(),
        exclude: exclude.map(str::to_owned),
        ..Target::default()
    }
}

async fn sessions_and_queues<S: Store>(store: &S) {
    store.insert_session(session("s1")).await.unwrap();
    let updated = store.update_session("s1", |r| r.sockets.push(("/".into(), "a".into()))).await.unwrap();
    assert_eq!(updated, Some(()));
    assert_eq!(store.update_session("nope", |_| ()).await.unwrap(), None);

    let packets = [Packet::Message(Data::Text("x".into())), Packet::Ping(String::new())];
    assert_eq!(store.push_outbound("s1", &packets, 10).await.unwrap(), Queued::Yes);
    assert_eq!(store.push_outbound("s1", &packets[..1], 10).await.unwrap(), Queued::Yes);
    assert_eq!(store.take_outbound("s1").await.unwrap().len(), 3, "queued in order, taken at once");
    assert!(store.take_outbound("s1").await.unwrap().is_empty());
    assert_eq!(store.push_outbound("ghost", &packets, 10).await.unwrap(), Queued::Yes);
    assert!(store.take_outbound("ghost").await.unwrap().is_empty(), "no queue for an unknown session");

    assert_eq!(store.push_outbound("s1", &packets[1..], 10).await.unwrap(), Queued::Yes);
    let (removed, queued) = store.remove_session("s1").await.unwrap().unwrap();
    assert_eq!(removed.sockets, vec![("/".to_owned(), "a".to_owned())]);
    assert_eq!(queued, packets[1..], "what was still queued comes back with the session");
    assert!(store.remove_session("s1").await.unwrap().is_none());
}

/// An upgrade's flush seals the queue: a packet offered after it is refused, so that its
/// sender delivers it to the WebSocket rather than into a queue no one reads.
async fn sealed_queues<S: Store>(store: &S) {
    let packets = [Packet::Message(Data::Text("x".into())), Packet::Ping(String::new())];
    store.insert_session(session("u1")).await.unwrap();
    store.insert_session(session("u2")).await.unwrap();
    assert_eq!(store.push_outbound("u1", &packets[..1], 10).await.unwrap(), Queued::Yes);
    assert_eq!(store.seal_outbound("u1").await.unwrap(), packets[..1], "the flush takes what was queued");
    assert_eq!(store.push_outbound("u1", &packets, 10).await.unwrap(), Queued::Sealed);
    assert_eq!(store.push_outbound("u1", &packets, 0).await.unwrap(), Queued::Sealed, "sealed before full");
    assert!(store.take_outbound("u1").await.unwrap().is_empty(), "nothing was queued after the seal");
    assert_eq!(store.push_outbound("u2", &packets, 10).await.unwrap(), Queued::Yes, "other sessions unsealed");
    assert_eq!(store.seal_outbound("ghost").await.unwrap(), []);
    assert_eq!(store.push_outbound("ghost", &packets, 10).await.unwrap(), Queued::Yes, "unknown stays unknown");

    assert_eq!(store.remove_session("u1").await.unwrap().unwrap().1, []);
    store.insert_session(session("u1")).await.unwrap();
    assert_eq!(store.push_outbound("u1", &packets, 10).await.unwrap(), Queued::Yes, "the seal went with the session");
    for sid in ["u1", "u2"] {
        store.remove_session(sid).await.unwrap();
    }
}

async fn deadlines<S: Store>(store: &S) {
    for sid in ["d1", "d2", "d3"] {
        store.insert_session(session(sid)).await.unwrap();
    }
    store.set_deadline("d1", Some(100)).await.unwrap();
    store.set_deadline("d2", Some(50)).await.unwrap();
    store.set_deadline("d3", Some(300)).await.unwrap();
    store.set_deadline("d2", Some(200)).await.unwrap();
    assert_eq!(store.due(150, 10).await.unwrap(), (vec!["d1".to_owned()], Some(160)), "claimed until 160");
    assert_eq!(store.due(150, 10).await.unwrap(), (vec![], Some(160)), "a claimed deadline is handed out once");
    assert_eq!(store.due(170, 10).await.unwrap(), (vec!["d1".to_owned()], Some(180)), "again once the lease ran out");
    store.set_deadline("d1", Some(400)).await.unwrap();
    store.remove_session("d3").await.unwrap();
    assert_eq!(store.due(1000, 10).await.unwrap(), (vec!["d2".to_owned(), "d1".to_owned()], Some(1010)));
    store.set_deadline("d1", None).await.unwrap();
    store.set_deadline("d2", None).await.unwrap();
    store.set_deadline("ghost", Some(1)).await.unwrap();
    assert_eq!(store.due(2000, 10).await.unwrap(), (vec![], None), "no deadline for an unknown session");
}

async fn rooms_and_targets<S: Store>(store: &S) {
    for id in ["a", "b", "c"] {
        store.insert_socket(socket("/", id, &format!("sid-{id}"))).await.unwrap();
        assert!(store.join("/", id, &[id.to_owned()], 10).await.unwrap());
    }
    store.insert_socket(socket("/other", "z", "sid-z")).await.unwrap();
    assert!(store.join("/other", "z", &["red".to_owned()], 10).await.unwrap());
    assert!(store.join("/", "a", &["red".into(), "blue".into()], 10).await.unwrap());
    assert!(store.join("/", "b", &["red".into()], 10).await.unwrap());
    assert!(store.join("/", "c", &["blue".into()], 10).await.unwrap());

    assert_eq!(ids(store.members(&target(&[], &[], None)).await.unwrap()), ["a", "b", "c"]);
    assert_eq!(ids(store.members(&target(&["red"], &[], None)).await.unwrap()), ["a", "b"]);
    assert_eq!(ids(store.members(&target(&["red", "blue"], &[], None)).await.unwrap()), ["a", "b", "c"], "each once");
    assert_eq!(ids(store.members(&target(&["red"], &["blue"], None)).await.unwrap()), ["b"]);
    assert_eq!(ids(store.members(&target(&[], &["blue"], None)).await.unwrap()), ["b"], "namespace except a room");
    assert_eq!(ids(store.members(&target(&[], &[], Some("a"))).await.unwrap()), ["b", "c"]);
    assert_eq!(ids(store.members(&target(&["nobody"], &[], None)).await.unwrap()), Vec::<String>::new());
    let member = store.members(&target(&["c"], &[], None)).await.unwrap();
    assert_eq!(member, vec![Member { id: "c".into(), sid: "sid-c".into() }]);

    assert_eq!(store.rooms_of("/", "a").await.unwrap(), ["a", "blue", "red"]);
    store.leave("/", "a", &["red".into()]).await.unwrap();
    assert_eq!(ids(store.members(&target(&["red"], &[], None)).await.unwrap()), ["b"]);

    // A socket's own room, which another socket may join too, and its owner leave.
    assert!(store.join("/", "c", &["a".into()], 10).await.unwrap());
    assert_eq!(ids(store.members(&target(&["a"], &[], None)).await.unwrap()), ["a", "c"]);
    assert_eq!(ids(store.members(&target(&[], &["a"], None)).await.unwrap()), ["b"], "except a socket's room");
    assert_eq!(ids(store.members(&target(&["blue"], &["c"], None)).await.unwrap()), ["a"]);
    store.leave("/", "a", &["a".into()]).await.unwrap();
    assert_eq!(ids(store.members(&target(&["a"], &[], None)).await.unwrap()), ["c"]);
    assert_eq!(store.rooms_of("/", "a").await.unwrap(), ["blue"]);
    assert!(store.join("/", "a", &["a".into()], 10).await.unwrap());
    store.leave("/", "c", &["a".into()]).await.unwrap();
    assert_eq!(ids(store.members(&target(&["a"], &[], None)).await.unwrap()), ["a"]);

    assert!(store.set_socket_data("/", "b", json!({"n": 1})).await.unwrap());
    assert!(!store.set_socket_data("/", "ghost", json!(1)).await.unwrap());
    assert_eq!(store.socket("/", "b").await.unwrap().unwrap().data, json!({"n": 1}));
    // Two handlers of one socket setting its data side by side: with Redis both read the
    // record before either writes, so the second swap fails and must be made again with
    // its own value, which then wins, as the later assignment does in Node.
    let (first, second) = futures_util::future::join(
        store.set_socket_data("/", "b", json!(2)),
        store.set_socket_data("/", "b", json!(3)),
    )
    .await;
    assert!(first.unwrap() && second.unwrap());
    assert_eq!(store.socket("/", "b").await.unwrap().unwrap().data, json!(3));

    let (record, rooms) = store.remove_socket("/", "b").await.unwrap().unwrap();
    assert_eq!((record.id.as_str(), rooms), ("b", vec!["b".to_owned(), "red".to_owned()]));
    assert!(store.members(&target(&["red"], &[], None)).await.unwrap().is_empty());
    assert!(store.socket("/", "b").await.unwrap().is_none());
    assert!(store.join("/", "b", &["red".into()], 10).await.unwrap());
    assert!(store.members(&target(&["red"], &[], None)).await.unwrap().is_empty(), "a removed socket cannot join");

    // Each namespace lists its own sockets, also once its last one has gone and another came.
    let other = |rooms: &[&str]| Target { nsp: "/other".into(), ..target(rooms, &[], None) };
    assert_eq!(ids(store.members(&other(&[])).await.unwrap()), ["z"]);
    assert_eq!(ids(store.members(&other(&["red"])).await.unwrap()), ["z"]);
    assert!(store.remove_socket("/other", "z").await.unwrap().is_some());
    assert!(store.members(&other(&[])).await.unwrap().is_empty());
    store.insert_socket(socket("/other", "y", "sid-y")).await.unwrap();
    assert_eq!(store.members(&other(&[])).await.unwrap(), vec![Member { id: "y".into(), sid: "sid-y".into() }]);
    assert_eq!(ids(store.members(&target(&[], &[], None)).await.unwrap()), ["a", "c"]);
}

fn entry(offset: &str, at: u64, rooms: &[&str]) -> LogEntry {
    LogEntry {
        offset: offset.into(),
        emitted_at: at,
        target: target(rooms, &[], None),
        event: "ev".into(),
        values: vec![json!(offset)],
        binary: Vec::new(),
    }
}

fn recovery_of(pid: &str, offset: &str, not_before: u64) -> Recovery {
    Recovery {
        pid: pid.into(),
        offset: offset.into(),
        not_before,
        nsp: "/".into(),
        sid: "s9".into(),
        handshake: Handshake::default().into(),
    }
}

/// Logs `e` as an emit does, returning the ids of the members it reached.
async fn log<S: Store>(store: &S, e: LogEntry, keep_since: u64) -> Vec<String> {
    let target = e.target.clone();
    ids(store.log_event(e, keep_since, &target).await.unwrap())
}

async fn recovery<S: Store>(store: &S) {
    let kept = PersistedSocket {
        id: "a".into(),
        nsp: "/".into(),
        rooms: vec!["a".into(), "red".into()],
        data: json!({"k": 1}),
        disconnected_at: 1_000,
    };
    store.insert_socket(socket("/", "b", "s2")).await.unwrap();
    assert!(store.join("/", "b", &["b".into(), "red".into()], 10).await.unwrap());
    assert_eq!(log(store, entry("o1", 900, &[]), 0).await, ["b"], "logging an event finds its members");
    log(store, entry("o2", 1_100, &["red"]), 0).await;
    log(store, entry("o3", 1_200, &["blue"]), 0).await;
    log(store, entry("o4", 1_300, &["a"]), 0).await;
    store.persist_socket("p1", kept.clone()).await.unwrap();

    assert!(store.restore_socket(recovery_of("p1", "o1", 2_000)).await.unwrap().is_none(), "disconnected too long ago");
    assert!(store.restore_socket(recovery_of("p1", "missing", 0)).await.unwrap().is_none(), "unknown offset");
    let elsewhere = Recovery { nsp: "/other".into(), ..recovery_of("p1", "o1", 0) };
    assert!(store.restore_socket(elsewhere).await.unwrap().is_none(), "kept for another namespace");
    assert!(store.socket("/", "a").await.unwrap().is_none(), "not back after a refusal");
    let (socket, missed) = store.restore_socket(recovery_of("p1", "o1", 0)).await.unwrap().unwrap();
    assert_eq!(socket, kept, "a refused attempt leaves it kept");
    let offsets: Vec<_> = missed.iter().map(|e| e.offset.as_str()).collect();
    assert_eq!(offsets, ["o2", "o4"], "only what the socket's rooms would have received");
    assert!(store.restore_socket(recovery_of("p1", "o1", 0)).await.unwrap().is_none(), "a session is restored once");

    // Back in service in the same step: its record on the new session, its rooms, so
    // the next event reaches it live.
    let record = store.socket("/", "a").await.unwrap().unwrap();
    assert_eq!((record.sid.as_str(), record.data.clone(), record.pid.as_deref()), ("s9", json!({"k": 1}), Some("p1")));
    assert_eq!(store.rooms_of("/", "a").await.unwrap(), ["a", "red"]);
    assert_eq!(log(store, entry("o5", 1_400, &["red"]), 0).await, ["a", "b"]);
    assert_eq!(log(store, entry("o6", 1_500, &["a"]), 0).await, ["a"]);

    log(store, entry("o7", 5_000, &[]), 4_000).await;
    store.persist_socket("p2", kept).await.unwrap();
    assert!(store.restore_socket(recovery_of("p2", "o1", 0)).await.unwrap().is_none(), "pruned entries are gone");
}

fn ack(socket: &str, id: u64, deadline: Option<u64>) -> PendingAck {
    PendingAck {
        nsp: "/".into(),
        socket: socket.into(),
        id,
        deadline,
        handler: Some("on-answer".into()),
        waiter: None,
        context: json!({ "n": id }),
    }
}

async fn pending_acks<S: Store>(store: &S) {
    assert!(store
        .add_acks(vec![ack("a", 1, Some(100)), ack("a", 2, None), ack("b", 1, Some(50))], 10)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(store.take_ack("/", "a", 1).await.unwrap(), Some(ack("a", 1, Some(100))));
    assert_eq!(store.take_ack("/", "a", 1).await.unwrap(), None, "an ack resolves once");
    assert_eq!(store.take_ack("/other", "a", 2).await.unwrap(), None, "namespaces are apart");

    assert!(store.add_acks(vec![ack("c", 7, Some(300))], 10).await.unwrap().is_empty());
    assert_eq!(store.due_acks(49).await.unwrap(), (vec![], Some(50)));
    assert_eq!(store.due_acks(100).await.unwrap(), (vec![ack("b", 1, Some(50))], Some(300)));
    assert_eq!(store.take_ack("/", "b", 1).await.unwrap(), None, "a timed-out ack is gone");

    let mut gone = store.take_acks_of("/", "a").await.unwrap();
    gone.extend(store.take_acks_of("/", "c").await.unwrap());
    assert_eq!(gone, vec![ack("a", 2, None), ack("c", 7, Some(300))]);
    assert_eq!(store.due_acks(1_000).await.unwrap(), (vec![], None), "their deadlines went with them");
}

/// The census counts the sessions and each namespace's sockets, and forgets a namespace
/// once its last socket is gone.
async fn census<S: Store>(store: &S) {
    assert_eq!(store.census().await.unwrap(), Census::default());
    for sid in ["c1", "c2"] {
        store.insert_session(session(sid)).await.unwrap();
        store.set_deadline(sid, Some(1_000)).await.unwrap();
    }
    for (nsp, id, sid) in [("/", "a", "c1"), ("/", "b", "c2"), ("/chat", "c", "c1")] {
        store.insert_socket(socket(nsp, id, sid)).await.unwrap();
        assert!(store.join(nsp, id, &[id.to_owned(), "room".to_owned()], 10).await.unwrap());
    }
    let both = vec![("/".to_owned(), 2), ("/chat".to_owned(), 1)];
    assert_eq!(store.census().await.unwrap(), Census { clients: 2, namespaces: both });
    store.remove_socket("/chat", "c").await.unwrap();
    store.remove_socket("/", "a").await.unwrap();
    store.remove_session("c1").await.unwrap();
    let one = vec![("/".to_owned(), 1)];
    assert_eq!(store.census().await.unwrap(), Census { clients: 1, namespaces: one });
}

/// Each limit is all or nothing for the socket or session at it, and leaves others alone.
async fn limits<S: Store>(store: &S) {
    assert_eq!(store.session_count().await.unwrap(), 0);
    for sid in ["l1", "l2"] {
        store.insert_session(session(sid)).await.unwrap();
        store.set_deadline(sid, Some(1_000)).await.unwrap();
    }
    assert_eq!(store.session_count().await.unwrap(), 2);
    store.remove_session("l2").await.unwrap();
    assert_eq!(store.session_count().await.unwrap(), 1);

    let packets = [Packet::Message(Data::Text("x".into())), Packet::Noop];
    assert_eq!(store.push_outbound("l1", &packets, 3).await.unwrap(), Queued::Yes);
    assert_eq!(store.push_outbound("l1", &packets, 3).await.unwrap(), Queued::Full, "4 packets would not fit in 3");
    assert_eq!(store.push_outbound("l1", &packets[..1], 3).await.unwrap(), Queued::Yes, "a refusal queued nothing");
    assert_eq!(store.take_outbound("l1").await.unwrap().len(), 3);

    for id in ["a", "b"] {
        store.insert_socket(socket("/", id, "l1")).await.unwrap();
    }
    assert!(store.join("/", "a", &["a".into(), "red".into()], 3).await.unwrap());
    assert!(store.join("/", "a", &["red".into(), "blue".into()], 3).await.unwrap(), "rooms it is in count once");
    assert!(!store.join("/", "a", &["green".into()], 3).await.unwrap());
    assert!(!store.join("/", "b", &["1".into(), "2".into(), "3".into(), "4".into()], 3).await.unwrap());
    assert_eq!(store.rooms_of("/", "a").await.unwrap(), vec!["a", "blue", "red"]);
    assert!(store.rooms_of("/", "b").await.unwrap().is_empty(), "a refused join joins nothing");
    assert_eq!(ids(store.members(&target(&["green", "1"], &[], None)).await.unwrap()), Vec::<String>::new());

    let refused = store.add_acks(vec![ack("a", 1, Some(10)), ack("a", 2, None), ack("b", 1, None)], 1).await.unwrap();
    assert_eq!(refused, vec![ack("a", 2, None)], "one per socket");
    assert_eq!(store.add_acks(vec![ack("a", 3, Some(5))], 1).await.unwrap(), vec![ack("a", 3, Some(5))]);
    assert_eq!(store.due_acks(9).await.unwrap(), (vec![], Some(10)), "a refused ack has no deadline");
    assert!(store.take_ack("/", "a", 1).await.unwrap().is_some());
    assert!(store.add_acks(vec![ack("a", 4, None)], 1).await.unwrap().is_empty(), "room again once answered");
}

/// The checks by name, each wanting a fresh store of its own: a backend that cannot make
/// one at will (a Durable Object's storage is the object's) runs each in a store of its
/// own with [`check`].
pub const CHECKS: [&str; 8] = [
    "pending_acks",
    "sessions_and_queues",
    "sealed_queues",
    "deadlines",
    "rooms_and_targets",
    "recovery",
    "limits",
    "census",
];

/// Runs check `name` of [`CHECKS`] on `store`, which must be fresh; `false` when there is
/// no such check. Panics when the store fails it.
pub async fn check<S: Store>(name: &str, store: &S) -> bool {
    match name {
        "pending_acks" => pending_acks(store).await,
        "sessions_and_queues" => sessions_and_queues(store).await,
        "sealed_queues" => sealed_queues(store).await,
        "deadlines" => deadlines(store).await,
        "rooms_and_targets" => rooms_and_targets(store).await,
        "recovery" => recovery(store).await,
        "limits" => limits(store).await,
        "census" => census(store).await,
        _ => return false,
    }
    true
}

/// Runs every check, each on a fresh store from `make`. Panics on the first that fails.
pub async fn run<S: Store, F: Future<Output = S>>(make: impl Fn() -> F) {
    for name in CHECKS {
        check(name, &make().await).await;
    }
}
