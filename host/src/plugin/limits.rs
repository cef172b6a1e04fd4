//! The sandbox's limits on every plugin call.

use wasmtime::ResourceLimiter;

/// Limits applied to every call. Each call runs in a fresh store and a fresh instance, so limits
/// and state never carry over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Fuel per call (about one unit per WebAssembly instruction). An endless loop stops here.
    pub fuel: u64,
    /// Linear memory cap in bytes.
    pub memory_bytes: usize,
    /// Stack cap in bytes for WebAssembly frames.
    pub stack_bytes: usize,
    /// Largest table a plugin may have, in elements.
    pub table_elements: usize,
    /// Calls that may run at once; the runtime keeps an instance slot (memory, tables) ready for
    /// each, and a call past them waits for one to finish.
    pub concurrent_calls: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            // Preparing an EVM transaction takes a few million units; typed data with deep
            // nesting tens of millions. A billion stops a runaway call in well under a second.
            fuel: 1_000_000_000,
            memory_bytes: 64 << 20,
            stack_bytes: 512 << 10,
            table_elements: 100_000,
            concurrent_calls: 32,
        }
    }
}

/// Core instances one plugin may make (a component made by the SDK has a handful).
pub(crate) const MAX_CORE_INSTANCES: u32 = 16;
/// Tables one plugin may have.
pub(crate) const MAX_TABLES: u32 = 16;
/// Linear memories one plugin may have (the SDK's components have one).
pub(crate) const MAX_MEMORIES: u32 = 2;

/// Enforces the memory and table caps of one store and remembers an attempt to pass them, so
/// the trap that follows is reported as what it is.
#[derive(Debug)]
pub(crate) struct CallLimiter {
    memory_bytes: usize,
    table_elements: usize,
    /// The memory size a refused growth asked for.
    pub(crate) refused_memory: Option<usize>,
}

impl CallLimiter {
    pub(crate) fn new(limits: &Limits) -> Self {
        CallLimiter {
            memory_bytes: limits.memory_bytes,
            table_elements: limits.table_elements,
            refused_memory: None,
        }
    }
}

impl ResourceLimiter for CallLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_bytes {
            self.refused_memory = Some(desired);
            return Ok(false);
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= self.table_elements)
    }

    fn instances(&self) -> usize {
        MAX_CORE_INSTANCES as usize
    }

    fn tables(&self) -> usize {
        MAX_TABLES as usize
    }

    fn memories(&self) -> usize {
        MAX_MEMORIES as usize
    }
}
