//! Guarded outbound HTTP: every request this server makes to a URL a
//! stranger named (a learner's badge host, a did:web issuer) goes through
//! [`Outbound`]. The rules (docs/security.md, "Outbound requests"):
//!
//! - HTTPS only; plain HTTP only to loopback addresses, and only when
//!   `OUTBOUND_ALLOW_LOOPBACK_HTTP=true` (for tests; refused with
//!   `NODE_ENV=production`);
//! - names are resolved here and every address is vetted
//!   ([`addresses::is_public`]) before a connection is made, and ureq
//!   connects to exactly the vetted addresses: a name that resolves to a
//!   private, loopback, link-local, unique-local or metadata address is
//!   refused, and no second lookup can change the answer (DNS rebinding);
//! - no redirect is followed (a 3xx is an error naming its target);
//! - connect and read timeouts, and a response size limit read as a
//!   stream (the body is never read past the limit).
//!
//! ureq is blocking: requests run on tokio's blocking pool.

pub mod addresses;
mod client;
pub mod dids;
mod tls;

use std::sync::Arc;

pub use client::{
    Lookup, Outbound, OutboundError, OutboundSettings, Reply, Request, MAX_RESPONSE_BYTES,
};

/// The server's outbound side: the guarded client, and the did:web
/// resolver (with its cache) over it.
#[derive(Clone)]
pub struct Remote {
    /// The guarded client.
    pub client: Outbound,
    /// The DID documents of other servers' issuers.
    pub dids: Arc<dids::WebDids>,
    /// Seals the tokens and client secrets of the badge hosts awards are
    /// sent to, with the key that seals issuers' private keys.
    pub vault: Arc<openbadges_credentials::KeyVault>,
}

impl Remote {
    /// The client and resolver `settings` describe; secrets sealed under
    /// `key_encryption_key`.
    pub fn new(settings: OutboundSettings, key_encryption_key: &[u8; 32]) -> Result<Self, String> {
        let client = Outbound::new(settings)?;
        Ok(Self {
            vault: Arc::new(openbadges_credentials::KeyVault::new(key_encryption_key)),
            dids: Arc::new(dids::WebDids::new(
                client.clone(),
                settings.allow_loopback_http,
            )),
            client,
        })
    }
}
