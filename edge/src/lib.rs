//! The Cloudflare runtime of sio: a Socket.IO application as a stateless Worker in front
//! of Durable Objects.
//!
//! The Worker routes every Engine.IO request to the object that owns its session, which it
//! reads from the session id ([`route`]). A handshake goes to an object picked at random,
//! which mints the session id. Each object runs the hub against its own SQLite storage,
//! holds its sessions' WebSockets through the hibernation API, and drives their deadlines
//! with its one alarm. An application's static files are Workers static assets.
//!
//! # The Worker crate
//!
//! The user's Worker is a crate of its own: a `cdylib` that depends on the application's
//! crate, on `sio-cloudflare` and on `worker`, at the version `sio-cloudflare` uses
//! (`=0.8.7`), since [`worker!`] expands to `worker`'s macros. Its whole source is one
//! line, which declares both the Worker and the Durable Object class:
//!
//! ```ignore
//! sio_cloudflare::worker!(my_app::app);
//! ```
//!
//! That example is `ignore` because the Worker code builds only for wasm32;
//! `examples/starter/worker` compiles exactly that line. [`worker!`] also has a form
//! whose application reads the Worker's variables.
//!
//! `worker-build` builds the crate (`cargo install worker-build --version 0.8.7`), and
//! `wrangler dev` or `wrangler deploy` runs that build first.
//!
//! # wrangler.toml
//!
//! The user's wrangler.toml must bind the Durable Object class that [`worker!`] declares,
//! `SioObject`, under the name `SIO`, and create it as a SQLite class in a migration.
//! This is `examples/starter/wrangler.toml`:
//!
//! ```toml
//! name = "starter"
//! main = "worker/build/worker/shim.mjs"
//! compatibility_date = "2026-04-20"
//!
//! [build]
//! command = "cd worker && worker-build --profile edge"
//!
//! [vars]
//! # How many Durable Objects new sessions are spread over.
//! SIO_OBJECTS = "4"
//!
//! [[durable_objects.bindings]]
//! name = "SIO"
//! class_name = "SioObject"
//!
//! [[migrations]]
//! tag = "v1"
//! new_sqlite_classes = ["SioObject"]
//! ```
//!
//! Static files go in an `[assets]` table (`directory = "static"`): Cloudflare answers
//! them before the Worker runs, and they stay out of the Worker's wasm.
//!
//! # Environment
//!
//! The Worker and the objects read these variables from wrangler.toml's `[vars]`:
//!
//! | Variable | Meaning | Default |
//! |---|---|---|
//! | `SIO_OBJECTS` | How many Durable Objects new sessions are spread over (1 to 1024). | `1` |
//! | `SIO_LOG` | The log level: `error`, `warn`, `info`, `debug` or `trace`. Logs go to the Workers console (`wrangler tail`). | `warn` |
//! | `SIO_PING_INTERVAL` | Milliseconds between pings; overrides the application's. | the application's |
//! | `SIO_PING_TIMEOUT` | Milliseconds a client has to answer a ping; overrides the application's. | the application's |
//! | `SIO_DEBUG` | `1` opens the `/__sio/object/` inspection routes the tests read; only with the `inspect` feature. | off |
//!
//! With `worker!(vars => ...)`, the application may read variables of its own too.
//!
//! Only [`route`] builds outside wasm32; the rest is the Worker's.
#![warn(missing_docs)]

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
/// serving the application that `app` returns.
///
/// wrangler.toml binds the class as `SIO` (`[[durable_objects.bindings]] name = "SIO",
/// class_name = "SioObject"`, with a `new_sqlite_classes` migration); `[vars]` may set
/// `SIO_OBJECTS`, the number of objects sessions are spread over, and `SIO_LOG`, the log
/// level (see the crate documentation).
///
/// It has two forms:
///
/// - `worker!(path::to::app)`: `app` is a `fn() -> App`.
/// - `worker!(vars => path::to::app)`: `app` is a `fn(&dyn Fn(&str) -> Option<String>) -> App`
///   that reads the Worker's variables to choose or tune the application.
///
/// ```ignore
/// // A `fn() -> App`: examples/starter/worker compiles exactly this form.
/// sio_cloudflare::worker!(my_app::app);
/// ```
///
/// ```ignore
/// use sio_core::App;
///
/// /// The application, tuned by a variable of wrangler.toml's `[vars]`.
/// fn app(vars: &dyn Fn(&str) -> Option<String>) -> App {
///     let mut app = my_app::app();
///     if let Some(max) = vars("MAX_PAYLOAD").and_then(|v| v.parse().ok()) {
///         app.config.engine.max_payload = max;
///     }
///     app
/// }
///
/// sio_cloudflare::worker!(vars => app);
/// ```
///
/// Both examples are `ignore` because the Worker code builds only for wasm32; the second
/// form is what `tests/apps/worker` compiles.
///
/// Call it once, at the root of a `cdylib` crate that depends on `worker` (the version
/// `sio-cloudflare` uses), whose macros this expands to.
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
