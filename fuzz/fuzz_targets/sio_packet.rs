//! One Socket.IO packet (the text of an Engine.IO message): never a panic, and a complete
//! packet encodes to text that decodes to the same kind, namespace and id.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sio_core::sio::packet::{decode, Decoded};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(Decoded::Complete(packet)) = decode(text) {
        // Data is compared by kind only: a float may come back one ulp off without
        // serde_json's exact float parsing.
        match decode(&packet.encode()).expect("an encoded packet decodes") {
            Decoded::Complete(again) => {
                assert_eq!((again.kind, &again.nsp, again.id), (packet.kind, &packet.nsp, packet.id));
                assert_eq!(again.data.is_some(), packet.data.is_some());
            }
            Decoded::Partial(_) => panic!("a packet without attachments came back binary"),
        }
    }
});
