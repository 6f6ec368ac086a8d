//! The entities the server keeps. Field types are validated values, so an
//! entity built from them is valid; cross-field rules live in constructors.

use serde::{Deserialize, Serialize};

use crate::details::*;
use crate::ids::*;
use crate::values::*;
use crate::DomainError;

/// An issuer profile (OB 2.0 Issuer / OB 3.0 Profile).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issuer {
    /// Stable id; public documents are addressed by it.
    pub id: IssuerId,
    /// Display name.
    pub name: Name,
    /// The issuer's home page.
    pub url: HttpUrl,
    /// Contact address.
    pub email: Option<Email>,
    /// What the issuer is.
    pub description: Option<Text>,
    /// Logo: a URL or a `data:` URI.
    pub image: Option<Iri>,
    /// The user who manages this issuer, if any.
    pub owner_id: Option<UserId>,
    /// The other OB 3.0 Profile properties (address, phone, names ...).
    pub details: ProfileDetails,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
}

/// How a badge is earned: a page describing it, a narrative, or both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Criteria {
    url: Option<Iri>,
    narrative: Option<Text>,
}

impl Criteria {
    /// Criteria with at least one of `url` and `narrative`.
    pub fn new(url: Option<Iri>, narrative: Option<Text>) -> Result<Self, InvalidValue> {
        if url.is_none() && narrative.is_none() {
            return Err(InvalidValue(
                "needs a URL or a narrative (or both)".to_owned(),
            ));
        }
        Ok(Self { url, narrative })
    }

    /// The criteria page.
    pub fn url(&self) -> Option<&Iri> {
        self.url.as_ref()
    }

    /// The criteria in words (Markdown allowed).
    pub fn narrative(&self) -> Option<&Text> {
        self.narrative.as_ref()
    }
}

/// An alignment of a badge to an external framework or standard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Alignment {
    /// Name of the aligned node.
    pub target_name: Name,
    /// URL of the aligned node.
    pub target_url: Iri,
    /// Short description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_description: Option<Text>,
    /// Framework the node belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_framework: Option<Name>,
    /// Code of the node in its framework.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_code: Option<Label>,
    /// OB 3.0 `targetType`: the kind of node (`ceasn:Competency`,
    /// `ext:...`); OB 2.0 has no such member.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_type: Option<Label>,
}

/// A badge definition (OB 2.0 BadgeClass / OB 3.0 Achievement).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadgeClass {
    /// Stable id.
    pub id: BadgeClassId,
    /// The issuer that defines and awards it.
    pub issuer_id: IssuerId,
    /// Display name.
    pub name: Name,
    /// What the badge means.
    pub description: Text,
    /// Badge image: a URL or a `data:` URI.
    pub image: Option<Iri>,
    /// How it is earned.
    pub criteria: Criteria,
    /// Free tags.
    pub tags: Vec<Label>,
    /// Alignments to frameworks.
    pub alignments: Vec<Alignment>,
    /// Version label of the definition.
    pub version: Option<Label>,
    /// OB 3.0 `achievementType` (e.g. `Badge`, `Certificate`).
    pub achievement_type: Option<Label>,
    /// The other OB 3.0 Achievement properties (credits, results, related ...).
    pub details: AchievementDetails,
    /// Whether its awards tell their recipient by e-mail unless the award
    /// request says otherwise (`notifyRecipients`, a server setting: not
    /// published in OB documents).
    pub notify_recipients: bool,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
}

/// A piece of evidence supporting an award.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// Where the evidence can be seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Iri>,
    /// The evidence in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub narrative: Option<Text>,
    /// Title of the evidence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<Name>,
    /// Longer description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Text>,
    /// Kind of evidence, e.g. `Performance`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub genre: Option<Label>,
    /// Intended audience.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<Name>,
}

/// Why a credential is no longer active, and since when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialStatus {
    /// Valid (subject to its validity window).
    Active,
    /// Withdrawn for good.
    Revoked {
        /// The reason given, if any.
        reason: Option<Text>,
        /// When it was revoked.
        at: Timestamp,
    },
    /// Withdrawn for now; may be reinstated.
    Suspended {
        /// The reason given, if any.
        reason: Option<Text>,
        /// When it was suspended.
        at: Timestamp,
    },
}

