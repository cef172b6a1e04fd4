//! What is built into the binary: the workspace's plugins, compiled to components by the build
//! script, and the network registry files.

include!(concat!(env!("OUT_DIR"), "/builtin.rs"));
