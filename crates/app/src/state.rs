//! What every handler can reach: the [`AppState`] shared through `web::Data`.

use std::sync::Arc;

use openbadges_domain::documents::Urls;
use openbadges_domain::ports::Store;

use crate::config::Settings;

/// What every handler can reach, shared through `web::Data`.
pub struct AppState {
    /// The storage backend chosen at start. Handlers that write, and
    /// anything deciding access, use it.
    pub store: Arc<dyn Store>,
    /// The same storage for public reads (GETs of documents anyone may
    /// fetch, which write nothing): on PostgreSQL with read replicas its
    /// plain reads go to a replica at most `REPLICA_MAX_LAG_MS` behind,
    /// otherwise it is `store`. Never for a request that writes: it would
    /// not see its own write.
    pub reads: Arc<dyn Store>,
    /// The configuration the server runs with.
    pub settings: Arc<Settings>,
    /// Public URLs of documents, under `BASE_URL`.
    pub urls: Urls,
    /// How callers authenticate.
    pub auth: crate::auth::config::AuthConfig,
    /// Tags the list cursors handed out and checks those presented.
    pub cursors: openbadges_domain::CursorKey,
    /// Signs issued credentials.
    pub signing: Arc<openbadges_signing::Signing>,
    /// Derives the tokens of learners' address verifications.
    pub verification: openbadges_domain::learners::VerificationKey,
    /// Guarded outbound HTTP (badge hosts) and the did:web resolver the
    /// verifier asks for other servers' issuers.
    pub outbound: crate::outbound::Remote,
    /// Rendered public documents, kept while nothing they come from
    /// changes.
    pub documents: Arc<crate::cache::DocumentCache>,
    /// Stored credentials whose proof was found valid (exact text and
    /// key), so that verifying them again skips the signature.
    pub proofs: Arc<openbadges_verify::ProofMemo>,
    /// The awards and keys verification reads (of `reads`), kept in
    /// `documents`.
    pub records: Arc<crate::cache::CachedRecords>,
}
