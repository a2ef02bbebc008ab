//! The sweeper function, on a schedule: heartbeats and timeouts of every session.

use lambda_runtime::{service_fn, Error, LambdaEvent};
use sio_lambda::Runtime;

#[tokio::main]
async fn main() -> Result<(), Error> {
    sio_lambda::init_tracing();
    // Kept for the life of the process: warm invocations reuse its connections.
    let runtime = &*Box::leak(Box::new(Runtime::from_env().await?));
    lambda_runtime::run(service_fn(move |_: LambdaEvent<serde_json::Value>| async move {
        sio_lambda::sweeper::run(runtime).await;
        Ok::<_, Error>(())
    }))
    .await
}
