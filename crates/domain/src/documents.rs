//! Entities rendered as Open Badges documents: OB 2.0 hosted JSON-LD and
//! OB 3.0 Verifiable Credential JSON. Every `id` is an HTTP URL under the
//! server's base URL that returns the document, so hosted verification and
//! wallets can dereference it.

use serde_json::{json, Map, Value};

use crate::details::*;
use crate::entities::*;
use crate::ids::*;
use crate::values::*;

/// The OB 2.0 JSON-LD context.
pub const OB2_CONTEXT: &str = "https://w3id.org/openbadges/v2";
/// The W3C Verifiable Credentials 2.0 context.
pub const VC2_CONTEXT: &str = "https://www.w3.org/ns/credentials/v2";
/// The OB 3.0 context this server emits.
pub const OB3_CONTEXT: &str = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json";

/// The OB 3.0 extensions context: it defines `1EdTechJsonSchemaValidator2019`,
/// the `credentialSchema` type every credential names (no other context
/// does, and a signature can only cover defined terms).
pub const OB3_EXTENSIONS_CONTEXT: &str = "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json";

/// Which Open Badges version a document is rendered in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    /// Open Badges 2.0 (JSON-LD, hosted verification).
    V2,
    /// Open Badges 3.0 (W3C Verifiable Credentials).
    V3,
}

impl Version {
    /// The path segment: `v2` or `v3`.
    pub fn segment(&self) -> &'static str {
        match self {
            Self::V2 => "v2",
            Self::V3 => "v3",
        }
    }
}

/// Builds the public URLs of documents from the server's base URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Urls {
    base: String,
}

impl Urls {
    /// `base` is an http(s) URL; a trailing slash is dropped.
    pub fn new(base: &str) -> Result<Self, InvalidValue> {
        let base = HttpUrl::parse(base.trim_end_matches('/'))?;
        Ok(Self {
            base: String::from(base),
        })
    }

    /// The base URL, without trailing slash.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The URL of an issuer profile.
    pub fn issuer(&self, version: Version, id: IssuerId) -> String {
        format!("{}/{}/issuers/{id}", self.base, version.segment())
    }

    /// The URL of a badge class / achievement.
    pub fn achievement(&self, version: Version, id: BadgeClassId) -> String {
        format!("{}/{}/achievements/{id}", self.base, version.segment())
    }

    /// The issuer's `did:web`: the host (and port, `%3A`-encoded) of the
    /// base URL, its path, then `issuers:<id>`; it resolves to
    /// `<base>/issuers/<id>/did.json`. OB 3.0 credentials name their issuer
    /// by it, so that the key controller verifiers check is the issuer.
    pub fn issuer_did(&self, id: IssuerId) -> String {
        let base = url::Url::parse(&self.base).ok();
        let host = base
            .as_ref()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_default();
        let port = base
            .as_ref()
            .and_then(url::Url::port)
            .map(|p| format!("%3A{p}"))
            .unwrap_or_default();
        let path: String = base
            .as_ref()
            .and_then(|u| u.path_segments())
            .into_iter()
            .flatten()
            .filter(|s| !s.is_empty())
            .map(|s| format!(":{s}"))
            .collect();
        format!("did:web:{host}{port}{path}:issuers:{id}")
    }

    /// The issuer named by one of our `did:web` identifiers, if `did` is one.
    pub fn issuer_of_did(&self, did: &str) -> Option<IssuerId> {
        let id: IssuerId = did.rsplit(':').next()?.parse().ok()?;
        (self.issuer_did(id) == did).then_some(id)
    }

    /// The URL of an assertion / credential.
    pub fn credential(&self, version: Version, id: AssertionId) -> String {
        format!("{}/{}/credentials/{id}", self.base, version.segment())
    }

    /// The URL of one of an issuer's keys as an OB 2.0 `CryptographicKey`:
    /// what the `creator` of a signed assertion names.
    pub fn cryptographic_key(&self, issuer: IssuerId, key: SigningKeyId) -> String {
        format!("{}/issuers/{issuer}/keys/{key}", self.base)
    }

