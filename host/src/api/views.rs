//! Request and answer bodies of the API, shared with the device client.

use std::collections::BTreeMap;

use mpcw_engine::{Envelope, PartyIndex, PartyPublicKeys, PublicKeyInfo, Roster};
use serde::{Deserialize, Serialize};

use crate::plugin::wit;
use crate::store::WalletStatus;

/// `POST /v1/auth/dev`: log in as `subject` (development only).
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DevLogin {
    /// Who to be.
    pub subject: String,
    /// The Dapp to log in for, if any.
    #[serde(default)]
    pub dapp: Option<String>,
}

/// `POST /v1/auth/oidc`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcLogin {
    /// The provider's name in the host's configuration.
    pub provider: String,
    /// The ID token the provider issued to the user.
    pub id_token: String,
    /// The Dapp to log in for, if any.
    #[serde(default)]
    pub dapp: Option<String>,
}

/// `POST /v1/auth/oidc/code`: the authorization code flow's last step.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcCodeLogin {
    /// The provider's name in the host's configuration.
    pub provider: String,
    /// The code the provider sent back.
    pub code: String,
    /// The PKCE code verifier whose S256 challenge the authorization request carried.
    pub code_verifier: String,
    /// The redirect URI the authorization request named (on the server's own origin).
    pub redirect_uri: String,
    /// The Dapp to log in for, if any (the nonce passed to the provider must be for it).
    #[serde(default)]
    pub dapp: Option<String>,
}

impl std::fmt::Debug for OidcCodeLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcCodeLogin")
            .field("provider", &self.provider)
            .field("dapp", &self.dapp)
            .finish_non_exhaustive()
    }
}

/// `GET /v1/auth/providers`: how users can log in here.
#[derive(Debug, Serialize, Deserialize)]
pub struct LoginOptions {
    /// Whether `POST /v1/auth/dev` is on (local development only).
    pub dev_login: bool,
    /// OpenID Connect providers the web signer can send users to (code flow with PKCE).
    pub oidc: Vec<crate::auth::oidc::code::CodeFlow>,
    /// Whether WeChat mini-program login is configured.
    pub wechat: bool,
    /// Whether Alipay login is configured.
    pub alipay: bool,
}

/// `POST /v1/auth/oidc/nonce`.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NonceRequest {
    /// The Dapp the login will be for, if any.
    #[serde(default)]
    pub dapp: Option<String>,
}

/// A login nonce, to pass to the identity provider (`nonce` of the authentication request).
#[derive(Debug, Serialize, Deserialize)]
pub struct NonceView {
    /// The nonce.
    pub nonce: String,
    /// When it can no longer be used, Unix seconds.
    pub expires_at: i64,
}

/// `POST /v1/auth/wechat`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WechatLogin {
    /// The code `wx.login()` gave the mini-program.
    pub code: String,
    /// The Dapp to log in for, if any.
    #[serde(default)]
    pub dapp: Option<String>,
}

/// `POST /v1/auth/alipay`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlipayLogin {
    /// The auth code `my.getAuthCode` (or the OAuth redirect) gave the client.
    pub auth_code: String,
    /// The Dapp to log in for, if any.
    #[serde(default)]
    pub dapp: Option<String>,
}

/// An access token.
#[derive(Serialize, Deserialize)]
pub struct TokenView {
    /// Bearer token.
    pub access_token: String,
    /// The subject it stands for.
    pub subject: String,
    /// The Dapp it is for, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dapp: Option<String>,
    /// Unix seconds when it stops working.
    pub expires_at: i64,
}

/// `POST /v1/wallets`: start key generation.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateWallet {
    /// `ecdsa-secp256k1`, `ed25519` or `schnorr-bip340` (also `ecdsa`, `schnorr`).
    pub scheme: String,
    /// Parties needed to sign.
    pub threshold: u16,
    /// Parties holding shares.
    pub parties: u16,
    /// The server's party index (default 1).
    #[serde(default)]
    pub server_index: Option<PartyIndex>,
    /// Identity keys of every party but the server, by index.
    pub roster: BTreeMap<PartyIndex, PartyPublicKeys>,
    /// A name for the wallet.
    #[serde(default)]
    pub label: Option<String>,
}

/// A wallet.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WalletView {
    /// Wallet id.
    pub id: String,
    /// Its name.
    pub label: String,
    /// Signature scheme.
    pub scheme: String,
    /// Parties needed to sign.
    pub threshold: u16,
    /// Parties holding shares.
    pub parties: u16,
    /// The server's party index.
    pub server_index: PartyIndex,
    /// Every party's identity keys.
    pub roster: Roster,
    /// Key generation status.
    pub status: WalletStatus,
    /// The group key, once ready.
    pub public_key: Option<PublicKeyInfo>,
    /// Why key generation failed.
    pub error: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
}

