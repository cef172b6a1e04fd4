//! Compile mpcw chain plugin crates to WebAssembly components.
//!
//! A plugin crate is an ordinary Rust `cdylib` that depends on `mpcw-plugin-sdk`. This crate runs
//! `cargo build --release --target wasm32-unknown-unknown` for it, then wraps the core module in
//! a component with `wit-component`, using the component type the SDK embeds. The host's build
//! script uses it so that plugins are built by the normal `cargo build`; plugin authors can call
//! it from their own build tooling or use `mpcw plugin build`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The target plugins are compiled for. It has no WASI: a plugin gets no files, clock or network.
pub const TARGET: &str = "wasm32-unknown-unknown";

/// What can go wrong while building a plugin.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// Cargo could not be started.
    #[error("could not run cargo: {0}")]
    Spawn(std::io::Error),
    /// Cargo ran and failed; its output says why.
    #[error("cargo build of {packages} failed:\n{stderr}")]
    Cargo {
        /// The packages that were being built.
        packages: String,
        /// What cargo printed.
        stderr: String,
    },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The core module could not be turned into a component (usually: it does not export the
    /// `mpcw:chain` world, or it imports something).
    #[error("{name}: not a valid plugin module: {message}")]
    Componentize {
        /// The plugin package.
        name: String,
        /// What wit-component said.
        message: String,
    },
}

/// A plugin package to build.
#[derive(Debug, Clone)]
pub struct PluginCrate {
    /// Cargo package name, e.g. `mpcw-plugin-ethereum`.
    pub package: String,
    /// The crate directory (watched for changes by build scripts).
    pub dir: PathBuf,
}

/// The plugin crates in `dir`: every sub-directory with a `Cargo.toml`, whose package is named
/// `<prefix><directory name>` (the layout of the workspace's `plugins/`).
pub fn discover(dir: &Path, prefix: &str) -> Result<Vec<PluginCrate>, BuildError> {
    let io = |source| BuildError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let path = entry.path();
        if path.join("Cargo.toml").is_file() {
            let name = entry.file_name().to_string_lossy().into_owned();
            found.push(PluginCrate {
                package: format!("{prefix}{name}"),
                dir: path,
            });
        }
    }
    found.sort_by(|a, b| a.package.cmp(&b.package));
    Ok(found)
}

/// Build `plugins` of the workspace at `manifest` into `target_dir`, and write one component per
/// plugin to `out_dir/<package>.wasm`. Returns the component paths in the order given.
pub fn build(
    manifest: &Path,
    plugins: &[PluginCrate],
    target_dir: &Path,
    out_dir: &Path,
) -> Result<Vec<PathBuf>, BuildError> {
    if plugins.is_empty() {
        return Ok(Vec::new());
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.arg("build")
        .arg("--release")
        .arg("--target")
        .arg(TARGET)
        .arg("--manifest-path")
        .arg(manifest)
        .arg("--target-dir")
        .arg(target_dir);
    for p in plugins {
        cmd.arg("-p").arg(&p.package);
    }
    // Settings an outer cargo passes to build scripts that must not leak into this build:
    // flags and wrappers meant for the host target (clippy's among them).
    for var in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_BUILD_TARGET",
        "CARGO_TARGET_DIR",
        "CARGO_PRIMARY_PACKAGE",
    ] {
        cmd.env_remove(var);
    }
    let packages = plugins
        .iter()
        .map(|p| p.package.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let output = cmd.output().map_err(BuildError::Spawn)?;
    if !output.status.success() {
        return Err(BuildError::Cargo {
            packages,
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        });
    }
    std::fs::create_dir_all(out_dir).map_err(|source| BuildError::Io {
        path: out_dir.to_path_buf(),
        source,
    })?;
    let mut outputs = Vec::new();
    for p in plugins {
        let module_path = target_dir
            .join(TARGET)
            .join("release")
            .join(format!("{}.wasm", p.package.replace('-', "_")));
        let module = std::fs::read(&module_path).map_err(|source| BuildError::Io {
            path: module_path.clone(),
            source,
        })?;
        let component = componentize(&p.package, &module)?;
        let out = out_dir.join(format!("{}.wasm", p.package));
        std::fs::write(&out, component).map_err(|source| BuildError::Io {
            path: out.clone(),
            source,
        })?;
        outputs.push(out);
    }
    Ok(outputs)
}

/// Wrap a core wasm module built with the SDK into a component.
pub fn componentize(name: &str, module: &[u8]) -> Result<Vec<u8>, BuildError> {
    let err = |message: String| BuildError::Componentize {
        name: name.to_string(),
        message,
    };
    wit_component::ComponentEncoder::default()
        .module(module)
        .map_err(|e| err(format!("{e:#}")))?
        .validate(true)
        .encode()
        .map_err(|e| err(format!("{e:#}")))
}
