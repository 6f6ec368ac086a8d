//! Valid request bodies and reading ids out of documents.

use serde_json::{json, Value};

/// The UUID at the end of a document's `id` URL.
pub fn uuid_of(doc: &Value) -> String {
    let id = id_of(doc);
    let uuid = id.rsplit('/').next().unwrap_or_default();
    uuid::Uuid::parse_str(uuid).unwrap_or_else(|e| panic!("{id} does not end in a UUID: {e}"));
    uuid.to_owned()
}

/// A document's `id`.
pub fn id_of(doc: &Value) -> String {
    doc["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no string id in {doc}"))
        .to_owned()
}

/// A valid issuer body.
pub fn issuer_body(name: &str) -> Value {
    json!({
        "name": name,
        "url": "https://issuer.example.org",
        "email": "badges@issuer.example.org",
        "description": "Issues badges in the end-to-end tests",
        "image": "https://issuer.example.org/logo.png",
    })
}

/// A valid OB 2.0 badge class body for `issuer`.
pub fn achievement_body(issuer: &str, name: &str) -> Value {
    json!({
        "issuer": issuer,
        "name": name,
        "description": "Awarded in the end-to-end tests",
        "image": "https://issuer.example.org/badge.png",
        "criteria": {"narrative": "Pass the end-to-end tests"},
    })
}

/// A valid OB 2.0 assertion body: `badge` awarded to `email` (hashed by
/// default).
pub fn award_body(badge: &str, email: &str) -> Value {
    json!({
        "badge": badge,
        "recipient": {"type": "email", "identity": email},
        "issuedOn": "2024-05-01T12:00:00Z",
    })
}

/// An issuer body using every OB 3.0 Profile property this server keeps.
pub fn full_issuer_body() -> Value {
    json!({
        "name": "Université Ωmega",
        "url": "https://omega.example.edu",
        "email": "badges@omega.example.edu",
        "description": "Awards credits.",
        "image": {"id": "https://omega.example.edu/logo.png", "type": "Image"},
        "phone": "+33 1 23 45 67 89",
        "address": {
            "type": ["Address"], "addressCountry": "France", "addressCountryCode": "FR",
            "addressRegion": "Île-de-France", "addressLocality": "Paris",
            "streetAddress": "1 rue de l'École", "postOfficeBoxNumber": "42", "postalCode": "75005",
            "geo": {"type": "GeoCoordinates", "latitude": 48.8462, "longitude": 2.3447}
        },
        "official": "Prof. Marie Curie",
        "parentOrg": {"id": "https://parent.example.edu", "type": ["Profile"], "name": "Parent University",
                      "url": "https://parent.example.edu", "email": "info@parent.example.edu",
                      "phone": "+33 1 00 00 00 00", "description": "The parent."},
        "otherIdentifier": [{"type": "IdentifierEntry", "identifier": "FR-0751234A", "identifierType": "ext:UAI"},
                            {"type": "IdentifierEntry", "identifier": "omega", "identifierType": "name"}],
        "familyName": "Curie", "givenName": "Marie", "additionalName": "Salomea",
        "patronymicName": "Władysławówna", "honorificPrefix": "Prof.", "honorificSuffix": "PhD",
        "familyNamePrefix": "de", "dateOfBirth": "1867-11-07"
    })
}

