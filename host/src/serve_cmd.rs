//! `mpcw serve`: the signing server.

use std::path::PathBuf;

use mpcw_host::config::Config;
use mpcw_host::server::{shutdown_signal, Server};

/// Options of `mpcw serve`.
#[derive(clap::Args)]
pub struct ServeArgs {
    /// Configuration file (TOML); every key can also be set by its `MPCW_*` variable, which
    /// wins over the file. See the README for the keys.
    #[arg(long, env = "MPCW_CONFIG")]
    config: Option<PathBuf>,
}

/// Run the server until Ctrl-C or SIGTERM.
pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    let config = Config::load(args.config.as_deref())?;
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let server = Server::bind(config).await?;
        let addr = server.local_addr()?;
        let c = &server.state.config;
        println!(
            "mpcw {} serving http://{addr}/v1",
            env!("CARGO_PKG_VERSION")
        );
        println!(
            "  database: {} ({})",
            c.database_kind(),
            if c.database_kind() == "sqlite" {
                c.data_dir.join("mpcw.db").display().to_string()
            } else {
                "from MPCW_DATABASE_URL".into()
            }
        );
        println!(
            "  plugins: {}   networks: {}   development login: {}",
            server.state.runtime.plugins().len(),
            server.state.registry.len(),
            if c.dev_login { "on" } else { "off" }
        );
        server.run(shutdown_signal()).await
    })
}
