//! The repository contract, written once and run against every [`Store`]
//! implementation. Each check panics with a message naming what broke.
//!
//! Checks never assume an empty database: each one creates its own data and
//! filters by it, so one database can serve a whole test run.
//!
//! An adapter crate runs the whole contract with one line in a test file:
//!
//! ```text
//! openbadges_domain::store_contract_tests!(async { my_adapter::test_store().await });
//! ```

use std::sync::Arc;

use crate::backpack::{HeldCredential, HeldCredentialId, HeldFormat, HeldSource, Upserted};
use crate::batch::AwardBatch;
use crate::details::*;
use crate::entities::*;
use crate::ids::*;
use crate::page::{Cursor, PageRequest};
use crate::ports::*;
use crate::values::*;
use crate::DomainError;
use crate::{Asset, ImageType};
use sha2::Digest as _;

fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    )
}

fn ts(value: &str) -> Timestamp {
    Timestamp::parse(value).expect("fixture timestamp")
}

fn page(limit: u32, offset: u64) -> PageRequest {
    PageRequest::new(limit, offset).expect("fixture page")
}

/// A valid user with a unique username and e-mail.
pub fn sample_user(role: Role) -> User {
    let name = unique("user");
    let now = Timestamp::now();
    User {
        id: UserId::generate(),
        username: Username::parse(name.clone()).expect("username"),
        email: Some(Email::parse(format!("{name}@example.org")).expect("email")),
        password_hash: PasswordHash::parse("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA")
            .expect("hash"),
        role,
        session_generation: 0,
        created_at: now,
        updated_at: now,
    }
}

/// Every OB 3.0 Profile detail set, with non-ASCII text.
pub fn sample_profile_details() -> ProfileDetails {
    serde_json::from_value(serde_json::json!({
        "phone": "+49 30 1234567",
        "address": {
            "type": ["Address"], "addressCountry": "Deutschland", "addressCountryCode": "DE",
            "addressRegion": "Berlin", "addressLocality": "Berlin", "streetAddress": "Straße 1",
            "postOfficeBoxNumber": "12", "postalCode": "10115",
            "geo": {"type": "GeoCoordinates", "latitude": 52.52, "longitude": 13.405}
        },
        "official": "Dr. Ada Ωmega",
        "parentOrg": {"id": "https://parent.example.org", "type": ["Profile"], "name": "Parent",
                      "url": "https://parent.example.org", "email": "p@parent.example.org",
                      "phone": "+1 555", "description": "The parent."},
        "otherIdentifier": [{"type": "IdentifierEntry", "identifier": "DE-123", "identifierType": "ext:vat"}],
        "familyName": "Lovelace", "givenName": "Ada", "additionalName": "Augusta",
        "patronymicName": "Byron", "honorificPrefix": "Countess", "honorificSuffix": "FRS",
        "familyNamePrefix": "de", "dateOfBirth": "1815-12-10"
    }))
    .expect("profile details")
}

/// Every OB 3.0 Achievement detail set.
pub fn sample_achievement_details() -> AchievementDetails {
    serde_json::from_value(serde_json::json!({
        "creditsAvailable": 7.5,
        "fieldOfStudy": "Computer Science",
        "humanCode": "CS-101",
        "inLanguage": "en-GB",
        "otherIdentifier": [{"type": "IdentifierEntry", "identifier": "X1", "identifierType": "systemId"}],
        "related": [{"id": "https://other.example.org/achievements/1", "type": ["Related"],
                     "inLanguage": "de", "version": "2"}],
        "resultDescription": [{
            "id": "urn:uuid:5f0c1a5e-4f40-4c53-9d51-6c0a9e1b0a01", "type": ["ResultDescription"],
            "alignment": [{"type": ["Alignment"], "targetName": "T", "targetUrl": "https://t.example.org",
                           "targetType": "ext:Skill"}],
            "allowedValue": ["A", "B", "C"], "name": "Grade",
            "requiredLevel": "urn:uuid:5f0c1a5e-4f40-4c53-9d51-6c0a9e1b0a02",
            "requiredValue": "B", "resultType": "LetterGrade",
            "rubricCriterionLevel": [{"id": "urn:uuid:5f0c1a5e-4f40-4c53-9d51-6c0a9e1b0a02",
                "type": ["RubricCriterionLevel"], "description": "Mastered it", "level": "3",
                "name": "Mastery", "points": "30"}],
            "valueMax": "A", "valueMin": "C"
        }],
        "specialization": "Systems"
    }))
    .expect("achievement details")
}

/// Every OB 3.0 credential and subject detail set.
pub fn sample_award_details() -> AwardDetails {
    serde_json::from_value(serde_json::json!({
        "subject": {
            "result": [{"type": ["Result"], "achievedLevel": "urn:uuid:5f0c1a5e-4f40-4c53-9d51-6c0a9e1b0a02",
                        "resultDescription": "urn:uuid:5f0c1a5e-4f40-4c53-9d51-6c0a9e1b0a01",
                        "status": "Completed", "value": "A"}],
            "creditsEarned": 7.5,
            "activityStartDate": "2024-01-08T09:00:00Z",
            "activityEndDate": "2024-04-30T17:00:00Z",
            "licenseNumber": "L-42",
            "role": "Student",
            "source": {"id": "https://school.example.org", "type": ["Profile"], "name": "School"},
            "term": "Spring 2024",
            "image": {"id": "https://issuer.example.org/portrait.png", "type": "Image", "caption": "Ada"}
        },
        "credential": {
            "name": "Ada's Rust Fundamentals",
            "description": "Awarded with distinction.",
            "awardedDate": "2024-05-01T12:00:00Z",
            "termsOfUse": [{"id": "https://issuer.example.org/terms", "type": "https://www.w3.org/2018/credentials#TrustFrameworkPolicy"}],
            "credentialSchema": [{"id": "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json",
                                  "type": "1EdTechJsonSchemaValidator2019"}]
        }
    }))
    .expect("award details")
}

/// A valid issuer with every optional field set, including non-ASCII text.
pub fn sample_issuer(owner_id: Option<UserId>) -> Issuer {
    let now = Timestamp::now();
    Issuer {
        id: IssuerId::generate(),
        name: Name::parse("Université de Test — Ωmega 🎓").expect("name"),
        url: HttpUrl::parse("https://issuer.example.org/").expect("url"),
        email: Some(Email::parse("badges@issuer.example.org").expect("email")),
        description: Some(
            Text::parse(
                "Issues badges.\nSecond line, with 'quotes' and \"double\"; DROP TABLE issuers; --",
            )
            .expect("text"),
        ),
        image: Some(Iri::parse("https://issuer.example.org/logo.png").expect("iri")),
        details: sample_profile_details(),
        owner_id,
        created_at: now,
        updated_at: now,
    }
}

/// A valid badge class of `issuer_id` with every optional field set.
pub fn sample_badge_class(issuer_id: IssuerId) -> BadgeClass {
    let now = Timestamp::now();
    BadgeClass {
        id: BadgeClassId::generate(),
        issuer_id,
        name: Name::parse("Rust Fundamentals").expect("name"),
        description: Text::parse("Wrote safe, fast code.").expect("text"),
        image: Some(Iri::parse("https://issuer.example.org/badge.png").expect("iri")),
        criteria: Criteria::new(
            Some(Iri::parse("https://issuer.example.org/criteria").expect("iri")),
            Some(Text::parse("Pass the **exam**.").expect("text")),
        )
        .expect("criteria"),
        tags: vec![
            Label::parse("rust").expect("tag"),
            Label::parse("systems").expect("tag"),
        ],
        alignments: vec![Alignment {
            target_name: Name::parse("ESCO: programming").expect("name"),
            target_url: Iri::parse("https://esco.example.org/skill/42").expect("iri"),
            target_description: Some(Text::parse("Programming skills").expect("text")),
            target_framework: Some(Name::parse("ESCO").expect("name")),
            target_code: Some(Label::parse("S1.2").expect("code")),
            target_type: Some(Label::parse("ceasn:Competency").expect("type")),
        }],
        version: Some(Label::parse("1.0").expect("version")),
        achievement_type: Some(Label::parse("Badge").expect("type")),
        details: sample_achievement_details(),
        notify_recipients: false,
        created_at: now,
        updated_at: now,
    }
}

/// A valid award of `badge_class` to `email`, hashed with a salt.
pub fn sample_assertion(badge_class: &BadgeClass, email: &str) -> Assertion {
    let now = Timestamp::now();
    Assertion {
        id: AssertionId::generate(),
        badge_class_id: badge_class.id,
        issuer_id: badge_class.issuer_id,
        recipient: Recipient::hashed(RecipientKind::Email, email, "s4lt").expect("recipient"),
        issued_on: ts("2024-05-01T12:00:00.123456Z"),
        expires: Some(ts("2030-01-01T00:00:00Z")),
        evidence: vec![Evidence {
            id: Some(Iri::parse("https://portfolio.example.org/work/1").expect("iri")),
            narrative: Some(Text::parse("Built a parser.").expect("text")),
            name: Some(Name::parse("Parser").expect("name")),
            description: None,
            genre: Some(Label::parse("Project").expect("genre")),
            audience: None,
        }],
        narrative: Some(Text::parse("Excellent work.").expect("text")),
        image: None,
        details: sample_award_details().into(),
        status: CredentialStatus::Active,
        status_slot: None,
        issued_credential: None,
        created_at: now,
        updated_at: now,
    }
}

async fn seed_badge_class(store: &dyn Store) -> (Issuer, BadgeClass) {
    let issuer = sample_issuer(None);
    store
        .issuers()
        .create(&issuer)
        .await
        .expect("create issuer");
    let badge = sample_badge_class(issuer.id);
    store
        .badge_classes()
        .create(&badge)
        .await
        .expect("create badge class");
    (issuer, badge)
}

fn assert_not_found<T: std::fmt::Debug>(result: Result<T, DomainError>, what: &str) {
    match result {
        Err(DomainError::NotFound { .. }) => {}
        other => panic!("{what}: expected NotFound, got {other:?}"),
    }
}

/// `ping` answers on a healthy store.
pub async fn ping_answers(store: Arc<dyn Store>) {
    store.ping().await.expect("ping");
}

/// Issuers: create, read back exactly, update, list, delete, and the errors.
pub async fn issuer_crud(store: Arc<dyn Store>) {
    let repo = store.issuers();
    let mut issuer = sample_issuer(None);
    repo.create(&issuer).await.expect("create");
    assert_eq!(
        repo.get(issuer.id).await.expect("get"),
        issuer,
        "read back differs"
    );

    match repo.create(&issuer).await {
        Err(DomainError::Duplicate {
            entity: "issuer",
            field: "id",
        }) => {}
        other => panic!("duplicate id: expected Duplicate, got {other:?}"),
    }

    issuer.name = Name::parse("Renamed").expect("name");
    issuer.email = None;
    issuer.description = None;
    // Details change on update: one kept, the rest cleared.
    issuer.details = ProfileDetails {
        given_name: Some(Name::parse("Grace").expect("name")),
        ..ProfileDetails::default()
    };
    issuer.updated_at = Timestamp::now();
    repo.update(&issuer).await.expect("update");
    assert_eq!(
        repo.get(issuer.id).await.expect("get"),
        issuer,
        "update not kept"
    );
    let mut other_owner = issuer.clone();
    other_owner.owner_id = Some(UserId::generate());
    repo.update(&other_owner)
        .await
        .expect("an update leaves the owner alone");
    assert_eq!(
        repo.get(issuer.id).await.expect("get").owner_id,
        issuer.owner_id,
        "an update wrote the owner"
    );

    let listed = repo
        .list(&IssuerFilter::default(), page(PageRequest::MAX_LIMIT, 0))
        .await
        .expect("list");
    assert!(listed.total >= 1);

    repo.delete(issuer.id, DeleteMode::Restrict)
        .await
        .expect("delete");
    assert_not_found(repo.get(issuer.id).await, "get deleted issuer");
    assert_not_found(repo.update(&issuer).await, "update deleted issuer");
    assert_not_found(
        repo.delete(issuer.id, DeleteMode::Restrict).await,
        "delete deleted issuer",
    );
}

/// Lists page through a filtered set in a stable order with the right total.
pub async fn issuer_pagination(store: Arc<dyn Store>) {
    let owner = sample_user(Role::Issuer);
    store.users().create(&owner).await.expect("create owner");
    let mut created = Vec::new();
    for _ in 0..7 {
        let issuer = sample_issuer(Some(owner.id));
        store.issuers().create(&issuer).await.expect("create");
        created.push(issuer.id);
    }
    let filter = IssuerFilter {
        owner_id: Some(owner.id),
    };
    let mut seen = Vec::new();
    for (offset, expected_len) in [(0, 3), (3, 3), (6, 1), (9, 0)] {
        let got = store
            .issuers()
            .list(&filter, page(3, offset))
            .await
            .expect("list");
        assert_eq!(got.total, 7, "total at offset {offset}");
        assert_eq!(
            got.items.len(),
            expected_len,
            "page size at offset {offset}"
        );
        seen.extend(got.items.into_iter().map(|i| i.id));
    }
    let mut sorted_seen = seen.clone();
    sorted_seen.sort();
    sorted_seen.dedup();
    assert_eq!(sorted_seen.len(), 7, "pages overlap or miss items");
    let mut expected = created;
    expected.sort();
    assert_eq!(sorted_seen, expected);
}

/// Badge classes: round trip, filter by issuer, missing issuer, update.
pub async fn badge_class_crud(store: Arc<dyn Store>) {
    let (issuer, mut badge) = seed_badge_class(store.as_ref()).await;
    let repo = store.badge_classes();
    assert_eq!(
        repo.get(badge.id).await.expect("get"),
        badge,
        "read back differs"
    );
    assert_eq!(
        repo.get_with_issuer(badge.id)
            .await
            .expect("get with issuer"),
        (badge.clone(), issuer.clone()),
        "read back with its issuer differs"
    );
    match repo.get_with_issuer(BadgeClassId::generate()).await {
        Err(DomainError::NotFound { entity, .. }) => assert_eq!(entity, "badge class"),
        other => panic!("an unknown badge class with its issuer: {other:?}"),
    }

    let other = sample_badge_class(issuer.id);
    repo.create(&other).await.expect("create second");
    let listed = repo
        .list(
            &BadgeClassFilter {
                issuer_id: Some(issuer.id),
            },
            page(10, 0),
        )
        .await
        .expect("list");
    assert_eq!(listed.total, 2);
    assert_eq!(
        listed.items,
        vec![badge.clone(), other.clone()],
        "order by creation"
    );

    let orphan = sample_badge_class(IssuerId::generate());
    match repo.create(&orphan).await {
        Err(DomainError::MissingReference { entity, .. }) => assert_eq!(entity, "issuer"),
        other => panic!("unknown issuer: expected MissingReference, got {other:?}"),
    }

    badge.name = Name::parse("Rust Advanced").expect("name");
    badge.tags.clear();
    badge.alignments.clear();
    badge.criteria =
        Criteria::new(None, Some(Text::parse("New criteria").expect("text"))).expect("criteria");
    badge.details.result_description.clear();
    badge.details.human_code = Some(Label::parse("CS-102").expect("code"));
    badge.updated_at = Timestamp::now();
    repo.update(&badge).await.expect("update");
    assert_eq!(
        repo.get(badge.id).await.expect("get"),
        badge,
        "update not kept"
    );

    repo.delete(other.id, DeleteMode::Restrict)
        .await
        .expect("delete");
    assert_not_found(repo.get(other.id).await, "get deleted badge class");
}

/// Awards: exact round trip, filters, status changes, bad references.
pub async fn assertion_crud(store: Arc<dyn Store>) {
    let (issuer, badge) = seed_badge_class(store.as_ref()).await;
    let repo = store.assertions();
    let email = format!("{}@example.org", unique("ada"));
    let mut award = sample_assertion(&badge, &email);
    repo.create(&award).await.expect("create");
    assert_eq!(
        repo.get(award.id).await.expect("get"),
        award,
        "read back differs"
    );

    let mut plain = sample_assertion(&badge, "grace@example.org");
    plain.recipient =
        Recipient::plain(RecipientKind::Url, "https://grace.example.org/").expect("r");
    plain.expires = None;
    plain.evidence.clear();
    plain.narrative = None;
    repo.create(&plain).await.expect("create plain");
    assert_eq!(
        repo.get(plain.id).await.expect("get"),
        plain,
        "plain recipient differs"
    );

    let by_badge = repo
        .list(
            &AssertionFilter {
                badge_class_id: Some(badge.id),
                ..Default::default()
            },
            page(10, 0),
        )
        .await
        .expect("list by badge");
    assert_eq!(by_badge.total, 2);
    let by_issuer = repo
        .list(
            &AssertionFilter {
                issuer_id: Some(issuer.id),
                ..Default::default()
            },
            page(10, 0),
        )
        .await
        .expect("list by issuer");
    assert_eq!(by_issuer.total, 2);
    let by_recipient = repo
        .list(
            &AssertionFilter {
                recipient_key: Some(Recipient::lookup_key_for(RecipientKind::Email, &email)),
                ..Default::default()
            },
            page(10, 0),
        )
        .await
        .expect("list by recipient");
    assert_eq!(by_recipient.items, vec![award.clone()]);

    award.issued_credential = Some(IssuedCredential::new(&serde_json::json!({
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": "Ünïcødé ✓",
        "proof": {"proofValue": "z3FXQjecWufY46yg5abdVZsXqLhxhueuSoZgNSARiKBk"},
    })));
    award.details.subject.result.clear();
    award.details.credential = CredentialDetails::default();
    award.updated_at = Timestamp::now();
    repo.update(&award).await.expect("update");
    assert_eq!(
        repo.get(award.id).await.expect("get"),
        award,
        "update not kept"
    );

    let revoked = CredentialStatus::Revoked {
        reason: Some(Text::parse("Issued in error").expect("reason")),
        at: Timestamp::now(),
    };
    let at = Timestamp::now();
    repo.set_status(award.id, &award.status, &revoked, at)
        .await
        .expect("revoke");
    let active = std::mem::replace(&mut award.status, revoked);
    award.updated_at = at;
    assert_eq!(
        repo.get(award.id).await.expect("get"),
        award,
        "revocation not kept"
    );
    let suspended = CredentialStatus::Suspended {
        reason: None,
        at: Timestamp::now(),
    };
    match repo
        .set_status(award.id, &active, &suspended, Timestamp::now())
        .await
    {
        Err(DomainError::Stale {
            entity: "assertion",
            id,
            expected,
            actual,
        }) => assert_eq!(
            (id, expected.as_str(), actual.as_str()),
            (award.id.to_string(), "active", "revoked"),
            "the stale state names the award, what was read and what is stored"
        ),
        other => panic!("a status read before a revocation: expected Stale, got {other:?}"),
    }
    let mut edited = award.clone();
    edited.status = CredentialStatus::Active;
    edited.narrative = None;
    repo.update(&edited).await.expect("edit a revoked award");
    let stored = repo.get(award.id).await.expect("get");
    assert!(stored.status.is_revoked(), "an update wrote the status");
    assert_eq!(stored.narrative, None, "edit not kept");
    match repo
        .set_status(
            AssertionId::generate(),
            &active,
            &suspended,
            Timestamp::now(),
        )
        .await
    {
        Err(DomainError::NotFound { .. }) => {}
        other => panic!("status of a missing award: expected NotFound, got {other:?}"),
    }

    let mut orphan = sample_assertion(&badge, "x@example.org");
    orphan.badge_class_id = BadgeClassId::generate();
    match repo.create(&orphan).await {
        Err(DomainError::MissingReference { entity, .. }) => assert_eq!(entity, "badge class"),
        other => panic!("unknown badge class: expected MissingReference, got {other:?}"),
    }
    let (other_issuer, _) = seed_badge_class(store.as_ref()).await;
    let mut mismatched = sample_assertion(&badge, "x@example.org");
    mismatched.issuer_id = other_issuer.id;
    match repo.create(&mismatched).await {
        Err(DomainError::Validation(_)) => {}
        other => panic!("issuer mismatch: expected Validation, got {other:?}"),
    }
    assert_not_found(repo.get(orphan.id).await, "orphan must not be stored");
    assert_not_found(repo.get(mismatched.id).await, "mismatch must not be stored");

    repo.delete(plain.id).await.expect("delete");
    assert_not_found(repo.get(plain.id).await, "get deleted award");
}

