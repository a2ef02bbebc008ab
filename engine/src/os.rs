//! The clock and the random ids of a runtime on an operating system (native and Lambda
//! alike; a Worker has neither and asks JavaScript).

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// 128 random bits, URL-safe base64: what [`crate::Host::random_id`] asks for.
pub fn random_id() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        // The OS generator does not fail on the platforms these runtimes support; a
        // clock id keeps the server up if it ever does.
        bytes[..8].copy_from_slice(&now_ms().to_le_bytes());
    }
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