impl CredentialStatus {
    /// The stored name: `active`, `revoked` or `suspended`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Revoked { .. } => "revoked",
            Self::Suspended { .. } => "suspended",
        }
    }

    /// Whether the credential has been revoked.
    pub fn is_revoked(&self) -> bool {
        matches!(self, Self::Revoked { .. })
    }
}

/// An award of a badge to a recipient (OB 2.0 Assertion / OB 3.0
/// OpenBadgeCredential).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assertion {
    /// Stable id.
    pub id: AssertionId,
    /// The badge awarded.
    pub badge_class_id: BadgeClassId,
    /// The badge's issuer (kept here so lists filter by issuer with one index).
    pub issuer_id: IssuerId,
    /// Who received it.
    pub recipient: Recipient,
    /// When it was awarded (OB 3.0 `validFrom`).
    pub issued_on: Timestamp,
    /// When it stops being valid (OB 3.0 `validUntil`).
    pub expires: Option<Timestamp>,
    /// Evidence of the achievement.
    pub evidence: Vec<Evidence>,
    /// Why this recipient earned it.
    pub narrative: Option<Text>,
    /// A per-award image (baked badge or portrait).
    pub image: Option<Iri>,
    /// The other OB 3.0 credential and subject properties (result,
    /// credits earned, the credential's own name ...).
    pub details: Sparse<AwardDetails>,
    /// Active, revoked or suspended.
    pub status: CredentialStatus,
    /// Its place in the issuer's status list, published in the OB 3.0
    /// credential's `credentialStatus`. `None` for awards made before
    /// status lists existed.
    pub status_slot: Option<StatusSlot>,
    /// The OB 3.0 credential as issued, with its proof; `None` until signed.
    /// Stored because a verifiable credential must not change after issuance.
    pub issued_credential: Option<IssuedCredential>,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
}

impl Assertion {
    /// Checks the rules that span fields: an award cannot expire before it
    /// is issued.
    pub fn validate(&self) -> Result<(), DomainError> {
        match self.expires {
            Some(expires) if expires <= self.issued_on => Err(DomainError::invalid(
                "expires",
                "must be later than issuedOn",
            )),
            _ => Ok(()),
        }
    }
}

/// A person who signs in to manage issuers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Stable id.
    pub id: UserId,
    /// Unique sign-in name.
    pub username: Username,
    /// Unique e-mail address, if given.
    pub email: Option<Email>,
    /// Hash of the password (never the password).
    pub password_hash: PasswordHash,
    /// What the user may do.
    pub role: Role,
    /// Raised each time all of the user's login tokens are ended (a new
    /// password, a logout everywhere). A token carries the value it was
    /// issued with and is refused once they differ: a counter, not a time,
    /// so a token issued in the same instant as the change is ended too and
    /// one issued just after works.
    pub session_generation: u32,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
}

/// A key for machine access, stored only as a hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    /// Stable id.
    pub id: ApiKeyId,
    /// The user the key acts for.
    pub user_id: UserId,
    /// A label chosen by its owner.
    pub name: Name,
    /// SHA-256 of the key.
    pub key_hash: ApiKeyHash,
    /// The first characters of the key, to tell keys apart in lists.
    pub prefix: Label,
    /// What the key may do.
    pub permissions: Vec<Permission>,
    /// When set, the key acts only on this issuer.
    pub issuer_scope: Option<IssuerId>,
    /// When the key stops working.
    pub expires_at: Option<Timestamp>,
    /// When the key was revoked.
    pub revoked_at: Option<Timestamp>,
    /// When the key was last used (updated coarsely, not per request).
    pub last_used_at: Option<Timestamp>,
    /// When it was created.
    pub created_at: Timestamp,
}

/// Which signature a key makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyAlgorithm {
    /// Ed25519 (Data Integrity `eddsa-rdfc-2022`, EdDSA JWS).
    Ed25519,
    /// RSA with SHA-256 (OB 2.0 signed assertions, RS256 JWS).
    Rs256,
}

