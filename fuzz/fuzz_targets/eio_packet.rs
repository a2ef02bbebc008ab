//! One Engine.IO packet in its text form (a WebSocket text frame, a polling payload's
//! segment, `b` + base64 for a binary message): never a panic, and what decodes encodes
//! back to itself, as a text and as a WebSocket frame.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sio_core::eio::packet::{Data, Frame, Packet};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(packet) = Packet::decode_text(text) else { return };
    let mut out = String::new();
    packet.write_polling(&mut out);
    assert_eq!(Packet::decode_text(&out).expect("an encoded packet decodes"), packet);
    let back = match packet.to_frame() {
        Frame::Text(t) => Packet::decode_text(&t).expect("an encoded packet decodes"),
        Frame::Binary(b) => Packet::Message(Data::Binary(b)),
    };
    assert_eq!(back, packet);
});
