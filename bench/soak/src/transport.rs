//! What the behaviour loop needs from a connection, whichever the transport.

use crate::error::Error;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpStream;

/// An established Socket.IO session on "/". Engine.IO pings are answered inside, so the
/// behaviour loop only sees Engine.IO message packets (`4...`) and closes.
pub(crate) trait Transport: Sized {
    /// Next packet from the server. Must be cancel-safe: the loop selects it against timers.
    async fn recv(&mut self) -> Result<String, Error>;
    /// Queue or write one packet.
    async fn send(&mut self, packet: String) -> Result<(), Error>;
    /// Go away the way a crashed or unplugged client does: no Engine.IO close packet, just
    /// the socket closed (with an RST if it was opened with `reset_on_drop`).
    fn drop_abruptly(self);
    /// End politely: Socket.IO disconnect and Engine.IO close, as a real client does.
    async fn close(self);
}

/// TCP connect to the server. `reset_on_drop` sets SO_LINGER 0 now, because only then is the
/// stream ours: once hyper or tungstenite own it, dropping it is the only lever left, and
/// with linger 0 that drop sends an RST instead of a FIN.
pub async fn tcp(addr: SocketAddr, reset_on_drop: bool) -> Result<TcpStream, Error> {
    let tcp = TcpStream::connect(addr).await.map_err(Error::Connect)?;
    tcp.set_nodelay(true).map_err(Error::Connect)?;
    if reset_on_drop {
        socket2::SockRef::from(&tcp).set_linger(Some(Duration::ZERO)).map_err(Error::Connect)?;
    }
    Ok(tcp)
}
