//! The conformance app of ../shared/CONFORMANCE.md: the Engine.IO and Socket.IO protocol
//! suites on `--port` (3000), the socket.io-client suite on `--client-port` (3210).

use sio_app::conformance;
use sio_state::MemoryStore;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    sio_server::init_tracing();
    let protocol = sio_server::bind(sio_server::port_flag("--port", 3000)).await?;
    let client = sio_server::bind(sio_server::port_flag("--client-port", 3210)).await?;
    let protocol_site = sio_server::Site {
        endpoints: vec![
            sio_server::endpoint(conformance::engine_app(), conformance::engine_config(), MemoryStore::new()),
            sio_server::endpoint(conformance::protocol_app(), conformance::protocol_config(), MemoryStore::new()),
        ],
        assets: &[],
    };
    let client_site = sio_server::Site {
        endpoints: vec![sio_server::endpoint(
            conformance::client_app(),
            conformance::client_config(),
            MemoryStore::new(),
        )],
        assets: &[],
    };
    tokio::try_join!(sio_server::serve(protocol, protocol_site), sio_server::serve(client, client_site))?;
    Ok(())
}
