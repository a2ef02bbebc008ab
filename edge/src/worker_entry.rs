//! The Worker: static files, and one hop from a request to the object owning its session.

use sio_core::eio::error::RequestError;
use worker::{event, Context, Env, Request, Response};

use crate::http::{self, refuse, respond};
use crate::route;
use crate::site::{Site, BINDING};

#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = Math, js_name = random)]
    fn math_random() -> f64;
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    let site = Site::from_env(&env);
    let path = req.path();
    if let Some(asset) = site.asset(&path) {
        return respond(200, asset.content_type, asset.body);
    }
    let object = if let Some(rest) = path.strip_prefix("/__sio/object/").filter(|_| site.debug) {
        rest.split('/').next().unwrap_or_default().to_owned()
    } else if path.starts_with(site.config.engine.path.as_str()) {
        match http::query(&req).get("sid") {
            // Where the session lives is in its id: no lookup.
            Some(sid) => match route::owner(sid) {
                Ok(owner) => owner.to_owned(),
                Err(_) => return refuse(RequestError::UnknownSid),
            },
            None => route::pick(site.objects, (math_random() * f64::from(u32::MAX)) as u32),
        }
    } else {
        return respond(404, "text/plain", "not found");
    };
    let stub = env.durable_object(BINDING)?.get_by_name(&object)?;
    stub.fetch_with_request(req).await
}
