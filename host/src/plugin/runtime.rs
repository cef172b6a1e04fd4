//! Loading plugins and calling them inside the sandbox.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, RwLock};
use std::time::{Duration, Instant};

use serde::Serialize;
use sha2::{Digest, Sha256};
use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, Trap};

use super::bindings::{Plugin, PluginPre};
use super::limits::{CallLimiter, MAX_CORE_INSTANCES, MAX_MEMORIES, MAX_TABLES};
use super::{validate, wit, CodeCache, Error, Limits};

/// Where a plugin came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PluginSource {
    /// Built into the binary from the workspace's `plugins/`, by package name.
    Builtin(String),
    /// A component file from the plugin directory.
    File(PathBuf),
}

impl std::fmt::Display for PluginSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PluginSource::Builtin(name) => write!(f, "built-in {name}"),
            PluginSource::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// What the host records about a loaded plugin.
#[derive(Debug, Clone, Serialize)]
pub struct PluginRecord {
    /// The plugin's name (from `info()`).
    pub name: String,
    /// The plugin's version (from `info()`).
    pub version: String,
    /// The chain family.
    pub family: String,
    /// The schemes its payloads use.
    pub schemes: Vec<wit::Scheme>,
    /// The networks it knows by itself.
    pub networks: Vec<String>,
    /// SHA-256 of the component, hex.
    pub sha256: String,
    /// Size of the component in bytes.
    pub size: usize,
    /// Where it came from.
    pub source: PluginSource,
    /// Whether the compiled code came from the cache.
    pub cached: bool,
    /// How long loading took (compiling or reading the cache, then instantiating).
    pub load_time: Duration,
}

/// A loaded plugin, ready to be instantiated for a call.
struct Loaded {
    record: PluginRecord,
    pre: PluginPre<CallLimiter>,
}

/// The plugin runtime: one compiler and code cache, the loaded plugins, and the limits of every
/// call. It is `Send + Sync`; calls from many threads run in parallel, each in its own store.
///
/// Instances come from wasmtime's pooling allocator: memories and tables are reserved once, for
/// `limits.concurrent_calls` instances, and a slot is wiped (its memory reset to the module's
/// initial image, copy-on-write) after its call ends and before it is used again, so a call
/// costs no `mmap` and sees nothing of the calls before it.
pub struct Runtime {
    engine: Engine,
    linker: Linker<CallLimiter>,
    limits: Limits,
    cache: Option<CodeCache>,
    plugins: RwLock<BTreeMap<String, Arc<Loaded>>>,
    slots: Slots,
}

/// Used instance slots wiped together.
const DECOMMIT_BATCH: usize = 16;

/// Free instance slots: a call takes one for its whole length, so the pool is never exhausted.
struct Slots {
    free: Mutex<usize>,
    freed: Condvar,
}

impl Slots {
    fn take(&self) -> SlotGuard<'_> {
        let mut free = self.free.lock().unwrap_or_else(|p| p.into_inner());
        while *free == 0 {
            free = self.freed.wait(free).unwrap_or_else(|p| p.into_inner());
        }
        *free -= 1;
        SlotGuard(self)
    }
}

struct SlotGuard<'a>(&'a Slots);

impl Drop for SlotGuard<'_> {
    fn drop(&mut self) {
        *self.0.free.lock().unwrap_or_else(|p| p.into_inner()) += 1;
        self.0.freed.notify_one();
    }
}

impl Runtime {
    /// A runtime with `limits` on every call, caching compiled code in `cache_dir` if given.
    pub fn new(limits: Limits, cache_dir: Option<PathBuf>) -> Result<Self, Error> {
        let calls = limits.concurrent_calls.max(1);
        let count = |per_call: u32| {
            u32::try_from(calls)
                .unwrap_or(u32::MAX)
                .saturating_mul(per_call)
        };
        let mut pool = PoolingAllocationConfig::new();
        pool.total_component_instances(count(1))
            .total_core_instances(count(MAX_CORE_INSTANCES))
            .max_core_instances_per_component(MAX_CORE_INSTANCES)
            .total_memories(count(MAX_MEMORIES))
            .max_memories_per_component(MAX_MEMORIES)
            .max_memories_per_module(MAX_MEMORIES)
            .max_memory_size(limits.memory_bytes)
            .total_tables(count(MAX_TABLES))
            .max_tables_per_component(MAX_TABLES)
            .max_tables_per_module(MAX_TABLES)
            .table_elements(limits.table_elements)
            // A used slot is wiped (its pages given back with `madvise`) in batches: each wipe
            // costs every core a TLB flush, most of a call's time when done one by one. A slot
            // waiting in a batch is not handed out; when none is free, the batch is wiped first.
            .decommit_batch_size(DECOMMIT_BATCH);
        let mut config = Config::new();
        config
            .wasm_component_model(true)
            .consume_fuel(true)
            .max_wasm_stack(limits.stack_bytes)
            .cranelift_opt_level(wasmtime::OptLevel::Speed)
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let engine = Engine::new(&config).map_err(|e| Error::Engine(format!("{e:#}")))?;
        // The world imports nothing: a plugin gets no host functions at all, so no files, no
        // network, no clock and no randomness.
        let linker = Linker::new(&engine);
        let cache = cache_dir.map(|dir| CodeCache::new(dir, &engine));
        Ok(Runtime {
            engine,
            linker,
            limits,
            cache,
            plugins: RwLock::new(BTreeMap::new()),
            slots: Slots {
                free: Mutex::new(calls),
                freed: Condvar::new(),
            },
        })
    }

