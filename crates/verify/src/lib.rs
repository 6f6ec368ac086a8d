//! Verification of Open Badges credentials, as a library: no HTTP, no
//! framework. One engine for OB 3.0 credentials with an `eddsa-rdfc-2022`
//! Data Integrity proof, VC-JWTs (EdDSA and RS256), and OB 2.0 signed
//! assertions (RS256 compact JWS). It checks the shape, the key (one of the
//! issuers' stored keys, not revoked, a `did:key`, or, given a
//! [`DidResolver`], a key in the DID document of another server's `did:web`
//! issuer), that the key is controlled by the credential's issuer, the signature, the validity
//! window, and for a credential of this store its revocation or suspension.
//!
//! Keys and awards are looked up through the domain's [`Store`] port, so
//! any storage that implements it serves. The answer is a [`Report`], the
//! same one the server's `POST /verify` renders as JSON.
//!
//! ```no_run
//! # async fn run(store: &dyn openbadges_domain::ports::Store) -> Result<(), openbadges_domain::DomainError> {
//! use std::sync::Arc;
//! use openbadges_credentials::DataIntegrity;
//! use openbadges_domain::documents::Urls;
//! use openbadges_verify::Verifier;
//!
//! let urls = Urls::new("https://badges.example.org").expect("an http(s) URL");
//! let integrity = Arc::new(DataIntegrity::new().expect("the bundled contexts load"));
//! let verifier = Verifier::new(store, &urls, &integrity);
//! let report = verifier.verify_token("eyJ...").await?;
//! println!("{}", report.to_json());
//! # Ok(()) }
//! ```
//!
//! Signature checks of Data Integrity proofs run on tokio's blocking pool
//! (`spawn_blocking`), so the verifier must be used inside a tokio runtime.

mod checks;
mod keys;
mod memo;
pub mod publication;
mod records;
mod remote;
mod report;

use std::sync::Arc;

use openbadges_credentials::jws::CompactJws;
use openbadges_credentials::DataIntegrity;
use openbadges_domain::documents::{Reference, Urls, Version, OB2_CONTEXT};
use openbadges_domain::ports::Store;
use openbadges_domain::{
    Assertion, AssertionId, BadgeClassId, DomainError, IssuerId, SigningKeyId,
};
use serde_json::Value;

use checks::{
    check_endorsement_status, check_issuer_match, check_shape, check_status, check_window, Kind,
};
pub use keys::{controller_matches, verified_jwt_payload, Party, PublicKey};
use memo::ProofDigest;
pub use memo::ProofMemo;
pub use records::{Records, StoreRecords, StoredKey};
pub use remote::{key_in_document, DidResolver};
pub use report::{Check, Report};

/// Verifies credentials (awards and endorsements) against the keys, awards
/// and endorsements of one store, for the server at one base URL.
pub struct Verifier<'a> {
    store: &'a dyn Store,
    urls: &'a Urls,
    integrity: &'a Arc<DataIntegrity>,
    /// Fetches the DID documents of `did:web` issuers that are not ours;
    /// without one, their keys are unknown.
    remote: Option<&'a dyn DidResolver>,
    /// The proofs of stored credentials already found valid.
    memo: Option<&'a ProofMemo>,
    /// Where stored awards and keys are read, when not from `store`.
    records: Option<&'a dyn Records>,
}

/// The key a proof's verification method names, as far as it was found.
struct FoundKey {
    /// Who controls it.
    controller: Party,
    /// Its public half, unless it is one of ours that was revoked.
    public: Option<PublicKey>,
}

impl<'a> Verifier<'a> {
    /// A verifier over `store`, whose issuers' DIDs and URLs are under
    /// `urls`, checking Data Integrity proofs with `integrity` (loaded
    /// once: loading the bundled contexts is not free).
    pub fn new(store: &'a dyn Store, urls: &'a Urls, integrity: &'a Arc<DataIntegrity>) -> Self {
        Self {
            store,
            urls,
            integrity,
            remote: None,
            memo: None,
            records: None,
        }
    }

    /// The same verifier, reading the store's awards and keys through
    /// `records` (a cache in front of the store, say) instead of from the
    /// store each time.
    pub fn with_records(mut self, records: &'a dyn Records) -> Self {
        self.records = Some(records);
        self
    }

