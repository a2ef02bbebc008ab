//! Socket.IO packets: `<type>[<attachments>-][<nsp>,][<id>][<json>]`, each carried by one
//! Engine.IO message, binary attachments by the messages that follow it.
//!
//! This module is for runtime authors: the native, Cloudflare and Lambda runtimes decode
//! the text of each Engine.IO message with [`decode`] and encode each packet they send
//! with [`Packet::encode`]. An application does not need it.
//!
//! Decoding follows the reference parser's validity rules, so a client that the Node.js
//! server would refuse is refused here too.
//!
//! ```
//! use bytes::Bytes;
//! use serde_json::json;
//! use sio_core::sio::packet::{decode, Decoded, Packet};
//!
//! // An event with an ack id (12) on the `/chat` namespace.
//! let Decoded::Complete(packet) = decode(r#"2/chat,12["hello",1]"#).unwrap() else { panic!() };
//! assert_eq!(packet, Packet::event("/chat", json!(["hello", 1]), vec![], Some(12)));
//!
//! // The server's answer to it; the root namespace `/` is left out of the text.
//! assert_eq!(Packet::ack("/", 12, json!(["ok"]), vec![]).encode(), r#"312["ok"]"#);
//!
//! // A binary event announces one attachment; it completes when that binary message comes.
//! let text = r#"51-["file",{"_placeholder":true,"num":0}]"#;
//! let Decoded::Partial(mut partial) = decode(text).unwrap() else { panic!() };
//! let packet = partial.push(Bytes::from_static(b"\x01\x02")).unwrap().unwrap();
//! assert_eq!(packet.attachments, vec![Bytes::from_static(b"\x01\x02")]);
//! ```

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use thiserror::Error;

/// The most attachments one packet may announce. More is treated as an attack, not a
/// payload, and refused with [`DecodeError::Attachments`].
pub const MAX_ATTACHMENTS: usize = 1000;

/// Event names the client library reserves for itself.
const RESERVED_EVENTS: [&str; 6] =
    ["connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"];

/// The wire's seven types fold into five: `BINARY_EVENT` and `BINARY_ACK` are an event
/// or ack with attachments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PacketKind {
    /// `0`: the client joins a namespace, with optional auth data (an object); the server
    /// answers with a `0` carrying `{"sid": ...}`.
    Connect,
    /// `1`: either side leaves the namespace; no data.
    Disconnect,
    /// `2`, or `5` with attachments: an event, a JSON array whose first item is its name.
    Event,
    /// `3`, or `6` with attachments: the answer to an event that carried an id, a JSON
    /// array of arguments.
    Ack,
    /// `4`, server to client: the namespace refused the connect; data is an object with a
    /// `message`.
    ConnectError,
}

/// One Socket.IO packet, attachments included.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Packet {
    /// The packet type.
    pub kind: PacketKind,
    /// The namespace, starting with `/`; `/` when the text names none.
    pub nsp: String,
    /// The ack id: on an event, the sender wants an ack with this id; on an ack, the event
    /// it answers. `None` otherwise.
    pub id: Option<u64>,
    /// The JSON data, if any. A binary packet's data holds a placeholder
    /// `{"_placeholder":true,"num":N}` where attachment `N` belongs.
    pub data: Option<Value>,
    /// The binary attachments, in the order of their `num`; sent as binary Engine.IO
    /// messages after the text. An event or ack with attachments is a binary packet
    /// (type `5` or `6`).
    pub attachments: Vec<Bytes>,
}

/// Why a Socket.IO packet does not decode. A runtime closes the session that sent it with
/// reason `parse error`, as the reference server does.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    /// The message is empty.
    #[error("empty packet")]
    Empty,
    /// The first character is not a type digit `0` to `6`.
    #[error("unknown packet type")]
    UnknownType,
    /// A binary packet's attachment count is missing, not a number, zero or above
    /// [`MAX_ATTACHMENTS`].
    #[error("illegal attachment count")]
    Attachments,
    /// The ack id does not fit in a `u64`, or an ack has none.
    #[error("ack id out of range")]
    AckId,
    /// The data is not valid JSON.
    #[error("payload is not JSON")]
    Json,
    /// The data does not fit the type: e.g. an event that is not an array starting with a
    /// name, an event name the client reserves (`connect`, `disconnect`, ...), or an id on a
    /// packet other than an event or ack.
    #[error("invalid payload for this packet type")]
    Payload,
    /// A binary packet has no data, or one of its placeholders has no `num` below the
    /// attachment count.
    #[error("a placeholder refers to a missing attachment")]
    Placeholder,
    /// A binary message arrived for a packet that already has all its attachments.
    #[error("more attachments than the packet announced")]
    ExtraAttachment,
}

