//! Thread-safety bounds that depend on the target: `Send` where the target has threads,
//! nothing where it does not.
//!
//! This module is for runtime authors: the native, Cloudflare and Lambda runtimes, and the
//! stores they plug in, use these names in their own bounds. An application does not need
//! it; it meets [`MaybeSend`] only as a bound on the handlers it passes to the API.
//!
//! Handlers must compile for the native runtime (a multi-threaded tokio, futures must be
//! `Send`) and for wasm (workers-rs futures hold `JsValue`s and are never `Send`). The
//! bound is chosen once here, per target, and the application API uses only these names.

use std::future::Future;
use std::pin::Pin;

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    /// `Send` on this target, which has threads. Implemented for every `Send` type.
    pub trait MaybeSend: Send {}
    impl<T: Send + ?Sized> MaybeSend for T {}
    /// `Sync` on this target, which has threads. Implemented for every `Sync` type.
    pub trait MaybeSync: Sync {}
    impl<T: Sync + ?Sized> MaybeSync for T {}
    /// A boxed, pinned future that is `Send` on this target.
    pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;
}

#[cfg(target_arch = "wasm32")]
mod imp {
    /// No bound on wasm, which has one thread. Implemented for every type.
    pub trait MaybeSend {}
    impl<T: ?Sized> MaybeSend for T {}
    /// No bound on wasm, which has one thread. Implemented for every type.
    pub trait MaybeSync {}
    impl<T: ?Sized> MaybeSync for T {}
    /// A boxed, pinned future; not `Send` on wasm, so that it may hold `JsValue`s.
    pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + 'a>>;
}

pub use imp::{BoxFuture, MaybeSend, MaybeSync};

/// Boxes a future into the target's [`BoxFuture`].
pub fn boxed<'a, F>(future: F) -> BoxFuture<'a, F::Output>
where
    F: Future + MaybeSend + 'a,
{
    let pinned: Pin<Box<F>> = Box::pin(future);
    pinned
}