/// Awards filter by the owner of their issuer.
pub async fn assertions_filter_by_owner(store: Arc<dyn Store>) {
    let owner = sample_user(Role::Issuer);
    store.users().create(&owner).await.expect("owner");
    let mine = sample_issuer(Some(owner.id));
    store.issuers().create(&mine).await.expect("issuer");
    let badge = sample_badge_class(mine.id);
    store.badge_classes().create(&badge).await.expect("badge");
    let award = sample_assertion(&badge, "owned@example.org");
    store.assertions().create(&award).await.expect("award");
    let (_, others) = seed_badge_class(store.as_ref()).await;
    store
        .assertions()
        .create(&sample_assertion(&others, "other@example.org"))
        .await
        .expect("other award");
    let listed = store
        .assertions()
        .list(
            &AssertionFilter {
                owner_id: Some(owner.id),
                ..Default::default()
            },
            page(10, 0),
        )
        .await
        .expect("list");
    assert_eq!(listed.items, vec![award]);
    assert_eq!(listed.total, 1);
}

/// Pages of awards walked by cursor, starting after `start`: checks each
/// page's size and that the walk only moves forward; stops at a short page,
/// or once past `until`.
async fn walk_by_cursor(
    repo: &dyn AssertionRepository,
    filter: &AssertionFilter,
    start: Option<Cursor>,
    limit: u32,
    until: Option<Timestamp>,
) -> Vec<Assertion> {
    let key = |a: &Assertion| (a.created_at, a.id.as_uuid());
    let mut walked: Vec<Assertion> = Vec::new();
    let mut after = start;
    for _ in 0..1000 {
        let page = repo
            .list_after(filter, after, limit)
            .await
            .unwrap_or_else(|e| panic!("{filter:?} after {after:?}, limit {limit}: {e}"));
        assert!(
            page.len() <= usize::try_from(limit).expect("small limit"),
            "{filter:?}: {} awards on a page of {limit}",
            page.len()
        );
        for award in &page {
            if let Some(cursor) = after {
                assert!(
                    key(award) > (cursor.created_at(), cursor.id()),
                    "{filter:?}, limit {limit}: award {} is not after the cursor",
                    award.id
                );
            }
            if let Some(previous) = walked.last() {
                assert!(
                    key(award) > key(previous),
                    "{filter:?}, limit {limit}: awards out of order or repeated"
                );
            }
        }
        let full = page.len() == usize::try_from(limit).expect("small limit");
        walked.extend(page);
        let Some(last) = walked.last() else {
            return walked;
        };
        if !full || until.is_some_and(|until| last.created_at > until) {
            return walked;
        }
        after = Some(Cursor::new(last.created_at, last.id.as_uuid()));
    }
    panic!("{filter:?}, limit {limit}: more than 1000 pages");
}

/// Walking awards by cursor yields exactly the offset order, with no
/// duplicate and no gap, for every filter, also where awards share a
/// creation time (ties are broken by id).
pub async fn assertions_cursor_pagination(store: Arc<dyn Store>) {
    let owner = sample_user(Role::Issuer);
    store.users().create(&owner).await.expect("owner");
    let first = sample_issuer(Some(owner.id));
    let second = sample_issuer(Some(owner.id));
    let foreign = sample_issuer(None);
    for issuer in [&first, &second, &foreign] {
        store.issuers().create(issuer).await.expect("issuer");
    }
    let badges = [
        sample_badge_class(first.id),
        sample_badge_class(first.id),
        sample_badge_class(second.id),
        sample_badge_class(foreign.id),
    ];
    for badge in &badges {
        store.badge_classes().create(badge).await.expect("badge");
    }
    let emails: Vec<String> = (0..3)
        .map(|i| format!("{}@example.org", unique(&format!("cursor{i}"))))
        .collect();

    // Creation times in a window of their own, years before anything the
    // other checks make, five awards to each instant; the awards of each
    // instant spread over issuers, badges and recipients.
    let window = uuid::Uuid::new_v4().as_u128() % 300_000_000;
    let base = 946_684_800 + i64::try_from(window).expect("small window");
    let at = |second: i64| {
        Timestamp::from_datetime(
            chrono::DateTime::from_timestamp(base + second, 0).expect("fixture time"),
        )
    };
    let awards: Vec<Assertion> = (0..40)
        .map(|i: usize| {
            let mut award = sample_assertion(&badges[i % badges.len()], &emails[i % emails.len()]);
            award.created_at = at(i64::try_from(i / 5).expect("small"));
            award
        })
        .collect();
    let repo = store.assertions();
    repo.create_many(AwardBatch::in_memory(awards[..25].to_vec()))
        .await
        .expect("batch");
    for award in &awards[25..] {
        repo.create(award).await.expect("award");
    }
    let mut sorted = awards.clone();
    sorted.sort_by_key(|a| (a.created_at, a.id.as_uuid()));
    let ids = |list: &[Assertion]| list.iter().map(|a| a.id).collect::<Vec<_>>();

    // No filter: from just before the window to just past it, the walk
    // holds exactly our awards (nothing else is made in the window).
    let before = Cursor::new(at(-1), uuid::Uuid::max());
    for limit in [1, 3, 5, 7, 500] {
        let walked = walk_by_cursor(
            repo,
            &AssertionFilter::default(),
            Some(before),
            limit,
            Some(at(8)),
        )
        .await;
        let inside: Vec<Assertion> = walked
            .into_iter()
            .filter(|a| a.created_at <= at(8))
            .collect();
        assert_eq!(
            ids(&inside),
            ids(&sorted),
            "no filter, limit {limit}: the window in order, each award once"
        );
    }
    // From the very first award, the walk moves only forward.
    walk_by_cursor(repo, &AssertionFilter::default(), None, 500, Some(at(8))).await;

    let recipient = |i: usize| Some(Recipient::lookup_key_for(RecipientKind::Email, &emails[i]));
    let filters = [
        AssertionFilter {
            issuer_id: Some(first.id),
            ..Default::default()
        },
        AssertionFilter {
            badge_class_id: Some(badges[0].id),
            ..Default::default()
        },
        AssertionFilter {
            badge_class_id: Some(badges[2].id),
            issuer_id: Some(second.id),
            ..Default::default()
        },
        AssertionFilter {
            recipient_key: recipient(1),
            ..Default::default()
        },
        AssertionFilter {
            owner_id: Some(owner.id),
            ..Default::default()
        },
        AssertionFilter {
            owner_id: Some(owner.id),
            recipient_key: recipient(2),
            ..Default::default()
        },
        AssertionFilter {
            owner_id: Some(owner.id),
            badge_class_id: Some(badges[3].id),
            ..Default::default()
        },
        AssertionFilter {
            issuer_id: Some(second.id),
            badge_class_id: Some(badges[0].id),
            ..Default::default()
        },
    ];
    for filter in &filters {
        let by_offset = repo.list(filter, page(500, 0)).await.expect("offset list");
        let matching: Vec<Assertion> = sorted
            .iter()
            .filter(|a| {
                filter.issuer_id.is_none_or(|id| a.issuer_id == id)
                    && filter
                        .badge_class_id
                        .is_none_or(|id| a.badge_class_id == id)
                    && filter
                        .recipient_key
                        .as_ref()
                        .is_none_or(|key| a.recipient.lookup_key() == key)
                    && filter.owner_id.is_none_or(|_| a.issuer_id != foreign.id)
            })
            .cloned()
            .collect();
        assert_eq!(
            ids(&by_offset.items),
            ids(&matching),
            "{filter:?}: the offset list"
        );
        for limit in [1, 2, 3, 4, 7, 500] {
            let walked = walk_by_cursor(repo, filter, None, limit, None).await;
            assert_eq!(
                walked, by_offset.items,
                "{filter:?}, limit {limit}: the cursor walk differs from the offset list"
            );
        }
        if let Some(last) = by_offset.items.last() {
            let past = Cursor::new(last.created_at, last.id.as_uuid());
            assert!(
                repo.list_after(filter, Some(past), 10)
                    .await
                    .expect("past the end")
                    .is_empty(),
                "{filter:?}: nothing after the last award"
            );
        }
    }
}

/// A batch is stored whole or not at all, with the signed texts it kept
/// aside, and is handed back in order. It holds more awards than an adapter
/// writes per statement, and the bad award comes late, so that a batch
/// written in chunks is seen to roll back the chunks before it.
pub async fn batch_is_atomic(store: Arc<dyn Store>) {
    let (_, badge) = seed_badge_class(store.as_ref()).await;
    let repo = store.assertions();
    let good: Vec<_> = (0..300)
        .map(|i| sample_assertion(&badge, &format!("batch{i}@example.org")))
        .collect();
    let text = |award: &Assertion| {
        IssuedCredential::new(&serde_json::json!({ "id": format!("urn:uuid:{}", award.id) }))
    };
    let signed = |awards: Vec<Assertion>| {
        let texts: Vec<_> = awards.iter().map(text).collect();
        let mut batch = AwardBatch::in_memory(awards);
        for (index, text) in texts.into_iter().enumerate() {
            batch.set_credential(index, text).expect("kept aside");
        }
        batch
    };
    let mut bad_batch = good.clone();
    let mut orphan = sample_assertion(&badge, "orphan@example.org");
    orphan.badge_class_id = BadgeClassId::generate();
    bad_batch.insert(290, orphan);
    assert!(
        repo.create_many(signed(bad_batch)).await.is_err(),
        "bad batch accepted"
    );
    for award in &good {
        assert_not_found(repo.get(award.id).await, "partial batch written");
    }
    let mut stored = repo
        .create_many(signed(good.clone()))
        .await
        .expect("good batch");
    let back = stored.read(0..stored.len()).expect("read back");
    assert_eq!(
        back.iter().map(|a| a.id).collect::<Vec<_>>(),
        good.iter().map(|a| a.id).collect::<Vec<_>>(),
        "the batch is handed back in order"
    );
    for award in [&good[0], &good[299]] {
        let got = repo.get(award.id).await.expect("stored");
        // IssuedCredential compares as JSON: PostgreSQL keeps it as `jsonb`.
        assert_eq!(
            got.issued_credential,
            Some(text(award)),
            "the signed text is stored with its award"
        );
    }
    let listed = repo
        .list(
            &AssertionFilter {
                badge_class_id: Some(badge.id),
                ..Default::default()
            },
            page(10, 0),
        )
        .await
        .expect("list");
    assert_eq!(listed.total, 300);
    assert!(repo
        .create_many(AwardBatch::in_memory(Vec::new()))
        .await
        .expect("empty batch")
        .is_empty());
}

/// Deleting with dependants: refused by default, complete with cascade.
pub async fn delete_modes(store: Arc<dyn Store>) {
    let (issuer, badge) = seed_badge_class(store.as_ref()).await;
    let award = sample_assertion(&badge, "del@example.org");
    store
        .assertions()
        .create(&award)
        .await
        .expect("create award");

    for (result, entity, id) in [
        (
            store
                .issuers()
                .delete(issuer.id, DeleteMode::Restrict)
                .await,
            "issuer",
            issuer.id.to_string(),
        ),
        (
            store
                .badge_classes()
                .delete(badge.id, DeleteMode::Restrict)
                .await,
            "badge class",
            badge.id.to_string(),
        ),
    ] {
        assert_eq!(
            result,
            Err(DomainError::HasDependants {
                entity,
                id,
                dependants: "awarded credentials",
                count: 1,
            }),
            "delete with dependants"
        );
    }
    store
        .assertions()
        .get(award.id)
        .await
        .expect("award survives refused delete");

    store
        .issuers()
        .delete(issuer.id, DeleteMode::Cascade)
        .await
        .expect("cascade");
    assert_not_found(store.issuers().get(issuer.id).await, "issuer after cascade");
    assert_not_found(
        store.badge_classes().get(badge.id).await,
        "badge after cascade",
    );
    assert_not_found(
        store.assertions().get(award.id).await,
        "award after cascade",
    );

    let (unawarded_issuer, unawarded_badge) = seed_badge_class(store.as_ref()).await;
    store
        .issuers()
        .delete(unawarded_issuer.id, DeleteMode::Restrict)
        .await
        .expect("an issuer whose badges were never awarded can be deleted");
    assert_not_found(
        store.badge_classes().get(unawarded_badge.id).await,
        "badge class goes with its issuer",
    );
}

/// Users: uniqueness of username and e-mail, lookups, cascade to keys.
pub async fn user_crud(store: Arc<dyn Store>) {
    let repo = store.users();
    let mut user = sample_user(Role::Admin);
    repo.create(&user).await.expect("create");
    assert_eq!(repo.get(user.id).await.expect("get"), user);
    assert_eq!(
        repo.find_by_username(user.username.as_str())
            .await
            .expect("find"),
        Some(user.clone())
    );
    assert_eq!(
        repo.find_by_username("nobody-here").await.expect("find"),
        None
    );
    let email = user.email.clone().expect("sample users have an email");
    assert_eq!(
        repo.find_by_email(email.as_str()).await.expect("find"),
        Some(user.clone())
    );
    assert_eq!(
        repo.find_by_email("nobody@example.org")
            .await
            .expect("find"),
        None
    );

    let mut same_name = sample_user(Role::Viewer);
    same_name.username = user.username.clone();
    let mut same_email = sample_user(Role::Viewer);
    same_email.email = user.email.clone();
    for (clash, field) in [(same_name, "username"), (same_email, "email")] {
        assert_eq!(
            repo.create(&clash).await,
            Err(DomainError::Duplicate {
                entity: "user",
                field
            }),
            "duplicate user"
        );
    }

    let at = Timestamp::now();
    let demote = UserUpdate {
        role: Some(Role::Viewer),
        ..Default::default()
    };
    let updated = repo.update(user.id, &demote, at).await.expect("update");
    user.role = Role::Viewer;
    user.updated_at = at;
    assert_eq!(updated, user, "answered as stored");
    assert_eq!(repo.get(user.id).await.expect("get"), user);
    let hash = PasswordHash::parse("$argon2id$v=19$m=19456,t=2,p=1$b3RoZXI$b3RoZXI").expect("hash");
    let new_password = UserUpdate {
        email: Some(None),
        password_hash: Some(hash.clone()),
        ..Default::default()
    };
    let updated = repo
        .update(user.id, &new_password, at)
        .await
        .expect("password");
    assert_eq!(
        (
            updated.role,
            updated.email,
            &updated.password_hash,
            updated.session_generation
        ),
        (Role::Viewer, None, &hash, 1),
        "a new password ends the sessions; the role stays"
    );
    let end = UserUpdate {
        end_sessions: true,
        ..Default::default()
    };
    let updated = repo.update(user.id, &end, at).await.expect("end sessions");
    assert_eq!(
        (updated.session_generation, &updated.password_hash),
        (2, &hash)
    );
    user = updated;
    let mut same_email = sample_user(Role::Viewer);
    repo.create(&same_email).await.expect("other user");
    let taken = UserUpdate {
        email: Some(same_email.email.take()),
        ..Default::default()
    };
    match repo.update(user.id, &taken, at).await {
        Err(DomainError::Duplicate {
            entity: "user",
            field: "email",
        }) => {}
        other => panic!("a taken e-mail: expected Duplicate, got {other:?}"),
    }
    assert_not_found(
        repo.update(UserId::generate(), &end, at).await,
        "update a missing user",
    );
    let listed = repo
        .list(page(PageRequest::MAX_LIMIT, 0))
        .await
        .expect("list");
    assert!(listed.total >= 1);

    let owned = sample_issuer(Some(user.id));
    store.issuers().create(&owned).await.expect("owned issuer");
    let key = sample_api_key(user.id);
    store.api_keys().create(&key).await.expect("key");
    repo.delete(user.id).await.expect("delete");
    assert_not_found(repo.get(user.id).await, "deleted user");
    assert_not_found(store.api_keys().get(key.id).await, "key of deleted user");
    assert_eq!(
        store
            .issuers()
            .get(owned.id)
            .await
            .expect("issuer survives")
            .owner_id,
        None
    );
}

