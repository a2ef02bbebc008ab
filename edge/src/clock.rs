//! The Worker's clock: JavaScript's, the only one a Worker has.

/// Milliseconds since the Unix epoch. Workers advance it only across I/O, so a stretch of
/// computation reads one time throughout.
pub fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}
