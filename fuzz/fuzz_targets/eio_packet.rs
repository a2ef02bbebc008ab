//! One Engine.IO packet as a WebSocket text frame, or as the base64 form of a binary
//! message in a polling payload: never a panic, and what decodes encodes back to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sio_core::eio::packet::{Data, Frame, Packet};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(packet) = Packet::decode_text(text) {
        let back = match packet.to_frame() {
            Frame::Text(t) => Packet::decode_text(&t).expect("an encoded packet decodes"),
            Frame::Binary(b) => Packet::Message(Data::Binary(b)),
        };
        assert_eq!(back, packet);
    }
    if let Ok(packet) = Packet::decode_base64(text) {
        let mut out = String::new();
        packet.write_polling(&mut out);
        let encoded = out.strip_prefix('b').expect("a binary message in polling form");
        assert_eq!(Packet::decode_base64(encoded).expect("canonical base64 decodes"), packet);
    }
});