    /// The same verifier, remembering the stored credentials whose proof
    /// it found valid in `memo`, so that verifying one again checks its
    /// key, issuer, dates and status but not its signature (see
    /// [`ProofMemo`]).
    pub fn with_memo(mut self, memo: &'a ProofMemo) -> Self {
        self.memo = Some(memo);
        self
    }

    /// The same verifier, finding the keys of `did:web` issuers that are
    /// not this store's through `resolver` (their DID documents).
    pub fn with_resolver(mut self, resolver: &'a dyn DidResolver) -> Self {
        self.remote = Some(resolver);
        self
    }

    /// Verifies award `id` of the store as it was issued (its OB 3.0 form
    /// with its proof), as a verifier would: shape, key status, issuer
    /// binding, signature, validity window and status. `NotFound` when
    /// there is no such award.
    pub async fn verify_stored(&self, id: AssertionId) -> Result<Report, DomainError> {
        self.verify_award(&*self.award(id).await?).await
    }

    /// Verifies `award`, an award of the store already read, as
    /// [`Self::verify_stored`] does.
    pub async fn verify_award(&self, award: &Assertion) -> Result<Report, DomainError> {
        let mut report = Report::default();
        match &award.issued_credential {
            Some(issued) => {
                let document = issued.document()?;
                check_shape(Kind::Ob3, &document, &mut report);
                let issuer = Party::Ours(award.issuer_id);
                self.check_proof(&document, Some(issued.json()), Some(issuer), &mut report)
                    .await?;
                check_window(Kind::Ob3, &document, None, &mut report);
            }
            None => {
                report.check("proof", false, "the credential was issued without a proof");
                report.fail("NO_PROOF");
            }
        }
        check_status(award, self.urls, &mut report);
        report.id = Some(self.urls.credential(Version::V3, award.id));
        Ok(report)
    }

    /// Verifies an OB 3.0 credential given as JSON, over the document
    /// exactly as given: shape, proof (one of our keys by did:web, or a
    /// did:key), issuer binding, signature, validity window, and, when its
    /// `id` is the URL of one of our credentials, its stored status.
    pub async fn verify_json(&self, document: &Value) -> Result<Report, DomainError> {
        let mut report = Report::default();
        check_shape(Kind::Ob3, document, &mut report);
        let issuer = Party::issuer_of(self.urls, document);
        self.check_proof(document, None, issuer, &mut report)
            .await?;
        check_window(Kind::Ob3, document, None, &mut report);
        report.id = document
            .get("id")
            .and_then(Value::as_str)
            .map(str::to_owned);
        self.check_our_status(&mut report).await?;
        Ok(report)
    }

    /// Verifies a compact token: an OB 2.0 signed assertion when its
    /// payload is one (OB 2.0 context or `type: Assertion`), else a VC-JWT.
    pub async fn verify_token(&self, token: &str) -> Result<Report, DomainError> {
        if is_ob2_jws(token) {
            self.verify_ob2_jws(token).await
        } else {
            self.verify_jwt(token).await
        }
    }

    /// Verifies a VC-JWT: the EdDSA or RS256 signature with the key its
    /// `kid` names (ours by did:web, or a did:key), the claims OB 3.0 maps
    /// against the credential they carry, then the same checks as a JSON
    /// credential, the JWT's own `nbf` and `exp` included.
    async fn verify_jwt(&self, token: &str) -> Result<Report, DomainError> {
        let mut report = Report::default();
        let kid = jsonwebtoken::decode_header(token).ok().and_then(|h| h.kid);
        let Some(kid) = kid else {
            report.check("proof", false, "not a JWT with a kid header");
            report.fail("INVALID_SIGNATURE");
            return Ok(report);
        };
        let Some(found) = self.find_key(&kid, &mut report).await? else {
            return Ok(report);
        };
        let Some(public) = found.public else {
            report.check("proof", false, "the signing key verifies nothing any more");
            return Ok(report);
        };
        // The validity window is checked below, on the credential and on
        // the JWT's own nbf and exp.
        let Some(payload) = verified_jwt_payload(token, &public) else {
            report.check("proof", false, "the JWT signature does not verify");
            report.fail("INVALID_SIGNATURE");
            return Ok(report);
        };
        report.has_valid_signature = true;
        report.check(
            "proof",
            true,
            format!("{} JWT signature verified", public.jws_alg()),
        );
        let expected = openbadges_domain::documents::jwt_claims(&payload);
        let claims_match = ["iss", "jti", "sub", "nbf", "exp"]
            .iter()
            .all(|claim| payload.get(*claim) == expected.get(*claim))
            && payload.get("iss").is_some()
            && payload.get("jti").is_some()
            && payload.get("nbf").is_some();
        report.check(
            "jwtClaims",
            claims_match,
            if claims_match {
                "iss, jti, sub, nbf and exp match the credential"
            } else {
                "the JWT claims do not match the credential they carry"
            },
        );
        if !claims_match {
            report.fail("CLAIMS_MISMATCH");
        }
        check_shape(Kind::Ob3, &payload, &mut report);
        let issuer = Party::issuer_of(self.urls, &payload);
        check_issuer_match(self.urls, issuer.as_ref(), &found.controller, &mut report);
        check_window(Kind::Ob3, &payload, Some(&payload), &mut report);
        report.id = payload.get("id").and_then(Value::as_str).map(str::to_owned);
        self.check_our_status(&mut report).await?;
        Ok(report)
    }

