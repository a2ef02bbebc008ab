//! `Send` where the target has threads, nothing where it does not.
//!
//! Handlers must compile for the native runtime (a multi-threaded tokio, futures must be
//! `Send`) and for wasm (workers-rs futures hold `JsValue`s and are never `Send`). The
//! bound is chosen once here, per target, and the application API uses only these names.

use std::future::Future;
use std::pin::Pin;

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    pub trait MaybeSend: Send {}
    impl<T: Send + ?Sized> MaybeSend for T {}
    pub trait MaybeSync: Sync {}
    impl<T: Sync + ?Sized> MaybeSync for T {}
    pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;
}

#[cfg(target_arch = "wasm32")]
mod imp {
    pub trait MaybeSend {}
    impl<T: ?Sized> MaybeSend for T {}
    pub trait MaybeSync {}
    impl<T: ?Sized> MaybeSync for T {}
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