/// A session the client's parties take part in.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SessionView {
    /// Session id (the id envelopes carry).
    pub id: String,
    /// The server's party index.
    pub server_index: PartyIndex,
    /// Parties of the session.
    pub parties: Vec<PartyIndex>,
}

/// Answer to `POST /v1/wallets`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CreatedWallet {
    /// The wallet, pending.
    pub wallet: WalletView,
    /// Its key generation session.
    pub session: SessionView,
}

/// One network's addresses of a wallet.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NetworkAddresses {
    /// Network id.
    pub network: String,
    /// Network name.
    pub name: String,
    /// Derivation path of the key used.
    pub path: String,
    /// The derived public key, hex.
    pub public_key: String,
    /// Addresses by kind.
    pub addresses: Vec<wit::Address>,
}

/// `POST /v1/wallets/{id}/signatures`: sign a chain request.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartSigning {
    /// Network id from `/v1/chains`.
    pub network: String,
    /// The request, as the network's plugin documents it.
    pub request: serde_json::Value,
    /// Wallet indices of exactly `threshold` signers, the server among them.
    pub signers: Vec<PartyIndex>,
    /// The bridge request this signing approves (opened by the caller), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bridge: Option<String>,
}

/// One payload to sign, as the plugin prepared it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PayloadView {
    /// Signature scheme.
    pub scheme: String,
    /// For ECDSA, the hash applied to `bytes` (`keccak256`, `sha256`, `double-sha256`).
    pub hash: Option<String>,
    /// The bytes signed (ECDSA: hashed first), hex.
    pub bytes: String,
    /// What it is.
    pub label: String,
    /// The session that signs it.
    pub session: String,
    /// In the answer that starts the signing only: what the server's party sent the client's
    /// parties in its first step, so that the client need not fetch it (its relay sequence
    /// numbers continue as usual). Empty if that step had not come in time.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub messages: Vec<Relayed>,
}

/// A signing request.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SigningView {
    /// Request id.
    pub id: String,
    /// Wallet.
    pub wallet_id: String,
    /// Network id.
    pub network: String,
    /// `running`, `done` or `failed`.
    pub status: String,
    /// What is signed, for the confirmation screen.
    pub summary: wit::Summary,
    /// Payloads and their sessions, in order.
    pub payloads: Vec<PayloadView>,
    /// Signers.
    pub signers: Vec<PartyIndex>,
    /// The derivation path of the key.
    pub path: Vec<u32>,
    /// The signed output, once done.
    pub result: Option<wit::Finalized>,
    /// The signatures, one per payload, once done.
    #[serde(default)]
    pub signatures: Vec<wit::Signature>,
    /// Why it failed.
    pub error: Option<String>,
}

/// `GET /v1/sessions/{id}`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SessionStatus {
    /// Session id.
    pub id: String,
    /// `keygen` or `sign`.
    pub kind: String,
    /// `running`, `done` or `failed`.
    pub state: String,
    /// Why it failed.
    pub error: Option<String>,
}

/// A relayed envelope with its sequence number.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Relayed {
    /// 1-based position in the session's log.
    pub seq: u64,
    /// The envelope.
    pub envelope: Envelope,
}

/// `GET /v1/sessions/{id}/messages`, and `POST` of the same with `parties` in its query.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Messages {
    /// Envelopes for the asked parties, oldest first, up to about 1 MiB.
    pub messages: Vec<Relayed>,
    /// Whether more envelopes follow the last one returned (fetch again after its `seq`).
    #[serde(default)]
    pub more: bool,
    /// The session's status.
    pub status: SessionStatus,
}

/// `POST /v1/wallets/{id}/reshare`: refresh the shares, or reshare them to a new set of parties
/// (a lost device replaced), keeping the key and every address.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartReshare {
    /// Exactly `threshold` current holders that re-deal the key.
    pub old_signers: Vec<PartyIndex>,
    /// Threshold of the new shares.
    pub new_threshold: u16,
    /// Number of new parties (wallet indices `0..new_parties`; the server keeps its index).
    pub new_parties: u16,
    /// Identity keys of every session party but the server: old signers and new parties.
    pub roster: BTreeMap<PartyIndex, PartyPublicKeys>,
    /// No longer used (ECDSA shares get a new pairwise state at every resharing); accepted and
    /// ignored so that older clients keep working.
    #[serde(default, skip_serializing)]
    pub aux: Option<String>,
    /// A recovery announced with `POST /v1/wallets/{id}/recoveries`: needed when the resharing
    /// gives a party a new identity (a new device) and a recovery delay is configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery: Option<String>,
}

/// Answer to `POST /v1/wallets/{id}/reshare`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StartedReshare {
    /// The wallet as it is before.
    pub wallet: WalletView,
    /// The resharing session.
    pub session: SessionView,
    /// The roster of the session (old signers and new parties).
    pub roster: Roster,
    /// The public key information the session reshares (every party must use the same).
    pub key: PublicKeyInfo,
}

