//! Build the test-only plugins (`tests/plugins/*`) to components for the sandbox tests.

use std::path::{Path, PathBuf};

fn main() {
    let manifest_dir =
        PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let root = manifest_dir.parent().expect("tests lives in the workspace");
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets it"));
    for watched in ["tests/plugins", "sdk-plugin", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    let plugins = mpcw_plugin_build::discover(&manifest_dir.join("plugins"), "mpcw-plugin-")
        .unwrap_or_else(|e| panic!("finding test plugins: {e}"));
    let target = out_dir
        .ancestors()
        .find(|p| p.file_name().is_some_and(|n| n == "build"))
        .and_then(Path::parent)
        .and_then(Path::parent)
        .expect("OUT_DIR is inside a cargo target directory")
        .join("plugins");
    mpcw_plugin_build::build(&root.join("Cargo.toml"), &plugins, &target, &out_dir)
        .unwrap_or_else(|e| panic!("building test plugins: {e}"));
}
