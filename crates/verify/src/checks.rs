//! The checks that need no store: shape, validity window, issuer binding,
//! and the stored status of an award already read. Each is written once,
//! for OB 3.0 credentials and OB 2.0 signed assertions alike.

use openbadges_domain::documents::{self, Urls};
use openbadges_domain::{Assertion, CredentialStatus, StatusPurpose, Timestamp};
use serde_json::Value;

use crate::keys::{controller_matches, Party};
use crate::report::Report;

/// What a document must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// An OB 3.0 credential (JSON, or the payload of a VC-JWT).
    Ob3,
    /// An OB 2.0 signed assertion (the payload of a JWS).
    Ob2Signed,
}

impl Kind {
    fn fits(self, document: &Value) -> bool {
        match self {
            Self::Ob3 => {
                let types: Vec<&str> = document
                    .get("type")
                    .and_then(Value::as_array)
                    .map(|t| t.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                let context_ok = document
                    .get("@context")
                    .and_then(Value::as_array)
                    .and_then(|c| c.first())
                    .and_then(Value::as_str)
                    == Some(documents::VC2_CONTEXT);
                context_ok
                    && types.contains(&"VerifiableCredential")
                    && (types.contains(&"OpenBadgeCredential")
                        || types.contains(&"AchievementCredential")
                        || types.contains(&"EndorsementCredential"))
                    && document.get("credentialSubject").is_some()
                    && document.get("issuer").is_some()
            }
            Self::Ob2Signed => {
                let verification_type = document
                    .get("verification")
                    .and_then(|v| v.get("type"))
                    .and_then(Value::as_str);
                document.get("type").and_then(Value::as_str) == Some("Assertion")
                    && document.get("id").is_some_and(Value::is_string)
                    && document.get("recipient").is_some_and(Value::is_object)
                    && document.get("badge").is_some()
                    && document.get("issuedOn").is_some_and(Value::is_string)
                    && matches!(verification_type, Some("SignedBadge" | "signed"))
            }
        }
    }

    /// What a report says when the document fits, and when it does not.
    fn messages(self) -> (&'static str, &'static str) {
        match self {
            Self::Ob3 => (
                "an OB 3.0 credential (VC 2.0 context, types, issuer, subject)",
                "not an OB 3.0 credential: needs the VC 2.0 context first, the types \
                 VerifiableCredential and OpenBadgeCredential (or EndorsementCredential), an issuer \
                 and a credentialSubject",
            ),
            Self::Ob2Signed => (
                "an OB 2.0 signed assertion (type, id, recipient, badge, issuedOn, SignedBadge verification)",
                "not an OB 2.0 signed assertion: needs type Assertion, an id, a recipient, a badge, issuedOn \
                 and verification of type SignedBadge",
            ),
        }
    }

    /// The fields bounding its validity, and what a report says when it is
    /// within them.
    fn window(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Self::Ob3 => ("validFrom", "validUntil", "within validFrom and validUntil"),
            Self::Ob2Signed => ("issuedOn", "expires", "issued, and not expired"),
        }
    }
}

/// Checks the shape a document of `kind` must have (`schema`).
pub(crate) fn check_shape(kind: Kind, document: &Value, report: &mut Report) {
    let passed = kind.fits(document);
    let (fits, does_not) = kind.messages();
    report.check("schema", passed, if passed { fits } else { does_not });
    if !passed {
        report.fail("INVALID_CREDENTIAL");
    }
}

