//! Learners' e-mail addresses on PostgreSQL, and linking awards to
//! verified ones: at verification (every stored award to the address) and
//! in the transaction of each new award.

use std::collections::HashMap;

use async_trait::async_trait;
use diesel::prelude::*;
use openbadges_domain::learners::{
    held_award, linkable, recipient_keys, salted_match, Claimed, LearnerEmail,
    LearnerEmailRepository, Linkable, PendingVerification, VerificationMail,
};
use openbadges_domain::mail::OutboxMessage;
use openbadges_domain::ports::RepoResult;
use openbadges_domain::{Assertion, DomainError, Email, LearnerEmailId, Timestamp, UserId};
use uuid::Uuid;

use super::backpack::hold_unless_held;
use super::outbox::OutboxRow;
use super::{blocking, in_transaction, not_found};
use crate::errors::Failure;
use crate::pool::PgPool;
use crate::rows::{decode_credential, parse, restamp, stamp, Stamp};
use crate::schema::{assertions, learner_emails, mail_outbox, users};

/// The columns of an address a learner sees.
type EmailColumns = (Uuid, Uuid, String, Option<Stamp>, Stamp);

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
        id: id.into(),
        user_id: user_id.into(),
        email: parse("learner_emails.email", email, Email::parse)?,
        verified_at: verified_at.map(restamp),
        created_at: restamp(created_at),
    })
}

fn taken_verified() -> Failure {
    DomainError::Duplicate {
        entity: "verified e-mail address",
        field: "email",
    }
    .into()
}

/// Links `awards`, just stored, to the learners who verified their
/// recipients' addresses, if any. Runs in the awards' transaction: one
/// lookup for the whole chunk by unsalted key, and for each award to a
/// client-salted hash, every verified address hashed with its salt (see
/// docs/learners.md for the cost).
pub(crate) fn link_awards(
    conn: &mut PgConnection,
    awards: &[Assertion],
    now: Timestamp,
) -> Result<(), Failure> {
    let linkables: Vec<(&Assertion, Linkable)> = awards
        .iter()
        .filter_map(|award| linkable(award).map(|how| (award, how)))
        .collect();
    if linkables.is_empty() {
        return Ok(());
    }
    let keys: Vec<&str> = linkables
        .iter()
        .filter_map(|(_, how)| match how {
            Linkable::Key(key) => Some(key.as_str()),
            Linkable::Salted { .. } => None,
        })
        .collect();
    let verified = learner_emails::table.filter(learner_emails::verified_at.is_not_null());
    let owners: HashMap<String, Uuid> = if keys.is_empty() {
        HashMap::new()
    } else {
        verified
            .filter(learner_emails::lookup_key.eq_any(&keys))
            .select((learner_emails::lookup_key, learner_emails::user_id))
            .load::<(String, Uuid)>(conn)?
            .into_iter()
            .collect()
    };
    let mut all_verified: Option<Vec<(Uuid, String)>> = None;
    for (award, how) in linkables {
        let owner = match &how {
            Linkable::Key(key) => owners.get(key).copied(),
            Linkable::Salted { hash, salt } => {
                if all_verified.is_none() {
                    all_verified = Some(
                        verified
                            .select((learner_emails::user_id, learner_emails::email))
                            .load(conn)?,
                    );
                }
                all_verified.iter().flatten().find_map(|(user, email)| {
                    Email::parse(email.clone())
                        .is_ok_and(|e| salted_match(&e, hash, salt))
                        .then_some(*user)
                })
            }
        };
        if let (Some(owner), Some(issued)) = (owner, award.issued_credential.as_ref()) {
            let held = held_award(owner.into(), award.id, issued, award.issued_on, now)?;
            hold_unless_held(conn, &held)?;
        }
    }
    Ok(())
}

/// Whether `award`, about to be stored, may have a learner to be linked
/// to: `false` only when it has nothing to hold, or is to an address (by
/// its plain lookup key) no learner has verified. Read before the award's
/// statement, so that the award alone can be one statement.
pub(crate) fn may_have_holder(conn: &mut PgConnection, award: &Assertion) -> Result<bool, Failure> {
    match linkable(award) {
        None => Ok(false),
        Some(Linkable::Salted { .. }) => Ok(true),
        Some(Linkable::Key(key)) => Ok(diesel::select(diesel::dsl::exists(
            learner_emails::table
                .filter(learner_emails::verified_at.is_not_null())
                .filter(learner_emails::lookup_key.eq(key)),
        ))
        .get_result(conn)?),
    }
}

/// Links every stored award to `email` into its learner's backpack;
/// answers how many were new there.
fn link_awards_to(
    conn: &mut PgConnection,
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
    let awards: Vec<(Uuid, Vec<u8>, Stamp)> = assertions::table
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
        let held = held_award(email.user_id, id.into(), &issued, restamp(issued_on), now)?;
        linked += u64::from(hold_unless_held(conn, &held)?);
    }
    Ok(linked)
}