/// A valid API key for `user_id`.
pub fn sample_api_key(user_id: UserId) -> ApiKey {
    let secret = unique("obk");
    ApiKey {
        id: ApiKeyId::generate(),
        user_id,
        name: Name::parse("CI deploy key").expect("name"),
        key_hash: ApiKeyHash::of_key(&secret),
        prefix: Label::parse(&secret[..8]).expect("prefix"),
        permissions: vec![Permission::Read, Permission::Write],
        issuer_scope: None,
        expires_at: Some(Timestamp::parse("2031-01-01T00:00:00Z").expect("ts")),
        revoked_at: None,
        last_used_at: None,
        created_at: Timestamp::now(),
    }
}

/// API keys: lookup by hash, scope, revocation, listing per user.
pub async fn api_key_crud(store: Arc<dyn Store>) {
    let user = sample_user(Role::Issuer);
    store.users().create(&user).await.expect("user");
    let issuer = sample_issuer(Some(user.id));
    store.issuers().create(&issuer).await.expect("issuer");
    let repo = store.api_keys();

    let mut key = sample_api_key(user.id);
    key.issuer_scope = Some(issuer.id);
    repo.create(&key).await.expect("create");
    assert_eq!(repo.get(key.id).await.expect("get"), key);
    assert_eq!(
        repo.find_by_hash(&key.key_hash).await.expect("find"),
        Some(key.clone())
    );
    assert_eq!(
        repo.find_by_hash(&ApiKeyHash::of_key("not a key"))
            .await
            .expect("find"),
        None
    );

    let (earlier, later) = (ts("2026-01-01T00:00:00Z"), ts("2026-01-01T00:05:00Z"));
    repo.record_use(key.id, later).await.expect("record use");
    repo.record_use(key.id, earlier)
        .await
        .expect("a late, older use");
    key.last_used_at = Some(later);
    assert_eq!(
        repo.get(key.id).await.expect("get"),
        key,
        "last use moved back"
    );
    assert_eq!(
        repo.revoke(key.id, earlier)
            .await
            .expect("revoke")
            .revoked_at,
        Some(earlier)
    );
    key.revoked_at = Some(earlier);
    assert_eq!(
        repo.revoke(key.id, later).await.expect("revoke again"),
        key,
        "first revocation stays"
    );
    repo.record_use(key.id, ts("2026-01-01T00:10:00Z"))
        .await
        .expect("record use");
    key.last_used_at = Some(ts("2026-01-01T00:10:00Z"));
    assert_eq!(
        repo.get(key.id).await.expect("get"),
        key,
        "a use leaves the revocation"
    );
    assert_not_found(
        repo.revoke(ApiKeyId::generate(), later).await,
        "revoke a missing key",
    );
    repo.record_use(ApiKeyId::generate(), later)
        .await
        .expect("use of a deleted key is no error");

    let second = sample_api_key(user.id);
    repo.create(&second).await.expect("second");
    let listed = repo
        .list_for_user(user.id, page(10, 0))
        .await
        .expect("list");
    assert_eq!(listed.total, 2);
    assert_eq!(listed.items, vec![key.clone(), second.clone()]);

    let orphan = sample_api_key(UserId::generate());
    match repo.create(&orphan).await {
        Err(DomainError::MissingReference { entity, .. }) => assert_eq!(entity, "user"),
        other => panic!("unknown user: expected MissingReference, got {other:?}"),
    }
    repo.delete(second.id).await.expect("delete");
    assert_not_found(repo.get(second.id).await, "deleted key");
}

/// Many concurrent writers all succeed (no "database is locked", no lost write).
pub async fn concurrent_writers(store: Arc<dyn Store>) {
    let (_, badge) = seed_badge_class(store.as_ref()).await;
    let writers = 50;
    let mut tasks = Vec::with_capacity(writers);
    for i in 0..writers {
        let store = Arc::clone(&store);
        let award = sample_assertion(&badge, &format!("writer{i}@example.org"));
        tasks.push(tokio::spawn(async move {
            store.assertions().create(&award).await?;
            let revoked = CredentialStatus::Revoked {
                reason: None,
                at: Timestamp::now(),
            };
            let now = Timestamp::now();
            store
                .assertions()
                .set_status(award.id, &award.status, &revoked, now)
                .await
        }));
    }
    for task in tasks {
        task.await.expect("writer task").expect("concurrent write");
    }
    let listed = store
        .assertions()
        .list(
            &AssertionFilter {
                badge_class_id: Some(badge.id),
                ..Default::default()
            },
            page(PageRequest::MAX_LIMIT, 0),
        )
        .await
        .expect("list");
    assert_eq!(listed.total, writers as u64, "lost writes");
    assert!(listed.items.iter().all(|a| a.status.is_revoked()));
}

/// How many rounds each concurrent-update check runs: enough for a lost
/// update to show on every run, on both backends.
const RACE_ROUNDS: usize = 200;

/// Runs `a` and `b` at the same moment on their own tasks (a barrier
/// releases both), so that their reads and writes interleave for real.
async fn together<A, B>(a: A, b: B) -> (A::Output, B::Output)
where
    A: std::future::Future + Send + 'static,
    A::Output: Send + 'static,
    B: std::future::Future + Send + 'static,
    B::Output: Send + 'static,
{
    let barrier = Arc::new(tokio::sync::Barrier::new(2));
    let other = Arc::clone(&barrier);
    let a = tokio::spawn(async move {
        barrier.wait().await;
        a.await
    });
    let b = tokio::spawn(async move {
        other.wait().await;
        b.await
    });
    (a.await.expect("first task"), b.await.expect("second task"))
}

/// A key's revocation survives the bookkeeping of a request that
/// authenticated with the key just before: recording its use never writes
/// `revoked_at` back.
pub async fn api_key_revocation_survives_use(store: Arc<dyn Store>) {
    let user = sample_user(Role::Issuer);
    store.users().create(&user).await.expect("user");
    let owner = crate::access::Principal::session(user.id, Role::Issuer);
    let mut undone = 0;
    for _ in 0..RACE_ROUNDS {
        let key = sample_api_key(user.id);
        store.api_keys().create(&key).await.expect("key");
        let (using, revoking, actor) = (Arc::clone(&store), Arc::clone(&store), owner.clone());
        let hash = key.key_hash.clone();
        let (used, revoked) = together(
            async move {
                // What authentication does: find the key, then record its use.
                let now = Timestamp::now();
                match crate::accounts::authenticate_api_key(using.as_ref(), &hash, now).await? {
                    Ok((_, stored)) if crate::accounts::use_worth_recording(&stored, now) => {
                        using.api_keys().record_use(stored.id, now).await
                    }
                    _ => Ok(()),
                }
            },
            async move { crate::accounts::revoke_api_key(revoking.as_ref(), &actor, key.id).await },
        )
        .await;
        used.expect("record use");
        revoked.expect("revoke");
        if store
            .api_keys()
            .get(key.id)
            .await
            .expect("get")
            .revoked_at
            .is_none()
        {
            undone += 1;
        }
    }
    assert_eq!(
        undone, 0,
        "{undone} of {RACE_ROUNDS} revocations were undone by a concurrent use"
    );
}

/// An administrator's role change and the user's own e-mail change, made
/// at the same moment, both survive.
pub async fn user_updates_do_not_undo_each_other(store: Arc<dyn Store>) {
    use crate::accounts::{update_user, UserChanges};
    let admin = crate::access::Principal::session(UserId::generate(), Role::Admin);
    let (mut roles_lost, mut emails_lost) = (0, 0);
    for round in 0..RACE_ROUNDS {
        let user = sample_user(Role::Admin);
        store.users().create(&user).await.expect("user");
        let email =
            Email::parse(format!("{}-{round}@example.org", user.username.as_str())).expect("email");
        let myself = crate::access::Principal::session(user.id, Role::Admin);
        let (demoting, editing, admin, id) = (
            Arc::clone(&store),
            Arc::clone(&store),
            admin.clone(),
            user.id,
        );
        let wanted = email.clone();
        let (demoted, edited) = together(
            async move {
                let demote = UserChanges {
                    role: Some(Role::Viewer),
                    ..Default::default()
                };
                update_user(demoting.as_ref(), &admin, id, demote).await
            },
            async move {
                let edit = UserChanges {
                    email: Some(Some(wanted)),
                    ..Default::default()
                };
                update_user(editing.as_ref(), &myself, id, edit).await
            },
        )
        .await;
        demoted.expect("demote");
        edited.expect("edit e-mail");
        let stored = store.users().get(user.id).await.expect("get");
        roles_lost += usize::from(stored.role != Role::Viewer);
        emails_lost += usize::from(stored.email != Some(email));
    }
    assert_eq!(
        (roles_lost, emails_lost),
        (0, 0),
        "of {RACE_ROUNDS} rounds, demotions undone, e-mail changes undone"
    );
}

/// An administrator's role change and the user's own new password, made at
/// the same moment, both survive, and the new password ends the sessions.
pub async fn password_change_and_demotion_both_survive(store: Arc<dyn Store>) {
    use crate::accounts::{set_password, update_user, UserChanges};
    let admin = crate::access::Principal::session(UserId::generate(), Role::Admin);
    let hash = PasswordHash::parse("$argon2id$v=19$m=19456,t=2,p=1$bmV3$bmV3").expect("hash");
    let mut lost = 0;
    for _ in 0..RACE_ROUNDS {
        let user = sample_user(Role::Admin);
        store.users().create(&user).await.expect("user");
        let myself = crate::access::Principal::session(user.id, Role::Admin);
        let (demoting, changing, admin, id) = (
            Arc::clone(&store),
            Arc::clone(&store),
            admin.clone(),
            user.id,
        );
        let new_hash = hash.clone();
        let (demoted, changed) = together(
            async move {
                let demote = UserChanges {
                    role: Some(Role::Viewer),
                    ..Default::default()
                };
                update_user(demoting.as_ref(), &admin, id, demote).await
            },
            async move { set_password(changing.as_ref(), &myself, id, new_hash).await },
        )
        .await;
        demoted.expect("demote");
        changed.expect("new password");
        let stored = store.users().get(user.id).await.expect("get");
        lost += usize::from(
            (
                stored.role,
                &stored.password_hash,
                stored.session_generation,
            ) != (Role::Viewer, &hash, 1),
        );
    }
    assert_eq!(
        lost, 0,
        "{lost} of {RACE_ROUNDS} rounds lost the demotion or the new password"
    );
}

/// An award's revocation and an edit of the award, made at the same
/// moment, both survive: an edit never un-revokes.
pub async fn award_revocation_survives_edit(store: Arc<dyn Store>) {
    use crate::service::{change_status, update_assertion, AssertionDraft, StatusChange};
    let (_, badge) = seed_badge_class(store.as_ref()).await;
    let admin = crate::access::Principal::session(UserId::generate(), Role::Admin);
    let (mut revocations_lost, mut edits_lost) = (0, 0);
    for round in 0..RACE_ROUNDS {
        let award = sample_assertion(&badge, &format!("race{round}@example.org"));
        store.assertions().create(&award).await.expect("award");
        let narrative = Text::parse(format!("Edited in round {round}.")).expect("text");
        let draft = AssertionDraft {
            badge_class_id: award.badge_class_id,
            recipient: award.recipient.clone(),
            issued_on: Some(award.issued_on),
            expires: award.expires,
            evidence: award.evidence.clone(),
            narrative: Some(narrative.clone()),
            image: None,
            details: award.details.clone(),
            named_issuer: None,
        };
        let (revoking, editing) = (Arc::clone(&store), Arc::clone(&store));
        let (a1, a2, id) = (admin.clone(), admin.clone(), award.id);
        let (revoked, edited) =
            together(
                async move {
                    change_status(revoking.as_ref(), &a1, id, StatusChange::Revoke(None)).await
                },
                async move { update_assertion(editing.as_ref(), &a2, None, id, draft).await },
            )
            .await;
        revoked.expect("revoke");
        edited.expect("edit");
        let stored = store.assertions().get(award.id).await.expect("get");
        revocations_lost += usize::from(!stored.status.is_revoked());
        edits_lost += usize::from(stored.narrative != Some(narrative));
    }
    assert_eq!(
        (revocations_lost, edits_lost),
        (0, 0),
        "of {RACE_ROUNDS} rounds, revocations undone, edits undone"
    );
}

/// A signing key revoked while its issuer's keys are rotated stays
/// revoked, and the new key is the active one.
pub async fn signing_key_revocation_survives_rotation(store: Arc<dyn Store>) {
    let issuer = sample_issuer(None);
    store.issuers().create(&issuer).await.expect("issuer");
    let mut undone = 0;
    for _ in 0..RACE_ROUNDS {
        let old = store
            .signing_keys()
            .active(issuer.id, KeyAlgorithm::Ed25519)
            .await
            .expect("active");
        let old = match old {
            Some(old) => old,
            None => {
                let first = sample_signing_key(issuer.id, KeyAlgorithm::Ed25519);
                store
                    .signing_keys()
                    .create(&first)
                    .await
                    .expect("first key");
                first
            }
        };
        let new = sample_signing_key(issuer.id, KeyAlgorithm::Ed25519);
        let (rotating, revoking, old_id) = (Arc::clone(&store), Arc::clone(&store), old.id);
        let (rotated, revoked) = together(
            async move { rotating.signing_keys().rotate(&new).await },
            async move {
                revoking
                    .signing_keys()
                    .revoke(old_id, Timestamp::now())
                    .await
            },
        )
        .await;
        rotated.expect("rotate");
        revoked.expect("revoke");
        let stored = store.signing_keys().get(old.id).await.expect("get");
        undone += usize::from(stored.status.verifies());
    }
    assert_eq!(
        undone, 0,
        "{undone} of {RACE_ROUNDS} key revocations were undone by a rotation"
    );
}

/// A signing key of `issuer_id`, active.
pub fn sample_signing_key(issuer_id: IssuerId, algorithm: KeyAlgorithm) -> SigningKey {
    SigningKey {
        id: SigningKeyId::generate(),
        issuer_id,
        algorithm,
        public_key: format!("z6Mk{}", &uuid::Uuid::new_v4().simple().to_string()[..20]),
        sealed_private_key: (0u8..=255).collect(),
        status: KeyStatus::Active,
        created_at: Timestamp::now(),
    }
}

/// Signing keys: one active per issuer and algorithm, rotation, revocation,
/// key sets, and keys going with their issuer.
pub async fn signing_key_lifecycle(store: Arc<dyn Store>) {
    let issuer = sample_issuer(None);
    store.issuers().create(&issuer).await.expect("issuer");
    let repo = store.signing_keys();
    let first = sample_signing_key(issuer.id, KeyAlgorithm::Ed25519);
    repo.create(&first).await.expect("create");
    assert_eq!(
        repo.get(first.id).await.expect("get"),
        first,
        "read back differs"
    );
    assert_eq!(
        repo.active(issuer.id, KeyAlgorithm::Ed25519)
            .await
            .expect("active"),
        Some(first.clone())
    );
    assert_eq!(
        repo.active(issuer.id, KeyAlgorithm::Rs256)
            .await
            .expect("active"),
        None
    );
    match repo
        .create(&sample_signing_key(issuer.id, KeyAlgorithm::Ed25519))
        .await
    {
        Err(DomainError::Duplicate {
            entity: "active signing key",
            field: "issuer and algorithm",
        }) => {}
        other => panic!("second active key: expected Duplicate, got {other:?}"),
    }
    let rsa = sample_signing_key(issuer.id, KeyAlgorithm::Rs256);
    repo.create(&rsa)
        .await
        .expect("an active key of another algorithm");

    let second = sample_signing_key(issuer.id, KeyAlgorithm::Ed25519);
    repo.rotate(&second).await.expect("rotate");
    assert_eq!(
        repo.active(issuer.id, KeyAlgorithm::Ed25519)
            .await
            .expect("active"),
        Some(second.clone())
    );
    let retired = repo.get(first.id).await.expect("old key kept");
    assert!(
        matches!(retired.status, KeyStatus::Retired { .. }),
        "{retired:?}"
    );
    assert!(retired.status.verifies());

    repo.revoke(first.id, Timestamp::now())
        .await
        .expect("revoke");
    assert!(!repo.get(first.id).await.expect("get").status.verifies());
    let all = repo.list_for_issuer(issuer.id).await.expect("list");
    assert_eq!(
        all.iter().map(|k| k.id).collect::<Vec<_>>(),
        vec![first.id, rsa.id, second.id]
    );
    let verifying = repo
        .list_verifying(page(PageRequest::MAX_LIMIT, 0))
        .await
        .expect("list");
    assert!(verifying.items.iter().any(|k| k.id == second.id));
    assert!(
        verifying.items.iter().all(|k| k.id != first.id),
        "revoked keys verify nothing"
    );

    assert_not_found(
        repo.revoke(SigningKeyId::generate(), Timestamp::now())
            .await,
        "revoke unknown",
    );
    store
        .issuers()
        .delete(issuer.id, DeleteMode::Cascade)
        .await
        .expect("delete issuer");
    assert_not_found(repo.get(second.id).await, "keys go with their issuer");
}