impl KeyAlgorithm {
    /// The stored name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Ed25519 => "Ed25519",
            Self::Rs256 => "RS256",
        }
    }

    /// Parses a stored name.
    pub fn parse(value: &str) -> Result<Self, InvalidValue> {
        match value {
            "Ed25519" => Ok(Self::Ed25519),
            "RS256" => Ok(Self::Rs256),
            _ => Err(InvalidValue("must be Ed25519 or RS256".to_owned())),
        }
    }
}

/// Where a key is in its life: signing, verifying old signatures only, or
/// verifying nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyStatus {
    /// Signs new credentials (one per issuer and algorithm).
    Active,
    /// Replaced by a newer key; still verifies what it signed.
    Retired {
        /// When it was replaced.
        at: Timestamp,
    },
    /// Compromised or withdrawn: verifies nothing.
    Revoked {
        /// When it was revoked.
        at: Timestamp,
    },
}

impl KeyStatus {
    /// The stored name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Retired { .. } => "retired",
            Self::Revoked { .. } => "revoked",
        }
    }

    /// Whether signatures made with the key are still trusted.
    pub fn verifies(&self) -> bool {
        !matches!(self, Self::Revoked { .. })
    }
}

/// An issuer's signing key. The private key is sealed (encrypted) by the
/// application before it reaches the domain; the domain never sees it.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKey {
    /// Stable id; part of the key's verification method URL.
    pub id: SigningKeyId,
    /// The issuer it signs for.
    pub issuer_id: IssuerId,
    /// Its algorithm.
    pub algorithm: KeyAlgorithm,
    /// The public key: multibase for Ed25519, SPKI PEM for RSA.
    pub public_key: String,
    /// The sealed private key.
    pub sealed_private_key: Vec<u8>,
    /// Its life stage.
    pub status: KeyStatus,
    /// When it was made.
    pub created_at: Timestamp,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("id", &self.id)
            .field("issuer_id", &self.issuer_id)
            .field("algorithm", &self.algorithm)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

/// An award's place in a status list: bit `index` of list `list_id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StatusSlot {
    /// The list.
    pub list_id: StatusListId,
    /// The bit, counted from the first (most significant) bit of the list.
    pub index: u32,
}

/// Why a status list is published: the W3C Bitstring Status List
/// `statusPurpose`. One stored list is published once per purpose, so an
/// award has the same index in its revocation and its suspension list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusPurpose {
    /// A set bit means revoked, for good.
    Revocation,
    /// A set bit means suspended; reinstating clears it.
    Suspension,
}

impl StatusPurpose {
    /// The `statusPurpose` value.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Revocation => "revocation",
            Self::Suspension => "suspension",
        }
    }

    /// Whether an award in `status` has its bit set in a list of this purpose.
    pub fn flags(&self, status: &CredentialStatus) -> bool {
        matches!(
            (self, status),
            (Self::Revocation, CredentialStatus::Revoked { .. })
                | (Self::Suspension, CredentialStatus::Suspended { .. })
        )
    }
}

/// A Bitstring Status List of one issuer: a fixed number of bits handed
/// out in order to its awards. Which bits are set is not stored here: it
/// is the status of the awards themselves, so changing an award's status
/// and its bit is one write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusList {
    /// Stable id; part of the list's URL.
    pub id: StatusListId,
    /// The issuer whose awards it holds (and who signs it).
    pub issuer_id: IssuerId,
    /// How many bits it has.
    pub capacity: u32,
    /// How many of them have been handed out.
    pub allocated: u32,
    /// When it was made.
    pub created_at: Timestamp,
}

impl StatusList {
    /// Bits per list: 131,072 (16 KiB), the minimum the Bitstring Status
    /// List specification sets so that one award hides among many.
    pub const CAPACITY: u32 = 131_072;
}

/// How many awards of a status list are in each state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StatusCounts {
    /// Revoked awards.
    pub revoked: u64,
    /// Suspended awards.
    pub suspended: u64,
}
