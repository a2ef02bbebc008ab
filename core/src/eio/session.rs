//! The Engine.IO session state machine: transport, upgrade and heartbeat.
//!
//! This module is for runtime authors: the native, Cloudflare and Lambda runtimes keep one
//! [`EngineSession`] per client in their session store and step it on every packet and
//! timer. An application does not need it.
//!
//! A session is a plain value: a stateless runtime loads it from its store, feeds it one
//! input with the current time, saves it, and performs what it returned. Deadlines are
//! fields, and [`EngineSession::deadline`] tells the runtime when to call
//! [`EngineSession::on_timeout`]. Times are milliseconds on any clock the runtime
//! chooses, as long as it uses the same one throughout; the config's intervals are added
//! to them.

use serde::{Deserialize, Serialize};

use super::packet::Packet;
use super::request::TransportKind;
use crate::config::EngineConfig;

/// The earlier of two optional times; `None` only when both are. A runtime uses it to
/// combine the session's [`EngineSession::deadline`] with deadlines of its own.
pub fn earliest(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Why a session ended; the texts are the reference server's `close` reasons, which
/// Socket.IO passes on to `disconnect` handlers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CloseReason {
    /// The client sent a close packet or its transport went away.
    TransportClose,
    /// The transport failed (a broken connection, an overlapping poll).
    TransportError,
    /// No pong within `pingTimeout` of a ping.
    PingTimeout,
    /// The client sent bytes that do not decode.
    ParseError,
    /// The application closed the session.
    ForcedClose,
    /// The server is shutting down.
    ServerShutdown,
}

impl CloseReason {
    /// The reason's text, e.g. `ping timeout`, as the reference server words it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TransportClose => "transport close",
            Self::TransportError => "transport error",
            Self::PingTimeout => "ping timeout",
            Self::ParseError => "parse error",
            Self::ForcedClose => "forced close",
            Self::ServerShutdown => "server shutting down",
        }
    }
}

/// Where a packet came from: the session's current transport, or the WebSocket that is
/// probing an upgrade and is not yet the transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// The session's transport: its polling POSTs, or its WebSocket once upgraded.
    Current,
    /// A WebSocket opened for the session while it polls, not yet the transport.
    Probe,
}

/// What the runtime must do after feeding the session an input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Nothing to do.
    Idle,
    /// The packet is an application message for the layer above (Socket.IO), which the
    /// caller still holds: the session takes packets by reference, since a store may step
    /// it more than once for one packet.
    Message,
    /// Answer the probe with this packet on the probing WebSocket itself (not the polling
    /// queue), and release a parked polling GET with a noop so the
    /// client can pause polling.
    Probed(Packet),
    /// The upgrade is complete: the WebSocket is now the transport; queued packets go to it
    /// and the polling side is done (a parked GET gets a noop).
    Upgraded,
    /// The upgrade failed or timed out: close the probing WebSocket, keep polling.
    AbortUpgrade,
    /// Send a ping on the current transport.
    Ping,
    /// The session is over.
    Close(CloseReason),
}

/// A session's serializable state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngineSession {
    /// The session id, sent to the client in the open packet and back in each request's
    /// `sid` query parameter.
    pub sid: String,
    /// The transport in use: polling until an upgrade completes, then WebSocket.
    pub transport: TransportKind,
    /// Deadline of an upgrade in progress (a WebSocket opened with this sid).
    pub upgrade_deadline: Option<u64>,
    /// When the next ping is due; `None` while one is unanswered.
    pub next_ping: Option<u64>,
    /// When an unanswered ping times out.
    pub pong_deadline: Option<u64>,
    /// The server closed the session during an upgrade: the close waits until the upgrade
    /// settles, since a client that has paused polling for the probe would otherwise never
    /// hear of it.
    #[serde(default)]
    pub closing: bool,
}

/// The open packet's fields, written straight to JSON rather than through a
/// `serde_json::Value`, which would build a map for every handshake.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Open<'a> {
    sid: &'a str,
    upgrades: &'a [&'a str],
    ping_interval: u64,
    ping_timeout: u64,
    max_payload: usize,
}

impl EngineSession {
    /// A new session at its handshake, `now`: the first ping is due one `ping_interval`
    /// later.
    ///
    /// ```
    /// use sio_core::eio::packet::Packet;
    /// use sio_core::eio::request::TransportKind;
    /// use sio_core::eio::session::{Channel, EngineSession, Step};
    /// use sio_core::EngineConfig;
    ///
    /// let config = EngineConfig::default();
    /// let mut session = EngineSession::new("abc".into(), TransportKind::WebSocket, 0, &config);
    /// let open = session.open_packet(&config); // the first packet sent to the client
    /// assert!(matches!(open, Packet::Open(_)));
    ///
    /// // The runtime sets a timer for the deadline; when it fires, the session says to ping.
    /// let due = session.deadline().unwrap();
    /// assert_eq!(session.on_timeout(due, &config), vec![Step::Ping]);
    ///
    /// // The client's pong schedules the next ping.
    /// let step = session.on_packet(&Packet::Pong(String::new()), Channel::Current, due + 5, &config);
    /// assert_eq!(step, Step::Idle);
    /// assert_eq!(session.deadline(), Some(due + 5 + config.ping_interval));
    /// ```
    pub fn new(sid: String, transport: TransportKind, now: u64, config: &EngineConfig) -> Self {
        Self {
            sid,
            transport,
            upgrade_deadline: None,
            next_ping: Some(now + config.ping_interval),
            pong_deadline: None,
            closing: false,
        }
    }