    /// The issuer and key named by one of our [`Urls::cryptographic_key`]
    /// URLs, if `url` is one.
    pub fn cryptographic_key_of(&self, url: &str) -> Option<(IssuerId, SigningKeyId)> {
        let rest = url.strip_prefix(&self.base)?.strip_prefix("/issuers/")?;
        let (issuer, key) = rest.split_once("/keys/")?;
        Some((issuer.parse().ok()?, key.parse().ok()?))
            .filter(|(issuer, key)| self.cryptographic_key(*issuer, *key) == url)
    }

    /// The URL of an issuer's OB 2.0 `RevocationList`.
    pub fn revocation_list(&self, issuer: IssuerId) -> String {
        format!("{}/issuers/{issuer}/revocation-list", self.base)
    }

    /// The URL of a status list's credential for `purpose`: the list
    /// itself for revocation (the list credentials point to), with a
    /// `/suspension` suffix for suspension.
    pub fn status_list(&self, id: StatusListId, purpose: StatusPurpose) -> String {
        match purpose {
            StatusPurpose::Revocation => format!("{}/status-lists/{id}", self.base),
            StatusPurpose::Suspension => format!("{}/status-lists/{id}/suspension", self.base),
        }
    }

    /// The verification method id of `key`: `<issuer did>#key-<key id>`,
    /// what proofs and a VC-JWT's `kid` name.
    pub fn verification_method(&self, key: &SigningKey) -> String {
        format!("{}#key-{}", self.issuer_did(key.issuer_id), key.id)
    }

    /// The issuer and key named by one of our verification methods, if
    /// `method` is one (the DID must be ours, under this base URL).
    pub fn key_of_method(&self, method: &str) -> Option<(IssuerId, SigningKeyId)> {
        let (did, fragment) = method.split_once('#')?;
        let issuer: IssuerId = did.rsplit(':').next()?.parse().ok()?;
        let key: SigningKeyId = fragment.strip_prefix("key-")?.parse().ok()?;
        (self.issuer_did(issuer) == did).then_some((issuer, key))
    }

    /// Reads a reference to one of our documents of `kind`, given as our id
    /// URL (any version, or bare), as `urn:uuid:<uuid>`, or as the bare
    /// UUID.
    pub fn reference(&self, raw: &str, kind: Reference) -> Result<uuid::Uuid, InvalidValue> {
        let shape = || {
            InvalidValue(format!(
                "must be a UUID, urn:uuid:<UUID>, or a {}/.../{}/<UUID> URL of this server",
                self.base(),
                kind.segments()[0]
            ))
        };
        if let Ok(uuid) = uuid::Uuid::parse_str(raw) {
            return Ok(uuid);
        }
        if let Some(rest) = raw.strip_prefix("urn:uuid:") {
            return uuid::Uuid::parse_str(rest).map_err(|_| shape());
        }
        let path = raw.strip_prefix(self.base()).ok_or_else(shape)?;
        let mut parts = path.trim_start_matches('/').split('/').collect::<Vec<_>>();
        if matches!(parts.first(), Some(&"v2" | &"v3")) {
            parts.remove(0);
        }
        match parts.as_slice() {
            [segment, id] if kind.segments().contains(segment) => {
                uuid::Uuid::parse_str(id).map_err(|_| shape())
            }
            _ => Err(shape()),
        }
    }
}

/// What a reference read by [`Urls::reference`] names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reference {
    /// An issuer (profile): `.../issuers/<id>`.
    Issuer,
    /// An achievement (badge class): `.../achievements/<id>` or
    /// `.../badge-classes/<id>`.
    Achievement,
    /// A credential (assertion): `.../credentials/<id>` or
    /// `.../assertions/<id>`.
    Credential,
    /// A status list: `.../status-lists/<id>`.
    StatusList,
}

