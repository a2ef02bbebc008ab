//! The conformance app of ../shared/CONFORMANCE.md: the Engine.IO and Socket.IO protocol
//! suites on `--port` (3000), the socket.io-client suite on `--client-port` (3210).

use sio_server::Server;
use sio_test_apps::cli::port_flag;
use sio_test_apps::conformance;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    sio_server::init_tracing();
    let protocol = Server::new(conformance::engine_app()).also(conformance::protocol_app());
    let protocol = protocol.bind(([127, 0, 0, 1], port_flag("--port", 3000)).into()).await?;
    println!("listening on http://{}", protocol.local_addr()?);
    let client = Server::new(conformance::client_app());
    let client = client.bind(([127, 0, 0, 1], port_flag("--client-port", 3210)).into()).await?;
    println!("listening on http://{}", client.local_addr()?);
    tokio::try_join!(protocol.serve(), client.serve())?;
    Ok(())
}
