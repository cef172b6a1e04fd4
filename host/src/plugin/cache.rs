//! The compiled-code cache: a plugin compiled once is loaded from disk on the next start.
//!
//! An entry is named by the SHA-256 of the component and a hash of everything in the engine that
//! affects compiled code (wasmtime version, target, settings), so a new plugin version or a new
//! host binary never reuses stale code. The file holds the SHA-256 of the compiled bytes followed
//! by the bytes; a torn or corrupted file fails that check and is recompiled. The directory must
//! be as trusted as the binary itself: loading compiled code runs it natively.

use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};
use wasmtime::component::Component;
use wasmtime::Engine;

use super::Error;

/// A directory of compiled plugins.
#[derive(Debug, Clone)]
pub struct CodeCache {
    dir: PathBuf,
    engine_key: String,
}

impl CodeCache {
    /// A cache in `dir` (created when needed) for code compiled by `engine`.
    pub fn new(dir: impl Into<PathBuf>, engine: &Engine) -> Self {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        CodeCache {
            dir: dir.into(),
            engine_key: format!("{:016x}", hasher.finish()),
        }
    }

    /// The cache directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, component_sha256: &str) -> PathBuf {
        self.dir
            .join(format!("{component_sha256}-{}.cwasm", self.engine_key))
    }

    /// The cached compiled code of the component with this hash, if there is a sound entry.
    pub fn get(&self, engine: &Engine, component_sha256: &str) -> Option<Component> {
        let bytes = std::fs::read(self.path(component_sha256)).ok()?;
        if bytes.len() < 32 {
            return None;
        }
        let (digest, code) = bytes.split_at(32);
        if Sha256::digest(code).as_slice() != digest {
            return None;
        }
        // SAFETY: `code` was produced by `Component::serialize` of an engine with the same
        // compatibility hash (the file name says so) and is intact (its digest matches); the
        // cache directory is trusted like the binary (see the module documentation).
        unsafe { Component::deserialize(engine, code) }.ok()
    }

    /// Store compiled code; written to a temporary file and renamed, so readers never see half
    /// a file.
    pub fn put(&self, component_sha256: &str, component: &Component) -> Result<(), Error> {
        let code = component
            .serialize()
            .map_err(|e| Error::Engine(format!("serializing compiled code: {e:#}")))?;
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| Error::Io { path, source }
        };
        std::fs::create_dir_all(&self.dir).map_err(io(&self.dir))?;
        let path = self.path(component_sha256);
        // Unique per writer (process and call), so that two hosts or two threads storing the
        // same entry never write into one temporary file.
        static WRITES: AtomicU64 = AtomicU64::new(0);
        let tmp = path.with_extension(format!(
            "tmp{}-{}",
            std::process::id(),
            WRITES.fetch_add(1, Ordering::Relaxed)
        ));
        let mut file = std::fs::File::create(&tmp).map_err(io(&tmp))?;
        file.write_all(&Sha256::digest(&code))
            .and_then(|_| file.write_all(&code))
            .and_then(|_| file.sync_all())
            .map_err(io(&tmp))?;
        std::fs::rename(&tmp, &path).map_err(io(&path))
    }
}
