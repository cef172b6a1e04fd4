//! Limits per client address, for the routes that need no login (logins, `bridge/open`, the QR
//! code, the public documents): a client cannot make the server call WeChat, Alipay or an
//! identity provider, or draw QR codes, as fast as it likes.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::state::AppState;

/// The client behind a connection from `peer`: the peer itself, unless it is one of the
/// `trusted` proxies; then the nearest address in `X-Forwarded-For` (read from the right) that
/// is not a trusted proxy. An address that does not parse ends the walk: the client is then
/// the last trusted hop, so a garbled header cannot pick a fresh key per request.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    let mut client = peer;
    if !trusted.contains(&peer) {
        return client;
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    for hop in hops.into_iter().rev() {
        match hop.parse::<IpAddr>() {
            Ok(ip) => client = ip,
            Err(_) => break,
        }
        if !trusted.contains(&client) {
            break;
        }
    }
    client
}

/// The client address of a request (see [`client_ip`]), when the server knows its peer.
pub struct ClientAddr(pub Option<IpAddr>);

impl FromRequestParts<Arc<AppState>> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self(parts.extensions.get::<ConnectInfo<SocketAddr>>().map(
            |ConnectInfo(peer)| client_ip(peer.ip(), &parts.headers, &state.config.trusted_proxies),
        )))
    }
}

/// Middleware: count the request against its client's limit, answering 429 (with
/// `Retry-After`) when it is spent.
pub async fn limit_per_client(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    if let (Some(limiter), Some(ConnectInfo(peer))) = (
        &state.client_limiter,
        request.extensions().get::<ConnectInfo<SocketAddr>>(),
    ) {
        let ip = client_ip(peer.ip(), request.headers(), &state.config.trusted_proxies);
        if let Err(e) = super::extract::count(limiter, &ip) {
            return e.into_response();
        }
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    #[test]
    fn forwarded_for_counts_only_behind_a_trusted_proxy() {
        let proxy = ip("10.0.0.1");
        let h = forwarded(&["203.0.113.9"]);
        // From anyone else the header is the client's own claim, and ignored.
        assert_eq!(
            client_ip(ip("198.51.100.1"), &h, &[proxy]),
            ip("198.51.100.1")
        );
        assert_eq!(client_ip(proxy, &h, &[]), proxy);
        assert_eq!(client_ip(proxy, &h, &[proxy]), ip("203.0.113.9"));
    }

    #[test]
    fn the_nearest_untrusted_hop_is_the_client() {
        let (edge, inner) = (ip("10.0.0.1"), ip("10.0.0.2"));
        // The client put a made-up address first; the proxies appended what they saw.
        let h = forwarded(&["1.2.3.4, 203.0.113.9", "10.0.0.1"]);
        assert_eq!(client_ip(inner, &h, &[edge, inner]), ip("203.0.113.9"));
        // Garbage ends the walk at the last trusted hop.
        let h = forwarded(&["203.0.113.9, not-an-address"]);
        assert_eq!(client_ip(edge, &h, &[edge]), edge);
        // Nothing forwarded: the proxy itself.
        assert_eq!(client_ip(edge, &HeaderMap::new(), &[edge]), edge);
    }
}
