//! Ports: what the domain needs from storage. Adapters implement these traits;
//! nothing here knows which database is behind them.

use async_trait::async_trait;

use crate::batch::AwardBatch;
use crate::entities::*;
use crate::ids::*;
use crate::operations::{Backend, PoolState, ReadRouting};
use crate::page::{Cursor, Page, PageRequest};
use crate::values::{ApiKeyHash, Email, PasswordHash, Role, Timestamp};
use crate::DomainError;

/// Result of a port call.
pub type RepoResult<T> = Result<T, DomainError>;

/// What to do with dependants when deleting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeleteMode {
    /// Refuse with [`DomainError::HasDependants`] while anything depends on it.
    #[default]
    Restrict,
    /// Delete dependants too, in the same transaction.
    Cascade,
}

/// Filters for listing issuers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IssuerFilter {
    /// Only issuers managed by this user.
    pub owner_id: Option<UserId>,
}

/// Filters for listing badge classes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BadgeClassFilter {
    /// Only badge classes of this issuer.
    pub issuer_id: Option<IssuerId>,
}

/// Filters for listing assertions; all given filters must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AssertionFilter {
    /// Only awards of this badge class.
    pub badge_class_id: Option<BadgeClassId>,
    /// Only awards by this issuer.
    pub issuer_id: Option<IssuerId>,
    /// Only awards to this recipient, by [`crate::Recipient::lookup_key`].
    pub recipient_key: Option<String>,
    /// Only awards of issuers owned by this user.
    pub owner_id: Option<UserId>,
}

/// Issuer profiles. Lists are ordered by creation time, then id.
#[async_trait]
pub trait IssuerRepository: Send + Sync {
    /// Stores a new issuer; `Duplicate` if the id is taken.
    async fn create(&self, issuer: &Issuer) -> RepoResult<()>;
    /// The issuer, or `NotFound`.
    async fn get(&self, id: IssuerId) -> RepoResult<Issuer>;
    /// Replaces a stored issuer's client-set fields (name, url, email,
    /// description, image); never its owner, which only the deletion of
    /// that user changes. `NotFound` if it is gone.
    async fn update(&self, issuer: &Issuer) -> RepoResult<()>;
    /// Deletes an issuer and its badge classes. With `Restrict`, `HasDependants`
    /// while any of its badges has been awarded; with `Cascade`, the awards
    /// go too. One transaction either way.
    async fn delete(&self, id: IssuerId, mode: DeleteMode) -> RepoResult<()>;
    /// One page of issuers.
    async fn list(&self, filter: &IssuerFilter, page: PageRequest) -> RepoResult<Page<Issuer>>;
}

/// Badge classes (achievements). Lists are ordered by creation time, then id.
#[async_trait]
pub trait BadgeClassRepository: Send + Sync {
    /// Stores a new badge class; `MissingReference` if its issuer does not exist.
    async fn create(&self, badge_class: &BadgeClass) -> RepoResult<()>;
    /// The badge class, or `NotFound`.
    async fn get(&self, id: BadgeClassId) -> RepoResult<BadgeClass>;
    /// The badge class and its issuer, read together (issuance needs
    /// both: one round trip instead of two); `NotFound` names the badge
    /// class.
    async fn get_with_issuer(&self, id: BadgeClassId) -> RepoResult<(BadgeClass, crate::Issuer)>;
    /// Replaces a stored badge class's fields (not its issuer); `NotFound` if it is gone.
    async fn update(&self, badge_class: &BadgeClass) -> RepoResult<()>;
    /// Deletes a badge class; with `Restrict`, `HasDependants` while it has awards.
    async fn delete(&self, id: BadgeClassId, mode: DeleteMode) -> RepoResult<()>;
    /// One page of badge classes.
    async fn list(
        &self,
        filter: &BadgeClassFilter,
        page: PageRequest,
    ) -> RepoResult<Page<BadgeClass>>;
}

