//! The Open Badges domain embedded in a program of its own: no server, no
//! HTTP. It creates an issuer and an achievement, issues a signed
//! credential, verifies it, finds it in a list, revokes it and verifies it
//! again, once with the in-memory store and once with SQLite in a
//! temporary file, and checks every answer on the way: it exits with an
//! error at the first one that is not what the domain promises.
//!
//! `docs/embedding.md` walks through the same steps. Run it with
//! `cargo run -p openbadges-embed-example`.

use std::error::Error;
use std::sync::Arc;

use openbadges_credentials::KeyVault;
use openbadges_diesel_sqlite::{SqliteOptions, SqliteStore};
use openbadges_domain::access::{Credential, Principal};
use openbadges_domain::documents::Urls;
use openbadges_domain::ports::{AssertionFilter, Store};
use openbadges_domain::service::{
    self, AssertionDraft, BadgeClassDraft, IssuerDraft, Proofs, StatusChange,
};
use openbadges_domain::{
    Criteria, DomainError, HttpUrl, Name, PageRequest, Recipient, RecipientKind, Role,
    StatusPurpose, Text,
};
use openbadges_memory_store::MemoryStore;
use openbadges_signing::{JwtAlgorithm, Signing};
use openbadges_verify::{Report, Verifier};
use serde_json::json;

/// Anything that stops the walk: a refused value, a store error, or an
/// answer that is not the expected one.
type Outcome<T = ()> = Result<T, Box<dyn Error>>;

/// Seals the issuers' private keys in the store. A real service reads its
/// own 32 random bytes from where it keeps secrets; whoever has them can
/// open every issuer's key.
const KEY_ENCRYPTION_KEY: [u8; 32] = *b"embedding example, not a secret!";

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("embedding example failed: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> Outcome {
    let runtime = tokio::runtime::Builder::new_current_thread().build()?;
    // Where the documents would be served: the issuers' did:web and the
    // credentials' ids are under it.
    let urls = Urls::new("https://badges.example.org")?;

    runtime.block_on(issue_verify_revoke(Arc::new(MemoryStore::new()), &urls))?;
    println!("in memory: issued, verified, listed, revoked and verified again a credential");

    // Opening and migrating are blocking calls, made before any async work.
    let dir = tempfile::tempdir()?;
    let sqlite = SqliteStore::open(&SqliteOptions::new(dir.path().join("badges.sqlite")))?;
    sqlite.migrate()?;
    // The walk drops the store (and the pool closes its connections)
    // before the directory goes.
    runtime.block_on(issue_verify_revoke(Arc::new(sqlite), &urls))?;
    dir.close()?;
    println!("in SQLite: issued, verified, listed, revoked and verified again a credential");
    Ok(())
}

