//! The WebSocket function: API Gateway WebSocket API `$connect`, `$default` and
//! `$disconnect` routes, and its own pushes.

use lambda_runtime::{service_fn, Error, LambdaEvent};
use sio_lambda::websocket::Event;
use sio_lambda::Runtime;

#[tokio::main]
async fn main() -> Result<(), Error> {
    sio_lambda::init_tracing();
    // Kept for the life of the process: warm invocations reuse its connections.
    let runtime = &*Box::leak(Box::new(Runtime::from_env().await?));
    // Registered before the runtime asks for its first event, as Lambda requires.
    let extension = sio_lambda::tail::register_extension(&runtime.tails).await?;
    let function = lambda_runtime::run(service_fn(move |event: LambdaEvent<Event>| async move {
        Ok::<_, Error>(sio_lambda::websocket::handle(runtime, event.payload, event.context.request_id).await)
    }));
    tokio::try_join!(function, extension)?;
    Ok(())
}
