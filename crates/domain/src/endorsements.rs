//! Endorsements: an issuer profile vouching for an achievement, a profile
//! or an awarded credential, as an OB 3.0 `EndorsementCredential`.
//!
//! Two kinds: issued here, by an issuer profile of this server (signed
//! like an award, with a bit in the endorser's status list, so revoking it
//! is published), or signed elsewhere and attached after verification
//! (the HTTP layer verifies; this module stores). A signed award cannot
//! change after issuance, so endorsements are never inserted into
//! credentials; achievement and profile documents list theirs when served.

use serde_json::{json, Value};

use crate::access::Principal;
use crate::documents::{Urls, Version, OB3_CONTEXT, VC2_CONTEXT};
use crate::entities::*;
use crate::ids::*;
use crate::ports::Store;
use crate::service::{allocate_slots, managed_issuer, Proofs};
use crate::values::*;
use crate::DomainError;

/// The OB 3.0 extensions context: 1EdTech's validator, revocation list and
/// refresh types.
pub const OB3_EXTENSIONS_CONTEXT: &str = "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json";

/// The JSON Schema an `EndorsementCredential` names in `credentialSchema`.
pub const ENDORSEMENT_SCHEMA: &str =
    "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_endorsementcredential_schema.json";

/// What is endorsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EndorsedSubject {
    /// An achievement (badge class).
    Achievement(BadgeClassId),
    /// An issuer profile.
    Issuer(IssuerId),
    /// An awarded credential (assertion).
    Credential(AssertionId),
}

impl EndorsedSubject {
    /// The stored kind: `achievement`, `issuer` or `credential`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Achievement(_) => "achievement",
            Self::Issuer(_) => "issuer",
            Self::Credential(_) => "credential",
        }
    }

    /// The subject's id.
    pub fn uuid(&self) -> uuid::Uuid {
        match self {
            Self::Achievement(id) => id.as_uuid(),
            Self::Issuer(id) => id.as_uuid(),
            Self::Credential(id) => id.as_uuid(),
        }
    }

    /// Rebuilds a subject from its stored kind and id.
    pub fn restore(kind: &str, id: uuid::Uuid) -> Result<Self, InvalidValue> {
        match kind {
            "achievement" => Ok(Self::Achievement(id.into())),
            "issuer" => Ok(Self::Issuer(id.into())),
            "credential" => Ok(Self::Credential(id.into())),
            _ => Err(InvalidValue(
                "must be achievement, issuer or credential".to_owned(),
            )),
        }
    }

    /// The URL of the endorsed OB 3.0 document: what the endorsement's
    /// `credentialSubject.id` names.
    pub fn url(&self, urls: &Urls) -> String {
        match *self {
            Self::Achievement(id) => urls.achievement(Version::V3, id),
            Self::Issuer(id) => urls.issuer(Version::V3, id),
            Self::Credential(id) => urls.credential(Version::V3, id),
        }
    }

    /// The path segments our URLs of this kind of document use.
    fn segments(&self) -> &'static [&'static str] {
        match self {
            Self::Achievement(_) => &["achievements", "badge-classes"],
            Self::Issuer(_) => &["issuers"],
            Self::Credential(_) => &["credentials", "assertions"],
        }
    }

    /// Whether `raw` names this subject in one of the forms this server
    /// gives out: its URL (`/v2`, `/v3` or bare, either resource name),
    /// `urn:uuid:<id>`, or the bare UUID.
    pub fn is_named_by(&self, raw: &str, urls: &Urls) -> bool {
        let id = self.uuid();
        if uuid::Uuid::parse_str(raw).is_ok_and(|u| u == id)
            || raw
                .strip_prefix("urn:uuid:")
                .and_then(|rest| uuid::Uuid::parse_str(rest).ok())
                == Some(id)
        {
            return true;
        }
        let Some(path) = raw.strip_prefix(urls.base()) else {
            return false;
        };
        let mut parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        if matches!(parts.first(), Some(&"v2" | &"v3")) {
            parts.remove(0);
        }
        match parts.as_slice() {
            [segment, tail] => {
                self.segments().contains(segment)
                    && uuid::Uuid::parse_str(tail).is_ok_and(|u| u == id)
            }
            _ => false,
        }
    }
}

/// Who endorses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endorser {
    /// An issuer profile of this server; the endorsement was signed here
    /// with its key.
    Ours(IssuerId),
    /// Someone else (a `did:key`, another server): the endorsement was
    /// signed elsewhere and verified when attached.
    External {
        /// The credential's `issuer` id.
        issuer: Iri,
    },
}

/// Whether an endorsement still stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndorsementStatus {
    /// Listed and served.
    Active,
    /// Withdrawn for good (its status bit set, when it has one).
    Revoked {
        /// The reason given, if any.
        reason: Option<Text>,
        /// When it was revoked.
        at: Timestamp,
    },
}

