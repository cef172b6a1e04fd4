//! Plugins from a directory, the compiled-code cache, and what the host records about each
//! plugin.

use mpcw_host::plugin::{Limits, PluginSource, Runtime};
use mpcw_tests::HOSTILE;

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("mpcw-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn directory_plugins_and_the_code_cache() {
    let plugins = temp_dir("plugins");
    let cache = temp_dir("cache");
    std::fs::write(plugins.join("hostile.wasm"), HOSTILE).unwrap();
    std::fs::write(plugins.join("notes.txt"), "not a plugin, not loaded").unwrap();

    // First start: compiled, and written to the cache.
    let first = Runtime::new(Limits::default(), Some(cache.clone())).unwrap();
    let records = first.load_dir(&plugins).unwrap();
    assert_eq!(records.len(), 1);
    let record = &records[0];
    assert_eq!(record.name, "hostile");
    assert_eq!(record.version, "0.0.1");
    assert_eq!(
        record.source,
        PluginSource::File(plugins.join("hostile.wasm"))
    );
    assert!(!record.cached);
    let expected_sha = {
        use sha2::Digest as _;
        hex::encode(sha2::Sha256::digest(HOSTILE))
    };
    assert_eq!(record.sha256, expected_sha);

    // Second start: from the cache.
    let second = Runtime::new(Limits::default(), Some(cache.clone())).unwrap();
    let record = second.load_dir(&plugins).unwrap().remove(0);
    assert!(
        record.cached,
        "the second start reads compiled code from the cache"
    );
    assert_eq!(second.plugin("hostile").unwrap().sha256, expected_sha);

    // A damaged cache entry is not trusted: the plugin is compiled again, and works.
    for entry in std::fs::read_dir(&cache).unwrap() {
        let path = entry.unwrap().path();
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0xff;
        std::fs::write(&path, bytes).unwrap();
    }
    let third = Runtime::new(Limits::default(), Some(cache.clone())).unwrap();
    let record = third.load_dir(&plugins).unwrap().remove(0);
    assert!(!record.cached, "a corrupted entry is recompiled");
    let fourth = Runtime::new(Limits::default(), Some(cache.clone())).unwrap();
    assert!(
        fourth.load_dir(&plugins).unwrap()[0].cached,
        "and cached again"
    );

    // A directory plugin with a built-in's name replaces it.
    let runtime = mpcw_tests::runtime();
    let builtin = runtime.plugin("ethereum").unwrap();
    assert!(matches!(builtin.source, PluginSource::Builtin(_)));
    let override_dir = temp_dir("override");
    let (_, ethereum) = mpcw_host::builtin::PLUGINS
        .iter()
        .find(|(name, _)| *name == "mpcw-plugin-ethereum")
        .unwrap();
    std::fs::write(override_dir.join("ethereum.wasm"), ethereum).unwrap();
    runtime.load_dir(&override_dir).unwrap();
    assert!(matches!(
        runtime.plugin("ethereum").unwrap().source,
        PluginSource::File(_)
    ));

    for dir in [plugins, cache, override_dir] {
        let _ = std::fs::remove_dir_all(dir);
    }
}