/// Bits handed out through reserves (see [`crate::status_bits`]): two
/// reserves over one store stand for two instances. Blocks grow while
/// they last less than a window, the next is taken once less than half of
/// the last is left, and they restart at one bit after a pause; no bit is
/// handed out twice, not even with both reserves and plain allocations
/// taking bits of the same issuer at once; every bit handed out or still
/// reserved is counted as allocated, and nothing more.
pub async fn status_bit_reserves(store: Arc<dyn Store>) {
    use crate::status_bits::BitReserve;
    let (issuer, _) = seed_badge_class(store.as_ref()).await;
    let lists = store.status_lists();
    let allocated = |lists: Vec<StatusList>| lists.iter().map(|l| l.allocated).sum::<u32>();
    let reserve = BitReserve::new();
    let start = ts("2026-01-01T00:00:00Z");
    let mut handed = Vec::new();
    let mut counts = Vec::new();
    for _ in 0..6 {
        let slot = reserve
            .take(lists, issuer.id, 16, start)
            .await
            .expect("take");
        handed.push(slot.index);
        counts.push((
            reserve.reserved(issuer.id),
            allocated(lists.list_for_issuer(issuer.id).await.expect("lists")),
        ));
    }
    assert_eq!(handed, [0, 1, 2, 3, 4, 5]);
    // (reserved, allocated) after each: blocks of 1, 2 and 4 bits, then
    // a block of 8 taken with one bit of the 4 left.
    assert_eq!(counts, [(0, 1), (1, 3), (0, 3), (3, 7), (2, 7), (9, 15)]);
    let next = reserve
        .take(lists, issuer.id, 16, start)
        .await
        .expect("take");
    assert_eq!(next.index, 6, "reserved bits are handed out in order");

    // After a pause, blocks restart at one bit.
    let (paused, _) = seed_badge_class(store.as_ref()).await;
    let later = ts("2026-01-01T00:00:05Z");
    for at in [start, later, later] {
        reserve.take(lists, paused.id, 16, at).await.expect("take");
    }
    assert_eq!(reserve.reserved(paused.id), 1, "blocks of 1, 1 and 2");
    assert_eq!(
        allocated(lists.list_for_issuer(paused.id).await.expect("lists")),
        4
    );

    // Two instances and plain allocations at once, over lists of 16 bits.
    let (other, _) = seed_badge_class(store.as_ref()).await;
    let reserves = Arc::new([BitReserve::new(), BitReserve::new()]);
    let takers: Vec<_> = (0..40)
        .map(|n| {
            let (store, reserves) = (Arc::clone(&store), Arc::clone(&reserves));
            tokio::spawn(async move {
                let mut slots = Vec::new();
                for _ in 0..3 {
                    slots.push(
                        reserves[n % 2]
                            .take(store.status_lists(), other.id, 16, Timestamp::now())
                            .await
                            .expect("take"),
                    );
                }
                slots
            })
        })
        .collect();
    let allocators: Vec<_> = (0..5)
        .map(|_| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                store
                    .status_lists()
                    .allocate(other.id, 3, 16, Timestamp::now())
                    .await
                    .expect("allocate")
            })
        })
        .collect();
    let mut seen = std::collections::HashSet::new();
    for task in takers.into_iter().chain(allocators) {
        for slot in task.await.expect("task") {
            assert!(slot.index < 16);
            assert!(seen.insert(slot), "bit {slot:?} handed out twice");
        }
    }
    assert_eq!(seen.len(), 135);
    let still_reserved = reserves[0].reserved(other.id) + reserves[1].reserved(other.id);
    assert!(
        still_reserved < 2 * (BitReserve::MAX_BLOCK + BitReserve::MAX_BLOCK / 2) as usize,
        "{still_reserved} bits left reserved"
    );
    assert_eq!(
        allocated(lists.list_for_issuer(other.id).await.expect("lists")) as usize,
        seen.len() + still_reserved,
        "every bit allocated is handed out or reserved"
    );
}

/// Status bits: handed out in order, across lists when one is full, never
/// twice even with many allocating at once.
pub async fn status_list_allocation(store: Arc<dyn Store>) {
    let (issuer, _) = seed_badge_class(store.as_ref()).await;
    let repo = store.status_lists();
    let first = repo
        .allocate(issuer.id, 3, 4, ts("2026-01-01T00:00:00Z"))
        .await
        .expect("allocate");
    assert_eq!(first.iter().map(|s| s.index).collect::<Vec<_>>(), [0, 1, 2]);
    assert!(first.iter().all(|s| s.list_id == first[0].list_id));
    let spill = repo
        .allocate(issuer.id, 3, 4, ts("2026-01-01T00:00:01Z"))
        .await
        .expect("allocate");
    assert_eq!(
        spill[0],
        StatusSlot {
            list_id: first[0].list_id,
            index: 3
        }
    );
    assert_ne!(
        spill[1].list_id, first[0].list_id,
        "a full list is not reused"
    );
    assert_eq!((spill[1].index, spill[2].index), (0, 1));
    let lists = repo.list_for_issuer(issuer.id).await.expect("lists");
    assert_eq!(
        lists
            .iter()
            .map(|l| (l.id, l.capacity, l.allocated))
            .collect::<Vec<_>>(),
        vec![(first[0].list_id, 4, 4), (spill[1].list_id, 4, 2)]
    );
    assert_eq!(repo.get(spill[1].list_id).await.expect("get"), lists[1]);
    assert_not_found(repo.get(StatusListId::generate()).await, "unknown list");

    let (other, _) = seed_badge_class(store.as_ref()).await;
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                store
                    .status_lists()
                    .allocate(other.id, 5, 16, Timestamp::now())
                    .await
            })
        })
        .collect();
    let mut seen = std::collections::HashSet::new();
    for task in tasks {
        for slot in task.await.expect("task").expect("concurrent allocate") {
            assert!(slot.index < 16);
            assert!(seen.insert(slot), "bit {slot:?} handed out twice");
        }
    }
    assert_eq!(seen.len(), 100);
    let lists = repo.list_for_issuer(other.id).await.expect("lists");
    let allocated: u32 = lists.iter().map(|l| l.allocated).sum();
    assert_eq!(allocated, 100, "no bit is lost either");

    store
        .issuers()
        .delete(issuer.id, DeleteMode::Cascade)
        .await
        .expect("delete issuer");
    assert_not_found(
        repo.get(first[0].list_id).await,
        "lists go with their issuer",
    );
}

/// A list made ahead of need: stored empty, read back as made, used by
/// the next allocation only once the issuer's older lists are full; an
/// unknown issuer is a missing reference.
pub async fn status_list_creation(store: Arc<dyn Store>) {
    let (issuer, _) = seed_badge_class(store.as_ref()).await;
    let repo = store.status_lists();
    let list = StatusList {
        id: StatusListId::generate(),
        issuer_id: issuer.id,
        capacity: 8,
        allocated: 0,
        created_at: ts("2026-01-01T00:00:00Z"),
    };
    repo.create(&list).await.expect("create");
    assert_eq!(repo.get(list.id).await.expect("get"), list);
    assert_eq!(
        repo.list_for_issuer(issuer.id).await.expect("lists"),
        vec![list.clone()]
    );
    assert_eq!(
        repo.counts(list.id).await.expect("counts"),
        StatusCounts::default()
    );
    let slots = repo
        .allocate(issuer.id, 2, 8, ts("2026-01-01T00:00:01Z"))
        .await
        .expect("allocate");
    assert!(
        slots.iter().all(|s| s.list_id == list.id),
        "the made list is used"
    );
    assert_eq!(repo.get(list.id).await.expect("get").allocated, 2);
    let orphan = StatusList {
        id: StatusListId::generate(),
        issuer_id: IssuerId::generate(),
        ..list
    };
    match repo.create(&orphan).await {
        Err(DomainError::MissingReference { entity, .. }) => assert_eq!(entity, "issuer"),
        other => panic!("unknown issuer: expected MissingReference, got {other:?}"),
    }
    assert_not_found(
        repo.get(orphan.id).await,
        "nothing stored for an unknown issuer",
    );
}

/// A list's set bits are its awards' statuses; a bit belongs to one award.
pub async fn status_list_flags(store: Arc<dyn Store>) {
    let (_, badge) = seed_badge_class(store.as_ref()).await;
    let slots = store
        .status_lists()
        .allocate(badge.issuer_id, 3, StatusList::CAPACITY, Timestamp::now())
        .await
        .expect("allocate");
    let list = slots[0].list_id;
    let mut awards = Vec::new();
    for (i, slot) in slots.iter().enumerate() {
        let mut award = sample_assertion(&badge, &format!("flag{i}@example.org"));
        award.status_slot = Some(*slot);
        store.assertions().create(&award).await.expect("create");
        awards.push(award);
    }
    let read = store.assertions().get(awards[2].id).await.expect("get");
    assert_eq!(read.status_slot, Some(slots[2]), "slot round-trips");

    let mut twin = sample_assertion(&badge, "twin@example.org");
    twin.status_slot = Some(slots[1]);
    match store.assertions().create(&twin).await {
        Err(DomainError::Duplicate {
            entity: "assertion",
            field: "status list entry",
        }) => {}
        other => panic!("a bit belongs to one award: {other:?}"),
    }

    let repo = store.status_lists();
    assert!(repo
        .flagged(list, StatusPurpose::Revocation)
        .await
        .expect("flags")
        .is_empty());
    let now = Timestamp::now();
    let active = CredentialStatus::Active;
    let revoked = CredentialStatus::Revoked {
        reason: None,
        at: now,
    };
    store
        .assertions()
        .set_status(awards[2].id, &active, &revoked, now)
        .await
        .expect("revoke");
    let suspended = CredentialStatus::Suspended {
        reason: None,
        at: now,
    };
    store
        .assertions()
        .set_status(awards[0].id, &active, &suspended, now)
        .await
        .expect("suspend");
    assert_eq!(
        repo.flagged(list, StatusPurpose::Revocation)
            .await
            .expect("flags"),
        vec![slots[2].index]
    );
    assert_eq!(
        repo.flagged(list, StatusPurpose::Suspension)
            .await
            .expect("flags"),
        vec![slots[0].index]
    );
    assert_eq!(
        repo.counts(list).await.expect("counts"),
        StatusCounts {
            revoked: 1,
            suspended: 1
        }
    );
    store
        .assertions()
        .set_status(awards[0].id, &suspended, &active, Timestamp::now())
        .await
        .expect("reinstate");
    assert!(repo
        .flagged(list, StatusPurpose::Suspension)
        .await
        .expect("flags")
        .is_empty());
}

/// Makes key material without cryptography: the key ring's contract is
/// about the store, not about the keys' bytes.
struct PlainKeys;

#[async_trait::async_trait]
impl crate::keys::KeyMaker for PlainKeys {
    async fn make(
        &self,
        _id: SigningKeyId,
        _algorithm: KeyAlgorithm,
    ) -> Result<crate::keys::KeyMaterial, DomainError> {
        Ok(crate::keys::KeyMaterial {
            public_key: format!("z6Mk{}", uuid::Uuid::new_v4().simple()),
            sealed_private_key: vec![1, 2, 3],
        })
    }
}

/// The key ring on this store: two first uses at once make one active
/// key; rotation retires it; revocation is refused for another issuer's
/// key and is what the store answers afterwards.
pub async fn key_ring_lifecycle(store: Arc<dyn Store>) {
    use crate::keys::KeyRing;
    let (issuer, _) = seed_badge_class(store.as_ref()).await;
    let (other, _) = seed_badge_class(store.as_ref()).await;
    let ring = KeyRing::new(store.signing_keys(), &PlainKeys);
    let (first, second) = tokio::join!(
        ring.active(issuer.id, KeyAlgorithm::Ed25519),
        ring.active(issuer.id, KeyAlgorithm::Ed25519)
    );
    let (first, second) = (first.expect("first use"), second.expect("racing first use"));
    assert_eq!(first.id, second.id, "both take the one key the store kept");
    let stored = store
        .signing_keys()
        .list_for_issuer(issuer.id)
        .await
        .expect("list");
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert_eq!(
        ring.active(issuer.id, KeyAlgorithm::Ed25519)
            .await
            .expect("active")
            .id,
        first.id
    );

    let rotated = ring
        .rotate(issuer.id, KeyAlgorithm::Ed25519)
        .await
        .expect("rotate");
    assert_ne!(rotated.id, first.id);
    assert_eq!(
        ring.active(issuer.id, KeyAlgorithm::Ed25519)
            .await
            .expect("active")
            .id,
        rotated.id
    );
    let retired = store.signing_keys().get(first.id).await.expect("get");
    assert!(
        matches!(retired.status, KeyStatus::Retired { .. }),
        "{retired:?}"
    );

    assert_not_found(
        ring.revoke(other.id, rotated.id, Timestamp::now()).await,
        "another issuer's key",
    );
    let revoked = ring
        .revoke(issuer.id, rotated.id, Timestamp::now())
        .await
        .expect("revoke");
    assert!(
        matches!(revoked.status, KeyStatus::Revoked { .. }),
        "{revoked:?}"
    );
    assert!(!revoked.status.verifies());
    // The next use makes a new key: the revoked one signs nothing.
    let next = ring
        .active(issuer.id, KeyAlgorithm::Ed25519)
        .await
        .expect("active");
    assert!(next.id != rotated.id && next.id != first.id);
}

/// An endorsement of `subject` by `endorser`, created at `created_at`.
pub fn sample_endorsement(
    subject: crate::EndorsedSubject,
    endorser: crate::Endorser,
    created_at: Timestamp,
) -> crate::Endorsement {
    let id = EndorsementId::generate();
    crate::Endorsement {
        id,
        subject,
        endorser,
        comment: Some(Text::parse("Well deserved").expect("text")),
        credential: IssuedCredential::new(&serde_json::json!({
            "id": format!("urn:uuid:{id}"),
            "type": ["VerifiableCredential", "EndorsementCredential"],
        })),
        status: crate::EndorsementStatus::Active,
        status_slot: None,
        created_at,
    }
}

/// Endorsements round-trip (ours with a status bit, external ones with an
/// issuer IRI and a VC-JWT), are listed per subject oldest first (then by
/// id), and refuse missing subjects and endorsers and taken ids and bits.
pub async fn endorsement_round_trip_and_order(store: Arc<dyn Store>) {
    use crate::{EndorsedSubject, Endorser};
    let (issuer, badge) = seed_badge_class(store.as_ref()).await;
    let (endorser, _) = seed_badge_class(store.as_ref()).await;
    let award = sample_assertion(&badge, "endorsed@example.org");
    store.assertions().create(&award).await.expect("award");
    let repo = store.endorsements();
    let subject = EndorsedSubject::Achievement(badge.id);
    let slot = store
        .status_lists()
        .allocate(endorser.id, 1, StatusList::CAPACITY, Timestamp::now())
        .await
        .expect("allocate")[0];

    let mut ours = sample_endorsement(
        subject,
        Endorser::Ours(endorser.id),
        ts("2024-03-01T00:00:00Z"),
    );
    ours.status_slot = Some(slot);
    let mut external = sample_endorsement(
        subject,
        Endorser::External {
            issuer: Iri::parse("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK")
                .expect("iri"),
        },
        ts("2024-01-01T00:00:00Z"),
    );
    external.comment = None;
    external.credential =
        IssuedCredential::new(&serde_json::json!("eyJhbGciOiJFZERTQSJ9.e30.c2ln"));
    let mut same_time_a = sample_endorsement(
        subject,
        Endorser::Ours(issuer.id),
        ts("2024-02-01T00:00:00Z"),
    );
    let mut same_time_b = sample_endorsement(
        subject,
        Endorser::Ours(issuer.id),
        ts("2024-02-01T00:00:00Z"),
    );
    if same_time_b.id < same_time_a.id {
        std::mem::swap(&mut same_time_a, &mut same_time_b);
    }
    for e in [&ours, &same_time_b, &external, &same_time_a] {
        repo.create(e).await.expect("create");
    }
    assert_eq!(
        repo.get(ours.id).await.expect("get"),
        ours,
        "ours round-trips"
    );
    assert_eq!(
        repo.get(external.id).await.expect("get"),
        external,
        "external round-trips"
    );
    let listed: Vec<EndorsementId> = repo
        .list_for(subject)
        .await
        .expect("list")
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(
        listed,
        vec![external.id, same_time_a.id, same_time_b.id, ours.id]
    );

    // Each subject kind keeps its own list.
    let of_issuer = sample_endorsement(
        EndorsedSubject::Issuer(issuer.id),
        Endorser::Ours(endorser.id),
        Timestamp::now(),
    );
    let of_award = sample_endorsement(
        EndorsedSubject::Credential(award.id),
        Endorser::Ours(endorser.id),
        Timestamp::now(),
    );
    repo.create(&of_issuer).await.expect("create");
    repo.create(&of_award).await.expect("create");
    let ids = |list: Vec<crate::Endorsement>| list.into_iter().map(|e| e.id).collect::<Vec<_>>();
    assert_eq!(
        ids(repo
            .list_for(EndorsedSubject::Issuer(issuer.id))
            .await
            .expect("list")),
        vec![of_issuer.id]
    );
    assert_eq!(
        ids(repo
            .list_for(EndorsedSubject::Credential(award.id))
            .await
            .expect("list")),
        vec![of_award.id]
    );
    assert!(repo
        .list_for(EndorsedSubject::Achievement(BadgeClassId::generate()))
        .await
        .expect("list")
        .is_empty());

    // Refusals.
    let missing = BadgeClassId::generate();
    match repo
        .create(&sample_endorsement(
            EndorsedSubject::Achievement(missing),
            Endorser::Ours(issuer.id),
            Timestamp::now(),
        ))
        .await
    {
        Err(DomainError::MissingReference { .. }) => {}
        other => panic!("a missing subject: {other:?}"),
    }
    match repo
        .create(&sample_endorsement(
            subject,
            Endorser::Ours(IssuerId::generate()),
            Timestamp::now(),
        ))
        .await
    {
        Err(DomainError::MissingReference {
            entity: "issuer", ..
        }) => {}
        other => panic!("a missing endorser: {other:?}"),
    }
    let mut same_id = ours.clone();
    same_id.status_slot = None;
    match repo.create(&same_id).await {
        Err(DomainError::Duplicate {
            entity: "endorsement",
            field: "id",
        }) => {}
        other => panic!("a taken id: {other:?}"),
    }
    let mut twin = sample_endorsement(subject, Endorser::Ours(endorser.id), Timestamp::now());
    twin.status_slot = Some(slot);
    match repo.create(&twin).await {
        Err(DomainError::Duplicate {
            entity: "endorsement",
            field: "status list entry",
        }) => {}
        other => panic!("a bit belongs to one endorsement: {other:?}"),
    }
    assert_not_found(repo.get(EndorsementId::generate()).await, "endorsement");
}

