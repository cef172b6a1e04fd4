//! `mpcw`: the mpcw command-line tool.
//!
//! - `mpcw demo` walks a wallet's whole life (key generation, signing on each scheme, a lost
//!   device, recovery by resharing) with every party simulated locally, verifying each signature
//!   with an independent implementation;
//! - `mpcw plugins` loads the chain plugins into the sandbox and lists them with the networks.

mod demo;
mod plugins_cmd;

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
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Demo(args) => demo::run(args),
        Command::Plugins(args) => plugins_cmd::run(args),
    }
}
