//! Responses, and the request facts Engine.IO needs, in workers-rs types.

use futures_util::StreamExt;
use sio_core::eio::error::RequestError;
use sio_core::eio::packet::Packet;
use sio_core::eio::payload::encode_payload;
use sio_core::eio::request::Query;
use sio_core::{Handshake, HeaderPairs, Headers, RequestHead};
use sio_engine::{Host, Hub, PostError, Store};
use worker::{Request, Response};

pub fn respond(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> worker::Result<Response> {
    let mut res = Response::from_bytes(body.into())?.with_status(status);
    res.headers_mut().set("content-type", content_type)?;
    Ok(res)
}

pub fn refuse(error: RequestError) -> worker::Result<Response> {
    respond(error.status(), "application/json", error.body())
}

pub fn payload<'a>(packets: impl IntoIterator<Item = &'a Packet>) -> worker::Result<Response> {
    respond(200, "text/plain; charset=UTF-8", encode_payload(packets))
}

/// The raw query string. Read from the URL string rather than `Request::url()`, whose URL
/// parser would bring its IDNA tables into the Worker (a third of its size) for nothing.
fn raw_query(req: &Request) -> String {
    let url = req.inner().url();
    url.split_once('?').map(|(_, q)| q.split('#').next().unwrap_or_default().to_owned()).unwrap_or_default()
}

pub fn query(req: &Request) -> Query {
    Query::parse(&raw_query(req))
}

pub fn is_websocket(req: &Request) -> bool {
    req.headers().get("upgrade").ok().flatten().is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

pub fn handshake(req: &Request, query: Query, now: u64) -> Handshake {
    let RequestHead { headers, address, url, .. } = request_head(req);
    Handshake { query, headers, auth: serde_json::Value::Object(Default::default()), issued: now, address, url }
}

/// A request as the engine hooks see it.
pub fn request_head(req: &Request) -> RequestHead {
    let headers: Headers = req.headers().entries().map(|(name, value)| (name.to_ascii_lowercase(), value)).collect();
    let address = headers.get("cf-connecting-ip").unwrap_or_default().to_owned();
    let raw = raw_query(req);
    let url = match raw.is_empty() {
        true => req.path(),
        false => format!("{}?{raw}", req.path()),
    };
    RequestHead { method: req.method().to_string(), url, headers, address }
}

/// Adds headers to an answer.
pub fn add_headers(res: &mut Response, headers: HeaderPairs) -> worker::Result<()> {
    for (name, value) in headers {
        res.headers_mut().append(&name, &value)?;
    }
    Ok(())
}

/// The refusal of `req`, told to the application's `connection_error` hook.
pub fn refuse_reported<S: Store, H: Host>(
    hub: &Hub<S, H>,
    req: &Request,
    error: RequestError,
) -> worker::Result<Response> {
    if hub.hooks().connection_error.is_some() {
        hub.refused(request_head(req), &error);
    }
    refuse(error)
}

/// Reads a request body of at most `max` bytes, refusing a larger one as soon as its
/// declared length or the bytes read so far say so: never buffered whole.
pub async fn read_body(req: &mut Request, max: usize) -> Result<Vec<u8>, PostError> {
    let declared = req.headers().get("content-length").ok().flatten().and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|len| len > max) {
        return Err(PostError::TooLarge);
    }
    let mut body = Vec::with_capacity(declared.unwrap_or(0));
    let mut stream = match req.stream() {
        Ok(stream) => stream,
        // No body at all.
        Err(_) => return Ok(body),
    };
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| PostError::Unreadable(e.to_string()))?;
        if body.len() + chunk.len() > max {
            return Err(PostError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
