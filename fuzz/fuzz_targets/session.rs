//! Whole sessions driven by client bytes and the clock: the e2e application on the hub
//! with the in-memory store (running each session update twice, as Redis may) and a
//! virtual clock, small limits, and a script of operations
//! (`[op, target, len, payload...]`): handshakes, POST bodies, WebSocket frames, binary
//! messages, polls, upgrades, dropped transports and clock ticks with their sweeps.
//!
//! Invariants after every step: no panic, no hub call waits forever, a closed session stays
//! closed, and no limit is exceeded (sessions, namespaces, rooms, polling queue).
#![no_main]

use std::sync::Arc;

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use sio_core::eio::packet::{Data, Packet};
use sio_core::eio::payload::decode_payload;
use sio_core::eio::request::TransportKind;
use sio_core::eio::session::CloseReason;
use sio_core::{Config, EngineConfig, Handshake, SocketConfig};
use sio_engine::{Hub, MemoryStore, SimHost, Store};

/// Steps past this are ignored: long scripts explore no more than short ones do.
const MAX_STEPS: usize = 64;

fn config() -> Config {
    let Config { engine, socket } = sio_test_apps::e2e::app().config;
    Config {
        engine: EngineConfig { max_sessions: 4, max_buffered_packets: 32, ..engine },
        socket: SocketConfig { max_namespaces: 3, max_rooms: 4, max_pending_acks: 3, ..socket },
    }
}

struct Run {
    host: Arc<SimHost>,
    hub: Hub<MemoryStore, Arc<SimHost>>,
    config: Config,
    sids: Vec<String>,
}

impl Run {
    fn call<T>(&self, future: impl std::future::Future<Output = T>) -> T {
        self.host.block_on(future).expect("a hub call never waits on the clock")
    }

    fn step(&mut self, op: u8, target: u8, payload: &[u8]) {
        if op & 7 == 0 {
            let transport = if target & 1 == 0 { TransportKind::Polling } else { TransportKind::WebSocket };
            let open = self.call(self.hub.store().session_count()).unwrap();
            match self.call(self.hub.handshake(transport, Handshake::default())) {
                Ok((sid, _)) => self.sids.push(sid),
                Err(e) => assert!(open >= self.config.engine.max_sessions, "refused with {open} open: {e}"),
            }
            return;
        }
        let Some(sid) = self.sids.get(usize::from(target) % self.sids.len().max(1)).cloned() else { return };
        let text = std::str::from_utf8(payload).ok();
        match op & 7 {
            1 => match decode_payload(payload) {
                Ok(packets) => {
                    self.call(self.hub.receive(&sid, packets));
                }
                Err(_) => self.call(self.hub.close(&sid, CloseReason::ParseError)),
            },
            2 => match text.map(Packet::decode_text) {
                Some(Ok(packet)) => {
                    self.call(self.hub.receive(&sid, vec![packet]));
                }
                _ => self.call(self.hub.close(&sid, CloseReason::ParseError)),
            },
            3 => {
                let message = Packet::Message(Data::Binary(Bytes::copy_from_slice(payload)));
                self.call(self.hub.receive(&sid, vec![message]));
            }
            4 => {
                let ms = payload.iter().take(2).fold(u64::from(target), |acc, b| acc * 256 + u64::from(*b));
                self.host.advance(ms);
                self.call(self.hub.sweep());
            }
            5 => {
                if matches!(self.call(self.hub.session(&sid)), Ok(Some(_))) {
                    let queued = self.call(self.hub.take_queued(&sid));
                    assert!(queued.len() <= self.config.engine.max_buffered_packets, "{} queued", queued.len());
                }
            }
            6 => {
                if self.call(self.hub.begin_upgrade(&sid)) {
                    if let Some(Ok(packet)) = text.map(Packet::decode_text) {
                        self.call(self.hub.probe(&sid, packet));
                    }
                }
            }
            _ => self.call(self.hub.transport_closed(&sid, CloseReason::TransportClose)),
        }
    }

    fn check(&self) {
        let store = self.hub.store();
        assert!(self.call(store.session_count()).unwrap() <= self.config.engine.max_sessions);
        for sid in &self.sids {
            let sockets = self.call(store.update_session(sid, |r| r.sockets.clone())).unwrap();
            if self.host.is_closed(sid) {
                assert!(sockets.is_none(), "closed session {sid} came back");
                continue;
            }
            for (nsp, id) in sockets.unwrap_or_default() {
                let rooms = self.call(store.rooms_of(&nsp, &id)).unwrap();
                assert!(rooms.len() <= self.config.socket.max_rooms, "{} rooms", rooms.len());
            }
            let namespaces = self.call(store.update_session(sid, |r| r.sockets.len())).unwrap().unwrap_or(0);
            assert!(namespaces <= self.config.socket.max_namespaces, "{namespaces} namespaces");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let host = Arc::new(SimHost::new(1_000_000));
    let config = config();
    let app = sio_test_apps::e2e::app().with_config(config.clone());
    let hub = Hub::new(app, MemoryStore::rerunning(), host.clone());
    let mut run = Run { host, hub, config, sids: Vec::new() };
    let mut input = data;
    for _ in 0..MAX_STEPS {
        let [op, target, len, rest @ ..] = input else { break };
        let (payload, rest) = rest.split_at(usize::from(*len).min(rest.len()));
        run.step(*op, *target, payload);
        run.check();
        input = rest;
    }
});
