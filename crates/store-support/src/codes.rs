//! How the domain's states are stored: one text code per state, the same in
//! both schemas. Encoding is the domain's `as_str` (`CredentialStatus`,
//! `KeyStatus`, `KeyAlgorithm`); decoding a state that carries a time
//! needs the time columns too, and lives here so both stores accept and
//! refuse the same rows.

use openbadges_domain::{CredentialStatus, KeyStatus, StatusPurpose, Text, Timestamp};

/// The stored status of the awards a status list of `purpose` flags.
pub fn flagged_status(purpose: StatusPurpose) -> &'static str {
    match purpose {
        StatusPurpose::Revocation => "revoked",
        StatusPurpose::Suspension => "suspended",
    }
}

/// An award's status from its stored code, reason and time of change;
/// `None` if the code is unknown or a revoked or suspended award has no
/// time of change (a row written around the server).
pub fn credential_status(
    code: &str,
    reason: Option<Text>,
    changed_at: Option<Timestamp>,
) -> Option<CredentialStatus> {
    match (code, changed_at) {
        ("active", _) => Some(CredentialStatus::Active),
        ("revoked", Some(at)) => Some(CredentialStatus::Revoked { reason, at }),
        ("suspended", Some(at)) => Some(CredentialStatus::Suspended { reason, at }),
        _ => None,
    }
}

/// A signing key's status from its stored code and times; `None` if the
/// code is unknown or its time is missing.
pub fn key_status(
    code: &str,
    retired_at: Option<Timestamp>,
    revoked_at: Option<Timestamp>,
) -> Option<KeyStatus> {
    match (code, retired_at, revoked_at) {
        ("active", _, _) => Some(KeyStatus::Active),
        ("retired", Some(at), _) => Some(KeyStatus::Retired { at }),
        ("revoked", _, Some(at)) => Some(KeyStatus::Revoked { at }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_reads_back_from_its_code() {
        let at = Timestamp::now();
        for status in [
            CredentialStatus::Active,
            CredentialStatus::Revoked { reason: None, at },
            CredentialStatus::Suspended { reason: None, at },
        ] {
            assert_eq!(
                credential_status(status.as_str(), None, Some(at)),
                Some(status)
            );
        }
        for status in [
            KeyStatus::Active,
            KeyStatus::Retired { at },
            KeyStatus::Revoked { at },
        ] {
            assert_eq!(
                key_status(status.as_str(), Some(at), Some(at)),
                Some(status)
            );
        }
        for purpose in [StatusPurpose::Revocation, StatusPurpose::Suspension] {
            let flagged = credential_status(flagged_status(purpose), None, Some(at));
            assert!(flagged.is_some_and(|s| s != CredentialStatus::Active));
        }
    }

    #[test]
    fn a_flagged_state_without_its_time_is_refused() {
        assert_eq!(credential_status("revoked", None, None), None);
        assert_eq!(key_status("retired", None, Some(Timestamp::now())), None);
        assert_eq!(
            credential_status("lost", None, Some(Timestamp::now())),
            None
        );
    }
}
