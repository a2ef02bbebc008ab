//! Scheduled handlers ([`sio_core::App::every`]) run once per tick, ticks aligned on the
//! period; a server-side event runs its namespace's handler and hands back the
//! acknowledgement, or nothing when the handler gives none.

use std::sync::{Arc, Mutex};

use sio_core::{App, Args, NamespaceDef};
use sio_engine::{Hub, MemoryStore, SimHost};

#[test]
fn a_schedule_runs_once_per_tick_and_says_when_the_next_begins() {
    let runs = Arc::new(Mutex::new(Vec::new()));
    let seen = runs.clone();
    let app = App::new().every("tick", 100, move |server| {
        let seen = seen.clone();
        async move { seen.lock().unwrap().push(server.now()) }
    });
    let hub = Hub::new(app, MemoryStore::new(), Arc::new(SimHost::new(1_050)));
    let host = hub.host().clone();
    assert!(hub.has_schedules());
    // Mid-tick 10: it runs, and the next tick begins at 1,100.
    assert_eq!(host.block_on(hub.run_schedules()).unwrap(), Some(1_100));
    // Again within the same tick: nothing runs.
    host.advance(30);
    assert_eq!(host.block_on(hub.run_schedules()).unwrap(), Some(1_100));
    // Tick 11, then two ticks later: each runs once, a missed tick is not made up for.
    host.advance(30);
    host.block_on(hub.run_schedules());
    host.advance(250);
    assert_eq!(host.block_on(hub.run_schedules()).unwrap(), Some(1_400));
    host.run();
    assert_eq!(*runs.lock().unwrap(), vec![1_050, 1_110, 1_360]);
}

#[test]
fn a_server_side_event_runs_its_handler_and_hands_back_the_acknowledgement() {
    let app = App::new().namespace(
        "/",
        NamespaceDef::new()
            .on_server_side("double", |_server, args, ack| async move {
                if let Some(ack) = ack {
                    ack.send(args.parse::<i64>(0).unwrap_or(0) * 2);
                }
            })
            .on_server_side("silent", |_server, _args, _ack| async move {}),
    );
    let hub = Hub::new(app, MemoryStore::new(), Arc::new(SimHost::new(0)));
    let host = hub.host().clone();
    let ask = |event: &'static str, ack: bool| {
        let hub = hub.clone();
        async move { hub.server_side_event("/", event, Args::new().arg(21), ack).await }
    };
    let reply = host.block_on(ask("double", true)).unwrap();
    assert_eq!(reply.map(|r| r.values), Some(vec![serde_json::json!(42)]));
    assert_eq!(host.block_on(ask("double", false)).unwrap(), None);
    assert_eq!(host.block_on(ask("silent", true)).unwrap(), None);
    assert_eq!(host.block_on(ask("missing", true)).unwrap(), None);
}
