//! The demo chat as a Cloudflare Worker. Its page is Workers static assets (wrangler.toml).
#![cfg(target_arch = "wasm32")]

sio_cloudflare::worker!(chat::app);
