//! The sandbox's limits on every plugin call.

use wasmtime::ResourceLimiter;

/// Limits applied to every call. Each call runs in a fresh store, so limits never carry over.
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
        }
    }
}

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
        // A component made by the SDK has a handful of core instances.
        64
    }

    fn tables(&self) -> usize {
        16
    }

    fn memories(&self) -> usize {
        4
    }
}
