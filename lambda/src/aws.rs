//! Requests to AWS APIs (the API Gateway Management API, Lambda's Invoke API), signed
//! with SigV4 by hand: the AWS SDK would make each binary much bigger.

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum AwsError {
    #[error("no AWS credentials in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)")]
    NoCredentials,
    #[error("cannot sign the request: {0}")]
    Signing(String),
    #[error("bad request to {url}: {reason}")]
    Request { url: String, reason: String },
    #[error("request to {url} failed: {reason}")]
    Transport { url: String, reason: String },
}

/// Where the process runs, as Lambda tells it (`AWS_REGION`).
pub fn region() -> String {
    std::env::var("AWS_REGION")
        .or_else(|_| std::env::var("AWS_DEFAULT_REGION"))
        .unwrap_or_else(|_| "us-east-1".to_owned())
}

/// The function's credentials, read again for every request: Lambda rotates them in the
/// environment of a warm process.
fn credentials() -> Result<Credentials, AwsError> {
    let var = |name| std::env::var(name).ok().filter(|v: &String| !v.is_empty());
    let (Some(key), Some(secret)) = (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY")) else {
        return Err(AwsError::NoCredentials);
    };
    Ok(Credentials::new(key, secret, var("AWS_SESSION_TOKEN"), None, "environment"))
}

/// An HTTPS (or, for local emulators, plain HTTP) client that signs what it sends.
#[derive(Clone)]
pub struct AwsClient {
    http: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    region: String,
}

impl Default for AwsClient {
    fn default() -> Self {
        let connector = HttpsConnectorBuilder::new().with_webpki_roots().https_or_http().enable_http1().build();
        Self { http: Client::builder(TokioExecutor::new()).build(connector), region: region() }
    }
}

impl AwsClient {
    /// Sends a request to `service` signed for this region; returns the status and body.
    pub async fn send(
        &self,
        service: &str,
        method: Method,
        url: &str,
        headers: &[(&str, &str)],
        body: Bytes,
    ) -> Result<(StatusCode, Bytes), AwsError> {
        let identity = credentials()?.into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name(service)
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| AwsError::Signing(e.to_string()))?
            .into();
        let signable = SignableRequest::new(method.as_str(), url, headers.iter().copied(), SignableBody::Bytes(&body))
            .map_err(|e| AwsError::Signing(e.to_string()))?;
        let (instructions, _) = sign(signable, &params).map_err(|e| AwsError::Signing(e.to_string()))?.into_parts();
        let mut builder = Request::builder().method(method).uri(url);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let mut request = builder
            .body(Full::new(body))
            .map_err(|e| AwsError::Request { url: url.to_owned(), reason: e.to_string() })?;
        instructions.apply_to_request_http1x(&mut request);
        let transport = |e: &dyn std::fmt::Display| AwsError::Transport { url: url.to_owned(), reason: e.to_string() };
        let response = self.http.request(request).await.map_err(|e| transport(&e))?;
        let status = response.status();
        let body = response.into_body().collect().await.map_err(|e| transport(&e))?.to_bytes();
        Ok((status, body))
    }
}

/// Percent-encodes a path segment (API Gateway connection ids end in `=`).
pub fn path_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