    /// The limits every call runs under.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Load the plugins built into the binary.
    pub fn load_builtin(&self) -> Result<Vec<PluginRecord>, Error> {
        crate::builtin::PLUGINS
            .iter()
            .map(|(name, bytes)| self.load(PluginSource::Builtin(name.to_string()), bytes))
            .collect()
    }

    /// Load every `*.wasm` component in `dir`. A plugin with the name of one already loaded
    /// replaces it, so an operator can upgrade a built-in plugin without a new binary.
    pub fn load_dir(&self, dir: &Path) -> Result<Vec<PluginRecord>, Error> {
        let io = |source| Error::Io {
            path: dir.to_path_buf(),
            source,
        };
        let mut files = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(io)? {
            let path = entry.map_err(io)?.path();
            if path.extension().is_some_and(|x| x == "wasm") {
                files.push(path);
            }
        }
        files.sort();
        files
            .into_iter()
            .map(|path| {
                let bytes = std::fs::read(&path).map_err(|source| Error::Io {
                    path: path.clone(),
                    source,
                })?;
                self.load(PluginSource::File(path), &bytes)
            })
            .collect()
    }

    /// Compile (or fetch from the cache) and check one component, then register it under the
    /// name its `info()` gives.
    pub fn load(&self, source: PluginSource, bytes: &[u8]) -> Result<PluginRecord, Error> {
        let started = Instant::now();
        let sha256 = hex::encode(Sha256::digest(bytes));
        let load_err = |message: String| Error::Load {
            source_name: source.to_string(),
            message,
        };
        let cached = self
            .cache
            .as_ref()
            .and_then(|c| c.get(&self.engine, &sha256));
        let (component, from_cache) = match cached {
            Some(component) => (component, true),
            None => {
                let component =
                    Component::new(&self.engine, bytes).map_err(|e| load_err(format!("{e:#}")))?;
                if let Some(cache) = &self.cache {
                    cache.put(&sha256, &component)?;
                }
                (component, false)
            }
        };
        let instance_pre = self
            .linker
            .instantiate_pre(&component)
            .map_err(|e| load_err(format!("{e:#}")))?;
        let pre = PluginPre::new(instance_pre).map_err(|e| load_err(format!("{e:#}")))?;
        let label = source.to_string();
        let info = self.run(&pre, &label, "info", |p, store| {
            p.mpcw_chain_chain().call_info(store)
        })?;
        validate::info(&info).map_err(|message| Error::BadOutput {
            plugin: label.clone(),
            call: "info",
            message,
        })?;
        let record = PluginRecord {
            name: info.name,
            version: info.version,
            family: info.family,
            schemes: info.schemes,
            networks: info.networks,
            sha256,
            size: bytes.len(),
            source,
            cached: from_cache,
            load_time: started.elapsed(),
        };
        let loaded = Arc::new(Loaded {
            record: record.clone(),
            pre,
        });
        self.plugins
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(record.name.clone(), loaded);
        Ok(record)
    }

    /// The loaded plugins, by name.
    pub fn plugins(&self) -> Vec<PluginRecord> {
        self.plugins
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .values()
            .map(|l| l.record.clone())
            .collect()
    }

    /// The record of the plugin called `name`.
    pub fn plugin(&self, name: &str) -> Result<PluginRecord, Error> {
        Ok(self.get(name)?.record.clone())
    }

    /// Ask the plugin called `name` for its `info()` again. The call does no work of its own,
    /// so its time is the sandbox's cost per call (a store, an instance, a call and its answer).
    pub fn info(&self, name: &str) -> Result<wit::PluginInfo, Error> {
        let loaded = self.get(name)?;
        self.run(&loaded.pre, name, "info", |p, store| {
            p.mpcw_chain_chain().call_info(store)
        })
    }