/// Awards (assertions / credentials). Lists are ordered by creation time, then id.
#[async_trait]
pub trait AssertionRepository: Send + Sync {
    /// Stores a new award; `MissingReference` if its badge class does not
    /// exist, `Validation` if `issuer_id` is not the badge class's issuer.
    async fn create(&self, assertion: &Assertion) -> RepoResult<()>;
    /// Stores a batch of awards in one transaction, all of them or none,
    /// and hands the batch back to be answered with. It is taken, not
    /// borrowed, so that an adapter can read it out a few awards at a time
    /// ([`AwardBatch::chunks`]) on its own thread: a batch's signed texts
    /// are not all in memory at once.
    async fn create_many(&self, batch: AwardBatch) -> RepoResult<AwardBatch>;
    /// Stores a new award as [`create`](Self::create) does, and queues the
    /// e-mail announcing it in the same transaction (the batch form:
    /// [`AwardBatch::notify`]).
    async fn create_notifying(
        &self,
        assertion: &Assertion,
        notification: &crate::mail::Notification,
    ) -> RepoResult<()>;
    /// The award, or `NotFound`.
    async fn get(&self, id: AssertionId) -> RepoResult<Assertion>;
    /// Replaces a stored award's client-set fields (recipient, dates,
    /// evidence, narrative, image) and its issued credential; never its
    /// status, which only [`AssertionRepository::set_status`] writes, so an
    /// edit racing a revocation cannot undo it. `NotFound` if it is gone.
    async fn update(&self, assertion: &Assertion) -> RepoResult<()>;
    /// Moves an award from status `from` to `to` (writing `updated_at =
    /// at` too) only if its stored status is still of `from`'s kind, in one
    /// statement: `Stale` if it changed since it was read (a revocation
    /// landed first, say), `NotFound` if it is gone.
    async fn set_status(
        &self,
        id: AssertionId,
        from: &CredentialStatus,
        to: &CredentialStatus,
        at: Timestamp,
    ) -> RepoResult<()>;
    /// Deletes an award.
    async fn delete(&self, id: AssertionId) -> RepoResult<()>;
    /// One page of awards.
    async fn list(
        &self,
        filter: &AssertionFilter,
        page: PageRequest,
    ) -> RepoResult<Page<Assertion>>;
    /// At most `limit` awards that come after `after` in the list order
    /// (from the first when `None`); counts nothing. Must cost the same
    /// however many awards precede `after`: seek an index ending in
    /// `(created_at, id)`, never skip rows. Asking `limit + 1` tells whether
    /// a next page exists.
    async fn list_after(
        &self,
        filter: &AssertionFilter,
        after: Option<Cursor>,
        limit: u32,
    ) -> RepoResult<Vec<Assertion>>;
}

/// The mail outbox: e-mails about awards waiting to be sent. Rows are
/// written with their award ([`AssertionRepository::create_notifying`])
/// and deleted with it.
///
/// A claim is atomic and raises `attempts`, which then identifies the
/// claim: the `mark_*` calls take the claimed row and change it only while
/// it is still that claim (`sending` with the same `attempts`), so a sender
/// whose lease ran out and was claimed again by another cannot overwrite
/// the newer claim's outcome. They answer whether they changed the row.
#[async_trait]
pub trait OutboxRepository: Send + Sync {
    /// Claims at most `limit` due rows, oldest due first: `pending` ones due
    /// by `now`, and `sending` ones whose lease ended by `now` (their
    /// sender stopped). Each becomes `sending` until `now + lease`, with
    /// `attempts` raised and `last_attempt_at = now`. Safe with several
    /// instances claiming at once: no row is handed to two claims whose
    /// leases overlap.
    async fn claim_due(
        &self,
        now: Timestamp,
        lease: std::time::Duration,
        limit: u32,
    ) -> RepoResult<Vec<crate::mail::OutboxMessage>>;
    /// The claimed row was accepted by the SMTP server at `at`.
    async fn mark_sent(
        &self,
        claimed: &crate::mail::OutboxMessage,
        at: Timestamp,
    ) -> RepoResult<bool>;
    /// The attempt failed with `error`; the row is due again at `next_at`.
    async fn mark_retry(
        &self,
        claimed: &crate::mail::OutboxMessage,
        next_at: Timestamp,
        error: &str,
    ) -> RepoResult<bool>;
    /// The attempt failed with `error` and no other will be made.
    async fn mark_failed(
        &self,
        claimed: &crate::mail::OutboxMessage,
        error: &str,
    ) -> RepoResult<bool>;
    /// The e-mail about the award, if one was queued.
    async fn state_of(
        &self,
        assertion_id: AssertionId,
    ) -> RepoResult<Option<crate::mail::OutboxMessage>>;
}

