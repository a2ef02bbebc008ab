//! The WebSocket function (API Gateway WebSocket API): `$connect`, `$default` and
//! `$disconnect`, plus the push of a WebSocket-only session's open packet, which
//! `$connect` hands to an asynchronous invocation of this same function because API
//! Gateway refuses to send on a connection (410) until `$connect` has returned.

use std::time::Duration;

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use aws_lambda_events::encodings::Body;
use bytes::Bytes;
use http::Method as HttpMethod;
use serde::{Deserialize, Serialize};
use sio_core::eio::error::RequestError;
use sio_core::eio::request::{route, Method, Query, Route, TransportKind};
use sio_core::eio::session::CloseReason;
use sio_core::{Handshake, RequestHead};
use sio_engine::http::header_pairs;
use sio_engine::{ProbeOutcome, WsMessage, WsStep};
use tracing::{debug, warn};

use crate::aws::path_segment;
use crate::host::{ws_outs, Held};
use crate::management::{Out, Posted};
use crate::Runtime;

/// How long the push of an open packet keeps trying while `$connect` has not returned.
const PUSH_PATIENCE: Duration = Duration::from_secs(5);

/// What invokes this function: API Gateway, or this function itself.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Event {
    Push(PushEvent),
    Gateway(Box<ApiGatewayWebsocketProxyRequest>),
}

/// Frames for a connection that may not be open for sending yet.
#[derive(Debug, Serialize, Deserialize)]
pub struct PushEvent {
    pub sio_push: Push,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Push {
    pub connection: String,
    pub sid: String,
    /// Text frames, in order.
    pub frames: Vec<String>,
    /// Closes the connection after the frames: a WebSocket refused once it is open, as
    /// the reference server refuses a second WebSocket for a session.
    #[serde(default)]
    pub close: bool,
}

fn answer(status: u16, body: impl Into<String>) -> ApiGatewayProxyResponse {
    let mut response = ApiGatewayProxyResponse::default();
    response.status_code = i64::from(status);
    response.body = Some(Body::Text(body.into()));
    response
}

fn ok() -> ApiGatewayProxyResponse {
    answer(200, "")
}

fn refuse(error: RequestError) -> ApiGatewayProxyResponse {
    answer(error.status(), error.body())
}

/// Handles invocation `request_id`, answering once the packets it carries are accepted;
/// handlers still running go on after the answer ([`crate::tail`]).
pub async fn handle(runtime: &'static Runtime, event: Event, request_id: String) -> ApiGatewayProxyResponse {
    let res = match event {
        Event::Push(push) => {
            push_open(runtime, push.sio_push).await;
            ok()
        }
        Event::Gateway(request) => gateway(runtime, *request).await,
    };
    runtime.answerable().await;
    runtime.tail(request_id);
    res
}

async fn gateway(runtime: &Runtime, request: ApiGatewayWebsocketProxyRequest) -> ApiGatewayProxyResponse {
    let context = &request.request_context;
    let Some(connection) = context.connection_id.clone() else { return answer(400, "no connection id") };
    match context.route_key.as_deref() {
        Some("$connect") => match connect(runtime, &connection, &request).await {
            Ok(res) => res,
            Err(error) => {
                // API Gateway answers the client itself: the headers hooks' answers cannot
                // reach it, the refusal's report can.
                if runtime.hub.hooks().connection_error.is_some() {
                    runtime.hub.refused(request_head(&runtime.hub.config().engine.path, &request), &error);
                }
                refuse(error)
            }
        },
        Some("$disconnect") => {
            disconnect(runtime, &connection).await;
            ok()
        }
        _ => {
            message(runtime, &connection, &request).await;
            ok()
        }
    }
}

/// A `$connect` request as the engine hooks see it.
fn request_head(path: &str, request: &ApiGatewayWebsocketProxyRequest) -> RequestHead {
    RequestHead {
        method: "GET".to_owned(),
        url: format!("{path}?{}", query_of(request)),
        headers: header_pairs(&request.headers),
        address: request.request_context.identity.source_ip.clone().unwrap_or_default(),
    }
}

fn query_of(request: &ApiGatewayWebsocketProxyRequest) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (key, value) in request.query_string_parameters.iter() {
        query.append_pair(key, value);
    }
    query.finish()
}