/// Revoking keeps the first revocation (time and reason), and a revoked
/// endorsement's bit is flagged and counted in its list, beside awards'.
pub async fn endorsement_revocation_is_first_wins(store: Arc<dyn Store>) {
    use crate::{EndorsedSubject, EndorsementStatus, Endorser};
    let (issuer, badge) = seed_badge_class(store.as_ref()).await;
    let slots = store
        .status_lists()
        .allocate(issuer.id, 2, StatusList::CAPACITY, Timestamp::now())
        .await
        .expect("allocate");
    let list = slots[0].list_id;
    let mut award = sample_assertion(&badge, "flagged@example.org");
    award.status_slot = Some(slots[0]);
    store.assertions().create(&award).await.expect("award");
    let mut endorsement = sample_endorsement(
        EndorsedSubject::Achievement(badge.id),
        Endorser::Ours(issuer.id),
        Timestamp::now(),
    );
    endorsement.status_slot = Some(slots[1]);
    let repo = store.endorsements();
    repo.create(&endorsement).await.expect("create");
    let lists = store.status_lists();
    assert!(lists
        .flagged(list, StatusPurpose::Revocation)
        .await
        .expect("flags")
        .is_empty());

    let first = ts("2024-06-01T10:00:00Z");
    let reason = Text::parse("Endorsed by mistake").expect("text");
    let revoked = repo
        .revoke(endorsement.id, Some(reason.clone()), first)
        .await
        .expect("revoke");
    let expected = EndorsementStatus::Revoked {
        reason: Some(reason),
        at: first,
    };
    assert_eq!(revoked.status, expected);
    let again = repo
        .revoke(endorsement.id, None, ts("2024-06-02T10:00:00Z"))
        .await
        .expect("revoke again");
    assert_eq!(again.status, expected, "the first revocation stays");
    assert_eq!(
        repo.get(endorsement.id).await.expect("get").status,
        expected
    );
    assert_not_found(
        repo.revoke(EndorsementId::generate(), None, first).await,
        "endorsement",
    );

    assert_eq!(
        lists
            .flagged(list, StatusPurpose::Revocation)
            .await
            .expect("flags"),
        vec![slots[1].index]
    );
    assert!(lists
        .flagged(list, StatusPurpose::Suspension)
        .await
        .expect("flags")
        .is_empty());
    let now = Timestamp::now();
    store
        .assertions()
        .set_status(
            award.id,
            &CredentialStatus::Active,
            &CredentialStatus::Revoked {
                reason: None,
                at: now,
            },
            now,
        )
        .await
        .expect("revoke the award");
    assert_eq!(
        lists
            .flagged(list, StatusPurpose::Revocation)
            .await
            .expect("flags"),
        vec![slots[0].index, slots[1].index]
    );
    assert_eq!(
        lists.counts(list).await.expect("counts"),
        StatusCounts {
            revoked: 2,
            suspended: 0
        }
    );
}

/// Endorsements go with what they endorse (an award deleted, a badge class
/// deleted, an issuer deleted, restricted or not) and with their endorser.
pub async fn endorsements_go_with_what_they_endorse(store: Arc<dyn Store>) {
    use crate::{EndorsedSubject, Endorser};
    let (issuer, badge) = seed_badge_class(store.as_ref()).await;
    let (endorser, _) = seed_badge_class(store.as_ref()).await;
    let (bystander, _) = seed_badge_class(store.as_ref()).await;
    let award = sample_assertion(&badge, "deleted@example.org");
    store.assertions().create(&award).await.expect("award");
    let repo = store.endorsements();
    let now = Timestamp::now();
    let of_award = sample_endorsement(
        EndorsedSubject::Credential(award.id),
        Endorser::Ours(bystander.id),
        now,
    );
    let of_badge = sample_endorsement(
        EndorsedSubject::Achievement(badge.id),
        Endorser::Ours(bystander.id),
        now,
    );
    let of_issuer = sample_endorsement(
        EndorsedSubject::Issuer(issuer.id),
        Endorser::Ours(bystander.id),
        now,
    );
    let by_endorser = sample_endorsement(
        EndorsedSubject::Issuer(bystander.id),
        Endorser::Ours(endorser.id),
        now,
    );
    let kept = sample_endorsement(
        EndorsedSubject::Issuer(bystander.id),
        Endorser::Ours(bystander.id),
        now,
    );
    for e in [&of_award, &of_badge, &of_issuer, &by_endorser, &kept] {
        repo.create(e).await.expect("create");
    }
    store
        .assertions()
        .delete(award.id)
        .await
        .expect("delete award");
    assert_not_found(
        repo.get(of_award.id).await,
        "endorsement of a deleted award",
    );
    assert!(repo.get(of_badge.id).await.is_ok());
    store
        .badge_classes()
        .delete(badge.id, DeleteMode::Restrict)
        .await
        .expect("delete badge");
    assert_not_found(
        repo.get(of_badge.id).await,
        "endorsement of a deleted badge class",
    );
    store
        .issuers()
        .delete(issuer.id, DeleteMode::Restrict)
        .await
        .expect("delete issuer");
    assert_not_found(
        repo.get(of_issuer.id).await,
        "endorsement of a deleted issuer",
    );
    store
        .issuers()
        .delete(endorser.id, DeleteMode::Cascade)
        .await
        .expect("delete endorser");
    assert_not_found(
        repo.get(by_endorser.id).await,
        "endorsement by a deleted issuer",
    );
    assert_eq!(repo.get(kept.id).await.expect("kept"), kept);
}

/// Assets: stored and read back byte for byte with their ETag, type and
/// dimensions; a missing one is `NotFound`; an unknown uploader is
/// `MissingReference`; a deleted uploader leaves the asset, without uploader.
pub async fn asset_lifecycle(store: Arc<dyn Store>) {
    let user = sample_user(Role::Issuer);
    store.users().create(&user).await.expect("create user");
    let before = store.assets().count().await.expect("count");
    // Every byte value, and a NUL: a BLOB/bytea, not text.
    let bytes: Vec<u8> = (0..=255u8).chain([0, 0, 255]).collect();
    let asset = Asset::new(
        ImageType::Png,
        bytes.clone(),
        Some(16),
        Some(9),
        Some(user.id),
        ts("2026-12-07T10:00:00.123Z"),
    );
    store.assets().create(&asset).await.expect("create asset");
    let read = store.assets().get(asset.id()).await.expect("get asset");
    assert_eq!(read, asset, "the asset reads back as stored");
    assert_eq!(read.bytes(), &bytes[..]);
    assert_eq!(read.etag().len(), 64);
    assert_eq!(read.size(), bytes.len() as u64);
    assert!(
        store.assets().count().await.expect("count") > before,
        "the count includes it"
    );
    assert!(matches!(
        store.assets().create(&asset).await,
        Err(DomainError::Duplicate { .. })
    ));

    let svg = Asset::new(
        ImageType::Svg,
        b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>".to_vec(),
        None,
        None,
        None,
        Timestamp::now(),
    );
    store.assets().create(&svg).await.expect("create svg");
    let read = store.assets().get(svg.id()).await.expect("get svg");
    assert_eq!(
        (read.media_type(), read.width(), read.uploaded_by()),
        (ImageType::Svg, None, None)
    );

    let stranger = Asset::new(
        ImageType::Gif,
        vec![1],
        Some(1),
        Some(1),
        Some(UserId::generate()),
        Timestamp::now(),
    );
    assert!(matches!(
        store.assets().create(&stranger).await,
        Err(DomainError::MissingReference { entity: "user", .. })
    ));
    assert!(matches!(
        store.assets().get(stranger.id()).await,
        Err(DomainError::NotFound {
            entity: "asset",
            ..
        })
    ));

    store.users().delete(user.id).await.expect("delete user");
    let read = store
        .assets()
        .get(asset.id())
        .await
        .expect("asset outlives its uploader");
    assert_eq!(read.uploaded_by(), None);
    assert_eq!(read.bytes(), &bytes[..]);
}

/// `base` moved on by `seconds`.
fn later(base: Timestamp, seconds: i64) -> Timestamp {
    Timestamp::from_datetime(base.as_datetime() + chrono::Duration::seconds(seconds))
}

/// The mail outbox: a row exactly when its award is stored (single and
/// batch, all or none), claims with leases, outcomes recorded only by the
/// claim that holds the row, the cascade from awards, and two senders
/// claiming at once never sharing a row. One check, because claims see
/// every due row of the database and the SQL contract runs share one.
pub async fn mail_outbox(store: Arc<dyn Store>) {
    use crate::mail::{DeliveryState, Notification};
    use std::time::Duration;

    let (_, badge) = seed_badge_class(store.as_ref()).await;
    let awards = store.assertions();
    let outbox = store.outbox();
    // Queued at a fixed time, so the claims below choose what is due.
    let t0 = ts("2031-01-01T00:00:00Z");
    let email = |s: &str| Email::parse(s).expect("fixture e-mail");
    let lease = Duration::from_secs(60);

    // A single award with its e-mail; one without.
    let told = sample_assertion(&badge, "told@example.org");
    let note = Notification::new(told.id, email("told@example.org"), t0);
    awards
        .create_notifying(&told, &note)
        .await
        .expect("award with e-mail");
    let queued = outbox
        .state_of(told.id)
        .await
        .expect("state")
        .expect("queued");
    assert_eq!(queued.state, DeliveryState::Pending);
    assert_eq!(
        (queued.attempts, queued.to.as_str()),
        (0, "told@example.org")
    );
    assert_eq!(queued.next_attempt_at, t0);
    let silent = sample_assertion(&badge, "silent@example.org");
    awards.create(&silent).await.expect("award without e-mail");
    assert_eq!(outbox.state_of(silent.id).await.expect("state"), None);

    // No e-mail without its award: a refused award queues nothing.
    let mut orphan = sample_assertion(&badge, "orphan@example.org");
    orphan.badge_class_id = BadgeClassId::generate();
    let orphan_note = Notification::new(orphan.id, email("orphan@example.org"), t0);
    assert!(awards
        .create_notifying(&orphan, &orphan_note)
        .await
        .is_err());
    assert_eq!(outbox.state_of(orphan.id).await.expect("state"), None);

    // Batches: the e-mails go with the awards, all or none.
    let batch_awards: Vec<Assertion> = (0..3)
        .map(|i| sample_assertion(&badge, &format!("b{i}@example.org")))
        .collect();
    let mut bad = batch_awards.clone();
    let mut stray = sample_assertion(&badge, "stray@example.org");
    stray.badge_class_id = BadgeClassId::generate();
    bad.push(stray);
    let mut refused = AwardBatch::in_memory(bad);
    refused.notify(Notification::new(
        batch_awards[0].id,
        email("b0@example.org"),
        t0,
    ));
    assert!(awards.create_many(refused).await.is_err());
    assert_eq!(
        outbox.state_of(batch_awards[0].id).await.expect("state"),
        None
    );
    let mut batch = AwardBatch::in_memory(batch_awards.clone());
    batch.notify(Notification::new(
        batch_awards[0].id,
        email("b0@example.org"),
        t0,
    ));
    batch.notify(Notification::new(
        batch_awards[2].id,
        email("x2@example.org"),
        t0,
    ));
    awards.create_many(batch).await.expect("batch");
    let b2 = outbox
        .state_of(batch_awards[2].id)
        .await
        .expect("state")
        .expect("queued with its batch");
    assert_eq!(b2.to.as_str(), "x2@example.org");
    assert_eq!(
        outbox.state_of(batch_awards[1].id).await.expect("state"),
        None
    );

    // Nothing is due before its time.
    let early = outbox
        .claim_due(later(t0, -1), lease, 100)
        .await
        .expect("claim");
    assert!(early.iter().all(|m| m.id != note.id), "claimed before due");

    // A claim takes the row for its lease and counts the attempt.
    let claimed = outbox.claim_due(t0, lease, 100).await.expect("claim");
    let first = claimed
        .iter()
        .find(|m| m.id == note.id)
        .expect("due row claimed")
        .clone();
    assert_eq!(first.state, DeliveryState::Sending);
    assert_eq!(first.attempts, 1);
    assert_eq!(first.last_attempt_at, Some(t0));
    assert_eq!(first.claimed_until, Some(later(t0, 60)));
    let again = outbox
        .claim_due(later(t0, 30), lease, 100)
        .await
        .expect("claim");
    assert!(
        again.iter().all(|m| m.id != note.id),
        "claimed twice in a lease"
    );

    // A retry makes it due again later, with the error kept.
    assert!(outbox
        .mark_retry(&first, later(t0, 120), "451 4.3.0 try again later")
        .await
        .expect("retry"));
    let waiting = outbox.state_of(told.id).await.expect("state").expect("row");
    assert_eq!(waiting.state, DeliveryState::Pending);
    assert_eq!(
        waiting.last_error.as_deref(),
        Some("451 4.3.0 try again later")
    );
    assert_eq!(waiting.claimed_until, None);
    let not_yet = outbox
        .claim_due(later(t0, 119), lease, 100)
        .await
        .expect("claim");
    assert!(not_yet.iter().all(|m| m.id != note.id), "retried too early");
    let second = outbox
        .claim_due(later(t0, 120), lease, 100)
        .await
        .expect("claim")
        .into_iter()
        .find(|m| m.id == note.id)
        .expect("due again");
    assert_eq!(second.attempts, 2);
    // The first claim is over: its outcome is not recorded.
    assert!(!outbox
        .mark_sent(&first, later(t0, 121))
        .await
        .expect("stale"));
    assert!(outbox
        .mark_sent(&second, later(t0, 121))
        .await
        .expect("sent"));
    let sent = outbox.state_of(told.id).await.expect("state").expect("row");
    assert_eq!(sent.state, DeliveryState::Sent);
    assert_eq!(sent.sent_at, Some(later(t0, 121)));
    assert_eq!(sent.last_error, None);
    let done = outbox
        .claim_due(later(t0, 10_000), lease, 100)
        .await
        .expect("claim");
    assert!(
        done.iter().all(|m| m.id != note.id),
        "a sent row is claimed again"
    );

    // A lease that runs out (the sender stopped) makes the row due again;
    // the stopped sender can no longer record an outcome.
    let b0 = outbox
        .claim_due(later(t0, 20_000), lease, 100)
        .await
        .expect("claim")
        .into_iter()
        .find(|m| m.subject == crate::mail::MailSubject::Award(batch_awards[0].id))
        .expect("batch row due");
    let retaken = outbox
        .claim_due(later(t0, 20_060), lease, 100)
        .await
        .expect("claim")
        .into_iter()
        .find(|m| m.id == b0.id)
        .expect("abandoned row due again");
    assert_eq!(retaken.attempts, b0.attempts + 1);
    assert!(!outbox.mark_failed(&b0, "late").await.expect("stale"));
    assert!(outbox
        .mark_failed(&retaken, "550 5.1.1 no such user")
        .await
        .expect("failed"));
    let failed = outbox
        .state_of(batch_awards[0].id)
        .await
        .expect("state")
        .expect("row");
    assert_eq!(failed.state, DeliveryState::Failed);
    assert_eq!(failed.last_error.as_deref(), Some("550 5.1.1 no such user"));

    // The e-mail goes with its award.
    awards
        .delete(batch_awards[0].id)
        .await
        .expect("delete award");
    assert_eq!(
        outbox.state_of(batch_awards[0].id).await.expect("state"),
        None
    );

    // Two senders claiming at once, round after round: no row twice.
    let many: Vec<Assertion> = (0..40)
        .map(|i| sample_assertion(&badge, &format!("many{i}@example.org")))
        .collect();
    let mut batch = AwardBatch::in_memory(many.clone());
    for award in &many {
        batch.notify(Notification::new(award.id, email("many@example.org"), t0));
    }
    awards.create_many(batch).await.expect("batch");
    let at = later(t0, 100_000);
    let claimer = |store: Arc<dyn Store>| async move {
        let mut mine = Vec::new();
        loop {
            let claimed = store
                .outbox()
                .claim_due(at, Duration::from_secs(3600), 3)
                .await
                .expect("claim");
            if claimed.is_empty() {
                return mine;
            }
            for message in claimed {
                assert!(store.outbox().mark_sent(&message, at).await.expect("sent"));
                mine.push(message.id);
            }
        }
    };
    let (one, two) = tokio::join!(
        tokio::spawn(claimer(store.clone())),
        tokio::spawn(claimer(store.clone()))
    );
    let (one, two) = (one.expect("first sender"), two.expect("second sender"));
    let mut all: Vec<_> = one.iter().chain(&two).copied().collect();
    let claims = all.len();
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), claims, "a row was claimed by both senders");
    for award in &many {
        let row = outbox
            .state_of(award.id)
            .await
            .expect("state")
            .expect("row");
        assert!(all.contains(&row.id), "a due row was never claimed");
        assert_eq!((row.state, row.attempts), (DeliveryState::Sent, 1));
    }
}

/// A held credential of `owner`, uploaded, with the given ids and
/// `validFrom`.
pub fn sample_held(
    owner: UserId,
    issuer: &str,
    id: &str,
    valid_from: Option<&str>,
) -> HeldCredential {
    let now = Timestamp::now();
    let text = serde_json::json!({
        "id": id, "issuer": {"id": issuer}, "validFrom": valid_from,
    })
    .to_string();
    HeldCredential {
        id: HeldCredentialId::generate(),
        owner,
        issuer_key: crate::backpack::equality_key(issuer),
        credential_key: crate::backpack::equality_key(id),
        valid_from: valid_from.map(ts),
        format: HeldFormat::Json,
        text,
        source: HeldSource::Uploaded { client: None },
        received_at: now,
        updated_at: now,
    }
}

async fn seed_learner(store: &dyn Store) -> User {
    let learner = sample_user(Role::Learner);
    store
        .users()
        .create(&learner)
        .await
        .expect("create learner");
    learner
}

/// Learners are users of their own role, stored and read back as such.
pub async fn learner_role_round_trip(store: Arc<dyn Store>) {
    let learner = seed_learner(store.as_ref()).await;
    let stored = store.users().get(learner.id).await.expect("get learner");
    assert_eq!(stored.role, Role::Learner);
    let changed = store
        .users()
        .update(
            learner.id,
            &UserUpdate {
                role: Some(Role::Viewer),
                ..UserUpdate::default()
            },
            Timestamp::now(),
        )
        .await
        .expect("promote");
    assert_eq!(changed.role, Role::Viewer);
}