impl EndorsementStatus {
    /// The stored name: `active` or `revoked`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Revoked { .. } => "revoked",
        }
    }

    /// Whether it was revoked.
    pub fn is_revoked(&self) -> bool {
        matches!(self, Self::Revoked { .. })
    }
}

/// An endorsement: the signed `EndorsementCredential` and what the server
/// needs to find, list and revoke it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endorsement {
    /// Stable id; its public URL is [`Urls::endorsement`] of it (for ours).
    pub id: EndorsementId,
    /// What it endorses.
    pub subject: EndorsedSubject,
    /// Who endorses.
    pub endorser: Endorser,
    /// The `endorsementComment`.
    pub comment: Option<Text>,
    /// The `EndorsementCredential` as signed, served as is.
    pub credential: IssuedCredential,
    /// Active or revoked.
    pub status: EndorsementStatus,
    /// Its bit in the endorser's status list; `None` for external ones
    /// (their status is wherever their issuer publishes it).
    pub status_slot: Option<StatusSlot>,
    /// When it was made (or attached).
    pub created_at: Timestamp,
}

impl Urls {
    /// The public URL of an endorsement issued here.
    pub fn endorsement(&self, id: EndorsementId) -> String {
        format!("{}/endorsements/{id}", self.base())
    }

    /// The endorsement named by one of our [`Urls::endorsement`] URLs.
    pub fn endorsement_of(&self, url: &str) -> Option<EndorsementId> {
        let id: EndorsementId = url
            .strip_prefix(self.base())?
            .strip_prefix("/endorsements/")?
            .parse()
            .ok()?;
        (self.endorsement(id) == url).then_some(id)
    }
}

/// What an `EndorsementCredential` says, besides who says it.
#[derive(Debug, Clone, Copy)]
pub struct Claim<'a> {
    /// The endorsement's id.
    pub id: EndorsementId,
    /// The URL of the endorsed document.
    pub subject_url: &'a str,
    /// The credential's `name`.
    pub name: &'a str,
    /// The `endorsementComment`.
    pub comment: Option<&'a Text>,
    /// `validFrom`.
    pub valid_from: Timestamp,
    /// Its bit in the endorser's status list.
    pub slot: Option<StatusSlot>,
}

/// The unsigned OB 3.0 `EndorsementCredential` of `claim` by `endorser`
/// (proofs are added by a
/// signer). Its issuer is named by the endorser's `did:web`, like an
/// award's, and its status bit, when it has one, is in the endorser's list.
pub fn endorsement_credential(claim: &Claim<'_>, endorser: &Issuer, urls: &Urls) -> Value {
    let Claim {
        id,
        subject_url,
        name,
        comment,
        valid_from,
        slot,
    } = *claim;
    let mut subject = json!({ "id": subject_url, "type": ["EndorsementSubject"] });
    if let Some(comment) = comment {
        subject["endorsementComment"] = json!(comment.as_str());
    }
    let mut issuer = json!({
        "id": urls.issuer_did(endorser.id),
        "type": ["Profile"],
        "name": endorser.name.as_str(),
        "url": endorser.url.as_str(),
    });
    if let Some(email) = &endorser.email {
        issuer["email"] = json!(email.as_str());
    }
    let mut doc = json!({
        // The OB 3.0 extensions context defines `1EdTechJsonSchemaValidator2019`
        // (the `credentialSchema` type): a proof covers only defined terms.
        "@context": [VC2_CONTEXT, OB3_CONTEXT, OB3_EXTENSIONS_CONTEXT],
        "id": urls.endorsement(id),
        "type": ["VerifiableCredential", "EndorsementCredential"],
        "name": name,
        "issuer": issuer,
        "validFrom": valid_from.to_rfc3339(),
        "credentialSubject": subject,
        "credentialSchema": [{
            "id": ENDORSEMENT_SCHEMA,
            "type": "1EdTechJsonSchemaValidator2019",
        }],
    });
    if let Some(slot) = slot {
        let list = urls.status_list(slot.list_id, StatusPurpose::Revocation);
        doc["credentialStatus"] = json!({
            "id": format!("{list}#{}", slot.index),
            "type": "BitstringStatusListEntry",
            "statusPurpose": StatusPurpose::Revocation.as_str(),
            "statusListIndex": slot.index.to_string(),
            "statusListCredential": list,
        });
    }
    doc
}

/// The issuer who manages what `subject` is (an achievement's or a
/// credential's issuer, or the profile itself), and a name for it. A
/// missing subject is `NotFound`: it is the resource of the route.
async fn subject_owner(
    store: &dyn Store,
    subject: EndorsedSubject,
) -> Result<(IssuerId, String), DomainError> {
    Ok(match subject {
        EndorsedSubject::Achievement(id) => {
            let badge = store.badge_classes().get(id).await?;
            (badge.issuer_id, badge.name.as_str().to_owned())
        }
        EndorsedSubject::Issuer(id) => {
            let issuer = store.issuers().get(id).await?;
            (issuer.id, issuer.name.as_str().to_owned())
        }
        EndorsedSubject::Credential(id) => {
            let award = store.assertions().get(id).await?;
            let badge = store.badge_classes().get(award.badge_class_id).await?;
            (award.issuer_id, badge.name.as_str().to_owned())
        }
    })
}

