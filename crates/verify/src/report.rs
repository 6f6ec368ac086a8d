//! What a verification found: the individual checks and the summary fields
//! the previous server's clients read.

use openbadges_domain::Timestamp;
use serde_json::{json, Value};

/// One check of a report: its name (`schema`, `keyStatus`, `issuerMatch`,
/// `proof`, `jwtClaims`, `validityWindow`, `status`), whether it passed and
/// why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// The check's name.
    pub name: &'static str,
    /// Whether it passed.
    pub passed: bool,
    /// What was found, in words.
    pub message: String,
}

/// The outcome of one verification. The first failure sets the
/// [`error_code`](Report::error_code); later checks still run, so the
/// report lists everything that is wrong.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// The credential's `id`, when it has one.
    pub id: Option<String>,
    /// The checks, in the order they ran.
    pub checks: Vec<Check>,
    /// Whether a signature verified.
    pub has_valid_signature: bool,
    /// Whether the credential (or its JWT) has expired.
    pub is_expired: bool,
    /// Whether it was revoked.
    pub is_revoked: bool,
    /// The first failure, e.g. `INVALID_SIGNATURE`, `ISSUER_MISMATCH`,
    /// `KEY_REVOKED`, `EXPIRED`, `REVOKED`.
    pub error_code: Option<&'static str>,
}

impl Report {
    /// Whether nothing failed.
    pub fn is_valid(&self) -> bool {
        self.error_code.is_none()
    }

    /// Adds a check.
    pub(crate) fn check(&mut self, name: &'static str, passed: bool, message: impl Into<String>) {
        self.checks.push(Check {
            name,
            passed,
            message: message.into(),
        });
    }

    /// Records `code` unless an earlier failure did.
    pub(crate) fn fail(&mut self, code: &'static str) {
        self.error_code.get_or_insert(code);
    }

    /// The report as `POST /verify` answers it, made now.
    pub fn to_json(&self) -> Value {
        let checks: Vec<Value> = self
            .checks
            .iter()
            .map(|c| json!({ "check": c.name, "passed": c.passed, "message": c.message }))
            .collect();
        json!({
            "id": self.id,
            "isValid": self.is_valid(),
            "hasValidSignature": self.has_valid_signature,
            "isExpired": self.is_expired,
            "isRevoked": self.is_revoked,
            "errorCode": self.error_code,
            "checks": checks,
            "verifiedAt": Timestamp::now().to_rfc3339(),
        })
    }
}
