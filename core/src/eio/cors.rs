//! CORS headers (cross-origin resource sharing) for the long-polling requests that a
//! browser page on another origin makes.
//!
//! This module is for runtime authors: the native, Cloudflare and Lambda runtimes call
//! [`cors_headers`] on every polling request and preflight. An application does not need it;
//! it only sets [`CorsConfig`] through the server options (`EngineConfig::cors`). As with
//! the `cors` option in Node, nothing is sent unless it is configured.

use serde::{Deserialize, Serialize};

/// The origins whose pages may read the server's polling responses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AllowedOrigins {
    /// Any origin, echoed back (so that credentials can work).
    Any,
    /// Exactly these origins, e.g. `https://example.com`.
    List(Vec<String>),
}

/// CORS options, Node's `cors` option (the `cors` package's fields). The default allows
/// any origin, without credentials or preflight caching, the methods and the request
/// header (`content-type`) the Socket.IO clients use, and exposes no response header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CorsConfig {
    /// Which origins get the CORS headers; others get none.
    pub origins: AllowedOrigins,
    /// `Access-Control-Allow-Credentials: true`, for cookies on polling requests.
    pub credentials: bool,
    /// Seconds a browser may cache a preflight answer.
    pub max_age: Option<u32>,
    /// The methods a preflight answer allows (`methods`).
    pub methods: Vec<String>,
    /// The request headers a page may send (`allowedHeaders`): add those the client's
    /// `extraHeaders` sets, e.g. `authorization`.
    pub allowed_headers: Vec<String>,
    /// The response headers a page's script may read (`exposedHeaders`), e.g. a header
    /// that [`crate::App::headers`] adds.
    pub exposed_headers: Vec<String>,
}

impl Default for CorsConfig {
    fn default() -> Self {
        let methods = ["GET", "HEAD", "PUT", "PATCH", "POST", "DELETE"].map(str::to_owned).to_vec();
        Self {
            origins: AllowedOrigins::Any,
            credentials: false,
            max_age: None,
            methods,
            allowed_headers: vec!["content-type".to_owned()],
            exposed_headers: Vec::new(),
        }
    }
}

/// The response headers for a request from `origin`; none when the origin is not allowed
/// (the browser then refuses the response, as it should). `preflight` adds the headers an
/// `OPTIONS` request asks for.
///
/// `origin` is the request's `Origin` header. A request without one (same origin, or not
/// from a browser) needs no CORS headers, so it gets none. An allowed origin is echoed
/// back rather than answered with `*`, since browsers refuse `*` together with credentials;
/// `Vary: Origin` then keeps caches from serving one origin's answer to another.
pub fn cors_headers(config: &CorsConfig, origin: Option<&str>, preflight: bool) -> Vec<(&'static str, String)> {
    let Some(origin) = origin else { return Vec::new() };
    let allowed = match &config.origins {
        AllowedOrigins::Any => true,
        AllowedOrigins::List(list) => list.iter().any(|o| o == origin),
    };
    if !allowed {
        return Vec::new();
    }
    let mut headers = vec![("access-control-allow-origin", origin.to_owned()), ("vary", "Origin".to_owned())];
    if config.credentials {
        headers.push(("access-control-allow-credentials", "true".to_owned()));
    }
    if preflight {
        headers.push(("access-control-allow-methods", config.methods.join(",")));
        if !config.allowed_headers.is_empty() {
            headers.push(("access-control-allow-headers", config.allowed_headers.join(",")));
        }
        if let Some(age) = config.max_age {
            headers.push(("access-control-max-age", age.to_string()));
        }
    } else if !config.exposed_headers.is_empty() {
        headers.push(("access-control-expose-headers", config.exposed_headers.join(",")));
    }
    headers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowed_and_refused_origins() {
        let any = CorsConfig { credentials: true, ..CorsConfig::default() };
        let h = cors_headers(&any, Some("http://a.test"), false);
        assert!(h.contains(&("access-control-allow-origin", "http://a.test".to_owned())));
        assert!(h.contains(&("access-control-allow-credentials", "true".to_owned())));
        assert!(cors_headers(&any, None, false).is_empty(), "same-origin requests need nothing");

        let list = CorsConfig {
            origins: AllowedOrigins::List(vec!["http://a.test".into()]),
            max_age: Some(600),
            allowed_headers: vec!["content-type".into(), "authorization".into()],
            exposed_headers: vec!["x-served".into()],
            ..CorsConfig::default()
        };
        assert!(cors_headers(&list, Some("http://b.test"), true).is_empty());
        let pre = cors_headers(&list, Some("http://a.test"), true);
        assert!(pre.contains(&("access-control-allow-methods", "GET,HEAD,PUT,PATCH,POST,DELETE".to_owned())));
        assert!(pre.contains(&("access-control-allow-headers", "content-type,authorization".to_owned())));
        assert!(pre.contains(&("access-control-max-age", "600".to_owned())));
        let get = cors_headers(&list, Some("http://a.test"), false);
        assert!(get.contains(&("access-control-expose-headers", "x-served".to_owned())));
    }
}