    /// Verifies an OB 2.0 signed assertion (compact JWS) as OB 2.0 says:
    /// the payload's shape; the key its `verification.creator` (or header
    /// `kid`) names, which must be one of our RS256 keys, not revoked,
    /// owned by the issuer of the assertion's badge; the RS256 signature
    /// over the token as given; `issuedOn` / `expires`; and, for one of our
    /// assertions, whether it was revoked.
    async fn verify_ob2_jws(&self, token: &str) -> Result<Report, DomainError> {
        let mut report = Report::default();
        let parsed = CompactJws::parse(token).and_then(|jws| Ok((jws.payload_json()?, jws)));
        let (payload, jws) = match parsed {
            Ok(parsed) => parsed,
            Err(error) => {
                report.check("proof", false, error.to_string());
                report.fail("INVALID_SIGNATURE");
                return Ok(report);
            }
        };
        report.id = payload.get("id").and_then(Value::as_str).map(str::to_owned);
        check_shape(Kind::Ob2Signed, &payload, &mut report);

        let creator = payload
            .get("verification")
            .and_then(|v| v.get("creator"))
            .and_then(Value::as_str);
        let named = match (creator, jws.kid()) {
            (Some(creator), Some(kid)) if creator != kid => None,
            (Some(url), _) | (None, Some(url)) => Some(url),
            (None, None) => None,
        };
        let ours = match named.and_then(|url| self.urls.cryptographic_key_of(url)) {
            Some((issuer, id)) => self.stored_key(issuer, id).await?,
            None => None,
        };
        let Some(key) = ours else {
            let message = match (creator, jws.kid(), named) {
                (Some(_), Some(_), None) => {
                    "the JWS kid and verification.creator name different keys".to_owned()
                }
                (_, _, Some(url)) => format!("{url} is not a key of this server"),
                _ => "the assertion names no key (verification.creator)".to_owned(),
            };
            report.check("keyStatus", false, message);
            report.fail("UNKNOWN_KEY");
            return Ok(report);
        };
        let verifies = key.status.verifies();
        report.check(
            "keyStatus",
            verifies,
            format!("key {} is {}", key.id, key.status.as_str()),
        );
        if !verifies {
            report.fail("KEY_REVOKED");
        }
        // The key's owner is its controller; the assertion's issuer is its
        // badge's.
        let issuer = self.badge_issuer(&payload).await?.map(Party::Ours);
        check_issuer_match(
            self.urls,
            issuer.as_ref(),
            &Party::Ours(key.issuer_id),
            &mut report,
        );
        match (&key.public, verifies) {
            (_, false) => {
                report.check("proof", false, "the signing key verifies nothing any more");
            }
            (PublicKey::Ed25519(_), true) => {
                report.check(
                    "proof",
                    false,
                    "the creator is an Ed25519 key: OB 2.0 signed assertions are RS256",
                );
                report.fail("INVALID_SIGNATURE");
            }
            (PublicKey::Rsa(public), true) => match jws.verify_rs256(public) {
                Ok(()) => {
                    report.has_valid_signature = true;
                    report.check("proof", true, "RS256 JWS signature verified");
                }
                Err(error) => {
                    report.check("proof", false, error.to_string());
                    report.fail("INVALID_SIGNATURE");
                }
            },
        }
        check_window(Kind::Ob2Signed, &payload, None, &mut report);
        // What this server's RevocationList publishes.
        self.check_our_status(&mut report).await?;
        Ok(report)
    }

