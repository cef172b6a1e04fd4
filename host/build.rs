//! Build the workspace's chain plugins (`plugins/*`) to WebAssembly components and embed them,
//! with the network registry (`chains/*.toml`), so that the `mpcw` binary serves every chain
//! with no set-up. Runs as part of the normal `cargo build` / `cargo test`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let manifest_dir =
        PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let root = manifest_dir
        .parent()
        .expect("host lives in the workspace")
        .to_path_buf();
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets it"));
    for watched in ["plugins", "sdk-plugin", "chains", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }

    let plugins = mpcw_plugin_build::discover(&root.join("plugins"), "mpcw-plugin-")
        .unwrap_or_else(|e| panic!("finding plugins: {e}"));
    let components = mpcw_plugin_build::build(
        &root.join("Cargo.toml"),
        &plugins,
        &plugin_target_dir(&out_dir),
        &out_dir.join("plugins"),
    )
    .unwrap_or_else(|e| panic!("building plugins: {e}"));

    let mut src = String::from("/// Plugin components built from the workspace's `plugins/`.\n");
    src.push_str("pub const PLUGINS: &[(&str, &[u8])] = &[\n");
    for (plugin, path) in plugins.iter().zip(&components) {
        writeln!(
            src,
            "    ({:?}, include_bytes!({:?})),",
            plugin.package, path
        )
        .unwrap();
    }
    src.push_str("];\n\n/// The network registry files of the workspace's `chains/`.\n");
    src.push_str("pub const CHAINS: &[(&str, &str)] = &[\n");
    for path in chain_files(&root.join("chains")) {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        writeln!(src, "    ({name:?}, include_str!({path:?})),").unwrap();
    }
    src.push_str("];\n");
    std::fs::write(out_dir.join("builtin.rs"), src).expect("writing builtin.rs");
}

/// One directory for plugin builds shared by every profile and tool of this workspace
/// (`<target>/plugins`), so debug, release and clippy builds compile the plugins once.
fn plugin_target_dir(out_dir: &Path) -> PathBuf {
    // OUT_DIR is <target>[/<triple>]/<profile>/build/<package-hash>/out.
    let profile_dir = out_dir
        .ancestors()
        .find(|p| p.file_name().is_some_and(|n| n == "build"))
        .and_then(Path::parent)
        .expect("OUT_DIR is inside a cargo target directory");
    profile_dir.parent().unwrap_or(profile_dir).join("plugins")
}

fn chain_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("reading chains/").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
}
