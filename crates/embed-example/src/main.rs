//! The Open Badges domain embedded in a program of its own: no server, no
//! HTTP. It creates an issuer and an achievement, awards a credential,
//! finds it in a list, renders its OB 3.0 document and revokes it, once
//! with the in-memory store and once with SQLite in a temporary file, and
//! checks every answer on the way: it exits with an error at the first one
//! that is not what the domain promises.
//!
//! `docs/embedding.md` walks through the same steps. Run it with
//! `cargo run -p openbadges-embed-example`.

use std::error::Error;

use openbadges_diesel_sqlite::{SqliteOptions, SqliteStore};
use openbadges_domain::access::{Credential, Principal};
use openbadges_domain::documents::{ob3, Urls};
use openbadges_domain::ports::{AssertionFilter, Store};
use openbadges_domain::service::{
    self, AssertionDraft, BadgeClassDraft, IssuerDraft, Proofs, StatusChange,
};
use openbadges_domain::{
    Criteria, DomainError, HttpUrl, Name, PageRequest, Recipient, RecipientKind, Role,
    StatusPurpose, Text,
};
use openbadges_memory_store::MemoryStore;

/// Anything that stops the walk: a refused value, a store error, or an
/// answer that is not the expected one.
type Outcome<T = ()> = Result<T, Box<dyn Error>>;

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
    // Where the documents would be served; only used to name them.
    let urls = Urls::new("https://badges.example.org")?;

    let memory = MemoryStore::new();
    runtime.block_on(issue_and_revoke(&memory, &urls, None))?;
    println!("in memory: issued, listed and revoked a credential");

    // Opening and migrating are blocking calls, made before any async work.
    let dir = tempfile::tempdir()?;
    let sqlite = SqliteStore::open(&SqliteOptions::new(dir.path().join("badges.sqlite")))?;
    sqlite.migrate()?;
    runtime.block_on(issue_and_revoke(&sqlite, &urls, None))?;
    // The pool closes its connections before the directory goes.
    drop(sqlite);
    dir.close()?;
    println!("in SQLite: issued, listed and revoked a credential");
    Ok(())
}

/// The whole walk on one store. `proofs` is how issued credentials are
/// signed; `None` issues them unsigned.
async fn issue_and_revoke(store: &dyn Store, urls: &Urls, proofs: Option<Proofs<'_>>) -> Outcome {
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
        },
    )
    .await?;

    let recipient = Recipient::plain(RecipientKind::Email, "ada@example.org")?;
    let award = service::issue(
        store,
        &actor,
        proofs,
        AssertionDraft {
            badge_class_id: badge.id,
            recipient: recipient.clone(),
            issued_on: None,
            expires: None,
            evidence: Vec::new(),
            narrative: None,
            image: None,
        },
    )
    .await?;
    let slot = award
        .status_slot
        .ok_or("an issued credential has a bit in a status list")?;
    check(award.issuer_id == issuer.id, "the award names its issuer")?;

    // The OB 3.0 credential as served (unsigned here), pointing at its bit.
    let document = ob3::credential(&award, &badge, &issuer, urls);
    check(
        document["type"] == serde_json::json!(["VerifiableCredential", "OpenBadgeCredential"]),
        "the document is an OpenBadgeCredential",
    )?;
    check(
        document["credentialStatus"]["statusListIndex"]
            == serde_json::json!(slot.index.to_string()),
        "the document points at the award's status bit",
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
    Ok(())
}

/// `Ok` if `holds`, else an error naming the promise that was broken.
fn check(holds: bool, promise: &str) -> Outcome {
    if holds {
        Ok(())
    } else {
        Err(format!("not so: {promise}").into())
    }
}
