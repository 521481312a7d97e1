//! Training through Burn's remote backend (feature `remote`): a server process hosts a device
//! (the Flex CPU backend, or a GPU in a build with `vulkan`/`wgpu`), and a client anywhere runs
//! its recipes on it with `--device remote://HOST:PORT`. The model, the optimiser and the
//! autodiff graph stay on the client; the server runs the tensor operations.
//!
//! The transport is Burn's WebSocket one, which is unencrypted: an optional shared token
//! (`MANABI_REMOTE_TOKEN`) keeps stray clients out on a trusted network, nothing more.

use std::net::{SocketAddr, TcpListener};

use burn::tensor::Device;
use burn::tensor::remote::RemoteHost;
use burn::tensor::server::{RemoteServer, TokenAuthorizer, WebSocketTransport};

use crate::{Error, Result};

/// The scheme of a remote device name.
pub const SCHEME: &str = "remote://";

/// `HOST:PORT` of a device name `remote://HOST:PORT`, or `None` for any other name.
pub fn remote_address(device: &str) -> Option<&str> {
    device.strip_prefix(SCHEME)
}

/// Connects to the manabi server at `address` (`HOST:PORT`) and returns its first device with
/// autodiff left to the caller. `token` must match the server's when it was started with one.
pub fn connect(address: &str, token: Option<&str>) -> Result<Device> {
    let (host, port) = address.rsplit_once(':').ok_or_else(|| {
        Error::invalid(
            "--device",
            format!(
                "'{SCHEME}{address}' needs a port: {SCHEME}HOST:PORT, e.g. {SCHEME}127.0.0.1:3000"
            ),
        )
    })?;
    if host.is_empty() || port.parse::<u16>().is_err() {
        return Err(Error::invalid(
            "--device",
            format!("'{SCHEME}{address}': expected {SCHEME}HOST:PORT with a port number"),
        ));
    }
    let mut remote = RemoteHost::websocket(&format!("ws://{address}"));
    if let Some(t) = token.filter(|t| !t.is_empty()) {
        remote = remote.with_credential(t);
    }
    Device::remote_options(&remote).init().map_err(|e| {
        Error::invalid(
            "--device",
            format!(
                "cannot reach a manabi server at {address}: {e}. Start one there with `manabi serve --bind 0.0.0.0:{port}` (and the same MANABI_REMOTE_TOKEN, if it uses one), or check the host and port"
            ),
        )
    })
}

/// A bound server socket, ready to serve `device`.
pub struct Server {
    listener: TcpListener,
    device: Device,
    token: Option<String>,
}

impl Server {
    /// Binds `bind` (`HOST:PORT`; port 0 picks a free one) for serving `device`; clients must
    /// present `token` when one is given.
    pub fn bind(bind: &str, device: Device, token: Option<String>) -> Result<Self> {
        let listener = TcpListener::bind(bind).map_err(|e| {
            Error::invalid(
                "--bind",
                format!("cannot listen on {bind}: {e} (is another server on that port?)"),
            )
        })?;
        Ok(Self {
            listener,
            device,
            token: token.filter(|t| !t.is_empty()),
        })
    }

    /// The address clients reach (the bound port when 0 was asked for).
    pub fn address(&self) -> Result<SocketAddr> {
        self.listener
            .local_addr()
            .map_err(|e| Error::invalid("--bind", format!("no local address: {e}")))
    }

    /// Serves until the process receives Ctrl+C or SIGTERM.
    pub fn serve(self) -> Result<()> {
        let mut server = RemoteServer::new([self.device]);
        if let Some(token) = self.token {
            let auth = TokenAuthorizer::new(token.as_str())
                .map_err(|e| Error::invalid("MANABI_REMOTE_TOKEN", e.to_string()))?;
            server = server.with_authorizer(auth);
        }
        server
            .serve(WebSocketTransport::from_listener(self.listener))
            .map_err(|e| Error::invalid("serve", format!("the server stopped: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_addresses_and_absent_servers_are_clear_errors() {
        let msg = connect("localhost", None).unwrap_err().to_string();
        assert!(msg.contains("needs a port"), "{msg}");
        let msg = connect("localhost:http", None).unwrap_err().to_string();
        assert!(msg.contains("port number"), "{msg}");
        // A port nothing listens on: bind one, then free it.
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let msg = connect(&format!("127.0.0.1:{port}"), None)
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("cannot reach a manabi server") && msg.contains("manabi serve"),
            "{msg}"
        );
        assert_eq!(remote_address("remote://h:1"), Some("h:1"));
        assert_eq!(remote_address("cpu"), None);
    }
}
