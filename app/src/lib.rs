//! The applications, written once against the core API and compiled into every runtime:
//! the chat demo, the conformance app of ../shared/CONFORMANCE.md, the end-to-end test
//! app of tests/CONTRACT.md, and the sio-bench server.

pub mod bench;
pub mod chat;
pub mod conformance;
pub mod e2e;

/// A static file served beside the Socket.IO endpoint.
#[derive(Debug, Clone, Copy)]
pub struct Asset {
    pub path: &'static str,
    pub content_type: &'static str,
    pub body: &'static [u8],
}

/// An ISO 8601 date with milliseconds, as `JSON.stringify(new Date())` writes it.
pub fn iso_date(ms: u64) -> String {
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms);
    humantime::format_rfc3339_millis(at).to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn iso_date_matches_javascript() {
        assert_eq!(super::iso_date(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
    }
}