/// Badge hosts this server registered with, and the sending of awards to
/// them (see [`crate::deliveries`]). Claims work as the mail outbox's: a
/// claim is atomic, raises `attempts`, and the `mark_*` calls change a
/// delivery only while it is still that claim, answering whether they did.
#[async_trait]
pub trait DeliveryRepository: Send + Sync {
    /// The host registered under `base_url`, if any.
    async fn host(&self, base_url: &str) -> RepoResult<Option<crate::deliveries::RemoteHost>>;
    /// The host `id`, or `NotFound`.
    async fn get_host(&self, id: RemoteHostId) -> RepoResult<crate::deliveries::RemoteHost>;
    /// Stores a new registration; `Conflict` when the base URL has one
    /// (another request registered first).
    async fn add_host(&self, host: &crate::deliveries::RemoteHost) -> RepoResult<()>;
    /// Stores a new delivery (authorizing); `NotFound` without its award or
    /// host.
    async fn start(&self, delivery: &crate::deliveries::Delivery) -> RepoResult<()>;
    /// The authorizing delivery whose `state` hashes to `state_hash`.
    async fn find_authorizing(
        &self,
        state_hash: &str,
    ) -> RepoResult<Option<crate::deliveries::Delivery>>;
    /// How many deliveries of the award are authorizing with a deadline
    /// after `now`.
    async fn open_authorizations(
        &self,
        assertion_id: AssertionId,
        now: Timestamp,
    ) -> RepoResult<u64>;
    /// The learner authorized: stores `tokens`, forgets the state and the
    /// verifier, and makes the delivery due at `now`. Only while it is
    /// authorizing (a state is used once).
    async fn authorized(
        &self,
        id: DeliveryId,
        tokens: &crate::deliveries::SealedTokens,
        now: Timestamp,
    ) -> RepoResult<bool>;
    /// Authorization did not happen (refused, expired, the code exchange
    /// failed): the delivery fails with `error`. Only while authorizing.
    async fn authorization_failed(
        &self,
        id: DeliveryId,
        error: &str,
        now: Timestamp,
    ) -> RepoResult<bool>;
    /// Claims at most `limit` due deliveries, oldest due first: `pending`
    /// ones due by `now`, and `sending` ones whose lease ended by `now`.
    async fn claim_due(
        &self,
        now: Timestamp,
        lease: std::time::Duration,
        limit: u32,
    ) -> RepoResult<Vec<crate::deliveries::Delivery>>;
    /// Replaces the claimed delivery's tokens (a refresh rotated them).
    async fn renew_tokens(
        &self,
        claimed: &crate::deliveries::Delivery,
        tokens: &crate::deliveries::SealedTokens,
        now: Timestamp,
    ) -> RepoResult<bool>;
    /// The host accepted the claimed delivery at `at`.
    async fn mark_delivered(
        &self,
        claimed: &crate::deliveries::Delivery,
        at: Timestamp,
    ) -> RepoResult<bool>;
    /// The attempt failed with `error`; due again at `next_at`.
    async fn mark_retry(
        &self,
        claimed: &crate::deliveries::Delivery,
        next_at: Timestamp,
        error: &str,
        now: Timestamp,
    ) -> RepoResult<bool>;
    /// The attempt failed with `error` and no other will be made.
    async fn mark_failed(
        &self,
        claimed: &crate::deliveries::Delivery,
        error: &str,
        now: Timestamp,
    ) -> RepoResult<bool>;
    /// The award's deliveries, oldest first.
    async fn list_for(
        &self,
        assertion_id: AssertionId,
    ) -> RepoResult<Vec<crate::deliveries::Delivery>>;
}

/// The changes to a user account that [`UserRepository::update`] writes:
/// only the fields that are `Some`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserUpdate {
    /// New e-mail (`Some(None)` clears it).
    pub email: Option<Option<Email>>,
    /// New role.
    pub role: Option<Role>,
    /// New password hash. Setting one always ends the user's sessions.
    pub password_hash: Option<PasswordHash>,
    /// Ends every login token issued so far (see [`User::session_generation`]).
    pub end_sessions: bool,
}