/// [`LearnerEmailRepository`] on PostgreSQL.
pub(crate) struct PgLearnerEmails(pub(crate) PgPool);

#[async_trait]
impl LearnerEmailRepository for PgLearnerEmails {
    async fn claim(
        &self,
        email: &LearnerEmail,
        pending: &PendingVerification,
        mail: &VerificationMail,
    ) -> RepoResult<Claimed> {
        let email = email.clone();
        let pending = pending.clone();
        let mail = mail.clone();
        blocking(&self.0, move |conn| {
            in_transaction(conn, |conn| {
                let user: i64 = users::table
                    .find(email.user_id.as_uuid())
                    .count()
                    .get_result(conn)?;
                if user == 0 {
                    return Err(DomainError::MissingReference {
                        entity: "user",
                        id: email.user_id.to_string(),
                    }
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
                let token = (
                    learner_emails::token_hash.eq(&pending.token_hash),
                    learner_emails::token_nonce.eq(&pending.nonce),
                    learner_emails::token_expires_at.eq(stamp(pending.expires_at)),
                );
                let existing = learner_emails::table
                    .filter(learner_emails::user_id.eq(email.user_id.as_uuid()))
                    .filter(learner_emails::email.eq(email.email.as_str()))
                    .select(EMAIL_COLUMNS)
                    .for_update()
                    .first::<EmailColumns>(conn)
                    .optional()?;
                let claimed = match existing {
                    Some(row) => {
                        let stored = decode_email(row)?;
                        diesel::update(learner_emails::table.find(stored.id.as_uuid()))
                            .set(token)
                            .execute(conn)?;
                        Claimed::Renewed(stored)
                    }
                    None => {
                        diesel::insert_into(learner_emails::table)
                            .values((
                                learner_emails::id.eq(email.id.as_uuid()),
                                learner_emails::user_id.eq(email.user_id.as_uuid()),
                                learner_emails::email.eq(email.email.as_str()),
                                learner_emails::lookup_key.eq(email.lookup_key()),
                                learner_emails::created_at.eq(stamp(email.created_at)),
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
        })
        .await
    }

    async fn list(&self, user: UserId) -> RepoResult<Vec<LearnerEmail>> {
        blocking(&self.0, move |conn| {
            learner_emails::table
                .filter(learner_emails::user_id.eq(user.as_uuid()))
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
        blocking(&self.0, move |conn| {
            let row = learner_emails::table
                .find(id.as_uuid())
                .filter(learner_emails::user_id.eq(user.as_uuid()))
                .select(EMAIL_COLUMNS)
                .first::<EmailColumns>(conn)
                .optional()?
                .ok_or_else(|| not_found("e-mail address", id))?;
            Ok(decode_email(row)?)
        })
        .await
    }

    async fn remove(&self, user: UserId, id: LearnerEmailId) -> RepoResult<()> {
        blocking(&self.0, move |conn| {
            let removed = diesel::delete(
                learner_emails::table
                    .find(id.as_uuid())
                    .filter(learner_emails::user_id.eq(user.as_uuid())),
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
        blocking(&self.0, move |conn| {
            in_transaction(conn, |conn| {
                // Locked: a token used twice at once verifies once.
                let found = learner_emails::table
                    .filter(learner_emails::token_hash.eq(&token_hash))
                    .select((EMAIL_COLUMNS, learner_emails::token_expires_at))
                    .for_update()
                    .first::<(EmailColumns, Option<Stamp>)>(conn)
                    .optional()?;
                let Some((row, Some(expires_at))) = found else {
                    return Err(not_found("verification token", "given"));
                };
                let mut email = decode_email(row)?;
                if restamp(expires_at) <= now {
                    return Err(DomainError::invalid(
                        "token",
                        "has expired: add the address again for a new e-mail",
                    )
                    .into());
                }
                // Two learners verifying one address at once: the unique
                // index on verified addresses lets one through, the other
                // reads as `Duplicate`.
                diesel::update(learner_emails::table.find(email.id.as_uuid()))
                    .set((
                        learner_emails::verified_at.eq(Some(stamp(now))),
                        learner_emails::token_hash.eq(None::<String>),
                        learner_emails::token_nonce.eq(None::<String>),
                        learner_emails::token_expires_at.eq(None::<Stamp>),
                    ))
                    .execute(conn)?;
                email.verified_at = Some(now);
                let linked = link_awards_to(conn, &email, now)?;
                Ok((email, linked))
            })
        })
        .await
    }

    async fn pending_nonce(&self, id: LearnerEmailId) -> RepoResult<Option<String>> {
        blocking(&self.0, move |conn| {
            Ok(learner_emails::table
                .find(id.as_uuid())
                .select(learner_emails::token_nonce)
                .first::<Option<String>>(conn)
                .optional()?
                .flatten())
        })
        .await
    }
}
