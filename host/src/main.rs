//! `mpcw`: the mpcw command-line tool.
//!
//! - `mpcw demo` walks a wallet's whole life (key generation, signing on each scheme, a lost
//!   device, recovery by resharing) with every party simulated locally, verifying each signature
//!   with an independent implementation;
//! - `mpcw plugins` loads the chain plugins into the sandbox and lists them with the networks;
//! - `mpcw serve` runs the signing server (HTTP API, storage, the server's party);
//! - `mpcw device …` is the user's device as a party, talking to a server;
//! - `mpcw dapp new` registers a Dapp (its API secret and configuration entry).

mod dapp_cmd;
mod demo;
mod demo_http;
mod device_cmd;
mod plugins_cmd;
mod serve_cmd;

use clap::{Parser, Subcommand};

/// mpcw: threshold-signature (MPC) wallet engine.
#[derive(Parser)]
#[command(version, about = "mpcw: threshold-signature (MPC) wallet tool", long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Walk a 2-of-3 wallet through key generation, signing, a lost device and its recovery,
    /// with all three parties (device, server, recovery) in this process.
    Demo(demo::DemoArgs),
    /// Load the chain plugins into the sandbox and list them, with their hashes, versions and
    /// the networks of the registry.
    Plugins(plugins_cmd::PluginsArgs),
    /// Run the signing server: the HTTP API under /v1 on 127.0.0.1:8420, an embedded SQLite
    /// database in ./mpcw-data, and the built-in plugins.
    Serve(serve_cmd::ServeArgs),
    /// Act as the user's device: log in, create a wallet with the server, list addresses, sign,
    /// refresh the shares, recover from a lost device.
    Device(device_cmd::DeviceArgs),
    /// Register Dapps: make a Dapp's API secret and its configuration entry.
    Dapp(dapp_cmd::DappArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // The server logs what it does; the other commands print their own steps and log only
    // warnings (RUST_LOG overrides either).
    let default_filter = match cli.command {
        Command::Serve(_) => "info",
        _ => "warn",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter)),
        )
        .with_writer(std::io::stderr)
        .init();
    match cli.command {
        Command::Demo(args) => demo::run(args),
        Command::Plugins(args) => plugins_cmd::run(args),
        Command::Serve(args) => serve_cmd::run(args),
        Command::Device(args) => device_cmd::run(args),
        Command::Dapp(args) => dapp_cmd::run(args),
    }
}
