//! Shared helpers of the end-to-end tests: a plugin runtime with the built-in plugins, networks
//! from the registry, the test-only plugins, single-key signing for official vectors, and a test host
//! in its own process.

pub mod callbacks;
pub mod dapp;
pub mod node;
pub mod process;

use k256::ecdsa::SigningKey;
use mpcw_host::chains::Registry;
use mpcw_host::plugin::{wit, Limits, Runtime};
use sha3::{Digest, Keccak256};

/// The `hostile` test plugin, a component built from `tests/plugins/hostile`.
pub const HOSTILE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/mpcw-plugin-hostile.wasm"));

/// One directory of compiled plugin code for the whole test suite, in the build's output
/// directory: every runtime and every test host then compiles the built-in plugins once per
/// build, not once per start (the cache checks each entry's digest and the engine it was
/// compiled for, see `mpcw_host::plugin::CodeCache`).
pub fn plugin_cache_dir() -> std::path::PathBuf {
    concat!(env!("OUT_DIR"), "/plugin-cache").into()
}

/// A test host's configuration: loopback on a free port, its data in `data_dir`, the suite's
/// code cache, no per-client limit (every test client comes from loopback; the limits have
/// their own tests), and no public node endpoints (no test reaches the internet; tests of chain
/// data set `rpc_urls` to a stub node). Tests set what else they need over it:
/// `Config { dapps, ..mpcw_tests::config(dir) }`.
pub fn config(data_dir: impl Into<std::path::PathBuf>) -> mpcw_host::config::Config {
    mpcw_host::config::Config {
        listen: "127.0.0.1:0".parse().expect("a loopback address"),
        data_dir: data_dir.into(),
        plugin_cache_dir: Some(plugin_cache_dir()),
        client_rate_limit_per_minute: 0,
        public_rpc: false,
        ..Default::default()
    }
}

/// A 2-of-3 wallet of `scheme` whose device holds parties 0 and 2 (its own share and the
/// recovery share), the server party 1.
pub fn two_of_three(scheme: mpcw_engine::Scheme) -> mpcw_host::device::WalletSpec {
    mpcw_host::device::WalletSpec {
        scheme,
        threshold: 2,
        parties: 3,
        local: vec![0, 2],
        label: None,
    }
}

/// The first address of wallet `wallet_id` on `network`.
pub async fn first_address(
    client: &mpcw_host::device::Client,
    wallet_id: &str,
    network: &str,
) -> String {
    client
        .addresses(wallet_id)
        .await
        .expect("the wallet's addresses")
        .into_iter()
        .find(|n| n.network == network)
        .unwrap_or_else(|| panic!("no address on {network}"))
        .addresses[0]
        .value
        .clone()
}

/// A runtime with default limits, the test suite's code cache, and the built-in plugins loaded.
pub fn runtime() -> Runtime {
    let runtime = Runtime::new(Limits::default(), Some(plugin_cache_dir())).expect("runtime");
    runtime.load_builtin().expect("built-in plugins load");
    runtime
}

/// The registry's network `id`, as plugins receive it.
pub fn network(id: &str) -> wit::Network {
    Registry::builtin()
        .expect("registry")
        .get(id)
        .unwrap_or_else(|| panic!("no network {id}"))
        .to_wit()
}

/// keccak-256.
pub fn keccak256(data: &[u8]) -> [u8; 32] {
    Keccak256::digest(data).into()
}

/// The wallet public key of a single secp256k1 secret, compressed.
pub fn ecdsa_key(secret: &SigningKey) -> wit::PublicKey {
    wit::PublicKey {
        scheme: wit::Scheme::EcdsaSecp256k1,
        bytes: secret
            .verifying_key()
            .to_encoded_point(true)
            .as_bytes()
            .to_vec(),
        view_key: None,
    }
}

/// Sign keccak-256 of a payload with one key (RFC 6979, low s), as a plugin signature.
pub fn sign_keccak(secret: &SigningKey, payload: &[u8]) -> wit::Signature {
    let (sig, recid) = secret
        .sign_prehash_recoverable(&keccak256(payload))
        .expect("signing");
    wit::Signature {
        scheme: wit::Scheme::EcdsaSecp256k1,
        bytes: sig.to_bytes().to_vec(),
        recovery_id: Some(recid.to_byte()),
    }
}

/// Decode 0x-hex.
pub fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s.trim_start_matches("0x")).expect("hex")
}

/// A wallet made by a real DKG among parties 0 (device), 1 (server) and 2 (recovery).
pub struct Wallet {
    /// Each party's identity keys.
    pub keys: Vec<mpcw_engine::PartyKeys>,
    /// The roster of their public keys.
    pub roster: mpcw_engine::Roster,
    /// Each party's key share.
    pub shares: Vec<mpcw_engine::KeyShare>,
}