/// The endorsing issuer, which `actor` must manage; one that does not
/// exist is a bad reference in the request.
async fn endorsing_issuer(
    store: &dyn Store,
    actor: &Principal,
    id: IssuerId,
) -> Result<Issuer, DomainError> {
    match managed_issuer(store, actor, id).await {
        Err(DomainError::NotFound { .. }) => Err(DomainError::MissingReference {
            entity: "issuer",
            id: id.to_string(),
        }),
        other => other,
    }
}

/// Issues an endorsement of `subject` by issuer `endorser` (any issuer
/// profile of this server, including a third party registered here only
/// to endorse), which `actor` must manage: renders the
/// `EndorsementCredential`, takes a bit of the endorser's status list,
/// signs, and stores it in one write.
pub async fn endorse(
    store: &dyn Store,
    actor: &Principal,
    proofs: Proofs<'_>,
    subject: EndorsedSubject,
    endorser: IssuerId,
    comment: Option<Text>,
) -> Result<Endorsement, DomainError> {
    let (_, subject_name) = subject_owner(store, subject).await?;
    let issuer = endorsing_issuer(store, actor, endorser).await?;
    let now = Timestamp::now();
    let id = EndorsementId::generate();
    // As for awards: the key first (which may fail), then the bit the
    // credential names, then the proof, then one write.
    let key = proofs.signer.key_for(&issuer).await?;
    let slot = allocate_slots(store, issuer.id, 1, now).await?.pop();
    let claim = Claim {
        id,
        subject_url: &subject.url(proofs.urls),
        name: &format!("Endorsement of {subject_name} by {}", issuer.name.as_str()),
        comment: comment.as_ref(),
        valid_from: now,
        slot,
    };
    let document = endorsement_credential(&claim, &issuer, proofs.urls);
    let credential = proofs.signer.sign(&key, document).await?;
    let endorsement = Endorsement {
        id,
        subject,
        endorser: Endorser::Ours(issuer.id),
        comment,
        credential,
        status: EndorsementStatus::Active,
        status_slot: slot,
        created_at: now,
    };
    store.endorsements().create(&endorsement).await?;
    Ok(endorsement)
}

/// Attaches an `EndorsementCredential` signed elsewhere, already verified
/// by the caller, to `subject`, whose issuer `actor` must manage (the
/// endorser is not ours to check: its proof stands for it). The credential
/// is kept exactly as given.
pub async fn attach(
    store: &dyn Store,
    actor: &Principal,
    subject: EndorsedSubject,
    endorser: Iri,
    comment: Option<Text>,
    credential: IssuedCredential,
) -> Result<Endorsement, DomainError> {
    let (owner, _) = subject_owner(store, subject).await?;
    managed_issuer(store, actor, owner).await?;
    let endorsement = Endorsement {
        id: EndorsementId::generate(),
        subject,
        endorser: Endorser::External { issuer: endorser },
        comment,
        credential,
        status: EndorsementStatus::Active,
        status_slot: None,
        created_at: Timestamp::now(),
    };
    store.endorsements().create(&endorsement).await?;
    Ok(endorsement)
}

/// The active endorsements of `subject`, oldest first; `NotFound` when the
/// subject does not exist.
pub async fn list(
    store: &dyn Store,
    subject: EndorsedSubject,
) -> Result<Vec<Endorsement>, DomainError> {
    subject_owner(store, subject).await?;
    let mut all = store.endorsements().list_for(subject).await?;
    all.retain(|e| !e.status.is_revoked());
    Ok(all)
}

/// Revokes an endorsement, for good: ours by who manages the endorser
/// (its status bit is set from now on), an attached one by who manages
/// the endorsed document's issuer (it is no longer listed or served).
/// `Conflict` when it is revoked already.
pub async fn revoke(
    store: &dyn Store,
    actor: &Principal,
    id: EndorsementId,
    reason: Option<Text>,
) -> Result<Endorsement, DomainError> {
    let endorsement = store.endorsements().get(id).await?;
    let manager = match &endorsement.endorser {
        Endorser::Ours(issuer) => *issuer,
        Endorser::External { .. } => subject_owner(store, endorsement.subject).await?.0,
    };
    managed_issuer(store, actor, manager).await?;
    if endorsement.status.is_revoked() {
        return Err(DomainError::Conflict(format!(
            "endorsement {id} is already revoked"
        )));
    }
    let at = Timestamp::now();
    let stored = store.endorsements().revoke(id, reason, at).await?;
    // First revocation wins: one that landed between the read and the
    // write keeps its time, and this one is refused like a late one.
    match &stored.status {
        EndorsementStatus::Revoked { at: stored_at, .. } if *stored_at == at => Ok(stored),
        _ => Err(DomainError::Conflict(format!(
            "endorsement {id} is already revoked"
        ))),
    }
}
