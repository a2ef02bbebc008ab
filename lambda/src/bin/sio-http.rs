//! The HTTP function: API Gateway HTTP API (payload v2) → Engine.IO polling.

use lambda_http::{service_fn, Error, Request};
use sio_lambda::Runtime;

#[tokio::main]
async fn main() -> Result<(), Error> {
    sio_lambda::init_tracing();
    // Kept for the life of the process: warm invocations reuse its connections.
    let runtime = &*Box::leak(Box::new(Runtime::from_env().await?));
    // Registered before the runtime asks for its first event, as Lambda requires.
    let extension = sio_lambda::tail::register_extension(&runtime.tails).await?;
    let function = lambda_http::run(service_fn(move |req: Request| async move {
        Ok::<_, Error>(sio_lambda::http::handle(runtime, req).await)
    }));
    tokio::try_join!(function, extension)?;
    Ok(())
}