/// What one text message decodes to.
#[derive(Debug, Clone, PartialEq)]
pub enum Decoded {
    /// A whole packet, ready to handle.
    Complete(Packet),
    /// A binary packet waiting for its attachments.
    Partial(Partial),
}

/// A binary packet whose attachments are arriving one binary message at a time. It is
/// serializable so that a stateless runtime can keep it in the session record between
/// requests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Partial {
    packet: Packet,
    expected: usize,
}

impl Partial {
    /// Adds the next attachment; the packet once it has all of them.
    pub fn push(&mut self, bytes: Bytes) -> Result<Option<Packet>, DecodeError> {
        if self.packet.attachments.len() >= self.expected {
            return Err(DecodeError::ExtraAttachment);
        }
        self.packet.attachments.push(bytes);
        if self.packet.attachments.len() < self.expected {
            return Ok(None);
        }
        // Spent: any further attachment is one too many.
        self.expected = 0;
        let packet = Packet {
            attachments: std::mem::take(&mut self.packet.attachments),
            data: self.packet.data.take(),
            ..self.packet.clone()
        };
        Ok(Some(packet))
    }
}

fn placeholders_valid(value: &Value, count: usize) -> bool {
    match value {
        Value::Array(items) => items.iter().all(|v| placeholders_valid(v, count)),
        Value::Object(map) => {
            if map.get("_placeholder") == Some(&Value::Bool(true)) {
                return map.get("num").and_then(Value::as_u64).is_some_and(|n| n < count as u64);
            }
            map.values().all(|v| placeholders_valid(v, count))
        }
        _ => true,
    }
}

fn payload_valid(kind: PacketKind, data: Option<&Value>) -> bool {
    match (kind, data) {
        (PacketKind::Connect, None | Some(Value::Object(_))) => true,
        (PacketKind::Disconnect, None) => true,
        (PacketKind::ConnectError, Some(Value::String(_) | Value::Object(_))) => true,
        (PacketKind::Event, Some(Value::Array(items))) => match items.first() {
            Some(Value::Number(_)) => true,
            Some(Value::String(name)) => !RESERVED_EVENTS.contains(&name.as_str()),
            _ => false,
        },
        (PacketKind::Ack, Some(Value::Array(_))) => true,
        _ => false,
    }
}

/// Decodes the text of one Engine.IO message. A binary packet (type `5` or `6`) comes
/// back [`Decoded::Partial`]: the runtime feeds it the binary messages that follow with
/// [`Partial::push`].
pub fn decode(text: &str) -> Result<Decoded, DecodeError> {
    let bytes = text.as_bytes();
    let (kind, binary) = match bytes.first().ok_or(DecodeError::Empty)? {
        b'0' => (PacketKind::Connect, false),
        b'1' => (PacketKind::Disconnect, false),
        b'2' => (PacketKind::Event, false),
        b'3' => (PacketKind::Ack, false),
        b'4' => (PacketKind::ConnectError, false),
        b'5' => (PacketKind::Event, true),
        b'6' => (PacketKind::Ack, true),
        _ => return Err(DecodeError::UnknownType),
    };
    let mut rest = &text[1..];

    let mut expected = 0;
    if binary {
        let dash = rest.find('-').ok_or(DecodeError::Attachments)?;
        let count = &rest[..dash];
        if count.is_empty() || !count.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DecodeError::Attachments);
        }
        expected = count.parse::<usize>().map_err(|_| DecodeError::Attachments)?;
        if expected == 0 || expected > MAX_ATTACHMENTS {
            return Err(DecodeError::Attachments);
        }
        rest = &rest[dash + 1..];
    }

    let nsp = if rest.starts_with('/') {
        let end = rest.find(',').unwrap_or(rest.len());
        let nsp = rest[..end].to_owned();
        rest = rest.get(end + 1..).unwrap_or("");
        nsp
    } else {
        "/".to_owned()
    };

    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let id = if digits > 0 {
        let id = rest[..digits].parse::<u64>().map_err(|_| DecodeError::AckId)?;
        rest = &rest[digits..];
        Some(id)
    } else {
        None
    };

    let data =
        if rest.is_empty() { None } else { Some(serde_json::from_str::<Value>(rest).map_err(|_| DecodeError::Json)?) };
    if !payload_valid(kind, data.as_ref()) || (id.is_some() && !matches!(kind, PacketKind::Event | PacketKind::Ack)) {
        return Err(DecodeError::Payload);
    }
    if kind == PacketKind::Ack && id.is_none() {
        return Err(DecodeError::AckId);
    }
    if binary && !data.as_ref().is_some_and(|d| placeholders_valid(d, expected)) {
        return Err(DecodeError::Placeholder);
    }

    let packet = Packet { kind, nsp, id, data, attachments: Vec::new() };
    Ok(if binary { Decoded::Partial(Partial { packet, expected }) } else { Decoded::Complete(packet) })
}