impl UserUpdate {
    /// Whether the update ends the user's login tokens: asked for, or a
    /// new password (whoever knew the old one must not stay logged in).
    pub fn ends_sessions(&self) -> bool {
        self.end_sessions || self.password_hash.is_some()
    }
}

/// User accounts. Lists are ordered by creation time, then id.
#[async_trait]
pub trait UserRepository: Send + Sync {
    /// Stores a new user; `Duplicate` if the username or e-mail is taken.
    async fn create(&self, user: &User) -> RepoResult<()>;
    /// The user, or `NotFound`.
    async fn get(&self, id: UserId) -> RepoResult<User>;
    /// The user with this username, if any.
    async fn find_by_username(&self, username: &str) -> RepoResult<Option<User>>;
    /// The user with this e-mail address (exact match), if any.
    async fn find_by_email(&self, email: &str) -> RepoResult<Option<User>>;
    /// Writes the fields `changes` gives, and `updated_at = at`, in one
    /// statement, and answers the user as stored afterwards: fields not
    /// given are left as they are in the database, so concurrent changes of
    /// different fields never undo each other. `Duplicate` on a taken
    /// e-mail, `NotFound` if the user is gone.
    async fn update(&self, id: UserId, changes: &UserUpdate, at: Timestamp) -> RepoResult<User>;
    /// Deletes a user and their API keys; issuers they owned lose their owner.
    async fn delete(&self, id: UserId) -> RepoResult<()>;
    /// One page of users.
    async fn list(&self, page: PageRequest) -> RepoResult<Page<User>>;
}

/// API keys. Lists are ordered by creation time, then id.
#[async_trait]
pub trait ApiKeyRepository: Send + Sync {
    /// Stores a new key; `MissingReference` if its user does not exist.
    async fn create(&self, key: &ApiKey) -> RepoResult<()>;
    /// The key, or `NotFound`.
    async fn get(&self, id: ApiKeyId) -> RepoResult<ApiKey>;
    /// The key with this hash, if any (revoked and expired keys included).
    async fn find_by_hash(&self, hash: &ApiKeyHash) -> RepoResult<Option<ApiKey>>;
    /// Records that the key was used at `at`: writes `last_used_at` and
    /// nothing else, and only forwards (a late write never moves it back).
    /// A key deleted meanwhile is not an error.
    async fn record_use(&self, id: ApiKeyId, at: Timestamp) -> RepoResult<()>;
    /// Revokes the key as of `at` unless it is revoked already (the first
    /// revocation's time stays), writing `revoked_at` and nothing else, and
    /// answers the key as stored afterwards. `NotFound` if it is gone.
    async fn revoke(&self, id: ApiKeyId, at: Timestamp) -> RepoResult<ApiKey>;
    /// Deletes a key.
    async fn delete(&self, id: ApiKeyId) -> RepoResult<()>;
    /// One page of a user's keys.
    async fn list_for_user(&self, user_id: UserId, page: PageRequest) -> RepoResult<Page<ApiKey>>;
}

/// The proof step of issuance: adds a proof to an OB 3.0 credential of
/// an issuer. Implemented outside the domain (keys, JSON-LD, cryptography).
/// Signed credentials come back as text: that is how they are stored and
/// served, and a batch holds thousands of them at once.
///
/// Issuance asks for the key first ([`key_for`](Self::key_for)), before it
/// takes a status bit, then signs: whatever can fail in signing but the
/// document itself (no key, a key that cannot be opened, the store
/// unavailable) fails before a bit is spent.
#[async_trait]
pub trait CredentialSigner: Send + Sync {
    /// The issuer's active key, made on first use, opened and checked, so
    /// that signing with it afterwards fails only on the document.
    async fn key_for(&self, issuer: &Issuer) -> RepoResult<crate::SigningKey>;
    /// The credential with a proof made with `key` (from
    /// [`key_for`](Self::key_for)).
    async fn sign(
        &self,
        key: &crate::SigningKey,
        credential: serde_json::Value,
    ) -> RepoResult<crate::IssuedCredential>;
    /// Many credentials signed with `key`, in order. The default signs one
    /// after the other; an implementation may spread the work over cores.
    async fn sign_many(
        &self,
        key: &crate::SigningKey,
        credentials: Vec<serde_json::Value>,
    ) -> RepoResult<Vec<crate::IssuedCredential>> {
        let mut signed = Vec::with_capacity(credentials.len());
        for credential in credentials {
            signed.push(self.sign(key, credential).await?);
        }
        Ok(signed)
    }
}