impl Reference {
    /// The collection path segments a URL of this kind may name.
    pub fn segments(self) -> &'static [&'static str] {
        match self {
            Self::Issuer => &["issuers"],
            Self::Achievement => &["achievements", "badge-classes"],
            Self::Credential => &["credentials", "assertions"],
            Self::StatusList => &["status-lists"],
        }
    }
}

/// Seconds since the epoch of an RFC 3339 date-time field of `credential`.
fn numeric_date(credential: &Value, field: &str) -> Option<i64> {
    let text = credential.get(field)?.as_str()?;
    chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.timestamp())
}

/// The payload of a VC-JWT carrying `credential`: the credential plus the
/// JWT claims OB 3.0 maps from it: `iss` (issuer id), `jti` (id), `sub`
/// (subject id, when the subject has one), `nbf` (validFrom), `exp`
/// (validUntil). The signer writes them; a verifier compares a token's
/// claims with them.
pub fn jwt_claims(credential: &Value) -> Value {
    let mut payload = credential.clone();
    if let Value::Object(claims) = &mut payload {
        let issuer = credential
            .get("issuer")
            .and_then(|i| i.as_str().or_else(|| i.get("id")?.as_str()));
        let pairs = [
            ("iss", issuer.map(Value::from)),
            ("jti", credential.get("id").cloned()),
            (
                "sub",
                credential
                    .get("credentialSubject")
                    .and_then(|s| s.get("id"))
                    .cloned(),
            ),
            (
                "nbf",
                numeric_date(credential, "validFrom").map(Value::from),
            ),
            (
                "exp",
                numeric_date(credential, "validUntil").map(Value::from),
            ),
        ];
        for (claim, value) in pairs {
            if let Some(value) = value {
                claims.insert(claim.to_owned(), value);
            }
        }
    }
    payload
}

/// Inserts `value` under `key` when it is present.
fn put(object: &mut Map<String, Value>, key: &str, value: Option<impl Into<Value>>) {
    if let Some(value) = value {
        object.insert(key.to_owned(), value.into());
    }
}

fn text<T: AsRef<str>>(value: &Option<T>) -> Option<String> {
    value.as_ref().map(|v| v.as_ref().to_owned())
}

macro_rules! as_ref_str {
    ($($t:ty),*) => {$(impl AsRef<str> for $t { fn as_ref(&self) -> &str { self.as_str() } })*};
}
as_ref_str!(Name, Text, Label, Email, Iri, HttpUrl);

/// Adds the members of `details` (serialized in their OB 3.0 shape, empty
/// ones left out) to `object`.
fn merge(object: &mut Map<String, Value>, details: &impl serde::Serialize) {
    // Serializing the details (strings, numbers, lists of them) cannot fail.
    if let Ok(Value::Object(mut members)) = serde_json::to_value(details) {
        object.append(&mut members);
    }
}

fn into_object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn evidence_object(evidence: &Evidence, type_value: Value) -> Value {
    let mut object = Map::new();
    put(&mut object, "id", text(&evidence.id));
    object.insert("type".to_owned(), type_value);
    put(&mut object, "narrative", text(&evidence.narrative));
    put(&mut object, "name", text(&evidence.name));
    put(&mut object, "description", text(&evidence.description));
    put(&mut object, "genre", text(&evidence.genre));
    put(&mut object, "audience", text(&evidence.audience));
    Value::Object(object)
}

fn criteria_object(criteria: &Criteria) -> Value {
    let mut object = Map::new();
    put(
        &mut object,
        "id",
        criteria.url().map(|u| u.as_str().to_owned()),
    );
    put(
        &mut object,
        "narrative",
        criteria.narrative().map(|n| n.as_str().to_owned()),
    );
    Value::Object(object)
}

