//! The HTTP API's JSON bodies through the real router and handlers: a host is set up once
//! (SQLite in a temporary directory, the built-in plugins, a logged-in user with an Ed25519
//! wallet, a registered Dapp), and each input is one request: the first byte picks the route,
//! the rest is the body, sent with the user's or the Dapp's credentials. Every answer must be
//! an HTTP status with a JSON error or result; a panic, or a 500, is a bug.

#![no_main]

use std::sync::OnceLock;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use libfuzzer_sys::fuzz_target;
use tower::ServiceExt as _;

struct Fixture {
    runtime: tokio::runtime::Runtime,
    router: axum::Router,
    token: String,
    dapp: String,
    wallet: String,
}

const DAPP_SECRET: &str = "fuzz-dapp-secret";

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let dir = std::env::temp_dir().join(format!("mpcw-fuzz-api-{}", std::process::id()));
        let (router, token, wallet) = runtime.block_on(async {
            use sha2::Digest as _;
            let config = mpcw_host::config::Config {
                listen: "127.0.0.1:0".parse().unwrap(),
                data_dir: dir,
                rate_limit_per_minute: 0,
                client_rate_limit_per_minute: 0,
                escrow_opens_per_hour: 0,
                public_rpc: false,
                dapps: vec![mpcw_host::auth::dapps::DappConfig {
                    id: "shop".into(),
                    name: "Shop".into(),
                    allowed_origins: vec![],
                    callback_url: None,
                    api_secret_sha256: hex::encode(sha2::Sha256::digest(DAPP_SECRET)),
                }],
                ..Default::default()
            };
            let server = mpcw_host::server::Server::bind(config).await.unwrap();
            let url = format!("http://{}", server.local_addr().unwrap());
            let state = server.state.clone();
            tokio::spawn(server.run(std::future::pending()));
            let client = mpcw_host::device::Client::new(&url);
            let token = client.dev_login("fuzz").await.unwrap().access_token;
            let client = client.with_token(token.clone());
            let spec = mpcw_host::device::WalletSpec {
                scheme: mpcw_engine::Scheme::Ed25519,
                threshold: 2,
                parties: 3,
                local: vec![0, 2],
                label: None,
            };
            let (wallet, _) = mpcw_host::device::create_wallet(&client, &spec, |_| {})
                .await
                .unwrap();
            (mpcw_host::api::router(state), token, wallet.id)
        });
        use base64::Engine as _;
        let dapp = base64::engine::general_purpose::STANDARD.encode(format!("shop:{DAPP_SECRET}"));
        Fixture {
            runtime,
            router,
            token,
            dapp,
            wallet,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let [route, body @ ..] = data else {
        return;
    };
    let f = fixture();
    let w = &f.wallet;
    // (method, path, as the Dapp)
    let routes: [(&str, String, bool); 14] = [
        ("POST", "/v1/auth/dev".into(), false),
        ("POST", "/v1/wallets".into(), false),
        ("POST", format!("/v1/wallets/{w}/signatures"), false),
        ("POST", format!("/v1/wallets/{w}/reshare"), false),
        ("PUT", format!("/v1/wallets/{w}/escrow"), false),
        ("POST", format!("/v1/wallets/{w}/escrow/open"), false),
        (
            "POST",
            format!("/v1/wallets/{w}/recoveries/rev_x/cancel"),
            false,
        ),
        ("POST", "/v1/sessions/s_x/messages".into(), false),
        ("POST", "/v1/bridge/open".into(), false),
        ("POST", "/v1/bridge/requests".into(), true),
        ("POST", "/v1/bridge/connect".into(), true),
        ("POST", "/v1/bridge/rpc/ethereum".into(), true),
        ("POST", "/v1/bridge/requests/br_x/connect".into(), false),
        ("POST", "/v1/bridge/requests/br_x/reject".into(), false),
    ];
    let (method, path, as_dapp) = &routes[usize::from(*route) % routes.len()];
    let authorization = if *as_dapp {
        format!("Basic {}", f.dapp)
    } else {
        format!("Bearer {}", f.token)
    };
    let request = Request::builder()
        .method(*method)
        .uri(path.as_str())
        .header("content-type", "application/json")
        .header("authorization", authorization)
        .body(Body::from(body.to_vec()))
        .unwrap();
    let response = f
        .runtime
        .block_on(f.router.clone().oneshot(request))
        .unwrap();
    assert_ne!(
        response.status(),
        StatusCode::INTERNAL_SERVER_ERROR,
        "{method} {path}"
    );
});
