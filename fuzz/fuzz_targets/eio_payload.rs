//! A long-polling POST body (text segments and `b`+base64 binary ones): never a panic, and
//! a body that decodes re-encodes to one that decodes to the same packets.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sio_core::eio::payload::{decode_payload, encode_payload};

fuzz_target!(|data: &[u8]| {
    if let Ok(packets) = decode_payload(data) {
        assert!(!packets.is_empty());
        let again = decode_payload(encode_payload(&packets).as_bytes()).expect("an encoded payload decodes");
        assert_eq!(again, packets);
    }
});
