//! The documents this server signs, built by the domain's own builders
//! with every optional member set, are canonicalized by the direct route
//! (no JSON-LD expansion) and to exactly the bytes of the general route;
//! and what the signer signs verifies with a signer that only has the
//! general route.

use std::sync::Arc;

use openbadges_credentials::{DataIntegrity, KeyVault, VerifyingKey};
use openbadges_domain::documents::{ob3, Urls};
use openbadges_domain::endorsements::{endorsement_credential, Claim};
use openbadges_domain::ports::{CredentialSigner, Store};
use openbadges_domain::testkit::{sample_assertion, sample_badge_class, sample_issuer};
use openbadges_domain::*;
use openbadges_memory_store::MemoryStore;
use openbadges_signing::Signing;
use serde_json::Value;

/// Every document kind the server signs, in its variants.
fn documents(urls: &Urls) -> Vec<(String, Value)> {
    let issuer = sample_issuer(None);
    let badge = sample_badge_class(issuer.id);
    let mut documents = Vec::new();

    let recipients = [
        (
            "hashed e-mail",
            Recipient::hashed(RecipientKind::Email, "ada@example.org", "s4lt"),
        ),
        (
            "plain e-mail",
            Recipient::plain(RecipientKind::Email, "ada@example.org"),
        ),
        (
            "telephone",
            Recipient::plain(RecipientKind::Telephone, "+4930123456"),
        ),
        (
            "URL",
            Recipient::plain(RecipientKind::Url, "https://ada.example.org/"),
        ),
        (
            "DID",
            Recipient::plain(RecipientKind::Did, "did:example:ada"),
        ),
    ];
    for (name, recipient) in recipients {
        let mut award = sample_assertion(&badge, "ada@example.org");
        award.recipient = recipient.expect("a recipient");
        award.image = Some(Iri::parse("https://issuer.example.org/award.png").expect("iri"));
        award.status_slot = Some(StatusSlot {
            list_id: StatusListId::generate(),
            index: 4711,
        });
        award.evidence.push(Evidence {
            id: None,
            narrative: Some(Text::parse("A second piece, without an id.").expect("text")),
            name: None,
            description: Some(Text::parse("Tabs\tand \"quotes\" and \\ too").expect("text")),
            genre: None,
            audience: Some(Name::parse("Employers").expect("name")),
        });
        documents.push((
            format!("credential to a {name} recipient"),
            ob3::credential(&award, &badge, &issuer, urls),
        ));
    }

    let mut bare = sample_assertion(&badge, "ada@example.org");
    bare.details = AwardDetails::default().into();
    bare.evidence.clear();
    bare.expires = None;
    bare.narrative = None;
    let mut plain_issuer = sample_issuer(None);
    plain_issuer.details = ProfileDetails::default();
    plain_issuer.email = None;
    plain_issuer.description = None;
    plain_issuer.image = None;
    let mut plain_badge = sample_badge_class(plain_issuer.id);
    plain_badge.details = AchievementDetails::default();
    plain_badge.alignments.clear();
    plain_badge.tags.clear();
    documents.push((
        "credential with no optional member".into(),
        ob3::credential(&bare, &plain_badge, &plain_issuer, urls),
    ));

    for (comment, slot) in [
        (
            Some(Text::parse("Well deserved — très bien").expect("text")),
            Some(StatusSlot {
                list_id: StatusListId::generate(),
                index: 0,
            }),
        ),
        (None, None),
    ] {
        let subject_url = urls.achievement(documents::Version::V3, badge.id);
        let claim = Claim {
            id: EndorsementId::generate(),
            subject_url: &subject_url,
            name: "Endorsement of Rust Fundamentals",
            comment: comment.as_ref(),
            valid_from: Timestamp::now(),
            slot,
        };
        documents.push((
            format!("endorsement (comment: {})", comment.is_some()),
            endorsement_credential(&claim, &issuer, urls),
        ));
    }

    let list = StatusList {
        id: StatusListId::generate(),
        issuer_id: issuer.id,
        capacity: 131_072,
        allocated: 12,
        created_at: Timestamp::now(),
    };
    for purpose in [StatusPurpose::Revocation, StatusPurpose::Suspension] {
        documents.push((
            format!("status list ({})", purpose.as_str()),
            ob3::status_list_credential(
                &list,
                purpose,
                "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA",
                Timestamp::now(),
                urls,
            ),
        ));
    }
    documents
}

#[test]
fn the_documents_the_server_builds_take_the_direct_route() {
    let urls = Urls::new("https://badges.example.org:8443/base").expect("a base URL");
    let integrity = DataIntegrity::new().expect("the bundled contexts load");
    for (name, document) in documents(&urls) {
        let general = integrity
            .canonicalize_general(&document)
            .unwrap_or_else(|e| panic!("{name}: the general route fails: {e}"));
        let direct = integrity
            .canonicalize_direct(&document)
            .unwrap_or_else(|e| panic!("{name}: the direct route fails: {e}"))
            .unwrap_or_else(|| {
                panic!("{name}: the direct route does not support it:\n{document:#}")
            });
        assert_eq!(direct, general, "{name}");
    }
}

#[tokio::test]
async fn what_the_signer_signs_verifies_on_the_general_route() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let urls = Urls::new("https://badges.example.org").expect("a base URL");
    let issuer = sample_issuer(None);
    store.issuers().create(&issuer).await.expect("issuer");
    let signing = Signing::new(Arc::clone(&store), KeyVault::new(&[7; 32]), urls.clone())
        .expect("the bundled contexts load");
    let key = signing.key_for(&issuer).await.expect("a key");
    let general_only = DataIntegrity::builder()
        .direct_canonicalization(false)
        .build()
        .expect("the bundled contexts load");
    let public = VerifyingKey::from_multibase(&key.public_key).expect("an Ed25519 key");
    for (name, document) in documents(&urls) {
        let signed = signing
            .sign(&key, document)
            .await
            .expect("signed")
            .document()
            .expect("JSON");
        let method = urls.verification_method(&key);
        let check = general_only
            .verify(&signed, |m| (m == method).then_some(public))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(check.verification_method, method);
    }
}
