//! The HTTP answers of the Engine.IO endpoint, alike for every runtime built on the `http`
//! types (native hyper, Lambda's HTTP API events), whatever their body type.

use std::net::IpAddr;

use http::header::{self, HeaderName, HeaderValue};
use http::{HeaderMap, Request, Response, StatusCode};
use sio_core::eio::cors::{cors_headers, CorsConfig};
use sio_core::eio::error::RequestError;
use sio_core::eio::packet::Packet;
use sio_core::eio::payload::encode_payload;
use sio_core::{HeaderPairs, Headers, RequestHead};

use crate::{Host, Hub, PostAnswer, Store};

/// An answer with `status`, a `Content-Type` of `content_type` and `body`.
pub fn response<B>(status: StatusCode, content_type: &'static str, body: B) -> Response<B> {
    let mut res = Response::new(body);
    *res.status_mut() = status;
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    res
}

/// The protocol's answer to a request it refuses (`{"code":…,"message":…}`). The error
/// rides in the answer's extensions, for [`answered`] to report.
pub fn refuse<B: From<String>>(error: RequestError) -> Response<B> {
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST);
    let mut res = response(status, "application/json", B::from(error.body()));
    res.extensions_mut().insert(error);
    res
}

/// Adds headers to an answer; a name or value that is not a valid header is skipped.
pub fn add_headers<B>(res: &mut Response<B>, headers: HeaderPairs) {
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            res.headers_mut().append(name, value);
        }
    }
}

/// A request as the engine hooks see it; `address` is the client's, when known.
pub fn request_head<B>(req: &Request<B>, address: Option<IpAddr>) -> RequestHead {
    RequestHead {
        method: req.method().as_str().to_owned(),
        url: req.uri().to_string(),
        headers: header_pairs(req.headers()),
        address: address.map(|ip| ip.to_string()).unwrap_or_default(),
    }
}

/// Tells the application's hooks a request was answered: `connection_error` when
/// [`refuse`] made the answer, and `headers`, whose headers it adds.
pub fn answered<B, S: Store, H: Host>(res: &mut Response<B>, hub: &Hub<S, H>, request: RequestHead) {
    add_headers(res, hub.hooks().response_headers(&request));
    if let Some(error) = res.extensions().get::<RequestError>() {
        hub.refused(request, error);
    }
}

/// The answer to a polling POST ([`crate::Hub::post`]).
pub fn posted<B: From<String>>(answer: PostAnswer) -> Response<B> {
    match answer {
        PostAnswer::Accepted => response(StatusCode::OK, "text/html", B::from("ok".to_owned())),
        PostAnswer::TooLarge => {
            response(StatusCode::PAYLOAD_TOO_LARGE, "text/plain", B::from("payload too large".to_owned()))
        }
        PostAnswer::Refused(error) => refuse(error),
    }
}

/// A long-polling payload.
pub fn payload<'a, B: From<String>>(packets: impl IntoIterator<Item = &'a Packet>) -> Response<B> {
    response(StatusCode::OK, "text/plain; charset=UTF-8", B::from(encode_payload(packets)))
}

/// The request headers as the handshake keeps them (those that are text).
pub fn header_pairs(headers: &HeaderMap) -> Headers {
    headers.iter().filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned()))).collect()
}

/// Whether a request is a CORS preflight, and its origin.
pub fn cors_request(method: &http::Method, headers: &HeaderMap) -> (bool, Option<String>) {
    let origin = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()).map(str::to_owned);
    (method == http::Method::OPTIONS, origin)
}

/// Adds the CORS headers `cors` allows for `origin` to an answer.
pub fn add_cors<B>(res: &mut Response<B>, cors: &CorsConfig, origin: Option<&str>, preflight: bool) {
    for (name, value) in cors_headers(cors, origin, preflight) {
        if let Ok(value) = HeaderValue::from_str(&value) {
            res.headers_mut().insert(name, value);
        }
    }
}
