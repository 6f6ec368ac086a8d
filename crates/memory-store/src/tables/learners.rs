//! Learners' e-mail addresses in memory, and linking awards to them.

use async_trait::async_trait;
use openbadges_domain::learners::{
    held_award, linkable, recipient_keys, salted_match, Claimed, LearnerEmail,
    LearnerEmailRepository, Linkable, PendingVerification, VerificationMail,
};
use openbadges_domain::mail::OutboxMessage;
use openbadges_domain::ports::RepoResult;
use openbadges_domain::{
    Assertion, DomainError, LearnerEmailId, RecipientIdentity, RecipientKind, Timestamp, UserId,
};

use super::{missing_reference, not_found, taken, Tables};
use crate::Db;

/// A claimed address and its pending verification, if any.
#[derive(Debug, Clone)]
pub(crate) struct StoredEmail {
    email: LearnerEmail,
    pending: Option<PendingVerification>,
}

impl Tables {
    /// Drops the addresses of deleted users: the schema's cascade.
    fn drop_orphan_emails(&mut self) {
        let users = &self.users;
        self.learner_emails
            .retain(|_, stored| users.contains_key(&stored.email.user_id));
    }

    /// Links `award` to the learner who verified its recipient's address,
    /// if any: what the SQL stores do in the award's transaction.
    pub(super) fn link_award(&mut self, award: &Assertion, now: Timestamp) -> RepoResult<()> {
        let Some(how) = linkable(award) else {
            return Ok(());
        };
        let owner = self
            .learner_emails
            .values()
            .filter(|stored| stored.email.verified_at.is_some())
            .find(|stored| match &how {
                Linkable::Key(key) => stored.email.lookup_key() == *key,
                Linkable::Salted { hash, salt } => salted_match(&stored.email.email, hash, salt),
            })
            .map(|stored| stored.email.user_id);
        match (owner, &award.issued_credential) {
            (Some(owner), Some(issued)) => {
                let held = held_award(owner, award.id, issued, award.issued_on, now)?;
                self.hold_unless_held(held);
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Links every stored award to `email` into its learner's backpack;
    /// answers how many were new there.
    fn link_awards_to(&mut self, email: &LearnerEmail, now: Timestamp) -> RepoResult<u64> {
        let salts: Vec<String> = self
            .assertions
            .values()
            .filter(|award| award.recipient.kind() == RecipientKind::Email)
            .filter_map(|award| match award.recipient.identity() {
                RecipientIdentity::Hashed {
                    hash,
                    salt: Some(salt),
                } if hash == award.recipient.lookup_key() => Some(salt.clone()),
                _ => None,
            })
            .collect();
        let keys = recipient_keys(&email.email, &salts);
        let matching: Vec<_> =
            self.assertions
                .values()
                .filter(|award| award.recipient.kind() == RecipientKind::Email)
                .filter(|award| keys.iter().any(|key| key == award.recipient.lookup_key()))
                .filter_map(|award| {
                    award.issued_credential.as_ref().map(|issued| {
                        held_award(email.user_id, award.id, issued, award.issued_on, now)
                    })
                })
                .collect::<Result<_, DomainError>>()?;
        let mut linked = 0;
        for held in matching {
            linked += u64::from(self.hold_unless_held(held));
        }
        Ok(linked)
    }
}

#[async_trait]
impl LearnerEmailRepository for Db {
    async fn claim(
        &self,
        email: &LearnerEmail,
        pending: &PendingVerification,
        mail: &VerificationMail,
    ) -> RepoResult<Claimed> {
        let mut tables = self.lock()?;
        tables.drop_orphan_emails();
        if !tables.users.contains_key(&email.user_id) {
            return Err(missing_reference("user", email.user_id));
        }
        if tables.outbox.contains_key(&mail.id) {
            return Err(taken("mail", "id"));
        }
        let verified = tables
            .learner_emails
            .values()
            .any(|stored| stored.email.email == email.email && stored.email.verified_at.is_some());
        if verified {
            return Err(taken("verified e-mail address", "email"));
        }
        let mine = tables.learner_emails.values_mut().find(|stored| {
            stored.email.user_id == email.user_id && stored.email.email == email.email
        });
        let claimed = match mine {
            Some(stored) => {
                stored.pending = Some(pending.clone());
                Claimed::Renewed(stored.email.clone())
            }
            None => {
                if tables.learner_emails.contains_key(&email.id) {
                    return Err(taken("e-mail address", "id"));
                }
                tables.learner_emails.insert(
                    email.id,
                    StoredEmail {
                        email: email.clone(),
                        pending: Some(pending.clone()),
                    },
                );
                Claimed::New(email.clone())
            }
        };
        let stored_id = match &claimed {
            Claimed::New(e) | Claimed::Renewed(e) => e.id,
        };
        let mail = VerificationMail {
            email: stored_id,
            ..mail.clone()
        };
        tables
            .outbox
            .insert(mail.id, OutboxMessage::queued_verification(&mail));
        Ok(claimed)
    }

    async fn list(&self, user: UserId) -> RepoResult<Vec<LearnerEmail>> {
        let mut tables = self.lock()?;
        tables.drop_orphan_emails();
        let mut mine: Vec<LearnerEmail> = tables
            .learner_emails
            .values()
            .filter(|stored| stored.email.user_id == user)
            .map(|stored| stored.email.clone())
            .collect();
        mine.sort_by_key(|email| (email.created_at, *email.id.as_uuid().as_bytes()));
        Ok(mine)
    }

    async fn get(&self, user: UserId, id: LearnerEmailId) -> RepoResult<LearnerEmail> {
        let mut tables = self.lock()?;
        tables.drop_orphan_emails();
        tables
            .learner_emails
            .get(&id)
            .filter(|stored| stored.email.user_id == user)
            .map(|stored| stored.email.clone())
            .ok_or_else(|| not_found("e-mail address", id))
    }

    async fn remove(&self, user: UserId, id: LearnerEmailId) -> RepoResult<()> {
        let mut tables = self.lock()?;
        tables.drop_orphan_emails();
        match tables.learner_emails.get(&id) {
            Some(stored) if stored.email.user_id == user => {
                tables.learner_emails.remove(&id);
                Ok(())
            }
            _ => Err(not_found("e-mail address", id)),
        }
    }

    async fn verify(&self, token_hash: &str, now: Timestamp) -> RepoResult<(LearnerEmail, u64)> {
        let mut tables = self.lock()?;
        tables.drop_orphan_emails();
        let (id, expires_at) = tables
            .learner_emails
            .iter()
            .find_map(|(id, stored)| {
                stored
                    .pending
                    .as_ref()
                    .filter(|pending| pending.token_hash == token_hash)
                    .map(|pending| (*id, pending.expires_at))
            })
            .ok_or_else(|| not_found("verification token", "given"))?;
        if expires_at <= now {
            return Err(DomainError::invalid(
                "token",
                "has expired: add the address again for a new e-mail",
            ));
        }
        let address = tables.learner_emails[&id].email.email.clone();
        let taken_by_another = tables
            .learner_emails
            .values()
            .any(|stored| stored.email.email == address && stored.email.verified_at.is_some());
        if taken_by_another {
            return Err(taken("verified e-mail address", "email"));
        }
        let stored = tables
            .learner_emails
            .get_mut(&id)
            .ok_or_else(|| not_found("e-mail address", id))?;
        stored.pending = None;
        stored.email.verified_at = Some(now);
        let email = stored.email.clone();
        let linked = tables.link_awards_to(&email, now)?;
        Ok((email, linked))
    }

    async fn pending_nonce(&self, id: LearnerEmailId) -> RepoResult<Option<String>> {
        let mut tables = self.lock()?;
        tables.drop_orphan_emails();
        Ok(tables
            .learner_emails
            .get(&id)
            .and_then(|stored| stored.pending.as_ref())
            .map(|pending| pending.nonce.clone()))
    }
}
