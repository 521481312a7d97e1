//! `manabi serve --bind ADDR`: host this machine's device for clients that train with
//! `--device remote://HOST:PORT` (Burn's remote backend over WebSocket).

use std::io::Write;

use anyhow::Result;
use clap::Args;

use super::Common;

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on, HOST:PORT (0.0.0.0 for every interface; port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:3000")]
    bind: String,
    /// A shared secret clients must present (they read MANABI_REMOTE_TOKEN too). The transport
    /// is unencrypted: use it on trusted networks only.
    #[arg(long, env = "MANABI_REMOTE_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// `--device` names the device served (cpu, or a GPU in a vulkan/wgpu build).
    #[command(flatten)]
    common: Common,
}

pub fn run(args: ServeArgs) -> Result<()> {
    if args.common.device.starts_with(manabi::remote::SCHEME) {
        anyhow::bail!("a server hosts a local device: --device cpu, vulkan[:N] or wgpu[:N]");
    }
    let device = args.common.device()?;
    let server = manabi::remote::Server::bind(&args.bind, device, args.token.clone())?;
    let address = server.address()?;
    // The first line is what scripts (and the loopback test) read to find the port. Write
    // errors are ignored: a reader that stops listening must not stop the server.
    let mut out = std::io::stdout();
    let _ = writeln!(out, "manabi server listening on {address}");
    let _ = writeln!(
        out,
        "train through it with --device remote://{address}{}; Ctrl+C stops it",
        if args.token.is_some() {
            " and the same MANABI_REMOTE_TOKEN"
        } else {
            ""
        }
    );
    let _ = out.flush();
    server.serve()?;
    Ok(())
}