/// An alignment; `type_value` is given for OB 3.0, which also has
/// `targetType` (OB 2.0 does not).
fn alignment_object(alignment: &Alignment, type_value: Option<Value>) -> Value {
    let mut object = Map::new();
    object.insert(
        "targetName".to_owned(),
        alignment.target_name.as_str().into(),
    );
    object.insert("targetUrl".to_owned(), alignment.target_url.as_str().into());
    put(
        &mut object,
        "targetDescription",
        text(&alignment.target_description),
    );
    put(
        &mut object,
        "targetFramework",
        text(&alignment.target_framework),
    );
    put(&mut object, "targetCode", text(&alignment.target_code));
    if type_value.is_some() {
        put(&mut object, "targetType", text(&alignment.target_type));
    }
    put(&mut object, "type", type_value);
    Value::Object(object)
}

/// Open Badges 2.0 documents.
pub mod ob2 {
    use super::*;

    /// The issuer `Profile` (`type: Issuer`). `public_keys` are the ids of
    /// the issuer's RS256 keys that still verify: when there are any, the
    /// profile names them (`publicKey`, as `CryptographicKey` URLs) and its
    /// `revocationList`, as OB 2.0 signed verification needs.
    pub fn profile(issuer: &Issuer, urls: &Urls, public_keys: &[SigningKeyId]) -> Value {
        let mut doc = into_object(json!({
            "@context": OB2_CONTEXT,
            "type": "Issuer",
            "id": urls.issuer(Version::V2, issuer.id),
            "name": issuer.name.as_str(),
            "url": issuer.url.as_str(),
        }));
        put(&mut doc, "email", text(&issuer.email));
        put(&mut doc, "description", text(&issuer.description));
        put(&mut doc, "image", text(&issuer.image));
        if let [key] = public_keys {
            doc.insert(
                "publicKey".to_owned(),
                urls.cryptographic_key(issuer.id, *key).into(),
            );
        } else if !public_keys.is_empty() {
            let keys: Vec<String> = public_keys
                .iter()
                .map(|key| urls.cryptographic_key(issuer.id, *key))
                .collect();
            doc.insert("publicKey".to_owned(), json!(keys));
        }
        if !public_keys.is_empty() {
            doc.insert(
                "revocationList".to_owned(),
                urls.revocation_list(issuer.id).into(),
            );
        }
        Value::Object(doc)
    }

    /// The OB 2.0 `CryptographicKey` of one of the issuer's RS256 keys,
    /// `public_key_pem` its SPKI PEM.
    pub fn cryptographic_key(key: &SigningKey, public_key_pem: &str, urls: &Urls) -> Value {
        json!({
            "@context": OB2_CONTEXT,
            "type": "CryptographicKey",
            "id": urls.cryptographic_key(key.issuer_id, key.id),
            "owner": urls.issuer(Version::V2, key.issuer_id),
            "publicKeyPem": public_key_pem,
        })
    }

    /// The issuer's `RevocationList`: each revoked award's assertion URL,
    /// with its reason when one was given.
    pub fn revocation_list(issuer: IssuerId, revoked: &[Assertion], urls: &Urls) -> Value {
        let entries: Vec<Value> = revoked
            .iter()
            .filter_map(|award| match &award.status {
                CredentialStatus::Revoked { reason, .. } => {
                    let mut entry =
                        into_object(json!({ "id": urls.credential(Version::V2, award.id) }));
                    put(&mut entry, "revocationReason", text(reason));
                    Some(Value::Object(entry))
                }
                _ => None,
            })
            .collect();
        json!({
            "@context": OB2_CONTEXT,
            "type": "RevocationList",
            "id": urls.revocation_list(issuer),
            "issuer": urls.issuer(Version::V2, issuer),
            "revokedAssertions": entries,
        })
    }

    /// The assertion of `award` as the payload of an OB 2.0 signed badge: the
    /// hosted assertion with `verification` `SignedBadge` naming the
    /// `CryptographicKey` that signs it (`creator`).
    pub fn signed_assertion(award: &Assertion, key: &SigningKey, urls: &Urls) -> Value {
        let mut doc = assertion(award, urls);
        if let Value::Object(object) = &mut doc {
            object.insert(
                "verification".to_owned(),
                json!({
                    "type": "SignedBadge",
                    "creator": urls.cryptographic_key(key.issuer_id, key.id),
                }),
            );
        }
        doc
    }

