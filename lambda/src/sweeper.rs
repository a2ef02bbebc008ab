//! The sweeper function, invoked on a schedule (EventBridge, once a minute at best): it
//! steps every session and acknowledgement whose deadline has passed, which sends pings
//! and closes sessions whose pong, connect or upgrade is overdue, and runs the
//! application's scheduled handlers whose tick has begun.

use std::time::Duration;

use tokio::time::Instant;

use crate::Runtime;

/// The longest pause between two sweeps of one invocation that keeps sweeping.
const MAX_PAUSE: Duration = Duration::from_secs(1);

/// The pause is also at most this fraction of the ping interval: a deadline set while the
/// sweeper pauses (a new session's first ping, the next ping after a pong) is unknown to
/// it until its next sweep, so a pause as long as a short interval would put off pings by
/// that much. A sweep is two Redis round trips.
const PAUSES_PER_PING: u32 = 10;

/// One scheduled run: a sweep, or with `SIO_SWEEP_FOR_MS` set, sweeps as deadlines come
/// due until that much time has passed (a one-minute schedule with a 55 s run gives
/// second-grained heartbeats, at the price of a function that never rests).
pub async fn run(runtime: &Runtime) {
    let started = Instant::now();
    let ping_interval = Duration::from_millis(runtime.hub.config().engine.ping_interval);
    let max_pause = MAX_PAUSE.min(ping_interval / PAUSES_PER_PING);
    loop {
        let mut next = runtime.hub.sweep().await;
        if runtime.hub.has_schedules() {
            next = next.into_iter().chain(runtime.hub.run_schedules().await).min();
        }
        runtime.finish().await;
        let left = runtime.settings.sweep_for.saturating_sub(started.elapsed());
        if left.is_zero() {
            return;
        }
        let until_next =
            next.map_or(max_pause, |at| Duration::from_millis(at.saturating_sub(sio_engine::os::now_ms())));
        tokio::time::sleep(until_next.min(max_pause).min(left)).await;
    }
}
