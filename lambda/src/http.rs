//! The HTTP function (API Gateway HTTP API, payload v2): the Engine.IO handshake,
//! long-polling GETs and POSTs, and the application's static files.

use http::{header, HeaderValue, StatusCode};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use sio_core::eio::error::RequestError;
use sio_core::eio::packet::Packet;
use sio_core::eio::request::{route, Method, Query, Route, TransportKind};
use sio_core::eio::session::CloseReason;
use sio_core::Handshake;
use sio_engine::http::{add_cors, add_headers, answered, cors_request, header_pairs, posted, request_head};
use sio_engine::{split_close, PostError};
use tracing::{debug, warn};

use crate::connections::Woken;
use crate::Runtime;

fn response(status: StatusCode, content_type: &'static str, body: impl Into<Body>) -> Response<Body> {
    sio_engine::http::response(status, content_type, body.into())
}

fn refuse(error: RequestError) -> Response<Body> {
    sio_engine::http::refuse(error)
}

fn payload<'a>(packets: impl IntoIterator<Item = &'a Packet>) -> Response<Body> {
    sio_engine::http::payload(packets)
}

fn unavailable(error: impl std::fmt::Display) -> Response<Body> {
    warn!(%error, "store unavailable");
    refuse(RequestError::StoreUnavailable)
}

fn source_ip(req: &Request) -> String {
    match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => context.http.source_ip.clone().unwrap_or_default(),
        _ => String::new(),
    }
}

fn handshake_of(req: &Request, query: Query, now: u64) -> Handshake {
    Handshake {
        query,
        headers: header_pairs(req.headers()),
        auth: serde_json::Value::Object(Default::default()),
        issued: now,
        address: source_ip(req),
        url: req.uri().path_and_query().map(|p| p.to_string()).unwrap_or_default(),
    }
}

/// Answers one HTTP request once the packets it carries are accepted; handlers still
/// running go on after the answer ([`crate::tail`]).
pub async fn handle(runtime: &'static Runtime, req: Request) -> Response<Body> {
    let request_id = req.lambda_context_ref().map(|c| c.request_id.clone()).unwrap_or_default();
    let res = respond(runtime, req).await;
    runtime.answerable().await;
    runtime.tail(request_id);
    res
}

async fn respond(runtime: &Runtime, req: Request) -> Response<Body> {
    let path = req.uri().path();
    let wanted = if path == "/" { "/index.html" } else { path };
    if let Some(asset) = runtime.settings.assets.iter().find(|a| a.path == wanted) {
        return response(StatusCode::OK, asset.content_type, asset.body);
    }
    let config = &runtime.hub.config().engine;
    if !path.starts_with(config.path.as_str()) {
        return response(StatusCode::NOT_FOUND, "text/plain", "not found");
    }
    let hooks = runtime.hub.hooks();
    let head = hooks.wants_requests().then(|| request_head(&req, source_ip(&req).parse().ok()));
    let mut res = match &config.cors {
        None => engine(runtime, req).await,
        Some(cors) => {
            let (preflight, origin) = cors_request(req.method(), req.headers());
            let mut res = match preflight {
                true => response(StatusCode::NO_CONTENT, "text/plain", ""),
                false => engine(runtime, req).await,
            };
            add_cors(&mut res, cors, origin.as_deref(), preflight);
            res
        }
    };
    if let Some(head) = head {
        answered(&mut res, &runtime.hub, head);
    }
    res
}

async fn engine(runtime: &Runtime, req: Request) -> Response<Body> {
    let config = &runtime.hub.config().engine;
    let query = Query::parse(req.uri().query().unwrap_or(""));
    // The HTTP API never upgrades: WebSockets come through the WebSocket API.
    let route = match route(Method::parse(req.method().as_str()), &query, false, config) {
        Ok(route) => route,
        Err(e) => {
            debug!(error = %e, uri = %req.uri(), "refused request");
            return refuse(e);
        }
    };
    match route {
        Route::Handshake(TransportKind::Polling) => {
            let handshake = handshake_of(&req, query, sio_engine::os::now_ms());
            let hooks = runtime.hub.hooks();
            let request = hooks.handshake_request(&handshake);
            match runtime.hub.handshake(TransportKind::Polling, handshake).await {
                Ok((sid, open)) => {
                    debug!(%sid, "polling handshake");
                    let mut res = payload([&open]);
                    add_headers(&mut res, hooks.handshake_headers(config.cookie.as_ref(), request.as_ref(), &sid));
                    res
                }
                Err(e) => refuse(e),
            }
        }
        Route::Poll(sid) => poll(runtime, &sid, req.headers().get(header::ACCEPT_ENCODING)).await,
        Route::Post(sid) => post(runtime, &sid, req.body()).await,
        Route::Handshake(TransportKind::WebSocket) | Route::Upgrade(_) => refuse(RequestError::BadRequest),
    }
}