/// Signing keys. Lists are ordered by creation time, then id.
#[async_trait]
pub trait SigningKeyRepository: Send + Sync {
    /// Stores a new key; `Duplicate` if it is active and the issuer already
    /// has an active key of that algorithm (another instance made one first).
    async fn create(&self, key: &SigningKey) -> RepoResult<()>;
    /// The key, or `NotFound`.
    async fn get(&self, id: SigningKeyId) -> RepoResult<SigningKey>;
    /// The issuer's active key of `algorithm`, if any.
    async fn active(
        &self,
        issuer_id: IssuerId,
        algorithm: KeyAlgorithm,
    ) -> RepoResult<Option<SigningKey>>;
    /// Every key of the issuer, whatever its status.
    async fn list_for_issuer(&self, issuer_id: IssuerId) -> RepoResult<Vec<SigningKey>>;
    /// Every key that still verifies (active or retired), for key sets.
    async fn list_verifying(&self, page: PageRequest) -> RepoResult<Page<SigningKey>>;
    /// Retires the issuer's active key of the new key's algorithm and stores
    /// `new` as active, in one transaction.
    async fn rotate(&self, new: &SigningKey) -> RepoResult<()>;
    /// Marks a key revoked; it verifies nothing from now on.
    async fn revoke(&self, id: SigningKeyId, at: Timestamp) -> RepoResult<()>;
}

/// Status lists: handing out bits to awards, and reading which are set.
#[async_trait]
pub trait StatusListRepository: Send + Sync {
    /// Hands out `count` unused bits of the issuer's lists, in one
    /// transaction: from its list with room, then from new lists of
    /// `capacity` bits as needed. Safe with several instances allocating at
    /// once: no bit is ever handed out twice.
    async fn allocate(
        &self,
        issuer_id: IssuerId,
        count: u32,
        capacity: u32,
        now: Timestamp,
    ) -> RepoResult<Vec<StatusSlot>>;
    /// Stores a new list (`POST /status-lists`: made before any bit of it
    /// is needed); `MissingReference` if its issuer does not exist.
    async fn create(&self, list: &StatusList) -> RepoResult<()>;
    /// The list, or `NotFound`.
    async fn get(&self, id: StatusListId) -> RepoResult<StatusList>;
    /// The issuer's lists, oldest first.
    async fn list_for_issuer(&self, issuer_id: IssuerId) -> RepoResult<Vec<StatusList>>;
    /// The indices of the list's awards (and endorsements) whose bit is
    /// set for `purpose` (revoked, or suspended), in ascending order.
    async fn flagged(&self, id: StatusListId, purpose: StatusPurpose) -> RepoResult<Vec<u32>>;
    /// How many of the list's awards (and endorsements) are revoked and
    /// suspended.
    async fn counts(&self, id: StatusListId) -> RepoResult<StatusCounts>;
    /// Every award of the issuer flagged for `purpose` (revoked, or
    /// suspended), whichever list holds it (or none), in list order: what
    /// the OB 2.0 `RevocationList` publishes. Reads only flagged rows.
    async fn flagged_awards(
        &self,
        issuer_id: IssuerId,
        purpose: StatusPurpose,
    ) -> RepoResult<Vec<Assertion>>;
}

/// Endorsements. Lists are ordered by creation time, then id. Endorsements
/// go with what they endorse and with their endorser: deleting an issuer,
/// an achievement or a credential (in either [`DeleteMode`]) deletes its
/// endorsements in the same transaction, and those the issuer made.
#[async_trait]
pub trait EndorsementRepository: Send + Sync {
    /// Stores a new endorsement; `MissingReference` if its subject or its
    /// endorser (an issuer of ours) does not exist, `Duplicate` if the id
    /// is taken.
    async fn create(&self, endorsement: &crate::Endorsement) -> RepoResult<()>;
    /// The endorsement, or `NotFound`.
    async fn get(&self, id: EndorsementId) -> RepoResult<crate::Endorsement>;
    /// Every endorsement of `subject`, revoked ones included.
    async fn list_for(
        &self,
        subject: crate::EndorsedSubject,
    ) -> RepoResult<Vec<crate::Endorsement>>;
    /// Revokes the endorsement as of `at` unless it is revoked already (the
    /// first revocation's time and reason stay), and answers it as stored
    /// afterwards. `NotFound` if it is gone.
    async fn revoke(
        &self,
        id: EndorsementId,
        reason: Option<crate::Text>,
        at: Timestamp,
    ) -> RepoResult<crate::Endorsement>;
}