    /// The open packet's JSON; keys are exactly those of the reference server, since the
    /// official test suite checks the key set.
    pub fn open_packet(&self, config: &EngineConfig) -> Packet {
        let upgrades: &[&str] =
            if self.transport == TransportKind::Polling && config.allow_upgrades && config.allow_websocket {
                &["websocket"]
            } else {
                &[]
            };
        let open = Open {
            sid: &self.sid,
            upgrades,
            ping_interval: config.ping_interval,
            ping_timeout: config.ping_timeout,
            max_payload: config.max_payload,
        };
        // Serializing a struct of plain fields cannot fail.
        Packet::Open(serde_json::to_string(&open).unwrap_or_default())
    }

    /// The earliest time [`Self::on_timeout`] has something to do; `None` when no deadline
    /// is set.
    pub fn deadline(&self) -> Option<u64> {
        earliest(earliest(self.upgrade_deadline, self.next_ping), self.pong_deadline)
    }

    /// Whether the pong deadline has passed: a request arriving after it must find the
    /// session gone even if the timer that would close it has not fired yet.
    pub fn expired(&self, now: u64) -> bool {
        self.pong_deadline.is_some_and(|d| d <= now)
    }

    /// Fires the deadlines that are due at `now`, most decisive first: an expired pong
    /// deadline closes the session and nothing else happens; then a due upgrade deadline
    /// aborts the upgrade (or closes, if a close was deferred); then a due ping is sent and
    /// the pong deadline set.
    pub fn on_timeout(&mut self, now: u64, config: &EngineConfig) -> Vec<Step> {
        if self.expired(now) {
            return vec![Step::Close(CloseReason::PingTimeout)];
        }
        let mut steps = Vec::new();
        if self.upgrade_deadline.is_some_and(|d| d <= now) {
            self.upgrade_deadline = None;
            let step = self.upgrade_failed();
            if matches!(step, Step::Close(_)) {
                return vec![step];
            }
            steps.push(step);
        }
        if self.next_ping.is_some_and(|d| d <= now) {
            self.next_ping = None;
            self.pong_deadline = Some(now + config.ping_timeout);
            steps.push(Step::Ping);
        }
        steps
    }

    /// A WebSocket arrived with this session's id. Only a polling session that is not
    /// already upgrading can be upgraded; otherwise the new socket is refused. Returns
    /// whether the upgrade began; it must then complete within `upgrade_timeout`.
    pub fn begin_upgrade(&mut self, now: u64, config: &EngineConfig) -> bool {
        if self.transport != TransportKind::Polling || self.upgrade_deadline.is_some() || !config.allow_upgrades {
            return false;
        }
        self.upgrade_deadline = Some(now + config.upgrade_timeout);
        true
    }

    /// Whether a WebSocket is probing this session right now.
    pub fn upgrading(&self) -> bool {
        self.upgrade_deadline.is_some()
    }

    /// Defers a server-side close while an upgrade is in progress; `false` when the session
    /// may close right away.
    pub fn defer_close(&mut self) -> bool {
        if self.upgrading() && !self.closing {
            self.closing = true;
            return true;
        }
        false
    }

    fn upgrade_failed(&self) -> Step {
        if self.closing {
            Step::Close(CloseReason::ForcedClose)
        } else {
            Step::AbortUpgrade
        }
    }

    /// The probing WebSocket went away before the upgrade completed.
    pub fn cancel_upgrade(&mut self) {
        self.upgrade_deadline = None;
    }

    /// A packet from the client, on `channel`, at `now`. Returns what the runtime must do;
    /// for [`Step::Message`] that is to pass the packet on to Socket.IO.
    pub fn on_packet(&mut self, packet: &Packet, channel: Channel, now: u64, config: &EngineConfig) -> Step {
        if channel == Channel::Probe {
            return self.on_probe_packet(packet);
        }
        match packet {
            Packet::Pong(_) => {
                self.pong_deadline = None;
                if self.next_ping.is_none() {
                    self.next_ping = Some(now + config.ping_interval);
                }
                Step::Idle
            }
            Packet::Message(_) => Step::Message,
            Packet::Close => Step::Close(CloseReason::TransportClose),
            Packet::Noop | Packet::Ping(_) => Step::Idle,
            Packet::Open(_) | Packet::Upgrade => Step::Close(CloseReason::ParseError),
        }
    }

