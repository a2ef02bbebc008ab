//! The Worker: one hop from a request to the object owning its session.
//!
//! An application's static files are Workers static assets (`[assets]` in wrangler.toml):
//! answered before the Worker runs, and kept out of its wasm.

use sio_core::eio::error::RequestError;
use sio_core::eio::request::{route, Method};
use sio_core::App;
use worker::{Env, Request, Response};

use crate::http::{self, refuse, respond};
use crate::route as ids;
use crate::site::{Site, BINDING};

#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = Math, js_name = random)]
    fn math_random() -> f64;
}

/// The Worker's `fetch`: routes an Engine.IO request of `app` to the object that owns
/// its session (a handshake to one picked at random); anything else is 404.
pub async fn fetch(req: Request, env: &Env, app: App) -> worker::Result<Response> {
    let site = Site::new(env, app);
    let path = req.path();
    #[cfg(feature = "inspect")]
    if let Some(rest) = path.strip_prefix("/__sio/object/").filter(|_| site.debug) {
        let object = rest.split('/').next().unwrap_or_default();
        return env.durable_object(BINDING)?.get_by_name(object)?.fetch_with_request(req).await;
    }
    let object = if path.starts_with(site.app.config.engine.path.as_str()) {
        // Requests the owner would refuse are refused here, with the same answer, unless
        // the application wants to hear of refusals: an object refuses them then, where
        // the hook can run with the server at hand.
        let (query, websocket) = (http::query(&req), http::is_websocket(&req));
        let method = Method::parse(req.method().as_ref());
        let anywhere = || ids::pick(site.objects, (math_random() * f64::from(u32::MAX)) as u32);
        let report = site.app.hooks.connection_error.is_some();
        match route(method, &query, websocket, &site.app.config.engine) {
            Err(_) if report => anywhere(),
            Err(e) if method != Method::Options => return refuse(e),
            // Where the session lives is in its id: no lookup.
            _ => match query.get("sid") {
                Some(sid) => match ids::owner(sid, site.objects) {
                    Ok(owner) => owner.to_owned(),
                    Err(_) if report => anywhere(),
                    Err(_) => return refuse(RequestError::UnknownSid),
                },
                None => anywhere(),
            },
        }
    } else {
        return respond(404, "text/plain", "not found");
    };
    let stub = env.durable_object(BINDING)?.get_by_name(&object)?;
    stub.fetch_with_request(req).await
}