/// Hosted images (uploads). Stored in the database so that every instance
/// serves them; never changed after upload.
#[async_trait]
pub trait AssetRepository: Send + Sync {
    /// Stores a new asset; `Duplicate` if the id is taken. A user given as
    /// uploader must exist (`MissingReference`).
    async fn create(&self, asset: &crate::Asset) -> RepoResult<()>;
    /// The asset with its bytes, or `NotFound`.
    async fn get(&self, id: AssetId) -> RepoResult<crate::Asset>;
    /// How many assets are stored.
    async fn count(&self) -> RepoResult<u64>;
}

/// OAuth 2.0 clients, authorization codes, grants and tokens
/// ([`crate::oauth`]). Secrets are looked up by their [`SecretHash`] only.
/// A grant goes with its client and its user (deleting either deletes it
/// and its codes and tokens).
///
/// [`SecretHash`]: crate::oauth::SecretHash
#[async_trait]
pub trait OAuthRepository: Send + Sync {
    /// Stores a newly registered client; `Duplicate` if its id is taken.
    async fn create_client(&self, client: &crate::oauth::OAuthClient) -> RepoResult<()>;
    /// The client, if it is registered.
    async fn client(
        &self,
        id: crate::OAuthClientId,
    ) -> RepoResult<Option<crate::oauth::OAuthClient>>;
    /// Stores a new authorization code; `MissingReference` if its client or
    /// user does not exist.
    async fn create_code(&self, code: &crate::oauth::AuthorizationCode) -> RepoResult<()>;
    /// The code with this hash, if any, redeemed or not.
    async fn find_code(
        &self,
        hash: &crate::oauth::SecretHash,
    ) -> RepoResult<Option<crate::oauth::AuthorizationCode>>;
    /// Redeems the code, in one transaction: if it was not redeemed yet it
    /// is marked redeemed at `now` and `grant` (whose id is the code's
    /// `grant_id`) and `tokens` are stored: `Issued`. If it was, nothing is
    /// stored and the grant its first use made is revoked as of `now`:
    /// `AlreadyUsed`. Of concurrent redemptions exactly one is `Issued`.
    /// `NotFound` if there is no such code.
    async fn redeem_code(
        &self,
        hash: &crate::oauth::SecretHash,
        grant: &crate::oauth::Grant,
        tokens: &crate::oauth::TokenPair,
        now: Timestamp,
    ) -> RepoResult<crate::oauth::Redemption>;
    /// The token with this hash and its grant, if any (whatever their state).
    async fn find_token(
        &self,
        hash: &crate::oauth::SecretHash,
    ) -> RepoResult<Option<(crate::oauth::OAuthToken, crate::oauth::Grant)>>;
    /// Exchanges a refresh token, in one transaction: if it and its grant
    /// are not revoked and it was not exchanged yet, it is marked used at
    /// `now` and `tokens` are stored under its grant: `Rotated`. If it was
    /// exchanged before, its grant is revoked as of `now`: `Reused`. If it
    /// or its grant is revoked: `Revoked`, nothing changes. Of concurrent
    /// exchanges exactly one is `Rotated`. `NotFound` if there is no such
    /// refresh token.
    async fn rotate_refresh(
        &self,
        hash: &crate::oauth::SecretHash,
        tokens: &crate::oauth::TokenPair,
        now: Timestamp,
    ) -> RepoResult<crate::oauth::Rotation>;
    /// Revokes one token as of `at` unless it is revoked already; an
    /// unknown hash changes nothing (RFC 7009 answers the same).
    async fn revoke_token(&self, hash: &crate::oauth::SecretHash, at: Timestamp) -> RepoResult<()>;
    /// Revokes the grant of `user` as of `at` unless it is revoked already:
    /// every token of it stops working. `NotFound` if `user` has no such
    /// grant.
    async fn revoke_grant(&self, user: UserId, id: crate::GrantId, at: Timestamp)
        -> RepoResult<()>;
    /// Records that a token of the grant was used at `at`: writes
    /// `last_used_at` only forwards. A grant gone meanwhile is no error.
    async fn record_grant_use(&self, id: crate::GrantId, at: Timestamp) -> RepoResult<()>;
    /// The grants of `user` that are not revoked, oldest first, with their
    /// client's name.
    async fn grants_of(&self, user: UserId) -> RepoResult<Vec<crate::oauth::GrantSummary>>;
}

