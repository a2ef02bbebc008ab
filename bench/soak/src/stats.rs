//! Counters every client task bumps, and the server's memory read from /proc.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;

/// Shared by all clients; relaxed atomics, since only totals are read, at sampling time.
#[derive(Default)]
pub struct Stats {
    /// Sessions up right now (a gauge: up on connect, down on any end).
    pub connected: AtomicI64,
    pub connects: AtomicU64,
    pub connect_failures: AtomicU64,
    /// Sessions the soak ended itself without a close (the 1% churn).
    pub drops: AtomicU64,
    /// Sessions that ended without the soak asking: the figure that must stay 0.
    pub unexpected_disconnects: AtomicU64,
    pub acks_sent: AtomicU64,
    pub acks_received: AtomicU64,
    /// Emits whose ack did not come within the ack timeout (or before the server cut the
    /// session): the other figure that must stay 0.
    pub acks_lost: AtomicU64,
    /// Emits still waiting when the soak dropped their client on purpose; not a fault.
    pub acks_abandoned: AtomicU64,
    pub ack_latency_sum_us: AtomicU64,
    pub ack_latency_max_us: AtomicU64,
    pub broadcasts_sent: AtomicU64,
    pub broadcasts_received: AtomicU64,
    /// Gaps in the broadcast sequence within one session: a broadcast lost on a live socket.
    pub broadcasts_missed: AtomicU64,
    pub room_messages_received: AtomicU64,
    /// The first few unexpected errors, to say what went wrong and not only how often.
    pub samples: Mutex<Vec<String>>,
}

impl Stats {
    pub fn ack(&self, latency_us: u64) {
        self.acks_received.fetch_add(1, Relaxed);
        self.ack_latency_sum_us.fetch_add(latency_us, Relaxed);
        self.ack_latency_max_us.fetch_max(latency_us, Relaxed);
    }

    pub fn sample(&self, what: String) {
        let mut samples = self.samples.lock().unwrap_or_else(|e| e.into_inner());
        if samples.len() < 20 {
            samples.push(what);
        }
    }

    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Relaxed)
    }
}

/// VmRSS of a process in KiB, from /proc/PID/status: resident memory, the figure that shows
/// a leak on a server that should be flat once every client is connected.
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line["VmRSS:".len()..].trim().trim_end_matches("kB").trim().parse().ok()
}
