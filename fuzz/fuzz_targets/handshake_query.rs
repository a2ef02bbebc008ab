//! A request's query string and method, as the router sees them: never a panic, and a
//! route is only granted on the parameters it needs.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sio_core::eio::request::{route, Method, Query, Route};
use sio_core::{EngineConfig, Handshake};

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else { return };
    let Ok(query) = std::str::from_utf8(rest) else { return };
    let method = Method::parse(["GET", "POST", "OPTIONS", "PUT"][usize::from(flags & 3)]);
    let websocket = flags & 4 != 0;
    let query = Query::parse(query);
    match route(method, &query, websocket, &EngineConfig::default()) {
        Ok(Route::Handshake(_)) => {
            assert_eq!(query.get("EIO"), Some("4"));
            assert!(query.get("sid").is_none());
        }
        Ok(Route::Poll(sid) | Route::Post(sid) | Route::Upgrade(sid)) => {
            assert_eq!(query.get("sid"), Some(sid.as_str()))
        }
        Err(_) => {}
    }
    let handshake = Handshake { query, ..Handshake::default() };
    let _ = handshake.to_json();
});
