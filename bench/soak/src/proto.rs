//! The few Engine.IO v4 / Socket.IO v5 packets the soak sends and recognises.
//!
//! Parsing is by prefix rather than full JSON: with 10,000 clients receiving a broadcast a
//! second, the driver must stay cheap so the server, not the driver, is what gets measured.

/// A server packet, as far as the soak cares.
#[derive(Debug, PartialEq, Eq)]
pub enum Incoming {
    /// `43<id>[...]`: the ack of one of our emits.
    Ack(u64),
    /// `42["broadcast",<seq>]`: the broadcaster's sequence number, to spot gaps.
    Broadcast(u64),
    /// `42["room",...]`: a room emit from another client.
    Room,
    /// `41` (namespace disconnect) or `1` (Engine.IO close): the server ended the session.
    Disconnect,
    /// `44...`: connect refused.
    ConnectError,
    /// Anything else (`40{...}` connect reply, `6` noop, other events).
    Other,
}

pub fn parse(packet: &str) -> Incoming {
    if packet == "1" || packet.starts_with("41") {
        return Incoming::Disconnect;
    }
    if packet.starts_with("44") {
        return Incoming::ConnectError;
    }
    if let Some(rest) = packet.strip_prefix("43") {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        return rest[..digits].parse().map_or(Incoming::Other, Incoming::Ack);
    }
    if let Some(rest) = packet.strip_prefix("42[\"broadcast\",") {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        return rest[..digits].parse().map_or(Incoming::Other, Incoming::Broadcast);
    }
    if packet.starts_with("42[\"room\"") {
        return Incoming::Room;
    }
    Incoming::Other
}

/// `42<id>["<event>",<args>]`: an event asking for an ack.
pub fn event(id: u64, name: &str, args: &str) -> String {
    if args.is_empty() {
        format!("42{id}[\"{name}\"]")
    } else {
        format!("42{id}[\"{name}\",{args}]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_the_packets_the_soak_uses() {
        assert_eq!(parse("4312[\"x\"]"), Incoming::Ack(12));
        assert_eq!(parse("43[]"), Incoming::Other);
        assert_eq!(parse("42[\"broadcast\",77]"), Incoming::Broadcast(77));
        assert_eq!(parse("42[\"room\",\"hi\"]"), Incoming::Room);
        assert_eq!(parse("41"), Incoming::Disconnect);
        assert_eq!(parse("1"), Incoming::Disconnect);
        assert_eq!(parse("44{\"message\":\"no\"}"), Incoming::ConnectError);
        assert_eq!(parse("40{\"sid\":\"a\"}"), Incoming::Other);
        assert_eq!(event(3, "echo", "\"x\""), "423[\"echo\",\"x\"]");
    }
}