impl Packet {
    fn new(kind: PacketKind, nsp: &str, id: Option<u64>, data: Option<Value>, attachments: Vec<Bytes>) -> Self {
        Self { kind, nsp: nsp.to_owned(), id, data, attachments }
    }

    /// A `CONNECT` packet for `nsp`. From the server, `data` is `{"sid": ...}`; from a
    /// client, its optional auth object.
    pub fn connect(nsp: &str, data: Option<Value>) -> Self {
        Self::new(PacketKind::Connect, nsp, None, data, Vec::new())
    }

    /// A `DISCONNECT` packet for `nsp`.
    pub fn disconnect(nsp: &str) -> Self {
        Self::new(PacketKind::Disconnect, nsp, None, None, Vec::new())
    }

    /// A `CONNECT_ERROR` packet for `nsp`; `data` is usually `{"message": ...}`, with an
    /// optional `data` field.
    pub fn connect_error(nsp: &str, data: Value) -> Self {
        Self::new(PacketKind::ConnectError, nsp, None, Some(data), Vec::new())
    }

    /// An `EVENT` packet: `data` is the array `[name, args...]`, with a placeholder for each
    /// of `attachments`; `id` asks the receiver for an ack.
    pub fn event(nsp: &str, data: Value, attachments: Vec<Bytes>, id: Option<u64>) -> Self {
        Self::new(PacketKind::Event, nsp, id, Some(data), attachments)
    }

    /// An `ACK` packet answering the event with this `id`: `data` is the array of
    /// arguments, with a placeholder for each of `attachments`.
    pub fn ack(nsp: &str, id: u64, data: Value, attachments: Vec<Bytes>) -> Self {
        Self::new(PacketKind::Ack, nsp, Some(id), Some(data), attachments)
    }

