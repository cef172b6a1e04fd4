//! `mpcw`: the mpcw command-line tool.
//!
//! This first version drives the engine in one process: `mpcw demo` walks a wallet's whole life
//! (key generation, signing on each scheme, a lost device, recovery by resharing) with every party
//! simulated locally, verifying each signature with an independent implementation.

mod demo;

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
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Demo(args) => demo::run(args),
    }
}