/// An achievement body of `issuer` (a UUID) using every OB 3.0
/// Achievement property this server keeps.
pub fn full_achievement_body(issuer: &str) -> Value {
    json!({
        "issuer": format!("urn:uuid:{issuer}"),
        "name": "Quantum Mechanics I",
        "description": "Introductory quantum mechanics.",
        "image": {"id": "https://omega.example.edu/qm.png", "type": "Image"},
        "criteria": {"id": "https://omega.example.edu/qm/criteria", "narrative": "Pass the *exam*."},
        "achievementType": "Course",
        "alignment": [
            {"type": ["Alignment"], "targetName": "Physics", "targetUrl": "https://esco.example.org/physics"},
            {"type": ["Alignment"], "targetName": "Quantum", "targetUrl": "https://case.example.org/q",
             "targetDescription": "Quantum theory", "targetFramework": "CASE", "targetCode": "Q-1",
             "targetType": "CFItem"}
        ],
        "tag": ["physics", "quantum"],
        "version": "2026",
        "creditsAvailable": 7.5,
        "fieldOfStudy": "Physics",
        "humanCode": "PHY-301",
        "inLanguage": "fr-FR",
        "otherIdentifier": [{"type": "IdentifierEntry", "identifier": "PHY301", "identifierType": "sisSourcedId"}],
        "related": [{"id": "https://other.example.edu/achievements/qm-en", "type": ["Related"],
                     "inLanguage": "en", "version": "2026"}],
        "resultDescription": [
            {"id": "urn:uuid:4a0c8a40-55a6-4bb5-8a2d-ea1e2b5c0001", "type": ["ResultDescription"],
             "name": "Final grade", "resultType": "LetterGrade", "allowedValue": ["A", "B", "C", "D", "F"],
             "requiredValue": "C", "valueMax": "A", "valueMin": "F",
             "alignment": [{"type": ["Alignment"], "targetName": "Grading", "targetUrl": "https://omega.example.edu/grading"}]},
            {"id": "urn:uuid:4a0c8a40-55a6-4bb5-8a2d-ea1e2b5c0002", "type": ["ResultDescription"],
             "name": "Lab work", "resultType": "RubricCriterionLevel",
             "requiredLevel": "urn:uuid:4a0c8a40-55a6-4bb5-8a2d-ea1e2b5c0011",
             "rubricCriterionLevel": [
                {"id": "urn:uuid:4a0c8a40-55a6-4bb5-8a2d-ea1e2b5c0011", "type": ["RubricCriterionLevel"],
                 "name": "Proficient", "level": "2", "points": "20", "description": "Does it alone."},
                {"id": "urn:uuid:4a0c8a40-55a6-4bb5-8a2d-ea1e2b5c0012", "type": ["RubricCriterionLevel"],
                 "name": "Mastery", "level": "3", "points": "30",
                 "alignment": [{"type": ["Alignment"], "targetName": "Lab", "targetUrl": "https://omega.example.edu/lab"}]}
             ]}
        ],
        "specialization": "Quantum physics"
    })
}

/// A credential body awarding `badge_url` using every OB 3.0 credential
/// and AchievementSubject property this server keeps.
pub fn full_credential_body(badge_url: &str) -> Value {
    json!({
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": "Quantum Mechanics I: Marie's transcript entry",
        "description": "Passed with distinction.",
        "image": {"id": "https://omega.example.edu/qm-award.png", "type": "Image"},
        "awardedDate": "2026-06-30T12:00:00Z",
        "validFrom": "2026-07-01T00:00:00Z",
        "validUntil": "2031-07-01T00:00:00Z",
        "evidence": [{"id": "https://portfolio.example.org/qm/lab", "type": ["Evidence"],
                      "narrative": "Lab report", "name": "Lab", "description": "Double slit",
                      "genre": "Report", "audience": "Examiners"}],
        "termsOfUse": [{"id": "https://omega.example.edu/terms", "type": "https://www.w3.org/2018/credentials#TrustFrameworkPolicy"}],
        "credentialSchema": [{"id": "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json",
                              "type": "1EdTechJsonSchemaValidator2019"}],
        "credentialSubject": {
            "id": "did:example:marie",
            "type": ["AchievementSubject"],
            "achievement": {"id": badge_url},
            "narrative": "Excellent lab work.",
            "result": [
                {"type": ["Result"], "resultDescription": "urn:uuid:4a0c8a40-55a6-4bb5-8a2d-ea1e2b5c0001",
                 "value": "A", "status": "Completed"},
                {"type": ["Result"], "resultDescription": "urn:uuid:4a0c8a40-55a6-4bb5-8a2d-ea1e2b5c0002",
                 "achievedLevel": "urn:uuid:4a0c8a40-55a6-4bb5-8a2d-ea1e2b5c0012",
                 "alignment": [{"type": ["Alignment"], "targetName": "Lab", "targetUrl": "https://omega.example.edu/lab"}]}
            ],
            "creditsEarned": 7.5,
            "activityStartDate": "2026-02-01T08:00:00Z",
            "activityEndDate": "2026-06-15T18:00:00Z",
            "licenseNumber": "QM-2026-0042",
            "role": "Student",
            "source": {"id": "https://lab.example.edu", "type": ["Profile"], "name": "Physics Lab"},
            "term": "Spring 2026",
            "image": {"id": "https://omega.example.edu/marie.png", "type": "Image", "caption": "Marie"}
        }
    })
}
