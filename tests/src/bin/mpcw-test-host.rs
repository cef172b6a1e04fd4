//! A signing server in a process of its own, for tests that kill it and for the browser
//! benchmark: `mpcw-test-host DIR N` serves on a loopback port with its data in DIR, the first N
//! fixture Paillier primes in its pool and the built web signer (`web/signer/dist`) at
//! `/signer/`, prints `listening <url>`, and runs until it is killed.

use mpcw_tests::{fixture_primes, Host};

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args.next().expect("usage: mpcw-test-host DIR N");
    let n: usize = args.next().map_or(0, |n| n.parse().expect("N is a number"));
    let primes = fixture_primes().into_iter().take(n).collect();
    let config = mpcw_host::config::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.into(),
        signer_dir: Some(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../web/signer/dist"),
        ),
        ..Default::default()
    };
    let host = Host::start_with(config, primes).await;
    println!("listening {}", host.url);
    std::future::pending::<()>().await;
}