/// Upsert by the spec's equality: the same owner, issuer id and credential
/// id (after percent-decoding and trimming) replace the held credential,
/// keeping its id and first `received_at`; another id or another owner
/// creates. References are checked.
pub async fn backpack_upsert_by_equality(store: Arc<dyn Store>) {
    let backpack = store.backpack();
    let learner = seed_learner(store.as_ref()).await;
    let issuer = format!("https://issuer.example.org/{}", unique("i"));
    let first = sample_held(
        learner.id,
        &issuer,
        "urn:uuid:c1",
        Some("2024-01-01T00:00:00Z"),
    );
    assert_eq!(
        backpack.upsert(&first).await.expect("create"),
        Upserted::Created
    );

    // The same credential, written differently, with newer content.
    let mut again = sample_held(
        learner.id,
        &format!(" {} ", issuer.replace("issuer.", "issuer%2E")),
        "urn:uuid:c1%20",
        Some("2025-01-01T00:00:00Z"),
    );
    assert_eq!(again.issuer_key, first.issuer_key);
    again.format = HeldFormat::Jws;
    again.text = "eyJhbGciOiJFZERTQSJ9.e30.c2ln".to_owned();
    again.source = HeldSource::Uploaded {
        client: Some("client-7".to_owned()),
    };
    again.updated_at = later(first.updated_at, 5);
    assert_eq!(
        backpack.upsert(&again).await.expect("replace"),
        Upserted::Replaced
    );
    let held = backpack
        .get(learner.id, first.id)
        .await
        .expect("kept its id");
    assert_eq!(held.format, HeldFormat::Jws);
    assert_eq!(held.text, again.text);
    assert_eq!(held.valid_from, again.valid_from);
    assert_eq!(held.source, again.source);
    assert_eq!(held.received_at, first.received_at);
    assert_eq!(held.updated_at, again.updated_at);
    assert_not_found(backpack.get(learner.id, again.id).await, "the replacing id");

    // Another credential id of the same issuer, or another issuer: new.
    let other_id = sample_held(learner.id, &issuer, "urn:uuid:c2", None);
    assert_eq!(
        backpack.upsert(&other_id).await.expect("other id"),
        Upserted::Created
    );
    let other_issuer = sample_held(learner.id, "did:example:other", "urn:uuid:c1", None);
    assert_eq!(
        backpack.upsert(&other_issuer).await.expect("other issuer"),
        Upserted::Created
    );
    let page = backpack
        .list(learner.id, None, PageRequest::default())
        .await
        .expect("list");
    assert_eq!(page.total, 3);

    // Missing references.
    let stranger = sample_held(UserId::generate(), &issuer, "urn:uuid:c1", None);
    match backpack.upsert(&stranger).await {
        Err(DomainError::MissingReference { entity: "user", .. }) => {}
        other => panic!("an unknown owner: expected MissingReference, got {other:?}"),
    }
    let mut unknown_award = sample_held(learner.id, &issuer, "urn:uuid:c9", None);
    unknown_award.source = HeldSource::Awarded(AssertionId::generate());
    match backpack.upsert(&unknown_award).await {
        Err(DomainError::MissingReference {
            entity: "assertion",
            ..
        }) => {}
        other => panic!("an unknown award: expected MissingReference, got {other:?}"),
    }
    let mut unknown_platform = sample_held(learner.id, &issuer, "urn:uuid:c9", None);
    unknown_platform.source = HeldSource::Platform(uuid::Uuid::new_v4().to_string());
    match backpack.upsert(&unknown_platform).await {
        Err(DomainError::MissingReference {
            entity: "platform", ..
        }) => {}
        other => panic!("an unknown platform: expected MissingReference, got {other:?}"),
    }
}

/// Lists: oldest received first, limit and offset, the total, and `since`
/// keeping only credentials valid from a later instant.
pub async fn backpack_paging_and_since(store: Arc<dyn Store>) {
    let backpack = store.backpack();
    let learner = seed_learner(store.as_ref()).await;
    let issuer = format!("https://issuer.example.org/{}", unique("i"));
    let base = ts("2030-06-01T00:00:00Z");
    let mut stored = Vec::new();
    for i in 0..7_i64 {
        let valid_from = (i != 3).then(|| later(ts("2024-01-01T00:00:00Z"), i * 86_400));
        let mut held = sample_held(learner.id, &issuer, &format!("urn:uuid:p{i}"), None);
        held.valid_from = valid_from;
        // Received in the reverse of creation order, two at the same instant.
        held.received_at = later(base, 100 - i.min(5) * 10);
        held.updated_at = held.received_at;
        backpack.upsert(&held).await.expect("upsert");
        stored.push(held);
    }
    let mut expected: Vec<&HeldCredential> = stored.iter().collect();
    expected.sort_by_key(|held| (held.received_at, *held.id.as_uuid().as_bytes()));
    let expected: Vec<HeldCredentialId> = expected.iter().map(|held| held.id).collect();

    let mut walked = Vec::new();
    for offset in (0..8).step_by(3) {
        let page = backpack
            .list(learner.id, None, page(3, offset))
            .await
            .expect("page");
        assert_eq!(page.total, 7, "the total of every page");
        walked.extend(page.items.iter().map(|held| held.id));
    }
    assert_eq!(walked, expected, "oldest received first, then by id");
    let past = backpack
        .list(learner.id, None, page(3, 10))
        .await
        .expect("past the end");
    assert!(past.items.is_empty());
    assert_eq!(past.total, 7);

    // `since`: strictly later validFrom; without one, left out.
    let since = later(ts("2024-01-01T00:00:00Z"), 2 * 86_400);
    let recent = backpack
        .list(learner.id, Some(since), page(10, 0))
        .await
        .expect("since");
    let mut ids: Vec<_> = recent.items.iter().map(|held| held.id).collect();
    ids.sort();
    let mut want: Vec<_> = stored
        .iter()
        .filter(|held| held.valid_from.is_some_and(|v| v > since))
        .map(|held| held.id)
        .collect();
    want.sort();
    assert_eq!(ids, want);
    assert_eq!(recent.total, 3, "days 4, 5 and 6");
}

/// One learner never sees, reads, replaces or removes another's
/// credentials, even with the same ids.
pub async fn backpack_owner_isolation(store: Arc<dyn Store>) {
    let backpack = store.backpack();
    let ada = seed_learner(store.as_ref()).await;
    let bob = seed_learner(store.as_ref()).await;
    let issuer = format!("https://issuer.example.org/{}", unique("i"));
    let hers = sample_held(ada.id, &issuer, "urn:uuid:shared", None);
    let his = sample_held(bob.id, &issuer, "urn:uuid:shared", None);
    assert_eq!(
        backpack.upsert(&hers).await.expect("hers"),
        Upserted::Created
    );
    assert_eq!(
        backpack
            .upsert(&his)
            .await
            .expect("his: equal, but another owner"),
        Upserted::Created
    );
    let bobs = backpack
        .list(bob.id, None, PageRequest::default())
        .await
        .expect("list");
    assert_eq!(bobs.total, 1);
    assert_eq!(bobs.items[0].id, his.id);
    assert_not_found(backpack.get(bob.id, hers.id).await, "another's credential");
    assert_not_found(backpack.remove(bob.id, hers.id).await, "another's removal");
    backpack.get(ada.id, hers.id).await.expect("still hers");
    backpack.remove(ada.id, hers.id).await.expect("remove");
    assert_not_found(backpack.get(ada.id, hers.id).await, "removed");
    assert_not_found(backpack.remove(ada.id, hers.id).await, "removed twice");
    assert_eq!(
        backpack
            .list(bob.id, None, PageRequest::default())
            .await
            .expect("list")
            .total,
        1
    );
}

/// A credential linked to an award is read with the award's current
/// issued credential, and goes with the award; a learner's backpack and
/// profile go with the learner.
pub async fn backpack_follows_awards_and_owners(store: Arc<dyn Store>) {
    let backpack = store.backpack();
    let learner = seed_learner(store.as_ref()).await;
    let (_, badge) = seed_badge_class(store.as_ref()).await;
    let mut award = sample_assertion(&badge, "held@example.org");
    award.issued_credential = Some(IssuedCredential::new(&serde_json::json!({
        "id": format!("urn:uuid:{}", award.id), "issuer": {"id": "https://issuer.example.org"},
        "proof": {"proofValue": "first"}
    })));
    store.assertions().create(&award).await.expect("award");
    let mut linked = sample_held(
        learner.id,
        "https://issuer.example.org",
        &format!("urn:uuid:{}", award.id),
        Some("2024-05-01T12:00:00Z"),
    );
    linked.source = HeldSource::Awarded(award.id);
    linked.text = "the text when linked".to_owned();
    assert_eq!(
        backpack.upsert(&linked).await.expect("link"),
        Upserted::Created
    );
    let read = backpack.get(learner.id, linked.id).await.expect("get");
    assert!(
        read.text.contains("first"),
        "the award's issued credential: {}",
        read.text
    );
    assert_eq!(read.source, HeldSource::Awarded(award.id));

    // The award is re-issued: the backpack reads the new credential.
    award.issued_credential = Some(IssuedCredential::new(&serde_json::json!({
        "id": format!("urn:uuid:{}", award.id), "issuer": {"id": "https://issuer.example.org"},
        "proof": {"proofValue": "second"}
    })));
    store.assertions().update(&award).await.expect("re-issue");
    let page = backpack
        .list(learner.id, None, PageRequest::default())
        .await
        .expect("list");
    assert!(
        page.items[0].text.contains("second"),
        "{}",
        page.items[0].text
    );

    // The award goes, and its link with it.
    store
        .assertions()
        .delete(award.id)
        .await
        .expect("delete award");
    assert_not_found(backpack.get(learner.id, linked.id).await, "after the award");

    // The learner goes, and their backpack and profile with them.
    let upload = sample_held(learner.id, "did:example:x", "urn:uuid:u", None);
    backpack.upsert(&upload).await.expect("upload");
    backpack
        .put_profile(learner.id, r#"{"type":["Profile"]}"#, Timestamp::now())
        .await
        .expect("profile");
    store
        .users()
        .delete(learner.id)
        .await
        .expect("delete learner");
    let gone = backpack
        .list(learner.id, None, PageRequest::default())
        .await
        .expect("list");
    assert_eq!(gone.total, 0);
    assert_eq!(backpack.profile(learner.id).await.expect("profile"), None);
}

/// Profiles: none until put, then exactly the text put, replaced by the
/// next put; one learner's profile is not another's.
pub async fn backpack_profiles(store: Arc<dyn Store>) {
    let backpack = store.backpack();
    let ada = seed_learner(store.as_ref()).await;
    let bob = seed_learner(store.as_ref()).await;
    assert_eq!(backpack.profile(ada.id).await.expect("none yet"), None);
    let first = r#"{"id":"did:example:ada","type":["Profile"],"name":"Ada Ωmega"}"#;
    backpack
        .put_profile(ada.id, first, Timestamp::now())
        .await
        .expect("put");
    assert_eq!(
        backpack.profile(ada.id).await.expect("get").as_deref(),
        Some(first)
    );
    let second = r#"{"type":["Profile"],  "name":"Ada"}"#;
    backpack
        .put_profile(ada.id, second, Timestamp::now())
        .await
        .expect("replace");
    assert_eq!(
        backpack.profile(ada.id).await.expect("get").as_deref(),
        Some(second)
    );
    assert_eq!(backpack.profile(bob.id).await.expect("bob's"), None);
    match backpack
        .put_profile(UserId::generate(), first, Timestamp::now())
        .await
    {
        Err(DomainError::MissingReference { entity: "user", .. }) => {}
        other => panic!("an unknown owner: expected MissingReference, got {other:?}"),
    }
}

fn signed(mut award: Assertion) -> Assertion {
    award.issued_credential = Some(IssuedCredential::new(&serde_json::json!({
        "id": format!("urn:uuid:{}", award.id),
        "issuer": {"id": format!("https://issuer.example.org/{}", award.issuer_id)},
        "validFrom": "2024-05-01T12:00:00.123456Z",
        "proof": {"proofValue": "z"}
    })));
    award
}

fn claim_of(
    user: UserId,
    address: &str,
    key: &crate::learners::VerificationKey,
) -> (
    crate::learners::LearnerEmail,
    crate::learners::PendingVerification,
    crate::learners::VerificationMail,
    String,
) {
    let now = Timestamp::now();
    let email = crate::learners::LearnerEmail::claim(
        user,
        &Email::parse(address).expect("fixture e-mail"),
        now,
    )
    .expect("claim");
    let pending = key.pending(now).expect("pending");
    let token = key.token(&pending.nonce);
    let mail = crate::learners::VerificationMail {
        id: OutboxId::generate(),
        email: email.id,
        to: email.email.clone(),
        created_at: now,
    };
    (email, pending, mail, token)
}

/// E-mail identities: a claim is stored unverified with its token's hash
/// and queues its e-mail; claiming again renews the token (the old one
/// stops working); the token verifies once, not after it expired, and not
/// an address another learner verified; verification links the awards
/// made to the address (in the clear, hashed here, hashed with a salt by
/// the client), and later awards to it are linked when made, single or in
/// a batch; another learner's address links nothing to them.
pub async fn learner_emails_verify_and_link(store: Arc<dyn Store>) {
    use crate::learners::{token_hash, Claimed, VerificationKey};
    let emails = store.learner_emails();
    let backpack = store.backpack();
    let key = VerificationKey::derive(b"contract secret of at least 32 bytes");
    let ada = seed_learner(store.as_ref()).await;
    let bob = seed_learner(store.as_ref()).await;
    let (_, badge) = seed_badge_class(store.as_ref()).await;
    let address = format!("{}@example.org", unique("ada"));
    let salt = "pepper";

    // Awards before verification: in the clear, hashed here, hashed by the
    // client with a salt; and one to someone else.
    let clear = signed(Assertion {
        recipient: Recipient::plain(RecipientKind::Email, &address.to_uppercase()).expect("r"),
        ..sample_assertion(&badge, &address)
    });
    let hashed_here = signed(sample_assertion(&badge, &address));
    let digest = sha2::Sha256::digest(format!("{address}{salt}").as_bytes());
    let by_client = signed(Assertion {
        recipient: Recipient::prehashed(
            RecipientKind::Email,
            &format!("sha256${}", hex::encode(digest)),
            Some(salt),
        )
        .expect("r"),
        ..sample_assertion(&badge, &address)
    });
    let unsigned = sample_assertion(&badge, &address);
    let elsewhere = signed(sample_assertion(&badge, "someone-else@example.org"));
    for award in [&clear, &hashed_here, &by_client, &unsigned, &elsewhere] {
        store.assertions().create(award).await.expect("award");
    }

    // Claimed: unverified, nothing linked yet.
    let (email, pending, mail, first_token) = claim_of(ada.id, &address.to_uppercase(), &key);
    assert_eq!(email.email.as_str(), address, "lower-cased");
    match emails.claim(&email, &pending, &mail).await.expect("claim") {
        Claimed::New(stored) => assert_eq!(stored.id, email.id),
        other => panic!("expected a new claim, got {other:?}"),
    }
    assert_eq!(
        emails.pending_nonce(email.id).await.expect("nonce"),
        Some(pending.nonce.clone())
    );
    let listed = emails.list(ada.id).await.expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].verified_at, None);
    assert_not_found(emails.get(bob.id, email.id).await, "another's address");
    assert_eq!(
        backpack
            .list(ada.id, None, PageRequest::default())
            .await
            .expect("list")
            .total,
        0
    );

    // Claimed again: the same address, a new token; the first is dead.
    let (again, renewed, mail, token) = claim_of(ada.id, &address, &key);
    match emails.claim(&again, &renewed, &mail).await.expect("renew") {
        Claimed::Renewed(stored) => assert_eq!(stored.id, email.id),
        other => panic!("expected a renewal, got {other:?}"),
    }
    assert_eq!(token_hash(&key.token(&renewed.nonce)), renewed.token_hash);
    assert_not_found(
        emails
            .verify(&token_hash(&first_token), Timestamp::now())
            .await,
        "the replaced token",
    );
    // Bob claims the same address: allowed while nobody verified it.
    let (bobs, bobs_pending, bobs_mail, bobs_token) = claim_of(bob.id, &address, &key);
    emails
        .claim(&bobs, &bobs_pending, &bobs_mail)
        .await
        .expect("bob's claim");

    // Expired: refused, naming the token; still pending.
    let expired_at = later(renewed.expires_at, 1);
    match emails.verify(&renewed.token_hash, expired_at).await {
        Err(DomainError::Validation(fields)) => assert_eq!(fields[0].field, "token"),
        other => panic!("an expired token: expected a validation error, got {other:?}"),
    }
    let _ = token;

    // Verified: the awards to the address are linked, the others not.
    let (verified, linked) = emails
        .verify(&renewed.token_hash, Timestamp::now())
        .await
        .expect("verify");
    assert!(verified.verified_at.is_some());
    assert_eq!(linked, 3, "clear, hashed here, hashed by the client");
    let held = backpack
        .list(ada.id, None, PageRequest::default())
        .await
        .expect("list");
    let mut awards: Vec<_> = held
        .items
        .iter()
        .map(|held| match held.source {
            HeldSource::Awarded(award) => award,
            ref other => panic!("linked as {other:?}"),
        })
        .collect();
    awards.sort();
    let mut want = vec![clear.id, hashed_here.id, by_client.id];
    want.sort();
    assert_eq!(awards, want);
    assert!(held.items.iter().all(|h| h.text.contains("proofValue")));
    assert_eq!(emails.pending_nonce(email.id).await.expect("nonce"), None);

    // Used: the token does not work twice.
    assert_not_found(
        emails.verify(&renewed.token_hash, Timestamp::now()).await,
        "a used token",
    );
    // Bob cannot verify the address Ada verified, nor claim it anew.
    match emails
        .verify(&token_hash(&bobs_token), Timestamp::now())
        .await
    {
        Err(DomainError::Duplicate { .. }) => {}
        other => panic!("another's verified address: expected Duplicate, got {other:?}"),
    }
    let (bob_again, bob_pending, bob_mail, _) = claim_of(bob.id, &address, &key);
    match emails.claim(&bob_again, &bob_pending, &bob_mail).await {
        Err(DomainError::Duplicate { .. }) => {}
        other => panic!("claiming a verified address: expected Duplicate, got {other:?}"),
    }
    assert_eq!(
        backpack
            .list(bob.id, None, PageRequest::default())
            .await
            .expect("list")
            .total,
        0
    );

    // Awards made after verification are linked when made.
    let later_clear = signed(sample_assertion(&badge, &address));
    store
        .assertions()
        .create(&later_clear)
        .await
        .expect("award");
    let digest = sha2::Sha256::digest(format!("{address}salt2").as_bytes());
    let later_salted = signed(Assertion {
        recipient: Recipient::prehashed(
            RecipientKind::Email,
            &format!("sha256${}", hex::encode(digest)),
            Some("salt2"),
        )
        .expect("r"),
        ..sample_assertion(&badge, &address)
    });
    let notified = signed(sample_assertion(&badge, &address));
    store
        .assertions()
        .create_notifying(
            &notified,
            &crate::mail::Notification::new(notified.id, verified.email.clone(), Timestamp::now()),
        )
        .await
        .expect("award with e-mail");
    let batch_award = signed(sample_assertion(&badge, &address));
    let other_batch_award = signed(sample_assertion(&badge, "nobody@example.org"));
    store
        .assertions()
        .create_many(AwardBatch::in_memory(vec![
            later_salted.clone(),
            batch_award.clone(),
            other_batch_award,
        ]))
        .await
        .expect("batch");
    let held = backpack
        .list(ada.id, None, PageRequest::default())
        .await
        .expect("list");
    assert_eq!(held.total, 7, "three at verification, four since");
    for award in [&later_clear, &later_salted, &notified, &batch_award] {
        assert!(
            held.items
                .iter()
                .any(|h| h.source == HeldSource::Awarded(award.id)),
            "{} not linked",
            award.id
        );
    }

    // Removing the address keeps what was linked; the id is Ada's only.
    assert_not_found(emails.remove(bob.id, email.id).await, "another's removal");
    emails.remove(ada.id, email.id).await.expect("remove");
    assert!(emails.list(ada.id).await.expect("list").is_empty());
    assert_eq!(
        backpack
            .list(ada.id, None, PageRequest::default())
            .await
            .expect("list")
            .total,
        7
    );
}

