//! Who is calling. The host mints its own short-lived access tokens ([`tokens`]) after a login
//! with an identity the user already has: an OpenID Connect ID token ([`oidc`]), a WeChat
//! mini-program login code ([`wechat`]), an Alipay auth code ([`alipay`]), or the development
//! login by subject alone when it is turned on. A login may be for a registered Dapp
//! ([`dapps`]), which scopes everything the user makes with the token to that Dapp; an ID token
//! is bound to its Dapp by a login nonce ([`nonce`]).

pub mod alipay;
pub mod dapps;
pub mod nonce;
pub mod oidc;
pub mod tokens;
pub mod wechat;

/// Whether a provider's one-time login code is worth sending: 1 to 128 bytes, no control
/// characters. Anything else is refused before a request leaves the host.
pub(crate) fn login_code_ok(code: &str) -> bool {
    !code.is_empty() && code.len() <= 128 && !code.chars().any(char::is_control)
}
