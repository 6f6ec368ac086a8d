//! Learners' e-mail addresses, and linking awards to verified ones: at
//! verification (every stored award to the address) and in the
//! transaction of each new award.

use async_trait::async_trait;
use diesel::prelude::*;
use openbadges_domain::learners::{
    held_award, linkable, recipient_keys, salted_match, Claimed, LearnerEmail,
    LearnerEmailRepository, Linkable, PendingVerification, VerificationMail,
};
use openbadges_domain::mail::OutboxMessage;
use openbadges_domain::ports::RepoResult;
use openbadges_domain::{
    Assertion, DomainError, Email, HeldCredential, LearnerEmailId, Timestamp, UserId,
};

use super::backpack::hold_unless_held;
use super::outbox::OutboxRow;
use super::{not_found, require_user};
use crate::errors::Failure;
use crate::pool::Database;
use crate::rows::{
    decode, decode_credential, decode_id, decode_optional_timestamp, decode_timestamp,
    encode_timestamp,
};
use crate::schema::{assertions, learner_emails, mail_outbox};

/// The columns of an address a learner sees.
type EmailColumns = (String, String, String, Option<String>, String);

const EMAIL_COLUMNS: (
    learner_emails::id,
    learner_emails::user_id,
    learner_emails::email,
    learner_emails::verified_at,
    learner_emails::created_at,
) = (
    learner_emails::id,
    learner_emails::user_id,
    learner_emails::email,
    learner_emails::verified_at,
    learner_emails::created_at,
);

fn decode_email(row: EmailColumns) -> Result<LearnerEmail, DomainError> {
    let (id, user_id, email, verified_at, created_at) = row;
    Ok(LearnerEmail {
        id: decode_id("learner_emails.id", &id)?,
        user_id: decode_id("learner_emails.user_id", &user_id)?,
        email: decode("learner_emails.email", Email::parse(email))?,
        verified_at: decode_optional_timestamp(
            "learner_emails.verified_at",
            verified_at.as_deref(),
        )?,
        created_at: decode_timestamp("learner_emails.created_at", &created_at)?,
    })
}

fn taken_verified() -> Failure {
    DomainError::Duplicate {
        entity: "verified e-mail address",
        field: "email",
    }
    .into()
}

/// Links `award`, just stored, to the learner who verified its
/// recipient's address, if any. Runs in the award's transaction.
pub(crate) fn link_award(
    conn: &mut SqliteConnection,
    award: &Assertion,
    now: Timestamp,
) -> Result<(), Failure> {
    let (Some(how), Some(issued)) = (linkable(award), award.issued_credential.as_ref()) else {
        return Ok(());
    };
    let verified = learner_emails::table.filter(learner_emails::verified_at.is_not_null());
    let owner: Option<String> = match &how {
        // One lookup on the partial index of verified keys.
        Linkable::Key(key) => verified
            .filter(learner_emails::lookup_key.eq(key))
            .select(learner_emails::user_id)
            .first(conn)
            .optional()?,
        // A client-salted hash: every verified address hashed with the
        // salt (see docs/learners.md for the cost).
        Linkable::Salted { hash, salt } => verified
            .select((learner_emails::user_id, learner_emails::email))
            .load::<(String, String)>(conn)?
            .into_iter()
            .find(|(_, email)| {
                Email::parse(email.clone()).is_ok_and(|e| salted_match(&e, hash, salt))
            })
            .map(|(user, _)| user),
    };
    if let Some(owner) = owner {
        let owner: UserId = decode_id("learner_emails.user_id", &owner)?;
        hold_unless_held(
            conn,
            &held_award(owner, award.id, issued, award.issued_on, now)?,
        )?;
    }
    Ok(())
}

/// Links every stored award to `email` into its learner's backpack;
/// answers how many were new there.
fn link_awards_to(
    conn: &mut SqliteConnection,
    email: &LearnerEmail,
    now: Timestamp,
) -> Result<u64, Failure> {
    // The salts of awards whose client hashed the address itself (their
    // lookup key is the salted hash): a scan of the e-mail awards.
    let salts: Vec<String> = assertions::table
        .filter(assertions::recipient_type.eq("email"))
        .filter(assertions::recipient_hashed.eq(true))
        .filter(assertions::recipient_key.eq(assertions::recipient_identity))
        .filter(assertions::recipient_salt.is_not_null())
        .select(assertions::recipient_salt.assume_not_null())
        .distinct()
        .load(conn)?;
    let keys = recipient_keys(&email.email, &salts);
    let awards: Vec<(String, Vec<u8>, String)> = assertions::table
        .filter(assertions::recipient_key.eq_any(&keys))
        .filter(assertions::recipient_type.eq("email"))
        .filter(assertions::issued_credential.is_not_null())
        .select((
            assertions::id,
            assertions::issued_credential.assume_not_null(),
            assertions::issued_on,
        ))
        .load(conn)?;
    let mut linked = 0;
    for (id, issued, issued_on) in awards {
        let issued = decode_credential(&issued)?;
        let held: HeldCredential = held_award(
            email.user_id,
            decode_id("assertions.id", &id)?,
            &issued,
            decode_timestamp("assertions.issued_on", &issued_on)?,
            now,
        )?;
        linked += u64::from(hold_unless_held(conn, &held)?);
    }
    Ok(linked)
}

/// [`LearnerEmailRepository`] on SQLite.
pub(crate) struct LearnerEmails {
    db: Database,
}

impl LearnerEmails {
    pub(crate) fn new(db: Database) -> Self {
        Self { db }
    }
}