/// A JWT's `nbf` or `exp` (RFC 7519 NumericDate, seconds since the epoch):
/// `None` when absent, `Some(None)` when not a date.
fn numeric_date(claims: &Value, name: &str) -> Option<Option<i64>> {
    claims.get(name).map(|value| {
        value
            .as_i64()
            .or_else(|| value.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
    })
}

/// Checks the validity window of a document of `kind` against now
/// (`validFrom` / `validUntil`, or `issuedOn` / `expires`), and for a
/// VC-JWT its `nbf` / `exp` as well (`jwt`, the claims): a JWT is not
/// accepted before its `nbf` nor from its `exp` on, whatever the
/// credential inside says.
pub(crate) fn check_window(kind: Kind, document: &Value, jwt: Option<&Value>, report: &mut Report) {
    let (from_name, until_name, within) = kind.window();
    let now = Timestamp::now();
    let from = document
        .get(from_name)
        .and_then(Value::as_str)
        .map(Timestamp::parse);
    let until = document
        .get(until_name)
        .and_then(Value::as_str)
        .map(Timestamp::parse);
    let seconds = now.as_datetime().timestamp();
    let (nbf, exp) = jwt.map_or((None, None), |claims| {
        (numeric_date(claims, "nbf"), numeric_date(claims, "exp"))
    });
    let (passed, message) = match (from, until) {
        (Some(Err(_)), _) | (_, Some(Err(_))) => (
            false,
            format!("{from_name} or {until_name} is not a date-time"),
        ),
        _ if matches!(nbf, Some(None)) || matches!(exp, Some(None)) => (
            false,
            "the JWT's nbf or exp is not a NumericDate".to_owned(),
        ),
        (Some(Ok(from)), _) if from > now => (
            false,
            format!("not valid yet ({from_name} is in the future)"),
        ),
        _ if nbf.flatten().is_some_and(|nbf| nbf > seconds) => (
            false,
            "not valid yet (the JWT's nbf is in the future)".to_owned(),
        ),
        (_, Some(Ok(until))) if until <= now => {
            report.is_expired = true;
            (false, format!("expired ({until_name} has passed)"))
        }
        _ if exp.flatten().is_some_and(|exp| exp <= seconds) => {
            report.is_expired = true;
            (false, "expired (the JWT's exp has passed)".to_owned())
        }
        (None, _) => (false, format!("{from_name} is missing")),
        _ if jwt.is_some() => (true, format!("{within}, and the JWT's nbf and exp")),
        _ => (true, within.to_owned()),
    };
    report.check("validityWindow", passed, message);
    if !passed {
        report.fail(if report.is_expired {
            "EXPIRED"
        } else {
            "NOT_VALID_NOW"
        });
    }
}

/// Checks the issuer binding (`issuerMatch`), naming both parties when it
/// fails, in the words of the Digital Bazaar verifier.
pub(crate) fn check_issuer_match(
    urls: &Urls,
    issuer: Option<&Party>,
    controller: &Party,
    report: &mut Report,
) {
    let matches = controller_matches(issuer, controller);
    let message = if matches {
        format!(
            "the key is controlled by the credential's issuer, {}",
            controller.name(urls)
        )
    } else {
        format!(
            "Credential issuer must match the verification method controller: the key's \
             controller is {}, the credential's issuer is {}",
            controller.name(urls),
            issuer.map_or_else(|| "missing".to_owned(), |i| i.name(urls))
        )
    };
    report.check("issuerMatch", matches, message);
    if !matches {
        report.fail("ISSUER_MISMATCH");
    }
}

/// Checks the stored status of one of our awards.
pub(crate) fn check_status(award: &Assertion, urls: &Urls, report: &mut Report) {
    // The status lists publish exactly this state (their bits are read from
    // it), so the report names the bit a verifier would find.
    let bit = |purpose: StatusPurpose| {
        award.status_slot.map_or_else(String::new, |slot| {
            let set = u8::from(purpose.flags(&award.status));
            format!(
                " (bit {} of {} is {set})",
                slot.index,
                urls.status_list(slot.list_id, purpose)
            )
        })
    };
    let (passed, message) = match &award.status {
        CredentialStatus::Active => (
            true,
            format!("not revoked or suspended{}", bit(StatusPurpose::Revocation)),
        ),
        CredentialStatus::Revoked { reason, .. } => {
            report.is_revoked = true;
            (
                false,
                format!(
                    "revoked: {}{}",
                    reason.as_ref().map_or("no reason given", |r| r.as_str()),
                    bit(StatusPurpose::Revocation)
                ),
            )
        }
        CredentialStatus::Suspended { reason, .. } => (
            false,
            format!(
                "suspended: {}{}",
                reason.as_ref().map_or("no reason given", |r| r.as_str()),
                bit(StatusPurpose::Suspension)
            ),
        ),
    };
    report.check("status", passed, message);
    if !passed {
        report.fail(if report.is_revoked {
            "REVOKED"
        } else {
            "SUSPENDED"
        });
    }
}

/// Checks the stored status of one of our endorsements: only ever active
/// or revoked, its bit in the endorser's revocation list.
pub(crate) fn check_endorsement_status(
    endorsement: &openbadges_domain::Endorsement,
    urls: &Urls,
    report: &mut Report,
) {
    use openbadges_domain::EndorsementStatus;
    let bit = endorsement.status_slot.map_or_else(String::new, |slot| {
        let set = u8::from(endorsement.status.is_revoked());
        format!(
            " (bit {} of {} is {set})",
            slot.index,
            urls.status_list(slot.list_id, StatusPurpose::Revocation)
        )
    });
    let (passed, message) = match &endorsement.status {
        EndorsementStatus::Active => (true, format!("not revoked{bit}")),
        EndorsementStatus::Revoked { reason, .. } => {
            report.is_revoked = true;
            (
                false,
                format!(
                    "revoked: {}{bit}",
                    reason.as_ref().map_or("no reason given", |r| r.as_str())
                ),
            )
        }
    };
    report.check("status", passed, message);
    if !passed {
        report.fail("REVOKED");
    }
}
