//! The Lambda functions of the tests (tests/lambda/serve.mjs): the application `SIO_APP`
//! names, with the limits of `SIO_MAX_*` ([`sio_test_apps::limit_vars`]), in the role
//! `SIO_FUNCTION` names.

#[tokio::main]
async fn main() -> Result<(), sio_lambda::Error> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let name = var("SIO_APP").unwrap_or_else(|| "chat".to_owned());
    let (app, assets) = sio_test_apps::by_name(&name).ok_or(format!("SIO_APP {name:?} names no application"))?;
    sio_lambda::Functions::new(sio_test_apps::limit_vars(app, &var)).assets(assets).run().await
}
