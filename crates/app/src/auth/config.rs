//! What authentication runs with, built once at start and shared by every
//! request through the application state.

use super::keys::ConfiguredKey;
use super::throttle::LoginThrottle;
use super::tokens::TokenKeys;

/// Authentication settings shared by every request.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// `AUTH_ENABLED`: when false, every caller acts as an administrator
    /// (refused in production).
    pub enabled: bool,
    /// Login token keys (`JWT_SECRET`).
    pub tokens: TokenKeys,
    /// Keys from `AUTH_API_KEY_<NAME>`.
    pub configured: Vec<ConfiguredKey>,
    /// Failed logins per account and device (`LOGIN_THROTTLE_*`).
    pub logins: LoginThrottle,
    /// Seals the authorization requests the OAuth consent form carries.
    pub pending: crate::oauth::pending::PendingKeys,
}
