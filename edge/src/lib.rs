//! The Cloudflare runtime of sio: a stateless Worker in front of Durable Objects.
//!
//! The Worker routes every Engine.IO request to the object that owns its session, read
//! from the session id ([`route`]); a handshake goes to an object picked at random, which
//! mints the session id. Each object runs the hub against its own SQLite storage, holds
//! its sessions' WebSockets through the hibernation API, and drives their deadlines with
//! its one alarm. An application's static files are Workers static assets.
//!
//! The user's crate (a `cdylib`, built with `worker-build`) declares both the Worker and
//! the Durable Object class with one line, [`worker!`]:
//!
//! ```ignore
//! sio_cloudflare::worker!(my_app::app);
//! ```
//!
//! Only [`route`] builds outside wasm32; the rest is the Worker's.

pub mod route;

#[cfg(target_arch = "wasm32")]
mod clock;
#[cfg(target_arch = "wasm32")]
mod host;
#[cfg(target_arch = "wasm32")]
mod http;
#[cfg(target_arch = "wasm32")]
mod log;
#[cfg(target_arch = "wasm32")]
mod object;
#[cfg(target_arch = "wasm32")]
mod pool;
#[cfg(target_arch = "wasm32")]
mod site;
#[cfg(target_arch = "wasm32")]
mod store;
#[cfg(target_arch = "wasm32")]
mod worker_entry;

#[cfg(target_arch = "wasm32")]
pub use object::Object;
#[cfg(target_arch = "wasm32")]
pub use site::var;
#[cfg(target_arch = "wasm32")]
pub use worker_entry::fetch;

/// What [`worker!`]'s expansion names in the user's crate.
#[cfg(target_arch = "wasm32")]
#[doc(hidden)]
pub mod __private {
    pub use sio_core::App;
}

/// Declares the Worker (`#[event(fetch)]`) and its Durable Object class, `SioObject`,
/// serving the application that `app` returns. wrangler.toml binds the class as `SIO`
/// (`[[durable_objects.bindings]] name = "SIO", class_name = "SioObject"`, with a
/// `new_sqlite_classes` migration); `[vars]` may set `SIO_OBJECTS`, the number of objects
/// sessions are spread over, and `SIO_LOG`, the log level.
///
/// - `worker!(path::to::app)`: `app` is a `fn() -> App`.
/// - `worker!(vars => path::to::app)`: `app` is a `fn(&dyn Fn(&str) -> Option<String>) -> App`
///   that reads the Worker's variables to choose or tune the application.
///
/// The user's crate depends on `worker` (the version `sio-cloudflare` uses), whose macros
/// this expands to.
#[macro_export]
macro_rules! worker {
    (vars => $app:path) => {
        $crate::worker!(@entry |vars| $app(vars));
    };
    ($app:path) => {
        $crate::worker!(@entry |_vars| $app());
    };
    (@entry |$vars:ident| $make:expr) => {
        fn __sio_app(env: &::worker::Env) -> $crate::__private::App {
            let $vars: &dyn Fn(&str) -> Option<String> = &|name: &str| $crate::var(env, name);
            $make
        }

        /// The Worker and its Durable Object class. In a module of their own, where
        /// `wasm_bindgen` names the version `worker` re-exports, which the code its
        /// macros generate refers to by that name.
        mod __sio_worker {
            use ::worker::wasm_bindgen;

            /// The Durable Object class that holds sessions (wrangler.toml binds it as `SIO`).
            #[::worker::durable_object]
            pub struct SioObject {
                object: $crate::Object,
            }

            impl ::worker::DurableObject for SioObject {
                fn new(state: ::worker::State, env: ::worker::Env) -> Self {
                    let app = super::__sio_app(&env);
                    Self { object: $crate::Object::new(state, env, app) }
                }

                async fn fetch(&self, req: ::worker::Request) -> ::worker::Result<::worker::Response> {
                    self.object.fetch(req).await
                }

                async fn alarm(&self) -> ::worker::Result<::worker::Response> {
                    self.object.alarm().await
                }

                async fn websocket_message(
                    &self,
                    ws: ::worker::WebSocket,
                    message: ::worker::WebSocketIncomingMessage,
                ) -> ::worker::Result<()> {
                    self.object.websocket_message(ws, message).await
                }

                async fn websocket_close(
                    &self,
                    ws: ::worker::WebSocket,
                    code: usize,
                    reason: String,
                    was_clean: bool,
                ) -> ::worker::Result<()> {
                    self.object.websocket_close(ws, code, reason, was_clean).await
                }

                async fn websocket_error(&self, ws: ::worker::WebSocket, error: ::worker::Error) -> ::worker::Result<()> {
                    self.object.websocket_error(ws, error).await
                }
            }

            #[::worker::event(fetch)]
            async fn fetch(
                req: ::worker::Request,
                env: ::worker::Env,
                _ctx: ::worker::Context,
            ) -> ::worker::Result<::worker::Response> {
                $crate::fetch(req, &env, super::__sio_app(&env)).await
            }
        }
        pub use __sio_worker::SioObject;
    };
}