/// A polling GET; `accept_encoding` is its `Accept-Encoding`, for the answer's
/// compression.
async fn poll(runtime: &Runtime, sid: &str, accept_encoding: Option<&HeaderValue>) -> Response<Body> {
    let connections = runtime.host.connections();
    match runtime.hub.session(sid).await {
        Err(e) => return refuse(e),
        Ok(None) => {
            return match connections.take_farewell(sid).await {
                Ok(Some(last)) if !last.is_empty() => payload(&last),
                Ok(_) => refuse(RequestError::UnknownSid),
                Err(e) => unavailable(e),
            }
        }
        Ok(Some(view)) if view.transport != TransportKind::Polling => return refuse(RequestError::BadRequest),
        Ok(Some(_)) => {}
    }
    match connections.park(sid).await {
        Ok(true) => {}
        Ok(false) => {
            warn!(%sid, "overlapping polls: closing the session");
            runtime.hub.close(sid, CloseReason::TransportError).await;
            return refuse(RequestError::BadRequest);
        }
        Err(e) => return unavailable(e),
    }
    let res = parked(runtime, sid, accept_encoding).await;
    if let Err(e) = connections.unpark(sid).await {
        warn!(%sid, error = %e, "cannot unpark a GET");
    }
    res
}

/// The GET of a polling session: what is queued, or what comes within the wait.
async fn parked(runtime: &Runtime, sid: &str, accept_encoding: Option<&HeaderValue>) -> Response<Body> {
    let mut queued = runtime.hub.take_queued(sid).await;
    if queued.is_empty() {
        match runtime.host.connections().wait(sid).await {
            Ok(Woken::Queued(first)) => {
                queued = first;
                queued.extend(runtime.hub.take_queued(sid).await);
            }
            Ok(Woken::Closed(last)) if !last.is_empty() => return payload(&last),
            Ok(Woken::Closed(_)) => return payload([&Packet::Close]),
            Ok(Woken::Idle) => return payload([&Packet::Noop]),
            Ok(Woken::Upgraded) => return refuse(RequestError::BadRequest),
            Err(e) => return unavailable(e),
        }
    }
    if let Some(close) = split_close(&mut queued) {
        runtime.hub.requeue(sid, &close, false).await;
    }
    let compression = runtime.hub.config().engine.http_compression.as_ref();
    sio_engine::http::compressed_payload(&queued, accept_encoding, compression)
}

async fn post(runtime: &Runtime, sid: &str, body: &Body) -> Response<Body> {
    match runtime.hub.session(sid).await {
        Err(e) => return refuse(e),
        // A handler closes the session after the answer to the POST that started it: a POST
        // sent meanwhile (a pong) is accepted and dropped, as Node accepts one while its
        // session is closing, so that the client ends with the close its GET brings.
        Ok(None) => {
            return match runtime.host.connections().has_farewell(sid).await {
                Ok(true) => response(StatusCode::OK, "text/html", "ok"),
                Ok(false) => refuse(RequestError::UnknownSid),
                Err(e) => unavailable(e),
            }
        }
        Ok(Some(view)) if view.transport != TransportKind::Polling => return refuse(RequestError::BadRequest),
        Ok(Some(_)) => {}
    }
    let body: &[u8] = body.as_ref();
    let body = match body.len() > runtime.hub.config().engine.max_payload {
        true => Err(PostError::TooLarge),
        false => Ok(body),
    };
    posted(runtime.hub.post(sid, body, true).await)
}
