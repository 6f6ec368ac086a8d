//! Refusals both stores decide the same way, built once.

use std::fmt::Display;

use openbadges_domain::DomainError;

/// What a restricted delete of an issuer or badge class reports while it
/// has `count` awards (a `COUNT(*)`, never negative).
pub fn has_awards(entity: &'static str, id: impl Display, count: i64) -> DomainError {
    DomainError::HasDependants {
        entity,
        id: id.to_string(),
        dependants: "awarded credentials",
        count: count.unsigned_abs(),
    }
}