#[async_trait]
impl LearnerEmailRepository for LearnerEmails {
    async fn claim(
        &self,
        email: &LearnerEmail,
        pending: &PendingVerification,
        mail: &VerificationMail,
    ) -> RepoResult<Claimed> {
        let email = email.clone();
        let pending = pending.clone();
        let mail = mail.clone();
        self.db
            .write(move |conn| {
                require_user(conn, email.user_id)?;
                let verified: i64 = learner_emails::table
                    .filter(learner_emails::email.eq(email.email.as_str()))
                    .filter(learner_emails::verified_at.is_not_null())
                    .count()
                    .get_result(conn)?;
                if verified > 0 {
                    return Err(taken_verified());
                }
                let token = (
                    learner_emails::token_hash.eq(&pending.token_hash),
                    learner_emails::token_nonce.eq(&pending.nonce),
                    learner_emails::token_expires_at.eq(encode_timestamp(pending.expires_at)),
                );
                let existing = learner_emails::table
                    .filter(learner_emails::user_id.eq(email.user_id.to_string()))
                    .filter(learner_emails::email.eq(email.email.as_str()))
                    .select(EMAIL_COLUMNS)
                    .first::<EmailColumns>(conn)
                    .optional()?;
                let claimed = match existing {
                    Some(row) => {
                        let stored = decode_email(row)?;
                        diesel::update(learner_emails::table.find(stored.id.to_string()))
                            .set(token)
                            .execute(conn)?;
                        Claimed::Renewed(stored)
                    }
                    None => {
                        diesel::insert_into(learner_emails::table)
                            .values((
                                learner_emails::id.eq(email.id.to_string()),
                                learner_emails::user_id.eq(email.user_id.to_string()),
                                learner_emails::email.eq(email.email.as_str()),
                                learner_emails::lookup_key.eq(email.lookup_key()),
                                learner_emails::created_at.eq(encode_timestamp(email.created_at)),
                                token,
                            ))
                            .execute(conn)?;
                        Claimed::New(email.clone())
                    }
                };
                let stored_id = match &claimed {
                    Claimed::New(e) | Claimed::Renewed(e) => e.id,
                };
                let mail = VerificationMail {
                    email: stored_id,
                    ..mail
                };
                diesel::insert_into(mail_outbox::table)
                    .values(OutboxRow::of(&OutboxMessage::queued_verification(&mail)))
                    .execute(conn)?;
                Ok(claimed)
            })
            .await
    }

    async fn list(&self, user: UserId) -> RepoResult<Vec<LearnerEmail>> {
        self.db
            .run(move |conn| {
                learner_emails::table
                    .filter(learner_emails::user_id.eq(user.to_string()))
                    .order((learner_emails::created_at.asc(), learner_emails::id.asc()))
                    .select(EMAIL_COLUMNS)
                    .load::<EmailColumns>(conn)?
                    .into_iter()
                    .map(|row| decode_email(row).map_err(Failure::from))
                    .collect()
            })
            .await
    }

    async fn get(&self, user: UserId, id: LearnerEmailId) -> RepoResult<LearnerEmail> {
        self.db
            .run(move |conn| {
                let row = learner_emails::table
                    .find(id.to_string())
                    .filter(learner_emails::user_id.eq(user.to_string()))
                    .select(EMAIL_COLUMNS)
                    .first::<EmailColumns>(conn)
                    .optional()?
                    .ok_or_else(|| not_found("e-mail address", id))?;
                Ok(decode_email(row)?)
            })
            .await
    }

    async fn remove(&self, user: UserId, id: LearnerEmailId) -> RepoResult<()> {
        self.db
            .write(move |conn| {
                let removed = diesel::delete(
                    learner_emails::table
                        .find(id.to_string())
                        .filter(learner_emails::user_id.eq(user.to_string())),
                )
                .execute(conn)?;
                if removed == 0 {
                    return Err(not_found("e-mail address", id));
                }
                Ok(())
            })
            .await
    }

    async fn verify(&self, token_hash: &str, now: Timestamp) -> RepoResult<(LearnerEmail, u64)> {
        let token_hash = token_hash.to_owned();
        self.db
            .write(move |conn| {
                let found = learner_emails::table
                    .filter(learner_emails::token_hash.eq(&token_hash))
                    .select((EMAIL_COLUMNS, learner_emails::token_expires_at))
                    .first::<(EmailColumns, Option<String>)>(conn)
                    .optional()?;
                let Some((row, Some(expires_at))) = found else {
                    return Err(not_found("verification token", "given"));
                };
                let mut email = decode_email(row)?;
                if decode_timestamp("learner_emails.token_expires_at", &expires_at)? <= now {
                    return Err(DomainError::invalid(
                        "token",
                        "has expired: add the address again for a new e-mail",
                    )
                    .into());
                }
                let verified: i64 = learner_emails::table
                    .filter(learner_emails::email.eq(email.email.as_str()))
                    .filter(learner_emails::verified_at.is_not_null())
                    .count()
                    .get_result(conn)?;
                if verified > 0 {
                    return Err(taken_verified());
                }
                diesel::update(learner_emails::table.find(email.id.to_string()))
                    .set((
                        learner_emails::verified_at.eq(Some(encode_timestamp(now))),
                        learner_emails::token_hash.eq(None::<String>),
                        learner_emails::token_nonce.eq(None::<String>),
                        learner_emails::token_expires_at.eq(None::<String>),
                    ))
                    .execute(conn)?;
                email.verified_at = Some(now);
                let linked = link_awards_to(conn, &email, now)?;
                Ok((email, linked))
            })
            .await
    }

    async fn pending_nonce(&self, id: LearnerEmailId) -> RepoResult<Option<String>> {
        self.db
            .run(move |conn| {
                Ok(learner_emails::table
                    .find(id.to_string())
                    .select(learner_emails::token_nonce)
                    .first::<Option<String>>(conn)
                    .optional()?
                    .flatten())
            })
            .await
    }
}
