//! `mpcw plugins`: load the chain plugins as the server would and list them with the networks
//! they serve.

use std::path::PathBuf;

use anyhow::Context as _;
use mpcw_host::chains::Registry;
use mpcw_host::plugin::{Limits, Runtime};

/// Options of `mpcw plugins`.
#[derive(clap::Args)]
pub struct PluginsArgs {
    /// Also load every `*.wasm` plugin component in this directory (it replaces a built-in
    /// plugin of the same name).
    #[arg(long, env = "MPCW_PLUGIN_DIR")]
    plugin_dir: Option<PathBuf>,
    /// Also load every `*.toml` network file in this directory.
    #[arg(long, env = "MPCW_CHAINS_DIR")]
    chains_dir: Option<PathBuf>,
    /// Where compiled plugin code is cached, so the next start does not recompile.
    #[arg(
        long,
        env = "MPCW_PLUGIN_CACHE",
        default_value = "mpcw-data/plugin-cache"
    )]
    cache_dir: PathBuf,
}

/// List the loaded plugins (name, version, hash, where from, load time) and the networks.
pub fn run(args: PluginsArgs) -> anyhow::Result<()> {
    let runtime = Runtime::new(Limits::default(), Some(args.cache_dir.clone()))?;
    let mut records = runtime.load_builtin().context("loading built-in plugins")?;
    if let Some(dir) = &args.plugin_dir {
        records.extend(
            runtime
                .load_dir(dir)
                .context("loading the plugin directory")?,
        );
    }
    let mut registry = Registry::builtin()?;
    if let Some(dir) = &args.chains_dir {
        registry.load_dir(dir)?;
    }
    println!(
        "Plugins (compiled code cached in {}):",
        args.cache_dir.display()
    );
    for r in &records {
        println!(
            "  {:<12} {:<8} {:<6} sha256 {}  {:>7} KiB  {:>8.1} ms {:<8} {}",
            r.name,
            r.version,
            r.family,
            &r.sha256[..16],
            r.size / 1024,
            r.load_time.as_secs_f64() * 1000.0,
            if r.cached { "(cache)" } else { "(compile)" },
            r.source
        );
    }
    println!("Networks:");
    for n in registry.iter() {
        let served = runtime.plugin(&n.plugin).is_ok();
        println!(
            "  {:<24} {:<24} chain id {:<10} {:<4} plugin {}{}",
            n.id,
            n.name,
            n.chain_id.map_or("-".into(), |c| c.to_string()),
            n.symbol,
            n.plugin,
            if served { "" } else { " (NOT LOADED)" }
        );
    }
    Ok(())
}