    fn on_probe_packet(&mut self, packet: &Packet) -> Step {
        if !self.upgrading() {
            return Step::AbortUpgrade;
        }
        match packet {
            Packet::Ping(data) if data == "probe" => Step::Probed(Packet::Pong(data.clone())),
            Packet::Upgrade => {
                self.upgrade_deadline = None;
                self.transport = TransportKind::WebSocket;
                Step::Upgraded
            }
            _ => {
                self.upgrade_deadline = None;
                self.upgrade_failed()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eio::packet::Data;

    fn cfg() -> EngineConfig {
        EngineConfig { ping_interval: 300, ping_timeout: 200, ..EngineConfig::default() }
    }

    #[test]
    fn open_packet_has_exactly_the_reference_keys() {
        let s = EngineSession::new("abc".into(), TransportKind::Polling, 0, &cfg());
        let Packet::Open(json) = s.open_packet(&cfg()) else { panic!() };
        assert_eq!(
            json,
            r#"{"sid":"abc","upgrades":["websocket"],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000}"#
        );
        let ws = EngineSession::new("abc".into(), TransportKind::WebSocket, 0, &cfg());
        let Packet::Open(json) = ws.open_packet(&cfg()) else { panic!() };
        assert!(json.contains(r#""upgrades":[]"#));
    }

    #[test]
    fn heartbeat_cycle() {
        let c = cfg();
        let mut s = EngineSession::new("a".into(), TransportKind::WebSocket, 1000, &c);
        assert_eq!(s.deadline(), Some(1300));
        assert!(s.on_timeout(1299, &c).is_empty());
        assert_eq!(s.on_timeout(1300, &c), vec![Step::Ping]);
        assert_eq!(s.deadline(), Some(1500));
        assert_eq!(s.on_packet(&Packet::Pong(String::new()), Channel::Current, 1400, &c), Step::Idle);
        assert_eq!(s.deadline(), Some(1700));
        assert_eq!(s.on_timeout(1700, &c), vec![Step::Ping]);
        assert!(!s.expired(1899));
        assert!(s.expired(1900));
        assert_eq!(s.on_timeout(1900, &c), vec![Step::Close(CloseReason::PingTimeout)]);
    }

    #[test]
    fn close_during_upgrade_waits_for_it() {
        let c = cfg();
        let mut s = EngineSession::new("a".into(), TransportKind::Polling, 0, &c);
        assert!(!s.defer_close(), "nothing to wait for");
        assert!(s.begin_upgrade(10, &c));
        assert!(s.defer_close());
        assert!(!s.defer_close(), "deferred once");
        assert_eq!(s.on_packet(&Packet::Upgrade, Channel::Probe, 13, &c), Step::Upgraded);
        assert!(s.closing);

        let mut s = EngineSession::new("b".into(), TransportKind::Polling, 0, &c);
        assert!(s.begin_upgrade(10, &c));
        assert!(s.defer_close());
        assert_eq!(s.on_timeout(10 + c.upgrade_timeout, &c), vec![Step::Close(CloseReason::ForcedClose)]);

        let mut s = EngineSession::new("c".into(), TransportKind::Polling, 0, &c);
        assert!(s.begin_upgrade(10, &c));
        assert!(s.defer_close());
        assert_eq!(s.on_packet(&Packet::Noop, Channel::Probe, 11, &c), Step::Close(CloseReason::ForcedClose));
    }

    #[test]
    fn upgrade_flow() {
        let c = cfg();
        let mut s = EngineSession::new("a".into(), TransportKind::Polling, 0, &c);
        assert!(s.begin_upgrade(10, &c));
        assert!(!s.begin_upgrade(11, &c), "a second WebSocket is refused while upgrading");
        assert_eq!(
            s.on_packet(&Packet::Ping("probe".into()), Channel::Probe, 12, &c),
            Step::Probed(Packet::Pong("probe".into()))
        );
        assert_eq!(s.on_packet(&Packet::Upgrade, Channel::Probe, 13, &c), Step::Upgraded);
        assert_eq!(s.transport, TransportKind::WebSocket);
        assert!(!s.begin_upgrade(14, &c), "an upgraded session cannot upgrade again");
    }

    #[test]
    fn upgrade_timeout_and_bad_probe() {
        let c = cfg();
        let mut s = EngineSession::new("a".into(), TransportKind::Polling, 0, &c);
        s.next_ping = None;
        assert!(s.begin_upgrade(0, &c));
        assert_eq!(s.on_timeout(c.upgrade_timeout, &c), vec![Step::AbortUpgrade]);
        assert!(s.begin_upgrade(20_000, &c));
        let msg = Packet::Message(Data::Text("x".into()));
        assert_eq!(s.on_packet(&msg, Channel::Probe, 20_001, &c), Step::AbortUpgrade);
        assert_eq!(s.transport, TransportKind::Polling);
    }

    #[test]
    fn client_packets() {
        let c = cfg();
        let mut s = EngineSession::new("a".into(), TransportKind::Polling, 0, &c);
        let msg = Packet::Message(Data::Text("hi".into()));
        assert_eq!(s.on_packet(&msg, Channel::Current, 1, &c), Step::Message);
        assert_eq!(s.on_packet(&Packet::Close, Channel::Current, 1, &c), Step::Close(CloseReason::TransportClose));
        assert_eq!(s.on_packet(&Packet::Upgrade, Channel::Current, 1, &c), Step::Close(CloseReason::ParseError));
    }
}