    fn get(&self, name: &str) -> Result<Arc<Loaded>, Error> {
        self.plugins
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(name)
            .cloned()
            .ok_or_else(|| Error::NotFound(name.to_string()))
    }

    /// Run `f` against a fresh instance in a fresh store with the call limits, and turn every
    /// way it can fail into an [`Error`].
    fn run<R>(
        &self,
        pre: &PluginPre<CallLimiter>,
        plugin: &str,
        call: &'static str,
        f: impl FnOnce(&Plugin, &mut Store<CallLimiter>) -> wasmtime::Result<R>,
    ) -> Result<R, Error> {
        let _slot = self.slots.take();
        let mut store = Store::new(&self.engine, CallLimiter::new(&self.limits));
        store.limiter(|limiter| limiter);
        store
            .set_fuel(self.limits.fuel)
            .map_err(|e| Error::Engine(format!("{e:#}")))?;
        let result = pre
            .instantiate(&mut store)
            .and_then(|instance| f(&instance, &mut store));
        result.map_err(|e| self.classify(e, store.data(), plugin, call))
    }

    fn classify(
        &self,
        err: wasmtime::Error,
        limiter: &CallLimiter,
        plugin: &str,
        call: &'static str,
    ) -> Error {
        let plugin = plugin.to_string();
        if let Some(requested) = limiter.refused_memory {
            return Error::MemoryLimit {
                plugin,
                call,
                requested,
                limit: self.limits.memory_bytes,
            };
        }
        match err.downcast_ref::<Trap>() {
            Some(Trap::OutOfFuel) => Error::OutOfFuel {
                plugin,
                call,
                fuel: self.limits.fuel,
            },
            Some(Trap::StackOverflow) => Error::StackOverflow { plugin, call },
            // The trap itself, without the wasm backtrace the error carries as context.
            Some(trap) => Error::Trap {
                plugin,
                call,
                message: trap.to_string(),
            },
            None => Error::Trap {
                plugin,
                call,
                message: err.to_string(),
            },
        }
    }

    /// Call a plugin function that returns `result<T, plugin-error>` and check its output.
    fn call<T>(
        &self,
        plugin: &str,
        call: &'static str,
        f: impl FnOnce(
            &Plugin,
            &mut Store<CallLimiter>,
        ) -> wasmtime::Result<Result<T, wit::PluginError>>,
        check: impl FnOnce(&T) -> Result<(), String>,
    ) -> Result<T, Error> {
        let loaded = self.get(plugin)?;
        let value = self
            .run(&loaded.pre, plugin, call, f)?
            .map_err(|e| Error::Rejected {
                plugin: plugin.to_string(),
                call,
                code: e.code,
                message: e.message.chars().take(validate::MAX_TEXT).collect(),
            })?;
        check(&value).map_err(|message| Error::BadOutput {
            plugin: plugin.to_string(),
            call,
            message,
        })?;
        Ok(value)
    }

    /// The addresses of `key` on `network`, by the plugin called `plugin`.
    pub fn addresses(
        &self,
        plugin: &str,
        key: &wit::PublicKey,
        network: &wit::Network,
    ) -> Result<Vec<wit::Address>, Error> {
        self.call(
            plugin,
            "addresses",
            |p, s| p.mpcw_chain_chain().call_addresses(s, key, network),
            |a| validate::addresses(a),
        )
    }

    /// Whether `request` is one the plugin called `plugin` can prepare on `network`, as far as
    /// it can tell without a key.
    pub fn validate(
        &self,
        plugin: &str,
        request: &str,
        network: &wit::Network,
    ) -> Result<(), Error> {
        self.call(
            plugin,
            "validate",
            |p, s| p.mpcw_chain_chain().call_validate(s, request, network),
            |_| Ok(()),
        )
    }

    /// What `key` must sign for `request` on `network`, and the summary to confirm.
    pub fn prepare(
        &self,
        plugin: &str,
        request: &str,
        key: &wit::PublicKey,
        network: &wit::Network,
    ) -> Result<wit::Prepared, Error> {
        self.call(
            plugin,
            "prepare",
            |p, s| p.mpcw_chain_chain().call_prepare(s, request, key, network),
            |prepared| validate::prepared(prepared, key),
        )
    }

    /// The signed output of `request` from one signature per prepared payload.
    pub fn finalize(
        &self,
        plugin: &str,
        request: &str,
        key: &wit::PublicKey,
        network: &wit::Network,
        signatures: &[wit::Signature],
    ) -> Result<wit::Finalized, Error> {
        self.call(
            plugin,
            "finalize",
            |p, s| {
                p.mpcw_chain_chain()
                    .call_finalize(s, request, key, network, signatures)
            },
            validate::finalized,
        )
    }
}
