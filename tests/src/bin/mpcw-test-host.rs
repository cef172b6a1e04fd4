//! A signing server in a process of its own, for tests that kill it: `mpcw-test-host DIR N`
//! serves on a loopback port with its data in DIR and the first N fixture Paillier primes in its
//! pool, prints `listening <url>`, and runs until it is killed.

use mpcw_tests::{fixture_primes, Host};

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args.next().expect("usage: mpcw-test-host DIR N");
    let n: usize = args.next().map_or(0, |n| n.parse().expect("N is a number"));
    let primes = fixture_primes().into_iter().take(n).collect();
    let host = Host::start(std::path::Path::new(&dir), None, primes).await;
    println!("listening {}", host.url);
    std::future::pending::<()>().await;
}
