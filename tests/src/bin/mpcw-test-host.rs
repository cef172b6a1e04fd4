//! A signing server in a process of its own, for tests that kill it or measure it and for the
//! browser benchmark: `mpcw-test-host DIR [CONFIG]` serves on a loopback port with its data in
//! DIR and the built web signer (`web/signer/dist`) at `/signer/`, prints `listening <url>`, and
//! runs until it is killed. CONFIG, a configuration file, adds settings (Dapps, limits) over the
//! test defaults.

use mpcw_tests::Host;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args.next().expect("usage: mpcw-test-host DIR [CONFIG]");
    let base = match args.next() {
        Some(file) => mpcw_host::config::Config::load(Some(std::path::Path::new(&file)))
            .expect("a readable configuration file"),
        None => Default::default(),
    };
    let test = mpcw_tests::config(dir);
    let config = mpcw_host::config::Config {
        signer_dir: Some(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../web/signer/dist"),
        ),
        listen: test.listen,
        data_dir: test.data_dir,
        plugin_cache_dir: test.plugin_cache_dir,
        client_rate_limit_per_minute: test.client_rate_limit_per_minute,
        ..base
    };
    let host = Host::start_with(config).await;
    println!("listening {}", host.url);
    std::future::pending::<()>().await;
}