/// The whole walk on one store. The signer keeps the store to find and
/// make the issuers' keys in it, hence the `Arc`.
async fn issue_verify_revoke(store: Arc<dyn Store>, urls: &Urls) -> Outcome {
    let signing = Signing::new(
        Arc::clone(&store),
        KeyVault::new(&KEY_ENCRYPTION_KEY),
        urls.clone(),
    )?;
    let store = store.as_ref();
    // The verifier checks Data Integrity proofs with the signer's engine:
    // the JSON-LD contexts are loaded once for both.
    let verifier = Verifier::new(store, urls, signing.integrity());

    // The embedding service acts for itself, not for a signed-in user: an
    // administrator that no user account stands behind.
    let actor = Principal {
        user_id: None,
        role: Role::Admin,
        permissions: Principal::role_permissions(Role::Admin),
        issuer_scope: None,
        credential: Credential::ConfiguredKey,
    };

    let issuer = service::create_issuer(
        store,
        &actor,
        IssuerDraft {
            name: Name::parse("Example University")?,
            url: HttpUrl::parse("https://university.example.org")?,
            email: None,
            description: None,
            image: None,
            details: Default::default(),
        },
    )
    .await?;

    let badge = service::create_badge_class(
        store,
        &actor,
        BadgeClassDraft {
            issuer_id: issuer.id,
            name: Name::parse("Rust Basics")?,
            description: Text::parse("Knows ownership, borrowing and traits.")?,
            image: None,
            criteria: Criteria::new(None, Some(Text::parse("Pass the exam.")?))?,
            tags: Vec::new(),
            alignments: Vec::new(),
            version: None,
            achievement_type: None,
            details: Default::default(),
            notify_recipients: false,
        },
    )
    .await?;

    // Issued as the server issues: the issuer's key (made now, on first
    // use), a status bit, the proof, then the award stored with it.
    let recipient = Recipient::plain(RecipientKind::Email, "ada@example.org")?;
    let proofs = Proofs {
        signer: &signing,
        urls,
    };
    let award = service::issue(
        store,
        &actor,
        Some(proofs),
        AssertionDraft {
            badge_class_id: badge.id,
            recipient: recipient.clone(),
            issued_on: None,
            expires: None,
            evidence: Vec::new(),
            narrative: None,
            image: None,
            details: Default::default(),
            named_issuer: None,
        },
    )
    .await?;
    let slot = award
        .status_slot
        .ok_or("an issued credential has a bit in a status list")?;
    check(award.issuer_id == issuer.id, "the award names its issuer")?;

    // The OB 3.0 credential as served, with its proof, pointing at its bit.
    let document = award
        .issued_credential
        .as_ref()
        .ok_or("a credential issued with a signer has a proof")?
        .document()?;
    check(
        document["type"] == json!(["VerifiableCredential", "OpenBadgeCredential"]),
        "the document is an OpenBadgeCredential",
    )?;
    check(
        document["proof"]["cryptosuite"] == json!("eddsa-rdfc-2022"),
        "the proof is an eddsa-rdfc-2022 Data Integrity proof",
    )?;
    check(
        document["credentialStatus"]["statusListIndex"] == json!(slot.index.to_string()),
        "the document points at the award's status bit",
    )?;
    let jwt = signing
        .jwt(issuer.id, &document, JwtAlgorithm::EdDsa)
        .await?;

    // Verified as a verifier would: the stored award, the document as
    // handed to someone, and the same credential as a VC-JWT.
    expect(
        verifier.verify_stored(award.id).await?,
        None,
        "the stored credential verifies",
    )?;
    expect(
        verifier.verify_json(&document).await?,
        None,
        "the credential document verifies",
    )?;
    expect(
        verifier.verify_token(&jwt).await?,
        None,
        "the credential as a VC-JWT verifies",
    )?;
    let mut tampered = document.clone();
    tampered["credentialSubject"]["achievement"]["name"] = json!("Rust Mastery");
    expect(
        verifier.verify_json(&tampered).await?,
        Some("INVALID_SIGNATURE"),
        "a copy with another achievement name fails its signature",
    )?;

    // The recipient's credentials: exactly this one.
    let filter = AssertionFilter {
        recipient_key: Some(recipient.lookup_key().to_owned()),
        ..AssertionFilter::default()
    };
    let listed =
        service::list_credentials(store, &actor, filter.clone(), PageRequest::default()).await?;
    check(listed.total == 1, "the recipient has one credential")?;
    check(
        listed.items.first().map(|found| found.id) == Some(award.id),
        "the listed credential is the one issued",
    )?;

    let reason = Text::parse("Awarded by mistake.")?;
    let revoked =
        service::change_status(store, &actor, award.id, StatusChange::Revoke(Some(reason))).await?;
    check(revoked.status.is_revoked(), "the answer is revoked")?;
    check(
        store.assertions().get(award.id).await?.status.is_revoked(),
        "the stored credential is revoked",
    )?;
    check(
        store
            .status_lists()
            .flagged(slot.list_id, StatusPurpose::Revocation)
            .await?
            == [slot.index],
        "its bit is set in the revocation list, and only its bit",
    )?;
    let again = service::change_status(store, &actor, award.id, StatusChange::Revoke(None)).await;
    check(
        matches!(again, Err(DomainError::Conflict(_))),
        "revoking twice is refused",
    )?;

    // Revocation reaches every form: the proof still holds, the status
    // does not.
    expect(
        verifier.verify_stored(award.id).await?,
        Some("REVOKED"),
        "the stored credential is reported revoked",
    )?;
    expect(
        verifier.verify_json(&document).await?,
        Some("REVOKED"),
        "the credential document is reported revoked",
    )?;
    expect(
        verifier.verify_token(&jwt).await?,
        Some("REVOKED"),
        "the VC-JWT is reported revoked",
    )?;
    Ok(())
}

/// `Ok` if the report's first failure is `error_code` (`None`: valid),
/// else an error naming the promise and what the verifier found.
fn expect(report: Report, error_code: Option<&str>, promise: &str) -> Outcome {
    if report.error_code == error_code {
        Ok(())
    } else {
        Err(format!(
            "not so: {promise}; the verifier answered {}",
            report.to_json()
        )
        .into())
    }
}

/// `Ok` if `holds`, else an error naming the promise that was broken.
fn check(holds: bool, promise: &str) -> Outcome {
    if holds {
        Ok(())
    } else {
        Err(format!("not so: {promise}").into())
    }
}
