//! Binary-attachment reconstruction: a binary event or ack header, then binary messages
//! (the input split at NUL bytes). Never a panic; a packet completes after exactly the
//! announced number of attachments, every placeholder resolves, and one more is refused.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use sio_core::sio::packet::{decode, DecodeError, Decoded, PacketKind, MAX_ATTACHMENTS};
use sio_core::Args;

/// Every placeholder in `value`, resolved against `args`.
fn check_placeholders(args: &Args, value: &Value) {
    match value {
        Value::Array(items) => items.iter().for_each(|v| check_placeholders(args, v)),
        Value::Object(map) if map.get("_placeholder") == Some(&Value::Bool(true)) => {
            assert!(args.bytes_of(value).is_some(), "placeholder {value} resolves");
        }
        Value::Object(map) => map.values().for_each(|v| check_placeholders(args, v)),
        _ => {}
    }
}

fuzz_target!(|data: &[u8]| {
    let mut parts = data.split(|b| *b == 0);
    let Some(Ok(header)) = parts.next().map(std::str::from_utf8) else { return };
    let Ok(Decoded::Partial(mut partial)) = decode(header) else { return };
    let mut pushed = 0;
    for part in parts {
        pushed += 1;
        match partial.push(Bytes::copy_from_slice(part)) {
            Ok(None) => assert!(pushed < MAX_ATTACHMENTS),
            Ok(Some(packet)) => {
                assert_eq!(packet.attachments.len(), pushed);
                assert_eq!(partial.push(Bytes::new()), Err(DecodeError::ExtraAttachment));
                let data = packet.data.expect("a binary packet has data");
                let args = match packet.kind {
                    PacketKind::Event => match Args::from_event_data(data, packet.attachments) {
                        Some((_, args)) => args,
                        None => return,
                    },
                    PacketKind::Ack => Args::from_ack_data(Some(data), packet.attachments),
                    kind => panic!("{kind:?} with attachments"),
                };
                args.values.iter().for_each(|v| check_placeholders(&args, v));
                return;
            }
            Err(e) => panic!("attachment {pushed} refused before the packet completed: {e}"),
        }
    }
});