/// Badge hosts and deliveries: one registration per base URL, a delivery
/// only for a stored award and host, a state used once, claims with leases
/// and outcomes recorded only by the claim that holds the row, secrets
/// dropped at the end, and the cascade from awards. One check, because
/// claims see every due delivery of the database.
pub async fn deliveries_lifecycle(store: Arc<dyn Store>) {
    use crate::deliveries::{Delivery, DeliveryState, RemoteHost, SealedTokens};
    use std::time::Duration;

    let (_, badge) = seed_badge_class(store.as_ref()).await;
    let award = sample_assertion(&badge, "ada@example.org");
    store.assertions().create(&award).await.expect("award");
    let repo = store.deliveries();
    let t0 = ts("2032-01-01T00:00:00Z");
    let later = |seconds: i64| {
        Timestamp::from_datetime(t0.as_datetime() + chrono::Duration::seconds(seconds))
    };
    let lease = Duration::from_secs(60);

    let host = RemoteHost {
        id: RemoteHostId::generate(),
        base_url: format!("https://host-{}.example", uuid::Uuid::new_v4()),
        authorization_url: "https://host.example/oauth/authorize".to_owned(),
        token_url: "https://host.example/oauth/token".to_owned(),
        scope: "https://purl.imsglobal.org/spec/ob/v3p0/scope/credential.upsert".to_owned(),
        client_id: "client-1".to_owned(),
        sealed_client_secret: vec![9, 8, 7],
        registered_at: t0,
    };
    assert_eq!(repo.host(&host.base_url).await.expect("host"), None);
    repo.add_host(&host).await.expect("add host");
    assert_eq!(
        repo.host(&host.base_url).await.expect("host"),
        Some(host.clone())
    );
    assert_eq!(repo.get_host(host.id).await.expect("host"), host);
    let twice = RemoteHost {
        id: RemoteHostId::generate(),
        ..host.clone()
    };
    assert!(matches!(
        repo.add_host(&twice).await,
        Err(DomainError::Duplicate { .. })
    ));
    assert!(matches!(
        repo.get_host(RemoteHostId::generate()).await,
        Err(DomainError::NotFound { .. })
    ));

    let state_hash = format!("{:064x}", uuid::Uuid::new_v4().as_u128());
    let delivery = Delivery::authorizing(
        award.id,
        host.id,
        state_hash.clone(),
        vec![1, 2, 3],
        t0,
        later(600),
    );
    let orphan = Delivery::authorizing(
        AssertionId::generate(),
        host.id,
        "other".to_owned(),
        vec![1],
        t0,
        later(600),
    );
    assert!(repo.start(&orphan).await.is_err(), "no such award");
    let strange = Delivery::authorizing(
        award.id,
        RemoteHostId::generate(),
        "strange".to_owned(),
        vec![1],
        t0,
        later(600),
    );
    assert!(repo.start(&strange).await.is_err(), "no such host");
    repo.start(&delivery).await.expect("start");
    assert_eq!(
        repo.find_authorizing(&state_hash).await.expect("find"),
        Some(delivery.clone())
    );
    assert_eq!(
        repo.open_authorizations(award.id, t0).await.expect("open"),
        1
    );
    assert_eq!(
        repo.open_authorizations(award.id, later(600))
            .await
            .expect("open"),
        0
    );
    assert!(repo
        .claim_due(later(1), lease, 100)
        .await
        .expect("claim")
        .is_empty());

    let tokens = SealedTokens {
        access: vec![4, 4],
        refresh: Some(vec![5, 5]),
    };
    assert!(repo
        .authorized(delivery.id, &tokens, later(10))
        .await
        .expect("authorized"));
    assert!(
        !repo
            .authorized(delivery.id, &tokens, later(11))
            .await
            .expect("again"),
        "a state is used once"
    );
    assert!(!repo
        .authorization_failed(delivery.id, "late", later(11))
        .await
        .expect("late"));
    assert_eq!(
        repo.find_authorizing(&state_hash).await.expect("find"),
        None
    );

    let claimed = repo.claim_due(later(10), lease, 100).await.expect("claim");
    assert_eq!(claimed.len(), 1);
    let first = claimed[0].clone();
    assert_eq!(first.state, DeliveryState::Sending);
    assert_eq!(first.attempts, 1);
    assert_eq!(first.tokens, Some(tokens.clone()));
    assert_eq!(first.state_hash, None);
    assert_eq!(first.sealed_verifier, None);
    assert!(repo
        .claim_due(later(20), lease, 100)
        .await
        .expect("claim")
        .is_empty());
    let rotated = SealedTokens {
        access: vec![6],
        refresh: Some(vec![7]),
    };
    assert!(repo
        .renew_tokens(&first, &rotated, later(12))
        .await
        .expect("renew"));
    assert!(repo
        .mark_retry(&first, later(1800), "503 Service Unavailable", later(13))
        .await
        .expect("retry"));
    assert!(
        !repo.mark_delivered(&first, later(14)).await.expect("stale"),
        "the claim is over"
    );
    assert!(repo
        .claim_due(later(1799), lease, 100)
        .await
        .expect("claim")
        .is_empty());
    let second = repo
        .claim_due(later(1800), lease, 100)
        .await
        .expect("claim");
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].attempts, 2);
    assert_eq!(second[0].tokens, Some(rotated));
    // The lease runs out: the delivery is claimed again, and the stale
    // claim can record nothing.
    let third = repo
        .claim_due(later(1860), lease, 100)
        .await
        .expect("claim");
    assert_eq!(third.len(), 1);
    assert_eq!(third[0].attempts, 3);
    assert!(!repo
        .mark_failed(&second[0], "stale", later(1861))
        .await
        .expect("stale"));
    assert!(repo
        .mark_delivered(&third[0], later(1862))
        .await
        .expect("delivered"));

    let listed = repo.list_for(award.id).await.expect("list");
    assert_eq!(listed.len(), 1);
    let done = &listed[0];
    assert_eq!(done.state, DeliveryState::Delivered);
    assert_eq!(done.delivered_at, Some(later(1862)));
    assert_eq!(done.tokens, None, "secrets go once delivered");
    assert_eq!(done.last_error.as_deref(), Some("503 Service Unavailable"));

    // A refused authorization fails the delivery and drops its verifier.
    let refused = Delivery::authorizing(
        award.id,
        host.id,
        format!("{:064x}", uuid::Uuid::new_v4().as_u128()),
        vec![1],
        later(2000),
        later(2600),
    );
    repo.start(&refused).await.expect("start");
    assert!(repo
        .authorization_failed(refused.id, "access_denied", later(2001))
        .await
        .expect("refused"));
    let listed = repo.list_for(award.id).await.expect("list");
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[1].state, DeliveryState::Failed);
    assert_eq!(listed[1].sealed_verifier, None);
    assert_eq!(listed[1].last_error.as_deref(), Some("access_denied"));

    // Deliveries go with their award.
    store.assertions().delete(award.id).await.expect("delete");
    assert!(repo.list_for(award.id).await.expect("list").is_empty());
}

/// A platform for the backpack API, with a unique client id.
pub fn sample_platform() -> crate::platforms::Platform {
    let now = Timestamp::now();
    crate::platforms::Platform {
        id: PlatformId::generate(),
        name: "Campus LMS".to_owned(),
        description: None,
        client_id: unique("lms"),
        public_key: "-----BEGIN PUBLIC KEY-----\n...\n-----END PUBLIC KEY-----\n".to_owned(),
        webhook_url: Some("https://lms.example.edu/hook".to_owned()),
        status: crate::platforms::PlatformStatus::Active,
        created_at: now,
        updated_at: now,
    }
}

/// Platforms: a unique client id; a platform user is made once with their
/// learner account and found again after; an award added twice is one
/// entry (its metadata replaced); entries are the user's own, follow the
/// award, and go with the platform (the learner account stays).
pub async fn platforms_users_and_entries(store: Arc<dyn Store>) {
    use crate::platforms::{Added, EntryStatus, PlatformEntry, PlatformStatus, PlatformUser};
    let platforms = store.platforms();
    let mut platform = sample_platform();
    platforms.create(&platform).await.expect("create");
    let mut twin = sample_platform();
    twin.client_id.clone_from(&platform.client_id);
    match platforms.create(&twin).await {
        Err(DomainError::Duplicate { field, .. }) => assert_eq!(field, "clientId"),
        other => panic!("a taken client id: {other:?}"),
    }
    assert_eq!(platforms.get(platform.id).await.expect("get"), platform);
    assert_eq!(
        platforms
            .find_by_client_id(&platform.client_id)
            .await
            .expect("find"),
        Some(platform.clone())
    );
    assert_eq!(
        platforms.find_by_client_id("nobody").await.expect("find"),
        None
    );
    platform.status = PlatformStatus::Inactive;
    platform.webhook_url = None;
    platforms.update(&platform).await.expect("update");
    assert_eq!(platforms.get(platform.id).await.expect("get"), platform);
    assert!(platforms
        .list()
        .await
        .expect("list")
        .iter()
        .any(|p| p.id == platform.id));
    assert_not_found(
        platforms.update(&sample_platform()).await,
        "update of an unknown platform",
    );

    let visit = |external: &str, name: Option<&str>| PlatformUser {
        id: PlatformUserId::generate(),
        platform: platform.id,
        external_id: external.to_owned(),
        user: UserId::generate(),
        display_name: name.map(str::to_owned),
        email: None,
        created_at: Timestamp::now(),
        updated_at: Timestamp::now(),
    };
    let account = sample_user(Role::Learner);
    let first = platforms
        .enter(&visit("u-1", Some("Pat")), &account)
        .await
        .expect("enter");
    assert_eq!(first.user, account.id, "the account made for them");
    assert_eq!(
        store.users().get(account.id).await.expect("account").role,
        Role::Learner
    );
    let again = platforms
        .enter(&visit("u-1", Some("Pat P.")), &sample_user(Role::Learner))
        .await
        .expect("enter again");
    assert_eq!(
        (again.id, again.user),
        (first.id, first.user),
        "found, not made"
    );
    assert_eq!(again.display_name.as_deref(), Some("Pat P."));
    let other_account = sample_user(Role::Learner);
    let other = platforms
        .enter(&visit("u-2", None), &other_account)
        .await
        .expect("another user");
    assert_ne!(other.user, first.user);

    let (_, badge) = seed_badge_class(store.as_ref()).await;
    let mut award = sample_assertion(&badge, "pat@example.org");
    store.assertions().create(&award).await.expect("award");
    let mut held = sample_held(
        first.user,
        "https://issuer.example.org",
        &format!("urn:uuid:{}", award.id),
        Some("2024-05-01T12:00:00Z"),
    );
    held.source = HeldSource::Platform(platform.id.to_string());
    let entry = PlatformEntry {
        held: held.id,
        user: first.id,
        assertion: award.id,
        status: EntryStatus::Active,
        metadata: Some(r#"{"tags":["a"]}"#.to_owned()),
        added_at: Timestamp::now(),
    };
    let added = match platforms
        .add_entry(&first, &held, &entry)
        .await
        .expect("add")
    {
        Added::New(added) => added,
        other => panic!("a new entry: {other:?}"),
    };
    assert_eq!(added.held, held.id);
    let replaced = PlatformEntry {
        metadata: None,
        ..entry.clone()
    };
    let mut another_copy = held.clone();
    another_copy.id = HeldCredentialId::generate();
    match platforms
        .add_entry(&first, &another_copy, &replaced)
        .await
        .expect("add again")
    {
        Added::Again(again) => {
            assert_eq!(again.held, held.id);
            assert_eq!(again.metadata, None);
        }
        other => panic!("the same entry: {other:?}"),
    }
    let listed = platforms.entries(first.id).await.expect("entries");
    assert_eq!(listed.len(), 1);
    // The backpack reads the award's current credential, as for awards
    // linked by address.
    award.issued_credential = Some(IssuedCredential::new(&serde_json::json!({
        "id": format!("urn:uuid:{}", award.id), "issuer": {"id": "https://issuer.example.org"},
        "proof": {"proofValue": "re-issued"}
    })));
    store.assertions().update(&award).await.expect("re-issue");
    let read = store
        .backpack()
        .get(first.user, held.id)
        .await
        .expect("read");
    assert!(read.text.contains("re-issued"), "{}", read.text);
    assert_eq!(
        store
            .backpack()
            .get(first.user, held.id)
            .await
            .expect("held")
            .source,
        HeldSource::Platform(platform.id.to_string())
    );
    assert!(platforms
        .entries(other.id)
        .await
        .expect("theirs")
        .is_empty());
    assert_not_found(
        platforms.remove_entry(other.id, award.id).await,
        "another user's entry",
    );
    assert_not_found(
        platforms
            .set_entry_status(other.id, award.id, EntryStatus::Hidden)
            .await,
        "another user's entry",
    );
    let hidden = platforms
        .set_entry_status(first.id, award.id, EntryStatus::Hidden)
        .await
        .expect("hide");
    assert_eq!(hidden.status, EntryStatus::Hidden);
    platforms
        .remove_entry(first.id, award.id)
        .await
        .expect("remove");
    assert_not_found(store.backpack().get(first.user, held.id).await, "removed");
    assert_not_found(
        platforms.remove_entry(first.id, award.id).await,
        "removed twice",
    );

    // Added again, then the award goes: the entry and its credential too.
    platforms
        .add_entry(&first, &held, &entry)
        .await
        .expect("re-add");
    store
        .assertions()
        .delete(award.id)
        .await
        .expect("delete award");
    assert!(platforms
        .entries(first.id)
        .await
        .expect("entries")
        .is_empty());
    assert_not_found(
        store.backpack().get(first.user, held.id).await,
        "after the award",
    );

    // The platform goes: its users with it, their accounts stay.
    platforms.delete(platform.id).await.expect("delete");
    assert_not_found(platforms.get(platform.id).await, "deleted platform");
    assert_not_found(platforms.delete(platform.id).await, "deleted twice");
    store
        .users()
        .get(first.user)
        .await
        .expect("the account stays");
    match platforms
        .enter(&visit("u-1", None), &sample_user(Role::Learner))
        .await
    {
        Err(DomainError::MissingReference { entity, .. }) => assert_eq!(entity, "platform"),
        other => panic!("a deleted platform's user: {other:?}"),
    }
}

/// Generates one `#[tokio::test]` per contract check. `$make` is an
/// expression evaluating to a future of `Arc<dyn Store>`; it is evaluated
/// afresh for every test.
#[macro_export]
macro_rules! store_contract_tests {
    ($make:expr) => {
        $crate::store_contract_tests!(@tests $make;
            ping_answers, issuer_crud, issuer_pagination, badge_class_crud, assertion_crud,
            assertions_filter_by_owner, assertions_cursor_pagination, batch_is_atomic, delete_modes, user_crud, api_key_crud, concurrent_writers, signing_key_lifecycle,
            api_key_revocation_survives_use, user_updates_do_not_undo_each_other,
            password_change_and_demotion_both_survive,
            award_revocation_survives_edit, signing_key_revocation_survives_rotation,
            status_list_allocation, status_bit_reserves, status_list_creation, status_list_flags, key_ring_lifecycle,
            endorsement_round_trip_and_order, endorsement_revocation_is_first_wins,
            endorsements_go_with_what_they_endorse, asset_lifecycle, mail_outbox,
            learner_role_round_trip, backpack_upsert_by_equality, backpack_paging_and_since,
            backpack_owner_isolation, backpack_follows_awards_and_owners, backpack_profiles,
            learner_emails_verify_and_link, platforms_users_and_entries,
            oauth_lifecycle, oauth_code_redemption_is_single_use,
            oauth_refresh_rotation_is_single_use, deliveries_lifecycle);
    };
    (@tests $make:expr; $($check:ident),*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $check() {
                let store: std::sync::Arc<dyn $crate::ports::Store> = $make.await;
                $crate::testkit::$check(store).await;
            }
        )*
    };
}

