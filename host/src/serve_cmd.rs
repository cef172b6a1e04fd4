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
    /// Address the HTTP API binds (over `MPCW_LISTEN` and the file), e.g. `127.0.0.1:8420`.
    #[arg(long)]
    listen: Option<std::net::SocketAddr>,
    /// Directory of the embedded database, the generated keys and the plugin cache (over
    /// `MPCW_DATA_DIR` and the file).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// `sqlite://…` or `postgres://…` (over `MPCW_DATABASE_URL` and the file).
    #[arg(long)]
    database_url: Option<String>,
}

impl ServeArgs {
    /// The configuration: the file, then the environment, then these flags.
    fn config(self) -> anyhow::Result<Config> {
        let mut config = Config::load(self.config.as_deref())?;
        if let Some(listen) = self.listen {
            config.listen = listen;
        }
        if let Some(dir) = self.data_dir {
            config.data_dir = dir;
        }
        if let Some(url) = self.database_url {
            config.database_url = Some(url);
        }
        Ok(config)
    }
}

/// Run the server until Ctrl-C or SIGTERM.
pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    let config = args.config()?;
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
            // A SQLite URL names a file; a PostgreSQL one may hold a password.
            if c.database_kind() == "sqlite" {
                c.database_url()
            } else {
                "from database_url".into()
            }
        );
        println!(
            "  plugins: {}   networks: {}   development login: {}",
            server.state.runtime.plugins().len(),
            server.state.registry.len(),
            if c.dev_login_enabled() { "on" } else { "off" }
        );
        server.run(shutdown_signal()).await
    })
}
