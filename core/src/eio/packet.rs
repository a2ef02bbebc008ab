//! Engine.IO packets and their two wire forms: a WebSocket frame each, or a segment of a
//! long-polling payload (see [`super::payload`]).
//!
//! This module is for runtime authors: the native, Cloudflare and Lambda runtimes decode
//! each WebSocket frame with it and encode each packet they send. An application does not
//! need it.
//!
//! A packet's text form is its type digit (`0` open to `6` noop) followed by its data. A
//! binary message has no type digit on a WebSocket (it is the whole binary frame); where
//! only text can go, it is written `b` followed by the base64 of its bytes.
//!
//! ```
//! use sio_core::eio::packet::{Data, Frame, Packet};
//!
//! // A text frame from the client: the type digit, then the data.
//! let packet = Packet::decode_text("4hello").unwrap();
//! assert_eq!(packet, Packet::Message(Data::Text("hello".into())));
//!
//! // What the server sends back on a WebSocket.
//! assert_eq!(Packet::Ping(String::new()).to_frame(), Frame::Text("2".into()));
//! let binary = Packet::Message(Data::Binary(vec![1, 2, 3, 4].into()));
//! assert_eq!(binary.to_frame(), Frame::Binary(vec![1, 2, 3, 4].into()));
//!
//! // Where only text can go, a binary message is `b` + base64, and decodes back.
//! assert_eq!(binary.to_text(), "bAQIDBA==");
//! assert_eq!(Packet::decode_text("bAQIDBA==").unwrap(), binary);
//! ```

use base64::Engine as _;
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The body of a `message` packet: Engine.IO carries text and binary alike.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Data {
    /// A text message: a WebSocket text frame, or `4` + text in a payload.
    Text(String),
    /// A binary message: a WebSocket binary frame, or `b` + base64 in a payload.
    Binary(Bytes),
}

/// One Engine.IO packet. The variants are the protocol's packet types, in the order of
/// their type digits, `0` to `6`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Packet {
    /// `0`, server to client: the handshake, a JSON object (see
    /// [`super::session::EngineSession::open_packet`]).
    Open(String),
    /// `1`: the sender closes the session.
    Close,
    /// `2`: a heartbeat the other side must answer with a pong carrying the same data;
    /// `2probe` from the client tests a WebSocket during an upgrade.
    Ping(String),
    /// `3`: the answer to a ping, with the ping's data.
    Pong(String),
    /// `4` (or `b` + base64 for binary in text form): a message for the layer above, one
    /// Socket.IO packet or one of its binary attachments.
    Message(Data),
    /// `5`, client to server: completes the upgrade to the probing WebSocket.
    Upgrade,
    /// `6`, server to client: ends a pending polling GET without data, e.g. during an upgrade.
    Noop,
}

/// One WebSocket frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A text frame: a packet's type digit, then its data.
    Text(String),
    /// A binary frame: the bytes of a binary message, without a type digit.
    Binary(Bytes),
}

/// Why a text frame or a polling payload does not decode.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    /// The text is empty: no type digit. A payload with an empty segment, e.g. a trailing
    /// `\x1e`, fails this way too.
    #[error("empty packet")]
    Empty,
    /// The first character is neither a type digit `0` to `6` nor `b`.
    #[error("unknown packet type {0:?}")]
    UnknownType(char),
    /// The text after `b` is not standard base64.
    #[error("invalid base64 in a binary packet")]
    Base64,
    /// A polling body is not UTF-8 text.
    #[error("payload is not valid UTF-8")]
    Utf8,
}

impl Packet {
    fn type_char(&self) -> char {
        match self {
            Packet::Open(_) => '0',
            Packet::Close => '1',
            Packet::Ping(_) => '2',
            Packet::Pong(_) => '3',
            Packet::Message(_) => '4',
            Packet::Upgrade => '5',
            Packet::Noop => '6',
        }
    }

    /// Decodes the text form: a type digit, then the data; or `b` then base64, a binary
    /// message. The base64 form is the polling one, but a client may send it over a
    /// WebSocket too (engine.io-client's `forceBase64`, the way through API Gateway, which
    /// closes a WebSocket that sends a binary frame), and the reference server takes it
    /// from either transport.
    pub fn decode_text(text: &str) -> Result<Self, DecodeError> {
        let mut chars = text.chars();
        let kind = chars.next().ok_or(DecodeError::Empty)?;
        let rest = chars.as_str();
        Ok(match kind {
            'b' => Packet::decode_base64(rest)?,
            '0' => Packet::Open(rest.to_owned()),
            '1' => Packet::Close,
            '2' => Packet::Ping(rest.to_owned()),
            '3' => Packet::Pong(rest.to_owned()),
            '4' => Packet::Message(Data::Text(rest.to_owned())),
            '5' => Packet::Upgrade,
            '6' => Packet::Noop,
            other => return Err(DecodeError::UnknownType(other)),
        })
    }

