//! What can go wrong when loading or calling a plugin.

use std::path::PathBuf;

use super::wit;

/// A plugin failure, as the host reports it. A plugin's own error value is
/// [`Error::Rejected`]; everything else is the sandbox stopping a plugin that misbehaved.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No loaded plugin has this name.
    #[error("no plugin named {0:?} is loaded")]
    NotFound(String),
    /// The bytes are not a component implementing the `mpcw:chain` world.
    #[error("{source_name}: not a loadable plugin: {message}")]
    Load {
        /// Where the bytes came from.
        source_name: String,
        /// Why they were refused.
        message: String,
    },
    /// The plugin returned an error value: the request is bad or unsupported.
    #[error("plugin {plugin}: {call}: {}: {message}", code.name())]
    Rejected {
        /// The plugin.
        plugin: String,
        /// The function called.
        call: &'static str,
        /// The plugin's error code.
        code: wit::ErrorCode,
        /// The plugin's message.
        message: String,
    },
    /// The call used up its fuel: an endless or far too long computation.
    #[error("plugin {plugin}: {call} was stopped after {fuel} units of fuel (endless or too long computation)")]
    OutOfFuel {
        /// The plugin.
        plugin: String,
        /// The function called.
        call: &'static str,
        /// The fuel each call gets.
        fuel: u64,
    },
    /// The plugin tried to grow its memory beyond the cap.
    #[error("plugin {plugin}: {call} was stopped when it asked for {requested} bytes of memory (limit {limit})")]
    MemoryLimit {
        /// The plugin.
        plugin: String,
        /// The function called.
        call: &'static str,
        /// The memory size it asked for.
        requested: usize,
        /// The cap.
        limit: usize,
    },
    /// The plugin overflowed its stack (runaway recursion).
    #[error("plugin {plugin}: {call} overflowed its stack")]
    StackOverflow {
        /// The plugin.
        plugin: String,
        /// The function called.
        call: &'static str,
    },
    /// The plugin trapped (a panic, an unreachable, an out-of-bounds access).
    #[error("plugin {plugin}: {call} crashed: {message}")]
    Trap {
        /// The plugin.
        plugin: String,
        /// The function called.
        call: &'static str,
        /// What the runtime reported.
        message: String,
    },
    /// The plugin returned something that breaks the interface's rules.
    #[error("plugin {plugin}: {call} returned an invalid result: {message}")]
    BadOutput {
        /// The plugin.
        plugin: String,
        /// The function called.
        call: &'static str,
        /// Which rule it broke.
        message: String,
    },
    /// The engine could not be set up.
    #[error("plugin runtime: {0}")]
    Engine(String),
    /// A plugin file or the code cache could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

impl Error {
    /// Whether the fault is the request's (the plugin refused it) rather than the plugin's.
    pub fn is_rejection(&self) -> bool {
        matches!(self, Error::Rejected { .. })
    }
}