impl Wallet {
    /// Run the DKG for `scheme` at `t`-of-`n`.
    pub fn generate(scheme: mpcw_engine::Scheme, t: u16, n: u16) -> Self {
        use mpcw_engine::keygen::{KeygenConfig, KeygenSession};
        use mpcw_engine::{sim, PartyIndex, PartyKeys, SessionContext};
        let keys: Vec<PartyKeys> = (0..n)
            .map(|_| PartyKeys::generate(&mut rand_core::OsRng))
            .collect();
        let roster: mpcw_engine::Roster = keys
            .iter()
            .enumerate()
            .map(|(i, k)| (i as PartyIndex, k.public()))
            .collect();
        let config = KeygenConfig {
            scheme,
            threshold: t,
            parties: n,
        };
        let mut sessions: Vec<KeygenSession> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| {
                let ctx =
                    SessionContext::new("e2e-dkg", i as PartyIndex, k.clone(), roster.clone())
                        .unwrap();
                KeygenSession::new(ctx, config).unwrap()
            })
            .collect();
        let shares = sim::run(&mut sessions).expect("dkg succeeds");
        Wallet {
            keys,
            roster,
            shares,
        }
    }

    fn ctx(&self, session: &str, i: mpcw_engine::PartyIndex) -> mpcw_engine::SessionContext {
        mpcw_engine::SessionContext::new(
            session,
            i,
            self.keys[i as usize].clone(),
            self.roster.clone(),
        )
        .unwrap()
    }

    /// The child public key at `path`, as plugins receive it.
    pub fn public_key(&self, path: &[u32]) -> wit::PublicKey {
        let share = &self.shares[0];
        wit::PublicKey {
            scheme: share.scheme().into(),
            bytes: share.derive(path).expect("derivation").public_key,
            view_key: None,
        }
    }

    /// The key on the registry's network `id` as the host hands it to the plugin (the child at
    /// the network's path, with the view key where the network has one), and the path.
    pub fn network_key(&self, id: &str) -> (wit::PublicKey, Vec<u32>) {
        let registry = Registry::builtin().expect("registry");
        let network = registry
            .get(id)
            .unwrap_or_else(|| panic!("no network {id}"));
        let path = network.path().expect("path");
        let share = &self.shares[0];
        let child = share.derive(&path).expect("derivation");
        (network.plugin_key(share.scheme(), &child), path)
    }

    /// Threshold-sign a plugin's payload by `signers` for the child key at `path`, every party
    /// running the same signing party as the server and the device (ECDSA: DKLs23; Ed25519 and
    /// BIP-340: FROST).
    pub fn sign(
        &self,
        signers: &[mpcw_engine::PartyIndex],
        path: &[u32],
        payload: &wit::Payload,
    ) -> wit::Signature {
        use mpcw_host::mpc::{sign_message, signing_party, SigningParty};
        let message = sign_message(payload.scheme, payload.hash, payload.bytes.clone())
            .expect("a payload the parties sign");
        let mut parties: Vec<SigningParty> = signers
            .iter()
            .map(|i| {
                signing_party(
                    self.ctx("e2e-sign", *i),
                    &self.shares[*i as usize],
                    signers,
                    path,
                    message.clone(),
                )
                .unwrap()
            })
            .collect();
        mpcw_engine::sim::run(&mut parties)
            .expect("signing succeeds")
            .remove(0)
    }
}

/// A signing server on a loopback port with its data in `data_dir`, as `mpcw serve` runs it.
pub struct Host {
    pub url: String,
    pub state: std::sync::Arc<mpcw_host::state::AppState>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Host {
    /// Start a host on `127.0.0.1:0` with SQLite in `data_dir` (or the database at
    /// `database_url`).
    pub async fn start(data_dir: &std::path::Path, database_url: Option<String>) -> Host {
        let config = mpcw_host::config::Config {
            database_url,
            ..config(data_dir)
        };
        Host::start_with(config).await
    }

    /// Start a host with `config` (its `listen` should be a loopback address with port 0).
    pub async fn start_with(config: mpcw_host::config::Config) -> Host {
        let server = mpcw_host::server::Server::bind(config)
            .await
            .expect("host starts");
        let url = format!("http://{}", server.local_addr().unwrap());
        let state = server.state.clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            server
                .run(async move {
                    let _ = stopped.await;
                })
                .await
                .expect("host serves");
        });
        Host {
            url,
            state,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Stop serving and wait until the listener is closed.
    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

/// Serve `app` on a free loopback port for the rest of the test; its `http://` URL.
pub async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A fresh directory under the system's temporary directory.
pub fn temp_dir(name: &str) -> std::path::PathBuf {
    let mut b = [0u8; 6];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut b);
    let dir = std::env::temp_dir().join(format!("mpcw-{name}-{}", hex::encode(b)));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// What the QR code in a PNG says, read by rqrr (an independent reader).
pub fn read_qr(png_bytes: &[u8]) -> String {
    let mut reader = png::Decoder::new(std::io::Cursor::new(png_bytes))
        .read_info()
        .expect("a PNG");
    let mut pixels = vec![0; reader.output_buffer_size().expect("a sized image")];
    let info = reader.next_frame(&mut pixels).expect("a frame");
    let (w, h) = (info.width as usize, info.height as usize);
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| pixels[y * w + x]);
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code");
    grids[0].decode().expect("a readable code").1
}
