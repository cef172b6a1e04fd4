//! A signing server in a process of its own, for tests that kill it and for the browser
//! benchmark: `mpcw-test-host DIR` serves on a loopback port with its data in DIR and the built
//! web signer (`web/signer/dist`) at `/signer/`, prints `listening <url>`, and runs until it is
//! killed.

use mpcw_tests::Host;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args.next().expect("usage: mpcw-test-host DIR");
    let config = mpcw_host::config::Config {
        signer_dir: Some(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../web/signer/dist"),
        ),
        ..mpcw_tests::config(dir)
    };
    let host = Host::start_with(config).await;
    println!("listening {}", host.url);
    std::future::pending::<()>().await;
}