    /// The `BadgeClass`.
    pub fn badge_class(badge: &BadgeClass, urls: &Urls) -> Value {
        let mut doc = into_object(json!({
            "@context": OB2_CONTEXT,
            "type": "BadgeClass",
            "id": urls.achievement(Version::V2, badge.id),
            "name": badge.name.as_str(),
            "description": badge.description.as_str(),
            "criteria": criteria_object(&badge.criteria),
            "issuer": urls.issuer(Version::V2, badge.issuer_id),
        }));
        put(&mut doc, "image", text(&badge.image));
        if !badge.tags.is_empty() {
            let tags: Vec<&str> = badge.tags.iter().map(Label::as_str).collect();
            doc.insert("tags".to_owned(), json!(tags));
        }
        if !badge.alignments.is_empty() {
            let alignment: Vec<Value> = badge
                .alignments
                .iter()
                .map(|a| alignment_object(a, None))
                .collect();
            doc.insert("alignment".to_owned(), Value::Array(alignment));
        }
        put(&mut doc, "version", text(&badge.version));
        Value::Object(doc)
    }

    /// The OB 2.0 `recipient` IdentityObject.
    pub fn recipient(recipient: &Recipient) -> Value {
        let kind = match recipient.kind() {
            RecipientKind::Email => "email",
            RecipientKind::Url => "url",
            RecipientKind::Telephone => "telephone",
            RecipientKind::Did => "id",
        };
        match recipient.identity() {
            RecipientIdentity::Plain(identity) => {
                json!({ "type": kind, "identity": identity, "hashed": false })
            }
            RecipientIdentity::Hashed { hash, salt } => {
                let mut object =
                    into_object(json!({ "type": kind, "identity": hash, "hashed": true }));
                put(&mut object, "salt", salt.clone());
                Value::Object(object)
            }
        }
    }

    /// The `Assertion`, hosted-verifiable: its `id` is the URL it is served at.
    /// A revoked assertion carries `revoked: true` and its reason.
    pub fn assertion(award: &Assertion, urls: &Urls) -> Value {
        let mut doc = into_object(json!({
            "@context": OB2_CONTEXT,
            "type": "Assertion",
            "id": urls.credential(Version::V2, award.id),
            "recipient": recipient(&award.recipient),
            "badge": urls.achievement(Version::V2, award.badge_class_id),
            "verification": { "type": "hosted" },
            "issuedOn": award.issued_on.to_rfc3339(),
        }));
        put(&mut doc, "expires", award.expires.map(|e| e.to_rfc3339()));
        put(&mut doc, "narrative", text(&award.narrative));
        put(&mut doc, "image", text(&award.image));
        if !award.evidence.is_empty() {
            let evidence: Vec<Value> = award
                .evidence
                .iter()
                .map(|e| evidence_object(e, json!("Evidence")))
                .collect();
            doc.insert("evidence".to_owned(), Value::Array(evidence));
        }
        if let CredentialStatus::Revoked { reason, .. } = &award.status {
            doc.insert("revoked".to_owned(), Value::Bool(true));
            put(&mut doc, "revocationReason", text(reason));
        }
        Value::Object(doc)
    }
}

/// Open Badges 3.0 documents.
pub mod ob3 {
    use super::*;

    /// The JSON-LD context list of every OB 3.0 document.
    pub fn context() -> Value {
        json!([VC2_CONTEXT, OB3_CONTEXT])
    }

    /// The JSON-LD context list of an OB 3.0 credential: the extensions
    /// context too, for its `credentialSchema` type.
    pub fn credential_context() -> Value {
        json!([VC2_CONTEXT, OB3_CONTEXT, OB3_EXTENSIONS_CONTEXT])
    }

    fn image(iri: &Option<Iri>) -> Option<Value> {
        iri.as_ref()
            .map(|i| json!({ "id": i.as_str(), "type": "Image" }))
    }

