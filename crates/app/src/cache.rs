//! The cache of rendered public documents: credentials, achievements,
//! issuers, DID documents and status lists, as answered to a GET; and of
//! the awards and keys verification reads ([`CachedRecords`]).
//!
//! A public GET is mostly database round trips through the blocking pool;
//! kept rendered, it is a hash lookup. Verifying one of our credentials
//! reads its award and its key: two round trips, or none. What makes
//! keeping them safe:
//!
//! - **Every instance hears of every change.** The database reports changes
//!   to anything published ([`ChangeFeed`]: PostgreSQL notifies on commit,
//!   SQLite counts a generation that `PRAGMA data_version` says to read), a
//!   thread here asks every [`TICK`], and any change forgets the whole
//!   cache. Changes are rare (an update, a revocation, a new key); issuing
//!   an award is not one.
//! - **Silence is not taken for "nothing changed".** The cache answers only
//!   while the feed confirmed within [`MAX_SILENCE`]: a feed that fails or
//!   falls behind (a lost connection, a starved thread) turns the cache off
//!   until it is back, and every GET reads the database meanwhile. So a
//!   change committed anywhere is served by no instance later than about
//!   `MAX_SILENCE` after it (plus PostgreSQL's delivery of the
//!   notification, a few milliseconds).
//! - **This instance's own writes forget the cache before they answer**
//!   (see [`invalidate_on_write`]), so a client that revokes and then reads
//!   never sees the old document.
//! - **A document read before a change is never kept after it.** A GET
//!   takes a [`Ticket`] before reading; the document is kept only if no
//!   change was heard since. With read replicas, whose reads can trail a
//!   change by up to `REPLICA_MAX_LAG_MS`, nothing is kept until that long
//!   after the last change.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{web, HttpRequest, HttpResponse};
use async_trait::async_trait;
use openbadges_domain::documents::Version;
use openbadges_domain::ports::{ChangeFeed, Store};
use openbadges_domain::{
    Assertion, AssertionId, BadgeClassId, DomainError, IssuerId, KeyAlgorithm, SigningKey,
    SigningKeyId, StatusListId, StatusPurpose,
};
use openbadges_verify::{Records, StoreRecords, StoredKey};

use crate::api::documents::PublicDocument;
use crate::error::ApiError;

/// How often the feed is asked.
const TICK: Duration = Duration::from_millis(10);
/// How long the cache answers without a confirmation from the feed.
pub(crate) const MAX_SILENCE: Duration = Duration::from_millis(50);
/// How long to wait before opening the feed again after it failed.
const REOPEN: Duration = Duration::from_secs(1);

/// Which document, in which rendering.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum DocumentKey {
    /// A credential's JSON-LD, as OB 2.0 or OB 3.0.
    Credential(AssertionId, Version),
    /// An achievement (badge class).
    Achievement(BadgeClassId, Version),
    /// An issuer's profile.
    Issuer(IssuerId, Version),
    /// An issuer's DID document.
    Did(IssuerId),
    /// A signed status list.
    StatusList(StatusListId, StatusPurpose),
    /// An award, as verification reads it.
    Award(AssertionId),
    /// A stored key, as verification reads it.
    SigningKey(SigningKeyId),
    /// An issuer's active key of an algorithm, as signing reads it.
    ActiveKey(IssuerId, KeyAlgorithm),
}

/// What the cache keeps for a [`DocumentKey`]: a document for the keys of
/// documents, an award for [`DocumentKey::Award`], a key for
/// [`DocumentKey::SigningKey`].
#[derive(Clone)]
enum Kept {
    Document(Arc<PublicDocument>),
    Award(Arc<Assertion>),
    Key(Arc<StoredKey>),
    /// An active key, with its private half sealed as stored.
    ActiveKey(Arc<SigningKey>),
}

impl Kept {
    /// About how many bytes it holds: its text, and room for the rest.
    fn size(&self) -> usize {
        match self {
            Self::Document(document) => document.size(),
            Self::Award(award) => {
                std::mem::size_of::<Assertion>()
                    + award
                        .issued_credential
                        .as_ref()
                        .map_or(0, |c| c.json().len())
                    + 512
            }
            Self::Key(_) => std::mem::size_of::<StoredKey>() + 512,
            Self::ActiveKey(key) => {
                std::mem::size_of::<SigningKey>()
                    + key.public_key.len()
                    + key.sealed_private_key.len()
            }
        }
    }
}