    /// The text message, `<type>[<attachments>-][<nsp>,][<id>][<json>]`; the attachments
    /// travel separately as binary messages, in order, right after it. An event or ack
    /// with attachments gets the binary type, `5` or `6`.
    pub fn encode(&self) -> String {
        // Numbers through itoa: `write!` goes through core::fmt, which is much slower for
        // an ack's id.
        let mut number = itoa::Buffer::new();
        let binary = !self.attachments.is_empty();
        let kind = match (self.kind, binary) {
            (PacketKind::Connect, _) => '0',
            (PacketKind::Disconnect, _) => '1',
            (PacketKind::Event, false) => '2',
            (PacketKind::Ack, false) => '3',
            (PacketKind::ConnectError, _) => '4',
            (PacketKind::Event, true) => '5',
            (PacketKind::Ack, true) => '6',
        };
        // Room for a typical event in one allocation: growing from a small buffer would
        // reallocate and copy on most packets.
        let mut out = Vec::with_capacity(128 + self.nsp.len());
        out.push(kind as u8);
        if binary && matches!(self.kind, PacketKind::Event | PacketKind::Ack) {
            out.extend_from_slice(number.format(self.attachments.len()).as_bytes());
            out.push(b'-');
        }
        if self.nsp != "/" {
            out.extend_from_slice(self.nsp.as_bytes());
            out.push(b',');
        }
        if let Some(id) = self.id {
            out.extend_from_slice(number.format(id).as_bytes());
        }
        if let Some(data) = &self.data {
            // Serializing a `Value` into memory cannot fail.
            let _ = serde_json::to_writer(&mut out, data);
        }
        // Checked once here rather than for each of serde_json's many small writes; every
        // piece written is UTF-8, so the lossy branch never runs.
        String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn complete(text: &str) -> Packet {
        match decode(text).unwrap() {
            Decoded::Complete(p) => p,
            Decoded::Partial(_) => panic!("partial"),
        }
    }

    #[test]
    fn spec_examples() {
        assert_eq!(complete("0"), Packet::connect("/", None));
        assert_eq!(complete("0/admin,{\"token\":\"123\"}"), Packet::connect("/admin", Some(json!({"token": "123"}))));
        assert_eq!(complete("1/admin,"), Packet::disconnect("/admin"));
        assert_eq!(complete("2[\"hello\",1]"), Packet::event("/", json!(["hello", 1]), vec![], None));
        assert_eq!(
            complete("2/admin,456[\"project:delete\",123]"),
            Packet::event("/admin", json!(["project:delete", 123]), vec![], Some(456))
        );
        assert_eq!(complete("3/admin,456[]"), Packet::ack("/admin", 456, json!([]), vec![]));
        assert_eq!(
            complete("4/admin,{\"message\":\"Not authorized\"}"),
            Packet::connect_error("/admin", json!({"message": "Not authorized"}))
        );
    }

    #[test]
    fn binary_event_waits_for_attachments() {
        let Decoded::Partial(mut partial) = decode("51-[\"hello\",{\"_placeholder\":true,\"num\":0}]").unwrap() else {
            panic!()
        };
        let bytes = Bytes::from_static(&[1, 2, 3]);
        let packet = partial.push(bytes.clone()).unwrap().unwrap();
        assert_eq!(packet.attachments, vec![bytes.clone()]);
        assert_eq!(packet.encode(), "51-[\"hello\",{\"_placeholder\":true,\"num\":0}]");
        assert_eq!(partial.push(bytes).unwrap_err(), DecodeError::ExtraAttachment);
    }

    #[test]
    fn refusals() {
        for (text, error) in [
            ("", DecodeError::Empty),
            ("7", DecodeError::UnknownType),
            ("2", DecodeError::Payload),
            ("2{}", DecodeError::Payload),
            ("2[]", DecodeError::Payload),
            ("2[true]", DecodeError::Payload),
            ("2[\"connect\"]", DecodeError::Payload),
            ("2[\"a\"", DecodeError::Json),
            ("1/a,{}", DecodeError::Payload),
            ("0[1]", DecodeError::Payload),
            ("0/a,12{}", DecodeError::Payload),
            ("3[]", DecodeError::AckId),
            ("3{}", DecodeError::Payload),
            ("299999999999999999999999[\"a\"]", DecodeError::AckId),
            ("5[\"a\"]", DecodeError::Attachments),
            ("5x-[\"a\"]", DecodeError::Attachments),
            ("50-[\"a\"]", DecodeError::Attachments),
            ("51001-[\"a\"]", DecodeError::Attachments),
            ("51-[\"a\",{\"_placeholder\":true,\"num\":1}]", DecodeError::Placeholder),
        ] {
            assert_eq!(decode(text).unwrap_err(), error, "{text:?}");
        }
    }

    fn json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            ".*".prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 16, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::btree_map("[a-z]{0,4}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    fn nsp() -> impl Strategy<Value = String> {
        prop_oneof![Just("/".to_owned()), "/[a-z0-9/]{1,8}"]
    }

    fn packet() -> impl Strategy<Value = Packet> {
        let args = || proptest::collection::vec(json(), 0..4);
        let blobs = || proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..8), 0..3);
        prop_oneof![
            (nsp(), proptest::option::of(proptest::collection::btree_map("[a-z]{1,4}", json(), 0..3)))
                .prop_map(|(n, d)| Packet::connect(&n, d.map(|m| Value::Object(m.into_iter().collect())))),
            nsp().prop_map(|n| Packet::disconnect(&n)),
            (nsp(), ".*").prop_map(|(n, m)| Packet::connect_error(&n, json!({"message": m}))),
            (nsp(), "[a-z]{1,6}", args(), blobs(), proptest::option::of(any::<u64>())).prop_map(
                |(n, name, mut args, blobs, id): (String, String, Vec<Value>, Vec<Vec<u8>>, Option<u64>)| {
                    let blobs: Vec<Bytes> = blobs.into_iter().map(Bytes::from).collect();
                    args.insert(0, Value::String(name));
                    args.extend((0..blobs.len()).map(|i| json!({"_placeholder": true, "num": i})));
                    Packet::event(&n, Value::Array(args), blobs, id)
                }
            ),
            (nsp(), any::<u64>(), args(), blobs()).prop_map(|(n, id, mut args, blobs)| {
                let blobs: Vec<Bytes> = blobs.into_iter().map(Bytes::from).collect();
                args.extend((0..blobs.len()).map(|i| json!({"_placeholder": true, "num": i})));
                Packet::ack(&n, id, Value::Array(args), blobs)
            }),
        ]
    }

    proptest! {
        #[test]
        fn round_trip(p in packet()) {
            let back = match decode(&p.encode()).unwrap() {
                Decoded::Complete(c) => c,
                Decoded::Partial(mut partial) => {
                    let mut done = None;
                    for blob in &p.attachments {
                        done = partial.push(blob.clone()).unwrap();
                    }
                    done.unwrap()
                }
            };
            prop_assert_eq!(back, p);
        }

        #[test]
        fn never_panics(s in ".*") {
            let _ = decode(&s);
        }

        #[test]
        fn partial_survives_serde(n in 1usize..4) {
            let placeholders: Vec<Value> = (0..n).map(|i| json!({"_placeholder": true, "num": i})).collect();
            let text = format!("5{n}-[\"e\",{}]", serde_json::to_string(&placeholders).unwrap());
            let Decoded::Partial(partial) = decode(&text).unwrap() else { panic!() };
            let back: Partial = serde_json::from_str(&serde_json::to_string(&partial).unwrap()).unwrap();
            prop_assert_eq!(back, partial);
        }
    }
}
