//! The sweeper function, invoked on a schedule (EventBridge, once a minute at best): it
//! steps every session and acknowledgement whose deadline has passed, which sends pings
//! and closes sessions whose pong, connect or upgrade is overdue.

use std::time::Duration;

use tokio::time::Instant;

use crate::Runtime;

/// The longest pause between two sweeps of one invocation that keeps sweeping.
const MAX_PAUSE: Duration = Duration::from_secs(1);

/// One scheduled run: a sweep, or with `SIO_SWEEP_FOR_MS` set, sweeps as deadlines come
/// due until that much time has passed (a one-minute schedule with a 55 s run gives
/// second-grained heartbeats, at the price of a function that never rests).
pub async fn run(runtime: &Runtime) {
    let started = Instant::now();
    loop {
        let next = runtime.hub.sweep().await;
        runtime.finish().await;
        let left = runtime.settings.sweep_for.saturating_sub(started.elapsed());
        if left.is_zero() {
            return;
        }
        let until_next = next.map_or(MAX_PAUSE, |at| Duration::from_millis(at.saturating_sub(sio_state::os::now_ms())));
        tokio::time::sleep(until_next.min(MAX_PAUSE).min(left)).await;
    }
}
