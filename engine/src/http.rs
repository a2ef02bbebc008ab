//! The HTTP answers of the Engine.IO endpoint, alike for every runtime built on the `http`
//! types (native hyper, Lambda's HTTP API events), whatever their body type.

use http::header::{self, HeaderValue};
use http::{HeaderMap, Response, StatusCode};
use sio_core::eio::cors::{cors_headers, CorsConfig};
use sio_core::eio::error::RequestError;
use sio_core::eio::packet::Packet;
use sio_core::eio::payload::encode_payload;
use sio_core::Headers;

use crate::PostAnswer;

/// An answer with `status`, a `Content-Type` of `content_type` and `body`.
pub fn response<B>(status: StatusCode, content_type: &'static str, body: B) -> Response<B> {
    let mut res = Response::new(body);
    *res.status_mut() = status;
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    res
}

/// The protocol's answer to a request it refuses (`{"code":…,"message":…}`).
pub fn refuse<B: From<String>>(error: RequestError) -> Response<B> {
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST);
    response(status, "application/json", B::from(error.body()))
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
