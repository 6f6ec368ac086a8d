//! `GET /credentials/{id}/delivery`: where the award's e-mail is.

use actix_web::{web, HttpResponse};
use openbadges_domain::mail::{DeliveryState, OutboxMessage};
use openbadges_domain::{service, AssertionId, DomainError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Auth;
use crate::error::ApiError;
use crate::state::AppState;

/// The delivery of a credential's e-mail.
#[derive(Debug, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"state": "sent", "attempts": 1, "lastAttemptAt": "2026-12-07T08:00:01Z",
    "sentAt": "2026-12-07T08:00:02Z", "to": "a***@example.org"}))]
pub struct Delivery {
    /// `none` (no e-mail was asked for, or SMTP is not configured),
    /// `pending` (queued, or waiting to be retried), `sending` (a sender
    /// holds it now), `sent` (the SMTP server accepted it) or `failed`
    /// (given up).
    #[schema(example = "sent")]
    pub state: &'static str,
    /// How many times sending was tried.
    pub attempts: u32,
    /// When it was last tried.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_attempt_at: Option<String>,
    /// When it is tried again (`pending` after a failure).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<String>,
    /// When the SMTP server accepted it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<String>,
    /// Why the last attempt failed (the SMTP server's answer).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// The address, masked: its first character and domain.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
}

impl Delivery {
    /// The answer for a credential's outbox row, or `none`.
    pub fn of(message: Option<&OutboxMessage>) -> Self {
        let Some(message) = message else {
            return Self {
                state: "none",
                attempts: 0,
                last_attempt_at: None,
                next_attempt_at: None,
                sent_at: None,
                last_error: None,
                to: None,
            };
        };
        Self {
            state: message.state.as_str(),
            attempts: message.attempts,
            last_attempt_at: message.last_attempt_at.map(|t| t.to_rfc3339()),
            next_attempt_at: (message.state == DeliveryState::Pending && message.attempts > 0)
                .then(|| message.next_attempt_at.to_rfc3339()),
            sent_at: message.sent_at.map(|t| t.to_rfc3339()),
            last_error: message.last_error.clone(),
            to: Some(mask(message.to.as_str())),
        }
    }
}

/// `ada@example.org` → `a***@example.org`: enough to tell which address
/// was used, not enough to harvest it.
pub fn mask(address: &str) -> String {
    match address.rsplit_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".to_owned(),
    }
}

/// The delivery of a credential's e-mail.
#[utoipa::path(
    get,
    path = "/credentials/{id}/delivery",
    tag = "credentials",
    operation_id = "getCredentialDelivery",
    summary = "Where the credential's e-mail to its recipient is",
    description = "An award issued with `notify: true` (or by its achievement's `notifyRecipients`) on a server \
        with SMTP configured queues an e-mail to the recipient, sent in the background and retried with backoff \
        (docs/email.md). This answers its state; `none` when no e-mail was queued. The address is masked.",
    params(("id" = String, Path, format = "uuid", description = "The credential's UUID.")),
    responses(
        (status = 200, description = "The delivery state.", body = Delivery),
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 403, description = "The caller may not read credentials.",
            body = crate::api::schema::Forbidden),
        (status = 404, description = "No such credential, or not one of the caller's issuers.",
            body = crate::api::schema::ErrorMessage),
        (status = 503, response = crate::api::responses::Unavailable),
    )
)]
pub async fn delivery(
    state: web::Data<AppState>,
    Auth(actor): Auth,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: AssertionId = id.parse().map_err(|_| {
        ApiError(DomainError::NotFound {
            entity: "credential",
            id: id.to_string(),
        })
    })?;
    let message = service::delivery_of(state.store.as_ref(), &actor, id).await?;
    Ok(HttpResponse::Ok().json(Delivery::of(message.as_ref())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_masked() {
        assert_eq!(mask("ada@example.org"), "a***@example.org");
        assert_eq!(mask("é@example.org"), "é***@example.org");
        assert_eq!(mask("nobody"), "***");
    }

    #[test]
    fn no_row_is_none() {
        let none = serde_json::to_value(Delivery::of(None)).expect("json");
        assert_eq!(none, serde_json::json!({"state": "none", "attempts": 0}));
    }
}
