//! The lobby as a Cloudflare Worker and its Durable Object class (wrangler.toml).

sio_cloudflare::worker!(starter::app);
