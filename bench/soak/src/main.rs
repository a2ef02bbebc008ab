//! sio-soak: holds thousands of Socket.IO clients on a server for minutes, with churn, and
//! reports what a leak or a lost event would show: unexpected disconnects, acks that never
//! came, and the server's resident memory at the start, middle and end of the run.
//!
//! Not part of CI (it runs for ten minutes); `bench/soak.sh` builds and starts the server.

mod client;
mod error;
mod polling;
mod proto;
mod stats;
mod transport;
mod ws;

use clap::Parser;
use client::{Client, Plan};
use serde_json::{json, Value};
use stats::{rss_kib, Stats};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio::time::{sleep_until, timeout, Instant};

#[derive(Parser, Clone)]
#[command(about = "Soak a Socket.IO v4 server: many clients, minutes, churn; report leaks and losses")]
struct Cli {
    /// Server address (loopback only)
    #[arg(long)]
    addr: SocketAddr,
    /// PID of the server, for its VmRSS
    #[arg(long)]
    server_pid: Option<u32>,
    /// WebSocket clients
    #[arg(long, default_value_t = 10_000)]
    ws_clients: usize,
    /// HTTP long-polling clients
    #[arg(long, default_value_t = 500)]
    polling_clients: usize,
    /// Length of the soak in seconds, connection ramp included
    #[arg(long, default_value_t = 600.0)]
    duration: f64,
    /// New clients per second during the ramp
    #[arg(long, default_value_t = 200.0)]
    connect_rate: f64,
    /// Handshakes in flight at once
    #[arg(long, default_value_t = 64)]
    connect_concurrency: usize,
    /// Percent of clients that drop without a close (RST or bare FIN) and reconnect
    #[arg(long, default_value_t = 1.0)]
    drop_percent: f64,
    /// A dropping client's session lasts this many seconds, at least ...
    #[arg(long, default_value_t = 20.0)]
    drop_after_min: f64,
    /// ... and at most
    #[arg(long, default_value_t = 60.0)]
    drop_after_max: f64,
    /// Seconds between one client's echoes, at least ...
    #[arg(long, default_value_t = 10.0)]
    echo_min: f64,
    /// ... and at most
    #[arg(long, default_value_t = 30.0)]
    echo_max: f64,
    /// Seconds between one client's room joins/leaves (alternating), from ... to 2x this
    #[arg(long, default_value_t = 30.0)]
    room_change: f64,
    /// Seconds between one client's emits to its room (when in one), from ... to 2x this
    #[arg(long, default_value_t = 60.0)]
    room_emit: f64,
    /// Number of distinct rooms
    #[arg(long, default_value_t = 500)]
    rooms: u32,
    /// Broadcasts per second, from one dedicated WebSocket client to everyone else
    #[arg(long, default_value_t = 1.0)]
    broadcast_rate: f64,
    /// An ack not back within this many seconds is lost
    #[arg(long, default_value_t = 10.0)]
    ack_timeout: f64,
    /// Allowed RSS growth from the middle to the end, in percent
    #[arg(long, default_value_t = 5.0)]
    rss_slack: f64,
    /// Driver worker threads (1 = single-threaded runtime, leaving the cores to the server)
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Write the JSON report here as well as to stdout
    #[arg(long)]
    out: Option<std::path::PathBuf>,
}

/// One reading of the server, at a named point of the run.
#[derive(Clone, Copy)]
struct Sample {
    at_s: f64,
    connected: i64,
    rss_kib: Option<u64>,
}

impl Sample {
    fn json(&self) -> Value {
        json!({ "at_s": round(self.at_s), "connected": self.connected, "rss_kib": self.rss_kib })
    }
}

fn round(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s.max(0.0))
}

/// Exactly floor(n * percent / 100) of n clients, spread evenly over the indices, so WebSocket
/// and polling clients both get their share.
fn is_dropper(idx: usize, percent: f64) -> bool {
    let share = |i: usize| (i as f64 * percent / 100.0).floor();
    share(idx + 1) > share(idx)
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    if !cli.addr.ip().is_loopback() {
        eprintln!("sio-soak: --addr must be a loopback address");
        return std::process::ExitCode::from(64);
    }
    let mut rt = if cli.threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(cli.threads);
        b
    };
    let rt = match rt.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("sio-soak: runtime: {e}");
            return std::process::ExitCode::from(70);
        }
    };
    let (report, pass) = rt.block_on(soak(cli.clone()));
    let text = serde_json::to_string_pretty(&report).unwrap_or_default();
    println!("{text}");
    if let Some(path) = &cli.out {
        if let Err(e) = std::fs::write(path, format!("{text}\n")) {
            eprintln!("sio-soak: write {}: {e}", path.display());
        }
    }
    if pass {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::from(2)
    }
}

