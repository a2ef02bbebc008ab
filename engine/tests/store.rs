//! The store suite against the in-memory backend.

use sio_engine::MemoryStore;

#[tokio::test]
async fn memory_store() {
    sio_engine::suite::run(|| async { MemoryStore::new() }).await;
}
