//! The lobby as AWS Lambda functions: one binary, whose role (HTTP API, WebSocket API or
//! sweeper) template.yaml sets in `SIO_FUNCTION`.

#[tokio::main]
async fn main() -> Result<(), sio_lambda::Error> {
    sio_lambda::Functions::new(starter::app()).run().await
}