/// Proof that a rendering started in the cache's current generation: see
/// [`DocumentCache::ticket`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ticket(u64);

/// The counts `/metrics` shows.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct CacheStats {
    pub(crate) hits: u64,
    pub(crate) misses: u64,
    pub(crate) invalidations: u64,
    pub(crate) entries: usize,
    pub(crate) bytes: usize,
    pub(crate) live: bool,
}

struct Entries {
    generation: u64,
    bytes: usize,
    documents: HashMap<DocumentKey, Kept>,
}

/// The rendered documents of the current generation. See the module.
pub struct DocumentCache {
    /// Most bytes of documents kept; 0: keep nothing.
    budget: usize,
    /// With read replicas: how long after a change nothing is kept.
    settle: Duration,
    /// The origin of the millisecond clocks below.
    epoch: Instant,
    /// When (ms after `epoch`, plus one; 0: never) the feed's last
    /// confirmation started.
    confirmed: AtomicU64,
    /// When (ms after `epoch`) the last change was heard.
    changed: AtomicU64,
    entries: RwLock<Entries>,
    hits: AtomicU64,
    misses: AtomicU64,
    invalidations: AtomicU64,
    /// How many keys the signer made (see [`invalidate_on_write`]).
    keys_made: AtomicU64,
}

impl DocumentCache {
    /// A cache keeping at most `budget` bytes of documents (0: off), not
    /// keeping anything for `settle` after a change (the replicas' lag
    /// bound, or zero without replicas).
    pub fn new(budget: usize, settle: Duration) -> Self {
        Self {
            budget,
            settle,
            epoch: Instant::now(),
            confirmed: AtomicU64::new(0),
            changed: AtomicU64::new(0),
            entries: RwLock::new(Entries {
                generation: 0,
                bytes: 0,
                documents: HashMap::new(),
            }),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            invalidations: AtomicU64::new(0),
            keys_made: AtomicU64::new(0),
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Whether the feed confirmed recently enough for the cache to answer.
    fn live(&self) -> bool {
        let confirmed = self.confirmed.load(Ordering::Acquire);
        confirmed != 0
            && self.now().saturating_sub(confirmed - 1)
                <= u64::try_from(MAX_SILENCE.as_millis()).unwrap_or(u64::MAX)
    }

    /// The document kept for `key`, if the cache may answer.
    pub(crate) fn get(&self, key: &DocumentKey) -> Option<Arc<PublicDocument>> {
        match self.lookup(key)? {
            Kept::Document(document) => Some(document),
            Kept::Award(_) | Kept::Key(_) | Kept::ActiveKey(_) => None,
        }
    }

    /// What is kept for `key`, if the cache may answer.
    fn lookup(&self, key: &DocumentKey) -> Option<Kept> {
        if self.budget == 0 || !self.live() {
            return None;
        }
        let found = self
            .entries
            .read()
            .ok()
            .and_then(|entries| entries.documents.get(key).cloned());
        let counter = if found.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// Taken before reading what a document is rendered from; `None` when
    /// the cache keeps nothing now.
    pub(crate) fn ticket(&self) -> Option<Ticket> {
        if self.budget == 0 || !self.live() {
            return None;
        }
        let entries = self.entries.read().ok()?;
        Some(Ticket(entries.generation))
    }

    /// Keeps `document` for `key` if nothing changed since `ticket` was
    /// taken (and, with replicas, if the last change has settled).
    pub(crate) fn put(
        &self,
        key: DocumentKey,
        ticket: Option<Ticket>,
        document: Arc<PublicDocument>,
    ) {
        self.keep(key, ticket, Kept::Document(document));
    }

    /// Keeps `kept` for `key` on the terms of [`Self::put`].
    fn keep(&self, key: DocumentKey, ticket: Option<Ticket>, kept: Kept) {
        let Some(Ticket(generation)) = ticket else {
            return;
        };
        let settle = u64::try_from(self.settle.as_millis()).unwrap_or(u64::MAX);
        if settle > 0
            && self
                .now()
                .saturating_sub(self.changed.load(Ordering::Acquire))
                < settle
        {
            return;
        }
        let size = kept.size();
        if size > self.budget {
            return;
        }
        let Ok(mut entries) = self.entries.write() else {
            return;
        };
        if entries.generation != generation {
            return;
        }
        // Full: start again rather than track recency on every hit; the
        // documents read most come back first.
        if entries.bytes + size > self.budget {
            entries.documents.clear();
            entries.bytes = 0;
        }
        if let Some(old) = entries.documents.insert(key, kept) {
            entries.bytes -= old.size();
        }
        entries.bytes += size;
    }

    /// Forgets every document: something they are rendered from changed.
    pub(crate) fn invalidate(&self) {
        self.changed.store(self.now(), Ordering::Release);
        if let Ok(mut entries) = self.entries.write() {
            entries.generation += 1;
            entries.documents.clear();
            entries.bytes = 0;
        }
        self.invalidations.fetch_add(1, Ordering::Relaxed);
    }

    /// The feed reported everything up to `started` (from [`Self::now`]).
    fn confirm(&self, started: u64) {
        self.confirmed.fetch_max(started + 1, Ordering::AcqRel);
    }

    /// The feed is broken: stop answering until it confirms again.
    fn disconnect(&self) {
        self.confirmed.store(0, Ordering::Release);
        self.invalidate();
    }

    /// What `/metrics` shows.
    pub(crate) fn stats(&self) -> CacheStats {
        let (entries, bytes) = self
            .entries
            .read()
            .map(|e| (e.documents.len(), e.bytes))
            .unwrap_or_default();
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            invalidations: self.invalidations.load(Ordering::Relaxed),
            entries,
            bytes,
            live: self.live(),
        }
    }
}

/// Answers `request` with the document kept for `key`, or else with the
/// one `render` makes, which is kept. `render` is a future, so it reads
/// nothing until awaited here, after the ticket is taken.
pub(crate) async fn cached(
    request: &HttpRequest,
    cache: &DocumentCache,
    key: DocumentKey,
    render: impl Future<Output = Result<PublicDocument, ApiError>>,
) -> Result<HttpResponse, ApiError> {
    if let Some(document) = cache.get(&key) {
        return Ok(document.respond(request));
    }
    let ticket = cache.ticket();
    let document = Arc::new(render.await?);
    let response = document.respond(request);
    cache.put(key, ticket, document);
    Ok(response)
}

/// The awards and keys verification reads, from the cache while it may
/// answer, else from the store (and then kept, on the terms documents
/// are). A revocation, suspension or key change is a change the feed
/// reports, so none is verified from what was kept before it.
pub struct CachedRecords {
    store: Arc<dyn Store>,
    cache: Arc<DocumentCache>,
}

impl CachedRecords {
    /// Records of `store` kept in `cache`.
    pub fn new(store: Arc<dyn Store>, cache: Arc<DocumentCache>) -> Self {
        Self { store, cache }
    }
}

#[async_trait]
impl Records for CachedRecords {
    async fn award(&self, id: AssertionId) -> Result<Arc<Assertion>, DomainError> {
        let key = DocumentKey::Award(id);
        if let Some(Kept::Award(award)) = self.cache.lookup(&key) {
            return Ok(award);
        }
        let ticket = self.cache.ticket();
        let award = StoreRecords(self.store.as_ref()).award(id).await?;
        self.cache
            .keep(key, ticket, Kept::Award(Arc::clone(&award)));
        Ok(award)
    }

    async fn key(&self, id: SigningKeyId) -> Result<Arc<StoredKey>, DomainError> {
        let key = DocumentKey::SigningKey(id);
        if let Some(Kept::Key(found)) = self.cache.lookup(&key) {
            return Ok(found);
        }
        let ticket = self.cache.ticket();
        let found = StoreRecords(self.store.as_ref()).key(id).await?;
        self.cache.keep(key, ticket, Kept::Key(Arc::clone(&found)));
        Ok(found)
    }
}

/// The issuers' active keys, kept on the terms documents are: any change
/// to a key (made, rotated, revoked, through any instance) forgets them.
impl openbadges_signing::ActiveKeys for DocumentCache {
    fn get(&self, issuer: IssuerId, algorithm: KeyAlgorithm) -> Option<SigningKey> {
        match self.lookup(&DocumentKey::ActiveKey(issuer, algorithm))? {
            Kept::ActiveKey(key) => Some(SigningKey::clone(&key)),
            Kept::Document(_) | Kept::Award(_) | Kept::Key(_) => None,
        }
    }

    fn ticket(&self) -> Option<u64> {
        DocumentCache::ticket(self).map(|Ticket(generation)| generation)
    }

    fn keep(&self, ticket: u64, key: SigningKey) {
        self.keep(
            DocumentKey::ActiveKey(key.issuer_id, key.algorithm),
            Some(Ticket(ticket)),
            Kept::ActiveKey(Arc::new(key)),
        );
    }

    fn key_made(&self) {
        self.keys_made.fetch_add(1, Ordering::AcqRel);
    }
}

/// The thread following the store's change feed; stops when dropped.
pub(crate) struct Follower {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Follower {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Starts following `store`'s changes into `cache`. Without a budget, or
/// a store that cannot report changes, nothing is followed and the cache
/// stays off.
pub(crate) fn follow(store: Arc<dyn Store>, cache: Arc<DocumentCache>) -> Option<Follower> {
    if cache.budget == 0 {
        log::info!("document cache off (DOCUMENT_CACHE_MB=0)");
        return None;
    }
    let stop = Arc::new(AtomicBool::new(false));
    let stopping = Arc::clone(&stop);
    let thread = std::thread::Builder::new()
        .name("change-feed".to_owned())
        .spawn(move || run(store.as_ref(), &cache, &stopping))
        .map_err(|e| log::warn!("document cache off: cannot start its thread: {e}"))
        .ok()?;
    Some(Follower {
        stop,
        thread: Some(thread),
    })
}

fn run(store: &dyn Store, cache: &DocumentCache, stop: &AtomicBool) {
    let mut failing = false;
    while !stop.load(Ordering::Acquire) {
        match store.open_change_feed() {
            Ok(None) => {
                log::info!("document cache off: this store cannot report changes");
                return;
            }
            Ok(Some(feed)) => {
                if failing {
                    log::info!("document cache on again: the database reports changes");
                }
                failing = false;
                listen(feed, cache, stop);
            }
            Err(error) => {
                if !failing {
                    log::warn!("document cache off until the database reports changes: {error}");
                }
                failing = true;
                pause(REOPEN, stop);
            }
        }
    }
}

/// Confirms every tick until the feed fails or the server stops.
fn listen(mut feed: Box<dyn ChangeFeed>, cache: &DocumentCache, stop: &AtomicBool) {
    // Anything kept before this feed opened was not followed.
    cache.invalidate();
    while !stop.load(Ordering::Acquire) {
        let started = cache.now();
        match feed.changed() {
            Ok(changed) => {
                if changed {
                    cache.invalidate();
                }
                cache.confirm(started);
            }
            Err(error) => {
                log::warn!("document cache off: lost the database's change reports: {error}");
                cache.disconnect();
                return;
            }
        }
        std::thread::sleep(TICK);
    }
    cache.disconnect();
}

fn pause(duration: Duration, stop: &AtomicBool) {
    let until = Instant::now() + duration;
    while !stop.load(Ordering::Acquire) && Instant::now() < until {
        std::thread::sleep(TICK);
    }
}

/// First path segments (after `/v2` or `/v3`) of the routes that write
/// nothing a document is rendered from: verifying, signing in, OAuth, the
/// learners' own data, accounts, API keys and images. Their POSTs (a
/// verifier's `POST /verify` above all) must not empty the cache.
const WRITES_NOTHING_PUBLISHED: [&str; 10] = [
    "verify", "auth", "oauth", "learner", "ims", "backpack", "api-keys", "users", "assets", "pages",
];

/// What a request may change of what documents are rendered from.
#[derive(Debug, PartialEq, Eq)]
enum Publishes {
    /// Nothing: a read, or a write of something no document shows.
    Nothing,
    /// New awards only (`POST /credentials`, `/credentials/batch`, and
    /// their `/assertions` aliases): no document served before changes,
    /// unless the issuer's first key is made on the way, which its DID
    /// document then lists.
    NewAwards,
    /// Anything.
    Anything,
}

/// What a request of `method` to `path` may change.
fn publishes(method: &Method, path: &str) -> Publishes {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return Publishes::Nothing;
    }
    let path = path
        .strip_prefix("/v2")
        .or_else(|| path.strip_prefix("/v3"))
        .unwrap_or(path);
    let path = path.trim_matches('/');
    let first = path.split('/').next().unwrap_or("");
    if WRITES_NOTHING_PUBLISHED.contains(&first) {
        return Publishes::Nothing;
    }
    let issues = matches!(
        path,
        "credentials" | "credentials/batch" | "assertions" | "assertions/batch"
    );
    if *method == Method::POST && issues {
        Publishes::NewAwards
    } else {
        Publishes::Anything
    }
}

/// Middleware: a request that may have changed something published (see
/// [`publishes`]) and was not refused (an answer below 400, or a 5xx,
/// which can follow a commit) forgets the cache before its answer leaves,
/// so the client's next read sees its write. Issuing forgets it only if a
/// key was made meanwhile: on a day of issuance, the documents being
/// viewed stay kept. The feed tells the other instances, and this one of
/// anything the list above lets through.
pub(crate) async fn invalidate_on_write(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let publishes = publishes(request.method(), request.path());
    let cache = (publishes != Publishes::Nothing)
        .then(|| request.app_data::<web::Data<DocumentCache>>().cloned())
        .flatten();
    let keys_before = cache
        .as_ref()
        .map(|cache| cache.keys_made.load(Ordering::Acquire));
    let response = next.call(request).await?;
    if let Some(cache) = cache {
        let key_made = keys_before != Some(cache.keys_made.load(Ordering::Acquire));
        let forget = publishes == Publishes::Anything || key_made;
        if !response.status().is_client_error() && forget {
            cache.invalidate();
        }
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::documents::Freshness;

    fn doc(text: &str) -> Arc<PublicDocument> {
        Arc::new(PublicDocument::new(
            text.to_owned(),
            "application/ld+json",
            Freshness::Minutes,
        ))
    }

    fn key(n: u128) -> DocumentKey {
        DocumentKey::Did(IssuerId::from(uuid::Uuid::from_u128(n)))
    }

    fn live_cache(budget: usize) -> DocumentCache {
        let cache = DocumentCache::new(budget, Duration::ZERO);
        cache.confirm(cache.now());
        cache
    }

    #[test]
    fn a_document_is_kept_and_answered_while_the_feed_confirms() {
        let cache = live_cache(1 << 20);
        let ticket = cache.ticket();
        assert!(ticket.is_some());
        cache.put(key(1), ticket, doc("one"));
        assert_eq!(
            cache.get(&key(1)).map(|d| d.body().to_vec()),
            Some(b"one".to_vec())
        );
        assert!(cache.get(&key(2)).is_none());
        let stats = cache.stats();
        assert_eq!((stats.hits, stats.misses, stats.entries), (1, 1, 1));
    }

    #[test]
    fn nothing_is_answered_or_kept_before_the_feed_confirms_or_after_it_fails() {
        let cache = DocumentCache::new(1 << 20, Duration::ZERO);
        assert!(cache.ticket().is_none());
        cache.confirm(cache.now());
        cache.put(key(1), cache.ticket(), doc("one"));
        assert!(cache.get(&key(1)).is_some());
        cache.disconnect();
        assert!(cache.get(&key(1)).is_none());
        assert!(cache.ticket().is_none());
        cache.confirm(cache.now());
        // What was kept before the failure is gone.
        assert!(cache.get(&key(1)).is_none());
    }

    #[test]
    fn a_silent_feed_turns_the_cache_off() {
        let cache = DocumentCache::new(1 << 20, Duration::ZERO);
        cache.confirm(cache.now());
        cache.put(key(1), cache.ticket(), doc("one"));
        // Move the clock's origin back: the last confirmation is now older
        // than MAX_SILENCE.
        let cache = DocumentCache {
            epoch: cache.epoch - MAX_SILENCE - Duration::from_millis(5),
            ..cache
        };
        assert!(cache.get(&key(1)).is_none());
        assert!(cache.ticket().is_none());
    }

    #[test]
    fn a_document_rendered_across_a_change_is_not_kept() {
        let cache = live_cache(1 << 20);
        let before = cache.ticket();
        cache.invalidate();
        cache.put(key(1), before, doc("stale"));
        assert!(cache.get(&key(1)).is_none());
        cache.put(key(1), cache.ticket(), doc("fresh"));
        assert_eq!(
            cache.get(&key(1)).map(|d| d.body().to_vec()),
            Some(b"fresh".to_vec())
        );
    }

    #[test]
    fn a_change_forgets_everything() {
        let cache = live_cache(1 << 20);
        cache.put(key(1), cache.ticket(), doc("one"));
        cache.put(key(2), cache.ticket(), doc("two"));
        cache.invalidate();
        assert!(cache.get(&key(1)).is_none());
        assert!(cache.get(&key(2)).is_none());
        assert_eq!(cache.stats().bytes, 0);
    }

    #[test]
    fn the_budget_bounds_what_is_kept() {
        let one = doc("one");
        let budget = one.size() * 2;
        let cache = live_cache(budget);
        cache.put(key(1), cache.ticket(), one);
        cache.put(key(2), cache.ticket(), doc("two"));
        assert!(cache.stats().bytes <= budget);
        cache.put(key(3), cache.ticket(), doc("six"));
        let stats = cache.stats();
        assert!(stats.bytes <= budget, "{stats:?}");
        assert!(cache.get(&key(3)).is_some());
        let off = live_cache(0);
        assert!(off.ticket().is_none());
    }

    #[test]
    fn writes_to_what_is_published_forget_the_cache_and_the_rest_do_not() {
        use Publishes::{Anything, NewAwards, Nothing};
        for (method, path, expected) in [
            (Method::POST, "/credentials", NewAwards),
            (Method::POST, "/v3/credentials/batch", NewAwards),
            (Method::POST, "/assertions/", NewAwards),
            (Method::POST, "/v2/assertions/batch", NewAwards),
            (Method::PUT, "/credentials/0b0c", Anything),
            (Method::POST, "/credentials/0b0c/sign", Anything),
            (Method::POST, "/v3/credentials/0b0c/revoke", Anything),
            (Method::PUT, "/achievements/0b0c", Anything),
            (Method::PATCH, "/v2/issuers/0b0c", Anything),
            (Method::DELETE, "/badge-classes/0b0c", Anything),
            (Method::POST, "/issuers/0b0c/keys/rotate", Anything),
            (Method::POST, "/endorsements/0b0c/revoke", Anything),
            (Method::POST, "/status-lists", Anything),
            (Method::GET, "/credentials/0b0c", Nothing),
            (Method::HEAD, "/issuers/0b0c", Nothing),
            (Method::POST, "/verify", Nothing),
            (Method::POST, "/v3/verify", Nothing),
            (Method::POST, "/auth/login", Nothing),
            (Method::POST, "/oauth/token", Nothing),
            (Method::PUT, "/ims/ob/v3p0/profile", Nothing),
            (Method::POST, "/learner/emails", Nothing),
            (Method::POST, "/assets", Nothing),
        ] {
            assert_eq!(publishes(&method, path), expected, "{method} {path}");
        }
    }

    #[test]
    fn with_replicas_nothing_is_kept_until_a_change_settles() {
        let cache = DocumentCache::new(1 << 20, Duration::from_secs(3600));
        cache.confirm(cache.now());
        cache.invalidate();
        cache.put(key(1), cache.ticket(), doc("maybe stale"));
        assert!(cache.get(&key(1)).is_none());
    }
}