    /// The issuer of the badge an assertion names, if it is one of ours.
    async fn badge_issuer(&self, payload: &Value) -> Result<Option<IssuerId>, DomainError> {
        let badge = payload.get("badge");
        let Some(raw) = badge
            .and_then(Value::as_str)
            .or_else(|| badge.and_then(|b| b.get("id")).and_then(Value::as_str))
        else {
            return Ok(None);
        };
        let Ok(id) = self.urls.reference(raw, Reference::Achievement) else {
            return Ok(None);
        };
        match self.store.badge_classes().get(BadgeClassId::from(id)).await {
            Ok(badge) => Ok(Some(badge.issuer_id)),
            Err(DomainError::NotFound { .. }) => Ok(None),
            Err(other) => Err(other),
        }
    }

    /// Award `id`, through the records when the verifier has them.
    async fn award(&self, id: AssertionId) -> Result<Arc<Assertion>, DomainError> {
        match self.records {
            Some(records) => records.award(id).await,
            None => StoreRecords(self.store).award(id).await,
        }
    }

    /// The stored key `id`, if it exists and belongs to `issuer` (whatever
    /// its status: the caller checks that it still verifies).
    async fn stored_key(
        &self,
        issuer: IssuerId,
        id: SigningKeyId,
    ) -> Result<Option<Arc<StoredKey>>, DomainError> {
        let found = match self.records {
            Some(records) => records.key(id).await,
            None => StoreRecords(self.store).key(id).await,
        };
        match found {
            Ok(key) if key.issuer_id == issuer => Ok(Some(key)),
            Ok(_) | Err(DomainError::NotFound { .. }) => Ok(None),
            Err(other) => Err(other),
        }
    }

    /// Finds the key behind `method` (one of ours by did:web, a did:key,
    /// or with a resolver another did:web's document) and checks its status (`keyStatus`); `None`, after failing the
    /// report with `UNKNOWN_KEY`, when there is no such key.
    async fn find_key(
        &self,
        method: &str,
        report: &mut Report,
    ) -> Result<Option<FoundKey>, DomainError> {
        let ours = match self.urls.key_of_method(method) {
            Some((issuer, id)) => self.stored_key(issuer, id).await?,
            None => None,
        };
        if let Some(key) = ours {
            let verifies = key.status.verifies();
            report.check(
                "keyStatus",
                verifies,
                format!("key {} is {}", key.id, key.status.as_str()),
            );
            if !verifies {
                report.fail("KEY_REVOKED");
            }
            return Ok(Some(FoundKey {
                controller: Party::controller_of(method, Some(key.issuer_id)),
                public: verifies.then(|| key.public.clone()),
            }));
        }
        if let Ok(public) = openbadges_credentials::resolve_did_key(method) {
            report.check("keyStatus", true, "did:key: the key is in the identifier");
            return Ok(Some(FoundKey {
                controller: Party::controller_of(method, None),
                public: Some(PublicKey::Ed25519(public)),
            }));
        }
        let did = method.split_once('#').map_or(method, |(did, _)| did);
        if let (Some(resolver), true) = (self.remote, did.starts_with("did:web:")) {
            let found = match resolver.resolve(did).await {
                Ok(document) => remote::key_in_document(did, method, &document),
                Err(error) => Err(format!(
                    "the DID document of {did} could not be had: {error}"
                )),
            };
            return Ok(match found {
                Ok(public) => {
                    report.check(
                        "keyStatus",
                        true,
                        format!("did:web: {method} is an assertionMethod of {did}"),
                    );
                    Some(FoundKey {
                        controller: Party::controller_of(method, None),
                        public: Some(public),
                    })
                }
                Err(error) => {
                    report.check("keyStatus", false, error);
                    report.fail("UNKNOWN_KEY");
                    None
                }
            });
        }
        report.check(
            "keyStatus",
            false,
            format!("unknown verification method {method}"),
        );
        report.fail("UNKNOWN_KEY");
        Ok(None)
    }