async fn soak(cli: Cli) -> (Value, bool) {
    let t0 = Instant::now();
    let total = cli.ws_clients + cli.polling_clients;
    let plan = Arc::new(Plan {
        addr: cli.addr,
        deadline: t0 + secs(cli.duration),
        ack_timeout: secs(cli.ack_timeout),
        echo_every: (secs(cli.echo_min), secs(cli.echo_max)),
        room_change_every: (secs(cli.room_change), secs(2.0 * cli.room_change)),
        room_emit_every: (secs(cli.room_emit), secs(2.0 * cli.room_emit)),
        rooms: cli.rooms,
        drop_after: (secs(cli.drop_after_min), secs(cli.drop_after_max)),
        broadcast_every: secs(1.0 / cli.broadcast_rate.max(0.001)),
        connect_gate: Semaphore::new(cli.connect_concurrency.max(1)),
        broadcast_seq: AtomicU64::new(0),
        stats: Stats::default(),
    });
    let rss = || cli.server_pid.and_then(rss_kib);
    let rss_before = rss();

    let droppers = (0..total).filter(|&i| is_dropper(i, cli.drop_percent)).count();
    let mut tasks = Vec::with_capacity(total + 1);
    let broadcaster = Client { idx: total, polling: false, dropper: false, broadcaster: true };
    tasks.push(tokio::spawn(client::run(plan.clone(), broadcaster, t0)));
    // Interleave the polling clients with the WebSocket ones over the ramp.
    let every = total.checked_div(cli.polling_clients).unwrap_or(usize::MAX);
    let mut polling_left = cli.polling_clients;
    for idx in 0..total {
        let polling = polling_left > 0 && (idx % every == every - 1 || total - idx <= polling_left);
        polling_left -= usize::from(polling);
        let me = Client { idx, polling, dropper: is_dropper(idx, cli.drop_percent), broadcaster: false };
        let start_at = t0 + secs(idx as f64 / cli.connect_rate.max(1.0));
        tasks.push(tokio::spawn(client::run(plan.clone(), me, start_at)));
    }

    // Sample once a second until the deadline: "start" once the ramp is done (everyone up,
    // give or take the droppers between sessions), "middle" at half time, "end" at the deadline.
    let target = (total + 1) as i64;
    let ramp_end = t0 + secs(total as f64 / cli.connect_rate.max(1.0) + 30.0);
    let middle_at = t0 + secs(cli.duration / 2.0);
    let sample = |plan: &Plan| Sample {
        at_s: t0.elapsed().as_secs_f64(),
        connected: plan.stats.connected.load(Relaxed),
        rss_kib: rss(),
    };
    let (mut start, mut middle) = (None::<Sample>, None::<Sample>);
    let mut min_held: Option<i64> = None;
    let mut timeline = Vec::new();
    let mut tick = t0;
    // Bounded: one turn a second up to the deadline.
    while tick < plan.deadline {
        tick = (tick + Duration::from_secs(1)).min(plan.deadline);
        sleep_until(tick).await;
        let s = sample(&plan);
        if start.is_none() && (s.connected >= target - droppers as i64 || tick >= ramp_end || tick >= middle_at) {
            start = Some(s);
        }
        if start.is_some() {
            min_held = Some(min_held.map_or(s.connected, |m| m.min(s.connected)));
        }
        if middle.is_none() && tick >= middle_at {
            middle = Some(s);
        }
        let whole = (tick - t0).as_secs();
        if whole.is_multiple_of(10) || tick == plan.deadline {
            let st = &plan.stats;
            eprintln!(
                "[soak] t={whole:>4}s connected={} rss={}KiB acks={}/{} lost={} unexpected={} drops={}",
                s.connected,
                s.rss_kib.map_or("?".into(), |r| r.to_string()),
                Stats::get(&st.acks_received),
                Stats::get(&st.acks_sent),
                Stats::get(&st.acks_lost),
                Stats::get(&st.unexpected_disconnects),
                Stats::get(&st.drops),
            );
            timeline.push(s.json());
        }
    }
    let end = sample(&plan);
    // Clients drain their acks (one ack timeout at most) and close; bounded wait for them.
    let _ = timeout(secs(cli.ack_timeout + 15.0), futures_util::future::join_all(tasks)).await;
    let wall = t0.elapsed().as_secs_f64();

    report(&cli, &plan, droppers, [start, middle, Some(end)], min_held, rss_before, timeline, wall)
}