/// `POST /v1/bridge/requests`: a Dapp's signing request.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateBridgeRequest {
    /// Network id from `/v1/chains`.
    pub network: String,
    /// The request, as the network's plugin documents it.
    pub request: serde_json::Value,
    /// Seconds the user has to open and approve it (1 to 900, default 300).
    #[serde(default)]
    pub ttl_secs: Option<u64>,
    /// Where to post the result, instead of the Dapp's registered callback URL; it must have
    /// the same origin (scheme, host and port) as the registered one.
    #[serde(default)]
    pub callback_url: Option<String>,
    /// A connection of the Dapp's (from a connect request): the request is then for that
    /// connection's user and wallet only, and refused if its sender or fee payer is another.
    #[serde(default)]
    pub connection: Option<String>,
    /// Send the signed transaction to the network's node (the network needs one).
    #[serde(default)]
    pub broadcast: bool,
}

/// `POST /v1/bridge/rpc/{network}`: a read of the network's chain, as JSON-RPC names it.
#[derive(Debug, Serialize, Deserialize)]
pub struct ChainRead {
    /// The JSON-RPC method (a read: `eth_getBalance`, `getLatestBlockhash`, …).
    pub method: String,
    /// Its parameters.
    #[serde(default)]
    pub params: serde_json::Value,
}

/// `POST /v1/wallets/{id}/preview`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreviewRequest {
    /// Network id from `/v1/chains`.
    pub network: String,
    /// The request, as the network's plugin documents it; what the node fills in may be left
    /// out.
    pub request: serde_json::Value,
}

/// A request completed and summarised, not yet signed.
#[derive(Debug, Serialize, Deserialize)]
pub struct Previewed {
    /// The request with what the network's node filled in: sign this one.
    pub request: serde_json::Value,
    /// What was filled in.
    pub filled: Vec<crate::nodes::FilledField>,
    /// The plugin's summary, to show before signing.
    pub summary: crate::plugin::wit::Summary,
    /// Whether the server can send it once signed (`POST /v1/signatures/{id}/broadcast`).
    pub broadcastable: bool,
}

/// `POST /v1/signatures/{id}/broadcast`.
#[derive(Debug, Serialize, Deserialize)]
pub struct Broadcasted {
    /// The network it was sent to.
    pub network: String,
    /// The transaction id the node gave.
    pub tx_id: String,
}

/// `POST /v1/bridge/connect`: a Dapp asks for the user's accounts.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateConnectRequest {
    /// Network ids from `/v1/chains` (1 to 16, no repeats), of one scheme or several.
    pub networks: Vec<String>,
    /// Seconds the user has to open and approve it (1 to 900, default 300).
    #[serde(default)]
    pub ttl_secs: Option<u64>,
    /// Seconds the connection lasts once made (1 to 30 days' worth, default 7 days).
    #[serde(default)]
    pub connection_ttl_secs: Option<u64>,
    /// As for a signing request.
    #[serde(default)]
    pub callback_url: Option<String>,
}

/// A connection, as its Dapp and its user see it.
#[derive(Debug, Serialize, Deserialize)]
pub struct ConnectionView {
    /// Its id (`cn_…`), to name in later requests.
    pub id: String,
    /// The Dapp's id.
    pub dapp: String,
    /// `active`, `revoked` or `expired`.
    pub status: String,
    /// One account per network asked for.
    pub accounts: Vec<crate::bridge::connection::Account>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds after which it may no longer be used.
    pub expires_at: i64,
    /// Unix seconds when it was revoked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<i64>,
}

/// `POST /v1/bridge/requests/{id}/connect`: the user approves a connect request.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectWallets {
    /// The user's wallets to connect: for every network asked for, exactly one of them has the
    /// network's scheme.
    pub wallets: Vec<String>,
}

/// `GET /v1/bridge/callback-key`: the key a Dapp's callbacks are signed with.
#[derive(Debug, Serialize, Deserialize)]
pub struct CallbackKey {
    /// The HMAC-SHA256 key, 64 hex digits.
    pub key: String,
    /// Always `HMAC-SHA256`.
    pub algorithm: String,
}

/// A new bridge request, as its Dapp sees it once: the token is not shown again.
#[derive(Debug, Serialize, Deserialize)]
pub struct BridgeCreated {
    /// The request's id, to read its result.
    pub id: String,
    /// The single-use token the signer opens it with.
    pub token: String,
    /// The link that opens it in a signer (`<public_url>/bridge?token=…&dapp=…&network=…`).
    pub deep_link: String,
    /// Unix seconds after which it can no longer be opened or approved.
    pub expires_at: i64,
}