    fn profile_object(issuer: &Issuer, urls: &Urls) -> Map<String, Value> {
        let mut doc = into_object(json!({
            "id": urls.issuer(Version::V3, issuer.id),
            "type": ["Profile"],
            "name": issuer.name.as_str(),
            "url": issuer.url.as_str(),
        }));
        put(&mut doc, "email", text(&issuer.email));
        put(&mut doc, "description", text(&issuer.description));
        put(&mut doc, "image", image(&issuer.image));
        merge(&mut doc, &issuer.details);
        doc
    }

    fn achievement_object(badge: &BadgeClass, urls: &Urls) -> Map<String, Value> {
        let mut doc = into_object(json!({
            "id": urls.achievement(Version::V3, badge.id),
            "type": ["Achievement"],
            "name": badge.name.as_str(),
            "description": badge.description.as_str(),
            "criteria": criteria_object(&badge.criteria),
        }));
        put(&mut doc, "image", image(&badge.image));
        put(&mut doc, "achievementType", text(&badge.achievement_type));
        if !badge.tags.is_empty() {
            let tags: Vec<&str> = badge.tags.iter().map(Label::as_str).collect();
            doc.insert("tag".to_owned(), json!(tags));
        }
        if !badge.alignments.is_empty() {
            let alignment: Vec<Value> = badge
                .alignments
                .iter()
                .map(|a| alignment_object(a, Some(json!(["Alignment"]))))
                .collect();
            doc.insert("alignment".to_owned(), Value::Array(alignment));
        }
        put(&mut doc, "version", text(&badge.version));
        merge(&mut doc, &badge.details);
        doc.insert(
            "creator".to_owned(),
            json!({ "id": urls.issuer(Version::V3, badge.issuer_id), "type": ["Profile"] }),
        );
        doc
    }

    fn with_context(mut object: Map<String, Value>) -> Value {
        let mut doc = Map::with_capacity(object.len() + 1);
        doc.insert("@context".to_owned(), context());
        doc.append(&mut object);
        Value::Object(doc)
    }

    /// The issuer `Profile`, as a standalone document.
    pub fn profile(issuer: &Issuer, urls: &Urls) -> Value {
        with_context(profile_object(issuer, urls))
    }

    /// The `Achievement`, as a standalone document.
    pub fn achievement(badge: &BadgeClass, urls: &Urls) -> Value {
        with_context(achievement_object(badge, urls))
    }

    /// The `credentialSubject`: `id` for a recipient given in the clear as
    /// a URL or DID, otherwise an `identifier` IdentityObject.
    fn subject(award: &Assertion, badge: &BadgeClass, urls: &Urls) -> Value {
        let recipient = &award.recipient;
        let mut subject = into_object(json!({ "type": ["AchievementSubject"] }));
        match (recipient.kind(), recipient.identity()) {
            (RecipientKind::Url | RecipientKind::Did, RecipientIdentity::Plain(id)) => {
                subject.insert("id".to_owned(), json!(id));
            }
            (kind, identity) => {
                let identity_type = match kind {
                    RecipientKind::Email => "emailAddress",
                    RecipientKind::Telephone => "ext:telephone",
                    RecipientKind::Url | RecipientKind::Did => "identifier",
                };
                let mut identifier = into_object(json!({
                    "type": "IdentityObject",
                    "identityType": identity_type,
                }));
                match identity {
                    RecipientIdentity::Plain(plain) => {
                        identifier.insert("hashed".to_owned(), json!(false));
                        identifier.insert("identityHash".to_owned(), json!(plain));
                    }
                    RecipientIdentity::Hashed { hash, salt } => {
                        identifier.insert("hashed".to_owned(), json!(true));
                        identifier.insert("identityHash".to_owned(), json!(hash));
                        put(&mut identifier, "salt", salt.clone());
                    }
                }
                subject.insert("identifier".to_owned(), json!([identifier]));
            }
        }
        subject.insert(
            "achievement".to_owned(),
            Value::Object(achievement_object(badge, urls)),
        );
        put(&mut subject, "narrative", text(&award.narrative));
        merge(&mut subject, &award.details.subject);
        Value::Object(subject)
    }

