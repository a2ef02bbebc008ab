//! The WebSocket transport: one TCP connection, Engine.IO packets one per text frame.

use crate::error::Error;
use crate::proto::{self, Incoming};
use crate::transport::{tcp, Transport};
use futures_util::{SinkExt, StreamExt};
use std::net::SocketAddr;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{client_async_with_config, WebSocketStream};

pub struct WsClient {
    ws: WebSocketStream<TcpStream>,
    /// A ping was read but its pong not yet written: kept across cancelled `recv`s so a
    /// timer firing at the wrong moment cannot cost a pong (and the session with it).
    pong_due: bool,
}

impl WsClient {
    /// WebSocket upgrade, Engine.IO open, Socket.IO CONNECT to "/", up to the `40{sid}` reply.
    pub async fn connect(addr: SocketAddr, reset_on_drop: bool) -> Result<Self, Error> {
        let stream = tcp(addr, reset_on_drop).await?;
        let uri = format!("ws://{addr}/socket.io/?EIO=4&transport=websocket");
        // Small buffers: 10,000 idle clients with the default 128 KiB read buffer would make
        // the driver, not the server, the memory hog on the machine.
        let cfg = WebSocketConfig::default().read_buffer_size(4096).write_buffer_size(0);
        let (ws, _) = client_async_with_config(uri, stream, Some(cfg)).await?;
        let mut client = WsClient { ws, pong_due: false };
        let open = client.recv().await?;
        if !open.starts_with('0') {
            return Err(Error::Protocol(format!("expected open, got {open:.60}")));
        }
        client.send("40".into()).await?;
        let reply = client.recv().await?;
        match proto::parse(&reply) {
            _ if reply.starts_with("40") => Ok(client),
            Incoming::ConnectError => Err(Error::Protocol(format!("connect_error {reply:.80}"))),
            _ => Err(Error::Protocol(format!("expected 40, got {reply:.60}"))),
        }
    }
}

impl Transport for WsClient {
    async fn recv(&mut self) -> Result<String, Error> {
        // Bounded by the server: each turn consumes one frame or fails.
        loop {
            if self.pong_due {
                self.ws.send(Message::text("3")).await?;
                self.pong_due = false;
            }
            match self.ws.next().await {
                Some(Ok(Message::Text(t))) if t.as_str() == "2" => self.pong_due = true,
                Some(Ok(Message::Text(t))) => return Ok(t.as_str().to_owned()),
                Some(Ok(Message::Close(_))) | None => return Err(Error::Closed),
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e.into()),
            }
        }
    }

    async fn send(&mut self, packet: String) -> Result<(), Error> {
        Ok(self.ws.send(Message::text(packet)).await?)
    }

    fn drop_abruptly(self) {
        drop(self.ws);
    }

    async fn close(mut self) {
        let _ = self.send("41".into()).await;
        let _ = self.ws.close(None).await;
    }
}
