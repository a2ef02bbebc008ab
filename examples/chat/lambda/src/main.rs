//! The demo chat as AWS Lambda functions: one binary, the role from `SIO_FUNCTION`
//! (template.yaml at the repository's root).

#[tokio::main]
async fn main() -> Result<(), sio_lambda::Error> {
    sio_lambda::Functions::new(chat::app()).assets(chat::ASSETS).run().await
}