    /// The `OpenBadgeCredential` (unsigned; proofs are added by a signer).
    /// Its issuer is named by the issuer's `did:web`, whose DID document
    /// lists the signing keys (so the key's controller is the issuer, as
    /// verifiers check) and points back to the profile URL.
    pub fn credential(
        award: &Assertion,
        badge: &BadgeClass,
        issuer: &Issuer,
        urls: &Urls,
    ) -> Value {
        let mut issuer_object = profile_object(issuer, urls);
        issuer_object.insert("id".to_owned(), Value::String(urls.issuer_did(issuer.id)));
        let mut doc = into_object(json!({
            "@context": credential_context(),
            "id": urls.credential(Version::V3, award.id),
            "type": ["VerifiableCredential", "OpenBadgeCredential"],
            "name": award.details.credential.name.as_ref().unwrap_or(&badge.name).as_str(),
            "issuer": Value::Object(issuer_object),
            "validFrom": award.issued_on.to_rfc3339(),
        }));
        let credential = &award.details.credential;
        put(&mut doc, "description", text(&credential.description));
        put(&mut doc, "image", image(&award.image));
        put(
            &mut doc,
            "awardedDate",
            credential.awarded_date.map(|d| d.to_rfc3339()),
        );
        put(
            &mut doc,
            "validUntil",
            award.expires.map(|e| e.to_rfc3339()),
        );
        doc.insert("credentialSubject".to_owned(), subject(award, badge, urls));
        if let Some(slot) = award.status_slot {
            // One entry, for revocation: the OB 3.0 schema allows a single
            // `credentialStatus` object. Suspension is published in the
            // list's twin at `<list>/suspension`, same index.
            let list = urls.status_list(slot.list_id, StatusPurpose::Revocation);
            doc.insert(
                "credentialStatus".to_owned(),
                json!({
                    "id": format!("{list}#{}", slot.index),
                    "type": "BitstringStatusListEntry",
                    "statusPurpose": StatusPurpose::Revocation.as_str(),
                    "statusListIndex": slot.index.to_string(),
                    "statusListCredential": list,
                }),
            );
        }
        if !award.evidence.is_empty() {
            let evidence: Vec<Value> = award
                .evidence
                .iter()
                .map(|e| evidence_object(e, json!(["Evidence"])))
                .collect();
            doc.insert("evidence".to_owned(), Value::Array(evidence));
        }
        if !credential.terms_of_use.is_empty() {
            put(
                &mut doc,
                "termsOfUse",
                serde_json::to_value(&credential.terms_of_use).ok(),
            );
        }
        let schemas = if credential.credential_schema.is_empty() {
            vec![CredentialSchema::ob3_default()]
        } else {
            credential.credential_schema.clone()
        };
        put(
            &mut doc,
            "credentialSchema",
            serde_json::to_value(schemas).ok(),
        );
        Value::Object(doc)
    }

    /// The unsigned `BitstringStatusListCredential` of a status list for
    /// `purpose`, with `encoded_list` the GZIP-compressed, multibase
    /// base64url-encoded bitstring.
    pub fn status_list_credential(
        list: &StatusList,
        purpose: StatusPurpose,
        encoded_list: &str,
        valid_from: Timestamp,
        urls: &Urls,
    ) -> Value {
        let id = urls.status_list(list.id, purpose);
        json!({
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "id": id,
            "type": ["VerifiableCredential", "BitstringStatusListCredential"],
            "issuer": urls.issuer_did(list.issuer_id),
            "validFrom": valid_from.to_rfc3339(),
            "credentialSubject": {
                "id": format!("{id}#list"),
                "type": "BitstringStatusList",
                "statusPurpose": purpose.as_str(),
                "encodedList": encoded_list,
            },
        })
    }
}
