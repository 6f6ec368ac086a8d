//! What an outbox e-mail is about, as columns and back, for both stores.

use openbadges_domain::mail::MailSubject;
use uuid::Uuid;

/// The `kind`, `assertion_id` and `learner_email_id` columns of `subject`.
pub fn subject_columns(subject: &MailSubject) -> (&'static str, Option<Uuid>, Option<Uuid>) {
    match subject {
        MailSubject::Award(id) => (subject.kind(), Some(id.as_uuid()), None),
        MailSubject::Verification(id) => (subject.kind(), None, Some(id.as_uuid())),
    }
}

/// The subject those columns store; `Err` says what does not fit.
pub fn subject_of(
    kind: &str,
    assertion_id: Option<Uuid>,
    learner_email_id: Option<Uuid>,
) -> Result<MailSubject, String> {
    match (kind, assertion_id, learner_email_id) {
        ("award", Some(id), None) => Ok(MailSubject::Award(id.into())),
        ("verification", None, Some(id)) => Ok(MailSubject::Verification(id.into())),
        (kind, ..) => Err(format!("kind {kind:?} does not match its references")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_round_trip() {
        for subject in [
            MailSubject::Award(openbadges_domain::AssertionId::generate()),
            MailSubject::Verification(openbadges_domain::LearnerEmailId::generate()),
        ] {
            let (kind, award, email) = subject_columns(&subject);
            assert_eq!(subject_of(kind, award, email), Ok(subject));
        }
        assert!(subject_of("award", None, None).is_err());
    }
}