async fn connect(
    runtime: &Runtime,
    connection: &str,
    request: &ApiGatewayWebsocketProxyRequest,
) -> Result<ApiGatewayProxyResponse, RequestError> {
    let config = &runtime.hub.config().engine;
    let raw = query_of(request);
    let query = Query::parse(&raw);
    let route = match route(Method::Get, &query, true, config) {
        Ok(route) => route,
        Err(e) => return Err(e),
    };
    let connections = runtime.host.connections();
    match route {
        Route::Handshake(TransportKind::WebSocket) => {
            let handshake = Handshake {
                query,
                headers: header_pairs(&request.headers),
                auth: serde_json::Value::Object(Default::default()),
                issued: sio_engine::os::now_ms(),
                address: request.request_context.identity.source_ip.clone().unwrap_or_default(),
                url: format!("{}?{raw}", config.path),
            };
            let (sid, open) = match runtime.hub.handshake(TransportKind::WebSocket, handshake).await {
                Ok(opened) => opened,
                Err(e) => return Err(e),
            };
            if let Err(e) = connections.attach(connection, &sid, false).await {
                warn!(%sid, error = %e, "cannot attach a connection");
                runtime.hub.transport_closed(&sid, CloseReason::TransportError).await;
                return Err(RequestError::StoreUnavailable);
            }
            let frames = vec![open.to_text()];
            let push = Push { connection: connection.to_owned(), sid: sid.clone(), frames, close: false };
            if !invoke_push(runtime, &push).await {
                runtime.hub.transport_closed(&sid, CloseReason::TransportError).await;
                return Ok(answer(500, "cannot push the open packet"));
            }
            debug!(%sid, "WebSocket handshake");
            Ok(ok())
        }
        Route::Upgrade(sid) => {
            match runtime.hub.session(&sid).await {
                Err(e) => return Err(e),
                Ok(None) => return Err(RequestError::UnknownSid),
                Ok(Some(_)) => {}
            }
            if !runtime.hub.begin_upgrade(&sid).await {
                // Opened, then closed once `$connect` has returned: a client sees its
                // WebSocket closed, as on the other runtimes, not a failed handshake.
                debug!(%sid, "closing a second WebSocket for the session");
                let push = Push { connection: connection.to_owned(), sid, frames: Vec::new(), close: true };
                return match invoke_push(runtime, &push).await {
                    true => Ok(ok()),
                    false => Err(RequestError::BadRequest),
                };
            }
            if let Err(e) = connections.attach(connection, &sid, true).await {
                warn!(%sid, error = %e, "cannot attach a probe");
                runtime.hub.cancel_upgrade(&sid).await;
                return Err(RequestError::StoreUnavailable);
            }
            Ok(ok())
        }
        Route::Handshake(TransportKind::Polling) | Route::Poll(_) | Route::Post(_) => Err(RequestError::BadRequest),
    }
}

/// Invokes this function asynchronously with `push`; `false` when Lambda refused.
async fn invoke_push(runtime: &Runtime, push: &Push) -> bool {
    let Ok(function) = std::env::var("AWS_LAMBDA_FUNCTION_NAME") else {
        warn!("AWS_LAMBDA_FUNCTION_NAME is not set: cannot push the open packet");
        return false;
    };
    let url = format!(
        "{}/2015-03-31/functions/{}/invocations",
        runtime.settings.lambda_endpoint.trim_end_matches('/'),
        path_segment(&function)
    );
    let body = serde_json::to_vec(&PushEvent { sio_push: push.clone() }).unwrap_or_default();
    let headers = [("x-amz-invocation-type", "Event"), ("content-type", "application/json")];
    match runtime.aws.send("lambda", HttpMethod::POST, &url, &headers, Bytes::from(body)).await {
        Ok((status, _)) if status.is_success() => true,
        Ok((status, body)) => {
            warn!(%status, body = %String::from_utf8_lossy(&body), "Lambda refused the push invocation");
            false
        }
        Err(e) => {
            warn!(error = %e, "cannot invoke the push");
            false
        }
    }
}

