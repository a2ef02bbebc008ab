//! The store suite against a real `redis-server`, and what only Redis can get wrong.

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use sio_engine::suite::session;
use sio_engine::{Store, StoreError};
use sio_redis::{RedisConfig, RedisStore};

/// A `redis-server` of the test's own on a free loopback port, stopped when dropped.
struct RedisServer {
    child: Child,
    url: String,
}

impl RedisServer {
    fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server (Debian package redis-server; tests/run.sh installs it)");
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Self { child, url: format!("redis://127.0.0.1:{port}/") }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn redis_store() {
    let server = RedisServer::start();
    let next = AtomicUsize::new(0);
    sio_engine::suite::run(|| {
        let config = RedisConfig {
            prefix: format!("test{}:", next.fetch_add(1, Ordering::Relaxed)),
            ..RedisConfig::new(server.url.clone())
        };
        async move { RedisStore::connect(config).await.expect("connect to the test's redis-server") }
    })
    .await;
}

/// The store needs no more than an ACL user confined to its key prefix: every key it
/// reads or writes, those its scripts touch included, is under the prefix, and no admin or
/// keyspace-wide command is used. The user and password come from the URL.
#[tokio::test]
async fn redis_store_as_an_acl_user_confined_to_its_prefix() {
    let server = RedisServer::start();
    let admin = redis::Client::open(server.url.as_str()).unwrap();
    let mut admin = admin.get_multiplexed_async_connection().await.unwrap();
    let _: () = redis::cmd("ACL")
        .arg(&["SETUSER", "app", "on", ">app-secret", "resetkeys", "~sio:app:*", "+@all", "-@admin", "-@dangerous"])
        .query_async(&mut admin)
        .await
        .unwrap();
    let confined = server.url.replace("redis://", "redis://app:app-secret@");
    let next = AtomicUsize::new(0);
    sio_engine::suite::run(|| {
        let config = RedisConfig {
            prefix: format!("sio:app:{}:", next.fetch_add(1, Ordering::Relaxed)),
            ..RedisConfig::new(confined.clone())
        };
        async move { RedisStore::connect(config).await.expect("connect as the ACL user") }
    })
    .await;
    // The ACL holds: outside the prefix, the user is refused.
    let outside = RedisConfig { prefix: "elsewhere:".into(), ..RedisConfig::new(confined) };
    let store = RedisStore::connect(outside).await.unwrap();
    let refused = store.insert_session(session("s1")).await.unwrap_err();
    assert!(matches!(refused, StoreError::Unavailable(ref e) if e.to_lowercase().contains("noperm")), "{refused}");
}

#[tokio::test]
async fn redis_rejects_corrupt_records_for_that_session_only() {
    let server = RedisServer::start();
    let config = RedisConfig { prefix: "corrupt:".into(), ..RedisConfig::new(server.url.clone()) };
    let store = RedisStore::connect(config).await.unwrap();
    let client = redis::Client::open(server.url.as_str()).unwrap();
    let mut raw = client.get_multiplexed_async_connection().await.unwrap();
    let _: () = redis::cmd("SET").arg("corrupt:s:bad").arg("{not json").query_async(&mut raw).await.unwrap();
    store.insert_session(session("good")).await.unwrap();
    let err = store.update_session("bad", |_| ()).await.unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { ref key, .. } if key == "corrupt:s:bad"), "{err}");
    assert_eq!(store.update_session("good", |_| 1).await.unwrap(), Some(1));
}