/// A bridge request as its Dapp reads it.
#[derive(Debug, Serialize, Deserialize)]
pub struct BridgeView {
    /// The request's id.
    pub id: String,
    /// `sign` or `connect`.
    #[serde(default = "sign_action")]
    pub action: String,
    /// Network id (of a connect request: the first one it asks for).
    pub network: String,
    /// `pending`, `opened`, `signing`, `sending` (signed, being broadcast), `done`, `failed`,
    /// `rejected` or `expired`.
    pub status: String,
    /// Unix seconds.
    pub expires_at: i64,
    /// The signed output, when a signing request is `done`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<wit::Finalized>,
    /// The connection made, when a connect request is `done`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection: Option<ConnectionView>,
    /// The fields the host filled in from the network's node.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filled: Vec<crate::nodes::FilledField>,
    /// The broadcast, when the request asked for one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub broadcast: Option<crate::bridge::Broadcast>,
    /// Why it failed, or the user's reason for rejecting it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

fn sign_action() -> String {
    "sign".into()
}

/// The body of a bridge callback: one event, when a request reaches its final status (see
/// [`crate::bridge::callback`] for its headers and signature).
#[derive(Debug, Serialize, Deserialize)]
pub struct BridgeEvent {
    /// The event id (`evt_…`), also in the `X-Mpcw-Event-Id` header: the same at every
    /// delivery attempt, so that a Dapp can ignore repeats.
    pub id: String,
    /// `bridge.request.done`, `.failed`, `.rejected` or `.expired`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Unix seconds when the event was made.
    pub created_at: i64,
    /// The request, as `GET /v1/bridge/requests/{id}` shows it.
    pub data: BridgeView,
}

/// `POST /v1/bridge/open`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenBridge {
    /// The token from the link or QR code.
    pub token: String,
    /// A wallet of the caller's, to have the request's summary for it.
    #[serde(default)]
    pub wallet: Option<String>,
}

/// `POST /v1/bridge/peek`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeekBridge {
    /// A request's token: the link's, or the entry token of a mini-program code or link.
    pub token: String,
}

/// What a token opens, before it is used: enough to log in for the right Dapp.
#[derive(Debug, Serialize, Deserialize)]
pub struct PeekedBridge {
    /// The Dapp that asks.
    pub dapp: String,
    /// Its name.
    pub dapp_name: String,
    /// The network.
    pub network: String,
    /// `sign` or `connect`.
    pub action: String,
    /// When the request expires, Unix seconds.
    pub expires_at: i64,
}

/// `GET /v1/bridge/requests/{id}/wechat/link`.
#[derive(Debug, Serialize, Deserialize)]
pub struct WechatLinkView {
    /// `weixin://dl/business/?t=…`: opens the mini-program's approval page with the request.
    pub openlink: String,
    /// When the request (and the link) expires, Unix seconds.
    pub expires_at: i64,
}

/// `GET /v1/bridge/requests/{id}/alipay/code`.
#[derive(Debug, Serialize, Deserialize)]
pub struct AlipayCodeView {
    /// The mini-program code's image, at Alipay.
    pub qr_code_url: String,
    /// `alipays://platformapi/startapp?…`: opens the approval page with the request.
    pub scheme: String,
    /// When the request expires, Unix seconds.
    pub expires_at: i64,
}

/// A bridge request as the signer sees it after opening it.
#[derive(Debug, Serialize, Deserialize)]
pub struct OpenedBridge {
    /// The request's id.
    pub id: String,
    /// The Dapp's id.
    pub dapp: String,
    /// The Dapp's display name.
    pub dapp_name: String,
    /// `sign` (approved by signing) or `connect` (approved by
    /// `POST /v1/bridge/requests/{id}/connect`).
    #[serde(default = "sign_action")]
    pub action: String,
    /// Network id (of a connect request: the first one it asks for).
    pub network: String,
    /// The networks a connect request asks for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub networks: Vec<String>,
    /// The request, to sign with `POST /v1/wallets/{id}/signatures` and `bridge` set to `id`.
    pub request: serde_json::Value,
    /// Unix seconds.
    pub expires_at: i64,
    /// The connection a signing request names: it is signed with that connection's wallet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection: Option<String>,
    /// The fields the host filled in from the network's node (already in `request`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filled: Vec<crate::nodes::FilledField>,
    /// Whether the signed transaction goes to the network once approved.
    #[serde(default)]
    pub broadcast: bool,
    /// The wallet the summary is for: the connection's, or the one named when opening.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wallet: Option<String>,
    /// The plugin's summary for `wallet`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<wit::Summary>,
}

/// `POST /v1/bridge/requests/{id}/reject`.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RejectBridge {
    /// Why, in the user's words.
    #[serde(default)]
    pub reason: Option<String>,
}
