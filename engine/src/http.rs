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

/// A long-polling payload, compressed as Node's `httpCompression` does: with gzip, else
/// deflate (zlib), when `accept_encoding` (the request's `Accept-Encoding`) allows one and
/// the payload is at least `config`'s threshold; as it is otherwise.
#[cfg(feature = "compression")]
pub fn compressed_payload<'a, B: From<String> + From<Vec<u8>>>(
    packets: impl IntoIterator<Item = &'a Packet>,
    accept_encoding: Option<&HeaderValue>,
    config: Option<&sio_core::HttpCompression>,
) -> Response<B> {
    let text = encode_payload(packets);
    let content_type = "text/plain; charset=UTF-8";
    let encoding = config.filter(|c| text.len() >= c.threshold).and_then(|_| compression::accepted(accept_encoding?));
    let Some(encoding) = encoding else { return response(StatusCode::OK, content_type, B::from(text)) };
    match compression::encode(encoding, text.as_bytes()) {
        Ok(bytes) => {
            let mut res = response(StatusCode::OK, content_type, B::from(bytes));
            res.headers_mut().insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding.name()));
            res.headers_mut().insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
            res
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot compress a polling answer: sent as it is");
            response(StatusCode::OK, content_type, B::from(text))
        }
    }
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

#[cfg(feature = "compression")]
mod compression {
    use std::io::{self, Write};

    use flate2::write::{GzEncoder, ZlibEncoder};
    use flate2::Compression;
    use http::HeaderValue;

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Encoding {
        Gzip,
        Deflate,
    }

    impl Encoding {
        pub fn name(self) -> &'static str {
            match self {
                Encoding::Gzip => "gzip",
                Encoding::Deflate => "deflate",
            }
        }
    }

    /// The encoding to answer with: gzip if `Accept-Encoding` allows it (by name or `*`),
    /// else deflate; none refused with `q=0`.
    pub fn accepted(accept: &HeaderValue) -> Option<Encoding> {
        let accept = accept.to_str().ok()?;
        let allowed = |name: &str| {
            accept.split(',').any(|part| {
                let mut params = part.split(';').map(str::trim);
                let coding = params.next().unwrap_or("");
                let refused = params.any(|p| p.strip_prefix("q=").and_then(|q| q.parse::<f32>().ok()) == Some(0.0));
                (coding.eq_ignore_ascii_case(name) || coding == "*") && !refused
            })
        };
        [Encoding::Gzip, Encoding::Deflate].into_iter().find(|e| allowed(e.name()))
    }

    pub fn encode(encoding: Encoding, bytes: &[u8]) -> io::Result<Vec<u8>> {
        match encoding {
            Encoding::Gzip => {
                let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
                encoder.write_all(bytes)?;
                encoder.finish()
            }
            Encoding::Deflate => {
                let mut encoder = ZlibEncoder::new(Vec::new(), Compression::default());
                encoder.write_all(bytes)?;
                encoder.finish()
            }
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn picks_gzip_then_deflate_and_honours_refusals() {
            let pick = |h: &'static str| accepted(&HeaderValue::from_static(h));
            assert_eq!(pick("gzip, deflate, br"), Some(Encoding::Gzip));
            assert_eq!(pick("deflate"), Some(Encoding::Deflate));
            assert_eq!(pick("gzip;q=0, deflate;q=0.5"), Some(Encoding::Deflate));
            assert_eq!(pick("*"), Some(Encoding::Gzip));
            assert_eq!(pick("br, identity"), None);
        }

        #[test]
        fn what_goes_in_comes_out() {
            use std::io::Read;
            let text = "4hello".repeat(400);
            let mut out = String::new();
            flate2::read::GzDecoder::new(&encode(Encoding::Gzip, text.as_bytes()).unwrap()[..])
                .read_to_string(&mut out)
                .unwrap();
            assert_eq!(out, text);
            out.clear();
            flate2::read::ZlibDecoder::new(&encode(Encoding::Deflate, text.as_bytes()).unwrap()[..])
                .read_to_string(&mut out)
                .unwrap();
            assert_eq!(out, text);
        }
    }
}
