//! The SMTP settings (`SMTP_*`, `MAIL_*`), read and checked by
//! `crate::config`. `Debug` never shows the password.

use std::time::Duration;

use lettre::message::Mailbox;

/// How the SMTP connection is secured (`SMTP_TLS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain text: only for a relay on the same host or network.
    None,
    /// Plain connection upgraded with STARTTLS, which the server must offer
    /// (the message is never sent in the clear).
    StartTls,
    /// TLS from the first byte (SMTPS).
    Tls,
}

impl SmtpTls {
    /// Parses `none`, `starttls` or `tls`, in any case.
    pub fn parse(value: &str) -> Option<Self> {
        match value.trim().to_ascii_lowercase().as_str() {
            "none" => Some(Self::None),
            "starttls" => Some(Self::StartTls),
            "tls" => Some(Self::Tls),
            _ => None,
        }
    }

    /// The usual port of the mode: 25, 587 (submission) or 465 (submissions).
    pub fn default_port(self) -> u16 {
        match self {
            Self::None => 25,
            Self::StartTls => 587,
            Self::Tls => 465,
        }
    }
}

/// The SMTP login.
#[derive(Clone)]
pub struct SmtpLogin {
    /// `SMTP_USER`.
    pub user: String,
    /// `SMTP_PASSWORD`: handed to the SMTP client only.
    pub password: String,
}

impl std::fmt::Debug for SmtpLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpLogin")
            .field("user", &self.user)
            .field("password", &"***")
            .finish()
    }
}

/// Where and how award e-mails are sent.
#[derive(Debug, Clone)]
pub struct MailSettings {
    /// `SMTP_HOST`.
    pub host: String,
    /// `SMTP_PORT`, or the mode's usual port.
    pub port: u16,
    /// `SMTP_TLS`.
    pub tls: SmtpTls,
    /// `SMTP_USER` and `SMTP_PASSWORD`, when set.
    pub credentials: Option<SmtpLogin>,
    /// `SMTP_FROM`.
    pub from: Mailbox,
    /// `MAIL_RETRY_BASE_SECONDS`: the first retry's delay.
    pub retry_base: Duration,
    /// `MAIL_MAX_ATTEMPTS`.
    pub max_attempts: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_modes_and_their_ports() {
        assert_eq!(SmtpTls::parse("STARTTLS"), Some(SmtpTls::StartTls));
        assert_eq!(SmtpTls::parse("none").map(SmtpTls::default_port), Some(25));
        assert_eq!(SmtpTls::parse("tls").map(SmtpTls::default_port), Some(465));
        assert_eq!(SmtpTls::StartTls.default_port(), 587);
        assert_eq!(SmtpTls::parse("ssl"), None);
    }

    #[test]
    fn the_password_is_never_debugged() {
        let login = SmtpLogin {
            user: "mailer".to_owned(),
            password: "hunter2-secret".to_owned(),
        };
        let shown = format!("{login:?}");
        assert!(
            shown.contains("mailer") && !shown.contains("hunter2"),
            "{shown}"
        );
    }
}