/// The change feed that caches of rendered documents follow. A database
/// store reports, to a feed opened on its own connection, a change to
/// what is published made through the store (an award revoked, an issuer
/// edited, a new signing key), and does not report issuing an award or a
/// write that publishes nothing (a user). A store kept in memory has no
/// other process to hear from, and says so with `None`.
///
/// Not in [`store_contract_tests!`]: it checks that some writes are *not*
/// reported, so the store must have a database to itself, which those
/// tests may share. Call it with a store on a database of its own.
pub async fn change_feed_reports_what_is_published(store: Arc<dyn Store>) {
    use crate::service::{change_status, StatusChange};
    let opener = Arc::clone(&store);
    let opened = tokio::task::spawn_blocking(move || opener.open_change_feed())
        .await
        .expect("task")
        .expect("open the feed");
    let Some(feed) = opened else {
        assert_eq!(
            store.backend(),
            crate::operations::Backend::Memory,
            "a database store must report changes"
        );
        return;
    };
    let feed = Arc::new(std::sync::Mutex::new(feed));
    // Asks until the feed reports a change, for at most 10 s (PostgreSQL
    // delivers its notification shortly after the commit).
    let reported = |feed: &Arc<std::sync::Mutex<Box<dyn crate::ports::ChangeFeed>>>| {
        let feed = Arc::clone(feed);
        async move {
            tokio::task::spawn_blocking(move || {
                let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
                let mut feed = feed.lock().expect("feed");
                while std::time::Instant::now() < deadline {
                    if feed.changed().expect("changed") {
                        return true;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
                false
            })
            .await
            .expect("task")
        }
    };
    // Reports nothing for a while: three asks 50 ms apart.
    let quiet = |feed: &Arc<std::sync::Mutex<Box<dyn crate::ports::ChangeFeed>>>| {
        let feed = Arc::clone(feed);
        async move {
            tokio::task::spawn_blocking(move || {
                let mut feed = feed.lock().expect("feed");
                (0..3).all(|_| {
                    std::thread::sleep(std::time::Duration::from_millis(50));
                    !feed.changed().expect("changed")
                })
            })
            .await
            .expect("task")
        }
    };
    let (mut issuer, badge) = seed_badge_class(store.as_ref()).await;
    // Creating the issuer and the badge class published nothing served
    // before; whatever the feed says about them, start from quiet.
    let _ = quiet(&feed).await;
    assert!(quiet(&feed).await, "nothing happened, nothing reported");

    let award = sample_assertion(&badge, "feed@example.org");
    store.assertions().create(&award).await.expect("award");
    store
        .users()
        .create(&sample_user(Role::Viewer))
        .await
        .expect("user");
    assert!(
        quiet(&feed).await,
        "issuing an award or adding a user changes no published document"
    );

    let admin = crate::access::Principal::session(UserId::generate(), Role::Admin);
    change_status(store.as_ref(), &admin, award.id, StatusChange::Revoke(None))
        .await
        .expect("revoke");
    assert!(reported(&feed).await, "a revocation is reported");

    issuer.name = Name::parse("Renamed for the feed").expect("name");
    store.issuers().update(&issuer).await.expect("update");
    assert!(reported(&feed).await, "an issuer's edit is reported");

    store
        .signing_keys()
        .create(&sample_signing_key(issuer.id, KeyAlgorithm::Ed25519))
        .await
        .expect("key");
    assert!(reported(&feed).await, "a new signing key is reported");
    assert!(quiet(&feed).await, "each change is reported once");
}

/// A registered OAuth client whose secret is `secret`.
pub fn sample_oauth_client(secret: &str) -> crate::oauth::OAuthClient {
    crate::oauth::OAuthClient {
        id: OAuthClientId::generate(),
        secret_hash: crate::oauth::SecretHash::of(secret),
        name: unique("Wallet"),
        client_uri: "https://wallet.example/".to_owned(),
        logo_uri: "https://wallet.example/logo.png".to_owned(),
        tos_uri: "https://wallet.example/terms".to_owned(),
        policy_uri: "https://wallet.example/privacy".to_owned(),
        software_id: unique("software"),
        software_version: "1.0".to_owned(),
        redirect_uris: vec![
            "https://wallet.example/cb".to_owned(),
            "https://wallet.example/other".to_owned(),
        ],
        contacts: vec!["ops@wallet.example".to_owned()],
        scopes: crate::oauth::ScopeSet::all(),
        refresh_grant: true,
        created_at: ts("2026-12-01T10:00:00.123456Z"),
    }
}

/// An unredeemed code of `client` for `user`, issued at `at` for ten
/// minutes, whose secret is `secret`.
pub fn sample_code(
    client: &crate::oauth::OAuthClient,
    user: UserId,
    secret: &str,
    at: Timestamp,
) -> crate::oauth::AuthorizationCode {
    crate::oauth::AuthorizationCode {
        hash: crate::oauth::SecretHash::of(secret),
        client_id: client.id,
        user_id: user,
        redirect_uri: client.redirect_uris[0].clone(),
        scopes: client.scopes.clone(),
        code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".to_owned(),
        grant_id: GrantId::generate(),
        created_at: at,
        expires_at: Timestamp::from_datetime(at.as_datetime() + chrono::Duration::minutes(10)),
        redeemed_at: None,
    }
}

/// The grant a code's redemption makes, and a fresh access and refresh
/// token under it (their secrets are returned too).
pub fn sample_issue(
    code: &crate::oauth::AuthorizationCode,
    at: Timestamp,
) -> (crate::oauth::Grant, crate::oauth::TokenPair, String, String) {
    let grant = crate::oauth::Grant {
        id: code.grant_id,
        client_id: code.client_id,
        user_id: code.user_id,
        scopes: code.scopes.clone(),
        created_at: at,
        last_used_at: None,
        revoked_at: None,
    };
    let (pair, access, refresh) = sample_pair(grant.id, &grant.scopes, at);
    (grant, pair, access, refresh)
}

/// A fresh access and refresh token of `grant`, and their secrets.
pub fn sample_pair(
    grant: GrantId,
    scopes: &crate::oauth::ScopeSet,
    at: Timestamp,
) -> (crate::oauth::TokenPair, String, String) {
    use crate::oauth::{OAuthToken, SecretHash, TokenKind, TokenPair};
    let access = unique("access");
    let refresh = unique("refresh");
    let token = |secret: &str, kind, hours| OAuthToken {
        hash: SecretHash::of(secret),
        grant_id: grant,
        kind,
        scopes: scopes.clone(),
        created_at: at,
        expires_at: Timestamp::from_datetime(at.as_datetime() + chrono::Duration::hours(hours)),
        used_at: None,
        revoked_at: None,
    };
    let pair = TokenPair {
        access: token(&access, TokenKind::Access, 1),
        refresh: Some(token(&refresh, TokenKind::Refresh, 24 * 90)),
    };
    (pair, access, refresh)
}

/// Clients, codes, grants and tokens: round trips, single use of codes and
/// refresh tokens (a second use revokes the grant), revocation, the
/// learner's list, and the cascade from a deleted user.
pub async fn oauth_lifecycle(store: Arc<dyn Store>) {
    use crate::oauth::{Redemption, Rotation, SecretHash, TokenKind};
    let oauth = store.oauth();
    let user = sample_user(Role::Learner);
    store.users().create(&user).await.expect("user");
    let client = sample_oauth_client("client-secret");
    oauth.create_client(&client).await.expect("client");
    assert_eq!(
        oauth.client(client.id).await.expect("client read"),
        Some(client.clone()),
        "a client reads back as registered"
    );
    assert_eq!(
        oauth
            .client(OAuthClientId::generate())
            .await
            .expect("unknown"),
        None
    );

    let at = ts("2026-12-02T09:00:00.000001Z");
    let stranger = sample_code(&client, UserId::generate(), "nobody's", at);
    assert!(
        matches!(
            oauth.create_code(&stranger).await,
            Err(DomainError::MissingReference { entity: "user", .. })
        ),
        "a code of a user that does not exist"
    );
    let code_secret = unique("code");
    let code = sample_code(&client, user.id, &code_secret, at);
    oauth.create_code(&code).await.expect("code");
    assert_eq!(
        oauth
            .find_code(&SecretHash::of(&code_secret))
            .await
            .expect("find code"),
        Some(code.clone())
    );
    assert_eq!(
        oauth
            .find_code(&SecretHash::of("not a code"))
            .await
            .expect("no code"),
        None
    );

    let (grant, pair, access, refresh) = sample_issue(&code, at);
    assert_eq!(
        oauth
            .redeem_code(&code.hash, &grant, &pair, at)
            .await
            .expect("redeem"),
        Redemption::Issued
    );
    let redeemed = oauth
        .find_code(&code.hash)
        .await
        .expect("code again")
        .expect("kept");
    assert_eq!(redeemed.redeemed_at, Some(at));
    let (token, found_grant) = oauth
        .find_token(&SecretHash::of(&access))
        .await
        .expect("find access")
        .expect("access stored");
    assert_eq!(token, pair.access);
    assert_eq!(found_grant, grant);
    assert!(token.is_live(&found_grant, at));
    let listed = oauth.grants_of(user.id).await.expect("grants");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].grant, grant);
    assert_eq!(listed[0].client_name, client.name);

    // Recording use only moves forwards.
    let later = ts("2026-12-02T09:30:00Z");
    oauth.record_grant_use(grant.id, later).await.expect("use");
    oauth
        .record_grant_use(grant.id, at)
        .await
        .expect("older use");
    let (_, used) = oauth
        .find_token(&pair.access.hash)
        .await
        .expect("read")
        .expect("there");
    assert_eq!(used.last_used_at, Some(later));

    // Refresh rotation: the first exchange rotates, the old token is spent.
    let refresh_hash = SecretHash::of(&refresh);
    let (next, next_access, next_refresh) = sample_pair(grant.id, &grant.scopes, later);
    assert_eq!(
        oauth
            .rotate_refresh(&refresh_hash, &next, later)
            .await
            .expect("rotate"),
        Rotation::Rotated
    );
    let (spent, _) = oauth
        .find_token(&refresh_hash)
        .await
        .expect("read")
        .expect("kept");
    assert_eq!(spent.used_at, Some(later));
    let (fresh, _) = oauth
        .find_token(&SecretHash::of(&next_access))
        .await
        .expect("read")
        .expect("the new access token is stored");
    assert_eq!(fresh.kind, TokenKind::Access);
    assert!(
        oauth
            .rotate_refresh(&pair.access.hash, &next, later)
            .await
            .is_err(),
        "an access token is no refresh token"
    );

    // Revoking one access token leaves the grant.
    oauth
        .revoke_token(&SecretHash::of(&next_access), later)
        .await
        .expect("revoke token");
    oauth
        .revoke_token(&SecretHash::of("unknown"), later)
        .await
        .expect("revoking an unknown token is no error");
    let (revoked, grant_now) = oauth
        .find_token(&SecretHash::of(&next_access))
        .await
        .expect("read")
        .expect("kept");
    assert_eq!(revoked.revoked_at, Some(later));
    assert!(!revoked.is_live(&grant_now, later));
    assert_eq!(grant_now.revoked_at, None);

    // A spent refresh token presented again revokes the whole grant.
    let (again, _, _) = sample_pair(grant.id, &grant.scopes, later);
    assert_eq!(
        oauth
            .rotate_refresh(&refresh_hash, &again, later)
            .await
            .expect("reuse"),
        Rotation::Reused
    );
    assert!(
        oauth
            .find_token(&again.access.hash)
            .await
            .expect("read")
            .is_none(),
        "a reuse issues nothing"
    );
    let (_, revoked_grant) = oauth
        .find_token(&SecretHash::of(&next_refresh))
        .await
        .expect("read")
        .expect("kept");
    assert_eq!(revoked_grant.revoked_at, Some(later));
    assert_eq!(
        oauth
            .rotate_refresh(&SecretHash::of(&next_refresh), &again, later)
            .await
            .expect("revoked"),
        Rotation::Revoked,
        "the grant's other refresh token is dead too"
    );
    assert!(oauth.grants_of(user.id).await.expect("grants").is_empty());

    // A code used twice revokes what its first use issued.
    let second_secret = unique("code");
    let second = sample_code(&client, user.id, &second_secret, at);
    oauth.create_code(&second).await.expect("code");
    let (grant2, pair2, _, _) = sample_issue(&second, at);
    assert_eq!(
        oauth
            .redeem_code(&second.hash, &grant2, &pair2, at)
            .await
            .expect("redeem"),
        Redemption::Issued
    );
    let (grant3, pair3, _, _) = sample_issue(&second, later);
    assert_eq!(
        oauth
            .redeem_code(&second.hash, &grant3, &pair3, later)
            .await
            .expect("redeem twice"),
        Redemption::AlreadyUsed
    );
    let (_, after) = oauth
        .find_token(&pair2.access.hash)
        .await
        .expect("read")
        .expect("kept");
    assert_eq!(after.revoked_at, Some(later));
    assert!(
        oauth
            .find_token(&pair3.access.hash)
            .await
            .expect("read")
            .is_none(),
        "the second use issued nothing"
    );

    // The learner revokes a grant of theirs, not another's.
    let third = sample_code(&client, user.id, &unique("code"), at);
    oauth.create_code(&third).await.expect("code");
    let (grant4, pair4, _, _) = sample_issue(&third, at);
    oauth
        .redeem_code(&third.hash, &grant4, &pair4, at)
        .await
        .expect("redeem");
    assert!(matches!(
        oauth
            .revoke_grant(UserId::generate(), grant4.id, later)
            .await,
        Err(DomainError::NotFound { .. })
    ));
    assert_eq!(oauth.grants_of(user.id).await.expect("grants").len(), 1);
    oauth
        .revoke_grant(user.id, grant4.id, later)
        .await
        .expect("revoke grant");
    assert!(oauth.grants_of(user.id).await.expect("grants").is_empty());

    // Deleting the user deletes their codes, grants and tokens.
    store.users().delete(user.id).await.expect("delete user");
    assert!(oauth
        .find_token(&pair4.access.hash)
        .await
        .expect("read")
        .is_none());
    assert!(oauth.find_code(&third.hash).await.expect("read").is_none());
}

/// Of two redemptions of one code at the same moment exactly one issues
/// tokens, and the other revokes them: a code is single use under races.
pub async fn oauth_code_redemption_is_single_use(store: Arc<dyn Store>) {
    use crate::oauth::Redemption;
    let user = sample_user(Role::Learner);
    store.users().create(&user).await.expect("user");
    let client = sample_oauth_client("client-secret");
    store.oauth().create_client(&client).await.expect("client");
    let at = Timestamp::now();
    for round in 0..RACE_ROUNDS {
        let code = sample_code(&client, user.id, &unique("race"), at);
        store.oauth().create_code(&code).await.expect("code");
        let (grant_a, pair_a, _, _) = sample_issue(&code, at);
        let (grant_b, pair_b, _, _) = sample_issue(&code, at);
        let hashes = [pair_a.access.hash.clone(), pair_b.access.hash.clone()];
        let (sa, sb) = (Arc::clone(&store), Arc::clone(&store));
        let (ca, cb) = (code.hash.clone(), code.hash.clone());
        let (a, b) = together(
            async move { sa.oauth().redeem_code(&ca, &grant_a, &pair_a, at).await },
            async move { sb.oauth().redeem_code(&cb, &grant_b, &pair_b, at).await },
        )
        .await;
        let outcomes = [a.expect("first"), b.expect("second")];
        let winners: Vec<usize> = (0..2)
            .filter(|i| outcomes[*i] == Redemption::Issued)
            .collect();
        assert_eq!(winners.len(), 1, "round {round}: {outcomes:?}");
        let loser = 1 - winners[0];
        assert!(
            store
                .oauth()
                .find_token(&hashes[loser])
                .await
                .expect("read")
                .is_none(),
            "round {round}: the second redemption stored tokens"
        );
        let (_, grant) = store
            .oauth()
            .find_token(&hashes[winners[0]])
            .await
            .expect("read")
            .expect("the first redemption's token");
        assert!(
            grant.revoked_at.is_some(),
            "round {round}: the second use did not revoke what the first got"
        );
    }
}

/// Of two exchanges of one refresh token at the same moment exactly one
/// rotates; the other sees the token spent and revokes the grant.
pub async fn oauth_refresh_rotation_is_single_use(store: Arc<dyn Store>) {
    use crate::oauth::Rotation;
    let user = sample_user(Role::Learner);
    store.users().create(&user).await.expect("user");
    let client = sample_oauth_client("client-secret");
    store.oauth().create_client(&client).await.expect("client");
    let at = Timestamp::now();
    for round in 0..RACE_ROUNDS / 2 {
        let code = sample_code(&client, user.id, &unique("race"), at);
        store.oauth().create_code(&code).await.expect("code");
        let (grant, pair, _, refresh) = sample_issue(&code, at);
        store
            .oauth()
            .redeem_code(&code.hash, &grant, &pair, at)
            .await
            .expect("redeem");
        let (next_a, _, _) = sample_pair(grant.id, &grant.scopes, at);
        let (next_b, _, _) = sample_pair(grant.id, &grant.scopes, at);
        let hash = crate::oauth::SecretHash::of(&refresh);
        let (sa, sb) = (Arc::clone(&store), Arc::clone(&store));
        let (ha, hb) = (hash.clone(), hash);
        let (a, b) = together(
            async move { sa.oauth().rotate_refresh(&ha, &next_a, at).await },
            async move { sb.oauth().rotate_refresh(&hb, &next_b, at).await },
        )
        .await;
        let mut outcomes = [a.expect("first"), b.expect("second")];
        outcomes.sort_by_key(|o| matches!(o, Rotation::Reused));
        assert_eq!(
            outcomes,
            [Rotation::Rotated, Rotation::Reused],
            "round {round}"
        );
    }
}