/// News of changes to what the server publishes (issuers, achievements,
/// awards' content and status, signing keys, endorsements) made by any
/// process sharing the database: what a cache of rendered public documents
/// follows. Issuing a new award is not such a change: no document served
/// before it changes. Blocking; one feed per thread.
pub trait ChangeFeed: Send {
    /// Whether anything published changed since the previous call (the
    /// first call: since the feed opened). At most one round trip to the
    /// database. A change committed before the call started is reported by
    /// it (on PostgreSQL, once the server has delivered its notification,
    /// within milliseconds). An error means changes may have been missed:
    /// whoever follows the feed must forget what it cached and open a new
    /// feed.
    fn changed(&mut self) -> RepoResult<bool>;
}

/// A storage backend: every repository, and a health check.
#[async_trait]
pub trait Store: Send + Sync {
    /// The backend kind.
    fn backend(&self) -> Backend;
    /// Round-trips a trivial query; `Unavailable` if the database does not answer.
    async fn ping(&self) -> RepoResult<()>;
    /// Issuer profiles.
    fn issuers(&self) -> &dyn IssuerRepository;
    /// Badge classes.
    fn badge_classes(&self) -> &dyn BadgeClassRepository;
    /// Awards.
    fn assertions(&self) -> &dyn AssertionRepository;
    /// User accounts.
    fn users(&self) -> &dyn UserRepository;
    /// API keys.
    fn api_keys(&self) -> &dyn ApiKeyRepository;
    /// Signing keys.
    fn signing_keys(&self) -> &dyn SigningKeyRepository;
    /// Status lists.
    fn status_lists(&self) -> &dyn StatusListRepository;
    /// Endorsements.
    fn endorsements(&self) -> &dyn EndorsementRepository;
    /// Hosted images.
    fn assets(&self) -> &dyn AssetRepository;
    /// The mail outbox.
    fn outbox(&self) -> &dyn OutboxRepository;
    /// Learners' backpacks: held credentials and profiles.
    fn backpack(&self) -> &dyn crate::backpack::BackpackRepository;
    /// Learners' e-mail addresses.
    fn learner_emails(&self) -> &dyn crate::learners::LearnerEmailRepository;
    /// OAuth 2.0 clients, codes, grants and tokens.
    fn oauth(&self) -> &dyn OAuthRepository;
    /// Badge hosts and the sending of awards to them.
    fn deliveries(&self) -> &dyn DeliveryRepository;
    /// Platforms of the previous server's backpack API, their users and
    /// entries.
    fn platforms(&self) -> &dyn crate::platforms::PlatformRepository;
    /// How many embedded migrations the database has not applied; reads
    /// only. `Unavailable` if the database does not answer.
    async fn pending_migrations(&self) -> RepoResult<usize>;
    /// The connection pool now, for metrics; cheap, touches no database.
    fn pool_state(&self) -> PoolState;
    /// How reads are spread over read replicas, when the store has any;
    /// cheap, touches no database.
    fn read_routing(&self) -> Option<ReadRouting> {
        None
    }
    /// Opens a [`ChangeFeed`] on its own connection. `Ok(None)`: this
    /// store cannot tell other processes' changes, so nothing rendered from
    /// it may be cached. An error (the database is down, or the migration
    /// that reports changes is not applied): try again later. Blocking.
    fn open_change_feed(&self) -> RepoResult<Option<Box<dyn ChangeFeed>>> {
        Ok(None)
    }

    /// Where requests issuing one credential (or endorsement) take its
    /// status bit: a reserve of bits this store took a block at a time
    /// ([`BitReserve`](crate::status_bits::BitReserve)), one per process.
    /// `None`: each takes its bit with [`StatusListRepository::allocate`],
    /// as a store in memory does, where that costs no transaction.
    fn bit_reserve(&self) -> Option<&crate::status_bits::BitReserve> {
        None
    }
}