    /// Checks the proof: the key (ours by did:web, or did:key), its status,
    /// that it is controlled by the credential's issuer, and the signature.
    /// `text` is `document`'s exact text when it is a stored credential's,
    /// whose valid signature the memo may then keep or know.
    async fn check_proof(
        &self,
        document: &Value,
        text: Option<&str>,
        issuer: Option<Party>,
        report: &mut Report,
    ) -> Result<(), DomainError> {
        let method = document
            .get("proof")
            .and_then(|p| p.get("verificationMethod"))
            .and_then(Value::as_str);
        let Some(method) = method else {
            report.check("proof", false, "the credential has no proof");
            report.fail("NO_PROOF");
            return Ok(());
        };
        let Some(found) = self.find_key(method, report).await? else {
            return Ok(());
        };
        check_issuer_match(self.urls, issuer.as_ref(), &found.controller, report);
        let key = match found.public {
            Some(PublicKey::Ed25519(key)) => key,
            Some(PublicKey::Rsa(_)) => {
                report.check(
                    "proof",
                    false,
                    "the verification method is an RS256 key: an eddsa-rdfc-2022 proof needs an Ed25519 key",
                );
                report.fail("INVALID_SIGNATURE");
                return Ok(());
            }
            None => {
                report.check("proof", false, "the signing key verifies nothing any more");
                return Ok(());
            }
        };
        let memo = self
            .memo
            .zip(text)
            .map(|(memo, text)| (memo, ProofDigest::of(&key.to_bytes(), text)));
        if let Some((memo, digest)) = &memo {
            if memo.is_valid(digest) {
                report.has_valid_signature = true;
                report.check("proof", true, "eddsa-rdfc-2022 signature verified");
                return Ok(());
            }
        }
        let integrity = Arc::clone(self.integrity);
        let signed = document.clone();
        // Canonicalization is CPU work: off the async workers.
        let outcome = tokio::task::spawn_blocking(move || integrity.verify(&signed, |_| Some(key)))
            .await
            .map_err(|e| DomainError::Internal(format!("verification task failed: {e}")))?;
        match outcome {
            Ok(_) => {
                if let Some((memo, digest)) = memo {
                    memo.remember(digest);
                }
                report.has_valid_signature = true;
                report.check("proof", true, "eddsa-rdfc-2022 signature verified");
            }
            Err(error) => {
                report.check("proof", false, error.to_string());
                report.fail("INVALID_SIGNATURE");
            }
        }
        Ok(())
    }

    /// For a report whose credential id is one of ours (under `BASE_URL`
    /// followed by `/`, so that `https://badges.example.org.evil/...` is
    /// not ours), checks its stored status.
    async fn check_our_status(&self, report: &mut Report) -> Result<(), DomainError> {
        let prefix = format!("{}/", self.urls.base());
        let Some(raw) = report.id.as_deref().filter(|raw| raw.starts_with(&prefix)) else {
            return Ok(());
        };
        if let Some(id) = self.urls.endorsement_of(raw) {
            match self.store.endorsements().get(id).await {
                Ok(endorsement) => check_endorsement_status(&endorsement, self.urls, report),
                Err(DomainError::NotFound { .. }) => {
                    report.check("status", false, "no such endorsement here");
                    report.fail("UNKNOWN_CREDENTIAL");
                }
                Err(other) => return Err(other),
            }
            return Ok(());
        }
        let Some(award_id) = raw
            .rsplit('/')
            .next()
            .and_then(|tail| tail.parse::<AssertionId>().ok())
        else {
            return Ok(());
        };
        match self.award(award_id).await {
            Ok(award) => check_status(&award, self.urls, report),
            Err(DomainError::NotFound { .. }) => {
                report.check("status", false, "no such credential here");
                report.fail("UNKNOWN_CREDENTIAL");
            }
            Err(other) => return Err(other),
        }
        Ok(())
    }
}

/// Whether `token` looks like an OB 2.0 signed assertion (a JWS whose
/// payload is an OB 2.0 `Assertion`) rather than a VC-JWT. Nothing is
/// verified here.
pub fn is_ob2_jws(token: &str) -> bool {
    let Ok(payload) = CompactJws::parse(token).and_then(|jws| jws.payload_json()) else {
        return false;
    };
    let context = payload.get("@context");
    context.and_then(Value::as_str) == Some(OB2_CONTEXT)
        || context
            .and_then(Value::as_array)
            .is_some_and(|c| c.iter().any(|c| c.as_str() == Some(OB2_CONTEXT)))
        || payload.get("type").and_then(Value::as_str) == Some("Assertion")
}
