//! The process-wide TLS crypto provider, and the HTTP client built on it. The HTTP client (reqwest over rustls) is built without
//! one so that a single provider, ring, is linked; it must be installed before a client is built.

/// Make ring the process's rustls crypto provider. Idempotent: a provider already installed
/// stays.
pub fn install_crypto_provider() {
    // `Err` means a provider is already installed, which is what is wanted.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The HTTP client for calls to identity providers: TLS by rustls with ring, a 5-second
/// timeout, and no redirects (an answer comes from the URL that was configured, or not at all).
pub fn provider_client() -> reqwest::Result<reqwest::Client> {
    install_crypto_provider();
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .build()
}
