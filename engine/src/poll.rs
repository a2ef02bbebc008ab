//! What every runtime does alike with a parked long-polling GET: how it is woken, and how
//! a closing session's last packets reach it or wait for the next GET.

use sio_core::eio::packet::Packet;
use sio_core::maybe::BoxFuture;

/// How a parked polling GET is woken.
#[derive(Debug)]
pub enum Wake {
    /// Packets are queued: take them.
    Ready,
    /// The session ended; answer with these packets (a close packet if none).
    Closed(Vec<Packet>),
}

/// Where a runtime keeps the GET parked on each polling session: in the memory of the
/// process or Durable Object that holds the request ([`crate::Hub::poll`] drives it).
pub trait Parking {
    /// Parks a GET; `None` when another one is parked on the session already (the
    /// protocol forbids overlapping polls). The future ends with what woke it, `None` if
    /// whatever could wake it is gone.
    fn park(&self, sid: &str) -> Option<BoxFuture<'static, Option<Wake>>>;

    /// Forgets the GET parked on `sid`: it is answered without waiting.
    fn unpark(&self, sid: &str);

    /// The last packets of a session that closed while no GET was parked.
    fn take_farewell(&self, sid: &str) -> Option<Vec<Packet>>;
}

/// Splits a trailing close packet off `packets` when messages precede it. The client
/// handles messages one tick after the packets of a payload, so a close in the same
/// payload would overtake them: the close goes in a payload of its own, as in Node.
pub fn split_close(packets: &mut Vec<Packet>) -> Option<Vec<Packet>> {
    (packets.len() > 1 && packets.last() == Some(&Packet::Close)).then(|| packets.split_off(packets.len() - 1))
}

/// Hands a closing session's `last` packets to its parked GET, if there is one (`wake`
/// sends to it, and hands the value back when that GET is already gone). Returns what the
/// next GET is owed: whatever no parked GET took, and a trailing close split off into a
/// payload of its own.
pub fn hand_over<F>(last: Vec<Packet>, wake: Option<F>) -> Vec<Packet>
where
    F: FnOnce(Wake) -> Result<(), Wake>,
{
    let mut now = last;
    let later = split_close(&mut now).unwrap_or_default();
    let Some(wake) = wake else {
        now.extend(later);
        return now;
    };
    match wake(Wake::Closed(now)) {
        Ok(()) | Err(Wake::Ready) => later,
        Err(Wake::Closed(mut now)) => {
            now.extend(later);
            now
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(text: &str) -> Packet {
        Packet::decode_text(&format!("4{text}")).unwrap()
    }

    #[test]
    fn a_parked_get_takes_the_messages_and_the_close_waits() {
        let mut got = None;
        let owed = hand_over(
            vec![message("a"), Packet::Close],
            Some(|w| {
                got = Some(w);
                Ok(())
            }),
        );
        assert!(matches!(got, Some(Wake::Closed(p)) if p == vec![message("a")]));
        assert_eq!(owed, vec![Packet::Close]);
    }

    #[test]
    fn without_a_parked_get_the_next_one_is_owed_everything() {
        let none: Option<fn(Wake) -> Result<(), Wake>> = None;
        assert_eq!(hand_over(vec![message("a"), Packet::Close], none), vec![message("a"), Packet::Close]);
        let gone = hand_over(vec![message("b")], Some(Err));
        assert_eq!(gone, vec![message("b")]);
    }
}