/// Posts a new session's first frames, or closes a refused connection, retrying while
/// API Gateway answers 410 because `$connect` has not returned yet.
async fn push_open(runtime: &Runtime, push: Push) {
    let Some(management) = runtime.host.management() else { return };
    let mut outs: Vec<Out> = push.frames.into_iter().map(Out::Text).collect();
    if push.close {
        outs.push(Out::Close);
    }
    let started = tokio::time::Instant::now();
    let mut pause = Duration::from_millis(20);
    loop {
        match management.post_all(&push.connection, &outs).await {
            Posted::Sent | Posted::Closed => return,
            Posted::Gone if started.elapsed() < PUSH_PATIENCE => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(500));
            }
            // The session is another connection's: only this one was refused.
            Posted::Gone | Posted::Failed if push.close => {
                return warn!(sid = %push.sid, connection = %push.connection, "cannot close a refused WebSocket")
            }
            Posted::Gone | Posted::Failed => {
                warn!(sid = %push.sid, "cannot push the open packet: closing the session");
                runtime.hub.transport_closed(&push.sid, CloseReason::TransportError).await;
                return;
            }
        }
    }
}

/// One WebSocket message.
async fn message(runtime: &Runtime, connection: &str, request: &ApiGatewayWebsocketProxyRequest) {
    let attached = match runtime.host.connections().attached(connection).await {
        Ok(Some(attached)) => attached,
        Ok(None) => return debug!(%connection, "a message on a connection with no session"),
        Err(e) => return warn!(%connection, error = %e, "cannot look up a connection"),
    };
    let sid = attached.sid;
    let body = request.body.as_deref().unwrap_or("");
    // Text alone: API Gateway closes a WebSocket that sends a binary frame (1003), so a
    // client sends binary messages as `b` + base64 (engine.io-client's `forceBase64`).
    // API Gateway itself closes (1009) only over its own limit: over `maxPayload` the hub
    // closes the session, as the native runtime's 1009 closes it.
    match runtime.hub.ws_message(&sid, WsMessage::Text(body), attached.probe, true).await {
        WsStep::Done => {}
        WsStep::BadProbe => abort(runtime, connection, &sid).await,
        WsStep::Probe(outcome) => probe(runtime, connection, &sid, outcome).await,
    }
}

async fn probe(runtime: &Runtime, connection: &str, sid: &str, outcome: ProbeOutcome) {
    let Some(management) = runtime.host.management() else { return };
    match outcome {
        ProbeOutcome::Pending => {}
        ProbeOutcome::Reply(reply) => {
            if management.post(connection, &reply.to_text()).await != Posted::Sent {
                abort(runtime, connection, sid).await;
            }
        }
        ProbeOutcome::Upgraded { then_close } => {
            // The connection is the session's transport before the queue is sealed and
            // flushed: whatever is sent from now on is posted to it, whatever was queued
            // before is in the flush, and whatever an invocation that looked a moment
            // too early tries to queue after is refused by the seal and posted instead.
            let turn = runtime.host.turns().taking(connection);
            if let Err(e) = runtime.host.connections().promote(connection, sid, &turn).await {
                warn!(%sid, error = %e, "cannot promote a probe");
                return runtime.hub.transport_closed(sid, CloseReason::TransportError).await;
            }
            let queued = runtime.hub.seal_queue(sid).await;
            let held = Held { connection: connection.to_owned(), sid: sid.to_owned(), outs: ws_outs(&queued) };
            // A connection found gone closes the session once the invocation is answerable.
            runtime.host.post_held(&turn.token, vec![held]).await;
            debug!(%sid, "upgraded to WebSocket");
            if then_close {
                runtime.hub.close(sid, CloseReason::ForcedClose).await;
            }
        }
        ProbeOutcome::Abort => abort(runtime, connection, sid).await,
    }
}

/// Closes a probe: the upgrade failed, polling goes on.
async fn abort(runtime: &Runtime, connection: &str, sid: &str) {
    if let Err(e) = runtime.host.connections().detach(connection).await {
        warn!(%sid, error = %e, "cannot detach a probe");
    }
    if let Some(management) = runtime.host.management() {
        management.delete(connection).await;
    }
    runtime.hub.cancel_upgrade(sid).await;
}

async fn disconnect(runtime: &Runtime, connection: &str) {
    match runtime.host.connections().detach(connection).await {
        Ok(Some(attached)) if attached.probe => runtime.hub.cancel_upgrade(&attached.sid).await,
        Ok(Some(attached)) => runtime.hub.transport_closed(&attached.sid, CloseReason::TransportClose).await,
        Ok(None) => debug!(%connection, "a connection with no session closed"),
        Err(e) => warn!(%connection, error = %e, "cannot detach a connection"),
    }
}