    /// Decodes the base64 of a binary message (what follows its `b`).
    fn decode_base64(encoded: &str) -> Result<Self, DecodeError> {
        let bytes = base64::engine::general_purpose::STANDARD.decode(encoded).map_err(|_| DecodeError::Base64)?;
        Ok(Packet::Message(Data::Binary(bytes.into())))
    }

    /// Appends the polling form to `out`: binary messages become `b` + base64. This is
    /// one segment of a payload; [`super::payload::encode_payload`] adds the separators.
    pub fn write_polling(&self, out: &mut String) {
        match self.frame_ref() {
            FrameRef::Binary(bytes) => write_base64(bytes, out),
            FrameRef::Text(kind, rest) => {
                out.push(kind);
                out.push_str(rest);
            }
        }
    }

    /// The text form, [`Packet::write_polling`]'s: for a transport that carries text alone
    /// (API Gateway's WebSockets).
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        self.write_polling(&mut out);
        out
    }

    /// The WebSocket frame: binary messages go as binary frames, the rest as text.
    pub fn to_frame(&self) -> Frame {
        match self.frame_ref() {
            FrameRef::Binary(bytes) => Frame::Binary(bytes.clone()),
            FrameRef::Text(kind, rest) => {
                let mut out = String::with_capacity(1 + rest.len());
                out.push(kind);
                out.push_str(rest);
                Frame::Text(out)
            }
        }
    }

    /// The WebSocket frame in borrowed pieces, for a runtime that writes frames itself:
    /// it copies the data once, straight into its buffer, where [`Packet::to_frame`]
    /// would build the text first.
    pub fn frame_ref(&self) -> FrameRef<'_> {
        match self {
            Packet::Message(Data::Binary(bytes)) => FrameRef::Binary(bytes),
            Packet::Open(s) | Packet::Ping(s) | Packet::Pong(s) | Packet::Message(Data::Text(s)) => {
                FrameRef::Text(self.type_char(), s)
            }
            Packet::Close | Packet::Upgrade | Packet::Noop => FrameRef::Text(self.type_char(), ""),
        }
    }
}

/// Appends a binary message's text form: `b`, then base64.
fn write_base64(bytes: &[u8], out: &mut String) {
    out.push('b');
    base64::engine::general_purpose::STANDARD.encode_string(bytes, out);
}

/// A binary message's text form, for a client that takes text alone (`b64`, or API
/// Gateway's WebSockets).
pub fn base64_text(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(1 + bytes.len().div_ceil(3) * 4);
    write_base64(bytes, &mut out);
    out
}

/// A packet's WebSocket frame, borrowed: a text frame is its type character, then the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameRef<'a> {
    /// A text frame: the type character, then the rest of the text.
    Text(char, &'a str),
    /// A binary frame: a binary message's bytes.
    Binary(&'a Bytes),
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn packet() -> impl Strategy<Value = Packet> {
        prop_oneof![
            ".*".prop_map(Packet::Open),
            Just(Packet::Close),
            ".*".prop_map(Packet::Ping),
            ".*".prop_map(Packet::Pong),
            ".*".prop_map(|s| Packet::Message(Data::Text(s))),
            proptest::collection::vec(any::<u8>(), 0..64).prop_map(|b| Packet::Message(Data::Binary(b.into()))),
            Just(Packet::Upgrade),
            Just(Packet::Noop),
        ]
    }

    proptest! {
        #[test]
        fn frame_round_trip(p in packet()) {
            let back = match p.to_frame() {
                Frame::Text(t) => Packet::decode_text(&t).unwrap(),
                Frame::Binary(b) => Packet::Message(Data::Binary(b)),
            };
            prop_assert_eq!(back, p);
        }

        #[test]
        fn decode_text_never_panics(s in ".*") {
            let _ = Packet::decode_text(&s);
        }
    }

    #[test]
    fn known_forms() {
        assert_eq!(Packet::decode_text("2probe").unwrap(), Packet::Ping("probe".into()));
        assert_eq!(Packet::decode_text("4héllo").unwrap(), Packet::Message(Data::Text("héllo".into())));
        assert_eq!(Packet::decode_text("").unwrap_err(), DecodeError::Empty);
        assert_eq!(Packet::decode_text("9").unwrap_err(), DecodeError::UnknownType('9'));
        let mut out = String::new();
        Packet::Message(Data::Binary(Bytes::from_static(&[1, 2, 3, 4]))).write_polling(&mut out);
        assert_eq!(out, "bAQIDBA==");
        assert_eq!(Packet::decode_text("bAQIDBA==").unwrap(), Packet::Message(Data::Binary(vec![1, 2, 3, 4].into())));
        assert_eq!(Packet::decode_text("b").unwrap(), Packet::Message(Data::Binary(Bytes::new())));
        assert_eq!(Packet::decode_text("b!!").unwrap_err(), DecodeError::Base64);
    }
}