#[allow(clippy::too_many_arguments)]
fn report(
    cli: &Cli,
    plan: &Plan,
    droppers: usize,
    [start, middle, end]: [Option<Sample>; 3],
    min_held: Option<i64>,
    rss_before: Option<u64>,
    timeline: Vec<Value>,
    wall_s: f64,
) -> (Value, bool) {
    let st = &plan.stats;
    let g = Stats::get;
    let rss_of = |s: Option<Sample>| s.and_then(|s| s.rss_kib);
    let growth = match (rss_of(middle), rss_of(end)) {
        (Some(m), Some(e)) if m > 0 => Some((e as f64 - m as f64) * 100.0 / m as f64),
        _ => None,
    };
    let received = g(&st.acks_received);
    let unexpected = g(&st.unexpected_disconnects);
    let lost = g(&st.acks_lost);
    let rss_ok = growth.is_none_or(|p| p <= cli.rss_slack);
    let pass = unexpected == 0 && lost == 0 && rss_ok && g(&st.connect_failures) == 0;
    let samples = st.samples.lock().map(|s| s.clone()).unwrap_or_default();
    let report = json!({
        "config": {
            "ws_clients": cli.ws_clients,
            "polling_clients": cli.polling_clients,
            "broadcaster_clients": 1,
            "dropping_clients": droppers,
            "duration_s": cli.duration,
            "connect_rate_per_s": cli.connect_rate,
            "echo_every_s": [cli.echo_min, cli.echo_max],
            "room_change_every_s": [cli.room_change, 2.0 * cli.room_change],
            "room_emit_every_s": [cli.room_emit, 2.0 * cli.room_emit],
            "rooms": cli.rooms,
            "broadcasts_per_s": cli.broadcast_rate,
            "ack_timeout_s": cli.ack_timeout,
            "driver_threads": cli.threads,
        },
        "connections": {
            "target": cli.ws_clients + cli.polling_clients + 1,
            "held_at_start": start.map(|s| s.connected),
            "held_at_middle": middle.map(|s| s.connected),
            "held_at_end": end.map(|s| s.connected),
            "min_held_after_ramp": min_held,
            "sessions_opened": g(&st.connects),
            "connect_failures": g(&st.connect_failures),
            "dropped_by_soak": g(&st.drops),
        },
        "unexpected_disconnects": unexpected,
        "acks": {
            "sent": g(&st.acks_sent),
            "received": received,
            "lost": lost,
            "abandoned_by_drops": g(&st.acks_abandoned),
            "mean_ms": (received > 0).then(|| round(g(&st.ack_latency_sum_us) as f64 / received as f64 / 1000.0)),
            "max_ms": round(g(&st.ack_latency_max_us) as f64 / 1000.0),
        },
        "broadcasts": {
            "sent": g(&st.broadcasts_sent),
            "received": g(&st.broadcasts_received),
            "missed_within_a_session": g(&st.broadcasts_missed),
        },
        "room_messages_received": g(&st.room_messages_received),
        "server_rss_kib": {
            "before_clients": rss_before,
            "start": start.map(|s| s.json()),
            "middle": middle.map(|s| s.json()),
            "end": end.map(|s| s.json()),
            "end_vs_middle_pct": growth.map(|p| (p * 100.0).round() / 100.0),
        },
        "targets": {
            "no_unexpected_disconnects": unexpected == 0,
            "no_lost_acks": lost == 0,
            "no_connect_failures": g(&st.connect_failures) == 0,
            "rss_end_within_pct_of_middle": cli.rss_slack,
            "rss_ok": rss_ok,
        },
        "pass": pass,
        "wall_s": round(wall_s),
        "error_samples": samples,
        "timeline": timeline,
    });
    (report, pass)
}
