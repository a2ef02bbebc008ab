//! The hub enforces each limit for the offending session or socket only, on a virtual
//! clock ([`SimHost`]) with the in-memory store.

use std::sync::Arc;

use sio_core::eio::error::RequestError;
use sio_core::eio::packet::{Data, Packet};
use sio_core::eio::request::TransportKind;
use sio_core::{App, Config, EngineConfig, Handshake, NamespaceDef, SocketConfig};
use sio_engine::{Hub, MemoryStore, SimHost, Store};

fn hub() -> Hub<MemoryStore, Arc<SimHost>> {
    let app = App::new().namespace(
        "/",
        NamespaceDef::new().on("spam", |socket, args, _| async move {
            for _ in 0..args.get(0).and_then(serde_json::Value::as_u64).unwrap_or(0) {
                let _ = socket.emit("x", ()).await;
            }
        }),
    );
    let app = app.dynamic_namespace(|_| true, NamespaceDef::new());
    let config = Config {
        engine: EngineConfig { max_sessions: 2, max_buffered_packets: 5, ..EngineConfig::default() },
        socket: SocketConfig { max_namespaces: 2, ..SocketConfig::default() },
    };
    Hub::new(app.with_config(config), MemoryStore::new(), Arc::new(SimHost::new(1_000)))
}

fn text(s: &str) -> Packet {
    Packet::Message(Data::Text(s.to_owned()))
}

fn open(hub: &Hub<MemoryStore, Arc<SimHost>>) -> Result<String, RequestError> {
    let host = hub.host().clone();
    host.block_on(hub.handshake(TransportKind::Polling, Handshake::default())).unwrap().map(|(sid, _)| sid)
}

#[test]
fn sessions_namespaces_and_queues() {
    let hub = hub();
    let host = hub.host().clone();
    let a = open(&hub).unwrap();
    let b = open(&hub).unwrap();
    assert_eq!(open(&hub), Err(RequestError::TooManySessions));

    assert!(host.block_on(hub.receive(&a, vec![text("0"), text("0/one,"), text("0/two,")])).unwrap());
    let sent = host.block_on(hub.take_queued(&a)).unwrap();
    assert_eq!(sent.len(), 3, "{sent:?}");
    assert_eq!(sent[2], text(r#"4/two,{"message":"Too many namespaces"}"#));
    assert_eq!(host.block_on(hub.store().update_session(&a, |r| r.sockets.len())).unwrap(), Ok(Some(2)));

    assert!(host.block_on(hub.receive(&b, vec![text("0"), text(r#"2["spam",3]"#)])).unwrap());
    assert!(!host.is_closed(&b), "connect reply and 3 events fit in 5");
    assert!(host.block_on(hub.receive(&b, vec![text(r#"2["spam",3]"#)])).unwrap());
    assert!(host.is_closed(&b), "3 more do not");
    assert_eq!(host.block_on(hub.session(&b)).unwrap(), Ok(None));
    assert!(!host.is_closed(&a));
    assert!(open(&hub).is_ok(), "a closed session makes room");
}
