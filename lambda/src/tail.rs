//! Work after the answer. An invocation answers its POST or WebSocket message as soon as
//! the client's packets are accepted into the session and their events have reached their
//! handlers; the handlers go on after that (a handler awaiting the client's acknowledgement
//! can only get it once the client has its answer and sends its next request). That rest,
//! the invocation's tail, runs in the same process, listening for relayed replies
//! ([`crate::inbox`]).
//!
//! Lambda freezes an execution environment once the runtime asks for its next event,
//! unless an extension has not asked for its own yet: an internal extension (the Extensions
//! API from inside the function's process, crate `lambda-extension`) is AWS's documented
//! way to keep working after the response. Registered for INVOKE events, it receives each
//! invocation's request id and asks for the next event only once that invocation's tail is
//! over; a tail that outlives the function's timeout is ended with the invocation by
//! Lambda. Until then the environment takes no other invocation: the tail costs duration,
//! not correctness.
//!
//! The other way, an asynchronous invocation of the function for the handlers, was not
//! taken: a handler's future cannot move to another process, so every event would be
//! handled there, later (Lambda's async queue promises no delay and retries failures,
//! running handlers twice) and out of order between concurrent invocations unless
//! serialised through the store; each event would cost a second invocation.
//!
//! `cargo lambda watch` (the tests' runtime API) serves the Extensions API but freezes
//! nothing: it sends every INVOKE event to every extension waiting for one, of whichever
//! instance, and hands the runtime its next invocation without waiting for them. There an
//! extension soon waits for another instance's invocation, for good, and asks for nothing
//! more (asking again after each event would cost every invocation a round trip per
//! instance), while its instance's tails run beside its next invocations.

use std::collections::VecDeque;
use std::sync::Mutex;

use lambda_extension::{service_fn, Error, Extension, LambdaEvent, NextEvent};
use tokio::sync::Notify;
use tracing::debug;

/// Finished tails remembered for an extension that has not asked about them yet: on AWS
/// the one invocation in progress, so a few are plenty.
const REMEMBERED: usize = 16;

/// The finished tails of this process's invocations, by request id.
#[derive(Default)]
pub struct Tails {
    finished: Mutex<VecDeque<String>>,
    changed: Notify,
}

impl Tails {
    fn finished(&self) -> std::sync::MutexGuard<'_, VecDeque<String>> {
        self.finished.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The tail of invocation `request_id` is over.
    pub fn end(&self, request_id: &str) {
        {
            let mut finished = self.finished();
            finished.push_back(request_id.to_owned());
            if finished.len() > REMEMBERED {
                finished.pop_front();
            }
        }
        self.changed.notify_waiters();
    }

    /// Waits until the tail of invocation `request_id` is over. The invocation may not
    /// have started yet: Lambda tells the extension and the runtime at the same time.
    pub async fn wait(&self, request_id: &str) {
        loop {
            let changed = self.changed.notified();
            let mut changed = std::pin::pin!(changed);
            changed.as_mut().enable();
            {
                let mut finished = self.finished();
                if let Some(at) = finished.iter().position(|id| id == request_id) {
                    finished.remove(at);
                    return;
                }
            }
            changed.await;
        }
    }
}

/// Registers this process's internal extension, which holds each invocation open until its
/// tail is over; call before the runtime starts, then run what this returns beside it.
pub async fn register_extension(
    tails: &'static Tails,
) -> Result<impl std::future::Future<Output = Result<(), Error>>, Error> {
    let extension = Extension::new()
        .with_extension_name("sio-tail")
        // The only event an internal extension may take.
        .with_events(&["INVOKE"])
        .with_events_processor(service_fn(move |event: LambdaEvent| async move {
            if let NextEvent::Invoke(invoke) = event.next {
                tails.wait(&invoke.request_id).await;
                debug!(request = %invoke.request_id, "invocation over");
            }
            Ok::<_, Error>(())
        }))
        .register()
        .await?;
    Ok(extension.run())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn waits_for_the_tail_of_its_invocation() {
        let tails: &'static Tails = Box::leak(Box::default());
        let waiting = tokio::spawn(tails.wait("r1"));
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiting.is_finished());
        tails.end("r2");
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiting.is_finished(), "another invocation's tail ended");
        tails.end("r1");
        tokio::time::timeout(Duration::from_secs(1), waiting).await.unwrap().unwrap();
    }

    #[tokio::test]
    async fn a_tail_over_before_the_extension_asks_is_remembered() {
        let tails = Tails::default();
        tails.end("r1");
        tokio::time::timeout(Duration::from_millis(100), tails.wait("r1")).await.unwrap();
        assert!(tails.finished().is_empty());
    }
}
