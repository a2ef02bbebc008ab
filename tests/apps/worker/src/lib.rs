//! The Worker of the tests: the application `SIO_APP` names (tests/edge/serve.mjs sets it).
#![cfg(target_arch = "wasm32")]

sio_cloudflare::worker!(vars => sio_test_apps::from_vars);
