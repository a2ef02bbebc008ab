//! Long-polling payloads: packets joined by the record separator `\x1e`, binary messages
//! as `b` + base64 so the whole body stays text.
//!
//! This module is for runtime authors: the native, Cloudflare and Lambda runtimes decode
//! each polling POST body with [`decode_payload`] and write each polling GET answer with
//! [`encode_payload`]. An application does not need it.
//!
//! ```
//! use sio_core::eio::packet::{Data, Packet};
//! use sio_core::eio::payload::{decode_payload, encode_payload};
//!
//! // A POST body with a text message and a binary one.
//! let packets = decode_payload(b"4hello\x1ebAQIDBA==").unwrap();
//! assert_eq!(packets[0], Packet::Message(Data::Text("hello".into())));
//! assert_eq!(packets[1], Packet::Message(Data::Binary(vec![1, 2, 3, 4].into())));
//!
//! // The body of a GET answer: no separator after the last packet.
//! let body = encode_payload(&[Packet::Ping(String::new()), Packet::Noop]);
//! assert_eq!(body, "2\x1e6");
//! ```

use super::packet::{DecodeError, Packet};

/// The record separator between two packets of a payload.
const SEPARATOR: char = '\x1e';

/// Decodes a POST body. Every segment must decode, or the whole body is refused: a
/// half-applied payload would leave the session in a state the client never sent.
pub fn decode_payload(body: &[u8]) -> Result<Vec<Packet>, DecodeError> {
    let text = std::str::from_utf8(body).map_err(|_| DecodeError::Utf8)?;
    text.split(SEPARATOR).map(Packet::decode_text).collect()
}

/// Encodes packets into the body of a polling GET answer: each packet's polling form
/// (see [`Packet::write_polling`]), separated by `\x1e`. Text is not escaped, as in the
/// reference: a message that itself contains `\x1e` would not decode as one packet.
pub fn encode_payload<'a>(packets: impl IntoIterator<Item = &'a Packet>) -> String {
    let mut out = String::new();
    for (i, packet) in packets.into_iter().enumerate() {
        if i > 0 {
            out.push(SEPARATOR);
        }
        packet.write_polling(&mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eio::packet::Data;
    use proptest::prelude::*;

    #[test]
    fn spec_example() {
        let packets = decode_payload(b"4hello\x1ebAQIDBA==").unwrap();
        assert_eq!(
            packets,
            vec![Packet::Message(Data::Text("hello".into())), Packet::Message(Data::Binary(vec![1, 2, 3, 4].into()))]
        );
        assert_eq!(encode_payload(&packets), "4hello\x1ebAQIDBA==");
    }

    #[test]
    fn bad_bodies() {
        assert_eq!(decode_payload(b"").unwrap_err(), DecodeError::Empty);
        assert_eq!(decode_payload(b"4a\x1e").unwrap_err(), DecodeError::Empty);
        assert_eq!(decode_payload(b"4\xff").unwrap_err(), DecodeError::Utf8);
        assert_eq!(decode_payload(b"b%%").unwrap_err(), DecodeError::Base64);
        assert_eq!(decode_payload(b"x").unwrap_err(), DecodeError::UnknownType('x'));
    }

    fn packet() -> impl Strategy<Value = Packet> {
        prop_oneof![
            "[^\x1e]*".prop_map(|s| Packet::Message(Data::Text(s))),
            "[^\x1e]*".prop_map(Packet::Ping),
            proptest::collection::vec(any::<u8>(), 0..64).prop_map(|b| Packet::Message(Data::Binary(b.into()))),
            Just(Packet::Noop),
            Just(Packet::Close),
        ]
    }

    proptest! {
        #[test]
        fn round_trip(packets in proptest::collection::vec(packet(), 1..8)) {
            prop_assert_eq!(decode_payload(encode_payload(&packets).as_bytes()).unwrap(), packets);
        }

        #[test]
        fn never_panics(body in proptest::collection::vec(any::<u8>(), 0..128)) {
            let _ = decode_payload(&body);
        }
    }
}
