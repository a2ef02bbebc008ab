//! A store that compares and swaps (Redis) runs an update of a session again when another
//! update of the record landed between its read and its write, as the sweeper's heartbeat
//! often does. The hub's updates must come out the same when run twice:
//! [`MemoryStore::rerunning`] runs each one first on a copy it throws away.

use std::sync::{Arc, Mutex};

use sio_core::eio::packet::{Data, Packet};
use sio_core::eio::request::TransportKind;
use sio_core::{App, Handshake, NamespaceDef};
use sio_engine::{Hub, MemoryStore, SimHost};

fn text(s: &str) -> Packet {
    Packet::Message(Data::Text(s.to_owned()))
}

#[test]
fn a_binary_event_survives_an_update_run_twice() {
    let got = Arc::new(Mutex::new(Vec::new()));
    let seen = got.clone();
    let app = App::new().namespace(
        "/",
        NamespaceDef::new().on("bin", move |_, args, _| {
            let seen = seen.clone();
            async move {
                let bytes = args.get(0).and_then(|v| args.bytes_of(v)).map(|b| b.to_vec());
                seen.lock().unwrap().push(bytes);
            }
        }),
    );
    let hub = Hub::new(app, MemoryStore::rerunning(), Arc::new(SimHost::new(1_000)));
    let host = hub.host().clone();
    let (sid, _) = host.block_on(hub.handshake(TransportKind::Polling, Handshake::default())).unwrap().unwrap();
    let header = text(r#"51-["bin",{"_placeholder":true,"num":0}]"#);
    let packets = vec![text("0"), header.clone(), Packet::Message(Data::Binary(vec![7].into()))];
    assert!(host.block_on(hub.receive(&sid, packets)).unwrap());
    // The next binary packet starts after the first completed.
    let packets = vec![header, Packet::Message(Data::Binary(vec![8].into()))];
    assert!(host.block_on(hub.receive(&sid, packets)).unwrap());
    assert!(!host.is_closed(&sid));
    assert_eq!(*got.lock().unwrap(), vec![Some(vec![7]), Some(vec![8])]);
}
