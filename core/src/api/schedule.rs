//! Work the server starts by itself: handlers registered on the application that run
//! every so many milliseconds, once per application (not once per process).

use std::future::Future;
use std::sync::Arc;

use super::app::App;
use super::handle::Server;
use crate::maybe::{boxed, BoxFuture, MaybeSend};

/// A scheduled handler as stored, see [`App::every`].
pub type ScheduledHandler = Arc<dyn Fn(Server) -> BoxFuture<'static, ()> + Send + Sync>;

/// A handler the server runs every `every_ms` milliseconds ([`App::every`]).
#[derive(Clone)]
pub struct Schedule {
    /// Its name: instances agree through the store on which of them runs each tick.
    pub name: String,
    /// The period, in milliseconds; ticks fall on multiples of it since the Unix epoch.
    pub every_ms: u64,
    /// What runs.
    pub handler: ScheduledHandler,
}

impl Schedule {
    /// The tick `now` falls in (ticks are numbered from the Unix epoch).
    pub fn tick(&self, now: u64) -> u64 {
        now / self.every_ms
    }

    /// When tick `tick` ends and the next begins.
    pub fn next_after(&self, tick: u64) -> u64 {
        (tick + 1).saturating_mul(self.every_ms)
    }
}

impl App {
    /// Runs `f` every `every_ms` milliseconds (Node: a `setInterval` beside the server),
    /// once per application: when several processes share Redis, one of them runs each
    /// tick. Ticks fall on multiples of `every_ms` since the Unix epoch. Each runtime runs
    /// it with its own clock: natively a timer of the process; on Lambda the sweeper,
    /// so at most once per sweep (a minute, or as often as `SIO_SWEEP_FOR_MS` makes it
    /// look); on Cloudflare the alarm of the pool's first object.
    ///
    /// `name` tells the processes which schedule a tick belongs to; a period of 0 counts
    /// as 1 ms.
    ///
    /// ```
    /// use sio_core::App;
    ///
    /// // setInterval(() => io.to("game").emit("tick", Date.now()), 1000)
    /// let app = App::new().every("game-tick", 1_000, |server| async move {
    ///     let _ = server.of("/").to("game").emit("tick", server.now()).await;
    /// });
    /// # let _ = app;
    /// ```
    pub fn every<F, Fut>(mut self, name: &str, every_ms: u64, f: F) -> Self
    where
        F: Fn(Server) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + MaybeSend + 'static,
    {
        let handler: ScheduledHandler = Arc::new(move |server| boxed(f(server)));
        self.schedules.push(Schedule { name: name.to_owned(), every_ms: every_ms.max(1), handler });
        self
    }
}
